#include "mb/eventlog.h"

#include <stdio.h>
#include <string.h>

#include "mb/efi.h"
#include "mb/eventlog_int.h"
#include "util/kl_alloc.h"
#include "util/kl_reader.h"

#define SPEC_ID_SIG "Spec ID Event03"  /* 16 bytes with its NUL */
#define LEGACY_HEADER 32              /* pcr, type, SHA-1 digest, size */
#define SHA1_TPM_ALG 0x0004
#define SHA1_SIZE 20

static const struct {
    uint16_t tpm_alg;
    kl_hash_alg alg;
} tpm_algs[] = {
    {0x0004, KL_HASH_SHA1},   {0x000b, KL_HASH_SHA256},  {0x000c, KL_HASH_SHA384},
    {0x000d, KL_HASH_SHA512}, {0x0012, KL_HASH_SM3_256},
};

#define NALGS (sizeof(tpm_algs) / sizeof(tpm_algs[0]))

bool
kl_eventlog_alg_to_tpm(kl_hash_alg alg, uint16_t *tpm_alg)
{
    for (size_t i = 0; i < NALGS; i++) {
        if (tpm_algs[i].alg == alg) {
            *tpm_alg = tpm_algs[i].tpm_alg;
            return true;
        }
    }
    return false;
}

bool
kl_eventlog_alg_from_tpm(uint16_t tpm_alg, kl_hash_alg *alg)
{
    for (size_t i = 0; i < NALGS; i++) {
        if (tpm_algs[i].tpm_alg == tpm_alg) {
            *alg = tpm_algs[i].alg;
            return true;
        }
    }
    return false;
}

static const struct {
    uint32_t type;
    const char *name;
} type_names[] = {
    {KL_EV_PREBOOT_CERT, "EV_PREBOOT_CERT"},
    {KL_EV_POST_CODE, "EV_POST_CODE"},
    {KL_EV_UNUSED, "EV_UNUSED"},
    {KL_EV_NO_ACTION, "EV_NO_ACTION"},
    {KL_EV_SEPARATOR, "EV_SEPARATOR"},
    {KL_EV_ACTION, "EV_ACTION"},
    {KL_EV_EVENT_TAG, "EV_EVENT_TAG"},
    {KL_EV_S_CRTM_CONTENTS, "EV_S_CRTM_CONTENTS"},
    {KL_EV_S_CRTM_VERSION, "EV_S_CRTM_VERSION"},
    {KL_EV_CPU_MICROCODE, "EV_CPU_MICROCODE"},
    {KL_EV_PLATFORM_CONFIG_FLAGS, "EV_PLATFORM_CONFIG_FLAGS"},
    {KL_EV_TABLE_OF_DEVICES, "EV_TABLE_OF_DEVICES"},
    {KL_EV_COMPACT_HASH, "EV_COMPACT_HASH"},
    {KL_EV_IPL, "EV_IPL"},
    {KL_EV_IPL_PARTITION_DATA, "EV_IPL_PARTITION_DATA"},
    {KL_EV_NONHOST_CODE, "EV_NONHOST_CODE"},
    {KL_EV_NONHOST_CONFIG, "EV_NONHOST_CONFIG"},
    {KL_EV_NONHOST_INFO, "EV_NONHOST_INFO"},
    {KL_EV_OMIT_BOOT_DEVICE_EVENTS, "EV_OMIT_BOOT_DEVICE_EVENTS"},
    {KL_EV_EFI_VARIABLE_DRIVER_CONFIG, "EV_EFI_VARIABLE_DRIVER_CONFIG"},
    {KL_EV_EFI_VARIABLE_BOOT, "EV_EFI_VARIABLE_BOOT"},
    {KL_EV_EFI_BOOT_SERVICES_APPLICATION, "EV_EFI_BOOT_SERVICES_APPLICATION"},
    {KL_EV_EFI_BOOT_SERVICES_DRIVER, "EV_EFI_BOOT_SERVICES_DRIVER"},
    {KL_EV_EFI_RUNTIME_SERVICES_DRIVER, "EV_EFI_RUNTIME_SERVICES_DRIVER"},
    {KL_EV_EFI_GPT_EVENT, "EV_EFI_GPT_EVENT"},
    {KL_EV_EFI_ACTION, "EV_EFI_ACTION"},
    {KL_EV_EFI_PLATFORM_FIRMWARE_BLOB, "EV_EFI_PLATFORM_FIRMWARE_BLOB"},
    {KL_EV_EFI_HANDOFF_TABLES, "EV_EFI_HANDOFF_TABLES"},
    {KL_EV_EFI_PLATFORM_FIRMWARE_BLOB2, "EV_EFI_PLATFORM_FIRMWARE_BLOB2"},
    {KL_EV_EFI_HANDOFF_TABLES2, "EV_EFI_HANDOFF_TABLES2"},
    {KL_EV_EFI_VARIABLE_BOOT2, "EV_EFI_VARIABLE_BOOT2"},
    {KL_EV_EFI_HCRTM_EVENT, "EV_EFI_HCRTM_EVENT"},
    {KL_EV_EFI_VARIABLE_AUTHORITY, "EV_EFI_VARIABLE_AUTHORITY"},
    {KL_EV_EFI_SPDM_FIRMWARE_BLOB, "EV_EFI_SPDM_FIRMWARE_BLOB"},
};

const char *
kl_eventlog_type_name(uint32_t type)
{
    for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
        if (type_names[i].type == type)
            return type_names[i].name;
    }
    return NULL;
}

/* Parsing state: the log being filled and the cursor over its copy. */
typedef struct {
    kl_eventlog *log;
    kl_reader r;
    size_t cap_events, cap_digests;
    size_t rec;    /* record being read */
    size_t rec_at; /* its offset */
} parser;

static kl_rc
fail(const parser *p, const char *what)
{
    return kl_err_set(KL_EPARSE, "eventlog: record %zu at offset %zu: %s", p->rec, p->rec_at,
                      what);
}

/* Wraps the detail a helper recorded. */
static kl_rc
fail_detail(const parser *p)
{
    return kl_err_wrap(KL_EPARSE, "eventlog: record %zu at offset %zu: ", p->rec, p->rec_at);
}

/* The log ends before the need bytes of field. */
static kl_rc
truncated(const parser *p, const char *field, size_t need)
{
    char why[160];

    snprintf(why, sizeof(why), "log ends inside the %s (%zu bytes needed, %zu left)", field, need,
             kl_reader_left(&p->r));
    return fail(p, why);
}

static kl_rc
grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    void *n;
    size_t c;

    if (need <= *cap)
        return KL_OK;
    c = *cap ? *cap * 2 : 64;
    while (c < need)
        c *= 2;
    n = kl_reallocarray(*arr, c, elem);
    if (!n)
        return kl_err_set(KL_ENOMEM, "eventlog: out of memory");
    *arr = n;
    *cap = c;
    return KL_OK;
}

/* Adds a record; its digests are the last ndig added. */
static kl_rc
add_event(parser *p, uint32_t pcr, uint32_t type, size_t ndig, kl_bytes data)
{
    kl_eventlog *log = p->log;
    kl_eventlog_event *e;
    kl_rc rc = grow((void **)&log->events, &p->cap_events, log->count + 1, sizeof(*e));

    if (rc != KL_OK)
        return rc;
    e = &log->events[log->count++];
    e->num = p->rec;
    e->offset = p->rec_at;
    e->pcr = pcr;
    e->type = type;
    e->ndigests = ndig; /* the last ndig added; pointed to once all are read */
    e->digests = NULL;
    e->data = data;
    return KL_OK;
}

static kl_rc
add_digest(parser *p, uint16_t tpm_alg, kl_bytes value)
{
    kl_eventlog *log = p->log;
    kl_rc rc = grow((void **)&log->digests, &p->cap_digests, log->ndigests + 1,
                    sizeof(log->digests[0]));

    if (rc != KL_OK)
        return rc;
    log->digests[log->ndigests].tpm_alg = tpm_alg;
    log->digests[log->ndigests++].value = value;
    return KL_OK;
}

static const kl_eventlog_bank *
find_bank(const kl_eventlog *log, uint16_t tpm_alg)
{
    for (size_t i = 0; i < log->nbanks; i++) {
        if (log->banks[i].tpm_alg == tpm_alg)
            return &log->banks[i];
    }
    return NULL;
}

/* The checks common to both formats, after the record is read. */
static kl_rc
check_record(parser *p, uint32_t pcr, uint32_t type, kl_bytes data)
{
    char why[96];

    if (pcr >= KL_PCR_COUNT) {
        snprintf(why, sizeof(why), "PCR index %u is out of range (0-23)", (unsigned)pcr);
        return fail(p, why);
    }
    if (kl_efi_event_check(type, data) != KL_OK)
        return fail_detail(p);
    return KL_OK;
}

static kl_rc
read_banks(parser *p, kl_reader *sr, uint32_t n)
{
    kl_eventlog *log = p->log;
    char why[120];

    if (n == 0 || n > KL_EVENTLOG_MAX_BANKS) {
        snprintf(why, sizeof(why), "Spec ID event declares %u algorithms (1-%d allowed)",
                 (unsigned)n, KL_EVENTLOG_MAX_BANKS);
        return fail(p, why);
    }
    for (uint32_t i = 0; i < n; i++) {
        kl_eventlog_bank *b = &log->banks[log->nbanks];

        if (kl_reader_u16le(sr, &b->tpm_alg) != KL_OK || kl_reader_u16le(sr, &b->size) != KL_OK)
            return fail(p, "Spec ID event ends inside its algorithm list");
        if (find_bank(log, b->tpm_alg)) {
            snprintf(why, sizeof(why), "Spec ID event lists algorithm 0x%04x twice", b->tpm_alg);
            return fail(p, why);
        }
        b->hashable = kl_eventlog_alg_from_tpm(b->tpm_alg, &b->alg);
        if ((b->hashable && b->size != kl_hash_size(b->alg)) || b->size == 0 ||
            b->size > KL_HASH_MAX_SIZE) {
            snprintf(why, sizeof(why), "Spec ID event gives algorithm 0x%04x a digest size of %u",
                     b->tpm_alg, b->size);
            return fail(p, why);
        }
        log->nbanks++;
    }
    return KL_OK;
}

/* The Spec ID Event03 structure inside record 0's event data. */
static kl_rc
parse_specid(parser *p, kl_bytes ev)
{
    kl_eventlog_specid *s = &p->log->specid;
    kl_reader sr = kl_reader_make(ev);
    kl_bytes sig, vendor;
    uint32_t nalg;
    uint8_t vlen;
    kl_rc rc;

    if (kl_reader_bytes(&sr, 16, &sig) != KL_OK || kl_reader_u32le(&sr, &s->platform_class) ||
        kl_reader_u8(&sr, &s->version_minor) || kl_reader_u8(&sr, &s->version_major) ||
        kl_reader_u8(&sr, &s->errata) || kl_reader_u8(&sr, &s->uintn_size) ||
        kl_reader_u32le(&sr, &nalg))
        return fail(p, "Spec ID event is too short");
    rc = read_banks(p, &sr, nalg);
    if (rc != KL_OK)
        return rc;
    if (kl_reader_u8(&sr, &vlen) != KL_OK || kl_reader_bytes(&sr, vlen, &vendor) != KL_OK)
        return fail(p, "Spec ID event ends inside its vendor info");
    if (kl_reader_left(&sr) != 0) {
        char why[96];

        snprintf(why, sizeof(why), "Spec ID event has %zu bytes after its vendor info",
                 kl_reader_left(&sr));
        return fail(p, why);
    }
    s->vendor_info = vendor;
    return KL_OK;
}

/* A TCG_PCR_EVENT (the Spec ID header, or any record of an old log). */
static kl_rc
parse_legacy_record(parser *p, bool header)
{
    uint32_t pcr, type, size;
    kl_bytes digest, data;
    kl_rc rc;

    p->rec_at = p->r.off;
    if (kl_reader_left(&p->r) < LEGACY_HEADER)
        return truncated(p, "record header", LEGACY_HEADER);
    if (kl_reader_u32le(&p->r, &pcr) || kl_reader_u32le(&p->r, &type) ||
        kl_reader_bytes(&p->r, SHA1_SIZE, &digest) || kl_reader_u32le(&p->r, &size))
        return truncated(p, "record header", LEGACY_HEADER);
    if (kl_reader_bytes(&p->r, size, &data) != KL_OK)
        return truncated(p, "event data", size);
    if (header) {
        static const uint8_t zero[SHA1_SIZE];

        if (pcr != 0 || memcmp(digest.ptr, zero, SHA1_SIZE) != 0)
            return fail(p, "Spec ID header must be on PCR 0 with a zero digest");
        rc = parse_specid(p, data);
    } else {
        rc = check_record(p, pcr, type, data);
    }
    if (rc == KL_OK)
        rc = add_digest(p, SHA1_TPM_ALG, digest);
    return rc == KL_OK ? add_event(p, pcr, type, 1, data) : rc;
}

static kl_rc
parse_digests(parser *p, uint32_t count)
{
    uint16_t seen[KL_EVENTLOG_MAX_BANKS];
    char why[120];

    if (count > p->log->nbanks) {
        snprintf(why, sizeof(why), "%u digests, but the log has %zu banks", (unsigned)count,
                 p->log->nbanks);
        return fail(p, why);
    }
    for (uint32_t i = 0; i < count; i++) {
        const kl_eventlog_bank *b;
        uint16_t alg;
        kl_bytes value;
        kl_rc rc;

        if (kl_reader_u16le(&p->r, &alg) != KL_OK)
            return truncated(p, "digest list", 2);
        b = find_bank(p->log, alg);
        if (!b) {
            snprintf(why, sizeof(why), "digest of algorithm 0x%04x, which the Spec ID event "
                                       "does not declare", alg);
            return fail(p, why);
        }
        for (uint32_t j = 0; j < i; j++) {
            if (seen[j] == alg) {
                snprintf(why, sizeof(why), "two digests of algorithm 0x%04x", alg);
                return fail(p, why);
            }
        }
        seen[i] = alg;
        if (kl_reader_bytes(&p->r, b->size, &value) != KL_OK)
            return truncated(p, "digest list", b->size);
        rc = add_digest(p, alg, value);
        if (rc != KL_OK)
            return rc;
    }
    return KL_OK;
}

/* A TCG_PCR_EVENT2. */
static kl_rc
parse_record2(parser *p)
{
    uint32_t pcr, type, count, size;
    kl_bytes data;
    kl_rc rc;

    p->rec_at = p->r.off;
    if (kl_reader_u32le(&p->r, &pcr) || kl_reader_u32le(&p->r, &type) ||
        kl_reader_u32le(&p->r, &count))
        return truncated(p, "record header", 12);
    rc = parse_digests(p, count);
    if (rc != KL_OK)
        return rc;
    if (kl_reader_u32le(&p->r, &size) != KL_OK)
        return truncated(p, "event size", 4);
    if (kl_reader_bytes(&p->r, size, &data) != KL_OK)
        return truncated(p, "event data", size);
    rc = check_record(p, pcr, type, data);
    if (rc != KL_OK)
        return rc;
    if (type == KL_EV_NO_ACTION && pcr == 0 && p->log->locality < 0) {
        uint8_t loc;

        if (kl_efi_startup_locality(data, &loc))
            p->log->locality = loc;
    }
    return add_event(p, pcr, type, count, data);
}

/* Whether the log starts with a Spec ID Event03 header. */
static bool
is_agile(kl_bytes b)
{
    return b.len >= LEGACY_HEADER + 16 && b.ptr[4] == KL_EV_NO_ACTION && b.ptr[5] == 0 &&
           b.ptr[6] == 0 && b.ptr[7] == 0 &&
           memcmp(b.ptr + LEGACY_HEADER, SPEC_ID_SIG, sizeof(SPEC_ID_SIG)) == 0;
}

static kl_rc
parse_all(parser *p)
{
    kl_eventlog *log = p->log;
    kl_rc rc = KL_OK;

    log->agile = is_agile(KL_BYTES(log->buf, log->len));
    if (!log->agile) {
        log->banks[0] = (kl_eventlog_bank){SHA1_TPM_ALG, SHA1_SIZE, true, KL_HASH_SHA1};
        log->nbanks = 1;
    }
    for (p->rec = 0; rc == KL_OK && kl_reader_left(&p->r) > 0; p->rec++) {
        if (!log->agile)
            rc = parse_legacy_record(p, false);
        else if (p->rec == 0)
            rc = parse_legacy_record(p, true);
        else
            rc = parse_record2(p);
    }
    if (rc != KL_OK)
        return rc;
    for (size_t i = 0, first = 0; i < log->count; i++) {
        log->events[i].digests = log->digests + first;
        first += log->events[i].ndigests;
    }
    return KL_OK;
}

kl_rc
kl_eventlog_parse(kl_eventlog **out, kl_bytes data)
{
    kl_eventlog *log = kl_calloc(1, sizeof(*log));
    parser p;
    kl_rc rc = KL_OK;

    *out = NULL;
    if (!log)
        return kl_err_set(KL_ENOMEM, "eventlog: out of memory");
    log->locality = -1;
    if (data.len > 0) {
        log->buf = kl_memdup(data.ptr, data.len);
        if (!log->buf) {
            rc = kl_err_set(KL_ENOMEM, "eventlog: out of memory");
            goto out;
        }
        log->len = data.len;
        memset(&p, 0, sizeof(p));
        p.log = log;
        p.r = kl_reader_make(KL_BYTES(log->buf, log->len));
        rc = parse_all(&p);
    }
out:
    if (rc != KL_OK) {
        kl_eventlog_free(log);
        return rc;
    }
    *out = log;
    return KL_OK;
}

void
kl_eventlog_free(kl_eventlog *log)
{
    if (!log)
        return;
    kl_free(log->buf);
    kl_free(log->events);
    kl_free(log->digests);
    kl_free(log);
}

bool
kl_eventlog_has_bank(const kl_eventlog *log, kl_hash_alg bank)
{
    uint16_t tpm_alg;

    return kl_eventlog_alg_to_tpm(bank, &tpm_alg) && find_bank(log, tpm_alg) != NULL;
}

size_t
kl_eventlog_count(const kl_eventlog *log)
{
    return log->count;
}

const kl_eventlog_event *
kl_eventlog_event_at(const kl_eventlog *log, size_t i)
{
    return &log->events[i];
}

bool
kl_eventlog_crypto_agile(const kl_eventlog *log)
{
    return log->agile;
}

const kl_eventlog_specid *
kl_eventlog_spec_id(const kl_eventlog *log)
{
    return log->agile ? &log->specid : NULL;
}

size_t
kl_eventlog_bank_count(const kl_eventlog *log)
{
    return log->count > 0 ? log->nbanks : 0;
}

const kl_eventlog_bank *
kl_eventlog_bank_at(const kl_eventlog *log, size_t i)
{
    return &log->banks[i];
}

int
kl_eventlog_startup_locality(const kl_eventlog *log)
{
    return log->locality;
}

bool
kl_eventlog_event_digest(const kl_eventlog_event *ev, uint16_t tpm_alg, kl_bytes *out)
{
    for (size_t i = 0; i < ev->ndigests; i++) {
        if (ev->digests[i].tpm_alg == tpm_alg) {
            *out = ev->digests[i].value;
            return true;
        }
    }
    return false;
}
