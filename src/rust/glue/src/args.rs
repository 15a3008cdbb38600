//! Arguments from R: strings, thread counts, load limits, and the extra
//! arguments of a prediction call under the names the source package's own
//! predict() uses. Which options a model takes is the engine's business
//! (`ModelInfo::options`); which R name stands for one in which package is
//! R's, and lives here. Arguments the engine does not reproduce are refused
//! by name rather than ignored.

use extendr_api::prelude::*;
use fastpredict_engine::{Error, Limits, Model, PredictOption, PredictOptions, Result, MAX_THREADS};

/// R argument names: (name, option, the algorithm whose predict() takes it).
const R_NAMES: &[(&str, PredictOption, &str)] = &[
    ("n.trees", PredictOption::NTrees, "gbm"),
    ("num.trees", PredictOption::NTrees, "ranger"),
    ("norm.votes", PredictOption::NormVotes, "randomForest"),
    ("se.fit", PredictOption::SeFit, "lm"),
    ("interval", PredictOption::Interval, "lm"),
    ("level", PredictOption::Level, "lm"),
    ("pred.var", PredictOption::PredVar, "lm"),
    ("weights", PredictOption::Weights, "lm"),
    ("scale", PredictOption::Scale, "lm"),
    ("df", PredictOption::Df, "lm"),
    ("se.fit", PredictOption::SeFit, "glm"),
    ("dispersion", PredictOption::Dispersion, "glm"),
];

pub fn string(x: &Robj, what: &str) -> Result<String> {
    x.as_str().map(str::to_string).ok_or_else(|| Error::bad_argument(format!("{what} must be a single string")))
}

/// A thread count; NULL is the default.
pub fn threads(x: &Robj) -> Result<usize> {
    if x.is_null() {
        return Ok(fastpredict_engine::default_threads());
    }
    let v = if x.len() == 1 { x.as_real().or_else(|| x.as_integer().map(f64::from)) } else { None };
    match v {
        Some(v) if v >= 1.0 && v.fract() == 0.0 && v <= MAX_THREADS as f64 => Ok(v as usize),
        _ => Err(Error::bad_argument(format!("threads must be a whole number between 1 and {MAX_THREADS}"))),
    }
}

/// A numeric vector (NA allowed: R would compute with it).
fn numbers(x: &Robj, name: &str) -> Result<Vec<f64>> {
    if let Some(v) = x.as_real_slice() {
        Ok(v.to_vec())
    } else if let Some(v) = x.as_integer_slice() {
        Ok(v.iter().map(|&i| if i == i32::MIN { fastpredict_engine::NA_REAL } else { i as f64 }).collect())
    } else {
        Err(Error::bad_argument(format!("{name} must be numeric")))
    }
}

/// A single number.
fn number(x: &Robj, name: &str) -> Result<f64> {
    match numbers(x, name)?.as_slice() {
        [v] => Ok(*v),
        _ => Err(Error::bad_argument(format!("{name} must be a single number"))),
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
            if v.is_finite() && v >= 1.0 && v.fract() == 0.0 && v <= usize::MAX as f64 {
                Ok(v as usize)
            } else {
                Err(Error::bad_argument(format!("{name} must hold whole numbers of at least 1")))
            }
        })
        .collect()
}

/// The extra arguments of a call, by their R names, as engine options.
pub fn options(m: &Model, options: &Robj) -> Result<PredictOptions> {
    options_for(m.info().algorithm.as_deref().unwrap_or(""), options)
}

/// As `options`, for a model known by its algorithm's name (a remote one).
pub fn options_for(algorithm: &str, options: &Robj) -> Result<PredictOptions> {
    let mut opts = PredictOptions::default();
    if options.is_null() || options.len() == 0 {
        return Ok(opts);
    }
    let list: List = options.clone().try_into().map_err(|_| Error::bad_argument("options must be a list"))?;
    let accepted: Vec<&(&str, PredictOption, &str)> = R_NAMES.iter().filter(|a| a.2 == algorithm).collect();
    for (name, value) in list.iter() {
        if name.is_empty() || name == "NA" {
            return Err(Error::bad_argument("extra arguments to predict_fast() must be named"));
        }
        let Some((_, option, _)) = accepted.iter().find(|a| a.0 == name) else {
            let allowed = if accepted.is_empty() {
                "none".to_string()
            } else {
                accepted.iter().map(|a| format!("'{}'", a.0)).collect::<Vec<_>>().join(", ")
            };
            return Err(Error::unsupported(format!(
                "the argument '{name}' for this model (fastpredict accepts: {allowed})"
            )));
        };
        let flag = || value.as_bool().ok_or_else(|| Error::bad_argument(format!("{name} must be TRUE or FALSE")));
        match option {
            PredictOption::NTrees => opts.n_trees = Some(whole_numbers(&value, name)?),
            PredictOption::NormVotes => opts.norm_votes = Some(flag()?),
            PredictOption::SeFit => opts.se_fit = Some(flag()?),
            PredictOption::Interval => opts.interval = Some(string(&value, name)?),
            PredictOption::Level => opts.level = Some(number(&value, name)?),
            PredictOption::Dispersion => opts.dispersion = Some(number(&value, name)?),
            PredictOption::Scale => opts.scale = Some(number(&value, name)?),
            PredictOption::Df => opts.df = Some(number(&value, name)?),
            PredictOption::PredVar => opts.pred_var = Some(numbers(&value, name)?),
            PredictOption::Weights => opts.weights = Some(numbers(&value, name)?),
        }
    }
    Ok(opts)
}

/// Load limits from a named list; names not given keep their current value.
pub fn limits(x: &Robj) -> Result<Limits> {
    let list: List = x.clone().try_into().map_err(|_| Error::bad_argument("limits must be a named list"))?;
    let mut now = serde_json::to_value(fastpredict_engine::limits()).map_err(|e| Error::internal(e.to_string()))?;
    for (name, value) in list.iter() {
        let v = if value.len() == 1 { value.as_real().or_else(|| value.as_integer().map(f64::from)) } else { None };
        let slot = now.get_mut(name).ok_or_else(|| Error::bad_argument(format!("there is no load limit '{name}'")))?;
        match v {
            Some(v) if v >= 0.0 && v.fract() == 0.0 && v < 2f64.powi(63) => *slot = serde_json::json!(v as u64),
            _ => return Err(Error::bad_argument(format!("the limit '{name}' must be a whole number of at least 0"))),
        }
    }
    serde_json::from_value(now).map_err(|e| Error::bad_argument(format!("bad load limits: {e}")))
}
