//! Boosted tree ensembles (and xgboost's linear booster) from xgboost and
//! LightGBM, predicted exactly as the libraries predict them: xgboost bit
//! for bit in float32, LightGBM in double, each summing its trees in its
//! own order. The rules, with the library sources that decide each, are in
//! `tests/boosters/SEMANTICS.md`; comments cite them as `S-x.y`.
//!
//! A section is checked and compiled once (`compile`): each split reads a
//! slot, an input prepared the way that split's library reads it
//! (`slots`), and the trees are laid out for a branch-free walk
//! (`layout`). A call loads its rows' slots in blocks, walks the trees in
//! lockstep (`walk`) and turns the sums into outputs (`aggregate`,
//! `transform`).

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};
use crate::format::{BoostedSpec, InputSpec};
use crate::frame::bind::{Bound, Inputs};
use crate::frame::levels::{FactorCodes, Levels, Unseen};
use crate::model::{big_mark, Call, Family, ModelInfo, PredictOption, PredictOptions, PredictType, PredictTypes};
use crate::output::{ArrayShape, OutputShape, RowBlock};

mod aggregate;
mod compile;
mod layout;
mod linear;
mod slots;
pub(crate) mod transform;
mod walk;

use aggregate::Finish;
use compile::{Engine, Forest, Library, Stats};
use layout::{Layout, Real};
use slots::Source;
use transform::Transform;

/// Rows walked through every tree before the next rows: their slots and
/// sums stay in L1 while the trees stream from L2 (a 500-tree model walks
/// the same on 128 to 1,024 rows; 64 rows costs 10% more).
const BLOCK_ROWS: usize = 256;
/// Most rows per parallel task: each thread takes an even share up to this.
const MAX_TASK: usize = 32768;
/// Below this many rows a row walks its trees several at once (the
/// single-row path); from it up, rows walk each tree in lockstep.
const ROW_LANES_FROM: usize = walk::LANES;
/// Work units per tree level of a row, for `row_cost`.
const LEVEL_COST: usize = 2;

#[derive(Debug, Clone)]
pub struct BoostedModel {
    library: Library,
    version: String,
    booster: String,
    objective: String,
    k: usize,
    transform: Transform,
    types: PredictTypes,
    options: Vec<PredictOption>,
    /// Tree index where each round starts, then the tree count.
    iterations: Vec<usize>,
    average: bool,
    best_iteration: Option<usize>,
    /// Levels of the factor inputs (their codes are 0-based level indices).
    levels: Vec<Option<Levels>>,
    names: Vec<String>,
    engine: Engine,
    stats: Stats,
}

impl BoostedModel {
    pub fn new(spec: &BoostedSpec, inputs: &Inputs) -> Result<BoostedModel> {
        let specs: &[InputSpec] = inputs.specs();
        let (library, engine, stats) = compile::compile(spec, specs)?;
        let transform = Transform::new(&spec.transform);
        let margin = match library {
            Library::Xgboost => PredictType::Margin,
            Library::Lightgbm => PredictType::Raw,
        };
        let types = if transform == Transform::None {
            PredictTypes::from_spec(&[margin.as_str().into()], margin.as_str())?
        } else {
            PredictTypes::from_spec(&["response".into(), margin.as_str().into()], "response")?
        };
        let options = match library {
            Library::Xgboost => vec![PredictOption::IterationRange, PredictOption::NTreeLimit, PredictOption::Dmatrix],
            Library::Lightgbm => vec![PredictOption::StartIteration, PredictOption::NumIteration],
        };
        let levels = specs
            .iter()
            .map(|s| s.levels.as_ref().filter(|_| s.kind.is_categorical()).map(|l| Levels::new(l)).transpose())
            .collect::<Result<Vec<_>>>()?;
        Ok(BoostedModel {
            library,
            version: spec.library_version.clone(),
            booster: spec.booster.clone(),
            objective: spec.objective.clone(),
            k: spec.n_outputs,
            transform,
            types,
            options,
            iterations: spec.iterations.clone(),
            average: spec.average_output,
            best_iteration: spec.best_iteration,
            levels,
            names: specs.iter().map(|s| s.name.clone()).collect(),
            engine,
            stats,
        })
    }

    fn n_trees(&self) -> usize {
        self.iterations.last().copied().unwrap_or(0)
    }

    fn rounds(&self) -> usize {
        self.iterations.len().saturating_sub(1)
    }

    /// The trees a call uses, and the rounds they make.
    fn tree_range(&self, opts: &PredictOptions) -> Result<(Range<usize>, usize)> {
        let rounds = self.rounds();
        let (begin, end) = match self.library {
            Library::Xgboost => {
                let (begin, end) = match (opts.iteration_range, opts.ntree_limit) {
                    (Some(_), Some(_)) => {
                        return Err(Error::bad_argument("give either iteration_range or ntree_limit, not both"))
                    }
                    (Some(r), None) => r,
                    // the C API's GetIterationFromTreeLimit: ntree_limit counts
                    // the trees of one output, parallel trees included
                    (None, Some(n)) => (0, n / self.parallel_trees().max(1)),
                    (None, None) => (0, 0),
                };
                if matches!(self.engine, Engine::Linear(_)) {
                    // gblinear: LinearCheckLayer refuses a range
                    if begin != 0 || end != 0 {
                        return Err(Error::bad_argument("a gblinear booster takes no iteration range"));
                    }
                    return Ok((0..0, 0));
                }
                // gbtree.h LayerToTree: an end of 0 is every round
                let end = if end == 0 { rounds } else { end };
                if end > rounds || begin > end {
                    return Err(Error::bad_argument(format!(
                        "iteration_range = ({begin}, {end}) is out of range for a model of {rounds} rounds"
                    )));
                }
                (begin, end)
            }
            Library::Lightgbm => {
                // GBDT::InitPredict (src/boosting/gbdt.h:426), S-5.5
                let start = opts.start_iteration.unwrap_or(0).clamp(0, rounds as i64) as usize;
                let num = match opts.num_iteration {
                    Some(n) if n > 0 => (n as u64).min((rounds - start) as u64) as usize,
                    _ => rounds - start,
                };
                (start, start + num)
            }
        };
        Ok((self.iterations[begin]..self.iterations[end], end - begin))
    }

    /// Trees of one output per round (xgboost's num_parallel_tree).
    fn parallel_trees(&self) -> usize {
        match self.iterations.get(1) {
            Some(&n) if self.k > 0 => n / self.k,
            _ => 1,
        }
    }

    fn shape(&self, margin: bool) -> OutputShape {
        let width = if margin { self.k } else { self.transform.width(self.k) };
        if width == 1 {
            ArrayShape::vector().into()
        } else {
            ArrayShape::matrix(width, None).into()
        }
    }
}

impl Family for BoostedModel {
    fn types(&self) -> &PredictTypes {
        &self.types
    }

    fn options(&self) -> &[PredictOption] {
        &self.options
    }

    fn describe(&self, info: &mut ModelInfo) {
        info.algorithm = Some(self.library.as_str().to_string());
        info.fact("library_version", self.version.clone());
        info.fact("booster", self.booster.clone());
        info.fact("objective", self.objective.clone());
        info.fact("n_outputs", self.k);
        info.fact("n_trees", self.n_trees());
        info.fact("n_rounds", self.rounds());
        // xgboost reads the entries a sparse matrix does not store (CSR,
        // CSC, R's dgCMatrix) as missing values; LightGBM as zeros
        info.fact("sparse_absent", if self.library == Library::Xgboost { "missing" } else { "zero" });
        if let Some(b) = self.best_iteration {
            info.fact("best_iteration", b);
        }
        info.headline = Some(format!("{} {}, {}", self.library.as_str(), self.booster, self.objective));
        match &self.engine {
            Engine::Linear(_) => info.summary.push(format!("linear booster, {} outputs", self.k)),
            _ => {
                info.fact("n_nodes", self.stats.nodes);
                info.fact("max_depth", self.stats.max_depth);
                info.summary.push(format!(
                    "trees: {} in {} rounds, {} nodes, depth up to {}",
                    big_mark(self.n_trees()),
                    big_mark(self.rounds()),
                    big_mark(self.stats.nodes),
                    self.stats.max_depth
                ));
            }
        }
        if self.k > 1 {
            info.summary.push(format!("outputs: {}", self.k));
        }
    }

    fn row_cost(&self) -> usize {
        match &self.engine {
            Engine::Linear(l) => l.p * l.k,
            _ => self.n_trees() * (self.stats.mean_depth.ceil() as usize).max(1) * LEVEL_COST,
        }
    }

    fn prepare<'c>(
        &'c self,
        bound: &Bound<'_, 'c>,
        ty: PredictType,
        opts: &PredictOptions,
    ) -> Result<Box<dyn Call + 'c>> {
        let margin = matches!(ty, PredictType::Margin | PredictType::Raw);
        let (trees, rounds) = self.tree_range(opts)?;
        let codes = |input: usize| -> Result<Option<FactorCodes<'c>>> {
            match &self.levels[input] {
                Some(l) => FactorCodes::new(bound.column(input), &self.names[input], l, Unseen::Missing).map(Some),
                None => Ok(None),
            }
        };
        let codes = match &self.engine {
            Engine::F32(f) => slots::codes(Some(&f.slots.list), self.names.len(), codes)?,
            Engine::F64(f) => slots::codes(Some(&f.slots.list), self.names.len(), codes)?,
            Engine::Linear(_) => slots::codes(None, self.names.len(), codes)?,
        };
        let finish = Finish {
            margin,
            transform: self.transform,
            k: self.k,
            average: (self.average && !margin).then_some(rounds),
        };
        Ok(Box::new(BoostedCall {
            model: self,
            codes,
            trees,
            finish,
            alt: opts.dmatrix.unwrap_or(false),
            shape: self.shape(margin),
        }))
    }
}

struct BoostedCall<'c> {
    model: &'c BoostedModel,
    codes: Vec<Option<FactorCodes<'c>>>,
    trees: Range<usize>,
    finish: Finish,
    /// The dart path of `Booster.predict(DMatrix)`.
    alt: bool,
    shape: OutputShape,
}

impl Call for BoostedCall<'_> {
    fn shape(&self) -> OutputShape {
        self.shape.clone()
    }

    fn task_rows(&self, nrows: usize, threads: usize) -> usize {
        let tasks = threads * nrows.div_ceil(threads * MAX_TASK).max(1);
        nrows.div_ceil(tasks).max(1)
    }

    fn predict(&self, bound: &Bound, block: &mut RowBlock, cancel: &AtomicBool) {
        let sources = slots::sources(bound, &self.codes);
        match &self.model.engine {
            Engine::F32(f) => self.forest(f, &sources, block, cancel, aggregate::write_f32),
            Engine::F64(f) => self.forest(f, &sources, block, cancel, aggregate::write_f64),
            Engine::Linear(l) => {
                let rows = block.rows();
                let mut acc = vec![0f32; BLOCK_ROWS.min(rows.len()) * self.finish.k];
                let mut start = rows.start;
                while start < rows.end {
                    if cancel.load(Ordering::Relaxed) {
                        return;
                    }
                    let end = (start + BLOCK_ROWS).min(rows.end);
                    l.predict(&sources, start..end, &mut acc);
                    aggregate::write_f32(&self.finish, &mut acc, end - start, block, start - rows.start);
                    start = end;
                }
            }
        }
    }
}

impl BoostedCall<'_> {
    /// Walk `f`'s trees of the call for the rows of `block`, a sub-block at
    /// a time, and write them with `write`.
    fn forest<T: Real>(
        &self,
        f: &Forest<T>,
        sources: &[Source],
        block: &mut RowBlock,
        cancel: &AtomicBool,
        write: impl Fn(&Finish, &mut [T], usize, &mut RowBlock, usize),
    ) {
        let rows = block.rows();
        let (k, w) = (self.finish.k, f.slots.width());
        let step = BLOCK_ROWS.min(rows.len()).max(1);
        let mut xs = vec![T::default(); step * w];
        let mut acc = vec![T::default(); step * k];
        let mut start = rows.start;
        while start < rows.end {
            if cancel.load(Ordering::Relaxed) {
                return;
            }
            let end = (start + step).min(rows.end);
            let n = end - start;
            slots::load(&f.slots, sources, start..end, &mut xs[..n * w]);
            aggregate::start(&mut acc, &f.base, n);
            self.walk(f, &xs[..n * w], w, &mut acc[..n * k]);
            write(&self.finish, &mut acc, n, block, start - rows.start);
            start = end;
        }
    }

    /// Add the call's trees to the sums `acc` of the rows `xs`.
    fn walk<T: Real>(&self, f: &Forest<T>, xs: &[T], w: usize, acc: &mut [T]) {
        let k = self.finish.k;
        let n = xs.len() / w;
        // rows that do not fill the lanes walk their trees several at once
        let lanes = if n >= ROW_LANES_FROM { n - n % walk::LANES } else { 0 };
        let (xs_lanes, xs_rest) = xs.split_at(lanes * w);
        let (acc_lanes, acc_rest) = acc.split_at_mut(lanes * k);
        match &f.layout {
            Layout::Complete(c) => {
                let leaves = if self.alt { c.alt.as_ref().unwrap_or(&c.leaves) } else { &c.leaves };
                if lanes > 0 {
                    for t in self.trees.clone() {
                        walk::complete_rows(c, leaves, t, xs_lanes, w, acc_lanes, k, f.groups[t] as usize);
                    }
                }
                for (x, a) in xs_rest.chunks_exact(w).zip(acc_rest.chunks_exact_mut(k)) {
                    walk::complete_trees(c, leaves, self.trees.clone(), x, &f.groups, a);
                }
            }
            Layout::General(g) => {
                let values = if self.alt { g.alt.as_ref().unwrap_or(&g.values) } else { &g.values };
                if lanes > 0 {
                    for t in self.trees.clone() {
                        walk::general_rows(g, values, &f.sets, t, xs_lanes, w, acc_lanes, k, f.groups[t] as usize);
                    }
                }
                for (x, a) in xs_rest.chunks_exact(w).zip(acc_rest.chunks_exact_mut(k)) {
                    walk::general_trees(g, values, &f.sets, self.trees.clone(), x, &f.groups, a);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
