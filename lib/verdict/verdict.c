#include "verdict/verdict.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json/json.h"
#include "util/kl_alloc.h"

static kl_rc
grow(kl_verdict *v, size_t extra)
{
    size_t cap = v->cap ? v->cap : 8;
    kl_failure *items;

    if (v->count + extra <= v->cap)
        return KL_OK;
    while (cap < v->count + extra)
        cap *= 2;
    items = kl_reallocarray(v->items, cap, sizeof(*items));
    if (!items)
        return kl_err_set(KL_ENOMEM, "out of memory recording a failure");
    v->items = items;
    v->cap = cap;
    return KL_OK;
}

kl_rc
kl_verdict_add(kl_verdict *v, const char *event_id, json_t *context, bool recoverable)
{
    kl_failure *f;
    kl_rc rc = grow(v, 1);

    if (rc == KL_OK && !context && !(context = json_object()))
        rc = kl_err_set(KL_ENOMEM, "out of memory recording a failure");
    if (rc != KL_OK) {
        json_decref(context);
        return rc;
    }
    f = &v->items[v->count];
    f->event_id = kl_strdup(event_id);
    if (!f->event_id) {
        json_decref(context);
        return kl_err_set(KL_ENOMEM, "out of memory recording a failure");
    }
    f->context = context;
    f->recoverable = recoverable;
    f->severity = 0;
    if (!recoverable)
        v->irrecoverable = true;
    v->count++;
    return KL_OK;
}

kl_rc
kl_verdict_add_msg(kl_verdict *v, const char *event_id, bool recoverable, const char *fmt, ...)
{
    char msg[4096];
    json_t *ctx;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ctx = json_pack("{s:s}", "message", msg);
    if (!ctx) /* not UTF-8: keep the event, lose nothing but the text */
        ctx = json_pack("{s:o}", "message", kl_json_string_lossy(KL_BYTES(msg, strlen(msg))));
    if (!ctx)
        return kl_err_set(KL_ENOMEM, "out of memory recording a failure");
    return kl_verdict_add(v, event_id, ctx, recoverable);
}

kl_rc
kl_verdict_merge(kl_verdict *dst, kl_verdict *src)
{
    kl_rc rc = grow(dst, src->count);

    if (rc != KL_OK)
        return rc;
    for (size_t i = 0; i < src->count; i++)
        dst->items[dst->count++] = src->items[i];
    dst->irrecoverable |= src->irrecoverable;
    src->count = 0;
    src->irrecoverable = false;
    return KL_OK;
}

json_t *
kl_verdict_to_json(const kl_verdict *v)
{
    json_t *arr = json_array();

    for (size_t i = 0; arr && i < v->count; i++) {
        json_t *f = json_pack("{s:s,s:O}", "event_id", v->items[i].event_id, "context",
                              v->items[i].context);

        if (!f || json_array_append_new(arr, f) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

void
kl_verdict_free(kl_verdict *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->count; i++) {
        kl_free(v->items[i].event_id);
        json_decref(v->items[i].context);
    }
    kl_free(v->items);
    v->items = NULL;
    v->count = v->cap = 0;
    v->irrecoverable = false;
}
