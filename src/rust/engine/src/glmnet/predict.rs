//! One glmnet prediction call: per chunk of rows and per penalty, each
//! response's linear predictor into a scratch column (the intercept, then
//! each stored coefficient times its column of `newx`, in R's order), the
//! offset, then what the type asks for.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::format::GlmnetFamily;
use crate::frame::bind::{Bound, NumView};
use crate::frame::NA_INTEGER;
use crate::glmnet::{ldsum, GlmnetModel};
use crate::model::Call;
use crate::output::{OutputShape, RowBlock};

/// Rows computed together: a scratch column per response stays in L1.
const BLOCK: usize = 512;
/// Work (rows x stored coefficients used) in one parallel task, as for
/// linear models (`linear::predict`): about 22,000 rows of a 12-coefficient
/// model, and small inputs stay on the calling thread.
const TASK_WORK: usize = 1 << 18;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Out {
    Link,
    Response,
    Class,
}

/// One response's coefficients at one penalty: the intercept and the
/// stored entries (input index, value) in increasing input order.
pub(super) struct Coefs<'c> {
    pub intercept: f64,
    pub rows: Cow<'c, [u32]>,
    pub values: Cow<'c, [f64]>,
}

/// The offset of each row: one column, or one per response (column-major).
pub(super) struct Offset {
    pub values: Vec<f64>,
    pub per_response: bool,
}

pub(super) struct GlmnetCall<'c> {
    pub model: &'c GlmnetModel,
    pub out: Out,
    /// Per penalty, per response.
    pub coefs: Vec<Vec<Coefs<'c>>>,
    pub offset: Option<Offset>,
    pub shape: OutputShape,
    /// Multiplications and additions per row.
    pub work: usize,
}

impl Call for GlmnetCall<'_> {
    fn shape(&self) -> OutputShape {
        self.shape.clone()
    }

    fn task_rows(&self, _nrows: usize, _threads: usize) -> usize {
        (TASK_WORK / self.work).max(256)
    }

    fn predict(&self, bound: &Bound, block: &mut RowBlock, cancel: &AtomicBool) {
        let rows = block.rows();
        let k = self.model.n_responses();
        let nrows = bound.nrows();
        let chunk = rows.len().min(BLOCK);
        let mut links = vec![0.0; k * chunk];
        let mut sums = vec![0.0; chunk];
        let mut start = rows.start;
        while start < rows.end {
            if cancel.load(Ordering::Relaxed) {
                return;
            }
            let end = (start + BLOCK).min(rows.end);
            let len = end - start;
            for (j, per_s) in self.coefs.iter().enumerate() {
                for (c, coefs) in per_s.iter().enumerate() {
                    let dst = &mut links[c * chunk..c * chunk + len];
                    linear_predictor(coefs, bound, start..end, dst);
                    if let Some(o) = &self.offset {
                        let base = if o.per_response { c * nrows } else { 0 };
                        for (d, off) in dst.iter_mut().zip(&o.values[base + start..base + end]) {
                            *d += off;
                        }
                    }
                }
                let out = Chunk { links: &mut links, sums: &mut sums, stride: chunk, len, at: start - rows.start };
                self.write(j, out, block);
            }
            start = end;
        }
    }
}

/// `cbind(1, newx) %*% coef` for `rows`, as the Matrix package computes it:
/// zero, plus the intercept, plus each stored coefficient times its column,
/// in order. A sparse column adds its stored values only (R's sparse
/// product skips the zeros, which add nothing).
fn linear_predictor(coefs: &Coefs, bound: &Bound, rows: Range<usize>, dst: &mut [f64]) {
    dst.fill(0.0 + coefs.intercept);
    for (&j, &b) in coefs.rows.iter().zip(coefs.values.iter()) {
        match bound.num(j as usize) {
            NumView::Real(x) => {
                for (d, &v) in dst.iter_mut().zip(&x[rows.clone()]) {
                    *d += v * b;
                }
            }
            NumView::Sparse { rows: at, values } => {
                // rows are increasing and at least 0 (checked when bound)
                let lo = at.partition_point(|&r| (r as usize) < rows.start);
                let hi = lo + at[lo..].partition_point(|&r| (r as usize) < rows.end);
                for (&r, &v) in at[lo..hi].iter().zip(&values[lo..hi]) {
                    dst[r as usize - rows.start] += v * b;
                }
            }
            view => {
                for (d, r) in dst.iter_mut().zip(rows.clone()) {
                    *d += view.get(r) * b;
                }
            }
        }
    }
}

/// The linear predictors of one chunk at one penalty (`len` rows per
/// response, `stride` apart), to be written at row `at` of the block.
struct Chunk<'s> {
    links: &'s mut [f64],
    sums: &'s mut [f64],
    stride: usize,
    len: usize,
    at: usize,
}

impl GlmnetCall<'_> {
    /// Write penalty `j`'s predictions for a chunk.
    fn write(&self, j: usize, ch: Chunk, block: &mut RowBlock) {
        let k = self.model.n_responses();
        let (len, at, stride) = (ch.len, ch.at, ch.stride);
        let family = self.model.family;
        let dst = at..at + len;
        match self.out {
            Out::Class if family == GlmnetFamily::Lognet => {
                // predict.lognet(): classnames[ifelse(link > 0, 2, 1)]
                for (o, &x) in block.int(j)[dst].iter_mut().zip(&ch.links[..len]) {
                    *o = if x > 0.0 {
                        2
                    } else if x <= 0.0 {
                        1
                    } else {
                        NA_INTEGER
                    };
                }
            }
            Out::Class => {
                // glmnet_softmax(): the first largest, NA if any is missing
                let out = &mut block.int(j)[dst];
                for (r, o) in out.iter_mut().enumerate() {
                    let mut best = 0;
                    let mut max = ch.links[r];
                    let mut missing = max.is_nan();
                    for c in 1..k {
                        let x = ch.links[c * stride + r];
                        missing |= x.is_nan();
                        if x > max {
                            best = c;
                            max = x;
                        }
                    }
                    *o = if missing { NA_INTEGER } else { best as i32 + 1 };
                }
            }
            Out::Response if family == GlmnetFamily::Multnet => {
                // exp(link) / sum(exp(link)), the sum in R's long double
                for x in ch.links.iter_mut() {
                    *x = x.exp();
                }
                for (r, s) in ch.sums[..len].iter_mut().enumerate() {
                    *s = ldsum::sum((0..k).map(|c| ch.links[c * stride + r]));
                }
                for c in 0..k {
                    let col = &ch.links[c * stride..c * stride + len];
                    for ((o, &e), &s) in block.real(c + k * j)[dst.clone()].iter_mut().zip(col).zip(&ch.sums[..len]) {
                        *o = e / s;
                    }
                }
            }
            Out::Response if matches!(family, GlmnetFamily::Lognet | GlmnetFamily::Fishnet | GlmnetFamily::Coxnet) => {
                let col = &ch.links[..len];
                let out = &mut block.real(j)[dst];
                if family == GlmnetFamily::Lognet {
                    // predict.lognet(): pp = exp(-nfit); 1 / (1 + pp)
                    for (o, &x) in out.iter_mut().zip(col) {
                        *o = 1.0 / (1.0 + (-x).exp());
                    }
                } else {
                    for (o, &x) in out.iter_mut().zip(col) {
                        *o = x.exp();
                    }
                }
            }
            // the link, and the response of elnet and mrelnet
            _ => {
                for c in 0..k {
                    block.real(c + k * j)[dst.clone()].copy_from_slice(&ch.links[c * stride..c * stride + len]);
                }
            }
        }
    }
}
