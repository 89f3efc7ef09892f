#!/usr/bin/env python3
"""Python baseline for Assay's end-to-end evaluation benchmark.

    .venv/bin/python benches/baseline.py --model sample_models/adult_logreg.onnx \
        --data sample_data/adult_eval.csv --target income_over_50k [--repeats 5]

Does, end to end, what `assay evaluate` does:
  1. read   - pandas.read_csv (default C engine) or pandas.read_parquet(engine="pyarrow")
  2. infer  - create an onnxruntime InferenceSession (default SessionOptions, CPU), select the
              feature columns named by the model's `features` metadata, cast to float32
              (raw-input models: one [N, 1] array per input, typed as the input), session.run
  3. metrics- scikit-learn: binary -> accuracy, balanced accuracy, precision, recall,
              specificity, f1, mcc, roc_auc, average_precision, log_loss, brier, confusion
              matrix, roc_curve, precision_recall_curve, calibration_curve (10 uniform bins);
              multiclass -> accuracy, balanced accuracy, macro/weighted P/R/F1, ovr roc_auc,
              log_loss, confusion matrix; regression -> mae, mse, rmse, r2, mape, median AE,
              max error, explained variance.
Prints ONE JSON line with medians over --repeats:
  {"read_s", "infer_s", "metrics_s", "total_s", "infer_only_s", "rows"}
infer_only_s is the median of just session.run on the already prepared inputs.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings

import numpy as np
import onnxruntime as ort
import pandas as pd
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

warnings.filterwarnings("ignore")


def read(path: str) -> pd.DataFrame:
    if path.lower().endswith((".parquet", ".pq")):
        return pd.read_parquet(path, engine="pyarrow")
    return pd.read_csv(path)


def prepare(sess: ort.InferenceSession, df: pd.DataFrame) -> dict:
    meta = sess.get_modelmeta().custom_metadata_map
    ins = sess.get_inputs()
    if len(ins) == 1:
        feats = [f.strip() for f in meta["features"].split(",")]
        return {ins[0].name: df[feats].to_numpy(dtype=np.float32)}
    feeds = {}
    for i in ins:
        col = df[i.name]
        if i.type == "tensor(string)":
            feeds[i.name] = col.astype(str).to_numpy(dtype=object).reshape(-1, 1)
        elif i.type == "tensor(int64)":
            feeds[i.name] = col.to_numpy(dtype=np.int64).reshape(-1, 1)
        else:
            feeds[i.name] = col.to_numpy(dtype=np.float32).reshape(-1, 1)
    return feeds


def classifier_probs(outs: list, sess: ort.InferenceSession) -> tuple[np.ndarray, list] | None:
    if len(outs) < 2:
        return None
    probs = outs[1]
    if isinstance(probs, list):  # ZipMap
        classes = list(probs[0].keys())
        return np.array([[r[c] for c in classes] for r in probs], dtype=np.float64), classes
    return np.asarray(probs, dtype=np.float64), list(range(np.asarray(probs).shape[1]))


def binary_metrics(y: np.ndarray, p: np.ndarray, thr: float = 0.5) -> dict:
    yp = (p >= thr).astype(np.int64)
    out = {
        "accuracy": skm.accuracy_score(y, yp),
        "balanced_accuracy": skm.balanced_accuracy_score(y, yp),
        "precision": skm.precision_score(y, yp, zero_division=0),
        "recall": skm.recall_score(y, yp, zero_division=0),
        "specificity": skm.recall_score(y, yp, pos_label=0, zero_division=0),
        "f1": skm.f1_score(y, yp, zero_division=0),
        "mcc": skm.matthews_corrcoef(y, yp),
        "roc_auc": skm.roc_auc_score(y, p),
        "average_precision": skm.average_precision_score(y, p),
        "log_loss": skm.log_loss(y, p, labels=[0, 1]),
        "brier_score": skm.brier_score_loss(y, p, pos_label=1),
        "confusion_matrix": skm.confusion_matrix(y, yp, labels=[0, 1]),
        "roc_curve": skm.roc_curve(y, p),
        "pr_curve": skm.precision_recall_curve(y, p),
        "calibration": calibration_curve(y, p, n_bins=10, strategy="uniform"),
    }
    return out


def multiclass_metrics(y: np.ndarray, proba: np.ndarray) -> dict:
    k = proba.shape[1]
    labels = list(range(k))
    yp = proba.argmax(axis=1)
    out = {"accuracy": skm.accuracy_score(y, yp), "balanced_accuracy": skm.balanced_accuracy_score(y, yp)}
    for avg in ("macro", "weighted"):
        out[f"precision_{avg}"] = skm.precision_score(y, yp, average=avg, labels=labels, zero_division=0)
        out[f"recall_{avg}"] = skm.recall_score(y, yp, average=avg, labels=labels, zero_division=0)
        out[f"f1_{avg}"] = skm.f1_score(y, yp, average=avg, labels=labels, zero_division=0)
    out["roc_auc"] = skm.roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=labels)
    out["log_loss"] = skm.log_loss(y, proba, labels=labels)
    out["confusion_matrix"] = skm.confusion_matrix(y, yp, labels=labels)
    return out


def regression_metrics(y: np.ndarray, pred: np.ndarray) -> dict:
    return {
        "mae": skm.mean_absolute_error(y, pred),
        "mse": skm.mean_squared_error(y, pred),
        "rmse": skm.root_mean_squared_error(y, pred),
        "r2": skm.r2_score(y, pred),
        "mape": skm.mean_absolute_percentage_error(y, pred),
        "median_absolute_error": skm.median_absolute_error(y, pred),
        "max_error": skm.max_error(y, pred),
        "explained_variance": skm.explained_variance_score(y, pred),
    }


def run_once(model: str, data: str, target: str) -> tuple[dict, int]:
    t0 = time.perf_counter()
    df = read(data)
    t1 = time.perf_counter()
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    feeds = prepare(sess, df)
    outs = sess.run(None, feeds)
    t2 = time.perf_counter()
    y = df[target].to_numpy()
    cp = classifier_probs(outs, sess)
    if cp is None:
        regression_metrics(y.astype(np.float64), np.asarray(outs[0], dtype=np.float64).ravel())
    else:
        proba, classes = cp
        if proba.shape[1] == 2:
            pos = sess.get_modelmeta().custom_metadata_map.get("positive_class", str(classes[1]))
            col = [str(c) for c in classes].index(pos) if pos in [str(c) for c in classes] else 1
            yb = (y.astype(str) == pos).astype(np.int64)
            binary_metrics(yb, proba[:, col])
        else:
            multiclass_metrics(y.astype(np.int64), proba)
    t3 = time.perf_counter()
    # Inference alone on the prepared inputs.
    t4 = time.perf_counter()
    sess.run(None, feeds)
    t5 = time.perf_counter()
    return {"read_s": t1 - t0, "infer_s": t2 - t1, "metrics_s": t3 - t2, "total_s": t3 - t0,
            "infer_only_s": t5 - t4}, len(df)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True, help="CSV or Parquet file")
    ap.add_argument("--target", required=True)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    runs = []
    rows = 0
    for _ in range(max(1, a.repeats)):
        t, rows = run_once(a.model, a.data, a.target)
        runs.append(t)
    out = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    out["rows"] = rows
    print(json.dumps(out))


if __name__ == "__main__":
    main()
