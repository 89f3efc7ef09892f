"""onnxruntime (Python API) + numpy baseline for benches/perfrobust.rs, same model and data:
single-row latency p50/p95 over 2000 calls after 200 warm-up calls (1 intra-op thread),
throughput at batch 4096 (1 thread, median of 5 repeats of 4 calls), and the robustness
perturbations Assay makes (noise at 4 scales, all features and each; missing, mean, out of
range per feature) on 1000 sampled rows, batched into one run, median of 3.
Needs scripts/requirements-robustness.txt."""

import csv
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

ROOT = Path(__file__).resolve().parent.parent
FEATURES = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week", "sex_male"]

with open(ROOT / "sample_data/adult_eval.csv") as f:
    rows = list(csv.DictReader(f))
X = np.array([[float(r[c]) for c in FEATURES] for r in rows], dtype=np.float32)
n = len(X)
so = ort.SessionOptions()
so.intra_op_num_threads = 1
so.inter_op_num_threads = 1
t = time.perf_counter()
sess = ort.InferenceSession(str(ROOT / "sample_models/adult_gbdt_v2.onnx"), so,
                            providers=["CPUExecutionProvider"])
load_ms = (time.perf_counter() - t) * 1e3

singles = [X[i:i + 1] for i in range(min(n, 2000))]
for i in range(200):
    sess.run(None, {"input": singles[i % len(singles)]})
lat = []
for i in range(2000):
    t = time.perf_counter()
    sess.run(None, {"input": singles[i % len(singles)]})
    lat.append((time.perf_counter() - t) * 1e3)
p50, p95 = np.percentile(lat, [50, 95])

batches = [X[np.arange(k * 4096, (k + 1) * 4096) % n] for k in range(2)]
for b in batches:
    sess.run(None, {"input": b})
tp = []
for _ in range(5):
    t = time.perf_counter()
    for c in range(4):
        sess.run(None, {"input": batches[c % 2]})
    tp.append(4 * 4096 / (time.perf_counter() - t))
tput = float(np.median(tp))
print(f"onnxruntime-python adult_gbdt_v2: single-row p50 {p50:.4f} ms, p95 {p95:.4f} ms; "
      f"batch 4096 x 1 thread {tput:.0f} rows/s; load {load_ms:.2f} ms")
print(f"latency_p50_ms {p50:.6f}")
print(f"throughput_rows_per_s {tput:.1f}")

# Robustness perturbations, all threads (as Assay's predict uses all cores).
full = ort.InferenceSession(str(ROOT / "sample_models/adult_gbdt_v2.onnx"),
                            providers=["CPUExecutionProvider"])


def robustness():
    rng = np.random.default_rng(0)
    X64 = X.astype(np.float64)
    mean, std = X64.mean(axis=0), X64.std(axis=0)
    lo, hi = X64.min(axis=0), X64.max(axis=0)
    idx = np.sort(rng.choice(n, 1000, replace=False))
    base = X64[idx]
    z = rng.standard_normal(base.shape)
    blocks = []
    for s in [0.01, 0.05, 0.1, 0.25]:
        blocks.append(base + s * std * z)
        for j in range(6):
            a = base.copy()
            a[:, j] += s * std[j] * z[:, j]
            blocks.append(a)
    for j in range(6):
        for v in [np.nan, mean[j], lo[j] - 3 * std[j], hi[j] + 3 * std[j]]:
            a = base.copy()
            a[:, j] = v
            blocks.append(a)
    p0 = full.run(None, {"input": base.astype(np.float32)})[1][:, 1]
    allp = full.run(None, {"input": np.vstack(blocks).astype(np.float32)})[1][:, 1]
    out = []
    for k in range(len(blocks)):
        p = allp[k * 1000:(k + 1) * 1000]
        out.append((int(np.sum((p >= 0.5) != (p0 >= 0.5))), float(np.nanmean(np.abs(p - p0)))))
    return out


times = []
for _ in range(3):
    t = time.perf_counter()
    robustness()
    times.append(time.perf_counter() - t)
med = sorted(times)[1]
print(f"numpy+onnxruntime robustness perturbations, 1000 rows x 6 features: median {med:.3f} s")
print(f"robustness_seconds {med:.6f}")
