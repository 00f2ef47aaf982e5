/* pubkey: public keys for IMA signatures and DSSE policies.
 *
 * Keys are immutable once loaded and reference-counted, so keyrings can
 * share them. Only RSA and EC keys are accepted, as upstream does.
 */
#ifndef KL_PUBKEY_H
#define KL_PUBKEY_H

#include "crypto/hash.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

#include <stdbool.h>
#include <stdint.h>

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
KL_MUST_CHECK kl_rc kl_pubkey_verify_digest(const kl_pubkey *k, kl_hash_alg alg, kl_bytes digest,
                                            kl_bytes sig, bool *ok);

/* Verifies a DER ECDSA signature with SHA-256 over msg (DSSE). *ok is false
 * for a bad signature or a key that is not EC. */
KL_MUST_CHECK kl_rc kl_pubkey_verify_ecdsa_sha256(const kl_pubkey *k, kl_bytes msg, kl_bytes sig,
                                                  bool *ok);

/* --- Keys from raw parameters (TPM2B_PUBLIC), TPM signature schemes,
 * and the public-key half of MakeCredential. --- */

/* The curves of TPM ECC keys this project accepts. */
typedef enum { KL_EC_P256 = 0, KL_EC_P384, KL_EC_P521, KL_EC_COUNT } kl_ec_curve;

/* Field size in bytes (32, 48, 66); 0 for an unknown curve. */
size_t kl_ec_curve_size(kl_ec_curve c);
/* "P-256", "P-384", "P-521". */
const char *kl_ec_curve_name(kl_ec_curve c);

/* An RSA key from its big-endian modulus (leading zero bytes allowed) and
 * public exponent. KL_EINVAL (with the reason) for an empty or even
 * modulus, or an exponent that is even or below 3. Caller frees. */
KL_MUST_CHECK kl_rc kl_pubkey_from_rsa(kl_pubkey **out, kl_bytes n, uint64_t e);

/* An EC key from big-endian affine coordinates of at most the field size
 * (shorter ones are left-padded). KL_EINVAL (with the reason) when a
 * coordinate is too long or not below the field prime, or the point is
 * not on the curve. Caller frees. */
KL_MUST_CHECK kl_rc kl_pubkey_from_ec(kl_pubkey **out, kl_ec_curve curve, kl_bytes x, kl_bytes y);

/* Whether a and b are the same key. */
bool kl_pubkey_eq(const kl_pubkey *a, const kl_pubkey *b);

/* The curve of an EC key; false for RSA keys and other curves. */
bool kl_pubkey_ec_curve(const kl_pubkey *k, kl_ec_curve *out);

/* Appends the big-endian modulus (no leading zeros) and sets *e; KL_EINVAL
 * for a key that is not RSA. */
KL_MUST_CHECK kl_rc kl_pubkey_rsa_params(const kl_pubkey *k, kl_buf *n, uint64_t *e);

/* The affine coordinates, each left-padded to the field size
 * (kl_ec_curve_size bytes written to x and y); KL_EINVAL for a key that is
 * not on one of the curves above. */
KL_MUST_CHECK kl_rc kl_pubkey_ec_params(const kl_pubkey *k, kl_ec_curve *curve, uint8_t *x,
                                        uint8_t *y);

/* RSASSA-PSS (MGF1 with alg, any salt length) over a digest of alg. *ok as
 * for kl_pubkey_verify_digest; false for EC keys. */
KL_MUST_CHECK kl_rc kl_pubkey_verify_rsapss_digest(const kl_pubkey *k, kl_hash_alg alg,
                                                   kl_bytes digest, kl_bytes sig, bool *ok);

/* ECDSA over a digest of alg, the signature given as the big-endian
 * integers r and s (as a TPM returns them). *ok is false for a bad
 * signature, an empty or oversized r or s, or a key that is not EC. */
KL_MUST_CHECK kl_rc kl_pubkey_verify_ecdsa_rs(const kl_pubkey *k, kl_hash_alg alg, kl_bytes digest,
                                              kl_bytes r, kl_bytes s, bool *ok);

/* RSA-OAEP encryption of in with hash alg for OAEP and MGF1 and the given
 * label (its bytes exactly, e.g. "IDENTITY" and its NUL); appends the
 * ciphertext (the modulus size) to out. KL_EINVAL for an EC key or an input
 * too long for the key. */
KL_MUST_CHECK kl_rc kl_pubkey_rsa_oaep_encrypt(const kl_pubkey *k, kl_hash_alg alg, kl_bytes label,
                                               kl_bytes in, kl_buf *out);

/* ECDH against k with a fresh ephemeral key on k's curve: writes the
 * shared x coordinate Z and the ephemeral public point (x, y), each
 * kl_ec_curve_size bytes. Test hook: a non-empty `scalar` (big endian,
 * 1 <= d < order) is used as the ephemeral private key instead of a random
 * one, so that outputs are reproducible. KL_EINVAL for a key that is not
 * EC or a bad scalar. */
KL_MUST_CHECK kl_rc kl_pubkey_ecdh_ephemeral(const kl_pubkey *k, kl_bytes scalar, uint8_t *z,
                                             uint8_t *qx, uint8_t *qy);

#endif
