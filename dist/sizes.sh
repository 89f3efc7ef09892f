#!/usr/bin/env bash
# Prints what the release is made of (for dist/README.md "Sizes"): the stripped binary's
# largest ELF sections, the archive's largest members compressed on their own, and the crates
# with the most LLVM bitcode going into the fat-LTO link (the .rlib sizes in the dist target
# dir: a proxy, since the stripped binary has no symbols to attribute).
# Usage: dist/sizes.sh   (after make dist)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${DIST_OUT:-$ROOT/dist/out}"
TARGET="${ASSAY_DIST_TARGET_DIR:-$HOME/.cache/assay-dist-target}"
STAGE="$OUT/stage"
mb() { awk '{ printf "%8.1f MB  %s\n", $1 / 1e6, $2 }'; }
echo "== files"
for f in "$STAGE/assay" "$STAGE"/libonnxruntime.so.*; do echo "$(stat -c %s "$f") $(basename "$f")"; done | mb
ls "$OUT"/*.tar.gz "$OUT"/*.deb 2>/dev/null | while read -r f; do echo "$(stat -c %s "$f") $(basename "$f")"; done | mb
echo "== sections of the stripped binary (size -A)"
size -A "$STAGE/assay" | awk '$2 > 500000 { print $2, $1 }' | sort -rn | mb
echo "== archive members, gzip -9 each (what the download is made of)"
(cd "$STAGE" && find . -type f -printf '%P\n' | while read -r f; do echo "$(gzip -9 -c "$f" | wc -c) $f"; done) \
  | sort -rn | head -n 6 | mb
echo "== largest crates by .rlib (bitcode into the LTO link; polars_* summed)"
ls -l "$TARGET"/dist/deps/*.rlib | awk '{ n = $9; sub(/.*\/lib/, "", n); sub(/-[0-9a-f]+\.rlib$/, "", n);
  if (n ~ /^polars/) n = "polars_* (all)"; s[n] += $5; t += $5 }
  END { for (k in s) print s[k], k; print t, "(all crates)" }' | sort -rn | head -n 12 | mb
