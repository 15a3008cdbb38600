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
pub(crate) mod link;
mod predict;
mod spline;

use design::{build_term, compile_var, Term, Var};
use expr::CExpr;
use link::Link;

pub(crate) use expr::NumericSource;

#[derive(Debug, Clone)]
pub struct LinearModel {
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
}

impl LinearModel {
    pub fn new(spec: &LinearSpec, inputs: &Inputs) -> Result<LinearModel> {
        let lim = limits();
        let link = Link::from_name(&spec.link)?;
        let types = PredictTypes::from_spec(&spec.types, &spec.default_type)?;
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
        Ok(LinearModel {
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
        &[]
    }

    fn describe(&self, info: &mut ModelInfo) {
        info.fact("family", self.family.as_str());
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

    fn prepare<'c>(&'c self, bound: &Bound<'_, 'c>, ty: PredictType, _: &PredictOptions) -> Result<Box<dyn Call + 'c>> {
        let codes = self.codes(bound)?;
        Ok(Box::new(predict::LinearCall { model: self, codes, response: ty == PredictType::Response }))
    }
}

#[cfg(test)]
mod tests;
