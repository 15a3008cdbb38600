#!/usr/bin/env python3
"""Time the libraries' own predictors on the 500-tree depth-6 fixture models.

For each predictor: one row (median of many calls) with 1 thread, as a
per-request server would call it (with 2 threads on this shared 2-core
machine one-row calls measure OpenMP wake-up and scheduler ticks, 8-40 ms),
and 100,000 rows with 2 threads (median of a few calls). Prints a table (microseconds per call and
per row) and writes the figures to --out as JSON; with --data-out, also the
rows as little-endian float64, row-major, so that bench/boosters.R (which
runs this script: `make bench`) times fastpredict on the same rows in the
same run and prints the ratios. The JSON also holds xgboost's and
LightGBM's predictions of the first 1,000 rows, which bench/boosters.R
checks fastpredict against before timing it.

lleaves 1.3.0 needs llvmlite < 0.44 (pip resolves 0.50, which lacks
llvmlite.binding.PassManagerBuilder): pip install lleaves 'llvmlite<0.44'.

Predictors: xgboost Booster.inplace_predict and Booster.predict(DMatrix)
(DMatrix construction included, as a caller pays it), lightgbm
Booster.predict, treelite.gtil.predict for both models, and, when they
import, a tl2cgen-compiled shared library and lleaves. Bounded: every timing
loop stops after its time budget.

Usage: python3 bench/boosters.py --out /tmp/boosters-bench.json [--data-out rows.f64] [--tl2cgen]
"""

import argparse
import gzip
import json
import os
import platform
import shutil
import statistics
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "tests", "testthat", "fixtures", "boosters")
THREADS = 2


def model_path(case, tmp):
    """Fixture model file, gunzipped into tmp when needed."""
    d = os.path.join(FIX, case)
    with open(os.path.join(d, "case.json")) as f:
        mf = json.load(f)["model_file"]
    src = os.path.join(d, mf)
    if not mf.endswith(".gz"):
        return src
    dst = os.path.join(tmp, case + "-" + mf[:-3])
    with gzip.open(src, "rb") as fi, open(dst, "wb") as fo:
        shutil.copyfileobj(fi, fo)
    return dst


def timeit(fn, min_calls, budget_s):
    """Median seconds per call over at least min_calls calls or until the
    budget is spent (after one warm-up call)."""
    t0 = time.perf_counter()
    fn()
    warm = time.perf_counter() - t0
    if warm > budget_s / 2:  # a slow call: the warm-up is the measurement
        return warm, 1
    times = []
    start = time.perf_counter()
    while len(times) < min_calls or (time.perf_counter() - start) < budget_s * 0.25:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if time.perf_counter() - start > budget_s:
            break
    return statistics.median(times), len(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="JSON file for the figures")
    ap.add_argument("--data-out", help="file for the rows (float64, row-major)")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--single-budget", type=float, default=1.5, help="seconds per 1-row timing")
    ap.add_argument("--batch-budget", type=float, default=5.0, help="seconds per batch timing")
    ap.add_argument("--tl2cgen", action="store_true",
                    help="also build and time tl2cgen shared libraries (30-50 s of gcc per "
                         "model on the 2-core machine, so off by default to stay under 3 min)")
    args = ap.parse_args()

    rng = np.random.default_rng(42)
    p = 8
    Xb = rng.normal(size=(args.rows, p))
    Xb[:, 2] = np.round(rng.uniform(-50, 50, size=args.rows), 1)
    Xb[:, 3] = np.where(rng.uniform(size=args.rows) < 0.3, 0.0, rng.exponential(2.0, args.rows))
    Xb[rng.uniform(size=Xb.shape) < 0.03] = np.nan
    X1 = Xb[:1].copy()
    Xb32 = Xb.astype(np.float32)
    X132 = X1.astype(np.float32)
    if args.data_out:
        Xb.astype("<f8").tofile(args.data_out)

    results = []
    tmp = tempfile.mkdtemp(prefix="boosters-bench-")

    def record(name, model, f1, fb, note=""):
        try:
            t1, n1 = timeit(f1, 200, args.single_budget)
            tb, nb = timeit(fb, 3, args.batch_budget)
        except Exception as e:  # one predictor failing must not lose the others
            results.append({"predictor": name, "model": model, "error": f"{type(e).__name__}: {e}"})
            return
        results.append({"predictor": name, "model": model,
                        "one_row_us_per_call": t1 * 1e6, "one_row_calls": n1,
                        "batch_rows": args.rows, "batch_us_per_call": tb * 1e6,
                        "batch_us_per_row": tb * 1e6 / args.rows, "batch_calls": nb,
                        "note": note})

    import xgboost as xgb
    import lightgbm as lgb
    import treelite

    xpath = model_path("xgb_bench_500", tmp)
    lpath = model_path("lgb_bench_500", tmp)

    bx = xgb.Booster(model_file=xpath)
    bx.set_param({"nthread": THREADS})
    bx1 = xgb.Booster(model_file=xpath)
    bx1.set_param({"nthread": 1})
    record(f"xgboost {xgb.__version__} inplace_predict", "xgb_bench_500",
           lambda: bx1.inplace_predict(X1), lambda: bx.inplace_predict(Xb))
    record(f"xgboost {xgb.__version__} predict(DMatrix)", "xgb_bench_500",
           lambda: bx1.predict(xgb.DMatrix(X1, nthread=1)),
           lambda: bx.predict(xgb.DMatrix(Xb, nthread=THREADS)),
           note="includes DMatrix construction")

    bl = lgb.Booster(model_file=lpath)
    # the libraries' own predictions (float32 values as exact doubles)
    check = {"rows": 1000,
             "xgb_bench_500": [float(v) for v in bx.inplace_predict(Xb[:1000])],
             "lgb_bench_500": [float(v) for v in bl.predict(Xb[:1000])]}
    record(f"lightgbm {lgb.__version__} predict", "lgb_bench_500",
           lambda: bl.predict(X1, num_threads=1),
           lambda: bl.predict(Xb, num_threads=THREADS))

    tx = treelite.frontend.load_xgboost_model(xpath)
    tlg = treelite.frontend.load_lightgbm_model(lpath)
    record(f"treelite {treelite.__version__} gtil.predict", "xgb_bench_500",
           lambda: treelite.gtil.predict(tx, X132, nthread=1),
           lambda: treelite.gtil.predict(tx, Xb32, nthread=THREADS))
    record(f"treelite {treelite.__version__} gtil.predict", "lgb_bench_500",
           lambda: treelite.gtil.predict(tlg, X1, nthread=1),
           lambda: treelite.gtil.predict(tlg, Xb, nthread=THREADS))

    notes = []
    try:
        if not args.tl2cgen:
            raise ImportError("not requested (--tl2cgen)")
        import tl2cgen
        for tlm, case, x1, xb in ((tx, "xgb_bench_500", X132, Xb32),
                                  (tlg, "lgb_bench_500", X1, Xb)):
            t0 = time.perf_counter()
            lib = os.path.join(tmp, case + ".so")
            tl2cgen.export_lib(tlm, toolchain="gcc", libpath=lib,
                               params={"parallel_comp": THREADS}, nthread=THREADS)
            built = time.perf_counter() - t0
            if built > 90:  # keep the whole run bounded: no second build
                notes.append(f"tl2cgen build of {case} took {built:.0f} s; later builds skipped")
            pr = tl2cgen.Predictor(lib, nthread=THREADS)
            pr1 = tl2cgen.Predictor(lib, nthread=1)
            record(f"tl2cgen {tl2cgen.__version__} compiled (gcc)", case,
                   lambda: pr1.predict(tl2cgen.DMatrix(x1)), lambda: pr.predict(tl2cgen.DMatrix(xb)),
                   note=f"build {built:.1f} s; includes tl2cgen.DMatrix construction")
            if built > 90:
                break
    except ImportError as e:
        notes.append(f"tl2cgen not used: {e}")
    except Exception as e:
        notes.append(f"tl2cgen failed: {type(e).__name__}: {e}")

    try:
        import lleaves
        t0 = time.perf_counter()
        ll = lleaves.Model(model_file=lpath)
        ll.compile(cache=os.path.join(tmp, "lleaves.o"))
        built = time.perf_counter() - t0
        from importlib.metadata import version
        record(f"lleaves {version('lleaves')} (llvmlite {version('llvmlite')})", "lgb_bench_500",
               lambda: ll.predict(X1, n_jobs=1), lambda: ll.predict(Xb, n_jobs=THREADS),
               note=f"compile {built:.1f} s")
    except ImportError:
        notes.append("lleaves not importable (pip install lleaves)")
    except Exception as e:
        notes.append(f"lleaves failed: {type(e).__name__}: {e}")

    shutil.rmtree(tmp, ignore_errors=True)
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    out = {"machine": {"platform": platform.platform(), "processor": platform.processor(),
                       "cpus": os.cpu_count(), "batch_threads": THREADS, "one_row_threads": 1,
                       "loadavg_at_end": load},
           "rows": args.rows, "columns": p, "results": results, "notes": notes, "check": check}
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)

    print(f"{'predictor':44} {'model':14} {'1 row us':>10} {'100k us/call':>14} {'us/row':>8}")
    for r in results:
        if "error" in r:
            print(f"{r['predictor']:44} {r['model']:14} ERROR {r['error'][:60]}")
            continue
        print(f"{r['predictor']:44} {r['model']:14} {r['one_row_us_per_call']:10.1f} "
              f"{r['batch_us_per_call']:14.0f} {r['batch_us_per_row']:8.3f}")
    for n in notes:
        print("note:", n)


if __name__ == "__main__":
    main()
