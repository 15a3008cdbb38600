//! Linear predictors (`lm`, `glm`): `eta = X beta + offset`, then the
//! inverse link for `type = "response"`. `design` compiles the design
//! program once; `predict` evaluates it block by block.

use crate::error::{Error, Result};
use crate::format::{LinearSpec, ResponsesSpec};
use crate::frame::bind::{Bound, Inputs};
use crate::frame::levels::{FactorCodes, Unseen, NA_CODE};
use crate::limits::{self, limits, Limits};
use crate::model::{
    big_mark, shorten, Call, Family, ModelInfo, PredictOption, PredictOptions, PredictType, PredictTypes,
};

mod design;
pub(crate) mod expr;
mod inference;
pub(crate) mod link;
mod predict;
mod quantile;
mod spline;
mod variables;

use design::{build_term, DesignTerm, Term};
use expr::CExpr;
use inference::{Extra, Inference, Method};
use link::Link;
use variables::{bincode, compile_var, FactorSource, Var};

pub(crate) use expr::NumericSource;

/// The call options of each method, as its `predict()` takes them.
const LM_OPTIONS: &[PredictOption] = &[
    PredictOption::SeFit,
    PredictOption::Interval,
    PredictOption::Level,
    PredictOption::PredVar,
    PredictOption::Weights,
    PredictOption::Scale,
    PredictOption::Df,
];
const GLM_OPTIONS: &[PredictOption] = &[PredictOption::SeFit, PredictOption::Dispersion];

#[derive(Debug, Clone)]
pub struct LinearModel {
    method: Method,
    family: String,
    link_name: String,
    link: Link,
    types: PredictTypes,
    intercept: f64,
    vars: Vec<Var>,
    /// Whether some term reads the variable (others are never evaluated).
    used: Vec<bool>,
    /// Per factor slot: whether some term reads its codes.
    used_slots: Vec<bool>,
    /// Whether some term crosses a factor with another factor or a column,
    /// and so reads a row's level combination.
    level_combos: bool,
    terms: Vec<Term>,
    offsets: Vec<CExpr>,
    n_coefficients: usize,
    n_aliased: usize,
    row_cost: usize,
    /// Standard errors, intervals and per-term predictions, when the
    /// document has what they need.
    inference: Option<Inference>,
    /// Every term's design columns (with `inference` only).
    design: Vec<DesignTerm>,
    term_labels: Vec<String>,
    has_intercept: bool,
    beta: Vec<Option<f64>>,
    /// A model of several responses (an mlm): `intercept` and `terms` are
    /// the first response's.
    responses: Option<Responses>,
}

/// The responses of an mlm after the first: each its own intercept and
/// folded terms over the same variables.
#[derive(Debug, Clone)]
struct Responses {
    names: Option<Vec<String>>,
    rest: Vec<(f64, Vec<Term>)>,
}

impl LinearModel {
    pub fn new(spec: &LinearSpec, inputs: &Inputs) -> Result<LinearModel> {
        let lim = limits();
        let link = Link::from_name(&spec.link)?;
        let method = Method::of(spec)?;
        let mut types = PredictTypes::from_spec(&spec.types, &spec.default_type)?;
        if let Some(t) = types.offered().iter().find(|t| !matches!(t, PredictType::Link | PredictType::Response)) {
            return Err(Error::invalid(format!("prediction type '{}' for a linear model", t.as_str())));
        }
        let ncoef = spec.coefficient_names.len();
        let columns = check_coefficients(spec, &lim)?;
        let beta = columns[0];
        let resolve = |n: &str| inputs.index(n);
        let mut nslots = 0;
        let vars =
            spec.variables.iter().map(|v| compile_var(v, &resolve, &mut nslots, &lim)).collect::<Result<Vec<_>>>()?;
        let terms = compile_terms(spec, &vars, beta, &lim)?;
        let intercept = intercept_of(spec, beta);
        let responses = match &spec.responses {
            None => None,
            Some(r) => Some(Responses::new(spec, r, &columns[1..], &vars, &lim)?),
        };
        let offsets = spec.offsets.iter().map(|e| e.compile(&resolve)).collect::<Result<Vec<_>>>()?;
        let mut used = vec![false; vars.len()];
        let rest_terms = responses.iter().flat_map(|r| r.rest.iter().flat_map(|(_, t)| t));
        for t in terms.iter().chain(rest_terms) {
            for combo in &t.combos {
                for &(v, _) in combo {
                    used[v] = true;
                }
            }
        }
        let mut used_slots = vec![false; nslots];
        let mut level_combos = false;
        let rest_terms = responses.iter().flat_map(|r| r.rest.iter().flat_map(|(_, t)| t));
        for t in terms.iter().chain(rest_terms) {
            for &(slot, _) in &t.factors {
                used_slots[slot] = true;
            }
            level_combos |= !t.factors.is_empty() && t.main_effect().is_none();
        }
        let row_cost = columns.len() * (1 + terms.iter().map(|t| t.combos.len().max(1)).sum::<usize>());
        let inference = spec.inference.as_ref().map(|i| Inference::new(i, method, ncoef, beta, &lim)).transpose()?;
        let design = match &inference {
            Some(_) => spec
                .terms
                .iter()
                .map(|t| DesignTerm::new(t, &spec.variables, &vars, beta))
                .collect::<Result<Vec<_>>>()?,
            None => Vec::new(),
        };
        if inference.as_ref().is_some_and(|i| i.column_means.is_some()) {
            types.offer(PredictType::Terms);
        }
        Ok(LinearModel {
            method,
            family: spec.family.clone(),
            link_name: spec.link.clone(),
            link,
            types,
            intercept,
            vars,
            used,
            used_slots,
            level_combos,
            terms,
            offsets,
            n_coefficients: ncoef,
            n_aliased: beta.iter().filter(|c| c.is_none()).count(),
            row_cost,
            inference,
            design,
            term_labels: spec.terms.iter().map(|t| t.label.clone()).collect(),
            has_intercept: spec.intercept,
            beta: beta.to_vec(),
            responses,
        })
    }

    /// Per-call state: factor codes mapped to the model's levels. A factor
    /// no term reads (its terms all aliased) is checked for unseen levels,
    /// as R's model frame checks it, but its codes are not kept: a call's
    /// memory follows what the terms read, not what a document declares.
    fn codes<'c>(&'c self, bound: &Bound<'_, 'c>) -> Result<Vec<FactorCodes<'c>>> {
        self.vars
            .iter()
            .filter_map(|v| match v {
                Var::Factor { slot, source } => Some(factor_codes(source, bound).map(|c| {
                    if self.used_slots[*slot] {
                        c
                    } else {
                        FactorCodes::Owned(Vec::new())
                    }
                })),
                _ => None,
            })
            .collect()
    }
}

/// The level codes of a factor variable for every row of a call. A factor
/// made in the formula is computed here, once per call.
fn factor_codes<'c>(source: &'c FactorSource, bound: &Bound<'_, 'c>) -> Result<FactorCodes<'c>> {
    let n = bound.nrows();
    Ok(match source {
        FactorSource::Input { input, levels, column } => {
            FactorCodes::new(bound.column(*input), column, levels, Unseen::Error)?
        }
        FactorSource::Cut(c) => {
            let mut out = Vec::with_capacity(n);
            for r in 0..n {
                out.push(match bincode(c.arg.eval(bound, r), &c.breaks, c.right, c.include_lowest) {
                    None => NA_CODE,
                    Some(bin) => c.codes[bin as usize].ok_or_else(|| Error::UnseenLevel {
                        column: c.label.clone(),
                        level: c.labels[bin as usize].clone(),
                    })?,
                });
            }
            FactorCodes::Owned(out)
        }
        FactorSource::Logical(arg) => FactorCodes::Owned(
            (0..n)
                .map(|r| match arg.eval(bound, r) {
                    x if x.is_nan() => NA_CODE,
                    x => u32::from(x != 0.0),
                })
                .collect(),
        ),
        FactorSource::Interaction(ia) => {
            let parts = ia
                .inputs
                .iter()
                .map(|(input, column, levels)| FactorCodes::new(bound.column(*input), column, levels, Unseen::Error))
                .collect::<Result<Vec<_>>>()?;
            let mut out = Vec::with_capacity(n);
            for r in 0..n {
                let (mut combo, mut stride, mut missing) = (0usize, 1usize, false);
                for (p, (_, _, levels)) in parts.iter().zip(&ia.inputs) {
                    match p.get(r) {
                        NA_CODE => missing = true,
                        c => combo += c as usize * stride,
                    }
                    stride *= levels.len();
                }
                out.push(match (missing, ia.table[combo]) {
                    (true, _) => NA_CODE,
                    (false, Some(code)) => code,
                    (false, None) => {
                        return Err(Error::UnseenLevel { column: ia.label.clone(), level: ia.name(combo) })
                    }
                });
            }
            FactorCodes::Owned(out)
        }
    })
}

/// The intercept of the coefficients `beta` (0 without one).
fn intercept_of(spec: &LinearSpec, beta: &[Option<f64>]) -> f64 {
    if spec.intercept {
        beta[0].unwrap_or(0.0)
    } else {
        0.0
    }
}

impl Responses {
    /// The responses after the first: each its intercept and terms, folded
    /// with its own coefficients (`columns`).
    fn new(
        spec: &LinearSpec,
        r: &ResponsesSpec,
        columns: &[&[Option<f64>]],
        vars: &[Var],
        lim: &Limits,
    ) -> Result<Responses> {
        let rest = columns
            .iter()
            .map(|b| Ok((intercept_of(spec, b), compile_terms(spec, vars, b, lim)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Responses { names: r.names.clone(), rest })
    }
}

/// Sizes, names and values of the coefficients, and the responses; the
/// coefficients of each response (one column for a model of one response).
fn check_coefficients<'s>(spec: &'s LinearSpec, lim: &Limits) -> Result<Vec<&'s [Option<f64>]>> {
    let all = spec.coefficients.len();
    limits::check("a linear model: coefficients", all as u64, lim.design as u64, "design")?;
    limits::check("a linear model: terms", spec.terms.len() as u64, lim.terms as u64, "terms")?;
    let nresp = spec.responses.as_ref().map_or(1, |r| r.count);
    let ncoef = spec.coefficient_names.len();
    if nresp == 0 || ncoef.checked_mul(nresp) != Some(all) {
        return Err(Error::invalid(format!(
            "'coefficients' needs one number per coefficient name and response ({ncoef} x {nresp}), not {all}"
        )));
    }
    if let Some(c) = spec.coefficients.iter().flatten().find(|c| !c.is_finite()) {
        return Err(Error::invalid(format!("coefficient {c} is not finite")));
    }
    if spec.intercept && ncoef == 0 {
        return Err(Error::invalid("an intercept needs a coefficient"));
    }
    let columns: Vec<&[Option<f64>]> = (0..nresp).map(|k| &spec.coefficients[k * ncoef..(k + 1) * ncoef]).collect();
    let beta = columns[0];
    if columns.iter().any(|b| b.iter().zip(beta).any(|(x, y)| x.is_some() != y.is_some())) {
        return Err(Error::invalid("the responses' aliased (null) coefficients must be the same rows"));
    }
    if let Some(r) = &spec.responses {
        if r.names.as_ref().is_some_and(|n| n.len() != r.count) {
            return Err(Error::invalid("'responses': needs one name per response"));
        }
        if spec.inference.is_some() {
            return Err(Error::invalid("'inference' is for a model of one response"));
        }
    }
    Ok(columns)
}

/// The terms that contribute, folded with the coefficients `beta` (of one
/// response), after checking that every coefficient but the intercept
/// belongs to exactly one term.
fn compile_terms(spec: &LinearSpec, vars: &[Var], beta: &[Option<f64>], lim: &Limits) -> Result<Vec<Term>> {
    let ncoef = beta.len();
    let mut covered = vec![false; ncoef];
    if spec.intercept {
        covered[0] = true;
    }
    let mut terms = Vec::with_capacity(spec.terms.len());
    // the design limit counts the coefficients and every term's tables together
    let mut design_used = ncoef;
    for t in &spec.terms {
        for &c in &t.columns {
            if c >= ncoef {
                return Err(Error::invalid(format!("term '{}' refers to coefficient {c} of {ncoef}", t.label)));
            }
            if std::mem::replace(&mut covered[c], true) {
                return Err(Error::invalid(format!("coefficient {c} belongs to two terms")));
            }
        }
        if let Some(term) = build_term(t, &spec.variables, vars, beta, lim, &mut design_used)? {
            terms.push(term);
        }
    }
    if let Some(c) = covered.iter().position(|c| !c) {
        return Err(Error::invalid(format!("coefficient '{}' belongs to no term", spec.coefficient_names[c])));
    }
    Ok(terms)
}

impl Family for LinearModel {
    fn types(&self) -> &PredictTypes {
        &self.types
    }

    fn options(&self) -> &[PredictOption] {
        match self.method {
            // predict.mlm() has no standard errors or intervals
            _ if self.responses.is_some() => &[],
            Method::Lm => LM_OPTIONS,
            Method::Glm => GLM_OPTIONS,
        }
    }

    fn describe(&self, info: &mut ModelInfo) {
        info.algorithm = Some(self.method.as_str().to_string());
        info.fact("family", self.family.as_str());
        info.fact("se_fit", self.inference.is_some());
        if let Some(i) = &self.inference {
            info.fact("weighted", i.weighted);
        }
        info.fact("link", self.link_name.as_str());
        info.fact("n_coefficients", self.n_coefficients);
        info.fact("n_aliased", self.n_aliased);
        if let Some(r) = &self.responses {
            info.fact("responses", r.rest.len() + 1);
        }
        info.headline = Some(format!("{}, link {}", self.family, self.link_name));
        let aliased = match self.n_aliased {
            0 => String::new(),
            n => format!(" ({n} aliased, left out as predict() does)"),
        };
        match &self.responses {
            None => info.summary.push(format!("coefficients: {}{aliased}", big_mark(self.n_coefficients))),
            Some(r) => {
                let n = r.rest.len() + 1;
                let names = r.names.as_ref().map(|v| format!(" ({})", shorten(v))).unwrap_or_default();
                info.summary.push(format!("responses: {n}{names}"));
                info.summary.push(format!("coefficients: {} per response{aliased}", big_mark(self.n_coefficients)));
            }
        }
    }

    fn row_cost(&self) -> usize {
        self.row_cost
    }

    fn prepare<'c>(
        &'c self,
        bound: &Bound<'_, 'c>,
        ty: PredictType,
        opts: &PredictOptions,
    ) -> Result<Box<dyn Call + 'c>> {
        let extra = Extra::plan(self.inference.as_ref(), self.method, ty, opts, bound.nrows())?;
        let codes = self.codes(bound)?;
        Ok(Box::new(predict::LinearCall { model: self, codes, response: ty == PredictType::Response, extra }))
    }
}

#[cfg(test)]
mod tests;
