//! Threads: one shared pool, and the runner that spreads a prediction's
//! row blocks over it.
//!
//! The pool is built once and kept (building one costs tens of
//! microseconds, more than a single-row prediction). It grows to the
//! largest thread count a call has asked for and never holds more than one
//! set of threads; a call asking for fewer runs that many workers on it.
//! Every row is computed on its own, so results do not depend on threads.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::Duration;

use rayon::ThreadPool;

use crate::error::{Error, Result};

/// The most threads a call may ask for.
pub const MAX_THREADS: usize = 1024;

static POOL: Mutex<Option<Arc<ThreadPool>>> = Mutex::new(None);
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

/// Set the default (clamped to 1..=`MAX_THREADS`).
pub fn set_default_threads(n: usize) {
    DEFAULT_THREADS.store(n.clamp(1, MAX_THREADS), Ordering::Relaxed);
}

/// The shared pool, with at least `threads` threads.
pub(crate) fn pool(threads: usize) -> Result<Arc<ThreadPool>> {
    let threads = threads.clamp(1, MAX_THREADS);
    let mut slot = POOL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = slot.as_ref().filter(|p| p.current_num_threads() >= threads) {
        return Ok(Arc::clone(p));
    }
    // the old pool's threads end once no call holds it
    let n = threads.max(default_threads()).min(MAX_THREADS);
    let p = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(|i| format!("fastpredict-{i}"))
        .build()
        .map_err(|e| Error::Io { file: String::new(), detail: format!("cannot start {n} threads: {e}") })?;
    let p = Arc::new(p);
    *slot = Some(Arc::clone(&p));
    Ok(p)
}

/// How the caller's thread watches a long run: every `every`, `poll` says
/// whether to stop, and with which error (Ctrl-C in R, a deadline in a
/// server).
pub struct Watch<'w> {
    pub every: Duration,
    pub poll: &'w mut dyn FnMut() -> Option<Error>,
}

/// Run `f` on every block, on up to `threads` workers that take blocks in
/// turn. `f` gets a flag to check between units of its work; it is set
/// when a watch asks to stop, and then the remaining blocks are skipped.
/// Without a watch the caller's thread is one of the workers; with one, it
/// only watches.
pub(crate) fn run_blocks<B, F>(blocks: Vec<B>, threads: usize, watch: Option<Watch>, f: F) -> Result<()>
where
    B: Send,
    F: Fn(B, &AtomicBool) + Sync,
{
    let cancel = AtomicBool::new(false);
    if blocks.len() == 1 && watch.is_none() {
        // a small call (one row, say): no queue
        blocks.into_iter().for_each(|b| f(b, &cancel));
        return Ok(());
    }
    let workers = threads.clamp(1, blocks.len().max(1));
    let queue = Mutex::new(blocks.into_iter());
    let work = || loop {
        if cancel.load(Ordering::Relaxed) {
            break;
        }
        let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
        match next {
            Some(b) => f(b, &cancel),
            None => break,
        }
    };
    let Some(watch) = watch else {
        if workers == 1 {
            work();
        } else {
            pool(workers)?.in_place_scope(|s| {
                for _ in 1..workers {
                    s.spawn(|_| work());
                }
                work();
            });
        }
        return Ok(());
    };
    let mut stopped = None;
    let (done, finished) = mpsc::channel::<()>();
    pool(workers)?.in_place_scope(|s| {
        for _ in 0..workers {
            // each worker holds a sender: when all are gone, so is the work
            let done = done.clone();
            s.spawn(move |_| {
                work();
                drop(done);
            });
        }
        drop(done);
        while let Err(mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(watch.every) {
            if stopped.is_none() {
                stopped = (watch.poll)();
                if stopped.is_some() {
                    cancel.store(true, Ordering::Relaxed);
                }
            }
        }
    });
    stopped.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests;
