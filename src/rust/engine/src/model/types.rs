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
    /// xgboost's margin (`output_margin`, `predict_type = "margin"`).
    Margin,
    /// LightGBM's raw score (`raw_score`).
    Raw,
}

impl PredictType {
    const ALL: [PredictType; 9] = [
        PredictType::Link,
        PredictType::Response,
        PredictType::Vector,
        PredictType::Prob,
        PredictType::Class,
        PredictType::Matrix,
        PredictType::Vote,
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
            return Err(Error::unsupported("type = \"terms\""));
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
            PredictOption::IterationRange => "iteration_range",
            PredictOption::NTreeLimit => "ntree_limit",
            PredictOption::Dmatrix => "dmatrix",
            PredictOption::StartIteration => "start_iteration",
            PredictOption::NumIteration => "num_iteration",
        }
    }
}

/// Options of one prediction call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PredictOptions {
    /// Prediction type by name; `None` means the model's default.
    pub type_: Option<String>,
    pub n_trees: Option<Vec<usize>>,
    pub norm_votes: Option<bool>,
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
