use super::gzip::split_members;
use super::*;
use crate::format::*;
use flate2::write::GzEncoder;
use flate2::Compression;

/// A stump forest big enough to be split into several members.
fn forest(ntrees: usize) -> ModelDoc {
    let tree = |k: usize| TreeSpec {
        feature: vec![0, -1, -1],
        threshold: vec![k as f64 / 7.0, 0.0, 0.0],
        left: vec![1, -1, -1],
        right: vec![2, -1, -1],
        missing: None,
        value: vec![0.0, -(k as f64) * 0.1, k as f64 * 0.3 + 1e-17],
        probs: None,
        matrix: None,
        categories: None,
        surrogates: None,
    };
    ModelDoc {
        format: FORMAT_NAME.into(),
        format_version: format_version(),
        producer: Producer::default(),
        kind: ModelKind::Trees,
        inputs: vec![InputSpec { name: "x".into(), kind: InputType::Numeric, levels: None }],
        linear: None,
        trees: Some(TreesSpec {
            algorithm: "randomForest".into(),
            features: vec![FeatureSpec {
                input: "x".into(),
                kind: FeatureKind::Numeric,
                levels: None,
                code_offset: None,
                unseen: None,
            }],
            split: SplitRule::Le,
            missing: MissingRule::NaRow,
            nan: None,
            aggregation: Aggregation::Mean { bias: None },
            types: vec!["response".into()],
            default_type: "response".into(),
            classes: None,
            trees: (0..ntrees).map(tree).collect(),
        }),
        card: None,
        extensions: Default::default(),
    }
}

#[test]
fn split_gzip_round_trips_and_is_plain_gzip() {
    let doc = forest(60_000);
    let bytes = to_gzip(&doc).unwrap();
    let members = split_members(&bytes).unwrap();
    assert!(members.len() > 3, "expected several members, got {}", members.len());
    assert_eq!(from_bytes(&bytes).unwrap(), doc);
    // any gzip reader sees the same JSON as the uncompressed file
    assert_eq!(super::gzip::gunzip(&bytes, u64::MAX).unwrap(), to_json(&doc, false).unwrap().into_bytes());
}

#[test]
fn ordinary_gzip_is_read_too() {
    let doc = forest(10);
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(to_json(&doc, true).unwrap().as_bytes()).unwrap();
    let bytes = enc.finish().unwrap();
    assert!(split_members(&bytes).is_none());
    assert_eq!(from_bytes(&bytes).unwrap(), doc);
}

#[test]
fn damaged_members_are_corrupt_files() {
    let doc = forest(60_000);
    let mut bytes = to_gzip(&doc).unwrap();
    let members = split_members(&bytes).unwrap();
    let (a, b, _) = members[1];
    bytes[(a + b) / 2] ^= 0x55;
    assert!(matches!(from_bytes(&bytes), Err(Error::CorruptFile { .. })));
    let bytes = to_gzip(&doc).unwrap();
    let cut = bytes[..bytes.len() - 100].to_vec();
    assert!(matches!(from_bytes(&cut), Err(Error::CorruptFile { .. })));
}
