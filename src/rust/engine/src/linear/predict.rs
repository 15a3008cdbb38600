//! One linear prediction call: per block of rows, the numeric variables
//! into scratch columns, then the intercept, the terms and the offsets
//! added into the output column, then the inverse link.

use std::ops::Range;
use std::sync::atomic::AtomicBool;

use crate::frame::bind::{Bound, NumView};
use crate::frame::levels::{FactorCodes, NA_CODE};
use crate::linear::design::{Term, Var};
use crate::linear::expr::r_pow;
use crate::linear::LinearModel;
use crate::model::Call;
use crate::output::{ArrayShape, OutputShape, RowBlock};

/// Rows evaluated together; small enough for the block to stay in L1.
const BLOCK: usize = 512;
/// Work (rows x per-row cost) in one parallel task. Measured from R on the
/// 2-core machine for a 12-term model (row cost 12), where a call must
/// first wake the pool's sleeping threads: 16,000 rows took 88 us on one
/// thread and 95 us on two, 32,000 rows 232 us and 171 us. So a task holds
/// about 22,000 rows of such a model, and smaller inputs stay on the
/// calling thread.
const TASK_WORK: usize = 1 << 18;

pub(super) struct LinearCall<'c> {
    pub model: &'c LinearModel,
    pub codes: Vec<FactorCodes<'c>>,
    pub response: bool,
}

impl Call for LinearCall<'_> {
    fn shape(&self) -> OutputShape {
        ArrayShape::vector().into()
    }

    fn task_rows(&self, _nrows: usize, _threads: usize) -> usize {
        (TASK_WORK / self.model.row_cost.max(1)).max(256)
    }

    fn predict(&self, bound: &Bound, block: &mut RowBlock, _cancel: &AtomicBool) {
        let m = self.model;
        let rows = block.rows();
        let out = block.real(0);
        let mut s = Scratch::new(m, rows.len().min(BLOCK));
        for (chunk, out) in out.chunks_mut(BLOCK).enumerate() {
            let start = rows.start + chunk * BLOCK;
            let r = start..start + out.len();
            s.gather(m, bound, r.clone());
            out.fill(m.intercept);
            for t in &m.terms {
                s.add_term(m, t, &self.codes, bound, r.clone(), out);
            }
            add_offsets(m, bound, r, out);
            if self.response {
                for v in out.iter_mut() {
                    *v = m.link.inverse(*v);
                }
            }
        }
    }
}

/// Per-task buffers: `stride` rows per variable column.
struct Scratch {
    stride: usize,
    vars: Vec<Vec<f64>>,
    lc: Vec<usize>,
    row: Vec<f64>,
    spline: Vec<f64>,
}

impl Scratch {
    /// Buffers for the variables some term reads (the others are never
    /// evaluated).
    fn new(m: &LinearModel, stride: usize) -> Scratch {
        let used = |i: usize| m.used[i];
        let widest = m.vars.iter().enumerate().filter(|(i, _)| used(*i)).map(|(_, v)| v.ncols()).max().unwrap_or(0);
        let spline = m
            .vars
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Var::Spline { spline, .. } if used(i) => spline.scratch_len(),
                _ => 0,
            })
            .max()
            .unwrap_or(0);
        Scratch {
            stride,
            vars: m
                .vars
                .iter()
                .enumerate()
                .map(|(i, v)| vec![0.0; if used(i) { v.ncols() * stride } else { 0 }])
                .collect(),
            lc: vec![0; stride],
            row: vec![0.0; widest],
            spline: vec![0.0; spline],
        }
    }

    /// Evaluate the numeric variables for `rows` (bare double inputs are
    /// read in place).
    fn gather(&mut self, m: &LinearModel, bound: &Bound, rows: Range<usize>) {
        let stride = self.stride;
        for (i, (var, buf)) in m.vars.iter().zip(self.vars.iter_mut()).enumerate() {
            if !m.used[i] {
                continue;
            }
            match var {
                Var::Numeric(e) => {
                    if in_place(var, bound).is_some() {
                        continue;
                    }
                    for (k, r) in rows.clone().enumerate() {
                        buf[k] = e.eval(bound, r);
                    }
                }
                Var::Poly { arg, alpha, norm2 } => {
                    let d = alpha.len();
                    for (k, r) in rows.clone().enumerate() {
                        let x = arg.eval(bound, r);
                        // R's poly(x, coefs = ...) three-term recurrence
                        let (mut z0, mut z1) = (1.0, x - alpha[0]);
                        buf[k] = z1 / norm2[2].sqrt();
                        for j in 2..=d {
                            let next = (x - alpha[j - 1]) * z1 - (norm2[j] / norm2[j - 1]) * z0;
                            z0 = z1;
                            z1 = next;
                            buf[(j - 1) * stride + k] = next / norm2[j + 1].sqrt();
                        }
                    }
                }
                Var::PolyRaw { arg, degree } => {
                    for (k, r) in rows.clone().enumerate() {
                        let x = arg.eval(bound, r);
                        for j in 0..*degree {
                            buf[j * stride + k] = r_pow(x, (j + 1) as f64);
                        }
                    }
                }
                Var::Spline { arg, spline } => {
                    let nc = spline.ncols();
                    for (k, r) in rows.clone().enumerate() {
                        spline.eval(arg.eval(bound, r), &mut self.row[..nc], &mut self.spline);
                        for j in 0..nc {
                            buf[j * stride + k] = self.row[j];
                        }
                    }
                }
                Var::Factor { .. } => {}
            }
        }
    }

    /// Column `c` of variable `v` for the gathered rows.
    fn col<'s>(&'s self, m: &'s LinearModel, bound: &'s Bound, rows: &Range<usize>, v: usize, c: usize) -> &'s [f64] {
        match in_place(&m.vars[v], bound) {
            Some(x) => &x[rows.clone()],
            None => &self.vars[v][c * self.stride..c * self.stride + rows.len()],
        }
    }

    /// Add term `t` for `rows` into `out`.
    fn add_term(
        &mut self,
        m: &LinearModel,
        t: &Term,
        codes: &[FactorCodes],
        bound: &Bound,
        rows: Range<usize>,
        out: &mut [f64],
    ) {
        let ncombos = t.combos.len();
        if t.factors.is_empty() {
            for (j, combo) in t.combos.iter().enumerate() {
                let b = t.table[j];
                if let [(v, c)] = combo.as_slice() {
                    for (o, x) in out.iter_mut().zip(self.col(m, bound, &rows, *v, *c)) {
                        *o += b * x;
                    }
                } else {
                    for (k, o) in out.iter_mut().enumerate() {
                        let p = combo.iter().fold(1.0, |p, (v, c)| p * self.col(m, bound, &rows, *v, *c)[k]);
                        *o += b * p;
                    }
                }
            }
            return;
        }
        self.level_combos(t, codes, rows.clone());
        let lc = &self.lc[..rows.len()];
        if ncombos == 1 && t.combos[0].is_empty() {
            for (o, &l) in out.iter_mut().zip(lc) {
                *o += t.table[l];
            }
            return;
        }
        for (j, combo) in t.combos.iter().enumerate() {
            for (k, o) in out.iter_mut().enumerate() {
                let p = combo.iter().fold(1.0, |p, (v, c)| p * self.col(m, bound, &rows, *v, *c)[k]);
                *o += t.contribution(lc[k] * ncombos + j, p);
            }
        }
    }

    /// The level-combination index of each row for term `t`; the NA row
    /// once any level is missing.
    fn level_combos(&mut self, t: &Term, codes: &[FactorCodes], rows: Range<usize>) {
        let lc = &mut self.lc[..rows.len()];
        lc.fill(0);
        let mut stride = 1;
        for &(slot, nl) in &t.factors {
            let fc = &codes[slot];
            for (k, r) in rows.clone().enumerate() {
                let c = fc.get(r);
                lc[k] = if c == NA_CODE || lc[k] == t.n_level_combos {
                    t.n_level_combos
                } else {
                    lc[k] + c as usize * stride
                };
            }
            stride *= nl;
        }
    }
}

/// A variable that is a bare double input, read where it lies.
fn in_place<'b>(var: &Var, bound: &Bound<'b, '_>) -> Option<&'b [f64]> {
    match var {
        Var::Numeric(e) => match e.as_input().map(|i| bound.num(i)) {
            Some(NumView::Real(x)) => Some(x),
            _ => None,
        },
        _ => None,
    }
}

fn add_offsets(m: &LinearModel, bound: &Bound, rows: Range<usize>, out: &mut [f64]) {
    if m.offsets.is_empty() {
        return;
    }
    for (k, r) in rows.enumerate() {
        let mut off = 0.0;
        for e in &m.offsets {
            off += e.eval(bound, r);
        }
        out[k] += off;
    }
}
