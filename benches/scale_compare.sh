#!/usr/bin/env bash
# Issue 19, item 1 (measurement only): peak RSS and wall time of `assay evaluate` and
# `assay drift` on a large CSV — sample_data/adult_eval.csv tiled to ROWS rows (default
# 10,000,000, about 1 GB; generated under BIG_DIR, never committed) — plus `evaluate` with the
# default 1,000 bootstrap resamples. Uses the release CLI built without the GUI
# (`cargo build --release --no-default-features`), or ASSAY=path/to/assay.
#
#   benches/scale_compare.sh            # ROWS=10000000 BIG_DIR=/tmp/assay-scale
#
# SKIP_BOOT=1 leaves out the bootstrap run. Prints one line per run: command, wall seconds, peak RSS (GiB), from /usr/bin/time -v.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${ROWS:-10000000}"
BIG="${BIG_DIR:-/tmp/assay-scale}"
MODEL="${MODEL:-sample_models/adult_gbdt_v1.onnx}"
TARGET="${TARGET:-income_over_50k}"
REFERENCE="${REFERENCE:-sample_data/adult_reference.csv}"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
ASSAY="${ASSAY:-$TARGET_DIR/release/assay}"
if [[ ! -x "$ASSAY" ]]; then
  cargo build --release --no-default-features
fi
mkdir -p "$BIG"
DATA="$BIG/big_$ROWS.csv"
if [[ ! -f "$DATA" ]]; then
  awk -v rows="$ROWS" 'NR == 1 { print; next } { line[n++] = $0 }
    END { for (i = 0; i < rows; i++) print line[i % n] }' sample_data/adult_eval.csv > "$DATA"
fi
echo "data: $DATA ($(du -h "$DATA" | cut -f1), $ROWS rows); assay: $ASSAY"
printf '%-58s %10s %12s\n' "command" "wall (s)" "peak RSS"
run() {
  local label="$1"
  shift
  local log="$BIG/time.txt"
  local status=0
  /usr/bin/time -v "$@" > /dev/null 2> "$log" || status=$?
  # `assay drift` exits 3 when drift is detected; anything else non-zero is a failure.
  if [[ $status -ne 0 && $status -ne 3 ]]; then
    echo "$label failed (exit $status):" >&2
    tail -n 30 "$log" >&2
    return 1
  fi
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0;
    for (i = 1; i <= n; i++) s = s * 60 + t[i]; printf "%.1f", s }' "$log")
  rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.2f GiB", $2 / 1048576 }' "$log")
  printf '%-58s %10s %12s\n' "$label" "$wall" "$rss"
}
run "evaluate --bootstrap 0" "$ASSAY" evaluate --model "$MODEL" --data "$DATA" --target "$TARGET" --bootstrap 0 --json /dev/null
[[ -n "${SKIP_BOOT:-}" ]] || run "evaluate (1000 resamples)" "$ASSAY" evaluate --model "$MODEL" --data "$DATA" --target "$TARGET" --json /dev/null
run "drift --reference $(basename "$REFERENCE")" "$ASSAY" drift --reference "$REFERENCE" --current "$DATA" --json /dev/null
