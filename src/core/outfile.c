/* Temporary-file-and-rename output, with clean-up on signals. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/outfile.h"

/* Temp files still open, so a signal handler can remove them. The names are copied into static
 * slots (the handler never touches memory that could be freed meanwhile) and a slot is published
 * with an atomic flag after its name is complete; the handler calls only unlink, sigaction and
 * raise, which are async-signal-safe. Fixed size: a run writes a handful of outputs at a time. */
#define MAX_PENDING 32
#define PENDING_PATH 4096
static char pending_path[MAX_PENDING][PENDING_PATH];
static _Atomic int pending_used[MAX_PENDING];
static _Atomic int handlers_installed;
static const int cleanup_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};

static void on_signal(int sig)
{
    for (int i = 0; i < MAX_PENDING; i++)
        if (atomic_load(&pending_used[i])) unlink(pending_path[i]);
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    raise(sig);
}

/* Installs the handler for each clean-up signal, except those the process was started with
 * ignored (nohup, a background job): those stay ignored. */
static void install_handlers(void)
{
    int expected = 0;
    if (!atomic_compare_exchange_strong(&handlers_installed, &expected, 1)) return;
    for (size_t i = 0; i < sizeof cleanup_signals / sizeof cleanup_signals[0]; i++) {
        struct sigaction old, sa = {.sa_handler = on_signal};
        sigemptyset(&sa.sa_mask);
        if (sigaction(cleanup_signals[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        sigaction(cleanup_signals[i], &sa, NULL);
    }
}

/* Blocks the clean-up signals in this thread while a slot and its file change together. */
static void block_signals(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof cleanup_signals / sizeof cleanup_signals[0]; i++) sigaddset(&set, cleanup_signals[i]);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

static void restore_signals(const sigset_t *old) { pthread_sigmask(SIG_SETMASK, old, NULL); }

/* Claims a slot for path; returns its index or -1 when the table is full or path too long.
 * Slots are taken round robin, so a slot just released is not rewritten while a handler running
 * on another thread may still be reading its old name. */
static int remember(const char *path)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static int next;
    if (strlen(path) >= PENDING_PATH) return -1;
    install_handlers();
    int slot = -1;
    pthread_mutex_lock(&lock);
    for (int k = 0; k < MAX_PENDING && slot < 0; k++) {
        int i = (next + k) % MAX_PENDING;
        if (!atomic_load(&pending_used[i])) {
            memcpy(pending_path[i], path, strlen(path) + 1);
            atomic_store(&pending_used[i], 1);
            slot = i;
            next = i + 1;
        }
    }
    pthread_mutex_unlock(&lock);
    return slot;
}

static void forget(int slot)
{
    if (slot >= 0) atomic_store(&pending_used[slot], 0);
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
    *o = (es_outfile){.fd = -1, .slot = -1};
    if (!final_path[0]) return es_fail("empty output path");
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

    /* no signal between creating the file and registering it for clean-up */
    sigset_t old;
    block_signals(&old);
    o->fd = mkstemps(o->temp_path, suffix_len);
    const char *why = o->fd < 0 ? strerror(errno) : NULL;
    if (o->fd >= 0) {
        o->slot = remember(o->temp_path);
        if (o->slot < 0) {
            close(o->fd);
            unlink(o->temp_path);
            o->fd = -1;
            why = "too many outputs open at once";
        }
    }
    restore_signals(&old);
    if (o->fd < 0) {
        es_fail("%s: cannot create output: %s", final_path, why);
        goto fail;
    }
    return 0;
fail:
    free(o->final_path);
    free(o->temp_path);
    *o = (es_outfile){.fd = -1, .slot = -1};
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
    /* the rename and the slot's release happen together as far as this thread's signals go */
    sigset_t old;
    block_signals(&old);
    int renamed = rename(o->temp_path, o->final_path) == 0;
    int err = errno;
    if (renamed) forget(o->slot);
    restore_signals(&old);
    if (!renamed) {
        es_fail("%s: cannot move output into place: %s", o->final_path, strerror(err));
        es_outfile_abort(o);
        return -1;
    }
    free(o->temp_path);
    free(o->final_path);
    *o = (es_outfile){.fd = -1, .slot = -1};
    return 0;
}

void es_outfile_abort(es_outfile *o)
{
    if (o->fd >= 0) close(o->fd);
    if (o->temp_path) {
        unlink(o->temp_path);
        forget(o->slot);
    }
    free(o->temp_path);
    free(o->final_path);
    *o = (es_outfile){.fd = -1, .slot = -1};
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
    if (!path[0]) return es_fail("empty output path");
    if (input && es_same_file(path, input)) return es_fail("%s: output would overwrite the input", path);
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

/* "<real directory>/<name>" for a path whose file may not exist yet, or NULL when its directory
 * does not resolve. */
static char *canonical_destination(const char *path)
{
    char *dir_copy = strdup(path), *name_copy = strdup(path), *out = NULL;
    char *dir = dir_copy ? realpath(dirname(dir_copy), NULL) : NULL;
    if (dir && name_copy) {
        const char *name = basename(name_copy);
        size_t n = strlen(dir) + strlen(name) + 2;
        out = malloc(n);
        if (out) snprintf(out, n, "%s/%s", dir, name);
    }
    free(dir);
    free(dir_copy);
    free(name_copy);
    return out;
}

int es_same_destination(const char *a, const char *b)
{
    if (!strcmp(a, b) || es_same_file(a, b)) return 1;
    char *ca = canonical_destination(a), *cb = canonical_destination(b);
    int same = ca && cb && !strcmp(ca, cb);
    free(ca);
    free(cb);
    return same;
}

int es_check_destinations(const char *const *paths, size_t n, const char *input, int overwrite)
{
    for (size_t i = 0; i < n; i++) {
        if (!paths[i]) continue;
        if (es_check_destination(paths[i], input, overwrite)) return -1;
        for (size_t k = 0; k < i; k++)
            if (paths[k] && es_same_destination(paths[k], paths[i]))
                return es_fail("%s: named for two outputs (also as %s)", paths[i], paths[k]);
    }
    return 0;
}

const char *es_outset_add(es_outset *s, const char *final_path)
{
    if (s->n == ES_OUTSET_MAX) {
        es_fail("%s: too many outputs", final_path);
        return NULL;
    }
    es_outfile *o = &s->files[s->n];
    int existed = es_path_exists(final_path);
    char *copy = strdup(final_path);
    if (!copy) {
        es_fail("out of memory");
        return NULL;
    }
    if (es_outfile_open(o, final_path)) {
        free(copy);
        return NULL;
    }
    s->final_paths[s->n] = copy;
    /* writers replace the temp file through their own temp file and rename */
    close(o->fd);
    o->fd = -1;
    s->existed[s->n++] = existed;
    return o->temp_path;
}

int es_outset_commit(es_outset *s)
{
    sigset_t old;
    block_signals(&old);
    int rc = 0;
    size_t i = 0;
    for (; i < s->n; i++)
        if (es_outfile_commit(&s->files[i])) {
            rc = -1;
            break;
        }
    if (rc) {
        /* leave the directory as it was, as far as possible: remove the rest and what this call
         * created (files it replaced under overwrite cannot come back) */
        for (size_t k = i + 1; k < s->n; k++) es_outfile_abort(&s->files[k]);
        for (size_t k = 0; k < i; k++)
            if (!s->existed[k] && s->final_paths[k]) unlink(s->final_paths[k]);
    }
    for (size_t k = 0; k < s->n; k++) {
        free(s->final_paths[k]);
        s->final_paths[k] = NULL;
    }
    s->n = 0;
    restore_signals(&old);
    return rc;
}

void es_outset_abort(es_outset *s)
{
    for (size_t k = 0; k < s->n; k++) {
        es_outfile_abort(&s->files[k]);
        free(s->final_paths[k]);
        s->final_paths[k] = NULL;
    }
    s->n = 0;
}
