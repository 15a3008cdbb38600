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
}

impl PredictType {
    const ALL: [PredictType; 8] = [
        PredictType::Link,
        PredictType::Response,
        PredictType::Vector,
        PredictType::Prob,
        PredictType::Class,
        PredictType::Matrix,
        PredictType::Vote,
        PredictType::Terms,
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
    pub se_fit: Option<bool>,
    pub interval: Option<String>,
    pub level: Option<f64>,
    pub dispersion: Option<f64>,
    pub pred_var: Option<Vec<f64>>,
    pub weights: Option<Vec<f64>>,
    pub scale: Option<f64>,
    pub df: Option<f64>,
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
