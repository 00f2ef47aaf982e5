#!/bin/sh
# verifier.sh VERIFIER TENANT REGISTRAR AGENT KEYLIME_POLICY EMULATOR MB_REPLAY:
# keylime_verifier and keylime_tenant end to end, with our registrar and two
# agents on loopback (agent 1 on the TPM of tests/tpm/with_swtpm.sh, agent 2
# on a second swtpm), IMA lists written by the IMA emulator. Attestation
# passes with a policy of what ran and fails on an unlisted file, a changed
# file, an edited list, a wrong tpm_policy, a wrong measured-boot policy and
# a named policy updated under it; the payload runs, a revocation reaches the
# other agent, restarts of the agent and of the verifier resume attestation,
# deletes answer 202 or 200, stop gives Tenant Quote Failed, and bad input to
# every endpoint and the tenant is refused. With KL_TEST_PG_URL set
# (tests/db/with_postgres.sh) the verifier and the registrar use PostgreSQL.
VER=${1:?usage: $0 verifier tenant registrar agent keylime-policy emulator mb_replay}
TEN=${2:?}
REG=${3:?}
AGENT=${4:?}
KP=${5:?}
EMU=${6:?}
MBR=${7:?}
here=$(cd "$(dirname "$0")" && pwd)
for v in VER TEN REG AGENT KP EMU MBR; do
    eval "_p=\$$v"
    eval "$v=\$(cd \"\$(dirname \"\$_p\")\" && pwd)/\$(basename \"\$_p\")"
done
. "$here/../tpm/helpers.sh"
. "$here/../tpm/swtpm.sh"
. "$here/../daemons/lib.sh"
. "$here/vlib.sh"
cd "$W" || exit 1
U1=$(uuid 1)
U2=$(uuid 2)

# ---- set-up: two TPMs, what ran on each, the daemons ---------------------
TCTI2=$(swtpm_start "$W/tpm2") || { bad "second swtpm started" "see above"; finish; }
cp "$KL_TEST_DATA/eventlog/binary_bios_measurements-secureboot" boot1.bin
check "boot log replayed into TPM 1's PCRs" 0 "extended" "$MBR" "$TCTI1" boot1.bin
printf '#!/bin/sh\necho approved\n' >approved.sh
chmod +x approved.sh
: >ima1.log
: >ima2.log
measure 1 "$W/approved.sh" && measure 2 "$W/approved.sh" &&
    ok "IMA emulator measured approved.sh" ||
    bad "IMA emulator measured approved.sh" "$(tail -3 emu.log)"
start_verifier
engine=sqlite
[ -n "${KL_TEST_PG_URL:-}" ] && engine=postgresql
check "verifier stores agents in $engine" 0 "database $engine" cat verifier.log
start_vregistrar
start_vagent 1
start_vagent 2
write_tenant_conf

# payload dirs: autorun.sh leaves a mark, the revocation action another
for a in 1 2; do
    mkdir -p "incl$a"
    printf '#!/bin/sh\necho "payload ran in $(pwd)" >"%s/payload%s.mark"\n' "$W" "$a" \
        >"incl$a/autorun.sh"
    printf '#!/bin/sh\ncp "$1" "%s/revocation%s.mark"\n' "$W" "$a" >"incl$a/local_action_mark"
    chmod +x "incl$a/autorun.sh" "incl$a/local_action_mark"
    echo local_action_mark >"incl$a/action_list"
done
mkdir -p excluded
echo "$W/excluded/.*" >excludes.txt
# policy FILE [EXTRA_ALLOWLIST]: a runtime policy of agent 1's list so far
policy() {
    if [ -n "${2:-}" ]; then
        "$KP" create runtime -m ima1.log -e excludes.txt -a "$2" -o "$1" >>policy.log 2>&1
    else
        "$KP" create runtime -m ima1.log -e excludes.txt -o "$1" >>policy.log 2>&1
    fi || bad "keylime-policy create runtime" "$(tail -3 policy.log)"
}
count() { vget "$1" attestation_count; }
mark_log() { VLOG_AT=$(($(wc -l <verifier.log) + 1)); }
new_log() { tail -n "+$VLOG_AT" verifier.log; }

# check_attesting NAME ID: state Get Quote and two more attestations
check_attesting() {
    _c0=$(count "$2")
    if [ -z "$_c0" ]; then
        bad "$1" "no status: $(head -c 300 vget.json)"
    elif wait_attested "$2" $((_c0 + 2)) 15 && [ "$(vget "$2" operational_state)" = 3 ]; then
        ok "$1 (attestations $_c0 -> $(count "$2"))"
    else
        bad "$1" "state $(vget "$2" operational_state), attestations $_c0 -> $(count "$2"), \
last_event_id $(vget "$2" last_event_id)"
    fi
}

# expect_failure NAME ID EVENT TEXT: Invalid Quote with EVENT as
# last_event_id, and the verifier's log line for EVENT holds TEXT (a path or
# reason), or, with a fifth argument "any", some new line of the log does
_new_failure() { new_log | grep -qF "agent $1: Invalid Quote: "; }
expect_failure() {
    until_ok 20 _new_failure "$2"
    if wait_vstate "$2" 9 5; then ok "$1: Invalid Quote"; else
        bad "$1: Invalid Quote" "state $(vget "$2" operational_state)"
    fi
    assert_eq "$1: last_event_id" "$(vget "$2" last_event_id)" "$3"
    assert_eq "$1: attestation_status" "$(jget vget.json results.attestation_status)" FAIL
    _line=$(new_log | grep -F "agent $2: Invalid Quote: $3")
    if [ -z "$_line" ]; then
        bad "$1: verifier log" "no 'Invalid Quote: $3' line; $(new_log | grep -i invalid | tail -2)"
    elif [ -n "$4" ] && [ "${5:-}" = any ] && ! new_log | grep -qF -- "$4"; then
        bad "$1: verifier log has $4" "$(new_log | grep -i -e invalid -e hash | tail -3)"
    elif [ -n "$4" ] && [ "${5:-}" != any ] && ! echo "$_line" | grep -qF -- "$4"; then
        bad "$1: verifier log line has $4" "$(echo "$_line" | cut -c1-400)"
    else
        ok "$1: verifier log line${4:+ has $4}"
    fi
}

# add1 NAME ARGS...: (re)add agent 1 with ARGS, expect success
add1() {
    _n=$1
    shift
    mark_log
    check_tenant "$_n" 0 "" -c add -u "$U1" -t 127.0.0.1 -tp "$A1_PORT" "$@"
}

# ---- 1, 8. policy pass, payload with --cert/--include and --verify -------
"$KP" create runtime -m ima2.log -o p2.json >>policy.log 2>&1
check_tenant "tenant add agent 2 (--cert default --include)" 0 "" \
    -c add -u "$U2" -t 127.0.0.1 -tp "$A2_PORT" --runtime-policy p2.json --cert default \
    --include incl2
policy p1.json
add1 "tenant add agent 1 (--runtime-policy, --cert, --include, --verify)" \
    --runtime-policy p1.json --cert default --include incl1 --verify
grep -q "Successful key derivation" tenant.out && ok "tenant --verify saw the key derived" ||
    bad "tenant --verify saw the key derived" "$(tail -3 tenant.out)"
wait_vstate "$U1" 3 20 && ok "1: agent 1 in Get Quote" ||
    bad "1: agent 1 in Get Quote" "state $(vget "$U1" operational_state)"
check_attesting "1: agent 1 attests with a policy of what ran" "$U1"
assert_eq "1: no last_event_id" "$(vget "$U1" last_event_id)" "null"
assert_eq "1: attestation_status" "$(jget vget.json results.attestation_status)" PASS
check_attesting "agent 2 attests" "$U2"
wait_for payload1.mark 15 && ok "8: payload autorun.sh ran on agent 1" ||
    bad "8: payload autorun.sh ran on agent 1" "no mark"
wait_for payload2.mark 15 && ok "8: payload autorun.sh ran on agent 2" ||
    bad "8: payload autorun.sh ran on agent 2" "no mark"
check_tenant "tenant status names the state" 0 '"operational_state": "Get Quote"' -c status -u "$U1"
check_tenant "tenant cvlist" 0 "$U2" -c cvlist
check_tenant "tenant bulkinfo" 0 "$U1" -c bulkinfo
check_tenant "tenant regstatus" 0 "exists on registrar" -c regstatus -u "$U1"
check_tenant "tenant reglist" 0 "$U2" -c reglist

# ---- 3. a file under an excluded path passes ----------------------------
printf '#!/bin/sh\necho excluded\n' >excluded/tool.sh
measure 1 "$W/excluded/tool.sh" || bad "measure excluded/tool.sh" "$(tail -3 emu.log)"
check_attesting "3: excluded path measured, still attesting" "$U1"

# ---- 10. agent restart under attestation ---------------------------------
stop_vagent 1
start_vagent 1
check_attesting "10: agent 1 restarted, still attesting" "$U1"

# ---- 11. verifier restart: agents resumed where they were ----------------
c1=$(count "$U1")
stop_verifier
start_verifier
c2=$(count "$U1")
[ -n "$c2" ] && [ "$c2" -ge "$c1" ] &&
    ok "11: attestation_count kept across the restart ($c1, $c2)" ||
    bad "11: attestation_count kept across the restart" "$c1 before, '$c2' after"
line=$(grep "agent $U1: resuming" verifier.log | tail -1)
n=$(echo "$line" | sed -n 's/.*IMA from entry \([0-9]*\)).*/\1/p')
if [ -n "$n" ] && [ "$n" -gt 0 ]; then ok "11: agent 1 resumed at IMA entry $n"; else
    bad "11: agent 1 resumed at IMA entry > 0" "'$line'"
fi
check_attesting "11: agent 1 attests after the verifier restart" "$U1"
check_attesting "11: agent 2 attests after the verifier restart" "$U2"

# ---- 2, 9. unlisted executable; the revocation reaches agent 2 -----------
rm -f revocation1.mark revocation2.mark
mark_log
printf '#!/bin/sh\necho evil\n' >evil.sh
measure 1 "$W/evil.sh" || bad "measure evil.sh" "$(tail -3 emu.log)"
expect_failure "2: unlisted executable" "$U1" ima.validation.ima-ng.not_in_allowlist "$W/evil.sh"
wait_for revocation2.mark 15 && ok "9: revocation action ran on agent 2" ||
    bad "9: revocation action ran on agent 2" "no mark; $(grep -i revocation agent2.log | tail -2)"
grep -q "not_in_allowlist" revocation2.mark 2>/dev/null && ok "9: agent 2's action got the event" ||
    bad "9: agent 2's action got the event" "$(head -c 300 revocation2.mark 2>/dev/null)"
check_attesting "9: agent 2 still attests" "$U2"
# the webhook channel: the same signed message, posted to webhook_url
_webhook_has() { cat "$W"/webhook/*.json 2>/dev/null | grep -q not_in_allowlist; }
if until_ok 10 _webhook_has &&
    python3 - "$W/webhook" "$U1" <<'PY'; then
import glob, json, sys
for f in glob.glob(sys.argv[1] + "/*.json"):
    env = json.load(open(f))
    msg = json.loads(env["msg"])
    if msg["agent_id"] == sys.argv[2] and msg["type"] == "revocation" and env["signature"]:
        sys.exit(0)
sys.exit(1)
PY
    ok "2: webhook got the signed revocation"
else
    bad "2: webhook got the signed revocation" "$(ls "$W/webhook"; tail -3 "$W/webhook.log")"
fi
mark_log
check_tenant "tenant reactivate" 0 "" -c reactivate -u "$U1"
log_has verifier.log "agent $U1 reactivated" 5 && ok "verifier log: reactivated" ||
    bad "verifier log: reactivated" "no line"
expect_failure "2: fails again after reactivate" "$U1" ima.validation.ima-ng.not_in_allowlist \
    "$W/evil.sh"

# a restart keeps the failure: not resumed, state and event stored
stop_verifier
start_verifier
assert_eq "11: failed agent not resumed after a restart" "$(vget "$U1" operational_state)" 9
assert_eq "11: its last_event_id kept" "$(vget "$U1" last_event_id)" \
    ima.validation.ima-ng.not_in_allowlist
check_attesting "11: agent 2 resumed by the second restart" "$U2"

# ---- 12. delete of an idle (failed) agent: 200 ---------------------------
check "12: delete of an idle agent answers 200" 0 "200" v_code DELETE "/$API/agents/$U1"
check "12: and it is gone" 0 "404" v_code GET "/$API/agents/$U1"

# ---- 4. same path, other content -----------------------------------------
policy p4.json
add1 "tenant add agent 1 again" --runtime-policy p4.json
wait_vstate "$U1" 3 20 && ok "4: attesting before the change" ||
    bad "4: attesting before the change" "not in Get Quote"
printf '#!/bin/sh\necho approved, but changed\n' >approved.sh
measure 1 "$W/approved.sh" || bad "measure changed approved.sh" "$(tail -3 emu.log)"
# the event's context has only the digests (upstream's); the path is on the
# "Hashes for file PATH don't match" line the IMA check logs, as upstream does
expect_failure "4: changed file" "$U1" ima.validation.ima-ng.runtime_policy_hash \
    "Hashes for file $W/approved.sh don't match" any
check_tenant "tenant delete (failed agent)" 0 "" -c delete -u "$U1"

# ---- 5. an edited IMA list ---------------------------------------------------
# entry 1 (approved.sh) gets the digest of the changed approved.sh: (a)
# without a new template hash, (b) with one (consistent entry, PCR 10 not)
cp ima1.log ima1.orig
python3 - ima1.log "$(sha256sum approved.sh | cut -d' ' -f1)" <<'PY' || bad "5: edit" "python"
import hashlib, struct, sys
path, digest = sys.argv[1], sys.argv[2]
lines = open(path).read().split("\n")
f = lines[1].split(" ")
def th(alg_digest, name):
    alg, hexd = alg_digest.split(":")
    d = alg.encode() + b":\0" + bytes.fromhex(hexd)
    n = name.encode() + b"\0"
    return hashlib.sha1(struct.pack("<I", len(d)) + d + struct.pack("<I", len(n)) + n).hexdigest()
assert th(f[3], f[4]) == f[1], "template hash recomputation disagrees with the emulator"
a = f[:3] + ["sha256:" + digest] + f[4:]
b = [f[0], th("sha256:" + digest, f[4])] + a[2:]
for name, g in (("a", a), ("b", b)):
    out = list(lines)
    out[1] = " ".join(g)
    open(path + "." + name, "w").write("\n".join(out))
PY
cp ima1.log.a ima1.log
policy p5a.json
add1 "5a: tenant add with the edited list" --runtime-policy p5a.json
expect_failure "5a: edited IMA list (digest only)" "$U1" ima.validation.ima_hash ""
cp ima1.log.b ima1.log
policy p5b.json
mark_log
check_tenant "5b: tenant update (delete, then add) with the edited list" 0 "" \
    -c update -u "$U1" -t 127.0.0.1 -tp "$A1_PORT" --runtime-policy p5b.json
expect_failure "5b: edited IMA list (digest and template hash)" "$U1" ima.pcr_mismatch ""
check_tenant "tenant delete" 0 "" -c delete -u "$U1"
cp ima1.orig ima1.log

# ---- 6, 15. tpm_policy mismatch; --verify failure stops the agent --------
policy p6.json
z=0000000000000000000000000000000000000000000000000000000000000001
mark_log
check_tenant "6: tenant add --tpm_policy (PCR 15 wrong) --verify fails" 1 "key derivation" \
    -c add -u "$U1" -t 127.0.0.1 -tp "$A1_PORT" --runtime-policy p6.json \
    --tpm_policy "{\"15\": [\"$z\"]}" -f approved.sh --verify
assert_eq "6: last_event_id" "$(vget "$U1" last_event_id)" pcr_validation.invalid_pcr_15
new_log | grep -q "agent $U1: Invalid Quote: pcr_validation.invalid_pcr_15" &&
    ok "6: verifier log line" || bad "6: verifier log line" "$(new_log | grep Invalid | tail -2)"
assert_eq "15: the tenant stopped the agent (Tenant Quote Failed)" \
    "$(vget "$U1" operational_state)" 10
new_log | grep -q "agent $U1 stopped by the tenant" && ok "15: verifier log: stopped" ||
    bad "15: verifier log: stopped" "no line"
check_tenant "tenant delete" 0 "" -c delete -u "$U1"

# ---- 7. measured boot -----------------------------------------------------
"$KP" create measured-boot -e boot1.bin -o mb.json >>policy.log 2>&1 ||
    bad "keylime-policy create measured-boot" "$(tail -3 policy.log)"
python3 - mb.json mb_bad.json <<'PY' || bad "7: wrong mb policy" "python"
import re, sys
s = open(sys.argv[1]).read()
d = re.search(r"0x[0-9a-f]{64}", s).group(0)
open(sys.argv[2], "w").write(s.replace(d, d[:-1] + ("0" if d[-1] != "0" else "1"), 1))
PY
policy p7.json
add1 "7: tenant add --mb-policy" --runtime-policy p7.json --mb-policy mb.json
wait_vstate "$U1" 3 20 && ok "7: Get Quote with measured boot" ||
    bad "7: Get Quote with measured boot" "state $(vget "$U1" operational_state) \
$(vget "$U1" last_event_id)"
check_attesting "7: attesting with the mb policy" "$U1"
assert_eq "7: has_mb_refstate" "$(vget "$U1" has_mb_refstate)" 1
# 15. PUT /stop on an attesting agent
check "15: PUT stop" 0 '"code": 200' v PUT "/$API/agents/$U1/stop" ""
c=$(count "$U1")
sleep 2
assert_eq "15: state Tenant Quote Failed after stop" "$(vget "$U1" operational_state)" 10
assert_eq "15: no attestations after stop" "$(count "$U1")" "$c"
check_tenant "tenant delete" 0 "" -c delete -u "$U1"
check_tenant "7: addmbpolicy (a wrong one, named)" 0 "" -c addmbpolicy --mb-policy-name mbbad \
    --mb-policy mb_bad.json
check_tenant "7: addmbpolicy again: 409" 1 "409" -c addmbpolicy --mb-policy-name mbbad \
    --mb-policy mb_bad.json
check_tenant "7: listmbpolicy" 0 "mbbad" -c listmbpolicy
add1 "7: tenant add with the wrong mb policy by name" --runtime-policy p7.json \
    --mb-policy-name mbbad
# the log line must give the reason (upstream logs "Boot attestation failed ...
# reason=...")
# when it is over 64 KiB, and this refstate is 80 KB
expect_failure "7: wrong mb policy" "$U1" measured_boot.policy_example 'reason: ['
check_tenant "7: deletembpolicy while in use refused" 1 "409" -c deletembpolicy \
    --mb-policy-name mbbad
check_tenant "tenant delete" 0 "" -c delete -u "$U1"
check_tenant "7: deletembpolicy once unused" 0 "" -c deletembpolicy --mb-policy-name mbbad
check "7: and it is gone" 0 404 v_code GET "/$API/mbpolicies/mbbad"

# ---- 12. delete while a quote is in flight: 202, then gone ----------------
add1 "tenant add agent 1" --runtime-policy p7.json
wait_vstate "$U1" 3 20 || bad "12: attesting" "not in Get Quote"
kill -STOP "$A1_PID"
sleep 2
check "12: delete with a quote in flight answers 202" 0 "202" v_code DELETE "/$API/agents/$U1"
s=$(vget "$U1" operational_state)
kill -CONT "$A1_PID"
assert_eq "12: state Terminated until the answer" "$s" 8
_gone() { [ "$(v_code GET "/$API/agents/$1")" = 404 ]; }
until_ok 15 _gone "$U1"
check "12: then 404" 0 "404" v_code GET "/$API/agents/$U1"
# the verifier stops before the answer comes: the deletion completes at start
add1 "tenant add agent 1" --runtime-policy p7.json
wait_vstate "$U1" 3 20 || bad "12: attesting again" "not in Get Quote"
kill -STOP "$A1_PID"
sleep 2
check "12: delete with a quote in flight, again 202" 0 "202" v_code DELETE "/$API/agents/$U1"
stop_verifier
start_verifier
check "12: after a verifier restart it is gone" 0 "404" v_code GET "/$API/agents/$U1"
log_has verifier.log "agent $U1: deletion completed" 5 && ok "12: verifier log: deletion completed" ||
    bad "12: verifier log: deletion completed" "no line"
kill -CONT "$A1_PID"

# ---- 13. a named policy, updated while the agent attests -----------------
policy p13.json
check_tenant "13: addruntimepolicy" 0 "" -c addruntimepolicy --runtime-policy-name pol13 \
    --runtime-policy p13.json
check_tenant "13: listruntimepolicy" 0 "pol13" -c listruntimepolicy
check_tenant "13: addruntimepolicy again: 409" 1 "409" -c addruntimepolicy \
    --runtime-policy-name pol13 --runtime-policy p13.json
check_tenant "13: showruntimepolicy" 0 "approved.sh" -c showruntimepolicy \
    --runtime-policy-name pol13
add1 "13: tenant add --runtime-policy-name" --runtime-policy-name pol13
wait_vstate "$U1" 3 20 && ok "13: attesting under pol13" || bad "13: attesting" "not Get Quote"
check_tenant "13: deleteruntimepolicy while in use refused" 1 "409" \
    -c deleteruntimepolicy --runtime-policy-name pol13
printf '#!/bin/sh\necho new13\n' >new13.sh
sha256sum "$W/new13.sh" >new13.allow
policy p13b.json new13.allow
check_tenant "13: updateruntimepolicy (adds new13.sh)" 0 "" -c updateruntimepolicy \
    --runtime-policy-name pol13 --runtime-policy p13b.json
measure 1 "$W/new13.sh" || bad "measure new13.sh" "$(tail -3 emu.log)"
check_attesting "13: new13.sh allowed by the updated policy" "$U1"
check_tenant "13: updateruntimepolicy (without new13.sh)" 0 "" -c updateruntimepolicy \
    --runtime-policy-name pol13 --runtime-policy p13.json
mark_log
"$EMU" -q -T "$TCTI1" -f ima1.log measure --always "$W/new13.sh" >>emu.log 2>&1 ||
    bad "measure new13.sh again" "$(tail -3 emu.log)"
expect_failure "13: new13.sh refused after the update" "$U1" \
    ima.validation.ima-ng.not_in_allowlist "$W/new13.sh"
check_tenant "tenant delete" 0 "" -c delete -u "$U1"
check_tenant "13: deleteruntimepolicy once unused" 0 "" -c deleteruntimepolicy \
    --runtime-policy-name pol13

# ---- 14. bad input: verifier API ---------------------------------------------
P=/$API/agents
check "14: POST malformed JSON" 0 400 v_code POST "$P/$U1" '{"v": '
check "14: POST a JSON list" 0 400 v_code POST "$P/$U1" '[1, 2]'
check "14: POST an empty body" 0 400 v_code POST "$P/$U1" ''
check "14: POST fields of the wrong type" 0 400 v_code POST "$P/$U1" \
    '{"v": 5, "cloudagent_ip": [], "cloudagent_port": "x", "tpm_policy": 7}'
head -c 3000000 /dev/zero | tr '\0' 'a' >big.json
check "14: POST over max_upload_size: 413" 0 413 v_code POST "$P/$U1" @big.json
check "14: PUT unknown allowlist" 0 404 v_code PUT "/$API/allowlists/nothing" \
    "{\"runtime_policy\": \"$(base64 -w0 p1.json)\"}"
check "14: POST missing fields" 0 400 v_code POST "$P/$U1" '{"v": "AAAA"}'
check "14: POST bad agent id" 0 400 v_code POST "$P/a%20b" '{}'
check "14: GET bad agent id" 0 400 v_code GET "$P/a%24b"
check "14: GET unknown agent" 0 404 v_code GET "$P/nobody"
check "14: DELETE unknown agent" 0 404 v_code DELETE "$P/nobody"
check "14: PUT reactivate unknown agent" 0 404 v_code PUT "$P/nobody/reactivate" ""
check "14: PUT stop unknown agent" 0 404 v_code PUT "$P/nobody/stop" ""
check "14: PATCH agents: 405" 0 405 v_code PATCH "$P/$U2" '{}'
check "14: PUT agents/id: 405" 0 405 v_code PUT "$P/$U2" '{}'
check "14: no client certificate: 403" 0 403 v_nocert_code GET "$P/$U2"
check "14: no client certificate on allowlists: 403" 0 403 v_nocert_code GET "/$API/allowlists/"
check "14: unknown API version: 404" 0 404 v_code GET "/v9.9/agents/$U2"
check "14: unknown path: 404" 0 404 v_code GET "/$API/nothing"
check "14: /version without a certificate" 0 '"current_version"' \
    curl -sS -m 10 --cacert "$VCA/cacert.crt" "https://127.0.0.1:$VPORT/version"
check "14: POST allowlists malformed JSON" 0 400 v_code POST "/$API/allowlists/bad" '{"x"'
check "14: POST allowlists not a policy" 0 400 v_code POST "/$API/allowlists/bad" \
    '{"runtime_policy": "bm90IGpzb24="}'
check "14: GET unknown allowlist" 0 404 v_code GET "/$API/allowlists/nothing"
check "14: DELETE unknown allowlist" 0 404 v_code DELETE "/$API/allowlists/nothing"
check "14: POST mbpolicies malformed JSON" 0 400 v_code POST "/$API/mbpolicies/bad" '{'
check "14: GET unknown mbpolicy" 0 404 v_code GET "/$API/mbpolicies/nothing"
check "14: verifier still serves" 0 "$U2" v GET "$P"

# ---- 14. bad input: tenant ---------------------------------------------------
check_tenant "14: tenant unknown command" 1 "Invalid command specified: frobnicate" \
    -c frobnicate -u "$U1"
check_tenant "14: tenant -u without a value" 2 "expected one argument" -c status -u
check_tenant "14: tenant bad agent id" 1 "invalid characters" -c status -u 'a/b'
check_tenant "14: tenant nonexistent policy file" 1 "nonexistent.json" \
    -c add -u "$U1" -t 127.0.0.1 -tp "$A1_PORT" --runtime-policy "$W/nonexistent.json"
check_tenant "14: tenant -f and --cert together" 1 "You must specify one of -k, -f, or --cert" \
    -c add -u "$U1" -t 127.0.0.1 -tp "$A1_PORT" -f approved.sh --cert default
check_tenant "14: tenant --runtime-policy and --allowlist together" 1 "already a runtime policy" \
    -c add -u "$U1" -t 127.0.0.1 -tp "$A1_PORT" --runtime-policy p1.json --allowlist p1.json
check_tenant "14: tenant addruntimepolicy without a policy" 2 "required" \
    -c addruntimepolicy --runtime-policy-name x
check_tenant "14: tenant bad --tpm_policy" 1 "invalid JSON" \
    -c add -u "$U1" -t 127.0.0.1 -tp "$A1_PORT" --runtime-policy p1.json --tpm_policy '{"15": 3'
check_tenant "14: tenant --tpm_policy on PCR 10 with a runtime policy" 1 \
    "this PCR is used for IMA" \
    -c add -u "$U1" -t 127.0.0.1 -tp "$A1_PORT" --runtime-policy p1.json \
    --tpm_policy "{\"10\": [\"$z\"]}"
check_tenant "14: tenant --push-model refused" 1 "not supported" \
    -c add -u "$U1" -t 127.0.0.1 -tp "$A1_PORT" --runtime-policy p1.json --push-model
check_tenant "14: tenant cvstatus of an unknown agent" 1 "does not exist" -c cvstatus -u nobody
check_tenant "14: tenant add of an agent already there (409)" 1 "conflict" \
    -c add -u "$U2" -t 127.0.0.1 -tp "$A2_PORT" --runtime-policy p2.json
check "14: nothing was added by the refusals" 0 404 v_code GET "$P/$U1"

# ---- the end: agent 2 deleted, the list empty --------------------------------
check_attesting "agent 2 attested throughout" "$U2"
check_tenant "tenant delete agent 2" 0 "" -c delete -u "$U2"
check_tenant "tenant cvlist empty" 0 '"uuids": []' -c cvlist
stop_vagent 1
stop_vagent 2
stop_verifier
stop_vregistrar
finish
