/* config_value: where each option's value comes from (environment, files,
 * default) and its conversion and validation against the option table. */
#define KL_LOGMODULE "config"

#include "config/config.h"
#include "config/config_int.h"
#include "util/kl_alloc.h"
#include "util/kl_buf.h"
#include "util/kl_log.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Why a value was refused ("not an integer; expected 1..65535"). */
typedef struct {
    char why[320];
} verdict;

/* Where the value of one option came from. */
typedef struct {
    const char *text;       /* stripped text */
    const kl_strlist *list; /* TOML array items, or NULL */
    char source[512];       /* "file:line", "environment X", "default" */
    char *owned;            /* text's storage when stripped from env or INI */
} origin;

static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* upstream's str.strip('" '): a copy without '"' and ' ' at both ends */
static char *
strip_quotes(const char *s)
{
    size_t n;

    while (*s == '"' || *s == ' ')
        s++;
    n = strlen(s);
    while (n && (s[n - 1] == '"' || s[n - 1] == ' '))
        n--;
    return kl_strndup(s, n);
}

static kl_rc
find_origin(origin *o, const kl_config_spec *spec, const kl_opt *opt, const kl_ini *doc)
{
    char var[256];
    const kl_ini_value *v = NULL;
    const char *env = NULL;

    memset(o, 0, sizeof(*o));
    if (kl_config_env_name(var, sizeof(var), spec->component, opt->section, opt->key))
        env = getenv(var);
    if (env) {
        snprintf(o->source, sizeof(o->source), "environment %s", var);
        LOG_INFO("%s.conf: [%s] %s set by %s", spec->component, opt->section, opt->key, var);
    } else {
        v = spec->toml ? kl_ini_get(doc, opt->section, opt->key)
                       : kl_ini_lookup(doc, opt->section, opt->key);
    }
    if (v) {
        snprintf(o->source, sizeof(o->source), "%s:%u", v->file, v->line);
        o->list = v->list;
        if (spec->toml) {
            o->text = v->value;
            return KL_OK;
        }
    }
    if (env || v) {
        o->owned = strip_quotes(env ? env : v->value);
        o->text = o->owned;
        return o->owned ? KL_OK : kl_err_set(KL_ENOMEM, "config: out of memory");
    }
    snprintf(o->source, sizeof(o->source), "default");
    o->text = opt->def ? opt->def : "";
    return KL_OK;
}

static void
range_text(char *buf, size_t n, const kl_opt *o)
{
    if (o->min == 0 && o->max == 0)
        buf[0] = '\0';
    else
        snprintf(buf, n, "; expected %lld..%lld", o->min, o->max);
}

static bool
in_range(const kl_opt *o, double v)
{
    return (o->min == 0 && o->max == 0) || (v >= (double)o->min && v <= (double)o->max);
}

/* Python int(): optional sign, decimal digits with single '_' between. */
static bool
parse_int(const char *s, long long *out)
{
    char digits[32];
    size_t n = 0;
    const char *p = s;
    char *end;

    if (*p == '+' || *p == '-')
        digits[n++] = *p++;
    if (!(*p >= '0' && *p <= '9'))
        return false;
    for (; *p; p++) {
        if (*p == '_' && p[-1] >= '0' && p[-1] <= '9' && p[1] >= '0' && p[1] <= '9')
            continue;
        if (!(*p >= '0' && *p <= '9') || n + 1 >= sizeof(digits))
            return false;
        digits[n++] = *p;
    }
    digits[n] = '\0';
    errno = 0;
    *out = strtoll(digits, &end, 10);
    return errno == 0 && *end == '\0';
}

static kl_rc
conv_int(long long *field, const kl_opt *o, const char *text, verdict *vd)
{
    char range[96];
    long long v;

    range_text(range, sizeof(range), o);
    if (!parse_int(text, &v)) {
        snprintf(vd->why, sizeof(vd->why), "not an integer%s", range);
        return KL_EINVAL;
    }
    if ((o->min || o->max) && (v < o->min || v > o->max)) {
        snprintf(vd->why, sizeof(vd->why), "out of range%s", range);
        return KL_EINVAL;
    }
    *field = v;
    return KL_OK;
}

static kl_rc
conv_float(double *field, const kl_opt *o, const char *text, verdict *vd)
{
    char range[96];
    char *end = NULL;
    double v;

    range_text(range, sizeof(range), o);
    errno = 0;
    v = *text && !strpbrk(text, "xXpP_") && !is_space(*text) ? strtod(text, &end) : NAN;
    if (!end || *end || errno || !isfinite(v)) {
        snprintf(vd->why, sizeof(vd->why), "not a number%s", range);
        return KL_EINVAL;
    }
    if (!in_range(o, v)) {
        snprintf(vd->why, sizeof(vd->why), "out of range%s", range);
        return KL_EINVAL;
    }
    *field = v;
    return KL_OK;
}

/* RawConfigParser.BOOLEAN_STATES */
static kl_rc
conv_bool(bool *field, const char *text, verdict *vd)
{
    static const char *const yes[] = {"1", "yes", "true", "on"}, *const no[] = {"0", "no", "false",
                                                                                "off"};

    for (int i = 0; i < 4; i++) {
        if (strcasecmp(text, yes[i]) == 0 || strcasecmp(text, no[i]) == 0) {
            *field = strcasecmp(text, yes[i]) == 0;
            return KL_OK;
        }
    }
    snprintf(vd->why, sizeof(vd->why),
             "not a boolean; expected one of 1, yes, true, on, 0, no, false, off");
    return KL_EINVAL;
}

static bool
choice_ok(const char *choices, const char *text)
{
    size_t n = strlen(text);

    for (const char *c = choices; c && *c;) {
        const char *bar = strchr(c, '|');
        size_t len = bar ? (size_t)(bar - c) : strlen(c);

        if (len == n && strncmp(c, text, n) == 0)
            return true;
        c += len + (bar ? 1 : 0);
    }
    return false;
}

/* "a|b|c" as "a, b, c" */
static void
choices_text(char *buf, size_t n, const char *choices)
{
    size_t k = 0;

    for (const char *c = choices ? choices : ""; *c && k + 3 < n; c++) {
        if (*c == '|') {
            buf[k++] = ',';
            buf[k++] = ' ';
        } else {
            buf[k++] = *c;
        }
    }
    buf[k] = '\0';
}

static kl_rc
conv_choice(char **field, const kl_opt *o, const char *text, verdict *vd)
{
    char list[256];

    if (!choice_ok(o->choices, text)) {
        choices_text(list, sizeof(list), o->choices);
        snprintf(vd->why, sizeof(vd->why), "not allowed; expected one of %s", list);
        return KL_EINVAL;
    }
    *field = kl_strdup(text);
    return *field ? KL_OK : kl_err_set(KL_ENOMEM, "config: out of memory");
}

/* Python's str.strip() on every item, as upstream's getlist does. */
static kl_rc
strip_items(kl_strlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        char *s = l->items[i], *e;

        while (is_space(*s))
            s++;
        e = s + strlen(s);
        while (e > s && is_space(e[-1]))
            e--;
        memmove(l->items[i], s, (size_t)(e - s));
        l->items[i][e - s] = '\0';
    }
    return KL_OK;
}

/* Separated words; brackets around the whole and quotes around an item
 * are dropped ("[a, 'b']" is a, b), as the Rust agent's list parser
 * accepts them. */
static kl_rc
split_loose(kl_strlist *out, const char *text)
{
    size_t n = strlen(text);
    char *copy;
    kl_rc rc;

    if (n >= 2 && text[0] == '[' && text[n - 1] == ']') {
        text++;
        n -= 2;
    }
    copy = kl_strndup(text, n);
    if (!copy)
        return kl_err_set(KL_ENOMEM, "config: out of memory");
    rc = kl_strlist_split(out, copy);
    kl_free(copy);
    for (size_t i = 0; rc == KL_OK && i < out->n; i++) {
        char *it = out->items[i];
        size_t len = strlen(it);

        if (len >= 2 && (it[0] == '\'' || it[0] == '"') && it[len - 1] == it[0]) {
            memmove(it, it + 1, len - 2);
            it[len - 2] = '\0';
        }
    }
    return rc;
}

/* INI: a Python list literal, or (not starting with '[') separated words;
 * agent.conf: a TOML array, or separated words. */
static kl_rc
conv_list(kl_strlist *field, const origin *o, bool toml, verdict *vd)
{
    kl_strlist l = {0};
    kl_rc rc = KL_OK;

    for (size_t i = 0; o->list && i < o->list->n && rc == KL_OK; i++)
        rc = kl_strlist_push(&l, o->list->items[i], strlen(o->list->items[i]));
    if (!o->list && (toml || o->text[0] != '['))
        rc = split_loose(&l, o->text);
    else if (!o->list)
        rc = kl_strlist_parse_py(&l, o->text);
    if (rc == KL_EPARSE) {
        snprintf(vd->why, sizeof(vd->why), "%s", kl_err_msg());
        return KL_EINVAL;
    }
    if (rc == KL_OK)
        rc = strip_items(&l);
    if (rc != KL_OK) {
        kl_strlist_free(&l);
        return rc;
    }
    *field = l;
    return KL_OK;
}

static kl_rc
convert(void *conf, const kl_opt *opt, const origin *o, bool toml, verdict *vd)
{
    void *field = (char *)conf + opt->offset;

    if (o->list && opt->type != KL_OPT_LIST) {
        snprintf(vd->why, sizeof(vd->why), "an array; expected a single value");
        return KL_EINVAL;
    }
    if ((opt->flags & KL_OPT_REQUIRED) && !o->text[0]) {
        snprintf(vd->why, sizeof(vd->why), "empty; this option must be set");
        return KL_EINVAL;
    }
    switch (opt->type) {
    case KL_OPT_STR:
        *(char **)field = kl_strdup(o->text);
        return *(char **)field ? KL_OK : kl_err_set(KL_ENOMEM, "config: out of memory");
    case KL_OPT_INT: return conv_int(field, opt, o->text, vd);
    case KL_OPT_BOOL: return conv_bool(field, o->text, vd);
    case KL_OPT_FLOAT: return conv_float(field, opt, o->text, vd);
    case KL_OPT_LIST: return conv_list(field, o, toml, vd);
    case KL_OPT_CHOICE: return conv_choice(field, opt, o->text, vd);
    }
    return kl_err_set(KL_EINVAL, "config: option %s has an unknown type", opt->key);
}

static kl_rc
apply_one(void *conf, const kl_config_spec *spec, size_t i, const kl_ini *doc)
{
    const kl_opt *opt = &spec->opts[i];
    kl_config_meta *meta = conf;
    verdict vd = {{0}};
    origin o;
    kl_rc rc = find_origin(&o, spec, opt, doc);

    if (rc != KL_OK)
        goto out;
    meta->sources[i] = kl_strdup(o.source);
    if (!meta->sources[i]) {
        rc = kl_err_set(KL_ENOMEM, "config: out of memory");
        goto out;
    }
    rc = convert(conf, opt, &o, spec->toml, &vd);
    if (rc == KL_EINVAL && vd.why[0])
        kl_err_set(KL_EINVAL, "%s.conf: [%s] %s = '%s' (from %s): %s", spec->component,
                   opt->section, opt->key, (opt->flags & KL_OPT_SECRET) ? "<hidden>" : o.text,
                   o.source, vd.why);
out:
    if (o.owned && (opt->flags & KL_OPT_SECRET))
        kl_wipe(o.owned, strlen(o.owned));
    kl_free(o.owned);
    return rc;
}

kl_rc
kl_config_apply(void *conf, const kl_config_spec *spec, const kl_ini *doc)
{
    kl_config_meta *meta = conf;
    kl_rc rc = KL_OK;

    meta->sources = kl_calloc(spec->n_opts ? spec->n_opts : 1, sizeof(*meta->sources));
    if (!meta->sources)
        return kl_err_set(KL_ENOMEM, "config: out of memory");
    for (size_t i = 0; i < spec->n_opts && rc == KL_OK; i++)
        rc = apply_one(conf, spec, i, doc);
    return rc;
}
