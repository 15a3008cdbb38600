//! The client's side of the Open Inference Protocol: the request a frame
//! makes, and the prediction an answer holds. Each is the inverse of the
//! server's side (the decoder, [`write_oip`](super::write_oip)), so that a
//! prediction made remotely equals the one made locally, value for value
//! and in its R shape.

use std::io::Write;

use serde_json::Value;

use super::WireError;
use crate::frame::{is_r_na, Column, Frame, NA_INTEGER, NA_REAL};
use crate::model::PredictOptions;
use crate::output::{ArrayShape, OutputShape, Part, Prediction, ValueKind, Values};

type Written = std::io::Result<()>;

/// One value of a numeric request tensor: shortest round-trip digits, or
/// the spellings the decoder reads as the special values.
fn num(out: &mut Vec<u8>, v: f64) -> Written {
    if v.is_finite() {
        serde_json::to_writer(out, &v).map_err(std::io::Error::other)
    } else if is_r_na(v) {
        out.write_all(b"null")
    } else if v.is_nan() {
        out.write_all(b"\"NaN\"")
    } else if v > 0.0 {
        out.write_all(b"\"Inf\"")
    } else {
        out.write_all(b"\"-Inf\"")
    }
}

fn string(out: &mut Vec<u8>, s: Option<&str>) -> Written {
    match s {
        Some(s) => serde_json::to_writer(out, s).map_err(std::io::Error::other),
        None => out.write_all(b"null"),
    }
}

/// An OIP inference request for the columns of `frame`: one tensor per
/// column, `[N]` long, FP64 for numbers (a sparse column with its zeros),
/// BOOL for logicals and BYTES for factors and strings, `null` for a missing value; the options in
/// `parameters`.
pub fn write_oip_request(frame: &Frame, options: &PredictOptions) -> Result<Vec<u8>, WireError> {
    let mut out = Vec::with_capacity(64 + 24 * frame.nrows().unwrap_or(0));
    (|| -> Written {
        out.push(b'{');
        let params = super::options::parameters(options);
        if !params.is_empty() {
            out.extend_from_slice(b"\"parameters\":");
            serde_json::to_writer(&mut out, &params).map_err(std::io::Error::other)?;
            out.push(b',');
        }
        out.extend_from_slice(b"\"inputs\":[");
        for (k, (name, column)) in frame.iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            let datatype = match column {
                Column::Real(_) | Column::Int(_) | Column::Sparse { .. } => "FP64",
                Column::Logical(_) => "BOOL",
                Column::Factor { .. } | Column::Str(_) => "BYTES",
            };
            out.extend_from_slice(b"{\"name\":");
            string(&mut out, Some(name))?;
            write!(out, ",\"datatype\":\"{datatype}\",\"shape\":[{}],\"data\":[", column.len())?;
            for i in 0..column.len() {
                if i > 0 {
                    out.push(b',');
                }
                match column {
                    Column::Real(x) => num(&mut out, x[i])?,
                    Column::Int(x) | Column::Logical(x) if x[i] == NA_INTEGER => out.write_all(b"null")?,
                    Column::Int(x) => write!(out, "{}", x[i])?,
                    Column::Logical(x) => out.write_all(if x[i] != 0 { b"true" } else { b"false" })?,
                    Column::Factor { codes, levels } => {
                        let code = codes[i];
                        let level =
                            usize::try_from(code).ok().and_then(|c| c.checked_sub(1)).and_then(|c| levels.get(c));
                        string(&mut out, level.copied())?
                    }
                    Column::Str(x) => string(&mut out, x[i])?,
                    // a sparse matrix's column: zero where it holds nothing
                    Column::Sparse { rows, values, .. } => {
                        let at = i32::try_from(i).ok().and_then(|r| rows.binary_search(&r).ok());
                        num(&mut out, at.map_or(0.0, |k| values[k]))?
                    }
                }
            }
            out.extend_from_slice(b"]}");
        }
        out.extend_from_slice(b"]}");
        Ok(())
    })()
    .map_err(|e| WireError::new(500, "internal", format!("cannot write the request: {e}")))?;
    Ok(out)
}

fn bad(message: impl Into<String>) -> WireError {
    WireError::new(502, "bad_answer", message)
}

/// The prediction in an OIP inference response: one output is an array,
/// several are a list by output name (R's, `r_name`, where it differs), in
/// which an output marked `scalar` is a number for the whole call, one
/// marked `per_call` numbers for the whole call, and the three marked
/// `interval` (`fit`, `lwr`, `upr`) the columns of `predict.lm()`'s
/// interval matrix. FP64 outputs are doubles (`null` is NA; `"NaN"`,
/// `"Inf"`, `"-Inf"` the special values), BYTES outputs factors of their
/// `levels` parameter, or text without one; the shape and the `columns`,
/// `dimnames`, `class` and `drop` parameters give the R array.
pub fn read_oip(body: &[u8]) -> Result<Prediction, WireError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| bad(format!("the answer is not JSON: {e}")))?;
    let outputs = v.get("outputs").and_then(Value::as_array).ok_or_else(|| bad("the answer has no 'outputs'"))?;
    if outputs.is_empty() {
        return Err(bad("the answer has no outputs"));
    }
    let mut nrows = None;
    let mut parts = Vec::with_capacity(outputs.len());
    let mut shapes = Vec::with_capacity(outputs.len());
    // the interval's columns read so far, and their values
    let (mut seen, mut interval) = (0, Vec::new());
    for o in outputs {
        let param = |k: &str| o.get("parameters").and_then(|p| p.get(k));
        let oip_name = o.get("name").and_then(Value::as_str).unwrap_or("");
        let name = param("r_name").and_then(Value::as_str).unwrap_or(oip_name).to_string();
        let said = |m: String| bad(format!("output '{oip_name}': {m}"));
        let marked = |k: &str| param(k) == Some(&Value::Bool(true));
        if marked("per_call") {
            let data = o.get("data").and_then(Value::as_array).ok_or_else(|| said("no data array".into()))?;
            let xs = data.iter().map(real).collect::<Result<Vec<_>, _>>().map_err(said)?;
            shapes.push((name, Part::Numbers(xs)));
            continue;
        }
        if marked("scalar") {
            let x = match o.get("data").and_then(Value::as_array).map(Vec::as_slice) {
                Some([x]) => real(x).map_err(said)?,
                _ => return Err(said("a scalar output holds one value".into())),
            };
            shapes.push((name, Part::Number(x)));
            continue;
        }
        let (a, values, n) = read_output(o).map_err(said)?;
        if *nrows.get_or_insert(n) != n {
            return Err(bad("the outputs have different numbers of rows"));
        }
        if marked("interval") {
            // fit, lwr, upr in turn: one column each of the matrix
            let (Values::Real(v), None) = (values, &a.dim) else {
                return Err(said("an interval column holds one number a row".into()));
            };
            if INTERVAL.get(seen) != Some(&oip_name) {
                return Err(said("the interval's outputs are not fit, lwr and upr in turn".into()));
            }
            interval.extend(v);
            seen += 1;
            if seen == INTERVAL.len() {
                shapes.push(("fit".to_string(), Part::Array(interval_matrix(n))));
                parts.push(Values::Real(std::mem::take(&mut interval)));
                seen = 0;
            }
            continue;
        }
        shapes.push((name, Part::Array(a)));
        parts.push(values);
    }
    if seen != 0 {
        return Err(bad("the interval's outputs are not fit, lwr and upr in turn"));
    }
    let shape = match shapes.as_slice() {
        [(_, Part::Array(a))] => OutputShape::Array(a.clone()),
        _ => OutputShape::List(shapes),
    };
    Ok(Prediction { shape, nrows: nrows.unwrap_or(0), parts })
}

/// The columns of `predict.lm()`'s interval matrix.
const INTERVAL: [&str; 3] = ["fit", "lwr", "upr"];

fn interval_matrix(n: usize) -> ArrayShape {
    ArrayShape {
        dim: Some(vec![n, 3]),
        dimnames: Some(vec![None, Some(INTERVAL.iter().map(|c| c.to_string()).collect())]),
        ..ArrayShape::vector()
    }
}

fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    v?.as_array()?.iter().map(|s| s.as_str().map(String::from)).collect()
}

/// One output: its array shape, values (column-major) and rows.
fn read_output(o: &Value) -> Result<(ArrayShape, Values, usize), String> {
    let shape: Vec<usize> = o
        .get("shape")
        .and_then(Value::as_array)
        .and_then(|s| s.iter().map(|d| d.as_u64().and_then(|d| usize::try_from(d).ok())).collect())
        .filter(|s: &Vec<usize>| !s.is_empty())
        .ok_or("no shape of whole numbers")?;
    let data = o.get("data").and_then(Value::as_array).ok_or("no data array")?;
    let count = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).ok_or("a shape too large")?;
    if count != data.len() {
        return Err(format!("shape {shape:?} but {} values", data.len()));
    }
    let params = o.get("parameters");
    let param = |k: &str| params.and_then(|p| p.get(k));
    let values = value_kind(o.get("datatype").and_then(Value::as_str), param("levels"), data)?;
    let dimnames = dimnames(&shape, param("columns"), param("dimnames"))?;
    let a = ArrayShape {
        values,
        dim: (shape.len() > 1).then(|| shape.clone()),
        dimnames: dimnames.filter(|d| d.iter().any(Option::is_some)),
        class: strings(param("class")),
        drop: param("drop") == Some(&Value::Bool(true)),
        attributes: match param("attributes") {
            Some(Value::Object(o)) => {
                o.iter().map(|(k, v)| real(v).map(|x| (k.clone(), x))).collect::<Result<_, _>>()?
            }
            Some(_) => return Err("'attributes' is not an object of numbers".into()),
            None => Vec::new(),
        },
    };
    let n = shape[0];
    let values = column_major(&a, data, n)?;
    Ok((a, values, n))
}

/// What an output's values are, from its datatype and `levels`.
fn value_kind(datatype: Option<&str>, levels: Option<&Value>, data: &[Value]) -> Result<ValueKind, String> {
    match datatype {
        // a factor names its levels; text (glmnet's classes) is its values
        Some("BYTES") => Ok(match strings(levels) {
            Some(levels) => ValueKind::Factor(levels),
            None => {
                let mut seen = std::collections::HashSet::new();
                let labels = data.iter().filter_map(Value::as_str).filter(|s| seen.insert(*s)).map(String::from);
                ValueKind::Character(labels.collect())
            }
        }),
        Some("FP64") | Some("FP32") => Ok(ValueKind::Real),
        other => Err(format!("datatype {other:?}; expected FP64 or BYTES")),
    }
}

/// An array's dimnames (none for the rows) from its `columns` or
/// `dimnames` parameter; `None` for a vector.
fn dimnames(
    shape: &[usize],
    columns: Option<&Value>,
    dimnames: Option<&Value>,
) -> Result<Option<Vec<Option<Vec<String>>>>, String> {
    if shape.len() <= 1 {
        return Ok(None);
    }
    let trailing = match (columns, dimnames) {
        (Some(c), _) => vec![Some(strings(Some(c)).ok_or("'columns' are not strings")?)],
        (None, Some(Value::Array(d))) => d
            .iter()
            .map(|x| if x.is_null() { Ok(None) } else { strings(Some(x)).map(Some).ok_or(()) })
            .collect::<Result<_, _>>()
            .map_err(|_| "'dimnames' are not lists of strings")?,
        _ => vec![None; shape.len() - 1],
    };
    if trailing.len() != shape.len() - 1 {
        return Err("'dimnames' do not match the shape".into());
    }
    let fits = trailing.iter().zip(&shape[1..]).all(|(n, &d)| n.as_ref().is_none_or(|n| n.len() == d));
    if !fits {
        return Err("the column names do not match the shape".into());
    }
    Ok(Some(std::iter::once(None).chain(trailing).collect::<Vec<_>>()))
}

/// An output's row-major data back to R's column-major storage: doubles,
/// or the 1-based codes of factor levels and text.
fn column_major(a: &ArrayShape, data: &[Value], n: usize) -> Result<Values, String> {
    let cols = a.ncols();
    let order = super::encode::row_major(a);
    Ok(match &a.values {
        ValueKind::Real => {
            let mut v = vec![0.0; n * cols];
            for (k, x) in data.iter().enumerate() {
                v[order[k % cols] * n + k / cols] = real(x)?;
            }
            Values::Real(v)
        }
        ValueKind::Factor(levels) | ValueKind::Character(levels) => {
            let index: std::collections::HashMap<&str, i32> =
                levels.iter().enumerate().map(|(i, l)| (l.as_str(), i as i32 + 1)).collect();
            let mut v = vec![NA_INTEGER; n * cols];
            for (k, x) in data.iter().enumerate() {
                v[order[k % cols] * n + k / cols] = match x {
                    Value::Null => NA_INTEGER,
                    Value::String(s) => {
                        *index.get(s.as_str()).ok_or_else(|| format!("the class '{s}' is not a level"))?
                    }
                    _ => return Err(format!("{x} is not a class")),
                };
            }
            Values::Int(v)
        }
    })
}

fn real(x: &Value) -> Result<f64, String> {
    match x {
        Value::Number(n) => n.as_f64().ok_or_else(|| format!("{n} is not a double")),
        Value::Null => Ok(NA_REAL),
        Value::String(s) => match s.as_str() {
            "NaN" => Ok(f64::NAN),
            "Inf" => Ok(f64::INFINITY),
            "-Inf" => Ok(f64::NEG_INFINITY),
            "NA" => Ok(NA_REAL),
            _ => Err(format!("the string {x} is not a number")),
        },
        _ => Err(format!("{x} is not a number")),
    }
}
