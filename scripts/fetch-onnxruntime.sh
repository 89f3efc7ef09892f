#!/usr/bin/env bash
# Fetches libonnxruntime.so from the official `onnxruntime` wheel on PyPI and puts it in
# .ort/ (git-ignored). Assay finds it there at start-up (see src/engine/runtime.rs).
# Usage: scripts/fetch-onnxruntime.sh            (no-op when the library is already there)
set -euo pipefail
ORT_VERSION="1.31.1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/.ort"
LIB="libonnxruntime.so.$ORT_VERSION"
if [[ -f "$DEST/$LIB" ]]; then
  exit 0
fi
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) PLATFORM="manylinux_2_28_x86_64" ;;
  Linux-aarch64) PLATFORM="manylinux_2_28_aarch64" ;;
  *) echo "fetch-onnxruntime: no wheel platform known for $(uname -s)-$(uname -m); set ORT_DYLIB_PATH to your libonnxruntime" >&2; exit 2 ;;
esac
PY="$(command -v python3 || command -v python || true)"
if [[ -z "$PY" ]]; then
  echo "fetch-onnxruntime: python3 with pip is needed to fetch the onnxruntime wheel" >&2; exit 2
fi
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
echo "fetch-onnxruntime: downloading onnxruntime==$ORT_VERSION wheel ($PLATFORM)…" >&2
"$PY" -m pip download --quiet --no-deps --only-binary=:all: --platform "$PLATFORM" \
  --python-version 3.11 --dest "$TMP" "onnxruntime==$ORT_VERSION"
WHEEL="$(ls "$TMP"/onnxruntime-*.whl | head -n1)"
mkdir -p "$DEST"
"$PY" - "$WHEEL" "$DEST" "$LIB" <<'PYEOF'
import sys, zipfile, os, shutil
wheel, dest, lib = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n.endswith("onnxruntime/capi/" + lib)]
    if not names:
        sys.exit(f"{lib} not found in {wheel}")
    with z.open(names[0]) as src, open(os.path.join(dest, lib + ".part"), "wb") as out:
        shutil.copyfileobj(src, out)
    for n in z.namelist():  # keep the licence notice next to the library
        if n in ("onnxruntime/LICENSE", "onnxruntime/ThirdPartyNotices.txt"):
            with z.open(n) as src, open(os.path.join(dest, os.path.basename(n)), "wb") as out:
                shutil.copyfileobj(src, out)
os.replace(os.path.join(dest, lib + ".part"), os.path.join(dest, lib))
PYEOF
ln -sf "$LIB" "$DEST/libonnxruntime.so"
echo "fetch-onnxruntime: $DEST/$LIB" >&2
