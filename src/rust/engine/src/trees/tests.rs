use super::layout::{CAT, MASK};
use super::*;
use crate::format::*;
use crate::frame::{Column, Frame, NA_REAL};
use crate::model::Model;
use crate::output::OutBuf;

/// x < 0.5 ? (f in {a} ? 1 : 2) : 3, with a missing node 4 (value 9)
/// on the root, as gbm lays it out (left, right, missing).
fn doc(missing: MissingRule) -> ModelDoc {
    let tree = TreeSpec {
        feature: vec![0, -1, 1, -1, -1, -1],
        threshold: vec![0.5, 0.0, 0.0, 0.0, 0.0, 0.0],
        left: vec![2, -1, 3, -1, -1, -1],
        right: vec![5, -1, 1, -1, -1, -1],
        missing: if missing == MissingRule::Route { Some(vec![4, -1, -1, -1, -1, -1]) } else { None },
        value: vec![0.0, 2.0, 0.0, 1.0, 9.0, 3.0],
        probs: None,
        matrix: None,
        categories: Some(vec![CategorySet { left: vec![0], right: vec![1] }]),
        surrogates: None,
    };
    ModelDoc {
        format: crate::format::FORMAT_NAME.into(),
        format_version: crate::format::format_version(),
        producer: Producer::default(),
        kind: ModelKind::Trees,
        inputs: vec![
            InputSpec { name: "x".into(), kind: InputType::Numeric, levels: None },
            InputSpec {
                name: "f".into(),
                kind: InputType::Factor,
                levels: Some(vec!["a".into(), "b".into(), "c".into()]),
            },
        ],
        linear: None,
        glmnet: None,
        trees: Some(TreesSpec {
            algorithm: "gbm".into(),
            features: vec![
                FeatureSpec {
                    input: "x".into(),
                    kind: FeatureKind::Numeric,
                    levels: None,
                    code_offset: None,
                    unseen: None,
                },
                FeatureSpec {
                    input: "f".into(),
                    kind: FeatureKind::Categorical,
                    levels: Some(vec!["a".into(), "b".into(), "c".into()]),
                    code_offset: None,
                    unseen: None,
                },
            ],
            split: SplitRule::Lt,
            missing,
            nan: None,
            aggregation: Aggregation::Sum {
                init: vec![0.0],
                n_classes: 1,
                transform: "identity".into(),
                default_n_trees: 1,
            },
            types: vec!["link".into(), "response".into()],
            default_type: "link".into(),
            classes: None,
            trees: vec![tree],
        }),
        card: None,
        boosted: None,
        extensions: Default::default(),
    }
}

fn predict(m: &Model, x: &[f64], f: Vec<Option<&str>>) -> crate::error::Result<Vec<f64>> {
    let mut fr = Frame::new();
    fr.push("x", Column::Real(x));
    fr.push("f", Column::Str(f));
    let job = m.prepare(&fr, &PredictOptions::default())?;
    let mut out = vec![0.0; job.nrows()];
    job.run(vec![OutBuf::Real(&mut out)], 1)?;
    Ok(out)
}

#[test]
fn routes_numeric_categorical_and_missing() {
    let m = Model::from_doc(doc(MissingRule::Route)).unwrap();
    let out = predict(
        &m,
        &[0.1, 0.1, 0.7, f64::NAN, 0.5, 0.1],
        vec![Some("a"), Some("b"), Some("a"), Some("a"), Some("b"), Some("c")],
    )
    .unwrap();
    // "c" is in neither set: the categorical node has no missing route, so it stops there (value 0)
    assert_eq!(out, vec![1.0, 2.0, 3.0, 9.0, 3.0, 0.0]);
}

#[test]
fn full_partitions_walk_by_inline_mask() {
    let mut d = doc(MissingRule::Route);
    if let Some(t) = d.trees.as_mut() {
        t.trees[0].categories = Some(vec![CategorySet { left: vec![0, 2], right: vec![1] }]);
    }
    let inputs = Inputs::new(d.inputs.clone()).unwrap();
    let tm = TreeModel::new(d.trees.as_ref().unwrap(), &inputs).unwrap();
    assert!(tm.trees[0].nodes.iter().any(|n| n.feature & MASK != 0 && n.feature & CAT == 0));
    let m = Model::from_doc(d).unwrap();
    let out = predict(&m, &[0.1, 0.1, 0.1, 0.1], vec![Some("a"), Some("b"), Some("c"), None]).unwrap();
    // a missing level has no route at that node: the walk stops there (value 0)
    assert_eq!(out, vec![1.0, 2.0, 1.0, 0.0]);
}

#[test]
fn missing_rules_na_row_and_error() {
    let mut d = doc(MissingRule::NaRow);
    if let Some(t) = d.trees.as_mut() {
        t.aggregation = Aggregation::Mean { bias: None };
        t.types = vec!["response".into()];
        t.default_type = "response".into();
    }
    let m = Model::from_doc(d.clone()).unwrap();
    let out = predict(&m, &[0.1, f64::NAN], vec![Some("a"), Some("a")]).unwrap();
    assert_eq!(out[0], 1.0);
    assert!(out[1].is_nan());
    if let Some(t) = d.trees.as_mut() {
        t.missing = MissingRule::Error;
    }
    let m = Model::from_doc(d).unwrap();
    assert!(predict(&m, &[0.1, f64::NAN], vec![Some("a"), Some("a")]).is_err());
}

/// rpart-like: x < 0.5 ? 1 : 2 at the root (value 0), with a surrogate
/// on z (z < 3 goes right) and no majority child; a categorical input u
/// that no split reads.
fn surrogate_doc() -> ModelDoc {
    let mut d = doc(MissingRule::Route);
    d.inputs.push(InputSpec { name: "z".into(), kind: InputType::Numeric, levels: None });
    let t = d.trees.as_mut().unwrap();
    t.algorithm = "rpart".into();
    t.features = vec![
        FeatureSpec { input: "x".into(), kind: FeatureKind::Numeric, levels: None, code_offset: None, unseen: None },
        FeatureSpec { input: "z".into(), kind: FeatureKind::Numeric, levels: None, code_offset: None, unseen: None },
        FeatureSpec {
            input: "f".into(),
            kind: FeatureKind::Categorical,
            levels: Some(vec!["a".into(), "b".into(), "c".into()]),
            code_offset: None,
            unseen: None,
        },
    ];
    t.aggregation = Aggregation::Single;
    t.types = vec!["vector".into()];
    t.default_type = "vector".into();
    t.trees = vec![TreeSpec {
        feature: vec![0, -1, -1],
        threshold: vec![0.5, 0.0, 0.0],
        left: vec![1, -1, -1],
        right: vec![2, -1, -1],
        missing: Some(vec![-1, -1, -1]),
        value: vec![0.0, 1.0, 2.0],
        probs: None,
        matrix: None,
        categories: None,
        surrogates: Some(Surrogates {
            start: vec![0, 1, 1, 1],
            feature: vec![1],
            threshold: vec![3.0],
            less_left: vec![false],
        }),
    }];
    d
}

fn predict_xz(m: &Model, x: &[f64], z: &[f64]) -> Vec<f64> {
    let mut fr = Frame::new();
    fr.push("x", Column::Real(x));
    fr.push("z", Column::Real(z));
    fr.push("f", Column::Str(vec![Some("a"); x.len()]));
    let job = m.prepare(&fr, &PredictOptions::default()).unwrap();
    let mut out = vec![0.0; job.nrows()];
    job.run(vec![OutBuf::Real(&mut out)], 1).unwrap();
    out
}

#[test]
fn routed_numeric_nodes_compare_strictly_and_route_only_missing_values() {
    let m = Model::from_doc(surrogate_doc()).unwrap();
    let nan = f64::NAN;
    let x = [0.5, 0.4999, f64::NEG_INFINITY, f64::INFINITY, nan, nan, nan, 0.1];
    let z = [9.0, 9.0, 9.0, 9.0, 1.0, 5.0, nan, nan];
    assert_eq!(predict_xz(&m, &x, &z), vec![2.0, 1.0, 1.0, 2.0, 2.0, 1.0, 0.0, 1.0]);
}

/// The features a block loads for every row, and those it loads lazily.
fn plan_of(d: &ModelDoc) -> (Vec<usize>, Vec<usize>) {
    let m = TreeModel::new(d.trees.as_ref().unwrap(), &Inputs::new(d.inputs.clone()).unwrap()).unwrap();
    let features = |v: &[(usize, usize)]| v.iter().map(|p| p.0).collect();
    (features(&m.load.eager), features(&m.load.lazy))
}

#[test]
fn surrogate_only_features_load_for_rows_with_a_missing_value() {
    // x is read by the split, z only by its surrogate, f by nothing
    let d = surrogate_doc();
    assert_eq!(plan_of(&d), (vec![0], vec![1]));
    let m = Model::from_doc(d.clone()).unwrap();
    let nan = f64::NAN;
    // more than one block of rows, missing values scattered
    let n = 1500;
    let x: Vec<f64> = (0..n).map(|i| if i % 7 == 0 { nan } else { (i % 10) as f64 / 10.0 }).collect();
    let z: Vec<f64> = (0..n).map(|i| if i % 11 == 0 { nan } else { (i % 6) as f64 }).collect();
    let want: Vec<f64> = (0..n)
        .map(|i| match (x[i].is_nan(), z[i].is_nan()) {
            (false, _) => {
                if x[i] < 0.5 {
                    1.0
                } else {
                    2.0
                }
            }
            (true, false) => {
                if z[i] < 3.0 {
                    2.0
                } else {
                    1.0
                }
            }
            (true, true) => 0.0,
        })
        .collect();
    assert_eq!(predict_xz(&m, &x, &z), want);

    // a categorical split that leaves "c" in neither set: "c" consults
    // the surrogate without any missing value, so z is loaded always
    let mut d = d;
    let t = d.trees.as_mut().unwrap();
    t.trees[0].feature[0] = 2;
    t.trees[0].threshold[0] = 0.0;
    t.trees[0].categories = Some(vec![CategorySet { left: vec![0], right: vec![1] }]);
    assert_eq!(plan_of(&d), (vec![1, 2], vec![]));
    let m = Model::from_doc(d).unwrap();
    let mut fr = Frame::new();
    let (x, z) = ([0.0; 4], [1.0, 5.0, nan, 1.0]);
    fr.push("x", Column::Real(&x));
    fr.push("z", Column::Real(&z));
    fr.push("f", Column::Str(vec![Some("c"), Some("c"), Some("c"), Some("a")]));
    let job = m.prepare(&fr, &PredictOptions::default()).unwrap();
    let mut out = vec![0.0; 4];
    job.run(vec![OutBuf::Real(&mut out)], 1).unwrap();
    assert_eq!(out, vec![2.0, 1.0, 0.0, 1.0]);
}

#[test]
fn lanes_reach_the_same_leaves_as_single_rows() {
    let m = Model::from_doc(doc(MissingRule::Route)).unwrap();
    let x = [0.1, 0.7, f64::NAN, 0.5, 0.1, 0.1, 0.9, 0.2, 0.3, 0.6, f64::NAN, 0.0, 0.4, 0.8, 0.1, 0.7, 0.2];
    let f = ["a", "b", "c", "a", "b", "c", "a", "b", "c", "a", "b", "c", "a", "b", "c", "a", "b"];
    let all = predict(&m, &x, f.iter().map(|s| Some(*s)).collect()).unwrap();
    for (k, v) in all.iter().enumerate() {
        assert_eq!(*v, predict(&m, &x[k..k + 1], vec![Some(f[k])]).unwrap()[0], "row {k}");
    }
}

#[test]
fn nan_compare_sends_only_na_to_the_missing_child() {
    let mut d = doc(MissingRule::Route);
    if let Some(t) = d.trees.as_mut() {
        t.nan = Some(NanRule::Compare);
    }
    let m = Model::from_doc(d).unwrap();
    // NA takes the missing child; another NaN fails `x < 0.5` and goes right
    let out = predict(&m, &[NA_REAL, f64::NAN, 0.1], vec![Some("a"), Some("a"), None]).unwrap();
    assert_eq!(out, vec![9.0, 3.0, 0.0]);
}

#[test]
fn sum_adds_trees_to_init_in_order_and_names_each_n_trees() {
    let mut d = doc(MissingRule::Route);
    if let Some(t) = d.trees.as_mut() {
        t.trees[0].value = vec![0.0, 1.0, 0.0, 1.0, 1.0, 1.0];
        t.trees.push(t.trees[0].clone());
        t.aggregation =
            Aggregation::Sum { init: vec![1e16], n_classes: 1, transform: "identity".into(), default_n_trees: 2 };
    }
    let m = Model::from_doc(d).unwrap();
    let x = [0.1];
    let mut fr = Frame::new();
    fr.push("x", Column::Real(&x));
    fr.push("f", Column::Str(vec![Some("a")]));
    let opts = PredictOptions { n_trees: Some(vec![2, 1]), ..Default::default() };
    let job = m.prepare(&fr, &opts).unwrap();
    assert_eq!(job.shape().array().unwrap().dimnames, Some(vec![None, Some(vec!["2".to_string(), "1".to_string()])]));
    let mut out = vec![0.0; 2];
    job.run(vec![OutBuf::Real(&mut out)], 1).unwrap();
    // (1e16 + 1) + 1 rounds back to 1e16 at each step; 1e16 + (1 + 1) would not
    assert_eq!(out, vec![1e16, 1e16]);
}

#[test]
fn documents_that_would_predict_wrongly_are_refused() {
    let refused = |edit: &dyn Fn(&mut TreesSpec)| {
        let mut d = doc(MissingRule::Route);
        if let Some(t) = d.trees.as_mut() {
            edit(t);
        }
        Model::from_doc(d).is_err()
    };
    let votes = |t: &mut TreesSpec| {
        t.aggregation = Aggregation::Votes { cutoff: None };
        t.types = vec!["response".into()];
        t.default_type = "response".into();
        t.classes = Some(vec!["p".into(), "q".into(), "r".into()]);
        t.missing = MissingRule::NaRow;
        t.trees[0].missing = None;
        t.trees[0].value[4] = 1.0;
    };
    // the base document for these edits is valid
    assert!(!refused(&|t| votes(t)));
    assert!(refused(&|t| {
        votes(t);
        t.aggregation = Aggregation::Votes { cutoff: Some(vec![0.5, 0.5]) };
    }));
    assert!(refused(&|t| {
        votes(t);
        t.trees[0].value[5] = 4.0;
    }));
    assert!(refused(&|t| t.missing = MissingRule::NaRow));
    assert!(refused(&|t| t.features[1].code_offset = Some(1.0)));
}

#[test]
fn malformed_trees_are_refused() {
    let mut d = doc(MissingRule::Route);
    if let Some(t) = d.trees.as_mut() {
        t.trees[0].left[0] = 0;
    }
    assert!(Model::from_doc(d).is_err());
    let mut d = doc(MissingRule::Route);
    if let Some(t) = d.trees.as_mut() {
        t.trees[0].right[2] = 3;
    }
    assert!(Model::from_doc(d).is_err());
}

/// A boosted sum of `n_trees` depth-2 trees on `width` numeric inputs,
/// splits and values drawn from `next`.
fn wide_sum_doc(width: usize, n_trees: usize, next: &mut impl FnMut() -> f64) -> ModelDoc {
    let mut d = doc(MissingRule::Error);
    let names: Vec<String> = (0..width).map(|k| format!("x{k}")).collect();
    d.inputs = names.iter().map(|n| InputSpec { name: n.clone(), kind: InputType::Numeric, levels: None }).collect();
    let t = d.trees.as_mut().unwrap();
    t.features = names
        .iter()
        .map(|n| FeatureSpec {
            input: n.clone(),
            kind: FeatureKind::Numeric,
            levels: None,
            code_offset: None,
            unseen: None,
        })
        .collect();
    t.aggregation =
        Aggregation::Sum { init: vec![0.25], n_classes: 1, transform: "identity".into(), default_n_trees: n_trees };
    t.trees = (0..n_trees)
        .map(|_| {
            let mut feature: Vec<i32> = (0..3).map(|_| (next() * width as f64) as i32).collect();
            feature.extend([-1; 4]);
            TreeSpec {
                feature,
                threshold: (0..7).map(|k| if k < 3 { next() } else { 0.0 }).collect(),
                left: vec![1, 3, 5, -1, -1, -1, -1],
                right: vec![2, 4, 6, -1, -1, -1, -1],
                missing: None,
                value: (0..7).map(|_| next() - 0.5).collect(),
                probs: None,
                matrix: None,
                categories: None,
                surrogates: None,
            }
        })
        .collect();
    d
}

/// Uniform draws in [0, 1) from a linear congruential stream.
fn uniform(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn shallow_sums_of_narrow_and_wide_rows_follow_the_trees_in_order() {
    let mut next = uniform(7);
    // 20 slots fit the fixed row array of the lockstep sum; 70 do not
    for width in [20, 70] {
        let d = wide_sum_doc(width, 150, &mut next);
        let rows = 37;
        let cols: Vec<Vec<f64>> = (0..width).map(|_| (0..rows).map(|_| next()).collect()).collect();
        let t = d.trees.as_ref().unwrap();
        let m = Model::from_doc(d.clone()).unwrap();
        let mut fr = Frame::new();
        for (k, c) in cols.iter().enumerate() {
            fr.push(&t.features[k].input, Column::Real(c));
        }
        let job = m.prepare(&fr, &PredictOptions::default()).unwrap();
        let mut out = vec![0.0; rows];
        job.run(vec![OutBuf::Real(&mut out)], 1).unwrap();
        for (r, got) in out.iter().enumerate() {
            let mut want = 0.25;
            for tree in &t.trees {
                let mut i = 0;
                while tree.feature[i] >= 0 {
                    let x = cols[tree.feature[i] as usize][r];
                    i = if x < tree.threshold[i] { tree.left[i] } else { tree.right[i] } as usize;
                }
                want += tree.value[i];
            }
            assert_eq!(got.to_bits(), want.to_bits(), "width {width}, row {r}");
        }
    }
}

/// A forest too deep for the shallow walk, whose splits read a number at
/// thresholds that share values and neighbours, and a 40-level factor by
/// full partitions (mask splits, codes above 32 among them); if `routed`,
/// also by sets that leave codes out, and with missing-value children (else
/// missing values are refused, and its trees may be all plain splits).
fn deep_forest_doc(le: bool, routed: bool, next: &mut impl FnMut() -> f64) -> ModelDoc {
    let mut d = doc(if routed { MissingRule::Route } else { MissingRule::Error });
    let levels: Vec<String> = (0..40).map(|k| format!("l{k}")).collect();
    d.inputs[1].levels = Some(levels.clone());
    let t = d.trees.as_mut().unwrap();
    t.features[1].levels = Some(levels);
    t.split = if le { SplitRule::Le } else { SplitRule::Lt };
    let cuts = [0.5, -0.0, 0.0, 1.0, f64::MAX, -f64::MAX, 1e300, 0.5 + f64::EPSILON / 2.0, 0.25];
    let n_trees = 6;
    t.aggregation =
        Aggregation::Sum { init: vec![0.0], n_classes: 1, transform: "identity".into(), default_n_trees: n_trees };
    t.trees = (0..n_trees)
        .map(|k| {
            let mut tree = TreeSpec {
                feature: Vec::new(),
                threshold: Vec::new(),
                left: Vec::new(),
                right: Vec::new(),
                missing: routed.then(Vec::new),
                value: Vec::new(),
                probs: None,
                matrix: None,
                categories: Some(Vec::new()),
                surrogates: None,
            };
            // nodes in the order made, each with its depth
            let mut open = vec![(0usize, 0usize)];
            let push = |tree: &mut TreeSpec| {
                tree.feature.push(-1);
                tree.threshold.push(0.0);
                tree.left.push(-1);
                tree.right.push(-1);
                if let Some(m) = tree.missing.as_mut() {
                    m.push(-1);
                }
                tree.value.push(((tree.value.len() + 1) * 1000usize.pow(k as u32 % 3)) as f64);
                tree.value.len() - 1
            };
            push(&mut tree);
            while let Some((i, depth)) = open.pop() {
                if depth >= 10 || (depth > 2 && next() < 0.25) {
                    continue;
                }
                let (l, r) = (push(&mut tree), push(&mut tree));
                tree.left[i] = l as i32;
                tree.right[i] = r as i32;
                if next() < 0.3 {
                    let sets = tree.categories.as_mut().unwrap();
                    let mut set = CategorySet { left: Vec::new(), right: Vec::new() };
                    let gaps = next() < 0.3 && routed;
                    for code in 0..40 {
                        match next() {
                            u if gaps && u < 0.1 => {}
                            u if u < 0.5 => set.left.push(code),
                            _ => set.right.push(code),
                        }
                    }
                    sets.push(set);
                    tree.feature[i] = 1;
                    tree.threshold[i] = (sets.len() - 1) as f64;
                } else {
                    tree.feature[i] = 0;
                    tree.threshold[i] = cuts[(next() * cuts.len() as f64) as usize];
                }
                if routed && next() < 0.2 {
                    let m = push(&mut tree);
                    tree.missing.as_mut().unwrap()[i] = m as i32;
                }
                open.extend([(l, depth + 1), (r, depth + 1)]);
            }
            tree
        })
        .collect();
    d
}

#[test]
fn compact_forest_walks_reach_the_nodes_of_the_general_walk() {
    let mut next = uniform(11);
    let up = |x: f64| if x == 0.0 { f64::from_bits(1) } else { f64::from_bits(x.to_bits() + 1) };
    let down = |x: f64| f64::from_bits(x.to_bits() - 1);
    let xs = [
        0.5,
        up(0.5),
        down(0.5),
        0.5 + f64::EPSILON / 2.0,
        -0.0,
        0.0,
        up(0.0),
        -f64::from_bits(1),
        1.0,
        down(1.0),
        f64::INFINITY,
        f64::NEG_INFINITY,
        1e300,
        f64::MAX,
        0.25,
        f64::NAN,
        NA_REAL,
    ];
    // (the last two values are missing)
    for (le, routed) in [(true, true), (false, true), (true, false)] {
        let d = deep_forest_doc(le, routed, &mut next);
        let spec = d.trees.as_ref().unwrap();
        let inputs = crate::frame::bind::Inputs::new(d.inputs.clone()).unwrap();
        let tm = TreeModel::new(spec, &inputs).unwrap();
        assert!(tm.shallow.is_none() && tm.compact.is_some());
        let m = Model::from_doc(d.clone()).unwrap();
        let rows = 300;
        let (values, codes) = if routed { (xs.len(), 42.0) } else { (xs.len() - 2, 40.0) };
        let x: Vec<f64> = (0..rows).map(|_| xs[(next() * values as f64) as usize]).collect();
        let names: Vec<String> = (0..40).map(|k| format!("l{k}")).collect();
        let f: Vec<Option<&str>> =
            (0..rows).map(|_| names.get((next() * codes) as usize).map(|s| s.as_str())).collect();
        let all = predict(&m, &x, f.clone()).unwrap();
        // one row walks its trees on the general walk
        for (r, v) in all.iter().enumerate() {
            let alone = predict(&m, &x[r..r + 1], vec![f[r]]).unwrap()[0];
            assert_eq!(v.to_bits(), alone.to_bits(), "le {le}, routed {routed}, row {r}: x {}, f {:?}", x[r], f[r]);
        }
    }
}
