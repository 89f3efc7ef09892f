#!/bin/sh
# Installs this unpacked Assay folder for the current user (no root): a link
# ~/.local/bin/assay -> ./assay, the desktop entry and the icons under ~/.local/share.
# The folder itself stays where it is; move it and run ./install.sh again.
#   ./install.sh              install (or refresh)
#   ./install.sh --uninstall  remove the link, the entry and the icons
set -eu
HERE="$(cd "$(dirname "$0")" && pwd)"
BIN_DIR="${XDG_BIN_HOME:-$HOME/.local/bin}"
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
SIZES="16 32 48 64 128 256 512"
# Desktops read ~/.local/share/icons without a cache (a user-level icon-theme.cache could go
# stale and hide icons other programs install later), so only the .desktop database is updated.
refresh() {
  command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$DATA/applications" || true
}
case "${1:-}" in
  --uninstall)
    [ -L "$BIN_DIR/assay" ] && rm -f "$BIN_DIR/assay"
    rm -f "$DATA/applications/assay.desktop" "$DATA/icons/hicolor/scalable/apps/assay.svg"
    for s in $SIZES; do rm -f "$DATA/icons/hicolor/${s}x${s}/apps/assay.png"; done
    refresh
    echo "assay: removed the link, desktop entry and icons (this folder is untouched)"
    exit 0 ;;
  "") ;;
  *) echo "usage: ./install.sh [--uninstall]" >&2; exit 2 ;;
esac
mkdir -p "$BIN_DIR" "$DATA/applications"
ln -sf "$HERE/assay" "$BIN_DIR/assay"
# The entry runs this folder's binary by absolute path, so it works without ~/.local/bin on PATH.
sed -e "s|^Exec=assay|Exec=\"$HERE/assay\"|" -e "s|^TryExec=assay|TryExec=$HERE/assay|" \
  "$HERE/share/applications/assay.desktop" > "$DATA/applications/assay.desktop"
for s in $SIZES; do
  mkdir -p "$DATA/icons/hicolor/${s}x${s}/apps"
  cp "$HERE/share/icons/hicolor/${s}x${s}/apps/assay.png" "$DATA/icons/hicolor/${s}x${s}/apps/assay.png"
done
mkdir -p "$DATA/icons/hicolor/scalable/apps"
cp "$HERE/share/icons/hicolor/scalable/apps/assay.svg" "$DATA/icons/hicolor/scalable/apps/assay.svg"
refresh
echo "assay: linked $BIN_DIR/assay, installed the desktop entry and icons under $DATA"
case ":$PATH:" in *":$BIN_DIR:"*) ;; *) echo "assay: note: $BIN_DIR is not on your PATH" >&2 ;; esac
