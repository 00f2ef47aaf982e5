#!/bin/sh
# run.sh: builds the benchmarks in a release configuration, runs them all
# and prints a Markdown summary (to paste into README.md) with the machine
# and the exact commands.
#
#   bench/run.sh [build-dir]             default build-bench
#   BENCH_IMA_ARGS="--large=0" bench/run.sh       options for bench_ima
#   BENCH_POLICY_ARGS="--runs=5" bench/run.sh     options for bench_policy_load
#   BENCH_QUOTE_ARGS, BENCH_EVENTLOG_ARGS         options for bench_quote, bench_eventlog
#
# Each benchmark measures its own baseline in the same run (interleaved)
# and counts thread CPU time, so figures hold on a busy machine; the "on
# CPU" column tells how busy it was.
# Run apart (root, swtpm): bench_agent.sh, bench_verifier.sh (10 agents).
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-bench}
ima_args=${BENCH_IMA_ARGS:-}
policy_args=${BENCH_POLICY_ARGS:-}
quote_args=${BENCH_QUOTE_ARGS:-}
eventlog_args=${BENCH_EVENTLOG_ARGS:-}

if [ -f "$build/build.ninja" ]; then
    setup="meson configure $build -Dbuildtype=release"
else
    setup="meson setup $build --buildtype=release -Dtests=false"
fi
$setup >/dev/null
ninja -C "$build" bench/bench_ima bench/bench_policy_load bench/bench_quote \
    bench/bench_eventlog >/dev/null

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT INT TERM
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# shellcheck disable=SC2086 # the argument strings are meant to be split
"$build/bench/bench_ima" $ima_args | tee "$out/ima"
# shellcheck disable=SC2086
"$build/bench/bench_policy_load" $policy_args | tee "$out/policy"
# shellcheck disable=SC2086
"$build/bench/bench_quote" $quote_args | tee "$out/quote"
# shellcheck disable=SC2086
"$build/bench/bench_eventlog" $eventlog_args | tee "$out/eventlog"

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain -- lib bench 2>/dev/null)" ]; then
    commit="$commit + local changes"
fi
echo
echo "## Benchmarks"
echo
echo "$(date -u +%Y-%m-%d), commit $commit; ${cpu:-unknown CPU}, $(nproc) cores," \
    "Linux $(uname -r); $(cc --version | head -n 1); $(openssl version | cut -d' ' -f1-2);" \
    "release build (-O3); load average before the run: $load_before."
echo "Figures are medians of the benchmark thread's CPU time (time the scheduler gave to" \
    "other work is not counted; \"on CPU\" is CPU time / wall time, the share of a core the" \
    "benchmark got). Each baseline was measured in the same run, interleaved with what it" \
    "is compared to. The hash floor is exactly the three hashes per entry (sha1 and sha256" \
    "of the template data, the sha256 PCR extend) done with kl_hasher."
echo
grep '^|' "$out/ima"
echo
grep '^|' "$out/policy"
echo
grep '^|' "$out/quote"
echo
grep '^|' "$out/eventlog"
echo
echo "Command: \`bench/run.sh\`, which runs:"
echo
echo '```'
echo "meson setup $build --buildtype=release -Dtests=false  # or, if it exists: meson configure $build -Dbuildtype=release"
echo "ninja -C $build bench/bench_ima bench/bench_policy_load bench/bench_quote bench/bench_eventlog"
echo "$build/bench/bench_ima${ima_args:+ $ima_args}"
echo "$build/bench/bench_policy_load${policy_args:+ $policy_args}"
echo "$build/bench/bench_quote${quote_args:+ $quote_args}"
echo "$build/bench/bench_eventlog${eventlog_args:+ $eventlog_args}"
echo '```'
