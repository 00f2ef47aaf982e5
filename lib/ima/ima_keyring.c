#define KL_LOGMODULE "ima"
#include "ima/ima_keyring.h"

#include <string.h>

#include "ima/ima_sig.h"
#include "json/json.h"
#include "util/kl_alloc.h"
#include "util/kl_b64.h"
#include "util/kl_log.h"

typedef struct {
    int64_t keyid;
    kl_pubkey *key;
} ring_key;

typedef struct {
    char *name;
    ring_key *keys;
    size_t count;
} keyring;

struct kl_ima_keyrings {
    keyring *rings;
    size_t count;
};

kl_rc
kl_ima_keyrings_new(kl_ima_keyrings **out)
{
    *out = kl_calloc(1, sizeof(**out));
    return *out ? KL_OK : kl_err_set(KL_ENOMEM, "out of memory");
}

size_t
kl_ima_keyrings_count(const kl_ima_keyrings *kr)
{
    return kr ? kr->count : 0;
}

static void
ring_clear(keyring *r)
{
    for (size_t i = 0; i < r->count; i++)
        kl_pubkey_free(r->keys[i].key);
    kl_free(r->keys);
    r->keys = NULL;
    r->count = 0;
}

void
kl_ima_keyrings_free(kl_ima_keyrings *kr)
{
    if (!kr)
        return;
    for (size_t i = 0; i < kr->count; i++) {
        ring_clear(&kr->rings[i]);
        kl_free(kr->rings[i].name);
    }
    kl_free(kr->rings);
    kl_free(kr);
}

static keyring *
ring_find(const kl_ima_keyrings *kr, kl_bytes name)
{
    for (size_t i = 0; i < kr->count; i++)
        if (kl_bytes_eq_str(name, kr->rings[i].name))
            return &kr->rings[i];
    return NULL;
}

static kl_rc
ring_get(kl_ima_keyrings *kr, kl_bytes name, keyring **out)
{
    keyring *rings;

    if ((*out = ring_find(kr, name)) != NULL)
        return KL_OK;
    rings = kl_reallocarray(kr->rings, kr->count + 1, sizeof(*rings));
    if (!rings)
        return kl_err_set(KL_ENOMEM, "out of memory");
    kr->rings = rings;
    *out = &rings[kr->count];
    memset(*out, 0, sizeof(**out));
    (*out)->name = kl_strndup((const char *)name.ptr, name.len);
    if (!(*out)->name)
        return kl_err_set(KL_ENOMEM, "out of memory");
    kr->count++;
    return KL_OK;
}

kl_rc
kl_ima_keyrings_add(kl_ima_keyrings *kr, kl_bytes name, kl_pubkey *key, bool has_keyid,
                    int64_t keyid)
{
    ring_key *keys;
    keyring *r;
    kl_rc rc;

    if (!has_keyid || keyid == 0) {
        uint32_t id;

        rc = kl_pubkey_ima_keyid(key, &id);
        if (rc != KL_OK)
            return rc;
        keyid = id;
    }
    rc = ring_get(kr, name, &r);
    if (rc != KL_OK)
        return rc;
    for (size_t i = 0; i < r->count; i++) {
        if (r->keys[i].keyid == keyid) {
            kl_pubkey_free(r->keys[i].key);
            r->keys[i].key = kl_pubkey_ref(key);
            return KL_OK;
        }
    }
    keys = kl_reallocarray(r->keys, r->count + 1, sizeof(*keys));
    if (!keys)
        return kl_err_set(KL_ENOMEM, "out of memory");
    r->keys = keys;
    keys[r->count].keyid = keyid;
    keys[r->count].key = kl_pubkey_ref(key);
    r->count++;
    LOG_DEBUG("added key 0x%08llx to keyring %.*s", (unsigned long long)keyid, (int)name.len,
              (const char *)name.ptr);
    return KL_OK;
}

const kl_pubkey *
kl_ima_keyrings_find(const kl_ima_keyrings *kr, uint32_t keyid)
{
    for (size_t i = 0; i < kr->count; i++)
        for (size_t j = 0; j < kr->rings[i].count; j++)
            if (kr->rings[i].keys[j].keyid == (int64_t)keyid)
                return kr->rings[i].keys[j].key;
    return NULL;
}

/* Loads and schema-checks a keyring document (possibly a JSON string that
 * holds the document). *out is the object; caller decrefs. */
static kl_rc
keyring_doc(kl_bytes text, json_t **out)
{
    json_t *j = NULL, *inner, *ids, *keys, *meta, *v;
    size_t i;
    kl_rc rc;

    *out = NULL;
    rc = kl_json_parse(text, "IMA keyring", &j);
    if (rc != KL_OK)
        return rc;
    if (json_is_string(j)) {
        rc = kl_json_parse(KL_BYTES(json_string_value(j), json_string_length(j)), "IMA keyring",
                           &inner);
        json_decref(j);
        if (rc != KL_OK)
            return rc;
        j = inner;
    }
    rc = KL_EPARSE;
    if (!json_is_object(j)) {
        kl_err_set(rc, "IMA keyring: must be a JSON object with \"pubkeys\" and \"keyids\"");
        goto out;
    }
    ids = json_object_get(j, "keyids");
    keys = json_object_get(j, "pubkeys");
    meta = json_object_get(j, "meta");
    if (!json_is_array(ids) || !json_is_array(keys)) {
        kl_err_set(rc, "IMA keyring: \"%s\" is missing or not a list", json_is_array(ids) ? "pubkeys" : "keyids");
        goto out;
    }
    json_array_foreach(ids, i, v) if (!json_is_integer(v)) {
        kl_err_set(rc, "IMA keyring: keyids[%zu] is not an integer", i);
        goto out;
    }
    json_array_foreach(keys, i, v) if (!json_is_string(v)) {
        kl_err_set(rc, "IMA keyring: pubkeys[%zu] is not a string", i);
        goto out;
    }
    if (meta && (!json_is_object(meta) || !json_is_integer(json_object_get(meta, "version")) ||
                 json_integer_value(json_object_get(meta, "version")) < 1)) {
        kl_err_set(rc, "IMA keyring: \"meta\" must be an object with an integer \"version\" >= 1");
        goto out;
    }
    *out = j;
    j = NULL;
    rc = KL_OK;
out:
    json_decref(j);
    return rc;
}

kl_rc
kl_ima_keyring_check(kl_bytes json_text)
{
    json_t *doc = NULL;
    kl_rc rc = keyring_doc(json_text, &doc);

    json_decref(doc);
    return rc;
}

static kl_rc
load_tenant(kl_ima_keyrings *kr, json_t *doc)
{
    json_t *ids = json_object_get(doc, "keyids");
    json_t *keys = json_object_get(doc, "pubkeys");
    kl_bytes name = KL_BYTES_STR(KL_IMA_TENANT_KEYRING);
    kl_buf der;
    keyring *r;
    size_t i;
    json_t *v;
    kl_rc rc;

    rc = ring_get(kr, name, &r);
    if (rc != KL_OK)
        return rc;
    kl_buf_init(&der, 1 << 20);
    json_array_foreach(keys, i, v) {
        kl_pubkey *key = NULL;
        json_t *id = json_array_get(ids, i);

        kl_buf_reset(&der);
        rc = kl_b64_decode_append(&der, KL_BYTES(json_string_value(v), json_string_length(v)),
                                  false);
        if (rc != KL_OK) {
            kl_err_wrap(rc, "IMA keyring: pubkeys[%zu]: ", i);
            break;
        }
        rc = kl_pubkey_load_any(&key, kl_buf_bytes(&der), NULL, NULL);
        if (rc == KL_ENOMEM)
            break;
        if (rc != KL_OK) {
            LOG_WARN("IMA keyring: skipping pubkeys[%zu]: %s", i, kl_err_msg());
            rc = KL_OK;
            continue;
        }
        rc = kl_ima_keyrings_add(kr, name, key, id != NULL, id ? json_integer_value(id) : 0);
        kl_pubkey_free(key);
        if (rc != KL_OK)
            break;
    }
    kl_buf_free(&der);
    return rc;
}

kl_rc
kl_ima_keyrings_set_tenant(kl_ima_keyrings *kr, kl_bytes json_text)
{
    keyring *old = ring_find(kr, KL_BYTES_STR(KL_IMA_TENANT_KEYRING));
    json_t *doc = NULL;
    kl_rc rc;

    if (old)
        ring_clear(old);
    if (json_text.len == 0)
        return KL_OK;
    rc = keyring_doc(json_text, &doc);
    if (rc == KL_OK)
        rc = load_tenant(kr, doc);
    json_decref(doc);
    return rc;
}

kl_rc
kl_ima_keyrings_verify(const kl_ima_keyrings *kr, kl_bytes raw, kl_bytes digest,
                       kl_bytes digest_alg, bool *ok)
{
    const kl_pubkey *key;
    kl_hash_alg alg;
    kl_ima_sig sig;

    *ok = false;
    if (!kl_ima_sig_parse(raw, &sig) || (sig.type != 3 && sig.type != 5) || sig.version != 2)
        return KL_OK;
    if (!kl_ima_sig_hash_alg(sig.hash_algo, &alg) ||
        !kl_bytes_eq_str(digest_alg, kl_hash_name(alg)))
        return KL_OK;
    key = kl_ima_keyrings_find(kr, sig.keyid);
    if (!key) {
        LOG_DEBUG("no key with id 0x%08x", sig.keyid);
        return KL_OK;
    }
    return kl_pubkey_verify_digest(key, alg, digest, sig.sig, ok);
}

kl_rc
kl_ima_keyrings_dump(const kl_ima_keyrings *kr, const char *name, kl_buf *out)
{
    keyring *r = ring_find(kr, KL_BYTES(name, strlen(name)));
    kl_buf der;
    kl_rc rc;

    if (!r)
        return kl_err_set(KL_ENOTFOUND, "no keyring named %s", name);
    kl_buf_init(&der, 1 << 20);
    rc = kl_buf_append_str(out, "{\"pubkeys\": [");
    for (size_t i = 0; rc == KL_OK && i < r->count; i++) {
        kl_buf_reset(&der);
        rc = kl_pubkey_spki_der(r->keys[i].key, &der);
        if (rc == KL_OK)
            rc = kl_buf_append_str(out, i ? ", \"" : "\"");
        if (rc == KL_OK)
            rc = kl_b64_encode_append(out, der.ptr, der.len);
        if (rc == KL_OK)
            rc = kl_buf_append_byte(out, '"');
    }
    if (rc == KL_OK)
        rc = kl_buf_append_str(out, "], \"keyids\": [");
    for (size_t i = 0; rc == KL_OK && i < r->count; i++)
        rc = kl_buf_printf(out, "%s%lld", i ? ", " : "", (long long)r->keys[i].keyid);
    if (rc == KL_OK)
        rc = kl_buf_append_str(out, "]}");
    kl_buf_free(&der);
    return rc;
}
