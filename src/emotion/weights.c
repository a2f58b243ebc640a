/* tfjs weight manifests and shards, read as hostile input, plus the small JSON reader they need.
 * Layout (tfjs "weights manifest"): an array of groups {"paths": [shard...], "weights": [{name,
 * shape, dtype, quantization?}]}; each group's shards are concatenated and its tensors read in
 * order from that byte stream. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "emotion/weights.h"

/* ------------------------------------------------------------------------------------------ */
/* JSON                                                                                        */

typedef struct {
    const char *s;   /* NUL-terminated copy of the text */
    size_t n, pos;
    const char *what;
    int depth;
} jparser;

static void jfree_inner(es_jval *v)
{
    if (!v) return;
    free(v->str);
    for (size_t i = 0; i < v->count; i++) {
        jfree_inner(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
}

void es_jval_free(es_jval *v)
{
    jfree_inner(v);
    free(v);
}

static void jskip(jparser *p)
{
    while (p->pos < p->n && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
                             p->s[p->pos] == '\r'))
        p->pos++;
}

static int jerr(jparser *p, const char *msg)
{
    return es_fail("%s: invalid JSON at byte %zu (%s)", p->what, p->pos, msg);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int jread4(jparser *p, unsigned *cp)
{
    if (p->n - p->pos < 4) return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p->s[p->pos + i]);
        if (h < 0) return -1;
        v = v * 16 + (unsigned)h;
    }
    p->pos += 4;
    *cp = v;
    return 0;
}

/* Parses a string at p->pos (which is at the opening quote) into a new allocation. */
static char *jstring(jparser *p)
{
    p->pos++;
    size_t start = p->pos, len = 0;
    /* first pass: find the end; the decoded form is never longer than the raw form */
    while (p->pos < p->n && p->s[p->pos] != '"') {
        if (p->s[p->pos] == '\\') p->pos++;
        p->pos++;
    }
    if (p->pos >= p->n) {
        jerr(p, "unterminated string");
        return NULL;
    }
    size_t end = p->pos;
    char *out = es_malloc(end - start + 1);
    if (!out) return NULL;
    for (size_t i = start; i < end; i++) {
        unsigned char c = (unsigned char)p->s[i];
        if (c < 0x20) {
            p->pos = i;
            jerr(p, "control character in string");
            free(out);
            return NULL;
        }
        if (c != '\\') {
            out[len++] = (char)c;
            continue;
        }
        char e = p->s[++i];
        switch (e) {
        case '"': out[len++] = '"'; break;
        case '\\': out[len++] = '\\'; break;
        case '/': out[len++] = '/'; break;
        case 'b': out[len++] = '\b'; break;
        case 'f': out[len++] = '\f'; break;
        case 'n': out[len++] = '\n'; break;
        case 'r': out[len++] = '\r'; break;
        case 't': out[len++] = '\t'; break;
        case 'u': {
            unsigned cp;
            size_t save = p->pos;
            p->pos = i + 1;
            if (p->pos + 4 > end || jread4(p, &cp)) {
                jerr(p, "bad \\u escape");
                free(out);
                return NULL;
            }
            i = p->pos - 1;
            p->pos = save;
            /* a lone surrogate is replaced rather than combined: names here are ASCII */
            if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
            if (cp < 0x80) {
                out[len++] = (char)cp;
            } else if (cp < 0x800) {
                out[len++] = (char)(0xC0 | (cp >> 6));
                out[len++] = (char)(0x80 | (cp & 0x3F));
            } else {
                /* 3 bytes from 6 raw bytes: still within the allocation */
                out[len++] = (char)(0xE0 | (cp >> 12));
                out[len++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                out[len++] = (char)(0x80 | (cp & 0x3F));
            }
            break;
        }
        default:
            p->pos = i;
            jerr(p, "bad escape");
            free(out);
            return NULL;
        }
    }
    out[len] = '\0';
    p->pos = end + 1;
    return out;
}

static int jvalue(jparser *p, es_jval *v);

static int jpush(es_jval *v, size_t *cap, char *key)
{
    if (es_grow((void **)&v->items, cap, v->count + 1, sizeof *v->items)) return -1;
    if (v->type == ES_JOBJ) {
        size_t kcap = *cap;
        char **k = es_realloc(v->keys, kcap * sizeof *k);
        if (!k) return -1;
        v->keys = k;
        v->keys[v->count] = key;
    }
    memset(&v->items[v->count], 0, sizeof v->items[0]);
    v->count++;
    return 0;
}

static int jcontainer(jparser *p, es_jval *v, char close)
{
    size_t cap = 0;
    if (++p->depth > 64) return jerr(p, "nested too deeply");
    p->pos++;
    jskip(p);
    if (p->pos < p->n && p->s[p->pos] == close) {
        p->pos++;
        p->depth--;
        return 0;
    }
    for (;;) {
        char *key = NULL;
        jskip(p);
        if (v->type == ES_JOBJ) {
            if (p->pos >= p->n || p->s[p->pos] != '"') return jerr(p, "expected a key");
            key = jstring(p);
            if (!key) return -1;
            jskip(p);
            if (p->pos >= p->n || p->s[p->pos] != ':') {
                free(key);
                return jerr(p, "expected ':'");
            }
            p->pos++;
        }
        if (jpush(v, &cap, key)) {
            free(key);
            return -1;
        }
        if (jvalue(p, &v->items[v->count - 1])) return -1;
        jskip(p);
        if (p->pos >= p->n) return jerr(p, "unexpected end");
        if (p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->s[p->pos] == close) {
            p->pos++;
            p->depth--;
            return 0;
        }
        return jerr(p, "expected ',' or a closing bracket");
    }
}

static int jvalue(jparser *p, es_jval *v)
{
    jskip(p);
    if (p->pos >= p->n) return jerr(p, "unexpected end");
    char c = p->s[p->pos];
    if (c == '{') {
        v->type = ES_JOBJ;
        return jcontainer(p, v, '}');
    }
    if (c == '[') {
        v->type = ES_JARR;
        return jcontainer(p, v, ']');
    }
    if (c == '"') {
        v->type = ES_JSTR;
        v->str = jstring(p);
        return v->str ? 0 : -1;
    }
    static const struct { const char *word; es_jtype type; double num; } words[] = {
        {"true", ES_JBOOL, 1}, {"false", ES_JBOOL, 0}, {"null", ES_JNULL, 0}};
    for (size_t i = 0; i < 3; i++) {
        size_t len = strlen(words[i].word);
        if (p->n - p->pos >= len && !memcmp(p->s + p->pos, words[i].word, len)) {
            v->type = words[i].type;
            v->num = words[i].num;
            p->pos += len;
            return 0;
        }
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        char *end = NULL;
        errno = 0;
        double d = strtod(p->s + p->pos, &end);
        if (end == p->s + p->pos || !isfinite(d)) return jerr(p, "bad number");
        /* strtod also reads hex floats ("0x1p3"), which JSON does not have */
        for (const char *q = p->s + p->pos; q < end; q++)
            if (!strchr("0123456789+-.eE", *q)) return jerr(p, "bad number");
        v->type = ES_JNUM;
        v->num = d;
        p->pos = (size_t)(end - p->s);
        return 0;
    }
    return jerr(p, "unexpected character");
}

es_jval *es_jval_parse(const char *text, size_t n, const char *what)
{
    char *copy = NULL;
    es_jval *v = NULL;
    copy = es_malloc(n + 1);
    if (!copy) goto fail;
    memcpy(copy, text, n);
    copy[n] = '\0';
    jparser p = {copy, n, 0, what, 0};
    v = es_calloc(1, sizeof *v);
    if (!v) goto fail;
    if (jvalue(&p, v)) goto fail;
    jskip(&p);
    if (p.pos != n) {
        jerr(&p, "trailing text");
        goto fail;
    }
    free(copy);
    return v;
fail:
    es_jval_free(v);
    free(copy);
    return NULL;
}

/* Reads a whole file into memory; *len gets its size. NULL with an error on failure. */
static unsigned char *read_all(const char *path, size_t max, size_t *len)
{
    FILE *f = NULL;
    unsigned char *buf = NULL;
    f = fopen(path, "rb");
    if (!f) {
        es_fail("%s: %s", path, strerror(errno));
        goto fail;
    }
    if (fseek(f, 0, SEEK_END)) goto io;
    long size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET)) goto io;
    if ((unsigned long)size > max) {
        es_fail("%s: too large (%ld bytes)", path, size);
        goto fail;
    }
    buf = es_malloc((size_t)size + 1);
    if (!buf) goto fail;
    if (fread(buf, 1, (size_t)size, f) != (size_t)size) goto io;
    fclose(f);
    *len = (size_t)size;
    return buf;
io:
    es_fail("%s: read error", path);
fail:
    free(buf);
    if (f) fclose(f);
    return NULL;
}

es_jval *es_jval_parse_file(const char *path)
{
    size_t len = 0;
    /* manifests are a few kB; a parsed value takes ~25 times its text, so keep this small */
    unsigned char *buf = read_all(path, ES_JSON_MAX_FILE, &len);
    if (!buf) return NULL;
    es_jval *v = es_jval_parse((const char *)buf, len, path);
    free(buf);
    return v;
}

const es_jval *es_jval_get(const es_jval *v, const char *key)
{
    if (!v || v->type != ES_JOBJ) return NULL;
    for (size_t i = 0; i < v->count; i++)
        if (!strcmp(v->keys[i], key)) return &v->items[i];
    return NULL;
}

const es_jval *es_jval_at(const es_jval *v, size_t i)
{
    if (!v || v->type != ES_JARR || i >= v->count) return NULL;
    return &v->items[i];
}

/* ------------------------------------------------------------------------------------------ */
/* weights                                                                                     */

#define MAX_TENSOR_ELEMS ((size_t)1 << 28)
#define MAX_SHARD_BYTES ((size_t)1 << 30) /* per group, all its shards together */
#define MAX_SHARDS 1024                    /* per group; face-api models have one or two */

void es_weights_free(es_weights *w)
{
    if (!w) return;
    for (size_t i = 0; i < w->count; i++) {
        free(w->tensors[i].name);
        free(w->tensors[i].data);
    }
    free(w->tensors);
    free(w->path);
    free(w);
}

/* A shard name must stay inside the model directory. */
static int safe_name(const char *s)
{
    return s[0] && s[0] != '.' && !strchr(s, '/') && !strchr(s, '\\');
}

/* Loads one group's tensors from its shards. */
static int load_group(es_weights *w, size_t *cap, const es_jval *group, const char *dir,
                      const char *manifest)
{
    unsigned char *bytes = NULL;
    size_t nbytes = 0, used = 0;
    int rc = -1;
    const es_jval *paths = es_jval_get(group, "paths");
    const es_jval *weights = es_jval_get(group, "weights");
    if (!paths || paths->type != ES_JARR || !weights || weights->type != ES_JARR) {
        es_fail("%s: a group lacks \"paths\" or \"weights\"", manifest);
        goto end;
    }
    if (paths->count > MAX_SHARDS) {
        es_fail("%s: a group lists %zu shards (at most %d)", manifest, paths->count, MAX_SHARDS);
        goto end;
    }
    /* concatenate the shards; the byte budget is for the group, so listing one big shard many
     * times cannot multiply the memory */
    for (size_t i = 0; i < paths->count; i++) {
        const es_jval *pv = &paths->items[i];
        if (pv->type != ES_JSTR || !safe_name(pv->str)) {
            es_fail("%s: bad shard name", manifest);
            goto end;
        }
        size_t plen = strlen(dir) + strlen(pv->str) + 2;
        char *path = es_malloc(plen);
        if (!path) goto end;
        snprintf(path, plen, "%s/%s", dir, pv->str);
        size_t len = 0;
        unsigned char *part = read_all(path, MAX_SHARD_BYTES - nbytes, &len);
        free(path);
        if (!part) goto end;
        unsigned char *grown = nbytes + len > nbytes ? es_realloc(bytes, nbytes + len) : bytes;
        if (!grown && nbytes + len) {
            free(part);
            goto end;
        }
        bytes = grown;
        if (len) memcpy(bytes + nbytes, part, len);
        nbytes += len;
        free(part);
    }
    for (size_t i = 0; i < weights->count; i++) {
        const es_jval *e = &weights->items[i];
        const es_jval *name = es_jval_get(e, "name"), *shape = es_jval_get(e, "shape");
        const es_jval *dtype = es_jval_get(e, "dtype"), *quant = es_jval_get(e, "quantization");
        if (!name || name->type != ES_JSTR || !shape || shape->type != ES_JARR || !dtype ||
            dtype->type != ES_JSTR) {
            es_fail("%s: weight entry %zu lacks name, shape or dtype", manifest, i);
            goto end;
        }
        if (strcmp(dtype->str, "float32")) {
            es_fail("%s: %s: unsupported dtype %s", manifest, name->str, dtype->str);
            goto end;
        }
        if (shape->count > 4) {
            es_fail("%s: %s: rank %zu not supported", manifest, name->str, shape->count);
            goto end;
        }
        es_tensor t = {0};
        t.rank = (int)shape->count;
        t.count = 1;
        for (int d = 0; d < t.rank; d++) {
            const es_jval *dim = &shape->items[d];
            if (dim->type != ES_JNUM || dim->num < 1 || dim->num > 1e8 || dim->num != floor(dim->num)) {
                es_fail("%s: %s: bad shape", manifest, name->str);
                goto end;
            }
            t.shape[d] = (int)dim->num;
            t.count *= (size_t)t.shape[d];
            if (t.count > MAX_TENSOR_ELEMS) {
                es_fail("%s: %s: tensor too large", manifest, name->str);
                goto end;
            }
        }
        int qbytes = 4;
        double scale = 1, mn = 0;
        if (quant) {
            const es_jval *qd = es_jval_get(quant, "dtype"), *qs = es_jval_get(quant, "scale");
            const es_jval *qm = es_jval_get(quant, "min");
            if (!qd || qd->type != ES_JSTR || !qs || qs->type != ES_JNUM || !qm || qm->type != ES_JNUM) {
                es_fail("%s: %s: bad quantization entry", manifest, name->str);
                goto end;
            }
            if (!strcmp(qd->str, "uint8")) qbytes = 1;
            else if (!strcmp(qd->str, "uint16")) qbytes = 2;
            else {
                es_fail("%s: %s: unsupported quantization %s", manifest, name->str, qd->str);
                goto end;
            }
            scale = qs->num;
            mn = qm->num;
        }
        size_t need = t.count * (size_t)qbytes;
        if (need > nbytes - used) {
            es_fail("%s: shard truncated at %s (needs %zu bytes, %zu left)", manifest, name->str,
                    need, nbytes - used);
            goto end;
        }
        t.data = es_malloc(t.count * sizeof(float));
        if (!t.data) goto end;
        const unsigned char *src = bytes + used;
        for (size_t k = 0; k < t.count; k++) {
            if (qbytes == 1) {
                t.data[k] = (float)(src[k] * scale + mn);
            } else if (qbytes == 2) {
                unsigned q = (unsigned)src[2 * k] | (unsigned)src[2 * k + 1] << 8;
                t.data[k] = (float)(q * scale + mn);
            } else {
                uint32_t u = (uint32_t)src[4 * k] | (uint32_t)src[4 * k + 1] << 8 |
                             (uint32_t)src[4 * k + 2] << 16 | (uint32_t)src[4 * k + 3] << 24;
                float f;
                memcpy(&f, &u, 4);
                t.data[k] = f;
            }
            if (!isfinite(t.data[k])) {
                free(t.data);
                es_fail("%s: %s: non-finite value", manifest, name->str);
                goto end;
            }
        }
        used += need;
        t.name = strdup(name->str);
        if (!t.name || es_grow((void **)&w->tensors, cap, w->count + 1, sizeof *w->tensors)) {
            if (!t.name) es_fail("out of memory");
            free(t.name);
            free(t.data);
            goto end;
        }
        w->tensors[w->count++] = t;
    }
    if (used != nbytes) {
        es_fail("%s: shards hold %zu bytes, the tensors use %zu", manifest, nbytes, used);
        goto end;
    }
    rc = 0;
end:
    free(bytes);
    return rc;
}

es_weights *es_weights_load(const char *dir, const char *name)
{
    char *manifest = NULL;
    es_jval *root = NULL;
    es_weights *w = NULL;
    size_t cap = 0;
    size_t mlen = strlen(dir) + strlen(name) + 32;
    manifest = es_malloc(mlen);
    if (!manifest) goto fail;
    snprintf(manifest, mlen, "%s/%s-weights_manifest.json", dir, name);
    root = es_jval_parse_file(manifest);
    if (!root) goto fail;
    if (root->type != ES_JARR || root->count == 0) {
        es_fail("%s: not a weights manifest (expected a list of groups)", manifest);
        goto fail;
    }
    w = es_calloc(1, sizeof *w);
    if (!w) goto fail;
    for (size_t g = 0; g < root->count; g++)
        if (load_group(w, &cap, &root->items[g], dir, manifest)) goto fail;
    es_jval_free(root);
    w->path = manifest;
    return w;
fail:
    es_weights_free(w);
    es_jval_free(root);
    free(manifest);
    return NULL;
}

const float *es_weights_get(const es_weights *w, const char *name, int rank, const int *shape)
{
    for (size_t i = 0; i < w->count; i++) {
        const es_tensor *t = &w->tensors[i];
        if (strcmp(t->name, name)) continue;
        int ok = t->rank == rank;
        for (int d = 0; ok && d < rank; d++) ok = t->shape[d] == shape[d];
        if (!ok) {
            char got[64] = "", want[64] = "";
            for (int d = 0; d < t->rank; d++)
                snprintf(got + strlen(got), sizeof got - strlen(got), "%s%d", d ? "x" : "", t->shape[d]);
            for (int d = 0; d < rank; d++)
                snprintf(want + strlen(want), sizeof want - strlen(want), "%s%d", d ? "x" : "", shape[d]);
            es_fail("%s: %s: shape %s, expected %s", w->path, name, got, want);
            return NULL;
        }
        return t->data;
    }
    es_fail("%s: %s: missing", w->path, name);
    return NULL;
}
