//! One input, exercised: loaded both ways, saved and reloaded, hashed and
//! given a card, and if it loads, predicted with every type it offers from
//! frames built from its input prototype (dense and sparse columns), with
//! option variations (the trees', the linear models' standard errors and
//! intervals, glmnet's penalties and offsets), on 1 and 2 threads. Every step runs inside `catch_unwind`; a panic is counted
//! with its message.

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use fastpredict_engine::format::{InputSpec, InputType, ModelCard, TrainingSummary};
use fastpredict_engine::{
    io, ColumnBuf, FrameBuf, Model, Numbers, Penalty, PredictOption, PredictOptions, Prediction, Values, NA_INTEGER,
    NA_REAL,
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
    // a card, as fp_card() attaches one: hashed, checked, loaded again
    if rng.chance(1, 4) {
        let c = card(rng);
        caught(&mut t, || model.with_card(c).map(|m| m.content_hash().map(str::len)));
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
            let opts = options(ty.clone(), n_trees, &model.info().options, frame.nrows(), rng);
            let one = caught(&mut t, || predict(&model, &frame, &opts, 1));
            let two = caught(&mut t, || predict(&model, &frame, &opts, 2));
            if let (Some(one), Some(two)) = (one, two) {
                match (&one, &two) {
                    (Ok(a), Ok(b)) => {
                        if let Some(d) = difference(a, b) {
                            t.mismatches.push(format!("1 and 2 threads differ, {d} ({opts:?})"))
                        }
                    }
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

/// Where two predictions differ, bitwise, so that NA and NaN payloads
/// count too; `None` if they do not.
fn difference(a: &Prediction, b: &Prediction) -> Option<String> {
    // (through Debug: a shape may hold a NaN, as residual.scale with scale = NaN)
    if format!("{:?}", a.shape) != format!("{:?}", b.shape) || a.parts.len() != b.parts.len() {
        return Some("in shape".to_string());
    }
    for (p, (x, y)) in a.parts.iter().zip(&b.parts).enumerate() {
        let at = match (x, y) {
            (Values::Real(x), Values::Real(y)) if x.len() == y.len() => x
                .iter()
                .zip(y)
                .position(|(u, v)| u.to_bits() != v.to_bits())
                .map(|i| (i, format!("{} vs {}", x[i], y[i]))),
            (Values::Int(x), Values::Int(y)) if x.len() == y.len() => {
                x.iter().zip(y).position(|(u, v)| u != v).map(|i| (i, format!("{} vs {}", x[i], y[i])))
            }
            _ => Some((0, "in kind or length".to_string())),
        };
        if let Some((i, what)) = at {
            return Some(format!("part {p}, value {i}: {what}"));
        }
    }
    None
}

/// Options the model takes, mostly; now and then one it does not, or a
/// value out of range.
fn options(
    type_: Option<String>,
    n_trees: usize,
    takes: &[PredictOption],
    nrows: usize,
    rng: &mut Rng,
) -> PredictOptions {
    let mut o = PredictOptions { type_, ..PredictOptions::default() };
    let wild = rng.chance(1, 10);
    let given = |opt: PredictOption, rng: &mut Rng| (takes.contains(&opt) || wild) && rng.chance(1, 2);
    if given(PredictOption::NTrees, rng) {
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
    if given(PredictOption::NormVotes, rng) {
        o.norm_votes = Some(rng.chance(1, 2));
    }
    if given(PredictOption::SeFit, rng) {
        o.se_fit = Some(rng.chance(2, 3));
    }
    if given(PredictOption::Interval, rng) {
        let all = ["none", "confidence", "prediction", "", "conf", "none\0", "Confidence"];
        o.interval = Some(all[rng.below(if wild { all.len() } else { 3 })].to_string());
    }
    // a number the option takes, or (wild) one it must refuse
    let number = |usual: &[f64], rng: &mut Rng| {
        if wild && rng.chance(1, 2) {
            *rng.pick(ODD_NUMBERS)
        } else {
            *rng.pick(usual)
        }
    };
    if given(PredictOption::Level, rng) {
        o.level = Some(number(&[0.95, 0.5, 0.99, 1e-9], rng));
    }
    if given(PredictOption::Dispersion, rng) {
        o.dispersion = Some(number(&[1.0, 2.5, 0.01, 0.0], rng));
    }
    if given(PredictOption::Scale, rng) {
        o.scale = Some(number(&[1.0, 0.3, 12.0], rng));
    }
    if given(PredictOption::Df, rng) {
        o.df = Some(number(&[1.0, 3.0, 30.0, 1e6], rng));
    }
    // per row, or one for all; (wild) of the wrong length
    let per_row = |rng: &mut Rng| {
        let n = match rng.below(if wild { 4 } else { 2 }) {
            0 => 1,
            1 => nrows,
            2 => 0,
            _ => nrows + 1,
        };
        (0..n).map(|_| number(&[1.0, 0.5, 2.0, 1e-3], rng)).collect::<Vec<_>>()
    };
    if given(PredictOption::PredVar, rng) {
        o.pred_var = Some(per_row(rng));
    }
    if given(PredictOption::Weights, rng) {
        o.weights = Some(per_row(rng));
    }
    if given(PredictOption::S, rng) {
        o.s = Some(penalty(wild, rng));
    }
    if given(PredictOption::Newoffset, rng) {
        // a vector, or a matrix of one column per response; (wild) a
        // dim that disagrees with the values
        let k = rng.range(1, 3);
        let rows = if wild && rng.chance(1, 3) { nrows + 1 } else { nrows };
        let values = (0..rows * k).map(|_| number(&[0.0, 0.5, -1.0, 3.0], rng)).collect();
        let dim = match rng.below(if wild { 4 } else { 3 }) {
            0 => None,
            3 => Some([rows + 1, k]),
            _ => Some([rows, k]),
        };
        o.newoffset = Some(Numbers { values, dim });
    }
    if given(PredictOption::Exact, rng) {
        o.exact = Some(rng.chance(1, 2));
    }
    o
}

/// glmnet's `s`: the whole path, a cross-validation rule (or a start of
/// one), or penalties, named or not, on and off the path.
fn penalty(wild: bool, rng: &mut Rng) -> Penalty {
    const RULES: &[&str] = &["lambda.min", "lambda.1se", "lambda.m", "lambda", "", "LAMBDA.MIN", "lambda.1se\0"];
    match rng.below(4) {
        0 => Penalty::Path,
        1 => Penalty::Rule(rng.pick(RULES).to_string()),
        _ => {
            let n = match rng.below(if wild { 6 } else { 4 }) {
                4 => 0,
                5 => 1000,
                k => k + 1,
            };
            let values: Vec<f64> = (0..n)
                .map(|_| {
                    if wild && rng.chance(1, 3) {
                        *rng.pick(ODD_NUMBERS)
                    } else {
                        *rng.pick(&[1e-4, 0.01, 0.05, 0.2, 1.0, 10.0, 0.0])
                    }
                })
                .collect();
            let names = rng.chance(1, 3).then(|| (0..n).map(|i| format!("s{i}")).collect());
            Penalty::Values { values, names }
        }
    }
}

/// Numbers an option must refuse, or take at their edge.
const ODD_NUMBERS: &[f64] = &[0.0, -1.0, 1.0, f64::NAN, NA_REAL, f64::INFINITY, f64::NEG_INFINITY, 1e-300, 1e300];

/// A card, now and then with odd text (a NUL, which a load refuses).
fn card(rng: &mut Rng) -> ModelCard {
    let text = |rng: &mut Rng| match rng.below(6) {
        0 => None,
        1 => Some(rng.pick(ODD).to_string()),
        2 => Some("a\0b".to_string()),
        _ => Some("model 1".to_string()),
    };
    let mut c = ModelCard { name: text(rng), version: text(rng), description: text(rng), ..ModelCard::default() };
    if rng.chance(1, 2) {
        c.training = Some(TrainingSummary { rows: Some(*rng.pick(REALS)), time: text(rng), hash: text(rng) });
    }
    for _ in 0..rng.below(3) {
        if let Some(k) = text(rng) {
            c.metrics.insert(k, *rng.pick(ODD_NUMBERS));
        }
    }
    c
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
        // a number, a logical or a factor: never text
        InputType::Coded => rng.below(4),
    };
    // now and then a numeric column arrives sparse (a dgCMatrix)
    let natural = if natural == 0 && rng.chance(1, 4) { 5 } else { natural };
    let kind = if !clean && rng.chance(1, 4) { rng.below(6) } else { natural };
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
        4 => ColumnBuf::Str((0..n).map(|_| level(&levels, clean, complete, rng)).collect()),
        _ => sparse(n, clean, complete, rng),
    }
}

/// A sparse column of `n` rows: increasing row indices below `n`; not
/// clean, now and then unsorted, repeated, out of range or one short.
fn sparse(n: usize, clean: bool, complete: bool, rng: &mut Rng) -> ColumnBuf {
    let mut rows: Vec<i32> = (0..n as i32).filter(|_| rng.chance(1, 3)).collect();
    if !clean && rng.chance(1, 3) {
        match rng.below(4) {
            0 => rows.reverse(),
            1 => rows.push(rows.last().copied().unwrap_or(0)),
            2 => rows.push([n as i32, -1, i32::MAX, i32::MIN][rng.below(4)]),
            _ => rows.insert(0, -1),
        }
    }
    let mut values: Vec<f64> = rows.iter().map(|_| real(complete, rng)).collect();
    if !clean && rng.chance(1, 8) {
        values.pop();
    }
    ColumnBuf::Sparse { nrows: n, rows, values }
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
