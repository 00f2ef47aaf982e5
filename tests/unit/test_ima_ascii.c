/* kl_ima_ascii: line splitting, columns and template data exactly as
 * upstream builds them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ima/ima_ascii.h"
#include "util/kl_hex.h"

#define TH40 "1d8d532d463c9f8c205d0df7787669a85f93e260"
#define D20 "0000000000000000000000000000000000000000"

typedef struct {
    kl_ima_ascii p;
    kl_ima_entry e;
} parsed;

static void
first(parsed *x, const char *text)
{
    bool more;

    kl_ima_ascii_init(&x->p, KL_BYTES(text, strlen(text)));
    assert_int_equal(kl_ima_ascii_next(&x->p, &x->e, &more), KL_OK);
    assert_true(more);
}

static void
assert_hex(kl_bytes b, const char *hex)
{
    char out[1024];

    assert_true(b.len * 2 < sizeof(out));
    kl_hex_encode(out, b.ptr, b.len);
    assert_string_equal(out, hex);
}

/* The first line of the rust-keylime list: sha1 d-ng keeps "sha1:" NUL. */
static void
test_ima_ascii_ima_ng_template_data(void **state)
{
    parsed x;

    (void)state;
    first(&x, "10 " TH40 " ima-ng sha1:" D20 " boot_aggregate\n");
    assert_null(x.e.error);
    assert_true(x.e.pcr_is_ima);
    assert_int_equal(x.e.tmpl, KL_IMA_TMPL_IMA_NG);
    assert_true(kl_bytes_eq_str(x.e.digest_alg, "sha1"));
    assert_true(kl_bytes_eq_str(x.e.name, "boot_aggregate"));
    assert_hex(x.e.template_hash, TH40);
    assert_hex(x.e.template_data, "1a000000"
                                  "736861313a00" D20 "0f000000"
                                  "626f6f745f61676772656761746500");
    kl_ima_ascii_free(&x.p);
}

/* Bare digests are sha1 or md5 by length, and still get the prefix. */
static void
test_ima_ascii_bare_digest(void **state)
{
    parsed x;

    (void)state;
    first(&x, "10 " TH40 " ima-ng 00112233445566778899aabbccddeeff /f");
    assert_null(x.e.error);
    assert_true(kl_bytes_eq_str(x.e.digest_alg, "md5"));
    assert_hex(x.e.template_data, "15000000"
                                  "6d64353a0000112233445566778899aabbccddeeff"
                                  "03000000"
                                  "2f6600");
    kl_ima_ascii_free(&x.p);
    first(&x, "10 " TH40 " ima-ng 0011 /f");
    assert_non_null(x.e.error);
    kl_ima_ascii_free(&x.p);
}

/* Legacy "ima": raw 20-byte digest, name NUL-padded to 256 bytes. */
static void
test_ima_ascii_legacy_ima(void **state)
{
    char name[300];
    char line[400];
    parsed x;

    (void)state;
    first(&x, "10 " TH40 " ima " D20 " /init");
    assert_null(x.e.error);
    assert_int_equal(x.e.template_data.len, 20 + 256);
    assert_memory_equal(x.e.template_data.ptr + 20, "/init\0\0", 7);
    kl_ima_ascii_free(&x.p);
    memset(name, 'a', 256);
    name[0] = '/';
    name[256] = '\0';
    snprintf(line, sizeof(line), "10 " TH40 " ima " D20 " %s", name);
    first(&x, line);
    assert_non_null(x.e.error); /* 256 bytes do not fit */
    kl_ima_ascii_free(&x.p);
}

/* Python bytes.fromhex: either case, whitespace between pairs. */
static void
test_ima_ascii_fromhex(void **state)
{
    parsed x;

    (void)state;
    first(&x, "10 1D8D532D463C9F8C205D0DF7787669A85F93E260 ima-ng sha1:" D20 " /f");
    assert_hex(x.e.template_hash, TH40);
    kl_ima_ascii_free(&x.p);
    /* CRLF: the \r ends up in the name, as upstream splits on \n only */
    first(&x, "10 " TH40 " ima-ng sha1:" D20 " /f\r\n");
    assert_true(kl_bytes_eq_str(x.e.name, "/f\r"));
    kl_ima_ascii_free(&x.p);
    first(&x, "10 zz ima-ng sha1:" D20 " /f");
    assert_string_equal(x.e.error, "template hash is not valid hex");
    kl_ima_ascii_free(&x.p);
}

/* Names keep everything after the digest (upstream maxsplit). */
static void
test_ima_ascii_split(void **state)
{
    parsed x;

    (void)state;
    first(&x, "10 " TH40 " ima-ng sha1:" D20 " /a b c");
    assert_true(kl_bytes_eq_str(x.e.name, "/a b c"));
    kl_ima_ascii_free(&x.p);
    first(&x, "10  " TH40 " ima-ng sha1:" D20 " /f"); /* double space */
    assert_non_null(x.e.error);
    kl_ima_ascii_free(&x.p);
    first(&x, "10 " TH40 " ima-ng");
    assert_string_equal(x.e.error, "fewer than 4 fields");
    kl_ima_ascii_free(&x.p);
    first(&x, "10 " TH40 " ima-ng sha1:" D20);
    assert_string_equal(x.e.error, "wrong number of fields for the template");
    kl_ima_ascii_free(&x.p);
    first(&x, "10 " TH40 " ima-ng a:b:" D20 " /f");
    assert_string_equal(x.e.error, "digest has more than one ':'");
    kl_ima_ascii_free(&x.p);
    first(&x, "10 " TH40 " ima-modsig sha1:" D20 " /f");
    assert_string_equal(x.e.error, "unsupported template");
    kl_ima_ascii_free(&x.p);
    first(&x, "11 " TH40 " ima-ng sha1:" D20 " /f");
    assert_false(x.e.pcr_is_ima);
    assert_string_equal(x.e.pcr_text, "11");
    kl_ima_ascii_free(&x.p);
}

/* ima-sig: a malformed signature is dropped (upstream quirk), a good one
 * kept; an ima-sig line always has the third field. */
static void
test_ima_ascii_ima_sig(void **state)
{
    parsed x;

    (void)state;
    first(&x, "10 " TH40 " ima-sig sha1:" D20 " /f 030204f3452d230002abcd");
    assert_null(x.e.error);
    assert_true(x.e.has_sig);
    assert_hex(x.e.sig, "030204f3452d230002abcd");
    kl_ima_ascii_free(&x.p);
    first(&x, "10 " TH40 " ima-sig sha1:" D20 " /f 030204f3452d234800abcd");
    assert_null(x.e.error);
    assert_false(x.e.has_sig);
    /* the empty signature field is still encoded */
    assert_int_equal(x.e.template_data.len, 4 + 6 + 20 + 4 + 3 + 4);
    kl_ima_ascii_free(&x.p);
    first(&x, "10 " TH40 " ima-sig sha1:" D20 " /f xyz");
    assert_null(x.e.error);
    assert_false(x.e.has_sig);
    kl_ima_ascii_free(&x.p);
    first(&x, "10 " TH40 " ima-sig sha1:" D20 " /f");
    assert_non_null(x.e.error);
    kl_ima_ascii_free(&x.p);
}

static void
test_ima_ascii_ima_buf(void **state)
{
    parsed x;

    (void)state;
    first(&x, "10 " TH40 " ima-buf sha256:" D20 " .ima 0102ff");
    assert_null(x.e.error);
    assert_hex(x.e.buf, "0102ff");
    assert_hex(x.e.template_data, "1c000000"
                                  "7368613235363a00" D20 "05000000"
                                  "2e696d6100"
                                  "03000000"
                                  "0102ff");
    kl_ima_ascii_free(&x.p);
    first(&x, "10 " TH40 " ima-buf sha256:" D20 " .ima 0g");
    assert_string_equal(x.e.error, "buffer is not valid hex");
    kl_ima_ascii_free(&x.p);
}

/* Empty lines are skipped but counted in the index; an over-long line is
 * an error, not a crash. */
static void
test_ima_ascii_lines(void **state)
{
    static char big[KL_IMA_LINE_MAX + 64];
    kl_ima_ascii p;
    kl_ima_entry e;
    bool more;
    const char *text = "\n\n10 " TH40 " ima-ng sha1:" D20 " /a\n\n10 x\n";

    (void)state;
    kl_ima_ascii_init(&p, KL_BYTES(text, strlen(text)));
    assert_int_equal(kl_ima_ascii_next(&p, &e, &more), KL_OK);
    assert_true(more);
    assert_int_equal(e.index, 2);
    assert_int_equal(kl_ima_ascii_next(&p, &e, &more), KL_OK);
    assert_int_equal(e.index, 4);
    assert_non_null(e.error);
    assert_true(kl_bytes_eq_str(e.raw, "10 x"));
    assert_int_equal(kl_ima_ascii_next(&p, &e, &more), KL_OK);
    assert_false(more);
    kl_ima_ascii_free(&p);
    memset(big, 'a', sizeof(big) - 1);
    kl_ima_ascii_init(&p, KL_BYTES(big, sizeof(big) - 1));
    assert_int_equal(kl_ima_ascii_next(&p, &e, &more), KL_OK);
    assert_string_equal(e.error, "line is too long");
    kl_ima_ascii_free(&p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ima_ascii_ima_ng_template_data),
        cmocka_unit_test(test_ima_ascii_bare_digest),
        cmocka_unit_test(test_ima_ascii_legacy_ima),
        cmocka_unit_test(test_ima_ascii_fromhex),
        cmocka_unit_test(test_ima_ascii_split),
        cmocka_unit_test(test_ima_ascii_ima_sig),
        cmocka_unit_test(test_ima_ascii_ima_buf),
        cmocka_unit_test(test_ima_ascii_lines),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
