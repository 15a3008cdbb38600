//! The extra arguments of a prediction call, under the names the source
//! package's own predict() uses, turned into engine options. Arguments the
//! engine does not reproduce are refused by name rather than ignored.

use extendr_api::prelude::*;
use fastpredict_engine::{Error, Model, PredictOptions, Result};

/// Arguments each kind of model accepts, by R name.
fn accepted(m: &Model) -> &'static [&'static str] {
    match m.doc().trees.as_ref().map(|t| t.algorithm.as_str()) {
        Some("gbm") => &["n.trees"],
        Some("ranger") => &["num.trees"],
        Some("randomForest") => &["norm.votes"],
        _ => &[],
    }
}

fn whole_numbers(x: &Robj, name: &str) -> Result<Vec<usize>> {
    let vals: Vec<f64> = if let Some(v) = x.as_real_slice() {
        v.to_vec()
    } else if let Some(v) = x.as_integer_slice() {
        v.iter().map(|&i| if i == i32::MIN { f64::NAN } else { i as f64 }).collect()
    } else {
        return Err(Error::bad_argument(format!("{name} must be numeric")));
    };
    vals.into_iter()
        .map(|v| {
            if v.is_finite() && v >= 1.0 && v.fract() == 0.0 {
                Ok(v as usize)
            } else {
                Err(Error::bad_argument(format!("{name} must hold whole numbers of at least 1")))
            }
        })
        .collect()
}

pub fn from_r(m: &Model, options: &Robj) -> Result<PredictOptions> {
    let mut opts = PredictOptions::default();
    if options.is_null() || options.len() == 0 {
        return Ok(opts);
    }
    let list: List = options.clone().try_into().map_err(|_| Error::bad_argument("options must be a list"))?;
    let ok = accepted(m);
    for (name, value) in list.iter() {
        if name.is_empty() || name == "NA" {
            return Err(Error::bad_argument("extra arguments to predict_fast() must be named"));
        }
        if !ok.contains(&name) {
            let allowed = if ok.is_empty() {
                "none".to_string()
            } else {
                ok.iter().map(|a| format!("'{a}'")).collect::<Vec<_>>().join(", ")
            };
            return Err(Error::unsupported(format!(
                "the argument '{name}' for this model (fastpredict accepts: {allowed})"
            )));
        }
        match name {
            "n.trees" | "num.trees" => opts.n_trees = Some(whole_numbers(&value, name)?),
            "norm.votes" => {
                opts.norm_votes =
                    Some(value.as_bool().ok_or_else(|| Error::bad_argument("norm.votes must be TRUE or FALSE"))?)
            }
            _ => {}
        }
    }
    Ok(opts)
}
