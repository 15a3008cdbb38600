//! A boosted section checked and compiled: the library's conventions
//! resolved, every tree checked (lengths, children, features, sets) and
//! turned into plain trees with slots, then laid out.

use crate::error::{Error, Result};
use crate::format::{BoostTransform, BoostTree, BoostedSpec, InputSpec};
use crate::limits::{self, limits};

use super::layout::{below_f32, lay_out, Layout, Plain, PlainNode, Real, CAT, DEFAULT_LEFT, SET_LEFT};
use super::linear::Linear;
use super::slots::{SlotKind, Slots};
use super::walk::CatSets;

/// Whose conventions a section follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Library {
    Xgboost,
    Lightgbm,
}

impl Library {
    pub fn parse(name: &str) -> Result<Library> {
        match name {
            "xgboost" => Ok(Library::Xgboost),
            "lightgbm" => Ok(Library::Lightgbm),
            other => Err(Error::unsupported(format!("boosted models of the library '{other}'"))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Library::Xgboost => "xgboost",
            Library::Lightgbm => "lightgbm",
        }
    }

    fn boosters(self) -> &'static [&'static str] {
        match self {
            Library::Xgboost => &["gbtree", "dart", "gblinear"],
            Library::Lightgbm => &["gbdt", "dart", "rf", "goss"],
        }
    }

    /// Whether the library has this response transform.
    fn has(self, t: &BoostTransform) -> bool {
        match (self, t) {
            (_, BoostTransform::Identity | BoostTransform::Exp | BoostTransform::Softmax | BoostTransform::None) => {
                true
            }
            (Library::Xgboost, BoostTransform::Logistic { scale }) => *scale == 1.0,
            (Library::Xgboost, BoostTransform::Hinge | BoostTransform::Argmax) => true,
            (Library::Lightgbm, BoostTransform::Logistic { scale }) => scale.is_finite(),
            (Library::Lightgbm, BoostTransform::SignedSquare | BoostTransform::Log1pExp) => true,
            _ => false,
        }
    }
}

/// The compiled ensemble of one precision.
#[derive(Debug, Clone)]
pub(super) struct Forest<T> {
    pub layout: Layout<T>,
    /// The output each tree adds to.
    pub groups: Vec<u32>,
    pub base: Vec<T>,
    pub slots: Slots,
    pub sets: CatSets,
}

#[derive(Debug, Clone)]
pub(super) enum Engine {
    /// xgboost trees, in float32.
    F32(Forest<f32>),
    /// LightGBM trees, in double.
    F64(Forest<f64>),
    /// xgboost's gblinear.
    Linear(Linear),
}

/// Facts about the trees, for the description and the cost of a row.
#[derive(Debug, Clone, Default)]
pub(super) struct Stats {
    pub nodes: usize,
    pub max_depth: u32,
    pub mean_depth: f64,
    pub complete: bool,
}

/// Category codes of a set are below 2^24 (xgboost reads no larger code;
/// a LightGBM bitset this large would be 2 MB).
const MAX_CODE: u32 = 1 << 24;

/// An f64 of the document that xgboost holds as a float32: it must be one.
fn float32(v: f64, what: &dyn Fn() -> String) -> Result<f32> {
    let f = v as f32;
    if f64::from(f) == v || v.is_nan() {
        Ok(f)
    } else {
        Err(Error::invalid(format!("{} is {v}, which is not a float32 value (xgboost stores float32)", what())))
    }
}

/// Check the section's shape and compile its booster.
pub(super) fn compile(spec: &BoostedSpec, inputs: &[InputSpec]) -> Result<(Library, Engine, Stats)> {
    let lib = Library::parse(&spec.library)?;
    check_header(spec, lib)?;
    if let Some(w) = &spec.linear {
        return linear(spec, lib, inputs.len(), w);
    }
    if spec.booster == "gblinear" {
        return Err(Error::invalid("a gblinear booster needs its 'linear' weights"));
    }
    if spec.trees.is_empty() {
        return Err(Error::invalid("a boosted model needs trees (or 'linear' weights)"));
    }
    let dart = check_dart(spec, lib)?;
    let mut stats = Stats::default();
    let engine = match lib {
        Library::Xgboost => Engine::F32(xgboost_forest(spec, inputs, dart, &mut stats)?),
        Library::Lightgbm => {
            let leaf = |_: usize, _: usize, v: f64| Ok((v, v));
            Engine::F64(forest(spec, lib, inputs, spec.base_margin.clone(), false, leaf, &mut stats)?)
        }
    };
    Ok((lib, engine, stats))
}

/// The library's booster and transform, the outputs and their base margin,
/// the iterations and the sizes against the limits.
fn check_header(spec: &BoostedSpec, lib: Library) -> Result<()> {
    let lim = limits();
    if !lib.boosters().contains(&spec.booster.as_str()) {
        return Err(Error::unsupported(format!("the {} booster '{}'", lib.as_str(), spec.booster)));
    }
    if !lib.has(&spec.transform) {
        return Err(Error::unsupported(format!("the {} transform {:?}", lib.as_str(), spec.transform)));
    }
    let k = spec.n_outputs;
    limits::check("a boosted model: outputs", k as u64, lim.features as u64, "features")?;
    if k == 0 {
        return Err(Error::invalid("'n_outputs' must be at least 1"));
    }
    if spec.base_margin.len() != k {
        return Err(Error::invalid(format!("'base_margin' has {} values for {k} outputs", spec.base_margin.len())));
    }
    Error::check_finite("'base_margin'", &spec.base_margin)?;
    if spec.transform == BoostTransform::Argmax && k < 2 {
        return Err(Error::invalid("the argmax transform needs at least 2 outputs"));
    }
    if spec.average_output && lib != Library::Lightgbm {
        return Err(Error::invalid("'average_output' is LightGBM's (rf)"));
    }
    check_iterations(spec)?;
    limits::check("a boosted model: trees", spec.trees.len() as u64, lim.trees as u64, "trees")?;
    let nodes = spec.trees.iter().fold(0u64, |n, t| n.saturating_add(t.feature.len() as u64));
    limits::check("a boosted model: nodes", nodes, lim.nodes as u64, "nodes")
}

/// Whether the trees are an xgboost dart booster's, weighted by
/// `tree_weights` (one per tree, finite).
fn check_dart(spec: &BoostedSpec, lib: Library) -> Result<bool> {
    let dart = match &spec.tree_weights {
        Some(w) if lib == Library::Xgboost => {
            if w.len() != spec.trees.len() {
                return Err(Error::invalid(format!(
                    "'tree_weights' has {} values for {} trees",
                    w.len(),
                    spec.trees.len()
                )));
            }
            Error::check_finite("'tree_weights'", w)?;
            true
        }
        Some(_) => return Err(Error::invalid("'tree_weights' are xgboost's (dart)")),
        None => false,
    };
    if (spec.booster == "dart" && lib == Library::Xgboost) != dart {
        return Err(Error::invalid("an xgboost dart booster has 'tree_weights', and only it"));
    }
    Ok(dart)
}

/// xgboost's trees, in float32: the base margin and leaves as float32
/// values, a dart tree's leaves weighted.
fn xgboost_forest(spec: &BoostedSpec, inputs: &[InputSpec], dart: bool, stats: &mut Stats) -> Result<Forest<f32>> {
    let base = spec
        .base_margin
        .iter()
        .enumerate()
        .map(|(g, &b)| float32(b, &|| format!("'base_margin' {g}")))
        .collect::<Result<Vec<f32>>>()?;
    let leaf = |t: usize, g: usize, v: f64| -> Result<(f32, f32)> {
        let v = float32(v, &|| "a leaf value".to_string())?;
        match &spec.tree_weights {
            // xgboost's two dart paths (src/gbm/gbtree.cc): inplace
            // predicts each tree on top of the base and subtracts it
            // again (`(base + leaf - base) * w`, :883); a DMatrix
            // takes `leaf * w` (:791). Both in float.
            Some(w) => {
                let w = float32(w[t], &|| format!("'tree_weights' {}", t + 1))?;
                Ok((((base[g] + v) - base[g]) * w, v * w))
            }
            None => Ok((v, v)),
        }
    };
    forest(spec, Library::Xgboost, inputs, base.clone(), dart, leaf, stats)
}

/// `iterations` starts at 0, never decreases and ends at the tree count.
fn check_iterations(spec: &BoostedSpec) -> Result<()> {
    let it = &spec.iterations;
    let ok = it.first() == Some(&0) && it.windows(2).all(|w| w[0] <= w[1]) && it.last() == Some(&spec.trees.len());
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "'iterations' must run from 0 to the {} trees without decreasing",
            spec.trees.len()
        )))
    }
}

fn linear(spec: &BoostedSpec, lib: Library, p: usize, w: &[f64]) -> Result<(Library, Engine, Stats)> {
    let k = spec.n_outputs;
    if lib != Library::Xgboost || spec.booster != "gblinear" {
        return Err(Error::invalid("'linear' weights are xgboost's gblinear booster's"));
    }
    if !spec.trees.is_empty() || spec.tree_weights.is_some() {
        return Err(Error::invalid("a gblinear booster has no trees"));
    }
    let want = (p + 1).checked_mul(k).ok_or_else(|| Error::invalid("too many linear weights"))?;
    if w.len() != want {
        return Err(Error::invalid(format!(
            "'linear' has {} weights for {p} inputs and {k} outputs ({want} expected)",
            w.len()
        )));
    }
    Error::check_finite("'linear'", w)?;
    let weights = w.iter().map(|&v| float32(v, &|| "a 'linear' weight".to_string())).collect::<Result<Vec<_>>>()?;
    let base = float32(spec.base_margin[0], &|| "'base_margin' 0".to_string())?;
    Ok((lib, Engine::Linear(Linear { weights, base, p, k }), Stats::default()))
}

fn forest<T: Real>(
    spec: &BoostedSpec,
    lib: Library,
    inputs: &[InputSpec],
    base: Vec<T>,
    dart: bool,
    leaf: impl Fn(usize, usize, f64) -> Result<(T, T)>,
    stats: &mut Stats,
) -> Result<Forest<T>> {
    let mut slots = Slots::default();
    let mut sets = CatSets::default();
    let set_budget = limits().nodes;
    let mut plains = Vec::with_capacity(spec.trees.len());
    let mut groups = Vec::with_capacity(spec.trees.len());
    for (t, tree) in spec.trees.iter().enumerate() {
        let at = |e: Error| e.context(format_args!("tree {}", t + 1));
        if tree.group >= spec.n_outputs {
            return Err(at(Error::invalid(format!(
                "'group' {} is not below the {} outputs",
                tree.group, spec.n_outputs
            ))));
        }
        let leaf_t = |v: f64| leaf(t, tree.group, v);
        let p = plain(tree, lib, inputs.len(), &mut slots, &mut sets, set_budget, &leaf_t).map_err(at)?;
        groups.push(tree.group as u32);
        plains.push(p);
    }
    stats.nodes = plains.iter().map(|p| p.nodes.len()).sum();
    stats.max_depth = plains.iter().map(|p| p.depth).max().unwrap_or(0);
    stats.mean_depth = plains.iter().map(|p| f64::from(p.depth)).sum::<f64>() / plains.len().max(1) as f64;
    let layout = lay_out(&plains, dart);
    stats.complete = matches!(layout, Layout::Complete(_));
    Ok(Forest { layout, groups, base, slots, sets })
}

/// Check one tree and turn it into a plain tree (children reachable once
/// from the root; unreachable nodes, as xgboost's deleted ones, dropped).
fn plain<T: Real>(
    t: &BoostTree,
    lib: Library,
    n_inputs: usize,
    slots: &mut Slots,
    sets: &mut CatSets,
    set_budget: usize,
    leaf: &dyn Fn(f64) -> Result<(T, T)>,
) -> Result<Plain<T>> {
    let n = check_lengths(t)?;
    let mut split = SplitReader { t, lib, n_inputs, set_ids: vec![None; t.categories.as_ref().map_or(0, Vec::len)] };
    let mut nodes = Vec::with_capacity(n);
    // document node -> plain node
    let mut new_of = vec![u32::MAX; n];
    let mut depth_of = Vec::with_capacity(n);
    new_of[0] = 0;
    let mut has_cat = false;
    let mut depth = 0u32;
    // plain nodes are numbered in the order they are first reached; each
    // is pushed before its children, which point back by index
    let mut order: Vec<usize> = Vec::with_capacity(n);
    order.push(0);
    depth_of.push(0u32);
    let mut head = 0;
    while head < order.len() {
        let i = order[head];
        let d = depth_of[head];
        head += 1;
        if t.feature[i] < 0 {
            if t.left[i] != -1 || t.right[i] != -1 {
                return Err(Error::invalid(format!("leaf {i} has children")));
            }
            if !t.value[i].is_finite() {
                return Err(Error::invalid(format!("leaf {i} has the non-finite value {}", t.value[i])));
            }
            let (value, alt) = leaf(t.value[i])?;
            nodes.push(PlainNode::Leaf { value, alt });
            depth = depth.max(d);
            continue;
        }
        let (feat, thr) = split.read::<T>(i, slots, sets, set_budget)?;
        has_cat |= feat & CAT != 0;
        let mut kids = [0u32; 2];
        for (side, (c, name)) in [(t.left[i], "left"), (t.right[i], "right")].into_iter().enumerate() {
            let c = usize::try_from(c)
                .ok()
                .filter(|&c| c < n)
                .ok_or_else(|| Error::invalid(format!("node {i} has the {name} child {c}")))?;
            if new_of[c] != u32::MAX {
                return Err(Error::invalid(format!("node {c} is reached twice")));
            }
            new_of[c] = order.len() as u32;
            kids[side] = order.len() as u32;
            order.push(c);
            depth_of.push(d + 1);
        }
        nodes.push(PlainNode::Split { feat, thr, left: kids[0], right: kids[1] });
    }
    // the sets of categorical nodes that are never reached are never built
    Ok(Plain { nodes, depth, has_cat })
}

/// The number of nodes of a tree whose arrays all have one entry per node.
fn check_lengths(t: &BoostTree) -> Result<usize> {
    let n = t.feature.len();
    if n == 0 {
        return Err(Error::invalid("a tree without nodes"));
    }
    let lengths = [
        ("threshold", t.threshold.len()),
        ("left", t.left.len()),
        ("right", t.right.len()),
        ("default_left", t.default_left.len()),
        ("value", t.value.len()),
        ("missing", t.missing.as_ref().map_or(n, Vec::len)),
        ("categorical", t.categorical.as_ref().map_or(n, Vec::len)),
    ];
    for (name, len) in lengths {
        if len != n {
            return Err(Error::invalid(format!("'{name}' has {len} entries for {n} nodes")));
        }
    }
    Ok(n)
}

/// Reads the split nodes of one tree: flags, slot and threshold, and the
/// category sets, each built once however many nodes share it.
struct SplitReader<'t> {
    t: &'t BoostTree,
    lib: Library,
    n_inputs: usize,
    /// document set -> built set
    set_ids: Vec<Option<usize>>,
}

impl SplitReader<'_> {
    /// Split node `i` as the walk reads it: its flags and slot, and its
    /// threshold (the float below an xgboost one; the set at a categorical
    /// split).
    fn read<T: Real>(
        &mut self,
        i: usize,
        slots: &mut Slots,
        sets: &mut CatSets,
        set_budget: usize,
    ) -> Result<(u32, T)> {
        let (t, lib) = (self.t, self.lib);
        let f = t.feature[i] as usize;
        if f >= self.n_inputs {
            return Err(Error::invalid(format!(
                "node {i} splits on feature {f}, but there are {} inputs",
                self.n_inputs
            )));
        }
        let flag = |v: Option<&Vec<u8>>, max: u8, name: &str, default: u8| -> Result<u8> {
            let x = v.map_or(default, |v| v[i]);
            if x > max {
                return Err(Error::invalid(format!("node {i}: '{name}' is {x}")));
            }
            Ok(x)
        };
        let default_left = flag(Some(&t.default_left), 1, "default_left", 0)?;
        let categorical = flag(t.categorical.as_ref(), 1, "categorical", 0)? == 1;
        let missing = flag(t.missing.as_ref(), 2, "missing", 2)?;
        let mut feat = if default_left == 1 { DEFAULT_LEFT } else { 0 };
        let thr = t.threshold[i];
        let (kind, thr) = if categorical {
            let id = self.set(i, thr, sets, set_budget)?;
            feat |= CAT;
            if lib == Library::Lightgbm {
                feat |= SET_LEFT;
            }
            let kind = if lib == Library::Xgboost { SlotKind::XgbCode } else { SlotKind::LgbCode };
            (kind, T::of(id as f64))
        } else {
            if thr.is_nan() {
                return Err(Error::invalid(format!("node {i} has the threshold NaN")));
            }
            match lib {
                Library::Xgboost => {
                    let t32 = float32(thr, &|| format!("node {i}: the threshold"))?;
                    // x < t in float32 is x <= the float below t
                    (SlotKind::XgbNumber, T::of(f64::from(below_f32(t32))))
                }
                Library::Lightgbm => (SlotKind::LgbNumber(missing), T::of(thr)),
            }
        };
        feat |= slots.of(f, kind);
        Ok((feat, thr))
    }

    /// The built set of node `i`'s category set `thr`.
    fn set(&mut self, i: usize, thr: f64, sets: &mut CatSets, set_budget: usize) -> Result<usize> {
        let n_sets = self.set_ids.len();
        let s = usize::try_from(thr as i64)
            .ok()
            .filter(|&s| thr.fract() == 0.0 && s < n_sets)
            .ok_or_else(|| Error::invalid(format!("node {i} refers to category set {thr}, of {n_sets}")))?;
        if let Some(id) = self.set_ids[s] {
            return Ok(id);
        }
        let codes = self.t.categories.as_ref().map_or(&[][..], |c| &c[s][..]);
        if let Some(&c) = codes.iter().find(|&&c| c >= MAX_CODE) {
            return Err(Error::unsupported(format!("the category code {c} (codes must be below 2^24)")));
        }
        let words = codes.iter().map(|&c| c as usize / 32 + 1).max().unwrap_or(0);
        if sets.words.len() + words > set_budget {
            return Err(Error::unsupported(format!(
                "category sets of more than {set_budget} words, above the load limit 'nodes'"
            )));
        }
        let id = sets.push(codes);
        self.set_ids[s] = Some(id);
        Ok(id)
    }
}
