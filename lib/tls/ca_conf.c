/* ca_conf: ca.conf's [ca] options and the CA parameters made of them. */
#include "tls/ca.h"

#include <stddef.h>

#define CA_OPT(key, type, def, lo, hi, field, flags)                                               \
    {                                                                                              \
        "ca", key, type, def, lo, hi, NULL, offsetof(kl_ca_conf, field), flags                     \
    }

static const kl_opt ca_opts[] = {
    CA_OPT("password", KL_OPT_STR, "default", 0, 0, password, KL_OPT_SECRET),
    CA_OPT("cert_country", KL_OPT_STR, "US", 0, 0, cert_country, 0),
    CA_OPT("cert_ca_name", KL_OPT_STR, "Keylime Certificate Authority", 0, 0, cert_ca_name, 0),
    CA_OPT("cert_state", KL_OPT_STR, "MA", 0, 0, cert_state, 0),
    CA_OPT("cert_locality", KL_OPT_STR, "Lexington", 0, 0, cert_locality, 0),
    CA_OPT("cert_organization", KL_OPT_STR, "Keylime", 0, 0, cert_organization, 0),
    CA_OPT("cert_org_unit", KL_OPT_STR, "53", 0, 0, cert_org_unit, 0),
    CA_OPT("cert_ca_lifetime", KL_OPT_INT, "3650", 1, 36500, cert_ca_lifetime, 0),
    CA_OPT("cert_lifetime", KL_OPT_INT, "365", 1, 36500, cert_lifetime, 0),
    CA_OPT("cert_bits", KL_OPT_INT, "2048", 2048, 16384, cert_bits, 0),
    CA_OPT("cert_crl_dist", KL_OPT_STR, "http://localhost:38080/crl", 0, 0, cert_crl_dist, 0),
};

const kl_config_spec kl_ca_conf_spec = {
    .component = "ca",
    .toml = false,
    .opts = ca_opts,
    .n_opts = sizeof(ca_opts) / sizeof(ca_opts[0]),
};

kl_rc
kl_ca_conf_load(kl_ca_conf *out, const kl_config_paths *paths)
{
    *out = (kl_ca_conf){0};
    return kl_config_load(out, &kl_ca_conf_spec, paths);
}

void
kl_ca_conf_free(kl_ca_conf *c)
{
    kl_config_free(c, &kl_ca_conf_spec);
}

void
kl_ca_params_default(kl_ca_params *p)
{
    *p = (kl_ca_params){
        .password = "default",
        .country = "US",
        .ca_name = "Keylime Certificate Authority",
        .state = "MA",
        .locality = "Lexington",
        .organization = "Keylime",
        .org_unit = "53",
        .ca_days = 3650,
        .cert_days = 365,
        .bits = 2048,
        .crl_dist = "http://localhost:38080/crl",
    };
}

void
kl_ca_params_from_conf(kl_ca_params *p, const kl_ca_conf *c)
{
    *p = (kl_ca_params){
        .password = c->password,
        .country = c->cert_country,
        .ca_name = c->cert_ca_name,
        .state = c->cert_state,
        .locality = c->cert_locality,
        .organization = c->cert_organization,
        .org_unit = c->cert_org_unit,
        .ca_days = (unsigned)c->cert_ca_lifetime,
        .cert_days = (unsigned)c->cert_lifetime,
        .bits = (unsigned)c->cert_bits,
        .crl_dist = c->cert_crl_dist,
    };
}
