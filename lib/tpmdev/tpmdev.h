/* tpmdev: the one place that talks to a TPM (ESAPI through tss2-tctildr).
 *
 * Only the agent, the IMA emulator and the TPM tests link this library
 * (libkeylime_tpmdev); the verifier and registrar never do. A kl_tpmdev is
 * one connection; it is not thread-safe. Keys (kl_tpmdev_key) are objects
 * loaded in the TPM: freeing one flushes it when it is transient (a TPM
 * without a resource manager, such as swtpm, has only three transient
 * slots), or only forgets it when it is persistent. Free every key before
 * closing its context.
 *
 * Errors: KL_EIO with "<TPM command>: <decoded response code> (0x...)" in
 * kl_err_msg(), KL_EINVAL for bad arguments, KL_ENOMEM.
 */
#ifndef KL_TPMDEV_H
#define KL_TPMDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/kl_buf.h"
#include "util/kl_err.h"

typedef struct kl_tpmdev kl_tpmdev;
typedef struct kl_tpmdev_key kl_tpmdev_key;

/* The TCTI when none is configured: $TCTI if set (as rust-keylime), else
 * "device:/dev/tpmrm0" if that exists, else "device:/dev/tpm0". Borrowed. */
const char *kl_tpmdev_default_tcti(void);

/* Connects through a tctildr string ("device:/dev/tpmrm0",
 * "swtpm:path=/run/swtpm.sock", "swtpm:host=127.0.0.1,port=2321") and
 * sends TPM2_Startup(CLEAR) (harmless when the TPM is already started).
 * Caller closes with kl_tpmdev_close. */
KL_MUST_CHECK kl_rc kl_tpmdev_open(kl_tpmdev **out, const char *tcti);
void kl_tpmdev_close(kl_tpmdev *t);

/* The vendor string (TPM2_PT_VENDOR_STRING_1..4, trailing spaces and NULs
 * removed, e.g. "SW   TPM" for swtpm) into out (n bytes, NUL-terminated). */
KL_MUST_CHECK kl_rc kl_tpmdev_vendor(kl_tpmdev *t, char *out, size_t n);

/* Whether the TPM is a software TPM (its vendor string contains "SW", the
 * test rust-keylime uses). */
KL_MUST_CHECK kl_rc kl_tpmdev_is_software(kl_tpmdev *t, bool *out);

/* The key's marshalled TPM2B_PUBLIC (with its u16 size), as the registrar
 * receives ek_tpm and aik_tpm. Borrowed for the key's lifetime. */
kl_bytes kl_tpmdev_key_public(const kl_tpmdev_key *k);

/* The TPM handle of a persistent key (0x81......), or 0 for a transient one. */
uint32_t kl_tpmdev_key_persistent_handle(const kl_tpmdev_key *k);

/* Flushes a transient key (or forgets a persistent one) and frees it. NULL
 * is allowed. */
void kl_tpmdev_key_free(kl_tpmdev_key *k);

/* Opens a persistent object (e.g. an EK at 0x81010001). Caller frees. */
KL_MUST_CHECK kl_rc kl_tpmdev_key_persistent(kl_tpmdev_key **out, kl_tpmdev *t, uint32_t handle);

#endif
