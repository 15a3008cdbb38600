//! Node arrays are most of a forest's file: whole numbers among them (the
//! zeros of unused slots, class indices, category-set indices) are written
//! without the ".0", which reads back as the same double.

use serde::ser::{SerializeSeq, Serializer};

/// 2^53: below it every whole double is exactly an integer, and back.
pub const MAX_EXACT_INT: f64 = 9_007_199_254_740_992.0;

pub fn numbers<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for &x in v {
        if x.fract() == 0.0 && x.abs() < MAX_EXACT_INT && !(x == 0.0 && x.is_sign_negative()) {
            seq.serialize_element(&(x as i64))?;
        } else {
            seq.serialize_element(&x)?;
        }
    }
    seq.end()
}

pub fn optional_numbers<S: Serializer>(v: &Option<Vec<f64>>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => numbers(v, s),
        None => s.serialize_none(),
    }
}

/// As `numbers`, with the infinities written as the strings "Infinity" and
/// "-Infinity" (JSON has no number for them); NaN is refused.
pub fn numbers_inf<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for &x in v {
        if x == f64::INFINITY {
            seq.serialize_element("Infinity")?;
        } else if x == f64::NEG_INFINITY {
            seq.serialize_element("-Infinity")?;
        } else if x.fract() == 0.0 && x.abs() < MAX_EXACT_INT && !(x == 0.0 && x.is_sign_negative()) {
            seq.serialize_element(&(x as i64))?;
        } else {
            seq.serialize_element(&x)?;
        }
    }
    seq.end()
}

/// Reads what `numbers_inf` writes.
pub fn read_numbers_inf<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Num {
        N(f64),
        S(String),
    }
    let v: Vec<Num> = serde::Deserialize::deserialize(d)?;
    v.into_iter()
        .map(|n| match n {
            Num::N(x) => Ok(x),
            Num::S(s) if s == "Infinity" => Ok(f64::INFINITY),
            Num::S(s) if s == "-Infinity" => Ok(f64::NEG_INFINITY),
            Num::S(s) => Err(serde::de::Error::custom(format!("'{s}' is not a number"))),
        })
        .collect()
}
