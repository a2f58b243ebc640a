/* PyTorch state-dict reader: ZIP container (stored entries, zip64 records tolerated), a
 * restricted pickle interpreter, and tensor views into the storages. See checkpoint.h. */
#include "nn/checkpoint.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

#if defined(__F16C__) && defined(__AVX__)
#include <immintrin.h>
#endif

typedef struct {
    const char *name; size_t name_len;
    const uint8_t *data; size_t size;
} zip_entry;

struct es_checkpoint {
    const uint8_t *buf; size_t len;
    void *map; size_t map_len;          /* set when we mmapped the file */
    zip_entry *entries; size_t n_entries;
    es_tensor *tensors; size_t n_tensors;
};

/* ---------- little-endian readers and half floats ---------- */

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

float es_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: renormalise */
            int e = -1;
            do { e++; man <<= 1; } while (!(man & 0x400));
            bits = sign | (uint32_t)(127 - 15 - e) << 23 | (man & 0x3ff) << 13;
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | man << 13;
    } else {
        bits = sign | (exp + 112) << 23 | man << 13;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t es_float_to_half(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) return (uint16_t)(sign | 0x7c00 | (ax > 0x7f800000u ? 0x200 : 0));
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00); /* rounds past the largest half */
    if (ax < 0x38800000u) { /* subnormal half or zero: round to nearest even at 2^-24 */
        if (ax < 0x33000000u) return (uint16_t)sign;
        uint32_t man = (ax & 0x7fffff) | 0x800000, shift = 126 - (ax >> 23);
        uint32_t v = man >> shift, rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (v & 1))) v++;
        return (uint16_t)(sign | v);
    }
    uint32_t v = ((ax >> 13) - (112u << 10)), rem = ax & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (v & 1))) v++;
    return (uint16_t)(sign | v);
}

void es_floats_to_half(const float *x, uint16_t *h, size_t n)
{
    size_t i = 0;
#if defined(__F16C__) && defined(__AVX__)
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(h + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
#endif
    for (; i < n; i++) h[i] = es_float_to_half(x[i]);
}

float es_bf16_to_float(uint16_t h)
{
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

void es_tensor_to_f32(const es_tensor *t, float *dst)
{
    const uint8_t *p = t->data;
    for (size_t i = 0; i < t->numel; i++) {
        switch (t->dtype) {
        case ES_DT_F32: { uint32_t b = rd32(p + 4 * i); memcpy(&dst[i], &b, 4); break; }
        case ES_DT_F16: dst[i] = es_half_to_float(rd16(p + 2 * i)); break;
        case ES_DT_BF16: dst[i] = es_bf16_to_float(rd16(p + 2 * i)); break;
        }
    }
}

static size_t dtype_size(es_dtype d) { return d == ES_DT_F32 ? 4 : 2; }

/* ---------- ZIP ---------- */

static uint32_t crc_table[256];

static void crc_init(void)
{
    if (crc_table[1]) return;
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static __attribute__((unused)) uint32_t crc32_of(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

/* Reads the zip64 extra field (id 1) values for the fields that were 0xFFFFFFFF. */
static int zip64_extra(const uint8_t *x, size_t xlen, uint64_t *usize, uint64_t *csize, uint64_t *off,
                       int need_u, int need_c, int need_o)
{
    size_t i = 0;
    while (i + 4 <= xlen) {
        unsigned id = rd16(x + i), sz = rd16(x + i + 2);
        if (i + 4 + sz > xlen) return -1;
        if (id == 1) {
            const uint8_t *q = x + i + 4;
            size_t k = 0;
            if (need_u) { if (k + 8 > sz) return -1; *usize = rd64(q + k); k += 8; }
            if (need_c) { if (k + 8 > sz) return -1; *csize = rd64(q + k); k += 8; }
            if (need_o) { if (k + 8 > sz) return -1; *off = rd64(q + k); }
            return 0;
        }
        i += 4 + sz;
    }
    return -1;
}

static int zip_parse(es_checkpoint *c, const char *label)
{
    const uint8_t *b = c->buf;
    size_t len = c->len;
    if (len < 22) return es_fail("%s: not a checkpoint (too small for a zip archive)", label);
    size_t eocd = (size_t)-1;
    size_t lowest = len > 22 + 65535 ? len - 22 - 65535 : 0;
    for (size_t p = len - 22 + 1; p-- > lowest;) {
        if (rd32(b + p) == 0x06054b50u && p + 22 + rd16(b + p + 20) == len) { eocd = p; break; }
    }
    if (eocd == (size_t)-1) return es_fail("%s: not a checkpoint (no zip end record; not a zip file or truncated)", label);
    uint64_t n = rd16(b + eocd + 10), cd_size = rd32(b + eocd + 12), cd_off = rd32(b + eocd + 16);
    if (n == 0xFFFF || cd_size == 0xFFFFFFFFu || cd_off == 0xFFFFFFFFu) {
        if (eocd < 20 || rd32(b + eocd - 20) != 0x07064b50u) return es_fail("%s: corrupt zip64 locator", label);
        uint64_t z = rd64(b + eocd - 20 + 8);
        if (z > len || len - z < 56 || rd32(b + z) != 0x06064b50u) return es_fail("%s: corrupt zip64 end record", label);
        n = rd64(b + z + 32); cd_size = rd64(b + z + 40); cd_off = rd64(b + z + 48);
    }
    if (cd_off > len || cd_size > len - cd_off) return es_fail("%s: zip central directory lies outside the file (truncated?)", label);
    if (n == 0 || n > cd_size / 46) return es_fail("%s: zip central directory has an impossible entry count", label);
    if (n > ES_CHECKPOINT_MAX_ENTRIES)
        return es_fail("%s: zip archive has %llu entries, more than a state dict needs (%d)", label, (unsigned long long)n,
                       ES_CHECKPOINT_MAX_ENTRIES);
    c->entries = es_calloc((size_t)n, sizeof *c->entries);
    if (!c->entries) return -1;
    crc_init();
    size_t p = (size_t)cd_off, end = (size_t)(cd_off + cd_size);
    for (size_t i = 0; i < n; i++) {
        if (end - p < 46 || rd32(b + p) != 0x02014b50u) return es_fail("%s: corrupt zip central directory entry %zu", label, i);
        unsigned flags = rd16(b + p + 8), method = rd16(b + p + 10);
        uint32_t crc = rd32(b + p + 16);
        uint64_t csize = rd32(b + p + 20), usize = rd32(b + p + 24), off = rd32(b + p + 42);
        size_t nlen = rd16(b + p + 28), xlen = rd16(b + p + 30), clen = rd16(b + p + 32);
        if (end - p - 46 < nlen + xlen + clen) return es_fail("%s: corrupt zip central directory entry %zu", label, i);
        const char *name = (const char *)b + p + 46;
        int nu = usize == 0xFFFFFFFFu, nc = csize == 0xFFFFFFFFu, no = off == 0xFFFFFFFFu;
        if ((nu || nc || no) && zip64_extra(b + p + 46 + nlen, xlen, &usize, &csize, &off, nu, nc, no))
            return es_fail("%s: corrupt zip64 extra field in entry %zu", label, i);
        if (flags & 1) return es_fail("%s: encrypted zip entry '%.*s'", label, (int)(nlen > 80 ? 80 : nlen), name);
        if (method != 0) return es_fail("%s: zip entry '%.*s' is compressed (method %u); torch.save stores entries", label, (int)(nlen > 80 ? 80 : nlen), name, method);
        if (csize != usize) return es_fail("%s: zip entry %zu sizes disagree", label, i);
        /* the local header must agree with the central directory; its extra field may differ
         * (torch 2 pads it so the data is 64-byte aligned) */
        if (off > len || len - off < 30 || rd32(b + off) != 0x04034b50u) return es_fail("%s: zip local header %zu missing (truncated?)", label, i);
        size_t lnlen = rd16(b + off + 26), lxlen = rd16(b + off + 28);
        if (rd16(b + off + 8) != method || lnlen != nlen || len - off - 30 < lnlen + lxlen ||
            memcmp(b + off + 30, name, nlen) != 0)
            return es_fail("%s: zip local header %zu does not match the central directory", label, i);
        size_t data = (size_t)off + 30 + lnlen + lxlen;
        if (usize > len - data) return es_fail("%s: zip entry '%.*s' runs past the end of the file (truncated?)", label, (int)(nlen > 80 ? 80 : nlen), name);
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION /* let the fuzzer reach the parser */
        if (crc32_of(b + data, (size_t)usize) != crc) return es_fail("%s: zip entry '%.*s' fails its CRC check (corrupt)", label, (int)(nlen > 80 ? 80 : nlen), name);
#else
        (void)crc;
#endif
        c->entries[i] = (zip_entry){name, nlen, b + data, (size_t)usize};
        p += 46 + nlen + xlen + clen;
    }
    c->n_entries = (size_t)n;
    return 0;
}

static const zip_entry *zip_find(const es_checkpoint *c, const char *prefix, size_t plen, const char *rest, size_t rlen)
{
    for (size_t i = 0; i < c->n_entries; i++) {
        const zip_entry *e = &c->entries[i];
        if (e->name_len == plen + rlen && !memcmp(e->name, prefix, plen) && !memcmp(e->name + plen, rest, rlen)) return e;
    }
    return NULL;
}

/* ---------- restricted pickle machine ---------- */

enum { V_MARK, V_INT, V_BOOL, V_STR, V_TUPLE, V_DICT, V_GLOBAL, V_STORAGE, V_TENSOR };
enum { G_ORDERED_DICT, G_REBUILD_V2, G_FLOAT_STORAGE, G_HALF_STORAGE, G_BF16_STORAGE };

typedef struct {
    uint8_t kind, g;           /* g: global id, or dtype of a storage */
    int64_t i;                 /* int/bool value, storage numel, tensor offset */
    const char *s; uint32_t slen; /* string, storage key */
    uint32_t a, b, c;          /* tuple: first child index, count; tensor: storage, size, stride ids */
} pval;

typedef struct { uint32_t dict, key, val; } ppair;

typedef struct {
    const char *label;
    pval *v; size_t nv, cap_v;
    uint32_t *kids; size_t nk, cap_k;
    ppair *pairs; size_t np, cap_p;
    uint32_t *stack; size_t ns, cap_s;
    uint32_t *memo; size_t cap_m;     /* memo index -> value id + 1 (0 = empty) */
} pickle_vm;

#define PICKLE_MAX_ITEMS ((size_t)1 << 22)

static int vm_new(pickle_vm *m, pval v, uint32_t *id)
{
    if (m->nv >= PICKLE_MAX_ITEMS) return es_fail("%s: pickle is too large", m->label);
    if (es_grow((void **)&m->v, &m->cap_v, m->nv + 1, sizeof *m->v)) return -1;
    m->v[m->nv] = v;
    *id = (uint32_t)m->nv++;
    return 0;
}

static int vm_push(pickle_vm *m, uint32_t id)
{
    if (m->ns >= PICKLE_MAX_ITEMS) return es_fail("%s: pickle stack too deep", m->label);
    if (es_grow((void **)&m->stack, &m->cap_s, m->ns + 1, sizeof *m->stack)) return -1;
    m->stack[m->ns++] = id;
    return 0;
}

static int vm_push_new(pickle_vm *m, pval v)
{
    uint32_t id = 0;
    return vm_new(m, v, &id) ? -1 : vm_push(m, id);
}

/* Pops one non-mark value. */
static int vm_pop(pickle_vm *m, uint32_t *id)
{
    if (m->ns == 0 || m->v[m->stack[m->ns - 1]].kind == V_MARK) return es_fail("%s: pickle stack underflow", m->label);
    *id = m->stack[--m->ns];
    return 0;
}

/* Index of the topmost mark on the stack. */
static int vm_find_mark(pickle_vm *m, size_t *at)
{
    for (size_t i = m->ns; i-- > 0;)
        if (m->v[m->stack[i]].kind == V_MARK) { *at = i; return 0; }
    return es_fail("%s: pickle has no mark", m->label);
}

/* Builds a tuple from stack items [from, ns) and replaces them (and the mark just below when
 * drop_mark) with it. */
static int vm_make_tuple(pickle_vm *m, size_t from, int drop_mark)
{
    size_t count = m->ns - from;
    if (es_grow((void **)&m->kids, &m->cap_k, m->nk + count, sizeof *m->kids)) return -1;
    uint32_t first = (uint32_t)m->nk;
    for (size_t i = from; i < m->ns; i++) m->kids[m->nk++] = m->stack[i];
    m->ns = from - (drop_mark ? 1 : 0);
    return vm_push_new(m, (pval){.kind = V_TUPLE, .a = first, .b = (uint32_t)count});
}

static int vm_setitem(pickle_vm *m, uint32_t dict, uint32_t key, uint32_t val)
{
    if (m->v[dict].kind != V_DICT) return es_fail("%s: pickle SETITEM on a non-dict", m->label);
    if (m->np >= PICKLE_MAX_ITEMS) return es_fail("%s: pickle is too large", m->label);
    if (es_grow((void **)&m->pairs, &m->cap_p, m->np + 1, sizeof *m->pairs)) return -1;
    m->pairs[m->np++] = (ppair){dict, key, val};
    return 0;
}

static const pval *tuple_item(const pickle_vm *m, const pval *t, uint32_t i) { return &m->v[m->kids[t->a + i]]; }

static int str_is(const pval *v, const char *s) { return v->kind == V_STR && v->slen == strlen(s) && !memcmp(v->s, s, v->slen); }

/* Copies at most 60 printable characters of a file string for an error message. */
static void printable(char *dst, const uint8_t *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < 60; i++) dst[k++] = s[i] >= 32 && s[i] < 127 ? (char)s[i] : '?';
    dst[k] = 0;
}

static int vm_global(pickle_vm *m, const uint8_t *p, size_t left, size_t *used)
{
    static const struct { const char *mod, *name; int id; } allowed[] = {
        {"collections", "OrderedDict", G_ORDERED_DICT},
        {"torch._utils", "_rebuild_tensor_v2", G_REBUILD_V2},
        {"torch", "FloatStorage", G_FLOAT_STORAGE},
        {"torch", "HalfStorage", G_HALF_STORAGE},
        {"torch", "BFloat16Storage", G_BF16_STORAGE},
    };
    const uint8_t *nl1 = memchr(p, '\n', left);
    if (!nl1) return es_fail("%s: truncated pickle GLOBAL", m->label);
    const uint8_t *nl2 = memchr(nl1 + 1, '\n', left - (size_t)(nl1 + 1 - p));
    if (!nl2) return es_fail("%s: truncated pickle GLOBAL", m->label);
    size_t ml = (size_t)(nl1 - p), nlen = (size_t)(nl2 - nl1 - 1);
    *used = (size_t)(nl2 + 1 - p);
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        if (ml == strlen(allowed[i].mod) && !memcmp(p, allowed[i].mod, ml) && nlen == strlen(allowed[i].name) &&
            !memcmp(nl1 + 1, allowed[i].name, nlen))
            return vm_push_new(m, (pval){.kind = V_GLOBAL, .g = (uint8_t)allowed[i].id});
    char a[64], b[64];
    printable(a, p, ml);
    printable(b, nl1 + 1, nlen);
    return es_fail("%s: pickle refers to '%s.%s', which a state dict never needs (refused)", m->label, a, b);
}

/* REDUCE: only OrderedDict() and _rebuild_tensor_v2(...) are callable. */
static int vm_reduce(pickle_vm *m)
{
    uint32_t args, fn;
    if (vm_pop(m, &args) || vm_pop(m, &fn)) return -1;
    const pval *f = &m->v[fn], *t = &m->v[args];
    if (f->kind != V_GLOBAL || t->kind != V_TUPLE) return es_fail("%s: pickle REDUCE of a non-callable", m->label);
    if (f->g == G_ORDERED_DICT) {
        if (t->b != 0) return es_fail("%s: pickle OrderedDict with arguments", m->label);
        return vm_push_new(m, (pval){.kind = V_DICT});
    }
    if (f->g != G_REBUILD_V2) return es_fail("%s: pickle calls a storage type", m->label);
    if (t->b != 6 && t->b != 7) return es_fail("%s: _rebuild_tensor_v2 with %u arguments", m->label, t->b);
    const pval *st = tuple_item(m, t, 0), *off = tuple_item(m, t, 1), *size = tuple_item(m, t, 2),
               *stride = tuple_item(m, t, 3);
    if (st->kind != V_STORAGE || off->kind != V_INT || size->kind != V_TUPLE || stride->kind != V_TUPLE ||
        tuple_item(m, t, 4)->kind != V_BOOL)
        return es_fail("%s: _rebuild_tensor_v2 with arguments of the wrong type", m->label);
    return vm_push_new(m, (pval){.kind = V_TENSOR, .i = off->i, .a = m->kids[t->a], .b = m->kids[t->a + 2], .c = m->kids[t->a + 3]});
}

/* BINPERSID: ('storage', StorageType, key, location, numel) */
static int vm_persid(pickle_vm *m)
{
    uint32_t id;
    if (vm_pop(m, &id)) return -1;
    const pval *t = &m->v[id];
    if (t->kind != V_TUPLE || t->b != 5) return es_fail("%s: unexpected persistent id", m->label);
    const pval *tag = tuple_item(m, t, 0), *type = tuple_item(m, t, 1), *key = tuple_item(m, t, 2),
               *loc = tuple_item(m, t, 3), *numel = tuple_item(m, t, 4);
    if (!str_is(tag, "storage") || type->kind != V_GLOBAL || type->g < G_FLOAT_STORAGE || key->kind != V_STR ||
        loc->kind != V_STR || numel->kind != V_INT || numel->i < 0)
        return es_fail("%s: unexpected persistent id", m->label);
    es_dtype dt = type->g == G_FLOAT_STORAGE ? ES_DT_F32 : type->g == G_HALF_STORAGE ? ES_DT_F16 : ES_DT_BF16;
    return vm_push_new(m, (pval){.kind = V_STORAGE, .g = (uint8_t)dt, .i = numel->i, .s = key->s, .slen = key->slen});
}

static int vm_memo_put(pickle_vm *m, uint64_t idx)
{
    if (m->ns == 0) return es_fail("%s: pickle memo of an empty stack", m->label);
    if (idx >= PICKLE_MAX_ITEMS) return es_fail("%s: pickle memo index too large", m->label);
    if (idx >= m->cap_m) {
        size_t cap = m->cap_m;
        if (es_grow((void **)&m->memo, &cap, (size_t)idx + 1, sizeof *m->memo)) return -1;
        memset(m->memo + m->cap_m, 0, (cap - m->cap_m) * sizeof *m->memo);
        m->cap_m = cap;
    }
    m->memo[idx] = m->stack[m->ns - 1] + 1;
    return 0;
}

static int vm_memo_get(pickle_vm *m, uint64_t idx)
{
    if (idx >= m->cap_m || !m->memo[idx]) return es_fail("%s: pickle reads an unset memo slot", m->label);
    return vm_push(m, m->memo[idx] - 1);
}

/* Runs the pickle; on success *result is the id of the top-level dict. */
static int vm_run(pickle_vm *m, const uint8_t *p, size_t n, uint32_t *result)
{
    size_t i = 0;
#define NEED(k) do { if (n - i < (size_t)(k)) return es_fail("%s: truncated pickle", m->label); } while (0)
    while (i < n) {
        uint8_t op = p[i++];
        uint32_t a = 0, b = 0, c = 0;
        size_t at = 0;
        switch (op) {
        case 0x80: NEED(1); if (p[i] != 2) return es_fail("%s: pickle protocol %u (expected 2)", m->label, p[i]); i++; break;
        case 'c': { size_t used = 0; if (vm_global(m, p + i, n - i, &used)) return -1; i += used; break; }
        case 'R': if (vm_reduce(m)) return -1; break;
        case 'b': /* BUILD: only the OrderedDict's _metadata, which we do not need */
            if (vm_pop(m, &a)) return -1;
            if (m->ns == 0 || m->v[m->stack[m->ns - 1]].kind != V_DICT) return es_fail("%s: pickle BUILD on a non-dict", m->label);
            break;
        case '(': if (vm_push_new(m, (pval){.kind = V_MARK})) return -1; break;
        case 't': if (vm_find_mark(m, &at) || vm_make_tuple(m, at + 1, 1)) return -1; break;
        case ')': if (vm_make_tuple(m, m->ns, 0)) return -1; break;
        case 0x85: case 0x86: case 0x87: {
            size_t k = (size_t)(op - 0x84);
            if (m->ns < k) return es_fail("%s: pickle stack underflow", m->label);
            for (size_t j = m->ns - k; j < m->ns; j++)
                if (m->v[m->stack[j]].kind == V_MARK) return es_fail("%s: pickle stack underflow", m->label);
            if (vm_make_tuple(m, m->ns - k, 0)) return -1;
            break;
        }
        case '}': if (vm_push_new(m, (pval){.kind = V_DICT})) return -1; break;
        case 's':
            if (vm_pop(m, &b) || vm_pop(m, &a)) return -1;
            if (m->ns == 0) return es_fail("%s: pickle stack underflow", m->label);
            if (vm_setitem(m, m->stack[m->ns - 1], a, b)) return -1;
            break;
        case 'u':
            if (vm_find_mark(m, &at)) return -1;
            if ((m->ns - at - 1) % 2 || at == 0) return es_fail("%s: pickle SETITEMS with an odd item count", m->label);
            for (size_t j = at + 1; j < m->ns; j += 2)
                if (vm_setitem(m, m->stack[at - 1], m->stack[j], m->stack[j + 1])) return -1;
            m->ns = at;
            break;
        case 'Q': if (vm_persid(m)) return -1; break;
        case 'X': {
            NEED(4);
            uint32_t len = rd32(p + i);
            i += 4;
            NEED(len);
            if (vm_push_new(m, (pval){.kind = V_STR, .s = (const char *)p + i, .slen = len})) return -1;
            i += len;
            break;
        }
        case 'J': NEED(4); if (vm_push_new(m, (pval){.kind = V_INT, .i = (int32_t)rd32(p + i)})) return -1; i += 4; break;
        case 'K': NEED(1); if (vm_push_new(m, (pval){.kind = V_INT, .i = p[i]})) return -1; i += 1; break;
        case 'M': NEED(2); if (vm_push_new(m, (pval){.kind = V_INT, .i = rd16(p + i)})) return -1; i += 2; break;
        case 0x88: case 0x89: if (vm_push_new(m, (pval){.kind = V_BOOL, .i = op == 0x88})) return -1; break;
        case 'q': NEED(1); if (vm_memo_put(m, p[i])) return -1; i += 1; break;
        case 'r': NEED(4); if (vm_memo_put(m, rd32(p + i))) return -1; i += 4; break;
        case 'h': NEED(1); if (vm_memo_get(m, p[i])) return -1; i += 1; break;
        case 'j': NEED(4); if (vm_memo_get(m, rd32(p + i))) return -1; i += 4; break;
        case '.':
            if (vm_pop(m, &c)) return -1;
            if (m->v[c].kind != V_DICT) return es_fail("%s: pickle result is not a dict", m->label);
            *result = c;
            return 0;
        default:
            return es_fail("%s: pickle opcode 0x%02x is not allowed in a state dict", m->label, op);
        }
    }
#undef NEED
    return es_fail("%s: pickle ends without STOP (truncated)", m->label);
}

/* Turns one (name, tensor) pickle pair into an es_tensor view on its storage entry. */
static int make_tensor(es_checkpoint *c, const pickle_vm *m, const ppair *pr, const char *top, size_t tlen, es_tensor *out)
{
    const pval *key = &m->v[pr->key], *t = &m->v[pr->val];
    const char *label = m->label;
    if (key->kind != V_STR || t->kind != V_TENSOR) return es_fail("%s: state dict entry is not a named tensor", label);
    char name[64];
    printable(name, (const uint8_t *)key->s, key->slen);
    if (key->slen == 0 || key->slen > 200 || memchr(key->s, 0, key->slen)) return es_fail("%s: bad tensor name '%s'", label, name);
    const pval *st = &m->v[t->a], *size = &m->v[t->b], *stride = &m->v[t->c];
    if (size->b > ES_TENSOR_MAX_DIMS || stride->b != size->b) return es_fail("%s: tensor '%s' has a bad shape", label, name);
    char rest[96];
    if (st->slen > 80) return es_fail("%s: tensor '%s' has a bad storage key", label, name);
    memcpy(rest, "data/", 5);
    memcpy(rest + 5, st->s, st->slen);
    const zip_entry *e = zip_find(c, top, tlen, rest, 5 + st->slen);
    if (!e) return es_fail("%s: storage of tensor '%s' is missing from the archive", label, name);
    es_dtype dt = (es_dtype)st->g;
    size_t es = dtype_size(dt);
    if ((uint64_t)st->i > (uint64_t)1 << 40 || (uint64_t)st->i * es != e->size)
        return es_fail("%s: storage of tensor '%s' has %zu bytes, not %lld elements", label, name, e->size, (long long)st->i);
    uint64_t numel = 1, expect = 1;
    memset(out, 0, sizeof *out);
    out->ndim = (int)size->b;
    for (int d = out->ndim; d-- > 0;) {
        const pval *sz = tuple_item(m, size, (uint32_t)d), *sd = tuple_item(m, stride, (uint32_t)d);
        if (sz->kind != V_INT || sd->kind != V_INT || sz->i < 0 || sz->i > ((int64_t)1 << 32))
            return es_fail("%s: tensor '%s' has a bad size", label, name);
        if (sz->i > 1 && (uint64_t)sd->i != expect) return es_fail("%s: tensor '%s' is not contiguous", label, name);
        out->shape[d] = sz->i;
        if (sz->i && expect > ((uint64_t)1 << 40) / (uint64_t)sz->i) return es_fail("%s: tensor '%s' is absurdly large", label, name);
        expect *= (uint64_t)sz->i;
    }
    numel = expect;
    if (t->i < 0 || (uint64_t)t->i > (uint64_t)st->i || numel > (uint64_t)st->i - (uint64_t)t->i)
        return es_fail("%s: tensor '%s' runs past the end of its storage", label, name);
    out->dtype = dt;
    out->numel = (size_t)numel;
    out->data = e->data + (size_t)t->i * es;
    out->name = es_malloc(key->slen + 1);
    if (!out->name) return -1;
    memcpy(out->name, key->s, key->slen);
    out->name[key->slen] = 0;
    return 0;
}

static int parse_all(es_checkpoint *c, const char *label)
{
    int rc = -1;
    pickle_vm m = {.label = label};
    if (zip_parse(c, label)) goto end;
    const zip_entry *pkl = NULL;
    for (size_t i = 0; i < c->n_entries; i++) {
        const zip_entry *e = &c->entries[i];
        const char *slash = memchr(e->name, '/', e->name_len);
        if (slash && (size_t)(slash - e->name) + 9 == e->name_len && !memcmp(slash + 1, "data.pkl", 8)) { pkl = e; break; }
    }
    if (!pkl) { es_fail("%s: no data.pkl in the archive (not a torch.save file)", label); goto end; }
    size_t tlen = pkl->name_len - 8; /* "NAME/" */
    uint32_t dict = 0;
    if (vm_run(&m, pkl->data, pkl->size, &dict)) goto end;
    size_t count = 0;
    for (size_t i = 0; i < m.np; i++) count += m.pairs[i].dict == dict;
    if (count == 0) { es_fail("%s: the state dict is empty", label); goto end; }
    if (count > ES_CHECKPOINT_MAX_TENSORS) {
        es_fail("%s: the state dict has %zu tensors, more than %d", label, count, ES_CHECKPOINT_MAX_TENSORS);
        goto end;
    }
    c->tensors = es_calloc(count, sizeof *c->tensors);
    if (!c->tensors) goto end;
    for (size_t i = 0; i < m.np; i++) {
        if (m.pairs[i].dict != dict) continue;
        es_tensor *t = &c->tensors[c->n_tensors];
        if (make_tensor(c, &m, &m.pairs[i], pkl->name, tlen, t)) goto end;
        c->n_tensors++;
        for (size_t j = 0; j + 1 < c->n_tensors; j++)
            if (!strcmp(c->tensors[j].name, t->name)) { es_fail("%s: tensor '%s' appears twice", label, t->name); goto end; }
    }
    rc = 0;
end:
    free(m.memo);
    free(m.stack);
    free(m.pairs);
    free(m.kids);
    free(m.v);
    return rc;
}

es_checkpoint *es_checkpoint_open_mem(const void *buf, size_t len, const char *label)
{
    es_checkpoint *c = es_calloc(1, sizeof *c);
    if (!c) return NULL;
    c->buf = buf;
    c->len = len;
    if (parse_all(c, label)) {
        es_checkpoint_free(c);
        return NULL;
    }
    return c;
}

es_checkpoint *es_checkpoint_open(const char *path)
{
    es_checkpoint *c = NULL;
    void *map = MAP_FAILED;
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { es_fail("%s: cannot open checkpoint", path); goto end; }
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) { es_fail("%s: not a regular file", path); goto end; }
    if (st.st_size == 0) { es_fail("%s: empty file, not a checkpoint", path); goto end; }
    len = (size_t)st.st_size;
    map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) { es_fail("%s: cannot map checkpoint", path); goto end; }
    c = es_checkpoint_open_mem(map, len, path);
    if (!c) goto end;
    c->map = map;
    c->map_len = len;
    map = MAP_FAILED;
end:
    if (map != MAP_FAILED) munmap(map, len);
    if (fd >= 0) close(fd);
    return c;
}

size_t es_checkpoint_count(const es_checkpoint *c) { return c->n_tensors; }

const es_tensor *es_checkpoint_tensor(const es_checkpoint *c, size_t i) { return i < c->n_tensors ? &c->tensors[i] : NULL; }

const es_tensor *es_checkpoint_find(const es_checkpoint *c, const char *name)
{
    for (size_t i = 0; i < c->n_tensors; i++)
        if (!strcmp(c->tensors[i].name, name)) return &c->tensors[i];
    return NULL;
}

void es_checkpoint_free(es_checkpoint *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n_tensors; i++) free(c->tensors[i].name);
    free(c->tensors);
    free(c->entries);
    if (c->map) munmap(c->map, c->map_len);
    free(c);
}
