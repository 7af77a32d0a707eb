#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install what is missing, build,
# run the flagship scenario. Extra arguments go to `meshsim run`.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh release meshsim | tail -n 1
exec build/release/harness/meshsim run "$@"
