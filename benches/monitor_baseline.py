#!/usr/bin/env python3
"""NannyML 0.13.1 on the monitoring benchmark's work (benches/monitor_compare.sh): read the
reference and the log (Parquet), then, 10 chunks each, the parts `assay monitor` computes:

- CBPE (estimated ROC AUC, F1, precision, recall, specificity, accuracy);
- PerformanceCalculator (the same metrics realized);
- UnivariateDriftCalculator (Kolmogorov-Smirnov for the float columns and the score,
  chi-square for the categorical columns and the prediction);
- DataReconstructionDriftCalculator (PCA reconstruction error) on the 12 columns assay's PCA
  uses (x0..x7, cat_a, cat_b, y_pred_proba, y_pred), NannyML's defaults: 65 % explained
  variance, mean / most-frequent imputation, CountEncoder(normalize=True) for the categorical
  columns, StandardScaler, thresholds from the reference chunks;
- MissingValuesCalculator (the same 12 columns) and UnseenValuesCalculator (cat_a, cat_b),
  counts (normalize=False) as assay reports them.

Where the two sides still differ (neither is made to match by extra work): assay's univariate
drift uses Evidently's defaults (Wasserstein / Jensen-Shannon at this size) and also compares
the whole log with the reference; y_pred (int64) is a continuous PCA input on both sides
(NannyML by dtype; assay encodes numeric columns as numbers); assay imputes a missing category
with the encoded column's mean (NannyML with the most frequent category) and keeps components
while the explained share is >= 0.65 (sklearn: the first count whose share is > 0.65) — the
benchmark data have no missing values and both keep 7 components; assay counts unseen values of
text columns only (so y_pred is not in NannyML's UnseenValuesCalculator either). Checked on
the benchmark data: both keep 7 components (73.1 % of the variance) and NannyML's per-chunk
reconstruction errors and thresholds equal assay's JSON to 1e-11 relative. Prints the
median wall time of each part over end-to-end runs as JSON. Venv:
scripts/requirements-monitor.txt."""
import argparse
import json
import os
import statistics
import time

os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"  # no network calls

import pandas as pd  # noqa: E402

import nannyml as nml  # noqa: E402

METRICS = ["roc_auc", "f1", "precision", "recall", "specificity", "accuracy"]
FEATURES = [f"x{i}" for i in range(8)] + ["cat_a", "cat_b"]
COLUMNS = FEATURES + ["y_pred_proba", "y_pred"]


def once(d: str) -> dict:
    t = [time.perf_counter()]
    ref = pd.read_parquet(f"{d}/reference.parquet")
    log = pd.read_parquet(f"{d}/log.parquet")
    t.append(time.perf_counter())
    common = dict(y_pred_proba="y_pred_proba", y_pred="y_pred", y_true="y",
                  metrics=METRICS, problem_type="classification_binary", chunk_number=10)
    est = nml.CBPE(**common)
    est.fit(ref)
    est.estimate(log.drop(columns=["y"]))
    t.append(time.perf_counter())
    calc = nml.PerformanceCalculator(**common)
    calc.fit(ref)
    calc.calculate(log)
    t.append(time.perf_counter())
    drift = nml.UnivariateDriftCalculator(
        column_names=COLUMNS, treat_as_categorical=["cat_a", "cat_b", "y_pred"], chunk_number=10,
        continuous_methods=["kolmogorov_smirnov"], categorical_methods=["chi2"],
    )
    drift.fit(ref)
    drift.calculate(log)
    t.append(time.perf_counter())
    dre = nml.DataReconstructionDriftCalculator(column_names=COLUMNS, chunk_number=10)
    dre.fit(ref)
    dre.calculate(log)
    t.append(time.perf_counter())
    missing = nml.MissingValuesCalculator(column_names=COLUMNS, normalize=False, chunk_number=10)
    missing.fit(ref)
    missing.calculate(log)
    unseen = nml.UnseenValuesCalculator(column_names=["cat_a", "cat_b"], normalize=False,
                                        chunk_number=10)
    unseen.fit(ref)
    unseen.calculate(log)
    t.append(time.perf_counter())
    names = ["read_s", "cbpe_s", "realized_s", "drift_s", "pca_s", "quality_s"]
    out = {k: b - a for k, a, b in zip(names, t, t[1:])}
    # The parts of earlier figures (before the PCA and data quality were added) and all parts.
    out["three_s"] = t[4] - t[0]
    out["total_s"] = t[-1] - t[0]
    return out


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
