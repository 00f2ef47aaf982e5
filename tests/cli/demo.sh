#!/bin/sh
# The README's main job (scripts/demo.sh) still tells the right story, end to
# end on two software TPMs (the demo starts swtpm and every daemon itself):
# both nodes register and get their payload; attestation passes and keeps
# going; an unapproved script on node 1 makes it Invalid Quote with
# not_in_allowlist naming the script; node 2's revocation action runs; the
# demo cleans up after itself. A demo without binaries fails, saying why.
# Usage: demo.sh BUILD_DIR
set -u
build=$1
demo="$(dirname "$0")/../../scripts/demo.sh"
out=$(mktemp "${TMPDIR:-/tmp}/kl_demo.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT
fails=0
bad() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}
expect() { # count pattern (grep basic regex)
    n=$(grep -c -- "$2" "$out")
    [ "$n" -eq "$1" ] || bad "'$2' appears $n times, expected $1"
}

# without binaries: exit 1, and the reason
empty=$(mktemp -d "${TMPDIR:-/tmp}/kl_demo_empty.XXXXXX") || exit 1
KL_DEMO_BUILD=$empty "$demo" >"$out" 2>&1
status=$?
rmdir "$empty"
[ $status -eq 1 ] || bad "demo without binaries exited $status, expected 1"
expect 1 "FAILED: no .*keylime_registrar (build keylime-c first)"
[ $fails -eq 0 ] || { cat "$out"; exit 1; }

start=$(date +%s)
KL_DEMO_BUILD=$build "$demo" >"$out" 2>&1
status=$?
[ $status -eq 0 ] || bad "demo exited $status"
U1=d432fbb3-d2f1-4a97-9ef7-75bd81c00001
U2=d432fbb3-d2f1-4a97-9ef7-75bd81c00002
expect 1 "registered: $U1 (node 1) and $U2 (node 2)"
expect 1 "policy.json: 4 approved files"
expect 2 "payload key verified"
expect 1 "node 1: payload delivered after a good quote, autorun.sh ran in node1/agent/secure"
expect 1 "node 2: payload delivered after a good quote, autorun.sh ran in node2/agent/secure"
expect 2 "node 1: operational_state Get Quote, attestation_count [0-9]"
c1=$(grep -o "node 1: operational_state Get Quote, attestation_count [0-9]*" "$out" | head -1 |
    grep -o '[0-9]*$')
c2=$(grep -o "node 1: operational_state Get Quote, attestation_count [0-9]*" "$out" | tail -1 |
    grep -o '[0-9]*$')
if [ -z "$c1" ] || [ -z "$c2" ] || [ "$c2" -le "$c1" ]; then
    bad "attestation_count did not rise: '$c1' -> '$c2'"
fi
EV=ima.validation.ima-ng.not_in_allowlist
expect 1 "node 1: operational_state Invalid Quote, last_event_id $EV\$"
expect 1 "$EV {\"message\": \"File not found in allowlist: /.*/root/evil.sh\"}"
expect 1 "node 2: revocation action ran at"
expect 1 "\"type\": \"revocation\" \"agent_id\": \"$U1\" \"event_id\": \"$EV\""
expect 1 "node 2 itself is still trusted: operational_state Get Quote"
expect 1 "detection: [0-9]* ms from the measurement to Invalid Quote, [0-9]* ms to node 2's"
expect 0 "FAILED"
# no color codes when the output is not a terminal
[ "$(grep -c "$(printf '\033')" "$out")" -eq 0 ] || bad "escape codes in non-tty output"
# cleaned up: the temp dir is gone (and with it the agents' tmpfs mounts)
w=$(grep -o "in /[^ ]*/kl-demo\.[A-Za-z0-9]*" "$out" | head -1 | cut -c4-)
[ -n "$w" ] || bad "the demo did not name its temp dir"
[ -n "$w" ] && [ -e "$w" ] && bad "the demo left $w behind"
[ -n "$w" ] && grep -q " $w/" /proc/mounts && bad "the demo left a mount under $w"
[ $fails -eq 0 ] || { cat "$out"; exit 1; }
echo "demo: ok ($(($(date +%s) - start)) s)"
