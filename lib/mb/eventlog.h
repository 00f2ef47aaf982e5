/* eventlog: the UEFI (TCG PC Client, crypto-agile) event log of measured
 * boot, as /sys/kernel/security/tpm0/binary_bios_measurements holds it.
 *
 * The first record is a TCG_PCR_EVENT carrying the "Spec ID Event03" (the
 * banks and their digest sizes); every later record is a TCG_PCR_EVENT2.
 * Parsing is bounded and never casts structures over the input.
 */
#ifndef KL_EVENTLOG_H
#define KL_EVENTLOG_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/hash.h"
#include "tpm/pcr.h"
#include "util/kl_buf.h"
#include "util/kl_err.h"

typedef struct kl_eventlog kl_eventlog;

/* Parses a binary log. An empty input is a valid log with no events.
 * KL_EPARSE with the reason (record number and offset). The log borrows
 * nothing from data. Besides the TCG structure, the checks tpm2_eventlog
 * fails a log on are applied (upstream Keylime rejects such logs): PCR
 * index > 23, variable, image-load and firmware-blob events too short for
 * their structure, a SecureBoot or MokListTrusted value longer than one
 * byte, an odd-sized BootOrder, a db or Shim authority shorter than a
 * signature owner, a GPT event whose size does not match its partitions.
 * A digest of an algorithm the Spec ID event does not declare, or twice
 * the same algorithm in one record, is an error too. */
KL_MUST_CHECK kl_rc kl_eventlog_parse(kl_eventlog **out, kl_bytes data);
void kl_eventlog_free(kl_eventlog *log);

/* Whether the log has digests of this bank. */
bool kl_eventlog_has_bank(const kl_eventlog *log, kl_hash_alg bank);

/* Replays the log into PCR values, following the TCG spec: EV_NO_ACTION
 * is never extended; a StartupLocality record sets PCR 0's initial value
 * (zeros, last byte = locality). out->present marks the PCRs that received
 * at least one event (as tpm2_eventlog lists them). KL_ENOTFOUND when the
 * log lacks the bank. */
KL_MUST_CHECK kl_rc kl_eventlog_replay(const kl_eventlog *log, kl_hash_alg bank, kl_pcr_set *out);

/* The boot aggregates upstream allows for boot_aggregate: for every bank
 * in the log, H(PCR0..PCR7) and H(PCR0..PCR9) of the replayed values, a
 * variant left out when one of its PCRs received no event. Appended as
 * lowercase hex strings, NUL-separated (each one followed by a NUL), banks
 * in the order sha1, sha256, sha384, sha512, 0-7 before 0-9 in a bank. */
KL_MUST_CHECK kl_rc kl_eventlog_boot_aggregates(const kl_eventlog *log, kl_buf *out);

/* ---- Access to the records (for the policy engines and the refstate
 * generator). Everything returned is borrowed from the log. ---- */

/* Event types (TCG PC Client Platform Firmware Profile). */
enum {
    KL_EV_PREBOOT_CERT = 0x0,
    KL_EV_POST_CODE = 0x1,
    KL_EV_UNUSED = 0x2,
    KL_EV_NO_ACTION = 0x3,
    KL_EV_SEPARATOR = 0x4,
    KL_EV_ACTION = 0x5,
    KL_EV_EVENT_TAG = 0x6,
    KL_EV_S_CRTM_CONTENTS = 0x7,
    KL_EV_S_CRTM_VERSION = 0x8,
    KL_EV_CPU_MICROCODE = 0x9,
    KL_EV_PLATFORM_CONFIG_FLAGS = 0xa,
    KL_EV_TABLE_OF_DEVICES = 0xb,
    KL_EV_COMPACT_HASH = 0xc,
    KL_EV_IPL = 0xd,
    KL_EV_IPL_PARTITION_DATA = 0xe,
    KL_EV_NONHOST_CODE = 0xf,
    KL_EV_NONHOST_CONFIG = 0x10,
    KL_EV_NONHOST_INFO = 0x11,
    KL_EV_OMIT_BOOT_DEVICE_EVENTS = 0x12,
    KL_EV_EFI_VARIABLE_DRIVER_CONFIG = 0x80000001,
    KL_EV_EFI_VARIABLE_BOOT = 0x80000002,
    KL_EV_EFI_BOOT_SERVICES_APPLICATION = 0x80000003,
    KL_EV_EFI_BOOT_SERVICES_DRIVER = 0x80000004,
    KL_EV_EFI_RUNTIME_SERVICES_DRIVER = 0x80000005,
    KL_EV_EFI_GPT_EVENT = 0x80000006,
    KL_EV_EFI_ACTION = 0x80000007,
    KL_EV_EFI_PLATFORM_FIRMWARE_BLOB = 0x80000008,
    KL_EV_EFI_HANDOFF_TABLES = 0x80000009,
    KL_EV_EFI_PLATFORM_FIRMWARE_BLOB2 = 0x8000000a,
    KL_EV_EFI_HANDOFF_TABLES2 = 0x8000000b,
    KL_EV_EFI_VARIABLE_BOOT2 = 0x8000000c,
    KL_EV_EFI_HCRTM_EVENT = 0x80000010,
    KL_EV_EFI_VARIABLE_AUTHORITY = 0x800000e0,
    KL_EV_EFI_SPDM_FIRMWARE_BLOB = 0x800000e1,
};

/* The TCG name of an event type ("EV_IPL"); NULL when unknown. */
const char *kl_eventlog_type_name(uint32_t type);

#define KL_EVENTLOG_MAX_BANKS 16

/* A bank the log declares (Spec ID event order); hashable when it is one
 * of kl_hash_alg's (then alg is set). */
typedef struct {
    uint16_t tpm_alg;
    uint16_t size;
    bool hashable;
    kl_hash_alg alg;
} kl_eventlog_bank;

/* The Spec ID event's fields (crypto-agile logs only). */
typedef struct {
    uint32_t platform_class;
    uint8_t version_minor, version_major, errata, uintn_size;
    kl_bytes vendor_info;
} kl_eventlog_specid;

typedef struct {
    uint16_t tpm_alg;
    kl_bytes value;
} kl_eventlog_digest;

/* One record. In a crypto-agile log, record 0 is the Spec ID header (a
 * TCG_PCR_EVENT: EV_NO_ACTION on PCR 0; its SHA-1 digest field is its one
 * digest); the others are TCG_PCR_EVENT2. In an old SHA-1 log every record
 * is a TCG_PCR_EVENT with one SHA-1 digest. */
typedef struct {
    size_t num;    /* record number, 0-based (tpm2_eventlog's EventNum) */
    size_t offset; /* byte offset of the record in the log */
    uint32_t pcr;
    uint32_t type;
    size_t ndigests;
    const kl_eventlog_digest *digests;
    kl_bytes data; /* the event data */
} kl_eventlog_event;

/* Records, the Spec ID header included (0 for an empty log). */
size_t kl_eventlog_count(const kl_eventlog *log);
/* Record i < count. */
const kl_eventlog_event *kl_eventlog_event_at(const kl_eventlog *log, size_t i);
/* Whether the log is crypto-agile (has the Spec ID header). */
bool kl_eventlog_crypto_agile(const kl_eventlog *log);
/* The Spec ID fields; NULL unless crypto-agile. */
const kl_eventlog_specid *kl_eventlog_spec_id(const kl_eventlog *log);
size_t kl_eventlog_bank_count(const kl_eventlog *log);
const kl_eventlog_bank *kl_eventlog_bank_at(const kl_eventlog *log, size_t i);
/* The locality of a StartupLocality record, or -1 when there is none. */
int kl_eventlog_startup_locality(const kl_eventlog *log);
/* The digest of bank tpm_alg in a record; false when it has none. */
bool kl_eventlog_event_digest(const kl_eventlog_event *ev, uint16_t tpm_alg, kl_bytes *out);
/* TPM_ALG_ID of a hash and back (sha1, sha256, sha384, sha512, sm3_256). */
bool kl_eventlog_alg_to_tpm(kl_hash_alg alg, uint16_t *tpm_alg);
bool kl_eventlog_alg_from_tpm(uint16_t tpm_alg, kl_hash_alg *alg);

#endif
