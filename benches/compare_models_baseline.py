"""numpy / scikit-learn baseline for benches/compare_models.rs: 100k synthetic binary rows, two
models; a paired bootstrap (the same resampled rows for both models) of the eleven binary
metrics `assay evaluate` reports, with scikit-learn's metric functions on integer sample
weights, and DeLong's test (fast midrank version, numpy) + scipy pearsonr / spearmanr.

scikit-learn needs ~0.1 s per replicate here, so the bootstrap runs REPS replicates and is
scaled to 1000 (printed as such). Needs scripts/requirements-compare.txt.
"""

import sys
import time

import numpy as np
import scipy.stats as st
import sklearn.metrics as skm

REPS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
rng = np.random.default_rng(42)
n = 100_000
y = rng.random(n) < 0.3
a = np.clip(np.where(y, 0.65, 0.35) + 0.9 * (rng.random(n) - 0.5), 0, 1)
b = np.clip(np.where(y, 0.65, 0.35) + 0.8 * (rng.random(n) - 0.5), 0, 1)


def metrics(y, s, w):
    p = s >= 0.5
    return [
        skm.accuracy_score(y, p, sample_weight=w),
        skm.balanced_accuracy_score(y, p, sample_weight=w),
        skm.precision_score(y, p, sample_weight=w, zero_division=0),
        skm.recall_score(y, p, sample_weight=w, zero_division=0),
        skm.recall_score(y, p, pos_label=0, sample_weight=w, zero_division=0),
        skm.f1_score(y, p, sample_weight=w, zero_division=0),
        skm.matthews_corrcoef(y, p, sample_weight=w),
        skm.roc_auc_score(y, s, sample_weight=w),
        skm.average_precision_score(y, s, sample_weight=w),
        skm.log_loss(y, s, sample_weight=w, labels=[0, 1]),
        skm.brier_score_loss(y, s, sample_weight=w),
    ]


def paired_bootstrap(reps):
    r = np.random.default_rng(0)
    diffs = []
    for _ in range(reps):
        w = np.bincount(r.integers(0, n, n), minlength=n)
        diffs.append(np.subtract(metrics(y, b, w), metrics(y, a, w)))
    return np.percentile(np.array(diffs), [2.5, 97.5], axis=0)


def midrank(x):
    return st.rankdata(x)


def delong(y, a, b):
    m, k = y.sum(), (~y).sum()
    out = []
    for s in (a, b):
        x, z = s[y], s[~y]
        tx, ty, tz = midrank(x), midrank(z), midrank(np.concatenate([x, z]))
        auc = (tz[:m].sum() - m * (m + 1) / 2) / (m * k)
        out.append((auc, (tz[:m] - tx) / k, 1 - (tz[m:] - ty) / m))
    s10 = np.cov(np.vstack([o[1] for o in out]))
    s01 = np.cov(np.vstack([o[2] for o in out]))
    s = s10 / m + s01 / k
    var = s[0, 0] + s[1, 1] - 2 * s[0, 1]
    z = (out[1][0] - out[0][0]) / np.sqrt(var)
    return 2 * st.norm.sf(abs(z))


boot, stats = [], []
for _ in range(3):
    t = time.perf_counter()
    paired_bootstrap(REPS)
    boot.append((time.perf_counter() - t) * 1000 / REPS)
    t = time.perf_counter()
    delong(y, a, b)
    st.pearsonr(a, b)
    st.spearmanr(a, b)
    stats.append(time.perf_counter() - t)
print(f"rows {n}, {REPS} resamples timed, scaled to 1000")
print(f"paired_bootstrap_s {np.median(boot):.4f}")
print(f"delong_and_correlations_s {np.median(stats):.4f}")
