//! A loaded model: its document (kept for saving, and for a forest a
//! second copy of its nodes beside the compiled ones), its inputs, its
//! compiled family and its description; and the per-call `Job`.

use crate::boosted::BoostedModel;
use crate::error::Result;
use crate::format::{InputSpec, ModelDoc, Section};
use crate::frame::bind::Inputs;
use crate::frame::Frame;
use crate::glmnet::GlmnetModel;
use crate::io;
use crate::linear::LinearModel;
use crate::trees::TreeModel;

mod family;
mod info;
mod job;
mod types;

pub(crate) use family::{Call, Family};
pub(crate) use info::{big_mark, shorten};
pub use info::{MatrixInput, ModelInfo};
pub use job::Job;
pub(crate) use types::PredictTypes;
pub use types::{Numbers, Penalty, PredictOption, PredictOptions, PredictType};

#[derive(Debug)]
pub struct Model {
    doc: ModelDoc,
    inputs: Inputs,
    family: Box<dyn Family>,
    info: ModelInfo,
    /// `io::content_hash` of the document, computed on first use.
    hash: std::sync::OnceLock<String>,
}

/// The one place that names the families.
fn compile(doc: &ModelDoc, inputs: &Inputs) -> Result<Box<dyn Family>> {
    Ok(match doc.section()? {
        Section::Linear(s) => Box::new(LinearModel::new(s, inputs)?),
        Section::Trees(s) => Box::new(TreeModel::new(s, inputs)?),
        Section::Glmnet(s) => Box::new(GlmnetModel::new(s, inputs)?),
        Section::Boosted(s) => Box::new(BoostedModel::new(s, inputs)?),
    })
}

impl Model {
    /// Check and compile a document.
    pub fn from_doc(mut doc: ModelDoc) -> Result<Model> {
        if let Some(t) = doc.trees.as_mut() {
            t.trees.iter_mut().for_each(|t| t.drop_implicit_children());
        }
        doc.check_strings()?;
        let inputs = Inputs::new(doc.inputs.clone())?;
        let family = compile(&doc, &inputs)?;
        let types = family.types();
        let mut info = ModelInfo::new(&doc, types.offered(), types.default(), family.options());
        family.describe(&mut info);
        Ok(Model { doc, inputs, family, info, hash: std::sync::OnceLock::new() })
    }

    /// Read a document from JSON bytes (gzip or not).
    pub fn from_json(bytes: &[u8]) -> Result<Model> {
        io::from_bytes(bytes).and_then(Model::from_doc).map_err(|e| e.in_file(""))
    }

    pub fn load(path: &std::path::Path) -> Result<Model> {
        let name = path.display().to_string();
        Model::from_doc(io::read_file(path)?).map_err(|e| e.in_file(&name))
    }

    pub fn doc(&self) -> &ModelDoc {
        &self.doc
    }

    /// A hash of what the model predicts (see `io::content_hash`).
    pub fn content_hash(&self) -> Result<&str> {
        if let Some(h) = self.hash.get() {
            return Ok(h);
        }
        let h = io::content_hash(&self.doc)?;
        Ok(self.hash.get_or_init(|| h))
    }

    /// The same model with `card` as its card, its `content_hash` filled in.
    pub fn with_card(&self, mut card: crate::format::ModelCard) -> Result<Model> {
        card.content_hash = Some(self.content_hash()?.to_string());
        let mut doc = self.doc.clone();
        doc.card = Some(card);
        Model::from_doc(doc)
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    pub fn inputs(&self) -> &[InputSpec] {
        self.inputs.specs()
    }

    /// Bind `frame` and prepare a call.
    pub fn prepare<'j, 'a: 'j>(&'j self, frame: &'j Frame<'a>, opts: &PredictOptions) -> Result<Job<'j>> {
        let ty = self.family.types().resolve(opts.type_.as_deref())?;
        opts.check(self.family.options())?;
        let bound = self.inputs.bind(frame)?;
        let call = self.family.prepare(&bound, ty, opts)?;
        Ok(Job { bound, call, row_cost: self.family.row_cost() })
    }
}
