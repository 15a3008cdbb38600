//! The trees section: one tree or an ensemble as flat node arrays, and how
//! the leaves combine.

use serde::{Deserialize, Serialize};

/// A tree model: one tree (rpart) or an ensemble (randomForest, ranger,
/// gbm), stored as flat per-tree node arrays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreesSpec {
    /// Source algorithm ("rpart", "randomForest", "ranger", "gbm"); it
    /// names the prediction conventions below, nothing more.
    pub algorithm: String,
    /// What the splits test, each read from one input column.
    pub features: Vec<FeatureSpec>,
    /// Numeric splits send `x < threshold` ("lt") or `x <= threshold`
    /// ("le") to the left child.
    pub split: SplitRule,
    /// What a missing feature value does (see [`MissingRule`]).
    pub missing: MissingRule,
    /// Whether a NaN that is not R's `NA` counts as missing (see
    /// [`NanRule`]); "missing" when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nan: Option<NanRule>,
    /// How the trees' leaves combine into predictions.
    pub aggregation: Aggregation,
    /// Prediction types offered, and the default.
    pub types: Vec<String>,
    pub default_type: String,
    /// Class labels of a classifier, in class-index order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<String>>,
    pub trees: Vec<TreeSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SplitRule {
    Lt,
    Le,
}

/// Missing values (NA, and unseen levels treated as missing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingRule {
    /// Per node: the surrogates in order, else the `missing` child, else
    /// stop at the node and predict its own value.
    Route,
    /// A row with any missing feature predicts NA (randomForest's formula
    /// interface, which drops such rows). Only with the aggregations
    /// `mean`, `votes` and `prob_mean`.
    NaRow,
    /// Any missing feature value is an error (randomForest's x/y
    /// interface, ranger without a learned default).
    Error,
}

/// A NaN that is not R's `NA_real_` (e.g. `0/0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NanRule {
    /// Missing, as R's `is.na()` says.
    Missing,
    /// Only `NA` is missing; a NaN is compared like a number, and every
    /// comparison is false (gbm tests `ISNA()`, so NaN goes right).
    Compare,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSpec {
    /// Input column the feature reads.
    pub input: String,
    pub kind: FeatureKind,
    /// Training levels, in code order (codes are 0-based): matched by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub levels: Option<Vec<String>>,
    /// For `codes` only: the number added to the 0-based level code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_offset: Option<f64>,
    /// A level not in `levels`: "error" (default), "missing", or "last"
    /// (a code after every known level).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unseen: Option<UnseenRule>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureKind {
    /// The input's number.
    Numeric,
    /// A factor's level code (plus `code_offset`), compared as a number.
    Codes,
    /// A factor's level code, tested against category sets.
    Categorical,
    /// A level position as ranger reads it without the training levels: the
    /// input's number (a factor's code), `p = floor(x) - 1`. A category set
    /// lists in `right` the positions (below 63) that go right; every other
    /// position goes left. No `levels`. Since format 1.1.
    Positions,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnseenRule {
    Error,
    Missing,
    Last,
}

/// How leaves combine. Node payloads are in each tree's `value` (and
/// `probs`, `matrix`) arrays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Aggregation {
    /// A single tree: the reached node's payload.
    Single,
    /// The mean of the trees' values; `bias = [a, b]` then gives `a + b * mean`.
    Mean {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bias: Option<Vec<f64>>,
    },
    /// Each tree votes for class `value` (1-based). The class is the largest
    /// `votes / cutoff` (first class on a tie).
    Votes {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cutoff: Option<Vec<f64>>,
    },
    /// The mean of the trees' `probs` vectors.
    ProbMean,
    /// As `Votes` without cutoff, for classes that are numbers (ranger's
    /// classification of a numeric response): the result is the winning
    /// class's number in `values` (the first on a tie). Since 1.6.
    VoteValues { values: Vec<f64> },
    /// The mean of the trees' `matrix` rows: a matrix without column names
    /// (ranger's probability forest of a numeric response). Since 1.6.
    MatrixMean,
    /// Survival curves (ranger's survival forest): the nodes' `matrix` rows
    /// hold the cumulative hazard at `times`; their mean is `chf`, and
    /// `exp(-chf)` the survival. Since 1.6.
    Survival { times: Vec<f64> },
    /// Boosting: `init + sum of values` over the first n trees; with
    /// `n_classes` > 1 the trees take turns between the classes.
    Sum {
        init: Vec<f64>,
        n_classes: usize,
        /// Applied for type "response": identity, logistic, exp,
        /// adaboost (1 / (1 + exp(-2f))) or softmax.
        transform: String,
        /// Trees used when the call does not say.
        default_n_trees: usize,
    },
}

/// One tree as parallel node arrays; node 0 is the root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeSpec {
    /// Feature index of a split node; -1 for a leaf.
    pub feature: Vec<i32>,
    /// Numeric split point, or for a categorical split the index of its
    /// set in `categories`.
    #[serde(serialize_with = "super::compact::numbers")]
    pub threshold: Vec<f64>,
    /// Children (-1 for a leaf). Both are left out when the nodes are
    /// numbered level by level, as randomForest and ranger number them: then
    /// the k-th split node in array order (k = 0, 1, ...) has children
    /// 2k + 1 and 2k + 2.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left: Vec<i32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub right: Vec<i32>,
    /// Child taken when the feature is missing; -1 for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<Vec<i32>>,
    /// Payload of every node (a leaf's prediction; for `Votes` a class index).
    #[serde(serialize_with = "super::compact::numbers")]
    pub value: Vec<f64>,
    /// Class probabilities per node, row-major (nodes x classes).
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "super::compact::optional_numbers")]
    pub probs: Option<Vec<f64>>,
    /// Extra per-node row for type "matrix" (rpart's yval2), row-major.
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "super::compact::optional_numbers")]
    pub matrix: Option<Vec<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<CategorySet>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surrogates: Option<Surrogates>,
}

impl TreesSpec {
    pub(crate) fn strings<'s>(&'s self, out: &mut Vec<&'s str>) {
        out.extend([self.algorithm.as_str(), self.default_type.as_str()]);
        out.extend(self.types.iter().chain(self.classes.iter().flatten()).map(String::as_str));
        for f in &self.features {
            out.push(&f.input);
            out.extend(f.levels.iter().flatten().map(String::as_str));
        }
    }

    /// A copy without the trees.
    pub(crate) fn shell(&self) -> TreesSpec {
        TreesSpec {
            algorithm: self.algorithm.clone(),
            features: self.features.clone(),
            split: self.split,
            missing: self.missing,
            nan: self.nan,
            aggregation: self.aggregation.clone(),
            types: self.types.clone(),
            default_type: self.default_type.clone(),
            classes: self.classes.clone(),
            trees: Vec::new(),
        }
    }
}

impl TreeSpec {
    /// Children as the implicit level-by-level numbering gives them.
    pub fn implicit_children(&self) -> (Vec<i32>, Vec<i32>) {
        let mut k = 0;
        let mut left = Vec::with_capacity(self.feature.len());
        let mut right = Vec::with_capacity(self.feature.len());
        for &f in &self.feature {
            if f < 0 {
                left.push(-1);
                right.push(-1);
            } else {
                left.push(2 * k + 1);
                right.push(2 * k + 2);
                k += 1;
            }
        }
        (left, right)
    }

    /// Leave out `left` and `right` when they are the implicit numbering
    /// (smaller files, faster loads).
    pub fn drop_implicit_children(&mut self) {
        if self.left.is_empty() || self.feature.is_empty() {
            return;
        }
        if (self.left.clone(), self.right.clone()) == self.implicit_children() {
            self.left.clear();
            self.right.clear();
        }
    }
}

/// Level codes sent left and right; a code in neither counts as missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategorySet {
    pub left: Vec<u32>,
    pub right: Vec<u32>,
}

/// Surrogate splits, tried in order when a node's feature is missing
/// (rpart). Compressed rows: node i owns entries `start[i]..start[i+1]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Surrogates {
    pub start: Vec<u32>,
    pub feature: Vec<u32>,
    /// Split point, or category-set index for a categorical feature.
    pub threshold: Vec<f64>,
    /// Numeric surrogates: whether `x < threshold` goes left (else right).
    pub less_left: Vec<bool>,
}
