#!/usr/bin/env python3
"""Train a matrix of small xgboost / LightGBM models and write parity fixtures.

For every case this writes, into OUT/<case>/:
  model.json | model.txt   the model file exactly as the library saved it
                           (gzipped to *.gz only when it is over ~1 MB)
  data.json                the input rows, column-oriented, null = missing
  expected.json            the library's own predictions (exact doubles)
  case.json                library, version, objective, parameters, coverage

Each saved file is loaded back and must predict exactly what the in-memory
model predicted, so a fixture is self-consistent.

Old xgboost versions (1.7.x, 2.1.x) are produced by re-running this script
under another interpreter (a venv) with --legacy; the main run does that for
every --old-python given and then checks that the installed xgboost predicts
the same from those old files.

Usage:
  python3 tests/boosters/make-boosters.py --out tests/testthat/fixtures/boosters \\
      --old-python /tmp/xgb17/bin/python --old-python /tmp/xgb21/bin/python
"""

import argparse
import gzip
import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np

GZIP_OVER = 1_000_000  # bytes; fixtures must stay small on disk
THREADS = 2            # the machine is shared: keep training modest


# ----------------------------------------------------------------------------
# small helpers


def exact_list(a):
    """Flatten to a list of Python floats (exact doubles; float32 widened
    exactly), None for NaN. json writes floats with repr, which round-trips."""
    out = []
    for v in np.asarray(a).ravel().tolist():
        v = float(v)
        out.append(None if math.isnan(v) else v)
    return out


def data_list(a):
    """Like exact_list, but JSON has no infinity: written as the strings
    "Infinity" / "-Infinity" (null stays the missing value)."""
    return [v if v is None or math.isfinite(v) else ("Infinity" if v > 0 else "-Infinity")
            for v in exact_list(a)]


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, allow_nan=False, separators=(",", ":"))
        f.write("\n")


def f32_next(x, direction):
    """Next float32 after float32(x) towards +inf (direction>0) or -inf."""
    x = np.float32(x)
    return float(np.nextafter(x, np.float32(np.inf if direction > 0 else -np.inf)))


def f64_next(x, direction):
    return float(np.nextafter(np.float64(x), np.inf if direction > 0 else -np.inf))


def double_rounding_to(t32, direction):
    """A double strictly beside float32 t32 that still rounds to t32 when cast
    to float32: the trap for an importer comparing in double."""
    t = float(np.float32(t32))
    nb = f32_next(t, direction)
    if math.isinf(nb):
        return None
    cand = t + (nb - t) * 0.25  # a quarter ulp away rounds back to t
    assert float(np.float32(cand)) == t and cand != t
    return cand


def gzip_if_big(path):
    if os.path.getsize(path) > GZIP_OVER:
        # mtime=0 and no file name keep the .gz byte-identical across runs
        with open(path, "rb") as fi, open(path + ".gz", "wb") as raw, \
                gzip.GzipFile(filename="", fileobj=raw, mode="wb", compresslevel=9,
                              mtime=0) as fo:
            shutil.copyfileobj(fi, fo)
        os.remove(path)
        return os.path.basename(path) + ".gz"
    return os.path.basename(path)


def same(a, b):
    a = np.asarray(a)
    b = np.asarray(b)
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


# ----------------------------------------------------------------------------
# data


def make_numeric(rng, n, p, nan_frac=0.0, nan_cols=None):
    X = rng.normal(size=(n, p))
    # a couple of columns on other scales, and one with many exact zeros
    if p > 2:
        X[:, 2] = np.round(rng.uniform(-50, 50, size=n), 1)
    if p > 3:
        X[:, 3] = np.where(rng.uniform(size=n) < 0.3, 0.0, rng.exponential(2.0, size=n))
    if nan_frac > 0:
        cols = range(p) if nan_cols is None else nan_cols
        for j in cols:
            X[rng.uniform(size=n) < nan_frac, j] = np.nan
    return X


def signal(X):
    Z = np.nan_to_num(X)
    return Z[:, 0] + 0.5 * Z[:, 1] ** 2 - 0.03 * Z[:, 2] + 0.4 * (Z[:, 3] > 1)


def data_json(X, types, cat_names=None, names=None):
    """Column-oriented rows. types: per column 'numeric' | 'categorical'.
    Categorical columns hold the integer code the library saw (null =
    missing); cat_names gives the code -> name map where the library records
    names."""
    p = X.shape[1]
    names = names or [f"f{j}" for j in range(p)]
    cols = {names[j]: data_list(X[:, j]) for j in range(p)}
    out = {"encoding": "column-major numbers (exact doubles); null = missing (NaN); "
                       "the strings Infinity/-Infinity are infinities",
           "n_rows": int(X.shape[0]), "columns": cols,
           "types": {names[j]: types[j] for j in range(p)}}
    if cat_names:
        out["category_names"] = cat_names
    return out


# ----------------------------------------------------------------------------
# xgboost


def xgb_thresholds(model_json, limit=14):
    """(feature, float32 threshold) pairs of numeric splits, first trees first."""
    learner = model_json["learner"]
    gb = learner["gradient_booster"]
    model = gb["model"] if "model" in gb else gb["gbtree"]["model"]
    seen, out = set(), []
    for tree in model.get("trees", []):
        lefts = tree["left_children"]
        st = tree.get("split_type", [0] * len(lefts))
        for i, l in enumerate(lefts):
            if l == -1 or st[i] != 0:
                continue
            key = (tree["split_indices"][i], tree["split_conditions"][i])
            if key not in seen:
                seen.add(key)
                out.append(key)
            if len(out) >= limit:
                return out
    return out


def xgb_test_rows(rng, Xtrain, types, model_json, n_random=50):
    """Random rows like the training data plus, for the first numeric splits,
    rows with the split feature exactly at the threshold, one float32 ulp
    either side, and doubles that round onto the threshold in float32."""
    p = Xtrain.shape[1]
    idx = rng.choice(Xtrain.shape[0], size=n_random, replace=True)
    rows = [Xtrain[i].copy() for i in idx]
    base = Xtrain[~np.isnan(Xtrain).any(axis=1)]
    base = base if len(base) else np.nan_to_num(Xtrain)
    for f, t in xgb_thresholds(model_json):
        t = float(np.float32(t))
        vals = [t, f32_next(t, +1), f32_next(t, -1),
                double_rounding_to(t, -1), double_rounding_to(t, +1)]
        for v in vals:
            if v is None:
                continue
            r = base[rng.integers(len(base))].copy()
            r[f] = v
            rows.append(r)
    # all missing, and each column missing alone
    rows.append(np.full(p, np.nan))
    for j in range(p):
        r = base[rng.integers(len(base))].copy()
        r[j] = np.nan
        rows.append(r)
    X = np.array(rows, dtype=np.float64)
    cat_cols = [j for j, t in enumerate(types) if t == "categorical"]
    if cat_cols:
        # unseen codes, negative codes, NaN codes, and codes beyond the bitset
        extra = []
        for j in cat_cols:
            seen_max = int(np.nanmax(Xtrain[:, j]))
            for code in (seen_max + 1, seen_max + 7, 40, 1000, -1, -5, np.nan, 0):
                r = base[rng.integers(len(base))].copy()
                r[j] = code
                extra.append(r)
        X = np.vstack([X, np.array(extra)])
    return X


def xgb_calls(kind, has_iter):
    """The prediction calls recorded for a model: (name, spec)."""
    calls = [("margin_inplace", {"api": "inplace", "type": "margin"}),
             ("value_inplace", {"api": "inplace", "type": "value"}),
             ("margin_dmatrix", {"api": "dmatrix", "type": "margin"}),
             ("value_dmatrix", {"api": "dmatrix", "type": "value"})]
    if has_iter:
        calls += [("margin_inplace_range", {"api": "inplace", "type": "margin", "iteration_range": None}),
                  ("value_dmatrix_range", {"api": "dmatrix", "type": "value", "iteration_range": None})]
    return calls


def xgb_predict(xgb, booster, X, spec, dm_kwargs):
    it = tuple(spec["iteration_range"]) if spec.get("iteration_range") else (0, 0)
    if spec["api"] == "inplace":
        ptype = "margin" if spec["type"] == "margin" else "value"
        call = f"inplace_predict(X, predict_type='{ptype}', iteration_range={it})"
        return booster.inplace_predict(X, predict_type=ptype, iteration_range=it), call
    dm = xgb.DMatrix(X, missing=np.nan, **dm_kwargs)
    om = spec["type"] == "margin"
    call = f"predict(DMatrix(X), output_margin={om}, iteration_range={it})"
    return booster.predict(dm, output_margin=om, iteration_range=it), call


def xgb_cases():
    """The xgboost case matrix. Each entry: name, params, rounds, data maker,
    what it covers, minimum version, legacy (also made with old versions)."""
    C = []

    def add(name, params, rounds, covers, data="reg", min_ver=(1, 7), legacy=False,
            it_range=(2, 12), dm_extra=None):
        C.append(dict(name=name, params=params, rounds=rounds, covers=covers, data=data,
                      min_ver=min_ver, legacy=legacy, it_range=it_range))

    add("xgb_reg_squarederror", {"objective": "reg:squarederror", "max_depth": 3}, 30,
        "gbtree, identity link, boost_from_average intercept, NaN in training and prediction, "
        "float32 threshold trap rows, iteration_range", legacy=True)
    add("xgb_reg_squarederror_base_score", {"objective": "reg:squarederror", "max_depth": 4,
                                            "base_score": 0.75}, 25,
        "explicit base_score (boost_from_average off), depth 4")
    add("xgb_reg_squaredlogerror", {"objective": "reg:squaredlogerror", "max_depth": 3}, 25,
        "identity transform, labels > -1", data="pos")
    add("xgb_reg_pseudohubererror", {"objective": "reg:pseudohubererror", "max_depth": 3,
                                     "huber_slope": 1.5}, 25, "identity transform, huber_slope")
    add("xgb_reg_absoluteerror", {"objective": "reg:absoluteerror", "max_depth": 3}, 25,
        "leaf values refreshed by quantile, median intercept")
    add("xgb_reg_logistic", {"objective": "reg:logistic", "max_depth": 3}, 25,
        "sigmoid transform, logit of the intercept", data="unit")
    add("xgb_binary_logistic", {"objective": "binary:logistic", "max_depth": 3}, 30,
        "sigmoid transform, boost_from_average intercept in probability space",
        data="bin", legacy=True)
    add("xgb_binary_logistic_base_score", {"objective": "binary:logistic", "max_depth": 2,
                                           "base_score": 0.3, "scale_pos_weight": 2.0}, 20,
        "explicit base_score=0.3 stored as probability, scale_pos_weight", data="bin")
    add("xgb_binary_logitraw", {"objective": "binary:logitraw", "max_depth": 3}, 25,
        "identity transform of a logit margin", data="bin")
    add("xgb_binary_hinge", {"objective": "binary:hinge", "max_depth": 3}, 25,
        "hinge: value = margin > 0 ? 1 : 0", data="bin")
    add("xgb_count_poisson", {"objective": "count:poisson", "max_depth": 3,
                              "max_delta_step": 0.7}, 25, "exp transform, log intercept",
        data="count", legacy=True)
    add("xgb_reg_gamma", {"objective": "reg:gamma", "max_depth": 3}, 25,
        "exp transform, log intercept", data="pos_strict")
    add("xgb_reg_tweedie", {"objective": "reg:tweedie", "max_depth": 3,
                            "tweedie_variance_power": 1.3}, 25,
        "exp transform, tweedie_variance_power 1.3", data="count")
    add("xgb_survival_cox", {"objective": "survival:cox", "max_depth": 3}, 25,
        "exp transform (hazard ratio), intercept", data="cox")
    add("xgb_survival_aft", {"objective": "survival:aft", "max_depth": 3,
                             "aft_loss_distribution": "logistic",
                             "aft_loss_distribution_scale": 1.2}, 25,
        "AFT: margin; value = exp(margin)", data="aft")
    add("xgb_multi_softprob", {"objective": "multi:softprob", "num_class": 3, "max_depth": 3}, 20,
        "multiclass softmax, per-class trees (tree_info), vector intercept, iteration_range "
        "over whole rounds", data="multi3", legacy=True)
    add("xgb_multi_softmax", {"objective": "multi:softmax", "num_class": 4, "max_depth": 2}, 15,
        "multiclass argmax (first maximum), value is the class index", data="multi4")
    add("xgb_rank_ndcg", {"objective": "rank:ndcg", "max_depth": 3}, 20,
        "ranking margin (identity)", data="rank")
    add("xgb_rank_pairwise", {"objective": "rank:pairwise", "max_depth": 3}, 20,
        "ranking margin (identity)", data="rank")
    add("xgb_quantile_3alpha", {"objective": "reg:quantileerror",
                                "quantile_alpha": [0.2, 0.5, 0.8], "max_depth": 3}, 20,
        "quantile regression with 3 alphas: num_target=3, vector base_score",
        min_ver=(2, 0))
    add("xgb_multi_target", {"objective": "reg:squarederror", "max_depth": 3}, 15,
        "2 targets, one_output_per_tree: tree_info = target index, vector base_score",
        data="mt", min_ver=(2, 0))
    add("xgb_dart", {"booster": "dart", "objective": "reg:squarederror", "max_depth": 3,
                     "rate_drop": 0.3, "skip_drop": 0.0, "sample_type": "uniform",
                     "normalize_type": "tree", "learning_rate": 0.3}, 30,
        "dart with weight_drop != 1; inplace_predict and predict(DMatrix) differ in float "
        "rounding", legacy=True)
    add("xgb_dart_binary", {"booster": "dart", "objective": "binary:logistic", "max_depth": 2,
                            "rate_drop": 0.2, "skip_drop": 0.1, "normalize_type": "forest",
                            "sample_type": "weighted", "base_score": 0.4}, 25,
        "dart + sigmoid + explicit base_score", data="bin")
    add("xgb_gblinear", {"booster": "gblinear", "objective": "reg:squarederror",
                         "lambda": 0.1, "alpha": 0.01, "updater": "coord_descent"}, 20,
        "gblinear regression, NaN = missing skipped", legacy=True, it_range=None)
    add("xgb_gblinear_multiclass", {"booster": "gblinear", "objective": "multi:softprob",
                                    "num_class": 3, "updater": "coord_descent"}, 15,
        "gblinear multiclass: weights num_feature+1 rows x num_class", data="multi3",
        it_range=None)
    add("xgb_gblinear_logistic", {"booster": "gblinear", "objective": "binary:logistic",
                                  "updater": "coord_descent"}, 15,
        "gblinear + sigmoid", data="bin", it_range=None)
    add("xgb_categorical", {"objective": "reg:squarederror", "max_depth": 4,
                            "max_cat_to_onehot": 4, "tree_method": "hist"}, 25,
        "categorical splits: one-hot style (3 categories < max_cat_to_onehot=4) and "
        "partition (12 categories); unseen, negative, NaN codes", data="cat", legacy=True)
    add("xgb_categorical_multi", {"objective": "multi:softprob", "num_class": 3, "max_depth": 3,
                                  "max_cat_to_onehot": 1, "tree_method": "hist"}, 10,
        "partition splits only (max_cat_to_onehot=1) in a multiclass model", data="cat_multi3",
        it_range=(2, 8))
    add("xgb_rf_binary", {"objective": "binary:logistic", "max_depth": 4,
                          "num_parallel_tree": 4, "subsample": 0.7, "colsample_bynode": 0.6,
                          "learning_rate": 1.0}, 3,
        "num_parallel_tree=4 (random forest layers), iteration_range over layers",
        data="bin", it_range=(1, 3), legacy=True)
    add("xgb_multi_parallel", {"objective": "multi:softprob", "num_class": 3, "max_depth": 3,
                               "num_parallel_tree": 2, "subsample": 0.8}, 8,
        "multiclass x num_parallel_tree=2: trees per round = 6", data="multi3", it_range=(2, 5))
    add("xgb_one_tree", {"objective": "reg:squarederror", "max_depth": 2}, 1,
        "a single tree", it_range=None)
    add("xgb_depth8", {"objective": "reg:squarederror", "max_depth": 8, "min_child_weight": 0.5,
                       "grow_policy": "depthwise"}, 20, "deep trees (depth 8)")
    add("xgb_lossguide", {"objective": "reg:squarederror", "max_depth": 0, "max_leaves": 24,
                          "grow_policy": "lossguide", "tree_method": "hist"}, 20,
        "lossguide growth: node ids not in breadth-first order")
    add("xgb_feature_names", {"objective": "binary:logistic", "max_depth": 3}, 20,
        "feature_names and feature_types recorded in the model", data="bin_named")
    add("xgb_bench_500", {"objective": "binary:logistic", "max_depth": 6, "eta": 0.05}, 500,
        "benchmark model: 500 trees of depth 6", data="bench", it_range=(100, 400))
    return C


def xgb_data(kind, rng):
    """Training data (X, y, dmatrix kwargs, column types, extra info)."""
    types = None
    extra = {}
    n = 600
    if kind == "bench":
        n, p = 1000, 8
        X = make_numeric(rng, n, p, nan_frac=0.03)
    elif kind in ("cat", "cat_multi3"):
        p = 5
        X = make_numeric(rng, n, p, nan_frac=0.05, nan_cols=[0, 2])
        X[:, 1] = rng.integers(0, 3, n)
        X[:, 4] = rng.integers(0, 12, n)
        X[rng.uniform(size=n) < 0.05, 4] = np.nan
        types = ["numeric", "categorical", "numeric", "numeric", "categorical"]
    else:
        p = 6
        X = make_numeric(rng, n, p, nan_frac=0.05, nan_cols=[0, 1, 4])
    types = types or ["numeric"] * X.shape[1]
    s = signal(X) + 0.3 * rng.normal(size=n)
    if kind in ("cat", "cat_multi3"):
        s = s + 1.5 * (np.nan_to_num(X[:, 1]) == 1) + 2.0 * np.isin(X[:, 4], [2, 5, 7, 11])
    dmk = {}
    y = s
    if kind in ("pos",):
        y = np.exp(0.3 * s)
    elif kind == "pos_strict":
        y = np.exp(0.4 * s) + 0.01
    elif kind == "unit":
        y = 1 / (1 + np.exp(-s))
    elif kind in ("bin", "bin_named", "bench"):
        y = (s + rng.normal(size=n) > 0.5).astype(float)
    elif kind == "count":
        y = rng.poisson(np.exp(0.3 * s)).astype(float)
    elif kind == "cox":
        t = rng.exponential(np.exp(-0.5 * s))
        y = np.where(rng.uniform(size=n) < 0.25, -t, t)  # negative = censored
    elif kind == "aft":
        t = np.exp(0.5 * s + 0.2 * rng.normal(size=n))
        lo = t.copy()
        hi = np.where(rng.uniform(size=n) < 0.2, np.inf, t)
        extra["aft"] = (lo, hi)
        y = None
    elif kind in ("multi3", "cat_multi3"):
        y = np.digitize(s, np.quantile(s, [1 / 3, 2 / 3])).astype(float)
    elif kind == "multi4":
        y = np.digitize(s, np.quantile(s, [0.25, 0.5, 0.75])).astype(float)
    elif kind == "rank":
        order = np.argsort(rng.integers(0, 60, n), kind="stable")
        X = X[order]
        s = signal(X)
        qid = np.sort(rng.integers(0, 60, n))
        y = np.clip(np.round(s - s.min()) // 2, 0, 4).astype(float)
        dmk["qid"] = qid
    elif kind == "mt":
        y = np.c_[s, np.nan_to_num(X[:, 2]) * 0.05 + rng.normal(size=n)]
    if kind == "bin_named":
        extra["feature_names"] = ["age", "income", "score", "visits", "ratio", "z_last"]
    return X, y, dmk, types, extra


def xgb_make_case(xgb, spec, out_root, prefix, rng_seed):
    ver = xgb.__version__
    name = prefix + spec["name"]
    rng = np.random.default_rng(rng_seed)
    X, y, dmk, types, extra = xgb_data(spec["data"], rng)
    is_cat = "categorical" in types
    ft = ["c" if t == "categorical" else "q" for t in types] if is_cat else None
    dm_kwargs = {}
    if is_cat:
        dm_kwargs = dict(feature_types=ft, enable_categorical=True)
    if "feature_names" in extra:
        dm_kwargs["feature_names"] = extra["feature_names"]
    dtrain = xgb.DMatrix(X, label=y, missing=np.nan, **dm_kwargs, **dmk)
    if "aft" in extra:
        dtrain.set_float_info("label_lower_bound", extra["aft"][0])
        dtrain.set_float_info("label_upper_bound", extra["aft"][1])
    params = dict(spec["params"])
    params.update({"seed": 7, "nthread": THREADS})
    if spec["data"] == "mt" and tuple(int(v) for v in ver.split(".")[:2]) >= (2, 0):
        params["multi_strategy"] = "one_output_per_tree"
    booster = xgb.train(params, dtrain, num_boost_round=spec["rounds"])

    d = os.path.join(out_root, name)
    os.makedirs(d, exist_ok=True)
    raw = os.path.join(d, "model.json")
    booster.save_model(raw)
    with open(raw) as f:
        mj = json.load(f)

    Xt = xgb_test_rows(rng, X, types, mj)
    if spec["data"] == "bench":
        Xt = Xt[:200]
    it = spec["it_range"]
    n_rounds = spec["rounds"]
    calls = xgb_calls(spec["data"], it is not None and n_rounds > 1)
    reloaded = xgb.Booster(model_file=raw)
    reloaded.set_param({"nthread": THREADS})
    expected, consistent, problems = [], True, []
    for cname, cspec in calls:
        cspec = dict(cspec)
        if "iteration_range" in cspec:
            cspec["iteration_range"] = list(it)
        try:
            a, call = xgb_predict(xgb, booster, Xt, cspec, dm_kwargs)
        except Exception as e:  # e.g. gblinear has no inplace path in some versions
            msg = str(e).splitlines()[0]
            msg = msg.split(": ", 1)[-1] if "]" in msg else msg  # drop timestamp/path
            problems.append(f"{cname}: not recorded, {type(e).__name__}: {msg[:100]}")
            continue
        b, _ = xgb_predict(xgb, reloaded, Xt, cspec, dm_kwargs)
        a = np.asarray(a)
        if not same(a, b):
            consistent = False
            problems.append(f"{cname}: reloaded model predicts differently")
        expected.append({"name": cname, "call": call, "spec": cspec,
                         "dtype": str(a.dtype), "shape": list(a.shape),
                         "values": exact_list(a)})
    model_file = gzip_if_big(raw)

    cfg = json.loads(booster.save_config())
    learner = mj["learner"]
    gb = learner["gradient_booster"]
    n_trees = None
    if gb["name"] in ("gbtree", "dart"):
        m = gb["model"] if gb["name"] == "gbtree" else gb["gbtree"]["model"]
        n_trees = len(m["trees"])
    case = {
        "case": name, "library": "xgboost", "library_version": ver,
        "model_file": model_file, "objective": params.get("objective"),
        "booster": params.get("booster", "gbtree"),
        "parameters": {k: v for k, v in params.items() if k != "nthread"},
        "num_boost_round": n_rounds, "num_trees": n_trees,
        "num_feature": int(learner["learner_model_param"]["num_feature"]),
        "base_score_in_file": learner["learner_model_param"]["base_score"],
        "n_train_rows": int(X.shape[0]), "n_rows": int(Xt.shape[0]),
        "covers": spec["covers"], "self_consistent": consistent, "notes": problems,
        "learner_config_objective": cfg["learner"]["objective"],
    }
    write_json(os.path.join(d, "data.json"), data_json(Xt, types, names=extra.get("feature_names")))
    write_json(os.path.join(d, "expected.json"), {"case": name, "predictions": expected})
    write_json(os.path.join(d, "case.json"), case)
    return case


def run_xgb(out, legacy, only):
    import xgboost as xgb
    ver = tuple(int(v) for v in xgb.__version__.split(".")[:2])
    prefix = f"xgb{ver[0]}{ver[1]}_" if legacy else ""
    rows = []
    for i, spec in enumerate(xgb_cases()):
        if legacy and not spec["legacy"]:
            continue
        if ver < spec["min_ver"]:
            continue
        if only and only not in spec["name"]:
            continue
        if SKIP and SKIP in spec["name"]:
            continue
        if legacy:
            spec = dict(spec)
            spec["name"] = spec["name"][len("xgb_"):]
        rows.append(xgb_make_case(xgb, spec, out, prefix if legacy else "", 1000 + i))
    return rows


def check_legacy_with_current(out):
    """Load every old-version xgboost file with the installed xgboost and
    compare with what the old version predicted."""
    import xgboost as xgb
    res = []
    for name in sorted(os.listdir(out)):
        cj = os.path.join(out, name, "case.json")
        if not (name.startswith("xgb1") or name.startswith("xgb2")) or not os.path.exists(cj):
            continue
        with open(cj) as f:
            case = json.load(f)
        path = os.path.join(out, name, case["model_file"])
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                b = xgb.Booster(model_file=bytearray(f.read()))
        else:
            b = xgb.Booster(model_file=path)
        with open(os.path.join(out, name, "data.json")) as f:
            dj = json.load(f)
        with open(os.path.join(out, name, "expected.json")) as f:
            ej = json.load(f)
        cols = list(dj["columns"])
        X = np.array([[np.nan if v is None else v for v in dj["columns"][c]] for c in cols]).T
        types = [dj["types"][c] for c in cols]
        dmk = {}
        if "categorical" in types:
            dmk = dict(feature_types=["c" if t == "categorical" else "q" for t in types],
                       enable_categorical=True)
        diffs = []
        for e in ej["predictions"]:
            a, _ = xgb_predict(xgb, b, X, e["spec"], dmk)
            want = np.array([np.nan if v is None else v for v in e["values"]])
            if not np.array_equal(np.asarray(a, dtype=np.float64).ravel(), want, equal_nan=True):
                diffs.append(e["name"])
        case["current_xgboost_version"] = xgb.__version__
        case["current_xgboost_predicts_same"] = not diffs
        case["current_xgboost_differs_on"] = diffs
        write_json(cj, case)
        res.append((name, xgb.__version__, not diffs, diffs))
    return res


# ----------------------------------------------------------------------------
# LightGBM


def lgb_cases():
    C = []

    def add(name, params, rounds, covers, data="reg", ranges=((0, 10), (5, 10)), cat=False):
        C.append(dict(name=name, params=params, rounds=rounds, covers=covers, data=data,
                      ranges=ranges, cat=cat))

    add("lgb_regression", {"objective": "regression"}, 30,
        "L2; NaN in training -> missing_type NaN; num_iteration / start_iteration")
    add("lgb_regression_sqrt", {"objective": "regression", "reg_sqrt": True}, 20,
        "reg_sqrt: objective line 'regression sqrt', response = sign(x) * x^2")
    add("lgb_regression_l1", {"objective": "regression_l1"}, 25, "L1, identity transform")
    add("lgb_huber", {"objective": "huber", "alpha": 1.2}, 25, "huber, identity transform")
    add("lgb_fair", {"objective": "fair", "fair_c": 0.8}, 25, "fair, identity transform")
    add("lgb_quantile", {"objective": "quantile", "alpha": 0.8}, 25, "quantile, identity")
    add("lgb_mape", {"objective": "mape"}, 25, "mape, identity", data="pos")
    add("lgb_poisson", {"objective": "poisson"}, 25, "exp transform", data="count")
    add("lgb_gamma", {"objective": "gamma"}, 25, "exp transform", data="pos")
    add("lgb_tweedie", {"objective": "tweedie", "tweedie_variance_power": 1.4}, 25,
        "exp transform, tweedie_variance_power in the objective line", data="count")
    add("lgb_binary", {"objective": "binary"}, 30, "sigmoid with sigmoid:1", data="bin")
    add("lgb_binary_sigmoid", {"objective": "binary", "sigmoid": 0.7}, 20,
        "sigmoid parameter 0.7 in the objective line", data="bin")
    add("lgb_multiclass", {"objective": "multiclass", "num_class": 3}, 20,
        "softmax over num_tree_per_iteration=3 trees per iteration", data="multi3")
    add("lgb_multiclassova", {"objective": "multiclassova", "num_class": 3, "sigmoid": 1.3}, 20,
        "per-class sigmoid with sigmoid:1.3", data="multi3")
    add("lgb_cross_entropy", {"objective": "cross_entropy"}, 25,
        "cross_entropy (xentropy): sigmoid without parameter", data="unit")
    add("lgb_cross_entropy_lambda", {"objective": "cross_entropy_lambda"}, 20,
        "xentlambda: log1p(exp(x))", data="unit")
    add("lgb_lambdarank", {"objective": "lambdarank"}, 20, "ranking raw score", data="rank")
    add("lgb_missing_zero", {"objective": "regression", "zero_as_missing": True}, 25,
        "zero_as_missing: missing_type Zero, NaN and |x| <= 1e-35 take the default child",
        data="zeros")
    add("lgb_missing_none", {"objective": "regression", "use_missing": False}, 25,
        "use_missing=false: missing_type None, NaN treated as 0 at prediction")
    add("lgb_missing_nan_default_left", {"objective": "binary", "num_leaves": 8,
                                         "min_data_in_leaf": 5}, 25,
        "missing_type NaN with both default_left values; zeros as ordinary values",
        data="bin_nan_heavy")
    add("lgb_dart", {"objective": "regression", "boosting": "dart", "drop_rate": 0.3,
                     "skip_drop": 0.0}, 30, "dart: leaf values already rescaled in the file")
    add("lgb_dart_binary", {"objective": "binary", "boosting": "dart", "drop_rate": 0.2}, 25,
        "dart + sigmoid", data="bin")
    add("lgb_rf", {"objective": "regression", "boosting": "rf", "bagging_fraction": 0.7,
                   "bagging_freq": 1, "feature_fraction": 0.7}, 20,
        "rf: average_output, the sum is divided by the number of iterations used")
    add("lgb_rf_binary", {"objective": "binary", "boosting": "rf", "bagging_fraction": 0.6,
                          "bagging_freq": 1}, 15, "rf + sigmoid (average then sigmoid)",
        data="bin")
    add("lgb_categorical", {"objective": "regression", "max_cat_to_onehot": 4,
                            "cat_smooth": 1.0, "min_data_per_group": 5, "cat_l2": 1.0}, 25,
        "categorical bitset splits (one-hot style and many-vs-many); unseen, negative, NaN",
        data="cat", cat=True)
    add("lgb_categorical_multiclass", {"objective": "multiclass", "num_class": 3,
                                       "min_data_per_group": 5}, 10,
        "categorical splits in a multiclass model", data="cat_multi3", cat=True)
    add("lgb_one_tree", {"objective": "regression", "num_leaves": 4}, 1, "a single tree",
        ranges=())
    add("lgb_constant_tree", {"objective": "regression", "min_data_in_leaf": 1000}, 3,
        "trees with a single leaf (num_leaves=1, no split arrays)", ranges=())
    add("lgb_linear_tree", {"objective": "regression", "linear_tree": True}, 10,
        "linear_tree=true: must be refused by name", ranges=())
    add("lgb_bench_500", {"objective": "binary", "num_leaves": 63, "max_depth": 6,
                          "learning_rate": 0.05}, 500, "benchmark model: 500 trees depth 6",
        data="bench", ranges=((0, 100), (100, 300)))
    return C


def lgb_data(kind, rng):
    n = 600
    types = None
    extra = {}
    if kind == "bench":
        n, p = 1000, 8
        X = make_numeric(rng, n, p, nan_frac=0.03)
    elif kind in ("cat", "cat_multi3"):
        p = 5
        X = make_numeric(rng, n, p, nan_frac=0.05, nan_cols=[0, 2])
        X[:, 1] = rng.integers(0, 3, n)
        X[:, 4] = rng.integers(0, 15, n)
        X[rng.uniform(size=n) < 0.05, 4] = np.nan
        types = ["numeric", "categorical", "numeric", "numeric", "categorical"]
    elif kind == "zeros":
        p = 5
        X = make_numeric(rng, n, p, nan_frac=0.05, nan_cols=[0, 1])
        X[rng.uniform(size=n) < 0.3, 0] = 0.0
        X[rng.uniform(size=n) < 0.3, 1] = 0.0
    elif kind == "bin_nan_heavy":
        p = 5
        X = make_numeric(rng, n, p, nan_frac=0.25, nan_cols=[0, 1, 2])
    else:
        p = 6
        X = make_numeric(rng, n, p, nan_frac=0.05, nan_cols=[0, 1, 4])
    types = types or ["numeric"] * X.shape[1]
    s = signal(X) + 0.3 * rng.normal(size=n)
    if kind in ("cat", "cat_multi3"):
        s = s + 1.5 * (np.nan_to_num(X[:, 1]) == 1) + 2.0 * np.isin(X[:, 4], [2, 5, 7, 11, 13])
    if kind == "bin_nan_heavy":
        s = s + 1.5 * np.isnan(X[:, 0]) - 1.5 * np.isnan(X[:, 1])
    group = None
    y = s
    if kind == "pos":
        y = np.exp(0.4 * s) + 0.05
    elif kind in ("bin", "bench", "bin_nan_heavy"):
        y = (s + rng.normal(size=n) > 0.5).astype(float)
    elif kind == "count":
        y = rng.poisson(np.exp(0.3 * s)).astype(float)
    elif kind == "unit":
        y = 1 / (1 + np.exp(-s))
    elif kind in ("multi3", "cat_multi3"):
        y = np.digitize(s, np.quantile(s, [1 / 3, 2 / 3])).astype(float)
    elif kind == "rank":
        y = np.clip(np.round(s - s.min()) // 2, 0, 4).astype(float)
        sizes = []
        left = n
        while left > 0:
            k = int(min(left, rng.integers(5, 20)))
            sizes.append(k)
            left -= k
        group = sizes
    return X, y, types, group, extra


def lgb_thresholds(booster, limit=14):
    dump = booster.dump_model()
    out, seen = [], set()

    def walk(node):
        if len(out) >= limit or "split_index" not in node:
            return
        if node["decision_type"] == "<=":
            key = (node["split_feature"], float(node["threshold"]))
            if key not in seen:
                seen.add(key)
                out.append(key)
        walk(node["left_child"])
        walk(node["right_child"])

    for t in dump["tree_info"]:
        walk(t["tree_structure"])
    return out


def lgb_test_rows(rng, Xtrain, types, booster, n_random=50):
    p = Xtrain.shape[1]
    idx = rng.choice(Xtrain.shape[0], size=n_random, replace=True)
    rows = [Xtrain[i].copy() for i in idx]
    base = Xtrain[~np.isnan(Xtrain).any(axis=1)]
    num_cols = [j for j, t in enumerate(types) if t == "numeric"]
    # LightGBM writes thresholds with %.17g, so the double in the file is exact
    for f, t in lgb_thresholds(booster):
        near = [t, f64_next(t, +1), f64_next(t, -1)]
        if abs(t) < 3e38:
            near.append(float(np.float32(t)))  # what a float32 importer would compare
        for v in near:
            r = base[rng.integers(len(base))].copy()
            r[f] = v
            rows.append(r)
    # zero, the kZeroThreshold band (1e-35f), and NaN in every numeric column
    kz = float(np.float32(1e-35))
    for j in num_cols:
        for v in (0.0, -0.0, 1e-36, -1e-36, kz, -kz, f64_next(kz, +1), f64_next(-kz, -1),
                  np.nan, np.inf, -np.inf):
            r = base[rng.integers(len(base))].copy()
            r[j] = v
            rows.append(r)
    rows.append(np.full(p, np.nan))
    rows.append(np.zeros(p))
    for j, t in enumerate(types):
        if t != "categorical":
            continue
        seen_max = int(np.nanmax(Xtrain[:, j]))
        for code in (seen_max + 1, seen_max + 20, 31, 32, 33, 64, 1000, -1, -7, np.nan, 0, 2.7,
                     -0.5):
            r = base[rng.integers(len(base))].copy()
            r[j] = code
            rows.append(r)
    return np.array(rows, dtype=np.float64)


def lgb_make_case(lgb, spec, out_root, seed):
    name = spec["name"]
    rng = np.random.default_rng(seed)
    X, y, types, group, extra = lgb_data(spec["data"], rng)
    params = {"verbosity": -1, "num_threads": THREADS, "seed": 11, "deterministic": True,
              "num_leaves": 15, "min_data_in_leaf": 10}
    params.update(spec["params"])
    cat_idx = [j for j, t in enumerate(types) if t == "categorical"]
    ds = lgb.Dataset(X, label=y, group=group,
                     categorical_feature=cat_idx if cat_idx else "auto", free_raw_data=False)
    booster = lgb.train(params, ds, num_boost_round=spec["rounds"])
    d = os.path.join(out_root, name)
    os.makedirs(d, exist_ok=True)
    raw = os.path.join(d, "model.txt")
    booster.save_model(raw)
    Xt = lgb_test_rows(rng, X, types, booster)
    if spec["data"] == "bench":
        Xt = Xt[:200]
    calls = [("raw", {"raw_score": True}), ("response", {"raw_score": False})]
    for (s, k) in spec["ranges"]:
        calls.append((f"raw_start{s}_num{k}", {"raw_score": True, "start_iteration": s,
                                                "num_iteration": k}))
        calls.append((f"response_start{s}_num{k}", {"raw_score": False, "start_iteration": s,
                                                     "num_iteration": k}))
    reloaded = lgb.Booster(model_file=raw)
    expected, consistent, problems = [], True, []
    for cname, c in calls:
        kw = dict(c)
        a = booster.predict(Xt, num_threads=THREADS, **kw)
        b = reloaded.predict(Xt, num_threads=THREADS, **kw)
        if not same(a, b):
            consistent = False
            problems.append(f"{cname}: reloaded model predicts differently")
        args = ", ".join(f"{k}={v!r}" for k, v in kw.items())
        expected.append({"name": cname, "call": f"predict(X, {args})", "spec": c,
                         "dtype": str(a.dtype), "shape": list(a.shape),
                         "values": data_list(a)})
    model_file = gzip_if_big(raw)
    case = {
        "case": name, "library": "lightgbm", "library_version": lgb.__version__,
        "model_file": model_file, "objective": params["objective"],
        "boosting": params.get("boosting", "gbdt"),
        "parameters": {k: v for k, v in params.items() if k not in ("num_threads", "verbosity")},
        "num_boost_round": spec["rounds"], "num_trees": booster.num_trees(),
        "num_feature": booster.num_feature(), "categorical_feature": cat_idx,
        "n_train_rows": int(X.shape[0]), "n_rows": int(Xt.shape[0]),
        "covers": spec["covers"], "self_consistent": consistent, "notes": problems,
    }
    write_json(os.path.join(d, "data.json"), data_json(Xt, types))
    write_json(os.path.join(d, "expected.json"), {"case": name, "predictions": expected})
    write_json(os.path.join(d, "case.json"), case)
    return case


def run_lgb(out, only):
    import lightgbm as lgb
    rows = []
    for i, spec in enumerate(lgb_cases()):
        if only and only not in spec["name"]:
            continue
        if SKIP and SKIP in spec["name"]:
            continue
        rows.append(lgb_make_case(lgb, spec, out, 2000 + i))
    return rows


# ----------------------------------------------------------------------------
# pandas: the cases where the libraries record category names


def run_pandas(out, only):
    try:
        import pandas as pd
    except ImportError:
        print("pandas not importable: skipping the category-name cases", file=sys.stderr)
        return []
    import lightgbm as lgb
    import xgboost as xgb
    rows = []
    rng = np.random.default_rng(3000)
    n = 500
    levels = ["red", "green", "blue", "cyan", "magenta", "yellow", "black"]
    # categories deliberately not sorted, so name order != code order matters
    colour = rng.choice(levels, n)
    size = rng.choice(["S", "M", "L"], n)
    x0 = rng.normal(size=n)
    y = x0 + 2.0 * np.isin(colour, ["blue", "black", "cyan"]) + 1.0 * (size == "M") + \
        0.2 * rng.normal(size=n)
    df = pd.DataFrame({"x0": x0,
                       "colour": pd.Categorical(colour, categories=levels),
                       "size": pd.Categorical(size, categories=["S", "M", "L"])})
    # prediction rows: seen names, an unseen name (-> NaN code), missing
    tc = list(rng.choice(levels, 60)) + ["purple", None, "red"]
    ts = list(rng.choice(["S", "M", "L"], 60)) + ["M", "XL", None]
    tx = list(rng.normal(size=60)) + [0.1, np.nan, -0.3]
    tdf = pd.DataFrame({"x0": tx, "colour": pd.Categorical(tc, categories=levels),
                        "size": pd.Categorical(ts, categories=["S", "M", "L"])})
    codes = np.c_[np.asarray(tdf["x0"], float),
                  np.where(tdf["colour"].cat.codes < 0, np.nan, tdf["colour"].cat.codes),
                  np.where(tdf["size"].cat.codes < 0, np.nan, tdf["size"].cat.codes)]
    names = {"colour": levels, "size": ["S", "M", "L"]}
    raw_names = {"colour": [None if v is None else str(v) for v in tc],
                 "size": [None if v is None else str(v) for v in ts]}
    types = ["numeric", "categorical", "categorical"]
    cols = ["x0", "colour", "size"]

    if not only or only in "xgb_pandas_categorical":
        name = "xgb_pandas_categorical"
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        params = {"objective": "reg:squarederror", "max_depth": 3, "max_cat_to_onehot": 4,
                  "seed": 7, "nthread": THREADS, "tree_method": "hist"}
        b = xgb.train(params, xgb.DMatrix(df, y, enable_categorical=True), 20)
        raw = os.path.join(d, "model.json")
        b.save_model(raw)
        b2 = xgb.Booster(model_file=raw)
        exp, ok = [], True
        for cname, ptype in (("margin_inplace", "margin"), ("value_inplace", "value")):
            a = b.inplace_predict(tdf, predict_type=ptype)
            ok &= same(a, b2.inplace_predict(tdf, predict_type=ptype))
            exp.append({"name": cname, "call": f"inplace_predict(df, predict_type='{ptype}')",
                        "spec": {"api": "inplace", "type": ptype}, "dtype": str(a.dtype),
                        "shape": list(a.shape), "values": exact_list(a)})
        dj = data_json(codes, types, cat_names=names, names=cols)
        dj["category_values"] = raw_names
        write_json(os.path.join(d, "data.json"), dj)
        write_json(os.path.join(d, "expected.json"), {"case": name, "predictions": exp})
        case = {"case": name, "library": "xgboost", "library_version": xgb.__version__,
                "model_file": gzip_if_big(raw), "objective": params["objective"],
                "booster": "gbtree", "parameters": params, "num_boost_round": 20,
                "num_trees": 20, "num_feature": 3, "n_train_rows": n,
                "n_rows": int(codes.shape[0]),
                "covers": "pandas categorical training: category names recorded in the "
                          "model ('cats'); prediction from a DataFrame is re-coded by name; "
                          "unseen name and None are missing",
                "self_consistent": bool(ok), "notes": []}
        write_json(os.path.join(d, "case.json"), case)
        rows.append(case)

    if not only or only in "lgb_pandas_categorical":
        name = "lgb_pandas_categorical"
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        params = {"objective": "regression", "verbosity": -1, "num_threads": THREADS,
                  "seed": 11, "deterministic": True, "num_leaves": 15, "min_data_in_leaf": 10,
                  "min_data_per_group": 5}
        b = lgb.train(params, lgb.Dataset(df, y), 20)
        raw = os.path.join(d, "model.txt")
        b.save_model(raw)
        b2 = lgb.Booster(model_file=raw)
        exp, ok = [], True
        for cname, rs in (("raw", True), ("response", False)):
            a = b.predict(tdf, raw_score=rs, num_threads=THREADS)
            ok &= same(a, b2.predict(tdf, raw_score=rs, num_threads=THREADS))
            exp.append({"name": cname, "call": f"predict(df, raw_score={rs})",
                        "spec": {"raw_score": rs}, "dtype": str(a.dtype),
                        "shape": list(a.shape), "values": exact_list(a)})
        dj = data_json(codes, types, cat_names=names, names=cols)
        dj["category_values"] = raw_names
        write_json(os.path.join(d, "data.json"), dj)
        write_json(os.path.join(d, "expected.json"), {"case": name, "predictions": exp})
        case = {"case": name, "library": "lightgbm", "library_version": lgb.__version__,
                "model_file": gzip_if_big(raw), "objective": "regression",
                "boosting": "gbdt", "parameters": params, "num_boost_round": 20,
                "num_trees": b.num_trees(), "num_feature": 3, "n_train_rows": n,
                "n_rows": int(codes.shape[0]),
                "covers": "pandas categorical training: pandas_categorical line with the "
                          "category names; prediction from a DataFrame re-coded by name",
                "self_consistent": bool(ok), "notes": []}
        write_json(os.path.join(d, "case.json"), case)
        rows.append(case)
    return rows


# ----------------------------------------------------------------------------


def print_table(rows):
    print(f"{'case':38} {'library':9} {'version':8} {'trees':>5} {'rows':>5} {'preds':>5} self")
    for c in rows:
        n_pred = 0
        p = os.path.join(OUT, c["case"], "expected.json")
        if os.path.exists(p):
            with open(p) as f:
                n_pred = len(json.load(f)["predictions"])
        print(f"{c['case']:38} {c['library']:9} {c['library_version']:8} "
              f"{str(c['num_trees']):>5} {c['n_rows']:>5} {n_pred:>5} "
              f"{'OK' if c['self_consistent'] else 'MISMATCH'}")
        for note in c.get("notes", []):
            print(f"    note: {note}")


def main():
    global OUT, SKIP
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__)
    ap.add_argument("--out", required=True, help="fixture root, e.g. tests/testthat/fixtures/boosters")
    ap.add_argument("--only", default=None, help="make only cases whose name contains this")
    ap.add_argument("--skip", default=None,
                    help="leave out cases whose name contains this (the R test that "
                         "regenerates the fixtures skips 'bench', the two 500-tree models)")
    ap.add_argument("--old-python", action="append", default=[],
                    help="an interpreter with an old xgboost (repeatable), run with --legacy")
    ap.add_argument("--legacy", action="store_true",
                    help="(internal) only the xgboost cases kept for old versions, prefixed "
                         "xgbMm_")
    ap.add_argument("--no-lightgbm", action="store_true")
    ap.add_argument("--no-xgboost", action="store_true")
    args = ap.parse_args()
    OUT = args.out
    SKIP = args.skip
    os.makedirs(args.out, exist_ok=True)
    rows = []
    if args.legacy:
        rows += run_xgb(args.out, legacy=True, only=args.only)
        print_table(rows)
        return
    if not args.no_xgboost:
        rows += run_xgb(args.out, legacy=False, only=args.only)
    if not args.no_lightgbm:
        rows += run_lgb(args.out, args.only)
    rows += run_pandas(args.out, args.only)
    print_table(rows)
    for py in args.old_python:
        print(f"\n== {py}")
        r = subprocess.run([py, os.path.abspath(__file__), "--out", args.out, "--legacy"] +
                           (["--only", args.only] if args.only else []) +
                           (["--skip", args.skip] if args.skip else []))
        if r.returncode != 0:
            print(f"   {py} failed with status {r.returncode}")
    if args.old_python:
        print("\n== old-version files loaded by the installed xgboost")
        for name, ver, ok, diffs in check_legacy_with_current(args.out):
            print(f"{name:38} xgboost {ver}: {'same' if ok else 'DIFFERS: ' + ','.join(diffs)}")
    bad = [c["case"] for c in rows if not c["self_consistent"]]
    if bad:
        print("not self-consistent:", ", ".join(bad))
        sys.exit(1)


OUT = None
SKIP = None
if __name__ == "__main__":
    main()
