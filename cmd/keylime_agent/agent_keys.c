/* agent_keys: the payload key (NK, RSA-2048: U and V are encrypted to it
 * and its public PEM is bound into PCR 16 of every quote) and the mTLS
 * identity (EC key + self-signed certificate with CN = uuid), both kept in
 * keylime_dir across restarts and created 0600 when missing. */
#define KL_LOGMODULE "agent"

#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "crypto/pubkey.h"
#include "crypto/x509.h"
#include "tls/tls.h"
#include "util/kl_alloc.h"
#include "util/kl_file.h"
#include "util/kl_log.h"

static kl_rc
load_or_make_nk(agent_ctx *a)
{
    const char *path = a->paths->payload_key;
    kl_buf pem;
    kl_rc rc;

    kl_buf_init(&pem, 64 * 1024);
    if (a->cfg->payload_key_password[0]) {
        rc = kl_err_set(KL_EUNSUPPORTED, "agent.conf: payload_key_password is not supported; "
                                         "store %s unencrypted (mode 0600)", path);
        goto out;
    }
    if (access(path, F_OK) == 0) {
        rc = kl_file_read(path, &pem);
        if (rc == KL_OK)
            rc = kl_privkey_load_pem(&a->nk, kl_buf_bytes(&pem));
        if (rc != KL_OK)
            rc = kl_err_wrap(rc, "payload key %s: ", path);
        goto out;
    }
    rc = kl_privkey_generate_rsa(&a->nk, 2048);
    if (rc == KL_OK)
        rc = kl_privkey_pem(a->nk, &pem);
    if (rc == KL_OK)
        rc = kl_file_write_mode(path, pem.ptr, pem.len, 0600);
    if (rc == KL_OK)
        LOG_INFO("created the payload key %s", path);
out:
    kl_buf_free_secret(&pem);
    return rc;
}

/* The NK's public PEM and the PCR 16 value binding it:
 * H(0^n || H(pem)) in the quote bank. */
static kl_rc
bind_value(agent_ctx *a)
{
    kl_pubkey *pub = NULL;
    uint8_t buf[2 * KL_HASH_MAX_SIZE];
    size_t n = kl_hash_size(a->hash);
    kl_rc rc;

    kl_buf_init(&a->nk_pem, 16 * 1024);
    rc = kl_privkey_public(a->nk, &pub);
    if (rc == KL_OK)
        rc = kl_pubkey_spki_pem(pub, &a->nk_pem);
    memset(buf, 0, sizeof(buf));
    if (rc == KL_OK)
        rc = kl_hash(a->hash, a->nk_pem.ptr, a->nk_pem.len, buf + n);
    if (rc == KL_OK)
        rc = kl_hash(a->hash, buf, 2 * n, a->pcr16);
    kl_pubkey_free(pub);
    return rc;
}

/* Whether the kept certificate names this agent (its CN is the uuid): one
 * that does is kept across restarts, since the verifier pins the
 * certificate it got from the registrar when the agent was added. */
static bool
cert_is_for(kl_bytes pem, const char *uuid)
{
    char cn[256];
    kl_x509 *c = NULL;
    bool ok;

    if (kl_x509_from_pem(&c, pem) != KL_OK)
        return false;
    ok = kl_x509_subject_cn(c, cn, sizeof(cn)) && !strcmp(cn, uuid);
    kl_x509_free(c);
    return ok;
}

static kl_rc
load_or_make_mtls(agent_ctx *a)
{
    const agent_paths *p = a->paths;
    kl_buf key;
    kl_rc rc = KL_OK;

    kl_buf_init(&a->mtls_cert_pem, 64 * 1024);
    kl_buf_init(&key, 64 * 1024);
    if (access(p->server_key, F_OK) == 0 && access(p->server_cert, F_OK) == 0) {
        rc = kl_file_read(p->server_cert, &a->mtls_cert_pem);
        if (rc != KL_OK || cert_is_for(kl_buf_bytes(&a->mtls_cert_pem), a->uuid))
            goto out;
        LOG_INFO("%s is not issued to agent %s; making a new one", p->server_cert, a->uuid);
        kl_buf_reset(&a->mtls_cert_pem);
    }
    rc = kl_tls_self_signed(&key, &a->mtls_cert_pem, a->uuid, a->cfg->contact_ip, 365);
    if (rc == KL_OK)
        rc = kl_file_write_mode(p->server_key, key.ptr, key.len, 0600);
    if (rc == KL_OK)
        rc = kl_file_write(p->server_cert, a->mtls_cert_pem.ptr, a->mtls_cert_pem.len);
    if (rc == KL_OK)
        LOG_INFO("created the mTLS certificate %s (CN=%s)", p->server_cert, a->uuid);
out:
    kl_buf_free_secret(&key);
    return rc;
}

kl_rc
agent_keys_init(agent_ctx *a)
{
    kl_rc rc = load_or_make_nk(a);

    if (rc == KL_OK)
        rc = bind_value(a);
    if (rc == KL_OK && a->cfg->enable_agent_mtls)
        rc = load_or_make_mtls(a);
    return rc;
}

void
agent_keys_free(agent_ctx *a)
{
    kl_privkey_free(a->nk);
    a->nk = NULL;
    kl_buf_free(&a->nk_pem);
    kl_buf_free(&a->mtls_cert_pem);
    kl_buf_free(&a->mb_b64);
}
