use super::*;

/// A few hundred floats that matter for comparisons: signed zeros, the
/// smallest and largest, infinities, NaN, and a spread in between.
fn probes() -> Vec<f32> {
    let mut v = vec![
        0.0,
        -0.0,
        f32::from_bits(1),
        -f32::from_bits(1),
        f32::MIN_POSITIVE,
        f32::MAX,
        f32::MIN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        1.0,
        -1.0,
        0.5,
    ];
    let mut s = 0x9e37_79b9u32;
    for _ in 0..300 {
        s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        v.push(f32::from_bits(s));
    }
    let n = v.len();
    for i in 0..n {
        if v[i].is_finite() {
            v.push(below_f32(v[i]));
            v.push(f32::from_bits(v[i].to_bits().wrapping_add(1)));
        }
    }
    v
}

#[test]
fn below_turns_less_than_into_at_most() {
    let p = probes();
    for &t in &p {
        let b = below_f32(t);
        for &x in &p {
            assert_eq!(x < t, x <= b, "x = {x:e}, t = {t:e}, below = {b:e}");
        }
    }
}

/// A random tree of `depth` levels at most, with default directions and
/// thresholds among a few values (so that rows meet them exactly).
fn random_tree(seed: &mut u64, max_depth: u32, slots: u32) -> Plain<f64> {
    let mut next = move || {
        *seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (*seed >> 33) as u32
    };
    let mut nodes = Vec::new();
    // (index, level)
    let mut todo = vec![(0usize, 0u32)];
    nodes.push(PlainNode::Leaf { value: 0.0, alt: 0.0 });
    let mut depth = 0;
    while let Some((i, level)) = todo.pop() {
        if level < max_depth && next() % 4 != 0 {
            let (l, r) = (nodes.len(), nodes.len() + 1);
            nodes.push(PlainNode::Leaf { value: 0.0, alt: 0.0 });
            nodes.push(PlainNode::Leaf { value: 0.0, alt: 0.0 });
            let feat = (next() % slots) | if next() % 2 == 0 { DEFAULT_LEFT } else { 0 };
            let thr = f64::from(next() % 7) - 3.0;
            nodes[i] = PlainNode::Split { feat, thr, left: l as u32, right: r as u32 };
            todo.push((l, level + 1));
            todo.push((r, level + 1));
        } else {
            let v = f64::from(next() % 1000) / 8.0;
            nodes[i] = PlainNode::Leaf { value: v, alt: -v };
            depth = depth.max(level);
        }
    }
    Plain { nodes, depth, has_cat: false }
}

/// The leaf a row reaches, walked from the plain tree.
fn reference(t: &Plain<f64>, x: &[f64]) -> (f64, f64) {
    let mut i = 0;
    loop {
        match t.nodes[i] {
            PlainNode::Leaf { value, alt } => return (value, alt),
            PlainNode::Split { feat, thr, left, right } => {
                let v = x[(feat & SLOT) as usize];
                let go_left = if v.is_nan() { feat & DEFAULT_LEFT != 0 } else { v <= thr };
                i = if go_left { left } else { right } as usize;
            }
        }
    }
}

/// Both layouts, walked a block of rows at a time and a row at a time,
/// reach the leaves of a recursive walk.
#[test]
fn layouts_and_walks_agree_with_a_recursive_walk() {
    use crate::boosted::walk::{self, CatSets};
    let mut seed = 7u64;
    let w = 3;
    for round in 0..40 {
        let trees: Vec<Plain<f64>> =
            (0..1 + round % 13).map(|_| random_tree(&mut seed, 1 + round % 7, w as u32)).collect();
        let c = complete(&trees, trees.iter().map(|t| t.depth).max().unwrap(), true);
        let g = general(&trees, true);
        let rows = 37;
        let mut xs = vec![0.0; rows * w];
        for (i, x) in xs.iter_mut().enumerate() {
            *x = match (i * 7 + round as usize) % 9 {
                0 => f64::NAN,
                k => f64::from(k as u32) - 4.5 + if k % 2 == 0 { 0.5 } else { 0.0 },
            };
        }
        let groups = vec![0u32; trees.len()];
        for alt in [false, true] {
            let want: Vec<f64> = (0..rows)
                .map(|r| {
                    let x = &xs[r * w..(r + 1) * w];
                    trees.iter().fold(0.0, |a, t| {
                        let (v, va) = reference(t, x);
                        a + if alt { va } else { v }
                    })
                })
                .collect();
            let cl = if alt { c.alt.as_ref().unwrap() } else { &c.leaves };
            let gv = if alt { g.alt.as_ref().unwrap() } else { &g.values };
            let sets = CatSets::default();
            let (mut a1, mut a2, mut a3, mut a4) = (vec![0.0; rows], vec![0.0; rows], vec![0.0; rows], vec![0.0; rows]);
            for t in 0..trees.len() {
                walk::complete_rows(&c, cl, t, &xs, w, &mut a1, 1, 0);
                walk::general_rows(&g, gv, &sets, t, &xs, w, &mut a2, 1, 0);
            }
            for r in 0..rows {
                let x = &xs[r * w..(r + 1) * w];
                walk::complete_trees(&c, cl, 0..trees.len(), x, &groups, &mut a3[r..r + 1]);
                walk::general_trees(&g, gv, &sets, 0..trees.len(), x, &groups, &mut a4[r..r + 1]);
            }
            for (name, got) in
                [("complete rows", &a1), ("general rows", &a2), ("complete trees", &a3), ("general trees", &a4)]
            {
                assert_eq!(got, &want, "round {round}, {name}, alt {alt}");
            }
        }
    }
}
