//! Build the engine's `Frame` from an R data.frame or named list, reading
//! the columns in place (no copy) for the inputs the model uses.

use std::collections::HashMap;

use extendr_ffi::{
    R_DimSymbol, R_LevelsSymbol, R_NaString, R_NamesSymbol, R_RowNamesSymbol, Rf_getAttrib, Rf_isFactor, Rf_xlength,
    INTEGER, LOGICAL, REAL, SEXP, SEXPTYPE, STRING_ELT, TYPEOF, VECTOR_ELT,
};
use fastpredict_engine::{Column, Error, Frame, Result};

use super::sexp::{char_str, first_class, materialize};

/// Above this many columns, names are looked up through an index.
const INDEXED: usize = 16;

unsafe fn strs(x: SEXP) -> Result<Vec<Option<&'static str>>> {
    let n = Rf_xlength(x) as usize;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let c = STRING_ELT(x, i as _);
        out.push(if c == R_NaString { None } else { Some(char_str(c).map_err(Error::bad_argument)?) });
    }
    Ok(out)
}

unsafe fn slice<'a, T>(p: *mut T, n: usize) -> &'a [T] {
    if n == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(p, n)
    }
}

/// Read column `x` called `name`.
unsafe fn column(name: &str, x: SEXP) -> Result<Column<'static>> {
    let wrong =
        |found: String| Error::WrongType { column: name.to_string(), expected: "an atomic vector".into(), found };
    // a one-column matrix (say `d$s <- scale(d$x)`) is a vector
    let dim = Rf_getAttrib(x, R_DimSymbol);
    if TYPEOF(dim) != SEXPTYPE::NILSXP
        && !(TYPEOF(dim) == SEXPTYPE::INTSXP && Rf_xlength(dim) == 2 && *INTEGER(dim).add(1) == 1)
    {
        return Err(wrong("a matrix".into()));
    }
    let n = Rf_xlength(x) as usize;
    if matches!(TYPEOF(x), SEXPTYPE::REALSXP | SEXPTYPE::INTSXP | SEXPTYPE::LGLSXP) {
        materialize(x)?;
    }
    if Rf_isFactor(x) != extendr_ffi::Rboolean::FALSE {
        let lv = Rf_getAttrib(x, R_LevelsSymbol);
        let levels = if TYPEOF(lv) == SEXPTYPE::STRSXP { strs(lv)? } else { vec![] };
        let levels = levels
            .into_iter()
            .map(|l| l.ok_or_else(|| Error::bad_argument(format!("factor column '{name}' has an NA level"))))
            .collect::<Result<Vec<_>>>()?;
        return Ok(Column::Factor { codes: slice(INTEGER(x), n), levels });
    }
    // Classed vectors (Date, POSIXct, difftime, ...) are not plain numbers.
    let plain = ["AsIs", "integer", "numeric", "matrix", "array"];
    if let Some(cl) = first_class(x).filter(|c| !plain.contains(c)) {
        return Err(Error::WrongType {
            column: name.to_string(),
            expected: "a plain vector".into(),
            found: format!("an object of class '{cl}'"),
        });
    }
    Ok(match TYPEOF(x) {
        SEXPTYPE::REALSXP => Column::Real(slice(REAL(x), n)),
        SEXPTYPE::INTSXP => Column::Int(slice(INTEGER(x), n)),
        SEXPTYPE::LGLSXP => Column::Logical(slice(LOGICAL(x), n)),
        SEXPTYPE::STRSXP => Column::Str(strs(x)?),
        t => return Err(wrong(format!("an R object of type {t:?}"))),
    })
}

/// Rows of a data.frame (from its row names) or of a list (its first column).
unsafe fn table_rows(data: SEXP) -> usize {
    let rn = Rf_getAttrib(data, R_RowNamesSymbol);
    match TYPEOF(rn) {
        // compact form c(NA, -n) or c(NA, n)
        SEXPTYPE::INTSXP if Rf_xlength(rn) == 2 && *INTEGER(rn) == i32::MIN => {
            (*INTEGER(rn).add(1)).unsigned_abs() as usize
        }
        SEXPTYPE::INTSXP | SEXPTYPE::STRSXP => Rf_xlength(rn) as usize,
        _ if Rf_xlength(data) > 0 => Rf_xlength(VECTOR_ELT(data, 0)) as usize,
        _ => 0,
    }
}

/// The columns of `data` named in `wanted`; missing ones are left out so
/// that the engine reports them.
pub unsafe fn frame_from_r<'w>(data: SEXP, wanted: impl Iterator<Item = &'w str>) -> Result<Frame<'static>> {
    if TYPEOF(data) != SEXPTYPE::VECSXP {
        return Err(Error::bad_argument("newdata must be a data.frame or a named list of columns"));
    }
    let names = Rf_getAttrib(data, R_NamesSymbol);
    if TYPEOF(names) != SEXPTYPE::STRSXP {
        return Err(Error::bad_argument("newdata must have column names"));
    }
    // a name with no UTF-8 text (the "bytes" encoding, invalid bytes)
    // matches no input: the columns of such names are not read
    let names: Vec<Option<&str>> = (0..Rf_xlength(names))
        .map(|i| STRING_ELT(names, i))
        .map(|c| if c == R_NaString { None } else { char_str(c).ok() })
        .collect();
    let index: Option<HashMap<&str, usize>> = (names.len() > INDEXED).then(|| {
        let mut m = HashMap::with_capacity(names.len());
        for (i, n) in names.iter().enumerate() {
            if let Some(n) = n {
                m.entry(*n).or_insert(i);
            }
        }
        m
    });
    let mut frame = Frame::with_capacity(names.len().min(64));
    frame.set_nrows(table_rows(data));
    for w in wanted {
        let found = match &index {
            Some(m) => m.get(w).copied(),
            None => names.iter().position(|n| *n == Some(w)),
        };
        if let Some(i) = found {
            let name = names[i].unwrap_or_default();
            frame.push(name, column(name, VECTOR_ELT(data, i as _))?);
        }
    }
    Ok(frame)
}
