/* agent_revocation: POST notifications/revocation (PROTOCOL.md section 10).
 * The message must be signed (RSA-PSS) by the RevocationNotifier
 * certificate delivered in the payload; only then are the actions run:
 * revocation_actions from agent.conf, then the names in the payload's
 * action_list, each looked up in revocation_actions_dir and then (if
 * allow_payload_revocation_actions) in the payload directory, and run
 * with one argument, a file (in the secure directory) holding the message,
 * in a worker process.
 * Unlike the Rust agent, which answers 200 before checking, a message that
 * does not verify is answered 400 so the sender learns of it. */
#define KL_LOGMODULE "agent"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "json/json.h"
#include "payload/revocation.h"
#include "util/kl_alloc.h"
#include "util/kl_file.h"
#include "util/kl_log.h"

#define ACTION_TIMEOUT_S 60
#define MAX_ACTIONS 64

/* Where action `name` lives, or false. */
static bool
find_action(const agent_ctx *a, const char *name, char *path, size_t n)
{
    struct stat st;

    if (!name[0] || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
        return false;
    snprintf(path, n, "%s/%s", a->cfg->revocation_actions_dir, name);
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
        return true;
    if (!a->cfg->allow_payload_revocation_actions)
        return false;
    snprintf(path, n, "%s/%s", a->paths->unzipped, name);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The configured actions plus the payload's action_list. */
static kl_rc
action_names(const agent_ctx *a, kl_strlist *out)
{
    char path[4096];
    kl_buf text;
    kl_strlist file = {0};
    kl_rc rc = KL_OK;

    memset(out, 0, sizeof(*out));
    out->items = kl_calloc(MAX_ACTIONS, sizeof(char *));
    if (!out->items)
        return kl_err_set(KL_ENOMEM, "out of memory");
    for (size_t i = 0; i < a->cfg->revocation_actions.n && out->n < MAX_ACTIONS; i++)
        if (!(out->items[out->n++] = kl_strdup(a->cfg->revocation_actions.items[i])))
            rc = kl_err_set(KL_ENOMEM, "out of memory");
    kl_buf_init(&text, 64 * 1024);
    snprintf(path, sizeof(path), "%s/action_list", a->paths->unzipped);
    if (rc == KL_OK && kl_file_read(path, &text) == KL_OK && kl_buf_terminate(&text) == KL_OK)
        rc = kl_strlist_split(&file, (const char *)text.ptr);
    for (size_t i = 0; rc == KL_OK && i < file.n && out->n < MAX_ACTIONS; i++)
        if (!(out->items[out->n++] = kl_strdup(file.items[i])))
            rc = kl_err_set(KL_ENOMEM, "out of memory");
    kl_strlist_free(&file);
    kl_buf_free(&text);
    return rc;
}

/* In the worker: each action in turn, stopping at the first failure. */
static int
run_actions(const agent_ctx *a, const kl_strlist *names, const char *msg_file)
{
    char path[4096];
    int status = 0;

    for (size_t i = 0; i < names->n; i++) {
        const char *argv[] = {path, msg_file, NULL};

        if (!find_action(a, names->items[i], path, sizeof(path))) {
            LOG_ERR("revocation action %s not found in %s%s", names->items[i],
                    a->cfg->revocation_actions_dir,
                    a->cfg->allow_payload_revocation_actions ? " or the payload" : "");
            return 1;
        }
        LOG_INFO("executing revocation action %s", names->items[i]);
        if (agent_exec(argv, a->paths->dir, ACTION_TIMEOUT_S, &status) != KL_OK || status != 0) {
            LOG_ERR("revocation action %s failed", names->items[i]);
            return 1;
        }
    }
    return 0;
}

static void
start_actions(agent_ctx *a, kl_bytes msg)
{
    char tmpl[4096];
    kl_strlist names = {0};
    pid_t pid;
    int fd;

    if (action_names(a, &names) != KL_OK || names.n == 0) {
        LOG_WARN("revocation received but no actions are configured or listed in the payload");
        kl_strlist_free(&names);
        return;
    }
    snprintf(tmpl, sizeof(tmpl), "%s/revocation-XXXXXX", a->paths->secure);
    fd = mkstemp(tmpl);
    if (fd < 0 || write(fd, msg.ptr, msg.len) != (ssize_t)msg.len) {
        LOG_ERR("cannot write the revocation message for the actions: %s", strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmpl);
        }
        kl_strlist_free(&names);
        return;
    }
    close(fd);
    pid = fork();
    if (pid == 0) {
        int status = run_actions(a, &names, tmpl);

        unlink(tmpl);
        _exit(status);
    }
    if (pid < 0) {
        LOG_ERR("cannot start the revocation actions: %s", strerror(errno));
        unlink(tmpl);
    }
    kl_strlist_free(&names);
}

void
agent_revocation(agent_ctx *a, kl_bytes body, agent_reply *out)
{
    kl_buf msg, sig, cert;
    json_t *doc = NULL;
    bool ok = false;

    kl_buf_init(&msg, 1u << 20);
    kl_buf_init(&sig, 64 * 1024);
    kl_buf_init(&cert, 1u << 20);
    if (kl_revocation_parse(&msg, &sig, body) != KL_OK) {
        agent_reply_set(out, 400, "Json deserialize error: %s", kl_err_msg());
        goto out;
    }
    if (kl_file_read(a->paths->revocation_cert, &cert) != KL_OK) {
        LOG_WARN("revocation received, but no revocation certificate at %s (deliver one in the "
                 "payload with keylime_tenant --cert)", a->paths->revocation_cert);
        agent_reply_set(out, 400, "No revocation certificate available to verify the message");
        goto out;
    }
    if (kl_revocation_verify(&ok, kl_buf_bytes(&cert), kl_buf_bytes(&msg), kl_buf_bytes(&sig)) !=
            KL_OK ||
        !ok) {
        LOG_WARN("refused a revocation message whose signature does not verify with %s",
                 a->paths->revocation_cert);
        agent_reply_set(out, 400, "Invalid revocation message signature");
        goto out;
    }
    if (kl_json_parse(kl_buf_bytes(&msg), "revocation message", &doc) != KL_OK)
        doc = NULL; /* kl_revocation_parse already checked it is an object */
    LOG_INFO("revocation signature verified (event %s)",
             json_is_string(json_object_get(doc, "event_id"))
                 ? json_string_value(json_object_get(doc, "event_id"))
                 : "?");
    start_actions(a, kl_buf_bytes(&msg));
    agent_reply_set(out, 200, "Success");
    out->null_results = true;
out:
    json_decref(doc);
    kl_buf_free(&msg);
    kl_buf_free(&sig);
    kl_buf_free(&cert);
}
