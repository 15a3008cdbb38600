//! One random tree: an abstract tree grown at random, then laid out in one
//! of the numberings the format allows; and renumbering the trees of a
//! document, which must change no prediction.

use fastpredict_engine::format::{CategorySet, FeatureKind, Surrogates, TreeSpec, UnseenRule};
use fastpredict_engine::ModelDoc;

use crate::common::build::explicit_tree;
use crate::common::rng::Rng;
use crate::generate::{AggKind, FeatInfo};
use crate::reference::children;

/// What every tree of a document shares.
pub struct DocCtx {
    pub feats: Vec<FeatInfo>,
    pub route: bool,
    pub agg: AggKind,
    /// Number of classes (0 for regression).
    pub k: usize,
    pub with_probs: bool,
    pub m_width: usize,
    /// Main splits use features `0..main_features`; surrogates any, so
    /// that some features are read only by surrogates (loaded lazily).
    pub main_features: usize,
    /// Only full partitions: no level falls through to a surrogate, which
    /// is what lets the engine load surrogate-only features lazily.
    pub full_sets: bool,
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

pub struct TreeGen<'a> {
    rng: Rng,
    ctx: &'a DocCtx,
    arena: Vec<ANode>,
    cats: Vec<CategorySet>,
}

/// A tree's arrays in one numbering, before the optional ones are chosen.
struct Laid {
    tree: TreeSpec,
    missing: Vec<i32>,
    probs: Vec<f64>,
    matrix: Vec<f64>,
    surrogates: Surrogates,
}

impl<'a> TreeGen<'a> {
    pub fn new(rng: Rng, ctx: &'a DocCtx) -> TreeGen<'a> {
        TreeGen { rng, ctx, arena: Vec::new(), cats: Vec::new() }
    }

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
            AggKind::Votes | AggKind::VoteValues if leaf => (1 + rng.below(k)) as f64,
            // a walk may stop at a split node: its value may be no class index
            AggKind::Votes | AggKind::VoteValues => rng.pick(&[0.0, 0.0, 1.0, k as f64, -1.0, (k + 1) as f64]),
            AggKind::ProbMean | AggKind::MatrixMean | AggKind::Survival => 0.0,
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

    pub fn tree(mut self, max_depth: usize) -> TreeSpec {
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
        let laid = self.lay_out(&order);
        self.finish(laid)
    }

    /// The arena's nodes at their places in `order`.
    fn lay_out(&self, order: &[usize]) -> Laid {
        let n = order.len();
        let mut new_of = vec![usize::MAX; n];
        for (p, &a) in order.iter().enumerate() {
            new_of[a] = p;
        }
        let (mut feature, mut threshold, mut left, mut right, mut value) = (vec![], vec![], vec![], vec![], vec![]);
        let (mut missing, mut probs, mut matrix) = (Vec::new(), Vec::new(), Vec::new());
        let mut s = Surrogates { start: vec![0], feature: Vec::new(), threshold: Vec::new(), less_left: Vec::new() };
        for &a in order {
            let nd = &self.arena[a];
            match &nd.split {
                None => {
                    feature.push(-1);
                    threshold.push(nd.junk);
                    left.push(-1);
                    right.push(-1);
                    missing.push(-1);
                }
                Some(sp) => {
                    feature.push(sp.feature as i32);
                    threshold.push(sp.threshold);
                    left.push(new_of[sp.left] as i32);
                    right.push(new_of[sp.right] as i32);
                    missing.push(match sp.missing {
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
            value.push(nd.value);
            probs.extend_from_slice(&nd.probs);
            matrix.extend_from_slice(&nd.matrix);
        }
        let tree = explicit_tree(&feature, &threshold, &left, &right, &value);
        Laid { tree, missing, probs, matrix, surrogates: s }
    }

    /// Which optional arrays the tree writes (some also when they say
    /// nothing), and whether its children are left implicit.
    fn finish(mut self, laid: Laid) -> TreeSpec {
        let Laid { tree: mut t, missing: miss, probs, matrix, surrogates: s } = laid;
        let (route, n) = (self.ctx.route, t.feature.len());
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

// ---------------------------------------------------------------------------
// Renumbering, for the property that node numbers do not matter.

/// The same tree with node `order[p]` moved to index `p` (root stays 0).
pub fn renumber(t: &TreeSpec, order: &[usize]) -> TreeSpec {
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
pub fn relabel(doc: &ModelDoc, seed: u64) -> ModelDoc {
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
