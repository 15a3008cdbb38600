//! One prediction call, bound to its input and ready to run.

use std::time::Duration;

use crate::error::Result;
use crate::frame::bind::Bound;
use crate::model::family::Call;
use crate::output::{split_rows, OutBuf, OutputShape, Prediction, Values};
use crate::runtime::{self, Watch};

/// Above this much work (rows x row cost) a call is worth running where it
/// can be watched: about a millisecond and up.
const LARGE_WORK: usize = 1 << 20;

pub struct Job<'j> {
    pub(super) bound: Bound<'j, 'j>,
    pub(super) call: Box<dyn Call + 'j>,
    pub(super) row_cost: usize,
}

impl Job<'_> {
    pub fn nrows(&self) -> usize {
        self.bound.nrows()
    }

    /// Shape of the result, with the row count filled in.
    pub fn shape(&self) -> OutputShape {
        self.call.shape().with_rows(self.nrows())
    }

    /// Whether the call is long enough to run where it can be watched
    /// (off the caller's thread, see `run_watched`).
    pub fn is_large(&self) -> bool {
        self.nrows().saturating_mul(self.row_cost) > LARGE_WORK
    }

    /// Fill `parts` (one buffer per part of `shape()`, each sized by its
    /// `len(nrows())`) on up to `threads` threads.
    pub fn run(&self, parts: Vec<OutBuf>, threads: usize) -> Result<()> {
        self.run_with(parts, threads, None)
    }

    /// As `run`, but a large call runs on the pool while the caller's
    /// thread calls `poll` every `every`; when `poll` returns an error the
    /// work stops and the call fails with it.
    pub fn run_watched(
        &self,
        parts: Vec<OutBuf>,
        threads: usize,
        every: Duration,
        poll: &mut dyn FnMut() -> Option<crate::Error>,
    ) -> Result<()> {
        let watch = self.is_large().then_some(Watch { every, poll });
        self.run_with(parts, threads, watch)
    }

    /// Predict into buffers of the job's own.
    pub fn predict(&self, threads: usize) -> Result<Prediction> {
        self.predict_with(threads, None)
    }

    /// As `predict`, watched as `run_watched` is.
    pub fn predict_watched(
        &self,
        threads: usize,
        every: Duration,
        poll: &mut dyn FnMut() -> Option<crate::Error>,
    ) -> Result<Prediction> {
        self.predict_with(threads, self.is_large().then_some(Watch { every, poll }))
    }

    fn predict_with(&self, threads: usize, watch: Option<Watch>) -> Result<Prediction> {
        let shape = self.shape();
        let nrows = self.nrows();
        let mut parts: Vec<Values> = shape.parts().into_iter().map(|a| Values::alloc(a, nrows)).collect();
        self.run_with(parts.iter_mut().map(Values::buf).collect(), threads, watch)?;
        Ok(Prediction { shape, nrows, parts })
    }

    fn run_with(&self, parts: Vec<OutBuf>, threads: usize, watch: Option<Watch>) -> Result<()> {
        let n = self.nrows();
        let threads = threads.clamp(1, runtime::MAX_THREADS);
        let blocks = split_rows(parts, &self.shape(), n, self.call.task_rows(n, threads))?;
        runtime::run_blocks(blocks, threads, watch, |mut block, cancel| {
            self.call.predict(&self.bound, &mut block, cancel)
        })
    }
}
