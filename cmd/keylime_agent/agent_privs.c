/* agent_privs: started as root, the agent opens the TPM, its keys and its
 * port, mounts the secure directory, then continues as run_as
 * ("user[:group]"), owning the secure directory so payloads can be
 * unpacked there. */
#define KL_LOGMODULE "agent"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "util/kl_log.h"

kl_rc
agent_drop_privileges(const char *run_as, const char *owned_dir)
{
    char user[128], *group;
    struct passwd *pw;
    struct group *gr = NULL;
    gid_t gid;

    if (geteuid() != 0)
        return KL_OK;
    if (!run_as[0]) {
        LOG_WARN("running as root: run_as is empty in agent.conf");
        return KL_OK;
    }
    snprintf(user, sizeof(user), "%s", run_as);
    group = strchr(user, ':');
    if (group)
        *group++ = '\0';
    pw = getpwnam(user);
    if (!pw)
        return kl_err_set(KL_EINVAL, "agent.conf: run_as user '%s' does not exist; create it or "
                                     "set run_as = \"\" to stay root", user);
    if (group && !(gr = getgrnam(group)))
        return kl_err_set(KL_EINVAL, "agent.conf: run_as group '%s' does not exist", group);
    gid = gr ? gr->gr_gid : pw->pw_gid;
    if (owned_dir && chown(owned_dir, pw->pw_uid, gid) != 0)
        return kl_err_set(KL_EIO, "cannot give %s to %s: %s", owned_dir, run_as, strerror(errno));
    if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(pw->pw_uid) != 0)
        return kl_err_set(KL_EPERM, "cannot switch to %s: %s", run_as, strerror(errno));
    if (setuid(0) == 0)
        return kl_err_set(KL_EPERM, "privileges could not be dropped for good");
    LOG_INFO("now running as %s", run_as);
    return KL_OK;
}
