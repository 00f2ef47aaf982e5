/* privkey: RSA and EC private keys for the software side of TPM protocols.
 *
 * What a TPM does with its keys, done in software: signing a digest the way
 * TPM2_Sign/TPM2_Quote do (tests and benchmarks build real quotes with it),
 * and the private halves of MakeCredential (RSA-OAEP decryption, ECDH), so
 * a credential blob can be activated without a TPM (tests, and checking
 * what tpm2_makecredential produces). Keys are immutable once made.
 */
#ifndef KL_PRIVKEY_H
#define KL_PRIVKEY_H

#include "crypto/hash.h"
#include "crypto/pubkey.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct kl_privkey kl_privkey;

/* TPM signature schemes, and RSA-PSS with the longest salt the key allows
 * (what Python's PSS.MAX_LENGTH signs: Keylime's revocation messages). */
typedef enum {
    KL_SIG_RSASSA = 0,
    KL_SIG_RSAPSS,
    KL_SIG_ECDSA,
    KL_SIG_RSAPSS_MAXSALT
} kl_sig_scheme;

/* Loads an unencrypted PEM private key (RSA or EC). KL_EPARSE when there is
 * none, KL_EUNSUPPORTED for other key types. Caller frees. */
KL_MUST_CHECK kl_rc kl_privkey_load_pem(kl_privkey **out, kl_bytes pem);

/* A new RSA key of `bits` bits (exponent 65537). Caller frees. */
KL_MUST_CHECK kl_rc kl_privkey_generate_rsa(kl_privkey **out, unsigned bits);
/* A new EC key on curve c. Caller frees. */
KL_MUST_CHECK kl_rc kl_privkey_generate_ec(kl_privkey **out, kl_ec_curve c);

void kl_privkey_free(kl_privkey *k);

/* The public key (a new reference; caller frees with kl_pubkey_free). */
KL_MUST_CHECK kl_rc kl_privkey_public(const kl_privkey *k, kl_pubkey **out);

/* Appends the PEM (PKCS#8, unencrypted) of the private key. Secret:
 * release out with kl_buf_free_secret. */
KL_MUST_CHECK kl_rc kl_privkey_pem(const kl_privkey *k, kl_buf *out);

/* Signs a digest of alg and appends the signature: PKCS#1 v1.5 (RSASSA) or
 * PSS with a salt as long as the digest (RSAPSS, what TPMs use) or as long
 * as the key allows (RSAPSS_MAXSALT), each the modulus size; for ECDSA, r || s, each left-padded to the field size.
 * KL_EINVAL when the scheme does not fit the key. */
KL_MUST_CHECK kl_rc kl_privkey_sign_digest(const kl_privkey *k, kl_sig_scheme scheme,
                                           kl_hash_alg alg, kl_bytes digest, kl_buf *out);

/* RSA-OAEP decryption (hash alg for OAEP and MGF1, the label's bytes
 * exactly); appends the plaintext. KL_EVERIFY when the ciphertext does not
 * decrypt. Secret: release out with kl_buf_free_secret. */
KL_MUST_CHECK kl_rc kl_privkey_rsa_oaep_decrypt(const kl_privkey *k, kl_hash_alg alg,
                                                kl_bytes label, kl_bytes in, kl_buf *out);

/* ECDH with the peer point (x, y) (big endian, at most the field size):
 * writes the shared x coordinate, kl_ec_curve_size bytes. KL_EINVAL when
 * the key is not EC or the point is not on its curve. */
KL_MUST_CHECK kl_rc kl_privkey_ecdh(const kl_privkey *k, kl_bytes x, kl_bytes y, uint8_t *z);

#endif
