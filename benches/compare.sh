#!/usr/bin/env bash
# Assay vs pandas + onnxruntime + scikit-learn on 1,000,000 rows (tiled sample data), CSV and
# Parquet, end to end (read, infer, all metrics, no bootstrap). Prints medians side by side
# with ratios. Needs the Python venv of scripts/requirements-py.txt in .venv (or PYTHON=…).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
MODEL="${MODEL:-sample_models/adult_gbdt_v1.onnx}"
TARGET="${TARGET:-income_over_50k}"
REPEATS="${REPEATS:-5}"
BIG="${BIG_DIR:-/tmp/assay-bench}"
[[ -f "$BIG/big.csv" && -f "$BIG/big.parquet" ]] || "$PY" benches/make_big.py --rows 1000000 --out "$BIG"
RUST=$(cargo bench --quiet --no-default-features --bench evaluate -- --model "$MODEL" --target "$TARGET" --repeats "$REPEATS" "$BIG/big.csv" "$BIG/big.parquet")
echo "$RUST" > "$BIG/rust.jsonl"
: > "$BIG/python.jsonl"
for f in "$BIG/big.csv" "$BIG/big.parquet"; do
  "$PY" benches/baseline.py --model "$MODEL" --data "$f" --target "$TARGET" --repeats "$REPEATS" | tail -n1 >> "$BIG/python.jsonl"
done
"$PY" - "$BIG/rust.jsonl" "$BIG/python.jsonl" <<'PYEOF'
import json, sys
rust = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
py = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
print(f"{'file':<14}{'rows':>9} {'assay total':>12} {'python total':>13} {'speed-up':>9} {'ort floor':>10} {'total/floor':>12}")
for r, p in zip(rust, py):
    name = r["file"].rsplit("/", 1)[-1]
    print(f"{name:<14}{r['rows']:>9} {r['total_s']:>11.3f}s {p['total_s']:>12.3f}s {p['total_s']/r['total_s']:>8.2f}x {r['floor_s']:>9.3f}s {r['total_s']/r['floor_s']:>11.2f}x")
    print(f"{'':<14}{'':>9}   read {r['read_s']:.3f}s vs {p['read_s']:.3f}s; python infer {p['infer_s']:.3f}s, metrics {p['metrics_s']:.3f}s")
PYEOF
