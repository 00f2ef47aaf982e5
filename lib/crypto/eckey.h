/* eckey: an EC private key for signing runtime policies (DSSE).
 *
 * Upstream's policy signer accepts only elliptic-curve keys, generates
 * P-256 keys when none is given, writes them as unencrypted "EC PRIVATE
 * KEY" PEM and, for its x509 backend, wraps the key in a self-signed
 * certificate. This module does the same with OpenSSL.
 */
#ifndef KL_ECKEY_H
#define KL_ECKEY_H

#include "util/kl_buf.h"
#include "util/kl_err.h"

typedef struct kl_eckey kl_eckey;

/* Loads an unencrypted PEM private key. KL_EUNSUPPORTED naming the key
 * type when it is not an EC key (e.g. RSA), KL_EINVAL for an encrypted key,
 * KL_EPARSE when there is no PEM private key. Caller frees. */
KL_MUST_CHECK kl_rc kl_eckey_load_pem(kl_eckey **out, kl_bytes pem);

/* A new P-256 (secp256r1) key. Caller frees. */
KL_MUST_CHECK kl_rc kl_eckey_generate(kl_eckey **out);

void kl_eckey_free(kl_eckey *k);

/* Appends the private key as traditional "EC PRIVATE KEY" PEM (secret:
 * release the buffer with kl_buf_free_secret). */
KL_MUST_CHECK kl_rc kl_eckey_private_pem(const kl_eckey *k, kl_buf *out);

/* Appends the public key as SubjectPublicKeyInfo PEM (uncompressed point),
 * byte for byte what python-cryptography writes. */
KL_MUST_CHECK kl_rc kl_eckey_public_pem(const kl_eckey *k, kl_buf *out);

/* Appends the DER ECDSA signature of msg with SHA-256. */
KL_MUST_CHECK kl_rc kl_eckey_sign_sha256(const kl_eckey *k, kl_bytes msg, kl_buf *out);

/* Appends the PEM of a self-signed certificate for the key, as upstream's
 * dsse x509 signer builds it: v3, random 159-bit serial, subject and issuer
 * CN=<name>, valid from one day before now to `days` days after (upstream
 * takes local wall-clock time as UTC, and so does this), extensions
 * subjectAltName DNS:<name> and critical basicConstraints CA:FALSE,
 * ecdsa-with-SHA256. */
KL_MUST_CHECK kl_rc kl_eckey_self_signed_cert(const kl_eckey *k, const char *name, int days,
                                              kl_buf *out);

#endif
