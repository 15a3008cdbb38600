//! Prediction options on the wire: OIP request `parameters`
//! (`{"se_fit": true, "level": 0.9}`) and vetiver query strings
//! (`/predict?type=prob&n_trees=100,500`). Both use the engine's option
//! names ([`PredictOption::as_str`]) and `type`; which options a model
//! takes is checked by the engine when the call is prepared, so a wrong
//! one is refused by name.

use serde_json::{Map, Value};

use super::WireError;
use crate::error::Error;
use crate::frame::NA_REAL;
use crate::model::{Numbers, Penalty, PredictOption, PredictOptions};

/// Every option, by its wire name (the engine's).
const OPTIONS: [PredictOption; 18] = [
    PredictOption::NTrees,
    PredictOption::NormVotes,
    PredictOption::SeFit,
    PredictOption::Interval,
    PredictOption::Level,
    PredictOption::Dispersion,
    PredictOption::PredVar,
    PredictOption::Weights,
    PredictOption::Scale,
    PredictOption::Df,
    PredictOption::S,
    PredictOption::Newoffset,
    PredictOption::Exact,
    PredictOption::IterationRange,
    PredictOption::NTreeLimit,
    PredictOption::Dmatrix,
    PredictOption::StartIteration,
    PredictOption::NumIteration,
];

/// The names a request may set: `type` and every option.
pub fn option_names() -> Vec<&'static str> {
    std::iter::once("type").chain(OPTIONS.iter().map(|o| o.as_str())).collect()
}

/// An option's value as it came: JSON (OIP) or text (a query string).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Given<'a> {
    Json(&'a Value),
    Text(&'a str),
}

impl Given<'_> {
    /// A JSON string is read as text, so that `"true"` or `"0.1,0.2"`
    /// mean the same in both places.
    fn text(&self) -> Option<&str> {
        match self {
            Given::Text(s) => Some(s),
            Given::Json(Value::String(s)) => Some(s),
            Given::Json(_) => None,
        }
    }
}

/// Set `name` (`type` or an option) from `value`. `Ok(false)` if the name
/// is not one, which the caller refuses (a query string) or ignores (OIP
/// parameters also carry MLServer's `content_type` and the like).
pub(crate) fn set(opts: &mut PredictOptions, name: &str, value: Given) -> Result<bool, Error> {
    if name == "type" {
        opts.type_ = Some(string(name, value)?);
        return Ok(true);
    }
    let Some(option) = OPTIONS.into_iter().find(|o| o.as_str() == name) else { return Ok(false) };
    match option {
        PredictOption::NTrees => {
            opts.n_trees.get_or_insert_with(Vec::new).extend(whole_numbers(name, &numbers(name, value)?, 1.0)?)
        }
        PredictOption::NormVotes => opts.norm_votes = Some(flag(name, value)?),
        PredictOption::SeFit => opts.se_fit = Some(flag(name, value)?),
        PredictOption::Interval => opts.interval = Some(string(name, value)?),
        PredictOption::Level => opts.level = Some(number(name, value)?),
        PredictOption::Dispersion => opts.dispersion = Some(number(name, value)?),
        PredictOption::PredVar => opts.pred_var = Some(numbers(name, value)?),
        PredictOption::Weights => opts.weights = Some(numbers(name, value)?),
        PredictOption::Scale => opts.scale = Some(number(name, value)?),
        PredictOption::Df => opts.df = Some(number(name, value)?),
        PredictOption::S => opts.s = Some(penalty(value)?),
        PredictOption::Newoffset => opts.newoffset = Some(matrix(name, value)?),
        PredictOption::Exact => opts.exact = Some(flag(name, value)?),
        PredictOption::IterationRange => match whole_numbers(name, &numbers(name, value)?, 0.0)?[..] {
            [a, b] => opts.iteration_range = Some((a, b)),
            _ => return Err(Error::bad_argument(format!("{name} must be two whole numbers, [begin, end]"))),
        },
        PredictOption::NTreeLimit => match whole_numbers(name, &numbers(name, value)?, 0.0)?[..] {
            [n] => opts.ntree_limit = Some(n),
            _ => return Err(Error::bad_argument(format!("{name} must be one whole number"))),
        },
        PredictOption::Dmatrix => opts.dmatrix = Some(flag(name, value)?),
        PredictOption::StartIteration => opts.start_iteration = Some(integer(name, value)?),
        PredictOption::NumIteration => opts.num_iteration = Some(integer(name, value)?),
    }
    Ok(true)
}

/// The options as OIP request `parameters`, which [`set`] reads back
/// (a number JSON cannot hold as jsonlite's text, `"Inf"`, ...; NA as null).
pub(crate) fn parameters(opts: &PredictOptions) -> Map<String, Value> {
    // every field, so that a new option cannot be left out
    let PredictOptions {
        type_,
        n_trees,
        norm_votes,
        se_fit,
        interval,
        level,
        dispersion,
        pred_var,
        weights,
        scale,
        df,
        s,
        newoffset,
        exact,
        iteration_range,
        ntree_limit,
        dmatrix,
        start_iteration,
        num_iteration,
    } = opts;
    let num = |x: &f64| super::encode::number(*x);
    let nums = |v: &Vec<f64>| Value::Array(v.iter().map(num).collect());
    let given: [(&str, Option<Value>); 19] = [
        ("type", type_.as_deref().map(Value::from)),
        (PredictOption::NTrees.as_str(), n_trees.clone().map(Value::from)),
        (PredictOption::NormVotes.as_str(), norm_votes.map(Value::from)),
        (PredictOption::SeFit.as_str(), se_fit.map(Value::from)),
        (PredictOption::Interval.as_str(), interval.as_deref().map(Value::from)),
        (PredictOption::Level.as_str(), level.as_ref().map(num)),
        (PredictOption::Dispersion.as_str(), dispersion.as_ref().map(num)),
        (PredictOption::PredVar.as_str(), pred_var.as_ref().map(nums)),
        (PredictOption::Weights.as_str(), weights.as_ref().map(nums)),
        (PredictOption::Scale.as_str(), scale.as_ref().map(num)),
        (PredictOption::Df.as_str(), df.as_ref().map(num)),
        (
            PredictOption::S.as_str(),
            s.as_ref().map(|p| match p {
                Penalty::Values { values, .. } => nums(values),
                Penalty::Rule(rule) => Value::from(rule.as_str()),
                Penalty::Path => Value::Null,
            }),
        ),
        // a matrix as its rows, as `matrix()` reads it
        (
            PredictOption::Newoffset.as_str(),
            newoffset.as_ref().map(|m| match m.dim {
                Some([nrow, ncol]) => Value::Array(
                    (0..nrow)
                        .map(|r| Value::Array((0..ncol).map(|c| num(&m.values[c * nrow + r])).collect()))
                        .collect(),
                ),
                None => nums(&m.values),
            }),
        ),
        (PredictOption::Exact.as_str(), exact.map(Value::from)),
        (PredictOption::IterationRange.as_str(), iteration_range.map(|(a, b)| Value::from(vec![a, b]))),
        (PredictOption::NTreeLimit.as_str(), ntree_limit.map(Value::from)),
        (PredictOption::Dmatrix.as_str(), dmatrix.map(Value::from)),
        (PredictOption::StartIteration.as_str(), start_iteration.map(Value::from)),
        (PredictOption::NumIteration.as_str(), num_iteration.map(Value::from)),
    ];
    given.into_iter().filter_map(|(k, v)| v.map(|v| (k.to_string(), v))).collect()
}

/// `given`'s options over `defaults`: each option `given` sets replaces
/// the default's.
pub fn overlay(defaults: &PredictOptions, given: &PredictOptions) -> Result<PredictOptions, WireError> {
    let mut merged = parameters(defaults);
    merged.extend(parameters(given));
    let mut opts = PredictOptions::default();
    for (name, value) in &merged {
        set(&mut opts, name, Given::Json(value)).map_err(|e| WireError::bad_request(e.to_string()))?;
    }
    Ok(opts)
}

/// The names of the options `opts` sets (`type` among them).
pub fn set_names(opts: &PredictOptions) -> Vec<String> {
    parameters(opts).into_iter().map(|(k, _)| k).collect()
}

fn string(name: &str, value: Given) -> Result<String, Error> {
    value.text().map(str::to_string).ok_or_else(|| Error::bad_argument(format!("{name} must be a string")))
}

fn flag(name: &str, value: Given) -> Result<bool, Error> {
    match (value, value.text()) {
        (Given::Json(Value::Bool(b)), _) => Ok(*b),
        (_, Some("true" | "TRUE" | "1")) => Ok(true),
        (_, Some("false" | "FALSE" | "0")) => Ok(false),
        _ => Err(Error::bad_argument(format!("{name} must be true or false"))),
    }
}

/// One number, as jsonlite writes them (`"NA"`, `"Inf"`, ... as text).
fn scalar(x: &Value) -> Option<f64> {
    match x {
        Value::Number(n) => n.as_f64(),
        Value::Null => Some(NA_REAL),
        Value::String(s) => text_number(s),
        _ => None,
    }
}

fn text_number(s: &str) -> Option<f64> {
    match s.trim() {
        "NA" => Some(NA_REAL),
        "NaN" => Some(f64::NAN),
        "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        // Rust would also read "inf" and "nan", which R does not write
        t if t.bytes().any(|b| b.is_ascii_digit()) => t.parse().ok(),
        _ => None,
    }
}

/// Numbers: a JSON number or array, or comma-separated text.
fn numbers(name: &str, value: Given) -> Result<Vec<f64>, Error> {
    let read = match (value, value.text()) {
        (_, Some(t)) => t.split(',').map(text_number).collect(),
        (Given::Json(Value::Array(a)), _) => a.iter().map(scalar).collect(),
        (Given::Json(x), _) => scalar(x).map(|v| vec![v]),
        (Given::Text(_), None) => None,
    };
    read.ok_or_else(|| Error::bad_argument(format!("{name} must hold numbers")))
}

fn number(name: &str, value: Given) -> Result<f64, Error> {
    match numbers(name, value).ok().as_deref() {
        Some(&[v]) => Ok(v),
        _ => Err(Error::bad_argument(format!("{name} must be a single number"))),
    }
}

/// glmnet's `s`: numbers, a cross-validation rule (`"lambda.min"`,
/// `"lambda.1se"`, or a unique start of one, as R's `match.arg()`), or
/// `null` (text `NULL`) for the whole path, as R's `s = NULL`.
fn penalty(value: Given) -> Result<Penalty, Error> {
    if let Some(t) = value.text() {
        return Ok(match t {
            "NULL" => Penalty::Path,
            t => match numbers("s", Given::Text(t)) {
                Ok(values) => Penalty::Values { values, names: None },
                Err(_) => Penalty::Rule(t.to_string()),
            },
        });
    }
    match value {
        Given::Json(Value::Null) => Ok(Penalty::Path),
        _ => match numbers("s", value) {
            Ok(values) => Ok(Penalty::Values { values, names: None }),
            Err(_) => Err(Error::bad_argument(
                "s must hold numbers, \"lambda.1se\" or \"lambda.min\" (a cv.glmnet model), or null",
            )),
        },
    }
}

/// Numbers, or a matrix as an array of rows (glmnet's `newoffset` for a
/// multinomial model: a column per class).
fn matrix(name: &str, value: Given) -> Result<Numbers, Error> {
    let Given::Json(Value::Array(rows)) = value else {
        return numbers(name, value).map(|values| Numbers { values, dim: None });
    };
    if !rows.iter().any(Value::is_array) {
        return numbers(name, value).map(|values| Numbers { values, dim: None });
    }
    let bad = || Error::bad_argument(format!("{name} must hold numbers, or rows of numbers of one length"));
    let rows: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| r.as_array().and_then(|r| r.iter().map(scalar).collect::<Option<Vec<f64>>>()))
        .collect::<Option<_>>()
        .ok_or_else(bad)?;
    let ncol = rows.first().map_or(0, Vec::len);
    if rows.iter().any(|r| r.len() != ncol) {
        return Err(bad());
    }
    // column-major, as R stores a matrix
    let values = (0..ncol).flat_map(|c| rows.iter().map(move |r| r[c])).collect();
    Ok(Numbers { values, dim: Some([rows.len(), ncol]) })
}

/// Numbers of trees: whole numbers of at least 1.
fn whole_numbers(name: &str, v: &[f64], min: f64) -> Result<Vec<usize>, Error> {
    v.iter()
        .map(|&x| {
            if x.is_finite() && x >= min && x.fract() == 0.0 && x <= 2f64.powi(53) {
                Ok(x as usize)
            } else {
                Err(Error::bad_argument(format!("{name} must hold whole numbers of at least {min}")))
            }
        })
        .collect()
}

/// One whole number, of any sign (LightGBM's rounds).
fn integer(name: &str, value: Given) -> Result<i64, Error> {
    match numbers(name, value)?[..] {
        [v] if v.is_finite() && v.fract() == 0.0 && v.abs() <= 2f64.powi(53) => Ok(v as i64),
        _ => Err(Error::bad_argument(format!("{name} must be one whole number"))),
    }
}

/// The options a query string sets. Unknown names are refused rather than
/// ignored, as `predict_fast()` refuses unknown arguments.
pub fn query_options(query: &str) -> Result<PredictOptions, WireError> {
    let mut opts = PredictOptions::default();
    let bad = |e: Error| WireError::bad_request(e.to_string());
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (key, value) = (decode(key)?, decode(value)?);
        if !set(&mut opts, &key, Given::Text(&value)).map_err(bad)? {
            return Err(WireError::bad_request(format!(
                "unknown query parameter '{key}' (accepted: {})",
                option_names().join(", ")
            )));
        }
    }
    Ok(opts)
}

/// Percent-decoding of a query component (`+` is a space).
fn decode(s: &str) -> Result<String, WireError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                let byte = hex.and_then(|h| u8::from_str_radix(h, 16).ok());
                out.push(byte.ok_or_else(|| WireError::bad_request(format!("bad percent-encoding in '{s}'")))?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| WireError::bad_request(format!("the query '{s}' is not UTF-8")))
}
