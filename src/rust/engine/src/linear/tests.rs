use std::sync::atomic::AtomicBool;

use super::*;
use crate::format::{Coding, Expr, InputSpec, InputType, TermFactor, TermSpec, VariableSpec};
use crate::frame::{is_r_na, Column, Frame};
use crate::output::{split_rows, OutBuf};

fn spec_x_f() -> (LinearSpec, Inputs) {
    // y ~ x * f with f in {a, b, c}, treatment contrasts
    let contr = vec![vec![0.0, 0.0], vec![1.0, 0.0], vec![0.0, 1.0]];
    let spec = gaussian_spec(
        vec![Some(1.0), Some(2.0), Some(10.0), None, Some(0.5), Some(-0.5)],
        ["(Intercept)", "x", "fb", "fc", "x:fb", "x:fc"].iter().map(|s| s.to_string()).collect(),
        vec![
            VariableSpec::Numeric { label: "x".into(), expr: Expr::input("x") },
            VariableSpec::Factor {
                label: "f".into(),
                input: "f".into(),
                levels: vec!["a".into(), "b".into(), "c".into()],
                contrasts: Some(contr),
            },
        ],
        vec![
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
    );
    let inputs = Inputs::new(vec![
        InputSpec { name: "x".into(), kind: InputType::Numeric, levels: None },
        InputSpec { name: "f".into(), kind: InputType::Factor, levels: Some(vec!["a".into(), "b".into(), "c".into()]) },
    ])
    .unwrap();
    (spec, inputs)
}

/// A gaussian model with an intercept, predicting the response.
fn gaussian_spec(
    coefficients: Vec<Option<f64>>,
    coefficient_names: Vec<String>,
    variables: Vec<VariableSpec>,
    terms: Vec<TermSpec>,
) -> LinearSpec {
    LinearSpec {
        family: "gaussian".into(),
        link: "identity".into(),
        types: vec!["response".into()],
        default_type: "response".into(),
        intercept: true,
        coefficients,
        coefficient_names,
        variables,
        terms,
        offsets: vec![],
        inference: None,
        responses: None,
    }
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

/// y ~ x1 + ... + xj + f + ... + xk: columns are added a few at a time,
/// and every row must round as the term-by-term sum in the model's order.
#[test]
fn plain_terms_added_together_round_as_term_by_term() {
    let contr = vec![vec![0.0, 0.0], vec![1.0, 0.0], vec![0.0, 1.0]];
    let levels: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
    // magnitudes far apart, so any other order of the sums rounds differently
    let value = |i: usize, r: usize| ((i * 31 + r * 17) as f64).sin() * 10f64.powi(((i + r) % 9) as i32 * 2 - 8);
    let rows = 37;
    // up to two passes of eight columns and then some
    for k in 1..=17 {
        for at in [0, k / 2, k] {
            let mut variables: Vec<VariableSpec> = (0..k)
                .map(|i| VariableSpec::Numeric { label: format!("x{i}"), expr: Expr::input(&format!("x{i}")) })
                .collect();
            variables.push(VariableSpec::Factor {
                label: "f".into(),
                input: "f".into(),
                levels: levels.clone(),
                contrasts: Some(contr.clone()),
            });
            let beta: Vec<f64> = (0..k + 3).map(|c| value(100 + c, c)).collect();
            let plain = |i: usize| TermSpec {
                label: format!("x{i}"),
                factors: vec![TermFactor { variable: i, coding: None }],
                columns: vec![1 + i + usize::from(i >= at) * 2],
            };
            let mut terms: Vec<TermSpec> = (0..at).map(plain).collect();
            terms.push(TermSpec {
                label: "f".into(),
                factors: vec![TermFactor { variable: k, coding: Some(Coding::Contrasts) }],
                columns: vec![1 + at, 2 + at],
            });
            terms.extend((at..k).map(plain));
            let spec = gaussian_spec(
                beta.iter().map(|&b| Some(b)).collect(),
                (0..k + 3).map(|c| format!("b{c}")).collect(),
                variables,
                terms,
            );
            let mut specs: Vec<InputSpec> =
                (0..k).map(|i| InputSpec { name: format!("x{i}"), kind: InputType::Numeric, levels: None }).collect();
            specs.push(InputSpec { name: "f".into(), kind: InputType::Factor, levels: Some(levels.clone()) });
            let inputs = Inputs::new(specs).unwrap();
            let m = LinearModel::new(&spec, &inputs).unwrap();
            let xs: Vec<Vec<f64>> = (0..k).map(|i| (0..rows).map(|r| value(i, r)).collect()).collect();
            let names: Vec<String> = (0..k).map(|i| format!("x{i}")).collect();
            let mut fr = Frame::new();
            for (name, x) in names.iter().zip(&xs) {
                fr.push(name, Column::Real(x));
            }
            fr.push("f", Column::Str((0..rows).map(|r| Some(["a", "b", "c"][r % 3])).collect()));
            let out = run(&m, &inputs, &fr);
            for (r, got) in out.iter().enumerate() {
                let factor = [0.0, beta[1 + at], beta[2 + at]][r % 3];
                let mut want = beta[0];
                for i in 0..k {
                    if i == at {
                        want += factor;
                    }
                    want += beta[1 + i + usize::from(i >= at) * 2] * xs[i][r];
                }
                if at == k {
                    want += factor;
                }
                assert_eq!(got.to_bits(), want.to_bits(), "k {k}, factor at {at}, row {r}");
            }
        }
    }
}
