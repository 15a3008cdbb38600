//! A gRPC client's side of the Open Inference Protocol: the messages and client generated from the vendored
//! .proto (build.rs), and an OIP REST inference body turned into the same request as gRPC, so that one request
//! can be sent both ways. Also the bench's frame writer (examples/grpc_frame.rs) uses it.

#![allow(dead_code)] // each user takes its own part

use serde_json::Value;

#[allow(clippy::all, clippy::pedantic)]
pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/client/inference.rs"));
}

use pb::infer_parameter::ParameterChoice;
use pb::model_infer_request::InferInputTensor;
use pb::{InferParameter, InferTensorContents, ModelInferRequest};

/// R's NA_real_, which a JSON `null` in a number tensor reads as.
pub const NA_REAL: f64 = f64::from_bits(0x7FF0_0000_0000_07A2);

fn flat<'v>(v: &'v Value, out: &mut Vec<&'v Value>) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| flat(x, out)),
        x => out.push(x),
    }
}

fn parameter(v: &Value) -> InferParameter {
    let choice = match v {
        Value::Bool(b) => ParameterChoice::BoolParam(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => ParameterChoice::Int64Param(i),
            None => ParameterChoice::DoubleParam(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => ParameterChoice::StringParam(s.clone()),
        // InferParameter has no arrays or null: an array as JSON text, null (glmnet's whole path) as R's NULL
        Value::Null => ParameterChoice::StringParam("NULL".into()),
        other => ParameterChoice::StringParam(other.to_string()),
    };
    InferParameter { parameter_choice: Some(choice) }
}

/// The gRPC request for model `model` that says what the REST body `body` says: each tensor's data in the
/// contents of its datatype, a JSON `null` as R's NA (numbers) or `"NA"` (strings), as the server reads them.
pub fn from_rest(model: &str, body: &Value) -> ModelInferRequest {
    let inputs = body["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .map(|t| {
            let mut data = Vec::new();
            flat(&t["data"], &mut data);
            let datatype = t["datatype"].as_str().expect("datatype").to_string();
            let mut c = InferTensorContents::default();
            let num = |x: &Value| x.as_f64().unwrap_or(NA_REAL);
            match datatype.as_str() {
                "FP64" => c.fp64_contents = data.iter().map(|x| num(x)).collect(),
                "FP32" => c.fp32_contents = data.iter().map(|x| num(x) as f32).collect(),
                "INT64" => c.int64_contents = data.iter().map(|x| x.as_i64().expect("INT64")).collect(),
                "INT8" | "INT16" | "INT32" => {
                    c.int_contents = data.iter().map(|x| x.as_i64().expect("INT32") as i32).collect()
                }
                "BOOL" => c.bool_contents = data.iter().map(|x| x.as_bool().expect("BOOL")).collect(),
                "BYTES" => {
                    c.bytes_contents = data.iter().map(|x| x.as_str().unwrap_or("NA").as_bytes().to_vec()).collect()
                }
                other => panic!("no contents for {other}"),
            }
            InferInputTensor {
                name: t["name"].as_str().expect("name").into(),
                datatype,
                shape: t["shape"].as_array().expect("shape").iter().map(|d| d.as_i64().expect("dim")).collect(),
                parameters: Default::default(),
                contents: Some(c),
            }
        })
        .collect();
    let parameters = body["parameters"]
        .as_object()
        .map(|p| p.iter().map(|(k, v)| (k.clone(), parameter(v))).collect())
        .unwrap_or_default();
    ModelInferRequest {
        model_name: model.into(),
        model_version: String::new(),
        id: body["id"].as_str().unwrap_or("").into(),
        parameters,
        inputs,
        outputs: Vec::new(),
        raw_input_contents: Vec::new(),
    }
}

/// The same request with its values in `raw_input_contents` (little-endian, BYTES behind 4-byte lengths).
pub fn to_raw(mut r: ModelInferRequest) -> ModelInferRequest {
    for input in &mut r.inputs {
        let c = input.contents.take().unwrap_or_default();
        let mut bytes = Vec::new();
        bytes.extend(c.fp64_contents.iter().flat_map(|x| x.to_le_bytes()));
        bytes.extend(c.fp32_contents.iter().flat_map(|x| x.to_le_bytes()));
        bytes.extend(c.int64_contents.iter().flat_map(|x| x.to_le_bytes()));
        bytes.extend(c.int_contents.iter().flat_map(|x| x.to_le_bytes()));
        bytes.extend(c.bool_contents.iter().map(|&b| u8::from(b)));
        for s in &c.bytes_contents {
            bytes.extend((s.len() as u32).to_le_bytes());
            bytes.extend(s);
        }
        r.raw_input_contents.push(bytes);
    }
    r
}

/// A message as one gRPC frame: no compression, its length (4 bytes, big-endian), its bytes.
pub fn frame(m: &impl prost::Message) -> Vec<u8> {
    let body = m.encode_to_vec();
    let mut out = vec![0];
    out.extend((body.len() as u32).to_be_bytes());
    out.extend(body);
    out
}
