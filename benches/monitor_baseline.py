#!/usr/bin/env python3
"""NannyML 0.13.1 on the monitoring benchmark's work (benches/monitor_compare.sh): read the
reference and the log (Parquet), CBPE (estimated ROC AUC, F1, precision, recall,
specificity, accuracy), PerformanceCalculator (the same metrics realized) and
UnivariateDriftCalculator (Kolmogorov-Smirnov for the float columns and the score,
chi-square for the categorical columns and the prediction), 10 chunks each. Prints the
median wall time of end-to-end runs as JSON. Venv: scripts/requirements-monitor.txt."""
import argparse
import json
import os
import statistics
import time

os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"  # no network calls

import pandas as pd  # noqa: E402

import nannyml as nml  # noqa: E402

METRICS = ["roc_auc", "f1", "precision", "recall", "specificity", "accuracy"]


def once(d: str) -> dict:
    t0 = time.perf_counter()
    ref = pd.read_parquet(f"{d}/reference.parquet")
    log = pd.read_parquet(f"{d}/log.parquet")
    t_read = time.perf_counter()
    common = dict(y_pred_proba="y_pred_proba", y_pred="y_pred", y_true="y",
                  metrics=METRICS, problem_type="classification_binary", chunk_number=10)
    est = nml.CBPE(**common)
    est.fit(ref)
    est.estimate(log.drop(columns=["y"]))
    t_cbpe = time.perf_counter()
    calc = nml.PerformanceCalculator(**common)
    calc.fit(ref)
    calc.calculate(log)
    t_real = time.perf_counter()
    cols = [f"x{i}" for i in range(8)] + ["cat_a", "cat_b", "y_pred_proba", "y_pred"]
    drift = nml.UnivariateDriftCalculator(
        column_names=cols, treat_as_categorical=["cat_a", "cat_b", "y_pred"], chunk_number=10,
        continuous_methods=["kolmogorov_smirnov"], categorical_methods=["chi2"],
    )
    drift.fit(ref)
    drift.calculate(log)
    t_drift = time.perf_counter()
    return {"read_s": t_read - t0, "cbpe_s": t_cbpe - t_read, "realized_s": t_real - t_cbpe,
            "drift_s": t_drift - t_real, "total_s": t_drift - t0}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    runs = [once(a.dir) for _ in range(a.repeats)]
    out = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    out["repeats"] = a.repeats
    out["rows"] = len(pd.read_parquet(f"{a.dir}/log.parquet", columns=["y"]))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
