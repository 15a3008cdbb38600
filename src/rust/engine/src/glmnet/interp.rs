//! Where a penalty `s` falls on the path, computed as glmnet's
//! `lambda.interp()` computes it (with R's `approx()` inside), operation for
//! operation, so that the blended coefficients are R's to the bit.

/// The path normalised as `lambda.interp()` normalises it:
/// `(lambda[1] - lambda) / (lambda[1] - lambda[k])`, from 0 up to 1.
pub(super) fn normalise(lambda: &[f64]) -> Vec<f64> {
    let k = lambda.len();
    if k < 2 {
        return vec![0.0; k];
    }
    let span = lambda[0] - lambda[k - 1];
    lambda.iter().map(|l| (lambda[0] - l) / span).collect()
}

/// `lambda.interp(lambda, s)` for one `s` (not NaN): the 0-based columns
/// `left` and `right` and the weight `frac` of the left one. Values of `s`
/// outside the path take its first or last column: glmnet does not
/// extrapolate.
pub(super) fn interp(lambda: &[f64], norm: &[f64], s: f64) -> (usize, usize, f64) {
    let k = lambda.len();
    if k == 1 {
        return (0, 0, 1.0);
    }
    let mut sfrac = (lambda[0] - s) / (lambda[0] - lambda[k - 1]);
    // min() and max() of the normalised path, which increases strictly
    // (checked when the model is loaded)
    let (lo, hi) = (norm[0], norm[k - 1]);
    if sfrac < lo {
        sfrac = lo;
    }
    if sfrac > hi {
        sfrac = hi;
    }
    let coord = approx(norm, sfrac);
    // coord is 1-based, within [1, k]
    let left = coord.floor() as usize - 1;
    let right = coord.ceil() as usize - 1;
    let mut frac = (sfrac - norm[right]) / (norm[left] - norm[right]);
    if left == right || (norm[left] - norm[right]).abs() < f64::EPSILON {
        frac = 1.0;
    }
    (left, right, frac)
}

/// R's `approx(x, seq_along(x), v)$y` for increasing `x` and `v` within
/// its range (stats' C `approx1`: bisection, then linear interpolation).
fn approx(x: &[f64], v: f64) -> f64 {
    let (mut i, mut j) = (0, x.len() - 1);
    while i + 1 < j {
        let ij = (i + j) / 2;
        if v < x[ij] {
            j = ij;
        } else {
            i = ij;
        }
    }
    let (yi, yj) = ((i + 1) as f64, (j + 1) as f64);
    if v == x[j] {
        return yj;
    }
    if v == x[i] {
        return yi;
    }
    yi + (yj - yi) * ((v - x[i]) / (x[j] - x[i]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_between_and_outside_the_path() {
        let lambda = [1.0, 0.5, 0.25, 0.125];
        let norm = normalise(&lambda);
        assert_eq!(norm[0], 0.0);
        assert_eq!(norm[3], 1.0);
        assert_eq!(interp(&lambda, &norm, 0.5), (1, 1, 1.0));
        // above the path: the first column, below: the last
        assert_eq!(interp(&lambda, &norm, 7.0), (0, 0, 1.0));
        assert_eq!(interp(&lambda, &norm, f64::INFINITY), (0, 0, 1.0));
        assert_eq!(interp(&lambda, &norm, -3.0), (3, 3, 1.0));
        assert_eq!(interp(&lambda, &norm, 0.0), (3, 3, 1.0));
        let (l, r, f) = interp(&lambda, &norm, 0.375);
        assert_eq!((l, r), (1, 2));
        assert!((f - 0.5).abs() < 1e-15);
        assert_eq!(interp(&[0.3], &normalise(&[0.3]), 0.1), (0, 0, 1.0));
    }

    #[test]
    fn the_weight_moves_from_right_to_left_as_s_grows() {
        let lambda: Vec<f64> = (0..50).map(|i| 0.9f64.powi(i)).collect();
        let norm = normalise(&lambda);
        for i in 0..49 {
            let s = 0.7 * lambda[i] + 0.3 * lambda[i + 1];
            let (l, r, f) = interp(&lambda, &norm, s);
            assert_eq!((l, r), (i, i + 1));
            assert!(f > 0.69 && f < 0.71, "{f}");
        }
    }
}
