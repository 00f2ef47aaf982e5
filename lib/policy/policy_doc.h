/* policy_doc: a runtime policy document under construction, as upstream's
 * policy tools build one (a Python dict later written with json.dumps).
 *
 * It starts as upstream's empty policy
 *   {"meta": {"version": 1, "generator": 1}, "release": 0, "digests": {},
 *    "excludes": [], "keyrings": {}, "ima": {"ignored_keyrings": [],
 *    "log_hash_alg": "sha1", "dm_policy": null}, "ima-buf": {},
 *    "verification-keys": ""}
 * and keeps names in the order they were first added, as a Python dict
 * does. Names and digests are bytes; bytes that are not UTF-8 are kept the
 * way Python's surrogateescape keeps them (written as "\udcXX"), so a file
 * name that is not UTF-8 comes out as upstream writes it. kl_policy_doc_finish
 * sorts and de-duplicates every list (sorted(set(...))), then the document is
 * written byte for byte as json.dumps writes it and checked with
 * kl_runtime_policy_load.
 */
#ifndef KL_POLICY_DOC_H
#define KL_POLICY_DOC_H

#include "policy/runtime_policy.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"
#include "util/kl_log.h"

#include <stdbool.h>
#include <stddef.h>

/* Upstream's RUNTIME_POLICY_GENERATOR values. */
enum {
    KL_POLICY_GEN_UNKNOWN = 0,
    KL_POLICY_GEN_EMPTY = 1,
    KL_POLICY_GEN_COMPATIBLE = 2,
    KL_POLICY_GEN_LEGACY = 3,
};

/* How library code tells the operator something that is not an error
 * (upstream's logger.warning / info / debug). msg is borrowed for the call. */
typedef void (*kl_policy_note_fn)(kl_log_level level, const char *msg, void *payload);

/* Calls fn (when not NULL) with the formatted message. */
void kl_policy_doc_note(kl_policy_note_fn fn, void *payload, kl_log_level level, const char *fmt,
                        ...) KL_PRINTF(4, 5);

typedef struct kl_policy_doc kl_policy_doc;

/* An empty policy; caller frees with kl_policy_doc_free. */
KL_MUST_CHECK kl_rc kl_policy_doc_new(kl_policy_doc **out);
void kl_policy_doc_free(kl_policy_doc *d);

/* Upstream's update_base_policy: takes digests, keyrings and ima-buf (name
 * lists as given), excludes and ima.ignored_keyrings (sorted, unique),
 * ima.log_hash_alg (default sha1) and verification-keys (default "") from
 * the JSON text of an existing policy, then validates the result. KL_EPARSE
 * naming the problem when the text is not JSON or the result is not a
 * valid policy. */
KL_MUST_CHECK kl_rc kl_policy_doc_merge_base(kl_policy_doc *d, kl_bytes text);

/* Appends digest to the list of name in one of the three maps. */
KL_MUST_CHECK kl_rc kl_policy_doc_add(kl_policy_doc *d, kl_policy_map_id map, kl_bytes name,
                                      kl_bytes digest);
KL_MUST_CHECK kl_rc kl_policy_doc_add_exclude(kl_policy_doc *d, kl_bytes regex);
KL_MUST_CHECK kl_rc kl_policy_doc_add_ignored_keyring(kl_policy_doc *d, kl_bytes name);
/* Whether name is in ima.ignored_keyrings (compared literally). */
bool kl_policy_doc_keyring_ignored(const kl_policy_doc *d, kl_bytes name);

/* verification-keys: the text (borrowed; empty when unset) and a setter. */
kl_bytes kl_policy_doc_vkeys(const kl_policy_doc *d);
KL_MUST_CHECK kl_rc kl_policy_doc_set_vkeys(kl_policy_doc *d, kl_bytes text);

/* The first digest of the first name of a map (what upstream guesses the
 * digest algorithm from); false when the map is empty. Borrowed. */
bool kl_policy_doc_first_digest(const kl_policy_doc *d, kl_policy_map_id map, kl_bytes *out);

/* Sorts and de-duplicates all lists, sets meta.generator and adds
 * meta.timestamp (str(datetime.now())). */
KL_MUST_CHECK kl_rc kl_policy_doc_finish(kl_policy_doc *d, int generator);

/* Appends json.dumps of the document, after checking it with
 * kl_runtime_policy_load (KL_EPARSE with its reason when it fails). */
KL_MUST_CHECK kl_rc kl_policy_doc_dump(const kl_policy_doc *d, kl_buf *out);

/* Appends the digests in the legacy allowlist format ("<digest>  <name>\n",
 * boot_aggregate first), as upstream's --show-legacy-allowlist prints them. */
KL_MUST_CHECK kl_rc kl_policy_doc_dump_legacy(const kl_policy_doc *d, kl_buf *out);

/* str(datetime.datetime.now()): "YYYY-MM-DD HH:MM:SS.ffffff" in local
 * time, without the fraction when it is zero. n >= 32. */
void kl_policy_doc_timestamp(char *out, size_t n);

/* Appends s to out as Python would hold bytes decoded with surrogateescape
 * (each byte of an invalid UTF-8 sequence becomes U+DC80..U+DCFF, stored
 * in its 3-byte form). KL_EINVAL for a NUL byte. */
KL_MUST_CHECK kl_rc kl_policy_doc_escape(kl_buf *out, kl_bytes s);

#endif
