#include "ima/ima_pcr.h"

kl_rc
kl_ima_pcr_extend(kl_hasher *h, kl_hash_alg bank, uint8_t *pcr, const uint8_t *digest)
{
    size_t n = kl_hash_size(bank);

    return kl_hasher_digest2(h, bank, pcr, n, digest, n, pcr);
}

kl_rc
kl_ima_boot_aggregate(kl_hash_alg bank, const uint8_t *pcrs, size_t n, uint8_t *out)
{
    return kl_hash(bank, pcrs, n * kl_hash_size(bank), out);
}
