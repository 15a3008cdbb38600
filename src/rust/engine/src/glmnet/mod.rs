//! glmnet fits (`glmnet()`, `cv.glmnet()`): penalised linear predictors
//! along a lambda path, predicted as `predict.glmnet()` and its methods
//! for each family predict them.
//!
//! `predict.glmnet()` blends the two path columns around each `s`
//! (`lambda.interp`, reproduced in `interp`), then computes
//! `cbind(1, newx) %*% coef` with the Matrix package, which adds the
//! products of the coefficients it stores (the intercept first, then the
//! features in order) to zero, one at a time. `predict` adds them in the
//! same order, so the linear predictors are R's to the bit, and a missing
//! value in a column the coefficients at that `s` do not store does not
//! make the prediction missing, as in R.

use crate::error::{Error, Result};
use crate::format::{CvChoice, GlmnetFamily, GlmnetSpec, InputType, SparseColumns};
use crate::frame::bind::{Bound, Inputs};
use crate::limits::{self, limits};
use crate::model::{
    big_mark, shorten, Call, Family, MatrixInput, ModelInfo, PredictOption, PredictOptions, PredictType, PredictTypes,
};

mod interp;
mod ldsum;
mod plan;
mod predict;

#[derive(Debug, Clone)]
pub struct GlmnetModel {
    family: GlmnetFamily,
    types: PredictTypes,
    lambda: Vec<f64>,
    /// The path normalised as `lambda.interp()` does.
    norm: Vec<f64>,
    /// Intercepts per response, per lambda; empty for coxnet.
    a0: Vec<Vec<f64>>,
    /// Coefficients per response.
    beta: Vec<Columns>,
    classes: Option<Vec<String>>,
    grouped: Option<bool>,
    offset: bool,
    by_position: bool,
    cv: Option<CvChoice>,
    n_features: usize,
    n_stored: usize,
}

/// One response's coefficients, by lambda: column `k` is
/// `rows[p[k]..p[k+1]]` (feature = input index) and its values.
#[derive(Debug, Clone)]
struct Columns {
    p: Vec<usize>,
    rows: Vec<u32>,
    x: Vec<f64>,
}

impl Columns {
    fn column(&self, k: usize) -> (&[u32], &[f64]) {
        let r = self.p[k]..self.p[k + 1];
        (&self.rows[r.clone()], &self.x[r])
    }

    fn new(s: &SparseColumns, n_lambda: usize, n_features: usize) -> Result<Columns> {
        let n = s.x.len();
        if s.p.len() != n_lambda + 1 || s.i.len() != n || s.p.first() != Some(&0) || s.p.last() != Some(&n) {
            return Err(Error::invalid(format!(
                "a coefficient matrix needs {} column starts from 0 to its {} entries",
                n_lambda + 1,
                n
            )));
        }
        if s.p.windows(2).any(|w| w[0] > w[1]) {
            return Err(Error::invalid("the column starts of a coefficient matrix decrease"));
        }
        for k in 0..n_lambda {
            let rows = &s.i[s.p[k]..s.p[k + 1]];
            if rows.windows(2).any(|w| w[0] >= w[1]) || rows.last().is_some_and(|&r| r >= n_features) {
                return Err(Error::invalid(format!(
                    "column {} of a coefficient matrix does not hold increasing features below {n_features}",
                    k + 1
                )));
            }
        }
        Error::check_finite("a coefficient matrix", &s.x)?;
        // every row index is below n_features, which fits in u32 (checked)
        Ok(Columns { p: s.p.clone(), rows: s.i.iter().map(|&i| i as u32).collect(), x: s.x.clone() })
    }
}

impl GlmnetModel {
    pub fn new(spec: &GlmnetSpec, inputs: &Inputs) -> Result<GlmnetModel> {
        let lim = limits();
        let family = spec.family;
        let n_features = inputs.specs().len();
        if n_features > u32::MAX as usize {
            return Err(Error::unsupported(format!("a glmnet model with {n_features} features")));
        }
        if let Some(i) = inputs.specs().iter().find(|i| i.kind != InputType::Numeric) {
            return Err(Error::invalid(format!("glmnet input '{}' is not numeric", i.name)));
        }
        let types = PredictTypes::from_spec(&spec.types, &spec.default_type)?;
        let n_lambda = spec.lambda.len();
        let n_resp = spec.beta.len();
        limits::check("a glmnet path: lambdas", n_lambda as u64, lim.design as u64, "design")?;
        limits::check("a glmnet model: responses", n_resp as u64, lim.levels as u64, "levels")?;
        let n_stored: usize = spec.beta.iter().map(|b| b.x.len()).sum();
        let n_a0 = limits::product(spec.a0.len(), n_lambda, "a glmnet model's intercepts")?;
        limits::check("a glmnet model: coefficients", (n_stored + n_a0) as u64, lim.design as u64, "design")?;

        if n_lambda == 0 {
            return Err(Error::invalid("a glmnet path without lambda"));
        }
        Error::check_finite("lambda", &spec.lambda)?;
        let norm = interp::normalise(&spec.lambda);
        if spec.lambda.windows(2).any(|w| w[0] <= w[1]) || norm.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::unsupported(
                "a lambda path that does not decrease strictly (glmnet's interpolation would merge its ties)",
            ));
        }
        check_responses(spec, n_lambda)?;
        let beta = spec.beta.iter().map(|b| Columns::new(b, n_lambda, n_features)).collect::<Result<Vec<_>>>()?;
        check_types(spec, &types)?;
        if let Some(cv) = &spec.cv {
            Error::check_finite("the cross-validated lambdas", &[cv.lambda_min, cv.lambda_1se])?;
        }
        Ok(GlmnetModel {
            family,
            types,
            lambda: spec.lambda.clone(),
            norm,
            a0: spec.a0.clone(),
            beta,
            classes: spec.classes.clone(),
            grouped: spec.grouped,
            offset: spec.offset,
            by_position: spec.by_position,
            cv: spec.cv,
            n_features,
            n_stored,
        })
    }

    fn n_responses(&self) -> usize {
        self.beta.len()
    }

    /// Whether the output has a dimension for the responses (multnet and
    /// mrelnet: rows x responses x s).
    fn multi(&self) -> bool {
        matches!(self.family, GlmnetFamily::Multnet | GlmnetFamily::Mrelnet)
    }
}

/// A number for people, to four significant digits.
fn signif(x: f64) -> String {
    // (log10 of 0 is -inf, whose digits would overflow)
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    if x.abs() < 1e-3 || x.abs() >= 1e5 {
        format!("{x:.3e}")
    } else {
        let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 6) as usize;
        format!("{x:.digits$}")
    }
}

/// One intercept vector per response (none for cox), finite, and class names
/// that fit the family.
fn check_responses(spec: &GlmnetSpec, n_lambda: usize) -> Result<()> {
    let family = spec.family;
    let n_resp = spec.beta.len();
    let multi = matches!(family, GlmnetFamily::Multnet | GlmnetFamily::Mrelnet);
    if (multi && n_resp < 1) || (!multi && n_resp != 1) {
        return Err(Error::invalid(format!("{n_resp} coefficient matrices for glmnet's {}", family.as_str())));
    }
    let want_a0 = if family == GlmnetFamily::Coxnet { 0 } else { n_resp };
    if spec.a0.len() != want_a0 || spec.a0.iter().any(|a| a.len() != n_lambda) {
        return Err(Error::invalid(format!(
            "glmnet's {} needs {want_a0} intercept vector(s) of {n_lambda} values",
            family.as_str()
        )));
    }
    for a in &spec.a0 {
        Error::check_finite("an intercept", a)?;
    }
    match (&spec.classes, family) {
        (Some(c), GlmnetFamily::Lognet) if c.len() != 2 => {
            Err(Error::invalid("a binomial glmnet model needs two classes"))
        }
        (Some(c), GlmnetFamily::Multnet | GlmnetFamily::Mrelnet) if c.len() != n_resp => {
            Err(Error::invalid("a glmnet model needs one name per response"))
        }
        (None, GlmnetFamily::Multnet | GlmnetFamily::Mrelnet) => {
            Err(Error::invalid("a multi-response glmnet model needs the names of its responses"))
        }
        _ => Ok(()),
    }
}

/// Link and response for every family; class only where glmnet gives it.
fn check_types(spec: &GlmnetSpec, types: &PredictTypes) -> Result<()> {
    let family = spec.family;
    for t in types.offered() {
        let ok = match t {
            PredictType::Link | PredictType::Response => true,
            PredictType::Class => {
                matches!(family, GlmnetFamily::Lognet | GlmnetFamily::Multnet) && spec.classes.is_some()
            }
            _ => false,
        };
        if !ok {
            return Err(Error::invalid(format!("prediction type '{}' for glmnet's {}", t.as_str(), family.as_str())));
        }
    }
    Ok(())
}

impl Family for GlmnetModel {
    fn types(&self) -> &PredictTypes {
        &self.types
    }

    fn options(&self) -> &[PredictOption] {
        &[PredictOption::S, PredictOption::Newoffset, PredictOption::Exact]
    }

    fn describe(&self, info: &mut ModelInfo) {
        let f = self.family;
        let n_lambda = self.lambda.len();
        info.algorithm = Some("glmnet".to_string());
        info.matrix_input = Some(MatrixInput { by_position: self.by_position });
        if matches!(f, GlmnetFamily::Lognet | GlmnetFamily::Multnet) {
            info.classes = self.classes.clone();
        }
        info.fact("family", f.as_str());
        info.fact("glmnet_family", f.r_family());
        info.fact("n_lambda", n_lambda);
        info.fact("n_features", self.n_features);
        info.fact("n_stored", self.n_stored);
        info.fact("offset", self.offset);
        if let Some(g) = self.grouped {
            info.fact("grouped", g);
        }
        if f == GlmnetFamily::Mrelnet {
            info.fact("responses", self.classes.clone().unwrap_or_default());
        }
        if let Some(cv) = &self.cv {
            info.fact("lambda_min", cv.lambda_min);
            info.fact("lambda_1se", cv.lambda_1se);
        }
        info.headline = Some(format!("{}, {}", f.r_family(), f.as_str()));
        info.summary.push(format!(
            "lambda: {} value{}, {} to {}",
            n_lambda,
            if n_lambda == 1 { "" } else { "s" },
            signif(self.lambda[0]),
            signif(self.lambda[n_lambda - 1])
        ));
        let resp = if self.n_responses() > 1 { format!(" x {} responses", self.n_responses()) } else { String::new() };
        info.summary.push(format!(
            "coefficients: {} stored, of {} features x {} lambdas{resp}",
            big_mark(self.n_stored),
            big_mark(self.n_features),
            big_mark(n_lambda)
        ));
        match &self.cv {
            Some(cv) => info.summary.push(format!(
                "cv.glmnet: s = \"lambda.1se\" ({}, the default) or \"lambda.min\" ({})",
                signif(cv.lambda_1se),
                signif(cv.lambda_min)
            )),
            None => info.summary.push("s: the whole path unless given".to_string()),
        }
        if let Some(c) = &self.classes {
            let what = if f == GlmnetFamily::Mrelnet { "responses" } else { "classes" };
            info.summary.push(format!("{what}: {}", shorten(c)));
        }
        if self.offset {
            info.summary.push("offset: predictions need newoffset".to_string());
        }
        if self.by_position {
            info.summary.push("newx: columns by position (the fit had no column names)".to_string());
        }
    }

    fn row_cost(&self) -> usize {
        // stored coefficients per lambda and response, plus the intercept
        1 + self.n_stored / self.lambda.len().max(1)
    }

    fn prepare<'c>(
        &'c self,
        bound: &Bound<'_, 'c>,
        ty: PredictType,
        opts: &PredictOptions,
    ) -> Result<Box<dyn Call + 'c>> {
        let call = self.plan(bound.nrows(), ty, opts)?;
        Ok(Box::new(call))
    }
}

#[cfg(test)]
mod tests;
