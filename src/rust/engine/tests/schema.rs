//! The JSON Schema in `inst/schema/fastpredict-model.schema.json` against
//! real documents: it must be a valid draft 2020-12 schema, accept the
//! format fixtures of every version, the models the R tests saved (when
//! `FASTPREDICT_SCHEMA_OUT` names their directory) and documents the engine
//! serializes from its own structs, and refuse a few broken documents.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use serde_json::{json, Value};

use fastpredict_engine::expr::{Expr, Op};
use fastpredict_engine::format::{
    format_version, Coding, Extrapolation, InputSpec, InputType, LinearSpec, ModelDoc, ModelKind, Producer, SplineSpec,
    TermFactor, TermSpec, VariableSpec, FORMAT_NAME,
};
use fastpredict_engine::{io, Model};

const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

fn repo_root() -> PathBuf {
    // The engine crate lives at src/rust/engine.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..").join("..");
    root.canonicalize().unwrap_or(root)
}

fn schema_path() -> PathBuf {
    repo_root().join("inst").join("schema").join("fastpredict-model.schema.json")
}

fn schema() -> Value {
    let path = schema_path();
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn validator() -> Validator {
    jsonschema::draft202012::new(&schema()).unwrap_or_else(|e| {
        panic!("the schema does not compile: {e} (at {}, schema path {})", e.instance_path(), e.schema_path())
    })
}

/// One line per error, with its instance and schema paths; the branches of
/// a failed `oneOf` / `anyOf` follow, indented, so that the reason a
/// variable or an expression did not match is visible.
fn describe(err: &ValidationError, depth: usize, out: &mut Vec<String>) {
    let pad = "  ".repeat(depth);
    let at = err.instance_path().to_string();
    out.push(format!(
        "{pad}at '{}': {err} (schema path {})",
        if at.is_empty() { "/" } else { at.as_str() },
        err.schema_path()
    ));
    if depth > 4 {
        return;
    }
    if let ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } = err.kind() {
        // Branches for another "kind" (a variable of kind "poly" tried
        // against the "spline" branch) say nothing useful: leave them out.
        let mut skipped = 0;
        for (i, branch) in context.iter().enumerate() {
            let other_kind = branch.iter().any(|e| {
                matches!(e.kind(), ValidationErrorKind::Constant { .. })
                    && e.instance_path().to_string().ends_with("/kind")
            });
            if other_kind {
                skipped += 1;
                continue;
            }
            out.push(format!("{pad}  branch {i}:"));
            for e in branch {
                describe(e, depth + 2, out);
            }
        }
        if skipped > 0 {
            out.push(format!("{pad}  ({skipped} branch(es) for another 'kind' not shown)"));
        }
    }
}

/// All validation errors of `doc`, described.
fn errors(v: &Validator, doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for e in v.iter_errors(doc) {
        describe(&e, 0, &mut out);
    }
    out
}

fn assert_valid(v: &Validator, doc: &Value, what: &str) {
    let errs = errors(v, doc);
    assert!(errs.is_empty(), "{what} does not follow the schema:\n{}", errs.join("\n"));
}

fn assert_invalid(v: &Validator, doc: &Value, what: &str) -> Vec<String> {
    let errs = errors(v, doc);
    assert!(
        !errs.is_empty(),
        "{what} should fail validation but passes:\n{}",
        serde_json::to_string_pretty(doc).unwrap()
    );
    errs
}

/// A document's bytes, decompressed when they are gzip (recognised by the
/// magic number, as the engine does).
fn read_bytes(path: &Path) -> Vec<u8> {
    let raw = fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .unwrap_or_else(|e| panic!("cannot decompress {}: {e}", path.display()));
        out
    } else {
        raw
    }
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&read_bytes(path)).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn is_document(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    path.is_file() && (name.ends_with(".json") || name.ends_with(".json.gz"))
}

/// The `.json` / `.json.gz` files directly in `dir`, sorted.
fn documents_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| is_document(p))
        .collect();
    files.sort();
    files
}

/// Validate every document of `files`, then check each also loads in the
/// engine; report every failure at once.
fn validate_files(v: &Validator, files: &[PathBuf]) {
    let mut failures = Vec::new();
    for f in files {
        let doc = read_json(f);
        let errs = errors(v, &doc);
        if errs.is_empty() {
            println!("valid: {}", f.display());
        } else {
            failures.push(format!("{}:\n{}", f.display(), errs.join("\n")));
        }
        if let Err(e) = Model::load(f) {
            failures.push(format!("{}: the engine does not load it: {e}", f.display()));
        }
    }
    assert!(failures.is_empty(), "{} problem(s):\n{}", failures.len(), failures.join("\n\n"));
}

// ---------------------------------------------------------------------------
// (a) the schema itself

#[test]
fn schema_is_a_valid_draft_2020_12_schema() {
    let s = schema();
    assert_eq!(s["$schema"], DRAFT_2020_12, "the schema must declare draft 2020-12");
    let meta = jsonschema::draft202012::meta::validator();
    let errs: Vec<String> = meta
        .iter_errors(&s)
        .map(|e| format!("at '{}': {e} (meta-schema path {})", e.instance_path(), e.schema_path()))
        .collect();
    assert!(errs.is_empty(), "the schema breaks the draft 2020-12 meta-schema:\n{}", errs.join("\n"));
    // It compiles, with every $ref resolved.
    let _ = validator();
    for key in ["$id", "title", "description"] {
        assert!(s[key].is_string(), "the schema has no '{key}'");
    }
    assert!(s["$defs"].is_object(), "the schema has no '$defs'");
    // The top level must stay open to fields added by newer minor versions.
    assert_ne!(s.get("additionalProperties"), Some(&json!(false)), "the top level must allow unknown properties");
}

// (b) the format fixtures of every version

#[test]
fn format_fixtures_of_every_version_are_valid() {
    let v = validator();
    let dir = repo_root().join("tests").join("testthat").join("fixtures");
    let mut versions: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("format-")))
        .collect();
    versions.sort();
    assert!(!versions.is_empty(), "no format-* fixture directory in {}", dir.display());
    for version in &versions {
        let files = documents_in(version);
        assert!(!files.is_empty(), "{} holds no .json or .json.gz fixture", version.display());
        // Nothing else belongs there.
        for entry in fs::read_dir(version).unwrap() {
            let p = entry.unwrap().path();
            assert!(is_document(&p), "{} is not a .json or .json.gz document", p.display());
        }
        validate_files(&v, &files);
    }
}

/// Every field of a fixture is one the structs know: reading it and writing
/// it back gives the same JSON (up to number formatting, which the round
/// trip keeps).
#[test]
fn format_fixtures_have_no_field_the_structs_drop() {
    let dir = repo_root().join("tests").join("testthat").join("fixtures");
    for version in fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()) {
        if !(version.is_dir() && version.file_name().unwrap().to_string_lossy().starts_with("format-")) {
            continue;
        }
        for f in documents_in(&version) {
            let bytes = read_bytes(&f);
            let original: Value = serde_json::from_slice(&bytes).unwrap();
            let doc = io::from_json_bytes(&bytes).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            let again: Value = serde_json::from_str(&io::to_json(&doc, false).unwrap()).unwrap();
            if original != again {
                let mut diffs = Vec::new();
                json_diff(&original, &again, String::new(), &mut diffs);
                panic!("{} changes in a read/write round trip:\n{}", f.display(), diffs.join("\n"));
            }
        }
    }
}

fn json_diff(a: &Value, b: &Value, path: String, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                match y.get(k) {
                    Some(vb) => json_diff(va, vb, format!("{path}/{k}"), out),
                    None => out.push(format!("{path}/{k}: dropped")),
                }
            }
            for k in y.keys().filter(|k| !x.contains_key(*k)) {
                out.push(format!("{path}/{k}: added"));
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                json_diff(va, vb, format!("{path}/{i}"), out);
            }
        }
        _ if a != b => out.push(format!("{path}: {a} became {b}")),
        _ => {}
    }
}

// (c) models saved by the R tests

#[test]
fn saved_models_in_fastpredict_schema_out_are_valid() {
    let dir = match std::env::var_os("FASTPREDICT_SCHEMA_OUT") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => {
            println!("FASTPREDICT_SCHEMA_OUT is not set: no saved models to validate");
            return;
        }
    };
    assert!(
        dir.is_dir(),
        "FASTPREDICT_SCHEMA_OUT is '{}', which is not a directory: the R tests did not save their models there",
        dir.display()
    );
    let files = documents_in(&dir);
    assert!(!files.is_empty(), "FASTPREDICT_SCHEMA_OUT ('{}') holds no .json or .json.gz file", dir.display());
    validate_files(&validator(), &files);
    println!("validated {} saved model(s) in {}", files.len(), dir.display());
}

// (d) documents the engine writes from its own structs

fn producer() -> Producer {
    Producer {
        name: "fastpredict".into(),
        version: "0.1.0".into(),
        r_version: None,
        source_class: vec!["glm".into(), "lm".into()],
        source_package: Some("stats".into()),
        source_package_version: None,
    }
}

fn input(name: &str, kind: InputType, levels: Option<&[&str]>) -> InputSpec {
    InputSpec { name: name.into(), kind, levels: levels.map(|l| l.iter().map(|s| s.to_string()).collect()) }
}

fn doc(inputs: Vec<InputSpec>, linear: LinearSpec) -> ModelDoc {
    ModelDoc {
        format: FORMAT_NAME.into(),
        format_version: format_version(),
        producer: producer(),
        kind: ModelKind::Linear,
        inputs,
        linear: Some(linear),
        trees: None,
        extensions: serde_json::Map::new(),
    }
}

fn linear(
    family: &str,
    link: &str,
    intercept: bool,
    coefficients: Vec<Option<f64>>,
    variables: Vec<VariableSpec>,
    terms: Vec<TermSpec>,
    offsets: Vec<Expr>,
) -> LinearSpec {
    let names = (0..coefficients.len())
        .map(|i| if intercept && i == 0 { "(Intercept)".into() } else { format!("b{i}") })
        .collect();
    LinearSpec {
        family: family.into(),
        link: link.into(),
        types: vec!["link".into(), "response".into()],
        default_type: "link".into(),
        intercept,
        coefficients,
        coefficient_names: names,
        variables,
        terms,
        offsets,
    }
}

fn term(label: &str, factors: &[(usize, Option<Coding>)], columns: std::ops::Range<usize>) -> TermSpec {
    TermSpec {
        label: label.into(),
        factors: factors.iter().map(|&(variable, coding)| TermFactor { variable, coding }).collect(),
        columns: columns.collect(),
    }
}

fn call(op: Op, args: Vec<Expr>) -> Expr {
    Expr::call(op, args)
}

fn x(name: &str) -> Expr {
    Expr::input(name)
}

/// `glm(y ~ log(x, 10) + scale(z) + I(x^2) + I(2 * x) + as.numeric(a) + exp(-z),
/// binomial, offset = log1p(w))` with `I(2 * x)` aliased, plus an
/// `offset(sqrt(abs(z)) / 10)` term and an extension.
fn doc_numeric_offsets_aliased() -> ModelDoc {
    let mut log10x = call(Op::Log, vec![x("x")]);
    log10x.base = Some(10.0);
    let mut scaled = call(Op::Scale, vec![x("z")]);
    scaled.center = Some(0.25);
    scaled.scale = Some(1.5);
    let variables = vec![
        VariableSpec::Numeric { label: "log(x, 10)".into(), expr: log10x },
        VariableSpec::Numeric { label: "scale(z)".into(), expr: scaled },
        VariableSpec::Numeric { label: "I(x^2)".into(), expr: call(Op::Pow, vec![x("x"), Expr::constant(2.0)]) },
        VariableSpec::Numeric { label: "I(2 * x)".into(), expr: call(Op::Mul, vec![Expr::constant(2.0), x("x")]) },
        VariableSpec::Numeric { label: "as.numeric(a)".into(), expr: call(Op::AsNumeric, vec![x("a")]) },
        VariableSpec::Numeric { label: "exp(-z)".into(), expr: call(Op::Exp, vec![call(Op::Neg, vec![x("z")])]) },
    ];
    let terms = (0..variables.len()).map(|i| term(variables[i].label(), &[(i, None)], i + 1..i + 2)).collect();
    let offsets = vec![
        call(Op::Log1p, vec![x("w")]),
        call(Op::Div, vec![call(Op::Sqrt, vec![call(Op::Abs, vec![x("z")])]), Expr::constant(10.0)]),
    ];
    let coefficients = vec![Some(-0.5), Some(1.25), Some(-0.75), Some(0.0625), None, Some(0.1), Some(3.0e-7)];
    let mut d = doc(
        vec![
            input("x", InputType::Numeric, None),
            input("z", InputType::Numeric, None),
            input("a", InputType::Any, None),
            input("w", InputType::Numeric, None),
        ],
        linear("binomial", "logit", true, coefficients, variables, terms, offsets),
    );
    d.extensions.insert("org.example.note".into(), json!({"kept": [1, 2.5, "three"], "nested": {"ok": true}}));
    d
}

/// `lm(y ~ poly(x, 3) + poly(z, 2, raw = TRUE))`.
fn doc_polys() -> ModelDoc {
    let variables = vec![
        VariableSpec::Poly {
            label: "poly(x, 3)".into(),
            arg: x("x"),
            alpha: vec![5.5, 5.5, 5.5],
            norm2: vec![1.0, 10.0, 82.5, 528.0, 3088.8],
        },
        VariableSpec::PolyRaw { label: "poly(z, 2, raw = TRUE)".into(), arg: x("z"), degree: 2 },
    ];
    let terms = vec![term("poly(x, 3)", &[(0, None)], 1..4), term("poly(z, 2, raw = TRUE)", &[(1, None)], 4..6)];
    let coefficients = vec![Some(2.0), Some(0.5), Some(-0.25), Some(0.125), Some(1.0), Some(-1.0e-3)];
    let mut lin = linear("gaussian", "identity", true, coefficients, variables, terms, vec![]);
    lin.types = vec!["response".into()];
    lin.default_type = "response".into();
    doc(vec![input("x", InputType::Numeric, None), input("z", InputType::Numeric, None)], lin)
}

/// `glm(y ~ splines::bs(x, knots = 0.5) + splines::ns(z, knots = 0.5), poisson)`:
/// cubic splines on [0, 1], one with and one without a projection.
fn doc_splines() -> ModelDoc {
    let knots = vec![0.0, 0.0, 0.0, 0.0, 0.5, 1.0, 1.0, 1.0, 1.0];
    let nbasis = knots.len() - 4;
    let unit = |i: usize| (0..nbasis).map(|j| if i == j { 1.0 } else { 0.0 }).collect::<Vec<f64>>();
    let bs = SplineSpec {
        label: "splines::bs(x, knots = 0.5)".into(),
        basis: "bs".into(),
        arg: x("x"),
        order: 4,
        knots: knots.clone(),
        boundary: vec![0.0, 1.0],
        intercept: false,
        left: Extrapolation { pivot: 0.125, coefs: vec![unit(0), unit(1), unit(2), unit(3)] },
        right: Extrapolation { pivot: 0.875, coefs: vec![unit(4), unit(3), unit(2), unit(1)] },
        projection: None,
    };
    let ns = SplineSpec {
        label: "splines::ns(z, knots = 0.5)".into(),
        basis: "ns".into(),
        arg: call(Op::Sqrt, vec![x("z")]),
        order: 4,
        knots,
        boundary: vec![0.0, 1.0],
        intercept: false,
        left: Extrapolation { pivot: 0.0, coefs: vec![unit(0), unit(1)] },
        right: Extrapolation { pivot: 1.0, coefs: vec![unit(4), unit(3)] },
        // kept basis functions (4) x output columns (2)
        projection: Some(vec![vec![0.5, -0.25], vec![0.75, 0.125], vec![-0.125, 0.5], vec![0.25, 0.75]]),
    };
    let variables = vec![VariableSpec::Spline(Box::new(bs)), VariableSpec::Spline(Box::new(ns))];
    let terms = vec![
        term("splines::bs(x, knots = 0.5)", &[(0, None)], 1..5),
        term("splines::ns(z, knots = 0.5)", &[(1, None)], 5..7),
    ];
    let coefficients = vec![Some(0.1), Some(0.2), Some(0.3), Some(0.4), Some(0.5), Some(0.6), Some(0.7)];
    doc(
        vec![input("x", InputType::Numeric, None), input("z", InputType::Numeric, None)],
        linear("poisson", "log", true, coefficients, variables, terms, vec![]),
    )
}

/// `lm(y ~ 0 + f + g + f:x + x:h)`: no intercept, so `f` is coded by
/// indicators in its main effect and by contrasts in `f:x`; `g` (ordered)
/// by contrasts; `h` (logical) only by indicators in `x:h`, whose margin is
/// absent, so it has no contrast matrix.
fn doc_factors() -> ModelDoc {
    let f_levels = ["a", "b", "c"];
    let g_levels = ["lo", "mid", "hi"];
    let variables = vec![
        VariableSpec::Factor {
            label: "f".into(),
            input: "f".into(),
            levels: f_levels.iter().map(|s| s.to_string()).collect(),
            // used by the contrasts coding of f in f:x
            contrasts: Some(vec![vec![0.0, 0.0], vec![1.0, 0.0], vec![0.0, 1.0]]),
        },
        VariableSpec::Factor {
            label: "g".into(),
            input: "g".into(),
            levels: g_levels.iter().map(|s| s.to_string()).collect(),
            contrasts: Some(vec![
                vec![-std::f64::consts::FRAC_1_SQRT_2, 0.4082482904638631],
                vec![-7.850462293418876e-17, -0.816496580927726],
                vec![std::f64::consts::FRAC_1_SQRT_2, 0.4082482904638631],
            ]),
        },
        VariableSpec::Numeric { label: "x".into(), expr: x("x") },
        VariableSpec::Factor {
            label: "h".into(),
            input: "h".into(),
            levels: vec!["FALSE".into(), "TRUE".into()],
            contrasts: None,
        },
    ];
    let terms = vec![
        term("f", &[(0, Some(Coding::Indicators))], 0..3),
        term("g", &[(1, Some(Coding::Contrasts))], 3..5),
        term("f:x", &[(0, Some(Coding::Contrasts)), (2, None)], 5..7),
        term("x:h", &[(2, None), (3, Some(Coding::Indicators))], 7..9),
    ];
    doc(
        vec![
            input("f", InputType::Character, Some(&f_levels)),
            input("g", InputType::Ordered, Some(&g_levels)),
            input("x", InputType::Numeric, None),
            input("h", InputType::Logical, None),
        ],
        linear(
            "gaussian",
            "identity",
            false,
            vec![Some(1.0), Some(2.0), Some(3.0), Some(-0.5), None, Some(0.25), Some(-0.25), Some(4.0), Some(-4.0)],
            variables,
            terms,
            vec![],
        ),
    )
}

fn engine_documents() -> Vec<(&'static str, ModelDoc)> {
    vec![
        ("numeric expressions, offsets, an aliased coefficient, extensions", doc_numeric_offsets_aliased()),
        ("poly and poly_raw", doc_polys()),
        ("splines with and without projection", doc_splines()),
        ("factors with and without contrasts, no intercept", doc_factors()),
    ]
}

#[test]
fn documents_written_by_the_engine_are_valid() {
    let v = validator();
    let mut kinds = std::collections::BTreeSet::new();
    for (what, d) in engine_documents() {
        // What the engine loads...
        Model::from_doc(d.clone()).unwrap_or_else(|e| panic!("{what}: the engine does not load it: {e}"));
        // ...it writes in a form the schema accepts, compact or pretty...
        for pretty in [false, true] {
            let text = io::to_json(&d, pretty).unwrap();
            let value: Value = serde_json::from_str(&text).unwrap();
            assert_valid(&v, &value, what);
            // ...and reads back unchanged.
            let back = io::from_json_bytes(text.as_bytes()).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(back, d, "{what}: the JSON round trip changes the document");
            Model::from_json(text.as_bytes()).unwrap_or_else(|e| panic!("{what}: {e}"));
            for var in value["linear"]["variables"].as_array().unwrap() {
                let mut k = var["kind"].as_str().unwrap().to_string();
                if k == "spline" {
                    k += if var.get("projection").is_some() { " with projection" } else { " without projection" };
                }
                if k == "factor" {
                    k += if var.get("contrasts").is_some() { " with contrasts" } else { " without contrasts" };
                }
                kinds.insert(k);
            }
        }
    }
    let want = [
        "numeric",
        "poly",
        "poly_raw",
        "spline with projection",
        "spline without projection",
        "factor with contrasts",
        "factor without contrasts",
    ];
    for k in want {
        assert!(kinds.contains(k), "no engine-built document has a variable of kind '{k}'; found {kinds:?}");
    }
    let first: Value = serde_json::from_str(&io::to_json(&engine_documents()[0].1, false).unwrap()).unwrap();
    assert!(first["linear"]["coefficients"].as_array().unwrap().iter().any(Value::is_null), "no aliased coefficient");
    assert!(!first["linear"]["offsets"].as_array().unwrap().is_empty(), "no offsets");
}

/// A newer minor version may add fields anywhere and is still valid, as
/// the engine still reads it.
#[test]
fn newer_minor_versions_with_unknown_fields_are_valid() {
    let v = validator();
    let mut d: Value = serde_json::from_str(&io::to_json(&doc_splines(), false).unwrap()).unwrap();
    d["format_version"] = json!("1.12");
    d["future_top_level"] = json!({"anything": [1, 2]});
    d["producer"]["host"] = json!("a server");
    d["linear"]["se_fit"] = json!({"cov_unscaled": [[1.0]], "dispersion": 1.0});
    d["linear"]["variables"][0]["future"] = json!(true);
    d["linear"]["terms"][0]["factors"][0]["future"] = json!(null);
    assert_valid(&v, &d, "a 1.12 document with unknown fields");
    Model::from_json(d.to_string().as_bytes()).expect("the engine reads a newer minor version");
    // Optional fields may be null, which the engine reads as absent.
    let mut d: Value = serde_json::from_str(&io::to_json(&doc_factors(), false).unwrap()).unwrap();
    d["producer"]["r_version"] = Value::Null;
    d["linear"]["variables"][3]["contrasts"] = Value::Null;
    d["linear"]["terms"][2]["factors"][1]["coding"] = Value::Null;
    assert_valid(&v, &d, "a document with null optional fields");
    Model::from_json(d.to_string().as_bytes()).expect("the engine reads null optional fields");
}

// (e) broken documents

fn base_fixture() -> Value {
    read_json(&repo_root().join("tests/testthat/fixtures/format-1.0/lm-mtcars.json"))
}

/// `doc` must fail the schema, and the engine must refuse it too.
fn check_refused(v: &Validator, doc: &Value, what: &str) {
    let errs = assert_invalid(v, doc, what);
    println!("{what}: refused as expected:\n{}", errs.join("\n"));
    match Model::from_json(doc.to_string().as_bytes()) {
        Ok(_) => panic!("{what}: the schema refuses it but the engine loads it"),
        Err(e) => println!("  the engine says: {e}"),
    }
}

#[test]
fn a_document_without_inputs_is_invalid() {
    let v = validator();
    let mut d = base_fixture();
    d.as_object_mut().unwrap().remove("inputs");
    check_refused(&v, &d, "a document without 'inputs'");
    let errs = errors(&v, &d);
    assert!(errs.iter().any(|e| e.contains("inputs")), "the errors do not name 'inputs':\n{}", errs.join("\n"));
}

#[test]
fn a_document_of_an_unknown_kind_is_invalid() {
    let v = validator();
    for kind in ["forest", "Linear", ""] {
        let mut d = base_fixture();
        d["kind"] = json!(kind);
        check_refused(&v, &d, &format!("a document of kind '{kind}'"));
    }
    let mut d = base_fixture();
    d["kind"] = json!(1);
    check_refused(&v, &d, "a document whose kind is a number");
}

#[test]
fn a_string_coefficient_is_invalid() {
    let v = validator();
    let mut d = base_fixture();
    d["linear"]["coefficients"][3] = json!("-9.975241268420675");
    check_refused(&v, &d, "a string coefficient");
    let errs = errors(&v, &d);
    assert!(
        errs.iter().any(|e| e.contains("/linear/coefficients/3")),
        "the errors do not point at the coefficient:\n{}",
        errs.join("\n")
    );
}

#[test]
fn other_broken_documents_are_invalid() {
    let v = validator();
    let mut cases: Vec<(&str, Value)> = Vec::new();
    let mut d = base_fixture();
    d["format_version"] = json!("2.0");
    cases.push(("a newer major version", d));
    let mut d = base_fixture();
    d["format"] = json!("something-else");
    cases.push(("another format", d));
    let mut d = base_fixture();
    d.as_object_mut().unwrap().remove("linear");
    cases.push(("kind 'linear' without a 'linear' section", d));
    let mut d = base_fixture();
    d["linear"]["variables"][0]["kind"] = json!("cubic");
    cases.push(("an unknown variable kind", d));
    let mut d = base_fixture();
    d["linear"]["variables"][2].as_object_mut().unwrap().remove("norm2");
    cases.push(("a poly variable without norm2", d));
    let mut d = base_fixture();
    d["linear"]["variables"][3]["expr"]["op"] = json!("sin");
    cases.push(("an unknown expression op", d));
    let mut d = base_fixture();
    d["linear"]["terms"][1]["factors"][0]["coding"] = json!("dummy");
    cases.push(("an unknown factor coding", d));
    let mut d = base_fixture();
    d["inputs"][1]["type"] = json!("integer");
    cases.push(("an unknown input type", d));
    let mut d = base_fixture();
    d["linear"]["terms"][0]["columns"][0] = json!(-1);
    cases.push(("a negative column index", d));
    let mut d = base_fixture();
    d["extensions"] = json!([1, 2]);
    cases.push(("extensions that are not an object", d));
    for (what, d) in &cases {
        check_refused(&v, d, what);
    }
}
