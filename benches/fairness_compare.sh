#!/usr/bin/env bash
# Assay fairness engine vs fairlearn 0.15 MetricFrame, 1M rows x 2 sensitive attributes.
# Needs the venv of scripts/requirements-fairness.txt in .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/assay-target}"
rust_out=$(cargo bench --no-default-features --bench fairness 2>/dev/null)
py_out=$(.venv/bin/python benches/fairness_baseline.py 2>/dev/null)
echo "$rust_out" | grep -v '^median_seconds'
echo "$py_out" | grep -v '^median_seconds'
r=$(echo "$rust_out" | awk '/^median_seconds/ {print $2}')
p=$(echo "$py_out" | awk '/^median_seconds/ {print $2}')
python3 -c "r, p = $r, $p; print(f'median: assay {r:.4f} s, fairlearn {p:.3f} s, assay is {p / r:.1f}x faster')"
