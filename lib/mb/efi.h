/* efi: the UEFI structures inside measured-boot events (UEFI spec 2.x,
 * TCG PC Client PFP): GUIDs, UEFI_VARIABLE_DATA, EFI_SIGNATURE_LIST and
 * EFI_SIGNATURE_DATA, UEFI_IMAGE_LOAD_EVENT, platform firmware blobs, the
 * GPT event and boot options. Everything is decoded from untrusted bytes
 * through kl_reader; views are borrowed from the event data.
 *
 * Where upstream Keylime sees these structures through tpm2_eventlog, the
 * decoding follows what tpm2-tools 5.4 does (noted per function), so that
 * the policy engines and the refstate generator see the same values.
 */
#ifndef KL_EFI_H
#define KL_EFI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/kl_buf.h"
#include "util/kl_err.h"

/* An EFI_GUID as text: lowercase, its first three fields little-endian
 * ("8be4df61-93ca-11d2-aa0d-00e098032b8c"); 36 characters and a NUL. */
#define KL_EFI_GUID_TEXT 37
void kl_efi_guid_format(const uint8_t guid[16], char out[KL_EFI_GUID_TEXT]);
/* The reverse (either case); false unless text is exactly a GUID. */
bool kl_efi_guid_parse(kl_bytes text, uint8_t out[16]);

/* Appends UTF-16LE text as UTF-8, stopping at the first NUL unit (a
 * trailing odd byte is ignored; unpaired surrogates become U+FFFD). */
KL_MUST_CHECK kl_rc kl_efi_utf16_append(kl_buf *out, kl_bytes utf16le);

/* UEFI_VARIABLE_DATA. */
typedef struct {
    uint8_t guid[16];
    uint64_t name_len; /* UnicodeNameLength, in characters */
    uint64_t data_len; /* VariableDataLength */
    kl_bytes name;     /* UTF-16LE, 2 * name_len bytes */
    kl_bytes data;     /* VariableData: data_len bytes, or fewer if the event ends first */
    kl_bytes rest;     /* everything after the name, to the end of the event */
} kl_efi_var;

/* KL_EPARSE unless the header and the name fit in ev. */
KL_MUST_CHECK kl_rc kl_efi_var_decode(kl_bytes ev, kl_efi_var *out);
/* Whether the name, up to its first NUL character, is the ASCII text. */
bool kl_efi_var_name_is(const kl_efi_var *v, const char *ascii);

/* EFI_SIGNATURE_LIST sequences (PK, KEK, db, dbx), walked as tpm2-tools
 * does: from the variable data to the end of the event, stopping at a list
 * header that does not fit or has SignatureSize < 16; a list whose size is
 * inconsistent, or whose signatures do not fit, ends the walk. */
typedef struct {
    kl_bytes region;
    size_t off;
    bool done;
} kl_efi_siglist_iter;

typedef struct {
    uint8_t type[16];
    uint32_t list_size, header_size, sig_size;
    size_t count;  /* signatures present (0: tpm2-tools shows no keys) */
    kl_bytes sigs; /* count * sig_size bytes */
} kl_efi_siglist;

/* EFI_SIGNATURE_DATA. */
typedef struct {
    uint8_t owner[16];
    kl_bytes data;
} kl_efi_sigdata;

void kl_efi_siglist_begin(kl_efi_siglist_iter *it, kl_bytes region);
/* The next list; false at the end. */
bool kl_efi_siglist_next(kl_efi_siglist_iter *it, kl_efi_siglist *out);
/* Signature i < l->count. */
void kl_efi_siglist_sig(const kl_efi_siglist *l, size_t i, kl_efi_sigdata *out);
/* One EFI_SIGNATURE_DATA filling b (KL_EPARSE if shorter than the owner). */
KL_MUST_CHECK kl_rc kl_efi_sigdata_decode(kl_bytes b, kl_efi_sigdata *out);

/* UEFI_IMAGE_LOAD_EVENT (KL_EPARSE under 32 bytes); dp is what follows
 * the header, whatever LengthOfDevicePath says. */
typedef struct {
    uint64_t location, length, link_time_address, dp_length;
    kl_bytes dp;
} kl_efi_image_load;
KL_MUST_CHECK kl_rc kl_efi_image_load_decode(kl_bytes ev, kl_efi_image_load *out);

/* UEFI_PLATFORM_FIRMWARE_BLOB (KL_EPARSE under 16 bytes). */
typedef struct {
    uint64_t base, length;
} kl_efi_blob;
KL_MUST_CHECK kl_rc kl_efi_blob_decode(kl_bytes ev, kl_efi_blob *out);

/* UEFI_PLATFORM_FIRMWARE_BLOB2: description size, description, blob. */
typedef struct {
    kl_bytes description;
    kl_efi_blob blob;
} kl_efi_blob2;
KL_MUST_CHECK kl_rc kl_efi_blob2_decode(kl_bytes ev, kl_efi_blob2 *out);

/* UEFI_GPT_DATA: the partition table header, then NumberOfPartitions
 * entries of 128 bytes. tpm2-tools fails a log unless the event is exactly
 * that long; so does this (KL_EPARSE). */
typedef struct {
    kl_bytes signature; /* 8 bytes */
    uint32_t revision, header_size, header_crc32;
    uint64_t my_lba, alternate_lba, first_usable_lba, last_usable_lba;
    uint8_t disk_guid[16];
    uint64_t entry_lba;
    uint32_t entry_count, entry_size, entries_crc32;
    uint64_t partitions;
    kl_bytes entries; /* partitions * 128 bytes */
} kl_efi_gpt;

typedef struct {
    uint8_t type_guid[16], unique_guid[16];
    uint64_t starting_lba, ending_lba, attributes;
    kl_bytes name; /* UTF-16LE, 72 bytes */
} kl_efi_gpt_entry;

KL_MUST_CHECK kl_rc kl_efi_gpt_decode(kl_bytes ev, kl_efi_gpt *out);
void kl_efi_gpt_entry_at(const kl_efi_gpt *g, size_t i, kl_efi_gpt_entry *out);

/* EFI_LOAD_OPTION (Boot####): attributes, FilePathListLength, the
 * description (UTF-16LE, without its NUL) and what follows it. */
typedef struct {
    uint32_t attributes;
    uint16_t file_path_list_length;
    kl_bytes description;
    kl_bytes rest;
} kl_efi_load_option;
/* KL_EPARSE when the fixed part does not fit; a description without a
 * terminating NUL takes the whole rest. */
KL_MUST_CHECK kl_rc kl_efi_load_option_decode(kl_bytes data, kl_efi_load_option *out);

/* The StartupLocality EV_NO_ACTION payload: "StartupLocality\0" and the
 * locality byte. */
bool kl_efi_startup_locality(kl_bytes ev, uint8_t *locality);

/* The checks on event data after which tpm2_eventlog (as upstream Keylime
 * runs it) fails the whole log. KL_OK, or KL_EPARSE with a reason (no
 * location; the caller adds it). */
KL_MUST_CHECK kl_rc kl_efi_event_check(uint32_t type, kl_bytes ev);

#endif
