#!/bin/sh
# keylime-policy check runtime, driven as an operator would: verdicts, exit
# statuses, tampering, signed policies, keys and every usage error.
# $1: the keylime-policy binary; KL_TEST_DATA: tests/data.
set -u
KP=$1
D=${KL_TEST_DATA:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0

check() { # name expected-status expected-substring command...
    name=$1 want=$2 text=$3
    shift 3
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "FAIL $name: exit $got, expected $want"; cat "$T/out" "$T/err"; fails=$((fails + 1))
    elif ! grep -qF -- "$text" "$T/out" "$T/err"; then
        echo "FAIL $name: output lacks: $text"; cat "$T/out" "$T/err"; fails=$((fails + 1))
    else
        echo "ok   $name"
    fi
}

SW=$D/ima/swtpm
P3=7ca540b730d20d2b22fe28c50e10c04190cb0ed10acab0cbf4b8f0fffb7165e9
P4=948bcb98ef79e3288b3714bc69c48f2b4f140933b4edd43132bc1ac7678bf9b2

check pass 0 "{\"valid\": true, \"failures\": [], \"pcr10\": \"$P3\", \"pcr10_match_entry\": 3, \"entries\": 3}" \
    "$KP" check runtime --runtime-policy "$SW/runtime_policy.json" --ima-log "$SW/ascii_runtime_measurements" \
    --hash-alg sha256 --pcr10 $P3
check no-pcr-check 0 '"pcr10_match_entry": null' \
    "$KP" check runtime --runtime-policy "$SW/runtime_policy.json" --ima-log "$SW/ascii_runtime_measurements" \
    --hash-alg sha256
check incremental 0 '"pcr10_match_entry": 4, "entries": 1}' \
    "$KP" check runtime --runtime-policy "$SW/runtime_policy.json" --ima-log "$SW/ima_increment.txt" \
    --hash-alg sha256 --pcr10 $P4 --start-entry 3 --start-pcr10 $P3
check unlisted-file 1 '"event_id": "ima.validation.ima-ng.not_in_allowlist", "context": {"message": "File not found in allowlist: /etc/bar.conf"}' \
    "$KP" check runtime --runtime-policy "$SW/runtime_policy_missing_bar.json" \
    --ima-log "$SW/ascii_runtime_measurements" --hash-alg sha256 --pcr10 $P3
check excluded 0 '"valid": true' \
    "$KP" check runtime --runtime-policy "$SW/runtime_policy_exclude_etc.json" \
    --ima-log "$SW/ascii_runtime_measurements" --hash-alg sha256 --pcr10 $P3
check wrong-digest 1 'ima.validation.ima-ng.runtime_policy_hash' \
    "$KP" check runtime --runtime-policy "$SW/runtime_policy_wrong_foo_hash.json" \
    --ima-log "$SW/ascii_runtime_measurements" --hash-alg sha256 --pcr10 $P3

# tampering: an edited digest keeps the line well-formed but breaks its
# template hash; a dropped line no longer reproduces the quoted PCR
sed 's/5fa3473d/5fa3473e/' "$SW/ascii_runtime_measurements" >"$T/edited"
check edited-entry 1 '"event_id": "ima.validation.ima_hash"' \
    "$KP" check runtime --runtime-policy "$SW/runtime_policy.json" --ima-log "$T/edited" \
    --hash-alg sha256 --pcr10 $P3
sed '2d' "$SW/ascii_runtime_measurements" >"$T/dropped"
check dropped-entry 1 '"event_id": "ima.pcr_mismatch"' \
    "$KP" check runtime --runtime-policy "$SW/runtime_policy.json" --ima-log "$T/dropped" \
    --hash-alg sha256 --pcr10 $P3
check wrong-bank 1 'ima.pcr_mismatch' \
    "$KP" check runtime --runtime-policy "$SW/runtime_policy.json" --ima-log "$SW/ascii_runtime_measurements" \
    --hash-alg sha384 --pcr10 $P3$(echo $P3 | cut -c1-32)
printf 'garbage line\n' >"$T/garbage"
check unparsable 1 '"message": "Line was not parsable into a valid IMA entry: garbage line"' \
    "$KP" check runtime --ima-log "$T/garbage" --hash-alg sha1

# violations are accepted silently unless asked for, as in verifier.conf
printf '10 0000000000000000000000000000000000000000 ima-ng sha1:0000000000000000000000000000000000000000 /x\n' >"$T/violation"
check violation 0 '"pcr10": "bac37b84f007d0238af95af707cac8d61254870e"' \
    "$KP" check runtime --ima-log "$T/violation" --hash-alg sha1
check violation-events 1 'ima.validation.tomtou' \
    "$KP" check runtime --ima-log "$T/violation" --hash-alg sha1 --ignore-tomtou-errors

# ima-sig with the tenant keyring: signatures pass without digests
IN=$D/ima/inline
check signed-with-keys 0 '"valid": true' \
    "$KP" check runtime --ima-log "$IN/ima_sig_signed.txt" --hash-alg sha1 \
    --verification-keys "$IN/keyrings.json"
check signed-without-keys 1 'ima.validation.ima-ng.not_in_allowlist' \
    "$KP" check runtime --ima-log "$IN/ima_sig_signed.txt" --hash-alg sha1

# signed policies
SP=$D/policy/sign-runtime-policy
check dsse-key 1 'not_in_allowlist' \
    "$KP" check runtime --runtime-policy "$SP/runtime-policy.dsse-ecdsa-p521.json" \
    --runtime-policy-key "$SP/ec-p521-public.pem" --ima-log "$SW/ascii_runtime_measurements" --hash-alg sha256
check dsse-wrong-key 2 'failed DSSE signature verification' \
    "$KP" check runtime --runtime-policy "$SP/runtime-policy.dsse-ecdsa-p521.json" \
    --runtime-policy-key "$D/policy/runtime-policy-pubkey.pub" --ima-log "$SW/ascii_runtime_measurements" --hash-alg sha256
check dsse-unchecked 1 'signature was not checked' \
    "$KP" check runtime --runtime-policy "$SP/runtime-policy.dsse-ecdsa-p521.json" \
    --ima-log "$SW/ascii_runtime_measurements" --hash-alg sha256

# bad usage and unreadable input: exit 2 with a message saying what to fix
check help 0 'usage: keylime-policy check runtime' "$KP" check runtime --help
check no-log 2 '--ima-log and --hash-alg are required' "$KP" check runtime --hash-alg sha1
check bad-bank 2 '--hash-alg must be sha1, sha256, sha384 or sha512' \
    "$KP" check runtime --ima-log "$T/garbage" --hash-alg md5
check bad-pcr 2 '--pcr10 must be 64 hex digits' \
    "$KP" check runtime --ima-log "$T/garbage" --hash-alg sha256 --pcr10 abcd
check half-start 2 '--start-entry and --start-pcr10 go together' \
    "$KP" check runtime --ima-log "$T/garbage" --hash-alg sha1 --start-entry 3
check bad-start 2 '--start-entry must be a number' \
    "$KP" check runtime --ima-log "$T/garbage" --hash-alg sha1 --start-entry x --start-pcr10 0000000000000000000000000000000000000000
check missing-log 2 "cannot read the IMA log: cannot open $T/nope" \
    "$KP" check runtime --ima-log "$T/nope" --hash-alg sha1
check invalid-policy 2 'runtime policy: required key "release" is missing' \
    "$KP" check runtime --runtime-policy "$IN/runtime_policy_test.json" --ima-log "$T/garbage" --hash-alg sha1
printf '{"pubkeys": []}' >"$T/badkeys"
check bad-keyring 2 'IMA keyring: "keyids" is missing or not a list' \
    "$KP" check runtime --ima-log "$T/garbage" --hash-alg sha1 --verification-keys "$T/badkeys"
check unknown-option 2 'unknown option --frobnicate' \
    "$KP" check runtime --ima-log "$T/garbage" --hash-alg sha1 --frobnicate
check unknown-command 2 "unknown command 'check nothing'" "$KP" check nothing

[ $fails -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
