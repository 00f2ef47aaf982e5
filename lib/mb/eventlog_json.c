#include "mb/eventlog_json.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json/json.h"
#include "mb/devpath.h"
#include "mb/efi.h"
#include "util/kl_alloc.h"
#include "util/kl_hex.h"

/* tpm2-tools prints at most this many bytes of an event as hex (its
 * 2049-character buffer). */
#define HEX_EVENT_MAX 1024
#define GUID_SIZE 16

/* A builder: once rc is set, every call does nothing (and frees what it
 * was given), so that the code below can read top to bottom. */
typedef struct {
    kl_rc rc;
} jb;

static json_t *
check(jb *b, json_t *v)
{
    if (!v && b->rc == KL_OK)
        b->rc = kl_err_set(KL_ENOMEM, "eventlog: out of memory");
    return v;
}

static void
put(jb *b, json_t *obj, const char *key, json_t *v)
{
    if (b->rc != KL_OK || !check(b, v)) {
        json_decref(v);
        return;
    }
    if (json_object_set_new(obj, key, v) != 0)
        b->rc = kl_err_set(KL_ENOMEM, "eventlog: out of memory");
}

static void
append(jb *b, json_t *arr, json_t *v)
{
    if (b->rc != KL_OK || !check(b, v)) {
        json_decref(v);
        return;
    }
    if (json_array_append_new(arr, v) != 0)
        b->rc = kl_err_set(KL_ENOMEM, "eventlog: out of memory");
}

/* Python ints are unbounded; jansson's are signed 64-bit. */
static json_t *
j_u64(uint64_t v)
{
    char text[24];

    if (v <= INT64_MAX)
        return json_integer((json_int_t)v);
    snprintf(text, sizeof(text), "%" PRIu64, v);
    return json_string(text);
}

static json_t *
j_hex(kl_bytes b, size_t max)
{
    size_t n = b.len < max ? b.len : max;
    char *s = kl_malloc(2 * n + 1);
    json_t *j;

    if (!s)
        return NULL;
    kl_hex_encode(s, b.ptr, n);
    j = json_stringn(s, 2 * n);
    kl_free(s);
    return j;
}

static json_t *
j_guid(const uint8_t *g)
{
    char text[KL_EFI_GUID_TEXT];

    kl_efi_guid_format(g, text);
    return json_string(text);
}

static json_t *
j_utf16(kl_bytes b)
{
    kl_buf t;
    json_t *j = NULL;

    kl_buf_init(&t, b.len * 2 + 16);
    if (kl_efi_utf16_append(&t, b) == KL_OK)
        j = kl_json_string_lossy(kl_buf_bytes(&t));
    kl_buf_free(&t);
    return j;
}

/* Text printed with "%.*s": up to the first NUL. */
static json_t *
j_cstr(kl_bytes b)
{
    const uint8_t *nul = memchr(b.ptr, 0, b.len);

    return kl_json_string_lossy(KL_BYTES(b.ptr, nul ? (size_t)(nul - b.ptr) : b.len));
}

/* tpm2-tools' yaml_split_escape_string as a YAML literal block: each line
 * quoted and escaped, lines joined with newlines. */
static json_t *
j_escaped_lines(kl_bytes b)
{
    static const char from[] = "\0\a\b\t\v\f\r\x1b'\\";
    static const char to[] = "0abtvfre'\\";
    kl_buf t;
    json_t *j = NULL;
    kl_rc rc = KL_OK;
    size_t i = 0;

    kl_buf_init(&t, b.len * 3 + 16);
    do {
        const uint8_t *nl = memchr(b.ptr + i, '\n', b.len - i);
        size_t len = nl ? (size_t)(nl - (b.ptr + i)) : b.len - i;

        if (i > 0)
            rc = kl_buf_append_byte(&t, '\n');
        if (rc == KL_OK)
            rc = kl_buf_append_byte(&t, '"');
        for (size_t k = i; rc == KL_OK && k < i + len; k++) {
            const char *e = memchr(from, b.ptr[k], sizeof(from) - 1);

            if (e)
                rc = kl_buf_append_byte(&t, '\\') == KL_OK
                         ? kl_buf_append_byte(&t, (uint8_t)to[e - from])
                         : KL_ENOMEM;
            else
                rc = kl_buf_append_byte(&t, b.ptr[k]);
        }
        if (rc == KL_OK)
            rc = kl_buf_append_byte(&t, '"');
        i += len + 1;
    } while (rc == KL_OK && i < b.len);
    if (rc == KL_OK)
        j = kl_json_string_lossy(kl_buf_bytes(&t));
    kl_buf_free(&t);
    return j;
}

/* The 5.4 names; later types print as "Unknown event type". */
static const char *
type_name(uint32_t type)
{
    if (type == KL_EV_EFI_HCRTM_EVENT || type == KL_EV_EFI_SPDM_FIRMWARE_BLOB)
        return "Unknown event type";
    const char *n = kl_eventlog_type_name(type);
    return n ? n : "Unknown event type";
}

static const char *
alg_name(uint16_t tpm_alg)
{
    switch (tpm_alg) {
    case 0x0004: return "sha1";
    case 0x000b: return "sha256";
    case 0x000c: return "sha384";
    case 0x000d: return "sha512";
    case 0x0012: return "sm3_256";
    case 0x0027: return "sha3_256";
    case 0x0028: return "sha3_384";
    case 0x0029: return "sha3_512";
    default: return "(null)";
    }
}

static json_t *
j_blob(jb *b, const kl_efi_blob *blob)
{
    json_t *o = check(b, json_object());

    put(b, o, "BlobBase", j_u64(blob->base));
    put(b, o, "BlobLength", j_u64(blob->length));
    return o;
}

static json_t *
ev_siglists(jb *b, const kl_efi_var *v)
{
    json_t *arr = check(b, json_array());
    kl_efi_siglist_iter it;
    kl_efi_siglist l;

    kl_efi_siglist_begin(&it, v->rest);
    while (b->rc == KL_OK && kl_efi_siglist_next(&it, &l)) {
        json_t *o = check(b, json_object()), *keys = NULL;

        put(b, o, "SignatureType", j_guid(l.type));
        put(b, o, "SignatureListSize", json_integer(l.list_size));
        put(b, o, "SignatureHeaderSize", json_integer(l.header_size));
        put(b, o, "SignatureSize", json_integer(l.sig_size));
        if (l.count > 0)
            keys = check(b, json_array());
        for (size_t i = 0; b->rc == KL_OK && i < l.count; i++) {
            kl_efi_sigdata s;
            json_t *k = check(b, json_object());

            kl_efi_siglist_sig(&l, i, &s);
            put(b, k, "SignatureOwner", j_guid(s.owner));
            put(b, k, "SignatureData", j_hex(s.data, SIZE_MAX));
            append(b, keys, k);
        }
        put(b, o, "Keys", keys ? keys : json_null());
        append(b, arr, o);
    }
    if (b->rc == KL_OK && json_array_size(arr) == 0) {
        json_decref(arr);
        return json_null();
    }
    return arr;
}

static json_t *
j_enabled(jb *b, bool yes)
{
    json_t *o = check(b, json_object());

    put(b, o, "Enabled", json_string(yes ? "Yes" : "No"));
    return o;
}

/* One EFI_SIGNATURE_DATA as {"SignatureOwner", "SignatureData"}. */
static json_t *
j_sig(jb *b, const uint8_t *owner, kl_bytes data)
{
    json_t *o = check(b, json_object());

    put(b, o, "SignatureOwner", j_guid(owner));
    put(b, o, "SignatureData", j_hex(data, SIZE_MAX));
    return o;
}

/* tpm_bootlog_enrich's vendor_db reading: GUIDs each followed, within 100
 * bytes, by a DER certificate (30 82 len). NULL when nothing is found. */
static json_t *
enrich_vendor_db(jb *b, kl_bytes d)
{
    json_t *arr = NULL;
    size_t off = 0;

    while (b->rc == KL_OK && off < d.len && off + GUID_SIZE < d.len) {
        size_t end = off + GUID_SIZE + 100, cs = 0, ce;
        bool found = false;

        if (end > d.len - 2)
            end = d.len - 2;
        for (size_t i = off + GUID_SIZE; i < end; i++) {
            if (d.ptr[i] == 0x30 && d.ptr[i + 1] == 0x82) {
                cs = i;
                found = true;
                break;
            }
        }
        if (!found || cs + 4 > d.len)
            break;
        ce = cs + 4 + ((size_t)d.ptr[cs + 2] << 8 | d.ptr[cs + 3]);
        if (ce > d.len)
            break;
        if (!arr)
            arr = check(b, json_array());
        append(b, arr,
               j_sig(b, d.ptr + off, KL_BYTES(d.ptr + off + GUID_SIZE, ce - off - GUID_SIZE)));
        off = ce;
    }
    return arr;
}

static bool
is_boot_option_name(const char *name)
{
    return strlen(name) == 8 && strncmp(name, "Boot", 4) == 0 && isxdigit((unsigned char)name[4]) &&
           isxdigit((unsigned char)name[5]) && isxdigit((unsigned char)name[6]) &&
           isxdigit((unsigned char)name[7]);
}

static json_t *
j_boot_option(jb *b, kl_bytes data)
{
    kl_efi_load_option lo;
    json_t *o;

    if (kl_efi_load_option_decode(data, &lo) != KL_OK)
        return j_hex(data, SIZE_MAX);
    o = check(b, json_object());
    put(b, o, "Enabled", json_string(lo.attributes & 1 ? "Yes" : "No"));
    put(b, o, "FilePathListLength", json_integer(lo.file_path_list_length));
    put(b, o, "Description", j_utf16(lo.description));
    put(b, o, "DevicePath", j_hex(lo.rest, SIZE_MAX));
    return o;
}

static json_t *
j_boot_order(jb *b, kl_bytes data)
{
    json_t *arr;

    if (data.len < 2)
        return json_null();
    arr = check(b, json_array());
    for (size_t i = 0; b->rc == KL_OK && i + 1 < data.len; i += 2) {
        char name[16];

        snprintf(name, sizeof(name), "Boot%04x", (unsigned)(data.ptr[i] | data.ptr[i + 1] << 8));
        append(b, arr, json_string(name));
    }
    return arr;
}

/* VariableData of a variable event, or NULL when tpm2-tools prints none. */
static json_t *
var_data(jb *b, uint32_t type, const kl_efi_var *v, const char *name)
{
    bool cfg = type == KL_EV_EFI_VARIABLE_DRIVER_CONFIG;
    bool auth = type == KL_EV_EFI_VARIABLE_AUTHORITY;
    bool boot = type == KL_EV_EFI_VARIABLE_BOOT || type == KL_EV_EFI_VARIABLE_BOOT2;

    if (cfg && (!strcmp(name, "PK") || !strcmp(name, "KEK") || !strcmp(name, "db") ||
                !strcmp(name, "dbx")))
        return ev_siglists(b, v);
    if ((cfg && !strcmp(name, "SecureBoot")) || (auth && !strcmp(name, "MokListTrusted")))
        return j_enabled(b, v->data.len == 1 && v->data.ptr[0] != 0);
    if (auth && (!strcmp(name, "db") || !strcmp(name, "Shim"))) {
        json_t *arr = check(b, json_array());

        if (v->data.len >= GUID_SIZE)
            append(b, arr, j_sig(b, v->data.ptr,
                                 KL_BYTES(v->data.ptr + GUID_SIZE, v->data.len - GUID_SIZE)));
        return arr;
    }
    if (auth && !strcmp(name, "SbatLevel")) {
        json_t *o = check(b, json_object());

        put(b, o, "String", j_escaped_lines(v->data));
        return o;
    }
    if (boot && !strcmp(name, "BootOrder"))
        return j_boot_order(b, v->data);
    if (boot && is_boot_option_name(name))
        return j_boot_option(b, v->data);
    if (v->data_len == 0)
        return NULL;
    if (auth && !strcmp(name, "vendor_db")) {
        json_t *sigs = enrich_vendor_db(b, v->data);

        if (sigs)
            return sigs;
    }
    return j_hex(v->data, SIZE_MAX);
}

static json_t *
ev_variable(jb *b, uint32_t type, kl_bytes ev)
{
    kl_efi_var v;
    kl_buf name;
    json_t *o, *data;

    if (kl_efi_var_decode(ev, &v) != KL_OK)
        return j_hex(ev, HEX_EVENT_MAX); /* not reached: the parser checked */
    kl_buf_init(&name, v.name.len * 2 + 16);
    if (kl_efi_utf16_append(&name, v.name) != KL_OK || kl_buf_terminate(&name) != KL_OK) {
        b->rc = kl_err_set(KL_ENOMEM, "eventlog: out of memory");
        kl_buf_free(&name);
        return NULL;
    }
    o = check(b, json_object());
    put(b, o, "VariableName", j_guid(v.guid));
    put(b, o, "UnicodeNameLength", j_u64(v.name_len));
    put(b, o, "VariableDataLength", j_u64(v.data_len));
    put(b, o, "UnicodeName", kl_json_string_lossy(kl_buf_bytes(&name)));
    data = b->rc == KL_OK ? var_data(b, type, &v, (const char *)name.ptr) : NULL;
    if (data)
        put(b, o, "VariableData", data);
    kl_buf_free(&name);
    return o;
}

static json_t *
ev_image_load(jb *b, kl_bytes ev)
{
    kl_efi_image_load il;
    json_t *o;
    kl_buf text;

    if (kl_efi_image_load_decode(ev, &il) != KL_OK)
        return j_hex(ev, HEX_EVENT_MAX);
    o = check(b, json_object());
    put(b, o, "ImageLocationInMemory", j_u64(il.location));
    put(b, o, "ImageLengthInMemory", j_u64(il.length));
    put(b, o, "ImageLinkTimeAddress", j_u64(il.link_time_address));
    put(b, o, "LengthOfDevicePath", j_u64(il.dp_length));
    kl_buf_init(&text, il.dp.len * 8 + 64);
    if (kl_devpath_format(&text, il.dp, il.dp_length) == KL_OK)
        put(b, o, "DevicePath", kl_json_string_lossy(kl_buf_bytes(&text)));
    else
        put(b, o, "DevicePath", j_hex(il.dp, SIZE_MAX));
    kl_buf_free(&text);
    return o;
}

static json_t *
ev_gpt(jb *b, kl_bytes ev)
{
    kl_efi_gpt g;
    json_t *o, *h, *parts = NULL;

    if (kl_efi_gpt_decode(ev, &g) != KL_OK)
        return j_hex(ev, HEX_EVENT_MAX); /* not reached: the parser checked */
    o = check(b, json_object());
    h = check(b, json_object());
    put(b, h, "Signature", j_cstr(g.signature));
    put(b, h, "Revision", json_integer(g.revision));
    put(b, h, "HeaderSize", json_integer(g.header_size));
    put(b, h, "HeaderCRC32", json_integer(g.header_crc32));
    put(b, h, "MyLBA", j_u64(g.my_lba));
    put(b, h, "AlternateLBA", j_u64(g.alternate_lba));
    put(b, h, "FirstUsableLBA", j_u64(g.first_usable_lba));
    put(b, h, "LastUsableLBA", j_u64(g.last_usable_lba));
    put(b, h, "DiskGUID", j_guid(g.disk_guid));
    put(b, h, "PartitionEntryLBA", j_u64(g.entry_lba));
    put(b, h, "NumberOfPartitionEntry", json_integer(g.entry_count));
    put(b, h, "SizeOfPartitionEntry", json_integer(g.entry_size));
    put(b, h, "PartitionEntryArrayCRC32", json_integer(g.entries_crc32));
    put(b, o, "Header", h);
    put(b, o, "NumberOfPartitions", j_u64(g.partitions));
    if (g.partitions > 0)
        parts = check(b, json_array());
    for (size_t i = 0; b->rc == KL_OK && i < g.partitions; i++) {
        kl_efi_gpt_entry e;
        json_t *p = check(b, json_object());

        kl_efi_gpt_entry_at(&g, i, &e);
        put(b, p, "PartitionTypeGUID", j_guid(e.type_guid));
        put(b, p, "UniquePartitionGUID", j_guid(e.unique_guid));
        put(b, p, "StartingLBA", j_u64(e.starting_lba));
        put(b, p, "EndingLBA", j_u64(e.ending_lba));
        put(b, p, "Attributes", j_u64(e.attributes));
        put(b, p, "PartitionName", j_utf16(e.name));
        append(b, parts, p);
    }
    put(b, o, "Partitions", parts ? parts : json_null());
    return o;
}

static json_t *
ev_blob2(jb *b, kl_bytes ev)
{
    kl_efi_blob2 b2;
    json_t *o;
    size_t n;

    if (kl_efi_blob2_decode(ev, &b2) != KL_OK)
        return j_hex(ev, HEX_EVENT_MAX);
    n = b2.description.len;
    o = check(b, json_object());
    put(b, o, "BlobDescriptionSize", json_integer((json_int_t)n));
    /* tpm2-tools' hex buffer drops the description's last byte */
    put(b, o, "BlobDescription", j_hex(KL_BYTES(b2.description.ptr, n ? n - 1 : 0), SIZE_MAX));
    put(b, o, "BlobBase", j_u64(b2.blob.base));
    put(b, o, "BlobLength", j_u64(b2.blob.length));
    return o;
}

/* The "Event" value of a TCG_PCR_EVENT2 (EventSize > 0). */
static json_t *
ev_data(jb *b, uint32_t type, kl_bytes ev)
{
    kl_efi_blob blob;
    uint8_t loc;

    switch (type) {
    case KL_EV_EFI_VARIABLE_DRIVER_CONFIG:
    case KL_EV_EFI_VARIABLE_BOOT:
    case KL_EV_EFI_VARIABLE_BOOT2:
    case KL_EV_EFI_VARIABLE_AUTHORITY:
        return ev_variable(b, type, ev);
    case KL_EV_POST_CODE:
        if (ev.len == 16 && kl_efi_blob_decode(ev, &blob) == KL_OK)
            return j_blob(b, &blob);
        return j_cstr(ev);
    case KL_EV_S_CRTM_CONTENTS:
    case KL_EV_EFI_PLATFORM_FIRMWARE_BLOB:
        if (kl_efi_blob_decode(ev, &blob) != KL_OK)
            return j_hex(ev, HEX_EVENT_MAX);
        return j_blob(b, &blob);
    case KL_EV_EFI_PLATFORM_FIRMWARE_BLOB2:
        return ev_blob2(b, ev);
    case KL_EV_EFI_ACTION:
        return j_cstr(ev);
    case KL_EV_IPL: {
        json_t *o = check(b, json_object());

        put(b, o, "String", j_escaped_lines(ev));
        return o;
    }
    case KL_EV_EFI_BOOT_SERVICES_APPLICATION:
    case KL_EV_EFI_BOOT_SERVICES_DRIVER:
    case KL_EV_EFI_RUNTIME_SERVICES_DRIVER:
        return ev_image_load(b, ev);
    case KL_EV_EFI_GPT_EVENT:
        return ev_gpt(b, ev);
    case KL_EV_NO_ACTION:
        if (ev.len > 16 && kl_efi_startup_locality(ev, &loc)) {
            json_t *o = check(b, json_object());

            put(b, o, "StartupLocality", json_integer(loc));
            return o;
        }
        return j_hex(ev, HEX_EVENT_MAX);
    default:
        return j_hex(ev, HEX_EVENT_MAX);
    }
}

static json_t *
spec_id(jb *b, const kl_eventlog *log)
{
    const kl_eventlog_specid *s = kl_eventlog_spec_id(log);
    json_t *arr = check(b, json_array()), *o = check(b, json_object());
    json_t *algs = check(b, json_array());
    size_t n = kl_eventlog_bank_count(log);

    put(b, o, "Signature", json_string("Spec ID Event03"));
    put(b, o, "platformClass", json_integer(s->platform_class));
    put(b, o, "specVersionMinor", json_integer(s->version_minor));
    put(b, o, "specVersionMajor", json_integer(s->version_major));
    put(b, o, "specErrata", json_integer(s->errata));
    put(b, o, "uintnSize", json_integer(s->uintn_size));
    put(b, o, "numberOfAlgorithms", json_integer((json_int_t)n));
    for (size_t i = 0; i < n; i++) {
        const kl_eventlog_bank *bank = kl_eventlog_bank_at(log, i);
        json_t *a = check(b, json_object());
        char key[32];

        snprintf(key, sizeof(key), "Algorithm[%zu]", i);
        put(b, a, key, json_null());
        put(b, a, "algorithmId", json_string(alg_name(bank->tpm_alg)));
        put(b, a, "digestSize", json_integer(bank->size));
        append(b, algs, a);
    }
    put(b, o, "Algorithms", algs);
    put(b, o, "vendorInfoSize", json_integer((json_int_t)s->vendor_info.len));
    if (s->vendor_info.len > 0)
        put(b, o, "vendorInfo", j_hex(s->vendor_info, SIZE_MAX));
    append(b, arr, o);
    return arr;
}

static json_t *
record(jb *b, const kl_eventlog *log, size_t i)
{
    const kl_eventlog_event *e = kl_eventlog_event_at(log, i);
    json_t *o = check(b, json_object());

    put(b, o, "EventNum", json_integer((json_int_t)e->num));
    put(b, o, "PCRIndex", json_integer(e->pcr));
    put(b, o, "EventType", json_string(type_name(e->type)));
    if (i == 0 && kl_eventlog_crypto_agile(log)) {
        put(b, o, "Digest", j_hex(e->digests[0].value, SIZE_MAX));
        put(b, o, "EventSize", json_integer((json_int_t)e->data.len));
        put(b, o, "SpecID", spec_id(b, log));
        return o;
    }
    put(b, o, "DigestCount", json_integer((json_int_t)e->ndigests));
    json_t *digests = check(b, json_array());
    for (size_t k = 0; k < e->ndigests; k++) {
        json_t *d = check(b, json_object());

        put(b, d, "AlgorithmId", json_string(alg_name(e->digests[k].tpm_alg)));
        put(b, d, "Digest", j_hex(e->digests[k].value, SIZE_MAX));
        append(b, digests, d);
    }
    put(b, o, "Digests", digests);
    put(b, o, "EventSize", json_integer((json_int_t)e->data.len));
    if (e->data.len > 0)
        put(b, o, "Event", ev_data(b, e->type, e->data));
    return o;
}

size_t
kl_eventlog_json_unescape(char *s, size_t len)
{
    static const char pairs[][2] = {{'0', '\0'}, {'a', '\a'},  {'b', '\b'},   {'t', '\t'},
                                    {'v', '\v'}, {'f', '\f'},  {'r', '\r'},   {'e', '\x1b'},
                                    {'\'', '\''}, {'\\', '\\'}};

    if (len == 0)
        return 0;
    if (s[0] == '"' && s[len - 1] == '"') {
        size_t n = len >= 2 ? len - 2 : 0;

        memmove(s, s + 1, n);
        len = n;
    }
    for (size_t p = 0; p < sizeof(pairs) / sizeof(pairs[0]); p++) {
        size_t w = 0;

        for (size_t r = 0; r < len; r++) {
            if (s[r] == '\\' && r + 1 < len && s[r + 1] == pairs[p][0]) {
                s[w++] = pairs[p][1];
                r++;
            } else {
                s[w++] = s[r];
            }
        }
        len = w;
    }
    if (len > 0 && s[len - 1] == '\0')
        len--;
    return len;
}

static kl_rc
unescape_tree(json_t *j)
{
    const char *key;
    json_t *v;
    size_t i;

    if (json_is_string(j)) {
        const char *sv = json_string_value(j);
        size_t len = json_string_length(j);
        char *s;
        int err;

        if (len == 0 || !(sv[0] == '"' || sv[len - 1] == '\0' || memchr(sv, '\\', len)))
            return KL_OK;
        s = kl_memdup(json_string_value(j), len);
        if (!s)
            return kl_err_set(KL_ENOMEM, "eventlog: out of memory");
        len = kl_eventlog_json_unescape(s, len);
        err = json_string_setn(j, s, len);
        kl_free(s);
        return err == 0 ? KL_OK : kl_err_set(KL_ENOMEM, "eventlog: out of memory");
    }
    if (json_is_object(j)) {
        json_object_foreach(j, key, v) {
            kl_rc rc = unescape_tree(v);

            if (rc != KL_OK)
                return rc;
        }
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v) {
            kl_rc rc = unescape_tree(v);

            if (rc != KL_OK)
                return rc;
        }
    }
    return KL_OK;
}

kl_rc
kl_eventlog_json_event(const kl_eventlog *log, size_t i, json_t **out)
{
    jb b = {KL_OK};
    json_t *o = record(&b, log, i);

    if (b.rc == KL_OK)
        b.rc = unescape_tree(o);
    if (b.rc != KL_OK) {
        json_decref(o);
        *out = NULL;
        return b.rc;
    }
    *out = o;
    return KL_OK;
}

kl_rc
kl_eventlog_json_events(const kl_eventlog *log, json_t **out)
{
    json_t *arr = json_array();
    kl_rc rc = arr ? KL_OK : kl_err_set(KL_ENOMEM, "eventlog: out of memory");

    for (size_t i = 0; rc == KL_OK && i < kl_eventlog_count(log); i++) {
        json_t *e;

        rc = kl_eventlog_json_event(log, i, &e);
        if (rc == KL_OK && json_array_append_new(arr, e) != 0)
            rc = kl_err_set(KL_ENOMEM, "eventlog: out of memory");
    }
    if (rc != KL_OK) {
        json_decref(arr);
        arr = NULL;
    }
    *out = arr;
    return rc;
}
