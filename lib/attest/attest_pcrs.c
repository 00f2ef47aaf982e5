/* upstream check_pcrs: the boot log, PCR 16, IMA (PCR 10), the measured-boot
 * PCRs, the tpm_policy allowlist and the measured-boot policy, in that
 * order (the order of the events is part of the verdict). */
#define KL_LOGMODULE "attest"
#include <string.h>

#include "attest/attest_int.h"
#include "json/json.h"
#include "mb/eventlog.h"
#include "util/kl_b64.h"
#include "util/kl_hex.h"
#include "util/kl_log.h"

#define IMA_PCR 10
#define DATA_PCR 16
#define BOOT_LOG_MAX ((size_t)64 << 20)
/* MEASUREDBOOT_PCRS: 0-9 and 11-15 */
#define MB_PCRS ((uint32_t)0xfbff)

typedef struct {
    kl_verdict *v;
    kl_attest_result *res;
    kl_attest_state *st;
    const kl_attest_inputs *in;
    const kl_attest_response *r;
    size_t bank_size;
    uint32_t in_quote;        /* PCRs used by some check (upstream pcrs_in_quote) */
    kl_eventlog *log;         /* the parsed boot log, or NULL */
    bool mb_failed;           /* parsing the boot log produced events */
    kl_pcr_set mb_pcrs;       /* its replay in the quoted bank */
    kl_buf aggregates;        /* boot aggregates, NUL-separated hex */
} pcr_check;

/* A recoverable event; ctx NULL (json_pack failed) is ENOMEM. */
static kl_rc
add_event(kl_verdict *v, const char *id, json_t *ctx)
{
    if (!ctx)
        return kl_err_set(KL_ENOMEM, "out of memory");
    return kl_verdict_add(v, id, ctx, true);
}

static kl_rc
event(pcr_check *c, const char *id, json_t *ctx)
{
    return add_event(c->v, id, ctx);
}

static void
hex_of(const pcr_check *c, unsigned pcr, char *out)
{
    kl_hex_encode(out, c->res->pcrs.value[pcr], c->bank_size);
}

static kl_rc
parser_event(pcr_check *c, const char *id, json_t *ctx)
{
    c->mb_failed = true;
    return event(c, id, ctx);
}

/* upstream bootlog_parse: decode, parse, replay the quoted bank, boot
 * aggregates; any problem is a measured_boot.parser.* event. */
static kl_rc
parse_boot_log(pcr_check *c)
{
    kl_buf bin;
    kl_rc rc;

    if (!c->r->have_mb_list || c->r->mb_list.len == 0)
        return KL_OK;
    kl_buf_init(&bin, BOOT_LOG_MAX);
    rc = kl_b64_decode_append(&bin, c->r->mb_list, false);
    if (rc == KL_EPARSE || rc == KL_ETOOBIG) {
        rc = parser_event(c, "measured_boot.parser.log.base64decode",
                          json_pack("{s:s}", "message", "Measured boot log could not be decoded"));
        goto out;
    }
    if (rc == KL_OK && (rc = kl_eventlog_parse(&c->log, kl_buf_bytes(&bin))) == KL_EPARSE) {
        rc = parser_event(c, "measured_boot.parser.tpm2_eventlog.error",
                          json_pack("{s:s,s:s}", "context", "the boot event log could not be parsed",
                                    "data", kl_err_msg()));
        goto out;
    }
    if (rc == KL_OK && ((rc = kl_eventlog_replay(c->log, c->r->hash_alg, &c->mb_pcrs)) ==
                            KL_ENOTFOUND ||
                        (rc == KL_OK && c->mb_pcrs.present == 0))) {
        rc = parser_event(c, "measured_boot.parser.invalid_pcrs_hashes", json_pack("{s:n}", "got"));
        goto out;
    }
    if (rc == KL_OK && (rc = kl_eventlog_boot_aggregates(c->log, &c->aggregates)) == KL_OK &&
        c->aggregates.len == 0)
        rc = parser_event(c, "measured_boot.parser.invalid_boot_aggregates",
                          json_pack("{s:{}}", "got"));
out:
    kl_buf_free(&bin);
    return rc;
}

/* PCR 16 = H(0..0 || H(pubkey text)), the agent's key bound to the quote. */
kl_rc
kl_attest_check_data_pcr(kl_verdict *v, const kl_pcr_set *pcrs, kl_hash_alg alg, kl_bytes pubkey)
{
    uint8_t h[KL_HASH_MAX_SIZE], cat[2 * KL_HASH_MAX_SIZE] = {0};
    char got[2 * KL_HASH_MAX_SIZE + 1], want[2 * KL_HASH_MAX_SIZE + 1];
    size_t size = kl_hash_size(alg);
    kl_rc rc;

    if (!kl_pcr_set_has(pcrs, DATA_PCR))
        return add_event(v, "pcr_validation.missing_pcr_16",
                         json_pack("{s:s}", "message",
                                   "Data PCR 16 is missing in quote, but is required"));
    rc = kl_hash(alg, pubkey.ptr, pubkey.len, cat + size);
    if (rc == KL_OK)
        rc = kl_hash(alg, cat, 2 * size, h);
    if (rc != KL_OK)
        return rc;
    kl_hex_encode(want, h, size);
    kl_hex_encode(got, pcrs->value[DATA_PCR], size);
    if (strcmp(got, want) == 0)
        return KL_OK;
    return add_event(v, "pcr_validation.invalid_pcr_16",
                     json_pack("{s:s,s:s}", "got", got, "expected", want));
}

static kl_rc
check_data_pcr(pcr_check *c)
{
    if (kl_pcr_set_has(&c->res->pcrs, DATA_PCR))
        c->in_quote |= 1u << DATA_PCR;
    return kl_attest_check_data_pcr(c->v, &c->res->pcrs, c->r->hash_alg, c->r->pubkey);
}

static size_t
split_aggregates(const kl_buf *agg, kl_bytes *out, size_t max)
{
    size_t n = 0;

    for (size_t off = 0; off < agg->len && n < max;) {
        size_t len = strlen((const char *)agg->ptr + off);

        out[n++] = KL_BYTES(agg->ptr + off, len);
        off += len + 1;
    }
    return n;
}

static kl_rc
check_ima(pcr_check *c)
{
    kl_ima_eval_opts o = KL_IMA_EVAL_OPTS_INIT;
    kl_bytes agg[16];

    if (!kl_pcr_set_has(&c->res->pcrs, IMA_PCR))
        return KL_OK;
    c->in_quote |= 1u << IMA_PCR;
    if (!c->r->have_ima_list)
        return event(c, "pcr_validation.unused_pcr_10",
                     json_pack("{s:s}", "message",
                               "IMA PCR in policy, but no measurement list provided"));
    o.policy = c->in->runtime_policy;
    o.tenant = c->in->tenant_keys;
    o.learned = c->st->learned;
    o.bank = c->r->hash_alg;
    o.tomtou_events = c->in->tomtou_events;
    if (c->log && !c->mb_failed) {
        o.boot_aggregates = agg;
        o.n_boot_aggregates = split_aggregates(&c->aggregates, agg, 16);
    }
    c->res->ima_checked = true;
    return kl_ima_eval(c->v, &c->res->ima, &o, c->r->ima_list, c->res->pcrs.value[IMA_PCR],
                       &c->st->ima);
}

/* Hex without leading zeros, as upstream compares the boot log's values
 * ("0" for zero). */
static const char *
stripped(const char *hex)
{
    while (*hex == '0')
        hex++;
    return hex;
}

static kl_rc
tpm_policy_event(pcr_check *c, unsigned pcr, const char *got)
{
    char id[40];

    snprintf(id, sizeof(id), "pcr_validation.invalid_pcr_%u", pcr);
    return event(c, id,
                 json_pack("{s:s,s:s,s:O}", "context", "PCR value is not in allowlist", "got", got,
                           "expected", kl_tpm_policy_values(c->in->tpm_policy, pcr)));
}

/* One measured-boot PCR: the quoted value must be the boot log's replay;
 * tpm_policy is checked for it here too. mismatches collects the
 * measured_boot events, which upstream adds after the loop. */
static kl_rc
check_mb_pcr(pcr_check *c, unsigned pcr, kl_verdict *mismatches)
{
    char got[2 * KL_HASH_MAX_SIZE + 1], log[2 * KL_HASH_MAX_SIZE + 1], id[40];
    const char *want;
    kl_rc rc = KL_OK;

    if (!c->log) {
        snprintf(id, sizeof(id), "pcr_validation.unused_pcr_%u", pcr);
        return kl_verdict_add_msg(c->v, id, true,
                                  "Measured Boot PCR %u in policy, but no measurement list provided",
                                  pcr);
    }
    hex_of(c, pcr, got);
    if (kl_pcr_set_has(&c->mb_pcrs, pcr))
        kl_hex_encode(log, c->mb_pcrs.value[pcr], c->bank_size);
    else
        log[0] = '\0';
    want = *stripped(log) ? stripped(log) : "0";
    if (strcmp(stripped(got), stripped(log)) != 0) {
        snprintf(id, sizeof(id), "measured_boot.invalid_pcr_%u", pcr);
        rc = kl_verdict_add(mismatches, id,
                            json_pack("{s:s,s:s,s:s}", "context",
                                      "SHA256 boot event log PCR value does not match", "got", got,
                                      "expected", want),
                            true);
    }
    if (rc == KL_OK && (kl_tpm_policy_listed(c->in->tpm_policy) >> pcr & 1) &&
        !kl_tpm_policy_allows(c->in->tpm_policy, pcr, got))
        rc = tpm_policy_event(c, pcr, got);
    c->in_quote |= 1u << pcr;
    return rc;
}

/* The order in which CPython iterates a set of small ints (< 32) made by
 * adding keys[0..n) in that order, which is the order of its hash table's
 * slots. Up to 4 members the table has 8 slots: a key goes to slot
 * key & 7, or, when that is taken, on to (5 * slot + 1) & 7. From the 5th
 * member on it has at least 32 slots, one per key: ascending order. */
static size_t
py_set_order(const unsigned *keys, size_t n, unsigned *out)
{
    int slot[8];

    if (n >= 5) {
        uint32_t bits = 0;
        size_t k = 0;

        for (size_t i = 0; i < n; i++)
            bits |= 1u << keys[i];
        for (unsigned p = 0; p < 32; p++)
            if (bits >> p & 1)
                out[k++] = p;
        return k;
    }
    memset(slot, -1, sizeof(slot));
    for (size_t i = 0; i < n; i++) {
        unsigned at = keys[i] & 7;

        while (slot[at] >= 0)
            at = (5 * at + 1) & 7;
        slot[at] = (int)keys[i];
    }
    n = 0;
    for (unsigned at = 0; at < 8; at++)
        if (slot[at] >= 0)
            out[n++] = (unsigned)slot[at];
    return n;
}

/* The order of upstream's loop over mb_pcrs_to_check(name) & pcr_nums:
 * pcr_nums is set(pcrs_dict) (keys added in ascending order); the
 * intersection walks the smaller of the two sets, the right one on a tie,
 * and adds the common members to a new set in that order. */
static size_t
mb_pcr_order(uint32_t mb_set, uint32_t quoted, unsigned *out)
{
    unsigned asc[KL_PCR_COUNT], walk[KL_PCR_COUNT], common[KL_PCR_COUNT];
    size_t n = 0, nwalk, ncommon = 0;

    for (unsigned p = 0; p < KL_PCR_COUNT; p++)
        if (quoted >> p & 1)
            asc[n++] = p;
    if (n > (size_t)__builtin_popcount(mb_set)) {
        nwalk = 0;
        for (unsigned p = 0; p < KL_PCR_COUNT; p++)
            if (mb_set >> p & 1)
                walk[nwalk++] = p;
    } else {
        nwalk = py_set_order(asc, n, walk);
    }
    for (size_t i = 0; i < nwalk; i++)
        if ((mb_set & quoted) >> walk[i] & 1)
            common[ncommon++] = walk[i];
    return py_set_order(common, ncommon, out);
}

static kl_rc
check_mb_pcrs(pcr_check *c, bool usable)
{
    const kl_mb_engine *e = c->in->mb_engine;
    uint32_t relevant = e ? kl_mb_engine_relevant_pcrs(e) : 0;
    uint32_t mb_set = MB_PCRS & (relevant ? relevant : MB_PCRS);
    unsigned order[KL_PCR_COUNT];
    size_t n;
    kl_verdict mismatches = KL_VERDICT_INIT;
    kl_rc rc = KL_OK;

    if (!usable)
        return KL_OK;
    n = mb_pcr_order(mb_set, c->res->pcrs.present, order);
    for (size_t i = 0; rc == KL_OK && i < n; i++)
        rc = check_mb_pcr(c, order[i], &mismatches);
    if (rc == KL_OK)
        rc = kl_verdict_merge(c->v, &mismatches);
    kl_verdict_free(&mismatches);
    return rc;
}

/* Quoted PCRs no other check used, against tpm_policy; then the policy's
 * PCRs the quote lacks. */
static kl_rc
check_remaining(pcr_check *c)
{
    uint64_t listed = kl_tpm_policy_listed(c->in->tpm_policy);
    char got[2 * KL_HASH_MAX_SIZE + 1];
    json_t *missing;
    kl_rc rc = KL_OK;

    for (unsigned pcr = 0; rc == KL_OK && pcr < KL_PCR_COUNT; pcr++) {
        if (!kl_pcr_set_has(&c->res->pcrs, pcr) || (c->in_quote >> pcr & 1) ||
            !(listed >> pcr & 1))
            continue;
        hex_of(c, pcr, got);
        if (!kl_tpm_policy_allows(c->in->tpm_policy, pcr, got))
            rc = tpm_policy_event(c, pcr, got);
        c->in_quote |= 1u << pcr;
    }
    listed &= ~(uint64_t)c->in_quote;
    if (rc != KL_OK || !listed)
        return rc;
    missing = json_array();
    for (unsigned pcr = 0; missing && pcr <= KL_TPM_POLICY_MAX_PCR; pcr++)
        if ((listed >> pcr & 1) && json_array_append_new(missing, json_integer(pcr)) != 0)
            break;
    return event(c, "pcr_validation.missing_pcrs",
                 missing ? json_pack("{s:s,s:o}", "context", "PCRs are missing in quote", "data",
                                     missing)
                         : NULL);
}

/* Python truthiness of the refstate's JSON value. */
static bool
refstate_nonempty(kl_bytes text)
{
    json_t *j = NULL;
    bool nonempty = false;

    if (kl_json_parse(text, "mb_policy", &j) != KL_OK)
        return false;
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        nonempty = json_object_size(j) > 0;
        break;
    case JSON_ARRAY:
        nonempty = json_array_size(j) > 0;
        break;
    case JSON_STRING:
        nonempty = json_string_length(j) > 0;
        break;
    case JSON_INTEGER:
        nonempty = json_integer_value(j) != 0;
        break;
    case JSON_REAL:
        nonempty = json_real_value(j) != 0;
        break;
    case JSON_TRUE:
        nonempty = true;
        break;
    default:
        break;
    }
    json_decref(j);
    return nonempty;
}

kl_rc
kl_attest_check_pcrs(kl_verdict *v, kl_attest_result *res, kl_attest_state *st,
                     const kl_attest_inputs *in, const kl_attest_response *r)
{
    pcr_check c = {v, res, st, in, r, kl_hash_size(r->hash_alg), 0, NULL, false, {0}, {0}};
    const kl_mb_engine *engine = in->mb_engine;
    bool valid = false, nonempty = false;
    kl_rc rc;

    kl_buf_init(&c.aggregates, 4096);
    if (!engine && (rc = kl_mb_engine_find("accept-all", &engine)) != KL_OK)
        goto out;
    if (in->have_mb_policy) {
        valid = kl_mb_engine_refstate_valid(engine, in->mb_refstate);
        nonempty = refstate_nonempty(in->mb_refstate);
    }
    rc = parse_boot_log(&c);
    if (rc == KL_OK && r->have_pubkey)
        rc = check_data_pcr(&c);
    if (rc == KL_OK)
        rc = check_ima(&c);
    if (rc == KL_OK)
        rc = check_mb_pcrs(&c, in->have_mb_policy && !c.mb_failed && valid && nonempty);
    if (rc == KL_OK)
        rc = check_remaining(&c);
    if (rc == KL_OK && in->have_mb_policy && !valid)
        rc = event(&c, "pcr_validation.invalid_mb_policy",
                   json_pack("{s:s}", "message", "Invalid measured boot policy"));
    if (rc == KL_OK && !c.mb_failed && nonempty && valid &&
        (in->mb_evaluate_always || st->attestation_count == 0))
        rc = kl_mb_engine_evaluate(v, engine, in->mb_refstate, c.log, c.in_quote);
out:
    kl_eventlog_free(c.log);
    kl_buf_free(&c.aggregates);
    return rc;
}
