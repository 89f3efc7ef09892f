#!/usr/bin/env bash
# Assay KernelSHAP vs shap 0.51 KernelExplainer: 24-feature MLP (ONNX, same file on both
# sides), 50 rows, background 100 rows, nsamples 2048. Needs the venv of
# scripts/requirements-explain.txt in .venv. ROWS=… and REPEATS=… override.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/assay-target}"
ROWS="${ROWS:-50}"
REPEATS="${REPEATS:-3}"
rust_out=$(cargo bench --no-default-features --bench kernelshap -- --run --rows "$ROWS" --repeats "$REPEATS" 2>/dev/null)
py_out=$(.venv/bin/python benches/kernelshap_baseline.py "$ROWS" "$REPEATS" 2>/dev/null)
echo "assay:"; echo "$rust_out" | grep -v '_seconds'
echo "shap:";  echo "$py_out" | grep -v '^median_seconds'
r=$(echo "$rust_out" | awk '/^median_seconds/ {print $2}')
f=$(echo "$rust_out" | awk '/^floor_seconds/ {print $2}')
p=$(echo "$py_out" | awk '/^median_seconds/ {print $2}')
python3 -c "r, f, p = $r, $f, $p; print(f'median: assay {r:.3f} s, shap {p:.3f} s, assay is {p / r:.1f}x faster; ONNX Runtime floor for the same model rows {f:.3f} s ({p / f:.1f}x under shap)')"
