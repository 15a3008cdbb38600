//! OIP requests whose tensors arrive as typed arrays rather than JSON: the
//! gRPC protocol's `InferTensorContents`, or its `raw_input_contents`
//! (little-endian and row-major; a BYTES element is a 4-byte length and
//! that many bytes). Once read into cells, a tensor meets the checks of a
//! JSON body's tensors (shape, datatype, the model's input types, the row
//! limit) in the same code, and parameters set the same options.
//!
//! Every value of a typed tensor takes at least a byte of the message it
//! was decoded from, so unlike JSON records nothing expands: the row limit
//! is the only bound needed.

use serde_json::Value;

use super::{add_tensor, too_many_rows, unknown_datatype, Failure, Table, Tensor};
use crate::frame::is_r_na;
use crate::model::PredictOptions;
use crate::wire::cells::{Cells, Scalar};
use crate::wire::options::{option_names, set, Given};
use crate::wire::{Decoder, Request, WireLimits};

/// An inference request with typed tensors.
#[derive(Debug, Clone, Default)]
pub struct TypedRequest<'a> {
    /// The request's `id`, if it has one.
    pub id: Option<String>,
    /// Its `parameters` (the prediction options; others are ignored).
    pub parameters: Vec<(&'a str, Param<'a>)>,
    pub inputs: Vec<TypedInput<'a>>,
}

/// One input tensor.
#[derive(Debug, Clone)]
pub struct TypedInput<'a> {
    pub name: &'a str,
    pub datatype: &'a str,
    pub shape: &'a [i64],
    pub data: TypedData<'a>,
}

/// Where a tensor's values are.
#[derive(Debug, Clone, Copy)]
pub enum TypedData<'a> {
    /// In the array of its datatype (the others empty).
    Contents(Contents<'a>),
    /// In raw bytes (`raw_input_contents`).
    Raw(&'a [u8]),
}

/// `InferTensorContents`: one array per family of datatypes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Contents<'a> {
    pub bool_contents: &'a [bool],
    pub int_contents: &'a [i32],
    pub int64_contents: &'a [i64],
    pub uint_contents: &'a [u32],
    pub uint64_contents: &'a [u64],
    pub fp32_contents: &'a [f32],
    pub fp64_contents: &'a [f64],
    pub bytes_contents: &'a [Vec<u8>],
}

/// A parameter's value (`InferParameter`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Param<'a> {
    Bool(bool),
    Int64(i64),
    Uint64(u64),
    Double(f64),
    Str(&'a str),
    /// A parameter with no value set (protobuf's empty `oneof`).
    Empty,
}

pub(crate) fn decode(dec: &Decoder, request: &TypedRequest, limits: &WireLimits) -> Result<Request, Failure> {
    let options = options(&request.parameters)?;
    let mut table = Table::new(dec, limits, &[]);
    for input in &request.inputs {
        let cells = match input.data {
            TypedData::Contents(c) => contents(input.name, input.datatype, &c)?,
            TypedData::Raw(bytes) => raw(input.name, input.datatype, bytes)?,
        };
        if cells.len() > table.max_cells() {
            return Err(too_many_rows(table.max_rows));
        }
        let shape: Option<Vec<u64>> = input.shape.iter().map(|&d| u64::try_from(d).ok()).collect();
        let Some(shape) = shape else {
            let (name, shape) = (input.name, input.shape);
            return Err(Failure::Malformed(format!(
                "input '{name}' has shape {shape:?}; give one column: [N] or [N, 1]"
            )));
        };
        let tensor = Tensor {
            name: Some(input.name.to_string()),
            shape: Some(shape),
            datatype: Some(input.datatype.to_string()),
            data: Some(cells),
        };
        add_tensor(&mut table, tensor.check()?)?;
    }
    let frame = table.finish()?;
    Ok(Request { frame, options, id: request.id.clone() })
}

/// The prediction options among `parameters`, set as a JSON body's are
/// (the same names, readings and messages). `InferParameter` holds scalars
/// only, so a string holding a JSON array is read as that array (`s` at
/// several penalties, glmnet's `newoffset` matrix as rows); another string
/// is text, as in JSON (`"0,2"`, `"NULL"`). Others, such as MLServer's
/// `content_type`, are ignored.
fn options(parameters: &[(&str, Param)]) -> Result<PredictOptions, Failure> {
    let mut options = PredictOptions::default();
    let names = option_names();
    for &(name, value) in parameters {
        if !names.contains(&name) {
            continue;
        }
        let json = match value {
            Param::Bool(b) => Value::from(b),
            Param::Int64(n) => Value::from(n),
            Param::Uint64(n) => Value::from(n),
            Param::Double(x) => non_finite(x).map_or_else(|| Value::from(x), Value::from),
            Param::Str(s) if s.trim_start().starts_with('[') => {
                serde_json::from_str(s).unwrap_or_else(|_| Value::from(s))
            }
            Param::Str(s) => Value::from(s),
            Param::Empty => return Err(Failure::Malformed(format!("the parameter '{name}' has no value set"))),
        };
        set(&mut options, name, Given::Json(&json)).map_err(Failure::Engine)?;
    }
    Ok(options)
}

/// A double JSON cannot hold, spelled as jsonlite writes it (which the
/// options read as text): R's NA, NaN, Inf or -Inf.
fn non_finite(x: f64) -> Option<&'static str> {
    match x {
        _ if is_r_na(x) => Some("NA"),
        _ if x.is_nan() => Some("NaN"),
        f64::INFINITY => Some("Inf"),
        f64::NEG_INFINITY => Some("-Inf"),
        _ => None,
    }
}

/// The array of `InferTensorContents` that carries a datatype.
fn field_of(name: &str, datatype: &str) -> Result<&'static str, Failure> {
    Ok(match datatype {
        "BOOL" => "bool_contents",
        "INT8" | "INT16" | "INT32" => "int_contents",
        "INT64" => "int64_contents",
        "UINT8" | "UINT16" | "UINT32" => "uint_contents",
        "UINT64" => "uint64_contents",
        "FP32" => "fp32_contents",
        "FP64" => "fp64_contents",
        "BYTES" => "bytes_contents",
        // the specification has no array for 16-bit floats
        "FP16" => {
            return Err(Failure::Malformed(format!(
                "input '{name}' has datatype FP16, which comes only in raw_input_contents"
            )))
        }
        other => return Err(unknown_datatype(name, other)),
    })
}

fn numbers<T: Copy>(v: &[T], f: impl Fn(T) -> f64) -> Cells {
    Cells::Num(v.iter().map(|&x| f(x)).collect())
}

fn contents(name: &str, datatype: &str, c: &Contents) -> Result<Cells, Failure> {
    let field = field_of(name, datatype)?;
    let filled = [
        ("bool_contents", c.bool_contents.len()),
        ("int_contents", c.int_contents.len()),
        ("int64_contents", c.int64_contents.len()),
        ("uint_contents", c.uint_contents.len()),
        ("uint64_contents", c.uint64_contents.len()),
        ("fp32_contents", c.fp32_contents.len()),
        ("fp64_contents", c.fp64_contents.len()),
        ("bytes_contents", c.bytes_contents.len()),
    ];
    if let Some((other, _)) = filled.iter().find(|(f, n)| *n > 0 && *f != field) {
        return Err(Failure::Malformed(format!(
            "input '{name}' has datatype {datatype} but holds values in {other}; {datatype} values go in {field}"
        )));
    }
    Ok(match field {
        "bool_contents" => Cells::Bool(c.bool_contents.iter().map(|&b| i32::from(b)).collect()),
        "int_contents" => numbers(c.int_contents, f64::from),
        "int64_contents" => numbers(c.int64_contents, |x| x as f64),
        "uint_contents" => numbers(c.uint_contents, f64::from),
        "uint64_contents" => numbers(c.uint64_contents, |x| x as f64),
        "fp32_contents" => numbers(c.fp32_contents, f64::from),
        "fp64_contents" => Cells::Num(c.fp64_contents.to_vec()),
        _ => {
            let mut cells = Cells::default();
            for (i, b) in c.bytes_contents.iter().enumerate() {
                strings(&mut cells, name, b, i)?;
            }
            cells
        }
    })
}

/// Add one BYTES value: text, with `"NA"` a missing value as in JSON.
fn strings(cells: &mut Cells, name: &str, bytes: &[u8], i: usize) -> Result<(), Failure> {
    let Ok(s) = std::str::from_utf8(bytes) else {
        return Err(Failure::Malformed(format!(
            "the data of input '{name}' holds bytes that are not UTF-8 text (value {})",
            i + 1
        )));
    };
    cells.push(Scalar::Str(s)).map_err(|(expected, found)| {
        Failure::Malformed(format!("the data of input '{name}' must hold {expected}, but holds {found}"))
    })
}

/// A little-endian value of `N` bytes (`c` has exactly `N`).
fn le<const N: usize>(c: &[u8]) -> [u8; N] {
    let mut a = [0; N];
    a.copy_from_slice(c);
    a
}

/// An IEEE half-precision float, exactly.
fn half(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exponent = i32::from((h >> 10) & 0x1f);
    let fraction = f64::from(h & 0x3ff);
    sign * match exponent {
        0 => fraction * 2f64.powi(-24),
        31 if fraction == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        e => (1.0 + fraction / 1024.0) * 2f64.powi(e - 15),
    }
}

fn raw(name: &str, datatype: &str, bytes: &[u8]) -> Result<Cells, Failure> {
    let width = match datatype {
        "BOOL" | "INT8" | "UINT8" => 1,
        "INT16" | "UINT16" | "FP16" => 2,
        "INT32" | "UINT32" | "FP32" => 4,
        "INT64" | "UINT64" | "FP64" => 8,
        "BYTES" => return raw_strings(name, bytes),
        other => return Err(unknown_datatype(name, other)),
    };
    if bytes.len() % width != 0 {
        return Err(Failure::Malformed(format!(
            "the raw contents of input '{name}' are {} bytes, not a whole number of {datatype} values ({width} bytes each)",
            bytes.len()
        )));
    }
    let chunks = bytes.chunks_exact(width);
    let num = |f: &dyn Fn(&[u8]) -> f64| Cells::Num(chunks.clone().map(f).collect());
    Ok(match datatype {
        "BOOL" => {
            if let Some(b) = bytes.iter().find(|&&b| b > 1) {
                return Err(Failure::Malformed(format!(
                    "the raw contents of BOOL input '{name}' hold the byte {b}; BOOL values are 0 or 1"
                )));
            }
            Cells::Bool(bytes.iter().map(|&b| i32::from(b)).collect())
        }
        "INT8" => num(&|c| f64::from(c[0] as i8)),
        "UINT8" => num(&|c| f64::from(c[0])),
        "INT16" => num(&|c| f64::from(i16::from_le_bytes(le(c)))),
        "UINT16" => num(&|c| f64::from(u16::from_le_bytes(le(c)))),
        "FP16" => num(&|c| half(u16::from_le_bytes(le(c)))),
        "INT32" => num(&|c| f64::from(i32::from_le_bytes(le(c)))),
        "UINT32" => num(&|c| f64::from(u32::from_le_bytes(le(c)))),
        "FP32" => num(&|c| f64::from(f32::from_le_bytes(le(c)))),
        "INT64" => num(&|c| i64::from_le_bytes(le(c)) as f64),
        "UINT64" => num(&|c| u64::from_le_bytes(le(c)) as f64),
        _ => num(&|c| f64::from_le_bytes(le(c))),
    })
}

/// Raw BYTES: each value a 4-byte little-endian length and that many bytes.
fn raw_strings(name: &str, mut bytes: &[u8]) -> Result<Cells, Failure> {
    let cut = || {
        Failure::Malformed(format!(
            "the raw contents of input '{name}' end inside a BYTES value (each is a 4-byte little-endian length, then \
             that many bytes)"
        ))
    };
    let mut cells = Cells::default();
    let mut i = 0;
    while !bytes.is_empty() {
        let (len, rest) = bytes.split_at_checked(4).ok_or_else(cut)?;
        let len = u32::from_le_bytes(le(len)) as usize;
        let (value, rest) = rest.split_at_checked(len).ok_or_else(cut)?;
        strings(&mut cells, name, value, i)?;
        bytes = rest;
        i += 1;
    }
    Ok(cells)
}
