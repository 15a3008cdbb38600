//! Answers: a prediction as vetiver's `{".pred": [...]}` or as an OIP
//! inference response. Doubles are written in their shortest form that
//! reads back to the same value (serde_json's); the values JSON has no
//! number for as jsonlite writes them (`null` for NA, `"NaN"`, `"Inf"`,
//! `"-Inf"`), which the decoder reads back.

use std::io::Write;

use super::WireError;
use crate::frame::{is_r_na, NA_INTEGER};
use crate::output::{ArrayShape, OutputShape, Part, Prediction, ValueKind, Values};

type Written = Result<(), std::io::Error>;

fn internal(e: std::io::Error) -> WireError {
    WireError::new(500, "internal", format!("cannot write the answer: {e}"))
}

pub(super) mod typed;

/// One part of a prediction as the wire writes it.
#[derive(Clone, Copy)]
pub(crate) enum Item<'p> {
    /// An array with a value per row; its name if it is a list's part.
    Array(Option<&'p str>, &'p ArrayShape, &'p Values),
    /// A number known for the whole call (`predict.lm`'s `df`).
    Number(&'p str, f64),
    /// Numbers known for the whole call, not per row (a survival forest's
    /// `unique.death.times`): written once, as they are.
    Numbers(&'p str, &'p [f64]),
}

/// The parts of a prediction in order.
fn items(p: &Prediction) -> Vec<Item<'_>> {
    match &p.shape {
        OutputShape::Array(a) => p.parts.iter().map(|v| Item::Array(None, a, v)).collect(),
        OutputShape::List(l) => {
            let mut values = p.parts.iter();
            l.iter()
                .filter_map(|(name, part)| match part {
                    Part::Array(a) => values.next().map(|v| Item::Array(Some(name.as_str()), a, v)),
                    Part::Number(x) => Some(Item::Number(name, *x)),
                    Part::Numbers(x) => Some(Item::Numbers(name, x)),
                })
                .collect()
        }
    }
}

/// One output of an OIP answer: a part of the prediction, named as OIP
/// names it, or one column of `predict.lm()`'s interval matrix.
pub(crate) struct OipOutput<'p> {
    /// The part's R name with `_` for `.` (`se_fit`, `residual_scale`), or
    /// the prediction type for a single array; `fit`, `lwr`, `upr` for the
    /// interval's columns.
    pub name: String,
    pub item: Item<'p>,
    /// The column of the array this output holds: the interval's are three
    /// outputs, as OIP clients read them by name.
    pub column: Option<usize>,
    /// The output's `parameters`.
    pub parameters: Vec<(&'static str, serde_json::Value)>,
}

/// The outputs of an OIP answer (JSON or gRPC), in order. An output's
/// `parameters` carry what R needs to rebuild `predict_fast()`'s object
/// (see [`write_oip`]); `r_name` where OIP's name is not R's.
pub(crate) fn oip_outputs<'p>(p: &'p Prediction, output: &'p str) -> Vec<OipOutput<'p>> {
    let mut outs = Vec::new();
    let flag = |k: &'static str| (k, serde_json::Value::Bool(true));
    for item in items(p) {
        let (r_name, mut parameters) = match item {
            Item::Array(_, a, _) if is_interval(a) => {
                for (c, column) in ["fit", "lwr", "upr"].into_iter().enumerate() {
                    let parameters = vec![flag("interval")];
                    outs.push(OipOutput { name: column.to_string(), item, column: Some(c), parameters });
                }
                continue;
            }
            Item::Array(name, a, _) => (name.unwrap_or(output), output_parameters(a)),
            Item::Number(name, _) => (name, vec![flag("scalar")]),
            Item::Numbers(name, _) => (name, vec![flag("per_call")]),
        };
        let name = r_name.replace('.', "_");
        if name != r_name {
            parameters.push(("r_name", serde_json::json!(r_name)));
        }
        outs.push(OipOutput { name, item, column: None, parameters });
    }
    outs
}

/// Names of the columns of an array, one per value of a row, in storage
/// (column-major) order: the names of the dimensions after the first
/// joined by `_`, or their 1-based positions.
fn column_labels(a: &ArrayShape) -> Vec<String> {
    let Some(dim) = &a.dim else { return Vec::new() };
    let trailing = &dim[1..];
    let names = |k: usize, i: usize| -> String {
        let given = a.dimnames.as_ref().and_then(|d| d.get(k + 1)).and_then(|d| d.as_ref()).and_then(|d| d.get(i));
        given.cloned().unwrap_or_else(|| (i + 1).to_string())
    };
    (0..a.ncols())
        .map(|mut c| {
            let mut label = Vec::with_capacity(trailing.len());
            for (k, &d) in trailing.iter().enumerate() {
                label.push(names(k, c % d.max(1)));
                c /= d.max(1);
            }
            label.join("_")
        })
        .collect()
}

fn json_str(out: &mut Vec<u8>, s: &str) -> Written {
    serde_json::to_writer(out, s).map_err(std::io::Error::other)
}

/// A double; the non-finite ones as jsonlite writes them. (OIP has no
/// spelling of its own for them: `null` for all of them would turn an
/// infinite prediction into a missing one.)
fn json_num(out: &mut Vec<u8>, v: f64) -> Written {
    if !v.is_finite() && !is_r_na(v) {
        let s = if v.is_nan() {
            "\"NaN\""
        } else if v > 0.0 {
            "\"Inf\""
        } else {
            "\"-Inf\""
        };
        return out.write_all(s.as_bytes());
    }
    serde_json::to_writer(out, &v).map_err(std::io::Error::other)
}

/// A double as a JSON value, written as `json_num` writes it.
pub(crate) fn number(x: f64) -> serde_json::Value {
    match x {
        x if x.is_finite() => serde_json::Value::from(x),
        x if is_r_na(x) => serde_json::Value::Null,
        x if x.is_nan() => serde_json::Value::from("NaN"),
        x if x > 0.0 => serde_json::Value::from("Inf"),
        _ => serde_json::Value::from("-Inf"),
    }
}

/// Value `i` of a part: a double, or a class label (`null` if missing).
fn json_value(out: &mut Vec<u8>, a: &ArrayShape, values: &Values, i: usize) -> Written {
    match (values, &a.values) {
        (Values::Real(v), _) => json_num(out, v[i]),
        (Values::Int(v), ValueKind::Factor(levels) | ValueKind::Character(levels)) => {
            let code = v[i];
            match usize::try_from(code).ok().and_then(|c| c.checked_sub(1)).and_then(|c| levels.get(c)) {
                Some(l) if code != NA_INTEGER => json_str(out, l),
                _ => out.write_all(b"null"),
            }
        }
        (Values::Int(v), ValueKind::Real) => json_num(out, f64::from(v[i])),
    }
}

/// A vetiver column's name. The prediction is `.pred` (a list's part
/// `fit`, as `predict.lm()` names it); another part is `.<part>` with R's
/// dots as underscores (`.se_fit`, `.residual_scale`); a matrix column
/// adds `_<column>` (`.pred_<class>`), except that `predict.lm()`'s interval
/// matrix (`fit`, `lwr`, `upr`) gives `.pred`, `.pred_lwr`, `.pred_upr`.
fn vetiver_name(part: Option<&str>, column: Option<&str>, interval: bool) -> String {
    let mut key = match part {
        None | Some("fit") => String::from(".pred"),
        Some(p) => format!(".{}", p.replace('.', "_")),
    };
    if let Some(c) = column.filter(|c| !(interval && *c == "fit")) {
        key.push('_');
        key.push_str(c);
    }
    key
}

/// Whether an array is `predict.lm()`'s interval matrix.
fn is_interval(a: &ArrayShape) -> bool {
    let columns = a.dimnames.as_ref().and_then(|d| d.get(1)).and_then(Option::as_ref);
    a.dim.as_ref().is_some_and(|d| d.len() == 2) && columns.is_some_and(|c| c == &["fit", "lwr", "upr"])
}

/// vetiver's answer, a data frame as columns: `{".pred": [...]}` for a
/// vector or factor, one column per matrix column and per list part (see
/// [`vetiver_name`]). A number of a list (`df`) is repeated on every row,
/// as `as.data.frame()` of `predict()`'s list would.
pub fn write_vetiver(p: &Prediction) -> Result<Vec<u8>, WireError> {
    let n = p.nrows;
    let mut out = Vec::with_capacity(32 + 24 * n * p.parts.len().max(1));
    (|| -> Written {
        out.push(b'{');
        let mut first = true;
        let mut key = |out: &mut Vec<u8>, name: &str| -> Written {
            if !std::mem::take(&mut first) {
                out.push(b',');
            }
            json_str(out, name)?;
            out.extend_from_slice(b":[");
            Ok(())
        };
        for item in items(p) {
            match item {
                Item::Array(part, a, values) => {
                    let labels = column_labels(a);
                    let interval = is_interval(a);
                    for c in 0..a.ncols() {
                        key(&mut out, &vetiver_name(part, labels.get(c).map(String::as_str), interval))?;
                        for i in 0..n {
                            if i > 0 {
                                out.push(b',');
                            }
                            json_value(&mut out, a, values, c * n + i)?;
                        }
                        out.push(b']');
                    }
                }
                Item::Number(part, x) => {
                    key(&mut out, &vetiver_name(Some(part), None, false))?;
                    for i in 0..n {
                        if i > 0 {
                            out.push(b',');
                        }
                        json_num(&mut out, x)?;
                    }
                    out.push(b']');
                }
                Item::Numbers(part, xs) => {
                    key(&mut out, &vetiver_name(Some(part), None, false))?;
                    for (i, &x) in xs.iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        json_num(&mut out, x)?;
                    }
                    out.push(b']');
                }
            }
        }
        out.push(b'}');
        Ok(())
    })()
    .map_err(internal)?;
    Ok(out)
}

/// What an OIP answer names besides the outputs.
#[derive(Debug, Clone, Copy)]
pub struct OipReply<'a> {
    pub model_name: &'a str,
    pub model_version: Option<&'a str>,
    /// The request's `id`, or one the server made.
    pub id: &'a str,
    /// The prediction type, which names a single output.
    pub output: &'a str,
}

/// An OIP inference response: one output per part ([`oip_outputs`]), FP64
/// (doubles) or BYTES (classes), shape `[N]` or `[N, ...]` with the data
/// row-major. A single array is named by the prediction type; a list's
/// parts by their R names with `_` for `.` (`fit`, `se_fit`), its numbers
/// (`df`, `residual_scale`) as FP64 of shape `[1]`; `predict.lm()`'s
/// interval matrix is three outputs `fit`, `lwr`, `upr`. An output's
/// `parameters` carry what R needs to rebuild the object `predict_fast()`
/// returns ([`read_oip`](super::read_oip) does): the column names
/// (`columns`, or `dimnames` beyond two dimensions), a factor's `levels`
/// (all of them, in order, not only those predicted), an R `class` and
/// named numbers (`attributes`, as `type = "terms"`'s `constant`) the
/// package puts on its result, `drop` for an array R returns as a named
/// vector (one row of glmnet's), `scalar` for a list's number (one value
/// for the call, not one per row), `per_call` for a list's numbers (a
/// survival forest's death times, written once), `interval` for the
/// interval's columns and `r_name` where R's name has a `.`.
pub fn write_oip(p: &Prediction, reply: &OipReply) -> Result<Vec<u8>, WireError> {
    let n = p.nrows;
    let mut out = Vec::with_capacity(128 + 24 * n * p.parts.len().max(1));
    (|| -> Written {
        out.extend_from_slice(b"{\"model_name\":");
        json_str(&mut out, reply.model_name)?;
        if let Some(v) = reply.model_version {
            out.extend_from_slice(b",\"model_version\":");
            json_str(&mut out, v)?;
        }
        out.extend_from_slice(b",\"id\":");
        json_str(&mut out, reply.id)?;
        out.extend_from_slice(b",\"outputs\":[");
        for (k, o) in oip_outputs(p, reply.output).into_iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"name\":");
            json_str(&mut out, &o.name)?;
            match o.item {
                Item::Number(_, x) => {
                    out.extend_from_slice(b",\"datatype\":\"FP64\",\"shape\":[1]");
                    write_parameters(&mut out, &o.parameters)?;
                    out.extend_from_slice(b",\"data\":[");
                    json_num(&mut out, x)?;
                }
                Item::Numbers(_, xs) => {
                    write!(out, ",\"datatype\":\"FP64\",\"shape\":[{}]", xs.len())?;
                    write_parameters(&mut out, &o.parameters)?;
                    out.extend_from_slice(b",\"data\":[");
                    for (i, &x) in xs.iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        json_num(&mut out, x)?;
                    }
                }
                Item::Array(_, a, values) => {
                    write!(out, ",\"datatype\":\"{}\",\"shape\":[{n}", datatype(&a.values))?;
                    if o.column.is_none() {
                        for d in a.dim.iter().flat_map(|d| &d[1..]) {
                            write!(out, ",{d}")?;
                        }
                    }
                    out.push(b']');
                    write_parameters(&mut out, &o.parameters)?;
                    out.extend_from_slice(b",\"data\":[");
                    let order = o.column.map_or_else(|| row_major(a), |c| vec![c]);
                    let mut first = true;
                    for i in 0..n {
                        for &c in &order {
                            if !std::mem::take(&mut first) {
                                out.push(b',');
                            }
                            json_value(&mut out, a, values, c * n + i)?;
                        }
                    }
                }
            }
            out.extend_from_slice(b"]}");
        }
        out.extend_from_slice(b"]}");
        Ok(())
    })()
    .map_err(internal)?;
    Ok(out)
}

/// The OIP datatype of an output's values.
pub(crate) fn datatype(values: &ValueKind) -> &'static str {
    match values {
        ValueKind::Factor(_) | ValueKind::Character(_) => "BYTES",
        ValueKind::Real => "FP64",
    }
}

/// The storage column of each value of a row, in row-major order (the
/// last dimension fastest).
pub(crate) fn row_major(a: &ArrayShape) -> Vec<usize> {
    let Some(dim) = &a.dim else { return vec![0] };
    let trailing = &dim[1..];
    (0..a.ncols())
        .map(|r| {
            // r's digits, last dimension fastest, read back first fastest
            let mut rest = r;
            let mut index = vec![0; trailing.len()];
            for k in (0..trailing.len()).rev() {
                index[k] = rest % trailing[k].max(1);
                rest /= trailing[k].max(1);
            }
            index.iter().zip(trailing).rev().fold(0, |c, (&i, &d)| c * d + i)
        })
        .collect()
}

/// An array output's `parameters` (see [`write_oip`]), in JSON and gRPC
/// answers alike.
pub(crate) fn output_parameters(a: &ArrayShape) -> Vec<(&'static str, serde_json::Value)> {
    let mut fields: Vec<(&'static str, serde_json::Value)> = Vec::new();
    if let Some(dimnames) = a.dimnames.as_ref().filter(|d| d.iter().skip(1).any(Option::is_some)) {
        match &dimnames[1..] {
            [names] => fields.push(("columns", serde_json::json!(names))),
            trailing => fields.push(("dimnames", serde_json::json!(trailing))),
        }
    }
    if let ValueKind::Factor(levels) = &a.values {
        fields.push(("levels", serde_json::json!(levels)));
    }
    if let Some(class) = &a.class {
        fields.push(("class", serde_json::json!(class)));
    }
    if a.drop {
        fields.push(("drop", serde_json::Value::Bool(true)));
    }
    if !a.attributes.is_empty() {
        let numbers = a.attributes.iter().map(|(name, x)| (name.clone(), number(*x))).collect();
        fields.push(("attributes", serde_json::Value::Object(numbers)));
    }
    fields
}

fn write_parameters(out: &mut Vec<u8>, fields: &[(&str, serde_json::Value)]) -> Written {
    if fields.is_empty() {
        return Ok(());
    }
    out.extend_from_slice(b",\"parameters\":{");
    for (k, (name, value)) in fields.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        write!(out, "\"{name}\":")?;
        serde_json::to_writer(&mut *out, value).map_err(std::io::Error::other)?;
    }
    out.push(b'}');
    Ok(())
}
