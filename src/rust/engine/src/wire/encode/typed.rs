//! A prediction as OIP output tensors with typed values, for the gRPC
//! protocol: the outputs, names, shapes, row-major order and column names
//! of the JSON answer ([`super::write_oip`]), with the values' exact bits
//! (JSON writes a value that is not finite as `null`).

use super::{dimnames_parameter, parts, row_major};
use crate::output::{Prediction, ValueKind, Values};

/// One output tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct TypedOutput<'p> {
    pub name: &'p str,
    /// `FP64` or `BYTES`.
    pub datatype: &'static str,
    /// `[N]` or `[N, ...]`.
    pub shape: Vec<i64>,
    /// The output's parameters, each value as JSON text: `columns` (or
    /// `dimnames`) for an array with names.
    pub parameters: Vec<(&'static str, String)>,
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
/// prediction type, as in JSON).
pub fn typed_outputs<'p>(p: &'p Prediction, output: &'p str) -> Vec<TypedOutput<'p>> {
    let n = p.nrows;
    parts(p)
        .into_iter()
        .map(|(name, a, values)| {
            let order = row_major(a);
            let cells = (0..n).flat_map(|i| order.iter().map(move |&c| c * n + i));
            let values = match (values, &a.values) {
                (Values::Real(v), _) => TypedValues::Fp64(cells.map(|k| v[k]).collect()),
                (Values::Int(v), ValueKind::Factor(levels)) => TypedValues::Bytes(
                    cells
                        .map(|k| {
                            let code = v[k];
                            let level = usize::try_from(code).ok().and_then(|c| c.checked_sub(1));
                            level.and_then(|c| levels.get(c)).map(String::as_str)
                        })
                        .collect(),
                ),
                (Values::Int(v), ValueKind::Real) => TypedValues::Fp64(cells.map(|k| f64::from(v[k])).collect()),
            };
            let mut shape = vec![n as i64];
            shape.extend(a.dim.iter().flat_map(|d| &d[1..]).map(|&d| d as i64));
            TypedOutput {
                name: name.unwrap_or(output),
                datatype: match values {
                    TypedValues::Fp64(_) => "FP64",
                    TypedValues::Bytes(_) => "BYTES",
                },
                shape,
                parameters: dimnames_parameter(a).map(|(k, v)| (k, v.to_string())).into_iter().collect(),
                values,
            }
        })
        .collect()
}
