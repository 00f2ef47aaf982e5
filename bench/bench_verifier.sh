#!/bin/sh
# bench_verifier.sh [BUILD_DIR] [SECONDS]: the verifier with 10 agents.
#
# Starts, on loopback in a temp dir: 10 software TPMs (tests/tpm/swtpm.sh),
# our registrar and verifier, 10 of our agents (each on its own swtpm, with
# an IMA list of 10 scripts written by keylime_ima_emulator), and adds every
# agent to the verifier with our tenant (a runtime policy made by our
# keylime-policy from that agent's list). Then, in one run:
#  1. quote_interval 2, a window of SECONDS (default 30): verifier CPU
#     (utime+stime of /proc/PID/stat; schedstat for a finer figure) divided by
#     the attestations completed (sum of the attestation_count deltas from GET
#     /v2.6/agents/?bulk=True), its RSS; the end-to-end quote latency as the
#     verifier sees it: the time between two successive "quote N ok" lines of
#     one agent (its debug log, time-stamped as written) minus quote_interval,
#     i.e. request, agent, TPM, answer and verification. Baseline, right
#     after, under the same load: GET /quotes/integrity sent by curl straight
#     to the agents with the verifier's client certificate, as the verifier
#     asks it (partial=1 from the end of the list, one kept-alive connection,
#     2 s between requests). tpm2_quote is no fair baseline: its ~50 ms are
#     mostly process start-up, and it has none of the agent's HTTP, TLS,
#     JSON and IMA list work.
#  2. detection latency: an unapproved script measured on agent 1 at a random
#     point of its quote cycle, the verifier polled (GET /v2.6/agents/ID every
#     50 ms) until operational_state 9; KL_BENCH_RUNS times (default 5), the
#     agent re-added (tenant update) with a fresh policy between runs. Each
#     run is split with the verifier's log into the wait for the next quote,
#     the quote and its check, and the poll's delay.
#  3. quote_interval 0 (the verifier restarted on the same database): the
#     throughput and CPU per attestation when the verifier polls flat out.
# Medians unless said otherwise. Needs root (the agents mount a tmpfs) and a
# build with the daemons (default build; a release build for figures).
# KEEP=1 keeps the temp dir; KL_BENCH_PERF=DIR records perf profiles of the
# verifier during both windows (KL_BENCH_PERF_OPTS adds perf options).
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
secs=${2:-30}
runs=${KL_BENCH_RUNS:-5}
nag=10
if [ "$(id -u)" != 0 ]; then
    echo "bench_verifier: must run as root (the agents mount a tmpfs)" >&2
    exit 1
fi
ninja -C "$build" cmd/keylime_registrar/keylime_registrar cmd/keylime_agent/keylime_agent \
    cmd/keylime_ima_emulator/keylime_ima_emulator cmd/keylime_verifier/keylime_verifier \
    cmd/keylime_tenant/keylime_tenant cmd/keylime-policy/keylime-policy >/dev/null
top=$(pwd)
B=$top/$build
[ -d "$B" ] || B=$build
VER=$B/cmd/keylime_verifier/keylime_verifier REG=$B/cmd/keylime_registrar/keylime_registrar
AGENT=$B/cmd/keylime_agent/keylime_agent EMU=$B/cmd/keylime_ima_emulator/keylime_ima_emulator
TENANT=$B/cmd/keylime_tenant/keylime_tenant POLICY=$B/cmd/keylime-policy/keylime-policy
. "$top/tests/tpm/swtpm.sh"

W=$(mktemp -d /tmp/kl-vb.XXXXXX)
KL=$W/kl
PIDS=""

stop_pid() { # PID: TERM, then KILL after 5 s
    kill -TERM "$1" 2>/dev/null || return 0
    _i=0
    while kill -0 "$1" 2>/dev/null; do
        _i=$((_i + 1))
        [ $_i -gt 50 ] && { kill -KILL "$1" 2>/dev/null; break; }
        sleep 0.1
    done
    wait "$1" 2>/dev/null || true
}

cleanup() {
    set +e
    # TERM to every daemon at once, then wait for each (KILL after 5 s)
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
    for p in $PIDS; do stop_pid "$p"; done
    awk -v w="$W/" 'index($2, w) == 1 { print $2 }' /proc/mounts |
        while read -r m; do umount "$m"; done
    for i in $(seq 1 $nag); do swtpm_stop "$W/tpm$i" & done
    wait
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

die() {
    echo "bench_verifier: $*" >&2
    exit 1
}

now() { date +%s.%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print NR ? a[int((NR + 1) / 2)] : 0 }'; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f\n", (b - a) * 1000 }'; }

# wait_log FILE TEXT SECONDS PID
wait_log() {
    _i=0
    while [ $_i -lt $(($3 * 10)) ]; do
        grep -qF -- "$2" "$1" 2>/dev/null && return 0
        kill -0 "$4" 2>/dev/null || return 1
        sleep 0.1
        _i=$((_i + 1))
    done
    return 1
}

# free loopback ports, all bound at once so that they differ: the verifier's,
# the registrar's two, then one per agent (aport I)
python3 -c '
import socket
ss = [socket.socket() for _ in range(13)]
for s in ss:
    s.bind(("127.0.0.1", 0))
print("\n".join(str(s.getsockname()[1]) for s in ss))' >"$W/ports"
VPORT=$(sed -n 1p "$W/ports") RPORT=$(sed -n 2p "$W/ports") RTLS=$(sed -n 3p "$W/ports")
aport() { sed -n "$(($1 + 3))p" "$W/ports"; }

# ---- TPMs and IMA lists -----------------------------------------------------
t_setup=$(now)
mkdir -p "$W/certs" "$W/scripts"
for i in $(seq 1 $nag); do
    (swtpm_start "$W/tpm$i" sha1,sha256 >"$W/tpm$i.tcti" 2>"$W/tpm$i.err") &
done
wait
for i in $(seq 1 $nag); do
    [ -s "$W/tpm$i.tcti" ] || die "swtpm $i: $(cat "$W/tpm$i.err")"
    for f in "$W/tpm$i"/ca/*cert*.pem; do cp "$f" "$W/certs/tpm$i-$(basename "$f")"; done
done
for k in $(seq 1 10); do
    printf '#!/bin/sh\necho approved %s\n' "$k" >"$W/scripts/s$k.sh"
done
for i in $(seq 1 $nag); do
    mkdir -p "$W/a$i"
    : >"$W/a$i/ima.log"
    "$EMU" -T "$(cat "$W/tpm$i.tcti")" -f "$W/a$i/ima.log" measure "$W"/scripts/s*.sh \
        >"$W/a$i/emu.log" 2>&1 || die "emulator: $(tail -3 "$W/a$i/emu.log")"
    "$POLICY" create runtime -m "$W/a$i/ima.log" -o "$W/a$i/policy.json" 2>"$W/a$i/policy.log" ||
        die "keylime-policy: $(tail -3 "$W/a$i/policy.log")"
done

# ---- verifier (log lines time-stamped as written), registrar --------------
mkdir -p "$KL"
ts_pid=""
start_verifier() { # QUOTE_INTERVAL
    cat >"$W/verifier.conf" <<EOC
[verifier]
ip = 127.0.0.1
port = $VPORT
tls_dir = generate
quote_interval = $1
database_url = sqlite:///$KL/cv_data.sqlite
retry_interval = 1
max_retries = 3
EOC
    VLOG=$W/ver-qi$1.log
    rm -f "$W/ver.fifo"
    mkfifo "$W/ver.fifo"
    python3 -u -c '
import sys, time
out = open(sys.argv[1], "a", buffering=1)
for line in sys.stdin:
    out.write("%.6f %s" % (time.time(), line))' "$VLOG" <"$W/ver.fifo" &
    ts_pid=$!
    KEYLIME_DIR=$KL KEYLIME_VERIFIER_CONFIG=$W/verifier.conf KEYLIME_LOG=info,verifier=debug \
        "$VER" >"$W/ver.fifo" 2>&1 &
    VER_PID=$!
    PIDS="$VER_PID $ts_pid $PIDS"
    wait_log "$VLOG" "ready on" 20 "$VER_PID" || die "verifier: $(tail -20 "$VLOG")"
}
stop_verifier() {
    stop_pid "$VER_PID"
    stop_pid "$ts_pid"
    PIDS=$(echo "$PIDS" | sed "s/\\b$VER_PID\\b//; s/\\b$ts_pid\\b//")
}
start_verifier 2
cat >"$W/registrar.conf" <<EOC
[registrar]
ip = 127.0.0.1
port = $RPORT
tls_port = $RTLS
tls_dir = default
database_url = sqlite:///$KL/reg_data.sqlite
EOC
KEYLIME_DIR=$KL KEYLIME_REGISTRAR_CONFIG=$W/registrar.conf KEYLIME_LOG=info "$REG" \
    >"$W/reg.log" 2>&1 &
REG_PID=$!
PIDS="$PIDS $REG_PID"
wait_log "$W/reg.log" "ready on" 20 "$REG_PID" || die "registrar: $(tail -20 "$W/reg.log")"
CA=$KL/cv_ca

# ---- agents ------------------------------------------------------------------
for i in $(seq 1 $nag); do
    port=$(aport "$i")
    cat >"$W/a$i/agent.conf" <<EOC
[agent]
uuid = "bench-agent-$i"
ip = "127.0.0.1"
port = $port
contact_ip = "127.0.0.1"
contact_port = $port
registrar_ip = "127.0.0.1"
registrar_port = $RPORT
keylime_dir = "$W/a$i"
trusted_client_ca = "$CA/cacert.crt"
ima_ml_path = "$W/a$i/ima.log"
measuredboot_ml_path = "$W/no-mb-log"
revocation_actions_dir = "$W/no-actions"
run_as = ""
tcti = "$(cat "$W/tpm$i.tcti")"
EOC
    KEYLIME_DIR=$W/a$i KEYLIME_AGENT_CONFIG=$W/a$i/agent.conf KEYLIME_LOG=info "$AGENT" \
        >"$W/a$i/agent.log" 2>&1 &
    echo $! >"$W/a$i/pid"
    PIDS="$PIDS $!"
done
for i in $(seq 1 $nag); do
    wait_log "$W/a$i/agent.log" "ready on" 60 "$(cat "$W/a$i/pid")" ||
        die "agent $i: $(tail -20 "$W/a$i/agent.log")"
done

# ---- tenant ------------------------------------------------------------------
cat >"$W/tenant.conf" <<EOC
[tenant]
verifier_ip = 127.0.0.1
verifier_port = $VPORT
registrar_ip = 127.0.0.1
registrar_port = $RTLS
tls_dir = default
tpm_cert_store = $W/certs
max_retries = 3
retry_interval = 1
EOC
tenant() { # ARGS...: output in $W/tenant.out
    echo "=== keylime_tenant $*" >>"$W/tenant.log"
    (cd "$W" && KEYLIME_DIR=$KL KEYLIME_TENANT_CONFIG=$W/tenant.conf timeout 120 "$TENANT" "$@") \
        >"$W/tenant.out" 2>&1
    _rc=$?
    cat "$W/tenant.out" >>"$W/tenant.log"
    return $_rc
}
vget() { # PATH: GET from the verifier with the admin certificate
    curl -sS -m 10 --cacert "$CA/cacert.crt" --cert "$CA/client-cert.crt" \
        --key "$CA/client-private.pem" "https://127.0.0.1:$VPORT$1"
}
# agent states and counts: "id state count" lines
bulk() {
    vget "/v2.6/agents/?bulk=True" | python3 -c '
import json, sys
for k, v in sorted(json.load(sys.stdin)["results"].items()):
    print(k, v["operational_state"], v["attestation_count"])'
}
# wait_attesting SECONDS MIN: every agent in state 3 with count >= MIN
wait_attesting() {
    _i=0
    while [ $_i -lt $(($1 * 2)) ]; do
        [ "$(bulk | awk -v m="$2" '$2 == 3 && $3 >= m' | wc -l)" = $nag ] && return 0
        sleep 0.5
        _i=$((_i + 1))
    done
    return 1
}
for i in $(seq 1 $nag); do
    t0=$(now)
    tenant -c add -u "bench-agent-$i" -t 127.0.0.1 --runtime-policy "$W/a$i/policy.json" ||
        die "tenant add $i: $(tail -20 "$W/tenant.out")"
    ms "$t0" "$(now)" >>"$W/tenant_add.ms"
done
wait_attesting 60 2 || die "agents not attesting: $(bulk)"
t_ready=$(now)
CLK=$(getconf CLK_TCK)
ncount() { bulk | awk '{ s += $3 } END { print s + 0 }'; }
cputicks() { awk '{ print $14 + $15 }' "/proc/$VER_PID/stat"; }
kib() { awk -v k="$2" '$1 == k ":" { print $2 }' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
# ticks PID...: utime+stime summed
ticks() {
    for _p in "$@"; do cat "/proc/$_p/stat" 2>/dev/null; done |
        awk '{ s += $14 + $15 } END { print s + 0 }'
}
# run time of the verifier's threads in ns (schedstat: not rounded to ticks)
vns() { cat /proc/"$VER_PID"/task/*/schedstat | awk '{ s += $1 } END { printf "%.0f\n", s }'; }
others() { # the agents' and the swtpms' pids
    for _i in $(seq 1 $nag); do cat "$W/a$_i/pid"; echo; cat "$W/tpm$_i/swtpm.pid"; echo; done
}
# window SECONDS NAME: sets w_att, w_ticks, w_ns, w_other, w_t0, w_t1 (counts
# read outside the CPU window); KL_BENCH_PERF=DIR also records a profile
window() {
    _c0=$(ncount)
    # shellcheck disable=SC2046 # one pid a word
    _o0=$(ticks $(others))
    _n0=$(vns)
    _k0=$(cputicks)
    w_t0=$(now)
    if [ -n "${KL_BENCH_PERF:-}" ]; then
        # shellcheck disable=SC2086 # KL_BENCH_PERF_OPTS: e.g. "--call-graph dwarf"
        perf record -q -F 4999 ${KL_BENCH_PERF_OPTS:-} -p "$VER_PID" \
            -o "$KL_BENCH_PERF/perf-$2.data" -- sleep "$1" \
            >/dev/null 2>&1
    else
        sleep "$1"
    fi
    _k1=$(cputicks)
    _n1=$(vns)
    w_t1=$(now)
    # shellcheck disable=SC2046
    _o1=$(ticks $(others))
    _c1=$(ncount)
    w_att=$((_c1 - _c0))
    w_ticks=$((_k1 - _k0))
    w_ns=$((_n1 - _n0))
    w_other=$((_o1 - _o0))
}
# the verifier's CPU per attestation in the window: ms from /proc/PID/stat
cpu_ms() { awk -v t="$w_ticks" -v c="$CLK" -v n="$w_att" 'BEGIN { printf "%.2f", n ? t * 1000 / c / n : 0 }'; }
cpu_per_att() {
    printf '%s ms (%d ticks; schedstat: %s ms)' "$(cpu_ms)" "$w_ticks" \
        "$(awk -v ns="$w_ns" -v n="$w_att" 'BEGIN { printf "%.2f", n ? ns / 1e6 / n : 0 }')"
}
share() { # TICKS: percent of a core over the window
    awk -v t="$1" -v c="$CLK" -v a="$w_t0" -v b="$w_t1" 'BEGIN { printf "%.1f", t * 100 / c / (b - a) }'
}
# gaps Q: ms between successive "quote N ok" lines of one agent in the window, minus Q s
gaps() {
    awk -v a="$w_t0" -v b="$w_t1" -v q="$1" '
        $0 ~ / quote [0-9]+ ok$/ && $1 >= a && $1 <= b {
            id = $(NF - 3); n = $(NF - 1)
            if ((id in last) && n == cnt[id] + 1) printf "%.1f\n", ($1 - last[id] - q) * 1000
            last[id] = $1; cnt[id] = n
        }' "$VLOG"
}

# ---- 1. quote_interval 2 ----------------------------------------------------
sleep 4
window "$secs" qi2
att2=$w_att cpu2=$(cpu_per_att) w2ms=$(cpu_ms) share2=$(share "$w_ticks") oshare2=$(share "$w_other")
rss2=$(kib "$VER_PID" VmRSS) hwm2=$(kib "$VER_PID" VmHWM)
gaps 2 >"$W/lat2.ms"
lat2=$(median <"$W/lat2.ms") nlat2=$(wc -l <"$W/lat2.ms")
# baseline: the agents' own quote, by curl on one kept-alive mTLS connection
# per agent, 6 requests (the first, with the TLS handshake, dropped). Spaced
# 2 s apart as the verifier's are (the agents staggered by 0.2 s), so that
# agent, swtpm and caches are as idle between requests as under the
# verifier; also back to back, for comparison.
nonce() { od -An -N10 -tx1 /dev/urandom | tr -d ' \n'; }
agent_curl() { # I [CURL OPTIONS]: 6 quotes from agent I, ms per line
    _port=$(aport "$1")
    _n=$(wc -l <"$W/a$1/ima.log")
    _urls=""
    for _k in 1 2 3 4 5 6; do
        _urls="$_urls -o /dev/null https://127.0.0.1:$_port/v2.6/quotes/integrity?nonce=$(nonce)&mask=0x400&partial=1&ima_ml_entry=$_n"
    done
    shift
    # shellcheck disable=SC2086 # the URL list is meant to be split
    curl -sS -k --cert "$CA/client-cert.crt" --key "$CA/client-private.pem" "$@" \
        -w "%{http_code} %{time_total}\n" $_urls | awk 'NR > 1 { print $1 == 200 ? $2 * 1000 : "bad" }'
}
cpids=""
for i in $(seq 1 $nag); do
    agent_curl "$i" --rate 30/m >"$W/curl$i.ms" &
    cpids="$cpids $!"
    sleep 0.2
done
# shellcheck disable=SC2086
wait $cpids
cat "$W"/curl[0-9]*.ms >"$W/curl.ms"
for i in $(seq 1 $nag); do agent_curl "$i"; done >"$W/curlhot.ms"
grep -q bad "$W/curl.ms" "$W/curlhot.ms" && die "an agent refused the baseline quote"
bare=$(median <"$W/curl.ms") nbare=$(wc -l <"$W/curl.ms") hot=$(median <"$W/curlhot.ms")

# ---- 2. detection latency on agent 1 ------------------------------------------
t_det=$(now)
TCTI1=$(cat "$W/tpm1.tcti")
state1() { vget /v2.6/agents/bench-agent-1 | grep -o '"operational_state": *[0-9]*' | grep -o '[0-9]*$'; }
: >"$W/detect.ms"
for r in $(seq 1 "$runs"); do
    # a random point of the quote cycle: 0 to 2.3 s
    sleep "$(od -An -N2 -tu2 /dev/urandom | awk '{ printf "%.3f", $1 % 2300 / 1000 }')"
    printf '#!/bin/sh\necho unapproved %s %s\n' "$r" "$$" >"$W/scripts/evil$r.sh"
    te=$(now)
    "$EMU" -T "$TCTI1" -f "$W/a1/ima.log" measure "$W/scripts/evil$r.sh" >>"$W/a1/emu.log" 2>&1 ||
        die "emulator: $(tail -3 "$W/a1/emu.log")"
    t0=$(now)
    st=""
    k=0
    while [ "$st" != 9 ]; do
        st=$(state1)
        k=$((k + 1))
        [ $k -gt 400 ] && die "agent 1 never reached state 9 (state $st)"
        [ "$st" = 9 ] || sleep 0.05
    done
    t1=$(now)
    ms "$t0" "$t1" >>"$W/detect.ms"
    echo "$te $t0 $t1" >>"$W/detect.log"
    # the poll loop's period (curl + 50 ms sleep), for the expectation
    awk -v a="$t0" -v b="$t1" -v k="$k" 'BEGIN { if (k > 1) printf "%.1f\n", (b - a) * 1000 / (k - 0.5) }' \
        >>"$W/pollperiod.ms"
    "$POLICY" create runtime -m "$W/a1/ima.log" -o "$W/a1/policy.json" 2>>"$W/a1/policy.log" ||
        die "keylime-policy: $(tail -3 "$W/a1/policy.log")"
    tenant -c update -u bench-agent-1 -t 127.0.0.1 --runtime-policy "$W/a1/policy.json" ||
        die "tenant update: $(tail -20 "$W/tenant.out")"
    wait_attesting 30 2 || die "agent 1 not attesting again: $(bulk)"
done
det=$(median <"$W/detect.ms")
detmean=$(awk '{ s += $1 } END { printf "%.0f", s / NR }' "$W/detect.ms")
# each run split with the verifier's log: measured -> the detecting quote
# asked (last good quote + 2 s), -> "Invalid Quote" logged, -> seen by the poll
awk 'NR == FNR { te[NR] = $1; t0[NR] = $2; t1[NR] = $3; n = NR; next }
     / bench-agent-1: quote [0-9]+ ok$/ { ok = $1 }
     / bench-agent-1: Invalid Quote/ {
         for (r = 1; r <= n; r++)
             if (!(r in inv) && $1 > te[r]) {
                 inv[r] = $1
                 printf "%.1f %.1f %.1f\n", (ok + 2 - t0[r]) * 1000, ($1 - ok - 2) * 1000, (t1[r] - $1) * 1000
                 break
             }
     }' "$W/detect.log" "$VLOG" >"$W/detect.split"
dwait=$(awk '{ s += $1 } END { printf "%.0f", NR ? s / NR : 0 }' "$W/detect.split")
dcheck=$(awk '{ print $2 }' "$W/detect.split" | median)
dpoll=$(awk '{ print $3 }' "$W/detect.split" | median)
nflag=$(grep -c "Invalid Quote: ima.*not_in_allowlist" "$VLOG" || true)

# ---- 3. quote_interval 0 -------------------------------------------------------
t_qi0=$(now)
stop_verifier
start_verifier 0
wait_attesting 30 2 || die "agents not attesting at quote_interval 0: $(bulk)"
sleep 3
window "$((secs / 2 > 10 ? secs / 2 : 10))" qi0
att0=$w_att cpu0=$(cpu_per_att) share0=$(share "$w_ticks") oshare0=$(share "$w_other")
rate0=$(awk -v n="$w_att" -v a="$w_t0" -v b="$w_t1" 'BEGIN { printf "%.0f", n / (b - a) }')
rss0=$(kib "$VER_PID" VmRSS) hwm0=$(kib "$VER_PID" VmHWM)
gaps 0 >"$W/lat0.ms"
lat0=$(median <"$W/lat0.ms") nlat0=$(wc -l <"$W/lat0.ms")

t_end=$(now)
# ---- report ----------------------------------------------------------------------
poll=$(median <"$W/pollperiod.ms")
expect=$(awk -v l="$lat2" -v p="$poll" 'BEGIN { printf "%.0f", (2000 + l) / 2 + l + p / 2 }')
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b ? a / b : 0 }'; }
echo "| measure (10 agents, each on its own swtpm, loopback) | value |"
echo "|---|---:|"
echo "| verifier CPU per attestation, quote_interval 2 ($att2 attestations in $secs s) | $cpu2 |"
echo "| CPU share, quote_interval 2: verifier / 10 agents + 10 swtpm | $share2 % / $oshare2 % of a core |"
echo "| verifier RSS / peak (VmHWM), quote_interval 2 | $(mib "$rss2") / $(mib "$hwm2") MiB |"
echo "| end-to-end quote latency as the verifier sees it (poll period - 2 s, median of $nlat2) | $lat2 ms |"
echo "| baseline: agent GET /quotes/integrity by curl, mTLS kept alive, 2 s apart, same load (median of $nbare) | $bare ms |"
echo "| ratio verifier-seen / bare agent quote | $(ratio "$lat2" "$bare") |"
echo "| (the same curl requests back to back: $hot ms; bare + verifier CPU per attestation: $(awk -v a="$bare" -v b="$w2ms" 'BEGIN { printf "%.1f", a + b }') ms) | |"
echo "| detection latency, quote_interval 2 (median of $runs: $(tr '\n' ' ' <"$W/detect.ms" | sed 's/ $//') ms; mean $detmean ms) | $det ms |"
echo "| of which: waiting for the next quote (mean; uniform over the 2 s interval) | $dwait ms |"
echo "| of which: quote asked -> Invalid Quote (median; the end-to-end latency above) | $dcheck ms |"
echo "| of which: Invalid Quote -> seen by the poll (median; poll period $poll ms) | $dpoll ms |"
echo "| expected mean: (2 s + e2e) / 2 + e2e + poll period / 2 | $expect ms |"
echo "| ratio measured mean / expected | $(ratio "$detmean" "$expect") |"
echo "| quote_interval 0: attestations per second ($att0 in $((secs / 2 > 10 ? secs / 2 : 10)) s) | $rate0 /s |"
echo "| quote_interval 0: verifier CPU per attestation | $cpu0 |"
echo "| CPU share, quote_interval 0: verifier / 10 agents + 10 swtpm | $share0 % / $oshare0 % of a core |"
echo "| quote_interval 0: end-to-end latency per attestation (median of $nlat0) | $lat0 ms |"
echo "| quote_interval 0: verifier RSS / peak | $(mib "$rss0") / $(mib "$hwm0") MiB |"
echo
echo "tenant add (median of $nag): $(median <"$W/tenant_add.ms") ms; unapproved scripts reported by the" \
    "verifier (not_in_allowlist): $nflag of $runs; phases: set-up $(ms "$t_setup" "$t_ready")," \
    "quote_interval 2 $(ms "$t_ready" "$t_det"), detection $(ms "$t_det" "$t_qi0")," \
    "quote_interval 0 $(ms "$t_qi0" "$t_end") ms"
echo "Command: bench/bench_verifier.sh $build $secs"
