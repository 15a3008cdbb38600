use super::*;

fn levels(v: &[&str]) -> Levels {
    Levels::new(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
}

#[test]
fn factor_levels_match_by_name_not_position() {
    let lv = levels(&["a", "b", "c"]);
    let codes = [1, 2, NA_INTEGER, 2];
    let col = Column::Factor { codes: &codes, levels: vec!["c", "a"] };
    let fc = FactorCodes::new(&col, "f", &lv, Unseen::Error).unwrap();
    assert_eq!((0..4).map(|r| fc.get(r)).collect::<Vec<_>>(), vec![2, 0, NA_CODE, 0]);
}

#[test]
fn unused_unseen_level_is_fine_used_one_is_not() {
    let lv = levels(&["a", "b"]);
    let codes = [1, 1];
    let col = Column::Factor { codes: &codes, levels: vec!["a", "zz"] };
    assert!(FactorCodes::new(&col, "f", &lv, Unseen::Error).is_ok());
    let codes = [1, 2];
    let col = Column::Factor { codes: &codes, levels: vec!["a", "zz"] };
    match FactorCodes::new(&col, "f", &lv, Unseen::Error) {
        Err(Error::UnseenLevel { column, level }) => assert_eq!((column.as_str(), level.as_str()), ("f", "zz")),
        _ => panic!("expected an unseen-level error"),
    }
    let fc = FactorCodes::new(&col, "f", &lv, Unseen::Missing).unwrap();
    assert_eq!(fc.get(1), NA_CODE);
}

#[test]
fn numbers_match_levels_like_as_character() {
    let lv = levels(&["4", "6", "8", "0.1", "1e+05"]);
    let x = [6.0, 0.1, 100000.0, 0.1 + 1e-17, f64::NAN];
    let fc = FactorCodes::new(&Column::Real(&x), "cyl", &lv, Unseen::Error).unwrap();
    assert_eq!((0..5).map(|r| fc.get(r)).collect::<Vec<_>>(), vec![1, 3, 4, 3, NA_CODE]);
    let bad = [6.000001];
    assert!(FactorCodes::new(&Column::Real(&bad), "cyl", &lv, Unseen::Error).is_err());
    let ints = [4, NA_INTEGER];
    let fc = FactorCodes::new(&Column::Int(&ints), "cyl", &lv, Unseen::Error).unwrap();
    assert_eq!(fc.get(0), 0);
}

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
