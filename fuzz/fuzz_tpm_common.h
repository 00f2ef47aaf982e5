/* fuzz_tpm_common: what the TPM fuzz targets share (header only). */
#ifndef KL_FUZZ_TPM_COMMON_H
#define KL_FUZZ_TPM_COMMON_H

#include "fuzz_util.h"

#include <stdlib.h>

/* tss2-mu logs malformed structures at error level on stderr; the fuzzers
 * feed it nothing else. */
static inline void
fuzz_tpm_quiet(void)
{
    if (!getenv("TSS2_LOG"))
        setenv("TSS2_LOG", "all+none", 1);
    fuzz_quiet_logs();
}

/* Whether bit `bit` of the input's hash is set (varies what a run does). */
static inline bool
fuzz_bit(const uint8_t *data, size_t size, unsigned bit)
{
    return fuzz_hash(data, size) >> bit & 1;
}

#endif
