#!/bin/sh
# The README's main job (scripts/demo.sh) still tells the right story: the
# known-good log passes, the unapproved script is caught by name, hiding or
# renaming its entry is caught too.
set -u
KL_DEMO_KEYLIME_POLICY=$1 "$(dirname "$0")/../../scripts/demo.sh" >"${TMPDIR:-/tmp}/kl_demo.$$" 2>&1
status=$?
out=${TMPDIR:-/tmp}/kl_demo.$$
trap 'rm -f "$out"' EXIT
fails=0
expect() { # count pattern
    n=$(grep -c -- "$2" "$out")
    if [ "$n" -ne "$1" ]; then
        echo "FAIL: '$2' appears $n times, expected $1"
        fails=$((fails + 1))
    fi
}
[ $status -eq 0 ] || { echo "FAIL: demo exited $status"; fails=$((fails + 1)); }
expect 1 "verdict: VALID"
expect 3 "verdict: NOT VALID"
expect 1 "ima.validation.ima-ng.not_in_allowlist  *File not found in allowlist: /root/evil.sh"
expect 2 "ima.pcr_mismatch"
expect 1 "ima.validation.ima_hash"
expect 1 "policy.json: 815 approved files"
[ $fails -eq 0 ] || { cat "$out"; exit 1; }
echo "demo: ok"
