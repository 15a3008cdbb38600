//! The reference: R's `model.matrix()` row by row, times the non-aliased
//! coefficients, with the pointwise arithmetic taken from the engine's
//! `rmath` (so that what is checked is the assembly around it: the folded
//! tables, the codings, the interactions); and the tolerances the engine's
//! results are held to.

use fastpredict_engine::format::{Coding, Expr, LinearSpec, Op, VariableSpec};
use fastpredict_engine::rmath::{apply_binary, apply_unary, r_pow, Binary, Link, Unary};
use fastpredict_engine::{FrameBuf, NA_REAL};

use crate::common::data::{ColumnExt, FrameExt};

/// Evaluate an expression at row `r` with R's semantics (the scalar math
/// comes from the engine's `apply_unary`/`apply_binary`).
fn eval_expr(e: &Expr, data: &FrameBuf, r: usize) -> f64 {
    let arg = |i: usize| eval_expr(&e.args[i], data, r);
    let un = |u: Unary| apply_unary(u, arg(0));
    let bin = |b: Binary| apply_binary(b, arg(0), arg(1));
    match e.op {
        Op::Input => data.col(e.name.as_deref().unwrap()).number(r),
        Op::Const => e.value.unwrap(),
        // as.numeric() of a number is the number
        Op::AsNumeric => arg(0),
        Op::Neg => un(Unary::Neg),
        Op::Log => un(e.base.map_or(Unary::Log, Unary::LogBase)),
        Op::Log2 => un(Unary::Log2),
        Op::Log10 => un(Unary::Log10),
        Op::Log1p => un(Unary::Log1p),
        Op::Exp => un(Unary::Exp),
        Op::Sqrt => un(Unary::Sqrt),
        Op::Abs => un(Unary::Abs),
        Op::Scale => un(Unary::Scale { center: e.center, scale: e.scale }),
        Op::Add => bin(Binary::Add),
        Op::Sub => bin(Binary::Sub),
        Op::Mul => bin(Binary::Mul),
        Op::Div => bin(Binary::Div),
        Op::Pow => bin(Binary::Pow),
        Op::Gt => bin(Binary::Gt),
        Op::Ge => bin(Binary::Ge),
        Op::Lt => bin(Binary::Lt),
        Op::Le => bin(Binary::Le),
        Op::Eq => bin(Binary::Eq),
        Op::Ne => bin(Binary::Ne),
        Op::And => bin(Binary::And),
        Op::Or => bin(Binary::Or),
        Op::Not => un(Unary::Not),
    }
}

/// `predict(poly(x, coefs = list(alpha, norm2)))`, transcribed from R's
/// `stats::poly` (1-based there): Z[,1] = 1, Z[,2] = x - alpha[1],
/// Z[,i+1] = (x - alpha[i]) Z[,i] - norm2[i+1]/norm2[i] Z[,i-1];
/// then Z / sqrt(norm2[-1]) without its first column.
pub fn poly_columns(x: f64, alpha: &[f64], norm2: &[f64]) -> Vec<f64> {
    let d = alpha.len();
    let mut z = vec![1.0; d + 1];
    z[1] = x - alpha[0];
    for i in 2..=d {
        z[i] = (x - alpha[i - 1]) * z[i - 1] - (norm2[i] / norm2[i - 1]) * z[i - 2];
    }
    (1..=d).map(|i| z[i] / norm2[i + 1].sqrt()).collect()
}

/// A model-frame variable at one row.
enum VarValue {
    Numeric(Vec<f64>),
    /// Index into the variable's levels; `None` is NA.
    Level(Option<usize>),
}

fn var_value(v: &VariableSpec, data: &FrameBuf, r: usize) -> VarValue {
    match v {
        VariableSpec::Numeric { expr, .. } => VarValue::Numeric(vec![eval_expr(expr, data, r)]),
        VariableSpec::Poly { arg, alpha, norm2, .. } => {
            VarValue::Numeric(poly_columns(eval_expr(arg, data, r), alpha, norm2))
        }
        VariableSpec::PolyRaw { arg, degree, .. } => {
            let x = eval_expr(arg, data, r);
            VarValue::Numeric((1..=*degree).map(|k| r_pow(x, k as f64)).collect())
        }
        VariableSpec::Factor { input, levels, .. } => VarValue::Level(data.col(input).name(r).map(|name| {
            levels.iter().position(|l| l == name).unwrap_or_else(|| panic!("reference: unseen level '{name}'"))
        })),
        VariableSpec::Spline(_) => unimplemented!("the generator makes no splines"),
        VariableSpec::Cut(_) | VariableSpec::Interaction(_) | VariableSpec::Logical { .. } => {
            unimplemented!("the generator makes no factors made in the formula")
        }
    }
}

/// The design columns one variable contributes to a term: its own columns,
/// or a contrast-matrix row / indicator row for a factor (all NA when the
/// level is missing, as model.matrix gives).
fn part_columns(v: &VariableSpec, value: &VarValue, coding: Option<Coding>) -> Vec<f64> {
    match (v, value, coding) {
        (_, VarValue::Numeric(cols), None) => cols.clone(),
        (VariableSpec::Factor { levels, .. }, VarValue::Level(l), Some(Coding::Indicators)) => match l {
            Some(l) => (0..levels.len()).map(|i| if i == *l { 1.0 } else { 0.0 }).collect(),
            None => vec![NA_REAL; levels.len()],
        },
        (VariableSpec::Factor { contrasts: Some(c), .. }, VarValue::Level(l), Some(Coding::Contrasts)) => match l {
            Some(l) => c[*l].clone(),
            None => vec![NA_REAL; c[0].len()],
        },
        _ => panic!("reference: inconsistent term coding"),
    }
}

#[derive(Debug, Clone, Copy)]
pub struct RefRow {
    pub eta: f64,
    /// Sum of the absolute contributions: the size that rounding in any
    /// summation order is relative to.
    pub scale: f64,
    /// Inverse link of `eta`.
    pub mu: f64,
}

pub fn reference_row(spec: &LinearSpec, data: &FrameBuf, r: usize) -> RefRow {
    let values: Vec<VarValue> = spec.variables.iter().map(|v| var_value(v, data, r)).collect();
    let (mut eta, mut scale) = (0.0, 0.0);
    let mut add = |b: f64, x: f64| {
        eta += b * x;
        scale += (b * x).abs();
    };
    if spec.intercept {
        if let Some(b) = spec.coefficients[0] {
            add(b, 1.0);
        }
    }
    for t in &spec.terms {
        let parts: Vec<Vec<f64>> = t
            .factors
            .iter()
            .map(|tf| part_columns(&spec.variables[tf.variable], &values[tf.variable], tf.coding))
            .collect();
        // Design column k of the term: the first part varies fastest.
        for (k, &j) in t.columns.iter().enumerate() {
            let Some(b) = spec.coefficients[j] else { continue };
            let mut rest = k;
            let mut x = 1.0;
            for p in &parts {
                x *= p[rest % p.len()];
                rest /= p.len();
            }
            add(b, x);
        }
    }
    let mut off = 0.0;
    for e in &spec.offsets {
        off += eval_expr(e, data, r);
    }
    let eta = eta + off;
    RefRow { eta, scale: scale + off.abs(), mu: Link::from_name(&spec.link).unwrap().inverse(eta) }
}

// ---------------------------------------------------------------------------
// Comparisons.

/// Relative tolerance: table folding sums in another order than the design
/// matrix does, so rounding differs by a few ulps of the largest summand.
const TOL: f64 = 1e-9;

pub fn close(got: f64, want: f64, scale: f64) -> bool {
    if got.is_nan() || want.is_nan() {
        return got.is_nan() && want.is_nan();
    }
    if !got.is_finite() || !want.is_finite() {
        return got == want;
    }
    (got - want).abs() <= TOL * 1f64.max(want.abs()).max(scale)
}

/// Whether `got` is the inverse link of some eta within tolerance of the
/// reference eta. Every supported inverse link is monotone on each side of
/// 0, so the image of the eta window is an interval.
pub fn response_ok(link: Link, got: f64, want: &RefRow) -> bool {
    let eta = want.eta;
    if eta.is_nan() {
        return got.is_nan();
    }
    if !eta.is_finite() {
        return got.to_bits() == want.mu.to_bits() || (got.is_nan() && want.mu.is_nan());
    }
    let d = TOL * 1f64.max(eta.abs()).max(want.scale);
    let (lo, hi) = (eta - d, eta + d);
    let f = |v: f64| link.inverse(v);
    let (a, b) = match link {
        // 1/eta jumps at 0; 1/sqrt(eta) is NaN below it
        Link::Inverse if lo <= 0.0 && hi >= 0.0 => return true,
        Link::InverseSquare if hi < 0.0 => return got.is_nan(),
        Link::InverseSquare if lo <= 0.0 => return true,
        Link::Sqrt if lo <= 0.0 && hi >= 0.0 => (0.0, f(lo).max(f(hi))),
        _ => (f(lo).min(f(hi)), f(lo).max(f(hi))),
    };
    // a few ulps of slack for the link function's own rounding
    let widen = |v: f64, s: f64| if v.is_finite() { v + s * (v.abs() * 1e-13 + 1e-300) } else { v };
    got >= widen(a, -1.0) && got <= widen(b, 1.0)
}
