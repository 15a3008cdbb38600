//! The JSON Schema in `inst/schema/fastpredict-model.schema.json` against
//! real documents: it must be a valid draft 2020-12 schema, accept the
//! format fixtures of every version, the models the R tests saved (when
//! `FASTPREDICT_SCHEMA_OUT` names their directory) and documents the engine
//! serializes from its own structs (linear, tree and glmnet models), and refuse a
//! few broken documents (`broken`). The engine's documents are built in
//! `documents`.

// A test may unwrap and panic: that is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod boosted;
mod broken;
#[path = "../common/mod.rs"]
mod common;
mod documents;

use std::collections::BTreeSet;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::{GzDecoder, MultiGzDecoder};
use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use serde_json::{json, Value};

use fastpredict_engine::format::{InputType, ModelDoc};
use fastpredict_engine::{io, Model};

use common::TempDir;
use documents::{
    doc_factors, doc_gbm_bernoulli, doc_gbm_multinomial, doc_random_forest_mean, doc_random_forest_votes,
    doc_ranger_prob_mean, doc_rpart_single, doc_splines, engine_documents,
};

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

/// Variable kinds the engine-built documents must cover.
const VARIABLE_KINDS: [&str; 10] = [
    "numeric",
    "poly",
    "poly_raw",
    "spline with projection",
    "spline without projection",
    "factor with contrasts",
    "factor without contrasts",
    "cut",
    "interaction",
    "logical",
];

/// Parts of the trees format the engine-built documents must cover.
const TREE_PARTS: [&str; 33] = [
    "method single",
    "method mean",
    "method mean with bias",
    "method votes",
    "method votes with cutoff",
    "method prob_mean",
    "method sum",
    "method sum with interleaved classes",
    "method vote_values",
    "method matrix_mean",
    "method survival",
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

#[test]
fn documents_written_by_the_engine_are_valid() {
    let v = validator();
    let mut kinds = BTreeSet::new();
    let mut tree_kinds = BTreeSet::new();
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
            variable_kinds(&value["linear"], &mut kinds);
            if value.get("trees").is_some() {
                tree_parts(&value["trees"], &mut tree_kinds);
                predicts_every_type(&model, what);
            }
            if let Some(g) = value.get("glmnet") {
                kinds.insert(format!("glmnet {}", g["family"].as_str().unwrap()));
                predicts_every_type(&model, what);
            }
        }
    }
    for k in ["glmnet lognet", "glmnet multnet", "glmnet elnet", "glmnet coxnet"] {
        assert!(kinds.contains(k), "no engine-built document is a '{k}'; found {kinds:?}");
    }
    for k in VARIABLE_KINDS {
        assert!(kinds.contains(k), "no engine-built document has a variable of kind '{k}'; found {kinds:?}");
    }
    for k in TREE_PARTS {
        assert!(tree_kinds.contains(k), "no engine-built tree document has '{k}'; found {tree_kinds:?}");
    }
    let first: Value = serde_json::from_str(&io::to_json(&engine_documents()[0].1, false).unwrap()).unwrap();
    assert!(first["linear"]["coefficients"].as_array().unwrap().iter().any(Value::is_null), "no aliased coefficient");
    assert!(!first["linear"]["offsets"].as_array().unwrap().is_empty(), "no offsets");
}

/// The kinds of a written `linear` section's variables (none when there is
/// no such section), for the coverage check.
fn variable_kinds(linear: &Value, seen: &mut BTreeSet<String>) {
    for var in linear["variables"].as_array().into_iter().flatten() {
        let mut k = var["kind"].as_str().unwrap().to_string();
        if k == "spline" {
            k += if var.get("projection").is_some() { " with projection" } else { " without projection" };
        }
        if k == "factor" {
            k += if var.get("contrasts").is_some() { " with contrasts" } else { " without contrasts" };
        }
        seen.insert(k);
    }
}

/// What a written `trees` section uses, by name, for the coverage check.
fn tree_parts(t: &Value, seen: &mut BTreeSet<String>) {
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

/// Every type a tree or glmnet model offers predicts, from a few rows with
/// values of each input (no missing values: some of these models refuse
/// them), and an offset where the model needs one.
fn predicts_every_type(m: &Model, what: &str) {
    use fastpredict_engine::{Column, Frame, Numbers, OutBuf, PredictOptions};
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
        let newoffset =
            (m.info().facts.get("offset") == Some(&json!(true))).then(|| Numbers { values: vec![0.5; n], dim: None });
        let opts = PredictOptions { type_: Some(t.clone()), newoffset, ..Default::default() };
        let job = m.prepare(&fr, &opts).unwrap_or_else(|e| panic!("{what}: type {t}: {e}"));
        // a buffer per part (a survival forest's prediction is a list)
        let shape = job.shape();
        let mut store: Vec<(bool, Vec<i32>, Vec<f64>)> = shape
            .parts()
            .iter()
            .map(|p| {
                if p.values.is_codes() {
                    (true, vec![0; p.len(n)], Vec::new())
                } else {
                    (false, Vec::new(), vec![0.0; p.len(n)])
                }
            })
            .collect();
        let bufs = store
            .iter_mut()
            .map(|(factor, ints, reals)| if *factor { OutBuf::Int(ints) } else { OutBuf::Real(reals) })
            .collect();
        job.run(bufs, 1).unwrap_or_else(|e| panic!("{what}: type {t}: {e}"));
    }
}

/// A compressed forest is written as several gzip members (FORMAT.md,
/// "Files, gzip and numbers"); read as one gzip text it is the same
/// document, valid, and the engine loads the file.
#[test]
fn split_gzip_tree_documents_are_valid() {
    let v = validator();
    let dir = TempDir::new("schema");
    for (name, d) in [("gbm.json.gz", doc_gbm_multinomial()), ("rf.json.gz", doc_random_forest_mean())] {
        let path = dir.path().join(name);
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
