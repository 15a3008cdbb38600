//! A prediction as OIP output tensors with typed values, for the gRPC
//! protocol: the outputs, names, shapes, row-major order and column names
//! of the JSON answer ([`super::write_oip`]), with the values' exact bits
//! (JSON writes a value that is not finite as `null`).

use super::{datatype, oip_outputs, row_major, Item, OipOutput};
use crate::output::{ArrayShape, Prediction, ValueKind, Values};

/// One output tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct TypedOutput<'p> {
    pub name: String,
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

/// The output tensors of `p`, as the JSON answer has them ([`oip_outputs`]):
/// `output` names a single array (the prediction type); a list's numbers
/// (`df`, a survival forest's death times) are FP64 of shape `[1]` or `[k]`.
pub fn typed_outputs<'p>(p: &'p Prediction, output: &'p str) -> Vec<TypedOutput<'p>> {
    oip_outputs(p, output).into_iter().map(|o| typed(p.nrows, o)).collect()
}

fn typed(n: usize, o: OipOutput<'_>) -> TypedOutput<'_> {
    let OipOutput { name, item, column, parameters } = o;
    let (datatype, shape, values) = match item {
        Item::Number(_, x) => ("FP64", vec![1], TypedValues::Fp64(vec![x])),
        Item::Numbers(_, xs) => ("FP64", vec![xs.len() as i64], TypedValues::Fp64(xs.to_vec())),
        Item::Array(_, a, values) => {
            let mut shape = vec![n as i64];
            if column.is_none() {
                shape.extend(a.dim.iter().flat_map(|d| &d[1..]).map(|&d| d as i64));
            }
            let order = column.map_or_else(|| row_major(a), |c| vec![c]);
            (datatype(&a.values), shape, array_values(n, &order, a, values))
        }
    };
    TypedOutput { name, datatype, shape, parameters, values }
}

/// An array's values, row-major over the storage columns `order`.
fn array_values<'p>(n: usize, order: &[usize], a: &'p ArrayShape, values: &'p Values) -> TypedValues<'p> {
    let cells = (0..n).flat_map(|i| order.iter().map(move |&c| c * n + i));
    match (values, &a.values) {
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
    }
}
