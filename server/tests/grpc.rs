//! The gRPC service (`inference.GRPCInferenceService`, `grpc.health.v1`) over real loopback HTTP/2 on the REST
//! port: every RPC and every error class, each answer compared with REST's for the same request (predictions
//! bit for bit, errors with the same message).

// A test may unwrap and panic: that is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "common/grpc.rs"]
mod grpc;

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Bytes;
use common::{fixture, Server, TempDir};
use grpc::pb::grpc_inference_service_client::GrpcInferenceServiceClient;
use grpc::pb::infer_parameter::ParameterChoice;
use grpc::pb::{self, ModelInferRequest, ModelInferResponse};
use grpc::{from_rest, to_raw};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

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

async fn channel(s: &Server) -> Channel {
    Channel::from_shared(format!("http://127.0.0.1:{}", s.port)).unwrap().connect().await.unwrap()
}

async fn client(s: &Server) -> GrpcInferenceServiceClient<Channel> {
    GrpcInferenceServiceClient::new(channel(s).await)
}

fn with_metadata<T>(message: T, metadata: &[(&'static str, &str)]) -> Request<T> {
    let mut r = Request::new(message);
    for (k, v) in metadata {
        r.metadata_mut().insert(*k, v.parse().unwrap());
    }
    r
}

/// A tensor of an OIP REST body.
fn tensor(name: &str, datatype: &str, data: Value) -> Value {
    let n = data.as_array().unwrap().len();
    json!({ "name": name, "datatype": datatype, "shape": [n], "data": data })
}

fn body(id: &str, inputs: Vec<Value>, parameters: Value) -> Value {
    json!({ "id": id, "inputs": inputs, "parameters": parameters })
}

/// mtcars[1:3, ] as the lm reads it, with a missing weight.
fn lm_body() -> Value {
    body(
        "lm-1",
        vec![
            tensor("wt", "FP64", json!([2.62, null, 2.32])),
            tensor("cyl", "FP64", json!([6, 6, 4])),
            tensor("hp", "FP64", json!([110, 110, 93])),
            tensor("disp", "FP64", json!([160, 160, 108])),
            tensor("qsec", "FP64", json!([16.46, 17.02, 18.61])),
        ],
        json!({}),
    )
}

/// iris[c(1, 51, 101), ] with full-precision doubles.
fn iris_body(parameters: Value) -> Value {
    body(
        "iris-1",
        vec![
            tensor("Sepal.Length", "FP64", json!([5.1, 7.0, 6.3])),
            tensor("Sepal.Width", "FP64", json!([3.5, 3.2, 3.3])),
            tensor("Petal.Length", "FP64", json!([1.4, 4.7, 6.0])),
            tensor("Petal.Width", "FP64", json!([0.2, 1.4, 2.5])),
            tensor("Species", "BYTES", json!(["setosa", "versicolor", null])),
        ],
        parameters,
    )
}

fn warpbreaks_body(parameters: Value) -> Value {
    body(
        "wb-1",
        vec![tensor("breaks", "FP64", json!([26, null, 54])), tensor("wool", "BYTES", json!(["A", "B", null]))],
        parameters,
    )
}

/// An output's values: doubles or classes, from `contents` or `raw_output_contents`.
enum Out {
    Fp64(Vec<f64>),
    Bytes(Vec<String>),
}

fn out_values(r: &ModelInferResponse, k: usize) -> Out {
    let o = &r.outputs[k];
    if let Some(raw) = r.raw_output_contents.get(k) {
        assert!(o.contents.is_none(), "raw and typed contents at once");
        return match o.datatype.as_str() {
            "FP64" => Out::Fp64(raw.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect()),
            _ => {
                let (mut rest, mut out) = (&raw[..], Vec::new());
                while !rest.is_empty() {
                    let n = u32::from_le_bytes(rest[..4].try_into().unwrap()) as usize;
                    out.push(String::from_utf8(rest[4..4 + n].to_vec()).unwrap());
                    rest = &rest[4 + n..];
                }
                Out::Bytes(out)
            }
        };
    }
    let c = o.contents.as_ref().unwrap();
    match o.datatype.as_str() {
        "FP64" => Out::Fp64(c.fp64_contents.clone()),
        _ => Out::Bytes(c.bytes_contents.iter().map(|b| String::from_utf8(b.clone()).unwrap()).collect()),
    }
}

/// gRPC's answer is REST's: the same outputs, shapes and column names, every double with the same bits (where
/// REST has `null`, a value that is not finite), every class the same (a missing one is `"NA"`).
fn same_as_rest(rest: &Value, g: &ModelInferResponse) {
    assert_eq!(rest["model_name"], g.model_name);
    assert_eq!(rest["model_version"], g.model_version);
    assert_eq!(rest["id"], g.id);
    let outputs = rest["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), g.outputs.len());
    for (k, (r, o)) in outputs.iter().zip(&g.outputs).enumerate() {
        assert_eq!((r["name"].as_str(), r["datatype"].as_str()), (Some(o.name.as_str()), Some(o.datatype.as_str())));
        assert_eq!(r["shape"], json!(o.shape));
        let params: serde_json::Map<String, Value> = o
            .parameters
            .iter()
            .map(|(k, p)| match &p.parameter_choice {
                Some(ParameterChoice::StringParam(s)) => (k.clone(), serde_json::from_str(s).unwrap()),
                Some(ParameterChoice::BoolParam(b)) => (k.clone(), Value::Bool(*b)),
                other => panic!("parameter {k} is {other:?}"),
            })
            .collect();
        assert_eq!(r.get("parameters").cloned().unwrap_or(json!({})), Value::Object(params));
        let data = r["data"].as_array().unwrap();
        match out_values(g, k) {
            Out::Fp64(v) => {
                assert_eq!(v.len(), data.len());
                for (x, y) in v.iter().zip(data) {
                    match y.as_f64() {
                        Some(y) => assert_eq!(x.to_bits(), y.to_bits(), "{x} vs {y}"),
                        None => assert!(!x.is_finite(), "REST has null where gRPC has {x}"),
                    }
                }
            }
            Out::Bytes(v) => {
                let want: Vec<String> = data.iter().map(|c| c.as_str().unwrap_or("NA").to_string()).collect();
                assert_eq!(v, want);
            }
        }
    }
}

/// A REST inference answer (or error) for `body`.
fn rest_infer(s: &Server, model: &str, body: &Value) -> (u16, Value) {
    let r = s.post(&format!("/v2/models/{model}/infer"), &body.to_string());
    (r.status, r.json())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn predictions_equal_rest_bit_for_bit() {
    let dir = models();
    let s = Server::start(dir.path(), &[], &[]);
    let mut c = client(&s).await;
    let cases = [
        ("lm", lm_body()),
        ("glm", iris_body(json!({}))),
        ("rf", iris_body(json!({}))),
        ("rf", iris_body(json!({ "type": "prob" }))),
        ("rf", iris_body(json!({ "type": "vote", "n_trees": "10", "norm_votes": false }))),
        ("tree", warpbreaks_body(json!({}))),
        ("tree", warpbreaks_body(json!({ "type": "class", "content_type": "pd" }))),
    ];
    for (model, body) in cases {
        let (status, rest) = rest_infer(&s, model, &body);
        assert_eq!(status, 200, "{model}: {rest}");
        let typed = from_rest(model, &body);
        let g = c.model_infer(typed.clone()).await.unwrap().into_inner();
        same_as_rest(&rest, &g);
        assert!(g.raw_output_contents.is_empty());
        // raw inputs get raw outputs, with the same values
        let g = c.model_infer(to_raw(typed)).await.unwrap().into_inner();
        assert_eq!(g.raw_output_contents.len(), g.outputs.len(), "{model}");
        same_as_rest(&rest, &g);
    }
    // a missing input gives R's NA (a NaN whose low word is 1954, as R tells NA from NaN), where REST has null
    let g = c.model_infer(from_rest("lm", &lm_body())).await.unwrap().into_inner();
    let Out::Fp64(v) = out_values(&g, 0) else { panic!() };
    assert!(v[1].is_nan() && v[1].to_bits() as u32 == 1954, "{:x}", v[1].to_bits());
    // the version named, and a request without an id gets the request's id
    let version = g.model_version.clone();
    let r = ModelInferRequest { model_version: version, id: String::new(), ..from_rest("lm", &lm_body()) };
    let g = c.model_infer(with_metadata(r, &[("x-request-id", "req-9")])).await.unwrap();
    assert_eq!(g.metadata().get("x-request-id").unwrap(), "req-9");
    assert_eq!(g.into_inner().id, "req-9");
}

/// Numeric inputs `names`, a column per name, from `rows` (row-major).
fn numeric_body(names: &[&str], rows: &[&[f64]], parameters: Value) -> Value {
    let inputs =
        names.iter().enumerate().map(|(j, name)| tensor(name, "FP64", rows.iter().map(|r| r[j]).collect())).collect();
    body("n-1", inputs, parameters)
}

/// The format's later kinds and options: list outputs with numbers of the whole call (lm's `df`, a survival
/// forest's death times), glmnet's text classes, penalties and one `[N, P]` matrix tensor, xgboost's and
/// LightGBM's options, coded inputs; the whole path refused for a cv.glmnet as over REST. Each as REST answers it,
/// and their metadata too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn later_kinds_and_options_equal_rest_bit_for_bit() {
    let dir = TempDir::new();
    dir.add_in("1.6", "lm-card.json", "lm.json");
    dir.add_in("1.6", "glmnet-binomial-cv-mtcars.json", "cv.json");
    dir.add_in("1.6", "ranger-veteran-survival-gz.json.gz", "surv.json.gz");
    dir.add_in("1.6", "xgboost-dart-binary.json", "xgb.json");
    dir.add_in("1.6", "lightgbm-rf-binary.json", "lgb.json");
    dir.add_in("1.6", "lightgbm-categorical-multiclass.json", "lgbm.json");
    let s = Server::start(dir.path(), &[], &[]);
    let mut c = client(&s).await;
    let mtcars = ["mpg", "wt", "hp", "qsec", "drat"];
    let cars: &[&[f64]] = &[&[21.0, 2.62, 110.0, 16.46, 3.9], &[30.4, 1.6, 52.0, 18.5, 4.9]];
    let xs: &[&[f64]] = &[&[0.5, -1.25, 3.0, 0.0, 2.0, 1.5], &[-0.3, 0.7, -2.0, 1.0, 0.0, -1.0]];
    let xgb = ["f0", "f1", "f2", "f3", "f4", "f5"];
    let lgb = ["Column_0", "Column_1", "Column_2", "Column_3", "Column_4", "Column_5"];
    let veteran = ["trt", "celltype", "karno", "diagtime", "age", "prior"];
    let cases = [
        ("lm", numeric_body(&["wt", "hp"], &[&[2.62, 110.0], &[3.5, 200.0]], json!({ "se_fit": true }))),
        ("lm", numeric_body(&["wt", "hp"], &[&[2.62, 110.0]], json!({ "interval": "prediction", "level": 0.9 }))),
        ("cv", numeric_body(&mtcars, cars, json!({ "type": "class", "s": "lambda.min" }))),
        (
            "cv",
            body(
                "m-1",
                vec![json!({ "name": "x", "datatype": "FP64", "shape": [2, 5], "data": cars })],
                json!({
                    "type": "response", "s": [0.01, 0.1]
                }),
            ),
        ),
        (
            "surv",
            numeric_body(&veteran, &[&[1.0, 2.0, 60.0, 7.0, 69.0, 0.0], &[2.0, 4.0, 40.0, 3.0, 55.0, 10.0]], json!({})),
        ),
        ("xgb", numeric_body(&xgb, xs, json!({}))),
        ("xgb", numeric_body(&xgb, xs, json!({ "iteration_range": [0, 2] }))),
        ("lgb", numeric_body(&lgb, xs, json!({ "start_iteration": 1, "num_iteration": 2 }))),
        ("lgbm", numeric_body(&lgb[..5], xs, json!({}))),
    ];
    for (model, body) in cases {
        let (status, rest) = rest_infer(&s, model, &body);
        assert_eq!(status, 200, "{model} {body}: {rest}");
        let typed = from_rest(model, &body);
        same_as_rest(&rest, &c.model_infer(typed.clone()).await.unwrap().into_inner());
        same_as_rest(&rest, &c.model_infer(to_raw(typed)).await.unwrap().into_inner());
    }
    for model in ["lm", "cv", "surv", "xgb", "lgb", "lgbm"] {
        let m = c.model_metadata(pb::ModelMetadataRequest { name: model.into(), version: String::new() }).await;
        same_metadata(&s.get(&format!("/v2/models/{model}")).json(), &m.unwrap().into_inner());
    }
    // the whole path (REST's null, here R's NULL) is refused for a cv.glmnet model, with REST's message
    let body = numeric_body(&mtcars, cars, json!({ "s": null }));
    let (status, rest) = rest_infer(&s, "cv", &body);
    assert_eq!(status, 400, "{rest}");
    same_error(&c.model_infer(from_rest("cv", &body)).await.unwrap_err(), Code::InvalidArgument, &rest);
}

/// gRPC's model metadata is REST's: name, platform, versions, tensors, and REST's parameters as properties
/// (strings as they are, the rest as JSON).
fn same_metadata(rest: &Value, m: &pb::ModelMetadataResponse) {
    assert_eq!((rest["name"].as_str(), rest["platform"].as_str()), (Some(&*m.name), Some(&*m.platform)));
    assert_eq!(rest["versions"], json!(m.versions));
    let tensors = |v: &[pb::model_metadata_response::TensorMetadata]| -> Value {
        v.iter().map(|t| json!({ "name": t.name, "datatype": t.datatype, "shape": t.shape })).collect()
    };
    assert_eq!(rest["inputs"], tensors(&m.inputs));
    assert_eq!(rest["outputs"], tensors(&m.outputs));
    for (k, v) in rest["parameters"].as_object().unwrap() {
        let p = &m.properties[k];
        match v {
            Value::String(s) => assert_eq!(s, p),
            other => assert_eq!(*other, serde_json::from_str::<Value>(p).unwrap(), "{k}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_and_readiness_rpcs_answer_as_rest() {
    let dir = models();
    let s = Server::start(dir.path(), &[], &[]);
    let mut c = client(&s).await;
    assert!(c.server_live(pb::ServerLiveRequest {}).await.unwrap().into_inner().live);
    assert!(c.server_ready(pb::ServerReadyRequest {}).await.unwrap().into_inner().ready);
    let server = c.server_metadata(pb::ServerMetadataRequest {}).await.unwrap().into_inner();
    let rest = s.get("/v2").json();
    assert_eq!((rest["name"].as_str(), rest["version"].as_str()), (Some(&*server.name), Some(&*server.version)));
    assert_eq!(rest["extensions"], json!(server.extensions));

    for model in ["lm", "rf", "tree", "glm"] {
        let rest = s.get(&format!("/v2/models/{model}")).json();
        let m = c
            .model_metadata(pb::ModelMetadataRequest { name: model.into(), version: String::new() })
            .await
            .unwrap()
            .into_inner();
        same_metadata(&rest, &m);
        let version = m.versions[0].clone();
        let ready = |version: &str| pb::ModelReadyRequest { name: model.into(), version: version.into() };
        assert!(c.model_ready(ready("")).await.unwrap().into_inner().ready);
        assert!(c.model_ready(ready(&version)).await.unwrap().into_inner().ready);
        let m = c.model_metadata(pb::ModelMetadataRequest { name: model.into(), version }).await.unwrap();
        assert_eq!(m.into_inner().name, model);
    }
    // an unknown model or version: NOT_FOUND with REST's message
    let e = c.model_ready(pb::ModelReadyRequest { name: "nope".into(), version: String::new() }).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    assert_eq!(e.message(), s.get("/v2/models/nope/ready").json()["error"]);
    let e = c.model_metadata(pb::ModelMetadataRequest { name: "rf".into(), version: "0".into() }).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    assert_eq!(e.message(), s.get("/v2/models/rf/versions/0").json()["error"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_server_is_live_but_not_ready() {
    let dir = TempDir::new();
    let s = Server::start(dir.path(), &[], &[]);
    let mut c = client(&s).await;
    assert!(c.server_live(pb::ServerLiveRequest {}).await.unwrap().into_inner().live);
    assert!(!c.server_ready(pb::ServerReadyRequest {}).await.unwrap().into_inner().ready);
    assert_eq!(s.get("/v2/health/ready").status, 503);
    let mut h = HealthClient::new(channel(&s).await);
    let status = h.check(HealthCheckRequest { service: String::new() }).await.unwrap().into_inner().status;
    assert_eq!(status, ServingStatus::NotServing as i32);
}

/// A gRPC error against REST's for the same request: the code, REST's message, and REST's kind in the
/// `fastpredict-error-kind` metadata.
fn same_error(e: &Status, code: Code, rest: &Value) {
    assert_eq!(e.code(), code, "{e:?} vs {rest}");
    assert_eq!(e.message(), rest["error"].as_str().unwrap(), "{rest}");
    assert_eq!(e.metadata().get("fastpredict-error-kind").unwrap().to_str().unwrap(), rest["kind"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_rest_messages_as_status_codes() {
    let dir = models();
    let s = Server::start(dir.path(), &["--max-body", "4096", "--max-rows", "5"], &[]);
    let mut c = client(&s).await;
    let iris = iris_body(json!({}));
    let without = |name: &str| {
        let mut b = iris.clone();
        b["inputs"].as_array_mut().unwrap().retain(|t| t["name"] != name);
        b
    };
    let replaced = |name: &str, t: Value| {
        let mut b = without(name);
        b["inputs"].as_array_mut().unwrap().push(t);
        b
    };
    let many = |n: usize| body("x", vec![tensor("wt", "FP64", json!(vec![2.5; n]))], json!({}));
    let cases: Vec<(&str, Value, Code)> = vec![
        ("nope", iris.clone(), Code::NotFound),
        ("rf", replaced("Petal.Width", tensor("Petal.Width", "BYTES", json!(["a", "b", "c"]))), Code::InvalidArgument),
        ("rf", without("Sepal.Length"), Code::InvalidArgument),
        (
            "glm",
            replaced("Species", tensor("Species", "BYTES", json!(["setosa", "dahlia", "NA"]))),
            Code::InvalidArgument,
        ),
        (
            "lm",
            body("x", lm_body()["inputs"].as_array().unwrap().clone(), json!({ "type": "terms" })),
            Code::InvalidArgument,
        ),
        ("rf", iris_body(json!({ "n_trees": 0 })), Code::InvalidArgument),
        ("rf", iris_body(json!({ "type": 3 })), Code::InvalidArgument),
        ("rf", iris_body(json!({ "norm_votes": "yes" })), Code::InvalidArgument),
        // an option of another kind of model, refused by name
        ("rf", iris_body(json!({ "iteration_range": [0, 2] })), Code::InvalidArgument),
        (
            "rf",
            replaced(
                "Petal.Width",
                json!({"name": "Petal.Width", "datatype": "FP64", "shape": [4], "data": [1, 2, 3]}),
            ),
            Code::InvalidArgument,
        ),
        (
            "rf",
            replaced(
                "Petal.Width",
                json!({"name": "Petal.Width", "datatype": "FP64", "shape": [3, 2], "data": [1, 2, 3]}),
            ),
            Code::InvalidArgument,
        ),
        ("lm", many(6), Code::ResourceExhausted),
        ("lm", many(2000), Code::ResourceExhausted),
    ];
    for (model, b, code) in cases {
        let (status, rest) = rest_infer(&s, model, &b);
        assert!(status >= 400, "{model}: {rest}");
        let e = c.model_infer(from_rest(model, &b)).await.unwrap_err();
        same_error(&e, code, &rest);
        // raw contents are checked the same way
        let e = c.model_infer(to_raw(from_rest(model, &b))).await.unwrap_err();
        same_error(&e, code, &rest);
    }
    // a datatype the protocol does not have
    let b = replaced("Petal.Width", tensor("Petal.Width", "COMPLEX", json!([1, 2, 3])));
    let (_, rest) = rest_infer(&s, "rf", &b);
    let mut r = from_rest("rf", &replaced("Petal.Width", tensor("Petal.Width", "FP64", json!([1, 2, 3]))));
    r.inputs.last_mut().unwrap().datatype = "COMPLEX".into();
    same_error(&c.model_infer(r).await.unwrap_err(), Code::InvalidArgument, &rest);

    // what only gRPC can get wrong
    let typed = from_rest("rf", &iris);
    let mut half_raw = to_raw(typed.clone());
    half_raw.raw_input_contents.pop();
    let mut mixed = to_raw(typed.clone());
    mixed.inputs[0].contents = typed.inputs[0].contents.clone();
    let mut fp16 = typed.clone();
    fp16.inputs[0].datatype = "FP16".into();
    let mut misplaced = typed.clone();
    let c0 = misplaced.inputs[0].contents.as_mut().unwrap();
    c0.fp32_contents = c0.fp64_contents.drain(..).map(|x| x as f32).collect();
    let mut bad_param = typed.clone();
    bad_param.parameters.insert("type".into(), pb::InferParameter { parameter_choice: None });
    let mut not_utf8 = typed.clone();
    not_utf8.inputs[4].contents.as_mut().unwrap().bytes_contents[0] = vec![0xff, 0xfe];
    for (r, says) in [
        (half_raw, "raw_input_contents holds 4 tensors but the request has 5 inputs"),
        (mixed, "input 'Sepal.Length' has contents but the request has raw_input_contents"),
        (fp16, "FP16, which comes only in raw_input_contents"),
        (misplaced, "holds values in fp32_contents; FP64 values go in fp64_contents"),
        (bad_param, "the parameter 'type' has no value set"),
        (not_utf8, "not UTF-8 text (value 1)"),
    ] {
        let e = c.model_infer(r).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
        assert!(e.message().contains(says), "{} does not say {says}", e.message());
    }
    // the server still serves
    assert!(c.model_infer(typed).await.is_ok());
}

/// One gRPC call on a raw HTTP/2 stream, for what a well-behaved client never sends: the body is `sent`, then
/// left open if `hold`. Returns the status (from the trailers, or the headers of a trailers-only answer).
async fn raw_call(port: u16, path: &str, headers: &[(&str, &str)], sent: Vec<u8>, hold: bool) -> Status {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let call = async {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let (mut send, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp)).await.unwrap();
        tokio::spawn(conn);
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<hyper::body::Frame<Bytes>, Infallible>>(4);
        let body = http_body_util::StreamBody::new(tokio_stream::wrappers::ReceiverStream::new(rx));
        let mut req = hyper::Request::post(format!("http://127.0.0.1:{port}{path}"))
            .header("content-type", "application/grpc")
            .header("te", "trailers");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        tx.send(Ok(hyper::body::Frame::data(Bytes::from(sent)))).await.unwrap();
        let held = hold.then_some(tx);
        let res = send.send_request(req.body(body).unwrap()).await.unwrap();
        if let Some(s) = Status::from_header_map(res.headers()) {
            drop(held);
            return s;
        }
        let trailers = res.into_body().collect().await.unwrap().trailers().cloned().unwrap();
        drop(held);
        Status::from_header_map(&trailers).unwrap()
    };
    tokio::time::timeout(Duration::from_secs(60), call).await.expect("the server did not answer")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_too_large_garbled_or_slow_and_unknown_methods() {
    let dir = models();
    let s = Server::start(dir.path(), &["--max-body", "4096", "--timeout", "1"], &[]);
    let infer = "/inference.GRPCInferenceService/ModelInfer";
    // a message that says it is 10 MB is refused on its first 5 bytes, with REST's message
    let mut prefix = vec![0];
    prefix.extend(10_000_000u32.to_be_bytes());
    let e = raw_call(s.port, infer, &[], prefix, true).await;
    let rest = s.post("/v2/models/lm/infer", &"x".repeat(5000)).json();
    same_error(&e, Code::ResourceExhausted, &rest);
    // bytes that are not a ModelInferRequest: tonic's INTERNAL, as gRPC servers answer an undecodable message
    let e = raw_call(s.port, infer, &[], vec![0, 0, 0, 0, 3, 0xff, 0xff, 0xff], false).await;
    assert_eq!(e.code(), Code::Internal, "{e:?}");
    // a body that stalls: DEADLINE_EXCEEDED when the server's time is up, with REST's message
    let e = raw_call(s.port, infer, &[], vec![0, 0, 0], true).await;
    assert_eq!(e.code(), Code::DeadlineExceeded, "{e:?}");
    assert_eq!(e.message(), "the request body did not arrive in time");
    // unknown methods and services
    let e = raw_call(s.port, "/inference.GRPCInferenceService/ModelStreamInfer", &[], vec![0, 0, 0, 0, 0], false).await;
    assert_eq!(e.code(), Code::Unimplemented);
    let e = raw_call(s.port, "/inference.Other/Call", &[], vec![0, 0, 0, 0, 0], false).await;
    assert_eq!(e.code(), Code::Unimplemented);
    let mut c = client(&s).await;
    assert!(c.model_infer(from_rest("lm", &lm_body())).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_in_metadata_and_open_probes() {
    let dir = models();
    let keys = TempDir::new();
    let file = keys.path().join("keys");
    std::fs::write(&file, "file-key\n").unwrap();
    let s =
        Server::start(dir.path(), &["--api-key-file", file.to_str().unwrap()], &[("FASTPREDICT_API_KEY", "env-key")]);
    let mut c = client(&s).await;
    let r = || from_rest("lm", &lm_body());
    let rest = s.post("/v2/models/lm/infer", &lm_body().to_string()).json();
    same_error(&c.model_infer(r()).await.unwrap_err(), Code::Unauthenticated, &rest);
    let rest = s.request("POST", "/v2/models/lm/infer", &[("Authorization", "Bearer wrong")], b"{}").json();
    let e = c.model_infer(with_metadata(r(), &[("authorization", "Bearer wrong")])).await.unwrap_err();
    same_error(&e, Code::Unauthenticated, &rest);
    for key in [("authorization", "Bearer env-key"), ("authorization", "Key file-key"), ("x-api-key", "env-key")] {
        assert!(c.model_infer(with_metadata(r(), &[key])).await.is_ok(), "{key:?}");
    }
    let e = c.server_metadata(pb::ServerMetadataRequest {}).await.unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
    let e = c.model_metadata(pb::ModelMetadataRequest { name: "lm".into(), version: String::new() }).await;
    assert_eq!(e.unwrap_err().code(), Code::Unauthenticated);
    // health and readiness stay open
    assert!(c.server_live(pb::ServerLiveRequest {}).await.is_ok());
    assert!(c.server_ready(pb::ServerReadyRequest {}).await.is_ok());
    assert!(c.model_ready(pb::ModelReadyRequest { name: "lm".into(), version: String::new() }).await.is_ok());
    let mut h = HealthClient::new(channel(&s).await);
    assert!(h.check(HealthCheckRequest { service: String::new() }).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_shared_with_rest() {
    let dir = models();
    let s = Server::start(dir.path(), &["--rate-limit", "0.5", "--rate-burst", "2"], &[("FASTPREDICT_API_KEY", "a,b")]);
    let mut c = client(&s).await;
    let as_a = [("x-api-key", "a")];
    assert_eq!(s.request("GET", "/v2/models/lm", &[("X-API-Key", "a")], b"").status, 200);
    assert!(c.model_infer(with_metadata(from_rest("lm", &lm_body()), &as_a)).await.is_ok());
    let e = c.model_infer(with_metadata(from_rest("lm", &lm_body()), &as_a)).await.unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted);
    assert!(e.message().starts_with("too many requests: 0.5 per second are allowed"), "{}", e.message());
    let wait: u64 = e.metadata().get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "retry-after {wait}");
    // another key has its own bucket; probes are not limited
    assert!(c.model_infer(with_metadata(from_rest("lm", &lm_body()), &[("x-api-key", "b")])).await.is_ok());
    for _ in 0..5 {
        assert!(c.server_ready(pb::ServerReadyRequest {}).await.is_ok());
    }
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
    std::fs::write(dir.path().join("big.json"), fastpredict_engine::io::to_json(&doc, false).unwrap()).unwrap();
}

fn big_request(rows: usize) -> ModelInferRequest {
    let b = body(
        "big",
        ["Sepal.Length", "Sepal.Width", "Petal.Length", "Petal.Width"]
            .iter()
            .map(|n| tensor(n, "FP64", json!(vec![1.5; rows])))
            .collect(),
        json!({ "type": "prob" }),
    );
    from_rest("big", &b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadlines_the_clients_too_and_load_shedding() {
    let dir = TempDir::new();
    big_forest(&dir);
    let s = Server::start(dir.path(), &["--timeout", "0.3", "--max-rows", "1000000", "--max-body", "64MiB"], &[]);
    let mut c = client(&s).await;
    let e = c.model_infer(big_request(50_000)).await.unwrap_err();
    assert_eq!(e.code(), Code::DeadlineExceeded, "{e:?}");
    assert_eq!(e.message(), "the prediction took longer than the 0.3 s allowed");
    drop(s);

    // a client's grpc-timeout shorter than the server's applies
    let s = Server::start(dir.path(), &["--timeout", "60", "--max-rows", "1000000", "--max-body", "64MiB"], &[]);
    let frame = grpc::frame(&big_request(50_000));
    let e = raw_call(s.port, "/inference.GRPCInferenceService/ModelInfer", &[("grpc-timeout", "300m")], frame, false);
    let e = e.await;
    assert_eq!(e.code(), Code::DeadlineExceeded, "{e:?}");
    assert_eq!(e.message(), "the prediction took longer than the 0.3 s allowed");
    drop(s);

    // the concurrency limit is shared with REST: a stalled call holds the only slot
    let dir = models();
    let s = Server::start(dir.path(), &["--timeout", "2", "--max-concurrency", "1"], &[]);
    let stalled = tokio::spawn(raw_call(s.port, "/inference.GRPCInferenceService/ModelInfer", &[], vec![0], true));
    s.eventually("the stalled call to hold the slot", Duration::from_secs(10), |s| {
        s.get("/metrics").text().contains("fastpredict_requests_in_flight 2")
    });
    let mut c = client(&s).await;
    let e = c.model_infer(from_rest("lm", &lm_body())).await.unwrap_err();
    let rest = s.post("/v2/models/lm/infer", &lm_body().to_string()).json();
    same_error(&e, Code::Unavailable, &rest);
    assert_eq!(e.metadata().get("retry-after").unwrap(), "1");
    assert_eq!(stalled.await.unwrap().code(), Code::DeadlineExceeded);
    assert!(c.model_infer(from_rest("lm", &lm_body())).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_request_logs_count_grpc_calls() {
    let dir = models();
    let s = Server::start(dir.path(), &[], &[]);
    let mut c = client(&s).await;
    let r = with_metadata(from_rest("rf", &iris_body(json!({}))), &[("x-request-id", "grpc-abc")]);
    assert!(c.model_infer(r).await.is_ok());
    assert!(c.model_infer(from_rest("nope", &lm_body())).await.is_err());
    let mut bad = from_rest("lm", &lm_body());
    bad.inputs.pop();
    assert!(c.model_infer(bad).await.is_err());
    assert!(c.server_live(pb::ServerLiveRequest {}).await.is_ok());
    let text = s.get("/metrics").text();
    for needle in [
        "fastpredict_requests_total{route=\"/inference.GRPCInferenceService/ModelInfer\",model=\"rf\",status=\"200\"} 1",
        "fastpredict_requests_total{route=\"/inference.GRPCInferenceService/ModelInfer\",model=\"\",status=\"404\"} 1",
        "fastpredict_requests_total{route=\"/inference.GRPCInferenceService/ModelInfer\",model=\"lm\",status=\"400\"} 1",
        "fastpredict_requests_total{route=\"/inference.GRPCInferenceService/ServerLive\",model=\"\",status=\"200\"} 1",
        "fastpredict_request_duration_seconds_count{route=\"/inference.GRPCInferenceService/ModelInfer\"} 3",
        "fastpredict_rows_predicted_total{model=\"rf\"} 3",
    ] {
        assert!(text.contains(needle), "{needle} not in\n{text}");
    }
    s.eventually("the request log lines", Duration::from_secs(5), |s| s.log_events("request").len() >= 4);
    let lines = s.log_events("request");
    let first = &lines[0];
    assert_eq!(first["request_id"], "grpc-abc");
    assert_eq!(first["route"], "/inference.GRPCInferenceService/ModelInfer");
    assert_eq!(
        (first["status"].as_u64(), first["grpc_status"].as_u64(), first["rows"].as_u64()),
        (Some(200), Some(0), Some(3))
    );
    assert_eq!(first["model"], "rf");
    assert_eq!(lines[1]["grpc_status"], Code::NotFound as i32);
}

/// A watch's next message (`None` when it ends), or a failed test if none comes in a minute.
async fn next(
    w: &mut tonic::Streaming<tonic_health::pb::HealthCheckResponse>,
) -> Option<tonic_health::pb::HealthCheckResponse> {
    tokio::time::timeout(Duration::from_secs(60), w.message()).await.expect("no health update").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_checks_and_watches_follow_the_models_and_shutdown() {
    let dir = TempDir::new();
    dir.add("lm-mtcars.json", "lm.json");
    let mut s = Server::start(dir.path(), &["--watch", "false"], &[]);
    let mut h = HealthClient::new(channel(&s).await);
    let check = |service: &str| HealthCheckRequest { service: service.into() };
    for service in ["", "inference.GRPCInferenceService"] {
        assert_eq!(h.check(check(service)).await.unwrap().into_inner().status, ServingStatus::Serving as i32);
    }
    assert_eq!(h.check(check("nope")).await.unwrap_err().code(), Code::NotFound);
    let mut unknown = h.watch(check("nope")).await.unwrap().into_inner();
    let first = unknown.message().await.unwrap().unwrap();
    assert_eq!(first.status, ServingStatus::ServiceUnknown as i32);

    let mut watch = h.watch(check("")).await.unwrap().into_inner();
    assert_eq!(next(&mut watch).await.unwrap().status, ServingStatus::Serving as i32);
    // the model goes: not serving
    std::fs::remove_file(dir.path().join("lm.json")).unwrap();
    s.signal("HUP");
    assert_eq!(next(&mut watch).await.unwrap().status, ServingStatus::NotServing as i32);
    // it comes back
    dir.add("lm-mtcars.json", "lm.json");
    s.signal("HUP");
    assert_eq!(next(&mut watch).await.unwrap().status, ServingStatus::Serving as i32);
    // SIGTERM: the watches end and the server exits 0 (a watch does not hold up the drain)
    s.signal("TERM");
    let mut statuses = Vec::new();
    while let Some(m) = next(&mut watch).await {
        statuses.push(m.status);
    }
    assert!(statuses.iter().all(|&st| st == ServingStatus::NotServing as i32), "{statuses:?}");
    let code = tokio::task::block_in_place(|| s.wait_exit(Duration::from_secs(30)));
    assert_eq!(code.map(|c| c.code()), Some(Some(0)));
    drop(unknown);
}
