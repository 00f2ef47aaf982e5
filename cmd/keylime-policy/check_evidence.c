/* keylime-policy check evidence: check an agent's quote response offline,
 * as the verifier checks an agent's first quote (no earlier clock, IMA from
 * entry 0), and print one JSON object:
 *   {"valid": bool, "failures": [{"event_id", "context"}...],
 *    "hash_alg": "...", "pcrs": {"<n>": "<hex>"...}, "next_ima_ml_entry": N}
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "attest/attest.h"
#include "cli.h"
#include "json/json.h"
#include "util/kl_b64.h"
#include "util/kl_hex.h"

typedef struct {
    const char *response, *nonce, *ak, *tpm_policy, *policy, *policy_key, *mb_policy, *mb_name,
        *keys;
    bool tomtou;
} options;

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: keylime-policy check evidence --quote-response RESP.json --nonce NONCE\n"
            "           --ak AK.b64 [--tpm-policy TPM_POLICY.json]\n"
            "           [--runtime-policy POLICY.json] [--runtime-policy-key KEY.pem]\n"
            "           [--mb-policy REFSTATE.json [--mb-policy-name accept-all|reject-all|example]]\n"
            "           [--verification-keys KEYRING.json] [--ignore-tomtou-errors]\n\n"
            "Checks a quote response as the verifier checks an agent's first quote.\n"
            "  --quote-response FILE   the `results` object of GET /v2.x/quotes/integrity\n"
            "                          or /quotes/identity (the whole reply is accepted too)\n"
            "  --nonce NONCE           the nonce the verifier sent\n"
            "  --ak FILE               the AK as the registrar stores it (aik_tpm: base64 of\n"
            "                          a TPM2B_PUBLIC)\n"
            "  --tpm-policy FILE       Keylime tpm_policy JSON (PCR allowlist)\n"
            "  --runtime-policy FILE   runtime policy for the IMA list (default: empty policy)\n"
            "  --mb-policy FILE        measured-boot reference state; --mb-policy-name picks\n"
            "                          the engine (default accept-all)\n"
            "  --verification-keys F   IMA keyring JSON for ima-sig\n"
            "Exit status: 0 valid, 1 not valid, 2 bad usage or unreadable input.\n");
}

static int
parse_args(int argc, char **argv, options *o)
{
    static const struct option longopts[] = {
        {"quote-response", required_argument, NULL, 'q'},
        {"nonce", required_argument, NULL, 'n'},
        {"ak", required_argument, NULL, 'a'},
        {"tpm-policy", required_argument, NULL, 't'},
        {"runtime-policy", required_argument, NULL, 'r'},
        {"runtime-policy-key", required_argument, NULL, 'K'},
        {"mb-policy", required_argument, NULL, 'm'},
        {"mb-policy-name", required_argument, NULL, 'N'},
        {"verification-keys", required_argument, NULL, 'k'},
        {"ignore-tomtou-errors", no_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    memset(o, 0, sizeof(*o));
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'q': o->response = optarg; break;
        case 'n': o->nonce = optarg; break;
        case 'a': o->ak = optarg; break;
        case 't': o->tpm_policy = optarg; break;
        case 'r': o->policy = optarg; break;
        case 'K': o->policy_key = optarg; break;
        case 'm': o->mb_policy = optarg; break;
        case 'N': o->mb_name = optarg; break;
        case 'k': o->keys = optarg; break;
        case 'T': o->tomtou = true; break;
        case 'h': usage(stdout); return -1;
        default: return kl_cli_bad_option(c, argv);
        }
    }
    if (optind < argc)
        return kl_cli_fail(KL_EXIT_USAGE, "unexpected argument '%s'", argv[optind]);
    if (!o->response || !o->nonce || !o->ak)
        return kl_cli_fail(KL_EXIT_USAGE,
                           "--quote-response, --nonce and --ak are required (see --help)");
    if (o->mb_name && !o->mb_policy)
        return kl_cli_fail(KL_EXIT_USAGE, "--mb-policy-name needs --mb-policy");
    return 0;
}

typedef struct {
    json_t *response;
    kl_tpm_public *ak;
    kl_tpm_policy *tpm_policy;
    kl_runtime_policy *policy;
    kl_ima_keyrings *keys;
    kl_buf refstate;
    kl_attest_inputs in;
} inputs;

static int
load_ak(const char *path, inputs *x)
{
    kl_buf text, der;
    size_t n;
    int status = KL_EXIT_USAGE;

    kl_buf_init(&der, 1 << 16);
    if (kl_cli_read("AK", path, &text) != KL_OK)
        return KL_EXIT_USAGE;
    for (n = text.len; n && (text.ptr[n - 1] == '\n' || text.ptr[n - 1] == '\r' ||
                             text.ptr[n - 1] == ' ');)
        n--;
    if (kl_b64_decode_append(&der, KL_BYTES(text.ptr, n), false) != KL_OK)
        kl_cli_fail(status, "%s: not base64 (expected the registrar's aik_tpm): %s", path,
                    kl_err_msg());
    else if (kl_tpm_public_parse(&x->ak, kl_buf_bytes(&der)) != KL_OK)
        kl_cli_fail(status, "%s: not a TPM2B_PUBLIC: %s", path, kl_err_msg());
    else
        status = 0;
    kl_buf_free(&text);
    kl_buf_free(&der);
    return status;
}

static int
load_response(const char *path, inputs *x)
{
    json_t *inner;
    kl_buf text;
    kl_rc rc;

    if (kl_cli_read("quote response", path, &text) != KL_OK)
        return KL_EXIT_USAGE;
    rc = kl_json_parse(kl_buf_bytes(&text), path, &x->response);
    kl_buf_free(&text);
    if (rc != KL_OK)
        return kl_cli_fail(KL_EXIT_USAGE, "%s", kl_err_msg());
    /* the whole reply {"code", "status", "results"} is accepted too */
    inner = json_object_get(x->response, "results");
    if (json_is_object(inner) && !json_object_get(x->response, "quote")) {
        json_incref(inner);
        json_decref(x->response);
        x->response = inner;
    }
    return 0;
}

static int
load_text_file(const char *what, const char *path, kl_buf *out)
{
    return kl_cli_read(what, path, out) == KL_OK ? 0 : KL_EXIT_USAGE;
}

static int
load_policies(const options *o, inputs *x)
{
    kl_runtime_policy_opts po = KL_RUNTIME_POLICY_OPTS_INIT;
    kl_pubkey *key = NULL;
    kl_buf text;
    int status = 0;

    kl_buf_init(&text, 1);
    if (o->tpm_policy && (status = load_text_file("tpm_policy", o->tpm_policy, &text)) == 0 &&
        kl_tpm_policy_parse(&x->tpm_policy, kl_buf_bytes(&text)) != KL_OK)
        status = kl_cli_fail(KL_EXIT_USAGE, "%s: %s", o->tpm_policy, kl_err_msg());
    kl_buf_free(&text);
    if (!status && o->policy_key && (status = load_text_file("key", o->policy_key, &text)) == 0 &&
        kl_pubkey_load_pem(&key, kl_buf_bytes(&text)) != KL_OK)
        status = kl_cli_fail(KL_EXIT_USAGE, "%s: %s", o->policy_key, kl_err_msg());
    kl_buf_free(&text);
    po.dsse_key = key;
    if (!status && o->policy && (status = load_text_file("runtime policy", o->policy, &text)) == 0 &&
        kl_runtime_policy_load(&x->policy, kl_buf_bytes(&text), &po) != KL_OK)
        status = kl_cli_fail(KL_EXIT_USAGE, "%s: %s", o->policy, kl_err_msg());
    kl_buf_free(&text);
    kl_pubkey_free(key);
    if (!status && !o->policy && kl_runtime_policy_empty(&x->policy) != KL_OK)
        status = kl_cli_fail(KL_EXIT_USAGE, "%s", kl_err_msg());
    if (!status && o->keys && (status = load_text_file("verification keys", o->keys, &text)) == 0 &&
        (kl_ima_keyrings_new(&x->keys) != KL_OK ||
         kl_ima_keyrings_set_tenant(x->keys, kl_buf_bytes(&text)) != KL_OK))
        status = kl_cli_fail(KL_EXIT_USAGE, "%s: %s", o->keys, kl_err_msg());
    kl_buf_free(&text);
    return status;
}

static int
load_inputs(const options *o, inputs *x)
{
    int status;

    if ((status = load_response(o->response, x)) || (status = load_ak(o->ak, x)) ||
        (status = load_policies(o, x)))
        return status;
    x->in.ak = x->ak;
    x->in.nonce = KL_BYTES(o->nonce, strlen(o->nonce));
    x->in.tpm_policy = x->tpm_policy;
    x->in.runtime_policy = x->policy;
    x->in.tenant_keys = x->keys;
    x->in.tomtou_events = o->tomtou;
    if (o->mb_policy) {
        if ((status = load_text_file("measured-boot policy", o->mb_policy, &x->refstate)))
            return status;
        /* an empty refstate is no policy, as upstream's `if mb_policy` reads "" */
        x->in.have_mb_policy = x->refstate.len > 0;
        x->in.mb_refstate = kl_buf_bytes(&x->refstate);
        if (kl_mb_engine_find(o->mb_name ? o->mb_name : "accept-all", &x->in.mb_engine) != KL_OK)
            return kl_cli_fail(KL_EXIT_USAGE,
                               "--mb-policy-name must be accept-all, reject-all or example");
    }
    return 0;
}

static int
report(const kl_verdict *v, const kl_attest_result *res, const kl_attest_state *st)
{
    char hex[2 * KL_HASH_MAX_SIZE + 1], key[4];
    json_t *pcrs = json_object(), *out;
    kl_buf text;
    int status;

    for (unsigned p = 0; pcrs && p < KL_PCR_COUNT; p++) {
        if (!kl_pcr_set_has(&res->pcrs, p))
            continue;
        kl_hex_encode(hex, res->pcrs.value[p], kl_hash_size(res->pcrs.bank));
        snprintf(key, sizeof(key), "%u", p);
        json_object_set_new(pcrs, key, json_string(hex));
    }
    out = json_pack("{s:b,s:o,s:s,s:o,s:I}", "valid", !kl_verdict_failed(v), "failures",
                    kl_verdict_to_json(v), "hash_alg",
                    res->pcrs.present ? kl_hash_name(res->pcrs.bank) : "", "pcrs", pcrs,
                    "next_ima_ml_entry", (json_int_t)st->ima.next_entry);
    kl_buf_init(&text, (size_t)1 << 30);
    if (!out || kl_json_dump_py(&text, out) != KL_OK || kl_buf_append_byte(&text, '\n') != KL_OK)
        status = kl_cli_fail(KL_EXIT_USAGE, "out of memory writing the result");
    else if (fwrite(text.ptr, 1, text.len, stdout) != text.len || fflush(stdout) != 0)
        status = kl_cli_fail(KL_EXIT_USAGE, "cannot write to standard output");
    else
        status = kl_verdict_failed(v) ? KL_EXIT_FAIL : KL_EXIT_OK;
    json_decref(out);
    kl_buf_free(&text);
    return status;
}

int
kl_cmd_check_evidence(int argc, char **argv)
{
    kl_verdict v = KL_VERDICT_INIT;
    kl_attest_state st;
    kl_attest_result res;
    inputs x;
    options o;
    int status;

    memset(&x, 0, sizeof(x));
    kl_buf_init(&x.refstate, 1);
    if (kl_attest_state_init(&st) != KL_OK)
        return kl_cli_fail(KL_EXIT_USAGE, "out of memory");
    status = parse_args(argc, argv, &o);
    if (status) {
        status = status < 0 ? KL_EXIT_OK : status;
        goto out;
    }
    if ((status = load_inputs(&o, &x)))
        goto out;
    if (kl_attest_quote(&v, &res, &st, &x.in, x.response) != KL_OK) {
        status = kl_cli_fail(KL_EXIT_USAGE, "cannot check the evidence: %s", kl_err_msg());
        goto out;
    }
    status = report(&v, &res, &st);
out:
    kl_verdict_free(&v);
    kl_attest_state_free(&st);
    json_decref(x.response);
    kl_tpm_public_free(x.ak);
    kl_tpm_policy_free(x.tpm_policy);
    kl_runtime_policy_free(x.policy);
    kl_ima_keyrings_free(x.keys);
    kl_buf_free(&x.refstate);
    return status;
}
