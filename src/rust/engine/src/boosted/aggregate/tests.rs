use super::*;
use crate::output::{split_rows, ArrayShape, OutBuf, OutputShape};

#[test]
fn a_response_averages_rf_rounds_before_its_transform_and_a_margin_does_not() {
    let shape: OutputShape = ArrayShape::vector().into();
    for (margin, want) in [(false, 1.0 / (1.0 + (-0.5f64).exp())), (true, 2.0)] {
        let mut out = vec![0.0; 1];
        let mut blocks = split_rows(vec![OutBuf::Real(&mut out)], &shape, 1, 1).unwrap();
        let f = Finish { margin, transform: Transform::Logistic(1.0), k: 1, average: (!margin).then_some(4) };
        let mut acc = vec![0.0; 1];
        start(&mut acc, &[0.0], 1);
        acc[0] += 2.0;
        write_f64(&f, &mut acc, 1, &mut blocks[0], 0);
        drop(blocks);
        assert_eq!(out[0], want);
    }
}

#[test]
fn float32_sums_are_written_as_their_exact_doubles() {
    let shape: OutputShape = ArrayShape::matrix(2, None).into();
    let mut out = vec![0.0; 4];
    let mut blocks = split_rows(vec![OutBuf::Real(&mut out)], &shape, 2, 2).unwrap();
    let f = Finish { margin: true, transform: Transform::Identity, k: 2, average: None };
    let mut acc = vec![0.1f32, 0.2, 0.3, 0.4];
    write_f32(&f, &mut acc, 2, &mut blocks[0], 0);
    drop(blocks);
    // column-major: output 0 of both rows, then output 1
    assert_eq!(out, [f64::from(0.1f32), f64::from(0.3f32), f64::from(0.2f32), f64::from(0.4f32)]);
}
