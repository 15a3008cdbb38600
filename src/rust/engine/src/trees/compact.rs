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
//! 8 bytes and a row 4 bytes a slot. Any other node (categorical, missing
//! value at a routed node) is handed to the general walk on the doubles.
//! The compact nodes keep the general layout's indices, so the node a walk
//! stops at is the same.

use rayon::prelude::*;

use crate::trees::layout::{Tree, CAT, FMASK, LEAF, MASK, ROUTE};
use crate::trees::walk::Rules;

/// A node's word: the slot in the low bits, a kind, the left child in the
/// high bits.
const SLOT_BITS: u32 = 8;
const SLOT: u32 = (1 << SLOT_BITS) - 1;
/// The slots a node can name: a row read as this many needs no bounds
/// check per step.
const ROW: usize = 1 << SLOT_BITS;
static NO_ROW: [u32; ROW] = [0; ROW];
const KIND: u32 = 3 << SLOT_BITS;
/// A routed numeric split: compact unless the value is missing.
const ROUTED: u32 = 2 << SLOT_BITS;
/// A split on level codes, `key` the bits of the codes below 32 that go
/// right (a larger code takes the general walk).
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
/// Rows walked together through one tree.
const LANES: usize = 8;
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
    bins: Vec<u32>,
    w: usize,
}

#[derive(Debug, Clone)]
pub(super) struct Compact {
    /// By slot: the distinct thresholds of its plain numeric splits, sorted.
    cuts: Vec<Vec<f64>>,
    /// By slot: whether mask splits read its codes.
    codes: Vec<bool>,
    trees: Vec<Vec<Node>>,
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
        for n in trees.iter().flat_map(|t| &t.nodes) {
            let slot = (n.feature & FMASK) as usize;
            if numeric(n.feature) {
                // (finite: the layout checks a numeric split's threshold)
                cuts[slot].push(n.threshold);
            } else if n.feature & (LEAF | MASK) == MASK {
                codes[slot] = true;
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
                return Node { key: !(n.threshold.to_bits() as u32), word: n.left << LEFT_SHIFT | MASKED | slot };
            }
            if !numeric(f) {
                return Node { key: 0, word: GENERAL };
            }
            let key = cuts[slot as usize].partition_point(|&t| t < n.threshold) as u32;
            let flag = if f & ROUTE != 0 { ROUTED } else { 0 };
            Node { key, word: n.left << LEFT_SHIFT | flag | slot }
        };
        let trees = trees.par_iter().map(|t| t.nodes.iter().enumerate().map(node).collect()).collect();
        Some(Compact { cuts, codes, trees })
    }

    /// The block of rows `xs` (`w` slots a row) with its bins; a slot no
    /// compact split reads has bin 0.
    pub fn bin<'a>(&self, rules: Rules, xs: &'a [f64], w: usize) -> Binned<'a> {
        // padded so that every row has a full slot range after it
        let mut bins = vec![0u32; xs.len() + ROW];
        for s in (0..w).filter(|&s| self.codes[s]) {
            for (b, &v) in bins.iter_mut().skip(s).step_by(w).zip(xs.iter().skip(s).step_by(w)) {
                // the code a mask split reads; any other to the general walk
                *b = if v >= 0.0 && (v as u32) < 32 { v as u32 } else { NAN_BIN };
            }
        }
        for (s, c) in self.cuts.iter().enumerate().filter(|(_, c)| !c.is_empty()) {
            for (b, &v) in bins.iter_mut().skip(s).step_by(w).zip(xs.iter().skip(s).step_by(w)) {
                *b = if v.is_nan() {
                    NAN_BIN
                } else if rules.le {
                    c.partition_point(|&t| t < v) as u32
                } else {
                    c.partition_point(|&t| t <= v) as u32
                };
            }
        }
        Binned { xs, bins, w }
    }

    /// Walk tree `t` for every row of the block: the same nodes as
    /// `Rules::walk` on the doubles.
    pub fn walk(&self, rules: Rules, t: usize, tree: &Tree, block: &Binned, leaves: &mut [u32]) {
        let nodes = &self.trees[t][..];
        let Binned { xs, bins, w } = block;
        let w = *w;
        let step = |i: u32, row: &[u32; ROW], at: usize| -> u32 {
            let n = nodes[i as usize];
            let b = row[(n.word & SLOT) as usize];
            if n.word & KIND == 0 {
                return (n.word >> LEFT_SHIFT) + u32::from(b > n.key);
            }
            let left = n.word >> LEFT_SHIFT;
            if n.word & KIND == MASKED && b != NAN_BIN {
                return left + (n.key >> b & 1);
            }
            if n.word & KIND == ROUTED && b != NAN_BIN {
                return left + u32::from(b > n.key);
            }
            rules.advance_one(tree, i, &xs[at..at + w])
        };
        let n = leaves.len();
        let mut r = 0;
        'groups: while r + LANES <= n {
            let mut rows = [&NO_ROW; LANES];
            for (j, row) in rows.iter_mut().enumerate() {
                // (the bins are padded for this; without, the general walk)
                match bins.get((r + j) * w..).and_then(|b| b.first_chunk()) {
                    Some(b) => *row = b,
                    None => break 'groups,
                }
            }
            let mut idx = [0u32; LANES];
            for _ in 0..tree.max_depth.div_ceil(CHECK_EVERY) {
                for _ in 1..CHECK_EVERY {
                    for (j, i) in idx.iter_mut().enumerate() {
                        *i = step(*i, rows[j], (r + j) * w);
                    }
                }
                // (lane by lane: comparing the arrays whole waits on their stores)
                let mut moved = false;
                for (j, i) in idx.iter_mut().enumerate() {
                    let next = step(*i, rows[j], (r + j) * w);
                    moved |= next != *i;
                    *i = next;
                }
                if !moved {
                    break;
                }
            }
            leaves[r..r + LANES].copy_from_slice(&idx);
            r += LANES;
        }
        for (k, leaf) in leaves.iter_mut().enumerate().skip(r) {
            *leaf = rules.walk_one(tree, &xs[k * w..(k + 1) * w]);
        }
    }
}
