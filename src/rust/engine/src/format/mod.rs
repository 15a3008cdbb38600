//! The model document: what a `.json` model file holds, field for field.
//!
//! These structs are the format. `inst/schema/fastpredict-model.schema.json`
//! describes the same thing for other readers; keep the two in step.
//! Unknown fields are ignored on reading so that a newer minor version can
//! add fields that an older reader skips; `extensions` is the place for
//! optional data that must survive a round trip.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

mod boosted;
mod card;
mod compact;
mod glmnet;
mod inputs;
mod linear;
mod trees;

pub use boosted::*;
pub use card::{ModelCard, TrainingSummary};
pub use compact::MAX_EXACT_INT;
pub use glmnet::*;
pub use inputs::*;
pub use linear::*;
pub use trees::*;

/// Value of the `format` field.
pub const FORMAT_NAME: &str = "fastpredict-model";
/// Major version this engine reads and writes. A file with a larger major
/// version is refused; a larger minor version is read.
pub const FORMAT_MAJOR: u32 = 1;
pub const FORMAT_MINOR: u32 = 6;

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
    /// Optional; since 1.3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<ModelCard>,
    /// Since format 1.4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub glmnet: Option<GlmnetSpec>,
    /// Since format 1.5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boosted: Option<BoostedSpec>,
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
    /// Since format 1.4.
    Glmnet,
    /// Since format 1.5.
    Boosted,
}

impl ModelKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ModelKind::Linear => "linear",
            ModelKind::Trees => "trees",
            ModelKind::Glmnet => "glmnet",
            ModelKind::Boosted => "boosted",
        }
    }
}

/// A document's family section, checked against its `kind`.
pub(crate) enum Section<'d> {
    Linear(&'d LinearSpec),
    Trees(&'d TreesSpec),
    Glmnet(&'d GlmnetSpec),
    Boosted(&'d BoostedSpec),
}

impl ModelDoc {
    /// The section `kind` names. This is the one place that pairs a kind
    /// with its section.
    pub(crate) fn section(&self) -> Result<Section<'_>> {
        let missing = || Error::invalid(format!("kind '{}' without a '{0}' section", self.kind.as_str()));
        Ok(match self.kind {
            ModelKind::Linear => Section::Linear(self.linear.as_ref().ok_or_else(missing)?),
            ModelKind::Trees => Section::Trees(self.trees.as_ref().ok_or_else(missing)?),
            ModelKind::Glmnet => Section::Glmnet(self.glmnet.as_ref().ok_or_else(missing)?),
            ModelKind::Boosted => Section::Boosted(self.boosted.as_ref().ok_or_else(missing)?),
        })
    }

    /// A copy without the trees' node arrays (most of a forest's size),
    /// for writing the document in parts.
    pub(crate) fn shell(&self) -> ModelDoc {
        ModelDoc {
            format: self.format.clone(),
            format_version: self.format_version.clone(),
            producer: self.producer.clone(),
            kind: self.kind,
            inputs: self.inputs.clone(),
            linear: self.linear.clone(),
            trees: self.trees.as_ref().map(TreesSpec::shell),
            card: self.card.clone(),
            glmnet: self.glmnet.clone(),
            boosted: self.boosted.clone(),
            extensions: self.extensions.clone(),
        }
    }
}

impl ModelDoc {
    /// Refuse a NUL character in any string a front end may show or turn
    /// into its own strings (R's strings cannot hold one).
    pub(crate) fn check_strings(&self) -> Result<()> {
        let mut strings: Vec<&str> = Vec::new();
        let p = &self.producer;
        strings.extend([p.name.as_str(), p.version.as_str()]);
        strings.extend(p.r_version.as_deref());
        strings.extend(p.source_package.as_deref());
        strings.extend(p.source_package_version.as_deref());
        strings.extend(p.source_class.iter().map(String::as_str));
        for i in &self.inputs {
            strings.push(&i.name);
            strings.extend(i.levels.iter().flatten().map(String::as_str));
        }
        if let Some(l) = &self.linear {
            l.strings(&mut strings);
        }
        if let Some(t) = &self.trees {
            t.strings(&mut strings);
        }
        if let Some(b) = &self.boosted {
            b.strings(&mut strings);
        }
        if let Some(c) = &self.card {
            c.strings(&mut strings);
        }
        if let Some(g) = &self.glmnet {
            g.strings(&mut strings);
        }
        match strings.iter().find(|s| s.contains('\0')) {
            Some(s) => Err(Error::corrupt(format!("the string '{}' holds a NUL character", s.replace('\0', "\\0")))),
            None => Ok(()),
        }
    }
}
