/* replay: PCR values from the event log (kl_eventlog_replay) and the boot
 * aggregates IMA's boot_aggregate may take (kl_eventlog_boot_aggregates).
 *
 * Rules (TCG PC Client PFP, as tpm2_eventlog >= 5.5 applies them): every
 * PCR of a bank starts at zero; EV_NO_ACTION records are never extended; a
 * StartupLocality record on PCR 0 sets the last byte of PCR 0 to the
 * locality; an EV_EFI_HCRTM_EVENT on PCR 0 sets it to 4 before extending.
 * Every other record extends PCR = H(PCR || digest) in each bank it has a
 * digest for. A PCR is present once a record of the bank named it (the
 * EV_NO_ACTION ones too), as tpm2_eventlog lists them.
 */
#include "mb/eventlog.h"

#include <string.h>

#include "mb/efi.h"
#include "mb/eventlog_int.h"
#include "util/kl_alloc.h"
#include "util/kl_hex.h"

#define HCRTM_LOCALITY 4

static void
replay_one(const kl_eventlog_event *e, size_t size, kl_pcr_set *out, bool *extend)
{
    uint8_t loc;

    *extend = false;
    out->present |= (uint32_t)1 << e->pcr;
    if (e->type == KL_EV_NO_ACTION) {
        if (e->pcr == 0 && kl_efi_startup_locality(e->data, &loc) && loc > 0)
            out->value[0][size - 1] = loc;
        return;
    }
    if (e->type == KL_EV_EFI_HCRTM_EVENT && e->pcr == 0)
        out->value[0][size - 1] = HCRTM_LOCALITY;
    *extend = true;
}

kl_rc
kl_eventlog_replay(const kl_eventlog *log, kl_hash_alg bank, kl_pcr_set *out)
{
    kl_hasher *h = NULL;
    uint16_t tpm_alg;
    size_t size = kl_hash_size(bank);
    kl_rc rc;

    memset(out, 0, sizeof(*out));
    out->bank = bank;
    if (!kl_eventlog_has_bank(log, bank) || !kl_eventlog_alg_to_tpm(bank, &tpm_alg))
        return kl_err_set(KL_ENOTFOUND, "eventlog: the log has no %s digests", kl_hash_name(bank));
    rc = kl_hasher_new(&h);
    /* the Spec ID header is not a measurement */
    for (size_t i = log->agile ? 1 : 0; rc == KL_OK && i < log->count; i++) {
        const kl_eventlog_event *e = &log->events[i];
        uint8_t *pcr = out->value[e->pcr];
        kl_bytes d;
        bool extend;

        if (!kl_eventlog_event_digest(e, tpm_alg, &d))
            continue;
        if (!log->agile && e->type == KL_EV_NO_ACTION)
            continue; /* old logs: as tpm2_eventlog, neither extended nor present */
        replay_one(e, size, out, &extend);
        if (extend)
            rc = kl_hasher_digest2(h, bank, pcr, size, d.ptr, d.len, pcr);
    }
    kl_hasher_free(h);
    return rc;
}

/* H(PCR0 || ... || PCR(n-1)) as hex and a NUL, if all of them are present. */
static kl_rc
aggregate(kl_hasher *h, const kl_pcr_set *s, unsigned n, kl_buf *out)
{
    size_t size = kl_hash_size(s->bank);
    uint8_t d[KL_HASH_MAX_SIZE];
    kl_rc rc;

    for (unsigned i = 0; i < n; i++) {
        if (!kl_pcr_set_has(s, i))
            return KL_OK;
    }
    rc = kl_hasher_start(h, s->bank);
    for (unsigned i = 0; rc == KL_OK && i < n; i++)
        rc = kl_hasher_update(h, s->value[i], size);
    if (rc == KL_OK)
        rc = kl_hasher_finish(h, d);
    if (rc == KL_OK)
        rc = kl_hex_encode_append(out, d, size);
    return rc == KL_OK ? kl_buf_append_byte(out, '\0') : rc;
}

kl_rc
kl_eventlog_boot_aggregates(const kl_eventlog *log, kl_buf *out)
{
    static const kl_hash_alg banks[] = {KL_HASH_SHA1, KL_HASH_SHA256, KL_HASH_SHA384,
                                        KL_HASH_SHA512};
    kl_hasher *h = NULL;
    kl_pcr_set *s = NULL;
    kl_rc rc = kl_hasher_new(&h);

    if (rc == KL_OK && !(s = kl_malloc(sizeof(*s))))
        rc = kl_err_set(KL_ENOMEM, "eventlog: out of memory");
    for (size_t i = 0; rc == KL_OK && i < sizeof(banks) / sizeof(banks[0]); i++) {
        if (!kl_eventlog_has_bank(log, banks[i]))
            continue;
        rc = kl_eventlog_replay(log, banks[i], s);
        if (rc == KL_OK)
            rc = aggregate(h, s, 8, out);
        if (rc == KL_OK)
            rc = aggregate(h, s, 10, out);
    }
    kl_free(s);
    kl_hasher_free(h);
    return rc;
}
