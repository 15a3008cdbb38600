//! Open Inference Protocol request bodies: `inputs` tensors and
//! `parameters`.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{parse, Table};
use crate::error::Error;
use crate::format::{InputSpec, InputType};
use crate::model::PredictOptions;
use crate::wire::cells::{Cells, Scalar};
use crate::wire::options::{self, option_names, Given};
use crate::wire::{Decoder, Failure, Request, WireLimits, MAX_NESTING};

/// OIP datatypes that carry numbers.
const NUMERIC_TYPES: &[&str] =
    &["FP64", "FP32", "FP16", "INT64", "INT32", "INT16", "INT8", "UINT64", "UINT32", "UINT16", "UINT8"];

/// An OIP request being read.
struct Infer<'t, 'd> {
    t: &'t mut Table<'d>,
    options: PredictOptions,
    id: Option<String>,
    has_inputs: bool,
}

pub(crate) fn oip(dec: &Decoder, body: &[u8], limits: &WireLimits) -> Result<Request, Failure> {
    let mut table = Table::new(dec, limits, body);
    let mut infer = Infer { t: &mut table, options: PredictOptions::default(), id: None, has_inputs: false };
    let parsed = parse(body, &mut infer);
    let Infer { options, id, has_inputs, .. } = infer;
    if let Some(f) = table.failure.take() {
        return Err(f);
    }
    parsed?;
    if !has_inputs {
        return Err(Failure::Malformed("the request has no 'inputs'".into()));
    }
    let frame = table.finish()?;
    Ok(Request { frame, options, id })
}

impl<'de> DeserializeSeed<'de> for &mut Infer<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

/// Which of `names` a key is.
struct Field(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for Field {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Field {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E>(self, v: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|n| *n == v))
    }
}

impl<'de> Visitor<'de> for &mut Infer<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(
            "an inference request: {\"inputs\": [{\"name\": ..., \"shape\": [N], \"datatype\": ..., \"data\": [...]}]}",
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(field) = map.next_key_seed(Field(&["id", "parameters", "inputs"]))? {
            match field {
                Some(0) => self.id = Some(map.next_value::<String>()?),
                Some(1) => map.next_value_seed(Parameters { options: &mut self.options, t: &mut *self.t })?,
                Some(2) => {
                    self.has_inputs = true;
                    map.next_value_seed(Inputs(&mut *self.t))?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// Request `parameters`: the prediction options (`type` and the engine's
/// option names); others, such as MLServer's `content_type`, are ignored.
struct Parameters<'o, 't, 'd> {
    options: &'o mut PredictOptions,
    t: &'t mut Table<'d>,
}

impl<'de> DeserializeSeed<'de> for Parameters<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Parameters<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of parameters")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let names = option_names();
        while let Some(name) = map.next_key::<String>()? {
            if !names.contains(&name.as_str()) {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let value = map.next_value::<serde_json::Value>()?;
            if let Err(e) = options::set(self.options, &name, Given::Json(&value)) {
                return Err(self.t.fail(Failure::Engine(e)));
            }
        }
        Ok(())
    }
}

/// The `inputs` array.
struct Inputs<'t, 'd>(&'t mut Table<'d>);

impl<'de> DeserializeSeed<'de> for Inputs<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Inputs<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of input tensors")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(tensor) = seq.next_element_seed(TensorSeed(&mut *self.0))? {
            if let Err(f) = tensor.check().and_then(|t| add_tensor(self.0, t)) {
                return Err(self.0.fail(f));
            }
        }
        Ok(())
    }
}

/// One input tensor as given.
#[derive(Default)]
pub(super) struct Tensor {
    pub(super) name: Option<String>,
    pub(super) shape: Option<Vec<u64>>,
    pub(super) datatype: Option<String>,
    pub(super) data: Option<Cells>,
}

struct TensorSeed<'t, 'd>(&'t mut Table<'d>);

impl<'de> DeserializeSeed<'de> for TensorSeed<'_, '_> {
    type Value = Tensor;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Tensor, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TensorSeed<'_, '_> {
    type Value = Tensor;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an input tensor {\"name\", \"shape\", \"datatype\", \"data\"}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tensor, A::Error> {
        let mut tensor = Tensor::default();
        while let Some(field) = map.next_key_seed(Field(&["name", "shape", "datatype", "data"]))? {
            match field {
                Some(0) => tensor.name = Some(map.next_value()?),
                Some(1) => tensor.shape = Some(map.next_value()?),
                Some(2) => tensor.datatype = Some(map.next_value()?),
                Some(3) => {
                    let mut cells = Cells::default();
                    let name = tensor.name.as_deref();
                    map.next_value_seed(Data { t: &mut *self.0, cells: &mut cells, depth: 1, name })?;
                    tensor.data = Some(cells);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(tensor)
    }
}

/// A checked tensor: name, datatype, columns and values (row-major).
pub(super) struct Checked {
    name: String,
    datatype: String,
    cols: usize,
    data: Cells,
}

impl Tensor {
    /// The tensor's own consistency: every field there, shape `[N]`,
    /// `[N, 1]` or `[N, K]` matching the data, and data of its datatype.
    pub(super) fn check(self) -> Result<Checked, Failure> {
        let bad = |m: String| Failure::Malformed(m);
        let name = self.name.ok_or_else(|| bad("an input tensor has no 'name'".into()))?;
        let field = |f: &str| bad(format!("input '{name}' has no '{f}'"));
        let shape = self.shape.ok_or_else(|| field("shape"))?;
        let datatype = self.datatype.ok_or_else(|| field("datatype"))?;
        let data = self.data.ok_or_else(|| field("data"))?;
        let (rows, cols) = match shape.as_slice() {
            [n] => (*n, 1),
            [n, k] => (*n, *k),
            _ => return Err(bad(format!("input '{name}' has shape {shape:?}; give one column: [N] or [N, 1]"))),
        };
        if rows.checked_mul(cols) != Some(data.len() as u64) {
            return Err(bad(format!("input '{name}' has shape {shape:?} but {} values", data.len())));
        }
        let fits = match datatype.as_str() {
            "BOOL" => data.is_logical(),
            "BYTES" => data.is_text(),
            t if NUMERIC_TYPES.contains(&t) => data.is_numeric() && integral(t, &data),
            other => return Err(unknown_datatype(&name, other)),
        };
        if !fits {
            let found = data.found();
            return Err(bad(format!("input '{name}' has datatype {datatype} but holds {found}")));
        }
        Ok(Checked { name, datatype, cols: cols as usize, data })
    }
}

pub(super) fn unknown_datatype(name: &str, datatype: &str) -> Failure {
    Failure::Malformed(format!(
        "input '{name}' has datatype '{datatype}'; use FP64 (or FP32, INT32, INT64), BOOL or BYTES"
    ))
}

/// Whether the values of an integer datatype are whole numbers in its range.
fn integral(datatype: &str, data: &Cells) -> bool {
    let range = match datatype {
        "INT8" => (-128.0, 127.0),
        "INT16" => (-32768.0, 32767.0),
        "INT32" => (-2147483648.0, 2147483647.0),
        "INT64" => (-9223372036854775808.0, 9223372036854775807.0),
        "UINT8" => (0.0, 255.0),
        "UINT16" => (0.0, 65535.0),
        "UINT32" => (0.0, 4294967295.0),
        "UINT64" => (0.0, 18446744073709551615.0),
        _ => return true,
    };
    let Some(v) = data.numbers() else { return false };
    v.iter().all(|&x| x.is_nan() || (x.fract() == 0.0 && x >= range.0 && x <= range.1))
}

/// Which datatypes an input type takes, for messages.
fn accepted(kind: InputType) -> &'static str {
    match kind {
        InputType::Numeric => "FP64 (or FP32, INT32, INT64)",
        InputType::Logical => "BOOL",
        InputType::Factor | InputType::Ordered | InputType::Character => "BYTES (the levels it was trained on)",
        InputType::Any => "any datatype",
        InputType::Coded => "FP64 (or another numeric datatype; a factor as its level codes) or BOOL",
    }
}

/// Put a checked tensor in its column, if the model reads it.
pub(super) fn add_tensor(t: &mut Table, tensor: Checked) -> Result<(), Failure> {
    if tensor.cols != 1 {
        return add_matrix(t, tensor);
    }
    let Some(input) = t.dec.input(&tensor.name) else { return Ok(()) };
    if t.cols[input].is_some() {
        return Err(Failure::Malformed(format!("input '{}' is given twice", tensor.name)));
    }
    let spec: &InputSpec = &t.dec.inputs[input];
    let numeric = NUMERIC_TYPES.contains(&tensor.datatype.as_str());
    let fits = match spec.kind {
        InputType::Numeric => numeric,
        InputType::Logical => tensor.datatype == "BOOL",
        InputType::Factor | InputType::Ordered | InputType::Character => tensor.datatype == "BYTES",
        InputType::Any => true,
        InputType::Coded => numeric || tensor.datatype == "BOOL",
    };
    if !fits {
        return Err(Failure::Engine(Error::WrongType {
            column: spec.name.clone(),
            expected: accepted(spec.kind).to_string(),
            found: tensor.datatype,
        }));
    }
    t.rows = t.rows.max(tensor.data.len());
    t.cols[input] = Some(tensor.data);
    Ok(())
}

/// A tensor of shape `[N, P]`: the whole input matrix of a model that
/// predicts from one, whatever its name, its columns in the order of the
/// model's inputs.
fn add_matrix(t: &mut Table, tensor: Checked) -> Result<(), Failure> {
    let (name, p) = (&tensor.name, t.dec.inputs.len());
    if !t.dec.matrix {
        let msg = format!("input '{name}' has {} columns; give one column: shape [N] or [N, 1]", tensor.cols);
        return Err(Failure::Malformed(msg));
    }
    if tensor.cols != p {
        let msg = format!("input '{name}' has {} columns; the model reads a matrix of {p}", tensor.cols);
        return Err(Failure::Malformed(msg));
    }
    let values = match tensor.data.numbers() {
        Some(v) if NUMERIC_TYPES.contains(&tensor.datatype.as_str()) => v,
        _ => {
            let msg = format!("input '{name}' is a matrix of {}; the model reads numbers", tensor.datatype);
            return Err(Failure::Malformed(msg));
        }
    };
    let rows = values.len() / p;
    if rows > t.max_rows {
        let msg = format!("the request has more than {} rows, the most this server accepts per request", t.max_rows);
        return Err(Failure::TooLarge(msg));
    }
    for (j, col) in t.cols.iter_mut().enumerate() {
        if col.is_some() {
            let msg = format!("input '{}' is given twice (in the matrix '{name}' too)", t.dec.inputs[j].name);
            return Err(Failure::Malformed(msg));
        }
        *col = Some(Cells::Num((0..rows).map(|i| values[i * p + j]).collect()));
    }
    t.rows = t.rows.max(rows);
    Ok(())
}

/// A tensor's `data`: values, flat or nested, row-major. (`name` is the
/// tensor's, if it came before its data.)
struct Data<'t, 'd, 'c> {
    t: &'t mut Table<'d>,
    cells: &'c mut Cells,
    depth: usize,
    name: Option<&'c str>,
}

impl<'de> DeserializeSeed<'de> for Data<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl Data<'_, '_, '_> {
    fn push<E: serde::de::Error>(self, x: Scalar) -> Result<(), E> {
        if self.cells.len() == self.t.max_cells() {
            return Err(self.t.too_many_rows());
        }
        self.t.spend(1)?;
        let whose = self.name.map_or("a tensor's data".to_string(), |n| format!("the data of input '{n}'"));
        self.cells.push(x).map_err(|(expected, found)| {
            self.t.fail(Failure::Malformed(format!("{whose} must hold {expected}, but holds {found}")))
        })
    }
}

impl<'de> Visitor<'de> for Data<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of values")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.depth > MAX_NESTING {
            let msg = format!("a tensor's data nests deeper than {MAX_NESTING} arrays");
            return Err(self.t.fail(Failure::Malformed(msg)));
        }
        let (depth, name) = (self.depth + 1, self.name);
        while seq.next_element_seed(Element(Data { t: &mut *self.t, cells: &mut *self.cells, depth, name }))?.is_some()
        {
        }
        Ok(())
    }
}

/// One element of `data`: a value or a nested array.
struct Element<'t, 'd, 'c>(Data<'t, 'd, 'c>);

impl<'de> DeserializeSeed<'de> for Element<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Element<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value or an array of values")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.0.visit_seq(seq)
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        self.0.push(Scalar::Num(v))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        self.0.push(Scalar::Num(v as f64))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        self.0.push(Scalar::Num(v as f64))
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        self.0.push(Scalar::Bool(v))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.0.push(Scalar::Str(v))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.0.push(Scalar::Null)
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(self.0.t.fail(Failure::Malformed("a tensor's data holds an object".into())))
    }
}
