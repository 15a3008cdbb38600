//! Build the engine's frame from R's newdata, for the inputs the model
//! uses: the columns of a data.frame or named list and of a numeric matrix
//! are read in place (no copy); the columns of a sparse `dgCMatrix` that the
//! model reads are expanded, one at a time, and no others.

use std::collections::HashMap;
use std::ffi::CStr;

use extendr_ffi::{
    R_DimSymbol, R_LevelsSymbol, R_NaString, R_NamesSymbol, R_RowNamesSymbol, R_do_slot, Rf_getAttrib, Rf_install,
    Rf_isFactor, Rf_xlength, INTEGER, LOGICAL, REAL, SEXP, SEXPTYPE, STRING_ELT, TYPEOF, VECTOR_ELT,
};
use fastpredict_engine::{Column, ColumnBuf, Error, Frame, FrameBuf, Result};

use super::sexp::{char_str, first_class, inherits};

// SEXP points to an opaque R struct; passing the pointer is what R expects.
#[allow(improper_ctypes)]
extern "C" {
    fn R_has_slot(obj: SEXP, name: SEXP) -> std::ffi::c_int;
}

/// newdata read for one call.
pub enum NewData<'w> {
    /// Columns read in place (named by the model's inputs, which outlive the call).
    Borrowed(Frame<'w>),
    /// Columns expanded from a sparse matrix.
    Owned(FrameBuf),
}

/// Read `data` for the model inputs named by `wanted`, in input order.
///
/// # Safety
/// `data` must stay alive and unchanged for the rest of the `.Call`.
pub unsafe fn read<'w>(data: SEXP, wanted: &[&'w str]) -> Result<NewData<'w>> {
    if TYPEOF(data) == SEXPTYPE::S4SXP && inherits(data, "dgCMatrix") {
        return sparse(data, wanted).map(NewData::Owned);
    }
    if matches!(TYPEOF(data), SEXPTYPE::REALSXP | SEXPTYPE::INTSXP | SEXPTYPE::LGLSXP) {
        let dim = Rf_getAttrib(data, R_DimSymbol);
        if TYPEOF(dim) == SEXPTYPE::INTSXP && Rf_xlength(dim) == 2 {
            return dense(data, wanted).map(NewData::Borrowed);
        }
    }
    frame_from_r(data, wanted.iter().copied()).map(NewData::Borrowed)
}

/// The column names of a matrix (`dimnames[[2]]`), if it has them.
unsafe fn colnames(dimnames: SEXP) -> Result<Option<Vec<Option<&'static str>>>> {
    if TYPEOF(dimnames) != SEXPTYPE::VECSXP || Rf_xlength(dimnames) != 2 {
        return Ok(None);
    }
    let cn = VECTOR_ELT(dimnames, 1);
    if TYPEOF(cn) != SEXPTYPE::STRSXP {
        return Ok(None);
    }
    strs(cn).map(Some)
}

/// The matrix column (0-based) of each wanted input: by name where the
/// matrix has column names, else by position, when the counts agree.
fn matrix_columns(names: Option<Vec<Option<&str>>>, ncol: usize, wanted: &[&str]) -> Result<Vec<Option<usize>>> {
    match names {
        Some(names) => {
            let index: HashMap<&str, usize> =
                names.iter().enumerate().rev().filter_map(|(i, n)| n.map(|n| (n, i))).collect();
            Ok(wanted.iter().map(|w| index.get(w).copied()).collect())
        }
        None if ncol == wanted.len() => Ok((0..ncol).map(Some).collect()),
        None => Err(Error::bad_argument(format!(
            "newdata is a matrix without column names with {ncol} columns, but the model reads {} \
             (give the columns names, or one column per input in the model's order)",
            wanted.len()
        ))),
    }
}

/// A numeric or logical matrix: each column read in place.
unsafe fn dense<'w>(data: SEXP, wanted: &[&'w str]) -> Result<Frame<'w>> {
    let dim = Rf_getAttrib(data, R_DimSymbol);
    let (nrow, ncol) = (*INTEGER(dim) as usize, *INTEGER(dim).add(1) as usize);
    let names = colnames(Rf_getAttrib(data, Rf_install(c"dimnames".as_ptr())))?;
    let mut frame = Frame::with_capacity(wanted.len());
    frame.set_nrows(nrow);
    for (w, j) in wanted.iter().zip(matrix_columns(names, ncol, wanted)?) {
        let Some(j) = j else { continue };
        let col = match TYPEOF(data) {
            SEXPTYPE::REALSXP => Column::Real(slice(REAL(data).add(j * nrow), nrow)),
            SEXPTYPE::INTSXP => Column::Int(slice(INTEGER(data).add(j * nrow), nrow)),
            _ => Column::Logical(slice(LOGICAL(data).add(j * nrow), nrow)),
        };
        frame.push(w, col);
    }
    Ok(frame)
}

unsafe fn slot(x: SEXP, name: &CStr, kind: SEXPTYPE) -> Result<SEXP> {
    let sym = Rf_install(name.as_ptr());
    let bad =
        || Error::bad_argument(format!("newdata is a dgCMatrix without a proper slot '{}'", name.to_string_lossy()));
    if R_has_slot(x, sym) == 0 {
        return Err(bad());
    }
    let v = R_do_slot(x, sym);
    if TYPEOF(v) != kind {
        return Err(bad());
    }
    Ok(v)
}

/// A sparse `dgCMatrix`: the wanted columns expanded, one at a time.
unsafe fn sparse(data: SEXP, wanted: &[&str]) -> Result<FrameBuf> {
    let dim = slot(data, c"Dim", SEXPTYPE::INTSXP)?;
    let (i, p, x) = (
        slot(data, c"i", SEXPTYPE::INTSXP)?,
        slot(data, c"p", SEXPTYPE::INTSXP)?,
        slot(data, c"x", SEXPTYPE::REALSXP)?,
    );
    let corrupt = || Error::bad_argument("newdata is a dgCMatrix whose slots do not agree");
    if Rf_xlength(dim) != 2 || *INTEGER(dim) < 0 || *INTEGER(dim).add(1) < 0 {
        return Err(corrupt());
    }
    let (nrow, ncol) = (*INTEGER(dim) as usize, *INTEGER(dim).add(1) as usize);
    let (rows, starts, values) = (
        slice(INTEGER(i), Rf_xlength(i) as usize),
        slice(INTEGER(p), Rf_xlength(p) as usize),
        slice(REAL(x), Rf_xlength(x) as usize),
    );
    if starts.len() != ncol + 1 || rows.len() != values.len() {
        return Err(corrupt());
    }
    let names = if R_has_slot(data, Rf_install(c"Dimnames".as_ptr())) != 0 {
        colnames(R_do_slot(data, Rf_install(c"Dimnames".as_ptr())))?
    } else {
        None
    };
    let mut buf = FrameBuf::new();
    buf.set_nrows(nrow);
    for (w, j) in wanted.iter().zip(matrix_columns(names, ncol, wanted)?) {
        let Some(j) = j else { continue };
        let (a, b) = (starts[j], starts[j + 1]);
        if a < 0 || b < a || b as usize > values.len() {
            return Err(corrupt());
        }
        let mut col = vec![0.0; nrow];
        for k in a as usize..b as usize {
            let r = usize::try_from(rows[k]).ok().filter(|&r| r < nrow).ok_or_else(corrupt)?;
            col[r] = values[k];
        }
        buf.push(*w, ColumnBuf::Real(col));
    }
    Ok(buf)
}

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
unsafe fn frame_from_r<'w>(data: SEXP, wanted: impl Iterator<Item = &'w str>) -> Result<Frame<'static>> {
    if TYPEOF(data) != SEXPTYPE::VECSXP {
        return Err(Error::bad_argument("newdata must be a data.frame, a named list of columns, or a numeric matrix"));
    }
    let names = Rf_getAttrib(data, R_NamesSymbol);
    if TYPEOF(names) != SEXPTYPE::STRSXP {
        return Err(Error::bad_argument("newdata must have column names"));
    }
    let names = strs(names)?;
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
