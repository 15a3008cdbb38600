//! Prediction options from a query string (vetiver routes:
//! `/predict?type=prob&n_trees=100,500`), and the checks shared with OIP
//! request parameters.

use super::WireError;
use crate::error::Error;
use crate::model::PredictOptions;

/// The options a query string sets. Unknown names are refused rather than
/// ignored, as `predict_fast()` refuses unknown arguments.
pub fn query_options(query: &str) -> Result<PredictOptions, WireError> {
    let mut opts = PredictOptions::default();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (key, value) = (decode(key)?, decode(value)?);
        match key.as_str() {
            "type" => opts.type_ = Some(value),
            "n_trees" => {
                let numbers = value
                    .split(',')
                    .map(|p| p.trim().parse::<f64>())
                    .collect::<Result<Vec<f64>, _>>()
                    .map_err(|_| WireError::bad_request(format!("n_trees must hold numbers, not '{value}'")))?;
                let more = whole_numbers(&numbers).map_err(|e| WireError::bad_request(e.to_string()))?;
                opts.n_trees.get_or_insert_with(Vec::new).extend(more);
            }
            "norm_votes" => {
                opts.norm_votes = Some(match value.as_str() {
                    "true" | "TRUE" | "1" => true,
                    "false" | "FALSE" | "0" => false,
                    _ => {
                        return Err(WireError::bad_request(format!("norm_votes must be true or false, not '{value}'")))
                    }
                })
            }
            other => {
                return Err(WireError::bad_request(format!(
                    "unknown query parameter '{other}' (accepted: type, n_trees, norm_votes)"
                )))
            }
        }
    }
    Ok(opts)
}

/// Numbers of trees: whole numbers of at least 1.
pub(crate) fn whole_numbers(v: &[f64]) -> Result<Vec<usize>, Error> {
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
