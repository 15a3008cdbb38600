//! The compact walk of a big forest: 8-byte nodes over rows of 32-bit bins.
//!
//! A deep forest's nodes do not fit in cache, and a block's rows of doubles
//! do not either, so its walk waits on memory at each level. Here each
//! feature's thresholds (those of its plain numeric splits, over the whole
//! forest) are sorted, a row's value becomes its bin, the number of
//! thresholds it passes, and a node keeps the index of its threshold: the
//! walk goes right exactly when the bin is above the index, the same
//! answer as comparing the doubles (for `x <= t`, a value's bin counts the
//! thresholds below it; for `x < t`, those at or below it). A node is then
//! 8 bytes and a row 4 bytes a slot.
//!
//! A split on level codes by a mask becomes a plain split too, on a slot
//! of its own after the row's: its bin is 1 where the row's code goes
//! right, and the node's index is 0. A row whose code no mask can read
//! walks the trees with such splits on the general walk. A tree of plain
//! splits alone takes a step without branches; any other node (a split on
//! a category set, a mask beyond the slots, a missing value at a routed
//! split) takes its step on the general walk. The compact nodes keep the
//! general layout's indices, so the node a walk stops at is the same.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::trees::layout::{Tree, CAT, FMASK, LEAF, MASK, ROUTE};
use crate::trees::walk::Rules;

/// A node's word: the slot in the low bits, a kind, the left child in the
/// high bits.
const SLOT_BITS: u32 = 8;
const SLOT: u32 = (1 << SLOT_BITS) - 1;
/// The slots a node can name (a row's and the masks' own).
const ROW: usize = 1 << SLOT_BITS;
const KIND: u32 = 3 << SLOT_BITS;
/// A routed numeric split: compact unless the value is missing.
const ROUTED: u32 = 2 << SLOT_BITS;
/// A split on level codes whose mask has no slot, `key` the bits of the
/// codes below 32 that go right (a larger code takes the general step).
const MASKED: u32 = 1 << SLOT_BITS;
/// Any split the compact walk leaves to the general one.
const GENERAL: u32 = 3 << SLOT_BITS;
const LEFT_SHIFT: u32 = SLOT_BITS + 2;
/// The bin of a NaN: above every index, so a plain split sends it right
/// (as `!(x <= t)` does).
const NAN_BIN: u32 = u32::MAX;
/// Most thresholds a feature may have (their indices and bins stay below
/// `NAN_BIN`).
const MAX_CUTS: usize = NAN_BIN as usize - 1;
/// The codes a mask reads (the layout keeps masks to 64 codes).
const MASK_CODES: f64 = 64.0;
/// Rows walked together through one tree.
const LANES: usize = 8;
/// A group's bins read as this many need no bounds check per step.
const GROUP: usize = ROW * LANES;
/// Steps between tests for the end of a walk: a walk that has ended stays
/// at its node, so a few steps too many cost less than a test each step.
const CHECK_EVERY: usize = 4;

#[derive(Debug, Clone, Copy)]
#[repr(C)]
struct Node {
    /// The threshold's index among its slot's cuts.
    key: u32,
    word: u32,
}

/// A block of rows, as loaded and as bins.
pub(super) struct Binned<'a> {
    xs: &'a [f64],
    w: usize,
    /// Bins a row: `w`, then one a mask with a slot.
    width: usize,
    /// The bins of each group of `LANES` rows, slot by slot with the lanes
    /// side by side, so that the walk reaches every lane's bin from one base.
    bins: Vec<u32>,
    /// The rows with a code no mask reads.
    odd: Vec<usize>,
}

#[derive(Debug, Clone)]
pub(super) struct Compact {
    /// By slot: the distinct thresholds of its plain numeric splits, sorted.
    cuts: Vec<Vec<f64>>,
    /// By slot: whether `MASKED` splits read its codes.
    codes: Vec<bool>,
    /// The masks with slots of their own, after the row's: the slot they
    /// read and the codes they send left.
    masks: Vec<(usize, u64)>,
    trees: Vec<Vec<Node>>,
    /// By tree: whether its splits are all plain (masks with slots included).
    plain: Vec<bool>,
    /// By tree: whether it has splits on masks with slots.
    masked: Vec<bool>,
}

impl Compact {
    /// The compact layout of `trees` (`width` slots a row), if it fits: a
    /// slot number in 8 bits, a child in 22, a feature's distinct
    /// thresholds in 32. Its sorts run on the pool this is called from.
    pub fn new(trees: &[Tree], width: usize) -> Option<Compact> {
        if width > SLOT as usize + 1 || trees.iter().any(|t| t.nodes.len() >= 1 << (32 - LEFT_SHIFT)) {
            return None;
        }
        let numeric = |f: u32| f & (LEAF | CAT | MASK) == 0;
        let mut cuts = vec![Vec::new(); width];
        let mut codes = vec![false; width];
        // each distinct mask its slot, while there are slots
        let mut masks = Vec::new();
        let mut mask_slot = HashMap::new();
        for n in trees.iter().flat_map(|t| &t.nodes) {
            let slot = (n.feature & FMASK) as usize;
            if numeric(n.feature) {
                // (finite: the layout checks a numeric split's threshold)
                cuts[slot].push(n.threshold);
            } else if n.feature & (LEAF | CAT | MASK) == MASK {
                let mask = (slot, n.threshold.to_bits());
                if !mask_slot.contains_key(&mask) && width + masks.len() < ROW {
                    mask_slot.insert(mask, (width + masks.len()) as u32);
                    masks.push(mask);
                }
                codes[slot] |= !mask_slot.contains_key(&mask);
            }
        }
        if cuts.iter().zip(&codes).any(|(c, &coded)| coded && !c.is_empty()) {
            return None;
        }
        cuts.par_iter_mut().for_each(|c| {
            c.sort_unstable_by(f64::total_cmp);
            // -0 and 0 compare equal: one cut
            c.dedup_by(|a, b| a == b);
        });
        if cuts.iter().any(|c| c.len() > MAX_CUTS) {
            return None;
        }
        let node = |(i, n): (usize, &crate::trees::layout::Node)| {
            let f = n.feature;
            let slot = f & FMASK;
            if f & LEAF != 0 {
                // a split no bin passes, to itself: the walk stays without a branch
                return Node { key: u32::MAX, word: (i as u32) << LEFT_SHIFT };
            }
            if f & (CAT | MASK) == MASK {
                let bits = n.threshold.to_bits();
                return match mask_slot.get(&(slot as usize, bits)) {
                    // its bin is 1 where the code goes right
                    Some(&s) => Node { key: 0, word: n.left << LEFT_SHIFT | s },
                    None => Node { key: !(bits as u32), word: n.left << LEFT_SHIFT | MASKED | slot },
                };
            }
            if !numeric(f) {
                return Node { key: 0, word: GENERAL };
            }
            let key = cuts[slot as usize].partition_point(|&t| t < n.threshold) as u32;
            let flag = if f & ROUTE != 0 { ROUTED } else { 0 };
            Node { key, word: n.left << LEFT_SHIFT | flag | slot }
        };
        let nodes: Vec<Vec<Node>> = trees.par_iter().map(|t| t.nodes.iter().enumerate().map(node).collect()).collect();
        let plain = nodes.iter().map(|t| t.iter().all(|n| n.word & KIND == 0)).collect();
        // (a mask's slot is past the row's)
        let masked = nodes.iter().map(|t| t.iter().any(|n| n.word & SLOT >= width as u32)).collect();
        Some(Compact { cuts, codes, masks, trees: nodes, plain, masked })
    }

    /// Slots a row's bins take, `w` of the row's own and the masks'.
    pub fn bin_width(&self, w: usize) -> usize {
        w + self.masks.len()
    }

    /// The block of rows `xs` (`w` slots a row) with its bins; a slot no
    /// compact split reads has bin 0.
    pub fn bin<'a>(&self, rules: Rules, xs: &'a [f64], w: usize) -> Binned<'a> {
        let n = xs.len().checked_div(w).unwrap_or(0);
        let width = self.bin_width(w);
        let at = |k: usize, s: usize| (k / LANES * width + s) * LANES + k % LANES;
        // padded so that every group has a full slot range after it
        let mut bins = vec![0u32; n.div_ceil(LANES) * width * LANES + GROUP];
        for s in (0..w).filter(|&s| self.codes[s]) {
            for (k, &v) in xs.iter().skip(s).step_by(w).enumerate() {
                // the code a `MASKED` split reads; any other to the general step
                bins[at(k, s)] = if v >= 0.0 && (v as u32) < 32 { v as u32 } else { NAN_BIN };
            }
        }
        for (s, c) in self.cuts.iter().enumerate().filter(|(_, c)| !c.is_empty()) {
            for (k, &v) in xs.iter().skip(s).step_by(w).enumerate() {
                bins[at(k, s)] = if v.is_nan() {
                    NAN_BIN
                } else if rules.le {
                    c.partition_point(|&t| t < v) as u32
                } else {
                    c.partition_point(|&t| t <= v) as u32
                };
            }
        }
        let mut odd = vec![false; n];
        for (m, &(s, left)) in self.masks.iter().enumerate() {
            for (k, &v) in xs.iter().skip(s).step_by(w).enumerate() {
                // (a missing code takes the general walk's route)
                if (0.0..MASK_CODES).contains(&v) {
                    bins[at(k, w + m)] = !(left >> v as u32) as u32 & 1;
                } else {
                    odd[k] = true;
                }
            }
        }
        let odd = odd.iter().enumerate().filter(|(_, &o)| o).map(|(k, _)| k).collect();
        Binned { xs, w, width, bins, odd }
    }

    /// Walk tree `t` for every row of the block: the same nodes as
    /// `Rules::walk` on the doubles.
    pub fn walk(&self, rules: Rules, t: usize, tree: &Tree, block: &Binned, leaves: &mut [u32]) {
        let nodes = &self.trees[t][..];
        let &Binned { xs, w, width, ref bins, ref odd } = block;
        let row = |k: usize| &xs[k * w..(k + 1) * w];
        let n = leaves.len();
        let mut r = 0;
        while r + LANES <= n {
            // (the bins are padded for this; without, the general walk)
            let Some(group) = bins.get(r * width..).and_then(|b| b.first_chunk::<GROUP>()) else { break };
            let idx = if self.plain[t] {
                walk_lanes(tree.max_depth, |i, j| {
                    let n = nodes[i as usize];
                    let b = group[(n.word & SLOT) as usize * LANES + j];
                    (n.word >> LEFT_SHIFT) + u32::from(b > n.key)
                })
            } else {
                walk_lanes(tree.max_depth, |i, j| {
                    let n = nodes[i as usize];
                    let b = group[(n.word & SLOT) as usize * LANES + j];
                    let left = n.word >> LEFT_SHIFT;
                    match n.word & KIND {
                        0 => left + u32::from(b > n.key),
                        MASKED if b != NAN_BIN => left + (n.key >> b & 1),
                        ROUTED if b != NAN_BIN => left + u32::from(b > n.key),
                        _ => rules.advance_one(tree, i, row(r + j)),
                    }
                })
            };
            leaves[r..r + LANES].copy_from_slice(&idx);
            r += LANES;
        }
        for (k, leaf) in leaves.iter_mut().enumerate().skip(r) {
            *leaf = rules.walk_one(tree, row(k));
        }
        if self.masked[t] {
            for &k in odd.iter().filter(|&&k| k < r) {
                leaves[k] = rules.walk_one(tree, row(k));
            }
        }
    }
}

/// `LANES` walks from the root, `step(node, lane)` the next node of a
/// lane, until each has ended (at most about `depth` steps).
#[inline(always)]
fn walk_lanes(depth: usize, step: impl Fn(u32, usize) -> u32) -> [u32; LANES] {
    let mut idx = [0u32; LANES];
    for _ in 0..depth.div_ceil(CHECK_EVERY) {
        for _ in 1..CHECK_EVERY {
            for (j, i) in idx.iter_mut().enumerate() {
                *i = step(*i, j);
            }
        }
        // (lane by lane: comparing the arrays whole waits on their stores)
        let mut moved = false;
        for (j, i) in idx.iter_mut().enumerate() {
            let next = step(*i, j);
            moved |= next != *i;
            *i = next;
        }
        if !moved {
            break;
        }
    }
    idx
}
