/* tpm_public: TPM2B_PUBLIC keys (EK, AK) as the registrar stores them.
 *
 * Unmarshalled with tss2-mu; the key becomes an OpenSSL key (RSA of any
 * size and exponent, 0 meaning 65537; ECC P-256/384/521) and the object's
 * name is nameAlg || H_nameAlg(TPMT_PUBLIC). Parsed once, then read-only.
 */
#ifndef KL_TPM_PUBLIC_H
#define KL_TPM_PUBLIC_H

#include "crypto/pubkey.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

#include <stdbool.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

typedef struct kl_tpm_public kl_tpm_public;

/* Parses a marshalled TPM2B_PUBLIC (with its u16 size). KL_EPARSE or
 * KL_EUNSUPPORTED with the reason. Caller frees. */
KL_MUST_CHECK kl_rc kl_tpm_public_parse(kl_tpm_public **out, kl_bytes tpm2b_public);
void kl_tpm_public_free(kl_tpm_public *p);

/* The key (borrowed for the object's lifetime). */
const kl_pubkey *kl_tpm_public_key(const kl_tpm_public *p);
/* TPM_ALG_RSA (0x0001) or TPM_ALG_ECC (0x0023). */
uint16_t kl_tpm_public_type(const kl_tpm_public *p);
/* The object name (nameAlg || digest), borrowed. */
kl_bytes kl_tpm_public_name(const kl_tpm_public *p);
/* The marshalled TPM2B_PUBLIC as given, borrowed. */
kl_bytes kl_tpm_public_bytes(const kl_tpm_public *p);

/* The unmarshalled TPMT_PUBLIC (attributes, nameAlg, scheme, symmetric
 * parameters...), borrowed. */
const TPMT_PUBLIC *kl_tpm_public_tpmt(const kl_tpm_public *p);

/* Appends the marshalled TPM2B_PUBLIC of key under template tmpl: type,
 * nameAlg, attributes, authPolicy and parameters come from tmpl; the key
 * fills unique (RSA: keyBits and the modulus, exponent 0 for 65537; ECC:
 * curveID and x, y padded to the field size). What a TPM would report for
 * such an object (tests, and tools that describe a key to the registrar).
 * KL_EINVAL when the key does not fit tmpl's type. */
KL_MUST_CHECK kl_rc kl_tpm_public_marshal(kl_buf *out, const TPMT_PUBLIC *tmpl,
                                          const kl_pubkey *key);

#endif
