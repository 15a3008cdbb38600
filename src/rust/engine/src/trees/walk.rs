//! The walk: from the root to the node where a row stops, for a block of
//! rows at a time (or for one row, several trees at a time). This is the hot path; plain numeric nodes take a short
//! branch-light step, and everything rarer goes through `advance_slow`.

use crate::frame::is_r_na;
use crate::trees::layout::{Dir, Node, Tree, CAT, FMASK, LEAF, MASK, NO_CHILD, ROUTE};

/// Rows walked together through one tree (memory-level parallelism).
const LANES: usize = 4;
/// Trees walked together for one row: a big forest's nodes are far apart,
/// so each walk is a chain of cache misses, and only separate trees'
/// chains overlap.
const TREE_LANES: usize = 16;

/// The comparison rules of a model, fixed for its every node.
#[derive(Debug, Clone, Copy)]
pub(super) struct Rules {
    /// Numeric splits send `x <= t` left (else `x < t`).
    pub le: bool,
    /// Whether any NaN is missing, or only R's `NA`.
    pub nan_missing: bool,
}

impl Rules {
    #[inline]
    pub fn is_missing(self, v: f64) -> bool {
        v.is_nan() && (self.nan_missing || is_r_na(v))
    }

    /// Walk `tree` for every row of the block (`w` slots a row), writing
    /// the node each row stops at into `leaves`.
    pub fn walk(self, tree: &Tree, xs: &[f64], w: usize, leaves: &mut [u32]) {
        if self.le {
            walk::<true>(self, tree, xs, w, leaves)
        } else {
            walk::<false>(self, tree, xs, w, leaves)
        }
    }

    /// Walk trees `0..used` for the one row `x`, writing the node tree `t`
    /// stops at into `leaves[t * stride]`.
    pub fn walk_trees(self, trees: &[Tree], used: usize, x: &[f64], stride: usize, leaves: &mut [u32]) {
        if self.le {
            walk_trees::<true>(self, &trees[..used], x, stride, leaves)
        } else {
            walk_trees::<false>(self, &trees[..used], x, stride, leaves)
        }
    }

    /// The next node from node `i` for the one row `x` (`i` itself where
    /// the walk ends).
    #[inline(never)]
    pub fn advance_one(self, tree: &Tree, i: u32, x: &[f64]) -> u32 {
        if self.le {
            advance::<true>(self, tree, i, x, 0, x.len())
        } else {
            advance::<false>(self, tree, i, x, 0, x.len())
        }
    }

    /// The node one row `x` stops at.
    pub fn walk_one(self, tree: &Tree, x: &[f64]) -> u32 {
        if self.le {
            walk_one::<true>(self, tree, x)
        } else {
            walk_one::<false>(self, tree, x)
        }
    }
}

fn walk_one<const LE: bool>(rules: Rules, tree: &Tree, x: &[f64]) -> u32 {
    let mut i = 0;
    loop {
        let next = advance::<LE>(rules, tree, i, x, 0, x.len());
        if next == i {
            return i;
        }
        i = next;
    }
}

fn walk_trees<const LE: bool>(rules: Rules, trees: &[Tree], x: &[f64], stride: usize, leaves: &mut [u32]) {
    let mut groups = trees.chunks_exact(TREE_LANES);
    let mut t = 0;
    for group in &mut groups {
        let depth = group.iter().map(|tree| tree.max_depth).max().unwrap_or(0);
        let idx = lockstep::<TREE_LANES>(depth, |j, i| advance::<LE>(rules, &group[j], i, x, 0, x.len()));
        for (j, &i) in idx.iter().enumerate() {
            leaves[(t + j) * stride] = i;
        }
        t += TREE_LANES;
    }
    for (j, tree) in groups.remainder().iter().enumerate() {
        leaves[(t + j) * stride] = walk_one::<LE>(rules, tree, x);
    }
}

fn walk<const LE: bool>(rules: Rules, tree: &Tree, xs: &[f64], w: usize, leaves: &mut [u32]) {
    let n = leaves.len();
    let mut r = 0;
    while r + LANES <= n {
        let idx = lockstep::<LANES>(tree.max_depth, |j, i| advance::<LE>(rules, tree, i, xs, (r + j) * w, w));
        leaves[r..r + LANES].copy_from_slice(&idx);
        r += LANES;
    }
    for (k, leaf) in leaves.iter_mut().enumerate().skip(r) {
        *leaf = walk_one::<LE>(rules, tree, &xs[k * w..(k + 1) * w]);
    }
}

/// `N` walks from the root in lockstep, `step(lane, node)` the next node
/// of a lane: until every walk has ended, and never longer than `depth`
/// (which saves a pass on shallow trees). The nodes they stop at.
#[inline(always)]
fn lockstep<const N: usize>(depth: usize, step: impl Fn(usize, u32) -> u32) -> [u32; N] {
    let mut idx = [0u32; N];
    for _ in 0..depth {
        let mut moved = false;
        for (j, i) in idx.iter_mut().enumerate() {
            let next = step(j, *i);
            moved |= next != *i;
            *i = next;
        }
        if !moved {
            break;
        }
    }
    idx
}

/// The next node from node `i` for the row at `xs[at..at + w]`; `i`
/// itself when the walk ends there (a leaf, or a stop for lack of a
/// route). A numeric split is tested first, on its own: most nodes are
/// numeric, and a routed one (rpart's, gbm's) leaves only for a missing
/// value.
#[inline(always)]
fn advance<const LE: bool>(rules: Rules, tree: &Tree, i: u32, xs: &[f64], at: usize, w: usize) -> u32 {
    let n = &tree.nodes[i as usize];
    let f = n.feature;
    if f & (LEAF | CAT | MASK) == 0 {
        // a numeric split: the slot in the low bits alone, unless routed
        let v = xs[at + (f & FMASK) as usize];
        if f & ROUTE == 0 || !v.is_nan() {
            let right = if LE { !(v <= n.threshold) } else { !(v < n.threshold) };
            return n.left + right as u32;
        }
    }
    if f & LEAF != 0 {
        return i;
    }
    let x = &xs[at..at + w];
    if f & (CAT | MASK) == MASK {
        // a level code (false for a missing one)
        let v = x[(f & FMASK) as usize];
        if v >= 0.0 {
            let left = n.threshold.to_bits() >> (v as u32) & 1 == 1;
            return n.left + u32::from(!left);
        }
    }
    advance_slow::<LE>(rules, tree, i, n, x)
}

#[cold]
fn advance_slow<const LE: bool>(rules: Rules, tree: &Tree, i: u32, n: &Node, x: &[f64]) -> u32 {
    let v = x[(n.feature & FMASK) as usize];
    let dir = if n.feature & CAT != 0 {
        tree.cats[n.threshold as usize].dir(v)
    } else if rules.is_missing(v) || (n.feature & MASK != 0 && !(v >= 0.0)) {
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
        Dir::Missing => missing_route(rules, tree, i, n, x),
    }
}

/// Surrogates in order, then the missing child; with neither the walk
/// stops at the node, which predicts.
fn missing_route(rules: Rules, tree: &Tree, i: u32, n: &Node, x: &[f64]) -> u32 {
    let iu = i as usize;
    if let (Some(&a), Some(&b)) = (tree.surr_start.get(iu), tree.surr_start.get(iu + 1)) {
        for s in &tree.surr[a as usize..b as usize] {
            let v = x[s.feature as usize];
            let dir = if s.categorical {
                tree.cats[s.threshold as usize].dir(v)
            } else if rules.is_missing(v) {
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
        Some(&m) if m != NO_CHILD => m,
        _ => i,
    }
}
