/* Internal to lib/tls/ca*.c: the CA handle and its state files. */
#ifndef KL_CA_INT_H
#define KL_CA_INT_H

#include "tls/ca.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

struct kl_ca {
    char *dir;
    kl_ca_params p;
    X509 *cert;
    EVP_PKEY *key;
};

#define KL_CA_CERT "cacert.crt"
#define KL_CA_KEY "ca-private.pem"
#define KL_CA_PUB "ca-public.pem"
#define KL_CA_SERIAL "ca-serial"
#define KL_CA_REVOKED "ca-revoked"
#define KL_CA_CRL_DER "cacrl.der"
#define KL_CA_CRL_PEM "cacrl.pem"

/* The last serial issued (ca-serial). */
KL_MUST_CHECK kl_rc kl_ca_last_serial(const char *dir, uint64_t *out);
KL_MUST_CHECK kl_rc kl_ca_set_last_serial(const char *dir, uint64_t serial);

/* Signs a CRL of the serials in ca-revoked and writes cacrl.der/.pem. */
KL_MUST_CHECK kl_rc kl_ca_write_crl(const char *dir, X509 *cert, EVP_PKEY *key, unsigned days);

/* A name usable as a file name part. */
KL_MUST_CHECK kl_rc kl_ca_check_name(const char *name);

#endif
