#!/usr/bin/env bash
# Puts the ONNX Runtime files a release ships into a cache folder and prints its path:
#   libonnxruntime.so.<ver>, LICENSE and ThirdPartyNotices.txt, all from the official
#   `onnxruntime` wheel on PyPI (the same wheel scripts/fetch-onnxruntime.sh uses).
# The wheel is downloaded once (pip download, needs python3 with pip and PyPI); later runs are
# offline. Usage: dist/ort-runtime.sh   (prints the folder on stdout)
set -euo pipefail
ORT_VERSION="1.31.1"   # keep in step with src/engine/runtime.rs ORT_VERSION
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
grep -q "ORT_VERSION: &str = \"$ORT_VERSION\"" "$ROOT/src/engine/runtime.rs" \
  || { echo "ort-runtime: ORT_VERSION $ORT_VERSION differs from src/engine/runtime.rs" >&2; exit 2; }
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) PLATFORM="manylinux_2_28_x86_64" ;;
  Linux-aarch64) PLATFORM="manylinux_2_28_aarch64" ;;
  *) echo "ort-runtime: only Linux wheels are handled here; see dist/README.md for macOS and Windows" >&2; exit 2 ;;
esac
CACHE="${ASSAY_DIST_CACHE:-$HOME/.cache/assay-dist}/onnxruntime-$ORT_VERSION-$PLATFORM"
LIB="libonnxruntime.so.$ORT_VERSION"
if [[ -f "$CACHE/$LIB" && -f "$CACHE/LICENSE" && -f "$CACHE/ThirdPartyNotices.txt" ]]; then
  echo "$CACHE"; exit 0
fi
PY="$(command -v python3 || true)"
[[ -n "$PY" ]] || { echo "ort-runtime: python3 with pip is needed to fetch the onnxruntime wheel" >&2; exit 2; }
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
echo "ort-runtime: downloading onnxruntime==$ORT_VERSION ($PLATFORM) from PyPI…" >&2
"$PY" -m pip download --quiet --no-deps --only-binary=:all: --platform "$PLATFORM" \
  --python-version 3.11 --dest "$TMP" "onnxruntime==$ORT_VERSION" >&2
WHEEL="$(ls "$TMP"/onnxruntime-*.whl | head -n1)"
mkdir -p "$CACHE.part"
# Extract the three files and check each against the wheel's RECORD (sha256).
"$PY" - "$WHEEL" "$CACHE.part" "$LIB" <<'PYEOF'
import base64, csv, hashlib, io, os, sys, zipfile
wheel, dest, lib = sys.argv[1:4]
wanted = {"onnxruntime/capi/" + lib: lib, "onnxruntime/LICENSE": "LICENSE",
          "onnxruntime/ThirdPartyNotices.txt": "ThirdPartyNotices.txt"}
with zipfile.ZipFile(wheel) as z:
    record = next(n for n in z.namelist() if n.endswith(".dist-info/RECORD"))
    hashes = {row[0]: row[1] for row in csv.reader(io.TextIOWrapper(z.open(record), "utf-8")) if row}
    for name, out in wanted.items():
        data = z.read(name)
        digest = "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        if hashes.get(name) != digest:
            sys.exit(f"ort-runtime: {name} does not match the wheel RECORD")
        with open(os.path.join(dest, out), "wb") as f:
            f.write(data)
    os.chmod(os.path.join(dest, lib), 0o755)
PYEOF
rm -rf "$CACHE"
mv "$CACHE.part" "$CACHE"
echo "$CACHE"
