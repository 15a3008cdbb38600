//! The model document: what a `.json` model file holds, field for field.
//!
//! These structs are the format. `inst/schema/fastpredict-model.schema.json`
//! describes the same thing for other readers; keep the two in step.
//! Unknown fields are ignored on reading so that a newer minor version can
//! add fields that an older reader skips; `extensions` is the place for
//! optional data that must survive a round trip.

use serde::{Deserialize, Serialize};

use crate::expr::Expr;

/// Value of the `format` field.
pub const FORMAT_NAME: &str = "fastpredict-model";
/// Major version this engine reads and writes. A file with a larger major
/// version is refused; a larger minor version is read.
pub const FORMAT_MAJOR: u32 = 1;
pub const FORMAT_MINOR: u32 = 0;

pub fn format_version() -> String {
    format!("{FORMAT_MAJOR}.{FORMAT_MINOR}")
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelDoc {
    pub format: String,
    pub format_version: String,
    pub producer: Producer,
    pub kind: ModelKind,
    /// The input prototype: every column the model reads from newdata.
    pub inputs: Vec<InputSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linear: Option<LinearSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trees: Option<TreesSpec>,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Producer {
    /// Name of the program that wrote the document ("fastpredict").
    pub name: String,
    pub version: String,
    /// Version of R (or other host) the source model was fitted in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r_version: Option<String>,
    /// Class vector of the source model, e.g. `["glm", "lm"]`.
    #[serde(default)]
    pub source_class: Vec<String>,
    /// Package that fitted the source model, e.g. "stats".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_package: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_package_version: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    Linear,
    Trees,
}

impl ModelKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ModelKind::Linear => "linear",
            ModelKind::Trees => "trees",
        }
    }
}

/// What R type a column had at training time, which decides what is
/// accepted at prediction time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputType {
    /// Double or integer.
    Numeric,
    /// Logical only.
    Logical,
    /// Factor or character, matched to `levels` by name.
    Factor,
    /// As `Factor`; the training column was an ordered factor.
    Ordered,
    /// As `Factor`; the training column was a character vector.
    Character,
    /// Any atomic type: the model converts it itself, as R's inline
    /// `factor(x)` or `as.numeric(x)` do.
    Any,
}

impl InputType {
    pub fn as_str(&self) -> &'static str {
        match self {
            InputType::Numeric => "numeric",
            InputType::Logical => "logical",
            InputType::Factor => "factor",
            InputType::Ordered => "ordered",
            InputType::Character => "character",
            InputType::Any => "any",
        }
    }

    pub fn is_categorical(&self) -> bool {
        matches!(self, InputType::Factor | InputType::Ordered | InputType::Character)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: InputType,
    /// Training levels of a factor or character column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub levels: Option<Vec<String>>,
}

/// A linear predictor `X beta + offset`, optionally through a link:
/// `lm` and `glm`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearSpec {
    /// Family name as R spells it ("gaussian", "binomial", "quasi", ...).
    pub family: String,
    /// Link name as R spells it ("identity", "logit", "1/mu^2", ...).
    pub link: String,
    /// Prediction types offered, e.g. `["link", "response"]`.
    pub types: Vec<String>,
    pub default_type: String,
    /// Whether column 0 of the design is the intercept.
    pub intercept: bool,
    /// One per design column; `null` marks an aliased (rank-deficient)
    /// column, which R's predict() leaves out.
    pub coefficients: Vec<Option<f64>>,
    pub coefficient_names: Vec<String>,
    /// The model-frame variables (R's `predvars`), resolved.
    pub variables: Vec<VariableSpec>,
    /// Model terms in design-column order.
    pub terms: Vec<TermSpec>,
    /// Offset expressions, summed and added to the linear predictor.
    #[serde(default)]
    pub offsets: Vec<Expr>,
}

/// One model-frame variable: a numeric expression, a numeric basis with
/// several columns, or a factor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VariableSpec {
    /// One numeric column.
    Numeric { label: String, expr: Expr },
    /// Orthogonal polynomial, `poly(x, degree, coefs = list(alpha, norm2))`.
    Poly { label: String, arg: Expr, alpha: Vec<f64>, norm2: Vec<f64> },
    /// Raw polynomial, `poly(x, degree, raw = TRUE)`.
    PolyRaw { label: String, arg: Expr, degree: u32 },
    /// B-spline basis as `splines::bs()` / `splines::ns()` evaluate it.
    Spline(Box<SplineSpec>),
    /// A factor (or logical) variable coded by levels.
    Factor {
        label: String,
        /// Name of the input column the codes come from.
        input: String,
        levels: Vec<String>,
        /// Contrast matrix, one row per level; needed when a term codes
        /// this factor by contrasts.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        contrasts: Option<Vec<Vec<f64>>>,
    },
}

impl VariableSpec {
    pub fn label(&self) -> &str {
        match self {
            VariableSpec::Numeric { label, .. }
            | VariableSpec::Poly { label, .. }
            | VariableSpec::PolyRaw { label, .. }
            | VariableSpec::Factor { label, .. } => label,
            VariableSpec::Spline(s) => &s.label,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplineSpec {
    pub label: String,
    /// "bs" or "ns" (informational: the numbers below define the basis).
    pub basis: String,
    pub arg: Expr,
    /// Spline order (degree + 1).
    pub order: u32,
    /// The full, sorted knot sequence (boundary knots repeated `order` times).
    pub knots: Vec<f64>,
    /// Lower and upper boundary knots.
    pub boundary: Vec<f64>,
    /// Whether the first basis column is kept.
    pub intercept: bool,
    /// Outside the boundary the basis is a polynomial in `x - pivot`:
    /// `sum_j (x - pivot)^j * coefs[j]`, over the full basis.
    pub left: Extrapolation,
    pub right: Extrapolation,
    /// For natural splines: the matrix (rows = kept basis columns) that
    /// projects the basis onto the natural-spline space.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projection: Option<Vec<Vec<f64>>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extrapolation {
    pub pivot: f64,
    pub coefs: Vec<Vec<f64>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Coding {
    /// Columns of the factor's contrast matrix.
    Contrasts,
    /// One indicator column per level (R's coding for the first factor of
    /// a model without intercept, and for factors in interactions whose
    /// margin is absent).
    Indicators,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TermSpec {
    pub label: String,
    /// The variables of the term, in model-frame order; the first varies
    /// fastest across the term's design columns, as in R.
    pub factors: Vec<TermFactor>,
    /// Design-column (coefficient) indices of the term's columns.
    pub columns: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TermFactor {
    pub variable: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coding: Option<Coding>,
}

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
    #[serde(serialize_with = "compact::numbers")]
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
    #[serde(serialize_with = "compact::numbers")]
    pub value: Vec<f64>,
    /// Class probabilities per node, row-major (nodes x classes).
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "compact::optional_numbers")]
    pub probs: Option<Vec<f64>>,
    /// Extra per-node row for type "matrix" (rpart's yval2), row-major.
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "compact::optional_numbers")]
    pub matrix: Option<Vec<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<CategorySet>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surrogates: Option<Surrogates>,
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

/// Node arrays are most of a forest's file: whole numbers among them (the
/// zeros of unused slots, class indices, category-set indices) are written
/// without the ".0", which reads back as the same double.
mod compact {
    use serde::ser::{SerializeSeq, Serializer};

    /// Largest magnitude below which every whole double is exactly an i64.
    const EXACT: f64 = 9_007_199_254_740_992.0;

    pub fn numbers<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for &x in v {
            if x.fract() == 0.0 && x.abs() < EXACT && !(x == 0.0 && x.is_sign_negative()) {
                seq.serialize_element(&(x as i64))?;
            } else {
                seq.serialize_element(&x)?;
            }
        }
        seq.end()
    }

    pub fn optional_numbers<S: Serializer>(v: &Option<Vec<f64>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => numbers(v, s),
            None => s.serialize_none(),
        }
    }
}
