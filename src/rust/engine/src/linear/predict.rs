//! One linear prediction call: per block of rows, the numeric variables
//! into scratch columns, then the intercept, the terms and the offsets
//! added into the output column, then the inverse link.

use std::ops::Range;
use std::sync::atomic::AtomicBool;

use crate::frame::bind::{Bound, NumView};
use crate::frame::levels::{table_code, FactorCodes, NA_CODE};
use crate::linear::design::Term;
use crate::linear::expr::r_pow;
use crate::linear::inference::{Extra, Inference, Interval};
use crate::linear::variables::Var;
use crate::linear::LinearModel;
use crate::model::Call;
use crate::output::{ArrayShape, OutputShape, RowBlock};

/// Rows evaluated together; small enough for the block to stay in L1.
const BLOCK: usize = 512;
/// Most design values a block of the inference path holds (8 MB).
const DESIGN_VALUES: usize = 1 << 20;
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
    /// Standard errors, intervals or per-term predictions, if asked for.
    pub extra: Option<Extra>,
}

impl Call for LinearCall<'_> {
    fn shape(&self) -> OutputShape {
        if let Some(r) = &self.model.responses {
            return ArrayShape::matrix(r.rest.len() + 1, r.names.clone()).into();
        }
        match &self.extra {
            None => ArrayShape::vector().into(),
            Some(e) => {
                let constant = self.model.inference.as_ref().map_or(0.0, |i| i.terms_constant);
                e.shape(self.model.method, &self.model.term_labels, constant)
            }
        }
    }

    fn task_rows(&self, _nrows: usize, _threads: usize) -> usize {
        (TASK_WORK / self.model.row_cost.max(1)).max(256)
    }

    fn predict(&self, bound: &Bound, block: &mut RowBlock, _cancel: &AtomicBool) {
        if let Some(extra) = &self.extra {
            return self.predict_inference(extra, bound, block);
        }
        if self.model.responses.is_some() {
            return self.predict_responses(bound, block);
        }
        let m = self.model;
        let rows = block.rows();
        let out = block.real(0);
        let mut s = Scratch::new(m, rows.len().min(BLOCK));
        for (chunk, out) in out.chunks_mut(BLOCK).enumerate() {
            let start = rows.start + chunk * BLOCK;
            let r = start..start + out.len();
            s.gather(m, bound, r.clone());
            self.fit(&mut s, bound, r, (m.intercept, &m.terms), out);
            if self.response {
                m.link.inverse_all(out);
            }
        }
    }
}

impl LinearCall<'_> {
    /// Several responses (an mlm): each response's column as the single
    /// response's, from the same gathered variables; the offset is added
    /// to every column, as `predict.mlm()` adds it.
    fn predict_responses(&self, bound: &Bound, block: &mut RowBlock) {
        let m = self.model;
        let Some(resp) = &m.responses else { return };
        let rows = block.rows();
        let mut s = Scratch::new(m, rows.len().min(BLOCK));
        let mut start = rows.start;
        while start < rows.end {
            let end = (start + BLOCK).min(rows.end);
            let r = start..end;
            let at = start - rows.start..end - rows.start;
            s.gather(m, bound, r.clone());
            let first = (m.intercept, &m.terms);
            for (c, (intercept, terms)) in
                std::iter::once(first).chain(resp.rest.iter().map(|(i, t)| (*i, t))).enumerate()
            {
                self.fit(&mut s, bound, r.clone(), (intercept, terms), &mut block.real(c)[at.clone()]);
            }
            start = end;
        }
    }

    /// The fitted values (link scale) of `rows` into `eta`.
    fn eta(&self, s: &mut Scratch, bound: &Bound, rows: Range<usize>, eta: &mut [f64]) {
        self.fit(s, bound, rows, (self.model.intercept, &self.model.terms), eta);
    }

    /// `intercept`, `terms` and the offsets for `rows` into `out`, from `s`
    /// gathered for `rows`; a row that comes out NaN is computed again on
    /// its own, strictly (see `then`), so that which NaN it is does not
    /// depend on where it falls in the block.
    fn fit(&self, s: &mut Scratch, bound: &Bound, rows: Range<usize>, fit: (f64, &[Term]), out: &mut [f64]) {
        let m = self.model;
        let (intercept, terms) = fit;
        // the intercept is written by the first pass over `out`
        let mut base = Some(intercept);
        let mut t = 0;
        while t < terms.len() {
            // a run of terms that each only scale columns or look up a
            // factor's level is added a few a pass, in the same order as
            // term by term
            let run = terms[t..].iter().take_while(|t| t.is_plain() || t.main_effect().is_some()).count();
            if run > 0 {
                s.add_plain(m, bound, &rows, &terms[t..t + run], &self.codes, base.take(), out);
                t += run;
            } else {
                if let Some(b) = base.take() {
                    out.fill(b);
                }
                s.add_term::<false>(m, &terms[t], &self.codes, bound, rows.clone(), out);
                t += 1;
            }
        }
        if let Some(b) = base {
            out.fill(b);
        }
        add_offsets::<false>(m, bound, rows.clone(), out);
        if !out.iter().fold(false, |any, v| any | v.is_nan()) {
            return;
        }
        let mut one = Scratch::new(m, 1);
        for (k, r) in rows.enumerate() {
            if out[k].is_nan() {
                let o = std::slice::from_mut(&mut out[k]);
                one.gather(m, bound, r..r + 1);
                o[0] = intercept;
                for t in terms {
                    one.add_term::<true>(m, t, &self.codes, bound, r..r + 1, o);
                }
                add_offsets::<true>(m, bound, r..r + 1, o);
            }
        }
    }

    /// Standard errors, intervals or per-term predictions, from the rows of
    /// the model matrix (`predict.lm()`'s `X`), computed block by block.
    fn predict_inference(&self, e: &Extra, bound: &Bound, block: &mut RowBlock) {
        let m = self.model;
        let Some(inf) = &m.inference else { return };
        let rows = block.rows();
        let step = BLOCK.min((DESIGN_VALUES / m.beta.len().max(1)).max(1));
        let cap = rows.len().min(step);
        let mut s = Scratch::new(m, cap);
        let mut eta = vec![0.0; cap];
        // the design columns of the block, column-major: column c at c * cap
        let mut x = vec![0.0; m.beta.len() * cap];
        // a row's (row of Rinv, value) pairs
        let mut entries = Vec::with_capacity(inf.rank());
        let mut start = rows.start;
        while start < rows.end {
            let end = (start + step).min(rows.end);
            s.gather(m, bound, start..end);
            self.design_rows(&s, bound, start..end, &mut x, cap);
            let at = start - rows.start;
            if e.terms {
                for k in 0..end - start {
                    self.write_terms_row(e, inf, &x, cap, k, (at + k, start + k), &mut entries, block);
                }
            } else {
                self.eta(&mut s, bound, start..end, &mut eta[..end - start]);
                for k in 0..end - start {
                    entries.clear();
                    entries.extend(inf.pivot.iter().enumerate().map(|(l, &c)| (l, x[c * cap + k])));
                    let ip = variance(&inf.r_inverse, inf.rank(), e.res_var, &entries);
                    self.write_fit_row(e, eta[k], ip, (at + k, start + k), block);
                }
            }
            start = end;
        }
    }

    /// The estimated design columns of `rows` into `x` (column c at c * cap).
    fn design_rows(&self, s: &Scratch, bound: &Bound, rows: Range<usize>, x: &mut [f64], cap: usize) {
        let m = self.model;
        let n = rows.len();
        if m.has_intercept {
            x[..n].fill(1.0);
        }
        let level_code = |var: usize, r: usize| match m.vars[var] {
            Var::Factor { slot, .. } => match self.codes[slot].get(r) {
                NA_CODE => None,
                code => Some(code as usize),
            },
            _ => None,
        };
        for dt in &m.design {
            for &(kk, c) in &dt.live {
                let level = |var: usize, k: usize| level_code(var, rows.start + k);
                dt.fill(kk, &mut x[c * cap..c * cap + n], level, |v, col| s.col(m, bound, &rows, v, col));
            }
        }
    }

    /// One row of fitted values: the fit (with its interval) and its
    /// standard error. `row` is (index in the block, index in the input).
    fn write_fit_row(&self, e: &Extra, eta: f64, ip: f64, row: (usize, usize), block: &mut RowBlock) {
        let link = self.model.link;
        let se = ip.sqrt();
        let (fit, se) = if e.response_scale { (link.inverse(eta), se * link.mu_eta(eta).abs()) } else { (eta, se) };
        let (k, r) = row;
        block.real(0)[k] = fit;
        let mut col = 1;
        if let Some(interval) = e.interval {
            let hwid = e.tfrac * half_width(interval, ip, e.pred_var(r));
            block.real(1)[k] = fit + hwid;
            block.real(2)[k] = fit - hwid;
            col = 3;
        }
        if e.se_fit {
            block.real(col)[k] = se;
        }
    }

    /// One row of per-term predictions: per term, its centred design
    /// columns times their coefficients, and their standard errors and
    /// intervals (the columns of fit, se.fit, lwr, upr, term by term).
    #[allow(clippy::too_many_arguments)]
    fn write_terms_row(
        &self,
        e: &Extra,
        inf: &Inference,
        x: &[f64],
        cap: usize,
        k: usize,
        row: (usize, usize),
        entries: &mut Vec<(usize, f64)>,
        block: &mut RowBlock,
    ) {
        let m = self.model;
        let nt = m.design.len();
        let centred = |c: usize| match (&inf.column_means, m.has_intercept) {
            (Some(avx), true) => x[c * cap + k] - avx[c],
            _ => x[c * cap + k],
        };
        let (bk, r) = row;
        for (i, dt) in m.design.iter().enumerate() {
            let fit = dt.live.iter().fold(0.0, |acc, &(_, c)| acc + m.beta[c].unwrap_or(0.0) * centred(c));
            block.real(i)[bk] = fit;
            if e.se_fit || e.interval.is_some() {
                entries.clear();
                entries.extend(dt.live.iter().map(|&(_, c)| (inf.unpivot[c], centred(c))));
                let ip =
                    if dt.live.is_empty() { 0.0 } else { variance(&inf.r_inverse, inf.rank(), e.res_var, entries) };
                block.real(nt + i)[bk] = ip.sqrt();
                if let Some(interval) = e.interval {
                    let hwid = e.tfrac * half_width(interval, ip, e.pred_var(r));
                    block.real(2 * nt + i)[bk] = fit + hwid;
                    block.real(3 * nt + i)[bk] = fit - hwid;
                }
            }
        }
    }
}

/// `rowSums((x %*% Rinv)^2 * res.var)` for one row given as (row of Rinv,
/// value) pairs, summed in BLAS's order: each column of `x %*% Rinv` over
/// the pairs in order, then the squares in column order. A column's sum
/// stays in a register (kept in memory across the pairs, its stores and
/// reloads were most of a standard error's time).
fn variance(rinv: &[f64], p: usize, res_var: f64, entries: &[(usize, f64)]) -> f64 {
    rinv.chunks_exact(p.max(1)).take(p).fold(0.0, |ip, col| {
        let v = entries.iter().fold(0.0, |acc, &(l, x)| acc + col[l] * x);
        ip + res_var * (v * v)
    })
}

fn half_width(interval: Interval, ip: f64, pred_var: f64) -> f64 {
    match interval {
        Interval::Confidence => ip.sqrt(),
        Interval::Prediction => (ip + pred_var).sqrt(),
    }
}

/// Per-task buffers: `stride` rows per variable column.
struct Scratch {
    stride: usize,
    /// Every used variable's columns in one buffer: variable v at `at[v]`.
    values: Vec<f64>,
    at: Vec<usize>,
    lc: Vec<usize>,
    row: Vec<f64>,
    spline: Vec<f64>,
}

impl Scratch {
    /// Buffers for the variables some term reads (the others are never
    /// evaluated), and for what the model's terms need beside them: a
    /// spline's row, level combinations. A one-row call makes a scratch
    /// each time, so the buffers nothing needs are not allocated.
    fn new(m: &LinearModel, stride: usize) -> Scratch {
        let used = |i: usize| m.used[i];
        let (mut row, mut spline) = (0, 0);
        for (i, v) in m.vars.iter().enumerate() {
            if let Var::Spline { spline: sp, .. } = v {
                if used(i) {
                    row = row.max(v.ncols());
                    spline = spline.max(sp.scratch_len());
                }
            }
        }
        let mut at = Vec::with_capacity(m.vars.len() + 1);
        at.push(0);
        for (i, v) in m.vars.iter().enumerate() {
            let len = if used(i) { v.ncols() * stride } else { 0 };
            at.push(at[i] + len);
        }
        Scratch {
            stride,
            values: vec![0.0; at.last().copied().unwrap_or(0)],
            at,
            lc: vec![0; if m.level_combos { stride } else { 0 }],
            row: vec![0.0; row],
            spline: vec![0.0; spline],
        }
    }

    /// Evaluate the numeric variables for `rows` (bare double inputs are
    /// read in place).
    fn gather(&mut self, m: &LinearModel, bound: &Bound, rows: Range<usize>) {
        let stride = self.stride;
        for (i, var) in m.vars.iter().enumerate() {
            if !m.used[i] {
                continue;
            }
            let buf = &mut self.values[self.at[i]..self.at[i + 1]];
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
            None => &self.values[self.at[v] + c * self.stride..self.at[v] + c * self.stride + rows.len()],
        }
    }

    /// Add plain terms (see `Term::is_plain`) and factor main effects for
    /// `rows` into `out`, up to eight columns and then a main effect a
    /// pass: `out` is read and written once per pass rather than once per
    /// column, and the inputs of a pass stream from memory side by side.
    /// `base`, if given, is what `out` starts from, in place of its values.
    #[allow(clippy::too_many_arguments)]
    fn add_plain(
        &self,
        m: &LinearModel,
        bound: &Bound,
        rows: &Range<usize>,
        terms: &[Term],
        codes: &[FactorCodes],
        mut base: Option<f64>,
        out: &mut [f64],
    ) {
        let mut group: [(f64, &[f64]); 8] = [(0.0, &[]); 8];
        let mut n = 0;
        for t in terms {
            if let Some(slot) = t.main_effect() {
                // `Term::level_value` with the NA row read once, and the
                // variant matched here, not per row
                let (values, na) = t.table.split_at(t.n_level_combos);
                let na = na[0];
                let level = |c: u32| values.get(c as usize).copied().unwrap_or(na);
                match &codes[slot] {
                    FactorCodes::Table { codes, offset, table } => {
                        let codes = &codes[rows.clone()];
                        let last = |k: usize, s: f64| s + level(table_code(codes[k], *offset, table));
                        add_columns(out, base.take(), &group[..n], last);
                    }
                    FactorCodes::Owned(v) => {
                        let codes = &v[rows.clone()];
                        add_columns(out, base.take(), &group[..n], |k, s| s + level(codes[k]));
                    }
                }
                n = 0;
                continue;
            }
            for (combo, &b) in t.combos.iter().zip(&t.table) {
                if let [(v, c)] = combo.as_slice() {
                    group[n] = (b, self.col(m, bound, rows, *v, *c));
                    n += 1;
                    if n == group.len() {
                        add_columns(out, base.take(), &group, |_, s| s);
                        n = 0;
                    }
                }
            }
        }
        add_columns(out, base, &group[..n], |_, s| s);
    }

    /// Add term `t` for `rows` into `out`.
    fn add_term<const STRICT: bool>(
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
                        *o = then::<STRICT>(*o, b * x, |o, x| o + x);
                    }
                } else {
                    for (k, o) in out.iter_mut().enumerate() {
                        let p = combo.iter().fold(1.0, |p, (v, c)| {
                            then::<STRICT>(p, self.col(m, bound, &rows, *v, *c)[k], |p, x| p * x)
                        });
                        *o = then::<STRICT>(*o, b * p, |o, x| o + x);
                    }
                }
            }
            return;
        }
        if let Some(slot) = t.main_effect() {
            // one lookup a row, its level or NA
            codes[slot].each(rows, |k, c| out[k] = then::<STRICT>(out[k], t.level_value(c), |o, x| o + x));
            return;
        }
        self.level_combos(t, codes, rows.clone());
        let lc = &self.lc[..rows.len()];
        if ncombos == 1 && t.combos[0].is_empty() {
            for (o, &l) in out.iter_mut().zip(lc) {
                *o = then::<STRICT>(*o, t.table[l], |o, x| o + x);
            }
            return;
        }
        for (j, combo) in t.combos.iter().enumerate() {
            for (k, o) in out.iter_mut().enumerate() {
                let p = combo
                    .iter()
                    .fold(1.0, |p, (v, c)| then::<STRICT>(p, self.col(m, bound, &rows, *v, *c)[k], |p, x| p * x));
                *o = then::<STRICT>(*o, t.contribution(lc[k] * ncombos + j, p), |o, x| o + x);
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
            codes[slot].each(rows.clone(), |k, c| {
                lc[k] = if c == NA_CODE || lc[k] == t.n_level_combos {
                    t.n_level_combos
                } else {
                    lc[k] + c as usize * stride
                };
            });
            stride *= nl;
        }
    }
}

/// `out = last(base + b * x + ...)` for each (b, x) of `cols` in turn,
/// every sum rounded as it would be column by column; `base` is `out`
/// itself unless given. `last(k, sum)` finishes row `k` (a main effect's
/// lookup, or nothing).
#[inline(always)]
fn add_columns(out: &mut [f64], base: Option<f64>, cols: &[(f64, &[f64])], last: impl Fn(usize, f64) -> f64) {
    match base {
        Some(b) => sum_columns(out, cols, |_| b, last),
        None => sum_columns(out, cols, |o| o, last),
    }
}

#[inline(always)]
fn sum_columns(out: &mut [f64], cols: &[(f64, &[f64])], base: impl Fn(f64) -> f64, last: impl Fn(usize, f64) -> f64) {
    match cols.len() {
        0 => sum_n::<0>(out, cols, base, last),
        1 => sum_n::<1>(out, cols, base, last),
        2 => sum_n::<2>(out, cols, base, last),
        3 => sum_n::<3>(out, cols, base, last),
        4 => sum_n::<4>(out, cols, base, last),
        5 => sum_n::<5>(out, cols, base, last),
        6 => sum_n::<6>(out, cols, base, last),
        7 => sum_n::<7>(out, cols, base, last),
        _ => sum_n::<8>(out, cols, base, last),
    }
}

/// `sum_columns` over the first `N` of `cols`, in one pass; `N` fixed so
/// that the sum over columns unrolls inside the loop over rows, which
/// vectorises.
#[inline(always)]
fn sum_n<const N: usize>(
    out: &mut [f64],
    cols: &[(f64, &[f64])],
    base: impl Fn(f64) -> f64,
    last: impl Fn(usize, f64) -> f64,
) {
    let n = out.len();
    let a: [f64; N] = std::array::from_fn(|j| cols[j].0);
    let x: [&[f64]; N] = std::array::from_fn(|j| &cols[j].1[..n]);
    for k in 0..n {
        let mut s = base(out[k]);
        for j in 0..N {
            s += a[j] * x[j][k];
        }
        out[k] = last(k, s);
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

/// `op(a, b)`; strictly, `a` itself when it is NaN. With two NaNs the
/// hardware keeps the payload of whichever operand the compiler put first,
/// which differs between a vectorised loop and its scalar tail, so R's NA
/// could come out as NaN for some rows of a block only. A row that comes
/// out NaN is computed again alone and strictly (`Scratch::fit`): the
/// first NaN of each sum and product stays, wherever the row falls.
#[inline(always)]
fn then<const STRICT: bool>(a: f64, b: f64, op: impl Fn(f64, f64) -> f64) -> f64 {
    if STRICT && a.is_nan() {
        a
    } else {
        op(a, b)
    }
}

fn add_offsets<const STRICT: bool>(m: &LinearModel, bound: &Bound, rows: Range<usize>, out: &mut [f64]) {
    if m.offsets.is_empty() {
        return;
    }
    for (k, r) in rows.enumerate() {
        let mut off = 0.0;
        for e in &m.offsets {
            off = then::<STRICT>(off, e.eval(bound, r), |o, x| o + x);
        }
        out[k] = then::<STRICT>(out[k], off, |o, x| o + x);
    }
}
