#!/bin/sh
# crosscheck.sh TPM_TOOL: lib/tpmdev checked by tpm2-tools, independently
# of the project's verifier code: tpm2_checkquote verifies our quotes and
# PCR blobs, and credentials made by tpm2_makecredential (software, as the
# registrar does) are activated by kl_tpmdev_cred_activate. Runs under
# with_swtpm.sh.
TT=${1:?usage: $0 /path/to/tpm_tool}
TT=$(cd "$(dirname "$TT")" && pwd)/$(basename "$TT")
. "$(dirname "$0")/helpers.sh"
export TPM2TOOLS_TCTI=$TCTI
cd "$W" || exit 1
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
head -c 32 /dev/urandom >secret

# EK type, AK key type, scheme, hash, quoted bank
for combo in "rsa rsa rsassa sha256 sha256" "rsa rsa rsassa sha1 sha1" \
    "ecc ecc ecdsa sha256 sha256" "ecc ecc ecdsa sha384 sha1" \
    "0x81010016 ecc ecdsa sha256 sha256"; do
    set -- $combo
    ek=$1 ak=$2 sign=$3 hash=$4 bank=$5
    tag="$ek/$ak/$sign/$hash/$bank"
    check "ek-pub $tag" 0 "" "$TT" ek-pub --ek "$ek" --out ek.pub
    check "ak-create $tag" 0 "" "$TT" ak-create --ek "$ek" --ak "$ak" --sign "$sign" \
        --hash "$hash" --pub ak.pub --priv ak.priv --name ak.name
    check "quote $tag" 0 "" "$TT" quote --ek "$ek" --pub ak.pub --priv ak.priv \
        --nonce "nonce-$bank" --bank "$bank" --pcrs 0,1,2,3,4,5,6,7,8,9,10,16,23 \
        --msg q.msg --sig q.sig --blob q.pcrs
    check "tpm2_checkquote accepts $tag" 0 "" tpm2_checkquote -u ak.pub -m q.msg -s q.sig \
        -f q.pcrs -g "$hash" -q "$(hex "nonce-$bank")"
    check "tpm2_checkquote rejects a wrong nonce $tag" 1 "nonce" tpm2_checkquote -u ak.pub \
        -m q.msg -s q.sig -f q.pcrs -g "$hash" -q "$(hex "nonce-xxxx")"
    check "tpm2_makecredential $tag" 0 "" tpm2_makecredential -T none -u ek.pub -s secret \
        -n "$(cat ak.name)" -o cred.bin
    check "activate $tag" 0 "" "$TT" activate --ek "$ek" --pub ak.pub --priv ak.priv \
        --blob cred.bin --out got
    if cmp -s secret got; then ok "secret recovered $tag"; else bad "secret $tag" "differs"; fi
    cp ak.pub "prev-$ak.pub"
    cp ak.name "prev-$ak.name"
done

# A credential for another AK's name is refused by the TPM.
check "makecredential for a foreign name" 0 "" tpm2_makecredential -T none -u ek.pub -s secret \
    -n "000b$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" -o cred.bin
check "activate refuses another AK's credential" 1 "Esys_ActivateCredential" "$TT" activate \
    --ek 0x81010016 --pub ak.pub --priv ak.priv --blob cred.bin --out got
# Every transient object was flushed (swtpm has three slots).
run tpm2_getcap handles-transient
assert_eq "no transient object left" "$(cat "$W/out")" ""
finish
