//! Test data on the engine's own owned frame (`FrameBuf`, `ColumnBuf`),
//! with what the references and the failure messages need on top: a cell
//! as a number or a level name, a readable row, tiling and replacing
//! columns.

use fastpredict_engine::{ColumnBuf, FrameBuf, NA_INTEGER, NA_REAL};

/// R's `ISNA()`, written here rather than taken from the engine.
pub fn is_na(v: f64) -> bool {
    v.is_nan() && v.to_bits() & 0xFFFF_FFFF == 1954
}

/// A frame of `columns`, in that order.
pub fn data(columns: Vec<(&str, ColumnBuf)>) -> FrameBuf {
    let mut f = FrameBuf::new();
    for (name, col) in columns {
        f.push(name, col);
    }
    f
}

pub fn str_col(rows: &[Option<&str>]) -> ColumnBuf {
    ColumnBuf::Str(rows.iter().map(|s| s.map(String::from)).collect())
}

/// A factor with its own level order `levels` (every row's value among them).
pub fn factor_col(levels: &[&str], rows: &[Option<&str>]) -> ColumnBuf {
    let levels: Vec<String> = levels.iter().map(|s| s.to_string()).collect();
    let code = |s: &str| levels.iter().position(|l| l == s).expect("a level of the factor") as i32 + 1;
    let codes = rows.iter().map(|r| r.map_or(NA_INTEGER, code)).collect();
    ColumnBuf::Factor { codes, levels }
}

/// Cells as the references read them.
pub trait ColumnExt {
    /// The number a numeric input reads, as R's arithmetic sees it (an
    /// integer or logical NA becomes NA_real_).
    fn number(&self, r: usize) -> f64;
    /// The level name a categorical input reads; `None` is missing.
    fn name(&self, r: usize) -> Option<&str>;
    /// The cell for a failure message (NaN payloads shown).
    fn show(&self, r: usize) -> String;
    /// The rows repeated `times` times.
    fn tiled(&self, times: usize) -> ColumnBuf;
    /// The same values as a factor; a string column's levels are its values
    /// in order of first appearance.
    fn into_factor(self) -> ColumnBuf;
}

impl ColumnExt for ColumnBuf {
    fn number(&self, r: usize) -> f64 {
        match self {
            ColumnBuf::Real(x) => x[r],
            ColumnBuf::Int(x) | ColumnBuf::Logical(x) if x[r] == NA_INTEGER => NA_REAL,
            ColumnBuf::Int(x) | ColumnBuf::Logical(x) => x[r] as f64,
            ColumnBuf::Sparse { rows, values, .. } => rows.binary_search(&(r as i32)).map_or(0.0, |k| values[k]),
            _ => panic!("a number asked of a categorical column"),
        }
    }

    fn name(&self, r: usize) -> Option<&str> {
        match self {
            ColumnBuf::Factor { codes, levels } if codes[r] != NA_INTEGER => Some(&levels[codes[r] as usize - 1]),
            ColumnBuf::Factor { .. } => None,
            ColumnBuf::Str(s) => s[r].as_deref(),
            _ => panic!("a level asked of a numeric column"),
        }
    }

    fn show(&self, r: usize) -> String {
        match self {
            ColumnBuf::Factor { .. } | ColumnBuf::Str(_) => format!("{:?}", self.name(r)),
            _ => {
                let v = self.number(r);
                if is_na(v) {
                    format!("NA({:#x})", v.to_bits())
                } else if v.is_nan() {
                    format!("NaN({:#x})", v.to_bits())
                } else {
                    format!("{v:?}")
                }
            }
        }
    }

    fn tiled(&self, times: usize) -> ColumnBuf {
        match self {
            ColumnBuf::Real(x) => ColumnBuf::Real(x.repeat(times)),
            ColumnBuf::Int(x) => ColumnBuf::Int(x.repeat(times)),
            ColumnBuf::Logical(x) => ColumnBuf::Logical(x.repeat(times)),
            ColumnBuf::Factor { codes, levels } => {
                ColumnBuf::Factor { codes: codes.repeat(times), levels: levels.clone() }
            }
            ColumnBuf::Str(x) => ColumnBuf::Str(x.iter().cycle().take(x.len() * times).cloned().collect()),
            ColumnBuf::Sparse { nrows, rows, values } => ColumnBuf::Sparse {
                nrows: nrows * times,
                rows: (0..times).flat_map(|t| rows.iter().map(move |&r| r + (t * nrows) as i32)).collect(),
                values: values.repeat(times),
            },
        }
    }

    fn into_factor(self) -> ColumnBuf {
        let ColumnBuf::Str(values) = self else { return self };
        let mut levels: Vec<String> = Vec::new();
        let codes = values
            .into_iter()
            .map(|v| match v {
                None => NA_INTEGER,
                Some(s) => match levels.iter().position(|l| *l == s) {
                    Some(i) => i as i32 + 1,
                    None => {
                        levels.push(s);
                        levels.len() as i32
                    }
                },
            })
            .collect();
        ColumnBuf::Factor { codes, levels }
    }
}

/// Columns by name, and frames changed a column at a time. `FrameBuf`
/// only appends, so a change rebuilds the frame (the row count kept).
pub trait FrameExt {
    fn col(&self, name: &str) -> &ColumnBuf;
    /// Replace the column `name`, in place in the column order.
    fn set(&mut self, name: &str, col: ColumnBuf);
    fn remove(&mut self, name: &str);
    /// Every column repeated `times` times.
    fn tiled(&self, times: usize) -> FrameBuf;
    /// Row `r` for a failure message.
    fn show_row(&self, r: usize) -> String;
}

/// `f` maps each (name, column) to its replacement, or `None` to drop it.
fn rebuild(frame: &FrameBuf, nrows: usize, mut f: impl FnMut(&str, &ColumnBuf) -> Option<ColumnBuf>) -> FrameBuf {
    let mut out = FrameBuf::new();
    for (name, col) in frame.names().iter().zip(frame.columns()) {
        if let Some(c) = f(name, col) {
            out.push(name.clone(), c);
        }
    }
    out.set_nrows(nrows);
    out
}

impl FrameExt for FrameBuf {
    fn col(&self, name: &str) -> &ColumnBuf {
        let i = self.names().iter().position(|n| n == name).unwrap_or_else(|| panic!("no column '{name}'"));
        &self.columns()[i]
    }

    fn set(&mut self, name: &str, col: ColumnBuf) {
        // the first column of that name, as `Frame::get` finds it
        let mut col = Some(col);
        *self = rebuild(self, self.nrows(), |n, c| Some(col.take_if(|_| n == name).unwrap_or_else(|| c.clone())));
        assert!(col.is_none(), "no column '{name}'");
    }

    fn remove(&mut self, name: &str) {
        *self = rebuild(self, self.nrows(), |n, c| (n != name).then(|| c.clone()));
    }

    fn tiled(&self, times: usize) -> FrameBuf {
        rebuild(self, self.nrows() * times, |_, c| Some(c.tiled(times)))
    }

    fn show_row(&self, r: usize) -> String {
        let cells: Vec<String> =
            self.names().iter().zip(self.columns()).map(|(n, c)| format!("{n}={}", c.show(r))).collect();
        cells.join(", ")
    }
}
