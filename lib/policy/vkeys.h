/* vkeys: a runtime policy's "verification-keys" (the tenant keyring, IMA
 * keyring JSON {"pubkeys": [b64 DER SPKI...], "keyids": [int...]}).
 *
 * kl_vkeys_add does what upstream's policy tools do with
 * --add-ima-signature-verification-key / -v: load the existing keyring,
 * add the key of each file (certificate, public or private key, DER or
 * PEM; a certificate's Subject Key Identifier gives the key id), and
 * write the keyring back as ImaKeyring.to_string() does.
 */
#ifndef KL_VKEYS_H
#define KL_VKEYS_H

#include "policy/policy_doc.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

#include <stdbool.h>
#include <stddef.h>

/* Appends the new keyring text to out and sets *changed. A file that holds
 * no key or an unsupported one is skipped with a note (KL_LOG_ERR level),
 * as upstream does. When existing is not empty and cannot be loaded, a note
 * says so and *changed is false (the policy keeps its keys). Errors: a key
 * file cannot be read (KL_EIO), ENOMEM. */
KL_MUST_CHECK kl_rc kl_vkeys_add(kl_bytes existing, const char *const *paths, size_t n, kl_buf *out,
                                 bool *changed, kl_policy_note_fn note, void *payload);

#endif
