//! Hand-written documents: short builders for the records of the format,
//! with the fields a test does not care about at their plain values.

use std::ops::Range;

use fastpredict_engine::format::{
    format_version, Aggregation, CategorySet, Coding, Expr, FeatureKind, FeatureSpec, GlmnetSpec, InputSpec, InputType,
    LinearSpec, MissingRule, ModelDoc, ModelKind, Producer, SplitRule, TermFactor, TermSpec, TreeSpec, TreesSpec,
    UnseenRule, VariableSpec, FORMAT_NAME,
};

pub fn strings<S: AsRef<str>>(v: &[S]) -> Vec<String> {
    v.iter().map(|s| s.as_ref().to_string()).collect()
}

/// `prefix0`, `prefix1`, ...
pub fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

fn document(kind: ModelKind, inputs: Vec<InputSpec>) -> ModelDoc {
    ModelDoc {
        format: FORMAT_NAME.into(),
        format_version: format_version(),
        producer: Producer { name: "fastpredict".into(), version: "0.0.0-test".into(), ..Producer::default() },
        kind,
        inputs,
        linear: None,
        trees: None,
        card: None,
        glmnet: None,
        boosted: None,
        extensions: Default::default(),
    }
}

pub fn linear_doc(inputs: Vec<InputSpec>, spec: LinearSpec) -> ModelDoc {
    ModelDoc { linear: Some(spec), ..document(ModelKind::Linear, inputs) }
}

pub fn trees_doc(inputs: Vec<InputSpec>, spec: TreesSpec) -> ModelDoc {
    ModelDoc { trees: Some(spec), ..document(ModelKind::Trees, inputs) }
}

pub fn glmnet_doc(inputs: Vec<InputSpec>, spec: GlmnetSpec) -> ModelDoc {
    ModelDoc { glmnet: Some(spec), ..document(ModelKind::Glmnet, inputs) }
}

pub fn input(name: &str, kind: InputType, levels: Option<&[&str]>) -> InputSpec {
    InputSpec { name: name.into(), kind, levels: levels.map(strings) }
}

pub fn num_input(name: &str) -> InputSpec {
    input(name, InputType::Numeric, None)
}

pub fn fac_input(name: &str, levels: &[&str]) -> InputSpec {
    input(name, InputType::Factor, Some(levels))
}

// ---------------------------------------------------------------------------
// Linear sections.

/// The variable `name`, read as it is.
pub fn numeric_var(name: &str) -> VariableSpec {
    VariableSpec::Numeric { label: name.into(), expr: Expr::input(name) }
}

pub fn factor_var(name: &str, levels: &[&str], contrasts: Option<Vec<Vec<f64>>>) -> VariableSpec {
    VariableSpec::Factor { label: name.into(), input: name.into(), levels: strings(levels), contrasts }
}

/// `factors` are (variable, coding) pairs; `columns` its coefficients.
pub fn term(label: &str, factors: &[(usize, Option<Coding>)], columns: Range<usize>) -> TermSpec {
    TermSpec {
        label: label.into(),
        factors: factors.iter().map(|&(variable, coding)| TermFactor { variable, coding }).collect(),
        columns: columns.collect(),
    }
}

/// Names as R gives them: "(Intercept)" first when there is one.
pub fn coefficient_names(intercept: bool, n: usize) -> Vec<String> {
    (0..n).map(|j| if intercept && j == 0 { "(Intercept)".to_string() } else { format!("b{j}") }).collect()
}

/// Types "link" and "response" (link the default), no offsets.
pub fn linear(
    family: &str,
    link: &str,
    intercept: bool,
    coefficients: Vec<Option<f64>>,
    variables: Vec<VariableSpec>,
    terms: Vec<TermSpec>,
) -> LinearSpec {
    LinearSpec {
        family: family.into(),
        link: link.into(),
        types: strings(&["link", "response"]),
        default_type: "link".into(),
        intercept,
        coefficient_names: coefficient_names(intercept, coefficients.len()),
        coefficients,
        variables,
        terms,
        offsets: vec![],
        inference: None,
        responses: None,
    }
}

// ---------------------------------------------------------------------------
// Trees sections.

pub fn num_feature(input: &str) -> FeatureSpec {
    FeatureSpec { input: input.into(), kind: FeatureKind::Numeric, levels: None, code_offset: None, unseen: None }
}

pub fn level_feature<S: AsRef<str>>(
    input: &str,
    kind: FeatureKind,
    levels: &[S],
    code_offset: Option<f64>,
    unseen: Option<UnseenRule>,
) -> FeatureSpec {
    FeatureSpec { input: input.into(), kind, levels: Some(strings(levels)), code_offset, unseen }
}

pub fn cat_feature<S: AsRef<str>>(input: &str, levels: &[S], unseen: Option<UnseenRule>) -> FeatureSpec {
    level_feature(input, FeatureKind::Categorical, levels, None, unseen)
}

/// A tree with only the required arrays; no `left` / `right` means the
/// implicit level-by-level children.
pub fn tree(feature: &[i32], threshold: &[f64], value: &[f64]) -> TreeSpec {
    TreeSpec {
        feature: feature.to_vec(),
        threshold: threshold.to_vec(),
        left: Vec::new(),
        right: Vec::new(),
        missing: None,
        value: value.to_vec(),
        probs: None,
        matrix: None,
        categories: None,
        surrogates: None,
    }
}

/// The same with explicit children.
pub fn explicit_tree(feature: &[i32], threshold: &[f64], left: &[i32], right: &[i32], value: &[f64]) -> TreeSpec {
    TreeSpec { left: left.to_vec(), right: right.to_vec(), ..tree(feature, threshold, value) }
}

pub fn set(left: &[u32], right: &[u32]) -> CategorySet {
    CategorySet { left: left.to_vec(), right: right.to_vec() }
}

/// An rpart-like document around `trees`: the inputs are the features'
/// columns (factors where there are levels), the types the first that
/// `agg` allows, two classes where it needs them.
pub fn hand_doc(features: Vec<FeatureSpec>, missing: MissingRule, agg: Aggregation, trees: Vec<TreeSpec>) -> ModelDoc {
    let (types, classes): (&[&str], Option<Vec<String>>) = match &agg {
        Aggregation::Single => (&["vector"], None),
        Aggregation::Mean { .. } => (&["response"], None),
        Aggregation::Votes { .. } => (&["response", "prob", "vote"], Some(names("k", 2))),
        Aggregation::ProbMean => (&["response"], Some(names("k", 2))),
        Aggregation::Sum { .. } => (&["link", "response"], None),
        Aggregation::VoteValues { .. } | Aggregation::MatrixMean | Aggregation::Survival { .. } => {
            (&["response"], None)
        }
    };
    let inputs = features
        .iter()
        .map(|f| InputSpec {
            name: f.input.clone(),
            kind: if f.levels.is_some() { InputType::Factor } else { InputType::Numeric },
            levels: f.levels.clone(),
        })
        .collect();
    let spec = TreesSpec {
        algorithm: "rpart".into(),
        features,
        split: SplitRule::Lt,
        missing,
        nan: None,
        aggregation: agg,
        types: strings(types),
        default_type: types[0].into(),
        classes,
        trees,
    };
    trees_doc(inputs, spec)
}
