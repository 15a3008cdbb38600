//! How the trees' leaves become predictions: a single tree writes the
//! reached node's payload; an ensemble accumulates tree by tree (`add`)
//! and then writes (`finish`; a boosted sum writes at each number of trees
//! asked for, as it passes it).

use crate::frame::NA_REAL;
use crate::output::RowBlock;
use crate::trees::check::Agg;
use crate::trees::layout::Tree;
use crate::trees::plan::{Out, Plan};
use crate::trees::TreeModel;

/// Accumulators of a block of rows: `width` values a row.
pub(super) struct Acc {
    pub values: Vec<f64>,
    pub width: usize,
}

impl Acc {
    pub fn new(m: &TreeModel, plan: &Plan, rows: usize) -> Acc {
        let width = match plan.out {
            Out::Mean => 1,
            Out::VoteClass | Out::VoteFraction | Out::VoteCount | Out::ProbMean | Out::VoteValue => m.n_classes(),
            Out::MatrixMean | Out::Survival => m.widths.matrix,
            Out::Sum { .. } => plan.per_class,
            _ => 0,
        };
        Acc { values: vec![0.0; rows * width.max(1)], width }
    }

    /// Start `n` rows: from `init` for a sum (the order gbm sums in), else 0.
    pub fn start(&mut self, m: &TreeModel, n: usize) {
        let w = self.width;
        let acc = &mut self.values[..n * w];
        match &m.agg {
            Agg::Sum { init, .. } => acc.chunks_mut(w).for_each(|a| a.copy_from_slice(&init[..w])),
            _ => acc.fill(0.0),
        }
    }
}

/// Where a sub-block's rows go in the output block.
pub(super) struct Dest<'b, 'o> {
    pub block: &'b mut RowBlock<'o>,
    /// Index in `block` of the sub-block's first row.
    pub at: usize,
}

/// A single tree: write each row's node payload.
pub(super) fn write_single(m: &TreeModel, plan: &Plan, tree: &Tree, leaves: &[u32], dest: &mut Dest) {
    let at = dest.at;
    match plan.out {
        Out::Value => {
            let out = dest.block.real(0);
            for (k, &l) in leaves.iter().enumerate() {
                out[at + k] = tree.values[l as usize];
            }
        }
        Out::ClassOfValue => {
            let out = dest.block.int(0);
            for (k, &l) in leaves.iter().enumerate() {
                let c = tree.values[l as usize];
                out[at + k] = if c >= 1.0 { c as i32 } else { i32::MIN };
            }
        }
        Out::NodeProbs | Out::NodeMatrix => {
            let (payload, w) = if plan.out == Out::NodeProbs {
                (&tree.probs, m.widths.probs)
            } else {
                (&tree.matrix, m.widths.matrix)
            };
            if let Some(p) = payload {
                for c in 0..w {
                    let out = dest.block.real(c);
                    for (k, &l) in leaves.iter().enumerate() {
                        out[at + k] = p[l as usize * w + c];
                    }
                }
            }
        }
        _ => {}
    }
}

/// Add tree `t` (reached `leaves`) into the accumulators.
pub(super) fn add(m: &TreeModel, plan: &Plan, t: usize, tree: &Tree, leaves: &[u32], acc: &mut Acc, dest: &mut Dest) {
    let w = acc.width;
    let a = &mut acc.values;
    match plan.out {
        Out::Mean => {
            for (a, &l) in a.iter_mut().zip(leaves) {
                *a += tree.values[l as usize];
            }
        }
        Out::VoteClass | Out::VoteFraction | Out::VoteCount | Out::VoteValue => {
            for (r, &l) in leaves.iter().enumerate() {
                // only a whole class index votes
                let v = tree.values[l as usize];
                if v.fract() == 0.0 && v >= 1.0 && v <= w as f64 {
                    a[r * w + v as usize - 1] += 1.0;
                }
            }
        }
        Out::ProbMean | Out::MatrixMean | Out::Survival => {
            let payload = if plan.out == Out::ProbMean { &tree.probs } else { &tree.matrix };
            if let Some(p) = payload {
                for (r, &l) in leaves.iter().enumerate() {
                    let src = &p[l as usize * w..(l as usize + 1) * w];
                    for (x, v) in a[r * w..(r + 1) * w].iter_mut().zip(src) {
                        *x += v;
                    }
                }
            }
        }
        Out::Sum { response } => {
            let class = t % w;
            for (r, &l) in leaves.iter().enumerate() {
                a[r * w + class] += tree.values[l as usize];
            }
            // after each complete iteration, emit the n.trees asked for
            if class == w - 1 {
                let iter = t / w + 1;
                for (ci, _) in plan.checkpoints.iter().enumerate().filter(|(_, &cp)| cp == iter) {
                    write_sum(m, response, ci, leaves.len(), acc, dest);
                }
            }
        }
        Out::Value | Out::ClassOfValue | Out::NodeProbs | Out::NodeMatrix => {}
    }
}

/// Write a sum to its one number of trees (from the shallow walk, which
/// adds the trees itself).
pub(super) fn write_sums(m: &TreeModel, plan: &Plan, n: usize, acc: &Acc, dest: &mut Dest) {
    if let Out::Sum { response } = plan.out {
        write_sum(m, response, 0, n, acc, dest);
    }
}

fn write_sum(m: &TreeModel, response: bool, checkpoint: usize, n: usize, acc: &Acc, dest: &mut Dest) {
    let Agg::Sum { transform, .. } = &m.agg else { return };
    let kc = acc.width;
    let mut f = vec![0.0; kc];
    for row in 0..n {
        f.copy_from_slice(&acc.values[row * kc..(row + 1) * kc]);
        if response {
            transform.apply(&mut f);
        }
        for (c, v) in f.iter().enumerate() {
            dest.block.real(checkpoint * kc + c)[dest.at + row] = *v;
        }
    }
}

/// Write the ensemble's predictions for `n` rows from the accumulators
/// (NA where `na_row` says so) after `used` trees.
pub(super) fn finish(m: &TreeModel, plan: &Plan, used: usize, na_row: &[bool], n: usize, acc: &Acc, dest: &mut Dest) {
    let used = used as f64;
    let na = |row: usize| na_row.get(row).copied().unwrap_or(false);
    let (w, at) = (acc.width, dest.at);
    let a = &acc.values;
    match plan.out {
        Out::Mean => {
            let bias = match &m.agg {
                Agg::Mean { bias } => *bias,
                _ => None,
            };
            let out = dest.block.real(0);
            for row in 0..n {
                out[at + row] = if na(row) {
                    NA_REAL
                } else {
                    let mean = a[row] / used;
                    bias.map_or(mean, |(a, b)| a + b * mean)
                };
            }
        }
        Out::VoteClass => {
            let cutoff = match &m.agg {
                Agg::Votes { cutoff } => cutoff.as_deref(),
                _ => None,
            };
            let out = dest.block.int(0);
            for row in 0..n {
                out[at + row] =
                    if na(row) { i32::MIN } else { vote_winner(&a[row * w..(row + 1) * w], used, cutoff) as i32 + 1 };
            }
        }
        Out::VoteValue => {
            let Agg::VoteValues { values } = &m.agg else { return };
            let out = dest.block.real(0);
            for row in 0..n {
                out[at + row] =
                    if na(row) { NA_REAL } else { values[vote_winner(&a[row * w..(row + 1) * w], used, None)] };
            }
        }
        Out::Survival => {
            // chf, then survival = exp(-chf) as predict.ranger() takes it
            for c in 0..w {
                for row in 0..n {
                    let chf = a[row * w + c] / used;
                    dest.block.real(c)[at + row] = chf;
                    dest.block.real(w + c)[at + row] = (-chf).exp();
                }
            }
        }
        Out::VoteFraction | Out::VoteCount | Out::ProbMean | Out::MatrixMean => {
            let counts = plan.out == Out::VoteCount;
            for c in 0..w {
                let out = dest.block.real(c);
                for row in 0..n {
                    let v = a[row * w + c];
                    out[at + row] = if na(row) {
                        NA_REAL
                    } else if counts {
                        v
                    } else {
                        v / used
                    };
                }
            }
        }
        Out::Value | Out::ClassOfValue | Out::NodeProbs | Out::NodeMatrix | Out::Sum { .. } => {}
    }
}

/// The winning class (0-based): the largest `votes / n` (divided by the
/// cutoff when there is one); on a tie, the first such class. randomForest
/// and ranger break ties at random; fastpredict documents this rule.
fn vote_winner(votes: &[f64], n: f64, cutoff: Option<&[f64]>) -> usize {
    let mut best = 0;
    let mut best_v = f64::NEG_INFINITY;
    for (c, v) in votes.iter().enumerate() {
        let s = match cutoff {
            Some(cut) => (v / n) / cut[c],
            None => *v,
        };
        if s > best_v {
            best_v = s;
            best = c;
        }
    }
    best
}
