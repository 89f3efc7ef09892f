#!/usr/bin/env bash
# Assay's review report vs Evidently 0.7.23's HTML report on the same generated rows (default
# 1,000,000; ROWS=…): time and file size side by side. Needs the venv of
# scripts/requirements-report.txt in .venv (or PYTHON=…).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
ROWS="${ROWS:-1000000}"
DIR="${BENCH_DIR:-/tmp/assay-report-bench}"
RUST=$(cargo bench --quiet --no-default-features --bench report -- --rows "$ROWS" --dir "$DIR" --repeats "${REPEATS:-5}")
PYRES=$("$PY" benches/report_baseline.py --current "$DIR/current-$ROWS.csv" | tail -n1)
"$PY" - "$RUST" "$PYRES" <<'PYEOF'
import json, sys
r, p = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"{r['rows']:,} rows")
print(f"{'':<44}{'assay':>12}{'Evidently':>12}{'ratio':>9}")
print(f"{'HTML size (bytes)':<44}{r['html_bytes']:>12,}{p['html_bytes']:>12,}{p['html_bytes']/r['html_bytes']:>8.0f}x")
print(f"{'end to end incl. reading (s)':<44}{r['total_s']:>12.2f}{p['total_s']:>12.2f}{p['total_s']/r['total_s']:>8.1f}x")
print(f"{'writing the HTML (s)':<44}{r['render_s']:>12.4f}{p['save_html_s']:>12.2f}{p['save_html_s']/max(r['render_s'],1e-9):>8.0f}x")
print(f"assay: read {r['read_s']:.2f}s, evaluate (200 resamples) {r['evaluate_s']:.2f}s, fairness {r['fairness_s']:.2f}s, drift {r['drift_s']:.2f}s, render {r['render_s']*1000:.1f} ms (median)")
print(f"Evidently (DataDriftPreset + DataSummaryPreset, no model): read {p['read_s']:.2f}s, run {p['run_s']:.2f}s, save_html {p['save_html_s']:.2f}s; "
      f"{p['scripts']} <script> tags, {p['external_refs']} http(s) references")
PYEOF
