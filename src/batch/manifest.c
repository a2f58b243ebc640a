/* Batch job lists from a folder or a manifest (CSV or JSON Lines). See manifest.h. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "batch/manifest.h"
#include "core/error.h"
#include "core/json.h"
#include "core/jsonread.h"

void es_batch_row_fail(es_batch_row *row, const char *fmt, ...)
{
    if (row->error) return;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&row->error, fmt, ap) < 0) row->error = NULL;
    va_end(ap);
}

static void row_free(es_batch_row *r)
{
    free(r->input);
    free(r->output);
    for (size_t i = 0; i < r->n_options; i++) {
        free(r->options[i].name);
        free(r->options[i].value);
    }
    free(r->options);
    free(r->error);
}

void es_batch_list_free(es_batch_list *l)
{
    for (size_t i = 0; i < l->n; i++) row_free(&l->rows[i]);
    free(l->rows);
    l->rows = NULL;
    l->n = 0;
}

static es_batch_row *add_row(es_batch_list *l, size_t *cap, int line)
{
    if (l->n >= ES_BATCH_MAX_ROWS) {
        es_fail("more than %d rows", ES_BATCH_MAX_ROWS);
        return NULL;
    }
    if (es_grow((void **)&l->rows, cap, l->n + 1, sizeof *l->rows)) return NULL;
    es_batch_row *r = &l->rows[l->n++];
    memset(r, 0, sizeof *r);
    r->line = line;
    return r;
}

static int valid_utf8(const char *s)
{
    while (*s) {
        int n = es_utf8_sequence(s);
        if (n <= 0) return 0;
        s += n;
    }
    return 1;
}

/* A path from the manifest, relative to its folder. NULL (and a row error) when it is empty or
 * not UTF-8, so that the summary can name it. */
static char *resolve(es_batch_row *row, const char *dir, const char *what, const char *path)
{
    if (!path[0]) {
        es_batch_row_fail(row, "the %s is empty", what);
        return NULL;
    }
    /* kept even when not UTF-8, so that the summary names it (with U+FFFD for the bad bytes) */
    if (!valid_utf8(path)) es_batch_row_fail(row, "the %s path is not valid UTF-8", what);
    char *out;
    if (path[0] == '/' || !strcmp(dir, ".")) out = strdup(path);
    else if (asprintf(&out, "%s/%s", dir, path) < 0) out = NULL;
    if (!out) es_batch_row_fail(row, "out of memory");
    return out;
}

static int add_option(es_batch_row *row, size_t *cap, const char *name, const char *value)
{
    if (es_grow((void **)&row->options, cap, row->n_options + 1, sizeof *row->options)) return -1;
    es_batch_option *o = &row->options[row->n_options];
    o->name = strdup(name);
    o->value = value ? strdup(value) : NULL;
    if (!o->name || (value && !o->value)) {
        free(o->name);
        free(o->value);
        return es_fail("out of memory");
    }
    row->n_options++;
    return 0;
}

/* An option cell: path options resolved like input and output. */
static int add_cell(es_batch_row *row, size_t *cap, const char *dir, int (*path_option)(const char *),
                    const char *name, const char *value)
{
    if (!value || !path_option || !path_option(name) || !value[0]) return add_option(row, cap, name, value);
    char *p = resolve(row, dir, name, value);
    int rc = p ? add_option(row, cap, name, p) : 0;
    free(p);
    return rc;
}

static const char *strip_dashes(const char *s)
{
    return !strncmp(s, "--", 2) ? s + 2 : s;
}

/* ---- CSV (RFC 4180: quoted fields, "" inside quotes, CRLF or LF) ---- */

typedef struct {
    char **fields;
    size_t n, cap;
} csv_record;

static void record_clear(csv_record *r)
{
    for (size_t i = 0; i < r->n; i++) free(r->fields[i]);
    r->n = 0;
}

/* Reads one record from *p; advances *p and *line. Returns 1 with a record, 0 at the end, -1 on
 * error (es_fail). */
static int csv_next(const char **p, const char *end, int *line, csv_record *rec)
{
    record_clear(rec);
    if (*p >= end) return 0;
    char *field = NULL;
    size_t len = 0, cap = 0;
    int quoted = 0, was_quoted = 0;
    for (;;) {
        int at_end = *p >= end;
        char c = at_end ? '\n' : **p;
        if (!at_end) (*p)++;
        if (quoted) {
            if (at_end) {
                free(field);
                return es_fail("a quoted field is not closed");
            }
            if (c == '"') {
                if (*p < end && **p == '"') (*p)++;
                else {
                    quoted = 0;
                    continue;
                }
            } else if (c == '\n') (*line)++;
        } else if (c == '"' && len == 0 && !was_quoted) {
            quoted = was_quoted = 1;
            continue;
        } else if (c == ',' || c == '\n' || (c == '\r' && (*p >= end || **p == '\n'))) {
            if (c == '\r') (*p)++;
            if (es_grow((void **)&rec->fields, &rec->cap, rec->n + 1, sizeof *rec->fields) ||
                es_grow((void **)&field, &cap, len + 1, 1)) {
                free(field);
                return -1;
            }
            field[len] = '\0';
            rec->fields[rec->n++] = field;
            field = NULL;
            len = cap = 0;
            was_quoted = 0;
            if (c != ',') {
                (*line)++;
                return 1;
            }
            continue;
        }
        if (c == '\0') {
            free(field);
            return es_fail("a field holds a NUL byte");
        }
        if (es_grow((void **)&field, &cap, len + 2, 1)) {
            free(field);
            return -1;
        }
        field[len++] = c;
    }
}

static void trim(char *s)
{
    size_t n = strlen(s), a = 0;
    while (n > 0 && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    while (isspace((unsigned char)s[a])) a++;
    memmove(s, s + a, n - a + 1);
}

static int blank_record(const csv_record *r)
{
    return r->n == 1 && r->fields[0][0] == '\0';
}

static int read_csv(const char *text, size_t len, const char *dir, int (*path_option)(const char *),
                    es_batch_list *out)
{
    const char *p = text, *end = text + len;
    int line = 1, rc = -1;
    if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) p += 3; /* a spreadsheet's byte order mark */
    csv_record header = {0}, rec = {0};
    size_t cap = 0;
    int input_col = -1, output_col = -1;
    /* the header: the first record that is not blank or a comment */
    for (;;) {
        int header_line = line;
        int got = csv_next(&p, end, &line, &header);
        if (got < 0) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s", es_error());
            es_fail("line %d: %s", header_line, msg);
            goto end;
        }
        if (got == 0) {
            es_fail("no header row (input,output,...)");
            goto end;
        }
        if (!blank_record(&header) && header.fields[0][0] != '#') break;
    }
    for (size_t i = 0; i < header.n; i++) {
        trim(header.fields[i]);
        const char *name = strip_dashes(header.fields[i]);
        if (!strcmp(name, "input")) input_col = (int)i;
        else if (!strcmp(name, "output")) output_col = (int)i;
    }
    if (input_col < 0) {
        es_fail("the header row has no 'input' column (it names the columns: input,output,...)");
        goto end;
    }
    for (;;) {
        int row_line = line;
        int got = csv_next(&p, end, &line, &rec);
        if (got == 0) break;
        if (got > 0 && (blank_record(&rec) || rec.fields[0][0] == '#')) continue;
        es_batch_row *row = add_row(out, &cap, row_line);
        if (!row) goto end;
        if (got < 0) {
            es_batch_row_fail(row, "%s", es_error());
            break; /* an unclosed quote swallows the rest of the file */
        }
        if (rec.n != header.n) {
            es_batch_row_fail(row, "%zu fields, but the header has %zu", rec.n, header.n);
            continue;
        }
        size_t opt_cap = 0;
        for (size_t i = 0; i < rec.n; i++) {
            const char *cell = rec.fields[i];
            if ((int)i == input_col) row->input = resolve(row, dir, "input", cell);
            else if ((int)i == output_col) {
                if (cell[0]) row->output = resolve(row, dir, "output", cell);
            } else if (cell[0]) {
                const char *name = strip_dashes(header.fields[i]);
                if (!name[0]) es_batch_row_fail(row, "a value in a column without a name (column %zu)", i + 1);
                else if (!valid_utf8(cell)) es_batch_row_fail(row, "the value of '%s' is not valid UTF-8", name);
                else if (add_cell(row, &opt_cap, dir, path_option, name, cell)) goto end;
            }
        }
    }
    rc = 0;
end:
    record_clear(&header);
    record_clear(&rec);
    free(header.fields);
    free(rec.fields);
    return rc;
}

/* ---- JSON Lines ---- */

static void json_row(es_batch_row *row, const char *text, size_t len, const char *dir,
                     int (*path_option)(const char *))
{
    es_jv *v = es_jv_parse(text, len);
    if (!v) {
        const char *msg = es_error();
        if (!strncmp(msg, "line 1: ", 8)) msg += 8;
        es_batch_row_fail(row, "%s", msg);
        return;
    }
    size_t cap = 0;
    if (v->type != ES_JV_OBJECT) {
        es_batch_row_fail(row, "a row must be a JSON object, not %s", es_jv_type_name(v->type));
        goto end;
    }
    for (size_t i = 0; i < v->n; i++) {
        const char *name = strip_dashes(v->keys[i]);
        const es_jv *item = &v->items[i];
        char num[64];
        const char *value;
        if (item->type == ES_JV_STRING) value = item->string;
        else if (item->type == ES_JV_NUMBER) {
            snprintf(num, sizeof num, "%.17g", item->number);
            value = num;
        } else if (item->type == ES_JV_BOOL || item->type == ES_JV_NULL) {
            value = item->type == ES_JV_BOOL && item->boolean ? "1" : NULL;
        } else {
            es_batch_row_fail(row, "'%s' must be a string, a number or a boolean, not %s", name,
                              es_jv_type_name(item->type));
            continue;
        }
        int is_io = !strcmp(name, "input") || !strcmp(name, "output");
        if (is_io && item->type != ES_JV_STRING && item->type != ES_JV_NULL) {
            es_batch_row_fail(row, "'%s' must be a path (a string)", name);
        } else if (!strcmp(name, "input")) {
            free(row->input);
            row->input = value ? resolve(row, dir, "input", value) : NULL;
        } else if (!strcmp(name, "output")) {
            free(row->output);
            row->output = value ? resolve(row, dir, "output", value) : NULL;
        } else if (value && add_cell(row, &cap, dir, path_option, name, value)) {
            es_batch_row_fail(row, "out of memory");
            goto end;
        }
    }
end:
    es_jv_free(v);
}

static int read_jsonl(const char *text, size_t len, const char *dir, int (*path_option)(const char *),
                      es_batch_list *out)
{
    const char *p = text, *end = text + len;
    size_t cap = 0;
    if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) p += 3;
    for (int line = 1; p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        const char *q = p;
        while (q < stop && isspace((unsigned char)*q)) q++;
        if (q < stop && *q != '#') {
            es_batch_row *row = add_row(out, &cap, line);
            if (!row) return -1;
            json_row(row, p, (size_t)(stop - p), dir, path_option);
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
}

static int read_all(const char *path, char **text, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return es_fail("%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
        fclose(f);
        return es_fail("%s: not a folder or a manifest file", path);
    }
    size_t cap = 0;
    *text = NULL;
    *len = 0;
    for (;;) {
        if (es_grow((void **)text, &cap, *len + 65536, 1)) break;
        size_t got = fread(*text + *len, 1, cap - *len, f);
        *len += got;
        if (*len > ES_BATCH_MAX_BYTES) {
            es_fail("%s: larger than %u MB", path, ES_BATCH_MAX_BYTES >> 20);
            break;
        }
        if (got == 0) {
            fclose(f);
            if (*len == 0) {
                free(*text);
                *text = NULL;
                return es_fail("%s: empty manifest", path);
            }
            return 0;
        }
    }
    fclose(f);
    free(*text);
    *text = NULL;
    return -1;
}

int es_batch_read_manifest(const char *path, int (*path_option)(const char *name), es_batch_list *out)
{
    memset(out, 0, sizeof *out);
    char *text;
    size_t len;
    if (read_all(path, &text, &len)) return -1;
    char *copy = strdup(path);
    if (!copy) {
        free(text);
        return es_fail("out of memory");
    }
    char *slash = strrchr(copy, '/');
    const char *dir = ".";
    if (slash == copy) dir = "/";
    else if (slash) {
        *slash = '\0';
        dir = copy;
    }
    const char *ext = strrchr(path, '.');
    int jsonl;
    if (ext && !strcasecmp(ext, ".csv")) jsonl = 0;
    else if (ext && (!strcasecmp(ext, ".jsonl") || !strcasecmp(ext, ".ndjson") || !strcasecmp(ext, ".json")))
        jsonl = 1;
    else {
        size_t i = 0;
        while (i < len && isspace((unsigned char)text[i])) i++;
        jsonl = i < len && text[i] == '{';
    }
    int rc = jsonl ? read_jsonl(text, len, dir, path_option, out) : read_csv(text, len, dir, path_option, out);
    if (rc) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", es_error());
        es_fail("%s: %s", path, msg);
        es_batch_list_free(out);
    } else if (out->n == 0) {
        rc = es_fail("%s: no rows", path);
    }
    free(copy);
    free(text);
    return rc;
}

/* ---- folders ---- */

int es_batch_is_video_name(const char *name)
{
    static const char *const exts[] = {"mp4", "m4v", "mov", "mkv", "webm", "avi", "mpg", "mpeg", "ogv",
                                       "wmv", "flv", "ts", "mts", "m2ts", "3gp", "vob", "dv", NULL};
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name) return 0;
    for (int i = 0; exts[i]; i++)
        if (!strcasecmp(dot + 1, exts[i])) return 1;
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const es_batch_row *)a)->input, ((const es_batch_row *)b)->input);
}

int es_batch_read_folder(const char *dir, es_batch_list *out)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d) return es_fail("%s: %s", dir, strerror(errno));
    size_t cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        /* hidden files, and results of an earlier run that may sit in the same folder */
        if (e->d_name[0] == '.' || strstr(e->d_name, ".emsync.") || !es_batch_is_video_name(e->d_name)) continue;
        es_batch_row *row = add_row(out, &cap, 0);
        int dir_len = (int)strlen(dir);
        while (dir_len > 1 && dir[dir_len - 1] == '/') dir_len--; /* "videos/" names "videos/a.mp4" */
        if (!row || asprintf(&row->input, "%.*s/%s", dir_len, dir, e->d_name) < 0) {
            if (row) row->input = NULL;
            rc = es_fail("out of memory");
            break;
        }
        struct stat st;
        if (!valid_utf8(e->d_name)) es_batch_row_fail(row, "the input path is not valid UTF-8");
        else if (stat(row->input, &st) || !S_ISREG(st.st_mode)) es_batch_row_fail(row, "not a regular file");
    }
    closedir(d);
    if (rc) es_batch_list_free(out);
    else if (out->n == 0) rc = es_fail("%s: no video files (by extension: .mp4, .mkv, .mov, .webm, .avi, ...)", dir);
    else qsort(out->rows, out->n, sizeof *out->rows, by_name);
    return rc;
}
