#!/bin/sh
# profile.sh: where kl_ima_eval spends its time on the 1M-entry list.
#
#   bench/profile.sh [entries]           default 1000000
#
# Builds build-bench-prof (release, plus -g and frame pointers), records
# `bench_ima --profile=N` with perf (cpu-clock, DWARF call graphs, so inlined
# functions show) and prints the per-entry breakdown of perf_breakdown.py.
# Without a working perf it falls back to valgrind --tool=callgrind on a
# smaller list and prints callgrind_annotate's inclusive view.
set -eu
cd "$(dirname "$0")/.."
build="build-bench-prof"
n=${1:-1000000}
if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" --buildtype=release -Dtests=false \
        -Dc_args="-g -fno-omit-frame-pointer" >/dev/null
fi
ninja -C "$build" bench/bench_ima >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT INT TERM
if perf record -e cpu-clock -o "$out/probe" true >/dev/null 2>&1; then
    perf record -q -e cpu-clock -F 2000 --call-graph dwarf,16384 -o "$out/perf.data" \
        "$build/bench/bench_ima" --profile="$n" --runs-large=3
    perf script -i "$out/perf.data" -F period,ip,sym,dso 2>/dev/null |
        python3 bench/perf_breakdown.py --entries $((3 * n))
else
    echo "perf is not usable here; callgrind on 100000 entries instead"
    valgrind --tool=callgrind --callgrind-out-file="$out/cg" \
        "$build/bench/bench_ima" --profile=100000 --runs-large=1
    callgrind_annotate --inclusive=yes "$out/cg" | head -n 60
fi
