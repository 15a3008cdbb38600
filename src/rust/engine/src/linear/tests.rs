use std::sync::atomic::AtomicBool;

use super::*;
use crate::format::{Coding, Expr, InputSpec, InputType, TermFactor, TermSpec, VariableSpec};
use crate::frame::{is_r_na, Column, Frame};
use crate::output::{split_rows, OutBuf};

fn spec_x_f() -> (LinearSpec, Inputs) {
    // y ~ x * f with f in {a, b, c}, treatment contrasts
    let contr = vec![vec![0.0, 0.0], vec![1.0, 0.0], vec![0.0, 1.0]];
    let spec = LinearSpec {
        family: "gaussian".into(),
        link: "identity".into(),
        types: vec!["response".into()],
        default_type: "response".into(),
        intercept: true,
        coefficients: vec![Some(1.0), Some(2.0), Some(10.0), None, Some(0.5), Some(-0.5)],
        coefficient_names: ["(Intercept)", "x", "fb", "fc", "x:fb", "x:fc"].iter().map(|s| s.to_string()).collect(),
        variables: vec![
            VariableSpec::Numeric { label: "x".into(), expr: Expr::input("x") },
            VariableSpec::Factor {
                label: "f".into(),
                input: "f".into(),
                levels: vec!["a".into(), "b".into(), "c".into()],
                contrasts: Some(contr),
            },
        ],
        terms: vec![
            TermSpec { label: "x".into(), factors: vec![TermFactor { variable: 0, coding: None }], columns: vec![1] },
            TermSpec {
                label: "f".into(),
                factors: vec![TermFactor { variable: 1, coding: Some(Coding::Contrasts) }],
                columns: vec![2, 3],
            },
            TermSpec {
                label: "x:f".into(),
                factors: vec![
                    TermFactor { variable: 0, coding: None },
                    TermFactor { variable: 1, coding: Some(Coding::Contrasts) },
                ],
                columns: vec![4, 5],
            },
        ],
        offsets: vec![],
        inference: None,
        responses: None,
    };
    let inputs = Inputs::new(vec![
        InputSpec { name: "x".into(), kind: InputType::Numeric, levels: None },
        InputSpec { name: "f".into(), kind: InputType::Factor, levels: Some(vec!["a".into(), "b".into(), "c".into()]) },
    ])
    .unwrap();
    (spec, inputs)
}

fn run(m: &LinearModel, inputs: &Inputs, fr: &Frame) -> Vec<f64> {
    let b = inputs.bind(fr).unwrap();
    let call = m.prepare(&b, PredictType::Response, &PredictOptions::default()).unwrap();
    let mut out = vec![0.0; b.nrows()];
    let mut blocks = split_rows(vec![OutBuf::Real(&mut out)], &call.shape(), b.nrows(), 1000).unwrap();
    for block in &mut blocks {
        call.predict(&b, block, &AtomicBool::new(false));
    }
    drop(blocks);
    out
}

#[test]
fn interaction_with_aliased_column() {
    let (spec, inputs) = spec_x_f();
    let m = LinearModel::new(&spec, &inputs).unwrap();
    let x = [1.0, 2.0, 3.0, f64::NAN];
    let mut fr = Frame::new();
    fr.push("x", Column::Real(&x));
    fr.push("f", Column::Str(vec![Some("a"), Some("b"), Some("c"), Some("a")]));
    let out = run(&m, &inputs, &fr);
    assert_eq!(out[0], 1.0 + 2.0);
    assert_eq!(out[1], 1.0 + 4.0 + 10.0 + 1.0);
    // fc is aliased: only the intercept, x and x:fc count
    assert_eq!(out[2], 1.0 + 6.0 - 1.5);
    assert!(out[3].is_nan());
}

#[test]
fn missing_level_gives_na() {
    let (spec, inputs) = spec_x_f();
    let m = LinearModel::new(&spec, &inputs).unwrap();
    let x = [1.0];
    let mut fr = Frame::new();
    fr.push("x", Column::Real(&x));
    fr.push("f", Column::Str(vec![None]));
    let out = run(&m, &inputs, &fr);
    assert!(is_r_na(out[0]));
}

#[test]
fn inconsistent_terms_are_refused() {
    let (mut spec, inputs) = spec_x_f();
    spec.terms[1].columns = vec![2];
    assert!(LinearModel::new(&spec, &inputs).is_err());
}
