#!/usr/bin/env bash
# Issue 19: wall time and peak RSS (from /usr/bin/time -v) of the release CLI on a large CSV —
# sample_data/adult_eval.csv tiled to ROWS rows (default 10,000,000, about 1 GB; generated
# under BIG_DIR, never committed) — side by side with the Python pipeline and raw ONNX Runtime:
#
#   evaluate --bootstrap 0            the point estimate (streamed in batches from 64 MiB)
#   evaluate (1000 resamples)         the default intervals; "intervals cost" = its wall / the
#                                     point estimate's (goal: ≤ 2.5× on 1M rows)
#   drift --reference …               (SKIP_DRIFT=1 leaves it out)
#   fairness --sensitive sex … age    one slicing per column of SENSITIVE (default "sex race
#                                     age"), the default 1,000 resamples, streamed in batches
#                                     from 64 MiB as evaluate (SKIP_FAIRNESS=1 leaves it out)
#   python pipeline                   benches/baseline.py --repeats 1 (pandas.read_csv +
#                                     onnxruntime + scikit-learn metrics and curves); its
#                                     in-process total and its own session.run time on the
#                                     prepared rows ("raw ORT", all cores) — SKIP_PY=1 leaves
#                                     it out
#
# and then the ratios of issue 19 item 3 (goals for 1M rows: ≥ 4× Python, ≤ 1.15× raw ORT,
# memory ≤ 0.3× Python). The load average is printed: on a shared machine, times vary.
#
#   benches/scale_compare.sh                          # 10M rows
#   ROWS=1000000 SKIP_DRIFT=1 benches/scale_compare.sh
#   ROWS=100000000 FORMAT=parquet SKIP_PY=1 benches/scale_compare.sh
#   FORMAT=lake SKIP_PY=1 benches/scale_compare.sh    # 10M rows as a hive-partitioned set
#
# FORMAT=parquet writes the tiled rows as Parquet instead (row groups of 2^20 rows, written by
# pyarrow from the Python venv; no CSV in between) and evaluates that. FORMAT=lake writes
# them as a lake-style set instead — one Parquet file of 2^20 rows per `chunk=K` folder (K is
# then a column) — and passes the folder as the dataset. SKIP_BOOT=1 leaves out the bootstrap run. Uses the release
# CLI built without the GUI (`cargo build --release --no-default-features`), or ASSAY=path.
# PYTHON: the venv with pandas, onnxruntime, scikit-learn (default /work/venvs/models, else
# .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${ROWS:-10000000}"
BIG="${BIG_DIR:-/tmp/assay-scale}"
MODEL="${MODEL:-sample_models/adult_gbdt_v1.onnx}"
TARGET="${TARGET:-income_over_50k}"
REFERENCE="${REFERENCE:-sample_data/adult_reference.csv}"
FORMAT="${FORMAT:-csv}"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
ASSAY="${ASSAY:-$TARGET_DIR/release/assay}"
PY="${PYTHON:-}"
if [[ -z "$PY" ]]; then
  if [[ -x /work/venvs/models/bin/python ]]; then PY=/work/venvs/models/bin/python; else PY=.venv/bin/python; fi
fi
if [[ ! -x "$ASSAY" ]]; then
  cargo build --release --no-default-features
fi
mkdir -p "$BIG"
if [[ "$FORMAT" == parquet || "$FORMAT" == lake ]]; then
  if [[ "$FORMAT" == lake ]]; then DATA="$BIG/lake_$ROWS"; else DATA="$BIG/big_$ROWS.parquet"; fi
  if [[ ! -e "$DATA" ]]; then
    t0=$(date +%s)
    "$PY" - sample_data/adult_eval.csv "$DATA" "$ROWS" "$FORMAT" <<'PYEOF'
import os
import sys
import pyarrow as pa
import pyarrow.csv as pc
import pyarrow.parquet as pq
src = pc.read_csv(sys.argv[1])
rows, group, lake = int(sys.argv[3]), 1 << 20, sys.argv[4] == "lake"
block = pa.concat_tables([src] * (-(-group // src.num_rows)))
tmp = sys.argv[2] + ".part"
writer = None if lake else pq.ParquetWriter(tmp, src.schema)
done = 0
while done < rows:
    # The sample's rows repeated in file order (as the CSV case), cut at `rows`.
    start = done % src.num_rows
    take = min(group, rows - done)
    table = pa.concat_tables([block, block]).slice(start, take)
    if lake:
        folder = os.path.join(tmp, f"chunk={done // group:04d}")
        os.makedirs(folder)
        pq.write_table(table, os.path.join(folder, "part-0.parquet"), row_group_size=group)
    else:
        writer.write_table(table, row_group_size=group)
    done += take
if writer is not None:
    writer.close()
os.rename(tmp, sys.argv[2])
PYEOF
    echo "generated $DATA in $(( $(date +%s) - t0 )) s"
  fi
else
  DATA="$BIG/big_$ROWS.csv"
  if [[ ! -f "$DATA" ]]; then
    awk -v rows="$ROWS" 'NR == 1 { print; next } { line[n++] = $0 }
      END { for (i = 0; i < rows; i++) print line[i % n] }' sample_data/adult_eval.csv > "$DATA"
  fi
fi
echo "data: $DATA ($(du -sh "$DATA" | cut -f1), $ROWS rows); assay: $ASSAY; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-58s %10s %12s\n' "command" "wall (s)" "peak RSS"
WALL=0
RSS=0
run() {
  local label="$1"
  shift
  local log="$BIG/time.txt"
  local status=0
  /usr/bin/time -v "$@" > "$BIG/stdout.txt" 2> "$log" || status=$?
  # `assay drift` exits 3 when drift is detected; anything else non-zero is a failure.
  if [[ $status -ne 0 && $status -ne 3 ]]; then
    echo "$label failed (exit $status):" >&2
    tail -n 30 "$log" >&2
    return 1
  fi
  WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0;
    for (i = 1; i <= n; i++) s = s * 60 + t[i]; printf "%.2f", s }' "$log")
  RSS=$(awk -F': ' '/Maximum resident set size/ { printf "%.3f", $2 / 1048576 }' "$log")
  printf '%-58s %10s %8.2f GiB\n' "$label" "$WALL" "$RSS"
}
run "evaluate --bootstrap 0" "$ASSAY" evaluate --model "$MODEL" --data "$DATA" --target "$TARGET" --bootstrap 0 --json /dev/null
EVAL_WALL=$WALL
EVAL_RSS=$RSS
BOOT_WALL=""
if [[ -z "${SKIP_BOOT:-}" ]]; then
  run "evaluate (1000 resamples)" "$ASSAY" evaluate --model "$MODEL" --data "$DATA" --target "$TARGET" --json /dev/null
  BOOT_WALL=$WALL
fi
if [[ -z "${SKIP_FAIRNESS:-}" ]]; then
  read -r -a SENS <<< "${SENSITIVE:-sex race age}"
  FAIR_ARGS=()
  for c in "${SENS[@]}"; do FAIR_ARGS+=(--sensitive "$c"); done
  run "fairness --sensitive ${SENS[*]} (1000 resamples)" "$ASSAY" fairness --model "$MODEL" --data "$DATA" --target "$TARGET" "${FAIR_ARGS[@]}" --json /dev/null
fi
[[ -n "${SKIP_DRIFT:-}" ]] || run "drift --reference $(basename "$REFERENCE")" "$ASSAY" drift --reference "$REFERENCE" --current "$DATA" --json /dev/null
PY_JSON=""
if [[ -z "${SKIP_PY:-}" ]]; then
  run "python pipeline (pandas + onnxruntime + scikit-learn)" "$PY" benches/baseline.py --model "$MODEL" --data "$DATA" --target "$TARGET" --repeats 1
  PY_JSON=$(tail -n1 "$BIG/stdout.txt")
  PY_WALL=$WALL
  PY_RSS=$RSS
fi
echo
[[ -z "$BOOT_WALL" ]] || awk -v b="$BOOT_WALL" -v e="$EVAL_WALL" 'BEGIN { printf "intervals cost: 1000 resamples take %.2fx the point estimate (goal <= 2.5x)\n", b / e }'
if [[ -n "$PY_JSON" ]]; then
  "$PY" - "$PY_JSON" "$EVAL_WALL" "$EVAL_RSS" "$PY_WALL" "$PY_RSS" <<'PYEOF'
import json, sys
p = json.loads(sys.argv[1])
wall, rss, py_wall, py_rss = map(float, sys.argv[2:])
print(f"python: in-process total {p['total_s']:.2f} s (read {p['read_s']:.2f}, infer {p['infer_s']:.2f}, "
      f"metrics {p['metrics_s']:.2f}), process wall {py_wall:.2f} s; raw ORT session.run {p['infer_only_s']:.2f} s")
print(f"assay evaluate vs python: {p['total_s'] / wall:.2f}x faster (in-process total; goal >= 4x), "
      f"{py_wall / wall:.2f}x by process wall")
print(f"assay evaluate vs raw ORT inference of the same rows: {wall / p['infer_only_s']:.2f}x (goal <= 1.15x)")
print(f"peak memory: {rss:.2f} GiB vs {py_rss:.2f} GiB = {rss / py_rss:.2f}x python (goal <= 0.3x)")
PYEOF
fi
