#!/bin/sh
# The main job (until the daemons exist): build keylime-c, then show runtime
# integrity checking on a real machine's IMA log, offline, with the
# verifier's own rules: a policy made from a known-good log passes; an
# unapproved script that ran is caught; hiding it from the log or rewriting
# its entry is caught too.
set -eu
cd "$(dirname "$0")/.."

if [ -t 1 ]; then B=$(printf '\033[1m'); G=$(printf '\033[32m'); R=$(printf '\033[31m'); N=$(printf '\033[0m'); else B= G= R= N=; fi
step() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
say() { printf '   %s\n' "$*"; }
run() { printf '   $ %s\n' "$*" | sed "s|$W/||g; s|$KP|keylime-policy|g"; }

# KL_DEMO_KEYLIME_POLICY: use this binary instead of building (the test suite
# runs the demo this way).
if [ -n "${KL_DEMO_KEYLIME_POLICY:-}" ]; then
    KP=$KL_DEMO_KEYLIME_POLICY
else
    step "Installing build dependencies (apt) and building keylime-c"
    scripts/install-deps.sh
    [ -d build-demo ] || meson setup build-demo --buildtype=release >/dev/null
    ninja -C build-demo >/dev/null
    KP=$PWD/build-demo/cmd/keylime-policy/keylime-policy
fi
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
LOG=$W/ascii_runtime_measurements
cp tests/data/ima/rust-keylime/ascii_runtime_measurements "$LOG"
say "built $KP"

# Prints the verdict of a check-runtime JSON result in a readable form.
verdict() {
    python3 -c '
import json, sys
tty = sys.argv[1] == "1"
color = lambda c, t: "\033[%sm%s\033[0m" % (c, t) if tty else t
r = json.load(sys.stdin)
match = r["pcr10_match_entry"]
print("   verdict: %s  (%d entries; PCR 10 replayed: %s...; %s)" % (
    color("32", "VALID") if r["valid"] else color("31", "NOT VALID"), r["entries"], r["pcr10"][:16],
    "the quoted value is reached after entry %d" % match if match is not None
    else "the quoted value is never reached"))
for f in r["failures"]:
    print("   failure: %-42s %s" % (f["event_id"], f["context"].get("message", "")))
' "$([ -t 1 ] && echo 1 || echo 0)"
}

check() { # quoted-pcr log -> prints the verdict, returns the exit status
    run "$KP check runtime --runtime-policy $W/policy.json --ima-log $2 --hash-alg sha1 --pcr10 $1"
    set +e
    "$KP" check runtime --runtime-policy "$W/policy.json" --ima-log "$2" --hash-alg sha1 --pcr10 "$1" \
        >"$W/result.json"
    status=$?
    set -e
    verdict <"$W/result.json"
    say "exit status $status (0 valid, 1 not valid)"
    return 0
}

step "1. A machine booted and ran its workload; Linux IMA measured every file it executed"
say "$(wc -l <"$LOG") measurements, the first three:"
head -3 "$LOG" | cut -c1-110 | sed 's/^/     /'
PCR=82231c67a69da98dc5b3aa10f6343d33109225fc
say "its TPM's PCR 10 (sha1 bank) holds the hash chain of them all: $PCR"

step "2. The operator approves this state: a runtime policy from the known-good log"
run "$KP create runtime -m $LOG -o $W/policy.json"
"$KP" create runtime -m "$LOG" -o "$W/policy.json"
say "policy.json: $(grep -o '"/[^"]*": \[' "$W/policy.json" | wc -l) approved files, $(wc -c <"$W/policy.json") bytes"

step "3. The verifier checks the log against the policy and against the quoted PCR 10"
check "$PCR" "$LOG"

step "4. Someone runs /root/evil.sh; IMA measures it before it executes"
cat demo/evil.line >>"$LOG"
tail -1 "$LOG" | sed 's/^/     /'
PCR2=$("$KP" check runtime --ima-log "$LOG" --hash-alg sha1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["pcr10"])')
say "the TPM extended PCR 10 with it too: $PCR2"
check "$PCR2" "$LOG"

step "5. The attacker deletes the entry from the log; the TPM's PCR 10 cannot be rolled back"
head -n -1 "$LOG" >"$W/hidden.log"
check "$PCR2" "$W/hidden.log"

step "6. ...or rewrites the entry to name an approved file; the entry's template hash no longer fits"
sed '$ s|/root/evil.sh|/bin/sh|' "$LOG" >"$W/renamed.log"
check "$PCR2" "$W/renamed.log"

step "Done"
say "Each failure carries upstream Keylime's event id, so alerts and revocation work unchanged."
say "Next: the agent, registrar and verifier daemons run this check on every quote."
