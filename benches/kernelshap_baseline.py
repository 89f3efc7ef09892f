#!/usr/bin/env python3
"""KernelSHAP baseline: shap.KernelExplainer on the 24-feature MLP (same ONNX file through
onnxruntime), rows 0..ROWS of bench_data24.csv, background rows 900..1000, nsamples 2048,
l1_reg off. Prints the median wall time over REPEATS runs as `median_seconds S` and the
time spent inside the model (onnxruntime) as `model_seconds S`.

    .venv/bin/python benches/kernelshap_baseline.py [ROWS] [REPEATS]
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pandas as pd
import shap

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures" / "explain"


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    df = pd.read_csv(FIX / "bench_data24.csv")
    names = [f"f{i}" for i in range(24)]
    x = df[names].to_numpy(np.float64)
    sess = ort.InferenceSession(str(FIX / "bench_mlp24.onnx"), providers=["CPUExecutionProvider"])

    model_time = [0.0]

    def f(z):
        t0 = time.perf_counter()
        out = sess.run(None, {"input": np.asarray(z, dtype=np.float32)})[1][:, 1].astype(np.float64)
        model_time[0] += time.perf_counter() - t0
        return out

    bg = x[900:1000]
    times, model_times = [], []
    for _ in range(repeats):
        model_time[0] = 0.0
        t = time.perf_counter()
        k = shap.KernelExplainer(f, bg)
        vals = k.shap_values(x[:rows], nsamples=2048, l1_reg=False, silent=True)
        times.append(time.perf_counter() - t)
        model_times.append(model_time[0])
        print(f"run {times[-1]:.3f} s (of which onnxruntime {model_time[0]:.3f} s), mean |phi| {np.abs(vals).mean():.6f}", flush=True)
    print(f"rows {rows}, features 24, background 100, nsamples 2048")
    print(f"model_seconds {statistics.median(model_times)}")
    print(f"median_seconds {statistics.median(times)}")


if __name__ == "__main__":
    main()
