//! Binding a frame to a model's inputs: find each column by name, check
//! its type, and map factor levels by name to the model's level codes.
//! Everything that depends only on the model (lookup tables of level
//! names) is built once when the model is loaded.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::format::{InputSpec, InputType};
use crate::frame::{Column, Frame, NA_INTEGER, NA_REAL};

/// The model's input prototype, ready for binding.
#[derive(Debug, Clone)]
pub(crate) struct Inputs {
    specs: Vec<InputSpec>,
    by_name: HashMap<String, usize>,
}

impl Inputs {
    pub fn new(specs: Vec<InputSpec>) -> Result<Inputs> {
        let lim = crate::limits::limits();
        crate::limits::check("a model's inputs", specs.len() as u64, lim.inputs as u64, "inputs")?;
        for s in &specs {
            let n = s.levels.as_ref().map_or(0, Vec::len);
            crate::limits::check(&format!("input '{}': levels", s.name), n as u64, lim.levels as u64, "levels")?;
        }
        let mut by_name = HashMap::with_capacity(specs.len());
        for (i, s) in specs.iter().enumerate() {
            if by_name.insert(s.name.clone(), i).is_some() {
                return Err(Error::invalid(format!("input '{}' is declared twice", s.name)));
            }
            if s.kind.is_categorical() && s.levels.is_none() {
                return Err(Error::invalid(format!("input '{}' of type {} has no levels", s.name, s.kind.as_str())));
            }
        }
        Ok(Inputs { specs, by_name })
    }

    pub fn specs(&self) -> &[InputSpec] {
        &self.specs
    }

    pub fn index(&self, name: &str) -> Result<usize> {
        self.by_name
            .get(name)
            .copied()
            .ok_or_else(|| Error::invalid(format!("'{name}' is used but not declared in 'inputs'")))
    }

    /// Find, type-check and length-check every input column.
    pub fn bind<'f, 'a>(&self, frame: &'f Frame<'a>) -> Result<Bound<'f, 'a>> {
        let mut cols = Vec::with_capacity(self.specs.len());
        let mut nrows: Option<usize> = None;
        let find = Finder::new(frame, &self.specs);
        for (i, spec) in self.specs.iter().enumerate() {
            let col = find.get(i, &spec.name).ok_or_else(|| Error::MissingColumn { column: spec.name.clone() })?;
            check_type(spec, col)?;
            check_sparse(spec, col)?;
            match nrows {
                None => nrows = Some(col.len()),
                Some(n) if n != col.len() => {
                    return Err(Error::LengthMismatch { column: spec.name.clone(), expected: n, found: col.len() })
                }
                _ => {}
            }
            cols.push(col);
        }
        let num = cols.iter().map(|c| NumView::of(c)).collect();
        let nrows = nrows.or(frame.nrows()).unwrap_or(0);
        Ok(Bound { cols, num, nrows })
    }
}

/// Above this many columns, a frame's names are looked up through an index.
const INDEXED: usize = 16;

/// How binding finds each input's column in a frame.
enum Finder<'f, 'a> {
    /// The frame holds exactly the inputs, in order (as the R package's
    /// readers build it): nothing to look up. Input names are unique, so
    /// each is there once.
    InOrder(&'f [Column<'a>]),
    /// A wide frame: name -> its first column.
    Index(&'f Frame<'a>, HashMap<&'a str, usize>),
    Scan(&'f Frame<'a>),
}

impl<'f, 'a> Finder<'f, 'a> {
    fn new(frame: &'f Frame<'a>, specs: &[InputSpec]) -> Finder<'f, 'a> {
        let names = frame.names();
        if names.len() == specs.len() && names.iter().zip(specs).all(|(n, s)| *n == s.name) {
            return Finder::InOrder(frame.columns());
        }
        if names.len() <= INDEXED {
            return Finder::Scan(frame);
        }
        let mut index = HashMap::with_capacity(2 * names.len());
        for (i, n) in names.iter().enumerate() {
            index.entry(*n).or_insert(i);
        }
        Finder::Index(frame, index)
    }

    fn get(&self, input: usize, name: &str) -> Option<&'f Column<'a>> {
        match self {
            Finder::InOrder(cols) => cols.get(input),
            Finder::Index(frame, index) => index.get(name).map(|&i| &frame.columns()[i]),
            Finder::Scan(frame) => frame.get(name),
        }
    }
}

fn check_type(spec: &InputSpec, col: &Column) -> Result<()> {
    let (ok, expected) = match spec.kind {
        InputType::Numeric => {
            (matches!(col, Column::Real(_) | Column::Int(_) | Column::Sparse { .. }), "numeric (double or integer)")
        }
        InputType::Logical => (matches!(col, Column::Logical(_)), "logical"),
        InputType::Factor | InputType::Ordered | InputType::Character => {
            (matches!(col, Column::Factor { .. } | Column::Str(_)), "a factor or character vector")
        }
        InputType::Any => (true, ""),
        InputType::Coded => {
            (!matches!(col, Column::Str(_)), "a number, a logical or a factor (read by its level codes)")
        }
    };
    if ok {
        return Ok(());
    }
    Err(Error::WrongType {
        column: spec.name.clone(),
        expected: expected.to_string(),
        found: col.describe().to_string(),
    })
}

/// A sparse column's entries must be in increasing rows below its length,
/// which the readers of one rely on.
fn check_sparse(spec: &InputSpec, col: &Column) -> Result<()> {
    let Column::Sparse { nrows, rows, values } = col else { return Ok(()) };
    let increasing = rows.windows(2).all(|w| w[0] < w[1]);
    let inside = rows.first().is_none_or(|&r| r >= 0) && rows.last().is_none_or(|&r| (r as usize) < *nrows);
    if rows.len() == values.len() && increasing && inside {
        return Ok(());
    }
    Err(Error::bad_argument(format!(
        "sparse column '{}' does not hold increasing row indices below its length, one per value",
        spec.name
    )))
}

/// Numeric view of a column, with `as.numeric()` semantics: factor codes
/// for factors, strings parsed as numbers.
#[derive(Debug, Clone, Copy)]
pub(crate) enum NumView<'a> {
    Real(&'a [f64]),
    Int(&'a [i32]),
    Str(&'a [Option<&'a str>]),
    Sparse { rows: &'a [i32], values: &'a [f64] },
}

impl<'a> NumView<'a> {
    pub(crate) fn of(c: &'a Column<'_>) -> NumView<'a> {
        match c {
            Column::Real(x) => NumView::Real(x),
            Column::Int(x) | Column::Logical(x) => NumView::Int(x),
            Column::Factor { codes, .. } => NumView::Int(codes),
            Column::Str(s) => NumView::Str(s),
            Column::Sparse { rows, values, .. } => NumView::Sparse { rows, values },
        }
    }

    #[inline]
    pub fn get(&self, r: usize) -> f64 {
        match self {
            NumView::Real(x) => x[r],
            NumView::Int(x) => {
                let v = x[r];
                if v == NA_INTEGER {
                    NA_REAL
                } else {
                    v as f64
                }
            }
            NumView::Str(s) => s[r].map_or(NA_REAL, parse_number),
            NumView::Sparse { rows, values } => match rows.binary_search(&(r as i32)) {
                Ok(k) => values[k],
                Err(_) => 0.0,
            },
        }
    }
}

/// A string as R's `as.numeric()` reads it: surrounding blanks ignored,
/// decimal or hexadecimal, `Inf`/`NaN` spelled in any case; anything else
/// (and "NA") is missing.
fn parse_number(s: &str) -> f64 {
    let t = s.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let v = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok().map(|v| v as f64)
    } else if body.eq_ignore_ascii_case("na") {
        None
    } else {
        body.parse::<f64>().ok()
    };
    match v {
        Some(v) if neg => -v,
        Some(v) => v,
        None => NA_REAL,
    }
}

/// A frame bound to a model's inputs (in the model's input order).
pub(crate) struct Bound<'f, 'a> {
    cols: Vec<&'f Column<'a>>,
    num: Vec<NumView<'f>>,
    nrows: usize,
}

impl<'f, 'a> Bound<'f, 'a> {
    pub fn nrows(&self) -> usize {
        self.nrows
    }

    pub fn column(&self, input: usize) -> &'f Column<'a> {
        self.cols[input]
    }

    #[inline]
    pub fn num(&self, input: usize) -> NumView<'f> {
        self.num[input]
    }
}

impl crate::linear::NumericSource for Bound<'_, '_> {
    #[inline]
    fn value(&self, input: usize, row: usize) -> f64 {
        self.num[input].get(row)
    }
}

#[cfg(test)]
mod tests;
