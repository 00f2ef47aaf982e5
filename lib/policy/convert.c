#include "policy/convert.h"

#include "policy/legacy.h"
#include "policy/runtime_policy.h"
#include "policy/vkeys.h"
#include "util/kl_file.h"

#include "json/json.h"
#include <jansson.h>
#include <string.h>

#define INPUT_MAX ((size_t)2 << 30)
#define KEYRING_PREFIX "%keyring:"

static const char *const policy_keys[] = {
    "meta", "release", "digests", "excludes", "keyrings", "ima", "ima-buf", "verification-keys",
};
#define NKEYS (sizeof(policy_keys) / sizeof(policy_keys[0]))

static kl_rc
oom(void)
{
    return kl_err_set(KL_ENOMEM, "out of memory");
}

static const char *
base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

/* Python truthiness of a JSON value. */
static bool
truthy(const json_t *v)
{
    if (!v)
        return false;
    switch (json_typeof(v)) {
    case JSON_OBJECT: return json_object_size(v) > 0;
    case JSON_ARRAY: return json_array_size(v) > 0;
    case JSON_STRING: return json_string_length(v) > 0;
    case JSON_INTEGER: return json_integer_value(v) != 0;
    case JSON_REAL: return json_real_value(v) != 0.0;
    case JSON_TRUE: return true;
    default: return false;
    }
}

/* A copy of upstream's EMPTY_RUNTIME_POLICY with a timestamp and the given
 * generator (meta keeps version, generator, timestamp in that order). */
static json_t *
empty_policy(int generator)
{
    char ts[40];

    kl_policy_doc_timestamp(ts, sizeof(ts));
    return json_pack("{s:{s:i,s:i,s:s},s:i,s:{},s:[],s:{},s:{s:[],s:s,s:n},s:{},s:s}", "meta",
                     "version", 1, "generator", generator, "timestamp", ts, "release", 0, "digests",
                     "excludes", "keyrings", "ima", "ignored_keyrings", "log_hash_alg", "sha1",
                     "dm_policy", "ima-buf", "verification-keys", "");
}

/* Takes the truthy members of from into to (all but meta; hashes for
 * digests when from is a JSON allowlist). */
static kl_rc
migrate(json_t *to, json_t *from, bool allowlist, const kl_convert_opts *o)
{
    for (size_t i = 0; i < NKEYS; i++) {
        const char *key = policy_keys[i];
        json_t *v;

        if (strcmp(key, "meta") == 0)
            continue;
        v = json_object_get(from, allowlist && strcmp(key, "digests") == 0 ? "hashes" : key);
        if (!truthy(v)) {
            kl_policy_doc_note(o->note, o->note_payload, KL_LOG_INFO,
                               "IMA policy field '%s' not found in %s; using default value", key,
                               allowlist ? "allowlist" : "existing IMA policy");
            continue;
        }
        if (json_object_set_new(to, key, json_deep_copy(v)) != 0)
            return oom();
    }
    return KL_OK;
}

static kl_rc
add_flat_line(kl_bytes digest, kl_bytes path, void *payload)
{
    json_t *policy = payload, *map, *list;
    const char *member = "digests";
    size_t plen = sizeof(KEYRING_PREFIX) - 1;

    if (path.len >= plen && memcmp(path.ptr, KEYRING_PREFIX, plen) == 0) {
        member = "keyrings";
        path = KL_BYTES(path.ptr + plen, path.len - plen);
    }
    if (memchr(path.ptr, 0, path.len) || memchr(digest.ptr, 0, digest.len))
        return kl_err_set(KL_EPARSE, "a line holds a NUL byte");
    map = json_object_get(policy, member);
    list = json_object_getn(map, (const char *)path.ptr, path.len);
    if (!list) {
        list = json_array();
        if (!list || json_object_setn_new_nocheck(map, (const char *)path.ptr, path.len, list))
            return oom();
    }
    if (json_array_append_new(list, json_stringn_nocheck((const char *)digest.ptr, digest.len)))
        return oom();
    return KL_OK;
}

/* convert_legacy_allowlist: *out is the new policy. */
static kl_rc
from_allowlist(const kl_convert_opts *o, kl_bytes text, json_t **out)
{
    const char *name = base_name(o->allowlist);
    json_t *alist = NULL;
    kl_rc rc = kl_json_parse(text, "allowlist", &alist);

    *out = NULL;
    if (rc == KL_EPARSE || rc == KL_ETOOBIG) {
        kl_policy_doc_note(o->note, o->note_payload, KL_LOG_INFO,
                           "%s is not JSON-formatted; attempting to convert to IMA policy from "
                           "flat file format",
                           name);
        *out = empty_policy(KL_POLICY_GEN_LEGACY);
        if (!*out)
            return oom();
        rc = kl_legacy_allowlist_parse(text, add_flat_line, *out);
        return rc == KL_OK || rc == KL_ENOMEM ? rc : kl_err_wrap(rc, "allowlist %s: ", name);
    }
    if (rc == KL_OK && !json_is_object(alist))
        rc = kl_err_set(KL_EPARSE, "%s is JSON but not an object", name);
    else if (rc == KL_OK && !truthy(json_object_get(alist, "hashes")))
        rc = truthy(json_object_get(alist, "digests"))
                 ? kl_err_set(KL_EPARSE, "%s is already a runtime policy (use --runtime_policy)",
                              name)
                 : kl_err_set(KL_EPARSE, "%s does not contain a valid digest list", name);
    if (rc == KL_OK) {
        kl_policy_doc_note(o->note, o->note_payload, KL_LOG_INFO,
                           "%s appears to be JSON-formatted; converting to IMA policy", name);
        *out = empty_policy(KL_POLICY_GEN_LEGACY);
        rc = *out ? migrate(*out, alist, true, o) : oom();
    }
    json_decref(alist);
    return rc;
}

/* update_runtime_policy, first part: an old meta.version is migrated. */
static kl_rc
upgrade(const kl_convert_opts *o, json_t **policy)
{
    json_t *version = json_object_get(json_object_get(*policy, "meta"), "version"), *fresh;
    kl_rc rc;

    if (!json_is_number(version))
        return kl_err_set(KL_EPARSE, "the policy has no numeric meta.version");
    if (json_number_value(version) >= 1)
        return KL_OK;
    kl_policy_doc_note(o->note, o->note_payload, KL_LOG_INFO,
                       "Provided policy has version %g; latest policy has version 1. Updating "
                       "to latest version.",
                       json_number_value(version));
    fresh = empty_policy(KL_POLICY_GEN_COMPATIBLE);
    if (!fresh)
        return oom();
    rc = migrate(fresh, *policy, false, o);
    json_decref(*policy);
    *policy = fresh;
    return rc;
}

static kl_rc
add_exclude(kl_bytes line, void *payload)
{
    if (memchr(line.ptr, 0, line.len))
        return kl_err_set(KL_EPARSE, "a line holds a NUL byte");
    return json_array_append_new(payload, json_stringn_nocheck((const char *)line.ptr, line.len))
               ? oom()
               : KL_OK;
}

/* update_runtime_policy: excludes and verification keys. */
static kl_rc
update(const kl_convert_opts *o, json_t *policy, kl_buf *scratch)
{
    json_t *excludes = json_array(), *have = json_object_get(policy, "excludes"), *vk;
    bool changed = false;
    kl_rc rc = excludes ? KL_OK : oom();

    if (rc == KL_OK && o->excludelist) {
        rc = kl_file_read(o->excludelist, scratch);
        if (rc == KL_OK)
            rc = kl_legacy_excludes_parse(kl_buf_bytes(scratch), add_exclude, excludes);
        if (rc != KL_OK && rc != KL_ENOMEM)
            kl_err_wrap(rc, "exclude list %s: ", o->excludelist);
    }
    vk = json_object_get(policy, "verification-keys");
    if (rc == KL_OK && o->n_keys && truthy(vk) && !json_is_string(vk))
        rc = kl_err_set(KL_EPARSE, "the policy's verification-keys is not a string");
    if (rc == KL_OK && o->n_keys) {
        kl_buf_reset(scratch);
        rc = kl_vkeys_add(truthy(vk) ? KL_BYTES(json_string_value(vk), json_string_length(vk))
                                     : KL_BYTES("", 0),
                          o->keys, o->n_keys, scratch, &changed, o->note, o->note_payload);
    }
    if (rc == KL_OK && !json_is_array(have))
        rc = kl_err_set(KL_EPARSE, "the policy has no \"excludes\" list");
    if (rc == KL_OK && json_array_extend(have, excludes) != 0)
        rc = oom();
    if (rc == KL_OK && changed &&
        json_object_set_new(policy, "verification-keys",
                            json_stringn((const char *)scratch->ptr, scratch->len)) != 0)
        rc = oom();
    json_decref(excludes);
    return rc;
}

kl_rc
kl_convert_run(const kl_convert_opts *o, kl_buf *out)
{
    kl_runtime_policy *check = NULL;
    json_t *policy = NULL;
    size_t start = out->len;
    kl_buf text;
    kl_rc rc;

    if (!o->allowlist == !o->runtime_policy)
        return kl_err_set(KL_EINVAL, o->allowlist ? "cannot convert both an allowlist and a "
                                                    "runtime policy"
                                                  : "either an allowlist or a runtime policy "
                                                    "is required");
    kl_buf_init(&text, INPUT_MAX);
    rc = kl_file_read(o->allowlist ? o->allowlist : o->runtime_policy, &text);
    if (rc == KL_OK && o->allowlist)
        rc = from_allowlist(o, kl_buf_bytes(&text), &policy);
    else if (rc == KL_OK &&
             (rc = kl_json_parse(kl_buf_bytes(&text), "runtime policy", &policy)) == KL_OK &&
             !json_is_object(policy))
        rc = kl_err_set(KL_EPARSE, "the policy in file %s must be a dictionary", o->runtime_policy);
    if (rc == KL_OK)
        rc = upgrade(o, &policy);
    if (rc == KL_OK)
        rc = update(o, policy, &text);
    if (rc == KL_OK)
        rc = kl_json_dump_py(out, policy);
    if (rc == KL_OK &&
        kl_runtime_policy_load(&check, KL_BYTES(out->ptr + start, out->len - start), NULL) != KL_OK)
        kl_policy_doc_note(o->note, o->note_payload, KL_LOG_WARN,
                           "the converted policy is not a valid runtime policy: %s", kl_err_msg());
    kl_runtime_policy_free(check);
    json_decref(policy);
    kl_buf_free(&text);
    return rc;
}
