/* The one-shot checks of the verifier's /verify routes: upstream's
 * process_verify_identity_quote (quote and nonce, skip_pcr_check; here
 * with the PCR 16 binding too) and process_verify_attestation (quote and
 * nonce, then check_pcrs with skip_data_pcr_check). No clock check and no
 * agent state: each call starts from nothing. */
#define KL_LOGMODULE "attest"
#include <string.h>

#include "attest/attest_int.h"
#include "json/json.h"

/* upstream algorithms.Hash.is_recognized; otherwise the irrecoverable
 * qoute_validation.invalid_hash_alg with the name as given. */
static kl_rc
check_hash_name(kl_verdict *v, const char *name, kl_hash_alg *alg, bool *ok)
{
    json_t *ctx = NULL, *msg = NULL, *data;
    kl_buf text;
    kl_rc rc;

    *ok = name && kl_hash_from_name(KL_BYTES_CSTR(name), alg) && *alg <= KL_HASH_SM3_256;
    if (*ok)
        return KL_OK;
    kl_buf_init(&text, (name ? strlen(name) : 0) + 64);
    rc = kl_buf_printf(&text, "TPM Quote is using an unrecognized hash algorithm: %s",
                       name ? name : "None");
    if (rc == KL_OK)
        msg = kl_json_string_lossy(kl_buf_bytes(&text));
    data = name ? kl_json_string_lossy(KL_BYTES_CSTR(name)) : json_null();
    if (rc == KL_OK && msg && data)
        ctx = json_pack("{s:o,s:o}", "message", msg, "data", data);
    else {
        json_decref(msg);
        json_decref(data);
    }
    kl_buf_free(&text);
    if (rc != KL_OK)
        return rc;
    if (!ctx)
        return kl_err_set(KL_ENOMEM, "out of memory");
    return kl_verdict_add(v, "qoute_validation.invalid_hash_alg", ctx, false);
}

/* The hash name, then the quote; *ok when both passed (res->pcrs set). */
static kl_rc
check_quote(kl_verdict *v, kl_attest_result *res, const kl_attest_inputs *in,
            const kl_attest_oneshot *e, kl_hash_alg *alg, bool *ok)
{
    size_t before = v->count;
    kl_quote *q = NULL;
    kl_rc rc;

    memset(res, 0, sizeof(*res));
    rc = check_hash_name(v, e->hash_alg, alg, ok);
    if (rc != KL_OK || !*ok)
        return rc;
    rc = kl_attest_verify_quote(v, &res->pcrs, &q, in->ak, in->nonce, e->quote, *alg);
    kl_quote_free(q);
    *ok = rc == KL_OK && v->count == before;
    return rc;
}

kl_rc
kl_attest_identity(kl_verdict *v, const kl_attest_inputs *in, const kl_attest_oneshot *e)
{
    kl_attest_result res;
    kl_hash_alg alg;
    bool ok;
    kl_rc rc;

    rc = check_quote(v, &res, in, e, &alg, &ok);
    if (rc != KL_OK || !ok || in->cached_pubkey.len == 0)
        return rc;
    return kl_attest_check_data_pcr(v, &res.pcrs, alg, in->cached_pubkey);
}

kl_rc
kl_attest_evidence(kl_verdict *v, kl_attest_result *res, const kl_attest_inputs *in,
                   const kl_attest_oneshot *e)
{
    kl_attest_response r;
    kl_attest_state st;
    bool ok;
    kl_rc rc;

    rc = check_quote(v, res, in, e, &r.hash_alg, &ok);
    if (rc != KL_OK || !ok)
        return rc;
    rc = kl_attest_state_init(&st);
    if (rc != KL_OK)
        return rc;
    /* upstream's count = -1: never "the first quote" for the measured-boot
     * evaluation of measured_boot_evaluate = once */
    st.attestation_count = 1;
    r.quote = NULL;
    r.pubkey = (kl_bytes){NULL, 0};
    r.have_pubkey = false; /* skip_data_pcr_check */
    r.ima_list = e->ima_list;
    r.have_ima_list = e->have_ima_list;
    r.mb_list = e->mb_log;
    r.have_mb_list = e->mb_log.len > 0;
    rc = kl_attest_check_pcrs(v, res, &st, in, &r);
    kl_attest_state_free(&st);
    return rc;
}
