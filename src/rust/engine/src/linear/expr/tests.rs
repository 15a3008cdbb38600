use super::*;
use crate::frame::{is_r_na as is_na_real, NA_REAL};

struct Row(Vec<f64>);
impl NumericSource for Row {
    fn value(&self, i: usize, _r: usize) -> f64 {
        self.0[i]
    }
}

fn eval(e: &Expr, row: &[f64]) -> f64 {
    let names = ["x", "y"];
    let c = e.compile(&|n: &str| names.iter().position(|m| *m == n).ok_or_else(|| Error::invalid(n))).unwrap();
    c.eval(&Row(row.to_vec()), 0)
}

#[test]
fn arithmetic_and_functions() {
    let x = Expr::input("x");
    let e = Expr::call(Op::Add, vec![Expr::call(Op::Log, vec![x.clone()]), Expr::constant(1.0)]);
    assert_eq!(eval(&e, &[std::f64::consts::E, 0.0]), 2.0);
    let mut lg = Expr::call(Op::Log, vec![x.clone()]);
    lg.base = Some(10.0);
    assert_eq!(eval(&lg, &[1000.0, 0.0]), 3.0);
    lg.base = Some(3.0);
    assert_eq!(eval(&lg, &[9.0, 0.0]), 9f64.ln() / 3f64.ln());
    let p = Expr::call(Op::Pow, vec![x.clone(), Expr::constant(2.0)]);
    assert_eq!(eval(&p, &[3.0, 0.0]), 9.0);
}

#[test]
fn na_is_preserved_and_nan_is_produced() {
    let x = Expr::input("x");
    let e = Expr::call(Op::Log, vec![x.clone()]);
    assert!(is_na_real(eval(&e, &[NA_REAL, 0.0])));
    let v = eval(&e, &[-1.0, 0.0]);
    assert!(v.is_nan() && !is_na_real(v));
    assert_eq!(eval(&e, &[0.0, 0.0]), f64::NEG_INFINITY);
}

#[test]
fn r_pow_special_cases() {
    assert_eq!(r_pow(0.0, -1.0), f64::INFINITY);
    assert_eq!(r_pow(1.0, f64::NAN), 1.0);
    assert_eq!(r_pow(f64::NAN, 0.0), 1.0);
    assert_eq!(r_pow(f64::NEG_INFINITY, 3.0), f64::NEG_INFINITY);
    assert_eq!(r_pow(f64::NEG_INFINITY, 2.0), f64::INFINITY);
    assert_eq!(r_pow(f64::NEG_INFINITY, -1.0), 0.0);
    assert_eq!(r_pow(0.5, f64::INFINITY), 0.0);
    assert_eq!(r_pow(2.0, f64::NEG_INFINITY), 0.0);
    assert!(r_pow(-2.0, 0.5).is_nan());
    assert_eq!(r_pow(2.0, 10.0), 1024.0);
}

#[test]
fn arity_is_checked() {
    let bad = Expr::call(Op::Add, vec![Expr::input("x")]);
    assert!(bad.compile(&|_| Ok(0)).is_err());
}
