/* fuzz_util: helpers shared by the fuzz targets (header only).
 *
 * FUZZ_CHECK aborts with a message when an invariant does not hold, so that
 * libFuzzer and the replay tests report it like a crash.
 */
#ifndef KL_FUZZ_UTIL_H
#define KL_FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/kl_alloc.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"
#include "util/kl_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s (last error: %s)\n", __FILE__, __LINE__, \
                    #cond, kl_err_msg());                                                          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Logs at error level only, unless KEYLIME_LOG asks for more. */
static inline void
fuzz_quiet_logs(void)
{
    if (!getenv("KEYLIME_LOG"))
        setenv("KEYLIME_LOG", "error", 1);
    kl_log_reset();
}

/* Whether view v lies inside [base, base + len). An empty view may point
 * anywhere (or be NULL). */
static inline bool
fuzz_within(kl_bytes v, const void *base, size_t len)
{
    uintptr_t p = (uintptr_t)v.ptr, b = (uintptr_t)base;

    if (v.len == 0)
        return true;
    return v.ptr && base && p >= b && v.len <= len && p - b <= len - v.len;
}

/* Inside the input or inside a scratch buffer. */
static inline bool
fuzz_within2(kl_bytes v, const uint8_t *data, size_t size, const kl_buf *scratch)
{
    return fuzz_within(v, data, size) || fuzz_within(v, scratch->ptr, scratch->len);
}

/* The input as a view; an empty one is {NULL, 0}, as empty views often are
 * in the project (KL_BYTES(NULL, 0)), so parsers are fuzzed with those too. */
static inline kl_bytes
fuzz_input(const uint8_t *data, size_t size)
{
    return KL_BYTES(size ? data : NULL, size);
}

/* A cheap hash of the input, to vary what a run does deterministically. */
static inline uint32_t
fuzz_hash(const uint8_t *data, size_t size)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 16777619u;
    /* FNV's low bits are weak (bit 0 is the parity of the bytes' bit 0);
     * mix them (murmur3's finaliser) since callers use h % n and h & bit */
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

/* Touches every byte of the error message (sanitizers check its bounds). */
static inline void
fuzz_touch_error(void)
{
    FUZZ_CHECK(strlen(kl_err_msg()) < 4096);
}

static inline bool
fuzz_has_byte(kl_bytes v, uint8_t c)
{
    return v.len && memchr(v.ptr, c, v.len) != NULL;
}

#endif
