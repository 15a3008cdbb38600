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
use crate::model::{PredictOption, PredictOptions};

/// Every option, by its wire name (the engine's).
const OPTIONS: [PredictOption; 10] = [
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
            opts.n_trees.get_or_insert_with(Vec::new).extend(whole_numbers(&numbers(name, value)?)?)
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
    } = opts;
    let num = |x: &f64| super::encode::number(*x);
    let nums = |v: &Vec<f64>| Value::Array(v.iter().map(num).collect());
    let given: [(&str, Option<Value>); 11] = [
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

/// Numbers of trees: whole numbers of at least 1.
fn whole_numbers(v: &[f64]) -> Result<Vec<usize>, Error> {
    v.iter()
        .map(|&x| {
            if x.is_finite() && x >= 1.0 && x.fract() == 0.0 && x <= usize::MAX as f64 {
                Ok(x as usize)
            } else {
                Err(Error::bad_argument("n_trees must hold whole numbers of at least 1"))
            }
        })
        .collect()
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
