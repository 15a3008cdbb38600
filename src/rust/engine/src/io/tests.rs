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
        glmnet: None,
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
        boosted: None,
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

#[test]
fn a_save_does_not_replace_what_is_not_a_regular_file() {
    // a directory stands for devices and FIFOs: the rename would replace it
    let dir = std::env::temp_dir().join(format!("fastpredict-io-target-{}", std::process::id()));
    let target = dir.join("model.json");
    std::fs::create_dir_all(&target).unwrap();
    let r = write_file(&forest(2), &target, false);
    assert!(matches!(&r, Err(Error::Io { detail, .. }) if detail == "not a regular file"), "{r:?}");
    assert!(target.is_dir());
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(left.len(), 1, "a temporary was left behind: {left:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn members_inflated_in_parallel_share_one_budget() {
    // two members of 600 kB each: alone under 1 MB, together over it
    let blanks = vec![b' '; 600_000];
    let bytes = [
        super::gzip::member(&blanks, super::gzip::KIND_HEAD).unwrap(),
        super::gzip::member(&blanks, super::gzip::KIND_TAIL).unwrap(),
    ]
    .concat();
    let members = split_members(&bytes).unwrap();
    let r = from_members(&bytes, &members, 1_000_000);
    assert!(matches!(&r, Err(Error::Unsupported { what }) if what.contains("json_bytes")), "{r:?}");
    assert!(matches!(from_members(&bytes, &members, 2_000_000), Err(Error::CorruptFile { .. })));
}
