#!/bin/sh
# Builds keylime-c and runs every test suite (unit, kat, cli, fuzz-replay,
# lint). Usage: scripts/test.sh [--werror] [BUILD_DIR]
# Installs its dependencies with apt first (scripts/install-deps.sh).
set -eu
cd "$(dirname "$0")/.."
werror=false
if [ "${1:-}" = "--werror" ]; then
    werror=true
    shift
fi
build=${1:-build}
scripts/install-deps.sh
if [ -d "$build" ]; then
    meson setup --reconfigure "$build" -Dwerror=$werror >/dev/null
else
    meson setup "$build" -Dwerror=$werror >/dev/null
fi
ninja -C "$build"
meson test -C "$build" --print-errorlogs --num-processes 2
