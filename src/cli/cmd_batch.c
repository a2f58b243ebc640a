/* emsync batch: many videos scored N at a time, each as its own `emsync score` process, so that
 * one bad file (or a crash) never stops the others. Outputs that exist are skipped, so a rerun
 * continues where an interrupted batch stopped; claim files keep two batches on the same folder
 * from scoring the same video; a summary (JSON Lines) records every row. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "batch/manifest.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "core/cpus.h"
#include "core/error.h"
#include "core/json.h"
#include "core/outfile.h"
#include "core/parse.h"
#include "core/progress.h"
#include "emsync.h"
#include "pipeline/pipeline.h"

static void usage(FILE *out)
{
    fprintf(out,
        "usage: emsync batch DIR|MANIFEST [-o OUTDIR] [-j N] [--summary F] [options] [score options]\n"
        "\n"
        "Scores many videos: every video file of the folder DIR, or every row of MANIFEST, each\n"
        "as 'emsync score' would. Outputs that already exist are skipped, so running the same\n"
        "command again after an interruption or a failure continues the batch.\n"
        "\n"
        "MANIFEST is CSV with a header row, or JSON Lines (one object per line), with the fields\n"
        "input (required), output (optional) and any score option by its long name (seed,\n"
        "emotion, valence, arousal, composer, original-audio, midi, json, ...); an empty CSV\n"
        "cell or a JSON null leaves an option out. Relative paths are taken from the manifest's\n"
        "folder. A bad row is reported with its line number and the other rows still run.\n"
        "\n"
        "options:\n"
        "  -o, --output OUTDIR      folder for outputs without an output field (default: the\n"
        "                           current directory); made when missing\n"
        "  -j, --jobs N             videos scored at once, 1..256 (default: the cores, fewer when\n"
        "                           memory is short (1 GiB each)); each job gets cores/N threads\n"
        "      --summary F          JSON Lines, one line per row: input, output, status (ok,\n"
        "                           failed, skipped, invalid, claimed, interrupted), seconds,\n"
        "                           error (default: OUTDIR/emsync-batch.jsonl, or\n"
        "                           OUTDIR/emsync-batch.I-of-N.jsonl with --shard)\n"
        "      --shard I/N          run only rows I, I+N, I+2N, ... (0 <= I < N), the share of one\n"
        "                           task of N (a cluster job array: one shard per task)\n"
        "      --with LIST          also write side outputs beside each video: any of json, svg,\n"
        "                           wav, comma-separated (default: none; the MIDI is always written)\n"
        "  -y, --overwrite          score every row again, replacing existing outputs\n"
        "  -q, --quiet              no progress on stderr (failures are still reported)\n"
        "  -h, --help               this text\n"
        "\n"
        "Any other option is a score option (see 'emsync score --help') given to every row; a\n"
        "manifest's field overrides it for its row.\n"
        "\n"
        "exit status: 0 when every row is ok or skipped (or claimed by another batch), 1 when any\n"
        "failed or was invalid, 2 for bad usage, 128+N when stopped by signal N (Ctrl-C: 130).\n"
        "\n"
        "example:\n"
        "  emsync batch videos/ -o scored/ --seed 7             # every video in videos/\n"
        "  emsync batch list.csv -j 4 --summary report.jsonl    # rows: input,output,emotion,...\n");
}

typedef enum { ST_PENDING, ST_RUNNING, ST_OK, ST_FAILED, ST_SKIPPED, ST_INVALID, ST_CLAIMED, ST_INTERRUPTED } job_status;

static const char *const status_names[] = {"pending", "running", "ok", "failed", "skipped", "invalid",
                                           "claimed", "interrupted"};

enum { TAIL_SIZE = 2048, MAX_ARGS = 256 };

typedef struct {
    es_batch_row *row;
    char *output;
    char **argv;              /* emsync score ... for this row */
    int argc;
    job_status status;
    double started, seconds;
    char *error;
    char *claim;              /* the claim file while this batch holds it */
    pid_t pid;
    int err_fd;               /* the child's stderr */
    char tail[TAIL_SIZE];     /* the end of what it printed there */
    size_t tail_len;
} job;

typedef struct {
    const char *source, *outdir, *summary;
    int jobs, shard_i, shard_n, overwrite, quiet;
    int with_json, with_svg, with_wav;
    const char *score_args[MAX_ARGS];
    int n_score_args;
} batch_options;

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
    if (!stop_signal) stop_signal = sig;
}

/* ---- options ---- */

static int is_path_option(const char *name)
{
    static const char *const paths[] = {"midi", "wav", "json", "svg", "soundfont", "model", "plan", NULL};
    for (int i = 0; paths[i]; i++)
        if (!strcmp(paths[i], name)) return 1;
    return 0;
}

static int parse_with(batch_options *o, const char *list)
{
    char buf[128];
    if (strlen(list) >= sizeof buf) return cli_usage_error("batch", "--with: too long");
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!strcmp(t, "json")) o->with_json = 1;
        else if (!strcmp(t, "svg")) o->with_svg = 1;
        else if (!strcmp(t, "wav")) o->with_wav = 1;
        else return cli_usage_error("batch", "--with takes json, svg and wav, not '%s'", t);
    }
    return 0;
}

static int parse_shard(batch_options *o, const char *arg)
{
    long i, n;
    char a[32], b[32];
    const char *slash = strchr(arg, '/');
    if (!slash || (size_t)(slash - arg) >= sizeof a || strlen(slash + 1) >= sizeof b) goto bad;
    snprintf(a, sizeof a, "%.*s", (int)(slash - arg), arg);
    snprintf(b, sizeof b, "%s", slash + 1);
    if (es_parse_long(b, 1, 1000000, &n) || es_parse_long(a, 0, n - 1, &i)) goto bad;
    o->shard_i = (int)i;
    o->shard_n = (int)n;
    return 0;
bad:
    return cli_usage_error("batch", "--shard must be I/N with 0 <= I < N (e.g. 0/4), not '%s'", arg);
}

/* The value of option argv[*i] (from "--name=value" or the next argument). */
static const char *option_value(int argc, char **argv, int *i, const char *eq, const char *name)
{
    if (eq) return eq + 1;
    if (*i + 1 >= argc) {
        cli_usage_error("batch", "option '%s' needs a value", name);
        return NULL;
    }
    return argv[++*i];
}

static int batch_option(batch_options *o, const char *name, const char *value)
{
    long n;
    if (!strcmp(name, "output")) {
        if (!value[0]) return cli_usage_error("batch", "-o needs a folder name, not ''");
        o->outdir = value;
    } else if (!strcmp(name, "jobs")) {
        if (es_parse_long(value, 1, 256, &n)) return cli_usage_error("batch", "-j must be an integer in [1, 256], not '%s'", value);
        o->jobs = (int)n;
    } else if (!strcmp(name, "summary")) {
        if (!value[0]) return cli_usage_error("batch", "--summary needs a file name, not ''");
        o->summary = value;
    } else if (!strcmp(name, "shard")) return parse_shard(o, value);
    else if (!strcmp(name, "with")) return parse_with(o, value);
    return 0;
}

static int parse_options(int argc, char **argv, batch_options *o)
{
    memset(o, 0, sizeof *o);
    o->shard_n = 1;
    static const char *const valued[] = {"output", "jobs", "summary", "shard", "with", NULL};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !a[1]) {
            if (o->source) return cli_usage_error("batch", "one folder or manifest at a time (got '%s' too)", a);
            o->source = a;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return -1;
        }
        if (!strcmp(a, "-y") || !strcmp(a, "--overwrite")) o->overwrite = 1;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) o->quiet = 1;
        else if (!strcmp(a, "-o") || !strcmp(a, "-j")) {
            const char *v = option_value(argc, argv, &i, NULL, a);
            if (!v || batch_option(o, a[1] == 'o' ? "output" : "jobs", v)) return ES_EXIT_USAGE;
        } else if (!strncmp(a, "-j", 2) && isdigit((unsigned char)a[2])) {
            if (batch_option(o, "jobs", a + 2)) return ES_EXIT_USAGE;
        } else if (!strncmp(a, "--", 2)) {
            char name[64];
            const char *eq = strchr(a, '=');
            size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            if (len >= sizeof name) return cli_usage_error("batch", "unknown option '%s'", a);
            snprintf(name, sizeof name, "%.*s", (int)len, a + 2);
            int mine = 0;
            for (int k = 0; valued[k]; k++) mine |= !strcmp(valued[k], name);
            if (mine) {
                const char *v = option_value(argc, argv, &i, eq, a);
                if (!v || batch_option(o, name, v)) return ES_EXIT_USAGE;
                continue;
            }
            int kind = cmd_score_option_kind(name);
            if (kind < 0) return cli_usage_error("batch", "unknown option '%s'", a);
            if (!strcmp(name, "midi") || !strcmp(name, "wav") || !strcmp(name, "json") || !strcmp(name, "svg"))
                return cli_usage_error("batch", "--%s would be the same file for every video: use --with json,svg,wav, "
                                       "or a '%s' column in a manifest", name, name);
            if (kind == 0 && eq) return cli_usage_error("batch", "option '--%s' takes no value", name);
            if (o->n_score_args + 2 > MAX_ARGS) return cli_usage_error("batch", "too many options");
            o->score_args[o->n_score_args++] = argv[i];
            if (kind == 1 && !eq) {
                if (i + 1 >= argc) return cli_usage_error("batch", "option '%s' needs a value", a);
                o->score_args[o->n_score_args++] = argv[++i];
            }
        } else return cli_usage_error("batch", "unknown option '%s'", a);
    }
    if (!o->source) return cli_usage_error("batch", "no folder or manifest given");
    /* the score options, checked once here as score would check them */
    const char *check[MAX_ARGS + 4] = {"score", "check.mp4"};
    for (int k = 0; k < o->n_score_args; k++) check[2 + k] = o->score_args[k];
    char err[512];
    cli_capture_usage_errors(err, sizeof err);
    int bad = cmd_score_check(o->n_score_args + 2, (char **)check);
    cli_capture_usage_errors(NULL, 0);
    if (bad) return cli_usage_error("batch", "%s", err);
    return 0;
}

/* ---- planning the jobs ---- */

static int push_arg(job *j, const char *a)
{
    if (j->argc + 1 >= MAX_ARGS) return es_fail("too many options");
    if (!(j->argv[j->argc] = strdup(a))) return es_fail("out of memory");
    j->argc++;
    return 0;
}

static int has_option(const es_batch_row *r, const char *name)
{
    for (size_t i = 0; i < r->n_options; i++)
        if (!strcmp(r->options[i].name, name)) return 1;
    return 0;
}

static int truthy(const char *v)
{
    return !strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on");
}

static int falsy(const char *v)
{
    return !strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off");
}

/* A side output from --with, beside the video, unless the row names its own. */
static int push_side(job *j, const char *name, const char *suffix)
{
    if (has_option(j->row, name)) return 0;
    char opt[16];
    snprintf(opt, sizeof opt, "--%s", name);
    char *path = es_score_side_path(j->output, suffix);
    int rc = path ? push_arg(j, opt) || push_arg(j, path) : -1;
    free(path);
    return rc;
}

/* The command line of the row's score run; a row error (not a failure) when the row is bad. */
static int plan_job(job *j, const batch_options *o)
{
    es_batch_row *r = j->row;
    if (r->error) return 0;
    if (!r->input) {
        es_batch_row_fail(r, "no input");
        return 0;
    }
    j->output = r->output ? strdup(r->output) : es_score_output_path(r->input, o->outdir);
    if (!(j->argv = calloc(MAX_ARGS, sizeof *j->argv)) || !j->output) return es_fail("out of memory");
    if (push_arg(j, "emsync") || push_arg(j, "score") || push_arg(j, r->input) || push_arg(j, "-o") ||
        push_arg(j, j->output) || push_arg(j, "-q") || (o->overwrite && push_arg(j, "-y")))
        return -1;
    for (int k = 0; k < o->n_score_args; k++)
        if (push_arg(j, o->score_args[k])) return -1;
    for (size_t i = 0; i < r->n_options; i++) {
        const es_batch_option *opt = &r->options[i];
        int kind = cmd_score_option_kind(opt->name);
        if (kind < 0) {
            es_batch_row_fail(r, "unknown option '%s'", opt->name);
            return 0;
        }
        if (!strcmp(opt->name, "quiet") || !strcmp(opt->name, "help") || !strcmp(opt->name, "overwrite")) {
            es_batch_row_fail(r, "'%s' cannot be set per row (give it to the batch)", opt->name);
            return 0;
        }
        char flag[80];
        snprintf(flag, sizeof flag, "--%s", opt->name);
        if (kind == 0) {
            if (opt->value && !truthy(opt->value) && !falsy(opt->value)) {
                es_batch_row_fail(r, "'%s' is on or off (1/0, true/false), not '%s'", opt->name, opt->value);
                return 0;
            }
            if (opt->value && truthy(opt->value) && push_arg(j, flag)) return -1;
        } else if (push_arg(j, flag) || push_arg(j, opt->value)) return -1;
    }
    if ((o->with_json && push_side(j, "json", ".json")) || (o->with_svg && push_side(j, "svg", ".svg")) ||
        (o->with_wav && push_side(j, "wav", ".wav")))
        return -1;
    char err[512];
    cli_capture_usage_errors(err, sizeof err);
    int bad = cmd_score_check(j->argc - 1, j->argv + 1);
    cli_capture_usage_errors(NULL, 0);
    struct stat st;
    if (bad) es_batch_row_fail(r, "%s", err);
    else if (stat(r->input, &st)) es_batch_row_fail(r, "%s: %s", r->input, strerror(errno));
    else if (!S_ISREG(st.st_mode)) es_batch_row_fail(r, "%s: not a regular file", r->input);
    else if (es_same_destination(j->output, r->input)) es_batch_row_fail(r, "the output is the input");
    return 0;
}

/* A destination as one string per file: the folder resolved (symlinks, "..", "./"), the name
 * kept, so that two spellings of one output compare equal. */
static char *canonical(const char *path)
{
    char *copy = strdup(path), *copy2 = strdup(path), *out = NULL;
    if (copy && copy2) {
        char real[PATH_MAX];
        const char *dir = dirname(copy), *base = basename(copy2);
        if (!realpath(dir, real)) snprintf(real, sizeof real, "%s", dir);
        if (asprintf(&out, "%s/%s", real, base) < 0) out = NULL;
    }
    free(copy);
    free(copy2);
    return out;
}

typedef struct {
    char *path;          /* canonical */
    char *given;         /* as the row gave it (or as derived) */
    int is_video;        /* the row's main output: its clash is reported first */
    size_t job;
} destination;

static int by_path_then_job(const void *a, const void *b)
{
    const destination *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    return c ? c : (x->job > y->job) - (x->job < y->job);
}

/* The value that follows option name in the job's command line, or NULL. */
static const char *arg_of(const job *j, const char *name)
{
    for (int k = 5; k + 1 < j->argc; k++)
        if (!strcmp(j->argv[k], name)) return j->argv[k + 1];
    return NULL;
}

static void describe_row(const job *j, char *buf, size_t size)
{
    if (j->row->line) snprintf(buf, size, "line %d", j->row->line);
    else snprintf(buf, size, "%s", j->row->input);
}

static int add_destination(destination **d, size_t *nd, size_t *cap, const char *path, int is_video, size_t owner)
{
    if (es_grow((void **)d, cap, *nd + 1, sizeof **d)) return -1;
    destination *x = &(*d)[*nd];
    x->path = canonical(path);
    x->given = strdup(path);
    x->is_video = is_video;
    x->job = owner;
    (*nd)++;
    return x->path && x->given ? 0 : es_fail("out of memory");
}

/* Rows that write a file another row writes are refused (all but the first), whichever shard runs
 * them: both would be skipped or overwritten in turn otherwise. */
static int refuse_duplicates(job *jobs, size_t n)
{
    destination *d = NULL;
    size_t nd = 0, cap = 0;
    int rc = 0;
    static const char *const side[] = {"--midi", "--wav", "--json", "--svg"};
    for (size_t i = 0; i < n && !rc; i++) {
        if (jobs[i].row->error) continue;
        char *mid = arg_of(&jobs[i], "--midi") ? NULL : es_score_side_path(jobs[i].output, ".mid");
        rc = add_destination(&d, &nd, &cap, jobs[i].output, 1, i) || (mid && add_destination(&d, &nd, &cap, mid, 0, i));
        for (int k = 0; k < 4 && !rc; k++)
            if (arg_of(&jobs[i], side[k])) rc = add_destination(&d, &nd, &cap, arg_of(&jobs[i], side[k]), 0, i);
        free(mid);
    }
    if (!rc) qsort(d, nd, sizeof *d, by_path_then_job);
    /* main outputs first, so that a row's message names its video when that is what clashes */
    for (int pass = 0; pass < 2 && !rc; pass++)
        for (size_t k = 1, first = 0; k < nd; k++) {
            if (strcmp(d[first].path, d[k].path)) first = k;
            if (first == k || d[first].job == d[k].job || (pass == 0 && !d[k].is_video)) continue;
            char other[256];
            describe_row(&jobs[d[first].job], other, sizeof other);
            es_batch_row_fail(jobs[d[k].job].row, "'%s' is also written by %s", d[k].given, other);
        }
    for (size_t k = 0; k < nd; k++) {
        free(d[k].path);
        free(d[k].given);
    }
    free(d);
    return rc;
}

/* ---- claims: one batch per output, even with two batches on the same folder ---- */

static char *claim_path(const char *output)
{
    char *copy = strdup(output), *copy2 = strdup(output), *path = NULL;
    if (copy && copy2 && asprintf(&path, "%s/.%s.emsync-claim", dirname(copy), basename(copy2)) < 0) path = NULL;
    free(copy);
    free(copy2);
    return path;
}

/* 1 when the claim names a live process of this host (or another host: it cannot be checked). */
static int claim_alive(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return errno != ENOENT;
    char host[256] = "", mine[256] = "";
    long pid = 0;
    int got = fscanf(f, "%255s %ld", host, &pid);
    fclose(f);
    gethostname(mine, sizeof mine - 1);
    if (got != 2 || strcmp(host, mine) || pid <= 0) return got == 2;
    return kill((pid_t)pid, 0) == 0 || errno != ESRCH;
}

/* 0: claimed, 1: another batch holds it, -1: error. */
static int claim(job *j)
{
    char *path = claim_path(j->output);
    if (!path) return es_fail("out of memory");
    /* The claim is written whole under a name of this process, then linked into place: link()
     * fails if the claim exists, and another batch never sees it empty (which would read as
     * left by a dead batch). */
    char *mine = NULL;
    if (asprintf(&mine, "%s.%ld", path, (long)getpid()) < 0) {
        free(path);
        return es_fail("out of memory");
    }
    int fd = open(mine, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    if (fd < 0 || dprintf(fd, "%s %ld\n", host[0] ? host : "localhost", (long)getpid()) < 0 || close(fd)) {
        es_fail("%s: %s", mine, strerror(errno));
        unlink(mine);
        free(mine);
        free(path);
        return -1;
    }
    int rc = 1;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (link(mine, path) == 0) {
            j->claim = path;
            path = NULL;
            rc = 0;
            break;
        }
        if (errno != EEXIST) {
            rc = es_fail("%s: %s", path, strerror(errno));
            break;
        }
        if (claim_alive(path)) break;
        unlink(path); /* left by a batch that died: take it over */
    }
    unlink(mine);
    free(mine);
    free(path);
    return rc;
}

static void release(job *j)
{
    if (!j->claim) return;
    unlink(j->claim);
    free(j->claim);
    j->claim = NULL;
}

/* ---- running ---- */

static int start(job *j, int threads)
{
    int err_fd;
    pid_t pid = cli_spawn_self(j->argv, threads, &err_fd);
    if (pid < 0) return -1;
    j->err_fd = err_fd;
    j->pid = pid;
    j->status = ST_RUNNING;
    j->started = es_now();
    j->tail_len = 0;
    return 0;
}

/* Keeps the last TAIL_SIZE bytes the job printed. Returns 0 at end of file. */
static int drain(job *j)
{
    char buf[4096];
    ssize_t got = read(j->err_fd, buf, sizeof buf);
    if (got < 0) return errno == EINTR || errno == EAGAIN;
    if (got == 0) return 0;
    size_t n = (size_t)got;
    if (n >= TAIL_SIZE) {
        memcpy(j->tail, buf + n - (TAIL_SIZE - 1), TAIL_SIZE - 1);
        j->tail_len = TAIL_SIZE - 1;
    } else {
        if (j->tail_len + n >= TAIL_SIZE) {
            size_t drop = j->tail_len + n - (TAIL_SIZE - 1);
            memmove(j->tail, j->tail + drop, j->tail_len - drop);
            j->tail_len -= drop;
        }
        memcpy(j->tail + j->tail_len, buf, n);
        j->tail_len += n;
    }
    return 1;
}

/* The job's error: the last line it printed, without the "emsync: " in front. */
static char *last_line(job *j)
{
    j->tail[j->tail_len] = '\0';
    char *end = j->tail + j->tail_len;
    while (end > j->tail && isspace((unsigned char)end[-1])) *--end = '\0';
    char *line = end;
    while (line > j->tail && line[-1] != '\n') line--;
    if (!strncmp(line, "emsync: ", 8)) line += 8;
    else if (!strncmp(line, "emsync score: ", 14)) line += 14;
    for (char *c = line; *c; c++)
        if ((unsigned char)*c < 0x20) *c = ' ';
    return line[0] ? strdup(line) : NULL;
}

static void finish(job *j, int wstatus)
{
    while (drain(j) > 0) {}
    close(j->err_fd);
    j->err_fd = -1;
    j->seconds = es_now() - j->started;
    char buf[64];
    if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) j->status = ST_OK;
    else if (stop_signal && WIFSIGNALED(wstatus)) j->status = ST_INTERRUPTED;
    else {
        j->status = ST_FAILED;
        j->error = last_line(j);
        if (!j->error) {
            if (WIFSIGNALED(wstatus)) snprintf(buf, sizeof buf, "killed by signal %d", WTERMSIG(wstatus));
            else snprintf(buf, sizeof buf, "exit status %d", WEXITSTATUS(wstatus));
            j->error = strdup(buf);
        }
    }
    release(j);
}

/* ---- progress ---- */

typedef struct {
    size_t total, done, counts[8];
    double run_seconds;
    size_t ran;
    int tty, quiet, drawn;
} progress;

static void draw(progress *p, size_t running)
{
    if (p->quiet || !p->tty) return;
    int width = 24, filled = p->total ? (int)(width * p->done / p->total) : width;
    char bar[32];
    for (int i = 0; i < width; i++) bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r\033[Kbatch [%s] %zu/%zu  ok %zu  failed %zu  running %zu", bar, p->done, p->total,
            p->counts[ST_OK], p->counts[ST_FAILED] + p->counts[ST_INVALID], running);
    size_t left = p->total - p->done;
    if (p->ran && left) {
        double eta = p->run_seconds / (double)p->ran * (double)left / (double)(running ? running : 1);
        fprintf(stderr, "  ~%d:%02d left", (int)eta / 60, (int)eta % 60);
    }
    fflush(stderr);
    p->drawn = 1;
}

static void clear_line(progress *p)
{
    if (p->drawn) fprintf(stderr, "\r\033[K");
    p->drawn = 0;
}

static void settled(progress *p, const job *j)
{
    p->done++;
    p->counts[j->status]++;
    if (j->status == ST_OK || j->status == ST_FAILED) {
        p->ran++;
        p->run_seconds += j->seconds;
    }
    const char *what = j->row->input ? j->row->input : "(no input)";
    if (j->status == ST_FAILED || j->status == ST_INVALID) {
        const char *err = j->status == ST_FAILED ? (j->error ? j->error : "failed") : j->row->error;
        clear_line(p);
        /* the row's line, or the video's name unless the error already starts with it */
        if (j->row->line) fprintf(stderr, "emsync batch: line %d: %s\n", j->row->line, err);
        else if (!strncmp(err, what, strlen(what))) fprintf(stderr, "emsync batch: %s\n", err);
        else fprintf(stderr, "emsync batch: %s: %s\n", what, err);
    } else if (!p->quiet && !p->tty) {
        fprintf(stderr, "batch %zu/%zu %s %s", p->done, p->total, status_names[j->status], what);
        if (j->status == ST_OK) fprintf(stderr, " (%.1f s)", j->seconds);
        fprintf(stderr, "\n");
    }
}

/* ---- summary ---- */

typedef struct {
    job *const *jobs;  /* this batch's rows, in manifest order */
    size_t n;
} summary;

static void write_summary(FILE *f, const void *user)
{
    const summary *s = user;
    for (size_t i = 0; i < s->n; i++) {
        const job *j = s->jobs[i];
        es_json w;
        es_json_init(&w, f, 0);
        es_json_begin_object(&w);
        if (j->row->line) es_json_kv_int(&w, "line", j->row->line);
        es_json_key(&w, "input");
        if (j->row->input) es_json_string(&w, j->row->input);
        else es_json_null(&w);
        es_json_key(&w, "output");
        if (j->output) es_json_string(&w, j->output);
        else es_json_null(&w);
        es_json_kv_string(&w, "status", status_names[j->status]);
        if (j->started > 0) es_json_kv_number(&w, "seconds", j->seconds);
        const char *err = j->status == ST_INVALID ? j->row->error : j->status == ST_FAILED ? j->error : NULL;
        if (err) es_json_kv_string(&w, "error", err);
        es_json_end_object(&w);
        fputc('\n', f);
    }
}

/* ---- the batch ---- */

static int default_jobs(size_t pending)
{
    int jobs = es_cpu_count();
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[256];
        long kb;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %ld kB", &kb) == 1) {
                long fit = kb / (1024 * 1024);  /* a job of a short video stays well under 1 GiB */
                if (fit < jobs) jobs = fit < 1 ? 1 : (int)fit;
            }
        fclose(f);
    }
    if ((size_t)jobs > pending) jobs = pending ? (int)pending : 1;
    return jobs;
}

static int make_folder(const char *dir)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) return es_fail("%s: path too long", dir);
    for (char *p = path + 1;; p++) {
        if (*p == '/' || !*p) {
            char c = *p;
            *p = '\0';
            if (mkdir(path, 0777) && errno != EEXIST) return es_fail("%s: %s", path, strerror(errno));
            *p = c;
            if (!c) break;
        }
    }
    struct stat st;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode)) return es_fail("%s: not a folder", dir);
    return 0;
}

/* Skips, claims or starts job j; returns -1 only on a failure of the batch itself. */
static int launch(job *j, const batch_options *o, int threads, progress *p)
{
    if (!o->overwrite && es_path_exists(j->output)) {
        j->status = ST_SKIPPED;
        settled(p, j);
        return 0;
    }
    /* the output's folder is made, as for -o; a folder or claim that cannot be made fails the row */
    char *copy = strdup(j->output);
    int c = copy ? make_folder(dirname(copy)) : es_fail("out of memory");
    free(copy);
    if (c == 0) c = claim(j);
    if (c < 0) {
        j->status = ST_FAILED;
        j->error = strdup(es_error());
        settled(p, j);
        return 0;
    }
    if (c > 0 || (!o->overwrite && es_path_exists(j->output))) {
        j->status = c > 0 ? ST_CLAIMED : ST_SKIPPED;
        release(j);
        settled(p, j);
        return 0;
    }
    if (start(j, threads)) {
        release(j);
        return -1;
    }
    return 0;
}

static int run_jobs(job **own, size_t n, const batch_options *o, progress *p)
{
    size_t pending = 0;
    for (size_t i = 0; i < n; i++) pending += own[i]->status == ST_PENDING;
    int jobs = o->jobs ? o->jobs : default_jobs(pending);
    int threads = es_cpu_count() / jobs;
    if (threads < 1) threads = 1;
    size_t next = 0, running = 0;
    int forwarded = 0, rc = 0;
    for (;;) {
        while (!stop_signal && !rc && running < (size_t)jobs && next < n) {
            job *j = own[next++];
            if (j->status != ST_PENDING) continue;
            if (launch(j, o, threads, p)) rc = -1;
            else running += j->status == ST_RUNNING;
        }
        if (stop_signal && !forwarded) {
            /* Ctrl-C reaches the jobs from the terminal already; a kill or a scheduler does not */
            for (size_t i = 0; i < n; i++)
                if (own[i]->status == ST_RUNNING) kill(own[i]->pid, stop_signal);
            forwarded = 1;
        }
        draw(p, running);
        if (!running) break;
        struct pollfd fds[256];
        job *of[256];
        size_t nf = 0;
        for (size_t i = 0; i < n && nf < 256; i++)
            if (own[i]->status == ST_RUNNING) {
                fds[nf] = (struct pollfd){.fd = own[i]->err_fd, .events = POLLIN};
                of[nf++] = own[i];
            }
        poll(fds, nf, 500);
        for (size_t k = 0; k < nf; k++) {
            if (fds[k].revents & POLLIN) drain(of[k]);
            int wstatus;
            if (waitpid(of[k]->pid, &wstatus, WNOHANG) == of[k]->pid) {
                finish(of[k], wstatus);
                running--;
                settled(p, of[k]);
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        if (own[i]->status == ST_PENDING && stop_signal) {
            own[i]->status = ST_INTERRUPTED;
            p->counts[ST_INTERRUPTED]++;
        }
    clear_line(p);
    return rc;
}

int cmd_batch(int argc, char **argv)
{
    batch_options o;
    int status = parse_options(argc, argv, &o);
    if (status) return status < 0 ? ES_EXIT_OK : status;
    if (o.quiet) es_progress_quiet(1);

    es_batch_list list = {0};
    struct stat st;
    job *jobs = NULL;
    job **own = NULL;
    char *summary_path = NULL;
    int fatal = 1; /* until the summary is written */
    if (stat(o.source, &st)) {
        es_fail("%s: %s", o.source, strerror(errno));
        goto end;
    }
    if (S_ISDIR(st.st_mode) ? es_batch_read_folder(o.source, &list) : es_batch_read_manifest(o.source, is_path_option, &list))
        goto end;
    if (!o.outdir) o.outdir = ".";
    if (make_folder(o.outdir)) goto end;
    if (!(jobs = calloc(list.n, sizeof *jobs)) || !(own = calloc(list.n, sizeof *own))) {
        es_fail("out of memory");
        goto end;
    }
    for (size_t i = 0; i < list.n; i++) {
        jobs[i] = (job){.row = &list.rows[i], .err_fd = -1};
        if (plan_job(&jobs[i], &o)) goto end;
    }
    if (refuse_duplicates(jobs, list.n)) goto end;
    size_t n_own = 0;
    for (size_t i = 0; i < list.n; i++) {
        if ((int)(i % (size_t)o.shard_n) != o.shard_i) continue;
        if (jobs[i].row->error) jobs[i].status = ST_INVALID;
        own[n_own++] = &jobs[i];
    }
    if (o.summary) summary_path = strdup(o.summary);
    else if (o.shard_n > 1) {
        if (asprintf(&summary_path, "%s/emsync-batch.%d-of-%d.jsonl", o.outdir, o.shard_i, o.shard_n) < 0) summary_path = NULL;
    } else if (asprintf(&summary_path, "%s/emsync-batch.jsonl", o.outdir) < 0) summary_path = NULL;
    if (!summary_path) {
        es_fail("out of memory");
        goto end;
    }

    progress p = {.total = n_own, .tty = isatty(2), .quiet = o.quiet};
    for (size_t i = 0; i < n_own; i++)
        if (own[i]->status == ST_INVALID) settled(&p, own[i]);
    struct sigaction sa = {.sa_handler = on_stop};
    sigemptyset(&sa.sa_mask);
    struct sigaction old[3];
    const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
    for (int k = 0; k < 3; k++) sigaction(sigs[k], &sa, &old[k]);
    int rc = run_jobs(own, n_own, &o, &p);
    for (int k = 0; k < 3; k++) sigaction(sigs[k], &old[k], NULL);

    summary s = {own, n_own};
    int summary_failed = es_write_stream(summary_path, write_summary, &s);
    if (rc || summary_failed) goto end;
    const size_t *c = p.counts;
    if (!o.quiet) {
        fprintf(stderr, "emsync batch: %zu ok, %zu skipped, %zu failed, %zu invalid", c[ST_OK], c[ST_SKIPPED],
                c[ST_FAILED], c[ST_INVALID]);
        if (c[ST_CLAIMED]) fprintf(stderr, ", %zu claimed by another batch", c[ST_CLAIMED]);
        if (c[ST_INTERRUPTED]) fprintf(stderr, ", %zu interrupted", c[ST_INTERRUPTED]);
        fprintf(stderr, "; summary in %s\n", summary_path);
    }
    if (stop_signal) status = 128 + stop_signal;
    else status = c[ST_FAILED] || c[ST_INVALID] ? ES_EXIT_FAILURE : ES_EXIT_OK;
    fatal = 0;
end:
    if (fatal) {
        fprintf(stderr, "emsync batch: %s\n", es_error());
        status = stop_signal ? 128 + stop_signal : ES_EXIT_FAILURE;
    }
    for (size_t i = 0; jobs && i < list.n; i++) {
        release(&jobs[i]);
        for (int k = 0; jobs[i].argv && k < jobs[i].argc; k++) free(jobs[i].argv[k]);
        free(jobs[i].argv);
        free(jobs[i].output);
        free(jobs[i].error);
    }
    free(jobs);
    free(own);
    free(summary_path);
    es_batch_list_free(&list);
    return status;
}
