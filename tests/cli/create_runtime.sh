#!/bin/sh
# keylime-policy create runtime, driven as an operator would: the digest
# algorithm table of tests/data/expected/create_runtime_policy_algorithms.json,
# merging a base policy, allowlist, IMA list and exclude list, keyrings and
# ima-buf entries, verification keys, hashing a root filesystem and initrds
# built here, and bad input. Expected documents were checked against
# upstream keylime's create_runtime_policy (timestamps aside).
# $1: the keylime-policy binary; KL_TEST_DATA: tests/data.
. "$(dirname "$0")/helpers.sh"

C=$D/ima/create-runtime-policy
EMPTY_REST='"excludes": [], "keyrings": {}, "ima": {"ignored_keyrings": [], "log_hash_alg": "sha1", "dm_policy": null}, "ima-buf": {}, "verification-keys": ""}'
HEAD='{"meta": {"version": 1, "generator": 3, "timestamp": "T"}, "release": 0'
h64() { printf "$1%.0s" $(seq 64); }

# --- the algorithm table -------------------------------------------------
for a in sha1 sha256 sha384 sha512 sm3_256; do
    check "ima-log-$a" 0 "Using digest algorithm '$a' obtained from the IMA measurement list" \
        "$KP" create runtime -v -m "$C/ima-log-$a" -o "$T/p.json"
done
check ima-log-unknown 1 "Invalid digest algorithm found in the IMA measurement list" \
    "$KP" create runtime -m "$C/ima-log-unknown" -o "$T/p.json"
for src in allowlist:-a policy:-p; do
    kind=${src%%:*} opt=${src#*:}
    case $kind in allowlist) what=allowlist ;; *) what="base policy" ;; esac
    for a in sha1 sha384 sha512; do
        check "$kind-$a" 0 "Using digest algorithm '$a' obtained from the $what" \
            "$KP" create runtime -v "$opt" "$C/$kind-$a" -o "$T/p.json"
    done
    for a in sha256 sm3_256; do # ambiguous: accepted, no algorithm chosen
        check "$kind-$a-ambiguous" 0 "" "$KP" create runtime -v "$opt" "$C/$kind-$a" -o "$T/p.json"
        assert_lacks "$kind-$a-no-choice" "$T/err" "Using digest algorithm"
        # ...until the IMA list names it
        check "$kind-$a-resolved" 0 \
            "Using digest algorithm '$a' obtained from the IMA measurement list" \
            "$KP" create runtime -v "$opt" "$C/$kind-$a" -m "$C/ima-log-$a" -o "$T/p.json"
    done
    check "$kind-unknown" 1 "Invalid digest algorithm found in the $what" \
        "$KP" create runtime "$opt" "$C/$kind-unknown" -o "$T/p.json"
done
check policy-sha1-doc 0 "" "$KP" create runtime -p "$C/policy-sha1" -o "$T/p.json"
assert_json policy-sha1-merged "$T/p.json" \
    "$HEAD, \"digests\": {\"/base_policy_data\": [\"b261df1756a43b2d35c8ca13389c026840961d36\"]}, $EMPTY_REST"
check empty-allowlist-invalid 1 "Invalid digest algorithm found in the allowlist" \
    "$KP" create runtime -a /dev/null -o "$T/p.json"

mkdir "$T/rootfs" && echo data >"$T/rootfs/f"
check priority-algo 0 "Using digest algorithm 'sha384' obtained from the --algo option" \
    "$KP" create runtime -v --algo sha384 -p "$C/policy-sha384" -a "$C/allowlist-sha384" \
    -m "$C/ima-log-sha384" --rootfs "$T/rootfs" -o "$T/p.json"
check priority-base 0 "Using digest algorithm 'sha512' obtained from the base policy" \
    "$KP" create runtime -v -p "$C/policy-sha512" -a "$C/allowlist-sha512" \
    -m "$C/ima-log-sha512" -o "$T/p.json"
check mix-algo-base 1 "The digest algorithm in the base policy does not match the previously set 'sha1' algorithm" \
    "$KP" create runtime --algo sha1 -p "$C/policy-sha256" --rootfs "$T/rootfs" -o "$T/p.json"
check mix-allowlist-log 1 "The digest algorithm in the IMA measurement list does not match the previously set 'sha1' algorithm" \
    "$KP" create runtime -a "$C/allowlist-sha1" -m "$C/ima-log-sha256" -o "$T/p.json"
check mix-ambiguous-log 1 "does not match the previously set 'sha256_or_sm3_256' algorithm" \
    "$KP" create runtime -p "$C/policy-sm3_256" -m "$C/ima-log-sha384" -o "$T/p.json"
check mix-nothing-written 1 "" "$KP" create runtime -a "$C/allowlist-sha1" -m "$C/ima-log-sha512" \
    -o "$T/never.json"
assert_eq mix-no-output "$(ls "$T/never.json" 2>/dev/null)" ""
# an explicit sha256 agrees with 64-digit digests (upstream aborts here)
check algo-agrees-ambiguous 0 "" "$KP" create runtime --algo sha256 -p "$C/policy-sha256" \
    --rootfs "$T/rootfs" -o "$T/p.json"
check ambiguous-needs-algo 1 "choose one with --algo" \
    "$KP" create runtime -a "$C/allowlist-sha256" --rootfs "$T/rootfs" -o "$T/p.json"
check algo-without-files 0 "You need to specify at least one of --ramdisk-dir or --rootfs" \
    "$KP" create runtime --algo sha1 -o "$T/p.json"

# --- merging -------------------------------------------------------------
A=$(h64 a) B=$(h64 b) CC=$(h64 c) DD=$(h64 d) E=$(h64 e) F=$(h64 f)
printf '{"meta": {"version": 1, "generator": 2}, "release": 7, "digests": {"/z": ["%s", "%s", "%s"], "/a": ["%s"]}, "excludes": ["/tmp/.*", "/boot/.*", "/tmp/.*"], "keyrings": {".ima": ["%s"]}, "ima": {"ignored_keyrings": ["b", "a"], "log_hash_alg": "sha256", "dm_policy": null}, "ima-buf": {}, "verification-keys": "", "extra": 1}' \
    "$B" "$A" "$B" "$CC" "$DD" >"$T/base.json"
printf '%s  /usr/bin/with space\n%s /z\r\n\n%s\t/a\nlonely\n' "$E" "$A" "$F" >"$T/allow.txt"
printf '# comment\n\n  /var/log/.*  \n/boot/.*\n' >"$T/excl.txt"
check merge 0 "" "$KP" create runtime -p "$T/base.json" -a "$T/allow.txt" -e "$T/excl.txt" \
    --ignored-keyrings c --ignored-keyrings a -o "$T/p.json"
assert_json merge-doc "$T/p.json" "$HEAD, \"digests\": {\"/z\": [\"$A\", \"$B\"], \"/a\": [\"$CC\", \"$F\"], \"/usr/bin/with_space\": [\"$E\"]}, \"excludes\": [\"# comment\", \"/boot/.*\", \"/tmp/.*\", \"/var/log/.*\"], \"keyrings\": {\".ima\": [\"$DD\"]}, \"ima\": {\"ignored_keyrings\": [\"a\", \"b\", \"c\"], \"log_hash_alg\": \"sha256\", \"dm_policy\": null}, \"ima-buf\": {}, \"verification-keys\": \"\"}"
check legacy-allowlist 0 "" "$KP" create runtime -p "$T/base.json" -a "$T/allow.txt" \
    -m "$C/ima-log-sm3_256" --show-legacy-allowlist -o "$T/l.txt"
assert_eq legacy-allowlist-text "$(cat "$T/l.txt")" "$(h64 0)  boot_aggregate
$A  /z
$B  /z
$CC  /a
$F  /a
$E  /usr/bin/with_space
96d7fae8adb7286a419a88f78c13d35fb782d63df654b7db56f154765698b754  /data"
check stdout-default 0 '"digests": {"boot_aggregate": ["0000000000000000000000000000000000000000"], "/data": ["009b0d8ee8fb8d890fa70f9c8e02b3f1eded1509"]}' \
    "$KP" create runtime --ima-measurement-list "$C/ima-log-sha1"
assert_eq stdout-no-newline "$(tail -c 1 "$T/out" | od -An -c | tr -d ' ')" "}"
check ima-list-none 0 "\"digests\": {}" "$KP" create runtime -m /dev/null

# --- keyrings, ima-buf, verification keys --------------------------------
{
    head -n 1 "$C/ima-log-sha256"
    cat "$D/ima/inline/ima_buf_keyring.txt"
    echo "10 $(h64 0 | cut -c1-40) ima-buf sha256:$(h64 1) kernel_version 352e31352e30"
    echo "10 $(h64 0 | cut -c1-40) ima-ng sha256:$(h64 2) /usr/bin/x"
} >"$T/ima.txt"
KR='"keyrings": {".ima": ["a7d52aaa18c23d2d9bb2abb4308c0eeee67387a42259f4a6b1a42257065f3d5a"]}'
KB="\"ima-buf\": {\"kernel_version\": [\"$(h64 1)\"]}"
check keyrings 0 "$KR" "$KP" create runtime -m "$T/ima.txt" -k
assert_lacks keyrings-no-ima-buf "$T/out" "kernel_version"
check ima-buf 0 "$KB" "$KP" create runtime -m "$T/ima.txt" -b
assert_has ima-buf-no-keyring "$T/out" '"keyrings": {}'
check keyrings-ignored 0 '"keyrings": {}, "ima": {"ignored_keyrings": [".ima", "zz"]' \
    "$KP" create runtime -m "$T/ima.txt" -k -b --ignored-keyrings zz --ignored-keyrings .ima
check keyrings-without-list 0 '"keyrings": {}' "$KP" create runtime -k
check keyring-vector-first-line 1 "Invalid digest algorithm found in the IMA measurement list" \
    "$KP" create runtime -m "$D/ima/inline/ima_buf_keyring.txt" -k
VK='{\"pubkeys\": [\"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA1cD7bW5tX5qIVgWskS5tzY+XpqWzcW6HFq5npj8dHFIWsAJJCUdoSU631hkyY8HP/RfXDPq/J4IeKvx35EVXj49t1Z1FTJBgUlEbkKvqm0rY6jo7PnJ6BsDRrauXtiEXVKNXcWXDk8ES+9v9Cz26BJYAr+5Xgm2aEyAbj8GhicxUZfsjDm8eJ7ZnQKuhF7jejG5dYAYxnBVu99bQJHI5Fsu3dAjGbys9v7ToNbonS+1bJXdHyEE0swhxBOPvvV6vx5CzRNw1Sou3rT19T4j8wpsFOyYXVcbbRVBAmBE2Qy2UHvojFqaJN/A9lztllyER1S5heGG6CxK3GoR6pkOXAQIDAQAB\", \"MFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAEnNH3Y/xOTwRRd8D6hpodRLnVx71qDTLvJHouno7nU7JSzcXWN1PxK+HQEh1V7sMdwBER4KFKE635JTv6C+BRBg==\"], \"keyids\": [4081397027, 1394556965]}'
check vkeys 0 "\"verification-keys\": \"$VK\"}" "$KP" create runtime \
    --add-ima-signature-verification-key "$D/ima/keys/rsa2048pub.pem" \
    --add-ima-signature-verification-key "$D/ima/keys/secp256k1.pem" \
    --add-ima-signature-verification-key "$D/policy/ima-policy"
assert_has vkeys-not-a-key "$T/err" "is not a file with a key"
check vkeys-merge-base 0 "\"verification-keys\": \"$VK\"}" "$KP" create runtime \
    -p "$D/ima/inline/runtime_policy_with_verification_keys.json" \
    --add-ima-signature-verification-key "$D/ima/keys/secp256k1.pem"

# --- a root filesystem ---------------------------------------------------
R=$T/rootfs
mkdir -p "$R/dir/sub" "$R/skipme" "$R/tmp" "$R/var" "$R/sp ace"
echo a >"$R/a"
echo b >"$R/dir/b c"
echo d >"$R/dir/sub/d"
echo e >"$R/skipme/e"
echo x >"$R/tmp/x"
echo y >"$R/var/y"
echo s >"$R/sp ace/f g"
ln -s a "$R/link"
ln -s dir "$R/ldir"
mkfifo "$R/fifo"
rm -f "$R/f"
if [ "$(id -u)" -eq 0 ]; then
    echo n >"$R/notroot" && chown 65534 "$R/notroot"
    s() { sha256sum "$R/$1" | cut -d' ' -f1; }
    check rootfs 0 "" "$KP" create runtime --rootfs "$R" -s "$R/skipme,$T/outside" -o "$T/p.json"
    assert_has rootfs-skip-outside "$T/err" "Ignoring directory '$T/outside' that should be skipped"
    assert_json rootfs-doc "$T/p.json" "$HEAD, \"digests\": {\"/a\": [\"$(s a)\"], \"/dir/b_c\": [\"$(s 'dir/b c')\"], \"/dir/sub/d\": [\"$(s dir/sub/d)\"], \"/sp_ace/f_g\": [\"$(s 'sp ace/f g')\"]}, $EMPTY_REST"
    check rootfs-sha1 0 "\"/skipme/e\": [\"$(sha1sum "$R/skipme/e" | cut -d' ' -f1)\"]" \
        "$KP" create runtime --algo sha1 --rootfs "$R/"
    assert_lacks rootfs-no-symlink "$T/out" '"/link"'
    assert_lacks rootfs-no-symlinked-dir "$T/out" '"/ldir'
    assert_lacks rootfs-no-tmp "$T/out" '"/tmp/x"'
    assert_lacks rootfs-no-var "$T/out" '"/var/y"'
    assert_lacks rootfs-not-root-owned "$T/out" '"/notroot"'
    check rootfs-relative 0 "\"/a\": [\"$(s a)\"]" \
        sh -c 'cd "$1" && "$2" create runtime --rootfs . -s ./dir/sub' sh "$R" "$KP"
    assert_lacks rootfs-relative-skip "$T/out" '"/dir/sub/d"'
    check rootfs-inside-skip 0 '"digests": {}' "$KP" create runtime --rootfs "$R/dir" -s "$R"
else
    echo "skip rootfs checks: not running as root (only root-owned files are hashed)"
fi
check rootfs-not-dir 1 "is not a directory" "$KP" create runtime --rootfs "$R/a"

# --- initrds -------------------------------------------------------------
if command -v cpio >/dev/null 2>&1 && command -v gzip >/dev/null 2>&1; then
    S=$T/initrd-src
    mkdir -p "$S/usr/bin" "$S/etc" "$S/dir with space" "$T/early/kernel/x86/microcode" "$T/boot"
    echo tool >"$S/usr/bin/tool"
    echo conf >"$S/etc/my conf"
    echo hl >"$S/usr/bin/hl1" && ln "$S/usr/bin/hl1" "$S/usr/bin/hl2"
    ln -s tool "$S/usr/bin/ltool"
    echo w >"$S/dir with space/f"
    : >"$S/etc/empty"
    echo micro >"$T/early/kernel/x86/microcode/GenuineIntel.bin"
    (cd "$T/early" && find . | cpio -o -H newc --quiet >"$T/early.cpio")
    (cd "$S" && find . | cpio -o -H newc --quiet | gzip -9 >"$T/main.cpio.gz")
    cat "$T/early.cpio" "$T/main.cpio.gz" >"$T/boot/initramfs-6.1.img"
    echo kernel >"$T/boot/vmlinuz-6.1"
    i() { sha256sum "$S/$1" | cut -d' ' -f1; }
    RD="\"/dir_with_space/f\": [\"$(i 'dir with space/f')\"], \"/etc/empty\": [\"$(i etc/empty)\"], \"/etc/my_conf\": [\"$(i 'etc/my conf')\"], \"/usr/bin/hl1\": [\"$(i usr/bin/hl1)\"], \"/usr/bin/hl2\": [\"$(i usr/bin/hl1)\"], \"/usr/bin/tool\": [\"$(i usr/bin/tool)\"]"
    check ramdisk 0 "" "$KP" create runtime --ramdisk-dir "$T/boot" -o "$T/p.json"
    assert_json ramdisk-doc "$T/p.json" "$HEAD, \"digests\": {$RD}, $EMPTY_REST"
    assert_lacks ramdisk-no-early-cpio "$T/p.json" "microcode"
    # an uncompressed archive without an early part, and sm3_256
    rm "$T/boot/initramfs-6.1.img"
    (cd "$S" && find . | cpio -o -H newc --quiet >"$T/boot/initrd-plain")
    SM3=$(openssl dgst -sm3 -r "$S/usr/bin/tool" 2>/dev/null | cut -d' ' -f1)
    check ramdisk-plain-sm3 0 "\"/usr/bin/tool\": [\"${SM3:-$(i usr/bin/tool)}\"]" \
        "$KP" create runtime --ramdisk-dir "$T/boot" --algo "$([ -n "$SM3" ] && echo sm3_256 || echo sha256)"
    echo "not an archive" >"$T/boot/initrd-bad"
    check ramdisk-corrupt 1 "initrd-bad" "$KP" create runtime --ramdisk-dir "$T/boot"
else
    echo "skip initrd checks: cpio or gzip missing"
fi
check ramdisk-missing-dir 1 "cannot read the ramdisk directory" \
    "$KP" create runtime --ramdisk-dir "$T/nope"

# --- bad input -----------------------------------------------------------
check missing-allowlist 1 "cannot read the allowlist" "$KP" create runtime -a "$T/nope"
echo '{"digests": ' >"$T/broken.json"
check base-not-json 1 "invalid JSON" "$KP" create runtime -p "$T/broken.json"
echo '{"digests": {"/a": ["ABC"]}}' >"$T/bogus.json"
check base-bogus 1 "could not convert the base policy to a valid runtime policy" \
    "$KP" create runtime -p "$T/bogus.json"
echo '[1, 2]' >"$T/list.json"
check base-not-object 1 "not a JSON object" "$KP" create runtime -p "$T/list.json"
check missing-ima-list 1 "does not seem to exist" "$KP" create runtime -m "$T/nope"
if [ ! -e /sys/kernel/security/ima/ascii_runtime_measurements ]; then
    check bare-m-default 1 "/sys/kernel/security/ima/ascii_runtime_measurements" \
        "$KP" create runtime -m -k
fi
printf '/ok\n(unclosed\n' >"$T/badre.txt"
check bad-exclude 1 "bad IMA exclude list rule '(unclosed'" "$KP" create runtime -e "$T/badre.txt"
printf '%s /a\n%s /b\377\n' "$A" "$B" >"$T/badutf8.txt"
check allowlist-not-utf8 1 "line 2: not valid UTF-8" "$KP" create runtime -a "$T/badutf8.txt"
check bad-algo 2 "invalid choice" "$KP" create runtime --algo md5
check unknown-option 2 "unknown option" "$KP" create runtime --local-rpm-repo /x
check value-looks-like-option 2 "expected a value" "$KP" create runtime -a -m
check help 0 "--rootfs DIR" "$KP" create runtime --help
check unwritable-output 1 "cannot write the policy" "$KP" create runtime -o "$T/nope/p.json"

finish
