//! Slots: what the splits read from a row, prepared once per row so that
//! every split tests its slot the same way (`x <= t`, NaN to the default
//! child, or a category code against a set).
//!
//! A slot is an input read one way. The libraries read an input differently
//! depending on the split, so one input can fill several slots:
//!
//! * xgboost numbers: the double rounded to float32 (`Entry::fvalue`).
//! * xgboost category codes: a float below 0 or at least 2^24 is no
//!   category (`InvalidCat`, `src/common/categorical.h:39`), else the code
//!   is its truncation.
//! * LightGBM numbers: within 1e-35 of zero read as 0 (the dense row reader
//!   drops them, `src/c_api.cpp:2864`), then by the split's missing type
//!   (`include/LightGBM/tree.h:337` `NumericalDecision`): "none" reads NaN
//!   as 0, "zero" reads 0 as missing, "NaN" keeps NaN as missing.
//! * LightGBM category codes: truncated to an int; a negative one (or one
//!   past the int range) is no category (`CategoricalDecision`, `:374`).
//!
//! No category is -1, which no set holds; a missing value is NaN.

use std::collections::HashMap;
use std::ops::Range;

use crate::frame::bind::Bound;
use crate::frame::levels::{FactorCodes, NA_CODE};

use super::layout::Real;

/// LightGBM's `kZeroThreshold`: `1e-35f`, a float constant used as a double
/// (`include/LightGBM/meta.h:56`).
pub(super) const K_ZERO_THRESHOLD: f64 = 1e-35f32 as f64;

/// 2^24: xgboost's largest category code is below it.
const XGB_MAX_CAT: f32 = 16_777_216.0;
/// 2^31: a larger double does not truncate to an int.
const LGB_MAX_CAT: f64 = 2_147_483_648.0;

/// How a slot reads its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum SlotKind {
    XgbNumber,
    XgbCode,
    /// LightGBM number by missing type: 0 none, 1 zero, 2 NaN.
    LgbNumber(u8),
    LgbCode,
}

impl SlotKind {
    /// The slot's value from the input's value `v` (NaN when missing).
    #[inline]
    pub fn read(self, v: f64) -> f64 {
        match self {
            SlotKind::XgbNumber => f64::from(v as f32),
            SlotKind::XgbCode => {
                let f = v as f32;
                if f.is_nan() {
                    f64::NAN
                } else if !(0.0..XGB_MAX_CAT).contains(&f) {
                    -1.0
                } else {
                    f64::from(f.trunc())
                }
            }
            SlotKind::LgbNumber(missing) => {
                let v = if v.abs() <= K_ZERO_THRESHOLD { 0.0 } else { v };
                match missing {
                    0 if v.is_nan() => 0.0,
                    1 if v == 0.0 => f64::NAN,
                    _ => v,
                }
            }
            SlotKind::LgbCode => {
                if v.is_nan() {
                    return v;
                }
                let c = v.trunc();
                if !(0.0..LGB_MAX_CAT).contains(&c) {
                    -1.0
                } else {
                    c
                }
            }
        }
    }
}

/// The slots of a model.
#[derive(Debug, Clone, Default)]
pub(super) struct Slots {
    /// (input, kind) of each slot.
    pub list: Vec<(usize, SlotKind)>,
    index: HashMap<(usize, SlotKind), u32>,
}

impl Slots {
    /// The slot of `input` read as `kind`, added if new.
    pub fn of(&mut self, input: usize, kind: SlotKind) -> u32 {
        let n = self.list.len() as u32;
        *self.index.entry((input, kind)).or_insert_with(|| {
            self.list.push((input, kind));
            n
        })
    }

    /// Values per row in a block (at least one: a model whose trees are all
    /// leaves still walks them, reading slot 0 at padding nodes).
    pub fn width(&self) -> usize {
        self.list.len().max(1)
    }
}

/// One input's values for a call.
pub(super) enum Source<'s> {
    Number(crate::frame::bind::NumView<'s>),
    Codes(&'s FactorCodes<'s>),
}

impl Source<'_> {
    #[inline]
    pub fn get(&self, r: usize) -> f64 {
        match self {
            Source::Number(v) => v.get(r),
            Source::Codes(c) => match c.get(r) {
                NA_CODE => f64::NAN,
                code => f64::from(code),
            },
        }
    }
}

/// Fill `xs` (row-major, `slots.width()` values a row) for `rows`.
pub(super) fn load<T: Real>(slots: &Slots, sources: &[Source], rows: Range<usize>, xs: &mut [T]) {
    let w = slots.width();
    for (s, &(input, kind)) in slots.list.iter().enumerate() {
        let src = &sources[input];
        for (k, r) in rows.clone().enumerate() {
            xs[k * w + s] = T::of(kind.read(src.get(r)));
        }
    }
}

/// The level codes of the `n` inputs for a call: of those `used` lists
/// (all when `None`) that are factors (`codes`); the others read numbers.
pub(super) fn codes<'c>(
    used: Option<&[(usize, SlotKind)]>,
    n: usize,
    codes: impl Fn(usize) -> crate::error::Result<Option<FactorCodes<'c>>>,
) -> crate::error::Result<Vec<Option<FactorCodes<'c>>>> {
    let mut read = vec![used.is_none(); n];
    for &(i, _) in used.unwrap_or(&[]) {
        read[i] = true;
    }
    read.iter().enumerate().map(|(input, &r)| if r { codes(input) } else { Ok(None) }).collect()
}

/// The sources of a task: the bound columns, through their codes.
pub(super) fn sources<'s>(bound: &'s Bound, codes: &'s [Option<FactorCodes<'s>>]) -> Vec<Source<'s>> {
    codes
        .iter()
        .enumerate()
        .map(|(input, c)| match c {
            Some(c) => Source::Codes(c),
            None => Source::Number(bound.num(input)),
        })
        .collect()
}
