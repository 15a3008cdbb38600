//! A loaded model: the document (kept for saving and describing) and its
//! compiled form, plus the per-call `Job` that predicts.

use std::sync::atomic::AtomicBool;

use crate::error::{Error, Result};
use crate::format::{InputSpec, ModelDoc, ModelKind};
use crate::frame::Frame;
use crate::inputs::{Bound, FactorCodes, Inputs};
use crate::io;
use crate::linear::LinearModel;
use crate::parallel;

/// Work (rows x per-row cost) in one parallel task; about 100-200 us.
const TASK_WORK: usize = 1 << 18;
/// Above this much work a call is worth running where it can be
/// interrupted (about a millisecond and up).
const LARGE_WORK: usize = 1 << 20;

#[derive(Debug, Clone)]
pub struct Model {
    doc: ModelDoc,
    inputs: Inputs,
    body: Body,
}

#[derive(Debug, Clone)]
enum Body {
    Linear(LinearModel),
}

/// Options of one prediction call.
#[derive(Debug, Clone, Default)]
pub struct PredictOptions {
    /// Prediction type; `None` means the model's default.
    pub type_: Option<String>,
}

/// Shape of a prediction: one number per row.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputShape {
    Vector,
}

impl Model {
    /// Check and compile a document.
    pub fn from_doc(doc: ModelDoc) -> Result<Model> {
        let inputs = Inputs::new(doc.inputs.clone())?;
        let body = match doc.kind {
            ModelKind::Linear => {
                let spec = doc.linear.as_ref().ok_or_else(|| Error::invalid("kind 'linear' without a 'linear' section"))?;
                Body::Linear(LinearModel::new(spec, &inputs)?)
            }
        };
        Ok(Model { doc, inputs, body })
    }

    pub fn from_json(text: &[u8]) -> Result<Model> {
        Model::from_doc(io::from_json_bytes(text)?)
    }

    pub fn load(path: &std::path::Path) -> Result<Model> {
        let name = path.display().to_string();
        Model::from_doc(io::read_file(path)?).map_err(|e| e.in_file(&name))
    }

    pub fn doc(&self) -> &ModelDoc {
        &self.doc
    }

    pub fn inputs(&self) -> &[InputSpec] {
        self.inputs.specs()
    }

    pub fn types(&self) -> &[String] {
        match &self.body {
            Body::Linear(m) => m.types(),
        }
    }

    pub fn default_type(&self) -> &str {
        match &self.body {
            Body::Linear(m) => m.default_type(),
        }
    }

    fn resolve_type(&self, t: Option<&str>) -> Result<String> {
        let t = t.unwrap_or_else(|| self.default_type());
        if self.types().iter().any(|x| x == t) {
            return Ok(t.to_string());
        }
        if t == "terms" {
            return Err(Error::unsupported("type = \"terms\""));
        }
        Err(Error::bad_argument(format!(
            "type = \"{t}\" is not available for this model; use one of: {}",
            self.types().iter().map(|x| format!("\"{x}\"")).collect::<Vec<_>>().join(", ")
        )))
    }

    /// Bind `frame` and do the per-call preparation (level maps).
    pub fn prepare<'m, 'f, 'a>(&'m self, frame: &'f Frame<'a>, opts: &PredictOptions) -> Result<Job<'m, 'f, 'a>> {
        let type_ = self.resolve_type(opts.type_.as_deref())?;
        let bound = self.inputs.bind(frame)?;
        let state = match &self.body {
            Body::Linear(m) => State::Linear { codes: m.prepare(&bound)?, response: type_ == "response" },
        };
        Ok(Job { model: self, bound, state })
    }
}

enum State<'a> {
    Linear { codes: Vec<FactorCodes<'a>>, response: bool },
}

/// One prediction call, ready to run.
pub struct Job<'m, 'f, 'a> {
    model: &'m Model,
    bound: Bound<'f, 'a>,
    state: State<'a>,
}

impl Job<'_, '_, '_> {
    pub fn nrows(&self) -> usize {
        self.bound.nrows()
    }

    pub fn shape(&self) -> OutputShape {
        OutputShape::Vector
    }

    fn row_cost(&self) -> usize {
        match &self.model.body {
            Body::Linear(m) => m.row_cost(),
        }
    }

    /// Whether the call is long enough to run off the caller's thread
    /// while it watches for an interrupt.
    pub fn is_large(&self) -> bool {
        self.nrows().saturating_mul(self.row_cost()) > LARGE_WORK
    }

    /// Fill `out` (length `nrows()`); `cancel` stops the work early.
    pub fn run(&self, out: &mut [f64], threads: usize, cancel: &AtomicBool) -> Result<()> {
        if out.len() != self.nrows() {
            return Err(Error::bad_argument("output buffer has the wrong length"));
        }
        let chunk = (TASK_WORK / self.row_cost().max(1)).max(256);
        match (&self.model.body, &self.state) {
            (Body::Linear(m), State::Linear { codes, response }) => {
                parallel::run_chunks(out, chunk, threads, cancel, |rows, o| {
                    m.predict_rows(&self.bound, codes, *response, rows, o)
                })
            }
        }
    }
}
