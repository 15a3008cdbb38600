//! The quantiles of intervals: Student's t and the normal, as R's `qt()`
//! and `qnorm()` give them to about 1e-12 relative (checked against R in
//! `quantile/tests.rs`, from values R printed, and end to end by the R
//! interval tests).
//!
//! statrs gives the normal quantile, and a t quantile that is good to about
//! 1e-11; one or two Newton steps on statrs' own t distribution function
//! bring it to about 1e-12 for fewer than 1,000 degrees of freedom. Above,
//! where statrs' t functions lose precision, the Cornish-Fisher expansion
//! of t around the normal quantile to the fourth power of 1/df is exact to
//! about 1e-12 already (its next term is below 1e-15 there).

use std::cell::Cell;

use statrs::distribution::{Continuous, ContinuousCDF, Normal, StudentsT};

/// Degrees of freedom from which the expansion replaces statrs.
const EXPANSION_DF: f64 = 1000.0;

/// The standard normal quantile of `p` (0 < p < 1).
pub(crate) fn qnorm(p: f64) -> f64 {
    match Normal::new(0.0, 1.0) {
        Ok(n) => n.inverse_cdf(p),
        Err(_) => f64::NAN,
    }
}

thread_local! {
    /// The last t quantile computed on this thread, by the bits of `p` and
    /// `df`: a model's calls ask for the same one (its residual degrees of
    /// freedom, the same level), and statrs' inversion costs microseconds.
    static LAST_QT: Cell<Option<(u64, u64, f64)>> = const { Cell::new(None) };
}

/// Student's t quantile of `p` with `df` degrees of freedom (infinite:
/// the normal quantile).
pub(crate) fn qt(p: f64, df: f64) -> f64 {
    let key = (p.to_bits(), df.to_bits());
    if let Some((kp, kd, q)) = LAST_QT.get() {
        if (kp, kd) == key {
            return q;
        }
    }
    let q = qt_computed(p, df);
    LAST_QT.set(Some((key.0, key.1, q)));
    q
}

fn qt_computed(p: f64, df: f64) -> f64 {
    if !(p > 0.0 && p < 1.0 && df > 0.0) {
        return f64::NAN;
    }
    if df >= EXPANSION_DF {
        return cornish_fisher(qnorm(p), df);
    }
    let Ok(t) = StudentsT::new(0.0, 1.0, df) else { return f64::NAN };
    let mut q = t.inverse_cdf(p);
    for _ in 0..3 {
        let f = t.pdf(q);
        if !(f > 0.0) {
            break;
        }
        let step = (t.cdf(q) - p) / f;
        q -= step;
        if !(step.abs() > 1e-16 * q.abs()) {
            break;
        }
    }
    q
}

/// t quantile from the normal quantile `z` (Abramowitz and Stegun 26.7.5).
fn cornish_fisher(z: f64, df: f64) -> f64 {
    let z2 = z * z;
    let g1 = (z2 + 1.0) * z / 4.0;
    let g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0;
    let g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0;
    let g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92160.0;
    z + (g1 + (g2 + (g3 + g4 / df) / df) / df) / df
}

#[cfg(test)]
mod tests;
