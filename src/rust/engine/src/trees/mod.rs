//! Tree models: rpart, randomForest, ranger and gbm.
//!
//! A section is checked (`check`), each tree laid out for the walk
//! (`layout`), and the features a split can read given slots in a row
//! block (`features`). A call plans its output (`plan`), then walks the
//! trees tree-major over blocks of rows: every tree is walked for a whole
//! block (its nodes stay in cache), several rows in flight at once to
//! overlap memory latency (`walk`; a few rows instead walk several trees
//! at once each; a big forest walks 8-byte nodes over binned rows,
//! `compact`), and the reached leaves combine into predictions
//! (`aggregate`). Row blocks are spread over threads; every row
//! is computed on its own, so results do not depend on threads.

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::format::{FeatureKind, MissingRule, NanRule, SplitRule, TreesSpec};
use crate::frame::bind::{Bound, Inputs};
use crate::frame::levels::FactorCodes;
use crate::limits::limits;
use crate::model::{
    big_mark, shorten, Call, Family, ModelInfo, PredictOption, PredictOptions, PredictType, PredictTypes,
};
use crate::output::{OutputShape, RowBlock};
use crate::runtime;

mod aggregate;
mod check;
mod compact;
mod features;
mod layout;
mod plan;
mod shallow;
mod walk;

use aggregate::{Acc, Dest};
use check::{Agg, Algorithm};
use compact::Compact;
use features::{Feature, LoadPlan};
use layout::{build_tree, Tree, Widths, FMASK, LEAF};
use plan::{Out, Plan};
use shallow::Shallow;
use walk::Rules;

/// Rows of a block when a single tree is walked (an ensemble walks its
/// whole task at once, see `task_rows`).
const SINGLE_TREE_BLOCK: usize = 512;
/// Rows of a block of a shallow ensemble: its rows' slots stay in L1 or L2
/// while every tree reads them.
const SHALLOW_BLOCK: usize = 256;
/// Trees a shallow ensemble's block walks before it stores its sums:
/// their splits and values (12 KB at depth 3) stay in L1 with the rows.
const SHALLOW_TREES: usize = 64;
/// Rows per task of a single tree: on the 2-core machine (rpart, from R)
/// two threads gain nothing at 16,000 rows (103 us either way) and pay at
/// 32,000 (203 against 138 us).
const SINGLE_TREE_TASK: usize = 16384;
/// Most rows per task of an ensemble: tasks are walked tree by tree, so
/// large tasks keep each tree in cache for more rows; a 500-tree
/// randomForest on 100,000 rows took 3.05 s on one thread in tasks of 4,096
/// rows, 2.63 s with 16,384 and 2.48 s with 32,768. With compact nodes, on
/// two threads: 1.17 s with 16,384, 1.14 s with 32,768 and 1.11 s with
/// 65,536 (ranger 0.85, 0.81, 0.78 s). A compact forest whose masks
/// widen its bins takes fewer rows, so that a task's bins stay the size of
/// 65,536 rows of the row's own slots: randomForest with its factor (11
/// slots and 30 masks) took 0.76-0.95 s on two threads in tasks of 50,000
/// rows, where the two tasks' bins and the trees outgrow the 32 MB L3, and
/// 0.62-0.74 s in tasks of 16,667.
const ENSEMBLE_TASK: usize = 65536;
/// Most feature values a block holds (32 MB): a model with thousands of
/// features walks fewer rows at a time rather than allocate rows x features.
const BLOCK_VALUES: usize = 1 << 22;
/// Below this many rows an ensemble walks trees in lockstep for
/// each row rather than rows in lockstep through each tree.
const FEW_ROWS: usize = 8;
/// Work units per tree level of a row (a node load and a comparison, a
/// few nanoseconds), for `row_cost`.
const LEVEL_COST: usize = 4;

#[derive(Debug, Clone)]
pub struct TreeModel {
    algorithm: Algorithm,
    options: Vec<PredictOption>,
    features: Vec<Feature>,
    load: LoadPlan,
    /// Per feature: what a call does with its level codes.
    uses: Vec<features::Use>,
    rules: Rules,
    missing: MissingRule,
    agg: Agg,
    types: PredictTypes,
    classes: Option<Vec<String>>,
    widths: Widths,
    trees: Vec<Tree>,
    /// The branch-free layout of a shallow ensemble, if it has one.
    shallow: Option<Shallow>,
    /// The compact layout of a big forest, if it has one.
    compact: Option<Compact>,
    avg_depth: usize,
    n_nodes: usize,
}

impl TreeModel {
    pub fn new(spec: &TreesSpec, inputs: &Inputs) -> Result<TreeModel> {
        let lim = limits();
        let algorithm = Algorithm::parse(&spec.algorithm)?;
        if spec.features.len() > FMASK as usize {
            return Err(Error::unsupported(format!("a tree model with {} features", spec.features.len())));
        }
        let types = PredictTypes::from_spec(&spec.types, &spec.default_type)?;
        let features = spec.features.iter().map(|f| Feature::new(f, inputs)).collect::<Result<Vec<_>>>()?;
        // payload widths from the first tree (every tree is checked against them)
        let first = spec.trees.first();
        let nodes = first.map_or(1, |t| t.feature.len().max(1));
        let per_node = |p: Option<&Vec<f64>>| p.map_or(0, |p| p.len() / nodes);
        let widths = Widths {
            probs: per_node(first.and_then(|t| t.probs.as_ref())),
            matrix: per_node(first.and_then(|t| t.matrix.as_ref())),
        };
        let agg = check::check_section(spec, widths.probs, widths.matrix, &lim)?;
        let route = spec.missing == MissingRule::Route;
        let build = |(k, t): (usize, &crate::format::TreeSpec)| {
            build_tree(t, &features, route, widths).map_err(|e| e.context(format_args!("tree {}", k + 1)))
        };
        // trees are independent: build them on all threads (big forests load faster)
        let mut trees: Vec<Tree> = if spec.trees.len() > 1 {
            runtime::pool(runtime::default_threads())?
                .install(|| spec.trees.par_iter().enumerate().map(build).collect::<Result<Vec<_>>>())?
        } else {
            spec.trees.iter().enumerate().map(build).collect::<Result<Vec<_>>>()?
        };
        let load = LoadPlan::new(&features, &trees, route);
        let slots = load.slot_of(features.len());
        relabel_features(&mut trees, &slots);
        // the shallow walk reads a mask split's code as a whole number
        let whole_codes = features.iter().all(|f| f.kind != FeatureKind::Categorical || f.offset == 0.0);
        let shallow = if whole_codes { Shallow::new(&trees, load.width) } else { None };
        let compact = if shallow.is_none() && trees.len() > 1 {
            runtime::pool(runtime::default_threads())?.install(|| Compact::new(&trees, load.width))
        } else {
            None
        };
        let uses = features::uses(&features, &slots);
        let mean_depth = |t: &Tree| t.leaf_depths.0 / t.leaf_depths.1.max(1);
        let avg_depth = (trees.iter().map(mean_depth).sum::<usize>() / trees.len().max(1)).max(1);
        Ok(TreeModel {
            algorithm,
            options: agg.options(),
            features,
            load,
            uses,
            rules: Rules {
                le: spec.split == SplitRule::Le,
                nan_missing: spec.nan.unwrap_or(NanRule::Missing) == NanRule::Missing,
            },
            missing: spec.missing,
            agg,
            types,
            classes: spec.classes.clone(),
            widths,
            n_nodes: spec.trees.iter().map(|t| t.feature.len()).sum(),
            avg_depth,
            trees,
            shallow,
            compact,
        })
    }

    fn n_classes(&self) -> usize {
        match &self.agg {
            Agg::VoteValues { values } => values.len(),
            _ => self.classes.as_ref().map_or(0, |c| c.len()),
        }
    }
}

/// Point nodes and surrogates at their feature's slot in a row block.
fn relabel_features(trees: &mut [Tree], slot: &[u32]) {
    for t in trees {
        for n in t.nodes.iter_mut().filter(|n| n.feature & LEAF == 0) {
            n.feature = (n.feature & !FMASK) | slot[(n.feature & FMASK) as usize];
        }
        for s in &mut t.surr {
            s.feature = slot[s.feature as usize];
        }
    }
}

impl Family for TreeModel {
    fn types(&self) -> &PredictTypes {
        &self.types
    }

    fn options(&self) -> &[PredictOption] {
        &self.options
    }

    fn describe(&self, info: &mut ModelInfo) {
        info.algorithm = Some(self.algorithm.as_str().to_string());
        info.classes = self.classes.clone();
        info.fact("n_trees", self.trees.len());
        info.fact("n_nodes", self.n_nodes);
        // (for the benchmarks' estimate of the walk's cost)
        let (depths, leaves) = self.trees.iter().fold((0, 0), |(d, n), t| (d + t.leaf_depths.0, n + t.leaf_depths.1));
        info.fact("mean_leaf_depth", depths as f64 / leaves.max(1) as f64);
        info.fact("node_bytes", if self.compact.is_some() { 8 } else { 16 });
        info.summary.push(format!("trees: {}, {} nodes", big_mark(self.trees.len()), big_mark(self.n_nodes)));
        if let Some(c) = &self.classes {
            info.summary.push(format!("classes: {}", shorten(c)));
        }
        match &self.agg {
            Agg::VoteValues { values } => {
                let shown: Vec<String> = values.iter().map(|v| v.to_string()).collect();
                info.summary.push(format!("classes (numbers): {}", shorten(&shown)));
            }
            Agg::Survival { times } => {
                info.fact("n_times", times.len());
                info.summary.push(format!("survival curves at {} unique death times", big_mark(times.len())));
            }
            _ => {}
        }
    }

    fn row_cost(&self) -> usize {
        self.trees.len() * self.avg_depth * LEVEL_COST
    }

    fn prepare<'c>(
        &'c self,
        bound: &Bound<'_, 'c>,
        ty: PredictType,
        opts: &PredictOptions,
    ) -> Result<Box<dyn Call + 'c>> {
        let plan = self.plan(ty, opts, bound.nrows())?;
        let codes = features::codes(&self.features, &self.uses, bound, self.missing, |v| self.rules.is_missing(v))?;
        Ok(Box::new(TreeCall { model: self, codes, plan }))
    }
}

struct TreeCall<'c> {
    model: &'c TreeModel,
    codes: Vec<Option<FactorCodes<'c>>>,
    plan: Plan,
}

impl Call for TreeCall<'_> {
    fn shape(&self) -> OutputShape {
        self.plan.shape.clone()
    }

    /// An even share per thread of at most `ENSEMBLE_TASK` rows (fewer
    /// for wide bins); a single tree in tasks of `SINGLE_TREE_TASK`.
    fn task_rows(&self, nrows: usize, threads: usize) -> usize {
        if self.model.trees.len() == 1 {
            return SINGLE_TREE_TASK;
        }
        let w = self.model.load.width.max(1);
        let cap = self.model.compact.as_ref().map_or(ENSEMBLE_TASK, |c| ENSEMBLE_TASK * w / c.bin_width(w)).max(1);
        let tasks = threads * nrows.div_ceil(threads * cap).max(1);
        nrows.div_ceil(tasks).max(1)
    }

    fn predict(&self, bound: &Bound, block: &mut RowBlock, cancel: &AtomicBool) {
        let m = self.model;
        let rows = block.rows();
        // a big ensemble takes its whole task in one tree-major pass; a
        // shallow one fits in cache, so blocks whose rows do too
        let step = if m.trees.len() == 1 {
            SINGLE_TREE_BLOCK
        } else if m.shallow.is_some() {
            SHALLOW_BLOCK
        } else {
            rows.len().max(1)
        };
        let step = step.min(BLOCK_VALUES / m.load.width.max(1)).max(1);
        let n = rows.len().min(step);
        let w = m.load.width;
        let mut xs = vec![0.0; n * w];
        let mut leaves = vec![0u32; n];
        let mut acc = Acc::new(m, &self.plan, n);
        let mut start = rows.start;
        while start < rows.end {
            let end = (start + step).min(rows.end);
            let mut dest = Dest { block: &mut *block, at: start - rows.start };
            let k = end - start;
            features::load_block(&m.features, &m.load, bound, &self.codes, start..end, &mut xs[..k * w]);
            if !self.walk_trees(&xs[..k * w], &mut leaves[..k], &mut acc, &mut dest, cancel) {
                return;
            }
            start = end;
        }
    }
}

impl TreeCall<'_> {
    /// Walk the trees the plan uses for one block of rows and write their
    /// predictions; false if cancelled first.
    fn walk_trees(&self, xs: &[f64], leaves: &mut [u32], acc: &mut Acc, dest: &mut Dest, cancel: &AtomicBool) -> bool {
        let m = self.model;
        let (n, w) = (leaves.len(), m.load.width);
        let na_row: Vec<bool> = if m.missing == MissingRule::NaRow {
            (0..n).map(|k| xs[k * w..(k + 1) * w].iter().any(|&v| m.rules.is_missing(v))).collect()
        } else {
            Vec::new()
        };
        acc.start(m, n);
        let used = self.plan.trees_used(m.trees.len());
        // a boosted sum to a single n.trees, one class: the walk adds it up
        let one_sum =
            matches!(self.plan.out, Out::Sum { .. }) && self.plan.per_class == 1 && self.plan.checkpoints.len() == 1;
        // a single tree's walk is brief: widening many rows would cost more
        // than the branch-free walk saves
        let shallow = m.shallow.as_ref().filter(|_| m.trees.len() > 1 || n < FEW_ROWS);
        if let Some(s) = shallow.filter(|_| one_sum) {
            if !self.sum_shallow(s, xs, n, used, acc, cancel) {
                return false;
            }
            aggregate::write_sums(m, &self.plan, n, acc, dest);
            return true;
        }
        if n < FEW_ROWS && m.agg != Agg::Single {
            self.walk_few(shallow, xs, n, used, acc, dest);
        } else {
            // rows the shallow walk leaves to the general one
            let odd = shallow.map_or_else(Vec::new, |s| s.odd_rows(xs, n));
            let wide = shallow.map(|s| s.widen(xs, n));
            let binned = m.compact.as_ref().map(|c| c.bin(m.rules, xs, w));
            for (t, tree) in m.trees.iter().enumerate().take(used) {
                if cancel.load(Ordering::Relaxed) {
                    return false;
                }
                match (shallow, &wide, &m.compact, &binned) {
                    (Some(s), Some(wide), ..) => s.rows(m.rules, tree, t, wide, xs, &odd, leaves),
                    (_, _, Some(c), Some(b)) => c.walk(m.rules, t, tree, b, leaves),
                    _ => m.rules.walk(tree, xs, w, leaves),
                }
                if m.agg == Agg::Single {
                    aggregate::write_single(m, &self.plan, tree, leaves, dest);
                    return true;
                }
                aggregate::add(m, &self.plan, t, tree, leaves, acc, dest);
            }
        }
        aggregate::finish(m, &self.plan, used, &na_row, n, acc, dest);
        true
    }

    /// The sum of trees `0..used` of a shallow ensemble into `acc`; false if
    /// cancelled first. A few rows walk their trees in lockstep; more walk
    /// in lockstep through each tree, and those with a missing value are
    /// then summed again, tree by tree on the general walk.
    fn sum_shallow(&self, s: &Shallow, xs: &[f64], n: usize, used: usize, acc: &mut Acc, cancel: &AtomicBool) -> bool {
        let m = self.model;
        let w = m.load.width;
        let a = &mut acc.values[..n];
        let row = |r: usize| &xs[r * w..(r + 1) * w];
        if n < FEW_ROWS {
            for (r, a) in a.iter_mut().enumerate() {
                s.sum_trees(m.rules, &m.trees, used, row(r), a);
            }
            return true;
        }
        // (row, the sum's start)
        let odd: Vec<(usize, f64)> = s.odd_rows(xs, n).into_iter().map(|r| (r, a[r])).collect();
        let wide = s.widen(xs, n);
        for t in (0..used).step_by(SHALLOW_TREES) {
            if cancel.load(Ordering::Relaxed) {
                return false;
            }
            s.sum_rows(m.rules, t..(t + SHALLOW_TREES).min(used), &wide, a);
        }
        for (r, start) in odd {
            a[r] = start;
            s.sum_trees(m.rules, &m.trees, used, row(r), &mut a[r]);
        }
        true
    }

    /// A few rows of an ensemble: each row walks its trees in lockstep
    /// (rows in lockstep need rows), branch-free if the ensemble is
    /// shallow, then the trees add up in order as in the tree-major walk.
    fn walk_few(&self, s: Option<&Shallow>, xs: &[f64], n: usize, used: usize, acc: &mut Acc, dest: &mut Dest) {
        let m = self.model;
        let w = m.load.width;
        let mut found = vec![0u32; used * n];
        for r in 0..n {
            let x = &xs[r * w..(r + 1) * w];
            match s {
                Some(s) => s.trees(m.rules, &m.trees, used, x, n, &mut found[r..]),
                None => m.rules.walk_trees(&m.trees, used, x, n, &mut found[r..]),
            }
        }
        for (t, tree) in m.trees.iter().enumerate().take(used) {
            aggregate::add(m, &self.plan, t, tree, &found[t * n..(t + 1) * n], acc, dest);
        }
    }
}

#[cfg(test)]
mod tests;
