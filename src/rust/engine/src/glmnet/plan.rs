//! Per-call planning: the penalties a call asks for (`s`), the
//! coefficients at each (blended as `predict.glmnet()` blends them), the
//! offsets, and the shape of the output.

use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::format::GlmnetFamily;
use crate::glmnet::predict::{Coefs, GlmnetCall, Offset, Out};
use crate::glmnet::{interp, GlmnetModel};
use crate::model::{Numbers, Penalty, PredictOptions, PredictType};
use crate::output::{ArrayShape, OutputShape, ValueKind};

const RULES_1SE: &str = "lambda.1se";
const RULES_MIN: &str = "lambda.min";

/// The cross-validation rule `name` stands for, as R's `match.arg()` picks
/// it: the rule of that name, else the one rule it is the start of.
fn rule_of(name: &str) -> Option<&'static str> {
    let rules = [RULES_1SE, RULES_MIN];
    if let Some(r) = rules.iter().find(|r| **r == name) {
        return Some(r);
    }
    let mut starts = rules.iter().filter(|r| !name.is_empty() && r.starts_with(name));
    match (starts.next(), starts.next()) {
        (Some(r), None) => Some(r),
        _ => None,
    }
}

/// The penalties of a call: where each falls on the path, and the name of
/// its output column.
struct Points {
    /// (left, right, weight of left), 0-based path columns.
    at: Vec<(usize, usize, f64)>,
    labels: Vec<String>,
    /// The values asked for (none for the whole path).
    values: Vec<f64>,
}

impl GlmnetModel {
    pub(super) fn plan(&self, nrows: usize, ty: PredictType, opts: &PredictOptions) -> Result<GlmnetCall<'_>> {
        let out = match ty {
            PredictType::Link => Out::Link,
            PredictType::Response => Out::Response,
            PredictType::Class => Out::Class,
            // the types were checked against the model's
            other => return Err(Error::internal(format!("type '{}' for a glmnet model", other.as_str()))),
        };
        let points = self.points(opts.s.as_ref())?;
        if opts.exact == Some(true) {
            if let Some(s) = points.values.iter().find(|s| !self.lambda.contains(s)) {
                return Err(Error::unsupported(format!(
                    "exact = TRUE at s = {s}, which is not on the path: glmnet refits the model in R there \
                     (use exact = FALSE to interpolate, or refit glmnet with that lambda and compile the refit)"
                )));
            }
        }
        let coefs: Vec<Vec<Coefs>> = points
            .at
            .iter()
            .map(|&(l, r, f)| (0..self.n_responses()).map(|c| self.coefs(c, l, r, f)).collect())
            .collect();
        let offset = if self.offset { Some(self.offset_of(opts.newoffset.as_ref(), nrows)?) } else { None };
        let shape = self.shape(out, points.labels, nrows);
        let work = coefs.iter().flatten().map(|c| c.rows.len() + 1).sum::<usize>().max(1);
        Ok(GlmnetCall { model: self, out, coefs, offset, shape, work })
    }

    /// The penalties of `s`: the whole path when there is none (a
    /// cross-validated model: its "lambda.1se").
    fn points(&self, s: Option<&Penalty>) -> Result<Points> {
        // predict.glmnet() names the columns by names(s) or "s1", "s2", ...;
        // predict.multnet() and predict.coxnet() by "1", "2", ...
        let by_name = matches!(self.family, GlmnetFamily::Elnet | GlmnetFamily::Lognet | GlmnetFamily::Fishnet);
        let (values, labels) = match (s, &self.cv) {
            (None | Some(Penalty::Path), None) => {
                let n = self.lambda.len();
                return Ok(Points {
                    at: (0..n).map(|k| (k, k, 1.0)).collect(),
                    labels: (0..n).map(|k| format!("s{k}")).collect(),
                    values: Vec::new(),
                });
            }
            (None, Some(cv)) => (vec![cv.lambda_1se], vec!["lambda.1se".to_string()]),
            (Some(Penalty::Path), Some(_)) => {
                return Err(Error::bad_argument(
                    "s = NULL is an invalid form for s of a cv.glmnet model (predict.cv.glmnet): \
                     use \"lambda.1se\", \"lambda.min\" or numbers",
                ))
            }
            (Some(Penalty::Rule(rule)), Some(cv)) => match rule_of(rule) {
                Some(RULES_1SE) => (vec![cv.lambda_1se], vec![RULES_1SE.to_string()]),
                Some(_) => (vec![cv.lambda_min], vec![RULES_MIN.to_string()]),
                None => {
                    return Err(Error::bad_argument(format!(
                        "s = \"{rule}\" is not a rule of cv.glmnet: use \"lambda.1se\" or \"lambda.min\", or numbers"
                    )))
                }
            },
            (Some(Penalty::Rule(rule)), None) => {
                return Err(Error::bad_argument(format!(
                    "s = \"{rule}\" needs a cv.glmnet model; for a glmnet fit, s must be numeric"
                )))
            }
            (Some(Penalty::Values { values, names }), _) => {
                if values.is_empty() {
                    return Err(Error::bad_argument("s must hold at least one value"));
                }
                if values.iter().any(|v| v.is_nan()) {
                    return Err(Error::bad_argument("s must not be NA or NaN"));
                }
                let labels = match names {
                    Some(n) if n.len() == values.len() => n.clone(),
                    _ => (1..=values.len()).map(|k| format!("s{k}")).collect(),
                };
                (values.clone(), labels)
            }
        };
        let labels = if by_name { labels } else { (1..=values.len()).map(|k| k.to_string()).collect() };
        let at = values.iter().map(|&s| interp::interp(&self.lambda, &self.norm, s)).collect();
        Ok(Points { at, labels, values })
    }

    /// Response `c`'s coefficients at `frac` of path column `left` and the
    /// rest of `right`: R's `nbeta[, left] %*% Diagonal(x = frac) +
    /// nbeta[, right] %*% Diagonal(x = 1 - frac)`, whose entries are those
    /// either column stores.
    fn coefs(&self, c: usize, left: usize, right: usize, frac: f64) -> Coefs<'_> {
        let a0 = |k: usize| self.a0.get(c).map_or(0.0, |a| a[k]);
        let (rl, xl) = self.beta[c].column(left);
        if left == right {
            // b * 1 + b * 0 is b
            return Coefs { intercept: a0(left), rows: Cow::Borrowed(rl), values: Cow::Borrowed(xl) };
        }
        let (rr, xr) = self.beta[c].column(right);
        let rest = 1.0 - frac;
        let mut rows = Vec::with_capacity(rl.len() + rr.len());
        let mut values = Vec::with_capacity(rl.len() + rr.len());
        let (mut i, mut j) = (0, 0);
        while i < rl.len() || j < rr.len() {
            if j == rr.len() || (i < rl.len() && rl[i] < rr[j]) {
                rows.push(rl[i]);
                values.push(xl[i] * frac);
                i += 1;
            } else if i == rl.len() || rr[j] < rl[i] {
                rows.push(rr[j]);
                values.push(xr[j] * rest);
                j += 1;
            } else {
                rows.push(rl[i]);
                values.push(xl[i] * frac + xr[j] * rest);
                i += 1;
                j += 1;
            }
        }
        Coefs { intercept: a0(left) * frac + a0(right) * rest, rows: Cow::Owned(rows), values: Cow::Owned(values) }
    }

    /// The offsets a call adds, from `newoffset` as glmnet reads it.
    fn offset_of(&self, newoffset: Option<&Numbers>, nrows: usize) -> Result<Offset> {
        let o = newoffset.ok_or_else(|| {
            Error::bad_argument(
                "newoffset is missing: the glmnet model was fitted with an offset, so predictions need one",
            )
        })?;
        if o.dim.is_some_and(|[r, c]| r.checked_mul(c) != Some(o.values.len())) {
            return Err(Error::bad_argument("newoffset's dimensions do not match its length"));
        }
        let k = self.n_responses();
        if self.multi() {
            // predict.multnet(): a matrix, one column per response
            return match o.dim {
                Some([r, c]) if r == nrows && c == k => Ok(Offset { values: o.values.clone(), per_response: true }),
                _ => Err(Error::bad_argument(format!("newoffset must be a matrix of {nrows} rows and {k} columns"))),
            };
        }
        let values = match o.dim {
            // predict.glmnet(): a binomial model takes the second column of two
            Some([r, 2]) if self.family == GlmnetFamily::Lognet => o.values[r..].to_vec(),
            _ => o.values.clone(),
        };
        if values.len() != nrows {
            return Err(Error::bad_argument(format!(
                "newoffset must have one value per row ({nrows}), not {}",
                values.len()
            )));
        }
        Ok(Offset { values, per_response: false })
    }

    fn shape(&self, out: Out, labels: Vec<String>, nrows: usize) -> OutputShape {
        let ns = labels.len();
        let shape = match out {
            Out::Class => {
                let classes = self.classes.clone().unwrap_or_default();
                // predict.multnet()'s apply() gives a factor for no row, and
                // for one row a factor named by s
                if self.family == GlmnetFamily::Multnet && nrows == 0 {
                    ArrayShape::factor(classes)
                } else if self.family == GlmnetFamily::Multnet && nrows == 1 {
                    ArrayShape {
                        values: ValueKind::Factor(classes),
                        drop: true,
                        ..ArrayShape::matrix(ns, Some(labels))
                    }
                } else {
                    ArrayShape { values: ValueKind::Character(classes), ..ArrayShape::matrix(ns, Some(labels)) }
                }
            }
            _ if self.multi() => ArrayShape {
                dim: Some(vec![0, self.n_responses(), ns]),
                dimnames: Some(vec![None, self.classes.clone(), Some(labels)]),
                ..ArrayShape::vector()
            },
            _ => ArrayShape::matrix(ns, Some(labels)),
        };
        shape.into()
    }
}
