#!/usr/bin/env python3
"""shap's C++ TreeExplainer baseline for benches/treeshap.rs (run by benches/treeshap_compare.sh).

Retrains sample_models/adult_gbdt_v2 exactly as sample_models/make_models.py does (same data,
seed and parameters), checks it reproduces the committed ONNX file through onnxruntime, then
times interventional TreeSHAP in raw (log-odds) space: 10,000 rows (adult_eval + adult_current)
x 100 background rows (the first 100 of adult_reference). Prints the median of 3 runs.
Needs the venv of scripts/requirements-explain-tree.txt.
"""
import statistics
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pandas as pd
import shap
from sklearn.ensemble import GradientBoostingClassifier

ROOT = Path(__file__).resolve().parent.parent
FEATURES = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week", "sex_male"]

ref = pd.read_csv(ROOT / "sample_data/adult_reference.csv")
model = GradientBoostingClassifier(n_estimators=120, max_depth=4, learning_rate=0.05, subsample=0.8,
                                   random_state=7)
model.fit(ref[FEATURES].to_numpy(np.float32), ref["income_over_50k"].to_numpy())
rows = np.vstack([pd.read_csv(ROOT / f"sample_data/{f}")[FEATURES].to_numpy(np.float64)
                  for f in ("adult_eval.csv", "adult_current.csv")])
background = ref[FEATURES].to_numpy(np.float64)[:100]

sess = ort.InferenceSession(str(ROOT / "sample_models/adult_gbdt_v2.onnx"), providers=["CPUExecutionProvider"])
onnx_p = sess.run(None, {"input": rows.astype(np.float32)})[1][:, 1]
diff = np.abs(onnx_p - model.predict_proba(rows.astype(np.float32))[:, 1]).max()
assert diff < 1e-5, f"retrained model differs from sample_models/adult_gbdt_v2.onnx by {diff}"

explainer = shap.TreeExplainer(model, data=background, feature_perturbation="interventional",
                               model_output="raw")
times = []
for _ in range(3):
    t = time.perf_counter()
    values = explainer.shap_values(rows, check_additivity=False)
    times.append(time.perf_counter() - t)
print(f"shap {shap.__version__} TreeExplainer interventional: {len(rows)} rows x {len(background)} background, "
      f"{len(model.estimators_)} trees depth 4; runs {', '.join(f'{t:.3f}' for t in times)} s; "
      f"sum|phi| = {np.abs(values).sum():.6f}")
print(f"median_seconds {statistics.median(times)}")
