//! LightGBM's text model (`save_model()`, `lgb.save()`), format v3 and v4,
//! read as `tests/boosters/SEMANTICS.md` S-4 describes it (written by
//! `GBDT::SaveModelToString`, `src/boosting/gbdt_model_text.cpp`): a header
//! of `key=value` lines, `Tree=i` blocks, `end of trees`, then the
//! parameters and the pandas category names.

use std::collections::HashMap;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::format::{BoostTransform, BoostTree, BoostedSpec, ModelDoc};
use crate::limits::{self, limits, Limits};

use super::{corrupt, document, empty_tree, inputs, number_name, push_leaf, push_split};

/// `key=value` lines (a bare `key` has an empty value).
struct Block<'a> {
    name: String,
    fields: HashMap<&'a str, &'a str>,
}

impl<'a> Block<'a> {
    fn new(name: String, lines: &[&'a str]) -> Block<'a> {
        let mut fields = HashMap::new();
        for l in lines {
            match l.split_once('=') {
                Some((k, v)) => fields.insert(k.trim(), v.trim()),
                None => fields.insert(l.trim(), ""),
            };
        }
        Block { name, fields }
    }

    fn get(&self, key: &str) -> Option<&'a str> {
        self.fields.get(key).copied()
    }

    fn req(&self, key: &str) -> Result<&'a str> {
        self.get(key).ok_or_else(|| corrupt(format!("{}: '{key}' is missing", self.name)))
    }

    fn num<T: FromStr>(&self, key: &str) -> Result<T> {
        let v = self.req(key)?;
        v.parse().map_err(|_| corrupt(format!("{}: '{key}' is '{v}', not a number", self.name)))
    }

    /// A space-separated list of `n` numbers (none when `n` is 0, where
    /// LightGBM may leave the key out).
    fn list<T: FromStr>(&self, key: &str, n: usize) -> Result<Vec<T>> {
        let Some(v) = self.get(key) else {
            return if n == 0 { Ok(Vec::new()) } else { Err(corrupt(format!("{}: '{key}' is missing", self.name))) };
        };
        let mut out = Vec::with_capacity(n.min(v.len() / 2 + 1));
        for tok in v.split_ascii_whitespace() {
            if out.len() == n {
                return Err(corrupt(format!("{}: '{key}' has more than {n} entries", self.name)));
            }
            out.push(tok.parse().map_err(|_| corrupt(format!("{}: '{key}' holds '{tok}', not a number", self.name)))?);
        }
        if out.len() != n {
            return Err(corrupt(format!("{}: '{key}' has {} entries, not {n}", self.name, out.len())));
        }
        Ok(out)
    }
}

/// The objective line: its name, `sqrt`, and `key:value` parameters.
fn objective(line: Option<&str>) -> Result<(String, BoostTransform)> {
    let Some(line) = line.filter(|l| !l.trim().is_empty()) else {
        // a custom objective: only raw scores (S-7)
        return Ok(("custom".to_string(), BoostTransform::None));
    };
    let mut toks = line.split_ascii_whitespace();
    let name = toks.next().unwrap_or("");
    let mut sqrt = false;
    let mut sigmoid = 1.0;
    for t in toks {
        match t.split_once(':') {
            None if t == "sqrt" => sqrt = true,
            Some(("sigmoid", v)) => {
                sigmoid = v.parse().map_err(|_| corrupt(format!("the objective's sigmoid is '{v}'")))?;
            }
            _ => {}
        }
    }
    // the objectives' ConvertOutput (S-5.6)
    let t = match name {
        "regression" | "regression_l1" | "huber" | "fair" | "quantile" | "mape" if sqrt => BoostTransform::SignedSquare,
        "regression" | "regression_l1" | "huber" | "fair" | "quantile" | "mape" => BoostTransform::Identity,
        "poisson" | "gamma" | "tweedie" => BoostTransform::Exp,
        "binary" | "multiclassova" => BoostTransform::Logistic { scale: sigmoid },
        "cross_entropy" => BoostTransform::Logistic { scale: 1.0 },
        "cross_entropy_lambda" => BoostTransform::Log1pExp,
        "multiclass" => BoostTransform::Softmax,
        "lambdarank" | "rank_xendcg" => BoostTransform::Identity,
        "custom" | "none" => BoostTransform::None,
        other => return Err(Error::unsupported(format!("the LightGBM objective '{other}'"))),
    };
    Ok((line.trim().to_string(), t))
}

pub(super) fn import(bytes: &[u8]) -> Result<ModelDoc> {
    let text = std::str::from_utf8(bytes).map_err(|e| corrupt(format!("it is not UTF-8 text ({e})")))?;
    let lines: Vec<&str> = text.lines().collect();
    let (first, header_end) = header_span(&lines)?;
    let lim = limits();
    let h = header(&Block::new("the header".into(), &lines[first..header_end]), &lim)?;
    let (trees, end) = trees(&lines, header_end, &h, &lim)?;
    let k = h.k;
    if trees.len() % k != 0 {
        return Err(corrupt(format!("it holds {} trees, not whole rounds of {k}", trees.len())));
    }
    let tail = &lines[end..];
    if tail.iter().any(|l| l.trim() == "parameters:") && !tail.iter().any(|l| l.trim() == "end of parameters") {
        return Err(corrupt("it is truncated: its parameters have no 'end of parameters'"));
    }
    let params = parameters(tail);
    let levels = category_names(tail, &params, &h.infos, h.n_features)?;
    let booster = params.get("boosting").cloned().unwrap_or_else(|| "gbdt".into());
    let booster = if h.average_output { "rf".to_string() } else { booster };
    let rounds = trees.len() / k;
    let spec = BoostedSpec {
        library: "lightgbm".into(),
        library_version: h.version.to_string(),
        booster,
        objective: h.objective,
        transform: h.transform,
        n_outputs: k,
        base_margin: vec![0.0; k],
        iterations: (0..=rounds).map(|r| r * k).collect(),
        trees,
        tree_weights: None,
        linear: None,
        average_output: h.average_output,
        best_iteration: None,
    };
    Ok(document(inputs(h.names, levels), spec, "lightgbm", None))
}

/// The header's lines: from after the leading "tree" line to the first
/// `Tree=` block or "end of trees".
fn header_span(lines: &[&str]) -> Result<(usize, usize)> {
    let first = lines.iter().position(|l| !l.trim().is_empty());
    if first.map(|i| lines[i].trim()) != Some("tree") {
        return Err(corrupt("it does not start with 'tree', as a LightGBM text model does"));
    }
    let first = first.unwrap_or(0) + 1;
    let header_end = lines[first..].iter().position(|l| l.starts_with("Tree=") || l.trim() == "end of trees");
    let header_end =
        first + header_end.ok_or_else(|| corrupt("it is truncated: there is no 'Tree=' and no 'end of trees'"))?;
    Ok((first, header_end))
}

/// What the header says of the model.
struct Header<'a> {
    version: &'a str,
    n_features: usize,
    /// Trees per round (outputs).
    k: usize,
    names: Vec<String>,
    infos: Vec<String>,
    objective: String,
    transform: BoostTransform,
    average_output: bool,
}

fn header<'a>(header: &Block<'a>, lim: &Limits) -> Result<Header<'a>> {
    let version = header.req("version")?;
    if version != "v3" && version != "v4" {
        return Err(Error::unsupported(format!(
            "LightGBM model files of version '{version}' (fastpredict reads v3 and v4)"
        )));
    }
    let n_features = header.num::<i64>("max_feature_idx")?.saturating_add(1);
    let n_features = usize::try_from(n_features).map_err(|_| corrupt("the header: 'max_feature_idx' is negative"))?;
    limits::check("a LightGBM model: features", n_features as u64, lim.inputs as u64, "inputs")?;
    let k: usize = header.num("num_tree_per_iteration")?;
    limits::check("a LightGBM model: outputs", k as u64, lim.features as u64, "features")?;
    if k == 0 {
        return Err(corrupt("the header: 'num_tree_per_iteration' is 0"));
    }
    let names: Vec<String> = header.list("feature_names", n_features)?;
    let infos: Vec<String> = match header.get("feature_infos") {
        Some(_) => header.list("feature_infos", n_features)?,
        None => Vec::new(),
    };
    let (objective, transform) = objective(header.get("objective"))?;
    let average_output = header.get("average_output").is_some();
    Ok(Header { version, n_features, k, names, infos, objective, transform, average_output })
}

/// The tree blocks from line `start`, each up to a blank line, until "end
/// of trees": the trees and the line of "end of trees".
fn trees(lines: &[&str], start: usize, h: &Header, lim: &Limits) -> Result<(Vec<BoostTree>, usize)> {
    let mut trees = Vec::new();
    let mut nodes = 0u64;
    let mut i = start;
    let end = loop {
        let Some(l) = lines.get(i) else {
            return Err(corrupt("it is truncated: there is no 'end of trees'"));
        };
        let l = l.trim();
        if l == "end of trees" {
            break i;
        }
        if let Some(id) = l.strip_prefix("Tree=") {
            let stop = lines[i + 1..].iter().position(|l| l.trim().is_empty()).map_or(lines.len(), |p| i + 1 + p);
            let block = Block::new(format!("tree {id}"), &lines[i + 1..stop]);
            limits::check("a LightGBM model: trees", trees.len() as u64 + 1, lim.trees as u64, "trees")?;
            let t = tree(&block, trees.len() % h.k, h.n_features, &mut nodes, lim.nodes as u64)?;
            trees.push(t);
            i = stop;
        } else if l.is_empty() {
            i += 1;
        } else {
            return Err(corrupt(format!(
                "line {}: '{}' where a 'Tree=' block or 'end of trees' was expected",
                i + 1,
                shorten(l)
            )));
        }
    };
    Ok((trees, end))
}

fn shorten(s: &str) -> String {
    s.chars().take(40).collect()
}

/// One tree (S-4): internal nodes `0..num_leaves - 1`, then the leaves; a
/// child below 0 is leaf `~child`.
fn tree(b: &Block, group: usize, n_features: usize, nodes: &mut u64, max_nodes: u64) -> Result<BoostTree> {
    let leaves: usize = b.num("num_leaves")?;
    if leaves == 0 {
        return Err(corrupt(format!("{}: 'num_leaves' is 0", b.name)));
    }
    *nodes += 2 * leaves as u64 - 1;
    limits::check("a LightGBM model: nodes", *nodes, max_nodes, "nodes")?;
    if b.get("is_linear").is_some_and(|v| v != "0") {
        return Err(Error::unsupported("LightGBM linear trees (linear_tree = true)"));
    }
    let leaf_value: Vec<f64> = b.list("leaf_value", leaves)?;
    let s = Splits::read(b, leaves, max_nodes)?;
    let n = s.inner + leaves;
    let mut t = empty_tree(group, n);
    let mut categorical = Vec::with_capacity(n);
    let mut missing = Vec::with_capacity(n);
    let mut sets = CategorySets::default();
    for i in 0..s.inner {
        let split = s.split(i, n_features, &mut sets)?;
        categorical.push(split.categorical);
        let left = s.child(s.left[i], "left_child", i)?;
        let right = s.child(s.right[i], "right_child", i)?;
        push_split(&mut t, split.feature, split.threshold, left, right, split.default_left);
        missing.push(split.missing);
    }
    for &v in &leaf_value {
        if !v.is_finite() {
            return Err(corrupt(format!("{}: 'leaf_value' holds {v}", b.name)));
        }
        push_leaf(&mut t, v);
        categorical.push(0);
        missing.push(2);
    }
    if !sets.codes.is_empty() {
        t.categorical = Some(categorical);
        t.categories = Some(sets.codes);
    }
    // all NaN (xgboost's rule, and the format's default): left out
    if missing.iter().any(|&x| x != 2) {
        t.missing = Some(missing);
    }
    Ok(t)
}

/// A tree's internal nodes, as its block lists them.
struct Splits<'b> {
    name: &'b str,
    inner: usize,
    leaves: usize,
    feature: Vec<i64>,
    threshold: Vec<f64>,
    decision: Vec<i64>,
    left: Vec<i64>,
    right: Vec<i64>,
    num_cat: usize,
    /// Category split `c` is the bitset `words[bounds[c]..bounds[c + 1]]`.
    bounds: Vec<i64>,
    words: Vec<u32>,
}

/// An internal node, checked.
struct Split {
    feature: i32,
    threshold: f64,
    default_left: u8,
    categorical: u8,
    missing: u8,
}

/// A tree's category sets, each made once for the nodes that name it.
#[derive(Default)]
struct CategorySets {
    codes: Vec<Vec<u32>>,
    /// Category split -> its index in `codes`.
    of: HashMap<usize, usize>,
}

impl<'b> Splits<'b> {
    fn read(b: &'b Block, leaves: usize, max_nodes: u64) -> Result<Splits<'b>> {
        let inner = leaves - 1;
        let feature: Vec<i64> = b.list("split_feature", inner)?;
        let threshold: Vec<f64> = b.list("threshold", inner)?;
        let decision: Vec<i64> = b.list("decision_type", inner)?;
        let left: Vec<i64> = b.list("left_child", inner)?;
        let right: Vec<i64> = b.list("right_child", inner)?;
        let num_cat: usize = if inner == 0 { 0 } else { b.get("num_cat").map_or(Ok(0), |_| b.num("num_cat"))? };
        let (bounds, words): (Vec<i64>, Vec<u32>) = if num_cat > 0 {
            let bounds: Vec<i64> = b.list("cat_boundaries", num_cat + 1)?;
            let ok = bounds.first() == Some(&0) && bounds.windows(2).all(|w| w[0] <= w[1]);
            let n_words = bounds.last().copied().filter(|_| ok).and_then(|n| usize::try_from(n).ok());
            let n_words =
                n_words.ok_or_else(|| corrupt(format!("{}: 'cat_boundaries' does not increase from 0", b.name)))?;
            limits::check("a LightGBM tree: category words", n_words as u64, max_nodes, "nodes")?;
            (bounds, b.list("cat_threshold", n_words)?)
        } else {
            (Vec::new(), Vec::new())
        };
        let name = &b.name;
        Ok(Splits { name, inner, leaves, feature, threshold, decision, left, right, num_cat, bounds, words })
    }

    /// Internal node `i`, its category set (if any) added to `sets`.
    fn split(&self, i: usize, n_features: usize, sets: &mut CategorySets) -> Result<Split> {
        let f = usize::try_from(self.feature[i]).ok().filter(|&f| f < n_features);
        let f =
            f.ok_or_else(|| corrupt(format!("{}: 'split_feature' of node {i} is {}", self.name, self.feature[i])))?;
        let dt = self.decision[i];
        if !(0..16).contains(&dt) || (dt >> 2) & 3 == 3 {
            return Err(corrupt(format!("{}: 'decision_type' of node {i} is {dt}", self.name)));
        }
        // bit 0 categorical, bit 1 default left, bits 2-3 the missing type
        // (include/LightGBM/tree.h:20, 274)
        let mut thr = self.threshold[i];
        let mut default_left = ((dt >> 1) & 1) as u8;
        let categorical = (dt & 1) as u8;
        if categorical == 1 {
            // a categorical split sends a missing value right, whatever its
            // default (CategoricalDecision, tree.h:374)
            default_left = 0;
            thr = self.category_set(i, thr, sets)? as f64;
        } else if thr.is_nan() {
            // an infinite threshold is a split of missing from present values
            return Err(corrupt(format!("{}: 'threshold' of node {i} is {thr}", self.name)));
        }
        let missing = ((dt >> 2) & 3) as u8;
        Ok(Split { feature: f as i32, threshold: thr, default_left, categorical, missing })
    }

    /// The index in `sets` of the category split that node `i`'s threshold
    /// `thr` names.
    fn category_set(&self, i: usize, thr: f64, sets: &mut CategorySets) -> Result<usize> {
        let num_cat = self.num_cat;
        let c = usize::try_from(thr as i64).ok().filter(|&c| thr.fract() == 0.0 && c < num_cat);
        let c =
            c.ok_or_else(|| corrupt(format!("{}: node {i} names category split {thr}, of {num_cat}", self.name)))?;
        let codes = &mut sets.codes;
        Ok(*sets.of.entry(c).or_insert_with(|| {
            let (a, z) = (self.bounds[c] as usize, self.bounds[c + 1] as usize);
            codes.push(bit_codes(&self.words[a..z]));
            codes.len() - 1
        }))
    }

    /// Child `c` of node `i` as a node index: leaf `~c` after the internal
    /// nodes.
    fn child(&self, c: i64, what: &str, i: usize) -> Result<i32> {
        let ok = if c >= 0 { (c as usize) < self.inner } else { ((!c) as usize) < self.leaves };
        if !ok {
            return Err(corrupt(format!("{}: '{what}' of node {i} is {c}", self.name)));
        }
        Ok(if c >= 0 { c as i32 } else { (self.inner as i64 + !c) as i32 })
    }
}

/// The codes whose bits are set in a bitset of 32-bit words.
fn bit_codes(words: &[u32]) -> Vec<u32> {
    let mut codes = Vec::new();
    for (w, &word) in words.iter().enumerate() {
        for bit in 0..32 {
            if word >> bit & 1 == 1 {
                codes.push((w * 32 + bit) as u32);
            }
        }
    }
    codes
}

/// The `[name: value]` lines of the parameters section.
fn parameters(tail: &[&str]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for l in tail {
        let l = l.trim();
        if let Some((k, v)) = l.strip_prefix('[').and_then(|l| l.strip_suffix(']')).and_then(|l| l.split_once(':')) {
            out.insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    out
}

/// `pandas_categorical`: the category names of the categorical features, in
/// feature order (S-4), which the Python package matches by name before
/// predicting from a data frame.
fn category_names(
    tail: &[&str],
    params: &HashMap<String, String>,
    infos: &[String],
    n_features: usize,
) -> Result<HashMap<usize, Vec<String>>> {
    let mut out = HashMap::new();
    let Some(json) = tail.iter().find_map(|l| l.trim().strip_prefix("pandas_categorical:")) else {
        return Ok(out);
    };
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| corrupt(format!("'pandas_categorical' is not JSON: {e}")))?;
    let lists = match value {
        serde_json::Value::Null => return Ok(out),
        serde_json::Value::Array(a) => a,
        _ => return Err(corrupt("'pandas_categorical' is not a list")),
    };
    if lists.is_empty() {
        return Ok(out);
    }
    // which features are categorical: the parameter, else the features whose
    // infos list categories
    let cat_features: Vec<usize> = match params.get("categorical_feature").filter(|v| !v.is_empty()) {
        Some(v) => v
            .split(',')
            .map(|x| x.trim().parse::<usize>().ok().filter(|&j| j < n_features))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| corrupt(format!("'categorical_feature' is '{v}'")))?,
        None => (0..infos.len()).filter(|&j| infos[j] != "none" && !infos[j].starts_with('[')).collect(),
    };
    if cat_features.len() != lists.len() {
        return Err(Error::unsupported(format!(
            "a LightGBM model whose pandas_categorical names {} features, but which has {} categorical ones",
            lists.len(),
            cat_features.len()
        )));
    }
    for (j, list) in cat_features.into_iter().zip(lists) {
        let serde_json::Value::Array(items) = list else {
            return Err(corrupt("'pandas_categorical' holds something other than lists"));
        };
        let names = items
            .into_iter()
            .map(|v| match v {
                serde_json::Value::String(s) => Ok(s),
                serde_json::Value::Number(n) => Ok(number_name(n.as_f64().unwrap_or(f64::NAN))),
                serde_json::Value::Bool(b) => Ok(if b { "True" } else { "False" }.to_string()),
                _ => Err(corrupt("'pandas_categorical' holds a name that is not a string or a number")),
            })
            .collect::<Result<Vec<_>>>()?;
        out.insert(j, names);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
