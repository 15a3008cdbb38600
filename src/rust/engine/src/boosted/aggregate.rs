//! From the trees' sums to the predictions: every row starts from the base
//! margin, the trees add to it in order (`walk`), then a margin is written
//! as it is and a response through the library's transform.
//!
//! xgboost sums in float32, the base margin first and each leaf rounded in
//! turn (`scalar::PredValueByOneTree`, `src/predictor/cpu_predictor.cc:104`);
//! LightGBM in double from 0 (`GBDT::PredictRaw`,
//! `src/boosting/gbdt_prediction.cpp:15`), and for rf the response divides
//! by the rounds used (`GBDT::Predict`, `:61`).

use crate::output::RowBlock;

use super::layout::Real;
use super::transform::Transform;

/// How a call turns sums into its output.
#[derive(Debug, Clone, Copy)]
pub(super) struct Finish {
    /// Write the margin (raw score) instead of the response.
    pub margin: bool,
    pub transform: Transform,
    /// Outputs (sums) per row.
    pub k: usize,
    /// LightGBM rf: divide a response by this many rounds.
    pub average: Option<usize>,
}

/// Start `n` rows of `acc` (`k` values a row) from `base`.
pub(super) fn start<T: Real>(acc: &mut [T], base: &[T], n: usize) {
    let k = base.len();
    for row in acc[..n * k].chunks_exact_mut(k) {
        row.copy_from_slice(base);
    }
}

/// Float32 sums: write `n` rows from block row `at`.
pub(super) fn write_f32(f: &Finish, acc: &mut [f32], n: usize, block: &mut RowBlock, at: usize) {
    let k = f.k;
    if f.margin {
        write_rows(block, at, n, k, |row, c| f64::from(acc[row * k + c]));
        return;
    }
    let width = f.transform.width(k);
    let mut out = vec![0f32; n * width];
    for row in 0..n {
        f.transform.apply_f32(&acc[row * k..(row + 1) * k], &mut out[row * width..(row + 1) * width]);
    }
    write_rows(block, at, n, width, |row, c| f64::from(out[row * width + c]));
}

/// Double sums: write `n` rows from block row `at`.
pub(super) fn write_f64(f: &Finish, acc: &mut [f64], n: usize, block: &mut RowBlock, at: usize) {
    let k = f.k;
    let acc = &mut acc[..n * k];
    if !f.margin {
        for row in acc.chunks_exact_mut(k) {
            if let Some(rounds) = f.average {
                row.iter_mut().for_each(|v| *v /= rounds as f64);
            }
            f.transform.apply_f64(row);
        }
    }
    write_rows(block, at, n, k, |row, c| acc[row * k + c]);
}

/// Column `c` of the output for row `row` is `value(row, c)`.
fn write_rows(block: &mut RowBlock, at: usize, n: usize, width: usize, value: impl Fn(usize, usize) -> f64) {
    for c in 0..width {
        let out = block.real(c);
        for (row, o) in out[at..at + n].iter_mut().enumerate() {
            *o = value(row, c);
        }
    }
}

#[cfg(test)]
mod tests;
