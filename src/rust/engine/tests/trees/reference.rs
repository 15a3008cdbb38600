//! The reference: a recursive walk over the document's arrays, following
//! FORMAT.md ("The trees section") word for word.
//!
//! It is the independent oracle that the engine is checked against, so it
//! reads only the document and the data and must not call engine internals
//! (their re-layout, node packing, masks and lane walks are what it checks).
//! For the same reason `children` numbers implicit children itself, though
//! the engine does too: a shared numbering would hide a bug in either.

use std::collections::HashMap;

use fastpredict_engine::format::{
    Aggregation, FeatureKind, MissingRule, NanRule, SplitRule, TreeSpec, TreesSpec, UnseenRule,
};
use fastpredict_engine::{Error, FrameBuf, ModelDoc, PredictOptions, NA_INTEGER, NA_REAL};

use crate::common::data::{is_na, ColumnExt, FrameExt};

/// A feature value as the walk sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fv {
    Missing,
    /// Numeric and codes features (may be a NaN that is not missing).
    Num(f64),
    /// Categorical features: the 0-based level code.
    Code(u32),
}

#[derive(Debug, Clone, PartialEq)]
pub enum RefErr {
    /// The exact error (unseen levels name the column and level).
    Exact(Error),
    /// `missing = "error"`: a bad-argument error naming this column.
    MissingIn(String),
}

/// Predictions, column-major.
#[derive(Debug, Clone)]
pub enum Pred {
    Real(Vec<f64>),
    Int(Vec<i32>),
}

impl Pred {
    /// Bits, for exact comparisons (NaN payloads included).
    pub fn bits(&self) -> (bool, Vec<u64>) {
        match self {
            Pred::Real(v) => (false, v.iter().map(|x| x.to_bits()).collect()),
            Pred::Int(v) => (true, v.iter().map(|x| *x as u32 as u64).collect()),
        }
    }
}

/// Children, spelled out when the document leaves them implicit.
pub fn children(t: &TreeSpec) -> (Vec<i32>, Vec<i32>) {
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

// ---------------------------------------------------------------------------
// Feature values.

/// Feature values of every row (row-major), or the error the call must give.
pub fn ref_values(spec: &TreesSpec, data: &FrameBuf) -> Result<Vec<Vec<Fv>>, RefErr> {
    let nan_missing = spec.nan != Some(NanRule::Compare);
    let mut vals = vec![vec![Fv::Missing; spec.features.len()]; data.nrows()];
    // features in order, rows in order: the first unseen level is the error
    for (j, f) in spec.features.iter().enumerate() {
        let col = data.col(&f.input);
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

// ---------------------------------------------------------------------------
// One walk.

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
pub fn reach(spec: &TreesSpec, t: &TreeSpec, kids: &(Vec<i32>, Vec<i32>), i: usize, x: &[Fv]) -> usize {
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

// ---------------------------------------------------------------------------
// Aggregation.

/// The walks of one call: every tree, every row.
struct Walks<'a> {
    spec: &'a TreesSpec,
    vals: Vec<Vec<Fv>>,
    kids: Vec<(Vec<i32>, Vec<i32>)>,
    /// Rows that `na_row` makes NA.
    na_row: Vec<bool>,
    /// Number of classes (0 without).
    k: usize,
}

impl Walks<'_> {
    fn nrows(&self) -> usize {
        self.vals.len()
    }

    fn node(&self, t: usize, r: usize) -> usize {
        reach(self.spec, &self.spec.trees[t], &self.kids[t], 0, &self.vals[r])
    }

    fn value(&self, t: usize, r: usize) -> f64 {
        self.spec.trees[t].value[self.node(t, r)]
    }

    /// A rows x `cols` result, column-major, from each row's values.
    fn fill(&self, cols: usize, f: &dyn Fn(usize, &mut [f64])) -> Pred {
        let n = self.nrows();
        let mut out = vec![0.0; n * cols];
        let mut row = vec![0.0; cols];
        for r in 0..n {
            f(r, &mut row);
            for (c, v) in row.iter().enumerate() {
                out[c * n + r] = *v;
            }
        }
        Pred::Real(out)
    }
}

pub fn reference(doc: &ModelDoc, data: &FrameBuf, opts: &PredictOptions) -> Result<Pred, RefErr> {
    let spec = doc.trees.as_ref().expect("trees");
    let vals = ref_values(spec, data)?;
    let na_row = vals.iter().map(|row| spec.missing == MissingRule::NaRow && row.contains(&Fv::Missing)).collect();
    let kids = spec.trees.iter().map(children).collect();
    let k = match &spec.aggregation {
        Aggregation::VoteValues { values } => values.len(),
        _ => spec.classes.as_ref().map_or(0, |c| c.len()),
    };
    let w = Walks { spec, vals, kids, na_row, k };
    let type_ = opts.type_.clone().unwrap_or_else(|| spec.default_type.clone());
    let used = match (&spec.aggregation, &opts.n_trees) {
        (Aggregation::Sum { .. }, _) | (_, None) => spec.trees.len(),
        (_, Some(v)) => v[0],
    };
    Ok(match &spec.aggregation {
        Aggregation::Single => single(&w, &type_),
        Aggregation::Mean { bias } => mean(&w, used, bias.as_deref()),
        Aggregation::Votes { cutoff } => {
            let counts = type_ == "vote" && opts.norm_votes == Some(false);
            votes(&w, used, cutoff.as_deref(), type_ == "response", counts)
        }
        Aggregation::ProbMean => prob_mean(&w, used),
        // the winning class's number
        Aggregation::VoteValues { values } => match votes(&w, used, None, true, false) {
            Pred::Int(classes) => Pred::Real(
                classes.iter().map(|&c| if c == NA_INTEGER { NA_REAL } else { values[c as usize - 1] }).collect(),
            ),
            other => other,
        },
        Aggregation::MatrixMean => matrix_mean(&w, used),
        // the engine's list parts in order: chf, then survival = exp(-chf)
        Aggregation::Survival { .. } => match matrix_mean(&w, used) {
            Pred::Real(chf) => Pred::Real(chf.iter().copied().chain(chf.iter().map(|c| (-c).exp())).collect()),
            other => other,
        },
        Aggregation::Sum { init, n_classes, transform: tf, default_n_trees } => {
            let ns = opts.n_trees.clone().unwrap_or_else(|| vec![*default_n_trees]);
            let response = type_ == "response";
            sum(&w, init, (*n_classes).max(1), &ns, response.then_some(tf))
        }
    })
}

fn single(w: &Walks, type_: &str) -> Pred {
    let t = &w.spec.trees[0];
    let reached: Vec<usize> = (0..w.nrows()).map(|r| w.node(0, r)).collect();
    let width = |a: &Option<Vec<f64>>| a.as_ref().map_or(0, |v| v.len() / t.feature.len());
    let rows_of = |a: &[f64], wd: usize| w.fill(wd, &|r, row| row.copy_from_slice(&a[reached[r] * wd..][..wd]));
    match type_ {
        "vector" => Pred::Real(reached.iter().map(|&i| t.value[i]).collect()),
        "class" => {
            Pred::Int(reached.iter().map(|&i| if t.value[i] >= 1.0 { t.value[i] as i32 } else { NA_INTEGER }).collect())
        }
        "prob" => rows_of(t.probs.as_ref().expect("probs"), width(&t.probs)),
        "matrix" => match &t.matrix {
            Some(m) => rows_of(m, width(&t.matrix)),
            None => Pred::Real(reached.iter().map(|&i| t.value[i]).collect()),
        },
        other => panic!("type {other}"),
    }
}

fn mean(w: &Walks, used: usize, bias: Option<&[f64]>) -> Pred {
    let one = |r: usize| {
        if w.na_row[r] {
            return NA_REAL;
        }
        let mut s = 0.0;
        for t in 0..used {
            s += w.value(t, r);
        }
        let m = s / used as f64;
        match bias {
            Some(b) => b[0] + b[1] * m,
            None => m,
        }
    };
    Pred::Real((0..w.nrows()).map(one).collect())
}

/// Majority votes (`response`), else the vote shares or, with `counts`,
/// the vote counts.
fn votes(w: &Walks, used: usize, cutoff: Option<&[f64]>, response: bool, counts: bool) -> Pred {
    let k = w.k;
    let votes: Vec<Vec<f64>> = (0..w.nrows())
        .map(|r| {
            let mut v = vec![0.0; k];
            for t in 0..used {
                let c = w.value(t, r);
                // a value that is no class index is no vote
                if c.fract() == 0.0 && c >= 1.0 && c <= k as f64 {
                    v[c as usize - 1] += 1.0;
                }
            }
            v
        })
        .collect();
    let nu = used as f64;
    if !response {
        return w.fill(k, &|r, row| {
            for c in 0..k {
                row[c] = if w.na_row[r] {
                    NA_REAL
                } else if counts {
                    votes[r][c]
                } else {
                    votes[r][c] / nu
                };
            }
        });
    }
    let class = |r: usize| {
        if w.na_row[r] {
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
    };
    Pred::Int((0..w.nrows()).map(class).collect())
}

fn prob_mean(w: &Walks, used: usize) -> Pred {
    let k = w.k;
    w.fill(k, &|r, row| {
        for (c, slot) in row.iter_mut().enumerate() {
            *slot = if w.na_row[r] {
                NA_REAL
            } else {
                let mut s = 0.0;
                for t in 0..used {
                    s += w.spec.trees[t].probs.as_ref().expect("probs")[w.node(t, r) * k + c];
                }
                s / used as f64
            };
        }
    })
}

fn matrix_mean(w: &Walks, used: usize) -> Pred {
    let t0 = &w.spec.trees[0];
    let width = t0.matrix.as_ref().map_or(0, |m| m.len() / t0.feature.len());
    w.fill(width, &|r, row| {
        for (c, slot) in row.iter_mut().enumerate() {
            let mut s = 0.0;
            for t in 0..used {
                s += w.spec.trees[t].matrix.as_ref().expect("matrix")[w.node(t, r) * width + c];
            }
            *slot = s / used as f64;
        }
    })
}

/// `cc` interleaved sums (one per class) for each iteration count in `ns`,
/// through `transform` when given.
fn sum(w: &Walks, init: &[f64], cc: usize, ns: &[usize], transform: Option<&String>) -> Pred {
    w.fill(cc * ns.len(), &|r, row| {
        for (ci, &iters) in ns.iter().enumerate() {
            let mut f: Vec<f64> = (0..cc)
                .map(|c| {
                    let mut v = init[c];
                    for t in (c..iters * cc).step_by(cc) {
                        v += w.value(t, r);
                    }
                    v
                })
                .collect();
            if let Some(tf) = transform {
                apply_transform(tf, &mut f);
            }
            row[ci * cc..(ci + 1) * cc].copy_from_slice(&f);
        }
    })
}

fn apply_transform(name: &str, f: &mut [f64]) {
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
