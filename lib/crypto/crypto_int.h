/* Internal to crypto/: OpenSSL types shared between crypto modules. */
#ifndef KL_CRYPTO_INT_H
#define KL_CRYPTO_INT_H

#include <openssl/evp.h>

#include "crypto/hash.h"

/* The fetched EVP_MD of alg, or NULL when OpenSSL lacks it. Borrowed. */
const EVP_MD *kl_hash_md(kl_hash_alg alg);

/* Records the OpenSSL error queue (most recent first) as the error detail. */
kl_rc kl_crypto_err(const char *what);

/* A PEM passphrase callback that refuses: encrypted keys fail to load
 * instead of prompting on the terminal. */
int kl_crypto_no_passphrase(char *buf, int size, int rwflag, void *u);

#endif
