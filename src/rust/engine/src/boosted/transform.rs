//! The response transforms, each in its library's arithmetic: xgboost in
//! float32 (`src/common/math.h`, the objectives' `PredTransform`), LightGBM
//! in double (the objectives' `ConvertOutput`). Also xgboost's
//! `ProbToMargin`, which the importer applies to `base_score`.
//!
//! xgboost calls the C library's `expf` and `logf` (glibc on Linux), and
//! Rust's `f32::exp` and `f32::ln` call the same functions of the
//! platform's C library, so the engine uses those: on glibc they are
//! xgboost's to the bit (every fixture response; and the engine test
//! `expf_exhaustive` compared them with glibc's `expf` and `logf` on all
//! 2^32 floats). The `libm` crate is not: its `expf` is FreeBSD's, which
//! differs from glibc 2.36's on 19,194,594 floats (its `logf` on
//! 13,575,147), and in the last bit of responses of 24 of the xgboost
//! fixtures. On another C library xgboost and fastpredict call that
//! library's functions alike.

use crate::format::BoostTransform;

/// The C library's `expf`, as xgboost calls it.
#[inline]
pub(crate) fn expf(x: f32) -> f32 {
    x.exp()
}

/// The C library's `logf`.
#[inline]
pub(crate) fn logf(x: f32) -> f32 {
    x.ln()
}

/// xgboost's `common::Sigmoid(float)` (`src/common/math.h:31`): the
/// exponent is clamped at 88.7 (where `expf` would overflow) and 1e-16
/// added to the denominator, all in float.
#[inline]
pub(crate) fn xgb_sigmoid(x: f32) -> f32 {
    const EPS: f32 = 1e-16;
    // std::min(-x, 88.7f)
    let x = if 88.7 < -x { 88.7 } else { -x };
    let denom = expf(x) + 1.0 + EPS;
    1.0 / denom
}

/// xgboost's `ProbToMargin` of the logistic objectives
/// (`src/objective/regression_loss.h:76`): the logit of the intercept,
/// clamped to [1e-6, 1 - 1e-6] (`kRtEps`), in float.
pub(crate) fn xgb_logit(v: f32) -> f32 {
    const EPS: f32 = 1e-6;
    // std::min(std::max(v, kRtEps), 1 - kRtEps)
    let v = v.clamp(EPS, 1.0 - EPS);
    -logf(1.0 / v - 1.0)
}

/// The transform of a model, resolved once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Transform {
    Identity,
    Logistic(f64),
    Exp,
    Hinge,
    Softmax,
    Argmax,
    SignedSquare,
    Log1pExp,
    None,
}

impl Transform {
    pub fn new(t: &BoostTransform) -> Transform {
        match t {
            BoostTransform::Identity => Transform::Identity,
            BoostTransform::Logistic { scale } => Transform::Logistic(*scale),
            BoostTransform::Exp => Transform::Exp,
            BoostTransform::Hinge => Transform::Hinge,
            BoostTransform::Softmax => Transform::Softmax,
            BoostTransform::Argmax => Transform::Argmax,
            BoostTransform::SignedSquare => Transform::SignedSquare,
            BoostTransform::Log1pExp => Transform::Log1pExp,
            BoostTransform::None => Transform::None,
        }
    }

    /// Values per row of a response with `k` outputs.
    pub fn width(self, k: usize) -> usize {
        if self == Transform::Argmax {
            1
        } else {
            k
        }
    }

    /// xgboost, float32: the response of one row's margins, in place
    /// (`out` takes `width` values).
    pub fn apply_f32(self, m: &[f32], out: &mut [f32]) {
        match self {
            Transform::Identity | Transform::None | Transform::SignedSquare | Transform::Log1pExp => {
                out.copy_from_slice(m)
            }
            Transform::Logistic(_) => out.iter_mut().zip(m).for_each(|(o, &x)| *o = xgb_sigmoid(x)),
            // count:poisson, reg:tweedie, reg:gamma, survival:cox and
            // survival:aft all take expf of the float margin
            Transform::Exp => out.iter_mut().zip(m).for_each(|(o, &x)| *o = expf(x)),
            // binary:hinge (src/objective/hinge.cu:83)
            Transform::Hinge => out.iter_mut().zip(m).for_each(|(o, &x)| *o = if x > 0.0 { 1.0 } else { 0.0 }),
            Transform::Softmax => xgb_softmax(m, out),
            Transform::Argmax => {
                // common::FindMaxIndex: the first strictly greater value wins
                let mut best = 0;
                for (i, &x) in m.iter().enumerate() {
                    if x > m[best] {
                        best = i;
                    }
                }
                out[0] = best as f32;
            }
        }
    }

    /// LightGBM, double: the response of one row's raw scores, in place.
    pub fn apply_f64(self, v: &mut [f64]) {
        match self {
            Transform::Identity | Transform::None | Transform::Hinge | Transform::Argmax => {}
            // BinaryLogloss / MulticlassOVA / CrossEntropy::ConvertOutput:
            // 1.0f / (1.0f + std::exp(-sigmoid_ * input)) in double
            Transform::Logistic(scale) => v.iter_mut().for_each(|x| *x = 1.0 / (1.0 + (-scale * *x).exp())),
            Transform::Exp => v.iter_mut().for_each(|x| *x = x.exp()),
            Transform::Softmax => lgb_softmax(v),
            // RegressionL2loss with sqrt: Common::Sign(x) * x * x
            Transform::SignedSquare => v.iter_mut().for_each(|x| *x = sign(*x) * *x * *x),
            // CrossEntropyLambda::ConvertOutput: std::log1p(std::exp(x))
            Transform::Log1pExp => v.iter_mut().for_each(|x| *x = x.exp().ln_1p()),
        }
    }
}

fn sign(x: f64) -> f64 {
    f64::from(u8::from(x > 0.0)) - f64::from(u8::from(x < 0.0))
}

/// xgboost's `common::Softmax` (`src/common/math.h:70`): the maximum by
/// `fmaxf`, `expf` of the differences in float, their sum in double, each
/// divided by the sum rounded to float.
fn xgb_softmax(m: &[f32], out: &mut [f32]) {
    let Some(&first) = m.first() else { return };
    let wmax = m[1..].iter().fold(first, |w, &x| x.max(w));
    let mut wsum = 0.0f64;
    for (o, &x) in out.iter_mut().zip(m) {
        *o = expf(x - wmax);
        wsum += f64::from(*o);
    }
    let s = wsum as f32;
    out.iter_mut().for_each(|o| *o /= s);
}

/// LightGBM's `Common::Softmax` (`include/LightGBM/utils/common.h:591`).
fn lgb_softmax(v: &mut [f64]) {
    let Some(&first) = v.first() else { return };
    // std::max(input[i], wmax)
    let wmax = v[1..].iter().fold(first, |w, &x| if x < w { w } else { x });
    let mut wsum = 0.0;
    for x in v.iter_mut() {
        *x = (*x - wmax).exp();
        wsum += *x;
    }
    v.iter_mut().for_each(|x| *x /= wsum);
}

#[cfg(test)]
mod tests;
