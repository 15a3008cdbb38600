//! An owned frame, for callers that build their columns (a server decoding
//! JSON, the property tests). It lends itself out as a borrowed [`Frame`].

use super::{Column, Frame};

/// One owned column, in the conventions of [`Column`].
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnBuf {
    Real(Vec<f64>),
    Int(Vec<i32>),
    Logical(Vec<i32>),
    /// 1-based codes into `levels`.
    Factor {
        codes: Vec<i32>,
        levels: Vec<String>,
    },
    Str(Vec<Option<String>>),
    /// A sparse column (see [`Column::Sparse`]).
    Sparse {
        nrows: usize,
        rows: Vec<i32>,
        values: Vec<f64>,
    },
}

impl ColumnBuf {
    pub fn len(&self) -> usize {
        match self {
            ColumnBuf::Real(x) => x.len(),
            ColumnBuf::Int(x) | ColumnBuf::Logical(x) => x.len(),
            ColumnBuf::Factor { codes, .. } => codes.len(),
            ColumnBuf::Str(x) => x.len(),
            ColumnBuf::Sparse { nrows, .. } => *nrows,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn borrow(&self) -> Column<'_> {
        match self {
            ColumnBuf::Real(x) => Column::Real(x),
            ColumnBuf::Int(x) => Column::Int(x),
            ColumnBuf::Logical(x) => Column::Logical(x),
            ColumnBuf::Factor { codes, levels } => {
                Column::Factor { codes, levels: levels.iter().map(String::as_str).collect() }
            }
            ColumnBuf::Str(x) => Column::Str(x.iter().map(Option::as_deref).collect()),
            ColumnBuf::Sparse { nrows, rows, values } => Column::Sparse { nrows: *nrows, rows, values },
        }
    }
}

/// Named owned columns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FrameBuf {
    names: Vec<String>,
    columns: Vec<ColumnBuf>,
    nrows: Option<usize>,
}

impl FrameBuf {
    pub fn new() -> FrameBuf {
        FrameBuf::default()
    }

    pub fn push(&mut self, name: impl Into<String>, column: ColumnBuf) {
        self.names.push(name.into());
        self.columns.push(column);
    }

    /// Declare the number of rows (needed when no column is read).
    pub fn set_nrows(&mut self, n: usize) {
        self.nrows = Some(n);
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn columns(&self) -> &[ColumnBuf] {
        &self.columns
    }

    /// The rows of the first column, else the declared count.
    pub fn nrows(&self) -> usize {
        self.columns.first().map(ColumnBuf::len).or(self.nrows).unwrap_or(0)
    }

    /// The columns as a borrowed frame.
    pub fn frame(&self) -> Frame<'_> {
        let mut f = Frame::with_capacity(self.columns.len());
        for (n, c) in self.names.iter().zip(&self.columns) {
            f.push(n, c.borrow());
        }
        f.set_nrows(self.nrows());
        f
    }
}
