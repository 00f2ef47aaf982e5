#include "tpm/tpm_public.h"

#include "tpm/pcr.h"
#include "util/kl_alloc.h"

#include <string.h>
#include <tss2/tss2_mu.h>

struct kl_tpm_public {
    kl_buf raw;
    TPMT_PUBLIC pub;
    kl_pubkey *key;
    uint8_t name[2 + KL_HASH_MAX_SIZE];
    size_t name_len;
};

/* Unmarshals the TPMT_PUBLIC inside a TPM2B_PUBLIC. (Not with
 * Tss2_MU_TPM2B_PUBLIC_Unmarshal: it does not check that the structure
 * fills the size it announces.) */
static kl_rc
unmarshal(kl_bytes b, TPMT_PUBLIC *pub)
{
    size_t size, off = 0;
    TSS2_RC trc;

    if (b.len < 2)
        return kl_err_set(KL_EPARSE, "TPM2B_PUBLIC of %zu bytes is truncated", b.len);
    size = (size_t)b.ptr[0] << 8 | b.ptr[1];
    if (size + 2 != b.len)
        return kl_err_set(KL_EPARSE, "TPM2B_PUBLIC announces %zu bytes but holds %zu", size,
                          b.len - 2);
    trc = Tss2_MU_TPMT_PUBLIC_Unmarshal(b.ptr + 2, size, &off, pub);
    if (trc != TSS2_RC_SUCCESS)
        return kl_err_set(KL_EPARSE, "malformed TPMT_PUBLIC (tss2-mu error 0x%x)", trc);
    if (off != size)
        return kl_err_set(KL_EPARSE, "More in tpm2b_public than tpmt_public (%zu bytes left)",
                          size - off);
    return KL_OK;
}

static kl_rc
rsa_key(const TPMT_PUBLIC *pub, kl_pubkey **out)
{
    const TPM2B_PUBLIC_KEY_RSA *n = &pub->unique.rsa;
    uint32_t e = pub->parameters.rsaDetail.exponent;

    if ((size_t)n->size * 8 != pub->parameters.rsaDetail.keyBits)
        return kl_err_set(KL_EPARSE, "Misparsed either modulus or keybits: %u*8 != %u", n->size,
                          pub->parameters.rsaDetail.keyBits);
    return kl_pubkey_from_rsa(out, KL_BYTES(n->buffer, n->size), e ? e : 65537);
}

static kl_rc
ecc_key(const TPMT_PUBLIC *pub, kl_pubkey **out)
{
    const TPMS_ECC_POINT *q = &pub->unique.ecc;
    TPMI_ECC_CURVE id = pub->parameters.eccDetail.curveID;
    kl_ec_curve c;
    size_t max, min;

    switch (id) {
    case TPM2_ECC_NIST_P256: c = KL_EC_P256; break;
    case TPM2_ECC_NIST_P384: c = KL_EC_P384; break;
    case TPM2_ECC_NIST_P521: c = KL_EC_P521; break;
    default:
        return kl_err_set(KL_EUNSUPPORTED, "unsupported ECC curve 0x%04x (P-256, P-384, P-521)",
                          id);
    }
    /* fixed-size coordinates; P-521's 521 bits may come in 65 bytes */
    max = kl_ec_curve_size(c);
    min = c == KL_EC_P521 ? max - 1 : max;
    if (q->x.size < min || q->x.size > max || q->y.size < min || q->y.size > max)
        return kl_err_set(KL_EPARSE,
                          "Misparsed %s coordinate: got %u bytes, expected %zu-%zu for %s",
                          q->x.size < min || q->x.size > max ? "X" : "Y",
                          q->x.size < min || q->x.size > max ? q->x.size : q->y.size, min, max,
                          kl_ec_curve_name(c));
    return kl_pubkey_from_ec(out, c, KL_BYTES(q->x.buffer, q->x.size),
                             KL_BYTES(q->y.buffer, q->y.size));
}

static kl_rc
compute_name(kl_tpm_public *p)
{
    uint16_t alg = p->pub.nameAlg;
    kl_hash_alg h;
    kl_rc rc;

    if (!kl_tpm_hash_of_alg(alg, &h))
        return kl_err_set(KL_EUNSUPPORTED, "Unsupported nameAlg 0x%04x used", alg);
    p->name[0] = (uint8_t)(alg >> 8);
    p->name[1] = (uint8_t)alg;
    rc = kl_hash(h, p->raw.ptr + 2, p->raw.len - 2, p->name + 2);
    p->name_len = 2 + kl_hash_size(h);
    return rc;
}

kl_rc
kl_tpm_public_parse(kl_tpm_public **out, kl_bytes tpm2b_public)
{
    kl_tpm_public *p = kl_calloc(1, sizeof(*p));
    kl_rc rc;

    *out = NULL;
    if (!p)
        return kl_err_set(KL_ENOMEM, "out of memory");
    kl_buf_init(&p->raw, (size_t)1 << 16);
    rc = kl_buf_append(&p->raw, tpm2b_public.ptr, tpm2b_public.len);
    if (rc == KL_OK)
        rc = unmarshal(tpm2b_public, &p->pub);
    if (rc == KL_OK) {
        if (p->pub.type == TPM2_ALG_RSA)
            rc = rsa_key(&p->pub, &p->key);
        else if (p->pub.type == TPM2_ALG_ECC)
            rc = ecc_key(&p->pub, &p->key);
        else
            rc = kl_err_set(KL_EUNSUPPORTED, "Invalid tpm2b_public type: 0x%04x", p->pub.type);
    }
    if (rc == KL_OK)
        rc = compute_name(p);
    if (rc != KL_OK) {
        kl_tpm_public_free(p);
        return rc;
    }
    *out = p;
    return KL_OK;
}

void
kl_tpm_public_free(kl_tpm_public *p)
{
    if (!p)
        return;
    kl_pubkey_free(p->key);
    kl_buf_free(&p->raw);
    kl_free(p);
}

const kl_pubkey *
kl_tpm_public_key(const kl_tpm_public *p)
{
    return p->key;
}

uint16_t
kl_tpm_public_type(const kl_tpm_public *p)
{
    return p->pub.type;
}

kl_bytes
kl_tpm_public_name(const kl_tpm_public *p)
{
    return KL_BYTES(p->name, p->name_len);
}

kl_bytes
kl_tpm_public_bytes(const kl_tpm_public *p)
{
    return kl_buf_bytes(&p->raw);
}

const TPMT_PUBLIC *
kl_tpm_public_tpmt(const kl_tpm_public *p)
{
    return &p->pub;
}

static kl_rc
fill_unique(TPMT_PUBLIC *pub, const kl_pubkey *key)
{
    static const TPMI_ECC_CURVE ids[KL_EC_COUNT] = {TPM2_ECC_NIST_P256, TPM2_ECC_NIST_P384,
                                                    TPM2_ECC_NIST_P521};
    kl_ec_curve c;
    uint64_t e = 0;
    kl_buf n;
    kl_rc rc;

    if (pub->type == TPM2_ALG_ECC) {
        rc = kl_pubkey_ec_params(key, &c, pub->unique.ecc.x.buffer, pub->unique.ecc.y.buffer);
        if (rc != KL_OK)
            return rc;
        pub->parameters.eccDetail.curveID = ids[c];
        pub->unique.ecc.x.size = pub->unique.ecc.y.size = (UINT16)kl_ec_curve_size(c);
        return KL_OK;
    }
    if (pub->type != TPM2_ALG_RSA)
        return kl_err_set(KL_EINVAL, "template type 0x%04x is neither RSA nor ECC", pub->type);
    kl_buf_init(&n, sizeof(pub->unique.rsa.buffer) + 1);
    rc = kl_pubkey_rsa_params(key, &n, &e);
    if (rc == KL_OK && e > UINT32_MAX)
        rc = kl_err_set(KL_EINVAL, "RSA exponent does not fit a TPM key");
    if (rc == KL_OK) {
        memcpy(pub->unique.rsa.buffer, n.ptr, n.len);
        pub->unique.rsa.size = (UINT16)n.len;
        pub->parameters.rsaDetail.keyBits = (TPMI_RSA_KEY_BITS)(n.len * 8);
        pub->parameters.rsaDetail.exponent = e == 65537 ? 0 : (UINT32)e;
    }
    kl_buf_free(&n);
    return rc;
}

kl_rc
kl_tpm_public_marshal(kl_buf *out, const TPMT_PUBLIC *tmpl, const kl_pubkey *key)
{
    uint8_t buf[sizeof(TPMT_PUBLIC) + 2];
    TPMT_PUBLIC pub = *tmpl;
    size_t off = 2;
    TSS2_RC trc;
    kl_rc rc;

    if ((pub.type == TPM2_ALG_ECC) != kl_pubkey_is_ec(key))
        return kl_err_set(KL_EINVAL, "the key does not fit the template's type");
    rc = fill_unique(&pub, key);
    if (rc != KL_OK)
        return rc;
    trc = Tss2_MU_TPMT_PUBLIC_Marshal(&pub, buf, sizeof(buf), &off);
    if (trc != TSS2_RC_SUCCESS)
        return kl_err_set(KL_EINVAL, "cannot marshal the TPMT_PUBLIC (tss2-mu error 0x%x)", trc);
    buf[0] = (uint8_t)((off - 2) >> 8);
    buf[1] = (uint8_t)(off - 2);
    return kl_buf_append(out, buf, off);
}
