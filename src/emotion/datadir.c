/* Data directory lookup: the first candidate root that holds what the caller asks for wins,
 * so a user install (~/.local/share) overrides a system one and $EMSYNC_DATA overrides both;
 * the binary's own install comes before the fixed /usr roots. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "emotion/datadir.h"

static char *join3(const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b) + (c ? strlen(c) : 0) + 3;
    char *s = es_malloc(n);
    if (!s) return NULL;
    if (c) snprintf(s, n, "%s/%s/%s", a, b, c);
    else snprintf(s, n, "%s/%s", a, b);
    return s;
}

#define USR_LOCAL_ROOT "/usr/local/share/emsync"
#define USR_ROOT "/usr/share/emsync"

/* The data of the install this binary belongs to: <prefix>/share/emsync for <prefix>/bin/emsync,
 * from /proc/self/exe, so that an install under any PREFIX (or a DESTDIR tree moved into place)
 * finds its own data with no path compiled in: one build serves every PREFIX. The link is already
 * free of symlinks, so dropping its last two components gives the real "<bin>/..". Writes "" when
 * the link cannot be read, may have been cut short, or names a fixed root (not listed twice). */
static void exe_root(char *out, size_t size)
{
    char exe[1024];
    out[0] = '\0';
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe);
    if (n <= 0 || (size_t)n >= sizeof exe) return; /* failed, or perhaps truncated */
    exe[n] = '\0';
    for (int up = 0; up < 2; up++) { /* <prefix>/bin/emsync -> <prefix>/bin -> <prefix> */
        char *slash = strrchr(exe, '/');
        if (!slash) return;
        *slash = '\0';
    }
    int len = snprintf(out, size, "%s/share/emsync", exe);
    if (len < 0 || (size_t)len >= size || !strcmp(out, USR_LOCAL_ROOT) || !strcmp(out, USR_ROOT))
        out[0] = '\0';
}

char *es_datadir_find(const char *sub, const char *probe)
{
    char roots[6][1024], self[1024];
    int n = 0;
    /* a root too long for its buffer is skipped: cut short it could name another directory */
#define ROOT(fmt, env)                                                                    \
    do {                                                                                  \
        int len_ = snprintf(roots[n], sizeof roots[0], fmt, env);                         \
        if (len_ >= 0 && (size_t)len_ < sizeof roots[0]) n++;                            \
    } while (0)
    const char *env = getenv("EMSYNC_DATA");
    if (env && env[0]) ROOT("%s", env);
    env = getenv("XDG_DATA_HOME");
    if (env && env[0]) ROOT("%s/emsync", env);
    env = getenv("HOME");
    if (env && env[0]) ROOT("%s/.local/share/emsync", env);
    exe_root(self, sizeof self);
    if (self[0]) ROOT("%s", self);
#undef ROOT
    snprintf(roots[n++], sizeof roots[0], USR_LOCAL_ROOT);
    snprintf(roots[n++], sizeof roots[0], USR_ROOT);

    for (int i = 0; i < n; i++) {
        char *dir = join3(roots[i], sub, NULL);
        char *path = probe && dir ? join3(roots[i], sub, probe) : NULL;
        struct stat st;
        if (dir && (probe ? path && stat(path, &st) == 0 && S_ISREG(st.st_mode)
                          : stat(dir, &st) == 0 && S_ISDIR(st.st_mode))) {
            free(path);
            return dir;
        }
        free(path);
        free(dir);
    }
    es_fail("%s%s%s not found in $EMSYNC_DATA, $XDG_DATA_HOME/emsync, ~/.local/share/emsync, "
            "%s%s" USR_LOCAL_ROOT " or " USR_ROOT,
            sub, probe ? "/" : "", probe ? probe : "", self, self[0] ? ", " : "");
    return NULL;
}
