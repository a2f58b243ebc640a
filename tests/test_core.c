/* Core helpers: checked parsing, JSON escaping and nesting, temp-and-rename outputs (alone, in
 * sets, and under SIGTERM), same-file and same-destination detection, progress output on a pipe
 * and on a pseudo-terminal. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "core/cpus.h"
#include "core/error.h"
#include "core/json.h"
#include "core/outfile.h"
#include "core/parse.h"
#include "core/progress.h"

/* Entries in dir (without . and ..). */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static void test_parse(void)
{
    double d;
    long l;
    CHECK(es_parse_double("1.5", &d) == 0 && d == 1.5);
    CHECK(es_parse_double("-0.25", &d) == 0 && d == -0.25);
    CHECK(es_parse_double("", &d) != 0);
    CHECK(es_parse_double("1.5x", &d) != 0);
    CHECK(es_parse_double("nan", &d) != 0);
    CHECK(es_parse_double("inf", &d) != 0);
    CHECK(es_parse_double("1e999", &d) != 0);
    CHECK(es_parse_long("42", 0, 100, &l) == 0 && l == 42);
    CHECK(es_parse_long("101", 0, 100, &l) != 0);
    CHECK(es_parse_long("4 2", 0, 100, &l) != 0);

    double *t = NULL;
    size_t n = 0;
    CHECK(es_parse_time_list("12,5,5,17.5", &t, &n) == 0);
    CHECK(n == 3 && t && t[0] == 5 && t[1] == 12 && t[2] == 17.5);
    free(t);
    CHECK(es_parse_time_list("a,b", &t, &n) != 0 && strstr(es_error(), "'a'"));
    CHECK(es_parse_time_list("3,-1", &t, &n) != 0);
    CHECK(es_parse_time_list("", &t, &n) == 0 && n == 0);
    free(t);

    /* the edges: signs and exponents yes; blanks, hex, empty items, overflow no */
    CHECK(es_parse_double("+2", &d) == 0 && d == 2);
    CHECK(es_parse_double("-.5", &d) == 0 && d == -0.5);
    CHECK(es_parse_double("1e308", &d) == 0 && d == 1e308);
    CHECK(es_parse_double("0x1p3", &d) != 0);
    CHECK(es_parse_double(" 1", &d) != 0);
    CHECK(es_parse_double("1 ", &d) != 0);
    CHECK(es_parse_double("infinity", &d) != 0);
    CHECK(es_parse_double("-", &d) != 0);
    CHECK(es_parse_double(".", &d) != 0);
    CHECK(es_parse_long("+7", 0, 10, &l) == 0 && l == 7);
    CHECK(es_parse_long("0x7", 0, 10, &l) != 0);
    CHECK(es_parse_long(" 7", 0, 10, &l) != 0);
    CHECK(es_parse_long("99999999999999999999", 0, 0x7fffffffL, &l) != 0);
    CHECK(es_parse_time_list("5,,6", &t, &n) != 0 && strstr(es_error(), "empty item"));
    CHECK(es_parse_time_list("5,", &t, &n) != 0);
    CHECK(es_parse_time_list(",5", &t, &n) != 0);
    CHECK(es_parse_time_list(",", &t, &n) != 0);
    CHECK(es_parse_time_list("0x10", &t, &n) != 0);
    CHECK(es_parse_time_list("+3,1e1", &t, &n) == 0 && n == 2 && t[0] == 3 && t[1] == 10);
    free(t);
}

static void test_json(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    es_json j;
    es_json_init(&j, f, 0);
    es_json_begin_object(&j);
    es_json_kv_string(&j, "name", "a\"b\\c\n");
    es_json_key(&j, "list");
    es_json_begin_array(&j);
    es_json_number(&j, 1.5);
    es_json_number(&j, 0.0 / 0.0);
    es_json_int(&j, -3);
    es_json_end_array(&j);
    es_json_key(&j, "empty");
    es_json_begin_object(&j);
    es_json_end_object(&j);
    es_json_end_object(&j);
    fclose(f);
    CHECK(strcmp(buf, "{\"name\":\"a\\\"b\\\\c\\n\",\"list\":[1.5,null,-3],\"empty\":{}}") == 0);
    if (check_failed) fprintf(stderr, "json: %s\n", buf);
    free(buf);

    /* strings that are not UTF-8 (a Latin-1 file name) still give valid JSON; UTF-8 passes */
    f = open_memstream(&buf, &len);
    es_json_init(&j, f, 0);
    es_json_string(&j, "caf\xe9 \xc3\xa9 \xed\xa0\x80 \xf0\x9f\x8e\xb5 \xc3");
    fclose(f);
    CHECK(strcmp(buf, "\"caf\\ufffd \xc3\xa9 \\ufffd\\ufffd\\ufffd \xf0\x9f\x8e\xb5 \\ufffd\"") == 0);
    if (check_failed) fprintf(stderr, "utf-8 json: %s\n", buf);
    free(buf);
    CHECK(es_utf8_sequence("\xc0\x80") == 0 && es_utf8_sequence("\xe2\x82\xac") == 3 && es_utf8_sequence("") == 0);

    /* 40 levels of arrays, each with a value after the nested one: the part deeper than
     * ES_JSON_MAX_DEPTH becomes null, everything else (commas included) stays right */
    f = open_memstream(&buf, &len);
    es_json_init(&j, f, 0);
    for (int i = 0; i < 40; i++) es_json_begin_array(&j);
    es_json_int(&j, 7);
    for (int i = 0; i < 40; i++) {
        es_json_end_array(&j);
        if (i < 39) es_json_int(&j, i);
    }
    CHECK(es_json_truncated(&j));
    fclose(f);
    char want[1024] = "", *w = want;
    for (int i = 0; i < ES_JSON_MAX_DEPTH; i++) *w++ = '[';
    w += sprintf(w, "null");
    /* levels 33..40 were dropped with their values; after closing level 40 - i, the value i
     * goes into level 39 - i, which is written from i = 7 on */
    for (int i = 39 - ES_JSON_MAX_DEPTH; i < 39; i++) w += sprintf(w, ",%d]", i);
    CHECK(strcmp(buf, want) == 0);
    if (strcmp(buf, want)) fprintf(stderr, "deep json:\n got %s\nwant %s\n", buf, want);
    free(buf);

    /* exactly ES_JSON_MAX_DEPTH levels are written whole */
    f = open_memstream(&buf, &len);
    es_json_init(&j, f, 1);
    for (int i = 0; i < ES_JSON_MAX_DEPTH; i++) es_json_begin_object(&j), es_json_key(&j, "k");
    es_json_number(&j, 1.0 / 0.0);
    for (int i = 0; i < ES_JSON_MAX_DEPTH; i++) es_json_end_object(&j);
    es_json_end_object(&j); /* one too many: ignored */
    CHECK(!es_json_truncated(&j));
    fclose(f);
    int opens = 0, closes = 0;
    for (char *p = buf; *p; p++) opens += *p == '{', closes += *p == '}';
    CHECK(opens == ES_JSON_MAX_DEPTH && closes == ES_JSON_MAX_DEPTH && strstr(buf, "\"k\": null"));
    free(buf);
}

/* Runs es_progress_* with stderr on fd; returns what was written (caller frees). */
static char *capture_progress(int fd, int read_fd)
{
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    es_progress_stage("decode");
    es_progress_update(0.0 / 0.0);
    es_progress_update(-1e300);
    es_progress_update(0.3);
    es_progress_update(1e300);
    es_progress_update(1.0 / 0.0);
    es_progress_update(0.6);
    es_progress_done();
    es_progress_stage("mux");
    es_progress_update(0.5);
    es_progress_end_line();
    es_progress_end_line(); /* a second call adds nothing */
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    char *out = calloc(1, 8192);
    size_t n = 0;
    ssize_t r;
    while (n < 8191 && (r = read(read_fd, out + n, 8191 - n)) > 0) n += (size_t)r;
    return out;
}

static void test_progress(void)
{
    /* not a terminal: plain lines, quarters, a done line; NaN and huge values do not crash */
    int p[2];
    CHECK(pipe(p) == 0);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    char *text = capture_progress(p[1], p[0]);
    const char *head = "emsync: decode...\nemsync: decode 25%\nemsync: decode 50%\nemsync: decode done (";
    CHECK(strncmp(text, head, strlen(head)) == 0);
    CHECK(strstr(text, "s)\nemsync: mux...\nemsync: mux 50%\n") != NULL);
    CHECK(strchr(text, '\r') == NULL);
    if (check_failed) fprintf(stderr, "plain progress:\n%s\n", text);
    free(text);
    close(p[0]);
    close(p[1]);
}

/* The bar on a pseudo-terminal, in a child (the terminal test is cached per process). */
static void test_progress_tty(void)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) || unlockpt(master)) {
        fprintf(stderr, "test_core: no pseudo-terminal, bar not checked\n");
        return;
    }
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    CHECK(slave >= 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(slave, STDERR_FILENO);
        es_progress_stage("decode");
        es_progress_update(0.0 / 0.0);
        es_progress_update(1e300);
        es_progress_done();
        es_progress_stage("mux");
        usleep(150000); /* the bar is redrawn at most every 0.1 s */
        es_progress_update(0.5);
        es_progress_end_line();
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    fcntl(master, F_SETFL, O_NONBLOCK);
    char text[8192] = "";
    size_t n = 0;
    ssize_t r;
    while (n < sizeof text - 1 && (r = read(master, text + n, sizeof text - 1 - n)) > 0) n += (size_t)r;
    text[n] = '\0';
    CHECK(strstr(text, "\rdecode     [------------------------------]   0%") != NULL);
    CHECK(strstr(text, "\rdecode     [##############################] 100%") != NULL);
    CHECK(strstr(text, "\rmux        [###############---------------]  50%") != NULL);
    /* the half-drawn mux bar is ended by a newline (the pty shows it as \r\n) */
    CHECK(n >= 2 && text[n - 1] == '\n');
    if (check_failed) fprintf(stderr, "tty progress:\n%s\n", text);
    close(slave);
    close(master);
}

static void test_outfile(void)
{
    char dir[] = "/tmp/es-test-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char final[256], link_path[256], other[256];
    snprintf(final, sizeof final, "%s/out.mp4", dir);
    es_outfile o;
    CHECK(es_outfile_open(&o, final) == 0);
    CHECK(strstr(o.temp_path, ".mp4") != NULL);
    CHECK(write(o.fd, "abc", 3) == 3);
    CHECK(!es_path_exists(final));
    CHECK(es_outfile_commit(&o) == 0);
    CHECK(es_path_exists(final));

    /* abort removes the temp file and leaves the existing output alone */
    CHECK(es_outfile_open(&o, final) == 0);
    char temp_copy[512];
    snprintf(temp_copy, sizeof temp_copy, "%s", o.temp_path);
    es_outfile_abort(&o);
    CHECK(!es_path_exists(temp_copy));
    CHECK(es_path_exists(final));

    snprintf(link_path, sizeof link_path, "%s/link.mp4", dir);
    CHECK(symlink(final, link_path) == 0);
    CHECK(es_same_file(final, link_path));
    snprintf(other, sizeof other, "%s/./out.mp4", dir);
    CHECK(es_same_file(final, other));
    CHECK(!es_same_file(final, "/nonexistent/x"));

    snprintf(other, sizeof other, "%s/missing/out.mp4", dir);
    CHECK(es_outfile_open(&o, other) != 0 && strstr(es_error(), "missing/out.mp4"));

    char *p = es_derive_path(NULL, "some/dir/clip.final.mov", ".emsync.mov");
    CHECK(p && strcmp(p, "clip.final.emsync.mov") == 0);
    free(p);
    char ext[16];
    es_path_ext("a/b.MKV", ext, sizeof ext);
    CHECK(strcmp(ext, "mkv") == 0);

    /* the same destination in other spellings, existing or not */
    char a[512], b[512], sub[300];
    snprintf(a, sizeof a, "%s/new.mid", dir);
    snprintf(b, sizeof b, "%s/./new.mid", dir);
    CHECK(es_same_destination(a, b));
    snprintf(sub, sizeof sub, "%s/sub", dir);
    CHECK(mkdir(sub, 0700) == 0);
    snprintf(b, sizeof b, "%s/sub/../new.mid", dir);
    CHECK(es_same_destination(a, b));
    snprintf(b, sizeof b, "%s/sub/new.mid", dir);
    CHECK(!es_same_destination(a, b));
    const char *dests[] = {a, NULL, b, final};
    CHECK(es_check_destinations(dests, 3, NULL, 0) == 0);
    snprintf(b, sizeof b, "%s/sub/../new.mid", dir);
    CHECK(es_check_destinations(dests, 3, NULL, 0) != 0 && strstr(es_error(), "named for two outputs"));
    CHECK(es_check_destinations(dests + 3, 1, NULL, 0) != 0 && strstr(es_error(), "already exists"));
    CHECK(es_check_destinations(dests + 3, 1, NULL, 1) == 0);
    CHECK(es_check_destinations(dests + 3, 1, link_path, 1) != 0 && strstr(es_error(), "overwrite the input"));
    const char *empty[] = {""};
    CHECK(es_check_destinations(empty, 1, NULL, 1) != 0 && strstr(es_error(), "empty output path"));
    CHECK(es_outfile_open(&o, "") != 0);
    rmdir(sub);

    /* a set: nothing in place until commit, then all; abort leaves only what was there */
    int before = count_entries(dir);
    es_outset set = {0};
    const char *t1 = es_outset_add(&set, a);
    snprintf(b, sizeof b, "%s/second.json", dir);
    const char *t2 = es_outset_add(&set, b);
    CHECK(t1 && t2 && strstr(t1, "/.new.tmp-") && strstr(t2, "/.second.tmp-"));
    FILE *f = t1 ? fopen(t1, "w") : NULL;
    if (f) fputs("one", f), fclose(f);
    CHECK(count_entries(dir) == before + 2 && !es_path_exists(a) && !es_path_exists(b));
    CHECK(es_outset_commit(&set) == 0);
    CHECK(es_path_exists(a) && es_path_exists(b) && count_entries(dir) == before + 2);
    CHECK(es_outset_add(&set, a) != NULL);
    es_outset_abort(&set);
    CHECK(es_path_exists(a) && count_entries(dir) == before + 2);
    unlink(a);
    unlink(b);
    /* a commit that fails midway removes what it had already put in place */
    CHECK(es_outset_add(&set, a) != NULL);
    snprintf(b, sizeof b, "%s/gone/x.json", dir);
    es_outset s2 = {0};
    (void)s2;
    CHECK(es_outset_add(&set, b) == NULL); /* a missing folder is refused at once */
    snprintf(b, sizeof b, "%s/later.json", dir);
    const char *t3 = es_outset_add(&set, b);
    CHECK(t3 != NULL);
    if (t3) unlink(t3); /* the rename of this one will fail */
    CHECK(es_outset_commit(&set) != 0);
    CHECK(!es_path_exists(a) && !es_path_exists(b) && count_entries(dir) == before);

    /* the clean-up table is bounded: the 33rd output open at once is refused, not left unguarded */
    es_outfile many[33];
    int opened = 0;
    for (int i = 0; i < 33; i++) {
        snprintf(a, sizeof a, "%s/m%d.bin", dir, i);
        if (es_outfile_open(&many[i], a) == 0) opened++;
    }
    CHECK(opened == 32 && strstr(es_error(), "too many outputs"));
    for (int i = 0; i < opened; i++) es_outfile_abort(&many[i]);
    CHECK(count_entries(dir) == before);

    unlink(link_path);
    unlink(final);
    rmdir(dir);
}

/* A child with two outputs pending gets SIGTERM: it dies of it and leaves no temp file; with
 * SIGTERM ignored from the start, it stays ignored. */
static void test_signal_cleanup(void)
{
    char dir[] = "/tmp/es-sig-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    for (int ignored = 0; ignored < 2; ignored++) {
        int ready[2];
        CHECK(pipe(ready) == 0);
        pid_t pid = fork();
        if (pid == 0) {
            if (ignored) signal(SIGTERM, SIG_IGN);
            char p1[256], p2[256];
            snprintf(p1, sizeof p1, "%s/a.mp4", dir);
            snprintf(p2, sizeof p2, "%s/b.json", dir);
            es_outfile o1, o2;
            if (es_outfile_open(&o1, p1) || es_outfile_open(&o2, p2)) _exit(3);
            if (write(ready[1], "x", 1) != 1) _exit(4);
            for (int i = 0; i < 200; i++) usleep(10000);
            es_outfile_abort(&o1);
            es_outfile_abort(&o2);
            _exit(5);
        }
        char c;
        close(ready[1]);
        CHECK(read(ready[0], &c, 1) == 1);
        close(ready[0]);
        CHECK(count_entries(dir) == 2);
        kill(pid, SIGTERM);
        int status = 0;
        waitpid(pid, &status, 0);
        if (!ignored) CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
        else CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 5);
        CHECK(count_entries(dir) == 0);
    }
    rmdir(dir);
}

/* Threads follow the CPUs the process may run on, not every online CPU: pinned to one CPU, a
 * pool of two spinning threads took seven times as long. */
static void test_cpu_count(void)
{
    cpu_set_t all, one;
    CHECK(sched_getaffinity(0, sizeof all, &all) == 0);
    int allowed = CPU_COUNT(&all);
    unsetenv("EMSYNC_THREADS");
    CHECK(es_cpu_count() == allowed);
    int first = 0;
    while (!CPU_ISSET(first, &all)) first++;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    CHECK(sched_setaffinity(0, sizeof one, &one) == 0);
    CHECK(es_cpu_count() == 1);
    setenv("EMSYNC_THREADS", "3", 1); /* the user's word wins */
    CHECK(es_cpu_count() == 3);
    setenv("EMSYNC_THREADS", "0", 1); /* out of range: ignored */
    CHECK(es_cpu_count() == 1);
    unsetenv("EMSYNC_THREADS");
    CHECK(sched_setaffinity(0, sizeof all, &all) == 0);
    CHECK(es_cpu_count() == allowed);
}

int main(void)
{
    test_cpu_count();
    test_parse();
    test_json();
    test_outfile();
    test_signal_cleanup();
    test_progress_tty(); /* first: the terminal test is made once per process */
    test_progress();
    return check_report("test_core");
}
