#include "tpmdev/tpmdev_pcr.h"

#include <string.h>

#include "tpmdev/tpmdev_int.h"

#define MASK_ALL ((1u << KL_PCR_COUNT) - 1)

kl_rc
kl_tpmdev_pcr_banks(kl_tpmdev *t, uint32_t *banks_out)
{
    TPMS_CAPABILITY_DATA *cap = NULL;
    TPMI_YES_NO more;
    TSS2_RC rc;

    *banks_out = 0;
    rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_PCRS, 0, 1,
                            &more, &cap);
    if (rc != TSS2_RC_SUCCESS)
        return kl_tpmdev__fail(rc, "Esys_GetCapability(PCRS)");
    for (UINT32 i = 0; i < cap->data.assignedPCR.count; i++) {
        const TPMS_PCR_SELECTION *s = &cap->data.assignedPCR.pcrSelections[i];
        bool active = false;
        kl_hash_alg h;

        for (UINT8 j = 0; j < s->sizeofSelect && j < sizeof(s->pcrSelect); j++)
            active = active || s->pcrSelect[j] != 0;
        if (active && kl_tpm_hash_of_alg(s->hash, &h))
            *banks_out |= 1u << h;
    }
    Esys_Free(cap);
    return KL_OK;
}

static void
select_mask(TPMS_PCR_SELECTION *s, uint16_t alg, uint32_t mask)
{
    memset(s, 0, sizeof(*s));
    s->hash = alg;
    s->sizeofSelect = 3;
    for (unsigned i = 0; i < 3; i++)
        s->pcrSelect[i] = (uint8_t)(mask >> (8 * i));
}

static uint32_t
mask_of(const TPMS_PCR_SELECTION *s)
{
    uint32_t m = 0;

    for (unsigned i = 0; i < s->sizeofSelect && i < 3; i++)
        m |= (uint32_t)s->pcrSelect[i] << (8 * i);
    return m;
}

/* Stores the values of one TPM2_PCR_Read answer; returns the PCRs read. */
static kl_rc
store_values(kl_pcr_set *out, const TPML_PCR_SELECTION *sel, const TPML_DIGEST *values,
             uint16_t alg, size_t size, uint32_t *read)
{
    uint32_t got = 0;
    UINT32 k = 0;

    *read = 0;
    if (sel->count == 0)
        return KL_OK;
    if (sel->count != 1 || sel->pcrSelections[0].hash != alg)
        return kl_err_set(KL_EIO, "Esys_PCR_Read: answer for another bank");
    got = mask_of(&sel->pcrSelections[0]);
    for (unsigned pcr = 0; pcr < KL_PCR_COUNT; pcr++) {
        if (!(got >> pcr & 1))
            continue;
        if (k >= values->count || values->digests[k].size != size)
            return kl_err_set(KL_EIO, "Esys_PCR_Read: values do not match the selection");
        memcpy(out->value[pcr], values->digests[k].buffer, size);
        k++;
    }
    *read = got;
    return KL_OK;
}

kl_rc
kl_tpmdev_pcr_read(kl_pcr_set *out, kl_tpmdev *t, kl_hash_alg bank, uint32_t mask)
{
    uint32_t left = mask & MASK_ALL;
    uint16_t alg;

    memset(out, 0, sizeof(*out));
    out->bank = bank;
    if (!kl_tpm_alg_of_hash(bank, &alg))
        return kl_err_set(KL_EINVAL, "no TPM bank for %s", kl_hash_name(bank));
    if (mask != left)
        return kl_err_set(KL_EINVAL, "PCR mask 0x%x selects PCRs above 23", (unsigned)mask);
    while (left) {
        TPML_PCR_SELECTION in = {.count = 1}, *sel = NULL;
        TPML_DIGEST *values = NULL;
        UINT32 counter;
        uint32_t read = 0;
        TSS2_RC rc;
        kl_rc ret;

        select_mask(&in.pcrSelections[0], alg, left);
        rc = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &in, &counter, &sel,
                           &values);
        if (rc != TSS2_RC_SUCCESS)
            return kl_tpmdev__fail(rc, "Esys_PCR_Read");
        ret = store_values(out, sel, values, alg, kl_hash_size(bank), &read);
        Esys_Free(sel);
        Esys_Free(values);
        if (ret != KL_OK)
            return ret;
        if (read == 0 || (read & ~left))
            return kl_err_set(KL_EUNSUPPORTED, "Esys_PCR_Read: bank %s is not active",
                              kl_hash_name(bank));
        left &= ~read;
    }
    out->present = mask;
    return KL_OK;
}

kl_rc
kl_tpmdev_pcr_extend(kl_tpmdev *t, unsigned pcr, const kl_tpmdev_digest *digests, size_t n)
{
    TPML_DIGEST_VALUES v = {0};
    TSS2_RC rc;

    if (pcr >= KL_PCR_COUNT)
        return kl_err_set(KL_EINVAL, "no PCR %u", pcr);
    if (n == 0 || n > TPM2_NUM_PCR_BANKS)
        return kl_err_set(KL_EINVAL, "extend of %zu banks", n);
    for (size_t i = 0; i < n; i++) {
        uint16_t alg;

        if (!kl_tpm_alg_of_hash(digests[i].bank, &alg))
            return kl_err_set(KL_EINVAL, "no TPM bank for %s", kl_hash_name(digests[i].bank));
        v.digests[i].hashAlg = alg;
        memcpy(&v.digests[i].digest, digests[i].digest, kl_hash_size(digests[i].bank));
    }
    v.count = (UINT32)n;
    rc = Esys_PCR_Extend(t->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                         &v);
    if (rc != TSS2_RC_SUCCESS)
        return kl_err_wrap(kl_tpmdev__fail(rc, "Esys_PCR_Extend"), "PCR %u: ", pcr);
    return KL_OK;
}

kl_rc
kl_tpmdev_pcr_reset(kl_tpmdev *t, unsigned pcr)
{
    TSS2_RC rc;

    if (pcr >= KL_PCR_COUNT)
        return kl_err_set(KL_EINVAL, "no PCR %u", pcr);
    rc = Esys_PCR_Reset(t->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE);
    if (rc != TSS2_RC_SUCCESS)
        return kl_err_wrap(kl_tpmdev__fail(rc, "Esys_PCR_Reset"), "PCR %u: ", pcr);
    return KL_OK;
}

kl_rc
kl_tpmdev_pcr_bind(kl_tpmdev *t, unsigned pcr, kl_hash_alg bank, kl_bytes data)
{
    kl_tpmdev_digest d = {.bank = bank};
    kl_rc rc = kl_hash(bank, data.ptr, data.len, d.digest);

    if (rc != KL_OK)
        return rc;
    rc = kl_tpmdev_pcr_reset(t, pcr);
    return rc != KL_OK ? rc : kl_tpmdev_pcr_extend(t, pcr, &d, 1);
}
