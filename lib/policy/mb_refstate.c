#define PCRE2_CODE_UNIT_WIDTH 8
#include "policy/mb_refstate.h"

#include <pcre2.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mb/eventlog_json.h"

/* Field access on the upstream view of an event. */
static const char *
type_of(json_t *ev)
{
    return json_string_value(json_object_get(ev, "EventType"));
}

static bool
is_type(json_t *ev, const char *type)
{
    const char *t = type_of(ev);

    return t && strcmp(t, type) == 0;
}

static json_t *
event_field(json_t *ev, const char *name)
{
    return json_object_get(json_object_get(ev, "Event"), name);
}

static bool
ipl_on(json_t *ev, int pcr)
{
    json_t *p = json_object_get(ev, "PCRIndex");

    return is_type(ev, "EV_IPL") && json_is_integer(p) && json_integer_value(p) == pcr;
}

/* Python's `word in text`. */
static bool
has(json_t *text, const char *word)
{
    return memmem(json_string_value(text), json_string_length(text), word, strlen(word)) != NULL;
}

static bool
str_is(json_t *text, const char *s)
{
    return json_is_string(text) && json_string_length(text) == strlen(s) &&
           memcmp(json_string_value(text), s, strlen(s)) == 0;
}

/* event_to_sha256: {"sha256": "0x<hex>"} or {}. */
static json_t *
event_sha256(json_t *ev)
{
    json_t *digests = json_object_get(ev, "Digests"), *d;
    size_t i;

    json_array_foreach(digests, i, d) {
        const char *alg = json_string_value(json_object_get(d, "AlgorithmId"));
        const char *hex = json_string_value(json_object_get(d, "Digest"));

        if (alg && hex && strcmp(alg, "sha256") == 0)
            return json_pack("{s:s+}", "sha256", "0x", hex);
    }
    return json_object();
}

/* The "0x<hex>" sha256 of an event, NULL when it has none. */
static const char *
sha256_of(json_t *digest)
{
    return json_string_value(json_object_get(digest, "sha256"));
}

typedef struct {
    const kl_mb_refstate_opts *o;
    json_t *events;
    kl_rc rc;
} gen;

static void
note(gen *g, kl_log_level level, const char *msg)
{
    kl_policy_doc_note(g->o->note, g->o->payload, level, "%s", msg);
}

static json_t *
check(gen *g, json_t *v)
{
    if (!v && g->rc == KL_OK)
        g->rc = kl_err_set(KL_ENOMEM, "out of memory");
    return v;
}

static void
put(gen *g, json_t *obj, const char *key, json_t *v)
{
    if (!check(g, v) || !obj || g->rc != KL_OK || json_object_set_new(obj, key, v) != 0) {
        json_decref(v);
        check(g, NULL);
    }
}

static void
append(gen *g, json_t *arr, json_t *v)
{
    if (!check(g, v) || !arr || g->rc != KL_OK || json_array_append_new(arr, v) != 0) {
        json_decref(v);
        check(g, NULL);
    }
}

static bool
secureboot_enabled(gen *g)
{
    size_t i;
    json_t *ev;

    json_array_foreach(g->events, i, ev) {
        const char *name = json_string_value(event_field(ev, "UnicodeName"));
        json_t *data = event_field(ev, "VariableData");

        if (!is_type(ev, "EV_EFI_VARIABLE_DRIVER_CONFIG") || !name || strcmp(name, "SecureBoot"))
            continue;
        if (json_is_object(data) && json_object_get(data, "Enabled")) {
            const char *v = json_string_value(json_object_get(data, "Enabled"));

            return v && strcmp(v, "Yes") == 0;
        }
    }
    note(g, KL_LOG_WARN, "SecureBoot state could not be determined; assuming disabled");
    return false;
}

/* {"scrtm": ..., "platform_firmware": [...]} (scrtm only with an
 * EV_S_CRTM_VERSION event). */
static json_t *
scrtm_and_bios(gen *g)
{
    json_t *o = check(g, json_object()), *pf = check(g, json_array()), *ev;
    bool scrtm = false;
    size_t i;

    json_array_foreach(g->events, i, ev) {
        if (!scrtm && is_type(ev, "EV_S_CRTM_VERSION")) {
            put(g, o, "scrtm", event_sha256(ev));
            scrtm = true;
        }
        if (is_type(ev, "EV_EFI_PLATFORM_FIRMWARE_BLOB") ||
            is_type(ev, "EV_EFI_PLATFORM_FIRMWARE_BLOB2"))
            append(g, pf, event_sha256(ev));
    }
    put(g, o, "platform_firmware", pf);
    return json_pack("[o]", o);
}

/* {SignatureOwner, "0x" SignatureData} when both are there. */
static json_t *
signature(json_t *key)
{
    const char *owner = json_string_value(json_object_get(key, "SignatureOwner"));
    const char *data = json_string_value(json_object_get(key, "SignatureData"));

    if (!owner || !data)
        return NULL;
    return json_pack("{s:s,s:s+}", "SignatureOwner", owner, "SignatureData", "0x", data);
}

/* variabledata_to_signature: the keys of every signature list. */
static json_t *
list_keys(gen *g, json_t *data)
{
    json_t *out = check(g, json_array()), *entry, *key;
    size_t i, k;

    json_array_foreach(data, i, entry) {
        /* upstream fails on a list without keys (None); it adds nothing here */
        json_array_foreach(json_object_get(entry, "Keys"), k, key) {
            json_t *sig = signature(key);

            if (sig)
                append(g, out, sig);
        }
    }
    return out;
}

static void
keys(gen *g, json_t *state)
{
    static const char *const names[] = {"pk", "kek", "db", "dbx"};
    json_t *found[4] = {NULL, NULL, NULL, NULL}, *ev;
    size_t i;

    json_array_foreach(g->events, i, ev) {
        const char *name = json_string_value(event_field(ev, "UnicodeName"));
        json_t *data = event_field(ev, "VariableData");

        if (!is_type(ev, "EV_EFI_VARIABLE_DRIVER_CONFIG") || !name || !data || json_is_null(data))
            continue;
        for (size_t n = 0; n < 4; n++) {
            if (strcasecmp(name, names[n]) == 0) {
                json_decref(found[n]);
                found[n] = list_keys(g, data); /* the last one counts */
            }
        }
    }
    for (size_t n = 0; n < 4; n++)
        put(g, state, names[n], found[n] ? found[n] : json_array());
}

static json_t *
vendor_db(gen *g)
{
    json_t *out = check(g, json_array()), *ev, *sig;
    size_t i, k;

    json_array_foreach(g->events, i, ev) {
        const char *name = json_string_value(event_field(ev, "UnicodeName"));

        if (!is_type(ev, "EV_EFI_VARIABLE_AUTHORITY") || !name || strcasecmp(name, "vendor_db"))
            continue;
        json_array_foreach(event_field(ev, "VariableData"), k, sig) {
            json_t *s = signature(sig);

            if (s)
                append(g, out, s);
        }
    }
    return out;
}

static void
mok(gen *g, json_t *state)
{
    json_t *mokdig = check(g, json_array()), *mokxdig = check(g, json_array()), *ev;
    size_t i;

    json_array_foreach(g->events, i, ev) {
        json_t *s = event_field(ev, "String");

        if (!is_type(ev, "EV_IPL"))
            continue;
        if (str_is(s, "MokList"))
            append(g, mokdig, event_sha256(ev));
        else if (str_is(s, "MokListX"))
            append(g, mokxdig, event_sha256(ev));
    }
    put(g, state, "mokdig", mokdig);
    put(g, state, "mokxdig", mokxdig);
}

/* The sha256 of the first PCR pcr EV_IPL whose text holds one of the words. */
static json_t *
first_ipl(json_t *events, int pcr, const char *w1, const char *w2)
{
    json_t *ev;
    size_t i;

    json_array_foreach(events, i, ev) {
        json_t *s = event_field(ev, "String");

        if (ipl_on(ev, pcr) && json_is_string(s) && (has(s, w1) || (w2 && has(s, w2))))
            return ev;
    }
    return NULL;
}

kl_rc
kl_mb_refstate_re_escape(kl_buf *out, kl_bytes text)
{
    static const char special[] = "()[]{}?*+-|^$\\.&~# \t\n\r\v\f";
    kl_rc rc = KL_OK;

    for (size_t i = 0; rc == KL_OK && i < text.len; i++) {
        if (text.ptr[i] && memchr(special, text.ptr[i], sizeof(special) - 1))
            rc = kl_buf_append_byte(out, '\\');
        if (rc == KL_OK)
            rc = kl_buf_append_byte(out, text.ptr[i]);
    }
    return rc;
}

/* String[len("kernel_cmdline: "):], counted in characters. */
static kl_bytes
after_prefix(const char *s, size_t len)
{
    size_t i = 0;

    for (int chars = 0; chars < 16 && i < len; chars++) {
        i++;
        while (i < len && ((unsigned char)s[i] & 0xc0) == 0x80)
            i++;
    }
    return KL_BYTES(s + i, len - i);
}

static kl_rc
put_sha256(gen *g, json_t *kernel, const char *key, json_t *ev)
{
    json_t *d = event_sha256(ev);
    const char *hex = sha256_of(d);

    if (!hex) {
        json_decref(d);
        return g->rc != KL_OK ? g->rc
                              : kl_err_set(KL_EUNSUPPORTED, "event %lld has no sha256 digest",
                                           json_integer_value(json_object_get(ev, "EventNum")));
    }
    put(g, kernel, key, json_string(hex));
    json_decref(d);
    return g->rc;
}

static kl_rc
cmdline(gen *g, json_t *kernel)
{
    json_t *ev = first_ipl(g->events, 8, "kernel_cmdline", NULL), *s;
    kl_buf esc;
    kl_rc rc;

    if (!ev)
        return KL_OK;
    s = event_field(ev, "String");
    kl_buf_init(&esc, (size_t)1 << 30);
    rc = kl_mb_refstate_re_escape(&esc, after_prefix(json_string_value(s), json_string_length(s)));
    if (rc == KL_OK)
        put(g, kernel, "kernel_cmdline",
            json_stringn(esc.ptr ? (const char *)esc.ptr : "", esc.len));
    kl_buf_free(&esc);
    return rc == KL_OK ? g->rc : rc;
}

/* The boot applications whose device path does not start with
 * FvVol(...)/FvFile(...) (upstream's regex, matched at the start). */
static size_t
boot_apps(gen *g, json_t **apps, size_t max)
{
    static const char fv_app[] = "FvVol\\(\\w{8}-\\w{4}-\\w{4}-\\w{4}-\\w{12}\\)/"
                                 "FvFile\\(\\w{8}-\\w{4}-\\w{4}-\\w{4}-\\w{12}\\)";
    pcre2_code *re;
    pcre2_match_data *md;
    size_t n = 0, i;
    json_t *ev;
    int err;
    PCRE2_SIZE off;

    re = pcre2_compile((PCRE2_SPTR)fv_app, sizeof(fv_app) - 1, PCRE2_UTF | PCRE2_UCP, &err, &off,
                       NULL);
    md = re ? pcre2_match_data_create_from_pattern(re, NULL) : NULL;
    if (!md) {
        pcre2_code_free(re);
        check(g, NULL);
        return 0;
    }
    json_array_foreach(g->events, i, ev) {
        json_t *dp = event_field(ev, "DevicePath");

        if (!is_type(ev, "EV_EFI_BOOT_SERVICES_APPLICATION"))
            continue;
        if (json_is_string(dp) &&
            pcre2_match(re, (PCRE2_SPTR)json_string_value(dp), json_string_length(dp), 0,
                        PCRE2_ANCHORED, md, NULL) >= 0)
            continue;
        if (n < max)
            apps[n] = ev;
        n++;
    }
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return n;
}

static kl_rc
kernels(gen *g, json_t *state, bool sb)
{
    json_t *apps[4], *kernel, *ev;
    size_t n = boot_apps(g, apps, 4);
    char msg[128];
    kl_rc rc = KL_OK;

    if (g->rc != KL_OK)
        return g->rc;
    if (sb && n != 3 && n != 4) {
        snprintf(msg, sizeof(msg), "Expected 3 different UEFI applications to be booted (Shim, "
                                   "Grub, Linux); got: %zu", n);
        note(g, KL_LOG_ERR, msg);
        return KL_OK;
    }
    if (!sb && n != 2) {
        snprintf(msg, sizeof(msg), "Expected 2 different UEFI applications to be booted (Shim, "
                                   "Grub); got: %zu", n);
        note(g, KL_LOG_ERR, msg);
        return KL_OK;
    }
    kernel = check(g, json_object());
    if (sb)
        rc = put_sha256(g, kernel, "kernel_authcode_sha256", apps[2]);
    if (rc == KL_OK)
        rc = put_sha256(g, kernel, "shim_authcode_sha256", apps[0]);
    if (rc == KL_OK)
        rc = put_sha256(g, kernel, "grub_authcode_sha256", apps[1]);
    if (rc == KL_OK && (ev = first_ipl(g->events, 9, "initrd", "initramfs")))
        rc = put_sha256(g, kernel, "initrd_plain_sha256", ev);
    if (rc == KL_OK && !sb) {
        note(g, KL_LOG_INFO, "Adding plain sha256 digest of vmlinuz for GRUB to reference state, "
                             "because SecureBoot is disabled");
        if ((ev = first_ipl(g->events, 9, "vmlinuz", NULL)))
            rc = put_sha256(g, kernel, "vmlinuz_plain_sha256", ev);
    }
    if (rc == KL_OK)
        rc = cmdline(g, kernel);
    if (rc == KL_OK)
        put(g, state, "kernels", json_pack("[O]", kernel));
    json_decref(kernel);
    return rc == KL_OK ? g->rc : rc;
}

kl_rc
kl_mb_refstate_create(json_t **out, const kl_eventlog *log, const kl_mb_refstate_opts *opts)
{
    gen g = {opts, NULL, KL_OK};
    json_t *state = NULL;
    bool sb;
    kl_rc rc;

    *out = NULL;
    if (kl_eventlog_count(log) == 0)
        return kl_err_set(KL_EINVAL, "No events found on binary boot measurements log");
    rc = kl_eventlog_json_events(log, &g.events);
    if (rc != KL_OK)
        return rc;
    sb = secureboot_enabled(&g);
    if (!sb && !opts->without_secureboot) {
        json_decref(g.events);
        return kl_err_set(KL_EINVAL,
                          "Provided eventlog has SecureBoot disabled, but -i flag was not set");
    }
    if (sb && opts->without_secureboot)
        note(&g, KL_LOG_WARN,
             "-i/--without-secureboot was set to create a reference state without SecureBoot, but "
             "the provided eventlog has SecureBoot enabled. Ignoring this flag");
    state = check(&g, json_object());
    put(&g, state, "has_secureboot", json_boolean(sb));
    put(&g, state, "scrtm_and_bios", scrtm_and_bios(&g));
    keys(&g, state);
    put(&g, state, "vendor_db", vendor_db(&g));
    mok(&g, state);
    rc = kernels(&g, state, sb);
    if (rc == KL_OK)
        rc = g.rc;
    json_decref(g.events);
    if (rc != KL_OK) {
        json_decref(state);
        return rc;
    }
    *out = state;
    return KL_OK;
}
