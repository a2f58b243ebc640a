/* emsync serve: a local web app. The page (web/, built into the binary) uploads a video, shows
 * its timeline, lets the user edit cuts and moods, and re-renders. HTTP comes from libmicrohttpd;
 * the work runs one job at a time in a worker thread that starts `emsync analyze` and
 * `emsync score --plan` as child processes, so a bad file fails its job, never the server.
 *
 * Security: only files inside the jobs folder are served, and only by fixed names chosen here
 * (no path from a request reaches the file system); job ids are 128 random bits; requests that
 * change state need the per-server token that the page carries and, when the browser sends an
 * Origin, our own origin; the Host header must name this server (no DNS rebinding). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "cli/web_assets.h"
#include "core/error.h"
#include "core/json.h"
#include "core/jsonread.h"
#include "core/outfile.h"
#include "core/parse.h"
#include "emotion/ekman.h"
#include "emsync.h"
#include "pipeline/pipeline.h"

static void usage(FILE *out)
{
    fprintf(out,
        "usage: emsync serve [--host ADDR] [--port N] [--jobs DIR] [--max-upload SIZE] [--keep-hours H]\n"
        "\n"
        "Runs a local web app: open the URL it prints, drop a video, see its timeline (scenes,\n"
        "cuts, valence and arousal), move, add or remove cuts, set each scene's mood, and\n"
        "render again without analysing the video again. Ctrl-C or SIGTERM stops it.\n"
        "\n"
        "options:\n"
        "      --host ADDR          address to listen on (default 127.0.0.1: this machine only)\n"
        "      --port N             TCP port, 0..65535; 0 picks a free one (default 8080)\n"
        "      --jobs DIR           where uploads and results are kept (default:\n"
        "                           $XDG_STATE_HOME/emsync/jobs, else ~/.local/state/emsync/jobs)\n"
        "      --max-upload SIZE    largest video accepted, with an optional K, M or G (default 4G)\n"
        "      --keep-hours H       jobs untouched for H hours are removed, > 0 (default 24)\n"
        "  -q, --quiet              print only the URL and errors\n"
        "  -h, --help               this text\n"
        "\n"
        "The page talks to an HTTP API that scripts can use too (JSON everywhere):\n"
        "  POST /api/jobs (multipart field 'video'), GET /api/jobs/ID, PUT /api/jobs/ID/plan,\n"
        "  GET /api/jobs/ID/video|midi|wav|json|timeline.svg, DELETE /api/jobs/ID, GET /api/config.\n"
        "  Requests that change state send the header X-Emsync-Token with the token in the page.\n"
        "\n"
        "example:\n"
        "  emsync serve --port 8090        # then open http://127.0.0.1:8090/\n");
}

/* ---- jobs ---- */

typedef enum { JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_FAILED } job_state;
static const char *const state_names[] = {"queued", "running", "done", "failed"};

typedef struct job {
    char id[33];
    char *dir, *input, *output;   /* the job's folder, its upload, its scored video */
    char name[256];               /* the uploaded file's name, for the page */
    job_state state;
    char stage[16];               /* analyze | render */
    char step[32];                /* the child's own stage: decode, compose, ... */
    double progress;              /* of the step, 0..1 */
    char *error;
    int revision;                 /* renders finished */
    int analysed;
    int render_again;             /* a plan came while rendering */
    time_t touched;
    struct job *next;
} job;

typedef struct server server;
struct server {
    const char *host, *jobs_dir;
    int port, quiet;
    unsigned long long max_upload;
    double keep_hours;
    char token[33];
    char origin[300];             /* http://host:port, as the page's requests name it */
    char port_text[8];
    pthread_mutex_t lock;
    pthread_cond_t wake;
    job *jobs;                    /* every job, newest first */
    job *queue[1024];             /* jobs waiting for the worker, in order */
    size_t queued;
    pid_t child;                  /* the running analyze or score, or 0 */
    int stopping;
};

static void random_hex(char *out, size_t bytes)
{
    unsigned char buf[32];
    size_t got = 0;
    while (got < bytes) {
        ssize_t n = getrandom(buf + got, bytes - got, 0);
        if (n > 0) got += (size_t)n;
        else if (errno != EINTR) abort(); /* no randomness: no safe ids or token */
    }
    for (size_t i = 0; i < bytes; i++) sprintf(out + 2 * i, "%02x", buf[i]);
}

static char *path_in(const char *dir, const char *name)
{
    char *p;
    return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

static job *find_job(server *s, const char *id)
{
    for (job *j = s->jobs; j; j = j->next)
        if (!strcmp(j->id, id)) return j;
    return NULL;
}

static void job_free(job *j)
{
    free(j->dir);
    free(j->input);
    free(j->output);
    free(j->error);
    free(j);
}

/* Removes a folder of files (a job's: no subfolders). */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                char *p = path_in(dir, e->d_name);
                if (p) unlink(p);
                free(p);
            }
        closedir(d);
    }
    rmdir(dir);
}

static void set_failed(job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_failed(job *j, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    free(j->error);
    if (vasprintf(&j->error, fmt, ap) < 0) j->error = NULL;
    va_end(ap);
    j->state = JOB_FAILED;
}

/* Queues j for the worker (the lock is held). */
static int enqueue(server *s, job *j)
{
    for (size_t i = 0; i < s->queued; i++)
        if (s->queue[i] == j) return 0;
    if (s->queued == sizeof s->queue / sizeof s->queue[0]) return -1;
    s->queue[s->queued++] = j;
    j->state = JOB_QUEUED;
    j->progress = 0;
    j->step[0] = '\0';
    pthread_cond_signal(&s->wake);
    return 0;
}

/* ---- the worker: one child process at a time ---- */

/* Reads the child's progress lines ("emsync: decode...", "emsync: decode 50%") into the job, and
 * keeps its last line as the error should it fail. */
static void follow(server *s, job *j, int fd, char *last, size_t last_size)
{
    char buf[4096], line[512];
    size_t len = 0;
    last[0] = '\0';
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] != '\n') {
                if (len + 1 < sizeof line) line[len++] = buf[i];
                continue;
            }
            line[len] = '\0';
            len = 0;
            const char *text = !strncmp(line, "emsync: ", 8) ? line + 8 : line;
            if (!*text) continue;
            snprintf(last, last_size, "%s", text);
            char step[32];
            int pct;
            pthread_mutex_lock(&s->lock);
            if (sscanf(text, "%31[a-z_] %d%%", step, &pct) == 2) {
                j->progress = pct / 100.0;
            } else if (sscanf(text, "%31[a-z_]...", step) == 1 && strstr(text, "...")) {
                snprintf(j->step, sizeof j->step, "%s", step);
                j->progress = 0;
            } else if (strstr(text, " done (")) {
                j->progress = 1;
            }
            pthread_mutex_unlock(&s->lock);
        }
    }
}

/* Runs emsync with argv (argv[0] = "emsync") for job j; 0 on success, else -1 with the child's
 * last line as the job's error. */
static int run_child(server *s, job *j, char *const argv[])
{
    int err_fd;
    pid_t pid = cli_spawn_self(argv, 0, &err_fd);
    if (pid < 0) {
        set_failed(j, "%s", es_error());
        return -1;
    }
    pthread_mutex_lock(&s->lock);
    s->child = pid;
    pthread_mutex_unlock(&s->lock);
    char last[512];
    follow(s, j, err_fd, last, sizeof last);
    close(err_fd);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    pthread_mutex_lock(&s->lock);
    s->child = 0;
    pthread_mutex_unlock(&s->lock);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    pthread_mutex_lock(&s->lock);
    if (s->stopping) set_failed(j, "stopped with the server");
    else if (last[0]) {
        /* the user knows the file by its own name, not by where the server keeps it */
        char shown[768];
        const char *at = strstr(last, j->input);
        if (at) snprintf(shown, sizeof shown, "%.*s%s%s", (int)(at - last), last, j->name, at + strlen(j->input));
        else snprintf(shown, sizeof shown, "%s", last);
        set_failed(j, "%s", shown);
    }
    else set_failed(j, "emsync stopped (status %d)", status);
    pthread_mutex_unlock(&s->lock);
    return -1;
}

static void set_stage(server *s, job *j, const char *stage)
{
    pthread_mutex_lock(&s->lock);
    j->state = JOB_RUNNING;
    snprintf(j->stage, sizeof j->stage, "%s", stage);
    j->step[0] = '\0';
    j->progress = 0;
    pthread_mutex_unlock(&s->lock);
}

static int analyze(server *s, job *j)
{
    set_stage(s, j, "analyze");
    char *json = path_in(j->dir, "analysis.json"), *svg = path_in(j->dir, "timeline.svg");
    char *argv[] = {"emsync", "analyze", j->input, "--json", json, "--svg", svg, "-y", NULL};
    int rc = json && svg ? run_child(s, j, argv) : -1;
    free(json);
    free(svg);
    return rc;
}

/* Renders with plan.json, or with the analysis itself when no plan was given (the same music as
 * a plain `emsync score`). */
static int render(server *s, job *j)
{
    set_stage(s, j, "render");
    char *plan = path_in(j->dir, "plan.json");
    int moods_given = 1; /* the analysis has every scene's mood */
    if (plan && access(plan, F_OK)) {
        free(plan);
        plan = path_in(j->dir, "analysis.json");
    } else if (plan) { /* an edited plan: moods given unless it only moves cuts */
        es_jv *p = es_jv_parse_file(plan, 1u << 20);
        moods_given = p && es_jv_get(p, "scenes") != NULL;
        es_jv_free(p);
    }
    char *midi = path_in(j->dir, "music.mid"), *wav = path_in(j->dir, "music.wav");
    char *json = path_in(j->dir, "report.json"), *svg = path_in(j->dir, "timeline.svg");
    /* with the moods given, the face nets would estimate what is not used: left off */
    char *argv[] = {"emsync", "score", j->input, "--plan", plan, "-o", j->output, "--midi", midi,
                    "--wav", wav, "--json", json, "--svg", svg, "-y", moods_given ? "--faces" : NULL, "off", NULL};
    int rc = plan && midi && wav && json && svg ? run_child(s, j, argv) : -1;
    free(plan);
    free(midi);
    free(wav);
    free(json);
    free(svg);
    return rc;
}

static void *worker(void *arg)
{
    server *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->queued && !s->stopping) pthread_cond_wait(&s->wake, &s->lock);
        if (s->stopping) break;
        job *j = s->queue[0];
        memmove(s->queue, s->queue + 1, --s->queued * sizeof s->queue[0]);
        j->render_again = 0;
        int analysed = j->analysed;
        pthread_mutex_unlock(&s->lock);
        int rc = analysed ? 0 : analyze(s, j);
        pthread_mutex_lock(&s->lock);
        if (rc == 0) j->analysed = 1;
        pthread_mutex_unlock(&s->lock);
        if (rc == 0) rc = render(s, j);
        pthread_mutex_lock(&s->lock);
        if (rc == 0) {
            j->revision++;
            j->state = JOB_DONE;
            free(j->error);
            j->error = NULL;
        }
        j->touched = time(NULL);
        if (j->render_again && !s->stopping) enqueue(s, j);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* Removes jobs untouched for keep_hours (not the one running). The lock is held. */
static void expire(server *s)
{
    time_t now = time(NULL);
    for (job **p = &s->jobs; *p;) {
        job *j = *p;
        int busy = j->state == JOB_RUNNING || j->state == JOB_QUEUED;
        if (!busy && difftime(now, j->touched) > s->keep_hours * 3600) {
            *p = j->next;
            remove_dir(j->dir);
            job_free(j);
        } else p = &j->next;
    }
}

/* ---- HTTP ---- */

typedef struct {
    server *srv;
    int kind;                     /* 0: nothing to read, 1: upload, 2: plan body */
    struct MHD_PostProcessor *pp;
    job *upload;                  /* the job being uploaded (not listed until complete) */
    int fd;
    int got_video;
    unsigned long long bytes;
    int too_big, failed;
    int store_errno;              /* why the upload could not be stored, 0 when not known */
    char *body;
    size_t body_len;
} request;

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type, const void *data, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    if (!strncmp(type, "text/html", 9))
        MHD_add_response_header(r, "Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
                                "style-src 'self'; script-src 'self'; frame-ancestors 'none'");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
    char msg[512], *buf = NULL;
    size_t len = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    FILE *f = open_memstream(&buf, &len);
    if (!f) return MHD_NO;
    es_json w;
    es_json_init(&w, f, 0);
    es_json_begin_object(&w);
    es_json_kv_string(&w, "error", msg);
    es_json_end_object(&w);
    fclose(f);
    enum MHD_Result rc = reply(c, status, "application/json", buf, len);
    free(buf);
    return rc;
}

/* Sends a file of the job, with Range support (the player seeks with it). */
static enum MHD_Result send_file(struct MHD_Connection *c, const char *path, const char *type, const char *download)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        if (fd >= 0) close(fd);
        return reply_error(c, MHD_HTTP_NOT_FOUND, "not made yet");
    }
    uint64_t size = (uint64_t)st.st_size, from = 0, to = size ? size - 1 : 0;
    unsigned status = MHD_HTTP_OK;
    const char *range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
    if (range && size) {
        unsigned long long a = 0, b = to;
        int n = sscanf(range, "bytes=%llu-%llu", &a, &b);
        if (n < 1 && sscanf(range, "bytes=-%llu", &b) == 1 && b > 0) {  /* the last b bytes */
            a = b >= size ? 0 : size - b;
            b = to;
            n = 2;
        }
        if (n >= 1 && a <= b && a < size) {
            from = a;
            to = b < size ? b : size - 1;
            status = MHD_HTTP_PARTIAL_CONTENT;
        } else {
            close(fd);
            struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
            char cr[64];
            snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)size);
            MHD_add_response_header(r, "Content-Range", cr);
            enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_RANGE_NOT_SATISFIABLE, r);
            MHD_destroy_response(r);
            return rc;
        }
    }
    struct MHD_Response *r = MHD_create_response_from_fd_at_offset64(size ? to - from + 1 : 0, fd, from);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Accept-Ranges", "bytes");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (download) {
        char cd[128];
        snprintf(cd, sizeof cd, "attachment; filename=\"%s\"", download);
        MHD_add_response_header(r, "Content-Disposition", cd);
    }
    if (status == MHD_HTTP_PARTIAL_CONTENT) {
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)from, (unsigned long long)to,
                 (unsigned long long)size);
        MHD_add_response_header(r, "Content-Range", cr);
    }
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

/* Appends the file's bytes (a JSON document emsync wrote) as the value of key. */
static void raw_member(FILE *f, const char *key, const char *path)
{
    FILE *in = fopen(path, "r");
    if (!in) return;
    fprintf(f, ",\"%s\":", key);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, f);
    fclose(in);
}

static enum MHD_Result send_job(server *s, struct MHD_Connection *c, job *j)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return MHD_NO;
    pthread_mutex_lock(&s->lock);
    es_json w;
    es_json_init(&w, f, 0);
    es_json_begin_object(&w);
    es_json_kv_string(&w, "id", j->id);
    es_json_kv_string(&w, "name", j->name);
    es_json_kv_string(&w, "state", state_names[j->state]);
    es_json_kv_string(&w, "stage", j->stage);
    es_json_kv_string(&w, "step", j->step);
    es_json_kv_number(&w, "progress", j->progress);
    es_json_kv_int(&w, "revision", j->revision);
    if (j->state == JOB_FAILED && j->error) es_json_kv_string(&w, "error", j->error);
    es_json_key(&w, "outputs");
    es_json_begin_object(&w);
    static const char *const outputs[][2] = {{"midi", "music.mid"}, {"wav", "music.wav"}, {"json", "report.json"},
                                             {"timeline", "timeline.svg"}};
    es_json_key(&w, "video");
    es_json_bool(&w, es_path_exists(j->output));
    for (int k = 0; k < 4; k++) {
        char *p = path_in(j->dir, outputs[k][1]);
        es_json_key(&w, outputs[k][0]);
        es_json_bool(&w, p && es_path_exists(p));
        free(p);
    }
    es_json_end_object(&w);
    int analysed = j->analysed;
    j->touched = time(NULL);
    pthread_mutex_unlock(&s->lock);
    /* the reports are complete files (renamed into place by emsync), so reading them races nothing */
    char *analysis = path_in(j->dir, "analysis.json"), *plan = path_in(j->dir, "plan.json");
    if (analysed && analysis) raw_member(f, "analysis", analysis);
    if (plan) raw_member(f, "plan", plan);
    fputc('}', f);
    free(analysis);
    free(plan);
    fclose(f);
    enum MHD_Result rc = reply(c, MHD_HTTP_OK, "application/json", buf, len);
    free(buf);
    return rc;
}

/* ---- /api/config ---- */

static void list_soundfonts(es_json *w)
{
    static const char *const dirs[] = {"/usr/share/sounds/sf2", "/usr/share/sounds/sf3", "/usr/share/soundfonts", NULL};
    es_json_begin_array(w);
    for (int i = 0; dirs[i]; i++) {
        DIR *d = opendir(dirs[i]);
        if (!d) continue;
        struct dirent *e;
        while ((e = readdir(d))) {
            const char *dot = strrchr(e->d_name, '.');
            if (!dot || (strcasecmp(dot, ".sf2") && strcasecmp(dot, ".sf3"))) continue;
            char *p = path_in(dirs[i], e->d_name);
            struct stat st;
            if (p && stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
                es_json_begin_object(w);
                es_json_kv_string(w, "name", e->d_name);
                es_json_kv_string(w, "path", p);
                es_json_end_object(w);
            }
            free(p);
        }
        closedir(d);
    }
    es_json_end_array(w);
}

/* 1 when path is one of the soundfonts the config lists (a plan names no other file). */
static int installed_soundfont(const char *path)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return 0;
    es_json w;
    es_json_init(&w, f, 0);
    list_soundfonts(&w);
    fclose(f);
    es_jv *v = es_jv_parse(buf, len);
    int found = 0;
    for (size_t i = 0; v && i < v->n && !found; i++) {
        const es_jv *p = es_jv_get(&v->items[i], "path");
        found = p && p->type == ES_JV_STRING && !strcmp(p->string, path);
    }
    es_jv_free(v);
    free(buf);
    return found;
}

/* The choices a plan may make, as GET /api/config lists them and PUT .../plan checks them. */
static const char *const composers[] = {"auto", "rules", "emsync", NULL};
static const char *const original_audio_modes[] = {"off", "mix", "track", NULL};

static void json_strings(es_json *w, const char *key, const char *const *list)
{
    es_json_key(w, key);
    es_json_begin_array(w);
    for (size_t i = 0; list[i]; i++) es_json_string(w, list[i]);
    es_json_end_array(w);
}

/* 1 when v is a string in list. */
static int string_in(const es_jv *v, const char *const *list)
{
    if (v->type != ES_JV_STRING) return 0;
    for (size_t i = 0; list[i]; i++)
        if (!strcmp(v->string, list[i])) return 1;
    return 0;
}

static enum MHD_Result send_config(server *s, struct MHD_Connection *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return MHD_NO;
    es_json w;
    es_json_init(&w, f, 0);
    es_json_begin_object(&w);
    json_strings(&w, "composers", composers);
    json_strings(&w, "original_audio", original_audio_modes);
    es_json_key(&w, "soundfonts");
    list_soundfonts(&w);
    char names[256];
    snprintf(names, sizeof names, "%s", es_emotion_names());
    es_json_key(&w, "emotions");
    es_json_begin_array(&w);
    for (char *save, *t = strtok_r(names, "|", &save); t; t = strtok_r(NULL, "|", &save)) es_json_string(&w, t);
    es_json_end_array(&w);
    snprintf(names, sizeof names, "%s", es_emotion_names());
    es_json_key(&w, "emotion_moods");
    es_json_begin_object(&w);
    for (char *save, *t = strtok_r(names, "|", &save); t; t = strtok_r(NULL, "|", &save)) {
        double v, a;
        es_emotion_lookup(t, &v, &a);
        es_json_key(&w, t);
        es_json_begin_array(&w);
        es_json_number(&w, v);
        es_json_number(&w, a);
        es_json_end_array(&w);
    }
    es_json_end_object(&w);
    es_json_key(&w, "max_upload");
    es_json_int(&w, (long long)s->max_upload);
    es_json_kv_string(&w, "version", emsync_version());
    es_json_end_object(&w);
    fclose(f);
    enum MHD_Result rc = reply(c, MHD_HTTP_OK, "application/json", buf, len);
    free(buf);
    return rc;
}

/* ---- the page ---- */

static enum MHD_Result send_asset(server *s, struct MHD_Connection *c, const char *name)
{
    for (const es_web_asset *a = es_web_assets; a->name; a++) {
        if (strcmp(a->name, name)) continue;
        const char *dot = strrchr(name, '.');
        const char *type = !strcmp(dot, ".html") ? "text/html; charset=utf-8"
                           : !strcmp(dot, ".css") ? "text/css; charset=utf-8"
                                                  : "text/javascript; charset=utf-8";
        if (strcmp(dot, ".html")) return reply(c, MHD_HTTP_OK, type, a->data, a->size);
        /* the page carries the token that state-changing requests must send */
        const char *mark = memmem(a->data, a->size, "@TOKEN@", 7);
        if (!mark) return reply(c, MHD_HTTP_OK, type, a->data, a->size);
        size_t head = (size_t)(mark - (const char *)a->data), len = a->size - 7 + 32;
        char *page = malloc(len);
        if (!page) return MHD_NO;
        memcpy(page, a->data, head);
        memcpy(page + head, s->token, 32);
        memcpy(page + head + 32, mark + 7, a->size - head - 7);
        enum MHD_Result rc = reply(c, MHD_HTTP_OK, type, page, len);
        free(page);
        return rc;
    }
    return reply_error(c, MHD_HTTP_NOT_FOUND, "no such page");
}

/* ---- uploads ---- */

static const char *video_ext(const char *filename)
{
    static const char *const exts[] = {"mp4", "m4v", "mov", "mkv", "webm", "avi", "mpg", "mpeg", "ogv", "wmv",
                                       "flv", "ts", "mts", "m2ts", "3gp", "vob", "dv", NULL};
    const char *dot = filename ? strrchr(filename, '.') : NULL;
    for (int i = 0; dot && exts[i]; i++)
        if (!strcasecmp(dot + 1, exts[i])) return exts[i];
    return "video";
}

static job *new_job(server *s, const char *filename)
{
    job *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    random_hex(j->id, 16);
    char input[32];
    snprintf(input, sizeof input, "input.%s", video_ext(filename));
    j->dir = path_in(s->jobs_dir, j->id);
    j->input = j->dir ? path_in(j->dir, input) : NULL;
    j->output = j->input ? es_score_output_path(j->input, j->dir) : NULL;
    /* the name is only shown: keep printable UTF-8, drop any folder part */
    const char *base = filename && strrchr(filename, '/') ? strrchr(filename, '/') + 1 : filename ? filename : "video";
    snprintf(j->name, sizeof j->name, "%s", base);
    for (char *p = j->name; *p; p++)
        if ((unsigned char)*p < 0x20) *p = '_';
    j->touched = time(NULL);
    snprintf(j->stage, sizeof j->stage, "upload");
    if (!j->output || mkdir(j->dir, 0700)) {
        job_free(j);
        return NULL;
    }
    return j;
}

static enum MHD_Result upload_part(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
                                   const char *content_type, const char *transfer_encoding, const char *data,
                                   uint64_t off, size_t size)
{
    request *rq = cls;
    if (strcmp(key, "video") || rq->failed || rq->too_big) return MHD_YES;
    if (rq->got_video == 2) return MHD_YES; /* a second file field: ignored */
    if (!rq->upload) {
        if (!(rq->upload = new_job(rq->srv, filename))) {
            rq->failed = 1;
            return MHD_YES;
        }
        rq->fd = open(rq->upload->input, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (rq->fd < 0) {
            rq->store_errno = errno;
            rq->failed = 1;
            return MHD_YES;
        }
        rq->got_video = 1;
    }
    while (size > 0) {
        ssize_t n = write(rq->fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            rq->store_errno = n < 0 ? errno : ENOSPC;
            rq->failed = 1;
            return MHD_YES;
        }
        data += n;
        size -= (size_t)n;
    }
    return MHD_YES;
}

static void request_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    request *rq = *con_cls;
    if (!rq) return;
    if (rq->pp) MHD_destroy_post_processor(rq->pp);
    if (rq->fd >= 0) close(rq->fd);
    if (rq->upload) { /* not handed to the server: a failed or cut-off upload leaves nothing */
        remove_dir(rq->upload->dir);
        job_free(rq->upload);
    }
    if (rq->kind == 2) free(rq->body);
    free(rq);
    *con_cls = NULL;
}

/* The body of POST /api/jobs, chunk by chunk; the answer once it is all there. */
static enum MHD_Result handle_upload(server *s, struct MHD_Connection *c, request *rq, const char *data, size_t *size)
{
    if (*size) {
        rq->bytes += *size;
        if (rq->bytes > s->max_upload) rq->too_big = 1;
        if (!rq->too_big && !rq->failed) {
            if (MHD_post_process(rq->pp, data, *size) != MHD_YES) rq->failed = 1;
        }
        *size = 0;
        return MHD_YES;
    }
    if (rq->too_big) return reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "the video is larger than %llu bytes", s->max_upload);
    if (rq->failed || !rq->upload) {
        if (!rq->upload && !rq->failed) return reply_error(c, MHD_HTTP_BAD_REQUEST, "no 'video' file field in the form");
        if (rq->store_errno == ENOSPC || rq->store_errno == EDQUOT)
            return reply_error(c, MHD_HTTP_INSUFFICIENT_STORAGE, "the upload could not be stored: %s", strerror(rq->store_errno));
        return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "the upload could not be stored%s%s",
                           rq->store_errno ? ": " : "", rq->store_errno ? strerror(rq->store_errno) : "");
    }
    int closed = close(rq->fd);
    rq->fd = -1;
    if (closed) /* delayed write errors (NFS, quotas) show here */
        return reply_error(c, errno == ENOSPC || errno == EDQUOT ? MHD_HTTP_INSUFFICIENT_STORAGE : MHD_HTTP_INTERNAL_SERVER_ERROR,
                           "the upload could not be stored: %s", strerror(errno));
    job *j = rq->upload;
    char *name = path_in(j->dir, "name");
    if (name) {
        FILE *f = fopen(name, "w");
        if (f) {
            fputs(j->name, f);
            fclose(f);
        }
    }
    free(name);
    pthread_mutex_lock(&s->lock);
    expire(s);
    int full = enqueue(s, j);
    if (!full) {
        j->next = s->jobs;
        s->jobs = j;
        rq->upload = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    if (full) return reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "too many jobs waiting; try again later");
    char body[64];
    snprintf(body, sizeof body, "{\"id\":\"%s\"}", j->id);
    return reply(c, MHD_HTTP_CREATED, "application/json", body, strlen(body));
}

/* ---- plans ---- */

/* The first key of object o that is not in `known` (NULL-terminated), or NULL. */
static const char *unknown_key(const es_jv *o, const char *const *known)
{
    for (size_t i = 0; i < o->n; i++) {
        size_t k = 0;
        while (known[k] && strcmp(known[k], o->keys[i])) k++;
        if (!known[k]) return o->keys[i];
    }
    return NULL;
}

/* Checks a plan's shape and values against the video's duration (score checks them again); NULL
 * or the reason. */
static const char *check_plan(const es_jv *p, double duration, char *why, size_t size)
{
    static const char *const fields[] = {"boundaries", "scenes", "composer", "seed", "original_audio", "soundfont", NULL};
    static const char *const scene_fields[] = {"start", "valence", "arousal", NULL};
    if (p->type != ES_JV_OBJECT) return "a plan is a JSON object";
    const char *extra = unknown_key(p, fields);
    if (extra) {
        snprintf(why, size, "unknown field '%.40s' (a plan has boundaries, scenes, composer, seed, original_audio, soundfont)", extra);
        return why;
    }
    const es_jv *b = es_jv_get(p, "boundaries"), *sc = es_jv_get(p, "scenes");
    if (b && b->type != ES_JV_ARRAY) return "boundaries must be an array of seconds";
    for (size_t i = 0; b && i < b->n; i++) {
        if (b->items[i].type != ES_JV_NUMBER || b->items[i].number <= 0 || (i && b->items[i].number <= b->items[i - 1].number))
            return "boundaries must be ascending seconds > 0";
        if (b->items[i].number >= duration) {
            snprintf(why, size, "boundary %g s is not inside the video (0 to %g s)", b->items[i].number, duration);
            return why;
        }
    }
    if (sc && sc->type != ES_JV_ARRAY) return "scenes must be an array";
    for (size_t i = 0; sc && i < sc->n; i++) {
        static const char *const keys[] = {"start", "valence", "arousal"};
        if (sc->items[i].type != ES_JV_OBJECT) return "each scene is an object with start, valence and arousal";
        if ((extra = unknown_key(&sc->items[i], scene_fields))) {
            snprintf(why, size, "scene %zu: unknown field '%.40s' (a scene has start, valence, arousal)", i, extra);
            return why;
        }
        const es_jv *start = es_jv_get(&sc->items[i], "start");
        if (start && start->type == ES_JV_NUMBER && start->number >= duration) {
            snprintf(why, size, "scene %zu starts at %g s, after the video's end (%g s)", i, start->number, duration);
            return why;
        }
        for (int k = 0; k < 3; k++) {
            const es_jv *v = es_jv_get(&sc->items[i], keys[k]);
            if (!v || v->type != ES_JV_NUMBER || (k ? v->number < -1 || v->number > 1 : v->number < 0)) {
                snprintf(why, size, "scene %zu: %s must be a number %s", i, keys[k], k ? "in [-1, 1]" : ">= 0");
                return why;
            }
        }
    }
    const es_jv *v;
    if ((v = es_jv_get(p, "composer")) && !string_in(v, composers)) return "composer must be auto, rules or emsync";
    if ((v = es_jv_get(p, "original_audio")) && !string_in(v, original_audio_modes))
        return "original_audio must be off, mix or track";
    if ((v = es_jv_get(p, "seed")) && (v->type != ES_JV_NUMBER || v->number < 0 || v->number > 2147483647.0 ||
                                       v->number != (double)(long)v->number))
        return "seed must be an integer in [0, 2147483647]";
    if ((v = es_jv_get(p, "soundfont")) && (v->type != ES_JV_STRING || !installed_soundfont(v->string)))
        return "soundfont must be one of the installed ones (GET /api/config)";
    return NULL;
}

/* The video's duration from the job's analysis (infinite when it cannot be read: score checks). */
static double analysed_duration(const job *j)
{
    char *path = path_in(j->dir, "analysis.json");
    es_jv *a = path ? es_jv_parse_file(path, 64u << 20) : NULL;
    const es_jv *d = a ? es_jv_get(a, "duration") : NULL;
    double duration = d && d->type == ES_JV_NUMBER && d->number > 0 ? d->number : INFINITY;
    es_jv_free(a);
    free(path);
    return duration;
}

static enum MHD_Result handle_plan(server *s, struct MHD_Connection *c, request *rq, job *j, const char *data, size_t *size)
{
    if (*size) {
        if (rq->body_len + *size > (1u << 20)) rq->too_big = 1;
        else {
            char *grown = realloc(rq->body, rq->body_len + *size);
            if (!grown) rq->failed = 1;
            else {
                memcpy(grown + rq->body_len, data, *size);
                rq->body = grown;
                rq->body_len += *size;
            }
        }
        *size = 0;
        return MHD_YES;
    }
    if (rq->too_big) return reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "a plan is at most 1 MB");
    if (rq->failed) return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    es_jv *plan = es_jv_parse(rq->body ? rq->body : "", rq->body_len);
    if (!plan) return reply_error(c, MHD_HTTP_BAD_REQUEST, "the plan is not JSON: %s", es_error());
    pthread_mutex_lock(&s->lock);
    int analysed = j->analysed;
    pthread_mutex_unlock(&s->lock);
    if (!analysed) {
        es_jv_free(plan);
        return reply_error(c, MHD_HTTP_CONFLICT, "the video is not analysed yet");
    }
    char why[192];
    const char *bad = check_plan(plan, analysed_duration(j), why, sizeof why);
    es_jv_free(plan);
    if (bad) return reply_error(c, MHD_HTTP_BAD_REQUEST, "%s", bad);
    char *path = path_in(j->dir, "plan.json"), *tmp = path_in(j->dir, "plan.json.tmp");
    FILE *f = tmp ? fopen(tmp, "w") : NULL;
    int ok = f && fwrite(rq->body, 1, rq->body_len, f) == rq->body_len;
    if (f && fclose(f)) ok = 0;
    if (ok) ok = rename(tmp, path) == 0;
    if (!ok && tmp) unlink(tmp);
    free(path);
    free(tmp);
    if (!ok) return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "the plan could not be stored");
    pthread_mutex_lock(&s->lock);
    if (j->state == JOB_RUNNING) j->render_again = 1;
    else enqueue(s, j);
    pthread_mutex_unlock(&s->lock);
    return reply(c, MHD_HTTP_ACCEPTED, "application/json", "{\"ok\":true}", 11);
}

/* ---- routing ---- */

static int is_id(const char *s)
{
    for (int i = 0; i < 32; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])) return 0;
    return s[32] == '\0' || s[32] == '/';
}

/* The Host header must name this server, so that a page of another site whose name resolves to
 * 127.0.0.1 cannot talk to it. */
static int host_ok(server *s, struct MHD_Connection *c)
{
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    if (!host) return 0;
    char want[300];
    const char *names[] = {"127.0.0.1", "localhost", "[::1]", s->host};
    for (int i = 0; i < 4; i++) {
        if (!strcmp(names[i], "0.0.0.0") || !strcmp(names[i], "::")) return 1; /* every interface: any name */
        snprintf(want, sizeof want, "%s:%s", names[i], s->port_text);
        if (!strcasecmp(host, want)) return 1;
        if (strchr(names[i], ':') && names[i][0] != '[') {
            snprintf(want, sizeof want, "[%s]:%s", names[i], s->port_text);
            if (!strcasecmp(host, want)) return 1;
        }
    }
    return 0;
}

/* State-changing requests: the page's token, and our own origin when the browser names one. */
static int writer_ok(server *s, struct MHD_Connection *c)
{
    const char *token = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Emsync-Token");
    if (!token || strlen(token) != 32 || strcmp(token, s->token)) return 0;
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    if (!origin) return 1;
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    char own[300];
    snprintf(own, sizeof own, "http://%s", host ? host : "");
    return !strcasecmp(origin, own);
}

static enum MHD_Result job_file(server *s, struct MHD_Connection *c, job *j, const char *what)
{
    static const struct { const char *name, *file, *type, *download; } files[] = {
        {"midi", "music.mid", "audio/midi", "emsync.mid"},
        {"wav", "music.wav", "audio/wav", "emsync.wav"},
        {"json", "report.json", "application/json", NULL},
        {"timeline.svg", "timeline.svg", "image/svg+xml", NULL},
    };
    pthread_mutex_lock(&s->lock);
    j->touched = time(NULL);
    pthread_mutex_unlock(&s->lock);
    if (!strcmp(what, "video")) {
        char ext[16], type[32], download[32];
        es_path_ext(j->output, ext, sizeof ext);
        snprintf(type, sizeof type, "%s", !strcmp(ext, "mp4") || !strcmp(ext, "m4v") ? "video/mp4"
                                          : !strcmp(ext, "mov") ? "video/quicktime"
                                          : !strcmp(ext, "webm") ? "video/webm" : "video/x-matroska");
        snprintf(download, sizeof download, "emsync.%s", ext);
        return send_file(c, j->output, type, download);
    }
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        if (strcmp(what, files[k].name)) continue;
        char *p = path_in(j->dir, files[k].file);
        enum MHD_Result rc = p ? send_file(c, p, files[k].type, files[k].download) : MHD_NO;
        free(p);
        return rc;
    }
    return reply_error(c, MHD_HTTP_NOT_FOUND, "no such file");
}

static enum MHD_Result route(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                             const char *version, const char *data, size_t *size, void **con_cls)
{
    server *s = cls;
    request *rq = *con_cls;
    if (rq && rq->kind == 1) return handle_upload(s, c, rq, data, size);
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    int post = !strcmp(method, "POST"), put = !strcmp(method, "PUT"), del = !strcmp(method, "DELETE");
    if (!rq) {
        if (!(rq = calloc(1, sizeof *rq))) return MHD_NO;
        rq->srv = s;
        rq->fd = -1;
        *con_cls = rq;
        /* refusals come before any body is read: nothing of a refused upload is stored */
        if (strlen(url) > 200 || strstr(url, "..") || strchr(url, '%') || strchr(url, '\\'))
            return reply_error(c, MHD_HTTP_NOT_FOUND, "no such page");
        if (!host_ok(s, c)) return reply_error(c, MHD_HTTP_FORBIDDEN, "unknown Host");
        if ((post || put || del) && !writer_ok(s, c))
            return reply_error(c, MHD_HTTP_FORBIDDEN, "a change needs the page's token and origin");
        if (post && !strcmp(url, "/api/jobs")) {
            const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
            if (cl && strtoull(cl, NULL, 10) > s->max_upload + 64 * 1024)
                return reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "the video is larger than %llu bytes", s->max_upload);
            rq->kind = 1;
            rq->pp = MHD_create_post_processor(c, 64 * 1024, upload_part, rq);
            if (!rq->pp) return reply_error(c, MHD_HTTP_BAD_REQUEST, "send the video as multipart/form-data, field 'video'");
            return MHD_YES;
        }
        if (put) rq->kind = 2;
        else if (*size) return reply_error(c, MHD_HTTP_BAD_REQUEST, "unexpected body");
        if (put) return MHD_YES;
    }
    if (get && !strcmp(url, "/")) return send_asset(s, c, "index.html");
    if (get && (!strcmp(url, "/app.js") || !strcmp(url, "/app.css"))) return send_asset(s, c, url + 1);
    if (get && !strcmp(url, "/api/config")) return send_config(s, c);
    if (strncmp(url, "/api/jobs/", 10) || !is_id(url + 10)) return reply_error(c, MHD_HTTP_NOT_FOUND, "no such page");
    char id[33];
    memcpy(id, url + 10, 32);
    id[32] = '\0';
    const char *rest = url + 42;
    pthread_mutex_lock(&s->lock);
    job *j = find_job(s, id);
    pthread_mutex_unlock(&s->lock);
    if (!j) return reply_error(c, MHD_HTTP_NOT_FOUND, "no such job");
    if (put && !strcmp(rest, "/plan")) return handle_plan(s, c, rq, j, data, size);
    if (get && !*rest) return send_job(s, c, j);
    if (get && *rest == '/') return job_file(s, c, j, rest + 1);
    if (del && !*rest) {
        pthread_mutex_lock(&s->lock);
        int busy = j->state == JOB_RUNNING;
        if (!busy) {
            for (size_t i = 0; i < s->queued; i++)
                if (s->queue[i] == j) {
                    memmove(s->queue + i, s->queue + i + 1, (s->queued - i - 1) * sizeof s->queue[0]);
                    s->queued--;
                    break;
                }
            for (job **p = &s->jobs; *p; p = &(*p)->next)
                if (*p == j) {
                    *p = j->next;
                    break;
                }
            remove_dir(j->dir);
            job_free(j);
        }
        pthread_mutex_unlock(&s->lock);
        if (busy) return reply_error(c, MHD_HTTP_CONFLICT, "the job is running; delete it when it is done");
        return reply(c, MHD_HTTP_NO_CONTENT, "application/json", "", 0);
    }
    return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "not allowed");
}

/* No %-decoding at all: no URL of this server needs it, so "%2f" or "%00" can never become a
 * path separator or a NUL. */
static size_t keep_escapes(void *cls, struct MHD_Connection *c, char *s)
{
    return strlen(s);
}

/* ---- start-up ---- */

/* Jobs kept from an earlier run of the server: done when their video exists, else failed. */
static void reload_jobs(server *s)
{
    DIR *d = opendir(s->jobs_dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strlen(e->d_name) != 32 || !is_id(e->d_name)) continue;
        char *dir = path_in(s->jobs_dir, e->d_name);
        DIR *jd = dir ? opendir(dir) : NULL;
        job *j = jd ? calloc(1, sizeof *j) : NULL;
        struct dirent *f;
        /* the upload is input.EXT; its scored video, input.emsync.EXT, is not an input */
        while (j && !j->input && (f = readdir(jd)))
            if (!strncmp(f->d_name, "input.", 6) && f->d_name[6] && !strchr(f->d_name + 6, '.'))
                j->input = path_in(dir, f->d_name);
        if (jd) closedir(jd);
        if (!j || !j->input) {
            if (j) job_free(j);
            if (dir) remove_dir(dir);
            free(dir);
            continue;
        }
        memcpy(j->id, e->d_name, 32); /* 32 hex digits, checked above */
        j->id[32] = '\0';
        j->dir = dir;
        j->output = es_score_output_path(j->input, dir);
        char *name = path_in(dir, "name"), *analysis = path_in(dir, "analysis.json");
        FILE *nf = name ? fopen(name, "r") : NULL;
        if (nf) {
            if (!fgets(j->name, sizeof j->name, nf)) j->name[0] = '\0';
            fclose(nf);
        }
        j->analysed = analysis && es_path_exists(analysis);
        struct stat st;
        j->touched = stat(dir, &st) == 0 ? st.st_mtime : time(NULL);
        snprintf(j->stage, sizeof j->stage, "render");
        if (j->output && es_path_exists(j->output)) {
            j->state = JOB_DONE;
            j->revision = 1;
        } else set_failed(j, "stopped with the server before it was done");
        free(name);
        free(analysis);
        j->next = s->jobs;
        s->jobs = j;
    }
    closedir(d);
}

static int make_dirs(const char *dir)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) return es_fail("%s: path too long", dir);
    for (char *p = path + 1;; p++)
        if (*p == '/' || !*p) {
            char ch = *p;
            *p = '\0';
            if (mkdir(path, 0700) && errno != EEXIST) return es_fail("%s: %s", path, strerror(errno));
            *p = ch;
            if (!ch) break;
        }
    return 0;
}

static int parse_size(const char *arg, unsigned long long *out)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    double unit = !strcasecmp(end, "k") ? 1024.0 : !strcasecmp(end, "m") ? 1048576.0
                : !strcasecmp(end, "g") ? 1073741824.0 : !*end ? 1.0 : 0.0;
    if (end == arg || errno || !(v > 0) || unit == 0 || v * unit > 1e15) return -1;
    *out = (unsigned long long)(v * unit);
    return 0;
}

static const struct option long_options[] = {
    {"host", required_argument, NULL, 'H'},   {"port", required_argument, NULL, 'p'},
    {"jobs", required_argument, NULL, 'J'},   {"max-upload", required_argument, NULL, 'M'},
    {"keep-hours", required_argument, NULL, 'K'}, {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
};

static int parse_options(int argc, char **argv, server *s, char **jobs_alloc)
{
    s->host = "127.0.0.1";
    s->port = 8080;
    s->max_upload = 4ull << 30;
    s->keep_hours = 24;
    optind = 1;
    opterr = 0;
    int c;
    long l;
    while ((c = getopt_long(argc, argv, ":qh", long_options, NULL)) != -1) {
        switch (c) {
        case 'H':
            if (!optarg[0]) return cli_usage_error("serve", "--host needs an address");
            s->host = optarg;
            break;
        case 'p':
            if (es_parse_long(optarg, 0, 65535, &l)) return cli_usage_error("serve", "--port must be an integer in [0, 65535], not '%s'", optarg);
            s->port = (int)l;
            break;
        case 'J':
            if (!optarg[0]) return cli_usage_error("serve", "--jobs needs a folder name, not ''");
            s->jobs_dir = optarg;
            break;
        case 'M':
            if (parse_size(optarg, &s->max_upload)) return cli_usage_error("serve", "--max-upload must be a size such as 500M or 2G, not '%s'", optarg);
            break;
        case 'K':
            if (es_parse_double(optarg, &s->keep_hours) || !(s->keep_hours > 0) || s->keep_hours > 100000)
                return cli_usage_error("serve", "--keep-hours must be a number of hours > 0, not '%s'", optarg);
            break;
        case 'q': s->quiet = 1; break;
        case 'h': usage(stdout); return -1;
        default: return cli_getopt_error("serve", c, argv);
        }
    }
    if (optind < argc) return cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
    if (!s->jobs_dir) {
        const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
        int n = state && *state ? asprintf(jobs_alloc, "%s/emsync/jobs", state)
                                : asprintf(jobs_alloc, "%s/.local/state/emsync/jobs", home && *home ? home : ".");
        if (n < 0) return ES_EXIT_FAILURE;
        s->jobs_dir = *jobs_alloc;
    }
    return 0;
}

static struct MHD_Daemon *start_daemon(server *s)
{
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_PASSIVE, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    const char *host = !strcmp(s->host, "localhost") ? "127.0.0.1" : s->host;
    char port[8];
    snprintf(port, sizeof port, "%d", s->port);
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc) {
        es_fail("--host %s: not a numeric address (%s)", s->host, gai_strerror(rc));
        return NULL;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
    if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    struct MHD_Daemon *d = MHD_start_daemon(flags, (uint16_t)s->port, NULL, NULL, route, s,
                                            MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                                            MHD_OPTION_NOTIFY_COMPLETED, request_done, s,
                                            MHD_OPTION_UNESCAPE_CALLBACK, keep_escapes, s,
                                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
                                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!d) es_fail("cannot listen on %s port %d (in use, or not this machine's address?)", s->host, s->port);
    return d;
}

int cmd_serve(int argc, char **argv)
{
    server s;
    memset(&s, 0, sizeof s);
    char *jobs_alloc = NULL;
    int status = parse_options(argc, argv, &s, &jobs_alloc);
    if (status) {
        free(jobs_alloc);
        return status < 0 ? ES_EXIT_OK : status;
    }
    status = ES_EXIT_FAILURE;
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.wake, NULL);
    random_hex(s.token, 16);
    struct MHD_Daemon *d = NULL;
    pthread_t thread;
    int started = 0;
    /* SIGINT and SIGTERM are taken by sigwait in this thread only; the others inherit the mask */
    sigset_t stops;
    sigemptyset(&stops);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stops, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (make_dirs(s.jobs_dir)) goto end;
    reload_jobs(&s);
    expire(&s);
    if (!(d = start_daemon(&s))) goto end;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (info) s.port = info->port;
    snprintf(s.port_text, sizeof s.port_text, "%d", s.port);
    if (pthread_create(&thread, NULL, worker, &s)) {
        es_fail("cannot start the worker thread");
        goto end;
    }
    started = 1;
    int v6 = strchr(s.host, ':') != NULL;
    const char *shown = !strcmp(s.host, "0.0.0.0") || !strcmp(s.host, "::") ? "127.0.0.1" : s.host;
    printf("emsync serve: http://%s%s%s:%d/  (jobs in %s; Ctrl-C stops)\n", v6 && strcmp(s.host, "::") ? "[" : "",
           shown, v6 && strcmp(s.host, "::") ? "]" : "", s.port, s.jobs_dir);
    fflush(stdout);
    for (;;) {
        struct timespec tick = {600, 0};
        int sig = sigtimedwait(&stops, NULL, &tick);
        if (sig > 0) break;
        pthread_mutex_lock(&s.lock);
        expire(&s);
        pthread_mutex_unlock(&s.lock);
    }
    if (!s.quiet) fprintf(stderr, "emsync serve: stopping\n");
    status = ES_EXIT_OK;
end:
    if (status) fprintf(stderr, "emsync serve: %s\n", es_error());
    if (d) MHD_stop_daemon(d);
    if (started) {
        pthread_mutex_lock(&s.lock);
        s.stopping = 1;
        if (s.child) kill(s.child, SIGTERM); /* it removes its temporary files and exits */
        pthread_cond_signal(&s.wake);
        pthread_mutex_unlock(&s.lock);
        pthread_join(thread, NULL);
    }
    for (job *j = s.jobs, *next; j; j = next) {
        next = j->next;
        job_free(j);
    }
    free(jobs_alloc);
    return status;
}
