#!/usr/bin/env bash
# `assay monitor --where` (a monitoring window on a partitioned log) against the whole log:
# the monitor benchmark's 1,000,000-row log (benches/monitor_make_big.py) hard-linked into
# DAYS `day=2024-03-DD` folders (DAYS million rows), monitored against its 100,000-row
# reference once for the last day only and once whole (the whole log, over 512 MiB held, is
# read by columns: monitor/log_data.rs). Prints wall time and peak RSS of each (GNU time) and
# checks the window read one file. CSV=1 adds the whole log as one CSV file (DAYS copies of
# the log, about 2 GB for 10: read by columns after a copy to Parquet files in TMPDIR).
# Generates its data; commits none.
# PYTHON=… a Python with numpy + pandas + pyarrow (default /work/venvs/monitor).
# BUILD_FLAGS=--no-default-features builds the CLI without the window (same engine);
# ASSAY_BIN=path uses a binary already built.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-/work/venvs/monitor/bin/python}"
DIR="${BENCH_DIR:-/tmp/assay-monitor-bench}"
DAYS="${DAYS:-10}"
[[ -f "$DIR/reference.parquet" && -f "$DIR/log.parquet" ]] || "$PY" benches/monitor_make_big.py --out "$DIR"
LAKE="$DIR/lake"
rm -rf "$LAKE"
for d in $(seq -w 1 "$DAYS"); do
    mkdir -p "$LAKE/day=2024-03-$d"
    ln "$DIR/log.parquet" "$LAKE/day=2024-03-$d/part-0.parquet" 2>/dev/null \
        || cp "$DIR/log.parquet" "$LAKE/day=2024-03-$d/part-0.parquet"
done
LAST="2024-03-$(printf '%02d' "$DAYS")"
if [[ -n "${ASSAY_BIN:-}" ]]; then
    BIN="$ASSAY_BIN"
else
    cargo build --release --quiet --bin assay ${BUILD_FLAGS:-}
    BIN="${CARGO_TARGET_DIR:-target}/release/assay"
fi
run() {
    local label=$1; shift
    local log=$1; shift
    /usr/bin/time -f "%e %M" -o "$DIR/window.time" "$BIN" monitor \
        --reference "$DIR/reference.parquet" --analysis "$log" "$@" \
        --target y --score y_pred_proba --prediction y_pred --chunk-number 10 \
        --json "$DIR/window.json" 2>"$DIR/window.err" || { cat "$DIR/window.err" >&2; exit 1; }
    read -r secs kb < "$DIR/window.time"
    python3 - "$label" "$secs" "$kb" "$DIR/window.json" <<'PYEOF'
import json, sys
label, secs, kb, path = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
a = json.load(open(path))["analysis"]
files = a.get("selected", {}).get("files", "all")
print(f"{label:<40}{a['rows']:>12,} rows {str(files):>5} files {secs:>8.2f} s {kb / 2**20:>7.2f} GiB")
PYEOF
}
echo "monitor: ${DAYS} day folders of 1,000,000 rows, 10 chunks, against 100,000 reference rows"
run "--where 'day>=$LAST' (one folder)" "$LAKE" --where "day>=$LAST"
run "whole log (read by columns)" "$LAKE"
if [[ -n "${CSV:-}" ]]; then
    CSVLOG="$DIR/log${DAYS}.csv"
    [[ -f "$CSVLOG" ]] || "$PY" - "$DIR/log.parquet" "$CSVLOG" "$DAYS" <<'PYEOF'
import os
import sys
import pyarrow.csv as pc
import pyarrow.parquet as pq
t = pq.read_table(sys.argv[1])
with pc.CSVWriter(sys.argv[2] + ".part", t.schema) as w:
    for _ in range(int(sys.argv[3])):
        w.write_table(t)
os.replace(sys.argv[2] + ".part", sys.argv[2])
PYEOF
    run "whole log as one CSV (copied, by columns)" "$CSVLOG"
fi
