//! The boosted section: an ensemble of gradient-boosted trees (or a linear
//! booster) as xgboost or LightGBM saved it, with the library's prediction
//! conventions named by `library`. Since format 1.5.
//!
//! Feature `j` of a split is input `j` of the document (the libraries number
//! features by column): a numeric input is read as its number, a factor
//! input as the 0-based position of its level in `levels` (a level not
//! there, or NA, is missing).

use serde::{Deserialize, Serialize};

/// A boosted ensemble, as the library that trained it predicts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoostedSpec {
    /// "xgboost" or "lightgbm": whose arithmetic and conventions apply (see
    /// FORMAT.md): xgboost compares and sums in float32 and sends `x < t`
    /// left; LightGBM works in double, sends `x <= t` left and reads
    /// inputs within 1e-35 of zero as zero.
    pub library: String,
    /// Version of the library's file: "3.2.0" (xgboost), "v4" (LightGBM).
    pub library_version: String,
    /// The booster as the library names it: "gbtree", "dart", "gblinear"
    /// (xgboost); "gbdt", "dart", "rf" (LightGBM).
    pub booster: String,
    /// The objective as the file names it ("binary:logistic", "binary
    /// sigmoid:1"); for people: `transform` is what a response applies.
    pub objective: String,
    /// What type "response" applies to the margin (raw score).
    pub transform: BoostTransform,
    /// Values per row: classes or targets (1 for a single output).
    pub n_outputs: usize,
    /// Margin each output starts from, added before any tree.
    pub base_margin: Vec<f64>,
    /// Tree index where each boosting round starts, then the number of trees
    /// (length rounds + 1).
    pub iterations: Vec<usize>,
    /// The trees, in the order they are summed.
    #[serde(default)]
    pub trees: Vec<BoostTree>,
    /// xgboost dart: the weight of each tree (`weight_drop`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tree_weights: Option<Vec<f64>>,
    /// xgboost gblinear: `(inputs + 1) x n_outputs` weights, input-major,
    /// then the biases; no trees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linear: Option<Vec<f64>>,
    /// LightGBM rf: a response divides the sum by the rounds used.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub average_output: bool,
    /// The best round recorded at training (early stopping), for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_iteration: Option<usize>,
}

/// The response transform of a boosted model, computed with the library's
/// own arithmetic (float32 for xgboost, double for LightGBM).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum BoostTransform {
    /// The margin itself.
    Identity,
    /// `1 / (1 + exp(-scale * x))` on each output (xgboost: its float
    /// `Sigmoid`, scale 1).
    Logistic {
        #[serde(default = "one")]
        scale: f64,
    },
    /// `exp(x)` on each output.
    Exp,
    /// 1 if `x > 0`, else 0 (xgboost `binary:hinge`).
    Hinge,
    /// Softmax over the outputs.
    Softmax,
    /// The 0-based index of the first largest output, one value per row
    /// (xgboost `multi:softmax`).
    Argmax,
    /// `sign(x) * x * x` (LightGBM `regression` with `sqrt`).
    SignedSquare,
    /// `log(1 + exp(x))` (LightGBM `cross_entropy_lambda`).
    Log1pExp,
    /// No response: only the margin is offered (a model without a known
    /// objective, such as a LightGBM model trained with a custom one).
    None,
}

fn one() -> f64 {
    1.0
}

/// One tree as parallel node arrays; node 0 is the root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoostTree {
    /// The output (class or target) the tree adds to.
    #[serde(default)]
    pub group: usize,
    /// Feature (input index) of a split node; -1 for a leaf.
    pub feature: Vec<i32>,
    /// Split point (xgboost: a float32 value), possibly infinite (written
    /// "Infinity", "-Infinity"); at a categorical split the index of its set
    /// in `categories`; 0 at a leaf.
    #[serde(serialize_with = "super::compact::numbers_inf", deserialize_with = "super::compact::read_numbers_inf")]
    pub threshold: Vec<f64>,
    /// Children (-1 at a leaf).
    pub left: Vec<i32>,
    pub right: Vec<i32>,
    /// 1 where a missing value goes left, else 0 (right).
    pub default_left: Vec<u8>,
    /// A leaf's value; 0 at a split.
    #[serde(serialize_with = "super::compact::numbers")]
    pub value: Vec<f64>,
    /// Per split, what counts as missing (LightGBM's missing type): 0 none
    /// (a missing value is compared as 0), 1 zero (zero and missing take
    /// the default child), 2 NaN (missing takes the default child). Absent:
    /// all 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<Vec<u8>>,
    /// 1 at a categorical split. Absent: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categorical: Option<Vec<u8>>,
    /// The category codes of each categorical split's set: they go right
    /// (xgboost) or left (LightGBM), every other code the other way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<Vec<u32>>>,
}

impl BoostedSpec {
    pub(crate) fn strings<'s>(&'s self, out: &mut Vec<&'s str>) {
        out.extend([
            self.library.as_str(),
            self.library_version.as_str(),
            self.booster.as_str(),
            self.objective.as_str(),
        ]);
    }
}
