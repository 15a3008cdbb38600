//! The JSON values of an xgboost model file: objects as raw fields with
//! their path, and numbers as xgboost writes them (as strings, `NaN`).

use std::borrow::Cow;
use std::collections::HashMap;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde_json::value::RawValue;

use crate::error::Result;

use super::corrupt;

/// An object as raw fields, with its path for error messages.
pub(super) struct Obj<'a> {
    pub(super) path: String,
    pub(super) fields: HashMap<String, &'a RawValue>,
}

impl<'a> Obj<'a> {
    pub(super) fn parse(raw: &'a RawValue, path: String) -> Result<Obj<'a>> {
        match serde_json::from_str::<HashMap<String, &'a RawValue>>(raw.get()) {
            Ok(fields) => Ok(Obj { path, fields }),
            Err(e) => Err(corrupt(format!("{path} is not an object ({e})"))),
        }
    }

    pub(super) fn at(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    pub(super) fn opt<T: Deserialize<'a>>(&self, key: &str) -> Result<Option<T>> {
        match self.fields.get(key) {
            None => Ok(None),
            Some(raw) => {
                serde_json::from_str(raw.get()).map(Some).map_err(|e| corrupt(format!("{}: {e}", self.at(key))))
            }
        }
    }

    pub(super) fn req<T: Deserialize<'a>>(&self, key: &str) -> Result<T> {
        self.opt(key)?.ok_or_else(|| corrupt(format!("{} is missing", self.at(key))))
    }

    pub(super) fn obj(&self, key: &str) -> Result<Obj<'a>> {
        self.opt_obj(key)?.ok_or_else(|| corrupt(format!("{} is missing", self.at(key))))
    }

    pub(super) fn opt_obj(&self, key: &str) -> Result<Option<Obj<'a>>> {
        self.fields.get(key).map(|raw| Obj::parse(raw, self.at(key))).transpose()
    }

    /// A whole number xgboost writes as a string ("5"), or as a number.
    pub(super) fn count(&self, key: &str) -> Result<Option<u64>> {
        let Some(v) = self.opt::<Number>(key)? else { return Ok(None) };
        let bad = || corrupt(format!("{} is {}, not a whole number", self.at(key), v.0));
        let x: f64 = v.0.trim().parse().map_err(|_| bad())?;
        if x >= 0.0 && x.fract() == 0.0 && x < 9e15 {
            Ok(Some(x as u64))
        } else {
            Err(bad())
        }
    }

    /// An array of float32 values, each parsed from its text as a float32
    /// (a double first could round twice); `NaN` and the infinities too.
    pub(super) fn f32s(&self, key: &str) -> Result<Option<Vec<f32>>> {
        let Some(raw) = self.fields.get(key) else { return Ok(None) };
        let bad = |what: &str| corrupt(format!("{}: {what}", self.at(key)));
        let body = raw.get().trim();
        let body = body.strip_prefix('[').and_then(|b| b.strip_suffix(']')).ok_or_else(|| bad("not an array"))?;
        if body.trim().is_empty() {
            return Ok(Some(Vec::new()));
        }
        body.split(',')
            .map(|tok| {
                let t = tok.trim().trim_matches('"');
                match t {
                    "NaN" => Ok(f32::NAN),
                    "Infinity" => Ok(f32::INFINITY),
                    "-Infinity" => Ok(f32::NEG_INFINITY),
                    _ => t.parse::<f32>().map_err(|_| bad(&format!("'{t}' is not a number"))),
                }
            })
            .collect::<Result<Vec<f32>>>()
            .map(Some)
    }

    pub(super) fn req_f32s(&self, key: &str) -> Result<Vec<f32>> {
        self.f32s(key)?.ok_or_else(|| corrupt(format!("{} is missing", self.at(key))))
    }

    pub(super) fn req_count(&self, key: &str) -> Result<u64> {
        self.count(key)?.ok_or_else(|| corrupt(format!("{} is missing", self.at(key))))
    }
}

/// A number, or a string holding one, as its text.
pub(super) struct Number(pub(super) String);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Number, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Number;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number or a string holding one")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Number, E> {
                Ok(Number(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Number, E> {
                Ok(Number(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Number, E> {
                Ok(Number(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Number, E> {
                Ok(Number(format!("{v:?}")))
            }
        }
        d.deserialize_any(V)
    }
}

/// A float of a node array: a number, or `NaN`/`Infinity` (read as strings).
#[derive(Clone, Copy)]
pub(super) struct Float(pub(super) f64);

impl<'de> Deserialize<'de> for Float {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Float, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Float;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Float, E> {
                Ok(Float(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Float, E> {
                Ok(Float(v as f64))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Float, E> {
                Ok(Float(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Float, E> {
                match v {
                    "NaN" | "nan" => Ok(Float(f64::NAN)),
                    "Infinity" | "inf" => Ok(Float(f64::INFINITY)),
                    "-Infinity" | "-inf" => Ok(Float(f64::NEG_INFINITY)),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A 0/1 flag, written as a number or a boolean.
#[derive(Clone, Copy)]
pub(super) struct Flag(pub(super) i64);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Flag, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Flag;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("0, 1 or a boolean")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<Flag, E> {
                Ok(Flag(i64::from(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Flag, E> {
                Ok(Flag(v.min(2) as i64))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Flag, E> {
                Ok(Flag(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// xgboost 1.x/2.x write `NaN` and `Infinity` bare; make them strings.
pub(super) fn quote_non_finite(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let token_at = |i: usize| -> Option<&'static str> {
        ["NaN", "Infinity", "-Infinity"].into_iter().find(|t| bytes[i..].starts_with(t.as_bytes()))
    };
    let (mut in_str, mut escaped) = (false, false);
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_str {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_str = false;
            }
        } else if b == b'"' {
            in_str = true;
        } else if b == b'N' || b == b'I' || b == b'-' {
            if let Some(t) = token_at(i) {
                let o = out.get_or_insert_with(|| String::with_capacity(text.len() + 64));
                o.push_str(&text[copied..i]);
                o.push('"');
                o.push_str(t);
                o.push('"');
                i += t.len();
                copied = i;
                continue;
            }
        }
        i += 1;
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut o) => {
            o.push_str(&text[copied..]);
            Cow::Owned(o)
        }
    }
}
