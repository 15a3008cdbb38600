//! xgboost's linear booster (`gblinear`), as `GBLinear::Pred` computes it
//! (`src/gbm/gblinear.cc:301`): per output, the bias plus the first base
//! margin, then each present (non-missing) input times its weight, in input
//! order and in float32.

use std::ops::Range;

use super::slots::{SlotKind, Source};

#[derive(Debug, Clone)]
pub(super) struct Linear {
    /// `(p + 1) x k` weights, input-major, the biases last.
    pub weights: Vec<f32>,
    /// Added to every output: xgboost uses `base_score[0]` for all (`:265`).
    pub base: f32,
    pub p: usize,
    pub k: usize,
}

impl Linear {
    /// Margins of `rows` into `acc` (`k` a row).
    pub fn predict(&self, sources: &[Source], rows: Range<usize>, acc: &mut [f32]) {
        let (p, k) = (self.p, self.k);
        let mut x = vec![0f32; p];
        for (n, r) in rows.enumerate() {
            for (j, v) in x.iter_mut().enumerate() {
                *v = SlotKind::XgbNumber.read(sources[j].get(r)) as f32;
            }
            for g in 0..k {
                let mut psum = self.weights[p * k + g] + self.base;
                for (j, &v) in x.iter().enumerate() {
                    if !v.is_nan() {
                        psum += v * self.weights[j * k + g];
                    }
                }
                acc[n * k + g] = psum;
            }
        }
    }
}
