//! Factor levels: the model's levels indexed by name (and by value, for an
//! inline `factor(x)` of a number), and the per-call mapping of a column's
//! values to the model's level codes.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::frame::{Column, NA_INTEGER};

/// Code of a missing value in a [`FactorCodes`].
pub(crate) const NA_CODE: u32 = u32::MAX;
/// Marks a level the model did not see, while checking whether a row uses
/// it (with [`Unseen::Error`] only; it never reaches a prediction).
const UNSEEN_CODE: u32 = u32::MAX - 1;

/// What to do with a level the model did not see in training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
        let lim = crate::limits::limits().levels;
        crate::limits::check("a factor's levels", names.len() as u64, lim as u64, "levels")?;
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
                // levels in the model's order (the usual case) need no lookup
                let code = |i: usize, l: &str| match levels.names.get(i) {
                    Some(n) if n == l => Some(i as u32),
                    _ => levels.code(l),
                };
                let table: Vec<u32> =
                    data_levels.iter().enumerate().map(|(i, l)| code(i, l).unwrap_or(missing)).collect();
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
            Column::Real(_) | Column::Sparse { .. } => {
                let num = crate::frame::bind::NumView::of(col);
                let mut out = Vec::with_capacity(col.len());
                for r in 0..col.len() {
                    let v = num.get(r);
                    out.push(if v.is_nan() { NA_CODE } else { resolve(levels.code_of_value(v), &|| format!("{v}"))? });
                }
                Ok(FactorCodes::Owned(out))
            }
        }
    }

    /// `f(k, code)` for the `k`-th row of `rows`, in order; the variant is
    /// matched once, not per row.
    #[inline]
    pub fn each(&self, rows: std::ops::Range<usize>, mut f: impl FnMut(usize, u32)) {
        match self {
            FactorCodes::Table { codes, offset, table } => {
                for (k, &c) in codes[rows].iter().enumerate() {
                    f(k, table_code(c, *offset, table));
                }
            }
            FactorCodes::Owned(v) => v[rows].iter().enumerate().for_each(|(k, &c)| f(k, c)),
        }
    }

    #[inline]
    pub fn get(&self, r: usize) -> u32 {
        match self {
            FactorCodes::Table { codes, offset, table } => table_code(codes[r], *offset, table),
            FactorCodes::Owned(v) => v[r],
        }
    }
}

/// The model's level code of input code `c` through `table` (`NA_CODE`
/// for a missing one). The codes were checked against the table when it
/// was made, so no branch to a panic is needed.
#[inline]
pub(crate) fn table_code(c: i32, offset: i32, table: &[u32]) -> u32 {
    if c == NA_INTEGER {
        NA_CODE
    } else {
        table.get(c.wrapping_add(offset) as usize).copied().unwrap_or(NA_CODE)
    }
}

/// Check that every non-missing code indexes `table`, and that no row
/// uses a level marked unseen.
fn check_table_codes(codes: &[i32], offset: i32, table: &[u32], names: &[&str], column: &str) -> Result<()> {
    let any_unseen = table.contains(&UNSEEN_CODE);
    // the common case in one branch-free pass (it vectorises); the loop
    // below finds the row to name
    let len = table.len() as u32;
    let fits = codes.iter().fold(true, |ok, &c| ok & ((c == NA_INTEGER) | ((c.wrapping_add(offset) as u32) < len)));
    if fits && !any_unseen {
        return Ok(());
    }
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
