/* mb_policy: the engine table and upstream's bootlog_evaluate
 * (keylime/mba/elchecking/elchecker.py) around the engines. */
#include "policy/mb_policy.h"

#include <stdio.h>
#include <string.h>

#include "json/json.h"
#include "mb/eventlog_json.h"
#include "policy/mb_example.h"
#include "policy/pyrepr.h"

struct kl_mb_engine {
    const char *name;
    uint32_t relevant_pcrs;
    /* Appends the reason for rejection (nothing: accepted). */
    kl_rc (*evaluate)(kl_buf *reason, json_t *refstate, const kl_eventlog *log);
};

static kl_rc
accept_all(kl_buf *reason, json_t *refstate, const kl_eventlog *log)
{
    (void)reason;
    (void)refstate;
    (void)log;
    return KL_OK;
}

static kl_rc
reject_all(kl_buf *reason, json_t *refstate, const kl_eventlog *log)
{
    (void)refstate;
    (void)log;
    return kl_buf_append_str(reason, "reject all");
}

/* The parsed log as upstream's engines see it: {"events": [...]}, or {}
 * when there is none (the agent sent no log). */
static kl_rc
log_data(const kl_eventlog *log, json_t **out)
{
    json_t *events = NULL;
    kl_rc rc = KL_OK;

    *out = json_object();
    if (!*out)
        return kl_err_set(KL_ENOMEM, "out of memory");
    if (!log || kl_eventlog_count(log) == 0)
        return KL_OK;
    rc = kl_eventlog_json_events(log, &events);
    if (rc == KL_OK && json_object_set_new(*out, "events", events) != 0)
        rc = kl_err_set(KL_ENOMEM, "out of memory");
    if (rc != KL_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

static kl_rc
example(kl_buf *reason, json_t *refstate, const kl_eventlog *log)
{
    json_t *data;
    kl_rc rc = log_data(log, &data);

    if (rc == KL_OK)
        rc = kl_mb_example_evaluate(reason, refstate, data);
    json_decref(data);
    return rc;
}

static const kl_mb_engine engines[] = {
    {"accept-all", 0, accept_all},
    {"reject-all", 0, reject_all},
    {"example", KL_MB_EXAMPLE_PCRS, example},
};

kl_rc
kl_mb_engine_find(const char *name, const kl_mb_engine **out)
{
    for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++) {
        if (strcmp(engines[i].name, name) == 0) {
            *out = &engines[i];
            return KL_OK;
        }
    }
    *out = NULL;
    return kl_err_set(KL_ENOTFOUND, "no measured boot policy named '%s' (accept-all, reject-all, "
                                    "example)", name);
}

const char *
kl_mb_engine_name(const kl_mb_engine *e)
{
    return e->name;
}

uint32_t
kl_mb_engine_relevant_pcrs(const kl_mb_engine *e)
{
    return e->relevant_pcrs;
}

bool
kl_mb_engine_refstate_valid(const kl_mb_engine *e, kl_bytes refstate)
{
    json_t *j = NULL;
    bool ok;

    (void)e;
    if (refstate.len == 0 || kl_json_parse(refstate, "mb_refstate", &j) != KL_OK)
        return false;
    ok = !json_is_null(j);
    json_decref(j);
    return ok;
}

static kl_rc
missing_pcrs(kl_verdict *v, uint32_t missing)
{
    json_t *ctx = json_pack("{s:s,s:[]}", "context", "PCRs are missing in quote", "data");
    json_t *list = ctx ? json_object_get(ctx, "data") : NULL;

    for (unsigned i = 0; list && i < 32; i++) {
        if (missing >> i & 1 && json_array_append_new(list, json_integer(i)) != 0)
            list = NULL;
    }
    if (!list) {
        json_decref(ctx);
        return kl_err_set(KL_ENOMEM, "out of memory");
    }
    return kl_verdict_add(v, "measured_boot.missing_pcrs", ctx, true);
}

static kl_rc
policy_failed(kl_verdict *v, const kl_mb_engine *e, json_t *refstate, kl_bytes reason)
{
    char id[64];
    kl_buf rs;
    json_t *ctx;
    kl_rc rc;

    /* str(refstate): the text of a string, repr() of anything else */
    kl_buf_init(&rs, (size_t)1 << 30);
    rc = json_is_string(refstate)
             ? kl_buf_append(&rs, json_string_value(refstate), json_string_length(refstate))
             : kl_pyrepr(&rs, refstate, false);
    if (rc != KL_OK) {
        kl_buf_free(&rs);
        return rc;
    }
    ctx = json_pack("{s:s,s:s,s:o?,s:o?}", "context", "Boot attestation failed", "policy", e->name,
                    "refstate", kl_json_string_lossy(kl_buf_bytes(&rs)), "reason",
                    kl_json_string_lossy(reason));
    kl_buf_free(&rs);
    if (!ctx || json_is_null(json_object_get(ctx, "refstate")) ||
        json_is_null(json_object_get(ctx, "reason"))) {
        json_decref(ctx);
        return kl_err_set(KL_ENOMEM, "out of memory");
    }
    snprintf(id, sizeof(id), "measured_boot.policy_%s", e->name);
    return kl_verdict_add(v, id, ctx, true);
}

kl_rc
kl_mb_engine_evaluate(kl_verdict *v, const kl_mb_engine *e, kl_bytes refstate,
                      const kl_eventlog *log, uint32_t pcrs_in_quote)
{
    json_t *rs = NULL;
    kl_buf reason;
    uint32_t missing;
    kl_rc rc;

    /* nothing to evaluate for an empty refstate, nor for one that loads
     * as a false value ({}, [], null, ...) */
    if (refstate.len == 0)
        return KL_OK;
    rc = kl_json_parse(refstate, "mb_refstate", &rs);
    if (rc != KL_OK)
        return rc;
    if (!kl_pyrepr_truthy(rs)) {
        json_decref(rs);
        return KL_OK;
    }
    missing = e->relevant_pcrs & ~pcrs_in_quote;
    if (missing) {
        json_decref(rs);
        return missing_pcrs(v, missing);
    }
    kl_buf_init(&reason, (size_t)1 << 30);
    rc = e->evaluate(&reason, rs, log);
    if (rc == KL_OK && reason.len > 0)
        rc = policy_failed(v, e, rs, kl_buf_bytes(&reason));
    kl_buf_free(&reason);
    json_decref(rs);
    return rc;
}
