//! Property tests for tree models.
//!
//! The engine re-lays trees out breadth-first, packs nodes into 16 bytes
//! with flag bits, turns small full partitions into inline bitmasks, loads
//! surrogate-only features lazily, walks several rows (or, for a few rows,
//! several trees) in lockstep, and shallow ensembles branch-free. None of
//! that is visible in the format, so here a plain recursive walk over the
//! document's own arrays (`reference`) predicts random trees and rows, and
//! the engine must agree with it. Further properties: thread-count
//! independence, exact JSON and split-gzip round trips, and invariance
//! under renumbering the nodes (explicit or implicit children).
//!
//! `generate` and `tree_gen` draw the cases; `cases` holds the hand-written
//! ones that random generation rarely hits, and engine bugs found here.

// A test may unwrap and panic: that is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cases;
#[path = "../common/mod.rs"]
mod common;
mod generate;
mod reference;
mod tree_gen;

use std::fs;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use fastpredict_engine::format::{Aggregation, MissingRule};
use fastpredict_engine::{io, Error, FrameBuf, Model, ModelDoc, OutBuf, PredictOptions, ValueKind};

use common::data::{is_na, FrameExt};
use common::{config, TempDir};
use generate::{arb_knobs, build_case, AggKind};
use reference::{children, reach, ref_values, reference, Pred, RefErr};
use tree_gen::relabel;

// ---------------------------------------------------------------------------
// Running the engine and comparing.

/// A sentinel no prediction produces: a slot left unwritten shows up.
const UNWRITTEN: f64 = f64::from_bits(0x7FF8_DEAD_BEEF_0001);

fn predict(model: &Model, data: &FrameBuf, opts: &PredictOptions, threads: usize) -> Result<Pred, Error> {
    let frame = data.frame();
    let job = model.prepare(&frame, opts)?;
    let shape = job.shape();
    let Some(shape) = shape.array() else {
        // a list (a survival forest): its arrays' values one after another
        let mut parts: Vec<Vec<f64>> = shape.parts().iter().map(|p| vec![UNWRITTEN; p.len(job.nrows())]).collect();
        job.run(parts.iter_mut().map(|p| OutBuf::Real(p)).collect(), threads)?;
        return Ok(Pred::Real(parts.concat()));
    };
    let len = shape.len(job.nrows());
    match shape.values {
        ValueKind::Factor(_) | ValueKind::Character(_) => {
            let mut out = vec![i32::MIN + 7; len];
            job.run(vec![OutBuf::Int(&mut out)], threads)?;
            Ok(Pred::Int(out))
        }
        ValueKind::Real => {
            let mut out = vec![UNWRITTEN; len];
            job.run(vec![OutBuf::Real(&mut out)], threads)?;
            Ok(Pred::Real(out))
        }
    }
}

fn load(doc: &ModelDoc) -> Result<Model, TestCaseError> {
    Model::from_doc(doc.clone()).map_err(|e| TestCaseError::fail(format!("a valid document was refused: {e}")))
}

/// Equal, or within 1e-12 relative (sums in another order); NA only
/// where NA.
fn close(a: f64, b: f64) -> bool {
    if is_na(a) || is_na(b) {
        return is_na(a) && is_na(b);
    }
    a.to_bits() == b.to_bits() || a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

/// What went where for row `r`, to make a failure readable.
fn explain(doc: &ModelDoc, data: &FrameBuf, r: usize) -> String {
    let spec = doc.trees.as_ref().expect("trees");
    let mut s = format!("row {r}: {}\n", data.show_row(r));
    if let Ok(vals) = ref_values(spec, data) {
        s += &format!("feature values: {:?}\n", vals[r]);
        let nodes: Vec<usize> = spec.trees.iter().map(|t| reach(spec, t, &children(t), 0, &vals[r])).collect();
        s += &format!("reference nodes per tree: {nodes:?}\n");
    }
    s
}

/// The engine's prediction against the reference: class codes and the
/// single-tree and vote outputs bit for bit, sums within 1e-12.
fn compare(
    doc: &ModelDoc,
    data: &FrameBuf,
    opts: &PredictOptions,
    got: Result<Pred, Error>,
) -> Result<(), TestCaseError> {
    let want = reference(doc, data, opts);
    let agg = &doc.trees.as_ref().expect("trees").aggregation;
    let exact = matches!(agg, Aggregation::Single | Aggregation::Votes { .. });
    let n = data.nrows();
    match (got, want) {
        (Err(e), Err(RefErr::Exact(w))) => prop_assert_eq!(e, w),
        (Err(e), Err(RefErr::MissingIn(col))) => {
            prop_assert_eq!(e.kind(), "bad_argument");
            prop_assert!(e.to_string().contains(&format!("'{col}'")), "{} should name '{}'", e, col);
        }
        (Ok(Pred::Int(g)), Ok(Pred::Int(w))) => {
            prop_assert_eq!(g.len(), w.len());
            if let Some(i) = (0..g.len()).find(|&i| g[i] != w[i]) {
                return Err(TestCaseError::fail(format!(
                    "class at row {i}: engine {} reference {}\n{}",
                    g[i],
                    w[i],
                    explain(doc, data, i)
                )));
            }
        }
        (Ok(Pred::Real(g)), Ok(Pred::Real(w))) => {
            prop_assert_eq!(g.len(), w.len());
            let same = |a: f64, b: f64| if exact { a.to_bits() == b.to_bits() } else { close(a, b) };
            if let Some(i) = (0..g.len()).find(|&i| !same(g[i], w[i])) {
                return Err(TestCaseError::fail(format!(
                    "value {i} (row {}, column {}): engine {:?} ({:#x}) reference {:?} ({:#x})\n{}",
                    i % n,
                    i / n,
                    g[i],
                    g[i].to_bits(),
                    w[i],
                    w[i].to_bits(),
                    explain(doc, data, i % n)
                )));
            }
        }
        (g, w) => {
            return Err(TestCaseError::fail(format!(
                "engine {:?} but reference {:?}",
                g.map(|p| p.bits().0),
                w.map(|p| p.bits().0)
            )))
        }
    }
    Ok(())
}

fn check(doc: &ModelDoc, data: &FrameBuf, opts: &PredictOptions) -> Result<(), TestCaseError> {
    let model = load(doc)?;
    compare(doc, data, opts, predict(&model, data, opts, 1))
}

fn bits(r: &Result<Pred, Error>) -> Result<(bool, Vec<u64>), Error> {
    r.as_ref().map(Pred::bits).map_err(Clone::clone)
}

// ---------------------------------------------------------------------------
// Properties.

proptest! {
    #![proptest_config(config(4096))]

    /// (a) The engine agrees with the recursive reference walk.
    #[test]
    fn engine_matches_reference(k in arb_knobs(0usize..=700, 1usize..=30, 0u8..=2)) {
        let case = build_case(&k);
        check(&case.doc, &case.data, &case.opts)?;
    }

    /// (a') So does it for the few rows that walk trees in lockstep.
    #[test]
    fn few_rows_match_reference(k in arb_knobs(1usize..=9, 1usize..=30, 0u8..=2)) {
        let case = build_case(&k);
        check(&case.doc, &case.data, &case.opts)?;
    }
}

proptest! {
    #![proptest_config(config(128))]

    /// (c) JSON text and split-gzip files give back the same document and
    /// the same predictions, bit for bit.
    #[test]
    fn json_and_gzip_round_trip(k in arb_knobs(0usize..=150, 1usize..=30, 0u8..=2), pretty in any::<bool>()) {
        let case = build_case(&k);
        let want = bits(&predict(&load(&case.doc)?, &case.data, &case.opts, 1));

        let json = io::to_json(&case.doc, pretty).unwrap();
        let back = io::from_bytes(json.as_bytes()).unwrap();
        prop_assert_eq!(&back, &case.doc);
        prop_assert_eq!(bits(&predict(&load(&back)?, &case.data, &case.opts, 1)), want.clone());

        let dir = TempDir::new("trees");
        let path = dir.path().join("model.json.gz");
        io::write_file(&case.doc, &path, true).unwrap();
        prop_assert!(fs::read(&path).unwrap().starts_with(&[0x1f, 0x8b]));
        prop_assert_eq!(&io::read_file(&path).unwrap(), &case.doc);
        let model = Model::load(&path).unwrap();
        prop_assert_eq!(bits(&predict(&model, &case.data, &case.opts, 1)), want);
    }

}

proptest! {
    #![proptest_config(config(512))]

    /// (d) Renumbering the nodes, and explicit or implicit children, change
    /// nothing (and move trees between the kept and re-laid-out paths).
    #[test]
    fn node_numbering_does_not_matter(k in arb_knobs(0usize..=300, 1usize..=30, 0u8..=1), seed in any::<u64>()) {
        let case = build_case(&k);
        let want = bits(&predict(&load(&case.doc)?, &case.data, &case.opts, 1));
        let other = relabel(&case.doc, seed);
        prop_assert_eq!(bits(&predict(&load(&other)?, &case.data, &case.opts, 1)), want);
    }
}

proptest! {
    #![proptest_config(config(16))]

    /// (b) Inputs that run in several row chunks (a forest's rows are
    /// shared evenly between the threads, a single tree's go in chunks of
    /// 16384): 1, 2 and 3 threads agree bit for bit, and with the reference.
    #[test]
    fn threads_do_not_change_results(k in arb_knobs(8200usize..=12000, 2usize..=10, 0u8..=1), extra in 1usize..=3000) {
        let mut k = k;
        if k.agg == AggKind::Single {
            k.nrows = 2 * 16384 + extra;
        }
        if k.missing == MissingRule::Error {
            // an error would make the run trivial
            k.dirt = 0;
        }
        let case = build_case(&k);
        let model = load(&case.doc)?;
        let one = predict(&model, &case.data, &case.opts, 1);
        prop_assert!(one.is_ok(), "{:?}", one.as_ref().err());
        for threads in [2, 3] {
            prop_assert_eq!(bits(&predict(&model, &case.data, &case.opts, threads)), bits(&one));
        }
        compare(&case.doc, &case.data, &case.opts, one)?;
    }
}
