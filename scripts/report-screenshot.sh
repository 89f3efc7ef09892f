#!/usr/bin/env bash
# Makes docs/report-example.png: the review report of the demo (Adult income) models — the
# demo workspace's data, roles and reference/current datasets, two model versions, a sign-off
# and a few reviewer notes — rendered by `assay report` and photographed by headless Chromium
# (Debian's `chromium`: apt-get install -y chromium).
#
#   scripts/report-screenshot.sh            # writes docs/report-example.png
#   KEEP=1 scripts/report-screenshot.sh     # also keeps the HTML and a PDF print in $WORK
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/assay-target}"
WORK="${WORK:-$(mktemp -d)}"
CHROMIUM="${CHROMIUM:-chromium}"
command -v "$CHROMIUM" >/dev/null || { echo "needs chromium (apt-get install -y chromium)" >&2; exit 2; }

cargo build --no-default-features --quiet
ASSAY="$CARGO_TARGET_DIR/debug/assay"

FEATURES='["age","education_num","capital_gain","capital_loss","hours_per_week","sex_male"]'
cat > "$WORK/demo-review.assay.json" <<JSON
{
  "name": "Demo — Adult income",
  "models": [
    {"path": "$ROOT/sample_models/adult_gbdt_v1.onnx", "label": "adult_gbdt v1.0", "features": $FEATURES},
    {"path": "$ROOT/sample_models/adult_gbdt_v2.onnx", "label": "adult_gbdt v2.0", "features": $FEATURES}
  ],
  "datasets": [
    {"path": "$ROOT/sample_data/adult_eval.csv", "role": "evaluation"},
    {"path": "$ROOT/sample_data/adult_reference.csv", "role": "reference"},
    {"path": "$ROOT/sample_data/adult_current.csv", "role": "current"}
  ],
  "roles": {"target": "income_over_50k", "positive_class": "1", "sensitive": ["sex", "race"]},
  "settings": {"threshold": 0.5, "bootstrap": 1000, "seed": 0},
  "signoffs": [
    {"reviewer": "A. Validator", "role": "model risk", "decision": "approved_with_conditions",
     "conditions": ["monitor drift of age monthly"], "date": "2026-11-25"}
  ],
  "notes": [
    {"id": "n1", "finding": {"kind": "general"}, "text": "Review meeting of 25 November: v2 is the candidate.", "author": "P. Owner", "created": "2026-11-25T14:00:00Z"},
    {"id": "n2", "finding": {"kind": "metric", "model": "adult_gbdt v2.0", "metric": "roc_auc"}, "text": "Small gain over v1; intervals overlap.", "author": "D. Scientist", "created": "2026-11-25T14:05:00Z"},
    {"id": "n3", "finding": {"kind": "group", "attribute": "sex", "group": "Female"}, "text": "Selection rate far below the four-fifths rule: discuss with HR.", "author": "F. Lead", "created": "2026-11-25T14:10:00Z"},
    {"id": "n4", "finding": {"kind": "drift_column", "column": "age"}, "text": "Expected: the new campaign targets younger applicants.", "author": "D. Analyst", "created": "2026-11-25T14:12:00Z"}
  ]
}
JSON

"$ASSAY" report --workspace "$WORK/demo-review.assay.json" --title "Adult income — review of adult_gbdt v1 and v2" \
  --explain 200 --robustness 300 --out "$WORK/report.html"
"$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --screenshot="$ROOT/docs/report-example.png" --window-size=1280,2400 \
  "file://$WORK/report.html" >/dev/null 2>&1
echo "wrote docs/report-example.png ($(stat -c %s "$ROOT/docs/report-example.png") bytes)"
if [[ -n "${KEEP:-}" ]]; then
  "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-pdf-header-footer \
    --print-to-pdf="$WORK/report.pdf" "file://$WORK/report.html" >/dev/null 2>&1
  echo "kept $WORK/report.html and $WORK/report.pdf"
else
  rm -rf "$WORK"
fi
