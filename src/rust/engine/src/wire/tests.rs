use std::path::PathBuf;

use serde_json::{json, Value};

use super::*;
use crate::format::{InputSpec, InputType};
use crate::frame::{is_r_na, ColumnBuf, FrameBuf, NA_INTEGER};
use crate::output::{ArrayShape, OutputShape, Part, Prediction, ValueKind, Values};
use crate::Model;

/// A format fixture that the R package wrote.
fn fixture(name: &str) -> Model {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../tests/testthat/fixtures/format-1.0").join(name);
    Model::load(&path).unwrap()
}

fn limits() -> WireLimits {
    WireLimits::default()
}

/// Predict a parsed request with the model, as a server does.
fn predict(m: &Model, r: &Request) -> Result<Prediction, WireError> {
    let frame = r.frame.frame();
    let job = m.prepare(&frame, &r.options).map_err(|e| WireError::from_engine(&e, Protocol::Vetiver))?;
    job.predict(1).map_err(|e| WireError::from_engine(&e, Protocol::Vetiver))
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

/// The keys of a JSON object in the order written (serde_json's map sorts).
fn keys_in_order(bytes: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(bytes).unwrap();
    let mut keys: Vec<(usize, String)> = json_of(bytes)
        .as_object()
        .unwrap()
        .keys()
        .map(|k| (text.find(&format!("\"{k}\":")).unwrap(), k.clone()))
        .collect();
    keys.sort();
    keys.into_iter().map(|(_, k)| k).collect()
}

fn column<'f>(r: &'f Request, name: &str) -> &'f ColumnBuf {
    let i = r.frame.names().iter().position(|n| n == name).unwrap();
    &r.frame.columns()[i]
}

// A body exactly as vetiver's R client writes mtcars[1:3, ] with a missing
// weight: jsonlite's records, 4 decimals, "NA" strings, row names as "_row".
const VETIVER_BODY: &str = r#"[{"mpg":21,"cyl":6,"disp":160,"hp":110,"drat":3.9,"wt":2.62,"qsec":16.46,"vs":0,"am":1,"gear":4,"carb":4,"_row":"Mazda RX4"},{"mpg":21,"cyl":6,"disp":160,"hp":110,"drat":3.9,"wt":"NA","qsec":17.02,"vs":0,"am":1,"gear":4,"carb":4,"_row":"Mazda RX4 Wag"},{"mpg":22.8,"cyl":4,"disp":108,"hp":93,"drat":3.85,"wt":2.32,"qsec":18.61,"vs":1,"am":1,"gear":4,"carb":1,"_row":"Datsun 710"}]"#;

#[test]
fn vetiver_records_become_the_model_inputs_in_order() {
    let m = fixture("lm-mtcars.json");
    let r = Decoder::new(m.inputs()).vetiver(VETIVER_BODY.as_bytes(), &limits()).unwrap();
    assert_eq!(r.frame.names(), ["wt", "cyl", "hp", "disp", "qsec"]);
    let ColumnBuf::Real(wt) = column(&r, "wt") else { panic!("wt is not numeric") };
    assert_eq!(wt[0], 2.62);
    assert!(is_r_na(wt[1]));
    assert_eq!(r.frame.nrows(), 3);
    let p = predict(&m, &r).unwrap();
    let Values::Real(v) = &p.parts[0] else { panic!() };
    assert!(is_r_na(v[1]) && v[0].is_finite() && v[2].is_finite());
}

#[test]
fn columns_and_records_give_the_same_frame() {
    let m = fixture("lm-mtcars.json");
    let d = Decoder::new(m.inputs());
    let rows = d.vetiver(VETIVER_BODY.as_bytes(), &limits()).unwrap();
    let cols = d
        .vetiver(
            br#"{"qsec":[16.46,17.02,18.61],"wt":[2.62,"NA",2.32],"cyl":[6,6,4],"hp":[110,110,93],"disp":[160,160,108],"am":[1,1,1]}"#,
            &limits(),
        )
        .unwrap();
    assert_eq!(format!("{:?}", rows.frame), format!("{:?}", cols.frame));
    // one record given as an object of single values
    let one = d.vetiver(br#"{"wt":2.62,"cyl":6,"hp":110,"disp":160,"qsec":16.46}"#, &limits()).unwrap();
    assert_eq!(one.frame.nrows(), 1);
    assert_eq!(
        predict(&m, &one).unwrap().parts[0],
        Values::Real(vec![match &predict(&m, &rows).unwrap().parts[0] {
            Values::Real(v) => v[0],
            _ => panic!(),
        }])
    );
}

/// Records read each key against the key at its position in the records
/// before: keys that move, go missing, repeat or are unknown still land in
/// their columns.
#[test]
fn records_may_order_their_keys_differently() {
    let m = fixture("lm-mtcars.json");
    let d = Decoder::new(m.inputs());
    let mixed = d
        .vetiver(
            br#"[{"wt":2.62,"cyl":6,"hp":110,"disp":160,"qsec":16.46},
                 {"zz":0,"qsec":17.02,"disp":160,"hp":110,"cyl":6,"wt":"NA"},
                 {"cyl":4,"wt":2.32,"hp":93,"qsec":18.61,"disp":108,"zz":1}]"#,
            &limits(),
        )
        .unwrap();
    let cols = d
        .vetiver(br#"{"qsec":[16.46,17.02,18.61],"wt":[2.62,"NA",2.32],"cyl":[6,6,4],"hp":[110,110,93],"disp":[160,160,108]}"#, &limits())
        .unwrap();
    assert_eq!(format!("{:?}", mixed.frame), format!("{:?}", cols.frame));
    let gap = d.vetiver(br#"[{"wt":1,"cyl":4},{"cyl":6},{"wt":3,"cyl":8}]"#, &limits()).unwrap();
    let ColumnBuf::Real(wt) = column(&gap, "wt") else { panic!("wt is not numeric") };
    assert!(wt[0] == 1.0 && is_r_na(wt[1]) && wt[2] == 3.0);
    let e = d.vetiver(br#"[{"wt":1,"cyl":4},{"wt":2,"wt":3}]"#, &limits()).unwrap_err();
    assert!(e.message.contains("'wt' is given twice in row 2"), "{}", e.message);
}

#[test]
fn special_doubles_keep_their_bits() {
    let m = fixture("gbm-iris.json");
    let body = br#"[{"Sepal.Width":"NaN","Petal.Length":"Inf","Petal.Width":"-Inf","Species":"NA"},{"Sepal.Width":null,"Petal.Length":1e300,"Petal.Width":-0.0,"Species":"setosa"}]"#;
    let r = Decoder::new(m.inputs()).vetiver(body, &limits()).unwrap();
    let ColumnBuf::Real(sw) = column(&r, "Sepal.Width") else { panic!() };
    assert!(sw[0].is_nan() && !is_r_na(sw[0]) && is_r_na(sw[1]));
    let ColumnBuf::Real(pl) = column(&r, "Petal.Length") else { panic!() };
    assert_eq!(pl, &[f64::INFINITY, 1e300]);
    let ColumnBuf::Real(pw) = column(&r, "Petal.Width") else { panic!() };
    assert_eq!(pw[0], f64::NEG_INFINITY);
    assert!(pw[1] == 0.0 && pw[1].is_sign_negative());
    let ColumnBuf::Factor { codes, levels } = column(&r, "Species") else { panic!() };
    assert_eq!((codes.as_slice(), levels.as_slice()), (&[NA_INTEGER, 1][..], &["setosa".to_string()][..]));
}

/// xorshift64*: deterministic doubles of every magnitude.
fn random_doubles(n: usize) -> Vec<f64> {
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .filter_map(|_| {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            let v = f64::from_bits(s.wrapping_mul(0x2545_F491_4F6C_DD1D));
            v.is_finite().then_some(v)
        })
        .collect()
}

#[test]
fn numbers_read_and_write_exactly() {
    let m = fixture("lm-mtcars.json");
    let d = Decoder::new(m.inputs());
    let values = random_doubles(2000);
    // as R's sprintf("%.17g") writes them, and in shortest form
    for text in [
        values.iter().map(|v| format!("{v:.16e}")).collect::<Vec<_>>(),
        values.iter().map(|v| format!("{v:?}")).collect(),
    ] {
        let body = format!("{{\"wt\":[{}]}}", text.join(","));
        let r = d.vetiver(body.as_bytes(), &WireLimits { max_rows: 5000 }).unwrap();
        let ColumnBuf::Real(wt) = column(&r, "wt") else { panic!() };
        assert!(wt.iter().zip(&values).all(|(a, b)| a.to_bits() == b.to_bits()));
    }
    let p = Prediction {
        shape: ArrayShape::vector().into(),
        nrows: values.len(),
        parts: vec![Values::Real(values.clone())],
    };
    let back = json_of(&write_vetiver(&p).unwrap());
    let back: Vec<f64> = back[".pred"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert!(back.iter().zip(&values).all(|(a, b)| a.to_bits() == b.to_bits()));
}

#[test]
fn bad_values_name_their_column_and_row() {
    let m = fixture("gbm-iris.json");
    let d = Decoder::new(m.inputs());
    let e = d.vetiver(br#"[{"Sepal.Width":1},{"Sepal.Width":"wide"}]"#, &limits()).unwrap_err();
    assert_eq!((e.status, e.kind), (422, "wrong_type"));
    assert!(e.message.contains("'Sepal.Width'") && e.message.contains("\"wide\" (row 2)"), "{}", e.message);
    let e = d.vetiver(br#"[{"Species":3}]"#, &limits()).unwrap_err();
    assert_eq!(e.kind, "wrong_type");
    assert!(e.message.contains("'Species'") && e.message.contains("a number was supplied"), "{}", e.message);
    let e = d.vetiver(br#"[{"Petal.Width":[1]}]"#, &limits()).unwrap_err();
    assert_eq!((e.status, e.kind), (400, "bad_request"));
    assert!(e.message.contains("'Petal.Width'") && e.message.contains("row 1"), "{}", e.message);
    let e = d.vetiver(br#"[{"Petal.Width":1,"Petal.Width":2}]"#, &limits()).unwrap_err();
    assert!(e.message.contains("twice"), "{}", e.message);
}

#[test]
fn model_errors_map_to_statuses_per_protocol() {
    let m = fixture("glm-poisson-iris.json");
    let d = Decoder::new(m.inputs());
    let r = d.vetiver(br#"[{"Sepal.Width":1,"Petal.Width":1,"Species":"dahlia"}]"#, &limits()).unwrap();
    let e = predict(&m, &r).unwrap_err();
    assert_eq!((e.status, e.kind), (422, "unseen_level"));
    assert!(e.message.contains("'Species'") && e.message.contains("'dahlia'"));
    let r = d.vetiver(br#"[{"Sepal.Width":1,"Species":"setosa"}]"#, &limits()).unwrap();
    let err = m.prepare(&r.frame.frame(), &r.options).err().unwrap();
    assert_eq!(WireError::from_engine(&err, Protocol::Vetiver).status, 422);
    assert_eq!(WireError::from_engine(&err, Protocol::Oip).status, 400);
    assert!(err.to_string().contains("'Petal.Width'"));
    assert_eq!(WireError::from_engine(&crate::Error::Timeout { seconds: 1.0 }, Protocol::Oip).status, 503);
    assert_eq!(WireError::from_engine(&crate::Error::internal("x"), Protocol::Oip).status, 500);
    let body = json_of(&WireError::bad_request("broken").to_json());
    assert_eq!(body, json!({"error": "broken", "message": "broken", "kind": "bad_request"}));
}

#[test]
fn malformed_bodies_are_bad_requests() {
    let m = fixture("lm-mtcars.json");
    let d = Decoder::new(m.inputs());
    for (body, says) in [
        (&b""[..], "empty"),
        (b"  \n", "empty"),
        (b"[]", "no rows"),
        (b"[{\"wt\":1}", "not valid JSON"),
        (b"[{\"wt\":1}] x", "not valid JSON"),
        (b"42", "array of records"),
        (b"null", "null"),
        (b"[1,2]", "row 1"),
        (b"{\"wt\":{\"a\":1}}", "object"),
        (&[0xff, 0xfe][..], "not valid JSON"),
    ] {
        let e = d.vetiver(body, &limits()).unwrap_err();
        assert_eq!((e.status, e.kind), (400, "bad_request"), "{body:?}: {}", e.message);
        assert!(e.message.contains(says), "{body:?}: {}", e.message);
    }
}

#[test]
fn hostile_bodies_are_bounded() {
    let m = fixture("lm-mtcars.json");
    let d = Decoder::new(m.inputs());
    let rows = ["{\"wt\":1}"; 11].join(",");
    let e = d.vetiver(format!("[{rows}]").as_bytes(), &WireLimits { max_rows: 10 }).unwrap_err();
    assert_eq!((e.status, e.kind), (413, "too_large"));
    let e = d.vetiver(br#"{"wt":[1,2,3,4,5,6,7,8,9,10,11]}"#, &WireLimits { max_rows: 10 }).unwrap_err();
    assert_eq!(e.status, 413);
    // one full record, then many empty ones: every column must be padded
    let body = format!("[{{\"wt\":1,\"cyl\":1,\"hp\":1,\"disp\":1,\"qsec\":1}}{}]", ",{}".repeat(100_000));
    let e = d.vetiver(body.as_bytes(), &WireLimits { max_rows: 1_000_000 }).unwrap_err();
    assert_eq!(e.status, 413, "{}", e.message);
    // deep nesting in an ignored key is skipped without recursion
    let deep = format!("[{{\"x\":{}1{}}}]", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(d.vetiver(deep.as_bytes(), &limits()).unwrap().frame.nrows(), 1);
    let deep = format!(
        "{{\"inputs\":[{{\"name\":\"wt\",\"datatype\":\"FP64\",\"shape\":[1],\"data\":{}1{}}}]}}",
        "[".repeat(20),
        "]".repeat(20)
    );
    let e = d.oip(deep.as_bytes(), &limits()).unwrap_err();
    assert!(e.message.contains("nests deeper"), "{}", e.message);
}

// The example of the OIP REST specification ("Inference Request Examples"),
// with this model's inputs.
const OIP_BODY: &str = r#"{
  "id" : "42",
  "inputs" : [
    { "name" : "Sepal.Width", "shape" : [ 2 ], "datatype" : "FP64", "data" : [ 3.5, null ] },
    { "name" : "Petal.Length", "shape" : [ 2, 1 ], "datatype" : "FP32", "data" : [ [1.4], [4.7] ] },
    { "name" : "Petal.Width", "shape" : [ 2 ], "datatype" : "INT32", "data" : [ 0, 1 ] },
    { "name" : "Species", "shape" : [ 2 ], "datatype" : "BYTES", "parameters": {"content_type": "str"},
      "data" : [ "setosa", "versicolor" ] },
    { "name" : "unused", "shape" : [ 1 ], "datatype" : "BYTES", "data" : [ "ignored" ] }
  ],
  "outputs" : [ { "name" : "link" } ],
  "parameters" : { "content_type" : "pd", "type" : "response" }
}"#;

#[test]
fn oip_requests_decode_to_the_same_frame_as_columns() {
    let m = fixture("gbm-iris.json");
    let d = Decoder::new(m.inputs());
    let r = d.oip(OIP_BODY.as_bytes(), &limits()).unwrap();
    assert_eq!(r.id.as_deref(), Some("42"));
    assert_eq!(r.options.type_.as_deref(), Some("response"));
    let cols = d
        .vetiver(
            br#"{"Sepal.Width":[3.5,"NA"],"Petal.Length":[1.4,4.7],"Petal.Width":[0,1],"Species":["setosa","versicolor"]}"#,
            &limits(),
        )
        .unwrap();
    assert_eq!(format!("{:?}", r.frame), format!("{:?}", cols.frame));
    let p = predict(&m, &r).unwrap();
    let reply = OipReply { model_name: "gbm", model_version: Some("abc"), id: "42", output: "response" };
    let out = json_of(&write_oip(&p, &reply).unwrap());
    assert_eq!(out["id"], "42");
    assert_eq!(out["model_name"], "gbm");
    assert_eq!(out["outputs"][0]["name"], "response");
    assert_eq!(out["outputs"][0]["datatype"], "FP64");
    assert_eq!(out["outputs"][0]["shape"], json!([2]));
}

#[test]
fn oip_options_and_type_errors() {
    let m = fixture("randomForest-iris-gz.json.gz");
    let d = Decoder::new(m.inputs());
    let tensor = |name: &str, dt: &str, data: &str| {
        format!("{{\"name\":\"{name}\",\"datatype\":\"{dt}\",\"shape\":[2],\"data\":{data}}}")
    };
    let numeric = ["Sepal.Length", "Sepal.Width", "Petal.Length", "Petal.Width"]
        .map(|n| tensor(n, "FP64", "[5.1, 6.3]"))
        .join(",");
    let body = format!(
        "{{\"inputs\":[{numeric}],\"parameters\":{{\"type\":\"vote\",\"norm_votes\":false,\"n_trees\":\"10\"}}}}"
    );
    let r = d.oip(body.as_bytes(), &limits()).unwrap();
    assert_eq!(r.options.type_.as_deref(), Some("vote"));
    assert_eq!(r.options.norm_votes, Some(false));
    assert_eq!(r.options.n_trees, Some(vec![10]));
    for (bad, status, says) in [
        (tensor("Petal.Width", "BYTES", "[\"a\", \"b\"]"), 400, "FP64"),
        (tensor("Petal.Width", "INT32", "[1.5, 2]"), 400, "INT32"),
        (tensor("Petal.Width", "FP64", "[\"a\", 2]"), 400, "input 'Petal.Width' must hold a string"),
        (tensor("Petal.Width", "COMPLEX", "[1, 2]"), 400, "COMPLEX"),
        (tensor("Petal.Width", "FP64", "[1, 2, 3]"), 400, "shape"),
        ("{\"name\":\"Petal.Width\",\"datatype\":\"FP64\",\"shape\":[1,2],\"data\":[1,2]}".into(), 400, "one column"),
        ("{\"name\":\"Petal.Width\",\"shape\":[1],\"data\":[1]}".into(), 400, "datatype"),
    ] {
        let body = format!("{{\"inputs\":[{numeric},{bad}]}}");
        let body = body.replacen(
            "\"Petal.Width\",\"datatype\":\"FP64\",\"shape\":[2],\"data\":[5.1, 6.3]",
            "\"x\",\"datatype\":\"FP64\",\"shape\":[2],\"data\":[0,0]",
            1,
        );
        let e = d.oip(body.as_bytes(), &limits()).unwrap_err();
        assert_eq!(e.status, status, "{bad}: {}", e.message);
        assert!(e.message.contains(says), "{bad}: {}", e.message);
    }
    let e = d.oip(b"{\"id\":\"1\"}", &limits()).unwrap_err();
    assert!(e.message.contains("no 'inputs'"));
    let e = d.oip(format!("{{\"inputs\":[{numeric}],\"parameters\":{{\"n_trees\":0}}}}").as_bytes(), &limits());
    assert_eq!(e.unwrap_err().kind, "bad_argument");
}

#[test]
fn vetiver_answers_vectors_classes_and_matrices() {
    let m = fixture("rpart-warpbreaks.json");
    let d = Decoder::new(m.inputs());
    let r = d.vetiver(br#"[{"breaks":26,"wool":"A"},{"breaks":"NA","wool":"B"},{"breaks":54,"wool":"NA"}]"#, &limits());
    let mut r = r.unwrap();
    let prob = write_vetiver(&predict(&m, &r).unwrap()).unwrap();
    assert_eq!(keys_in_order(&prob), [".pred_L", ".pred_M", ".pred_H"]);
    let prob = json_of(&prob);
    assert_eq!(prob[".pred_L"].as_array().unwrap().len(), 3);
    r.options = query_options("type=class").unwrap();
    let class = json_of(&write_vetiver(&predict(&m, &r).unwrap()).unwrap());
    assert!(class[".pred"].as_array().unwrap().iter().all(|c| ["L", "M", "H"].contains(&c.as_str().unwrap())));
    // missing classes and values
    let p = Prediction {
        shape: ArrayShape::factor(vec!["a".into(), "b".into()]).into(),
        nrows: 3,
        parts: vec![Values::Int(vec![2, NA_INTEGER, 1])],
    };
    assert_eq!(json_of(&write_vetiver(&p).unwrap()), json!({".pred": ["b", null, "a"]}));
    let p = Prediction {
        shape: ArrayShape::vector().into(),
        nrows: 4,
        parts: vec![Values::Real(vec![crate::NA_REAL, f64::NAN, f64::INFINITY, 0.1])],
    };
    assert_eq!(String::from_utf8(write_vetiver(&p).unwrap()).unwrap(), r#"{".pred":[null,"NaN","Inf",0.1]}"#);
}

#[test]
fn character_classes_are_labels_like_factors() {
    // glmnet's type = "class": codes into labels, which R gets as a character vector
    let p = Prediction {
        shape: ArrayShape { values: ValueKind::Character(vec!["no".into(), "yes".into()]), ..ArrayShape::vector() }
            .into(),
        nrows: 3,
        parts: vec![Values::Int(vec![2, NA_INTEGER, 1])],
    };
    assert_eq!(json_of(&write_vetiver(&p).unwrap()), json!({".pred": ["yes", null, "no"]}));
    let reply = OipReply { model_name: "m", model_version: None, id: "x", output: "class" };
    let out = json_of(&write_oip(&p, &reply).unwrap());
    assert_eq!(out["outputs"][0]["datatype"], "BYTES");
    assert_eq!(out["outputs"][0]["data"], json!(["yes", null, "no"]));
}

#[test]
fn oip_answers_are_row_major_with_their_column_names() {
    // a 2 x 2 x 3 array (gbm multinomial at three numbers of trees)
    let shape = ArrayShape {
        values: ValueKind::Real,
        dim: Some(vec![2, 2, 3]),
        dimnames: Some(vec![None, Some(vec!["a".into(), "b".into()]), Some(vec!["1".into(), "5".into(), "9".into()])]),
        ..ArrayShape::vector()
    };
    let values: Vec<f64> = (0..12).map(f64::from).collect();
    let p = Prediction { shape: OutputShape::Array(shape), nrows: 2, parts: vec![Values::Real(values)] };
    let reply = OipReply { model_name: "m", model_version: None, id: "x", output: "link" };
    let out = json_of(&write_oip(&p, &reply).unwrap());
    let o = &out["outputs"][0];
    assert_eq!(o["shape"], json!([2, 2, 3]));
    // value [i, k, t] is stored at i + 2 * (k + 2 * t)
    assert_eq!(o["data"], json!([0.0, 4.0, 8.0, 2.0, 6.0, 10.0, 1.0, 5.0, 9.0, 3.0, 7.0, 11.0]));
    assert_eq!(o["parameters"]["dimnames"], json!([["a", "b"], ["1", "5", "9"]]));
    let v = write_vetiver(&p).unwrap();
    assert_eq!(keys_in_order(&v), [".pred_a_1", ".pred_b_1", ".pred_a_5", ".pred_b_5", ".pred_a_9", ".pred_b_9"]);
    let v = json_of(&v);
    assert_eq!(v[".pred_b_5"], json!([6.0, 7.0]));

    let m = fixture("randomForest-iris-gz.json.gz");
    let r = Decoder::new(m.inputs())
        .vetiver(
            br#"{"Sepal.Length":[5.1,6.3],"Sepal.Width":[3.5,2.9],"Petal.Length":[1.4,5.6],"Petal.Width":[0.2,1.8]}"#,
            &limits(),
        )
        .unwrap();
    let mut r = r;
    r.options.type_ = Some("prob".into());
    let p = predict(&m, &r).unwrap();
    let out = json_of(&write_oip(&p, &OipReply { output: "prob", ..reply }).unwrap());
    assert_eq!(out["outputs"][0]["shape"], json!([2, 3]));
    assert_eq!(out["outputs"][0]["parameters"]["columns"], json!(["setosa", "versicolor", "virginica"]));
    let Values::Real(v) = &p.parts[0] else { panic!() };
    let data: Vec<f64> = out["outputs"][0]["data"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    assert_eq!(data, [v[0], v[2], v[4], v[1], v[3], v[5]]);
    r.options.type_ = None;
    let out = json_of(&write_oip(&predict(&m, &r).unwrap(), &reply).unwrap());
    assert_eq!(out["outputs"][0]["datatype"], "BYTES");
    assert_eq!(out["outputs"][0]["data"], json!(["setosa", "virginica"]));
}

#[test]
fn query_strings_set_options() {
    let o = query_options("type=vote&norm_votes=FALSE&n_trees=10,%2020").unwrap();
    assert_eq!(o.type_.as_deref(), Some("vote"));
    assert_eq!(o.norm_votes, Some(false));
    assert_eq!(o.n_trees, Some(vec![10, 20]));
    assert_eq!(query_options("").unwrap(), crate::PredictOptions::default());
    for bad in ["ntrees=5", "n_trees=1.5", "n_trees=abc", "norm_votes=maybe", "type=%zz", "level=0.9,0.95", "se.fit=1"]
    {
        assert_eq!(query_options(bad).unwrap_err().status, 400, "{bad}");
    }
}

/// Every option, by its engine name, from OIP parameters and from a query
/// string alike.
#[test]
fn every_option_is_read_from_parameters_and_query_strings() {
    use crate::{Numbers, Penalty, PredictOptions};
    let want = PredictOptions {
        type_: Some("response".into()),
        n_trees: Some(vec![10, 20]),
        norm_votes: Some(false),
        se_fit: Some(true),
        interval: Some("prediction".into()),
        level: Some(0.9),
        dispersion: Some(2.5),
        pred_var: Some(vec![1.0, crate::NA_REAL, f64::INFINITY]),
        weights: Some(vec![2.0]),
        scale: Some(1.5),
        df: Some(10.0),
        s: Some(Penalty::Values { values: vec![0.5, 0.1], names: None }),
        newoffset: Some(Numbers { values: vec![1.0, 2.0], dim: None }),
        exact: Some(false),
        iteration_range: Some((0, 5)),
        ntree_limit: Some(3),
        dmatrix: Some(true),
        start_iteration: Some(-1),
        num_iteration: Some(4),
    };
    let query = "type=response&n_trees=10,20&norm_votes=false&se_fit=TRUE&interval=prediction&level=0.9\
                 &dispersion=2.5&pred_var=1,NA,Inf&weights=2&scale=1.5&df=10&s=0.5,0.1&newoffset=1,2&exact=0\
                 &iteration_range=0,5&ntree_limit=3&dmatrix=1&start_iteration=-1&num_iteration=4";
    let from_query = query_options(query).unwrap();
    let params = r#"{"type":"response","n_trees":[10,20],"norm_votes":false,"se_fit":true,"interval":"prediction",
        "level":0.9,"dispersion":"2.5","pred_var":[1,null,"Inf"],"weights":2,"scale":1.5,"df":10,"content_type":"pd",
        "s":[0.5,0.1],"newoffset":[1,2],"exact":false,"iteration_range":[0,5],"ntree_limit":3,"dmatrix":true,
        "start_iteration":-1,"num_iteration":"4"}"#;
    let m = fixture("lm-mtcars.json");
    let body =
        format!(r#"{{"inputs":[{{"name":"wt","datatype":"FP64","shape":[1],"data":[3]}}],"parameters":{params}}}"#);
    let from_params = Decoder::new(m.inputs()).oip(body.as_bytes(), &limits()).unwrap().options;
    for got in [from_query, from_params] {
        // NA and NaN differ only in their bits
        assert_eq!(format!("{got:?}"), format!("{want:?}"));
        assert!(is_r_na(got.pred_var.as_ref().unwrap()[1]));
    }
    option_names().iter().for_each(|n| assert!(query.contains(&format!("{n}=")), "{n} is not tested"));
    // glmnet's s: a rule, or the whole path; a multinomial newoffset as rows
    let rule = query_options("s=lambda.min").unwrap().s;
    assert_eq!(rule, Some(Penalty::Rule("lambda.min".into())));
    assert_eq!(query_options("s=NULL").unwrap().s, Some(Penalty::Path));
    let body = r#"{"inputs":[],"parameters":{"s":null,"newoffset":[[1,2,3],[4,5,6]]}}"#;
    let o = Decoder::new(m.inputs()).oip(body.as_bytes(), &limits()).unwrap().options;
    assert_eq!(o.s, Some(Penalty::Path));
    assert_eq!(o.newoffset, Some(Numbers { values: vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0], dim: Some([2, 3]) }));
    // values of the wrong kind name the option
    for (name, value) in [
        ("se_fit", "5"),
        ("level", "[0.9, 0.95]"),
        ("interval", "1"),
        ("weights", "{}"),
        ("s", "true"),
        ("newoffset", "[[1, 2], [3]]"),
    ] {
        let body = format!(r#"{{"inputs":[],"parameters":{{"{name}":{value}}}}}"#);
        let e = Decoder::new(m.inputs()).oip(body.as_bytes(), &limits()).unwrap_err();
        assert_eq!((e.status, e.kind), (400, "bad_argument"), "{name}");
        assert!(e.message.starts_with(name), "{}", e.message);
    }
}

/// glmnet: numbers at several s (a matrix named by s), classes as text.
#[test]
fn glmnet_answers_at_several_penalties_and_as_classes() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../tests/testthat/fixtures/format-1.4/glmnet-binomial-cv-mtcars.json");
    let m = Model::load(&path).unwrap();
    let d = Decoder::new(m.inputs());
    let body =
        br#"[{"mpg":21,"wt":2.62,"hp":110,"qsec":16.46,"drat":3.9},{"mpg":30,"wt":1.8,"hp":60,"qsec":19,"drat":4.1}]"#;
    let mut r = d.vetiver(body, &limits()).unwrap();
    r.options = query_options("type=class&s=lambda.min").unwrap();
    let p = predict(&m, &r).unwrap();
    let Values::Int(codes) = &p.parts[0] else { panic!() };
    let crate::ValueKind::Character(labels) = &p.shape.array().unwrap().values else { panic!("not text") };
    let want: Vec<&str> = codes.iter().map(|&c| labels[c as usize - 1].as_str()).collect();
    let v = json_of(&write_vetiver(&p).unwrap());
    assert_eq!(v.as_object().unwrap().len(), 1, "{v}");
    let (_, col) = v.as_object().unwrap().iter().next().unwrap();
    assert_eq!(col, &json!(want));
    let reply = OipReply { model_name: "cv", model_version: None, id: "1", output: "class" };
    let out = json_of(&write_oip(&p, &reply).unwrap());
    assert_eq!(out["outputs"][0]["datatype"], "BYTES");
    assert_eq!(out["outputs"][0]["data"], json!(want));

    r.options = query_options("type=response&s=0.01,0.1").unwrap();
    let p = predict(&m, &r).unwrap();
    let Values::Real(v) = &p.parts[0] else { panic!() };
    let out = json_of(&write_oip(&p, &reply).unwrap());
    assert_eq!(out["outputs"][0]["shape"], json!([2, 2]));
    assert_eq!(out["outputs"][0]["data"], json!([v[0], v[2], v[1], v[3]]));
    let names = p.shape.array().unwrap().dimnames.clone().unwrap()[1].clone().unwrap();
    assert_eq!(out["outputs"][0]["parameters"]["columns"], json!(names));
    let keys = keys_in_order(&write_vetiver(&p).unwrap());
    assert_eq!(keys, names.iter().map(|n| format!(".pred_{n}")).collect::<Vec<_>>());
}

/// A model that predicts from a matrix also takes rows as arrays (jsonlite's
/// matrices) and one OIP tensor of shape [N, P], in the order of its inputs.
#[test]
fn matrix_models_take_rows_as_arrays_and_one_tensor() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../tests/testthat/fixtures/format-1.4/glmnet-cox-mtcars.json");
    let m = Model::load(&path).unwrap();
    let d = Decoder::for_model(&m);
    assert_eq!(m.inputs().iter().map(|i| i.name.as_str()).collect::<Vec<_>>(), ["V1", "V2", "V3"]);
    let records = d.vetiver(br#"[{"V1":2.62,"V2":110,"V3":160},{"V1":3.2,"V2":"NA","V3":258}]"#, &limits()).unwrap();
    let rows = d.vetiver(br#"[[2.62,110,160],[3.2,"NA",258]]"#, &limits()).unwrap();
    assert_eq!(format!("{:?}", rows.frame), format!("{:?}", records.frame));
    let tensor =
        r#"{"inputs":[{"name":"newx","datatype":"FP64","shape":[2,3],"data":[[2.62,110,160],[3.2,null,258]]}]}"#;
    let oip = d.oip(tensor.as_bytes(), &limits()).unwrap();
    assert_eq!(format!("{:?}", oip.frame), format!("{:?}", records.frame));
    // (NaN for the missing value: compared as text)
    assert_eq!(format!("{:?}", predict(&m, &oip).unwrap()), format!("{:?}", predict(&m, &records).unwrap()));
    for (body, says) in [
        (&br#"[[2.62,110]]"#[..], "row 1 has 2 values"),
        (br#"[[2.62,110,160,1]]"#, "more than 3 values"),
        (br#"[[2.62,"heavy",160]]"#, "'V2'"),
    ] {
        let e = d.vetiver(body, &limits()).unwrap_err();
        assert!(e.message.contains(says), "{}", e.message);
    }
    let e = d.oip(tensor.replace("[2,3]", "[3,2]").as_bytes(), &limits()).unwrap_err();
    assert!(e.message.contains("2 columns; the model reads a matrix of 3"), "{}", e.message);
    let e = d.vetiver(br#"[[1,2,3],[4,5,6]]"#, &WireLimits { max_rows: 1 }).unwrap_err();
    assert_eq!(e.status, 413);
    let e = d.oip(tensor.as_bytes(), &WireLimits { max_rows: 1 }).unwrap_err();
    assert_eq!(e.status, 413);
    // other models refuse both forms
    let lm = fixture("lm-mtcars.json");
    let e = Decoder::for_model(&lm).vetiver(b"[[1, 2, 3, 4, 5]]", &limits()).unwrap_err();
    assert!(e.message.contains("row 1 is an array"), "{}", e.message);
    let e = Decoder::for_model(&lm).oip(tensor.as_bytes(), &limits()).unwrap_err();
    assert!(e.message.contains("give one column"), "{}", e.message);
}

/// predict.lm()'s list (se.fit = TRUE, with an interval): one OIP output
/// per part, vetiver columns as documented in `write_vetiver`.
#[test]
fn list_outputs_have_one_output_per_part() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../tests/testthat/fixtures/format-1.3/lm-card.json");
    let m = Model::load(&path).unwrap();
    let d = Decoder::new(m.inputs());
    let body = br#"{"inputs":[{"name":"wt","datatype":"FP64","shape":[2],"data":[2.5,3.5]},
        {"name":"hp","datatype":"FP64","shape":[2],"data":[110,"NaN"]}],
        "parameters":{"se_fit":true,"interval":"confidence","level":0.9}}"#;
    let r = d.oip(body, &limits()).unwrap();
    let p = predict(&m, &r).unwrap();
    let (Values::Real(fit), Values::Real(se)) = (&p.parts[0], &p.parts[1]) else { panic!() };
    let OutputShape::List(parts) = &p.shape else { panic!("not a list") };
    let number = |name: &str| match parts.iter().find(|(n, _)| n == name) {
        Some((_, crate::Part::Number(x))) => *x,
        _ => panic!("no {name}"),
    };
    let reply = OipReply { model_name: "lm", model_version: None, id: "1", output: "response" };
    let out = json_of(&write_oip(&p, &reply).unwrap());
    let names: Vec<&str> = out["outputs"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap()).collect();
    // the interval's columns as three outputs, the parts by their R names with `_` for `.`
    assert_eq!(names, ["fit", "lwr", "upr", "se_fit", "df", "residual_scale"]);
    assert_eq!(out["outputs"][0]["shape"], json!([2]));
    assert_eq!(out["outputs"][1]["parameters"], json!({"interval": true}));
    assert_eq!(out["outputs"][3]["parameters"], json!({"r_name": "se.fit"}));
    // a NaN input gives NaN (not NA), as predict.lm(), written as jsonlite writes it
    assert_eq!(out["outputs"][0]["data"], json!([fit[0], "NaN"]));
    assert_eq!(out["outputs"][2]["data"], json!([fit[4], "NaN"]));
    assert_eq!(out["outputs"][3]["data"], json!([se[0], "NaN"]));
    assert_eq!(
        out["outputs"][4],
        json!({"name": "df", "datatype": "FP64", "shape": [1], "parameters": {"scalar": true}, "data": [number("df")]})
    );
    // and reads back as the same list
    let back = read_oip(&write_oip(&p, &reply).unwrap()).unwrap();
    assert!(same_prediction(&back, &p), "{back:?}");
    assert_eq!(out["outputs"][5]["data"], json!([number("residual.scale")]));
    assert_eq!(out["outputs"][5]["parameters"]["r_name"], "residual.scale");

    let v = write_vetiver(&p).unwrap();
    assert_eq!(keys_in_order(&v), [".pred", ".pred_lwr", ".pred_upr", ".se_fit", ".df", ".residual_scale"]);
    let v = json_of(&v);
    assert_eq!(v[".pred_upr"], json!([fit[4], "NaN"]));
    assert_eq!(v[".df"], json!([number("df"), number("df")]));
    // an interval alone is a matrix, with the same names
    let mut r = r;
    r.options.se_fit = None;
    let alone = predict(&m, &r).unwrap();
    let v = write_vetiver(&alone).unwrap();
    assert_eq!(keys_in_order(&v), [".pred", ".pred_lwr", ".pred_upr"]);
    // and in OIP, three outputs that read back as the matrix
    let out = write_oip(&alone, &reply).unwrap();
    let names: Vec<String> =
        json_of(&out)["outputs"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap().into()).collect();
    assert_eq!(names, ["fit", "lwr", "upr"]);
    let back = read_oip(&out).unwrap();
    assert!(same_prediction(&back, &alone), "{back:?}");
    // se.fit alone: the prediction is a vector
    r.options = crate::PredictOptions { se_fit: Some(true), ..Default::default() };
    let v = write_vetiver(&predict(&m, &r).unwrap()).unwrap();
    assert_eq!(keys_in_order(&v), [".pred", ".se_fit", ".df", ".residual_scale"]);
}

#[test]
fn metadata_describes_inputs_and_outputs() {
    let m = fixture("rpart-warpbreaks.json");
    let meta = oip_model_metadata(&m, "tree", "v1");
    assert_eq!(meta["platform"], "fastpredict_json");
    assert_eq!(
        meta["inputs"],
        json!([{"name": "breaks", "datatype": "FP64", "shape": [-1]}, {"name": "wool", "datatype": "BYTES", "shape": [-1]}])
    );
    assert_eq!(meta["outputs"], json!([{"name": "prob", "datatype": "FP64", "shape": [-1, 3]}]));
    assert_eq!(meta["parameters"]["classes"], json!(["L", "M", "H"]));
    assert!(meta["parameters"].get("card").is_none());
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../tests/testthat/fixtures/format-1.3/lm-card.json");
    let carded = Model::load(&path).unwrap();
    let meta = oip_model_metadata(&carded, "lm", "v1");
    assert_eq!(meta["parameters"]["card"], json!(carded.info().card));
    assert_eq!(meta["parameters"]["card"]["metrics"]["r2"], json!(0.8268));
    let proto = vetiver_prototype(m.inputs());
    assert_eq!(proto["wool"], json!({"type": "factor", "example": "A", "details": {"levels": ["A", "B"]}}));
    assert_eq!(proto["breaks"], json!({"type": "numeric", "example": null, "details": {}}));
    assert_eq!(oip_datatype(InputType::Logical), "BOOL");
}

#[test]
fn sniff_tells_oip_requests_from_vetiver_bodies() {
    let d = Decoder::new(fixture("gbm-iris.json").inputs());
    assert_eq!(d.sniff(OIP_BODY.as_bytes()), Protocol::Oip);
    assert_eq!(d.sniff(br#" {"id": "1", "parameters": {"inputs": 1}, "inputs": []}"#), Protocol::Oip);
    assert_eq!(d.sniff(VETIVER_BODY.as_bytes()), Protocol::Vetiver);
    assert_eq!(d.sniff(br#"{"Sepal.Width": [1, 2], "parameters": {"inputs": []}}"#), Protocol::Vetiver);
    for broken in [&b""[..], b"{", b"{\"inputs\"", b"[{\"inputs\": []}]", b"\"inputs\""] {
        assert_eq!(d.sniff(broken), if broken == b"{\"inputs\"" { Protocol::Oip } else { Protocol::Vetiver });
    }
    // a model with an input called "inputs" reads such objects as columns
    let spec = InputSpec { name: "inputs".into(), kind: InputType::Numeric, levels: None };
    assert_eq!(Decoder::new(&[spec]).sniff(br#"{"inputs": [1, 2]}"#), Protocol::Vetiver);
}

/// The same doubles, bit for bit, or both a NaN that is not R's NA (R
/// tells NA from NaN, not one NaN payload from another).
fn same_double(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan() && !is_r_na(a) && !is_r_na(b))
}

/// A shape as R sees it: dimnames that name nothing are no dimnames; a
/// list's numbers apart (they are compared as doubles).
fn as_r(shape: &OutputShape) -> (OutputShape, Vec<f64>) {
    let plain = |a: &ArrayShape| ArrayShape {
        dimnames: a.dimnames.clone().filter(|d| d.iter().any(Option::is_some)),
        ..a.clone()
    };
    match shape {
        OutputShape::Array(a) => (OutputShape::Array(plain(a)), Vec::new()),
        OutputShape::List(l) => {
            let numbers = l
                .iter()
                .flat_map(|(_, p)| match p {
                    Part::Number(x) => vec![*x],
                    Part::Numbers(xs) => xs.clone(),
                    Part::Array(_) => Vec::new(),
                })
                .collect();
            let parts = l
                .iter()
                .map(|(n, p)| match p {
                    Part::Array(a) => (n.clone(), Part::Array(plain(a))),
                    Part::Number(_) => (n.clone(), Part::Number(0.0)),
                    Part::Numbers(xs) => (n.clone(), Part::Numbers(vec![0.0; xs.len()])),
                })
                .collect();
            (OutputShape::List(parts), numbers)
        }
    }
}

fn same_doubles(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_double(*x, *y))
}

fn same_prediction(a: &Prediction, b: &Prediction) -> bool {
    let ((sa, na), (sb, nb)) = (as_r(&a.shape), as_r(&b.shape));
    sa == sb
        && same_doubles(&na, &nb)
        && a.nrows == b.nrows
        && a.parts.len() == b.parts.len()
        && a.parts.iter().zip(&b.parts).all(|(x, y)| match (x, y) {
            (Values::Real(x), Values::Real(y)) => same_doubles(x, y),
            (x, y) => x == y,
        })
}

#[test]
fn oip_answers_name_levels_and_class_and_keep_special_values() {
    let p = Prediction {
        shape: ArrayShape::factor(vec!["a".into(), "b".into(), "c".into()]).into(),
        nrows: 2,
        parts: vec![Values::Int(vec![2, NA_INTEGER])],
    };
    let reply = OipReply { model_name: "m", model_version: None, id: "x", output: "class" };
    let out = json_of(&write_oip(&p, &reply).unwrap());
    assert_eq!(out["outputs"][0]["data"], json!(["b", null]));
    assert_eq!(out["outputs"][0]["parameters"], json!({"levels": ["a", "b", "c"]}));
    let votes = ArrayShape {
        class: Some(vec!["matrix".into(), "array".into(), "votes".into()]),
        ..ArrayShape::matrix(2, Some(vec!["a".into(), "b".into()]))
    };
    let p = Prediction {
        shape: OutputShape::Array(votes).with_rows(2),
        nrows: 2,
        parts: vec![Values::Real(vec![crate::NA_REAL, f64::NAN, f64::INFINITY, f64::NEG_INFINITY])],
    };
    let text = String::from_utf8(write_oip(&p, &reply).unwrap()).unwrap();
    assert!(text.contains(r#""data":[null,"Inf","NaN","-Inf"]"#), "{text}");
    let out = json_of(text.as_bytes());
    assert_eq!(out["outputs"][0]["parameters"]["class"], json!(["matrix", "array", "votes"]));
    let back = read_oip(text.as_bytes()).unwrap();
    assert!(same_prediction(&back, &p), "{back:?}");
}

/// xorshift64: a small deterministic generator for the round trips.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// Doubles of every kind: any finite bits, small numbers, zeros of both
    /// signs, NA, NaN and the infinities.
    fn double(&mut self) -> f64 {
        match self.below(10) {
            0 => crate::NA_REAL,
            1 => [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.0, f64::MIN_POSITIVE / 3.0][self.below(6)],
            2..=4 => (self.next() % 2000) as f64 / 7.0 - 100.0,
            _ => {
                let v = f64::from_bits(self.next());
                if v.is_finite() {
                    v
                } else {
                    1.5
                }
            }
        }
    }
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}\"{i}é")).collect()
}

/// A prediction of a random shape: a vector, a factor, a matrix with or
/// without column names and a class, a 3-d array, or a list of them.
fn random_prediction(rng: &mut Rng) -> Prediction {
    let nrows = rng.below(6);
    let array = |rng: &mut Rng| -> ArrayShape {
        match rng.below(5) {
            0 => ArrayShape::vector(),
            1 => ArrayShape::factor(names("level", 1 + rng.below(4))),
            2 => {
                let k = 1 + rng.below(4);
                let class = (rng.below(2) == 0).then(|| vec!["matrix".into(), "array".into(), "votes".into()]);
                ArrayShape { class, ..ArrayShape::matrix(k, (rng.below(2) == 0).then(|| names("c", k))) }
            }
            // type = "terms": a matrix with a named number attached
            3 => ArrayShape {
                attributes: vec![("constant".into(), (rng.next() % 1000) as f64 / 7.0)],
                ..ArrayShape::matrix(1 + rng.below(3), None)
            },
            _ => {
                let (a, b) = (1 + rng.below(3), 1 + rng.below(3));
                ArrayShape {
                    dim: Some(vec![0, a, b]),
                    dimnames: Some(vec![None, Some(names("k", a)), (rng.below(2) == 0).then(|| names("t", b))]),
                    ..ArrayShape::vector()
                }
            }
        }
    };
    let shape = if rng.below(4) == 0 {
        // lm's list: arrays and numbers for the whole call (df)
        let mut parts: Vec<(String, Part)> =
            (0..2 + rng.below(2)).map(|i| (format!("part.{i}"), Part::Array(array(rng)))).collect();
        parts.insert(rng.below(parts.len() + 1), ("df".into(), Part::Number(rng.double())));
        OutputShape::List(parts)
    } else {
        OutputShape::Array(array(rng))
    };
    let shape = shape.with_rows(nrows);
    let parts = shape
        .parts()
        .into_iter()
        .map(|a| match &a.values {
            ValueKind::Real => Values::Real((0..a.len(nrows)).map(|_| rng.double()).collect()),
            ValueKind::Factor(l) | ValueKind::Character(l) => Values::Int(
                (0..a.len(nrows))
                    .map(|_| match rng.below(l.len() + 1) {
                        0 => NA_INTEGER,
                        c => c as i32,
                    })
                    .collect(),
            ),
        })
        .collect();
    Prediction { shape, nrows, parts }
}

#[test]
fn reading_an_oip_answer_gives_back_the_prediction() {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let reply = OipReply { model_name: "m", model_version: Some("1"), id: "x", output: "response" };
    for case in 0..2000 {
        let p = random_prediction(&mut rng);
        let text = write_oip(&p, &reply).unwrap();
        let back = read_oip(&text).unwrap_or_else(|e| panic!("case {case}: {}", e.message));
        assert!(same_prediction(&back, &p), "case {case}: {p:?}\n{}", String::from_utf8_lossy(&text));
    }
}

#[test]
fn text_dropped_and_per_call_outputs_read_back() {
    let reply = OipReply { model_name: "m", model_version: None, id: "x", output: "class" };
    // glmnet's classes: text, not a factor
    let text = Prediction {
        shape: OutputShape::Array(ArrayShape {
            values: ValueKind::Character(vec!["b".into(), "a".into(), "unused".into()]),
            ..ArrayShape::vector()
        }),
        nrows: 4,
        parts: vec![Values::Int(vec![2, 1, NA_INTEGER, 2])],
    };
    let out = write_oip(&text, &reply).unwrap();
    assert_eq!(json_of(&out)["outputs"][0]["data"], json!(["a", "b", null, "a"]));
    let back = read_oip(&out).unwrap();
    let (OutputShape::Array(a), [Values::Int(codes)]) = (&back.shape, back.parts.as_slice()) else { panic!() };
    let ValueKind::Character(labels) = &a.values else { panic!("{back:?}") };
    let read: Vec<Option<&str>> =
        codes.iter().map(|&c| (c != NA_INTEGER).then(|| labels[c as usize - 1].as_str())).collect();
    assert_eq!(read, [Some("a"), Some("b"), None, Some("a")]);
    // one row of glmnet's, which R returns as a named vector
    let dropped = Prediction {
        shape: OutputShape::Array(ArrayShape {
            drop: true,
            ..ArrayShape::matrix(3, Some(vec!["s0".into(), "s1".into(), "s2".into()]))
        })
        .with_rows(1),
        nrows: 1,
        parts: vec![Values::Real(vec![1.0, 2.0, 3.5])],
    };
    let back = read_oip(&write_oip(&dropped, &reply).unwrap()).unwrap();
    assert!(same_prediction(&back, &dropped), "{back:?}");
    // a survival forest's list: per-row matrices and the death times once
    let survival = Prediction {
        shape: OutputShape::List(vec![
            ("unique.death.times".into(), Part::Numbers(vec![1.0, 2.5, 4.0])),
            ("survival".into(), Part::Array(ArrayShape::matrix(3, None))),
        ])
        .with_rows(2),
        nrows: 2,
        parts: vec![Values::Real(vec![1.0, 0.9, 0.8, 0.7, 0.5, 0.25])],
    };
    let out = write_oip(&survival, &reply).unwrap();
    assert_eq!(json_of(&out)["outputs"][0]["name"], "unique_death_times");
    assert_eq!(json_of(&out)["outputs"][0]["parameters"], json!({"per_call": true, "r_name": "unique.death.times"}));
    let back = read_oip(&out).unwrap();
    assert!(same_prediction(&back, &survival), "{back:?}");
}

#[test]
fn answers_that_cannot_be_read_are_refused() {
    for (bad, says) in [
        (&br#"not json"#[..], "not JSON"),
        (br#"{"error": "x"}"#, "no 'outputs'"),
        (br#"{"outputs": []}"#, "no outputs"),
        (br#"{"outputs": [{"name": "a", "datatype": "FP64", "shape": [2], "data": [1]}]}"#, "but 1 values"),
        (
            br#"{"outputs": [{"name": "a", "datatype": "BYTES", "shape": [1], "data": ["x"], "parameters": {"levels": ["y"]}}]}"#,
            "not a level",
        ),
        (br#"{"outputs": [{"name": "a", "datatype": "INT8", "shape": [1], "data": [1]}]}"#, "datatype"),
        (br#"{"outputs": [{"name": "a", "datatype": "FP64", "shape": [1], "data": ["big"]}]}"#, "not a number"),
        (
            br#"{"outputs": [{"name": "a", "datatype": "FP64", "shape": [1, 2], "data": [1, 2], "parameters": {"columns": ["x"]}}]}"#,
            "do not match",
        ),
        (
            br#"{"outputs": [{"name": "a", "datatype": "FP64", "shape": [1], "data": [1]}, {"name": "b", "datatype": "FP64", "shape": [2], "data": [1, 2]}]}"#,
            "different numbers of rows",
        ),
        (
            br#"{"outputs": [{"name": "fit", "datatype": "FP64", "shape": [1], "data": [1], "parameters": {"interval": true}}, {"name": "upr", "datatype": "FP64", "shape": [1], "data": [2], "parameters": {"interval": true}}]}"#,
            "not fit, lwr and upr in turn",
        ),
        (
            br#"{"outputs": [{"name": "fit", "datatype": "FP64", "shape": [1], "data": [1], "parameters": {"interval": true}}]}"#,
            "not fit, lwr and upr in turn",
        ),
    ] {
        let e = read_oip(bad).unwrap_err();
        assert_eq!((e.status, e.kind), (502, "bad_answer"));
        assert!(e.message.contains(says), "{}: {}", String::from_utf8_lossy(bad), e.message);
    }
}

#[test]
fn a_written_request_decodes_to_the_frame_it_was_written_from() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for case in 0..300 {
        let n = rng.below(40);
        let reals: Vec<f64> = (0..n).map(|_| rng.double()).collect();
        let ints: Vec<i32> = (0..n).map(|_| if rng.below(8) == 0 { NA_INTEGER } else { rng.next() as i32 }).collect();
        let logicals: Vec<i32> = (0..n).map(|_| [0, 1, NA_INTEGER][rng.below(3)]).collect();
        let levels = vec!["a b".to_string(), "\u{e9}\"\\".to_string(), "NA_not".to_string()];
        let codes: Vec<i32> = (0..n).map(|_| [1, 2, 3, NA_INTEGER][rng.below(4)]).collect();
        let strs: Vec<Option<String>> = (0..n).map(|i| (i % 3 != 0).then(|| format!("s{i}\n"))).collect();
        let mut frame = FrameBuf::new();
        frame.push("real", ColumnBuf::Real(reals.clone()));
        frame.push("int", ColumnBuf::Int(ints.clone()));
        frame.push("flag", ColumnBuf::Logical(logicals.clone()));
        frame.push("fac", ColumnBuf::Factor { codes: codes.clone(), levels: levels.clone() });
        frame.push("chr", ColumnBuf::Str(strs.clone()));
        let spec = |name: &str, kind| InputSpec { name: name.into(), kind, levels: None };
        let inputs = [
            spec("real", InputType::Numeric),
            spec("int", InputType::Numeric),
            spec("flag", InputType::Logical),
            spec("fac", InputType::Factor),
            spec("chr", InputType::Character),
        ];
        let options = crate::PredictOptions {
            type_: Some("prob".into()),
            n_trees: Some(vec![5, 10]),
            norm_votes: Some(false),
            se_fit: Some(true),
            interval: Some("prediction".into()),
            level: Some(0.9),
            dispersion: Some(f64::INFINITY),
            pred_var: Some(vec![1.5, -0.0]),
            weights: Some(vec![2.0, 1e-300]),
            scale: Some(3.0),
            df: Some(4.0),
            s: Some(crate::Penalty::Values { values: vec![0.5, 0.01], names: None }),
            newoffset: Some(crate::Numbers { values: vec![1.0, 2.0, 3.0, f64::INFINITY], dim: Some([2, 2]) }),
            exact: Some(false),
            iteration_range: Some((1, 7)),
            ntree_limit: Some(3),
            dmatrix: Some(true),
            start_iteration: Some(-2),
            num_iteration: Some(9),
        };
        let body = write_oip_request(&frame.frame(), &options).unwrap();
        let r = Decoder::new(&inputs).oip(&body, &WireLimits::default()).unwrap();
        assert_eq!(r.options, options);
        assert_eq!(r.frame.nrows(), n, "case {case}");
        let ColumnBuf::Real(x) = column(&r, "real") else { panic!() };
        assert!(x.iter().zip(&reals).all(|(a, b)| same_double(*a, *b)), "case {case}");
        let ColumnBuf::Real(x) = column(&r, "int") else { panic!() };
        let want: Vec<f64> =
            ints.iter().map(|&i| if i == NA_INTEGER { crate::NA_REAL } else { f64::from(i) }).collect();
        assert!(x.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()), "case {case}");
        assert_eq!(column(&r, "flag"), &ColumnBuf::Logical(logicals), "case {case}");
        // factors and strings arrive as the labels of their rows
        let labels = |c: &ColumnBuf| -> Vec<Option<String>> {
            match c {
                ColumnBuf::Factor { codes, levels } => {
                    codes.iter().map(|&k| (k != NA_INTEGER).then(|| levels[k as usize - 1].clone())).collect()
                }
                other => panic!("{other:?}"),
            }
        };
        let want: Vec<Option<String>> =
            codes.iter().map(|&k| (k != NA_INTEGER).then(|| levels[k as usize - 1].clone())).collect();
        assert_eq!(labels(column(&r, "fac")), want, "case {case}");
        assert_eq!(labels(column(&r, "chr")), strs, "case {case}");
    }
}
