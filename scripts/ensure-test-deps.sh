#!/usr/bin/env bash
# The UI tests render with wgpu; on a machine without a GPU that needs Vulkan's CPU driver
# (Mesa lavapipe). Installs it with apt when missing and we are root; otherwise says how.
set -euo pipefail
if compgen -G "/usr/share/vulkan/icd.d/lvp_icd*.json" > /dev/null && ldconfig -p | grep -q libvulkan.so.1; then
  exit 0
fi
PKGS="libvulkan1 mesa-vulkan-drivers"
if [[ "$(id -u)" == 0 ]] && command -v apt-get > /dev/null; then
  echo "ensure-test-deps: installing $PKGS (Vulkan CPU driver for the UI snapshot tests)" >&2
  (apt-get install -y --no-install-recommends $PKGS > /dev/null 2>&1) || {
    apt-get update > /dev/null && apt-get install -y --no-install-recommends $PKGS > /dev/null
  }
else
  echo "ensure-test-deps: the UI tests need a Vulkan driver; on Debian/Ubuntu: sudo apt-get install $PKGS" >&2
fi
