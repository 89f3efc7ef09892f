#!/usr/bin/env bash
# Assay perf/robustness vs onnxruntime's Python API + numpy on the same model and data.
# Needs the venv of scripts/requirements-robustness.txt in .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/assay-target}"
rust_out=$(cargo bench --no-default-features --bench perfrobust 2>/dev/null)
py_out=$(.venv/bin/python benches/perfrobust_baseline.py 2>/dev/null)
echo "$rust_out" | grep -v '_ms \|_s \|_seconds '
echo "$py_out" | grep -v '_ms \|_s \|_seconds '
val() { echo "$1" | awk -v k="$2" '$1 == k {print $2}'; }
for key in latency_p50_ms throughput_rows_per_s robustness_seconds; do
  r=$(val "$rust_out" $key)
  p=$(val "$py_out" $key)
  python3 -c "
k, r, p = '$key', $r, $p
better = p / r if k != 'throughput_rows_per_s' else r / p
print(f'{k:<24} assay {r:>12.4f}   python {p:>12.4f}   assay/python {r / p:6.2f} ({better:.2f}x in assay\'s favour)')"
done
