use super::*;
use crate::format::{BoostTransform, BoostTree, InputType, ModelDoc, ModelKind, Producer};
use crate::model::Model;

fn tree(feature: &[i32], threshold: &[f64], left: &[i32], right: &[i32], value: &[f64]) -> BoostTree {
    BoostTree {
        group: 0,
        feature: feature.to_vec(),
        threshold: threshold.to_vec(),
        left: left.to_vec(),
        right: right.to_vec(),
        default_left: vec![0; feature.len()],
        value: value.to_vec(),
        missing: None,
        categorical: None,
        categories: None,
    }
}

/// A one-split tree: x0 below 0.5 (xgboost: `<`, LightGBM: `<=`) scores 1, else 2.
fn stump() -> BoostTree {
    tree(&[0, -1, -1], &[0.5, 0.0, 0.0], &[1, -1, -1], &[2, -1, -1], &[0.0, 1.0, 2.0])
}

fn spec(library: &str, trees: Vec<BoostTree>) -> BoostedSpec {
    let n = trees.len();
    BoostedSpec {
        library: library.into(),
        library_version: "test".into(),
        booster: if library == "xgboost" { "gbtree" } else { "gbdt" }.into(),
        objective: "test".into(),
        transform: BoostTransform::Identity,
        n_outputs: 1,
        base_margin: vec![0.25],
        iterations: (0..=n).collect(),
        trees,
        tree_weights: None,
        linear: None,
        average_output: false,
        best_iteration: None,
    }
}

fn doc(s: BoostedSpec) -> ModelDoc {
    ModelDoc {
        format: crate::format::FORMAT_NAME.into(),
        format_version: crate::format::format_version(),
        producer: Producer::default(),
        kind: ModelKind::Boosted,
        inputs: vec![
            InputSpec { name: "x0".into(), kind: InputType::Numeric, levels: None },
            InputSpec { name: "x1".into(), kind: InputType::Numeric, levels: None },
        ],
        linear: None,
        trees: None,
        glmnet: None,
        boosted: Some(s),
        card: None,
        extensions: Default::default(),
    }
}

fn predict(m: &Model, x0: &[f64], opts: &PredictOptions) -> Vec<f64> {
    let mut f = crate::frame::FrameBuf::new();
    f.push("x0", crate::frame::ColumnBuf::Real(x0.to_vec()));
    f.push("x1", crate::frame::ColumnBuf::Real(vec![0.0; x0.len()]));
    let frame = f.frame();
    let p = m.prepare(&frame, opts).unwrap().predict(1).unwrap();
    match &p.parts[0] {
        crate::output::Values::Real(v) => v.clone(),
        _ => unreachable!(),
    }
}

#[test]
fn the_two_libraries_split_at_the_threshold_differently() {
    let x = [0.25, 0.5, 0.75, f64::NAN];
    let xgb = Model::from_doc(doc(spec("xgboost", vec![stump()]))).unwrap();
    assert_eq!(predict(&xgb, &x, &PredictOptions::default()), [1.25, 2.25, 2.25, 2.25]);
    let lgb = Model::from_doc(doc(spec("lightgbm", vec![stump()]))).unwrap();
    assert_eq!(predict(&lgb, &x, &PredictOptions::default()), [1.25, 1.25, 2.25, 2.25]);
    // with missing type "none" a missing value is compared as 0
    let mut t = stump();
    t.missing = Some(vec![0, 2, 2]);
    let lgb = Model::from_doc(doc(spec("lightgbm", vec![t]))).unwrap();
    assert_eq!(predict(&lgb, &[f64::NAN], &PredictOptions::default()), [1.25]);
    // xgboost reads the input as a float32: the double just below 0.5
    // rounds to 0.5, which is not below it
    let below = f64::from_bits(0.5f64.to_bits() - 1);
    assert_eq!(predict(&xgb, &[below], &PredictOptions::default()), [2.25]);
    assert_eq!(predict(&lgb, &[below], &PredictOptions::default()), [1.25]);
}

#[test]
fn inconsistent_sections_are_refused() {
    type Edit = fn(&mut BoostedSpec);
    let cases: Vec<(&str, Edit, &str)> = vec![
        ("group", |s| s.trees[0].group = 1, "'group' 1"),
        ("lengths", |s| s.trees[0].value.pop().map_or((), |_| ()), "'value' has 2 entries for 3 nodes"),
        ("cycle", |s| s.trees[0].left[0] = 0, "node 0 is reached twice"),
        ("child", |s| s.trees[0].right[0] = 7, "right child 7"),
        ("feature", |s| s.trees[0].feature[0] = 2, "feature 2"),
        ("float32", |s| s.trees[0].threshold[0] = 0.1, "not a float32 value"),
        ("iterations", |s| s.iterations = vec![0, 2], "'iterations'"),
        ("base", |s| s.base_margin = vec![0.0, 1.0], "'base_margin' has 2 values"),
        ("argmax", |s| s.transform = BoostTransform::Argmax, "at least 2 outputs"),
        ("default_left", |s| s.trees[0].default_left[0] = 2, "'default_left' is 2"),
        ("NaN", |s| s.trees[0].threshold[0] = f64::NAN, "threshold NaN"),
        ("set", |s| s.trees[0].categorical = Some(vec![1, 0, 0]), "category set"),
        ("weights", |s| s.tree_weights = Some(vec![1.0, 2.0]), "'tree_weights'"),
        ("leaf", |s| s.trees[0].value[1] = f64::INFINITY, "non-finite"),
    ];
    for (what, edit, words) in cases {
        let mut s = spec("xgboost", vec![stump()]);
        edit(&mut s);
        let e = Model::from_doc(doc(s)).unwrap_err();
        assert!(e.to_string().contains(words), "{what}: {e}");
    }
    let mut s = spec("lightgbm", vec![stump()]);
    s.transform = BoostTransform::Hinge;
    assert_eq!(Model::from_doc(doc(s)).unwrap_err().kind(), "unsupported");
    let s = spec("catboost", vec![stump()]);
    assert_eq!(Model::from_doc(doc(s)).unwrap_err().kind(), "unsupported");
    let mut s = spec("lightgbm", vec![stump()]);
    s.trees[0].categorical = Some(vec![1, 0, 0]);
    s.trees[0].threshold[0] = 0.0;
    s.trees[0].categories = Some(vec![vec![1 << 24]]);
    assert_eq!(Model::from_doc(doc(s)).unwrap_err().kind(), "unsupported");
}

#[test]
fn deep_chains_take_the_general_layout() {
    // a chain of 30 splits: split i sends x <= i to a leaf of value i, the
    // rest to split i + 1; after the last, a leaf of 99. Padded to a
    // complete tree it would take 2^31 nodes.
    let n: usize = 30;
    let (mut f, mut t, mut l, mut r, mut v) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        f.push(0);
        t.push(i as f64);
        l.push((n + 1 + i) as i32);
        r.push(if i + 1 < n { (i + 1) as i32 } else { n as i32 });
        v.push(0.0);
    }
    for i in 0..=n {
        f.push(-1);
        t.push(0.0);
        l.push(-1);
        r.push(-1);
        v.push(if i == 0 { 99.0 } else { (i - 1) as f64 });
    }
    let m = Model::from_doc(doc(spec("lightgbm", vec![tree(&f, &t, &l, &r, &v)]))).unwrap();
    let x: Vec<f64> = (0..35).map(|i| i as f64 - 0.5).collect();
    let want: Vec<f64> = x.iter().map(|&x| 0.25 + if x < 29.5 { x.ceil().max(0.0) } else { 99.0 }).collect();
    for rows in [1, x.len()] {
        let got: Vec<f64> = x.chunks(rows).flat_map(|c| predict(&m, c, &PredictOptions::default())).collect();
        assert_eq!(got, want);
    }
    assert_eq!(m.info().facts["max_depth"], 30);
}
