#!/bin/sh
# keylime-policy sign runtime: DSSE envelopes compared with one upstream
# keylime made (tests/data/policy/sign-runtime-policy, vectors described in
# tests/data/expected/runtime_policy_signatures.json), verified back with
# `keylime-policy check runtime`, generated keys, the x509 backend, the RSA
# key refusal and bad input.
# $1: the keylime-policy binary; KL_TEST_DATA: tests/data.
. "$(dirname "$0")/helpers.sh"

S=$D/policy/sign-runtime-policy
P521_KEYID=ef283e2cf75457fb0f0166aa3b394ef4f77c3ebef3946daf5d0da6a8412700f9
member() { # member FILE NAME: a string member of a one-line JSON document
    sed -n "s/.*\"$2\": \"\\([^\"]*\\)\".*/\\1/p" "$1"
}
verify() { # verify NAME STATUS TEXT ENVELOPE [KEY]: check the envelope offline
    _n=$1 _s=$2 _t=$3 _e=$4
    shift 4
    check "$_n" "$_s" "$_t" "$KP" check runtime --runtime-policy "$_e" ${1:+--runtime-policy-key "$1"} \
        --ima-log /dev/null --hash-alg sha1
}

# --- ecdsa backend with the upstream vector's key ------------------------
check ecdsa-p521 0 "" "$KP" sign runtime -r "$S/runtime-policy.json" -k "$S/ec-p521-private.pem" \
    -o "$T/env.json"
assert_eq ecdsa-payload "$(member "$T/env.json" payload)" \
    "$(member "$S/runtime-policy.dsse-ecdsa-p521.json" payload)"
assert_eq ecdsa-type "$(member "$T/env.json" payloadType)" "application/vnd.keylime+json"
assert_eq ecdsa-keyid "$(member "$T/env.json" keyid)" "$P521_KEYID"
assert_eq ecdsa-layout "$(sed -e 's/"[^"]*": "[^"]*"/S/g' "$T/env.json")" '{S, S, "signatures": [{S, S}]}'
assert_eq ecdsa-file-no-newline "$(tail -c 1 "$T/env.json")" "}"
verify ecdsa-verifies 0 '"valid": true' "$T/env.json" "$S/ec-p521-public.pem"
verify ecdsa-wrong-key 2 "signature" "$T/env.json" "$D/policy/runtime-policy-pubkey.pub"
verify upstream-vector-verifies 0 '"valid": true' "$S/runtime-policy.dsse-ecdsa-p521.json" \
    "$S/ec-p521-public.pem"
sed -e 's/"sig": "M/"sig": "N/' "$T/env.json" >"$T/tampered.json"
verify ecdsa-tampered 2 "signature" "$T/tampered.json" "$S/ec-p521-public.pem"
check ecdsa-stdout 0 '"payloadType": "application/vnd.keylime+json"' \
    "$KP" sign runtime -r "$S/runtime-policy-empty.json" -k "$S/ec-p521-private.pem"
assert_eq ecdsa-stdout-newline "$(tail -c 1 "$T/out" | od -An -c | tr -d ' ')" '\n'

# --- generated keys ------------------------------------------------------
check generated-key 0 "wrote a new EC private key" "$KP" sign runtime -r "$S/runtime-policy.json" \
    -p "$T/gen.pem" -o "$T/gen.json"
assert_has generated-key-pem "$T/gen.pem" "-----BEGIN EC PRIVATE KEY-----"
assert_eq generated-key-mode "$(stat -c %a "$T/gen.pem")" 600
if command -v openssl >/dev/null 2>&1; then
    openssl ec -in "$T/gen.pem" -pubout -out "$T/gen.pub" 2>/dev/null
    assert_has generated-key-p256 "$T/gen.pub" "-----BEGIN PUBLIC KEY-----"
    assert_eq generated-key-id "$(member "$T/gen.json" keyid)" \
        "$(sha256sum "$T/gen.pub" | cut -d' ' -f1)"
    verify generated-key-verifies 0 '"valid": true' "$T/gen.json" "$T/gen.pub"
fi
mkdir "$T/cwd"
check default-key-path 0 "keylime-ecdsa-key.pem" \
    sh -c 'cd "$1" && "$2" sign runtime -r "$3" -o env.json' sh "$T/cwd" "$KP" "$S/runtime-policy.json"
assert_has default-key-written "$T/cwd/keylime-ecdsa-key.pem" "EC PRIVATE KEY"
check signing-key-used 0 "$(member "$T/gen.json" keyid)" \
    "$KP" sign runtime -r "$S/runtime-policy-empty.json" -k "$T/gen.pem"

# --- x509 backend --------------------------------------------------------
check x509 0 "" "$KP" sign runtime -r "$S/runtime-policy.json" -k "$S/ec-p521-private.pem" \
    -b x509 -c "$T/cert.pem" -o "$T/x509.json"
assert_has x509-cert "$T/cert.pem" "-----BEGIN CERTIFICATE-----"
assert_eq x509-keyid "$(member "$T/x509.json" keyid)" "$(base64 -w0 "$T/cert.pem")"
assert_eq x509-payload "$(member "$T/x509.json" payload)" "$(member "$T/env.json" payload)"
verify x509-verifies-by-keyid 0 '"valid": true' "$T/x509.json"
assert_lacks x509-checked "$T/err" "not checked"
verify x509-verifies-by-key 0 '"valid": true' "$T/x509.json" "$S/ec-p521-public.pem"
if command -v openssl >/dev/null 2>&1; then
    openssl x509 -in "$T/cert.pem" -noout -text >"$T/cert.txt" 2>&1
    assert_has x509-subject "$T/cert.txt" "Subject: CN = dsse_lib"
    assert_has x509-issuer "$T/cert.txt" "Issuer: CN = dsse_lib"
    assert_has x509-san "$T/cert.txt" "DNS:dsse_lib"
    assert_has x509-bc "$T/cert.txt" "X509v3 Basic Constraints: critical"
    assert_has x509-v3 "$T/cert.txt" "Version: 3 (0x2)"
    assert_has x509-alg "$T/cert.txt" "ecdsa-with-SHA256"
fi
check x509-upper-case 0 "" "$KP" sign runtime -r "$S/runtime-policy-empty.json" \
    -k "$S/ec-p521-private.pem" -b X509 -c "$T/cert2.pem" -o "$T/x2.json"
check x509-needs-cert 1 "certificate output file" "$KP" sign runtime \
    -r "$S/runtime-policy.json" -k "$S/ec-p521-private.pem" -b x509

# --- refusals and bad input ----------------------------------------------
check rsa-refused 1 "only elliptic curve keys are supported" \
    "$KP" sign runtime -r "$S/runtime-policy.json" -k "$S/rsa-4096-private.pem" -o "$T/rsa.json"
assert_eq rsa-nothing-written "$(ls "$T/rsa.json" 2>/dev/null)" ""
check public-key-refused 1 "no PEM private key" \
    "$KP" sign runtime -r "$S/runtime-policy.json" -k "$S/ec-p521-public.pem"
check missing-key 1 "cannot read the EC private key" \
    "$KP" sign runtime -r "$S/runtime-policy.json" -k "$T/nope.pem"
check bogus-policy 1 "unable to validate the runtime policy" \
    "$KP" sign runtime -r "$S/runtime-policy-bogus.json" -k "$S/ec-p521-private.pem"
assert_has bogus-policy-why "$T/err" "invalid JSON"
echo '{"meta": {"version": 1}}' >"$T/schema.json"
check schema-violation 1 "required key \"release\" is missing" \
    "$KP" sign runtime -r "$T/schema.json" -k "$S/ec-p521-private.pem"
check envelope-refused 1 "already a DSSE envelope" \
    "$KP" sign runtime -r "$T/env.json" -k "$S/ec-p521-private.pem"
check missing-policy 1 "cannot read the runtime policy" \
    "$KP" sign runtime -r "$T/nope.json" -k "$S/ec-p521-private.pem"
check no-key-written-on-bad-policy 1 "" \
    sh -c 'cd "$1" && "$2" sign runtime -r "$3" -p fresh.pem' sh "$T/cwd" "$KP" "$S/runtime-policy-bogus.json"
assert_eq no-key-written "$(ls "$T/cwd/fresh.pem" 2>/dev/null)" ""
check policy-required 2 "-r/--runtime-policy" "$KP" sign runtime -k "$S/ec-p521-private.pem"
check key-and-keypath 1 "only one of -k/--keyfile and -p/--keypath" \
    "$KP" sign runtime -r "$S/runtime-policy.json" -k "$S/ec-p521-private.pem" -p "$T/x.pem"
check bad-backend 2 "invalid choice" "$KP" sign runtime -r "$S/runtime-policy.json" -b gpg
check help 0 "--cert-outfile" "$KP" sign runtime --help

finish
