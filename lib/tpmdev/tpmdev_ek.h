/* tpmdev_ek: the endorsement key and its certificates in NV.
 *
 * The EK is either created from the TCG default templates (EK Credential
 * Profile, low range, as tss-esapi create_ek_object and tpm2_createek do:
 * nameAlg SHA-256, policy A, AES-128-CFB, restricted decryption key,
 * unique field zero-filled), which gives the same key on every call, or a
 * persistent object opened with kl_tpmdev_key_persistent.
 */
#ifndef KL_TPMDEV_EK_H
#define KL_TPMDEV_EK_H

#include <stdint.h>

#include "tpmdev/tpmdev.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

typedef enum {
    KL_TPMDEV_EK_RSA2048 = 0, /* template L-1; certificate at NV 0x01c00002 */
    KL_TPMDEV_EK_ECC_P256,    /* template L-2; certificate at NV 0x01c0000a */
} kl_tpmdev_ek_type;

#define KL_TPMDEV_NV_EK_CERT_RSA 0x01c00002u
#define KL_TPMDEV_NV_EK_CERT_ECC 0x01c0000au
#define KL_TPMDEV_NV_EK_CHAIN_FIRST 0x01c00100u
#define KL_TPMDEV_NV_EK_CHAIN_LAST 0x01c001ffu

/* Parses the agent's tpm_encryption_alg: "rsa", "rsa2048", "ecc",
 * "ecc256"; false for anything else. */
bool kl_tpmdev_ek_type_from_name(const char *name, kl_tpmdev_ek_type *out);

/* Creates the default EK in the endorsement hierarchy (TPM2_CreatePrimary).
 * The key is transient: the caller frees it (which flushes it). */
KL_MUST_CHECK kl_rc kl_tpmdev_ek_create(kl_tpmdev_key **out, kl_tpmdev *t, kl_tpmdev_ek_type type);

/* Reads an NV index whole (TPM2_NV_Read in chunks, with the index's own
 * empty auth, or owner auth when the index only allows that) and appends
 * it to out (nothing on failure). KL_ENOTFOUND when the index is not
 * defined. */
KL_MUST_CHECK kl_rc kl_tpmdev_nv_read(kl_buf *out, kl_tpmdev *t, uint32_t index);

/* Appends the EK certificate of the type's NV index to out, trimmed to its
 * DER length (some TPMs pad the index). KL_ENOTFOUND when there is none. */
KL_MUST_CHECK kl_rc kl_tpmdev_ek_cert(kl_buf *out, kl_tpmdev *t, kl_tpmdev_ek_type type);

/* Appends the EK CA chain: the NV indices 0x01c00100-0x01c001ff that exist,
 * in order, concatenated (DER certificates back to back, as rust-keylime
 * sends them). Appends nothing when there are none. */
KL_MUST_CHECK kl_rc kl_tpmdev_ek_chain(kl_buf *out, kl_tpmdev *t);

#endif
