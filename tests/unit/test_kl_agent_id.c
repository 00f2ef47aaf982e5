/* Unit tests for util/kl_agent_id: the shared agent identifier rule. */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/kl_agent_id.h"
/* clang-format on */

static void
test_kl_agent_id_accepts(void **state)
{
    char max[KL_AGENT_ID_MAX + 1];

    (void)state;
    memset(max, 'a', KL_AGENT_ID_MAX);
    max[KL_AGENT_ID_MAX] = '\0';
    assert_true(kl_agent_id_valid("d432fbb3-d2f1-4a97-9ef7-75bd81c00000"));
    assert_true(kl_agent_id_valid("a"));
    assert_true(kl_agent_id_valid("Node_01.example-A"));
    assert_true(kl_agent_id_valid(max));
}

static void
test_kl_agent_id_refuses(void **state)
{
    static const char *bad[] = {"", "a b", "a/b", "../x", "a%2f", "\xc3\xa9", "a\tb", "a;b",
                                "a:b"};
    char long_id[KL_AGENT_ID_MAX + 2];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(kl_agent_id_valid(bad[i]));
    memset(long_id, 'a', KL_AGENT_ID_MAX + 1);
    long_id[KL_AGENT_ID_MAX + 1] = '\0';
    assert_false(kl_agent_id_valid(long_id));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kl_agent_id_accepts),
        cmocka_unit_test(test_kl_agent_id_refuses),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
