//! The model card: what a deployment pipeline records about a model
//! (since format 1.3). It does not change a prediction.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ModelCard {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The training data, summarised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<TrainingSummary>,
    /// Evaluation metrics the user supplied, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, f64>,
    /// `io::content_hash()` of the document when the card was attached: a
    /// model edited since no longer matches it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_hash: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TrainingSummary {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<f64>,
    /// When the model was trained (ISO 8601 text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// A hash of the training data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

impl ModelCard {
    pub(crate) fn strings<'s>(&'s self, out: &mut Vec<&'s str>) {
        out.extend(self.name.as_deref());
        out.extend(self.version.as_deref());
        out.extend(self.description.as_deref());
        out.extend(self.content_hash.as_deref());
        out.extend(self.metrics.keys().map(String::as_str));
        if let Some(t) = &self.training {
            out.extend(t.time.as_deref());
            out.extend(t.hash.as_deref());
        }
    }
}
