//! Tree models: rpart, randomForest, ranger and gbm.
//!
//! Layout. At load time each tree is re-laid out breadth-first so that the
//! two children of a node are adjacent (right = left + 1); a node is then
//! 16 bytes (threshold, feature with flag bits, left child), and per-node
//! payloads (values, class probabilities) live in separate arrays in the
//! same order. Rare things (categorical sets, missing-value children,
//! surrogate splits) live in side tables, reached only from nodes flagged
//! as needing them, so plain numeric nodes take a short branch-light path.
//!
//! Traversal is tree-major over blocks of rows: every tree is walked for a
//! whole block (its nodes stay in cache), with several rows in flight at
//! once to overlap memory latency. Row blocks are spread over threads;
//! every row is computed on its own, so results do not depend on threads.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};
use crate::format::{
    Aggregation, FeatureKind, MissingRule, NanRule, SplitRule, Surrogates, TreeSpec, TreesSpec, UnseenRule,
};
use crate::frame::{is_r_na, NA_REAL};
use crate::inputs::{Bound, FactorCodes, Inputs, Levels, Unseen, NA_CODE};
use crate::model::{OutputShape, ValueKind};
use crate::parallel;
use rayon::prelude::*;

const LEAF: u32 = 1 << 31;
/// Categorical split: `threshold` holds the category-set index.
const CAT: u32 = 1 << 30;
/// The node must look for missing values (missing child, surrogates, stop).
const ROUTE: u32 = 1 << 29;
/// Categorical split whose `threshold` bits are the mask of the level codes
/// that go left: every code the feature can take is below 64 and goes left
/// or right, so the walk needs no set lookup (randomForest, ranger).
const MASK: u32 = 1 << 28;
const FMASK: u32 = (1 << 24) - 1;
/// Rows walked together through one tree.
const LANES: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
struct Node {
    threshold: f64,
    feature: u32,
    left: u32,
}

#[derive(Debug, Clone, PartialEq)]
struct CatSet {
    left: Vec<u64>,
    right: Vec<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Left,
    Right,
    Missing,
}

fn bit(words: &[u64], code: usize) -> bool {
    words.get(code / 64).is_some_and(|w| w >> (code % 64) & 1 == 1)
}

impl CatSet {
    fn dir(&self, code: f64) -> Dir {
        if !(code >= 0.0) {
            return Dir::Missing;
        }
        let c = code as usize;
        if bit(&self.left, c) {
            Dir::Left
        } else if bit(&self.right, c) {
            Dir::Right
        } else {
            Dir::Missing
        }
    }
}

#[derive(Debug, Clone)]
struct Tree {
    nodes: Vec<Node>,
    values: Vec<f64>,
    probs: Option<Vec<f64>>,
    matrix: Option<Vec<f64>>,
    /// Child for a missing value, `u32::MAX` for none (only with ROUTE).
    missing: Vec<u32>,
    cats: Vec<CatSet>,
    /// Surrogates by (new) node: `surr_start[i]..surr_start[i+1]`.
    surr_start: Vec<u32>,
    surr: Vec<Surrogate>,
    /// Longest root-to-leaf path (in edges, missing children included).
    max_depth: usize,
}

#[derive(Debug, Clone, Copy)]
struct Surrogate {
    feature: u32,
    threshold: f64,
    categorical: bool,
    less_left: bool,
}

#[derive(Debug, Clone)]
struct Feature {
    input: usize,
    column: String,
    kind: FeatureKind,
    levels: Option<Levels>,
    offset: f64,
    unseen: Unseen,
}

#[derive(Debug, Clone)]
pub struct TreeModel {
    features: Vec<Feature>,
    le: bool,
    missing: MissingRule,
    /// Whether any NaN is missing, or only R's `NA`.
    nan_missing: bool,
    agg: Aggregation,
    types: Vec<String>,
    default_type: String,
    classes: Option<Vec<String>>,
    n_probs: usize,
    n_matrix: usize,
    trees: Vec<Tree>,
    avg_depth: usize,
    /// Features copied into every row of a block.
    eager: Vec<usize>,
    /// Features only surrogates read, copied only for rows with a missing
    /// eager feature (see `load_plan`).
    lazy: Vec<usize>,
}

/// Per-call options of a tree prediction.
#[derive(Debug, Clone, Default)]
pub struct TreeOptions {
    /// Number(s) of trees (boosting iterations for gbm) to use.
    pub n_trees: Option<Vec<usize>>,
    /// randomForest's `norm.votes` for type "vote".
    pub norm_votes: Option<bool>,
}

impl TreeModel {
    pub fn new(spec: &TreesSpec, inputs: &Inputs) -> Result<TreeModel> {
        if !["rpart", "randomForest", "ranger", "gbm"].contains(&spec.algorithm.as_str()) {
            return Err(Error::unsupported(format!("tree algorithm '{}'", spec.algorithm)));
        }
        if spec.features.len() > FMASK as usize {
            return Err(Error::invalid("too many features"));
        }
        if spec.trees.is_empty() {
            return Err(Error::invalid("a tree model needs at least one tree"));
        }
        if !spec.types.contains(&spec.default_type) {
            return Err(Error::invalid("'default_type' must be one of 'types'"));
        }
        let features = spec
            .features
            .iter()
            .map(|f| {
                let levels = f.levels.as_ref().map(|l| Levels::new(l)).transpose()?;
                if f.kind != FeatureKind::Numeric && levels.is_none() {
                    return Err(Error::invalid(format!("feature '{}' needs its levels", f.input)));
                }
                if f.code_offset.is_some_and(|o| f.kind != FeatureKind::Codes || !o.is_finite()) {
                    return Err(Error::invalid(format!("feature '{}': 'code_offset' is for codes features", f.input)));
                }
                Ok(Feature {
                    input: inputs.index(&f.input)?,
                    column: f.input.clone(),
                    kind: f.kind,
                    levels,
                    offset: f.code_offset.unwrap_or(0.0),
                    unseen: match f.unseen.unwrap_or(UnseenRule::Error) {
                        UnseenRule::Error => Unseen::Error,
                        UnseenRule::Missing => Unseen::Missing,
                        UnseenRule::Last => Unseen::Last,
                    },
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let n_classes = spec.classes.as_ref().map_or(0, |c| c.len());
        let first = &spec.trees[0];
        let n_nodes0 = first.feature.len().max(1);
        let n_probs = first.probs.as_ref().map_or(0, |p| p.len() / n_nodes0);
        let n_matrix = first.matrix.as_ref().map_or(0, |p| p.len() / n_nodes0);
        spec.agg_check()?;
        if matches!(spec.aggregation, Aggregation::Votes { .. } | Aggregation::ProbMean) && n_classes == 0 {
            return Err(Error::invalid("a classification forest needs 'classes'"));
        }
        if matches!(spec.aggregation, Aggregation::ProbMean) && n_probs != n_classes {
            return Err(Error::invalid("'probs' must have one column per class"));
        }
        if let Aggregation::Votes { cutoff: Some(c) } = &spec.aggregation {
            if c.len() != n_classes {
                return Err(Error::invalid("'cutoff' needs one value per class"));
            }
        }
        if spec.missing == MissingRule::NaRow
            && !matches!(spec.aggregation, Aggregation::Mean { .. } | Aggregation::Votes { .. } | Aggregation::ProbMean)
        {
            return Err(Error::invalid("missing = \"na_row\" goes with the mean, votes and prob_mean aggregations"));
        }
        // Class indices a prediction reads: a single tree's every node (a
        // walk may stop anywhere), a vote's leaves. (A vote that stops at a
        // split without a class index there counts as no vote.)
        let class_values = match spec.aggregation {
            Aggregation::Single if n_classes > 0 && spec.types.iter().any(|t| t == "class") => Some(false),
            Aggregation::Votes { .. } => Some(true),
            _ => None,
        };
        if let Some(leaves_only) = class_values {
            for (k, t) in spec.trees.iter().enumerate() {
                let bad = t.value.iter().zip(&t.feature).find(|(v, f)| {
                    (!leaves_only || **f < 0) && !(v.fract() == 0.0 && **v >= 1.0 && **v <= n_classes as f64)
                });
                if let Some((v, _)) = bad {
                    return Err(Error::invalid(format!("tree {}: {v} is no class index (1 to {n_classes})", k + 1)));
                }
            }
        }
        let route = spec.missing == MissingRule::Route;
        let build = |(k, t): (usize, &TreeSpec)| {
            build_tree(t, &features, route, n_probs, n_matrix)
                .map_err(|e| Error::invalid(format!("tree {}: {}", k + 1, e_detail(&e))))
        };
        // trees are independent: build them on all threads (big forests load faster)
        let built: Vec<(Tree, usize)> = if spec.trees.len() > 1 {
            parallel::pool(parallel::default_threads())?
                .install(|| spec.trees.par_iter().enumerate().map(build).collect::<Result<Vec<_>>>())?
        } else {
            spec.trees.iter().enumerate().map(build).collect::<Result<Vec<_>>>()?
        };
        let depth_sum: usize = built.iter().map(|b| b.1).sum();
        let trees: Vec<Tree> = built.into_iter().map(|b| b.0).collect();
        let (eager, lazy) = load_plan(&features, &trees, route);
        Ok(TreeModel {
            eager,
            lazy,
            features,
            le: spec.split == SplitRule::Le,
            missing: spec.missing,
            nan_missing: spec.nan.unwrap_or(NanRule::Missing) == NanRule::Missing,
            agg: spec.aggregation.clone(),
            types: spec.types.clone(),
            default_type: spec.default_type.clone(),
            classes: spec.classes.clone(),
            n_probs,
            n_matrix,
            avg_depth: (depth_sum / trees.len()).max(1),
            trees,
        })
    }

    pub fn types(&self) -> &[String] {
        &self.types
    }

    pub fn default_type(&self) -> &str {
        &self.default_type
    }

    pub fn n_trees(&self) -> usize {
        self.trees.len()
    }

    /// Work estimate per row.
    pub fn row_cost(&self) -> usize {
        self.trees.len() * self.avg_depth * 4
    }

    /// Check the options of a call and work out the output.
    pub fn plan(&self, type_: &str, opts: &TreeOptions) -> Result<Plan> {
        let k = self.classes.as_ref().map_or(0, |c| c.len());
        let class_names = || self.classes.clone();
        let all = self.trees.len();
        let check_n = |n: usize, max: usize, what: &str| -> Result<usize> {
            if n == 0 || n > max {
                return Err(Error::bad_argument(format!("{what} must be between 1 and {max}, not {n}")));
            }
            Ok(n)
        };
        let out = match (&self.agg, type_) {
            (Aggregation::Single, "vector") => Out::Value,
            (Aggregation::Single, "class") if k > 0 => Out::ClassOfValue,
            (Aggregation::Single, "prob") if self.n_probs == k && k > 0 => Out::NodeProbs,
            (Aggregation::Single, "matrix") => {
                if self.n_matrix > 0 {
                    Out::NodeMatrix
                } else {
                    Out::Value
                }
            }
            (Aggregation::Mean { .. }, "response") => Out::Mean,
            (Aggregation::Votes { .. }, "response") => Out::VoteClass,
            (Aggregation::Votes { .. }, "prob") => Out::VoteFraction,
            (Aggregation::Votes { .. }, "vote") => {
                if opts.norm_votes.unwrap_or(true) {
                    Out::VoteFraction
                } else {
                    Out::VoteCount
                }
            }
            (Aggregation::ProbMean, "response") => Out::ProbMean,
            (Aggregation::Sum { .. }, "link") => Out::Sum { response: false },
            (Aggregation::Sum { .. }, "response") => Out::Sum { response: true },
            (_, t) => {
                return Err(Error::bad_argument(format!(
                    "type = \"{t}\" is not available for this model; use one of: {}",
                    self.types.iter().map(|x| format!("\"{x}\"")).collect::<Vec<_>>().join(", ")
                )))
            }
        };
        if opts.norm_votes.is_some() && !matches!(self.agg, Aggregation::Votes { .. }) {
            return Err(Error::bad_argument("norm.votes applies only to randomForest classification"));
        }
        let (checkpoints, per_class) = match &self.agg {
            Aggregation::Sum { n_classes, default_n_trees, .. } => {
                let kc = (*n_classes).max(1);
                let iters = all / kc;
                let ns = opts.n_trees.clone().unwrap_or_else(|| vec![*default_n_trees]);
                if ns.is_empty() {
                    return Err(Error::bad_argument("n.trees must not be empty"));
                }
                let ns = ns.into_iter().map(|n| check_n(n, iters, "n.trees")).collect::<Result<Vec<_>>>()?;
                (ns, kc)
            }
            _ => {
                let n = match &opts.n_trees {
                    None => all,
                    Some(v) if v.len() == 1 => check_n(v[0], all, "the number of trees")?,
                    Some(_) => return Err(Error::bad_argument("give a single number of trees")),
                };
                if self.agg == Aggregation::Single && n != 1 {
                    return Err(Error::bad_argument("a single tree has no number of trees to choose"));
                }
                (vec![n], 1)
            }
        };
        let rows_dim = |cols: usize, names: Option<Vec<String>>| OutputShape {
            values: ValueKind::Real,
            dim: Some(vec![0, cols]),
            dimnames: Some(vec![None, names]),
            class: None,
        };
        let shape = match out {
            Out::Value | Out::Mean => OutputShape::vector(),
            Out::ClassOfValue | Out::VoteClass => OutputShape {
                values: ValueKind::Factor(self.classes.clone().unwrap_or_default()),
                dim: None,
                dimnames: None,
                class: None,
            },
            // predict.randomForest marks its vote matrices with class "votes"
            Out::VoteFraction | Out::VoteCount => OutputShape {
                class: Some(["matrix", "array", "votes"].map(String::from).to_vec()),
                ..rows_dim(k, class_names())
            },
            Out::NodeProbs | Out::ProbMean => rows_dim(k, class_names()),
            Out::NodeMatrix => rows_dim(self.n_matrix, None),
            Out::Sum { .. } => {
                let names: Vec<String> = checkpoints.iter().map(|n| n.to_string()).collect();
                if per_class > 1 {
                    OutputShape {
                        values: ValueKind::Real,
                        dim: Some(vec![0, per_class, checkpoints.len()]),
                        dimnames: Some(vec![None, class_names(), Some(names)]),
                        class: None,
                    }
                } else if checkpoints.len() > 1 {
                    rows_dim(checkpoints.len(), Some(names))
                } else {
                    OutputShape::vector()
                }
            }
        };
        Ok(Plan { out, checkpoints, per_class, shape })
    }

    /// Per-call state: the features' level codes.
    pub fn prepare<'f, 'a>(&self, bound: &Bound<'f, 'a>) -> Result<Vec<Option<FactorCodes<'a>>>> {
        let codes = self
            .features
            .iter()
            .map(|f| match &f.levels {
                Some(levels) if f.kind != FeatureKind::Numeric => {
                    FactorCodes::new(bound.column(f.input), &f.column, levels, f.unseen).map(Some)
                }
                _ => Ok(None),
            })
            .collect::<Result<Vec<_>>>()?;
        if self.missing == MissingRule::Error {
            for (f, c) in self.features.iter().zip(&codes) {
                let has_na = match c {
                    Some(c) => (0..bound.nrows()).any(|r| c.get(r) == NA_CODE),
                    None => (0..bound.nrows()).any(|r| self.is_missing(bound.num(f.input).get(r))),
                };
                if has_na {
                    return Err(Error::bad_argument(format!(
                        "column '{}' has missing values, which this model cannot predict from",
                        f.column
                    )));
                }
            }
        }
        Ok(codes)
    }

    /// Fill the feature block: row-major, one row of `features.len()`.
    /// Reading input columns is most of the cost of a shallow tree, so
    /// features no split reads are skipped, and surrogate-only features
    /// are read only for the rows that can consult a surrogate: in other
    /// rows no walk reads their slots.
    fn load_block(&self, bound: &Bound, codes: &[Option<FactorCodes>], rows: Range<usize>, xs: &mut [f64]) {
        let nf = self.features.len();
        for &j in &self.eager {
            let (f, c) = (&self.features[j], &codes[j]);
            match c {
                None => {
                    let v = bound.num(f.input);
                    for (k, r) in rows.clone().enumerate() {
                        xs[k * nf + j] = v.get(r);
                    }
                }
                Some(c) => {
                    for (k, r) in rows.clone().enumerate() {
                        xs[k * nf + j] = code_value(c.get(r), f.offset);
                    }
                }
            }
        }
        if self.lazy.is_empty() {
            return;
        }
        for (k, r) in rows.enumerate() {
            let x = &mut xs[k * nf..(k + 1) * nf];
            if !self.eager.iter().any(|&j| x[j].is_nan()) {
                continue;
            }
            for &j in &self.lazy {
                x[j] = match &codes[j] {
                    None => bound.num(self.features[j].input).get(r),
                    Some(c) => code_value(c.get(r), self.features[j].offset),
                };
            }
        }
    }

    /// Rows per parallel task. For a single tree (rpart, 2-core machine,
    /// from R) two threads gain nothing at 16,000 rows (103 us either way)
    /// and pay at 32,000 (203 against 138 us). An ensemble is walked tree by
    /// tree over a whole task, so large tasks keep each tree in cache for
    /// more rows: a 500-tree randomForest on 100,000 rows took 3.05 s on one
    /// thread in tasks of 4,096 rows, 2.63 s with 16,384 and 2.48 s with
    /// 32,768. Tasks are an even share per thread, at most 32,768 rows.
    pub fn chunk_rows(&self, nrows: usize, threads: usize) -> usize {
        if self.trees.len() == 1 {
            return 16384;
        }
        const MOST: usize = 32768;
        let threads = threads.max(1);
        let tasks = threads * nrows.div_ceil(threads * MOST).max(1);
        nrows.div_ceil(tasks).max(1)
    }

    /// Predict `rows`, writing through `out` (rows are global indices).
    /// `cancel` is checked before each tree.
    pub fn predict_rows(
        &self,
        bound: &Bound,
        codes: &[Option<FactorCodes>],
        plan: &Plan,
        rows: Range<usize>,
        out: &OutWriter,
        cancel: &AtomicBool,
    ) {
        // an ensemble takes its whole task in one tree-major pass
        let block = if self.trees.len() == 1 { 512 } else { rows.len().max(1) };
        let nf = self.features.len().max(1);
        let mut s = TreeScratch::new(rows.len().min(block), nf, plan, self);
        let mut start = rows.start;
        while start < rows.end {
            let end = (start + block).min(rows.end);
            self.predict_block(bound, codes, plan, start..end, out, &mut s, cancel);
            start = end;
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn predict_block(
        &self,
        bound: &Bound,
        codes: &[Option<FactorCodes>],
        plan: &Plan,
        rows: Range<usize>,
        out: &OutWriter,
        s: &mut TreeScratch,
        cancel: &AtomicBool,
    ) {
        let n = rows.len();
        let nf = self.features.len().max(1);
        let xs = &mut s.xs[..n * nf];
        self.load_block(bound, codes, rows.clone(), xs);
        let na_row: Vec<bool> = if self.missing == MissingRule::NaRow {
            (0..n).map(|k| xs[k * nf..(k + 1) * nf].iter().any(|&v| self.is_missing(v))).collect()
        } else {
            Vec::new()
        };
        let xs = &s.xs[..n * nf];
        let leaves = &mut s.leaves[..n];
        let acc = &mut s.acc;
        let width = plan.acc_width(self);
        match &self.agg {
            // start from init and add tree by tree, the order gbm sums in
            Aggregation::Sum { init, .. } => acc.chunks_mut(width).for_each(|a| a.copy_from_slice(&init[..width])),
            _ => acc.iter_mut().for_each(|a| *a = 0.0),
        }
        for (t, tree) in self.trees.iter().enumerate().take(plan.trees_used(self)) {
            if cancel.load(Ordering::Relaxed) {
                return;
            }
            if self.le {
                self.walk::<true>(tree, xs, nf, leaves);
            } else {
                self.walk::<false>(tree, xs, nf, leaves);
            }
            match plan.out {
                Out::Value | Out::ClassOfValue | Out::NodeProbs | Out::NodeMatrix => {
                    self.write_single(tree, plan, &rows, leaves, out);
                    return;
                }
                Out::Mean => {
                    for (a, &l) in acc.iter_mut().zip(leaves.iter()) {
                        *a += tree.values[l as usize];
                    }
                }
                Out::VoteClass | Out::VoteFraction | Out::VoteCount => {
                    let k = width;
                    for (r, &l) in leaves.iter().enumerate() {
                        // only a whole class index votes
                        let v = tree.values[l as usize];
                        if v.fract() == 0.0 && v >= 1.0 && v <= k as f64 {
                            acc[r * k + v as usize - 1] += 1.0;
                        }
                    }
                }
                Out::ProbMean => {
                    let k = width;
                    if let Some(p) = &tree.probs {
                        for (r, &l) in leaves.iter().enumerate() {
                            let src = &p[l as usize * k..(l as usize + 1) * k];
                            for (a, v) in acc[r * k..(r + 1) * k].iter_mut().zip(src) {
                                *a += v;
                            }
                        }
                    }
                }
                Out::Sum { .. } => {
                    let kc = plan.per_class;
                    let class = t % kc;
                    for (r, &l) in leaves.iter().enumerate() {
                        acc[r * kc + class] += tree.values[l as usize];
                    }
                    // after each complete iteration, emit the n.trees asked for
                    if class == kc - 1 {
                        let iter = t / kc + 1;
                        for (ci, &cp) in plan.checkpoints.iter().enumerate() {
                            if cp == iter {
                                self.write_sum(plan, ci, &rows, acc, out);
                            }
                        }
                    }
                }
            }
        }
        let used = plan.trees_used(self) as f64;
        match plan.out {
            Out::Mean => {
                let bias = match &self.agg {
                    Aggregation::Mean { bias: Some(b) } if b.len() == 2 => Some((b[0], b[1])),
                    _ => None,
                };
                for (k, r) in rows.clone().enumerate() {
                    let v = if na_row.get(k).copied().unwrap_or(false) {
                        NA_REAL
                    } else {
                        let m = acc[k] / used;
                        match bias {
                            Some((a, b)) => a + b * m,
                            None => m,
                        }
                    };
                    out.set_real(r, 0, v);
                }
            }
            Out::VoteClass | Out::VoteFraction | Out::VoteCount => {
                let k = width;
                let cutoff = match &self.agg {
                    Aggregation::Votes { cutoff: Some(c) } if c.len() == k => Some(c.as_slice()),
                    _ => None,
                };
                for (row, r) in rows.clone().enumerate() {
                    let votes = &acc[row * k..(row + 1) * k];
                    let na = na_row.get(row).copied().unwrap_or(false);
                    match plan.out {
                        Out::VoteClass => {
                            let c = if na { None } else { Some(vote_winner(votes, used, cutoff)) };
                            out.set_int(r, c.map_or(i32::MIN, |c| c as i32 + 1));
                        }
                        _ => {
                            for (c, v) in votes.iter().enumerate() {
                                let x = if na {
                                    NA_REAL
                                } else if plan.out == Out::VoteCount {
                                    *v
                                } else {
                                    v / used
                                };
                                out.set_real(r, c, x);
                            }
                        }
                    }
                }
            }
            Out::ProbMean => {
                let k = width;
                for (row, r) in rows.clone().enumerate() {
                    let na = na_row.get(row).copied().unwrap_or(false);
                    for c in 0..k {
                        out.set_real(r, c, if na { NA_REAL } else { acc[row * k + c] / used });
                    }
                }
            }
            _ => {}
        }
    }

    fn write_single(&self, tree: &Tree, plan: &Plan, rows: &Range<usize>, leaves: &[u32], out: &OutWriter) {
        for (&l, r) in leaves.iter().zip(rows.clone()) {
            let l = l as usize;
            match plan.out {
                Out::Value => out.set_real(r, 0, tree.values[l]),
                Out::ClassOfValue => {
                    let c = tree.values[l];
                    out.set_int(r, if c >= 1.0 { c as i32 } else { i32::MIN });
                }
                Out::NodeProbs => {
                    let k = self.n_probs;
                    if let Some(p) = &tree.probs {
                        for c in 0..k {
                            out.set_real(r, c, p[l * k + c]);
                        }
                    }
                }
                Out::NodeMatrix => {
                    let k = self.n_matrix;
                    if let Some(m) = &tree.matrix {
                        for c in 0..k {
                            out.set_real(r, c, m[l * k + c]);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn write_sum(&self, plan: &Plan, checkpoint: usize, rows: &Range<usize>, acc: &[f64], out: &OutWriter) {
        let transform = match &self.agg {
            Aggregation::Sum { transform, .. } => transform.as_str(),
            _ => return,
        };
        let response = matches!(plan.out, Out::Sum { response: true });
        let kc = plan.per_class;
        let mut f = vec![0.0; kc];
        for (row, r) in rows.clone().enumerate() {
            f.copy_from_slice(&acc[row * kc..(row + 1) * kc]);
            if response {
                apply_transform(transform, &mut f);
            }
            for (c, v) in f.iter().enumerate() {
                out.set_real(r, checkpoint * kc + c, *v);
            }
        }
    }

    /// Walk one tree for every row of the block, `LANES` rows at a time.
    fn walk<const LE: bool>(&self, tree: &Tree, xs: &[f64], nf: usize, leaves: &mut [u32]) {
        let n = leaves.len();
        let mut r = 0;
        while r + LANES <= n {
            let mut idx = [0u32; LANES];
            // until every walk has ended, and never longer than the tree
            // is deep (which saves a pass on shallow trees)
            for _ in 0..tree.max_depth {
                let mut moved = false;
                for j in 0..LANES {
                    let x = &xs[(r + j) * nf..(r + j + 1) * nf];
                    let next = self.advance::<LE>(tree, idx[j], x);
                    moved |= next != idx[j];
                    idx[j] = next;
                }
                if !moved {
                    break;
                }
            }
            leaves[r..r + LANES].copy_from_slice(&idx);
            r += LANES;
        }
        for (k, leaf) in leaves.iter_mut().enumerate().skip(r) {
            let x = &xs[k * nf..(k + 1) * nf];
            let mut i = 0;
            loop {
                let next = self.advance::<LE>(tree, i, x);
                if next == i {
                    break;
                }
                i = next;
            }
            *leaf = i;
        }
    }

    /// The next node from node `i` for row `x`; `i` itself when the walk
    /// ends there (a leaf, or a stop for lack of a route).
    #[inline(always)]
    fn advance<const LE: bool>(&self, tree: &Tree, i: u32, x: &[f64]) -> u32 {
        let n = &tree.nodes[i as usize];
        let f = n.feature;
        if f & LEAF != 0 {
            return i;
        }
        if f & CAT == 0 {
            let v = x[(f & FMASK) as usize];
            if f & MASK != 0 {
                // a level code (false for a missing one)
                if v >= 0.0 {
                    let left = n.threshold.to_bits() >> (v as u32) & 1 == 1;
                    return n.left + u32::from(!left);
                }
            } else if f & ROUTE == 0 || !v.is_nan() {
                // a routed node leaves the fast path only for a missing value
                let right = if LE { !(v <= n.threshold) } else { !(v < n.threshold) };
                return n.left + right as u32;
            }
        }
        self.advance_slow::<LE>(tree, i, n, x)
    }

    #[cold]
    fn advance_slow<const LE: bool>(&self, tree: &Tree, i: u32, n: &Node, x: &[f64]) -> u32 {
        let v = x[(n.feature & FMASK) as usize];
        let dir = if n.feature & CAT != 0 {
            tree.cats[n.threshold as usize].dir(v)
        } else if self.is_missing(v) || (n.feature & MASK != 0 && !(v >= 0.0)) {
            Dir::Missing
        } else if n.feature & MASK != 0 {
            if n.threshold.to_bits() >> (v as u32) & 1 == 1 {
                Dir::Left
            } else {
                Dir::Right
            }
        } else if if LE { v <= n.threshold } else { v < n.threshold } {
            Dir::Left
        } else {
            Dir::Right
        };
        match dir {
            Dir::Left => n.left,
            Dir::Right => n.left + 1,
            Dir::Missing => self.missing_route(tree, i, n, x),
        }
    }

    #[inline]
    fn is_missing(&self, v: f64) -> bool {
        v.is_nan() && (self.nan_missing || is_r_na(v))
    }

    fn missing_route(&self, tree: &Tree, i: u32, n: &Node, x: &[f64]) -> u32 {
        let iu = i as usize;
        if let (Some(&a), Some(&b)) = (tree.surr_start.get(iu), tree.surr_start.get(iu + 1)) {
            for s in &tree.surr[a as usize..b as usize] {
                let v = x[s.feature as usize];
                let dir = if s.categorical {
                    tree.cats[s.threshold as usize].dir(v)
                } else if self.is_missing(v) {
                    Dir::Missing
                } else if (v < s.threshold) == s.less_left {
                    Dir::Left
                } else {
                    Dir::Right
                };
                match dir {
                    Dir::Left => return n.left,
                    Dir::Right => return n.left + 1,
                    Dir::Missing => {}
                }
            }
        }
        match tree.missing.get(iu) {
            Some(&m) if m != u32::MAX => m,
            // no route: the walk stops here and the node predicts
            _ => i,
        }
    }
}

fn e_detail(e: &Error) -> String {
    match e {
        Error::InvalidModel { detail } => detail.clone(),
        other => other.to_string(),
    }
}

impl TreesSpec {
    fn agg_check(&self) -> Result<()> {
        match &self.aggregation {
            Aggregation::Sum { init, .. } if init.iter().any(|v| !v.is_finite()) => {
                Err(Error::invalid("'init' holds a non-finite number"))
            }
            Aggregation::Mean { bias: Some(b) } if b.iter().any(|v| !v.is_finite()) => {
                Err(Error::invalid("'bias' holds a non-finite number"))
            }
            Aggregation::Votes { cutoff: Some(c) } if c.iter().any(|v| !(v.is_finite() && *v > 0.0)) => {
                Err(Error::invalid("'cutoff' must hold positive numbers"))
            }
            Aggregation::Sum { init, n_classes, transform, default_n_trees } => {
                let k = (*n_classes).max(1);
                if init.len() != k {
                    return Err(Error::invalid("'init' needs one value per class"));
                }
                if self.trees.len() % k != 0 {
                    return Err(Error::invalid("the number of trees must be a multiple of the classes"));
                }
                if *default_n_trees == 0 || *default_n_trees > self.trees.len() / k {
                    return Err(Error::invalid("'default_n_trees' is out of range"));
                }
                if !["identity", "logistic", "exp", "adaboost", "softmax"].contains(&transform.as_str()) {
                    return Err(Error::unsupported(format!("the response transform '{transform}'")));
                }
                Ok(())
            }
            Aggregation::Mean { bias: Some(b) } if b.len() != 2 => Err(Error::invalid("'bias' needs two numbers")),
            Aggregation::Single if self.trees.len() != 1 => Err(Error::invalid("'single' needs exactly one tree")),
            _ => Ok(()),
        }
    }
}

fn apply_transform(t: &str, f: &mut [f64]) {
    match t {
        "logistic" => f.iter_mut().for_each(|v| *v = 1.0 / (1.0 + (-*v).exp())),
        "exp" => f.iter_mut().for_each(|v| *v = v.exp()),
        "adaboost" => f.iter_mut().for_each(|v| *v = 1.0 / (1.0 + (-2.0 * *v).exp())),
        "softmax" => {
            for v in f.iter_mut() {
                *v = v.exp();
            }
            let s: f64 = f.iter().sum();
            f.iter_mut().for_each(|v| *v /= s);
        }
        _ => {}
    }
}

/// The winning class (0-based): the largest `votes / n` (divided by the
/// cutoff when there is one); on a tie, the first such class. randomForest
/// and ranger break ties at random; fastpredict documents this rule.
fn vote_winner(votes: &[f64], n: f64, cutoff: Option<&[f64]>) -> usize {
    let mut best = 0;
    let mut best_v = f64::NEG_INFINITY;
    for (c, v) in votes.iter().enumerate() {
        let s = match cutoff {
            Some(cut) => (v / n) / cut[c],
            None => *v,
        };
        if s > best_v {
            best_v = s;
            best = c;
        }
    }
    best
}

fn code_value(code: u32, offset: f64) -> f64 {
    if code == NA_CODE {
        NA_REAL
    } else {
        code as f64 + offset
    }
}

/// Which features `load_block` copies for every row (`eager`) and which
/// only for rows with a missing eager feature (`lazy`); the others are
/// read by no split. A surrogate is consulted only where a main split's
/// value is missing, which is a missing eager feature unless some
/// categorical main split leaves a code in neither set: then surrogate
/// features are eager too. Only with `missing = "route"`: the other rules
/// look at every feature of a row.
fn load_plan(features: &[Feature], trees: &[Tree], route: bool) -> (Vec<usize>, Vec<usize>) {
    let nf = features.len();
    if !route {
        return ((0..nf).collect(), Vec::new());
    }
    let mut main = vec![false; nf];
    let mut surr = vec![false; nf];
    let mut gaps = false;
    for t in trees {
        for n in t.nodes.iter().filter(|n| n.feature & LEAF == 0) {
            let j = (n.feature & FMASK) as usize;
            main[j] = true;
            if n.feature & CAT != 0 {
                let f = &features[j];
                let codes = f.levels.as_ref().map_or(0, |l| l.len()) + usize::from(f.unseen == Unseen::Last);
                let set = &t.cats[n.threshold as usize];
                gaps |= (0..codes).any(|c| set.dir(c as f64) == Dir::Missing);
            }
        }
        for s in &t.surr {
            surr[s.feature as usize] = true;
        }
    }
    let eager = (0..nf).filter(|&j| main[j] || (gaps && surr[j])).collect();
    let lazy = (0..nf).filter(|&j| !gaps && surr[j] && !main[j]).collect();
    (eager, lazy)
}

/// Check a tree and lay it out breadth-first with adjacent children.
/// Returns the tree and its mean leaf depth.
fn build_tree(
    t: &TreeSpec,
    features: &[Feature],
    route: bool,
    n_probs: usize,
    n_matrix: usize,
) -> Result<(Tree, usize)> {
    let n = t.feature.len();
    if n == 0 {
        return Err(Error::invalid("empty tree"));
    }
    let implicit;
    let (left, right) = if t.left.is_empty() && t.right.is_empty() {
        implicit = t.implicit_children();
        (&implicit.0, &implicit.1)
    } else {
        (&t.left, &t.right)
    };
    for (name, len) in
        [("threshold", t.threshold.len()), ("left", left.len()), ("right", right.len()), ("value", t.value.len())]
    {
        if len != n {
            return Err(Error::invalid(format!("'{name}' has {len} entries for {n} nodes")));
        }
    }
    Error::check_finite("node values", &t.value)?;
    for payload in [&t.probs, &t.matrix].into_iter().flatten() {
        Error::check_finite("node payloads", payload)?;
    }
    if let Some(m) = &t.missing {
        if m.len() != n {
            return Err(Error::invalid("'missing' has the wrong length"));
        }
    }
    for (what, arr, width) in [("probs", &t.probs, n_probs), ("matrix", &t.matrix, n_matrix)] {
        if let Some(a) = arr {
            if a.len() != n * width {
                return Err(Error::invalid(format!("'{what}' needs {width} values per node")));
            }
        } else if width > 0 {
            return Err(Error::invalid(format!("every tree needs '{what}'")));
        }
    }
    let cats_spec = t.categories.as_deref().unwrap_or(&[]);
    let cats: Vec<CatSet> = cats_spec
        .iter()
        .map(|c| {
            let words = |v: &[u32]| {
                let mut w = vec![0u64; v.iter().max().map_or(0, |m| *m as usize / 64 + 1)];
                for &x in v {
                    w[x as usize / 64] |= 1 << (x % 64);
                }
                w
            };
            CatSet { left: words(&c.left), right: words(&c.right) }
        })
        .collect();
    let child = |c: i32, i: usize, side: &str| -> Result<usize> {
        if c < 0 || c as usize >= n || c as usize == i {
            return Err(Error::invalid(format!("node {i} has an invalid {side} child {c}")));
        }
        Ok(c as usize)
    };
    let missing_of = |i: usize| -> Option<i32> {
        match &t.missing {
            Some(mv) if route && mv[i] >= 0 => Some(mv[i]),
            _ => None,
        }
    };
    let mut depth = vec![0usize; n];
    let (order, new_of) = if let Some(d) = adjacent_layout(t, left, right, &missing_of) {
        // children already adjacent and after their parent (randomForest,
        // ranger): keep the order, which saves the re-layout
        depth = d;
        ((0..n).collect::<Vec<_>>(), (0..n as u32).collect::<Vec<_>>())
    } else {
        // breadth-first order, children adjacent
        let mut order = Vec::with_capacity(n);
        let mut new_of = vec![u32::MAX; n];
        order.push(0usize);
        new_of[0] = 0;
        let mut head = 0;
        while head < order.len() {
            let i = order[head];
            head += 1;
            if t.feature[i] < 0 {
                continue;
            }
            let (l, r) = (child(left[i], i, "left")?, child(right[i], i, "right")?);
            // left and right adjacent; a distinct missing child (gbm) anywhere
            let m = match missing_of(i) {
                Some(mv) => Some(child(mv, i, "missing")?).filter(|&m| m != l && m != r),
                None => None,
            };
            for c in [Some(l), Some(r), m].into_iter().flatten() {
                if new_of[c] != u32::MAX {
                    return Err(Error::invalid(format!("node {c} is reached twice")));
                }
                new_of[c] = order.len() as u32;
                depth[c] = depth[i] + 1;
                order.push(c);
            }
        }
        (order, new_of)
    };
    let m = order.len();
    let mut nodes = Vec::with_capacity(m);
    let mut missing = if route { vec![u32::MAX; m] } else { Vec::new() };
    let mut leaf_depths = 0usize;
    let mut n_leaves = 0usize;
    for (k, &i) in order.iter().enumerate() {
        if t.feature[i] < 0 {
            nodes.push(Node { threshold: 0.0, feature: LEAF, left: 0 });
            leaf_depths += depth[i];
            n_leaves += 1;
            continue;
        }
        let f = t.feature[i] as usize;
        let feat = features.get(f).ok_or_else(|| Error::invalid(format!("node {i} splits on unknown feature {f}")))?;
        let mut flags = f as u32;
        let mut threshold = t.threshold[i];
        if feat.kind == FeatureKind::Categorical {
            if !(threshold >= 0.0) || threshold as usize >= cats.len() || threshold.fract() != 0.0 {
                return Err(Error::invalid(format!("node {i} refers to category set {threshold}")));
            }
            match left_mask(&cats[threshold as usize], feat) {
                Some(mask) => {
                    flags |= MASK;
                    threshold = f64::from_bits(mask);
                }
                None => flags |= CAT,
            }
        } else if !threshold.is_finite() {
            return Err(Error::invalid(format!("node {i} has a non-finite threshold")));
        }
        if route {
            flags |= ROUTE;
            if let Some(mv) = &t.missing {
                if mv[i] >= 0 {
                    missing[k] = new_of[child(mv[i], i, "missing")?];
                }
            }
        }
        let left = new_of[child(left[i], i, "left")?];
        if new_of[child(right[i], i, "right")?] != left + 1 {
            return Err(Error::invalid("internal layout error"));
        }
        nodes.push(Node { threshold, feature: flags, left });
    }
    let gather = |src: &[f64], w: usize| -> Vec<f64> {
        let mut out = Vec::with_capacity(m * w);
        for &i in &order {
            out.extend_from_slice(&src[i * w..(i + 1) * w]);
        }
        out
    };
    let (surr_start, surr) = match &t.surrogates {
        None => (Vec::new(), Vec::new()),
        Some(s) => build_surrogates(s, n, &order, features, cats.len())?,
    };
    if !route && (!surr.is_empty() || t.missing.as_ref().is_some_and(|m| m.iter().any(|&c| c >= 0))) {
        return Err(Error::invalid("missing-value routes need missing = \"route\""));
    }
    Ok((
        Tree {
            nodes,
            values: gather(&t.value, 1),
            probs: t.probs.as_ref().map(|p| gather(p, n_probs)),
            matrix: t.matrix.as_ref().map(|p| gather(p, n_matrix)),
            missing,
            cats,
            surr_start,
            surr,
            max_depth: depth.iter().copied().max().unwrap_or(0),
        },
        leaf_depths / n_leaves.max(1),
    ))
}

/// The mask of the codes a set sends left, if every code the feature can
/// take (its levels, plus one for unseen levels sorted last) is below 64
/// and goes left or right.
fn left_mask(set: &CatSet, feat: &Feature) -> Option<u64> {
    let codes = feat.levels.as_ref().map_or(0, |l| l.len()) + usize::from(feat.unseen == Unseen::Last);
    if codes == 0 || codes > 64 {
        return None;
    }
    let mut mask = 0u64;
    for c in 0..codes {
        match set.dir(c as f64) {
            Dir::Left => mask |= 1 << c,
            Dir::Right => {}
            Dir::Missing => return None,
        }
    }
    Some(mask)
}

/// Node depths, if the tree can keep its own order: every split reachable,
/// its children adjacent (right = left + 1), after it, each with one
/// parent, and no distinct missing child. `None` otherwise.
fn adjacent_layout(
    t: &TreeSpec,
    left: &[i32],
    right: &[i32],
    missing_of: &dyn Fn(usize) -> Option<i32>,
) -> Option<Vec<usize>> {
    let n = t.feature.len();
    let mut depth = vec![usize::MAX; n];
    depth[0] = 0;
    for i in 0..n {
        if t.feature[i] < 0 {
            continue;
        }
        if depth[i] == usize::MAX {
            // an unreachable split: the breadth-first layout leaves it out
            return None;
        }
        let (l, r) = (left[i], right[i]);
        if l <= i as i32 || r != l + 1 || r as usize >= n {
            return None;
        }
        let (l, r) = (l as usize, r as usize);
        if depth[l] != usize::MAX || depth[r] != usize::MAX {
            return None;
        }
        if missing_of(i).is_some_and(|m| m as usize != l && m as usize != r) {
            return None;
        }
        depth[l] = depth[i] + 1;
        depth[r] = depth[i] + 1;
    }
    Some(depth.into_iter().map(|d| if d == usize::MAX { 0 } else { d }).collect())
}

fn build_surrogates(
    s: &Surrogates,
    n: usize,
    order: &[usize],
    features: &[Feature],
    n_cats: usize,
) -> Result<(Vec<u32>, Vec<Surrogate>)> {
    if s.start.len() != n + 1 || s.start.windows(2).any(|w| w[0] > w[1]) {
        return Err(Error::invalid("surrogate 'start' must have one more entry than nodes, increasing"));
    }
    let total = s.start[n] as usize;
    if s.feature.len() != total || s.threshold.len() != total || s.less_left.len() != total {
        return Err(Error::invalid("surrogate arrays differ in length"));
    }
    let mut start = Vec::with_capacity(order.len() + 1);
    let mut out = Vec::with_capacity(total);
    start.push(0u32);
    for &i in order {
        for e in s.start[i] as usize..s.start[i + 1] as usize {
            let f = s.feature[e] as usize;
            let feat = features.get(f).ok_or_else(|| Error::invalid(format!("surrogate on unknown feature {f}")))?;
            let categorical = feat.kind == FeatureKind::Categorical;
            if categorical && !(s.threshold[e] >= 0.0 && (s.threshold[e] as usize) < n_cats) {
                return Err(Error::invalid("surrogate refers to a missing category set"));
            }
            out.push(Surrogate {
                feature: f as u32,
                threshold: s.threshold[e],
                categorical,
                less_left: s.less_left[e],
            });
        }
        start.push(out.len() as u32);
    }
    Ok((start, out))
}

/// What a call computes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Out {
    Value,
    ClassOfValue,
    NodeProbs,
    NodeMatrix,
    Mean,
    VoteClass,
    VoteFraction,
    VoteCount,
    ProbMean,
    Sum { response: bool },
}

#[derive(Debug, Clone)]
pub struct Plan {
    out: Out,
    checkpoints: Vec<usize>,
    per_class: usize,
    pub shape: OutputShape,
}

impl Plan {
    fn trees_used(&self, m: &TreeModel) -> usize {
        match self.out {
            Out::Sum { .. } => self.checkpoints.iter().max().copied().unwrap_or(0) * self.per_class,
            _ => self.checkpoints.first().copied().unwrap_or(m.trees.len()).min(m.trees.len()),
        }
    }

    fn acc_width(&self, m: &TreeModel) -> usize {
        match self.out {
            Out::Mean => 1,
            Out::VoteClass | Out::VoteFraction | Out::VoteCount | Out::ProbMean => {
                m.classes.as_ref().map_or(0, |c| c.len())
            }
            Out::Sum { .. } => self.per_class,
            _ => 0,
        }
    }
}

struct TreeScratch {
    xs: Vec<f64>,
    leaves: Vec<u32>,
    acc: Vec<f64>,
}

impl TreeScratch {
    fn new(block: usize, nf: usize, plan: &Plan, m: &TreeModel) -> TreeScratch {
        TreeScratch {
            xs: vec![0.0; block * nf],
            leaves: vec![0; block],
            acc: vec![0.0; block * plan.acc_width(m).max(1)],
        }
    }
}

/// Writes predictions into the caller's output (column-major, `nrows`
/// rows). Row ranges handed to different threads are disjoint, which is
/// what makes the shared writes sound.
pub struct OutWriter {
    real: *mut f64,
    int: *mut i32,
    nrows: usize,
    len: usize,
}

// SAFETY: every task writes only the rows of its own disjoint range.
unsafe impl Send for OutWriter {}
unsafe impl Sync for OutWriter {}

impl OutWriter {
    pub fn real(out: &mut [f64], nrows: usize) -> OutWriter {
        OutWriter { real: out.as_mut_ptr(), int: std::ptr::null_mut(), nrows, len: out.len() }
    }

    pub fn int(out: &mut [i32], nrows: usize) -> OutWriter {
        OutWriter { real: std::ptr::null_mut(), int: out.as_mut_ptr(), nrows, len: out.len() }
    }

    #[inline]
    fn set_real(&self, row: usize, col: usize, v: f64) {
        let i = col * self.nrows + row;
        assert!(i < self.len && !self.real.is_null());
        // SAFETY: in bounds (checked), and no other task writes this row.
        unsafe { *self.real.add(i) = v }
    }

    #[inline]
    fn set_int(&self, row: usize, v: i32) {
        assert!(row < self.len && !self.int.is_null());
        // SAFETY: as above.
        unsafe { *self.int.add(row) = v }
    }
}

#[cfg(test)]
mod tests;
