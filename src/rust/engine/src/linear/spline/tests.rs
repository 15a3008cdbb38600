use super::*;
use crate::format::Expr;
use crate::format::Extrapolation;

fn cubic(interior: &[f64], lo: f64, hi: f64, intercept: bool) -> Spline {
    let mut knots = vec![lo; 4];
    knots.extend_from_slice(interior);
    knots.extend(vec![hi; 4]);
    let nb = knots.len() - 4;
    let zero = Extrapolation { pivot: lo, coefs: vec![vec![0.0; nb]] };
    Spline::new(&SplineSpec {
        label: "bs(x)".into(),
        basis: "bs".into(),
        arg: Expr::input("x"),
        order: 4,
        knots,
        boundary: vec![lo, hi],
        intercept,
        left: zero.clone(),
        right: Extrapolation { pivot: hi, ..zero },
        projection: None,
    })
    .unwrap()
}

#[test]
fn partition_of_unity_inside() {
    let s = cubic(&[0.3, 0.5, 0.5, 0.8], 0.0, 1.0, true);
    let mut out = vec![0.0; s.ncols()];
    let mut scratch = vec![0.0; s.scratch_len()];
    for i in 0..=100 {
        let x = i as f64 / 100.0;
        s.eval(x, &mut out, &mut scratch);
        let sum: f64 = out.iter().sum();
        assert!((sum - 1.0).abs() < 1e-14, "x = {x}: sum {sum}");
        assert!(out.iter().all(|v| *v >= -1e-15));
    }
}

#[test]
fn right_boundary_is_left_limit() {
    let s = cubic(&[0.5], 0.0, 1.0, true);
    let mut out = vec![0.0; s.ncols()];
    let mut scratch = vec![0.0; s.scratch_len()];
    s.eval(1.0, &mut out, &mut scratch);
    assert_eq!(out[out.len() - 1], 1.0);
    s.eval(0.0, &mut out, &mut scratch);
    assert_eq!(out[0], 1.0);
}

#[test]
fn missing_gives_na() {
    let s = cubic(&[], 0.0, 1.0, false);
    let mut out = vec![0.0; s.ncols()];
    let mut scratch = vec![0.0; s.scratch_len()];
    s.eval(f64::NAN, &mut out, &mut scratch);
    assert!(out.iter().all(|v| v.to_bits() == NA_REAL.to_bits()));
}
