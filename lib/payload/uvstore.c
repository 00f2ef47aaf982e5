/* uvstore: received U and V shares, recombined into the bootstrap key. */
#include "payload/uvstore.h"

#include "crypto/kdf.h"
#include "payload/bootstrap.h"
#include "util/kl_alloc.h"
#include "util/kl_b64.h"

#include <string.h>

#define TAG_LEN (KL_BOOTSTRAP_TAG_HEX / 2)

struct u_share {
    uint8_t key[KL_BOOTSTRAP_KEY_MAX];
    size_t len;
    uint8_t tag[TAG_LEN];
    uint8_t *payload; /* base64 text, NULL for none */
    size_t payload_len;
};

struct v_share {
    uint8_t key[KL_BOOTSTRAP_KEY_MAX];
    size_t len;
};

struct kl_uvstore {
    char *uuid;
    struct u_share u[KL_UVSTORE_MAX];
    size_t nu;
    struct v_share v[KL_UVSTORE_MAX];
    size_t nv;
    uint8_t k[KL_BOOTSTRAP_KEY_MAX];
    size_t klen;
    uint8_t *payload;
    size_t payload_len;
};

kl_rc
kl_uvstore_new(kl_uvstore **out, const char *uuid)
{
    kl_uvstore *s;

    *out = NULL;
    if (!uuid)
        return kl_err_set(KL_EINVAL, "uvstore: no agent uuid");
    s = kl_calloc(1, sizeof(*s));
    if (!s || !(s->uuid = kl_strdup(uuid))) {
        kl_free(s);
        return kl_err_set(KL_ENOMEM, "out of memory");
    }
    *out = s;
    return KL_OK;
}

static void
u_clear(struct u_share *e)
{
    kl_free(e->payload);
    kl_wipe(e, sizeof(*e));
}

static void
clear_lists(kl_uvstore *s)
{
    for (size_t i = 0; i < s->nu; i++)
        u_clear(&s->u[i]);
    kl_wipe(s->v, sizeof(s->v));
    s->nu = 0;
    s->nv = 0;
}

static void
clear_result(kl_uvstore *s)
{
    kl_free(s->payload);
    s->payload = NULL;
    s->payload_len = 0;
    kl_wipe(s->k, sizeof(s->k));
    s->klen = 0;
}

void
kl_uvstore_free(kl_uvstore *s)
{
    if (!s)
        return;
    clear_lists(s);
    clear_result(s);
    kl_free(s->uuid);
    kl_wipe(s, sizeof(*s));
    kl_free(s);
}

/* Whether K = u xor v authenticates against u's tag; K into k on success. */
static kl_rc
try_pair(const kl_uvstore *s, const struct u_share *u, const struct v_share *v, uint8_t *k,
         bool *ok)
{
    uint8_t mac[TAG_LEN];
    kl_rc rc;

    *ok = false;
    if (u->len != v->len)
        return KL_OK;
    rc = kl_bootstrap_combine(k, KL_BYTES(u->key, u->len), KL_BYTES(v->key, v->len));
    if (rc == KL_OK)
        rc = kl_hmac(KL_HASH_SHA384, KL_BYTES(k, u->len), KL_BYTES(s->uuid, strlen(s->uuid)), mac);
    if (rc == KL_OK)
        *ok = kl_ct_equal(mac, u->tag, sizeof(mac));
    kl_wipe(mac, sizeof(mac));
    if (!*ok)
        kl_wipe(k, KL_BOOTSTRAP_KEY_MAX);
    return rc;
}

/* Tries every (U, V) pair, oldest U first, as the Rust agent does. */
static kl_rc
try_combine(kl_uvstore *s, bool *combined)
{
    uint8_t k[KL_BOOTSTRAP_KEY_MAX];
    bool ok = false;
    kl_rc rc = KL_OK;

    *combined = false;
    for (size_t i = 0; i < s->nu && rc == KL_OK; i++) {
        for (size_t j = 0; j < s->nv && rc == KL_OK; j++) {
            rc = try_pair(s, &s->u[i], &s->v[j], k, &ok);
            if (rc != KL_OK || !ok)
                continue;
            clear_result(s);
            memcpy(s->k, k, s->u[i].len);
            s->klen = s->u[i].len;
            s->payload = s->u[i].payload;
            s->payload_len = s->u[i].payload_len;
            s->u[i].payload = NULL;
            kl_wipe(k, sizeof(k));
            clear_lists(s);
            *combined = true;
            return KL_OK;
        }
    }
    return rc;
}

static kl_rc
check_share(kl_bytes key, const char *which)
{
    if (key.len != 16 && key.len != 32)
        return kl_err_set(KL_EPARSE, "decrypted %s key has %zu bytes (need 16 or 32)", which,
                          key.len);
    return KL_OK;
}

static kl_rc
check_payload(kl_bytes payload)
{
    kl_buf tmp;
    kl_rc rc;

    if (!payload.len)
        return KL_OK;
    kl_buf_init(&tmp, payload.len + 16);
    rc = kl_b64_decode_append(&tmp, payload, false);
    kl_buf_free(&tmp);
    if (rc != KL_OK)
        return kl_err_set(KL_EPARSE, "payload is not valid base64");
    return KL_OK;
}

kl_rc
kl_uvstore_add_u(kl_uvstore *s, kl_bytes u, kl_bytes auth_tag, kl_bytes payload, bool *combined)
{
    struct u_share e = {0};
    kl_rc rc;

    *combined = false;
    rc = check_share(u, "U");
    if (rc == KL_OK)
        rc = kl_bootstrap_tag_decode(e.tag, auth_tag);
    if (rc == KL_OK)
        rc = check_payload(payload);
    if (rc == KL_OK && payload.len && !(e.payload = kl_memdup(payload.ptr, payload.len)))
        rc = kl_err_set(KL_ENOMEM, "out of memory");
    if (rc != KL_OK)
        goto out;
    e.payload_len = payload.len;
    memcpy(e.key, u.ptr, u.len);
    e.len = u.len;
    if (s->nu == KL_UVSTORE_MAX) {
        u_clear(&s->u[0]);
        memmove(&s->u[0], &s->u[1], (KL_UVSTORE_MAX - 1) * sizeof(s->u[0]));
        s->nu--;
    }
    s->u[s->nu++] = e;
    kl_wipe(&e, sizeof(e));
    rc = try_combine(s, combined);
out:
    if (rc != KL_OK)
        u_clear(&e);
    return rc;
}

kl_rc
kl_uvstore_add_v(kl_uvstore *s, kl_bytes v, bool *combined)
{
    kl_rc rc;

    *combined = false;
    rc = check_share(v, "V");
    if (rc != KL_OK)
        return rc;
    if (s->nv == KL_UVSTORE_MAX) {
        memmove(&s->v[0], &s->v[1], (KL_UVSTORE_MAX - 1) * sizeof(s->v[0]));
        s->nv--;
        kl_wipe(&s->v[s->nv], sizeof(s->v[0]));
    }
    memcpy(s->v[s->nv].key, v.ptr, v.len);
    s->v[s->nv].len = v.len;
    s->nv++;
    return try_combine(s, combined);
}

kl_bytes
kl_uvstore_key(const kl_uvstore *s)
{
    return s->klen ? KL_BYTES(s->k, s->klen) : KL_BYTES(NULL, 0);
}

kl_bytes
kl_uvstore_payload(const kl_uvstore *s)
{
    return KL_BYTES(s->payload, s->payload_len);
}

size_t
kl_uvstore_count_u(const kl_uvstore *s)
{
    return s->nu;
}

size_t
kl_uvstore_count_v(const kl_uvstore *s)
{
    return s->nv;
}
