//! The model-frame variables of the design program, compiled: a column,
//! an expression of columns, a factor (read, cut or made by `interaction()`)
//! or a spline basis.

use crate::error::{Error, Result};
use crate::format::{InteractionSpec, VariableSpec};
use crate::frame::levels::Levels;
use crate::limits::{self, Limits};
use crate::linear::design::size;
use crate::linear::expr::CExpr;
use crate::linear::spline::Spline;

#[derive(Debug, Clone)]
pub(super) enum Var {
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
        slot: usize,
        source: FactorSource,
    },
}

/// Where a factor variable's level codes come from.
#[derive(Debug, Clone)]
pub(super) enum FactorSource {
    /// An input column, matched to the levels by name.
    Input { input: usize, levels: Levels, column: String },
    /// `cut()`: the interval of `arg` among `breaks` (infinite ends
    /// included), and each interval's level code (`None`: a label the
    /// model did not see, named by `labels`).
    Cut(Box<Cut>),
    /// `interaction()`: each input coded against its own levels, and the
    /// combination (first input fastest) looked up in `table`.
    Interaction(Box<Interaction>),
    /// A comparison: TRUE (code 1) where `arg` is not 0.
    Logical(CExpr),
}

#[derive(Debug, Clone)]
pub(super) struct Cut {
    pub label: String,
    pub arg: CExpr,
    pub breaks: Vec<f64>,
    pub right: bool,
    pub include_lowest: bool,
    pub codes: Vec<Option<u32>>,
    pub labels: Vec<String>,
}

#[derive(Debug, Clone)]
pub(super) struct Interaction {
    pub label: String,
    /// (input, column name, its levels) per component.
    pub inputs: Vec<(usize, String, Levels)>,
    /// The level code of each combination of component codes, `None` for
    /// a combination that is no level.
    pub table: Vec<Option<u32>>,
    /// The labels of each component's levels and the separator, to name an
    /// unknown combination.
    pub components: Vec<Vec<String>>,
    pub sep: String,
}

impl Var {
    pub fn ncols(&self) -> usize {
        match self {
            Var::Numeric(_) => 1,
            Var::Poly { alpha, .. } => alpha.len(),
            Var::PolyRaw { degree, .. } => *degree,
            Var::Spline { spline, .. } => spline.ncols(),
            Var::Factor { .. } => 0,
        }
    }
}

pub(super) fn compile_var(
    v: &VariableSpec,
    resolve: &dyn Fn(&str) -> Result<usize>,
    nslots: &mut usize,
    lim: &Limits,
) -> Result<Var> {
    let basis =
        |label: &str, n: usize| limits::check(&format!("'{label}': a basis"), n as u64, lim.basis as u64, "basis");
    Ok(match v {
        VariableSpec::Numeric { expr, .. } => Var::Numeric(expr.compile(resolve)?),
        VariableSpec::Poly { label, arg, alpha, norm2 } => {
            basis(label, alpha.len())?;
            if alpha.is_empty() || norm2.len() != alpha.len() + 2 {
                return Err(Error::invalid(format!("poly '{label}': need degree alphas and degree + 2 norms")));
            }
            if norm2.iter().chain(alpha).any(|x| !x.is_finite()) || norm2.iter().any(|x| *x <= 0.0) {
                return Err(Error::invalid(format!("poly '{label}': coefficients must be finite, norms positive")));
            }
            Var::Poly { arg: arg.compile(resolve)?, alpha: alpha.clone(), norm2: norm2.clone() }
        }
        VariableSpec::PolyRaw { label, arg, degree } => {
            basis(label, *degree as usize)?;
            if *degree == 0 {
                return Err(Error::invalid(format!("poly '{label}': degree must be positive")));
            }
            Var::PolyRaw { arg: arg.compile(resolve)?, degree: *degree as usize }
        }
        VariableSpec::Spline(s) => {
            basis(&s.label, s.knots.len())?;
            Var::Spline { arg: s.arg.compile(resolve)?, spline: Spline::new(s)? }
        }
        VariableSpec::Factor { label, input, levels, .. } => {
            let i = resolve(input)?;
            if levels.is_empty() {
                return Err(Error::invalid(format!("factor '{label}' has no levels")));
            }
            *nslots += 1;
            let source = FactorSource::Input { input: i, levels: Levels::new(levels)?, column: input.clone() };
            Var::Factor { slot: *nslots - 1, source }
        }
        VariableSpec::Cut(c) => {
            let label = &c.label;
            let mut breaks = Vec::with_capacity(c.breaks.len() + 2);
            if c.lower_inf {
                breaks.push(f64::NEG_INFINITY);
            }
            breaks.extend(&c.breaks);
            if c.upper_inf {
                breaks.push(f64::INFINITY);
            }
            if breaks.len() < 2 || breaks.windows(2).any(|w| !(w[0] < w[1])) {
                return Err(Error::invalid(format!("cut '{label}': breaks must be at least two increasing numbers")));
            }
            if c.labels.len() != breaks.len() - 1 {
                return Err(Error::invalid(format!("cut '{label}': needs one label per interval")));
            }
            let levels = Levels::new(&c.levels)?;
            *nslots += 1;
            let source = FactorSource::Cut(Box::new(Cut {
                label: label.clone(),
                arg: c.arg.compile(resolve)?,
                breaks,
                right: c.right,
                include_lowest: c.include_lowest,
                codes: c.labels.iter().map(|l| levels.code(l)).collect(),
                labels: c.labels.clone(),
            }));
            Var::Factor { slot: *nslots - 1, source }
        }
        VariableSpec::Interaction(spec) => {
            *nslots += 1;
            let source = FactorSource::Interaction(Box::new(Interaction::new(spec, resolve, lim)?));
            Var::Factor { slot: *nslots - 1, source }
        }
        VariableSpec::Logical { arg, .. } => {
            *nslots += 1;
            Var::Factor { slot: *nslots - 1, source: FactorSource::Logical(arg.compile(resolve)?) }
        }
    })
}

impl Interaction {
    fn new(spec: &InteractionSpec, resolve: &dyn Fn(&str) -> Result<usize>, lim: &Limits) -> Result<Interaction> {
        let label = &spec.label;
        if spec.inputs.is_empty() || spec.inputs.len() != spec.components.len() {
            return Err(Error::invalid(format!("interaction '{label}': needs one list of levels per input")));
        }
        if spec.components.iter().any(Vec::is_empty) {
            return Err(Error::invalid(format!("interaction '{label}': an input has no levels")));
        }
        let levels = Levels::new(&spec.levels)?;
        let what = format!("interaction '{label}': level combinations");
        let n = size(spec.components.iter().map(Vec::len), &what, lim)?;
        let inputs = spec
            .inputs
            .iter()
            .zip(&spec.components)
            .map(|(name, lv)| Ok((resolve(name)?, name.clone(), Levels::new(lv)?)))
            .collect::<Result<Vec<_>>>()?;
        let mut table = Vec::with_capacity(n);
        let mut parts: Vec<&str> = Vec::with_capacity(inputs.len());
        for combo in 0..n {
            parts.clear();
            let mut rest = combo;
            for lv in &spec.components {
                parts.push(&lv[rest % lv.len()]);
                rest /= lv.len();
            }
            table.push(levels.code(&parts.join(&spec.sep)));
        }
        Ok(Interaction {
            label: label.clone(),
            inputs,
            table,
            components: spec.components.clone(),
            sep: spec.sep.clone(),
        })
    }

    /// The label of a combination that is no level, for the error.
    pub fn name(&self, combo: usize) -> String {
        let mut rest = combo;
        let parts: Vec<&str> = self
            .components
            .iter()
            .map(|lv| {
                let p = &lv[rest % lv.len()];
                rest /= lv.len();
                p.as_str()
            })
            .collect();
        parts.join(&self.sep)
    }
}

/// The interval of `x` among `breaks` (0-based), as R's `.bincode()`
/// finds it; NA outside them or for a missing `x`.
pub(super) fn bincode(x: f64, breaks: &[f64], right: bool, include_lowest: bool) -> Option<u32> {
    if x.is_nan() {
        return None;
    }
    let (mut lo, mut hi) = (0, breaks.len() - 1);
    let border = if right { lo } else { hi };
    if x < breaks[lo] || breaks[hi] < x || (x == breaks[border] && !include_lowest) {
        return None;
    }
    while hi - lo >= 2 {
        let mid = (hi + lo) / 2;
        if x > breaks[mid] || (!right && x == breaks[mid]) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(lo as u32)
}
