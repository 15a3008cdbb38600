//! Prediction types and call options: what a call may ask for, checked
//! once here for every family.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A prediction type, named as the source package's `predict()` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PredictType {
    Link,
    Response,
    Vector,
    Prob,
    Class,
    Matrix,
    Vote,
    /// `predict.lm(type = "terms")`: each term's contribution.
    Terms,
    /// xgboost's margin (`output_margin`, `predict_type = "margin"`).
    Margin,
    /// LightGBM's raw score (`raw_score`).
    Raw,
}

impl PredictType {
    const ALL: [PredictType; 10] = [
        PredictType::Link,
        PredictType::Response,
        PredictType::Vector,
        PredictType::Prob,
        PredictType::Class,
        PredictType::Matrix,
        PredictType::Vote,
        PredictType::Terms,
        PredictType::Margin,
        PredictType::Raw,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PredictType::Link => "link",
            PredictType::Response => "response",
            PredictType::Vector => "vector",
            PredictType::Prob => "prob",
            PredictType::Class => "class",
            PredictType::Matrix => "matrix",
            PredictType::Vote => "vote",
            PredictType::Terms => "terms",
            PredictType::Margin => "margin",
            PredictType::Raw => "raw",
        }
    }

    pub fn parse(name: &str) -> Option<PredictType> {
        PredictType::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// The types a model offers, and its default.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PredictTypes {
    offered: Vec<PredictType>,
    default: PredictType,
}

impl PredictTypes {
    /// From a document's `types` and `default_type`.
    pub fn from_spec(types: &[String], default: &str) -> Result<PredictTypes> {
        let offered = types
            .iter()
            .map(|t| PredictType::parse(t).ok_or_else(|| Error::unsupported(format!("the prediction type '{t}'"))))
            .collect::<Result<Vec<_>>>()?;
        match PredictType::parse(default).filter(|d| offered.contains(d)) {
            Some(default) => Ok(PredictTypes { offered, default }),
            None => Err(Error::invalid("'default_type' must be one of 'types'")),
        }
    }

    /// Offer one more type (one the family derives, not listed in the
    /// document, so that older readers still load it).
    pub fn offer(&mut self, t: PredictType) {
        if !self.offered.contains(&t) {
            self.offered.push(t);
        }
    }

    pub fn offered(&self) -> &[PredictType] {
        &self.offered
    }

    pub fn default(&self) -> PredictType {
        self.default
    }

    /// The type a call asks for (by name), or the default.
    pub fn resolve(&self, asked: Option<&str>) -> Result<PredictType> {
        let Some(name) = asked else { return Ok(self.default) };
        if let Some(t) = PredictType::parse(name).filter(|t| self.offered.contains(t)) {
            return Ok(t);
        }
        if name == "terms" {
            return Err(Error::unsupported("type = \"terms\" for this model (its file has no column means)"));
        }
        // glmnet's "coefficients" and "nonzero" are the model's own numbers,
        // not a prediction per row
        if ["coefficients", "nonzero"].contains(&name) {
            return Err(Error::unsupported(format!("type = \"{name}\" (use coef() on the fitted model)")));
        }
        Err(Error::bad_argument(format!(
            "type = \"{name}\" is not available for this model; use one of: {}",
            self.offered.iter().map(|t| format!("\"{}\"", t.as_str())).collect::<Vec<_>>().join(", ")
        )))
    }
}

/// An option a prediction call can carry besides its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PredictOption {
    /// Number(s) of trees (gbm: boosting iterations) to use.
    NTrees,
    /// randomForest classification: normalise the votes of type "vote".
    NormVotes,
    /// lm, glm: standard errors of the predictions.
    SeFit,
    /// lm: "none", "confidence" or "prediction" intervals.
    Interval,
    /// lm: their level.
    Level,
    /// glm: the dispersion (default: the fit's).
    Dispersion,
    /// lm: the variance of a future observation, per row or for all.
    PredVar,
    /// lm: prediction weights (the variance is the residual variance over them).
    Weights,
    /// lm: the residual standard deviation to use instead of the fit's.
    Scale,
    /// lm: the degrees of freedom of the t quantile, with `scale`.
    Df,
    /// glmnet: the penalty (or penalties) to predict at, `s`.
    S,
    /// glmnet: the offset of each row, for fits with an offset.
    Newoffset,
    /// glmnet: `exact = TRUE`, which refits in R unless every `s` is on
    /// the path.
    Exact,
    /// xgboost: the boosting rounds `[begin, end)` to use.
    IterationRange,
    /// xgboost: the number of trees to use (its deprecated `ntree_limit`).
    NTreeLimit,
    /// xgboost: predict as `Booster.predict(DMatrix)` does, rather than
    /// `inplace_predict` (they differ for dart only).
    Dmatrix,
    /// LightGBM: the first boosting round to use.
    StartIteration,
    /// LightGBM: the number of boosting rounds to use.
    NumIteration,
}

impl PredictOption {
    pub fn as_str(self) -> &'static str {
        match self {
            PredictOption::NTrees => "n_trees",
            PredictOption::NormVotes => "norm_votes",
            PredictOption::SeFit => "se_fit",
            PredictOption::Interval => "interval",
            PredictOption::Level => "level",
            PredictOption::Dispersion => "dispersion",
            PredictOption::PredVar => "pred_var",
            PredictOption::Weights => "weights",
            PredictOption::Scale => "scale",
            PredictOption::Df => "df",
            PredictOption::S => "s",
            PredictOption::Newoffset => "newoffset",
            PredictOption::Exact => "exact",
            PredictOption::IterationRange => "iteration_range",
            PredictOption::NTreeLimit => "ntree_limit",
            PredictOption::Dmatrix => "dmatrix",
            PredictOption::StartIteration => "start_iteration",
            PredictOption::NumIteration => "num_iteration",
        }
    }
}

/// glmnet's `s`: penalty values, or the rule of a cross-validated fit.
#[derive(Debug, Clone, PartialEq)]
pub enum Penalty {
    /// Values of lambda, with the names R gives them (`names(s)`).
    Values { values: Vec<f64>, names: Option<Vec<String>> },
    /// `"lambda.1se"` or `"lambda.min"`, or a unique start of one (as R's
    /// `match.arg()` takes it).
    Rule(String),
    /// `s = NULL`: the whole path of a glmnet fit; a cross-validated fit
    /// refuses it, as `predict.cv.glmnet()` does.
    Path,
}

/// Numbers a call passes by value: a vector, or a matrix (column-major,
/// `dim` = rows and columns).
#[derive(Debug, Clone, PartialEq)]
pub struct Numbers {
    pub values: Vec<f64>,
    pub dim: Option<[usize; 2]>,
}

/// Options of one prediction call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PredictOptions {
    /// Prediction type by name; `None` means the model's default.
    pub type_: Option<String>,
    pub n_trees: Option<Vec<usize>>,
    pub norm_votes: Option<bool>,
    pub se_fit: Option<bool>,
    pub interval: Option<String>,
    pub level: Option<f64>,
    pub dispersion: Option<f64>,
    pub pred_var: Option<Vec<f64>>,
    pub weights: Option<Vec<f64>>,
    pub scale: Option<f64>,
    pub df: Option<f64>,
    pub s: Option<Penalty>,
    pub newoffset: Option<Numbers>,
    pub exact: Option<bool>,
    /// xgboost's `iteration_range`: rounds `[begin, end)`, 0-based; an end
    /// of 0 means every round.
    pub iteration_range: Option<(usize, usize)>,
    /// xgboost's `ntree_limit`: the first `ntree_limit / num_parallel_tree`
    /// rounds; 0 means every round.
    pub ntree_limit: Option<usize>,
    /// xgboost: `Booster.predict(DMatrix)`'s arithmetic (default: that of
    /// `inplace_predict`).
    pub dmatrix: Option<bool>,
    /// LightGBM's `start_iteration` (clamped to the rounds there are).
    pub start_iteration: Option<i64>,
    /// LightGBM's `num_iteration` (0 or less: every round from the start).
    pub num_iteration: Option<i64>,
}

impl PredictOptions {
    /// The options this call sets (its type aside).
    fn given(&self) -> impl Iterator<Item = PredictOption> {
        [
            (PredictOption::NTrees, self.n_trees.is_some()),
            (PredictOption::NormVotes, self.norm_votes.is_some()),
            (PredictOption::SeFit, self.se_fit.is_some()),
            (PredictOption::Interval, self.interval.is_some()),
            (PredictOption::Level, self.level.is_some()),
            (PredictOption::Dispersion, self.dispersion.is_some()),
            (PredictOption::PredVar, self.pred_var.is_some()),
            (PredictOption::Weights, self.weights.is_some()),
            (PredictOption::Scale, self.scale.is_some()),
            (PredictOption::Df, self.df.is_some()),
            (PredictOption::S, self.s.is_some()),
            (PredictOption::Newoffset, self.newoffset.is_some()),
            (PredictOption::Exact, self.exact.is_some()),
            (PredictOption::IterationRange, self.iteration_range.is_some()),
            (PredictOption::NTreeLimit, self.ntree_limit.is_some()),
            (PredictOption::Dmatrix, self.dmatrix.is_some()),
            (PredictOption::StartIteration, self.start_iteration.is_some()),
            (PredictOption::NumIteration, self.num_iteration.is_some()),
        ]
        .into_iter()
        .filter_map(|(o, set)| set.then_some(o))
    }

    /// Refuse an option the model does not take.
    pub(crate) fn check(&self, accepted: &[PredictOption]) -> Result<()> {
        match self.given().find(|o| !accepted.contains(o)) {
            None => Ok(()),
            Some(o) => Err(Error::bad_argument(format!("the option '{}' does not apply to this model", o.as_str()))),
        }
    }
}
