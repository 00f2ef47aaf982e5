#include "mb/devpath.h"

#include <inttypes.h>
#include <string.h>

#include "mb/efi.h"
#include "util/kl_hex.h"

enum {
    T_HW = 0x01,
    T_ACPI = 0x02,
    T_MSG = 0x03,
    T_MEDIA = 0x04,
    T_END = 0x7f,
    END_INSTANCE = 0x01,
    END_ENTIRE = 0xff,
    MEDIA_FV_FILE = 0x06,
    MEDIA_FV_VOL = 0x07,
};

/* EISA PNP ids of ACPI HID nodes libefivar names. */
#define PNP(n) ((uint32_t)0x41d0 | (uint32_t)(n) << 16)

typedef struct {
    const uint8_t *p; /* the node, header included */
    size_t len;
    uint8_t type, sub;
} node;

static uint16_t
u16_at(const node *n, size_t off)
{
    return (uint16_t)(n->p[off] | n->p[off + 1] << 8);
}

static uint32_t
u32_at(const node *n, size_t off)
{
    return (uint32_t)u16_at(n, off) | (uint32_t)u16_at(n, off + 2) << 16;
}

static uint64_t
u64_at(const node *n, size_t off)
{
    return (uint64_t)u32_at(n, off) | (uint64_t)u32_at(n, off + 4) << 32;
}

static kl_rc
put_hex(kl_buf *out, const uint8_t *p, size_t n)
{
    return kl_hex_encode_append(out, p, n);
}

static kl_rc
put_guid(kl_buf *out, const uint8_t *g)
{
    char text[KL_EFI_GUID_TEXT];

    kl_efi_guid_format(g, text);
    return kl_buf_append_str(out, text);
}

/* "Label(" hex ")" as libefivar's fallbacks write unknown subtypes. */
static kl_rc
generic(kl_buf *out, const char *label, const node *n, size_t hexlen)
{
    kl_rc rc = kl_buf_printf(out, "%s(%d,", label, n->sub);

    if (rc == KL_OK)
        rc = put_hex(out, n->p + 4, hexlen);
    return rc == KL_OK ? kl_buf_append_byte(out, ')') : rc;
}

/* "Label(guid[,hex])" of vendor nodes. */
static kl_rc
vendor(kl_buf *out, const char *label, const node *n)
{
    kl_rc rc;

    if (n->len < 20)
        return KL_EUNSUPPORTED;
    rc = kl_buf_printf(out, "%s(", label);
    if (rc == KL_OK)
        rc = put_guid(out, n->p + 4);
    if (rc == KL_OK && n->len > 20) {
        rc = kl_buf_append_byte(out, ',');
        if (rc == KL_OK)
            rc = put_hex(out, n->p + 20, n->len - 20);
    }
    return rc == KL_OK ? kl_buf_append_byte(out, ')') : rc;
}

static kl_rc
fmt_hw(kl_buf *out, const node *n)
{
    static const uint8_t edd10[16] = {0xc5, 0xfa, 0x31, 0xcf, 0x4e, 0xc2, 0xd2, 0x11,
                                      0x85, 0xf3, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b};

    switch (n->sub) {
    case 0x01:
        return n->len < 6 ? KL_EUNSUPPORTED
                          : kl_buf_printf(out, "Pci(0x%x,0x%x)", n->p[5], n->p[4]);
    case 0x02:
        return n->len < 5 ? KL_EUNSUPPORTED : kl_buf_printf(out, "PcCard(0x%x)", n->p[4]);
    case 0x03:
        return n->len < 24 ? KL_EUNSUPPORTED
                           : kl_buf_printf(out, "MemoryMapped(%" PRIu32 ",0x%" PRIx64 ",0x%" PRIx64 ")",
                                           u32_at(n, 4), u64_at(n, 8), u64_at(n, 16));
    case 0x04:
        if (n->len >= 20 && memcmp(n->p + 4, edd10, 16) == 0)
            return n->len < 24 ? KL_EUNSUPPORTED
                               : kl_buf_printf(out, "EDD10(0x%" PRIx32 ")", u32_at(n, 20));
        return vendor(out, "VenHw", n);
    case 0x05:
        return n->len < 8 ? KL_EUNSUPPORTED : kl_buf_printf(out, "Ctrl(0x%" PRIx32 ")", u32_at(n, 4));
    case 0x06:
        return n->len < 13 ? KL_EUNSUPPORTED
                           : kl_buf_printf(out, "BMC(%d,0x%" PRIx64 ")", n->p[4], u64_at(n, 5));
    default:
        return generic(out, "HardwarePath", n, n->len - 4);
    }
}

static kl_rc
fmt_acpi_hid(kl_buf *out, const node *n)
{
    uint32_t hid, uid;

    if (n->len < 12)
        return KL_EUNSUPPORTED;
    hid = u32_at(n, 4);
    uid = u32_at(n, 8);
    switch (hid) {
    case PNP(0x0a03): return kl_buf_printf(out, "PciRoot(0x%" PRIx32 ")", uid);
    case PNP(0x0a05):
    case PNP(0x0a06): return kl_buf_append_str(out, "AcpiContainer()");
    case PNP(0x0a08): return kl_buf_printf(out, "PcieRoot(0x%" PRIx32 ")", uid);
    case PNP(0x0a09): return kl_buf_append_str(out, "EmbeddedController()");
    case PNP(0x0604): return kl_buf_printf(out, "Floppy(0x%" PRIx32 ")", uid);
    case PNP(0x0301): return kl_buf_printf(out, "Keyboard(0x%" PRIx32 ")", uid);
    case PNP(0x0501): return kl_buf_printf(out, "Serial(0x%" PRIx32 ")", uid);
    case 0x00128e09u: return KL_EUNSUPPORTED; /* NvRoot: reads the next node */
    default: return kl_buf_printf(out, "Acpi(0x%08" PRIx32 ",0x%" PRIx32 ")", hid, uid);
    }
}

static kl_rc
fmt_acpi(kl_buf *out, const node *n)
{
    kl_rc rc;

    switch (n->sub) {
    case 0x01:
        return fmt_acpi_hid(out, n);
    case 0x02:
        return KL_EUNSUPPORTED;
    case 0x03:
        rc = kl_buf_append_str(out, "AcpiAdr(");
        for (size_t i = 0; rc == KL_OK && i < (n->len - 4) / 4; i++)
            rc = kl_buf_printf(out, "%s0x%" PRIx32, i ? "," : "", u32_at(n, 4 + 4 * i));
        return rc == KL_OK ? kl_buf_append_byte(out, ')') : rc;
    default:
        /* libefivar writes half of the node's bytes here */
        return generic(out, "AcpiPath", n, (n->len - 4) / 2);
    }
}

static kl_rc
fmt_uri(kl_buf *out, const node *n)
{
    const uint8_t *s = n->p + 4;
    const uint8_t *nul = memchr(s, 0, n->len - 4);
    size_t len = nul ? (size_t)(nul - s) : n->len - 4;
    kl_rc rc = kl_buf_append_str(out, "Uri(");

    if (rc == KL_OK)
        rc = kl_buf_append(out, s, len);
    return rc == KL_OK ? kl_buf_append_byte(out, ')') : rc;
}

static kl_rc
fmt_msg(kl_buf *out, const node *n)
{
    const uint8_t *e = n->p + 8;
    kl_rc rc;

    switch (n->sub) {
    case 0x01:
        return n->len < 8 ? KL_EUNSUPPORTED
                          : kl_buf_printf(out, "Ata(%d,%d,%d)", n->p[4], n->p[5], u16_at(n, 6));
    case 0x02:
        return n->len < 8 ? KL_EUNSUPPORTED
                          : kl_buf_printf(out, "SCSI(%d,%d)", u16_at(n, 4), u16_at(n, 6));
    case 0x05:
        return n->len < 6 ? KL_EUNSUPPORTED : kl_buf_printf(out, "USB(%d,%d)", n->p[4], n->p[5]);
    case 0x06:
        return n->len < 8 ? KL_EUNSUPPORTED : kl_buf_printf(out, "I2O(%d)", (int)u32_at(n, 4));
    case 0x0b:
        if (n->len < 37)
            return KL_EUNSUPPORTED;
        rc = kl_buf_append_str(out, "MAC(");
        if (rc == KL_OK)
            rc = put_hex(out, n->p + 4, n->p[36] < 2 ? 6 : 32);
        return rc == KL_OK ? kl_buf_printf(out, ",%d)", n->p[36]) : rc;
    case 0x11:
        return n->len < 5 ? KL_EUNSUPPORTED : kl_buf_printf(out, "Unit(%d)", n->p[4]);
    case 0x12:
        return n->len < 10 ? KL_EUNSUPPORTED
                           : kl_buf_printf(out, "Sata(%d,%d,%d)", u16_at(n, 4), u16_at(n, 6),
                                           u16_at(n, 8));
    case 0x14:
        return n->len < 6 ? KL_EUNSUPPORTED : kl_buf_printf(out, "Vlan(%d)", u16_at(n, 4));
    case 0x17:
        if (n->len < 16)
            return KL_EUNSUPPORTED;
        return kl_buf_printf(out, "NVMe(0x%" PRIx32 ",%02X-%02X-%02X-%02X-%02X-%02X-%02X-%02X)",
                             u32_at(n, 4), e[0], e[1], e[2], e[3], e[4], e[5], e[6], e[7]);
    case 0x18:
        return fmt_uri(out, n);
    case 0x19:
        return n->len < 6 ? KL_EUNSUPPORTED : kl_buf_printf(out, "UFS(%d,0x%02x)", n->p[4], n->p[5]);
    case 0x1a:
        return n->len < 5 ? KL_EUNSUPPORTED : kl_buf_printf(out, "SD(%d)", n->p[4]);
    case 0x1d:
        return n->len < 5 ? KL_EUNSUPPORTED : kl_buf_printf(out, "eMMC(%d)", n->p[4]);
    case 0x03: case 0x04: case 0x09: case 0x0a: case 0x0c: case 0x0d: case 0x0e: case 0x0f:
    case 0x10: case 0x13: case 0x15: case 0x16: case 0x1b: case 0x1c: case 0x1e: case 0x1f:
    case 0x20:
        return KL_EUNSUPPORTED;
    default:
        return generic(out, "Msg", n, n->len - 4);
    }
}

/* File(name): at most (len - 4) / 2 - 1 UCS-2 characters, up to a NUL;
 * only ASCII names are written as libefivar does. */
static kl_rc
fmt_file(kl_buf *out, const node *n)
{
    size_t chars = (n->len - 4) / 2;
    kl_rc rc;

    if (chars == 0)
        return KL_EUNSUPPORTED;
    for (size_t i = 0; i + 1 < chars; i++) {
        uint16_t c = u16_at(n, 4 + 2 * i);

        if (c == 0)
            break;
        if (c >= 0x80)
            return KL_EUNSUPPORTED;
    }
    rc = kl_buf_append_str(out, "File(");
    for (size_t i = 0; rc == KL_OK && i + 1 < chars; i++) {
        uint16_t c = u16_at(n, 4 + 2 * i);

        if (c == 0)
            break;
        rc = kl_buf_append_byte(out, (uint8_t)c);
    }
    return rc == KL_OK ? kl_buf_append_byte(out, ')') : rc;
}

static kl_rc
fmt_hd(kl_buf *out, const node *n)
{
    const uint8_t *sig = n->p + 24;
    uint8_t sigtype;
    kl_rc rc;

    if (n->len < 42)
        return KL_EUNSUPPORTED;
    sigtype = n->p[41];
    rc = kl_buf_printf(out, "HD(%d,", (int)u32_at(n, 4));
    if (rc != KL_OK)
        return rc;
    if (sigtype == 1)
        return kl_buf_printf(out, "MBR,0x%" PRIx32 ",0x%" PRIx64 ",0x%" PRIx64 ")",
                             (uint32_t)sig[0] | (uint32_t)sig[1] << 8 | (uint32_t)sig[2] << 16 |
                                 (uint32_t)sig[3] << 24,
                             u64_at(n, 8), u64_at(n, 16));
    if (sigtype == 2) {
        rc = kl_buf_append_str(out, "GPT,");
        if (rc == KL_OK)
            rc = put_guid(out, sig);
    } else {
        rc = kl_buf_printf(out, "%d,", sigtype);
        if (rc == KL_OK)
            rc = put_hex(out, sig, 16);
    }
    return rc == KL_OK ? kl_buf_printf(out, ",0x%" PRIx64 ",0x%" PRIx64 ")", u64_at(n, 8),
                                       u64_at(n, 16))
                       : rc;
}

static kl_rc
fmt_guid_node(kl_buf *out, const char *label, const node *n)
{
    kl_rc rc;

    if (n->len < 20)
        return KL_EUNSUPPORTED;
    rc = kl_buf_printf(out, "%s(", label);
    if (rc == KL_OK)
        rc = put_guid(out, n->p + 4);
    return rc == KL_OK ? kl_buf_append_byte(out, ')') : rc;
}

static kl_rc
fmt_media(kl_buf *out, const node *n)
{
    switch (n->sub) {
    case 0x01:
        return fmt_hd(out, n);
    case 0x02:
        return n->len < 24 ? KL_EUNSUPPORTED
                           : kl_buf_printf(out, "CDROM(%d,0x%" PRIx64 ",0x%" PRIx64 ")",
                                           (int)u32_at(n, 4), u64_at(n, 8), u64_at(n, 16));
    case 0x03:
        return vendor(out, "VenMedia", n);
    case 0x04:
        return fmt_file(out, n);
    case 0x05:
        return fmt_guid_node(out, "Media", n);
    case MEDIA_FV_FILE:
        return fmt_guid_node(out, "FvFile", n);
    case MEDIA_FV_VOL:
        return fmt_guid_node(out, "FvVol", n);
    case 0x08:
        return n->len < 24 ? KL_EUNSUPPORTED
                           : kl_buf_printf(out, "Offset(0x%" PRIx64 ",0x%" PRIx64 ")",
                                           u64_at(n, 8), u64_at(n, 16));
    case 0x09:
        return KL_EUNSUPPORTED;
    default:
        return generic(out, "MediaPath", n, (n->len - 4) / 2);
    }
}

static kl_rc
fmt_node(kl_buf *out, const node *n)
{
    switch (n->type) {
    case T_HW: return fmt_hw(out, n);
    case T_ACPI: return fmt_acpi(out, n);
    case T_MSG: return fmt_msg(out, n);
    case T_MEDIA: return fmt_media(out, n);
    case 0x05: return KL_EUNSUPPORTED;
    case T_END: return n->sub == END_INSTANCE ? kl_buf_append_byte(out, ',') : KL_OK;
    default: {
        kl_rc rc = kl_buf_printf(out, "Path(%d,%d,", n->type, n->sub);

        if (rc == KL_OK)
            rc = put_hex(out, n->p + 4, n->len - 4);
        return rc == KL_OK ? kl_buf_append_byte(out, ')') : rc;
    }
    }
}

/* The walk of efidp_format_device_path. kinds[0..1] receive the (type <<
 * 8 | subtype) of the first two nodes written (0 when fewer). */
static kl_rc
walk(kl_buf *out, kl_bytes dp, uint64_t limit, unsigned kinds[2])
{
    size_t lim = limit < dp.len ? (size_t)limit : dp.len, pos = 0, nodes = 0, texts = 0;
    bool unsupported = false;
    kl_rc rc = KL_OK;

    kinds[0] = kinds[1] = 0;
    while (lim > 0) {
        node n;

        if (lim < 4)
            break;
        n.p = dp.ptr + pos;
        n.type = n.p[0];
        n.sub = n.p[1];
        n.len = (size_t)(n.p[2] | n.p[3] << 8);
        if (n.len < 4)
            return KL_EPARSE;
        if (n.len > lim)
            break;
        if (nodes > 0) {
            if (n.type == T_END)
                return unsupported ? KL_EUNSUPPORTED : KL_OK;
            rc = kl_buf_append_byte(out, '/');
        }
        if (rc == KL_OK)
            rc = fmt_node(out, &n);
        if (rc == KL_EUNSUPPORTED) {
            unsupported = true;
            rc = KL_OK;
        }
        if (rc != KL_OK)
            return rc;
        if (nodes < 2)
            kinds[nodes] = (unsigned)n.type << 8 | n.sub;
        nodes++;
        if (n.type != T_END || n.sub != END_ENTIRE)
            texts++; /* libefivar writes something for every other node */
        lim -= n.len;
        /* libefivar stays on an End node: as the first node it is met
         * again with the rest of the limit */
        if (n.type == T_END && n.sub == END_ENTIRE) {
            if (lim >= 4)
                lim = 0;
            break;
        }
        pos += n.len;
    }
    /* stopped by the limit with nothing written */
    if (lim > 0 && texts == 0)
        return KL_EPARSE;
    return unsupported ? KL_EUNSUPPORTED : KL_OK;
}

kl_rc
kl_devpath_format(kl_buf *out, kl_bytes dp, uint64_t limit)
{
    size_t mark = out->len;
    unsigned kinds[2];
    kl_rc rc = walk(out, dp, limit, kinds);

    if (rc != KL_OK) {
        out->len = mark;
        if (rc == KL_EPARSE)
            return kl_err_set(KL_EPARSE, "malformed device path");
        if (rc == KL_EUNSUPPORTED)
            return kl_err_set(KL_EUNSUPPORTED, "device path with a node kept in hex");
    }
    return rc;
}

bool
kl_devpath_is_fv_app(kl_bytes dp, uint64_t limit)
{
    unsigned kinds[2];
    kl_buf scratch;
    kl_rc rc;

    kl_buf_init(&scratch, 1 << 20);
    rc = walk(&scratch, dp, limit, kinds);
    kl_buf_free(&scratch);
    return (rc == KL_OK || rc == KL_EUNSUPPORTED) &&
           kinds[0] == ((unsigned)T_MEDIA << 8 | MEDIA_FV_VOL) &&
           kinds[1] == ((unsigned)T_MEDIA << 8 | MEDIA_FV_FILE);
}
