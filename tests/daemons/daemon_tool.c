/* daemon_tool: what a tenant and a verifier send an agent, made with our
 * own library so the daemon tests need no Python crypto (test-only).
 *
 *   daemon_tool bootstrap NK_PUB.pem UUID PAYLOAD_FILE|- UKEY.json VKEY.json K.hex
 *       K, V random, U = K xor V; UKEY.json = {"auth_tag", "encrypted_key",
 *       "payload"}, VKEY.json = {"encrypted_key"} (RSA-OAEP-SHA1 under NK)
 *   daemon_tool hmac K.hex TEXT          hex HMAC-SHA384(K, TEXT)
 *   daemon_tool revocation KEY.pem MSG   {"msg": MSG, "signature": RSA-PSS}
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "crypto/hash.h"
#include "crypto/pubkey.h"
#include "json/json.h"
#include "payload/bootstrap.h"
#include "payload/payload_crypt.h"
#include "payload/revocation.h"
#include "util/kl_b64.h"
#include "util/kl_file.h"
#include "util/kl_hex.h"

static int
fail(const char *what)
{
    fprintf(stderr, "daemon_tool: %s: %s\n", what, kl_err_msg());
    return 1;
}

static kl_rc
wrap_key(kl_buf *b64, const kl_pubkey *nk, const uint8_t *key)
{
    kl_buf ct;
    kl_rc rc;

    kl_buf_init(&ct, 4096);
    rc = kl_pubkey_rsa_oaep_encrypt(nk, KL_HASH_SHA1, KL_BYTES(NULL, 0), KL_BYTES(key, 32), &ct);
    if (rc == KL_OK)
        rc = kl_b64_encode_append(b64, ct.ptr, ct.len);
    if (rc == KL_OK)
        rc = kl_buf_terminate(b64);
    kl_buf_free(&ct);
    return rc;
}

static kl_rc
write_json(const char *path, json_t *doc)
{
    kl_buf out;
    kl_rc rc;

    kl_buf_init(&out, 64u << 20);
    rc = doc ? kl_json_dump_py(&out, doc) : kl_err_set(KL_ENOMEM, "out of memory");
    if (rc == KL_OK)
        rc = kl_file_write(path, out.ptr, out.len);
    kl_buf_free(&out);
    json_decref(doc);
    return rc;
}

static int
cmd_bootstrap(char **argv)
{
    uint8_t k[32], u[32], v[32];
    char tag[KL_BOOTSTRAP_TAG_HEX + 1], khex[65];
    kl_buf pem, plain, payload, ue, ve;
    kl_pubkey *nk = NULL;
    kl_rc rc;

    kl_buf_init(&pem, 64 * 1024);
    kl_buf_init(&plain, 64u << 20);
    kl_buf_init(&payload, 128u << 20);
    kl_buf_init(&ue, 4096);
    kl_buf_init(&ve, 4096);
    rc = kl_file_read(argv[0], &pem);
    if (rc == KL_OK)
        rc = kl_pubkey_load_pem(&nk, kl_buf_bytes(&pem));
    if (rc == KL_OK)
        rc = kl_bootstrap_split(k, u, v);
    if (rc == KL_OK)
        rc = kl_bootstrap_hmac_hex(tag, KL_BYTES(k, 32), KL_BYTES_CSTR(argv[1]));
    if (rc == KL_OK && strcmp(argv[2], "-"))
        rc = kl_file_read(argv[2], &plain);
    if (rc == KL_OK && strcmp(argv[2], "-"))
        rc = kl_payload_encrypt(&payload, KL_BYTES(k, 32), kl_buf_bytes(&plain));
    if (rc == KL_OK)
        rc = wrap_key(&ue, nk, u);
    if (rc == KL_OK)
        rc = wrap_key(&ve, nk, v);
    if (rc == KL_OK)
        rc = write_json(argv[3], payload.len
                                     ? json_pack("{s:s,s:s,s:s%}", "auth_tag", tag, "encrypted_key",
                                                 (const char *)ue.ptr, "payload",
                                                 (const char *)payload.ptr, payload.len)
                                     : json_pack("{s:s,s:s}", "auth_tag", tag, "encrypted_key",
                                                 (const char *)ue.ptr));
    if (rc == KL_OK)
        rc = write_json(argv[4], json_pack("{s:s}", "encrypted_key", (const char *)ve.ptr));
    kl_hex_encode(khex, k, 32);
    khex[64] = '\0';
    if (rc == KL_OK)
        rc = kl_file_write(argv[5], khex, 64);
    kl_pubkey_free(nk);
    kl_buf_free(&pem);
    kl_buf_free(&plain);
    kl_buf_free(&payload);
    kl_buf_free(&ue);
    kl_buf_free(&ve);
    return rc == KL_OK ? 0 : fail("bootstrap");
}

static int
cmd_hmac(char **argv)
{
    char tag[KL_BOOTSTRAP_TAG_HEX + 1];
    uint8_t k[32];
    kl_buf hex;
    kl_rc rc;

    kl_buf_init(&hex, 256);
    rc = kl_file_read(argv[0], &hex);
    if (rc == KL_OK && (hex.len < 64 || !kl_hex_decode(k, KL_BYTES(hex.ptr, 64))))
        rc = kl_err_set(KL_EPARSE, "%s: not 64 hex digits", argv[0]);
    if (rc == KL_OK)
        rc = kl_bootstrap_hmac_hex(tag, KL_BYTES(k, 32), KL_BYTES_CSTR(argv[1]));
    kl_buf_free(&hex);
    if (rc != KL_OK)
        return fail("hmac");
    printf("%s\n", tag);
    return 0;
}

static int
cmd_revocation(char **argv)
{
    kl_buf key, sig;
    json_t *doc;
    kl_rc rc;

    kl_buf_init(&key, 64 * 1024);
    kl_buf_init(&sig, 64 * 1024);
    rc = kl_file_read(argv[0], &key);
    if (rc == KL_OK)
        rc = kl_revocation_sign(&sig, kl_buf_bytes(&key), KL_BYTES_CSTR(argv[1]));
    if (rc == KL_OK) {
        doc = json_pack("{s:s,s:s%}", "msg", argv[1], "signature", (const char *)sig.ptr, sig.len);
        rc = write_json("-", doc);
    }
    kl_buf_free_secret(&key);
    kl_buf_free(&sig);
    return rc == KL_OK ? 0 : fail("revocation");
}

int
main(int argc, char **argv)
{
    if (argc == 8 && !strcmp(argv[1], "bootstrap"))
        return cmd_bootstrap(argv + 2);
    if (argc == 4 && !strcmp(argv[1], "hmac"))
        return cmd_hmac(argv + 2);
    if (argc == 4 && !strcmp(argv[1], "revocation"))
        return cmd_revocation(argv + 2);
    fprintf(stderr, "usage: daemon_tool bootstrap NK.pem UUID PAYLOAD|- UKEY VKEY K.hex\n"
                    "       daemon_tool hmac K.hex TEXT\n"
                    "       daemon_tool revocation KEY.pem MSG\n");
    return 2;
}
