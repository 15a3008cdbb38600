//! Load limits: how large a model document may be, and how much it may make
//! the engine allocate. A server loads files and answers strangers, so every
//! count and size a document declares is checked here before anything is
//! allocated for it. The defaults fit real models with room to spare; a
//! front end lets users raise them (R: `fp_limits()`, the server: flags).

use std::sync::RwLock;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Bytes of a model file as stored (compressed or not).
    pub file_bytes: u64,
    /// Bytes of a document's JSON text once decompressed.
    pub json_bytes: u64,
    /// Input columns.
    pub inputs: usize,
    /// Levels of one factor.
    pub levels: usize,
    /// Features of a tree model.
    pub features: usize,
    /// Trees of an ensemble.
    pub trees: usize,
    /// Nodes of all trees together.
    pub nodes: usize,
    /// Terms of a linear model.
    pub terms: usize,
    /// Entries of a linear model's design: its coefficients and the lookup
    /// tables of all its terms (the level combinations times their numeric
    /// columns; an entry of a term that mixes factors and numbers counts 8).
    pub design: usize,
    /// Degree of a polynomial, and columns of a spline basis.
    pub basis: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            file_bytes: 1 << 30,
            // A document's numbers parse to up to 4 times their text (a "0,"
            // becomes 8 bytes), so this bounds a load's memory too: 4 GB
            // let a 4 MB gzip of spaces cost 4.3 GB.
            json_bytes: 1 << 30,
            inputs: 100_000,
            levels: 1_000_000,
            features: 1_000_000,
            trees: 1_000_000,
            nodes: 500_000_000,
            terms: 100_000,
            design: 1 << 22,
            basis: 1_000,
        }
    }
}

static LIMITS: RwLock<Option<Limits>> = RwLock::new(None);

/// The limits in force.
pub fn limits() -> Limits {
    LIMITS.read().unwrap_or_else(|e| e.into_inner()).unwrap_or_default()
}

/// Replace the limits for every later load.
pub fn set_limits(l: Limits) {
    *LIMITS.write().unwrap_or_else(|e| e.into_inner()) = Some(l);
}

/// Refuse `count` of `what` above `limit` (named as in [`Limits`]).
pub(crate) fn check(what: &str, count: u64, limit: u64, name: &str) -> Result<()> {
    if count <= limit {
        return Ok(());
    }
    Err(Error::unsupported(format!(
        "{what} of {count}, above the load limit '{name}' of {limit} (raise the limit to load a model this large)"
    )))
}

/// `a * b`, or an error naming the size if it overflows.
pub(crate) fn product(a: usize, b: usize, what: &str) -> Result<usize> {
    a.checked_mul(b).ok_or_else(|| Error::unsupported(format!("{what} too large to count")))
}
