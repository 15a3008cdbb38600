use super::*;

#[test]
fn xgboost_sigmoid_clamps_its_exponent_at_88_7() {
    // beyond the clamp the exponent stays 88.7, so the response is not 0
    let far = xgb_sigmoid(-100.0);
    assert_eq!(far, xgb_sigmoid(-88.7));
    assert!(far > 0.0);
    // without the clamp expf(100) overflows and 1 / inf is 0
    assert_eq!(1.0 / (100f32.exp() + 1.0), 0.0);
    assert_eq!(xgb_sigmoid(0.0), 0.5);
    assert_eq!(xgb_sigmoid(f32::INFINITY), 1.0);
}

#[test]
fn xgboost_logit_clamps_the_intercept() {
    assert_eq!(xgb_logit(0.5), 0.0);
    assert_eq!(xgb_logit(0.0), xgb_logit(1e-6));
    assert_eq!(xgb_logit(1.0), xgb_logit(1.0 - 1e-6));
    assert!(xgb_logit(0.9) > 0.0);
}

#[test]
fn argmax_takes_the_first_largest_and_softmax_sums_to_one() {
    let mut out = [0f32; 1];
    Transform::Argmax.apply_f32(&[1.0, 3.0, 3.0, 2.0], &mut out);
    assert_eq!(out, [1.0]);
    let mut p = [0f32; 3];
    Transform::Softmax.apply_f32(&[1.0, 2.0, 3.0], &mut p);
    assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    assert!(p[0] < p[1] && p[1] < p[2]);
    let mut d = [1.0, 2.0, 3.0];
    Transform::Softmax.apply_f64(&mut d);
    assert!((d.iter().sum::<f64>() - 1.0).abs() < 1e-15);
    assert!((f64::from(p[2]) - d[2]).abs() < 1e-6);
}

#[test]
fn lightgbm_transforms() {
    let mut v = [-2.0, 0.0, 3.0];
    Transform::SignedSquare.apply_f64(&mut v);
    assert_eq!(v, [-4.0, 0.0, 9.0]);
    let mut v = [0.0, 1.0];
    Transform::Logistic(2.0).apply_f64(&mut v);
    assert_eq!(v, [0.5, 1.0 / (1.0 + (-2.0f64).exp())]);
    let mut v = [0.0];
    Transform::Log1pExp.apply_f64(&mut v);
    assert_eq!(v, [std::f64::consts::LN_2]);
    assert_eq!(Transform::Argmax.width(3), 1);
    assert_eq!(Transform::Softmax.width(3), 3);
}
