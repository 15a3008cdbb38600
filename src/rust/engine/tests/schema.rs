//! The JSON Schema in `inst/schema/fastpredict-model.schema.json` against
//! real documents: it must be a valid draft 2020-12 schema, accept the
//! format fixtures of every version, the models the R tests saved (when
//! `FASTPREDICT_SCHEMA_OUT` names their directory) and documents the engine
//! serializes from its own structs (linear and tree models), and refuse a
//! few broken documents.

// A test may unwrap and panic: that is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::{GzDecoder, MultiGzDecoder};
use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use serde_json::{json, Value};

use fastpredict_engine::format::{
    format_version, Aggregation, CategorySet, Coding, Extrapolation, FeatureKind, FeatureSpec, InputSpec, InputType,
    LinearSpec, MissingRule, ModelDoc, ModelKind, NanRule, Producer, SplineSpec, SplitRule, Surrogates, TermFactor,
    TermSpec, TreeSpec, TreesSpec, UnseenRule, VariableSpec, FORMAT_NAME,
};
use fastpredict_engine::format::{Expr, Op};
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
        // against the "spline" branch) or another aggregation "method" say
        // nothing useful: leave them out.
        let mut skipped = 0;
        for (i, branch) in context.iter().enumerate() {
            let other_kind = branch.iter().any(|e| {
                matches!(e.kind(), ValidationErrorKind::Constant { .. })
                    && (e.instance_path().to_string().ends_with("/kind")
                        || e.instance_path().to_string().ends_with("/method"))
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
            out.push(format!("{pad}  ({skipped} branch(es) for another 'kind' or 'method' not shown)"));
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
/// magic number, as the engine does). A compressed tree document is several
/// gzip members (see FORMAT.md): all of them are read, as any gzip reader
/// must; `GzDecoder` would stop after the first.
fn read_bytes(path: &Path) -> Vec<u8> {
    let raw = fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        MultiGzDecoder::new(&raw[..])
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
            let doc = io::from_bytes(&bytes).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
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
        boosted: None,
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

// Tree models. The documents below are small but shaped like what each
// compiler writes (R/compile-*.R); together they use every aggregation
// method, feature kind, unseen rule, missing rule and optional tree array.

fn trees_doc(source_class: &[&str], package: &str, inputs: Vec<InputSpec>, spec: TreesSpec) -> ModelDoc {
    ModelDoc {
        format: FORMAT_NAME.into(),
        format_version: format_version(),
        producer: Producer {
            name: "fastpredict".into(),
            version: "0.1.0".into(),
            r_version: Some("4.3.1".into()),
            source_class: source_class.iter().map(|s| s.to_string()).collect(),
            source_package: Some(package.into()),
            source_package_version: None,
        },
        kind: ModelKind::Trees,
        inputs,
        linear: None,
        trees: Some(spec),
        boosted: None,
        extensions: serde_json::Map::new(),
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn numeric_feature(input: &str) -> FeatureSpec {
    FeatureSpec { input: input.into(), kind: FeatureKind::Numeric, levels: None, code_offset: None, unseen: None }
}

fn level_feature(
    input: &str,
    kind: FeatureKind,
    levels: &[&str],
    code_offset: Option<f64>,
    unseen: Option<UnseenRule>,
) -> FeatureSpec {
    FeatureSpec { input: input.into(), kind, levels: Some(strings(levels)), code_offset, unseen }
}

/// A tree with only the required arrays; `left` / `right` empty means the
/// implicit level-by-level children.
fn tree(feature: &[i32], threshold: &[f64], value: &[f64]) -> TreeSpec {
    TreeSpec {
        feature: feature.to_vec(),
        threshold: threshold.to_vec(),
        left: Vec::new(),
        right: Vec::new(),
        missing: None,
        value: value.to_vec(),
        probs: None,
        matrix: None,
        categories: None,
        surrogates: None,
    }
}

fn set(left: &[u32], right: &[u32]) -> CategorySet {
    CategorySet { left: left.to_vec(), right: right.to_vec() }
}

/// rpart classification: one tree with explicit children (not numbered
/// level by level), majority `missing` children, a categorical split whose
/// set leaves level "c" on neither side (so such rows stop at the node),
/// numeric and categorical surrogates at the root, `probs` and `matrix`.
fn doc_rpart_single() -> ModelDoc {
    let levels = ["a", "b", "c"];
    // 0: x < 2.5 ? 1 : 4       1: f in {a} ? 2 : (f in {b} ? 3 : stop)
    // 4: z < 7 ? 5 : 6         leaves 2, 3, 5, 6
    let mut t =
        tree(&[0, 1, -1, -1, 2, -1, -1], &[2.5, 0.0, 0.0, 0.0, 7.0, 0.0, 0.0], &[1.0, 1.0, 1.0, 2.0, 3.0, 2.0, 3.0]);
    t.left = vec![1, 2, -1, -1, 5, -1, -1];
    t.right = vec![4, 3, -1, -1, 6, -1, -1];
    t.missing = Some(vec![4, -1, -1, -1, 6, -1, -1]);
    let probs: [[f64; 3]; 7] = [
        [0.5, 0.25, 0.25],
        [0.625, 0.375, 0.0],
        [0.9, 0.1, 0.0],
        [0.2, 0.8, 0.0],
        [0.0, 0.375, 0.625],
        [0.0, 0.75, 0.25],
        [0.0, 0.125, 0.875],
    ];
    t.probs = Some(probs.iter().flatten().copied().collect());
    // per node: the class, then the class counts (a shortened yval2)
    t.matrix = Some(
        t.value.iter().zip(&probs).flat_map(|(v, p)| std::iter::once(*v).chain(p.iter().map(|x| x * 16.0))).collect(),
    );
    t.categories = Some(vec![set(&[0], &[1]), set(&[1, 2], &[0])]);
    // root: first z >= 1 goes left (less_left false), then f by set 1
    t.surrogates = Some(Surrogates {
        start: vec![0, 2, 2, 2, 2, 2, 2, 2],
        feature: vec![2, 1],
        threshold: vec![1.0, 1.0],
        less_left: vec![false, true],
    });
    trees_doc(
        &["rpart"],
        "rpart",
        vec![
            input("x", InputType::Numeric, None),
            input("f", InputType::Factor, Some(&levels)),
            input("z", InputType::Numeric, None),
        ],
        TreesSpec {
            algorithm: "rpart".into(),
            features: vec![
                numeric_feature("x"),
                level_feature("f", FeatureKind::Categorical, &levels, None, Some(UnseenRule::Error)),
                numeric_feature("z"),
            ],
            split: SplitRule::Lt,
            missing: MissingRule::Route,
            nan: None,
            aggregation: Aggregation::Single,
            types: strings(&["vector", "prob", "class", "matrix"]),
            default_type: "prob".into(),
            classes: Some(strings(&["lo", "mid", "hi"])),
            trees: vec![t],
        },
    )
}

/// randomForest regression from a formula: implicit children, the mean
/// with its bias correction, `na_row`; a factor split by a category set, an
/// ordered factor read as level codes + 1, a logical read as a number and
/// a formula variable that no tree splits on (no levels, unseen "last").
fn doc_random_forest_mean() -> ModelDoc {
    let f_levels = ["a", "b", "c"];
    let g_levels = ["lo", "mid", "hi"];
    let mut t1 = tree(&[0, 1, -1, -1, -1], &[2.5, 0.0, 0.0, 0.0, 0.0], &[0.0, 0.0, 10.0, 11.0, 12.0]);
    t1.categories = Some(vec![set(&[0, 2], &[1])]);
    let t2 = tree(&[2, -1, 3, -1, -1], &[1.5, 0.0, 0.5, 0.0, 0.0], &[0.0, 20.0, 0.0, 21.0, 22.5]);
    trees_doc(
        &["randomForest.formula", "randomForest"],
        "randomForest",
        vec![
            input("x", InputType::Numeric, None),
            input("f", InputType::Factor, Some(&f_levels)),
            input("g", InputType::Ordered, Some(&g_levels)),
            input("h", InputType::Logical, None),
            input("w", InputType::Character, Some(&[])),
        ],
        TreesSpec {
            algorithm: "randomForest".into(),
            features: vec![
                numeric_feature("x"),
                level_feature("f", FeatureKind::Categorical, &f_levels, None, Some(UnseenRule::Error)),
                level_feature("g", FeatureKind::Codes, &g_levels, Some(1.0), Some(UnseenRule::Error)),
                numeric_feature("h"),
                level_feature("w", FeatureKind::Codes, &[], None, Some(UnseenRule::Last)),
            ],
            split: SplitRule::Le,
            missing: MissingRule::NaRow,
            nan: None,
            aggregation: Aggregation::Mean { bias: Some(vec![-0.25, 1.0625]) },
            types: strings(&["response"]),
            default_type: "response".into(),
            classes: None,
            trees: vec![t1, t2],
        },
    )
}

/// randomForest classification from x/y: votes with a cutoff, missing
/// values an error, implicit children, class indices in the leaves.
fn doc_random_forest_votes() -> ModelDoc {
    let t1 = tree(&[0, -1, 1, -1, -1], &[1.25, 0.0, 3.0, 0.0, 0.0], &[0.0, 1.0, 0.0, 2.0, 3.0]);
    let t2 = tree(&[1, 0, -1, -1, -1], &[2.75, 0.5, 0.0, 0.0, 0.0], &[0.0, 0.0, 3.0, 1.0, 2.0]);
    trees_doc(
        &["randomForest"],
        "randomForest",
        vec![input("x", InputType::Numeric, None), input("y", InputType::Numeric, None)],
        TreesSpec {
            algorithm: "randomForest".into(),
            features: vec![numeric_feature("x"), numeric_feature("y")],
            split: SplitRule::Le,
            missing: MissingRule::Error,
            nan: None,
            aggregation: Aggregation::Votes { cutoff: Some(vec![0.5, 0.3, 0.2]) },
            types: strings(&["response", "prob", "vote"]),
            default_type: "response".into(),
            classes: Some(strings(&["setosa", "versicolor", "virginica"])),
            trees: vec![t1, t2],
        },
    )
}

/// ranger probability forest in the "order" mode: the mean of the leaves'
/// class probabilities, a factor read as level codes + 1 with unseen levels
/// sorted last; `threshold` and `value` both hold ranger's split values, as
/// the format 1.0 fixtures do.
fn doc_ranger_prob_mean() -> ModelDoc {
    let levels = ["b", "a"];
    let mk = |cut: f64, p: [f64; 6]| {
        let mut t = tree(&[1, 0, -1, -1, -1], &[1.5, cut, 0.0, 0.0, 0.0], &[1.5, cut, 0.0, 0.0, 0.0]);
        t.probs = Some(
            [[0.0, 0.0], [0.0, 0.0], [p[0], p[1]], [p[2], p[3]], [p[4], p[5]]].iter().flatten().copied().collect(),
        );
        t
    };
    trees_doc(
        &["ranger"],
        "ranger",
        vec![input("x", InputType::Numeric, None), input("f", InputType::Factor, Some(&levels))],
        TreesSpec {
            algorithm: "ranger".into(),
            features: vec![
                numeric_feature("x"),
                level_feature("f", FeatureKind::Codes, &levels, Some(1.0), Some(UnseenRule::Last)),
            ],
            split: SplitRule::Le,
            missing: MissingRule::Error,
            nan: None,
            aggregation: Aggregation::ProbMean,
            types: strings(&["response"]),
            default_type: "response".into(),
            classes: Some(strings(&["no", "yes"])),
            trees: vec![mk(3.0, [0.25, 0.75, 1.0, 0.0, 0.5, 0.5]), mk(4.5, [0.0, 1.0, 0.875, 0.125, 0.375, 0.625])],
        },
    )
}

/// ranger classification with "partition" splits: votes without a cutoff,
/// a category set per partition split, class indices in the leaves and 0
/// in the slots no walk reads.
fn doc_ranger_votes() -> ModelDoc {
    let levels = ["a", "b", "c"];
    let mut t = tree(&[1, -1, 0, -1, -1], &[0.0, 0.0, 1.0, 0.0, 0.0], &[0.0, 2.0, 0.0, 1.0, 2.0]);
    t.categories = Some(vec![set(&[0, 2], &[1])]);
    let mut t2 = t.clone();
    t2.threshold[2] = 0.25;
    t2.value = vec![0.0, 1.0, 0.0, 2.0, 2.0];
    trees_doc(
        &["ranger"],
        "ranger",
        vec![input("x", InputType::Numeric, None), input("f", InputType::Character, Some(&levels))],
        TreesSpec {
            algorithm: "ranger".into(),
            features: vec![
                numeric_feature("x"),
                level_feature("f", FeatureKind::Categorical, &levels, None, Some(UnseenRule::Error)),
            ],
            split: SplitRule::Le,
            missing: MissingRule::Error,
            nan: None,
            aggregation: Aggregation::Votes { cutoff: None },
            types: strings(&["response"]),
            default_type: "response".into(),
            classes: Some(strings(&["one", "two"])),
            trees: vec![t, t2],
        },
    )
}

/// gbm multinomial: 3 iterations x 3 classes of interleaved trees, softmax,
/// gbm's node layout (left, right and a third, distinct missing child), a
/// factor whose unseen levels are missing, and the "compare" NaN rule.
fn doc_gbm_multinomial() -> ModelDoc {
    let levels = ["a", "b", "c"];
    let trees = (0..9)
        .map(|t| {
            let s = 0.0625 * (t as f64 + 1.0);
            // 0: x < 0.5 ? 1 : 5, missing 6    1: f in {a} ? 2 : 3, missing 4
            let mut tr = tree(
                &[0, 1, -1, -1, -1, -1, -1],
                &[0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                &[0.0, -s, s, -2.0 * s, -s, 3.0 * s, 0.0],
            );
            tr.left = vec![1, 2, -1, -1, -1, -1, -1];
            tr.right = vec![5, 3, -1, -1, -1, -1, -1];
            tr.missing = Some(vec![6, 4, -1, -1, -1, -1, -1]);
            tr.categories = Some(vec![set(&[0], &[1, 2])]);
            tr
        })
        .collect();
    trees_doc(
        &["gbm"],
        "gbm",
        vec![input("x", InputType::Numeric, None), input("f", InputType::Factor, Some(&levels))],
        TreesSpec {
            algorithm: "gbm".into(),
            features: vec![
                numeric_feature("x"),
                level_feature("f", FeatureKind::Categorical, &levels, None, Some(UnseenRule::Missing)),
            ],
            split: SplitRule::Lt,
            missing: MissingRule::Route,
            nan: Some(NanRule::Compare),
            aggregation: Aggregation::Sum {
                init: vec![0.0, 0.0, 0.0],
                n_classes: 3,
                transform: "softmax".into(),
                default_n_trees: 2,
            },
            types: strings(&["link", "response"]),
            default_type: "link".into(),
            classes: Some(strings(&["a", "b", "c"])),
            trees,
        },
    )
}

/// gbm bernoulli: one sum through the logistic, an ordered factor compared
/// as 0-based level codes, stumps with a missing child.
fn doc_gbm_bernoulli() -> ModelDoc {
    let levels = ["lo", "mid", "hi"];
    let stump = |f: i32, cut: f64, v: [f64; 3]| {
        let mut t = tree(&[f, -1, -1, -1], &[cut, 0.0, 0.0, 0.0], &[0.0, v[0], v[1], v[2]]);
        t.left = vec![1, -1, -1, -1];
        t.right = vec![2, -1, -1, -1];
        t.missing = Some(vec![3, -1, -1, -1]);
        t
    };
    trees_doc(
        &["gbm"],
        "gbm",
        vec![input("x", InputType::Numeric, None), input("g", InputType::Ordered, Some(&levels))],
        TreesSpec {
            algorithm: "gbm".into(),
            features: vec![
                numeric_feature("x"),
                level_feature("g", FeatureKind::Codes, &levels, None, Some(UnseenRule::Missing)),
            ],
            split: SplitRule::Lt,
            missing: MissingRule::Route,
            nan: Some(NanRule::Compare),
            aggregation: Aggregation::Sum {
                init: vec![-0.375],
                n_classes: 1,
                transform: "logistic".into(),
                default_n_trees: 3,
            },
            types: strings(&["link", "response"]),
            default_type: "link".into(),
            classes: None,
            trees: vec![
                stump(0, 2.25, [0.125, -0.25, 0.0]),
                stump(1, 0.5, [-0.5, 0.25, 0.0]),
                stump(0, 1.5, [0.0625, -0.125, 0.0]),
            ],
        },
    )
}

fn engine_documents() -> Vec<(&'static str, ModelDoc)> {
    vec![
        ("numeric expressions, offsets, an aliased coefficient, extensions", doc_numeric_offsets_aliased()),
        ("poly and poly_raw", doc_polys()),
        ("splines with and without projection", doc_splines()),
        ("factors with and without contrasts, no intercept", doc_factors()),
        ("rpart: single tree, category sets, surrogates, missing children", doc_rpart_single()),
        ("randomForest regression: mean with bias, implicit children, na_row", doc_random_forest_mean()),
        ("randomForest classification: votes with cutoff", doc_random_forest_votes()),
        ("ranger probability: prob_mean, unseen levels last", doc_ranger_prob_mean()),
        ("ranger classification: votes without cutoff, partition sets", doc_ranger_votes()),
        ("gbm multinomial: sum over interleaved classes, nan compare", doc_gbm_multinomial()),
        ("gbm bernoulli: sum through the logistic, ordered codes", doc_gbm_bernoulli()),
    ]
}

#[test]
fn documents_written_by_the_engine_are_valid() {
    let v = validator();
    let mut kinds = std::collections::BTreeSet::new();
    let mut tree_kinds = std::collections::BTreeSet::new();
    for (what, d) in engine_documents() {
        // What the engine loads...
        Model::from_doc(d.clone()).unwrap_or_else(|e| panic!("{what}: the engine does not load it: {e}"));
        // ...it writes in a form the schema accepts, compact or pretty...
        for pretty in [false, true] {
            let text = io::to_json(&d, pretty).unwrap();
            let value: Value = serde_json::from_str(&text).unwrap();
            assert_valid(&v, &value, what);
            // ...and reads back unchanged.
            let back = io::from_bytes(text.as_bytes()).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(back, d, "{what}: the JSON round trip changes the document");
            let model = Model::from_json(text.as_bytes()).unwrap_or_else(|e| panic!("{what}: {e}"));
            for var in value["linear"]["variables"].as_array().into_iter().flatten() {
                let mut k = var["kind"].as_str().unwrap().to_string();
                if k == "spline" {
                    k += if var.get("projection").is_some() { " with projection" } else { " without projection" };
                }
                if k == "factor" {
                    k += if var.get("contrasts").is_some() { " with contrasts" } else { " without contrasts" };
                }
                kinds.insert(k);
            }
            if value.get("trees").is_some() {
                tree_parts(&value["trees"], &mut tree_kinds);
                predicts_every_type(&model, what);
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
    let want_trees = [
        "method single",
        "method mean",
        "method mean with bias",
        "method votes",
        "method votes with cutoff",
        "method prob_mean",
        "method sum",
        "method sum with interleaved classes",
        "feature numeric",
        "feature codes",
        "feature codes with code_offset",
        "feature categorical",
        "unseen error",
        "unseen missing",
        "unseen last",
        "split lt",
        "split le",
        "missing route",
        "missing na_row",
        "missing error",
        "nan compare",
        "explicit children",
        "implicit children",
        "missing children",
        "distinct missing child",
        "category sets",
        "surrogates",
        "probs",
        "matrix",
        "classes",
    ];
    for k in want_trees {
        assert!(tree_kinds.contains(k), "no engine-built tree document has '{k}'; found {tree_kinds:?}");
    }
    let first: Value = serde_json::from_str(&io::to_json(&engine_documents()[0].1, false).unwrap()).unwrap();
    assert!(first["linear"]["coefficients"].as_array().unwrap().iter().any(Value::is_null), "no aliased coefficient");
    assert!(!first["linear"]["offsets"].as_array().unwrap().is_empty(), "no offsets");
}

/// What a written `trees` section uses, by name, for the coverage check.
fn tree_parts(t: &Value, seen: &mut std::collections::BTreeSet<String>) {
    let agg = &t["aggregation"];
    let method = agg["method"].as_str().unwrap();
    seen.insert(format!("method {method}"));
    for (field, what) in [("bias", "with bias"), ("cutoff", "with cutoff")] {
        if agg.get(field).is_some() {
            seen.insert(format!("method {method} {what}"));
        }
    }
    if agg["n_classes"].as_u64().is_some_and(|k| k > 1) {
        seen.insert("method sum with interleaved classes".into());
    }
    for f in t["features"].as_array().unwrap() {
        let kind = f["kind"].as_str().unwrap();
        seen.insert(format!("feature {kind}"));
        if f.get("code_offset").is_some() {
            seen.insert(format!("feature {kind} with code_offset"));
        }
        if let Some(u) = f["unseen"].as_str() {
            seen.insert(format!("unseen {u}"));
        }
    }
    for key in ["split", "missing", "nan"] {
        if let Some(r) = t[key].as_str() {
            seen.insert(format!("{key} {r}"));
        }
    }
    if t.get("classes").is_some() {
        seen.insert("classes".into());
    }
    for tr in t["trees"].as_array().unwrap() {
        seen.insert(if tr.get("left").is_some() { "explicit children" } else { "implicit children" }.into());
        if let Some(m) = tr["missing"].as_array() {
            let m: Vec<i64> = m.iter().map(|x| x.as_i64().unwrap()).collect();
            if m.iter().any(|&c| c >= 0) {
                seen.insert("missing children".into());
            }
            let right = tr["right"].as_array();
            let distinct = m.iter().enumerate().any(|(i, &c)| {
                c >= 0 && right.is_some_and(|r| r[i].as_i64() != Some(c)) && tr["left"][i].as_i64() != Some(c)
            });
            if distinct {
                seen.insert("distinct missing child".into());
            }
        }
        for key in ["categories", "surrogates", "probs", "matrix"] {
            if tr.get(key).is_some() {
                seen.insert(if key == "categories" { "category sets".into() } else { key.to_string() });
            }
        }
    }
}

/// Every type a tree model offers predicts, from a few rows with values of
/// each input (no missing values: some of these models refuse them).
fn predicts_every_type(m: &Model, what: &str) {
    use fastpredict_engine::{Column, Frame, OutBuf, PredictOptions, ValueKind};
    let n = 4;
    let nums: Vec<f64> = vec![0.1, 1.75, 2.5, 6.0];
    let logicals: Vec<i32> = vec![0, 1, 1, 0];
    let mut fr = Frame::new();
    for i in m.inputs() {
        let col = match i.kind {
            InputType::Numeric | InputType::Any => Column::Real(&nums),
            InputType::Logical => Column::Logical(&logicals),
            _ => {
                let lv = i.levels.as_deref().unwrap_or(&[]);
                // an unknown level where the feature sorts it last
                Column::Str((0..n).map(|r| Some(lv.get(r % lv.len().max(1)).map_or("new", |s| s.as_str()))).collect())
            }
        };
        fr.push(&i.name, col);
    }
    for t in m.info().types.iter().map(|t| t.as_str().to_string()) {
        let opts = PredictOptions { type_: Some(t.clone()), ..Default::default() };
        let job = m.prepare(&fr, &opts).unwrap_or_else(|e| panic!("{what}: type {t}: {e}"));
        let shape = job.shape();
        let shape = shape.array().expect("an array");
        let len = shape.len(n);
        let res = if matches!(shape.values, ValueKind::Factor(_)) {
            job.run(vec![OutBuf::Int(&mut vec![0; len])], 1)
        } else {
            job.run(vec![OutBuf::Real(&mut vec![0.0; len])], 1)
        };
        res.unwrap_or_else(|e| panic!("{what}: type {t}: {e}"));
    }
}

/// A compressed forest is written as several gzip members (FORMAT.md,
/// "Files, gzip and numbers"); read as one gzip text it is the same
/// document, valid, and the engine loads the file.
#[test]
fn split_gzip_tree_documents_are_valid() {
    let v = validator();
    let dir = std::env::temp_dir().join(format!("fastpredict-schema-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    for (name, d) in [("gbm.json.gz", doc_gbm_multinomial()), ("rf.json.gz", doc_random_forest_mean())] {
        let path = dir.join(name);
        io::write_file(&d, &path, true).unwrap();
        let raw = fs::read(&path).unwrap();
        let mut first = Vec::new();
        GzDecoder::new(&raw[..]).read_to_end(&mut first).unwrap();
        let all = read_bytes(&path);
        assert!(first.len() < all.len(), "{name}: expected several gzip members");
        assert_eq!(all, io::to_json(&d, false).unwrap().into_bytes(), "{name}: the members do not join to the JSON");
        assert_valid(&v, &read_json(&path), name);
        let (loaded, want) = (Model::load(&path).unwrap(), Model::from_doc(d).unwrap());
        assert_eq!(loaded.doc(), want.doc(), "{name}: the file loads as another document");
    }
    fs::remove_dir_all(&dir).unwrap();
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

/// The same for tree documents: unknown fields in every tree object
/// (the aggregations without fields of their own included), and null for
/// every optional tree field that is not a list defaulting to empty.
#[test]
fn tree_documents_with_unknown_fields_and_nulls_are_valid() {
    let v = validator();
    let json_of = |d: &ModelDoc| -> Value { serde_json::from_str(&io::to_json(d, false).unwrap()).unwrap() };
    let accepted = |d: &Value, what: &str| {
        assert_valid(&v, d, what);
        Model::from_json(d.to_string().as_bytes()).unwrap_or_else(|e| panic!("{what}: the engine refuses it: {e}"));
    };

    let mut d = json_of(&doc_rpart_single());
    d["format_version"] = json!("1.3");
    d["trees"]["future"] = json!({"any": "thing"});
    d["trees"]["aggregation"]["future"] = json!(1);
    d["trees"]["features"][1]["future"] = json!([]);
    d["trees"]["trees"][0]["future"] = json!(null);
    d["trees"]["trees"][0]["categories"][0]["future"] = json!(true);
    d["trees"]["trees"][0]["surrogates"]["future"] = json!("x");
    accepted(&d, "a 1.3 single-tree document with unknown fields");
    let mut d = json_of(&doc_ranger_prob_mean());
    d["trees"]["aggregation"]["weights"] = json!([0.5, 0.5]);
    accepted(&d, "a prob_mean aggregation with an unknown field");
    let mut d = json_of(&doc_gbm_bernoulli());
    d["trees"]["aggregation"]["shrinkage"] = json!(0.1);
    accepted(&d, "a sum aggregation with an unknown field");

    let mut d = json_of(&doc_random_forest_mean());
    d["trees"]["nan"] = Value::Null;
    d["trees"]["classes"] = Value::Null;
    d["trees"]["aggregation"]["bias"] = Value::Null;
    d["trees"]["features"][0]["levels"] = Value::Null;
    d["trees"]["features"][0]["code_offset"] = Value::Null;
    d["trees"]["features"][0]["unseen"] = Value::Null;
    for t in d["trees"]["trees"].as_array_mut().unwrap() {
        for key in ["missing", "probs", "matrix", "surrogates"] {
            t[key] = Value::Null;
        }
    }
    d["trees"]["trees"][1]["categories"] = Value::Null;
    accepted(&d, "a tree document with null optional fields");
    let mut d = json_of(&doc_random_forest_votes());
    d["trees"]["aggregation"]["cutoff"] = Value::Null;
    accepted(&d, "a votes aggregation with a null cutoff");
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

fn tree_fixture() -> Value {
    read_json(&repo_root().join("tests/testthat/fixtures/format-1.0/rpart-warpbreaks.json"))
}

#[test]
fn broken_tree_documents_are_invalid() {
    let v = validator();
    let gbm: Value = serde_json::from_str(&io::to_json(&doc_gbm_multinomial(), false).unwrap()).unwrap();
    let mut cases: Vec<(&str, Value)> = Vec::new();
    let mut d = tree_fixture();
    d["trees"]["aggregation"] = json!({"method": "median"});
    cases.push(("an aggregation with an unknown method", d));
    let mut d = tree_fixture();
    d["trees"]["aggregation"] = json!({"bias": [0.0, 1.0]});
    cases.push(("an aggregation without a method", d));
    let mut d = tree_fixture();
    d["trees"]["aggregation"] = json!("single");
    cases.push(("an aggregation that is not an object", d));
    let mut d = tree_fixture();
    d["trees"]["trees"][0].as_object_mut().unwrap().remove("feature");
    cases.push(("a tree without 'feature'", d));
    let mut d = tree_fixture();
    d["trees"]["trees"][0].as_object_mut().unwrap().remove("value");
    cases.push(("a tree without 'value'", d));
    let mut d = tree_fixture();
    d.as_object_mut().unwrap().remove("trees");
    cases.push(("kind 'trees' without a 'trees' section", d));
    let mut d = tree_fixture();
    d["trees"].as_object_mut().unwrap().remove("split");
    cases.push(("a tree section without a split rule", d));
    let mut d = tree_fixture();
    d["trees"]["split"] = json!("lte");
    cases.push(("an unknown split rule", d));
    let mut d = tree_fixture();
    d["trees"]["missing"] = json!("skip");
    cases.push(("an unknown missing rule", d));
    let mut d = tree_fixture();
    d["trees"]["nan"] = json!("ignore");
    cases.push(("an unknown NaN rule", d));
    let mut d = tree_fixture();
    d["trees"]["features"][1]["kind"] = json!("ordinal");
    cases.push(("an unknown feature kind", d));
    let mut d = tree_fixture();
    d["trees"]["features"][1].as_object_mut().unwrap().remove("input");
    cases.push(("a feature without an input", d));
    let mut d = tree_fixture();
    d["trees"]["features"][1]["unseen"] = json!("drop");
    cases.push(("an unknown unseen-level rule", d));
    let mut d = tree_fixture();
    d["trees"]["trees"][0]["left"] = Value::Null;
    cases.push(("'left' written as null (it may only be left out)", d));
    let mut d = tree_fixture();
    d["trees"]["trees"][0]["feature"][0] = json!(0.5);
    cases.push(("a fractional feature index", d));
    let mut d = tree_fixture();
    d["trees"]["trees"][0]["threshold"][0] = json!("43.5");
    cases.push(("a string threshold", d));
    let mut d = tree_fixture();
    d["trees"]["trees"][0]["categories"][0].as_object_mut().unwrap().remove("right");
    cases.push(("a category set without 'right'", d));
    let mut d = tree_fixture();
    d["trees"]["trees"][0]["categories"][0]["left"] = json!([-1]);
    cases.push(("a negative level code in a category set", d));
    let mut d = tree_fixture();
    d["trees"]["trees"][0]["surrogates"]["less_left"] = json!([1, 1, 0]);
    cases.push(("surrogate directions that are not booleans", d));
    let mut d = tree_fixture();
    d["trees"]["trees"][0]["surrogates"].as_object_mut().unwrap().remove("start");
    cases.push(("surrogates without 'start'", d));
    let mut d = tree_fixture();
    d["trees"]["classes"] = json!("L");
    cases.push(("classes that are not a list", d));
    let mut d = gbm.clone();
    d["trees"]["aggregation"].as_object_mut().unwrap().remove("init");
    cases.push(("a sum aggregation without init", d));
    let mut d = gbm.clone();
    d["trees"]["aggregation"]["n_classes"] = json!(-3);
    cases.push(("a negative number of classes", d));
    let mut d = gbm.clone();
    d["trees"]["aggregation"]["default_n_trees"] = json!("2");
    cases.push(("a string default_n_trees", d));
    let mut d = gbm.clone();
    d["trees"]["aggregation"]["method"] = json!("mean");
    d["trees"]["aggregation"]["bias"] = json!(0.5);
    cases.push(("a mean aggregation whose bias is not a list", d));
    let mut d = gbm;
    d["trees"]["trees"][0]["missing"] = json!([6, 4, -1, -1, -1, -1, "none"]);
    cases.push(("a missing child that is not a number", d));
    for (what, d) in &cases {
        check_refused(&v, d, what);
    }
}

// (f) boosted documents: every xgboost and LightGBM fixture, imported

/// Every booster fixture's model file, imported, is a document the schema
/// accepts, written compact and pretty, and reads back unchanged; together
/// they use every part of the boosted section.
#[test]
fn imported_boosted_documents_are_valid() {
    let v = validator();
    let dir = repo_root().join("tests").join("testthat").join("fixtures").join("boosters");
    let mut seen = std::collections::BTreeSet::new();
    let mut n = 0;
    for case in fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()) {
        let Ok(meta) = fs::read(case.join("case.json")) else { continue };
        let meta: Value = serde_json::from_slice(&meta).unwrap();
        let path = case.join(meta["model_file"].as_str().unwrap());
        let Ok(doc) = io::from_bytes(&fs::read(&path).unwrap()) else { continue };
        n += 1;
        for pretty in [false, true] {
            let text = io::to_json(&doc, pretty).unwrap();
            let value: Value = serde_json::from_str(&text).unwrap();
            assert_valid(&v, &value, &path.display().to_string());
            assert_eq!(io::from_bytes(text.as_bytes()).unwrap(), doc, "{}", path.display());
            let b = &value["boosted"];
            seen.insert(format!("{} {}", b["library"].as_str().unwrap(), b["booster"].as_str().unwrap()));
            seen.insert(format!("transform {}", b["transform"]["name"].as_str().unwrap()));
            for key in ["tree_weights", "linear", "average_output", "best_iteration"] {
                if b.get(key).is_some() {
                    seen.insert(key.to_string());
                }
            }
            for t in b["trees"].as_array().unwrap() {
                for key in ["missing", "categorical", "categories"] {
                    if t.get(key).is_some() {
                        seen.insert(key.to_string());
                    }
                }
                if t["threshold"].as_array().unwrap().iter().any(Value::is_string) {
                    seen.insert("infinite threshold".into());
                }
                if t["group"].as_u64().is_some_and(|g| g > 0) {
                    seen.insert("groups".into());
                }
            }
            if value["inputs"].as_array().unwrap().iter().any(|i| i["type"] == "factor") {
                seen.insert("factor inputs".into());
            }
        }
    }
    assert!(n >= 80, "only {n} booster fixtures imported");
    for want in [
        "xgboost gbtree",
        "xgboost dart",
        "xgboost gblinear",
        "lightgbm gbdt",
        "lightgbm dart",
        "lightgbm rf",
        "transform identity",
        "transform logistic",
        "transform exp",
        "transform hinge",
        "transform softmax",
        "transform argmax",
        "transform signed_square",
        "transform log1p_exp",
        "tree_weights",
        "linear",
        "average_output",
        "best_iteration",
        "missing",
        "categorical",
        "categories",
        "infinite threshold",
        "groups",
        "factor inputs",
    ] {
        assert!(seen.contains(want), "no imported document has '{want}'; found {seen:?}");
    }
}

#[test]
fn broken_boosted_documents_are_invalid() {
    let v = validator();
    let path = repo_root().join("tests/testthat/fixtures/boosters/xgb_categorical/model.json");
    let doc = io::from_bytes(&fs::read(path).unwrap()).unwrap();
    let good: Value = serde_json::from_str(&io::to_json(&doc, false).unwrap()).unwrap();
    assert_valid(&v, &good, "the imported document");
    type Edit = fn(&mut Value);
    let edits: Vec<(&str, Edit)> = vec![
        ("no boosted section", |d| {
            d.as_object_mut().unwrap().remove("boosted");
        }),
        ("an unknown transform", |d| d["boosted"]["transform"]["name"] = "probit".into()),
        ("default_left of 2", |d| d["boosted"]["trees"][0]["default_left"][0] = 2.into()),
        ("a threshold written as text", |d| d["boosted"]["trees"][0]["threshold"][0] = "NaN".into()),
        ("a missing type of 3", |d| d["boosted"]["trees"][0]["missing"] = json!([3])),
        ("a negative category code", |d| d["boosted"]["trees"][0]["categories"] = json!([[-1]])),
        ("no iterations", |d| {
            d["boosted"].as_object_mut().unwrap().remove("iterations");
        }),
        ("average_output null", |d| d["boosted"]["average_output"] = Value::Null),
    ];
    for (what, edit) in edits {
        let mut d = good.clone();
        edit(&mut d);
        check_refused(&v, &d, what);
    }
}
