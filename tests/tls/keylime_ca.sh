#!/bin/sh
# keylime_ca run as an operator would: init, create, pkg, revoke, checked
# with the openssl command; usage errors exit 2 with one line.
# Shares tests/cli/helpers.sh (check, assert_has, finish; $T, $KP = keylime_ca).
. "$(dirname "$0")/../cli/helpers.sh"
CA=$KP
# usage_error NAME CMD...: exit 2 and exactly one line on stderr
usage_error() {
    _n=$1
    shift
    check "$_n" 2 "keylime_ca:" "$@"
    [ "$(wc -l <"$T/err")" -eq 1 ] || bad "$_n" "not one line on stderr"
}

printf '[ca]\ncert_org_unit = 77\n' >"$T/ca.conf"
export KEYLIME_CA_CONFIG="$T/ca.conf"
D="$T/ca"

check init 0 "created CA" "$CA" -c init -d "$D"
check ca-self-verifies 0 OK openssl verify -CAfile "$D/cacert.crt" "$D/cacert.crt"
check key-mode 0 600 stat -c %a "$D/ca-private.pem"
check create 0 "serial 2, OU=77,O=Keylime,L=Lexington,ST=MA,CN=agent1,C=US" \
    "$CA" -c create -n agent1 -d "$D"
check cert-verifies 0 OK openssl verify -CAfile "$D/cacert.crt" "$D/agent1-cert.crt"
check create-second 0 "serial 3" "$CA" --command create --name agent2 --dir "$D"
check pkg 0 "agent1-pkg.zip" "$CA" -c pkg -n agent1 -d "$D"
check pkg-mode 0 600 stat -c %a "$D/agent1-pkg.zip"
if command -v python3 >/dev/null; then
    check pkg-entries 0 "agent1-public.pem agent1-cert.crt agent1-private.pem cacert.crt cacrl.der cacrl.pem stored" \
        python3 -c 'import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
st = all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())
print(" ".join(z.namelist()), "stored" if st else "compressed")' "$D/agent1-pkg.zip"
fi
check crl-empty 0 "No Revoked Certificates" openssl crl -inform DER -in "$D/cacrl.der" -noout -text
check revoke 0 "revoked serial 2" "$CA" -c revoke -n agent1 -d "$D"
check crl-has-serial 0 "Serial Number: 02" openssl crl -in "$D/cacrl.pem" -noout -text
check crl-signed 0 "verify OK" openssl crl -in "$D/cacrl.pem" -CAfile "$D/cacert.crt" -noout
check revoked-fails-verify 2 "certificate revoked" openssl verify -crl_check -CAfile "$D/cacert.crt" \
    -CRLfile "$D/cacrl.pem" "$D/agent1-cert.crt"
check other-still-verifies 0 OK openssl verify -crl_check -CAfile "$D/cacert.crt" \
    -CRLfile "$D/cacrl.pem" "$D/agent2-cert.crt"
check revoke-serial 0 "revoked serial 3" "$CA" -c revoke -s 3 -d "$D"
check revoke-unknown 1 "was not issued" "$CA" -c revoke -s 40 -d "$D"
check pkg-unknown 1 "nobody-cert.crt" "$CA" -c pkg -n nobody -d "$D"
check open-missing 1 "does not exist" "$CA" -c create -n x -d "$T/none"

# a password-protected CA
printf '[ca]\npassword = s3cret\n' >"$T/pw.conf"
PW="env KEYLIME_CA_CONFIG=$T/pw.conf"
check init-pw 0 "" $PW "$CA" -c init -d "$T/pw"
assert_has key-encrypted "$T/pw/ca-private.pem" "ENCRYPTED"
check wrong-password 1 "wrong password" $PW KEYLIME_CA_PASSWORD=wrong "$CA" -c create -n a -d "$T/pw"
check right-password 0 "serial 2" $PW "$CA" -c create -n a -d "$T/pw"

usage_error no-command "$CA" -n x -d "$D"
usage_error bad-command "$CA" -c frobnicate -d "$D"
usage_error create-no-name "$CA" -c create -d "$D"
usage_error revoke-both "$CA" -c revoke -n agent1 -s 2 -d "$D"
usage_error import-no-serial "$CA" -c import-priv -d "$D"
usage_error listen "$CA" -c listen -d "$D"
usage_error unknown-option "$CA" -c init --bogus
usage_error missing-value "$CA" -c
usage_error extra-arg "$CA" -c init -d "$D" stray
check help 0 "usage: keylime_ca" "$CA" --help

finish
