#include "tpm_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

kl_tpmdev *
fx_open(void)
{
    const char *tcti = getenv("KL_TEST_TCTI");
    kl_tpmdev *t = NULL;

    if (!tcti)
        fail_msg("KL_TEST_TCTI is not set: run the test through tests/tpm/with_swtpm.sh");
    fx_ok(kl_tpmdev_open(&t, tcti), "kl_tpmdev_open");
    return t;
}

void
fx_ok(kl_rc rc, const char *what)
{
    if (rc != KL_OK)
        fail_msg("%s: %s: %s", what, kl_rc_str(rc), kl_err_msg());
}

kl_tpmdev_key *
fx_ek(kl_tpmdev *t, kl_tpmdev_ek_type type)
{
    kl_tpmdev_key *ek = NULL;

    fx_ok(kl_tpmdev_ek_create(&ek, t, type), "kl_tpmdev_ek_create");
    return ek;
}

kl_tpmdev_key *
fx_ak(kl_tpmdev *t, const kl_tpmdev_key *ek, const char *enc, const char *sign, const char *hash,
      kl_buf *pub_out, kl_buf *priv_out)
{
    kl_tpmdev_ak_opts o = KL_TPMDEV_AK_OPTS_INIT;
    kl_tpmdev_key *ak = NULL;
    kl_buf pub, priv;

    kl_buf_init(&pub, 4096);
    kl_buf_init(&priv, 4096);
    fx_ok(kl_tpmdev_ak_opts_set(&o, enc, sign, hash), "kl_tpmdev_ak_opts_set");
    fx_ok(kl_tpmdev_ak_create(&pub, &priv, t, ek, &o), "kl_tpmdev_ak_create");
    fx_ok(kl_tpmdev_ak_load(&ak, t, ek, kl_buf_bytes(&pub), kl_buf_bytes(&priv)),
          "kl_tpmdev_ak_load");
    if (pub_out)
        fx_ok(kl_buf_append(pub_out, pub.ptr, pub.len), "append");
    if (priv_out)
        fx_ok(kl_buf_append(priv_out, priv.ptr, priv.len), "append");
    kl_buf_free(&pub);
    kl_buf_free_secret(&priv);
    return ak;
}

void
fx_rsa_pem(kl_buf *out)
{
    EVP_PKEY *k = EVP_RSA_gen(2048);
    BIO *bio = BIO_new(BIO_s_mem());
    char *p = NULL;
    long n;

    assert_non_null(k);
    assert_non_null(bio);
    assert_int_equal(PEM_write_bio_PUBKEY(bio, k), 1);
    n = BIO_get_mem_data(bio, &p);
    kl_buf_init(out, 4096);
    fx_ok(kl_buf_append(out, p, (size_t)n), "append");
    fx_ok(kl_buf_terminate(out), "terminate");
    BIO_free(bio);
    EVP_PKEY_free(k);
}
