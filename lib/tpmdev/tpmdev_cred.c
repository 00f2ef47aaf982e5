#include "tpmdev/tpmdev_cred.h"

#include <string.h>

#include "tpm/makecred.h"
#include "tpmdev/tpmdev_int.h"

/* The blob's two parts as ActivateCredential takes them. */
static kl_rc
parse_blob(kl_bytes blob, TPM2B_ID_OBJECT *cred, TPM2B_ENCRYPTED_SECRET *secret)
{
    kl_makecred_parts parts;
    kl_rc rc = kl_makecred_parse(&parts, blob);

    if (rc != KL_OK)
        return rc;
    if (parts.credential.len > sizeof(cred->credential) ||
        parts.secret.len > sizeof(secret->secret))
        return kl_err_set(KL_EPARSE, "credential blob: parts larger than a TPM takes");
    cred->size = (UINT16)parts.credential.len;
    memcpy(cred->credential, parts.credential.ptr, parts.credential.len);
    secret->size = (UINT16)parts.secret.len;
    memcpy(secret->secret, parts.secret.ptr, parts.secret.len);
    return KL_OK;
}

kl_rc
kl_tpmdev_cred_activate(kl_buf *secret_out, kl_tpmdev *t, const kl_tpmdev_key *ak,
                        const kl_tpmdev_key *ek, kl_bytes blob)
{
    TPM2B_ID_OBJECT cred;
    TPM2B_ENCRYPTED_SECRET secret;
    TPM2B_DIGEST *cert_info = NULL;
    ESYS_TR session;
    TSS2_RC rc;
    kl_rc ret;

    memset(&cred, 0, sizeof(cred));
    memset(&secret, 0, sizeof(secret));
    ret = parse_blob(blob, &cred, &secret);
    if (ret != KL_OK)
        return ret;
    ret = kl_tpmdev__ek_session(t, ek, &session);
    if (ret != KL_OK)
        return ret;
    /* the AK (ADMIN role) with its empty password, the EK with the policy */
    rc = Esys_ActivateCredential(t->esys, ak->handle, ek->handle, ESYS_TR_PASSWORD, session,
                                 ESYS_TR_NONE, &cred, &secret, &cert_info);
    kl_tpmdev__flush(t, session);
    if (rc != TSS2_RC_SUCCESS)
        return kl_tpmdev__fail(rc, "Esys_ActivateCredential");
    ret = kl_buf_append(secret_out, cert_info->buffer, cert_info->size);
    kl_wipe(cert_info, sizeof(*cert_info));
    Esys_Free(cert_info);
    return ret;
}
