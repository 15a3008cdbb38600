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
use crate::trees::{OutWriter, Plan, TreeModel, TreeOptions};

/// Work (rows x per-row cost) in one parallel task of a linear model.
/// Measured from R on the 2-core machine for a 12-term model (row cost 12),
/// where a call must first wake the pool's sleeping threads: 16,000 rows
/// took 88 us on one thread and 95 us on two, 32,000 rows 232 us and
/// 171 us. So a task holds about 22,000 rows of such a model, and smaller
/// inputs stay on the calling thread.
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
    Trees(TreeModel),
}

/// Options of one prediction call.
#[derive(Debug, Clone, Default)]
pub struct PredictOptions {
    /// Prediction type; `None` means the model's default.
    pub type_: Option<String>,
    /// Tree ensembles: number(s) of trees (gbm: iterations) to use.
    pub n_trees: Option<Vec<usize>>,
    /// randomForest classification: normalise votes for type "vote".
    pub norm_votes: Option<bool>,
}

/// What the values of a prediction are.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueKind {
    /// Doubles.
    Real,
    /// A factor: 1-based integer codes into these levels.
    Factor(Vec<String>),
}

/// Shape of a prediction: a vector (`dim` = None) or an array whose first
/// dimension is the rows, with optional names per dimension.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputShape {
    pub values: ValueKind,
    pub dim: Option<Vec<usize>>,
    pub dimnames: Option<Vec<Option<Vec<String>>>>,
    /// A class attribute the source package puts on the result.
    pub class: Option<Vec<String>>,
}

impl OutputShape {
    pub fn vector() -> OutputShape {
        OutputShape { values: ValueKind::Real, dim: None, dimnames: None, class: None }
    }

    /// Number of values for `nrows` rows.
    pub fn len(&self, nrows: usize) -> usize {
        match &self.dim {
            None => nrows,
            Some(d) => nrows * d[1..].iter().product::<usize>(),
        }
    }
}

/// The caller's output buffer, allocated once for the whole prediction.
pub enum OutBuf<'o> {
    Real(&'o mut [f64]),
    Int(&'o mut [i32]),
}

impl Model {
    /// Check and compile a document.
    pub fn from_doc(mut doc: ModelDoc) -> Result<Model> {
        if let Some(t) = doc.trees.as_mut() {
            t.trees.iter_mut().for_each(|t| t.drop_implicit_children());
        }
        let inputs = Inputs::new(doc.inputs.clone())?;
        let body = match doc.kind {
            ModelKind::Linear => {
                let spec =
                    doc.linear.as_ref().ok_or_else(|| Error::invalid("kind 'linear' without a 'linear' section"))?;
                Body::Linear(LinearModel::new(spec, &inputs)?)
            }
            ModelKind::Trees => {
                let spec =
                    doc.trees.as_ref().ok_or_else(|| Error::invalid("kind 'trees' without a 'trees' section"))?;
                Body::Trees(TreeModel::new(spec, &inputs)?)
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
            Body::Trees(m) => m.types(),
        }
    }

    pub fn default_type(&self) -> &str {
        match &self.body {
            Body::Linear(m) => m.default_type(),
            Body::Trees(m) => m.default_type(),
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
        let state = match &self.body {
            Body::Linear(_) => {
                if opts.n_trees.is_some() || opts.norm_votes.is_some() {
                    return Err(Error::bad_argument("a linear model takes no tree options"));
                }
                None
            }
            Body::Trees(m) => {
                Some(m.plan(&type_, &TreeOptions { n_trees: opts.n_trees.clone(), norm_votes: opts.norm_votes })?)
            }
        };
        let bound = self.inputs.bind(frame)?;
        let state = match (&self.body, state) {
            (Body::Linear(m), _) => State::Linear { codes: m.prepare(&bound)?, response: type_ == "response" },
            (Body::Trees(m), Some(plan)) => State::Trees { codes: m.prepare(&bound)?, plan },
            (Body::Trees(_), None) => return Err(Error::invalid("tree plan missing")),
        };
        Ok(Job { model: self, bound, state })
    }
}

enum State<'a> {
    Linear { codes: Vec<FactorCodes<'a>>, response: bool },
    Trees { codes: Vec<Option<FactorCodes<'a>>>, plan: Plan },
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

    /// Shape of the result, with the row count filled in.
    pub fn shape(&self) -> OutputShape {
        match &self.state {
            State::Linear { .. } => OutputShape::vector(),
            State::Trees { plan, .. } => {
                let mut s = plan.shape.clone();
                if let Some(d) = s.dim.as_mut() {
                    d[0] = self.nrows();
                }
                s
            }
        }
    }

    fn row_cost(&self) -> usize {
        match &self.model.body {
            Body::Linear(m) => m.row_cost(),
            Body::Trees(m) => m.row_cost(),
        }
    }

    /// Whether the call is long enough to run off the caller's thread
    /// while it watches for an interrupt.
    pub fn is_large(&self) -> bool {
        self.nrows().saturating_mul(self.row_cost()) > LARGE_WORK
    }

    /// Fill `out` (sized by `shape().len(nrows())`); `cancel` stops the
    /// work early with `Error::Interrupted`.
    pub fn run(&self, out: OutBuf, threads: usize, cancel: &AtomicBool) -> Result<()> {
        let shape = self.shape();
        let n = self.nrows();
        let want = shape.len(n);
        let len = match &out {
            OutBuf::Real(o) => o.len(),
            OutBuf::Int(o) => o.len(),
        };
        let int_out = matches!(shape.values, ValueKind::Factor(_));
        if len != want || int_out != matches!(out, OutBuf::Int(_)) {
            return Err(Error::bad_argument("output buffer does not match the prediction's shape"));
        }
        match (&self.model.body, &self.state, out) {
            (Body::Linear(m), State::Linear { codes, response }, OutBuf::Real(o)) => {
                let chunk = (TASK_WORK / self.row_cost().max(1)).max(256);
                parallel::run_chunks(o, chunk, threads, cancel, |rows, o| {
                    m.predict_rows(&self.bound, codes, *response, rows, o)
                })
            }
            (Body::Trees(m), State::Trees { codes, plan }, out) => {
                let writer = match out {
                    OutBuf::Real(o) => OutWriter::real(o, n),
                    OutBuf::Int(o) => OutWriter::int(o, n),
                };
                parallel::run_ranges(n, m.chunk_rows(n, threads), threads, cancel, |rows| {
                    m.predict_rows(&self.bound, codes, plan, rows, &writer, cancel)
                })
            }
            _ => Err(Error::bad_argument("output buffer does not match the model")),
        }
    }
}
