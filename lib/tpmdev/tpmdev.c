#include "tpmdev/tpmdev.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>
#include <unistd.h>

#include "tpmdev/tpmdev_int.h"
#include "util/kl_alloc.h"

#define KL_LOGMODULE "tpmdev"
#include "util/kl_log.h"

kl_rc
kl_tpmdev__fail(TSS2_RC rc, const char *cmd)
{
    return kl_err_set(KL_EIO, "%s: %s (0x%08x)", cmd, Tss2_RC_Decode(rc), (unsigned)rc);
}

void
kl_tpmdev__flush(kl_tpmdev *t, ESYS_TR handle)
{
    TSS2_RC rc;

    if (handle == ESYS_TR_NONE)
        return;
    rc = Esys_FlushContext(t->esys, handle);
    if (rc != TSS2_RC_SUCCESS)
        LOG_WARN("Esys_FlushContext: %s", Tss2_RC_Decode(rc));
}

const char *
kl_tpmdev_default_tcti(void)
{
    const char *env = getenv("TCTI");

    if (env && *env)
        return env;
    if (access("/dev/tpmrm0", F_OK) == 0)
        return "device:/dev/tpmrm0";
    return "device:/dev/tpm0";
}

kl_rc
kl_tpmdev_open(kl_tpmdev **out, const char *tcti)
{
    kl_tpmdev *t;
    TSS2_RC rc;
    kl_rc ret = KL_OK;

    *out = NULL;
    if (!tcti || !*tcti)
        return kl_err_set(KL_EINVAL, "no TCTI given");
    t = kl_calloc(1, sizeof(*t));
    if (!t)
        return kl_err_set(KL_ENOMEM, "out of memory");
    rc = Tss2_TctiLdr_Initialize(tcti, &t->tcti);
    if (rc != TSS2_RC_SUCCESS) {
        ret = kl_tpmdev__fail(rc, "Tss2_TctiLdr_Initialize");
        ret = kl_err_wrap(ret, "TCTI %s: ", tcti);
        goto out;
    }
    rc = Esys_Initialize(&t->esys, t->tcti, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        ret = kl_tpmdev__fail(rc, "Esys_Initialize");
        goto out;
    }
    rc = Esys_Startup(t->esys, TPM2_SU_CLEAR);
    if (rc != TSS2_RC_SUCCESS && rc != TPM2_RC_INITIALIZE) {
        ret = kl_tpmdev__fail(rc, "Esys_Startup");
        ret = kl_err_wrap(ret, "TCTI %s: ", tcti);
        goto out;
    }
    *out = t;
    t = NULL;
out:
    kl_tpmdev_close(t);
    return ret;
}

void
kl_tpmdev_close(kl_tpmdev *t)
{
    if (!t)
        return;
    if (t->esys)
        Esys_Finalize(&t->esys);
    if (t->tcti)
        Tss2_TctiLdr_Finalize(&t->tcti);
    kl_free(t);
}

kl_rc
kl_tpmdev_vendor(kl_tpmdev *t, char *out, size_t n)
{
    TPMS_CAPABILITY_DATA *cap = NULL;
    TPMI_YES_NO more;
    char s[17];
    size_t len = 0;
    TSS2_RC rc;

    if (n == 0)
        return kl_err_set(KL_EINVAL, "no room for the vendor string");
    rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                            TPM2_CAP_TPM_PROPERTIES, TPM2_PT_VENDOR_STRING_1, 4, &more, &cap);
    if (rc != TSS2_RC_SUCCESS)
        return kl_tpmdev__fail(rc, "Esys_GetCapability(TPM_PROPERTIES)");
    for (UINT32 i = 0; i < cap->data.tpmProperties.count; i++) {
        const TPMS_TAGGED_PROPERTY *p = &cap->data.tpmProperties.tpmProperty[i];

        if (p->property < TPM2_PT_VENDOR_STRING_1 || p->property > TPM2_PT_VENDOR_STRING_1 + 3)
            continue;
        for (int shift = 24; shift >= 0; shift -= 8) {
            char c = (char)(p->value >> shift & 0xff);

            if (c && len < sizeof(s) - 1)
                s[len++] = c;
        }
    }
    Esys_Free(cap);
    while (len > 0 && s[len - 1] == ' ')
        len--;
    s[len] = '\0';
    snprintf(out, n, "%s", s);
    return KL_OK;
}

kl_rc
kl_tpmdev_is_software(kl_tpmdev *t, bool *out)
{
    char vendor[17];
    kl_rc rc = kl_tpmdev_vendor(t, vendor, sizeof(vendor));

    *out = rc == KL_OK && strstr(vendor, "SW") != NULL;
    return rc;
}

kl_rc
kl_tpmdev__key_new(kl_tpmdev_key **out, kl_tpmdev *t, ESYS_TR handle, bool persistent,
                   const TPM2B_PUBLIC *pub)
{
    kl_tpmdev_key *k = kl_calloc(1, sizeof(*k));
    size_t off = 0;
    TSS2_RC rc;

    *out = NULL;
    if (!k) {
        if (persistent)
            Esys_TR_Close(t->esys, &handle);
        else
            kl_tpmdev__flush(t, handle);
        return kl_err_set(KL_ENOMEM, "out of memory");
    }
    k->t = t;
    k->handle = handle;
    k->persistent = persistent;
    k->pub = *pub;
    rc = Tss2_MU_TPM2B_PUBLIC_Marshal(pub, k->pub_bytes, sizeof(k->pub_bytes), &off);
    if (rc != TSS2_RC_SUCCESS) {
        kl_tpmdev_key_free(k);
        return kl_tpmdev__fail(rc, "Tss2_MU_TPM2B_PUBLIC_Marshal");
    }
    k->pub_len = off;
    *out = k;
    return KL_OK;
}

kl_bytes
kl_tpmdev_key_public(const kl_tpmdev_key *k)
{
    return KL_BYTES(k->pub_bytes, k->pub_len);
}

uint32_t
kl_tpmdev_key_persistent_handle(const kl_tpmdev_key *k)
{
    TPM2_HANDLE h = 0;

    if (!k->persistent || Esys_TR_GetTpmHandle(k->t->esys, k->handle, &h) != TSS2_RC_SUCCESS)
        return 0;
    return h;
}

void
kl_tpmdev_key_free(kl_tpmdev_key *k)
{
    if (!k)
        return;
    if (k->persistent)
        Esys_TR_Close(k->t->esys, &k->handle);
    else
        kl_tpmdev__flush(k->t, k->handle);
    kl_free(k);
}

kl_rc
kl_tpmdev_key_persistent(kl_tpmdev_key **out, kl_tpmdev *t, uint32_t handle)
{
    ESYS_TR tr = ESYS_TR_NONE;
    TPM2B_PUBLIC *pub = NULL;
    TSS2_RC rc;
    kl_rc ret;

    *out = NULL;
    if (handle >> 24 != TPM2_HT_PERSISTENT)
        return kl_err_set(KL_EINVAL, "0x%08x is not a persistent handle", (unsigned)handle);
    rc = Esys_TR_FromTPMPublic(t->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &tr);
    if (rc != TSS2_RC_SUCCESS)
        return kl_err_wrap(kl_tpmdev__fail(rc, "Esys_TR_FromTPMPublic"),
                           "handle 0x%08x: ", (unsigned)handle);
    rc = Esys_ReadPublic(t->esys, tr, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        Esys_TR_Close(t->esys, &tr);
        return kl_err_wrap(kl_tpmdev__fail(rc, "Esys_ReadPublic"),
                           "handle 0x%08x: ", (unsigned)handle);
    }
    ret = kl_tpmdev__key_new(out, t, tr, true, pub);
    Esys_Free(pub);
    return ret;
}
