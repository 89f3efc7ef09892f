#!/usr/bin/env bash
# `assay monitor` (release build) vs NannyML 0.13.1 on the same work: a 1,000,000-row
# prediction log with 10 features (8 float, 2 categorical) against a 100,000-row labelled
# reference, 10 chunks each; CBPE estimate + realized performance (ROC AUC, F1, precision,
# recall, specificity, accuracy) + univariate drift + PCA reconstruction error + missing and
# unseen values per chunk (benches/monitor_baseline.py runs NannyML's own calculator for each
# and says where the settings differ). End-to-end wall time including reading the Parquet
# files; medians of REPEATS runs. Two ratios: "same work" (NannyML's time for all parts) and
# the older one that counts only NannyML's read + CBPE + realized + univariate drift, while
# assay's time still covers everything it computes.
# Python: the venv of scripts/requirements-monitor.txt (PYTHON=…, default /work/venvs/monitor).
# Peak RSS of both sides from GNU time (/usr/bin/time). BUILD_FLAGS=--no-default-features
# builds the CLI without the window (same engine, quicker to build); ASSAY_BIN=path uses a
# binary already built.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-/work/venvs/monitor/bin/python}"
REPEATS="${REPEATS:-3}"
PY_REPEATS="${PY_REPEATS:-$REPEATS}"
DIR="${BENCH_DIR:-/tmp/assay-monitor-bench}"
[[ -f "$DIR/reference.parquet" && -f "$DIR/log.parquet" ]] || "$PY" benches/monitor_make_big.py --out "$DIR"
if [[ -n "${ASSAY_BIN:-}" ]]; then
    BIN="$ASSAY_BIN"
else
    cargo build --release --quiet --bin assay ${BUILD_FLAGS:-}
    BIN="${CARGO_TARGET_DIR:-target}/release/assay"
fi
times=()
rss=0
for _ in $(seq "$REPEATS"); do
    s=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "$DIR/assay.rss" "$BIN" monitor \
        --reference "$DIR/reference.parquet" --analysis "$DIR/log.parquet" \
        --target y --score y_pred_proba --prediction y_pred --chunk-number 10 \
        --json /dev/null 2>"$DIR/assay.err" || { cat "$DIR/assay.err" >&2; exit 1; }
    e=$(date +%s.%N)
    times+=("$(python3 -c "print($e - $s)")")
    r=$(tail -n1 "$DIR/assay.rss")
    (( r > rss )) && rss=$r
done
RUST=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
PYRES=$(/usr/bin/time -f "%M" -o "$DIR/python.rss" \
    "$PY" benches/monitor_baseline.py --dir "$DIR" --repeats "$PY_REPEATS" 2>"$DIR/python.err" | tail -n1) \
    || { cat "$DIR/python.err" >&2; exit 1; }
PYRSS=$(tail -n1 "$DIR/python.rss")
python3 - "$RUST" "$PYRES" "$REPEATS" "$rss" "$PYRSS" <<'PYEOF'
import json, sys
r, p, n = float(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
rss, pyrss = int(sys.argv[4]) / 1024, int(sys.argv[5]) / 1024
print(f"{p['rows']:,}-row log, 10 features, 10 chunks; medians")
print(f"{'':<44}{'assay':>10}{'NannyML 0.13.1':>16}{'ratio':>9}")
print(f"{'same work (read + all parts)':<44}{r:>9.2f}s{p['total_s']:>15.2f}s{p['total_s']/r:>8.1f}x")
print(f"{'NannyML: read + CBPE + realized + univ. drift':<44}{r:>9.2f}s{p['three_s']:>15.2f}s{p['three_s']/r:>8.1f}x")
print(f"NannyML parts: read {p['read_s']:.2f}s, CBPE {p['cbpe_s']:.2f}s, realized {p['realized_s']:.2f}s, "
      f"univariate drift {p['drift_s']:.2f}s, PCA {p['pca_s']:.2f}s, missing + unseen {p['quality_s']:.2f}s")
print(f"{'peak RSS':<44}{rss:>8.0f}MB{pyrss:>14.0f}MB")
print(f"(assay: {n} runs; NannyML: {p['repeats']} runs in one process)")
PYEOF
