/* mb_build: builders of synthetic UEFI event logs and event data for the
 * measured-boot unit tests (header only; failures abort the test). */
#ifndef KL_MB_BUILD_H
#define KL_MB_BUILD_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/hash.h"
#include "mb/efi.h"
#include "mb/eventlog.h"
#include "util/kl_buf.h"

#define MBB_SHA1 0x0004
#define MBB_SHA256 0x000b

static inline void
mbb_u16(kl_buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

    assert_int_equal(kl_buf_append(b, x, 2), KL_OK);
}

static inline void
mbb_u32(kl_buf *b, uint32_t v)
{
    assert_int_equal(kl_buf_append_u32le(b, v), KL_OK);
}

static inline void
mbb_u64(kl_buf *b, uint64_t v)
{
    mbb_u32(b, (uint32_t)v);
    mbb_u32(b, (uint32_t)(v >> 32));
}

static inline void
mbb_bytes(kl_buf *b, const void *p, size_t n)
{
    assert_int_equal(kl_buf_append(b, p, n), KL_OK);
}

static inline void
mbb_guid(kl_buf *b, const char *text)
{
    uint8_t g[16];

    assert_true(kl_efi_guid_parse(KL_BYTES(text, strlen(text)), g));
    mbb_bytes(b, g, 16);
}

/* UTF-16LE of ASCII text, without a terminator. */
static inline void
mbb_utf16(kl_buf *b, const char *s)
{
    for (; *s; s++)
        mbb_u16(b, (uint8_t)*s);
}

/* The Spec ID header with the banks (sha1 and/or sha256). */
static inline void
mbb_header(kl_buf *b, size_t nbanks, const uint16_t *algs)
{
    static const uint8_t zero[20];
    kl_buf ev;

    kl_buf_init(&ev, 1 << 16);
    mbb_bytes(&ev, "Spec ID Event03", 16);
    mbb_u32(&ev, 0);                       /* platformClass */
    mbb_bytes(&ev, "\x00\x02\x00\x02", 4); /* minor, major, errata, uintnSize */
    mbb_u32(&ev, (uint32_t)nbanks);
    for (size_t i = 0; i < nbanks; i++) {
        mbb_u16(&ev, algs[i]);
        mbb_u16(&ev, algs[i] == MBB_SHA1 ? 20 : 32);
    }
    mbb_bytes(&ev, "\x00", 1); /* vendorInfoSize */
    mbb_u32(b, 0);
    mbb_u32(b, KL_EV_NO_ACTION);
    mbb_bytes(b, zero, 20);
    mbb_u32(b, (uint32_t)ev.len);
    mbb_bytes(b, ev.ptr, ev.len);
    kl_buf_free(&ev);
}

/* A TCG_PCR_EVENT2 whose digests are given (one per bank, same bytes
 * repeated / truncated to each size) or, when digest is NULL, the hash of
 * the data in each bank. */
static inline void
mbb_event_d(kl_buf *b, size_t nbanks, const uint16_t *algs, uint32_t pcr, uint32_t type,
            const void *data, size_t len, const uint8_t *digest)
{
    mbb_u32(b, pcr);
    mbb_u32(b, type);
    mbb_u32(b, (uint32_t)nbanks);
    for (size_t i = 0; i < nbanks; i++) {
        kl_hash_alg alg = algs[i] == MBB_SHA1 ? KL_HASH_SHA1 : KL_HASH_SHA256;
        uint8_t d[64];

        if (digest)
            memcpy(d, digest, kl_hash_size(alg));
        else
            assert_int_equal(kl_hash(alg, data, len, d), KL_OK);
        mbb_u16(b, algs[i]);
        mbb_bytes(b, d, kl_hash_size(alg));
    }
    mbb_u32(b, (uint32_t)len);
    if (len)
        mbb_bytes(b, data, len);
}

static inline void
mbb_event(kl_buf *b, size_t nbanks, const uint16_t *algs, uint32_t pcr, uint32_t type,
          const void *data, size_t len)
{
    mbb_event_d(b, nbanks, algs, pcr, type, data, len, NULL);
}

/* UEFI_VARIABLE_DATA. */
static inline void
mbb_var(kl_buf *b, const char *guid, const char *name, const void *data, size_t len)
{
    mbb_guid(b, guid);
    mbb_u64(b, strlen(name));
    mbb_u64(b, len);
    mbb_utf16(b, name);
    if (len)
        mbb_bytes(b, data, len);
}

/* One EFI_SIGNATURE_LIST of n signatures of data_len bytes each. */
static inline void
mbb_siglist(kl_buf *b, const char *type, const char *owner, size_t n, const uint8_t *const *data,
            size_t data_len)
{
    mbb_guid(b, type);
    mbb_u32(b, (uint32_t)(28 + n * (16 + data_len)));
    mbb_u32(b, 0);
    mbb_u32(b, (uint32_t)(16 + data_len));
    for (size_t i = 0; i < n; i++) {
        mbb_guid(b, owner);
        mbb_bytes(b, data[i], data_len);
    }
}

/* UEFI_IMAGE_LOAD_EVENT with a device path. */
static inline void
mbb_image(kl_buf *b, const void *dp, size_t dp_len)
{
    mbb_u64(b, 0x7d225018);
    mbb_u64(b, 959848);
    mbb_u64(b, 0);
    mbb_u64(b, dp_len);
    if (dp_len)
        mbb_bytes(b, dp, dp_len);
}

/* A device path node. */
static inline void
mbb_node(kl_buf *b, uint8_t type, uint8_t sub, const void *body, size_t n)
{
    uint8_t h[4] = {type, sub, (uint8_t)(n + 4), (uint8_t)((n + 4) >> 8)};

    mbb_bytes(b, h, 4);
    if (n)
        mbb_bytes(b, body, n);
}

#define MBB_GLOBAL "8be4df61-93ca-11d2-aa0d-00e098032b8c"
#define MBB_IMAGE_DB "d719b2cb-3d3a-4596-a3bc-dad00e67656f"
#define MBB_X509 "a5c059a1-94e4-4aa7-87b5-ab155c2bf072"
#define MBB_SHA256_SIG "c1c41626-504c-4092-aca9-41f936934328"
#define MBB_OWNER "77fa9abd-0359-4d32-bd60-28f4e78f784b"

/* A variable event of one signature list holding one key. */
static inline void
mbb_key_event(kl_buf *b, const char *var_guid, const char *name, const char *type,
              const char *key)
{
    const uint8_t *keys[1] = {(const uint8_t *)key};
    kl_buf l, v;

    kl_buf_init(&l, 4096);
    kl_buf_init(&v, 4096);
    mbb_siglist(&l, type, MBB_OWNER, 1, keys, strlen(key));
    mbb_var(&v, var_guid, name, l.ptr, l.len);
    mbb_event(b, 1, (const uint16_t[]){MBB_SHA256}, 7, KL_EV_EFI_VARIABLE_DRIVER_CONFIG, v.ptr,
              v.len);
    kl_buf_free(&l);
    kl_buf_free(&v);
}

/* A boot application whose digest is 32 bytes of fill, loaded from a
 * File() path (or from a firmware volume). */
static inline void
mbb_app(kl_buf *b, uint8_t fill, bool fv)
{
    uint8_t digest[32];
    kl_buf dp, ev;

    memset(digest, fill, sizeof(digest));
    kl_buf_init(&dp, 4096);
    kl_buf_init(&ev, 4096);
    if (fv) {
        mbb_node(&dp, 4, 7, "0123456789abcdef", 16);
        mbb_node(&dp, 4, 6, "fedcba9876543210", 16);
    } else {
        mbb_node(&dp, 4, 4, "\\\0x\0.\0e\0f\0i\0\0\0", 14);
    }
    mbb_node(&dp, 0x7f, 0xff, NULL, 0);
    mbb_image(&ev, dp.ptr, dp.len);
    mbb_event_d(b, 1, (const uint16_t[]){MBB_SHA256}, 4, KL_EV_EFI_BOOT_SERVICES_APPLICATION,
                ev.ptr, ev.len, digest);
    kl_buf_free(&dp);
    kl_buf_free(&ev);
}

/* A small sha256 log shaped like a shim/grub boot: S-CRTM and firmware,
 * SecureBoot (on or off), PK, KEK, db, dbx, separators, the boot
 * applications (fills 0x11 shim, 0x22 grub, 0x33 kernel), MokList, the
 * kernel command line and initrd. */
static inline void
mbb_boot_log(kl_buf *b, bool secureboot)
{
    static const uint16_t a[1] = {MBB_SHA256};
    uint8_t blob[16] = {1}, sb = secureboot;
    kl_buf v;

    kl_buf_init(&v, 4096);
    mbb_header(b, 1, a);
    mbb_event(b, 1, a, 0, KL_EV_S_CRTM_VERSION, "v\0", 3);
    mbb_event(b, 1, a, 0, KL_EV_EFI_PLATFORM_FIRMWARE_BLOB, blob, 16);
    mbb_var(&v, MBB_GLOBAL, "SecureBoot", &sb, 1);
    mbb_event(b, 1, a, 7, KL_EV_EFI_VARIABLE_DRIVER_CONFIG, v.ptr, v.len);
    mbb_key_event(b, MBB_GLOBAL, "PK", MBB_X509, "pk-cert");
    mbb_key_event(b, MBB_GLOBAL, "KEK", MBB_X509, "kek-cert");
    mbb_key_event(b, MBB_IMAGE_DB, "db", MBB_X509, "db-cert");
    /* not only decimal digits in hex: PyYAML would read that as a number */
    mbb_key_event(b, MBB_IMAGE_DB, "dbx", MBB_SHA256_SIG, "dbx-entry-0123456789abcdef012345");
    for (uint32_t pcr = 0; pcr < 8; pcr++)
        mbb_event(b, 1, a, pcr, KL_EV_SEPARATOR, "\0\0\0\0", 4);
    mbb_event(b, 1, a, 4, KL_EV_EFI_ACTION, "Calling EFI Application from Boot Option", 40);
    mbb_app(b, 0x11, false);
    mbb_app(b, 0x22, false);
    if (secureboot)
        mbb_app(b, 0x33, false);
    mbb_event(b, 1, a, 14, KL_EV_IPL, "MokList\0", 8);
    mbb_event(b, 1, a, 8, KL_EV_IPL, "grub_cmd: linux /vmlinuz-1 ro quiet\0", 36);
    mbb_event(b, 1, a, 8, KL_EV_IPL, "kernel_cmdline: /vmlinuz-1 ro quiet\0", 36);
    mbb_event(b, 1, a, 9, KL_EV_IPL, "/boot/vmlinuz-1\0", 16);
    mbb_event(b, 1, a, 9, KL_EV_IPL, "/boot/initramfs-1.img\0", 22);
    mbb_event(b, 1, a, 5, KL_EV_EFI_ACTION, "Exit Boot Services Invocation", 29);
    kl_buf_free(&v);
}

static inline kl_eventlog *
mbb_parse(const kl_buf *b)
{
    kl_eventlog *log = NULL;

    if (kl_eventlog_parse(&log, kl_buf_bytes(b)) != KL_OK)
        fail_msg("%s", kl_err_msg());
    return log;
}

#endif
