/* Unit tests for payload/payload_crypt: the collection's encrypted payloads
 * (bootstrap_keys.json, AES-256; rust-keylime's AES-256 and AES-128) decrypt
 * to the vector zips and are reproduced byte for byte from their IVs;
 * damaged, short or mis-keyed payloads are refused. */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "payload/payload_crypt.h"
#include "payload_test.h"
/* clang-format on */

/* Decrypts text with key, compares with plain and re-encrypts with the IV
 * the text starts with, which must give text again. */
static void
check_vector(kl_bytes key, kl_bytes text, kl_bytes plain)
{
    kl_buf out, raw, again;

    kl_buf_init(&out, 1 << 20);
    assert_int_equal(kl_payload_decrypt(&out, key, text), KL_OK);
    assert_true(kl_bytes_eq(kl_buf_bytes(&out), plain));
    pt_decode(text, false, &raw);
    kl_buf_init(&again, 1 << 20);
    assert_int_equal(kl_payload_encrypt_iv(&again, key, raw.ptr, plain), KL_OK);
    assert_true(kl_bytes_eq(kl_buf_bytes(&again), text));
    kl_buf_free(&again);
    kl_buf_free(&raw);
    kl_buf_free_secret(&out);
}

static void
test_payload_crypt_bootstrap_vector(void **state)
{
    json_t *j = pt_json("payload/bootstrap_keys.json");
    kl_buf k, zip, zip2, iv;
    kl_bytes text = pt_str(j, "ukey_request", "payload");

    (void)state;
    pt_decode(pt_str(j, "K_b64", NULL), false, &k);
    pt_decode(pt_str(j, "payload_plain_zip_b64", NULL), false, &zip);
    pt_decode(pt_str(j, "payload_iv_hex", NULL), true, &iv);
    pt_read("payload/payload_plain.zip", &zip2);
    assert_true(kl_bytes_eq(kl_buf_bytes(&zip), kl_buf_bytes(&zip2)));
    check_vector(kl_buf_bytes(&k), text, kl_buf_bytes(&zip));
    /* the IV is the first 16 bytes */
    kl_buf_free(&zip2);
    pt_decode(text, false, &zip2);
    assert_memory_equal(zip2.ptr, iv.ptr, KL_PAYLOAD_IV);
    kl_buf_free(&k);
    kl_buf_free(&zip);
    kl_buf_free(&zip2);
    kl_buf_free(&iv);
    json_decref(j);
}

static void
test_payload_crypt_rust_vectors(void **state)
{
    json_t *j = pt_json("payload/rust-keylime/payload_encrypted.json");
    const char *modes[] = {"aes256_gcm", "aes128_gcm"};
    kl_buf zip, k;

    (void)state;
    pt_read("payload/rust-keylime/payload.zip", &zip);
    for (size_t i = 0; i < 2; i++) {
        pt_decode(pt_str(j, modes[i], "K_hex"), true, &k);
        check_vector(kl_buf_bytes(&k), pt_str(j, modes[i], "encrypted_b64"), kl_buf_bytes(&zip));
        kl_buf_free(&k);
    }
    kl_buf_free(&zip);
    json_decref(j);
}

/* Re-encodes raw with byte i flipped and expects rc from decrypting it. */
static void
expect_flip(kl_bytes key, const kl_buf *raw, size_t i, kl_rc rc)
{
    kl_buf bad, out;

    kl_buf_init(&bad, 1 << 20);
    raw->ptr[i] ^= 1;
    assert_int_equal(kl_b64_encode_append(&bad, raw->ptr, raw->len), KL_OK);
    raw->ptr[i] ^= 1;
    kl_buf_init(&out, 1 << 20);
    assert_int_equal(kl_buf_append(&out, "x", 1), KL_OK);
    assert_int_equal(kl_payload_decrypt(&out, key, kl_buf_bytes(&bad)), rc);
    assert_int_equal(out.len, 1); /* nothing appended */
    kl_buf_free(&out);
    kl_buf_free(&bad);
}

static void
test_payload_crypt_tamper(void **state)
{
    uint8_t key[32] = {3}, other[32] = {4};
    kl_buf text, raw, out;

    (void)state;
    kl_buf_init(&text, 1 << 16);
    assert_int_equal(kl_payload_encrypt(&text, KL_BYTES(key, 32), KL_BYTES_STR("secret data")),
                     KL_OK);
    pt_decode(kl_buf_bytes(&text), false, &raw);
    assert_int_equal(raw.len, 16 + 11 + 16);
    expect_flip(KL_BYTES(key, 32), &raw, 0, KL_EVERIFY);           /* IV */
    expect_flip(KL_BYTES(key, 32), &raw, 20, KL_EVERIFY);          /* ciphertext */
    expect_flip(KL_BYTES(key, 32), &raw, raw.len - 1, KL_EVERIFY); /* tag */
    kl_buf_init(&out, 1 << 16);
    assert_int_equal(kl_payload_decrypt(&out, KL_BYTES(other, 32), kl_buf_bytes(&text)),
                     KL_EVERIFY);
    assert_int_equal(kl_payload_decrypt(&out, KL_BYTES(key, 16), kl_buf_bytes(&text)), KL_EVERIFY);
    assert_int_equal(out.len, 0);
    assert_int_equal(kl_payload_decrypt(&out, KL_BYTES(key, 32), kl_buf_bytes(&text)), KL_OK);
    assert_true(kl_bytes_eq_str(kl_buf_bytes(&out), "secret data"));
    kl_buf_free_secret(&out);
    kl_buf_free(&raw);
    kl_buf_free(&text);
}

static void
test_payload_crypt_malformed(void **state)
{
    uint8_t key[32] = {0}, raw[31] = {0};
    kl_buf out, text;

    (void)state;
    kl_buf_init(&out, 1 << 16);
    kl_buf_init(&text, 1 << 16);
    assert_int_equal(kl_payload_decrypt(&out, KL_BYTES(key, 32), KL_BYTES_STR("a$bc")), KL_EPARSE);
    assert_int_equal(kl_payload_decrypt(&out, KL_BYTES(key, 32), KL_BYTES_STR("")), KL_EPARSE);
    assert_int_equal(kl_b64_encode_append(&text, raw, sizeof(raw)), KL_OK);
    assert_int_equal(kl_payload_decrypt(&out, KL_BYTES(key, 32), kl_buf_bytes(&text)), KL_EPARSE);
    assert_int_equal(kl_payload_decrypt(&out, KL_BYTES(key, 24), kl_buf_bytes(&text)), KL_EINVAL);
    assert_int_equal(kl_payload_encrypt(&out, KL_BYTES(key, 20), KL_BYTES_STR("x")), KL_EINVAL);
    assert_int_equal(out.len, 0);
    kl_buf_free(&text);
    kl_buf_free(&out);
}

/* An empty plaintext is 32 bytes (IV and tag); a full output buffer is
 * KL_ETOOBIG. */
static void
test_payload_crypt_sizes(void **state)
{
    uint8_t key[16] = {9};
    kl_buf text, out;

    (void)state;
    kl_buf_init(&text, 1 << 16);
    assert_int_equal(kl_payload_encrypt(&text, KL_BYTES(key, 16), KL_BYTES(NULL, 0)), KL_OK);
    assert_int_equal(text.len, 44);
    kl_buf_init(&out, 1 << 16);
    assert_int_equal(kl_payload_decrypt(&out, KL_BYTES(key, 16), kl_buf_bytes(&text)), KL_OK);
    assert_int_equal(out.len, 0);
    kl_buf_free(&out);
    kl_buf_reset(&text);
    assert_int_equal(kl_payload_encrypt(&text, KL_BYTES(key, 16), KL_BYTES_STR("0123456789")),
                     KL_OK);
    kl_buf_init(&out, 10);
    assert_int_equal(kl_payload_decrypt(&out, KL_BYTES(key, 16), kl_buf_bytes(&text)), KL_ETOOBIG);
    kl_buf_free(&out);
    kl_buf_free(&text);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_payload_crypt_bootstrap_vector),
        cmocka_unit_test(test_payload_crypt_rust_vectors),
        cmocka_unit_test(test_payload_crypt_tamper),
        cmocka_unit_test(test_payload_crypt_malformed),
        cmocka_unit_test(test_payload_crypt_sizes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
