#!/usr/bin/env bash
# Assay interventional TreeSHAP vs shap's C++ TreeExplainer: adult_gbdt_v2 (120 trees, depth 4),
# 10k rows x 100 background, raw log-odds. Needs the venv of scripts/requirements-explain-tree.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/assay-target}"
rust_out=$(cargo bench --no-default-features --bench treeshap 2>/dev/null)
py_out=$(.venv/bin/python benches/treeshap_baseline.py 2>/dev/null)
echo "$rust_out" | grep -v '^median_seconds'
echo "$py_out" | grep -v '^median_seconds'
r=$(echo "$rust_out" | awk '/^median_seconds/ {print $2}')
p=$(echo "$py_out" | awk '/^median_seconds/ {print $2}')
python3 -c "r, p = $r, $p; print(f'median: assay {r:.3f} s, shap {p:.3f} s, assay is {p / r:.1f}x faster')"
