#!/usr/bin/env python3
"""Tile sample_data/adult_eval.csv to a large benchmark input (deterministic).

    .venv/bin/python benches/make_big.py --rows 1000000 --out /tmp/assay-bench

Writes DIR/big.csv and DIR/big.parquet (same rows, same columns as adult_eval.csv:
the eval rows repeated in file order, then cut to --rows).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--src", default=str(ROOT / "sample_data" / "adult_eval.csv"))
    a = ap.parse_args()
    src = pd.read_csv(a.src)
    reps = -(-a.rows // len(src))
    idx = np.tile(np.arange(len(src)), reps)[: a.rows]
    big = src.iloc[idx].reset_index(drop=True)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    big.to_csv(out / "big.csv", index=False)
    big.to_parquet(out / "big.parquet", index=False, engine="pyarrow")
    print(f"wrote {len(big)} rows to {out / 'big.csv'} and {out / 'big.parquet'}")


if __name__ == "__main__":
    main()
