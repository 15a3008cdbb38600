//! Property tests for linear models.
//!
//! The engine never builds the design matrix: it folds each term's
//! coefficients into a lookup table and evaluates block by block. Here a
//! naive reference builds R's `model.matrix()` row by row and multiplies by
//! the coefficients, and random models and data check that the two agree.
//! Further properties: thread-count independence, exact JSON and gzip round
//! trips, and the input errors.
//!
//! `reference` is that reference, `generate` draws the cases, `cases` holds
//! the hand-written ones that random generation rarely hits.

// A test may unwrap and panic: that is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// R's numbers and the awkward doubles are written with all 17 digits on purpose.
#![allow(clippy::excessive_precision)]

mod cases;
#[path = "../common/mod.rs"]
mod common;
mod generate;
mod reference;

use std::fs;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;

use fastpredict_engine::format::{InputSpec, InputType};
use fastpredict_engine::rmath::Link;
use fastpredict_engine::{io, ColumnBuf, Error, FrameBuf, Model, ModelDoc, OutBuf, PredictOptions, NA_INTEGER};

use common::data::{ColumnExt, FrameExt};
use common::{config, TempDir};
use generate::{arb_case, arb_case_with, float_bits, visit_floats, Case, Slot, AWKWARD};
use reference::{close, reference_row, response_ok};

// ---------------------------------------------------------------------------
// Running the engine and comparing.

fn predict(
    model: &Model,
    data: &FrameBuf,
    type_: Option<&str>,
    threads: usize,
) -> fastpredict_engine::Result<Vec<f64>> {
    let frame = data.frame();
    let job = model.prepare(&frame, &PredictOptions { type_: type_.map(str::to_string), ..Default::default() })?;
    let mut out = vec![0.0; job.nrows()];
    job.run(vec![OutBuf::Real(&mut out)], threads)?;
    Ok(out)
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Link and response predictions, as bits, for exact comparisons.
fn prediction_bits(model: &Model, data: &FrameBuf) -> Vec<u64> {
    let mut out = bits(&predict(model, data, Some("link"), 1).unwrap());
    out.extend(bits(&predict(model, data, Some("response"), 1).unwrap()));
    out
}

fn load(doc: &ModelDoc) -> Result<Model, TestCaseError> {
    Model::from_doc(doc.clone()).map_err(|e| TestCaseError::fail(format!("the engine refused a valid model: {e}")))
}

/// Engine against reference for every row, on both scales.
fn check_against_reference(model: &Model, case: &Case) -> Result<(), TestCaseError> {
    let spec = case.spec();
    let link = Link::from_name(&spec.link).unwrap();
    let eta = predict(model, &case.data, Some("link"), 1).unwrap();
    let mu = predict(model, &case.data, Some("response"), 1).unwrap();
    prop_assert_eq!(eta.len(), case.data.nrows());
    prop_assert_eq!(mu.len(), case.data.nrows());
    for r in 0..case.data.nrows() {
        let want = reference_row(spec, &case.data, r);
        prop_assert!(
            close(eta[r], want.eta, want.scale),
            "row {}: link {:e}, reference {:e} (scale {:e})",
            r,
            eta[r],
            want.eta,
            want.scale
        );
        prop_assert!(
            response_ok(link, mu[r], &want),
            "row {}: response {:e}, reference {:e} (eta {:e}, link {})",
            r,
            mu[r],
            want.mu,
            want.eta,
            spec.link
        );
    }
    let default = predict(model, &case.data, None, 1).unwrap();
    let named = if spec.default_type == "link" { &eta } else { &mu };
    prop_assert_eq!(bits(&default), bits(named), "default type differs from '{}'", spec.default_type);
    Ok(())
}

// ---------------------------------------------------------------------------
// Properties.

proptest! {
    #![proptest_config(config(128))]

    /// (a) The folded engine agrees with the design-matrix reference.
    #[test]
    fn engine_matches_reference(case in arb_case()) {
        let model = load(&case.doc)?;
        check_against_reference(&model, &case)?;
    }

    /// (e) An unseen level fails only when a row uses it, and the error
    /// names the column and the level.
    #[test]
    fn unseen_levels(case in arb_case_with(1..=3, 1..=600), which in any::<Index>(), row in any::<Index>(),
                     level in "[a-z\"\\\\😀 ]{1,6}") {
        let model = load(&case.doc)?;
        let categorical: Vec<&InputSpec> = case.doc.inputs.iter().filter(|i| i.kind.is_categorical()).collect();
        let input = categorical[which.index(categorical.len())];
        // at least 6 characters, model levels have at most 5: never a known level
        let level = format!("{level} (new)");
        let baseline = prediction_bits(&model, &case.data);

        // unused: fine, and changes nothing
        let mut data = case.data.clone();
        let col = data.col(&input.name).clone().into_factor();
        let ColumnBuf::Factor { mut codes, mut levels } = col else { unreachable!() };
        let at = row.index(levels.len() + 1);
        levels.insert(at, level.clone());
        // codes past the insertion point move up by one
        codes.iter_mut().filter(|c| **c != NA_INTEGER && **c > at as i32).for_each(|c| *c += 1);
        data.set(&input.name, ColumnBuf::Factor { codes: codes.clone(), levels: levels.clone() });
        prop_assert_eq!(prediction_bits(&model, &data), baseline);

        // used by one row, as a factor and as a string
        let r = row.index(case.data.nrows());
        let mut used = codes;
        used[r] = at as i32 + 1;
        let name = |c: i32| (c != NA_INTEGER).then(|| levels[c as usize - 1].clone());
        let as_str = ColumnBuf::Str(used.iter().map(|&c| name(c)).collect());
        let as_factor = ColumnBuf::Factor { codes: used, levels: levels.clone() };
        for col in [as_factor, as_str] {
            data.set(&input.name, col);
            let want = Error::UnseenLevel { column: input.name.clone(), level: level.clone() };
            prop_assert_eq!(predict(&model, &data, None, 1).map(|_| ()), Err(want));
        }
    }

    /// (f) A missing column and a column of the wrong kind are refused,
    /// naming the column.
    #[test]
    fn input_errors(case in arb_case(), which in any::<Index>()) {
        let model = load(&case.doc)?;
        let inputs = &case.doc.inputs;
        let input = &inputs[which.index(inputs.len())];
        let mut data = case.data.clone();
        data.remove(&input.name);
        prop_assert_eq!(predict(&model, &data, None, 1).map(|_| ()),
                        Err(Error::MissingColumn { column: input.name.clone() }));

        let n = case.data.nrows();
        let (wrong, found) = if input.kind == InputType::Numeric {
            (ColumnBuf::Factor { codes: vec![1; n], levels: vec!["a".into()] }, "a factor")
        } else {
            (ColumnBuf::Real(vec![1.0; n]), "a double vector")
        };
        let mut data = case.data.clone();
        data.set(&input.name, wrong);
        match predict(&model, &data, None, 1) {
            Err(Error::WrongType { column, found: f, .. }) => {
                prop_assert_eq!(column, input.name.clone());
                prop_assert_eq!(f, found);
            }
            other => prop_assert!(false, "expected a wrong-type error, got {:?}", other.map(|_| ())),
        }
    }
}

proptest! {
    #![proptest_config(config(64))]

    /// (c, d) JSON text and gzip files give back the same document, double
    /// for double, and the same predictions, bit for bit, also with
    /// awkward doubles planted in it.
    #[test]
    fn json_and_gzip_round_trip(case in arb_case(),
                                plant in vec((any::<Index>(), any::<Index>()), 0..=12),
                                pretty in any::<bool>()) {
        let mut doc = case.doc.clone();
        let mut n = 0;
        visit_floats(&mut doc, &mut |_, _| n += 1);
        if n > 0 {
            let targets: Vec<(usize, f64)> =
                plant.iter().map(|(s, a)| (s.index(n), AWKWARD[a.index(AWKWARD.len())])).collect();
            let mut k = 0;
            visit_floats(&mut doc, &mut |slot, v| {
                for &(t, a) in &targets {
                    if t == k && (slot == Slot::Any || a > 0.0) {
                        *v = a;
                    }
                }
                k += 1;
            });
        }
        let model = load(&doc)?;
        let want = prediction_bits(&model, &case.data);
        let want_floats = float_bits(&doc);

        let json = io::to_json(&doc, pretty).unwrap();
        let back = io::from_bytes(json.as_bytes()).unwrap();
        prop_assert_eq!(&back, &doc);
        // PartialEq takes -0.0 for 0.0: compare the bits too
        prop_assert_eq!(float_bits(&back), want_floats.clone());
        prop_assert_eq!(io::to_json(&back, pretty).unwrap(), json.clone());
        prop_assert_eq!(prediction_bits(&load(&back)?, &case.data), want.clone());
        prop_assert_eq!(prediction_bits(&Model::from_json(json.as_bytes()).unwrap(), &case.data), want.clone());

        let dir = TempDir::new("linear");
        for gzip in [true, false] {
            let path = dir.path().join(if gzip { "model.json.gz" } else { "model.json" });
            io::write_file(&doc, &path, gzip).unwrap();
            let raw = fs::read(&path).unwrap();
            prop_assert_eq!(raw.starts_with(&[0x1f, 0x8b]), gzip);
            let back = io::read_file(&path).unwrap();
            prop_assert_eq!(&back, &doc);
            prop_assert_eq!(float_bits(&back), want_floats.clone());
            prop_assert_eq!(prediction_bits(&Model::load(&path).unwrap(), &case.data), want.clone());
        }
    }
}

/// Tile `data` until the job counts as large (so several parallel chunks
/// run), then check threads 1, 2 and 3 agree bit for bit, and that every
/// row equals the untiled prediction of its source row.
fn check_threads(model: &Model, data: &FrameBuf) -> Result<(), TestCaseError> {
    let small = bits(&predict(model, data, None, 1).unwrap());
    let n = data.nrows();
    // 2^20 is the engine's "large" work threshold; start near it
    let mut times = ((1usize << 20) / n).max(1);
    loop {
        let big = data.tiled(times);
        let frame = big.frame();
        let job = model.prepare(&frame, &PredictOptions::default()).unwrap();
        if !job.is_large() {
            times *= 2;
            continue;
        }
        let mut first: Option<Vec<u64>> = None;
        for threads in [1, 2, 3] {
            let mut out = vec![0.0; job.nrows()];
            job.run(vec![OutBuf::Real(&mut out)], threads).unwrap();
            let out = bits(&out);
            match &first {
                None => {
                    for (i, b) in out.iter().enumerate() {
                        prop_assert_eq!(*b, small[i % n], "row {} differs from source row {}", i, i % n);
                    }
                    first = Some(out);
                }
                Some(f) => prop_assert!(*f == out, "{} threads differ from 1 thread", threads),
            }
        }
        return Ok(());
    }
}

proptest! {
    #![proptest_config(config(12))]

    /// (b) The thread count does not change a single bit.
    #[test]
    fn threads_do_not_change_results(case in arb_case_with(0..=3, 1..=600)) {
        let model = load(&case.doc)?;
        check_threads(&model, &case.data)?;
    }
}
