#!/bin/sh
# bench_agent.sh [BUILD_DIR] [N]: the agent's memory and quote latency.
# Runs under a fresh swtpm (tests/tpm/with_swtpm.sh) with a registrar, and
# prints, in one run: the bare TPM quote time (tpm2_quote with a loaded AK,
# N times, before the agent takes the TPM), the agent's GET
# /quotes/integrity latency over one kept-alive mTLS connection (N times,
# curl), and the agent's RSS idle and at its peak while answering, beside
# the RSS of a process that only loads and uses the same libraries.
# BUILD_DIR must hold the tests (default build). Medians are reported.
# The agent's resident memory per library goes to stderr; KL_BENCH_SMAPS=FILE
# also keeps a copy of its /proc/PID/smaps (idle, before the quotes).
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
n=${2:-50}
ninja -C "$build" cmd/keylime_registrar/keylime_registrar cmd/keylime_agent/keylime_agent \
    cmd/keylime_ima_emulator/keylime_ima_emulator bench/rss_floor >/dev/null
export KL_TEST_DATA="${KL_TEST_DATA:-$(pwd)/tests/data}"
exec tests/tpm/with_swtpm.sh sh -c '
set -u
REG=$1/cmd/keylime_registrar/keylime_registrar AGENT=$1/cmd/keylime_agent/keylime_agent
EMU=$1/cmd/keylime_ima_emulator/keylime_ima_emulator N=$2 FLOOR=$1/bench/rss_floor
UUID=bench-agent
. tests/tpm/helpers.sh
. tests/daemons/lib.sh
REG=$(pwd)/$REG AGENT=$(pwd)/$AGENT EMU=$(pwd)/$EMU FLOOR=$(pwd)/$FLOOR
median() { sort -n | awk "{ a[NR] = \$1 } END { print a[int((NR + 1) / 2)] }"; }
cd "$W"
export TPM2TOOLS_TCTI=$TCTI
for i in 1 2 3 4 5 6 7 8 9 10; do printf "#!/bin/sh\n" >s$i.sh; chmod +x s$i.sh; done
: >ima.log
for i in 1 2 3 4 5 6 7 8 9 10; do "$EMU" -T "$TCTI" -f ima.log run ./s$i.sh >/dev/null; done
tpm2_createek -c ek.ctx -G rsa -u ek.pub >/dev/null
tpm2_createak -C ek.ctx -c ak.ctx -G rsa -g sha256 -s rsassa -u ak.pub -n ak.name -r ak.priv >/dev/null
tpm2_flushcontext -t >/dev/null 2>&1
i=0
while [ $i -lt "$N" ]; do
    t0=$(date +%s%N)
    tpm2_quote -c ak.ctx -l sha256:10,16 -q 0123456789abcdef -m q.msg -s q.sig -o q.pcr >/dev/null
    echo $(( ($(date +%s%N) - t0) / 1000 ))
    tpm2_flushcontext -t >/dev/null 2>&1
    i=$((i + 1))
done >tpm.us
tpm2_flushcontext -t >/dev/null 2>&1 || true
rm -f ek.ctx ak.ctx
floor=$("$FLOOR" "$TCTI")
start_registrar >/dev/null
start_agent >/dev/null
sleep 1
rss() { awk "/^$1:/ { print \$2 }" /proc/$AGENT_PID/status; }
grep -E "^(Rss|Anonymous|Shared_Clean|Private_Clean)" /proc/$AGENT_PID/smaps_rollup >&2
[ -z "${KL_BENCH_SMAPS:-}" ] || cp /proc/$AGENT_PID/smaps "$KL_BENCH_SMAPS"
# Resident KiB per mapped file (anonymous mappings as [anon]), largest first.
awk "/^[0-9a-f]+-[0-9a-f]+ / { f = (NF >= 6) ? \$6 : \"[anon]\" } /^Rss:/ { r[f] += \$2 }
     END { for (f in r) if (r[f] > 0) print r[f], f }" /proc/$AGENT_PID/smaps | sort -rn | head -25 >&2
idle=$(rss VmRSS)
urls=""
i=0
while [ $i -lt "$N" ]; do
    urls="$urls -o /dev/null https://127.0.0.1:$APORT/v2.6/quotes/integrity?nonce=Bench$i&mask=0x400&partial=0"
    i=$((i + 1))
done
# shellcheck disable=SC2086
curl -sS -k --cert "$CA/client-cert.crt" --key "$CA/client-private.pem" \
    -w "%{time_total}\n" $urls | awk "{ printf \"%d\n\", \$1 * 1000000 }" >agent.us
after=$(rss VmRSS)
peak=$(rss VmHWM)
tq=$(median <tpm.us)
aq=$(median <agent.us)
echo "| measure | value |"
echo "|---|---:|"
echo "| bare TPM quote (tpm2_quote process, PCRs 10+16, median of $N) | $((tq / 1000)) ms |"
echo "| agent GET /quotes/integrity over mTLS (median of $N, 10-entry IMA list) | $((aq / 1000)) ms |"
echo "| ratio agent / bare quote | $(awk "BEGIN { printf \"%.2f\", $aq / $tq }") |"
echo "| agent RSS idle | $((idle / 1024)).$(( (idle % 1024) * 10 / 1024 )) MiB |"
echo "| agent RSS after $N quotes / peak (VmHWM) | $((after / 1024)).$(( (after % 1024) * 10 / 1024 )) / $((peak / 1024)).$(( (peak % 1024) * 10 / 1024 )) MiB |"
echo "| baseline: a process that loads the same libraries and uses each once (bench/rss_floor) | $((floor / 1024)).$(( (floor % 1024) * 10 / 1024 )) MiB |"
echo "| agent peak above that baseline | $(( (peak - floor) / 1024 )).$(( ((peak - floor) % 1024) * 10 / 1024 )) MiB |"
stop_agent
stop_registrar
' bench_agent "$build" "$n"
