/* Known answers for the TPM formats layer (tests/data/tpm, certs,
 * expected/registration_swtpm.json, expected/ekcert_chain.json):
 * decoding every quote vector, signature and PCR-digest verification,
 * object names, the negative quotes, credential blobs (layout, activation
 * of tpm2-tools' and upstream's blobs, byte-exact reproduction of
 * upstream's ECC blob), auth_tag and EK certificate chains. */
/* cmocka.h needs the standard headers before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../tpm_build.h"
#include "kat_util.h"
#include "tpm/ekcert.h"
#include "tpm/makecred.h"
#include "tpm/quote.h"
#include "util/kl_alloc.h"
#include "util/kl_b64.h"
#include "util/kl_hex.h"
/* clang-format on */

#define SWTPM_NONCE "AbCdEfGhIj0123456789"
#define QUOTE2_NONCE "ZyXwVuTsRq9876543210"
#define PCR10_AFTER_3 "7ca540b730d20d2b22fe28c50e10c04190cb0ed10acab0cbf4b8f0fffb7165e9"

static const char *
hexs(kl_bytes b)
{
    static char buf[4][2 * 1024 + 1];
    static int slot;
    char *out = buf[slot++ % 4];

    assert_true(b.len <= 1024);
    kl_hex_encode(out, b.ptr, b.len);
    return out;
}

static const char *
jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    if (!s)
        fail_msg("no string \"%s\"", key);
    return s;
}

static kl_tpm_public *
load_public(const char *rel)
{
    kl_tpm_public *p = NULL;
    kl_buf b;

    kat_read(rel, &b);
    if (kl_tpm_public_parse(&p, kl_buf_bytes(&b)) != KL_OK)
        fail_msg("%s: %s", rel, kl_err_msg());
    kl_buf_free(&b);
    return p;
}

static kl_quote *
load_quote(const char *rel)
{
    kl_quote *q = NULL;
    kl_buf b;

    kat_read(rel, &b);
    while (b.len && (b.ptr[b.len - 1] == '\n' || b.ptr[b.len - 1] == '\r'))
        b.len--;
    if (kl_quote_parse(&q, kl_buf_bytes(&b)) != KL_OK)
        fail_msg("%s: %s", rel, kl_err_msg());
    kl_buf_free(&b);
    return q;
}

/* The quote's error, or NULL when it verified; pcrs gets the values. */
static const char *
verify(const kl_quote *q, const kl_tpm_public *ak, kl_bytes nonce, kl_hash_alg h, kl_pcr_set *pcrs)
{
    static char err[512];
    kl_verdict v = KL_VERDICT_INIT;
    kl_pcr_set scratch;

    assert_int_equal(kl_quote_verify(&v, pcrs ? pcrs : &scratch, q, ak, nonce, h), KL_OK);
    if (v.count == 0)
        return NULL;
    assert_int_equal(v.count, 1);
    assert_string_equal(v.items[0].event_id, "qoute_validation.quote_validation");
    assert_false(v.items[0].recoverable);
    snprintf(err, sizeof(err), "%s",
             json_string_value(json_object_get(v.items[0].context, "error")));
    kl_verdict_free(&v);
    return err;
}

static void
assert_fails(const kl_quote *q, const kl_tpm_public *ak, kl_bytes nonce, kl_hash_alg h,
             const char *needle)
{
    const char *err = verify(q, ak, nonce, h, NULL);

    if (!err || !strstr(err, needle))
        fail_msg("got \"%s\", want \"%s\"", err ? err : "(passed)", needle);
}

static const char *
selection_hex(const TPMS_PCR_SELECTION *s)
{
    return hexs(KL_BYTES(s->pcrSelect, s->sizeofSelect));
}

/* The r-string of a vector equals kl_quote_format of its three files. */
static void
assert_rstring(const char *dir, const char *base, const char *rstring_file)
{
    char rel[256];
    kl_buf msg, sig, pcrs, want, got;

    snprintf(rel, sizeof(rel), "%s/%s.msg", dir, base);
    kat_read(rel, &msg);
    snprintf(rel, sizeof(rel), "%s/%s.sig", dir, base);
    kat_read(rel, &sig);
    snprintf(rel, sizeof(rel), "%s/%s.pcrs", dir, base);
    kat_read(rel, &pcrs);
    kat_read(rstring_file, &want);
    kl_buf_init(&got, 1 << 16);
    assert_int_equal(
        kl_quote_format(&got, kl_buf_bytes(&msg), kl_buf_bytes(&sig), kl_buf_bytes(&pcrs)), KL_OK);
    assert_true(kl_bytes_eq(kl_buf_bytes(&got), kl_buf_bytes(&want)));
    kl_buf_free(&msg);
    kl_buf_free(&sig);
    kl_buf_free(&pcrs);
    kl_buf_free(&want);
    kl_buf_free(&got);
}

/* tpm/swtpm/quote_decoded.json */
static void
test_kat_tpm_swtpm_decode(void **state)
{
    static const char *const names[] = {"quote", "idquote", "quote2"};
    json_t *d = kat_json("tpm/swtpm/quote_decoded.json");

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        json_t *e = json_object_get(d, names[i]), *clk, *sel, *sig;
        char rel[128];
        kl_quote *q;
        const TPMS_ATTEST *a;
        const TPMT_SIGNATURE *s;
        const kl_tpm_clock *c;
        char fw[17];

        snprintf(rel, sizeof(rel), "tpm/swtpm/%s.rstring", names[i]);
        q = load_quote(rel);
        assert_rstring("tpm/swtpm", names[i], rel);
        a = kl_quote_tpms_attest(q);
        s = kl_quote_tpmt_signature(q);
        c = kl_quote_clock(q);
        assert_int_equal(kl_quote_attest(q).len,
                         json_integer_value(json_object_get(e, "attest_len")));
        assert_int_equal(a->magic, 0xff544347);
        assert_int_equal(a->type, 0x8018);
        assert_string_equal(hexs(KL_BYTES(a->qualifiedSigner.name, a->qualifiedSigner.size)),
                            jstr(e, "qualifiedSigner"));
        assert_true(kl_bytes_eq_str(kl_quote_extra_data(q), jstr(e, "extraData")));
        clk = json_object_get(e, "clock,resetCount,restartCount,safe");
        assert_int_equal(c->clock, json_integer_value(json_array_get(clk, 0)));
        assert_int_equal(c->reset_count, json_integer_value(json_array_get(clk, 1)));
        assert_int_equal(c->restart_count, json_integer_value(json_array_get(clk, 2)));
        assert_int_equal(c->safe, json_integer_value(json_array_get(clk, 3)));
        snprintf(fw, sizeof(fw), "%016llx", (unsigned long long)a->firmwareVersion);
        assert_string_equal(fw, jstr(e, "firmwareVersion"));
        sel = json_array_get(json_object_get(e, "pcrSelect"), 0);
        assert_int_equal(a->attested.quote.pcrSelect.count, 1);
        assert_int_equal(a->attested.quote.pcrSelect.pcrSelections[0].hash,
                         strtol(json_string_value(json_array_get(sel, 0)), NULL, 16));
        assert_string_equal(selection_hex(&a->attested.quote.pcrSelect.pcrSelections[0]),
                            json_string_value(json_array_get(sel, 1)));
        assert_string_equal(
            hexs(KL_BYTES(a->attested.quote.pcrDigest.buffer, a->attested.quote.pcrDigest.size)),
            jstr(e, "pcrDigest"));
        sig = json_object_get(e, "sig");
        assert_int_equal(s->sigAlg, strtol(jstr(sig, "sigAlg"), NULL, 16));
        assert_int_equal(s->signature.rsassa.hash, strtol(jstr(sig, "hashAlg"), NULL, 16));
        assert_int_equal(s->signature.rsassa.sig.size,
                         json_integer_value(json_object_get(sig, "size")));
        assert_int_equal(kl_quote_signature(q).len,
                         json_integer_value(json_object_get(sig, "total")));
        assert_int_equal(kl_quote_pcrblob(q).len,
                         json_integer_value(json_object_get(e, "pcrblob_len")));
        assert_true(kl_pcr_selection_eq(kl_quote_selection(q), kl_quote_blob_selection(q)));
        kl_quote_free(q);
    }
    json_decref(d);
}

static void
test_kat_tpm_swtpm_verify(void **state)
{
    json_t *d = kat_json("tpm/swtpm/quote_decoded.json");
    kl_tpm_public *ak = load_public("tpm/swtpm/ak.pub");
    kl_quote *q;
    kl_pcr_set pcrs;

    (void)state;
    q = load_quote("tpm/swtpm/quote.rstring");
    assert_null(verify(q, ak, KL_BYTES_STR(SWTPM_NONCE), KL_HASH_SHA256, &pcrs));
    assert_int_equal(pcrs.present, 1u << 10 | 1u << 15 | 1u << 16);
    assert_string_equal(hexs(KL_BYTES(pcrs.value[16], 32)), jstr(d, "pcr16_expected"));
    /* PCR 10 after the three IMA entries of ima/swtpm */
    assert_string_equal(hexs(KL_BYTES(pcrs.value[10], 32)), PCR10_AFTER_3);
    kl_quote_free(q);
    q = load_quote("tpm/swtpm/idquote.rstring");
    assert_null(verify(q, ak, KL_BYTES_STR(SWTPM_NONCE), KL_HASH_SHA256, &pcrs));
    assert_int_equal(pcrs.present, 1u << 16);
    kl_quote_free(q);
    /* quote2 against tpm2_pcrread after it (pcrs_after_quote2.txt) */
    q = load_quote("tpm/swtpm/quote2.rstring");
    assert_null(verify(q, ak, KL_BYTES_STR(QUOTE2_NONCE), KL_HASH_SHA256, &pcrs));
    {
        kl_buf txt;
        char want[80];

        kat_read("tpm/swtpm/pcrs_after_quote2.txt", &txt);
        assert_int_equal(kl_buf_terminate(&txt), KL_OK);
        for (unsigned p = 10; p <= 16; p++) {
            if (!kl_pcr_set_has(&pcrs, p))
                continue;
            snprintf(want, sizeof(want), "%u: 0x", p);
            for (size_t i = 0; i < 32; i++)
                snprintf(want + strlen(want), sizeof(want) - strlen(want), "%02X",
                         pcrs.value[p][i]);
            assert_non_null(strstr((const char *)txt.ptr, want));
        }
        kl_buf_free(&txt);
    }
    kl_quote_free(q);
    kl_tpm_public_free(ak);
    json_decref(d);
}

/* keylime test-data/files: the nonce is the 20 raw bytes of rand.out */
static void
test_kat_tpm_keylime_test_data(void **state)
{
    json_t *d = kat_json("tpm/keylime-test-data/decoded.json"), *qo, *po;
    kl_tpm_public *ak = load_public("tpm/keylime-test-data/ak.pub");
    kl_buf msg, sig, pcrb, text, nonce;
    kl_quote *q = NULL;
    kl_pcr_set pcrs;
    const TPMS_ATTEST *a;
    const char *key;
    json_t *val;

    (void)state;
    kat_read("tpm/keylime-test-data/quote.out", &msg);
    kat_read("tpm/keylime-test-data/quotesig.out", &sig);
    kat_read("tpm/keylime-test-data/quotepcr.out", &pcrb);
    kat_read("tpm/keylime-test-data/rand.out", &nonce);
    kl_buf_init(&text, 1 << 16);
    assert_int_equal(
        kl_quote_format(&text, kl_buf_bytes(&msg), kl_buf_bytes(&sig), kl_buf_bytes(&pcrb)), KL_OK);
    assert_true(kl_bytes_eq_str(kl_buf_bytes(&text), jstr(d, "rstring")));
    assert_int_equal(kl_quote_parse(&q, kl_buf_bytes(&text)), KL_OK);
    qo = json_object_get(d, "quote.out");
    a = kl_quote_tpms_attest(q);
    assert_string_equal(hexs(KL_BYTES(a->qualifiedSigner.name, a->qualifiedSigner.size)),
                        jstr(qo, "qualifiedSigner"));
    assert_string_equal(hexs(kl_quote_extra_data(q)), jstr(qo, "extraData_hex"));
    assert_true(kl_bytes_eq(kl_quote_extra_data(q), kl_buf_bytes(&nonce)));
    assert_int_equal(kl_quote_clock(q)->clock, json_integer_value(json_object_get(qo, "clock")));
    assert_int_equal(kl_quote_clock(q)->safe, 1);
    assert_string_equal(selection_hex(&a->attested.quote.pcrSelect.pcrSelections[0]), "008041");
    assert_string_equal(
        hexs(KL_BYTES(a->attested.quote.pcrDigest.buffer, a->attested.quote.pcrDigest.size)),
        jstr(qo, "pcrDigest"));
    assert_null(verify(q, ak, kl_buf_bytes(&nonce), KL_HASH_SHA256, &pcrs));
    assert_int_equal(pcrs.present, 1u << 15 | 1u << 16 | 1u << 22);
    po = json_object_get(json_object_get(json_object_get(d, "quotepcr.out"), "pcr_values"),
                         "sha256");
    json_object_foreach(po, key, val)
    {
        unsigned pcr = (unsigned)strtoul(key, NULL, 10);

        assert_true(kl_pcr_set_has(&pcrs, pcr));
        assert_string_equal(hexs(KL_BYTES(pcrs.value[pcr], 32)), json_string_value(val));
    }
    /* the nonce as text (its base64) is not what the TPM signed */
    assert_fails(q, ak, KL_BYTES_STR("2x2ymNttYOY4W3IxdD6cMFahgAM="), KL_HASH_SHA256, "nonce");
    kl_quote_free(q);
    kl_buf_free(&msg);
    kl_buf_free(&sig);
    kl_buf_free(&pcrb);
    kl_buf_free(&nonce);
    kl_buf_free(&text);
    kl_tpm_public_free(ak);
    json_decref(d);
}

/* rust-keylime's test quote: no key, but its PCR digest is a known answer */
static void
test_kat_tpm_rust_keylime(void **state)
{
    json_t *d = kat_json("tpm/rust-keylime/test-quote.decoded.json"), *at, *pv;
    kl_quote *q = load_quote("tpm/rust-keylime/test-quote.txt");
    const TPMS_ATTEST *a = kl_quote_tpms_attest(q);
    kl_tpm_public *ak = load_public("tpm/swtpm/ak.pub");
    uint8_t digest[20];
    kl_pcr_selection sel;
    kl_pcr_set pcrs;

    (void)state;
    at = json_object_get(d, "attest");
    assert_string_equal(hexs(KL_BYTES(a->qualifiedSigner.name, a->qualifiedSigner.size)),
                        jstr(at, "qualifiedSigner"));
    assert_true(kl_bytes_eq_str(kl_quote_extra_data(q), "TEST"));
    assert_int_equal(kl_quote_clock(q)->clock, json_integer_value(json_object_get(at, "clock")));
    assert_int_equal(a->attested.quote.pcrSelect.pcrSelections[0].hash, TPM2_ALG_SHA1);
    assert_string_equal(selection_hex(&a->attested.quote.pcrSelect.pcrSelections[0]), "000001");
    assert_int_equal(kl_quote_tpmt_signature(q)->signature.rsassa.hash, TPM2_ALG_SHA1);
    assert_int_equal(kl_pcrblob_parse_digest(kl_quote_pcrblob(q), TPM2_ALG_SHA1, &sel, &pcrs,
                                             KL_HASH_SHA1, NULL, digest),
                     KL_OK);
    assert_string_equal(hexs(KL_BYTES(digest, 20)), jstr(at, "pcrDigest"));
    pv = json_object_get(json_object_get(json_object_get(d, "pcr_blob"), "pcr_values"), "sha1");
    assert_string_equal(hexs(KL_BYTES(pcrs.value[16], 20)), jstr(pv, "16"));
    /* no key for it: any AK fails on the signature */
    assert_fails(q, ak, KL_BYTES_STR("TEST"), KL_HASH_SHA1, "signature does not verify");
    kl_tpm_public_free(ak);
    kl_quote_free(q);
    json_decref(d);
}

/* tpm/keylime-c/expected.json: ECDSA P-256/P-384, RSAPSS, two banks */
static void
test_kat_tpm_keylime_c_quotes(void **state)
{
    json_t *d = kat_json("tpm/keylime-c/expected.json"), *e;
    const char *nonce = jstr(d, "nonce");
    size_t i;

    (void)state;
    json_array_foreach(json_object_get(d, "quotes"), i, e)
    {
        kl_quote *q = load_quote(jstr(e, "rstring"));
        kl_tpm_public *ak = load_public(jstr(e, "ak"));
        const TPMS_ATTEST *a = kl_quote_tpms_attest(q);
        json_t *clk = json_object_get(e, "clock"), *sel, *pv;
        kl_hash_alg h;
        kl_pcr_set pcrs;
        const char *key;
        json_t *val;
        size_t j;

        assert_true(
            kl_hash_from_name(KL_BYTES(jstr(e, "hash_alg"), strlen(jstr(e, "hash_alg"))), &h));
        assert_int_equal(kl_quote_tpmt_signature(q)->sigAlg,
                         json_integer_value(json_object_get(e, "sig_alg")));
        assert_int_equal(kl_quote_clock(q)->clock, json_integer_value(json_array_get(clk, 0)));
        assert_int_equal(kl_quote_clock(q)->reset_count,
                         json_integer_value(json_array_get(clk, 1)));
        json_array_foreach(json_object_get(e, "selection"), j, sel)
        {
            const TPMS_PCR_SELECTION *s = &a->attested.quote.pcrSelect.pcrSelections[j];

            assert_int_equal(s->hash, json_integer_value(json_array_get(sel, 0)));
            assert_string_equal(selection_hex(s), json_string_value(json_array_get(sel, 1)));
        }
        assert_int_equal(a->attested.quote.pcrSelect.count,
                         json_array_size(json_object_get(e, "selection")));
        assert_string_equal(
            hexs(KL_BYTES(a->attested.quote.pcrDigest.buffer, a->attested.quote.pcrDigest.size)),
            jstr(e, "pcrDigest"));
        if (verify(q, ak, KL_BYTES(nonce, strlen(nonce)), h, &pcrs))
            fail_msg("%s: %s", jstr(e, "rstring"),
                     verify(q, ak, KL_BYTES(nonce, strlen(nonce)), h, &pcrs));
        pv = json_object_get(e, "pcrs");
        assert_int_equal(__builtin_popcount(pcrs.present), json_object_size(pv));
        json_object_foreach(pv, key, val)
        {
            unsigned pcr = (unsigned)strtoul(key, NULL, 10);

            assert_true(kl_pcr_set_has(&pcrs, pcr));
            assert_string_equal(hexs(KL_BYTES(pcrs.value[pcr], kl_hash_size(h))),
                                json_string_value(val));
        }
        kl_tpm_public_free(ak);
        kl_quote_free(q);
    }
    json_decref(d);
}

static void
check_object(json_t *o, const kl_tpm_public *p)
{
    const TPMT_PUBLIC *t = kl_tpm_public_tpmt(p);
    uint64_t e = 0;
    kl_buf n;

    assert_string_equal(hexs(kl_tpm_public_name(p)), jstr(o, "name"));
    assert_int_equal(t->type, strtol(jstr(o, "type"), NULL, 16));
    assert_int_equal(t->objectAttributes, strtoul(jstr(o, "objectAttributes"), NULL, 16));
    assert_string_equal(hexs(KL_BYTES(t->authPolicy.buffer, t->authPolicy.size)),
                        jstr(o, "authPolicy"));
    assert_int_equal(t->parameters.rsaDetail.keyBits,
                     json_integer_value(json_object_get(o, "keyBits")));
    kl_buf_init(&n, 4096);
    assert_int_equal(kl_pubkey_rsa_params(kl_tpm_public_key(p), &n, &e), KL_OK);
    assert_int_equal(e, json_integer_value(json_object_get(o, "exponent")));
    assert_int_equal(n.len, json_integer_value(json_object_get(o, "modulus_len")));
    kl_buf_free(&n);
}

/* names of ek.pub / ak.pub (objects_decoded.json, decoded.json, *.name) */
static void
test_kat_tpm_names(void **state)
{
    static const char *const dirs[] = {"tpm/swtpm", "tpm/keylime-test-data"};
    json_t *sw = kat_json("tpm/swtpm/objects_decoded.json");
    json_t *td = kat_json("tpm/keylime-test-data/decoded.json");
    json_t *objs[] = {sw, json_object_get(td, "objects")};

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        char rel[128];
        kl_tpm_public *ek, *ak;
        kl_buf name, pem;
        kl_pubkey *k = NULL;
        uint8_t d[32];

        snprintf(rel, sizeof(rel), "%s/ek.pub", dirs[i]);
        ek = load_public(rel);
        snprintf(rel, sizeof(rel), "%s/ak.pub", dirs[i]);
        ak = load_public(rel);
        check_object(json_object_get(objs[i], "ek.pub"), ek);
        check_object(json_object_get(objs[i], "ak.pub"), ak);
        snprintf(rel, sizeof(rel), "%s/ak.name", dirs[i]);
        kat_read(rel, &name);
        assert_true(kl_bytes_eq(kl_tpm_public_name(ak), kl_buf_bytes(&name)));
        kl_buf_free(&name);
        /* the agent id "hash_ek": sha256 of the EK's PEM */
        snprintf(rel, sizeof(rel), "%s/%s", dirs[i], i ? "ekpub.pem" : "ek.pem");
        kat_read(rel, &pem);
        kl_buf_init(&name, 4096);
        assert_int_equal(kl_pubkey_spki_pem(kl_tpm_public_key(ek), &name), KL_OK);
        assert_true(kl_bytes_eq(kl_buf_bytes(&name), kl_buf_bytes(&pem)));
        assert_int_equal(kl_hash(KL_HASH_SHA256, name.ptr, name.len, d), KL_OK);
        assert_string_equal(hexs(KL_BYTES(d, 32)), jstr(objs[i], "ek_pem_sha256"));
        assert_int_equal(kl_pubkey_load_pem(&k, kl_buf_bytes(&pem)), KL_OK);
        assert_true(kl_pubkey_eq(k, kl_tpm_public_key(ek)));
        kl_pubkey_free(k);
        kl_buf_free(&name);
        kl_buf_free(&pem);
        kl_tpm_public_free(ek);
        kl_tpm_public_free(ak);
    }
    json_decref(sw);
    json_decref(td);
}

/* the generated negatives, and the others the verifier must catch */
static void
test_kat_tpm_negative(void **state)
{
    kl_tpm_public *ak = load_public("tpm/swtpm/ak.pub");
    kl_tpm_public *other = load_public("tpm/keylime-test-data/ak.pub");
    kl_bytes nonce = KL_BYTES_STR(SWTPM_NONCE);
    kl_quote *q;

    (void)state;
    /* upstream reports pcr_validation.missing_pcr_16 here (its quirk) */
    q = load_quote("tpm/swtpm/quote_badsig.rstring");
    assert_fails(q, ak, nonce, KL_HASH_SHA256, "The quote signature does not verify with the AK");
    kl_quote_free(q);
    q = load_quote("tpm/swtpm/quote_mismatched_pcrs.rstring");
    assert_fails(q, ak, nonce, KL_HASH_SHA256,
                 "The digest used for quoting is different than the one that was calculated");
    kl_quote_free(q);
    q = load_quote("tpm/swtpm/quote.rstring");
    assert_fails(q, ak, KL_BYTES_STR(QUOTE2_NONCE), KL_HASH_SHA256,
                 "The nonce from the attestation differs from the expected nonce");
    assert_fails(q, ak, nonce, KL_HASH_SHA1, "Quote was expected to use sha1 but used sha256");
    assert_fails(q, ak, nonce, KL_HASH_SHA384, "Quote was expected to use sha384");
    assert_fails(q, other, nonce, KL_HASH_SHA256, "signature does not verify");
    kl_quote_free(q);
    kl_tpm_public_free(ak);
    kl_tpm_public_free(other);
}

/* the attest, signature and blob files of the swtpm quotes, recombined */
static void
test_kat_tpm_tampered(void **state)
{
    kl_tpm_public *ak = load_public("tpm/swtpm/ak.pub");
    kl_bytes nonce = KL_BYTES_STR(SWTPM_NONCE);
    kl_buf msg, sig, pcrs, idpcrs, text;
    kl_quote *q = NULL;

    (void)state;
    kat_read("tpm/swtpm/quote.msg", &msg);
    kat_read("tpm/swtpm/quote.sig", &sig);
    kat_read("tpm/swtpm/quote.pcrs", &pcrs);
    kat_read("tpm/swtpm/idquote.pcrs", &idpcrs);
    kl_buf_init(&text, 1 << 16);
    /* tampered attest: one bit of the clock */
    msg.ptr[4 + 2 + 36 + 22 + 7] ^= 1;
    assert_int_equal(
        kl_quote_format(&text, kl_buf_bytes(&msg), kl_buf_bytes(&sig), kl_buf_bytes(&pcrs)), KL_OK);
    assert_int_equal(kl_quote_parse(&q, kl_buf_bytes(&text)), KL_OK);
    assert_fails(q, ak, nonce, KL_HASH_SHA256, "signature does not verify");
    kl_quote_free(q);
    msg.ptr[4 + 2 + 36 + 22 + 7] ^= 1;
    /* swapped PCR blob: the identity quote's (PCR 16 only) */
    kl_buf_reset(&text);
    assert_int_equal(
        kl_quote_format(&text, kl_buf_bytes(&msg), kl_buf_bytes(&sig), kl_buf_bytes(&idpcrs)),
        KL_OK);
    assert_int_equal(kl_quote_parse(&q, kl_buf_bytes(&text)), KL_OK);
    assert_fails(q, ak, nonce, KL_HASH_SHA256,
                 "The PCR selection of the quote differs from the PCR blob's selection");
    kl_quote_free(q);
    kl_buf_free(&msg);
    kl_buf_free(&sig);
    kl_buf_free(&pcrs);
    kl_buf_free(&idpcrs);
    kl_buf_free(&text);
    kl_tpm_public_free(ak);
}

/* the clocks of quote (30480), idquote (30539) and quote2 (142200) */
static void
test_kat_tpm_clock(void **state)
{
    kl_quote *q1 = load_quote("tpm/swtpm/quote.rstring");
    kl_quote *qi = load_quote("tpm/swtpm/idquote.rstring");
    kl_quote *q2 = load_quote("tpm/swtpm/quote2.rstring");
    kl_tpm_clock st = KL_TPM_CLOCK_INITIAL;
    kl_verdict v = KL_VERDICT_INIT;

    (void)state;
    assert_int_equal(kl_quote_advance_clock(&v, &st, kl_quote_clock(q1)), KL_OK);
    assert_int_equal(kl_quote_advance_clock(&v, &st, kl_quote_clock(qi)), KL_OK);
    assert_int_equal(kl_quote_advance_clock(&v, &st, kl_quote_clock(q2)), KL_OK);
    assert_int_equal(v.count, 0);
    assert_int_equal(st.clock, 142200);
    /* replaying the first quote: rollback */
    assert_int_equal(kl_quote_check_clock(&v, &st, kl_quote_clock(q1)), KL_OK);
    assert_int_equal(v.count, 1);
    assert_string_equal(json_string_value(json_object_get(v.items[0].context, "data")),
                        "clock timestamp did issued by TPM did not increase between two "
                        "consecutive quotes");
    kl_verdict_free(&v);
    kl_quote_free(q1);
    kl_quote_free(qi);
    kl_quote_free(q2);
}

static void
check_layout(const char *rel, size_t id_object, size_t hmac, size_t identity, size_t secret,
             size_t total)
{
    kl_makecred_parts p;
    kl_buf b;

    kat_read(rel, &b);
    assert_int_equal(b.len, total);
    assert_int_equal(kl_makecred_parse(&p, kl_buf_bytes(&b)), KL_OK);
    assert_int_equal(p.credential.len, id_object);
    assert_int_equal(p.integrity.len, hmac);
    assert_int_equal(p.identity.len, identity);
    assert_int_equal(p.secret.len, secret);
    kl_buf_free(&b);
}

/* registration_swtpm.json, objects_decoded.json, decoded.json */
static void
test_kat_tpm_makecred_layout(void **state)
{
    json_t *reg = kat_json("expected/registration_swtpm.json");
    kl_tpm_public *ek = load_public("tpm/swtpm/ek.pub"), *ak = load_public("tpm/swtpm/ak.pub");
    kl_makecred_parts ours, theirs;
    kl_buf blob, dec, mine;

    (void)state;
    check_layout("tpm/swtpm/mkcred.blob", 68, 32, 34, 256, 336);
    check_layout("tpm/keylime-test-data/mkcred.out", 45, 32, 11, 256, 313);
    check_layout("tpm/keylime-c/swtpm_rsa.blob", 68, 32, 34, 256, 336);
    check_layout("tpm/keylime-c/swtpm_ecc.blob", 68, 32, 34, 68, 148);
    /* the registrar's blob_b64 is the blob */
    kat_read("tpm/swtpm/mkcred.blob", &blob);
    kl_buf_init(&dec, 4096);
    assert_int_equal(kl_b64_decode_append(&dec,
                                          KL_BYTES(jstr(reg, "credential_blob_b64"),
                                                   strlen(jstr(reg, "credential_blob_b64"))),
                                          false),
                     KL_OK);
    assert_true(kl_bytes_eq(kl_buf_bytes(&dec), kl_buf_bytes(&blob)));
    assert_string_equal(hexs(kl_tpm_public_name(ak)), jstr(reg, "ak_name"));
    assert_string_equal(hexs(kl_tpm_public_name(ek)), jstr(reg, "ek_name"));
    /* ours for the same EK, name and challenge has the same layout */
    kl_buf_init(&mine, 4096);
    assert_int_equal(kl_makecred_blob(&mine, ek,
                                      KL_BYTES(jstr(reg, "challenge_ascii"),
                                               strlen(jstr(reg, "challenge_ascii"))),
                                      kl_tpm_public_name(ak)),
                     KL_OK);
    assert_int_equal(mine.len, blob.len);
    assert_int_equal(kl_makecred_parse(&ours, kl_buf_bytes(&mine)), KL_OK);
    assert_int_equal(kl_makecred_parse(&theirs, kl_buf_bytes(&blob)), KL_OK);
    assert_int_equal(ours.credential.len, theirs.credential.len);
    assert_int_equal(ours.secret.len, theirs.secret.len);
    assert_memory_equal(mine.ptr, blob.ptr, 12); /* magic, version, sizes */
    kl_buf_free(&mine);
    kl_buf_free(&dec);
    kl_buf_free(&blob);
    kl_tpm_public_free(ek);
    kl_tpm_public_free(ak);
    json_decref(reg);
}

static kl_privkey *
load_priv(const char *rel)
{
    kl_privkey *k = NULL;
    kl_buf b;

    kat_read(rel, &b);
    assert_int_equal(kl_privkey_load_pem(&k, kl_buf_bytes(&b)), KL_OK);
    kl_buf_free(&b);
    return k;
}

static void
activate(const char *blob_rel, const kl_tpm_public *ek, const kl_privkey *key, kl_bytes name,
         kl_bytes secret)
{
    kl_buf blob, out;

    kat_read(blob_rel, &blob);
    kl_buf_init(&out, 256);
    if (kl_makecred_activate(&out, kl_buf_bytes(&blob), ek, key, name) != KL_OK)
        fail_msg("%s: %s", blob_rel, kl_err_msg());
    assert_true(kl_bytes_eq(kl_buf_bytes(&out), secret));
    kl_buf_free_secret(&out);
    kl_buf_free(&blob);
}

/* tpm2_makecredential's and upstream's blobs activate with our code, and
 * upstream's ECC blob is reproduced byte for byte */
static void
test_kat_tpm_makecred_interop(void **state)
{
    json_t *d = kat_json("tpm/keylime-c/expected.json"), *mc, *up, *c;
    kl_buf name, secret;
    size_t i;

    (void)state;
    mc = json_object_get(d, "makecredential");
    up = json_object_get(mc, "upstream");
    kat_read(jstr(up, "name"), &name);
    kat_read(jstr(up, "secret"), &secret);
    json_array_foreach(json_object_get(up, "cases"), i, c)
    {
        kl_tpm_public *ek = load_public(jstr(c, "ek"));
        kl_privkey *key = load_priv(jstr(c, "ek_key"));
        bool ecc = kl_tpm_public_type(ek) == TPM2_ALG_ECC;
        uint8_t fixed[32];
        kl_makecred_parts pu, pm;
        kl_buf want, mine, marshalled;
        kl_pubkey *pub = NULL;
        TPMT_PUBLIC t;

        /* upstream's EK TPM2B_PUBLIC is what kl_tpm_public_marshal makes */
        tb_ek_template(&t, ecc);
        kl_buf_init(&marshalled, 4096);
        assert_int_equal(kl_privkey_public(key, &pub), KL_OK);
        assert_int_equal(kl_tpm_public_marshal(&marshalled, &t, pub), KL_OK);
        assert_true(kl_bytes_eq(kl_buf_bytes(&marshalled), kl_tpm_public_bytes(ek)));
        kl_pubkey_free(pub);
        kl_buf_free(&marshalled);
        activate(jstr(c, "blob"), ek, key, kl_buf_bytes(&name), kl_buf_bytes(&secret));
        kat_read(jstr(c, "blob"), &want);
        kl_buf_init(&mine, 4096);
        assert_true(kl_hex_decode(fixed, KL_BYTES(jstr(up, ecc ? "ecc_scalar" : "rsa_seed"), 64)));
        assert_int_equal(kl_makecred_blob_fixed(&mine, ek, kl_buf_bytes(&secret),
                                                kl_buf_bytes(&name),
                                                ecc ? KL_BYTES(NULL, 0) : KL_BYTES(fixed, 32),
                                                ecc ? KL_BYTES(fixed, 32) : KL_BYTES(NULL, 0)),
                         KL_OK);
        if (ecc) {
            assert_true(kl_bytes_eq(kl_buf_bytes(&mine), kl_buf_bytes(&want)));
        } else {
            assert_int_equal(kl_makecred_parse(&pu, kl_buf_bytes(&want)), KL_OK);
            assert_int_equal(kl_makecred_parse(&pm, kl_buf_bytes(&mine)), KL_OK);
            assert_true(kl_bytes_eq(pu.credential, pm.credential));
            assert_int_equal(pu.secret.len, pm.secret.len);
        }
        kl_buf_free(&want);
        kl_buf_free(&mine);
        kl_privkey_free(key);
        kl_tpm_public_free(ek);
    }
    json_array_foreach(json_object_get(mc, "tpm2_tools"), i, c)
    {
        kl_privkey *key = load_priv(jstr(c, "ek_key"));
        kl_tpm_public *ek = NULL;
        kl_pubkey *pub = NULL;
        TPMT_PUBLIC t;
        kl_buf b;

        assert_int_equal(kl_privkey_public(key, &pub), KL_OK);
        tb_ek_template(&t, kl_pubkey_is_ec(pub));
        kl_buf_init(&b, 4096);
        assert_int_equal(kl_tpm_public_marshal(&b, &t, pub), KL_OK);
        assert_int_equal(kl_tpm_public_parse(&ek, kl_buf_bytes(&b)), KL_OK);
        activate(jstr(c, "blob"), ek, key, kl_buf_bytes(&name), kl_buf_bytes(&secret));
        kl_buf_free(&b);
        kl_pubkey_free(pub);
        kl_tpm_public_free(ek);
        kl_privkey_free(key);
    }
    kl_buf_free(&name);
    kl_buf_free(&secret);
    json_decref(d);
}

static void
test_kat_tpm_auth_tag(void **state)
{
    json_t *reg = kat_json("expected/registration_swtpm.json");
    const char *agent = jstr(reg, "agent_id_equals_sha256_of_ek_pem_text");
    kl_buf key, tag, act;
    bool ok = false;

    (void)state;
    kl_buf_init(&key, 256);
    kl_buf_init(&tag, 256);
    assert_int_equal(kl_makecred_key(&key, KL_BYTES(jstr(reg, "challenge_ascii"), 32)), KL_OK);
    assert_true(kl_bytes_eq_str(kl_buf_bytes(&key), jstr(reg, "registrar_key_b64")));
    assert_int_equal(kl_makecred_auth_tag(&tag, kl_buf_bytes(&key), KL_BYTES(agent, strlen(agent))),
                     KL_OK);
    assert_true(kl_bytes_eq_str(kl_buf_bytes(&tag), jstr(reg, "expected_auth_tag")));
    /* the agent side, from what ActivateCredential returned */
    kat_read("tpm/swtpm/actcred.out", &act);
    kl_buf_reset(&tag);
    assert_int_equal(
        kl_makecred_auth_tag_from_secret(&tag, kl_buf_bytes(&act), KL_BYTES(agent, strlen(agent))),
        KL_OK);
    assert_int_equal(kl_makecred_check_auth_tag(&ok, kl_buf_bytes(&key),
                                                KL_BYTES(agent, strlen(agent)), kl_buf_bytes(&tag)),
                     KL_OK);
    assert_true(ok);
    kl_buf_free(&act);
    kl_buf_free(&key);
    kl_buf_free(&tag);
    json_decref(reg);
}

typedef struct {
    const char *cert, *store;
    bool valid, nonstrict;
} chain_case;

/* expected/ekcert_chain.json, case by case */
static void
test_kat_tpm_ekcert_chains(void **state)
{
    static const chain_case cases[] = {
        {"certs/swtpm/ekcert.pem", "certs/swtpm", true, false},
        {"certs/swtpm/ekcert.pem", "certs/tpm_cert_store", false, false},
        {"certs/ek-samples/stm_rsa_ek.der", "certs/tpm_cert_store", true, false},
        {"certs/ek-samples/stm_ecc_ek.der", "certs/tpm_cert_store", true, false},
        /* upstream rejects it (python-cryptography); accepted with a warning */
        {"certs/ek-samples/nuvoton_ecc_ek_nonstrict.der", "certs/tpm_cert_store", true, true},
        {"certs/idevid-test-ca/idevid.der", "certs/idevid-test-ca/iak_idevid_chain.pem", true,
         false},
        {"certs/idevid-test-ca/iak.der", "certs/idevid-test-ca/iak_idevid_chain.pem", true, false},
        {"certs/idevid-test-ca/idevid.der", "certs/tpm_cert_store", false, false},
        {"certs/idevid-test-ca/iak.der", "certs/tpm_cert_store", false, false},
    };
    static const char *const issuers[] = {"swtpm-localca-issuercert.pem",
                                          "",
                                          "STM_RSA_05I.pem",
                                          "STM_ECC_01I.pem",
                                          "NUVO_2110.pem",
                                          "iak_idevid_chain.pem",
                                          "iak_idevid_chain.pem",
                                          "",
                                          ""};
    json_t *spec = kat_json("expected/ekcert_chain.json");

    (void)state;
    assert_int_equal(json_array_size(json_object_get(spec, "cases")), 7);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *path = kat_path(cases[i].store);
        kl_ekcert_store *s = NULL;
        kl_ekcert_result r;
        kl_buf cert;

        assert_int_equal(kl_ekcert_store_load(&s, path), KL_OK);
        kat_read(cases[i].cert, &cert);
        assert_int_equal(kl_ekcert_verify(&r, kl_buf_bytes(&cert), s, NULL, 0), KL_OK);
        if (r.valid != cases[i].valid)
            fail_msg("%s against %s: valid=%d (%s)", cases[i].cert, cases[i].store, r.valid,
                     r.reason);
        assert_int_equal(r.nonstrict_der, cases[i].nonstrict);
        assert_false(r.direct);
        if (r.valid)
            assert_non_null(strstr(r.issuer, issuers[i]));
        else
            assert_non_null(strstr(r.reason, "No Root CA matched EK Certificate"));
        kl_buf_free(&cert);
        kl_ekcert_store_free(s);
        kl_free(path);
    }
    json_decref(spec);
}

/* the registrar rule: the EK certificate's key is ek_tpm's */
static void
test_kat_tpm_ekcert_key(void **state)
{
    kl_tpm_public *ek = load_public("tpm/swtpm/ek.pub");
    kl_buf der, pem;
    bool same = false;

    (void)state;
    kat_read("tpm/swtpm/ekcert.der", &der);
    kat_read("certs/swtpm/ekcert.pem", &pem);
    assert_int_equal(kl_ekcert_matches_ek(&same, kl_buf_bytes(&der), ek), KL_OK);
    assert_true(same);
    assert_int_equal(kl_ekcert_matches_ek(&same, kl_buf_bytes(&pem), ek), KL_OK);
    assert_true(same);
    kl_tpm_public_free(ek);
    ek = load_public("tpm/keylime-test-data/ek.pub");
    assert_int_equal(kl_ekcert_matches_ek(&same, kl_buf_bytes(&der), ek), KL_OK);
    assert_false(same);
    kl_tpm_public_free(ek);
    kl_buf_free(&der);
    kl_buf_free(&pem);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kat_tpm_swtpm_decode),
        cmocka_unit_test(test_kat_tpm_swtpm_verify),
        cmocka_unit_test(test_kat_tpm_keylime_test_data),
        cmocka_unit_test(test_kat_tpm_rust_keylime),
        cmocka_unit_test(test_kat_tpm_keylime_c_quotes),
        cmocka_unit_test(test_kat_tpm_names),
        cmocka_unit_test(test_kat_tpm_negative),
        cmocka_unit_test(test_kat_tpm_tampered),
        cmocka_unit_test(test_kat_tpm_clock),
        cmocka_unit_test(test_kat_tpm_makecred_layout),
        cmocka_unit_test(test_kat_tpm_makecred_interop),
        cmocka_unit_test(test_kat_tpm_auth_tag),
        cmocka_unit_test(test_kat_tpm_ekcert_chains),
        cmocka_unit_test(test_kat_tpm_ekcert_key),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
