use super::*;

#[test]
fn blocks_cover_every_column_of_every_part_once() {
    let shape = OutputShape::List(vec![
        ("fit".into(), Part::Array(ArrayShape::matrix(3, None))),
        ("df".into(), Part::Number(7.0)),
        ("class".into(), Part::Array(ArrayShape::factor(vec!["a".into()]))),
    ]);
    let n = 10;
    let mut m = vec![0.0; 3 * n];
    let mut f = vec![0; n];
    let blocks = split_rows(vec![OutBuf::Real(&mut m), OutBuf::Int(&mut f)], &shape, n, 4).unwrap();
    assert_eq!(blocks.iter().map(|b| b.rows()).collect::<Vec<_>>(), vec![0..4, 4..8, 8..10]);
    for mut b in blocks {
        let rows = b.rows();
        for c in 0..3 {
            for (k, v) in b.real(c).iter_mut().enumerate() {
                *v = (c * 100 + rows.start + k) as f64;
            }
        }
        for (k, v) in b.int(3).iter_mut().enumerate() {
            *v = (rows.start + k) as i32;
        }
    }
    assert!(m.iter().enumerate().all(|(i, v)| *v == ((i / n) * 100 + i % n) as f64));
    assert!(f.iter().enumerate().all(|(i, v)| *v == i as i32));
}

#[test]
fn buffers_that_do_not_fit_the_shape_are_refused() {
    let shape: OutputShape = ArrayShape::vector().into();
    let mut short = vec![0.0; 3];
    assert!(split_rows(vec![OutBuf::Real(&mut short)], &shape, 4, 2).is_err());
    let mut ints = vec![0; 4];
    assert!(split_rows(vec![OutBuf::Int(&mut ints)], &shape, 4, 2).is_err());
    assert!(split_rows(vec![], &shape, 4, 2).is_err());
    let mut none: Vec<f64> = vec![];
    assert!(split_rows(vec![OutBuf::Real(&mut none)], &shape, 0, 2).unwrap().is_empty());
}
