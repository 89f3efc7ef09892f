#!/usr/bin/env python3
"""Train and export Assay's sample ONNX models (deterministic seeds).

Run from the repository root after sample_data/make_data.py:

    .venv/bin/python sample_models/make_models.py

Every model is trained on a *_reference.csv split, converted with skl2onnx
(zipmap=False for classifiers) and carries metadata_props:
features, model_name, model_version and (binary classifiers) positive_class.
Writes sample_models/manifest.json, and tests/fixtures/missing/sample_pipeline.json
(scikit-learn's metrics of adult_pipeline_missing.onnx on sample_data/adult_eval_missing.csv,
which make_data.py writes).
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

# The pipeline that imputes (adult_pipeline_missing.onnx): float and string inputs, one per column.
MISSING_NUMERIC = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
MISSING_STRING = ["workclass", "occupation", "marital_status", "relationship", "race", "sex", "native_country"]
MISSING_TRAIN_HOLES = {"age": 0.08, "hours_per_week": 0.05, "capital_gain": 0.03,
                       "workclass": 0.06, "occupation": 0.06, "native_country": 0.02}

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


def missing_frame(df: pd.DataFrame) -> pd.DataFrame:
    """What the ONNX model sees: numbers as float32 (missing = NaN), strings with "" for
    missing (skl2onnx's string imputer compares with a string; Assay feeds "" too)."""
    x = df[MISSING_NUMERIC + MISSING_STRING].copy()
    for c in MISSING_NUMERIC:
        x[c] = x[c].astype(np.float32)
    for c in MISSING_STRING:
        x[c] = x[c].fillna("").astype(str).astype(object)
    return x


def pipeline_missing(adult: pd.DataFrame, y: pd.Series) -> None:
    """``adult_pipeline_missing.onnx``: the standard skl2onnx export for data with holes.
    Trained on adult_reference.csv with missing cells injected at the rates of the evaluation
    file (numpy seed SEED + 1), so the imputers learn from data like the data they will see.
    Checks onnxruntime against scikit-learn on sample_data/adult_eval_missing.csv and writes
    scikit-learn's metrics there to tests/fixtures/missing/sample_pipeline.json."""
    import sys

    import onnxruntime as ort_
    import skl2onnx
    import sklearn
    from sklearn.impute import SimpleImputer

    sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
    from make_fixtures import binary_case, enc  # noqa: E402

    rng = np.random.default_rng(SEED + 1)
    train = adult.copy()
    for c, share in MISSING_TRAIN_HOLES.items():
        mask = rng.random(len(train)) < share
        if c in MISSING_NUMERIC:
            train[c] = train[c].astype(np.float64)
            train.loc[mask, c] = np.nan
        else:
            train[c] = train[c].astype(object)
            train.loc[mask, c] = np.nan
    pipe = Pipeline([
        ("prep", ColumnTransformer([
            ("num", Pipeline([("impute", SimpleImputer(strategy="median")),
                              ("scale", StandardScaler())]), MISSING_NUMERIC),
            ("cat", Pipeline([("impute", SimpleImputer(strategy="most_frequent", missing_values="")),
                              ("onehot", OneHotEncoder(handle_unknown="ignore"))]),
             [c for c in MISSING_STRING if c != "native_country"]),
            ("country", Pipeline([("impute", SimpleImputer(strategy="constant", missing_values="",
                                                           fill_value="unknown")),
                                  ("onehot", OneHotEncoder(handle_unknown="ignore"))]), ["native_country"]),
        ])),
        ("clf", LogisticRegression(max_iter=2000)),
    ])
    pipe.fit(missing_frame(train), y)
    initial = [(c, FloatTensorType([None, 1])) for c in MISSING_NUMERIC] + \
              [(c, StringTensorType([None, 1])) for c in MISSING_STRING]
    model = to_onnx(pipe, initial_types=initial, target_opset=TARGET_OPSET,
                    options={id(pipe): {"zipmap": False}})
    path = OUT / "adult_pipeline_missing.onnx"
    finish(model, path, MISSING_NUMERIC + MISSING_STRING, "adult_pipeline_missing", "1.0", "1",
           "ColumnTransformer(SimpleImputer(median) + StandardScaler on float columns, "
           "SimpleImputer(most_frequent) + OneHotEncoder on string columns, SimpleImputer(constant "
           "'unknown') + OneHotEncoder on native_country) + LogisticRegression; one input per raw "
           "column; missing numbers are NaN, missing strings \"\"")

    data = "sample_data/adult_eval_missing.csv"
    back = pd.read_csv(ROOT / data)  # empty cells are NaN, as a user's CSV
    xe = missing_frame(back)
    sess = ort_.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {c: xe[c].to_numpy(np.float32).reshape(-1, 1) for c in MISSING_NUMERIC}
    feeds.update({c: xe[c].to_numpy(dtype=object).reshape(-1, 1) for c in MISSING_STRING})
    p = np.asarray(sess.run(None, feeds)[1], dtype=np.float64)[:, 1]
    np.testing.assert_allclose(p, pipe.predict_proba(xe)[:, 1], atol=1e-5)
    assert np.isfinite(p).all()
    yv = back[ADULT_TARGET].to_numpy()
    c = binary_case("adult_pipeline_missing", yv, p)
    out = {
        "versions": {"scikit-learn": sklearn.__version__, "skl2onnx": skl2onnx.__version__,
                     "onnxruntime": ort_.__version__, "numpy": np.__version__, "pandas": pd.__version__},
        "model": "sample_models/adult_pipeline_missing.onnx", "data": data, "target": ADULT_TARGET,
        "positive_class": "1", "n": len(back),
        "rows_with_missing": int(back[MISSING_NUMERIC + MISSING_STRING].isna().any(axis=1).sum()),
        "missing_per_column": {k: int(v) for k, v in back[MISSING_NUMERIC + MISSING_STRING].isna().sum().items() if v},
        "definitions": "probabilities = onnxruntime P(class 1) on the CSV read with pandas (numbers "
                       "float32, missing strings \"\"); metrics at threshold 0.5 as in "
                       "tests/fixtures/metrics/binary.json",
        "probabilities_head": p[:20], "metrics": c["metrics"], "confusion_matrix": c["confusion_matrix"],
    }
    fx = ROOT / "tests/fixtures/missing/sample_pipeline.json"
    fx.write_text(json.dumps(enc(out), indent=1) + "\n")
    print(f"adult_pipeline_missing: {out['rows_with_missing']} of {out['n']} rows with a missing cell, "
          f"roc_auc {c['metrics']['roc_auc']:.4f}")


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

    # 6. A pipeline that imputes missing values, evaluated on data that has them.
    pipeline_missing(adult, ya)
    manifest.append({
        "file": "sample_models/adult_pipeline_missing.onnx", "name": "adult_pipeline_missing",
        "version": "1.0", "task": "binary_classification", "data": "sample_data/adult_eval_missing.csv",
        "reference": "sample_data/adult_reference.csv", "target": ADULT_TARGET,
        "features": MISSING_NUMERIC + MISSING_STRING, "positive_class": "1",
        "sensitive": ADULT_SENSITIVE,
        # Not one of the demo workspace's models (its own evaluation data).
        "demo": False,
    })

    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    for m in manifest:
        sess = ort.InferenceSession(str(ROOT / m["file"]), providers=["CPUExecutionProvider"])
        ins = [(i.name, i.type, i.shape) for i in sess.get_inputs()]
        outs = [(o.name, o.type, o.shape) for o in sess.get_outputs()]
        size = (ROOT / m["file"]).stat().st_size
        print(f"{m['file']} ({size} B)\n  inputs: {ins}\n  outputs: {outs}")


if __name__ == "__main__":
    main()
