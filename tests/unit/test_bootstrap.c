/* Unit tests for payload/bootstrap: the U/V/K vectors of the collection
 * (bootstrap_keys.json: K = U xor V, auth_tag, /keys/verify HMAC, and the
 * RSA-OAEP-wrapped ukey/vkey bodies), tag checks and key splitting. */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/privkey.h"
#include "payload/bootstrap.h"
#include "payload_test.h"
/* clang-format on */

#define VEC "payload/bootstrap_keys.json"

typedef struct {
    json_t *j;
    kl_buf k, u, v;
    kl_bytes uuid;
} vec;

static void
vec_load(vec *t)
{
    t->j = pt_json(VEC);
    pt_decode(pt_str(t->j, "K_b64", NULL), false, &t->k);
    pt_decode(pt_str(t->j, "U_b64", NULL), false, &t->u);
    pt_decode(pt_str(t->j, "V_b64", NULL), false, &t->v);
    t->uuid = pt_str(t->j, "agent_uuid", NULL);
}

static void
vec_free(vec *t)
{
    kl_buf_free(&t->k);
    kl_buf_free(&t->u);
    kl_buf_free(&t->v);
    json_decref(t->j);
}

static void
test_bootstrap_vector_combine(void **state)
{
    uint8_t k[32];
    vec t;

    (void)state;
    vec_load(&t);
    assert_int_equal(t.k.len, 32);
    assert_int_equal(kl_bootstrap_combine(k, kl_buf_bytes(&t.u), kl_buf_bytes(&t.v)), KL_OK);
    assert_memory_equal(k, t.k.ptr, 32);
    vec_free(&t);
}

static void
test_bootstrap_vector_hmacs(void **state)
{
    char hex[KL_BOOTSTRAP_TAG_HEX + 1];
    bool ok = false;
    vec t;

    (void)state;
    vec_load(&t);
    assert_int_equal(kl_bootstrap_hmac_hex(hex, kl_buf_bytes(&t.k), t.uuid), KL_OK);
    assert_int_equal(strlen(hex), KL_BOOTSTRAP_TAG_HEX);
    assert_true(kl_bytes_eq_str(pt_str(t.j, "auth_tag_hmac_sha384_K_uuid", NULL), hex));
    assert_true(kl_bytes_eq_str(pt_str(t.j, "ukey_request", "auth_tag"), hex));
    assert_int_equal(
        kl_bootstrap_hmac_hex(hex, kl_buf_bytes(&t.k), pt_str(t.j, "verify_challenge", NULL)),
        KL_OK);
    assert_true(kl_bytes_eq_str(pt_str(t.j, "verify_hmac_sha384_K_challenge", NULL), hex));
    assert_int_equal(kl_bootstrap_check_tag(&ok, kl_buf_bytes(&t.k), t.uuid,
                                            pt_str(t.j, "ukey_request", "auth_tag")),
                     KL_OK);
    assert_true(ok);
    vec_free(&t);
}

/* The ukey and vkey bodies carry U and V under the agent's NK key
 * (RSA-OAEP, SHA-1 and MGF1-SHA-1, no label). */
static void
test_bootstrap_vector_wrapped_shares(void **state)
{
    kl_privkey *nk = NULL;
    kl_buf pem, ct, pt;
    vec t;

    (void)state;
    vec_load(&t);
    pt_read("tpm/swtpm/payload-private.pem", &pem);
    assert_int_equal(kl_privkey_load_pem(&nk, kl_buf_bytes(&pem)), KL_OK);
    pt_decode(pt_str(t.j, "ukey_request", "encrypted_key"), false, &ct);
    kl_buf_init(&pt, 1024);
    assert_int_equal(
        kl_privkey_rsa_oaep_decrypt(nk, KL_HASH_SHA1, KL_BYTES(NULL, 0), kl_buf_bytes(&ct), &pt),
        KL_OK);
    assert_true(kl_bytes_eq(kl_buf_bytes(&pt), kl_buf_bytes(&t.u)));
    kl_buf_free(&ct);
    kl_buf_reset(&pt);
    pt_decode(pt_str(t.j, "vkey_request", "encrypted_key"), false, &ct);
    assert_int_equal(
        kl_privkey_rsa_oaep_decrypt(nk, KL_HASH_SHA1, KL_BYTES(NULL, 0), kl_buf_bytes(&ct), &pt),
        KL_OK);
    assert_true(kl_bytes_eq(kl_buf_bytes(&pt), kl_buf_bytes(&t.v)));
    kl_buf_free(&ct);
    kl_buf_free_secret(&pt);
    kl_buf_free(&pem);
    kl_privkey_free(nk);
    vec_free(&t);
}

/* The Rust agent decodes auth_tag with hex::decode: either case works */
static void
test_bootstrap_check_tag_cases(void **state)
{
    char tag[KL_BOOTSTRAP_TAG_HEX + 1];
    bool ok = true;
    vec t;

    (void)state;
    vec_load(&t);
    assert_int_equal(kl_bootstrap_hmac_hex(tag, kl_buf_bytes(&t.k), t.uuid), KL_OK);
    for (size_t i = 0; tag[i]; i++)
        tag[i] = (char)(tag[i] >= 'a' && tag[i] <= 'f' ? tag[i] - 'a' + 'A' : tag[i]);
    assert_int_equal(kl_bootstrap_check_tag(&ok, kl_buf_bytes(&t.k), t.uuid,
                                            KL_BYTES(tag, KL_BOOTSTRAP_TAG_HEX)),
                     KL_OK);
    assert_true(ok);
    /* one digit changed */
    tag[40] = tag[40] == '0' ? '1' : '0';
    assert_int_equal(kl_bootstrap_check_tag(&ok, kl_buf_bytes(&t.k), t.uuid,
                                            KL_BYTES(tag, KL_BOOTSTRAP_TAG_HEX)),
                     KL_OK);
    assert_false(ok);
    tag[40] = tag[40] == '0' ? '1' : '0';
    /* another uuid */
    assert_int_equal(kl_bootstrap_check_tag(&ok, kl_buf_bytes(&t.k), KL_BYTES_STR("other"),
                                            KL_BYTES(tag, KL_BOOTSTRAP_TAG_HEX)),
                     KL_OK);
    assert_false(ok);
    /* malformed tags */
    ok = true;
    assert_int_equal(kl_bootstrap_check_tag(&ok, kl_buf_bytes(&t.k), t.uuid,
                                            KL_BYTES(tag, KL_BOOTSTRAP_TAG_HEX - 2)),
                     KL_EPARSE);
    assert_false(ok);
    tag[7] = 'g';
    assert_int_equal(kl_bootstrap_check_tag(&ok, kl_buf_bytes(&t.k), t.uuid,
                                            KL_BYTES(tag, KL_BOOTSTRAP_TAG_HEX)),
                     KL_EPARSE);
    vec_free(&t);
}

static void
test_bootstrap_combine_lengths(void **state)
{
    uint8_t a[32] = {1}, b[32] = {2}, k[32];

    (void)state;
    assert_int_equal(kl_bootstrap_combine(k, KL_BYTES(a, 32), KL_BYTES(b, 16)), KL_EINVAL);
    assert_int_equal(kl_bootstrap_combine(k, KL_BYTES(a, 24), KL_BYTES(b, 24)), KL_EINVAL);
    assert_int_equal(kl_bootstrap_combine(k, KL_BYTES(a, 0), KL_BYTES(b, 0)), KL_EINVAL);
    assert_int_equal(kl_bootstrap_combine(k, KL_BYTES(a, 16), KL_BYTES(b, 16)), KL_OK);
    assert_int_equal(k[0], 3);
}

/* rust-keylime's payload tests: U, V ASCII; K = U xor V, also for AES-128 */
static void
test_bootstrap_rust_vectors(void **state)
{
    json_t *j = pt_json("payload/rust-keylime/payload_encrypted.json");
    kl_bytes u = pt_str(j, "U_ascii", NULL), v = pt_str(j, "V_ascii", NULL);
    char hex[65], mac[KL_BOOTSTRAP_TAG_HEX + 1];
    uint8_t k[32];

    (void)state;
    assert_int_equal(kl_bootstrap_combine(k, u, v), KL_OK);
    kl_hex_encode(hex, k, 32);
    assert_true(kl_bytes_eq_str(pt_str(j, "aes256_gcm", "K_hex"), hex));
    assert_int_equal(kl_bootstrap_combine(k, KL_BYTES(u.ptr, 16), KL_BYTES(v.ptr, 16)), KL_OK);
    kl_hex_encode(hex, k, 16);
    assert_true(kl_bytes_eq_str(pt_str(j, "aes128_gcm", "K_hex"), hex));
    json_decref(j);
    /* rust-keylime crypto.rs test_compute_hmac */
    assert_int_equal(
        kl_bootstrap_hmac_hex(mac, KL_BYTES_STR("mysecret"), KL_BYTES_STR("hellothere")), KL_OK);
    assert_string_equal(mac, "b8558314f515931c8d9b329805978fe77b9bb020b05406c0e"
                             "f189d89846ff8f5f0ca10e387d2c424358171df7f896f9f");
}

static void
test_bootstrap_split(void **state)
{
    uint8_t k[32], u[32], v[32], k2[32], u2[32], v2[32], c[32];
    char tag[KL_BOOTSTRAP_TAG_HEX + 1];
    bool ok = false;

    (void)state;
    assert_int_equal(kl_bootstrap_split(k, u, v), KL_OK);
    assert_int_equal(kl_bootstrap_split(k2, u2, v2), KL_OK);
    assert_memory_not_equal(k, k2, 32);
    assert_memory_not_equal(v, v2, 32);
    assert_memory_not_equal(k, u, 32);
    assert_int_equal(kl_bootstrap_combine(c, KL_BYTES(u, 32), KL_BYTES(v, 32)), KL_OK);
    assert_memory_equal(c, k, 32);
    assert_int_equal(kl_bootstrap_hmac_hex(tag, KL_BYTES(k, 32), KL_BYTES_STR("agent")), KL_OK);
    assert_int_equal(kl_bootstrap_check_tag(&ok, KL_BYTES(c, 32), KL_BYTES_STR("agent"),
                                            KL_BYTES(tag, strlen(tag))),
                     KL_OK);
    assert_true(ok);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bootstrap_vector_combine),
        cmocka_unit_test(test_bootstrap_vector_hmacs),
        cmocka_unit_test(test_bootstrap_vector_wrapped_shares),
        cmocka_unit_test(test_bootstrap_check_tag_cases),
        cmocka_unit_test(test_bootstrap_combine_lengths),
        cmocka_unit_test(test_bootstrap_rust_vectors),
        cmocka_unit_test(test_bootstrap_split),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
