use super::*;

#[test]
fn formats_are_recognised_by_content() {
    assert_eq!(detect(b"{\"format\":\"fastpredict-model\"}"), SourceFormat::Fastpredict);
    assert_eq!(detect(b"  {\n \"learner\": {}, \"version\": [3, 2, 0]}"), SourceFormat::Xgboost);
    assert_eq!(detect(b"{\"version\": [1, 7, 6], \"learner\": {}}"), SourceFormat::Xgboost);
    // another first key: the top-level keys decide
    assert_eq!(detect(b"{\"x\": 1, \"learner\": {\"a\": [1, {\"learner\": 2}]}}"), SourceFormat::Xgboost);
    assert_eq!(detect(b"{\"x\": 1, \"y\": {\"learner\": 2}}"), SourceFormat::Fastpredict);
    assert_eq!(detect(b"{L\x00\x00\x00\x00\x00\x00\x00\x07learner{"), SourceFormat::Xgboost);
    assert_eq!(detect(b"tree\nversion=v4\n"), SourceFormat::Lightgbm);
    assert_eq!(detect(b"\xEF\xBB\xBFtree\r\nversion=v3\r\n"), SourceFormat::Lightgbm);
    assert_eq!(detect(b""), SourceFormat::Fastpredict);
    assert_eq!(detect(b"trees are green"), SourceFormat::Fastpredict);
}

#[test]
fn format_names() {
    assert_eq!(SourceFormat::parse("lightgbm").unwrap(), SourceFormat::Lightgbm);
    assert_eq!(SourceFormat::parse("catboost").unwrap_err().kind(), "bad_argument");
    assert_eq!(number_name(3.0), "3");
    assert_eq!(number_name(2.5), "2.5");
}
