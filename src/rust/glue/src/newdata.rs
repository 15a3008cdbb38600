//! Build the engine's frame from R's newdata, for the inputs the model
//! uses: the columns of a data.frame or named list and of a numeric matrix
//! are read in place (no copy); the columns of a sparse `dgCMatrix` that the
//! model reads are expanded, one at a time, and no others.
//!
//! A model whose package predicts from a matrix (`ModelInfo::matrix_input`,
//! glmnet's `newx`) takes only a matrix, or one row as a plain vector, and
//! reads a sparse matrix's columns where they lie.

use std::collections::HashMap;
use std::ffi::CStr;

use extendr_ffi::{
    R_DimSymbol, R_LevelsSymbol, R_NaString, R_NamesSymbol, R_RowNamesSymbol, R_do_slot, Rf_getAttrib, Rf_install,
    Rf_isFactor, Rf_xlength, INTEGER, LOGICAL, REAL, SEXP, SEXPTYPE, STRING_ELT, TYPEOF, VECTOR_ELT,
};
use fastpredict_engine::{Column, ColumnBuf, Error, Frame, FrameBuf, MatrixInput, Result};

use super::sexp::{char_str, first_class, inherits, materialize};

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

/// The value of a sparse matrix's absent entries for a model whose
/// `sparse_absent` fact is `fact`: NA where the library reads them as
/// missing (xgboost), else 0.
pub fn absent(fact: Option<&str>) -> f64 {
    match fact {
        Some("missing") => fastpredict_engine::NA_REAL,
        _ => 0.0,
    }
}

/// Read `data` for the model inputs named by `wanted`, in input order.
/// `absent` is the value of the entries a sparse matrix does not store: 0,
/// or for models whose library reads them as missing (xgboost), NA.
///
/// # Safety
/// `data` must stay alive and unchanged for the rest of the `.Call`.
pub unsafe fn read<'w>(
    data: SEXP,
    wanted: &[&'w str],
    matrix: Option<MatrixInput>,
    absent: f64,
) -> Result<NewData<'w>> {
    if let Some(m) = matrix {
        return matrix_only(data, wanted, m.by_position).map(NewData::Borrowed);
    }
    if TYPEOF(data) == SEXPTYPE::S4SXP && inherits(data, "dgCMatrix") {
        return sparse(data, wanted, absent).map(NewData::Owned);
    }
    if matches!(TYPEOF(data), SEXPTYPE::REALSXP | SEXPTYPE::INTSXP | SEXPTYPE::LGLSXP) {
        let dim = Rf_getAttrib(data, R_DimSymbol);
        if TYPEOF(dim) == SEXPTYPE::INTSXP && Rf_xlength(dim) == 2 {
            return dense(data, wanted, None).map(NewData::Borrowed);
        }
    }
    frame_from_r(data, wanted.iter().copied()).map(NewData::Borrowed)
}

/// newdata for a model that predicts from a matrix: a numeric or logical
/// matrix, a sparse `dgCMatrix`, or one row as a plain vector (as
/// `predict.glmnet()` reads a vector).
unsafe fn matrix_only<'w>(data: SEXP, wanted: &[&'w str], by_position: bool) -> Result<Frame<'w>> {
    if TYPEOF(data) == SEXPTYPE::S4SXP && inherits(data, "dgCMatrix") {
        return sparse_in_place(data, wanted, by_position);
    }
    let numeric = matches!(TYPEOF(data), SEXPTYPE::REALSXP | SEXPTYPE::INTSXP | SEXPTYPE::LGLSXP);
    let dim = Rf_getAttrib(data, R_DimSymbol);
    if numeric && TYPEOF(dim) == SEXPTYPE::INTSXP && Rf_xlength(dim) == 2 {
        return dense(data, wanted, Some(by_position));
    }
    if numeric && TYPEOF(dim) == SEXPTYPE::NILSXP && first_class(data).is_none() {
        return one_row(data, wanted, by_position);
    }
    let what = if inherits(data, "data.frame") {
        "a data.frame".to_string()
    } else if let Some(cl) = first_class(data) {
        format!("an object of class '{cl}'")
    } else {
        format!("an R object of type {:?}", TYPEOF(data))
    };
    Err(Error::bad_argument(format!(
        "this model predicts from a numeric matrix (or a sparse dgCMatrix), as its package's predict() does, \
         but newdata is {what}; convert it with as.matrix()"
    )))
}

/// A plain numeric vector: one row, one value per column.
unsafe fn one_row<'w>(data: SEXP, wanted: &[&'w str], by_position: bool) -> Result<Frame<'w>> {
    let n = Rf_xlength(data) as usize;
    let names = Rf_getAttrib(data, R_NamesSymbol);
    let names = if TYPEOF(names) == SEXPTYPE::STRSXP { Some(strs(names)?) } else { None };
    materialize(data)?;
    let mut frame = Frame::with_capacity(wanted.len());
    frame.set_nrows(1);
    for (w, j) in wanted.iter().zip(matrix_columns(names, n, wanted, by_position)?) {
        let Some(j) = j else { continue };
        let col = match TYPEOF(data) {
            SEXPTYPE::REALSXP => Column::Real(slice(REAL(data).add(j), 1)),
            SEXPTYPE::INTSXP => Column::Int(slice(INTEGER(data).add(j), 1)),
            _ => Column::Int(slice(LOGICAL(data).add(j), 1)),
        };
        frame.push(w, col);
    }
    Ok(frame)
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
/// matrix has column names (unless the model takes them `by_position`),
/// else by position, when the counts agree.
fn matrix_columns(
    names: Option<Vec<Option<&str>>>,
    ncol: usize,
    wanted: &[&str],
    by_position: bool,
) -> Result<Vec<Option<usize>>> {
    match names.filter(|_| !by_position) {
        // the model's own columns in its order: nothing to look up
        Some(names) if names.len() == wanted.len() && names.iter().zip(wanted).all(|(n, w)| *n == Some(*w)) => {
            Ok((0..ncol).map(Some).collect())
        }
        Some(names) => {
            let index: HashMap<&str, usize> =
                names.iter().enumerate().rev().filter_map(|(i, n)| n.map(|n| (n, i))).collect();
            Ok(wanted.iter().map(|w| index.get(w).copied()).collect())
        }
        None if ncol == wanted.len() => Ok((0..ncol).map(Some).collect()),
        None if by_position => Err(Error::bad_argument(format!(
            "newdata has {ncol} columns, but the model reads {} (by position: the model was fitted on a matrix \
             without column names)",
            wanted.len()
        ))),
        None => Err(Error::bad_argument(format!(
            "newdata is a matrix without column names with {ncol} columns, but the model reads {} \
             (give the columns names, or one column per input in the model's order)",
            wanted.len()
        ))),
    }
}

/// A numeric or logical matrix: each column read in place. For a model
/// that takes a matrix (`matrix` says whether by position), a logical
/// matrix is numbers, as R's matrix product reads it.
unsafe fn dense<'w>(data: SEXP, wanted: &[&'w str], matrix: Option<bool>) -> Result<Frame<'w>> {
    let dim = Rf_getAttrib(data, R_DimSymbol);
    // R keeps dim and length in agreement; a C-level edit need not
    let bad_dim = || Error::bad_argument("newdata is a matrix whose dim does not match its length");
    let (nrow, ncol) = (
        usize::try_from(*INTEGER(dim)).map_err(|_| bad_dim())?,
        usize::try_from(*INTEGER(dim).add(1)).map_err(|_| bad_dim())?,
    );
    if nrow.checked_mul(ncol) != Some(Rf_xlength(data) as usize) {
        return Err(bad_dim());
    }
    let names = colnames(Rf_getAttrib(data, Rf_install(c"dimnames".as_ptr())))?;
    materialize(data)?;
    let mut frame = Frame::with_capacity(wanted.len());
    frame.set_nrows(nrow);
    for (w, j) in wanted.iter().zip(matrix_columns(names, ncol, wanted, matrix == Some(true))?) {
        let Some(j) = j else { continue };
        let col = match TYPEOF(data) {
            SEXPTYPE::REALSXP => Column::Real(slice(REAL(data).add(j * nrow), nrow)),
            SEXPTYPE::INTSXP => Column::Int(slice(INTEGER(data).add(j * nrow), nrow)),
            _ if matrix.is_some() => Column::Int(slice(LOGICAL(data).add(j * nrow), nrow)),
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

/// The slots of a `dgCMatrix`, checked to agree: rows, columns, the
/// column starts, row indices, values and column names.
struct Sparse<'a> {
    nrow: usize,
    ncol: usize,
    starts: &'a [i32],
    rows: &'a [i32],
    values: &'a [f64],
    names: Option<Vec<Option<&'static str>>>,
}

impl<'a> Sparse<'a> {
    unsafe fn of(data: SEXP) -> Result<Sparse<'a>> {
        let dim = slot(data, c"Dim", SEXPTYPE::INTSXP)?;
        let (i, p, x) = (
            slot(data, c"i", SEXPTYPE::INTSXP)?,
            slot(data, c"p", SEXPTYPE::INTSXP)?,
            slot(data, c"x", SEXPTYPE::REALSXP)?,
        );
        for v in [dim, i, p, x] {
            materialize(v)?;
        }
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
        Ok(Sparse { nrow, ncol, starts, rows, values, names })
    }

    /// The entries of column `j`.
    fn column(&self, j: usize) -> Result<std::ops::Range<usize>> {
        let (a, b) = (self.starts[j], self.starts[j + 1]);
        if a < 0 || b < a || b as usize > self.values.len() {
            return Err(corrupt());
        }
        Ok(a as usize..b as usize)
    }
}

fn corrupt() -> Error {
    Error::bad_argument("newdata is a dgCMatrix whose slots do not agree")
}

/// A sparse `dgCMatrix`: the wanted columns expanded, one at a time.
unsafe fn sparse(data: SEXP, wanted: &[&str], absent: f64) -> Result<FrameBuf> {
    let m = Sparse::of(data)?;
    let mut buf = FrameBuf::new();
    buf.set_nrows(m.nrow);
    for (w, j) in wanted.iter().zip(matrix_columns(m.names.clone(), m.ncol, wanted, false)?) {
        let Some(j) = j else { continue };
        // the declared row count, allocated fallibly: Dim can claim a
        // billion rows with no values stored
        let mut col = Vec::new();
        col.try_reserve_exact(m.nrow).map_err(|_| {
            Error::bad_argument(format!("newdata is a dgCMatrix of {} rows, too many to expand column '{w}'", m.nrow))
        })?;
        col.resize(m.nrow, absent);
        for k in m.column(j)? {
            let r = usize::try_from(m.rows[k]).ok().filter(|&r| r < m.nrow).ok_or_else(corrupt)?;
            col[r] = m.values[k];
        }
        buf.push(*w, ColumnBuf::Real(col));
    }
    Ok(buf)
}

/// A sparse `dgCMatrix` for a model that reads sparse columns where they
/// lie (the engine checks their row indices).
unsafe fn sparse_in_place<'w>(data: SEXP, wanted: &[&'w str], by_position: bool) -> Result<Frame<'w>> {
    let m = Sparse::of(data)?;
    let mut frame = Frame::with_capacity(wanted.len());
    frame.set_nrows(m.nrow);
    for (w, j) in wanted.iter().zip(matrix_columns(m.names.clone(), m.ncol, wanted, by_position)?) {
        let Some(j) = j else { continue };
        let r = m.column(j)?;
        frame.push(w, Column::Sparse { nrows: m.nrow, rows: &m.rows[r.clone()], values: &m.values[r] });
    }
    Ok(frame)
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
    if matches!(TYPEOF(x), SEXPTYPE::REALSXP | SEXPTYPE::INTSXP | SEXPTYPE::LGLSXP) {
        materialize(x)?;
    }
    if Rf_isFactor(x) != extendr_ffi::Rboolean::FALSE {
        let lv = Rf_getAttrib(x, R_LevelsSymbol);
        let nl = if TYPEOF(lv) == SEXPTYPE::STRSXP { Rf_xlength(lv) as usize } else { 0 };
        let mut levels = Vec::with_capacity(nl);
        for i in 0..nl {
            let c = STRING_ELT(lv, i as _);
            if c == R_NaString {
                return Err(Error::bad_argument(format!("factor column '{name}' has an NA level")));
            }
            levels.push(char_str(c).map_err(Error::bad_argument)?);
        }
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
/// `a == b`, with the lengths and last bytes compared before the bytes:
/// column names often share a length and a first letter ("x1", "x2"), and
/// a call for one row compares a few dozen of them.
fn same_name(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().last() == b.as_bytes().last() && a == b
}

unsafe fn frame_from_r<'w>(data: SEXP, wanted: impl Iterator<Item = &'w str>) -> Result<Frame<'static>> {
    if TYPEOF(data) != SEXPTYPE::VECSXP {
        return Err(Error::bad_argument("newdata must be a data.frame, a named list of columns, or a numeric matrix"));
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
            None => names.iter().position(|n| n.is_some_and(|n| same_name(n, w))),
        };
        if let Some(i) = found {
            let name = names[i].unwrap_or_default();
            frame.push(name, column(name, VECTOR_ELT(data, i as _))?);
        }
    }
    Ok(frame)
}
