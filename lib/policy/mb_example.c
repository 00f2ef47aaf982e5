/* The example policy. What it checks, per (PCRIndex, EventType); any other
 * combination fails ("has unexpected ('PCRIndex', 'EventType')
 * combination ..."):
 *   (0, EV_NO_ACTION)                      once (the Spec ID header)
 *   (0, EV_S_CRTM_VERSION), (0, EV_EFI_PLATFORM_FIRMWARE_BLOB[2])
 *                                          deferred: the sequence must equal
 *                                          one scrtm_and_bios entry
 *   (1, EV_CPU_MICROCODE), (1, EV_EFI_HANDOFF_TABLES[2])   once each
 *   (1, EV_PLATFORM_CONFIG_FLAGS)          at most 4
 *   (1, EV_EFI_VARIABLE_BOOT)              BootOrder / Boot#### of the EFI
 *                                          global variable GUID
 *   (1|4|5, EV_EFI_ACTION)                 the strings the spec allows there,
 *                                          with a matching digest
 *   (0-7, EV_SEPARATOR)                    "00000000" with its digest
 *   (2, EV_EFI_BOOT_SERVICES_DRIVER)       anything
 *   (4, EV_EFI_BOOT_SERVICES_APPLICATION)  deferred: shim, grub, kernel (the
 *                                          kernel once or twice) of one kernels
 *                                          entry (shim, grub without Secure Boot)
 *   (5, EV_EFI_GPT_EVENT)                  once
 *   (7, EV_EFI_VARIABLE_DRIVER_CONFIG)     SecureBoot Enabled "Yes" ("No" when
 *                                          has_secureboot is false); PK, KEK,
 *                                          db, vendor_db keys a subset of the
 *                                          refstate's, dbx one list holding
 *                                          all of the refstate's; each once
 *   (7, EV_EFI_VARIABLE_AUTHORITY)         db, SbatLevel, Shim, MokListRT once;
 *                                          MokListTrusted once, Yes or No;
 *                                          vendor_db entries in the refstate
 *   (8, EV_IPL)                            "grub_cmd: ..." or "kernel_cmdline:
 *                                          ..." (deferred: must fully match
 *                                          the entry's regular expression)
 *   (9, EV_IPL)                            loader entries and grub files; initrd
 *                                          / initramfs (deferred: the entry's
 *                                          digest); vmlinuz (deferred: its digest
 *                                          without Secure Boot)
 *   (14, EV_IPL)                           MokList / MokListX with a digest in
 *                                          mokdig / mokxdig; MokListTrusted once
 * GUIDs are accepted in both byte orders (tpm2-tools < 5.2 wrote them
 * wrong, keylime issue #1003), as upstream does.
 */
#include "policy/mb_example.h"

#include <string.h>

#include "policy/mb_test.h"
#include "policy/pyrepr.h"
#include "util/kl_alloc.h"

#define GLOBAL_VAR "8be4df61-93ca-11d2-aa0d-00e098032b8c"
#define GLOBAL_VAR_SWAPPED "61dfe48b-ca93-d211-aa0d-00e098032b8c"
#define IMAGE_DB "d719b2cb-3d3a-4596-a3bc-dad00e67656f"
#define IMAGE_DB_SWAPPED "cbb219d7-3a3d-9645-a3bc-dad00e67656f"
#define SHIM_LOCK "605dab50-e046-4300-abb6-3dd810dd8b23"
#define SHIM_LOCK_SWAPPED "50ab5d60-46e0-0043-abb6-3dd810dd8b23"
#define CERT_X509 "a5c059a1-94e4-4aa7-87b5-ab155c2bf072"
#define CERT_X509_SWAPPED "a159c0a5-e494-a74a-87b5-ab155c2bf072"
#define CERT_SHA256 "c1c41626-504c-4092-aca9-41f936934328"
#define CERT_SHA256_SWAPPED "2616c4c1-4c50-9240-aca9-41f936934328"

/* ---- refstate checks: each failure writes upstream's exception text ---- */

typedef const char *(*field_check)(kl_buf *exc, const json_t *v);

/* "{v!r} is a <class 'x'> rather than a <class 'want'>" */
static const char *
not_type(kl_buf *exc, const json_t *v, const char *want)
{
    if (kl_pyrepr(exc, v, false) != KL_OK ||
        kl_buf_printf(exc, " is a <class '%s'> rather than a %s%s%s", kl_pyrepr_type(v),
                      strcmp(want, "typing.Iterable") ? "<class '" : "", want,
                      strcmp(want, "typing.Iterable") ? "'>" : "") != KL_OK)
        return "out of memory";
    return "";
}

static bool
is_hex0x(const json_t *v)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);

    if (!s || n < 3 || s[0] != '0' || s[1] != 'x')
        return false;
    for (size_t i = 2; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    }
    return true;
}

/* NULL when the check passes; otherwise exc holds the message. */
static const char *
hex_test(kl_buf *exc, const json_t *v)
{
    if (is_hex0x(v))
        return NULL;
    if (kl_pyrepr(exc, v, false) != KL_OK ||
        kl_buf_append_str(exc, " is not 0x followed by some lowercase hex digits") != KL_OK)
        return "out of memory";
    return "";
}

static const char *
str_test(kl_buf *exc, const json_t *v)
{
    return json_is_string(v) ? NULL : not_type(exc, v, "str");
}

static const char *
digest_test(kl_buf *exc, const json_t *v)
{
    const char *key;
    json_t *x;

    if (!json_is_object(v))
        return not_type(exc, v, "dict");
    json_object_foreach((json_t *)(uintptr_t)v, key, x) {
        const char *f = hex_test(exc, x);

        if (f)
            return f;
    }
    return NULL;
}

static const char *
list_of(kl_buf *exc, const json_t *v, field_check elt)
{
    size_t i;
    json_t *x;

    if (!json_is_array(v))
        return not_type(exc, v, "list");
    json_array_foreach(v, i, x) {
        const char *f = elt(exc, x);

        if (f)
            return f;
    }
    return NULL;
}

static const char *
digest_list_test(kl_buf *exc, const json_t *v)
{
    return list_of(exc, v, digest_test);
}

/* obj_test: a dict whose listed fields pass their checks and are all there. */
static const char *
obj_test(kl_buf *exc, const json_t *v, size_t n, const char *const *names,
         const field_check *checks)
{
    const char *key, *f;
    json_t *x;
    bool first = true;

    if (!json_is_object(v))
        return not_type(exc, v, "dict");
    json_object_foreach((json_t *)(uintptr_t)v, key, x) {
        for (size_t i = 0; i < n; i++) {
            if (strcmp(key, names[i]) == 0 && (f = checks[i](exc, x)))
                return f;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (json_object_get(v, names[i]))
            continue;
        if (first && (kl_pyrepr(exc, v, false) != KL_OK || kl_buf_append_str(exc, " lacks fields {")))
            return "out of memory";
        if (kl_buf_printf(exc, "%s'%s'", first ? "" : ", ", names[i]) != KL_OK)
            return "out of memory";
        first = false;
    }
    if (!first)
        return kl_buf_append_byte(exc, '}') == KL_OK ? "" : "out of memory";
    return NULL;
}

static const char *
kernel_sb_test(kl_buf *exc, const json_t *v)
{
    static const char *const names[] = {"shim_authcode_sha256", "grub_authcode_sha256",
                                        "kernel_authcode_sha256", "initrd_plain_sha256",
                                        "kernel_cmdline"};
    static const field_check checks[] = {hex_test, hex_test, hex_test, hex_test, str_test};

    return obj_test(exc, v, 5, names, checks);
}

static const char *
kernel_nosb_test(kl_buf *exc, const json_t *v)
{
    static const char *const names[] = {"shim_authcode_sha256", "grub_authcode_sha256",
                                        "vmlinuz_plain_sha256", "initrd_plain_sha256",
                                        "kernel_cmdline"};
    static const field_check checks[] = {hex_test, hex_test, hex_test, hex_test, str_test};

    return obj_test(exc, v, 5, names, checks);
}

static const char *
scrtm_and_bios_test(kl_buf *exc, const json_t *v)
{
    static const char *const names[] = {"scrtm", "platform_firmware"};
    static const field_check checks[] = {digest_test, digest_list_test};

    return obj_test(exc, v, 2, names, checks);
}

/* digest_strip0x: {alg: hex} without the 0x (validated already). */
static json_t *
strip_digest(const json_t *d)
{
    json_t *o = json_object(), *v;
    const char *alg;

    json_object_foreach((json_t *)(uintptr_t)d, alg, v) {
        if (o && json_object_set_new(o, alg, json_string(json_string_value(v) + 2)) != 0) {
            json_decref(o);
            o = NULL;
        }
    }
    return o;
}

/* [strip_digest(d)] for DigestTest. */
static json_t *
one_digest(const json_t *d)
{
    json_t *s = strip_digest(d);

    return s ? json_pack("[o]", s) : NULL;
}

/* {"sha256": hex without 0x} as a list of one, for DigestTest. */
static json_t *
sha256_digest(const json_t *hex0x)
{
    return json_pack("[{s:s}]", "sha256", json_string_value(hex0x) + 2);
}

/* sigs_strip0x: validates and returns [{SignatureOwner, SignatureData}]
 * without the 0x, or NULL with the message in exc. */
static json_t *
strip_sigs(kl_buf *exc, const json_t *sigs, const char **fail)
{
    static const char *const names[] = {"SignatureOwner", "SignatureData"};
    static const field_check checks[] = {str_test, str_test};
    json_t *out = json_array(), *sig;
    size_t i;

    *fail = NULL;
    if (!out) {
        *fail = "out of memory";
        return NULL;
    }
    if (json_is_string(sigs) || json_is_object(sigs)) {
        /* iterating a str gives characters, a dict its keys: never dicts */
        if (json_is_string(sigs) && json_string_length(sigs) > 0) {
            const char *s = json_string_value(sigs);
            size_t n = 1;

            while (n < json_string_length(sigs) && ((unsigned char)s[n] & 0xc0) == 0x80)
                n++;
            json_t *c = json_stringn(s, n);
            *fail = c ? not_type(exc, c, "dict") : "out of memory";
            json_decref(c);
        } else if (json_is_object(sigs) && json_object_size(sigs) > 0) {
            json_t *k = json_string(json_object_iter_key(json_object_iter((json_t *)(uintptr_t)sigs)));

            *fail = k ? not_type(exc, k, "dict") : "out of memory";
            json_decref(k);
        }
        if (*fail) {
            json_decref(out);
            return NULL;
        }
        return out;
    }
    if (!json_is_array(sigs)) {
        *fail = not_type(exc, sigs, "typing.Iterable");
        json_decref(out);
        return NULL;
    }
    json_array_foreach(sigs, i, sig) {
        const json_t *data;

        if ((*fail = obj_test(exc, sig, 2, names, checks)))
            break;
        data = json_object_get(sig, "SignatureData");
        if (strncmp(json_string_value(data), "0x", 2) != 0) {
            *fail = kl_pyrepr(exc, data, false) == KL_OK &&
                            kl_buf_append_str(exc, " does not start with 0x") == KL_OK
                        ? ""
                        : "out of memory";
            break;
        }
        if (json_array_append_new(out, json_pack("{s:O,s:s}", "SignatureOwner",
                                                 json_object_get(sig, "SignatureOwner"),
                                                 "SignatureData", json_string_value(data) + 2)) != 0) {
            *fail = "out of memory";
            break;
        }
    }
    if (*fail) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* digests_strip0x. */
static json_t *
strip_digests(kl_buf *exc, const json_t *list, const char **fail)
{
    json_t *out, *d;
    size_t i;

    if ((*fail = list_of(exc, list, digest_test)))
        return NULL;
    out = json_array();
    json_array_foreach(list, i, d) {
        if (out && json_array_append_new(out, strip_digest(d)) != 0) {
            json_decref(out);
            out = NULL;
        }
    }
    if (!out)
        *fail = "out of memory";
    return out;
}

/* ---- building the test ------------------------------------------------ */

typedef struct {
    kl_mb_test_set *s;
    kl_buf *exc;
    const char *fail; /* set when the refstate is refused ("" or a message) */
    bool sb;
    kl_mb_test *final; /* the DelayToFields */
} builder;

static kl_mb_test *
T2(kl_mb_test_set *s, kl_mb_test *(*f)(kl_mb_test_set *, size_t, kl_mb_test *const *),
   kl_mb_test *a, kl_mb_test *b)
{
    kl_mb_test *v[2] = {a, b};

    return f(s, 2, v);
}

static kl_mb_test *
digest_test_of(builder *b, json_t *good)
{
    kl_mb_test *t = good ? kl_mb_test_digests(b->s, good) : NULL;

    json_decref(good);
    return t;
}

/* bsa_test(kernel): shim, grub[, kernel (once or twice)]. */
static kl_mb_test *
bsa_test(builder *b, const json_t *k)
{
    kl_mb_test_set *s = b->s;
    kl_mb_test *shim = digest_test_of(b, sha256_digest(json_object_get(k, "shim_authcode_sha256")));
    kl_mb_test *grub = digest_test_of(b, sha256_digest(json_object_get(k, "grub_authcode_sha256")));
    kl_mb_test *three[3], *four[4], *kern;

    if (!b->sb)
        return T2(s, kl_mb_test_tuple, shim, grub);
    kern = digest_test_of(b, sha256_digest(json_object_get(k, "kernel_authcode_sha256")));
    three[0] = four[0] = shim;
    three[1] = four[1] = grub;
    three[2] = four[2] = four[3] = kern;
    return T2(s, kl_mb_test_or, kl_mb_test_tuple(s, 3, three), kl_mb_test_tuple(s, 4, four));
}

/* FieldsTest(bsas=..., ipl9s=..., vmlinuz=..., kernel_cmdlines=...). */
static kl_mb_test *
kernel_test(builder *b, const json_t *k)
{
    kl_mb_test_set *s = b->s;
    kl_mb_test *f[4], *one;
    json_t *cmd;
    kl_buf re;

    f[0] = kl_mb_test_field(s, "bsas", bsa_test(b, k), true);
    one = digest_test_of(b, sha256_digest(json_object_get(k, "initrd_plain_sha256")));
    f[1] = kl_mb_test_field(s, "ipl9s", kl_mb_test_tuple(s, 1, &one), true);
    one = b->sb ? kl_mb_test_accept(s)
                : digest_test_of(b, sha256_digest(json_object_get(k, "vmlinuz_plain_sha256")));
    f[2] = kl_mb_test_field(s, "vmlinuz", kl_mb_test_tuple(s, 1, &one), true);
    kl_buf_init(&re, (size_t)1 << 30);
    cmd = json_object_get(k, "kernel_cmdline");
    if (kl_buf_append_str(&re, "kernel_cmdline: ") != KL_OK ||
        kl_buf_append(&re, json_string_value(cmd), json_string_length(cmd)) != KL_OK) {
        kl_buf_free(&re);
        return NULL;
    }
    one = kl_mb_test_regexp(s, kl_buf_bytes(&re), false);
    kl_buf_free(&re);
    if (!one && kl_mb_test_set_status(s) == KL_EINVAL && !b->fail)
        b->fail = kl_mb_test_set_error(s); /* re.error */
    f[3] = kl_mb_test_field(s, "kernel_cmdlines", kl_mb_test_tuple(s, 1, &one), true);
    return kl_mb_test_and(s, 4, f);
}

/* Or(And(FieldTest("s_crtms", ...), FieldTest("platform_firmware_blobs", ...))...). */
static kl_mb_test *
scrtm_test(builder *b, const json_t *sab)
{
    kl_mb_test_set *s = b->s;
    size_t n = json_array_size(sab), i;
    kl_mb_test **alts = kl_calloc(n ? n : 1, sizeof(*alts)), *or;
    json_t *allowed;

    if (!alts)
        return NULL;
    json_array_foreach(sab, i, allowed) {
        const json_t *pf = json_object_get(allowed, "platform_firmware");
        size_t npf = json_array_size(pf), j;
        kl_mb_test **blobs = kl_calloc(npf ? npf : 1, sizeof(*blobs)), *scrtm;
        json_t *d;

        if (!blobs)
            break;
        json_array_foreach(pf, j, d)
            blobs[j] = digest_test_of(b, one_digest(d));
        scrtm = digest_test_of(b, one_digest(json_object_get(allowed, "scrtm")));
        alts[i] = T2(s, kl_mb_test_and,
                     kl_mb_test_field(s, "s_crtms", kl_mb_test_tuple(s, 1, &scrtm), true),
                     kl_mb_test_field(s, "platform_firmware_blobs", kl_mb_test_tuple(s, npf, blobs),
                                      true));
        kl_free(blobs);
    }
    or = kl_mb_test_or(s, n, alts);
    kl_free(alts);
    return or;
}

/* The sigs of refstate[key], validated as upstream does; NULL with b->fail
 * set when refused. */
static json_t *
sigs_of(builder *b, json_t *refstate, const char *key)
{
    const char *fail;
    json_t *sigs;

    if (b->fail)
        return NULL;
    sigs = strip_sigs(b->exc, json_object_get(refstate, key), &fail);
    if (!sigs)
        b->fail = fail;
    return sigs;
}

/* Once(AcceptAll) without Secure Boot and keys, else Once(Or(subset for
 * each GUID byte order)). */
static kl_mb_test *
keys_test(builder *b, json_t *refstate, const char *key, size_t ntypes, const char *const *types,
          const char *const *swapped, bool superset)
{
    kl_mb_test_set *s = b->s;
    kl_mb_test *alt[2];
    json_t *sigs;

    if (!b->sb && !kl_pyrepr_truthy(json_object_get(refstate, key)))
        return kl_mb_test_once(s, kl_mb_test_accept(s));
    if (!(sigs = sigs_of(b, refstate, key)))
        return NULL;
    if (superset) {
        alt[0] = kl_mb_test_key_superset(s, swapped[0], sigs);
        alt[1] = kl_mb_test_key_superset(s, types[0], sigs);
    } else {
        alt[0] = kl_mb_test_key_subset(s, ntypes, swapped, sigs);
        alt[1] = kl_mb_test_key_subset(s, ntypes, types, sigs);
    }
    json_decref(sigs);
    return kl_mb_test_once(s, kl_mb_test_or(s, 2, alt));
}

/* Sets the test under both byte orders of a GUID. */
static void
both(builder *b, kl_mb_test *vd, const char *guid, const char *swapped, const char *name,
     kl_mb_test *t)
{
    kl_mb_test_var_dispatch_set(b->s, vd, swapped, name, t);
    kl_mb_test_var_dispatch_set(b->s, vd, guid, name, t);
}

static kl_mb_test *
driver_config(builder *b, json_t *refstate)
{
    static const char *const x509[] = {CERT_X509}, *const x509s[] = {CERT_X509_SWAPPED};
    static const char *const db[] = {CERT_X509, CERT_SHA256};
    static const char *const dbs[] = {CERT_X509_SWAPPED, CERT_SHA256_SWAPPED};
    static const char *const sha[] = {CERT_SHA256}, *const shas[] = {CERT_SHA256_SWAPPED};
    kl_mb_test_set *s = b->s;
    kl_mb_test *vd = kl_mb_test_var_dispatch(s), *sbt;

    sbt = kl_mb_test_field(s, "Enabled", kl_mb_test_streq(s, b->sb ? "Yes" : "No"), true);
    both(b, vd, GLOBAL_VAR, GLOBAL_VAR_SWAPPED, "SecureBoot", sbt);
    both(b, vd, GLOBAL_VAR, GLOBAL_VAR_SWAPPED, "PK",
         keys_test(b, refstate, "pk", 1, x509, x509s, false));
    both(b, vd, GLOBAL_VAR, GLOBAL_VAR_SWAPPED, "KEK",
         keys_test(b, refstate, "kek", 1, x509, x509s, false));
    both(b, vd, IMAGE_DB, IMAGE_DB_SWAPPED, "db", keys_test(b, refstate, "db", 2, db, dbs, false));
    both(b, vd, IMAGE_DB, IMAGE_DB_SWAPPED, "vendor_db",
         keys_test(b, refstate, "vendor_db", 2, db, dbs, false));
    both(b, vd, IMAGE_DB, IMAGE_DB_SWAPPED, "dbx",
         keys_test(b, refstate, "dbx", 1, sha, shas, true));
    return vd;
}

static kl_mb_test *
authority(builder *b, json_t *refstate)
{
    kl_mb_test_set *s = b->s;
    kl_mb_test *vd = kl_mb_test_var_dispatch(s), *t, *yes_no[2];
    json_t *sigs;

    both(b, vd, IMAGE_DB, IMAGE_DB_SWAPPED, "db", kl_mb_test_once(s, kl_mb_test_accept(s)));
    if (!b->sb && !kl_pyrepr_truthy(json_object_get(refstate, "vendor_db"))) {
        t = kl_mb_test_once(s, kl_mb_test_accept(s));
    } else {
        sigs = sigs_of(b, refstate, "vendor_db");
        t = sigs ? kl_mb_test_once(s, kl_mb_test_iterate(s, kl_mb_test_sig_member(s, sigs), false))
                 : NULL;
        json_decref(sigs);
    }
    both(b, vd, IMAGE_DB, IMAGE_DB_SWAPPED, "vendor_db", t);
    both(b, vd, SHIM_LOCK, SHIM_LOCK_SWAPPED, "SbatLevel", kl_mb_test_once(s, kl_mb_test_accept(s)));
    both(b, vd, SHIM_LOCK, SHIM_LOCK_SWAPPED, "Shim", kl_mb_test_once(s, kl_mb_test_accept(s)));
    yes_no[0] = kl_mb_test_field(s, "Enabled", kl_mb_test_streq(s, "Yes"), true);
    yes_no[1] = kl_mb_test_field(s, "Enabled", kl_mb_test_streq(s, "No"), true);
    kl_mb_test_var_dispatch_set(s, vd, SHIM_LOCK, "MokListTrusted",
                                kl_mb_test_once(s, kl_mb_test_or(s, 2, yes_no)));
    kl_mb_test_var_dispatch_set(s, vd, SHIM_LOCK, "MokListRT",
                                kl_mb_test_once(s, kl_mb_test_accept(s)));
    return vd;
}

/* FieldTest("Event", FieldTest("String", t)). */
static kl_mb_test *
event_string(kl_mb_test_set *s, kl_mb_test *t)
{
    return kl_mb_test_field(s, "Event", kl_mb_test_field(s, "String", t, true), true);
}

static kl_mb_test *
ipl14(builder *b, json_t *refstate)
{
    kl_mb_test_set *s = b->s;
    kl_mb_test *alt[3];
    json_t *mok = NULL, *mokx = NULL;
    const char *fail = NULL;

    if (!b->fail && !(mok = strip_digests(b->exc, json_object_get(refstate, "mokdig"), &fail)))
        b->fail = fail;
    if (!b->fail && !(mokx = strip_digests(b->exc, json_object_get(refstate, "mokxdig"), &fail)))
        b->fail = fail;
    if (b->fail) {
        json_decref(mok);
        json_decref(mokx);
        return NULL;
    }
    alt[0] = T2(s, kl_mb_test_and, event_string(s, kl_mb_test_streq(s, "MokList")),
                digest_test_of(b, mok));
    alt[1] = T2(s, kl_mb_test_and, event_string(s, kl_mb_test_streq(s, "MokListX")),
                digest_test_of(b, mokx));
    alt[2] = T2(s, kl_mb_test_and, event_string(s, kl_mb_test_streq(s, "MokListTrusted")),
                kl_mb_test_once(s, kl_mb_test_accept(s)));
    return kl_mb_test_or(s, 3, alt);
}

static kl_mb_test *
ipl9(builder *b)
{
    kl_mb_test_set *s = b->s;
    kl_mb_test *alt[4];

    alt[0] = event_string(s, kl_mb_test_regexp(s, KL_BYTES_STR(".*/loader/entries.*"), false));
    alt[1] = event_string(s, kl_mb_test_regexp(s, KL_BYTES_STR(".*/grub.*"), false));
    alt[2] = T2(s, kl_mb_test_and, event_string(s, kl_mb_test_regexp(s, KL_BYTES_STR(".*/vmlinuz.*"), false)),
                kl_mb_test_delayed(s, b->final, "vmlinuz"));
    alt[3] = T2(s, kl_mb_test_and,
                event_string(s, T2(s, kl_mb_test_or, kl_mb_test_regexp(s, KL_BYTES_STR(".*/initrd.*"), false),
                                   kl_mb_test_regexp(s, KL_BYTES_STR(".*/initramfs.*"), false))),
                kl_mb_test_delayed(s, b->final, "ipl9s"));
    return kl_mb_test_or(s, 4, alt);
}

static kl_mb_test *
ipl8(builder *b)
{
    kl_mb_test_set *s = b->s;
    kl_mb_test *cmd = T2(s, kl_mb_test_and, kl_mb_test_regexp(s, KL_BYTES_STR("kernel_cmdline: .*"), false),
                         kl_mb_test_delayed(s, b->final, "kernel_cmdlines"));

    return event_string(s, T2(s, kl_mb_test_or, kl_mb_test_regexp(s, KL_BYTES_STR("grub_cmd: .*"), true), cmd));
}

static void
route(kl_mb_test_set *s, kl_mb_test *d, int pcr, const char *type, kl_mb_test *t)
{
    kl_mb_test_dispatch_set(s, d, json_pack("[is]", pcr, type), t);
}

static kl_mb_test *
dispatcher(builder *b, json_t *refstate)
{
    static const char *const keys[] = {"PCRIndex", "EventType"};
    kl_mb_test_set *s = b->s;
    kl_mb_test *d = kl_mb_test_dispatcher(s, 2, keys), *flags[4];

    route(s, d, 0, "EV_NO_ACTION", kl_mb_test_once(s, kl_mb_test_accept(s)));
    route(s, d, 1, "EV_CPU_MICROCODE", kl_mb_test_once(s, kl_mb_test_accept(s)));
    route(s, d, 1, "EV_EFI_HANDOFF_TABLES", kl_mb_test_once(s, kl_mb_test_accept(s)));
    route(s, d, 1, "EV_EFI_HANDOFF_TABLES2", kl_mb_test_once(s, kl_mb_test_accept(s)));
    route(s, d, 0, "EV_S_CRTM_VERSION", kl_mb_test_delayed(s, b->final, "s_crtms"));
    route(s, d, 0, "EV_EFI_PLATFORM_FIRMWARE_BLOB",
          kl_mb_test_delayed(s, b->final, "platform_firmware_blobs"));
    route(s, d, 0, "EV_EFI_PLATFORM_FIRMWARE_BLOB2",
          kl_mb_test_delayed(s, b->final, "platform_firmware_blobs"));
    route(s, d, 7, "EV_EFI_VARIABLE_DRIVER_CONFIG", driver_config(b, refstate));
    route(s, d, 7, "EV_EFI_VARIABLE_AUTHORITY", authority(b, refstate));
    route(s, d, 2, "EV_EFI_BOOT_SERVICES_DRIVER", kl_mb_test_accept(s));
    route(s, d, 1, "EV_EFI_VARIABLE_BOOT",
          T2(s, kl_mb_test_or,
             kl_mb_test_variable(s, GLOBAL_VAR_SWAPPED, "BootOrder|Boot[0-9a-fA-F]+",
                                 kl_mb_test_accept(s)),
             kl_mb_test_variable(s, GLOBAL_VAR, "BootOrder|Boot[0-9a-fA-F]+",
                                 kl_mb_test_accept(s))));
    for (int i = 0; i < 4; i++)
        flags[i] = kl_mb_test_once(s, kl_mb_test_accept(s));
    route(s, d, 1, "EV_PLATFORM_CONFIG_FLAGS", kl_mb_test_or(s, 4, flags));
    route(s, d, 4, "EV_EFI_ACTION", kl_mb_test_ev_efi_action(s, 4));
    for (int pcr = 0; pcr < 8; pcr++)
        route(s, d, pcr, "EV_SEPARATOR", kl_mb_test_ev_separator(s));
    route(s, d, 4, "EV_EFI_BOOT_SERVICES_APPLICATION", kl_mb_test_delayed(s, b->final, "bsas"));
    route(s, d, 14, "EV_IPL", ipl14(b, refstate));
    route(s, d, 9, "EV_IPL", ipl9(b));
    route(s, d, 8, "EV_IPL", ipl8(b));
    route(s, d, 5, "EV_EFI_ACTION", kl_mb_test_ev_efi_action(s, 5));
    route(s, d, 1, "EV_EFI_ACTION", kl_mb_test_ev_efi_action(s, 1));
    route(s, d, 5, "EV_EFI_GPT_EVENT", kl_mb_test_once(s, kl_mb_test_accept(s)));
    return d;
}

/* The checks refstate_to_test does before building anything. */
static const char *
check_refstate(builder *b, json_t *refstate)
{
    static const char *const req[] = {"pk", "kek", "db", "dbx", "mokdig", "mokxdig"};
    json_t *kernels, *sab, *sb;
    const char *f;

    if (!json_is_object(refstate)) {
        if (kl_buf_append_str(b->exc, "Expected refstate to be a Python dict but instead got this "
                                      "Python value: ") != KL_OK ||
            kl_pyrepr(b->exc, refstate, false) != KL_OK)
            return "out of memory";
        return "";
    }
    sb = json_object_get(refstate, "has_secureboot");
    b->sb = !sb || kl_pyrepr_truthy(sb);
    kernels = json_object_get(refstate, "kernels");
    if (!json_is_array(kernels)) {
        if (kl_buf_append_str(b->exc, "refstate['kernels'] is ") != KL_OK ||
            kl_pyrepr(b->exc, kernels ? kernels : json_null(), false) != KL_OK ||
            kl_buf_append_str(b->exc, " instead of a list") != KL_OK)
            return "out of memory";
        return "";
    }
    if ((f = list_of(b->exc, kernels, b->sb ? kernel_sb_test : kernel_nosb_test)))
        return f;
    sab = json_object_get(refstate, "scrtm_and_bios");
    if (!sab || json_is_null(sab))
        return kl_buf_append_str(b->exc, "refstate['scrtm_and_bios'] is missing") == KL_OK
                   ? ""
                   : "out of memory";
    if ((f = list_of(b->exc, sab, scrtm_and_bios_test)))
        return f;
    for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
        if (!json_object_get(refstate, req[i]))
            return kl_buf_printf(b->exc, "refstate lacks %s", req[i]) == KL_OK ? ""
                                                                               : "out of memory";
    }
    if (!json_object_get(refstate, "vendor_db") &&
        json_object_set_new(refstate, "vendor_db", json_array()) != 0)
        return "out of memory";
    return NULL;
}

/* The whole test (refstate_to_test); NULL with b->fail set when refused. */
static kl_mb_test *
build(builder *b, json_t *refstate)
{
    static const char *const fields[] = {"kernel_cmdlines", "bsas", "ipl9s", "vmlinuz", "s_crtms",
                                         "platform_firmware_blobs"};
    kl_mb_test_set *s = b->s;
    json_t *kernels, *k;
    kl_mb_test *scrtm, **alts, *all, *steps[3], *d;
    size_t i, n;

    if ((b->fail = check_refstate(b, refstate)))
        return NULL;
    scrtm = scrtm_test(b, json_object_get(refstate, "scrtm_and_bios"));
    kernels = json_object_get(refstate, "kernels");
    n = json_array_size(kernels);
    alts = kl_calloc(n ? n : 1, sizeof(*alts));
    if (!alts)
        return NULL;
    json_array_foreach(kernels, i, k) {
        if (!(alts[i] = kernel_test(b, k)))
            break;
    }
    all = b->fail ? NULL : T2(s, kl_mb_test_and, kl_mb_test_or(s, n, alts), scrtm);
    kl_free(alts);
    if (b->fail)
        return NULL;
    b->final = kl_mb_test_delay(s, all, 6, fields);
    d = dispatcher(b, refstate);
    if (b->fail)
        return NULL;
    steps[0] = kl_mb_test_delay_init(s, b->final);
    steps[1] = kl_mb_test_iterate(s, d, true);
    steps[2] = b->final;
    return kl_mb_test_field(s, "events", kl_mb_test_and(s, 3, steps), false);
}

kl_rc
kl_mb_example_evaluate(kl_buf *reason, json_t *refstate, json_t *log)
{
    builder b = {0};
    kl_buf exc;
    kl_mb_test *t;
    kl_rc rc;

    kl_buf_init(&exc, (size_t)1 << 30);
    b.exc = &exc;
    rc = kl_mb_test_set_new(&b.s);
    if (rc != KL_OK)
        goto out;
    t = build(&b, refstate);
    if (b.fail && strcmp(b.fail, "out of memory") != 0) {
        rc = kl_buf_append_str(reason, "policy evaluation failed: ");
        if (rc == KL_OK)
            rc = *b.fail ? kl_buf_append_str(reason, b.fail)
                         : kl_buf_append(reason, exc.ptr ? exc.ptr : (const uint8_t *)"", exc.len);
        goto out;
    }
    rc = kl_mb_test_set_status(b.s);
    if (rc == KL_OK && (b.fail || !t))
        rc = kl_err_set(KL_ENOMEM, "out of memory");
    if (rc == KL_OK)
        rc = kl_mb_test_why_not(b.s, t, log, reason);
out:
    kl_mb_test_set_free(b.s);
    kl_buf_free(&exc);
    return rc;
}
