#include "policy/runtime_policy.h"

#include <string.h>

#include "json/json_scan.h"
#include "policy/dsse.h"
#include "util/kl_alloc.h"

#define POLICY_TEXT_MAX ((size_t)1 << 31)
#define NAME_SHOW 120

/* The members we read, in upstream's schema order. */
enum { M_META, M_RELEASE, M_DIGESTS, M_EXCLUDES, M_KEYRINGS, M_IMA, M_IMA_BUF, M_VKEYS, M_COUNT };

static const char *const member_names[M_COUNT] = {
    "meta", "release", "digests", "excludes", "keyrings", "ima", "ima-buf", "verification-keys",
};

struct kl_runtime_policy {
    kl_digest_map *maps[KL_POLICY_NMAPS];
    kl_excludes *excludes;
    kl_hash_alg log_hash_alg;
    kl_buf ignored; /* NUL-separated keyring names */
    bool ignore_all;
    kl_ima_keyrings *keys;
    int generator;
    kl_policy_sig_state sig;
    uint8_t checksum[32];
};

/* Parsing context: the whole text (for positions) and the error prefix. */
typedef struct {
    kl_bytes text;
    kl_bytes span[M_COUNT];
    bool have[M_COUNT];
    const kl_runtime_policy_opts *opts;
} ctx;

static kl_rc
bad(const char *fmt, const char *a, const char *b)
{
    return kl_err_set(KL_EPARSE, fmt, a, b);
}

static kl_rc
wrong_type(kl_json_scan *s, const char *what, const char *want)
{
    char where[48];

    kl_json_scan_where(s, where, sizeof(where));
    return kl_err_set(KL_EPARSE, "runtime policy: %s must be %s, found %s (%s)", what, want,
                      kl_json_type_name(kl_json_scan_peek(s)), where);
}

/* A name as shown in messages (long ones cut). */
static const char *
shown(kl_bytes name, char *buf, size_t len)
{
    snprintf(buf, len, "%.*s%s", (int)(name.len > NAME_SHOW ? NAME_SHOW : name.len),
             (const char *)name.ptr, name.len > NAME_SHOW ? "..." : "");
    return buf;
}

static kl_rc
not_a_digest(const char *member, kl_bytes name, size_t i)
{
    char buf[NAME_SHOW + 4];

    return kl_err_set(KL_EPARSE,
                      "runtime policy: %s[\"%s\"][%zu] is not a digest (expected 40 to 128 "
                      "lowercase hex digits)",
                      member, shown(name, buf, sizeof(buf)), i);
}

/* One name's digests. Upstream's schema wants ^[0-9a-f]{40,128}$ for each
 * and at least one; the index checks the characters while it decodes. */
static kl_rc
read_digest_list(kl_json_scan *s, kl_digest_map *m, const char *member, kl_bytes name,
                 bool schema)
{
    char buf[NAME_SHOW + 64];
    size_t count = 0;
    bool more, hex;
    kl_bytes d;
    kl_rc rc;

    if (kl_json_scan_peek(s) != KL_JSON_ARRAY) {
        char what[2 * NAME_SHOW + 64];

        snprintf(what, sizeof(what), "%s[\"%s\"]", member, shown(name, buf, sizeof(buf)));
        return wrong_type(s, what, "a list of digests");
    }
    rc = kl_digest_map_begin(m, name);
    if (rc == KL_OK)
        rc = kl_json_scan_array_begin(s);
    while (rc == KL_OK && (rc = kl_json_scan_array_next(s, &more)) == KL_OK && more) {
        if (kl_json_scan_peek(s) != KL_JSON_STRING)
            return not_a_digest(member, name, count);
        rc = kl_json_scan_string(s, &d);
        if (rc != KL_OK)
            return rc;
        if (schema && (d.len < 40 || d.len > 128))
            return not_a_digest(member, name, count);
        /* without the schema, odd values are kept but can never match */
        if (d.len && (rc = kl_digest_map_add_hex(m, d, &hex)) == KL_EINVAL)
            return not_a_digest(member, name, count);
        if (rc == KL_OK && schema && !hex)
            return not_a_digest(member, name, count);
        count++;
    }
    if (rc == KL_OK && count == 0 && schema)
        rc = bad("runtime policy: %s[\"%s\"] is an empty list (at least one digest is required)",
                 member, shown(name, buf, sizeof(buf)));
    return rc;
}

static kl_rc
read_map(ctx *c, int member, kl_digest_map **out)
{
    kl_json_scan s;
    kl_bytes key;
    bool more;
    kl_rc rc;

    rc = kl_digest_map_new(out);
    if (rc != KL_OK || !c->have[member])
        return rc == KL_OK ? kl_digest_map_seal(*out) : rc;
    kl_json_scan_init_at(&s, c->text, c->span[member]);
    if (kl_json_scan_peek(&s) != KL_JSON_OBJECT) {
        rc = wrong_type(&s, member_names[member], "an object");
        goto out;
    }
    rc = kl_json_scan_object_begin(&s);
    while (rc == KL_OK && (rc = kl_json_scan_object_next(&s, &more, &key)) == KL_OK && more)
        rc = read_digest_list(&s, *out, member_names[member], key, c->opts->schema);
    if (rc == KL_OK)
        rc = kl_digest_map_seal(*out);
out:
    kl_json_scan_free(&s);
    return rc;
}

static kl_rc
read_int(ctx *c, kl_bytes span, const char *what, int64_t min, int64_t max, int64_t *out)
{
    kl_json_scan s;
    kl_rc rc;

    kl_json_scan_init_at(&s, c->text, span);
    if (kl_json_scan_peek(&s) != KL_JSON_NUMBER)
        rc = wrong_type(&s, what, "an integer");
    else if ((rc = kl_json_scan_int(&s, out)) != KL_OK)
        rc = kl_err_wrap(KL_EPARSE, "runtime policy: %s: ", what);
    else if (*out < min || *out > max)
        rc = kl_err_set(KL_EPARSE, "runtime policy: %s is %lld, must be between %lld and %lld",
                        what, (long long)*out, (long long)min, (long long)max);
    kl_json_scan_free(&s);
    return rc;
}

/* A list of strings, appended NUL-separated to out; *n counts them. */
static kl_rc
read_strings(ctx *c, kl_bytes span, const char *what, kl_buf *out, size_t *n)
{
    kl_json_scan s;
    kl_bytes v;
    bool more;
    kl_rc rc;

    *n = 0;
    kl_json_scan_init_at(&s, c->text, span);
    if (kl_json_scan_peek(&s) != KL_JSON_ARRAY) {
        rc = wrong_type(&s, what, "a list of strings");
        goto out;
    }
    rc = kl_json_scan_array_begin(&s);
    while (rc == KL_OK && (rc = kl_json_scan_array_next(&s, &more)) == KL_OK && more) {
        if (kl_json_scan_peek(&s) != KL_JSON_STRING) {
            char item[64];

            snprintf(item, sizeof(item), "%s[%zu]", what, *n);
            rc = wrong_type(&s, item, "a string");
            break;
        }
        rc = kl_json_scan_string(&s, &v);
        /* the list is kept NUL-separated: a NUL inside would split a name */
        if (rc == KL_OK && v.len && memchr(v.ptr, 0, v.len))
            rc = kl_err_set(KL_EPARSE, "runtime policy: %s[%zu] contains a NUL character", what,
                            *n);
        if (rc == KL_OK)
            rc = kl_buf_append(out, v.ptr, v.len);
        if (rc == KL_OK)
            rc = kl_buf_append_byte(out, 0);
        (*n)++;
    }
out:
    kl_json_scan_free(&s);
    return rc;
}

static kl_rc
read_meta(ctx *c, kl_runtime_policy *p)
{
    kl_json_scan s;
    kl_bytes key, span;
    bool more, have_version = false, have_generator = false;
    int64_t v;
    kl_rc rc;

    p->generator = 0;
    if (!c->have[M_META])
        return KL_OK;
    kl_json_scan_init_at(&s, c->text, c->span[M_META]);
    if (kl_json_scan_peek(&s) != KL_JSON_OBJECT) {
        rc = wrong_type(&s, "meta", "an object");
        goto out;
    }
    rc = kl_json_scan_object_begin(&s);
    while (rc == KL_OK && (rc = kl_json_scan_object_next(&s, &more, &key)) == KL_OK && more) {
        bool version = kl_bytes_eq_str(key, "version");
        bool generator = kl_bytes_eq_str(key, "generator");
        bool timestamp = kl_bytes_eq_str(key, "timestamp");

        if (timestamp && kl_json_scan_peek(&s) != KL_JSON_STRING) {
            rc = wrong_type(&s, "meta.timestamp", "a string");
            break;
        }
        rc = kl_json_scan_skip(&s, &span);
        if (rc == KL_OK && version) {
            rc = read_int(c, span, "meta.version", 0, INT64_MAX, &v);
            have_version = true;
        } else if (rc == KL_OK && generator) {
            rc = read_int(c, span, "meta.generator", 0, 3, &v);
            p->generator = (int)v;
            have_generator = true;
        }
    }
    if (rc == KL_OK && c->opts->schema && (!have_version || !have_generator))
        rc = bad("runtime policy: meta.%s is missing%s", have_version ? "generator" : "version", "");
out:
    kl_json_scan_free(&s);
    return rc;
}

static kl_rc
read_log_hash_alg(ctx *c, kl_bytes span, kl_runtime_policy *p)
{
    kl_json_scan s;
    kl_bytes v;
    kl_rc rc;

    kl_json_scan_init_at(&s, c->text, span);
    if (kl_json_scan_peek(&s) != KL_JSON_STRING)
        rc = wrong_type(&s, "ima.log_hash_alg", "a string");
    else if ((rc = kl_json_scan_string(&s, &v)) == KL_OK &&
             (!kl_hash_from_name(v, &p->log_hash_alg) || p->log_hash_alg > KL_HASH_SHA512))
        rc = kl_err_set(KL_EPARSE,
                        "runtime policy: ima.log_hash_alg is \"%.*s\", expected one of sha1, "
                        "sha256, sha384, sha512",
                        (int)(v.len > 32 ? 32 : v.len), (const char *)v.ptr);
    kl_json_scan_free(&s);
    return rc;
}

static kl_rc
read_ima(ctx *c, kl_runtime_policy *p)
{
    kl_json_scan s;
    kl_bytes key, span;
    bool more, have[3] = {false, false, false};
    size_t n;
    kl_rc rc;

    p->log_hash_alg = KL_HASH_SHA1;
    if (!c->have[M_IMA])
        return KL_OK;
    kl_json_scan_init_at(&s, c->text, c->span[M_IMA]);
    if (kl_json_scan_peek(&s) != KL_JSON_OBJECT) {
        rc = wrong_type(&s, "ima", "an object");
        goto out;
    }
    rc = kl_json_scan_object_begin(&s);
    while (rc == KL_OK && (rc = kl_json_scan_object_next(&s, &more, &key)) == KL_OK && more) {
        /* before the value: reading its keys may reuse the memory of key */
        bool ignored = kl_bytes_eq_str(key, "ignored_keyrings");
        bool alg = kl_bytes_eq_str(key, "log_hash_alg");
        bool dm = kl_bytes_eq_str(key, "dm_policy");

        if (dm && kl_json_scan_peek(&s) != KL_JSON_NULL) {
            rc = wrong_type(&s, "ima.dm_policy",
                            "null (device-mapper policies are not supported, as upstream)");
            break;
        }
        rc = kl_json_scan_skip(&s, &span);
        if (rc != KL_OK)
            break;
        if (ignored) {
            kl_buf_reset(&p->ignored);
            rc = read_strings(c, span, "ima.ignored_keyrings", &p->ignored, &n);
            have[0] = true;
        } else if (alg) {
            rc = read_log_hash_alg(c, span, p);
            have[1] = true;
        } else if (dm) {
            have[2] = true;
        }
    }
    if (rc == KL_OK && c->opts->schema && !(have[0] && have[1] && have[2]))
        rc = bad("runtime policy: ima.%s is missing%s",
                 !have[0] ? "ignored_keyrings" : !have[1] ? "log_hash_alg" : "dm_policy", "");
out:
    kl_json_scan_free(&s);
    return rc;
}

static kl_rc
read_excludes(ctx *c, kl_runtime_policy *p)
{
    kl_buf all;
    kl_bytes *pats = NULL;
    size_t n = 0;
    kl_rc rc;

    if (!c->have[M_EXCLUDES])
        return KL_OK;
    kl_buf_init(&all, POLICY_TEXT_MAX);
    rc = read_strings(c, c->span[M_EXCLUDES], "excludes", &all, &n);
    if (rc != KL_OK || n == 0)
        goto out;
    pats = kl_calloc(n, sizeof(*pats));
    if (!pats) {
        rc = kl_err_set(KL_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0, off = 0; i < n; i++) {
        size_t len = strlen((const char *)all.ptr + off);

        pats[i] = KL_BYTES(all.ptr + off, len);
        off += len + 1;
    }
    rc = kl_excludes_compile(&p->excludes, pats, n);
    if (rc != KL_OK)
        kl_err_wrap(rc, "runtime policy: ");
out:
    kl_free(pats);
    kl_buf_free(&all);
    return rc;
}

static kl_rc
read_vkeys(ctx *c, kl_runtime_policy *p)
{
    kl_json_scan s;
    kl_bytes v;
    kl_rc rc;

    if (!c->have[M_VKEYS])
        return KL_OK;
    kl_json_scan_init_at(&s, c->text, c->span[M_VKEYS]);
    if (kl_json_scan_peek(&s) != KL_JSON_STRING)
        rc = wrong_type(&s, "verification-keys", "a string");
    else
        rc = kl_json_scan_string(&s, &v);
    if (rc == KL_OK && v.len) {
        rc = kl_ima_keyrings_new(&p->keys);
        if (rc == KL_OK)
            rc = kl_ima_keyrings_set_tenant(p->keys, v);
        if (rc != KL_OK)
            kl_err_wrap(rc, "runtime policy: verification-keys: ");
    }
    kl_json_scan_free(&s);
    return rc;
}

/* One pass over the top level: where each member's value is (the last
 * occurrence wins, as in Python). */
static kl_rc
find_members(ctx *c)
{
    kl_json_scan s;
    kl_bytes key, span;
    bool more;
    kl_rc rc;

    kl_json_scan_init(&s, c->text);
    if (kl_json_scan_peek(&s) != KL_JSON_OBJECT) {
        rc = wrong_type(&s, "the document", "a JSON object");
        goto out;
    }
    rc = kl_json_scan_object_begin(&s);
    while (rc == KL_OK && (rc = kl_json_scan_object_next(&s, &more, &key)) == KL_OK && more) {
        int which = -1;

        /* before the value: reading its keys may reuse the memory of key */
        for (int m = 0; m < M_COUNT; m++)
            if (kl_bytes_eq_str(key, member_names[m]))
                which = m;
        rc = kl_json_scan_skip(&s, &span);
        if (rc == KL_OK && which >= 0) {
            c->span[which] = span;
            c->have[which] = true;
        }
    }
    if (rc == KL_OK)
        rc = kl_json_scan_finish(&s);
    if (rc != KL_OK && rc != KL_ENOMEM && strncmp(kl_err_msg(), "runtime policy", 14) != 0)
        kl_err_wrap(rc, "runtime policy: ");
out:
    kl_json_scan_free(&s);
    return rc;
}

static kl_rc
parse_policy(kl_runtime_policy *p, kl_bytes text, const kl_runtime_policy_opts *o)
{
    static const kl_policy_map_id map_of[M_COUNT] = {
        [M_DIGESTS] = KL_POLICY_DIGESTS, [M_KEYRINGS] = KL_POLICY_KEYRINGS,
        [M_IMA_BUF] = KL_POLICY_IMA_BUF};
    ctx c = {.text = text, .opts = o};
    int64_t release;
    kl_rc rc;

    rc = find_members(&c);
    for (int m = 0; rc == KL_OK && o->schema && m < M_COUNT; m++)
        if (!c.have[m])
            rc = bad("runtime policy: required key \"%s\" is missing%s", member_names[m], "");
    if (rc == KL_OK)
        rc = read_meta(&c, p);
    if (rc == KL_OK && c.have[M_RELEASE])
        rc = read_int(&c, c.span[M_RELEASE], "release", 0, INT64_MAX, &release);
    for (int m = M_DIGESTS; rc == KL_OK && m <= M_IMA_BUF; m++)
        if (m == M_DIGESTS || m == M_KEYRINGS || m == M_IMA_BUF)
            rc = read_map(&c, m, &p->maps[map_of[m]]);
    if (rc == KL_OK)
        rc = read_excludes(&c, p);
    if (rc == KL_OK)
        rc = read_ima(&c, p);
    if (rc == KL_OK)
        rc = read_vkeys(&c, p);
    return rc;
}

static kl_rc
policy_new(kl_runtime_policy **out)
{
    kl_runtime_policy *p = kl_calloc(1, sizeof(*p));

    *out = p;
    if (!p)
        return kl_err_set(KL_ENOMEM, "out of memory");
    kl_buf_init(&p->ignored, POLICY_TEXT_MAX);
    p->log_hash_alg = KL_HASH_SHA1;
    return KL_OK;
}

static kl_rc
unwrap(kl_runtime_policy *p, kl_bytes text, const kl_runtime_policy_opts *o, kl_buf *payload,
       kl_bytes *policy_text)
{
    bool checked = false, envelope;
    kl_rc rc;

    *policy_text = text;
    rc = kl_dsse_is_envelope(text, &envelope);
    if (rc != KL_OK)
        return rc;
    if (!envelope) {
        if (o->require_signature)
            return kl_err_set(KL_EVERIFY, "runtime policy is not signed, but a signature is "
                                          "required");
        return KL_OK;
    }
    rc = kl_dsse_open(text, o->dsse_key, payload, &checked);
    if (rc != KL_OK)
        return rc;
    if (!checked && o->require_signature)
        return kl_err_set(KL_EVERIFY, "runtime policy is signed, but no key to verify it was "
                                      "given");
    p->sig = checked ? KL_POLICY_SIG_VERIFIED : KL_POLICY_SIG_UNCHECKED;
    *policy_text = kl_buf_bytes(payload);
    return KL_OK;
}

kl_rc
kl_runtime_policy_load(kl_runtime_policy **out, kl_bytes text, const kl_runtime_policy_opts *opts)
{
    static const kl_runtime_policy_opts dflt = KL_RUNTIME_POLICY_OPTS_INIT;
    const kl_runtime_policy_opts *o = opts ? opts : &dflt;
    kl_runtime_policy *p = NULL;
    kl_bytes policy_text;
    kl_buf payload;
    kl_rc rc;

    *out = NULL;
    kl_buf_init(&payload, POLICY_TEXT_MAX);
    rc = policy_new(&p);
    if (rc == KL_OK)
        rc = kl_hash(KL_HASH_SHA256, text.ptr, text.len, p->checksum);
    if (rc == KL_OK)
        rc = unwrap(p, text, o, &payload, &policy_text);
    if (rc == KL_OK)
        rc = parse_policy(p, policy_text, o);
    for (size_t off = 0; rc == KL_OK && off < p->ignored.len;) {
        const char *name = (const char *)p->ignored.ptr + off;

        p->ignore_all |= strcmp(name, "*") == 0;
        off += strlen(name) + 1;
    }
    kl_buf_free(&payload);
    if (rc != KL_OK) {
        kl_runtime_policy_free(p);
        return rc;
    }
    *out = p;
    return KL_OK;
}

kl_rc
kl_runtime_policy_empty(kl_runtime_policy **out)
{
    static const char empty[] =
        "{\"meta\": {\"version\": 1, \"generator\": 1}, \"release\": 0, \"digests\": {}, "
        "\"excludes\": [], \"keyrings\": {}, \"ima\": {\"ignored_keyrings\": [], "
        "\"log_hash_alg\": \"sha1\", \"dm_policy\": null}, \"ima-buf\": {}, "
        "\"verification-keys\": \"\"}";

    return kl_runtime_policy_load(out, KL_BYTES_STR(empty), NULL);
}

void
kl_runtime_policy_free(kl_runtime_policy *p)
{
    if (!p)
        return;
    for (int i = 0; i < KL_POLICY_NMAPS; i++)
        kl_digest_map_free(p->maps[i]);
    kl_excludes_free(p->excludes);
    kl_buf_free(&p->ignored);
    kl_ima_keyrings_free(p->keys);
    kl_free(p);
}

const kl_digest_map *
kl_runtime_policy_map(const kl_runtime_policy *p, kl_policy_map_id id)
{
    return (unsigned)id < KL_POLICY_NMAPS ? p->maps[id] : NULL;
}

const kl_excludes *
kl_runtime_policy_excludes(const kl_runtime_policy *p)
{
    return p->excludes;
}

kl_hash_alg
kl_runtime_policy_log_hash_alg(const kl_runtime_policy *p)
{
    return p->log_hash_alg;
}

bool
kl_runtime_policy_keyring_ignored(const kl_runtime_policy *p, kl_bytes name)
{
    if (p->ignore_all)
        return true;
    for (size_t off = 0; off < p->ignored.len;) {
        const char *n = (const char *)p->ignored.ptr + off;
        size_t len = strlen(n);

        if (kl_bytes_eq(name, KL_BYTES(n, len)))
            return true;
        off += len + 1;
    }
    return false;
}

const kl_ima_keyrings *
kl_runtime_policy_keys(const kl_runtime_policy *p)
{
    return p->keys;
}

int
kl_runtime_policy_generator(const kl_runtime_policy *p)
{
    return p->generator;
}

kl_policy_sig_state
kl_runtime_policy_sig_state(const kl_runtime_policy *p)
{
    return p->sig;
}

const uint8_t *
kl_runtime_policy_checksum(const kl_runtime_policy *p)
{
    return p->checksum;
}

size_t
kl_runtime_policy_memory(const kl_runtime_policy *p)
{
    size_t n = sizeof(*p) + p->ignored.cap;

    for (int i = 0; i < KL_POLICY_NMAPS; i++)
        n += kl_digest_map_memory(p->maps[i]);
    return n;
}
