"""Python baseline for benches/drift.rs: the same statistic families with scipy 1.17.1 and
Evidently 0.7.23 (scripts/requirements-drift.txt) on the same Parquet files. Prints one JSON
line of medians (seconds). Data loading is not timed."""

import argparse
import json
import time
import warnings

import numpy as np
import pandas as pd
from scipy import stats
from evidently.legacy.core import ColumnType
from evidently.legacy.calculations.stattests.chisquare_stattest import _chi_stat_test
from evidently.legacy.calculations.stattests.jensenshannon import _jensenshannon
from evidently.legacy.calculations.stattests.psi import _psi
from evidently.legacy.calculations.stattests.wasserstein_distance_norm import (
    _wasserstein_distance_norm,
)

warnings.filterwarnings("ignore")


def timed(f, repeats):
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default="/tmp/assay-drift-bench")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--total", action="store_true", help="also time Evidently's DataDriftPreset")
    a = ap.parse_args()
    ref = pd.read_parquet(f"{a.dir}/reference.parquet")
    cur = pd.read_parquet(f"{a.dir}/current.parquet")
    num = [c for c in ref.columns if ref[c].dtype.kind in "fi"]
    cat = [c for c in ref.columns if c not in num]
    N, C = ColumnType.Numerical, ColumnType.Categorical
    res = {"rows": len(ref), "numeric_columns": len(num), "categorical_columns": len(cat)}
    res["ks_s"] = timed(lambda: [stats.ks_2samp(ref[c], cur[c]) for c in num], a.repeats)
    res["wasserstein_s"] = timed(
        lambda: [_wasserstein_distance_norm(ref[c], cur[c], N, 0.1) for c in num], a.repeats
    )
    res["js_psi_s"] = timed(
        lambda: [
            (_jensenshannon(ref[c], cur[c], t, 0.1), _psi(ref[c], cur[c], t, 0.1))
            for cols, t in ((num, N), (cat, C))
            for c in cols
        ],
        a.repeats,
    )
    res["chi2_s"] = timed(lambda: [_chi_stat_test(ref[c], cur[c], C, 0.05) for c in cat], a.repeats)
    if a.total:
        from evidently import Report
        from evidently.presets import DataDriftPreset

        res["total_s"] = timed(
            lambda: Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref), 1
        )
    print(json.dumps(res))


if __name__ == "__main__":
    main()
