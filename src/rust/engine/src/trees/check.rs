//! Checks of a trees section that do not depend on one tree's layout, and
//! the section's names (algorithm, aggregation, transform) parsed once.

use crate::error::{Error, Result};
use crate::format::{Aggregation, FeatureKind, MissingRule, TreesSpec};
use crate::limits::{self, Limits};
use crate::model::PredictOption;

/// The package whose prediction conventions a trees section follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Algorithm {
    Rpart,
    RandomForest,
    Ranger,
    Gbm,
}

impl Algorithm {
    pub fn parse(name: &str) -> Result<Algorithm> {
        Ok(match name {
            "rpart" => Algorithm::Rpart,
            "randomForest" => Algorithm::RandomForest,
            "ranger" => Algorithm::Ranger,
            "gbm" => Algorithm::Gbm,
            other => return Err(Error::unsupported(format!("tree algorithm '{other}'"))),
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Rpart => "rpart",
            Algorithm::RandomForest => "randomForest",
            Algorithm::Ranger => "ranger",
            Algorithm::Gbm => "gbm",
        }
    }
}

/// The response transform of a boosted sum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Transform {
    Identity,
    Logistic,
    Exp,
    /// gbm's adaboost: 1 / (1 + exp(-2f)).
    Adaboost,
    Softmax,
}

impl Transform {
    fn parse(name: &str) -> Result<Transform> {
        Ok(match name {
            "identity" => Transform::Identity,
            "logistic" => Transform::Logistic,
            "exp" => Transform::Exp,
            "adaboost" => Transform::Adaboost,
            "softmax" => Transform::Softmax,
            other => return Err(Error::unsupported(format!("the response transform '{other}'"))),
        })
    }

    /// Apply to one row's values (one per class).
    pub fn apply(self, f: &mut [f64]) {
        match self {
            Transform::Identity => {}
            Transform::Logistic => f.iter_mut().for_each(|v| *v = 1.0 / (1.0 + (-*v).exp())),
            Transform::Exp => f.iter_mut().for_each(|v| *v = v.exp()),
            Transform::Adaboost => f.iter_mut().for_each(|v| *v = 1.0 / (1.0 + (-2.0 * *v).exp())),
            Transform::Softmax => {
                for v in f.iter_mut() {
                    *v = v.exp();
                }
                let s: f64 = f.iter().sum();
                f.iter_mut().for_each(|v| *v /= s);
            }
        }
    }
}

impl Agg {
    /// The call options that mean something for this aggregation: the
    /// number of trees (a single tree takes only 1), and whether votes are
    /// normalised.
    pub fn options(&self) -> Vec<PredictOption> {
        match self {
            Agg::Votes { .. } => vec![PredictOption::NTrees, PredictOption::NormVotes],
            _ => vec![PredictOption::NTrees],
        }
    }
}

/// How the leaves combine, checked.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Agg {
    Single,
    Mean { bias: Option<(f64, f64)> },
    Votes { cutoff: Option<Vec<f64>> },
    ProbMean,
    VoteValues { values: Vec<f64> },
    MatrixMean,
    Survival { times: Vec<f64> },
    Sum { init: Vec<f64>, n_classes: usize, transform: Transform, default_n_trees: usize },
}

/// Check the section's sizes, aggregation and class indices; return the
/// aggregation parsed.
pub(super) fn check_section(spec: &TreesSpec, n_probs: usize, n_matrix: usize, lim: &Limits) -> Result<Agg> {
    limits::check("a tree model: trees", spec.trees.len() as u64, lim.trees as u64, "trees")?;
    limits::check("a tree model: features", spec.features.len() as u64, lim.features as u64, "features")?;
    let nodes = spec.trees.iter().fold(0u64, |n, t| n.saturating_add(t.feature.len() as u64));
    limits::check("a tree model: nodes", nodes, lim.nodes as u64, "nodes")?;
    if spec.trees.is_empty() {
        return Err(Error::invalid("a tree model needs at least one tree"));
    }
    for f in &spec.features {
        match f.kind {
            FeatureKind::Codes | FeatureKind::Categorical if f.levels.is_none() => {
                return Err(Error::invalid(format!("feature '{}' needs its levels", f.input)))
            }
            FeatureKind::Positions if f.levels.is_some() || f.unseen.is_some() => {
                return Err(Error::invalid(format!("feature '{}' reads positions: it has no levels", f.input)))
            }
            _ => {}
        }
        if f.code_offset.is_some_and(|o| f.kind != FeatureKind::Codes || !o.is_finite()) {
            return Err(Error::invalid(format!("feature '{}': 'code_offset' is for codes features", f.input)));
        }
    }
    let agg = aggregation(spec)?;
    let n_classes = match &agg {
        Agg::VoteValues { values } => values.len(),
        _ => spec.classes.as_ref().map_or(0, |c| c.len()),
    };
    match &agg {
        Agg::Votes { .. } | Agg::ProbMean if n_classes == 0 => {
            return Err(Error::invalid("a classification forest needs 'classes'"))
        }
        Agg::ProbMean if n_probs != n_classes => return Err(Error::invalid("'probs' must have one column per class")),
        Agg::Votes { cutoff: Some(c) } if c.len() != n_classes => {
            return Err(Error::invalid("'cutoff' needs one value per class"))
        }
        Agg::MatrixMean | Agg::Survival { .. } if n_matrix == 0 => {
            return Err(Error::invalid("this aggregation averages the trees' 'matrix' rows, which are missing"))
        }
        Agg::Survival { times } if times.len() != n_matrix => {
            return Err(Error::invalid("a survival forest's 'matrix' needs one column per time"))
        }
        _ => {}
    }
    if spec.missing == MissingRule::NaRow && !matches!(agg, Agg::Mean { .. } | Agg::Votes { .. } | Agg::ProbMean) {
        return Err(Error::invalid("missing = \"na_row\" goes with the mean, votes and prob_mean aggregations"));
    }
    check_class_values(spec, &agg, n_classes)?;
    Ok(agg)
}

fn aggregation(spec: &TreesSpec) -> Result<Agg> {
    let n = spec.trees.len();
    Ok(match &spec.aggregation {
        Aggregation::Single if n != 1 => return Err(Error::invalid("'single' needs exactly one tree")),
        Aggregation::Single => Agg::Single,
        Aggregation::Mean { bias: None } => Agg::Mean { bias: None },
        Aggregation::Mean { bias: Some(b) } => match b.as_slice() {
            [a, c] if a.is_finite() && c.is_finite() => Agg::Mean { bias: Some((*a, *c)) },
            [_, _] => return Err(Error::invalid("'bias' holds a non-finite number")),
            _ => return Err(Error::invalid("'bias' needs two numbers")),
        },
        Aggregation::Votes { cutoff } => {
            if cutoff.as_ref().is_some_and(|c| c.iter().any(|v| !(v.is_finite() && *v > 0.0))) {
                return Err(Error::invalid("'cutoff' must hold positive numbers"));
            }
            Agg::Votes { cutoff: cutoff.clone() }
        }
        Aggregation::ProbMean => Agg::ProbMean,
        Aggregation::VoteValues { values } => {
            if values.is_empty() || values.iter().any(|v| !v.is_finite()) {
                return Err(Error::invalid("'values' must be finite numbers, one per class"));
            }
            Agg::VoteValues { values: values.clone() }
        }
        Aggregation::MatrixMean => Agg::MatrixMean,
        Aggregation::Survival { times } => {
            if times.is_empty() || times.iter().any(|v| !v.is_finite()) || times.windows(2).any(|w| !(w[0] < w[1])) {
                return Err(Error::invalid("'times' must be increasing finite numbers"));
            }
            Agg::Survival { times: times.clone() }
        }
        Aggregation::Sum { init, n_classes, transform, default_n_trees } => {
            let k = (*n_classes).max(1);
            if init.iter().any(|v| !v.is_finite()) {
                return Err(Error::invalid("'init' holds a non-finite number"));
            }
            if init.len() != k {
                return Err(Error::invalid("'init' needs one value per class"));
            }
            if n % k != 0 {
                return Err(Error::invalid("the number of trees must be a multiple of the classes"));
            }
            if *default_n_trees == 0 || *default_n_trees > n / k {
                return Err(Error::invalid("'default_n_trees' is out of range"));
            }
            Agg::Sum {
                init: init.clone(),
                n_classes: k,
                transform: Transform::parse(transform)?,
                default_n_trees: *default_n_trees,
            }
        }
    })
}

/// Class indices a prediction reads: a single tree's every node (a walk
/// may stop anywhere), a vote's leaves. (A vote that stops at a split
/// without a class index there counts as no vote.)
fn check_class_values(spec: &TreesSpec, agg: &Agg, n_classes: usize) -> Result<()> {
    let leaves_only = match agg {
        Agg::Single if n_classes > 0 && spec.types.iter().any(|t| t == "class") => false,
        Agg::Votes { .. } | Agg::VoteValues { .. } => true,
        _ => return Ok(()),
    };
    for (k, t) in spec.trees.iter().enumerate() {
        let bad =
            t.value.iter().zip(&t.feature).find(|(v, f)| {
                (!leaves_only || **f < 0) && !(v.fract() == 0.0 && **v >= 1.0 && **v <= n_classes as f64)
            });
        if let Some((v, _)) = bad {
            return Err(Error::invalid(format!("tree {}: {v} is no class index (1 to {n_classes})", k + 1)));
        }
    }
    Ok(())
}
