#!/bin/sh
# daemons.sh REGISTRAR AGENT KEYLIME_POLICY EMULATOR DAEMON_TOOL: the registrar
# and the agent on loopback against a software TPM, driven as the tenant and
# the verifier drive them: registration and activation, admin reads over
# mTLS, identity and integrity quotes checked by our verifier code, U + V +
# verify, a payload whose autorun.sh runs, a signed revocation whose action
# runs and a forged one that is refused, re-registration rules, and bad
# input on every endpoint. Runs under tests/tpm/with_swtpm.sh; with
# KL_TEST_PG_URL set (tests/db/with_postgres.sh) the registrar uses
# PostgreSQL instead of SQLite.
REG=${1:?usage: $0 keylime_registrar keylime_agent keylime-policy emulator daemon_tool}
AGENT=${2:?}
KP=${3:?}
EMU=${4:?}
DT=${5:?}
here=$(cd "$(dirname "$0")" && pwd)
for v in REG AGENT KP EMU DT; do
    eval "_p=\$$v"
    eval "$v=\$(cd \"\$(dirname \"\$_p\")\" && pwd)/\$(basename \"\$_p\")"
done
. "$here/../tpm/helpers.sh"
. "$here/lib.sh"
cd "$W" || exit 1
UUID=d432fbb3-d2f1-4a97-9ef7-75bd81c00000

# 1. What the node ran, measured into PCR 10 before the agent owns the TPM.
printf '#!/bin/sh\necho approved\n' >approved.sh
chmod +x approved.sh
: >ima.log
check "IMA emulator measures a script" 0 "approved" "$EMU" -T "$TCTI" -f ima.log run ./approved.sh

# 2. Registrar, then agent (registers and activates itself).
start_registrar
engine=sqlite
[ -n "${KL_TEST_PG_URL:-}" ] && engine=postgresql
check "registrar stores agents in $engine" 0 "database $engine" cat reg.log
start_agent
check "registrar lists the agent (mTLS admin)" 0 "$UUID" admin GET "/v2.6/agents"
check "registrar returns the activated agent" 0 '"regcount": 1' admin GET "/v2.6/agents/$UUID"
cp "$W/out" regshow.json
grep -q '"mtls_cert": "-----BEGIN CERTIFICATE-----' "$W/out" && ok "mtls_cert stored as PEM" ||
    bad "mtls_cert stored as PEM" "$(head -c 300 "$W/out")"
jget "$W/out" results.aik_tpm >ak.b64
jget "$W/out" results.mtls_cert >agent-cert.pem
check "registrar /version" 0 '"current_version": "2.6"' plain GET "/version"
check "admin call over plain HTTP refused" 0 "400" plain_code GET "/v2.6/agents/$UUID"
check "admin call without a client certificate refused" 0 "403" nocert_code GET "/v2.6/agents"
check "unknown version is 404 on the registrar" 0 "404" plain_code GET "/v2.9/agents/$UUID"

# 3. Quotes, checked with the verifier's code.
check "agent /version" 0 '"supported_version": "2.6"' agent GET "/version"
check "agent/info" 0 "\"agent_uuid\": \"$UUID\"" agent GET "/v2.6/agent/info"
check "identity quote" 0 '"pubkey"' agent GET "/v2.6/quotes/identity?nonce=IdNonce0123456789abc"
jget "$W/out" results >identity.json
check "identity quote verifies (AK, nonce, PCR 16 binding)" 0 "" \
    "$KP" check evidence --quote-response identity.json --nonce IdNonce0123456789abc --ak ak.b64
check "integrity quote with the IMA list" 0 '"ima_measurement_list_entry": 0' \
    agent GET "/v2.6/quotes/integrity?nonce=NonceInteg0123456789&mask=0x400&partial=0"
jget "$W/out" results >integrity.json
"$KP" create runtime -m ima.log -o policy.json >/dev/null 2>&1
check "integrity quote verifies against a policy of what ran" 0 "" \
    "$KP" check evidence --quote-response integrity.json --nonce NonceInteg0123456789 \
    --ak ak.b64 --runtime-policy policy.json
check "replayed nonce is caught" 1 "" \
    "$KP" check evidence --quote-response integrity.json --nonce OtherNonce0123456789 --ak ak.b64
check "ima_ml_entry past the end gives the whole list from 0" 0 \
    '"ima_measurement_list_entry": 0' \
    agent GET "/v2.6/quotes/integrity?nonce=abc&mask=0x400&partial=1&ima_ml_entry=99"
n=$(wc -l <ima.log)
check "ima_ml_entry at the end gives an empty list" 0 \
    "\"ima_measurement_list\": \"\", \"ima_measurement_list_entry\": $n" \
    agent GET "/v2.6/quotes/integrity?nonce=abc&mask=0x400&partial=1&ima_ml_entry=$n"
cp "$W/out" partial.json
check "partial=1 leaves out the pubkey" 1 "" grep -q pubkey partial.json
mb=$(base64 -w0 "$KL_TEST_DATA/eventlog/mb_log.bin")
check "boot log sent when PCR 0 is asked" 0 "\"mb_measurement_list\": \"$mb\"" \
    agent GET "/v2.6/quotes/integrity?nonce=abc&mask=0x401&partial=1"
check "and again (kept after the first read)" 0 "\"mb_measurement_list\": \"$mb\"" \
    agent GET "/v2.6/quotes/integrity?nonce=abd&mask=0x401&partial=1"
check "API 2.4 names the key rsa" 0 '"enc_alg": "rsa"' agent GET "/v2.4/quotes/identity?nonce=a1"
check "API 2.6 names the key rsa2048" 0 '"enc_alg": "rsa2048"' \
    agent GET "/v2.6/quotes/identity?nonce=a1"

# 4. Bad input to the agent: each answered 4xx, the agent still serving.
for q in "nonce=ab-c&mask=0x400&partial=0" "nonce=$(printf 'a%.0s' $(seq 65))&mask=0x1&partial=0" \
    "nonce=abc&mask=zz&partial=0" "nonce=abc&mask=0x1000000&partial=0" \
    "nonce=abc&mask=0x1&partial=2" "nonce=abc&mask=0x1" "mask=0x1&partial=0"; do
    check "integrity quote refuses $q" 0 "400" agent_code GET "/v2.6/quotes/integrity?$q"
done
check "unsupported API version" 0 "API version not supported: v2.9" \
    agent GET "/v2.9/quotes/identity?nonce=abc"
check "verify before the key is known" 0 "Bootstrap key not yet available" \
    agent GET "/v2.6/keys/verify?challenge=abc"
for body in '' '{' '[]' '{"encrypted_key": 5}' '{"auth_tag": "00", "encrypted_key": "!!"}' \
    '{"auth_tag": "zz", "encrypted_key": "AAAA"}'; do
    check "ukey refuses '$body'" 0 "400" agent_code POST "/v2.6/keys/ukey" "$body"
done
check "vkey refuses a key not for this agent" 0 "400" \
    agent_code POST "/v2.6/keys/vkey" '{"encrypted_key": "AAAA"}'
head -c 20000000 /dev/zero | tr '\0' 'a' >big.json
check "oversized body refused" 0 "413" agent_code POST "/v2.6/keys/ukey" @big.json
check "agent refuses a client without a certificate" 0 "refused" agent_nocert GET "/version"
check "plain HTTP to the agent's TLS port" 0 "ok" agent_plain
check "agent still answers after the bad input" 0 '"supported_version"' agent GET "/version"

# 5. Payload: U with a zip whose autorun.sh runs, V after, then verify.
openssl req -x509 -newkey rsa:2048 -nodes -keyout rev.key -out RevocationNotifier-cert.crt \
    -subj /CN=RevocationNotifier -days 2 >/dev/null 2>&1
printf '#!/bin/sh\necho "payload ran in $(pwd)" >"%s/payload.mark"\necho hello-from-autorun\n' \
    "$W" >autorun.sh
printf '#!/bin/sh\ncp "$1" "%s/revocation.mark"\n' "$W" >local_action_mark
echo local_action_mark >action_list
zip -q payload.zip autorun.sh local_action_mark action_list RevocationNotifier-cert.crt
agent GET "/v2.6/keys/pubkey" >pubkey.json && jget pubkey.json results.pubkey >nk.pem
check "U and V made for the agent's key" 0 "" "$DT" bootstrap nk.pem "$UUID" payload.zip \
    ukey.json vkey.json k.hex
check "ukey accepted" 0 '"results": null' agent POST "/v2.6/keys/ukey" @ukey.json
check "vkey accepted" 0 '"code": 200' agent POST "/v2.6/keys/vkey" @vkey.json
wait_for "$W/payload.mark" 10 && ok "autorun.sh ran" || bad "autorun.sh ran" "no mark"
grep -q "hello-from-autorun" agent.log && ok "autorun.sh output logged" ||
    bad "autorun.sh output logged" "not in the agent log"
want=$("$DT" hmac k.hex Challenge123)
check "keys/verify proves K" 0 "\"hmac\": \"$want\"" agent GET "/v2.6/keys/verify?challenge=Challenge123"

# 6. Revocation: a signed message runs the action, a forged one is refused.
msg='{"type": "revocation", "agent_id": "other", "event_id": "ima.validation.ima-ng.not_in_allowlist"}'
"$DT" revocation rev.key "$msg" >rev.json
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out forged.key 2>/dev/null
"$DT" revocation forged.key "$msg" >forged.json
check "forged revocation refused" 0 "400" agent_code POST "/v2.6/notifications/revocation" @forged.json
sleep 1
[ ! -e "$W/revocation.mark" ] && ok "forged revocation ran nothing" ||
    bad "forged revocation ran nothing" "action ran"
check "signed revocation accepted" 0 '"code": 200' agent POST "/v2.6/notifications/revocation" @rev.json
wait_for "$W/revocation.mark" 10 && ok "revocation action ran" || bad "revocation action ran" "no mark"
grep -q "not_in_allowlist" "$W/revocation.mark" 2>/dev/null && ok "action got the message" ||
    bad "action got the message" "$(cat "$W/revocation.mark" 2>/dev/null)"

# 7. Registrar rules: re-registration, wrong auth_tag, bad input.
ek=$(jget "$W/regshow.json" results.ek_tpm)
check "re-registration with another AK refused" 0 "403" plain_code POST "/v2.6/agents/$UUID" \
    "{\"ek_tpm\": \"$ek\", \"aik_tpm\": \"$ek\"}"
check "registration of a second id with the same keys" 0 '"blob"' plain POST "/v2.6/agents/second" \
    "{\"ek_tpm\": \"$ek\", \"aik_tpm\": \"$(cat ak.b64)\"}"
check "not activated yet: 404" 0 "has not been activated" admin GET "/v2.6/agents/second"
check "wrong auth_tag refused" 0 "does not match expected value" plain PUT "/v2.6/agents/second" \
    '{"auth_tag": "00"}'
check "and the record deleted" 0 "not found" admin GET "/v2.6/agents/second"
for body in '{' '[1]' '{"aik_tpm": 5}' '{"ek_tpm": "!!", "aik_tpm": "AA"}' \
    "{\"ek_tpm\": \"$ek\"}" "{\"ek_tpm\": \"$ek\", \"aik_tpm\": \"$ek\", \"port\": \"x\"}"; do
    check "registration refuses '$(echo "$body" | head -c 40)'" 0 "400" plain_code POST \
        "/v2.6/agents/bad1" "$body"
done
check "registration refuses a bad agent id" 0 "400" plain_code POST "/v2.6/agents/a%20b" \
    "{\"ek_tpm\": \"$ek\", \"aik_tpm\": \"$(cat ak.b64)\"}"
check "oversized registration refused" 0 "413" plain_code POST "/v2.6/agents/big" @big.json
check "activation of an unknown agent" 0 "404" plain_code PUT "/v2.6/agents/nobody" \
    '{"auth_tag": "00"}'
check "registrar still serves" 0 "$UUID" admin GET "/v2.6/agents"

# 8. Restart: the agent keeps its AK and re-registers; the registrar keeps
# the record and counts the registration.
stop_agent
start_agent
check "AK kept across restarts" 0 "$(cat ak.b64)" admin GET "/v2.6/agents/$UUID"
check "regcount counts the re-registration" 0 '"regcount": 2' admin GET "/v2.6/agents/$UUID"
# the verifier pins the mTLS certificate it got when the agent was added
jget "$W/out" results.mtls_cert >agent-cert2.pem
check "mTLS certificate kept across restarts" 0 "" cmp agent-cert.pem agent-cert2.pem
check "delete at the registrar" 0 '"code": 200' admin DELETE "/v2.6/agents/$UUID"
check "deleted agent is gone" 0 "404" admin_code GET "/v2.6/agents/$UUID"
stop_agent
# 9. A P-384 EK is not supported yet: refused at start, not replaced by P-256.
check "tpm_encryption_alg = ecc384 refused" 1 "not supported yet" env \
    KEYLIME_AGENT_CONFIG="$W/agent.conf" KEYLIME_AGENT_TPM_ENCRYPTION_ALG=ecc384 \
    timeout 60 "$AGENT"
stop_registrar
finish
