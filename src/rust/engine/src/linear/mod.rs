//! Linear predictors (`lm`, `glm`): `eta = X beta + offset`, then the
//! inverse link for `type = "response"`. `design` compiles the design
//! program once; `predict` evaluates it block by block.

use crate::error::{Error, Result};
use crate::format::LinearSpec;
use crate::frame::bind::{Bound, Inputs};
use crate::frame::levels::{FactorCodes, Unseen};
use crate::limits::{self, limits};
use crate::model::{big_mark, Call, Family, ModelInfo, PredictOption, PredictOptions, PredictType, PredictTypes};

mod design;
pub(crate) mod expr;
mod inference;
pub(crate) mod link;
mod predict;
mod quantile;
mod spline;

use design::{build_term, compile_var, DesignTerm, Term, Var};
use expr::CExpr;
use inference::{Extra, Inference, Method};
use link::Link;

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
        let ncoef = spec.coefficients.len();
        limits::check("a linear model: coefficients", ncoef as u64, lim.design as u64, "design")?;
        limits::check("a linear model: terms", spec.terms.len() as u64, lim.terms as u64, "terms")?;
        if spec.coefficient_names.len() != ncoef {
            return Err(Error::invalid("'coefficient_names' and 'coefficients' differ in length"));
        }
        if let Some(c) = spec.coefficients.iter().flatten().find(|c| !c.is_finite()) {
            return Err(Error::invalid(format!("coefficient {c} is not finite")));
        }
        let resolve = |n: &str| inputs.index(n);
        let mut nslots = 0;
        let vars =
            spec.variables.iter().map(|v| compile_var(v, &resolve, &mut nslots, &lim)).collect::<Result<Vec<_>>>()?;

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
            if let Some(term) = build_term(t, &spec.variables, &vars, &spec.coefficients, &lim)? {
                terms.push(term);
            }
        }
        if let Some(c) = covered.iter().position(|c| !c) {
            return Err(Error::invalid(format!("coefficient '{}' belongs to no term", spec.coefficient_names[c])));
        }
        let offsets = spec.offsets.iter().map(|e| e.compile(&resolve)).collect::<Result<Vec<_>>>()?;
        let mut used = vec![false; vars.len()];
        for t in &terms {
            for combo in &t.combos {
                for &(v, _) in combo {
                    used[v] = true;
                }
            }
        }
        let row_cost = 1 + terms.iter().map(|t| t.combos.len().max(1)).sum::<usize>();
        let inference =
            spec.inference.as_ref().map(|i| Inference::new(i, method, ncoef, &spec.coefficients, &lim)).transpose()?;
        let design = match &inference {
            Some(_) => spec
                .terms
                .iter()
                .map(|t| DesignTerm::new(t, &spec.variables, &vars, &spec.coefficients))
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
            terms,
            offsets,
            n_coefficients: ncoef,
            n_aliased: spec.coefficients.iter().filter(|c| c.is_none()).count(),
            row_cost,
            inference,
            design,
            term_labels: spec.terms.iter().map(|t| t.label.clone()).collect(),
            has_intercept: spec.intercept,
            beta: spec.coefficients.clone(),
        })
    }

    /// Per-call state: factor codes mapped to the model's levels.
    fn codes<'c>(&'c self, bound: &Bound<'_, 'c>) -> Result<Vec<FactorCodes<'c>>> {
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
}

impl Family for LinearModel {
    fn types(&self) -> &PredictTypes {
        &self.types
    }

    fn options(&self) -> &[PredictOption] {
        match self.method {
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
        info.headline = Some(format!("{}, link {}", self.family, self.link_name));
        let aliased = match self.n_aliased {
            0 => String::new(),
            n => format!(" ({n} aliased, left out as predict() does)"),
        };
        info.summary.push(format!("coefficients: {}{aliased}", big_mark(self.n_coefficients)));
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
