#!/usr/bin/env bash
# Assay KernelSHAP vs shap 0.51 KernelExplainer: 24-feature MLP (ONNX, same file on both
# sides), 50 rows, background 100 rows, nsamples 2048. Needs the venv of
# scripts/requirements-explain.txt in .venv. ROWS=… and REPEATS=… override; CARGO_FLAGS=… is
# passed to cargo bench.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/assay-target}"
ROWS="${ROWS:-50}"
REPEATS="${REPEATS:-3}"
rust_out=$(cargo bench ${CARGO_FLAGS:-} --no-default-features --bench kernelshap -- --run --rows "$ROWS" --repeats "$REPEATS" 2>/dev/null)
py_out=$(.venv/bin/python benches/kernelshap_baseline.py "$ROWS" "$REPEATS" 2>/dev/null)
echo "assay:"; echo "$rust_out" | grep -v '_seconds'
echo "shap:";  echo "$py_out" | grep -v '_seconds'
r=$(echo "$rust_out" | awk '/^median_seconds/ {print $2}')
f=$(echo "$rust_out" | awk '/^floor_seconds/ {print $2}')
p=$(echo "$py_out" | awk '/^median_seconds/ {print $2}')
m=$(echo "$py_out" | awk '/^model_seconds/ {print $2}')
python3 -c "r, f, p, m = $r, $f, $p, $m; print(f'median: assay {r:.3f} s, shap {p:.3f} s: assay is {p / r:.1f}x faster'); print(f'model inference: shap spends {m:.3f} s in onnxruntime; the same model rows through Assay predict alone take {f:.3f} s'); print(f'outside inference: assay {max(r - f, 1e-9):.3f} s, shap {p - m:.3f} s ({(p - m) / max(r - f, 1e-9):.0f}x)')"
