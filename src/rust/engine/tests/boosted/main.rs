//! Boosted models against the libraries themselves: every fixture in
//! `tests/testthat/fixtures/boosters/` (xgboost 1.7, 2.1 and 3.2 JSON
//! models, LightGBM 4.7 text models, written with the library's own
//! predictions by `tests/boosters/make-boosters.py`) is loaded from its
//! model file, recognised by content, and predicted for every call the
//! library recorded: bit for bit for xgboost, within 1e-12 relative for
//! LightGBM, on 1 and 2 threads, row by row and as a block, and again after
//! a round trip through the fastpredict format. Then bad files: truncated,
//! of an unknown version, with fields that do not fit the model's shape.
//!
//! `FASTPREDICT_BOOSTERS` names another fixture directory (the R test that
//! regenerates the fixtures with the libraries points it at its own).

// A test may unwrap and panic: that is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use fastpredict_engine::io::{self, SourceFormat};
use fastpredict_engine::{ColumnBuf, Error, FrameBuf, Model, PredictOptions, Prediction, Values};

fn fixtures() -> PathBuf {
    match std::env::var_os("FASTPREDICT_BOOSTERS") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/testthat/fixtures/boosters"),
    }
}

fn read(path: &Path) -> Vec<u8> {
    let raw = fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..]).read_to_end(&mut out).unwrap();
        out
    } else {
        raw
    }
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A fixture case.
struct Case {
    name: String,
    dir: PathBuf,
    meta: Value,
}

impl Case {
    fn new(name: &str) -> Case {
        let dir = fixtures().join(name);
        let meta = json(&dir.join("case.json"));
        Case { name: name.to_string(), dir, meta }
    }

    fn xgboost(&self) -> bool {
        self.meta["library"] == "xgboost"
    }

    fn model_path(&self) -> PathBuf {
        self.dir.join(self.meta["model_file"].as_str().unwrap())
    }
}

/// The case's rows as the model's inputs, by position: numbers, or for a
/// model that knows its category names, the names the library was given.
fn frame(case: &Case, model: &Model) -> (FrameBuf, usize) {
    let data = json(&case.dir.join("data.json"));
    let cols = data["columns"].as_object().unwrap();
    let num = |v: &Value| match v {
        Value::Null => f64::NAN,
        Value::String(s) if s == "Infinity" => f64::INFINITY,
        Value::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
        v => v.as_f64().unwrap(),
    };
    assert_eq!(cols.len(), model.inputs().len(), "{}: columns of data.json against the model's inputs", case.name);
    let mut f = FrameBuf::new();
    let mut n = 0;
    for (j, input) in model.inputs().iter().enumerate() {
        // by the model's name, else by position (LightGBM's Column_j is f{j})
        let name = if cols.contains_key(&input.name) { input.name.clone() } else { format!("f{j}") };
        let values = cols[&name].as_array().unwrap();
        n = values.len();
        if input.levels.is_some() {
            let names = data["category_values"][&name].as_array().unwrap();
            f.push(input.name.clone(), ColumnBuf::Str(names.iter().map(|v| v.as_str().map(String::from)).collect()));
        } else {
            f.push(input.name.clone(), ColumnBuf::Real(values.iter().map(num).collect()));
        }
    }
    (f, n)
}

/// The options of a recorded call (its `spec`).
fn options(spec: &Value) -> PredictOptions {
    let mut o = PredictOptions::default();
    if let Some(api) = spec["api"].as_str() {
        o.type_ = Some(if spec["type"] == "margin" { "margin" } else { "response" }.into());
        o.dmatrix = Some(api == "dmatrix");
        if let Some(r) = spec["iteration_range"].as_array() {
            o.iteration_range = Some((r[0].as_u64().unwrap() as usize, r[1].as_u64().unwrap() as usize));
        }
    } else {
        o.type_ = Some(if spec["raw_score"] == true { "raw" } else { "response" }.into());
        o.start_iteration = spec["start_iteration"].as_i64();
        o.num_iteration = spec["num_iteration"].as_i64();
    }
    o
}

fn predict(model: &Model, frame: &FrameBuf, opts: &PredictOptions, threads: usize) -> Prediction {
    let f = frame.frame();
    let p = model.prepare(&f, opts).unwrap().predict(threads).unwrap();
    p
}

/// Values of a one-part prediction, row-major (as the libraries write them).
fn row_major(p: &Prediction) -> Vec<f64> {
    let Values::Real(v) = &p.parts[0] else { panic!("not real values") };
    let n = p.nrows;
    let k = v.len().checked_div(n).unwrap_or(0);
    (0..n).flat_map(|r| (0..k).map(move |c| (r, c))).map(|(r, c)| v[c * n + r]).collect()
}

fn same(a: f64, b: f64, exact: bool) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if exact {
        a.to_bits() == b.to_bits() || a == b
    } else {
        a == b || (a - b).abs() <= 1e-12 * b.abs()
    }
}

/// Rows `rows` of `frame`.
fn rows(frame: &FrameBuf, rows: std::ops::Range<usize>) -> FrameBuf {
    let mut f = FrameBuf::new();
    for (n, c) in frame.names().iter().zip(frame.columns()) {
        f.push(
            n.clone(),
            match c {
                ColumnBuf::Real(v) => ColumnBuf::Real(v[rows.clone()].to_vec()),
                ColumnBuf::Str(v) => ColumnBuf::Str(v[rows.clone()].to_vec()),
                _ => unreachable!(),
            },
        );
    }
    f
}

/// Every recorded call of a case, every way.
fn check_case(name: &str) {
    let case = Case::new(name);
    let expected = json(&case.dir.join("expected.json"));
    let model = Model::load(&case.model_path()).unwrap_or_else(|e| panic!("{name}: {e}"));
    // the same model through the fastpredict format
    let text = io::to_json(model.doc(), false).unwrap();
    let again = Model::from_json(text.as_bytes()).unwrap_or_else(|e| panic!("{name}: the saved document: {e}"));
    let (frame, n) = frame(&case, &model);
    let exact = case.xgboost();
    let mut failures = Vec::new();
    for e in expected["predictions"].as_array().unwrap() {
        let call = e["name"].as_str().unwrap();
        let opts = options(&e["spec"]);
        let want: Vec<f64> = e["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| if v.is_null() { f64::NAN } else { v.as_f64().unwrap() })
            .collect();
        let got = predict(&model, &frame, &opts, 1);
        let got_v = row_major(&got);
        if got_v.len() != want.len() {
            failures.push(format!("{call}: {} values, the library {}", got_v.len(), want.len()));
            continue;
        }
        let bad: Vec<usize> = (0..want.len()).filter(|&i| !same(got_v[i], want[i], exact)).collect();
        if let Some(&i) = bad.first() {
            failures.push(format!(
                "{call}: {} of {} differ; first at {i}: fastpredict {:e}, the library {:e}",
                bad.len(),
                want.len(),
                got_v[i],
                want[i]
            ));
            continue;
        }
        // 2 threads, the saved document, and rows one at a time (the
        // single-row path) give the same bits
        for (what, other) in [
            ("2 threads", predict(&model, &frame, &opts, 2)),
            ("the saved document", predict(&again, &frame, &opts, 2)),
        ] {
            if row_major(&other).iter().zip(&got_v).any(|(a, b)| a.to_bits() != b.to_bits()) {
                failures.push(format!("{call}: {what} differs"));
            }
        }
        let width = got_v.len() / n.max(1);
        for r in 0..n.min(11) {
            let one = row_major(&predict(&model, &rows(&frame, r..r + 1), &opts, 1));
            if one.iter().zip(&got_v[r * width..(r + 1) * width]).any(|(a, b)| a.to_bits() != b.to_bits()) {
                failures.push(format!("{call}: row {r} alone differs"));
                break;
            }
        }
    }
    assert!(failures.is_empty(), "{name}:\n  {}", failures.join("\n  "));
}

macro_rules! fixture_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check_case(stringify!($name));
            }
        )*
        const CASES: &[&str] = &[$(stringify!($name)),*];
    };
}

fixture_tests!(
    lgb_bench_500,
    lgb_binary,
    lgb_binary_sigmoid,
    lgb_categorical,
    lgb_categorical_multiclass,
    lgb_constant_tree,
    lgb_cross_entropy,
    lgb_cross_entropy_lambda,
    lgb_dart,
    lgb_dart_binary,
    lgb_fair,
    lgb_gamma,
    lgb_huber,
    lgb_lambdarank,
    lgb_mape,
    lgb_missing_nan_default_left,
    lgb_missing_none,
    lgb_missing_zero,
    lgb_multiclass,
    lgb_multiclassova,
    lgb_one_tree,
    lgb_pandas_categorical,
    lgb_poisson,
    lgb_quantile,
    lgb_regression,
    lgb_regression_l1,
    lgb_regression_sqrt,
    lgb_rf,
    lgb_rf_binary,
    lgb_tweedie,
    xgb17_binary_logistic,
    xgb17_categorical,
    xgb17_count_poisson,
    xgb17_dart,
    xgb17_gblinear,
    xgb17_multi_softprob,
    xgb17_reg_squarederror,
    xgb17_rf_binary,
    xgb21_binary_logistic,
    xgb21_categorical,
    xgb21_count_poisson,
    xgb21_dart,
    xgb21_gblinear,
    xgb21_multi_softprob,
    xgb21_reg_squarederror,
    xgb21_rf_binary,
    xgb_bench_500,
    xgb_binary_hinge,
    xgb_binary_logistic,
    xgb_binary_logistic_base_score,
    xgb_binary_logitraw,
    xgb_categorical,
    xgb_categorical_multi,
    xgb_count_poisson,
    xgb_dart,
    xgb_dart_binary,
    xgb_depth8,
    xgb_feature_names,
    xgb_gblinear,
    xgb_gblinear_logistic,
    xgb_gblinear_multiclass,
    xgb_lossguide,
    xgb_multi_parallel,
    xgb_multi_softmax,
    xgb_multi_softprob,
    xgb_multi_target,
    xgb_one_tree,
    xgb_pandas_categorical,
    xgb_quantile_3alpha,
    xgb_rank_ndcg,
    xgb_rank_pairwise,
    xgb_reg_absoluteerror,
    xgb_reg_gamma,
    xgb_reg_logistic,
    xgb_reg_pseudohubererror,
    xgb_reg_squarederror,
    xgb_reg_squarederror_base_score,
    xgb_reg_squaredlogerror,
    xgb_reg_tweedie,
    xgb_rf_binary,
    xgb_survival_aft,
    xgb_survival_cox,
);

/// Cases the engine refuses by name (the fixture records the library's
/// predictions for a later implementation).
const REFUSED: &[(&str, &str)] = &[("lgb_linear_tree", "linear trees")];

#[test]
fn every_fixture_case_is_tested() {
    let mut dirs: Vec<String> = fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| fixtures().join(n).join("case.json").exists())
        .collect();
    dirs.sort();
    let mut listed: Vec<String> = CASES.iter().chain(REFUSED.iter().map(|r| &r.0)).map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(dirs, listed, "the fixture directories and the cases tested here differ");
}

#[test]
fn refused_fixtures_are_refused_by_name() {
    for (name, what) in REFUSED {
        let case = Case::new(name);
        match Model::load(&case.model_path()) {
            Err(e @ Error::Unsupported { .. }) => assert!(e.to_string().contains(what), "{name}: {e}"),
            Err(e) => panic!("{name}: refused, but as {}: {e}", e.kind()),
            Ok(_) => panic!("{name} loads, but fastpredict does not reproduce it"),
        }
    }
}

/// The explicit import entry agrees with recognition by content, and a
/// file of the wrong format is refused.
#[test]
fn import_by_format() {
    let x = read(&Case::new("xgb_binary_logistic").model_path());
    let l = read(&Case::new("lgb_binary").model_path());
    assert_eq!(io::import(&x, SourceFormat::Xgboost).unwrap(), io::from_bytes(&x).unwrap());
    assert_eq!(io::import(&l, SourceFormat::Lightgbm).unwrap(), io::from_bytes(&l).unwrap());
    for (bytes, format) in [(&x, SourceFormat::Lightgbm), (&l, SourceFormat::Xgboost)] {
        let e = io::import(bytes, format).unwrap_err();
        assert_eq!(e.kind(), "corrupt_file", "{e}");
    }
    // gzip is recognised too
    let gz = fs::read(Case::new("xgb_bench_500").model_path()).unwrap();
    assert!(gz.starts_with(&[0x1f, 0x8b]));
    assert_eq!(io::import(&gz, SourceFormat::Xgboost).unwrap(), io::from_bytes(&gz).unwrap());
}

/// Random rows (at the models' thresholds, next to them, missing, infinite,
/// negative and unseen category codes) predict the same on 1 and 2 threads,
/// in one block and one row at a time (the single-row path walks several
/// trees at once, a block several rows).
#[test]
fn random_rows_predict_alike_every_way() {
    use proptest::prelude::*;
    let models: Vec<(Case, Model)> =
        ["xgb_bench_500", "xgb_categorical_multi", "lgb_categorical", "lgb_missing_zero", "xgb_lossguide"]
            .iter()
            .map(|n| {
                let c = Case::new(n);
                let m = Model::load(&c.model_path()).unwrap();
                (c, m)
            })
            .collect();
    // candidate values per model: the data's own, their neighbours, specials
    let pools: Vec<Vec<f64>> = models
        .iter()
        .map(|(c, m)| {
            let (f, _) = frame(c, m);
            let mut pool: Vec<f64> = f
                .columns()
                .iter()
                .flat_map(|c| match c {
                    ColumnBuf::Real(v) => v.clone(),
                    _ => Vec::new(),
                })
                .filter(|v| v.is_finite())
                .take(400)
                .collect();
            let n = pool.len();
            for i in 0..n {
                pool.push(f64::from_bits(pool[i].to_bits() + 1));
                pool.push(f64::from(pool[i] as f32));
            }
            pool.extend([f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0, 1e-36, -1e-36, -1.0, 1e6, 2.5]);
            pool
        })
        .collect();
    let strategy = (0..models.len(), proptest::collection::vec(any::<u32>(), 1..200));
    proptest::test_runner::TestRunner::new(common::config(24))
        .run(&strategy, |(which, picks)| {
            let (_, m) = &models[which];
            let pool = &pools[which];
            let p = m.inputs().len();
            let n = picks.len() / p + 1;
            let mut f = FrameBuf::new();
            for (j, input) in m.inputs().iter().enumerate() {
                let col = (0..n).map(|r| pool[picks[(r * p + j) % picks.len()] as usize % pool.len()]).collect();
                f.push(input.name.clone(), ColumnBuf::Real(col));
            }
            for ty in m.info().types.iter() {
                let opts = PredictOptions { type_: Some(ty.as_str().into()), ..Default::default() };
                let one = predict(m, &f, &opts, 1);
                prop_assert_eq!(&predict(m, &f, &opts, 2), &one);
                let w = row_major(&one).len() / n;
                for r in 0..n {
                    let alone = row_major(&predict(m, &rows(&f, r..r + 1), &opts, 1));
                    prop_assert_eq!(
                        alone.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                        row_major(&one)[r * w..(r + 1) * w].iter().map(|v| v.to_bits()).collect::<Vec<_>>()
                    );
                }
            }
            Ok(())
        })
        .unwrap();
}

// ---------------------------------------------------------------------------
// bad files

/// The error of loading `bytes` (written to a file, so that it names it).
fn load_error(bytes: &[u8], what: &str) -> Error {
    let dir = common::TempDir::new("boosted-bad");
    let path = dir.path().join("model.bin");
    fs::write(&path, bytes).unwrap();
    match Model::load(&path) {
        Ok(_) => panic!("{what}: loads"),
        Err(e) => {
            if let Error::CorruptFile { file, .. } = &e {
                assert!(file.ends_with("model.bin"), "{what}: the error names no file: {e}");
            }
            e
        }
    }
}

fn expect(e: &Error, kind: &str, words: &[&str], what: &str) {
    assert_eq!(e.kind(), kind, "{what}: {e}");
    let msg = e.to_string();
    for w in words {
        assert!(msg.contains(w), "{what}: '{msg}' does not say '{w}'");
    }
}

fn xgb_model(name: &str) -> Value {
    serde_json::from_slice(&read(&Case::new(name).model_path())).unwrap()
}

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

#[test]
fn truncated_files_are_corrupt() {
    for name in ["xgb_binary_logistic", "xgb17_categorical", "lgb_binary", "lgb_categorical"] {
        let full = read(&Case::new(name).model_path());
        for frac in [0.1, 0.5, 0.9, 0.999] {
            let cut = &full[..(full.len() as f64 * frac) as usize];
            let e = load_error(cut, name);
            assert_eq!(e.kind(), "corrupt_file", "{name} cut at {frac}: {e}");
        }
    }
}

#[test]
fn unknown_versions_are_unsupported() {
    let mut m = xgb_model("xgb_binary_logistic");
    m["version"] = serde_json::json!([4, 0, 0]);
    expect(&load_error(&bytes(&m), "xgboost 4"), "unsupported", &["version", "4.0.0"], "xgboost 4");
    let text = String::from_utf8(read(&Case::new("lgb_binary").model_path())).unwrap();
    let v2 = text.replacen("version=v4", "version=v2", 1);
    expect(&load_error(v2.as_bytes(), "LightGBM v2"), "unsupported", &["v2"], "LightGBM v2");
}

#[test]
fn xgboost_fields_that_do_not_fit_are_named() {
    type Edit = fn(&mut Value);
    let cases: Vec<(&str, Edit, &str, &[&str])> = vec![
        (
            "a short left_children",
            |m| {
                let t = &mut m["learner"]["gradient_booster"]["model"]["trees"][0]["left_children"];
                t.as_array_mut().unwrap().pop();
            },
            "corrupt_file",
            &["trees[0].left_children"],
        ),
        (
            "a child out of range",
            |m| m["learner"]["gradient_booster"]["model"]["trees"][1]["left_children"][0] = serde_json::json!(9999),
            "corrupt_file",
            &["trees[1].left_children[0]"],
        ),
        (
            "right_children not left + 1",
            |m| m["learner"]["gradient_booster"]["model"]["trees"][0]["right_children"][0] = serde_json::json!(5),
            "corrupt_file",
            &["trees[0].right_children[0]", "left_children[0] + 1"],
        ),
        (
            "a feature out of range",
            |m| m["learner"]["gradient_booster"]["model"]["trees"][2]["split_indices"][0] = serde_json::json!(60),
            "corrupt_file",
            &["trees[2].split_indices[0]"],
        ),
        (
            "tree_info of the wrong length",
            |m| {
                m["learner"]["gradient_booster"]["model"]["tree_info"].as_array_mut().unwrap().pop();
            },
            "corrupt_file",
            &["tree_info"],
        ),
        (
            "a class beyond the outputs",
            |m| m["learner"]["gradient_booster"]["model"]["tree_info"][0] = serde_json::json!(3),
            "corrupt_file",
            &["tree_info[0]"],
        ),
        (
            "num_trees that is not the count",
            |m| m["learner"]["gradient_booster"]["model"]["gbtree_model_param"]["num_trees"] = "7".into(),
            "corrupt_file",
            &["num_trees"],
        ),
        (
            "a base_score of two values",
            |m| m["learner"]["learner_model_param"]["base_score"] = "[1E-1,2E-1]".into(),
            "corrupt_file",
            &["base_score"],
        ),
        (
            "a text num_feature",
            |m| m["learner"]["learner_model_param"]["num_feature"] = "many".into(),
            "corrupt_file",
            &["num_feature"],
        ),
        (
            "an unknown objective",
            |m| m["learner"]["objective"]["name"] = "reg:future".into(),
            "unsupported",
            &["reg:future"],
        ),
        (
            "an unknown booster",
            |m| m["learner"]["gradient_booster"]["name"] = "gbforest".into(),
            "unsupported",
            &["gbforest"],
        ),
        (
            "multi-output trees",
            |m| m["learner"]["gradient_booster"]["model"]["trees"][0]["tree_param"]["size_leaf_vector"] = "2".into(),
            "unsupported",
            &["multi-output trees"],
        ),
        (
            "a threshold that is not a number",
            |m| m["learner"]["gradient_booster"]["model"]["trees"][0]["split_conditions"][0] = "x".into(),
            "corrupt_file",
            &["trees[0].split_conditions"],
        ),
        (
            "a tree that is not an object",
            |m| m["learner"]["gradient_booster"]["model"]["trees"][3] = serde_json::json!([1, 2]),
            "corrupt_file",
            &["trees[3]"],
        ),
        (
            "no learner",
            |m| {
                m.as_object_mut().unwrap().remove("learner");
            },
            "corrupt_file",
            &["learner"],
        ),
    ];
    for (what, edit, kind, words) in cases {
        let mut m = xgb_model("xgb_binary_logistic");
        edit(&mut m);
        expect(&load_error(&bytes(&m), what), kind, words, what);
    }
    // categorical sets that point outside their arrays
    let mut m = xgb_model("xgb_categorical");
    m["learner"]["gradient_booster"]["model"]["trees"][0]["categories_sizes"][0] = serde_json::json!(100000);
    expect(&load_error(&bytes(&m), "sizes"), "corrupt_file", &["categories_sizes[0]"], "categories_sizes");
    // a dart model whose weights do not match its trees
    let mut m = xgb_model("xgb_dart");
    m["learner"]["gradient_booster"]["weight_drop"].as_array_mut().unwrap().pop();
    expect(&load_error(&bytes(&m), "dart"), "corrupt_file", &["weight_drop"], "weight_drop");
    // gblinear weights of the wrong count
    let mut m = xgb_model("xgb_gblinear");
    m["learner"]["gradient_booster"]["model"]["weights"].as_array_mut().unwrap().pop();
    expect(&load_error(&bytes(&m), "gblinear"), "corrupt_file", &["weights"], "gblinear weights");
    // a UBJSON file is refused by name
    let ubj = b"{L\x00\x00\x00\x00\x00\x00\x00\x07learner{";
    expect(&load_error(ubj, "ubjson"), "unsupported", &["UBJSON"], "UBJSON");
}

#[test]
fn lightgbm_fields_that_do_not_fit_are_named() {
    let text = String::from_utf8(read(&Case::new("lgb_categorical").model_path())).unwrap();
    let replace_line = |key: &str, f: &dyn Fn(&str) -> String| -> String {
        let mut done = false;
        text.lines()
            .map(|l| match l.strip_prefix(key) {
                Some(rest) if !done && rest.starts_with('=') => {
                    done = true;
                    format!("{key}={}", f(&rest[1..]))
                }
                _ => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let drop_last = |v: &str| v.rsplit_once(' ').map_or(String::new(), |(a, _)| a.to_string());
    let cases: Vec<(&str, String, &str, &[&str])> = vec![
        ("a short threshold list", replace_line("threshold", &drop_last), "corrupt_file", &["tree 0", "'threshold'"]),
        (
            "a short leaf_value list",
            replace_line("leaf_value", &drop_last),
            "corrupt_file",
            &["tree 0", "'leaf_value'"],
        ),
        (
            "a child out of range",
            replace_line("left_child", &|v| v.replacen('3', "99", 1)),
            "corrupt_file",
            &["left_child"],
        ),
        (
            "a feature out of range",
            replace_line("split_feature", &|v| format!("77 {}", v.split_once(' ').unwrap().1)),
            "corrupt_file",
            &["split_feature"],
        ),
        (
            "a bad decision_type",
            replace_line("decision_type", &|_| "15 ".repeat(14)),
            "corrupt_file",
            &["decision_type"],
        ),
        ("a missing num_leaves", text.replacen("num_leaves=", "num_lea=", 1), "corrupt_file", &["'num_leaves'"]),
        (
            "cat_boundaries past cat_threshold",
            replace_line("cat_boundaries", &|v| v.replace(' ', " 9")),
            "corrupt_file",
            &["cat_"],
        ),
        ("an unknown objective", replace_line("objective", &|_| "future_loss".into()), "unsupported", &["future_loss"]),
        ("no end of trees", text.replace("end of trees", ""), "corrupt_file", &["end of trees"]),
        ("a wrong feature count", replace_line("max_feature_idx", &|_| "9".into()), "corrupt_file", &["feature_names"]),
    ];
    for (what, bad, kind, words) in cases {
        expect(&load_error(bad.as_bytes(), what), kind, words, what);
    }
}

/// Every model refuses the options of the other library, and out-of-range
/// iteration ranges, as the library does.
#[test]
fn call_options_are_checked() {
    let x = Model::load(&Case::new("xgb_binary_logistic").model_path()).unwrap();
    let l = Model::load(&Case::new("lgb_binary").model_path()).unwrap();
    let (fx, _) = frame(&Case::new("xgb_binary_logistic"), &x);
    let (fl, _) = frame(&Case::new("lgb_binary"), &l);
    let err = |m: &Model, f: &FrameBuf, o: PredictOptions| m.prepare(&f.frame(), &o).err().unwrap().kind();
    let rounds = x.info().facts["n_rounds"].as_u64().unwrap() as usize;
    let o = |r: (usize, usize)| PredictOptions { iteration_range: Some(r), ..Default::default() };
    assert_eq!(err(&x, &fx, o((0, rounds + 1))), "bad_argument");
    assert_eq!(err(&x, &fx, o((3, 2))), "bad_argument");
    assert_eq!(err(&x, &fx, PredictOptions { num_iteration: Some(3), ..Default::default() }), "bad_argument");
    assert_eq!(err(&l, &fl, PredictOptions { iteration_range: Some((0, 1)), ..Default::default() }), "bad_argument");
    assert_eq!(err(&x, &fx, PredictOptions { type_: Some("raw".into()), ..Default::default() }), "bad_argument");
    // ntree_limit is iteration_range (0, ntree_limit / num_parallel_tree)
    let a = predict(&x, &fx, &PredictOptions { ntree_limit: Some(7), ..Default::default() }, 1);
    let b = predict(&x, &fx, &o((0, 7)), 1);
    assert_eq!(a, b);
    let rf = Model::load(&Case::new("xgb_rf_binary").model_path()).unwrap();
    let (frf, _) = frame(&Case::new("xgb_rf_binary"), &rf);
    let per = rf.info().facts["n_trees"].as_u64().unwrap() / rf.info().facts["n_rounds"].as_u64().unwrap();
    let a = predict(&rf, &frf, &PredictOptions { ntree_limit: Some(3 * per as usize + 1), ..Default::default() }, 1);
    let b = predict(&rf, &frf, &o((0, 3)), 1);
    assert_eq!(a, b);
    // LightGBM clamps start and num
    let all = predict(&l, &fl, &PredictOptions::default(), 1);
    let big = predict(
        &l,
        &fl,
        &PredictOptions { num_iteration: Some(1 << 40), start_iteration: Some(-5), ..Default::default() },
        1,
    );
    assert_eq!(all, big);
}

// ---------------------------------------------------------------------------
// expf and logf: xgboost calls the C library's; the engine calls them
// through Rust's f32::exp and f32::ln (see boosted/transform.rs)

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod c_library {
    extern "C" {
        fn expf(x: f32) -> f32;
        fn logf(x: f32) -> f32;
    }

    /// Floats whose `f32::exp` and `f32::ln` differ from the C library's,
    /// and those where the `libm` crate's do, over the bit patterns
    /// `0, step, 2 step, ...`.
    pub fn differences(step: usize) -> [usize; 4] {
        let mut n = [0; 4];
        let differ = |a: f32, b: f32| a.to_bits() != b.to_bits() && !(a.is_nan() && b.is_nan());
        for bits in (0..=u32::MAX).step_by(step) {
            let x = f32::from_bits(bits);
            // SAFETY: expf and logf are pure C functions of one float
            let (e, l) = unsafe { (expf(x), logf(x)) };
            n[0] += usize::from(differ(x.exp(), e));
            n[1] += usize::from(differ(x.ln(), l));
            n[2] += usize::from(differ(libm::expf(x), e));
            n[3] += usize::from(differ(libm::logf(x), l));
        }
        n
    }
}

/// Rust's f32::exp and f32::ln are the C library's expf and logf (on a
/// sweep of a million floats here; `expf_exhaustive` checks all of them).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn expf_is_the_c_library_s() {
    let n = c_library::differences(4093);
    assert_eq!(n[..2], [0, 0], "f32::exp / f32::ln differ from glibc's expf / logf");
}

/// All 2^32 floats (7 minutes with --release here): run with
/// `cargo test --release --test boosted -- --ignored expf_exhaustive --nocapture`.
/// On glibc 2.36: f32::exp and f32::ln equal expf and logf everywhere; the
/// libm crate's expf differs on 19,194,594 floats and its logf on
/// 13,575,147 (of 4,294,967,296).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
#[ignore]
fn expf_exhaustive() {
    let n = c_library::differences(1);
    println!("differ from glibc: f32::exp {}, f32::ln {}, libm::expf {}, libm::logf {}", n[0], n[1], n[2], n[3]);
    assert_eq!(n[..2], [0, 0]);
}
