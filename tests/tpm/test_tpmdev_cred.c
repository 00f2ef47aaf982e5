/* Registration against swtpm: the registrar's software MakeCredential
 * (kl_makecred_blob) and the agent's TPM2_ActivateCredential
 * (kl_tpmdev_cred_activate), then the auth_tag both sides compute. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "tpm/makecred.h"
#include "tpm/tpm_public.h"
#include "tpm_fixture.h"
#include "tpmdev/tpmdev_cred.h"

#define SWTPM_EK_ECC384 0x81010016u /* made by swtpm_setup; policy B */

static int
setup(void **state)
{
    *state = fx_open();
    return 0;
}

static int
teardown(void **state)
{
    kl_tpmdev_close(*state);
    return 0;
}

/* The registrar's blob for the AK under ek, with challenge as the secret. */
static void
make_blob(kl_buf *blob, const kl_tpmdev_key *ek, const kl_tpmdev_key *ak, const char *challenge)
{
    kl_tpm_public *ekp = NULL, *akp = NULL;

    fx_ok(kl_tpm_public_parse(&ekp, kl_tpmdev_key_public(ek)), "parse EK");
    fx_ok(kl_tpm_public_parse(&akp, kl_tpmdev_key_public(ak)), "parse AK");
    fx_ok(kl_makecred_blob(blob, ekp, KL_BYTES(challenge, strlen(challenge)),
                           kl_tpm_public_name(akp)),
          "kl_makecred_blob");
    kl_tpm_public_free(ekp);
    kl_tpm_public_free(akp);
}

/* The whole exchange: challenge, blob, activation, auth_tag. */
static void
round_trip(kl_tpmdev *t, kl_tpmdev_key *ek, const char *enc, const char *sign)
{
    static const char agent_id[] = "d432fbb3-d2f1-4a97-9ef7-75bd81c00000";
    char challenge[KL_MAKECRED_CHALLENGE_LEN + 1];
    kl_tpmdev_key *ak = fx_ak(t, ek, enc, sign, "sha256", NULL, NULL);
    kl_buf blob, secret, key, tag;
    bool ok = false;

    kl_buf_init(&blob, 4096);
    kl_buf_init(&secret, 1024);
    kl_buf_init(&key, 1024);
    kl_buf_init(&tag, 1024);
    fx_ok(kl_makecred_challenge(challenge), "challenge");
    make_blob(&blob, ek, ak, challenge);
    fx_ok(kl_tpmdev_cred_activate(&secret, t, ak, ek, kl_buf_bytes(&blob)), "activate");
    assert_int_equal(secret.len, KL_MAKECRED_CHALLENGE_LEN);
    assert_memory_equal(secret.ptr, challenge, KL_MAKECRED_CHALLENGE_LEN);
    /* the agent's auth_tag is the one the registrar expects */
    fx_ok(kl_makecred_auth_tag_from_secret(&tag, kl_buf_bytes(&secret), KL_BYTES_STR(agent_id)),
          "auth_tag");
    fx_ok(kl_makecred_key(&key, KL_BYTES(challenge, strlen(challenge))), "key");
    fx_ok(kl_makecred_check_auth_tag(&ok, kl_buf_bytes(&key), KL_BYTES_STR(agent_id),
                                     kl_buf_bytes(&tag)),
          "check auth_tag");
    assert_true(ok);
    kl_tpmdev_key_free(ak);
    kl_buf_free(&blob);
    kl_buf_free_secret(&secret);
    kl_buf_free(&key);
    kl_buf_free(&tag);
}

static void
test_tpmdev_cred_rsa(void **state)
{
    kl_tpmdev_key *ek = fx_ek(*state, KL_TPMDEV_EK_RSA2048);

    round_trip(*state, ek, "rsa", "rsassa");
    round_trip(*state, ek, "ecc", "ecdsa");
    kl_tpmdev_key_free(ek);
}

static void
test_tpmdev_cred_ecc(void **state)
{
    kl_tpmdev_key *ek = fx_ek(*state, KL_TPMDEV_EK_ECC_P256);

    round_trip(*state, ek, "ecc", "ecdsa");
    kl_tpmdev_key_free(ek);
}

/* A persistent high-range EK (P-384, SHA-384): policy B, PolicyOR. */
static void
test_tpmdev_cred_persistent_p384(void **state)
{
    kl_tpmdev_key *ek = NULL;

    fx_ok(kl_tpmdev_key_persistent(&ek, *state, SWTPM_EK_ECC384), "persistent EK");
    round_trip(*state, ek, "ecc", "ecdsa");
    kl_tpmdev_key_free(ek);
}

/* What the TPM must refuse: another AK's credential, a tampered blob, a
 * blob for another EK; and what is refused before the TPM sees it. */
static void
test_tpmdev_cred_refused(void **state)
{
    kl_tpmdev *t = *state;
    kl_tpmdev_key *ek = fx_ek(t, KL_TPMDEV_EK_RSA2048);
    kl_tpmdev_key *ak = fx_ak(t, ek, "rsa", "rsassa", "sha256", NULL, NULL);
    kl_tpmdev_key *other = fx_ak(t, ek, "ecc", "ecdsa", "sha256", NULL, NULL);
    kl_tpmdev_key *ecc_ek = NULL;
    kl_buf blob, secret;

    kl_buf_init(&blob, 4096);
    kl_buf_init(&secret, 1024);
    make_blob(&blob, ek, other, "a challenge for the other AK....");
    assert_int_equal(kl_tpmdev_cred_activate(&secret, t, ak, ek, kl_buf_bytes(&blob)), KL_EIO);
    assert_non_null(strstr(kl_err_msg(), "Esys_ActivateCredential"));
    kl_buf_reset(&blob);
    make_blob(&blob, ek, ak, "a challenge for this AK.........");
    blob.ptr[20] ^= 0x40; /* inside the integrity HMAC */
    assert_int_equal(kl_tpmdev_cred_activate(&secret, t, ak, ek, kl_buf_bytes(&blob)), KL_EIO);
    blob.ptr[20] ^= 0x40;
    blob.ptr[blob.len - 1] ^= 0x01; /* the encrypted seed */
    assert_int_equal(kl_tpmdev_cred_activate(&secret, t, ak, ek, kl_buf_bytes(&blob)), KL_EIO);
    blob.ptr[blob.len - 1] ^= 0x01;
    assert_int_equal(kl_tpmdev_cred_activate(&secret, t, ak, ek, KL_BYTES(blob.ptr, 9)), KL_EPARSE);
    blob.ptr[0] ^= 0xff; /* magic */
    assert_int_equal(kl_tpmdev_cred_activate(&secret, t, ak, ek, kl_buf_bytes(&blob)), KL_EPARSE);
    blob.ptr[0] ^= 0xff;
    assert_int_equal(secret.len, 0);
    /* still good after all that */
    fx_ok(kl_tpmdev_cred_activate(&secret, t, ak, ek, kl_buf_bytes(&blob)), "activate");
    assert_memory_equal(secret.ptr, "a challenge for this AK.........", 32);
    kl_tpmdev_key_free(other);
    /* the blob is bound to the RSA EK: the P-384 EK cannot open it */
    fx_ok(kl_tpmdev_key_persistent(&ecc_ek, t, SWTPM_EK_ECC384), "persistent EK");
    kl_buf_reset(&secret);
    assert_int_not_equal(kl_tpmdev_cred_activate(&secret, t, ak, ecc_ek, kl_buf_bytes(&blob)),
                         KL_OK);
    assert_int_equal(secret.len, 0);
    kl_tpmdev_key_free(ecc_ek);
    kl_tpmdev_key_free(ak);
    kl_tpmdev_key_free(ek);
    kl_buf_free(&blob);
    kl_buf_free_secret(&secret);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tpmdev_cred_rsa),
        cmocka_unit_test(test_tpmdev_cred_ecc),
        cmocka_unit_test(test_tpmdev_cred_persistent_p384),
        cmocka_unit_test(test_tpmdev_cred_refused),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
