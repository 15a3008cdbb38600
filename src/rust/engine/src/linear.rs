//! Linear predictors (`lm`, `glm`): `eta = X beta + offset`, then the
//! inverse link for `type = "response"`.
//!
//! The design matrix is never built. At load time every term is folded
//! with its coefficients into a table indexed by the term's level
//! combination (one row per combination of its factors' levels, plus a row
//! of NA for a missing level) and by its numeric column combination. Per
//! row a term then costs one table lookup per numeric combination, and a
//! factor main effect costs a single lookup. Aliased coefficients are left
//! out as R's predict() leaves them out, so a missing value in a column
//! that only feeds aliased coefficients does not make the row NA.

use std::ops::Range;

use crate::error::{Error, Result};
use crate::expr::{r_pow, CExpr};
use crate::format::{Coding, LinearSpec, VariableSpec};
use crate::frame::NA_REAL;
use crate::inputs::{Bound, FactorCodes, Inputs, Levels, NumView, Unseen, NA_CODE};
use crate::link::Link;
use crate::spline::Spline;

/// Rows evaluated together; small enough for the block to stay in L1.
const BLOCK: usize = 512;
/// Largest term table we are willing to build.
const MAX_TABLE: usize = 1 << 24;

#[derive(Debug, Clone)]
pub struct LinearModel {
    link: Link,
    types: Vec<String>,
    default_type: String,
    intercept: f64,
    vars: Vec<Var>,
    terms: Vec<Term>,
    offsets: Vec<CExpr>,
}

#[derive(Debug, Clone)]
enum Var {
    Numeric(CExpr),
    Poly {
        arg: CExpr,
        alpha: Vec<f64>,
        norm2: Vec<f64>,
    },
    PolyRaw {
        arg: CExpr,
        degree: usize,
    },
    Spline {
        arg: CExpr,
        spline: Spline,
    },
    /// `slot` indexes the per-call factor codes.
    Factor {
        input: usize,
        levels: Levels,
        column: String,
        slot: usize,
    },
}

impl Var {
    fn ncols(&self) -> usize {
        match self {
            Var::Numeric(_) => 1,
            Var::Poly { alpha, .. } => alpha.len(),
            Var::PolyRaw { degree, .. } => *degree,
            Var::Spline { spline, .. } => spline.ncols(),
            Var::Factor { .. } => 0,
        }
    }
}

#[derive(Debug, Clone)]
struct Term {
    /// Factor slots of the term and their level counts; the first varies
    /// fastest in the level-combination index.
    factors: Vec<(usize, usize)>,
    n_level_combos: usize,
    /// Numeric column combinations: each is a product of (variable, column).
    combos: Vec<Vec<(usize, usize)>>,
    /// `(n_level_combos + 1) x combos.len()`, row-major; the last row is NA.
    table: Vec<f64>,
    /// Per table entry, the unfolded (coefficient, coding weight) pairs of
    /// its design columns: R multiplies the coding into the column before
    /// the coefficient, so an infinite value meets a zero coding as NaN,
    /// which the folded table cannot show.
    unfolded: Vec<Vec<(f64, f64)>>,
}

impl Term {
    /// Contribution of table entry `e` for the numeric product `p`.
    #[inline]
    fn contribution(&self, e: usize, p: f64) -> f64 {
        match self.unfolded.get(e) {
            Some(cols) if p.is_infinite() && !cols.is_empty() => cols.iter().fold(0.0, |s, (b, w)| s + b * (w * p)),
            _ => self.table[e] * p,
        }
    }
}

impl LinearModel {
    pub fn new(spec: &LinearSpec, inputs: &Inputs) -> Result<LinearModel> {
        let link = Link::from_name(&spec.link)?;
        if spec.types.is_empty() || !spec.types.contains(&spec.default_type) {
            return Err(Error::invalid("'default_type' must be one of 'types'"));
        }
        for t in &spec.types {
            if t != "link" && t != "response" {
                return Err(Error::invalid(format!("unknown prediction type '{t}' for a linear model")));
            }
        }
        let ncoef = spec.coefficients.len();
        if spec.coefficient_names.len() != ncoef {
            return Err(Error::invalid("'coefficient_names' and 'coefficients' differ in length"));
        }
        if let Some(c) = spec.coefficients.iter().flatten().find(|c| !c.is_finite()) {
            return Err(Error::invalid(format!("coefficient {c} is not finite")));
        }
        let resolve = |n: &str| inputs.index(n);
        let mut nslots = 0;
        let vars = spec.variables.iter().map(|v| compile_var(v, &resolve, &mut nslots)).collect::<Result<Vec<_>>>()?;

        let mut covered = vec![false; ncoef];
        let intercept = if spec.intercept {
            if ncoef == 0 {
                return Err(Error::invalid("an intercept needs a coefficient"));
            }
            covered[0] = true;
            spec.coefficients[0].unwrap_or(0.0)
        } else {
            0.0
        };
        let mut terms = Vec::with_capacity(spec.terms.len());
        for t in &spec.terms {
            for &c in &t.columns {
                if c >= ncoef {
                    return Err(Error::invalid(format!("term '{}' refers to coefficient {c} of {ncoef}", t.label)));
                }
                if std::mem::replace(&mut covered[c], true) {
                    return Err(Error::invalid(format!("coefficient {c} belongs to two terms")));
                }
            }
            if let Some(term) = build_term(t, &spec.variables, &vars, &spec.coefficients)? {
                terms.push(term);
            }
        }
        if let Some(c) = covered.iter().position(|c| !c) {
            return Err(Error::invalid(format!("coefficient '{}' belongs to no term", spec.coefficient_names[c])));
        }
        let offsets = spec.offsets.iter().map(|e| e.compile(&resolve)).collect::<Result<Vec<_>>>()?;
        Ok(LinearModel {
            link,
            types: spec.types.clone(),
            default_type: spec.default_type.clone(),
            intercept,
            vars,
            terms,
            offsets,
        })
    }

    pub fn types(&self) -> &[String] {
        &self.types
    }

    pub fn default_type(&self) -> &str {
        &self.default_type
    }

    /// Per-call state: factor codes mapped to the model's levels.
    pub fn prepare<'f, 'a>(&self, bound: &Bound<'f, 'a>) -> Result<Vec<FactorCodes<'a>>> {
        self.vars
            .iter()
            .filter_map(|v| match v {
                Var::Factor { input, levels, column, .. } => {
                    Some(FactorCodes::new(bound.column(*input), column, levels, Unseen::Error))
                }
                _ => None,
            })
            .collect()
    }

    /// Work estimate per row, used to choose between one thread and many.
    pub fn row_cost(&self) -> usize {
        1 + self.terms.iter().map(|t| t.combos.len().max(1)).sum::<usize>()
    }

    /// Predict rows `rows` into `out` (same length).
    pub fn predict_rows(
        &self,
        bound: &Bound,
        codes: &[FactorCodes],
        response: bool,
        rows: Range<usize>,
        out: &mut [f64],
    ) {
        let mut scratch = Scratch::new(self, rows.len().min(BLOCK));
        let mut start = rows.start;
        for chunk in out.chunks_mut(BLOCK) {
            let r = start..start + chunk.len();
            self.predict_block(bound, codes, r.clone(), chunk, &mut scratch);
            if response {
                for v in chunk.iter_mut() {
                    *v = self.link.inverse(*v);
                }
            }
            start = r.end;
        }
    }

    fn predict_block(
        &self,
        bound: &Bound,
        codes: &[FactorCodes],
        rows: Range<usize>,
        out: &mut [f64],
        s: &mut Scratch,
    ) {
        let n = rows.len();
        let Scratch { vars: bufs, lc, row, spline: sp, stride } = s;
        let stride = *stride;
        // 1. numeric variables into scratch (bare double inputs are read in place)
        for (var, buf) in self.vars.iter().zip(bufs.iter_mut()) {
            match var {
                Var::Numeric(e) => {
                    if let Some(i) = e.as_input() {
                        if let NumView::Real(_) = bound.num(i) {
                            continue;
                        }
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
                        spline.eval(arg.eval(bound, r), &mut row[..nc], sp);
                        for j in 0..nc {
                            buf[j * stride + k] = row[j];
                        }
                    }
                }
                Var::Factor { .. } => {}
            }
        }
        let bufs = &*bufs;
        let col = |v: usize, c: usize| -> &[f64] {
            if let Var::Numeric(e) = &self.vars[v] {
                if let Some(i) = e.as_input() {
                    if let NumView::Real(x) = bound.num(i) {
                        return &x[rows.clone()];
                    }
                }
            }
            &bufs[v][c * stride..c * stride + n]
        };
        // 2. intercept, terms, offsets
        out.fill(self.intercept);
        for t in &self.terms {
            let m = t.combos.len();
            if t.factors.is_empty() {
                for (j, combo) in t.combos.iter().enumerate() {
                    let b = t.table[j];
                    match combo.as_slice() {
                        [(v, c)] => {
                            for (o, x) in out.iter_mut().zip(col(*v, *c)) {
                                *o += b * x;
                            }
                        }
                        _ => {
                            for (k, o) in out.iter_mut().enumerate() {
                                let p = combo.iter().fold(1.0, |p, (v, c)| p * col(*v, *c)[k]);
                                *o += b * p;
                            }
                        }
                    }
                }
                continue;
            }
            // level-combination index per row; the NA row once any level is missing
            let lc = &mut lc[..n];
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
            let lc = &*lc;
            if m == 1 && t.combos[0].is_empty() {
                for (o, &l) in out.iter_mut().zip(lc) {
                    *o += t.table[l];
                }
                continue;
            }
            for (j, combo) in t.combos.iter().enumerate() {
                for (k, o) in out.iter_mut().enumerate() {
                    let p = combo.iter().fold(1.0, |p, (v, c)| p * col(*v, *c)[k]);
                    *o += t.contribution(lc[k] * m + j, p);
                }
            }
        }
        if !self.offsets.is_empty() {
            for (k, r) in rows.clone().enumerate() {
                let mut off = 0.0;
                for e in &self.offsets {
                    off += e.eval(bound, r);
                }
                out[k] += off;
            }
        }
    }
}

/// Per-task buffers; `stride` rows per variable column.
struct Scratch {
    stride: usize,
    vars: Vec<Vec<f64>>,
    lc: Vec<usize>,
    row: Vec<f64>,
    spline: Vec<f64>,
}

impl Scratch {
    fn new(m: &LinearModel, stride: usize) -> Scratch {
        let widest = m.vars.iter().map(|v| v.ncols()).max().unwrap_or(0);
        let spline = m
            .vars
            .iter()
            .map(|v| if let Var::Spline { spline, .. } = v { spline.scratch_len() } else { 0 })
            .max()
            .unwrap_or(0);
        Scratch {
            stride,
            vars: m.vars.iter().map(|v| vec![0.0; v.ncols() * stride]).collect(),
            lc: vec![0; stride],
            row: vec![0.0; widest],
            spline: vec![0.0; spline],
        }
    }
}

fn compile_var(v: &VariableSpec, resolve: &dyn Fn(&str) -> Result<usize>, nslots: &mut usize) -> Result<Var> {
    Ok(match v {
        VariableSpec::Numeric { expr, .. } => Var::Numeric(expr.compile(resolve)?),
        VariableSpec::Poly { label, arg, alpha, norm2 } => {
            if alpha.is_empty() || norm2.len() != alpha.len() + 2 {
                return Err(Error::invalid(format!("poly '{label}': need degree alphas and degree + 2 norms")));
            }
            if norm2.iter().chain(alpha).any(|x| !x.is_finite()) || norm2.iter().any(|x| *x <= 0.0) {
                return Err(Error::invalid(format!("poly '{label}': coefficients must be finite, norms positive")));
            }
            Var::Poly { arg: arg.compile(resolve)?, alpha: alpha.clone(), norm2: norm2.clone() }
        }
        VariableSpec::PolyRaw { label, arg, degree } => {
            if *degree == 0 {
                return Err(Error::invalid(format!("poly '{label}': degree must be positive")));
            }
            Var::PolyRaw { arg: arg.compile(resolve)?, degree: *degree as usize }
        }
        VariableSpec::Spline(s) => Var::Spline { arg: s.arg.compile(resolve)?, spline: Spline::new(s)? },
        VariableSpec::Factor { label, input, levels, .. } => {
            let i = resolve(input)?;
            if levels.is_empty() {
                return Err(Error::invalid(format!("factor '{label}' has no levels")));
            }
            *nslots += 1;
            Var::Factor { input: i, levels: Levels::new(levels)?, column: input.clone(), slot: *nslots - 1 }
        }
    })
}

/// Fold a term's coefficients into its lookup table. Returns `None` when
/// every coefficient of the term is aliased (the term contributes nothing).
fn build_term(
    t: &crate::format::TermSpec,
    specs: &[VariableSpec],
    vars: &[Var],
    beta: &[Option<f64>],
) -> Result<Option<Term>> {
    // Per variable of the term: number of design columns it spans, and for
    // factors the coding matrix (levels x columns, row-major).
    struct Part {
        var: usize,
        ncols: usize,
        coding: Option<(usize, Vec<f64>)>, // (nlevels, matrix)
    }
    let mut parts = Vec::with_capacity(t.factors.len());
    for tf in &t.factors {
        let v = tf.variable;
        if v >= vars.len() {
            return Err(Error::invalid(format!("term '{}' refers to variable {v} of {}", t.label, vars.len())));
        }
        if parts.iter().any(|p: &Part| p.var == v) {
            return Err(Error::invalid(format!("term '{}' lists variable {v} twice", t.label)));
        }
        match (&specs[v], tf.coding) {
            (VariableSpec::Factor { label, levels, contrasts, .. }, Some(coding)) => {
                let nl = levels.len();
                let (nc, m) = match coding {
                    Coding::Indicators => {
                        let mut m = vec![0.0; nl * nl];
                        for i in 0..nl {
                            m[i * nl + i] = 1.0;
                        }
                        (nl, m)
                    }
                    Coding::Contrasts => {
                        let c = contrasts.as_ref().ok_or_else(|| {
                            Error::invalid(format!("factor '{label}' is coded by contrasts but has no contrast matrix"))
                        })?;
                        if c.len() != nl || c.is_empty() {
                            return Err(Error::invalid(format!("factor '{label}': contrast matrix needs {nl} rows")));
                        }
                        let nc = c[0].len();
                        if c.iter().any(|r| r.len() != nc || r.iter().any(|x| !x.is_finite())) {
                            return Err(Error::invalid(format!(
                                "factor '{label}': ragged or non-finite contrast matrix"
                            )));
                        }
                        (nc, c.iter().flatten().copied().collect())
                    }
                };
                parts.push(Part { var: v, ncols: nc, coding: Some((nl, m)) });
            }
            (VariableSpec::Factor { label, .. }, None) => {
                return Err(Error::invalid(format!("factor '{label}' in term '{}' needs a coding", t.label)))
            }
            (_, None) => parts.push(Part { var: v, ncols: vars[v].ncols(), coding: None }),
            (other, Some(_)) => {
                return Err(Error::invalid(format!("numeric variable '{}' cannot have a coding", other.label())))
            }
        }
    }
    let ncols: usize = parts.iter().map(|p| p.ncols).product();
    if ncols != t.columns.len() {
        return Err(Error::invalid(format!(
            "term '{}' spans {ncols} design columns but lists {}",
            t.label,
            t.columns.len()
        )));
    }
    let slot_of = |v: usize| match vars[v] {
        Var::Factor { slot, .. } => slot,
        _ => usize::MAX,
    };
    let factors: Vec<(usize, usize)> =
        parts.iter().filter_map(|p| p.coding.as_ref().map(|(nl, _)| (slot_of(p.var), *nl))).collect();
    let n_level_combos: usize = factors.iter().map(|f| f.1).product();
    let numeric: Vec<&Part> = parts.iter().filter(|p| p.coding.is_none()).collect();
    let n_num_combos: usize = numeric.iter().map(|p| p.ncols).product();
    if (n_level_combos + 1).saturating_mul(n_num_combos) > MAX_TABLE {
        return Err(Error::unsupported(format!("term '{}' has too many level combinations", t.label)));
    }
    // Design column of a full index (one column index per part).
    let column_of = |idx: &[usize]| -> usize {
        let mut k = 0;
        let mut stride = 1;
        for (p, &i) in parts.iter().zip(idx) {
            k += i * stride;
            stride *= p.ncols;
        }
        t.columns[k]
    };
    let mut table = vec![0.0; (n_level_combos + 1) * n_num_combos];
    let mut unfolded: Vec<Vec<(f64, f64)>> = vec![Vec::new(); (n_level_combos + 1) * n_num_combos];
    let mut live = vec![false; n_num_combos];
    let mut idx = vec![0usize; parts.len()];
    let mut levels = vec![0usize; parts.len()];
    for lc in 0..n_level_combos {
        // levels of each factor part for this level combination
        let mut rest = lc;
        for (i, p) in parts.iter().enumerate() {
            if let Some((nl, _)) = &p.coding {
                levels[i] = rest % nl;
                rest /= nl;
            }
        }
        // walk every design column of the term
        for k in 0..ncols {
            let mut rest = k;
            for (i, p) in parts.iter().enumerate() {
                idx[i] = rest % p.ncols;
                rest /= p.ncols;
            }
            let Some(b) = beta[column_of(&idx)] else { continue };
            // product of the factors' coding entries for this column
            let mut w = 1.0;
            let mut nk = 0;
            let mut nstride = 1;
            for (i, p) in parts.iter().enumerate() {
                match &p.coding {
                    Some((_, m)) => w *= m[levels[i] * p.ncols + idx[i]],
                    None => {
                        nk += idx[i] * nstride;
                        nstride *= p.ncols;
                    }
                }
            }
            table[lc * n_num_combos + nk] += b * w;
            unfolded[lc * n_num_combos + nk].push((b, w));
            live[nk] = true;
        }
    }
    if !live.iter().any(|l| *l) {
        return Ok(None);
    }
    for j in 0..n_num_combos {
        table[n_level_combos * n_num_combos + j] = NA_REAL;
    }
    // numeric column combinations (first numeric variable fastest)
    let combos_all: Vec<Vec<(usize, usize)>> = (0..n_num_combos)
        .map(|j| {
            let mut rest = j;
            numeric
                .iter()
                .map(|p| {
                    let c = rest % p.ncols;
                    rest /= p.ncols;
                    (p.var, c)
                })
                .collect()
        })
        .collect();
    // drop combinations whose coefficients are all aliased
    let keep: Vec<usize> = (0..n_num_combos).filter(|&j| live[j]).collect();
    let entries: Vec<usize> =
        (0..=n_level_combos).flat_map(|lc| keep.iter().map(move |&j| lc * n_num_combos + j)).collect();
    let table = entries.iter().map(|&e| table[e]).collect();
    // Only terms with factors fold codings into the table.
    let unfolded = if factors.is_empty() {
        Vec::new()
    } else {
        entries.iter().map(|&e| std::mem::take(&mut unfolded[e])).collect()
    };
    let combos = keep.iter().map(|&j| combos_all[j].clone()).collect();
    Ok(Some(Term { factors, n_level_combos, combos, table, unfolded }))
}

#[cfg(test)]
mod tests;
