//! What a model looks like on the wire: OIP model metadata and vetiver's
//! prototype.

use serde_json::{json, Map, Value};

use super::encode::datatype;
use crate::format::{InputSpec, InputType};
use crate::frame::{ColumnBuf, FrameBuf};
use crate::model::{Model, PredictOptions};
use crate::output::{ArrayShape, OutputShape, Part};

/// The OIP datatype an input takes (any numeric datatype is accepted for
/// `FP64`; an `any` input takes every datatype and is shown as numbers, the
/// commoner case; a `coded` one takes numbers, a factor's level codes, or
/// BOOL).
pub fn oip_datatype(kind: InputType) -> &'static str {
    match kind {
        InputType::Numeric | InputType::Any | InputType::Coded => "FP64",
        InputType::Logical => "BOOL",
        InputType::Factor | InputType::Ordered | InputType::Character => "BYTES",
    }
}

/// `GET /v2/models/{name}`: inputs as tensors of any length, the output of
/// the default prediction type (found by preparing a call on zero rows),
/// and in `parameters` the model's types, options, classes, content hash
/// (of what it predicts) and card.
pub fn oip_model_metadata(model: &Model, name: &str, version: &str) -> Value {
    let info = model.info();
    let inputs: Vec<Value> = info
        .inputs
        .iter()
        .map(|i| json!({ "name": i.name, "datatype": oip_datatype(i.kind), "shape": [-1] }))
        .collect();
    let mut empty = FrameBuf::new();
    for i in &info.inputs {
        let column = match i.kind {
            InputType::Numeric | InputType::Any | InputType::Coded => ColumnBuf::Real(Vec::new()),
            InputType::Logical => ColumnBuf::Logical(Vec::new()),
            InputType::Factor | InputType::Ordered | InputType::Character => {
                ColumnBuf::Factor { codes: Vec::new(), levels: Vec::new() }
            }
        };
        empty.push(i.name.clone(), column);
    }
    let frame = empty.frame();
    let outputs: Vec<Value> = match model.prepare(&frame, &PredictOptions::default()) {
        Ok(job) => outputs(&job.shape(), info.default_type.as_str()),
        Err(_) => Vec::new(),
    };
    let mut parameters = Map::new();
    parameters.insert("format_version".into(), json!(info.format_version));
    parameters.insert("kind".into(), json!(info.kind));
    parameters.insert("types".into(), json!(info.types));
    parameters.insert("default_type".into(), json!(info.default_type));
    parameters.insert("options".into(), json!(info.options));
    if let Some(a) = &info.algorithm {
        parameters.insert("algorithm".into(), json!(a));
    }
    if let Some(c) = &info.classes {
        parameters.insert("classes".into(), json!(c));
    }
    if let Ok(hash) = model.content_hash() {
        parameters.insert("content_hash".into(), json!(hash));
    }
    if let Some(card) = &info.card {
        parameters.insert("card".into(), json!(card));
    }
    json!({
        "name": name,
        "versions": [version],
        "platform": "fastpredict_json",
        "inputs": inputs,
        "outputs": outputs,
        "parameters": parameters,
    })
}

/// The output tensors of a prediction of this shape, as `write_oip`
/// names them.
fn outputs(shape: &OutputShape, type_name: &str) -> Vec<Value> {
    let array = |name: &str, a: &ArrayShape| {
        let mut dims = vec![-1i64];
        dims.extend(a.dim.iter().flat_map(|d| &d[1..]).map(|&d| d as i64));
        json!({ "name": name, "datatype": datatype(&a.values), "shape": dims })
    };
    match shape {
        OutputShape::Array(a) => vec![array(type_name, a)],
        OutputShape::List(l) => l
            .iter()
            .map(|(name, part)| match part {
                Part::Array(a) => array(name, a),
                Part::Number(_) => json!({ "name": name, "datatype": "FP64", "shape": [1] }),
                Part::Numbers(x) => json!({ "name": name, "datatype": "FP64", "shape": [x.len()] }),
            })
            .collect(),
    }
}

/// `GET /prototype`, as vetiver writes a data frame's prototype: per
/// column its R type, an example (a factor's first level; the model keeps
/// no example values) and a factor's levels.
pub fn vetiver_prototype(inputs: &[InputSpec]) -> Value {
    let mut out = Map::new();
    for i in inputs {
        let levels = i.levels.as_deref().filter(|_| i.kind.is_categorical());
        let example = levels.and_then(|l| l.first()).map_or(Value::Null, |l| json!(l));
        let details = levels.map_or_else(|| json!({}), |l| json!({ "levels": l }));
        out.insert(i.name.clone(), json!({ "type": i.kind.as_str(), "example": example, "details": details }));
    }
    Value::Object(out)
}
