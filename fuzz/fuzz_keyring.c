/* fuzz_keyring: keyring JSON documents (ima/ima_keyring.h,
 * kl_ima_keyrings_set_tenant), as found in a policy's verification-keys or
 * the agent's ima_sign_verification_keys.
 *
 * Checks: set_tenant succeeds only for documents kl_ima_keyring_check
 * accepts; a loaded keyring dumps to a document that loads to the same
 * keyring; loading twice replaces rather than adds; every dumped key id can
 * be found; a made-up signature never verifies; an allocation failure
 * gives KL_ENOMEM and leaks nothing.
 */
#include <jansson.h>

#include "fuzz_util.h"
#include "ima/ima_keyring.h"
#include "json/json.h"

static kl_rc
load(kl_bytes text, kl_ima_keyrings **out)
{
    kl_rc rc = kl_ima_keyrings_new(out);

    return rc == KL_OK ? kl_ima_keyrings_set_tenant(*out, text) : rc;
}

static void
dump(const kl_ima_keyrings *kr, kl_buf *out)
{
    kl_buf_reset(out);
    FUZZ_CHECK(kl_ima_keyrings_dump(kr, KL_IMA_TENANT_KEYRING, out) == KL_OK);
}

/* Every key id in the dump is found, and a made-up signature by it fails. */
static void
check_ids(const kl_ima_keyrings *kr, kl_bytes dumped)
{
    static const uint8_t digest[32];
    json_t *doc = NULL, *id;
    size_t i;

    FUZZ_CHECK(kl_json_parse(dumped, "dump", &doc) == KL_OK);
    json_array_foreach(json_object_get(doc, "keyids"), i, id) {
        uint32_t keyid = (uint32_t)json_integer_value(id);
        uint8_t sig[9 + 16] = {3, 2, 4, (uint8_t)(keyid >> 24), (uint8_t)(keyid >> 16),
                               (uint8_t)(keyid >> 8), (uint8_t)keyid, 0, 16};
        bool ok = true;
        kl_rc rc;

        if ((int64_t)keyid != json_integer_value(id))
            continue; /* ids outside u32 can never match a signature */
        FUZZ_CHECK(kl_ima_keyrings_find(kr, keyid) != NULL);
        if (i >= 4)
            continue; /* signature checks are slow; a few are enough */
        rc = kl_ima_keyrings_verify(kr, KL_BYTES(sig, sizeof(sig)), KL_BYTES(digest, 32),
                                    KL_BYTES_STR("sha256"), &ok);
        FUZZ_CHECK((rc == KL_OK || rc == KL_ECRYPTO) && !ok);
    }
    json_decref(doc);
}

/* One allocation failure while loading: KL_ENOMEM, or the same keyring. */
static void
alloc_sweep(kl_bytes text, kl_rc normal, const kl_buf *normal_dump)
{
    kl_ima_keyrings *kr = NULL;
    size_t allocs;
    kl_buf d;
    kl_rc rc;

    kl_alloc_fail_at(0);
    rc = load(text, &kr);
    allocs = kl_alloc_fail_at(0);
    kl_ima_keyrings_free(kr);
    FUZZ_CHECK(rc == normal);
    if (!allocs)
        return;
    kr = NULL;
    kl_alloc_fail_at(1 + fuzz_hash(text.ptr, text.len) % allocs);
    rc = load(text, &kr);
    kl_alloc_fail_at(0);
    FUZZ_CHECK(rc == KL_ENOMEM || rc == normal);
    if (rc == KL_OK && normal_dump->len) {
        kl_buf_init(&d, 1 << 26);
        dump(kr, &d);
        FUZZ_CHECK(kl_bytes_eq(kl_buf_bytes(&d), kl_buf_bytes(normal_dump)));
        kl_buf_free(&d);
    }
    kl_ima_keyrings_free(kr);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kl_bytes text = fuzz_input(data, size);
    kl_ima_keyrings *kr = NULL, *kr2 = NULL;
    kl_buf d1, d2;
    kl_rc rc, crc;

    kl_buf_init(&d1, 1 << 26);
    kl_buf_init(&d2, 1 << 26);
    crc = kl_ima_keyring_check(text);
    FUZZ_CHECK(crc == KL_OK || crc == KL_EPARSE);
    rc = load(text, &kr);
    FUZZ_CHECK(rc == KL_OK || rc == KL_EPARSE);
    fuzz_touch_error();
    FUZZ_CHECK(rc != KL_OK || crc == KL_OK || size == 0);
    if (rc == KL_OK && size) {
        dump(kr, &d1);
        check_ids(kr, kl_buf_bytes(&d1));
        /* loading again replaces the keys */
        FUZZ_CHECK(kl_ima_keyrings_set_tenant(kr, text) == KL_OK);
        dump(kr, &d2);
        FUZZ_CHECK(kl_bytes_eq(kl_buf_bytes(&d1), kl_buf_bytes(&d2)));
        /* the dump loads to the same keyring */
        FUZZ_CHECK(load(kl_buf_bytes(&d1), &kr2) == KL_OK);
        dump(kr2, &d2);
        FUZZ_CHECK(kl_bytes_eq(kl_buf_bytes(&d1), kl_buf_bytes(&d2)));
        /* empty text empties it */
        FUZZ_CHECK(kl_ima_keyrings_set_tenant(kr, KL_BYTES(NULL, 0)) == KL_OK);
        dump(kr, &d2);
        FUZZ_CHECK(kl_bytes_eq_str(kl_buf_bytes(&d2), "{\"pubkeys\": [], \"keyids\": []}"));
    }
    kl_ima_keyrings_free(kr);
    kl_ima_keyrings_free(kr2);
    alloc_sweep(text, rc, &d1);
    kl_buf_free(&d1);
    kl_buf_free(&d2);
    return 0;
}
