//! The R objects a prediction fills, and JSON values as R objects.

use extendr_api::prelude::*;
use extendr_ffi::{
    R_NaString, Rf_xlength, INTEGER, REAL, SET_STRING_ELT, SET_VECTOR_ELT, SEXPTYPE, STRING_ELT, VECTOR_ELT,
};
use fastpredict_engine::{ArrayShape, OutBuf, OutputShape, Part, Result, ValueKind};

use super::sexp::{alloc_vector, strings, PLAIN_ALLOC};

/// One array: a double vector, a factor, or a matrix/array with its
/// dimnames and class. Allocated once; the engine writes into it. (Text
/// is written as codes, and becomes text in `finish`.)
fn alloc_array(a: &ArrayShape, nrows: usize) -> Result<Robj> {
    let len = a.len(nrows);
    let mut r = match &a.values {
        ValueKind::Factor(levels) => {
            let mut r = alloc_vector(SEXPTYPE::INTSXP, len)?;
            let _ = r.set_attrib("levels", strings(levels)?);
            let _ = r.set_attrib("class", strings(&["factor"])?);
            r
        }
        ValueKind::Character(_) => alloc_vector(SEXPTYPE::INTSXP, len)?,
        ValueKind::Real => alloc_vector(SEXPTYPE::REALSXP, len)?,
    };
    set_dims(&mut r, a)?;
    Ok(r)
}

/// The dim, dimnames and class attributes of an array (or, dropped, the
/// names of the vector).
fn set_dims(r: &mut Robj, a: &ArrayShape) -> Result<()> {
    if a.drop {
        if let Some(names) = a.dimnames.iter().flatten().rev().flatten().next() {
            let _ = r.set_attrib("names", strings(names)?);
        }
    } else if let Some(dim) = &a.dim {
        let d = dim.iter().map(|&x| i32::try_from(x)).collect::<std::result::Result<Vec<i32>, _>>();
        let d = d.map_err(|_| fastpredict_engine::Error::bad_argument("a dimension of the prediction exceeds R's"))?;
        let _ = r.set_attrib("dim", Robj::from(d));
        if let Some(dn) = a.dimnames.as_ref().filter(|dn| dn.iter().any(Option::is_some)) {
            let parts = dn
                .iter()
                .map(|x| match x {
                    Some(v) => strings(v),
                    None => Ok(Robj::from(())),
                })
                .collect::<Result<Vec<_>>>()?;
            let _ = r.set_attrib("dimnames", List::from_values(parts));
        }
    }
    if let Some(cl) = &a.class {
        let _ = r.set_attrib("class", strings(cl)?);
    }
    for (name, value) in &a.attributes {
        let _ = r.set_attrib(name.as_str(), Robj::from(*value));
    }
    Ok(())
}

/// The R object of a filled prediction: text parts, written as codes into
/// their labels, become character vectors (`NA` for a missing code).
pub fn finish(out: Robj, shape: &OutputShape) -> Result<Robj> {
    let text = |codes: &Robj, a: &ArrayShape| -> Result<Option<Robj>> {
        let ValueKind::Character(labels) = &a.values else { return Ok(None) };
        let lab = strings(labels)?;
        let n = codes.len();
        let mut r = alloc_vector(SEXPTYPE::STRSXP, n)?;
        unsafe {
            let ints = if n > 0 { std::slice::from_raw_parts(INTEGER(codes.get()), n) } else { &[] };
            for (i, &c) in ints.iter().enumerate() {
                let s = match usize::try_from(c) {
                    Ok(c) if (1..=labels.len()).contains(&c) => STRING_ELT(lab.get(), (c - 1) as _),
                    _ => R_NaString,
                };
                SET_STRING_ELT(r.get(), i as _, s);
            }
        }
        // the same names or dim as the codes (their row count filled in)
        if let Some(names) = codes.get_attrib("names") {
            let _ = r.set_attrib("names", names);
        }
        if let Some(d) = unsafe { super::sexp::dim(codes.get()) } {
            let d: Vec<i32> = d.iter().map(|&x| x as i32).collect();
            let _ = r.set_attrib("dim", Robj::from(d));
            if let Some(dn) = codes.get_attrib("dimnames") {
                let _ = r.set_attrib("dimnames", dn);
            }
        }
        Ok(Some(r))
    };
    match shape {
        OutputShape::Array(a) => Ok(text(&out, a)?.unwrap_or(out)),
        OutputShape::List(parts) => {
            for (i, (_, p)) in parts.iter().enumerate() {
                let Part::Array(a) = p else { continue };
                let part = unsafe { Robj::from_sexp(VECTOR_ELT(out.get(), i as _)) };
                if let Some(t) = text(&part, a)? {
                    unsafe { SET_VECTOR_ELT(out.get(), i as _, t.get()) };
                }
            }
            Ok(out)
        }
    }
}

/// The length of a prediction of `shape` that is a plain double vector
/// (no attributes) short enough to allocate without catching R's error.
pub fn plain_reals(shape: &OutputShape, nrows: usize) -> Option<usize> {
    let OutputShape::Array(a) = shape else { return None };
    let named = a.dimnames.iter().flatten().any(Option::is_some);
    let plain = a.values == ValueKind::Real && if a.drop { !named } else { a.dim.is_none() };
    Some(a.len(nrows)).filter(|&n| plain && n <= PLAIN_ALLOC)
}

/// The R object for a prediction of `shape`: the array, or a named list of
/// arrays.
pub fn alloc(shape: &OutputShape, nrows: usize) -> Result<Robj> {
    match shape {
        OutputShape::Array(a) => alloc_array(a, nrows),
        OutputShape::List(parts) => {
            let values = parts
                .iter()
                .map(|(_, p)| match p {
                    Part::Array(a) => alloc_array(a, nrows),
                    Part::Number(v) => Ok(Robj::from(*v)),
                    Part::Numbers(v) => Ok(Robj::from(v.as_slice())),
                })
                .collect::<Result<Vec<_>>>()?;
            let names: Vec<&str> = parts.iter().map(|(n, _)| n.as_str()).collect();
            let mut l: Robj = List::from_values(values).into();
            let _ = l.set_attrib("names", strings(&names)?);
            Ok(l)
        }
    }
}

/// The buffers of an object made by `alloc` for `shape`.
///
/// # Safety
/// `out` must come from `alloc(shape, ..)` and stay alive and unmodified by
/// R while the buffers are in use (the rest of the `.Call`).
pub unsafe fn buffers<'o>(out: &'o Robj, shape: &OutputShape) -> Vec<OutBuf<'o>> {
    let part = |x: extendr_ffi::SEXP, a: &ArrayShape| -> OutBuf<'o> {
        let n = Rf_xlength(x) as usize;
        match a.values {
            ValueKind::Factor(_) | ValueKind::Character(_) if n > 0 => {
                OutBuf::Int(std::slice::from_raw_parts_mut(INTEGER(x), n))
            }
            ValueKind::Real if n > 0 => OutBuf::Real(std::slice::from_raw_parts_mut(REAL(x), n)),
            ValueKind::Factor(_) | ValueKind::Character(_) => OutBuf::Int(&mut []),
            ValueKind::Real => OutBuf::Real(&mut []),
        }
    };
    match shape {
        OutputShape::Array(a) => vec![part(out.get(), a)],
        OutputShape::List(parts) => parts
            .iter()
            .enumerate()
            .filter_map(|(i, (_, p))| match p {
                Part::Array(a) => Some(part(VECTOR_ELT(out.get(), i as _), a)),
                Part::Number(_) | Part::Numbers(_) => None,
            })
            .collect(),
    }
}

/// Convert a JSON value to the R object a user would expect: objects to
/// named lists, homogeneous arrays of strings or numbers to vectors,
/// anything else to lists, `null` to NULL.
pub fn json_to_r(v: &serde_json::Value) -> Result<Robj> {
    use serde_json::Value;
    Ok(match v {
        Value::Null => Robj::from(()),
        Value::Bool(b) => Robj::from(*b),
        Value::Number(n) => Robj::from(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => strings(&[s.as_str()])?,
        Value::Array(a) => {
            if !a.is_empty() && a.iter().all(|x| x.is_string()) {
                let s: Vec<&str> = a.iter().filter_map(|x| x.as_str()).collect();
                strings(&s)?
            } else if !a.is_empty() && a.iter().all(|x| x.is_number()) {
                Robj::from(a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect::<Vec<f64>>())
            } else {
                List::from_values(a.iter().map(json_to_r).collect::<Result<Vec<_>>>()?).into()
            }
        }
        Value::Object(o) => {
            let names: Vec<&str> = o.keys().map(|k| k.as_str()).collect();
            let values = o.values().map(json_to_r).collect::<Result<Vec<_>>>()?;
            let mut l: Robj = List::from_values(values).into();
            let _ = l.set_attrib("names", strings(&names)?);
            l
        }
    })
}
