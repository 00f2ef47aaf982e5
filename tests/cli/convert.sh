#!/bin/sh
# keylime-policy convert (upstream's keylime_convert_runtime_policy): flat
# and JSON allowlists, old and current runtime policies, exclude lists,
# verification keys and bad input. Expected documents were checked against
# upstream keylime's converter (timestamps aside).
# $1: the keylime-policy binary; KL_TEST_DATA: tests/data.
. "$(dirname "$0")/helpers.sh"

A=$(printf 'a%.0s' $(seq 40))
B=$(printf 'b%.0s' $(seq 40))
REST='"ima": {"ignored_keyrings": [], "log_hash_alg": "sha1", "dm_policy": null}, "ima-buf": {}, "verification-keys": ""}'
VK='{\"pubkeys\": [\"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA1cD7bW5tX5qIVgWskS5tzY+XpqWzcW6HFq5npj8dHFIWsAJJCUdoSU631hkyY8HP/RfXDPq/J4IeKvx35EVXj49t1Z1FTJBgUlEbkKvqm0rY6jo7PnJ6BsDRrauXtiEXVKNXcWXDk8ES+9v9Cz26BJYAr+5Xgm2aEyAbj8GhicxUZfsjDm8eJ7ZnQKuhF7jejG5dYAYxnBVu99bQJHI5Fsu3dAjGbys9v7ToNbonS+1bJXdHyEE0swhxBOPvvV6vx5CzRNw1Sou3rT19T4j8wpsFOyYXVcbbRVBAmBE2Qy2UHvojFqaJN/A9lztllyER1S5heGG6CxK3GoR6pkOXAQIDAQAB\", \"MFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAEnNH3Y/xOTwRRd8D6hpodRLnVx71qDTLvJHouno7nU7JSzcXWN1PxK+HQEh1V7sMdwBER4KFKE635JTv6C+BRBg==\"], \"keyids\": [4081397027, 1394556965]}'

# --- flat allowlists -----------------------------------------------------
printf '%s  /usr/bin/with space\n%s %%keyring:.ima\n%s /z\r\n\n%s\t/z\nlonely\n%s  /usr/bin/with space\n' \
    "$A" "$B" "$B" "$A" "$A" >"$T/flat.txt"
check flat 0 "is not JSON-formatted" "$KP" convert -a "$T/flat.txt" -o "$T/p.json"
# order and duplicates kept, spaces kept, %keyring: entries go to keyrings
assert_json flat-doc "$T/p.json" "{\"meta\": {\"version\": 1, \"generator\": 3, \"timestamp\": \"T\"}, \"release\": 0, \"digests\": {\"/usr/bin/with space\": [\"$A\", \"$A\"], \"/z\": [\"$B\", \"$A\"]}, \"excludes\": [], \"keyrings\": {\".ima\": [\"$B\"]}, $REST"
check flat-vector 0 "" "$KP" convert -a "$D/policy/ima-allowlist-short.txt" -o "$T/p.json"
assert_has flat-vector-digest "$T/p.json" \
    '"/boot/grub2/i386-pc/testload.mod": ["68e1d012e3f193dcde955e6ffbbc80e22b0f8778"]'
assert_has flat-vector-aggregate "$T/p.json" \
    '"boot_aggregate": ["sha256:4309217e9709def327c3409407f4d52907aeba46ef1b4f46529fd095f2ef9fb2"]'
assert_has flat-vector-invalid-warns "$T/err" "not a valid runtime policy"
printf '%s /ok\n%s /bad\377\n' "$A" "$B" >"$T/badutf8.txt"
check flat-not-utf8 1 "not valid UTF-8" "$KP" convert -a "$T/badutf8.txt" -o "$T/p.json"

# --- JSON allowlists -----------------------------------------------------
printf '{"meta": {"version": 1}, "release": 0, "hashes": {"/b": ["%s"], "/a": ["%s", "%s"]}, "keyrings": {".ima": ["%s"]}, "ima": {"ignored_keyrings": ["x"], "log_hash_alg": "sha256", "dm_policy": null}, "excludes": [], "verification-keys": ""}' \
    "$A" "$B" "$A" "$B" >"$T/jal.json"
check json-allowlist 0 "appears to be JSON-formatted" "$KP" convert -a "$T/jal.json" -o "$T/p.json"
assert_has json-allowlist-default "$T/err" "IMA policy field 'ima-buf' not found in allowlist; using default value"
assert_json json-allowlist-doc "$T/p.json" "{\"meta\": {\"version\": 1, \"generator\": 3, \"timestamp\": \"T\"}, \"release\": 0, \"digests\": {\"/b\": [\"$A\"], \"/a\": [\"$B\", \"$A\"]}, \"excludes\": [], \"keyrings\": {\".ima\": [\"$B\"]}, \"ima\": {\"ignored_keyrings\": [\"x\"], \"log_hash_alg\": \"sha256\", \"dm_policy\": null}, \"ima-buf\": {}, \"verification-keys\": \"\"}"
printf '{"meta": {"version": 1}, "digests": {"/b": ["%s"]}}' "$A" >"$T/jdig.json"
check json-is-policy 1 "already a runtime policy" "$KP" convert -a "$T/jdig.json" -o "$T/p.json"
echo '{"meta": {"version": 1}, "foo": 1}' >"$T/jnone.json"
check json-no-hashes 1 "does not contain a valid digest list" \
    "$KP" convert -a "$T/jnone.json" -o "$T/p.json"

# --- runtime policies ----------------------------------------------------
printf '{"meta": {"version": 0, "generator": 1}, "release": 3, "digests": {"/b": ["%s"]}, "excludes": ["/tmp"], "keyrings": {}, "ima": {"ignored_keyrings": [], "log_hash_alg": "sha1", "dm_policy": null}, "ima-buf": {}, "zzz": 5}' \
    "$A" >"$T/old.json"
check old-version 0 "Updating to latest version" "$KP" convert -r "$T/old.json" -o "$T/p.json"
assert_json old-version-doc "$T/p.json" "{\"meta\": {\"version\": 1, \"generator\": 2, \"timestamp\": \"T\"}, \"release\": 3, \"digests\": {\"/b\": [\"$A\"]}, \"excludes\": [\"/tmp\"], \"keyrings\": {}, $REST"
printf '{"meta": {"version": 1, "generator": 2}, "release": 0, "digests": {"/b": ["%s"]}, "excludes": ["/tmp", "/a"], "keyrings": {}, "ima": {"ignored_keyrings": [], "log_hash_alg": "sha1", "dm_policy": null}, "ima-buf": {}, "verification-keys": ""}' \
    "$A" >"$T/cur.json"
printf '# comment\n\n  /var/log/.*  \n/a\n' >"$T/excl.txt"
check excludes 0 "" "$KP" convert --runtime_policy "$T/cur.json" -e "$T/excl.txt" -o "$T/p.json"
# appended as given: no sorting, no de-duplication, comments dropped
assert_json excludes-doc "$T/p.json" "{\"meta\": {\"version\": 1, \"generator\": 2}, \"release\": 0, \"digests\": {\"/b\": [\"$A\"]}, \"excludes\": [\"/tmp\", \"/a\", \"/var/log/.*\", \"/a\"], \"keyrings\": {}, $REST"
check keys 0 "" "$KP" convert --runtime-policy "$T/cur.json" \
    -v "$D/ima/keys/rsa2048pub.pem" "$D/ima/keys/secp256k1.pem" -o "$T/p.json"
assert_json keys-doc "$T/p.json" "{\"meta\": {\"version\": 1, \"generator\": 2}, \"release\": 0, \"digests\": {\"/b\": [\"$A\"]}, \"excludes\": [\"/tmp\", \"/a\"], \"keyrings\": {}, \"ima\": {\"ignored_keyrings\": [], \"log_hash_alg\": \"sha1\", \"dm_policy\": null}, \"ima-buf\": {}, \"verification-keys\": \"$VK\"}"
check keys-merge 0 "" "$KP" convert -r "$D/ima/inline/runtime_policy_with_verification_keys.json" \
    -v "$D/ima/keys/secp256k1.pem" -o "$T/p.json"
assert_has keys-merge-doc "$T/p.json" "\"verification-keys\": \"$VK\""
check keys-not-a-key 0 "is not a file with a key" "$KP" convert -a "$T/flat.txt" \
    -v "$D/policy/ima-policy" -o "$T/p.json"
assert_has keys-empty-keyring "$T/p.json" '"verification-keys": "{\"pubkeys\": [], \"keyids\": []}"'

# --- bad input and usage -------------------------------------------------
echo '{"meta": {"version": 1, "generator": 2}, "digests": {}}' >"$T/noexcl.json"
check no-excludes 1 "no \"excludes\" list" "$KP" convert -r "$T/noexcl.json" -o "$T/p.json"
echo '{"digests": {}}' >"$T/nometa.json"
check no-version 1 "meta.version" "$KP" convert -r "$T/nometa.json" -o "$T/p.json"
echo '[1]' >"$T/list.json"
check not-a-dict 1 "must be a dictionary" "$KP" convert -r "$T/list.json" -o "$T/p.json"
echo '{"meta": ' >"$T/broken.json"
check invalid-json 1 "invalid JSON" "$KP" convert -r "$T/broken.json" -o "$T/p.json"
check missing-file 1 "cannot open" "$KP" convert -r "$T/nope.json" -o "$T/p.json"
check missing-excludes 1 "cannot open" "$KP" convert -r "$T/cur.json" -e "$T/nope" -o "$T/p.json"
check missing-key 1 "cannot open" "$KP" convert -r "$T/cur.json" -v "$T/nope" -o "$T/p.json"
check both 1 "cannot provide both" "$KP" convert -a "$T/flat.txt" -r "$T/cur.json" -o "$T/p.json"
check neither 1 "either --allowlist or --runtime_policy is required" "$KP" convert -o "$T/p.json"
check no-output 1 "output file path (-o, --output_file) is required" \
    "$KP" convert -a "$T/flat.txt"
check no-arguments 0 "usage: keylime-policy convert" "$KP" convert
check keys-need-a-value 2 "expected a value" "$KP" convert -a "$T/flat.txt" -v -o "$T/p.json"
check unknown-option 2 "unknown option" "$KP" convert -a "$T/flat.txt" --bogus

finish
