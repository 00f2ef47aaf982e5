/* pubkey: public keys for IMA signatures and DSSE policies.
 *
 * Keys are immutable once loaded and reference-counted, so keyrings can
 * share them. Only RSA and EC keys are accepted, as upstream does.
 */
#ifndef KL_PUBKEY_H
#define KL_PUBKEY_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/hash.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

typedef struct kl_pubkey kl_pubkey;

/* Loads a public key from any of the forms upstream's get_pubkey tries, in
 * its order: DER x509 certificate, PEM certificate, DER SubjectPublicKeyInfo,
 * PEM public key, DER private key, PEM private key (never prompting for a
 * passphrase). When a certificate has a Subject Key Identifier of at least 4
 * bytes, *keyid receives its last 4 bytes and *has_keyid is true.
 * Returns KL_ENOTFOUND when data holds no key, KL_EUNSUPPORTED for a key
 * that is neither RSA nor EC. Caller frees with kl_pubkey_free. */
KL_MUST_CHECK kl_rc kl_pubkey_load_any(kl_pubkey **out, kl_bytes data, uint32_t *keyid,
                                       bool *has_keyid);

/* Loads a PEM public key, or the key of a PEM certificate. */
KL_MUST_CHECK kl_rc kl_pubkey_load_pem(kl_pubkey **out, kl_bytes pem);

/* Another reference to the same key. */
kl_pubkey *kl_pubkey_ref(kl_pubkey *k);
void kl_pubkey_free(kl_pubkey *k);

bool kl_pubkey_is_ec(const kl_pubkey *k);

/* The IMA v2 key id: last 4 bytes (big endian) of SHA-1 over the PKCS#1
 * RSAPublicKey DER (RSA) or the uncompressed point (EC). */
KL_MUST_CHECK kl_rc kl_pubkey_ima_keyid(const kl_pubkey *k, uint32_t *out);

/* Appends the DER SubjectPublicKeyInfo. */
KL_MUST_CHECK kl_rc kl_pubkey_spki_der(const kl_pubkey *k, kl_buf *out);
/* Appends the PEM SubjectPublicKeyInfo (as Python's cryptography writes it). */
KL_MUST_CHECK kl_rc kl_pubkey_spki_pem(const kl_pubkey *k, kl_buf *out);

/* Verifies sig over an already computed digest of algorithm alg: RSA
 * PKCS#1 v1.5 (DigestInfo of alg) or DER ECDSA. *ok is false for a bad
 * signature or a digest of the wrong length; errors only for OpenSSL
 * failures. */
KL_MUST_CHECK kl_rc kl_pubkey_verify_digest(const kl_pubkey *k, kl_hash_alg alg,
                                            kl_bytes digest, kl_bytes sig, bool *ok);

/* Verifies a DER ECDSA signature with SHA-256 over msg (DSSE). *ok is false
 * for a bad signature or a key that is not EC. */
KL_MUST_CHECK kl_rc kl_pubkey_verify_ecdsa_sha256(const kl_pubkey *k, kl_bytes msg, kl_bytes sig,
                                                  bool *ok);

#endif
