//! Every endpoint and error class over real loopback HTTP, with request bodies as vetiver's R client,
//! MLServer-style clients and the OIP specification's examples write them.

// A test may unwrap and panic: that is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use common::{fixture, read_reply, write_head, Server, TempDir};
use fastpredict_engine::wire::{Decoder, WireLimits};
use fastpredict_engine::{Model, PredictOptions, Values};
use serde_json::{json, Value};

/// lm.json (mtcars), rf.json.gz (randomForest on iris, classes), tree.json (rpart, probabilities),
/// glm.json (poisson on iris: refuses unseen levels).
fn models() -> TempDir {
    let dir = TempDir::new();
    dir.add("lm-mtcars.json", "lm.json");
    dir.add("randomForest-iris-gz.json.gz", "rf.json.gz");
    dir.add("rpart-warpbreaks.json", "tree.json");
    dir.add("glm-poisson-iris.json", "glm.json");
    dir
}

/// The engine's own prediction for a vetiver body (the numbers the server received).
fn engine_predict(fixture_name: &str, body: &str, options: PredictOptions) -> Values {
    let m = Model::load(&fixture(fixture_name)).unwrap();
    let mut r = Decoder::new(m.inputs()).vetiver(body.as_bytes(), &WireLimits::default()).unwrap();
    r.options = options;
    let frame = r.frame.frame();
    let values = m.prepare(&frame, &r.options).unwrap().predict(1).unwrap().parts.remove(0);
    values
}

fn numbers(v: &Value) -> Vec<Option<f64>> {
    v.as_array().unwrap().iter().map(Value::as_f64).collect()
}

fn same_bits(got: &[Option<f64>], want: &[f64]) -> bool {
    got.len() == want.len()
        && got.iter().zip(want).all(|(g, w)| match g {
            Some(g) => g.to_bits() == w.to_bits(),
            None => w.is_nan(),
        })
}

// Exactly what vetiver's R client sends for mtcars[1:3, ] with a missing wt and a NaN hp:
// jsonlite::toJSON(new_data, na = "string") (4 decimals, "NA"/"NaN" strings, row names as "_row"),
// posted by httr without a Content-Type.
const VETIVER_MTCARS: &str = r#"[{"mpg":21,"cyl":6,"disp":160,"hp":110,"drat":3.9,"wt":2.62,"qsec":16.46,"vs":0,"am":1,"gear":4,"carb":4,"_row":"Mazda RX4"},{"mpg":21,"cyl":6,"disp":160,"hp":110,"drat":3.9,"wt":"NA","qsec":17.02,"vs":0,"am":1,"gear":4,"carb":4,"_row":"Mazda RX4 Wag"},{"mpg":22.8,"cyl":4,"disp":108,"hp":"NaN","drat":3.85,"wt":2.32,"qsec":18.61,"vs":1,"am":1,"gear":4,"carb":1,"_row":"Datsun 710"}]"#;
// iris[c(1, 51, 101), ] with a missing Species and an infinite Petal.Width, the same way.
const VETIVER_IRIS: &str = r#"[{"Sepal.Length":5.1,"Sepal.Width":3.5,"Petal.Length":1.4,"Petal.Width":0.2,"Species":"setosa"},{"Sepal.Length":7,"Sepal.Width":3.2,"Petal.Length":4.7,"Petal.Width":1.4,"Species":"NA"},{"Sepal.Length":6.3,"Sepal.Width":3.3,"Petal.Length":6,"Petal.Width":"Inf","Species":"virginica"}]"#;
// warpbreaks[c(1, 30), ]
const VETIVER_WARPBREAKS: &str = r#"[{"breaks":26,"wool":"A","tension":"L"},{"breaks":29,"wool":"B","tension":"L"}]"#;

#[test]
fn vetiver_client_bodies_get_the_engines_numbers() {
    let dir = models();
    let s = Server::start(dir.path(), &["--default-model", "lm"], &[]);
    // no Content-Type, as httr sends it
    let r = s.post("/predict", VETIVER_MTCARS);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    let Values::Real(want) = engine_predict("lm-mtcars.json", VETIVER_MTCARS, PredictOptions::default()) else {
        panic!()
    };
    let got = numbers(&r.json()[".pred"]);
    assert!(same_bits(&got, &want), "{got:?} vs {want:?}");
    assert_eq!(got[1], None, "a missing input gives null");
    // with a Content-Type too, and as columns
    let r = s.request("POST", "/predict", &[("Content-Type", "application/json")], VETIVER_MTCARS.as_bytes());
    assert!(same_bits(&numbers(&r.json()[".pred"]), &want));
    let cols =
        r#"{"wt":[2.62,"NA",2.32],"cyl":[6,6,4],"hp":[110,110,"NaN"],"disp":[160,160,108],"qsec":[16.46,17.02,18.61]}"#;
    assert!(same_bits(&numbers(&s.post("/predict", cols).json()[".pred"]), &want));
    // one row is still an array
    let one = s.post("/predict", r#"[{"wt":2.62,"cyl":6,"hp":110,"disp":160,"qsec":16.46}]"#).json();
    assert_eq!(one[".pred"].as_array().unwrap().len(), 1);

    // a classifier: classes by default, probabilities as .pred_<class>
    let r = s.post("/models/rf/predict", VETIVER_IRIS).json();
    assert_eq!(r[".pred"][0], "setosa");
    let r = s.post("/models/rf/predict?type=prob", VETIVER_IRIS);
    let Values::Real(prob) = engine_predict(
        "randomForest-iris-gz.json.gz",
        VETIVER_IRIS,
        PredictOptions { type_: Some("prob".into()), ..PredictOptions::default() },
    ) else {
        panic!()
    };
    let r = r.json();
    for (k, class) in ["setosa", "versicolor", "virginica"].iter().enumerate() {
        assert!(same_bits(&numbers(&r[format!(".pred_{class}")]), &prob[3 * k..3 * k + 3]));
    }
    let r = s.post("/models/tree/predict", VETIVER_WARPBREAKS).json();
    assert_eq!(r.as_object().unwrap().len(), 3, "{r}");
}

#[test]
fn vetiver_ping_metadata_prototype_and_default_model() {
    let dir = TempDir::new();
    dir.add("rpart-warpbreaks.json", "tree.json");
    let s = Server::start(dir.path(), &[], &[]);
    let ping = s.get("/ping").json();
    assert_eq!(ping["status"], "online");
    assert_eq!(ping["time"].as_str().unwrap().len(), 19);
    let meta = s.get("/metadata").json();
    for key in ["user", "version", "url", "required_pkgs"] {
        assert!(meta.get(key).is_some(), "{key} missing from {meta}");
    }
    assert_eq!(meta["fastpredict"]["model"]["algorithm"], "rpart");
    let proto = s.get("/prototype").json();
    assert_eq!(proto["wool"], json!({"type": "factor", "example": "A", "details": {"levels": ["A", "B"]}}));
    assert_eq!(s.get("/models/tree/prototype").json(), proto);
    assert_eq!(s.get("/models/tree/metadata").json()["version"], meta["version"]);
    // the only model is the default
    assert_eq!(s.post("/predict", VETIVER_WARPBREAKS).status, 200);
}

// The OIP REST specification's inference request example, with this model's inputs and outputs.
const OIP_REQUEST: &str = r#"{
  "id" : "42",
  "inputs" : [
    { "name" : "Sepal.Length", "shape" : [ 2 ], "datatype" : "FP64", "data" : [ 5.1, 6.3 ] },
    { "name" : "Sepal.Width", "shape" : [ 2 ], "datatype" : "FP32", "data" : [ 3.5, 3.3 ] },
    { "name" : "Petal.Length", "shape" : [ 2, 1 ], "datatype" : "FP64", "data" : [ [ 1.4 ], [ 6 ] ] },
    { "name" : "Petal.Width", "shape" : [ 2 ], "datatype" : "INT64", "data" : [ 0, 2 ] }
  ],
  "outputs" : [ { "name" : "response" } ]
}"#;

#[test]
fn oip_routes() {
    let dir = models();
    let s = Server::start(dir.path(), &[], &[]);
    assert_eq!(s.get("/v2/health/live").json(), json!({"live": true}));
    assert_eq!(s.get("/v2/health/ready").json(), json!({"ready": true}));
    let server = s.get("/v2").json();
    assert_eq!(server["name"], "fastpredict-server");
    assert!(server["extensions"].is_array());

    let meta = s.get("/v2/models/rf").json();
    assert_eq!(meta["platform"], "fastpredict_json");
    assert_eq!(meta["inputs"][0], json!({"name": "Sepal.Length", "datatype": "FP64", "shape": [-1]}));
    assert_eq!(meta["outputs"], json!([{"name": "response", "datatype": "BYTES", "shape": [-1]}]));
    let version = meta["versions"][0].as_str().unwrap().to_string();
    assert_eq!(s.get(&format!("/v2/models/rf/versions/{version}")).json(), meta);
    assert_eq!(s.get("/v2/models/rf/versions/0").status, 404);
    assert_eq!(s.get("/v2/models/rf/ready").json(), json!({"name": "rf", "ready": true}));
    assert_eq!(s.get(&format!("/v2/models/rf/versions/{version}/ready")).status, 200);
    assert_eq!(s.get("/v2/models/nope/ready").status, 404);

    let r = s.post("/v2/models/rf/infer", OIP_REQUEST);
    assert_eq!(r.status, 200, "{}", r.text());
    let r = r.json();
    assert_eq!((r["id"].as_str(), r["model_name"].as_str()), (Some("42"), Some("rf")));
    assert_eq!(r["model_version"], version.as_str());
    assert_eq!(r["outputs"][0]["datatype"], "BYTES");
    assert_eq!(r["outputs"][0]["data"], json!(["setosa", "virginica"]));
    // options in the request's parameters; a probability matrix row-major with its columns named
    let with_prob = OIP_REQUEST.replace("\"id\" : \"42\",", "\"parameters\": {\"type\": \"prob\"},");
    let r = s.request(
        "POST",
        &format!("/v2/models/rf/versions/{version}/infer"),
        &[("X-Request-Id", "req-7")],
        with_prob.as_bytes(),
    );
    assert_eq!(r.header("x-request-id"), Some("req-7"));
    let r = r.json();
    assert_eq!(r["id"], "req-7", "without an id the answer carries the request's");
    let out = &r["outputs"][0];
    assert_eq!((out["name"].as_str(), out["shape"].clone()), (Some("prob"), json!([2, 3])));
    assert_eq!(out["parameters"]["columns"], json!(["setosa", "versicolor", "virginica"]));
    let Values::Real(prob) = engine_predict(
        "randomForest-iris-gz.json.gz",
        r#"{"Sepal.Length":[5.1,6.3],"Sepal.Width":[3.5,3.3],"Petal.Length":[1.4,6],"Petal.Width":[0,2]}"#,
        PredictOptions { type_: Some("prob".into()), ..PredictOptions::default() },
    ) else {
        panic!()
    };
    let row_major = [prob[0], prob[2], prob[4], prob[1], prob[3], prob[5]];
    assert!(same_bits(&numbers(&out["data"]), &row_major));
}

#[test]
fn mlserver_pandas_requests() {
    let dir = models();
    let s = Server::start(dir.path(), &[], &[]);
    // MLServer's "pd" content type: one column per input, strings as BYTES with content_type "str"
    let body = r#"{"parameters": {"content_type": "pd"}, "inputs": [
        {"name": "breaks", "datatype": "INT32", "shape": [2], "data": [26, null]},
        {"name": "wool", "datatype": "BYTES", "parameters": {"content_type": "str"}, "shape": [2], "data": ["A", "B"]}]}"#;
    let r = s.post("/v2/models/tree/infer", body);
    assert_eq!(r.status, 200, "{}", r.text());
    let out = &r.json()["outputs"][0];
    assert_eq!(out["shape"], json!([2, 3]));
    assert_eq!(out["parameters"]["columns"], json!(["L", "M", "H"]));
    let Values::Real(want) =
        engine_predict("rpart-warpbreaks.json", r#"{"breaks":[26,null],"wool":["A","B"]}"#, PredictOptions::default())
    else {
        panic!()
    };
    let want = [want[0], want[2], want[4], want[1], want[3], want[5]];
    assert!(same_bits(&numbers(&out["data"]), &want));
}

/// lm's standard errors and intervals through both protocols (a list output: one OIP output per part; vetiver
/// columns `.pred`, `.pred_lwr`, `.pred_upr`, `.se_fit`, `.df`, `.residual_scale`), and the model card in both
/// metadata routes.
#[test]
fn prediction_options_list_outputs_and_the_model_card() {
    let dir = TempDir::new();
    dir.add_in("1.3", "lm-card.json", "lm.json");
    let s = Server::start(dir.path(), &[], &[]);
    let m = Model::load(&common::fixture_in("1.3", "lm-card.json")).unwrap();
    let cols = r#"{"wt":[2.62,3.5,"NA"],"hp":[110,200,90]}"#;
    let mut r = Decoder::new(m.inputs()).vetiver(cols.as_bytes(), &WireLimits::default()).unwrap();
    r.options = PredictOptions {
        se_fit: Some(true),
        interval: Some("prediction".into()),
        level: Some(0.9),
        ..PredictOptions::default()
    };
    let frame = r.frame.frame();
    let want = m.prepare(&frame, &r.options).unwrap().predict(1).unwrap();
    let (Values::Real(fit), Values::Real(se)) = (&want.parts[0], &want.parts[1]) else { panic!() };

    let got = s.post("/predict?se_fit=true&interval=prediction&level=0.9", cols);
    assert_eq!(got.status, 200, "{}", got.text());
    let got = got.json();
    let keys: Vec<&String> = got.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 6, "{got}");
    assert!(same_bits(&numbers(&got[".pred"]), &fit[0..3]));
    assert!(same_bits(&numbers(&got[".pred_lwr"]), &fit[3..6]));
    assert!(same_bits(&numbers(&got[".pred_upr"]), &fit[6..9]));
    assert!(same_bits(&numbers(&got[".se_fit"]), se));
    assert_eq!(numbers(&got[".df"]).len(), 3);

    let body = r#"{"inputs": [{"name": "wt", "datatype": "FP64", "shape": [3], "data": [2.62, 3.5, null]},
        {"name": "hp", "datatype": "INT32", "shape": [3], "data": [110, 200, 90]}],
        "parameters": {"se_fit": true, "interval": "prediction", "level": 0.9}}"#;
    let got = s.post("/v2/models/lm/infer", body);
    assert_eq!(got.status, 200, "{}", got.text());
    let outputs = got.json()["outputs"].clone();
    let names: Vec<&str> = outputs.as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["fit", "lwr", "upr", "se_fit", "df", "residual_scale"]);
    assert_eq!(outputs[0]["shape"], json!([3]));
    assert!(same_bits(&numbers(&outputs[2]["data"]), &fit[6..9]));
    assert!(same_bits(&numbers(&outputs[3]["data"]), se));
    assert_eq!(outputs[3]["parameters"]["r_name"], "se.fit");
    assert_eq!(outputs[4]["shape"], json!([1]));

    // an option the model does not take, or a bad value, is a 400 naming it
    let r = s.post("/predict?n_trees=5", cols);
    assert_eq!(r.status, 400);
    assert!(error_of(&r).contains("'n_trees'"));
    let r = s.post("/v2/models/lm/infer", &body.replace("0.9", "\"high\""));
    assert_eq!(r.status, 400);
    assert!(error_of(&r).contains("level"));

    // the card: vetiver's user metadata, and in the OIP model metadata's parameters
    let card = serde_json::to_value(&m.info().card).unwrap();
    assert_eq!(card["metrics"]["r2"], json!(0.8268));
    assert_eq!(s.get("/metadata").json()["user"], card);
    assert_eq!(s.get("/metadata").json()["fastpredict"]["model"]["card"], card);
    assert_eq!(s.get("/v2/models/lm").json()["parameters"]["card"], card);
    // the card was written for this very model
    assert_eq!(s.get("/v2/models/lm").json()["parameters"]["content_hash"], card["content_hash"]);
    assert_eq!(s.get("/metadata").json()["fastpredict"]["content_hash"], card["content_hash"]);
}

/// glmnet (a model that predicts from a matrix): its options, text classes, and the matrix forms of a body.
#[test]
fn glmnet_options_classes_and_matrix_bodies() {
    let dir = TempDir::new();
    dir.add_in("1.4", "glmnet-binomial-cv-mtcars.json", "cv.json");
    let s = Server::start(dir.path(), &[], &[]);
    let m = Model::load(&common::fixture_in("1.4", "glmnet-binomial-cv-mtcars.json")).unwrap();
    let records = r#"[{"mpg":21,"wt":2.62,"hp":110,"qsec":16.46,"drat":3.9},{"mpg":30.4,"wt":1.6,"hp":52,"qsec":18.5,"drat":4.9}]"#;
    let predict = |options: PredictOptions| {
        let mut r = Decoder::for_model(&m).vetiver(records.as_bytes(), &WireLimits::default()).unwrap();
        r.options = options;
        let frame = r.frame.frame();
        let p = m.prepare(&frame, &r.options).unwrap().predict(1).unwrap();
        p
    };
    let rule = || Some(fastpredict_engine::Penalty::Rule("lambda.min".into()));
    let classes = predict(PredictOptions { type_: Some("class".into()), s: rule(), ..PredictOptions::default() });
    let (Values::Int(codes), fastpredict_engine::ValueKind::Character(labels)) =
        (&classes.parts[0], &classes.shape.array().unwrap().values)
    else {
        panic!("not text classes")
    };
    let want: Vec<&str> = codes.iter().map(|&c| labels[c as usize - 1].as_str()).collect();
    let got = s.post("/predict?type=class&s=lambda.min", records);
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(got.json()[".pred_lambda.min"], json!(want));
    // rows as arrays (jsonlite's matrix), in the order of the inputs
    let order: Vec<&str> = m.inputs().iter().map(|i| i.name.as_str()).collect();
    assert_eq!(order, ["mpg", "wt", "hp", "qsec", "drat"]);
    let rows = "[[21,2.62,110,16.46,3.9],[30.4,1.6,52,18.5,4.9]]";
    assert_eq!(s.post("/predict?type=class&s=lambda.min", rows).json(), got.json());

    // OIP: one [N, P] tensor, probabilities at two penalties
    let Values::Real(prob) = &predict(PredictOptions {
        type_: Some("response".into()),
        s: Some(fastpredict_engine::Penalty::Values { values: vec![0.01, 0.1], names: None }),
        ..PredictOptions::default()
    })
    .parts[0] else {
        panic!()
    };
    let body = format!(
        r#"{{"inputs":[{{"name":"x","datatype":"FP64","shape":[2,5],"data":{rows}}}],
            "parameters":{{"type":"response","s":[0.01,0.1]}}}}"#
    );
    let r = s.post("/v2/models/cv/infer", &body);
    assert_eq!(r.status, 200, "{}", r.text());
    let out = &r.json()["outputs"][0];
    assert_eq!(out["shape"], json!([2, 2]));
    assert!(same_bits(&numbers(&out["data"]), &[prob[0], prob[2], prob[1], prob[3]]));
    // the whole path is refused for a cv.glmnet model, as predict.cv.glmnet() does
    let r = s.post("/v2/models/cv/infer", &body.replace("[0.01,0.1]", "null"));
    assert_eq!(r.status, 400, "{}", r.text());
}

/// The JSON error body every client can read: `error` (OIP) and `message` (vetiver).
fn error_of(r: &common::Reply) -> String {
    let v = r.json();
    assert_eq!(v["error"], v["message"], "{v}");
    assert!(v["kind"].is_string(), "{v}");
    v["message"].as_str().unwrap().to_string()
}

#[test]
fn bad_input_gets_a_json_error_naming_the_problem() {
    let dir = models();
    let s = Server::start(dir.path(), &["--max-body", "4096", "--max-rows", "5"], &[]);
    let cases: Vec<(&str, String, u16, &str)> = vec![
        ("/models/lm/predict", "[{\"wt\": 2.6,".into(), 400, "not valid JSON"),
        ("/models/lm/predict", "".into(), 400, "empty"),
        ("/models/lm/predict", r#"[{"wt":"heavy","cyl":6,"hp":110,"disp":160,"qsec":16}]"#.into(), 422, "'wt'"),
        ("/models/lm/predict", r#"[{"wt":2.6,"cyl":6,"hp":110,"disp":160}]"#.into(), 422, "'qsec'"),
        ("/models/glm/predict", r#"[{"Species":"dahlia","Petal.Width":1,"Sepal.Width":3}]"#.into(), 422, "'dahlia'"),
        ("/models/lm/predict?type=terms", VETIVER_MTCARS.into(), 400, "terms"),
        ("/models/lm/predict?ntrees=3", VETIVER_MTCARS.into(), 400, "ntrees"),
        ("/models/nope/predict", VETIVER_MTCARS.into(), 404, "'nope'"),
        ("/models/lm/predict", format!("[{}]", [r#"{"wt":1}"#; 6].join(",")), 413, "rows"),
        ("/models/lm/predict", format!("[{}]", [r#"{"wt":1.0}"#; 500].join(",")), 413, "4096 bytes"),
        ("/v2/models/nope/infer", OIP_REQUEST.into(), 404, "'nope'"),
        ("/v2/models/rf/infer", OIP_REQUEST.replace("FP32", "BYTES"), 400, "Sepal.Width"),
        ("/v2/models/rf/infer", OIP_REQUEST.replace("\"Sepal.Length\"", "\"x\""), 400, "'Sepal.Length'"),
        ("/v2/models/rf/infer", OIP_REQUEST.replace("[ 5.1, 6.3 ]", "[ 5.1 ]"), 400, "shape"),
        ("/v2/models/rf/infer", "{}".into(), 400, "inputs"),
    ];
    for (path, body, status, says) in cases {
        let r = s.post(path, &body);
        assert_eq!(r.status, status, "{path}: {}", r.text());
        let message = error_of(&r);
        assert!(message.contains(says), "{path}: {message}");
    }
    // what the router itself refuses is JSON too
    let r = s.get("/predict");
    assert_eq!(r.status, 405);
    assert!(error_of(&r).contains("GET"));
    let r = s.get("/no/such/route");
    assert_eq!(r.status, 404);
    assert!(error_of(&r).contains("/no/such/route"));
    // the server still serves after all that
    assert_eq!(s.post("/models/lm/predict", VETIVER_MTCARS).status, 200);
}

#[test]
fn api_keys_from_the_environment_and_a_file() {
    let dir = models();
    let keys = TempDir::new();
    let file = keys.path().join("keys");
    std::fs::write(&file, "# rotated monthly\nfile-key\n\n").unwrap();
    let s =
        Server::start(dir.path(), &["--api-key-file", file.to_str().unwrap()], &[("FASTPREDICT_API_KEY", "env-key")]);
    let body = VETIVER_MTCARS.as_bytes();
    let r = s.request("POST", "/models/lm/predict", &[], body);
    assert_eq!(r.status, 401);
    assert!(error_of(&r).contains("API key"));
    assert!(r.header("www-authenticate").is_some());
    let r = s.request("POST", "/models/lm/predict", &[("Authorization", "Bearer wrong")], body);
    assert_eq!((r.status, error_of(&r).contains("not valid")), (401, true));
    for header in [("Authorization", "Bearer env-key"), ("Authorization", "Key file-key"), ("X-API-Key", "env-key")] {
        assert_eq!(s.request("POST", "/models/lm/predict", &[header], body).status, 200, "{header:?}");
    }
    assert_eq!(s.get("/v2/models/lm").status, 401);
    assert_eq!(s.get("/metrics").status, 401);
    // health probes stay open
    for path in ["/v2/health/live", "/v2/health/ready", "/ping", "/v2/models/lm/ready"] {
        assert_eq!(s.get(path).status, 200, "{path}");
    }
}

#[test]
fn rate_limit_per_client_with_retry_after() {
    let dir = models();
    let s = Server::start(dir.path(), &["--rate-limit", "0.5", "--rate-burst", "2"], &[("FASTPREDICT_API_KEY", "a,b")]);
    let as_a = [("X-API-Key", "a")];
    assert_eq!(s.request("GET", "/v2/models/lm", &as_a, b"").status, 200);
    assert_eq!(s.request("GET", "/v2/models/lm", &as_a, b"").status, 200);
    let r = s.request("POST", "/models/lm/predict", &as_a, VETIVER_MTCARS.as_bytes());
    assert_eq!(r.status, 429);
    assert!(error_of(&r).contains("too many requests"));
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
    // another key has its own bucket; probes are not limited
    assert_eq!(s.request("GET", "/v2/models/lm", &[("X-API-Key", "b")], b"").status, 200);
    for _ in 0..5 {
        assert_eq!(s.get("/v2/health/ready").status, 200);
    }
}

#[test]
fn slow_bodies_time_out_and_busy_servers_shed_load() {
    let dir = models();
    let s = Server::start(dir.path(), &["--timeout", "1", "--max-concurrency", "1"], &[]);
    // a request whose body never finishes holds the only slot ...
    let mut slow = s.connect();
    write_head(&mut slow, "POST", "/models/lm/predict", &[], 1000);
    slow.write_all(b"[{\"wt\":").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    // ... so another is refused at once
    let r = s.post("/models/lm/predict", VETIVER_MTCARS);
    assert_eq!(r.status, 503);
    assert!(error_of(&r).contains("busy"));
    assert_eq!(r.header("retry-after"), Some("1"));
    // and the slow one gets a 408 when its time is up
    let r = read_reply(&mut slow);
    assert_eq!(r.status, 408, "{}", r.text());
    assert!(error_of(&r).contains("did not arrive"));
    assert_eq!(s.post("/models/lm/predict", VETIVER_MTCARS).status, 200);
}

/// A forest of many copies of the fixture's trees, slow enough to pass a short deadline.
fn big_forest(dir: &TempDir) {
    let bytes = std::fs::read(fixture("randomForest-iris-gz.json.gz")).unwrap();
    let mut doc = fastpredict_engine::io::from_bytes(&bytes).unwrap();
    let trees = doc.trees.as_mut().unwrap();
    let one = trees.trees.clone();
    for _ in 0..300 {
        trees.trees.extend(one.iter().cloned());
    }
    let text = fastpredict_engine::io::to_json(&doc, false).unwrap();
    std::fs::write(dir.path().join("big.json"), text).unwrap();
}

#[test]
fn a_prediction_past_its_deadline_is_stopped_with_503() {
    let dir = TempDir::new();
    big_forest(&dir);
    let s = Server::start(dir.path(), &["--timeout", "0.3", "--max-rows", "1000000"], &[]);
    let rows = 200_000;
    let col = |v: &str| vec![v; rows].join(",");
    let body = format!(
        "{{\"Sepal.Length\":[{}],\"Sepal.Width\":[{}],\"Petal.Length\":[{}],\"Petal.Width\":[{}]}}",
        col("5.1"),
        col("3.5"),
        col("1.4"),
        col("0.2")
    );
    let start = std::time::Instant::now();
    let r = s.post("/models/big/predict?type=prob", &body);
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(error_of(&r).contains("longer than"), "{}", r.text());
    assert!(start.elapsed() < Duration::from_secs(20));
    // single rows still work
    let one = r#"[{"Sepal.Length":5.1,"Sepal.Width":3.5,"Petal.Length":1.4,"Petal.Width":0.2}]"#;
    assert_eq!(s.post("/models/big/predict", one).status, 200);
}

#[test]
fn metrics_and_request_logs() {
    let dir = models();
    let s = Server::start(dir.path(), &[], &[]);
    assert_eq!(
        s.request("POST", "/models/lm/predict", &[("X-Request-Id", "abc-123")], VETIVER_MTCARS.as_bytes()).status,
        200
    );
    assert_eq!(s.post("/models/lm/predict", "[{\"wt\":").status, 400);
    assert_eq!(s.post("/v2/models/rf/infer", OIP_REQUEST).status, 200);
    let m = s.get("/metrics");
    assert!(m.header("content-type").unwrap().starts_with("text/plain"));
    let text = m.text();
    for needle in [
        "fastpredict_requests_total{route=\"/models/{name}/predict\",model=\"lm\",status=\"200\"} 1",
        "fastpredict_requests_total{route=\"/models/{name}/predict\",model=\"lm\",status=\"400\"} 1",
        "fastpredict_requests_total{route=\"/v2/models/{name}/infer\",model=\"rf\",status=\"200\"} 1",
        "fastpredict_request_duration_seconds_bucket{route=\"/models/{name}/predict\",le=\"+Inf\"} 2",
        "fastpredict_rows_predicted_total{model=\"lm\"} 3",
        "fastpredict_rows_predicted_total{model=\"rf\"} 2",
        "fastpredict_models_loaded 4",
        "fastpredict_requests_in_flight 1",
        "format_version=\"1.0\",content_hash=\"sha256:",
    ] {
        assert!(text.contains(needle), "{needle} not in\n{text}");
    }
    // one JSON line per request, with the client's request id or a made one
    s.eventually("the request log lines", Duration::from_secs(5), |s| s.log_events("request").len() >= 4);
    let lines = s.log_events("request");
    let first = &lines[0];
    assert_eq!(first["request_id"], "abc-123");
    assert_eq!((first["status"].as_u64(), first["rows"].as_u64()), (Some(200), Some(3)));
    assert_eq!(first["model"], "lm");
    assert!(first["micros"].is_u64() && first["timestamp"].is_string());
    assert!(lines[1]["request_id"].as_str().unwrap().len() > 4);
}

#[test]
fn help_names_each_flags_variable_and_default() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fastpredict-server")).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "FASTPREDICT_MODELS",
        "FASTPREDICT_PORT",
        "[default: 8080]",
        "FASTPREDICT_MAX_BODY",
        "[default: 16MiB]",
        "FASTPREDICT_API_KEY",
        "/mnt/models",
        "--limit-file-bytes",
        "FASTPREDICT_LIMIT_TREES",
        "[default: 1000000]",
    ] {
        assert!(help.contains(needle), "{needle} not in --help:\n{help}");
    }
}

/// The engine's load limits, by flag or environment variable: a file above one is reported and not served.
#[test]
fn load_limits_refuse_a_model_by_flag_or_environment() {
    let dir = models();
    let by_flag = Server::start(dir.path(), &["--limit-trees", "10"], &[]);
    let by_env = Server::start(dir.path(), &[], &[("FASTPREDICT_LIMIT_TREES", "10")]);
    for s in [by_flag, by_env] {
        let metrics = s.get("/metrics").text();
        assert!(metrics.contains("fastpredict_models_loaded 3"), "{metrics}");
        let failed = metrics.lines().find(|l| l.starts_with("fastpredict_model_load_failed{file=\"rf.json.gz\""));
        assert!(failed.is_some_and(|l| l.contains("load limit 'trees' of 10")), "{metrics}");
        assert_eq!(s.get("/v2/models/rf").status, 404);
        assert_eq!(s.get("/v2/models/lm").status, 200);
    }
}

/// The booster fixtures' first `n` rows without a missing value, as OIP inputs named as the model
/// names its inputs (a model saved without feature names calls them `Column_0`, ...), and their row
/// numbers.
fn booster_rows(case: &str, n: usize, names: &[&str]) -> (String, Vec<usize>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/testthat/fixtures/boosters").join(case);
    let data: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("data.json")).unwrap()).unwrap();
    let columns = data["columns"].as_object().unwrap();
    let total = data["n_rows"].as_u64().unwrap() as usize;
    let rows: Vec<usize> = (0..total).filter(|&i| columns.values().all(|c| c[i].is_number())).take(n).collect();
    assert_eq!(columns.len(), names.len());
    let inputs: Vec<Value> = columns
        .values()
        .zip(names)
        .map(|(c, name)| {
            let values: Vec<Value> = rows.iter().map(|&i| c[i].clone()).collect();
            json!({"name": name, "datatype": "FP64", "shape": [rows.len()], "data": values})
        })
        .collect();
    (json!({ "inputs": inputs }).to_string(), rows)
}

/// What the library itself predicted for a booster fixture's rows, by the prediction's name.
fn booster_expected(case: &str, name: &str, rows: &[usize]) -> Vec<f64> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/testthat/fixtures/boosters").join(case);
    let e: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let p = e["predictions"].as_array().unwrap().iter().find(|p| p["name"] == name).unwrap();
    rows.iter().map(|&i| p["values"][i].as_f64().unwrap()).collect()
}

/// xgboost's model.json and LightGBM's model.txt are served as the libraries saved them; a `.txt` that
/// is not a LightGBM model is no model.
#[test]
fn xgboost_and_lightgbm_files_are_served_as_saved() {
    let dir = TempDir::new();
    let boosters = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/testthat/fixtures/boosters");
    std::fs::copy(boosters.join("xgb_binary_logistic/model.json"), dir.path().join("xgb.json")).unwrap();
    std::fs::copy(boosters.join("lgb_binary/model.txt"), dir.path().join("lgb.txt")).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "these models were trained on ...\n").unwrap();
    let s = Server::start(dir.path(), &[], &[]);
    for (name, status) in [("xgb", 200), ("lgb", 200), ("notes", 404)] {
        assert_eq!(s.get(&format!("/v2/models/{name}/ready")).status, status, "{name}");
    }

    let input_names = |model: &str| -> Vec<String> {
        let meta = s.get(&format!("/v2/models/{model}")).json();
        meta["inputs"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_string()).collect()
    };
    let xgb_names = input_names("xgb");
    let (body, rows) =
        booster_rows("xgb_binary_logistic", 5, &xgb_names.iter().map(String::as_str).collect::<Vec<_>>());
    let r = s.post("/v2/models/xgb/infer", &body);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(same_bits(
        &numbers(&r.json()["outputs"][0]["data"]),
        &booster_expected("xgb_binary_logistic", "value_inplace", &rows)
    ));

    let lgb_names = input_names("lgb");
    let (body, rows) = booster_rows("lgb_binary", 5, &lgb_names.iter().map(String::as_str).collect::<Vec<_>>());
    let body = body.replacen('{', r#"{"parameters":{"type":"raw","start_iteration":5,"num_iteration":10},"#, 1);
    let r = s.post("/v2/models/lgb/infer", &body);
    assert_eq!(r.status, 200, "{}", r.text());
    let want = booster_expected("lgb_binary", "raw_start5_num10", &rows);
    for (g, w) in numbers(&r.json()["outputs"][0]["data"]).iter().zip(&want) {
        assert!((g.unwrap() - w).abs() <= 1e-12 * w.abs().max(1.0), "{g:?} vs {w}");
    }
}
