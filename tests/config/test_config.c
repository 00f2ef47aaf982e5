/* Unit tests for config/config: where values come from (file choice,
 * snippet order, KEYLIME_<C>_CONFIG, environment overrides), conversion
 * and every validation message, upstream's real files and their defaults,
 * the agent's TOML, dumping, sources and the path helpers. Each test gets
 * a temporary etc/usr_etc tree. */
#include "cfg_test.h"

typedef struct {
    kl_config_meta meta;
    char *ip;
    long long port;
    bool flag;
    double timeout;
    kl_strlist list;
    char *mode;
    char *password;
    long long zmq_port;
    char *must;
    long long pin;
} t_conf;

#define O(sec, key, type, def, min, max, ch, field, fl)                                            \
    {                                                                                              \
        sec, key, type, def, min, max, ch, offsetof(t_conf, field), fl                             \
    }

static const kl_opt t_opts[] = {
    O("registrar", "ip", KL_OPT_STR, "127.0.0.1", 0, 0, NULL, ip, 0),
    O("registrar", "port", KL_OPT_INT, "8890", 1, 65535, NULL, port, 0),
    O("registrar", "flag", KL_OPT_BOOL, "True", 0, 0, NULL, flag, 0),
    O("registrar", "timeout", KL_OPT_FLOAT, "60.0", 1, 3600, NULL, timeout, 0),
    O("registrar", "list", KL_OPT_LIST, "['agent']", 0, 0, NULL, list, 0),
    O("registrar", "mode", KL_OPT_CHOICE, "warn", 0, 0, "warn|reject|ignore", mode, 0),
    O("registrar", "password", KL_OPT_STR, "", 0, 0, NULL, password, KL_OPT_SECRET),
    O("revocations", "zmq_port", KL_OPT_INT, "8992", 1, 65535, NULL, zmq_port, 0),
    O("registrar", "must", KL_OPT_STR, "x", 0, 0, NULL, must, KL_OPT_REQUIRED),
    O("registrar", "pin", KL_OPT_INT, "1", 0, 9999, NULL, pin, KL_OPT_SECRET),
};
static const kl_config_spec t_spec = {"registrar", false, t_opts,
                                      sizeof(t_opts) / sizeof(t_opts[0])};
static const kl_config_spec t_agent = {"agent", false, NULL, 0};

typedef struct {
    char root[256], etc[300], usr[300];
    kl_config_paths paths;
    t_conf c;
} fixture;

static const char *const env_vars[] = {
    "KEYLIME_REGISTRAR_CONFIG",
    "KEYLIME_REGISTRAR_IP",
    "KEYLIME_REGISTRAR_PORT",
    "KEYLIME_REGISTRAR_FLAG",
    "KEYLIME_REGISTRAR_TIMEOUT",
    "KEYLIME_REGISTRAR_LIST",
    "KEYLIME_REGISTRAR_MODE",
    "KEYLIME_REGISTRAR_PASSWORD",
    "KEYLIME_REGISTRAR_MUST",
    "KEYLIME_REGISTRAR_PIN",
    "KEYLIME_REGISTRAR_REVOCATIONS_ZMQ_PORT",
    "KEYLIME_REGISTRAR_ZMQ_PORT",
    "KEYLIME_AGENT_CONFIG",
    "KEYLIME_AGENT_UUID",
    "KEYLIME_AGENT_PORT",
    "KEYLIME_AGENT_TRUSTED_CLIENT_CA",
    "KEYLIME_AGENT_AGENT_PORT",
    "KEYLIME_VERIFIER_CONFIG",
    "KEYLIME_TENANT_CONFIG",
    "KEYLIME_CA_CONFIG",
    "KEYLIME_DIR",
};

static void
clear_env(void)
{
    for (size_t i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
        unsetenv(env_vars[i]);
}

static int
setup(void **state)
{
    fixture *f = kl_calloc(1, sizeof(*f));

    assert_non_null(f);
    clear_env();
    snprintf(f->root, sizeof(f->root), "%s/kl_config_XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(f->root));
    snprintf(f->etc, sizeof(f->etc), "%s/etc", f->root);
    snprintf(f->usr, sizeof(f->usr), "%s/usr", f->root);
    f->paths.etc = f->etc;
    f->paths.usr_etc = f->usr;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;

    kl_alloc_fail_at(0);
    kl_config_free(&f->c, &t_spec);
    clear_env();
    cfg_rmtree(f->root);
    kl_free(f);
    return 0;
}

static kl_rc
load(fixture *f)
{
    kl_config_free(&f->c, &t_spec);
    memset(&f->c, 0, sizeof(f->c));
    return kl_config_load(&f->c, &t_spec, &f->paths);
}

static const char *
src(fixture *f, const char *key)
{
    const char *s = kl_config_source(&f->c, &t_spec,
                                     strcmp(key, "zmq_port") ? "registrar" : "revocations", key);

    assert_non_null(s);
    return s;
}

/* "<root>/<rel>:<line>" */
static void
assert_src(fixture *f, const char *key, const char *rel, int line)
{
    char want[700];

    snprintf(want, sizeof(want), "%s/%s:%d", f->root, rel, line);
    assert_string_equal(src(f, key), want);
}

static void
test_config_defaults_without_files(void **state)
{
    fixture *f = *state;

    assert_int_equal(load(f), KL_OK);
    assert_string_equal(f->c.ip, "127.0.0.1");
    assert_int_equal(f->c.port, 8890);
    assert_true(f->c.flag);
    assert_true(f->c.timeout == 60.0);
    assert_int_equal(f->c.list.n, 1);
    assert_string_equal(f->c.list.items[0], "agent");
    assert_string_equal(f->c.mode, "warn");
    assert_string_equal(f->c.password, "");
    assert_int_equal(f->c.zmq_port, 8992);
    assert_string_equal(src(f, "port"), "default");
    assert_null(kl_config_source(&f->c, &t_spec, "registrar", "nope"));
    assert_null(kl_config_source(&f->c, &t_spec, "revocations", "port"));
}

static void
test_config_etc_beats_usr_etc(void **state)
{
    fixture *f = *state;

    cfg_put(f->root, "usr/registrar.conf", "[registrar]\nport = 1\nip = usr\n");
    assert_int_equal(load(f), KL_OK);
    assert_int_equal(f->c.port, 1);
    assert_string_equal(f->c.ip, "usr");
    assert_src(f, "port", "usr/registrar.conf", 2);
    /* once etc has the file, the usr_etc one is not read at all */
    cfg_put(f->root, "etc/registrar.conf", "[registrar]\n\nport = 2\n");
    assert_int_equal(load(f), KL_OK);
    assert_int_equal(f->c.port, 2);
    assert_string_equal(f->c.ip, "127.0.0.1");
    assert_src(f, "port", "etc/registrar.conf", 3);
    assert_string_equal(src(f, "ip"), "default");
}

static void
test_config_snippet_order(void **state)
{
    fixture *f = *state;

    cfg_put(f->root, "etc/registrar.conf", "[registrar]\nport = 1\nip = base\nmode = reject\n");
    cfg_put(f->root, "usr/registrar.conf", "[registrar]\nport = 99\n");
    cfg_put(f->root, "usr/registrar.conf.d/90-usr.conf", "[registrar]\nport = 2\nip = usr\n");
    cfg_put(f->root, "etc/registrar.conf.d/20-b.conf", "[registrar]\nport = 4\n");
    cfg_put(f->root, "etc/registrar.conf.d/10-a.conf", "[registrar]\nport = 3\nip = a\n");
    /* Python reads every regular file there, whatever its name */
    cfg_put(f->root, "etc/registrar.conf.d/30-c", "[revocations]\n# x\nzmq_port = 5\n");
    cfg_put(f->root, "etc/registrar.conf.d/sub/40-d.conf", "[registrar]\nport = 77\n");
    assert_int_equal(load(f), KL_OK);
    /* usr_etc snippets, then etc snippets by name: the etc 20-b wins */
    assert_int_equal(f->c.port, 4);
    assert_src(f, "port", "etc/registrar.conf.d/20-b.conf", 2);
    assert_string_equal(f->c.ip, "a");
    assert_src(f, "ip", "etc/registrar.conf.d/10-a.conf", 3);
    assert_string_equal(f->c.mode, "reject");
    assert_int_equal(f->c.zmq_port, 5);
    assert_src(f, "zmq_port", "etc/registrar.conf.d/30-c", 3);
    /* snippets apply without a base file too */
    {
        char base[700];

        snprintf(base, sizeof(base), "%s/registrar.conf", f->etc);
        assert_int_equal(unlink(base), 0);
    }
    assert_int_equal(load(f), KL_OK);
    assert_int_equal(f->c.port, 4);
    assert_string_equal(f->c.mode, "warn");
}

static void
test_config_env_file_replaces_all(void **state)
{
    fixture *f = *state;
    char path[700];

    cfg_put(f->root, "etc/registrar.conf", "[registrar]\nport = 1\nip = etc\n");
    cfg_put(f->root, "etc/registrar.conf.d/10-a.conf", "[registrar]\nport = 2\n");
    cfg_put(f->root, "other/x.conf", "[registrar]\nport = 3\n");
    snprintf(path, sizeof(path), "%s/other/x.conf", f->root);
    setenv("KEYLIME_REGISTRAR_CONFIG", path, 1);
    assert_int_equal(load(f), KL_OK);
    assert_int_equal(f->c.port, 3);
    assert_string_equal(f->c.ip, "127.0.0.1");
    assert_src(f, "port", "other/x.conf", 2);
    /* not a file: upstream falls back to the installed files */
    snprintf(path, sizeof(path), "%s/other", f->root);
    setenv("KEYLIME_REGISTRAR_CONFIG", path, 1);
    assert_int_equal(load(f), KL_OK);
    assert_int_equal(f->c.port, 2);
    setenv("KEYLIME_REGISTRAR_CONFIG", "/nonexistent/registrar.conf", 1);
    assert_int_equal(load(f), KL_OK);
    assert_int_equal(f->c.port, 2);
    assert_string_equal(f->c.ip, "etc");
}

static void
test_config_env_overrides(void **state)
{
    fixture *f = *state;

    cfg_put(f->root, "etc/registrar.conf", "[registrar]\nport = 1\n[revocations]\nzmq_port = 7\n");
    setenv("KEYLIME_REGISTRAR_PORT", " \"9000\" ", 1);
    setenv("KEYLIME_REGISTRAR_REVOCATIONS_ZMQ_PORT", "1234", 1);
    setenv("KEYLIME_REGISTRAR_ZMQ_PORT", "1", 1); /* wrong name for a [revocations] option */
    setenv("KEYLIME_REGISTRAR_IP", "\"0.0.0.0\"", 1);
    setenv("KEYLIME_REGISTRAR_LIST", "['x', \"y\"]", 1);
    assert_int_equal(load(f), KL_OK);
    assert_int_equal(f->c.port, 9000);
    assert_string_equal(src(f, "port"), "environment KEYLIME_REGISTRAR_PORT");
    assert_int_equal(f->c.zmq_port, 1234);
    assert_string_equal(src(f, "zmq_port"), "environment KEYLIME_REGISTRAR_REVOCATIONS_ZMQ_PORT");
    assert_string_equal(f->c.ip, "0.0.0.0");
    assert_int_equal(f->c.list.n, 2);
    assert_string_equal(f->c.list.items[1], "y");
    /* an empty variable still overrides (upstream: set means set) */
    setenv("KEYLIME_REGISTRAR_IP", "", 1);
    assert_int_equal(load(f), KL_OK);
    assert_string_equal(f->c.ip, "");
}

/* Sets one variable, loads, and expects the exact message. */
static void
expect_bad(fixture *f, const char *var, const char *value, const char *msg)
{
    char full[128];

    snprintf(full, sizeof(full), "KEYLIME_REGISTRAR_%s", var);
    setenv(full, value, 1);
    assert_int_equal(load(f), KL_EINVAL);
    assert_string_equal(kl_err_msg(), msg);
    /* a failed load leaves nothing behind */
    assert_null(f->c.meta.sources);
    assert_null(f->c.ip);
    assert_null(f->c.list.items);
    unsetenv(full);
}

static void
test_config_validation_messages(void **state)
{
    fixture *f = *state;

    cfg_put(f->root, "etc/registrar.conf.d/10-x.conf", "[registrar]\n# c\nport = abc\n");
    assert_int_equal(load(f), KL_EINVAL);
    {
        char want[800];

        snprintf(want, sizeof(want),
                 "registrar.conf: [registrar] port = 'abc' (from "
                 "%s/etc/registrar.conf.d/10-x.conf:3): not an integer; expected 1..65535",
                 f->root);
        assert_string_equal(kl_err_msg(), want);
    }
    cfg_rmtree(f->etc);
#define ENV "' (from environment KEYLIME_REGISTRAR_"
    expect_bad(f, "PORT", "0",
               "registrar.conf: [registrar] port = '0" ENV
               "PORT): out of range; expected 1..65535");
    expect_bad(f, "PORT", "65536",
               "registrar.conf: [registrar] port = '65536" ENV
               "PORT): out of range; expected 1..65535");
    expect_bad(f, "PORT", "80.0",
               "registrar.conf: [registrar] port = '80.0" ENV
               "PORT): not an integer; expected 1..65535");
    expect_bad(f, "PORT", "0x50",
               "registrar.conf: [registrar] port = '0x50" ENV
               "PORT): not an integer; expected 1..65535");
    expect_bad(f, "PORT", "",
               "registrar.conf: [registrar] port = '" ENV
               "PORT): not an integer; expected 1..65535");
    expect_bad(f, "PORT", "99999999999999999999",
               "registrar.conf: [registrar] port = "
               "'99999999999999999999" ENV "PORT): not an integer; expected 1..65535");
    expect_bad(f, "FLAG", "maybe",
               "registrar.conf: [registrar] flag = 'maybe" ENV
               "FLAG): not a boolean; expected one of 1, yes, true, on, 0, no, false, off");
    expect_bad(f, "TIMEOUT", "soon",
               "registrar.conf: [registrar] timeout = 'soon" ENV
               "TIMEOUT): not a number; expected 1..3600");
    expect_bad(f, "TIMEOUT", "nan",
               "registrar.conf: [registrar] timeout = 'nan" ENV
               "TIMEOUT): not a number; expected 1..3600");
    expect_bad(f, "TIMEOUT", "0.5",
               "registrar.conf: [registrar] timeout = '0.5" ENV
               "TIMEOUT): out of range; expected 1..3600");
    expect_bad(f, "LIST", "['a'",
               "registrar.conf: [registrar] list = '['a'" ENV
               "LIST): not a Python list of strings: position 5: expected ',' or ']'");
    expect_bad(f, "MODE", "Warn",
               "registrar.conf: [registrar] mode = 'Warn" ENV
               "MODE): not allowed; expected one of warn, reject, ignore");
    expect_bad(f, "MUST", "\" \"",
               "registrar.conf: [registrar] must = '" ENV "MUST): empty; this option must be set");
    /* secrets are not repeated in messages */
    expect_bad(f, "PIN", "12345",
               "registrar.conf: [registrar] pin = '<hidden>" ENV
               "PIN): out of range; expected 0..9999");
#undef ENV
}

static void
test_config_conversions(void **state)
{
    fixture *f = *state;
    static const char *const yes[] = {"1", "yes", "TRUE", "On", "\"true\""};
    static const char *const no[] = {"0", "No", "false", "OFF"};

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        setenv("KEYLIME_REGISTRAR_FLAG", yes[i], 1);
        assert_int_equal(load(f), KL_OK);
        assert_true(f->c.flag);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        setenv("KEYLIME_REGISTRAR_FLAG", no[i], 1);
        assert_int_equal(load(f), KL_OK);
        assert_false(f->c.flag);
    }
    cfg_put(f->root, "etc/registrar.conf",
            "[registrar]\nport = 1_000\ntimeout = 2.5e2\nlist = [' a ',\n   \"b\"]\n"
            "mode = \"ignore\"\npassword = \"  s3cret\"\n"
            "[revocations]\nzmq_port = +7\n");
    assert_int_equal(load(f), KL_OK);
    assert_int_equal(f->c.port, 1000);
    assert_true(f->c.timeout == 250.0);
    assert_int_equal(f->c.list.n, 2);
    assert_string_equal(f->c.list.items[0], "a"); /* items stripped like getlist */
    assert_string_equal(f->c.list.items[1], "b");
    assert_string_equal(f->c.mode, "ignore");
    assert_string_equal(f->c.password, "s3cret");
    assert_int_equal(f->c.zmq_port, 7);
    /* a list not written as a Python literal: separated words */
    setenv("KEYLIME_REGISTRAR_LIST", "host.example, 10.0.0.1 ::1", 1);
    assert_int_equal(load(f), KL_OK);
    assert_int_equal(f->c.list.n, 3);
    assert_string_equal(f->c.list.items[2], "::1");
    setenv("KEYLIME_REGISTRAR_LIST", "", 1);
    assert_int_equal(load(f), KL_OK);
    assert_int_equal(f->c.list.n, 0);
    setenv("KEYLIME_REGISTRAR_LIST", "[]", 1);
    assert_int_equal(load(f), KL_OK);
    assert_int_equal(f->c.list.n, 0);
}

static void
test_config_default_section_and_duplicates(void **state)
{
    fixture *f = *state;

    cfg_put(f->root, "etc/registrar.conf", "[DEFAULT]\nport = 5\n[registrar]\nip = x\n");
    assert_int_equal(load(f), KL_OK);
    assert_int_equal(f->c.port, 5);
    /* [revocations] does not exist: DEFAULT does not reach it */
    assert_int_equal(f->c.zmq_port, 8992);
    cfg_put(f->root, "etc/registrar.conf", "[registrar]\nport = 5\nPort = 6\n");
    assert_int_equal(load(f), KL_EPARSE);
    assert_non_null(strstr(kl_err_msg(), "registrar.conf:3: option 'port' in section [registrar] "
                                         "given twice in this file (first at line 2)"));
    assert_null(f->c.meta.sources);
}

/* --- upstream's own files --- */

typedef struct {
    kl_config_meta meta;
    char *ip, *tls_dir, *database_url, *password;
    long long port, tls_port, zmq_port;
    bool auto_migrate;
    double request_timeout;
    kl_strlist notifications, algs, labels, sans;
} u_conf;

#define U(sec, key, type, def, field)                                                              \
    {                                                                                              \
        sec, key, type, def, 0, 0, NULL, offsetof(u_conf, field), 0                                \
    }

static const kl_opt reg_opts[] = {
    U("registrar", "ip", KL_OPT_STR, "x", ip),
    U("registrar", "port", KL_OPT_INT, "0", port),
    U("registrar", "tls_port", KL_OPT_INT, "0", tls_port),
    U("registrar", "tls_dir", KL_OPT_STR, "x", tls_dir),
    U("registrar", "database_url", KL_OPT_STR, "x", database_url),
    U("registrar", "auto_migrate_db", KL_OPT_BOOL, "False", auto_migrate),
    U("registrar", "server_key_password", KL_OPT_STR, "x", password),
    U("registrar", "cert_subject_alternative_names", KL_OPT_LIST, "['x']", sans),
};
static const kl_opt ver_opts[] = {
    U("verifier", "port", KL_OPT_INT, "0", port),
    U("verifier", "tls_dir", KL_OPT_STR, "x", tls_dir),
    U("verifier", "request_timeout", KL_OPT_FLOAT, "0", request_timeout),
    U("verifier", "severity_labels", KL_OPT_LIST, "[]", labels),
    U("revocations", "enabled_revocation_notifications", KL_OPT_LIST, "[]", notifications),
    U("revocations", "zmq_port", KL_OPT_INT, "0", zmq_port),
};
static const kl_opt ten_opts[] = {
    U("tenant", "registrar_port", KL_OPT_INT, "0", port),
    U("tenant", "accept_tpm_hash_algs", KL_OPT_LIST, "[]", algs),
    U("tenant", "request_timeout", KL_OPT_FLOAT, "0", request_timeout),
};
static const kl_opt ca_opts[] = {
    U("ca", "cert_bits", KL_OPT_INT, "0", port),
    U("ca", "cert_ca_name", KL_OPT_STR, "x", ip),
    U("ca", "password", KL_OPT_STR, "x", password),
};
#define SPEC(c, o)                                                                                 \
    {                                                                                              \
        c, false, o, sizeof(o) / sizeof(o[0])                                                      \
    }

static void
load_data(fixture *f, const kl_config_spec *spec, const char *file, u_conf *u)
{
    kl_buf b;
    char rel[128];

    cfg_data_read(&b, file);
    snprintf(rel, sizeof(rel), "usr/%s", file);
    cfg_put(f->root, rel, (const char *)b.ptr);
    kl_buf_free(&b);
    memset(u, 0, sizeof(*u));
    if (kl_config_load(u, spec, &f->paths) != KL_OK)
        fail_msg("%s: %s", file, kl_err_msg());
}

static void
test_config_upstream_files(void **state)
{
    static const kl_config_spec reg = SPEC("registrar", reg_opts), ver = SPEC("verifier", ver_opts),
                                ten = SPEC("tenant", ten_opts), ca = SPEC("ca", ca_opts);
    fixture *f = *state;
    u_conf u;

    load_data(f, &reg, "registrar.conf", &u);
    assert_string_equal(u.ip, "127.0.0.1"); /* written "127.0.0.1" with quotes */
    assert_int_equal(u.port, 8890);
    assert_int_equal(u.tls_port, 8891);
    assert_string_equal(u.tls_dir, "default");
    assert_string_equal(u.database_url, "sqlite");
    assert_true(u.auto_migrate);
    assert_string_equal(u.password, "");
    assert_int_equal(u.sans.n, 0);
    kl_config_free(&u, &reg);
    load_data(f, &ver, "verifier.conf", &u);
    assert_int_equal(u.port, 8881);
    assert_string_equal(u.tls_dir, "generate");
    assert_true(u.request_timeout == 60.0);
    assert_int_equal(u.labels.n, 7);
    assert_string_equal(u.labels.items[6], "emergency");
    assert_int_equal(u.notifications.n, 1);
    assert_string_equal(u.notifications.items[0], "agent");
    assert_int_equal(u.zmq_port, 8992);
    kl_config_free(&u, &ver);
    load_data(f, &ten, "tenant.conf", &u);
    assert_int_equal(u.port, 8891);
    assert_int_equal(u.algs.n, 3);
    assert_string_equal(u.algs.items[0], "sha512");
    assert_true(u.request_timeout == 60.0);
    kl_config_free(&u, &ten);
    load_data(f, &ca, "ca.conf", &u);
    assert_int_equal(u.port, 2048);
    assert_string_equal(u.ip, "Keylime Certificate Authority");
    assert_string_equal(u.password, "default");
    kl_config_free(&u, &ca);
}

/* --- the agent (TOML) --- */

typedef struct {
    kl_config_meta meta;
    char *uuid, *ip;
    long long port;
    bool mtls;
    kl_strlist api, ca;
} a_conf;

#define A(key, type, def, field)                                                                   \
    {                                                                                              \
        "agent", key, type, def, 0, 0, NULL, offsetof(a_conf, field), 0                            \
    }

static const kl_opt a_opts[] = {
    A("uuid", KL_OPT_STR, "d432fbb3-d2f1-4a97-9ef7-75bd81c00000", uuid),
    A("ip", KL_OPT_STR, "127.0.0.1", ip),
    {"agent", "port", KL_OPT_INT, "9002", 1, 65535, NULL, offsetof(a_conf, port), 0},
    A("enable_agent_mtls", KL_OPT_BOOL, "true", mtls),
    A("api_versions", KL_OPT_LIST, "default", api),
    A("trusted_client_ca", KL_OPT_LIST, "default", ca),
};
static const kl_config_spec a_spec = {"agent", true, a_opts, sizeof(a_opts) / sizeof(a_opts[0])};

static kl_rc
load_agent(fixture *f, a_conf *a)
{
    kl_config_free(a, &a_spec);
    memset(a, 0, sizeof(*a));
    return kl_config_load(a, &a_spec, &f->paths);
}

static void
test_config_agent_upstream_defaults(void **state)
{
    fixture *f = *state;
    a_conf a = {0};
    kl_buf b;

    assert_int_equal(load_agent(f, &a), KL_OK);
    assert_string_equal(a.uuid, "d432fbb3-d2f1-4a97-9ef7-75bd81c00000");
    assert_string_equal(kl_config_source(&a, &a_spec, "agent", "uuid"), "default");
    cfg_data_read(&b, "keylime-agent.conf");
    cfg_put(f->root, "usr/agent.conf", (const char *)b.ptr);
    kl_buf_free(&b);
    assert_int_equal(load_agent(f, &a), KL_OK);
    assert_string_equal(a.uuid, "d432fbb3-d2f1-4a97-9ef7-75bd81c00000");
    assert_int_equal(a.port, 9002);
    assert_true(a.mtls);
    assert_int_equal(a.api.n, 1);
    assert_string_equal(a.api.items[0], "default");
    assert_string_equal(a.ca.items[0], "default");
    {
        char want[700];

        snprintf(want, sizeof(want), "%s/usr/agent.conf:44", f->root);
        assert_string_equal(kl_config_source(&a, &a_spec, "agent", "port"), want);
    }
    kl_config_free(&a, &a_spec);
}

static void
test_config_agent_precedence_and_env(void **state)
{
    fixture *f = *state;
    a_conf a = {0};
    char path[700];

    cfg_put(f->root, "usr/agent.conf", "[agent]\nport = 1\nip = \"usr\"\n");
    cfg_put(f->root, "etc/agent.conf", "[agent]\nport = 2\n");
    cfg_put(f->root, "usr/agent.conf.d/50-u.conf", "[agent]\nport = 3\nip = \"u\"\n");
    cfg_put(f->root, "etc/agent.conf.d/20-e.conf", "[agent]\nport = 4\n");
    cfg_put(f->root, "etc/agent.conf.d/10-e.conf", "[agent]\nport = 5\n");
    cfg_put(f->root, "etc/agent.conf.d/30-skip.toml", "[agent]\nport = 6\n");
    cfg_put(f->root, "etc/agent.conf.d/99-ca.conf",
            "[agent]\ntrusted_client_ca = [\"/a.crt\",\n  '/b.crt']\n");
    assert_int_equal(load_agent(f, &a), KL_OK);
    assert_int_equal(a.port, 4);
    assert_string_equal(a.ip, "u");
    assert_int_equal(a.ca.n, 2);
    assert_string_equal(a.ca.items[1], "/b.crt");
    /* env overrides: KEYLIME_AGENT_<OPTION>, no section part */
    setenv("KEYLIME_AGENT_UUID", "\"abc\"", 1);
    setenv("KEYLIME_AGENT_AGENT_PORT", "7", 1); /* not a name the loader uses */
    setenv("KEYLIME_AGENT_TRUSTED_CLIENT_CA", "[x.crt, 'y.crt']", 1);
    assert_int_equal(load_agent(f, &a), KL_OK);
    assert_string_equal(a.uuid, "abc");
    assert_int_equal(a.port, 4);
    assert_int_equal(a.ca.n, 2);
    assert_string_equal(a.ca.items[0], "x.crt");
    assert_string_equal(a.ca.items[1], "y.crt");
    assert_string_equal(kl_config_source(&a, &a_spec, "agent", "uuid"),
                        "environment KEYLIME_AGENT_UUID");
    /* KEYLIME_AGENT_CONFIG: that file alone */
    cfg_put(f->root, "alt.conf", "[agent]\nip = 'alt'\n");
    snprintf(path, sizeof(path), "%s/alt.conf", f->root);
    setenv("KEYLIME_AGENT_CONFIG", path, 1);
    assert_int_equal(load_agent(f, &a), KL_OK);
    assert_int_equal(a.port, 9002);
    assert_string_equal(a.ip, "alt");
    /* ... and, as in the Rust agent, a missing one is an error */
    setenv("KEYLIME_AGENT_CONFIG", "/nonexistent/agent.conf", 1);
    assert_int_equal(load_agent(f, &a), KL_ENOTFOUND);
    assert_non_null(strstr(kl_err_msg(), "KEYLIME_AGENT_CONFIG=/nonexistent/agent.conf"));
    kl_config_free(&a, &a_spec);
}

static void
test_config_agent_errors(void **state)
{
    fixture *f = *state;
    a_conf a = {0};
    char want[800];

    cfg_put(f->root, "etc/agent.conf", "[agent]\nport = [1]\n");
    assert_int_equal(load_agent(f, &a), KL_EINVAL);
    snprintf(want, sizeof(want),
             "agent.conf: [agent] port = '['1']' (from %s/etc/agent.conf:2): "
             "an array; expected a single value",
             f->root);
    assert_string_equal(kl_err_msg(), want);
    cfg_put(f->root, "etc/agent.conf", "[agent]\nport = \"x\"\n");
    assert_int_equal(load_agent(f, &a), KL_EINVAL);
    assert_non_null(strstr(kl_err_msg(), "port = 'x'"));
    cfg_put(f->root, "etc/agent.conf", "[agent]\nport = 1.5\n");
    assert_int_equal(load_agent(f, &a), KL_EPARSE);
    snprintf(want, sizeof(want), "%s/etc/agent.conf:2: floats and dates are not supported",
             f->root);
    assert_string_equal(kl_err_msg(), want);
    /* a string where a list is expected: separated words */
    cfg_put(f->root, "etc/agent.conf", "[agent]\napi_versions = \"2.1, 2.2 2.3\"\n");
    assert_int_equal(load_agent(f, &a), KL_OK);
    assert_int_equal(a.api.n, 3);
    assert_string_equal(a.api.items[2], "2.3");
    kl_config_free(&a, &a_spec);
    /* the component name decides the variable: not KEYLIME_AGENT_* here */
    setenv("KEYLIME_AGENT_PORT", "1", 1);
    assert_int_equal(load(f), KL_OK);
    assert_int_equal(f->c.port, 8890);
    (void)t_agent;
}

static void
test_config_dump(void **state)
{
    fixture *f = *state;
    static char text[4096];
    size_t len;
    FILE *m;

    cfg_put(f->root, "etc/registrar.conf",
            "[registrar]\npassword = hunter2\nlist = ['a', \"b'c\"]\n");
    assert_int_equal(load(f), KL_OK);
    m = tmpfile();
    assert_non_null(m);
    kl_config_dump(&f->c, &t_spec, m);
    rewind(m);
    len = fread(text, 1, sizeof(text) - 1, m);
    text[len] = '\0';
    fclose(m);
    assert_non_null(strstr(text, "# registrar.conf\n"));
    assert_non_null(strstr(text, "registrar.ip = 127.0.0.1  # default\n"));
    assert_non_null(strstr(text, "registrar.port = 8890  # default\n"));
    assert_non_null(strstr(text, "registrar.flag = True  # default\n"));
    assert_non_null(strstr(text, "registrar.timeout = 60  # default\n"));
    assert_non_null(strstr(text, "registrar.list = ['a', 'b\\'c']  # "));
    assert_non_null(strstr(text, "registrar.password = <hidden>  # "));
    assert_non_null(strstr(text, "registrar.pin = <hidden>  # default\n"));
    assert_non_null(strstr(text, "revocations.zmq_port = 8992  # default\n"));
    assert_null(strstr(text, "hunter2"));
}

static void
test_config_paths_and_work_dir(void **state)
{
    char *p = NULL;

    (void)state;
    assert_int_equal(kl_config_path(&p, "default", "/var/lib/keylime/cv_ca", "cacert.crt"), KL_OK);
    assert_string_equal(p, "/var/lib/keylime/cv_ca/cacert.crt");
    kl_free(p);
    assert_int_equal(kl_config_path(&p, "", "/d/", "f"), KL_OK);
    assert_string_equal(p, "/d/f");
    kl_free(p);
    assert_int_equal(kl_config_path(&p, NULL, "/d", "f"), KL_OK);
    assert_string_equal(p, "/d/f");
    kl_free(p);
    assert_int_equal(kl_config_path(&p, "sub/x.pem", "/d", "f"), KL_OK);
    assert_string_equal(p, "/d/sub/x.pem");
    kl_free(p);
    assert_int_equal(kl_config_path(&p, "/abs/x.pem", "/d", "f"), KL_OK);
    assert_string_equal(p, "/abs/x.pem");
    kl_free(p);
    assert_int_equal(kl_config_path(&p, "default", "/d", NULL), KL_EINVAL);
    assert_null(p);
    unsetenv("KEYLIME_DIR");
    assert_string_equal(kl_config_work_dir(), "/var/lib/keylime");
    setenv("KEYLIME_DIR", "", 1);
    assert_string_equal(kl_config_work_dir(), "/var/lib/keylime");
    setenv("KEYLIME_DIR", "/tmp/kl", 1);
    assert_string_equal(kl_config_work_dir(), "/tmp/kl");
}

static void
test_config_alloc_failures(void **state)
{
    fixture *f = *state;

    cfg_put(f->root, "etc/registrar.conf", "[registrar]\nport = 5\nlist = ['a']\n");
    cfg_put(f->root, "etc/registrar.conf.d/1.conf", "[registrar]\nip = x\n");
    setenv("KEYLIME_REGISTRAR_MODE", "reject", 1);
    for (size_t n = 1; n < 400; n++) {
        kl_rc rc;

        kl_config_free(&f->c, &t_spec);
        memset(&f->c, 0, sizeof(f->c));
        kl_alloc_fail_at(n);
        rc = kl_config_load(&f->c, &t_spec, &f->paths);
        kl_alloc_fail_at(0);
        if (rc == KL_OK) {
            assert_string_equal(f->c.mode, "reject");
            return;
        }
        assert_int_equal(rc, KL_ENOMEM);
        assert_null(f->c.meta.sources);
    }
    fail_msg("never succeeded");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_config_defaults_without_files),
        T(test_config_etc_beats_usr_etc),
        T(test_config_snippet_order),
        T(test_config_env_file_replaces_all),
        T(test_config_env_overrides),
        T(test_config_validation_messages),
        T(test_config_conversions),
        T(test_config_default_section_and_duplicates),
        T(test_config_upstream_files),
        T(test_config_agent_upstream_defaults),
        T(test_config_agent_precedence_and_env),
        T(test_config_agent_errors),
        T(test_config_dump),
        T(test_config_paths_and_work_dir),
        T(test_config_alloc_failures),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
