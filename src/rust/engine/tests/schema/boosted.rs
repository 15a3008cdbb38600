//! (f) Boosted documents: every xgboost and LightGBM fixture, imported,
//! is valid and reads back unchanged; broken ones are refused.

use std::fs;

use serde_json::{json, Value};

use fastpredict_engine::{io, Model};

use crate::{assert_invalid, assert_valid, repo_root, validator};

/// `doc` must fail the schema, and the engine must refuse it too.
fn check_refused(v: &jsonschema::Validator, doc: &Value, what: &str) {
    assert_invalid(v, doc, what);
    assert!(
        Model::from_json(doc.to_string().as_bytes()).is_err(),
        "{what}: the schema refuses it but the engine loads it"
    );
}

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
