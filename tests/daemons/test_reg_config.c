/* Unit tests for the registrar's TLS file resolution (reg_tls_resolve):
 * tls_dir keywords and trusted_client_ca as "default", one file, a Python
 * list, and the refused "all". */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "registrar.h"
/* clang-format on */

static kl_rc
resolve(reg_tls_paths *p, char *tls_dir, char *cas)
{
    reg_config c;

    memset(&c, 0, sizeof(c));
    c.tls_dir = tls_dir;
    c.server_cert = "default";
    c.server_key = "default";
    c.trusted_client_ca = cas;
    return reg_tls_resolve(p, &c, "/var/lib/keylime");
}

static void
test_reg_tls_default(void **state)
{
    reg_tls_paths p;

    (void)state;
    assert_int_equal(resolve(&p, "default", "default"), KL_OK);
    assert_string_equal(p.dir, "/var/lib/keylime/cv_ca");
    assert_string_equal(p.cert, "/var/lib/keylime/cv_ca/server-cert.crt");
    assert_string_equal(p.key, "/var/lib/keylime/cv_ca/server-private.pem");
    assert_int_equal(p.n_client_cas, 1);
    assert_string_equal(p.client_cas[0], "/var/lib/keylime/cv_ca/cacert.crt");
    reg_tls_paths_free(&p);
    assert_int_equal(resolve(&p, "/etc/kl/tls", "ca.pem"), KL_OK);
    assert_int_equal(p.n_client_cas, 1);
    assert_string_equal(p.client_cas[0], "/etc/kl/tls/ca.pem");
    reg_tls_paths_free(&p);
}

static void
test_reg_tls_ca_list(void **state)
{
    reg_tls_paths p;

    (void)state;
    assert_int_equal(resolve(&p, "/etc/kl/tls", "['ca.pem', \"/abs/other.pem\", 'default']"),
                     KL_OK);
    assert_int_equal(p.n_client_cas, 3);
    assert_string_equal(p.client_cas[0], "/etc/kl/tls/ca.pem");
    assert_string_equal(p.client_cas[1], "/abs/other.pem");
    assert_string_equal(p.client_cas[2], "/var/lib/keylime/cv_ca/cacert.crt");
    reg_tls_paths_free(&p);
}

static void
test_reg_tls_refused(void **state)
{
    reg_tls_paths p;

    (void)state;
    assert_int_equal(resolve(&p, "default", "all"), KL_EINVAL);
    reg_tls_paths_free(&p);
    assert_int_equal(resolve(&p, "default", "['ca.pem'"), KL_EPARSE);
    reg_tls_paths_free(&p);
    assert_int_equal(resolve(&p, "", "default"), KL_EINVAL);
    reg_tls_paths_free(&p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reg_tls_default),
        cmocka_unit_test(test_reg_tls_ca_list),
        cmocka_unit_test(test_reg_tls_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
