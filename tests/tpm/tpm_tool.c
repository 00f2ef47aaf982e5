/* tpm_tool: drives lib/tpmdev from the TPM test scripts (tests only).
 *
 *   tpm_tool ek-pub    --ek rsa|ecc|0x81...... --out FILE
 *   tpm_tool ak-create --ek T --ak rsa|ecc --sign S --hash H --pub F --priv F --name F
 *   tpm_tool quote     --ek T --pub F --priv F --nonce TEXT --bank H --pcrs 10,16
 *                      --msg F --sig F --blob F
 *   tpm_tool activate  --ek T --pub F --priv F --blob F --out F
 *   tpm_tool ima-check --log F
 *
 * The TPM is $KL_TEST_TCTI. Files are the tpm2-tools formats (TSS
 * TPM2B_PUBLIC, marshalled TPMS_ATTEST / TPMT_SIGNATURE, PCR blob,
 * makecredential blob), so tpm2_checkquote and tpm2_makecredential can
 * check lib/tpmdev independently. ima-check quotes PCR 10 of every active
 * bank, verifies each quote with kl_quote_verify, and compares the quoted
 * value with kl_ima_eval's replay of the whole list: exit 0 when they agree.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ima/ima_entry.h"
#include "policy/runtime_eval.h"
#include "tpm/quote.h"
#include "tpm/tpm_public.h"
#include "tpmdev/tpmdev_ak.h"
#include "tpmdev/tpmdev_cred.h"
#include "tpmdev/tpmdev_ek.h"
#include "tpmdev/tpmdev_pcr.h"
#include "tpmdev/tpmdev_quote.h"
#include "util/kl_file.h"
#include "util/kl_hex.h"

#define FILE_MAX ((size_t)1 << 28)

typedef struct {
    const char *ek, *ak, *sign, *hash, *pub, *priv, *name, *nonce, *bank, *pcrs;
    const char *msg, *sig, *blob, *out, *log;
} args;

static int
die(const char *what)
{
    fprintf(stderr, "tpm_tool: %s: %s\n", what, kl_err_msg());
    return 1;
}

static int
parse(int argc, char **argv, args *a)
{
    /* option i (1-based) sets fields[i - 1] */
    static const struct option opts[] = {
        {"ek", required_argument, NULL, 1},    {"ak", required_argument, NULL, 2},
        {"sign", required_argument, NULL, 3},  {"hash", required_argument, NULL, 4},
        {"pub", required_argument, NULL, 5},   {"priv", required_argument, NULL, 6},
        {"name", required_argument, NULL, 7},  {"nonce", required_argument, NULL, 8},
        {"bank", required_argument, NULL, 9},  {"pcrs", required_argument, NULL, 10},
        {"msg", required_argument, NULL, 11},  {"sig", required_argument, NULL, 12},
        {"blob", required_argument, NULL, 13}, {"out", required_argument, NULL, 14},
        {"log", required_argument, NULL, 15},  {NULL, 0, NULL, 0},
    };
    const char **fields[] = {&a->ek,   &a->ak,   &a->sign,  &a->hash, &a->pub,
                             &a->priv, &a->name, &a->nonce, &a->bank, &a->pcrs,
                             &a->msg,  &a->sig,  &a->blob,  &a->out,  &a->log};
    int c;

    memset(a, 0, sizeof(*a));
    a->ek = "rsa";
    a->bank = "sha256";
    a->pcrs = "10";
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c < 1 || (size_t)c > sizeof(fields) / sizeof(fields[0]))
            return 2;
        *fields[c - 1] = optarg;
    }
    return optind == argc ? 0 : 2;
}

static const char *
need(const char *v, const char *name)
{
    if (!v) {
        fprintf(stderr, "tpm_tool: --%s is required\n", name);
        exit(2);
    }
    return v;
}

static kl_rc
open_ek(kl_tpmdev **t, kl_tpmdev_key **ek, const char *type)
{
    kl_tpmdev_ek_type et;
    const char *tcti = getenv("KL_TEST_TCTI");
    kl_rc rc;

    rc = kl_tpmdev_open(t, tcti ? tcti : kl_tpmdev_default_tcti());
    if (rc != KL_OK)
        return rc;
    if (strncmp(type, "0x", 2) == 0) /* a persistent EK */
        return kl_tpmdev_key_persistent(ek, *t, (uint32_t)strtoul(type, NULL, 16));
    if (!kl_tpmdev_ek_type_from_name(type, &et))
        return kl_err_set(KL_EINVAL, "EK type %s", type);
    return kl_tpmdev_ek_create(ek, *t, et);
}

static kl_rc
load_ak(kl_tpmdev_key **ak, kl_tpmdev *t, kl_tpmdev_key *ek, const args *a)
{
    kl_buf pub, priv;
    kl_rc rc;

    kl_buf_init(&pub, FILE_MAX);
    kl_buf_init(&priv, FILE_MAX);
    rc = kl_file_read(need(a->pub, "pub"), &pub);
    if (rc == KL_OK)
        rc = kl_file_read(need(a->priv, "priv"), &priv);
    if (rc == KL_OK)
        rc = kl_tpmdev_ak_load(ak, t, ek, kl_buf_bytes(&pub), kl_buf_bytes(&priv));
    kl_buf_free(&pub);
    kl_buf_free(&priv);
    return rc;
}

/* The object name, nameAlg || H(TPMT_PUBLIC), in hex (computed here, not
 * by lib/tpm, so that tpm2_makecredential checks both). */
static kl_rc
write_name(const char *path, kl_bytes pub)
{
    kl_hash_alg h;
    uint8_t d[KL_HASH_MAX_SIZE];
    kl_buf hex;
    uint16_t alg;
    kl_rc rc;

    if (pub.len < 6)
        return kl_err_set(KL_EPARSE, "short public blob");
    alg = (uint16_t)(pub.ptr[4] << 8 | pub.ptr[5]);
    if (!kl_tpm_hash_of_alg(alg, &h))
        return kl_err_set(KL_EPARSE, "nameAlg 0x%04x", alg);
    rc = kl_hash(h, pub.ptr + 2, pub.len - 2, d);
    kl_buf_init(&hex, 1024);
    if (rc == KL_OK)
        rc = kl_hex_encode_append(&hex, pub.ptr + 4, 2);
    if (rc == KL_OK)
        rc = kl_hex_encode_append(&hex, d, kl_hash_size(h));
    if (rc == KL_OK)
        rc = kl_file_write(path, hex.ptr, hex.len);
    kl_buf_free(&hex);
    return rc;
}

static int
cmd_ek_pub(kl_tpmdev *t, kl_tpmdev_key *ek, const args *a)
{
    kl_bytes pub = kl_tpmdev_key_public(ek);

    (void)t;
    return kl_file_write(need(a->out, "out"), pub.ptr, pub.len) == KL_OK ? 0 : die("write");
}

static int
cmd_ak_create(kl_tpmdev *t, kl_tpmdev_key *ek, const args *a)
{
    kl_tpmdev_ak_opts o = KL_TPMDEV_AK_OPTS_INIT;
    kl_buf pub, priv;
    kl_rc rc;

    kl_buf_init(&pub, FILE_MAX);
    kl_buf_init(&priv, FILE_MAX);
    rc = kl_tpmdev_ak_opts_set(&o, need(a->ak, "ak"), need(a->sign, "sign"), need(a->hash, "hash"));
    if (rc == KL_OK)
        rc = kl_tpmdev_ak_create(&pub, &priv, t, ek, &o);
    if (rc == KL_OK)
        rc = kl_file_write(need(a->pub, "pub"), pub.ptr, pub.len);
    if (rc == KL_OK)
        rc = kl_file_write(need(a->priv, "priv"), priv.ptr, priv.len);
    if (rc == KL_OK)
        rc = write_name(need(a->name, "name"), kl_buf_bytes(&pub));
    kl_buf_free(&pub);
    kl_buf_free_secret(&priv);
    return rc == KL_OK ? 0 : die("ak-create");
}

static bool
parse_pcrs(const char *s, uint32_t *mask)
{
    *mask = 0;
    while (*s) {
        char *end;
        long n = strtol(s, &end, 10);

        if (end == s || n < 0 || n > 23 || (*end && *end != ','))
            return false;
        *mask |= 1u << n;
        s = *end ? end + 1 : end;
    }
    return *mask != 0;
}

static int
cmd_quote(kl_tpmdev *t, kl_tpmdev_key *ek, const args *a)
{
    kl_tpmdev_quote_result q;
    kl_tpmdev_key *ak = NULL;
    const char *nonce = need(a->nonce, "nonce");
    uint32_t mask;
    kl_hash_alg bank;
    kl_rc rc;

    if (!parse_pcrs(a->pcrs, &mask) ||
        !kl_hash_from_name(KL_BYTES(a->bank, strlen(a->bank)), &bank))
        return 2;
    kl_tpmdev_quote_result_init(&q);
    rc = load_ak(&ak, t, ek, a);
    if (rc == KL_OK)
        rc = kl_tpmdev_quote(&q, t, ak, KL_BYTES(nonce, strlen(nonce)), bank, mask);
    if (rc == KL_OK)
        rc = kl_file_write(need(a->msg, "msg"), q.attest.ptr, q.attest.len);
    if (rc == KL_OK)
        rc = kl_file_write(need(a->sig, "sig"), q.sig.ptr, q.sig.len);
    if (rc == KL_OK)
        rc = kl_file_write(need(a->blob, "blob"), q.pcrblob.ptr, q.pcrblob.len);
    kl_tpmdev_quote_result_free(&q);
    kl_tpmdev_key_free(ak);
    return rc == KL_OK ? 0 : die("quote");
}

static int
cmd_activate(kl_tpmdev *t, kl_tpmdev_key *ek, const args *a)
{
    kl_tpmdev_key *ak = NULL;
    kl_buf blob, secret;
    kl_rc rc;

    kl_buf_init(&blob, FILE_MAX);
    kl_buf_init(&secret, 1024);
    rc = kl_file_read(need(a->blob, "blob"), &blob);
    if (rc == KL_OK)
        rc = load_ak(&ak, t, ek, a);
    if (rc == KL_OK)
        rc = kl_tpmdev_cred_activate(&secret, t, ak, ek, kl_buf_bytes(&blob));
    if (rc == KL_OK)
        rc = kl_file_write(need(a->out, "out"), secret.ptr, secret.len);
    kl_tpmdev_key_free(ak);
    kl_buf_free(&blob);
    kl_buf_free_secret(&secret);
    return rc == KL_OK ? 0 : die("activate");
}

/* Quotes PCR 10 of one bank with a fresh AK of that hash and verifies the
 * quote; *pcr10 receives the quoted value. */
static kl_rc
quoted_pcr10(kl_tpmdev *t, kl_tpmdev_key *ek, kl_hash_alg bank, uint8_t *pcr10)
{
    kl_tpmdev_ak_opts o = {0x0023, 0x0003, 0x0018, bank};
    static const char nonce[] = "ima-check nonce";
    kl_tpmdev_quote_result q;
    kl_verdict v = KL_VERDICT_INIT;
    kl_tpmdev_key *ak = NULL;
    kl_tpm_public *akp = NULL;
    kl_quote *quote = NULL;
    kl_pcr_set pcrs;
    kl_buf pub, priv, text;
    kl_rc rc;

    kl_tpmdev_quote_result_init(&q);
    kl_buf_init(&pub, 4096);
    kl_buf_init(&priv, 4096);
    kl_buf_init(&text, 65536);
    rc = kl_tpmdev_ak_create(&pub, &priv, t, ek, &o);
    if (rc == KL_OK)
        rc = kl_tpmdev_ak_load(&ak, t, ek, kl_buf_bytes(&pub), kl_buf_bytes(&priv));
    if (rc == KL_OK)
        rc = kl_tpmdev_quote(&q, t, ak, KL_BYTES_STR(nonce), bank, 1u << KL_IMA_PCR);
    if (rc == KL_OK)
        rc = kl_tpmdev_quote_string(&text, &q);
    if (rc == KL_OK)
        rc = kl_quote_parse(&quote, kl_buf_bytes(&text));
    if (rc == KL_OK)
        rc = kl_tpm_public_parse(&akp, kl_tpmdev_key_public(ak));
    if (rc == KL_OK)
        rc = kl_quote_verify(&v, &pcrs, quote, akp, KL_BYTES_STR(nonce), bank);
    if (rc == KL_OK && kl_verdict_failed(&v))
        rc = kl_err_set(KL_EVERIFY, "%s quote does not verify: %s", kl_hash_name(bank),
                        v.items[0].event_id);
    if (rc == KL_OK)
        memcpy(pcr10, pcrs.value[KL_IMA_PCR], kl_hash_size(bank));
    kl_verdict_free(&v);
    kl_quote_free(quote);
    kl_tpm_public_free(akp);
    kl_tpmdev_key_free(ak);
    kl_tpmdev_quote_result_free(&q);
    kl_buf_free(&pub);
    kl_buf_free_secret(&priv);
    kl_buf_free(&text);
    return rc;
}

/* Replays the list with kl_ima_eval, checking it against the quoted PCR 10. */
static kl_rc
check_bank(kl_bytes list, kl_hash_alg bank, const uint8_t *pcr10, bool *ok)
{
    kl_ima_eval_opts o = KL_IMA_EVAL_OPTS_INIT;
    kl_verdict v = KL_VERDICT_INIT;
    kl_ima_result res;
    char hex[2 * KL_HASH_MAX_SIZE + 1];
    kl_rc rc;

    o.bank = bank;
    memset(&res, 0, sizeof(res));
    rc = kl_ima_eval(&v, &res, &o, list, pcr10, NULL);
    kl_verdict_free(&v);
    if (rc != KL_OK)
        return rc;
    *ok = res.matched && memcmp(res.pcr10, pcr10, kl_hash_size(bank)) == 0;
    kl_hex_encode(hex, pcr10, kl_hash_size(bank));
    printf("%s %s entries=%zu %s\n", kl_hash_name(bank), hex, res.entries, *ok ? "ok" : "MISMATCH");
    return KL_OK;
}

static int
cmd_ima_check(kl_tpmdev *t, kl_tpmdev_key *ek, const args *a)
{
    uint8_t pcr10[KL_HASH_MAX_SIZE];
    uint32_t banks = 0;
    bool all_ok = true;
    kl_buf list;
    kl_rc rc;

    kl_buf_init(&list, FILE_MAX);
    rc = kl_file_read(need(a->log, "log"), &list);
    if (rc == KL_OK)
        rc = kl_tpmdev_pcr_banks(t, &banks);
    for (int h = 0; h < KL_HASH_COUNT && rc == KL_OK; h++) {
        bool ok = false;

        if (!(banks >> h & 1))
            continue;
        rc = quoted_pcr10(t, ek, (kl_hash_alg)h, pcr10);
        if (rc == KL_OK)
            rc = check_bank(kl_buf_bytes(&list), (kl_hash_alg)h, pcr10, &ok);
        all_ok = all_ok && ok;
    }
    kl_buf_free(&list);
    if (rc != KL_OK)
        return die("ima-check");
    return all_ok ? 0 : 1;
}

int
main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(kl_tpmdev *, kl_tpmdev_key *, const args *);
    } cmds[] = {
        {"ek-pub", cmd_ek_pub},     {"ak-create", cmd_ak_create}, {"quote", cmd_quote},
        {"activate", cmd_activate}, {"ima-check", cmd_ima_check},
    };
    kl_tpmdev *t = NULL;
    kl_tpmdev_key *ek = NULL;
    args a;
    int st = 2;

    if (argc < 2 || parse(argc - 1, argv + 1, &a) != 0) {
        fprintf(stderr, "usage: tpm_tool ek-pub|ak-create|quote|activate|ima-check [options]\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        if (strcmp(argv[1], cmds[i].name) != 0)
            continue;
        if (open_ek(&t, &ek, strcmp(argv[1], "ima-check") == 0 ? "ecc" : a.ek) != KL_OK)
            st = die("TPM");
        else
            st = cmds[i].run(t, ek, &a);
        break;
    }
    kl_tpmdev_key_free(ek);
    kl_tpmdev_close(t);
    return st;
}
