//! One input, exercised: loaded both ways, saved and reloaded, and if it
//! loads, predicted with every type it offers from frames built from its
//! input prototype, with option variations, on 1 and 2 threads. Every step
//! runs inside `catch_unwind`; a panic is counted with its message.

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use fastpredict_engine::format::{InputSpec, InputType};
use fastpredict_engine::{
    io, ColumnBuf, FrameBuf, Model, PredictOption, PredictOptions, Prediction, Values, NA_INTEGER, NA_REAL,
};

use crate::rng::Rng;

/// What happened to one input.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Tally {
    pub loaded: bool,
    /// Predictions that succeeded, and that ended in an error.
    pub ok: u64,
    pub err: u64,
    /// Messages of the panics caught.
    pub panics: Vec<String>,
    /// Results that differ between 1 and 2 threads, or a loaded model whose
    /// saved document does not load again.
    pub mismatches: Vec<String>,
}

thread_local! {
    static LAST_PANIC: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Keep panic messages (with their place) for the report instead of
/// printing them.
pub fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("?");
        let place = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        LAST_PANIC.with(|p| *p.borrow_mut() = format!("{msg} at {place}"));
    }));
}

fn caught<T>(t: &mut Tally, f: impl FnOnce() -> T) -> Option<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => Some(v),
        Err(_) => {
            let msg = LAST_PANIC.with(|p| std::mem::take(&mut *p.borrow_mut()));
            t.panics.push(if msg.is_empty() { "a panic on another thread".to_string() } else { msg });
            None
        }
    }
}

pub fn exercise(bytes: &[u8], rng: &mut Rng) -> Tally {
    let mut t = Tally::default();
    let model = caught(&mut t, || Model::from_json(bytes).ok()).flatten();
    caught(&mut t, || io::from_bytes(bytes).and_then(Model::from_doc).is_ok());
    let Some(model) = model else { return t };
    t.loaded = true;
    // what loads must save and load again
    let again = caught(&mut t, || {
        let _ = serde_json::to_string(model.info());
        io::to_json(model.doc(), false).and_then(|text| Model::from_json(text.as_bytes()))
    });
    if let Some(Err(e)) = again {
        t.mismatches.push(format!("its saved document does not load: {e}"));
    }
    // each offered type once (a document may list one many times)
    let mut types: Vec<Option<String>> = vec![None];
    for ty in &model.info().types {
        let ty = Some(ty.as_str().to_string());
        if !types.contains(&ty) {
            types.push(ty);
        }
    }
    if rng.chance(1, 8) {
        types.push(Some(["terms", "", "prob\0"][rng.below(3)].to_string()));
    }
    let n_trees = model.info().facts.get("n_trees").and_then(|v| v.as_u64()).unwrap_or(1) as usize;
    for _ in 0..3 {
        let frame = frame(model.inputs(), rng);
        for ty in &types {
            let opts = options(ty.clone(), n_trees, &model.info().options, rng);
            let one = caught(&mut t, || predict(&model, &frame, &opts, 1));
            let two = caught(&mut t, || predict(&model, &frame, &opts, 2));
            if let (Some(one), Some(two)) = (one, two) {
                match (&one, &two) {
                    (Ok(a), Ok(b)) if !same(a, b) => t.mismatches.push(format!("1 and 2 threads differ ({opts:?})")),
                    (Ok(_), Err(e)) | (Err(e), Ok(_)) => {
                        t.mismatches.push(format!("1 and 2 threads disagree on an error: {e}"))
                    }
                    _ => {}
                }
                for r in [one, two] {
                    match r {
                        Ok(_) => t.ok += 1,
                        Err(e) => {
                            t.err += 1;
                            if std::env::var_os("FASTPREDICT_FUZZ_ERRORS").is_some() {
                                eprintln!("error {}: {e}", e.kind());
                            }
                        }
                    }
                }
            }
        }
    }
    t
}

fn predict(
    m: &Model,
    frame: &FrameBuf,
    opts: &PredictOptions,
    threads: usize,
) -> fastpredict_engine::Result<Prediction> {
    let f = frame.frame();
    let job = m.prepare(&f, opts)?;
    job.predict(threads)
}

/// Bitwise equality, so that NA and NaN payloads count too.
fn same(a: &Prediction, b: &Prediction) -> bool {
    a.shape == b.shape
        && a.parts.len() == b.parts.len()
        && a.parts.iter().zip(&b.parts).all(|(x, y)| match (x, y) {
            (Values::Real(x), Values::Real(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
            }
            (Values::Int(x), Values::Int(y)) => x == y,
            _ => false,
        })
}

/// Options the model takes, mostly; now and then one it does not, or a
/// value out of range.
fn options(type_: Option<String>, n_trees: usize, takes: &[PredictOption], rng: &mut Rng) -> PredictOptions {
    let mut o = PredictOptions { type_, ..PredictOptions::default() };
    let wild = rng.chance(1, 10);
    if (takes.contains(&PredictOption::NTrees) || wild) && rng.chance(1, 2) {
        o.n_trees = Some(match rng.below(if wild { 7 } else { 2 }) {
            0 => vec![1],
            1 => vec![n_trees],
            2 => vec![0],
            3 => vec![usize::MAX],
            4 => vec![],
            5 => vec![n_trees + 1],
            _ => (0..rng.range(2, 5)).map(|_| rng.range(1, n_trees.max(1))).collect(),
        });
    }
    if (takes.contains(&PredictOption::NormVotes) || wild) && rng.chance(1, 2) {
        o.norm_votes = Some(rng.chance(1, 2));
    }
    o
}

const REALS: &[f64] =
    &[0.0, -0.0, 1.0, -1.0, 0.5, 2.5, 1e-300, 1e300, f64::MAX, f64::MIN_POSITIVE, 4.0, 6.0, 8.0, 100.0];

fn real(complete: bool, rng: &mut Rng) -> f64 {
    match rng.below(12) {
        0..=3 if complete => rng.unit() * 10.0,
        0 => NA_REAL,
        1 => f64::NAN,
        2 => f64::INFINITY,
        3 => f64::NEG_INFINITY,
        4 | 5 => *rng.pick(REALS),
        _ => (rng.unit() - 0.3) * 10f64.powi(rng.range(0, 3) as i32),
    }
}

fn int(complete: bool, rng: &mut Rng) -> i32 {
    match rng.below(8) {
        0 if !complete => NA_INTEGER,
        1 => i32::MAX,
        2 => -1,
        _ => rng.range(0, 8) as i32,
    }
}

const ODD: &[&str] = &["", "NA", " 1e3 ", "0x1F", "-Inf", "NaN", "é", "\u{feff}", "\u{10ffff}", "1.0000000000000002"];

/// A string column value: mostly known levels.
fn level(levels: &[String], clean: bool, complete: bool, rng: &mut Rng) -> Option<String> {
    match rng.below(if clean { 200 } else { 10 }) {
        0 if !complete => None,
        1 if !clean => Some(rng.pick(ODD).to_string()),
        2 if !clean => Some(format!("{}", rng.range(0, 10))),
        _ if !levels.is_empty() => Some(rng.pick(levels).clone()),
        _ => Some("a".to_string()),
    }
}

/// A column for `spec`; a clean one has the expected type and known
/// levels (numbers may still be NA, NaN or infinite).
fn column(spec: &InputSpec, n: usize, clean: bool, complete: bool, rng: &mut Rng) -> ColumnBuf {
    let levels = spec.levels.clone().unwrap_or_default();
    let natural = match spec.kind {
        InputType::Numeric => 0,
        InputType::Logical => 2,
        InputType::Factor | InputType::Ordered | InputType::Character => 3 + rng.below(2),
        InputType::Any => rng.below(5),
    };
    let kind = if !clean && rng.chance(1, 4) { rng.below(5) } else { natural };
    match kind {
        0 => ColumnBuf::Real((0..n).map(|_| real(complete, rng)).collect()),
        1 => ColumnBuf::Int((0..n).map(|_| int(complete, rng)).collect()),
        2 => ColumnBuf::Logical(
            (0..n)
                .map(|_| match rng.below(50) {
                    0 if !clean => 2,
                    1..=9 if !complete => NA_INTEGER,
                    k => (k % 2) as i32,
                })
                .collect(),
        ),
        3 => {
            // a factor with the model's levels, shuffled, maybe with an unseen one
            let mut lv = levels.clone();
            for i in (1..lv.len()).rev() {
                lv.swap(i, rng.below(i + 1));
            }
            if !clean && rng.chance(1, 2) {
                lv.push("unseen level".to_string());
            }
            if lv.is_empty() {
                lv.push("a".to_string());
            }
            let k = lv.len() as i32;
            let codes = (0..n)
                .map(|_| match rng.below(if clean { 200 } else { 40 }) {
                    0 if !complete => NA_INTEGER,
                    1 if !clean => [0, -1, k + 1, i32::MAX][rng.below(4)],
                    _ => rng.range(1, k as usize) as i32,
                })
                .collect();
            ColumnBuf::Factor { codes, levels: lv }
        }
        _ => ColumnBuf::Str((0..n).map(|_| level(&levels, clean, complete, rng)).collect()),
    }
}

/// A frame for the model's inputs: 0, 1 or a few hundred rows, now and
/// then with a column missing, of another length, or doubled.
fn frame(specs: &[InputSpec], rng: &mut Rng) -> FrameBuf {
    let n = match rng.below(4) {
        0 => 0,
        1 => 1,
        _ => rng.range(2, 400),
    };
    let mut f = FrameBuf::new();
    let clean = rng.chance(2, 3);
    let complete = clean && rng.chance(1, 2);
    let odd = |rng: &mut Rng| !clean && rng.chance(1, 20);
    for s in specs {
        if odd(rng) {
            continue;
        }
        let len = if odd(rng) { n + 1 } else { n };
        f.push(s.name.clone(), column(s, len, clean, complete, rng));
        if odd(rng) {
            f.push(s.name.clone(), column(s, n, clean, complete, rng));
        }
    }
    f.set_nrows(n);
    f
}
