"""Writes the drift benchmark data: reference and current Parquet files with N rows each
(default 1,000,000): 6 float columns (some shifted in current), 2 integer columns with many
values, 4 text categorical columns (one with a category only in current). Deterministic."""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd


def frame(rng, n, drift):
    cats = np.array(["alpha", "beta", "gamma", "delta", "epsilon"])
    p = np.array([0.4, 0.25, 0.15, 0.12, 0.08])
    q = p if not drift else np.array([0.3, 0.25, 0.2, 0.15, 0.10])
    d = {}
    for i in range(6):
        shift = 0.05 * i if drift else 0.0
        d[f"f{i}"] = np.round(rng.normal(shift, 1 + (0.1 * i if drift else 0), n), 6)
    d["age"] = rng.integers(17, 91 + (5 if drift else 0), n)
    d["hours"] = rng.integers(1, 100, n)
    for i in range(3):
        d[f"c{i}"] = rng.choice(cats, n, p=q if i == 0 else p)
    new = np.array(["x", "y", "z", "new"]) if drift else np.array(["x", "y", "z"])
    d["c3"] = rng.choice(new, n)
    return pd.DataFrame(d)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--out", default="/tmp/assay-drift-bench")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    frame(rng, a.rows, False).to_parquet(out / "reference.parquet", index=False)
    frame(rng, a.rows, True).to_parquet(out / "current.parquet", index=False)


if __name__ == "__main__":
    main()
