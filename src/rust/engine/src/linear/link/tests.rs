use super::*;

#[test]
fn known_values() {
    assert_eq!(Link::Logit.inverse(0.0), 0.5);
    assert!((pnorm(1.959963984540054) - 0.975).abs() < 1e-15);
    assert!((pnorm(-8.0) - 6.220960574271785e-16).abs() < 1e-28);
    assert_eq!(Link::Cauchit.inverse(0.0), 0.5);
    assert_eq!(Link::Log.inverse(-1000.0), f64::EPSILON);
    assert_eq!(Link::Sqrt.inverse(3.0), 9.0);
    assert!(Link::from_name("power(2)").is_err());
}
