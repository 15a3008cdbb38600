//! Per-call planning: from the prediction type and the call's options to
//! what is computed (`Out`), over which trees, in which shape.

use crate::error::{Error, Result};
use crate::model::{PredictOptions, PredictType};
use crate::output::{ArrayShape, OutputShape, Part};
use crate::trees::check::Agg;
use crate::trees::TreeModel;

/// What a call computes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Out {
    /// A single tree: the node's value, its class, its probabilities or
    /// its matrix row.
    Value,
    ClassOfValue,
    NodeProbs,
    NodeMatrix,
    Mean,
    VoteClass,
    VoteFraction,
    VoteCount,
    ProbMean,
    /// The winning class's number (`Agg::VoteValues`).
    VoteValue,
    MatrixMean,
    Survival,
    Sum {
        response: bool,
    },
}

#[derive(Debug, Clone)]
pub(super) struct Plan {
    pub out: Out,
    /// Trees (boosting iterations for a sum) after which to emit, in the
    /// order asked for.
    pub checkpoints: Vec<usize>,
    /// Trees per iteration (classes of a multi-class sum), else 1.
    pub per_class: usize,
    pub shape: OutputShape,
}

impl Plan {
    pub fn trees_used(&self, all: usize) -> usize {
        match self.out {
            Out::Sum { .. } => self.checkpoints.iter().max().copied().unwrap_or(0) * self.per_class,
            _ => self.checkpoints.first().copied().unwrap_or(all).min(all),
        }
    }
}

fn check_n(n: usize, max: usize, what: &str) -> Result<usize> {
    if n == 0 || n > max {
        return Err(Error::bad_argument(format!("{what} must be between 1 and {max}, not {n}")));
    }
    Ok(n)
}

impl TreeModel {
    /// Check the options of a call and work out the output.
    pub(super) fn plan(&self, ty: PredictType, opts: &PredictOptions, nrows: usize) -> Result<Plan> {
        let k = self.classes.as_ref().map_or(0, |c| c.len());
        let out = match (&self.agg, ty) {
            (Agg::Single, PredictType::Vector) => Out::Value,
            (Agg::Single, PredictType::Class) if k > 0 => Out::ClassOfValue,
            (Agg::Single, PredictType::Prob) if self.widths.probs == k && k > 0 => Out::NodeProbs,
            (Agg::Single, PredictType::Matrix) if self.widths.matrix > 0 => Out::NodeMatrix,
            (Agg::Single, PredictType::Matrix) => Out::Value,
            (Agg::Mean { .. }, PredictType::Response) => Out::Mean,
            (Agg::Votes { .. }, PredictType::Response) => Out::VoteClass,
            (Agg::Votes { .. }, PredictType::Prob) => Out::VoteFraction,
            (Agg::Votes { .. }, PredictType::Vote) if opts.norm_votes.unwrap_or(true) => Out::VoteFraction,
            (Agg::Votes { .. }, PredictType::Vote) => Out::VoteCount,
            (Agg::ProbMean, PredictType::Response) => Out::ProbMean,
            (Agg::VoteValues { .. }, PredictType::Response) => Out::VoteValue,
            (Agg::MatrixMean, PredictType::Response) => Out::MatrixMean,
            (Agg::Survival { .. }, PredictType::Response) => Out::Survival,
            (Agg::Sum { .. }, PredictType::Link) => Out::Sum { response: false },
            (Agg::Sum { .. }, PredictType::Response) => Out::Sum { response: true },
            (_, t) => {
                return Err(Error::bad_argument(format!(
                    "type = \"{}\" is not available for this model; use one of: {}",
                    t.as_str(),
                    self.types.offered().iter().map(|x| format!("\"{}\"", x.as_str())).collect::<Vec<_>>().join(", ")
                )))
            }
        };
        let (checkpoints, per_class) = self.checkpoints(opts)?;
        let shape = self.shape(out, &checkpoints, per_class, nrows);
        Ok(Plan { out, checkpoints, per_class, shape })
    }

    /// The numbers of trees asked for (boosting iterations for a sum).
    fn checkpoints(&self, opts: &PredictOptions) -> Result<(Vec<usize>, usize)> {
        let all = self.trees.len();
        if let Agg::Sum { n_classes, default_n_trees, .. } = &self.agg {
            let iters = all / n_classes;
            let ns = opts.n_trees.clone().unwrap_or_else(|| vec![*default_n_trees]);
            if ns.is_empty() {
                return Err(Error::bad_argument("n.trees must not be empty"));
            }
            let ns = ns.into_iter().map(|n| check_n(n, iters, "n.trees")).collect::<Result<Vec<_>>>()?;
            return Ok((ns, *n_classes));
        }
        let n = match opts.n_trees.as_deref() {
            None => all,
            Some([n]) => check_n(*n, all, "the number of trees")?,
            Some(_) => return Err(Error::bad_argument("give a single number of trees")),
        };
        if self.agg == Agg::Single && n != 1 {
            return Err(Error::bad_argument("a single tree has no number of trees to choose"));
        }
        Ok((vec![n], 1))
    }

    fn shape(&self, out: Out, checkpoints: &[usize], per_class: usize, nrows: usize) -> OutputShape {
        let k = self.classes.as_ref().map_or(0, |c| c.len());
        let classes = || self.classes.clone();
        let shape = match out {
            Out::Value | Out::Mean | Out::VoteValue => ArrayShape::vector(),
            Out::MatrixMean => ArrayShape::matrix(self.widths.matrix, None),
            // the list predict.ranger() returns for a survival forest
            Out::Survival => {
                let times = match &self.agg {
                    Agg::Survival { times } => times.clone(),
                    _ => Vec::new(),
                };
                // (for one row, predict.ranger() gives vectors)
                let curves = || Part::Array(ArrayShape { drop: nrows == 1, ..ArrayShape::matrix(times.len(), None) });
                return OutputShape::List(vec![
                    ("unique.death.times".to_string(), Part::Numbers(times.clone())),
                    ("chf".to_string(), curves()),
                    ("survival".to_string(), curves()),
                ]);
            }
            Out::ClassOfValue | Out::VoteClass => ArrayShape::factor(self.classes.clone().unwrap_or_default()),
            // predict.randomForest marks its vote matrices with class "votes"
            Out::VoteFraction | Out::VoteCount => ArrayShape {
                class: Some(["matrix", "array", "votes"].map(String::from).to_vec()),
                ..ArrayShape::matrix(k, classes())
            },
            Out::NodeProbs | Out::ProbMean => ArrayShape::matrix(k, classes()),
            Out::NodeMatrix => ArrayShape::matrix(self.widths.matrix, None),
            Out::Sum { .. } => {
                let names: Vec<String> = checkpoints.iter().map(|n| n.to_string()).collect();
                if per_class > 1 {
                    ArrayShape {
                        dim: Some(vec![0, per_class, checkpoints.len()]),
                        dimnames: Some(vec![None, classes(), Some(names)]),
                        ..ArrayShape::vector()
                    }
                } else if checkpoints.len() > 1 {
                    ArrayShape::matrix(checkpoints.len(), Some(names))
                } else {
                    ArrayShape::vector()
                }
            }
        };
        shape.into()
    }
}
