//! Thread pools and the row-chunk runner.
//!
//! Pools are built once per thread count and cached: building one costs
//! tens of microseconds, which is more than a whole single-row prediction.
//! Every row is computed independently, so results do not depend on the
//! number of threads.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;
use rayon::ThreadPool;

use crate::error::{Error, Result};

/// Pools by thread count.
type Pools = Mutex<Vec<(usize, Arc<ThreadPool>)>>;

static POOLS: OnceLock<Pools> = OnceLock::new();
static DEFAULT_THREADS: AtomicUsize = AtomicUsize::new(0);

static CORES: OnceLock<usize> = OnceLock::new();

/// Threads used when a call does not say: set by `set_default_threads`,
/// else every available core. (`available_parallelism` reads cgroup files
/// on Linux, tens of microseconds, so it is asked once.)
pub fn default_threads() -> usize {
    match DEFAULT_THREADS.load(Ordering::Relaxed) {
        0 => *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        n => n,
    }
}

pub fn set_default_threads(n: usize) {
    DEFAULT_THREADS.store(n, Ordering::Relaxed);
}

/// The cached pool with `threads` threads.
pub fn pool(threads: usize) -> Result<Arc<ThreadPool>> {
    let threads = threads.max(1);
    let pools = POOLS.get_or_init(|| Mutex::new(Vec::new()));
    let mut pools = pools.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, p)) = pools.iter().find(|(n, _)| *n == threads) {
        return Ok(Arc::clone(p));
    }
    let p = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("fastpredict-{i}"))
        .build()
        .map_err(|e| Error::bad_argument(format!("cannot start {threads} threads: {e}")))?;
    let p = Arc::new(p);
    pools.push((threads, Arc::clone(&p)));
    Ok(p)
}

/// Call `f(rows, out_rows)` over consecutive chunks of `chunk_rows` rows,
/// on `threads` threads when there is more than one chunk. `cancel` is
/// checked before each chunk.
pub fn run_chunks<T, F>(out: &mut [T], chunk_rows: usize, threads: usize, cancel: &AtomicBool, f: F) -> Result<()>
where
    T: Send,
    F: Fn(Range<usize>, &mut [T]) + Sync,
{
    let chunk_rows = chunk_rows.max(1);
    let step = |i: usize, c: &mut [T]| -> Result<()> {
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::Interrupted);
        }
        let start = i * chunk_rows;
        f(start..start + c.len(), c);
        Ok(())
    };
    if threads <= 1 || out.len() <= chunk_rows {
        return out.chunks_mut(chunk_rows).enumerate().try_for_each(|(i, c)| step(i, c));
    }
    pool(threads)?.install(|| out.par_chunks_mut(chunk_rows).enumerate().try_for_each(|(i, c)| step(i, c)))
}

/// Call `f(rows)` over consecutive row ranges of `chunk_rows` covering
/// `0..n`, on `threads` threads when there is more than one range. `f`
/// writes its own rows of a shared output. `cancel` is checked before each
/// range, and after the work so that an early return counts as interrupted.
pub fn run_ranges<F>(n: usize, chunk_rows: usize, threads: usize, cancel: &AtomicBool, f: F) -> Result<()>
where
    F: Fn(Range<usize>) + Sync,
{
    let chunk_rows = chunk_rows.max(1);
    let nchunks = n.div_ceil(chunk_rows);
    let step = |i: usize| -> Result<()> {
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::Interrupted);
        }
        f(i * chunk_rows..((i + 1) * chunk_rows).min(n));
        Ok(())
    };
    if threads <= 1 || nchunks <= 1 {
        (0..nchunks).try_for_each(step)?;
    } else {
        pool(threads)?.install(|| (0..nchunks).into_par_iter().try_for_each(step))?;
    }
    if cancel.load(Ordering::Relaxed) {
        return Err(Error::Interrupted);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
