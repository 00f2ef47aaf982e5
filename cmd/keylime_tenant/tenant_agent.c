/* tenant_agent: what the tenant asks the agent (upstream do_quote and
 * do_verify): the identity quote, checked with the registrar's AK, the
 * nonce and PCR 16 (lib/attest, as upstream's tpm check_quote), then the
 * encrypted U key, and with --verify the key-derivation challenge. */
#include "attest/attest.h"
#include "crypto/pubkey.h"
#include "payload/bootstrap.h"
#include "tenant.h"
#include "tpm/makecred.h"
#include "tpm/tpm_public.h"
#include "util/kl_alloc.h"
#include "util/kl_b64.h"

#include <string.h>

/* upstream tpm_util.random_password(20): the first 20 of a registrar-style
 * challenge are drawn the same way (chars[byte % 62]). */
static kl_rc
random_password20(char out[21])
{
    char c[KL_MAKECRED_CHALLENGE_LEN + 1];
    kl_rc rc = kl_makecred_challenge(c);

    if (rc == KL_OK)
        snprintf(out, 21, "%.20s", c);
    kl_wipe(c, sizeof(c));
    return rc;
}

static const char *
normalized(const char *alg)
{
    if (!strcmp(alg, "ecc"))
        return "ecc256";
    if (!strcmp(alg, "rsa"))
        return "rsa2048";
    return alg;
}

/* upstream algorithms.is_accepted */
static bool
accepted(const char *alg, const kl_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(alg, l->items[i]) || !strcmp(normalized(alg), normalized(l->items[i])))
            return true;
    return false;
}

static bool
hash_recognized(const char *alg)
{
    static const char *const known[] = {"sha1", "sha256", "sha384", "sha512", "sm3_256"};

    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (!strcmp(alg, known[i]))
            return true;
    return false;
}

static const char *
res_str(const json_t *res, const char *key)
{
    return json_string_value(json_object_get(res, key));
}

static kl_rc
check_algs(const tenant *t, const json_t *res)
{
    const char *h = res_str(res, "hash_alg"), *e = res_str(res, "enc_alg");
    const char *s = res_str(res, "sign_alg");

    if (!res_str(res, "quote") || !res_str(res, "pubkey") || !h || !e || !s)
        return kl_err_set(KL_EPARSE,
                          "the identity quote from %s lacks quote, pubkey, hash_alg, "
                          "enc_alg or sign_alg",
                          t->fid_agent);
    if (!accepted(h, &t->cfg->accept_tpm_hash_algs) || !hash_recognized(h))
        return kl_err_set(KL_EVERIFY, "TPM Quote from %s is using an unaccepted hash algorithm: %s",
                          t->fid_agent, h);
    if (!accepted(e, &t->cfg->accept_tpm_encryption_algs))
        return kl_err_set(KL_EVERIFY,
                          "TPM Quote from %s is using an unaccepted encryption algorithm: %s",
                          t->fid_agent, e);
    if (!accepted(s, &t->cfg->accept_tpm_signing_algs))
        return kl_err_set(KL_EVERIFY,
                          "TPM Quote from %s is using an unaccepted signing algorithm: %s",
                          t->fid_agent, s);
    return KL_OK;
}

static kl_rc
parse_ak(const tenant *t, kl_tpm_public **ak)
{
    kl_buf b;
    kl_rc rc;

    kl_buf_init(&b, 1u << 16);
    rc = kl_b64_decode_lenient_append(&b, KL_BYTES_CSTR(t->reg.aik_tpm));
    if (rc == KL_OK)
        rc = kl_tpm_public_parse(ak, kl_buf_bytes(&b));
    if (rc != KL_OK)
        rc = kl_err_wrap(rc, "the registrar's aik_tpm of %s: ", t->agent_uuid);
    kl_buf_free(&b);
    return rc;
}

static void
log_failures(const tenant *t, const kl_verdict *v)
{
    for (size_t i = 0; i < v->count; i++) {
        char *ctx = tl_dumps(v->items[i].context);

        tl_warn("Quote from %s failed %s: %s", t->fid_agent, v->items[i].event_id, ctx ? ctx : "");
        kl_free(ctx);
    }
}

/* The quote itself (upstream tpm check_quote with a fresh agent state: the
 * signature by the registrar's AK, the nonce, the clock, PCR 16 = the key). */
static kl_rc
quote_valid(const tenant *t, json_t *res, bool *ok)
{
    const char *const *lists[3] = {NULL, NULL, NULL};
    const kl_strlist *src[3] = {&t->cfg->accept_tpm_hash_algs, &t->cfg->accept_tpm_encryption_algs,
                                &t->cfg->accept_tpm_signing_algs};
    kl_attest_inputs in = {0};
    kl_attest_result ar;
    kl_attest_state st;
    kl_verdict v = KL_VERDICT_INIT;
    kl_tpm_public *ak = NULL;
    kl_rc rc;

    *ok = false;
    for (size_t i = 0; i < 3; i++) {
        const char **l = kl_calloc(src[i]->n + 1, sizeof(char *));

        if (!l)
            goto nomem;
        memcpy(l, src[i]->items, src[i]->n * sizeof(char *));
        lists[i] = l;
    }
    rc = parse_ak(t, &ak);
    if (rc == KL_OK)
        rc = kl_attest_state_init(&st);
    if (rc != KL_OK)
        goto out;
    in.ak = ak;
    in.nonce = KL_BYTES_CSTR(t->nonce);
    in.accept_hash = lists[0];
    in.accept_enc = lists[1];
    in.accept_sign = lists[2];
    rc = kl_attest_quote(&v, &ar, &st, &in, res);
    kl_attest_state_free(&st);
    *ok = rc == KL_OK && !kl_verdict_failed(&v);
    if (rc == KL_OK)
        log_failures(t, &v);
    goto out;
nomem:
    rc = kl_err_set(KL_ENOMEM, "out of memory");
out:
    for (size_t i = 0; i < 3; i++)
        kl_free((void *)(uintptr_t)lists[i]);
    kl_verdict_free(&v);
    kl_tpm_public_free(ak);
    return rc;
}

/* validate_tpm_quote: the quote, then the EK. */
static kl_rc
validate(tenant *t, json_t *res, bool *ok)
{
    kl_rc rc = quote_valid(t, res, ok);

    if (rc != KL_OK || !*ok) {
        if (rc == KL_OK && t->reg.regcount > 1)
            tl_error("WARNING: %s had more than one ek-ekcert registered to it! This might "
                     "indicate that your system is misconfigured or a malicious host is present. "
                     "Run 'regdelete' for this agent and restart",
                     t->fid_agent);
        return rc;
    }
    return tenant_ek_check(t, ok);
}

/* One GET to the agent, as do_quote/do_verify send it; warns when the
 * agent is reached without mTLS. */
static kl_rc
agent_get(tenant *t, const char *path, tenant_resp *r)
{
    if (!tenant_agent_tls(t))
        tl_warn("Connecting to %s without using mTLS!", t->fid_agent);
    return tenant_http(t, TP_AGENT, "GET", path, KL_BYTES("", 0), r);
}

/* do_quote's loop: a connection failure (or a 503/504 that is not JSON)
 * is retried max_retries times; the answer is printed as upstream's
 * print(dict). */
static kl_rc
fetch_quote(tenant *t, tenant_resp *r)
{
    char path[160], delay[32];
    unsigned tries = 0;
    kl_rc rc;

    snprintf(path, sizeof(path), "/v%s/quotes/identity?nonce=%s", t->agent_api, t->nonce);
    for (;;) {
        rc = agent_get(t, path, r);
        if (rc == KL_OK && (rc = tenant_resp_json(r)) == KL_OK) {
            tl_print_repr(r->json);
            return KL_OK;
        }
        if (rc == KL_ENOMEM || (r->status != 0 && r->status != 503 && r->status != 504))
            return rc;
        tenant_resp_free(r);
        if ((long long)++tries >= t->cfg->max_retries)
            return kl_err_wrap(KL_EIO, "Tenant cannot establish connection to %s: ", t->fid_agent);
        tl_float(delay, sizeof(delay), tenant_retry_time(t, tries));
        tl_info("Tenant connection to %s refused %u/%lld times, trying again in %s seconds...",
                t->fid_agent, tries, t->cfg->max_retries, delay);
        tenant_sleep(tenant_retry_time(t, tries));
    }
}

static kl_rc
ukey_body(const tenant *t, const char *pubkey, char **out)
{
    kl_pubkey *k = NULL;
    kl_buf enc, b64;
    json_t *body = NULL;
    kl_rc rc;

    kl_buf_init(&enc, 4096);
    kl_buf_init(&b64, 8192);
    rc = kl_pubkey_load_pem(&k, KL_BYTES_CSTR(pubkey));
    if (rc == KL_OK)
        rc = kl_pubkey_rsa_oaep_encrypt(k, KL_HASH_SHA1, KL_BYTES("", 0), KL_BYTES(t->u, t->ulen),
                                        &enc);
    if (rc == KL_OK)
        rc = kl_b64_encode_append(&b64, enc.ptr, enc.len);
    if (rc != KL_OK) {
        rc = kl_err_wrap(rc, "cannot encrypt U for %s: ", t->fid_agent);
        goto out;
    }
    body = json_pack("{s:s%,s:s}", "encrypted_key", (const char *)b64.ptr, b64.len, "auth_tag",
                     t->auth_tag);
    if (body && t->have_payload)
        json_object_set_new(body, "payload",
                            json_stringn((const char *)t->payload.ptr, t->payload.len));
    if (!body || (t->have_payload && !json_object_get(body, "payload")) || !(*out = tl_dumps(body)))
        rc = kl_err_set(KL_ENOMEM, "out of memory (or a payload that is not text)");
out:
    json_decref(body);
    kl_pubkey_free(k);
    kl_buf_free(&enc);
    kl_buf_free(&b64);
    return rc;
}

/* POST keys/ukey: the U share encrypted to the agent's key (RSA-OAEP,
 * SHA-1), the auth tag and the payload. */
static kl_rc
post_ukey(tenant *t, const char *pubkey, const json_t *quote_answer)
{
    char path[64], *text = NULL;
    tenant_resp r = {0};
    kl_rc rc = ukey_body(t, pubkey, &text);

    snprintf(path, sizeof(path), "/v%s/keys/ukey", t->agent_api);
    if (rc == KL_OK && !tenant_agent_tls(t))
        tl_warn("Connecting to %s without using mTLS!", t->fid_agent);
    if (rc == KL_OK)
        rc = tenant_http(t, TP_AGENT, "POST", path, KL_BYTES_CSTR(text), &r);
    if (rc == KL_OK && r.status == 503)
        rc = kl_err_set(KL_EIO, "Cannot connect to %s to post encrypted U. Connection refused.",
                        t->fid_agent);
    if (rc == KL_OK && r.status == 504)
        rc = kl_err_set(KL_ETIMEOUT, "%s timed out while posting encrypted U", t->fid_agent);
    if (rc == KL_OK && r.status != 200) {
        /* upstream logs the quote's answer here, not this one */
        tl_http_response("tenant", TL_ERROR, quote_answer);
        rc = kl_buf_terminate(&r.body);
        rc = kl_err_set(KL_EIO, "Posting of encrypted U to %s failed with response code %d (%s)",
                        t->fid_agent, r.status, rc == KL_OK ? (const char *)r.body.ptr : "");
    }
    tenant_resp_free(&r);
    if (text) {
        kl_wipe(text, strlen(text));
        kl_free(text);
    }
    return rc;
}

kl_rc
tenant_quote(tenant *t)
{
    tenant_resp r = {0};
    json_t *res;
    bool ok = false;
    kl_rc rc;

    if (!strcmp(t->agent_api, "1.0"))
        return kl_err_set(KL_EUNSUPPORTED,
                          "%s has no mTLS certificate in the registrar, so API version 1.0 "
                          "(compressed quotes) would be used, which this tenant does not support; "
                          "enable mTLS on the agent or pass --agent-api-version",
                          t->fid_agent);
    rc = random_password20(t->nonce);
    if (rc == KL_OK)
        rc = fetch_quote(t, &r);
    if (rc != KL_OK)
        goto out;
    res = json_object_get(r.json, "results");
    if (r.status != 200)
        rc = kl_err_set(KL_EIO, "TPM Quote command response: %d Unexpected response from %s.",
                        r.status, t->fid_agent);
    else if (!json_is_object(res))
        rc = kl_err_set(KL_EPARSE, "Error: unexpected http response body from %s: %d", t->fid_agent,
                        r.status);
    if (rc == KL_OK)
        rc = check_algs(t, res);
    if (rc == KL_OK)
        rc = validate(t, res, &ok);
    if (rc == KL_OK && !ok)
        rc = kl_err_set(KL_EVERIFY, "TPM Quote from %s is invalid for nonce: %s", t->fid_agent,
                        t->nonce);
    if (rc != KL_OK)
        goto out;
    tl_info("Quote from %s validated", t->fid_agent);
    if (t->ulen)
        rc = post_ukey(t, res_str(res, "pubkey"), r.json);
out:
    tenant_resp_free(&r);
    return rc;
}

/* A failure that stops the agent on the verifier first (do_cvstop); the
 * stop's own failure wins, as upstream's exception would. */
static kl_rc
stop_and_fail(tenant *t, kl_rc rc)
{
    char msg[1024];
    kl_rc stop;

    snprintf(msg, sizeof(msg), "%s", kl_err_msg());
    stop = tenant_cvstop(t);
    if (stop != KL_OK)
        return stop;
    return kl_err_set(rc, "%s", msg);
}

static kl_rc
verify_get(tenant *t, const char *path, tenant_resp *r)
{
    if (!t->reg.mtls_cert)
        tl_warn("Connecting to %s without using mTLS!", t->fid_agent);
    return tenant_http(t, TP_AGENT, "GET", path, KL_BYTES("", 0), r);
}

/* A 503/504 without a JSON answer: retried max_retries times. */
static kl_rc
verify_unavailable(tenant *t, unsigned *tries)
{
    char delay[32];

    if ((long long)++*tries >= t->cfg->max_retries) {
        kl_err_set(KL_EIO, "Cannot establish connection to %s", t->fid_agent);
        return stop_and_fail(t, KL_EIO);
    }
    tl_float(delay, sizeof(delay), tenant_retry_time(t, *tries));
    tl_info("Connection to %s refused %u/%lld times, trying again in %s seconds...", t->fid_agent,
            *tries, t->cfg->max_retries, delay);
    tenant_sleep(tenant_retry_time(t, *tries));
    return KL_OK;
}

/* No matching HMAC yet (the agent has no key, or a wrong one). */
static kl_rc
verify_mismatch(tenant *t, const tenant_resp *r, size_t mac_len, unsigned *tries)
{
    if (r->status != 200)
        tl_http_response("tenant", TL_ERROR, r->json);
    if ((long long)++*tries >= t->cfg->max_retries) {
        kl_err_set(KL_EVERIFY, "Failed key derivation for %s (expected length %d, received %zu)",
                   t->fid_agent, KL_BOOTSTRAP_TAG_HEX, mac_len);
        return stop_and_fail(t, KL_EVERIFY);
    }
    tl_info("Key derivation not yet complete for %s at try %u/%lld (expected length %d, received "
            "length %zu) trying again in %d seconds... (Ctrl-C to stop)",
            t->fid_agent, *tries, t->cfg->max_retries, KL_BOOTSTRAP_TAG_HEX, mac_len,
            (int)tenant_retry_time(t, *tries));
    tenant_sleep(tenant_retry_time(t, *tries));
    return KL_OK;
}

/* One round: *done when the agent's HMAC matched (compared in constant
 * time). */
static kl_rc
verify_once(tenant *t, const char *challenge, const char *expected, unsigned *tries, bool *done)
{
    char path[128];
    const char *mac = "";
    tenant_resp r = {0};
    json_t *h = NULL;
    kl_rc rc;

    *done = false;
    snprintf(path, sizeof(path), "/v%s/keys/verify?challenge=%s", t->agent_api, challenge);
    rc = verify_get(t, path, &r);
    if (rc == KL_OK)
        rc = tenant_resp_json(&r);
    if (rc != KL_OK && rc != KL_ENOMEM && (r.status == 503 || r.status == 504))
        rc = verify_unavailable(t, tries);
    else if (rc != KL_OK)
        rc = stop_and_fail(t, rc);
    else if (r.status == 200 &&
             !(h = json_object_get(json_object_get(r.json, "results"), "hmac"))) {
        kl_err_set(KL_EPARSE, "Error: unexpected http response body from %s : %d", t->fid_agent,
                   r.status);
        rc = stop_and_fail(t, KL_EPARSE);
    } else {
        if (r.status == 200 && json_is_string(h))
            mac = json_string_value(h);
        *done =
            strlen(mac) == KL_BOOTSTRAP_TAG_HEX && kl_ct_equal(mac, expected, KL_BOOTSTRAP_TAG_HEX);
        if (*done)
            tl_info("Successful key derivation for %s", t->fid_agent);
        else
            rc = verify_mismatch(t, &r, strlen(mac), tries);
    }
    tenant_resp_free(&r);
    return rc;
}

kl_rc
tenant_verify(tenant *t)
{
    char challenge[21], expected[KL_BOOTSTRAP_TAG_HEX + 1];
    unsigned tries = 0;
    bool done = false;
    kl_rc rc = random_password20(challenge);

    if (rc == KL_OK)
        rc = kl_bootstrap_hmac_hex(expected, KL_BYTES(t->k, t->klen), KL_BYTES_CSTR(challenge));
    while (rc == KL_OK && !done)
        rc = verify_once(t, challenge, expected, &tries, &done);
    kl_wipe(expected, sizeof(expected));
    return rc;
}
