#include "attest/tpm_policy.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "util/kl_alloc.h"

struct kl_tpm_policy {
    json_t *doc;
    uint32_t mask;
    uint64_t listed;
    json_t *values[KL_TPM_POLICY_MAX_PCR + 1]; /* borrowed from doc */
};

/* Python int() of a key: optional whitespace and sign, decimal digits. */
static bool
pcr_number(const char *key, long *out)
{
    char *end;

    while (isspace((unsigned char)*key))
        key++;
    if (!*key || !(isdigit((unsigned char)*key) || *key == '+' || *key == '-'))
        return false;
    *out = strtol(key, &end, 10);
    while (isspace((unsigned char)*end))
        end++;
    return *end == '\0';
}

static kl_rc
parse_mask(kl_tpm_policy *p, json_t *v)
{
    const char *s = json_string_value(v);
    char *end;
    unsigned long m;

    /* upstream never reads the mask when checking; a REST client may have
     * stored it as a number */
    if (json_is_integer(v) && json_integer_value(v) >= 0 &&
        json_integer_value(v) <= (json_int_t)UINT32_MAX) {
        p->mask = (uint32_t)json_integer_value(v);
        return KL_OK;
    }
    if (!s)
        return kl_err_set(KL_EPARSE, "tpm_policy: \"mask\" must be a string like \"0x408400\"");
    m = strtoul(s, &end, 16);
    if (*end || !*s || m > UINT32_MAX)
        return kl_err_set(KL_EPARSE, "tpm_policy: \"mask\" \"%s\" is not a hex PCR mask", s);
    p->mask = (uint32_t)m;
    return KL_OK;
}

static kl_rc
parse_members(kl_tpm_policy *p)
{
    const char *key;
    json_t *v;
    kl_rc rc = KL_OK;

    json_object_foreach(p->doc, key, v) {
        long pcr;

        if (strcmp(key, "mask") == 0) {
            rc = parse_mask(p, v);
        } else if (!pcr_number(key, &pcr) || pcr < 0 || pcr > KL_TPM_POLICY_MAX_PCR) {
            rc = kl_err_set(KL_EPARSE, "tpm_policy: key \"%s\" is not a PCR number (0-%d)", key,
                            KL_TPM_POLICY_MAX_PCR);
        } else if (!json_is_array(v) && !json_is_string(v)) {
            rc = kl_err_set(KL_EPARSE,
                            "tpm_policy: PCR %ld must be a list of allowed values (hex strings)",
                            pcr);
        } else {
            p->values[pcr] = v;
            p->listed |= (uint64_t)1 << pcr;
        }
        if (rc != KL_OK)
            break;
    }
    return rc;
}

kl_rc
kl_tpm_policy_parse(kl_tpm_policy **out, kl_bytes text)
{
    kl_tpm_policy *p = kl_calloc(1, sizeof(*p));
    kl_rc rc;

    *out = NULL;
    if (!p)
        return kl_err_set(KL_ENOMEM, "out of memory");
    if (text.len == 0)
        p->doc = json_object();
    else if ((rc = kl_json_parse(text, "tpm_policy", &p->doc)) != KL_OK)
        goto out;
    rc = KL_OK;
    if (!p->doc)
        rc = kl_err_set(KL_ENOMEM, "out of memory");
    else if (!json_is_object(p->doc))
        rc = kl_err_set(KL_EPARSE, "tpm_policy: must be a JSON object like "
                                   "{\"mask\": \"0x400\", \"15\": [\"<hex>\"]}");
    else
        rc = parse_members(p);
out:
    if (rc != KL_OK) {
        kl_tpm_policy_free(p);
        return rc;
    }
    *out = p;
    return KL_OK;
}

void
kl_tpm_policy_free(kl_tpm_policy *p)
{
    if (!p)
        return;
    json_decref(p->doc);
    kl_free(p);
}

uint32_t
kl_tpm_policy_mask(const kl_tpm_policy *p)
{
    return p ? p->mask : 0;
}

uint64_t
kl_tpm_policy_listed(const kl_tpm_policy *p)
{
    return p ? p->listed : 0;
}

json_t *
kl_tpm_policy_values(const kl_tpm_policy *p, unsigned pcr)
{
    return p && pcr <= KL_TPM_POLICY_MAX_PCR ? p->values[pcr] : NULL;
}

bool
kl_tpm_policy_allows(const kl_tpm_policy *p, unsigned pcr, const char *hex)
{
    json_t *v = kl_tpm_policy_values(p, pcr), *item;
    size_t i;

    if (json_is_string(v)) /* Python `in` on a string: a substring test */
        return strstr(json_string_value(v), hex) != NULL;
    json_array_foreach(v, i, item) if (json_is_string(item) && strcmp(json_string_value(item), hex) == 0)
        return true;
    return false;
}
