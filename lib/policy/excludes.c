#define PCRE2_CODE_UNIT_WIDTH 8
#include "policy/excludes.h"

#include <pcre2.h>

#include "util/kl_alloc.h"

#define COMPILE_FLAGS (PCRE2_ANCHORED | PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF)

struct kl_excludes {
    pcre2_code *code;
};

struct kl_excludes_matcher {
    const kl_excludes *x;
    pcre2_match_data *md;
};

kl_rc
kl_excludes_translate(kl_buf *out, kl_bytes p)
{
    kl_rc rc = KL_OK;

    for (size_t i = 0; rc == KL_OK && i < p.len; i++) {
        if (p.ptr[i] == '\\' && i + 1 < p.len) {
            rc = kl_buf_append_byte(out, '\\');
            if (rc == KL_OK)
                rc = kl_buf_append_byte(out, p.ptr[i + 1] == 'Z' ? 'z' : p.ptr[i + 1]);
            i++;
        } else {
            rc = kl_buf_append_byte(out, p.ptr[i]);
        }
    }
    return rc;
}

static kl_rc
compile(kl_bytes pattern, pcre2_code **out, char *why, size_t whylen, size_t *at)
{
    int err;
    PCRE2_SIZE off;

    *out = pcre2_compile(pattern.ptr, pattern.len, COMPILE_FLAGS, &err, &off, NULL);
    if (*out)
        return KL_OK;
    pcre2_get_error_message(err, (PCRE2_UCHAR *)why, whylen);
    *at = off;
    return KL_EPARSE;
}

/* Checks each pattern alone, so an error names the culprit. */
static kl_rc
check_each(const kl_bytes *patterns, size_t n, kl_buf *tmp)
{
    char why[256];
    size_t at;

    for (size_t i = 0; i < n; i++) {
        pcre2_code *code;
        kl_rc rc;

        kl_buf_reset(tmp);
        rc = kl_excludes_translate(tmp, patterns[i]);
        if (rc != KL_OK)
            return rc;
        if (compile(kl_buf_bytes(tmp), &code, why, sizeof(why), &at) != KL_OK)
            return kl_err_set(KL_EPARSE,
                              "excludes[%zu] \"%.*s\" is not a valid regular expression: %s "
                              "(at offset %zu)",
                              i, (int)patterns[i].len, (const char *)patterns[i].ptr, why, at);
        pcre2_code_free(code);
    }
    return KL_OK;
}

kl_rc
kl_excludes_compile(kl_excludes **out, const kl_bytes *patterns, size_t n)
{
    kl_excludes *x = NULL;
    char why[256];
    size_t at;
    kl_buf tmp, joined;
    kl_rc rc;

    *out = NULL;
    kl_buf_init(&tmp, (size_t)1 << 30);
    kl_buf_init(&joined, (size_t)1 << 30);
    rc = check_each(patterns, n, &tmp);
    for (size_t i = 0; rc == KL_OK && i < n; i++) {
        rc = kl_buf_append_str(&joined, i ? ")|(" : "(");
        if (rc == KL_OK)
            rc = kl_excludes_translate(&joined, patterns[i]);
    }
    if (rc == KL_OK && n)
        rc = kl_buf_append_byte(&joined, ')');
    if (rc != KL_OK)
        goto out;
    x = kl_calloc(1, sizeof(*x));
    if (!x) {
        rc = kl_err_set(KL_ENOMEM, "out of memory");
        goto out;
    }
    if (n && compile(kl_buf_bytes(&joined), &x->code, why, sizeof(why), &at) != KL_OK) {
        rc = kl_err_set(KL_EPARSE, "the joined exclude list is not a valid regular expression: %s",
                        why);
        goto out;
    }
    if (x->code)
        (void)pcre2_jit_compile(x->code, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
    *out = x;
    x = NULL;
out:
    kl_excludes_free(x);
    kl_buf_free(&tmp);
    kl_buf_free(&joined);
    return rc;
}

void
kl_excludes_free(kl_excludes *x)
{
    if (!x)
        return;
    pcre2_code_free(x->code);
    kl_free(x);
}

kl_rc
kl_excludes_matcher_new(const kl_excludes *x, kl_excludes_matcher **out)
{
    kl_excludes_matcher *m = kl_calloc(1, sizeof(*m));

    *out = NULL;
    if (!m)
        return kl_err_set(KL_ENOMEM, "out of memory");
    m->x = x;
    if (x && x->code && !(m->md = pcre2_match_data_create_from_pattern(x->code, NULL))) {
        kl_free(m);
        return kl_err_set(KL_ENOMEM, "out of memory");
    }
    *out = m;
    return KL_OK;
}

void
kl_excludes_matcher_free(kl_excludes_matcher *m)
{
    if (!m)
        return;
    pcre2_match_data_free(m->md);
    kl_free(m);
}

bool
kl_excludes_match(kl_excludes_matcher *m, kl_bytes path)
{
    if (!m || !m->x || !m->x->code)
        return false;
    return pcre2_match(m->x->code, path.ptr, path.len, 0, 0, m->md, NULL) >= 0;
}
