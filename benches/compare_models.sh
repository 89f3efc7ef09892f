#!/usr/bin/env bash
# Assay's paired bootstrap / DeLong vs numpy + scikit-learn, 100k rows, two binary models.
# Needs the venv of scripts/requirements-compare.txt in .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/assay-target}"
rust_out=$(cargo bench --no-default-features --bench compare_models 2>/dev/null)
py_out=$(.venv/bin/python benches/compare_models_baseline.py "${1:-20}" 2>/dev/null)
echo "assay:  $(echo "$rust_out" | head -1)"
echo "python: $(echo "$py_out" | head -1)"
for key in paired_bootstrap_s delong_and_correlations_s; do
  r=$(echo "$rust_out" | awk -v k=$key '$1 == k {print $2}')
  p=$(echo "$py_out" | awk -v k=$key '$1 == k {print $2}')
  python3 -c "r, p = $r, $p; print(f'$key median: assay {r:.4f} s, python {p:.4f} s, ratio {p / r:.1f}x')"
done
