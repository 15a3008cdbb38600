//! Binding a frame to a model's inputs: find each column by name, check
//! its type, and map factor levels by name to the model's level codes.
//! Everything that depends only on the model (lookup tables of level
//! names) is built once when the model is loaded.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::format::{InputSpec, InputType};
use crate::frame::{Column, Frame, NA_INTEGER, NA_REAL};

/// Code of a missing value in a [`FactorCodes`].
pub const NA_CODE: u32 = u32::MAX;
/// Marks a level the model did not see, while checking whether a row uses
/// it (with [`Unseen::Error`] only; it never reaches a prediction).
const UNSEEN_CODE: u32 = u32::MAX - 1;

/// The model's input prototype, ready for binding.
#[derive(Debug, Clone)]
pub struct Inputs {
    specs: Vec<InputSpec>,
}

impl Inputs {
    pub fn new(specs: Vec<InputSpec>) -> Result<Inputs> {
        for (i, s) in specs.iter().enumerate() {
            if specs[..i].iter().any(|t| t.name == s.name) {
                return Err(Error::invalid(format!("input '{}' is declared twice", s.name)));
            }
            if s.kind.is_categorical() && s.levels.is_none() {
                return Err(Error::invalid(format!("input '{}' of type {} has no levels", s.name, s.kind.as_str())));
            }
        }
        Ok(Inputs { specs })
    }

    pub fn specs(&self) -> &[InputSpec] {
        &self.specs
    }

    pub fn index(&self, name: &str) -> Result<usize> {
        self.specs
            .iter()
            .position(|s| s.name == name)
            .ok_or_else(|| Error::invalid(format!("'{name}' is used but not declared in 'inputs'")))
    }

    /// Find, type-check and length-check every input column.
    pub fn bind<'f, 'a>(&self, frame: &'f Frame<'a>) -> Result<Bound<'f, 'a>> {
        let mut cols = Vec::with_capacity(self.specs.len());
        let mut nrows: Option<(usize, &str)> = None;
        for spec in &self.specs {
            let col = frame.get(&spec.name).ok_or_else(|| Error::MissingColumn { column: spec.name.clone() })?;
            check_type(spec, col)?;
            match nrows {
                None => nrows = Some((col.len(), &spec.name)),
                Some((n, _)) if n != col.len() => {
                    return Err(Error::LengthMismatch { column: spec.name.clone(), expected: n, found: col.len() })
                }
                _ => {}
            }
            cols.push(col);
        }
        let num = cols.iter().map(|c| NumView::of(c)).collect();
        let nrows = nrows.map(|(n, _)| n).or(frame.nrows()).unwrap_or(0);
        Ok(Bound { cols, num, nrows })
    }
}

fn check_type(spec: &InputSpec, col: &Column) -> Result<()> {
    let ok = match spec.kind {
        InputType::Numeric => matches!(col, Column::Real(_) | Column::Int(_)),
        InputType::Logical => matches!(col, Column::Logical(_)),
        InputType::Factor | InputType::Ordered | InputType::Character => {
            matches!(col, Column::Factor { .. } | Column::Str(_))
        }
        InputType::Any => true,
    };
    if ok {
        return Ok(());
    }
    let expected = match spec.kind {
        InputType::Numeric => "numeric (double or integer)",
        InputType::Logical => "logical",
        InputType::Factor | InputType::Ordered | InputType::Character => "a factor or character vector",
        InputType::Any => unreachable!(),
    };
    Err(Error::WrongType {
        column: spec.name.clone(),
        expected: expected.to_string(),
        found: col.describe().to_string(),
    })
}

/// Numeric view of a column, with `as.numeric()` semantics: factor codes
/// for factors, strings parsed as numbers.
#[derive(Debug, Clone, Copy)]
pub enum NumView<'a> {
    Real(&'a [f64]),
    Int(&'a [i32]),
    Str(&'a [Option<&'a str>]),
}

impl<'a> NumView<'a> {
    fn of(c: &'a Column<'a>) -> NumView<'a> {
        match c {
            Column::Real(x) => NumView::Real(x),
            Column::Int(x) | Column::Logical(x) => NumView::Int(x),
            Column::Factor { codes, .. } => NumView::Int(codes),
            Column::Str(s) => NumView::Str(s),
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
pub struct Bound<'f, 'a> {
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

impl crate::expr::NumericSource for Bound<'_, '_> {
    #[inline]
    fn value(&self, input: usize, row: usize) -> f64 {
        self.num[input].get(row)
    }
}

/// What to do with a level the model did not see in training.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unseen {
    /// Refuse the input, as R's `model.frame()` does.
    Error,
    /// Treat it as a missing value.
    Missing,
    /// Give it the code after the last known level (ranger's "order" mode
    /// sorts new levels after the known ones).
    Last,
}

/// The levels of a categorical variable, indexed for lookups by name and,
/// for inline `factor(x)` of a number, by value.
#[derive(Debug, Clone)]
pub struct Levels {
    names: Vec<String>,
    by_name: HashMap<String, u32>,
    /// (value, code) for levels that read as numbers, sorted by value.
    by_value: Vec<(f64, u32)>,
}

impl Levels {
    pub fn new(names: &[String]) -> Result<Levels> {
        let mut by_name = HashMap::with_capacity(names.len());
        for (i, n) in names.iter().enumerate() {
            if by_name.insert(n.clone(), i as u32).is_some() {
                return Err(Error::invalid(format!("duplicated level '{n}'")));
            }
        }
        let mut by_value: Vec<(f64, u32)> = names
            .iter()
            .enumerate()
            .filter_map(|(i, n)| n.parse::<f64>().ok().filter(|v| v.is_finite()).map(|v| (v, i as u32)))
            .collect();
        by_value.sort_by(|a, b| a.0.total_cmp(&b.0));
        Ok(Levels { names: names.to_vec(), by_name, by_value })
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn code(&self, name: &str) -> Option<u32> {
        self.by_name.get(name).copied()
    }

    fn code_of_value(&self, v: f64) -> Option<u32> {
        let find = |x: f64| self.by_value.binary_search_by(|p| p.0.total_cmp(&x)).ok().map(|i| self.by_value[i].1);
        // R's factor() of a double compares as.character(x), which keeps
        // 15 significant digits: round the same way before looking up.
        find(v).or_else(|| format!("{v:.14e}").parse::<f64>().ok().and_then(find))
    }
}

/// Per-row level codes of one categorical variable for one call.
pub enum FactorCodes<'a> {
    /// Input codes translated through a small table (factors, logicals).
    Table { codes: &'a [i32], offset: i32, table: Vec<u32> },
    /// Codes computed row by row (strings, numbers).
    Owned(Vec<u32>),
}

impl<'a> FactorCodes<'a> {
    /// Map `col` to `levels`. `column` names the input in error messages.
    pub fn new(col: &Column<'a>, column: &str, levels: &Levels, unseen: Unseen) -> Result<FactorCodes<'a>> {
        let resolve = |code: Option<u32>, shown: &dyn Fn() -> String| -> Result<u32> {
            match code {
                Some(c) => Ok(c),
                None => match unseen {
                    Unseen::Error => Err(Error::UnseenLevel { column: column.to_string(), level: shown() }),
                    Unseen::Missing => Ok(NA_CODE),
                    Unseen::Last => Ok(levels.len() as u32),
                },
            }
        };
        let missing = match unseen {
            Unseen::Error => UNSEEN_CODE,
            Unseen::Missing => NA_CODE,
            Unseen::Last => levels.len() as u32,
        };
        match col {
            Column::Factor { codes, levels: data_levels } => {
                // Unused data levels are no error (R drops them first), so
                // mark them and fail only if a row uses one.
                let table: Vec<u32> = data_levels.iter().map(|l| levels.code(l).unwrap_or(missing)).collect();
                check_table_codes(codes, -1, &table, data_levels, column)?;
                Ok(FactorCodes::Table { codes, offset: -1, table })
            }
            Column::Logical(x) => {
                let names = ["FALSE", "TRUE"];
                let table: Vec<u32> = names.iter().map(|l| levels.code(l).unwrap_or(missing)).collect();
                check_table_codes(x, 0, &table, &names, column)?;
                Ok(FactorCodes::Table { codes: x, offset: 0, table })
            }
            Column::Str(s) => {
                let mut out = Vec::with_capacity(s.len());
                for v in s {
                    out.push(match v {
                        None => NA_CODE,
                        Some(v) => resolve(levels.code(v), &|| v.to_string())?,
                    });
                }
                Ok(FactorCodes::Owned(out))
            }
            Column::Int(x) => {
                let mut out = Vec::with_capacity(x.len());
                for &v in x.iter() {
                    out.push(if v == NA_INTEGER {
                        NA_CODE
                    } else {
                        resolve(levels.code(&v.to_string()), &|| v.to_string())?
                    });
                }
                Ok(FactorCodes::Owned(out))
            }
            Column::Real(x) => {
                let mut out = Vec::with_capacity(x.len());
                for &v in x.iter() {
                    out.push(if v.is_nan() { NA_CODE } else { resolve(levels.code_of_value(v), &|| format!("{v}"))? });
                }
                Ok(FactorCodes::Owned(out))
            }
        }
    }

    #[inline]
    pub fn get(&self, r: usize) -> u32 {
        match self {
            FactorCodes::Table { codes, offset, table } => {
                let c = codes[r];
                if c == NA_INTEGER {
                    NA_CODE
                } else {
                    table[(c + offset) as usize]
                }
            }
            FactorCodes::Owned(v) => v[r],
        }
    }
}

/// Check that every non-missing code indexes `table`, and that no row
/// uses a level marked unseen.
fn check_table_codes(codes: &[i32], offset: i32, table: &[u32], names: &[&str], column: &str) -> Result<()> {
    let any_unseen = table.contains(&UNSEEN_CODE);
    for &c in codes {
        if c == NA_INTEGER {
            continue;
        }
        let i = c + offset;
        if i < 0 || i as usize >= table.len() {
            return Err(Error::bad_argument(format!(
                "column '{column}' holds the code {c}, outside its {} levels",
                table.len()
            )));
        }
        if any_unseen && table[i as usize] == UNSEEN_CODE {
            return Err(Error::UnseenLevel { column: column.to_string(), level: names[i as usize].to_string() });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
