use super::*;

#[test]
fn strings_read_as_numbers_like_as_numeric() {
    let s = [Some(" 4 "), Some("-0x1A"), Some("1e3"), Some("Inf"), Some("NA"), Some("abc"), None];
    let v: Vec<f64> = (0..s.len()).map(|r| NumView::Str(&s).get(r)).collect();
    assert_eq!(&v[..4], &[4.0, -26.0, 1000.0, f64::INFINITY]);
    assert!(v[4..].iter().all(|x| x.is_nan()));
}

#[test]
fn binding_checks_presence_type_and_length() {
    let inputs = Inputs::new(vec![
        InputSpec { name: "x".into(), kind: InputType::Numeric, levels: None },
        InputSpec { name: "f".into(), kind: InputType::Factor, levels: Some(vec!["a".into()]) },
    ])
    .unwrap();
    let x = [1.0, 2.0];
    let mut fr = Frame::new();
    fr.push("x", Column::Real(&x));
    assert!(matches!(inputs.bind(&fr), Err(Error::MissingColumn { .. })));
    fr.push("f", Column::Real(&x));
    assert!(matches!(inputs.bind(&fr), Err(Error::WrongType { .. })));
    let mut fr = Frame::new();
    fr.push("f", Column::Str(vec![Some("a")]));
    fr.push("x", Column::Real(&x));
    assert!(matches!(inputs.bind(&fr), Err(Error::LengthMismatch { .. })));
}
