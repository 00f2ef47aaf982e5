/* certgen: internal to lib/tls: the OpenSSL pieces the CA (ca*.c) and
 * the tls_dir generator (tls_gen.c) build certificates from.
 */
#ifndef KL_CERTGEN_H
#define KL_CERTGEN_H

#include "tls/ca.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdint.h>

/* New keys: RSA (exponent 65537) or EC P-256. Caller frees (EVP_PKEY_free). */
KL_MUST_CHECK kl_rc kl_certgen_key_rsa(EVP_PKEY **out, unsigned bits);
KL_MUST_CHECK kl_rc kl_certgen_key_ec(EVP_PKEY **out);

/* The subject Keylime's CA uses: C, CN, ST, L, O, OU (upstream's order);
 * p NULL: CN only. Caller frees (X509_NAME_free). */
KL_MUST_CHECK kl_rc kl_certgen_name(X509_NAME **out, const kl_ca_params *p, const char *cn);

/* A v3 certificate for key's public half: serial, valid from now for
 * days, subject and issuer names copied. Not signed yet. Caller frees. */
KL_MUST_CHECK kl_rc kl_certgen_new(X509 **out, EVP_PKEY *key, uint64_t serial, unsigned days,
                                   const X509_NAME *subject, const X509_NAME *issuer);

/* Adds an extension in openssl.cnf syntax ("critical,CA:TRUE", "hash",
 * "keyid:always"); issuer is the signing certificate (x itself when
 * self-signed). */
KL_MUST_CHECK kl_rc kl_certgen_ext(X509 *x, X509 *issuer, int nid, const char *value);

/* subjectAltName of the given names: each is an IP address (v4 or v6) when
 * it parses as one, else a DNS name; duplicates dropped. KL_EINVAL for an
 * empty name. */
KL_MUST_CHECK kl_rc kl_certgen_sans(X509 *x, const char *const *names, size_t n);

/* Signs with SHA-256. */
KL_MUST_CHECK kl_rc kl_certgen_sign(X509 *x, EVP_PKEY *key);

/* PEM appenders. The private key is PKCS#8, encrypted (AES-256-CBC) when
 * password is neither NULL nor empty; release it with kl_buf_free_secret. */
KL_MUST_CHECK kl_rc kl_certgen_key_pem(kl_buf *out, EVP_PKEY *key, const char *password);
KL_MUST_CHECK kl_rc kl_certgen_pub_pem(kl_buf *out, EVP_PKEY *key);
KL_MUST_CHECK kl_rc kl_certgen_cert_pem(kl_buf *out, X509 *x);

/* Loaders; errors name the path. A key that needs a password it was not
 * given, or that does not decrypt with it, is KL_EPERM. A missing file is
 * KL_ENOTFOUND. */
KL_MUST_CHECK kl_rc kl_certgen_load_cert(X509 **out, const char *path);
KL_MUST_CHECK kl_rc kl_certgen_load_key(EVP_PKEY **out, const char *path, const char *password);

/* Writes data to path atomically (temporary file + rename), mode 0600 when
 * secret, else 0644. */
KL_MUST_CHECK kl_rc kl_certgen_write(const char *path, kl_bytes data, bool secret);

/* "<dir>/<name><suffix>" (caller frees with kl_free). */
KL_MUST_CHECK kl_rc kl_certgen_path(char **out, const char *dir, const char *name,
                                    const char *suffix);

/* Makes dir (mode 0700) unless it exists; errors name it. */
KL_MUST_CHECK kl_rc kl_certgen_mkdir(const char *dir);

/* The subject in RFC 4514 form (Python cryptography's rfc4514_string()). */
KL_MUST_CHECK kl_rc kl_certgen_subject(const X509 *x, char *buf, size_t n);

/* The serial as an integer; KL_EUNSUPPORTED beyond 64 bits. */
KL_MUST_CHECK kl_rc kl_certgen_serial(const X509 *x, uint64_t *out);

#endif
