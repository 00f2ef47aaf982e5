#include "tpm/pcr.h"

#include "util/kl_reader.h"

#include <string.h>
#include <tss2/tss2_tpm2_types.h>

#define BLOB_SLOTS 16
#define BLOB_SEL_SIZE (4 + BLOB_SLOTS * 8) /* TPML_PCR_SELECTION image */
#define BLOB_HEAD (BLOB_SEL_SIZE + 4)      /* + the count of TPML_DIGESTs */
#define DIGESTS_PER_LIST 8
#define DIGEST_SLOT (2 + 64)                                  /* TPM2B_DIGEST image */
#define DIGEST_LIST_SIZE (4 + DIGESTS_PER_LIST * DIGEST_SLOT) /* TPML_DIGEST image: 532 */

static const struct {
    uint16_t tpm;
    kl_hash_alg alg;
} hash_ids[] = {
    {TPM2_ALG_SHA1, KL_HASH_SHA1},
    {TPM2_ALG_SHA256, KL_HASH_SHA256},
    {TPM2_ALG_SHA384, KL_HASH_SHA384},
    {TPM2_ALG_SHA512, KL_HASH_SHA512},
};

bool
kl_tpm_alg_of_hash(kl_hash_alg h, uint16_t *tpm_alg)
{
    for (size_t i = 0; i < sizeof(hash_ids) / sizeof(hash_ids[0]); i++) {
        if (hash_ids[i].alg == h) {
            *tpm_alg = hash_ids[i].tpm;
            return true;
        }
    }
    return false;
}

bool
kl_tpm_hash_of_alg(uint16_t tpm_alg, kl_hash_alg *h)
{
    for (size_t i = 0; i < sizeof(hash_ids) / sizeof(hash_ids[0]); i++) {
        if (hash_ids[i].tpm == tpm_alg) {
            *h = hash_ids[i].alg;
            return true;
        }
    }
    return false;
}

size_t
kl_tpm_alg_digest_size(uint16_t tpm_alg)
{
    switch (tpm_alg) {
    case TPM2_ALG_SHA1: return 20;
    case TPM2_ALG_SHA256:
    case TPM2_ALG_SM3_256:
    case TPM2_ALG_SHA3_256: return 32;
    case TPM2_ALG_SHA384:
    case TPM2_ALG_SHA3_384: return 48;
    case TPM2_ALG_SHA512:
    case TPM2_ALG_SHA3_512: return 64;
    default: return 0;
    }
}

bool
kl_pcr_selection_eq(const kl_pcr_selection *a, const kl_pcr_selection *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++) {
        if (a->banks[i].tpm_alg != b->banks[i].tpm_alg || a->banks[i].mask != b->banks[i].mask)
            return false;
    }
    return true;
}

/* The TPML_PCR_SELECTION image: count, then 16 slots of {u16le hash,
 * u8 sizeofSelect, u8 pcrSelect[4], u8 pad}. Slots past count are not
 * part of the selection; like upstream, every slot's sizeofSelect must be
 * 0 or 3. */
static kl_rc
read_selection(kl_reader *r, kl_pcr_selection *sel)
{
    uint32_t count;
    kl_rc rc = kl_reader_u32le(r, &count);

    if (rc != KL_OK)
        return rc;
    if (count > BLOB_SLOTS)
        return kl_err_set(KL_EPARSE, "PCR blob selects %u banks (at most %d)", count, BLOB_SLOTS);
    sel->count = count;
    for (unsigned i = 0; i < BLOB_SLOTS; i++) {
        uint16_t alg;
        uint8_t size;
        kl_bytes select;

        if ((rc = kl_reader_u16le(r, &alg)) != KL_OK || (rc = kl_reader_u8(r, &size)) != KL_OK ||
            (rc = kl_reader_bytes(r, 5, &select)) != KL_OK)
            return rc;
        if (size != 0 && size != 3)
            return kl_err_set(KL_EPARSE, "size_of_select must be either 0 or 3 but it is %u", size);
        if (i >= count)
            continue;
        for (unsigned j = 0; j < i; j++) {
            if (sel->banks[j].tpm_alg == alg)
                return kl_err_set(KL_EPARSE, "PCR blob selects bank 0x%04x twice", alg);
        }
        sel->banks[i].tpm_alg = alg;
        sel->banks[i].mask = size ? (uint32_t)select.ptr[0] | (uint32_t)select.ptr[1] << 8 |
                                        (uint32_t)select.ptr[2] << 16
                                  : 0;
    }
    return KL_OK;
}

/* Where the walk through the values stands. */
typedef struct {
    const kl_pcr_selection *sel;
    size_t bank;      /* current bank */
    unsigned pcr;     /* next PCR to look at in it */
    uint16_t tpm_alg; /* the bank *out wants */
    kl_pcr_set *out;
    kl_hasher *h; /* NULL: no digest */
} walk;

/* Assigns the next value of the stream to the next selected PCR. */
static kl_rc
take_value(walk *w, kl_bytes v)
{
    const kl_pcr_bank_select *b;
    size_t want;

    for (; w->bank < w->sel->count; w->bank++, w->pcr = 0) {
        b = &w->sel->banks[w->bank];
        while (w->pcr < KL_PCR_COUNT && !(b->mask >> w->pcr & 1))
            w->pcr++;
        if (w->pcr < KL_PCR_COUNT)
            break;
    }
    if (w->bank >= w->sel->count)
        return kl_err_set(KL_EPARSE, "Did not consume all entries in pcr_values list");
    b = &w->sel->banks[w->bank];
    want = kl_tpm_alg_digest_size(b->tpm_alg);
    if (want && v.len != want)
        return kl_err_set(KL_EPARSE, "PCR %u of bank 0x%04x has a %zu-byte value, not %zu", w->pcr,
                          b->tpm_alg, v.len, want);
    if (b->tpm_alg == w->tpm_alg && w->out) {
        w->out->present |= 1u << w->pcr;
        memcpy(w->out->value[w->pcr], v.ptr, v.len);
    }
    w->pcr++;
    return w->h ? kl_hasher_update(w->h, v.ptr, v.len) : KL_OK;
}

/* One TPML_DIGEST image: u32le count (at most 8), then 8 slots of
 * {u16le size, u8 buffer[64]}; the first count slots hold values, the
 * others are empty. */
static kl_rc
read_digest_list(kl_reader *r, walk *w, unsigned index)
{
    uint32_t count;
    kl_rc rc = kl_reader_u32le(r, &count);

    if (rc != KL_OK)
        return rc;
    if (count > DIGESTS_PER_LIST)
        return kl_err_set(KL_EPARSE, "PCR blob digest list %u holds %u values (at most %d)", index,
                          count, DIGESTS_PER_LIST);
    for (unsigned i = 0; i < DIGESTS_PER_LIST; i++) {
        uint16_t size;
        kl_bytes buf;

        if ((rc = kl_reader_u16le(r, &size)) != KL_OK ||
            (rc = kl_reader_bytes(r, 64, &buf)) != KL_OK)
            return rc;
        if (size > 64 || (i < count) != (size != 0))
            return kl_err_set(KL_EPARSE,
                              "PCR blob digest list %u: slot %u has size %u with a count of %u",
                              index, i, size, count);
        if (size && (rc = take_value(w, KL_BYTES(buf.ptr, size))) != KL_OK)
            return rc;
    }
    return KL_OK;
}

/* Whether the walk has used every selected PCR. */
static bool
walk_done(walk *w)
{
    for (; w->bank < w->sel->count; w->bank++, w->pcr = 0) {
        if (w->pcr < KL_PCR_COUNT && (w->sel->banks[w->bank].mask >> w->pcr) != 0)
            return false;
    }
    return true;
}

static kl_rc
parse(kl_bytes blob, uint16_t tpm_alg, kl_pcr_selection *sel, kl_pcr_set *out, kl_hasher *h)
{
    kl_reader r = kl_reader_make(blob);
    walk w = {sel, 0, 0, tpm_alg, out, h};
    uint32_t lists;
    kl_rc rc;

    if (blob.len < BLOB_HEAD)
        return kl_err_set(KL_EPARSE, "PCR blob of %zu bytes is shorter than %d", blob.len,
                          BLOB_HEAD);
    if ((rc = read_selection(&r, sel)) != KL_OK || (rc = kl_reader_u32le(&r, &lists)) != KL_OK)
        return rc;
    if (lists != (blob.len - BLOB_HEAD) / DIGEST_LIST_SIZE ||
        (blob.len - BLOB_HEAD) % DIGEST_LIST_SIZE)
        return kl_err_set(KL_EPARSE,
                          "PCR blob says %u digest lists but has %zu bytes (%d + %d per list)",
                          lists, blob.len, BLOB_HEAD, DIGEST_LIST_SIZE);
    for (uint32_t i = 0; i < lists; i++) {
        if ((rc = read_digest_list(&r, &w, i)) != KL_OK)
            return rc;
    }
    if (!walk_done(&w))
        return kl_err_set(KL_EPARSE, "pcr_values list is too short for the PCR selection");
    return KL_OK;
}

static void
reset(kl_pcr_selection *sel, kl_pcr_set *out, uint16_t tpm_alg)
{
    kl_hash_alg bank = KL_HASH_SHA256;

    memset(sel, 0, sizeof(*sel));
    (void)kl_tpm_hash_of_alg(tpm_alg, &bank);
    out->bank = bank;
    out->present = 0;
}

kl_rc
kl_pcrblob_parse(kl_bytes blob, uint16_t tpm_alg, kl_pcr_selection *sel, kl_pcr_set *out)
{
    kl_rc rc;

    reset(sel, out, tpm_alg);
    rc = parse(blob, tpm_alg, sel, out, NULL);
    if (rc != KL_OK)
        out->present = 0;
    return rc;
}

kl_rc
kl_pcrblob_parse_digest(kl_bytes blob, uint16_t tpm_alg, kl_pcr_selection *sel, kl_pcr_set *out,
                        kl_hash_alg alg, kl_hasher *h, uint8_t *digest)
{
    kl_hasher *own = NULL;
    kl_rc rc;

    reset(sel, out, tpm_alg);
    if (!h) {
        rc = kl_hasher_new(&own);
        if (rc != KL_OK)
            return rc;
        h = own;
    }
    rc = kl_hasher_start(h, alg);
    if (rc == KL_OK)
        rc = parse(blob, tpm_alg, sel, out, h);
    if (rc == KL_OK)
        rc = kl_hasher_finish(h, digest);
    if (rc != KL_OK)
        out->present = 0;
    kl_hasher_free(own);
    return rc;
}

kl_rc
kl_pcrblob_build(kl_buf *out, uint16_t tpm_alg, const kl_pcr_set *values)
{
    uint8_t blob[BLOB_HEAD + 3 * DIGEST_LIST_SIZE] = {0};
    size_t size, n = 0, lists, off = BLOB_HEAD;
    kl_hash_alg bank;

    if (!kl_tpm_hash_of_alg(tpm_alg, &bank) || bank != values->bank)
        return kl_err_set(KL_EINVAL, "PCR bank 0x%04x does not match the values' %s", tpm_alg,
                          kl_hash_name(values->bank));
    size = kl_hash_size(bank);
    for (unsigned pcr = 0; pcr < KL_PCR_COUNT; pcr++)
        n += kl_pcr_set_has(values, pcr);
    lists = (n + DIGESTS_PER_LIST - 1) / DIGESTS_PER_LIST;
    blob[0] = 1; /* one bank, in slot 0 */
    blob[4] = (uint8_t)tpm_alg;
    blob[5] = (uint8_t)(tpm_alg >> 8);
    blob[6] = 3;
    blob[7] = (uint8_t)values->present;
    blob[8] = (uint8_t)(values->present >> 8);
    blob[9] = (uint8_t)(values->present >> 16);
    blob[BLOB_SEL_SIZE] = (uint8_t)lists;
    n = 0;
    for (unsigned pcr = 0; pcr < KL_PCR_COUNT; pcr++) {
        uint8_t *slot;

        if (!kl_pcr_set_has(values, pcr))
            continue;
        if (n % DIGESTS_PER_LIST == 0) {
            size_t left = 0;

            for (unsigned p = pcr; p < KL_PCR_COUNT; p++)
                left += kl_pcr_set_has(values, p);
            blob[off + (n / DIGESTS_PER_LIST) * DIGEST_LIST_SIZE] =
                (uint8_t)(left < DIGESTS_PER_LIST ? left : DIGESTS_PER_LIST);
        }
        slot = blob + off + (n / DIGESTS_PER_LIST) * DIGEST_LIST_SIZE + 4 +
               (n % DIGESTS_PER_LIST) * DIGEST_SLOT;
        slot[0] = (uint8_t)size;
        memcpy(slot + 2, values->value[pcr], size);
        n++;
    }
    return kl_buf_append(out, blob, BLOB_HEAD + lists * DIGEST_LIST_SIZE);
}
