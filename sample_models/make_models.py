#!/usr/bin/env python3
"""Train and export Assay's sample ONNX models (deterministic seeds).

Run from the repository root after sample_data/make_data.py:

    .venv/bin/python sample_models/make_models.py

Every model is trained on a *_reference.csv split, converted with skl2onnx
(zipmap=False for classifiers) and carries metadata_props:
features, model_name, model_version and (binary classifiers) positive_class.
Writes sample_models/manifest.json.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType, Int64TensorType, StringTensorType
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "sample_models"
SEED = 7
# Conservative opsets: run on onnxruntime >= 1.14 (and 1.31).
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}

ADULT_FEATURES = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week", "sex_male"]
ADULT_TARGET = "income_over_50k"
ADULT_SENSITIVE = ["sex", "race", "age"]
ABALONE_FEATURES = ["length", "diameter", "height", "whole_weight", "shucked_weight", "viscera_weight", "shell_weight"]
ABALONE_TARGET = "rings"

RAW_NUMERIC = ["age", "education_num", "hours_per_week"]
RAW_STRING = ["sex", "race", "workclass", "marital_status"]


def set_meta(model: onnx.ModelProto, **kv: str) -> None:
    existing = {p.key: p for p in model.metadata_props}
    for k, v in kv.items():
        if v is None:
            continue
        if k in existing:
            existing[k].value = v
        else:
            p = model.metadata_props.add()
            p.key, p.value = k, v


def finish(model: onnx.ModelProto, path: Path, features: list[str], name: str, version: str,
           positive_class: str | None, description: str) -> None:
    set_meta(model, features=",".join(features), model_name=name, model_version=version,
             positive_class=positive_class)
    # skl2onnx sometimes emits the default-domain opset_import twice (e.g. ('', 17) x2);
    # keep one entry per domain (the highest version).
    opsets: dict[str, int] = {}
    for o in model.opset_import:
        opsets[o.domain] = max(opsets.get(o.domain, 0), o.version)
    del model.opset_import[:]
    for domain, version_ in sorted(opsets.items()):
        model.opset_import.add(domain=domain, version=version_)
    model.doc_string = description
    model.model_version = int(float(version))
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())


def numeric_model(est, X: pd.DataFrame, y: pd.Series, path: Path, features: list[str], name: str,
                  version: str, positive_class: str | None, description: str) -> None:
    est.fit(X[features].to_numpy(np.float32), y.to_numpy())
    options = {id(est): {"zipmap": False}} if positive_class is not None else None
    model = to_onnx(est, initial_types=[("input", FloatTensorType([None, len(features)]))],
                    target_opset=TARGET_OPSET, options=options)
    finish(model, path, features, name, version, positive_class, description)
    # Parity check against scikit-learn.
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    xs = X[features].to_numpy(np.float32)[:500]
    outs = sess.run(None, {"input": xs})
    if positive_class is not None:
        ref = est.predict_proba(xs)
        np.testing.assert_allclose(outs[1], ref, atol=1e-4)
    else:
        ref = est.predict(xs)
        np.testing.assert_allclose(outs[0].ravel(), ref, rtol=1e-4, atol=1e-3)


def main() -> None:
    adult = pd.read_csv(ROOT / "sample_data/adult_reference.csv")
    abalone = pd.read_csv(ROOT / "sample_data/abalone_reference.csv")
    ya = adult[ADULT_TARGET]
    manifest = []

    def add(file, name, version, task, data, reference, target, features, positive_class, sensitive):
        manifest.append({
            "file": f"sample_models/{file}", "name": name, "version": version, "task": task,
            "data": f"sample_data/{data}", "reference": f"sample_data/{reference}", "target": target,
            "features": features, "positive_class": positive_class, "sensitive": sensitive,
        })

    # 1. Logistic regression.
    numeric_model(Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=1000))]),
                  adult, ya, OUT / "adult_logreg.onnx", ADULT_FEATURES, "adult_logreg", "1.0", "1",
                  "StandardScaler + LogisticRegression on Adult numeric features")
    add("adult_logreg.onnx", "adult_logreg", "1.0", "binary_classification", "adult_eval.csv",
        "adult_reference.csv", ADULT_TARGET, ADULT_FEATURES, "1", ADULT_SENSITIVE)

    # 2. Gradient boosting v1 / v2 (same model_name).
    # (HistGradientBoostingClassifier does not convert with skl2onnx 1.20 + onnx 1.23:
    # "AttributeProto.ints: Expected an int, got a boolean" in TreeEnsembleClassifier.)
    numeric_model(GradientBoostingClassifier(n_estimators=60, max_depth=3, learning_rate=0.1, random_state=SEED),
                  adult, ya, OUT / "adult_gbdt_v1.onnx", ADULT_FEATURES, "adult_gbdt", "1.0", "1",
                  "GradientBoostingClassifier(n_estimators=60, max_depth=3, learning_rate=0.1)")
    add("adult_gbdt_v1.onnx", "adult_gbdt", "1.0", "binary_classification", "adult_eval.csv",
        "adult_reference.csv", ADULT_TARGET, ADULT_FEATURES, "1", ADULT_SENSITIVE)
    numeric_model(GradientBoostingClassifier(n_estimators=120, max_depth=4, learning_rate=0.05,
                                             subsample=0.8, random_state=SEED),
                  adult, ya, OUT / "adult_gbdt_v2.onnx", ADULT_FEATURES, "adult_gbdt", "2.0", "1",
                  "GradientBoostingClassifier(n_estimators=120, max_depth=4, learning_rate=0.05, subsample=0.8)")
    add("adult_gbdt_v2.onnx", "adult_gbdt", "2.0", "binary_classification", "adult_eval.csv",
        "adult_reference.csv", ADULT_TARGET, ADULT_FEATURES, "1", ADULT_SENSITIVE)

    # 3. MLP.
    numeric_model(Pipeline([("scale", StandardScaler()),
                            ("clf", MLPClassifier(hidden_layer_sizes=(32, 16), max_iter=300,
                                                  early_stopping=True, random_state=SEED))]),
                  adult, ya, OUT / "adult_mlp.onnx", ADULT_FEATURES, "adult_mlp", "1.0", "1",
                  "StandardScaler + MLPClassifier(32, 16)")
    add("adult_mlp.onnx", "adult_mlp", "1.0", "binary_classification", "adult_eval.csv",
        "adult_reference.csv", ADULT_TARGET, ADULT_FEATURES, "1", ADULT_SENSITIVE)

    # 4. Random forest regressor on abalone.
    numeric_model(RandomForestRegressor(n_estimators=20, max_depth=6, random_state=SEED, n_jobs=1),
                  abalone, abalone[ABALONE_TARGET], OUT / "abalone_rf.onnx", ABALONE_FEATURES,
                  "abalone_rf", "1.0", None, "RandomForestRegressor(n_estimators=20, max_depth=6)")
    add("abalone_rf.onnx", "abalone_rf", "1.0", "regression", "abalone_eval.csv",
        "abalone_reference.csv", ABALONE_TARGET, ABALONE_FEATURES, None, ["sex"])

    # 5. Raw-input pipeline: one ONNX input per column, [None, 1], int64 / string.
    raw_cols = RAW_NUMERIC + RAW_STRING
    pipe = Pipeline([
        ("prep", ColumnTransformer([
            ("num", StandardScaler(), RAW_NUMERIC),
            ("cat", OneHotEncoder(handle_unknown="ignore"), RAW_STRING),
        ])),
        ("clf", LogisticRegression(max_iter=1000)),
    ])
    Xr = adult[raw_cols].copy()
    for c in RAW_NUMERIC:
        Xr[c] = Xr[c].astype("int64")
    for c in RAW_STRING:
        Xr[c] = Xr[c].astype(object)
    pipe.fit(Xr, ya)
    initial = [(c, Int64TensorType([None, 1])) for c in RAW_NUMERIC] + \
              [(c, StringTensorType([None, 1])) for c in RAW_STRING]
    model = to_onnx(pipe, initial_types=initial, target_opset=TARGET_OPSET,
                    options={id(pipe): {"zipmap": False}})
    path = OUT / "adult_pipeline_raw.onnx"
    finish(model, path, raw_cols, "adult_pipeline_raw", "1.0", "1",
           "ColumnTransformer(StandardScaler on int64 columns, OneHotEncoder on string columns) + LogisticRegression; one input per raw column")
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {c: Xr[c].to_numpy()[:500].reshape(-1, 1) for c in RAW_NUMERIC}
    feeds.update({c: Xr[c].to_numpy(dtype=object)[:500].reshape(-1, 1) for c in RAW_STRING})
    np.testing.assert_allclose(sess.run(None, feeds)[1], pipe.predict_proba(Xr.iloc[:500]), atol=1e-4)
    add("adult_pipeline_raw.onnx", "adult_pipeline_raw", "1.0", "binary_classification", "adult_eval.csv",
        "adult_reference.csv", ADULT_TARGET, raw_cols, "1", ADULT_SENSITIVE)

    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    for m in manifest:
        sess = ort.InferenceSession(str(ROOT / m["file"]), providers=["CPUExecutionProvider"])
        ins = [(i.name, i.type, i.shape) for i in sess.get_inputs()]
        outs = [(o.name, o.type, o.shape) for o in sess.get_outputs()]
        size = (ROOT / m["file"]).stat().st_size
        print(f"{m['file']} ({size} B)\n  inputs: {ins}\n  outputs: {outs}")


if __name__ == "__main__":
    main()
