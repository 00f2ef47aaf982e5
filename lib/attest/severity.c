#define PCRE2_CODE_UNIT_WIDTH 8
#include "attest/severity.h"

#include <pcre2.h>
#include <string.h>

#include "json/json.h"
#include "util/kl_alloc.h"

typedef struct {
    pcre2_code *re;
    int level;
} rule;

struct kl_severity {
    char **labels;
    int nlabels;
    rule *rules;
    size_t nrules;
};

static const char *const default_labels[] = {"info",     "notice", "warning",  "error",
                                             "critical", "alert",  "emergency"};

static kl_rc
set_labels(kl_severity *s, json_t *list)
{
    size_t n = list ? json_array_size(list) : sizeof(default_labels) / sizeof(default_labels[0]);

    if (n == 0 || n > 64)
        return kl_err_set(KL_EPARSE, "severity_labels: must list 1 to 64 labels");
    s->labels = kl_calloc(n, sizeof(*s->labels));
    if (!s->labels)
        return kl_err_set(KL_ENOMEM, "out of memory");
    s->nlabels = (int)n;
    for (size_t i = 0; i < n; i++) {
        const char *l = list ? json_string_value(json_array_get(list, i)) : default_labels[i];

        if (!l)
            return kl_err_set(KL_EPARSE, "severity_labels[%zu] is not a string", i);
        if (!(s->labels[i] = kl_strdup(l)))
            return kl_err_set(KL_ENOMEM, "out of memory");
    }
    return KL_OK;
}

static int
level_of(const kl_severity *s, const char *label)
{
    for (int i = 0; i < s->nlabels; i++)
        if (strcmp(s->labels[i], label) == 0)
            return i;
    return s->nlabels - 1; /* upstream: an unknown label is the maximum */
}

static kl_rc
add_rule(kl_severity *s, size_t i, const char *regex, const char *label)
{
    PCRE2_SIZE at;
    int err;

    s->rules[i].re = pcre2_compile((PCRE2_SPTR)regex, PCRE2_ZERO_TERMINATED,
                                   PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_UTF, &err, &at, NULL);
    if (!s->rules[i].re) {
        char why[128];

        pcre2_get_error_message(err, (PCRE2_UCHAR *)why, sizeof(why));
        return kl_err_set(KL_EPARSE, "severity_policy[%zu]: \"%s\" is not a valid regex: %s", i,
                          regex, why);
    }
    s->rules[i].level = level_of(s, label);
    s->nrules = i + 1;
    return KL_OK;
}

static kl_rc
set_rules(kl_severity *s, json_t *list)
{
    size_t n = list ? json_array_size(list) : 1;
    kl_rc rc = KL_OK;

    s->rules = kl_calloc(n, sizeof(*s->rules));
    if (!s->rules)
        return kl_err_set(KL_ENOMEM, "out of memory");
    if (!list)
        return add_rule(s, 0, ".*", s->labels[s->nlabels - 1]);
    for (size_t i = 0; rc == KL_OK && i < n; i++) {
        json_t *r = json_array_get(list, i);
        const char *re = json_string_value(json_object_get(r, "event_id"));
        const char *label = json_string_value(json_object_get(r, "severity_label"));

        if (!re || !label)
            rc = kl_err_set(KL_EPARSE, "severity_policy[%zu] needs string \"event_id\" and "
                                       "\"severity_label\"",
                            i);
        else
            rc = add_rule(s, i, re, label);
    }
    return rc;
}

kl_rc
kl_severity_new(kl_severity **out, kl_bytes labels_json, kl_bytes policy_json)
{
    kl_severity *s = kl_calloc(1, sizeof(*s));
    json_t *labels = NULL, *policy = NULL;
    kl_rc rc = KL_OK;

    *out = NULL;
    if (!s)
        return kl_err_set(KL_ENOMEM, "out of memory");
    if (labels_json.len && (rc = kl_json_parse(labels_json, "severity_labels", &labels)) == KL_OK &&
        !json_is_array(labels))
        rc = kl_err_set(KL_EPARSE, "severity_labels: must be a list of label names");
    if (rc == KL_OK && policy_json.len &&
        (rc = kl_json_parse(policy_json, "severity_policy", &policy)) == KL_OK &&
        !json_is_array(policy))
        rc = kl_err_set(KL_EPARSE, "severity_policy: must be a list of rules");
    if (rc == KL_OK)
        rc = set_labels(s, labels);
    if (rc == KL_OK)
        rc = set_rules(s, policy);
    json_decref(labels);
    json_decref(policy);
    if (rc != KL_OK) {
        kl_severity_free(s);
        return rc;
    }
    *out = s;
    return KL_OK;
}

void
kl_severity_free(kl_severity *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->nlabels; i++)
        kl_free(s->labels[i]);
    for (size_t i = 0; i < s->nrules; i++)
        pcre2_code_free(s->rules[i].re);
    kl_free(s->labels);
    kl_free(s->rules);
    kl_free(s);
}

static int
match(const kl_severity *s, const char *event_id)
{
    int level = s->nlabels - 1;

    for (size_t i = 0; i < s->nrules; i++) {
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(s->rules[i].re, NULL);
        int r;

        if (!md)
            break; /* out of memory: the safe answer is the highest level */
        r = pcre2_match(s->rules[i].re, (PCRE2_SPTR)event_id, strlen(event_id), 0, 0, md, NULL);
        pcre2_match_data_free(md);
        if (r >= 0) {
            level = s->rules[i].level;
            break;
        }
    }
    return level;
}

int
kl_severity_assign(const kl_severity *s, kl_verdict *v)
{
    int best = -1;

    for (size_t i = 0; i < v->count; i++) {
        kl_failure *f = &v->items[i];

        f->severity = f->recoverable ? match(s, f->event_id) : s->nlabels - 1;
        if (best < 0 || f->severity > v->items[best].severity)
            best = (int)i;
    }
    return best;
}

const char *
kl_severity_label(const kl_severity *s, int level)
{
    return level >= 0 && level < s->nlabels ? s->labels[level] : "unknown";
}

int
kl_severity_max(const kl_severity *s)
{
    return s->nlabels - 1;
}
