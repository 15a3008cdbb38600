use std::borrow::Cow;

use super::*;

#[test]
fn bare_non_finite_numbers_become_strings_outside_strings_only() {
    let t = r#"{"a":[NaN,1E0,-Infinity,Infinity],"s":"NaN \" Infinity","n":-1}"#;
    assert_eq!(quote_non_finite(t), r#"{"a":["NaN",1E0,"-Infinity","Infinity"],"s":"NaN \" Infinity","n":-1}"#);
    assert!(matches!(quote_non_finite("{\"a\":[1,2]}"), Cow::Borrowed(_)));
}

#[test]
fn base_score_is_read_as_float32() {
    assert_eq!(base_score("5E-1", "b").unwrap(), vec![0.5f32]);
    assert_eq!(base_score("[5.5642533E-1]", "b").unwrap(), vec![5.564_253_3E-1_f32]);
    assert_eq!(base_score("[1E0,-2.5E-1]", "b").unwrap(), vec![1.0, -0.25]);
    assert_eq!(base_score("[x]", "b").unwrap_err().kind(), "corrupt_file");
}

#[test]
fn objectives() {
    assert_eq!(objective("reg:linear").unwrap().1, BoostTransform::Identity);
    assert_eq!(objective("survival:aft").unwrap().1, BoostTransform::Exp);
    assert_eq!((objective("binary:logistic").unwrap().0)(0.5), 0.0);
    assert_eq!((objective("count:poisson").unwrap().0)(1.0), 0.0);
    assert_eq!(objective("reg:future").unwrap_err().kind(), "unsupported");
}
