/* tpmdev_cred: TPM2_ActivateCredential, the agent's half of registration.
 *
 * The registrar sends MakeCredential's output in the tpm2-tools file
 * layout (PROTOCOL.md 3.3, split by kl_makecred_parse): u32be 0xBADCC0DE,
 * u32be version 1, TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET. The TPM
 * releases the secret only if the AK named in it is loaded under this EK;
 * kl_makecred_auth_tag_from_secret then makes the registrar's auth_tag.
 */
#ifndef KL_TPMDEV_CRED_H
#define KL_TPMDEV_CRED_H

#include "tpmdev/tpmdev.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

/* Activates blob (the decoded registrar "blob") with ak and ek (the EK's
 * policy is satisfied with a PolicySecret session) and appends the
 * recovered secret to secret_out; release it with kl_buf_free_secret.
 * KL_EPARSE for a malformed blob, KL_EIO (with the decoded TPM response)
 * when the TPM refuses it: wrong EK, another AK's name, tampering. */
KL_MUST_CHECK kl_rc kl_tpmdev_cred_activate(kl_buf *secret_out, kl_tpmdev *t,
                                            const kl_tpmdev_key *ak, const kl_tpmdev_key *ek,
                                            kl_bytes blob);

#endif
