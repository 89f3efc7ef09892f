#!/usr/bin/env bash
# Proof that the Linux release works on its own (issue #10). Unpacks the archive into an empty
# temp folder and, with a clean environment (env -i: no ORT_DYLIB_PATH, no cargo, HOME in the
# temp folder) and outside the source tree:
#   1. checks the archive layout (binary, runtime, demo files, desktop entry, icons, licences);
#   2. runs `assay --version`, `assay inspect` on a model and a dataset, and `assay evaluate` on
#      every bundled sample model, comparing the metrics with scikit-learn's numbers in
#      tests/fixtures/metrics/sample_eval.json (the tolerances of tests/cli.rs), and checks
#      with LD_DEBUG that the ONNX Runtime loaded is the bundled one, also through a symlink;
#   3. opens the window under Xvfb, checks it is titled Assay, carries the 128 px icon and
#      loaded the bundled runtime, and that the screenshot is not blank;
#   4. when run as root with dpkg: installs the .deb, runs /usr/bin/assay --version, inspect and
#      evaluate (runtime from /usr/lib/assay), then removes it again (KEEP_DEB=1 keeps it).
# Usage: dist/test-dist.sh [ARCHIVE]   (default: builds it with dist/build.sh --deb)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${DIST_OUT:-$ROOT/dist/out}"
ORT_VERSION="$(sed -n 's/^pub const ORT_VERSION: &str = "\(.*\)";$/\1/p' "$ROOT/src/engine/runtime.rs")"
VERSION="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/Cargo.toml" | head -n1)"
LIB="libonnxruntime.so.$ORT_VERSION"
ARCHIVE="${1:-}"
if [[ -z "$ARCHIVE" ]]; then
  if command -v cargo-deb >/dev/null; then "$ROOT/dist/build.sh" --deb >/dev/null; else "$ROOT/dist/build.sh" >/dev/null; fi
  ARCHIVE="$OUT/assay-$VERSION-$(uname -m)-linux.tar.gz"
fi
ARCHIVE="$(cd "$(dirname "$ARCHIVE")" && pwd)/$(basename "$ARCHIVE")"
FIXTURE="$ROOT/tests/fixtures/metrics/sample_eval.json"

TMP="$(mktemp -d /tmp/assay-dist-test.XXXXXX)"
APP=""; XVFB=""
cleanup() {
  [[ -n "$APP" ]] && kill "$APP" 2>/dev/null || true
  [[ -n "$XVFB" ]] && kill "$XVFB" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "test-dist: FAIL: $*" >&2; exit 1; }
ok() { echo "test-dist: ok: $*"; }
mkdir -p "$TMP/home" "$TMP/work" "$TMP/bin"
tar -xzf "$ARCHIVE" -C "$TMP/work"
PKG="$TMP/work/assay-$VERSION"
[[ -d "$PKG" ]] || fail "the archive has no top folder assay-$VERSION/"
[[ "$(ls "$TMP/work")" == "assay-$VERSION" ]] || fail "the archive has more than one top entry"
# The programs under test must not see the source tree: the binary has its path compiled in
# (the last fallback for .ort/ and the demo files). As root, each runs in a private mount
# namespace with an empty tmpfs over the source folder; otherwise the LD_DEBUG checks below
# still prove where the runtime came from.
if [[ $(id -u) == 0 ]] && unshare --mount true 2>/dev/null; then
  ISOLATE=(unshare --mount sh -c 'mount -t tmpfs tmpfs "$0" && exec "$@"' "$ROOT")
  isolation="source tree hidden"
else
  ISOLATE=()
  isolation="source tree NOT hidden (needs root and unshare)"
fi
# A clean environment: only HOME (empty, in the temp folder) and a system PATH.
clean() { "${ISOLATE[@]}" env -i HOME="$TMP/home" PATH=/usr/bin:/bin "$@"; }

# 1. Layout.
for f in assay "$LIB" libonnxruntime.so sample_models/manifest.json share/applications/assay.desktop \
  share/icons/hicolor/scalable/apps/assay.svg LICENSES/assay-LICENSE.txt LICENSES/onnxruntime-LICENSE.txt \
  LICENSES/onnxruntime-ThirdPartyNotices.txt LICENSES/datasets.txt LICENSES/rust-crates.txt INSTALL install.sh; do
  [[ -e "$PKG/$f" ]] || fail "missing $f"
done
[[ "$(readlink "$PKG/libonnxruntime.so")" == "$LIB" ]] || fail "libonnxruntime.so does not link to $LIB"
for s in 16 32 48 64 128 256 512; do
  dims="$(identify -format %wx%h "$PKG/share/icons/hicolor/${s}x${s}/apps/assay.png")"
  [[ "$dims" == "${s}x${s}" ]] || fail "icon ${s}x${s} is $dims"
done
if [[ "${ALLOW_UNSTRIPPED:-0}" != 1 ]]; then  # set when trying the packaging with a debug build
  file "$PKG/assay" | grep -q "stripped" && ! file "$PKG/assay" | grep -q "not stripped" || fail "the binary is not stripped"
fi
grep -q "CC BY 4.0" "$PKG/LICENSES/datasets.txt" || fail "dataset licence"
ok "layout ($(du -sh "$PKG" | cut -f1) unpacked)"

# 2. The command line, run from inside the unpacked folder (outside the source tree).
cd "$PKG"
v="$(clean ./assay --version)"
[[ "$v" == "assay $VERSION" ]] || fail "--version printed '$v'"
clean ./assay inspect --model sample_models/adult_logreg.onnx --json "$TMP/inspect.json"
clean ./assay inspect --data sample_data/adult_eval.parquet --json "$TMP/inspect-data.json"
clean ./assay inspect --model sample_models/adult_logreg.onnx > "$TMP/inspect.txt"
grep -q "skl2onnx" "$TMP/inspect.txt" || fail "inspect (table) does not name the producer"
python3 - "$TMP/inspect.json" "$TMP/inspect-data.json" "$PKG" <<'PYEOF' || fail "inspect output"
import hashlib, json, sys
m, d, pkg = (json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3])
want = hashlib.sha256(open(pkg + "/sample_models/adult_logreg.onnx", "rb").read()).hexdigest()
assert m["sha256"] == want, m["sha256"]
assert m["name"] == "adult_logreg" and m["producer_name"] == "skl2onnx", m
assert [i["name"] for i in m["inputs"]], m["inputs"]
assert json.dumps(d).count("income_over_50k") >= 1, "data inspect lacks the target column"
PYEOF
ok "assay --version ($v) and inspect (model sha256, producer; parquet schema)"

# evaluate every sample model; LD_DEBUG=files names the libonnxruntime the process loads.
python3 - "$FIXTURE" "$PKG/sample_models/manifest.json" > "$TMP/eval-args" <<'PYEOF'
import json, sys
fx, manifest = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
for r in fx["results"]:
    e = next(e for e in manifest if e["file"] == r["model"])
    print(r["model"], r["data"], e["target"])
PYEOF
n=0
while read -r model data target; do
  out="$TMP/eval-$n.json"
  clean LD_DEBUG=files ./assay evaluate --model "$model" --data "$data" --target "$target" \
    --bootstrap 0 --json "$out" 2> "$TMP/eval-$n.err" || { cat "$TMP/eval-$n.err" >&2; fail "evaluate $model"; }
  grep -q "file=$PKG/$LIB " "$TMP/eval-$n.err" || fail "evaluate $model did not load $PKG/$LIB"
  if grep -E "file=[^ ]*libonnxruntime" "$TMP/eval-$n.err" | grep -v -q "file=$PKG/$LIB "; then
    fail "evaluate $model loaded another libonnxruntime too"
  fi
  python3 - "$FIXTURE" "$model" "$out" <<'PYEOF' || fail "evaluate $model: metrics differ from scikit-learn"
import json, sys
fx, model, out = json.load(open(sys.argv[1])), sys.argv[2], json.load(open(sys.argv[3]))
r = next(r for r in fx["results"] if r["model"] == model)
assert out["task"] == r["task"] and out["n"] == r["n"], (out["task"], out["n"])
assert set(out["metrics"]) == set(r["metrics"]), sorted(out["metrics"])
for name, want in r["metrics"].items():
    got = out["metrics"][name]
    # As tests/cli.rs: sklearn summed the float32 ONNX outputs partly in float32.
    tol = 1e-6 if r["task"] == "regression" else 1e-7 if name in ("log_loss", "brier_score") else 1e-9
    assert abs(got - want) <= tol * (1 + abs(want)), f"{model}: {name} = {got}, scikit-learn {want}"
if r.get("confusion_matrix") is not None:
    assert out["confusion_matrix"] == r["confusion_matrix"], "confusion matrix"
PYEOF
  n=$((n + 1))
done < "$TMP/eval-args"
[[ $n -ge 6 ]] || fail "only $n sample models evaluated"
ok "evaluate on $n bundled models matches scikit-learn (sample_eval.json); runtime = bundled $LIB"

# Through a symlink elsewhere (as ~/.local/bin/assay or /usr/bin/assay), from another folder.
ln -s "$PKG/assay" "$TMP/bin/assay"
cd "$TMP/home"
clean LD_DEBUG=files "$TMP/bin/assay" evaluate --model "$PKG/sample_models/adult_logreg.onnx" \
  --data "$PKG/sample_data/adult_eval.csv" --target income_over_50k --bootstrap 0 --json "$TMP/link.json" 2> "$TMP/link.err" \
  || { cat "$TMP/link.err" >&2; fail "evaluate through a symlink"; }
grep -q "file=$PKG/$LIB " "$TMP/link.err" || fail "through a symlink the bundled runtime was not found"
ok "through a symlink ($TMP/bin/assay) the runtime beside the real binary is found"

# install.sh (per user, into the temp HOME) and --uninstall.
clean sh "$PKG/install.sh" > /dev/null 2>&1 || fail "install.sh"
[[ "$(readlink "$TMP/home/.local/bin/assay")" == "$PKG/assay" ]] || fail "install.sh: no ~/.local/bin/assay link"
grep -q "^Exec=\"$PKG/assay\"$" "$TMP/home/.local/share/applications/assay.desktop" || fail "install.sh: desktop entry Exec"
[[ -f "$TMP/home/.local/share/icons/hicolor/48x48/apps/assay.png" ]] || fail "install.sh: icons"
[[ "$(clean "$TMP/home/.local/bin/assay" --version)" == "assay $VERSION" ]] || fail "install.sh: the link does not run"
clean sh "$PKG/install.sh" --uninstall > /dev/null 2>&1 || fail "install.sh --uninstall"
[[ ! -e "$TMP/home/.local/bin/assay" && ! -e "$TMP/home/.local/share/applications/assay.desktop" ]] \
  || fail "install.sh --uninstall left files"
ok "install.sh links ~/.local/bin/assay, installs the desktop entry and icons; --uninstall removes them"

# 3. The window under Xvfb: window_check BINARY LIBRARY SCREENSHOT starts BINARY with the clean
# environment, waits for its window, checks the title names the demo workspace (the demo files
# were found), the 128 px icon, that LIBRARY is mapped, and that the screenshot is not blank.
window_check() {
  local bin=$1 lib=$2 shot=$3 disp wid="" title colours mean icon=""
  disp=":$((150 + RANDOM % 100))"
  Xvfb "$disp" -screen 0 1440x900x24 -nolisten tcp >/dev/null 2>&1 & XVFB=$!
  sleep 1
  mkdir -p "$TMP/xdg" && chmod 700 "$TMP/xdg"
  cd "$TMP/home"
  "${ISOLATE[@]}" env -i HOME="$TMP/home" PATH=/usr/bin:/bin DISPLAY="$disp" XDG_RUNTIME_DIR="$TMP/xdg" \
    "$bin" > "$TMP/gui.log" 2>&1 & APP=$!
  for _ in $(seq 1 40); do  # up to 20 s for the window
    sleep 0.5
    kill -0 "$APP" 2>/dev/null || { tail -n 20 "$TMP/gui.log" >&2; fail "$bin: the window exited"; }
    wid="$(DISPLAY=$disp xdotool search --name '^Assay' 2>/dev/null | head -n1 || true)"
    [[ -n "$wid" ]] && break
  done
  [[ -n "$wid" ]] || { tail -n 20 "$TMP/gui.log" >&2; fail "$bin: no window titled Assay…"; }
  sleep "${SHOT_WAIT:-6}"  # let the demo workspace load and render
  kill -0 "$APP" 2>/dev/null || { tail -n 20 "$TMP/gui.log" >&2; fail "$bin: the window exited"; }
  grep -q " $lib$" "/proc/$APP/maps" || fail "$bin: the window did not load $lib"
  title="$(DISPLAY=$disp xdotool getwindowname "$wid")"
  [[ "$title" == *"Demo"* ]] || fail "$bin: the window title '$title' does not name the demo workspace"
  if command -v xprop >/dev/null; then
    DISPLAY=$disp xprop -id "$wid" _NET_WM_ICON > "$TMP/icon.txt"  # to a file: no SIGPIPE under pipefail
    head -n 1 "$TMP/icon.txt" | grep -q -E "128 x 128|128, 128" \
      || fail "$bin: the window has no 128x128 icon (_NET_WM_ICON)"
    icon="128 px window icon, "
  fi
  DISPLAY=$disp import -window root "$shot"
  colours="$(identify -format %k "$shot")"
  mean="$(identify -format '%[fx:mean]' "$shot")"
  [[ "$colours" -ge 64 ]] || fail "$bin: the screenshot has only $colours colours (blank?)"
  python3 -c "import sys; m=float(sys.argv[1]); sys.exit(0 if 0.03 < m < 0.97 else 1)" "$mean" \
    || fail "$bin: the screenshot is uniformly dark or light (mean $mean)"
  if grep -qi "warning\|error" "$TMP/gui.log"; then
    echo "test-dist: the window logged:" >&2; grep -i -m 5 "warning\|error" "$TMP/gui.log" >&2 || true
  fi
  kill "$APP"; wait "$APP" 2>/dev/null || true; APP=""
  kill "$XVFB"; wait "$XVFB" 2>/dev/null || true; XVFB=""
  ok "$bin window: '$title', ${icon}runtime $lib mapped, screenshot $shot ($colours colours, mean $mean)"
}
GUI=0
if command -v Xvfb >/dev/null && command -v xdotool >/dev/null && command -v import >/dev/null; then
  GUI=1
  window_check "$PKG/assay" "$PKG/$LIB" "$OUT/screenshot.png"
else
  echo "test-dist: skipped the window check (needs Xvfb, xdotool and ImageMagick)" >&2
fi

# 4. The Debian package.
DEB="$(ls "$OUT"/assay_"$VERSION"-*_amd64.deb 2>/dev/null | head -n1 || true)"
if [[ -z "$DEB" ]]; then
  echo "test-dist: skipped the .deb check (no $OUT/assay_${VERSION}-*_amd64.deb; make dist builds it)" >&2
elif [[ $(id -u) != 0 ]] || ! command -v dpkg >/dev/null; then
  echo "test-dist: skipped dpkg -i (needs root and dpkg); contents:" >&2
  dpkg-deb --contents "$DEB" | head -n 20 >&2 || true
else
  dpkg -i "$DEB" > "$TMP/dpkg.log" 2>&1 || { cat "$TMP/dpkg.log" >&2; fail "dpkg -i $DEB"; }
  [[ "${KEEP_DEB:-0}" == 1 ]] || trap 'dpkg -r assay >/dev/null 2>&1 || true; cleanup' EXIT
  [[ -L /usr/bin/assay ]] || fail "/usr/bin/assay is not a symlink"
  v="$(clean /usr/bin/assay --version)"
  [[ "$v" == "assay $VERSION" ]] || fail "installed --version printed '$v'"
  cd "$TMP/home"
  clean assay inspect --model /usr/lib/assay/sample_models/adult_logreg.onnx > /dev/null || fail "installed inspect"
  clean LD_DEBUG=files assay evaluate --model /usr/lib/assay/sample_models/adult_logreg.onnx \
    --data /usr/lib/assay/sample_data/adult_eval.csv --target income_over_50k --bootstrap 0 --json - \
    > "$TMP/deb-eval.json" 2> "$TMP/deb-eval.err" || { cat "$TMP/deb-eval.err" >&2; fail "installed evaluate"; }
  grep -q "file=/usr/lib/assay/$LIB " "$TMP/deb-eval.err" || fail "the installed assay did not load /usr/lib/assay/$LIB"
  cmp -s <(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['metrics'])" "$TMP/deb-eval.json") \
         <(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['metrics'])" "$TMP/eval-0.json") \
    || fail "the installed assay's metrics differ from the archive's"
  ok "dpkg -i $(basename "$DEB"): /usr/bin/assay --version ($v), inspect, evaluate (runtime /usr/lib/assay/$LIB)"
  [[ $GUI == 1 ]] && window_check /usr/bin/assay "/usr/lib/assay/$LIB" "$OUT/screenshot-deb.png"
fi
echo "test-dist: all checks passed ($isolation)"
