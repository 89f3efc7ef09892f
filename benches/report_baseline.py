"""Baseline for benches/report.rs: Evidently 0.7.23's HTML report on the same data.

Evidently's DataDriftPreset (every column of the generated current data against
sample_data/adult_reference.csv) plus DataSummaryPreset, run and saved with save_html; prints
one JSON line with seconds and the HTML size. Evidently gets no model predictions here (Assay's
report also has evaluation and fairness), so the comparison favours Evidently on content.

    .venv/bin/python benches/report_baseline.py --current /tmp/assay-report-bench/current-1000000.csv
"""

import argparse
import json
import os
import tempfile
import time

import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset, DataSummaryPreset

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--current", required=True)
    args = ap.parse_args()
    t0 = time.perf_counter()
    cur = pd.read_csv(args.current)
    ref = pd.read_csv(os.path.join(ROOT, "sample_data/adult_reference.csv"))[list(cur.columns)]
    read_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    snapshot = Report([DataDriftPreset(), DataSummaryPreset()]).run(current_data=cur, reference_data=ref)
    run_s = time.perf_counter() - t1
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "evidently.html")
        t2 = time.perf_counter()
        snapshot.save_html(path)
        save_s = time.perf_counter() - t2
        size = os.path.getsize(path)
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    print(json.dumps({
        "rows": len(cur), "read_s": read_s, "run_s": run_s, "save_html_s": save_s,
        "total_s": read_s + run_s + save_s, "html_bytes": size,
        "external_refs": text.count("http://") + text.count("https://"),
        "scripts": text.count("<script"),
    }))


if __name__ == "__main__":
    main()
