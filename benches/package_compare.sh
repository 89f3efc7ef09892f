#!/usr/bin/env bash
# Assay vs OpenSSF model_signing 1.1.1: sign + verify a folder of one 256 MiB file and 200
# small files (private-key mode, P-256). Prints medians side by side with the ratio.
# Needs the venv of scripts/requirements-package.txt in .venv (or PYTHON=…).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
REPEATS="${REPEATS:-5}"
DIR="${BENCH_DIR:-/tmp/assay-package-bench}"
if [ ! -f "$DIR/weights.bin" ]; then
  mkdir -p "$DIR/small"
  head -c $((256 * 1024 * 1024)) /dev/urandom > "$DIR/weights.bin"
  for i in $(seq 1 200); do head -c 4096 /dev/urandom > "$DIR/small/f$i.bin"; done
fi
RUST=$(cargo bench --quiet --no-default-features --bench package -- "$DIR" --repeats "$REPEATS" | tail -n1)
PYRES=$("$PY" benches/package_baseline.py "$DIR" --repeats "$REPEATS" | tail -n1)
"$PY" - "$RUST" "$PYRES" <<'PYEOF'
import json, sys
r, p = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"{'step':<8}{'assay':>10}{'model_signing':>15}{'speed-up':>10}   ({r['files']} files, 256 MiB)")
for k in ("sign_s", "verify_s"):
    print(f"{k[:-2]:<8}{r[k]:>9.3f}s{p[k]:>14.3f}s{p[k]/r[k]:>9.2f}x")
PYEOF
