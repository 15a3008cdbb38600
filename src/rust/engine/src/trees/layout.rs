//! One tree, checked and laid out for the walk.
//!
//! Each tree is laid out breadth-first so that the two children of a node
//! are adjacent (right = left + 1); a node is then 16 bytes (threshold,
//! feature with flag bits, left child), and per-node payloads (values,
//! class probabilities) live in separate arrays in the same order. Rare
//! things (categorical sets, missing-value children, surrogate splits) live
//! in side tables, reached only from nodes flagged as needing them, so
//! plain numeric nodes take a short branch-light path.

use crate::error::{Error, Result};
use crate::format::{CategorySet, FeatureKind, Surrogates, TreeSpec};
use crate::trees::features::{Feature, LAST_POSITION};

pub(super) const LEAF: u32 = 1 << 31;
/// Categorical split: `threshold` holds the category-set index.
pub(super) const CAT: u32 = 1 << 30;
/// The node must look for missing values (missing child, surrogates, stop).
pub(super) const ROUTE: u32 = 1 << 29;
/// Categorical split whose `threshold` bits are the mask of the level codes
/// that go left: every code the feature can take is below 64 and goes left
/// or right, so the walk needs no set lookup (randomForest, ranger).
pub(super) const MASK: u32 = 1 << 28;
/// The feature slot, in the low bits.
pub(super) const FMASK: u32 = (1 << 24) - 1;
/// No missing-value child.
pub(super) const NO_CHILD: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub(super) struct Node {
    pub threshold: f64,
    pub feature: u32,
    pub left: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dir {
    Left,
    Right,
    Missing,
}

/// Level codes sent left and right, as bitmaps; a code in neither counts
/// as missing.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct CatSet {
    left: Vec<u64>,
    right: Vec<u64>,
}

fn bit(words: &[u64], code: usize) -> bool {
    words.get(code / 64).is_some_and(|w| w >> (code % 64) & 1 == 1)
}

impl CatSet {
    /// The bitmaps of `set`, for a feature whose codes are below `ncodes`:
    /// larger codes never occur, so they are left out, and a bitmap is never
    /// larger than the feature's levels whatever the document says.
    fn new(set: &CategorySet, ncodes: usize) -> CatSet {
        let words = |v: &[u32]| {
            let mut w = vec![0u64; ncodes.div_ceil(64)];
            for x in v.iter().map(|&x| x as usize).filter(|&x| x < ncodes) {
                w[x / 64] |= 1 << (x % 64);
            }
            w
        };
        CatSet { left: words(&set.left), right: words(&set.right) }
    }

    pub fn dir(&self, code: f64) -> Dir {
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

#[derive(Debug, Clone, Copy)]
pub(super) struct Surrogate {
    pub feature: u32,
    pub threshold: f64,
    pub categorical: bool,
    pub less_left: bool,
}

#[derive(Debug, Clone)]
pub(super) struct Tree {
    pub nodes: Vec<Node>,
    pub values: Vec<f64>,
    pub probs: Option<Vec<f64>>,
    pub matrix: Option<Vec<f64>>,
    /// Child for a missing value, `NO_CHILD` for none (only with ROUTE).
    pub missing: Vec<u32>,
    /// Category sets, by the set index of the document (one per feature
    /// set index a node or surrogate uses).
    pub cats: Vec<CatSet>,
    /// Surrogates by (new) node: `surr_start[i]..surr_start[i+1]`.
    pub surr_start: Vec<u32>,
    pub surr: Vec<Surrogate>,
    /// Longest root-to-leaf path (in edges, missing children included).
    pub max_depth: usize,
    /// The leaves' depths added up, and the leaves.
    pub leaf_depths: (usize, usize),
}

/// Per-node payload widths of a section's trees.
#[derive(Debug, Clone, Copy)]
pub(super) struct Widths {
    pub probs: usize,
    pub matrix: usize,
}

/// Check a tree and lay it out breadth-first with adjacent children.
pub(super) fn build_tree(t: &TreeSpec, features: &[Feature], route: bool, w: Widths) -> Result<Tree> {
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
    check_lengths(t, left, right, w)?;
    let cats = category_sets(t, features);
    let missing_of = |i: usize| -> Option<i32> {
        match &t.missing {
            Some(mv) if route && mv[i] >= 0 => Some(mv[i]),
            _ => None,
        }
    };
    let (order, new_of, depth) = match adjacent_layout(t, left, right, &missing_of) {
        // children already adjacent and after their parent (randomForest,
        // ranger): keep the order, which saves the re-layout
        Some(depth) => ((0..n).collect(), (0..n as u32).collect(), depth),
        None => breadth_first(t, left, right, &missing_of)?,
    };
    let nodes = lay_out_nodes(t, features, &cats, &order, &new_of, (left, right), route)?;
    let missing = if route { missing_children(t, &order, &new_of)? } else { Vec::new() };
    let gather = |src: &[f64], w: usize| -> Vec<f64> {
        let mut out = Vec::with_capacity(order.len() * w);
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
    let leaf_depths: Vec<usize> = order.iter().filter(|&&i| t.feature[i] < 0).map(|&i| depth[i]).collect();
    Ok(Tree {
        nodes,
        values: gather(&t.value, 1),
        probs: t.probs.as_ref().map(|p| gather(p, w.probs)),
        matrix: t.matrix.as_ref().map(|p| gather(p, w.matrix)),
        missing,
        cats,
        surr_start,
        surr,
        max_depth: depth.iter().copied().max().unwrap_or(0),
        leaf_depths: (leaf_depths.iter().sum(), leaf_depths.len()),
    })
}

fn check_lengths(t: &TreeSpec, left: &[i32], right: &[i32], w: Widths) -> Result<()> {
    let n = t.feature.len();
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
    if t.missing.as_ref().is_some_and(|m| m.len() != n) {
        return Err(Error::invalid("'missing' has the wrong length"));
    }
    for (what, arr, width) in [("probs", &t.probs, w.probs), ("matrix", &t.matrix, w.matrix)] {
        match arr {
            Some(a) if Some(a.len()) != n.checked_mul(width) => {
                return Err(Error::invalid(format!("'{what}' needs {width} values per node")))
            }
            None if width > 0 => return Err(Error::invalid(format!("every tree needs '{what}'"))),
            _ => {}
        }
    }
    Ok(())
}

/// The tree's category sets, each sized by the most codes a categorical
/// feature that uses it can take (a set no such feature uses stays empty).
fn category_sets(t: &TreeSpec, features: &[Feature]) -> Vec<CatSet> {
    let specs = t.categories.as_deref().unwrap_or(&[]);
    let mut ncodes: Vec<Option<usize>> = vec![None; specs.len()];
    let surr = t.surrogates.iter().flat_map(|s| s.feature.iter().map(|&f| f as i64).zip(s.threshold.iter()));
    let main = t.feature.iter().map(|&f| f as i64).zip(t.threshold.iter());
    for (f, &thr) in main.chain(surr) {
        let Some(feat) = usize::try_from(f).ok().and_then(|f| features.get(f)) else { continue };
        if feat.kind == FeatureKind::Categorical && thr >= 0.0 && thr.fract() == 0.0 && (thr as usize) < specs.len() {
            let slot = &mut ncodes[thr as usize];
            *slot = Some(slot.unwrap_or(0).max(feat.ncodes()));
        }
    }
    specs.iter().zip(ncodes).map(|(s, n)| CatSet::new(s, n.unwrap_or(0))).collect()
}

fn child(c: i32, i: usize, n: usize, side: &str) -> Result<usize> {
    match usize::try_from(c) {
        Ok(c) if c < n && c != i => Ok(c),
        _ => Err(Error::invalid(format!("node {i} has an invalid {side} child {c}"))),
    }
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
        let l = usize::try_from(left[i]).ok().filter(|&l| l > i)?;
        if i64::from(right[i]) != l as i64 + 1 || l + 1 >= n {
            return None;
        }
        let r = l + 1;
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

/// The breadth-first order from the root, children adjacent (a distinct
/// missing child, as gbm has, right after them): (old index by new, new
/// index by old, depth by old).
fn breadth_first(
    t: &TreeSpec,
    left: &[i32],
    right: &[i32],
    missing_of: &dyn Fn(usize) -> Option<i32>,
) -> Result<(Vec<usize>, Vec<u32>, Vec<usize>)> {
    let n = t.feature.len();
    let mut order = Vec::with_capacity(n);
    let mut new_of = vec![u32::MAX; n];
    let mut depth = vec![0usize; n];
    order.push(0usize);
    new_of[0] = 0;
    let mut head = 0;
    while head < order.len() {
        let i = order[head];
        head += 1;
        if t.feature[i] < 0 {
            continue;
        }
        let (l, r) = (child(left[i], i, n, "left")?, child(right[i], i, n, "right")?);
        let m = match missing_of(i) {
            Some(mv) => Some(child(mv, i, n, "missing")?).filter(|&m| m != l && m != r),
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
    Ok((order, new_of, depth))
}

/// The nodes in the new order, with their flags.
fn lay_out_nodes(
    t: &TreeSpec,
    features: &[Feature],
    cats: &[CatSet],
    order: &[usize],
    new_of: &[u32],
    (left, right): (&[i32], &[i32]),
    route: bool,
) -> Result<Vec<Node>> {
    let n = t.feature.len();
    let mut nodes = Vec::with_capacity(order.len());
    for &i in order {
        if t.feature[i] < 0 {
            nodes.push(Node { threshold: 0.0, feature: LEAF, left: 0 });
            continue;
        }
        let f = t.feature[i] as usize;
        let feat = features.get(f).ok_or_else(|| Error::invalid(format!("node {i} splits on unknown feature {f}")))?;
        let mut flags = f as u32;
        let mut threshold = t.threshold[i];
        if feat.kind == FeatureKind::Positions {
            flags |= MASK;
            threshold = f64::from_bits(positions_mask(t, i, threshold)?);
        } else if feat.kind == FeatureKind::Categorical {
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
        }
        let l = new_of[child(left[i], i, n, "left")?];
        if new_of[child(right[i], i, n, "right")?] != l.wrapping_add(1) {
            return Err(Error::internal(format!("node {i}: its children are not adjacent after the layout")));
        }
        nodes.push(Node { threshold, feature: flags, left: l });
    }
    Ok(nodes)
}

/// The left mask of a split on a `positions` feature: every position but
/// those its category set sends right (which must be below `LAST_POSITION`).
fn positions_mask(t: &TreeSpec, i: usize, threshold: f64) -> Result<u64> {
    let sets = t.categories.as_deref().unwrap_or(&[]);
    let set = (threshold >= 0.0 && threshold.fract() == 0.0)
        .then(|| sets.get(threshold as usize))
        .flatten()
        .ok_or_else(|| Error::invalid(format!("node {i} refers to category set {threshold}")))?;
    let mut right = 0u64;
    for &p in &set.right {
        if p >= LAST_POSITION {
            return Err(Error::invalid(format!("node {i}: position {p} is not below {LAST_POSITION}")));
        }
        right |= 1 << p;
    }
    Ok(!right)
}

/// Missing-value children in the new order (flags every split ROUTE).
fn missing_children(t: &TreeSpec, order: &[usize], new_of: &[u32]) -> Result<Vec<u32>> {
    let n = t.feature.len();
    let mut missing = vec![NO_CHILD; order.len()];
    if let Some(mv) = &t.missing {
        for (k, &i) in order.iter().enumerate() {
            if t.feature[i] >= 0 && mv[i] >= 0 {
                missing[k] = new_of[child(mv[i], i, n, "missing")?];
            }
        }
    }
    Ok(missing)
}

/// The mask of the codes a set sends left, if every code the feature can
/// take (its levels, plus one for unseen levels sorted last) is below 64
/// and goes left or right.
fn left_mask(set: &CatSet, feat: &Feature) -> Option<u64> {
    let codes = feat.ncodes();
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
            if feat.kind == FeatureKind::Positions {
                return Err(Error::invalid("a surrogate split on a positions feature"));
            }
            let categorical = feat.kind == FeatureKind::Categorical;
            if categorical && !(s.threshold[e] >= 0.0 && (s.threshold[e] as usize) < n_cats) {
                return Err(Error::invalid("surrogate refers to a missing category set"));
            }
            if !categorical && !s.threshold[e].is_finite() {
                return Err(Error::invalid("surrogate has a non-finite split point"));
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
