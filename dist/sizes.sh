#!/usr/bin/env bash
# Prints what the release is made of (for dist/README.md "Sizes"): the stripped binary's
# largest ELF sections, the archive's largest members compressed on their own and, given an
# unstripped build of the same source, its code by crate.
# Usage: dist/sizes.sh [UNSTRIPPED_ASSAY]   (after make dist)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${DIST_OUT:-$ROOT/dist/out}"
STAGE="$OUT/stage"
mb() { awk '{ printf "%8.1f MB  %s\n", $1 / 1e6, $2 }'; }
echo "== files"
for f in "$STAGE/assay" "$STAGE"/libonnxruntime.so.*; do echo "$(stat -c %s "$f") $(basename "$f")"; done | mb
ls "$OUT"/*.tar.gz "$OUT"/*.deb 2>/dev/null | while read -r f; do echo "$(stat -c %s "$f") $(basename "$f")"; done | mb
echo "== sections of the stripped binary (size -A)"
size -A "$STAGE/assay" | awk '$2 > 500000 && $1 ~ /^\./ { print $2, $1 }' | sort -rn | mb
echo "== archive members, gzip -9 each (what the download is made of)"
(cd "$STAGE" && find . -type f -printf '%P\n' | while read -r f; do echo "$(gzip -9 -c "$f" | wc -c) $f"; done) \
  | sort -rn | head -n 6 | mb
# The stripped binary has no symbols: attribute an unstripped build's code instead (e.g. the
# everyday debug build, whose dependencies are opt-level 1; a proxy for the LTO binary).
UNSTRIPPED="${1:-}"
if [[ -n "$UNSTRIPPED" ]]; then
  echo "== code by crate in $UNSTRIPPED (nm --size-sort; generics count for the first non-std crate in their name)"
  nm --size-sort -S -C --radix=d "$UNSTRIPPED" | awk '$3 ~ /^[tTrR]$/' | python3 -c '
import collections, re, sys
std = {"core", "alloc", "std", "hashbrown", "rayon_core", "rayon"}
groups = [("polars", "polars_* (+ arrow/parquet)"), ("wgpu", "wgpu_*/naga"), ("naga", "wgpu_*/naga"),
          ("egui", "egui/eframe/epaint"), ("eframe", "egui/eframe/epaint"), ("epaint", "egui/eframe/epaint"),
          ("tokio", "tokio/reqwest/rustls (polars cloud io)"), ("reqwest", "tokio/reqwest/rustls (polars cloud io)"),
          ("object_store", "tokio/reqwest/rustls (polars cloud io)"), ("hyper", "tokio/reqwest/rustls (polars cloud io)"),
          ("rustls", "tokio/reqwest/rustls (polars cloud io)"), ("h2", "tokio/reqwest/rustls (polars cloud io)"),
          ("zbus", "accesskit/zbus (accessibility)"), ("accesskit", "accesskit/zbus (accessibility)"),
          ("zvariant", "accesskit/zbus (accessibility)"), ("atspi", "accesskit/zbus (accessibility)"),
          ("winit", "winit/x11/wayland"), ("x11", "winit/x11/wayland"), ("wayland", "winit/x11/wayland"),
          ("smithay", "winit/x11/wayland")]
sizes, total = collections.Counter(), 0
for line in sys.stdin:
    parts = line.rstrip("\n").split(" ", 3)
    if len(parts) < 4:
        continue
    size, name = int(parts[1]), parts[3]
    total += size
    crates = re.findall(r"(?:^|[<\s(&\[,*])([A-Za-z_][A-Za-z0-9_]*)::", name)
    c = next((x for x in crates if x not in std), None)
    c = c or ("std/core/alloc/rayon generics (instantiating crate not in the name)" if crates else "(C and asm)")
    sizes[next((g for p, g in groups if c.startswith(p)), c)] += size
for c, n in sizes.most_common(12):
    print(f"{n / 1e6:8.1f} MB  {100 * n / total:4.1f} %  {c}")
print(f"{total / 1e6:8.1f} MB  code and read-only data in symbols")
'
fi
