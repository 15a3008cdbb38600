//! Inverse link functions, written to give the numbers of R's
//! `make.link(link)$linkinv`, including its clamping.

use crate::error::{Error, Result};

const DBL_EPSILON: f64 = f64::EPSILON;
/// `-qnorm(.Machine$double.eps)`, the clamp of R's probit link.
const PROBIT_THRESH: f64 = 8.125890664701906;
/// `-qcauchy(.Machine$double.eps)`, the clamp of R's cauchit link.
const CAUCHIT_THRESH: f64 = 1433540284805664.8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Identity,
    Logit,
    Probit,
    Cauchit,
    Cloglog,
    Log,
    Inverse,
    InverseSquare,
    Sqrt,
}

impl Link {
    pub fn from_name(name: &str) -> Result<Link> {
        Ok(match name {
            "identity" => Link::Identity,
            "logit" => Link::Logit,
            "probit" => Link::Probit,
            "cauchit" => Link::Cauchit,
            "cloglog" => Link::Cloglog,
            "log" => Link::Log,
            "inverse" => Link::Inverse,
            "1/mu^2" => Link::InverseSquare,
            "sqrt" => Link::Sqrt,
            other => return Err(Error::unsupported(format!("link '{other}'"))),
        })
    }

    #[inline]
    pub fn inverse(&self, eta: f64) -> f64 {
        if eta.is_nan() {
            return eta;
        }
        match self {
            Link::Identity => eta,
            Link::Logit => {
                // R's C_logit_linkinv
                let t = if eta < -30.0 {
                    DBL_EPSILON
                } else if eta > 30.0 {
                    1.0 / DBL_EPSILON
                } else {
                    eta.exp()
                };
                t / (1.0 + t)
            }
            Link::Probit => pnorm(eta.clamp(-PROBIT_THRESH, PROBIT_THRESH)),
            Link::Cauchit => pcauchy(eta.clamp(-CAUCHIT_THRESH, CAUCHIT_THRESH)),
            Link::Cloglog => (-(-eta.exp()).exp_m1()).clamp(DBL_EPSILON, 1.0 - DBL_EPSILON),
            Link::Log => eta.exp().max(DBL_EPSILON),
            Link::Inverse => 1.0 / eta,
            Link::InverseSquare => 1.0 / eta.sqrt(),
            Link::Sqrt => eta * eta,
        }
    }
}

impl Link {
    /// `inverse` of each value in place; nothing to do for the identity.
    pub fn inverse_all(&self, values: &mut [f64]) {
        if *self != Link::Identity {
            values.iter_mut().for_each(|v| *v = self.inverse(*v));
        }
    }

    /// `make.link(link)$mu.eta`: d mu / d eta, with R's clamping, for the
    /// standard error of a response-scale prediction.
    #[inline]
    pub fn mu_eta(&self, eta: f64) -> f64 {
        match self {
            Link::Identity => 1.0,
            Link::Logit => {
                // R's C_logit_mu_eta
                let opexp = 1.0 + eta.exp();
                if !(-30.0..=30.0).contains(&eta) {
                    DBL_EPSILON
                } else {
                    eta.exp() / (opexp * opexp)
                }
            }
            Link::Probit => dnorm(eta).max(DBL_EPSILON),
            Link::Cauchit => (1.0 / (std::f64::consts::PI * (1.0 + eta * eta))).max(DBL_EPSILON),
            Link::Cloglog => {
                let eta = eta.min(700.0);
                (eta.exp() * (-eta.exp()).exp()).max(DBL_EPSILON)
            }
            Link::Log => eta.exp().max(DBL_EPSILON),
            Link::Inverse => -1.0 / (eta * eta),
            Link::InverseSquare => -1.0 / (2.0 * eta.powf(1.5)),
            Link::Sqrt => 2.0 * eta,
        }
    }
}

/// Standard normal density.
fn dnorm(x: f64) -> f64 {
    const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
    INV_SQRT_2PI * (-0.5 * x * x).exp()
}

/// Standard normal distribution function, accurate to a few ulps across
/// the range the probit link uses.
pub fn pnorm(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// Cauchy distribution function as R's `pcauchy()` computes it.
pub fn pcauchy(x: f64) -> f64 {
    if x.abs() > 1.0 {
        let y = (1.0 / x).atan() / std::f64::consts::PI;
        if x > 0.0 {
            1.0 - y
        } else {
            -y
        }
    } else {
        0.5 + x.atan() / std::f64::consts::PI
    }
}

#[cfg(test)]
mod tests;
