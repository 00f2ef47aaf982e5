/* tpmdev_ak: the attestation key, a restricted signing key under the EK.
 *
 * Created as rust-keylime (tss-esapi create_ak) and tpm2_createak do:
 * attributes fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|
 * restricted|sign (0x00050072), empty auth, the hash algorithm as both the
 * signing scheme's hash and the nameAlg, RSA-2048 (exponent 65537) or an
 * ECC key on P-256/P-384. The AK is kept as its public and private blobs
 * (marshalled TPM2B_PUBLIC and TPM2B_PRIVATE, each with its u16 size) and
 * loaded again under the same EK when needed.
 */
#ifndef KL_TPMDEV_AK_H
#define KL_TPMDEV_AK_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/hash.h"
#include "tpmdev/tpmdev.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

typedef struct {
    uint16_t key_type; /* TPM2_ALG_RSA (0x0001) or TPM2_ALG_ECC (0x0023) */
    uint16_t curve;    /* ECC: TPM2_ECC_NIST_P256 (0x0003) or P384 (0x0004) */
    uint16_t scheme;   /* TPM2_ALG_RSASSA, TPM2_ALG_RSAPSS or TPM2_ALG_ECDSA */
    kl_hash_alg hash;  /* sha1, sha256, sha384 or sha512 */
} kl_tpmdev_ak_opts;

/* RSA-2048, RSASSA, SHA-256: the agent's defaults. */
#define KL_TPMDEV_AK_OPTS_INIT                                                                     \
    {                                                                                              \
        0x0001, 0x0003, 0x0014, KL_HASH_SHA256                                                     \
    }

/* Sets o from the agent's configuration names: enc "rsa"/"rsa2048"/"ecc"/
 * "ecc256"/"ecc384", sign "rsassa"/"rsapss"/"ecdsa", hash "sha1"/"sha256"/
 * "sha384"/"sha512". KL_EINVAL naming the bad value or combination. */
KL_MUST_CHECK kl_rc kl_tpmdev_ak_opts_set(kl_tpmdev_ak_opts *o, const char *enc, const char *sign,
                                          const char *hash);

/* Creates an AK under ek (TPM2_Create in a policy session satisfying the
 * EK's policy) and appends its blobs to pub_out and priv_out. Nothing is
 * left loaded. */
KL_MUST_CHECK kl_rc kl_tpmdev_ak_create(kl_buf *pub_out, kl_buf *priv_out, kl_tpmdev *t,
                                        const kl_tpmdev_key *ek, const kl_tpmdev_ak_opts *o);

/* Loads an AK from its blobs under ek (TPM2_Load). KL_EPARSE for malformed
 * blobs; KL_EIO when the TPM refuses them (e.g. another EK). Caller frees. */
KL_MUST_CHECK kl_rc kl_tpmdev_ak_load(kl_tpmdev_key **out, kl_tpmdev *t, const kl_tpmdev_key *ek,
                                      kl_bytes pub, kl_bytes priv);

/* The signing scheme and its hash of a loaded key (from its public area):
 * TPM_ALG_IDs, e.g. 0x0014 and 0x000b. false for a key with no scheme. */
bool kl_tpmdev_key_scheme(const kl_tpmdev_key *k, uint16_t *scheme, uint16_t *hash);

#endif
