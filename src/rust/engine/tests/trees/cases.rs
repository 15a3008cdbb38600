//! Targeted cases that random generation rarely hits, each checked against
//! the reference and against values worked out by hand; and engine bugs
//! found by the properties, kept as minimal cases.

use fastpredict_engine::format::{Aggregation, MissingRule, NanRule, Surrogates, TreesSpec, UnseenRule};
use fastpredict_engine::{ColumnBuf, FrameBuf, Model, ModelDoc, PredictOptions, NA_REAL};

use crate::common::build::{cat_feature, explicit_tree, hand_doc, names, num_feature, set, tree};
use crate::common::data::{data, factor_col, str_col};
use crate::reference::Pred;
use crate::tree_gen::renumber;
use crate::{check, predict};

/// A factor whose own levels are `v`'s in reverse order of appearance,
/// plus an unused one.
fn reversed_factor_col(v: &[Option<&str>]) -> ColumnBuf {
    let mut levels: Vec<&str> = vec!["unused"];
    for s in v.iter().flatten() {
        if !levels.contains(s) {
            levels.insert(0, s);
        }
    }
    factor_col(&levels, v)
}

/// Predictions of the default type, after checking them against the reference.
fn run(doc: &ModelDoc, data: &FrameBuf, opts: &PredictOptions) -> Pred {
    if let Err(e) = check(doc, data, opts) {
        panic!("{e}");
    }
    predict(&Model::from_doc(doc.clone()).unwrap(), data, opts, 1).unwrap()
}

fn reals(doc: &ModelDoc, data: &FrameBuf) -> Vec<f64> {
    match run(doc, data, &PredictOptions::default()) {
        Pred::Real(v) => v,
        Pred::Int(_) => panic!("class codes"),
    }
}

fn with_trees(doc: &ModelDoc, edit: impl Fn(&mut TreesSpec)) -> ModelDoc {
    let mut d = doc.clone();
    edit(d.trees.as_mut().unwrap());
    d
}

#[test]
fn a_node_whose_every_level_is_in_neither_set() {
    // f has no level that decides; a surrogate on x (x < 0 left), then the
    // missing child (right) take over
    let lv = names("l", 3);
    let mut t = explicit_tree(&[0, -1, -1], &[0.0; 3], &[1, -1, -1], &[2, -1, -1], &[7.0, 1.0, 2.0]);
    t.categories = Some(vec![set(&[], &[])]);
    t.surrogates =
        Some(Surrogates { start: vec![0, 1, 1, 1], feature: vec![1], threshold: vec![0.0], less_left: vec![true] });
    t.missing = Some(vec![2, -1, -1]);
    let features = vec![cat_feature("f", &lv, Some(UnseenRule::Last)), num_feature("x")];
    let doc = hand_doc(features.clone(), MissingRule::Route, Aggregation::Single, vec![t.clone()]);
    let f = [Some("l0"), Some("l1"), Some("l2"), None, Some("new"), Some("l0"), None, Some("l1"), Some("l2")];
    let x = [-1.0, 1.0, NA_REAL, -1.0, 1.0, NA_REAL, NA_REAL, 0.0, -0.0];
    for col in [str_col(&f), reversed_factor_col(&f)] {
        let d = data(vec![("f", col), ("x", ColumnBuf::Real(x.to_vec()))]);
        assert_eq!(reals(&doc, &d), [1.0, 2.0, 2.0, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0]);
        // no missing child: a row that the surrogate cannot place stops at the root
        let doc = with_trees(&doc, |s| s.trees[0].missing = None);
        assert_eq!(reals(&doc, &d), [1.0, 2.0, 7.0, 1.0, 2.0, 7.0, 7.0, 2.0, 2.0]);
        // no surrogate either: every row stops there
        let doc = with_trees(&doc, |s| s.trees[0].surrogates = None);
        assert_eq!(reals(&doc, &d), [7.0; 9]);
    }
    // under na_row (no routes allowed) the walk stops at the root as well,
    // in a forest; a missing x makes the row NA
    t.missing = None;
    t.surrogates = None;
    let doc = hand_doc(features, MissingRule::NaRow, Aggregation::Mean { bias: None }, vec![t.clone(), t]);
    let d = data(vec![("f", str_col(&f)), ("x", ColumnBuf::Real(x.to_vec()))]);
    let got = reals(&doc, &d);
    let want = [7.0, 7.0, NA_REAL, NA_REAL, 7.0, NA_REAL, NA_REAL, 7.0, 7.0];
    assert_eq!(got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), want.map(f64::to_bits));
}

#[test]
fn a_surrogate_chain_that_cannot_decide_stops_at_the_node() {
    // x < 0 at the root (value 10); surrogates z < 5 (left), then g in
    // {l0} left / {l1} right; l2 is in neither; no missing child
    let lv = names("l", 3);
    let mut t = explicit_tree(&[0, -1, -1], &[0.0; 3], &[1, -1, -1], &[2, -1, -1], &[10.0, 1.0, 2.0]);
    t.categories = Some(vec![set(&[0], &[1])]);
    t.surrogates = Some(Surrogates {
        start: vec![0, 2, 2, 2],
        feature: vec![1, 2],
        threshold: vec![5.0, 0.0],
        less_left: vec![true, false],
    });
    t.missing = Some(vec![-1; 3]);
    let features = vec![num_feature("x"), num_feature("z"), cat_feature("g", &lv, None)];
    let doc = hand_doc(features, MissingRule::Route, Aggregation::Single, vec![t]);
    let nan = f64::NAN;
    let x = [-1.0, NA_REAL, NA_REAL, NA_REAL, NA_REAL, NA_REAL, NA_REAL, nan, nan, NA_REAL];
    let z = [9.0, 1.0, NA_REAL, NA_REAL, NA_REAL, NA_REAL, 9.0, nan, 9.0, nan];
    let g = [Some("l0"), None, Some("l0"), Some("l1"), Some("l2"), None, None, Some("l2"), Some("l2"), Some("l2")];
    let d = data(vec![
        ("x", ColumnBuf::Real(x.to_vec())),
        ("z", ColumnBuf::Real(z.to_vec())),
        ("g", reversed_factor_col(&g)),
    ]);
    // every NaN missing: rows 4, 5, 7 and 9 find no route
    assert_eq!(reals(&doc, &d), [1.0, 1.0, 1.0, 2.0, 10.0, 10.0, 2.0, 10.0, 2.0, 10.0]);
    // only NA missing: a NaN fails every test, at the split (row 7) and
    // at the surrogate (row 9, `NaN < 5` is false, so not left)
    let doc = with_trees(&doc, |s| s.nan = Some(NanRule::Compare));
    assert_eq!(reals(&doc, &d), [1.0, 1.0, 1.0, 2.0, 10.0, 10.0, 2.0, 2.0, 2.0, 2.0]);
}

#[test]
fn categorical_codes_at_and_above_32() {
    // sets over 53 levels (an inline mask), 63 levels plus "last" (64
    // codes: bit 63), 64 levels plus "last" (65 codes: a set lookup), and
    // 53 levels with a gap (a set lookup and the missing child)
    let cases = [
        (53, None, vec![0, 31, 32, 40, 52], None),
        (63, Some(UnseenRule::Last), vec![63, 62, 32, 1], None),
        (64, Some(UnseenRule::Last), vec![64, 63, 33, 0], None),
        (53, Some(UnseenRule::Missing), vec![52, 32, 33], Some(45)),
    ];
    for (nl, unseen, left, gap) in cases {
        let lv = names("lev", nl);
        let codes = nl as u32 + u32::from(unseen == Some(UnseenRule::Last));
        let right: Vec<u32> = (0..codes).filter(|c| !left.contains(c) && Some(*c) != gap).collect();
        let mut t =
            explicit_tree(&[0, -1, -1, -1], &[0.0; 4], &[1, -1, -1, -1], &[2, -1, -1, -1], &[0.0, 1.0, 2.0, 3.0]);
        t.categories = Some(vec![set(&left, &right)]);
        t.missing = Some(vec![3, -1, -1, -1]);
        let features = vec![cat_feature("f", &lv, unseen)];
        let mut rows: Vec<Option<&str>> = lv.iter().rev().map(|s| Some(s.as_str())).collect();
        let mut want: Vec<f64> = (0..nl as u32)
            .rev()
            .map(|c| {
                if left.contains(&c) {
                    1.0
                } else if Some(c) == gap {
                    3.0
                } else {
                    2.0
                }
            })
            .collect();
        // an unseen level (where it is no error) and a missing one
        match unseen {
            Some(UnseenRule::Last) => want.push(if left.contains(&(nl as u32)) { 1.0 } else { 2.0 }),
            Some(UnseenRule::Missing) => want.push(3.0),
            _ => {}
        }
        if unseen.is_some() {
            rows.push(Some("new"));
        }
        rows.push(None);
        want.push(3.0);
        let single = hand_doc(features.clone(), MissingRule::Route, Aggregation::Single, vec![t.clone()]);
        let forest = hand_doc(features, MissingRule::Route, Aggregation::Mean { bias: None }, vec![t.clone(), t]);
        for col in [str_col(&rows), reversed_factor_col(&rows)] {
            let d = data(vec![("f", col)]);
            assert_eq!(reals(&single, &d), want, "{nl} levels");
            assert_eq!(reals(&forest, &d), want, "{nl} levels, forest");
        }
    }
}

#[test]
fn trees_that_are_a_single_leaf() {
    let leaf = |v: f64| tree(&[-1], &[0.0], &[v]);
    let features = vec![num_feature("x"), cat_feature("f", &names("l", 2), Some(UnseenRule::Missing))];
    let x = [NA_REAL, 1.0, f64::NAN, f64::INFINITY];
    let f = [None, Some("l1"), Some("new"), Some("l0")];
    let d = data(vec![("x", ColumnBuf::Real(x.to_vec())), ("f", str_col(&f))]);

    let mut t = leaf(3.5);
    t.missing = Some(vec![-1]);
    t.surrogates = Some(Surrogates { start: vec![0, 0], feature: vec![], threshold: vec![], less_left: vec![] });
    let doc = hand_doc(features.clone(), MissingRule::Route, Aggregation::Single, vec![t]);
    assert_eq!(reals(&doc, &d), [3.5; 4]);

    let doc = hand_doc(features.clone(), MissingRule::NaRow, Aggregation::Mean { bias: None }, vec![leaf(3.5)]);
    let got: Vec<u64> = reals(&doc, &d).iter().map(|v| v.to_bits()).collect();
    assert_eq!(got, [NA_REAL, 3.5, NA_REAL, 3.5].map(f64::to_bits));

    let votes = hand_doc(
        features.clone(),
        MissingRule::Route,
        Aggregation::Votes { cutoff: None },
        vec![leaf(2.0), leaf(1.0), leaf(2.0)],
    );
    let Pred::Int(classes) = run(&votes, &d, &PredictOptions::default()) else { panic!("classes") };
    assert_eq!(classes, [2; 4]);
    let opts = PredictOptions { type_: Some("prob".into()), ..Default::default() };
    let Pred::Real(p) = run(&votes, &d, &opts) else { panic!("probabilities") };
    assert_eq!(p, [[1.0 / 3.0; 4], [2.0 / 3.0; 4]].concat());

    let sum = Aggregation::Sum { init: vec![1.0], n_classes: 1, transform: "exp".into(), default_n_trees: 2 };
    let doc = hand_doc(features, MissingRule::Error, sum, vec![leaf(0.25), leaf(0.5)]);
    let d = data(vec![("x", ColumnBuf::Real(vec![1.0, -1.0])), ("f", str_col(&[Some("l0"), Some("l1")]))]);
    assert_eq!(reals(&doc, &d), [1.75; 2]);
}

// ---------------------------------------------------------------------------
// Engine bugs found by the properties, kept as minimal cases.

/// FORMAT.md: "Nodes that no walk reaches are ignored." Node 3 is reached
/// by no walk; its children (5, 4) are valid indices, each with one parent.
/// The rest of the tree keeps its order (children adjacent), and in that
/// path `build_tree` lays out every node, unreached ones included, so it
/// refuses the tree ("internal layout error"). The same tree numbered so
/// that it needs the breadth-first re-layout loads.
#[test]
fn unreachable_split_nodes_are_ignored() {
    let t = explicit_tree(
        &[0, -1, -1, 0, -1, -1],
        &[0.0; 6],
        &[1, -1, -1, 5, -1, -1],
        &[2, -1, -1, 4, -1, -1],
        &[0.0, 1.0, 2.0, 0.0, 4.0, 5.0],
    );
    let doc = hand_doc(vec![num_feature("x")], MissingRule::Route, Aggregation::Single, vec![t.clone()]);
    // the root's children swapped: re-laid out, and accepted
    let swapped = renumber(&t, &[0, 2, 1, 3, 4, 5]);
    let ok = hand_doc(vec![num_feature("x")], MissingRule::Route, Aggregation::Single, vec![swapped]);
    let d = data(vec![("x", ColumnBuf::Real(vec![-1.0, 1.0, NA_REAL]))]);
    assert_eq!(reals(&ok, &d), [1.0, 2.0, 0.0]);
    assert_eq!(reals(&doc, &d), [1.0, 2.0, 0.0]);
}

/// FORMAT.md, votes: "each tree votes for the class whose 1-based index is
/// the reached node's value (a value outside 1..K is no vote)". A walk
/// can end at a split node (a level in neither set, no route), whose value
/// the loader does not check for votes (only leaves'). A value of 1.5 is
/// no class index, but the engine truncates it (`as usize`) and counts a
/// vote for class 1. Either the loader should refuse such values at split
/// nodes, or they should count as no vote.
#[test]
fn a_fractional_value_is_no_vote() {
    let lv = names("l", 3);
    let mut t = explicit_tree(&[0, -1, -1], &[0.0; 3], &[1, -1, -1], &[2, -1, -1], &[1.5, 1.0, 2.0]);
    t.categories = Some(vec![set(&[0], &[1])]);
    let doc = hand_doc(
        vec![cat_feature("f", &lv, None)],
        MissingRule::Route,
        Aggregation::Votes { cutoff: None },
        vec![t.clone(), t],
    );
    // l2 is in neither set: both walks stop at the root, which is no vote
    let d = data(vec![("f", str_col(&[Some("l2"), Some("l0")]))]);
    let opts = PredictOptions { type_: Some("vote".into()), norm_votes: Some(false), ..Default::default() };
    let Pred::Real(counts) = run(&doc, &d, &opts) else { panic!("vote counts") };
    assert_eq!(counts, [0.0, 2.0, 0.0, 0.0]);
}
