/* agent_quotes: GET quotes/identity and quotes/integrity (PROTOCOL.md
 * section 2.1), with the Rust agent's parameter rules and answers.
 *
 * PCR 16 binds the payload key: it is set once at start-up and re-bound
 * only when a quote shows it changed, instead of resetting and extending
 * it before every quote (two TPM commands saved per quote). */
#define KL_LOGMODULE "agent"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "json/json.h"
#include "tpmdev/tpmdev_pcr.h"
#include "tpmdev/tpmdev_quote.h"
#include "util/kl_b64.h"
#include "util/kl_file.h"
#include "util/kl_log.h"

#define MAX_NONCE 64
#define IMA_MAX (512u << 20)
#define MB_MAX (64u << 20)
#define PCR_BIND 16

static bool
alnum(const char *s)
{
    for (; *s; s++)
        if (!isalnum((unsigned char)*s))
            return false;
    return true;
}

bool
agent_nonce_ok(const char *nonce, agent_reply *out)
{
    if (!nonce) {
        agent_reply_set(out, 400, "Query deserialize error: missing field `nonce`");
        return false;
    }
    if (!alnum(nonce)) {
        agent_reply_set(out, 400, "nonce should be strictly alphanumeric: %.100s", nonce);
        return false;
    }
    if (strlen(nonce) > MAX_NONCE) {
        agent_reply_set(out, 400, "Nonce is too long (max size %d): %zu", MAX_NONCE,
                        strlen(nonce));
        return false;
    }
    return true;
}

bool
agent_mask_parse(const char *mask, uint32_t *out, agent_reply *r)
{
    const char *p = mask;
    char *end;
    unsigned long v;

    if (!mask) {
        agent_reply_set(r, 400, "Query deserialize error: missing field `mask`");
        return false;
    }
    if (!alnum(mask)) {
        agent_reply_set(r, 400, "mask should be strictly alphanumeric: %.100s", mask);
        return false;
    }
    while (p[0] == '0' && p[1] == 'x')
        p += 2;
    errno = 0;
    v = strtoul(p, &end, 16);
    if (!*p || *end || errno || v > 0xffffffffUL) {
        agent_reply_set(r, 400, "mask should be a hex encoded 32-bit integer: %.100s", mask);
        return false;
    }
    if (v >> 24) {
        agent_reply_set(r, 400, "mask selects PCRs above 23, which TPM quotes cannot hold: %.100s",
                        mask);
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

/* One quote over mask (+ PCR 16); re-binds PCR 16 and quotes again when
 * something else changed it. The quote string is appended to out. */
static kl_rc
take_quote(agent_ctx *a, const char *nonce, uint32_t mask, kl_buf *out)
{
    kl_tpmdev_quote_result q;
    size_t n = kl_hash_size(a->hash);
    kl_rc rc;

    for (int attempt = 0;; attempt++) {
        kl_tpmdev_quote_result_init(&q);
        rc = kl_tpmdev_quote(&q, a->tpm, a->ak, KL_BYTES_CSTR(nonce), a->hash,
                             mask | 1u << PCR_BIND);
        if (rc != KL_OK || attempt > 0 ||
            (kl_pcr_set_has(&q.pcrs, PCR_BIND) && !memcmp(q.pcrs.value[PCR_BIND], a->pcr16, n)))
            break;
        kl_tpmdev_quote_result_free(&q);
        LOG_INFO("PCR 16 does not hold the payload key binding; binding it again");
        rc = kl_tpmdev_pcr_bind(a->tpm, PCR_BIND, a->hash, kl_buf_bytes(&a->nk_pem));
        if (rc != KL_OK)
            return rc;
    }
    if (rc == KL_OK)
        rc = kl_tpmdev_quote_string(out, &q);
    kl_tpmdev_quote_result_free(&q);
    return rc;
}

/* enc_alg as the request's API version names it ("rsa"/"ecc" before 2.5). */
static const char *
enc_name(const agent_ctx *a, const char *version)
{
    bool legacy = version && strcmp(version, "2.5") < 0;

    if (legacy && !strcmp(a->enc_name, "rsa2048"))
        return "rsa";
    if (legacy && !strcmp(a->enc_name, "ecc256"))
        return "ecc";
    return a->enc_name;
}

static kl_rc
field(kl_buf *b, const char *name, kl_bytes text)
{
    kl_rc rc = kl_buf_printf(b, "%s\"%s\": ", b->len > 1 ? ", " : "", name);

    return rc == KL_OK ? kl_json_write_string(b, text) : rc;
}

/* {"quote", "hash_alg", "enc_alg", "sign_alg"[, "pubkey"]: the fields both
 * quotes share, written into out->raw (left open for more fields). */
static kl_rc
quote_common(agent_ctx *a, const agent_quote_args *q, uint32_t mask, bool pubkey,
             agent_reply *out)
{
    kl_buf quote;
    kl_rc rc;

    kl_buf_init(&quote, 64 * 1024);
    rc = take_quote(a, q->nonce, mask, &quote);
    if (rc == KL_OK)
        rc = kl_buf_append_byte(&out->raw, '{');
    if (rc == KL_OK)
        rc = field(&out->raw, "quote", kl_buf_bytes(&quote));
    if (rc == KL_OK)
        rc = field(&out->raw, "hash_alg", KL_BYTES_CSTR(kl_hash_name(a->hash)));
    if (rc == KL_OK)
        rc = field(&out->raw, "enc_alg", KL_BYTES_CSTR(enc_name(a, q->version)));
    if (rc == KL_OK)
        rc = field(&out->raw, "sign_alg", KL_BYTES_CSTR(a->sign_name));
    if (rc == KL_OK && pubkey)
        rc = field(&out->raw, "pubkey", kl_buf_bytes(&a->nk_pem));
    kl_buf_free(&quote);
    return rc;
}

static void
fail(agent_reply *out, const char *what)
{
    LOG_ERR("%s: %s", what, kl_err_msg());
    kl_buf_reset(&out->raw);
    agent_reply_set(out, 500, "Unable to retrieve quote");
}

void
agent_quote_identity(agent_ctx *a, const agent_quote_args *q, agent_reply *out)
{
    if (!agent_nonce_ok(q->nonce, out))
        return;
    if (quote_common(a, q, 0, true, out) != KL_OK ||
        kl_buf_append_byte(&out->raw, '}') != KL_OK) {
        fail(out, "identity quote");
        return;
    }
    agent_reply_set(out, 200, "Success");
    LOG_INFO("GET identity quote returning 200 response");
}

/* Reads the IMA list from byte offset `from` (counting lines from
 * `count`), appending the text from line `entry` on to out. Returns the
 * number of complete lines seen and sets *end to the offset after the last
 * newline. */
static kl_rc
ima_scan(int fd, uint64_t from, uint64_t count, uint64_t entry, kl_buf *out, bool *found,
         uint64_t *lines, uint64_t *end)
{
    uint8_t chunk[64 * 1024];
    uint64_t off = from;
    kl_rc rc = KL_OK;

    *found = count == entry;
    if (lseek(fd, (off_t)from, SEEK_SET) < 0)
        return kl_err_set(KL_EIO, "IMA list: seek: %s", strerror(errno));
    *end = from;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        size_t start = 0;

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return kl_err_set(KL_EIO, "IMA list: read: %s", strerror(errno));
        if (n == 0)
            break;
        for (size_t i = 0; i < (size_t)n; i++) {
            if (chunk[i] != '\n')
                continue;
            count++;
            *end = off + i + 1;
            if (!*found && count == entry) {
                *found = true;
                start = i + 1;
            }
        }
        if (*found && (rc = kl_buf_append(out, chunk + start, (size_t)n - start)) != KL_OK)
            return rc;
        off += (uint64_t)n;
    }
    *lines = count;
    return rc;
}

kl_rc
agent_ima_read(agent_ctx *a, uint64_t entry, kl_buf *out, uint64_t *used)
{
    uint64_t from = 0, count = 0, lines = 0, end = 0;
    bool found = false;
    int fd;
    kl_rc rc;

    fd = open(a->paths->ima_ml, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return kl_err_set(KL_EIO, "cannot open the IMA list %s: %s", a->paths->ima_ml,
                          strerror(errno));
    /* resume from the last position known to be at or before entry */
    if (a->ima_entry_cache && a->ima_entry_cache <= entry &&
        (off_t)a->ima_offset_cache <= lseek(fd, 0, SEEK_END)) {
        from = a->ima_offset_cache;
        count = a->ima_entry_cache;
    }
    rc = ima_scan(fd, from, count, entry, out, &found, &lines, &end);
    if (rc == KL_OK && !found) { /* beyond the end: the whole list, entry 0 */
        kl_buf_reset(out);
        rc = ima_scan(fd, 0, 0, 0, out, &found, &lines, &end);
        entry = 0;
    }
    if (rc == KL_OK) {
        a->ima_entry_cache = lines;
        a->ima_offset_cache = end;
        *used = entry;
    }
    close(fd);
    return rc;
}

/* The boot log as base64, read on first use and kept: the firmware wrote
 * it before the kernel started, so it cannot change while the agent runs. */
static kl_bytes
boot_log(agent_ctx *a)
{
    kl_buf raw;

    if (a->mb_b64.len || access(a->paths->mb_ml, R_OK) != 0)
        return kl_buf_bytes(&a->mb_b64);
    kl_buf_init(&raw, MB_MAX);
    kl_buf_init(&a->mb_b64, MB_MAX * 2);
    if (kl_file_read(a->paths->mb_ml, &raw) != KL_OK ||
        kl_b64_encode_append(&a->mb_b64, raw.ptr, raw.len) != KL_OK) {
        LOG_WARN("could not read the boot event log: %s", kl_err_msg());
        kl_buf_free(&a->mb_b64);
    }
    kl_buf_free(&raw);
    return kl_buf_bytes(&a->mb_b64);
}

static kl_rc
add_lists(agent_ctx *a, uint32_t mask, uint64_t entry, agent_reply *out)
{
    kl_bytes mb = (mask & 1u) ? boot_log(a) : KL_BYTES(NULL, 0);
    uint64_t used = 0;
    kl_buf text;
    kl_rc rc = KL_OK;

    kl_buf_init(&text, IMA_MAX);
    if (mb.len)
        rc = field(&out->raw, "mb_measurement_list", mb);
    if (rc == KL_OK && access(a->paths->ima_ml, F_OK) == 0) {
        rc = agent_ima_read(a, entry, &text, &used);
        if (rc == KL_OK)
            rc = field(&out->raw, "ima_measurement_list", kl_buf_bytes(&text));
        if (rc == KL_OK)
            rc = kl_buf_printf(&out->raw, ", \"ima_measurement_list_entry\": %llu",
                               (unsigned long long)used);
    }
    kl_buf_free(&text);
    return rc;
}

void
agent_quote_integrity(agent_ctx *a, const agent_quote_args *q, agent_reply *out)
{
    uint64_t entry = 0;
    uint32_t mask = 0;
    char *end;

    if (!agent_nonce_ok(q->nonce, out) || !agent_mask_parse(q->mask, &mask, out))
        return;
    if (!q->partial || (strcmp(q->partial, "0") && strcmp(q->partial, "1"))) {
        agent_reply_set(out, 400, "uri must contain key 'partial' and value '0' or '1'");
        return;
    }
    if (q->ima_ml_entry) {
        entry = strtoull(q->ima_ml_entry, &end, 10);
        if (*end || !isdigit((unsigned char)q->ima_ml_entry[0]))
            entry = 0; /* upstream: unparsable means from the start */
    }
    if (quote_common(a, q, mask, !strcmp(q->partial, "0"), out) != KL_OK ||
        add_lists(a, mask, entry, out) != KL_OK || kl_buf_append_byte(&out->raw, '}') != KL_OK) {
        fail(out, "integrity quote");
        return;
    }
    agent_reply_set(out, 200, "Success");
    LOG_INFO("GET integrity quote returning 200 response");
}
