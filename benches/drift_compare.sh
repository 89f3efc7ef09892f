#!/usr/bin/env bash
# Assay drift vs scipy 1.17.1 + Evidently 0.7.23 on 1,000,000 rows × 12 columns (6 float,
# 2 integer, 4 categorical; reference and current Parquet). Prints medians side by side with
# the ratio. Needs the venv of scripts/requirements-drift.txt in .venv (or PYTHON=…).
# TOTAL=1 also times Evidently's whole DataDriftPreset report (slow) against `drift()`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
REPEATS="${REPEATS:-5}"
DIR="${BENCH_DIR:-/tmp/assay-drift-bench}"
[[ -f "$DIR/reference.parquet" && -f "$DIR/current.parquet" ]] || "$PY" benches/drift_make_big.py --out "$DIR"
RUST=$(cargo bench --quiet --no-default-features --bench drift -- --dir "$DIR" --repeats "$REPEATS")
PYRES=$("$PY" benches/drift_baseline.py --dir "$DIR" --repeats "$REPEATS" ${TOTAL:+--total} | tail -n1)
"$PY" - "$RUST" "$PYRES" <<'PYEOF'
import json, sys
r, p = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"{p['rows']:,} rows; {p['numeric_columns']} numeric + {p['categorical_columns']} categorical columns; medians")
print(f"{'family':<22}{'assay':>10}{'scipy/Evidently':>17}{'speed-up':>10}")
for k, name in [("ks_s", "KS (stat + p)"), ("wasserstein_s", "Wasserstein (normed)"), ("js_psi_s", "JS + PSI (binned)"), ("chi2_s", "chi-square")]:
    print(f"{name:<22}{r[k]:>9.3f}s{p[k]:>16.3f}s{p[k]/r[k]:>9.1f}x")
print(f"assay: read {r['read_s']:.3f}s, prepare (extract + sort once) {r['prepare_s']:.3f}s, drift() end to end {r['total_s']:.3f}s")
if "total_s" in p:
    print(f"Evidently DataDriftPreset end to end {p['total_s']:.3f}s ({p['total_s']/r['total_s']:.1f}x)")
PYEOF
