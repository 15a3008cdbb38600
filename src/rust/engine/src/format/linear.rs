//! The linear section: lm and glm as a design program (variables, terms,
//! coefficients) plus the family and link.

use serde::{Deserialize, Serialize};

/// A linear predictor `X beta + offset`, optionally through a link:
/// `lm` and `glm`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearSpec {
    /// Family name as R spells it ("gaussian", "binomial", "quasi", ...).
    pub family: String,
    /// Link name as R spells it ("identity", "logit", "1/mu^2", ...).
    pub link: String,
    /// Prediction types offered, e.g. `["link", "response"]`.
    pub types: Vec<String>,
    pub default_type: String,
    /// Whether column 0 of the design is the intercept.
    pub intercept: bool,
    /// One per design column; `null` marks an aliased (rank-deficient)
    /// column, which R's predict() leaves out.
    pub coefficients: Vec<Option<f64>>,
    pub coefficient_names: Vec<String>,
    /// The model-frame variables (R's `predvars`), resolved.
    pub variables: Vec<VariableSpec>,
    /// Model terms in design-column order.
    pub terms: Vec<TermSpec>,
    /// Offset expressions, summed and added to the linear predictor.
    #[serde(default)]
    pub offsets: Vec<Expr>,
    /// What standard errors, intervals and per-term predictions need.
    /// Optional; since format 1.2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inference: Option<InferenceSpec>,
    /// Several responses (an `mlm`), predicted as a matrix with a column per
    /// response: `coefficients` then holds the design's coefficients of
    /// each response in turn. Optional; since format 1.6.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responses: Option<ResponsesSpec>,
}

/// The responses of a multi-response linear model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponsesSpec {
    /// How many: the columns of the prediction.
    pub count: usize,
    /// The prediction's column names, as R names the responses (absent when
    /// R gives none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<Vec<String>>,
}

/// The parts of a fitted lm or glm that `predict.lm()` reads for `se.fit`,
/// `interval` and `type = "terms"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InferenceSpec {
    /// Whose conventions: "lm" (`predict.lm`: intervals, `scale`, `df`,
    /// `pred.var`, `weights`) or "glm" (`predict.glm`: `dispersion`).
    pub method: String,
    /// The design columns of the fit's rank, in pivot order (0-based:
    /// `qr$pivot[seq_len(rank)] - 1`).
    pub pivot: Vec<usize>,
    /// `qr.solve(qr.R(qr)[p1, p1])`, rank x rank, column-major.
    pub r_inverse: Vec<f64>,
    /// lm: the residual variance `rss / df.residual` (weighted by the fit's
    /// weights).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residual_variance: Option<f64>,
    /// glm: `summary(fit)$dispersion`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispersion: Option<f64>,
    pub df_residual: f64,
    /// Whether the fit had weights.
    #[serde(default)]
    pub weighted: bool,
    /// For `type = "terms"`: the means of the training model matrix's
    /// columns (one per design column), and `sum(means[piv] * beta[piv])`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column_means: Option<Vec<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms_constant: Option<f64>,
}

/// One model-frame variable: a numeric expression, a numeric basis with
/// several columns, or a factor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VariableSpec {
    /// One numeric column.
    Numeric { label: String, expr: Expr },
    /// Orthogonal polynomial, `poly(x, degree, coefs = list(alpha, norm2))`.
    Poly { label: String, arg: Expr, alpha: Vec<f64>, norm2: Vec<f64> },
    /// Raw polynomial, `poly(x, degree, raw = TRUE)`.
    PolyRaw { label: String, arg: Expr, degree: u32 },
    /// B-spline basis as `splines::bs()` / `splines::ns()` evaluate it.
    Spline(Box<SplineSpec>),
    /// A factor (or logical) variable coded by levels.
    Factor {
        label: String,
        /// Name of the input column the codes come from.
        input: String,
        levels: Vec<String>,
        /// Contrast matrix, one row per level; needed when a term codes
        /// this factor by contrasts.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        contrasts: Option<Vec<Vec<f64>>>,
    },
    /// `cut(x, breaks)`: a factor whose level is the interval of a number.
    /// Since 1.6.
    Cut(Box<CutSpec>),
    /// `interaction(a, b, ...)`: a factor whose level joins its inputs'
    /// levels. Since 1.6.
    Interaction(Box<InteractionSpec>),
    /// A comparison such as `I(x > 0)`: a factor with the levels FALSE and
    /// TRUE, TRUE where `arg` is not 0. Since 1.6.
    Logical {
        label: String,
        arg: Expr,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        contrasts: Option<Vec<Vec<f64>>>,
    },
}

/// `cut(arg, breaks, right, include.lowest)` with its breaks stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CutSpec {
    pub label: String,
    pub arg: Expr,
    /// The finite breaks, increasing.
    pub breaks: Vec<f64>,
    /// Whether the breaks start with -Inf / end with +Inf (JSON holds no
    /// infinity).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lower_inf: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub upper_inf: bool,
    /// Intervals closed on the right, `(a, b]` (else `[a, b)`).
    pub right: bool,
    /// The first interval (the last, when not `right`) also holds its outer
    /// break.
    pub include_lowest: bool,
    /// Each interval's label, in order.
    pub labels: Vec<String>,
    /// The model's levels: the labels of the intervals the training data
    /// used (an interval whose label is not one of them is an unseen level).
    pub levels: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contrasts: Option<Vec<Vec<f64>>>,
}

/// `interaction(inputs..., sep)`: a row's level is its inputs' levels
/// joined by `sep`, matched to `levels` by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InteractionSpec {
    pub label: String,
    pub inputs: Vec<String>,
    /// Each input's levels, which its values are matched to as `factor()`
    /// turns them into labels.
    pub components: Vec<Vec<String>>,
    pub sep: String,
    pub levels: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contrasts: Option<Vec<Vec<f64>>>,
}

/// The levels of a logical variable, as model.matrix() codes it.
pub const LOGICAL_LEVELS: [&str; 2] = ["FALSE", "TRUE"];

impl LinearSpec {
    pub(crate) fn strings<'s>(&'s self, out: &mut Vec<&'s str>) {
        out.extend([self.family.as_str(), self.link.as_str(), self.default_type.as_str()]);
        out.extend(self.types.iter().chain(&self.coefficient_names).map(String::as_str));
        out.extend(self.terms.iter().map(|t| t.label.as_str()));
        for v in &self.variables {
            out.push(v.label());
            match v {
                VariableSpec::Numeric { expr, .. } => expr.strings(out),
                VariableSpec::Poly { arg, .. } | VariableSpec::PolyRaw { arg, .. } => arg.strings(out),
                VariableSpec::Spline(s) => {
                    out.push(&s.basis);
                    s.arg.strings(out);
                }
                VariableSpec::Factor { input, levels, .. } => {
                    out.push(input);
                    out.extend(levels.iter().map(String::as_str));
                }
                VariableSpec::Cut(c) => {
                    c.arg.strings(out);
                    out.extend(c.labels.iter().chain(&c.levels).map(String::as_str));
                }
                VariableSpec::Interaction(i) => {
                    out.push(&i.sep);
                    out.extend(
                        i.inputs.iter().chain(i.components.iter().flatten()).chain(&i.levels).map(String::as_str),
                    );
                }
                VariableSpec::Logical { arg, .. } => arg.strings(out),
            }
        }
        for e in &self.offsets {
            e.strings(out);
        }
        if let Some(i) = &self.inference {
            out.push(&i.method);
        }
        if let Some(names) = self.responses.as_ref().and_then(|r| r.names.as_ref()) {
            out.extend(names.iter().map(String::as_str));
        }
    }
}

impl VariableSpec {
    pub fn label(&self) -> &str {
        match self {
            VariableSpec::Numeric { label, .. }
            | VariableSpec::Poly { label, .. }
            | VariableSpec::PolyRaw { label, .. }
            | VariableSpec::Factor { label, .. }
            | VariableSpec::Logical { label, .. } => label,
            VariableSpec::Spline(s) => &s.label,
            VariableSpec::Cut(c) => &c.label,
            VariableSpec::Interaction(i) => &i.label,
        }
    }

    /// For a variable that terms code as a factor: its number of levels
    /// and its contrast matrix.
    pub(crate) fn factor_coding(&self) -> Option<(usize, Option<&Vec<Vec<f64>>>)> {
        match self {
            VariableSpec::Factor { levels, contrasts, .. } => Some((levels.len(), contrasts.as_ref())),
            VariableSpec::Cut(c) => Some((c.levels.len(), c.contrasts.as_ref())),
            VariableSpec::Interaction(i) => Some((i.levels.len(), i.contrasts.as_ref())),
            VariableSpec::Logical { contrasts, .. } => Some((LOGICAL_LEVELS.len(), contrasts.as_ref())),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplineSpec {
    pub label: String,
    /// "bs" or "ns" (informational: the numbers below define the basis).
    pub basis: String,
    pub arg: Expr,
    /// Spline order (degree + 1).
    pub order: u32,
    /// The full, sorted knot sequence (boundary knots repeated `order` times).
    pub knots: Vec<f64>,
    /// Lower and upper boundary knots.
    pub boundary: Vec<f64>,
    /// Whether the first basis column is kept.
    pub intercept: bool,
    /// Outside the boundary the basis is a polynomial in `x - pivot`:
    /// `sum_j (x - pivot)^j * coefs[j]`, over the full basis.
    pub left: Extrapolation,
    pub right: Extrapolation,
    /// For natural splines: the matrix (rows = kept basis columns) that
    /// projects the basis onto the natural-spline space.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projection: Option<Vec<Vec<f64>>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extrapolation {
    pub pivot: f64,
    pub coefs: Vec<Vec<f64>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Coding {
    /// Columns of the factor's contrast matrix.
    Contrasts,
    /// One indicator column per level (R's coding for the first factor of
    /// a model without intercept, and for factors in interactions whose
    /// margin is absent).
    Indicators,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TermSpec {
    pub label: String,
    /// The variables of the term, in model-frame order; the first varies
    /// fastest across the term's design columns, as in R.
    pub factors: Vec<TermFactor>,
    /// Design-column (coefficient) indices of the term's columns.
    pub columns: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TermFactor {
    pub variable: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coding: Option<Coding>,
}

/// An expression node as stored in the model document:
/// `{"op": "log", "args": [...], "base": 10}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Expr {
    pub op: Op,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<Expr>,
    /// Input column name (`input`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Constant value (`const`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// Logarithm base (`log`); absent means natural log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<f64>,
    /// `scale`: subtract `center`, then divide by `scale` (each optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub center: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Input,
    Const,
    Neg,
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Log,
    Log2,
    Log10,
    Log1p,
    Exp,
    Sqrt,
    Abs,
    Scale,
    /// `as.numeric(x)`: numbers unchanged, logicals 0/1, factors their codes.
    AsNumeric,
    /// Comparisons and logic (since 1.6), as R's `>`, `>=`, `<`, `<=`,
    /// `==`, `!=`, `&`, `|` and `!` read as numbers: 1 (TRUE), 0 (FALSE)
    /// or NA.
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
    And,
    Or,
    Not,
}

impl Expr {
    fn strings<'s>(&'s self, out: &mut Vec<&'s str>) {
        out.extend(self.name.as_deref());
        for a in &self.args {
            a.strings(out);
        }
    }

    /// Builders, for programs that write documents.
    pub fn input(name: &str) -> Expr {
        Expr {
            op: Op::Input,
            args: vec![],
            name: Some(name.to_string()),
            value: None,
            base: None,
            center: None,
            scale: None,
        }
    }

    pub fn constant(value: f64) -> Expr {
        Expr { op: Op::Const, args: vec![], name: None, value: Some(value), base: None, center: None, scale: None }
    }

    pub fn call(op: Op, args: Vec<Expr>) -> Expr {
        Expr { op, args, name: None, value: None, base: None, center: None, scale: None }
    }
}
