//! The interface every model family implements. `Model` holds one family
//! behind this trait; only `model::compile` names the concrete types. A
//! call costs one virtual dispatch per row block: the row loops stay inside
//! each family, monomorphic.

use std::sync::atomic::AtomicBool;

use crate::error::Result;
use crate::frame::bind::Bound;
use crate::model::info::ModelInfo;
use crate::model::types::{PredictOption, PredictOptions, PredictType, PredictTypes};
use crate::output::{OutputShape, RowBlock};

/// A compiled model family (linear, trees, ...).
pub(crate) trait Family: std::fmt::Debug + Send + Sync {
    fn types(&self) -> &PredictTypes;

    /// The call options the family takes (checked before `prepare`).
    fn options(&self) -> &[PredictOption];

    /// Fill the family's part of the description.
    fn describe(&self, info: &mut ModelInfo);

    /// Work per row, in rough units of a few nanoseconds: it decides when
    /// a call is worth threads, and when it is long enough to watch.
    fn row_cost(&self) -> usize;

    /// Per-call preparation: the output, and whatever the call reads from
    /// the bound input (factor codes, the trees to use).
    fn prepare<'c>(
        &'c self,
        bound: &Bound<'_, 'c>,
        ty: PredictType,
        opts: &PredictOptions,
    ) -> Result<Box<dyn Call + 'c>>;
}

/// One prepared call.
pub(crate) trait Call: Send + Sync {
    /// The output; the rows dimension is filled in by the job.
    fn shape(&self) -> OutputShape;

    /// Rows per parallel task, for `nrows` rows on `threads` threads.
    fn task_rows(&self, nrows: usize, threads: usize) -> usize;

    /// Predict the rows of `block`. `cancel` is checked between units of
    /// work; when it is set the block may be left unfinished.
    fn predict(&self, bound: &Bound, block: &mut RowBlock, cancel: &AtomicBool);
}
