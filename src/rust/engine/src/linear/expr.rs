//! Numeric expressions from model formulas (`log(x)`, `I(x^2)`,
//! `scale(x, center, scale)`, ...), evaluated with R's own semantics so that
//! special values come out as they do in R.

use crate::error::{Error, Result};
use crate::format::{Expr, Op};
use crate::frame::NA_REAL;

impl Expr {
    /// Turn the document form into the evaluable form, resolving input
    /// names with `resolve`.
    pub(crate) fn compile(&self, resolve: &dyn Fn(&str) -> Result<usize>) -> Result<CExpr> {
        let arity = |n: usize| -> Result<()> {
            if self.args.len() != n {
                return Err(Error::invalid(format!(
                    "expression op '{:?}' takes {n} argument(s), found {}",
                    self.op,
                    self.args.len()
                )));
            }
            Ok(())
        };
        let arg = |i: usize| -> Result<Box<CExpr>> { Ok(Box::new(self.args[i].compile(resolve)?)) };
        // JSON cannot hold NaN or infinity: a document with one could not be
        // saved and read back.
        for (field, v) in [("value", self.value), ("base", self.base), ("center", self.center), ("scale", self.scale)] {
            if v.is_some_and(|v| !v.is_finite()) {
                return Err(Error::invalid(format!("expression field '{field}' is not finite")));
            }
        }
        Ok(match self.op {
            Op::Input => {
                arity(0)?;
                let name = self.name.as_deref().ok_or_else(|| Error::invalid("input expression without 'name'"))?;
                CExpr::Input(resolve(name)?)
            }
            Op::Const => {
                arity(0)?;
                CExpr::Const(self.value.ok_or_else(|| Error::invalid("const expression without 'value'"))?)
            }
            Op::AsNumeric => {
                arity(1)?;
                if self.args[0].op != Op::Input {
                    // as.numeric() of a computed number is the number itself.
                    return self.args[0].compile(resolve);
                }
                CExpr::Input(resolve(self.args[0].name.as_deref().unwrap_or(""))?)
            }
            Op::Log => {
                arity(1)?;
                match self.base {
                    None => CExpr::Unary(Unary::Log, arg(0)?),
                    Some(b) => CExpr::Unary(Unary::LogBase(b), arg(0)?),
                }
            }
            Op::Neg | Op::Log2 | Op::Log10 | Op::Log1p | Op::Exp | Op::Sqrt | Op::Abs | Op::Not => {
                arity(1)?;
                CExpr::Unary(unary_of(self.op), arg(0)?)
            }
            Op::Scale => {
                arity(1)?;
                CExpr::Unary(Unary::Scale { center: self.center, scale: self.scale }, arg(0)?)
            }
            Op::Add
            | Op::Sub
            | Op::Mul
            | Op::Div
            | Op::Pow
            | Op::Gt
            | Op::Ge
            | Op::Lt
            | Op::Le
            | Op::Eq
            | Op::Ne
            | Op::And
            | Op::Or => {
                arity(2)?;
                CExpr::Binary(binary_of(self.op), arg(0)?, arg(1)?)
            }
        })
    }
}

/// The function of a one-argument op (of those `compile` sends here).
fn unary_of(op: Op) -> Unary {
    match op {
        Op::Neg => Unary::Neg,
        Op::Not => Unary::Not,
        Op::Log2 => Unary::Log2,
        Op::Log10 => Unary::Log10,
        Op::Log1p => Unary::Log1p,
        Op::Exp => Unary::Exp,
        Op::Sqrt => Unary::Sqrt,
        _ => Unary::Abs,
    }
}

/// The function of a two-argument op (of those `compile` sends here).
fn binary_of(op: Op) -> Binary {
    match op {
        Op::Add => Binary::Add,
        Op::Sub => Binary::Sub,
        Op::Mul => Binary::Mul,
        Op::Div => Binary::Div,
        Op::Gt => Binary::Gt,
        Op::Ge => Binary::Ge,
        Op::Lt => Binary::Lt,
        Op::Le => Binary::Le,
        Op::Eq => Binary::Eq,
        Op::Ne => Binary::Ne,
        Op::And => Binary::And,
        Op::Or => Binary::Or,
        _ => Binary::Pow,
    }
}

/// Compiled expression: inputs resolved to indices.
#[derive(Debug, Clone, PartialEq)]
pub enum CExpr {
    Input(usize),
    Const(f64),
    Unary(Unary, Box<CExpr>),
    Binary(Binary, Box<CExpr>, Box<CExpr>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unary {
    Neg,
    Log,
    LogBase(f64),
    Log2,
    Log10,
    Log1p,
    Exp,
    Sqrt,
    Abs,
    Scale {
        center: Option<f64>,
        scale: Option<f64>,
    },
    /// R's `!x`: 1 for 0, 0 otherwise, NA for NA or NaN (since 1.6).
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    /// Comparisons (since 1.6): 1 for TRUE, 0 for FALSE, NA when either
    /// side is NA or NaN, as R's `x > y` read as a number.
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
    /// R's `&` and `|` of numbers (non-zero is TRUE), three-valued:
    /// `FALSE & NA` is FALSE and `TRUE | NA` is TRUE (since 1.6).
    And,
    Or,
}

/// Something that yields the numeric value of input `i` at row `r`.
pub trait NumericSource {
    fn value(&self, input: usize, row: usize) -> f64;
}

impl CExpr {
    #[inline]
    pub fn eval<S: NumericSource + ?Sized>(&self, src: &S, row: usize) -> f64 {
        match self {
            CExpr::Input(i) => src.value(*i, row),
            CExpr::Const(v) => *v,
            CExpr::Unary(u, a) => apply_unary(*u, a.eval(src, row)),
            CExpr::Binary(b, x, y) => apply_binary(*b, x.eval(src, row), y.eval(src, row)),
        }
    }

    /// The input index if this is a bare input (lets callers skip evaluation).
    pub fn as_input(&self) -> Option<usize> {
        match self {
            CExpr::Input(i) => Some(*i),
            _ => None,
        }
    }
}

/// R's `log()`: -Inf at 0, NaN below.
#[inline]
fn r_log(x: f64) -> f64 {
    if x > 0.0 {
        x.ln()
    } else if x == 0.0 {
        f64::NEG_INFINITY
    } else {
        f64::NAN
    }
}

#[inline]
pub fn apply_unary(u: Unary, x: f64) -> f64 {
    match u {
        // a logical: NaN is NA too
        Unary::Not if x.is_nan() => NA_REAL,
        Unary::Not => f64::from(u8::from(x == 0.0)),
        // R's math functions hand back a missing input unchanged, which
        // keeps NA as NA rather than turning it into NaN.
        _ if x.is_nan() => x,
        Unary::Neg => -x,
        Unary::Log => r_log(x),
        Unary::LogBase(b) => {
            if b == 10.0 {
                if x > 0.0 {
                    x.log10()
                } else if x < 0.0 {
                    f64::NAN
                } else {
                    f64::NEG_INFINITY
                }
            } else if b == 2.0 {
                if x > 0.0 {
                    x.log2()
                } else if x < 0.0 {
                    f64::NAN
                } else {
                    f64::NEG_INFINITY
                }
            } else {
                r_log(x) / r_log(b)
            }
        }
        Unary::Log2 => x.log2(),
        Unary::Log10 => x.log10(),
        Unary::Log1p => x.ln_1p(),
        Unary::Exp => x.exp(),
        Unary::Sqrt => x.sqrt(),
        Unary::Abs => x.abs(),
        Unary::Scale { center, scale } => {
            let c = match center {
                Some(c) => x - c,
                None => x,
            };
            match scale {
                Some(s) => c / s,
                None => c,
            }
        }
    }
}

#[inline]
pub fn apply_binary(b: Binary, x: f64, y: f64) -> f64 {
    match b {
        Binary::Add => x + y,
        Binary::Sub => x - y,
        Binary::Mul => x * y,
        Binary::Div => x / y,
        Binary::Pow => r_pow(x, y),
        Binary::Gt | Binary::Ge | Binary::Lt | Binary::Le | Binary::Eq | Binary::Ne => {
            if x.is_nan() || y.is_nan() {
                return NA_REAL;
            }
            let t = match b {
                Binary::Gt => x > y,
                Binary::Ge => x >= y,
                Binary::Lt => x < y,
                Binary::Le => x <= y,
                Binary::Eq => x == y,
                _ => x != y,
            };
            f64::from(u8::from(t))
        }
        Binary::And | Binary::Or => {
            // the value that decides whatever the other side is wins
            let decisive = b == Binary::Or;
            let truth = |v: f64| if v.is_nan() { None } else { Some(v != 0.0) };
            let (tx, ty) = (truth(x), truth(y));
            if tx == Some(decisive) || ty == Some(decisive) {
                f64::from(u8::from(decisive))
            } else if tx.is_none() || ty.is_none() {
                NA_REAL
            } else {
                f64::from(u8::from(!decisive))
            }
        }
    }
}

/// R's `x ^ y` (`R_pow` in arithmetic.c), including its special cases.
#[inline]
pub fn r_pow(x: f64, y: f64) -> f64 {
    if y == 2.0 {
        return x * x;
    }
    if x == 1.0 || y == 0.0 {
        return 1.0;
    }
    if x == 0.0 {
        return if y > 0.0 {
            0.0
        } else if y < 0.0 {
            f64::INFINITY
        } else {
            y
        };
    }
    if x.is_finite() && y.is_finite() {
        return x.powf(y);
    }
    if x.is_nan() || y.is_nan() {
        return x + y;
    }
    if !x.is_finite() {
        if x > 0.0 {
            return if y < 0.0 { 0.0 } else { f64::INFINITY };
        } else if y.is_finite() && y == y.floor() {
            return if y < 0.0 {
                0.0
            } else if y % 2.0 != 0.0 {
                x
            } else {
                -x
            };
        }
    }
    if !y.is_finite() && x >= 0.0 {
        return if y > 0.0 {
            if x >= 1.0 {
                f64::INFINITY
            } else {
                0.0
            }
        } else if x < 1.0 {
            f64::INFINITY
        } else {
            0.0
        };
    }
    f64::NAN
}

#[cfg(test)]
mod tests;
