#!/bin/sh
# with_swtpm.sh PROGRAM [ARG...]: runs PROGRAM against a fresh software TPM.
#
# Makes a temporary directory, manufactures and starts swtpm there
# (swtpm.sh), runs PROGRAM with KL_TEST_TCTI (the TCTI string) and
# KL_TEST_SWTPM_DIR (the directory, for swtpm_restart) in its environment,
# then stops swtpm by its pid and removes the directory. Exits with
# PROGRAM's status, or 1 when the TPM could not be set up (a test that
# cannot run fails; it is never skipped).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/swtpm.sh"
for tool in swtpm swtpm_setup; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "with_swtpm: $tool is not installed (scripts/install-deps.sh)" >&2
        exit 1
    fi
done
base=${TMPDIR:-/tmp}
# unix socket paths are limited to 107 bytes
[ ${#base} -le 60 ] || base=/tmp
dir=$(mktemp -d "$base/kl-swtpm.XXXXXX") || exit 1
cleanup() {
    swtpm_stop "$dir"
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
start=$(date +%s.%N)
tcti=$(swtpm_start "$dir" "${KL_TEST_SWTPM_BANKS:-sha1,sha256}") || exit 1
echo "with_swtpm: TPM ready in $(awk "BEGIN { printf \"%.2f\", $(date +%s.%N) - $start }") s: $tcti"
KL_TEST_TCTI=$tcti KL_TEST_SWTPM_DIR=$dir "$@"
status=$?
exit $status
