/* keylime-policy check runtime: evaluate an IMA measurement list against a
 * runtime policy offline, with the verifier's rules, and print one JSON
 * object:
 *   {"valid": bool, "failures": [{"event_id", "context"}...],
 *    "pcr10": "<hex>", "pcr10_match_entry": N|null, "entries": N}
 * pcr10 is the replay over the whole given list (from --start-pcr10 when
 * given); pcr10_match_entry is the entry number (counted from the start of
 * the full log, so --start-entry included) up to which the list reproduces
 * --pcr10, i.e. the next entry the verifier would request.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "crypto/pubkey.h"
#include "ima/ima_binary.h"
#include "ima/ima_keyring.h"
#include "json/json.h"
#include "policy/runtime_eval.h"
#include "policy/runtime_policy.h"
#include "util/kl_alloc.h"
#include "util/kl_hex.h"

typedef struct {
    const char *policy;
    const char *policy_key;
    const char *log;
    const char *hash_alg;
    const char *pcr10;
    const char *start_entry;
    const char *start_pcr10;
    const char *keys;
    bool tomtou;
} options;

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: keylime-policy check runtime --ima-log LOG --hash-alg ALG\n"
            "           [--runtime-policy POLICY.json] [--runtime-policy-key KEY.pem]\n"
            "           [--pcr10 HEX] [--start-entry N --start-pcr10 HEX]\n"
            "           [--verification-keys KEYRING.json] [--ignore-tomtou-errors]\n\n"
            "Evaluates an IMA measurement list (ASCII or binary) as the verifier would.\n"
            "  --ima-log LOG              the list, or the part of it from --start-entry on\n"
            "  --hash-alg ALG             PCR bank replayed: sha1, sha256, sha384, sha512\n"
            "  --runtime-policy FILE      runtime policy or DSSE envelope (default: the\n"
            "                             empty policy, which allows nothing)\n"
            "  --runtime-policy-key FILE  ECDSA public key (PEM) to verify a DSSE policy\n"
            "  --pcr10 HEX                quoted PCR 10 to match (no PCR check without it)\n"
            "  --start-entry N            first entry of LOG, from an earlier attestation\n"
            "  --start-pcr10 HEX          PCR 10 after the entries before it\n"
            "  --verification-keys FILE   IMA keyring JSON for ima-sig (overrides the\n"
            "                             policy's verification-keys)\n"
            "  --ignore-tomtou-errors     as verifier.conf ignore_tomtou_errors = True:\n"
            "                             report violations as ima.validation.tomtou\n"
            "Exit status: 0 valid, 1 not valid, 2 bad usage or unreadable input.\n");
}

static int
parse_args(int argc, char **argv, options *o)
{
    static const struct option longopts[] = {
        {"runtime-policy", required_argument, NULL, 'r'},
        {"runtime-policy-key", required_argument, NULL, 'K'},
        {"ima-log", required_argument, NULL, 'l'},
        {"hash-alg", required_argument, NULL, 'a'},
        {"pcr10", required_argument, NULL, 'p'},
        {"start-entry", required_argument, NULL, 'e'},
        {"start-pcr10", required_argument, NULL, 's'},
        {"verification-keys", required_argument, NULL, 'k'},
        {"ignore-tomtou-errors", no_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    memset(o, 0, sizeof(*o));
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'r': o->policy = optarg; break;
        case 'K': o->policy_key = optarg; break;
        case 'l': o->log = optarg; break;
        case 'a': o->hash_alg = optarg; break;
        case 'p': o->pcr10 = optarg; break;
        case 'e': o->start_entry = optarg; break;
        case 's': o->start_pcr10 = optarg; break;
        case 'k': o->keys = optarg; break;
        case 't': o->tomtou = true; break;
        case 'h': usage(stdout); return -1;
        default: return kl_cli_bad_option(c, argv);
        }
    }
    if (optind < argc)
        return kl_cli_fail(KL_EXIT_USAGE, "unexpected argument '%s'", argv[optind]);
    if (!o->log || !o->hash_alg)
        return kl_cli_fail(KL_EXIT_USAGE, "--ima-log and --hash-alg are required (see --help)");
    if (!o->start_entry != !o->start_pcr10)
        return kl_cli_fail(KL_EXIT_USAGE, "--start-entry and --start-pcr10 go together");
    return 0;
}

/* Everything the evaluation needs, loaded from the command line. */
typedef struct {
    size_t start_entry;
    kl_hash_alg bank;
    uint8_t pcr10[KL_HASH_MAX_SIZE];
    kl_ima_state state;
    kl_runtime_policy *policy;
    kl_ima_keyrings *tenant;
    kl_ima_keyrings *learned;
    kl_buf log;
} inputs;

static int
load_policy(const options *o, inputs *in)
{
    kl_runtime_policy_opts popts = KL_RUNTIME_POLICY_OPTS_INIT;
    kl_pubkey *key = NULL;
    kl_buf text, keytext;
    int status = KL_EXIT_USAGE;

    kl_buf_init(&keytext, 1);
    kl_buf_init(&text, 1);
    if (!o->policy)
        return kl_runtime_policy_empty(&in->policy) == KL_OK
                   ? 0
                   : kl_cli_fail(KL_EXIT_USAGE, "%s", kl_err_msg());
    if (o->policy_key) {
        if (kl_cli_read("runtime policy key", o->policy_key, &keytext) != KL_OK)
            goto out;
        if (kl_pubkey_load_pem(&key, kl_buf_bytes(&keytext)) != KL_OK) {
            kl_cli_fail(KL_EXIT_USAGE, "%s: %s", o->policy_key, kl_err_msg());
            goto out;
        }
        popts.dsse_key = key;
    }
    if (kl_cli_read("runtime policy", o->policy, &text) != KL_OK)
        goto out;
    if (kl_runtime_policy_load(&in->policy, kl_buf_bytes(&text), &popts) != KL_OK) {
        kl_cli_fail(KL_EXIT_USAGE, "%s: %s", o->policy, kl_err_msg());
        goto out;
    }
    if (kl_runtime_policy_sig_state(in->policy) == KL_POLICY_SIG_UNCHECKED)
        fprintf(stderr, "keylime-policy: warning: %s is signed but its signature was not "
                        "checked; give --runtime-policy-key to check it\n", o->policy);
    status = 0;
out:
    kl_pubkey_free(key);
    kl_buf_free(&keytext);
    kl_buf_free(&text);
    return status;
}

static int
load_keys(const options *o, inputs *in)
{
    kl_buf text;
    kl_rc rc;

    if (kl_ima_keyrings_new(&in->learned) != KL_OK)
        return kl_cli_fail(KL_EXIT_USAGE, "%s", kl_err_msg());
    if (!o->keys)
        return 0;
    if (kl_cli_read("verification keys", o->keys, &text) != KL_OK)
        return KL_EXIT_USAGE;
    rc = kl_ima_keyrings_new(&in->tenant);
    if (rc == KL_OK)
        rc = kl_ima_keyrings_set_tenant(in->tenant, kl_buf_bytes(&text));
    kl_buf_free(&text);
    if (rc != KL_OK)
        return kl_cli_fail(KL_EXIT_USAGE, "%s: %s", o->keys, kl_err_msg());
    return 0;
}

static int
load_inputs(const options *o, inputs *in)
{
    size_t n;
    int status;

    if (!kl_hash_from_name(KL_BYTES(o->hash_alg, strlen(o->hash_alg)), &in->bank) ||
        in->bank > KL_HASH_SHA512)
        return kl_cli_fail(KL_EXIT_USAGE, "--hash-alg must be sha1, sha256, sha384 or sha512");
    n = kl_hash_size(in->bank);
    if (o->pcr10 && !kl_cli_hex(o->pcr10, in->pcr10, n))
        return kl_cli_fail(KL_EXIT_USAGE, "--pcr10 must be %zu hex digits (a %s PCR)", 2 * n,
                           o->hash_alg);
    if (o->start_pcr10 && !kl_cli_hex(o->start_pcr10, in->state.pcr10, n))
        return kl_cli_fail(KL_EXIT_USAGE, "--start-pcr10 must be %zu hex digits (a %s PCR)",
                           2 * n, o->hash_alg);
    if (o->start_entry) {
        char *end;
        unsigned long long e = strtoull(o->start_entry, &end, 10);

        if (!*o->start_entry || *end || o->start_entry[0] == '-')
            return kl_cli_fail(KL_EXIT_USAGE, "--start-entry must be a number");
        in->start_entry = in->state.next_entry = (size_t)e;
    }
    if ((status = load_policy(o, in)) != 0 || (status = load_keys(o, in)) != 0)
        return status;
    if (kl_cli_read("IMA log", o->log, &in->log) != KL_OK)
        return KL_EXIT_USAGE;
    return 0;
}

static int
report(const kl_verdict *v, const kl_ima_result *res, const inputs *in, const options *o)
{
    char hex[2 * KL_HASH_MAX_SIZE + 1];
    json_t *out, *failures = kl_verdict_to_json(v);
    kl_buf text;
    int status;

    kl_hex_encode(hex, res->pcr10, kl_hash_size(in->bank));
    out = json_pack("{s:b,s:o,s:s,s:o,s:I}", "valid", !kl_verdict_failed(v), "failures", failures,
                    "pcr10", hex, "pcr10_match_entry",
                    o->pcr10 && res->matched
                        ? json_integer((json_int_t)(in->start_entry + res->match_lines))
                        : json_null(),
                    "entries", (json_int_t)res->entries);
    kl_buf_init(&text, (size_t)1 << 30);
    if (!out || kl_json_dump_py(&text, out) != KL_OK || kl_buf_append_byte(&text, '\n') != KL_OK) {
        json_decref(out);
        kl_buf_free(&text);
        return kl_cli_fail(KL_EXIT_USAGE, "out of memory writing the result");
    }
    status = fwrite(text.ptr, 1, text.len, stdout) == text.len && fflush(stdout) == 0
                 ? (kl_verdict_failed(v) ? KL_EXIT_FAIL : KL_EXIT_OK)
                 : kl_cli_fail(KL_EXIT_USAGE, "cannot write to standard output");
    json_decref(out);
    kl_buf_free(&text);
    return status;
}

int
kl_cmd_check_runtime(int argc, char **argv)
{
    kl_ima_eval_opts eo = KL_IMA_EVAL_OPTS_INIT;
    kl_verdict v = KL_VERDICT_INIT;
    kl_ima_result res;
    inputs in;
    options o;
    int status;

    memset(&in, 0, sizeof(in));
    kl_buf_init(&in.log, 1);
    status = parse_args(argc, argv, &o);
    if (status)
        return status < 0 ? KL_EXIT_OK : status;
    status = load_inputs(&o, &in);
    if (status)
        goto out;
    eo.policy = in.policy;
    eo.tenant = in.tenant;
    eo.learned = in.learned;
    eo.bank = in.bank;
    eo.tomtou_events = o.tomtou;
    eo.binary = kl_ima_binary_detect(kl_buf_bytes(&in.log));
    if (kl_ima_eval(&v, &res, &eo, kl_buf_bytes(&in.log), o.pcr10 ? in.pcr10 : NULL,
                    &in.state) != KL_OK) {
        status = kl_cli_fail(KL_EXIT_USAGE, "cannot evaluate the log: %s", kl_err_msg());
        goto out;
    }
    status = report(&v, &res, &in, &o);
out:
    kl_verdict_free(&v);
    kl_runtime_policy_free(in.policy);
    kl_ima_keyrings_free(in.tenant);
    kl_ima_keyrings_free(in.learned);
    kl_buf_free(&in.log);
    return status;
}
