#include "tpmdev/tpmdev_ek.h"

#include <string.h>

#include "crypto/hash.h"
#include "tpm/pcr.h"
#include "tpmdev/tpmdev_int.h"

#define KL_LOGMODULE "tpmdev"
#include "util/kl_log.h"

/* fixedTPM | fixedParent | sensitiveDataOrigin | adminWithPolicy |
 * restricted | decrypt: the low-range EK templates (no userWithAuth). */
#define EK_ATTRIBUTES                                                                              \
    (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |            \
     TPMA_OBJECT_ADMINWITHPOLICY | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT)

/* Policy C (PolicyAuthorizeNV of the EK policy index) of the high-range
 * templates, from the TCG EK Credential Profile 2.5, section B.6. With
 * policy A it forms policy B = PolicyOR(A, C). */
static const uint8_t policy_c_sha384[48] = {
    0xd6, 0x03, 0x2c, 0xe6, 0x1f, 0x2f, 0xb3, 0xc2, 0x40, 0xeb, 0x3c, 0xf6, 0xa3, 0x32, 0x37, 0xef,
    0x2b, 0x6a, 0x16, 0xf4, 0x29, 0x3c, 0x22, 0xb4, 0x55, 0xe2, 0x61, 0xcf, 0xfd, 0x21, 0x7a, 0xd5,
    0xb4, 0x94, 0x7c, 0x2d, 0x73, 0xe6, 0x30, 0x05, 0xee, 0xd2, 0xdc, 0x2b, 0x35, 0x93, 0xd1, 0x65,
};
static const uint8_t policy_c_sha512[64] = {
    0x58, 0x9e, 0xe1, 0xe1, 0x46, 0x54, 0x47, 0x16, 0xe8, 0xde, 0xaf, 0xe6, 0xdb, 0x24, 0x7b, 0x01,
    0xb8, 0x1e, 0x9f, 0x9c, 0x7d, 0xd1, 0x6b, 0x81, 0x4a, 0xa1, 0x59, 0x13, 0x87, 0x49, 0x10, 0x5f,
    0xba, 0x53, 0x88, 0xdd, 0x1d, 0xea, 0x70, 0x2f, 0x35, 0x24, 0x0c, 0x18, 0x49, 0x33, 0x12, 0x1e,
    0x2c, 0x61, 0xb8, 0xf5, 0x0d, 0x3e, 0xf9, 0x13, 0x93, 0xa4, 0x9a, 0x38, 0xc3, 0xf7, 0x3f, 0xc8,
};

static void
put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Policy A: PolicySecret(TPM_RH_ENDORSEMENT) with an empty policyRef,
 * H(H(0^n || TPM_CC_PolicySecret || TPM_RH_ENDORSEMENT) || ""). */
static kl_rc
policy_a(kl_hash_alg alg, uint8_t *out)
{
    uint8_t buf[KL_HASH_MAX_SIZE + 8] = {0};
    size_t n = kl_hash_size(alg);
    kl_rc rc;

    put_be32(buf + n, TPM2_CC_PolicySecret);
    put_be32(buf + n + 4, TPM2_RH_ENDORSEMENT);
    rc = kl_hash(alg, buf, n + 8, out);
    return rc != KL_OK ? rc : kl_hash(alg, out, n, out);
}

/* Policy B: PolicyOR(A, C) = H(0^n || TPM_CC_PolicyOR || A || C). */
static kl_rc
policy_b(kl_hash_alg alg, const uint8_t *a, const uint8_t *c, uint8_t *out)
{
    uint8_t buf[3 * KL_HASH_MAX_SIZE + 4] = {0};
    size_t n = kl_hash_size(alg);

    put_be32(buf + n, TPM2_CC_PolicyOR);
    memcpy(buf + n + 4, a, n);
    memcpy(buf + 2 * n + 4, c, n);
    return kl_hash(alg, buf, 3 * n + 4, out);
}

bool
kl_tpmdev_ek_type_from_name(const char *name, kl_tpmdev_ek_type *out)
{
    if (strcmp(name, "rsa") == 0 || strcmp(name, "rsa2048") == 0)
        *out = KL_TPMDEV_EK_RSA2048;
    else if (strcmp(name, "ecc") == 0 || strcmp(name, "ecc256") == 0)
        *out = KL_TPMDEV_EK_ECC_P256;
    else
        return false;
    return true;
}

static kl_rc
ek_template(TPM2B_PUBLIC *pub, kl_tpmdev_ek_type type)
{
    TPMT_PUBLIC *a = &pub->publicArea;
    kl_rc rc;

    memset(pub, 0, sizeof(*pub));
    a->nameAlg = TPM2_ALG_SHA256;
    a->objectAttributes = EK_ATTRIBUTES;
    a->authPolicy.size = 32;
    rc = policy_a(KL_HASH_SHA256, a->authPolicy.buffer);
    if (rc != KL_OK)
        return rc;
    if (type == KL_TPMDEV_EK_RSA2048) {
        a->type = TPM2_ALG_RSA;
        a->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
        a->parameters.rsaDetail.symmetric.keyBits.aes = 128;
        a->parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
        a->parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
        a->parameters.rsaDetail.keyBits = 2048;
        a->parameters.rsaDetail.exponent = 0;
        a->unique.rsa.size = 256; /* zero-filled */
    } else if (type == KL_TPMDEV_EK_ECC_P256) {
        a->type = TPM2_ALG_ECC;
        a->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
        a->parameters.eccDetail.symmetric.keyBits.aes = 128;
        a->parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
        a->parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
        a->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
        a->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
        a->unique.ecc.x.size = 32; /* zero-filled */
        a->unique.ecc.y.size = 32;
    } else {
        return kl_err_set(KL_EINVAL, "unknown EK type %d", (int)type);
    }
    return KL_OK;
}

kl_rc
kl_tpmdev_ek_create(kl_tpmdev_key **out, kl_tpmdev *t, kl_tpmdev_ek_type type)
{
    TPM2B_SENSITIVE_CREATE sensitive = {0};
    TPM2B_DATA outside = {0};
    TPML_PCR_SELECTION creation_pcr = {0};
    TPM2B_PUBLIC in, *pub = NULL;
    ESYS_TR handle = ESYS_TR_NONE;
    TSS2_RC rc;
    kl_rc ret;

    *out = NULL;
    ret = ek_template(&in, type);
    if (ret != KL_OK)
        return ret;
    rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                            ESYS_TR_NONE, &sensitive, &in, &outside, &creation_pcr, &handle, &pub,
                            NULL, NULL, NULL);
    if (rc != TSS2_RC_SUCCESS)
        return kl_tpmdev__fail(rc, "Esys_CreatePrimary(EK)");
    ret = kl_tpmdev__key_new(out, t, handle, false, pub);
    Esys_Free(pub);
    return ret;
}

/* Which EK policy to satisfy: 1 for policy A, 2 for policy B. */
static kl_rc
ek_policy_kind(const TPMT_PUBLIC *ek, kl_hash_alg alg, uint8_t *a, const uint8_t **c, int *kind)
{
    uint8_t b[KL_HASH_MAX_SIZE];
    size_t n = kl_hash_size(alg);
    kl_rc rc = policy_a(alg, a);

    if (rc != KL_OK)
        return rc;
    if (ek->authPolicy.size == n && memcmp(ek->authPolicy.buffer, a, n) == 0) {
        *kind = 1;
        return KL_OK;
    }
    *c = alg == KL_HASH_SHA384 ? policy_c_sha384 : alg == KL_HASH_SHA512 ? policy_c_sha512 : NULL;
    if (*c) {
        rc = policy_b(alg, a, *c, b);
        if (rc != KL_OK)
            return rc;
        if (ek->authPolicy.size == n && memcmp(ek->authPolicy.buffer, b, n) == 0) {
            *kind = 2;
            return KL_OK;
        }
    }
    return kl_err_set(KL_EUNSUPPORTED, "the EK's authPolicy is neither the TCG policy A nor B");
}

kl_rc
kl_tpmdev__ek_session(kl_tpmdev *t, const kl_tpmdev_key *ek, ESYS_TR *session_out)
{
    const TPMT_PUBLIC *pub = &ek->pub.publicArea;
    TPMT_SYM_DEF sym = {.algorithm = TPM2_ALG_NULL};
    uint8_t a[KL_HASH_MAX_SIZE];
    const uint8_t *c = NULL;
    ESYS_TR session = ESYS_TR_NONE;
    kl_hash_alg alg;
    int kind = 0;
    TSS2_RC rc;
    kl_rc ret;

    *session_out = ESYS_TR_NONE;
    if (!kl_tpm_hash_of_alg(pub->nameAlg, &alg))
        return kl_err_set(KL_EUNSUPPORTED, "EK nameAlg 0x%04x", (unsigned)pub->nameAlg);
    ret = ek_policy_kind(pub, alg, a, &c, &kind);
    if (ret != KL_OK)
        return ret;
    rc = Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                               ESYS_TR_NONE, NULL, TPM2_SE_POLICY, &sym, pub->nameAlg, &session);
    if (rc != TSS2_RC_SUCCESS)
        return kl_tpmdev__fail(rc, "Esys_StartAuthSession(policy)");
    rc = Esys_PolicySecret(t->esys, ESYS_TR_RH_ENDORSEMENT, session, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                           ESYS_TR_NONE, NULL, NULL, NULL, 0, NULL, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        ret = kl_tpmdev__fail(rc, "Esys_PolicySecret(endorsement)");
        goto out;
    }
    if (kind == 2) {
        TPML_DIGEST list = {.count = 2};
        size_t n = kl_hash_size(alg);

        list.digests[0].size = list.digests[1].size = (UINT16)n;
        memcpy(list.digests[0].buffer, a, n);
        memcpy(list.digests[1].buffer, c, n);
        rc = Esys_PolicyOR(t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &list);
        if (rc != TSS2_RC_SUCCESS) {
            ret = kl_tpmdev__fail(rc, "Esys_PolicyOR");
            goto out;
        }
    }
    *session_out = session;
    session = ESYS_TR_NONE;
out:
    kl_tpmdev__flush(t, session);
    return ret;
}

/* Whether an NV index is defined (so that reading a missing one does not
 * make ESAPI log an error). */
static kl_rc
nv_exists(kl_tpmdev *t, uint32_t index, bool *out)
{
    TPMS_CAPABILITY_DATA *cap = NULL;
    TPMI_YES_NO more;
    TSS2_RC rc;

    rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                            index, 1, &more, &cap);
    if (rc != TSS2_RC_SUCCESS)
        return kl_tpmdev__fail(rc, "Esys_GetCapability(HANDLES)");
    *out = cap->data.handles.count > 0 && cap->data.handles.handle[0] == index;
    Esys_Free(cap);
    return KL_OK;
}

static UINT16
nv_chunk(kl_tpmdev *t)
{
    TPMS_CAPABILITY_DATA *cap = NULL;
    TPMI_YES_NO more;
    UINT16 n = 512;

    if (Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                           TPM2_CAP_TPM_PROPERTIES, TPM2_PT_NV_BUFFER_MAX, 1, &more,
                           &cap) == TSS2_RC_SUCCESS) {
        if (cap->data.tpmProperties.count == 1 &&
            cap->data.tpmProperties.tpmProperty[0].property == TPM2_PT_NV_BUFFER_MAX &&
            cap->data.tpmProperties.tpmProperty[0].value > 0)
            n = (UINT16)(cap->data.tpmProperties.tpmProperty[0].value < TPM2_MAX_NV_BUFFER_SIZE
                             ? cap->data.tpmProperties.tpmProperty[0].value
                             : TPM2_MAX_NV_BUFFER_SIZE);
        Esys_Free(cap);
    }
    return n;
}

static kl_rc
nv_read_all(kl_buf *out, kl_tpmdev *t, ESYS_TR nv, const TPMS_NV_PUBLIC *info)
{
    ESYS_TR auth = nv;
    UINT16 chunk = nv_chunk(t);

    if (!(info->attributes & TPMA_NV_AUTHREAD) && (info->attributes & TPMA_NV_OWNERREAD))
        auth = ESYS_TR_RH_OWNER;
    for (UINT16 off = 0; off < info->dataSize;) {
        TPM2B_MAX_NV_BUFFER *data = NULL;
        UINT16 n = (UINT16)(info->dataSize - off < chunk ? info->dataSize - off : chunk);
        TSS2_RC rc = Esys_NV_Read(t->esys, auth, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                  n, off, &data);
        kl_rc ret;

        if (rc != TSS2_RC_SUCCESS)
            return kl_tpmdev__fail(rc, "Esys_NV_Read");
        if (data->size == 0 || data->size > n) {
            Esys_Free(data);
            return kl_err_set(KL_EIO, "Esys_NV_Read: %u bytes for a read of %u", data->size, n);
        }
        ret = kl_buf_append(out, data->buffer, data->size);
        off = (UINT16)(off + data->size);
        Esys_Free(data);
        if (ret != KL_OK)
            return ret;
    }
    return KL_OK;
}

kl_rc
kl_tpmdev_nv_read(kl_buf *out, kl_tpmdev *t, uint32_t index)
{
    TPM2B_NV_PUBLIC *info = NULL;
    ESYS_TR nv = ESYS_TR_NONE;
    bool exists = false;
    size_t start;
    TSS2_RC rc;
    kl_rc ret;

    if (index >> 24 != TPM2_HT_NV_INDEX)
        return kl_err_set(KL_EINVAL, "0x%08x is not an NV index", (unsigned)index);
    ret = nv_exists(t, index, &exists);
    if (ret != KL_OK)
        return ret;
    if (!exists)
        return kl_err_set(KL_ENOTFOUND, "NV index 0x%08x is not defined", (unsigned)index);
    rc = Esys_TR_FromTPMPublic(t->esys, index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &nv);
    if (rc != TSS2_RC_SUCCESS)
        return kl_tpmdev__fail(rc, "Esys_TR_FromTPMPublic(NV)");
    rc = Esys_NV_ReadPublic(t->esys, nv, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &info, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        ret = kl_tpmdev__fail(rc, "Esys_NV_ReadPublic");
        goto out;
    }
    start = out->len;
    ret = nv_read_all(out, t, nv, &info->nvPublic);
    if (ret != KL_OK)
        out->len = start; /* nothing of a failed read */
out:
    if (ret != KL_OK)
        ret = kl_err_wrap(ret, "NV index 0x%08x: ", (unsigned)index);
    Esys_Free(info);
    Esys_TR_Close(t->esys, &nv);
    return ret;
}

/* Length of the DER object at the start of p (tag, definite length), or 0. */
static size_t
der_length(const uint8_t *p, size_t n)
{
    size_t len, hdr = 2;

    if (n < 2 || p[0] != 0x30)
        return 0;
    len = p[1];
    if (len & 0x80) {
        size_t nb = len & 0x7f;

        if (nb == 0 || nb > 4 || n < 2 + nb)
            return 0;
        len = 0;
        for (size_t i = 0; i < nb; i++)
            len = len << 8 | p[2 + i];
        hdr += nb;
    }
    return hdr + len <= n ? hdr + len : 0;
}

kl_rc
kl_tpmdev_ek_cert(kl_buf *out, kl_tpmdev *t, kl_tpmdev_ek_type type)
{
    uint32_t index =
        type == KL_TPMDEV_EK_RSA2048 ? KL_TPMDEV_NV_EK_CERT_RSA : KL_TPMDEV_NV_EK_CERT_ECC;
    size_t start = out->len, der;
    kl_rc rc = kl_tpmdev_nv_read(out, t, index);

    if (rc != KL_OK)
        return rc;
    der = der_length(out->ptr + start, out->len - start);
    if (der > 0 && der < out->len - start) {
        LOG_DEBUG("EK certificate: %zu bytes of padding removed", out->len - start - der);
        out->len = start + der;
    } else if (der == 0) {
        LOG_WARN("EK certificate in NV 0x%08x is not ASN.1 DER", (unsigned)index);
    }
    return KL_OK;
}

kl_rc
kl_tpmdev_ek_chain(kl_buf *out, kl_tpmdev *t)
{
    TPMS_CAPABILITY_DATA *cap = NULL;
    TPMI_YES_NO more;
    TSS2_RC rc;
    kl_rc ret = KL_OK;

    rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                            KL_TPMDEV_NV_EK_CHAIN_FIRST,
                            KL_TPMDEV_NV_EK_CHAIN_LAST - KL_TPMDEV_NV_EK_CHAIN_FIRST + 1, &more,
                            &cap);
    if (rc != TSS2_RC_SUCCESS)
        return kl_tpmdev__fail(rc, "Esys_GetCapability(HANDLES)");
    for (UINT32 i = 0; i < cap->data.handles.count && ret == KL_OK; i++) {
        TPM2_HANDLE h = cap->data.handles.handle[i];

        if (h < KL_TPMDEV_NV_EK_CHAIN_FIRST || h > KL_TPMDEV_NV_EK_CHAIN_LAST)
            break;
        ret = kl_tpmdev_nv_read(out, t, h);
    }
    Esys_Free(cap);
    return ret;
}
