//! The glmnet section: a penalised regression path as glmnet stores it
//! (intercepts per lambda, coefficients as sparse columns), since format 1.4.

use serde::{Deserialize, Serialize};

/// The glmnet model family, named by the class glmnet gives the fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GlmnetFamily {
    /// `family = "gaussian"`.
    Elnet,
    /// `family = "binomial"`.
    Lognet,
    /// `family = "poisson"`.
    Fishnet,
    /// `family = "multinomial"`, grouped or not.
    Multnet,
    /// `family = "mgaussian"`.
    Mrelnet,
    /// `family = "cox"`: no intercept.
    Coxnet,
}

impl GlmnetFamily {
    pub fn as_str(&self) -> &'static str {
        match self {
            GlmnetFamily::Elnet => "elnet",
            GlmnetFamily::Lognet => "lognet",
            GlmnetFamily::Fishnet => "fishnet",
            GlmnetFamily::Multnet => "multnet",
            GlmnetFamily::Mrelnet => "mrelnet",
            GlmnetFamily::Coxnet => "coxnet",
        }
    }

    /// The `family` argument of `glmnet()` that fits it.
    pub fn r_family(&self) -> &'static str {
        match self {
            GlmnetFamily::Elnet => "gaussian",
            GlmnetFamily::Lognet => "binomial",
            GlmnetFamily::Fishnet => "poisson",
            GlmnetFamily::Multnet => "multinomial",
            GlmnetFamily::Mrelnet => "mgaussian",
            GlmnetFamily::Coxnet => "cox",
        }
    }
}

/// A glmnet fit (`glmnet()`, or the `glmnet.fit` of `cv.glmnet()`). The
/// features are the document's inputs, in the order of the fit's columns:
/// every input is one column of glmnet's `newx`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GlmnetSpec {
    pub family: GlmnetFamily,
    /// Prediction types offered, e.g. `["link", "response", "class"]`.
    pub types: Vec<String>,
    pub default_type: String,
    /// The penalty path, decreasing (`fit$lambda`).
    pub lambda: Vec<f64>,
    /// Intercepts: one vector per response (one for elnet, lognet and
    /// fishnet, one per class or response for multnet and mrelnet, none for
    /// coxnet), with one value per lambda (`fit$a0`).
    #[serde(default)]
    pub a0: Vec<Vec<f64>>,
    /// Coefficients: one sparse matrix (features x lambdas) per response,
    /// as `fit$beta` (a list of them for multnet and mrelnet).
    pub beta: Vec<SparseColumns>,
    /// Names of the responses: the class names of lognet (two) and
    /// multnet, the response names of mrelnet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<String>>,
    /// multnet: whether the fit was `type.multinomial = "grouped"`
    /// (informational: predictions do not depend on it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grouped: Option<bool>,
    /// Whether the fit had an offset: predictions then need `newoffset`.
    #[serde(default)]
    pub offset: bool,
    /// Whether `newx` columns are taken by position (the fit's matrix had
    /// no column names) rather than by name.
    #[serde(default)]
    pub by_position: bool,
    /// The penalties `cv.glmnet()` chose, for `s = "lambda.min"` and
    /// `"lambda.1se"` (the default `s` of a cross-validated fit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cv: Option<CvChoice>,
}

/// A sparse matrix in compressed-column form, as R's `dgCMatrix` holds it:
/// column `k`'s entries are `i[p[k]..p[k+1]]` (0-based rows, increasing)
/// with values `x[p[k]..p[k+1]]`. Stored entries may be zero; they count
/// as stored (an `NA` in their column of `newx` gives `NA`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SparseColumns {
    pub p: Vec<usize>,
    pub i: Vec<usize>,
    pub x: Vec<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CvChoice {
    pub lambda_min: f64,
    pub lambda_1se: f64,
}

impl GlmnetSpec {
    pub(crate) fn strings<'s>(&'s self, out: &mut Vec<&'s str>) {
        out.push(&self.default_type);
        out.extend(self.types.iter().map(String::as_str));
        out.extend(self.classes.iter().flatten().map(String::as_str));
    }
}
