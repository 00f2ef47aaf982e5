#!/bin/sh
# evidence.sh KEYLIME_POLICY EMULATOR TPM_TOOL: the whole evidence path on a
# real (software) TPM, as an agent produces it and the verifier checks it.
# The agent's payload key is bound to PCR 16, the IMA emulator measures
# files into PCR 10, the TPM quotes PCRs 10 and 16 with the verifier's
# nonce, and `keylime-policy check evidence` judges the agent's response.
# Then an unapproved script "runs" and the next quote must fail with its
# path; a replayed (old) nonce and another agent's AK must fail too.
# Runs under with_swtpm.sh.
KP=${1:?usage: $0 keylime-policy keylime_ima_emulator tpm_tool}
EMU=${2:?}
TT=${3:?}
here=$(cd "$(dirname "$0")" && pwd)
for v in KP EMU TT; do
    eval "_p=\$$v"
    eval "$v=\$(cd \"\$(dirname \"\$_p\")\" && pwd)/\$(basename \"\$_p\")"
done
. "$here/helpers.sh"
cd "$W" || exit 1
export TPM2TOOLS_TCTI="$TCTI"

# JSON string of a file's text (paths and PEM: no control characters but \n)
json_text() {
    awk 'BEGIN { ORS = "" } { gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); print $0 "\\n" }' "$1"
}

# response NONCE: quote PCRs 10 and 16 (sha256) and write resp.json as the
# agent's GET /quotes/integrity `results`
response() {
    run "$TT" quote --ek rsa --pub ak.pub --priv ak.priv --nonce "$1" --bank sha256 \
        --pcrs 10,16 --msg q.msg --sig q.sig --blob q.pcrs
    [ "$rc" -eq 0 ] || { bad "quote" "tpm_tool quote failed"; cat "$W/err"; }
    {
        printf '{"quote": "r%s:%s:%s", ' "$(base64 -w0 q.msg)" "$(base64 -w0 q.sig)" \
            "$(base64 -w0 q.pcrs)"
        printf '"hash_alg": "sha256", "enc_alg": "rsa", "sign_alg": "rsassa", '
        printf '"pubkey": "%s", ' "$(json_text payload.pem)"
        printf '"ima_measurement_list": "%s", "ima_measurement_list_entry": 0, ' \
            "$(json_text ima.log)"
        printf '"mb_measurement_list": null}\n'
    } >resp.json
}

# 1. The agent: AK under the EK, payload key bound to PCR 16.
check "AK created" 0 "" "$TT" ak-create --ek rsa --ak rsa --sign rsassa --hash sha256 \
    --pub ak.pub --priv ak.priv --name ak.name
base64 -w0 ak.pub >ak.b64
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out payload.key 2>/dev/null
openssl pkey -in payload.key -pubout -out payload.pem
check "PCR 16 bound to the payload key" 0 "" tpm2_pcrextend \
    "16:sha256=$(sha256sum payload.pem | cut -d' ' -f1)"

# 2. What the node runs, measured into PCR 10; a policy made from it.
printf '#!/bin/sh\necho approved\n' >approved.sh
printf '#!/bin/sh\necho evil\n' >evil.sh
chmod +x approved.sh evil.sh
: >ima.log
check "approved script runs under IMA" 0 "approved" "$EMU" -T "$TCTI" -f ima.log run ./approved.sh
check "policy from the measured list" 0 "" "$KP" create runtime -m ima.log -o policy.json

# 3. A clean attestation.
response Nonce0123456789abcdef
check "clean quote is valid" 0 '"valid": true' "$KP" check evidence --quote-response resp.json \
    --nonce Nonce0123456789abcdef --ak ak.b64 --runtime-policy policy.json
check "next IMA entry: boot_aggregate, script, interpreter" 0 '"next_ima_ml_entry": 3' "$KP" check evidence \
    --quote-response resp.json --nonce Nonce0123456789abcdef --ak ak.b64 \
    --runtime-policy policy.json
check "a replayed quote (old nonce) fails" 1 '"qoute_validation.quote_validation"' \
    "$KP" check evidence --quote-response resp.json --nonce NewNonce456789abcdef --ak ak.b64 \
    --runtime-policy policy.json

# 4. Another agent's AK.
check "second AK created" 0 "" "$TT" ak-create --ek rsa --ak rsa --sign rsassa --hash sha256 \
    --pub ak2.pub --priv ak2.priv --name ak2.name
base64 -w0 ak2.pub >ak2.b64
check "another AK fails" 1 '"qoute_validation.quote_validation"' "$KP" check evidence \
    --quote-response resp.json --nonce Nonce0123456789abcdef --ak ak2.b64 \
    --runtime-policy policy.json

# 5. An unapproved script runs: the next quote fails with its path.
check "unapproved script runs under IMA" 0 "evil" "$EMU" -T "$TCTI" -f ima.log run ./evil.sh
response Nonce2222222222222222
check "unapproved executable detected" 1 '"ima.validation.ima-ng.not_in_allowlist"' \
    "$KP" check evidence --quote-response resp.json --nonce Nonce2222222222222222 --ak ak.b64 \
    --runtime-policy policy.json
if grep -qF "$W/evil.sh" "$W/out"; then ok "failure names the script"; else
    bad "failure names the script" "no $W/evil.sh in the output"
    cat "$W/out"
fi

# 6. The log edited to hide it: PCR 10 no longer matches.
grep -v evil.sh ima.log >ima.hidden && mv ima.hidden ima.log
response Nonce3333333333333333
check "hidden entry: PCR 10 mismatch" 1 '"ima.pcr_mismatch"' "$KP" check evidence \
    --quote-response resp.json --nonce Nonce3333333333333333 --ak ak.b64 \
    --runtime-policy policy.json

finish
