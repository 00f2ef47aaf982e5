#include "ima_build.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ima/ima_template.h"
#include "util/kl_hex.h"

static void
template_data(const ima_line *l, kl_buf *td, kl_buf *scratch)
{
    kl_ima_entry e;
    size_t dig_at, extra_at;

    memset(&e, 0, sizeof(e));
    e.tmpl = kl_ima_template_from_name(KL_BYTES(l->tmpl, strlen(l->tmpl)));
    assert_true(e.tmpl != KL_IMA_TMPL_UNKNOWN);
    kl_buf_reset(scratch);
    assert_int_equal(kl_buf_reserve(scratch, 8192), KL_OK);
    dig_at = scratch->len;
    assert_int_equal(kl_hex_decode_append(scratch, KL_BYTES(l->digest, strlen(l->digest))), KL_OK);
    extra_at = scratch->len;
    if (l->extra)
        assert_int_equal(kl_hex_decode_append(scratch, KL_BYTES(l->extra, strlen(l->extra))),
                         KL_OK);
    e.digest = KL_BYTES(scratch->ptr + dig_at, extra_at - dig_at);
    e.digest_alg = l->alg ? KL_BYTES(l->alg, strlen(l->alg))
                          : KL_BYTES_STR(e.digest.len == 16 ? "md5" : "sha1");
    e.name = KL_BYTES(l->name, strlen(l->name));
    e.sig = e.buf = KL_BYTES(scratch->ptr + extra_at, scratch->len - extra_at);
    e.has_sig = l->extra && strlen(l->extra) > 0;
    kl_buf_reset(td);
    assert_int_equal(kl_ima_template_encode(&e, td), KL_OK);
}

void
ima_build_line(kl_buf *out, const ima_line *l)
{
    uint8_t th[KL_HASH_MAX_SIZE];
    char hex[2 * KL_HASH_MAX_SIZE + 1];
    size_t n = kl_hash_size(l->th_alg);
    kl_buf td, scratch;

    kl_buf_init(&td, 1 << 20);
    kl_buf_init(&scratch, 1 << 20);
    template_data(l, &td, &scratch);
    assert_int_equal(kl_hash(l->th_alg, td.ptr, td.len, th), KL_OK);
    if (l->mutate == MUT_ZERO_HASH)
        memset(th, 0, n);
    if (l->mutate == MUT_BAD_HASH)
        th[0] ^= 1;
    kl_hex_encode(hex, th, n);
    assert_int_equal(kl_buf_printf(out, "%s %s %s %s%s%s %s", l->pcr ? l->pcr : "10", hex, l->tmpl,
                                   l->alg ? l->alg : "", l->alg ? ":" : "", l->digest, l->name),
                     KL_OK);
    if (strcmp(l->tmpl, "ima-sig") == 0 || strcmp(l->tmpl, "ima-buf") == 0)
        assert_int_equal(kl_buf_printf(out, " %s", l->extra ? l->extra : ""), KL_OK);
    assert_int_equal(kl_buf_append_byte(out, '\n'), KL_OK);
    kl_buf_free(&td);
    kl_buf_free(&scratch);
}

void
ima_build_record(kl_buf *out, const ima_line *l)
{
    uint8_t th[KL_HASH_MAX_SIZE];
    kl_buf td, scratch;
    unsigned pcr = 10;

    kl_buf_init(&td, 1 << 20);
    kl_buf_init(&scratch, 1 << 20);
    template_data(l, &td, &scratch);
    assert_int_equal(kl_hash(l->th_alg, td.ptr, td.len, th), KL_OK);
    if (l->mutate == MUT_ZERO_HASH)
        memset(th, 0, sizeof(th));
    if (l->mutate == MUT_BAD_HASH)
        th[0] ^= 1;
    if (l->pcr)
        assert_int_equal(sscanf(l->pcr, "%u", &pcr), 1);
    assert_int_equal(kl_buf_append_u32le(out, pcr), KL_OK);
    assert_int_equal(kl_buf_append(out, th, kl_hash_size(l->th_alg)), KL_OK);
    assert_int_equal(kl_buf_append_u32le(out, (uint32_t)strlen(l->tmpl)), KL_OK);
    assert_int_equal(kl_buf_append_str(out, l->tmpl), KL_OK);
    if (strcmp(l->tmpl, "ima") == 0) {
        /* legacy: digest, u32 name length, name without NUL */
        assert_int_equal(kl_buf_append(out, td.ptr, 20), KL_OK);
        assert_int_equal(kl_buf_append_u32le(out, (uint32_t)strlen(l->name)), KL_OK);
        assert_int_equal(kl_buf_append_str(out, l->name), KL_OK);
    } else {
        assert_int_equal(kl_buf_append_u32le(out, (uint32_t)td.len), KL_OK);
        assert_int_equal(kl_buf_append(out, td.ptr, td.len), KL_OK);
    }
    kl_buf_free(&td);
    kl_buf_free(&scratch);
}

void
ima_build_extend(uint8_t *pcr, kl_hash_alg bank, const ima_line *l)
{
    uint8_t d[KL_HASH_MAX_SIZE];
    size_t n = kl_hash_size(bank);
    kl_buf td, scratch;
    uint8_t cat[2 * KL_HASH_MAX_SIZE];

    kl_buf_init(&td, 1 << 20);
    kl_buf_init(&scratch, 1 << 20);
    template_data(l, &td, &scratch);
    if (l->mutate == MUT_ZERO_HASH)
        memset(d, 0xff, n);
    else
        assert_int_equal(kl_hash(bank, td.ptr, td.len, d), KL_OK);
    memcpy(cat, pcr, n);
    memcpy(cat + n, d, n);
    assert_int_equal(kl_hash(bank, cat, 2 * n, pcr), KL_OK);
    kl_buf_free(&td);
    kl_buf_free(&scratch);
}

const char *
ima_build_sha256(const char *s)
{
    static char hex[8][65];
    static int next;
    uint8_t d[32];
    char *out = hex[next++ % 8];

    assert_int_equal(kl_hash(KL_HASH_SHA256, s, strlen(s), d), KL_OK);
    kl_hex_encode(out, d, 32);
    return out;
}
