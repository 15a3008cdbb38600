//! (e) Broken documents: the schema refuses each, and so does the engine.

use jsonschema::Validator;
use serde_json::{json, Value};

use fastpredict_engine::{io, Model};

use crate::documents::{doc_gbm_multinomial, doc_glmnet_multnet, doc_made_factors, doc_ranger_survival, doc_responses};
use crate::{assert_invalid, errors, read_json, repo_root, validator};

fn base_fixture() -> Value {
    read_json(&repo_root().join("tests/testthat/fixtures/format-1.0/lm-mtcars.json"))
}

fn tree_fixture() -> Value {
    read_json(&repo_root().join("tests/testthat/fixtures/format-1.0/rpart-warpbreaks.json"))
}

/// `base` changed by `edit`, described by `what`.
fn broken(base: &Value, what: &'static str, edit: impl FnOnce(&mut Value)) -> (&'static str, Value) {
    let mut d = base.clone();
    edit(&mut d);
    (what, d)
}

fn drop_key(object: &mut Value, key: &str) {
    object.as_object_mut().unwrap().remove(key);
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
    let b = base_fixture();
    let cases = [
        broken(&b, "a newer major version", |d| d["format_version"] = json!("2.0")),
        broken(&b, "another format", |d| d["format"] = json!("something-else")),
        broken(&b, "kind 'linear' without a 'linear' section", |d| drop_key(d, "linear")),
        broken(&b, "an unknown variable kind", |d| d["linear"]["variables"][0]["kind"] = json!("cubic")),
        broken(&b, "a poly variable without norm2", |d| drop_key(&mut d["linear"]["variables"][2], "norm2")),
        broken(&b, "an unknown expression op", |d| d["linear"]["variables"][3]["expr"]["op"] = json!("sin")),
        broken(&b, "an unknown factor coding", |d| d["linear"]["terms"][1]["factors"][0]["coding"] = json!("dummy")),
        broken(&b, "an unknown input type", |d| d["inputs"][1]["type"] = json!("integer")),
        broken(&b, "a negative column index", |d| d["linear"]["terms"][0]["columns"][0] = json!(-1)),
        broken(&b, "extensions that are not an object", |d| d["extensions"] = json!([1, 2])),
    ];
    for (what, d) in &cases {
        check_refused(&v, d, what);
    }
}

/// The parts of format 1.6's linear section, broken one at a time.
#[test]
fn broken_made_factors_and_responses_are_invalid() {
    let v = validator();
    let m: Value = serde_json::from_str(&io::to_json(&doc_made_factors(), false).unwrap()).unwrap();
    let r: Value = serde_json::from_str(&io::to_json(&doc_responses(), false).unwrap()).unwrap();
    let cases = [
        broken(&m, "a cut without breaks", |d| drop_key(&mut d["linear"]["variables"][0], "breaks")),
        broken(&m, "a cut whose 'right' is a string", |d| d["linear"]["variables"][0]["right"] = json!("yes")),
        broken(&m, "an interaction without components", |d| drop_key(&mut d["linear"]["variables"][1], "components")),
        broken(&m, "a logical variable without 'arg'", |d| drop_key(&mut d["linear"]["variables"][2], "arg")),
        broken(&m, "an unknown comparison op", |d| d["linear"]["variables"][2]["arg"]["op"] = json!("xor")),
        broken(&r, "responses without a count", |d| drop_key(&mut d["linear"]["responses"], "count")),
        broken(&r, "a negative number of responses", |d| d["linear"]["responses"]["count"] = json!(-2)),
    ];
    for (what, d) in &cases {
        check_refused(&v, d, what);
    }
}

/// Format 1.6's survival aggregation, broken.
fn broken_survival_documents() -> Vec<(&'static str, Value)> {
    let s: Value = serde_json::from_str(&io::to_json(&doc_ranger_survival(), false).unwrap()).unwrap();
    vec![
        broken(&s, "a survival aggregation without times", |d| drop_key(&mut d["trees"]["aggregation"], "times")),
        broken(&s, "survival times that are strings", |d| d["trees"]["aggregation"]["times"] = json!(["5", "12.5"])),
        broken(&s, "vote_values without values", |d| d["trees"]["aggregation"] = json!({"method": "vote_values"})),
    ]
}

/// The trees section of an rpart fixture, broken one field at a time.
fn broken_tree_sections() -> Vec<(&'static str, Value)> {
    let t = tree_fixture();
    vec![
        broken(&t, "an aggregation with an unknown method", |d| {
            d["trees"]["aggregation"] = json!({"method": "median"})
        }),
        broken(&t, "an aggregation without a method", |d| d["trees"]["aggregation"] = json!({"bias": [0.0, 1.0]})),
        broken(&t, "an aggregation that is not an object", |d| d["trees"]["aggregation"] = json!("single")),
        broken(&t, "a tree without 'feature'", |d| drop_key(&mut d["trees"]["trees"][0], "feature")),
        broken(&t, "a tree without 'value'", |d| drop_key(&mut d["trees"]["trees"][0], "value")),
        broken(&t, "kind 'trees' without a 'trees' section", |d| drop_key(d, "trees")),
        broken(&t, "a tree section without a split rule", |d| drop_key(&mut d["trees"], "split")),
        broken(&t, "an unknown split rule", |d| d["trees"]["split"] = json!("lte")),
        broken(&t, "an unknown missing rule", |d| d["trees"]["missing"] = json!("skip")),
        broken(&t, "an unknown NaN rule", |d| d["trees"]["nan"] = json!("ignore")),
        broken(&t, "an unknown feature kind", |d| d["trees"]["features"][1]["kind"] = json!("ordinal")),
        broken(&t, "a feature without an input", |d| drop_key(&mut d["trees"]["features"][1], "input")),
        broken(&t, "an unknown unseen-level rule", |d| d["trees"]["features"][1]["unseen"] = json!("drop")),
        broken(&t, "'left' written as null (it may only be left out)", |d| {
            d["trees"]["trees"][0]["left"] = Value::Null
        }),
        broken(&t, "a fractional feature index", |d| d["trees"]["trees"][0]["feature"][0] = json!(0.5)),
        broken(&t, "a string threshold", |d| d["trees"]["trees"][0]["threshold"][0] = json!("43.5")),
        broken(&t, "a category set without 'right'", |d| {
            drop_key(&mut d["trees"]["trees"][0]["categories"][0], "right")
        }),
        broken(&t, "a negative level code in a category set", |d| {
            d["trees"]["trees"][0]["categories"][0]["left"] = json!([-1])
        }),
        broken(&t, "surrogate directions that are not booleans", |d| {
            d["trees"]["trees"][0]["surrogates"]["less_left"] = json!([1, 1, 0])
        }),
        broken(&t, "surrogates without 'start'", |d| drop_key(&mut d["trees"]["trees"][0]["surrogates"], "start")),
        broken(&t, "classes that are not a list", |d| d["trees"]["classes"] = json!("L")),
    ]
}

/// A gbm document's sum aggregation and distinct missing children, broken.
fn broken_gbm_documents() -> Vec<(&'static str, Value)> {
    let g: Value = serde_json::from_str(&io::to_json(&doc_gbm_multinomial(), false).unwrap()).unwrap();
    vec![
        broken(&g, "a sum aggregation without init", |d| drop_key(&mut d["trees"]["aggregation"], "init")),
        broken(&g, "a negative number of classes", |d| d["trees"]["aggregation"]["n_classes"] = json!(-3)),
        broken(&g, "a string default_n_trees", |d| d["trees"]["aggregation"]["default_n_trees"] = json!("2")),
        broken(&g, "a mean aggregation whose bias is not a list", |d| {
            d["trees"]["aggregation"]["method"] = json!("mean");
            d["trees"]["aggregation"]["bias"] = json!(0.5);
        }),
        broken(&g, "a missing child that is not a number", |d| {
            d["trees"]["trees"][0]["missing"] = json!([6, 4, -1, -1, -1, -1, "none"])
        }),
    ]
}

#[test]
fn broken_tree_documents_are_invalid() {
    let v = validator();
    let cases = [broken_tree_sections(), broken_gbm_documents(), broken_survival_documents()].concat();
    for (what, d) in &cases {
        check_refused(&v, d, what);
    }
}

#[test]
fn broken_glmnet_documents_are_invalid() {
    let v = validator();
    let base: Value = serde_json::from_str(&io::to_json(&doc_glmnet_multnet(), false).unwrap()).unwrap();
    let cases = [
        broken(&base, "kind 'glmnet' without a 'glmnet' section", |d| drop_key(d, "glmnet")),
        broken(&base, "a family named as glmnet()'s argument rather than its class", |d| {
            d["glmnet"]["family"] = json!("gaussian")
        }),
        broken(&base, "a string coefficient", |d| d["glmnet"]["beta"][0]["x"][1] = json!("0.5")),
        broken(&base, "a negative row index", |d| d["glmnet"]["beta"][1]["i"][0] = json!(-1)),
        broken(&base, "sparse columns without their starts", |d| drop_key(&mut d["glmnet"]["beta"][2], "p")),
        broken(&base, "a lambda that is not an array", |d| d["glmnet"]["lambda"] = json!(0.1)),
        broken(&base, "cv without lambda_1se", |d| d["glmnet"]["cv"] = json!({ "lambda_min": 0.1 })),
    ];
    for (what, d) in &cases {
        check_refused(&v, d, what);
    }
}
