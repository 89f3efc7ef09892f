#!/usr/bin/env python3
"""Data of the monitoring benchmark (benches/monitor_compare.sh): a labelled reference of
100,000 rows and a prediction log of 1,000,000 rows, each with 10 features (8 float, 2
categorical), the binary classifier's score `y_pred_proba`, its prediction `y_pred` (score
>= 0.5) and the label `y` (the log is fully labelled, so realized performance is computed
too). The second half of the log is shifted (x0 and x1 move, category mix changes), so
drift and the estimate move. Parquet (zstd). Deterministic (seed 7)."""
import argparse
from pathlib import Path

import numpy as np
import pandas as pd


def frame(n: int, shift: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    x = rng.normal(size=(n, 8))
    x[:, 0] += shift
    x[:, 1] += 0.5 * shift
    cat_a = np.where(rng.uniform(size=n) < 0.3 + 0.2 * (shift > 0), "a", "b")
    cat_b = rng.choice(["p", "q", "r", "s"], size=n)
    w = np.array([1.2, -0.8, 0.6, 0.0, 0.3, -0.2, 0.0, 0.1])
    logit = x @ w + np.where(cat_a == "a", 0.5, -0.3)
    p = 1.0 / (1.0 + np.exp(-logit))
    y = (rng.uniform(size=n) < p).astype(np.int64)
    # The deployed model is a little off: its score is a noisy version of p.
    score = 1.0 / (1.0 + np.exp(-(logit * 0.9 + rng.normal(0, 0.3, size=n))))
    df = pd.DataFrame({f"x{i}": x[:, i] for i in range(8)})
    df["cat_a"] = cat_a
    df["cat_b"] = cat_b
    df["timestamp"] = pd.date_range("2024-01-01", periods=n, freq="10s")
    df["y_pred_proba"] = np.round(score, 6)
    df["y_pred"] = (df["y_pred_proba"] >= 0.5).astype(np.int64)
    df["y"] = y
    return df


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--reference-rows", type=int, default=100_000)
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    ref = frame(a.reference_rows, np.zeros(a.reference_rows), rng)
    shift = np.where(np.arange(a.rows) >= a.rows // 2, 1.0, 0.0)
    log = frame(a.rows, shift, rng)
    ref.to_parquet(out / "reference.parquet", index=False, compression="zstd")
    log.to_parquet(out / "log.parquet", index=False, compression="zstd")
    print(f"wrote {out}/reference.parquet ({len(ref):,} rows) and log.parquet ({len(log):,} rows)")


if __name__ == "__main__":
    main()
