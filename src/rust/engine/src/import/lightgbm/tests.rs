use super::*;

#[test]
fn objective_lines() {
    assert_eq!(objective(Some("binary sigmoid:0.7")).unwrap().1, BoostTransform::Logistic { scale: 0.7 });
    assert_eq!(objective(Some("regression sqrt")).unwrap().1, BoostTransform::SignedSquare);
    assert_eq!(objective(Some("tweedie tweedie_variance_power:1.4")).unwrap().1, BoostTransform::Exp);
    assert_eq!(
        objective(Some("multiclassova num_class:3 sigmoid:1.3")).unwrap().1,
        BoostTransform::Logistic { scale: 1.3 }
    );
    assert_eq!(objective(None).unwrap().1, BoostTransform::None);
    assert_eq!(objective(Some("cross_entropy_lambda")).unwrap().1, BoostTransform::Log1pExp);
    assert_eq!(objective(Some("future")).unwrap_err().kind(), "unsupported");
}

#[test]
fn parameters_are_read_from_their_brackets() {
    let p = parameters(&["parameters:", "[boosting: rf]", "[categorical_feature: 1,2]", "end of parameters"]);
    assert_eq!(p["boosting"], "rf");
    assert_eq!(p["categorical_feature"], "1,2");
}
