/* EMSYNC transformer: weight loading, the fast cached kernels and the naive reference.
 * Matrix weights are packed in panels of 16 output rows ([K][16] each) so one pass over a panel
 * serves up to 4 input rows with 8 vector accumulators; the panels are split over the thread
 * pool. Decoding is bound by memory traffic (weights, then the K/V sweep at long windows), which
 * is why 16-bit weights and caches are offered. See transformer.h. */
#include "nn/transformer.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "nn/checkpoint.h"
#include "nn/pool.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>
#define ES_SIMD 1
#else
#define ES_SIMD 0
#endif

#define PANEL 16
#define CHUNK_ROWS 64   /* rows per prefill pass over the weights */
#define NORM_SPLIT_ROWS 4 /* rows from which the residual and layer norm are split over the pool */

typedef struct {
    int n, k, npad;     /* outputs, inputs, outputs rounded up to PANEL */
    void *w;            /* npad/16 panels of [k][16], float or uint16 (fp16) */
    float *b;           /* npad biases, zero padded */
} linear;

typedef struct {
    linear qkv, o, ff1, ff2;
    float *E;                           /* context x d_head */
    float *ln1_w, *ln1_b, *ln2_w, *ln2_b;
} layer;

struct es_nn_model {
    es_nn_hparams hp;
    int half;
    size_t n_params, stream_bytes;
    float *emb;                         /* vocab x d */
    float *c_w1[2], *c_b1[2], *c_w2[2], *c_b2[2], *c_null[2];
    float *t_w1, *t_b1, *t_w2, *t_b2;   /* ff_times_to_chord */
    float *t_w2t;                       /* t_w2 transposed (d/4 x d/2), for the fast input rows */
    float *pe;                          /* context x d/2 */
    layer *layers;
    linear out;
    es_pool *pool;
};

struct es_nn_state {
    const es_nn_model *m;
    int n_seq;
    int *len;                           /* n_seq: rows cached */
    int *tok;                           /* n_seq x context: token per row, -1 for conditions */
    void *kc, *vc;                      /* n_seq x layers x heads x context x d_head: one head's
                                           rows are contiguous for the attention sweep */
    int kv_half;                        /* caches hold float16 (with 16-bit weights) */
    /* per-pass scratch for up to CHUNK_ROWS rows */
    int *row_seq, *row_pos;
    float *x, *qkv, *att, *tmp, *ff, *lg;
    float *scores;                      /* parts x context */
    float *wconv;                       /* parts x (max k * 16): fp16 panel converted */
    int ld_qkv, ld_d, ld_ff, ld_lg, max_k;
};

static int pad16(int n) { return (n + PANEL - 1) / PANEL * PANEL; }

/* ---------- loading ---------- */

typedef struct {
    const es_checkpoint *ck;
    const char *path;
    unsigned char *used;
    float *tmp;                         /* big enough for any tensor */
} loader;

static const es_tensor *get(loader *L, const char *name, int ndim, int64_t d0, int64_t d1, int64_t d2)
{
    const es_tensor *t = es_checkpoint_find(L->ck, name);
    if (!t) { es_fail("%s: tensor '%s' is missing (not an EMSYNC generator checkpoint)", L->path, name); return NULL; }
    int64_t want[3] = {d0, d1, d2};
    int ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++) ok = t->shape[i] == want[i];
    if (!ok) {
        char got[96] = "", need[96] = "";
        for (int i = 0; i < t->ndim; i++) snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", i ? "," : "", (long long)t->shape[i]);
        for (int i = 0; i < ndim; i++) snprintf(need + strlen(need), sizeof need - strlen(need), "%s%lld", i ? "," : "", (long long)want[i]);
        es_fail("%s: tensor '%s' has shape [%s], expected [%s]", L->path, name, got, need);
        return NULL;
    }
    L->used[t - es_checkpoint_tensor(L->ck, 0)] = 1;
    return t;
}

/* Copies a tensor of the given shape into a new float array. */
static float *get_f32(loader *L, const char *name, int ndim, int64_t d0, int64_t d1, int64_t d2)
{
    const es_tensor *t = get(L, name, ndim, d0, d1, d2);
    if (!t) return NULL;
    float *f = es_malloc(t->numel * sizeof *f);
    if (f) es_tensor_to_f32(t, f);
    return f;
}

static void put_w(linear *l, int half, int n, int k, float v)
{
    size_t at = ((size_t)(n / PANEL) * l->k + k) * PANEL + n % PANEL;
    if (half) ((uint16_t *)l->w)[at] = es_float_to_half(v);
    else ((float *)l->w)[at] = v;
}

static float lin_w(const linear *l, int half, int n, int k)
{
    size_t at = ((size_t)(n / PANEL) * l->k + k) * PANEL + n % PANEL;
    return half ? es_half_to_float(((const uint16_t *)l->w)[at]) : ((const float *)l->w)[at];
}

/* Packs the row-stacked weights "prefix{names[i]}.weight" ([rows, k] each) into one linear. */
static int load_linear(loader *L, es_nn_model *m, linear *l, const char *const *names, int count, int rows, int k)
{
    l->n = rows * count;
    l->k = k;
    l->npad = pad16(l->n);
    size_t esz = m->half ? 2 : 4;
    l->w = es_calloc((size_t)l->npad * k, esz);
    l->b = es_calloc((size_t)l->npad, sizeof *l->b);
    if (!l->w || !l->b) return -1;
    for (int i = 0; i < count; i++) {
        char name[96];
        snprintf(name, sizeof name, "%s.weight", names[i]);
        const es_tensor *w = get(L, name, 2, rows, k, 0);
        snprintf(name, sizeof name, "%s.bias", names[i]);
        const es_tensor *b = get(L, name, 1, rows, 0, 0);
        if (!w || !b) return -1;
        es_tensor_to_f32(w, L->tmp);
        for (int n = 0; n < rows; n++)
            for (int j = 0; j < k; j++) put_w(l, m->half, i * rows + n, j, L->tmp[(size_t)n * k + j]);
        es_tensor_to_f32(b, l->b + (size_t)i * rows);
    }
    m->stream_bytes += (size_t)l->npad * k * esz;
    return 0;
}

static void free_linear(linear *l)
{
    free(l->w);
    free(l->b);
}

es_nn_model *es_nn_model_load(const char *path, es_nn_format format, int n_threads)
{
    es_nn_model *m = NULL, *ret = NULL;
    loader L = {.path = path};
    es_checkpoint *ck = es_checkpoint_open(path);
    if (!ck) goto end;
    L.ck = ck;
    size_t nt = es_checkpoint_count(ck), max_numel = 0;
    L.used = es_calloc(nt, 1);
    if (!L.used) goto end;
    for (size_t i = 0; i < nt; i++)
        if (es_checkpoint_tensor(ck, i)->numel > max_numel) max_numel = es_checkpoint_tensor(ck, i)->numel;
    L.tmp = es_malloc(max_numel * sizeof(float));
    m = es_calloc(1, sizeof *m);
    if (!L.tmp || !m) goto end;
    m->half = format == ES_NN_F16;

    /* hyperparameters from the shapes */
    es_nn_hparams *hp = &m->hp;
    const es_tensor *emb = es_checkpoint_find(ck, "embedding.weight"), *pe = es_checkpoint_find(ck, "positional_encoding"),
                    *E0 = es_checkpoint_find(ck, "enc_layers.0.rga.E"), *ff0 = es_checkpoint_find(ck, "enc_layers.0.FFN_pre.weight");
    if (!emb || !pe || !E0 || !ff0 || emb->ndim != 2 || pe->ndim != 3 || E0->ndim != 2 || ff0->ndim != 2) {
        es_fail("%s: not an EMSYNC generator checkpoint (embedding, positional encoding or layer 0 missing)", path);
        goto end;
    }
    hp->vocab = (int)emb->shape[0];
    hp->d_model = (int)emb->shape[1];
    hp->context = (int)pe->shape[1];
    hp->d_head = (int)E0->shape[1];
    hp->d_ff = (int)ff0->shape[0];
    if (emb->shape[0] != 1011 || emb->shape[1] < 4 || emb->shape[1] > 4096 || emb->shape[1] % 4 || pe->shape[1] < 3 ||
        pe->shape[1] > 8192 || E0->shape[1] < 1 || emb->shape[1] % E0->shape[1] || ff0->shape[0] < 1 || ff0->shape[0] > 65536) {
        es_fail("%s: implausible model shape (vocab %lld, d_model %lld, context %lld, d_head %lld, ff %lld)", path,
                (long long)emb->shape[0], (long long)emb->shape[1], (long long)pe->shape[1], (long long)E0->shape[1], (long long)ff0->shape[0]);
        goto end;
    }
    hp->n_heads = hp->d_model / hp->d_head;
    for (hp->n_layers = 0; hp->n_layers < 256; hp->n_layers++) {
        char name[64];
        snprintf(name, sizeof name, "enc_layers.%d.rga.Wq.weight", hp->n_layers);
        if (!es_checkpoint_find(ck, name)) break;
    }
    int d = hp->d_model, ctx = hp->context;
    if (!(m->emb = get_f32(&L, "embedding.weight", 2, hp->vocab, d, 0))) goto end;
    if (!(m->pe = get_f32(&L, "positional_encoding", 3, 1, ctx, d / 2))) goto end;
    for (int k = 0; k < 2; k++) {
        char name[64];
        snprintf(name, sizeof name, "fc_conditions.%d.0.weight", k);
        if (!(m->c_w1[k] = get_f32(&L, name, 2, d / 2, 1, 0))) goto end;
        snprintf(name, sizeof name, "fc_conditions.%d.0.bias", k);
        if (!(m->c_b1[k] = get_f32(&L, name, 1, d / 2, 0, 0))) goto end;
        snprintf(name, sizeof name, "fc_conditions.%d.2.weight", k);
        if (!(m->c_w2[k] = get_f32(&L, name, 2, d, d / 2, 0))) goto end;
        snprintf(name, sizeof name, "fc_conditions.%d.2.bias", k);
        if (!(m->c_b2[k] = get_f32(&L, name, 1, d, 0, 0))) goto end;
        snprintf(name, sizeof name, "null_conditions.%d", k);
        if (!(m->c_null[k] = get_f32(&L, name, 2, 1, d, 0))) goto end;
    }
    if (!(m->t_w1 = get_f32(&L, "ff_times_to_chord.0.weight", 2, d / 4, 1, 0)) ||
        !(m->t_b1 = get_f32(&L, "ff_times_to_chord.0.bias", 1, d / 4, 0, 0)) ||
        !(m->t_w2 = get_f32(&L, "ff_times_to_chord.2.weight", 2, d / 2, d / 4, 0)) ||
        !(m->t_b2 = get_f32(&L, "ff_times_to_chord.2.bias", 1, d / 2, 0, 0)) ||
        !(m->t_w2t = es_malloc((size_t)(d / 2) * (d / 4) * sizeof *m->t_w2t)))
        goto end;
    for (int i = 0; i < d / 2; i++)
        for (int j = 0; j < d / 4; j++) m->t_w2t[(size_t)j * (d / 2) + i] = m->t_w2[(size_t)i * (d / 4) + j];
    if (hp->n_layers < 1) { es_fail("%s: no encoder layers", path); goto end; }
    m->layers = es_calloc((size_t)hp->n_layers, sizeof *m->layers);
    if (!m->layers) goto end;
    for (int i = 0; i < hp->n_layers; i++) {
        layer *ly = &m->layers[i];
        char p[6][64], name[96];
        snprintf(p[0], 64, "enc_layers.%d.rga.Wq", i);
        snprintf(p[1], 64, "enc_layers.%d.rga.Wk", i);
        snprintf(p[2], 64, "enc_layers.%d.rga.Wv", i);
        snprintf(p[3], 64, "enc_layers.%d.rga.fc", i);
        snprintf(p[4], 64, "enc_layers.%d.FFN_pre", i);
        snprintf(p[5], 64, "enc_layers.%d.FFN_suf", i);
        const char *qkv[3] = {p[0], p[1], p[2]}, *o[1] = {p[3]}, *f1[1] = {p[4]}, *f2[1] = {p[5]};
        if (load_linear(&L, m, &ly->qkv, qkv, 3, d, d) || load_linear(&L, m, &ly->o, o, 1, d, d) ||
            load_linear(&L, m, &ly->ff1, f1, 1, hp->d_ff, d) || load_linear(&L, m, &ly->ff2, f2, 1, d, hp->d_ff))
            goto end;
        snprintf(name, sizeof name, "enc_layers.%d.rga.E", i);
        if (!(ly->E = get_f32(&L, name, 2, ctx, hp->d_head, 0))) goto end;
        float **ln[4] = {&ly->ln1_w, &ly->ln1_b, &ly->ln2_w, &ly->ln2_b};
        for (int j = 0; j < 4; j++) {
            snprintf(name, sizeof name, "enc_layers.%d.layernorm%d.%s", i, j / 2 + 1, j % 2 ? "bias" : "weight");
            if (!(*ln[j] = get_f32(&L, name, 1, d, 0, 0))) goto end;
        }
    }
    const char *fc[1] = {"fc"};
    if (load_linear(&L, m, &m->out, fc, 1, hp->vocab, d)) goto end;
    for (size_t i = 0; i < nt; i++) {
        if (!L.used[i]) { es_fail("%s: unexpected tensor '%s' (not the EMSYNC generator's layout)", path, es_checkpoint_tensor(ck, i)->name); goto end; }
        m->n_params += es_checkpoint_tensor(ck, i)->numel;
    }
    if (!(m->pool = es_pool_new(n_threads))) goto end;
    ret = m;
    m = NULL;
end:
    es_nn_model_free(m);
    free(L.tmp);
    free(L.used);
    es_checkpoint_free(ck);
    return ret;
}

void es_nn_model_free(es_nn_model *m)
{
    if (!m) return;
    es_pool_free(m->pool);
    free_linear(&m->out);
    for (int i = 0; m->layers && i < m->hp.n_layers; i++) {
        layer *ly = &m->layers[i];
        free_linear(&ly->qkv); free_linear(&ly->o); free_linear(&ly->ff1); free_linear(&ly->ff2);
        free(ly->E); free(ly->ln1_w); free(ly->ln1_b); free(ly->ln2_w); free(ly->ln2_b);
    }
    free(m->layers);
    free(m->t_w1); free(m->t_b1); free(m->t_w2); free(m->t_b2); free(m->t_w2t);
    for (int k = 0; k < 2; k++) { free(m->c_w1[k]); free(m->c_b1[k]); free(m->c_w2[k]); free(m->c_b2[k]); free(m->c_null[k]); }
    free(m->pe);
    free(m->emb);
    free(m);
}

const es_nn_hparams *es_nn_model_hparams(const es_nn_model *m) { return &m->hp; }
size_t es_nn_model_params(const es_nn_model *m) { return m->n_params; }
size_t es_nn_model_stream_bytes(const es_nn_model *m) { return m->stream_bytes; }

/* ---------- shared pieces ---------- */

/* Input row for token t at position pos: embedding * sqrt(d) + [pe[pos] | times_to_chord(Δ)].
 * First the embedding (or condition -1 - k's row) and the offset MLP's hidden layer. */
static void input_base(const es_nn_model *m, int token, double valence, double arousal, float delta, float *x, float *hid)
{
    int d = m->hp.d_model, d2 = d / 2, d4 = d / 4;
    if (token >= 0) {
        float sc = sqrtf((float)d);
        for (int i = 0; i < d; i++) x[i] = m->emb[(size_t)token * d + i] * sc;
    } else { /* condition row -1 - k */
        int k = -1 - token;
        double v = k == 0 ? valence : arousal;
        if (isnan(v)) {
            memcpy(x, m->c_null[k], (size_t)d * sizeof *x);
        } else {
            for (int i = 0; i < d; i++) x[i] = m->c_b2[k][i];
            for (int j = 0; j < d2; j++) {
                float hj = m->c_w1[k][j] * (float)v + m->c_b1[k][j];
                if (hj <= 0) continue;
                for (int i = 0; i < d; i++) x[i] += m->c_w2[k][(size_t)i * d2 + j] * hj;
            }
        }
    }
    float in = 8.0f - delta;
    for (int j = 0; j < d4; j++) { float v = m->t_w1[j] * in + m->t_b1[j]; hid[j] = v > 0 ? v : 0; }
}

/* The naive forward's input row: the offset MLP's outputs one at a time. */
static void input_row_naive(const es_nn_model *m, int token, int pos, float delta, double valence, double arousal, float *x)
{
    int d = m->hp.d_model, d2 = d / 2, d4 = d / 4;
    float hid[1024];
    input_base(m, token, valence, arousal, delta, x, hid);
    for (int i = 0; i < d2; i++) {
        float o = m->t_b2[i];
        for (int j = 0; j < d4; j++) o += m->t_w2[(size_t)i * d4 + j] * hid[j];
        x[i] += m->pe[(size_t)pos * d2 + i];
        x[d2 + i] += o;
    }
}

/* The same row with the offset MLP eight outputs at a time over the transposed weights: each
 * output sums the same products in the same order, multiply then add, so the row is equal bit
 * for bit (the decoder feeds one such row per token, serially). */
static void input_row(const es_nn_model *m, int token, int pos, float delta, double valence, double arousal, float *x)
{
#if ES_SIMD
    int d = m->hp.d_model, d2 = d / 2, d4 = d / 4;
    if (d2 % 8 == 0) {
        float hid[1024];
        input_base(m, token, valence, arousal, delta, x, hid);
        const float *pe = m->pe + (size_t)pos * d2;
        for (int i = 0; i < d2; i += 8) {
            __m256 o = _mm256_loadu_ps(m->t_b2 + i);
            for (int j = 0; j < d4; j++)
                o = _mm256_add_ps(o, _mm256_mul_ps(_mm256_loadu_ps(m->t_w2t + (size_t)j * d2 + i), _mm256_set1_ps(hid[j])));
            _mm256_storeu_ps(x + i, _mm256_add_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(pe + i)));
            _mm256_storeu_ps(x + d2 + i, _mm256_add_ps(_mm256_loadu_ps(x + d2 + i), o));
        }
        return;
    }
#endif
    input_row_naive(m, token, pos, delta, valence, arousal, x);
}

static void layer_norm(float *x, const float *w, const float *b, int d)
{
    double mean = 0, var = 0;
    for (int i = 0; i < d; i++) mean += x[i];
    mean /= d;
    for (int i = 0; i < d; i++) var += (x[i] - mean) * (x[i] - mean);
    var /= d;
    float inv = (float)(1.0 / sqrt(var + 1e-6));
    for (int i = 0; i < d; i++) x[i] = ((float)(x[i] - mean)) * inv * w[i] + b[i];
}

/* ---------- naive reference ---------- */

static void naive_linear(const es_nn_model *m, const linear *l, const float *x, float *y, int relu)
{
    for (int n = 0; n < l->n; n++) {
        double s = l->b[n];
        for (int k = 0; k < l->k; k++) s += (double)lin_w(l, m->half, n, k) * x[k];
        y[n] = relu && s < 0 ? 0 : (float)s;
    }
}

int es_nn_forward_naive(const es_nn_model *m, const int *tokens, const float *deltas, int n,
                        double valence, double arousal, float *logits)
{
    const es_nn_hparams *hp = &m->hp;
    int L = n + 2, d = hp->d_model, dh = hp->d_head, rc = -1;
    if (n < 1 || L > hp->context) return es_fail("naive forward: %d tokens do not fit the context of %d", n, hp->context);
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= hp->vocab) return es_fail("naive forward: token %d out of range", tokens[i]);
    float *x = es_malloc((size_t)L * d * sizeof *x), *qkv = es_malloc((size_t)L * 3 * d * sizeof *qkv);
    float *att = es_malloc((size_t)d * sizeof *att), *tmp = es_malloc((size_t)d * sizeof *tmp);
    float *ff = es_malloc((size_t)hp->d_ff * sizeof *ff), *p = es_malloc((size_t)L * sizeof *p);
    if (!x || !qkv || !att || !tmp || !ff || !p) goto end;
    for (int r = 0; r < L; r++)
        input_row_naive(m, r < 2 ? -1 - r : tokens[r - 2], r, r < 2 ? deltas[0] : deltas[r - 2], valence, arousal, x + (size_t)r * d);
    for (int li = 0; li < hp->n_layers; li++) {
        const layer *ly = &m->layers[li];
        for (int r = 0; r < L; r++) naive_linear(m, &ly->qkv, x + (size_t)r * d, qkv + (size_t)r * 3 * d, 0);
        for (int i = 0; i < L; i++) {
            for (int h = 0; h < hp->n_heads; h++) {
                const float *q = qkv + (size_t)i * 3 * d + h * dh;
                double mx = -INFINITY, sum = 0;
                for (int j = 0; j <= i; j++) {
                    int pad = j >= 2 && tokens[j - 2] == 0;
                    const float *k = qkv + (size_t)j * 3 * d + d + h * dh, *e = ly->E + (size_t)(hp->context - 1 - (i - j)) * dh;
                    double s = 0;
                    for (int c = 0; c < dh; c++) s += (double)q[c] * k[c] + (double)q[c] * e[c];
                    p[j] = pad ? -INFINITY : (float)(s / sqrt((double)dh));
                    if (p[j] > mx) mx = p[j];
                }
                for (int j = 0; j <= i; j++) { p[j] = (float)exp(p[j] - mx); sum += p[j]; }
                for (int c = 0; c < dh; c++) {
                    double s = 0;
                    for (int j = 0; j <= i; j++) s += p[j] * qkv[(size_t)j * 3 * d + 2 * d + h * dh + c];
                    att[h * dh + c] = (float)(s / sum);
                }
            }
            /* att is row i's attention; the residual uses x[i], which later rows do not read */
            naive_linear(m, &ly->o, att, tmp, 0);
            float *xi = x + (size_t)i * d;
            for (int c = 0; c < d; c++) xi[c] += tmp[c];
            layer_norm(xi, ly->ln1_w, ly->ln1_b, d);
            naive_linear(m, &ly->ff1, xi, ff, 1);
            naive_linear(m, &ly->ff2, ff, tmp, 0);
            for (int c = 0; c < d; c++) xi[c] += tmp[c];
            layer_norm(xi, ly->ln2_w, ly->ln2_b, d);
        }
    }
    for (int r = 0; r < L; r++) naive_linear(m, &m->out, x + (size_t)r * d, logits + (size_t)r * hp->vocab, 0);
    rc = 0;
end:
    free(p); free(ff); free(tmp); free(att); free(qkv); free(x);
    return rc;
}

/* ---------- fast kernels ---------- */

typedef struct {
    const linear *l;
    int half;
    const float *x; int ldx;   /* R rows of l->k inputs */
    int R;
    float *y; int ldy;         /* R rows of l->npad outputs */
    int relu;
    float *wconv; int wconv_stride;
} gemm_job;

#if ES_SIMD
static inline __m256 load_w8(const void *w, int half, size_t at)
{
    if (half) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)w + at)));
    return _mm256_loadu_ps((const float *)w + at);
}

static inline void store16(float *y, __m256 a, __m256 b, const float *bias, int relu)
{
    a = _mm256_add_ps(a, _mm256_loadu_ps(bias));
    b = _mm256_add_ps(b, _mm256_loadu_ps(bias + 8));
    if (relu) { a = _mm256_max_ps(a, _mm256_setzero_ps()); b = _mm256_max_ps(b, _mm256_setzero_ps()); }
    _mm256_storeu_ps(y, a);
    _mm256_storeu_ps(y + 8, b);
}

/* 16 outputs of one panel for 4 rows. */
static void panel4(const void *w, int half, int K, const float *x, int ldx, float *y, int ldy, const float *bias, int relu)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
    const float *x0 = x, *x1 = x + ldx, *x2 = x + 2 * ldx, *x3 = x + 3 * ldx;
    for (int k = 0; k < K; k++) {
        __m256 w0 = load_w8(w, half, (size_t)k * 16), w1 = load_w8(w, half, (size_t)k * 16 + 8);
        __m256 v = _mm256_broadcast_ss(x0 + k);
        a0 = _mm256_fmadd_ps(v, w0, a0); a1 = _mm256_fmadd_ps(v, w1, a1);
        v = _mm256_broadcast_ss(x1 + k);
        b0 = _mm256_fmadd_ps(v, w0, b0); b1 = _mm256_fmadd_ps(v, w1, b1);
        v = _mm256_broadcast_ss(x2 + k);
        c0 = _mm256_fmadd_ps(v, w0, c0); c1 = _mm256_fmadd_ps(v, w1, c1);
        v = _mm256_broadcast_ss(x3 + k);
        d0 = _mm256_fmadd_ps(v, w0, d0); d1 = _mm256_fmadd_ps(v, w1, d1);
    }
    store16(y, a0, a1, bias, relu);
    store16(y + ldy, b0, b1, bias, relu);
    store16(y + 2 * ldy, c0, c1, bias, relu);
    store16(y + 3 * ldy, d0, d1, bias, relu);
}

/* 16 outputs of one panel for 1 row; two accumulator pairs hide the FMA latency. */
static void panel1(const void *w, int half, int K, const float *x, float *y, const float *bias, int relu)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, b0 = a0, b1 = a0;
    int k = 0;
    for (; k + 1 < K; k += 2) {
        __m256 v = _mm256_broadcast_ss(x + k), u = _mm256_broadcast_ss(x + k + 1);
        a0 = _mm256_fmadd_ps(v, load_w8(w, half, (size_t)k * 16), a0);
        a1 = _mm256_fmadd_ps(v, load_w8(w, half, (size_t)k * 16 + 8), a1);
        b0 = _mm256_fmadd_ps(u, load_w8(w, half, (size_t)k * 16 + 16), b0);
        b1 = _mm256_fmadd_ps(u, load_w8(w, half, (size_t)k * 16 + 24), b1);
    }
    for (; k < K; k++) {
        __m256 v = _mm256_broadcast_ss(x + k);
        a0 = _mm256_fmadd_ps(v, load_w8(w, half, (size_t)k * 16), a0);
        a1 = _mm256_fmadd_ps(v, load_w8(w, half, (size_t)k * 16 + 8), a1);
    }
    store16(y, _mm256_add_ps(a0, b0), _mm256_add_ps(a1, b1), bias, relu);
}
/* 16 outputs of one panel for 3 rows (a decoding step with three candidates), each row summed
 * as panel1 sums it (even and odd k apart, then together), so a row's outputs do not depend on
 * whether it is computed alone or beside two others; the panel's weights are read once for
 * the three. */
static void panel3(const void *w, int half, int K, const float *x, int ldx, float *y, int ldy, const float *bias, int relu)
{
    const float *x0 = x, *x1 = x + ldx, *x2 = x + 2 * ldx;
    __m256 a00 = _mm256_setzero_ps(), a01 = a00, b00 = a00, b01 = a00; /* row 0: even k, odd k */
    __m256 a10 = a00, a11 = a00, b10 = a00, b11 = a00;
    __m256 a20 = a00, a21 = a00, b20 = a00, b21 = a00;
    int k = 0;
    for (; k + 1 < K; k += 2) {
        __m256 w0 = load_w8(w, half, (size_t)k * 16), w1 = load_w8(w, half, (size_t)k * 16 + 8), v;
        v = _mm256_broadcast_ss(x0 + k); a00 = _mm256_fmadd_ps(v, w0, a00); a01 = _mm256_fmadd_ps(v, w1, a01);
        v = _mm256_broadcast_ss(x1 + k); a10 = _mm256_fmadd_ps(v, w0, a10); a11 = _mm256_fmadd_ps(v, w1, a11);
        v = _mm256_broadcast_ss(x2 + k); a20 = _mm256_fmadd_ps(v, w0, a20); a21 = _mm256_fmadd_ps(v, w1, a21);
        w0 = load_w8(w, half, (size_t)k * 16 + 16);
        w1 = load_w8(w, half, (size_t)k * 16 + 24);
        v = _mm256_broadcast_ss(x0 + k + 1); b00 = _mm256_fmadd_ps(v, w0, b00); b01 = _mm256_fmadd_ps(v, w1, b01);
        v = _mm256_broadcast_ss(x1 + k + 1); b10 = _mm256_fmadd_ps(v, w0, b10); b11 = _mm256_fmadd_ps(v, w1, b11);
        v = _mm256_broadcast_ss(x2 + k + 1); b20 = _mm256_fmadd_ps(v, w0, b20); b21 = _mm256_fmadd_ps(v, w1, b21);
    }
    for (; k < K; k++) {
        __m256 w0 = load_w8(w, half, (size_t)k * 16), w1 = load_w8(w, half, (size_t)k * 16 + 8), v;
        v = _mm256_broadcast_ss(x0 + k); a00 = _mm256_fmadd_ps(v, w0, a00); a01 = _mm256_fmadd_ps(v, w1, a01);
        v = _mm256_broadcast_ss(x1 + k); a10 = _mm256_fmadd_ps(v, w0, a10); a11 = _mm256_fmadd_ps(v, w1, a11);
        v = _mm256_broadcast_ss(x2 + k); a20 = _mm256_fmadd_ps(v, w0, a20); a21 = _mm256_fmadd_ps(v, w1, a21);
    }
    store16(y, _mm256_add_ps(a00, b00), _mm256_add_ps(a01, b01), bias, relu);
    store16(y + ldy, _mm256_add_ps(a10, b10), _mm256_add_ps(a11, b11), bias, relu);
    store16(y + 2 * ldy, _mm256_add_ps(a20, b20), _mm256_add_ps(a21, b21), bias, relu);
}
#else
static void panel_rows(const void *w, int half, int K, const float *x, int ldx, int R, float *y, int ldy, const float *bias, int relu)
{
    for (int r = 0; r < R; r++) {
        float acc[PANEL] = {0};
        for (int k = 0; k < K; k++) {
            float v = x[(size_t)r * ldx + k];
            for (int j = 0; j < PANEL; j++)
                acc[j] += v * (half ? es_half_to_float(((const uint16_t *)w)[(size_t)k * 16 + j]) : ((const float *)w)[(size_t)k * 16 + j]);
        }
        for (int j = 0; j < PANEL; j++) {
            float o = acc[j] + bias[j];
            y[(size_t)r * ldy + j] = relu && o < 0 ? 0 : o;
        }
    }
}
#endif

static void gemm_part(void *arg, int part, int parts)
{
    const gemm_job *g = arg;
    const linear *l = g->l;
    int P = l->npad / PANEL, p0 = (int)((long)P * part / parts), p1 = (int)((long)P * (part + 1) / parts);
    size_t esz = g->half ? 2 : 4;
    for (int p = p0; p < p1; p++) {
        const void *w = (const uint8_t *)l->w + (size_t)p * l->k * PANEL * esz;
        int half = g->half;
        if (half && g->R > 4) { /* convert once, reuse for every row block */
            float *c = g->wconv + (size_t)part * g->wconv_stride;
            size_t i = 0, cnt = (size_t)l->k * PANEL;
#if ES_SIMD
            for (; i + 8 <= cnt; i += 8) _mm256_storeu_ps(c + i, load_w8(w, 1, i));
#endif
            for (; i < cnt; i++) c[i] = es_half_to_float(((const uint16_t *)w)[i]);
            w = c;
            half = 0;
        }
        const float *bias = l->b + p * PANEL;
        float *y = g->y + p * PANEL;
#if ES_SIMD
        int r = 0;
        for (; r + 4 <= g->R; r += 4)
            panel4(w, half, l->k, g->x + (size_t)r * g->ldx, g->ldx, y + (size_t)r * g->ldy, g->ldy, bias, g->relu);
        if (g->R - r == 3) {
            panel3(w, half, l->k, g->x + (size_t)r * g->ldx, g->ldx, y + (size_t)r * g->ldy, g->ldy, bias, g->relu);
            r += 3;
        }
        for (; r < g->R; r++) panel1(w, half, l->k, g->x + (size_t)r * g->ldx, y + (size_t)r * g->ldy, bias, g->relu);
#else
        panel_rows(w, half, l->k, g->x, g->ldx, g->R, y, g->ldy, bias, g->relu);
#endif
    }
}

static void gemm(es_nn_state *s, const linear *l, const float *x, int ldx, int R, float *y, int ldy, int relu)
{
    gemm_job g = {l, s->m->half, x, ldx, R, y, ldy, relu, s->wconv, s->max_k * PANEL};
    es_pool_run(s->m->pool, gemm_part, &g);
}

/* Cached keys and values are float32, or float16 with 16-bit weights (half the traffic of the
 * attention sweep, which dominates decoding at a full window). These helpers are inlined with a
 * constant `half` so each variant compiles without the test in its loop. */
#define ALWAYS_INLINE static inline __attribute__((always_inline))

ALWAYS_INLINE float kv_get(const void *p, int half, size_t i)
{
    return half ? es_half_to_float(((const uint16_t *)p)[i]) : ((const float *)p)[i];
}

#if ES_SIMD
ALWAYS_INLINE __m256 kv_load8(const void *p, int half, size_t i)
{
    if (half) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)p + i)));
    return _mm256_loadu_ps((const float *)p + i);
}
#endif

#if ES_SIMD
ALWAYS_INLINE float hsum8(__m256 acc)
{
    __m128 v = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    v = _mm_add_ps(v, _mm_movehl_ps(v, v));
    v = _mm_add_ss(v, _mm_movehdup_ps(v));
    return _mm_cvtss_f32(v);
}
#endif

/* q.k + q.e with one reduction. */
ALWAYS_INLINE float dot2(const float *q, const void *k, int half, const float *e, int n)
{
#if ES_SIMD
    if (n % 8 == 0) {
        __m256 acc = _mm256_setzero_ps();
        for (int i = 0; i < n; i += 8) {
            __m256 qv = _mm256_loadu_ps(q + i);
            acc = _mm256_fmadd_ps(qv, kv_load8(k, half, (size_t)i), acc);
            acc = _mm256_fmadd_ps(qv, _mm256_loadu_ps(e + i), acc);
        }
        return hsum8(acc);
    }
#endif
    float s = 0;
    for (int i = 0; i < n; i++) s += q[i] * kv_get(k, half, (size_t)i) + q[i] * e[i];
    return s;
}

#if ES_SIMD
/* dot2 of q with four consecutive keys (rows of K and e), each summed exactly as dot2 sums
 * it: one key's sum is a chain of dependent multiply-adds, so four at once keep the FMA
 * units busy where one would wait on each result. n % 8 == 0. */
ALWAYS_INLINE void dot2x4(const float *q, const void *K, int half, const float *e, int n, float *out)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int i = 0; i < n; i += 8) {
        __m256 qv = _mm256_loadu_ps(q + i);
        a0 = _mm256_fmadd_ps(qv, kv_load8(K, half, (size_t)i), a0);
        a0 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(e + i), a0);
        a1 = _mm256_fmadd_ps(qv, kv_load8(K, half, (size_t)n + i), a1);
        a1 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(e + n + i), a1);
        a2 = _mm256_fmadd_ps(qv, kv_load8(K, half, (size_t)2 * n + i), a2);
        a2 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(e + 2 * n + i), a2);
        a3 = _mm256_fmadd_ps(qv, kv_load8(K, half, (size_t)3 * n + i), a3);
        a3 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(e + 3 * n + i), a3);
    }
    out[0] = hsum8(a0);
    out[1] = hsum8(a1);
    out[2] = hsum8(a2);
    out[3] = hsum8(a3);
}
#endif

/* o[0..dh) = scale * sum_j p[j] * V[j][0..dh): the attention-weighted values of one head,
 * whose cached rows are contiguous. */
ALWAYS_INLINE void weighted_sum(const float *p, float scale, const void *V, int half, int n, int dh, float *o)
{
#if ES_SIMD
    if (dh == 64) { /* the released model: eight accumulators stay in registers */
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int j = 0; j < n; j++) {
            if (p[j] == 0) continue;
            size_t at = (size_t)j * 64;
            __m256 w = _mm256_set1_ps(p[j]);
            a0 = _mm256_fmadd_ps(w, kv_load8(V, half, at), a0);
            a1 = _mm256_fmadd_ps(w, kv_load8(V, half, at + 8), a1);
            a2 = _mm256_fmadd_ps(w, kv_load8(V, half, at + 16), a2);
            a3 = _mm256_fmadd_ps(w, kv_load8(V, half, at + 24), a3);
            a4 = _mm256_fmadd_ps(w, kv_load8(V, half, at + 32), a4);
            a5 = _mm256_fmadd_ps(w, kv_load8(V, half, at + 40), a5);
            a6 = _mm256_fmadd_ps(w, kv_load8(V, half, at + 48), a6);
            a7 = _mm256_fmadd_ps(w, kv_load8(V, half, at + 56), a7);
        }
        __m256 sc = _mm256_set1_ps(scale);
        _mm256_storeu_ps(o, _mm256_mul_ps(a0, sc));
        _mm256_storeu_ps(o + 8, _mm256_mul_ps(a1, sc));
        _mm256_storeu_ps(o + 16, _mm256_mul_ps(a2, sc));
        _mm256_storeu_ps(o + 24, _mm256_mul_ps(a3, sc));
        _mm256_storeu_ps(o + 32, _mm256_mul_ps(a4, sc));
        _mm256_storeu_ps(o + 40, _mm256_mul_ps(a5, sc));
        _mm256_storeu_ps(o + 48, _mm256_mul_ps(a6, sc));
        _mm256_storeu_ps(o + 56, _mm256_mul_ps(a7, sc));
        return;
    }
    if (dh % 8 == 0) {
        for (int c = 0; c < dh; c++) o[c] = 0;
        for (int j = 0; j < n; j++) {
            if (p[j] == 0) continue;
            __m256 w = _mm256_set1_ps(p[j]);
            for (int c = 0; c < dh; c += 8)
                _mm256_storeu_ps(o + c, _mm256_fmadd_ps(w, kv_load8(V, half, (size_t)j * dh + c), _mm256_loadu_ps(o + c)));
        }
        for (int c = 0; c < dh; c++) o[c] *= scale;
        return;
    }
#endif
    for (int c = 0; c < dh; c++) o[c] = 0;
    for (int j = 0; j < n; j++) {
        if (p[j] == 0) continue;
        for (int c = 0; c < dh; c++) o[c] += p[j] * kv_get(V, half, (size_t)j * dh + c);
    }
    for (int c = 0; c < dh; c++) o[c] *= scale;
}

/* One (row, head) attention; inlined twice, for float32 and float16 caches. */
ALWAYS_INLINE void attend(const float *q, const void *K, const void *V, int half, const float *Er, const int *tok, int pos,
                          int dh, float scale, float *sc, float *o)
{
    float mx = -INFINITY;
    int j0 = 0;
#if ES_SIMD
    if (dh % 8 == 0)
        for (; j0 + 4 <= pos + 1; j0 += 4) {
            float d4[4];
            dot2x4(q, half ? (const void *)((const uint16_t *)K + (size_t)j0 * dh) : (const void *)((const float *)K + (size_t)j0 * dh),
                   half, Er + (size_t)j0 * dh, dh, d4);
            for (int t = 0; t < 4; t++) {
                float v = tok[j0 + t] == 0 ? -INFINITY : d4[t] * scale;
                sc[j0 + t] = v;
                if (v > mx) mx = v;
            }
        }
#endif
    for (int j = j0; j <= pos; j++) {
        if (tok[j] == 0) { sc[j] = -INFINITY; continue; }
        float v = dot2(q, half ? (const void *)((const uint16_t *)K + (size_t)j * dh) : (const void *)((const float *)K + (size_t)j * dh),
                       half, Er + (size_t)j * dh, dh) * scale;
        sc[j] = v;
        if (v > mx) mx = v;
    }
    float sum = 0;
    for (int j = 0; j <= pos; j++) { sc[j] = expf(sc[j] - mx); sum += sc[j]; }
    weighted_sum(sc, 1.0f / sum, V, half, pos + 1, dh, o);
}

typedef struct { es_nn_state *s; int layer, R; } attn_job;

/* Attention for (row, head) tasks split over the parts; K and V of every row are cached already. */
static void attn_part(void *arg, int part, int parts)
{
    const attn_job *a = arg;
    es_nn_state *s = a->s;
    const es_nn_model *m = s->m;
    const es_nn_hparams *hp = &m->hp;
    int H = hp->n_heads, dh = hp->d_head, ctx = hp->context;
    int T = a->R * H, t0 = (int)((long)T * part / parts), t1 = (int)((long)T * (part + 1) / parts);
    float *sc = s->scores + (size_t)part * ctx;
    float scale = 1.0f / sqrtf((float)dh);
    const float *E = m->layers[a->layer].E;
    for (int t = t0; t < t1; t++) {
        int r = t / H, h = t % H, seq = s->row_seq[r], pos = s->row_pos[r];
        const float *q = s->qkv + (size_t)r * s->ld_qkv + h * dh;
        size_t base = (((size_t)seq * hp->n_layers + a->layer) * H + h) * ctx * dh;
        const int *tok = s->tok + (size_t)seq * ctx;
        const float *Er = E + (size_t)(ctx - 1 - pos) * dh; /* Er[j] = E[ctx - 1 - (pos - j)] */
        float *o = s->att + (size_t)r * s->ld_d + h * dh;
        if (s->kv_half)
            attend(q, (const uint16_t *)s->kc + base, (const uint16_t *)s->vc + base, 1, Er, tok, pos, dh, scale, sc, o);
        else
            attend(q, (const float *)s->kc + base, (const float *)s->vc + base, 0, Er, tok, pos, dh, scale, sc, o);
    }
}

typedef struct { es_nn_state *s; int R; const float *w, *b; } norm_job;

/* x += tmp, then layer norm, for the rows of this part. */
static void add_norm_part(void *arg, int part, int parts)
{
    const norm_job *n = arg;
    es_nn_state *s = n->s;
    int d = s->m->hp.d_model, r0 = (int)((long)n->R * part / parts), r1 = (int)((long)n->R * (part + 1) / parts);
    for (int r = r0; r < r1; r++) {
        float *x = s->x + (size_t)r * s->ld_d, *t = s->tmp + (size_t)r * s->ld_d;
        for (int c = 0; c < d; c++) x[c] += t[c];
        layer_norm(x, n->w, n->b, d);
    }
}

/* Rows are independent, so a prefill's rows are split over the pool; a decoding step's few
 * rows are cheaper on the calling thread than a hand-off. */
static void add_norm(es_nn_state *s, int R, const float *w, const float *b)
{
    norm_job n = {s, R, w, b};
    if (R >= NORM_SPLIT_ROWS) es_pool_run(s->m->pool, add_norm_part, &n);
    else add_norm_part(&n, 0, 1);
}

/* Runs R prepared rows (s->x, s->row_seq, s->row_pos) through all layers; logits for rows
 * [first_logit, R) go to s->lg. */
static void run_rows(es_nn_state *s, int R, int first_logit)
{
    const es_nn_model *m = s->m;
    const es_nn_hparams *hp = &m->hp;
    int d = hp->d_model, ctx = hp->context;
    for (int li = 0; li < hp->n_layers; li++) {
        const layer *ly = &m->layers[li];
        gemm(s, &ly->qkv, s->x, s->ld_d, R, s->qkv, s->ld_qkv, 0);
        for (int r = 0; r < R; r++)
            for (int h = 0; h < hp->n_heads; h++) {
                size_t at = ((((size_t)s->row_seq[r] * hp->n_layers + li) * hp->n_heads + h) * ctx + s->row_pos[r]) * hp->d_head;
                const float *src = s->qkv + (size_t)r * s->ld_qkv + d + h * hp->d_head;
                if (s->kv_half) {
                    es_floats_to_half(src, (uint16_t *)s->kc + at, (size_t)hp->d_head);
                    es_floats_to_half(src + d, (uint16_t *)s->vc + at, (size_t)hp->d_head);
                } else {
                    memcpy((float *)s->kc + at, src, (size_t)hp->d_head * sizeof(float));
                    memcpy((float *)s->vc + at, src + d, (size_t)hp->d_head * sizeof(float));
                }
            }
        attn_job a = {s, li, R};
        es_pool_run(m->pool, attn_part, &a);
        gemm(s, &ly->o, s->att, s->ld_d, R, s->tmp, s->ld_d, 0);
        add_norm(s, R, ly->ln1_w, ly->ln1_b);
        gemm(s, &ly->ff1, s->x, s->ld_d, R, s->ff, s->ld_ff, 1);
        gemm(s, &ly->ff2, s->ff, s->ld_ff, R, s->tmp, s->ld_d, 0);
        add_norm(s, R, ly->ln2_w, ly->ln2_b);
    }
    if (first_logit < R)
        gemm(s, &m->out, s->x + (size_t)first_logit * s->ld_d, s->ld_d, R - first_logit, s->lg, s->ld_lg, 0);
}

es_nn_state *es_nn_state_new(const es_nn_model *m, int n_seq)
{
    const es_nn_hparams *hp = &m->hp;
    es_nn_state *s = es_calloc(1, sizeof *s);
    if (!s) return NULL;
    s->m = m;
    s->n_seq = n_seq;
    int parts = es_pool_size(m->pool);
    size_t cache = (size_t)n_seq * hp->n_layers * hp->context * hp->d_model;
    s->ld_d = pad16(hp->d_model);
    s->ld_qkv = pad16(3 * hp->d_model);
    s->ld_ff = pad16(hp->d_ff);
    s->ld_lg = pad16(hp->vocab);
    s->max_k = hp->d_ff > hp->d_model ? hp->d_ff : hp->d_model;
    s->len = es_calloc((size_t)n_seq, sizeof *s->len);
    s->tok = es_calloc((size_t)n_seq * hp->context, sizeof *s->tok);
    s->kv_half = m->half;
    s->kc = es_malloc(cache * (s->kv_half ? 2 : 4));
    s->vc = es_malloc(cache * (s->kv_half ? 2 : 4));
    s->row_seq = es_calloc(CHUNK_ROWS, sizeof(int));
    s->row_pos = es_calloc(CHUNK_ROWS, sizeof(int));
    s->x = es_calloc((size_t)CHUNK_ROWS * s->ld_d, sizeof(float));
    s->att = es_calloc((size_t)CHUNK_ROWS * s->ld_d, sizeof(float));
    s->tmp = es_calloc((size_t)CHUNK_ROWS * s->ld_d, sizeof(float));
    s->qkv = es_calloc((size_t)CHUNK_ROWS * s->ld_qkv, sizeof(float));
    s->ff = es_calloc((size_t)CHUNK_ROWS * s->ld_ff, sizeof(float));
    s->lg = es_calloc((size_t)CHUNK_ROWS * s->ld_lg, sizeof(float));
    s->scores = es_calloc((size_t)parts * hp->context, sizeof(float));
    s->wconv = es_calloc((size_t)parts * s->max_k * PANEL, sizeof(float));
    if (!s->len || !s->tok || !s->kc || !s->vc || !s->row_seq || !s->row_pos || !s->x || !s->att || !s->tmp ||
        !s->qkv || !s->ff || !s->lg || !s->scores || !s->wconv) {
        es_nn_state_free(s);
        return NULL;
    }
    return s;
}

void es_nn_state_free(es_nn_state *s)
{
    if (!s) return;
    free(s->wconv); free(s->scores); free(s->lg); free(s->ff); free(s->qkv); free(s->tmp); free(s->att);
    free(s->x); free(s->row_pos); free(s->row_seq); free(s->vc); free(s->kc); free(s->tok); free(s->len);
    free(s);
}

int es_nn_state_len(const es_nn_state *s, int seq) { return s->len[seq]; }

void es_nn_model_run(const es_nn_model *m, void (*fn)(void *arg, int part, int parts), void *arg)
{
    es_pool_run(m->pool, fn, arg);
}

int es_nn_model_parts(const es_nn_model *m) { return es_pool_size(m->pool); }

int es_nn_copy(es_nn_state *s, int from, int to)
{
    if (from < 0 || from >= s->n_seq || to < 0 || to >= s->n_seq) return es_fail("transformer: no sequence %d or %d", from, to);
    if (from == to) return 0;
    const es_nn_hparams *hp = &s->m->hp;
    size_t ctx = (size_t)hp->context, esz = s->kv_half ? 2 : 4, head = ctx * hp->d_head * esz;
    size_t per_seq = (size_t)hp->n_layers * hp->n_heads * head, used = (size_t)s->len[from] * hp->d_head * esz;
    /* one head's rows are contiguous: copy only the filled rows of each (layer, head) */
    for (size_t lh = 0; lh < (size_t)hp->n_layers * hp->n_heads; lh++) {
        memcpy((char *)s->kc + to * per_seq + lh * head, (const char *)s->kc + from * per_seq + lh * head, used);
        memcpy((char *)s->vc + to * per_seq + lh * head, (const char *)s->vc + from * per_seq + lh * head, used);
    }
    memcpy(s->tok + to * ctx, s->tok + from * ctx, (size_t)s->len[from] * sizeof *s->tok);
    s->len[to] = s->len[from];
    return 0;
}

int es_nn_begin(es_nn_state *s, int seq, double valence, double arousal, float delta0, float *logits)
{
    if (seq < 0 || seq >= s->n_seq) return es_fail("transformer: no sequence %d", seq);
    int ctx = s->m->hp.context;
    s->len[seq] = 0;
    for (int r = 0; r < 2; r++) {
        s->row_seq[r] = seq;
        s->row_pos[r] = r;
        s->tok[(size_t)seq * ctx + r] = -1;
        input_row(s->m, -1 - r, r, delta0, valence, arousal, s->x + (size_t)r * s->ld_d);
    }
    if (!isfinite(delta0)) return es_fail("transformer: boundary offset is not finite");
    run_rows(s, 2, logits ? 0 : 2);
    s->len[seq] = 2;
    for (int r = 0; logits && r < 2; r++)
        memcpy(logits + (size_t)r * s->m->hp.vocab, s->lg + (size_t)r * s->ld_lg, (size_t)s->m->hp.vocab * sizeof(float));
    return 0;
}

static int check_token(const es_nn_state *s, int t, float delta)
{
    if (t < 0 || t >= s->m->hp.vocab) return es_fail("transformer: token %d out of range", t);
    if (!isfinite(delta)) return es_fail("transformer: boundary offset is not finite");
    return 0;
}

int es_nn_feed(es_nn_state *s, int seq, const int *tokens, const float *deltas, int n, float *logits_last, float *logits_all)
{
    const es_nn_hparams *hp = &s->m->hp;
    if (seq < 0 || seq >= s->n_seq || s->len[seq] < 2) return es_fail("transformer: sequence %d not begun", seq);
    if (n < 1) return es_fail("transformer: nothing to feed");
    if (n > hp->context - s->len[seq]) return es_fail("transformer: %d more tokens overflow the context of %d", n, hp->context);
    for (int i = 0; i < n; i++)
        if (check_token(s, tokens[i], deltas[i])) return -1;
    for (int i0 = 0; i0 < n; i0 += CHUNK_ROWS) {
        int R = n - i0 < CHUNK_ROWS ? n - i0 : CHUNK_ROWS;
        for (int r = 0; r < R; r++) {
            int pos = s->len[seq] + r;
            s->row_seq[r] = seq;
            s->row_pos[r] = pos;
            s->tok[(size_t)seq * hp->context + pos] = tokens[i0 + r];
            input_row(s->m, tokens[i0 + r], pos, deltas[i0 + r], 0, 0, s->x + (size_t)r * s->ld_d);
        }
        int last_chunk = i0 + R == n;
        int first = logits_all ? 0 : (logits_last && last_chunk ? R - 1 : R);
        run_rows(s, R, first);
        s->len[seq] += R;
        if (logits_all)
            for (int r = 0; r < R; r++)
                memcpy(logits_all + (size_t)(i0 + r) * hp->vocab, s->lg + (size_t)r * s->ld_lg, (size_t)hp->vocab * sizeof(float));
        if (logits_last && last_chunk)
            memcpy(logits_last, s->lg + (size_t)(R - 1 - first) * s->ld_lg, (size_t)hp->vocab * sizeof(float));
    }
    return 0;
}

int es_nn_step(es_nn_state *s, const int *seqs, const int *tokens, const float *deltas, int count, float *logits)
{
    const es_nn_hparams *hp = &s->m->hp;
    if (count < 1 || count > CHUNK_ROWS) return es_fail("transformer: %d sequences in one step", count);
    for (int r = 0; r < count; r++) {
        int seq = seqs[r];
        if (seq < 0 || seq >= s->n_seq || s->len[seq] < 2) return es_fail("transformer: sequence %d not begun", seq);
        if (s->len[seq] >= hp->context) return es_fail("transformer: sequence %d is full", seq);
        if (check_token(s, tokens[r], deltas[r])) return -1;
        for (int j = 0; j < r; j++)
            if (seqs[j] == seq) return es_fail("transformer: sequence %d twice in one step", seq);
    }
    for (int r = 0; r < count; r++) {
        int seq = seqs[r], pos = s->len[seq];
        s->row_seq[r] = seq;
        s->row_pos[r] = pos;
        s->tok[(size_t)seq * hp->context + pos] = tokens[r];
        input_row(s->m, tokens[r], pos, deltas[r], 0, 0, s->x + (size_t)r * s->ld_d);
    }
    run_rows(s, count, 0);
    for (int r = 0; r < count; r++) {
        s->len[seqs[r]]++;
        memcpy(logits + (size_t)r * hp->vocab, s->lg + (size_t)r * s->ld_lg, (size_t)hp->vocab * sizeof(float));
    }
    return 0;
}
