#!/bin/sh
# keylime-policy create measured-boot: refstates compared byte for byte with
# the ones upstream's create_mb_policy wrote for the same logs
# (tests/data/eventlog/refstate), the Secure Boot refusal and -i, the
# messages, and bad input.
# $1: the keylime-policy binary; KL_TEST_DATA: tests/data.
. "$(dirname "$0")/helpers.sh"

E=$D/eventlog
R=$E/refstate
same() { # same NAME FILE WANT: the two files are identical
    if cmp -s "$2" "$3"; then ok "$1"; else bad "$1" "$2 differs from $3"; fi
}

# --- Secure Boot log ------------------------------------------------------
check secureboot 0 "" "$KP" create measured-boot -e "$E/binary_bios_measurements-secureboot" \
    -o "$T/sb.json"
same secureboot-upstream "$T/sb.json" "$R/binary_bios_measurements-secureboot.json"
assert_eq secureboot-quiet "$(cat "$T/err")" ""
check secureboot-stdout 0 "" "$KP" create measured-boot \
    --eventlog-file "$E/binary_bios_measurements-secureboot"
same secureboot-stdout-upstream "$T/out" "$R/binary_bios_measurements-secureboot.json"
check secureboot-dash 0 "" "$KP" create measured-boot -e "$E/binary_bios_measurements-secureboot" \
    -o -
same secureboot-dash-upstream "$T/out" "$R/binary_bios_measurements-secureboot.json"
assert_eq no-trailing-newline "$(tail -c 1 "$T/out")" "}"
check secureboot-with-i 0 "provided eventlog has SecureBoot enabled. Ignoring this flag" \
    "$KP" create measured-boot -e "$E/binary_bios_measurements-secureboot" -i -o "$T/sbi.json"
same secureboot-with-i-upstream "$T/sbi.json" "$R/binary_bios_measurements-secureboot.json"

# --- logs without Secure Boot ---------------------------------------------
check no-secureboot 1 "Provided eventlog has SecureBoot disabled, but -i flag was not set" \
    "$KP" create measured-boot -e "$E/binary_bios_measurements" -o "$T/nosb.json"
[ -e "$T/nosb.json" ] && bad no-secureboot-no-output "wrote $T/nosb.json" || ok no-secureboot-no-output
check without-secureboot 0 "Adding plain sha256 digest of vmlinuz" \
    "$KP" create measured-boot -e "$E/binary_bios_measurements" --without-secureboot \
    --output "$T/nosb.json"
same without-secureboot-upstream "$T/nosb.json" "$R/binary_bios_measurements-i.json"
check uefi-log 0 "" "$KP" create measured-boot -e "$E/uefi_log.bin" -i -o "$T/uefi.json"
same uefi-log-upstream "$T/uefi.json" "$R/uefi_log.bin-i.json"
check mb-log 0 "" "$KP" create measured-boot -e "$E/mb_log.bin" -i -o "$T/mb.json"
same mb-log-upstream "$T/mb.json" "$R/mb_log.bin-i.json"

# --- bad input ------------------------------------------------------------
check bogus 1 "Parsing of binary boot measurements ($E/binary_bios_measurements-bogus) failed" \
    "$KP" create measured-boot -e "$E/binary_bios_measurements-bogus"
check empty 1 "No events found on binary boot measurements log" \
    "$KP" create measured-boot -e "$E/binary_bios_measurements-empty" -i
check no-file 1 "cannot read the event log" "$KP" create measured-boot -e "$T/none"
check no-eventlog 2 "the following arguments are required: -e/--eventlog-file" \
    "$KP" create measured-boot -i
check unknown-option 2 "unknown option" "$KP" create measured-boot -e x --bogus
check missing-value 2 "needs a value" "$KP" create measured-boot -e
check extra-argument 2 "unexpected argument" "$KP" create measured-boot -e x y
check help 0 "--without-secureboot" "$KP" create measured-boot --help
check listed 0 "measured-boot" "$KP" --help

finish
