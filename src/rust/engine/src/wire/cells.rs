//! One column as it is read from JSON, value by value, before it is
//! checked against the model's input type: numbers, logicals or interned
//! strings, with missing values in the frame's conventions.

use std::collections::HashMap;

use crate::error::Error;
use crate::format::{InputSpec, InputType};
use crate::frame::{ColumnBuf, NA_INTEGER, NA_REAL};

/// One JSON value of a column.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scalar<'a> {
    Null,
    Num(f64),
    Bool(bool),
    Str(&'a str),
}

/// jsonlite's spellings of the special doubles (`"NA"` is missing in a
/// column of any type).
fn special(s: &str) -> Option<f64> {
    match s {
        "NA" => Some(NA_REAL),
        "NaN" => Some(f64::NAN),
        "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

const NUM: &str = "a number, as in its earlier rows";

/// The values of one column so far.
#[derive(Debug)]
pub(crate) enum Cells {
    /// Only missing values so far (their count).
    Missing(usize),
    Num(Vec<f64>),
    /// 0, 1 or `NA_INTEGER`.
    Bool(Vec<i32>),
    /// Strings: 1-based codes into `levels`, `NA_INTEGER` for missing.
    Str {
        codes: Vec<i32>,
        levels: Vec<String>,
        index: HashMap<String, i32>,
    },
}

impl Default for Cells {
    fn default() -> Cells {
        Cells::Missing(0)
    }
}

impl Cells {
    pub fn len(&self) -> usize {
        match self {
            Cells::Missing(n) => *n,
            Cells::Num(v) => v.len(),
            Cells::Bool(v) => v.len(),
            Cells::Str { codes, .. } => codes.len(),
        }
    }

    fn push_missing(&mut self) {
        match self {
            Cells::Missing(n) => *n += 1,
            Cells::Num(v) => v.push(NA_REAL),
            Cells::Bool(v) => v.push(NA_INTEGER),
            Cells::Str { codes, .. } => codes.push(NA_INTEGER),
        }
    }

    /// Missing values up to `n` (for records that leave a key out).
    pub fn pad_to(&mut self, n: usize) {
        while self.len() < n {
            self.push_missing();
        }
    }

    /// Add a value. A value of another kind than the earlier ones is
    /// refused with a description of the conflict (for `WrongType`:
    /// what was expected, what was found).
    pub fn push(&mut self, x: Scalar) -> Result<(), (String, String)> {
        if matches!(x, Scalar::Null | Scalar::Str("NA")) {
            self.push_missing();
            return Ok(());
        }
        // strings that were all special doubles, then a number
        if let (Cells::Str { .. }, Scalar::Num(_)) = (&*self, x) {
            if let Some(v) = self.specials() {
                *self = Cells::Num(v);
            }
        }
        if let Cells::Missing(n) = *self {
            *self = match x {
                Scalar::Num(_) | Scalar::Null => Cells::Num(vec![NA_REAL; n]),
                Scalar::Bool(_) => Cells::Bool(vec![NA_INTEGER; n]),
                Scalar::Str(_) => Cells::Str { codes: vec![NA_INTEGER; n], levels: Vec::new(), index: HashMap::new() },
            };
        }
        match (self, x) {
            (Cells::Num(v), Scalar::Num(f)) => v.push(f),
            (Cells::Num(v), Scalar::Str(s)) => match special(s) {
                Some(f) => v.push(f),
                None => return Err((NUM.into(), describe(x))),
            },
            (Cells::Bool(v), Scalar::Bool(b)) => v.push(i32::from(b)),
            (Cells::Str { codes, levels, index }, Scalar::Str(s)) => codes.push(intern(levels, index, s)),
            (cells, x) => return Err((cells.holds(), describe(x))),
        }
        Ok(())
    }

    /// The strings as doubles, if every one is a special double.
    fn specials(&self) -> Option<Vec<f64>> {
        let Cells::Str { codes, levels, .. } = self else { return None };
        let values: Option<Vec<f64>> = levels.iter().map(|l| special(l)).collect();
        let values = values?;
        Some(codes.iter().map(|&c| if c == NA_INTEGER { NA_REAL } else { values[c as usize - 1] }).collect())
    }

    /// What the column holds, for messages.
    fn holds(&self) -> String {
        match self {
            Cells::Missing(_) => "missing values".into(),
            Cells::Num(_) => NUM.into(),
            Cells::Bool(_) => "true or false, as in its earlier rows".into(),
            Cells::Str { .. } => "a string, as in its earlier rows".into(),
        }
    }

    /// What a JSON value of this column looks like, for messages: its
    /// first string that is not a special double, or its kind.
    pub fn found(&self) -> String {
        match self {
            Cells::Missing(_) => "only missing values".into(),
            Cells::Num(_) => "a number".into(),
            Cells::Bool(_) => "true or false".into(),
            Cells::Str { levels, .. } => match levels.iter().find(|l| special(l).is_none()) {
                Some(l) => format!("the string {}", quote(l)),
                None => "a string".into(),
            },
        }
    }

    /// Whether the column holds only numbers, missing values and special
    /// doubles.
    pub fn is_numeric(&self) -> bool {
        matches!(self, Cells::Missing(_) | Cells::Num(_)) || self.specials().is_some()
    }

    pub fn is_logical(&self) -> bool {
        matches!(self, Cells::Missing(_) | Cells::Bool(_))
    }

    pub fn is_text(&self) -> bool {
        matches!(self, Cells::Missing(_) | Cells::Str { .. })
    }

    /// The numbers (missing values included), if the column is numeric.
    pub fn numbers(&self) -> Option<std::borrow::Cow<'_, [f64]>> {
        match self {
            Cells::Num(v) => Some(v.as_slice().into()),
            Cells::Missing(n) => Some(vec![NA_REAL; *n].into()),
            _ => self.specials().map(Into::into),
        }
    }

    /// The column for the input `spec`, or a `WrongType` error naming it.
    pub fn finish(self, spec: &InputSpec) -> Result<ColumnBuf, Error> {
        let wrong = |expected: &str, found: String| Error::WrongType {
            column: spec.name.clone(),
            expected: expected.to_string(),
            found,
        };
        match spec.kind {
            InputType::Numeric => match self.numbers() {
                Some(v) => Ok(ColumnBuf::Real(v.into_owned())),
                None => Err(wrong("numeric (JSON numbers, or \"NA\", \"NaN\", \"Inf\", \"-Inf\")", self.found())),
            },
            InputType::Logical => match self {
                Cells::Bool(v) => Ok(ColumnBuf::Logical(v)),
                Cells::Missing(n) => Ok(ColumnBuf::Logical(vec![NA_INTEGER; n])),
                other => Err(wrong("logical (true, false or \"NA\")", other.found())),
            },
            InputType::Factor | InputType::Ordered | InputType::Character => match self {
                Cells::Str { codes, levels, .. } => Ok(ColumnBuf::Factor { codes, levels }),
                Cells::Missing(n) => Ok(ColumnBuf::Factor { codes: vec![NA_INTEGER; n], levels: Vec::new() }),
                other => Err(wrong("strings (the levels it was trained on)", other.found())),
            },
            // a factor's codes come as numbers: text has no codes the
            // server could know (they depend on the training data)
            InputType::Coded => match self {
                Cells::Bool(v) => Ok(ColumnBuf::Logical(v)),
                other => match other.numbers() {
                    Some(v) => Ok(ColumnBuf::Real(v.into_owned())),
                    None => {
                        Err(wrong("numbers (a factor as its level codes, as data.matrix() gives them)", other.found()))
                    }
                },
            },
            // as the data frame jsonlite would make: numbers, logicals or
            // character strings, which the model converts itself
            InputType::Any => Ok(match self {
                Cells::Missing(n) => ColumnBuf::Real(vec![NA_REAL; n]),
                Cells::Num(v) => ColumnBuf::Real(v),
                Cells::Bool(v) => ColumnBuf::Logical(v),
                Cells::Str { codes, levels, .. } => ColumnBuf::Str(
                    codes.iter().map(|&c| (c != NA_INTEGER).then(|| levels[c as usize - 1].clone())).collect(),
                ),
            }),
        }
    }
}

fn intern(levels: &mut Vec<String>, index: &mut HashMap<String, i32>, s: &str) -> i32 {
    if let Some(&c) = index.get(s) {
        return c;
    }
    levels.push(s.to_string());
    let c = levels.len() as i32;
    index.insert(s.to_string(), c);
    c
}

/// A value for a message (long strings shortened).
pub(crate) fn describe(x: Scalar) -> String {
    match x {
        Scalar::Null => "null".into(),
        Scalar::Num(f) => format!("the number {f}"),
        Scalar::Bool(b) => format!("the value {b}"),
        Scalar::Str(s) => format!("the string {}", quote(s)),
    }
}

pub(crate) fn quote(s: &str) -> String {
    let mut short: String = s.chars().take(40).collect();
    if short.len() < s.len() {
        short.push_str("...");
    }
    serde_json::to_string(&short).unwrap_or_default()
}
