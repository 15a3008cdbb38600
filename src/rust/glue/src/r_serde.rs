//! A serde `Deserializer` over R objects, so that the R layer can hand a
//! model spec over as plain nested lists and the engine reads it straight
//! into its typed structs: no JSON text in between, and numbers copied
//! bit for bit.
//!
//! Mapping: a named list is a map, an unnamed list a sequence; an atomic
//! vector is a sequence, except that a length-1 vector is also accepted
//! where a scalar is expected. Where serde cannot tell (inside tagged
//! enums) a length-1 vector reads as a scalar unless it has class "AsIs"
//! (`I(x)` in R). `NULL` and a length-1 `NA` read as "none".

use std::fmt;

use extendr_ffi::{
    R_NaString, R_NamesSymbol, Rf_getAttrib, Rf_xlength, INTEGER, LOGICAL, REAL, SEXP, SEXPTYPE, STRING_ELT, TYPEOF,
    VECTOR_ELT,
};
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};

use super::sexp::{char_str, inherits};

#[derive(Debug)]
pub struct DeError(String);

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError(msg.to_string())
    }
}

type Result<T> = std::result::Result<T, DeError>;

/// Deserialize `T` from an R object. Must run on R's main thread.
pub fn from_r<'de, T: serde::Deserialize<'de>>(x: SEXP) -> Result<T> {
    T::deserialize(RDe(x))
}

#[derive(Clone, Copy)]
struct RDe(SEXP);

/// One element of an atomic vector.
#[derive(Clone, Copy)]
enum Elem {
    Real(f64),
    Int(i32),
    Lgl(i32),
    Str(Option<&'static str>),
}

fn len(x: SEXP) -> usize {
    unsafe { Rf_xlength(x) as usize }
}

fn sexptype(x: SEXP) -> SEXPTYPE {
    unsafe { TYPEOF(x) }
}

fn elem(x: SEXP, i: usize) -> Result<Elem> {
    unsafe {
        Ok(match sexptype(x) {
            SEXPTYPE::REALSXP => Elem::Real(*REAL(x).add(i)),
            SEXPTYPE::INTSXP => Elem::Int(*INTEGER(x).add(i)),
            SEXPTYPE::LGLSXP => Elem::Lgl(*LOGICAL(x).add(i)),
            SEXPTYPE::STRSXP => {
                let c = STRING_ELT(x, i as _);
                if c == R_NaString {
                    Elem::Str(None)
                } else {
                    Elem::Str(Some(char_str(c).map_err(DeError)?))
                }
            }
            t => return Err(DeError(format!("expected an atomic vector, found R type {t:?}"))),
        })
    }
}

fn is_atomic(x: SEXP) -> bool {
    matches!(sexptype(x), SEXPTYPE::REALSXP | SEXPTYPE::INTSXP | SEXPTYPE::LGLSXP | SEXPTYPE::STRSXP)
}

fn has_names(x: SEXP) -> bool {
    unsafe { sexptype(Rf_getAttrib(x, R_NamesSymbol)) == SEXPTYPE::STRSXP }
}

impl RDe {
    fn scalar(&self) -> Result<Elem> {
        if is_atomic(self.0) && len(self.0) == 1 {
            elem(self.0, 0)
        } else {
            Err(DeError(format!("expected a single value, found {}", self.describe())))
        }
    }

    fn describe(&self) -> String {
        format!("an R object of type {:?} and length {}", sexptype(self.0), len(self.0))
    }

    fn is_na_scalar(&self) -> bool {
        matches!(self.scalar(), Ok(Elem::Int(i32::MIN)) | Ok(Elem::Lgl(i32::MIN)) | Ok(Elem::Str(None)))
            || matches!(self.scalar(), Ok(Elem::Real(v)) if v.is_nan())
    }
}

macro_rules! via_scalar {
    ($($method:ident)*) => {
        $(fn $method<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            self.scalar()?.$method(v)
        })*
    };
}

impl<'de> de::Deserializer<'de> for RDe {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        match sexptype(self.0) {
            SEXPTYPE::NILSXP => v.visit_unit(),
            SEXPTYPE::VECSXP => {
                if has_names(self.0) {
                    self.deserialize_map(v)
                } else {
                    self.deserialize_seq(v)
                }
            }
            _ if is_atomic(self.0) => {
                if len(self.0) == 1 && !unsafe { inherits(self.0, "AsIs") } {
                    self.scalar()?.deserialize_any(v)
                } else {
                    self.deserialize_seq(v)
                }
            }
            _ => Err(DeError(format!("cannot read {}", self.describe()))),
        }
    }

    via_scalar!(deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_f32 deserialize_f64
        deserialize_char deserialize_str deserialize_string deserialize_identifier);

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        if sexptype(self.0) == SEXPTYPE::NILSXP || self.is_na_scalar() {
            v.visit_none()
        } else {
            v.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        v.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _: &'static str, v: V) -> Result<V::Value> {
        v.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, v: V) -> Result<V::Value> {
        v.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        match sexptype(self.0) {
            SEXPTYPE::NILSXP => v.visit_seq(AtomicSeq { x: self.0, i: 0, n: 0 }),
            SEXPTYPE::VECSXP => v.visit_seq(ListSeq { x: self.0, i: 0, n: len(self.0) }),
            _ if is_atomic(self.0) => v.visit_seq(AtomicSeq { x: self.0, i: 0, n: len(self.0) }),
            _ => Err(DeError(format!("expected a vector or list, found {}", self.describe()))),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, v: V) -> Result<V::Value> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(self, _: &'static str, _: usize, v: V) -> Result<V::Value> {
        self.deserialize_seq(v)
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        if sexptype(self.0) == SEXPTYPE::VECSXP && (len(self.0) == 0 || has_names(self.0)) {
            let names = unsafe { Rf_getAttrib(self.0, R_NamesSymbol) };
            v.visit_map(NamedList { x: self.0, names, i: 0, n: len(self.0) })
        } else {
            Err(DeError(format!("expected a named list, found {}", self.describe())))
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value> {
        self.deserialize_map(v)
    }

    fn deserialize_enum<V: Visitor<'de>>(self, _: &'static str, _: &'static [&'static str], v: V) -> Result<V::Value> {
        // Only unit variants are used in the format: a string names one.
        match self.scalar()? {
            Elem::Str(Some(s)) => v.visit_enum(s.into_deserializer()),
            _ => Err(DeError(format!("expected a string naming a variant, found {}", self.describe()))),
        }
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, _: V) -> Result<V::Value> {
        Err(DeError("raw bytes are not part of the format".into()))
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        self.deserialize_bytes(v)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        v.visit_unit()
    }

    fn deserialize_i128<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        self.scalar()?.deserialize_i64(v)
    }

    fn deserialize_u128<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        self.scalar()?.deserialize_u64(v)
    }
}

struct ListSeq {
    x: SEXP,
    i: usize,
    n: usize,
}

impl<'de> SeqAccess<'de> for ListSeq {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.i >= self.n {
            return Ok(None);
        }
        let e = unsafe { VECTOR_ELT(self.x, self.i as _) };
        self.i += 1;
        seed.deserialize(RDe(e)).map(Some)
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.n - self.i)
    }
}

struct AtomicSeq {
    x: SEXP,
    i: usize,
    n: usize,
}

impl<'de> SeqAccess<'de> for AtomicSeq {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.i >= self.n {
            return Ok(None);
        }
        let e = elem(self.x, self.i)?;
        self.i += 1;
        seed.deserialize(e).map(Some)
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.n - self.i)
    }
}

struct NamedList {
    x: SEXP,
    names: SEXP,
    i: usize,
    n: usize,
}

impl<'de> MapAccess<'de> for NamedList {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if self.i >= self.n {
            return Ok(None);
        }
        let key = match elem(self.names, self.i)? {
            Elem::Str(Some(s)) => s,
            _ => return Err(DeError("list names must not be NA".into())),
        };
        seed.deserialize(key.into_deserializer()).map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let e = unsafe { VECTOR_ELT(self.x, self.i as _) };
        self.i += 1;
        seed.deserialize(RDe(e))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.n - self.i)
    }
}

fn whole(v: f64) -> Result<i64> {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < fastpredict_engine::format::MAX_EXACT_INT {
        Ok(v as i64)
    } else {
        Err(DeError(format!("expected a whole number, found {v}")))
    }
}

impl Elem {
    fn as_i64(self) -> Result<i64> {
        match self {
            Elem::Int(i32::MIN) | Elem::Lgl(i32::MIN) => Err(DeError("unexpected NA".into())),
            Elem::Int(i) => Ok(i as i64),
            Elem::Real(v) => whole(v),
            _ => Err(DeError("expected a number".into())),
        }
    }
}

macro_rules! int_method {
    ($($method:ident $visit:ident $t:ty)*) => {
        $(fn $method<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            let i = self.as_i64()?;
            let x = <$t>::try_from(i).map_err(|_| DeError(format!("{i} is out of range")))?;
            v.$visit(x)
        })*
    };
}

impl<'de> de::Deserializer<'de> for Elem {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        match self {
            Elem::Real(x) if x.is_nan() => v.visit_unit(),
            Elem::Real(x) => v.visit_f64(x),
            Elem::Int(i32::MIN) | Elem::Lgl(i32::MIN) | Elem::Str(None) => v.visit_unit(),
            Elem::Int(i) => v.visit_i32(i),
            Elem::Lgl(b) => v.visit_bool(b != 0),
            Elem::Str(Some(s)) => v.visit_str(s),
        }
    }

    int_method!(deserialize_i8 visit_i8 i8 deserialize_i16 visit_i16 i16 deserialize_i32 visit_i32 i32
        deserialize_i64 visit_i64 i64 deserialize_u8 visit_u8 u8 deserialize_u16 visit_u16 u16
        deserialize_u32 visit_u32 u32 deserialize_u64 visit_u64 u64);

    fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        match self {
            Elem::Real(x) if x.is_nan() => Err(DeError("unexpected NA or NaN in a number".into())),
            Elem::Real(x) => v.visit_f64(x),
            Elem::Int(i32::MIN) => Err(DeError("unexpected NA in a number".into())),
            Elem::Int(i) => v.visit_f64(i as f64),
            _ => Err(DeError("expected a number".into())),
        }
    }

    fn deserialize_f32<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        self.deserialize_f64(v)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        match self {
            Elem::Lgl(b) if b != i32::MIN => v.visit_bool(b != 0),
            _ => Err(DeError("expected TRUE or FALSE".into())),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        match self {
            Elem::Real(x) if x.is_nan() => v.visit_none(),
            Elem::Int(i32::MIN) | Elem::Lgl(i32::MIN) | Elem::Str(None) => v.visit_none(),
            other => v.visit_some(other),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        match self {
            Elem::Str(Some(s)) => v.visit_str(s),
            _ => Err(DeError("expected a string".into())),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        self.deserialize_str(v)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        self.deserialize_str(v)
    }

    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        self.deserialize_str(v)
    }

    fn deserialize_enum<V: Visitor<'de>>(self, _: &'static str, _: &'static [&'static str], v: V) -> Result<V::Value> {
        match self {
            Elem::Str(Some(s)) => v.visit_enum(s.into_deserializer()),
            _ => Err(DeError("expected a string naming a variant".into())),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, v: V) -> Result<V::Value> {
        v.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        i128 u128 bytes byte_buf unit unit_struct seq tuple tuple_struct map struct ignored_any
    }
}
