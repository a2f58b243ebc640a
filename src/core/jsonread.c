/* Strict JSON reader: recursive descent over a byte range, one error line naming where it
 * stopped. See jsonread.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "core/jsonread.h"

typedef struct {
    const char *p, *end;
    int line;
    int depth;
} reader;

static int fail_at(const reader *r, const char *what)
{
    return es_fail("line %d: %s", r->line, what);
}

static void skip_space(reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) {
        if (*r->p == '\n') r->line++;
        r->p++;
    }
}

static int literal(reader *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n)) return fail_at(r, "not valid JSON");
    r->p += n;
    return 0;
}

/* Strict number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int number(reader *r, double *out)
{
    const char *s = r->p;
#define DIGITS(min)                                                                   \
    do {                                                                              \
        const char *d_ = r->p;                                                        \
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9') r->p++;                 \
        if (r->p - d_ < (min)) return fail_at(r, "a number is malformed");            \
    } while (0)
    if (r->p < r->end && *r->p == '-') r->p++;
    if (r->p < r->end && *r->p == '0') r->p++;
    else DIGITS(1);
    if (r->p < r->end && *r->p == '.') {
        r->p++;
        DIGITS(1);
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-')) r->p++;
        DIGITS(1);
    }
#undef DIGITS
    char buf[64];
    size_t n = (size_t)(r->p - s);
    if (n >= sizeof buf) return fail_at(r, "a number is too long");
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    *out = strtod(buf, NULL);
    if (!isfinite(*out)) return fail_at(r, "a number is out of range");
    return 0;
}

static int hex4(reader *r, unsigned *out)
{
    if (r->end - r->p < 4) return fail_at(r, "a \\u escape is cut short");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = *r->p++;
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return fail_at(r, "a \\u escape is not hexadecimal");
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | cp >> 6); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12); o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18); o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length of the valid UTF-8 sequence at p (shortest form, no surrogates, <= U+10FFFF), or 0. */
static size_t utf8_length(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n;
    unsigned cp, min;
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) { n = 2; cp = c & 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { n = 3; cp = c & 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { n = 4; cp = c & 0x07; min = 0x10000; }
    else return 0;
    if ((size_t)(end - p) < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

/* A string body after its opening quote; the result is newly allocated. Escapes never grow the
 * text, so the raw length bounds the decoded one. */
static int string(reader *r, char **out)
{
    const char *start = r->p;
    while (r->p < r->end && *r->p != '"') r->p += (*r->p == '\\' && r->p + 1 < r->end) ? 2 : 1;
    if (r->p >= r->end) return fail_at(r, "a string is not closed");
    const char *stop = r->p;
    char *s = es_malloc((size_t)(stop - start) + 1), *o = s;
    if (!s) return -1;
    r->p = start;
    while (r->p < stop) {
        unsigned char c = (unsigned char)*r->p;
        if (c < 0x20) goto bad_control;
        if (c != '\\') {
            size_t n = utf8_length((const unsigned char *)r->p, (const unsigned char *)stop);
            if (!n) goto bad_utf8;
            memcpy(o, r->p, n);
            o += n;
            r->p += n;
            continue;
        }
        r->p++;
        char e = *r->p++;
        unsigned cp;
        switch (e) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u':
            if (hex4(r, &cp)) goto fail;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (stop - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u') goto bad_surrogate;
                r->p += 2;
                if (hex4(r, &lo)) goto fail;
                if (lo < 0xDC00 || lo > 0xDFFF) goto bad_surrogate;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) goto bad_surrogate;
            if (cp == 0) {
                fail_at(r, "a string holds \\u0000");
                goto fail;
            }
            o += put_utf8(o, cp);
            break;
        default:
            fail_at(r, "a string has an unknown escape");
            goto fail;
        }
    }
    *o = '\0';
    r->p = stop + 1;
    *out = s;
    return 0;
bad_control:
    fail_at(r, "a string holds a control character");
    goto fail;
bad_utf8:
    fail_at(r, "a string is not valid UTF-8");
    goto fail;
bad_surrogate:
    fail_at(r, "a string has a broken \\u surrogate pair");
fail:
    free(s);
    return -1;
}

static int value(reader *r, es_jv *v);

/* Appends a zeroed item (and, for objects, its key slot) to the container. */
static es_jv *add_item(es_jv *v, size_t *cap)
{
    if (v->n == *cap) {
        size_t want = *cap ? *cap * 2 : 4;
        es_jv *items = es_realloc(v->items, want * sizeof *items);
        if (!items) return NULL;
        v->items = items;
        if (v->type == ES_JV_OBJECT) {
            char **keys = es_realloc(v->keys, want * sizeof *keys);
            if (!keys) return NULL;
            v->keys = keys;
        }
        *cap = want;
    }
    es_jv *item = &v->items[v->n];
    memset(item, 0, sizeof *item);
    if (v->type == ES_JV_OBJECT) v->keys[v->n] = NULL;
    v->n++;
    return item;
}

static int container(reader *r, es_jv *v, char close)
{
    if (++r->depth > ES_JV_MAX_DEPTH) return fail_at(r, "nested too deep");
    size_t cap = 0;
    r->p++;
    skip_space(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        r->depth--;
        return 0;
    }
    for (;;) {
        es_jv *item = add_item(v, &cap);
        if (!item) return -1;
        skip_space(r);
        if (v->type == ES_JV_OBJECT) {
            if (r->p >= r->end || *r->p != '"') return fail_at(r, "an object key must be a string");
            r->p++;
            if (string(r, &v->keys[v->n - 1])) return -1;
            skip_space(r);
            if (r->p >= r->end || *r->p != ':') return fail_at(r, "':' expected after an object key");
            r->p++;
        }
        if (value(r, item)) return -1;
        skip_space(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == close) break;
        return fail_at(r, close == ']' ? "',' or ']' expected" : "',' or '}' expected");
    }
    r->p++;
    r->depth--;
    return 0;
}

static int value(reader *r, es_jv *v)
{
    skip_space(r);
    v->line = r->line;
    if (r->p >= r->end) return fail_at(r, "a value is missing (the text ends)");
    switch (*r->p) {
    case '{': v->type = ES_JV_OBJECT; return container(r, v, '}');
    case '[': v->type = ES_JV_ARRAY; return container(r, v, ']');
    case '"': v->type = ES_JV_STRING; r->p++; return string(r, &v->string);
    case 't': v->type = ES_JV_BOOL; v->boolean = 1; return literal(r, "true");
    case 'f': v->type = ES_JV_BOOL; return literal(r, "false");
    case 'n': v->type = ES_JV_NULL; return literal(r, "null");
    default:
        if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9')) {
            v->type = ES_JV_NUMBER;
            return number(r, &v->number);
        }
        return fail_at(r, "not valid JSON");
    }
}

static void free_inside(es_jv *v)
{
    free(v->string);
    for (size_t i = 0; i < v->n; i++) {
        free_inside(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
}

void es_jv_free(es_jv *v)
{
    if (!v) return;
    free_inside(v);
    free(v);
}

es_jv *es_jv_parse(const char *text, size_t len)
{
    reader r = {text, text + len, 1, 0};
    es_jv *v = es_calloc(1, sizeof *v);
    if (!v) return NULL;
    /* a UTF-8 byte order mark is tolerated: editors on some systems add one */
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) r.p += 3;
    if (value(&r, v) == 0) {
        skip_space(&r);
        if (r.p == r.end) return v;
        fail_at(&r, "text follows the JSON value");
    }
    es_jv_free(v);
    return NULL;
}

const es_jv *es_jv_get(const es_jv *v, const char *key)
{
    if (!v || v->type != ES_JV_OBJECT) return NULL;
    for (size_t i = v->n; i-- > 0;)
        if (!strcmp(v->keys[i], key)) return &v->items[i];
    return NULL;
}

es_jv *es_jv_parse_file(const char *path, size_t max_bytes)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        es_fail("%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && !S_ISREG(st.st_mode)) {
        fclose(f);
        es_fail("%s: not a regular file", path);
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int failed = 0;
    for (;;) {
        if (es_grow((void **)&buf, &cap, len + 65536, 1)) { failed = 1; break; }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (len > max_bytes) {
            es_fail("%s: larger than %zu bytes", path, max_bytes);
            failed = 1;
            break;
        }
        if (got == 0) {
            if (ferror(f)) {
                es_fail("%s: %s", path, strerror(errno ? errno : EIO));
                failed = 1;
            }
            break;
        }
    }
    fclose(f);
    es_jv *v = NULL;
    if (!failed && len == 0) es_fail("%s: empty file", path);
    else if (!failed && !(v = es_jv_parse(buf, len))) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", es_error());
        es_fail("%s: %s", path, msg);
    }
    free(buf);
    return v;
}

const char *es_jv_type_name(es_jv_type t)
{
    switch (t) {
    case ES_JV_NULL: return "null";
    case ES_JV_BOOL: return "a boolean";
    case ES_JV_NUMBER: return "a number";
    case ES_JV_STRING: return "a string";
    case ES_JV_ARRAY: return "an array";
    case ES_JV_OBJECT: return "an object";
    }
    return "a value";
}
