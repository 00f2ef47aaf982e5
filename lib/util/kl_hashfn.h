/* kl_hashfn: a fast non-cryptographic 64-bit hash for in-memory tables. */
#ifndef KL_HASHFN_H
#define KL_HASHFN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t
kl_hashfn_mix(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;

    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t
kl_hashfn_read(const uint8_t *p, size_t n)
{
    uint64_t v = 0;

    if (n) /* an empty view may be NULL, and memcpy from NULL is undefined */
        memcpy(&v, p, n < 8 ? n : 8);
    return v;
}

/* Hash of n bytes at p. */
static inline uint64_t
kl_hashfn(const void *data, size_t n)
{
    const uint64_t k0 = 0xa0761d6478bd642fULL, k1 = 0xe7037ed1a0b428dbULL,
                   k2 = 0x8ebc6af09c88c6e3ULL;
    const uint8_t *p = data;
    uint64_t h = kl_hashfn_mix(n ^ k0, k1);

    while (n > 16) {
        h = kl_hashfn_mix(kl_hashfn_read(p, 8) ^ k1, kl_hashfn_read(p + 8, 8) ^ h);
        p += 16;
        n -= 16;
    }
    return kl_hashfn_mix(kl_hashfn_read(p, n) ^ k2 ^ h,
                         (n > 8 ? kl_hashfn_read(p + 8, n - 8) : 0) ^ k0);
}

#endif
