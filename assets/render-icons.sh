#!/usr/bin/env bash
# Renders assets/assay.svg to the PNG sizes a Linux desktop (hicolor theme) and the window
# icon use: assets/icons/assay-<size>.png. The PNGs are committed; rerun after editing the SVG.
# Needs rsvg-convert (Debian/Ubuntu: apt-get install librsvg2-bin).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
command -v rsvg-convert >/dev/null || { echo "render-icons: rsvg-convert not found (apt-get install librsvg2-bin)" >&2; exit 2; }
mkdir -p icons
for size in 16 32 48 64 128 256 512; do
  rsvg-convert --width "$size" --height "$size" --format png assay.svg --output "icons/assay-$size.png"
done
ls -l icons
