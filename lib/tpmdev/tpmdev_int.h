/* tpmdev_int: what the tpmdev files share (not for callers).
 *
 * The context holds the ESAPI and TCTI contexts; a key holds its ESYS_TR,
 * whether it is persistent (closed, never flushed) and its public area.
 * Every TPM failure is recorded once with kl_tpmdev__fail, which names the
 * command and decodes the response code with Tss2_RC_Decode.
 */
#ifndef KL_TPMDEV_INT_H
#define KL_TPMDEV_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <tss2/tss2_esys.h>

#include "tpmdev/tpmdev.h"
#include "util/kl_err.h"

struct kl_tpmdev {
    TSS2_TCTI_CONTEXT *tcti;
    ESYS_CONTEXT *esys;
};

struct kl_tpmdev_key {
    kl_tpmdev *t;
    ESYS_TR handle;
    bool persistent;
    TPM2B_PUBLIC pub;
    uint8_t pub_bytes[sizeof(TPM2B_PUBLIC)]; /* marshalled TPM2B_PUBLIC */
    size_t pub_len;
};

/* Records "<cmd>: <decoded rc> (0x...)" and returns KL_EIO. */
kl_rc kl_tpmdev__fail(TSS2_RC rc, const char *cmd);

/* Wraps a loaded object: *out owns handle (flushed or closed on free, also
 * when this fails). pub is the object's public area. */
KL_MUST_CHECK kl_rc kl_tpmdev__key_new(kl_tpmdev_key **out, kl_tpmdev *t, ESYS_TR handle,
                                       bool persistent, const TPM2B_PUBLIC *pub);

/* Starts a policy session that satisfies the EK's policy (PolicySecret with
 * the endorsement hierarchy, and PolicyOR for the high-range templates).
 * The caller flushes *session_out with kl_tpmdev__flush. */
KL_MUST_CHECK kl_rc kl_tpmdev__ek_session(kl_tpmdev *t, const kl_tpmdev_key *ek,
                                          ESYS_TR *session_out);

/* Flushes a transient object or session, ignoring failures (cleanup). */
void kl_tpmdev__flush(kl_tpmdev *t, ESYS_TR handle);

#endif
