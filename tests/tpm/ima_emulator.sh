#!/bin/sh
# ima_emulator.sh EMULATOR TPM_TOOL: keylime_ima_emulator keeps PCR 10 equal
# to the replay of its list. After every step, `tpm_tool ima-check` quotes
# PCR 10 of each bank, verifies the quote (kl_quote_verify) and compares it
# with kl_ima_eval's replay of the whole list. Runs under with_swtpm.sh.
EMU=${1:?usage: $0 /path/to/keylime_ima_emulator /path/to/tpm_tool}
TT=${2:?usage: $0 /path/to/keylime_ima_emulator /path/to/tpm_tool}
here=$(cd "$(dirname "$0")" && pwd)
EMU=$(cd "$(dirname "$EMU")" && pwd)/$(basename "$EMU")
TT=$(cd "$(dirname "$TT")" && pwd)/$(basename "$TT")
. "$here/helpers.sh"
. "$here/swtpm.sh"
D=${KL_TEST_DATA:?KL_TEST_DATA must point at tests/data}/ima
L=$W/ascii_runtime_measurements
cp "$D/swtpm/ascii_runtime_measurements" "$L"
follower=

# Polls CMD for up to 10 s.
wait_for() {
    _i=0
    while ! "$@" >/dev/null 2>&1; do
        _i=$((_i + 1))
        [ $_i -ge 100 ] && return 1
        sleep 0.1
    done
}

pcr_matches() { # NAME [TEXT]: the TPM's PCR 10 is (soon) the replay of the list
    _i=0
    run "$TT" ima-check --log "$L"
    while [ "$rc" -ne 0 ] && [ $_i -lt 100 ]; do
        sleep 0.1
        _i=$((_i + 1))
        run "$TT" ima-check --log "$L"
    done
    if [ "$rc" -ne 0 ]; then
        bad "$1" "PCR 10 is not the replay of the list"
        cat "$W/out" "$W/err"
    elif [ -n "${2:-}" ] && ! grep -qF -- "$2" "$W/out"; then
        bad "$1" "ima-check output lacks: $2"
        cat "$W/out"
    else
        ok "$1"
    fi
}

stop_follower() {
    [ -n "$follower" ] || return 0
    kill -TERM "$follower" 2>/dev/null
    wait "$follower"
    rc=$?
    follower=
}
trap 'stop_follower; rm -rf "$W"' EXIT

# 1. One pass over a list: the PCR values of tests/data/ima/swtpm.
check "--once replays the list" 0 "extending PCR 10 with entry 2: /etc/bar.conf" \
    "$EMU" -T "$TCTI" -f "$L" --once
pcr_matches "PCR 10 (sha256) is the replay" \
    "sha256 7ca540b730d20d2b22fe28c50e10c04190cb0ed10acab0cbf4b8f0fffb7165e9 entries=3 ok"
check "PCR 10 (sha1) is the replay" 0 "sha1 d94306d554b15fbdd7997f9cec95681769bcc1b0" \
    "$TT" ima-check --log "$L"
check "a second pass extends nothing" 0 "resuming after /etc/bar.conf" \
    "$EMU" -T "$TCTI" -f "$L" --once
if grep -q extending "$W/out"; then bad "nothing extended twice" "$(cat "$W/out")"; fi

# 2. Following the list.
"$EMU" -T "$TCTI" -f "$L" --interval 50 >"$W/follow.log" 2>&1 &
follower=$!
wait_for grep -q Monitoring "$W/follow.log" || bad "follower started" "$(cat "$W/follow.log")"
cat "$D/swtpm/ima_increment.txt" >>"$L"
pcr_matches "an appended entry is extended" "sha256 948bcb98"
# a line still being written waits for its newline
printf '10 0000000000000000000000000000000000000000 ima-ng sha256:' >>"$L"
sleep 0.3
if grep -q "entry 4" "$W/follow.log"; then bad "partial line waits" "extended early"; fi
printf '%064d /tmp/violation\n' 0 >>"$L"
pcr_matches "a violation (zero template hash) extends FF..FF"
grep -q "entry 4: /tmp/violation" "$W/follow.log" || bad "violation extended" "no entry 4"
echo "this is not an IMA entry" >>"$L"
pcr_matches "an unparsable line is skipped, as the verifier skips it"

# 3. `run` while the follower runs: measured once, extended once.
printf '#!/bin/sh\necho "hello $1"\nexit 3\n' >"$W/hello world.sh"
chmod +x "$W/hello world.sh"
check "run executes the program with its arguments and status" 3 "hello there" \
    "$EMU" -T "$TCTI" -f "$L" run "$W/hello world.sh" there
interp=$(realpath /bin/sh)
grep -q " ima-ng sha256:[0-9a-f]* $W/hello_world.sh\$" "$L" || bad "script logged" "$(tail -2 "$L")"
grep -q " ima-ng sha256:[0-9a-f]* $interp\$" "$L" || bad "interpreter logged" "$(tail -2 "$L")"
pcr_matches "PCR 10 holds the run entries once"
n=$(wc -l <"$L")
check "an unchanged program is not measured again" 3 "hello again" \
    "$EMU" -T "$TCTI" -f "$L" run "$W/hello world.sh" again
assert_eq "no new entry" "$(wc -l <"$L")" "$n"
echo "# changed" >>"$W/hello world.sh"
check "a changed program is measured again" 3 "" "$EMU" -T "$TCTI" -f "$L" run "$W/hello world.sh"
assert_eq "one new entry" "$(wc -l <"$L")" "$((n + 1))"
pcr_matches "PCR 10 holds the changed program"

# 4. SIGTERM stops the follower cleanly.
stop_follower
assert_eq "follower exits 0 on SIGTERM" "$rc" 0
grep -q "Shutting down keylime IMA emulator" "$W/follow.log" || bad "shutdown message" "missing"

# 5. Entries appended while it was down are extended at the restart, once.
sed -n '2,6p' "$D/rust-keylime/ascii_runtime_measurements" >>"$L"
check "a restart resumes where PCR 10 is" 0 "resuming after" "$EMU" -T "$TCTI" -f "$L" --once
assert_eq "the five new entries are extended" "$(grep -c extending "$W/out")" 5
pcr_matches "PCR 10 after the restart"
printf 'data\n' >"$W/data.txt"
check "measure without a follower" 0 "" "$EMU" -T "$TCTI" -f "$L" -v measure "$W/data.txt"
pcr_matches "PCR 10 after measure"

# 6. A list PCR 10 does not come from is refused, and nothing is appended.
cp "$D/swtpm/ascii_runtime_measurements" "$W/foreign"
check "a foreign list is refused" 1 "PCR 10 disagrees with $W/foreign" \
    "$EMU" -T "$TCTI" -f "$W/foreign" --once
check "measure refuses it too" 1 "disagrees" "$EMU" -T "$TCTI" -f "$W/foreign" measure "$W/data.txt"
assert_eq "nothing appended to it" "$(wc -l <"$W/foreign")" 3

# 7. Options.
check "an inactive bank is refused" 1 "PCR bank sha512 is not active" \
    "$EMU" -T "$TCTI" -f "$L" -a sha512 --once
check "rust-keylime's options and TCTI variable" 0 "" env TCTI="$TCTI" "$EMU" \
    --hash_algs sha1 -a sha256 --ima_hash_alg sha1 --ima_log "$L" --once
check "unknown option" 2 "" "$EMU" --bogus
check "run needs a program" 2 "run needs a file" "$EMU" -T "$TCTI" -f "$L" run
check "missing program" 127 "not found" "$EMU" -T "$TCTI" -f "$L" run no-such-program-kl
check "missing list with --once" 1 "does not exist" "$EMU" -T "$TCTI" -f "$W/none" --once

# 8. A TPM reboot (PCRs back to zero): the whole list is replayed, by a
# follower that notices it, or at the next start.
"$EMU" -T "$TCTI" -f "$L" --interval 50 >"$W/follow2.log" 2>&1 &
follower=$!
wait_for grep -q Monitoring "$W/follow2.log" || bad "follower started" "$(cat "$W/follow2.log")"
swtpm_restart "$KL_TEST_SWTPM_DIR" || bad "swtpm restart" "failed"
pcr_matches "a follower replays the list after a TPM reset"
grep -q "entry 0: boot_aggregate" "$W/follow2.log" || bad "replayed from entry 0" "$(cat "$W/follow2.log")"
stop_follower
assert_eq "follower exits 0 on SIGTERM after the reset" "$rc" 0
swtpm_restart "$KL_TEST_SWTPM_DIR" || bad "swtpm restart" "failed"
check "after a TPM reset the list is replayed" 0 "entry 0: boot_aggregate" \
    "$EMU" -T "$TCTI" -f "$L" --once
pcr_matches "PCR 10 after the TPM reset"

# 9. A real 826-entry list into a fresh TPM.
swtpm_restart "$KL_TEST_SWTPM_DIR" || bad "swtpm restart" "failed"
cp "$D/rust-keylime/ascii_runtime_measurements" "$L"
t0=$(elapsed)
check "826 entries replayed" 0 "entry 825:" "$EMU" -T "$TCTI" -f "$L" --once
echo "  (826 entries in $(awk "BEGIN { printf \"%.2f\", $(elapsed) - $t0 }") s)"
check "quiet: nothing printed" 0 "" "$EMU" -T "$TCTI" -f "$L" --once -q
assert_eq "quiet output" "$(cat "$W/out")" ""
pcr_matches "PCR 10 after 826 entries" "entries=826 ok"
finish
