#!/usr/bin/env python3
"""Probe single rules of SEMANTICS.md against the libraries themselves.

1. xgboost transforms: 40,010 margins (uniform +-100, normal, edge values)
   are pushed through xgboost's own PredTransform via base_margin on a
   0-tree booster and compared bit for bit with check_semantics.py's
   float32 formulas and with tempting alternatives.
2. LightGBM decisions: hand-written one-split models for every missing type
   x default_left, and a categorical bitset split, evaluated by LightGBM and
   by check_semantics.py on inputs at and around the threshold, zero band,
   NaN, infinities, fractional/negative/huge category codes.
3. xgboost categorical codes: fractional, negative, huge codes and NaN on a
   trained categorical model, library vs check_semantics.py.
4. xgboost infinities: inplace_predict accepts them, DMatrix refuses them.

Prints one line per probe and exits non-zero if a rule does not hold.
Usage: python3 tests/boosters/probe_rules.py
"""

import importlib.util
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("cs", os.path.join(HERE, "check_semantics.py"))
cs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cs)
F32 = np.float32
failures = []


def report(name, n_diff, n, expect_zero=True):
    ok = (n_diff == 0) if expect_zero else (n_diff > 0)
    tag = "OK " if ok else "BAD"
    want = "must match" if expect_zero else "must differ (alternative rejected)"
    print(f"{tag} {name:58} {n_diff:6} of {n} differ  [{want}]")
    if not ok:
        failures.append(name)


def probe_xgb_transforms():
    import xgboost as xgb
    rng = np.random.default_rng(1)
    m = np.concatenate([rng.uniform(-100, 100, 20000), rng.normal(0, 3, 20000),
                        [-88.7, -88.8, -89, -100, -104, 88.7, 89, -1e-8, 0, 1e-8]]).astype(F32)
    n = len(m)

    def boosted(params, label=None, aft=False):
        d = xgb.DMatrix(np.zeros((50, 1)), label=label)
        if aft:
            d.set_float_info("label_lower_bound", np.ones(50))
            d.set_float_info("label_upper_bound", np.ones(50) * 2)
        b = xgb.train(params, d, 0)
        dm = xgb.DMatrix(np.zeros((n, 1)))
        dm.set_base_margin(m)
        return b.predict(dm)

    def ndiff(got, fn):
        with np.errstate(over="ignore"):
            ref = np.array([fn(v) for v in m], dtype=F32)
        return int(np.sum(ref.view(np.uint32) != np.asarray(got, F32).view(np.uint32)))

    lab = (np.arange(50) % 2).astype(float)
    got = boosted({"objective": "binary:logistic"}, lab)
    report("xgb sigmoid == common::Sigmoid(float)", ndiff(got, cs.xgb_sigmoid), n)
    report("xgb sigmoid vs 1/(1+expf(-x)) without clamp",
           ndiff(got, lambda x: F32(F32(1) / F32(F32(1) + cs.expf(F32(-x))))), n, False)
    report("xgb sigmoid vs double sigmoid rounded",
           ndiff(got, lambda x: F32(1 / (1 + math.exp(-float(x))))), n, False)
    for obj, kw in (("count:poisson", {"label": np.ones(50)}), ("reg:gamma", {"label": np.ones(50)}),
                    ("reg:tweedie", {"label": np.ones(50)}),
                    ("survival:cox", {"label": np.arange(1, 51.0)}),
                    ("survival:aft", {"aft": True})):
        got = boosted({"objective": obj}, **kw)
        report(f"xgb {obj} == expf", ndiff(got, cs.expf), n)
        report(f"xgb {obj} vs double exp rounded",
               ndiff(got, lambda x: F32(math.exp(min(float(x), 700)))), n, False)
    got = boosted({"objective": "binary:hinge"}, lab)
    report("xgb hinge == (x > 0)", ndiff(got, lambda x: F32(1.0 if x > 0 else 0.0)), n)

    # softmax on 3 classes: rows of margins
    k = 3
    rows = m[: (n // k) * k].reshape(-1, k)
    d = xgb.DMatrix(np.zeros((60, 1)), label=np.arange(60) % k)
    b = xgb.train({"objective": "multi:softprob", "num_class": k}, d, 0)
    dm = xgb.DMatrix(np.zeros((rows.shape[0], 1)))
    dm.set_base_margin(rows)
    got = b.predict(dm).astype(F32)
    ref = np.array([cs.xgb_softmax(list(r)) for r in rows], dtype=F32)
    report("xgb softmax (float exp, double sum, float divide)",
           int(np.sum(ref.view(np.uint32) != got.view(np.uint32))), ref.size)


LGB_TEMPLATE = """tree
version=v4
num_class=1
num_tree_per_iteration=1
label_index=0
max_feature_idx=1
objective=regression
feature_names=x c
feature_infos=[-10:10] 0:1:2:3:5:33:40
tree_sizes=0

Tree=0
num_leaves=3
num_cat={num_cat}
split_feature=0 1
split_gain=1 1
threshold={thr} {cthr}
decision_type={dt0} {dt1}
left_child=-1 -2
right_child=1 -3
leaf_value=1 2 3
leaf_weight=1 1 1
leaf_count=1 1 1
internal_value=0 0
internal_weight=1 1
internal_count=2 2
{cat}is_linear=0
shrinkage=1


end of trees

feature_importances:

parameters:
end of parameters

pandas_categorical:null
"""


def probe_lgb_decisions():
    import lightgbm as lgb
    thr = 0.25
    kz = cs.K_ZERO_THRESHOLD
    xs = [thr, np.nextafter(thr, 1), np.nextafter(thr, -1), float(F32(thr)), 0.0, -0.0, 1e-36,
          -1e-36, kz, -kz, np.nextafter(kz, 1), np.nextafter(-kz, -1), -thr, math.nan, math.inf,
          -math.inf, 0.25000000000000006, -1e-300, 1e-300]
    for mt in (0, 1, 2):
        for dl in (0, 1):
            dt0 = (mt << 2) | (dl << 1)
            for thr_v in (thr, 0.0, -kz, kz):
                txt = LGB_TEMPLATE.format(num_cat=0, thr=repr(thr_v), cthr="0.5", dt0=dt0, dt1=0,
                                          cat="")
                b = lgb.Booster(model_str=txt)
                X = np.array([[x, 0.0] for x in xs])
                got = b.predict(X)
                ref = cs.LgbModel(txt).predict(X, {"raw_score": False})
                nd = int(np.sum(got != ref))
                report(f"lgb numeric missing_type={mt} default_left={dl} thr={thr_v:.3g}", nd,
                       len(xs))
    # categorical: node 1 splits on c with a two-word bitset {0, 2, 33}
    bits = [(1 << 0) | (1 << 2), (1 << 1)]
    for mt in (0, 2):
        dt1 = 1 | (mt << 2)
        txt = LGB_TEMPLATE.format(num_cat=1, thr="-100", cthr="0", dt0=0, dt1=dt1,
                                  cat=f"cat_boundaries=0 2\ncat_threshold={bits[0]} {bits[1]}\n")
        b = lgb.Booster(model_str=txt)
        cs_codes = [0, 1, 2, 3, 31, 32, 33, 34, 63, 64, 1000, -1, -0.5, 0.5, 2.7, 2.0000001, -7,
                    math.nan, 1e-36, 33.99]
        X = np.array([[0.5, c] for c in cs_codes])
        got = b.predict(X)
        ref = cs.LgbModel(txt).predict(X, {"raw_score": False})
        report(f"lgb categorical bitset, missing_type bits={mt}", int(np.sum(got != ref)),
               len(cs_codes))
        # the rule itself: in-set goes left (leaf 1 = value 2), others right (value 3)
        want = np.array([2.0 if (not math.isnan(c) and int(c) >= 0 and int(c) in (0, 2, 33))
                         else 3.0 for c in cs_codes])
        report("lgb categorical: in set -> left, NaN/negative/unseen -> right",
               int(np.sum(got != want)), len(cs_codes))


def probe_xgb_categorical():
    import xgboost as xgb
    rng = np.random.default_rng(5)
    n = 400
    X = np.c_[rng.normal(size=n), rng.integers(0, 10, n)].astype(float)
    y = X[:, 0] + np.isin(X[:, 1], [1, 4, 7]) * 2.0
    d = xgb.DMatrix(X, y, feature_types=["q", "c"], enable_categorical=True)
    b = xgb.train({"max_depth": 3, "max_cat_to_onehot": 1, "tree_method": "hist"}, d, 5)
    import json
    model = cs.XgbModel(json.loads(b.save_raw("json").decode()))
    codes = [0, 1, 2, 4, 7, 9, 10, 31, 32, 33, 1000, 2.7, 0.5, -0.5, -1, -1000, 16777215.0,
             16777216.0, 1e30, math.nan]
    T = np.array([[0.1, c] for c in codes])
    for api in ("inplace", "dmatrix"):
        if api == "inplace":
            got = b.inplace_predict(T, predict_type="margin")
        else:
            got = b.predict(xgb.DMatrix(T, feature_types=["q", "c"], enable_categorical=True),
                            output_margin=True)
        ref = model.predict(T, {"api": api, "type": "margin"}).ravel()
        report(f"xgb categorical codes via {api} (fractional, negative, huge, NaN)",
               int(np.sum(np.asarray(got, F32) != ref)), len(codes))


def probe_xgb_inf():
    import xgboost as xgb
    d = xgb.DMatrix(np.array([[0.0], [1.0], [2.0]]), label=[0.0, 1.0, 2.0])
    b = xgb.train({"max_depth": 1}, d, 1)
    X = np.array([[math.inf], [-math.inf], [1e39]])
    got = b.inplace_predict(X)
    print(f"OK  xgb inplace_predict accepts inf / 1e39: {got.tolist()}")
    try:
        b.predict(xgb.DMatrix(X))
        print("BAD xgb DMatrix accepted inf")
        failures.append("xgb DMatrix inf")
    except xgb.core.XGBoostError as e:
        print(f"OK  xgb DMatrix refuses inf: {str(e).splitlines()[0][-90:]}")


def main():
    probe_xgb_transforms()
    probe_lgb_decisions()
    probe_xgb_categorical()
    probe_xgb_inf()
    if failures:
        print("FAILED:", ", ".join(failures))
        sys.exit(1)
    print("all probes hold")


if __name__ == "__main__":
    main()
