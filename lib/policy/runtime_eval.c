#define KL_LOGMODULE "ima"
#include "policy/runtime_eval.h"

#include <string.h>

#include "ima/ima_ascii.h"
#include "ima/ima_binary.h"
#include "ima/ima_pcr.h"
#include "json/json.h"
#include "util/kl_hex.h"
#include "util/kl_log.h"

#define EV_NG "ima.validation.ima-ng."

/* Everything one evaluation needs, set up once. */
typedef struct {
    const kl_ima_eval_opts *o;
    kl_verdict *v;
    kl_hasher *h;
    kl_excludes_matcher *excl;
    const kl_ima_keyrings *tenant;
    kl_hash_alg log_alg;
    size_t log_size, bank_size;
    kl_buf tmp;
} eval;

static kl_rc
add_json(eval *ev, const char *id, json_t *ctx)
{
    if (!ctx)
        return kl_err_set(KL_ENOMEM, "out of memory recording a failure");
    return kl_verdict_add(ev->v, id, ctx, true);
}

static json_t *
str(kl_bytes s)
{
    return kl_json_string_lossy(s);
}

static bool
excluded(eval *ev, kl_bytes name)
{
    return ev->o->policy && kl_excludes_match(ev->excl, name);
}

static bool
in_boot_aggregates(eval *ev, kl_bytes digest)
{
    char hex[2 * KL_HASH_MAX_SIZE + 1];

    if (digest.len > KL_HASH_MAX_SIZE)
        return false;
    kl_hex_encode(hex, digest.ptr, digest.len);
    for (size_t i = 0; i < ev->o->n_boot_aggregates; i++)
        if (kl_bytes_eq(ev->o->boot_aggregates[i], KL_BYTES(hex, 2 * digest.len)))
            return true;
    return false;
}

static kl_rc
policy_hash_failure(eval *ev, const kl_digest_list *l, kl_bytes name, kl_bytes digest,
                    bool boot_extra)
{
    json_t *expected = json_array(), *ctx;
    kl_rc rc = KL_OK;

    for (uint32_t i = 0; expected && rc == KL_OK && l && i < l->count; i++) {
        kl_buf_reset(&ev->tmp);
        rc = kl_digest_list_hex(l, i, &ev->tmp);
        if (rc == KL_OK && json_array_append_new(expected, str(kl_buf_bytes(&ev->tmp))) != 0)
            rc = kl_err_set(KL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; expected && rc == KL_OK && boot_extra && i < ev->o->n_boot_aggregates; i++)
        if (json_array_append_new(expected, str(ev->o->boot_aggregates[i])) != 0)
            rc = kl_err_set(KL_ENOMEM, "out of memory");
    kl_buf_reset(&ev->tmp);
    if (rc == KL_OK)
        rc = kl_hex_encode_append(&ev->tmp, digest.ptr, digest.len);
    if (rc != KL_OK || !expected) {
        json_decref(expected);
        return rc == KL_OK ? kl_err_set(KL_ENOMEM, "out of memory") : rc;
    }
    /* the event's context has no path (upstream's); upstream logs it */
    LOG_WARN("Hashes for file %.*s don't match %.*s not in the policy's %zu digests",
             (int)(name.len > 4096 ? 4096 : name.len), (const char *)name.ptr, (int)ev->tmp.len,
             (const char *)ev->tmp.ptr, json_array_size(expected));
    ctx = json_pack("{s:s,s:o,s:o}", "message", "Hash not found in runtime policy", "got",
                    str(kl_buf_bytes(&ev->tmp)), "expected", expected);
    return add_json(ev, EV_NG "runtime_policy_hash", ctx);
}

/* upstream _validate_ima_ng: name must be listed in the map with this
 * digest, unless excluded. *ok tells whether it passed. hash: the name's
 * kl_digest_map_hash when already known, else NULL. */
static kl_rc
check_listed(eval *ev, kl_policy_map_id map, kl_bytes name, const uint64_t *hash,
             kl_bytes digest, bool *ok)
{
    bool boot = map == KL_POLICY_DIGESTS && ev->o->n_boot_aggregates &&
                kl_bytes_eq_str(name, "boot_aggregate");
    kl_digest_list l;
    bool found;

    *ok = true;
    if (!ev->o->policy)
        return KL_OK;
    found = kl_digest_map_get_hashed(kl_runtime_policy_map(ev->o->policy, map), name,
                                     hash ? *hash : kl_digest_map_hash(name), &l);
    if ((found && kl_digest_list_contains(&l, digest)) || (boot && in_boot_aggregates(ev, digest)))
        return KL_OK;
    if (excluded(ev, name))
        return KL_OK;
    *ok = false;
    if (!found && !boot) {
        kl_buf_reset(&ev->tmp);
        if (kl_buf_append_str(&ev->tmp, "File not found in allowlist: ") != KL_OK ||
            kl_buf_append(&ev->tmp, name.ptr, name.len) != KL_OK)
            return kl_err_set(KL_ENOMEM, "out of memory");
        return add_json(ev, EV_NG "not_in_allowlist",
                        json_pack("{s:o}", "message", str(kl_buf_bytes(&ev->tmp))));
    }
    return policy_hash_failure(ev, found ? &l : NULL, name, digest, boot);
}

static kl_rc
verify_sig(eval *ev, const kl_ima_entry *e, bool *ok)
{
    const kl_ima_keyrings *sets[2] = {ev->tenant, ev->o->learned};
    kl_rc rc = KL_OK;

    *ok = false;
    for (int i = 0; rc == KL_OK && !*ok && i < 2; i++)
        if (sets[i])
            rc = kl_ima_keyrings_verify(sets[i], e->sig, e->digest, e->digest_alg, ok);
    return rc;
}

/* upstream _validate_ima_sig. Accepted when excluded, when the signature
 * verifies or when the policy allows the digest; the policy is consulted
 * first because it is cheaper than a signature check. */
static kl_rc
check_ima_sig(eval *ev, const kl_ima_entry *e, uint64_t hash)
{
    bool ok = false;
    kl_rc rc;

    if (ev->o->policy) {
        kl_digest_list l;

        if (kl_digest_map_get_hashed(kl_runtime_policy_map(ev->o->policy, KL_POLICY_DIGESTS),
                                     e->name, hash, &l) &&
            kl_digest_list_contains(&l, e->digest))
            return KL_OK;
    }
    if (ev->o->learned && e->has_sig) {
        if (excluded(ev, e->name))
            return KL_OK;
        rc = verify_sig(ev, e, &ok);
        if (rc != KL_OK || ok)
            return rc;
    }
    if (ev->o->policy)
        return check_listed(ev, KL_POLICY_DIGESTS, e->name, &hash, e->digest, &ok);
    if (!ev->o->learned)
        return KL_OK;
    kl_buf_reset(&ev->tmp);
    rc = kl_buf_printf(&ev->tmp, "signature for file %.*s could not be validated",
                       (int)e->name.len, (const char *)e->name.ptr);
    return rc == KL_OK ? add_json(ev, "ima.validator.ima-sig.invalid_signature",
                                  json_pack("{s:o}", "message", str(kl_buf_bytes(&ev->tmp))))
                       : rc;
}

/* upstream _validate_ima_buf: keys measured into keyrings, else generic
 * buffers. */
static kl_rc
check_ima_buf(eval *ev, const kl_ima_entry *e)
{
    kl_pubkey *key = NULL;
    uint32_t keyid = 0;
    bool has_keyid = false, ok;
    kl_rc rc;

    rc = kl_pubkey_load_any(&key, e->buf, &keyid, &has_keyid);
    if (rc == KL_EUNSUPPORTED) {
        kl_buf_reset(&ev->tmp);
        rc = kl_buf_printf(&ev->tmp, "key from %.*s does not have a supported key: %s",
                           (int)e->name.len, (const char *)e->name.ptr, kl_err_msg());
        return rc == KL_OK ? add_json(ev, "ima.invalid_key",
                                      json_pack("{s:o}", "message", str(kl_buf_bytes(&ev->tmp))))
                           : rc;
    }
    if (rc == KL_ENOTFOUND)
        return check_listed(ev, KL_POLICY_IMA_BUF, e->name, NULL, e->digest, &ok);
    if (rc != KL_OK)
        return rc;
    if (!ev->o->policy || !kl_runtime_policy_keyring_ignored(ev->o->policy, e->name)) {
        rc = check_listed(ev, KL_POLICY_KEYRINGS, e->name, NULL, e->digest, &ok);
        if (rc == KL_OK && ok && ev->o->learned)
            rc = kl_ima_keyrings_add(ev->o->learned, e->name, key, has_keyid, keyid);
    }
    kl_pubkey_free(key);
    return rc;
}

static kl_rc
check_entry_data(eval *ev, const kl_ima_entry *e, uint64_t hash)
{
    bool ok;

    switch (e->tmpl) {
    case KL_IMA_TMPL_IMA_SIG:
        return check_ima_sig(ev, e, hash);
    case KL_IMA_TMPL_IMA_BUF:
        return check_ima_buf(ev, e);
    default:
        return check_listed(ev, KL_POLICY_DIGESTS, e->name, &hash, e->digest, &ok);
    }
}

static bool
all_zero(kl_bytes b)
{
    for (size_t i = 0; i < b.len; i++)
        if (b.ptr[i])
            return false;
    return true;
}

static kl_rc
hash_mismatch(eval *ev, kl_bytes column, const uint8_t *computed)
{
    char got[2 * KL_HASH_MAX_SIZE + 1];
    json_t *expected;

    kl_buf_reset(&ev->tmp);
    if (kl_hex_encode_append(&ev->tmp, column.ptr, column.len) != KL_OK ||
        kl_buf_terminate(&ev->tmp) != KL_OK)
        return kl_err_set(KL_ENOMEM, "out of memory");
    expected = json_string((const char *)ev->tmp.ptr);
    kl_hex_encode(got, computed, ev->log_size);
    return add_json(ev, "ima.validation.ima_hash",
                    json_pack("{s:s,s:o,s:s}", "message",
                              "IMA template hash does not match the calculated hash.", "expected",
                              expected, "got", got));
}

/* upstream Entry.invalid: PCR, violation, template hash, then the
 * template's validator. pcr_digest receives what to extend with; hash is
 * kl_digest_map_hash of the entry's name. */
static kl_rc
check_entry(eval *ev, const kl_ima_entry *e, uint64_t hash, uint8_t *pcr_digest)
{
    uint8_t computed[KL_HASH_MAX_SIZE];
    bool violation = e->template_hash.len == ev->log_size && all_zero(e->template_hash);
    kl_rc rc = KL_OK;

    if (violation) {
        memset(pcr_digest, 0xff, ev->bank_size);
    } else {
        rc = kl_hasher_digest(ev->h, ev->o->bank, e->template_data.ptr, e->template_data.len,
                              pcr_digest);
        if (rc == KL_OK && ev->log_alg != ev->o->bank)
            rc = kl_hasher_digest(ev->h, ev->log_alg, e->template_data.ptr, e->template_data.len,
                                  computed);
        else if (rc == KL_OK)
            memcpy(computed, pcr_digest, ev->log_size);
    }
    if (rc == KL_OK && !e->pcr_is_ima)
        rc = add_json(ev, "ima.validation.ima_pcr",
                      json_pack("{s:s,s:s,s:s}", "message", "IMA PCR is not the configured one",
                                "expected", "10", "got", e->pcr_text));
    if (rc != KL_OK)
        return rc;
    if (violation) {
        LOG_DEBUG("entry %zu: measurement violation, template hash not checked", e->index);
        if (ev->o->tomtou_events)
            return kl_verdict_add_msg(ev->v, "ima.validation.tomtou", true,
                                      "hash validation was skipped");
        return KL_OK;
    }
    if (e->template_hash.len != ev->log_size ||
        memcmp(e->template_hash.ptr, computed, ev->log_size) != 0)
        return hash_mismatch(ev, e->template_hash, computed);
    return check_entry_data(ev, e, hash);
}

static kl_rc
parse_failure(eval *ev, const kl_ima_entry *e)
{
    json_t *ctx;

    kl_buf_reset(&ev->tmp);
    if (ev->o->binary) {
        if (kl_buf_printf(&ev->tmp, "Entry %zu was not parsable into a valid IMA entry", e->index))
            return kl_err_set(KL_ENOMEM, "out of memory");
    } else if (kl_buf_append_str(&ev->tmp, "Line was not parsable into a valid IMA entry: ") ||
               kl_buf_append(&ev->tmp, e->raw.ptr, e->raw.len)) {
        return kl_err_set(KL_ENOMEM, "out of memory");
    }
    ctx = json_pack("{s:o,s:s}", "message", str(kl_buf_bytes(&ev->tmp)), "reason", e->error);
    LOG_INFO("entry %zu: %s", e->index, e->error);
    return add_json(ev, "ima.parser.entry", ctx);
}

/* The list, entry by entry, in either format, read AHEAD entries ahead:
 * while one entry is hashed, the policy slots and records of the next ones
 * are fetched into the cache (a lookup in a large policy is two memory
 * misses otherwise). The parsers keep AHEAD + 1 entries valid. */
#define AHEAD (KL_IMA_ASCII_KEEP - 1)
_Static_assert(KL_IMA_ASCII_KEEP == KL_IMA_BINARY_KEEP, "both parsers keep as many entries");

typedef struct {
    kl_ima_entry e;
    uint64_t hash; /* of e.name, for the digests map */
} pending;

typedef struct {
    bool binary;
    kl_ima_ascii a;
    kl_ima_binary b;
    const kl_digest_map *map; /* the policy's digests, or NULL */
    pending ring[AHEAD + 1];
    size_t head, count;
    bool done;
} source;

static kl_rc
read_one(eval *ev, source *s, kl_ima_entry *e, bool *more)
{
    kl_rc rc;

    if (!s->binary)
        return kl_ima_ascii_next(&s->a, e, more);
    rc = kl_ima_binary_next(&s->b, e, more);
    if (rc != KL_EPARSE)
        return rc;
    *more = false;
    return kl_verdict_add_msg(ev->v, "ima.parser.entry", true, "%s", kl_err_msg());
}

static kl_rc
fill(eval *ev, source *s)
{
    while (!s->done && s->count <= AHEAD) {
        pending *p = &s->ring[(s->head + s->count) % (AHEAD + 1)];
        bool more;
        kl_rc rc = read_one(ev, s, &p->e, &more);

        if (rc != KL_OK)
            return rc;
        if (!more) {
            s->done = true;
            break;
        }
        p->hash = kl_digest_map_hash(p->e.name);
        kl_digest_map_prefetch_slot(s->map, p->hash);
        s->count++;
    }
    return KL_OK;
}

/* The next entry (valid until the next call); *more is false at the end. */
static kl_rc
source_next(eval *ev, source *s, pending **out, bool *more)
{
    kl_rc rc = fill(ev, s);

    *more = rc == KL_OK && s->count > 0;
    if (!*more)
        return rc;
    *out = &s->ring[s->head];
    s->head = (s->head + 1) % (AHEAD + 1);
    s->count--;
    /* two entries ahead: its slot was fetched when it was read, now its
     * record (one ahead is too late to hide a memory miss) */
    if (s->count >= 2)
        kl_digest_map_prefetch_record(s->map, s->ring[(s->head + 1) % (AHEAD + 1)].hash);
    return KL_OK;
}

static kl_rc
eval_setup(eval *ev, const kl_ima_eval_opts *o, kl_verdict *v)
{
    kl_rc rc;

    memset(ev, 0, sizeof(*ev));
    ev->o = o;
    ev->v = v;
    kl_buf_init(&ev->tmp, (size_t)1 << 24);
    ev->log_alg = o->policy ? kl_runtime_policy_log_hash_alg(o->policy) : KL_HASH_SHA1;
    ev->log_size = kl_hash_size(ev->log_alg);
    ev->bank_size = kl_hash_size(o->bank);
    ev->tenant = o->tenant ? o->tenant : o->policy ? kl_runtime_policy_keys(o->policy) : NULL;
    if (!ev->bank_size || o->bank > KL_HASH_SHA512)
        return kl_err_set(KL_EINVAL, "PCR bank must be sha1, sha256, sha384 or sha512");
    rc = kl_hasher_new(&ev->h);
    if (rc == KL_OK && o->policy)
        rc = kl_excludes_matcher_new(kl_runtime_policy_excludes(o->policy), &ev->excl);
    return rc;
}

static void
eval_cleanup(eval *ev)
{
    kl_hasher_free(ev->h);
    kl_excludes_matcher_free(ev->excl);
    kl_buf_free(&ev->tmp);
}

/* upstream AgentAttestState.check_quote_progress */
static bool
quote_progress_ok(kl_ima_state *st, size_t match, size_t len)
{
    bool ok = true;

    if (st->progress_known && match != len) {
        /* signed in upstream: empty lines count in match but not in len */
        size_t prev_lag = st->prev_len > st->prev_match ? st->prev_len - st->prev_match : 0;

        ok = !(prev_lag > 0 && match < prev_lag);
    }
    st->progress_known = true;
    st->prev_match = match;
    st->prev_len = len;
    return ok;
}

static kl_rc
finish(eval *ev, kl_ima_result *res, const uint8_t *quoted, bool found, kl_ima_state *st,
       size_t fail_before)
{
    char hex[2 * KL_HASH_MAX_SIZE + 1];
    kl_rc rc = KL_OK;

    if (quoted && !found) {
        kl_hex_encode(hex, quoted, ev->bank_size);
        rc = kl_verdict_add_msg(ev->v, "ima.pcr_mismatch", true,
                                "IMA measurement list does not match TPM PCR %s", hex);
    } else if (quoted && st && !quote_progress_ok(st, res->match_lines, res->entries)) {
        rc = kl_verdict_add_msg(ev->v, "ima.quote_progress", true,
                                "PCR quote did not make progress to catch up with log");
    }
    if (rc == KL_OK && st && ev->v->count > fail_before) {
        memset(st, 0, sizeof(*st));
    }
    return rc;
}

kl_rc
kl_ima_eval(kl_verdict *v, kl_ima_result *res, const kl_ima_eval_opts *o, kl_bytes list,
            const uint8_t *quoted, kl_ima_state *st)
{
    uint8_t pcr_digest[KL_HASH_MAX_SIZE];
    size_t fail_before = v->count;
    bool found = quoted == NULL, more = true;
    source src = {.binary = o->binary};
    pending *p;
    eval ev;
    kl_rc rc;

    memset(res, 0, sizeof(*res));
    rc = eval_setup(&ev, o, v);
    if (rc != KL_OK)
        goto out;
    if (st)
        memcpy(res->pcr10, st->pcr10, ev.bank_size);
    if (src.binary)
        kl_ima_binary_init(&src.b, list, ev.log_size);
    else
        kl_ima_ascii_init(&src.a, list);
    src.map = o->policy ? kl_runtime_policy_map(o->policy, KL_POLICY_DIGESTS) : NULL;
    if (quoted)
        found = memcmp(res->pcr10, quoted, ev.bank_size) == 0;
    while ((rc = source_next(&ev, &src, &p, &more)) == KL_OK && more) {
        const kl_ima_entry *e = &p->e;

        res->entries++;
        if (e->error && !e->template_data.ptr) {
            /* as upstream: an unparsable line is not replayed */
            if ((rc = parse_failure(&ev, e)) != KL_OK)
                break;
            continue;
        }
        if (e->error) {
            /* binary: the record still holds the data that was extended */
            rc = kl_hasher_digest(ev.h, o->bank, e->template_data.ptr, e->template_data.len,
                                  pcr_digest);
            if (rc == KL_OK)
                rc = parse_failure(&ev, e);
        } else {
            rc = check_entry(&ev, e, p->hash, pcr_digest);
        }
        if (rc == KL_OK)
            rc = kl_ima_pcr_extend(ev.h, o->bank, res->pcr10, pcr_digest);
        if (rc != KL_OK)
            break;
        if (found)
            continue;
        found = memcmp(res->pcr10, quoted, ev.bank_size) == 0;
        if (found) {
            res->match_lines = e->index + 1;
            if (st) {
                st->next_entry += e->index + 1;
                memcpy(st->pcr10, res->pcr10, ev.bank_size);
            }
        }
    }
    res->matched = quoted && found;
    if (rc == KL_OK)
        rc = finish(&ev, res, quoted, found, st, fail_before);
out:
    if (src.binary)
        kl_ima_binary_free(&src.b);
    else
        kl_ima_ascii_free(&src.a);
    eval_cleanup(&ev);
    return rc;
}
