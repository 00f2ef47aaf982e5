#define PCRE2_CODE_UNIT_WIDTH 8
#include "policy/mb_test.h"

#include <pcre2.h>
#include <string.h>

#include "crypto/hash.h"
#include "policy/excludes.h"
#include "policy/pyrepr.h"
#include "util/kl_alloc.h"
#include "util/kl_hex.h"

typedef enum {
    T_ACCEPT,
    T_REJECT,
    T_AND,
    T_OR,
    T_FIELD,
    T_ITERATE,
    T_TUPLE,
    T_DISPATCH,
    T_STREQ,
    T_REGEXP,
    T_DIGESTS,
    T_ONCE,
    T_VARIABLE,
    T_SUPERSET,
    T_DELAY,
    T_DELAY_INIT,
    T_DELAYED,
} kind;

typedef struct {
    json_t *keys; /* array of values */
    kl_mb_test *test;
} route;

struct kl_mb_test {
    kind kind;
    kl_mb_test **kids; /* and, or, tuple */
    size_t nkids;
    kl_mb_test *kid;   /* field, iterate, once, variable, delay, delayed/init: the delay */
    char *text;        /* field name, reject reason, expected string, regexp text, variable name */
    size_t text_len;
    bool flag;         /* field: show name; iterate: show member; once: ran */
    pcre2_code *re;    /* regexp, variable name pattern */
    json_t *data;      /* dispatch: key names; digests: {alg: [hex]}; superset: [[values]] and
                          field names; delay: field names; delayed: field name */
    route *routes;
    size_t nroutes;
    kl_mb_test *next_alloc;
};

struct kl_mb_test_set {
    kl_mb_test *all;
    kl_rc status;
    char error[512];
};

typedef struct {
    kl_mb_test_set *set;
    json_t *globs; /* the stashed values of deferred tests */
} run;

static kl_rc why(run *r, kl_mb_test *t, json_t *subject, kl_buf *out);

/* ---- the set ---------------------------------------------------------- */

kl_rc
kl_mb_test_set_new(kl_mb_test_set **out)
{
    *out = kl_calloc(1, sizeof(**out));
    return *out ? KL_OK : kl_err_set(KL_ENOMEM, "out of memory");
}

void
kl_mb_test_set_free(kl_mb_test_set *s)
{
    kl_mb_test *t, *next;

    if (!s)
        return;
    for (t = s->all; t; t = next) {
        next = t->next_alloc;
        for (size_t i = 0; i < t->nroutes; i++)
            json_decref(t->routes[i].keys);
        kl_free(t->routes);
        kl_free(t->kids);
        kl_free(t->text);
        pcre2_code_free(t->re);
        json_decref(t->data);
        kl_free(t);
    }
    kl_free(s);
}

kl_rc
kl_mb_test_set_status(const kl_mb_test_set *s)
{
    return s->status;
}

const char *
kl_mb_test_set_error(const kl_mb_test_set *s)
{
    return s->error;
}

/* Records the first failure. */
static kl_mb_test *
failed(kl_mb_test_set *s, kl_rc rc, const char *msg)
{
    if (s->status == KL_OK) {
        s->status = rc;
        snprintf(s->error, sizeof(s->error), "%s", msg);
        kl_err_set(rc, "%s", msg);
    }
    return NULL;
}

static kl_mb_test *
node(kl_mb_test_set *s, kind k)
{
    kl_mb_test *t;

    if (s->status != KL_OK)
        return NULL;
    t = kl_calloc(1, sizeof(*t));
    if (!t)
        return failed(s, KL_ENOMEM, "out of memory");
    t->kind = k;
    t->next_alloc = s->all;
    s->all = t;
    return t;
}

static bool
set_text(kl_mb_test_set *s, kl_mb_test *t, const char *text)
{
    t->text_len = strlen(text);
    t->text = kl_strdup(text);
    if (!t->text)
        failed(s, KL_ENOMEM, "out of memory");
    return t->text != NULL;
}

static kl_mb_test *
with_kids(kl_mb_test_set *s, kind k, size_t n, kl_mb_test *const *tests)
{
    kl_mb_test *t = node(s, k);

    if (!t)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (!tests[i])
            return failed(s, KL_ENOMEM, "out of memory");
    }
    if (n > 0 && !(t->kids = kl_memdup(tests, n * sizeof(*tests))))
        return failed(s, KL_ENOMEM, "out of memory");
    t->nkids = n;
    return t;
}

static kl_mb_test *
with_kid(kl_mb_test_set *s, kind k, kl_mb_test *kid)
{
    kl_mb_test *t = kid ? node(s, k) : NULL;

    if (t)
        t->kid = kid;
    return t;
}

/* ---- constructors ----------------------------------------------------- */

kl_mb_test *
kl_mb_test_accept(kl_mb_test_set *s)
{
    return node(s, T_ACCEPT);
}

kl_mb_test *
kl_mb_test_reject(kl_mb_test_set *s, const char *reason)
{
    kl_mb_test *t = node(s, T_REJECT);

    return t && set_text(s, t, reason) ? t : NULL;
}

kl_mb_test *
kl_mb_test_and(kl_mb_test_set *s, size_t n, kl_mb_test *const *tests)
{
    return with_kids(s, T_AND, n, tests);
}

kl_mb_test *
kl_mb_test_or(kl_mb_test_set *s, size_t n, kl_mb_test *const *tests)
{
    return with_kids(s, T_OR, n, tests);
}

kl_mb_test *
kl_mb_test_tuple(kl_mb_test_set *s, size_t n, kl_mb_test *const *tests)
{
    return with_kids(s, T_TUPLE, n, tests);
}

kl_mb_test *
kl_mb_test_field(kl_mb_test_set *s, const char *name, kl_mb_test *t, bool show_name)
{
    kl_mb_test *f = with_kid(s, T_FIELD, t);

    if (!f || !set_text(s, f, name))
        return NULL;
    f->flag = show_name;
    return f;
}

kl_mb_test *
kl_mb_test_iterate(kl_mb_test_set *s, kl_mb_test *t, bool show_elt)
{
    kl_mb_test *it = with_kid(s, T_ITERATE, t);

    if (it)
        it->flag = show_elt;
    return it;
}

kl_mb_test *
kl_mb_test_once(kl_mb_test_set *s, kl_mb_test *t)
{
    return with_kid(s, T_ONCE, t);
}

static json_t *
str_array(size_t n, const char *const *names)
{
    json_t *a = json_array();

    for (size_t i = 0; a && i < n; i++) {
        if (json_array_append_new(a, json_string(names[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

kl_mb_test *
kl_mb_test_dispatcher(kl_mb_test_set *s, size_t nkeys, const char *const *key_names)
{
    kl_mb_test *t = node(s, T_DISPATCH);

    if (t && !(t->data = str_array(nkeys, key_names)))
        return failed(s, KL_ENOMEM, "out of memory");
    return t;
}

kl_mb_test *
kl_mb_test_dispatch_set(kl_mb_test_set *s, kl_mb_test *d, json_t *key_vals, kl_mb_test *t)
{
    route *r;

    if (!d || !t || !key_vals || s->status != KL_OK) {
        json_decref(key_vals);
        return d && t && key_vals ? NULL : failed(s, KL_ENOMEM, "out of memory");
    }
    r = kl_reallocarray(d->routes, d->nroutes + 1, sizeof(*r));
    if (!r) {
        json_decref(key_vals);
        return failed(s, KL_ENOMEM, "out of memory");
    }
    d->routes = r;
    d->routes[d->nroutes].keys = key_vals;
    d->routes[d->nroutes++].test = t;
    return d;
}

/* StringEqual of a JSON string (which may hold NULs); "" for a non-string. */
static kl_mb_test *
streq_json(kl_mb_test_set *s, const json_t *v)
{
    kl_mb_test *t = node(s, T_STREQ);
    size_t n = json_string_length(v);

    if (!t)
        return NULL;
    t->text = kl_memdup(n ? json_string_value(v) : "", n + 1);
    if (!t->text)
        return failed(s, KL_ENOMEM, "out of memory");
    t->text_len = n;
    return t;
}

kl_mb_test *
kl_mb_test_streq(kl_mb_test_set *s, const char *expected)
{
    kl_mb_test *t = node(s, T_STREQ);

    return t && set_text(s, t, expected) ? t : NULL;
}

static pcre2_code *
compile(kl_mb_test_set *s, kl_bytes pattern, bool dotall)
{
    uint32_t flags = PCRE2_UTF | PCRE2_UCP | (dotall ? PCRE2_DOTALL : 0);
    pcre2_code *re = NULL;
    kl_buf p;
    int err;
    PCRE2_SIZE off;

    kl_buf_init(&p, pattern.len * 2 + 16);
    if (kl_excludes_translate(&p, pattern) != KL_OK) {
        kl_buf_free(&p);
        failed(s, KL_ENOMEM, "out of memory");
        return NULL;
    }
    re = pcre2_compile(p.ptr ? p.ptr : (PCRE2_SPTR) "", p.len, flags, &err, &off, NULL);
    kl_buf_free(&p);
    if (!re) {
        PCRE2_UCHAR msg[200];
        char text[300];

        pcre2_get_error_message(err, msg, sizeof(msg));
        snprintf(text, sizeof(text), "%s at position %zu", (const char *)msg, (size_t)off);
        failed(s, KL_EINVAL, text);
    }
    return re;
}

kl_mb_test *
kl_mb_test_regexp(kl_mb_test_set *s, kl_bytes pattern, bool dotall)
{
    kl_mb_test *t = node(s, T_REGEXP);

    if (!t)
        return NULL;
    t->text = kl_memdup(pattern.len ? pattern.ptr : (const uint8_t *)"", pattern.len + 1);
    if (!t->text)
        return failed(s, KL_ENOMEM, "out of memory");
    t->text[pattern.len] = '\0';
    t->text_len = pattern.len;
    t->re = compile(s, pattern, dotall);
    return t->re ? t : NULL;
}

/* A byte string that names v exactly when v is a string or an array of
 * strings (nested arrays too): then two values are equal, as Python
 * compares them, exactly when their keys are. False for anything else
 * (numbers and booleans compare by value in Python) or when out of memory:
 * callers then compare value by value. */
static bool
value_key(kl_buf *key, const json_t *v)
{
    size_t i;
    json_t *x;

    if (json_is_string(v))
        return kl_buf_printf(key, "%zu:", json_string_length(v)) == KL_OK &&
               kl_buf_append(key, json_string_value(v), json_string_length(v)) == KL_OK;
    if (!json_is_array(v) || kl_buf_printf(key, "[%zu:", json_array_size(v)) != KL_OK)
        return false;
    json_array_foreach(v, i, x) {
        if (!value_key(key, x))
            return false;
    }
    return true;
}

/* The key of a superset member: its fields in order, as a tuple. */
static bool
member_key(kl_buf *key, const json_t *elt, const json_t *fields)
{
    size_t f;
    json_t *name;

    if (kl_buf_printf(key, "[%zu:", json_array_size(fields)) != KL_OK)
        return false;
    json_array_foreach(fields, f, name) {
        if (!value_key(key, json_object_get(elt, json_string_value(name))))
            return false;
    }
    return true;
}

/* Adds v to arr unless an equal value is there. index (an object) holds
 * the keys of the keyable members, so that long lists (a dbx holds
 * hundreds of hashes) are not compared pairwise. */
static bool
add_unique(json_t *arr, json_t *index, json_t *v)
{
    kl_buf key;
    bool ok = true;
    size_t i;
    json_t *x;

    kl_buf_init(&key, (size_t)1 << 24);
    if (value_key(&key, v)) {
        if (!json_object_getn(index, (const char *)key.ptr, key.len))
            ok = json_object_setn_new_nocheck(index, (const char *)key.ptr, key.len,
                                              json_true()) == 0 &&
                 json_array_append(arr, v) == 0;
        kl_buf_free(&key);
        return ok;
    }
    kl_buf_free(&key);
    json_array_foreach(arr, i, x) {
        if (json_equal(x, v))
            return true;
    }
    return json_array_append(arr, v) == 0;
}

kl_mb_test *
kl_mb_test_digests(kl_mb_test_set *s, const json_t *good)
{
    kl_mb_test *t = node(s, T_DIGESTS);
    const char *alg;
    json_t *d, *v;
    size_t i;

    if (!t)
        return NULL;
    json_t *index = json_object();

    if (!index || !(t->data = json_object())) {
        json_decref(index);
        return failed(s, KL_ENOMEM, "out of memory");
    }
    json_array_foreach(good, i, d) {
        json_object_foreach(d, alg, v) {
            json_t *set = json_object_get(t->data, alg);
            json_t *seen = json_object_get(index, alg);

            if (!set && (json_object_set_new(t->data, alg, json_array()) != 0 ||
                         !(set = json_object_get(t->data, alg)) ||
                         json_object_set_new(index, alg, json_object()) != 0 ||
                         !(seen = json_object_get(index, alg)))) {
                json_decref(index);
                return failed(s, KL_ENOMEM, "out of memory");
            }
            if (!add_unique(set, seen, v)) {
                json_decref(index);
                return failed(s, KL_ENOMEM, "out of memory");
            }
        }
    }
    json_decref(index);
    return t;
}

kl_mb_test *
kl_mb_test_variable(kl_mb_test_set *s, const char *var_name, const char *name_regex,
                    kl_mb_test *data)
{
    kl_mb_test *t = with_kid(s, T_VARIABLE, data);

    if (!t || !set_text(s, t, var_name) ||
        !(t->re = compile(s, KL_BYTES(name_regex, strlen(name_regex)), false)))
        return NULL;
    if (!(t->data = json_string(name_regex)))
        return failed(s, KL_ENOMEM, "out of memory");
    return t;
}

kl_mb_test *
kl_mb_test_superset(kl_mb_test_set *s, const json_t *reqs, size_t nfields,
                    const char *const *fields)
{
    kl_mb_test *t = node(s, T_SUPERSET);
    json_t *names, *tuples, *req, *index;
    size_t i;

    if (!t)
        return NULL;
    names = str_array(nfields, fields);
    tuples = json_array();
    t->data = json_pack("{s:o?,s:o?}", "fields", names, "reqs", tuples);
    if (!names || !tuples || !t->data)
        return failed(s, KL_ENOMEM, "out of memory");
    if (!(index = json_object()))
        return failed(s, KL_ENOMEM, "out of memory");
    json_array_foreach(reqs, i, req) {
        json_t *tup = json_array();

        for (size_t f = 0; tup && f < nfields; f++) {
            json_t *v = json_object_get(req, fields[f]);

            if (json_array_append(tup, v ? v : json_null()) != 0) {
                json_decref(tup);
                tup = NULL;
            }
        }
        if (!tup || !add_unique(tuples, index, tup)) {
            json_decref(tup);
            json_decref(index);
            return failed(s, KL_ENOMEM, "out of memory");
        }
        json_decref(tup);
    }
    json_decref(index);
    return t;
}

kl_mb_test *
kl_mb_test_delay(kl_mb_test_set *s, kl_mb_test *fields_test, size_t n,
                 const char *const *field_names)
{
    kl_mb_test *t = with_kid(s, T_DELAY, fields_test);

    if (t && !(t->data = str_array(n, field_names)))
        return failed(s, KL_ENOMEM, "out of memory");
    return t;
}

kl_mb_test *
kl_mb_test_delay_init(kl_mb_test_set *s, kl_mb_test *delay)
{
    return with_kid(s, T_DELAY_INIT, delay);
}

kl_mb_test *
kl_mb_test_delayed(kl_mb_test_set *s, kl_mb_test *delay, const char *field)
{
    kl_mb_test *t = with_kid(s, T_DELAYED, delay);

    return t && set_text(s, t, field) ? t : NULL;
}

/* ---- compositions ----------------------------------------------------- */

kl_mb_test *
kl_mb_test_sig_member(kl_mb_test_set *s, const json_t *sigs)
{
    size_t n = json_array_size(sigs), i;
    kl_mb_test **alts = kl_calloc(n ? n : 1, sizeof(*alts)), *t;
    json_t *sig;

    if (!alts)
        return failed(s, KL_ENOMEM, "out of memory");
    json_array_foreach(sigs, i, sig) {
        kl_mb_test *pair[2];

        pair[0] = kl_mb_test_field(s, "SignatureOwner",
                                   streq_json(s, json_object_get(sig, "SignatureOwner")), true);
        pair[1] = kl_mb_test_field(s, "SignatureData",
                                   streq_json(s, json_object_get(sig, "SignatureData")), true);
        alts[i] = kl_mb_test_and(s, 2, pair);
    }
    t = kl_mb_test_or(s, n, alts);
    kl_free(alts);
    return t;
}

/* And(FieldTest("SignatureType", StringEqual(type)), FieldTest("Keys", keys)). */
static kl_mb_test *
typed_keys(kl_mb_test_set *s, const char *sig_type, kl_mb_test *keys)
{
    kl_mb_test *pair[2];

    pair[0] = kl_mb_test_field(s, "SignatureType", kl_mb_test_streq(s, sig_type), true);
    pair[1] = kl_mb_test_field(s, "Keys", keys, true);
    return kl_mb_test_and(s, 2, pair);
}

kl_mb_test *
kl_mb_test_key_subset(kl_mb_test_set *s, size_t ntypes, const char *const *sig_types,
                      const json_t *sigs)
{
    kl_mb_test *alts[4];

    if (ntypes == 1)
        return kl_mb_test_iterate(
            s, typed_keys(s, sig_types[0], kl_mb_test_iterate(s, kl_mb_test_sig_member(s, sigs), false)),
            false);
    if (ntypes > 4)
        return failed(s, KL_EINVAL, "too many signature types");
    for (size_t i = 0; i < ntypes; i++)
        alts[i] = typed_keys(s, sig_types[i],
                             kl_mb_test_iterate(s, kl_mb_test_sig_member(s, sigs), false));
    return kl_mb_test_iterate(s, kl_mb_test_or(s, ntypes, alts), false);
}

kl_mb_test *
kl_mb_test_key_superset(kl_mb_test_set *s, const char *sig_type, const json_t *sigs)
{
    static const char *const fields[] = {"SignatureOwner", "SignatureData"};
    kl_mb_test *one = typed_keys(s, sig_type, kl_mb_test_superset(s, sigs, 2, fields));

    return kl_mb_test_tuple(s, 1, &one);
}

kl_mb_test *
kl_mb_test_var_dispatch(kl_mb_test_set *s)
{
    static const char *const keys[] = {"VariableName", "UnicodeName"};

    return kl_mb_test_field(s, "Event", kl_mb_test_dispatcher(s, 2, keys), true);
}

kl_mb_test *
kl_mb_test_var_dispatch_set(kl_mb_test_set *s, kl_mb_test *vd, const char *var_name,
                            const char *unicode_name, kl_mb_test *t)
{
    if (!vd)
        return NULL;
    if (!kl_mb_test_dispatch_set(s, vd->kid, json_pack("[ss]", var_name, unicode_name),
                                 kl_mb_test_field(s, "VariableData", t, true)))
        return NULL;
    return vd;
}

/* {alg: hex(H(data))} for every algorithm upstream's Hash enum has. */
static json_t *
all_digests(const void *data, size_t len)
{
    static const kl_hash_alg algs[] = {KL_HASH_SHA1, KL_HASH_SHA256, KL_HASH_SHA384,
                                       KL_HASH_SHA512, KL_HASH_SM3_256};
    json_t *d = json_object(), *list;

    for (size_t i = 0; d && i < sizeof(algs) / sizeof(algs[0]); i++) {
        uint8_t md[KL_HASH_MAX_SIZE];
        char hex[2 * KL_HASH_MAX_SIZE + 1];

        if (kl_hash(algs[i], data, len, md) != KL_OK)
            continue; /* SM3 missing from this OpenSSL */
        kl_hex_encode(hex, md, kl_hash_size(algs[i]));
        if (json_object_set_new(d, kl_hash_name(algs[i]), json_string(hex)) != 0) {
            json_decref(d);
            d = NULL;
        }
    }
    list = d ? json_pack("[o]", d) : NULL;
    return list;
}

/* Or(And(FieldTest("Event", StringEqual(v)), DigestTest(H(bytes)))...). */
static kl_mb_test *
event_values(kl_mb_test_set *s, size_t n, const char *const *values, const kl_bytes *bytes)
{
    kl_mb_test *alts[4];

    for (size_t i = 0; i < n; i++) {
        json_t *good = all_digests(bytes[i].ptr, bytes[i].len);
        kl_mb_test *pair[2];

        if (!good)
            return failed(s, KL_ENOMEM, "out of memory");
        pair[0] = kl_mb_test_field(s, "Event", kl_mb_test_streq(s, values[i]), true);
        pair[1] = kl_mb_test_digests(s, good);
        json_decref(good);
        alts[i] = kl_mb_test_and(s, 2, pair);
    }
    return kl_mb_test_or(s, n, alts);
}

kl_mb_test *
kl_mb_test_ev_separator(kl_mb_test_set *s)
{
    static const char *const values[] = {"00000000", "FFFFFFFF"};
    static const uint8_t zero[4] = {0, 0, 0, 0}, ones[4] = {0xff, 0xff, 0xff, 0xff};
    const kl_bytes bytes[] = {KL_BYTES(zero, 4), KL_BYTES(ones, 4)};

    return event_values(s, 2, values, bytes);
}

kl_mb_test *
kl_mb_test_ev_efi_action(kl_mb_test_set *s, int pcr)
{
    static const char *const pcr1[] = {"Entering ROM Based Setup"};
    static const char *const pcr4[] = {"Calling EFI Application from Boot Option",
                                       "Returning from EFI Application from Boot Option"};
    static const char *const pcr5[] = {"Exit Boot Services Invocation",
                                       "Exit Boot Services Returned with Failure",
                                       "Exit Boot Services Returned with Success"};
    static const char *const pcr6[] = {"UEFI Debug Mode"};
    const char *const *v;
    kl_bytes bytes[3];
    size_t n;
    char why[96];

    switch (pcr) {
    case 1: v = pcr1; n = 1; break;
    case 4: v = pcr4; n = 2; break;
    case 5: v = pcr5; n = 3; break;
    case 6: v = pcr6; n = 1; break;
    default:
        snprintf(why, sizeof(why), "No EV_EFI_ACTION event for %d is expected in the spec", pcr);
        return kl_mb_test_reject(s, why);
    }
    for (size_t i = 0; i < n; i++)
        bytes[i] = KL_BYTES(v[i], strlen(v[i]));
    return event_values(s, n, v, bytes);
}

/* ---- evaluation ------------------------------------------------------- */

/* Inserts text at position at of out (the start of a child's reason). */
static kl_rc
insert(kl_buf *out, size_t at, const void *text, size_t n)
{
    kl_rc rc = kl_buf_reserve(out, n);

    if (rc != KL_OK)
        return rc;
    memmove(out->ptr + at + n, out->ptr + at, out->len - at);
    memcpy(out->ptr + at, text, n);
    out->len += n;
    return KL_OK;
}

static kl_rc
insert_str(kl_buf *out, size_t at, const char *s)
{
    return insert(out, at, s, strlen(s));
}

/* Python == between JSON values: numbers by value, booleans as 0/1. */
static bool
py_equal(const json_t *a, const json_t *b)
{
    bool an = json_is_number(a) || json_is_boolean(a), bn = json_is_number(b) || json_is_boolean(b);

    if (an && bn) {
        double x = json_is_boolean(a) ? json_is_true(a) : json_number_value(a);
        double y = json_is_boolean(b) ? json_is_true(b) : json_number_value(b);

        if (json_is_integer(a) && json_is_integer(b))
            return json_integer_value(a) == json_integer_value(b);
        return x == y;
    }
    return json_equal(a, b);
}

/* repr() of a tuple of values. */
static kl_rc
repr_tuple(kl_buf *out, const json_t *arr)
{
    size_t i;
    json_t *v;
    kl_rc rc = kl_buf_append_byte(out, '(');

    json_array_foreach(arr, i, v) {
        if (rc == KL_OK && i > 0)
            rc = kl_buf_append_str(out, ", ");
        if (rc == KL_OK)
            rc = kl_pyrepr(out, v, false);
    }
    if (rc == KL_OK && json_array_size(arr) == 1)
        rc = kl_buf_append_byte(out, ',');
    return rc == KL_OK ? kl_buf_append_byte(out, ')') : rc;
}

/* repr() of a set of tuples (in insertion order). */
static kl_rc
repr_tuple_set(kl_buf *out, const json_t *tuples)
{
    size_t i;
    json_t *t;
    kl_rc rc;

    if (json_array_size(tuples) == 0)
        return kl_buf_append_str(out, "set()");
    rc = kl_buf_append_byte(out, '{');
    json_array_foreach(tuples, i, t) {
        if (rc == KL_OK && i > 0)
            rc = kl_buf_append_str(out, ", ");
        if (rc == KL_OK)
            rc = repr_tuple(out, t);
    }
    return rc == KL_OK ? kl_buf_append_byte(out, '}') : rc;
}

static kl_rc
w_and(run *r, kl_mb_test *t, json_t *subject, kl_buf *out)
{
    for (size_t i = 0; i < t->nkids; i++) {
        size_t mark = out->len;
        kl_rc rc = why(r, t->kids[i], subject, out);

        if (rc != KL_OK || out->len > mark)
            return rc;
    }
    return KL_OK;
}

static kl_rc
w_or(run *r, kl_mb_test *t, json_t *subject, kl_buf *out)
{
    size_t mark = out->len;
    kl_rc rc;

    if (t->nkids == 0)
        return kl_buf_append_str(out, "does not pass empty disjunction");
    rc = kl_buf_append_byte(out, '[');
    for (size_t i = 0; rc == KL_OK && i < t->nkids; i++) {
        size_t at;

        if (i > 0)
            rc = kl_buf_append_str(out, ", ");
        at = out->len;
        if (rc == KL_OK)
            rc = why(r, t->kids[i], subject, out);
        if (rc == KL_OK && out->len == at) {
            out->len = mark; /* this one passes */
            return KL_OK;
        }
    }
    return rc == KL_OK ? kl_buf_append_byte(out, ']') : rc;
}

static kl_rc
w_field(run *r, kl_mb_test *t, json_t *subject, kl_buf *out)
{
    size_t mark = out->len;
    json_t *v;
    kl_rc rc;

    if (!json_is_object(subject))
        return kl_buf_append_str(out, "is not a dict");
    v = json_object_get(subject, t->text);
    if (!v) {
        rc = kl_buf_append_str(out, "has no ");
        if (rc == KL_OK)
            rc = kl_pyrepr_str(out, KL_BYTES(t->text, t->text_len), true);
        return rc == KL_OK ? kl_buf_append_str(out, " field") : rc;
    }
    rc = why(r, t->kid, v, out);
    if (rc == KL_OK && out->len > mark && t->flag) {
        rc = insert_str(out, mark, " ");
        if (rc == KL_OK)
            rc = insert(out, mark, t->text, t->text_len);
    }
    return rc;
}

static kl_rc
w_iterate(run *r, kl_mb_test *t, json_t *subject, kl_buf *out)
{
    size_t i;
    json_t *elt;

    if (!json_is_array(subject))
        return kl_buf_append_str(out, "is not a list");
    json_array_foreach(subject, i, elt) {
        size_t mark = out->len;
        kl_rc rc = why(r, t->kid, elt, out);
        char idx[32];

        if (rc != KL_OK)
            return rc;
        if (out->len == mark)
            continue;
        if (!t->flag) {
            snprintf(idx, sizeof(idx), "[%zu] ", i);
            return insert_str(out, mark, idx);
        }
        kl_buf rep;

        kl_buf_init(&rep, (size_t)1 << 30);
        rc = kl_pyrepr(&rep, elt, true);
        if (rc == KL_OK)
            rc = kl_buf_append_byte(&rep, ' ');
        if (rc == KL_OK)
            rc = insert(out, mark, rep.ptr, rep.len);
        kl_buf_free(&rep);
        return rc;
    }
    return KL_OK;
}

static kl_rc
w_tuple(run *r, kl_mb_test *t, json_t *subject, kl_buf *out)
{
    size_t n;

    if (!json_is_array(subject))
        return kl_buf_append_str(out, "is not a list");
    n = json_array_size(subject);
    if (n > t->nkids)
        return kl_buf_printf(out, " is longer (%zu) than the applicable tests (%zu)", n, t->nkids);
    if (n < t->nkids)
        return kl_buf_printf(out, " is shorter (%zu) than the applicable tests (%zu)", n,
                             t->nkids);
    for (size_t i = 0; i < t->nkids; i++) {
        size_t mark = out->len;
        kl_rc rc = why(r, t->kids[i], json_array_get(subject, i), out);
        char idx[32];

        if (rc != KL_OK)
            return rc;
        if (out->len > mark) {
            snprintf(idx, sizeof(idx), "[%zu] ", i);
            return insert_str(out, mark, idx);
        }
    }
    return KL_OK;
}

static kl_rc
w_dispatch(run *r, kl_mb_test *t, json_t *subject, kl_buf *out)
{
    json_t *vals, *name;
    size_t i;
    kl_rc rc = KL_OK;

    if (!json_is_object(subject))
        return kl_buf_append_str(out, "is not a dict");
    vals = json_array();
    if (!vals)
        return kl_err_set(KL_ENOMEM, "out of memory");
    json_array_foreach(t->data, i, name) {
        json_t *v = json_object_get(subject, json_string_value(name));

        if (!v) {
            json_decref(vals);
            return kl_buf_printf(out, "has no %s", json_string_value(name));
        }
        if (json_array_append(vals, v) != 0) {
            json_decref(vals);
            return kl_err_set(KL_ENOMEM, "out of memory");
        }
    }
    for (i = 0; i < t->nroutes; i++) {
        size_t k;
        json_t *kv;
        bool same = true;

        json_array_foreach(t->routes[i].keys, k, kv) {
            if (!py_equal(kv, json_array_get(vals, k))) {
                same = false;
                break;
            }
        }
        if (same) {
            json_decref(vals);
            return why(r, t->routes[i].test, subject, out);
        }
    }
    rc = kl_buf_append_str(out, "has unexpected ");
    if (rc == KL_OK)
        rc = repr_tuple(out, t->data);
    if (rc == KL_OK)
        rc = kl_buf_append_str(out, " combination ");
    if (rc == KL_OK)
        rc = repr_tuple(out, vals);
    json_decref(vals);
    return rc;
}

static kl_rc
w_streq(kl_mb_test *t, json_t *subject, kl_buf *out)
{
    kl_rc rc;

    if (!json_is_string(subject))
        return kl_buf_append_str(out, "is not a str");
    if (json_string_length(subject) == t->text_len &&
        memcmp(json_string_value(subject), t->text, t->text_len) == 0)
        return KL_OK;
    rc = kl_buf_append_str(out, "is not ");
    return rc == KL_OK ? kl_pyrepr_str(out, KL_BYTES(t->text, t->text_len), true) : rc;
}

static bool
full_match(pcre2_code *re, json_t *s, bool *ok)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int n;

    if (!md)
        return false;
    n = pcre2_match(re, (PCRE2_SPTR)json_string_value(s), json_string_length(s), 0,
                    PCRE2_ANCHORED | PCRE2_ENDANCHORED, md, NULL);
    pcre2_match_data_free(md);
    *ok = n >= 0;
    return true;
}

static kl_rc
w_regexp(kl_mb_test *t, json_t *subject, kl_buf *out)
{
    bool ok;

    if (!json_is_string(subject))
        return kl_buf_append_str(out, "is not a str");
    if (!full_match(t->re, subject, &ok))
        return kl_err_set(KL_ENOMEM, "out of memory");
    if (ok)
        return KL_OK;
    return kl_buf_append_str(out, "does not match ") == KL_OK
               ? kl_buf_append(out, t->text, t->text_len)
               : KL_ENOMEM;
}

/* repr() of {alg: {hex, ...}}. */
static kl_rc
repr_good(kl_buf *out, json_t *good)
{
    const char *alg;
    json_t *set, *v;
    size_t n = 0, i;
    kl_rc rc = kl_buf_append_byte(out, '{');

    json_object_foreach(good, alg, set) {
        if (rc == KL_OK && n++ > 0)
            rc = kl_buf_append_str(out, ", ");
        if (rc == KL_OK)
            rc = kl_pyrepr_str(out, KL_BYTES(alg, strlen(alg)), false);
        if (rc == KL_OK)
            rc = kl_buf_append_str(out, ": {");
        json_array_foreach(set, i, v) {
            if (rc == KL_OK && i > 0)
                rc = kl_buf_append_str(out, ", ");
            if (rc == KL_OK)
                rc = kl_pyrepr(out, v, false);
        }
        if (rc == KL_OK)
            rc = kl_buf_append_byte(out, '}');
    }
    return rc == KL_OK ? kl_buf_append_byte(out, '}') : rc;
}

static kl_rc
w_digests(kl_mb_test *t, json_t *subject, kl_buf *out)
{
    json_t *list, *d;
    size_t i;
    kl_rc rc;

    if (!json_is_object(subject))
        return kl_buf_append_str(out, "is not a dict");
    list = json_object_get(subject, "Digests");
    if (!list)
        return kl_buf_append_str(out, "has no Digests");
    if (!json_is_array(list))
        return kl_buf_append_str(out, "Digests is not a list");
    json_array_foreach(list, i, d) {
        json_t *alg, *val, *set, *g;
        size_t k;

        if (!json_is_object(d)) {
            rc = kl_buf_printf(out, "Digests[%zu] is ", i);
            if (rc == KL_OK)
                rc = kl_pyrepr(out, d, false);
            return rc == KL_OK ? kl_buf_append_str(out, ", not a dict") : rc;
        }
        if (!(alg = json_object_get(d, "AlgorithmId")))
            return kl_buf_printf(out, "digest %zu has no AlgorithmId", i);
        if (!json_is_string(alg)) {
            rc = kl_buf_printf(out, "Digests[%zu].AlgorithmId is ", i);
            if (rc == KL_OK)
                rc = kl_pyrepr(out, alg, false);
            return rc == KL_OK ? kl_buf_append_str(out, ", not a str") : rc;
        }
        if (!(val = json_object_get(d, "Digest")))
            return kl_buf_printf(out, "digest %zu has no Digest", i);
        if (!json_is_string(val)) {
            rc = kl_buf_printf(out, "Digests[%zu].Digest is ", i);
            if (rc == KL_OK)
                rc = kl_pyrepr(out, val, false);
            return rc == KL_OK ? kl_buf_append_str(out, ", not a str") : rc;
        }
        set = json_object_get(t->data, json_string_value(alg));
        json_array_foreach(set, k, g) {
            if (json_equal(g, val))
                return KL_OK;
        }
    }
    rc = kl_buf_append_str(out, "has no digest approved by ");
    return rc == KL_OK ? repr_good(out, t->data) : rc;
}

static kl_rc
w_once(run *r, kl_mb_test *t, json_t *subject, kl_buf *out)
{
    if (t->flag)
        return kl_buf_append_str(out, "test was already run once");
    t->flag = true;
    return why(r, t->kid, subject, out);
}

/* str() of a value: the text of a string, repr() of anything else. */
static kl_rc
py_str(kl_buf *out, const json_t *v)
{
    if (json_is_string(v))
        return kl_buf_append(out, json_string_value(v), json_string_length(v));
    return kl_pyrepr(out, v, false);
}

static kl_rc
w_variable(run *r, kl_mb_test *t, json_t *subject, kl_buf *out)
{
    json_t *evt, *vn, *un, *vd;
    kl_rc rc;
    bool ok;

    if (!json_is_object(subject))
        return kl_buf_append_str(out, "is not a dict");
    if (!(evt = json_object_get(subject, "Event")))
        return kl_buf_append_str(out, "has no Event field");
    if (!json_is_object(evt))
        return kl_buf_append_str(out, "Event is not a dict");
    if (!(vn = json_object_get(evt, "VariableName")))
        return kl_buf_append_str(out, "Event has no VariableName field");
    if (!json_is_string(vn) || strcmp(json_string_value(vn), t->text) != 0 ||
        json_string_length(vn) != t->text_len) {
        rc = kl_buf_append_str(out, "Event.VariableName is ");
        if (rc == KL_OK)
            rc = py_str(out, vn);
        return rc == KL_OK ? kl_buf_printf(out, " rather than %s", t->text) : rc;
    }
    if (!(un = json_object_get(evt, "UnicodeName")))
        return kl_buf_append_str(out, "Event has no UnicodeName field");
    if (!(vd = json_object_get(evt, "VariableData")))
        return kl_buf_append_str(out, "Event has no VariableData field");
    if (!json_is_string(un))
        return kl_buf_append_str(out, "Event.UnicodeName is not a str");
    if (!full_match(t->re, un, &ok))
        return kl_err_set(KL_ENOMEM, "out of memory");
    if (!ok) {
        rc = kl_buf_append_str(out, "Event.UnicodeName, ");
        if (rc == KL_OK)
            rc = py_str(out, un);
        return rc == KL_OK ? kl_buf_printf(out, ", does not match %s",
                                           json_string_value(t->data))
                           : rc;
    }
    return why(r, t->kid, vd, out);
}

/* The keys of the members of subject (see member_key), or NULL when one
 * has no key: then members are compared one by one. */
static json_t *
member_index(const json_t *subject, const json_t *fields)
{
    json_t *index = json_object(), *elt;
    kl_buf key;
    size_t i;

    kl_buf_init(&key, (size_t)1 << 24);
    json_array_foreach(subject, i, elt) {
        kl_buf_reset(&key);
        if (!index || !member_key(&key, elt, fields) ||
            json_object_setn_new_nocheck(index, (const char *)key.ptr, key.len, json_true()) != 0) {
            json_decref(index);
            index = NULL;
            break;
        }
    }
    kl_buf_free(&key);
    return index;
}

/* Whether a member of subject has the values of req (a tuple in the
 * order of fields), compared as Python compares them. */
static bool
member_present(const json_t *index, const json_t *subject, const json_t *fields,
               const json_t *req)
{
    kl_buf key;
    size_t k, f;
    json_t *elt, *name;
    bool keyed, found = false;

    kl_buf_init(&key, (size_t)1 << 24);
    keyed = index && value_key(&key, req);
    if (keyed)
        found = json_object_getn(index, (const char *)key.ptr, key.len) != NULL;
    kl_buf_free(&key);
    if (keyed)
        return found;
    json_array_foreach(subject, k, elt) {
        bool same = true;

        json_array_foreach(fields, f, name) {
            if (!py_equal(json_object_get(elt, json_string_value(name)), json_array_get(req, f))) {
                same = false;
                break;
            }
        }
        if (same)
            return true;
    }
    return false;
}

static kl_rc
w_superset(kl_mb_test *t, json_t *subject, kl_buf *out)
{
    json_t *fields = json_object_get(t->data, "fields"), *reqs = json_object_get(t->data, "reqs");
    json_t *missing, *elt, *req, *have;
    size_t i, nf = json_array_size(fields);
    kl_rc rc = KL_OK;

    if (!json_is_array(subject))
        return kl_buf_append_str(out, "is not a list");
    json_array_foreach(subject, i, elt) {
        size_t f;
        json_t *name;
        bool right = json_is_object(elt) && json_object_size(elt) == nf;

        if (!json_is_object(elt)) {
            rc = kl_buf_append_str(out, "member ");
            if (rc == KL_OK)
                rc = py_str(out, elt);
            return rc == KL_OK ? kl_buf_append_str(out, " is not a dict") : rc;
        }
        json_array_foreach(fields, f, name) {
            right = right && json_object_get(elt, json_string_value(name)) != NULL;
        }
        if (!right) {
            rc = kl_buf_append_str(out, "member ");
            if (rc == KL_OK)
                rc = kl_pyrepr(out, elt, false);
            if (rc == KL_OK)
                rc = kl_buf_append_str(out, " does not have the right set of field names ");
            return rc == KL_OK ? repr_tuple(out, fields) : rc;
        }
    }
    missing = json_array();
    if (!missing)
        return kl_err_set(KL_ENOMEM, "out of memory");
    have = member_index(subject, fields);
    json_array_foreach(reqs, i, req) {
        if (!member_present(have, subject, fields, req) && json_array_append(missing, req) != 0)
            rc = kl_err_set(KL_ENOMEM, "out of memory");
    }
    json_decref(have);
    if (rc == KL_OK && json_array_size(missing) > 0) {
        rc = kl_buf_append_str(out, "lacks ");
        if (rc == KL_OK)
            rc = repr_tuple(out, fields);
        if (rc == KL_OK)
            rc = kl_buf_append_str(out, " combinations ");
        if (rc == KL_OK)
            rc = repr_tuple_set(out, missing);
    }
    json_decref(missing);
    return rc;
}

static kl_rc
w_delay_init(run *r, kl_mb_test *t)
{
    size_t i;
    json_t *name;

    json_array_foreach(t->kid->data, i, name) {
        if (json_object_set_new(r->globs, json_string_value(name), json_array()) != 0)
            return kl_err_set(KL_ENOMEM, "out of memory");
    }
    return KL_OK;
}

static kl_rc
w_delayed(run *r, kl_mb_test *t, json_t *subject, kl_buf *out)
{
    json_t *list = json_object_get(r->globs, t->text);

    if (!json_is_array(list))
        return kl_buf_printf(out, "malformed test: global %s is not a list", t->text);
    return json_array_append(list, subject) == 0 ? KL_OK : kl_err_set(KL_ENOMEM, "out of memory");
}

static kl_rc
w_delay(run *r, kl_mb_test *t, kl_buf *out)
{
    json_t *delayed = json_object(), *name;
    size_t i;
    kl_rc rc = delayed ? KL_OK : kl_err_set(KL_ENOMEM, "out of memory");

    json_array_foreach(t->data, i, name) {
        json_t *v = json_object_get(r->globs, json_string_value(name));

        if (rc == KL_OK &&
            json_object_set(delayed, json_string_value(name), v ? v : json_null()) != 0)
            rc = kl_err_set(KL_ENOMEM, "out of memory");
    }
    if (rc == KL_OK)
        rc = why(r, t->kid, delayed, out);
    json_decref(delayed);
    return rc;
}

static kl_rc
why(run *r, kl_mb_test *t, json_t *subject, kl_buf *out)
{
    switch (t->kind) {
    case T_ACCEPT: return KL_OK;
    case T_REJECT: return kl_buf_append(out, t->text, t->text_len);
    case T_AND: return w_and(r, t, subject, out);
    case T_OR: return w_or(r, t, subject, out);
    case T_FIELD: return w_field(r, t, subject, out);
    case T_ITERATE: return w_iterate(r, t, subject, out);
    case T_TUPLE: return w_tuple(r, t, subject, out);
    case T_DISPATCH: return w_dispatch(r, t, subject, out);
    case T_STREQ: return w_streq(t, subject, out);
    case T_REGEXP: return w_regexp(t, subject, out);
    case T_DIGESTS: return w_digests(t, subject, out);
    case T_ONCE: return w_once(r, t, subject, out);
    case T_VARIABLE: return w_variable(r, t, subject, out);
    case T_SUPERSET: return w_superset(t, subject, out);
    case T_DELAY: return w_delay(r, t, out);
    case T_DELAY_INIT: return w_delay_init(r, t);
    case T_DELAYED: return w_delayed(r, t, subject, out);
    }
    return KL_EINVAL;
}

kl_rc
kl_mb_test_why_not(kl_mb_test_set *s, kl_mb_test *t, json_t *subject, kl_buf *reason)
{
    run r = {s, json_object()};
    kl_rc rc;

    if (s->status != KL_OK || !t) {
        json_decref(r.globs);
        return kl_err_set(s->status != KL_OK ? s->status : KL_EINVAL, "%s", s->error);
    }
    if (!r.globs)
        return kl_err_set(KL_ENOMEM, "out of memory");
    rc = why(&r, t, subject, reason);
    json_decref(r.globs);
    return rc;
}
