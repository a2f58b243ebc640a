/* Weight manifests and shards as hostile input (missing, truncated, oversized, malformed,
 * traversal, wrong shapes, random corruption), dequantisation against hand-computed values,
 * the JSON reader, the data directory lookup order, and the expression -> valence/arousal table
 * against EMSYNC's SPEC section 4 numbers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/error.h"
#include "core/rng.h"
#include "emotion/datadir.h"
#include "emotion/expression.h"
#include "emotion/faces.h"
#include "emotion/tinyface.h"
#include "emotion/weights.h"

static char tmp[256];

static void put(const char *name, const void *data, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    if (n) fwrite(data, 1, n, f);
    fclose(f);
}

static void put_text(const char *name, const char *text) { put(name, text, strlen(text)); }

static int error_has(const char *needle)
{
    int ok = strstr(es_error(), needle) != NULL;
    if (!ok) fprintf(stderr, "  error was: '%s', expected to contain '%s'\n", es_error(), needle);
    return ok;
}

/* a: uint8 [2,3] scale 0.5 min -1; b: float32 [2]; then a second group with c: uint16 [1] */
static const char *good_manifest =
    "[{\"paths\": [\"m.bin\"], \"weights\": ["
    "{\"name\": \"a\", \"shape\": [2, 3], \"dtype\": \"float32\","
    " \"quantization\": {\"dtype\": \"uint8\", \"scale\": 0.5, \"min\": -1}},"
    "{\"name\": \"b\", \"shape\": [2], \"dtype\": \"float32\"}]},"
    "{\"paths\": [\"m2.bin\"], \"weights\": ["
    "{\"name\": \"c\", \"shape\": [1], \"dtype\": \"float32\","
    " \"quantization\": {\"dtype\": \"uint16\", \"scale\": 0.01, \"min\": 0}}]}]";

static void write_good_shards(size_t len)
{
    unsigned char bin[15] = {0, 1, 2, 3, 4, 5};
    float b[2] = {1.25f, -3.0f};
    memcpy(bin + 6, b, 8);  /* little-endian host, as the format */
    bin[14] = 7;            /* only written when len == 15 (one byte too many) */
    put("m.bin", bin, len);
    unsigned char c[2] = {0x01, 0x02};  /* 513 */
    put("m2.bin", c, 2);
}

static void test_loader(void)
{
    put_text("m-weights_manifest.json", good_manifest);
    write_good_shards(14);
    es_weights *w = es_weights_load(tmp, "m");
    CHECK(w != NULL);
    if (w) {
        CHECK(w->count == 3);
        const float *a = es_weights_get(w, "a", 2, (int[]){2, 3});
        CHECK(a != NULL);
        if (a)
            for (int i = 0; i < 6; i++) CHECK_NEAR(a[i], i * 0.5 - 1, 1e-7);
        const float *b = es_weights_get(w, "b", 1, (int[]){2});
        CHECK(b && b[0] == 1.25f && b[1] == -3.0f);
        const float *c = es_weights_get(w, "c", 1, (int[]){1});
        CHECK(c && fabs(c[0] - 5.13) < 1e-5);
        CHECK(es_weights_get(w, "a", 2, (int[]){3, 2}) == NULL && error_has("shape 2x3, expected 3x2"));
        CHECK(es_weights_get(w, "a", 1, (int[]){6}) == NULL);
        CHECK(es_weights_get(w, "zz", 1, (int[]){1}) == NULL && error_has("zz: missing"));
        es_weights_free(w);
    }

    /* missing manifest, missing shard, short and long shards, empty shard */
    CHECK(es_weights_load(tmp, "nothere") == NULL && error_has("No such file"));
    char path[512];
    snprintf(path, sizeof path, "%s/m2.bin", tmp);
    unlink(path);
    CHECK(es_weights_load(tmp, "m") == NULL && error_has("m2.bin"));
    write_good_shards(13);
    CHECK(es_weights_load(tmp, "m") == NULL && error_has("truncated at b"));
    write_good_shards(15);
    CHECK(es_weights_load(tmp, "m") == NULL && error_has("shards hold 15 bytes, the tensors use 14"));
    write_good_shards(0);
    CHECK(es_weights_load(tmp, "m") == NULL && error_has("truncated at a"));
    write_good_shards(14);

    /* malformed manifests */
    static const struct { const char *text, *error; } bad[] = {
        {"", "invalid JSON"},
        {"[{\"paths\": [\"m.bin\"], \"weights\": [", "invalid JSON"},
        {"{}", "not a weights manifest"},
        {"[]", "not a weights manifest"},
        {"[{\"weights\": []}]", "lacks \"paths\""},
        {"[{\"paths\": [\"../m.bin\"], \"weights\": []}]", "bad shard name"},
        {"[{\"paths\": [\"/etc/passwd\"], \"weights\": []}]", "bad shard name"},
        {"[{\"paths\": [7], \"weights\": []}]", "bad shard name"},
        {"[{\"paths\": [\"m.bin\"], \"weights\": [{\"name\": \"a\", \"shape\": [14], \"dtype\": \"int32\"}]}]",
         "unsupported dtype int32"},
        {"[{\"paths\": [\"m.bin\"], \"weights\": [{\"name\": \"a\", \"shape\": [14], \"dtype\": \"float32\","
         "\"quantization\": {\"dtype\": \"float16\", \"scale\": 1, \"min\": 0}}]}]",
         "unsupported quantization float16"},
        {"[{\"paths\": [\"m.bin\"], \"weights\": [{\"name\": \"a\", \"shape\": [14], \"dtype\": \"float32\","
         "\"quantization\": {\"dtype\": \"uint8\"}}]}]",
         "bad quantization"},
        {"[{\"paths\": [\"m.bin\"], \"weights\": [{\"name\": \"a\", \"shape\": [-1], \"dtype\": \"float32\"}]}]",
         "bad shape"},
        {"[{\"paths\": [\"m.bin\"], \"weights\": [{\"name\": \"a\", \"shape\": [1.5], \"dtype\": \"float32\"}]}]",
         "bad shape"},
        {"[{\"paths\": [\"m.bin\"], \"weights\": [{\"name\": \"a\", \"shape\": [100000, 100000, 100], "
         "\"dtype\": \"float32\"}]}]",
         "too large"},
        {"[{\"paths\": [\"m.bin\"], \"weights\": [{\"name\": \"a\", \"shape\": [1, 1, 1, 1, 14], "
         "\"dtype\": \"float32\"}]}]",
         "rank 5"},
        {"[{\"paths\": [\"m.bin\"], \"weights\": [{\"shape\": [14], \"dtype\": \"float32\"}]}]", "lacks name"},
        {"[{\"paths\": [\"m.bin\"], \"weights\": []}] x", "trailing text"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        put_text("bad-weights_manifest.json", bad[i].text);
        es_weights *bw = es_weights_load(tmp, "bad");
        CHECK(bw == NULL && error_has(bad[i].error));
        es_weights_free(bw);
    }
    /* the 1 GiB budget is per group, over all its shards: a sparse shard just under the
     * limit passes the per-file check but not after 4 more bytes (refused before reading it) */
    {
        char big[512];
        snprintf(big, sizeof big, "%s/big.bin", tmp);
        put("big.bin", "", 0);
        CHECK(truncate(big, ((off_t)1 << 30) - 2) == 0);
        put("four.bin", "abcd", 4);
        put_text("bad-weights_manifest.json", "[{\"paths\": [\"four.bin\", \"big.bin\"], \"weights\": []}]");
        es_weights *bw = es_weights_load(tmp, "bad");
        CHECK(bw == NULL && error_has("big.bin: too large"));
        es_weights_free(bw);
        unlink(big);
        /* more shards than any model has */
        size_t cap = 1025 * 12 + 64;
        char *many = malloc(cap);
        CHECK(many != NULL);
        if (many) {
            size_t at = (size_t)snprintf(many, cap, "[{\"paths\": [");
            for (int i = 0; i < 1025; i++) at += (size_t)snprintf(many + at, cap - at, "%s\"four.bin\"", i ? "," : "");
            snprintf(many + at, cap - at, "], \"weights\": []}]");
            put_text("bad-weights_manifest.json", many);
            bw = es_weights_load(tmp, "bad");
            CHECK(bw == NULL && error_has("1025 shards"));
            es_weights_free(bw);
            free(many);
        }
    }
    /* a manifest over the JSON size limit is refused before it is parsed (64 MiB of "0," once
     * parsed took gigabytes) */
    {
        size_t n = ES_JSON_MAX_FILE + 1;
        char *huge = malloc(n);
        CHECK(huge != NULL);
        if (huge) {
            memset(huge, ' ', n);
            huge[0] = '[';
            huge[n - 1] = ']';
            put("bad-weights_manifest.json", huge, n);
            es_weights *bw = es_weights_load(tmp, "bad");
            CHECK(bw == NULL && error_has("too large"));
            es_weights_free(bw);
            free(huge);
        }
    }
    /* deep nesting is refused, not a stack overflow */
    char deep[2001];
    memset(deep, '[', 1000);
    memset(deep + 1000, ']', 1000);
    deep[2000] = '\0';
    put_text("bad-weights_manifest.json", deep);
    CHECK(es_weights_load(tmp, "bad") == NULL && error_has("nested too deeply"));

    /* random corruption of a good manifest: never a crash, and any success is well formed */
    es_rng r;
    es_rng_seed(&r, 7);
    size_t n = strlen(good_manifest);
    char *buf = malloc(n + 1);
    int loaded = 0;
    for (int it = 0; it < 300; it++) {
        memcpy(buf, good_manifest, n + 1);
        int flips = 1 + (int)es_rng_below(&r, 4);
        for (int k = 0; k < flips; k++) buf[es_rng_below(&r, (uint32_t)n)] = (char)(32 + es_rng_below(&r, 95));
        size_t len = it % 5 == 0 ? es_rng_below(&r, (uint32_t)n) : n;  /* some truncated too */
        put("fz-weights_manifest.json", buf, len);
        es_weights *fw = es_weights_load(tmp, "fz");
        if (fw) {
            loaded++;
            for (size_t t = 0; t < fw->count; t++) CHECK(fw->tensors[t].count >= 1 && fw->tensors[t].data);
        } else {
            CHECK(es_error()[0] != '\0' && strchr(es_error(), '\n') == NULL);
        }
        es_weights_free(fw);
    }
    free(buf);
    fprintf(stderr, "corrupted manifests: %d of 300 still loaded, the rest refused with one line\n", loaded);
}

static void test_json(void)
{
    const char *text = "{\"s\": \"a\\\"b\\\\c\\u00e9\\n\", \"n\": -1.5e2, \"t\": true, \"z\": null,"
                       " \"arr\": [1, [2, {}], \"x\"]}";
    es_jval *v = es_jval_parse(text, strlen(text), "inline");
    CHECK(v != NULL);
    if (v) {
        const es_jval *s = es_jval_get(v, "s");
        CHECK(s && s->type == ES_JSTR && !strcmp(s->str, "a\"b\\c\xc3\xa9\n"));
        const es_jval *num = es_jval_get(v, "n");
        CHECK(num && num->type == ES_JNUM && num->num == -150);
        CHECK(es_jval_get(v, "t") && es_jval_get(v, "t")->type == ES_JBOOL && es_jval_get(v, "t")->num == 1);
        CHECK(es_jval_get(v, "z") && es_jval_get(v, "z")->type == ES_JNULL);
        const es_jval *arr = es_jval_get(v, "arr");
        CHECK(arr && arr->count == 3 && es_jval_at(arr, 1) && es_jval_at(arr, 1)->count == 2);
        CHECK(es_jval_at(arr, 3) == NULL && es_jval_get(arr, "x") == NULL && es_jval_get(v, "nope") == NULL);
        es_jval_free(v);
    }
    static const char *bad[] = {"", "{", "[1,]", "{\"a\" 1}", "\"abc", "[1 2]", "nul", "\"\\q\"",
                                "\"\\u12\"", "[1e999]", "{\"a\":1}}", "\"a\001b\"", "0x10", "[-0x1p3]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        es_jval *b = es_jval_parse(bad[i], strlen(bad[i]), "bad");
        CHECK(b == NULL && error_has("bad: invalid JSON at byte"));
        es_jval_free(b);
    }
}

/* The two real nets: right tensors accepted, the other net's set or a reshaped tensor refused. */
static void test_real_models(void)
{
    char *dir = es_datadir_find(ES_FACE_MODEL_SUBDIR, "tiny_face_detector_model-weights_manifest.json");
    if (!dir) {
        fprintf(stderr, "SKIP real-model checks: face models not installed\n");
        return;
    }
    es_weights *tw = es_weights_load(dir, "tiny_face_detector_model");
    es_weights *ew = es_weights_load(dir, "face_expression_model");
    CHECK(tw && tw->count == 19);
    CHECK(ew && ew->count == 49);
    if (tw && ew) {
        es_tinyface *t = es_tinyface_new(tw);
        CHECK(t != NULL);
        es_tinyface_free(t);
        es_expression *e = es_expression_new(ew);
        CHECK(e != NULL);
        es_expression_free(e);
        CHECK(es_tinyface_new(ew) == NULL && error_has("conv0/filters: missing"));
        CHECK(es_expression_new(tw) == NULL && error_has("dense0/conv0/filters: missing"));
    }
    es_weights_free(ew);
    es_weights_free(tw);

    /* a copy of the detector with a reshaped last layer (same byte count) and a cut shard */
    char path[600];
    snprintf(path, sizeof path, "%s/tiny_face_detector_model-weights_manifest.json", dir);
    es_jval *probe = es_jval_parse_file(path);
    CHECK(probe != NULL);
    es_jval_free(probe);
    FILE *f = fopen(path, "rb");
    char *man = calloc(1, 1 << 16);
    size_t mlen = f ? fread(man, 1, (1 << 16) - 1, f) : 0;
    if (f) fclose(f);
    snprintf(path, sizeof path, "%s/tiny_face_detector_model.bin", dir);
    f = fopen(path, "rb");
    unsigned char *bin = malloc(1 << 18);
    size_t blen = f ? fread(bin, 1, 1 << 18, f) : 0;
    if (f) fclose(f);
    CHECK(mlen > 0 && blen == 193321);
    char *p = strstr(man, "\"conv8/filters\"");
    char *shape = p ? strstr(p, "512") : NULL;
    CHECK(shape != NULL);
    if (shape && mlen && blen) {
        /* [1,1,512,25] -> [1,1,25,512]: swap the two numbers in place (same text length) */
        char *s25 = strstr(shape, "25");
        CHECK(s25 != NULL && s25 - shape < 12);
        char fixed[64];
        size_t span = (size_t)(s25 + 2 - shape);
        snprintf(fixed, sizeof fixed, "25%.*s512", (int)(span - 5), shape + 3);
        memcpy(shape, fixed, span);
        put("tiny_face_detector_model-weights_manifest.json", man, mlen);
        put("tiny_face_detector_model.bin", bin, blen);
        es_weights *rw = es_weights_load(tmp, "tiny_face_detector_model");
        CHECK(rw != NULL);
        CHECK(rw && es_tinyface_new(rw) == NULL && error_has("conv8/filters: shape 1x1x25x512, expected 1x1x512x25"));
        es_weights_free(rw);
        put("tiny_face_detector_model.bin", bin, blen - 1000);
        CHECK(es_face_model_load(tmp) == NULL && error_has("truncated"));
    }
    CHECK(es_face_model_load("/nonexistent-dir") == NULL && error_has("run scripts/install-deps.sh"));
    free(bin);
    free(man);
    free(dir);
}

static void mkdirs(const char *path)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *s = buf + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            mkdir(buf, 0755);
            *s = '/';
        }
    mkdir(buf, 0755);
}

static void touch_probe(const char *root)
{
    char path[512];
    snprintf(path, sizeof path, "%s/models", root);
    mkdirs(path);
    snprintf(path, sizeof path, "%s/models/probe-%d.txt", root, (int)getpid());
    FILE *f = fopen(path, "w");
    if (f) fclose(f);
}

static void test_datadir(void)
{
    char a[300], x[300], h[300], probe[64], want[400];
    snprintf(a, sizeof a, "%s/envdata", tmp);
    snprintf(x, sizeof x, "%s/xdg", tmp);
    snprintf(h, sizeof h, "%s/home", tmp);
    snprintf(probe, sizeof probe, "probe-%d.txt", (int)getpid());
    char xe[350], he[350];
    snprintf(xe, sizeof xe, "%s/emsync", x);
    snprintf(he, sizeof he, "%s/.local/share/emsync", h);
    touch_probe(a);
    touch_probe(xe);
    touch_probe(he);
    setenv("EMSYNC_DATA", a, 1);
    setenv("XDG_DATA_HOME", x, 1);
    setenv("HOME", h, 1);
    char *d = es_datadir_find("models", probe);
    snprintf(want, sizeof want, "%s/models", a);
    CHECK(d && !strcmp(d, want));
    free(d);
    unsetenv("EMSYNC_DATA");
    d = es_datadir_find("models", probe);
    snprintf(want, sizeof want, "%s/models", xe);
    CHECK(d && !strcmp(d, want));
    free(d);
    unsetenv("XDG_DATA_HOME");
    d = es_datadir_find("models", probe);
    snprintf(want, sizeof want, "%s/models", he);
    CHECK(d && !strcmp(d, want));
    free(d);
    /* EMSYNC_DATA without the file falls through to the next place */
    setenv("EMSYNC_DATA", tmp, 1);
    d = es_datadir_find("models", probe);
    CHECK(d && !strcmp(d, want));
    free(d);
    CHECK(es_datadir_find("models", "no-such-file") == NULL && error_has("$EMSYNC_DATA"));
    d = es_datadir_find("models", NULL);  /* directory only */
    CHECK(d != NULL);
    free(d);

    /* an $EMSYNC_DATA longer than the lookup's 1023-character buffer is skipped, not cut short
     * (cut, it would name this existing 1023-character directory, which holds the probe) */
    char deep[1100];
    size_t at = (size_t)snprintf(deep, sizeof deep, "%s/long", tmp);
    CHECK(mkdir(deep, 0755) == 0);
    while (at < 1023) {
        size_t part = 1023 - at - 1 > 200 ? 200 : 1023 - at - 1;
        deep[at++] = '/';
        memset(deep + at, 'd', part);
        at += part;
        deep[at] = '\0';
        CHECK(mkdir(deep, 0755) == 0);
    }
    CHECK(strlen(deep) == 1023);
    char sub[1200];
    snprintf(sub, sizeof sub, "%s/models-long", deep);
    CHECK(mkdir(sub, 0755) == 0);
    snprintf(sub, sizeof sub, "%s/models-long/%s", deep, probe);
    FILE *pf = fopen(sub, "w");
    CHECK(pf != NULL);
    if (pf) fclose(pf);
    char env[1200];
    snprintf(env, sizeof env, "%szz", deep);
    setenv("EMSYNC_DATA", env, 1);
    d = es_datadir_find("models-long", probe);
    CHECK(d == NULL);
    free(d);
    setenv("EMSYNC_DATA", deep, 1); /* the same directory named in full is found */
    d = es_datadir_find("models-long", probe);
    CHECK(d != NULL && !strncmp(d, deep, 1023));
    free(d);
    unsetenv("EMSYNC_DATA");

    /* the executable's own install, <bin>/../share/emsync (here BUILD/share/emsync for
     * BUILD/tests/test_faces_weights), comes after the user roots and before /usr/local */
    char self[1024], listed[1200];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    CHECK(n > 0);
    if (n <= 0) return;
    self[n] = '\0';
    *strrchr(self, '/') = '\0';
    *strrchr(self, '/') = '\0';
    snprintf(listed, sizeof listed,
             "~/.local/share/emsync, %s/share/emsync, /usr/local/share/emsync", self);
    CHECK(es_datadir_find("models", "no-such-file") == NULL && error_has(listed));
    /* a probe there is found (HOME's probe would win first); rmdir leaves what was there */
    unsetenv("HOME");
    char own[1100], ownmodels[1200], path[1300];
    snprintf(own, sizeof own, "%s/share/emsync", self);
    snprintf(ownmodels, sizeof ownmodels, "%s/models", own);
    touch_probe(own);
    d = es_datadir_find("models", probe);
    CHECK(d && !strcmp(d, ownmodels));
    free(d);
    snprintf(path, sizeof path, "%s/%s", ownmodels, probe);
    unlink(path);
    rmdir(ownmodels);
    rmdir(own);
    snprintf(path, sizeof path, "%s/share", self);
    rmdir(path);
}

static void test_va(void)
{
    /* SPEC section 4: anger (-0.651, 0.664), disgust (-0.754, 0.255), fear (-0.800, 0.681),
     * joy (0.800, 0.477), sadness (-0.789, -0.800), surprise (0.389, 0.800); neutral at 0 */
    static const double want[ES_EXPRESSIONS][2] = {
        {0, 0}, {0.800, 0.477}, {-0.789, -0.800}, {-0.651, 0.664},
        {-0.800, 0.681}, {-0.754, 0.255}, {0.389, 0.800}};
    static const char *names[ES_EXPRESSIONS] = {"neutral", "happy", "sad", "angry", "fearful",
                                               "disgusted", "surprised"};
    for (int k = 0; k < ES_EXPRESSIONS; k++) {
        CHECK(!strcmp(es_expression_names[k], names[k]));
        es_face one = {0};
        one.expressions[k] = 1.0f;
        es_va point = es_face_va(&one);
        CHECK(point.valence == want[k][0] && point.arousal == want[k][1]);
    }
    es_face f = {0};
    f.expressions[ES_EXPR_HAPPY] = 0.5f;
    f.expressions[ES_EXPR_SAD] = 0.25f;
    f.expressions[ES_EXPR_NEUTRAL] = 0.25f;
    es_va va = es_face_va(&f);
    CHECK_NEAR(va.valence, 0.5 * 0.8 + 0.25 * -0.789, 1e-6);
    CHECK_NEAR(va.arousal, 0.5 * 0.477 + 0.25 * -0.8, 1e-6);
}

/* A hand-made expression net (zero filters, unit biases, so every feature is >= 1): sane fc
 * weights give a probability vector; huge ones overflow the logits, which must be an error
 * with all-zero probabilities, not NaN (NaN valence would later read as "no mood"). */
static void add_tensor(es_weights *w, const char *name, int rank, const int *shape, float v)
{
    es_tensor *t = &w->tensors[w->count++];
    t->name = strdup(name);
    t->rank = rank;
    t->count = 1;
    for (int d = 0; d < rank; d++) t->count *= (size_t)(t->shape[d] = shape[d]);
    t->data = malloc(t->count * sizeof *t->data);
    for (size_t i = 0; t->data && i < t->count; i++) t->data[i] = v;
}

static void test_expression_overflow(void)
{
    static const int ch[5] = {3, 32, 64, 128, 256};
    for (int big = 0; big < 2; big++) {
        es_weights w = {.path = "hand-made"};
        w.tensors = calloc(64, sizeof *w.tensors);
        CHECK(w.tensors != NULL);
        if (!w.tensors) return;
        char name[64];
        for (int b = 0; b < 4; b++)
            for (int k = 0; k < 4; k++) {
                int c = ch[b + 1], ci = k ? c : ch[b];
                if (!b && !k) {
                    add_tensor(&w, "dense0/conv0/filters", 4, (int[]){3, 3, 3, c}, 0);
                } else {
                    snprintf(name, sizeof name, "dense%d/conv%d/depthwise_filter", b, k);
                    add_tensor(&w, name, 4, (int[]){3, 3, ci, 1}, 0);
                    snprintf(name, sizeof name, "dense%d/conv%d/pointwise_filter", b, k);
                    add_tensor(&w, name, 4, (int[]){1, 1, ci, c}, 0);
                }
                snprintf(name, sizeof name, "dense%d/conv%d/bias", b, k);
                add_tensor(&w, name, 1, (int[]){c}, 1);
            }
        add_tensor(&w, "fc/weights", 2, (int[]){256, ES_EXPRESSIONS}, big ? 1e38f : 0);
        add_tensor(&w, "fc/bias", 1, (int[]){ES_EXPRESSIONS}, 0);
        w.tensors[w.count - 1].data[1] = logf(3); /* "happy" three times as likely as each other */
        es_expression *e = es_expression_new(&w);
        CHECK(e != NULL);
        uint8_t rgb[16 * 16 * 3];
        memset(rgb, 128, sizeof rgb);
        float probs[ES_EXPRESSIONS];
        int rc = e ? es_expression_run(e, rgb, 16, 16, 48, 0, 0, 16, 16, probs) : -2;
        if (!big) {
            CHECK(rc == 0);
            CHECK_NEAR(probs[1], 3.0 / 9, 1e-6);
            CHECK_NEAR(probs[0], 1.0 / 9, 1e-6);
        } else {
            int zero = 1;
            for (int k = 0; k < ES_EXPRESSIONS; k++) zero &= probs[k] == 0;
            CHECK(rc == -1 && zero && error_has("overflowed"));
        }
        es_expression_free(e);
        for (size_t i = 0; i < w.count; i++) {
            free(w.tensors[i].name);
            free(w.tensors[i].data);
        }
        free(w.tensors);
    }
}

static void cleanup(void)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
}

int main(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/es-faces-weights-XXXXXX");
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 1;
    }
    test_loader();
    test_json();
    test_real_models();
    test_datadir();
    test_va();
    test_expression_overflow();
    cleanup();
    return check_report("test_faces_weights");
}
