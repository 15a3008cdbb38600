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
    // some levels where the model has them, some moved, one unknown
    let codes = [1, 2, 3, 4, 2];
    let col = Column::Factor { codes: &codes, levels: vec!["a", "c", "b", "zz"] };
    let fc = FactorCodes::new(&col, "f", &lv, Unseen::Missing).unwrap();
    assert_eq!((0..5).map(|r| fc.get(r)).collect::<Vec<_>>(), vec![0, 2, 1, NA_CODE, 2]);
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
fn codes_outside_the_levels_are_refused_wherever_they_fall() {
    let lv = levels(&["a", "b"]);
    let ok = |codes: &[i32]| {
        FactorCodes::new(&Column::Factor { codes, levels: vec!["a", "b"] }, "f", &lv, Unseen::Error).map(|_| ())
    };
    // long enough for the vectorised check's main loop and its tail
    let mut codes: Vec<i32> = (0..37).map(|i| [1, 2, NA_INTEGER][i % 3]).collect();
    let fc =
        FactorCodes::new(&Column::Factor { codes: &codes, levels: vec!["a", "b"] }, "f", &lv, Unseen::Error).unwrap();
    let mut seen = vec![];
    fc.each(3..9, |k, c| seen.push((k, c)));
    assert_eq!(seen, (3..9).enumerate().map(|(k, r)| (k, fc.get(r))).collect::<Vec<_>>());
    for (at, bad) in [(0, 0), (36, 3), (17, -1), (20, i32::MAX), (5, i32::MIN + 1)] {
        let keep = codes[at];
        codes[at] = bad;
        assert!(
            matches!(ok(&codes), Err(Error::BadArgument { detail }) if detail.contains(&format!("code {bad},"))),
            "{bad}"
        );
        codes[at] = keep;
    }
    let tf = levels(&["FALSE", "TRUE"]);
    let logical = |x: &[i32]| FactorCodes::new(&Column::Logical(x), "l", &tf, Unseen::Error).map(|_| ());
    assert!(logical(&[0, 1, NA_INTEGER, 1]).is_ok());
    assert!(logical(&[0, 1, 2]).is_err());
    assert!(logical(&[-1, 0]).is_err());
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
