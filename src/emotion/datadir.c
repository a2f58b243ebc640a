/* Data directory lookup: the first candidate root that holds what the caller asks for wins,
 * so a user install (~/.local/share) overrides a system one and $EMSYNC_DATA overrides both. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

char *es_datadir_find(const char *sub, const char *probe)
{
    char roots[5][1024];
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
#undef ROOT
    snprintf(roots[n++], sizeof roots[0], "/usr/local/share/emsync");
    snprintf(roots[n++], sizeof roots[0], "/usr/share/emsync");

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
            "/usr/local/share/emsync or /usr/share/emsync",
            sub, probe ? "/" : "", probe ? probe : "");
    return NULL;
}
