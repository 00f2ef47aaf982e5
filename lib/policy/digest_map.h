/* digest_map: an immutable index from names (file paths, keyring or
 * buffer names) to the digests a runtime policy allows for them.
 *
 * Built once while a policy is read, then shared read-only. Names and
 * digests live in one arena of records (name length, digest count, name,
 * digests as bytes), and the open-addressed table holds a hash tag and a
 * record offset per slot, so a lookup touches one slot and one record and
 * a million digests take about 100 bytes each. When a name is added twice
 * the later list wins, as in a JSON object read by Python.
 *
 * For long lists the evaluator hides the two memory misses of a lookup by
 * prefetching a few entries ahead: kl_digest_map_hash once per name, then
 * kl_digest_map_prefetch_slot, kl_digest_map_prefetch_record and finally
 * kl_digest_map_get_hashed.
 */
#ifndef KL_DIGEST_MAP_H
#define KL_DIGEST_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/kl_buf.h"
#include "util/kl_err.h"

typedef struct kl_digest_map kl_digest_map;

/* The digests of one name: count records in the arena. */
typedef struct {
    const uint8_t *rec;
    uint32_t count;
} kl_digest_list;

/* Caller frees with kl_digest_map_free. */
KL_MUST_CHECK kl_rc kl_digest_map_new(kl_digest_map **out);
void kl_digest_map_free(kl_digest_map *m);

/* Starts the list of name; kl_digest_map_add_hex adds to it. */
KL_MUST_CHECK kl_rc kl_digest_map_begin(kl_digest_map *m, kl_bytes name);
/* Adds a digest given as 2..128 lowercase hex digits. Anything else (an
 * odd length, which the schema allows, or any string when the schema is
 * not enforced) is kept as text: it is listed but never matches, as a
 * string comparison with a lowercase hex digest would not; such text is
 * limited to 127 bytes. *lower_hex (optional) tells whether every
 * character was a lowercase hex digit. */
KL_MUST_CHECK kl_rc kl_digest_map_add_hex(kl_digest_map *m, kl_bytes hex, bool *lower_hex);
/* Builds the index; the map is read-only afterwards. */
KL_MUST_CHECK kl_rc kl_digest_map_seal(kl_digest_map *m);

/* Looks a name up in a sealed map. */
bool kl_digest_map_get(const kl_digest_map *m, kl_bytes name, kl_digest_list *out);

/* The same, with hash = kl_digest_map_hash(name) computed earlier. */
uint64_t kl_digest_map_hash(kl_bytes name);
bool kl_digest_map_get_hashed(const kl_digest_map *m, kl_bytes name, uint64_t hash,
                              kl_digest_list *out);
/* Hints that a lookup of hash is coming: first the slot, later (once the
 * slot is likely cached) the record it points to. No effect on results. */
void kl_digest_map_prefetch_slot(const kl_digest_map *m, uint64_t hash);
void kl_digest_map_prefetch_record(const kl_digest_map *m, uint64_t hash);
/* Names and digests in a sealed map. */
size_t kl_digest_map_names(const kl_digest_map *m);
size_t kl_digest_map_digests(const kl_digest_map *m);
/* Bytes of memory the map holds. */
size_t kl_digest_map_memory(const kl_digest_map *m);

/* Whether the list holds this digest (compared as bytes). */
bool kl_digest_list_contains(const kl_digest_list *l, kl_bytes digest);
/* Appends the i-th digest as lowercase hex (as written in the policy). */
KL_MUST_CHECK kl_rc kl_digest_list_hex(const kl_digest_list *l, uint32_t i, kl_buf *out);

#endif
