"""fairlearn 0.15 baseline for benches/fairness.rs: 1M rows x 2 sensitive attributes (6 and
4 groups), MetricFrame with count + the 7 binary group metrics for slicings a, b and a+b,
plus group_min/max, difference and ratio (both methods) and the 8 disparity functions.
Prints the median of 3 runs. Needs scripts/requirements-fairness.txt.
With --metricframe-only: one run of just the three MetricFrame constructions (no summaries,
no disparity functions), to show where the time goes."""

import sys
import time

import numpy as np
import pandas as pd
import sklearn.metrics as skm
from fairlearn.metrics import (MetricFrame, count, demographic_parity_difference,
                               demographic_parity_ratio, equal_opportunity_difference,
                               equal_opportunity_ratio, equalized_odds_difference,
                               equalized_odds_ratio, false_negative_rate, false_positive_rate,
                               selection_rate, true_negative_rate, true_positive_rate)

rng = np.random.default_rng(42)
n = 1_000_000
a = rng.choice([f"a{i}" for i in range(6)], size=n)
b = rng.choice([f"b{i}" for i in range(4)], size=n)
y = (rng.random(n) < 0.4).astype(int)
p = np.where(rng.random(n) < 0.2, 1 - y, y)
df = pd.DataFrame({"a": a, "b": b})
metrics = {"count": count, "selection_rate": selection_rate, "accuracy": skm.accuracy_score,
           "tpr": true_positive_rate, "fpr": false_positive_rate, "tnr": true_negative_rate,
           "fnr": false_negative_rate,
           "precision": lambda t, q: skm.precision_score(t, q, zero_division=0)}


def run():
    for cols in (["a"], ["b"], ["a", "b"]):
        sf = df[cols] if len(cols) > 1 else df[cols[0]]
        mf = MetricFrame(metrics=metrics, y_true=y, y_pred=p, sensitive_features=sf)
        mf.group_min(), mf.group_max()
        for m in ("between_groups", "to_overall"):
            mf.difference(method=m), mf.ratio(method=m)
        kw = dict(sensitive_features=sf)
        demographic_parity_difference(y, p, **kw), demographic_parity_ratio(y, p, **kw)
        for agg in ("worst_case", "mean"):
            equalized_odds_difference(y, p, agg=agg, **kw)
            equalized_odds_ratio(y, p, agg=agg, **kw)
        equal_opportunity_difference(y, p, **kw), equal_opportunity_ratio(y, p, **kw)


if "--metricframe-only" in sys.argv:
    t = time.perf_counter()
    for cols in (["a"], ["b"], ["a", "b"]):
        sf = df[cols] if len(cols) > 1 else df[cols[0]]
        MetricFrame(metrics=metrics, y_true=y, y_pred=p, sensitive_features=sf)
    print(f"fairlearn: the 3 MetricFrame constructions alone: {time.perf_counter() - t:.3f} s")
    sys.exit(0)

times = []
for _ in range(3):
    t = time.perf_counter()
    run()
    times.append(time.perf_counter() - t)
times.sort()
print(f"fairlearn MetricFrame 1M x 2 attributes (a, b, a+b): median {times[1]:.3f} s")
print(f"median_seconds {times[1]:.6f}")
