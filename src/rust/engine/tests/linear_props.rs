//! Property tests for linear models.
//!
//! `linear.rs` never builds the design matrix: it folds each term's
//! coefficients into a lookup table and evaluates block by block. Here a
//! naive reference builds R's `model.matrix()` row by row and multiplies by
//! the coefficients, and random models and data check that the two agree.
//! Further properties: thread-count independence, exact JSON and gzip round
//! trips, and the input errors.

// A test may unwrap and panic: that is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// R's numbers and the awkward doubles are written with all 17 digits on purpose.
#![allow(clippy::excessive_precision)]

mod common;
use common::{config, TempDir};
use std::collections::HashSet;
use std::fs;
use std::ops::RangeInclusive;

use proptest::collection::{btree_set, vec};
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::test_runner::TestCaseError;

use fastpredict_engine::format::{
    format_version, Coding, InputSpec, InputType, LinearSpec, ModelDoc, ModelKind, Producer, TermFactor, TermSpec,
    VariableSpec, FORMAT_NAME,
};
use fastpredict_engine::format::{Expr, Op};
use fastpredict_engine::rmath::Link;
use fastpredict_engine::rmath::{apply_binary, apply_unary, r_pow, Binary, Unary};
use fastpredict_engine::{io, Column, Error, Frame, Model, OutBuf, PredictOptions, NA_INTEGER, NA_REAL};

// ---------------------------------------------------------------------------
// Owned test data. `Frame` only borrows, so the data lives here.

/// Input names; odd characters exercise JSON escaping and error messages.
const NUM_NAMES: [&str; 4] = ["x1", "x 2", "x.3", "ẋ4"];
const FAC_NAMES: [&str; 3] = ["f1", "g`2", "h\"3"];

#[derive(Debug, Clone)]
enum ColData {
    Real(Vec<f64>),
    Int(Vec<i32>),
    /// 1-based codes into `levels`, the data's own level order.
    Factor {
        codes: Vec<i32>,
        levels: Vec<String>,
    },
    /// Strings as indices into `names`, so that tiling stays cheap.
    Str {
        values: Vec<Option<u32>>,
        names: Vec<String>,
    },
}

impl ColData {
    fn column(&self) -> Column<'_> {
        match self {
            ColData::Real(x) => Column::Real(x),
            ColData::Int(x) => Column::Int(x),
            ColData::Factor { codes, levels } => {
                Column::Factor { codes, levels: levels.iter().map(String::as_str).collect() }
            }
            ColData::Str { values, names } => {
                Column::Str(values.iter().map(|v| v.map(|i| names[i as usize].as_str())).collect())
            }
        }
    }

    fn tiled(&self, times: usize) -> ColData {
        match self {
            ColData::Real(x) => ColData::Real(x.repeat(times)),
            ColData::Int(x) => ColData::Int(x.repeat(times)),
            ColData::Factor { codes, levels } => ColData::Factor { codes: codes.repeat(times), levels: levels.clone() },
            ColData::Str { values, names } => ColData::Str { values: values.repeat(times), names: names.clone() },
        }
    }

    /// The value as R's arithmetic sees it (integer NA becomes NA_real_).
    fn number(&self, r: usize) -> f64 {
        match self {
            ColData::Real(x) => x[r],
            ColData::Int(x) if x[r] == NA_INTEGER => NA_REAL,
            ColData::Int(x) => x[r] as f64,
            _ => panic!("reference: numeric value asked of a categorical column"),
        }
    }

    /// The level name at row `r`, `None` when missing.
    fn level(&self, r: usize) -> Option<&str> {
        match self {
            ColData::Factor { codes, levels } if codes[r] != NA_INTEGER => Some(&levels[codes[r] as usize - 1]),
            ColData::Str { values, names } => values[r].map(|i| names[i as usize].as_str()),
            ColData::Factor { .. } => None,
            _ => panic!("reference: level asked of a numeric column"),
        }
    }

    /// The same values as a factor column (a string column keeps its names
    /// as levels).
    fn into_factor(self) -> ColData {
        match self {
            ColData::Str { values, names } => ColData::Factor {
                codes: values.iter().map(|v| v.map_or(NA_INTEGER, |i| i as i32 + 1)).collect(),
                levels: names,
            },
            other => other,
        }
    }
}

#[derive(Debug, Clone)]
struct Data {
    nrows: usize,
    /// (name, column) in frame order; may hold a column the model ignores.
    columns: Vec<(String, ColData)>,
}

impl Data {
    fn frame(&self) -> Frame<'_> {
        let mut f = Frame::with_capacity(self.columns.len());
        for (name, col) in &self.columns {
            f.push(name, col.column());
        }
        f
    }

    fn get(&self, name: &str) -> &ColData {
        &self.columns.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no column '{name}'")).1
    }

    fn get_mut(&mut self, name: &str) -> &mut ColData {
        &mut self.columns.iter_mut().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no column '{name}'")).1
    }

    fn remove(&mut self, name: &str) {
        self.columns.retain(|(n, _)| n != name);
    }

    fn tiled(&self, times: usize) -> Data {
        Data {
            nrows: self.nrows * times,
            columns: self.columns.iter().map(|(n, c)| (n.clone(), c.tiled(times))).collect(),
        }
    }
}

#[derive(Debug, Clone)]
struct Case {
    doc: ModelDoc,
    data: Data,
}

impl Case {
    fn spec(&self) -> &LinearSpec {
        self.doc.linear.as_ref().unwrap()
    }
}

fn new_doc(inputs: Vec<InputSpec>, spec: LinearSpec) -> ModelDoc {
    ModelDoc {
        format: FORMAT_NAME.to_string(),
        format_version: format_version(),
        producer: Producer { name: "fastpredict".into(), version: "0.0.0-test".into(), ..Default::default() },
        kind: ModelKind::Linear,
        inputs,
        linear: Some(spec),
        trees: None,
        boosted: None,
        extensions: Default::default(),
    }
}

// ---------------------------------------------------------------------------
// The reference: R's model.matrix() row times the non-aliased coefficients.

/// Evaluate an expression at row `r` with R's semantics (the scalar math
/// comes from the engine's `apply_unary`/`apply_binary`).
fn eval_expr(e: &Expr, data: &Data, r: usize) -> f64 {
    let arg = |i: usize| eval_expr(&e.args[i], data, r);
    let un = |u: Unary| apply_unary(u, arg(0));
    let bin = |b: Binary| apply_binary(b, arg(0), arg(1));
    match e.op {
        Op::Input => data.get(e.name.as_deref().unwrap()).number(r),
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
    }
}

/// `predict(poly(x, coefs = list(alpha, norm2)))`, transcribed from R's
/// `stats::poly` (1-based there): Z[,1] = 1, Z[,2] = x - alpha[1],
/// Z[,i+1] = (x - alpha[i]) Z[,i] - norm2[i+1]/norm2[i] Z[,i-1];
/// then Z / sqrt(norm2[-1]) without its first column.
fn poly_columns(x: f64, alpha: &[f64], norm2: &[f64]) -> Vec<f64> {
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

fn var_value(v: &VariableSpec, data: &Data, r: usize) -> VarValue {
    match v {
        VariableSpec::Numeric { expr, .. } => VarValue::Numeric(vec![eval_expr(expr, data, r)]),
        VariableSpec::Poly { arg, alpha, norm2, .. } => {
            VarValue::Numeric(poly_columns(eval_expr(arg, data, r), alpha, norm2))
        }
        VariableSpec::PolyRaw { arg, degree, .. } => {
            let x = eval_expr(arg, data, r);
            VarValue::Numeric((1..=*degree).map(|k| r_pow(x, k as f64)).collect())
        }
        VariableSpec::Factor { input, levels, .. } => VarValue::Level(data.get(input).level(r).map(|name| {
            levels.iter().position(|l| l == name).unwrap_or_else(|| panic!("reference: unseen level '{name}'"))
        })),
        VariableSpec::Spline(_) => unimplemented!("the generator makes no splines"),
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
struct RefRow {
    eta: f64,
    /// Sum of the absolute contributions: the size that rounding in any
    /// summation order is relative to.
    scale: f64,
    /// Inverse link of `eta`.
    mu: f64,
}

fn reference_row(spec: &LinearSpec, data: &Data, r: usize) -> RefRow {
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

fn close(got: f64, want: f64, scale: f64) -> bool {
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
fn response_ok(link: Link, got: f64, want: &RefRow) -> bool {
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

fn predict(model: &Model, data: &Data, type_: Option<&str>, threads: usize) -> fastpredict_engine::Result<Vec<f64>> {
    let frame = data.frame();
    let job = model.prepare(&frame, &PredictOptions { type_: type_.map(str::to_string), ..Default::default() })?;
    let mut out = vec![0.0; job.nrows()];
    job.run(vec![OutBuf::Real(&mut out)], threads)?;
    Ok(out)
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Link and response predictions, as bits, for exact comparisons.
fn prediction_bits(model: &Model, data: &Data) -> Vec<u64> {
    let mut out = bits(&predict(model, data, Some("link"), 1).unwrap());
    out.extend(bits(&predict(model, data, Some("response"), 1).unwrap()));
    out
}

fn load(doc: &ModelDoc) -> Result<Model, TestCaseError> {
    Model::from_doc(doc.clone()).map_err(|e| TestCaseError::fail(format!("the engine refused a valid model: {e}")))
}

/// Engine against reference for every row, on both scales.
fn check_against_reference(model: &Model, case: &Case) -> Result<(), TestCaseError> {
    let spec = case.spec();
    let link = Link::from_name(&spec.link).unwrap();
    let eta = predict(model, &case.data, Some("link"), 1).unwrap();
    let mu = predict(model, &case.data, Some("response"), 1).unwrap();
    prop_assert_eq!(eta.len(), case.data.nrows);
    prop_assert_eq!(mu.len(), case.data.nrows);
    for r in 0..case.data.nrows {
        let want = reference_row(spec, &case.data, r);
        prop_assert!(
            close(eta[r], want.eta, want.scale),
            "row {}: link {:e}, reference {:e} (scale {:e})",
            r,
            eta[r],
            want.eta,
            want.scale
        );
        prop_assert!(
            response_ok(link, mu[r], &want),
            "row {}: response {:e}, reference {:e} (eta {:e}, link {})",
            r,
            mu[r],
            want.mu,
            want.eta,
            spec.link
        );
    }
    let default = predict(model, &case.data, None, 1).unwrap();
    let named = if spec.default_type == "link" { &eta } else { &mu };
    prop_assert_eq!(bits(&default), bits(named), "default type differs from '{}'", spec.default_type);
    Ok(())
}

// ---------------------------------------------------------------------------
// Generators.

fn signed(lo: f64, hi: f64) -> impl Strategy<Value = f64> + Clone {
    (lo..hi, any::<bool>()).prop_map(|(v, neg)| if neg { -v } else { v })
}

/// Mostly positive, so that log() and sqrt() of data are mostly not NaN.
fn mostly_positive(lo: f64, hi: f64) -> impl Strategy<Value = f64> + Clone {
    (lo..hi, prop::bool::weighted(0.25)).prop_map(|(v, neg)| if neg { -v } else { v })
}

// Expressions are built in two levels so that every value stays finite (or
// NaN): data are never 0 and |x| <= 30, logarithms and exp apply only to
// inputs and nonzero constants, division only by constants. Infinities
// would make the sums order-dependent; they have their own tests below.

fn arb_leaf(n_num: usize) -> BoxedStrategy<Expr> {
    prop_oneof![
        3 => (0..n_num).prop_map(|i| Expr::input(NUM_NAMES[i])),
        1 => mostly_positive(0.5, 3.0).prop_map(Expr::constant),
    ]
    .boxed()
}

#[derive(Debug, Clone, Copy)]
enum Fun {
    Log,
    LogBase(f64),
    Log2,
    Log10,
    Log1pAbs,
    Sqrt,
    Abs,
    Neg,
    Exp,
}

fn apply_fun(f: Fun, a: Expr) -> Expr {
    let call = |op: Op, a: Expr| Expr::call(op, vec![a]);
    match f {
        Fun::Log => call(Op::Log, a),
        Fun::LogBase(b) => Expr { base: Some(b), ..call(Op::Log, a) },
        Fun::Log2 => call(Op::Log2, a),
        Fun::Log10 => call(Op::Log10, a),
        Fun::Log1pAbs => call(Op::Log1p, call(Op::Abs, a)),
        Fun::Sqrt => call(Op::Sqrt, a),
        Fun::Abs => call(Op::Abs, a),
        Fun::Neg => call(Op::Neg, a),
        Fun::Exp => call(Op::Exp, a),
    }
}

const FUNS: [Fun; 12] = [
    Fun::Log,
    Fun::LogBase(2.0),
    Fun::LogBase(10.0),
    Fun::LogBase(3.0),
    Fun::LogBase(0.5),
    Fun::Log2,
    Fun::Log10,
    Fun::Log1pAbs,
    Fun::Sqrt,
    Fun::Abs,
    Fun::Neg,
    Fun::Exp,
];

fn arb_level1(n_num: usize) -> BoxedStrategy<Expr> {
    let leaf = arb_leaf(n_num);
    prop_oneof![
        3 => leaf.clone(),
        3 => (select(FUNS.to_vec()), leaf.clone()).prop_map(|(f, a)| apply_fun(f, a)),
        2 => (select(vec![Op::Add, Op::Sub, Op::Mul]), leaf.clone(), leaf.clone())
            .prop_map(|(op, a, b)| Expr::call(op, vec![a, b])),
        1 => (leaf.clone(), signed(0.5, 4.0)).prop_map(|(a, c)| Expr::call(Op::Div, vec![a, Expr::constant(c)])),
        1 => (leaf, select(vec![2.0, 3.0, 0.5])).prop_map(|(a, p)| Expr::call(Op::Pow, vec![a, Expr::constant(p)])),
        1 => (0..n_num).prop_map(|i| Expr::call(Op::AsNumeric, vec![Expr::input(NUM_NAMES[i])])),
    ]
    .boxed()
}

fn arb_expr(n_num: usize) -> BoxedStrategy<Expr> {
    let l1 = arb_level1(n_num);
    prop_oneof![
        4 => l1.clone(),
        1 => (select(vec![Op::Add, Op::Sub, Op::Mul]), l1.clone(), l1.clone())
            .prop_map(|(op, a, b)| Expr::call(op, vec![a, b])),
        1 => (l1, prop::option::of(-5.0..5.0), prop::option::of(signed(0.1, 5.0))).prop_map(|(a, center, scale)| {
            Expr { center, scale, ..Expr::call(Op::Scale, vec![a]) }
        }),
    ]
    .boxed()
}

fn arb_numeric_var(n_num: usize) -> BoxedStrategy<VariableSpec> {
    let e = arb_expr(n_num);
    prop_oneof![
        3 => e.clone().prop_map(|expr| VariableSpec::Numeric { label: String::new(), expr }),
        1 => (e.clone(), 1usize..=3)
            .prop_flat_map(|(arg, d)| (Just(arg), vec(-5.0..5.0, d), vec(0.1..1000.0, d + 2)))
            .prop_map(|(arg, alpha, norm2)| VariableSpec::Poly { label: String::new(), arg, alpha, norm2 }),
        1 => (e, 1u32..=3).prop_map(|(arg, degree)| VariableSpec::PolyRaw { label: String::new(), arg, degree }),
    ]
    .boxed()
}

fn arb_factor_var(input: &'static str, levels: Vec<String>) -> BoxedStrategy<VariableSpec> {
    let nl = levels.len();
    let entry = prop_oneof![2 => Just(0.0), 1 => Just(1.0), 1 => Just(-1.0), 2 => -2.0..2.0];
    let contrasts = (1..nl).prop_flat_map(move |k| vec(vec(entry.clone(), k), nl));
    prop::option::weighted(0.8, contrasts)
        .prop_map(move |contrasts| VariableSpec::Factor {
            label: input.to_string(),
            input: input.to_string(),
            levels: levels.clone(),
            contrasts,
        })
        .boxed()
}

/// Numeric variables (1-4) and one factor variable per factor input, in
/// random model-frame order.
fn arb_variables(n_num: usize, flevels: &[Vec<String>]) -> BoxedStrategy<Vec<VariableSpec>> {
    let factors: Vec<_> = flevels.iter().enumerate().map(|(i, l)| arb_factor_var(FAC_NAMES[i], l.clone())).collect();
    (vec(arb_numeric_var(n_num), 1..=4), factors)
        .prop_flat_map(|(mut vars, factors)| {
            vars.extend(factors);
            Just(vars).prop_shuffle()
        })
        .prop_map(|mut vars| {
            for (i, v) in vars.iter_mut().enumerate() {
                match v {
                    VariableSpec::Numeric { label, .. }
                    | VariableSpec::Poly { label, .. }
                    | VariableSpec::PolyRaw { label, .. } => *label = format!("v{i}"),
                    _ => {}
                }
            }
            vars
        })
        .boxed()
}

/// A raw term: variable picks (1-3) and, per position, whether a factor
/// there is coded by contrasts (when it has a contrast matrix).
type RawTerm = (Vec<Index>, Vec<bool>);

fn arb_raw_terms() -> impl Strategy<Value = Vec<RawTerm>> {
    vec((vec(any::<Index>(), 1..=3), vec(any::<bool>(), 3)), 0..=7)
}

/// Number of design columns a variable spans in a term.
fn part_width(v: &VariableSpec, coding: Option<Coding>) -> usize {
    match (v, coding) {
        (VariableSpec::Numeric { .. }, None) => 1,
        (VariableSpec::Poly { alpha, .. }, None) => alpha.len(),
        (VariableSpec::PolyRaw { degree, .. }, None) => *degree as usize,
        (VariableSpec::Factor { levels, .. }, Some(Coding::Indicators)) => levels.len(),
        (VariableSpec::Factor { contrasts: Some(c), .. }, Some(Coding::Contrasts)) => c[0].len(),
        _ => unreachable!(),
    }
}

/// Turn raw terms into `TermSpec`s with consecutive design columns from
/// `first_col`; duplicate variable sets are dropped, as R has none.
fn build_terms(vars: &[VariableSpec], raw: &[RawTerm], first_col: usize) -> Vec<TermSpec> {
    let mut seen = HashSet::new();
    let mut next = first_col;
    let mut terms = Vec::new();
    for (picks, contrast) in raw {
        let mut vs: Vec<usize> = picks.iter().map(|i| i.index(vars.len())).collect();
        vs.sort_unstable();
        vs.dedup();
        if !seen.insert(vs.clone()) {
            continue;
        }
        let factors: Vec<TermFactor> = vs
            .iter()
            .zip(contrast)
            .map(|(&v, &want)| TermFactor {
                variable: v,
                coding: match &vars[v] {
                    VariableSpec::Factor { contrasts: Some(_), .. } if want => Some(Coding::Contrasts),
                    VariableSpec::Factor { .. } => Some(Coding::Indicators),
                    _ => None,
                },
            })
            .collect();
        let ncols: usize = factors.iter().map(|tf| part_width(&vars[tf.variable], tf.coding)).product();
        let label = vs.iter().map(|&v| vars[v].label()).collect::<Vec<_>>().join(":");
        terms.push(TermSpec { label, factors, columns: (next..next + ncols).collect() });
        next += ncols;
    }
    terms
}

/// Random level names, odd characters included.
fn arb_levels() -> impl Strategy<Value = Vec<String>> {
    btree_set("[a-zA-Z0-9 _.\"\\\\é€😀-]{1,5}", 2..=6).prop_map(|s| s.into_iter().collect::<Vec<_>>()).prop_shuffle()
}

/// Never exactly 0 (see the expression generators).
fn real_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        36 => mostly_positive(1e-3, 10.0),
        1 => Just(NA_REAL),
        1 => Just(f64::NAN),
        1 => select(vec![1e-300, -5e-324, 1e-8, 0.1 + 0.2, 30.0, -30.0, 1.0, -1.0]),
    ]
}

fn int_value() -> impl Strategy<Value = i32> {
    let value = (1..=30i32, prop::bool::weighted(0.25)).prop_map(|(v, neg)| if neg { -v } else { v });
    prop_oneof![19 => value, 1 => Just(NA_INTEGER)]
}

fn arb_numeric_column(n: usize) -> BoxedStrategy<ColData> {
    prop_oneof![3 => vec(real_value(), n).prop_map(ColData::Real), 1 => vec(int_value(), n).prop_map(ColData::Int)]
        .boxed()
}

/// A factor input's data: a factor with its own (shuffled) level order and
/// up to two unused extra levels, or a character vector; ~5% missing.
fn arb_factor_column(levels: Vec<String>, n: usize) -> BoxedStrategy<ColData> {
    let nl = levels.len();
    (any::<bool>(), 0usize..=2, vec(prop::option::weighted(0.95, 0..nl), n))
        .prop_flat_map(move |(as_str, extra, rows)| {
            let mut data_levels = levels.clone();
            data_levels.extend((0..extra).map(|k| format!("unused level {k}")));
            (Just(as_str), Just(levels.clone()), Just(data_levels).prop_shuffle(), Just(rows))
        })
        .prop_map(|(as_str, levels, data_levels, rows)| {
            let pos = |i: usize| data_levels.iter().position(|l| *l == levels[i]).unwrap() as u32;
            let values: Vec<Option<u32>> = rows.iter().map(|r| r.map(pos)).collect();
            let col = ColData::Str { values, names: data_levels };
            if as_str {
                col
            } else {
                col.into_factor()
            }
        })
        .boxed()
}

/// `rows` rows, every input plus maybe an unused column, in random order.
fn arb_data(n_num: usize, flevels: Vec<Vec<String>>, rows: RangeInclusive<usize>) -> BoxedStrategy<Data> {
    rows.prop_flat_map(move |n| {
        let nums: Vec<_> = (0..n_num).map(|_| arb_numeric_column(n)).collect();
        let facs: Vec<_> = flevels.iter().map(|l| arb_factor_column(l.clone(), n)).collect();
        (Just(n), nums, facs, prop::option::of(arb_numeric_column(n)))
    })
    .prop_flat_map(|(n, nums, facs, extra)| {
        let mut cols: Vec<(String, ColData)> =
            nums.into_iter().enumerate().map(|(i, c)| (NUM_NAMES[i].into(), c)).collect();
        cols.extend(facs.into_iter().enumerate().map(|(i, c)| (FAC_NAMES[i].into(), c)));
        cols.extend(extra.map(|c| ("not used".to_string(), c)));
        (Just(n), Just(cols).prop_shuffle())
    })
    .prop_map(|(nrows, columns)| Data { nrows, columns })
    .boxed()
}

const LINKS: [(&str, &str); 9] = [
    ("identity", "gaussian"),
    ("logit", "binomial"),
    ("probit", "binomial"),
    ("cauchit", "binomial"),
    ("cloglog", "binomial"),
    ("log", "poisson"),
    ("sqrt", "poisson"),
    ("inverse", "Gamma"),
    ("1/mu^2", "inverse.gaussian"),
];

fn arb_coef() -> impl Strategy<Value = Option<f64>> {
    prop::option::weighted(0.85, prop_oneof![8 => -5.0..5.0, 1 => Just(0.0), 1 => Just(1.0)])
}

/// A random valid linear model and 0-600 rows of data for it (BLOCK is 512).
fn arb_case() -> impl Strategy<Value = Case> {
    arb_case_with(0..=3, 0..=600)
}

/// As `arb_case`, with a given range of factor inputs and of rows.
fn arb_case_with(factors: RangeInclusive<usize>, rows: RangeInclusive<usize>) -> impl Strategy<Value = Case> {
    (1usize..=4, vec(arb_levels(), factors))
        .prop_flat_map(|(n_num, flevels)| {
            let vars = arb_variables(n_num, &flevels);
            (Just(n_num), Just(flevels), vars, arb_raw_terms(), any::<bool>())
        })
        .prop_flat_map(move |(n_num, flevels, vars, raw, intercept)| {
            let terms = build_terms(&vars, &raw, intercept as usize);
            let ncoef = intercept as usize + terms.iter().map(|t| t.columns.len()).sum::<usize>();
            (
                Just((n_num, flevels.clone(), vars, terms, intercept)),
                vec(arb_coef(), ncoef),
                vec(arb_expr(n_num), 0..=2),
                select(LINKS.to_vec()),
                any::<bool>(),
                arb_data(n_num, flevels, rows.clone()),
            )
        })
        .prop_map(|((n_num, flevels, variables, terms, intercept), coefficients, offsets, link, link_default, data)| {
            let mut inputs: Vec<InputSpec> = (0..n_num)
                .map(|i| InputSpec { name: NUM_NAMES[i].into(), kind: InputType::Numeric, levels: None })
                .collect();
            // the three categorical input types behave alike
            let kinds = [InputType::Factor, InputType::Character, InputType::Ordered];
            inputs.extend(flevels.iter().enumerate().map(|(i, l)| InputSpec {
                name: FAC_NAMES[i].into(),
                kind: kinds[i],
                levels: Some(l.clone()),
            }));
            let coefficient_names = (0..coefficients.len())
                .map(|j| if intercept && j == 0 { "(Intercept)".to_string() } else { format!("b{j}") })
                .collect();
            let spec = LinearSpec {
                family: link.1.into(),
                link: link.0.into(),
                types: vec!["link".into(), "response".into()],
                default_type: if link_default { "link" } else { "response" }.into(),
                intercept,
                coefficients,
                coefficient_names,
                variables,
                terms,
                offsets,
            };
            Case { doc: new_doc(inputs, spec), data }
        })
}

/// Doubles whose text form is easy to get wrong.
const AWKWARD: [f64; 24] = [
    5e-324,
    -5e-324,
    1e-310,
    2.225073858507201e-308,
    f64::MIN_POSITIVE,
    0.1 + 0.2,
    1e308,
    -1e308,
    f64::MAX,
    f64::MIN,
    -0.0,
    0.0,
    0.12345678901234568,
    1.0000000000000002,
    0.9999999999999999,
    123456789.12345679,
    9007199254740993.0,
    1e21,
    1e23,
    1e-7,
    5e-5,
    f64::EPSILON,
    1.0 / 3.0,
    -2.0 / 3.0,
];

/// Where a double sits in a document: anywhere, or where it must be > 0.
#[derive(Clone, Copy, PartialEq)]
enum Slot {
    Any,
    Positive,
}

fn visit_expr_floats(e: &mut Expr, f: &mut dyn FnMut(Slot, &mut f64)) {
    e.value.iter_mut().for_each(|v| f(Slot::Any, v));
    e.base.iter_mut().for_each(|v| f(Slot::Positive, v));
    e.center.iter_mut().for_each(|v| f(Slot::Any, v));
    e.scale.iter_mut().for_each(|v| f(Slot::Any, v));
    e.args.iter_mut().for_each(|a| visit_expr_floats(a, f));
}

/// Visit every double of a linear document, in a fixed order.
fn visit_floats(doc: &mut ModelDoc, f: &mut dyn FnMut(Slot, &mut f64)) {
    let lin = doc.linear.as_mut().unwrap();
    lin.coefficients.iter_mut().flatten().for_each(|c| f(Slot::Any, c));
    for v in &mut lin.variables {
        match v {
            VariableSpec::Numeric { expr, .. } => visit_expr_floats(expr, f),
            VariableSpec::Poly { arg, alpha, norm2, .. } => {
                visit_expr_floats(arg, f);
                alpha.iter_mut().for_each(|a| f(Slot::Any, a));
                norm2.iter_mut().for_each(|a| f(Slot::Positive, a));
            }
            VariableSpec::PolyRaw { arg, .. } => visit_expr_floats(arg, f),
            VariableSpec::Factor { contrasts, .. } => {
                contrasts.iter_mut().flatten().flatten().for_each(|c| f(Slot::Any, c))
            }
            VariableSpec::Spline(_) => {}
        }
    }
    lin.offsets.iter_mut().for_each(|e| visit_expr_floats(e, f));
}

fn float_bits(doc: &ModelDoc) -> Vec<u64> {
    let mut out = Vec::new();
    visit_floats(&mut doc.clone(), &mut |_, v| out.push(v.to_bits()));
    out
}

// ---------------------------------------------------------------------------
// Properties.

proptest! {
    #![proptest_config(config(128))]

    /// (a) The folded engine agrees with the design-matrix reference.
    #[test]
    fn engine_matches_reference(case in arb_case()) {
        let model = load(&case.doc)?;
        check_against_reference(&model, &case)?;
    }

    /// (e) An unseen level fails only when a row uses it, and the error
    /// names the column and the level.
    #[test]
    fn unseen_levels(case in arb_case_with(1..=3, 1..=600), which in any::<Index>(), row in any::<Index>(),
                     level in "[a-z\"\\\\😀 ]{1,6}") {
        let model = load(&case.doc)?;
        let categorical: Vec<&InputSpec> = case.doc.inputs.iter().filter(|i| i.kind.is_categorical()).collect();
        let input = categorical[which.index(categorical.len())];
        // at least 6 characters, model levels have at most 5: never a known level
        let level = format!("{level} (new)");
        let baseline = prediction_bits(&model, &case.data);

        // unused: fine, and changes nothing
        let mut data = case.data.clone();
        let col = std::mem::replace(data.get_mut(&input.name), ColData::Real(vec![]));
        let ColData::Factor { mut codes, mut levels } = col.into_factor() else { unreachable!() };
        let at = row.index(levels.len() + 1);
        levels.insert(at, level.clone());
        // codes past the insertion point move up by one
        codes.iter_mut().filter(|c| **c != NA_INTEGER && **c > at as i32).for_each(|c| *c += 1);
        *data.get_mut(&input.name) = ColData::Factor { codes: codes.clone(), levels: levels.clone() };
        prop_assert_eq!(prediction_bits(&model, &data), baseline);

        // used by one row, as a factor and as a string
        let r = row.index(case.data.nrows);
        let mut used = codes;
        used[r] = at as i32 + 1;
        let as_factor = ColData::Factor { codes: used.clone(), levels: levels.clone() };
        let as_str = ColData::Str {
            values: used.iter().map(|&c| if c == NA_INTEGER { None } else { Some(c as u32 - 1) }).collect(),
            names: levels,
        };
        for col in [as_factor, as_str] {
            *data.get_mut(&input.name) = col;
            let want = Error::UnseenLevel { column: input.name.clone(), level: level.clone() };
            prop_assert_eq!(predict(&model, &data, None, 1).map(|_| ()), Err(want));
        }
    }

    /// (f) A missing column and a column of the wrong kind are refused,
    /// naming the column.
    #[test]
    fn input_errors(case in arb_case(), which in any::<Index>()) {
        let model = load(&case.doc)?;
        let inputs = &case.doc.inputs;
        let input = &inputs[which.index(inputs.len())];
        let mut data = case.data.clone();
        data.remove(&input.name);
        prop_assert_eq!(predict(&model, &data, None, 1).map(|_| ()),
                        Err(Error::MissingColumn { column: input.name.clone() }));

        let n = case.data.nrows;
        let (wrong, found) = if input.kind == InputType::Numeric {
            (ColData::Factor { codes: vec![1; n], levels: vec!["a".into()] }, "a factor")
        } else {
            (ColData::Real(vec![1.0; n]), "a double vector")
        };
        let mut data = case.data.clone();
        *data.get_mut(&input.name) = wrong;
        match predict(&model, &data, None, 1) {
            Err(Error::WrongType { column, found: f, .. }) => {
                prop_assert_eq!(column, input.name.clone());
                prop_assert_eq!(f, found);
            }
            other => prop_assert!(false, "expected a wrong-type error, got {:?}", other.map(|_| ())),
        }
    }
}

proptest! {
    #![proptest_config(config(64))]

    /// (c, d) JSON text and gzip files give back the same document, double
    /// for double, and the same predictions, bit for bit, also with
    /// awkward doubles planted in it.
    #[test]
    fn json_and_gzip_round_trip(case in arb_case(),
                                plant in vec((any::<Index>(), any::<Index>()), 0..=12),
                                pretty in any::<bool>()) {
        let mut doc = case.doc.clone();
        let mut n = 0;
        visit_floats(&mut doc, &mut |_, _| n += 1);
        if n > 0 {
            let targets: Vec<(usize, f64)> =
                plant.iter().map(|(s, a)| (s.index(n), AWKWARD[a.index(AWKWARD.len())])).collect();
            let mut k = 0;
            visit_floats(&mut doc, &mut |slot, v| {
                for &(t, a) in &targets {
                    if t == k && (slot == Slot::Any || a > 0.0) {
                        *v = a;
                    }
                }
                k += 1;
            });
        }
        let model = load(&doc)?;
        let want = prediction_bits(&model, &case.data);
        let want_floats = float_bits(&doc);

        let json = io::to_json(&doc, pretty).unwrap();
        let back = io::from_bytes(json.as_bytes()).unwrap();
        prop_assert_eq!(&back, &doc);
        // PartialEq takes -0.0 for 0.0: compare the bits too
        prop_assert_eq!(float_bits(&back), want_floats.clone());
        prop_assert_eq!(io::to_json(&back, pretty).unwrap(), json.clone());
        prop_assert_eq!(prediction_bits(&load(&back)?, &case.data), want.clone());
        prop_assert_eq!(prediction_bits(&Model::from_json(json.as_bytes()).unwrap(), &case.data), want.clone());

        let dir = TempDir::new("linear-props");
        for gzip in [true, false] {
            let path = dir.path().join(if gzip { "model.json.gz" } else { "model.json" });
            io::write_file(&doc, &path, gzip).unwrap();
            let raw = fs::read(&path).unwrap();
            prop_assert_eq!(raw.starts_with(&[0x1f, 0x8b]), gzip);
            let back = io::read_file(&path).unwrap();
            prop_assert_eq!(&back, &doc);
            prop_assert_eq!(float_bits(&back), want_floats.clone());
            prop_assert_eq!(prediction_bits(&Model::load(&path).unwrap(), &case.data), want.clone());
        }
    }
}

/// Tile `data` until the job counts as large (so several parallel chunks
/// run), then check threads 1, 2 and 3 agree bit for bit, and that every
/// row equals the untiled prediction of its source row.
fn check_threads(model: &Model, data: &Data) -> Result<(), TestCaseError> {
    let small = bits(&predict(model, data, None, 1).unwrap());
    let n = data.nrows;
    // 2^20 is the engine's "large" work threshold; start near it
    let mut times = ((1usize << 20) / n).max(1);
    loop {
        let big = data.tiled(times);
        let frame = big.frame();
        let job = model.prepare(&frame, &PredictOptions::default()).unwrap();
        if !job.is_large() {
            times *= 2;
            continue;
        }
        let mut first: Option<Vec<u64>> = None;
        for threads in [1, 2, 3] {
            let mut out = vec![0.0; job.nrows()];
            job.run(vec![OutBuf::Real(&mut out)], threads).unwrap();
            let out = bits(&out);
            match &first {
                None => {
                    for (i, b) in out.iter().enumerate() {
                        prop_assert_eq!(*b, small[i % n], "row {} differs from source row {}", i, i % n);
                    }
                    first = Some(out);
                }
                Some(f) => prop_assert!(*f == out, "{} threads differ from 1 thread", threads),
            }
        }
        return Ok(());
    }
}

proptest! {
    #![proptest_config(config(12))]

    /// (b) The thread count does not change a single bit.
    #[test]
    fn threads_do_not_change_results(case in arb_case_with(0..=3, 1..=600)) {
        let model = load(&case.doc)?;
        check_threads(&model, &case.data)?;
    }
}

// ---------------------------------------------------------------------------
// Targeted cases that random generation rarely hits.

fn num_input(name: &str) -> InputSpec {
    InputSpec { name: name.into(), kind: InputType::Numeric, levels: None }
}

fn fac_input(name: &str, levels: &[&str]) -> InputSpec {
    InputSpec {
        name: name.into(),
        kind: InputType::Factor,
        levels: Some(levels.iter().map(|s| s.to_string()).collect()),
    }
}

fn factor_var(name: &str, levels: &[&str], contrasts: Option<Vec<Vec<f64>>>) -> VariableSpec {
    VariableSpec::Factor {
        label: name.into(),
        input: name.into(),
        levels: levels.iter().map(|s| s.to_string()).collect(),
        contrasts,
    }
}

fn numeric_var(name: &str) -> VariableSpec {
    VariableSpec::Numeric { label: name.into(), expr: Expr::input(name) }
}

fn term(vars: &[(usize, Option<Coding>)], columns: std::ops::Range<usize>) -> TermSpec {
    TermSpec {
        label: format!("{vars:?}"),
        factors: vars.iter().map(|&(variable, coding)| TermFactor { variable, coding }).collect(),
        columns: columns.collect(),
    }
}

fn linear(
    link: &str,
    intercept: bool,
    coefficients: Vec<Option<f64>>,
    variables: Vec<VariableSpec>,
    terms: Vec<TermSpec>,
) -> LinearSpec {
    LinearSpec {
        family: "quasi".into(),
        link: link.into(),
        types: vec!["link".into(), "response".into()],
        default_type: "link".into(),
        intercept,
        coefficient_names: (0..coefficients.len()).map(|j| format!("b{j}")).collect(),
        coefficients,
        variables,
        terms,
        offsets: vec![],
    }
}

fn factor_col(levels: &[&str], rows: &[Option<&str>]) -> ColData {
    let levels: Vec<String> = levels.iter().map(|s| s.to_string()).collect();
    let codes =
        rows.iter().map(|r| r.map_or(NA_INTEGER, |r| levels.iter().position(|l| l == r).unwrap() as i32 + 1)).collect();
    ColData::Factor { codes, levels }
}

fn str_col(rows: &[Option<&str>]) -> ColData {
    let mut names: Vec<String> = Vec::new();
    let values = rows
        .iter()
        .map(|r| {
            r.map(|s| match names.iter().position(|n| n == s) {
                Some(i) => i as u32,
                None => {
                    names.push(s.to_string());
                    names.len() as u32 - 1
                }
            })
        })
        .collect();
    ColData::Str { values, names }
}

fn data(columns: Vec<(&str, ColData)>) -> Data {
    let nrows = columns[0].1.column().len();
    Data { nrows, columns: columns.into_iter().map(|(n, c)| (n.to_string(), c)).collect() }
}

fn assert_matches_reference(case: &Case) {
    let model = Model::from_doc(case.doc.clone()).unwrap();
    if let Err(e) = check_against_reference(&model, case) {
        panic!("{e}");
    }
}

/// Valid orthogonal-polynomial coefficients (R's `poly(c(1, 2, 3, 5, 8, 13, 21), 3)`),
/// used as model inputs.
const POLY_ALPHA: [f64; 3] = [7.5714285714285703, 14.0271048841167989, 10.8017698728369957];
const POLY_NORM2: [f64; 5] =
    [1.0, 7.0000000000000009, 3.1171428571428567e+02, 9.8231879010082503e+03, 1.8942696305585722e+05];

/// f:g:poly(x, 2) with both factors coded by indicators: 3 x 2 x 2 columns.
#[test]
fn three_way_two_indicator_factors_and_poly() {
    let poly = VariableSpec::Poly {
        label: "poly(x, 2)".into(),
        arg: Expr::input("x"),
        alpha: POLY_ALPHA[..2].to_vec(),
        norm2: POLY_NORM2[..4].to_vec(),
    };
    let mut coefs: Vec<Option<f64>> = (0..13).map(|j| Some(0.25 * j as f64 - 1.0)).collect();
    coefs[3] = None; // (c, u, p1) aliased
    let spec = linear(
        "identity",
        true,
        coefs.clone(),
        vec![factor_var("f", &["a", "b", "c"], None), factor_var("g", &["u", "v"], None), poly],
        vec![term(&[(0, Some(Coding::Indicators)), (1, Some(Coding::Indicators)), (2, None)], 1..13)],
    );
    let doc = new_doc(vec![fac_input("f", &["a", "b", "c"]), fac_input("g", &["u", "v"]), num_input("x")], spec);
    let fs = [Some("b"), Some("a"), Some("c"), None, Some("c"), Some("b")];
    let gs = [Some("v"), Some("u"), Some("u"), Some("v"), None, Some("u")];
    let xs = [2.0, -1.5, 30.0, 1.0, 1.0, NA_REAL];
    let case = Case {
        doc,
        data: data(vec![
            ("f", factor_col(&["c", "b", "a"], &fs)),
            ("g", str_col(&gs)),
            ("x", ColData::Real(xs.to_vec())),
        ]),
    };
    assert_matches_reference(&case);

    // by hand, row 0 (f = b, g = v): columns (b, v, p1) and (b, v, p2) are
    // 1 + 1*3 + k*6 (first variable fastest), plus the intercept column
    let model = Model::from_doc(case.doc.clone()).unwrap();
    let out = predict(&model, &case.data, None, 1).unwrap();
    let p = poly_columns(2.0, &POLY_ALPHA[..2], &POLY_NORM2[..4]);
    let want = coefs[0].unwrap() + coefs[5].unwrap() * p[0] + coefs[11].unwrap() * p[1];
    assert!((out[0] - want).abs() < 1e-12, "{} vs {}", out[0], want);
    assert!(out[3].is_nan() && out[4].is_nan() && out[5].is_nan());
}

/// No terms and no coefficients: the prediction is the offsets.
#[test]
fn offsets_only() {
    let mut spec = linear("log", false, vec![], vec![], vec![]);
    spec.offsets = vec![Expr::input("x"), Expr::call(Op::Log, vec![Expr::input("z")])];
    let doc = new_doc(vec![num_input("x"), num_input("z")], spec);
    let x = [1.0, -2.0, NA_REAL, 0.5];
    let z = [1, 4, 2, NA_INTEGER];
    let case = Case { doc, data: data(vec![("x", ColData::Real(x.to_vec())), ("z", ColData::Int(z.to_vec()))]) };
    assert_matches_reference(&case);
    let model = Model::from_doc(case.doc.clone()).unwrap();
    let eta = predict(&model, &case.data, Some("link"), 1).unwrap();
    let mu = predict(&model, &case.data, Some("response"), 1).unwrap();
    assert_eq!(eta[..2], [1.0, -2.0 + 4f64.ln()]);
    assert_eq!(mu[0], 1f64.exp());
    assert!(eta[2].is_nan() && eta[3].is_nan() && mu[2].is_nan());
}

/// `y ~ f - 1`: one indicator column per level, no intercept.
#[test]
fn no_intercept_indicator_factor() {
    let spec = linear(
        "identity",
        false,
        vec![Some(10.0), Some(-2.0), Some(0.5)],
        vec![factor_var("f", &["a", "b", "c"], None)],
        vec![term(&[(0, Some(Coding::Indicators))], 0..3)],
    );
    let doc = new_doc(vec![fac_input("f", &["a", "b", "c"])], spec);
    let rows = [Some("c"), Some("a"), None, Some("b")];
    for col in [str_col(&rows), factor_col(&["b", "zz", "c", "a"], &rows)] {
        let case = Case { doc: doc.clone(), data: data(vec![("f", col)]) };
        assert_matches_reference(&case);
        let out = predict(&Model::from_doc(doc.clone()).unwrap(), &case.data, None, 1).unwrap();
        assert_eq!([out[0], out[1], out[3]], [0.5, 10.0, -2.0]);
        assert!(out[2].is_nan());
    }
}

/// A term whose coefficients are all aliased contributes nothing, so a
/// missing value that only it reads does not make the row NA (as R's
/// predict drops aliased columns).
#[test]
fn all_aliased_term_is_ignored() {
    let contr = vec![vec![0.0], vec![1.0]];
    let spec = linear(
        "identity",
        true,
        vec![Some(1.0), Some(2.0), None, None, None],
        vec![numeric_var("x"), numeric_var("z"), factor_var("f", &["a", "b"], Some(contr))],
        vec![
            term(&[(0, None)], 1..2),
            term(&[(1, None)], 2..3),
            term(&[(1, None), (2, Some(Coding::Contrasts))], 3..4),
            term(&[(2, Some(Coding::Contrasts))], 4..5),
        ],
    );
    let doc = new_doc(vec![num_input("x"), num_input("z"), fac_input("f", &["a", "b"])], spec);
    let case = Case {
        doc,
        data: data(vec![
            ("x", ColData::Real(vec![1.0, 2.0, NA_REAL])),
            ("z", ColData::Real(vec![NA_REAL, 5.0, 1.0])),
            ("f", str_col(&[Some("b"), None, Some("a")])),
        ]),
    };
    assert_matches_reference(&case);
    let out = predict(&Model::from_doc(case.doc.clone()).unwrap(), &case.data, None, 1).unwrap();
    assert_eq!(out[..2], [3.0, 5.0]);
    assert!(out[2].is_nan());
}

/// Infinity in a plain numeric term: R gives +-Inf, and so does the engine.
#[test]
fn infinite_value_in_numeric_term() {
    let spec =
        linear("identity", true, vec![Some(1.0), Some(2.0)], vec![numeric_var("x")], vec![term(&[(0, None)], 1..2)]);
    let doc = new_doc(vec![num_input("x")], spec);
    let case = Case { doc, data: data(vec![("x", ColData::Real(vec![f64::INFINITY, f64::NEG_INFINITY]))]) };
    let out = predict(&Model::from_doc(case.doc.clone()).unwrap(), &case.data, None, 1).unwrap();
    assert_eq!(out, [f64::INFINITY, f64::NEG_INFINITY]);
    assert_matches_reference(&case);
}

/// Infinity in a numeric x factor term: R's model.matrix multiplies Inf by
/// the 0 entries of the coding row, so the row is NaN
/// (`predict(lm(y ~ x:f), data.frame(x = Inf, f = "b"))` is NaN in R).
/// The engine folds codings into its tables, so it must keep the unfolded
/// (coefficient, coding) pairs for infinite values.
#[test]
fn infinite_value_in_factor_interaction() {
    let spec = linear(
        "identity",
        true,
        vec![Some(0.5), Some(0.4), Some(-0.3), Some(0.2)],
        vec![numeric_var("x"), factor_var("f", &["a", "b", "c"], None)],
        vec![term(&[(0, None), (1, Some(Coding::Indicators))], 1..4)],
    );
    let doc = new_doc(vec![num_input("x"), fac_input("f", &["a", "b", "c"])], spec);
    let case = Case {
        doc,
        data: data(vec![
            ("x", ColData::Real(vec![f64::INFINITY, f64::NEG_INFINITY, 1.0])),
            ("f", str_col(&[Some("b"), Some("a"), Some("c")])),
        ]),
    };
    let out = predict(&Model::from_doc(case.doc.clone()).unwrap(), &case.data, None, 1).unwrap();
    // R: NaN NaN 0.7
    assert!(out[0].is_nan(), "Inf row gives {}, R gives NaN", out[0]);
    assert!(out[1].is_nan(), "-Inf row gives {}, R gives NaN", out[1]);
    assert!((out[2] - 0.7).abs() < 1e-15);
    assert_matches_reference(&case);
}

/// Tiny deterministic generator for the big test's data.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unif(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// 300,000 rows through a model large enough for the parallel path: every
/// thread count gives the same bits, and every row matches the reference.
#[test]
fn large_parallel_prediction() {
    let fl = ["lo", "mid", "hi", "top"];
    let gl = ["u", "v", "w"];
    let treatment = vec![vec![0.0, 0.0, 0.0], vec![1.0, 0.0, 0.0], vec![0.0, 1.0, 0.0], vec![0.0, 0.0, 1.0]];
    let sum = vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![-1.0, -1.0]];
    let log_x = Expr::call(
        Op::Log,
        vec![Expr::call(Op::Add, vec![Expr::call(Op::Abs, vec![Expr::input("x")]), Expr::constant(1.0)])],
    );
    let variables = vec![
        numeric_var("x"),
        VariableSpec::Poly {
            label: "poly(z, 3)".into(),
            arg: Expr::input("z"),
            alpha: POLY_ALPHA.to_vec(),
            norm2: POLY_NORM2.to_vec(),
        },
        factor_var("f", &fl, Some(treatment)),
        factor_var("g", &gl, Some(sum)),
        VariableSpec::Numeric { label: "log(abs(x) + 1)".into(), expr: log_x },
    ];
    let c = Some(Coding::Contrasts);
    let ind = Some(Coding::Indicators);
    let mut next = 1;
    let mut cols = |k: usize| {
        next += k;
        next - k..next
    };
    let terms = vec![
        term(&[(0, None)], cols(1)),
        term(&[(1, None)], cols(3)),
        term(&[(2, c)], cols(3)),
        term(&[(3, c)], cols(2)),
        term(&[(0, None), (2, c)], cols(3)),
        term(&[(1, None), (3, c)], cols(6)),
        term(&[(2, c), (3, c)], cols(6)),
        term(&[(2, ind), (3, ind), (4, None)], cols(12)),
    ];
    let ncoef = next;
    let mut rng = SplitMix(42);
    let coefs = (0..ncoef).map(|_| if rng.below(7) == 0 { None } else { Some(rng.unif() * 4.0 - 2.0) }).collect();
    let mut spec = linear("logit", true, coefs, variables, terms);
    spec.offsets = vec![Expr::call(Op::Mul, vec![Expr::input("z"), Expr::constant(0.01)])];
    let doc = new_doc(vec![num_input("x"), num_input("z"), fac_input("f", &fl), fac_input("g", &gl)], spec);

    let n = 300_000;
    let x: Vec<f64> = (0..n).map(|_| if rng.below(50) == 0 { NA_REAL } else { rng.unif() * 20.0 - 10.0 }).collect();
    let z: Vec<i32> = (0..n).map(|_| if rng.below(50) == 0 { NA_INTEGER } else { rng.below(25) as i32 - 2 }).collect();
    let pick =
        |rng: &mut SplitMix, l: &[&'static str]| if rng.below(40) == 0 { None } else { Some(l[rng.below(l.len())]) };
    let f: Vec<Option<&str>> = (0..n).map(|_| pick(&mut rng, &fl)).collect();
    let g: Vec<Option<&str>> = (0..n).map(|_| pick(&mut rng, &gl)).collect();
    let case = Case {
        doc,
        data: data(vec![
            ("x", ColData::Real(x)),
            ("z", ColData::Int(z)),
            ("f", factor_col(&["top", "lo", "hi", "mid"], &f)),
            ("g", str_col(&g)),
        ]),
    };
    let model = Model::from_doc(case.doc.clone()).unwrap();
    let frame = case.data.frame();
    let job = model.prepare(&frame, &PredictOptions::default()).unwrap();
    assert!(job.is_large(), "the model should take the parallel path");
    let run = |threads: usize| {
        let mut out = vec![0.0; n];
        job.run(vec![OutBuf::Real(&mut out)], threads).unwrap();
        out
    };
    let one = run(1);
    for threads in [2, 3, 4] {
        assert!(bits(&one) == bits(&run(threads)), "{threads} threads differ from 1 thread");
    }
    assert_matches_reference(&case);
}
