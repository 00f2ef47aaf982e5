#include "policy/vkeys.h"

#include "crypto/pubkey.h"
#include "ima/ima_keyring.h"
#include "util/kl_file.h"

#define KEY_FILE_MAX ((size_t)16 << 20)

static kl_rc
add_file(kl_ima_keyrings *kr, const char *path, kl_buf *data, kl_policy_note_fn note, void *payload)
{
    kl_pubkey *key = NULL;
    uint32_t keyid = 0;
    bool has_keyid = false;
    kl_rc rc;

    rc = kl_file_read(path, data);
    if (rc != KL_OK)
        return kl_err_wrap(rc, "verification key: ");
    rc = kl_pubkey_load_any(&key, kl_buf_bytes(data), &keyid, &has_keyid);
    if (rc == KL_ENOTFOUND) {
        kl_policy_doc_note(note, payload, KL_LOG_ERR, "File '%s' is not a file with a key", path);
        return KL_OK;
    }
    if (rc == KL_EUNSUPPORTED) {
        kl_policy_doc_note(note, payload, KL_LOG_ERR, "File '%s' does not have a supported key: %s",
                           path, kl_err_msg());
        return KL_OK;
    }
    if (rc == KL_OK)
        rc = kl_ima_keyrings_add(kr, KL_BYTES_STR(KL_IMA_TENANT_KEYRING), key, has_keyid, keyid);
    kl_pubkey_free(key);
    return rc;
}

kl_rc
kl_vkeys_add(kl_bytes existing, const char *const *paths, size_t n, kl_buf *out, bool *changed,
             kl_policy_note_fn note, void *payload)
{
    kl_ima_keyrings *kr = NULL;
    kl_buf data;
    kl_rc rc;

    *changed = false;
    kl_buf_init(&data, KEY_FILE_MAX);
    rc = kl_ima_keyrings_new(&kr);
    if (rc == KL_OK && existing.len) {
        rc = kl_ima_keyrings_set_tenant(kr, existing);
        if (rc == KL_EPARSE) {
            kl_policy_doc_note(note, payload, KL_LOG_ERR,
                               "Could not create IMA Keyring from "
                               "JSON: %s",
                               kl_err_msg());
            rc = KL_OK;
            goto out;
        }
    }
    for (size_t i = 0; rc == KL_OK && i < n; i++)
        rc = add_file(kr, paths[i], &data, note, payload);
    if (rc == KL_OK) {
        rc = kl_ima_keyrings_dump(kr, KL_IMA_TENANT_KEYRING, out);
        if (rc == KL_ENOTFOUND) /* no key at all: an empty keyring */
            rc = kl_buf_append_str(out, "{\"pubkeys\": [], \"keyids\": []}");
        *changed = rc == KL_OK;
    }
out:
    kl_buf_free(&data);
    kl_ima_keyrings_free(kr);
    return rc;
}
