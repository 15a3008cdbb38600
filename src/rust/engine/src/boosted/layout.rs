//! Boosted trees laid out for the walk.
//!
//! Boosted trees are shallow and small: a 500-tree depth-6 model is a few
//! hundred kilobytes and lives in L2, so the walk is limited by its chain
//! of dependent steps and by branch mispredictions, not by memory (see
//! `shared/reference/performance.md` §8.2). Two layouts serve it:
//!
//! * **complete**: every tree padded to one depth `D` (the model's
//!   deepest), node `i`'s children at `2i + 1` and `2i + 2`, a node 8 bytes
//!   (float32) or 16 (double): a threshold and a slot with flag bits. The
//!   walk is exactly `D` branch-free steps; a leaf above depth `D` is
//!   repeated below itself. For models without categorical splits whose
//!   padding stays small.
//! * **general**: each tree breadth-first with adjacent children (right =
//!   left + 1), a node holding its left child; a leaf points at itself, so
//!   extra steps stay there. Any depth, categorical splits.
//!
//! Every numeric split is stored as `x <= t` goes left (xgboost's `x < t`
//! in float32 is `x <= t'` with `t'` the float just below `t`), and a
//! missing value (NaN in a slot) takes the default child: one rule for
//! both libraries, the rest done when a row's slots are loaded (`slots`).

use std::fmt::Debug;
use std::ops::{Add, Div, Mul, Sub};

/// The slot a node reads, in the low bits of its `feat`.
pub(super) const SLOT: u32 = (1 << 28) - 1;
/// A missing value goes left.
pub(super) const DEFAULT_LEFT: u32 = 1 << 31;
/// A categorical split: `thr` holds the index of its set.
pub(super) const CAT: u32 = 1 << 30;
/// At a categorical split, the codes in the set go left (LightGBM); else
/// right (xgboost).
pub(super) const SET_LEFT: u32 = 1 << 29;

/// Float32 (xgboost) or double (LightGBM).
pub(super) trait Real:
    Copy
    + Send
    + Sync
    + Debug
    + Default
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + 'static
{
    const INFINITY: Self;
    fn of(v: f64) -> Self;
    fn to_f64(self) -> f64;
    fn nan(self) -> bool;
}

impl Real for f32 {
    const INFINITY: f32 = f32::INFINITY;
    #[inline(always)]
    fn of(v: f64) -> f32 {
        v as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    #[inline(always)]
    fn nan(self) -> bool {
        self.is_nan()
    }
}

impl Real for f64 {
    const INFINITY: f64 = f64::INFINITY;
    #[inline(always)]
    fn of(v: f64) -> f64 {
        v
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn nan(self) -> bool {
        self.is_nan()
    }
}

/// The largest float32 below `t`: `x < t` is `x <= below(t)` for every
/// float32 `x`, NaN included (false either way). Nothing is below -inf:
/// then NaN, which no `x <= NaN` passes.
pub(super) fn below_f32(t: f32) -> f32 {
    if t == f32::NEG_INFINITY || t.is_nan() {
        return f32::NAN;
    }
    if t == 0.0 {
        // -0.0 and 0.0: the negative number closest to zero
        return -f32::from_bits(1);
    }
    let b = t.to_bits();
    f32::from_bits(if t > 0.0 { b - 1 } else { b + 1 })
}

/// A node of the complete layout.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub(super) struct Node<T> {
    pub thr: T,
    pub feat: u32,
}

/// A node of the general layout.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub(super) struct Link<T> {
    pub thr: T,
    pub feat: u32,
    pub left: u32,
}

/// A tree as checked from the document: nodes in document order, a split's
/// `feat` already the slot and flags, its `thr` in the `<=` form.
#[derive(Debug, Clone)]
pub(super) struct Plain<T> {
    pub nodes: Vec<PlainNode<T>>,
    /// Longest root-to-leaf path, in edges.
    pub depth: u32,
    pub has_cat: bool,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum PlainNode<T> {
    /// The leaf's value, and its value on the other dart path (the same
    /// for other boosters).
    Leaf {
        value: T,
        alt: T,
    },
    Split {
        feat: u32,
        thr: T,
        left: u32,
        right: u32,
    },
}

/// The trees of a model, laid out.
#[derive(Debug, Clone)]
pub(super) enum Layout<T> {
    Complete(Complete<T>),
    General(General<T>),
}

#[derive(Debug, Clone)]
pub(super) struct Complete<T> {
    /// Levels every tree is padded to.
    pub depth: u32,
    /// `2^depth - 1` nodes per tree.
    pub nodes: Vec<Node<T>>,
    /// `2^depth` leaf values per tree.
    pub leaves: Vec<T>,
    /// The other dart path's leaf values, if they differ.
    pub alt: Option<Vec<T>>,
}

impl<T: Real> Complete<T> {
    pub fn inner(&self) -> usize {
        (1usize << self.depth) - 1
    }
}

#[derive(Debug, Clone)]
pub(super) struct General<T> {
    /// Per tree: its first node, and its depth.
    pub trees: Vec<(u32, u32)>,
    pub nodes: Vec<Link<T>>,
    /// A leaf's value at its node (0 at splits).
    pub values: Vec<T>,
    pub alt: Option<Vec<T>>,
    /// Per tree: whether it has categorical splits.
    pub has_cat: Vec<bool>,
}

/// Padded nodes a complete layout may hold per actual node: beyond it the
/// padding costs more cache than the branch-free walk saves.
const MAX_PADDING: usize = 4;
/// The deepest trees the complete layout takes (2^10 leaves a tree).
const MAX_COMPLETE_DEPTH: u32 = 10;

/// Lay out `trees`: complete if none has a categorical split and the
/// padding stays small, else general.
pub(super) fn lay_out<T: Real>(trees: &[Plain<T>], dart: bool) -> Layout<T> {
    let depth = trees.iter().map(|t| t.depth).max().unwrap_or(0);
    let actual: usize = trees.iter().map(|t| t.nodes.len()).sum();
    let padded = trees.len().saturating_mul(2usize << depth.min(MAX_COMPLETE_DEPTH));
    if depth <= MAX_COMPLETE_DEPTH && !trees.iter().any(|t| t.has_cat) && padded <= MAX_PADDING * actual.max(1) {
        Layout::Complete(complete(trees, depth, dart))
    } else {
        Layout::General(general(trees, dart))
    }
}

fn complete<T: Real>(trees: &[Plain<T>], depth: u32, dart: bool) -> Complete<T> {
    let inner = (1usize << depth) - 1;
    let pad = Node { thr: T::INFINITY, feat: DEFAULT_LEFT };
    let mut nodes = vec![pad; inner * trees.len()];
    let mut leaves = vec![T::default(); (inner + 1) * trees.len()];
    let mut alt = if dart { vec![T::default(); leaves.len()] } else { Vec::new() };
    for (t, tree) in trees.iter().enumerate() {
        let (nb, lb) = (t * inner, t * (inner + 1));
        // (document node, position in the complete tree, its level)
        let mut stack = vec![(0u32, 0usize, 0u32)];
        while let Some((i, pos, level)) = stack.pop() {
            match tree.nodes[i as usize] {
                PlainNode::Split { feat, thr, left, right } => {
                    nodes[nb + pos] = Node { thr, feat };
                    stack.push((left, 2 * pos + 1, level + 1));
                    stack.push((right, 2 * pos + 2, level + 1));
                }
                PlainNode::Leaf { value, alt: a } => {
                    // a leaf above the last level fills every leaf below it;
                    // the padding nodes above them (always left) lead to one
                    let below = depth - level;
                    let first = ((pos + 1) << below) - 1 - inner;
                    for k in first..first + (1 << below) {
                        leaves[lb + k] = value;
                        if dart {
                            alt[lb + k] = a;
                        }
                    }
                }
            }
        }
    }
    Complete { depth, nodes, leaves, alt: dart.then_some(alt) }
}

fn general<T: Real>(trees: &[Plain<T>], dart: bool) -> General<T> {
    let total: usize = trees.iter().map(|t| t.nodes.len()).sum();
    let mut out = General {
        trees: Vec::with_capacity(trees.len()),
        nodes: Vec::with_capacity(total),
        values: Vec::with_capacity(total),
        alt: dart.then(|| Vec::with_capacity(total)),
        has_cat: trees.iter().map(|t| t.has_cat).collect(),
    };
    for tree in trees {
        let start = out.nodes.len();
        out.trees.push((start as u32, tree.depth));
        // breadth-first, children adjacent: `order` holds document nodes in
        // their new order
        let mut order = vec![0u32];
        let mut head = 0;
        while head < order.len() {
            let i = order[head];
            let k = head as u32;
            head += 1;
            match tree.nodes[i as usize] {
                PlainNode::Split { feat, thr, left, right } => {
                    let l = order.len() as u32;
                    order.push(left);
                    order.push(right);
                    out.nodes.push(Link { thr, feat, left: l });
                    out.values.push(T::default());
                    if let Some(a) = out.alt.as_mut() {
                        a.push(T::default());
                    }
                }
                PlainNode::Leaf { value, alt } => {
                    // x <= inf holds for every number, and a missing value
                    // goes left: the walk stays at the leaf
                    out.nodes.push(Link { thr: T::INFINITY, feat: DEFAULT_LEFT, left: k });
                    out.values.push(value);
                    if let Some(a) = out.alt.as_mut() {
                        a.push(alt);
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
