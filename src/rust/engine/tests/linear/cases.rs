//! Targeted cases that random generation rarely hits, checked against the
//! reference and against values worked out by hand.

use fastpredict_engine::format::{Coding, Expr, Op, VariableSpec};
use fastpredict_engine::{ColumnBuf, Model, OutBuf, PredictOptions, NA_INTEGER, NA_REAL};

use crate::common::build::{fac_input, factor_var, linear, linear_doc, num_input, numeric_var, term};
use crate::common::data::{data, factor_col, str_col};
use crate::common::rng::Rng;
use crate::generate::Case;
use crate::reference::poly_columns;
use crate::{bits, check_against_reference, predict};

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
        "quasi",
        "identity",
        true,
        coefs.clone(),
        vec![factor_var("f", &["a", "b", "c"], None), factor_var("g", &["u", "v"], None), poly],
        vec![term("f:g:poly(x, 2)", &[(0, Some(Coding::Indicators)), (1, Some(Coding::Indicators)), (2, None)], 1..13)],
    );
    let doc = linear_doc(vec![fac_input("f", &["a", "b", "c"]), fac_input("g", &["u", "v"]), num_input("x")], spec);
    let fs = [Some("b"), Some("a"), Some("c"), None, Some("c"), Some("b")];
    let gs = [Some("v"), Some("u"), Some("u"), Some("v"), None, Some("u")];
    let xs = [2.0, -1.5, 30.0, 1.0, 1.0, NA_REAL];
    let case = Case {
        doc,
        data: data(vec![
            ("f", factor_col(&["c", "b", "a"], &fs)),
            ("g", str_col(&gs)),
            ("x", ColumnBuf::Real(xs.to_vec())),
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
    let mut spec = linear("quasi", "log", false, vec![], vec![], vec![]);
    spec.offsets = vec![Expr::input("x"), Expr::call(Op::Log, vec![Expr::input("z")])];
    let doc = linear_doc(vec![num_input("x"), num_input("z")], spec);
    let x = [1.0, -2.0, NA_REAL, 0.5];
    let z = [1, 4, 2, NA_INTEGER];
    let case = Case { doc, data: data(vec![("x", ColumnBuf::Real(x.to_vec())), ("z", ColumnBuf::Int(z.to_vec()))]) };
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
        "quasi",
        "identity",
        false,
        vec![Some(10.0), Some(-2.0), Some(0.5)],
        vec![factor_var("f", &["a", "b", "c"], None)],
        vec![term("f", &[(0, Some(Coding::Indicators))], 0..3)],
    );
    let doc = linear_doc(vec![fac_input("f", &["a", "b", "c"])], spec);
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
        "quasi",
        "identity",
        true,
        vec![Some(1.0), Some(2.0), None, None, None],
        vec![numeric_var("x"), numeric_var("z"), factor_var("f", &["a", "b"], Some(contr))],
        vec![
            term("x", &[(0, None)], 1..2),
            term("z", &[(1, None)], 2..3),
            term("z:f", &[(1, None), (2, Some(Coding::Contrasts))], 3..4),
            term("f", &[(2, Some(Coding::Contrasts))], 4..5),
        ],
    );
    let doc = linear_doc(vec![num_input("x"), num_input("z"), fac_input("f", &["a", "b"])], spec);
    let case = Case {
        doc,
        data: data(vec![
            ("x", ColumnBuf::Real(vec![1.0, 2.0, NA_REAL])),
            ("z", ColumnBuf::Real(vec![NA_REAL, 5.0, 1.0])),
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
    let spec = linear(
        "quasi",
        "identity",
        true,
        vec![Some(1.0), Some(2.0)],
        vec![numeric_var("x")],
        vec![term("x", &[(0, None)], 1..2)],
    );
    let doc = linear_doc(vec![num_input("x")], spec);
    let case = Case { doc, data: data(vec![("x", ColumnBuf::Real(vec![f64::INFINITY, f64::NEG_INFINITY]))]) };
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
        "quasi",
        "identity",
        true,
        vec![Some(0.5), Some(0.4), Some(-0.3), Some(0.2)],
        vec![numeric_var("x"), factor_var("f", &["a", "b", "c"], None)],
        vec![term("x:f", &[(0, None), (1, Some(Coding::Indicators))], 1..4)],
    );
    let doc = linear_doc(vec![num_input("x"), fac_input("f", &["a", "b", "c"])], spec);
    let case = Case {
        doc,
        data: data(vec![
            ("x", ColumnBuf::Real(vec![f64::INFINITY, f64::NEG_INFINITY, 1.0])),
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
        term("x", &[(0, None)], cols(1)),
        term("poly(z, 3)", &[(1, None)], cols(3)),
        term("f", &[(2, c)], cols(3)),
        term("g", &[(3, c)], cols(2)),
        term("x:f", &[(0, None), (2, c)], cols(3)),
        term("poly(z, 3):g", &[(1, None), (3, c)], cols(6)),
        term("f:g", &[(2, c), (3, c)], cols(6)),
        term("f:g:log(abs(x) + 1)", &[(2, ind), (3, ind), (4, None)], cols(12)),
    ];
    let ncoef = next;
    // a fixed stream: the same rows every run
    let mut rng = Rng::from_state(42);
    let coefs = (0..ncoef).map(|_| if rng.below(7) == 0 { None } else { Some(rng.unit() * 4.0 - 2.0) }).collect();
    let mut spec = linear("quasi", "logit", true, coefs, variables, terms);
    spec.offsets = vec![Expr::call(Op::Mul, vec![Expr::input("z"), Expr::constant(0.01)])];
    let doc = linear_doc(vec![num_input("x"), num_input("z"), fac_input("f", &fl), fac_input("g", &gl)], spec);

    let n = 300_000;
    let x: Vec<f64> = (0..n).map(|_| if rng.below(50) == 0 { NA_REAL } else { rng.unit() * 20.0 - 10.0 }).collect();
    let z: Vec<i32> = (0..n).map(|_| if rng.below(50) == 0 { NA_INTEGER } else { rng.below(25) as i32 - 2 }).collect();
    let pick = |rng: &mut Rng, l: &[&'static str]| if rng.below(40) == 0 { None } else { Some(l[rng.below(l.len())]) };
    let f: Vec<Option<&str>> = (0..n).map(|_| pick(&mut rng, &fl)).collect();
    let g: Vec<Option<&str>> = (0..n).map(|_| pick(&mut rng, &gl)).collect();
    let case = Case {
        doc,
        data: data(vec![
            ("x", ColumnBuf::Real(x)),
            ("z", ColumnBuf::Int(z)),
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
