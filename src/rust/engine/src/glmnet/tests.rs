use crate::format::{
    format_version, CvChoice, GlmnetFamily, GlmnetSpec, InputSpec, InputType, ModelDoc, ModelKind, Producer,
    SparseColumns, FORMAT_NAME,
};
use crate::frame::{is_r_na, Column, Frame, NA_INTEGER, NA_REAL};
use crate::model::{Model, Numbers, Penalty, PredictOptions};
use crate::output::{Prediction, ValueKind, Values};

/// Three features, three lambdas. Column 0 stores nothing, column 1 the
/// first feature, column 2 the first and the third.
fn spec(family: GlmnetFamily) -> GlmnetSpec {
    let beta = SparseColumns { p: vec![0, 0, 1, 3], i: vec![0, 0, 2], x: vec![0.5, 1.0, -2.0] };
    let multi = matches!(family, GlmnetFamily::Multnet | GlmnetFamily::Mrelnet);
    let n_resp = if multi { 2 } else { 1 };
    GlmnetSpec {
        family,
        types: vec!["link".into(), "response".into()],
        default_type: "link".into(),
        lambda: vec![1.0, 0.5, 0.25],
        a0: if family == GlmnetFamily::Coxnet {
            vec![]
        } else {
            (0..n_resp).map(|c| vec![0.1 * (c + 1) as f64, 0.2, 0.3]).collect()
        },
        beta: (0..n_resp)
            .map(|c| SparseColumns { x: beta.x.iter().map(|v| v * (1.0 - 2.0 * c as f64)).collect(), ..beta.clone() })
            .collect(),
        classes: match family {
            GlmnetFamily::Lognet => Some(vec!["no".into(), "yes".into()]),
            _ if multi => Some(vec!["a".into(), "b".into()]),
            _ => None,
        },
        grouped: None,
        offset: false,
        by_position: false,
        cv: None,
    }
}

fn doc(spec: GlmnetSpec) -> ModelDoc {
    ModelDoc {
        format: FORMAT_NAME.into(),
        format_version: format_version(),
        producer: Producer { name: "test".into(), version: "0".into(), ..Producer::default() },
        kind: ModelKind::Glmnet,
        inputs: ["x1", "x2", "x3"]
            .iter()
            .map(|n| InputSpec { name: n.to_string(), kind: InputType::Numeric, levels: None })
            .collect(),
        linear: None,
        trees: None,
        card: None,
        glmnet: Some(spec),
        boosted: None,
        extensions: Default::default(),
    }
}

fn model(spec: GlmnetSpec) -> Model {
    Model::from_doc(doc(spec)).unwrap()
}

const X1: [f64; 4] = [1.0, 2.0, NA_REAL, 0.5];
const X2: [f64; 4] = [NA_REAL, 5.0, 1.0, 1.0];
const X3: [f64; 4] = [3.0, 0.0, 1.0, -1.0];

fn frame() -> Frame<'static> {
    let mut f = Frame::new();
    f.push("x1", Column::Real(&X1));
    f.push("x2", Column::Real(&X2));
    f.push("x3", Column::Real(&X3));
    f
}

fn predict(m: &Model, opts: PredictOptions) -> crate::Result<Prediction> {
    let f = frame();
    let p = m.prepare(&f, &opts)?.predict(2);
    p
}

fn reals(p: &Prediction) -> &[f64] {
    match &p.parts[0] {
        Values::Real(v) => v,
        Values::Int(_) => panic!("integer output"),
    }
}

/// The values' bit patterns (NA equals NA).
fn bits(p: &Prediction) -> Vec<u64> {
    reals(p).iter().map(|v| v.to_bits()).collect()
}

fn ints(p: &Prediction) -> &[i32] {
    match &p.parts[0] {
        Values::Int(v) => v,
        Values::Real(_) => panic!("real output"),
    }
}

fn at(s: &[f64]) -> PredictOptions {
    PredictOptions { s: Some(Penalty::Values { values: s.to_vec(), names: None }), ..Default::default() }
}

#[test]
fn the_path_adds_the_stored_products_in_order() {
    let m = model(spec(GlmnetFamily::Elnet));
    let p = predict(&m, PredictOptions::default()).unwrap();
    let v = reals(&p);
    let dim = p.shape.array().unwrap().dim.clone().unwrap();
    assert_eq!(dim, vec![4, 3]);
    // column s0: the intercept alone, whatever the row holds
    assert_eq!(&v[0..4], &[0.1; 4]);
    // column s1: intercept + 0.5 * x1
    assert_eq!(v[4], 0.2 + 1.0 * 0.5);
    assert!(is_r_na(v[6]));
    // column s2: (0 + 0.3) + x1 * 1 + x3 * -2; x2 is not stored, so its NA does not count
    assert_eq!(v[8], ((0.0 + 0.3) + 1.0 * 1.0) + 3.0 * -2.0);
    assert_eq!(v[11], ((0.0 + 0.3) + 0.5 * 1.0) + 2.0);
    let names = p.shape.array().unwrap().dimnames.clone().unwrap()[1].clone().unwrap();
    assert_eq!(names, vec!["s0", "s1", "s2"]);
}

#[test]
fn between_lambdas_the_coefficients_of_both_columns_count() {
    let m = model(spec(GlmnetFamily::Elnet));
    // between 0.5 and 0.25: about half of column 1 and half of column 2
    let p = predict(&m, at(&[0.375, 0.5, 9.0, 0.01])).unwrap();
    let v = reals(&p);
    let lambda = [1.0, 0.5, 0.25];
    let (l, r, frac) = super::interp::interp(&lambda, &super::interp::normalise(&lambda), 0.375);
    assert_eq!((l, r), (1, 2));
    assert!((frac - 0.5).abs() < 1e-15);
    let b1 = 0.5 * frac + 1.0 * (1.0 - frac);
    let b3 = -2.0 * (1.0 - frac);
    let a0 = 0.2 * frac + 0.3 * (1.0 - frac);
    assert_eq!(v[1], ((0.0 + a0) + 2.0 * b1) + 0.0 * b3);
    // x3 is stored in the right column only, so its value counts
    assert_eq!(v[3], ((0.0 + a0) + 0.5 * b1) + (-b3));
    // on the path: column 1 alone; above: column 0; below: column 2
    assert_eq!(v[4 + 1], 0.2 + 2.0 * 0.5);
    assert_eq!(&v[8..12], &[0.1; 4]);
    assert_eq!(v[12 + 1], ((0.0 + 0.3) + 2.0) + 0.0);
    let names = p.shape.array().unwrap().dimnames.clone().unwrap()[1].clone().unwrap();
    assert_eq!(names, vec!["s1", "s2", "s3", "s4"]);
}

#[test]
fn sparse_columns_predict_as_dense_ones() {
    let m = model(spec(GlmnetFamily::Lognet));
    let dense = predict(&m, at(&[0.3, 0.7])).unwrap();
    // x3 = [3, 0, 1, -1] as a sparse column
    let rows = [0, 2, 3];
    let vals = [3.0, 1.0, -1.0];
    let mut f = Frame::new();
    f.push("x1", Column::Real(&X1));
    f.push("x2", Column::Real(&X2));
    f.push("x3", Column::Sparse { nrows: 4, rows: &rows, values: &vals });
    let sparse = m.prepare(&f, &at(&[0.3, 0.7])).unwrap().predict(1).unwrap();
    assert_eq!(bits(&dense), bits(&sparse));
    // rows out of order are refused
    let bad = [2, 0, 3];
    let mut f = Frame::new();
    f.push("x1", Column::Real(&X1));
    f.push("x2", Column::Real(&X2));
    f.push("x3", Column::Sparse { nrows: 4, rows: &bad, values: &vals });
    assert!(m.prepare(&f, &at(&[0.3])).is_err());
}

#[test]
fn responses_and_classes() {
    let mut s = spec(GlmnetFamily::Lognet);
    s.types.push("class".into());
    let m = model(s);
    let opts = |ty: &str| PredictOptions { type_: Some(ty.into()), ..at(&[0.25]) };
    let link = predict(&m, opts("link")).unwrap();
    let resp = predict(&m, opts("response")).unwrap();
    for (r, l) in reals(&resp).iter().zip(reals(&link)) {
        assert!(r.to_bits() == (1.0 / (1.0 + (-l).exp())).to_bits() || (r.is_nan() && l.is_nan()));
    }
    let class = predict(&m, opts("class")).unwrap();
    assert!(matches!(&class.shape.array().unwrap().values, ValueKind::Character(c) if c[1] == "yes"));
    let want: Vec<i32> = reals(&link)
        .iter()
        .map(|&l| {
            if l > 0.0 {
                2
            } else if l <= 0.0 {
                1
            } else {
                NA_INTEGER
            }
        })
        .collect();
    assert_eq!(ints(&class), want.as_slice());

    let mut s = spec(GlmnetFamily::Multnet);
    s.types.push("class".into());
    let m = model(s);
    let p = predict(&m, PredictOptions { type_: Some("response".into()), ..at(&[0.3]) }).unwrap();
    assert_eq!(p.shape.array().unwrap().dim, Some(vec![4, 2, 1]));
    let v = reals(&p);
    assert!((v[1] + v[5] - 1.0).abs() < 1e-15);
    let c = predict(&m, PredictOptions { type_: Some("class".into()), ..at(&[0.3]) }).unwrap();
    // classes b and a mirror each other; a row whose link is missing has no class
    assert_eq!(ints(&c)[2], NA_INTEGER);
}

#[test]
fn cv_rules_offsets_and_exact() {
    let mut s = spec(GlmnetFamily::Fishnet);
    s.cv = Some(CvChoice { lambda_min: 0.25, lambda_1se: 0.5 });
    s.offset = true;
    let m = model(s);
    let off = Some(Numbers { values: vec![1.0, 2.0, 3.0, 4.0], dim: None });
    let default = predict(&m, PredictOptions { newoffset: off.clone(), ..Default::default() }).unwrap();
    let one_se = predict(
        &m,
        PredictOptions { newoffset: off.clone(), s: Some(Penalty::Rule("lambda.1se".into())), ..Default::default() },
    )
    .unwrap();
    assert_eq!(bits(&default), bits(&one_se));
    assert_eq!(reals(&default)[1], (0.2 + 2.0 * 0.5) + 2.0);
    assert_eq!(default.shape.array().unwrap().dimnames.clone().unwrap()[1], Some(vec!["lambda.1se".to_string()]));
    let bad_rule =
        PredictOptions { newoffset: off.clone(), s: Some(Penalty::Rule("lambda.max".into())), ..Default::default() };
    assert_eq!(predict(&m, bad_rule).unwrap_err().kind(), "bad_argument");
    // no newoffset, or one of the wrong length
    assert_eq!(predict(&m, at(&[0.3])).unwrap_err().kind(), "bad_argument");
    let short = Some(Numbers { values: vec![1.0], dim: None });
    assert_eq!(predict(&m, PredictOptions { newoffset: short, ..at(&[0.3]) }).unwrap_err().kind(), "bad_argument");
    // exact = TRUE: only where every s is on the path
    let exact = |s: &[f64]| PredictOptions { exact: Some(true), newoffset: off.clone(), ..at(s) };
    assert!(predict(&m, exact(&[0.5, 0.25])).is_ok());
    assert_eq!(predict(&m, exact(&[0.3])).unwrap_err().kind(), "unsupported");
}

#[test]
fn bad_penalties_are_refused() {
    let m = model(spec(GlmnetFamily::Coxnet));
    assert_eq!(predict(&m, at(&[])).unwrap_err().kind(), "bad_argument");
    assert_eq!(predict(&m, at(&[f64::NAN])).unwrap_err().kind(), "bad_argument");
    let rule = PredictOptions { s: Some(Penalty::Rule("lambda.min".into())), ..Default::default() };
    assert_eq!(predict(&m, rule).unwrap_err().kind(), "bad_argument");
    // coxnet has no intercept and names its columns 1, 2, ...
    let p = predict(&m, at(&[0.25, 2.0])).unwrap();
    assert_eq!(reals(&p)[1], 0.0 + 2.0 * 1.0 + 0.0 * -2.0);
    assert_eq!(p.shape.array().unwrap().dimnames.clone().unwrap()[1], Some(vec!["1".to_string(), "2".to_string()]));
}

#[test]
fn inconsistent_documents_are_refused() {
    let refused = |edit: &dyn Fn(&mut GlmnetSpec)| {
        let mut s = spec(GlmnetFamily::Elnet);
        edit(&mut s);
        Model::from_doc(doc(s)).is_err()
    };
    assert!(!refused(&|_| {}));
    assert!(refused(&|s| s.lambda = vec![1.0, 1.0, 0.25]));
    assert!(refused(&|s| s.lambda = vec![0.25, 0.5, 1.0]));
    assert!(refused(&|s| s.lambda = vec![]));
    assert!(refused(&|s| {
        s.a0[0].pop();
    }));
    assert!(refused(&|s| s.a0.clear()));
    assert!(refused(&|s| s.beta[0].p = vec![0, 0, 1]));
    assert!(refused(&|s| s.beta[0].i = vec![0, 2, 0]));
    assert!(refused(&|s| s.beta[0].i = vec![0, 0, 3]));
    assert!(refused(&|s| s.beta[0].x[0] = f64::INFINITY));
    assert!(refused(&|s| s.beta.push(s.beta[0].clone())));
    assert!(refused(&|s| s.types.push("class".into())));
    assert!(refused(&|s| {
        s.family = GlmnetFamily::Multnet;
        s.classes = None;
    }));
    let mut d = doc(spec(GlmnetFamily::Elnet));
    d.inputs[1].kind = InputType::Factor;
    d.inputs[1].levels = Some(vec!["a".into()]);
    assert!(Model::from_doc(d).is_err());
}

#[test]
fn the_description_names_the_family_and_the_matrix_input() {
    let mut s = spec(GlmnetFamily::Multnet);
    s.by_position = true;
    let m = model(s);
    let info = m.info();
    assert_eq!(info.kind, "glmnet");
    assert_eq!(info.algorithm.as_deref(), Some("glmnet"));
    assert_eq!(info.matrix_input.map(|mi| mi.by_position), Some(true));
    assert_eq!(info.facts["family"], "multnet");
    assert_eq!(info.facts["n_stored"], 6);
}
