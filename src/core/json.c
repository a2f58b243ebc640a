/* Streaming JSON writer (see json.h). */
#include <math.h>
#include <stdlib.h>

#include "core/json.h"

void es_json_init(es_json *j, FILE *out, int pretty)
{
    *j = (es_json){0};
    j->out = out;
    j->pretty = pretty;
}

static void indent(es_json *j)
{
    if (!j->pretty) return;
    fputc('\n', j->out);
    for (int i = 0; i < j->depth; i++) fputs("  ", j->out);
}

/* Writes the separator owed before a value (none right after a key). */
static void before_value(es_json *j)
{
    if (j->after_key) {
        j->after_key = 0;
        return;
    }
    if (j->depth > 0) {
        if (j->need_comma[j->depth]) fputc(',', j->out);
        indent(j);
        j->need_comma[j->depth] = 1;
    }
}

static void open(es_json *j, char c)
{
    if (j->skip || j->depth == ES_JSON_MAX_DEPTH) {
        if (!j->skip) es_json_null(j);
        j->skip++;
        j->truncated = 1;
        return;
    }
    before_value(j);
    fputc(c, j->out);
    j->depth++;
    j->need_comma[j->depth] = 0;
}

static void close_(es_json *j, char c)
{
    if (j->skip) {
        j->skip--;
        return;
    }
    if (j->depth == 0) return; /* unbalanced close: ignore rather than write invalid JSON */
    int had_items = j->need_comma[j->depth];
    j->depth--;
    if (had_items) indent(j);
    fputc(c, j->out);
    if (j->depth == 0 && j->pretty) fputc('\n', j->out);
}

void es_json_begin_object(es_json *j) { open(j, '{'); }
void es_json_end_object(es_json *j) { close_(j, '}'); }
void es_json_begin_array(es_json *j) { open(j, '['); }
void es_json_end_array(es_json *j) { close_(j, ']'); }

int es_utf8_sequence(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    if (p[0] < 0x80) return p[0] ? 1 : 0;
    int n = p[0] >= 0xF0 && p[0] <= 0xF4 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC2 && p[0] < 0xE0 ? 2 : 0;
    if (!n) return 0;
    for (int i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    /* no overlong forms, no surrogates, nothing above U+10FFFF */
    if (n == 3 && ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0))) return 0;
    if (n == 4 && ((p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] >= 0x90))) return 0;
    return n;
}

static void write_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p >= 0x80) {
            /* bytes that are not UTF-8 (a Latin-1 file name, say) would make the file invalid */
            int n = es_utf8_sequence((const char *)p);
            if (n) fwrite(p, 1, (size_t)n, out), p += n - 1;
            else fputs("\\ufffd", out);
            continue;
        }
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 0x20) fprintf(out, "\\u%04x", *p);
            else fputc(*p, out);
        }
    }
    fputc('"', out);
}

void es_json_key(es_json *j, const char *key)
{
    if (j->skip) return;
    before_value(j);
    write_string(j->out, key);
    fputs(j->pretty ? ": " : ":", j->out);
    j->after_key = 1;
}

void es_json_string(es_json *j, const char *s)
{
    if (j->skip) return;
    before_value(j);
    write_string(j->out, s);
}

void es_json_number(es_json *j, double v)
{
    if (j->skip) return;
    before_value(j);
    if (isfinite(v)) fprintf(j->out, "%.6g", v);
    else fputs("null", j->out);
}

void es_json_number_exact(es_json *j, double v)
{
    if (j->skip) return;
    before_value(j);
    if (!isfinite(v)) {
        fputs("null", j->out);
        return;
    }
    /* the fewest digits (from %.6g's six) that read back as the same double */
    char text[40];
    for (int digits = 6; digits <= 17; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, v);
        if (strtod(text, NULL) == v) break;
    }
    fputs(text, j->out);
}

void es_json_int(es_json *j, long long v)
{
    if (j->skip) return;
    before_value(j);
    fprintf(j->out, "%lld", v);
}

void es_json_bool(es_json *j, int v)
{
    if (j->skip) return;
    before_value(j);
    fputs(v ? "true" : "false", j->out);
}

void es_json_null(es_json *j)
{
    if (j->skip) return;
    before_value(j);
    fputs("null", j->out);
}

int es_json_truncated(const es_json *j) { return j->truncated; }

void es_json_kv_string(es_json *j, const char *key, const char *s) { es_json_key(j, key); es_json_string(j, s); }
void es_json_kv_number(es_json *j, const char *key, double v) { es_json_key(j, key); es_json_number(j, v); }
void es_json_kv_number_exact(es_json *j, const char *key, double v) { es_json_key(j, key); es_json_number_exact(j, v); }
void es_json_kv_int(es_json *j, const char *key, long long v) { es_json_key(j, key); es_json_int(j, v); }
