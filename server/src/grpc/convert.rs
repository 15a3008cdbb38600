//! Protobuf messages to and from the wire codec's typed tensors and the REST metadata.

use std::collections::HashMap;

use fastpredict_engine::wire::{
    typed_outputs, Contents, Param, TypedData, TypedInput, TypedRequest, TypedValues, WireError,
};
use fastpredict_engine::Prediction;

use super::pb::infer_parameter::ParameterChoice;
use super::pb::model_infer_response::InferOutputTensor;
use super::pb::model_metadata_response::TensorMetadata;
use super::pb::{InferParameter, InferTensorContents, ModelInferRequest, ModelInferResponse, ModelMetadataResponse};

/// A missing class in BYTES output, which has no null: the spelling that BYTES input reads as missing.
const MISSING_CLASS: &[u8] = b"NA";

fn param(p: &InferParameter) -> Param<'_> {
    match &p.parameter_choice {
        Some(ParameterChoice::BoolParam(b)) => Param::Bool(*b),
        Some(ParameterChoice::Int64Param(n)) => Param::Int64(*n),
        Some(ParameterChoice::Uint64Param(n)) => Param::Uint64(*n),
        Some(ParameterChoice::DoubleParam(x)) => Param::Double(*x),
        Some(ParameterChoice::StringParam(s)) => Param::Str(s),
        None => Param::Empty,
    }
}

fn contents(c: &InferTensorContents) -> Contents<'_> {
    Contents {
        bool_contents: &c.bool_contents,
        int_contents: &c.int_contents,
        int64_contents: &c.int64_contents,
        uint_contents: &c.uint_contents,
        uint64_contents: &c.uint64_contents,
        fp32_contents: &c.fp32_contents,
        fp64_contents: &c.fp64_contents,
        bytes_contents: &c.bytes_contents,
    }
}

/// The request's tensors for the wire codec: each input's `contents`, or else every input's
/// `raw_input_contents` (the specification allows one or the other for a whole request).
pub fn typed_request(req: &ModelInferRequest) -> Result<TypedRequest<'_>, WireError> {
    let raw = &req.raw_input_contents;
    if !raw.is_empty() {
        if raw.len() != req.inputs.len() {
            return Err(WireError::bad_request(format!(
                "raw_input_contents holds {} tensors but the request has {} inputs; give one per input, in order",
                raw.len(),
                req.inputs.len()
            )));
        }
        if let Some(i) = req.inputs.iter().find(|i| i.contents.is_some()) {
            return Err(WireError::bad_request(format!(
                "input '{}' has contents but the request has raw_input_contents; give all the values one way",
                i.name
            )));
        }
    }
    let inputs = req
        .inputs
        .iter()
        .enumerate()
        .map(|(k, i)| TypedInput {
            name: &i.name,
            datatype: &i.datatype,
            shape: &i.shape,
            data: match raw.get(k) {
                Some(bytes) => TypedData::Raw(bytes),
                None => TypedData::Contents(i.contents.as_ref().map_or_else(Contents::default, contents)),
            },
        })
        .collect();
    // a map has no order: sorted, a request with several bad parameters is told of the same one each time
    let mut parameters: Vec<(&str, Param)> = req.parameters.iter().map(|(k, v)| (k.as_str(), param(v))).collect();
    parameters.sort_by(|a, b| a.0.cmp(b.0));
    Ok(TypedRequest { id: (!req.id.is_empty()).then(|| req.id.clone()), parameters, inputs })
}

/// The answer: the outputs of the REST answer, with their values in `contents`, or in `raw_output_contents`
/// (little-endian doubles; each class as a 4-byte little-endian length and its bytes) when `raw`.
pub fn response(model: &str, version: &str, id: &str, output: &str, p: &Prediction, raw: bool) -> ModelInferResponse {
    let mut raw_output_contents = Vec::new();
    let outputs = typed_outputs(p, output)
        .into_iter()
        .map(|o| {
            let parameters = o
                .parameters
                .into_iter()
                .map(|(k, value)| {
                    // a flag as a bool, anything else (names, levels) as its JSON text
                    let choice = match value {
                        serde_json::Value::Bool(b) => ParameterChoice::BoolParam(b),
                        other => ParameterChoice::StringParam(other.to_string()),
                    };
                    (k.to_string(), InferParameter { parameter_choice: Some(choice) })
                })
                .collect();
            let classes = |v: &[Option<&str>]| -> Vec<Vec<u8>> {
                v.iter().map(|c| c.map_or(MISSING_CLASS, str::as_bytes).to_vec()).collect()
            };
            let contents = if raw {
                raw_output_contents.push(match &o.values {
                    TypedValues::Fp64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
                    TypedValues::Bytes(v) => classes(v)
                        .into_iter()
                        .flat_map(|c| (c.len() as u32).to_le_bytes().into_iter().chain(c))
                        .collect(),
                });
                None
            } else {
                Some(match o.values {
                    TypedValues::Fp64(v) => InferTensorContents { fp64_contents: v, ..Default::default() },
                    TypedValues::Bytes(v) => InferTensorContents { bytes_contents: classes(&v), ..Default::default() },
                })
            };
            InferOutputTensor {
                name: o.name.to_string(),
                datatype: o.datatype.into(),
                shape: o.shape,
                parameters,
                contents,
            }
        })
        .collect();
    ModelInferResponse {
        model_name: model.into(),
        model_version: version.into(),
        id: id.into(),
        parameters: HashMap::new(),
        outputs,
        raw_output_contents,
    }
}

#[derive(serde::Deserialize)]
struct Tensor {
    name: String,
    datatype: String,
    shape: Vec<i64>,
}

#[derive(serde::Deserialize)]
struct Metadata {
    name: String,
    versions: Vec<String>,
    platform: String,
    inputs: Vec<Tensor>,
    outputs: Vec<Tensor>,
    #[serde(default)]
    parameters: serde_json::Map<String, serde_json::Value>,
}

/// `ModelMetadata` from the REST answer the server wrote at load; its `parameters` become `properties` (strings
/// as they are, other values as JSON text).
pub fn metadata(rest: &[u8]) -> Result<ModelMetadataResponse, WireError> {
    let m: Metadata = serde_json::from_slice(rest)
        .map_err(|e| WireError::new(500, "internal", format!("the model's metadata does not read back: {e}")))?;
    let tensors = |v: Vec<Tensor>| -> Vec<TensorMetadata> {
        v.into_iter().map(|t| TensorMetadata { name: t.name, datatype: t.datatype, shape: t.shape }).collect()
    };
    Ok(ModelMetadataResponse {
        name: m.name,
        versions: m.versions,
        platform: m.platform,
        inputs: tensors(m.inputs),
        outputs: tensors(m.outputs),
        properties: m
            .parameters
            .into_iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => (k, s),
                other => (k, other.to_string()),
            })
            .collect(),
    })
}
