/* fuzz_attest: an agent's quote answer (the `results` object of GET
 * /quotes/integrity or /quotes/identity) through kl_attest_quote
 * (attest/attest.h), twice in a row with one kl_attest_state, as the
 * verifier checks a follow-up quote (incremental IMA: the second time
 * ima_measurement_list_entry is, half the time, the entry the state
 * expects next, and a quarter of the time the state forgets the clock so
 * that the replayed quote passes as a newer one). The AK is
 * tests/data/evidence's, the nonce that of its quotes; a hash of the input
 * picks the runtime policy (the swtpm vector's or none), the tpm_policy
 * (mask 0x400 or none), a cached public key and accept lists (defaults or
 * sha256/rsa/rsassa only). Checks: KL_OK (only allocation fails
 * otherwise); failures only as verdict events, each with an id and an
 * object context; a quote without events counts one attestation (or a
 * changed boot time started IMA over); an allocation failure gives
 * KL_ENOMEM.
 */
#include "attest/attest.h"
#include "fuzz_tpm_common.h"
#include "json/json.h"
#include "util/kl_b64.h"

#define NONCE "AbCdEfGhIj0123456789"

/* tests/data/evidence/ak.b64 */
static const char ak_b64[] =
    "ARgAAQALAAUAcgAAABAAFAALCAAAAAAAAQDbm0LB1knTGIi/4/32vSPxVJzk/u+Rn6EM3NtnCMQ9XQyJJYOxbbxtqTiCM"
    "2dOqIKj/9AUzkQZy2VcIwHoYYq4uORrdNx0zsGK4NeL3WjJs/i4qlmt0JXW459MApDxvknwIpI8xd4F0JQk1OAriseGww9"
    "YFIexsB+9YlL5aJXsTwHuPAQLnSKl35+D1O9gT66k3SLlKOT7/QHnVnlZVCrPd7+/gdb/Weguku1tTFRDYrUURgeglHM6N"
    "znUu3LzrLCD+0x1FR0sTZ2acpkKHrcMwg76Hc1Y4wXM7qQP4LAp49AxkFkc54HhXk0hcfWR/A2wi/"
    "OwfW/8xvLzQa8x3giN";

/* tests/data/ima/swtpm/runtime_policy.json */
static const char policy_json[] =
    "{\"meta\":{\"version\":1,\"generator\":1},\"release\":0,\"digests\":{\"boot_aggregate\":"
    "[\"7b6436b0c98f62380866d9432c2af0ee08ce16a171bda6951aecd95ee1307d61\"],\"/usr/bin/foo\":"
    "[\"5fa3473d182d26c6f26a6cad032ae12092df6e26e12499b4051997b5b723860d\"],\"/etc/bar.conf\":"
    "[\"a2895430c607ecc97a2618a74876538206bfc44ef2fed1fa18cef695612f24da\"],\"/usr/sbin/baz\":"
    "[\"a8bdac39f7eb9587949c2825071b9d96b1ce08516c014d796be3e2a9c8f282f8\"]},\"excludes\":[],"
    "\"keyrings\":{},\"ima\":{\"ignored_keyrings\":[],\"log_hash_alg\":\"sha1\","
    "\"dm_policy\":null},"
    "\"ima-buf\":{},\"verification-keys\":\"\"}";

/* tests/data/tpm/swtpm/payload-public.pem (bound to PCR 16 of the quotes) */
static const char pubkey_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAt0Rs80ekjjo5Y90D9nlM\n"
    "1GsuX03Ml0JSlVEMAKYV8ZgJMgpGQWILL6+VPDJsBUX+W/Cz2zJMo4qEUci4AL8N\n"
    "GkUh5Z/n9kgvvPegOd1YnG8MIr++eK3K4MgsFleQzwQbWqUKvbGmmBRfB9iXmDVL\n"
    "FcyDZXrzmzIK7Ki5hEAHbowsx2zv4thUwCZST884iXweRO0ZH81ZR6KDeLiu691Q\n"
    "fHog/poVvnNt7GqXA/TQGbw5ByCdAlNS33/A17Ecn12W9JF/vzD2z4Qkm/5ogM6s\n"
    "tGOcfvk8eNaM/GhCDqvOUbO1FUs7anwL57t445GK3x3/GHRIOupri1uv+jkndZKQ\n"
    "OwIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

static const char *const only_hash[] = {"sha256", NULL};
static const char *const only_enc[] = {"rsa", NULL};
static const char *const only_sign[] = {"rsassa", NULL};

static kl_tpm_public *ak;
static kl_tpm_policy *tpm_policy;
static kl_runtime_policy *runtime_policy;

static void
cleanup(void)
{
    kl_tpm_public_free(ak);
    kl_tpm_policy_free(tpm_policy);
    kl_runtime_policy_free(runtime_policy);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    kl_buf der;

    (void)argc;
    (void)argv;
    fuzz_tpm_quiet();
    kl_buf_init(&der, 4096);
    FUZZ_CHECK(kl_b64_decode_append(&der, KL_BYTES_STR(ak_b64), false) == KL_OK);
    FUZZ_CHECK(kl_tpm_public_parse(&ak, kl_buf_bytes(&der)) == KL_OK);
    kl_buf_free(&der);
    FUZZ_CHECK(kl_tpm_policy_parse(&tpm_policy, KL_BYTES_CSTR("{\"mask\": \"0x400\"}")) == KL_OK);
    FUZZ_CHECK(kl_runtime_policy_load(&runtime_policy, KL_BYTES_STR(policy_json), NULL) == KL_OK);
    atexit(cleanup);
    return 0;
}

static void
inputs(kl_attest_inputs *in, uint32_t h)
{
    memset(in, 0, sizeof(*in));
    in->ak = ak;
    in->nonce = KL_BYTES_STR(NONCE);
    in->tpm_policy = h & 1 ? tpm_policy : NULL;
    in->runtime_policy = h & 2 ? runtime_policy : NULL;
    in->cached_pubkey = h & 4 ? KL_BYTES_STR(pubkey_pem) : KL_BYTES(NULL, 0);
    if (h & 8) {
        in->accept_hash = only_hash;
        in->accept_enc = only_enc;
        in->accept_sign = only_sign;
    }
    in->mb_evaluate_always = h & 16;
}

static void
check_verdict(const kl_verdict *v)
{
    for (size_t i = 0; i < v->count; i++) {
        FUZZ_CHECK(v->items[i].event_id && v->items[i].event_id[0]);
        FUZZ_CHECK(json_is_object(v->items[i].context));
    }
}

/* One quote; the state before it is *st. */
static void
attest_once(kl_attest_state *st, const kl_attest_inputs *in, json_t *results)
{
    kl_verdict v = KL_VERDICT_INIT;
    kl_attest_result res;
    uint64_t count = st->attestation_count;
    kl_rc rc = kl_attest_quote(&v, &res, st, in, results);

    FUZZ_CHECK(rc == KL_OK);
    check_verdict(&v);
    /* no event and no count: a changed boot time started IMA over */
    if (v.count == 0 && st->attestation_count == count)
        FUZZ_CHECK(res.pcrs.present == 0 && st->ima.next_entry == 0);
    else
        FUZZ_CHECK(v.count == 0 ? st->attestation_count == count + 1
                                : st->attestation_count == count);
    FUZZ_CHECK(st->learned != NULL);
    kl_verdict_free(&v);
}

/* The second answer: the same, asking for the next entry (half the time);
 * a quarter of the time the clock is forgotten, as if the second quote
 * were a newer one, so that the replayed quote gets past the clock check
 * to the incremental IMA check. */
static void
follow_up(json_t *results, kl_attest_state *st, uint32_t h)
{
    if ((h & 32) && json_is_object(results) && st->ima.next_entry > 0)
        FUZZ_CHECK(json_object_set_new(results, "ima_measurement_list_entry",
                                       json_integer((json_int_t)st->ima.next_entry)) == 0);
    if ((h & 96) == 96)
        st->clock = (kl_tpm_clock)KL_TPM_CLOCK_INITIAL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t h = fuzz_hash(data, size);
    kl_attest_inputs in;
    kl_attest_state st;
    json_t *results = NULL;

    if (kl_json_parse(fuzz_input(data, size), "quote answer", &results) != KL_OK) {
        fuzz_touch_error();
        return 0;
    }
    inputs(&in, h);
    FUZZ_CHECK(kl_attest_state_init(&st) == KL_OK);
    attest_once(&st, &in, results);
    follow_up(results, &st, h);
    attest_once(&st, &in, results);
    kl_attest_state_free(&st);
    /* one allocation failure in a first quote */
    {
        kl_verdict v = KL_VERDICT_INIT;
        kl_attest_result res;
        kl_rc rc;

        FUZZ_CHECK(kl_attest_state_init(&st) == KL_OK);
        kl_alloc_fail_at(1 + (h >> 8) % 64);
        rc = kl_attest_quote(&v, &res, &st, &in, results);
        kl_alloc_fail_at(0);
        FUZZ_CHECK(rc == KL_OK || rc == KL_ENOMEM);
        kl_verdict_free(&v);
            kl_attest_state_free(&st);
    }
    json_decref(results);
    return 0;
}
