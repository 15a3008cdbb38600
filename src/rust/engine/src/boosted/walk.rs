//! The walk: each (tree, row) from the root to its leaf, and the leaf's
//! value added to the row's output.
//!
//! A step is `i = left(i) + right?`, with `right?` computed without a
//! branch from the node's threshold and flags. One walk is a chain of
//! dependent loads (node, then the row's slot, then the next node), so
//! several walks go in lockstep (`LANES`) to overlap their latencies:
//! several rows through one tree for a block of rows (`*_rows`), several
//! trees for one row (`*_trees`, the single-row path). Either way each
//! row's sum takes the trees in order, so results do not depend on which
//! path or how many threads computed them.

use std::ops::Range;

use super::layout::{Complete, General, Real, CAT, DEFAULT_LEFT, SET_LEFT, SLOT};

/// Walks in lockstep.
pub(super) const LANES: usize = 8;

/// 1 if a numeric split sends `x` right: `x <= t` goes left, a missing
/// value (NaN) goes to the default child.
#[inline(always)]
fn right<T: Real>(x: T, thr: T, feat: u32) -> usize {
    // !(NaN <= t) is true: a NaN goes right unless the default is left
    let r = u32::from(!(x <= thr)) ^ (u32::from(x.nan()) & (feat >> 31));
    r as usize
}

/// Category sets as bitsets: set `s` is `words[spans[s].0 ..][.. spans[s].1]`.
#[derive(Debug, Clone, Default)]
pub(super) struct CatSets {
    pub spans: Vec<(u32, u32)>,
    pub words: Vec<u32>,
}

impl CatSets {
    /// Add a set of codes; its index.
    pub fn push(&mut self, codes: &[u32]) -> usize {
        let n = codes.iter().map(|&c| c as usize / 32 + 1).max().unwrap_or(0);
        let start = self.words.len();
        self.words.resize(start + n, 0);
        for &c in codes {
            self.words[start + c as usize / 32] |= 1 << (c % 32);
        }
        self.spans.push((start as u32, n as u32));
        self.spans.len() - 1
    }

    #[inline]
    fn contains(&self, set: usize, code: f64) -> bool {
        let Some(&(start, n)) = self.spans.get(set) else { return false };
        if !(code >= 0.0) {
            return false;
        }
        let (w, b) = ((code as u64 / 32) as usize, code as u64 % 32);
        w < n as usize && self.words[start as usize + w] >> b & 1 == 1
    }

    /// 1 if a categorical split sends slot value `x` right.
    #[cold]
    #[inline(never)]
    fn right<T: Real>(&self, thr: T, feat: u32, x: T) -> usize {
        if x.nan() {
            return usize::from(feat & DEFAULT_LEFT == 0);
        }
        let inside = self.contains(thr.to_f64() as usize, x.to_f64());
        usize::from(inside != (feat & SET_LEFT != 0))
    }
}

/// Complete layout, tree `t` for every row of `xs` (`w` slots a row):
/// `acc[row * k + g] += leaf`.
#[allow(clippy::too_many_arguments)]
pub(super) fn complete_rows<T: Real>(
    c: &Complete<T>,
    leaves: &[T],
    t: usize,
    xs: &[T],
    w: usize,
    acc: &mut [T],
    k: usize,
    g: usize,
) {
    let inner = c.inner();
    let nodes = &c.nodes[t * inner..(t + 1) * inner];
    let leaves = &leaves[t * (inner + 1)..(t + 1) * (inner + 1)];
    let n = xs.len() / w;
    let mut r = 0;
    while r + LANES <= n {
        let rows = &xs[r * w..(r + LANES) * w];
        let mut idx = [0usize; LANES];
        for _ in 0..c.depth {
            for (j, i) in idx.iter_mut().enumerate() {
                let nd = nodes[*i];
                let x = rows[j * w + (nd.feat & SLOT) as usize];
                *i = 2 * *i + 1 + right(x, nd.thr, nd.feat);
            }
        }
        for (j, &i) in idx.iter().enumerate() {
            let a = &mut acc[(r + j) * k + g];
            *a = *a + leaves[i - inner];
        }
        r += LANES;
    }
    for r in r..n {
        let row = &xs[r * w..(r + 1) * w];
        let mut i = 0;
        for _ in 0..c.depth {
            let nd = nodes[i];
            i = 2 * i + 1 + right(row[(nd.feat & SLOT) as usize], nd.thr, nd.feat);
        }
        let a = &mut acc[r * k + g];
        *a = *a + leaves[i - inner];
    }
}

/// Complete layout, trees `trees` for one row `x`: `acc[groups[t]] += leaf`
/// in tree order.
pub(super) fn complete_trees<T: Real>(
    c: &Complete<T>,
    leaves: &[T],
    trees: Range<usize>,
    x: &[T],
    groups: &[u32],
    acc: &mut [T],
) {
    let inner = c.inner();
    let mut t = trees.start;
    while t + LANES <= trees.end {
        let mut idx = [0usize; LANES];
        for _ in 0..c.depth {
            for (j, i) in idx.iter_mut().enumerate() {
                let nd = c.nodes[(t + j) * inner + *i];
                *i = 2 * *i + 1 + right(x[(nd.feat & SLOT) as usize], nd.thr, nd.feat);
            }
        }
        for (j, &i) in idx.iter().enumerate() {
            let a = &mut acc[groups[t + j] as usize];
            *a = *a + leaves[(t + j) * (inner + 1) + i - inner];
        }
        t += LANES;
    }
    for t in t..trees.end {
        let mut i = 0;
        for _ in 0..c.depth {
            let nd = c.nodes[t * inner + i];
            i = 2 * i + 1 + right(x[(nd.feat & SLOT) as usize], nd.thr, nd.feat);
        }
        let a = &mut acc[groups[t] as usize];
        *a = *a + leaves[t * (inner + 1) + i - inner];
    }
}

/// The node range of tree `t` of a general layout.
#[inline]
fn span<T>(g: &General<T>, t: usize) -> Range<usize> {
    let start = g.trees[t].0 as usize;
    let end = g.trees.get(t + 1).map_or(g.nodes.len(), |n| n.0 as usize);
    start..end
}

/// One step of a general-layout walk.
#[inline(always)]
fn general_step<T: Real, const C: bool>(nodes: &[super::layout::Link<T>], sets: &CatSets, i: usize, x: &[T]) -> usize {
    let nd = nodes[i];
    let v = x[(nd.feat & SLOT) as usize];
    let r = if C && nd.feat & CAT != 0 { sets.right(nd.thr, nd.feat, v) } else { right(v, nd.thr, nd.feat) };
    nd.left as usize + r
}

/// General layout, tree `t` for every row of `xs`, as `complete_rows`.
#[allow(clippy::too_many_arguments)]
pub(super) fn general_rows<T: Real>(
    gl: &General<T>,
    values: &[T],
    sets: &CatSets,
    t: usize,
    xs: &[T],
    w: usize,
    acc: &mut [T],
    k: usize,
    g: usize,
) {
    if gl.has_cat[t] {
        general_rows_impl::<T, true>(gl, values, sets, t, xs, w, acc, k, g)
    } else {
        general_rows_impl::<T, false>(gl, values, sets, t, xs, w, acc, k, g)
    }
}

#[allow(clippy::too_many_arguments)]
fn general_rows_impl<T: Real, const C: bool>(
    gl: &General<T>,
    values: &[T],
    sets: &CatSets,
    t: usize,
    xs: &[T],
    w: usize,
    acc: &mut [T],
    k: usize,
    g: usize,
) {
    let s = span(gl, t);
    let (nodes, values) = (&gl.nodes[s.clone()], &values[s]);
    let depth = gl.trees[t].1;
    let n = xs.len() / w;
    let mut r = 0;
    while r + LANES <= n {
        let rows = &xs[r * w..(r + LANES) * w];
        let mut idx = [0usize; LANES];
        // until every walk has reached its leaf (where it stays)
        for _ in 0..depth {
            let mut moved = false;
            for (j, i) in idx.iter_mut().enumerate() {
                let next = general_step::<T, C>(nodes, sets, *i, &rows[j * w..(j + 1) * w]);
                moved |= next != *i;
                *i = next;
            }
            if !moved {
                break;
            }
        }
        for (j, &i) in idx.iter().enumerate() {
            let a = &mut acc[(r + j) * k + g];
            *a = *a + values[i];
        }
        r += LANES;
    }
    for r in r..n {
        let row = &xs[r * w..(r + 1) * w];
        let mut i = 0;
        for _ in 0..depth {
            let next = general_step::<T, C>(nodes, sets, i, row);
            if next == i {
                break;
            }
            i = next;
        }
        let a = &mut acc[r * k + g];
        *a = *a + values[i];
    }
}

/// General layout, trees `trees` for one row, as `complete_trees`.
pub(super) fn general_trees<T: Real>(
    gl: &General<T>,
    values: &[T],
    sets: &CatSets,
    trees: Range<usize>,
    x: &[T],
    groups: &[u32],
    acc: &mut [T],
) {
    let mut t = trees.start;
    while t + LANES <= trees.end {
        let group = t..t + LANES;
        if gl.has_cat[group.clone()].iter().any(|&c| c) {
            general_trees_impl::<T, true>(gl, values, sets, group, x, groups, acc);
        } else {
            general_trees_impl::<T, false>(gl, values, sets, group, x, groups, acc);
        }
        t += LANES;
    }
    for t in t..trees.end {
        let s = span(gl, t);
        let nodes = &gl.nodes[s.clone()];
        let mut i = 0;
        for _ in 0..gl.trees[t].1 {
            let next = if gl.has_cat[t] {
                general_step::<T, true>(nodes, sets, i, x)
            } else {
                general_step::<T, false>(nodes, sets, i, x)
            };
            if next == i {
                break;
            }
            i = next;
        }
        let a = &mut acc[groups[t] as usize];
        *a = *a + values[s.start + i];
    }
}

fn general_trees_impl<T: Real, const C: bool>(
    gl: &General<T>,
    values: &[T],
    sets: &CatSets,
    trees: Range<usize>,
    x: &[T],
    groups: &[u32],
    acc: &mut [T],
) {
    let t0 = trees.start;
    let mut base = [0usize; LANES];
    let mut depth = 0;
    for (j, b) in base.iter_mut().enumerate() {
        *b = gl.trees[t0 + j].0 as usize;
        depth = depth.max(gl.trees[t0 + j].1);
    }
    let mut idx = [0usize; LANES];
    for _ in 0..depth {
        let mut moved = false;
        for (j, i) in idx.iter_mut().enumerate() {
            // node indices are the tree's own: its children follow its
            // first node
            let next = general_step::<T, C>(&gl.nodes[base[j]..], sets, *i, x);
            moved |= next != *i;
            *i = next;
        }
        if !moved {
            break;
        }
    }
    for (j, &i) in idx.iter().enumerate() {
        let a = &mut acc[groups[t0 + j] as usize];
        *a = *a + values[base[j] + i];
    }
}
