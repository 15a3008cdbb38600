//! Random linear models and data for them, and the doubles of a document
//! (to plant awkward ones for the round trips).

use std::collections::HashSet;
use std::ops::RangeInclusive;

use proptest::collection::{btree_set, vec};
use proptest::prelude::*;
use proptest::sample::{select, Index};

use fastpredict_engine::format::{
    Coding, Expr, InputSpec, InputType, LinearSpec, ModelDoc, Op, TermFactor, TermSpec, VariableSpec,
};
use fastpredict_engine::{ColumnBuf, FrameBuf, NA_INTEGER, NA_REAL};

use crate::common::build::{coefficient_names, linear_doc};

/// Input names; odd characters exercise JSON escaping and error messages.
const NUM_NAMES: [&str; 4] = ["x1", "x 2", "x.3", "ẋ4"];
const FAC_NAMES: [&str; 3] = ["f1", "g`2", "h\"3"];

#[derive(Debug, Clone)]
pub struct Case {
    pub doc: ModelDoc,
    pub data: FrameBuf,
}

impl Case {
    pub fn spec(&self) -> &LinearSpec {
        self.doc.linear.as_ref().unwrap()
    }
}

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

fn arb_numeric_column(n: usize) -> BoxedStrategy<ColumnBuf> {
    prop_oneof![3 => vec(real_value(), n).prop_map(ColumnBuf::Real), 1 => vec(int_value(), n).prop_map(ColumnBuf::Int)]
        .boxed()
}

/// A factor input's data: a factor with its own (shuffled) level order and
/// up to two unused extra levels, or a character vector; ~5% missing.
fn arb_factor_column(levels: Vec<String>, n: usize) -> BoxedStrategy<ColumnBuf> {
    let nl = levels.len();
    (any::<bool>(), 0usize..=2, vec(prop::option::weighted(0.95, 0..nl), n))
        .prop_flat_map(move |(as_str, extra, rows)| {
            let mut data_levels = levels.clone();
            data_levels.extend((0..extra).map(|k| format!("unused level {k}")));
            (Just(as_str), Just(levels.clone()), Just(data_levels).prop_shuffle(), Just(rows))
        })
        .prop_map(|(as_str, levels, data_levels, rows)| {
            if as_str {
                return ColumnBuf::Str(rows.iter().map(|r| r.map(|i| levels[i].clone())).collect());
            }
            let code = |i: usize| data_levels.iter().position(|l| *l == levels[i]).unwrap() as i32 + 1;
            ColumnBuf::Factor { codes: rows.iter().map(|r| r.map_or(NA_INTEGER, code)).collect(), levels: data_levels }
        })
        .boxed()
}

/// `rows` rows, every input plus maybe an unused column, in random order.
fn arb_data(n_num: usize, flevels: Vec<Vec<String>>, rows: RangeInclusive<usize>) -> BoxedStrategy<FrameBuf> {
    rows.prop_flat_map(move |n| {
        let nums: Vec<_> = (0..n_num).map(|_| arb_numeric_column(n)).collect();
        let facs: Vec<_> = flevels.iter().map(|l| arb_factor_column(l.clone(), n)).collect();
        (Just(n), nums, facs, prop::option::of(arb_numeric_column(n)))
    })
    .prop_flat_map(|(n, nums, facs, extra)| {
        let mut cols: Vec<(String, ColumnBuf)> =
            nums.into_iter().enumerate().map(|(i, c)| (NUM_NAMES[i].into(), c)).collect();
        cols.extend(facs.into_iter().enumerate().map(|(i, c)| (FAC_NAMES[i].into(), c)));
        cols.extend(extra.map(|c| ("not used".to_string(), c)));
        (Just(n), Just(cols).prop_shuffle())
    })
    .prop_map(|(nrows, columns)| {
        let mut f = FrameBuf::new();
        for (name, col) in columns {
            f.push(name, col);
        }
        f.set_nrows(nrows);
        f
    })
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
pub fn arb_case() -> impl Strategy<Value = Case> {
    arb_case_with(0..=3, 0..=600)
}

/// As `arb_case`, with a given range of factor inputs and of rows.
pub fn arb_case_with(factors: RangeInclusive<usize>, rows: RangeInclusive<usize>) -> impl Strategy<Value = Case> {
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
            let coefficient_names = coefficient_names(intercept, coefficients.len());
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
                inference: None,
                responses: None,
            };
            Case { doc: linear_doc(inputs, spec), data }
        })
}

/// Doubles whose text form is easy to get wrong.
pub const AWKWARD: [f64; 24] = [
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
pub enum Slot {
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
pub fn visit_floats(doc: &mut ModelDoc, f: &mut dyn FnMut(Slot, &mut f64)) {
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
            VariableSpec::Spline(_) | VariableSpec::Cut(_) | VariableSpec::Interaction(_) => {}
            VariableSpec::Logical { arg, contrasts, .. } => {
                visit_expr_floats(arg, f);
                contrasts.iter_mut().flatten().flatten().for_each(|c| f(Slot::Any, c))
            }
        }
    }
    lin.offsets.iter_mut().for_each(|e| visit_expr_floats(e, f));
}

pub fn float_bits(doc: &ModelDoc) -> Vec<u64> {
    let mut out = Vec::new();
    visit_floats(&mut doc.clone(), &mut |_, v| out.push(v.to_bits()));
    out
}
