//! Features: what the splits read from the input, and the per-block copy of
//! those values (row-major, one slot per feature some split can read).

use std::collections::HashSet;
use std::ops::Range;

use crate::error::{Error, Result};
use crate::format::{FeatureKind, FeatureSpec, MissingRule, UnseenRule};
use crate::frame::bind::{Bound, Inputs};
use crate::frame::levels::{FactorCodes, Levels, Unseen, NA_CODE};
use crate::frame::NA_REAL;
use crate::trees::layout::{Dir, Tree, CAT, FMASK, LEAF};

#[derive(Debug, Clone)]
pub(super) struct Feature {
    pub input: usize,
    pub column: String,
    pub kind: FeatureKind,
    pub levels: Option<Levels>,
    pub offset: f64,
    pub unseen: Unseen,
}

impl Feature {
    pub fn new(f: &FeatureSpec, inputs: &Inputs) -> Result<Feature> {
        Ok(Feature {
            input: inputs.index(&f.input)?,
            column: f.input.clone(),
            kind: f.kind,
            levels: f.levels.as_ref().map(|l| Levels::new(l)).transpose()?,
            offset: f.code_offset.unwrap_or(0.0),
            unseen: match f.unseen.unwrap_or(UnseenRule::Error) {
                UnseenRule::Error => Unseen::Error,
                UnseenRule::Missing => Unseen::Missing,
                UnseenRule::Last => Unseen::Last,
            },
        })
    }

    /// Level codes the feature can take: its levels, plus one for unseen
    /// levels sorted last.
    pub fn ncodes(&self) -> usize {
        self.levels.as_ref().map_or(0, |l| l.len()) + usize::from(self.unseen == Unseen::Last)
    }
}

/// The last position a `positions` feature tells apart: a category set
/// lists positions below it, and every larger one (or one below 0) reads as
/// this one, which goes left at every split, as in ranger (whose bitmask, a
/// double, has no bit this high).
pub(super) const LAST_POSITION: u32 = 63;

/// ranger's `floor(x) - 1`, with everything outside the positions a split
/// can name read as `LAST_POSITION`; a missing value stays missing.
fn position(v: f64) -> f64 {
    let p = v.floor() - 1.0;
    if v.is_nan() {
        v
    } else if p >= 0.0 && p < f64::from(LAST_POSITION) {
        p
    } else {
        f64::from(LAST_POSITION)
    }
}

/// Which features a block copies, in which slot of its row. `eager`
/// features are copied for every row; `lazy` ones (read only by
/// surrogates) only for rows with a missing eager value, since a surrogate
/// is consulted only where a main split's value is missing. The others are
/// read by no split and take no slot.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct LoadPlan {
    /// (feature, slot)
    pub eager: Vec<(usize, usize)>,
    pub lazy: Vec<(usize, usize)>,
    /// Slots per row.
    pub width: usize,
}

impl LoadPlan {
    /// With `missing = "route"`, the features the trees read: a surrogate's
    /// feature is eager too when some categorical main split leaves a code
    /// in neither set (then a surrogate is consulted without any missing
    /// value). The other rules look at every feature of a row.
    pub fn new(features: &[Feature], trees: &[Tree], route: bool) -> LoadPlan {
        let nf = features.len();
        if !route {
            return LoadPlan { eager: (0..nf).map(|j| (j, j)).collect(), lazy: Vec::new(), width: nf };
        }
        let mut main = vec![false; nf];
        let mut surr = vec![false; nf];
        let mut gaps = false;
        for t in trees {
            for n in t.nodes.iter().filter(|n| n.feature & LEAF == 0) {
                let j = (n.feature & FMASK) as usize;
                main[j] = true;
                if n.feature & CAT != 0 {
                    let set = &t.cats[n.threshold as usize];
                    gaps |= (0..features[j].ncodes()).any(|c| set.dir(c as f64) == Dir::Missing);
                }
            }
            for s in &t.surr {
                surr[s.feature as usize] = true;
            }
        }
        let eager: Vec<usize> = (0..nf).filter(|&j| main[j] || (gaps && surr[j])).collect();
        let lazy: Vec<usize> = (0..nf).filter(|&j| !gaps && surr[j] && !main[j]).collect();
        let width = eager.len() + lazy.len();
        let slots = |v: Vec<usize>, first: usize| v.into_iter().enumerate().map(|(s, j)| (j, first + s)).collect();
        LoadPlan { eager: slots(eager.clone(), 0), lazy: slots(lazy, eager.len()), width }
    }

    /// Slot of each feature (`u32::MAX` for none).
    pub fn slot_of(&self, nf: usize) -> Vec<u32> {
        let mut slot = vec![u32::MAX; nf];
        for &(j, s) in self.eager.iter().chain(&self.lazy) {
            slot[j] = s as u32;
        }
        slot
    }
}

/// What a call does with a categorical feature's level codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Use {
    /// A split reads them: map them and keep them for the call.
    Read,
    /// No split reads them, but R checks every predictor for unseen
    /// levels: map them, and drop them at once.
    Check,
    /// Another feature makes the same check (same input, levels and rule).
    Skip,
}

/// How each feature's codes are used, given which features have a slot.
pub(super) fn uses(features: &[Feature], slots: &[u32]) -> Vec<Use> {
    let mut checked: HashSet<(usize, &[String], Unseen)> = HashSet::new();
    features
        .iter()
        .zip(slots)
        .map(|(f, &slot)| match &f.levels {
            _ if slot != u32::MAX => Use::Read,
            Some(l) if f.kind != FeatureKind::Numeric && checked.insert((f.input, l.names(), f.unseen)) => Use::Check,
            _ => Use::Skip,
        })
        .collect()
}

/// Per-call state: the level codes of the categorical features a split
/// reads. The others are checked, but their codes are not kept: a call's
/// memory follows what the splits read, not how many features a document
/// declares. With `missing = "error"` a missing value anywhere is refused
/// first.
pub(super) fn codes<'c>(
    features: &[Feature],
    uses: &[Use],
    bound: &Bound<'_, 'c>,
    missing: MissingRule,
    is_missing: impl Fn(f64) -> bool,
) -> Result<Vec<Option<FactorCodes<'c>>>> {
    let codes = features
        .iter()
        .zip(uses)
        .map(|(f, &u)| match &f.levels {
            Some(levels) if f.kind != FeatureKind::Numeric && u != Use::Skip => {
                let c = FactorCodes::new(bound.column(f.input), &f.column, levels, f.unseen)?;
                Ok((u == Use::Read).then_some(c))
            }
            _ => Ok(None),
        })
        .collect::<Result<Vec<_>>>()?;
    if missing == MissingRule::Error {
        for (f, c) in features.iter().zip(&codes) {
            let has_na = match c {
                Some(c) => (0..bound.nrows()).any(|r| c.get(r) == NA_CODE),
                None => (0..bound.nrows()).any(|r| is_missing(bound.num(f.input).get(r))),
            };
            if has_na {
                return Err(Error::bad_argument(format!(
                    "column '{}' has missing values, which this model cannot predict from",
                    f.column
                )));
            }
        }
    }
    Ok(codes)
}

fn value(f: &Feature, c: &Option<FactorCodes>, bound: &Bound, r: usize) -> f64 {
    match c {
        None if f.kind == FeatureKind::Positions => position(bound.num(f.input).get(r)),
        None => bound.num(f.input).get(r),
        Some(c) => match c.get(r) {
            NA_CODE => NA_REAL,
            code => code as f64 + f.offset,
        },
    }
}

/// Fill the feature block for `rows`: row-major, `plan.width` slots a row.
/// Reading input columns is most of the cost of a shallow tree, so only
/// the slots a split can read are filled, and the lazy ones only for the
/// rows that can consult a surrogate: in other rows no walk reads them.
pub(super) fn load_block(
    features: &[Feature],
    plan: &LoadPlan,
    bound: &Bound,
    codes: &[Option<FactorCodes>],
    rows: Range<usize>,
    xs: &mut [f64],
) {
    let w = plan.width;
    for &(j, s) in &plan.eager {
        let (f, c) = (&features[j], &codes[j]);
        match c {
            None if f.kind != FeatureKind::Positions => {
                let v = bound.num(f.input);
                for (k, r) in rows.clone().enumerate() {
                    xs[k * w + s] = v.get(r);
                }
            }
            _ => {
                for (k, r) in rows.clone().enumerate() {
                    xs[k * w + s] = value(f, c, bound, r);
                }
            }
        }
    }
    if plan.lazy.is_empty() {
        return;
    }
    for (k, r) in rows.enumerate() {
        let x = &mut xs[k * w..(k + 1) * w];
        if !plan.eager.iter().any(|&(_, s)| x[s].is_nan()) {
            continue;
        }
        for &(j, s) in &plan.lazy {
            x[s] = value(&features[j], &codes[j], bound, r);
        }
    }
}
