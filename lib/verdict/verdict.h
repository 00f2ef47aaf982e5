/* verdict: the outcome of an evaluation, as data.
 *
 * An attestation that fails is not an error: evaluators return KL_OK and add
 * failure events here. Each event has Keylime's event id (component,
 * sub-components and id joined by '.', upstream spelling kept, e.g.
 * "qoute_validation.quote_validation"), a JSON context object and a
 * recoverable flag, exactly like upstream's keylime/failure.py. Events stay
 * in the order they were found; duplicates are expected (one per entry).
 */
#ifndef KL_VERDICT_H
#define KL_VERDICT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/kl_err.h"

typedef struct {
    char *event_id;   /* owned */
    json_t *context;  /* owned; always an object */
    bool recoverable;
    int severity;     /* level index, set by kl_severity_assign (0 until then) */
} kl_failure;

typedef struct {
    kl_failure *items;
    size_t count;
    size_t cap;
    bool irrecoverable; /* some event was not recoverable */
} kl_verdict;

#define KL_VERDICT_INIT {NULL, 0, 0, false}

/* Adds an event; takes ownership of context (an object; NULL means {}). */
KL_MUST_CHECK kl_rc kl_verdict_add(kl_verdict *v, const char *event_id, json_t *context,
                                   bool recoverable);
/* Adds an event whose context is {"message": <printf text>}. */
KL_MUST_CHECK kl_rc kl_verdict_add_msg(kl_verdict *v, const char *event_id, bool recoverable,
                                       const char *fmt, ...) KL_PRINTF(4, 5);

static inline bool
kl_verdict_failed(const kl_verdict *v)
{
    return v->count > 0 || v->irrecoverable;
}

/* Appends all events of src to dst (src is emptied). */
KL_MUST_CHECK kl_rc kl_verdict_merge(kl_verdict *dst, kl_verdict *src);

/* [{"event_id": ..., "context": {...}}, ...]; NULL on ENOMEM. */
json_t *kl_verdict_to_json(const kl_verdict *v);

void kl_verdict_free(kl_verdict *v);

#endif
