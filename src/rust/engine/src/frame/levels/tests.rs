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
