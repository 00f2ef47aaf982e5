/* ima_keyring: the keys IMA signatures are checked against.
 *
 * A set of named keyrings, searched in the order they were created (as
 * upstream's ImaKeyrings): the tenant keyring (from the policy's
 * "verification-keys" or the agent's ima_sign_verification_keys) and the
 * keyrings learned from ima-buf key entries (".ima", ...). Within a keyring
 * a key id maps to one key; adding the same id again replaces the key.
 */
#ifndef KL_IMA_KEYRING_H
#define KL_IMA_KEYRING_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "crypto/pubkey.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

#define KL_IMA_TENANT_KEYRING "tenant_keyring"

typedef struct kl_ima_keyrings kl_ima_keyrings;

/* Caller frees with kl_ima_keyrings_free. */
KL_MUST_CHECK kl_rc kl_ima_keyrings_new(kl_ima_keyrings **out);
void kl_ima_keyrings_free(kl_ima_keyrings *kr);

/* Adds key to keyring `name` (created when new) under keyid, or under the
 * key's computed IMA key id when has_keyid is false or keyid is 0. Takes a
 * new reference to key. */
KL_MUST_CHECK kl_rc kl_ima_keyrings_add(kl_ima_keyrings *kr, kl_bytes name, kl_pubkey *key,
                                        bool has_keyid, int64_t keyid);

/* Replaces the tenant keyring with the keys of a keyring JSON document
 * {"pubkeys": [b64 DER SPKI...], "keyids": [int...], "meta": {...}?}, which
 * may itself be JSON-encoded as a string. Empty text removes the tenant
 * keyring. Keys that are not RSA or EC are skipped with a warning, as
 * upstream does; a document that does not fit the schema is KL_EPARSE. */
KL_MUST_CHECK kl_rc kl_ima_keyrings_set_tenant(kl_ima_keyrings *kr, kl_bytes json_text);

/* Validates a keyring JSON document without keeping it. */
KL_MUST_CHECK kl_rc kl_ima_keyring_check(kl_bytes json_text);

/* How many keyrings the set holds (0 for NULL). */
size_t kl_ima_keyrings_count(const kl_ima_keyrings *kr);

/* The first key with this id in any keyring, or NULL. Borrowed. */
const kl_pubkey *kl_ima_keyrings_find(const kl_ima_keyrings *kr, uint32_t keyid);

/* Checks an ima-sig signature over a file digest, as the kernel and
 * upstream do: type 3 or 5, version 2, a known hash algorithm equal to the
 * digest's, and a key with the signature's key id. */
KL_MUST_CHECK kl_rc kl_ima_keyrings_verify(const kl_ima_keyrings *kr, kl_bytes sig,
                                           kl_bytes digest, kl_bytes digest_alg, bool *ok);

/* Appends upstream's ImaKeyring.to_string() of keyring `name`
 * ({"pubkeys": [...], "keyids": [...]}); KL_ENOTFOUND when absent. */
KL_MUST_CHECK kl_rc kl_ima_keyrings_dump(const kl_ima_keyrings *kr, const char *name, kl_buf *out);

#endif
