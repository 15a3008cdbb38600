//! A model's description: what `print()` in R, a server's metadata routes
//! and the Plumber integration all show. Built once when the model loads.

use serde::Serialize;

use crate::format::{InputSpec, ModelCard, ModelDoc, Producer};
use crate::model::types::{PredictOption, PredictType};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelInfo {
    pub format: String,
    pub format_version: String,
    /// "linear", "trees", ...
    pub kind: String,
    pub producer: Producer,
    pub inputs: Vec<InputSpec>,
    pub types: Vec<PredictType>,
    pub default_type: PredictType,
    /// Options a call may set besides its type.
    pub options: Vec<PredictOption>,
    /// The source package's algorithm, where the family has several
    /// (a tree model's "rpart", "gbm", ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    /// Set where the source package's predict() takes a numeric matrix
    /// (glmnet's `newx`): how its columns are matched to the inputs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matrix_input: Option<MatrixInput>,
    /// Class labels of a classifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<String>>,
    /// Family-specific facts by name, e.g. "link": "logit", "n_trees": 500.
    pub facts: serde_json::Map<String, serde_json::Value>,
    /// For people: a note after the model's kind ("binomial, link logit"),
    /// and short lines of facts ("trees: 500, 34,112 nodes").
    pub headline: Option<String>,
    pub summary: Vec<String>,
    /// The model card, if the document has one.
    pub card: Option<ModelCard>,
}

/// How a model whose package predicts from a matrix reads one: only a
/// matrix (or one row as a plain vector), with the columns matched to the
/// inputs by name, or by position when `by_position` (the fit had no column
/// names). A sparse matrix's columns are read where they lie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MatrixInput {
    pub by_position: bool,
}

impl ModelInfo {
    pub(crate) fn new(
        doc: &ModelDoc,
        types: &[PredictType],
        default_type: PredictType,
        options: &[PredictOption],
    ) -> ModelInfo {
        ModelInfo {
            format: doc.format.clone(),
            format_version: doc.format_version.clone(),
            kind: doc.kind.as_str().to_string(),
            producer: doc.producer.clone(),
            inputs: doc.inputs.clone(),
            types: types.to_vec(),
            default_type,
            options: options.to_vec(),
            algorithm: None,
            matrix_input: None,
            classes: None,
            facts: serde_json::Map::new(),
            headline: None,
            summary: Vec::new(),
            card: doc.card.clone(),
        }
    }

    pub(crate) fn fact(&mut self, name: &str, value: impl Into<serde_json::Value>) {
        self.facts.insert(name.to_string(), value.into());
    }
}

/// `n` with thousands separated by commas, as R's `format(big.mark = ",")`.
pub(crate) fn big_mark(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Up to 8 values, then their count (for levels and classes).
pub(crate) fn shorten(values: &[String]) -> String {
    let mut shown: Vec<&str> = values.iter().take(8).map(String::as_str).collect();
    let more;
    if values.len() > 8 {
        more = format!("... ({} levels)", values.len());
        shown.push(&more);
    }
    shown.join(", ")
}
