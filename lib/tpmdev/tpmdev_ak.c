#include "tpmdev/tpmdev_ak.h"

#include <string.h>
#include <tss2/tss2_mu.h>

#include "tpm/pcr.h"
#include "tpmdev/tpmdev_int.h"

/* fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth |
 * restricted | sign = 0x00050072, as tpm2_createak. */
#define AK_ATTRIBUTES                                                                              \
    (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |            \
     TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT)

kl_rc
kl_tpmdev_ak_opts_set(kl_tpmdev_ak_opts *o, const char *enc, const char *sign, const char *hash)
{
    kl_hash_alg h;

    if (strcmp(enc, "rsa") == 0 || strcmp(enc, "rsa2048") == 0) {
        o->key_type = TPM2_ALG_RSA;
    } else if (strcmp(enc, "ecc") == 0 || strcmp(enc, "ecc256") == 0) {
        o->key_type = TPM2_ALG_ECC;
        o->curve = TPM2_ECC_NIST_P256;
    } else if (strcmp(enc, "ecc384") == 0) {
        o->key_type = TPM2_ALG_ECC;
        o->curve = TPM2_ECC_NIST_P384;
    } else {
        return kl_err_set(KL_EINVAL, "unsupported AK key type '%s'", enc);
    }
    if (strcmp(sign, "rsassa") == 0)
        o->scheme = TPM2_ALG_RSASSA;
    else if (strcmp(sign, "rsapss") == 0)
        o->scheme = TPM2_ALG_RSAPSS;
    else if (strcmp(sign, "ecdsa") == 0)
        o->scheme = TPM2_ALG_ECDSA;
    else
        return kl_err_set(KL_EINVAL, "unsupported AK signing scheme '%s'", sign);
    if ((o->scheme == TPM2_ALG_ECDSA) != (o->key_type == TPM2_ALG_ECC))
        return kl_err_set(KL_EINVAL, "signing scheme '%s' does not fit key type '%s'", sign, enc);
    if (!kl_hash_from_name(KL_BYTES(hash, strlen(hash)), &h) || h > KL_HASH_SHA512)
        return kl_err_set(KL_EINVAL, "unsupported AK hash algorithm '%s'", hash);
    o->hash = h;
    return KL_OK;
}

static kl_rc
ak_template(TPM2B_PUBLIC *pub, const kl_tpmdev_ak_opts *o)
{
    TPMT_PUBLIC *a = &pub->publicArea;
    uint16_t hash;

    memset(pub, 0, sizeof(*pub));
    if (!kl_tpm_alg_of_hash(o->hash, &hash) || o->hash > KL_HASH_SHA512)
        return kl_err_set(KL_EINVAL, "unsupported AK hash %s", kl_hash_name(o->hash));
    a->nameAlg = hash;
    a->objectAttributes = AK_ATTRIBUTES;
    if (o->key_type == TPM2_ALG_RSA &&
        (o->scheme == TPM2_ALG_RSASSA || o->scheme == TPM2_ALG_RSAPSS)) {
        a->type = TPM2_ALG_RSA;
        a->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
        a->parameters.rsaDetail.scheme.scheme = o->scheme;
        a->parameters.rsaDetail.scheme.details.anySig.hashAlg = hash;
        a->parameters.rsaDetail.keyBits = 2048;
        a->parameters.rsaDetail.exponent = 0;
    } else if (o->key_type == TPM2_ALG_ECC && o->scheme == TPM2_ALG_ECDSA &&
               (o->curve == TPM2_ECC_NIST_P256 || o->curve == TPM2_ECC_NIST_P384)) {
        a->type = TPM2_ALG_ECC;
        a->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
        a->parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
        a->parameters.eccDetail.scheme.details.ecdsa.hashAlg = hash;
        a->parameters.eccDetail.curveID = o->curve;
        a->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
    } else {
        return kl_err_set(KL_EINVAL, "unsupported AK: key type 0x%04x, scheme 0x%04x, curve 0x%04x",
                          o->key_type, o->scheme, o->curve);
    }
    return KL_OK;
}

static kl_rc
append_blobs(kl_buf *pub_out, kl_buf *priv_out, const TPM2B_PUBLIC *pub, const TPM2B_PRIVATE *priv)
{
    uint8_t buf[sizeof(TPM2B_PUBLIC) > sizeof(TPM2B_PRIVATE) ? sizeof(TPM2B_PUBLIC)
                                                             : sizeof(TPM2B_PRIVATE)];
    size_t off = 0;
    TSS2_RC rc;
    kl_rc ret;

    rc = Tss2_MU_TPM2B_PUBLIC_Marshal(pub, buf, sizeof(buf), &off);
    if (rc != TSS2_RC_SUCCESS)
        return kl_tpmdev__fail(rc, "Tss2_MU_TPM2B_PUBLIC_Marshal");
    ret = kl_buf_append(pub_out, buf, off);
    if (ret != KL_OK)
        return ret;
    off = 0;
    rc = Tss2_MU_TPM2B_PRIVATE_Marshal(priv, buf, sizeof(buf), &off);
    if (rc != TSS2_RC_SUCCESS)
        return kl_tpmdev__fail(rc, "Tss2_MU_TPM2B_PRIVATE_Marshal");
    ret = kl_buf_append(priv_out, buf, off);
    kl_wipe(buf, sizeof(buf));
    return ret;
}

kl_rc
kl_tpmdev_ak_create(kl_buf *pub_out, kl_buf *priv_out, kl_tpmdev *t, const kl_tpmdev_key *ek,
                    const kl_tpmdev_ak_opts *o)
{
    TPM2B_SENSITIVE_CREATE sensitive = {0};
    TPM2B_DATA outside = {0};
    TPML_PCR_SELECTION creation_pcr = {0};
    TPM2B_PUBLIC in, *pub = NULL;
    TPM2B_PRIVATE *priv = NULL;
    ESYS_TR session;
    TSS2_RC rc;
    kl_rc ret;

    ret = ak_template(&in, o);
    if (ret != KL_OK)
        return ret;
    ret = kl_tpmdev__ek_session(t, ek, &session);
    if (ret != KL_OK)
        return ret;
    rc = Esys_Create(t->esys, ek->handle, session, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive, &in,
                     &outside, &creation_pcr, &priv, &pub, NULL, NULL, NULL);
    kl_tpmdev__flush(t, session);
    if (rc != TSS2_RC_SUCCESS)
        return kl_tpmdev__fail(rc, "Esys_Create(AK)");
    ret = append_blobs(pub_out, priv_out, pub, priv);
    Esys_Free(pub);
    if (priv)
        kl_wipe(priv, sizeof(*priv));
    Esys_Free(priv);
    return ret;
}

kl_rc
kl_tpmdev_ak_load(kl_tpmdev_key **out, kl_tpmdev *t, const kl_tpmdev_key *ek, kl_bytes pub,
                  kl_bytes priv)
{
    TPM2B_PUBLIC in_pub;
    TPM2B_PRIVATE in_priv;
    ESYS_TR session, handle = ESYS_TR_NONE;
    size_t off = 0;
    TSS2_RC rc;
    kl_rc ret;

    *out = NULL;
    memset(&in_pub, 0, sizeof(in_pub));
    memset(&in_priv, 0, sizeof(in_priv));
    rc = Tss2_MU_TPM2B_PUBLIC_Unmarshal(pub.ptr, pub.len, &off, &in_pub);
    if (rc != TSS2_RC_SUCCESS || off != pub.len)
        return kl_err_set(KL_EPARSE, "AK public blob is not a TPM2B_PUBLIC");
    off = 0;
    rc = Tss2_MU_TPM2B_PRIVATE_Unmarshal(priv.ptr, priv.len, &off, &in_priv);
    if (rc != TSS2_RC_SUCCESS || off != priv.len)
        return kl_err_set(KL_EPARSE, "AK private blob is not a TPM2B_PRIVATE");
    ret = kl_tpmdev__ek_session(t, ek, &session);
    if (ret != KL_OK)
        goto out;
    rc = Esys_Load(t->esys, ek->handle, session, ESYS_TR_NONE, ESYS_TR_NONE, &in_priv, &in_pub,
                   &handle);
    kl_tpmdev__flush(t, session);
    if (rc != TSS2_RC_SUCCESS) {
        ret = kl_tpmdev__fail(rc, "Esys_Load(AK)");
        goto out;
    }
    ret = kl_tpmdev__key_new(out, t, handle, false, &in_pub);
out:
    kl_wipe(&in_priv, sizeof(in_priv));
    return ret;
}

bool
kl_tpmdev_key_scheme(const kl_tpmdev_key *k, uint16_t *scheme, uint16_t *hash)
{
    const TPMT_PUBLIC *a = &k->pub.publicArea;

    if (a->type == TPM2_ALG_RSA) {
        *scheme = a->parameters.rsaDetail.scheme.scheme;
        *hash = a->parameters.rsaDetail.scheme.details.anySig.hashAlg;
    } else if (a->type == TPM2_ALG_ECC) {
        *scheme = a->parameters.eccDetail.scheme.scheme;
        *hash = a->parameters.eccDetail.scheme.details.anySig.hashAlg;
    } else {
        return false;
    }
    return *scheme != TPM2_ALG_NULL;
}
