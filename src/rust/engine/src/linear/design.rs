//! The design program's terms, compiled (its variables are in
//! `variables.rs`): each term folded with its coefficients into a lookup
//! table.
//!
//! The design matrix is never built. A term's table is indexed by the
//! term's level combination (one row per combination of its factors'
//! levels, plus a row of NA for a missing level) and by its numeric column
//! combination. Per row a term then costs one table lookup per numeric
//! combination, and a factor main effect a single lookup. Aliased
//! coefficients are left out as R's predict() leaves them out, so a missing
//! value in a column that only feeds aliased coefficients does not make the
//! row NA.

use crate::error::{Error, Result};
use crate::format::{Coding, TermSpec, VariableSpec};
use crate::frame::NA_REAL;
use crate::limits::{self, Limits};
use crate::linear::variables::Var;

#[derive(Debug, Clone)]
pub(super) struct Term {
    /// Factor slots of the term and their level counts; the first varies
    /// fastest in the level-combination index.
    pub factors: Vec<(usize, usize)>,
    pub n_level_combos: usize,
    /// Numeric column combinations: each is a product of (variable, column).
    pub combos: Vec<Vec<(usize, usize)>>,
    /// `(n_level_combos + 1) x combos.len()`, row-major; the last row is NA.
    pub table: Vec<f64>,
    /// For terms with factors and numeric columns: per table entry, its
    /// design columns unfolded. R multiplies the coding into the column
    /// before the coefficient, so an infinite value meets a zero coding as
    /// NaN, which the folded table cannot show.
    pub unfolded: Vec<Unfolded>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Unfolded {
    /// (coefficient, coding weight) of the non-zero weights, in column order.
    pairs: Vec<(f64, f64)>,
    /// Whether a live coefficient meets a zero weight here.
    zero: bool,
}

impl Term {
    /// No factor, and each numeric combination a single column: the term
    /// only adds columns scaled by their coefficients.
    pub fn is_plain(&self) -> bool {
        self.factors.is_empty() && self.combos.iter().all(|c| c.len() == 1)
    }

    /// The factor slot of a factor's main effect: one factor and no numeric
    /// column, so one table value a level.
    pub fn main_effect(&self) -> Option<usize> {
        match (self.factors.as_slice(), self.combos.as_slice()) {
            ([(slot, _)], [combo]) if combo.is_empty() => Some(*slot),
            _ => None,
        }
    }

    /// A main effect's value for level code `c` (the NA row's, the last,
    /// for `NA_CODE`).
    #[inline]
    pub fn level_value(&self, c: u32) -> f64 {
        self.table[(c as usize).min(self.n_level_combos)]
    }

    /// Contribution of table entry `e` for the numeric product `p`.
    #[inline]
    pub fn contribution(&self, e: usize, p: f64) -> f64 {
        match self.unfolded.get(e) {
            Some(u) if p.is_infinite() && (u.zero || !u.pairs.is_empty()) => {
                if u.zero {
                    // as R's 0 * Inf: the NaN absorbs the rest of the sum
                    0.0 * p
                } else {
                    u.pairs.iter().fold(0.0, |s, (b, w)| s + b * (w * p))
                }
            }
            _ => self.table[e] * p,
        }
    }
}

/// How one variable of a term spans the term's design columns.
#[derive(Debug, Clone)]
struct Part {
    var: usize,
    ncols: usize,
    coding: Option<FactorCoding>,
}

/// A factor's coding: level x column weights.
#[derive(Debug, Clone)]
enum FactorCoding {
    /// One indicator column per level.
    Indicators(usize),
    /// A contrast matrix, levels x columns, row-major.
    Matrix { nlevels: usize, m: Vec<f64> },
}

impl FactorCoding {
    fn nlevels(&self) -> usize {
        match self {
            FactorCoding::Indicators(n) | FactorCoding::Matrix { nlevels: n, .. } => *n,
        }
    }

    /// Non-zero weights over all levels.
    fn nonzero_total(&self, ncols: usize) -> usize {
        match self {
            FactorCoding::Indicators(n) => *n,
            FactorCoding::Matrix { m, .. } => {
                m.iter().take(m.len() / ncols.max(1) * ncols).filter(|w| **w != 0.0).count()
            }
        }
    }

    fn weight(&self, level: usize, col: usize, ncols: usize) -> f64 {
        match self {
            FactorCoding::Indicators(_) => f64::from(u8::from(level == col)),
            FactorCoding::Matrix { m, .. } => m[level * ncols + col],
        }
    }
}

/// Check a term's variables and their codings.
fn term_parts(t: &TermSpec, specs: &[VariableSpec], vars: &[Var]) -> Result<Vec<Part>> {
    let mut parts: Vec<Part> = Vec::with_capacity(t.factors.len());
    for tf in &t.factors {
        let v = tf.variable;
        if v >= vars.len() {
            return Err(Error::invalid(format!("term '{}' refers to variable {v} of {}", t.label, vars.len())));
        }
        if parts.iter().any(|p| p.var == v) {
            return Err(Error::invalid(format!("term '{}' lists variable {v} twice", t.label)));
        }
        let spec = &specs[v];
        let label = spec.label();
        let part = match (spec.factor_coding(), tf.coding) {
            (Some((nl, _)), Some(Coding::Indicators)) => {
                Part { var: v, ncols: nl, coding: Some(FactorCoding::Indicators(nl)) }
            }
            (Some((nl, contrasts)), Some(Coding::Contrasts)) => {
                let c = contrasts.ok_or_else(|| {
                    Error::invalid(format!("factor '{label}' is coded by contrasts but has no contrast matrix"))
                })?;
                if c.len() != nl || c.is_empty() {
                    return Err(Error::invalid(format!("factor '{label}': contrast matrix needs {nl} rows")));
                }
                let nc = c[0].len();
                if c.iter().any(|r| r.len() != nc || r.iter().any(|x| !x.is_finite())) {
                    return Err(Error::invalid(format!("factor '{label}': ragged or non-finite contrast matrix")));
                }
                let m = c.iter().flatten().copied().collect();
                Part { var: v, ncols: nc, coding: Some(FactorCoding::Matrix { nlevels: nl, m }) }
            }
            (Some(_), None) => {
                return Err(Error::invalid(format!("factor '{label}' in term '{}' needs a coding", t.label)))
            }
            (None, None) => Part { var: v, ncols: vars[v].ncols(), coding: None },
            (None, Some(_)) => return Err(Error::invalid(format!("numeric variable '{label}' cannot have a coding"))),
        };
        parts.push(part);
    }
    Ok(parts)
}

/// Design entries one table entry with unfolded columns stands for: its
/// `Unfolded` (4 words), its coefficient pairs and the copies folding makes.
const UNFOLDED_WEIGHT: usize = 8;

/// The product of `sizes`, checked against overflow and the design limit.
pub(super) fn size(mut sizes: impl Iterator<Item = usize>, what: &str, lim: &Limits) -> Result<usize> {
    let n = sizes.try_fold(1usize, |acc, s| acc.checked_mul(s));
    let n = n.ok_or_else(|| Error::unsupported(format!("{what} too large to count")))?;
    limits::check(what, n as u64, lim.design as u64, "design")?;
    Ok(n)
}

/// Fold a term's coefficients into its lookup table. Returns `None` when
/// every coefficient of the term is aliased (the term contributes nothing).
pub(super) fn build_term(
    t: &TermSpec,
    specs: &[VariableSpec],
    vars: &[Var],
    beta: &[Option<f64>],
    lim: &Limits,
    used: &mut usize,
) -> Result<Option<Term>> {
    let parts = term_parts(t, specs, vars)?;
    let label = &t.label;
    let ncols = size(parts.iter().map(|p| p.ncols), &format!("term '{label}': design columns"), lim)?;
    if ncols != t.columns.len() {
        return Err(Error::invalid(format!(
            "term '{label}' spans {ncols} design columns but lists {}",
            t.columns.len()
        )));
    }
    let factor_parts = || parts.iter().filter_map(|p| p.coding.as_ref().map(|c| (c, p.ncols)));
    let n_level_combos =
        size(factor_parts().map(|(c, _)| c.nlevels()), &format!("term '{label}': level combinations"), lim)?;
    let numeric: Vec<&Part> = parts.iter().filter(|p| p.coding.is_none()).collect();
    let n_num_combos: usize = numeric.iter().map(|p| p.ncols).product();
    let entries = limits::product(n_level_combos + 1, n_num_combos, "a term's table")?;
    size([entries].into_iter(), &format!("term '{label}': its table"), lim)?;
    // All terms together count against the limit, and a table whose entries
    // also keep their unfolded columns (factors times numbers) counts each
    // entry as the words that folding it takes: a term at the limit cost
    // 9 GB and a minute to load from a 75 KB file.
    let weight = if !numeric.is_empty() && n_level_combos > 1 { UNFOLDED_WEIGHT } else { 1 };
    *used = limits::product(entries, weight, "a linear model's design")?
        .checked_add(*used)
        .ok_or_else(|| Error::unsupported("a linear model's design too large to count"))?;
    limits::check("a linear model: design entries of all terms", *used as u64, lim.design as u64, "design")?;
    // folding visits the non-zero coding weights of every level combination
    let weights = factor_parts().map(|(c, nc)| c.nonzero_total(nc));
    size(weights.chain([n_num_combos]), &format!("term '{label}': its coding weights"), lim)?;
    let with_numbers = !numeric.is_empty() && n_level_combos > 1;
    let folded = fold(&parts, t, beta, n_level_combos, n_num_combos, with_numbers);
    if !folded.live.iter().any(|l| *l) {
        return Ok(None);
    }
    let Folded { mut table, mut unfolded, live } = folded;
    for j in 0..n_num_combos {
        table[n_level_combos * n_num_combos + j] = NA_REAL;
    }
    // numeric column combinations (first numeric variable fastest), without
    // those whose coefficients are all aliased
    let keep: Vec<usize> = (0..n_num_combos).filter(|&j| live[j]).collect();
    let combos = keep
        .iter()
        .map(|&j| {
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
    let kept: Vec<usize> =
        (0..=n_level_combos).flat_map(|lc| keep.iter().map(move |&j| lc * n_num_combos + j)).collect();
    let table = kept.iter().map(|&e| table[e]).collect();
    let unfolded =
        if with_numbers { kept.iter().map(|&e| std::mem::take(&mut unfolded[e])).collect() } else { Vec::new() };
    let slot_of = |v: usize| match vars[v] {
        Var::Factor { slot, .. } => slot,
        _ => usize::MAX,
    };
    let factors = parts.iter().filter_map(|p| p.coding.as_ref().map(|c| (slot_of(p.var), c.nlevels()))).collect();
    Ok(Some(Term { factors, n_level_combos, combos, table, unfolded }))
}

struct Folded {
    table: Vec<f64>,
    unfolded: Vec<Unfolded>,
    /// Per numeric combination: whether any coefficient feeds it.
    live: Vec<bool>,
}

/// For every level combination and design column of the term with a
/// non-zero coding weight: its coefficient times the product of the
/// factors' weights, added to the table entry of (level combination,
/// numeric combination), in design-column order.
fn fold(
    parts: &[Part],
    t: &TermSpec,
    beta: &[Option<f64>],
    n_level_combos: usize,
    n_num_combos: usize,
    with_numbers: bool,
) -> Folded {
    let n_entries = (n_level_combos + 1) * n_num_combos;
    let mut table = vec![0.0; n_entries];
    let mut unfolded = if with_numbers { vec![Unfolded::default(); n_entries] } else { Vec::new() };
    // strides of each part in the design-column index (first part fastest)
    let strides: Vec<usize> = parts
        .iter()
        .scan(1usize, |s, p| {
            let here = *s;
            *s *= p.ncols;
            Some(here)
        })
        .collect();
    // live coefficients per numeric combination, whatever the levels: an
    // entry that gets fewer non-zero weights than these has met a zero
    let mut live_per_combo = vec![0usize; n_num_combos];
    for (k, c) in t.columns.iter().enumerate() {
        if beta[*c].is_some() {
            live_per_combo[numeric_combo(parts, k)] += 1;
        }
    }
    // each part's candidate (column, weight) pairs, per level: a factor's
    // non-zero coding weights at the level, every column of a numeric
    // variable. Built once, so that a level combination costs a few steps
    // (16M combinations took 3.5 s when each rebuilt them).
    let per_level: Vec<Vec<Vec<(usize, f64)>>> = parts.iter().map(candidates).collect();
    let mut level = vec![0usize; parts.len()];
    let mut pos = vec![0usize; parts.len()];
    let mut cands: Vec<&[(usize, f64)]> = Vec::with_capacity(parts.len());
    for lc in 0..n_level_combos {
        cands.clear();
        cands.extend(per_level.iter().zip(&level).map(|(c, &l)| c[l].as_slice()));
        if cands.iter().all(|c| !c.is_empty()) {
            // every combination of candidates, first part fastest
            pos.fill(0);
            loop {
                let (column, w, nk) = design_column(parts, &strides, &cands, &pos);
                if let Some(b) = beta[t.columns[column]] {
                    let e = lc * n_num_combos + nk;
                    table[e] += b * w;
                    if with_numbers {
                        unfolded[e].pairs.push((b, w));
                    }
                }
                if !next_combination(&mut pos, &cands) {
                    break;
                }
            }
        }
        // the next level combination: factors in part order, first fastest
        for (l, c) in level.iter_mut().zip(&per_level) {
            if c.len() > 1 {
                *l += 1;
                if *l < c.len() {
                    break;
                }
                *l = 0;
            }
        }
    }
    // (the NA row, last, keeps its NA)
    for (e, u) in unfolded.iter_mut().enumerate().take(n_level_combos * n_num_combos) {
        u.zero = u.pairs.len() < live_per_combo[e % n_num_combos];
    }
    let live = live_per_combo.iter().map(|&n| n > 0).collect();
    Folded { table, unfolded, live }
}

/// A part's candidate (column, weight) pairs by level: a factor's non-zero
/// coding weights at each level; for a numeric variable one list, of every
/// column.
fn candidates(p: &Part) -> Vec<Vec<(usize, f64)>> {
    match &p.coding {
        Some(coding) => (0..coding.nlevels())
            .map(|level| {
                (0..p.ncols).map(|col| (col, coding.weight(level, col, p.ncols))).filter(|e| e.1 != 0.0).collect()
            })
            .collect(),
        None => vec![(0..p.ncols).map(|col| (col, 1.0)).collect()],
    }
}

/// For the candidates at `pos`: the design column, the product of the
/// coding weights, and the numeric combination.
fn design_column(parts: &[Part], strides: &[usize], cands: &[&[(usize, f64)]], pos: &[usize]) -> (usize, f64, usize) {
    let (mut column, mut w, mut nk, mut nstride) = (0, 1.0, 0, 1);
    for (i, p) in parts.iter().enumerate() {
        let (col, wi) = cands[i][pos[i]];
        column += col * strides[i];
        if p.coding.is_some() {
            w *= wi;
        } else {
            nk += col * nstride;
            nstride *= p.ncols;
        }
    }
    (column, w, nk)
}

/// Step `pos` to the next combination (first part fastest); false after the last.
fn next_combination(pos: &mut [usize], cands: &[&[(usize, f64)]]) -> bool {
    for (p, c) in pos.iter_mut().zip(cands) {
        *p += 1;
        if *p < c.len() {
            return true;
        }
        *p = 0;
    }
    false
}

/// The numeric combination of design column `k`.
fn numeric_combo(parts: &[Part], k: usize) -> usize {
    let (mut rest, mut nk, mut nstride) = (k, 0, 1);
    for p in parts {
        let idx = rest % p.ncols;
        rest /= p.ncols;
        if p.coding.is_none() {
            nk += idx * nstride;
            nstride *= p.ncols;
        }
    }
    nk
}

/// One term's design columns, for the rows of the model matrix that
/// standard errors and per-term predictions need (the table of `Term`
/// folds them away).
#[derive(Debug, Clone)]
pub(super) struct DesignTerm {
    parts: Vec<Part>,
    /// (index within the term, design column) of the estimated columns.
    pub live: Vec<(usize, usize)>,
}

impl DesignTerm {
    pub fn new(t: &TermSpec, specs: &[VariableSpec], vars: &[Var], beta: &[Option<f64>]) -> Result<DesignTerm> {
        let parts = term_parts(t, specs, vars)?;
        let live = t.columns.iter().enumerate().filter(|(_, &c)| beta[c].is_some()).map(|(k, &c)| (k, c)).collect();
        Ok(DesignTerm { parts, live })
    }

    /// The term's column `k` for a block of rows, into `out`: per row the
    /// product over the term's variables, in their order, of a factor's
    /// coding weight for its level code (`level(variable, row)`) or a
    /// numeric column (`num(variable, column)`, the block's values); NA
    /// where a factor's level is missing.
    pub fn fill<'s>(
        &self,
        k: usize,
        out: &mut [f64],
        level: impl Fn(usize, usize) -> Option<usize>,
        num: impl Fn(usize, usize) -> &'s [f64],
    ) {
        out.fill(1.0);
        let mut rest = k;
        let mut missing = false;
        for p in &self.parts {
            let idx = rest % p.ncols;
            rest /= p.ncols;
            match &p.coding {
                Some(c) => {
                    for (r, x) in out.iter_mut().enumerate() {
                        match level(p.var, r) {
                            Some(l) => *x *= c.weight(l, idx, p.ncols),
                            None => missing = true,
                        }
                    }
                }
                None => {
                    for (x, v) in out.iter_mut().zip(num(p.var, idx)) {
                        *x *= v;
                    }
                }
            }
        }
        if missing {
            for (r, x) in out.iter_mut().enumerate() {
                if self.parts.iter().any(|p| p.coding.is_some() && level(p.var, r).is_none()) {
                    *x = NA_REAL;
                }
            }
        }
    }
}
