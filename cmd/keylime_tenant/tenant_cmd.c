/* tenant_cmd: the tenant's state, the command table, and the add/update
 * sequence (upstream Tenant.__init__, init_add, preloop and main's
 * dispatch; PROTOCOL.md 11.5). */
#include "payload/bootstrap.h"
#include "tenant.h"
#include "util/kl_alloc.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

static kl_rc
dup_or_null(char **out, const char *s)
{
    *out = NULL;
    if (s && !(*out = kl_strdup(s)))
        return kl_err_set(KL_ENOMEM, "out of memory");
    return KL_OK;
}

kl_rc
tenant_init(tenant *t, const tenant_config *cfg, const tenant_args *args)
{
    kl_rc rc;

    memset(t, 0, sizeof(*t));
    t->cfg = cfg;
    t->args = args;
    t->agent_mtls = cfg->enable_agent_mtls;
    t->agent_uuid = args->agent_uuid ? args->agent_uuid : TENANT_DEFAULT_UUID;
    kl_buf_init(&t->revocation_key, 1u << 20);
    kl_buf_init(&t->payload, (size_t)1 << 30);
    t->metadata = json_object();
    rc = t->metadata ? KL_OK : kl_err_set(KL_ENOMEM, "out of memory");
    if (rc == KL_OK)
        rc = dup_or_null(&t->verifier_ip, args->verifier_ip ? args->verifier_ip : cfg->verifier_ip);
    if (rc == KL_OK)
        rc = dup_or_null(&t->verifier_port,
                         args->verifier_port ? args->verifier_port : cfg->verifier_port);
    if (rc == KL_OK)
        rc = dup_or_null(&t->verifier_id, args->verifier_id);
    if (rc == KL_OK)
        rc = dup_or_null(&t->registrar_ip,
                         args->registrar_ip ? args->registrar_ip : cfg->registrar_ip);
    if (rc == KL_OK)
        rc = dup_or_null(&t->registrar_port,
                         args->registrar_port ? args->registrar_port : cfg->registrar_port);
    return rc;
}

void
tenant_free(tenant *t)
{
    kl_free(t->verifier_ip);
    kl_free(t->verifier_port);
    kl_free(t->verifier_id);
    kl_free(t->registrar_ip);
    kl_free(t->registrar_port);
    kl_free(t->agent_ip);
    kl_free(t->agent_port);
    kl_free(t->cv_agent_ip);
    tenant_regdata_free(&t->reg);
    tenant_policy_free(&t->pol);
    json_decref(t->metadata);
    kl_buf_free_secret(&t->revocation_key);
    kl_buf_free_secret(&t->payload);
    tenant_tls_free(&t->tls);
    kl_wipe(t->k, sizeof(t->k));
    kl_wipe(t->u, sizeof(t->u));
    kl_wipe(t->v, sizeof(t->v));
    kl_wipe(t->auth_tag, sizeof(t->auth_tag));
}

void
tenant_set_fid(tenant *t)
{
    size_t n;

    n = (size_t)snprintf(t->fid_agent, sizeof(t->fid_agent), "Agent %s", t->agent_uuid);
    if (t->agent_ip && t->agent_ip[0] && n < sizeof(t->fid_agent))
        snprintf(t->fid_agent + n, sizeof(t->fid_agent) - n, " (%s:%s)", t->agent_ip,
                 t->agent_port ? t->agent_port : "None");
    n = (size_t)snprintf(t->fid_verifier, sizeof(t->fid_verifier), "Verifier");
    if (t->verifier_id && t->verifier_id[0])
        n += (size_t)snprintf(t->fid_verifier + n, sizeof(t->fid_verifier) - n, " %s",
                              t->verifier_id);
    if (t->verifier_ip && t->verifier_ip[0] && n < sizeof(t->fid_verifier))
        snprintf(t->fid_verifier + n, sizeof(t->fid_verifier) - n, " (%s:%s)", t->verifier_ip,
                 t->verifier_port ? t->verifier_port : "None");
    n = (size_t)snprintf(t->fid_registrar, sizeof(t->fid_registrar), "Registrar");
    if (t->registrar_ip && t->registrar_ip[0] && n < sizeof(t->fid_registrar))
        snprintf(t->fid_registrar + n, sizeof(t->fid_registrar) - n, " (%s:%s)", t->registrar_ip,
                 t->registrar_port ? t->registrar_port : "None");
}

/* upstream retry.retry_time: base ** n with exponential backoff (when the
 * base is above 1), else the base. */
double
tenant_retry_time(const tenant *t, unsigned n)
{
    double base = t->cfg->retry_interval;

    if (t->cfg->exponential_backoff && base > 1)
        return pow(base, (double)n);
    return fabs(base);
}

void
tenant_sleep(double seconds)
{
    struct timespec ts;

    if (seconds <= 0)
        return;
    if (seconds > 86400)
        seconds = 86400;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The agent's address from the registrar where the command line gave none. */
static kl_rc
address_from_registrar(tenant *t)
{
    json_t *ip = json_object_get(t->reg.record, "ip"),
           *port = json_object_get(t->reg.record, "port");
    kl_rc rc = KL_OK;

    if (!t->agent_ip && !json_is_null(ip))
        rc = dup_or_null(&t->agent_ip, json_is_string(ip) ? json_string_value(ip) : NULL);
    if (rc == KL_OK && !t->agent_port && !json_is_null(port)) {
        t->agent_port = json_is_string(port) ? kl_strdup(json_string_value(port)) : tl_dumps(port);
        t->agent_port_int = json_is_integer(port);
        if (!t->agent_port)
            rc = kl_err_set(KL_ENOMEM, "out of memory");
    }
    return rc;
}

kl_rc
tenant_init_add(tenant *t)
{
    const tenant_args *a = t->args;
    bool found = false;
    kl_rc rc = dup_or_null(&t->agent_ip, a->agent_ip);

    if (rc == KL_OK)
        rc = dup_or_null(&t->agent_port, a->agent_port);
    if (rc != KL_OK)
        return rc;
    if (!t->registrar_ip || !t->registrar_ip[0] || !t->registrar_port || !t->registrar_port[0])
        return kl_err_set(KL_EINVAL, "registrar_ip and registrar_port have both to be set in the "
                                     "configuration");
    rc = tenant_reg_get(t, &found);
    if (rc == KL_OK && !found)
        rc = kl_err_set(KL_ENOTFOUND, "Agent $%s data not found in the Registrar.", t->agent_uuid);
    if (rc == KL_OK)
        rc = address_from_registrar(t);
    if (rc != KL_OK)
        return rc;
    snprintf(t->fid_agent, sizeof(t->fid_agent), "Agent %s", t->agent_uuid);
    snprintf(t->fid_verifier, sizeof(t->fid_verifier), "Verifier");
    rc = tenant_agent_version(t);
    if (rc == KL_OK) {
        tenant_set_fid(t);
        rc = dup_or_null(&t->cv_agent_ip, a->cv_agent_ip ? a->cv_agent_ip : t->agent_ip);
    }
    if (rc == KL_OK)
        rc = tenant_policy_process(t);
    if (rc == KL_OK)
        rc = tenant_payload_prepare(t);
    return rc;
}

/* preloop: the auth tag binds K to the agent id. */
static kl_rc
preloop(tenant *t)
{
    return kl_bootstrap_hmac_hex(t->auth_tag, KL_BYTES(t->k, t->klen),
                                 KL_BYTES_CSTR(t->agent_uuid));
}

static kl_rc
provision(tenant *t)
{
    kl_rc rc = preloop(t);

    if (rc == KL_OK)
        rc = tenant_quote(t);
    if (rc == KL_OK)
        rc = tenant_cvadd(t);
    if (rc == KL_OK && t->args->verify)
        rc = tenant_verify(t);
    return rc;
}

static kl_rc
cmd_add(tenant *t)
{
    kl_rc rc = tenant_init_add(t);

    return rc == KL_OK ? provision(t) : rc;
}

static kl_rc
cmd_update(tenant *t)
{
    kl_rc rc = tenant_init_add(t);

    if (rc == KL_OK)
        rc = tenant_cvdelete(t, t->args->verifier_check);
    return rc == KL_OK ? provision(t) : rc;
}

static kl_rc
cmd_delete(tenant *t)
{
    return tenant_cvdelete(t, t->args->verifier_check);
}

static kl_rc
cmd_cvstatus(tenant *t)
{
    json_int_t code;

    return tenant_cvstatus(t, true, &code, NULL);
}

static kl_rc
cmd_reactivate(tenant *t)
{
    return tenant_cmd_reactivate(t, t->args->verifier_check);
}

typedef struct {
    const char *name;
    kl_rc (*run)(tenant *t);
} tenant_command;

static const tenant_command commands[] = {
    {"add", cmd_add},
    {"update", cmd_update},
    {"delete", cmd_delete},
    {"status", tenant_cmd_status},
    {"cvstatus", cmd_cvstatus},
    {"bulkinfo", tenant_cmd_bulkinfo},
    {"cvlist", tenant_cmd_cvlist},
    {"reactivate", cmd_reactivate},
    {"regstatus", tenant_cmd_regstatus},
    {"reglist", tenant_cmd_reglist},
    {"regdelete", tenant_cmd_regdelete},
};

kl_rc
tenant_run(tenant *t)
{
    const char *c = t->args->command;

    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(commands[i].name, c))
            return commands[i].run(t);
    if (tenant_is_policy_command(c))
        return tenant_cmd_policy(t, c);
    return kl_err_set(KL_EINVAL, "Invalid command specified: %s", c);
}
