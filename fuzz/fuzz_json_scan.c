/* fuzz_json_scan: the pull JSON scanner (json/json_scan.h).
 *
 * The input is any JSON text. It is walked with the pull API (objects,
 * arrays, strings, integers), which rebuilds it as a jansson tree; it is
 * also skipped as one value. Checks: both walks agree, string views lie in
 * the text or the scratch, integers agree with strtoll/strtod, and the
 * scanner agrees with jansson: same verdict and equal trees, except where
 * the two are documented to differ (lone surrogates, numbers jansson
 * cannot represent, nesting deeper than KL_JSON_MAX_DEPTH, NUL in keys).
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>

#include "fuzz_util.h"
#include "json/json.h"
#include "json/json_scan.h"

typedef struct {
    kl_bytes text;
    bool comparable; /* jansson can express what was read */
} walk;

static void
check_string_view(const walk *w, const kl_json_scan *s, kl_bytes v)
{
    FUZZ_CHECK(fuzz_within(v, w->text.ptr, w->text.len) ||
               fuzz_within(v, s->key_scratch.ptr, s->key_scratch.len) ||
               fuzz_within(v, s->val_scratch.ptr, s->val_scratch.len));
}

/* A number: its text, the int reading of it, and a jansson value. */
static kl_rc
walk_number(walk *w, kl_json_scan *s, json_t **out)
{
    char text[512];
    kl_json_scan n;
    kl_bytes span;
    int64_t v = 0;
    bool integral;
    kl_rc rc, irc;
    char *end;

    rc = kl_json_scan_skip(s, &span);
    if (rc != KL_OK)
        return rc;
    if (span.len >= sizeof(text)) {
        w->comparable = false;
        return KL_OK;
    }
    memcpy(text, span.ptr, span.len);
    text[span.len] = '\0';
    integral = strpbrk(text, ".eE") == NULL;
    kl_json_scan_init_at(&n, w->text, span);
    irc = kl_json_scan_int(&n, &v);
    FUZZ_CHECK(irc == KL_OK || irc == KL_EINVAL);
    FUZZ_CHECK(n.p == span.ptr + span.len);
    kl_json_scan_free(&n);
    if (integral) {
        long long ll;

        errno = 0;
        ll = strtoll(text, &end, 10);
        FUZZ_CHECK(*end == '\0');
        FUZZ_CHECK((irc == KL_OK) == (span.len < 64 && errno != ERANGE));
        FUZZ_CHECK(irc != KL_OK || v == ll);
        if (errno == ERANGE)
            w->comparable = false; /* jansson: "too big integer" */
        *out = json_integer(ll);
    } else {
        double d = strtod(text, &end);

        FUZZ_CHECK(*end == '\0');
        FUZZ_CHECK((irc == KL_OK) ==
                   (span.len < 64 && isfinite(d) && d == floor(d) && fabs(d) <= 9.0e15));
        FUZZ_CHECK(irc != KL_OK || (double)v == d);
        if (isinf(d))
            w->comparable = false; /* jansson: "real number overflow" */
        *out = json_real(d);
    }
    return KL_OK;
}

static kl_rc walk_value(walk *w, kl_json_scan *s, unsigned depth, json_t **out);

static kl_rc
walk_object(walk *w, kl_json_scan *s, unsigned depth, json_t **out)
{
    kl_bytes key;
    bool more;
    kl_rc rc;

    if (depth >= KL_JSON_MAX_DEPTH)
        w->comparable = false;
    rc = kl_json_scan_object_begin(s);
    if (rc != KL_OK)
        return rc;
    FUZZ_CHECK(s->depth == depth + 1);
    *out = json_object();
    while ((rc = kl_json_scan_object_next(s, &more, &key)) == KL_OK && more) {
        char *k;
        json_t *v = NULL;

        check_string_view(w, s, key);
        if (fuzz_has_byte(key, 0))
            w->comparable = false; /* jansson refuses NUL in keys */
        k = kl_strndup((const char *)key.ptr, key.len); /* key is valid until the next key */
        FUZZ_CHECK(k != NULL);
        rc = walk_value(w, s, depth + 1, &v);
        if (rc == KL_OK && *out && v && json_object_setn_new(*out, k, key.len, v) != 0)
            w->comparable = false;
        else if (rc != KL_OK || !*out)
            json_decref(v);
        kl_free(k);
        if (rc != KL_OK)
            break;
    }
    FUZZ_CHECK(rc != KL_OK || s->depth == depth);
    return rc;
}

static kl_rc
walk_array(walk *w, kl_json_scan *s, unsigned depth, json_t **out)
{
    bool more;
    kl_rc rc;

    if (depth >= KL_JSON_MAX_DEPTH)
        w->comparable = false;
    rc = kl_json_scan_array_begin(s);
    if (rc != KL_OK)
        return rc;
    *out = json_array();
    while ((rc = kl_json_scan_array_next(s, &more)) == KL_OK && more) {
        json_t *v = NULL;

        rc = walk_value(w, s, depth + 1, &v);
        if (rc != KL_OK) {
            json_decref(v);
            break;
        }
        if (*out && v)
            json_array_append_new(*out, v);
        else
            json_decref(v);
    }
    FUZZ_CHECK(rc != KL_OK || s->depth == depth);
    return rc;
}

static kl_rc
walk_value(walk *w, kl_json_scan *s, unsigned depth, json_t **out)
{
    kl_json_type t = kl_json_scan_peek(s);
    kl_bytes v;
    kl_rc rc;

    *out = NULL;
    (void)kl_json_type_name(t);
    switch (t) {
    case KL_JSON_OBJECT:
        return walk_object(w, s, depth, out);
    case KL_JSON_ARRAY:
        return walk_array(w, s, depth, out);
    case KL_JSON_STRING:
        rc = kl_json_scan_string(s, &v);
        if (rc != KL_OK)
            return rc;
        check_string_view(w, s, v);
        /* NULL for lone surrogates, which jansson refuses */
        *out = json_stringn(v.len ? (const char *)v.ptr : "", v.len);
        if (!*out)
            w->comparable = false;
        return KL_OK;
    case KL_JSON_NUMBER:
        return walk_number(w, s, out);
    case KL_JSON_TRUE:
    case KL_JSON_FALSE:
    case KL_JSON_NULL:
        rc = kl_json_scan_skip(s, &v);
        if (rc == KL_OK)
            *out = t == KL_JSON_TRUE    ? json_true()
                   : t == KL_JSON_FALSE ? json_false()
                                        : json_null();
        return rc;
    default:
        rc = kl_json_scan_skip(s, NULL);
        FUZZ_CHECK(rc == KL_EPARSE);
        return rc;
    }
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    walk w = {fuzz_input(data, size), true};
    kl_json_scan s, k;
    json_t *built = NULL, *ref = NULL;
    kl_bytes span;
    char where[64];
    kl_rc rc, krc;

    /* jansson skips NUL bytes outside strings ("4\0" is 4) */
    if (size && memchr(data, 0, size))
        w.comparable = false;
    kl_json_scan_init(&s, w.text);
    rc = walk_value(&w, &s, 0, &built);
    if (rc == KL_OK)
        rc = kl_json_scan_finish(&s);
    kl_json_scan_where(&s, where, sizeof(where));
    FUZZ_CHECK(rc == KL_OK || rc == KL_EPARSE);
    if (rc != KL_OK)
        fuzz_touch_error();
    kl_json_scan_free(&s);

    /* skipping the value agrees with walking it */
    kl_json_scan_init(&k, w.text);
    krc = kl_json_scan_skip(&k, &span);
    if (krc == KL_OK)
        krc = kl_json_scan_finish(&k);
    FUZZ_CHECK(krc == rc);
    kl_json_scan_free(&k);

    /* and jansson agrees, where it can */
    if (kl_json_parse(w.text, "fuzz", &ref) != KL_OK)
        ref = NULL;
    if (w.comparable && (rc == KL_OK || ref)) {
        if ((rc == KL_OK) != (ref != NULL) || (ref && built && !json_equal(built, ref))) {
            fprintf(stderr, "scanner %s, jansson %s: %s\n", rc == KL_OK ? "accepts" : "refuses",
                    ref ? "accepts" : "refuses", kl_err_msg());
            FUZZ_CHECK(!"the scanner and jansson disagree");
        }
    }
    json_decref(built);
    json_decref(ref);
    return 0;
}
