//! Random cases: the knobs that proptest draws and shrinks, and the
//! documents, options and rows built from them.
//!
//! Details come from SplitMix64 streams keyed by (seed, index), so that
//! shrinking the number of trees or rows leaves the others unchanged.

use std::collections::HashMap;
use std::fmt;

use proptest::collection::vec;
use proptest::prelude::*;

use fastpredict_engine::format::{
    Aggregation, FeatureKind, FeatureSpec, InputSpec, InputType, MissingRule, NanRule, SplitRule, TreeSpec, TreesSpec,
    UnseenRule,
};
use fastpredict_engine::{io, ColumnBuf, FrameBuf, ModelDoc, PredictOptions, NA_INTEGER, NA_REAL};

use crate::common::build::{strings, trees_doc};
use crate::common::data::FrameExt;
use crate::common::rng::Rng;
use crate::tree_gen::{DocCtx, TreeGen};

// Stream numbers of the document seed (features, trees, options) and of the
// row seed (column set-up; rows use their own index).
const S_FEATURE: u64 = 1 << 40;
const S_TREE: u64 = 2 << 40;
const S_DOC: u64 = 3 << 40;
const S_COLUMN: u64 = 4 << 40;

/// R's NA with the quiet bit set, as arithmetic leaves it.
const NA_QUIET: f64 = f64::from_bits(0x7FF8_0000_0000_07A2);

/// The neighbouring double of a finite `x` (`next_up` needs Rust 1.86).
fn one_ulp(x: f64, up: bool) -> f64 {
    if x == 0.0 {
        return if up { f64::from_bits(1) } else { -f64::from_bits(1) };
    }
    let b = x.to_bits();
    f64::from_bits(if (x > 0.0) == up { b + 1 } else { b - 1 })
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AggKind {
    Single,
    Mean,
    Votes,
    ProbMean,
    Sum,
    /// Votes for classes that are numbers (ranger, numeric response).
    VoteValues,
    /// The mean of the nodes' matrix rows (ranger, numeric response).
    MatrixMean,
    /// Survival curves: the mean of the nodes' matrix rows and its exp(-x)
    /// (ranger's survival forests).
    Survival,
}

/// The shrinkable shape of a case.
#[derive(Debug, Clone)]
pub struct Knobs {
    /// (kind: 0 numeric, 1 codes, 2 categorical; number of levels).
    pub features: Vec<(u8, usize)>,
    pub agg: AggKind,
    pub missing: MissingRule,
    pub nan_compare: bool,
    pub le: bool,
    pub n_trees: usize,
    pub max_depth: usize,
    /// 0: no missing values (NaN only where it is not missing); 1: missing
    /// values and unseen levels; 2: also unseen levels that are errors.
    pub dirt: u8,
    pub nrows: usize,
    pub doc_seed: u64,
    pub row_seed: u64,
}

pub fn arb_knobs(
    rows: impl Strategy<Value = usize>,
    trees: impl Strategy<Value = usize>,
    dirt: impl Strategy<Value = u8>,
) -> impl Strategy<Value = Knobs> {
    let levels = prop_oneof![2usize..=8, 9usize..=70, 60usize..=66];
    let agg = prop_oneof![
        Just(AggKind::Single),
        Just(AggKind::Mean),
        Just(AggKind::Votes),
        Just(AggKind::ProbMean),
        Just(AggKind::Sum),
        Just(AggKind::VoteValues),
        Just(AggKind::MatrixMean),
        Just(AggKind::Survival)
    ];
    let missing = prop_oneof![Just(MissingRule::Route), Just(MissingRule::NaRow), Just(MissingRule::Error)];
    (
        vec((0u8..3, levels), 1..=8),
        agg,
        missing,
        any::<bool>(),
        any::<bool>(),
        trees,
        0usize..=10,
        dirt,
        rows,
        any::<u64>(),
        any::<u64>(),
    )
        .prop_map(
            |(features, agg, missing, nan_compare, le, n_trees, max_depth, dirt, nrows, doc_seed, row_seed)| {
                // na_row goes with mean, votes and prob_mean only
                let missing = match (missing, agg) {
                    (
                        MissingRule::NaRow,
                        AggKind::Single | AggKind::Sum | AggKind::VoteValues | AggKind::MatrixMean | AggKind::Survival,
                    ) => MissingRule::Route,
                    (m, _) => m,
                };
                Knobs { features, agg, missing, nan_compare, le, n_trees, max_depth, dirt, nrows, doc_seed, row_seed }
            },
        )
}

pub struct FeatInfo {
    pub kind: FeatureKind,
    pub input: String,
    pub levels: Vec<String>,
    pub offset: f64,
    pub unseen: UnseenRule,
    /// Split points of numeric and codes features; rows hit them exactly.
    pub grid: Vec<f64>,
    pub int_column: bool,
}

fn feature_infos(k: &Knobs) -> Vec<FeatInfo> {
    k.features
        .iter()
        .enumerate()
        .map(|(j, &(kind, nl))| {
            let mut rng = Rng::new(k.doc_seed, S_FEATURE + j as u64);
            let kind = [FeatureKind::Numeric, FeatureKind::Codes, FeatureKind::Categorical][kind as usize];
            let input = format!("v{j}{}", ["", " é", ".x"][j % 3]);
            if kind == FeatureKind::Numeric {
                let int_column = rng.chance(0.2);
                let grid = (0..3 + rng.below(6))
                    .map(|_| match rng.below(4) {
                        0 => rng.below(17) as f64 - 8.0,
                        1 => (rng.range(-10.0, 10.0) * 4.0).round() / 4.0,
                        _ => rng.range(-10.0, 10.0),
                    })
                    .collect();
                return FeatInfo {
                    kind,
                    input,
                    levels: Vec::new(),
                    offset: 0.0,
                    unseen: UnseenRule::Error,
                    grid,
                    int_column,
                };
            }
            let levels: Vec<String> = (0..nl).map(|i| format!("{}{i}", ["l", "lév ", "L\""][j % 3])).collect();
            let offset = if kind == FeatureKind::Codes { rng.pick(&[0.0, 1.0, 1.0, 0.5, -2.0]) } else { 0.0 };
            let unseen = rng.pick(&[UnseenRule::Error, UnseenRule::Missing, UnseenRule::Last]);
            let grid = (0..4 + rng.below(6))
                .map(|_| rng.below(nl + 1) as f64 + offset + rng.pick(&[-0.5, 0.0, 0.0, 0.5, 0.25]))
                .collect();
            FeatInfo { kind, input, levels, offset, unseen, grid, int_column: false }
        })
        .collect()
}

pub struct Case {
    pub knobs: Knobs,
    pub doc: ModelDoc,
    pub data: FrameBuf,
    pub opts: PredictOptions,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:?}", self.knobs)?;
        writeln!(f, "options: {:?}", self.opts)?;
        writeln!(f, "document: {}", io::to_json(&self.doc, false).unwrap_or_default())?;
        for r in 0..self.data.nrows().min(16) {
            writeln!(f, "row {r}: {}", self.data.show_row(r))?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Documents. One stream (`S_DOC`) draws, in this order: the sizes, the
// shared tree context, the aggregation, the options, the inputs and
// features, the algorithm and the NaN rule.

/// Classes and trees.
struct Sizes {
    /// Class labels (gbm: trees per iteration), 0 for none.
    nk: usize,
    /// Classes the document names.
    k_classes: usize,
    /// Trees per iteration (gbm's interleaved classes), else 1.
    per_iter: usize,
    n_trees: usize,
}

fn sizes(k: &Knobs, rng: &mut Rng) -> Sizes {
    let nk = match k.agg {
        AggKind::Single if rng.chance(0.5) => 2 + rng.below(4),
        AggKind::Votes | AggKind::ProbMean | AggKind::VoteValues => 1 + rng.below(5),
        AggKind::Sum => rng.pick(&[0, 1, 1, 2, 3]),
        _ => 0,
    };
    // gbm's classes are trees per iteration; the others' are labels
    let (k_classes, per_iter) = match k.agg {
        AggKind::Sum => (if nk > 1 && rng.chance(0.5) { nk } else { 0 }, nk.max(1)),
        // the classes are numbers, not labels
        AggKind::VoteValues => (0, 1),
        _ => (nk, 1),
    };
    let n_trees = match k.agg {
        AggKind::Single => 1,
        AggKind::Sum => per_iter * (k.n_trees / per_iter).max(1),
        _ => k.n_trees,
    };
    Sizes { nk, k_classes, per_iter, n_trees }
}

/// The aggregation, its types and the default type.
fn aggregation(k: &Knobs, s: &Sizes, m_width: usize, rng: &mut Rng) -> (Aggregation, Vec<String>, &'static str) {
    let nk = s.nk;
    let (aggregation, types, default_type) = match k.agg {
        AggKind::Single if nk > 0 => (Aggregation::Single, vec!["vector", "prob", "class", "matrix"], "prob"),
        AggKind::Single => (Aggregation::Single, vec!["vector", "matrix"], "vector"),
        AggKind::Mean => {
            let bias = rng.chance(0.3).then(|| vec![rng.range(-2.0, 2.0), rng.range(0.5, 1.5)]);
            (Aggregation::Mean { bias }, vec!["response"], "response")
        }
        AggKind::Votes => {
            // few distinct cutoffs, so that scores tie
            let cutoff =
                rng.chance(0.4).then(|| (0..nk).map(|_| rng.pick(&[0.2, 0.25, 1.0 / 3.0, 0.5, 1.0])).collect());
            (Aggregation::Votes { cutoff }, vec!["response", "prob", "vote"], "response")
        }
        AggKind::ProbMean => (Aggregation::ProbMean, vec!["response"], "response"),
        AggKind::VoteValues => {
            let values = (0..nk).map(|c| c as f64 * 2.5 - rng.range(0.0, 1.0)).collect();
            (Aggregation::VoteValues { values }, vec!["response"], "response")
        }
        AggKind::MatrixMean => (Aggregation::MatrixMean, vec!["response"], "response"),
        AggKind::Survival => {
            // a death time per matrix column, increasing
            let mut t = 0.0;
            let times = (0..m_width)
                .map(|_| {
                    t += rng.range(0.5, 3.0);
                    t
                })
                .collect();
            (Aggregation::Survival { times }, vec!["response"], "response")
        }
        AggKind::Sum => {
            let iters = s.n_trees / s.per_iter;
            let agg = Aggregation::Sum {
                init: (0..s.per_iter).map(|_| rng.range(-1.0, 1.0)).collect(),
                n_classes: nk,
                transform: rng.pick(&["identity", "logistic", "exp", "adaboost", "softmax"]).to_string(),
                default_n_trees: 1 + rng.below(iters),
            };
            (agg, vec!["link", "response"], "link")
        }
    };
    (aggregation, strings(&types), default_type)
}

fn options(k: &Knobs, s: &Sizes, types: &[String], rng: &mut Rng) -> PredictOptions {
    let (n_trees, per_iter) = (s.n_trees, s.per_iter);
    PredictOptions {
        type_: (!rng.chance(0.3)).then(|| types[rng.below(types.len())].clone()),
        n_trees: match k.agg {
            AggKind::Single => rng.chance(0.1).then(|| vec![1]),
            AggKind::Sum => {
                rng.chance(0.5).then(|| (0..1 + rng.below(3)).map(|_| 1 + rng.below(n_trees / per_iter)).collect())
            }
            _ => rng.chance(0.3).then(|| vec![1 + rng.below(n_trees)]),
        },
        norm_votes: if k.agg == AggKind::Votes { rng.pick(&[None, Some(true), Some(false)]) } else { None },
        ..PredictOptions::default()
    }
}

fn inputs(feats: &[FeatInfo], rng: &mut Rng) -> Vec<InputSpec> {
    feats
        .iter()
        .map(|f| InputSpec {
            name: f.input.clone(),
            kind: if f.kind == FeatureKind::Numeric {
                InputType::Numeric
            } else {
                rng.pick(&[InputType::Factor, InputType::Ordered, InputType::Character])
            },
            levels: (f.kind != FeatureKind::Numeric).then(|| f.levels.clone()),
        })
        .collect()
}

fn features(feats: &[FeatInfo], rng: &mut Rng) -> Vec<FeatureSpec> {
    feats
        .iter()
        .map(|f| FeatureSpec {
            input: f.input.clone(),
            kind: f.kind,
            levels: (f.kind != FeatureKind::Numeric).then(|| f.levels.clone()),
            code_offset: (f.kind == FeatureKind::Codes && (f.offset != 0.0 || rng.chance(0.5))).then_some(f.offset),
            // "error" is the default when left out
            unseen: match f.unseen {
                _ if f.kind == FeatureKind::Numeric => None,
                UnseenRule::Error if rng.chance(0.5) => None,
                u => Some(u),
            },
        })
        .collect()
}

pub fn build_case(k: &Knobs) -> Case {
    let feats = feature_infos(k);
    let mut rng = Rng::new(k.doc_seed, S_DOC);
    let s = sizes(k, &mut rng);
    let ctx = DocCtx {
        route: k.missing == MissingRule::Route,
        agg: k.agg,
        k: if k.agg == AggKind::Sum { 0 } else { s.nk },
        with_probs: (k.agg == AggKind::Single && s.nk > 0) || k.agg == AggKind::ProbMean,
        m_width: match k.agg {
            AggKind::Single => rng.below(4),
            AggKind::MatrixMean | AggKind::Survival => 1 + rng.below(4),
            _ => 0,
        },
        main_features: if feats.len() > 1 && rng.chance(0.3) { 1 + rng.below(feats.len() - 1) } else { feats.len() },
        full_sets: rng.chance(0.3),
        feats,
    };
    let trees: Vec<TreeSpec> = (0..s.n_trees)
        .map(|t| {
            let mut trng = Rng::new(k.doc_seed, S_TREE + t as u64);
            let depth = k.max_depth.saturating_sub(trng.below(2));
            TreeGen::new(trng, &ctx).tree(depth)
        })
        .collect();
    let (aggregation, types, default_type) = aggregation(k, &s, ctx.m_width, &mut rng);
    let opts = options(k, &s, &types, &mut rng);
    let inputs = inputs(&ctx.feats, &mut rng);
    let features = features(&ctx.feats, &mut rng);
    let algorithm = match k.agg {
        AggKind::Single => "rpart",
        AggKind::Sum => "gbm",
        _ => rng.pick(&["randomForest", "ranger"]),
    };
    let nan = match (k.nan_compare, rng.chance(0.5)) {
        (true, _) => Some(NanRule::Compare),
        (false, true) => Some(NanRule::Missing),
        (false, false) => None,
    };
    let spec = TreesSpec {
        algorithm: algorithm.into(),
        features,
        split: if k.le { SplitRule::Le } else { SplitRule::Lt },
        missing: k.missing,
        nan,
        aggregation,
        types,
        default_type: default_type.into(),
        classes: (s.k_classes > 0).then(|| (1..=s.k_classes).map(|c| format!("class {c}")).collect()),
        trees,
    };
    let data = build_data(k, &ctx.feats);
    Case { knobs: k.clone(), doc: trees_doc(inputs, spec), data, opts }
}

// ---------------------------------------------------------------------------
// Rows.

/// Random rows: NA (both NA bit patterns), plain NaN, infinities, split
/// points exactly and one ulp either side; levels as factors (shuffled,
/// with unused extras) or strings, unseen levels where the rule allows.
fn build_data(k: &Knobs, feats: &[FeatInfo]) -> FrameBuf {
    let n = k.nrows;
    let dirty = k.dirt > 0;
    let mut nums: Vec<Vec<f64>> = vec![Vec::with_capacity(n); feats.len()];
    let mut names: Vec<Vec<Option<String>>> = vec![Vec::with_capacity(n); feats.len()];
    for r in 0..n {
        let mut rng = Rng::new(k.row_seed, r as u64);
        for (j, f) in feats.iter().enumerate() {
            let u = rng.unit();
            if f.kind == FeatureKind::Numeric {
                nums[j].push(number_cell(f, u, dirty || k.nan_compare, dirty, &mut rng));
            } else {
                names[j].push(level_cell(f, u, dirty, &mut rng));
            }
        }
    }
    let mut out = FrameBuf::new();
    for (j, f) in feats.iter().enumerate() {
        let mut rng = Rng::new(k.row_seed, S_COLUMN + j as u64);
        let col = if f.kind == FeatureKind::Numeric {
            number_column(f, std::mem::take(&mut nums[j]), dirty)
        } else {
            level_column(f, std::mem::take(&mut names[j]), k.dirt == 2, &mut rng)
        };
        out.push(f.input.clone(), col);
    }
    out.set_nrows(n);
    out
}

/// One value of a numeric feature, by `u`: NA where `na`, plain NaN where
/// `nan`, else infinities, grid points and their neighbours, zeros, any.
fn number_cell(f: &FeatInfo, u: f64, nan: bool, na: bool, rng: &mut Rng) -> f64 {
    let g = rng.pick(&f.grid);
    if na && u < 0.04 {
        if rng.chance(0.5) {
            NA_REAL
        } else {
            NA_QUIET
        }
    } else if nan && u < 0.07 {
        if rng.chance(0.5) {
            f64::NAN
        } else {
            -f64::NAN
        }
    } else if u < 0.10 {
        rng.pick(&[f64::INFINITY, f64::NEG_INFINITY])
    } else if u < 0.45 {
        g
    } else if u < 0.55 {
        if rng.chance(0.5) {
            one_ulp(g, true)
        } else {
            one_ulp(g, false)
        }
    } else if u < 0.6 {
        rng.pick(&[0.0, -0.0])
    } else {
        rng.range(-12.0, 12.0)
    }
}

/// One level name, by `u`: missing where `dirty`, unseen where the rule
/// allows it, else a known level.
fn level_cell(f: &FeatInfo, u: f64, dirty: bool, rng: &mut Rng) -> Option<String> {
    if dirty && u < 0.05 {
        None
    } else if f.unseen != UnseenRule::Error && (dirty || f.unseen == UnseenRule::Last) && u < 0.10 {
        Some(format!("new {}", rng.below(3)))
    } else {
        Some(f.levels[rng.below(f.levels.len())].clone())
    }
}

/// Doubles, or integers (NaN as NA where `dirty`, else 0).
fn number_column(f: &FeatInfo, vals: Vec<f64>, dirty: bool) -> ColumnBuf {
    if !f.int_column {
        return ColumnBuf::Real(vals);
    }
    let int = |v: f64| match v {
        v if v.is_nan() && dirty => NA_INTEGER,
        v if v.is_nan() => 0,
        v => v.clamp(-20.0, 20.0).round() as i32,
    };
    ColumnBuf::Int(vals.into_iter().map(int).collect())
}

/// A factor with its own levels (the used ones, some unused known ones,
/// unused unknown ones, shuffled) or strings; with `never_seen`, maybe one
/// level that the "error" rule refuses.
fn level_column(f: &FeatInfo, mut vals: Vec<Option<String>>, never_seen: bool, rng: &mut Rng) -> ColumnBuf {
    let n = vals.len();
    if f.unseen == UnseenRule::Error && never_seen && n > 0 && rng.chance(0.5) {
        vals[rng.below(n)] = Some("never seen".into());
    }
    if !rng.chance(0.6) {
        return ColumnBuf::Str(vals);
    }
    let mut used: Vec<&str> = vals.iter().flatten().map(String::as_str).collect();
    used.sort_unstable();
    used.dedup();
    let mut levels: Vec<String> = used.iter().map(|s| s.to_string()).collect();
    for l in &f.levels {
        if !used.contains(&l.as_str()) && rng.chance(0.7) {
            levels.push(l.clone());
        }
    }
    for e in 0..rng.below(3) {
        levels.push(format!("unused {e}"));
    }
    rng.shuffle(&mut levels);
    let pos: HashMap<&str, i32> = levels.iter().enumerate().map(|(i, l)| (l.as_str(), i as i32 + 1)).collect();
    let codes = vals.iter().map(|v| v.as_deref().map_or(NA_INTEGER, |s| pos[s])).collect();
    ColumnBuf::Factor { codes, levels }
}
