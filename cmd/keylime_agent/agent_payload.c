/* agent_payload: the secure directory and the payload delivered with U
 * (PROTOCOL.md section 5.3): decrypt with K, recreate secure/unzipped/,
 * write the key and the plaintext there, unzip it safely, make the
 * action_list's files executable, and run payload_script in a worker
 * process (so the agent keeps answering while it runs). */
#define KL_LOGMODULE "agent"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "payload/payload_crypt.h"
#include "payload/unzip.h"
#include "util/kl_alloc.h"
#include "util/kl_file.h"
#include "util/kl_log.h"

#define PAYLOAD_MAX (64u << 20)
#define SCRIPT_TIMEOUT_S 600

static bool
is_mountpoint(const char *path)
{
    struct stat a, b;
    char parent[4096];

    snprintf(parent, sizeof(parent), "%s/..", path);
    return stat(path, &a) == 0 && stat(parent, &b) == 0 && a.st_dev != b.st_dev;
}

static bool
size_ok(const char *s)
{
    size_t i = 0;

    while (s[i] >= '0' && s[i] <= '9')
        i++;
    return i > 0 && (!s[i] || (strchr("kKmMgG%", s[i]) && !s[i + 1]));
}

kl_rc
agent_secure_dir(agent_ctx *a)
{
    const char *dir = a->paths->secure;
    char opts[64];

    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return kl_err_set(KL_EIO, "cannot create %s: %s", dir, strerror(errno));
    if (is_mountpoint(dir))
        return KL_OK;
    if (!size_ok(a->cfg->secure_size))
        return kl_err_set(KL_EINVAL, "agent.conf: secure_size = \"%s\" is not a size such as "
                                     "\"1m\"", a->cfg->secure_size);
    snprintf(opts, sizeof(opts), "size=%s,mode=0700", a->cfg->secure_size);
    if (geteuid() == 0 && mount("tmpfs", dir, "tmpfs", MS_NODEV | MS_NOSUID,
                                opts) == 0) {
        LOG_INFO("mounted a %s tmpfs on %s for payload secrets", a->cfg->secure_size, dir);
        return KL_OK;
    }
    LOG_WARN("%s is not a tmpfs (%s); payload secrets will be kept in a 0700 directory on disk",
             dir, geteuid() == 0 ? strerror(errno) : "not running as root");
    return KL_OK;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    if (ftw->level == 0)
        return 0;
    return remove(path) == 0 ? 0 : -1;
}

/* Empties secure/unzipped/ (never following symlinks) or creates it. */
static kl_rc
fresh_unzipped(const char *dir)
{
    if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
        return kl_err_set(KL_EIO, "cannot empty %s: %s", dir, strerror(errno));
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return kl_err_set(KL_EIO, "cannot create %s: %s", dir, strerror(errno));
    return KL_OK;
}

static kl_rc
write_secret(const char *dir, const char *name, kl_bytes data)
{
    char path[4096];

    if (strchr(name, '/') || !strcmp(name, "..") || !name[0])
        return kl_err_set(KL_EINVAL, "agent.conf: '%s' must be a plain file name", name);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return kl_file_write_mode(path, data.ptr, data.len, 0600);
}

/* chmod 0700 every file named in unzipped/action_list (one per line). */
static void
arm_actions(const char *dir)
{
    char path[4096], *line, *save = NULL;
    kl_buf list;

    kl_buf_init(&list, 64 * 1024);
    snprintf(path, sizeof(path), "%s/action_list", dir);
    if (kl_file_read(path, &list) != KL_OK || kl_buf_terminate(&list) != KL_OK) {
        kl_buf_free(&list);
        return;
    }
    for (line = strtok_r((char *)list.ptr, "\r\n", &save); line;
         line = strtok_r(NULL, "\r\n", &save)) {
        int fd;

        if (!line[0] || strchr(line, '/'))
            continue;
        fd = openat(AT_FDCWD, dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && fchmodat(fd, line, 0700, 0) != 0)
            LOG_WARN("action_list names %s, which is not in the payload", line);
        if (fd >= 0)
            close(fd);
    }
    kl_buf_free(&list);
}

static void
run_script(agent_ctx *a)
{
    const char *dir = a->paths->unzipped;
    char path[4096];
    const char *argv[] = {"/bin/sh", path, NULL};
    int status;
    pid_t pid;

    snprintf(path, sizeof(path), "%s/%s", dir, a->cfg->payload_script);
    if (!a->cfg->payload_script[0] || strchr(a->cfg->payload_script, '/') ||
        access(path, F_OK) != 0)
        return;
    if (chmod(path, 0700) != 0)
        LOG_WARN("chmod %s: %s", path, strerror(errno));
    pid = fork();
    if (pid < 0) {
        LOG_ERR("cannot start %s: fork: %s", path, strerror(errno));
        return;
    }
    if (pid > 0) {
        LOG_INFO("running the payload script %s (worker %d)", path, (int)pid);
        return;
    }
    if (agent_exec(argv, dir, SCRIPT_TIMEOUT_S, &status) != KL_OK)
        LOG_ERR("%s", kl_err_msg());
    _exit(status == 0 ? 0 : 1);
}

void
agent_payload_run(agent_ctx *a)
{
    const kl_unzip_limits lim = {PAYLOAD_MAX, 1024, PAYLOAD_MAX};
    kl_bytes k = kl_uvstore_key(a->uv);
    const char *dir = a->paths->unzipped;
    size_t n = 0;
    kl_buf plain;
    kl_rc rc;

    if (!a->cfg->enable_agent_mtls && !a->cfg->enable_insecure_payload) {
        LOG_WARN("payload received but not run: mTLS is disabled and enable_insecure_payload "
                 "is false");
        return;
    }
    kl_buf_init(&plain, PAYLOAD_MAX);
    rc = kl_payload_decrypt(&plain, k, kl_uvstore_payload(a->uv));
    if (rc == KL_OK)
        rc = fresh_unzipped(dir);
    if (rc == KL_OK)
        rc = write_secret(dir, a->cfg->enc_keyname, k);
    if (rc == KL_OK)
        rc = write_secret(dir, a->cfg->dec_payload_file, kl_buf_bytes(&plain));
    if (rc == KL_OK && a->cfg->extract_payload_zip) {
        rc = kl_unzip_safe(kl_buf_bytes(&plain), dir, &lim, &n);
        if (rc == KL_EPARSE && n == 0 && !(plain.len >= 2 && !memcmp(plain.ptr, "PK", 2))) {
            LOG_INFO("the payload is not a zip archive; kept as %s", a->cfg->dec_payload_file);
            rc = KL_OK;
        }
    }
    kl_buf_free_secret(&plain);
    if (rc != KL_OK) {
        LOG_ERR("payload not run: %s", kl_err_msg());
        return;
    }
    LOG_INFO("payload decrypted into %s (%zu files)", dir, n);
    a->payload_ran = true;
    arm_actions(dir);
    run_script(a);
}
