//! Documents built from the engine's own structs, small but shaped like
//! what each R compiler writes (`R/compile-*.R`): together they use every
//! variable kind and, for trees, every aggregation method, feature kind,
//! unseen rule, missing rule and optional tree array.

use serde_json::json;

use fastpredict_engine::format::{
    Aggregation, Coding, CutSpec, CvChoice, Expr, Extrapolation, FeatureKind, GlmnetFamily, GlmnetSpec, InputSpec,
    InputType, InteractionSpec, LinearSpec, MissingRule, ModelDoc, NanRule, Op, Producer, ResponsesSpec, SparseColumns,
    SplineSpec, SplitRule, Surrogates, TreesSpec, UnseenRule, VariableSpec,
};

use crate::common::build::{
    explicit_tree, factor_var, glmnet_doc, input, level_feature, linear, linear_doc, names, num_feature, num_input,
    numeric_var, set, strings, term, tree, trees_doc,
};

/// A linear document as `fp_compile()` writes one for a `glm`.
fn doc(inputs: Vec<InputSpec>, linear: LinearSpec) -> ModelDoc {
    let producer = Producer {
        name: "fastpredict".into(),
        version: "0.1.0".into(),
        r_version: None,
        source_class: vec!["glm".into(), "lm".into()],
        source_package: Some("stats".into()),
        source_package_version: None,
    };
    ModelDoc { producer, ..linear_doc(inputs, linear) }
}

fn call(op: Op, args: Vec<Expr>) -> Expr {
    Expr::call(op, args)
}

fn x(name: &str) -> Expr {
    Expr::input(name)
}

/// `glm(y ~ log(x, 10) + scale(z) + I(x^2) + I(2 * x) + as.numeric(a) + exp(-z),
/// binomial, offset = log1p(w))` with `I(2 * x)` aliased, plus an
/// `offset(sqrt(abs(z)) / 10)` term and an extension.
pub fn doc_numeric_offsets_aliased() -> ModelDoc {
    let mut log10x = call(Op::Log, vec![x("x")]);
    log10x.base = Some(10.0);
    let mut scaled = call(Op::Scale, vec![x("z")]);
    scaled.center = Some(0.25);
    scaled.scale = Some(1.5);
    let variables = vec![
        VariableSpec::Numeric { label: "log(x, 10)".into(), expr: log10x },
        VariableSpec::Numeric { label: "scale(z)".into(), expr: scaled },
        VariableSpec::Numeric { label: "I(x^2)".into(), expr: call(Op::Pow, vec![x("x"), Expr::constant(2.0)]) },
        VariableSpec::Numeric { label: "I(2 * x)".into(), expr: call(Op::Mul, vec![Expr::constant(2.0), x("x")]) },
        VariableSpec::Numeric { label: "as.numeric(a)".into(), expr: call(Op::AsNumeric, vec![x("a")]) },
        VariableSpec::Numeric { label: "exp(-z)".into(), expr: call(Op::Exp, vec![call(Op::Neg, vec![x("z")])]) },
    ];
    let terms = (0..variables.len()).map(|i| term(variables[i].label(), &[(i, None)], i + 1..i + 2)).collect();
    let offsets = vec![
        call(Op::Log1p, vec![x("w")]),
        call(Op::Div, vec![call(Op::Sqrt, vec![call(Op::Abs, vec![x("z")])]), Expr::constant(10.0)]),
    ];
    let coefficients = vec![Some(-0.5), Some(1.25), Some(-0.75), Some(0.0625), None, Some(0.1), Some(3.0e-7)];
    let mut d = doc(
        vec![
            input("x", InputType::Numeric, None),
            input("z", InputType::Numeric, None),
            input("a", InputType::Any, None),
            input("w", InputType::Numeric, None),
        ],
        LinearSpec { offsets, ..linear("binomial", "logit", true, coefficients, variables, terms) },
    );
    d.extensions.insert("org.example.note".into(), json!({"kept": [1, 2.5, "three"], "nested": {"ok": true}}));
    d
}

/// `lm(y ~ poly(x, 3) + poly(z, 2, raw = TRUE))`.
pub fn doc_polys() -> ModelDoc {
    let variables = vec![
        VariableSpec::Poly {
            label: "poly(x, 3)".into(),
            arg: x("x"),
            alpha: vec![5.5, 5.5, 5.5],
            norm2: vec![1.0, 10.0, 82.5, 528.0, 3088.8],
        },
        VariableSpec::PolyRaw { label: "poly(z, 2, raw = TRUE)".into(), arg: x("z"), degree: 2 },
    ];
    let terms = vec![term("poly(x, 3)", &[(0, None)], 1..4), term("poly(z, 2, raw = TRUE)", &[(1, None)], 4..6)];
    let coefficients = vec![Some(2.0), Some(0.5), Some(-0.25), Some(0.125), Some(1.0), Some(-1.0e-3)];
    let mut lin = linear("gaussian", "identity", true, coefficients, variables, terms);
    lin.types = vec!["response".into()];
    lin.default_type = "response".into();
    doc(vec![input("x", InputType::Numeric, None), input("z", InputType::Numeric, None)], lin)
}

/// `glm(y ~ splines::bs(x, knots = 0.5) + splines::ns(z, knots = 0.5), poisson)`:
/// cubic splines on [0, 1], one with and one without a projection.
pub fn doc_splines() -> ModelDoc {
    let knots = vec![0.0, 0.0, 0.0, 0.0, 0.5, 1.0, 1.0, 1.0, 1.0];
    let nbasis = knots.len() - 4;
    let unit = |i: usize| (0..nbasis).map(|j| if i == j { 1.0 } else { 0.0 }).collect::<Vec<f64>>();
    let bs = SplineSpec {
        label: "splines::bs(x, knots = 0.5)".into(),
        basis: "bs".into(),
        arg: x("x"),
        order: 4,
        knots: knots.clone(),
        boundary: vec![0.0, 1.0],
        intercept: false,
        left: Extrapolation { pivot: 0.125, coefs: vec![unit(0), unit(1), unit(2), unit(3)] },
        right: Extrapolation { pivot: 0.875, coefs: vec![unit(4), unit(3), unit(2), unit(1)] },
        projection: None,
    };
    let ns = SplineSpec {
        label: "splines::ns(z, knots = 0.5)".into(),
        basis: "ns".into(),
        arg: call(Op::Sqrt, vec![x("z")]),
        order: 4,
        knots,
        boundary: vec![0.0, 1.0],
        intercept: false,
        left: Extrapolation { pivot: 0.0, coefs: vec![unit(0), unit(1)] },
        right: Extrapolation { pivot: 1.0, coefs: vec![unit(4), unit(3)] },
        // kept basis functions (4) x output columns (2)
        projection: Some(vec![vec![0.5, -0.25], vec![0.75, 0.125], vec![-0.125, 0.5], vec![0.25, 0.75]]),
    };
    let variables = vec![VariableSpec::Spline(Box::new(bs)), VariableSpec::Spline(Box::new(ns))];
    let terms = vec![
        term("splines::bs(x, knots = 0.5)", &[(0, None)], 1..5),
        term("splines::ns(z, knots = 0.5)", &[(1, None)], 5..7),
    ];
    let coefficients = vec![Some(0.1), Some(0.2), Some(0.3), Some(0.4), Some(0.5), Some(0.6), Some(0.7)];
    doc(
        vec![input("x", InputType::Numeric, None), input("z", InputType::Numeric, None)],
        linear("poisson", "log", true, coefficients, variables, terms),
    )
}

/// `lm(y ~ 0 + f + g + f:x + x:h)`: no intercept, so `f` is coded by
/// indicators in its main effect and by contrasts in `f:x`; `g` (ordered)
/// by contrasts; `h` (logical) only by indicators in `x:h`, whose margin is
/// absent, so it has no contrast matrix.
pub fn doc_factors() -> ModelDoc {
    let f_levels = ["a", "b", "c"];
    let g_levels = ["lo", "mid", "hi"];
    // f's contrasts serve its contrasts coding in f:x
    let f_contrasts = vec![vec![0.0, 0.0], vec![1.0, 0.0], vec![0.0, 1.0]];
    let g_contrasts = vec![
        vec![-std::f64::consts::FRAC_1_SQRT_2, 0.4082482904638631],
        vec![-7.850462293418876e-17, -0.816496580927726],
        vec![std::f64::consts::FRAC_1_SQRT_2, 0.4082482904638631],
    ];
    let variables = vec![
        factor_var("f", &f_levels, Some(f_contrasts)),
        factor_var("g", &g_levels, Some(g_contrasts)),
        numeric_var("x"),
        factor_var("h", &["FALSE", "TRUE"], None),
    ];
    let terms = vec![
        term("f", &[(0, Some(Coding::Indicators))], 0..3),
        term("g", &[(1, Some(Coding::Contrasts))], 3..5),
        term("f:x", &[(0, Some(Coding::Contrasts)), (2, None)], 5..7),
        term("x:h", &[(2, None), (3, Some(Coding::Indicators))], 7..9),
    ];
    doc(
        vec![
            input("f", InputType::Character, Some(&f_levels)),
            input("g", InputType::Ordered, Some(&g_levels)),
            input("x", InputType::Numeric, None),
            input("h", InputType::Logical, None),
        ],
        linear(
            "gaussian",
            "identity",
            false,
            vec![Some(1.0), Some(2.0), Some(3.0), Some(-0.5), None, Some(0.25), Some(-0.25), Some(4.0), Some(-4.0)],
            variables,
            terms,
        ),
    )
}

/// A binomial glm of `cut(x, c(-Inf, 1, 2.5))`, `interaction(a, b)`,
/// `I(z > 0 & !(x == 2))`, `I((x >= 1 | z < 0) * z)` and
/// `I((x != 3) + (z <= 1))`: the factors made in the formula (since 1.6),
/// with the combination "q.w" of the interaction absent from the training
/// data, and every comparison and logic operator.
pub fn doc_made_factors() -> ModelDoc {
    let cut_labels = strings(&["(-Inf,1]", "(1,2.5]"]);
    let cut = CutSpec {
        label: "cut(x, c(-Inf, 1, 2.5))".into(),
        arg: x("x"),
        breaks: vec![1.0, 2.5],
        lower_inf: true,
        upper_inf: false,
        right: true,
        include_lowest: false,
        labels: cut_labels.clone(),
        levels: cut_labels,
        contrasts: Some(vec![vec![0.0], vec![1.0]]),
    };
    let ia_levels = strings(&["p.u", "q.u", "p.v", "q.v", "p.w"]);
    let nl = ia_levels.len();
    let treatment = (0..nl).map(|i| (1..nl).map(|j| f64::from(u8::from(i == j))).collect()).collect();
    let interaction = InteractionSpec {
        label: "interaction(a, b)".into(),
        inputs: strings(&["a", "b"]),
        components: vec![strings(&["p", "q"]), strings(&["u", "v", "w"])],
        sep: ".".into(),
        levels: ia_levels,
        contrasts: Some(treatment),
    };
    let c = Expr::constant;
    let positive_not_two = call(
        Op::And,
        vec![call(Op::Gt, vec![x("z"), c(0.0)]), call(Op::Not, vec![call(Op::Eq, vec![x("x"), c(2.0)])])],
    );
    let either = call(Op::Or, vec![call(Op::Ge, vec![x("x"), c(1.0)]), call(Op::Lt, vec![x("z"), c(0.0)])]);
    let variables = vec![
        VariableSpec::Cut(Box::new(cut)),
        VariableSpec::Interaction(Box::new(interaction)),
        VariableSpec::Logical {
            label: "I(z > 0 & !(x == 2))".into(),
            arg: positive_not_two,
            contrasts: Some(vec![vec![0.0], vec![1.0]]),
        },
        VariableSpec::Numeric { label: "I((x >= 1 | z < 0) * z)".into(), expr: call(Op::Mul, vec![either, x("z")]) },
        VariableSpec::Numeric {
            label: "I((x != 3) + (z <= 1))".into(),
            expr: call(Op::Add, vec![call(Op::Ne, vec![x("x"), c(3.0)]), call(Op::Le, vec![x("z"), c(1.0)])]),
        },
    ];
    let terms = vec![
        term("cut(x, c(-Inf, 1, 2.5))", &[(0, Some(Coding::Contrasts))], 1..2),
        term("interaction(a, b)", &[(1, Some(Coding::Contrasts))], 2..6),
        term("I(z > 0 & !(x == 2))", &[(2, Some(Coding::Contrasts))], 6..7),
        term("I((x >= 1 | z < 0) * z)", &[(3, None)], 7..8),
        term("I((x != 3) + (z <= 1))", &[(4, None)], 8..9),
    ];
    let coefficients = [0.5, -1.0, 0.25, 0.75, -0.5, 1.5, 2.0, -0.125, 0.0625].map(Some).to_vec();
    doc(
        vec![
            input("x", InputType::Numeric, None),
            input("a", InputType::Factor, Some(&["p", "q"])),
            input("b", InputType::Character, Some(&["u", "v", "w"])),
            input("z", InputType::Numeric, None),
        ],
        linear("binomial", "logit", true, coefficients, variables, terms),
    )
}

/// `lm(cbind(y1, y2) ~ x + f + offset(z))`: two responses (since 1.6), each
/// its own coefficients, the offset added to both.
pub fn doc_responses() -> ModelDoc {
    let variables = vec![numeric_var("x"), factor_var("f", &["a", "b"], Some(vec![vec![0.0], vec![1.0]]))];
    let terms = vec![term("x", &[(0, None)], 1..2), term("f", &[(1, Some(Coding::Contrasts))], 2..3)];
    let coefficients = [1.0, 0.5, -2.0, 10.0, -0.25, 3.0].map(Some).to_vec();
    let mut lin = linear("gaussian", "identity", true, coefficients, variables, terms);
    lin.coefficient_names.truncate(3);
    lin.types = vec!["response".into()];
    lin.default_type = "response".into();
    lin.offsets = vec![x("z")];
    lin.responses = Some(ResponsesSpec { count: 2, names: Some(strings(&["y1", "y2"])) });
    let mut d = doc(
        vec![
            input("x", InputType::Numeric, None),
            input("f", InputType::Factor, Some(&["a", "b"])),
            input("z", InputType::Numeric, None),
        ],
        lin,
    );
    d.producer.source_class = strings(&["mlm", "lm"]);
    d
}

// ---------------------------------------------------------------------------
// Tree models.

/// A trees document as `fp_compile()` writes one for `source_class` of
/// `package`.
fn compiled(source_class: &[&str], package: &str, inputs: Vec<InputSpec>, spec: TreesSpec) -> ModelDoc {
    let producer = Producer {
        name: "fastpredict".into(),
        version: "0.1.0".into(),
        r_version: Some("4.3.1".into()),
        source_class: strings(source_class),
        source_package: Some(package.into()),
        source_package_version: None,
    };
    ModelDoc { producer, ..trees_doc(inputs, spec) }
}

/// rpart classification: one tree with explicit children (not numbered
/// level by level), majority `missing` children, a categorical split whose
/// set leaves level "c" on neither side (so such rows stop at the node),
/// numeric and categorical surrogates at the root, `probs` and `matrix`.
pub fn doc_rpart_single() -> ModelDoc {
    let levels = ["a", "b", "c"];
    // 0: x < 2.5 ? 1 : 4       1: f in {a} ? 2 : (f in {b} ? 3 : stop)
    // 4: z < 7 ? 5 : 6         leaves 2, 3, 5, 6
    let mut t = explicit_tree(
        &[0, 1, -1, -1, 2, -1, -1],
        &[2.5, 0.0, 0.0, 0.0, 7.0, 0.0, 0.0],
        &[1, 2, -1, -1, 5, -1, -1],
        &[4, 3, -1, -1, 6, -1, -1],
        &[1.0, 1.0, 1.0, 2.0, 3.0, 2.0, 3.0],
    );
    t.missing = Some(vec![4, -1, -1, -1, 6, -1, -1]);
    let probs: [[f64; 3]; 7] = [
        [0.5, 0.25, 0.25],
        [0.625, 0.375, 0.0],
        [0.9, 0.1, 0.0],
        [0.2, 0.8, 0.0],
        [0.0, 0.375, 0.625],
        [0.0, 0.75, 0.25],
        [0.0, 0.125, 0.875],
    ];
    t.probs = Some(probs.iter().flatten().copied().collect());
    // per node: the class, then the class counts (a shortened yval2)
    t.matrix = Some(
        t.value.iter().zip(&probs).flat_map(|(v, p)| std::iter::once(*v).chain(p.iter().map(|x| x * 16.0))).collect(),
    );
    t.categories = Some(vec![set(&[0], &[1]), set(&[1, 2], &[0])]);
    // root: first z >= 1 goes left (less_left false), then f by set 1
    t.surrogates = Some(Surrogates {
        start: vec![0, 2, 2, 2, 2, 2, 2, 2],
        feature: vec![2, 1],
        threshold: vec![1.0, 1.0],
        less_left: vec![false, true],
    });
    compiled(
        &["rpart"],
        "rpart",
        vec![
            input("x", InputType::Numeric, None),
            input("f", InputType::Factor, Some(&levels)),
            input("z", InputType::Numeric, None),
        ],
        TreesSpec {
            algorithm: "rpart".into(),
            features: vec![
                num_feature("x"),
                level_feature("f", FeatureKind::Categorical, &levels, None, Some(UnseenRule::Error)),
                num_feature("z"),
            ],
            split: SplitRule::Lt,
            missing: MissingRule::Route,
            nan: None,
            aggregation: Aggregation::Single,
            types: strings(&["vector", "prob", "class", "matrix"]),
            default_type: "prob".into(),
            classes: Some(strings(&["lo", "mid", "hi"])),
            trees: vec![t],
        },
    )
}

/// randomForest regression from a formula: implicit children, the mean
/// with its bias correction, `na_row`; a factor split by a category set, an
/// ordered factor read as level codes + 1, a logical read as a number and
/// a formula variable that no tree splits on (no levels, unseen "last").
pub fn doc_random_forest_mean() -> ModelDoc {
    let f_levels = ["a", "b", "c"];
    let g_levels = ["lo", "mid", "hi"];
    let mut t1 = tree(&[0, 1, -1, -1, -1], &[2.5, 0.0, 0.0, 0.0, 0.0], &[0.0, 0.0, 10.0, 11.0, 12.0]);
    t1.categories = Some(vec![set(&[0, 2], &[1])]);
    let t2 = tree(&[2, -1, 3, -1, -1], &[1.5, 0.0, 0.5, 0.0, 0.0], &[0.0, 20.0, 0.0, 21.0, 22.5]);
    compiled(
        &["randomForest.formula", "randomForest"],
        "randomForest",
        vec![
            input("x", InputType::Numeric, None),
            input("f", InputType::Factor, Some(&f_levels)),
            input("g", InputType::Ordered, Some(&g_levels)),
            input("h", InputType::Logical, None),
            input("w", InputType::Character, Some(&[])),
        ],
        TreesSpec {
            algorithm: "randomForest".into(),
            features: vec![
                num_feature("x"),
                level_feature("f", FeatureKind::Categorical, &f_levels, None, Some(UnseenRule::Error)),
                level_feature("g", FeatureKind::Codes, &g_levels, Some(1.0), Some(UnseenRule::Error)),
                num_feature("h"),
                level_feature::<&str>("w", FeatureKind::Codes, &[], None, Some(UnseenRule::Last)),
            ],
            split: SplitRule::Le,
            missing: MissingRule::NaRow,
            nan: None,
            aggregation: Aggregation::Mean { bias: Some(vec![-0.25, 1.0625]) },
            types: strings(&["response"]),
            default_type: "response".into(),
            classes: None,
            trees: vec![t1, t2],
        },
    )
}

/// randomForest classification from x/y: votes with a cutoff, missing
/// values an error, implicit children, class indices in the leaves.
pub fn doc_random_forest_votes() -> ModelDoc {
    let t1 = tree(&[0, -1, 1, -1, -1], &[1.25, 0.0, 3.0, 0.0, 0.0], &[0.0, 1.0, 0.0, 2.0, 3.0]);
    let t2 = tree(&[1, 0, -1, -1, -1], &[2.75, 0.5, 0.0, 0.0, 0.0], &[0.0, 0.0, 3.0, 1.0, 2.0]);
    compiled(
        &["randomForest"],
        "randomForest",
        vec![input("x", InputType::Numeric, None), input("y", InputType::Numeric, None)],
        TreesSpec {
            algorithm: "randomForest".into(),
            features: vec![num_feature("x"), num_feature("y")],
            split: SplitRule::Le,
            missing: MissingRule::Error,
            nan: None,
            aggregation: Aggregation::Votes { cutoff: Some(vec![0.5, 0.3, 0.2]) },
            types: strings(&["response", "prob", "vote"]),
            default_type: "response".into(),
            classes: Some(strings(&["setosa", "versicolor", "virginica"])),
            trees: vec![t1, t2],
        },
    )
}

/// ranger probability forest in the "order" mode: the mean of the leaves'
/// class probabilities, a factor read as level codes + 1 with unseen levels
/// sorted last; `threshold` and `value` both hold ranger's split values, as
/// the format 1.0 fixtures do.
pub fn doc_ranger_prob_mean() -> ModelDoc {
    let levels = ["b", "a"];
    let mk = |cut: f64, p: [f64; 6]| {
        let mut t = tree(&[1, 0, -1, -1, -1], &[1.5, cut, 0.0, 0.0, 0.0], &[1.5, cut, 0.0, 0.0, 0.0]);
        t.probs = Some(
            [[0.0, 0.0], [0.0, 0.0], [p[0], p[1]], [p[2], p[3]], [p[4], p[5]]].iter().flatten().copied().collect(),
        );
        t
    };
    compiled(
        &["ranger"],
        "ranger",
        vec![input("x", InputType::Numeric, None), input("f", InputType::Factor, Some(&levels))],
        TreesSpec {
            algorithm: "ranger".into(),
            features: vec![
                num_feature("x"),
                level_feature("f", FeatureKind::Codes, &levels, Some(1.0), Some(UnseenRule::Last)),
            ],
            split: SplitRule::Le,
            missing: MissingRule::Error,
            nan: None,
            aggregation: Aggregation::ProbMean,
            types: strings(&["response"]),
            default_type: "response".into(),
            classes: Some(strings(&["no", "yes"])),
            trees: vec![mk(3.0, [0.25, 0.75, 1.0, 0.0, 0.5, 0.5]), mk(4.5, [0.0, 1.0, 0.875, 0.125, 0.375, 0.625])],
        },
    )
}

/// ranger classification with "partition" splits: votes without a cutoff,
/// a category set per partition split, class indices in the leaves and 0
/// in the slots no walk reads.
pub fn doc_ranger_votes() -> ModelDoc {
    let levels = ["a", "b", "c"];
    let mut t = tree(&[1, -1, 0, -1, -1], &[0.0, 0.0, 1.0, 0.0, 0.0], &[0.0, 2.0, 0.0, 1.0, 2.0]);
    t.categories = Some(vec![set(&[0, 2], &[1])]);
    let mut t2 = t.clone();
    t2.threshold[2] = 0.25;
    t2.value = vec![0.0, 1.0, 0.0, 2.0, 2.0];
    compiled(
        &["ranger"],
        "ranger",
        vec![input("x", InputType::Numeric, None), input("f", InputType::Character, Some(&levels))],
        TreesSpec {
            algorithm: "ranger".into(),
            features: vec![
                num_feature("x"),
                level_feature("f", FeatureKind::Categorical, &levels, None, Some(UnseenRule::Error)),
            ],
            split: SplitRule::Le,
            missing: MissingRule::Error,
            nan: None,
            aggregation: Aggregation::Votes { cutoff: None },
            types: strings(&["response"]),
            default_type: "response".into(),
            classes: Some(strings(&["one", "two"])),
            trees: vec![t, t2],
        },
    )
}

/// A ranger forest of two trees on `x` as `fp_compile()` writes one for a
/// response that is not a factor or for survival (since 1.6): leaves 1, 3,
/// 4 hold `value` and, when `width` > 0, a `matrix` row each.
fn ranger_numbers(
    aggregation: Aggregation,
    values: [[f64; 3]; 2],
    matrix: Option<[[f64; 3]; 2]>,
    width: usize,
) -> ModelDoc {
    let trees = (0..2)
        .map(|k| {
            let v = values[k];
            let mut t = tree(&[0, -1, 0, -1, -1], &[1.0 + k as f64, 0.0, 3.5, 0.0, 0.0], &[0.0, v[0], 0.0, v[1], v[2]]);
            if let Some(m) = matrix {
                // a row per node: the leaf's numbers scaled, zeros at splits
                let row = |leaf: Option<usize>| (0..width).map(move |j| leaf.map_or(0.0, |l| m[k][l] * (j + 1) as f64));
                t.matrix = Some([None, Some(0), None, Some(1), Some(2)].into_iter().flat_map(row).collect());
            }
            t
        })
        .collect();
    compiled(
        &["ranger"],
        "ranger",
        vec![input("x", InputType::Numeric, None)],
        TreesSpec {
            algorithm: "ranger".into(),
            features: vec![num_feature("x")],
            split: SplitRule::Le,
            missing: MissingRule::Error,
            nan: None,
            aggregation,
            types: strings(&["response"]),
            default_type: "response".into(),
            classes: None,
            trees,
        },
    )
}

/// ranger classification of a numeric response: votes for the classes 4, 6
/// and 8 by their 1-based index.
pub fn doc_ranger_vote_values() -> ModelDoc {
    ranger_numbers(Aggregation::VoteValues { values: vec![4.0, 6.0, 8.0] }, [[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]], None, 0)
}

/// ranger probability forest of a numeric response: the mean of the
/// leaves' `matrix` rows.
pub fn doc_ranger_matrix_mean() -> ModelDoc {
    let m = [[0.25, 0.5, 0.125], [0.0625, 0.25, 0.5]];
    ranger_numbers(Aggregation::MatrixMean, [[0.0; 3]; 2], Some(m), 2)
}

/// ranger survival forest: each leaf's cumulative hazard at three death
/// times.
pub fn doc_ranger_survival() -> ModelDoc {
    let m = [[0.125, 0.25, 0.5], [0.0625, 0.375, 0.75]];
    ranger_numbers(Aggregation::Survival { times: vec![5.0, 12.5, 40.0] }, [[0.0; 3]; 2], Some(m), 3)
}

/// gbm multinomial: 3 iterations x 3 classes of interleaved trees, softmax,
/// gbm's node layout (left, right and a third, distinct missing child), a
/// factor whose unseen levels are missing, and the "compare" NaN rule.
pub fn doc_gbm_multinomial() -> ModelDoc {
    let levels = ["a", "b", "c"];
    let trees = (0..9)
        .map(|t| {
            let s = 0.0625 * (t as f64 + 1.0);
            // 0: x < 0.5 ? 1 : 5, missing 6    1: f in {a} ? 2 : 3, missing 4
            let mut tr = explicit_tree(
                &[0, 1, -1, -1, -1, -1, -1],
                &[0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                &[1, 2, -1, -1, -1, -1, -1],
                &[5, 3, -1, -1, -1, -1, -1],
                &[0.0, -s, s, -2.0 * s, -s, 3.0 * s, 0.0],
            );
            tr.missing = Some(vec![6, 4, -1, -1, -1, -1, -1]);
            tr.categories = Some(vec![set(&[0], &[1, 2])]);
            tr
        })
        .collect();
    compiled(
        &["gbm"],
        "gbm",
        vec![input("x", InputType::Numeric, None), input("f", InputType::Factor, Some(&levels))],
        TreesSpec {
            algorithm: "gbm".into(),
            features: vec![
                num_feature("x"),
                level_feature("f", FeatureKind::Categorical, &levels, None, Some(UnseenRule::Missing)),
            ],
            split: SplitRule::Lt,
            missing: MissingRule::Route,
            nan: Some(NanRule::Compare),
            aggregation: Aggregation::Sum {
                init: vec![0.0, 0.0, 0.0],
                n_classes: 3,
                transform: "softmax".into(),
                default_n_trees: 2,
            },
            types: strings(&["link", "response"]),
            default_type: "link".into(),
            classes: Some(strings(&["a", "b", "c"])),
            trees,
        },
    )
}

/// gbm bernoulli: one sum through the logistic, an ordered factor compared
/// as 0-based level codes, stumps with a missing child.
pub fn doc_gbm_bernoulli() -> ModelDoc {
    let levels = ["lo", "mid", "hi"];
    let stump = |f: i32, cut: f64, v: [f64; 3]| {
        let mut t = explicit_tree(
            &[f, -1, -1, -1],
            &[cut, 0.0, 0.0, 0.0],
            &[1, -1, -1, -1],
            &[2, -1, -1, -1],
            &[0.0, v[0], v[1], v[2]],
        );
        t.missing = Some(vec![3, -1, -1, -1]);
        t
    };
    compiled(
        &["gbm"],
        "gbm",
        vec![input("x", InputType::Numeric, None), input("g", InputType::Ordered, Some(&levels))],
        TreesSpec {
            algorithm: "gbm".into(),
            features: vec![
                num_feature("x"),
                level_feature("g", FeatureKind::Codes, &levels, None, Some(UnseenRule::Missing)),
            ],
            split: SplitRule::Lt,
            missing: MissingRule::Route,
            nan: Some(NanRule::Compare),
            aggregation: Aggregation::Sum {
                init: vec![-0.375],
                n_classes: 1,
                transform: "logistic".into(),
                default_n_trees: 3,
            },
            types: strings(&["link", "response"]),
            default_type: "link".into(),
            classes: None,
            trees: vec![
                stump(0, 2.25, [0.125, -0.25, 0.0]),
                stump(1, 0.5, [-0.5, 0.25, 0.0]),
                stump(0, 1.5, [0.0625, -0.125, 0.0]),
            ],
        },
    )
}

// ---------------------------------------------------------------------------
// glmnet models.

/// A glmnet document as `fp_compile()` writes one: four features.
fn glmnet_compiled(source_class: &str, spec: GlmnetSpec) -> ModelDoc {
    let d = glmnet_doc(names("V", 4).iter().map(|n| num_input(n)).collect(), spec);
    let producer = Producer {
        source_class: strings(&[source_class, "glmnet"]),
        source_package: Some("glmnet".into()),
        ..d.producer.clone()
    };
    ModelDoc { producer, ..d }
}

/// Four features, three lambdas: nothing stored at the first, then one
/// feature, then three (one of them a stored zero).
fn glmnet_beta(scale: f64) -> SparseColumns {
    SparseColumns {
        p: vec![0, 0, 1, 4],
        i: vec![1, 0, 1, 3],
        x: [0.25, 0.5, 0.0, -1.5].iter().map(|v| v * scale).collect(),
    }
}

fn glmnet_spec(family: GlmnetFamily, types: &[&str], a0: Vec<Vec<f64>>, beta: Vec<SparseColumns>) -> GlmnetSpec {
    GlmnetSpec {
        family,
        types: strings(types),
        default_type: "link".into(),
        lambda: vec![0.4, 0.2, 0.1],
        a0,
        beta,
        classes: None,
        grouped: None,
        offset: false,
        by_position: false,
        cv: None,
    }
}

/// binomial, cross-validated, on a matrix without column names.
pub fn doc_glmnet_lognet_cv() -> ModelDoc {
    let spec = GlmnetSpec {
        classes: Some(strings(&["no", "yes"])),
        by_position: true,
        cv: Some(CvChoice { lambda_min: 0.1, lambda_1se: 0.2 }),
        ..glmnet_spec(
            GlmnetFamily::Lognet,
            &["link", "response", "class"],
            vec![vec![0.0, -0.25, -0.5]],
            vec![glmnet_beta(1.0)],
        )
    };
    glmnet_compiled("lognet", spec)
}

/// multinomial, grouped: three classes.
pub fn doc_glmnet_multnet() -> ModelDoc {
    let spec = GlmnetSpec {
        classes: Some(strings(&["a", "b", "c"])),
        grouped: Some(true),
        ..glmnet_spec(
            GlmnetFamily::Multnet,
            &["link", "response", "class"],
            vec![vec![0.1, 0.2, 0.3], vec![-0.1, -0.2, -0.3], vec![0.0, 0.0, 0.0]],
            vec![glmnet_beta(1.0), glmnet_beta(-1.0), glmnet_beta(0.5)],
        )
    };
    glmnet_compiled("multnet", spec)
}

/// gaussian, fitted with an offset.
pub fn doc_glmnet_elnet_offset() -> ModelDoc {
    let spec = GlmnetSpec {
        offset: true,
        ..glmnet_spec(GlmnetFamily::Elnet, &["link", "response"], vec![vec![1.0, 1.5, 2.0]], vec![glmnet_beta(2.0)])
    };
    glmnet_compiled("elnet", spec)
}

/// cox: no intercept.
pub fn doc_glmnet_coxnet() -> ModelDoc {
    glmnet_compiled("coxnet", glmnet_spec(GlmnetFamily::Coxnet, &["link", "response"], vec![], vec![glmnet_beta(0.75)]))
}

pub fn engine_documents() -> Vec<(&'static str, ModelDoc)> {
    vec![
        ("numeric expressions, offsets, an aliased coefficient, extensions", doc_numeric_offsets_aliased()),
        ("poly and poly_raw", doc_polys()),
        ("splines with and without projection", doc_splines()),
        ("factors with and without contrasts, no intercept", doc_factors()),
        ("cut, interaction and logical factors, comparisons and logic", doc_made_factors()),
        ("several responses with an offset", doc_responses()),
        ("rpart: single tree, category sets, surrogates, missing children", doc_rpart_single()),
        ("randomForest regression: mean with bias, implicit children, na_row", doc_random_forest_mean()),
        ("randomForest classification: votes with cutoff", doc_random_forest_votes()),
        ("ranger probability: prob_mean, unseen levels last", doc_ranger_prob_mean()),
        ("ranger classification: votes without cutoff, partition sets", doc_ranger_votes()),
        ("gbm multinomial: sum over interleaved classes, nan compare", doc_gbm_multinomial()),
        ("gbm bernoulli: sum through the logistic, ordered codes", doc_gbm_bernoulli()),
        ("ranger classification of numbers: vote_values", doc_ranger_vote_values()),
        ("ranger probability of numbers: matrix_mean", doc_ranger_matrix_mean()),
        ("ranger survival: survival curves", doc_ranger_survival()),
        ("glmnet lognet: classes, cv.glmnet's lambdas, columns by position", doc_glmnet_lognet_cv()),
        ("glmnet multnet: three classes, grouped", doc_glmnet_multnet()),
        ("glmnet elnet with an offset", doc_glmnet_elnet_offset()),
        ("glmnet coxnet: no intercept", doc_glmnet_coxnet()),
    ]
}
