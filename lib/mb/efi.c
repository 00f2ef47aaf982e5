#include "mb/efi.h"

#include <stdio.h>
#include <string.h>

#include "mb/eventlog.h"
#include "util/kl_hex.h"
#include "util/kl_reader.h"

#define VAR_HEADER 32      /* GUID, UnicodeNameLength, VariableDataLength */
#define SIGLIST_HEADER 28  /* GUID, three u32 */
#define GUID_SIZE 16
#define IMAGE_LOAD_HEADER 32
#define BLOB_SIZE 16
#define GPT_HEADER 92
#define GPT_DATA_HEADER (GPT_HEADER + 8)
#define GPT_ENTRY 128

static uint32_t
le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t
le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint64_t
le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

void
kl_efi_guid_format(const uint8_t g[16], char out[KL_EFI_GUID_TEXT])
{
    snprintf(out, KL_EFI_GUID_TEXT, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             (unsigned)le32(g), (unsigned)le16(g + 4), (unsigned)le16(g + 6), g[8], g[9], g[10],
             g[11], g[12], g[13], g[14], g[15]);
}

/* Decodes n hex digits of text at *pos into a big-endian value. */
static bool
hex_field(kl_bytes text, size_t *pos, size_t n, uint64_t *v)
{
    *v = 0;
    if (*pos + n > text.len)
        return false;
    for (size_t i = 0; i < n; i++) {
        int d = kl_hex_digit(text.ptr[*pos + i]);

        if (d < 0)
            return false;
        *v = *v << 4 | (uint64_t)d;
    }
    *pos += n;
    return true;
}

bool
kl_efi_guid_parse(kl_bytes text, uint8_t out[16])
{
    static const size_t widths[5] = {8, 4, 4, 4, 12};
    uint64_t f[5];
    size_t pos = 0;

    if (text.len != 36)
        return false;
    for (size_t i = 0; i < 5; i++) {
        if (i > 0 && text.ptr[pos++] != '-')
            return false;
        if (!hex_field(text, &pos, widths[i], &f[i]))
            return false;
    }
    for (int i = 0; i < 4; i++)
        out[i] = (uint8_t)(f[0] >> (8 * i));
    for (int i = 0; i < 2; i++) {
        out[4 + i] = (uint8_t)(f[1] >> (8 * i));
        out[6 + i] = (uint8_t)(f[2] >> (8 * i));
    }
    out[8] = (uint8_t)(f[3] >> 8);
    out[9] = (uint8_t)f[3];
    for (int i = 0; i < 6; i++)
        out[10 + i] = (uint8_t)(f[4] >> (8 * (5 - i)));
    return true;
}

static kl_rc
put_utf8(kl_buf *out, uint32_t cp)
{
    uint8_t b[4];
    size_t n;

    if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xc0 | cp >> 6);
        b[1] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xe0 | cp >> 12);
        b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        b[2] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (uint8_t)(0xf0 | cp >> 18);
        b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
        b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        b[3] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return kl_buf_append(out, b, n);
}

kl_rc
kl_efi_utf16_append(kl_buf *out, kl_bytes s)
{
    kl_rc rc = KL_OK;

    for (size_t i = 0; rc == KL_OK && i + 1 < s.len; i += 2) {
        uint32_t u = le16(s.ptr + i);

        if (u == 0)
            break;
        if (u >= 0xd800 && u < 0xdc00 && i + 3 < s.len) {
            uint32_t lo = le16(s.ptr + i + 2);

            if (lo >= 0xdc00 && lo < 0xe000) {
                rc = put_utf8(out, 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00));
                i += 2;
                continue;
            }
        }
        if (u >= 0xd800 && u < 0xe000)
            u = 0xfffd;
        rc = put_utf8(out, u);
    }
    return rc;
}

kl_rc
kl_efi_var_decode(kl_bytes ev, kl_efi_var *out)
{
    kl_reader r = kl_reader_make(ev);
    kl_bytes guid;
    size_t left;

    memset(out, 0, sizeof(*out));
    if (kl_reader_bytes(&r, GUID_SIZE, &guid) != KL_OK ||
        kl_reader_u64le(&r, &out->name_len) != KL_OK ||
        kl_reader_u64le(&r, &out->data_len) != KL_OK)
        return kl_err_set(KL_EPARSE, "UEFI_VARIABLE_DATA needs %d bytes, the event has %zu",
                          VAR_HEADER, ev.len);
    memcpy(out->guid, guid.ptr, GUID_SIZE);
    left = kl_reader_left(&r);
    if (out->name_len > left / 2)
        return kl_err_set(KL_EPARSE, "variable name of %llu characters does not fit in %zu bytes",
                          (unsigned long long)out->name_len, left);
    if (kl_reader_bytes(&r, (size_t)out->name_len * 2, &out->name) != KL_OK)
        return KL_EPARSE;
    left = kl_reader_left(&r);
    out->rest = KL_BYTES(ev.ptr + r.off, left);
    out->data = KL_BYTES(out->rest.ptr, out->data_len < left ? (size_t)out->data_len : left);
    return KL_OK;
}

bool
kl_efi_var_name_is(const kl_efi_var *v, const char *ascii)
{
    size_t i = 0;

    for (; i + 1 < v->name.len; i += 2) {
        uint16_t u = le16(v->name.ptr + i);

        if (u == 0)
            break;
        if (ascii[i / 2] == '\0' || u != (uint8_t)ascii[i / 2])
            return false;
    }
    return ascii[i / 2] == '\0';
}

void
kl_efi_siglist_begin(kl_efi_siglist_iter *it, kl_bytes region)
{
    it->region = region;
    it->off = 0;
    it->done = false;
}

bool
kl_efi_siglist_next(kl_efi_siglist_iter *it, kl_efi_siglist *out)
{
    const uint8_t *p;
    size_t len = it->region.len, sigs_at, fit;
    int64_t span;
    int32_t sigbytes;

    if (it->done || it->off >= len || len - it->off < SIGLIST_HEADER) {
        it->done = true;
        return false;
    }
    p = it->region.ptr + it->off;
    memset(out, 0, sizeof(*out));
    memcpy(out->type, p, GUID_SIZE);
    out->list_size = le32(p + 16);
    out->header_size = le32(p + 20);
    out->sig_size = le32(p + 24);
    if (out->sig_size < GUID_SIZE) {
        it->done = true;
        return false;
    }
    /* From here on tpm2-tools shows the list, with its keys only when the
     * rest is consistent. */
    it->done = true;
    if ((uint64_t)it->off + SIGLIST_HEADER + out->header_size + out->sig_size > len)
        return true;
    sigs_at = it->off + SIGLIST_HEADER + out->header_size;
    /* tpm2-tools computes the byte count in an int */
    span = (int64_t)out->list_size - SIGLIST_HEADER - (int64_t)out->header_size;
    sigbytes = (int32_t)(uint32_t)span;
    if (sigbytes < 0 || (uint32_t)sigbytes % out->sig_size != 0)
        return true;
    out->count = (uint32_t)sigbytes / out->sig_size;
    fit = (len - sigs_at) / out->sig_size;
    if (out->count > fit) {
        out->count = fit;
    } else {
        it->off = sigs_at + out->count * out->sig_size;
        it->done = false;
    }
    out->sigs = KL_BYTES(it->region.ptr + sigs_at, out->count * out->sig_size);
    return true;
}

void
kl_efi_siglist_sig(const kl_efi_siglist *l, size_t i, kl_efi_sigdata *out)
{
    const uint8_t *p = l->sigs.ptr + i * l->sig_size;

    memcpy(out->owner, p, GUID_SIZE);
    out->data = KL_BYTES(p + GUID_SIZE, l->sig_size - GUID_SIZE);
}

kl_rc
kl_efi_sigdata_decode(kl_bytes b, kl_efi_sigdata *out)
{
    if (b.len < GUID_SIZE)
        return kl_err_set(KL_EPARSE, "EFI_SIGNATURE_DATA of %zu bytes lacks its owner", b.len);
    memcpy(out->owner, b.ptr, GUID_SIZE);
    out->data = KL_BYTES(b.ptr + GUID_SIZE, b.len - GUID_SIZE);
    return KL_OK;
}

kl_rc
kl_efi_image_load_decode(kl_bytes ev, kl_efi_image_load *out)
{
    if (ev.len < IMAGE_LOAD_HEADER)
        return kl_err_set(KL_EPARSE, "UEFI_IMAGE_LOAD_EVENT needs %d bytes, the event has %zu",
                          IMAGE_LOAD_HEADER, ev.len);
    out->location = le64(ev.ptr);
    out->length = le64(ev.ptr + 8);
    out->link_time_address = le64(ev.ptr + 16);
    out->dp_length = le64(ev.ptr + 24);
    out->dp = KL_BYTES(ev.ptr + IMAGE_LOAD_HEADER, ev.len - IMAGE_LOAD_HEADER);
    return KL_OK;
}

kl_rc
kl_efi_blob_decode(kl_bytes ev, kl_efi_blob *out)
{
    if (ev.len < BLOB_SIZE)
        return kl_err_set(KL_EPARSE, "UEFI_PLATFORM_FIRMWARE_BLOB needs %d bytes, the event has %zu",
                          BLOB_SIZE, ev.len);
    out->base = le64(ev.ptr);
    out->length = le64(ev.ptr + 8);
    return KL_OK;
}

kl_rc
kl_efi_blob2_decode(kl_bytes ev, kl_efi_blob2 *out)
{
    size_t n = ev.len ? ev.ptr[0] : 0;

    if (ev.len < 1 + n + BLOB_SIZE)
        return kl_err_set(KL_EPARSE, "UEFI_PLATFORM_FIRMWARE_BLOB2 with a %zu-byte description "
                                     "needs %zu bytes, the event has %zu",
                          n, 1 + n + BLOB_SIZE, ev.len);
    out->description = KL_BYTES(ev.ptr + 1, n);
    return kl_efi_blob_decode(KL_BYTES(ev.ptr + 1 + n, BLOB_SIZE), &out->blob);
}

kl_rc
kl_efi_gpt_decode(kl_bytes ev, kl_efi_gpt *out)
{
    const uint8_t *p = ev.ptr;

    if (ev.len < GPT_DATA_HEADER)
        return kl_err_set(KL_EPARSE, "UEFI_GPT_DATA needs %d bytes, the event has %zu",
                          GPT_DATA_HEADER, ev.len);
    out->signature = KL_BYTES(p, 8);
    out->revision = le32(p + 8);
    out->header_size = le32(p + 12);
    out->header_crc32 = le32(p + 16);
    out->my_lba = le64(p + 24);
    out->alternate_lba = le64(p + 32);
    out->first_usable_lba = le64(p + 40);
    out->last_usable_lba = le64(p + 48);
    memcpy(out->disk_guid, p + 56, GUID_SIZE);
    out->entry_lba = le64(p + 72);
    out->entry_count = le32(p + 80);
    out->entry_size = le32(p + 84);
    out->entries_crc32 = le32(p + 88);
    out->partitions = le64(p + GPT_HEADER);
    if (out->partitions > (ev.len - GPT_DATA_HEADER) / GPT_ENTRY)
        return kl_err_set(KL_EPARSE, "GPT event of %zu bytes cannot hold %llu partitions", ev.len,
                          (unsigned long long)out->partitions);
    if (ev.len - GPT_DATA_HEADER != out->partitions * GPT_ENTRY)
        return kl_err_set(KL_EPARSE, "GPT event has %zu bytes after its %llu partitions",
                          (size_t)(ev.len - GPT_DATA_HEADER - out->partitions * GPT_ENTRY),
                          (unsigned long long)out->partitions);
    out->entries = KL_BYTES(p + GPT_DATA_HEADER, (size_t)out->partitions * GPT_ENTRY);
    return KL_OK;
}

void
kl_efi_gpt_entry_at(const kl_efi_gpt *g, size_t i, kl_efi_gpt_entry *out)
{
    const uint8_t *p = g->entries.ptr + i * GPT_ENTRY;

    memcpy(out->type_guid, p, GUID_SIZE);
    memcpy(out->unique_guid, p + 16, GUID_SIZE);
    out->starting_lba = le64(p + 32);
    out->ending_lba = le64(p + 40);
    out->attributes = le64(p + 48);
    out->name = KL_BYTES(p + 56, 72);
}

kl_rc
kl_efi_load_option_decode(kl_bytes data, kl_efi_load_option *out)
{
    size_t i = 6;

    if (data.len < 6)
        return kl_err_set(KL_EPARSE, "EFI_LOAD_OPTION needs 6 bytes, the variable has %zu",
                          data.len);
    out->attributes = le32(data.ptr);
    out->file_path_list_length = le16(data.ptr + 4);
    while (i + 1 < data.len && le16(data.ptr + i) != 0)
        i += 2;
    out->description = KL_BYTES(data.ptr + 6, i - 6);
    i = i + 2 <= data.len ? i + 2 : data.len;
    out->rest = KL_BYTES(data.ptr + i, data.len - i);
    return KL_OK;
}

bool
kl_efi_startup_locality(kl_bytes ev, uint8_t *locality)
{
    static const char sig[16] = "StartupLocality";

    if (ev.len < sizeof(sig) + 1 || memcmp(ev.ptr, sig, sizeof(sig)) != 0)
        return false;
    *locality = ev.ptr[sizeof(sig)];
    return true;
}

/* The variable checks: the structure must fit (all variable event types
 * tpm2_eventlog checks), and the few values its YAML output refuses. */
static kl_rc
check_var(uint32_t type, kl_bytes ev)
{
    kl_efi_var v;
    kl_rc rc = kl_efi_var_decode(ev, &v);

    if (rc != KL_OK)
        return rc;
    if (type != KL_EV_EFI_VARIABLE_BOOT2 && v.data_len > v.rest.len)
        return kl_err_set(KL_EPARSE, "variable data of %llu bytes does not fit in %zu bytes",
                          (unsigned long long)v.data_len, v.rest.len);
    if (type == KL_EV_EFI_VARIABLE_DRIVER_CONFIG && kl_efi_var_name_is(&v, "SecureBoot") &&
        v.data_len > 1)
        return kl_err_set(KL_EPARSE, "SecureBoot value of %llu bytes (at most 1)",
                          (unsigned long long)v.data_len);
    if (type == KL_EV_EFI_VARIABLE_AUTHORITY && kl_efi_var_name_is(&v, "MokListTrusted") &&
        v.data_len > 1)
        return kl_err_set(KL_EPARSE, "MokListTrusted value of %llu bytes (at most 1)",
                          (unsigned long long)v.data_len);
    if (type == KL_EV_EFI_VARIABLE_AUTHORITY &&
        (kl_efi_var_name_is(&v, "db") || kl_efi_var_name_is(&v, "Shim")) && v.data_len < GUID_SIZE)
        return kl_err_set(KL_EPARSE, "authority of %llu bytes lacks its signature owner",
                          (unsigned long long)v.data_len);
    if ((type == KL_EV_EFI_VARIABLE_BOOT || type == KL_EV_EFI_VARIABLE_BOOT2) &&
        kl_efi_var_name_is(&v, "BootOrder") && v.data_len % 2 != 0)
        return kl_err_set(KL_EPARSE, "BootOrder of %llu bytes (not a multiple of 2)",
                          (unsigned long long)v.data_len);
    return KL_OK;
}

kl_rc
kl_efi_event_check(uint32_t type, kl_bytes ev)
{
    kl_efi_image_load il;
    kl_efi_blob blob;
    kl_efi_gpt gpt;

    switch (type) {
    case KL_EV_EFI_VARIABLE_DRIVER_CONFIG:
    case KL_EV_EFI_VARIABLE_BOOT:
    case KL_EV_EFI_VARIABLE_AUTHORITY:
        return check_var(type, ev);
    case KL_EV_EFI_VARIABLE_BOOT2:
        return ev.len == 0 ? KL_OK : check_var(type, ev);
    case KL_EV_S_CRTM_CONTENTS:
    case KL_EV_EFI_PLATFORM_FIRMWARE_BLOB:
        return kl_efi_blob_decode(ev, &blob);
    case KL_EV_EFI_BOOT_SERVICES_APPLICATION:
    case KL_EV_EFI_BOOT_SERVICES_DRIVER:
    case KL_EV_EFI_RUNTIME_SERVICES_DRIVER:
        return kl_efi_image_load_decode(ev, &il);
    case KL_EV_EFI_GPT_EVENT:
        return ev.len == 0 ? KL_OK : kl_efi_gpt_decode(ev, &gpt);
    default:
        return KL_OK;
    }
}
