//! The input frame: named columns borrowed from the caller, never copied
//! (`Frame`), or owned (`FrameBuf`, for callers that decode their input,
//! such as a server reading JSON).
//!
//! The conventions are R's, because R is the first caller and the cheapest
//! place to convert is nowhere: integers and logicals use `i32::MIN` for NA,
//! doubles use R's NA bit pattern (any NaN counts as missing, unless a tree
//! model's `nan` rule says otherwise), and factor codes are 1-based.

pub(crate) mod bind;
pub(crate) mod levels;
mod owned;

pub use owned::{ColumnBuf, FrameBuf};

/// R's `NA_integer_` (and `NA` for logicals).
pub const NA_INTEGER: i32 = i32::MIN;

/// R's `NA_real_`: a NaN with payload 1954. Producing this exact pattern
/// for missing outputs makes them `NA` (not `NaN`) on the R side.
pub const NA_REAL: f64 = f64::from_bits(0x7FF0_0000_0000_07A2);

/// R's `ISNA()`: a NaN whose low word is 1954 (arithmetic may set the
/// quiet bit, so only the low word is compared).
#[inline]
pub fn is_r_na(v: f64) -> bool {
    v.is_nan() && v.to_bits() as u32 == 1954
}

/// One input column.
#[derive(Debug, Clone)]
pub enum Column<'a> {
    /// Double-precision numbers.
    Real(&'a [f64]),
    /// Integers (not factors).
    Int(&'a [i32]),
    /// Logicals: 0, 1 or NA.
    Logical(&'a [i32]),
    /// A factor: 1-based codes into `levels`.
    Factor { codes: &'a [i32], levels: Vec<&'a str> },
    /// Strings; `None` is a missing value.
    Str(Vec<Option<&'a str>>),
    /// Numbers that are zero except at `rows` (0-based, increasing, below
    /// `nrows`), which hold `values`: a column of a sparse matrix (R's
    /// `dgCMatrix`), read where it lies.
    Sparse { nrows: usize, rows: &'a [i32], values: &'a [f64] },
}

impl Column<'_> {
    pub fn len(&self) -> usize {
        match self {
            Column::Real(x) => x.len(),
            Column::Int(x) | Column::Logical(x) => x.len(),
            Column::Factor { codes, .. } => codes.len(),
            Column::Str(x) => x.len(),
            Column::Sparse { nrows, .. } => *nrows,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A short description used in type errors ("a factor", "a character vector").
    pub fn describe(&self) -> &'static str {
        match self {
            Column::Real(_) => "a double vector",
            Column::Int(_) => "an integer vector",
            Column::Logical(_) => "a logical vector",
            Column::Factor { .. } => "a factor",
            Column::Str(_) => "a character vector",
            Column::Sparse { .. } => "a sparse column",
        }
    }
}

/// A set of named columns of one common length.
#[derive(Debug, Clone, Default)]
pub struct Frame<'a> {
    names: Vec<&'a str>,
    columns: Vec<Column<'a>>,
    /// Row count of the source table, for models that read no column.
    nrows: Option<usize>,
}

impl<'a> Frame<'a> {
    pub fn new() -> Self {
        Frame::default()
    }

    pub fn with_capacity(n: usize) -> Self {
        Frame { names: Vec::with_capacity(n), columns: Vec::with_capacity(n), ..Frame::default() }
    }

    /// Add a column. Lengths are checked when the frame is bound to a model,
    /// so that the error can name the column. Of two columns with one name,
    /// the first is used.
    pub fn push(&mut self, name: &'a str, column: Column<'a>) {
        self.names.push(name);
        self.columns.push(column);
    }

    /// Declare the number of rows (needed when no column is read).
    pub fn set_nrows(&mut self, n: usize) {
        self.nrows = Some(n);
    }

    pub fn nrows(&self) -> Option<usize> {
        self.nrows
    }

    /// The columns with their names, in the order pushed.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &Column<'a>)> + '_ {
        self.names.iter().copied().zip(&self.columns)
    }

    /// The first column called `name` (binding a model looks many names
    /// up through an index instead).
    pub fn get(&self, name: &str) -> Option<&Column<'a>> {
        self.names.iter().position(|n| *n == name).map(|i| &self.columns[i])
    }

    pub(crate) fn names(&self) -> &[&'a str] {
        &self.names
    }

    pub(crate) fn columns(&self) -> &[Column<'a>] {
        &self.columns
    }
}
