/* Unit tests for payload/uvstore: the vector's U and V combine in either
 * order, wrong shares do not, malformed shares are refused, the lists are
 * capped (oldest dropped) and a combination clears them. */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "payload/bootstrap.h"
#include "util/kl_alloc.h"
#include "payload/uvstore.h"
#include "payload_test.h"
/* clang-format on */

typedef struct {
    json_t *j;
    kl_buf k, u, v;
    kl_bytes tag, payload;
    kl_uvstore *s;
} fixture;

static int
setup(void **state)
{
    fixture *f = kl_calloc(1, sizeof(*f));

    assert_non_null(f);
    f->j = pt_json("payload/bootstrap_keys.json");
    pt_decode(pt_str(f->j, "K_b64", NULL), false, &f->k);
    pt_decode(pt_str(f->j, "U_b64", NULL), false, &f->u);
    pt_decode(pt_str(f->j, "V_b64", NULL), false, &f->v);
    f->tag = pt_str(f->j, "ukey_request", "auth_tag");
    f->payload = pt_str(f->j, "ukey_request", "payload");
    assert_int_equal(kl_uvstore_new(&f->s, json_string_value(json_object_get(f->j, "agent_uuid"))),
                     KL_OK);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;

    kl_uvstore_free(f->s);
    kl_buf_free(&f->k);
    kl_buf_free(&f->u);
    kl_buf_free(&f->v);
    json_decref(f->j);
    kl_free(f);
    return 0;
}

static void
assert_combined(const fixture *f)
{
    assert_true(kl_bytes_eq(kl_uvstore_key(f->s), kl_buf_bytes(&f->k)));
    assert_true(kl_bytes_eq(kl_uvstore_payload(f->s), f->payload));
    assert_int_equal(kl_uvstore_count_u(f->s), 0);
    assert_int_equal(kl_uvstore_count_v(f->s), 0);
}

static void
test_uvstore_u_then_v(void **state)
{
    fixture *f = *state;
    bool c = true;

    assert_int_equal(kl_uvstore_key(f->s).len, 0);
    assert_null(kl_uvstore_key(f->s).ptr);
    assert_int_equal(kl_uvstore_add_u(f->s, kl_buf_bytes(&f->u), f->tag, f->payload, &c), KL_OK);
    assert_false(c);
    assert_int_equal(kl_uvstore_key(f->s).len, 0);
    assert_int_equal(kl_uvstore_add_v(f->s, kl_buf_bytes(&f->v), &c), KL_OK);
    assert_true(c);
    assert_combined(f);
}

static void
test_uvstore_v_then_u_after_wrong_shares(void **state)
{
    fixture *f = *state;
    uint8_t junk[32];
    bool c = true;

    memset(junk, 0x5a, sizeof(junk));
    assert_int_equal(kl_uvstore_add_v(f->s, KL_BYTES(junk, 32), &c), KL_OK);
    assert_false(c);
    /* a 16-byte V never pairs with a 32-byte U */
    assert_int_equal(kl_uvstore_add_v(f->s, KL_BYTES(f->v.ptr, 16), &c), KL_OK);
    assert_int_equal(kl_uvstore_add_u(f->s, KL_BYTES(junk, 32), f->tag, KL_BYTES(NULL, 0), &c),
                     KL_OK);
    assert_false(c);
    assert_int_equal(kl_uvstore_add_v(f->s, kl_buf_bytes(&f->v), &c), KL_OK);
    assert_false(c); /* the junk U's tag is K's, but junk xor V is not K */
    assert_int_equal(kl_uvstore_count_u(f->s), 1);
    assert_int_equal(kl_uvstore_count_v(f->s), 3);
    assert_int_equal(kl_uvstore_add_u(f->s, kl_buf_bytes(&f->u), f->tag, f->payload, &c), KL_OK);
    assert_true(c);
    assert_combined(f);
}

static void
test_uvstore_rejects_malformed(void **state)
{
    fixture *f = *state;
    bool c = true;

    assert_int_equal(kl_uvstore_add_u(f->s, KL_BYTES(f->u.ptr, 24), f->tag, f->payload, &c),
                     KL_EPARSE);
    assert_false(c);
    assert_int_equal(
        kl_uvstore_add_u(f->s, kl_buf_bytes(&f->u), KL_BYTES(f->tag.ptr, 94), f->payload, &c),
        KL_EPARSE);
    assert_int_equal(
        kl_uvstore_add_u(f->s, kl_buf_bytes(&f->u), KL_BYTES_STR("zz"), f->payload, &c), KL_EPARSE);
    assert_int_equal(
        kl_uvstore_add_u(f->s, kl_buf_bytes(&f->u), f->tag, KL_BYTES_STR("not base64!"), &c),
        KL_EPARSE);
    assert_int_equal(kl_uvstore_add_v(f->s, KL_BYTES(f->v.ptr, 31), &c), KL_EPARSE);
    assert_int_equal(kl_uvstore_add_v(f->s, KL_BYTES(NULL, 0), &c), KL_EPARSE);
    assert_int_equal(kl_uvstore_count_u(f->s), 0);
    assert_int_equal(kl_uvstore_count_v(f->s), 0);
    {
        kl_uvstore *other = (kl_uvstore *)f;

        assert_int_equal(kl_uvstore_new(&other, NULL), KL_EINVAL);
        assert_null(other);
    }
}

/* KL_UVSTORE_MAX U shares fit; one more drops the oldest */
static void
test_uvstore_cap_drops_oldest(void **state)
{
    fixture *f = *state;
    uint8_t junk[32] = {1};
    bool c = true;

    assert_int_equal(kl_uvstore_add_u(f->s, kl_buf_bytes(&f->u), f->tag, f->payload, &c), KL_OK);
    for (int i = 0; i < KL_UVSTORE_MAX - 1; i++) {
        junk[1] = (uint8_t)i;
        assert_int_equal(kl_uvstore_add_u(f->s, KL_BYTES(junk, 32), f->tag, f->payload, &c), KL_OK);
    }
    assert_int_equal(kl_uvstore_count_u(f->s), KL_UVSTORE_MAX);
    assert_int_equal(kl_uvstore_add_v(f->s, kl_buf_bytes(&f->v), &c), KL_OK);
    assert_true(c); /* the genuine U was still there */
    assert_combined(f);

    assert_int_equal(kl_uvstore_add_u(f->s, kl_buf_bytes(&f->u), f->tag, KL_BYTES(NULL, 0), &c),
                     KL_OK);
    for (int i = 0; i < KL_UVSTORE_MAX; i++)
        assert_int_equal(kl_uvstore_add_u(f->s, KL_BYTES(junk, 32), f->tag, KL_BYTES(NULL, 0), &c),
                         KL_OK);
    for (int i = 0; i < KL_UVSTORE_MAX + 10; i++)
        assert_int_equal(kl_uvstore_add_v(f->s, KL_BYTES(junk, 16), &c), KL_OK);
    assert_int_equal(kl_uvstore_count_u(f->s), KL_UVSTORE_MAX);
    assert_int_equal(kl_uvstore_count_v(f->s), KL_UVSTORE_MAX);
    assert_int_equal(kl_uvstore_add_v(f->s, kl_buf_bytes(&f->v), &c), KL_OK);
    assert_false(c); /* the genuine U was dropped */
    /* the earlier result stays until a new combination */
    assert_true(kl_bytes_eq(kl_uvstore_key(f->s), kl_buf_bytes(&f->k)));
}

/* A new successful pair replaces K and the payload */
static void
test_uvstore_recombine(void **state)
{
    fixture *f = *state;
    uint8_t k[32], u[32], v[32];
    char tag[KL_BOOTSTRAP_TAG_HEX + 1];
    const char *uuid = json_string_value(json_object_get(f->j, "agent_uuid"));
    bool c = false;

    assert_int_equal(kl_uvstore_add_u(f->s, kl_buf_bytes(&f->u), f->tag, f->payload, &c), KL_OK);
    assert_int_equal(kl_uvstore_add_v(f->s, kl_buf_bytes(&f->v), &c), KL_OK);
    assert_true(c);
    assert_int_equal(kl_bootstrap_split(k, u, v), KL_OK);
    assert_int_equal(kl_bootstrap_hmac_hex(tag, KL_BYTES(k, 32), KL_BYTES(uuid, strlen(uuid))),
                     KL_OK);
    assert_int_equal(kl_uvstore_add_v(f->s, KL_BYTES(v, 32), &c), KL_OK);
    assert_false(c);
    assert_int_equal(
        kl_uvstore_add_u(f->s, KL_BYTES(u, 32), KL_BYTES(tag, strlen(tag)), KL_BYTES(NULL, 0), &c),
        KL_OK);
    assert_true(c);
    assert_memory_equal(kl_uvstore_key(f->s).ptr, k, 32);
    assert_int_equal(kl_uvstore_payload(f->s).len, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_uvstore_u_then_v, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uvstore_v_then_u_after_wrong_shares, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uvstore_rejects_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uvstore_cap_drops_oldest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uvstore_recombine, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
