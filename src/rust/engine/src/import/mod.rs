//! Model files of other libraries, imported into fastpredict documents:
//! xgboost's JSON model (`save_model("model.json")`, 1.x to 3.x) and
//! LightGBM's text model (`save_model()`, format v3/v4). Both are read
//! defensively: every length and index is checked against the model's
//! shape and the load limits before it is used, and a field that does not
//! fit is a `corrupt_file` error naming it; what fastpredict does not
//! reproduce (a UBJSON file, linear trees, an unknown objective or version)
//! is `unsupported`, by name.

use std::collections::HashMap;

use serde::de::{self, IgnoredAny, MapAccess, Visitor};

use crate::error::{Error, Result};
use crate::format::{
    format_version, BoostTree, BoostedSpec, InputSpec, InputType, ModelDoc, ModelKind, Producer, FORMAT_NAME,
};

mod lightgbm;
mod xgboost;

/// A model file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    /// Recognise it by its content.
    Auto,
    /// A fastpredict document.
    Fastpredict,
    /// xgboost's JSON model.
    Xgboost,
    /// LightGBM's text model.
    Lightgbm,
}

impl SourceFormat {
    pub fn parse(name: &str) -> Result<SourceFormat> {
        Ok(match name {
            "auto" => SourceFormat::Auto,
            "fastpredict" => SourceFormat::Fastpredict,
            "xgboost" => SourceFormat::Xgboost,
            "lightgbm" => SourceFormat::Lightgbm,
            other => {
                return Err(Error::bad_argument(format!(
                    "format = \"{other}\": use \"auto\", \"fastpredict\", \"xgboost\" or \"lightgbm\""
                )))
            }
        })
    }
}

/// The format of a (decompressed) model file, from its first bytes: a
/// fastpredict document, an xgboost JSON or UBJSON model, a LightGBM text
/// model. Anything else is left to the fastpredict reader, which says what
/// is wrong with it.
pub(crate) fn detect(text: &[u8]) -> SourceFormat {
    let t = skip_space(text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text));
    if let Some(rest) = t.strip_prefix(b"{") {
        // UBJSON's object starts `{`, then a length-typed key ("learner")
        if rest.first().is_some_and(|b| b"iUIlL".contains(b)) && rest.iter().take(16).any(|&b| b == b'l') {
            return SourceFormat::Xgboost;
        }
        return match first_key(rest) {
            Some(k) if k == b"format" => SourceFormat::Fastpredict,
            Some(k) if k == b"learner" || k == b"version" => SourceFormat::Xgboost,
            _ if has_top_key(t, "learner") => SourceFormat::Xgboost,
            _ => SourceFormat::Fastpredict,
        };
    }
    let first_line = t.split(|&b| b == b'\n').next().unwrap_or(&[]);
    if first_line.trim_ascii() == b"tree" {
        return SourceFormat::Lightgbm;
    }
    SourceFormat::Fastpredict
}

fn skip_space(t: &[u8]) -> &[u8] {
    let n = t.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &t[n..]
}

/// The first key of a JSON object whose `{` was just read, if it is a plain
/// string.
fn first_key(rest: &[u8]) -> Option<&[u8]> {
    let r = skip_space(rest).strip_prefix(b"\"")?;
    let end = r.iter().position(|&b| b == b'"' || b == b'\\')?;
    (r.get(end) == Some(&b'"')).then(|| &r[..end])
}

/// Whether a JSON object has `key` at its top level (a full, allocation-free
/// pass; only for documents whose first key says nothing).
fn has_top_key(text: &[u8], key: &str) -> bool {
    struct Keys<'k>(&'k str);
    impl<'de> Visitor<'de> for Keys<'_> {
        type Value = bool;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<bool, A::Error> {
            let mut found = false;
            while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                found |= k == self.0;
                map.next_value::<IgnoredAny>()?;
            }
            Ok(found)
        }
    }
    let mut de = serde_json::Deserializer::from_slice(text);
    de::Deserializer::deserialize_map(&mut de, Keys(key)).unwrap_or(false)
}

/// Import `text` (decompressed) as `format` (recognised when `Auto`).
pub(crate) fn import_text(text: &[u8], format: SourceFormat) -> Result<ModelDoc> {
    match format {
        SourceFormat::Auto => import_text(text, detect(text)),
        SourceFormat::Fastpredict => crate::io::from_json_text(text),
        SourceFormat::Xgboost => xgboost::import(text),
        SourceFormat::Lightgbm => lightgbm::import(text),
    }
}

/// A boosted document around `spec`.
/// The class of the source model is the R package's (the same file loads
/// into Python's and R's library).
fn document(inputs: Vec<InputSpec>, spec: BoostedSpec, package: &str, version: Option<String>) -> ModelDoc {
    let class = if package == "xgboost" { "xgb.Booster" } else { "lgb.Booster" };
    ModelDoc {
        format: FORMAT_NAME.to_string(),
        format_version: format_version(),
        producer: Producer {
            name: "fastpredict".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            r_version: None,
            source_class: vec![class.to_string()],
            source_package: Some(package.to_string()),
            source_package_version: version,
        },
        kind: ModelKind::Boosted,
        inputs,
        linear: None,
        trees: None,
        glmnet: None,
        boosted: Some(spec),
        card: None,
        extensions: serde_json::Map::new(),
    }
}

/// The input prototype: a numeric input per feature, or a factor where the
/// model recorded the category names (`levels`).
fn inputs(names: Vec<String>, mut levels: HashMap<usize, Vec<String>>) -> Vec<InputSpec> {
    names
        .into_iter()
        .enumerate()
        .map(|(j, name)| match levels.remove(&j) {
            Some(l) => InputSpec { name, kind: InputType::Factor, levels: Some(l) },
            None => InputSpec { name, kind: InputType::Numeric, levels: None },
        })
        .collect()
}

/// A number as a category name: integers without ".0" (pandas categories
/// of integers are named "1", "2", ...).
fn number_name(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// A tree of `n` nodes for `group`, its nodes still to be added.
fn empty_tree(group: usize, n: usize) -> BoostTree {
    BoostTree {
        group,
        feature: Vec::with_capacity(n),
        threshold: Vec::with_capacity(n),
        left: Vec::with_capacity(n),
        right: Vec::with_capacity(n),
        default_left: Vec::with_capacity(n),
        value: Vec::with_capacity(n),
        missing: None,
        categorical: None,
        categories: None,
    }
}

/// Add a split node: feature `f` at `threshold`, its children and its
/// default.
fn push_split(t: &mut BoostTree, f: i32, threshold: f64, left: i32, right: i32, default_left: u8) {
    t.feature.push(f);
    t.threshold.push(threshold);
    t.left.push(left);
    t.right.push(right);
    t.default_left.push(default_left);
    t.value.push(0.0);
}

/// Add a leaf of value `v`.
fn push_leaf(t: &mut BoostTree, v: f64) {
    t.feature.push(-1);
    t.threshold.push(0.0);
    t.left.push(-1);
    t.right.push(-1);
    t.default_left.push(0);
    t.value.push(v);
}

fn corrupt(what: impl std::fmt::Display) -> Error {
    Error::corrupt(what.to_string())
}

#[cfg(test)]
mod tests;
