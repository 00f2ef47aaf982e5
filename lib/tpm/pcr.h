/* pcr: a set of PCR values of one bank, and the tpm2-tools PCR blob.
 *
 * The blob is what `tpm2_quote -o` writes and what agents send as the
 * third part of a quote: the little-endian in-memory image of a
 * TPML_PCR_SELECTION (u32 count, 16 slots of {u16 hash, u8 sizeofSelect,
 * u8 pcrSelect[4], u8 pad}), a u32 count N, then N TPML_DIGEST records of
 * 532 bytes (u32 count, 8 x {u16 size, u8 buffer[64]}); 136 + 532 N bytes.
 * Values follow the selection bitmaps in bank order, ascending PCR order.
 */
#ifndef KL_PCR_H
#define KL_PCR_H

#include "crypto/hash.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

#include <stdbool.h>
#include <stdint.h>

#define KL_PCR_COUNT 24

typedef struct {
    kl_hash_alg bank;
    uint32_t present; /* bit n: PCR n is in the set */
    uint8_t value[KL_PCR_COUNT][KL_HASH_MAX_SIZE];
} kl_pcr_set;

static inline bool
kl_pcr_set_has(const kl_pcr_set *s, unsigned pcr)
{
    return pcr < KL_PCR_COUNT && (s->present >> pcr & 1);
}

/* The selection of one bank inside a blob or a TPMS_ATTEST. */
typedef struct {
    uint16_t tpm_alg; /* TPM_ALG_ID */
    uint32_t mask;    /* PCRs 0..23 */
} kl_pcr_bank_select;

typedef struct {
    size_t count;
    kl_pcr_bank_select banks[16];
} kl_pcr_selection;

/* Parses a blob: its selection and, for the bank whose TPM_ALG_ID is
 * tpm_alg, the values (*out). Other banks' values are skipped. KL_EPARSE
 * (with the reason) unless the blob is well formed and consumed exactly. */
KL_MUST_CHECK kl_rc kl_pcrblob_parse(kl_bytes blob, uint16_t tpm_alg, kl_pcr_selection *sel,
                                     kl_pcr_set *out);

/* kl_pcrblob_parse, and also the digest with alg of every value of every
 * bank, in selection order (banks as listed, PCRs ascending): what
 * TPM2_Quote puts in pcrDigest. digest receives kl_hash_size(alg) bytes. h
 * is a hasher to use, or NULL to make one. */
KL_MUST_CHECK kl_rc kl_pcrblob_parse_digest(kl_bytes blob, uint16_t tpm_alg, kl_pcr_selection *sel,
                                            kl_pcr_set *out, kl_hash_alg alg, kl_hasher *h,
                                            uint8_t *digest);

/* Whether two selections select the same PCRs: the same banks in the same
 * order, each with the same PCRs. */
bool kl_pcr_selection_eq(const kl_pcr_selection *a, const kl_pcr_selection *b);

/* Digest size of a PCR bank's algorithm (sha1/256/384/512, sm3_256,
 * sha3_256/384/512), 0 when unknown. */
size_t kl_tpm_alg_digest_size(uint16_t tpm_alg);

/* Appends the blob of one bank's values (the agent side). */
KL_MUST_CHECK kl_rc kl_pcrblob_build(kl_buf *out, uint16_t tpm_alg, const kl_pcr_set *values);

/* TPM_ALG_ID of a hash, and back (sha1/256/384/512 only). */
bool kl_tpm_alg_of_hash(kl_hash_alg h, uint16_t *tpm_alg);
bool kl_tpm_hash_of_alg(uint16_t tpm_alg, kl_hash_alg *h);

#endif
