/* agent_exec: runs a program (argv, never a shell string) with its output
 * logged line by line under the program's name, and a time limit after
 * which its whole process group is killed. Called from a forked worker so
 * the event loop never waits on a script. */
#define KL_LOGMODULE "agent"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "util/kl_log.h"

static void
child(const char *const *argv, const char *dir, int out)
{
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    char *args[8] = {NULL};

    setpgid(0, 0);
    if (devnull >= 0)
        dup2(devnull, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(out, STDERR_FILENO);
    if (dir && chdir(dir) != 0)
        _exit(126);

    for (size_t i = 0; i < 7 && argv[i]; i++)
        args[i] = (char *)(uintptr_t)argv[i]; /* execv's prototype predates const */
    execv(args[0], args);
    _exit(127);
}

/* Logs complete lines of buf[0..*len) and keeps the unfinished rest. */
static void
log_lines(const char *name, char *buf, size_t *len, bool flush)
{
    size_t start = 0;

    for (size_t i = 0; i < *len; i++) {
        if (buf[i] != '\n')
            continue;
        LOG_INFO("%s: %.*s", name, (int)(i - start), buf + start);
        start = i + 1;
    }
    if (flush && start < *len) {
        LOG_INFO("%s: %.*s", name, (int)(*len - start), buf + start);
        start = *len;
    }
    memmove(buf, buf + start, *len - start);
    *len -= start;
}

static void
pump(const char *name, int fd, pid_t pid, unsigned timeout_s)
{
    time_t deadline = time(NULL) + (time_t)timeout_s;
    char buf[4096];
    size_t len = 0;

    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        int left = (int)(deadline - time(NULL));
        ssize_t n;

        if (left <= 0 || poll(&p, 1, left * 1000) == 0) {
            LOG_WARN("%s: still running after %u s; killed", name, timeout_s);
            kill(-pid, SIGKILL);
            break;
        }
        n = read(fd, buf + len, sizeof(buf) - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        log_lines(name, buf, &len, len == sizeof(buf));
    }
    log_lines(name, buf, &len, true);
}

/* The index of the last argument: the script for "/bin/sh script". */
static size_t
argc_last(const char *const *argv)
{
    size_t n = 0;

    while (argv[n + 1])
        n++;
    return n;
}

kl_rc
agent_exec(const char *const *argv, const char *dir, unsigned timeout_s, int *status)
{
    const char *name = strrchr(argv[argc_last(argv)], '/');
    int fds[2], ws = 0;
    pid_t pid;

    *status = -1;
    name = name ? name + 1 : argv[argc_last(argv)];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return kl_err_set(KL_EIO, "pipe: %s", strerror(errno));
    pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return kl_err_set(KL_EIO, "fork: %s", strerror(errno));
    }
    if (pid == 0)
        child(argv, dir, fds[1]);
    close(fds[1]);
    pump(name, fds[0], pid, timeout_s);
    close(fds[0]);
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(ws))
        *status = WEXITSTATUS(ws);
    LOG_INFO("%s finished with %s %d", name, WIFEXITED(ws) ? "exit status" : "signal",
             WIFEXITED(ws) ? WEXITSTATUS(ws) : WTERMSIG(ws));
    return KL_OK;
}
