//! Arguments from R: strings, thread counts, load limits, and the extra
//! arguments of a prediction call under the names the source package's own
//! predict() uses. Which options a model takes is the engine's business
//! (`ModelInfo::options`); which R name stands for one in which package is
//! R's, and lives here. Arguments the engine does not reproduce are refused
//! by name rather than ignored.

use extendr_api::prelude::*;
use extendr_ffi::{R_NaString, Rf_xlength, SEXP, SEXPTYPE, STRING_ELT, TYPEOF};
use fastpredict_engine::{Error, Limits, Model, Numbers, Penalty, PredictOption, PredictOptions, Result, MAX_THREADS};

use super::sexp::{char_bytes, char_str, materialize};

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
    ("s", PredictOption::S, "glmnet"),
    ("newoffset", PredictOption::Newoffset, "glmnet"),
    ("exact", PredictOption::Exact, "glmnet"),
    ("iteration_range", PredictOption::IterationRange, "xgboost"),
    ("ntreelimit", PredictOption::NTreeLimit, "xgboost"),
    ("dmatrix", PredictOption::Dmatrix, "xgboost"),
    ("start_iteration", PredictOption::StartIteration, "lightgbm"),
    ("num_iteration", PredictOption::NumIteration, "lightgbm"),
];

/// The one string of `x`, not NA.
fn single(x: SEXP, what: &str) -> Result<SEXP> {
    let bad = || Error::bad_argument(format!("{what} must be a single string"));
    unsafe {
        if TYPEOF(x) != SEXPTYPE::STRSXP || Rf_xlength(x) != 1 {
            return Err(bad());
        }
        let c = STRING_ELT(x, 0);
        if c == R_NaString {
            return Err(bad());
        }
        Ok(c)
    }
}

/// A single string as UTF-8 text: translated from latin1 or the native
/// encoding; a string in the "bytes" encoding or of invalid UTF-8 is
/// refused. (extendr's `as_str` would hand out any bytes unchecked as a
/// `&str`, and NA as "NA".)
pub fn string(x: &Robj, what: &str) -> Result<String> {
    string_of(unsafe { x.get() }, what)
}

/// As `string`, for an argument R protects (a `.Call` argument): an
/// `Robj` would enter it in extendr's table of protected objects.
pub fn string_of(x: SEXP, what: &str) -> Result<String> {
    let c = single(x, what)?;
    char_str(c).map(str::to_string).map_err(|e| Error::bad_argument(format!("{what}: {e}")))
}

/// A single string's bytes, for text that is parsed (JSON): UTF-8 where
/// the string has an encoding, as is otherwise. The parser checks them.
pub fn text_bytes(x: &Robj, what: &str) -> Result<&'static [u8]> {
    Ok(char_bytes(single(unsafe { x.get() }, what)?))
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

/// Make a numeric argument's data addressable here: extendr's slice
/// accessors would materialize an ALTREP vector (`1:3e9`) inside R, whose
/// allocation error would jump over Rust frames.
fn addressable(x: &Robj) -> Result<()> {
    if x.is_real() || x.is_integer() || x.is_logical() {
        materialize(unsafe { x.get() })?;
    }
    Ok(())
}

/// A numeric vector (NA allowed: R would compute with it).
fn numbers(x: &Robj, name: &str) -> Result<Vec<f64>> {
    addressable(x)?;
    // the copy is allocated fallibly: R may hold more than fits twice
    let mut out = Vec::new();
    let room = |out: &mut Vec<f64>, n: usize| {
        out.try_reserve_exact(n).map_err(|_| Error::bad_argument(format!("{name} has too many values ({n}) to copy")))
    };
    if let Some(v) = x.as_real_slice() {
        room(&mut out, v.len())?;
        out.extend_from_slice(v);
    } else if let Some(v) = x.as_integer_slice() {
        room(&mut out, v.len())?;
        out.extend(v.iter().map(|&i| if i == i32::MIN { fastpredict_engine::NA_REAL } else { i as f64 }));
    } else {
        return Err(Error::bad_argument(format!("{name} must be numeric")));
    }
    Ok(out)
}

/// A single number.
fn number(x: &Robj, name: &str) -> Result<f64> {
    match numbers(x, name)?.as_slice() {
        [v] => Ok(*v),
        _ => Err(Error::bad_argument(format!("{name} must be a single number"))),
    }
}

/// Whole numbers of at least `min`.
fn whole_numbers(x: &Robj, name: &str, min: f64) -> Result<Vec<usize>> {
    numbers(x, name)?
        .into_iter()
        .map(|v| {
            if v.is_finite() && v >= min && v.fract() == 0.0 && v <= 2f64.powi(53) {
                Ok(v as usize)
            } else {
                Err(Error::bad_argument(format!("{name} must hold whole numbers of at least {min}")))
            }
        })
        .collect()
}

/// A numeric vector or matrix (with its dimensions).
fn numbers_dim(x: &Robj, name: &str) -> Result<Numbers> {
    let values = numbers(x, name)?;
    let dim = unsafe { super::sexp::dim(x.get()) }.filter(|d| d.len() == 2).map(|d| [d[0], d[1]]);
    Ok(Numbers { values, dim })
}

/// glmnet's `s`: numbers (named or not), the name of a cross-validation
/// rule (`match.arg()`: the whole vector of choices stands for the first),
/// or NULL. predict.cv.glmnet() calls anything else an invalid form.
fn penalty(x: &Robj) -> Result<Penalty> {
    const RULES: [&str; 2] = ["lambda.1se", "lambda.min"];
    let invalid =
        || Error::bad_argument("s must be numeric (or, for a cv.glmnet model, \"lambda.1se\" or \"lambda.min\")");
    if x.is_null() {
        return Ok(Penalty::Path);
    }
    if x.class().is_some() {
        return Err(invalid());
    }
    if x.is_real() || x.is_integer() {
        return Ok(Penalty::Values { values: numbers(x, "s")?, names: names(x)? });
    }
    // through R's UTF-8 translation (extendr's as_str hands out NA as "NA"
    // and undecodable bytes unchecked)
    if x.is_string() && x.len() == 1 {
        return string(x, "s").map(Penalty::Rule);
    }
    let all = unsafe {
        let v = x.get();
        TYPEOF(v) == SEXPTYPE::STRSXP
            && Rf_xlength(v) == RULES.len() as isize
            && RULES.iter().enumerate().all(|(i, r)| char_str(STRING_ELT(v, i as isize)).is_ok_and(|s| s == *r))
    };
    if all {
        return Ok(Penalty::Rule(RULES[0].to_string()));
    }
    Err(invalid())
}

/// The names of a vector as UTF-8 text (NA as "NA", as R prints it).
fn names(x: &Robj) -> Result<Option<Vec<String>>> {
    unsafe {
        let n = extendr_ffi::Rf_getAttrib(x.get(), extendr_ffi::R_NamesSymbol);
        if TYPEOF(n) != SEXPTYPE::STRSXP {
            return Ok(None);
        }
        (0..Rf_xlength(n))
            .map(|i| match STRING_ELT(n, i) {
                c if c == R_NaString => Ok("NA".to_string()),
                c => char_str(c).map(str::to_string).map_err(|e| Error::bad_argument(format!("names of s: {e}"))),
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }
}

/// One whole number, of any sign.
fn integer(x: &Robj, name: &str) -> Result<i64> {
    match numbers(x, name)?[..] {
        [v] if v.is_finite() && v.fract() == 0.0 && v.abs() <= 2f64.powi(53) => Ok(v as i64),
        _ => Err(Error::bad_argument(format!("{name} must be one whole number"))),
    }
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
        // the boosters' R predict() take NULL for every round (their default)
        let rounds = matches!(
            option,
            PredictOption::IterationRange
                | PredictOption::NTreeLimit
                | PredictOption::StartIteration
                | PredictOption::NumIteration
        );
        if rounds && value.is_null() {
            continue;
        }
        let flag = || value.as_bool().ok_or_else(|| Error::bad_argument(format!("{name} must be TRUE or FALSE")));
        match option {
            PredictOption::NTrees => opts.n_trees = Some(whole_numbers(&value, name, 1.0)?),
            PredictOption::NormVotes => opts.norm_votes = Some(flag()?),
            PredictOption::SeFit => opts.se_fit = Some(flag()?),
            PredictOption::Interval => opts.interval = Some(string(&value, name)?),
            PredictOption::Level => opts.level = Some(number(&value, name)?),
            PredictOption::Dispersion => opts.dispersion = Some(number(&value, name)?),
            PredictOption::Scale => opts.scale = Some(number(&value, name)?),
            PredictOption::Df => opts.df = Some(number(&value, name)?),
            PredictOption::PredVar => opts.pred_var = Some(numbers(&value, name)?),
            PredictOption::Weights => opts.weights = Some(numbers(&value, name)?),
            PredictOption::S => opts.s = Some(penalty(&value)?),
            PredictOption::Newoffset => opts.newoffset = Some(numbers_dim(&value, name)?),
            PredictOption::Exact => opts.exact = Some(flag()?),
            PredictOption::IterationRange => match whole_numbers(&value, name, 0.0)?[..] {
                [a, b] => opts.iteration_range = Some((a, b)),
                _ => return Err(Error::bad_argument(format!("{name} must be two whole numbers, c(begin, end)"))),
            },
            PredictOption::NTreeLimit => match whole_numbers(&value, name, 0.0)?[..] {
                [n] => opts.ntree_limit = Some(n),
                _ => return Err(Error::bad_argument(format!("{name} must be one whole number"))),
            },
            PredictOption::Dmatrix => opts.dmatrix = Some(flag()?),
            PredictOption::StartIteration => opts.start_iteration = Some(integer(&value, name)?),
            PredictOption::NumIteration => opts.num_iteration = Some(integer(&value, name)?),
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
