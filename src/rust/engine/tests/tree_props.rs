//! Property tests for tree models.
//!
//! `trees.rs` re-lays trees out breadth-first, packs nodes into 16 bytes
//! with flag bits, turns small full partitions into inline bitmasks, loads
//! surrogate-only features lazily and walks 8 rows in lockstep. None of
//! that is visible in the format, so here a plain recursive walk over the
//! document's own arrays (`reference`) predicts random trees and rows, and
//! the engine must agree with it. Further properties: thread-count
//! independence, exact JSON and split-gzip round trips, and invariance
//! under renumbering the nodes (explicit or implicit children).

// A test may unwrap and panic: that is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::{config, TempDir};
use std::collections::HashMap;
use std::fmt;
use std::fs;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use fastpredict_engine::format::{
    format_version, Aggregation, CategorySet, FeatureKind, FeatureSpec, InputSpec, InputType, MissingRule, ModelKind,
    NanRule, Producer, SplitRule, Surrogates, TreeSpec, TreesSpec, UnseenRule, FORMAT_NAME,
};
use fastpredict_engine::{io, Column, Error, Frame, Model, ModelDoc, OutBuf, PredictOptions, ValueKind};
use fastpredict_engine::{NA_INTEGER, NA_REAL};

// ---------------------------------------------------------------------------
// Random details. Proptest draws the shape of a case (knobs that shrink);
// the details come from SplitMix64 streams keyed by (seed, index), so that
// shrinking the number of trees or rows leaves the others unchanged.

#[derive(Clone)]
struct Rng(u64);

fn finalize(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    fn new(seed: u64, stream: u64) -> Rng {
        Rng(finalize(seed.wrapping_add(finalize(stream ^ 0x5DEE_CE66_D1CE_4E5B))))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        finalize(self.0)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }

    fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            xs.swap(i, self.below(i + 1));
        }
    }
}

// Stream numbers of the document seed (features, trees, options) and of the
// row seed (column set-up; rows use their own index).
const S_FEATURE: u64 = 1 << 40;
const S_TREE: u64 = 2 << 40;
const S_DOC: u64 = 3 << 40;
const S_COLUMN: u64 = 4 << 40;

// ---------------------------------------------------------------------------
// Owned test data. `Frame` only borrows, so the data lives here.

#[derive(Debug, Clone)]
enum ColData {
    Real(Vec<f64>),
    Int(Vec<i32>),
    /// 1-based codes into the data's own levels (shuffled, with extras).
    Factor {
        codes: Vec<i32>,
        levels: Vec<String>,
    },
    Str(Vec<Option<String>>),
}

impl ColData {
    fn column(&self) -> Column<'_> {
        match self {
            ColData::Real(x) => Column::Real(x),
            ColData::Int(x) => Column::Int(x),
            ColData::Factor { codes, levels } => {
                Column::Factor { codes, levels: levels.iter().map(String::as_str).collect() }
            }
            ColData::Str(s) => Column::Str(s.iter().map(|v| v.as_deref()).collect()),
        }
    }

    fn len(&self) -> usize {
        match self {
            ColData::Real(x) => x.len(),
            ColData::Int(x) => x.len(),
            ColData::Factor { codes, .. } => codes.len(),
            ColData::Str(s) => s.len(),
        }
    }

    /// The number a numeric feature reads (integer NA becomes NA_real_).
    fn number(&self, r: usize) -> f64 {
        match self {
            ColData::Real(x) => x[r],
            ColData::Int(x) if x[r] == NA_INTEGER => NA_REAL,
            ColData::Int(x) => x[r] as f64,
            _ => panic!("not a numeric column"),
        }
    }

    /// The level name a categorical feature reads; `None` is missing.
    fn name(&self, r: usize) -> Option<&str> {
        match self {
            ColData::Factor { codes, levels } if codes[r] != NA_INTEGER => Some(&levels[codes[r] as usize - 1]),
            ColData::Factor { .. } => None,
            ColData::Str(s) => s[r].as_deref(),
            _ => panic!("not a categorical column"),
        }
    }

    fn show(&self, r: usize) -> String {
        match self {
            ColData::Real(_) | ColData::Int(_) => {
                let v = self.number(r);
                if is_na(v) {
                    format!("NA({:#x})", v.to_bits())
                } else if v.is_nan() {
                    format!("NaN({:#x})", v.to_bits())
                } else {
                    format!("{v:?}")
                }
            }
            _ => format!("{:?}", self.name(r)),
        }
    }
}

#[derive(Clone)]
struct Data {
    nrows: usize,
    cols: Vec<(String, ColData)>,
}

impl Data {
    fn frame(&self) -> Frame<'_> {
        let mut f = Frame::with_capacity(self.cols.len());
        for (name, col) in &self.cols {
            f.push(name, col.column());
        }
        f.set_nrows(self.nrows);
        f
    }

    fn get(&self, name: &str) -> &ColData {
        &self.cols.iter().find(|c| c.0 == name).expect("column").1
    }

    fn show_row(&self, r: usize) -> String {
        self.cols.iter().map(|(n, c)| format!("{n}={}", c.show(r))).collect::<Vec<_>>().join(", ")
    }
}

/// R's `ISNA()`, written here rather than taken from the engine.
fn is_na(v: f64) -> bool {
    v.is_nan() && v.to_bits() & 0xFFFF_FFFF == 1954
}

/// The neighbouring double of a finite `x` (`next_up` needs Rust 1.86).
fn one_ulp(x: f64, up: bool) -> f64 {
    if x == 0.0 {
        return if up { f64::from_bits(1) } else { -f64::from_bits(1) };
    }
    let b = x.to_bits();
    f64::from_bits(if (x > 0.0) == up { b + 1 } else { b - 1 })
}

/// R's NA with the quiet bit set, as arithmetic leaves it.
const NA_QUIET: f64 = f64::from_bits(0x7FF8_0000_0000_07A2);

// ---------------------------------------------------------------------------
// The reference: a recursive walk over the document's arrays, following
// FORMAT.md ("The trees section") word for word.

/// A feature value as the walk sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fv {
    Missing,
    /// Numeric and codes features (may be a NaN that is not missing).
    Num(f64),
    /// Categorical features: the 0-based level code.
    Code(u32),
}

#[derive(Debug, Clone, PartialEq)]
enum RefErr {
    /// The exact error (unseen levels name the column and level).
    Exact(Error),
    /// `missing = "error"`: a bad-argument error naming this column.
    MissingIn(String),
}

/// Predictions, column-major.
#[derive(Debug, Clone)]
enum Pred {
    Real(Vec<f64>),
    Int(Vec<i32>),
}

impl Pred {
    /// Bits, for exact comparisons (NaN payloads included).
    fn bits(&self) -> (bool, Vec<u64>) {
        match self {
            Pred::Real(v) => (false, v.iter().map(|x| x.to_bits()).collect()),
            Pred::Int(v) => (true, v.iter().map(|x| *x as u32 as u64).collect()),
        }
    }
}

/// Children, spelled out when the document leaves them implicit.
fn children(t: &TreeSpec) -> (Vec<i32>, Vec<i32>) {
    if !(t.left.is_empty() && t.right.is_empty()) {
        return (t.left.clone(), t.right.clone());
    }
    let mut k = 0;
    let mut left = Vec::new();
    let mut right = Vec::new();
    for &f in &t.feature {
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

/// Feature values of every row (row-major), or the error the call must give.
fn ref_values(spec: &TreesSpec, data: &Data) -> Result<Vec<Vec<Fv>>, RefErr> {
    let n = data.nrows;
    let nan_missing = spec.nan != Some(NanRule::Compare);
    let mut vals = vec![vec![Fv::Missing; spec.features.len()]; n];
    // features in order, rows in order: the first unseen level is the error
    for (j, f) in spec.features.iter().enumerate() {
        let col = data.get(&f.input);
        if f.kind == FeatureKind::Numeric {
            for (r, row) in vals.iter_mut().enumerate() {
                let x = col.number(r);
                row[j] = if x.is_nan() && (nan_missing || is_na(x)) { Fv::Missing } else { Fv::Num(x) };
            }
            continue;
        }
        let levels = f.levels.as_ref().expect("levels");
        let by_name: HashMap<&str, usize> = levels.iter().enumerate().map(|(i, l)| (l.as_str(), i)).collect();
        let code = |c: usize| match f.kind {
            FeatureKind::Categorical => Fv::Code(c as u32),
            _ => Fv::Num(c as f64 + f.code_offset.unwrap_or(0.0)),
        };
        for (r, row) in vals.iter_mut().enumerate() {
            row[j] = match col.name(r) {
                None => Fv::Missing,
                Some(s) => match by_name.get(s) {
                    Some(&c) => code(c),
                    None => match f.unseen.unwrap_or(UnseenRule::Error) {
                        UnseenRule::Error => {
                            return Err(RefErr::Exact(Error::UnseenLevel {
                                column: f.input.clone(),
                                level: s.to_string(),
                            }))
                        }
                        UnseenRule::Missing => Fv::Missing,
                        UnseenRule::Last => code(levels.len()),
                    },
                },
            };
        }
    }
    if spec.missing == MissingRule::Error {
        for (j, f) in spec.features.iter().enumerate() {
            if vals.iter().any(|row| row[j] == Fv::Missing) {
                return Err(RefErr::MissingIn(f.input.clone()));
            }
        }
    }
    Ok(vals)
}

/// Which way a split (or surrogate) on feature `j` with `threshold` sends
/// value `x`: `Some(true)` left, `Some(false)` right, `None` undecided.
/// `surrogate` compares with `<` whatever `split` says.
fn decide(spec: &TreesSpec, t: &TreeSpec, j: usize, threshold: f64, x: Fv, surrogate: Option<bool>) -> Option<bool> {
    match (spec.features[j].kind, x) {
        (_, Fv::Missing) => None,
        (FeatureKind::Categorical, Fv::Code(c)) => {
            let set = &t.categories.as_ref().expect("categories")[threshold as usize];
            if set.left.contains(&c) {
                Some(true)
            } else if set.right.contains(&c) {
                Some(false)
            } else {
                None
            }
        }
        (_, Fv::Num(v)) => Some(match surrogate {
            Some(less_left) => (v < threshold) == less_left,
            None if spec.split == SplitRule::Le => v <= threshold,
            None => v < threshold,
        }),
        (k, v) => panic!("feature kind {k:?} with value {v:?}"),
    }
}

/// The node a row reaches, walking from node `i`.
fn reach(spec: &TreesSpec, t: &TreeSpec, kids: &(Vec<i32>, Vec<i32>), i: usize, x: &[Fv]) -> usize {
    if t.feature[i] < 0 {
        return i;
    }
    let j = t.feature[i] as usize;
    let go = |c: i32| reach(spec, t, kids, c as usize, x);
    match decide(spec, t, j, t.threshold[i], x[j], None) {
        Some(true) => return go(kids.0[i]),
        Some(false) => return go(kids.1[i]),
        None => {}
    }
    if spec.missing == MissingRule::Route {
        if let Some(s) = &t.surrogates {
            for e in s.start[i] as usize..s.start[i + 1] as usize {
                let g = s.feature[e] as usize;
                match decide(spec, t, g, s.threshold[e], x[g], Some(s.less_left[e])) {
                    Some(true) => return go(kids.0[i]),
                    Some(false) => return go(kids.1[i]),
                    None => {}
                }
            }
        }
        if let Some(m) = &t.missing {
            if m[i] >= 0 {
                return go(m[i]);
            }
        }
    }
    // no route: the walk ends at the split node
    i
}

fn transform(name: &str, f: &mut [f64]) {
    match name {
        "identity" => {}
        "logistic" => f.iter_mut().for_each(|v| *v = 1.0 / (1.0 + (-*v).exp())),
        "exp" => f.iter_mut().for_each(|v| *v = v.exp()),
        "adaboost" => f.iter_mut().for_each(|v| *v = 1.0 / (1.0 + (-2.0 * *v).exp())),
        "softmax" => {
            let e: Vec<f64> = f.iter().map(|v| v.exp()).collect();
            let s: f64 = e.iter().sum();
            for (v, e) in f.iter_mut().zip(e) {
                *v = e / s;
            }
        }
        other => panic!("transform {other}"),
    }
}

fn reference(doc: &ModelDoc, data: &Data, opts: &PredictOptions) -> Result<Pred, RefErr> {
    let spec = doc.trees.as_ref().expect("trees");
    let vals = ref_values(spec, data)?;
    let n = data.nrows;
    let na_row: Vec<bool> =
        vals.iter().map(|row| spec.missing == MissingRule::NaRow && row.contains(&Fv::Missing)).collect();
    let type_ = opts.type_.clone().unwrap_or_else(|| spec.default_type.clone());
    let k = spec.classes.as_ref().map_or(0, |c| c.len());
    let kids: Vec<_> = spec.trees.iter().map(children).collect();
    let node = |t: usize, r: usize| reach(spec, &spec.trees[t], &kids[t], 0, &vals[r]);
    let width = |a: &Option<Vec<f64>>, t: &TreeSpec| a.as_ref().map_or(0, |v| v.len() / t.feature.len());
    // rows x cols, column-major
    let fill = |cols: usize, f: &dyn Fn(usize, &mut [f64])| {
        let mut out = vec![0.0; n * cols];
        let mut row = vec![0.0; cols];
        for r in 0..n {
            f(r, &mut row);
            for (c, v) in row.iter().enumerate() {
                out[c * n + r] = *v;
            }
        }
        Pred::Real(out)
    };
    let used = match (&spec.aggregation, &opts.n_trees) {
        (Aggregation::Sum { .. }, _) | (_, None) => spec.trees.len(),
        (_, Some(v)) => v[0],
    };
    let out = match &spec.aggregation {
        Aggregation::Single => {
            let t = &spec.trees[0];
            let reached: Vec<usize> = (0..n).map(|r| node(0, r)).collect();
            match type_.as_str() {
                "vector" => Pred::Real(reached.iter().map(|&i| t.value[i]).collect()),
                "class" => Pred::Int(
                    reached.iter().map(|&i| if t.value[i] >= 1.0 { t.value[i] as i32 } else { NA_INTEGER }).collect(),
                ),
                "prob" => {
                    let w = width(&t.probs, t);
                    let p = t.probs.as_ref().expect("probs");
                    fill(w, &|r, row| row.copy_from_slice(&p[reached[r] * w..(reached[r] + 1) * w]))
                }
                "matrix" => match &t.matrix {
                    Some(m) => {
                        let w = width(&t.matrix, t);
                        fill(w, &|r, row| row.copy_from_slice(&m[reached[r] * w..(reached[r] + 1) * w]))
                    }
                    None => Pred::Real(reached.iter().map(|&i| t.value[i]).collect()),
                },
                other => panic!("type {other}"),
            }
        }
        Aggregation::Mean { bias } => Pred::Real(
            (0..n)
                .map(|r| {
                    if na_row[r] {
                        return NA_REAL;
                    }
                    let mut s = 0.0;
                    for t in 0..used {
                        s += spec.trees[t].value[node(t, r)];
                    }
                    let m = s / used as f64;
                    match bias {
                        Some(b) => b[0] + b[1] * m,
                        None => m,
                    }
                })
                .collect(),
        ),
        Aggregation::Votes { cutoff } => {
            let votes: Vec<Vec<f64>> = (0..n)
                .map(|r| {
                    let mut v = vec![0.0; k];
                    for t in 0..used {
                        let c = spec.trees[t].value[node(t, r)];
                        // a value that is no class index is no vote
                        if c.fract() == 0.0 && c >= 1.0 && c <= k as f64 {
                            v[c as usize - 1] += 1.0;
                        }
                    }
                    v
                })
                .collect();
            let nu = used as f64;
            match type_.as_str() {
                "response" => Pred::Int(
                    (0..n)
                        .map(|r| {
                            if na_row[r] {
                                return NA_INTEGER;
                            }
                            let score = |c: usize| match cutoff {
                                Some(cut) => (votes[r][c] / nu) / cut[c],
                                None => votes[r][c],
                            };
                            // the largest score; the first class on a tie
                            let mut best = 0;
                            for c in 1..k {
                                if score(c) > score(best) {
                                    best = c;
                                }
                            }
                            best as i32 + 1
                        })
                        .collect(),
                ),
                _ => {
                    let counts = type_ == "vote" && opts.norm_votes == Some(false);
                    fill(k, &|r, row| {
                        for c in 0..k {
                            row[c] = if na_row[r] {
                                NA_REAL
                            } else if counts {
                                votes[r][c]
                            } else {
                                votes[r][c] / nu
                            };
                        }
                    })
                }
            }
        }
        Aggregation::ProbMean => fill(k, &|r, row| {
            for (c, slot) in row.iter_mut().enumerate() {
                *slot = if na_row[r] {
                    NA_REAL
                } else {
                    let mut s = 0.0;
                    for t in 0..used {
                        s += spec.trees[t].probs.as_ref().expect("probs")[node(t, r) * k + c];
                    }
                    s / used as f64
                };
            }
        }),
        Aggregation::Sum { init, n_classes, transform: tf, default_n_trees } => {
            let cc = (*n_classes).max(1);
            let ns = opts.n_trees.clone().unwrap_or_else(|| vec![*default_n_trees]);
            let response = type_ == "response";
            fill(cc * ns.len(), &|r, row| {
                for (ci, &iters) in ns.iter().enumerate() {
                    let mut f: Vec<f64> = (0..cc)
                        .map(|c| {
                            let mut v = init[c];
                            for t in (c..iters * cc).step_by(cc) {
                                v += spec.trees[t].value[node(t, r)];
                            }
                            v
                        })
                        .collect();
                    if response {
                        transform(tf, &mut f);
                    }
                    row[ci * cc..(ci + 1) * cc].copy_from_slice(&f);
                }
            })
        }
    };
    Ok(out)
}

// ---------------------------------------------------------------------------
// Random documents.

#[derive(Debug, Clone, Copy, PartialEq)]
enum AggKind {
    Single,
    Mean,
    Votes,
    ProbMean,
    Sum,
}

/// The shrinkable shape of a case.
#[derive(Debug, Clone)]
struct Knobs {
    /// (kind: 0 numeric, 1 codes, 2 categorical; number of levels).
    features: Vec<(u8, usize)>,
    agg: AggKind,
    missing: MissingRule,
    nan_compare: bool,
    le: bool,
    n_trees: usize,
    max_depth: usize,
    /// 0: no missing values (NaN only where it is not missing); 1: missing
    /// values and unseen levels; 2: also unseen levels that are errors.
    dirt: u8,
    nrows: usize,
    doc_seed: u64,
    row_seed: u64,
}

fn arb_knobs(
    rows: impl Strategy<Value = usize>,
    trees: impl Strategy<Value = usize>,
    dirt: impl Strategy<Value = u8>,
) -> impl Strategy<Value = Knobs> {
    let levels = prop_oneof![2usize..=8, 9usize..=70, 60usize..=66];
    let agg = prop_oneof![
        Just(AggKind::Single),
        Just(AggKind::Mean),
        Just(AggKind::Votes),
        Just(AggKind::ProbMean),
        Just(AggKind::Sum)
    ];
    let missing = prop_oneof![Just(MissingRule::Route), Just(MissingRule::NaRow), Just(MissingRule::Error)];
    (
        vec((0u8..3, levels), 1..=8),
        agg,
        missing,
        any::<bool>(),
        any::<bool>(),
        trees,
        0usize..=10,
        dirt,
        rows,
        any::<u64>(),
        any::<u64>(),
    )
        .prop_map(
            |(features, agg, missing, nan_compare, le, n_trees, max_depth, dirt, nrows, doc_seed, row_seed)| {
                // na_row goes with mean, votes and prob_mean only
                let missing = match (missing, agg) {
                    (MissingRule::NaRow, AggKind::Single | AggKind::Sum) => MissingRule::Route,
                    (m, _) => m,
                };
                Knobs { features, agg, missing, nan_compare, le, n_trees, max_depth, dirt, nrows, doc_seed, row_seed }
            },
        )
}

struct FeatInfo {
    kind: FeatureKind,
    input: String,
    levels: Vec<String>,
    offset: f64,
    unseen: UnseenRule,
    /// Split points of numeric and codes features; rows hit them exactly.
    grid: Vec<f64>,
    int_column: bool,
}

fn feature_infos(k: &Knobs) -> Vec<FeatInfo> {
    k.features
        .iter()
        .enumerate()
        .map(|(j, &(kind, nl))| {
            let mut rng = Rng::new(k.doc_seed, S_FEATURE + j as u64);
            let kind = [FeatureKind::Numeric, FeatureKind::Codes, FeatureKind::Categorical][kind as usize];
            let input = format!("v{j}{}", ["", " é", ".x"][j % 3]);
            if kind == FeatureKind::Numeric {
                let int_column = rng.chance(0.2);
                let grid = (0..3 + rng.below(6))
                    .map(|_| match rng.below(4) {
                        0 => rng.below(17) as f64 - 8.0,
                        1 => (rng.range(-10.0, 10.0) * 4.0).round() / 4.0,
                        _ => rng.range(-10.0, 10.0),
                    })
                    .collect();
                return FeatInfo {
                    kind,
                    input,
                    levels: Vec::new(),
                    offset: 0.0,
                    unseen: UnseenRule::Error,
                    grid,
                    int_column,
                };
            }
            let levels: Vec<String> = (0..nl).map(|i| format!("{}{i}", ["l", "lév ", "L\""][j % 3])).collect();
            let offset = if kind == FeatureKind::Codes { rng.pick(&[0.0, 1.0, 1.0, 0.5, -2.0]) } else { 0.0 };
            let unseen = rng.pick(&[UnseenRule::Error, UnseenRule::Missing, UnseenRule::Last]);
            let grid = (0..4 + rng.below(6))
                .map(|_| rng.below(nl + 1) as f64 + offset + rng.pick(&[-0.5, 0.0, 0.0, 0.5, 0.25]))
                .collect();
            FeatInfo { kind, input, levels, offset, unseen, grid, int_column: false }
        })
        .collect()
}

/// What every tree of a document shares.
struct DocCtx {
    feats: Vec<FeatInfo>,
    route: bool,
    agg: AggKind,
    /// Number of classes (0 for regression).
    k: usize,
    with_probs: bool,
    m_width: usize,
    /// Main splits use features `0..main_features`; surrogates any, so
    /// that some features are read only by surrogates (loaded lazily).
    main_features: usize,
    /// Only full partitions: no level falls through to a surrogate, which
    /// is what lets the engine load surrogate-only features lazily.
    full_sets: bool,
}

#[derive(Debug, Clone, Copy)]
enum AMiss {
    No,
    Left,
    Right,
    /// A distinct third child, as gbm has.
    Third(usize),
}

struct ASplit {
    feature: usize,
    threshold: f64,
    left: usize,
    right: usize,
    missing: AMiss,
    surr: Vec<(u32, f64, bool)>,
}

/// A node of an abstract tree; arena index 0 is the root.
struct ANode {
    split: Option<ASplit>,
    value: f64,
    probs: Vec<f64>,
    matrix: Vec<f64>,
    /// A leaf's threshold, which the walk must ignore.
    junk: f64,
}

struct TreeGen<'a> {
    rng: Rng,
    ctx: &'a DocCtx,
    arena: Vec<ANode>,
    cats: Vec<CategorySet>,
}

impl TreeGen<'_> {
    fn payload(&mut self, leaf: bool) -> (f64, Vec<f64>, Vec<f64>) {
        let (ctx, k) = (self.ctx, self.ctx.k);
        let rng = &mut self.rng;
        let value = match ctx.agg {
            AggKind::Single if k > 0 => (1 + rng.below(k)) as f64,
            AggKind::Single | AggKind::Mean => {
                if rng.chance(0.2) {
                    rng.below(7) as f64
                } else {
                    rng.range(-50.0, 50.0)
                }
            }
            AggKind::Votes if leaf => (1 + rng.below(k)) as f64,
            // a walk may stop at a split node: its value may be no class index
            AggKind::Votes => rng.pick(&[0.0, 0.0, 1.0, k as f64, -1.0, (k + 1) as f64]),
            AggKind::ProbMean => 0.0,
            AggKind::Sum => rng.range(-1.0, 1.0),
        };
        let probs = if ctx.with_probs { (0..k).map(|_| rng.unit()).collect() } else { Vec::new() };
        let matrix = (0..ctx.m_width).map(|_| rng.range(-5.0, 5.0)).collect();
        (value, probs, matrix)
    }

    /// A category set over the codes feature `j` can take: full partitions
    /// (the inline-mask path when there are at most 64 codes) and partial
    /// ones (codes in neither list count as missing).
    fn new_set(&mut self, j: usize) -> usize {
        let f = &self.ctx.feats[j];
        let d = f.levels.len() + usize::from(f.unseen == UnseenRule::Last);
        let rng = &mut self.rng;
        let mode = rng.below(if self.ctx.full_sets { 2 } else { 4 });
        let (mut left, mut right) = (Vec::new(), Vec::new());
        for c in 0..d as u32 {
            let side = match mode {
                0 | 1 => rng.below(2),
                2 if rng.chance(0.25) => 2,
                2 => rng.below(2),
                // the last code (the unseen one under "last") in neither
                _ if c as usize == d - 1 => 2,
                _ => rng.below(2),
            };
            match side {
                0 => left.push(c),
                1 => right.push(c),
                _ => {}
            }
        }
        if rng.chance(0.1) {
            // a code the feature never takes changes nothing
            let extra = (d + rng.below(70)) as u32;
            if rng.chance(0.5) {
                left.push(extra)
            } else {
                right.push(extra)
            }
        }
        rng.shuffle(&mut left);
        rng.shuffle(&mut right);
        self.cats.push(CategorySet { left, right });
        self.cats.len() - 1
    }

    fn split_point(&mut self, j: usize) -> f64 {
        let f = &self.ctx.feats[j];
        if f.kind == FeatureKind::Categorical {
            if !self.cats.is_empty() && self.rng.chance(0.15) {
                self.rng.below(self.cats.len()) as f64
            } else {
                self.new_set(j) as f64
            }
        } else {
            self.rng.pick(&f.grid)
        }
    }

    fn node(&mut self, depth: usize, max_depth: usize) -> usize {
        let id = self.arena.len();
        let split = depth < max_depth && self.rng.chance(if depth == 0 { 0.95 } else { 0.75 });
        let (value, probs, matrix) = self.payload(!split);
        let junk = if self.rng.chance(0.2) { self.rng.range(-3.0, 3.0) } else { 0.0 };
        self.arena.push(ANode { split: None, value, probs, matrix, junk });
        if !split {
            return id;
        }
        let nf = self.ctx.feats.len();
        let feature = self.rng.below(self.ctx.main_features);
        let threshold = self.split_point(feature);
        let left = self.node(depth + 1, max_depth);
        let right = self.node(depth + 1, max_depth);
        let mut missing = AMiss::No;
        let mut surr = Vec::new();
        if self.ctx.route {
            missing = match self.rng.below(10) {
                0..=3 => AMiss::No,
                4 | 5 => AMiss::Left,
                6 | 7 => AMiss::Right,
                _ => AMiss::Third(self.node(depth + 1, max_depth.min(depth + 3))),
            };
            if self.rng.chance(0.4) {
                for _ in 0..1 + self.rng.below(3) {
                    let g = self.rng.below(nf);
                    let t = self.split_point(g);
                    surr.push((g as u32, t, self.rng.chance(0.5)));
                }
            }
        }
        self.arena[id].split = Some(ASplit { feature, threshold, left, right, missing, surr });
        id
    }

    /// Arena ids in array order: level order with adjacent children (the
    /// implicit numbering when no node has a third child), depth-first with
    /// adjacent children (kept order, explicit children), preorder as rpart
    /// numbers, or random. The last two force the breadth-first re-layout.
    fn numbering(&mut self, mode: usize) -> Vec<usize> {
        fn kids(a: &ANode) -> Vec<usize> {
            match &a.split {
                None => Vec::new(),
                Some(s) => match s.missing {
                    AMiss::Third(m) => vec![s.left, s.right, m],
                    _ => vec![s.left, s.right],
                },
            }
        }
        fn dfs_adjacent(arena: &[ANode], a: usize, order: &mut Vec<usize>) {
            let ks = kids(&arena[a]);
            order.extend(&ks);
            for c in ks {
                dfs_adjacent(arena, c, order);
            }
        }
        let n = self.arena.len();
        match mode {
            0 => {
                let mut order = vec![0];
                let mut head = 0;
                while head < order.len() {
                    order.extend(kids(&self.arena[order[head]]));
                    head += 1;
                }
                order
            }
            1 => {
                let mut order = vec![0];
                dfs_adjacent(&self.arena, 0, &mut order);
                order
            }
            // the arena is built in preorder (node, left, right, third)
            2 => (0..n).collect(),
            _ => {
                let mut rest: Vec<usize> = (1..n).collect();
                self.rng.shuffle(&mut rest);
                std::iter::once(0).chain(rest).collect()
            }
        }
    }

    fn tree(mut self, max_depth: usize) -> TreeSpec {
        let route = self.ctx.route;
        self.node(0, max_depth);
        let mode = self.rng.below(4);
        let mut order = self.numbering(mode);
        // unreachable leaves at the end: ignored, and harmless to the
        // implicit numbering
        if self.rng.chance(0.1) {
            for _ in 0..1 + self.rng.below(2) {
                let (value, probs, matrix) = self.payload(true);
                order.push(self.arena.len());
                self.arena.push(ANode { split: None, value, probs, matrix, junk: 0.0 });
            }
        }
        let n = order.len();
        let mut new_of = vec![usize::MAX; n];
        for (p, &a) in order.iter().enumerate() {
            new_of[a] = p;
        }
        let mut t = TreeSpec {
            feature: Vec::with_capacity(n),
            threshold: Vec::with_capacity(n),
            left: Vec::with_capacity(n),
            right: Vec::with_capacity(n),
            missing: None,
            value: Vec::with_capacity(n),
            probs: None,
            matrix: None,
            categories: None,
            surrogates: None,
        };
        let (mut miss, mut probs, mut matrix) = (Vec::new(), Vec::new(), Vec::new());
        let mut s = Surrogates { start: vec![0], feature: Vec::new(), threshold: Vec::new(), less_left: Vec::new() };
        for &a in &order {
            let nd = &self.arena[a];
            match &nd.split {
                None => {
                    t.feature.push(-1);
                    t.threshold.push(nd.junk);
                    t.left.push(-1);
                    t.right.push(-1);
                    miss.push(-1);
                }
                Some(sp) => {
                    t.feature.push(sp.feature as i32);
                    t.threshold.push(sp.threshold);
                    t.left.push(new_of[sp.left] as i32);
                    t.right.push(new_of[sp.right] as i32);
                    miss.push(match sp.missing {
                        AMiss::No => -1,
                        AMiss::Left => new_of[sp.left] as i32,
                        AMiss::Right => new_of[sp.right] as i32,
                        AMiss::Third(m) => new_of[m] as i32,
                    });
                    for &(g, th, ll) in &sp.surr {
                        s.feature.push(g);
                        s.threshold.push(th);
                        s.less_left.push(ll);
                    }
                }
            }
            s.start.push(s.feature.len() as u32);
            t.value.push(nd.value);
            probs.extend_from_slice(&nd.probs);
            matrix.extend_from_slice(&nd.matrix);
        }
        let rng = &mut self.rng;
        t.missing = if route && (miss.iter().any(|&m| m >= 0) || rng.chance(0.3)) {
            Some(miss)
        } else if !route && rng.chance(0.2) {
            Some(vec![-1; n])
        } else {
            None
        };
        t.probs = self.ctx.with_probs.then_some(probs);
        t.matrix = (self.ctx.m_width > 0).then_some(matrix);
        t.categories = if !self.cats.is_empty() || rng.chance(0.1) { Some(self.cats) } else { None };
        t.surrogates = if !s.feature.is_empty() || rng.chance(0.1) { Some(s) } else { None };
        maybe_implicit(&mut t, rng);
        t
    }
}

/// Leave `left` and `right` out, half the time, when they are the implicit
/// numbering.
fn maybe_implicit(t: &mut TreeSpec, rng: &mut Rng) {
    let explicit = (t.left.clone(), t.right.clone());
    t.left.clear();
    t.right.clear();
    if children(t) != explicit || rng.chance(0.5) {
        (t.left, t.right) = explicit;
    }
}

struct Case {
    knobs: Knobs,
    doc: ModelDoc,
    data: Data,
    opts: PredictOptions,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:?}", self.knobs)?;
        writeln!(f, "options: {:?}", self.opts)?;
        writeln!(f, "document: {}", io::to_json(&self.doc, false).unwrap_or_default())?;
        for r in 0..self.data.nrows.min(16) {
            writeln!(f, "row {r}: {}", self.data.show_row(r))?;
        }
        Ok(())
    }
}

fn build_case(k: &Knobs) -> Case {
    let feats = feature_infos(k);
    let mut rng = Rng::new(k.doc_seed, S_DOC);
    let nk = match k.agg {
        AggKind::Single if rng.chance(0.5) => 2 + rng.below(4),
        AggKind::Votes | AggKind::ProbMean => 1 + rng.below(5),
        AggKind::Sum => rng.pick(&[0, 1, 1, 2, 3]),
        _ => 0,
    };
    // gbm's classes are trees per iteration; the others' are labels
    let (k_classes, per_iter) = match k.agg {
        AggKind::Sum => (if nk > 1 && rng.chance(0.5) { nk } else { 0 }, nk.max(1)),
        _ => (nk, 1),
    };
    let n_trees = match k.agg {
        AggKind::Single => 1,
        AggKind::Sum => per_iter * (k.n_trees / per_iter).max(1),
        _ => k.n_trees,
    };
    let ctx = DocCtx {
        route: k.missing == MissingRule::Route,
        agg: k.agg,
        k: if k.agg == AggKind::Sum { 0 } else { nk },
        with_probs: (k.agg == AggKind::Single && nk > 0) || k.agg == AggKind::ProbMean,
        m_width: if k.agg == AggKind::Single { rng.below(4) } else { 0 },
        main_features: if feats.len() > 1 && rng.chance(0.3) { 1 + rng.below(feats.len() - 1) } else { feats.len() },
        full_sets: rng.chance(0.3),
        feats,
    };
    let trees: Vec<TreeSpec> = (0..n_trees)
        .map(|t| {
            let mut trng = Rng::new(k.doc_seed, S_TREE + t as u64);
            let depth = k.max_depth.saturating_sub(trng.below(2));
            TreeGen { rng: trng, ctx: &ctx, arena: Vec::new(), cats: Vec::new() }.tree(depth)
        })
        .collect();
    let (aggregation, types, default_type) = match k.agg {
        AggKind::Single if nk > 0 => (Aggregation::Single, vec!["vector", "prob", "class", "matrix"], "prob"),
        AggKind::Single => (Aggregation::Single, vec!["vector", "matrix"], "vector"),
        AggKind::Mean => {
            let bias = rng.chance(0.3).then(|| vec![rng.range(-2.0, 2.0), rng.range(0.5, 1.5)]);
            (Aggregation::Mean { bias }, vec!["response"], "response")
        }
        AggKind::Votes => {
            // few distinct cutoffs, so that scores tie
            let cutoff =
                rng.chance(0.4).then(|| (0..nk).map(|_| rng.pick(&[0.2, 0.25, 1.0 / 3.0, 0.5, 1.0])).collect());
            (Aggregation::Votes { cutoff }, vec!["response", "prob", "vote"], "response")
        }
        AggKind::ProbMean => (Aggregation::ProbMean, vec!["response"], "response"),
        AggKind::Sum => {
            let iters = n_trees / per_iter;
            let agg = Aggregation::Sum {
                init: (0..per_iter).map(|_| rng.range(-1.0, 1.0)).collect(),
                n_classes: nk,
                transform: rng.pick(&["identity", "logistic", "exp", "adaboost", "softmax"]).to_string(),
                default_n_trees: 1 + rng.below(iters),
            };
            (agg, vec!["link", "response"], "link")
        }
    };
    let types: Vec<String> = types.into_iter().map(String::from).collect();
    let opts = PredictOptions {
        type_: (!rng.chance(0.3)).then(|| types[rng.below(types.len())].clone()),
        n_trees: match k.agg {
            AggKind::Single => rng.chance(0.1).then(|| vec![1]),
            AggKind::Sum => {
                rng.chance(0.5).then(|| (0..1 + rng.below(3)).map(|_| 1 + rng.below(n_trees / per_iter)).collect())
            }
            _ => rng.chance(0.3).then(|| vec![1 + rng.below(n_trees)]),
        },
        norm_votes: if k.agg == AggKind::Votes { rng.pick(&[None, Some(true), Some(false)]) } else { None },
        ..Default::default()
    };
    let inputs = ctx
        .feats
        .iter()
        .map(|f| InputSpec {
            name: f.input.clone(),
            kind: if f.kind == FeatureKind::Numeric {
                InputType::Numeric
            } else {
                rng.pick(&[InputType::Factor, InputType::Ordered, InputType::Character])
            },
            levels: (f.kind != FeatureKind::Numeric).then(|| f.levels.clone()),
        })
        .collect();
    let features = ctx
        .feats
        .iter()
        .map(|f| FeatureSpec {
            input: f.input.clone(),
            kind: f.kind,
            levels: (f.kind != FeatureKind::Numeric).then(|| f.levels.clone()),
            code_offset: (f.kind == FeatureKind::Codes && (f.offset != 0.0 || rng.chance(0.5))).then_some(f.offset),
            // "error" is the default when left out
            unseen: match f.unseen {
                _ if f.kind == FeatureKind::Numeric => None,
                UnseenRule::Error if rng.chance(0.5) => None,
                u => Some(u),
            },
        })
        .collect();
    let algorithm = match k.agg {
        AggKind::Single => "rpart",
        AggKind::Sum => "gbm",
        _ => rng.pick(&["randomForest", "ranger"]),
    };
    let doc = ModelDoc {
        format: FORMAT_NAME.into(),
        format_version: format_version(),
        producer: Producer { name: "tree_props".into(), version: "0".into(), ..Producer::default() },
        kind: ModelKind::Trees,
        inputs,
        linear: None,
        trees: Some(TreesSpec {
            algorithm: algorithm.into(),
            features,
            split: if k.le { SplitRule::Le } else { SplitRule::Lt },
            missing: k.missing,
            nan: match (k.nan_compare, rng.chance(0.5)) {
                (true, _) => Some(NanRule::Compare),
                (false, true) => Some(NanRule::Missing),
                (false, false) => None,
            },
            aggregation,
            types,
            default_type: default_type.into(),
            classes: (k_classes > 0).then(|| (1..=k_classes).map(|c| format!("class {c}")).collect()),
            trees,
        }),
        boosted: None,
        extensions: Default::default(),
    };
    let data = build_data(k, &ctx.feats);
    Case { knobs: k.clone(), doc, data, opts }
}

/// Random rows: NA (both NA bit patterns), plain NaN, infinities, split
/// points exactly and one ulp either side; levels as factors (shuffled,
/// with unused extras) or strings, unseen levels where the rule allows.
fn build_data(k: &Knobs, feats: &[FeatInfo]) -> Data {
    let n = k.nrows;
    let dirty = k.dirt > 0;
    let mut cols: Vec<Vec<f64>> = vec![Vec::with_capacity(n); feats.len()];
    let mut names: Vec<Vec<Option<String>>> = vec![Vec::with_capacity(n); feats.len()];
    for r in 0..n {
        let mut rng = Rng::new(k.row_seed, r as u64);
        for (j, f) in feats.iter().enumerate() {
            let u = rng.unit();
            if f.kind == FeatureKind::Numeric {
                let g = rng.pick(&f.grid);
                let v = if dirty && u < 0.04 {
                    if rng.chance(0.5) {
                        NA_REAL
                    } else {
                        NA_QUIET
                    }
                } else if (dirty || k.nan_compare) && u < 0.07 {
                    if rng.chance(0.5) {
                        f64::NAN
                    } else {
                        -f64::NAN
                    }
                } else if u < 0.10 {
                    rng.pick(&[f64::INFINITY, f64::NEG_INFINITY])
                } else if u < 0.45 {
                    g
                } else if u < 0.55 {
                    if rng.chance(0.5) {
                        one_ulp(g, true)
                    } else {
                        one_ulp(g, false)
                    }
                } else if u < 0.6 {
                    rng.pick(&[0.0, -0.0])
                } else {
                    rng.range(-12.0, 12.0)
                };
                cols[j].push(v);
            } else {
                let name = if dirty && u < 0.05 {
                    None
                } else if f.unseen != UnseenRule::Error && (dirty || f.unseen == UnseenRule::Last) && u < 0.10 {
                    Some(format!("new {}", rng.below(3)))
                } else {
                    Some(f.levels[rng.below(f.levels.len())].clone())
                };
                names[j].push(name);
            }
        }
    }
    let mut out = Vec::with_capacity(feats.len());
    for (j, f) in feats.iter().enumerate() {
        let mut rng = Rng::new(k.row_seed, S_COLUMN + j as u64);
        if f.kind == FeatureKind::Numeric {
            let col = if f.int_column {
                ColData::Int(
                    cols[j]
                        .iter()
                        .map(|&v| {
                            if v.is_nan() {
                                if dirty {
                                    NA_INTEGER
                                } else {
                                    0
                                }
                            } else {
                                v.clamp(-20.0, 20.0).round() as i32
                            }
                        })
                        .collect(),
                )
            } else {
                ColData::Real(std::mem::take(&mut cols[j]))
            };
            out.push((f.input.clone(), col));
            continue;
        }
        let mut vals = std::mem::take(&mut names[j]);
        if f.unseen == UnseenRule::Error && k.dirt == 2 && n > 0 && rng.chance(0.5) {
            vals[rng.below(n)] = Some("never seen".into());
        }
        let col = if rng.chance(0.6) {
            // the data's own levels: the used ones, some unused known
            // ones, unused unknown ones, shuffled
            let mut used: Vec<&str> = vals.iter().flatten().map(String::as_str).collect();
            used.sort_unstable();
            used.dedup();
            let mut levels: Vec<String> = used.iter().map(|s| s.to_string()).collect();
            for l in &f.levels {
                if !used.contains(&l.as_str()) && rng.chance(0.7) {
                    levels.push(l.clone());
                }
            }
            for e in 0..rng.below(3) {
                levels.push(format!("unused {e}"));
            }
            rng.shuffle(&mut levels);
            let pos: HashMap<&str, i32> = levels.iter().enumerate().map(|(i, l)| (l.as_str(), i as i32 + 1)).collect();
            let codes = vals.iter().map(|v| v.as_deref().map_or(NA_INTEGER, |s| pos[s])).collect();
            ColData::Factor { codes, levels }
        } else {
            ColData::Str(vals)
        };
        out.push((f.input.clone(), col));
    }
    Data { nrows: n, cols: out }
}

// ---------------------------------------------------------------------------
// Running the engine and comparing.

/// A sentinel no prediction produces: a slot left unwritten shows up.
const UNWRITTEN: f64 = f64::from_bits(0x7FF8_DEAD_BEEF_0001);

fn predict(model: &Model, data: &Data, opts: &PredictOptions, threads: usize) -> Result<Pred, Error> {
    let frame = data.frame();
    let job = model.prepare(&frame, opts)?;
    let shape = job.shape();
    let shape = shape.array().expect("an array");
    let len = shape.len(job.nrows());
    match shape.values {
        ValueKind::Factor(_) => {
            let mut out = vec![i32::MIN + 7; len];
            job.run(vec![OutBuf::Int(&mut out)], threads)?;
            Ok(Pred::Int(out))
        }
        ValueKind::Real => {
            let mut out = vec![UNWRITTEN; len];
            job.run(vec![OutBuf::Real(&mut out)], threads)?;
            Ok(Pred::Real(out))
        }
    }
}

fn load(doc: &ModelDoc) -> Result<Model, TestCaseError> {
    Model::from_doc(doc.clone()).map_err(|e| TestCaseError::fail(format!("a valid document was refused: {e}")))
}

/// Equal, or within 1e-12 relative (sums in another order); NA only
/// where NA.
fn close(a: f64, b: f64) -> bool {
    if is_na(a) || is_na(b) {
        return is_na(a) && is_na(b);
    }
    a.to_bits() == b.to_bits() || a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

/// What went where for row `r`, to make a failure readable.
fn explain(doc: &ModelDoc, data: &Data, r: usize) -> String {
    let spec = doc.trees.as_ref().expect("trees");
    let mut s = format!("row {r}: {}\n", data.show_row(r));
    if let Ok(vals) = ref_values(spec, data) {
        s += &format!("feature values: {:?}\n", vals[r]);
        let nodes: Vec<usize> = spec.trees.iter().map(|t| reach(spec, t, &children(t), 0, &vals[r])).collect();
        s += &format!("reference nodes per tree: {nodes:?}\n");
    }
    s
}

/// The engine's prediction against the reference: class codes and the
/// single-tree and vote outputs bit for bit, sums within 1e-12.
fn compare(doc: &ModelDoc, data: &Data, opts: &PredictOptions, got: Result<Pred, Error>) -> Result<(), TestCaseError> {
    let want = reference(doc, data, opts);
    let agg = &doc.trees.as_ref().expect("trees").aggregation;
    let exact = matches!(agg, Aggregation::Single | Aggregation::Votes { .. });
    let n = data.nrows;
    match (got, want) {
        (Err(e), Err(RefErr::Exact(w))) => prop_assert_eq!(e, w),
        (Err(e), Err(RefErr::MissingIn(col))) => {
            prop_assert_eq!(e.kind(), "bad_argument");
            prop_assert!(e.to_string().contains(&format!("'{col}'")), "{} should name '{}'", e, col);
        }
        (Ok(Pred::Int(g)), Ok(Pred::Int(w))) => {
            prop_assert_eq!(g.len(), w.len());
            if let Some(i) = (0..g.len()).find(|&i| g[i] != w[i]) {
                return Err(TestCaseError::fail(format!(
                    "class at row {i}: engine {} reference {}\n{}",
                    g[i],
                    w[i],
                    explain(doc, data, i)
                )));
            }
        }
        (Ok(Pred::Real(g)), Ok(Pred::Real(w))) => {
            prop_assert_eq!(g.len(), w.len());
            let same = |a: f64, b: f64| if exact { a.to_bits() == b.to_bits() } else { close(a, b) };
            if let Some(i) = (0..g.len()).find(|&i| !same(g[i], w[i])) {
                return Err(TestCaseError::fail(format!(
                    "value {i} (row {}, column {}): engine {:?} ({:#x}) reference {:?} ({:#x})\n{}",
                    i % n,
                    i / n,
                    g[i],
                    g[i].to_bits(),
                    w[i],
                    w[i].to_bits(),
                    explain(doc, data, i % n)
                )));
            }
        }
        (g, w) => {
            return Err(TestCaseError::fail(format!(
                "engine {:?} but reference {:?}",
                g.map(|p| p.bits().0),
                w.map(|p| p.bits().0)
            )))
        }
    }
    Ok(())
}

fn check(doc: &ModelDoc, data: &Data, opts: &PredictOptions) -> Result<(), TestCaseError> {
    let model = load(doc)?;
    compare(doc, data, opts, predict(&model, data, opts, 1))
}

fn bits(r: &Result<Pred, Error>) -> Result<(bool, Vec<u64>), Error> {
    r.as_ref().map(Pred::bits).map_err(Clone::clone)
}

// ---------------------------------------------------------------------------
// Node renumbering, for property (d).

/// The same tree with node `order[p]` moved to index `p` (root stays 0).
fn renumber(t: &TreeSpec, order: &[usize]) -> TreeSpec {
    let n = t.feature.len();
    assert!(order.len() == n && order[0] == 0);
    let mut new_of = vec![0usize; n];
    for (p, &o) in order.iter().enumerate() {
        new_of[o] = p;
    }
    let (l, r) = children(t);
    let map = |c: i32| if c < 0 { c } else { new_of[c as usize] as i32 };
    let rows = |a: &Option<Vec<f64>>| {
        a.as_ref().map(|v| {
            let w = v.len() / n;
            order.iter().flat_map(|&o| v[o * w..(o + 1) * w].iter().copied()).collect()
        })
    };
    let surrogates = t.surrogates.as_ref().map(|s| {
        let mut out = Surrogates { start: vec![0], feature: vec![], threshold: vec![], less_left: vec![] };
        for &o in order {
            for e in s.start[o] as usize..s.start[o + 1] as usize {
                out.feature.push(s.feature[e]);
                out.threshold.push(s.threshold[e]);
                out.less_left.push(s.less_left[e]);
            }
            out.start.push(out.feature.len() as u32);
        }
        out
    });
    TreeSpec {
        feature: order.iter().map(|&o| t.feature[o]).collect(),
        threshold: order.iter().map(|&o| t.threshold[o]).collect(),
        left: order.iter().map(|&o| map(l[o])).collect(),
        right: order.iter().map(|&o| map(r[o])).collect(),
        missing: t.missing.as_ref().map(|m| order.iter().map(|&o| map(m[o])).collect()),
        value: order.iter().map(|&o| t.value[o]).collect(),
        probs: rows(&t.probs),
        matrix: rows(&t.matrix),
        categories: t.categories.clone(),
        surrogates,
    }
}

/// Level order (left, right, distinct missing child), unreached nodes last.
fn level_order(t: &TreeSpec) -> Vec<usize> {
    let n = t.feature.len();
    let (l, r) = children(t);
    let mut seen = vec![false; n];
    let mut order = vec![0];
    seen[0] = true;
    let mut head = 0;
    while head < order.len() {
        let i = order[head];
        head += 1;
        if t.feature[i] < 0 {
            continue;
        }
        let m = t.missing.as_ref().map_or(-1, |m| m[i]);
        for c in [l[i], r[i], m] {
            if c >= 0 && !seen[c as usize] {
                seen[c as usize] = true;
                order.push(c as usize);
            }
        }
    }
    order.extend((0..n).filter(|&i| !seen[i]));
    order
}

/// Every tree renumbered at random, or into level order (then often with
/// implicit children), or only with its children switched between
/// explicit and implicit.
fn relabel(doc: &ModelDoc, seed: u64) -> ModelDoc {
    let mut doc = doc.clone();
    for (k, t) in doc.trees.as_mut().expect("trees").trees.iter_mut().enumerate() {
        let mut rng = Rng::new(seed, k as u64);
        let n = t.feature.len();
        match rng.below(3) {
            0 => {
                let mut rest: Vec<usize> = (1..n).collect();
                rng.shuffle(&mut rest);
                let order: Vec<usize> = std::iter::once(0).chain(rest).collect();
                *t = renumber(t, &order);
                maybe_implicit(t, &mut rng);
            }
            1 => {
                *t = renumber(t, &level_order(t));
                maybe_implicit(t, &mut rng);
            }
            _ => {
                if t.left.is_empty() {
                    (t.left, t.right) = children(t);
                } else {
                    maybe_implicit(t, &mut rng);
                }
            }
        }
    }
    doc
}

// ---------------------------------------------------------------------------
// Properties.

proptest! {
    #![proptest_config(config(4096))]

    /// (a) The engine agrees with the recursive reference walk.
    #[test]
    fn engine_matches_reference(k in arb_knobs(0usize..=700, 1usize..=30, 0u8..=2)) {
        let case = build_case(&k);
        check(&case.doc, &case.data, &case.opts)?;
    }
}

proptest! {
    #![proptest_config(config(128))]

    /// (c) JSON text and split-gzip files give back the same document and
    /// the same predictions, bit for bit.
    #[test]
    fn json_and_gzip_round_trip(k in arb_knobs(0usize..=150, 1usize..=30, 0u8..=2), pretty in any::<bool>()) {
        let case = build_case(&k);
        let want = bits(&predict(&load(&case.doc)?, &case.data, &case.opts, 1));

        let json = io::to_json(&case.doc, pretty).unwrap();
        let back = io::from_bytes(json.as_bytes()).unwrap();
        prop_assert_eq!(&back, &case.doc);
        prop_assert_eq!(bits(&predict(&load(&back)?, &case.data, &case.opts, 1)), want.clone());

        let dir = TempDir::new("tree-props");
        let path = dir.path().join("model.json.gz");
        io::write_file(&case.doc, &path, true).unwrap();
        prop_assert!(fs::read(&path).unwrap().starts_with(&[0x1f, 0x8b]));
        prop_assert_eq!(&io::read_file(&path).unwrap(), &case.doc);
        let model = Model::load(&path).unwrap();
        prop_assert_eq!(bits(&predict(&model, &case.data, &case.opts, 1)), want);
    }

}

proptest! {
    #![proptest_config(config(512))]

    /// (d) Renumbering the nodes, and explicit or implicit children, change
    /// nothing (and move trees between the kept and re-laid-out paths).
    #[test]
    fn node_numbering_does_not_matter(k in arb_knobs(0usize..=300, 1usize..=30, 0u8..=1), seed in any::<u64>()) {
        let case = build_case(&k);
        let want = bits(&predict(&load(&case.doc)?, &case.data, &case.opts, 1));
        let other = relabel(&case.doc, seed);
        prop_assert_eq!(bits(&predict(&load(&other)?, &case.data, &case.opts, 1)), want);
    }
}

proptest! {
    #![proptest_config(config(16))]

    /// (b) Inputs that run in several row chunks (a forest's rows are
    /// shared evenly between the threads, a single tree's go in chunks of
    /// 16384): 1, 2 and 3 threads agree bit for bit, and with the reference.
    #[test]
    fn threads_do_not_change_results(k in arb_knobs(8200usize..=12000, 2usize..=10, 0u8..=1), extra in 1usize..=3000) {
        let mut k = k;
        if k.agg == AggKind::Single {
            k.nrows = 2 * 16384 + extra;
        }
        if k.missing == MissingRule::Error {
            // an error would make the run trivial
            k.dirt = 0;
        }
        let case = build_case(&k);
        let model = load(&case.doc)?;
        let one = predict(&model, &case.data, &case.opts, 1);
        prop_assert!(one.is_ok(), "{:?}", one.as_ref().err());
        for threads in [2, 3] {
            prop_assert_eq!(bits(&predict(&model, &case.data, &case.opts, threads)), bits(&one));
        }
        compare(&case.doc, &case.data, &case.opts, one)?;
    }
}

// ---------------------------------------------------------------------------
// Targeted cases that random generation rarely hits. Each is checked
// against the reference and against values worked out by hand.

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

fn num_feature(input: &str) -> FeatureSpec {
    FeatureSpec { input: input.into(), kind: FeatureKind::Numeric, levels: None, code_offset: None, unseen: None }
}

fn cat_feature(input: &str, levels: &[String], unseen: Option<UnseenRule>) -> FeatureSpec {
    FeatureSpec {
        input: input.into(),
        kind: FeatureKind::Categorical,
        levels: Some(levels.to_vec()),
        code_offset: None,
        unseen,
    }
}

/// A document around `trees`; the inputs are the features' columns.
fn hand_doc(features: Vec<FeatureSpec>, missing: MissingRule, agg: Aggregation, trees: Vec<TreeSpec>) -> ModelDoc {
    let (types, classes): (&[&str], Option<Vec<String>>) = match &agg {
        Aggregation::Single => (&["vector"], None),
        Aggregation::Mean { .. } => (&["response"], None),
        Aggregation::Votes { .. } => (&["response", "prob", "vote"], Some(names("k", 2))),
        Aggregation::ProbMean => (&["response"], Some(names("k", 2))),
        Aggregation::Sum { .. } => (&["link", "response"], None),
    };
    let inputs = features
        .iter()
        .map(|f| InputSpec {
            name: f.input.clone(),
            kind: if f.levels.is_some() { InputType::Factor } else { InputType::Numeric },
            levels: f.levels.clone(),
        })
        .collect();
    ModelDoc {
        format: FORMAT_NAME.into(),
        format_version: format_version(),
        producer: Producer::default(),
        kind: ModelKind::Trees,
        inputs,
        linear: None,
        trees: Some(TreesSpec {
            algorithm: "rpart".into(),
            features,
            split: SplitRule::Lt,
            missing,
            nan: None,
            aggregation: agg,
            types: types.iter().map(|t| t.to_string()).collect(),
            default_type: types[0].into(),
            classes,
            trees,
        }),
        boosted: None,
        extensions: Default::default(),
    }
}

/// Explicit children; no payload but `value`.
fn tree(feature: &[i32], threshold: &[f64], left: &[i32], right: &[i32], value: &[f64]) -> TreeSpec {
    TreeSpec {
        feature: feature.to_vec(),
        threshold: threshold.to_vec(),
        left: left.to_vec(),
        right: right.to_vec(),
        missing: None,
        value: value.to_vec(),
        probs: None,
        matrix: None,
        categories: None,
        surrogates: None,
    }
}

fn str_col(v: &[Option<&str>]) -> ColData {
    ColData::Str(v.iter().map(|s| s.map(String::from)).collect())
}

/// A factor whose own levels are `v`'s in reverse order of appearance,
/// plus an unused one.
fn factor_col(v: &[Option<&str>]) -> ColData {
    let mut levels: Vec<String> = vec!["unused".into()];
    for s in v.iter().flatten() {
        if !levels.iter().any(|l| l == s) {
            levels.insert(0, s.to_string());
        }
    }
    let codes =
        v.iter().map(|s| s.map_or(NA_INTEGER, |s| levels.iter().position(|l| l == s).unwrap() as i32 + 1)).collect();
    ColData::Factor { codes, levels }
}

fn data(cols: Vec<(&str, ColData)>) -> Data {
    let nrows = cols[0].1.len();
    Data { nrows, cols: cols.into_iter().map(|(n, c)| (n.to_string(), c)).collect() }
}

/// Predictions of the default type, after checking them against the reference.
fn run(doc: &ModelDoc, data: &Data, opts: &PredictOptions) -> Pred {
    if let Err(e) = check(doc, data, opts) {
        panic!("{e}");
    }
    predict(&Model::from_doc(doc.clone()).unwrap(), data, opts, 1).unwrap()
}

fn reals(doc: &ModelDoc, data: &Data) -> Vec<f64> {
    match run(doc, data, &PredictOptions::default()) {
        Pred::Real(v) => v,
        Pred::Int(_) => panic!("class codes"),
    }
}

fn with_trees(doc: &ModelDoc, edit: impl Fn(&mut TreesSpec)) -> ModelDoc {
    let mut d = doc.clone();
    edit(d.trees.as_mut().unwrap());
    d
}

#[test]
fn a_node_whose_every_level_is_in_neither_set() {
    // f has no level that decides; a surrogate on x (x < 0 left), then the
    // missing child (right) take over
    let lv = names("l", 3);
    let mut t = tree(&[0, -1, -1], &[0.0; 3], &[1, -1, -1], &[2, -1, -1], &[7.0, 1.0, 2.0]);
    t.categories = Some(vec![CategorySet { left: vec![], right: vec![] }]);
    t.surrogates =
        Some(Surrogates { start: vec![0, 1, 1, 1], feature: vec![1], threshold: vec![0.0], less_left: vec![true] });
    t.missing = Some(vec![2, -1, -1]);
    let features = vec![cat_feature("f", &lv, Some(UnseenRule::Last)), num_feature("x")];
    let doc = hand_doc(features.clone(), MissingRule::Route, Aggregation::Single, vec![t.clone()]);
    let f = [Some("l0"), Some("l1"), Some("l2"), None, Some("new"), Some("l0"), None, Some("l1"), Some("l2")];
    let x = [-1.0, 1.0, NA_REAL, -1.0, 1.0, NA_REAL, NA_REAL, 0.0, -0.0];
    for col in [str_col(&f), factor_col(&f)] {
        let d = data(vec![("f", col), ("x", ColData::Real(x.to_vec()))]);
        assert_eq!(reals(&doc, &d), [1.0, 2.0, 2.0, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0]);
        // no missing child: a row that the surrogate cannot place stops at the root
        let doc = with_trees(&doc, |s| s.trees[0].missing = None);
        assert_eq!(reals(&doc, &d), [1.0, 2.0, 7.0, 1.0, 2.0, 7.0, 7.0, 2.0, 2.0]);
        // no surrogate either: every row stops there
        let doc = with_trees(&doc, |s| s.trees[0].surrogates = None);
        assert_eq!(reals(&doc, &d), [7.0; 9]);
    }
    // under na_row (no routes allowed) the walk stops at the root as well,
    // in a forest; a missing x makes the row NA
    t.missing = None;
    t.surrogates = None;
    let doc = hand_doc(features, MissingRule::NaRow, Aggregation::Mean { bias: None }, vec![t.clone(), t]);
    let d = data(vec![("f", str_col(&f)), ("x", ColData::Real(x.to_vec()))]);
    let got = reals(&doc, &d);
    let want = [7.0, 7.0, NA_REAL, NA_REAL, 7.0, NA_REAL, NA_REAL, 7.0, 7.0];
    assert_eq!(got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), want.map(f64::to_bits));
}

#[test]
fn a_surrogate_chain_that_cannot_decide_stops_at_the_node() {
    // x < 0 at the root (value 10); surrogates z < 5 (left), then g in
    // {l0} left / {l1} right; l2 is in neither; no missing child
    let lv = names("l", 3);
    let mut t = tree(&[0, -1, -1], &[0.0; 3], &[1, -1, -1], &[2, -1, -1], &[10.0, 1.0, 2.0]);
    t.categories = Some(vec![CategorySet { left: vec![0], right: vec![1] }]);
    t.surrogates = Some(Surrogates {
        start: vec![0, 2, 2, 2],
        feature: vec![1, 2],
        threshold: vec![5.0, 0.0],
        less_left: vec![true, false],
    });
    t.missing = Some(vec![-1; 3]);
    let features = vec![num_feature("x"), num_feature("z"), cat_feature("g", &lv, None)];
    let doc = hand_doc(features, MissingRule::Route, Aggregation::Single, vec![t]);
    let nan = f64::NAN;
    let x = [-1.0, NA_REAL, NA_REAL, NA_REAL, NA_REAL, NA_REAL, NA_REAL, nan, nan, NA_REAL];
    let z = [9.0, 1.0, NA_REAL, NA_REAL, NA_REAL, NA_REAL, 9.0, nan, 9.0, nan];
    let g = [Some("l0"), None, Some("l0"), Some("l1"), Some("l2"), None, None, Some("l2"), Some("l2"), Some("l2")];
    let d = data(vec![("x", ColData::Real(x.to_vec())), ("z", ColData::Real(z.to_vec())), ("g", factor_col(&g))]);
    // every NaN missing: rows 4, 5, 7 and 9 find no route
    assert_eq!(reals(&doc, &d), [1.0, 1.0, 1.0, 2.0, 10.0, 10.0, 2.0, 10.0, 2.0, 10.0]);
    // only NA missing: a NaN fails every test, at the split (row 7) and
    // at the surrogate (row 9, `NaN < 5` is false, so not left)
    let doc = with_trees(&doc, |s| s.nan = Some(NanRule::Compare));
    assert_eq!(reals(&doc, &d), [1.0, 1.0, 1.0, 2.0, 10.0, 10.0, 2.0, 2.0, 2.0, 2.0]);
}

#[test]
fn categorical_codes_at_and_above_32() {
    // sets over 53 levels (an inline mask), 63 levels plus "last" (64
    // codes: bit 63), 64 levels plus "last" (65 codes: a set lookup), and
    // 53 levels with a gap (a set lookup and the missing child)
    let cases = [
        (53, None, vec![0, 31, 32, 40, 52], None),
        (63, Some(UnseenRule::Last), vec![63, 62, 32, 1], None),
        (64, Some(UnseenRule::Last), vec![64, 63, 33, 0], None),
        (53, Some(UnseenRule::Missing), vec![52, 32, 33], Some(45)),
    ];
    for (nl, unseen, left, gap) in cases {
        let lv = names("lev", nl);
        let codes = nl as u32 + u32::from(unseen == Some(UnseenRule::Last));
        let right: Vec<u32> = (0..codes).filter(|c| !left.contains(c) && Some(*c) != gap).collect();
        let mut t = tree(&[0, -1, -1, -1], &[0.0; 4], &[1, -1, -1, -1], &[2, -1, -1, -1], &[0.0, 1.0, 2.0, 3.0]);
        t.categories = Some(vec![CategorySet { left: left.clone(), right }]);
        t.missing = Some(vec![3, -1, -1, -1]);
        let features = vec![cat_feature("f", &lv, unseen)];
        let mut rows: Vec<Option<&str>> = lv.iter().rev().map(|s| Some(s.as_str())).collect();
        let mut want: Vec<f64> = (0..nl as u32)
            .rev()
            .map(|c| {
                if left.contains(&c) {
                    1.0
                } else if Some(c) == gap {
                    3.0
                } else {
                    2.0
                }
            })
            .collect();
        // an unseen level (where it is no error) and a missing one
        match unseen {
            Some(UnseenRule::Last) => want.push(if left.contains(&(nl as u32)) { 1.0 } else { 2.0 }),
            Some(UnseenRule::Missing) => want.push(3.0),
            _ => {}
        }
        if unseen.is_some() {
            rows.push(Some("new"));
        }
        rows.push(None);
        want.push(3.0);
        let single = hand_doc(features.clone(), MissingRule::Route, Aggregation::Single, vec![t.clone()]);
        let forest = hand_doc(features, MissingRule::Route, Aggregation::Mean { bias: None }, vec![t.clone(), t]);
        for col in [str_col(&rows), factor_col(&rows)] {
            let d = data(vec![("f", col)]);
            assert_eq!(reals(&single, &d), want, "{nl} levels");
            assert_eq!(reals(&forest, &d), want, "{nl} levels, forest");
        }
    }
}

#[test]
fn trees_that_are_a_single_leaf() {
    let leaf = |v: f64| tree(&[-1], &[0.0], &[], &[], &[v]);
    let features = vec![num_feature("x"), cat_feature("f", &names("l", 2), Some(UnseenRule::Missing))];
    let x = [NA_REAL, 1.0, f64::NAN, f64::INFINITY];
    let f = [None, Some("l1"), Some("new"), Some("l0")];
    let d = data(vec![("x", ColData::Real(x.to_vec())), ("f", str_col(&f))]);

    let mut t = leaf(3.5);
    t.missing = Some(vec![-1]);
    t.surrogates = Some(Surrogates { start: vec![0, 0], feature: vec![], threshold: vec![], less_left: vec![] });
    let doc = hand_doc(features.clone(), MissingRule::Route, Aggregation::Single, vec![t]);
    assert_eq!(reals(&doc, &d), [3.5; 4]);

    let doc = hand_doc(features.clone(), MissingRule::NaRow, Aggregation::Mean { bias: None }, vec![leaf(3.5)]);
    let got: Vec<u64> = reals(&doc, &d).iter().map(|v| v.to_bits()).collect();
    assert_eq!(got, [NA_REAL, 3.5, NA_REAL, 3.5].map(f64::to_bits));

    let votes = hand_doc(
        features.clone(),
        MissingRule::Route,
        Aggregation::Votes { cutoff: None },
        vec![leaf(2.0), leaf(1.0), leaf(2.0)],
    );
    let Pred::Int(classes) = run(&votes, &d, &PredictOptions::default()) else { panic!("classes") };
    assert_eq!(classes, [2; 4]);
    let opts = PredictOptions { type_: Some("prob".into()), ..Default::default() };
    let Pred::Real(p) = run(&votes, &d, &opts) else { panic!("probabilities") };
    assert_eq!(p, [[1.0 / 3.0; 4], [2.0 / 3.0; 4]].concat());

    let sum = Aggregation::Sum { init: vec![1.0], n_classes: 1, transform: "exp".into(), default_n_trees: 2 };
    let doc = hand_doc(features, MissingRule::Error, sum, vec![leaf(0.25), leaf(0.5)]);
    let d = data(vec![("x", ColData::Real(vec![1.0, -1.0])), ("f", str_col(&[Some("l0"), Some("l1")]))]);
    assert_eq!(reals(&doc, &d), [1.75; 2]);
}

// ---------------------------------------------------------------------------
// Engine bugs found by these tests, kept as minimal failing cases.

/// FORMAT.md: "Nodes that no walk reaches are ignored." Node 3 is reached
/// by no walk; its children (5, 4) are valid indices, each with one parent.
/// The rest of the tree keeps its order (children adjacent), and in that
/// path `build_tree` lays out every node, unreached ones included, so it
/// refuses the tree ("internal layout error"). The same tree numbered so
/// that it needs the breadth-first re-layout loads.
#[test]
fn unreachable_split_nodes_are_ignored() {
    let t = tree(
        &[0, -1, -1, 0, -1, -1],
        &[0.0; 6],
        &[1, -1, -1, 5, -1, -1],
        &[2, -1, -1, 4, -1, -1],
        &[0.0, 1.0, 2.0, 0.0, 4.0, 5.0],
    );
    let doc = hand_doc(vec![num_feature("x")], MissingRule::Route, Aggregation::Single, vec![t.clone()]);
    // the root's children swapped: re-laid out, and accepted
    let swapped = renumber(&t, &[0, 2, 1, 3, 4, 5]);
    let ok = hand_doc(vec![num_feature("x")], MissingRule::Route, Aggregation::Single, vec![swapped]);
    let d = data(vec![("x", ColData::Real(vec![-1.0, 1.0, NA_REAL]))]);
    assert_eq!(reals(&ok, &d), [1.0, 2.0, 0.0]);
    assert_eq!(reals(&doc, &d), [1.0, 2.0, 0.0]);
}

/// FORMAT.md, votes: "each tree votes for the class whose 1-based index is
/// the reached node's value (a value outside 1..K is no vote)". A walk
/// can end at a split node (a level in neither set, no route), whose value
/// the loader does not check for votes (only leaves'). A value of 1.5 is
/// no class index, but the engine truncates it (`as usize`) and counts a
/// vote for class 1. Either the loader should refuse such values at split
/// nodes, or they should count as no vote.
#[test]
fn a_fractional_value_is_no_vote() {
    let lv = names("l", 3);
    let mut t = tree(&[0, -1, -1], &[0.0; 3], &[1, -1, -1], &[2, -1, -1], &[1.5, 1.0, 2.0]);
    t.categories = Some(vec![CategorySet { left: vec![0], right: vec![1] }]);
    let doc = hand_doc(
        vec![cat_feature("f", &lv, None)],
        MissingRule::Route,
        Aggregation::Votes { cutoff: None },
        vec![t.clone(), t],
    );
    // l2 is in neither set: both walks stop at the root, which is no vote
    let d = data(vec![("f", str_col(&[Some("l2"), Some("l0")]))]);
    let opts = PredictOptions { type_: Some("vote".into()), norm_votes: Some(false), ..Default::default() };
    let Pred::Real(counts) = run(&doc, &d, &opts) else { panic!("vote counts") };
    assert_eq!(counts, [0.0, 2.0, 0.0, 0.0]);
}
