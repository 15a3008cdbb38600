//! Shallow trees (gbm's, and rpart's) walked without branches.
//!
//! Every tree is padded to the ensemble's depth `D` (a leaf above it is
//! repeated below itself) and stored heap-ordered: node `i`'s children at
//! `2i + 1` and `2i + 2`. A row then takes exactly `D` steps per tree,
//! each `i = 2i + 1 + (x > t)` computed without a branch, so no step waits
//! on a mispredicted branch (performance.md §8.2). Each bottom position
//! maps back to the node of the breadth-first tree it stands for (and its
//! value), so the leaves found are the ones the general walk finds.
//!
//! Every split is numeric. A split on level codes by a mask (`MASK`)
//! reads instead a slot of its own, one per distinct (slot, mask), which
//! holds 0 where the row's code goes left and 1 where it goes right, so
//! that `x > 0.5` decides it: `widen` appends these slots to a row.
//!
//! Only the left and right children are laid out: a row with a missing
//! value (any NaN in its slots) may take a missing-value route or consult
//! surrogates, so it is walked by the general walk. A model with
//! categorical splits by sets has no shallow layout.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use crate::trees::layout::{Tree, CAT, FMASK, LEAF, MASK};
use crate::trees::walk::Rules;

/// Deepest padded tree: 64 splits (1 KB) a tree.
const MAX_DEPTH: usize = 6;
/// Most slots of masks a model may add to a row.
const MAX_MASK_SLOTS: usize = 128;
/// Walks in lockstep: rows through one tree, or trees for one row.
const LANES: usize = 8;
/// Slots of a row that the one-row walk copies to a fixed array.
const ROW_SLOTS: usize = 64;

#[derive(Debug, Clone, Copy)]
#[repr(C)]
struct Split {
    thr: f64,
    slot: u32,
}

#[derive(Debug, Clone)]
pub(super) struct Shallow {
    /// `2^D`: the bottom positions of a tree.
    size: usize,
    /// `size` splits a tree, heap-ordered (the last one unused).
    splits: Vec<Split>,
    /// `size` nodes a tree: the breadth-first node each bottom position is.
    leaves: Vec<u32>,
    /// `size` values a tree: the value of that node (a sum adds them).
    values: Vec<f64>,
    /// Slots of a row as loaded.
    width: usize,
    /// The added slots, in order: (the slot of the code, the mask of the
    /// codes that go left).
    masks: Vec<(u32, u64)>,
}

impl Shallow {
    /// The layout of `trees` (slots of `width`-slot rows already
    /// assigned), if every tree is at most `MAX_DEPTH` deep and has only
    /// numeric and mask splits.
    pub fn new(trees: &[Tree], width: usize) -> Option<Shallow> {
        let mut depth = 0;
        for t in trees {
            depth = depth.max(binary_depth(t)?);
        }
        let size = 1usize << depth;
        let mut s = Shallow {
            size,
            splits: Vec::with_capacity(trees.len() * size),
            leaves: Vec::with_capacity(trees.len() * size),
            values: Vec::with_capacity(trees.len() * size),
            width,
            masks: Vec::new(),
        };
        let mut mask_slot = HashMap::new();
        for t in trees {
            s.push(t, &mut mask_slot)?;
        }
        Some(s)
    }

    /// Add a tree; `None` if a split would fall below the bottom (which
    /// `binary_depth` rules out) or the masks need too many slots.
    fn push(&mut self, t: &Tree, mask_slot: &mut HashMap<(u32, u64), u32>) -> Option<()> {
        let inner = self.size - 1;
        let (s0, l0) = (self.splits.len(), self.leaves.len());
        self.splits.resize(s0 + self.size, Split { thr: 0.0, slot: 0 });
        self.leaves.resize(l0 + self.size, 0);
        self.values.resize(l0 + self.size, 0.0);
        // (node of the tree, position in the padded tree)
        let mut stack = vec![(0u32, 0usize)];
        while let Some((src, pos)) = stack.pop() {
            let n = t.nodes.get(src as usize)?;
            if pos >= inner {
                if n.feature & LEAF == 0 {
                    return None;
                }
                self.leaves[l0 + pos - inner] = src;
                self.values[l0 + pos - inner] = *t.values.get(src as usize)?;
                continue;
            }
            if n.feature & LEAF != 0 {
                // padding: both sides are the leaf, whatever the split says
                stack.extend([(src, 2 * pos + 1), (src, 2 * pos + 2)]);
                continue;
            }
            let slot = n.feature & FMASK;
            self.splits[s0 + pos] = if n.feature & MASK != 0 {
                let key = (slot, n.threshold.to_bits());
                let next = (self.width + self.masks.len()) as u32;
                let added = *mask_slot.entry(key).or_insert(next);
                if added == next {
                    if self.masks.len() == MAX_MASK_SLOTS {
                        return None;
                    }
                    self.masks.push(key);
                }
                Split { thr: 0.5, slot: added }
            } else {
                Split { thr: n.threshold, slot }
            };
            stack.extend([(n.left, 2 * pos + 1), (n.left + 1, 2 * pos + 2)]);
        }
        Some(())
    }

    /// The rows of `xs` (as loaded) that the general walk takes.
    pub fn odd_rows(&self, xs: &[f64], n: usize) -> Vec<usize> {
        (0..n).filter(|&r| odd(&xs[r * self.width..(r + 1) * self.width])).collect()
    }

    /// Slots of a widened row.
    pub fn width(&self) -> usize {
        self.width + self.masks.len()
    }

    /// `n` rows of `xs` (`width` slots a row) with the mask slots added;
    /// the rows themselves when there are none.
    pub fn widen<'a>(&self, xs: &'a [f64], n: usize) -> Cow<'a, [f64]> {
        if self.masks.is_empty() {
            return Cow::Borrowed(&xs[..n * self.width]);
        }
        let mut out = Vec::with_capacity(n * self.width());
        for x in xs.chunks_exact(self.width.max(1)).take(n) {
            out.extend_from_slice(x);
            for &(slot, left) in &self.masks {
                out.push(if left >> code(x[slot as usize]) & 1 == 1 { 0.0 } else { 1.0 });
            }
        }
        Cow::Owned(out)
    }

    /// Tree `t` for every row of `wide` (widened rows): the node each row
    /// reaches into `leaves`. Rows with a missing value (`odd`) take the
    /// general walk, on `xs` as loaded (`width` slots a row).
    #[allow(clippy::too_many_arguments)]
    pub fn rows(
        &self,
        rules: Rules,
        tree: &Tree,
        t: usize,
        wide: &[f64],
        xs: &[f64],
        odd: &[usize],
        leaves: &mut [u32],
    ) {
        self.dispatch(rules, Job::Rows { t, xs: wide, leaves: &mut *leaves });
        let w = self.width;
        for &r in odd {
            leaves[r] = rules.walk_one(tree, &xs[r * w..(r + 1) * w]);
        }
    }

    /// Add the values of `trees`, in tree order, for every row of `wide`
    /// (widened rows) to `acc`, a row's own entry. A row with a missing
    /// value gets a wrong sum here, to be redone by `sum_trees`.
    pub fn sum_rows(&self, rules: Rules, trees: Range<usize>, wide: &[f64], acc: &mut [f64]) {
        self.dispatch(rules, Job::Sum { trees, xs: wide, acc });
    }

    /// Trees `0..used` for the one row `x` (as loaded): tree `t`'s node
    /// into `leaves[t * stride]`. Trees go in lockstep, which overlaps
    /// their chains of steps. A row with a missing value takes the general
    /// walk.
    pub fn trees(&self, rules: Rules, trees: &[Tree], used: usize, x: &[f64], stride: usize, leaves: &mut [u32]) {
        if odd(x) {
            for (t, tree) in trees.iter().enumerate().take(used) {
                leaves[t * stride] = rules.walk_one(tree, x);
            }
            return;
        }
        let wide = self.widen(x, 1);
        self.dispatch(rules, Job::Trees { used, x: &wide, out: Out::Leaves(leaves), stride });
    }

    /// Add the values of trees `0..used` for the one row `x` (as loaded)
    /// to `acc`, in tree order, as `trees` walks them.
    pub fn sum_trees(&self, rules: Rules, trees: &[Tree], used: usize, x: &[f64], acc: &mut f64) {
        if odd(x) {
            for tree in trees.iter().take(used) {
                *acc += tree.values[rules.walk_one(tree, x) as usize];
            }
            return;
        }
        let wide = self.widen(x, 1);
        self.dispatch(rules, Job::Trees { used, x: &wide, out: Out::Sum(std::slice::from_mut(acc)), stride: 0 });
    }

    fn dispatch(&self, rules: Rules, job: Job) {
        if rules.le {
            self.sized::<true>(job)
        } else {
            self.sized::<false>(job)
        }
    }

    /// The walk for this layout's size, a constant in the walk (its loops
    /// unroll and its indices need no bounds checks).
    fn sized<const LE: bool>(&self, job: Job) {
        match self.size {
            1 => self.run::<LE, 1>(job),
            2 => self.run::<LE, 2>(job),
            4 => self.run::<LE, 4>(job),
            8 => self.run::<LE, 8>(job),
            16 => self.run::<LE, 16>(job),
            32 => self.run::<LE, 32>(job),
            _ => self.run::<LE, 64>(job),
        }
    }

    /// Tree `t`: its splits, nodes and values.
    #[inline(always)]
    fn tree<const S: usize>(&self, t: usize) -> Option<Padded<'_, S>> {
        let span = t * S..(t + 1) * S;
        Some((
            self.splits.get(span.clone())?.try_into().ok()?,
            self.leaves.get(span.clone())?.try_into().ok()?,
            self.values.get(span)?.try_into().ok()?,
        ))
    }

    fn run<const LE: bool, const S: usize>(&self, job: Job) {
        let w = self.width();
        match job {
            Job::Rows { t, xs, leaves } => {
                let Some((splits, nodes, _)) = self.tree::<S>(t) else { return };
                rows::<LE, S>(splits, xs, w, leaves.len(), |r, p| leaves[r] = nodes[p]);
            }
            Job::Sum { trees, xs, acc } => {
                let span = trees.start * S..trees.end * S;
                let (Some(splits), Some(values)) = (self.splits.get(span.clone()), self.values.get(span)) else {
                    return;
                };
                sum_rows::<LE, S>(splits, values, xs, w, acc);
            }
            Job::Trees { used, x, out, stride } => {
                // a row that fits a fixed array is read without bounds checks
                if x.len() <= ROW_SLOTS {
                    let mut row = [0.0; ROW_SLOTS];
                    row[..x.len()].copy_from_slice(x);
                    self.trees_of::<LE, S>(used, |slot| row[slot as usize & (ROW_SLOTS - 1)], out, stride);
                } else {
                    self.trees_of::<LE, S>(used, |slot| x[slot as usize], out, stride);
                }
            }
        }
    }

    /// Trees `0..used` for the row that `read` gives the slots of.
    #[inline(always)]
    fn trees_of<const LE: bool, const S: usize>(
        &self,
        used: usize,
        read: impl Fn(u32) -> f64,
        out: Out,
        stride: usize,
    ) {
        let trees = |t| self.tree::<S>(t);
        match out {
            Out::Leaves(leaves) => {
                trees_of_row::<LE, S, _>(trees, used, &read, |t, (_, nodes, _), p| leaves[t * stride] = nodes[p])
            }
            Out::Sum(acc) => {
                let n = used.min(self.splits.len() / S).min(self.values.len() / S);
                acc[0] = sum_of_row::<LE, S>(&self.splits[..n * S], &self.values[..n * S], acc[0], &read);
            }
        }
    }
}

/// What to walk: one tree for many rows, several trees' sum for many
/// rows, or many trees for one row.
enum Job<'a> {
    Rows { t: usize, xs: &'a [f64], leaves: &'a mut [u32] },
    Sum { trees: Range<usize>, xs: &'a [f64], acc: &'a mut [f64] },
    Trees { used: usize, x: &'a [f64], out: Out<'a>, stride: usize },
}

/// What a walk gives: the nodes reached, or their values added up.
enum Out<'a> {
    Leaves(&'a mut [u32]),
    Sum(&'a mut [f64]),
}

type Padded<'a, const S: usize> = (&'a [Split; S], &'a [u32; S], &'a [f64; S]);

/// A padded tree for the first `n` rows of `xs` (`w` slots a row), in
/// lockstep: `emit(row, bottom position)`.
#[inline(always)]
fn rows<const LE: bool, const S: usize>(
    splits: &[Split; S],
    xs: &[f64],
    w: usize,
    n: usize,
    mut emit: impl FnMut(usize, usize),
) {
    let mut r = 0;
    while r + LANES <= n {
        let rows = &xs[r * w..(r + LANES) * w];
        let mut idx = [0usize; LANES];
        for _ in 0..S.trailing_zeros() {
            for (j, i) in idx.iter_mut().enumerate() {
                let s = splits[*i & (S - 1)];
                *i = 2 * *i + 1 + right::<LE>(s, rows[j * w + s.slot as usize]);
            }
        }
        for (j, &i) in idx.iter().enumerate() {
            emit(r + j, (i + 1) & (S - 1));
        }
        r += LANES;
    }
    for r in r..n {
        let x = &xs[r * w..(r + 1) * w];
        emit(r, (descend::<LE, S>(splits, &|slot| x[slot as usize]) + 1) & (S - 1));
    }
}

/// The padded trees of `splits` and `values` for the first `acc.len()`
/// rows of `xs` (`w` slots a row), each row's values added to its entry
/// in tree order. Rows go in lockstep through one tree after another,
/// their sums kept in registers until the last tree. A row that fits
/// `ROW_SLOTS` is copied to a fixed array first: a slot is then read
/// without a bounds check or an address sum.
#[inline(always)]
fn sum_rows<const LE: bool, const S: usize>(splits: &[Split], values: &[f64], xs: &[f64], w: usize, acc: &mut [f64]) {
    let padded = || {
        splits
            .chunks_exact(S)
            .zip(values.chunks_exact(S))
            .filter_map(|(s, v)| Some((s.try_into().ok()?, v.try_into().ok()?)))
    };
    let n = acc.len();
    let mut r = 0;
    if w <= ROW_SLOTS {
        let mut rows = [[0.0; ROW_SLOTS]; LANES];
        while r + LANES <= n {
            for (j, row) in rows.iter_mut().enumerate() {
                row[..w].copy_from_slice(&xs[(r + j) * w..(r + j + 1) * w]);
            }
            let sums = &mut acc[r..r + LANES];
            sums.copy_from_slice(&lanes_sum::<LE, S>(padded(), sums, |j, slot| {
                rows[j][slot as usize & (ROW_SLOTS - 1)]
            }));
            r += LANES;
        }
    } else {
        while r + LANES <= n {
            let rows = &xs[r * w..(r + LANES) * w];
            let sums = &mut acc[r..r + LANES];
            sums.copy_from_slice(&lanes_sum::<LE, S>(padded(), sums, |j, slot| rows[j * w + slot as usize]));
            r += LANES;
        }
    }
    for (r, sum) in acc.iter_mut().enumerate().skip(r) {
        let x = &xs[r * w..(r + 1) * w];
        for (splits, values) in padded() {
            let (splits, values): (&[Split; S], &[f64; S]) = (splits, values);
            *sum += values[(descend::<LE, S>(splits, &|slot| x[slot as usize]) + 1) & (S - 1)];
        }
    }
}

/// `LANES` rows, whose slots `read(lane, slot)` gives, through the padded
/// trees in lockstep: `start` plus each lane's values, in tree order.
#[inline(always)]
fn lanes_sum<'a, const LE: bool, const S: usize>(
    trees: impl Iterator<Item = (&'a [Split; S], &'a [f64; S])>,
    start: &[f64],
    read: impl Fn(usize, u32) -> f64,
) -> [f64; LANES] {
    let mut sum: [f64; LANES] = std::array::from_fn(|j| start[j]);
    for (splits, values) in trees {
        let mut idx = [0usize; LANES];
        for _ in 0..S.trailing_zeros() {
            for (j, i) in idx.iter_mut().enumerate() {
                let s = splits[*i & (S - 1)];
                *i = 2 * *i + 1 + right::<LE>(s, read(j, s.slot));
            }
        }
        for (sum, &i) in sum.iter_mut().zip(&idx) {
            *sum += values[(i + 1) & (S - 1)];
        }
    }
    sum
}

/// Trees `0..used` for one row, in lockstep: `emit(tree, its parts, bottom
/// position)`, in tree order.
#[inline(always)]
fn trees_of_row<'a, const LE: bool, const S: usize, F: Fn(usize) -> Option<Padded<'a, S>>>(
    tree: F,
    used: usize,
    read: &impl Fn(u32) -> f64,
    mut emit: impl FnMut(usize, Padded<'a, S>, usize),
) {
    let Some(first) = tree(0) else { return };
    let mut t = 0;
    while t + LANES <= used {
        let group: [Padded<S>; LANES] = std::array::from_fn(|j| tree(t + j).unwrap_or(first));
        let mut idx = [0usize; LANES];
        for _ in 0..S.trailing_zeros() {
            for (i, (splits, _, _)) in idx.iter_mut().zip(&group) {
                let s = splits[*i & (S - 1)];
                *i = 2 * *i + 1 + right::<LE>(s, read(s.slot));
            }
        }
        for (j, (&i, &g)) in idx.iter().zip(&group).enumerate() {
            emit(t + j, g, (i + 1) & (S - 1));
        }
        t += LANES;
    }
    for t in t..used {
        if let Some(g) = tree(t) {
            emit(t, g, (descend::<LE, S>(g.0, read) + 1) & (S - 1));
        }
    }
}

/// `sum` plus the values one row reaches in the padded trees of `splits`
/// and `values`, added in tree order. `LANES` trees go in lockstep, each
/// indexed from the group's start (one base, not a pointer a tree, so the
/// lanes' state fits in registers); the sum's chain of adds stays in a
/// register.
#[inline(always)]
fn sum_of_row<const LE: bool, const S: usize>(
    splits: &[Split],
    values: &[f64],
    mut sum: f64,
    read: &impl Fn(u32) -> f64,
) -> f64 {
    let mut groups = splits.chunks_exact(LANES * S).zip(values.chunks_exact(LANES * S));
    for (gs, gv) in &mut groups {
        let (gs, gv) = (&gs[..LANES * S], &gv[..LANES * S]);
        let mut idx = [0usize; LANES];
        for _ in 0..S.trailing_zeros() {
            for (j, i) in idx.iter_mut().enumerate() {
                let s = gs[j * S + (*i & (S - 1))];
                *i = 2 * *i + 1 + right::<LE>(s, read(s.slot));
            }
        }
        for (j, &i) in idx.iter().enumerate() {
            sum += gv[j * S + ((i + 1) & (S - 1))];
        }
    }
    let done = splits.len() / (LANES * S) * LANES * S;
    for (s, v) in splits[done..].chunks_exact(S).zip(values[done..].chunks_exact(S)) {
        if let (Ok(s), Ok(v)) = (<&[Split; S]>::try_from(s), <&[f64; S]>::try_from(v)) {
            sum += v[(descend::<LE, S>(s, read) + 1) & (S - 1)];
        }
    }
    sum
}

/// One row down one padded tree: its bottom position, `S - 1 ..= 2S - 2`
/// (so `(i + 1) & (S - 1)` is its index among the bottom positions).
#[inline(always)]
fn descend<const LE: bool, const S: usize>(splits: &[Split; S], read: &impl Fn(u32) -> f64) -> usize {
    let mut i = 0;
    for _ in 0..S.trailing_zeros() {
        let s = splits[i & (S - 1)];
        i = 2 * i + 1 + right::<LE>(s, read(s.slot));
    }
    i
}

/// 1 if split `s` sends `x` right, as the general walk compares.
#[inline(always)]
fn right<const LE: bool>(s: Split, x: f64) -> usize {
    usize::from(if LE { !(x <= s.thr) } else { !(x < s.thr) })
}

/// A row the shallow walk leaves to the general walk: one with a missing
/// value, which may take a missing-value route.
fn odd(x: &[f64]) -> bool {
    x.iter().any(|v| v.is_nan())
}

/// 2^52: adding it to a whole number below 2^52 puts the number in the
/// low bits of the sum's representation.
const TWO_52: f64 = 4_503_599_627_370_496.0;

/// The level code in a slot a mask split reads (a whole number below 64,
/// as the general walk reads it with `as u32`), as a shift.
fn code(x: f64) -> u64 {
    (x + TWO_52).to_bits() & 63
}

/// Depth of the tree through left and right children only (a missing
/// child is the general walk's), if at most `MAX_DEPTH` and every split
/// on that path is numeric or a mask.
fn binary_depth(t: &Tree) -> Option<usize> {
    // breadth-first: children come after their parent
    let mut depth = vec![usize::MAX; t.nodes.len()];
    depth[0] = 0;
    let mut deepest = 0;
    for (i, n) in t.nodes.iter().enumerate() {
        if depth[i] == usize::MAX || n.feature & LEAF != 0 {
            continue;
        }
        if n.feature & CAT != 0 || depth[i] + 1 > MAX_DEPTH {
            return None;
        }
        let l = n.left as usize;
        for c in [l, l + 1] {
            *depth.get_mut(c)? = depth[i] + 1;
        }
        deepest = deepest.max(depth[i] + 1);
    }
    Some(deepest)
}
