/* tpm_fixture: what the TPM tests share. They run under with_swtpm.sh,
 * which starts a fresh swtpm and passes its TCTI in $KL_TEST_TCTI; each
 * helper fails the current test (cmocka) instead of returning an error. */
#ifndef KL_TEST_TPM_FIXTURE_H
#define KL_TEST_TPM_FIXTURE_H

#include "tpmdev/tpmdev.h"
#include "tpmdev/tpmdev_ak.h"
#include "tpmdev/tpmdev_ek.h"
#include "util/kl_buf.h"

/* Connects to $KL_TEST_TCTI (fails when it is not set). */
kl_tpmdev *fx_open(void);

/* Asserts rc == KL_OK, printing kl_err_msg() otherwise. */
void fx_ok(kl_rc rc, const char *what);

/* Creates the default EK of a type. */
kl_tpmdev_key *fx_ek(kl_tpmdev *t, kl_tpmdev_ek_type type);

/* Creates and loads an AK under ek ("rsa", "rsassa", "sha256"...). The
 * blobs are appended to pub and priv when they are not NULL. */
kl_tpmdev_key *fx_ak(kl_tpmdev *t, const kl_tpmdev_key *ek, const char *enc, const char *sign,
                     const char *hash, kl_buf *pub, kl_buf *priv);

/* A fresh RSA-2048 public key as PEM text (what the agent binds to PCR 16),
 * NUL-terminated; kl_buf_free it. */
void fx_rsa_pem(kl_buf *out);

#endif
