# helpers.sh: sourced by the CLI test scripts (POSIX sh).
#
# The sourcing script gets: KP (the keylime-policy binary, from $1), D (the
# test data, $KL_TEST_DATA), T (a temporary directory removed at exit) and
# these assertions, each printing "ok   NAME" or "FAIL NAME: ..." and
# counting failures; `finish` exits non-zero when any failed.
#   run CMD...                       run, keeping stdout in $T/out, stderr in
#                                    $T/err and the status in $rc
#   check NAME STATUS TEXT CMD...    run CMD; its status must be STATUS and
#                                    TEXT (unless empty) must occur in its
#                                    stdout or stderr
#   assert_eq NAME GOT WANT          two strings are equal
#   assert_has NAME FILE TEXT        FILE contains TEXT (fixed string)
#   assert_lacks NAME FILE TEXT      FILE does not contain TEXT
#   assert_json NAME FILE WANT       FILE holds exactly WANT, once both have
#                                    their "timestamp" value replaced by "T"
set -u
KP=${1:?usage: $0 /path/to/keylime-policy}
KP=$(cd "$(dirname "$KP")" && pwd)/$(basename "$KP")
D=${KL_TEST_DATA:?KL_TEST_DATA must point at tests/data}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0

ok() { echo "ok   $1"; }
bad() {
    echo "FAIL $1: $2"
    fails=$((fails + 1))
}

run() {
    "$@" >"$T/out" 2>"$T/err"
    rc=$?
}

check() {
    _name=$1 _want=$2 _text=$3
    shift 3
    run "$@"
    if [ "$rc" -ne "$_want" ]; then
        bad "$_name" "exit $rc, expected $_want"
        head -c 2000 "$T/out" "$T/err"
    elif [ -n "$_text" ] && ! grep -qF -- "$_text" "$T/out" "$T/err"; then
        bad "$_name" "output lacks: $_text"
        head -c 2000 "$T/out" "$T/err"
    else
        ok "$_name"
    fi
}

assert_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "got '$2', expected '$3'"; fi
}

assert_has() {
    if grep -qF -- "$3" "$2"; then ok "$1"; else bad "$1" "$2 lacks: $3"; fi
}

assert_lacks() {
    if grep -qF -- "$3" "$2"; then bad "$1" "$2 has: $3"; else ok "$1"; fi
}

no_timestamp() {
    sed -e 's/"timestamp": "[^"]*"/"timestamp": "T"/'
}

assert_json() {
    _got=$(no_timestamp <"$2")
    _want=$(printf '%s' "$3" | no_timestamp)
    if [ "$_got" = "$_want" ]; then
        ok "$1"
    else
        bad "$1" "unexpected document"
        echo "  got:  $_got" | head -c 3000
        echo
        echo "  want: $_want" | head -c 3000
        echo
    fi
}

finish() {
    if [ "$fails" -ne 0 ]; then
        echo "$fails check(s) failed"
        exit 1
    fi
    echo "all checks passed"
    exit 0
}
