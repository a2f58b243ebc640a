/* Checkpoint reader: the golden torch 1.x / 2.x / float16 files load with the right tensors;
 * hand-built archives exercise each refusal (forbidden global, unknown opcode, bad storages,
 * non-contiguous strides, compression, missing/extra/misshapen tensors); truncated and
 * bit-flipped copies of a real file fail cleanly with one error line (run under ASan too). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/error.h"
#include "core/rng.h"
#include "nn/checkpoint.h"
#include "nn/transformer.h"

#define DIR "tests/data/emsync/"

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* ---- a minimal stored-zip and pickle writer, independent of the reader ---- */

typedef struct { uint8_t *b; size_t n, cap; } buf;

static void put(buf *o, const void *p, size_t n)
{
    if (o->n + n > o->cap) { o->cap = (o->n + n) * 2 + 64; o->b = realloc(o->b, o->cap); }
    memcpy(o->b + o->n, p, n);
    o->n += n;
}
static void put8(buf *o, unsigned v) { uint8_t c = (uint8_t)v; put(o, &c, 1); }
static void put16(buf *o, unsigned v) { put8(o, v & 0xff); put8(o, v >> 8); }
static void put32(buf *o, uint32_t v) { put16(o, v & 0xffff); put16(o, v >> 16); }
static void puts_(buf *o, const char *s) { put(o, s, strlen(s)); }

static uint32_t crc32_ref(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return ~c;
}

typedef struct { char name[128]; buf data; } zentry;

/* method: 0 stored (what torch writes) or 8 (claimed deflate, to test the refusal) */
static buf make_zip(zentry *e, int n, int method)
{
    buf z = {0}, cd = {0};
    for (int i = 0; i < n; i++) {
        uint32_t off = (uint32_t)z.n, crc = crc32_ref(e[i].data.b, e[i].data.n);
        size_t nl = strlen(e[i].name);
        put32(&z, 0x04034b50); put16(&z, 20); put16(&z, 0); put16(&z, method); put16(&z, 0); put16(&z, 0);
        put32(&z, crc); put32(&z, (uint32_t)e[i].data.n); put32(&z, (uint32_t)e[i].data.n);
        put16(&z, (unsigned)nl); put16(&z, 0); put(&z, e[i].name, nl);
        if (e[i].data.n) put(&z, e[i].data.b, e[i].data.n);
        put32(&cd, 0x02014b50); put16(&cd, 20); put16(&cd, 20); put16(&cd, 0); put16(&cd, method); put16(&cd, 0); put16(&cd, 0);
        put32(&cd, crc); put32(&cd, (uint32_t)e[i].data.n); put32(&cd, (uint32_t)e[i].data.n);
        put16(&cd, (unsigned)nl); put16(&cd, 0); put16(&cd, 0); put16(&cd, 0); put16(&cd, 0); put32(&cd, 0); put32(&cd, off);
        put(&cd, e[i].name, nl);
    }
    uint32_t cd_off = (uint32_t)z.n;
    put(&z, cd.b, cd.n);
    put32(&z, 0x06054b50); put16(&z, 0); put16(&z, 0); put16(&z, (unsigned)n); put16(&z, (unsigned)n);
    put32(&z, (uint32_t)cd.n); put32(&z, cd_off); put16(&z, 0);
    free(cd.b);
    return z;
}

static void p_str(buf *p, const char *s) { put8(p, 'X'); put32(p, (uint32_t)strlen(s)); puts_(p, s); }
static void p_int(buf *p, long v) { put8(p, 'J'); put32(p, (uint32_t)v); }

/* One state-dict entry: name -> _rebuild_tensor_v2(storage key, offset, size, stride). */
static void p_tensor_typed(buf *p, const char *name, const char *type, const char *key, long numel, long offset, int ndim,
                           const long *size, const long *stride)
{
    p_str(p, name);
    puts_(p, "ctorch._utils\n_rebuild_tensor_v2\n(");
    puts_(p, "(");
    p_str(p, "storage");
    puts_(p, "ctorch\n");
    puts_(p, type);
    puts_(p, "\n");
    p_str(p, key);
    p_str(p, "cpu");
    p_int(p, numel);
    puts_(p, "tQ");
    p_int(p, offset);
    puts_(p, "(");
    for (int i = 0; i < ndim; i++) p_int(p, size[i]);
    puts_(p, "t(");
    for (int i = 0; i < ndim; i++) p_int(p, stride[i]);
    puts_(p, "t\x89" "ccollections\nOrderedDict\n)RtR");
}

static void p_tensor(buf *p, const char *name, const char *key, long numel, long offset, int ndim, const long *size,
                     const long *stride)
{
    p_tensor_typed(p, name, "FloatStorage", key, numel, offset, ndim, size, stride);
}

static es_checkpoint *open_zip(zentry *e, int n, int method, buf *keep)
{
    *keep = make_zip(e, n, method);
    return es_checkpoint_open_mem(keep->b, keep->n, "test.pt");
}

static int one_line_error(void)
{
    const char *e = es_error();
    return e[0] && !strchr(e, '\n');
}

static void test_handmade(void)
{
    zentry e[2] = {{"m/data.pkl", {0}}, {"m/data/0", {0}}};
    float vals[6] = {1, -2, 3.5f, 0.25f, 8, 9};
    put(&e[1].data, vals, sizeof vals);
    long size[2] = {2, 2}, stride[2] = {2, 1}, bad_stride[2] = {1, 2};
    buf z;
    es_checkpoint *c;

    /* a valid dict: one 2x2 view at offset 1 of a 6-float storage */
    puts_(&e[0].data, "\x80\x02" "ccollections\nOrderedDict\n)R(");
    p_tensor(&e[0].data, "w", "0", 6, 1, 2, size, stride);
    puts_(&e[0].data, "u.");
    c = open_zip(e, 2, 0, &z);
    CHECK(c != NULL);
    if (c) {
        const es_tensor *t = es_checkpoint_find(c, "w");
        CHECK(t && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 2 && t->numel == 4 && t->dtype == ES_DT_F32);
        float got[4] = {0};
        if (t) es_tensor_to_f32(t, got);
        CHECK(got[0] == -2 && got[1] == 3.5f && got[2] == 0.25f && got[3] == 8);
    }
    es_checkpoint_free(c);
    free(z.b);
    /* float16 and bfloat16 storages: 1.5, -2, 0.333 (f16 0x3555 = 0.33325195), 65504 */
    {
        zentry h[3] = {{"m/data.pkl", {0}}, {"m/data/h", {0}}, {"m/data/b", {0}}};
        uint16_t hv[4] = {0x3e00, 0xc000, 0x3555, 0x7bff}, bv[4] = {0x3fc0, 0xc000, 0x3eab, 0x477f};
        put(&h[1].data, hv, sizeof hv);
        put(&h[2].data, bv, sizeof bv);
        long sz[1] = {4}, st1[1] = {1};
        puts_(&h[0].data, "\x80\x02" "ccollections\nOrderedDict\n)R(");
        p_tensor_typed(&h[0].data, "h", "HalfStorage", "h", 4, 0, 1, sz, st1);
        p_tensor_typed(&h[0].data, "b", "BFloat16Storage", "b", 4, 0, 1, sz, st1);
        puts_(&h[0].data, "u.");
        buf hz;
        es_checkpoint *hc = open_zip(h, 3, 0, &hz);
        CHECK(hc != NULL);
        const es_tensor *th = hc ? es_checkpoint_find(hc, "h") : NULL, *tb = hc ? es_checkpoint_find(hc, "b") : NULL;
        float fh[4] = {0}, fb[4] = {0};
        CHECK(th && tb && th->dtype == ES_DT_F16 && tb->dtype == ES_DT_BF16);
        if (th && tb) { es_tensor_to_f32(th, fh); es_tensor_to_f32(tb, fb); }
        CHECK(fh[0] == 1.5f && fh[1] == -2.0f && fh[2] == 0.33325195f && fh[3] == 65504.0f);
        CHECK(fb[0] == 1.5f && fb[1] == -2.0f && fabsf(fb[2] - 0.333984375f) < 1e-9f && fb[3] == 65280.0f);
        /* round trip of the encoder on those values and on a subnormal */
        CHECK(es_float_to_half(1.5f) == 0x3e00 && es_float_to_half(65504.0f) == 0x7bff && es_float_to_half(70000.0f) == 0x7c00);
        CHECK(es_half_to_float(0x0001) == ldexpf(1, -24) && es_float_to_half(ldexpf(1, -24)) == 0x0001);
        /* the batch converter (F16C where built with it) against the scalar one: every sign,
         * exponent and top mantissa bits, with the low bits at and around each rounding tie,
         * and a stride through all patterns; NaN only needs to stay NaN of the same sign */
        {
            enum { N = 1 << 16 };
            static const uint32_t lows[] = {0, 1, 0x0fff, 0x1000, 0x1001, 0x1fff, 0x2000, 0x3000, 0x5a5a};
            float *xs = malloc(N * sizeof *xs);
            uint16_t *hs = malloc(N * sizeof *hs);
            long bad = 0;
            for (int pass = 0; xs && hs && pass < (int)(sizeof lows / sizeof lows[0]) + 64; pass++) {
                for (uint32_t i = 0; i < N; i++) {
                    uint32_t bits = pass < (int)(sizeof lows / sizeof lows[0]) ? i << 16 | lows[pass]
                                                                          : (uint32_t)((i + (uint32_t)pass * N) * 65599u);
                    memcpy(&xs[i], &bits, 4);
                }
                es_floats_to_half(xs, hs, N - 3); /* an odd count: the scalar tail too */
                for (uint32_t i = 0; i < N - 3; i++) {
                    uint16_t want = es_float_to_half(xs[i]);
                    if (isnan(xs[i]) ? (hs[i] & 0x7c00) != 0x7c00 || !(hs[i] & 0x3ff) || (hs[i] ^ want) & 0x8000
                                     : hs[i] != want)
                        bad++;
                }
            }
            CHECK(xs && hs && bad == 0);
            free(xs);
            free(hs);
        }
        es_checkpoint_free(hc);
        free(hz.b);
        for (int i = 0; i < 3; i++) free(h[i].data.b);
    }
    /* the same archive claiming deflate is refused */
    c = open_zip(e, 2, 8, &z);
    CHECK(c == NULL && strstr(es_error(), "compressed") && one_line_error());
    free(z.b);

    struct { const char *what, *expect; } bad[] = {
        {"global", "os.system"}, {"opcode", "opcode"}, {"beyond", "past the end of its storage"},
        {"stride", "not contiguous"}, {"numel", "not 7 elements"}, {"missing", "missing from the archive"},
        {"dup", "appears twice"}, {"nostop", "STOP"}, {"memo", "memo"}, {"notdict", "not a dict"},
        {"huge", "absurdly large"}, {"proto", "protocol"}, {"negsize", "bad size"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        buf *p = &e[0].data;
        p->n = 0;
        const char *w = bad[i].what;
        puts_(p, "\x80\x02" "ccollections\nOrderedDict\n)R(");
        if (!strcmp(w, "global")) put(p, "cos\nsystem\n(X\x02\0\0\0lstR", 21);
        if (!strcmp(w, "opcode")) puts_(p, "N");
        if (!strcmp(w, "beyond")) p_tensor(p, "w", "0", 6, 3, 2, size, stride);
        if (!strcmp(w, "stride")) p_tensor(p, "w", "0", 6, 0, 2, size, bad_stride);
        if (!strcmp(w, "numel")) p_tensor(p, "w", "0", 7, 0, 2, size, stride);
        if (!strcmp(w, "missing")) p_tensor(p, "w", "9", 6, 0, 2, size, stride);
        if (!strcmp(w, "dup")) { p_tensor(p, "w", "0", 6, 0, 2, size, stride); p_tensor(p, "w", "0", 6, 0, 2, size, stride); }
        if (!strcmp(w, "memo")) puts_(p, "h\x07");
        long hsize[3] = {1L << 30, 1L << 30, 1L << 30}, hstride[3] = {0, 1L << 30, 1}, nsize[2] = {-1, 2};
        if (!strcmp(w, "huge")) p_tensor(p, "w", "0", 6, 0, 3, hsize, hstride);
        if (!strcmp(w, "negsize")) p_tensor(p, "w", "0", 6, 0, 2, nsize, stride);
        if (!strcmp(w, "proto")) { p->n = 0; puts_(p, "\x80\x04}."); }
        if (!strcmp(w, "notdict")) { p->n = 0; puts_(p, "\x80\x02K\x05."); }
        else if (!strcmp(w, "proto")) {}
        else if (strcmp(w, "nostop")) puts_(p, "u.");
        else puts_(p, "u");
        c = open_zip(e, 2, 0, &z);
        CHECK(c == NULL);
        CHECK(strstr(es_error(), bad[i].expect) != NULL && one_line_error());
        if (c || !strstr(es_error(), bad[i].expect)) fprintf(stderr, "case %s: '%s'\n", w, es_error());
        es_checkpoint_free(c);
        free(z.b);
    }
    free(e[0].data.b);
    free(e[1].data.b);

    /* not a zip, empty */
    const char *text = "hello, this is not a checkpoint at all, just some text.....";
    CHECK(es_checkpoint_open_mem(text, strlen(text), "t.txt") == NULL && strstr(es_error(), "not a checkpoint"));
    CHECK(es_checkpoint_open_mem(text, 0, "e.pt") == NULL && one_line_error());
    CHECK(es_checkpoint_open("tests/data/emsync/no-such-file.pt") == NULL && one_line_error());
    CHECK(es_checkpoint_open("tests/data/emsync") == NULL && one_line_error());
}

/* The golden files parse, with the expected layout and values. */
static void test_golden(void)
{
    const char *files[] = {"tiny-a.pt", "tiny-t2.pt", "tiny-a-fp16.pt"};
    es_checkpoint *c[3];
    for (int i = 0; i < 3; i++) {
        char path[128];
        snprintf(path, sizeof path, DIR "%s", files[i]);
        c[i] = es_checkpoint_open(path);
        CHECK(c[i] != NULL);
        if (!c[i]) { fprintf(stderr, "%s\n", es_error()); return; }
        /* 1 + 8 + 2 + 4 + 1 + 17 per layer + 2 tensors for 2 layers */
        CHECK(es_checkpoint_count(c[i]) == 52);
        const es_tensor *t = es_checkpoint_find(c[i], "embedding.weight");
        CHECK(t && t->ndim == 2 && t->shape[0] == 1011 && t->shape[1] == 64);
        CHECK(t && t->dtype == (i == 2 ? ES_DT_F16 : ES_DT_F32));
    }
    /* the float16 file holds the same weights rounded to half precision */
    double worst = 0;
    size_t total = 0;
    for (size_t i = 0; i < es_checkpoint_count(c[0]); i++) {
        const es_tensor *a = es_checkpoint_tensor(c[0], i), *h = es_checkpoint_find(c[2], a->name);
        CHECK(h && h->numel == a->numel);
        if (!h || h->numel != a->numel) continue;
        float *fa = malloc(a->numel * sizeof *fa), *fh = malloc(a->numel * sizeof *fh);
        es_tensor_to_f32(a, fa);
        es_tensor_to_f32(h, fh);
        for (size_t k = 0; k < a->numel; k++) {
            double rel = fabs(fa[k] - fh[k]) / (fabs(fa[k]) + 1e-4);
            if (rel > worst) worst = rel;
            /* our own float->half rounding agrees with torch's bit for bit */
            if (es_float_to_half(fa[k]) != (uint16_t)(h->data[2 * k] | h->data[2 * k + 1] << 8)) worst = 1;
        }
        total += a->numel;
        free(fa);
        free(fh);
    }
    CHECK(worst < 1e-3);
    CHECK(total > 100000);
    for (int i = 0; i < 3; i++) es_checkpoint_free(c[i]);
}

/* Truncations and bit flips of a real file: a clean error, or (a flip in a don't-care byte)
 * success; never a crash. */
static void test_damage(void)
{
    size_t len;
    uint8_t *orig = read_all(DIR "tiny-t2.pt", &len);
    CHECK(orig != NULL);
    if (!orig) return;
    int failed_cleanly = 0, survived = 0, trunc_ok = 1;
    for (int i = 0; i < 300; i++) {
        size_t cut = i < 100 ? (size_t)i * 37 : i < 200 ? len - (size_t)(i - 100) * 7 - 1 : (size_t)((double)len * (i - 200) / 100);
        if (cut >= len) continue;
        uint8_t *b = malloc(cut ? cut : 1);
        memcpy(b, orig, cut);
        es_checkpoint *c = es_checkpoint_open_mem(b, cut, "cut.pt");
        if (c || !one_line_error()) trunc_ok = 0;
        es_checkpoint_free(c);
        free(b);
    }
    CHECK(trunc_ok);
    es_rng r;
    es_rng_seed(&r, 7);
    uint8_t *b = malloc(len);
    for (int i = 0; i < 600; i++) {
        memcpy(b, orig, len);
        /* half the flips in the pickle and headers (first 8 KiB and the central directory) */
        size_t at = i % 3 == 0 ? es_rng_below(&r, 8192) : i % 3 == 1 ? len - 1 - es_rng_below(&r, 6000) : es_rng_below(&r, (uint32_t)len);
        b[at] ^= (uint8_t)(1u << es_rng_below(&r, 8));
        es_checkpoint *c = es_checkpoint_open_mem(b, len, "flip.pt");
        if (c) survived++;
        else if (one_line_error()) failed_cleanly++;
        es_checkpoint_free(c);
    }
    fprintf(stderr, "bit flips: %d refused with one line, %d still parse\n", failed_cleanly, survived);
    CHECK(failed_cleanly + survived == 600);
    CHECK(failed_cleanly > 500);
    free(b);
    free(orig);
}

/* Tensor and entry counts are capped: at the cap a dict still loads (and every name is
 * found), one more is refused with one line. Before the caps a hostile file could make the
 * quadratic name checks run for hours. */
static void test_limits(void)
{
    long size[1] = {1}, stride[1] = {1};
    float one = 1;
    for (int extra = 0; extra < 2; extra++) {
        zentry e[2] = {{"m/data.pkl", {0}}, {"m/data/0", {0}}};
        put(&e[1].data, &one, sizeof one);
        puts_(&e[0].data, "\x80\x02" "ccollections\nOrderedDict\n)R(");
        int n = ES_CHECKPOINT_MAX_TENSORS + extra;
        for (int i = 0; i < n; i++) {
            char name[32];
            snprintf(name, sizeof name, "t%d", i);
            p_tensor(&e[0].data, name, "0", 1, 0, 1, size, stride);
        }
        puts_(&e[0].data, "u.");
        buf z;
        es_checkpoint *c = open_zip(e, 2, 0, &z);
        if (!extra) {
            CHECK(c && es_checkpoint_count(c) == (size_t)n);
            CHECK(c && es_checkpoint_find(c, "t4095") && es_checkpoint_find(c, "t0"));
        } else {
            CHECK(c == NULL && one_line_error() && strstr(es_error(), "more than"));
        }
        es_checkpoint_free(c);
        free(z.b);
        free(e[0].data.b);
        free(e[1].data.b);
    }
    /* a central directory with more entries than any state dict has */
    int n = ES_CHECKPOINT_MAX_ENTRIES + 1;
    zentry *e = calloc((size_t)n, sizeof *e);
    CHECK(e != NULL);
    if (!e) return;
    for (int i = 0; i < n; i++) snprintf(e[i].name, sizeof e[i].name, "m/data/%d", i);
    snprintf(e[0].name, sizeof e[0].name, "m/data.pkl");
    puts_(&e[0].data, "\x80\x02}.");
    buf z;
    es_checkpoint *c = open_zip(e, n, 0, &z);
    CHECK(c == NULL && one_line_error() && strstr(es_error(), "entries"));
    es_checkpoint_free(c);
    free(z.b);
    free(e[0].data.b);
    free(e);
}

/* A complete random-weight model written by the test's own writer: loads; a missing, extra
 * or misshapen tensor is refused by the model loader. */
typedef struct { char name[64]; int ndim; long size[3]; } tspec;

static int model_specs(tspec *s, int d, int ff, int ctx, int dh, int layers)
{
    int n = 0;
#define T(nm, nd, a, b, c) do { snprintf(s[n].name, 64, "%s", nm); s[n].ndim = nd; s[n].size[0] = a; s[n].size[1] = b; s[n].size[2] = c; n++; } while (0)
    char nm[64];
    T("embedding.weight", 2, 1011, d, 0);
    for (int k = 0; k < 2; k++) {
        snprintf(nm, 64, "fc_conditions.%d.0.weight", k); T(nm, 2, d / 2, 1, 0);
        snprintf(nm, 64, "fc_conditions.%d.0.bias", k); T(nm, 1, d / 2, 0, 0);
        snprintf(nm, 64, "fc_conditions.%d.2.weight", k); T(nm, 2, d, d / 2, 0);
        snprintf(nm, 64, "fc_conditions.%d.2.bias", k); T(nm, 1, d, 0, 0);
        snprintf(nm, 64, "null_conditions.%d", k); T(nm, 2, 1, d, 0);
    }
    T("ff_times_to_chord.0.weight", 2, d / 4, 1, 0);
    T("ff_times_to_chord.0.bias", 1, d / 4, 0, 0);
    T("ff_times_to_chord.2.weight", 2, d / 2, d / 4, 0);
    T("ff_times_to_chord.2.bias", 1, d / 2, 0, 0);
    T("positional_encoding", 3, 1, ctx, d / 2);
    for (int i = 0; i < layers; i++) {
        const char *lin[4] = {"Wq", "Wk", "Wv", "fc"};
        for (int j = 0; j < 4; j++) {
            snprintf(nm, 64, "enc_layers.%d.rga.%s.weight", i, lin[j]); T(nm, 2, d, d, 0);
            snprintf(nm, 64, "enc_layers.%d.rga.%s.bias", i, lin[j]); T(nm, 1, d, 0, 0);
        }
        snprintf(nm, 64, "enc_layers.%d.rga.E", i); T(nm, 2, ctx, dh, 0);
        snprintf(nm, 64, "enc_layers.%d.FFN_pre.weight", i); T(nm, 2, ff, d, 0);
        snprintf(nm, 64, "enc_layers.%d.FFN_pre.bias", i); T(nm, 1, ff, 0, 0);
        snprintf(nm, 64, "enc_layers.%d.FFN_suf.weight", i); T(nm, 2, d, ff, 0);
        snprintf(nm, 64, "enc_layers.%d.FFN_suf.bias", i); T(nm, 1, d, 0, 0);
        for (int j = 1; j <= 2; j++) {
            snprintf(nm, 64, "enc_layers.%d.layernorm%d.weight", i, j); T(nm, 1, d, 0, 0);
            snprintf(nm, 64, "enc_layers.%d.layernorm%d.bias", i, j); T(nm, 1, d, 0, 0);
        }
    }
    T("fc.weight", 2, 1011, d, 0);
    T("fc.bias", 1, 1011, 0, 0);
#undef T
    return n;
}

static int write_model(const char *path, tspec *s, int n)
{
    zentry *e = calloc((size_t)n + 1, sizeof *e);
    snprintf(e[0].name, sizeof e[0].name, "m/data.pkl");
    buf *p = &e[0].data;
    puts_(p, "\x80\x02" "ccollections\nOrderedDict\n)R(");
    es_rng r;
    es_rng_seed(&r, 3);
    for (int i = 0; i < n; i++) {
        long numel = 1, stride[3];
        for (int k = s[i].ndim; k-- > 0;) { stride[k] = numel; numel *= s[i].size[k]; }
        char key[16];
        snprintf(key, sizeof key, "%d", i);
        snprintf(e[i + 1].name, sizeof e[i + 1].name, "m/data/%d", i);
        /* weights ~ U(-1, 1) / sqrt(fan in), LayerNorm gains near 1: activations of order 1 */
        int ln_gain = strstr(s[i].name, "layernorm") && strstr(s[i].name, "weight");
        double scale = s[i].ndim == 2 && s[i].size[1] > 1 ? 1.7 / sqrt((double)s[i].size[1]) : 0.5;
        for (long k = 0; k < numel; k++) {
            double u = 2 * es_rng_uniform(&r) - 1;
            float v = (float)(ln_gain ? 1 + 0.2 * u : scale * u);
            put(&e[i + 1].data, &v, 4);
        }
        p_tensor(p, s[i].name, key, numel, 0, s[i].ndim, s[i].size, stride);
    }
    puts_(p, "u.");
    buf z = make_zip(e, n + 1, 0);
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(z.b, 1, z.n, f) == z.n;
    if (f) fclose(f);
    for (int i = 0; i <= n; i++) free(e[i].data.b);
    free(e);
    free(z.b);
    return ok ? 0 : -1;
}

/* Fast (cached, chunked) against naive on a written model; returns the model's hparams check. */
static void fast_vs_naive(const char *path, es_nn_format fmt, int n, double tol)
{
    es_nn_model *m = es_nn_model_load(path, fmt, 2);
    CHECK(m != NULL);
    if (!m) { fprintf(stderr, "%s\n", es_error()); return; }
    int *tok = malloc((size_t)n * sizeof *tok);
    float *del = malloc((size_t)n * sizeof *del), *a = malloc((size_t)(n + 2) * 1011 * sizeof *a),
          *b = malloc((size_t)(n + 2) * 1011 * sizeof *b);
    for (int i = 0; i < n; i++) { tok[i] = i == 0 ? 1010 : i == 5 ? 0 /* a PAD key */ : (i * 131) % 1011; del[i] = (float)((i * 7) % 9); }
    es_nn_state *st = es_nn_state_new(m, 1);
    CHECK(es_nn_forward_naive(m, tok, del, n, 0.5, NAN, a) == 0);
    CHECK(st && es_nn_begin(st, 0, 0.5, NAN, del[0], b) == 0 && es_nn_feed(st, 0, tok, del, n, NULL, b + 2 * 1011) == 0);
    double worst = 0, big = 0;
    for (int i = 0; i < (n + 2) * 1011; i++) {
        worst = fmax(worst, fabs(a[i] - b[i]));
        big = fmax(big, fabs(a[i]));
    }
    fprintf(stderr, "%s %s, %d tokens: max|fast-naive| %.3g, max|logit| %.3g\n", path, fmt == ES_NN_F16 ? "f16" : "f32", n, worst, big);
    CHECK(big > 1); /* a comparison of near-zero logits would prove nothing */
    CHECK(worst < tol);
    es_nn_state_free(st);
    free(b); free(a); free(del); free(tok);
    es_nn_model_free(m);
}

static void test_model_layout(void)
{
    char dir[] = "/tmp/es-ckpt-XXXXXX", path[64];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/m.pt", dir);
    tspec s[200];
    /* d_head 64 like the released model, more tokens than one prefill chunk */
    int n = model_specs(s, 128, 64, 80, 64, 1);
    CHECK(write_model(path, s, n) == 0);
    fast_vs_naive(path, ES_NN_F32, 76, 1e-4);
    fast_vs_naive(path, ES_NN_F16, 76, 3e-3);
    n = model_specs(s, 32, 48, 20, 8, 2);
    CHECK(write_model(path, s, n) == 0);
    fast_vs_naive(path, ES_NN_F32, 18, 1e-4);
    es_nn_model *m = es_nn_model_load(path, ES_NN_F32, 1);
    CHECK(m != NULL);
    if (m) {
        const es_nn_hparams *hp = es_nn_model_hparams(m);
        CHECK(hp->n_layers == 2 && hp->d_model == 32 && hp->n_heads == 4 && hp->d_ff == 48 && hp->context == 20);
    }
    es_nn_model_free(m);
    tspec t[201];
    /* missing */
    memcpy(t, s, sizeof s);
    t[5] = t[n - 1];
    CHECK(write_model(path, t, n - 1) == 0);
    CHECK(es_nn_model_load(path, ES_NN_F32, 1) == NULL && strstr(es_error(), "missing") && one_line_error());
    /* extra */
    memcpy(t, s, sizeof s);
    t[n] = t[3];
    snprintf(t[n].name, 64, "extra.weight");
    CHECK(write_model(path, t, n + 1) == 0);
    CHECK(es_nn_model_load(path, ES_NN_F32, 1) == NULL && strstr(es_error(), "unexpected tensor 'extra.weight'"));
    /* wrong shape */
    memcpy(t, s, sizeof s);
    for (int i = 0; i < n; i++)
        if (!strcmp(t[i].name, "enc_layers.1.FFN_suf.weight")) t[i].size[1] = 40;
    CHECK(write_model(path, t, n) == 0);
    CHECK(es_nn_model_load(path, ES_NN_F32, 1) == NULL && strstr(es_error(), "shape [32,40], expected [32,48]"));
    if (!strstr(es_error(), "expected")) fprintf(stderr, "%s\n", es_error());
    unlink(path);
    rmdir(dir);
}

/* The file scripts/make-random-checkpoint.py writes (1 layer, d 16, 2 heads, ff 16, context 8)
 * loads as a model with the parameter count of the SPEC's shape table. */
static void test_script_output(void)
{
    es_nn_model *m = es_nn_model_load(DIR "small-random.pt", ES_NN_F16, 1);
    CHECK(m != NULL);
    if (!m) { fprintf(stderr, "%s\n", es_error()); return; }
    const es_nn_hparams *hp = es_nn_model_hparams(m);
    CHECK(hp->n_layers == 1 && hp->d_model == 16 && hp->n_heads == 2 && hp->d_ff == 16 && hp->context == 8);
    size_t d = 16, ff = 16, ctx = 8, dh = 8;
    size_t want = 1011 * d + 2 * (d / 2 + d / 2 + d * d / 2 + d) + 2 * d + (d / 4 + d / 4 + d / 2 * d / 4 + d / 2) +
                  ctx * d / 2 + (4 * (d * d + d) + ctx * dh + ff * d + ff + d * ff + d + 4 * d) + 1011 * d + 1011;
    CHECK(es_nn_model_params(m) == want);
    es_nn_model_free(m);
}

int main(void)
{
    test_script_output();
    test_golden();
    test_handmade();
    test_damage();
    test_limits();
    test_model_layout();
    return check_report("test_nn_checkpoint");
}
