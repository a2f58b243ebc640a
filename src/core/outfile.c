/* Temporary-file-and-rename output, with clean-up on signals. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/outfile.h"

/* Temp files still open, so a signal handler can remove them. Fixed size: a run writes a
 * handful of outputs at a time. */
#define MAX_PENDING 16
static char *volatile pending[MAX_PENDING];
static volatile sig_atomic_t handlers_installed;

static void on_signal(int sig)
{
    for (int i = 0; i < MAX_PENDING; i++)
        if (pending[i]) unlink(pending[i]);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void remember(char *path)
{
    if (!handlers_installed) {
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        signal(SIGHUP, on_signal);
        handlers_installed = 1;
    }
    for (int i = 0; i < MAX_PENDING; i++)
        if (!pending[i]) {
            pending[i] = path;
            return;
        }
}

static void forget(const char *path)
{
    for (int i = 0; i < MAX_PENDING; i++)
        if (pending[i] == path) pending[i] = NULL;
}

void es_path_ext(const char *path, char *buf, int size)
{
    buf[0] = '\0';
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name) return;
    int i = 0;
    for (const char *p = dot + 1; *p && i < size - 1; p++) buf[i++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    buf[i] = '\0';
}

int es_outfile_open(es_outfile *o, const char *final_path)
{
    *o = (es_outfile){.fd = -1};
    size_t len = strlen(final_path);
    o->final_path = es_malloc(len + 1);
    o->temp_path = es_malloc(len + 32);
    if (!o->final_path || !o->temp_path) goto fail;
    memcpy(o->final_path, final_path, len + 1);

    char *dir_copy = strdup(final_path), *name_copy = strdup(final_path);
    if (!dir_copy || !name_copy) {
        free(dir_copy);
        free(name_copy);
        es_fail("out of memory");
        goto fail;
    }
    const char *dir = dirname(dir_copy), *name = basename(name_copy);
    const char *dot = strrchr(name, '.');
    int suffix_len = (dot && dot != name) ? (int)strlen(dot) : 0;
    snprintf(o->temp_path, len + 32, "%s/.%.*s.tmp-XXXXXX%s", dir, (int)(strlen(name) - suffix_len), name,
             suffix_len ? dot : "");
    free(dir_copy);
    free(name_copy);

    o->fd = mkstemps(o->temp_path, suffix_len);
    if (o->fd < 0) {
        es_fail("%s: cannot create output: %s", final_path, strerror(errno));
        goto fail;
    }
    remember(o->temp_path);
    return 0;
fail:
    free(o->final_path);
    free(o->temp_path);
    *o = (es_outfile){.fd = -1};
    return -1;
}

int es_outfile_commit(es_outfile *o)
{
    /* mkstemp makes 0600 files; give outputs the usual permissions under the umask */
    mode_t mask = umask(0);
    umask(mask);
    chmod(o->temp_path, 0666 & ~mask);
    if (o->fd >= 0) {
        if (close(o->fd) != 0) {
            o->fd = -1;
            es_fail("%s: write failed: %s", o->final_path, strerror(errno));
            es_outfile_abort(o);
            return -1;
        }
        o->fd = -1;
    }
    if (rename(o->temp_path, o->final_path) != 0) {
        es_fail("%s: cannot move output into place: %s", o->final_path, strerror(errno));
        es_outfile_abort(o);
        return -1;
    }
    forget(o->temp_path);
    free(o->temp_path);
    free(o->final_path);
    *o = (es_outfile){.fd = -1};
    return 0;
}

void es_outfile_abort(es_outfile *o)
{
    if (o->fd >= 0) close(o->fd);
    if (o->temp_path) {
        unlink(o->temp_path);
        forget(o->temp_path);
    }
    free(o->temp_path);
    free(o->final_path);
    *o = (es_outfile){.fd = -1};
}

int es_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0) return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int es_path_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

char *es_derive_path(const char *dir, const char *input, const char *suffix)
{
    const char *slash = strrchr(input, '/');
    const char *name = slash ? slash + 1 : input;
    const char *dot = strrchr(name, '.');
    int stem_len = (dot && dot != name) ? (int)(dot - name) : (int)strlen(name);
    size_t n = (dir ? strlen(dir) + 1 : 0) + (size_t)stem_len + strlen(suffix) + 1;
    char *out = es_malloc(n);
    if (!out) return NULL;
    if (dir) snprintf(out, n, "%s/%.*s%s", dir, stem_len, name, suffix);
    else snprintf(out, n, "%.*s%s", stem_len, name, suffix);
    return out;
}

int es_write_stream(const char *path, void (*write_fn)(FILE *f, const void *user), const void *user)
{
    es_outfile o;
    if (es_outfile_open(&o, path)) return -1;
    FILE *f = fdopen(o.fd, "w");
    if (!f) {
        es_outfile_abort(&o);
        return es_fail("%s: cannot write: %s", path, strerror(errno));
    }
    o.fd = -1; /* the stream owns the descriptor now */
    write_fn(f, user);
    int failed = ferror(f);
    if (fclose(f) != 0) failed = 1;
    if (failed) {
        es_outfile_abort(&o);
        return es_fail("%s: write failed", path);
    }
    return es_outfile_commit(&o);
}

int es_check_destination(const char *path, const char *input, int overwrite)
{
    if (es_same_file(path, input)) return es_fail("%s: output would overwrite the input", path);
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) return es_fail("%s: output is a directory", path);
        if (!overwrite) return es_fail("%s: already exists (use -y to overwrite)", path);
    }
    char *copy = strdup(path);
    if (!copy) return es_fail("out of memory");
    int ok = access(dirname(copy), W_OK) == 0;
    int err = errno;
    free(copy);
    if (!ok) return es_fail("%s: cannot write to its directory: %s", path, strerror(err));
    return 0;
}
