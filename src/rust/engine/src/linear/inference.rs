//! Standard errors, intervals and per-term predictions, as `predict.lm()`
//! and `predict.glm()` compute them:
//!
//! - `se.fit`: `sqrt(ip)` with `ip = rowSums((X[, piv] %*% Rinv)^2) * res.var`,
//!   where `Rinv = qr.solve(qr.R(qr)[p1, p1])` comes from the document and
//!   `res.var` is the fit's residual variance (lm), `scale^2` when a scale is
//!   given, or the dispersion (glm, through `scale = sqrt(dispersion)`); for
//!   a glm on the response scale it is multiplied by `|mu.eta(eta)|`;
//! - intervals (lm): `fit + hwid` and `fit - hwid` with
//!   `hwid = qt((1 - level) / 2, df) * sqrt(ip)`, or `sqrt(ip + pred.var)`
//!   for prediction intervals (`pred.var = res.var / weights`);
//! - `type = "terms"`: per term, its design columns centred by the training
//!   means (when the model has an intercept) times their coefficients, with
//!   the attribute "constant".

use crate::error::{Error, Result};
use crate::format::{InferenceSpec, LinearSpec};
use crate::limits::{self, Limits};
use crate::linear::quantile::qt;
use crate::model::{PredictOptions, PredictType};
use crate::output::{ArrayShape, OutputShape, Part};

/// Whose conventions a linear model follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Lm,
    Glm,
}

impl Method {
    /// From the document: its inference section, else the types it offers
    /// (only a glm has a link scale).
    pub fn of(spec: &LinearSpec) -> Result<Method> {
        match spec.inference.as_ref().map(|i| i.method.as_str()) {
            Some("lm") => Ok(Method::Lm),
            Some("glm") => Ok(Method::Glm),
            Some(other) => Err(Error::unsupported(format!("the inference method '{other}'"))),
            None if spec.types.iter().any(|t| t == "link") => Ok(Method::Glm),
            None => Ok(Method::Lm),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Lm => "lm",
            Method::Glm => "glm",
        }
    }
}

/// The inference section, checked.
#[derive(Debug, Clone)]
pub(crate) struct Inference {
    /// Design columns of the rank, in pivot order.
    pub pivot: Vec<usize>,
    /// rank x rank, column-major.
    pub r_inverse: Vec<f64>,
    /// The row of `r_inverse` of each estimated design column.
    pub unpivot: Vec<usize>,
    residual_variance: Option<f64>,
    dispersion: Option<f64>,
    df_residual: f64,
    pub weighted: bool,
    /// Training means of the design columns, and the constant of "terms".
    pub column_means: Option<Vec<f64>>,
    pub terms_constant: f64,
}

impl Inference {
    pub fn new(
        i: &InferenceSpec,
        method: Method,
        ncoef: usize,
        beta: &[Option<f64>],
        lim: &Limits,
    ) -> Result<Inference> {
        let p = i.pivot.len();
        let square = limits::product(p, p, "the inverse of R")?;
        limits::check("a linear model: the inverse of R", square as u64, lim.design as u64, "design")?;
        if i.r_inverse.len() != square {
            return Err(Error::invalid(format!("'r_inverse' needs {p} x {p} numbers")));
        }
        let mut seen = vec![false; ncoef];
        for &c in &i.pivot {
            if c >= ncoef || std::mem::replace(&mut seen[c], true) || beta[c].is_none() {
                return Err(Error::invalid(format!("'pivot' names design column {c}, not an estimated coefficient")));
            }
        }
        if beta.iter().filter(|b| b.is_some()).count() != p {
            return Err(Error::invalid("'pivot' must list every estimated coefficient"));
        }
        Error::check_finite("'r_inverse'", &i.r_inverse)?;
        let positive = |v: Option<f64>, what: &str| match v {
            Some(v) if !(v.is_finite() && v >= 0.0) => Err(Error::invalid(format!("'{what}' must be a number >= 0"))),
            _ => Ok(()),
        };
        positive(i.residual_variance, "residual_variance")?;
        // n - rank in R: a count
        if !(i.df_residual >= 0.0 && i.df_residual.fract() == 0.0) {
            return Err(Error::invalid("'df_residual' must be a whole number >= 0"));
        }
        positive(i.dispersion, "dispersion")?;
        match method {
            Method::Lm if i.residual_variance.is_none() => {
                return Err(Error::invalid("an lm's inference needs 'residual_variance'"))
            }
            Method::Glm if i.dispersion.is_none() => {
                return Err(Error::invalid("a glm's inference needs 'dispersion'"))
            }
            _ => {}
        }
        if let Some(m) = &i.column_means {
            if m.len() != ncoef {
                return Err(Error::invalid("'column_means' needs one number per design column"));
            }
            Error::check_finite("'column_means'", m)?;
        }
        let mut unpivot = vec![usize::MAX; ncoef];
        for (l, &c) in i.pivot.iter().enumerate() {
            unpivot[c] = l;
        }
        Ok(Inference {
            unpivot,
            pivot: i.pivot.clone(),
            r_inverse: i.r_inverse.clone(),
            residual_variance: i.residual_variance,
            dispersion: i.dispersion,
            df_residual: i.df_residual,
            weighted: i.weighted,
            column_means: i.column_means.clone(),
            terms_constant: i.terms_constant.unwrap_or(0.0),
        })
    }

    pub fn rank(&self) -> usize {
        self.pivot.len()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interval {
    Confidence,
    Prediction,
}

impl Interval {
    /// The `interval` argument: `None` for none.
    fn parse(interval: Option<&str>) -> Result<Option<Interval>> {
        match interval {
            None | Some("none") => Ok(None),
            Some("confidence") => Ok(Some(Interval::Confidence)),
            Some("prediction") => Ok(Some(Interval::Prediction)),
            Some(other) => Err(Error::bad_argument(format!(
                "interval = \"{other}\" is not one of \"none\", \"confidence\", \"prediction\""
            ))),
        }
    }
}

/// What one call computes beyond the fitted values.
#[derive(Debug, Clone)]
pub(crate) struct Extra {
    pub se_fit: bool,
    pub interval: Option<Interval>,
    pub terms: bool,
    /// The link's derivative scales the standard error (glm, response).
    pub response_scale: bool,
    pub res_var: f64,
    /// The t quantile of the interval's lower end (negative).
    pub tfrac: f64,
    pub df: f64,
    /// `pred.var` per row (or one for all).
    pub pred_var: Vec<f64>,
}

impl Extra {
    /// The call's plan, or `None` for plain fitted values.
    pub fn plan(
        inference: Option<&Inference>,
        method: Method,
        ty: PredictType,
        opts: &PredictOptions,
        nrows: usize,
    ) -> Result<Option<Extra>> {
        let se_fit = opts.se_fit.unwrap_or(false);
        let interval = Interval::parse(opts.interval.as_deref())?;
        let terms = ty == PredictType::Terms;
        // like predict.lm(), level, pred.var, weights, scale, df and
        // dispersion are ignored when nothing reads them
        if !se_fit && interval.is_none() && !terms {
            return Ok(None);
        }
        let Some(inf) = inference else {
            return Err(Error::unsupported(
                "standard errors, intervals and type = \"terms\" from this model file: it holds no inference \
                 data (it was written before format 1.2, or without them); compile the fit again",
            ));
        };
        if terms && inf.column_means.is_none() {
            return Err(Error::unsupported("type = \"terms\" for this model (its file has no column means)"));
        }
        let (res_var, df) = residual_variance(method, inf, opts);
        if interval.is_some() && !(df > 0.0) {
            return Err(Error::bad_argument("df must be a positive number"));
        }
        // below one degree of freedom the t quantile is not checked against
        // R's (and below 1e-323 statrs cannot compute it at all)
        if interval.is_some() && df < 1.0 {
            return Err(Error::unsupported(format!("intervals with df = {df}, below 1")));
        }
        let level = opts.level.unwrap_or(0.95);
        if interval.is_some() && !(level > 0.0 && level < 1.0) {
            return Err(Error::bad_argument("level must be between 0 and 1"));
        }
        let pred_var = pred_variances(opts, interval.is_some(), nrows, res_var)?;
        Ok(Some(Extra {
            se_fit,
            interval,
            terms,
            response_scale: method == Method::Glm && ty == PredictType::Response,
            res_var,
            tfrac: if interval.is_some() { qt((1.0 - level) / 2.0, df) } else { f64::NAN },
            df,
            pred_var,
        }))
    }

    /// The output, as `predict.lm()` / `predict.glm()` return it.
    pub fn shape(&self, method: Method, term_labels: &[String], constant: f64) -> OutputShape {
        let fit = if self.terms {
            ArrayShape {
                attributes: vec![("constant".to_string(), constant)],
                ..ArrayShape::matrix(term_labels.len(), Some(term_labels.to_vec()))
            }
        } else if self.interval.is_some() {
            ArrayShape::matrix(3, Some(["fit", "lwr", "upr"].map(String::from).to_vec()))
        } else {
            ArrayShape::vector()
        };
        let per_row = || {
            if self.terms {
                ArrayShape::matrix(term_labels.len(), Some(term_labels.to_vec()))
            } else {
                ArrayShape::vector()
            }
        };
        if !(self.se_fit || self.terms && self.interval.is_some()) {
            return fit.into();
        }
        let bounds = fit.clone();
        let mut parts = vec![("fit".to_string(), Part::Array(fit)), ("se.fit".to_string(), Part::Array(per_row()))];
        if self.terms && self.interval.is_some() {
            // fit +/- the half width: R's arithmetic keeps the attributes of fit
            parts.push(("lwr".to_string(), Part::Array(bounds.clone())));
            parts.push(("upr".to_string(), Part::Array(bounds)));
        }
        if method == Method::Lm {
            parts.push(("df".to_string(), Part::Number(self.df)));
        }
        parts.push(("residual.scale".to_string(), Part::Number(self.res_var.sqrt())));
        OutputShape::List(parts)
    }

    pub fn pred_var(&self, row: usize) -> f64 {
        if self.pred_var.len() == 1 {
            self.pred_var[0]
        } else {
            self.pred_var[row]
        }
    }
}

/// The residual variance and its degrees of freedom.
fn residual_variance(method: Method, inf: &Inference, opts: &PredictOptions) -> (f64, f64) {
    match method {
        // a given scale replaces the residual variance, and then df
        // (default Inf) counts; otherwise df is the fit's
        Method::Lm => match opts.scale {
            Some(s) => (s * s, opts.df.unwrap_or(f64::INFINITY)),
            None => (inf.residual_variance.unwrap_or(0.0), inf.df_residual),
        },
        Method::Glm => {
            // predict.glm(): a missing or zero dispersion means the
            // fit's; predict.lm() then squares sqrt(dispersion)
            let d = match opts.dispersion {
                Some(d) if d != 0.0 => d,
                _ => inf.dispersion.unwrap_or(0.0),
            };
            let scale = d.sqrt();
            (scale * scale, f64::INFINITY)
        }
    }
}

/// `pred.var`, given or `res.var / weights`, per row or one for all (an
/// interval checks its length).
fn pred_variances(opts: &PredictOptions, interval: bool, nrows: usize, res_var: f64) -> Result<Vec<f64>> {
    let per_row = |v: &Vec<f64>, what: &str| -> Result<Vec<f64>> {
        if interval && v.len() != 1 && v.len() != nrows {
            return Err(Error::bad_argument(format!("{what} needs one value, or one per row ({nrows})")));
        }
        Ok(v.clone())
    };
    Ok(match (&opts.pred_var, &opts.weights) {
        (Some(pv), _) => per_row(pv, "pred.var")?,
        (None, Some(w)) => per_row(w, "weights")?.into_iter().map(|w| res_var / w).collect(),
        (None, None) => vec![res_var],
    })
}
