//! xgboost's JSON model (`save_model("model.json")`, `xgb.save()`), versions
//! 1.x to 3.x, read as `tests/boosters/SEMANTICS.md` S-1 describes it:
//! `{"learner": {...}, "version": [major, minor, patch]}`.
//!
//! The document is read in two steps: objects as maps of raw JSON slices,
//! then each field parsed on its own into its type, so that an error names
//! the field (`learner.gradient_booster.model.trees[3].left_children`) and
//! every array is allocated by what the file holds, never by a count it
//! declares. xgboost 1.x and 2.x write `NaN` (not JSON) as the threshold of
//! a categorical split; such tokens are read as strings first.

use std::collections::HashMap;

use serde_json::value::RawValue;

use crate::boosted::transform::{logf, xgb_logit};
use crate::error::{Error, Result};
use crate::format::{BoostTransform, BoostTree, BoostedSpec, ModelDoc};
use crate::limits::{self, limits};

use super::{corrupt, document, empty_tree, inputs, number_name, push_leaf, push_split};

mod json;
use json::{quote_non_finite, Flag, Float, Obj};

/// The intercept's map from probability to margin, in float32.
type ProbToMargin = fn(f32) -> f32;

/// What an objective does: its `ProbToMargin` of `base_score` and its
/// response (S-1.3, S-2.6).
fn objective(name: &str) -> Result<(ProbToMargin, BoostTransform)> {
    fn identity(v: f32) -> f32 {
        v
    }
    Ok(match name {
        "reg:squarederror"
        | "reg:linear"
        | "reg:squaredlogerror"
        | "reg:pseudohubererror"
        | "reg:absoluteerror"
        | "reg:quantileerror"
        | "binary:logitraw"
        | "rank:pairwise"
        | "rank:ndcg"
        | "rank:map" => (identity, BoostTransform::Identity),
        "reg:logistic" | "binary:logistic" => (xgb_logit, BoostTransform::Logistic { scale: 1.0 }),
        "count:poisson" | "reg:gamma" | "reg:tweedie" | "survival:cox" | "survival:aft" => (logf, BoostTransform::Exp),
        "binary:hinge" => (identity, BoostTransform::Hinge),
        "multi:softprob" => (identity, BoostTransform::Softmax),
        "multi:softmax" => (identity, BoostTransform::Argmax),
        other => return Err(Error::unsupported(format!("the xgboost objective '{other}'"))),
    })
}

/// `base_score`: "5E-1" (1.x, 2.x) or "[5E-1]", "[a,b,c]" (3.x), float32.
fn base_score(text: &str, at: &str) -> Result<Vec<f32>> {
    let t = text.trim();
    let t = t.strip_prefix('[').and_then(|t| t.strip_suffix(']')).unwrap_or(t);
    t.split(',')
        .map(|v| v.trim().parse::<f32>().map_err(|_| corrupt(format!("{at} is '{text}', not a list of numbers"))))
        .collect()
}

pub(super) fn import(bytes: &[u8]) -> Result<ModelDoc> {
    let t = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let t = &t[t.iter().take_while(|b| b.is_ascii_whitespace()).count()..];
    if t.first() == Some(&b'{') && t.get(1).is_some_and(|b| b"iUIlL".contains(b)) {
        return Err(Error::unsupported(
            "an xgboost UBJSON (binary JSON) model: save it as JSON (a file name ending in .json)",
        ));
    }
    if t.starts_with(b"binf") {
        return Err(Error::unsupported("an xgboost binary model: save it as JSON (a file name ending in .json)"));
    }
    let text = std::str::from_utf8(t).map_err(|e| corrupt(format!("it is not UTF-8 text ({e})")))?;
    if text.is_empty() {
        return Err(corrupt("it is empty"));
    }
    let text = quote_non_finite(text);
    let root: &RawValue = serde_json::from_str(&text).map_err(|e| corrupt(format!("it is not JSON: {e}")))?;
    let root = Obj::parse(root, "the model".into())?;
    let version: Vec<i64> = root.opt("version")?.unwrap_or_default();
    let major = version.first().copied().unwrap_or(0);
    if !(1..=3).contains(&major) {
        let v = version.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(".");
        return Err(Error::unsupported(format!(
            "xgboost model files of version '{v}' (fastpredict reads versions 1.x to 3.x)"
        )));
    }
    let learner = root.obj("learner")?;
    Xgb::read(&learner, version.iter().map(|v| v.to_string()).collect::<Vec<_>>().join("."))
}

/// The learner's shape, and the model being built.
struct Xgb {
    n_features: usize,
    k: usize,
}

impl Xgb {
    fn read(learner: &Obj, version: String) -> Result<ModelDoc> {
        let lmp = learner.obj("learner_model_param")?;
        let me = Xgb::shape(&lmp)?;
        let obj = learner.obj("objective")?;
        let name: String = obj.req("name")?;
        let (prob_to_margin, transform) = objective(&name)?;
        let base_margin = me.base_margin(&lmp, prob_to_margin)?;
        let names = me.feature_names(learner)?;
        let best_iteration = match learner.opt_obj("attributes")? {
            Some(a) => a.count("best_iteration")?.map(|b| b as usize),
            None => None,
        };

        let gb = learner.obj("gradient_booster")?;
        let booster: String = gb.req("name")?;
        let mut spec = BoostedSpec {
            library: "xgboost".into(),
            library_version: version.clone(),
            booster: booster.clone(),
            objective: name,
            transform,
            n_outputs: me.k,
            base_margin,
            iterations: vec![0],
            trees: Vec::new(),
            tree_weights: None,
            linear: None,
            average_output: false,
            best_iteration,
        };
        let levels = match booster.as_str() {
            "gblinear" => {
                spec.linear = Some(me.linear(&gb)?);
                HashMap::new()
            }
            "gbtree" | "dart" => me.gbtree(&gb, booster == "dart", &mut spec)?,
            other => return Err(Error::unsupported(format!("the xgboost booster '{other}'"))),
        };
        Ok(document(inputs(names, levels), spec, "xgboost", Some(version)))
    }

    /// The learner's features and outputs.
    fn shape(lmp: &Obj) -> Result<Xgb> {
        let lim = limits();
        let n_features = lmp.req_count("num_feature")?;
        limits::check("an xgboost model: features", n_features, lim.inputs as u64, "inputs")?;
        let num_class = lmp.count("num_class")?.unwrap_or(0);
        let num_target = lmp.count("num_target")?.unwrap_or(1);
        let k = num_class.max(num_target).max(1);
        limits::check("an xgboost model: outputs", k, lim.features as u64, "features")?;
        Ok(Xgb { n_features: n_features as usize, k: k as usize })
    }

    /// The intercept of each output, as a margin.
    fn base_margin(&self, lmp: &Obj, prob_to_margin: ProbToMargin) -> Result<Vec<f64>> {
        let bs_text: String = lmp.req("base_score")?;
        let mut bs = base_score(&bs_text, &lmp.at("base_score"))?;
        // before 3.1 the intercept is one number for every output
        if bs.len() == 1 {
            bs = vec![bs[0]; self.k];
        }
        if bs.len() != self.k {
            return Err(corrupt(format!("{} has {} values for {} outputs", lmp.at("base_score"), bs.len(), self.k)));
        }
        // the intercept is stored as a probability and used as a margin (S-1.3)
        Ok(bs.iter().map(|&v| f64::from(prob_to_margin(v))).collect())
    }

    /// The features' names (`f0`, `f1`, ... where the file has none), their
    /// types checked for length.
    fn feature_names(&self, learner: &Obj) -> Result<Vec<String>> {
        let names: Vec<String> = learner.opt("feature_names")?.unwrap_or_default();
        let types: Vec<String> = learner.opt("feature_types")?.unwrap_or_default();
        for (what, n) in [("feature_names", names.len()), ("feature_types", types.len())] {
            if n != 0 && n != self.n_features {
                return Err(corrupt(format!("{} has {n} entries for {} features", learner.at(what), self.n_features)));
            }
        }
        Ok(if names.is_empty() { (0..self.n_features).map(|j| format!("f{j}")).collect() } else { names })
    }

    /// A gblinear booster's weights, (features + 1) x outputs of them.
    fn linear(&self, gb: &Obj) -> Result<Vec<f64>> {
        let model = gb.obj("model")?;
        let w = model.req_f32s("weights")?;
        let want = (self.n_features + 1) * self.k;
        if w.len() != want {
            return Err(corrupt(format!(
                "{} has {} weights for {} features and {} outputs ({want} expected)",
                model.at("weights"),
                w.len(),
                self.n_features,
                self.k
            )));
        }
        Ok(w.into_iter().map(f64::from).collect())
    }

    /// A gbtree or dart booster's trees (and dart's tree weights) into
    /// `spec`; the category names of its features.
    fn gbtree(&self, gb: &Obj, dart: bool, spec: &mut BoostedSpec) -> Result<HashMap<usize, Vec<String>>> {
        let model = if dart { gb.obj("gbtree")?.obj("model")? } else { gb.obj("model")? };
        self.trees(&model, spec)?;
        if dart {
            let w = gb.req_f32s("weight_drop")?;
            if w.len() != spec.trees.len() {
                return Err(corrupt(format!(
                    "{} has {} weights for {} trees",
                    gb.at("weight_drop"),
                    w.len(),
                    spec.trees.len()
                )));
            }
            spec.tree_weights = Some(w.into_iter().map(f64::from).collect());
        }
        match model.opt_obj("cats")? {
            Some(cats) => self.category_names(&cats),
            None => Ok(HashMap::new()),
        }
    }

    /// The trees of a gbtree model, with their rounds (S-1, S-2.8).
    fn trees(&self, model: &Obj, spec: &mut BoostedSpec) -> Result<()> {
        let lim = limits();
        let param = model.obj("gbtree_model_param")?;
        let declared = param.req_count("num_trees")?;
        limits::check("an xgboost model: trees", declared, lim.trees as u64, "trees")?;
        let parallel = param.count("num_parallel_tree")?.unwrap_or(1).max(1) as usize;
        let raws: Vec<&RawValue> = model.req("trees")?;
        if raws.len() as u64 != declared {
            return Err(corrupt(format!(
                "{} holds {} trees, but num_trees is {declared}",
                model.at("trees"),
                raws.len()
            )));
        }
        let n = raws.len();
        let info: Vec<i64> = model.req("tree_info")?;
        if info.len() != n {
            return Err(corrupt(format!("{} has {} entries for {n} trees", model.at("tree_info"), info.len())));
        }
        let mut trees: Vec<Option<BoostTree>> = vec![None; n];
        let mut nodes = 0u64;
        for (i, raw) in raws.into_iter().enumerate() {
            let tree = Obj::parse(raw, format!("{}[{i}]", model.at("trees")))?;
            let id = tree.opt::<i64>("id")?.unwrap_or(i as i64);
            let slot = usize::try_from(id).ok().filter(|&s| s < n && trees[s].is_none());
            let slot = slot.ok_or_else(|| corrupt(format!("{} is {id}: not a free tree index", tree.at("id"))))?;
            let group = usize::try_from(info[slot]).ok().filter(|&g| g < self.k).ok_or_else(|| {
                corrupt(format!("{}[{slot}] is {}, not an output below {}", model.at("tree_info"), info[slot], self.k))
            })?;
            let t = self.tree(&tree, group)?;
            nodes += t.feature.len() as u64;
            limits::check("an xgboost model: nodes", nodes, lim.nodes as u64, "nodes")?;
            trees[slot] = Some(t);
        }
        spec.trees = trees.into_iter().flatten().collect();
        spec.iterations = match model.opt::<Vec<i64>>("iteration_indptr")? {
            Some(p) => {
                let ok = p.first() == Some(&0)
                    && p.windows(2).all(|w| w[0] <= w[1])
                    && p.last() == Some(&(n as i64))
                    && p.iter().all(|&x| x >= 0);
                if !ok {
                    return Err(corrupt(format!(
                        "{} does not run from 0 to the {n} trees",
                        model.at("iteration_indptr")
                    )));
                }
                p.into_iter().map(|x| x as usize).collect()
            }
            None => {
                // 1.x: every round has num_parallel_tree trees per output
                let per = parallel * self.k;
                if n % per != 0 {
                    return Err(corrupt(format!(
                        "{} holds {n} trees, not whole rounds of {per} (num_parallel_tree {parallel} x {} outputs)",
                        model.at("trees"),
                        self.k
                    )));
                }
                (0..=n / per).map(|r| r * per).collect()
            }
        };
        Ok(())
    }

    /// One tree (S-1, S-2.2, S-2.3).
    fn tree(&self, tree: &Obj, group: usize) -> Result<BoostTree> {
        let a = Nodes::read(tree)?;
        let n = a.left.len();
        let sets = self.category_sets(tree, n, a.stype.as_deref())?;
        let mut out = empty_tree(group, n);
        let mut categorical = Vec::with_capacity(n);
        for i in 0..n {
            if a.left[i] == -1 {
                // a leaf: its value is in split_conditions (base_weights is
                // the weight before the learning rate, xgboost #11521)
                let v = f64::from(a.cond[i]);
                if !v.is_finite() {
                    return Err(bad(tree, "split_conditions", i, format!("{v}, at a leaf")));
                }
                push_leaf(&mut out, v);
                categorical.push(0);
                continue;
            }
            let (f, l, d) = self.split(tree, &a, i)?;
            let (thr, cat) = threshold(tree, &a, i, &sets)?;
            categorical.push(cat);
            push_split(&mut out, f as i32, thr, l as i32, l as i32 + 1, d);
        }
        if !sets.is_empty() {
            out.categorical = Some(categorical);
            out.categories = Some(sets.into_iter().map(|(_, codes)| codes).collect());
        }
        Ok(out)
    }

    /// Split node `i`'s feature, left child and default (1: left).
    fn split(&self, tree: &Obj, a: &Nodes, i: usize) -> Result<(usize, usize, u8)> {
        let n = a.left.len();
        let l = usize::try_from(a.left[i])
            .ok()
            .filter(|&l| l < n)
            .ok_or_else(|| bad(tree, "left_children", i, a.left[i].to_string()))?;
        // xgboost walks a number to left + 1 and never reads
        // right_children (predict_fn.h:34), only a missing value does:
        // a file where they differ predicts two ways
        if a.right[i] != l as i64 + 1 {
            return Err(bad(tree, "right_children", i, format!("{}, not left_children[{i}] + 1", a.right[i])));
        }
        let f = usize::try_from(a.split[i]).ok().filter(|&f| f < self.n_features).ok_or_else(|| {
            bad(tree, "split_indices", i, format!("{}, not a feature below {}", a.split[i], self.n_features))
        })?;
        let d = match a.dleft[i].0 {
            0 => 0,
            1 => 1,
            v => return Err(bad(tree, "default_left", i, v.to_string())),
        };
        Ok((f, l, d))
    }

    /// The category sets of a tree's categorical nodes: (node, codes going
    /// right), from the CSR arrays `categories_nodes`, `_segments`,
    /// `_sizes` and `categories`.
    fn category_sets(&self, tree: &Obj, n: usize, stype: Option<&[i64]>) -> Result<Vec<(usize, Vec<u32>)>> {
        let nodes: Vec<i64> = tree.opt("categories_nodes")?.unwrap_or_default();
        if nodes.is_empty() {
            return Ok(Vec::new());
        }
        let segments: Vec<i64> = tree.req("categories_segments")?;
        let sizes: Vec<i64> = tree.req("categories_sizes")?;
        let cats: Vec<i64> = tree.req("categories")?;
        for (what, len) in [("categories_segments", segments.len()), ("categories_sizes", sizes.len())] {
            if len != nodes.len() {
                return Err(corrupt(format!(
                    "{} has {len} entries for {} categorical nodes",
                    tree.at(what),
                    nodes.len()
                )));
            }
        }
        let mut out = Vec::with_capacity(nodes.len());
        for (k, &node) in nodes.iter().enumerate() {
            let bad = |what: &str, v: i64| corrupt(format!("{}[{k}] is {v}", tree.at(what)));
            let node = usize::try_from(node)
                .ok()
                .filter(|&i| i < n && stype.is_some_and(|s| s[i] == 1))
                .ok_or_else(|| bad("categories_nodes", node))?;
            let start = usize::try_from(segments[k]).ok().filter(|&s| s <= cats.len());
            let start = start.ok_or_else(|| bad("categories_segments", segments[k]))?;
            let size = usize::try_from(sizes[k]).ok().filter(|&s| s <= cats.len() - start);
            let size = size.ok_or_else(|| bad("categories_sizes", sizes[k]))?;
            let codes = cats[start..start + size]
                .iter()
                .map(|&c| {
                    u32::try_from(c).map_err(|_| corrupt(format!("{} holds the code {c}", tree.at("categories"))))
                })
                .collect::<Result<Vec<u32>>>()?;
            out.push((node, codes));
        }
        Ok(out)
    }

    /// xgboost 3.1+: the category names of features trained from a data
    /// frame (`cats.enc`, S-2.4), by feature.
    fn category_names(&self, cats: &Obj) -> Result<HashMap<usize, Vec<String>>> {
        let enc: Vec<&RawValue> = cats.opt("enc")?.unwrap_or_default();
        let mut out = HashMap::new();
        if enc.is_empty() {
            return Ok(out);
        }
        if enc.len() != self.n_features {
            return Err(corrupt(format!(
                "{} has {} entries for {} features",
                cats.at("enc"),
                enc.len(),
                self.n_features
            )));
        }
        for (j, raw) in enc.into_iter().enumerate() {
            let e = Obj::parse(raw, format!("{}[{j}]", cats.at("enc")))?;
            let offsets: Vec<i64> = e.opt("offsets")?.unwrap_or_default();
            let names: Vec<String> = if offsets.is_empty() {
                // numeric categories are stored as their numbers
                let values: Vec<Float> = e.opt("values")?.unwrap_or_default();
                values.into_iter().map(|v| number_name(v.0)).collect()
            } else {
                let bytes: Vec<u8> = e.req("values")?;
                let ok = offsets[0] == 0
                    && offsets.windows(2).all(|w| w[0] <= w[1])
                    && offsets.last() == Some(&(bytes.len() as i64));
                if !ok {
                    return Err(corrupt(format!("{} do not cut the names' {} bytes", e.at("offsets"), bytes.len())));
                }
                offsets
                    .windows(2)
                    .map(|w| {
                        String::from_utf8(bytes[w[0] as usize..w[1] as usize].to_vec())
                            .map_err(|_| corrupt(format!("{}: a category name is not UTF-8", e.at("values"))))
                    })
                    .collect::<Result<_>>()?
            };
            if !names.is_empty() {
                out.insert(j, names);
            }
        }
        Ok(out)
    }
}

/// A tree's node arrays, of `num_nodes` entries each.
struct Nodes {
    left: Vec<i64>,
    right: Vec<i64>,
    split: Vec<i64>,
    cond: Vec<f32>,
    dleft: Vec<Flag>,
    stype: Option<Vec<i64>>,
}

impl Nodes {
    fn read(tree: &Obj) -> Result<Nodes> {
        let param = tree.obj("tree_param")?;
        if param.count("size_leaf_vector")?.unwrap_or(1) > 1 {
            return Err(Error::unsupported(
                "xgboost multi-output trees (multi_strategy = \"multi_output_tree\", vector leaves)",
            ));
        }
        let n = param.req_count("num_nodes")? as usize;
        let left: Vec<i64> = tree.req("left_children")?;
        let right: Vec<i64> = tree.req("right_children")?;
        let split: Vec<i64> = tree.req("split_indices")?;
        let cond = tree.req_f32s("split_conditions")?;
        let dleft: Vec<Flag> = tree.req("default_left")?;
        let stype: Option<Vec<i64>> = tree.opt("split_type")?;
        for (what, len) in [
            ("left_children", left.len()),
            ("right_children", right.len()),
            ("split_indices", split.len()),
            ("split_conditions", cond.len()),
            ("default_left", dleft.len()),
            ("split_type", stype.as_ref().map_or(n, Vec::len)),
        ] {
            if len != n {
                return Err(corrupt(format!("{} has {len} entries for {n} nodes", tree.at(what))));
            }
        }
        if n == 0 {
            return Err(corrupt(format!("{} has no nodes", tree.path)));
        }
        Ok(Nodes { left, right, split, cond, dleft, stype })
    }
}

/// Split node `i`'s threshold (at a categorical split, the index of its set
/// in `sets`), and 1 if it is categorical.
fn threshold(tree: &Obj, a: &Nodes, i: usize, sets: &[(usize, Vec<u32>)]) -> Result<(f64, u8)> {
    Ok(match a.stype.as_ref().map_or(0, |s| s[i]) {
        0 => {
            let t = f64::from(a.cond[i]);
            if t.is_nan() {
                return Err(bad(tree, "split_conditions", i, format!("{t}, at a numeric split")));
            }
            (t, 0)
        }
        1 => {
            let s = sets.iter().position(|(node, _)| *node == i).ok_or_else(|| {
                corrupt(format!("{}: categorical node {i} has no entry in categories_nodes", tree.path))
            })?;
            (s as f64, 1)
        }
        v => return Err(bad(tree, "split_type", i, v.to_string())),
    })
}

/// `what[i]` of a tree is `v`, which does not fit.
fn bad(tree: &Obj, what: &str, i: usize, v: String) -> Error {
    corrupt(format!("{}[{i}] is {v}", tree.at(what)))
}

#[cfg(test)]
mod tests;
