#!/bin/sh
# keylime-policy check evidence, driven as an acceptance suite would: the
# swtpm quotes of tests/data (whose upstream verdicts are in expected/),
# tampered responses, policies, measured boot and every usage error.
# $1: the keylime-policy binary; KL_TEST_DATA: tests/data.
. "$(dirname "$0")/helpers.sh"

E=$D/evidence
NONCE=AbCdEfGhIj0123456789
POLICY=$D/ima/swtpm/runtime_policy.json
ev() { "$KP" check evidence --nonce "$NONCE" --ak "$E/ak.b64" "$@"; }

# --- verdicts (upstream's on the same files: expected/quote_*.json)
check integrity-ok 0 '"next_ima_ml_entry": 3' ev --quote-response "$E/integrity.json" \
    --runtime-policy "$POLICY"
assert_has integrity-valid "$T/out" '{"valid": true, "failures": [], "hash_alg": "sha256"'
assert_has integrity-pcr16 "$T/out" '"16": "56dfd7a162f70490d2f219c12dfda844ebe81f121938b217b1d4d887c91141e8"'
check envelope-accepted 0 '"valid": true' ev --quote-response "$E/integrity_envelope.json" \
    --runtime-policy "$POLICY"
check identity-ok 0 '"valid": true' ev --quote-response "$E/identity.json"
check wrong-nonce 1 '"event_id": "qoute_validation.quote_validation"' \
    "$KP" check evidence --nonce ZyXwVuTsRq9876543210 --ak "$E/ak.b64" \
    --quote-response "$E/integrity.json" --runtime-policy "$POLICY"
check unlisted-file 1 '"event_id": "ima.validation.ima-ng.not_in_allowlist"' \
    ev --quote-response "$E/integrity.json" \
    --runtime-policy "$D/ima/swtpm/runtime_policy_missing_bar.json"
assert_has unlisted-path "$T/out" '/etc/bar.conf'

printf '{"mask": "0x8400", "15": ["%s"]}\n' \
    1111111111111111111111111111111111111111111111111111111111111111 >"$T/tp_bad.json"
printf '{"mask": "0x8400", "15": ["%s"]}\n' \
    0000000000000000000000000000000000000000000000000000000000000000 >"$T/tp_ok.json"
check tpm-policy-bad 1 '"event_id": "pcr_validation.invalid_pcr_15"' \
    ev --quote-response "$E/integrity.json" --runtime-policy "$POLICY" --tpm-policy "$T/tp_bad.json"
check tpm-policy-ok 0 '"valid": true' \
    ev --quote-response "$E/integrity.json" --runtime-policy "$POLICY" --tpm-policy "$T/tp_ok.json"

# --- tampering with the response
sed 's/"pubkey": "-----BEGIN PUBLIC KEY-----\\nMII/"pubkey": "-----BEGIN PUBLIC KEY-----\\nMIJ/' \
    "$E/integrity.json" >"$T/otherkey.json"
check other-payload-key 1 '"event_id": "pcr_validation.invalid_pcr_16"' \
    ev --quote-response "$T/otherkey.json" --runtime-policy "$POLICY"
# one IMA entry's path edited: the replay no longer gives the quoted PCR 10
sed 's|/etc/bar.conf|/etc/baz.conf|' "$E/integrity.json" >"$T/edited.json"
check edited-ima-log 1 '"event_id": "ima.' ev --quote-response "$T/edited.json" \
    --runtime-policy "$POLICY"
assert_lacks edited-not-valid "$T/out" '"valid": true'
# the attest (TPMS_ATTEST) with one base64 character changed
sed 's/"quote": "r\/1RDR4AY/"quote": "r\/1RDR4AZ/' "$E/integrity.json" >"$T/attest.json"
check tampered-attest 1 '"event_id": "qoute_validation.quote_validation"' \
    ev --quote-response "$T/attest.json" --runtime-policy "$POLICY"
sed 's/"hash_alg": "sha256"/"hash_alg": "md5"/' "$E/integrity.json" >"$T/md5.json"
check unaccepted-hash 1 '"event_id": "qoute_validation.invalid_hash_alg"' \
    ev --quote-response "$T/md5.json" --runtime-policy "$POLICY"
sed 's/"sign_alg": "rsassa"/"sign_alg": "rsapss"/' "$E/integrity.json" >"$T/pss.json"
check unaccepted-sign 1 '"event_id": "qoute_validation.invalid_sign_alg"' \
    ev --quote-response "$T/pss.json" --runtime-policy "$POLICY"
# an AK the quote was not made with
base64 -w0 "$D/tpm/keylime-c/ak_rsa.pub" >"$T/other_ak.b64"
check other-ak 1 '"event_id": "qoute_validation.quote_validation"' \
    "$KP" check evidence --nonce "$NONCE" --ak "$T/other_ak.b64" \
    --quote-response "$E/integrity.json" --runtime-policy "$POLICY"

# --- measured boot: an identity quote has no PCR 0-7, the example policy needs them
check mb-missing-pcrs 1 '"event_id": "measured_boot.missing_pcrs"' \
    ev --quote-response "$E/identity.json" \
    --mb-policy "$D/eventlog/refstate/mb_log.bin-i.json" --mb-policy-name example
check mb-accept-all 0 '"valid": true' ev --quote-response "$E/identity.json" \
    --mb-policy "$D/eventlog/refstate/mb_log.bin-i.json"
: >"$T/empty.json"
check mb-empty-refstate-is-none 0 '"valid": true' ev --quote-response "$E/identity.json" \
    --mb-policy "$T/empty.json" --mb-policy-name example

# --- upstream's event order: its loop over measured-boot PCRs walks a Python
# set, which for up to 4 members is not ascending (upstream's verdict on
# this swtpm quote of PCRs 4, 5, 7, 8, 11, 13 without a boot log)
S=$D/evidence/set_order
check set-order 1 '"measured_boot.missing_pcrs"' "$KP" check evidence --quote-response "$S/RESP.json" \
    --nonce "$(cat "$S/nonce")" --ak "$S/AK.b64" --tpm-policy "$S/tpm_policy.json" \
    --runtime-policy "$S/runtime_policy.json" \
    --mb-policy "$D/eventlog/refstate/uefi_log.bin-i.json" --mb-policy-name example
ids=$(grep -o '"event_id": "[^"]*"' "$T/out" | cut -d'"' -f4 | tr '\n' ' ')
assert_eq set-order-ids "$ids" "pcr_validation.missing_pcr_16 pcr_validation.unused_pcr_8 \
pcr_validation.unused_pcr_4 pcr_validation.unused_pcr_5 pcr_validation.unused_pcr_7 \
measured_boot.missing_pcrs "

# --- bad usage and unreadable input: exit 2 with the reason
check no-args 2 '--quote-response, --nonce and --ak are required' "$KP" check evidence
check missing-file 2 'nope.json' ev --quote-response "$T/nope.json"
printf 'not json' >"$T/garbage.json"
check garbage-response 2 'garbage.json' ev --quote-response "$T/garbage.json"
printf 'AAAA' >"$T/bad_ak.b64"
check bad-ak 2 'not a TPM2B_PUBLIC' "$KP" check evidence --nonce "$NONCE" --ak "$T/bad_ak.b64" \
    --quote-response "$E/integrity.json"
check bad-engine 2 'accept-all, reject-all or example' ev --quote-response "$E/identity.json" \
    --mb-policy "$D/eventlog/refstate/mb_log.bin-i.json" --mb-policy-name strict
check engine-without-policy 2 '--mb-policy-name needs --mb-policy' \
    ev --quote-response "$E/identity.json" --mb-policy-name example
check unknown-option 2 'unknown option' ev --quote-response "$E/identity.json" --frobnicate
check help 0 'usage: keylime-policy check evidence' "$KP" check evidence --help

finish
