#!/usr/bin/env bash
# Installs what meshsim needs from Debian 12's packages, and nothing when all is
# there already (a dpkg query, well under a second). Idempotent; non-interactive.
# Usage: tools/install-deps.sh [--tests]   (--tests: also what the test suite uses)
set -euo pipefail
# libboost-dev also brings the header-only Asio and Beast the real runtime (runtime/) uses.
packages=(g++ cmake ninja-build libboost-fiber-dev libboost-context-dev libboost-dev
          nlohmann-json3-dev libcli11-dev catch2 librapidcheck-dev ccache)
if [ "${1:-}" = "--tests" ]; then
  packages+=(clang-format)  # the suite checks every source is formatted (.clang-format)
  packages+=(chromium)      # tests/browser opens report.html in headless Chromium
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "meshsim: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo > /dev/null || { echo "meshsim: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
