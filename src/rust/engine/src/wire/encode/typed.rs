//! A prediction as OIP output tensors with typed values, for the gRPC
//! protocol: the outputs, names, shapes, row-major order and column names
//! of the JSON answer ([`super::write_oip`]), with the values' exact bits
//! (JSON writes a value that is not finite as `null`).

use super::{datatype, items, output_parameters, row_major, Item};
use crate::output::{ArrayShape, Prediction, ValueKind, Values};

/// One output tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct TypedOutput<'p> {
    pub name: &'p str,
    /// `FP64` or `BYTES`.
    pub datatype: &'static str,
    /// `[N]` or `[N, ...]`.
    pub shape: Vec<i64>,
    /// The output's parameters, as in the JSON answer: `columns` (or
    /// `dimnames`), `levels`, ... for an array; `scalar` or `per_call` for
    /// a list's numbers.
    pub parameters: Vec<(&'static str, serde_json::Value)>,
    pub values: TypedValues<'p>,
}

/// An output's values, row-major.
#[derive(Debug, Clone, PartialEq)]
pub enum TypedValues<'p> {
    Fp64(Vec<f64>),
    /// Class labels; `None` is a missing class.
    Bytes(Vec<Option<&'p str>>),
}

/// The output tensors of `p`; `output` names a single array (the
/// prediction type, as in JSON). A list's numbers (`df`, a survival
/// forest's death times) are FP64 of shape `[1]` or `[k]`, as in JSON.
pub fn typed_outputs<'p>(p: &'p Prediction, output: &'p str) -> Vec<TypedOutput<'p>> {
    items(p)
        .into_iter()
        .map(|item| match item {
            Item::Array(name, a, values) => array(p.nrows, name.unwrap_or(output), a, values),
            Item::Number(name, x) => numbers(name, vec![x], "scalar"),
            Item::Numbers(name, xs) => numbers(name, xs.to_vec(), "per_call"),
        })
        .collect()
}

fn numbers<'p>(name: &'p str, xs: Vec<f64>, mark: &'static str) -> TypedOutput<'p> {
    TypedOutput {
        name,
        datatype: "FP64",
        shape: vec![xs.len() as i64],
        parameters: vec![(mark, serde_json::Value::Bool(true))],
        values: TypedValues::Fp64(xs),
    }
}

fn array<'p>(n: usize, name: &'p str, a: &'p ArrayShape, values: &'p Values) -> TypedOutput<'p> {
    let order = row_major(a);
    let cells = (0..n).flat_map(|i| order.iter().map(move |&c| c * n + i));
    let values = match (values, &a.values) {
        (Values::Real(v), _) => TypedValues::Fp64(cells.map(|k| v[k]).collect()),
        (Values::Int(v), ValueKind::Factor(levels) | ValueKind::Character(levels)) => TypedValues::Bytes(
            cells
                .map(|k| {
                    let level = usize::try_from(v[k]).ok().and_then(|c| c.checked_sub(1));
                    level.and_then(|c| levels.get(c)).map(String::as_str)
                })
                .collect(),
        ),
        (Values::Int(v), ValueKind::Real) => TypedValues::Fp64(cells.map(|k| f64::from(v[k])).collect()),
    };
    let mut shape = vec![n as i64];
    shape.extend(a.dim.iter().flat_map(|d| &d[1..]).map(|&d| d as i64));
    TypedOutput { name, datatype: datatype(&a.values), shape, parameters: output_parameters(a), values }
}
