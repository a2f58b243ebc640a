/* Starting emsync itself as a child for one job (batch, serve): see cli.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/error.h"

pid_t cli_spawn_self(char *const argv[], int threads, int *stderr_fd)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC)) return es_fail("cannot make a pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return es_fail("cannot start a job: %s", strerror(errno));
    }
    if (pid == 0) { /* stdin and stdout on /dev/null, stderr into the pipe */
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
        }
        dup2(fds[1], 2);
        if (threads > 0) {
            char n[16];
            snprintf(n, sizeof n, "%d", threads);
            setenv("EMSYNC_THREADS", n, 1);
        }
        execv("/proc/self/exe", argv);
        dprintf(2, "emsync: cannot run emsync: %s\n", strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    *stderr_fd = fds[0];
    return pid;
}
