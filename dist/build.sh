#!/usr/bin/env bash
# `make dist`: builds the release binary (profile `dist`: fat LTO, one codegen unit, stripped)
# and assembles dist/out/assay-<version>-x86_64-linux.tar.gz with the ONNX Runtime library,
# the demo files, desktop entry, icons, licences and INSTALL. With --deb it also builds
# dist/out/assay_<version>-1_amd64.deb (cargo-deb, [package.metadata.deb] in Cargo.toml).
# --no-build packages the dist build already in the target dir.
#
# Environment: ASSAY_DIST_TARGET_DIR (default ~/.cache/assay-dist-target: kept apart from the
# debug target dir so the long LTO build does not hold its lock), DIST_OUT (default dist/out),
# ASSAY_DIST_BIN (package this binary instead of building; for trying the packaging).
# Needs: cargo, python3 (crate licences; pip once, for the ONNX Runtime wheel), tar, gzip.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DEB=0
BUILD=1
for arg in "$@"; do
  case "$arg" in
    --deb) DEB=1 ;;
    --no-build) BUILD=0 ;;  # package the dist build already in the target dir
    *) echo "usage: dist/build.sh [--deb] [--no-build]" >&2; exit 2 ;;
  esac
done
VERSION="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)"
ORT_VERSION="$(sed -n 's/^pub const ORT_VERSION: &str = "\(.*\)";$/\1/p' src/engine/runtime.rs)"
[[ -n "$VERSION" && -n "$ORT_VERSION" ]] || { echo "dist: cannot read the versions" >&2; exit 1; }
ARCH="$(uname -m)"
OUT="${DIST_OUT:-$ROOT/dist/out}"
export CARGO_TARGET_DIR="${ASSAY_DIST_TARGET_DIR:-$HOME/.cache/assay-dist-target}"
NAME="assay-$VERSION"
ARCHIVE="$OUT/$NAME-$ARCH-linux.tar.gz"
# Reproducible archive: every file dated at the last commit. Not exported: cc-based build
# scripts (ring, zstd-sys, lz4-sys, psm) rerun when SOURCE_DATE_EPOCH changes, which would
# rebuild most of the dependency tree.
EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"

if [[ $DEB == 1 && "$OUT" != "$ROOT/dist/out" ]]; then
  echo "dist: --deb needs DIST_OUT unset (the .deb assets in Cargo.toml point into dist/out/stage)" >&2; exit 2
fi
if [[ -n "${ASSAY_DIST_BIN:-}" ]]; then
  # Packaging a given binary (to try the packaging quickly with a debug build; no .deb then).
  BIN="$ASSAY_DIST_BIN"
  [[ $DEB == 0 ]] || { echo "dist: --deb packages the dist-profile build; unset ASSAY_DIST_BIN" >&2; exit 2; }
else
  if [[ $BUILD == 1 ]]; then
    echo "dist: building assay $VERSION (profile dist) in $CARGO_TARGET_DIR…" >&2
    cargo build --profile dist --locked
  fi
  BIN="$CARGO_TARGET_DIR/dist/assay"
  [[ -x "$BIN" ]] || { echo "dist: $BIN missing (run without --no-build)" >&2; exit 2; }
fi
ORT_DIR="$(dist/ort-runtime.sh)"

# Staging folder with a fixed name (the .deb assets in Cargo.toml point into it); the archive
# renames it to assay-<version>/.
STAGE="$OUT/stage"
rm -rf "$STAGE"
mkdir -p "$STAGE"/{sample_models,sample_data,LICENSES,share/applications}
install -m 755 "$BIN" "$STAGE/assay"
install -m 755 "$ORT_DIR/libonnxruntime.so.$ORT_VERSION" "$STAGE/"
ln -s "libonnxruntime.so.$ORT_VERSION" "$STAGE/libonnxruntime.so"
# The demo workspace: every file sample_models/manifest.json names, plus the READMEs.
cp sample_models/manifest.json sample_models/README.md sample_models/*.onnx "$STAGE/sample_models/"
cp sample_data/README.md sample_data/*.csv sample_data/*.parquet "$STAGE/sample_data/"
python3 - "$STAGE" <<'PYEOF'
import json, os, sys
root = sys.argv[1]
for e in json.load(open(os.path.join(root, "sample_models/manifest.json"))):
    for key in ("file", "data", "reference"):
        if e.get(key) and not os.path.isfile(os.path.join(root, e[key])):
            sys.exit(f"dist: the manifest names {e[key]}, which is not staged")
PYEOF
install -m 644 dist/assay.desktop "$STAGE/share/applications/assay.desktop"
for size in 16 32 48 64 128 256 512; do
  install -D -m 644 "assets/icons/assay-$size.png" "$STAGE/share/icons/hicolor/${size}x${size}/apps/assay.png"
done
install -D -m 644 assets/assay.svg "$STAGE/share/icons/hicolor/scalable/apps/assay.svg"
install -m 644 LICENSE "$STAGE/LICENSES/assay-LICENSE.txt"
install -m 644 "$ORT_DIR/LICENSE" "$STAGE/LICENSES/onnxruntime-LICENSE.txt"
install -m 644 "$ORT_DIR/ThirdPartyNotices.txt" "$STAGE/LICENSES/onnxruntime-ThirdPartyNotices.txt"
install -m 644 dist/licenses/datasets.txt "$STAGE/LICENSES/datasets.txt"
python3 dist/crate-licenses.py "$STAGE/LICENSES/rust-crates.txt"
sed -e "s/@VERSION@/$VERSION/g" -e "s/@ORT_VERSION@/$ORT_VERSION/g" dist/INSTALL > "$STAGE/INSTALL"
install -m 755 dist/install.sh "$STAGE/install.sh"

rm -f "$ARCHIVE"
tar --create --file=- --directory="$OUT" --transform="s,^stage,$NAME," \
  --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$EPOCH" stage \
  | gzip -9 -n > "$ARCHIVE.part"
mv "$ARCHIVE.part" "$ARCHIVE"

if [[ $DEB == 1 ]]; then
  command -v cargo-deb >/dev/null || { echo "dist: cargo-deb missing: cargo install cargo-deb --locked" >&2; exit 2; }
  # The binary and everything else come from the staging folder (already built and stripped).
  cargo deb --no-build --no-strip --output "$OUT/" >&2
fi

size() { stat -c %s "$1" | awk '{ printf "%.1f MB", $1 / 1e6 }'; }
echo "dist: binary $(size "$STAGE/assay") ($(file -b "$STAGE/assay" | grep -o "not stripped\|stripped")), libonnxruntime $(size "$STAGE/libonnxruntime.so.$ORT_VERSION"), archive $(size "$ARCHIVE")" >&2
echo "$ARCHIVE"
