/* tpmdev_pcr: reading, extending and resetting PCRs.
 *
 * Banks are named by kl_hash_alg (sha1, sha256, sha384, sha512, sm3_256);
 * masks have bit n set for PCR n (0-23).
 */
#ifndef KL_TPMDEV_PCR_H
#define KL_TPMDEV_PCR_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/hash.h"
#include "tpm/pcr.h"
#include "tpmdev/tpmdev.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

/* One bank's digest for an extend. */
typedef struct {
    kl_hash_alg bank;
    uint8_t digest[KL_HASH_MAX_SIZE]; /* kl_hash_size(bank) bytes used */
} kl_tpmdev_digest;

/* The active banks (at least one PCR allocated) as a set of bits
 * (1u << kl_hash_alg), from TPM2_GetCapability(PCRS). Banks of hashes the
 * project does not know are left out. */
KL_MUST_CHECK kl_rc kl_tpmdev_pcr_banks(kl_tpmdev *t, uint32_t *banks_out);

/* Reads the PCRs of mask in one bank (several TPM2_PCR_Read commands when
 * more than eight are asked for) into *out (out->present = mask). */
KL_MUST_CHECK kl_rc kl_tpmdev_pcr_read(kl_pcr_set *out, kl_tpmdev *t, kl_hash_alg bank,
                                       uint32_t mask);

/* Extends one PCR in each of the n given banks with one TPM2_PCR_Extend
 * (so the banks never disagree about how far they got). */
KL_MUST_CHECK kl_rc kl_tpmdev_pcr_extend(kl_tpmdev *t, unsigned pcr,
                                         const kl_tpmdev_digest *digests, size_t n);

/* TPM2_PCR_Reset (locality 0 may reset PCR 16 and 23 only). */
KL_MUST_CHECK kl_rc kl_tpmdev_pcr_reset(kl_tpmdev *t, unsigned pcr);

/* The agent's data binding (PROTOCOL.md 4.2): resets pcr, then extends it
 * in bank only with H_bank(data), so that it ends as
 * H_bank(0^n || H_bank(data)). */
KL_MUST_CHECK kl_rc kl_tpmdev_pcr_bind(kl_tpmdev *t, unsigned pcr, kl_hash_alg bank, kl_bytes data);

#endif
