/* kdf: HMAC and the TPM 2.0 key derivation functions (TPM 2.0 Part 1,
 * section 11.4.10), as MakeCredential and ActivateCredential use them.
 *
 * Labels are C strings; both KDFs hash the label with its terminating NUL,
 * as the TPM does. Outputs are whole bytes: bits must be a multiple of 8.
 */
#ifndef KL_KDF_H
#define KL_KDF_H

#include "crypto/hash.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

#include <stddef.h>
#include <stdint.h>

/* HMAC of msg with key; writes kl_hash_size(alg) bytes. */
KL_MUST_CHECK kl_rc kl_hmac(kl_hash_alg alg, kl_bytes key, kl_bytes msg, uint8_t *out);

/* HMAC of a || b. */
KL_MUST_CHECK kl_rc kl_hmac2(kl_hash_alg alg, kl_bytes key, kl_bytes a, kl_bytes b, uint8_t *out);

/* KDFa (NIST SP 800-108 counter mode with HMAC): the concatenation of
 * HMAC(key, i_be32 || label || 0x00 || context_u || context_v || bits_be32)
 * for i = 1, 2, ..., cut to bits/8 bytes written to out. KL_EINVAL when
 * bits is 0, not a multiple of 8 or above 2^16. */
KL_MUST_CHECK kl_rc kl_kdfa(kl_hash_alg alg, kl_bytes key, const char *label, kl_bytes context_u,
                            kl_bytes context_v, size_t bits, uint8_t *out);

/* KDFe (NIST SP 800-56A concatenation KDF): the concatenation of
 * H(i_be32 || z || label || 0x00 || party_u || party_v) for i = 1, 2, ...,
 * cut to bits/8 bytes. Same limits as kl_kdfa. */
KL_MUST_CHECK kl_rc kl_kdfe(kl_hash_alg alg, kl_bytes z, const char *label, kl_bytes party_u,
                            kl_bytes party_v, size_t bits, uint8_t *out);

#endif
