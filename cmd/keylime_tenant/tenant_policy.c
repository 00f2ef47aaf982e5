/* tenant_policy: what upstream's cli/policies.process_policy makes of the
 * command line: the tpm_policy with its PCR mask, the runtime policy (file,
 * DSSE envelope, or a legacy allowlist converted), the deprecated IMA
 * verification keys, and the measured-boot policy. Upstream logs these
 * under keylime.cli.policies. */
#include "crypto/hash.h"
#include "crypto/pubkey.h"
#include "policy/convert.h"
#include "policy/dsse.h"
#include "policy/runtime_policy.h"
#include "policy/vkeys.h"
#include "tenant.h"
#include "util/kl_alloc.h"
#include "util/kl_b64.h"
#include "util/kl_file.h"
#include "util/kl_hex.h"

#include "json/json.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PL "cli.policies"
#define IMA_PCR 10
#define DATA_PCR 16
#define MB_PCRS 0xFBFFu /* 0-9, 11-15 */
#define DEPRECATED_TAIL                                                                            \
    "Keylime has implemented support for a unified policy format, and will no longer accept "      \
    "separate allow/exclude lists in the near future.A conversion script to upgrade legacy "       \
    "allow/exclude lists to the new format is available under "                                    \
    "keylime/cmd/convert_runtime_policy.py."

void
tenant_policy_free(tenant_policy *p)
{
    json_decref(p->tpm_policy);
    kl_free(p->mb_policy);
    kl_free(p->mb_policy_name);
    kl_free(p->runtime_policy_name);
    kl_free(p->ima_sign_verification_keys);
    kl_free(p->runtime_policy);
    kl_free(p->runtime_policy_key);
    memset(p, 0, sizeof(*p));
}

static bool
all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* A PCR's value(s): a string becomes a list of one, all lowercased. */
static json_t *
lowered(const json_t *v)
{
    json_t *list = json_array();
    size_t n = json_is_array(v) ? json_array_size(v) : 1;

    for (size_t i = 0; list && i < n; i++) {
        const json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
        char *s = json_is_string(e) ? kl_strdup(json_string_value(e)) : NULL;

        if (!s || (!json_is_array(v) && !json_is_string(v))) {
            kl_free(s);
            json_decref(list);
            return NULL;
        }
        for (char *p = s; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        if (json_array_append_new(list, json_string(s)) != 0) {
            json_decref(list);
            list = NULL;
        }
        kl_free(s);
    }
    return list;
}

static kl_rc
set_mask(json_t *policy, uint32_t mask)
{
    char hex[16];

    snprintf(hex, sizeof(hex), "0x%x", mask);
    if (json_object_set_new(policy, "mask", json_string(hex)) != 0)
        return kl_err_set(KL_ENOMEM, "out of memory");
    return KL_OK;
}

static uint32_t
get_mask(const json_t *policy)
{
    return (uint32_t)strtoul(json_string_value(json_object_get(policy, "mask")), NULL, 16);
}

kl_rc
tenant_mask_or(json_t *tpm_policy, uint32_t bits)
{
    return set_mask(tpm_policy, get_mask(tpm_policy) | bits);
}

/* One key of the user's policy: a PCR number 0..24, not 10 or 16. */
static kl_rc
check_pcr(const char *key, unsigned *pcr)
{
    unsigned long v = all_digits(key) && strlen(key) < 10 ? strtoul(key, NULL, 10) : 99;

    if (v > 24)
        return kl_err_set(KL_EINVAL, "Invalid tpm policy pcr number: %s", key);
    if (v == DATA_PCR)
        return kl_err_set(KL_EINVAL,
                          "Invalid allowlist PCR number %s, keylime uses this PCR to "
                          "bind data.",
                          key);
    if (v == IMA_PCR)
        return kl_err_set(KL_EINVAL, "Invalid allowlist PCR number %s, this PCR is used for IMA.",
                          key);
    *pcr = (unsigned)v;
    return KL_OK;
}

kl_rc
tenant_tpm_policy_read(json_t **out, const char *text)
{
    json_t *in = NULL, *pol = json_object(), *v;
    const char *key;
    uint32_t mask = 0;
    unsigned pcr = 0;
    kl_rc rc = KL_OK;

    *out = NULL;
    if (!pol)
        return kl_err_set(KL_ENOMEM, "out of memory");
    rc = kl_json_parse(KL_BYTES_CSTR(text ? text : "{}"), "--tpm_policy", &in);
    if (rc == KL_OK && !json_is_object(in))
        rc = kl_err_set(KL_EINVAL, "--tpm_policy must be a JSON object of PCR numbers and "
                                   "values, e.g. {\"15\": \"0000...\"}");
    json_object_foreach(rc == KL_OK ? in : NULL, key, v)
    {
        json_t *vals;

        rc = check_pcr(key, &pcr);
        if (rc != KL_OK)
            break;
        mask |= 1u << pcr;
        vals = lowered(v);
        if (!vals || json_object_set_new(pol, key, vals) != 0) {
            rc = kl_err_set(KL_EINVAL,
                            "--tpm_policy: PCR %s: give a hex string or a list of "
                            "hex strings",
                            key);
            break;
        }
    }
    if (rc == KL_OK)
        rc = set_mask(pol, mask);
    json_decref(in);
    if (rc != KL_OK) {
        json_decref(pol);
        return rc;
    }
    *out = pol;
    return KL_OK;
}

/* enforce_pcrs: a PCR the runtime or measured-boot policy will use must
 * not be in tpm_policy. Upstream logs and exits 1 (the message is logged
 * here; the error carries no text of its own). */
static kl_rc
enforce_pcrs(const json_t *tpm_policy, uint32_t protected_pcrs, const char *use)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)(uintptr_t)tpm_policy, key, v)
    {
        unsigned long pcr = strtoul(key, NULL, 10);

        if (strcmp(key, "mask") && pcr < 32 && (protected_pcrs >> pcr) & 1u) {
            tl_log(
                PL, TL_ERROR,
                "WARNING: PCR %s is specified in \"tpm_policy\", but will in fact be used by %s. "
                "Please remove it from policy",
                key, use);
            return kl_err_set(KL_EINVAL, "%s", TENANT_LOGGED);
        }
    }
    return KL_OK;
}

static kl_rc
b64_text(char **out, kl_bytes data)
{
    kl_buf b;
    kl_rc rc;

    kl_buf_init(&b, ((data.len + 2) / 3) * 4 + 16);
    rc = kl_b64_encode_append(&b, data.ptr, data.len);
    if (rc == KL_OK)
        rc = kl_buf_terminate(&b);
    if (rc != KL_OK) {
        kl_buf_free(&b);
        return rc;
    }
    kl_free(*out);
    *out = (char *)kl_buf_take(&b, NULL);
    return KL_OK;
}

static kl_rc
replace_str(char **field, const char *value)
{
    char *s = kl_strdup(value);

    if (!s)
        return kl_err_set(KL_ENOMEM, "out of memory");
    kl_free(*field);
    *field = s;
    return KL_OK;
}

/* Upstream verify_runtime_policy's signature rules, then (stricter) the
 * schema, by loading the policy as the verifier will. */
static kl_rc
check_runtime_policy(kl_bytes text, kl_bytes key, bool have_key)
{
    kl_runtime_policy_opts o = KL_RUNTIME_POLICY_OPTS_INIT;
    kl_runtime_policy *p = NULL;
    kl_pubkey *k = NULL;
    bool envelope = false;
    json_t *j = NULL;
    kl_rc rc;

    if (kl_json_parse(text, "runtime policy", &j) != KL_OK)
        return kl_err_set(KL_EPARSE, "Runtime policy is not valid JSON!");
    json_decref(j);
    rc = kl_dsse_is_envelope(text, &envelope);
    if (rc == KL_OK && envelope && !have_key)
        return kl_err_set(KL_EVERIFY, "Runtime policy signature verification required but no key "
                                      "was given!");
    if (rc == KL_OK && !envelope && have_key)
        return kl_err_set(KL_EVERIFY, "Runtime policy is not signed!");
    if (rc == KL_OK && envelope && kl_pubkey_load_any(&k, key, NULL, NULL) != KL_OK)
        return kl_err_set(KL_EVERIFY, "Runtime policy failed DSSE signature verification!");
    o.dsse_key = k;
    if (rc == KL_OK)
        rc = kl_runtime_policy_load(&p, text, &o);
    if (rc == KL_EVERIFY)
        rc = kl_err_set(KL_EVERIFY, "Runtime policy failed DSSE signature verification!");
    kl_runtime_policy_free(p);
    kl_pubkey_free(k);
    return rc;
}

/* ima.read_runtime_policy: the file, its optional key and checksum. */
static kl_rc
read_runtime_policy(tenant_policy *p, const tenant_args *a)
{
    char hex[KL_HASH_MAX_SIZE * 2 + 1];
    uint8_t sum[32];
    kl_buf text, key;
    kl_rc rc;

    kl_buf_init(&text, (size_t)1 << 30);
    kl_buf_init(&key, 1u << 20);
    rc = tenant_read_file(a->runtime_policy, &text);
    if (rc == KL_OK && a->runtime_policy_sig_key)
        rc = tenant_read_file(a->runtime_policy_sig_key, &key);
    if (rc == KL_OK) {
        rc = check_runtime_policy(kl_buf_bytes(&text), kl_buf_bytes(&key),
                                  a->runtime_policy_sig_key != NULL);
        if (rc != KL_OK && rc != KL_ENOMEM)
            rc = kl_err_wrap(rc,
                             "Validation for runtime policy %s failed! Error: ", a->runtime_policy);
    }
    if (rc == KL_OK)
        rc = kl_hash(KL_HASH_SHA256, text.ptr, text.len, sum);
    if (rc == KL_OK) {
        kl_hex_encode(hex, sum, sizeof(sum));
        if (a->runtime_policy_checksum && a->runtime_policy_checksum[0] &&
            strcmp(a->runtime_policy_checksum, hex) != 0)
            rc = kl_err_set(KL_EVERIFY,
                            "Checksum of runtime policy does not match! Expected %s, "
                            "Calculated %s",
                            a->runtime_policy_checksum, hex);
    }
    if (rc == KL_OK)
        rc = b64_text(&p->runtime_policy, kl_buf_bytes(&text));
    if (rc == KL_OK)
        rc = b64_text(&p->runtime_policy_key, kl_buf_bytes(&key));
    kl_buf_free(&text);
    kl_buf_free(&key);
    return rc;
}

/* The converter's messages, which upstream print()s. */
static void
print_note(kl_log_level level, const char *msg, void *payload)
{
    (void)payload;
    if (level <= KL_LOG_INFO) {
        printf("%s\n", msg);
        fflush(stdout);
    }
}

/* --allowlist [--exclude]: converted as keylime_convert_runtime_policy
 * does, sent as base64 of the JSON. */
static kl_rc
convert_allowlist(tenant_policy *p, const tenant_args *a)
{
    kl_convert_opts o = KL_CONVERT_OPTS_INIT;
    kl_buf out;
    kl_rc rc;

    kl_buf_init(&out, (size_t)1 << 30);
    o.allowlist = a->allowlist;
    o.excludelist = a->ima_exclude;
    o.note = print_note;
    rc = kl_convert_run(&o, &out);
    if (rc == KL_OK)
        rc = b64_text(&p->runtime_policy, kl_buf_bytes(&out));
    kl_buf_free(&out);
    return rc;
}

/* --signature-verification-key files: each must hold a key (upstream
 * raises otherwise); the keyring JSON goes to the verifier. */
static kl_rc
verification_keys(tenant_policy *p, const tenant_strs *files)
{
    kl_buf data, ring;
    bool changed = false;
    kl_rc rc = KL_OK;

    kl_buf_init(&data, 1u << 20);
    kl_buf_init(&ring, 16u << 20);
    for (size_t i = 0; rc == KL_OK && i < files->n; i++) {
        kl_pubkey *k = NULL;

        rc = tenant_read_file(files->items[i], &data);
        if (rc == KL_OK)
            rc = kl_pubkey_load_any(&k, kl_buf_bytes(&data), NULL, NULL);
        kl_pubkey_free(k);
        if (rc == KL_ENOTFOUND)
            rc = kl_err_set(rc, "File '%s' is not a file with a key", files->items[i]);
        else if (rc != KL_OK && rc != KL_EIO && rc != KL_ENOMEM)
            rc = kl_err_wrap(rc, "File '%s' does not have a supported key: ", files->items[i]);
    }
    if (rc == KL_OK)
        rc = kl_vkeys_add(KL_BYTES("", 0), files->items, files->n, &ring, &changed, NULL, NULL);
    if (rc == KL_OK)
        rc = kl_buf_terminate(&ring);
    if (rc == KL_OK)
        rc = replace_str(&p->ima_sign_verification_keys, (const char *)ring.ptr);
    kl_buf_free(&data);
    kl_buf_free(&ring);
    return rc;
}

/* mba.policy_load: the file's JSON, re-written as json.dumps writes it. */
static kl_rc
load_mb_policy(char **out, const char *arg, const tenant_config *c)
{
    const char *path = strcmp(arg, "default") ? arg : c->mb_refstate;
    json_t *j = NULL;
    kl_buf text;
    kl_rc rc;

    if (!path[0])
        return kl_err_set(KL_EINVAL, "--mb-policy default: tenant.conf sets no mb_refstate; set "
                                     "[tenant] mb_refstate or name the policy file");
    kl_buf_init(&text, (size_t)1 << 30);
    rc = tenant_read_file(path, &text);
    if (rc == KL_OK)
        rc = kl_json_parse(kl_buf_bytes(&text), path, &j);
    if (rc != KL_OK && rc != KL_ENOMEM)
        rc = kl_err_wrap(rc, "cannot load the measured boot policy: ");
    kl_buf_free(&text);
    if (rc == KL_OK && !(*out = tl_dumps(j)))
        rc = kl_err_set(KL_ENOMEM, "out of memory");
    json_decref(j);
    return rc;
}

static kl_rc
log_mask(const char *fmt, const json_t *pol)
{
    tl_log(PL, TL_INFO, fmt, json_string_value(json_object_get(pol, "mask")));
    return KL_OK;
}

/* The runtime-policy half of process_policy. */
static kl_rc
runtime_part(tenant_policy *p, const tenant_args *a)
{
    kl_rc rc = KL_OK;

    if (a->vkeys.n > 0) {
        rc = tenant_mask_or(p->tpm_policy, 1u << IMA_PCR);
        tl_log(PL, TL_WARNING,
               "WARNING: Verification key support in the Keylime tenant is "
               "deprecated. Provide verification keys as part of a runtime "
               "policy instead.");
        if (rc == KL_OK)
            rc = verification_keys(p, &a->vkeys);
    }
    if (rc == KL_OK && a->allowlist) {
        tl_log(PL, TL_WARNING, "WARNING: --allowlist is deprecated." DEPRECATED_TAIL);
        rc = enforce_pcrs(p->tpm_policy, 1u << IMA_PCR, "IMA");
        if (rc == KL_OK)
            rc = tenant_mask_or(p->tpm_policy, 1u << IMA_PCR);
        if (rc == KL_OK)
            rc = convert_allowlist(p, a);
    }
    if (rc == KL_OK && a->ima_exclude)
        tl_log(PL, TL_WARNING, "WARNING: --exclude is deprecated." DEPRECATED_TAIL);
    if (rc == KL_OK && a->runtime_policy) {
        rc = enforce_pcrs(p->tpm_policy, 1u << IMA_PCR, "IMA");
        if (rc == KL_OK)
            rc = tenant_mask_or(p->tpm_policy, 1u << IMA_PCR);
        if (rc == KL_OK)
            rc = read_runtime_policy(p, a);
    }
    for (int i = 0; i < 2 && rc == KL_OK; i++) {
        const char *name = i ? a->runtime_policy_name : a->allowlist_name;

        if (name)
            rc = replace_str(&p->runtime_policy_name, name);
        if (name && rc == KL_OK)
            rc = tenant_mask_or(p->tpm_policy, 1u << IMA_PCR);
    }
    return rc;
}

/* The measured-boot half. */
static kl_rc
mb_part(tenant_policy *p, const tenant_args *a, const tenant_config *c)
{
    char *data = NULL;
    kl_rc rc = KL_OK;

    if (a->mb_policy) {
        rc = enforce_pcrs(p->tpm_policy, MB_PCRS, "measured boot");
        if (rc == KL_OK)
            rc = tenant_mask_or(p->tpm_policy, MB_PCRS);
        if (rc == KL_OK)
            rc = log_mask("TPM PCR Mask automatically modified is %s to include IMA/Event log "
                          "PCRs",
                          p->tpm_policy);
        if (rc == KL_OK)
            rc = load_mb_policy(&data, a->mb_policy, c);
    }
    if (rc == KL_OK && (get_mask(p->tpm_policy) & (1u << 2))) {
        kl_free(p->mb_policy);
        p->mb_policy = data;
        data = NULL;
    }
    kl_free(data);
    if (rc == KL_OK && a->mb_policy_name) {
        rc = replace_str(&p->mb_policy_name, a->mb_policy_name);
        if (rc == KL_OK)
            rc = tenant_mask_or(p->tpm_policy, MB_PCRS);
    }
    return rc;
}

kl_rc
tenant_policy_process(tenant *t)
{
    tenant_policy *p = &t->pol;
    kl_rc rc;

    tenant_policy_free(p);
    if (!(p->mb_policy_name = kl_strdup("")) || !(p->runtime_policy_name = kl_strdup("")) ||
        !(p->ima_sign_verification_keys = kl_strdup("")) || !(p->runtime_policy = kl_strdup("")) ||
        !(p->runtime_policy_key = kl_strdup("")))
        return kl_err_set(KL_ENOMEM, "out of memory");
    rc = tenant_tpm_policy_read(&p->tpm_policy, t->args->tpm_policy);
    if (rc == KL_OK)
        rc = log_mask("TPM PCR Mask from policy is %s", p->tpm_policy);
    if (rc == KL_OK)
        rc = runtime_part(p, t->args);
    if (rc == KL_OK)
        rc = mb_part(p, t->args, t->cfg);
    return rc;
}
