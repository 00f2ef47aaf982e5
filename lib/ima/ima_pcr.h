/* ima_pcr: PCR arithmetic for IMA: extend and boot_aggregate. */
#ifndef KL_IMA_PCR_H
#define KL_IMA_PCR_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/hash.h"
#include "util/kl_err.h"

/* pcr = H(pcr || digest), both kl_hash_size(bank) bytes. */
KL_MUST_CHECK kl_rc kl_ima_pcr_extend(kl_hasher *h, kl_hash_alg bank, uint8_t *pcr,
                                      const uint8_t *digest);

/* The kernel's boot_aggregate over PCR 0..n-1 of one bank: H(PCR0 || ...),
 * n = 8 for the sha1 bank, 10 for others on kernels >= 5.8. pcrs holds n
 * values of kl_hash_size(bank) bytes back to back. */
KL_MUST_CHECK kl_rc kl_ima_boot_aggregate(kl_hash_alg bank, const uint8_t *pcrs, size_t n,
                                          uint8_t *out);

#endif
