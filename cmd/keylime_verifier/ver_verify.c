/* ver_verify: the public one-shot checks (PROTOCOL.md 2.3, last rows).
 *
 *   GET  /v2.x/verify/identity?agent_uuid=&quote=&nonce=&hash_alg=
 *        the quote against the AK and the public key (PCR 16) of an agent
 *        this verifier holds: results {"valid": 1}, or {"valid": 0,
 *        "reason": "<the events' contexts as JSON texts, joined by '; '>"}
 *   POST /v2.x/verify/evidence  {"type": "tpm", "data": {...}}
 *        quote, IMA list and boot log against the policies sent along:
 *        results {"valid": bool, "claims": data or {}, "failures":
 *        [{"type": <event id>, "context": {...}}]}; 400 "Bad Request" with
 *        that body when a parameter or every policy is missing
 *
 * The checks are lib/attest's kl_attest_identity and kl_attest_evidence;
 * this file reads the untrusted request into their inputs (any JSON type
 * may arrive anywhere; the body is capped by max_upload_size) and answers
 * as upstream's handlers do (cloud_verifier_tornado.py). "tee" evidence
 * (SEV-SNP) is refused with a 400. */
#define KL_LOGMODULE "verifier"

#include <string.h>

#include "json/json.h"
#include "util/kl_b64.h"
#include "util/kl_log.h"
#include "ver_verify.h"

#define TEXT_MAX ((size_t)1 << 30)

/* ------------------------------------------------------------ identity */

/* {"valid": 1}, or {"valid": 0, "reason": contexts joined by "; "}. */
static json_t *
identity_results(const kl_verdict *v)
{
    json_t *out = NULL;
    kl_buf reason;
    kl_rc rc = KL_OK;

    if (!kl_verdict_failed(v))
        return json_pack("{s:i}", "valid", 1);
    kl_buf_init(&reason, TEXT_MAX);
    for (size_t i = 0; rc == KL_OK && i < v->count; i++) {
        if (i)
            rc = kl_buf_append(&reason, "; ", 2);
        if (rc == KL_OK)
            rc = kl_json_dump_py(&reason, v->items[i].context);
    }
    if (rc == KL_OK)
        out = json_pack("{s:i,s:s%}", "valid", 0, "reason",
                        reason.len ? (const char *)reason.ptr : "", reason.len);
    kl_buf_free(&reason);
    return out;
}

void
ver_verify_identity(ver_ctx *ctx, const ver_identity_query *q, ver_reply *r)
{
    static const char *const names[] = {"agent_uuid", "quote", "nonce", "hash_alg"};
    const char *given[] = {q->agent_uuid, q->quote, q->nonce, q->hash_alg};
    kl_verdict v = KL_VERDICT_INIT;
    kl_attest_inputs in;
    kl_attest_oneshot e;
    ver_agent *a;
    kl_rc rc;

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!given[i] || !given[i][0]) {
            ver_reply_set(r, 400, "missing query parameter '%s'", names[i]);
            return;
        }
    }
    a = ver_table_get(&ctx->agents, q->agent_uuid);
    if (!a) {
        ver_reply_set(r, 404, "agent id not found");
        return;
    }
    memset(&in, 0, sizeof(in));
    memset(&e, 0, sizeof(e));
    in.ak = a->ak;
    in.nonce = KL_BYTES_CSTR(q->nonce);
    in.cached_pubkey = kl_buf_bytes(&a->pubkey); /* empty before its first quote */
    e.quote = KL_BYTES_CSTR(q->quote);
    e.hash_alg = q->hash_alg;
    rc = a->ak ? kl_attest_identity(&v, &in, &e)
               : kl_err_set(KL_EINVAL, "the agent has no AK in memory");
    if (rc == KL_OK && !(r->results = identity_results(&v)))
        rc = kl_err_set(KL_ENOMEM, "out of memory");
    if (rc != KL_OK) {
        LOG_ERR("verify/identity of agent %s: %s", a->id, kl_err_msg());
        ver_reply_set(r, 500, "Internal Server Error");
    } else {
        LOG_INFO("verify/identity of agent %s: %s", a->id,
                 kl_verdict_failed(&v) ? "not valid" : "valid");
        ver_reply_set(r, 200, "Success");
    }
    kl_verdict_free(&v);
}

/* ------------------------------------------------- evidence: the request */

enum { POL_TPM = 0, POL_RUNTIME, POL_MB, POL_COUNT };
static const char *const policy_names[POL_COUNT] = {"tpm_policy", "runtime_policy", "mb_policy"};

typedef struct {
    kl_bytes quote, nonce, hash_alg, ek, ak_b64;
    json_t *policy[POL_COUNT]; /* borrowed; NULL: not given */
    kl_attest_oneshot e;
} evidence_req;

static bool
is_empty_string(json_t *x)
{
    return json_is_string(x) && json_string_length(x) == 0;
}

/* A JSON string without NUL characters, as bytes (NUL-terminated). */
static bool
as_bytes(json_t *x, kl_bytes *out)
{
    if (!json_is_string(x) || strlen(json_string_value(x)) != json_string_length(x))
        return false;
    *out = KL_BYTES(json_string_value(x), json_string_length(x));
    return true;
}

static bool
refuse(ver_reply *r, const char *name, const char *expected)
{
    ver_reply_set(r, 400, "invalid parameter '%s': expected %s", name, expected);
    return false;
}

/* An input event of upstream's DEFAULT component (answered 400 "Bad
 * Request" with the usual results). */
static bool
input_event(kl_verdict *v, ver_reply *r, const char *id, const char *message)
{
    if (kl_verdict_add_msg(v, id, false, "%s", message) != KL_OK)
        ver_reply_set(r, 500, "Internal Server Error: Failed to process attestation data");
    return false;
}

/* quote, nonce, hash_alg, tpm_ek, tpm_ak: absent or "" is missing_param
 * (the first one only, as upstream returns at once). */
static bool
read_required(json_t *data, evidence_req *q, kl_verdict *v, ver_reply *r)
{
    static const char *const names[] = {"quote", "nonce", "hash_alg", "tpm_ek", "tpm_ak"};
    kl_bytes *dst[] = {&q->quote, &q->nonce, &q->hash_alg, &q->ek, &q->ak_b64};
    char msg[64];

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        json_t *x = json_object_get(data, names[i]);

        if (!x || is_empty_string(x)) {
            snprintf(msg, sizeof(msg), "missing parameter \"%s\"", names[i]);
            return input_event(v, r, "default.missing_param", msg);
        }
        if (!as_bytes(x, dst[i]))
            return refuse(r, names[i], "a string");
    }
    q->e.quote = q->quote;
    q->e.hash_alg = (const char *)q->hash_alg.ptr;
    return true;
}

/* A policy is given when it is a non-empty string or object (Python's
 * truthiness: null, "" and {} are no policy); at least one is needed. */
static bool
read_policies(json_t *data, evidence_req *q, kl_verdict *v, ver_reply *r)
{
    for (int i = 0; i < POL_COUNT; i++) {
        json_t *x = json_object_get(data, policy_names[i]);
        kl_bytes text;

        if (!x || json_is_null(x))
            continue;
        if (!json_is_object(x) && !as_bytes(x, &text))
            return refuse(r, policy_names[i], "a string or an object");
        if (json_is_object(x) ? json_object_size(x) > 0 : json_string_length(x) > 0)
            q->policy[i] = x;
    }
    if (!q->policy[POL_TPM] && !q->policy[POL_RUNTIME] && !q->policy[POL_MB])
        return input_event(v, r, "default.missing_policy",
                           "at least one policy (tpm_policy, runtime_policy, or mb_policy) must "
                           "be provided");
    return true;
}

/* ima_measurement_list: absent or "" is an empty list, null upstream's
 * None (no list); mb_log: base64, absent, "" or null for none. */
static bool
read_logs(json_t *data, evidence_req *q, ver_reply *r)
{
    json_t *ima = json_object_get(data, "ima_measurement_list");
    json_t *mb = json_object_get(data, "mb_log");

    q->e.have_ima_list = !json_is_null(ima);
    if (ima && !json_is_null(ima) && !as_bytes(ima, &q->e.ima_list))
        return refuse(r, "ima_measurement_list", "a string");
    if (mb && !json_is_null(mb) && !as_bytes(mb, &q->e.mb_log))
        return refuse(r, "mb_log", "a string (base64 of the binary boot log)");
    return true;
}

/* False when the request is answered already: *r set, or an input event
 * in v. */
static bool
read_request(json_t *data, evidence_req *q, kl_verdict *v, ver_reply *r)
{
    memset(q, 0, sizeof(*q));
    return read_required(data, q, v, r) && read_policies(data, q, v, r) && read_logs(data, q, r);
}

/* ------------------------------------------ evidence: the check's inputs */

typedef struct {
    kl_tpm_public *ak;
    kl_tpm_policy *tpm_policy;
    kl_runtime_policy *runtime;
    kl_buf text[POL_COUNT]; /* policies sent as objects, as JSON text */
    kl_bytes policy[POL_COUNT];
} evidence_objs;

static void
objs_init(evidence_objs *o)
{
    memset(o, 0, sizeof(*o));
    for (int i = 0; i < POL_COUNT; i++)
        kl_buf_init(&o->text[i], TEXT_MAX);
}

static void
objs_free(evidence_objs *o)
{
    kl_tpm_public_free(o->ak);
    kl_tpm_policy_free(o->tpm_policy);
    kl_runtime_policy_free(o->runtime);
    for (int i = 0; i < POL_COUNT; i++)
        kl_buf_free(&o->text[i]);
}

/* The policies as text (objects dumped as Python would). */
static kl_rc
policy_texts(const evidence_req *q, evidence_objs *o)
{
    for (int i = 0; i < POL_COUNT; i++) {
        json_t *x = q->policy[i];
        kl_rc rc;

        if (!x || !as_bytes(x, &o->policy[i])) {
            if (x && (rc = kl_json_dump_py(&o->text[i], x)) != KL_OK)
                return rc;
            o->policy[i] = kl_buf_bytes(&o->text[i]);
        }
    }
    return KL_OK;
}

/* upstream deserialize_runtime_policy: JSON (or a DSSE envelope), without
 * the schema; what it cannot read is a 400 here (upstream: a 500). */
static bool
load_runtime_policy(evidence_objs *o, ver_reply *r)
{
    kl_runtime_policy_opts opts = KL_RUNTIME_POLICY_OPTS_INIT;
    kl_rc rc;

    if (o->policy[POL_RUNTIME].len == 0)
        return true;
    opts.schema = false;
    rc = kl_runtime_policy_load(&o->runtime, o->policy[POL_RUNTIME], &opts);
    if (rc == KL_ENOMEM)
        ver_reply_set(r, 500, "Internal Server Error: Failed to process attestation data");
    else if (rc != KL_OK)
        ver_reply_set(r, 400, "invalid runtime_policy: %s", kl_err_msg());
    return rc == KL_OK;
}

/* The AK (base64 of a TPM2B_PUBLIC, decoded as Python's b64decode does)
 * and tpm_policy; what upstream fails on inside process_verify_attestation
 * becomes its qoute_validation.invalid_quote event. */
static kl_rc
load_objects(const evidence_req *q, evidence_objs *o, kl_verdict *v)
{
    const char *what = "tpm_ak";
    kl_buf der;
    kl_rc rc;

    kl_buf_init(&der, 1 << 16);
    rc = kl_b64_decode_lenient_append(&der, q->ak_b64);
    if (rc == KL_OK)
        rc = kl_tpm_public_parse(&o->ak, kl_buf_bytes(&der));
    kl_buf_free(&der);
    if (rc == KL_OK && q->policy[POL_TPM]) {
        what = "tpm_policy";
        rc = kl_tpm_policy_parse(&o->tpm_policy, o->policy[POL_TPM]);
    }
    if (rc == KL_OK || rc == KL_ENOMEM)
        return rc;
    return kl_verdict_add_msg(v, "qoute_validation.invalid_quote", false,
                              "Quote validation failed: %s: %s", what, kl_err_msg());
}

static void
fill_inputs(const ver_ctx *ctx, const evidence_req *q, const evidence_objs *o, kl_attest_inputs *in)
{
    const char *evaluate = ctx->cfg->measured_boot_evaluate;

    memset(in, 0, sizeof(*in));
    in->ak = o->ak;
    in->nonce = q->nonce;
    in->tpm_policy = o->tpm_policy;
    in->runtime_policy = o->runtime;
    in->have_mb_policy = q->policy[POL_MB] != NULL;
    in->mb_refstate = o->policy[POL_MB];
    in->mb_engine = ctx->mb_engine;
    in->mb_evaluate_always = evaluate && !strcmp(evaluate, "always");
    in->tomtou_events = ctx->cfg->ignore_tomtou_errors;
}

/* ------------------------------------------------- evidence: the answer */

static bool
ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);

    return n >= t && !strcmp(s + n - t, tail);
}

/* upstream's attestation_response; 400 "Bad Request" when an input was
 * missing, else 200. */
static void
evidence_answer(const kl_verdict *v, json_t *data, ver_reply *r)
{
    json_t *failures = json_array(), *f, *claims;
    bool input_error = false, valid = !kl_verdict_failed(v);

    for (size_t i = 0; failures && i < v->count; i++) {
        const char *id = v->items[i].event_id;

        f = json_pack("{s:s,s:O}", "type", id, "context", v->items[i].context);
        if (!f || json_array_append_new(failures, f) != 0) {
            json_decref(failures);
            failures = NULL;
        }
        input_error |= ends_with(id, ".missing_param") || ends_with(id, ".missing_policy");
    }
    claims = valid ? json_incref(data) : json_object();
    r->results = failures && claims ? json_pack("{s:b,s:O,s:O}", "valid", valid, "claims", claims,
                                                "failures", failures)
                                    : NULL;
    json_decref(claims);
    json_decref(failures);
    if (!r->results)
        ver_reply_set(r, 500, "Internal Server Error: Failed to process attestation data");
    else if (input_error)
        ver_reply_set(r, 400, "Bad Request");
    else
        ver_reply_set(r, 200, "Success");
}

static void
tpm_verify(ver_ctx *ctx, json_t *data, ver_reply *r)
{
    kl_verdict v = KL_VERDICT_INIT;
    kl_attest_inputs in;
    kl_attest_result res;
    evidence_objs o;
    evidence_req q;
    kl_rc rc = KL_OK;

    objs_init(&o);
    if (read_request(data, &q, &v, r)) {
        rc = policy_texts(&q, &o);
        if (rc == KL_OK && !load_runtime_policy(&o, r))
            goto out;
        if (rc == KL_OK)
            rc = load_objects(&q, &o, &v);
        if (rc == KL_OK && v.count == 0) {
            fill_inputs(ctx, &q, &o, &in);
            rc = kl_attest_evidence(&v, &res, &in, &q.e);
        }
    }
    if (rc != KL_OK) {
        LOG_ERR("verify/evidence: %s", kl_err_msg());
        ver_reply_set(r, 500, "Internal Server Error: Failed to process attestation data");
    } else if (!r->code) {
        evidence_answer(&v, data, r);
        LOG_INFO("verify/evidence: %s (%zu events)", kl_verdict_failed(&v) ? "not valid" : "valid",
                 v.count);
    }
out:
    kl_verdict_free(&v);
    objs_free(&o);
}

void
ver_verify_evidence(ver_ctx *ctx, json_t *body, ver_reply *r)
{
    json_t *type = json_object_get(body, "type"), *data = json_object_get(body, "data");
    const char *t = json_string_value(type);

    if (!type || is_empty_string(type))
        ver_reply_set(r, 400, "missing parameter 'type'");
    else if (!data || is_empty_string(data))
        ver_reply_set(r, 400, "missing parameter 'data'");
    else if (t && json_string_length(type) == 3 && !strcmp(t, "tee"))
        ver_reply_set(r, 400, "tee evidence (SEV-SNP) is not supported by this verifier");
    else if (!t || json_string_length(type) != 3 || strcmp(t, "tpm") != 0)
        ver_reply_set(r, 400, "invalid evidence type");
    else if (!json_is_object(data))
        refuse(r, "data", "a JSON object");
    else
        tpm_verify(ctx, data, r);
}

/* -------------------------------------------------------------- routes */

void
ver_api_verify_identity(kl_http_req *req, const kl_route_match *m, void *payload)
{
    ver_identity_query q = {kl_http_req_query(req, "agent_uuid"), kl_http_req_query(req, "quote"),
                            kl_http_req_query(req, "nonce"), kl_http_req_query(req, "hash_alg")};
    ver_reply r = {0};

    (void)m;
    ver_verify_identity(payload, &q, &r);
    ver_reply_send(req, &r);
}

void
ver_api_verify_evidence(kl_http_req *req, const kl_route_match *m, void *payload)
{
    ver_reply r = {0};
    json_t *body = ver_body_object(req, &r);

    (void)m;
    if (body)
        ver_verify_evidence(payload, body, &r);
    json_decref(body);
    ver_reply_send(req, &r);
}
