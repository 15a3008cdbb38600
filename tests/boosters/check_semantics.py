#!/usr/bin/env python3
"""Reference evaluator for the booster fixtures: reads the saved model FILES
(never the libraries) and reproduces every expected.json.

xgboost must match bit for bit (float32 where xgboost computes in float);
LightGBM within 1e-12 relative (it sums in double). The rules implemented
here are the ones written out in tests/boosters/SEMANTICS.md; the section
numbers in comments (S-x.y) point there. Prints one line per case: OK,
REFUSED (with the reason, for models the importer must refuse by name), or
the first mismatch.

Usage: python3 tests/boosters/check_semantics.py [--fixtures DIR] [--only SUBSTR]
"""

import argparse
import ctypes
import ctypes.util
import gzip
import json
import math
import os
import sys

import numpy as np

F32 = np.float32
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_FIXTURES = os.path.join(HERE, "..", "testthat", "fixtures", "boosters")

# xgboost calls the C library's single-precision expf/logf (S-2.6). numpy's
# float32 exp is its own SIMD code and can differ in the last bit, so call
# libm itself.
_libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
for _fn in ("expf", "logf"):
    getattr(_libm, _fn).restype = ctypes.c_float
    getattr(_libm, _fn).argtypes = [ctypes.c_float]
_libm.exp.restype = ctypes.c_double
_libm.exp.argtypes = [ctypes.c_double]


def expf(x):
    return F32(_libm.expf(float(x)))


def logf(x):
    return F32(_libm.logf(float(x)))


class Refused(Exception):
    """A model the importer must refuse by name."""


def load_json(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        return json.load(f)


def read_text(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        return f.read()


def data_matrix(dj):
    """Rows x columns of doubles, NaN for null, +-inf for the strings."""
    cols = list(dj["columns"])

    def num(v):
        if v is None:
            return math.nan
        if isinstance(v, str):
            return {"Infinity": math.inf, "-Infinity": -math.inf}[v]
        return float(v)

    return np.array([[num(v) for v in dj["columns"][c]] for c in cols], dtype=np.float64).T


# ============================================================================
# xgboost


XGB_OBJECTIVES = {
    # name: (ProbToMargin of base_score, transform)          S-2.5, S-2.6
    "reg:squarederror": ("identity", "identity"),
    "reg:squaredlogerror": ("identity", "identity"),
    "reg:pseudohubererror": ("identity", "identity"),
    "reg:absoluteerror": ("identity", "identity"),
    "reg:quantileerror": ("identity", "identity"),
    "reg:logistic": ("logit", "sigmoid"),
    "binary:logistic": ("logit", "sigmoid"),
    "binary:logitraw": ("identity", "identity"),
    "binary:hinge": ("identity", "hinge"),
    "count:poisson": ("log", "expf"),
    "reg:gamma": ("log", "expf"),
    "reg:tweedie": ("log", "expf"),
    "survival:cox": ("log", "expf"),
    "survival:aft": ("log", "expf"),
    "multi:softprob": ("identity", "softmax"),
    "multi:softmax": ("identity", "argmax"),
    "rank:pairwise": ("identity", "identity"),
    "rank:ndcg": ("identity", "identity"),
    "rank:map": ("identity", "identity"),
}


def parse_base_score(s):
    """'5E-1' (1.x/2.x) or '[5E-1]' / '[a,b,c]' (3.x), float32 text (S-1.3)."""
    s = s.strip()
    if s.startswith("["):
        s = s[1:-1]
    return [F32(float(v)) for v in s.split(",") if v.strip()]


def xgb_prob_to_margin(kind, v):
    if kind == "identity":
        return F32(v)
    if kind == "log":
        return logf(v)
    if kind == "logit":
        k_rt_eps = F32(1e-6)
        v = min(max(F32(v), k_rt_eps), F32(1.0) - k_rt_eps)
        return F32(-logf(F32(F32(1.0) / v) - F32(1.0)))
    raise ValueError(kind)


class XgbTree:
    def __init__(self, t):
        self.left = t["left_children"]
        self.right = t["right_children"]
        self.feat = t["split_indices"]
        self.cond = [F32(v) for v in t["split_conditions"]]
        self.dleft = t["default_left"]
        n = len(self.left)
        self.cats = [None] * n
        st = t.get("split_type", [0] * n)
        segs = t.get("categories_segments", [])
        sizes = t.get("categories_sizes", [])
        allc = t.get("categories", [])
        for k, node in enumerate(t.get("categories_nodes", [])):
            beg = segs[k]
            self.cats[node] = frozenset(allc[beg:beg + sizes[k]])
        for i in range(n):
            if st[i] == 1 and self.cats[i] is None:
                raise ValueError("categorical node without categories")
        if int(t["tree_param"].get("size_leaf_vector", "1")) > 1:
            raise Refused("multi_output_tree (vector leaves)")

    def leaf(self, x32, miss):
        """S-2.2: walk with float32 inputs; missing -> default child;
        numeric: x < cond goes left; categorical: in the set goes right."""
        i = 0
        while self.left[i] != -1:
            f = self.feat[i]
            if miss[f]:
                i = self.left[i] if self.dleft[i] else self.right[i]
                continue
            v = x32[f]
            cs = self.cats[i]
            if cs is None:
                go_left = v < self.cond[i]
            else:
                # S-2.3: invalid (negative or >= 2^24) -> left; else truncate
                if v < 0 or v >= F32(16777216):
                    go_left = True
                else:
                    go_left = int(v) not in cs
            i = self.left[i] if go_left else self.right[i]
        return self.cond[i]  # the leaf value is stored in split_conditions


class XgbModel:
    def __init__(self, mj):
        learner = mj["learner"]
        self.version = tuple(mj.get("version", [0, 0, 0]))
        if self.version[0] not in (1, 2, 3):
            raise Refused(f"xgboost version {self.version}")
        lmp = learner["learner_model_param"]
        self.num_feature = int(lmp["num_feature"])
        self.num_class = int(lmp["num_class"])
        self.num_target = int(lmp.get("num_target", "1"))
        self.n_out = max(self.num_class, self.num_target, 1)
        obj = learner["objective"]
        self.objective = obj["name"]
        if self.objective not in XGB_OBJECTIVES:
            raise Refused(f"objective {self.objective}")
        p2m, self.transform = XGB_OBJECTIVES[self.objective]
        bs = parse_base_score(lmp["base_score"])
        if len(bs) == 1:
            bs = bs * self.n_out  # before 3.1 the intercept is a scalar for every output
        if len(bs) != self.n_out:
            raise ValueError("base_score length")
        self.base = [xgb_prob_to_margin(p2m, v) for v in bs]  # S-1.3
        gb = learner["gradient_booster"]
        self.booster = gb["name"]
        if self.booster == "gblinear":
            w = gb["model"]["weights"]
            self.weights = [F32(v) for v in w]
            return
        if self.booster == "dart":
            self.weight_drop = [F32(v) for v in gb["weight_drop"]]
            model = gb["gbtree"]["model"]
        elif self.booster == "gbtree":
            self.weight_drop = None
            model = gb["model"]
        else:
            raise Refused(f"booster {self.booster}")
        trees = [None] * len(model["trees"])
        for t in model["trees"]:
            trees[t["id"]] = XgbTree(t)
        self.trees = trees
        self.tree_info = model["tree_info"]
        npt = int(model["gbtree_model_param"].get("num_parallel_tree", "1"))
        if "iteration_indptr" in model:
            self.indptr = model["iteration_indptr"]
        else:  # 1.x: every round has num_parallel_tree * n_out trees (S-2.8)
            per = npt * self.n_out
            self.indptr = list(range(0, len(trees) + 1, per))

    def tree_range(self, it):
        if not it or (it[0] == 0 and it[1] == 0):
            return 0, len(self.trees)
        a, b = it
        if b == 0:
            b = len(self.indptr) - 1
        return self.indptr[a], self.indptr[b]

    def margin(self, X, spec):
        n = X.shape[0]
        out = np.zeros((n, self.n_out), dtype=F32)
        # inputs are cast to float32 on entry (S-2.1)
        with np.errstate(over="ignore"):
            X32 = X.astype(F32)
        miss = np.isnan(X)
        if self.booster == "gblinear":
            return self.gblinear(X32, miss)
        t0, t1 = self.tree_range(spec.get("iteration_range"))
        for r in range(n):
            x32, m = X32[r].tolist(), miss[r].tolist()
            x32 = [F32(v) for v in x32]
            acc = [F32(b) for b in self.base]
            for t in range(t0, t1):
                g = self.tree_info[t]
                leaf = self.trees[t].leaf(x32, m)
                if self.weight_drop is None:
                    acc[g] = F32(acc[g] + leaf)
                elif spec["api"] == "inplace":
                    # S-2.7: inplace path predicts each tree on top of base_score,
                    # then subtracts base_score again before weighting
                    p = F32(self.base[g] + leaf)
                    acc[g] = F32(acc[g] + F32(F32(p - self.base[g]) * self.weight_drop[t]))
                else:
                    acc[g] = F32(acc[g] + F32(leaf * self.weight_drop[t]))
            out[r] = acc
        return out

    def gblinear(self, X32, miss):
        # S-3: psum = bias + base_score[0]; += x * w over present features, in float
        n, p = X32.shape
        K = self.n_out
        out = np.zeros((n, K), dtype=F32)
        for r in range(n):
            for g in range(K):
                psum = F32(self.weights[self.num_feature * K + g] + self.base[0])
                for j in range(min(p, self.num_feature)):
                    if miss[r, j]:
                        continue
                    psum = F32(psum + F32(X32[r, j] * self.weights[j * K + g]))
                out[r, g] = psum
        return out

    def predict(self, X, spec):
        m = self.margin(X, spec)
        if spec["type"] == "margin":
            return m
        return xgb_transform(self.transform, m)


def xgb_sigmoid(x):
    # common::Sigmoid(float), S-2.6
    x = min(F32(-x), F32(88.7))
    denom = F32(F32(expf(x) + F32(1.0)) + F32(1e-16))
    return F32(F32(1.0) / denom)


def xgb_softmax(row):
    wmax = row[0]
    for v in row[1:]:
        wmax = F32(max(v, wmax))  # fmaxf
    e = [expf(F32(v - wmax)) for v in row]
    wsum = 0.0  # double accumulator
    for v in e:
        wsum += float(v)
    s = F32(wsum)
    return [F32(v / s) for v in e]


def xgb_transform(kind, m):
    n, K = m.shape
    if kind == "identity":
        return m
    if kind == "sigmoid":
        return np.array([[xgb_sigmoid(v) for v in row] for row in m], dtype=F32)
    if kind == "expf":
        return np.array([[expf(v) for v in row] for row in m], dtype=F32)
    if kind == "hinge":
        return (m > 0).astype(F32)
    if kind == "softmax":
        return np.array([xgb_softmax(list(row)) for row in m], dtype=F32)
    if kind == "argmax":
        # FindMaxIndex: first index whose value is strictly greater than all before
        return np.array([float(int(np.argmax(row))) for row in m], dtype=F32)
    raise ValueError(kind)


def check_xgb(case_dir, case):
    mj = load_json(os.path.join(case_dir, case["model_file"]))
    model = XgbModel(mj)
    dj = load_json(os.path.join(case_dir, "data.json"))
    X = data_matrix(dj)
    ej = load_json(os.path.join(case_dir, "expected.json"))
    for e in ej["predictions"]:
        got = model.predict(X, e["spec"]).astype(np.float64).ravel()
        want = np.array([math.nan if v is None else v for v in e["values"]])
        if got.shape != want.shape:
            return f"{e['name']}: shape {got.shape} vs {want.shape}"
        bad = np.nonzero(~((got == want) | (np.isnan(got) & np.isnan(want))))[0]
        if len(bad):
            i = bad[0]
            return (f"{e['name']}: {len(bad)} differ; first at flat index {i}: "
                    f"got {got[i]!r} want {want[i]!r}")
    return None


# ============================================================================
# LightGBM

K_ZERO_THRESHOLD = float(np.float32(1e-35))  # const double kZeroThreshold = 1e-35f (S-5.2)


def lgb_parse(text):
    """Header key=value lines, then Tree=i blocks, until 'end of trees' (S-4)."""
    lines = text.split("\n")
    header, trees, i = {}, [], 0
    while i < len(lines) and not lines[i].startswith("Tree="):
        ln = lines[i].strip()
        if ln == "end of trees":
            break
        if "=" in ln:
            k, v = ln.split("=", 1)
            header[k] = v
        elif ln:
            header[ln] = ""  # bare keys: average_output, tree
        i += 1
    while i < len(lines) and lines[i].startswith("Tree="):
        block = {}
        i += 1
        while i < len(lines) and lines[i].strip():
            k, v = lines[i].split("=", 1)
            block[k] = v
            i += 1
        trees.append(block)
        while i < len(lines) and not lines[i].strip():
            i += 1
    rest = lines[i:]
    pandas_cat = None
    for ln in rest:
        if ln.startswith("pandas_categorical:"):
            pandas_cat = json.loads(ln[len("pandas_categorical:"):])
    return header, trees, pandas_cat


class LgbTree:
    def __init__(self, b):
        self.num_leaves = int(b["num_leaves"])
        if int(b.get("is_linear", "0")):
            raise Refused("linear_tree (is_linear=1)")
        self.leaf_value = [float(v) for v in b["leaf_value"].split()]
        if self.num_leaves <= 1:
            return
        self.split_feature = [int(v) for v in b["split_feature"].split()]
        self.threshold = [float(v) for v in b["threshold"].split()]
        self.decision_type = [int(v) for v in b["decision_type"].split()]
        self.left = [int(v) for v in b["left_child"].split()]
        self.right = [int(v) for v in b["right_child"].split()]
        if int(b.get("num_cat", "0")) > 0:
            self.cat_boundaries = [int(v) for v in b["cat_boundaries"].split()]
            self.cat_threshold = [int(v) for v in b["cat_threshold"].split()]

    def in_bitset(self, cat_idx, v):
        beg, end = self.cat_boundaries[cat_idx], self.cat_boundaries[cat_idx + 1]
        i1 = v // 32
        if i1 >= end - beg:
            return False
        return (self.cat_threshold[beg + i1] >> (v % 32)) & 1 == 1

    def predict(self, x):
        if self.num_leaves <= 1:
            return self.leaf_value[0]
        node = 0
        while node >= 0:
            dt = self.decision_type[node]
            fval = x[self.split_feature[node]]
            if dt & 1:  # categorical (S-5.3): in the bitset goes LEFT
                if math.isnan(fval):
                    node = self.right[node]
                    continue
                iv = int(fval)  # C++ static_cast<int>: truncation toward zero
                if iv < 0:
                    node = self.right[node]
                    continue
                node = self.left[node] if self.in_bitset(int(self.threshold[node]), iv) \
                    else self.right[node]
                continue
            missing_type = (dt >> 2) & 3  # 0 None, 1 Zero, 2 NaN   (S-5.2)
            if math.isnan(fval) and missing_type != 2:
                fval = 0.0
            if (missing_type == 1 and -K_ZERO_THRESHOLD <= fval <= K_ZERO_THRESHOLD) or \
                    (missing_type == 2 and math.isnan(fval)):
                node = self.left[node] if dt & 2 else self.right[node]
                continue
            node = self.left[node] if fval <= self.threshold[node] else self.right[node]
        return self.leaf_value[~node]


class LgbModel:
    def __init__(self, text):
        header, trees, self.pandas_categorical = lgb_parse(text)
        if header.get("tree") is None or not header.get("version", "").startswith("v"):
            raise ValueError("not a LightGBM text model")
        self.version = header["version"]
        if self.version not in ("v2", "v3", "v4"):
            raise Refused(f"model format {self.version}")
        self.num_class = int(header.get("num_class", "1"))
        self.k = int(header.get("num_tree_per_iteration", "1"))
        self.num_feature = int(header["max_feature_idx"]) + 1
        self.average_output = "average_output" in header
        obj = header.get("objective", "").split()
        self.objective = obj[0] if obj else "none"
        self.obj_params = {}
        self.sqrt = False
        for tok in obj[1:]:
            if tok == "sqrt":
                self.sqrt = True
            elif ":" in tok:
                k, v = tok.split(":", 1)
                self.obj_params[k] = v
        known = {"regression", "regression_l1", "huber", "fair", "quantile", "mape", "poisson",
                 "gamma", "tweedie", "binary", "multiclass", "multiclassova", "cross_entropy",
                 "cross_entropy_lambda", "lambdarank", "rank_xendcg", "none", "custom"}
        if self.objective not in known:
            raise Refused(f"objective {self.objective}")
        self.trees = [LgbTree(b) for b in trees]

    def predict(self, X, spec):
        n_iter = len(self.trees) // self.k
        # S-5.5: GBDT::InitPredict
        s = max(spec.get("start_iteration", 0) or 0, 0)
        s = min(s, n_iter)
        num = spec.get("num_iteration")
        num = min(num, n_iter - s) if (num is not None and num > 0) else n_iter - s
        out = np.zeros((X.shape[0], self.k))
        for r in range(X.shape[0]):
            # S-5.1: |x| <= kZeroThreshold is dropped by the dense row reader -> 0.0
            x = [0.0 if (not math.isnan(v) and abs(v) <= K_ZERO_THRESHOLD) else float(v)
                 for v in X[r]]
            acc = [0.0] * self.k
            for it in range(s, s + num):
                for k in range(self.k):
                    acc[k] += self.trees[it * self.k + k].predict(x)
            if self.average_output and not spec.get("raw_score", False):
                acc = [a / num for a in acc]
            elif self.average_output:
                pass  # raw score is not averaged (GBDT::PredictRaw)
            if not spec.get("raw_score", False):
                acc = self.convert(acc)
            out[r] = acc
        if self.k == 1:
            return out[:, 0]
        return out

    def convert(self, a):
        o = self.objective
        if o in ("regression", "regression_l1", "huber", "fair", "quantile", "mape"):
            if self.sqrt:
                return [math.copysign(1.0, v) * v * v if v != 0 else 0.0 for v in a]
            return a
        if o in ("poisson", "gamma", "tweedie"):
            return [math.exp(v) for v in a]
        if o == "binary":
            sg = float(self.obj_params.get("sigmoid", "1"))
            return [1.0 / (1.0 + math.exp(-sg * v)) for v in a]
        if o == "multiclassova":
            sg = float(self.obj_params.get("sigmoid", "1"))
            return [1.0 / (1.0 + math.exp(-sg * v)) for v in a]
        if o == "multiclass":
            wmax = max(a)
            e = [math.exp(v - wmax) for v in a]
            t = 0.0
            for v in e:
                t += v
            return [v / t for v in e]
        if o == "cross_entropy":
            return [1.0 / (1.0 + math.exp(-v)) for v in a]
        if o == "cross_entropy_lambda":
            return [math.log1p(math.exp(v)) for v in a]
        return a  # lambdarank, rank_xendcg, custom/none: raw


def check_lgb(case_dir, case):
    model = LgbModel(read_text(os.path.join(case_dir, case["model_file"])))
    X = data_matrix(load_json(os.path.join(case_dir, "data.json")))
    ej = load_json(os.path.join(case_dir, "expected.json"))
    for e in ej["predictions"]:
        got = np.asarray(model.predict(X, e["spec"]), dtype=np.float64).ravel()
        want = data_matrix({"columns": {"v": e["values"]}}).ravel()
        if got.shape != want.shape:
            return f"{e['name']}: shape {got.shape} vs {want.shape}"
        with np.errstate(invalid="ignore"):
            close = (got == want) | (np.abs(got - want) <= 1e-12 * np.abs(want))
        bad = np.nonzero(~(close | (np.isnan(got) & np.isnan(want))))[0]
        if len(bad):
            i = bad[0]
            return (f"{e['name']}: {len(bad)} differ; first at flat index {i}: "
                    f"got {got[i]!r} want {want[i]!r}")
    return None


# ============================================================================


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fixtures", default=DEFAULT_FIXTURES)
    ap.add_argument("--only", default=None, help="check only cases whose name contains this")
    args = ap.parse_args()
    n_ok = n_bad = n_ref = 0
    for name in sorted(os.listdir(args.fixtures)):
        d = os.path.join(args.fixtures, name)
        cj = os.path.join(d, "case.json")
        if not os.path.exists(cj) or (args.only and args.only not in name):
            continue
        case = load_json(cj)
        try:
            fn = check_xgb if case["library"] == "xgboost" else check_lgb
            err = fn(d, case)
        except Refused as r:
            print(f"{name:40} REFUSED ({r})")
            n_ref += 1
            continue
        if err:
            print(f"{name:40} MISMATCH {err}")
            n_bad += 1
        else:
            print(f"{name:40} OK")
            n_ok += 1
    print(f"{n_ok} passed, {n_bad} failed, {n_ref} refused")
    sys.exit(1 if n_bad else 0)


if __name__ == "__main__":
    main()
