//! B-spline bases as `splines::bs()` and `splines::ns()` evaluate them on
//! new data: the Cox-de Boor recursion inside the boundary knots, a stored
//! polynomial outside them, then the optional projection of `ns()`.

use crate::error::{Error, Result};
use crate::format::SplineSpec;
use crate::frame::NA_REAL;

#[derive(Debug, Clone, PartialEq)]
pub struct Spline {
    order: usize,
    knots: Vec<f64>,
    lo: f64,
    hi: f64,
    /// Number of B-spline functions before dropping the first one.
    nbasis: usize,
    drop_first: bool,
    left_pivot: f64,
    left: Vec<Vec<f64>>,
    right_pivot: f64,
    right: Vec<Vec<f64>>,
    /// Row-major `nkept x ncols` projection, if any.
    projection: Option<Vec<f64>>,
    ncols: usize,
}

impl Spline {
    pub fn new(spec: &SplineSpec) -> Result<Spline> {
        let order = spec.order as usize;
        let nk = spec.knots.len();
        if order == 0 || nk < 2 * order {
            return Err(Error::invalid(format!(
                "spline '{}': order {order} needs at least {} knots, found {nk}",
                spec.label,
                2 * order
            )));
        }
        if spec.knots.windows(2).any(|w| !(w[0] <= w[1])) || spec.knots.iter().any(|k| !k.is_finite()) {
            return Err(Error::invalid(format!("spline '{}': knots must be finite and sorted", spec.label)));
        }
        Error::check_finite("spline boundary", &spec.boundary)?;
        for e in [&spec.left, &spec.right] {
            Error::check_finite("spline extrapolation", &[e.pivot])?;
            for r in &e.coefs {
                Error::check_finite("spline extrapolation", r)?;
            }
        }
        for r in spec.projection.iter().flatten() {
            Error::check_finite("spline projection", r)?;
        }
        if spec.boundary.len() != 2 || !(spec.boundary[0] < spec.boundary[1]) {
            return Err(Error::invalid(format!("spline '{}': boundary must be two increasing numbers", spec.label)));
        }
        let nbasis = nk - order;
        let nkept = if spec.intercept { nbasis } else { nbasis - 1 };
        for (side, e) in [("left", &spec.left), ("right", &spec.right)] {
            if e.coefs.is_empty() || e.coefs.iter().any(|r| r.len() != nbasis) {
                return Err(Error::invalid(format!(
                    "spline '{}': {side} extrapolation must have rows of {nbasis} coefficients",
                    spec.label
                )));
            }
        }
        let (projection, ncols) = match &spec.projection {
            None => (None, nkept),
            Some(p) => {
                if p.len() != nkept || p.is_empty() {
                    return Err(Error::invalid(format!("spline '{}': projection must have {nkept} rows", spec.label)));
                }
                let nc = p[0].len();
                if nc == 0 || p.iter().any(|r| r.len() != nc) {
                    return Err(Error::invalid(format!("spline '{}': ragged projection matrix", spec.label)));
                }
                (Some(p.iter().flatten().copied().collect()), nc)
            }
        };
        Ok(Spline {
            order,
            knots: spec.knots.clone(),
            lo: spec.boundary[0],
            hi: spec.boundary[1],
            nbasis,
            drop_first: !spec.intercept,
            left_pivot: spec.left.pivot,
            left: spec.left.coefs.clone(),
            right_pivot: spec.right.pivot,
            right: spec.right.coefs.clone(),
            projection,
            ncols,
        })
    }

    pub fn ncols(&self) -> usize {
        self.ncols
    }

    /// Scratch length that `eval` needs.
    pub fn scratch_len(&self) -> usize {
        self.nbasis + 3 * self.order
    }

    /// Evaluate the basis at `x` into `out[..ncols]`.
    pub fn eval(&self, x: f64, out: &mut [f64], scratch: &mut [f64]) {
        let out = &mut out[..self.ncols];
        if x.is_nan() {
            out.fill(NA_REAL);
            return;
        }
        let (full, rest) = scratch.split_at_mut(self.nbasis);
        full.fill(0.0);
        if x < self.lo {
            poly_basis(x - self.left_pivot, &self.left, full);
        } else if x > self.hi {
            poly_basis(x - self.right_pivot, &self.right, full);
        } else {
            let mu = self.interval(x);
            let (vals, work) = rest.split_at_mut(self.order);
            self.nonzero_basis(x, mu, vals, work);
            let first = mu + 1 - self.order;
            full[first..first + self.order].copy_from_slice(vals);
        }
        let kept = if self.drop_first { &full[1..] } else { &full[..] };
        match &self.projection {
            None => out.copy_from_slice(kept),
            Some(p) => {
                out.fill(0.0);
                for (i, b) in kept.iter().enumerate() {
                    if *b != 0.0 {
                        let row = &p[i * self.ncols..(i + 1) * self.ncols];
                        for (o, v) in out.iter_mut().zip(row) {
                            *o += b * v;
                        }
                    }
                }
            }
        }
    }

    /// Index `mu` of the knot interval `[t_mu, t_mu+1)` holding `x`, with
    /// the right boundary belonging to the last non-empty interval.
    fn interval(&self, x: f64) -> usize {
        let t = &self.knots;
        let (lo_i, hi_i) = (self.order - 1, self.nbasis - 1);
        // last mu in [lo_i, hi_i] with t[mu] <= x
        let mut mu = lo_i;
        let (mut a, mut b) = (lo_i, hi_i);
        while a <= b {
            let mid = a + (b - a) / 2;
            if t[mid] <= x {
                mu = mid;
                a = mid + 1;
            } else if mid == 0 {
                break;
            } else {
                b = mid - 1;
            }
        }
        while mu > lo_i && t[mu] == t[mu + 1] {
            mu -= 1;
        }
        mu
    }

    /// The `order` B-splines that are non-zero on interval `mu`, at `x`.
    fn nonzero_basis(&self, x: f64, mu: usize, vals: &mut [f64], work: &mut [f64]) {
        let k = self.order;
        let t = &self.knots;
        let (left, right) = work.split_at_mut(k);
        vals[0] = 1.0;
        for j in 1..k {
            left[j] = x - t[mu + 1 - j];
            right[j] = t[mu + j] - x;
            let mut saved = 0.0;
            for r in 0..j {
                let den = right[r + 1] + left[j - r];
                let temp = if den != 0.0 { vals[r] / den } else { 0.0 };
                vals[r] = saved + right[r + 1] * temp;
                saved = left[j - r] * temp;
            }
            vals[j] = saved;
        }
    }
}

fn poly_basis(d: f64, coefs: &[Vec<f64>], full: &mut [f64]) {
    let mut p = 1.0;
    for (j, row) in coefs.iter().enumerate() {
        if j > 0 {
            p *= d;
        }
        for (f, c) in full.iter_mut().zip(row) {
            *f += p * c;
        }
    }
}

#[cfg(test)]
mod tests;
