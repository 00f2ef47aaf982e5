/* Internal to crypto/: OpenSSL types shared between crypto modules. */
#ifndef KL_CRYPTO_INT_H
#define KL_CRYPTO_INT_H

#include "crypto/hash.h"
#include "crypto/pubkey.h"

#include <openssl/evp.h>
#include <stdatomic.h>

/* A public key: shared (reference-counted), immutable once made. */
struct kl_pubkey {
    atomic_int refs;
    EVP_PKEY *pkey;
};

/* Wraps pkey (ownership moves in, also on failure). KL_EUNSUPPORTED for
 * keys that are neither RSA nor EC. */
kl_rc kl_pubkey_wrap(kl_pubkey **out, EVP_PKEY *pkey);

/* OpenSSL's group name of a curve ("P-256"). */
const char *kl_ec_curve_group(kl_ec_curve c);

/* The fetched EVP_MD of alg, or NULL when OpenSSL lacks it. Borrowed. */
const EVP_MD *kl_hash_md(kl_hash_alg alg);

/* Records the OpenSSL error queue (most recent first) as the error detail. */
kl_rc kl_crypto_err(const char *what);

/* RSA-OAEP with hash alg (and MGF1 with it) and label: encrypts with, or
 * decrypts with, pkey; appends the result to out. A failed decryption is
 * KL_EVERIFY, input too long for the key KL_EINVAL. */
kl_rc kl_crypto_rsa_oaep(EVP_PKEY *pkey, bool encrypt, kl_hash_alg alg, kl_bytes label, kl_bytes in,
                         kl_buf *out);

/* A PEM passphrase callback that refuses: encrypted keys fail to load
 * instead of prompting on the terminal. */
int kl_crypto_no_passphrase(char *buf, int size, int rwflag, void *u);

#endif
