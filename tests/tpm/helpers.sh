# helpers.sh: sourced by the TPM test scripts (POSIX sh), which run under
# with_swtpm.sh. The sourcing script gets W (a temporary directory removed
# at exit), TCTI (from $KL_TEST_TCTI) and these assertions, each printing
# "ok   NAME" or "FAIL NAME: ..." and counting failures; `finish` exits
# non-zero when any failed.
#   run CMD...                     run, stdout in $W/out, stderr in $W/err,
#                                  status in $rc
#   check NAME STATUS TEXT CMD...  CMD's status must be STATUS and TEXT
#                                  (unless empty) must be in its output
#   assert_eq NAME GOT WANT        two strings are equal
#   elapsed                        seconds since the script started
set -u
TCTI=${KL_TEST_TCTI:?run under tests/tpm/with_swtpm.sh}
W=$(mktemp -d "${TMPDIR:-/tmp}/kl-tpmtest.XXXXXX")
trap 'rm -rf "$W"' EXIT
fails=0
_t0=$(date +%s.%N)

ok() { echo "ok   $1"; }
bad() {
    echo "FAIL $1: $2"
    fails=$((fails + 1))
}

run() {
    "$@" >"$W/out" 2>"$W/err"
    rc=$?
}

check() {
    _name=$1 _want=$2 _text=$3
    shift 3
    run "$@"
    if [ "$rc" -ne "$_want" ]; then
        bad "$_name" "exit $rc, expected $_want"
        head -c 3000 "$W/out" "$W/err"
    elif [ -n "$_text" ] && ! grep -qF -- "$_text" "$W/out" "$W/err"; then
        bad "$_name" "output lacks: $_text"
        head -c 3000 "$W/out" "$W/err"
    else
        ok "$_name"
    fi
}

assert_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "got '$2', expected '$3'"; fi
}

elapsed() {
    awk "BEGIN { printf \"%.2f\", $(date +%s.%N) - $_t0 }"
}

finish() {
    echo "($(elapsed) s)"
    if [ "$fails" -ne 0 ]; then
        echo "$fails check(s) failed"
        exit 1
    fi
    echo "all checks passed"
    exit 0
}
