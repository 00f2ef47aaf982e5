#include "policy/policy_doc.h"

#include "policy/legacy.h"
#include "util/kl_alloc.h"

#include "json/json.h"
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DOC_TEXT_MAX ((size_t)4 << 30)
#define NAME_MAX_BYTES ((size_t)1 << 20)

struct kl_policy_doc {
    json_t *root;
    json_t *meta, *maps[KL_POLICY_NMAPS], *excludes, *ima, *ignored;
    kl_buf scratch;
};

static const char *const map_names[KL_POLICY_NMAPS] = {"digests", "keyrings", "ima-buf"};

void
kl_policy_doc_note(kl_policy_note_fn fn, void *payload, kl_log_level level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (!fn)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fn(level, msg, payload);
}

static kl_rc
oom(void)
{
    return kl_err_set(KL_ENOMEM, "out of memory");
}

kl_rc
kl_policy_doc_new(kl_policy_doc **out)
{
    kl_policy_doc *d = kl_calloc(1, sizeof(*d));

    *out = NULL;
    if (!d)
        return oom();
    kl_buf_init(&d->scratch, NAME_MAX_BYTES * 4);
    d->root = json_pack("{s:{s:i,s:i},s:i,s:{},s:[],s:{},s:{s:[],s:s,s:n},s:{},s:s}", "meta",
                        "version", 1, "generator", KL_POLICY_GEN_EMPTY, "release", 0, "digests",
                        "excludes", "keyrings", "ima", "ignored_keyrings", "log_hash_alg", "sha1",
                        "dm_policy", "ima-buf", "verification-keys", "");
    if (!d->root) {
        kl_free(d);
        return oom();
    }
    d->meta = json_object_get(d->root, "meta");
    for (int i = 0; i < KL_POLICY_NMAPS; i++)
        d->maps[i] = json_object_get(d->root, map_names[i]);
    d->excludes = json_object_get(d->root, "excludes");
    d->ima = json_object_get(d->root, "ima");
    d->ignored = json_object_get(d->ima, "ignored_keyrings");
    *out = d;
    return KL_OK;
}

void
kl_policy_doc_free(kl_policy_doc *d)
{
    if (!d)
        return;
    json_decref(d->root);
    kl_buf_free(&d->scratch);
    kl_free(d);
}

kl_rc
kl_policy_doc_escape(kl_buf *out, kl_bytes s)
{
    kl_rc rc = KL_OK;

    for (size_t i = 0; rc == KL_OK && i < s.len;) {
        uint32_t cp;
        size_t n = kl_legacy_utf8_next(s.ptr + i, s.len - i, &cp);

        if (n == 1 && cp == 0)
            return kl_err_set(KL_EINVAL, "a name or digest contains a NUL byte");
        if (n) {
            rc = kl_buf_append(out, s.ptr + i, n);
            i += n;
            continue;
        }
        /* U+DC00 + byte, in its 3-byte form: ED B2..B3 xx */
        rc = kl_buf_append_byte(out, 0xed);
        if (rc == KL_OK)
            rc = kl_buf_append_byte(out, (uint8_t)(0xb0 | (s.ptr[i] >> 6)));
        if (rc == KL_OK)
            rc = kl_buf_append_byte(out, (uint8_t)(0x80 | (s.ptr[i] & 0x3f)));
        i++;
    }
    return rc;
}

/* A JSON string holding s (escaped as above). */
static kl_rc
make_string(kl_policy_doc *d, kl_bytes s, json_t **out)
{
    kl_rc rc;

    kl_buf_reset(&d->scratch);
    rc = kl_policy_doc_escape(&d->scratch, s);
    if (rc != KL_OK)
        return rc;
    *out = json_stringn_nocheck(d->scratch.ptr ? (const char *)d->scratch.ptr : "", d->scratch.len);
    return *out ? KL_OK : oom();
}

static kl_rc
append_string(kl_policy_doc *d, json_t *array, kl_bytes s)
{
    json_t *j;
    kl_rc rc = make_string(d, s, &j);

    if (rc == KL_OK && json_array_append_new(array, j) != 0)
        rc = oom();
    return rc;
}

kl_rc
kl_policy_doc_add(kl_policy_doc *d, kl_policy_map_id map, kl_bytes name, kl_bytes digest)
{
    json_t *m, *list;
    kl_rc rc;

    if ((unsigned)map >= KL_POLICY_NMAPS)
        return kl_err_set(KL_EINVAL, "no such policy map");
    m = d->maps[map];
    kl_buf_reset(&d->scratch);
    rc = kl_policy_doc_escape(&d->scratch, name);
    if (rc != KL_OK)
        return rc;
    list = json_object_getn(m, d->scratch.ptr ? (const char *)d->scratch.ptr : "", d->scratch.len);
    if (!list) {
        list = json_array();
        if (!list ||
            json_object_setn_new_nocheck(m, d->scratch.ptr ? (const char *)d->scratch.ptr : "",
                                         d->scratch.len, list) != 0)
            return oom();
    }
    if (!json_is_array(list))
        return kl_err_set(KL_EINVAL, "%s: a name's digests are not a list", map_names[map]);
    return append_string(d, list, digest);
}

kl_rc
kl_policy_doc_add_exclude(kl_policy_doc *d, kl_bytes regex)
{
    return append_string(d, d->excludes, regex);
}

kl_rc
kl_policy_doc_add_ignored_keyring(kl_policy_doc *d, kl_bytes name)
{
    return append_string(d, d->ignored, name);
}

bool
kl_policy_doc_keyring_ignored(const kl_policy_doc *d, kl_bytes name)
{
    size_t i;
    json_t *v;

    json_array_foreach(d->ignored, i, v)
    {
        if (json_is_string(v) &&
            kl_bytes_eq(name, KL_BYTES(json_string_value(v), json_string_length(v))))
            return true;
    }
    return false;
}

kl_bytes
kl_policy_doc_vkeys(const kl_policy_doc *d)
{
    json_t *v = json_object_get(d->root, "verification-keys");

    if (!json_is_string(v))
        return KL_BYTES("", 0);
    return KL_BYTES(json_string_value(v), json_string_length(v));
}

kl_rc
kl_policy_doc_set_vkeys(kl_policy_doc *d, kl_bytes text)
{
    json_t *j;
    kl_rc rc = make_string(d, text, &j);

    if (rc == KL_OK && json_object_set_new(d->root, "verification-keys", j) != 0)
        rc = oom();
    return rc;
}

bool
kl_policy_doc_first_digest(const kl_policy_doc *d, kl_policy_map_id map, kl_bytes *out)
{
    void *it = (unsigned)map < KL_POLICY_NMAPS ? json_object_iter(d->maps[map]) : NULL;
    json_t *first = it ? json_array_get(json_object_iter_value(it), 0) : NULL;

    if (!json_is_string(first))
        return false;
    *out = KL_BYTES(json_string_value(first), json_string_length(first));
    return true;
}

static int
cmp_json_strings(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    size_t xl = json_string_length(x), yl = json_string_length(y);
    int c = memcmp(json_string_value(x), json_string_value(y), xl < yl ? xl : yl);

    /* UTF-8 byte order is code point order, as Python sorts strings */
    return c ? c : (xl > yl) - (xl < yl);
}

/* sorted(set(list)) for a list of strings, in place. */
static kl_rc
sort_unique(json_t *list, const char *what)
{
    size_t n = json_array_size(list), kept = 0;
    json_t **items;
    kl_rc rc = KL_OK;

    if (!json_is_array(list))
        return kl_err_set(KL_EPARSE, "%s must be a list of strings", what);
    if (n == 0)
        return KL_OK;
    items = kl_calloc(n, sizeof(*items));
    if (!items)
        return oom();
    for (size_t i = 0; i < n; i++) {
        items[i] = json_incref(json_array_get(list, i));
        if (!json_is_string(items[i]) && rc == KL_OK)
            rc = kl_err_set(KL_EPARSE, "%s[%zu] is not a string", what, i);
    }
    if (rc == KL_OK) {
        qsort(items, n, sizeof(*items), cmp_json_strings);
        json_array_clear(list);
    }
    for (size_t i = 0; rc == KL_OK && i < n; i++) {
        if (kept && cmp_json_strings(&items[i], &items[kept - 1]) == 0)
            continue;
        if (json_array_append(list, items[i]) != 0)
            rc = oom();
        kept = i + 1;
    }
    for (size_t i = 0; i < n; i++)
        json_decref(items[i]);
    kl_free(items);
    return rc;
}

/* merge_lists(dst, src): dst + src, sorted and unique. */
static kl_rc
merge_list(json_t *dst, json_t *src, const char *what)
{
    size_t i;
    json_t *v;

    if (!src)
        return KL_OK;
    if (!json_is_array(src))
        return kl_err_set(KL_EPARSE, "base policy: %s must be a list", what);
    json_array_foreach(src, i, v)
    {
        if (json_array_append_new(dst, json_deep_copy(v)) != 0)
            return oom();
    }
    return sort_unique(dst, what);
}

/* merge_maplists(dst, src): new names take src's list, known names merge. */
static kl_rc
merge_map(json_t *dst, json_t *src, const char *what)
{
    const char *key;
    size_t klen;
    json_t *v, *have;
    kl_rc rc;

    if (!src)
        return KL_OK;
    if (!json_is_object(src))
        return kl_err_set(KL_EPARSE, "base policy: %s must be an object", what);
    json_object_keylen_foreach(src, key, klen, v)
    {
        have = json_object_getn(dst, key, klen);
        if (!have) {
            if (json_object_setn_new_nocheck(dst, key, klen, json_deep_copy(v)) != 0)
                return oom();
            continue;
        }
        rc = merge_list(have, v, what);
        if (rc != KL_OK)
            return rc;
    }
    return KL_OK;
}

static kl_rc validate(kl_bytes text);

kl_rc
kl_policy_doc_merge_base(kl_policy_doc *d, kl_bytes text)
{
    json_t *base = NULL, *ima, *v;
    kl_buf dumped;
    kl_rc rc;

    kl_buf_init(&dumped, DOC_TEXT_MAX);
    rc = kl_json_parse(text, "base policy", &base);
    if (rc == KL_OK && !json_is_object(base))
        rc = kl_err_set(KL_EPARSE, "base policy: not a JSON object");
    for (int m = 0; rc == KL_OK && m < KL_POLICY_NMAPS; m++)
        rc = merge_map(d->maps[m], json_object_get(base, map_names[m]), map_names[m]);
    if (rc == KL_OK)
        rc = merge_list(d->excludes, json_object_get(base, "excludes"), "excludes");
    ima = rc == KL_OK ? json_object_get(base, "ima") : NULL;
    if (ima && !json_is_object(ima))
        rc = kl_err_set(KL_EPARSE, "base policy: ima must be an object");
    if (rc == KL_OK && ima && (v = json_object_get(ima, "log_hash_alg")) != NULL &&
        json_object_set_new(d->ima, "log_hash_alg", json_deep_copy(v)) != 0)
        rc = oom();
    if (rc == KL_OK && ima)
        rc = merge_list(d->ignored, json_object_get(ima, "ignored_keyrings"),
                        "ima.ignored_keyrings");
    if (rc == KL_OK && (v = json_object_get(base, "verification-keys")) != NULL &&
        json_object_set_new(d->root, "verification-keys", json_deep_copy(v)) != 0)
        rc = oom();
    if (rc == KL_OK)
        rc = kl_json_dump_py(&dumped, d->root);
    if (rc == KL_OK)
        rc = validate(kl_buf_bytes(&dumped));
    if (rc == KL_EPARSE)
        kl_err_wrap(rc, "could not convert the base policy to a valid runtime policy: ");
    kl_buf_free(&dumped);
    json_decref(base);
    return rc;
}

kl_rc
kl_policy_doc_finish(kl_policy_doc *d, int generator)
{
    char ts[40];
    const char *key;
    json_t *list;
    kl_rc rc = KL_OK;

    for (int m = 0; rc == KL_OK && m < KL_POLICY_NMAPS; m++) {
        json_object_foreach(d->maps[m], key, list)
        {
            rc = sort_unique(list, map_names[m]);
            if (rc != KL_OK)
                break;
        }
    }
    if (rc == KL_OK)
        rc = sort_unique(d->excludes, "excludes");
    if (rc == KL_OK)
        rc = sort_unique(d->ignored, "ima.ignored_keyrings");
    if (rc != KL_OK)
        return rc;
    kl_policy_doc_timestamp(ts, sizeof(ts));
    if (json_object_set_new(d->meta, "generator", json_integer(generator)) != 0 ||
        json_object_set_new(d->meta, "timestamp", json_string(ts)) != 0)
        return oom();
    return KL_OK;
}

static kl_rc
validate(kl_bytes text)
{
    kl_runtime_policy *p = NULL;
    kl_rc rc = kl_runtime_policy_load(&p, text, NULL);

    kl_runtime_policy_free(p);
    return rc == KL_ENOMEM ? rc : rc != KL_OK ? KL_EPARSE : KL_OK;
}

kl_rc
kl_policy_doc_dump(const kl_policy_doc *d, kl_buf *out)
{
    size_t start = out->len;
    kl_rc rc = kl_json_dump_py(out, d->root);

    if (rc == KL_OK)
        rc = validate(KL_BYTES(out->ptr + start, out->len - start));
    if (rc != KL_OK)
        out->len = start;
    return rc;
}

/* Writes text back as the bytes it came from (escape surrogates to bytes). */
static kl_rc
append_raw(kl_buf *out, const char *text, size_t n)
{
    const uint8_t *p = (const uint8_t *)text;
    kl_rc rc = KL_OK;

    for (size_t i = 0; rc == KL_OK && i < n; i++) {
        if (p[i] == 0xed && i + 2 < n && (p[i + 1] & 0xfe) == 0xb2) {
            rc = kl_buf_append_byte(out, (uint8_t)((p[i + 1] & 1) << 6 | (p[i + 2] & 0x3f)));
            i += 2;
        } else {
            rc = kl_buf_append_byte(out, p[i]);
        }
    }
    return rc;
}

/* "<digest>  <name>\n" for each digest of one name. */
static kl_rc
legacy_lines(kl_buf *out, const char *name, size_t nlen, json_t *list)
{
    kl_rc rc = KL_OK;

    for (size_t i = 0; rc == KL_OK && i < json_array_size(list); i++) {
        json_t *d = json_array_get(list, i);

        rc = append_raw(out, json_string_value(d), json_string_length(d));
        if (rc == KL_OK)
            rc = kl_buf_append_str(out, "  ");
        if (rc == KL_OK)
            rc = append_raw(out, name, nlen);
        if (rc == KL_OK)
            rc = kl_buf_append_byte(out, '\n');
    }
    return rc;
}

kl_rc
kl_policy_doc_dump_legacy(const kl_policy_doc *d, kl_buf *out)
{
    static const char boot[] = "boot_aggregate";
    json_t *digests = d->maps[KL_POLICY_DIGESTS], *list;
    const char *key;
    size_t klen;
    kl_rc rc;

    /* boot_aggregate first, as upstream prints it */
    rc = legacy_lines(out, boot, sizeof(boot) - 1, json_object_get(digests, boot));
    json_object_keylen_foreach(digests, key, klen, list)
    {
        if (rc == KL_OK && !(klen == sizeof(boot) - 1 && memcmp(key, boot, klen) == 0))
            rc = legacy_lines(out, key, klen, list);
    }
    return rc;
}

void
kl_policy_doc_timestamp(char *out, size_t n)
{
    struct timespec ts;
    struct tm tm;
    size_t len;

    clock_gettime(CLOCK_REALTIME, &ts);
    localtime_r(&ts.tv_sec, &tm);
    len = strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm);
    if (ts.tv_nsec / 1000 != 0 && len < n)
        snprintf(out + len, n - len, ".%06ld", (long)(ts.tv_nsec / 1000));
}
