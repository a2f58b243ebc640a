/* The generator network against logits exported from the reference PyTorch model (random
 * weights, tests/data/emsync): naive and fast forward passes, float32 and float16 checkpoints,
 * torch 1.x and 2.x files, 16-bit kernels, and token-by-token KV-cached decoding. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/error.h"
#include "nn/case.h"
#include "nn/transformer.h"

#define DIR "tests/data/emsync/"

static float *read_f32(const char *path, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    float *v = malloc(n * sizeof *v);
    size_t got = v ? fread(v, sizeof *v, n, f) : 0;
    int extra = fgetc(f) != EOF;
    fclose(f);
    if (got != n || extra) { free(v); return NULL; }
    return v;
}

static double max_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= m)) m = d; /* NaN propagates as a failure */
    }
    return m;
}

static const char *cases[] = {"short", "nan-arousal", "full", "nan-both"};

/* Checks one checkpoint (weights in file `file`, golden logits of model `model`). */
static void check_model(const char *file, const char *model, es_nn_format fmt, double tol, int run_naive)
{
    char path[256];
    snprintf(path, sizeof path, DIR "%s", file);
    es_nn_model *m = es_nn_model_load(path, fmt, 2);
    CHECK(m != NULL);
    if (!m) { fprintf(stderr, "%s\n", es_error()); return; }
    const es_nn_hparams *hp = es_nn_model_hparams(m);
    int V = hp->vocab;
    es_nn_state *st = es_nn_state_new(m, 2);
    CHECK(st != NULL);
    for (size_t ci = 0; st && ci < sizeof cases / sizeof cases[0]; ci++) {
        es_nn_case c;
        snprintf(path, sizeof path, DIR "tiny-%s.%s.in.txt", model, cases[ci]);
        CHECK(es_nn_case_load(path, &c) == 0);
        int L = c.n + 2;
        snprintf(path, sizeof path, DIR "tiny-%s.%s.logits.f32", model, cases[ci]);
        float *gold = read_f32(path, (size_t)L * V);
        CHECK(gold != NULL);
        float *fast = calloc((size_t)L * V, sizeof *fast), *step = calloc((size_t)L * V, sizeof *step);
        if (!gold || !fast || !step) { free(gold); free(fast); free(step); es_nn_case_free(&c); continue; }

        /* fast path, whole sequence at once */
        CHECK(es_nn_begin(st, 0, c.valence, c.arousal, c.deltas[0], fast) == 0);
        CHECK(es_nn_feed(st, 0, c.tokens, c.deltas, c.n, NULL, fast + 2 * V) == 0);
        double d_fast = max_diff(fast, gold, (size_t)L * V);
        CHECK(d_fast <= tol);

        /* KV cache: one token at a time (sequence 1), alternating feed and step */
        float *last = malloc((size_t)V * sizeof *last);
        CHECK(es_nn_begin(st, 1, c.valence, c.arousal, c.deltas[0], step) == 0);
        for (int i = 0; last && i < c.n; i++) {
            int seq = 1;
            if (i % 2) CHECK(es_nn_step(st, &seq, &c.tokens[i], &c.deltas[i], 1, last) == 0);
            else CHECK(es_nn_feed(st, 1, &c.tokens[i], &c.deltas[i], 1, last, NULL) == 0);
            memcpy(step + (size_t)(i + 2) * V, last, (size_t)V * sizeof *last);
        }
        CHECK(es_nn_state_len(st, 1) == L);
        double d_step = max_diff(step, fast, (size_t)L * V);
        CHECK(d_step <= 1e-4);
        free(last);

        /* a copied cache goes on as the original: sequence 1, busy with something else, takes
         * sequence 0's first half and is fed the rest */
        int half_n = c.n / 2;
        float *rest = malloc((size_t)(c.n - half_n) * V * sizeof *rest);
        CHECK(rest && es_nn_begin(st, 0, c.valence, c.arousal, c.deltas[0], NULL) == 0 &&
              es_nn_feed(st, 0, c.tokens, c.deltas, half_n, NULL, NULL) == 0);
        CHECK(es_nn_begin(st, 1, 0.0, 0.0, 8.0f, NULL) == 0 && es_nn_feed(st, 1, c.tokens, c.deltas, 3, NULL, NULL) == 0);
        CHECK(es_nn_copy(st, 0, 1) == 0 && es_nn_state_len(st, 1) == half_n + 2);
        CHECK(rest && es_nn_feed(st, 1, c.tokens + half_n, c.deltas + half_n, c.n - half_n, NULL, rest) == 0);
        if (rest) CHECK(max_diff(rest, gold + (size_t)(half_n + 2) * V, (size_t)(c.n - half_n) * V) <= tol);
        CHECK(es_nn_copy(st, 0, 2) == -1);
        free(rest);

        double d_naive = -1, d_twin = -1;
        if (run_naive) {
            float *naive = calloc((size_t)L * V, sizeof *naive);
            CHECK(naive && es_nn_forward_naive(m, c.tokens, c.deltas, c.n, c.valence, c.arousal, naive) == 0);
            if (naive) {
                d_naive = max_diff(naive, gold, (size_t)L * V);
                d_twin = max_diff(naive, fast, (size_t)L * V);
                CHECK(d_naive <= tol);
                /* with 16-bit weights the fast path also keeps K and V in float16 */
                CHECK(d_twin <= (fmt == ES_NN_F16 ? 1e-3 : 1e-4));
            }
            free(naive);
        }
        fprintf(stderr, "%-16s %-4s %-12s rows %3d  max|fast-gold| %.3g  max|naive-gold| %.3g  max|fast-naive| %.3g  max|kv-fast| %.3g\n",
                file, fmt == ES_NN_F16 ? "f16" : "f32", cases[ci], L, d_fast, d_naive, d_twin, d_step);
        free(step); free(fast); free(gold);
        es_nn_case_free(&c);
    }
    es_nn_state_free(st);
    es_nn_model_free(m);
}

/* Two sequences decoded in one batched step agree with the golden logits of their cases. */
static void check_batched(const char *file, const char *model)
{
    char path[256];
    snprintf(path, sizeof path, DIR "%s", file);
    es_nn_model *m = es_nn_model_load(path, ES_NN_F32, 2);
    es_nn_state *st = m ? es_nn_state_new(m, 3) : NULL;
    CHECK(st != NULL);
    if (!st) { es_nn_model_free(m); return; }
    es_nn_case c[2];
    float *gold[2], *got[2];
    int ok = 1;
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, DIR "tiny-%s.%s.in.txt", model, cases[k == 0 ? 0 : 3]);
        ok &= es_nn_case_load(path, &c[k]) == 0;
        snprintf(path, sizeof path, DIR "tiny-%s.%s.logits.f32", model, cases[k == 0 ? 0 : 3]);
        gold[k] = ok ? read_f32(path, (size_t)(c[k].n + 2) * 1011) : NULL;
        got[k] = ok ? calloc((size_t)(c[k].n + 2) * 1011, sizeof(float)) : NULL;
        /* sequences 2 and 0: the batch order need not follow the sequence order */
        ok &= gold[k] && got[k] && es_nn_begin(st, 2 - 2 * k, c[k].valence, c[k].arousal, c[k].deltas[0], got[k]) == 0;
    }
    CHECK(ok);
    float lg[2 * 1011];
    for (int i = 0; ok && i < c[0].n; i++) {
        int seqs[2] = {2, 0}, toks[2] = {c[0].tokens[i], i < c[1].n ? c[1].tokens[i] : 0};
        float dels[2] = {c[0].deltas[i], i < c[1].n ? c[1].deltas[i] : 0};
        int count = i < c[1].n ? 2 : 1;
        ok &= es_nn_step(st, seqs, toks, dels, count, lg) == 0;
        for (int k = 0; k < count; k++) memcpy(got[k] + (size_t)(i + 2) * 1011, lg + (size_t)k * 1011, 1011 * sizeof(float));
    }
    CHECK(ok && c[0].n >= c[1].n);
    for (int k = 0; ok && k < 2; k++) {
        double d = max_diff(got[k], gold[k], (size_t)(c[k].n + 2) * 1011);
        fprintf(stderr, "%s batched step, sequence %d: max|batched-gold| %.3g\n", file, k, d);
        CHECK(d <= 1e-4);
    }
    int seqs[2] = {0, 0}, toks[2] = {5, 5};
    float dels[2] = {1, 1};
    CHECK(es_nn_step(st, seqs, toks, dels, 2, lg) == -1); /* one sequence twice */
    CHECK(es_nn_feed(st, 0, toks, dels, 0, lg, NULL) == -1);
    for (int k = 0; k < 2; k++) { free(got[k]); free(gold[k]); es_nn_case_free(&c[k]); }
    es_nn_state_free(st);
    es_nn_model_free(m);
}

/* Loads tests/data/emsync/FILE in fmt with n_seq sequences and the "full" case of tiny-a.
 * Returns 0, or -1 with nothing left to free. */
static int open_tiny(const char *file, es_nn_format fmt, int n_seq, es_nn_model **m, es_nn_state **st, es_nn_case *c)
{
    char path[256];
    snprintf(path, sizeof path, DIR "%s", file);
    *m = es_nn_model_load(path, fmt, 2);
    *st = *m ? es_nn_state_new(*m, n_seq) : NULL;
    if (*st && es_nn_case_load(DIR "tiny-a.full.in.txt", c) == 0) return 0;
    es_nn_state_free(*st);
    es_nn_model_free(*m);
    return -1;
}

static void close_tiny(es_nn_model *m, es_nn_state *st, es_nn_case *c)
{
    es_nn_case_free(c);
    es_nn_state_free(st);
    es_nn_model_free(m);
}

/* A row's logits do not depend on how many sequences step together: three sequences fed
 * different prefixes, then stepped at once (the three-row kernel) and one by one (the one-row
 * kernel), give the same bits, in float32 and with 16-bit weights and caches. */
static void check_rows_alike(const char *file, es_nn_format fmt)
{
    es_nn_model *m;
    es_nn_state *st;
    es_nn_case c;
    CHECK(open_tiny(file, fmt, 6, &m, &st, &c) == 0);
    if (!st) return;
    int V = es_nn_model_hparams(m)->vocab, ok = 1, differ = 0;
    float *together = malloc(3 * (size_t)V * sizeof(float)), *alone = malloc((size_t)V * sizeof(float));
    ok &= together && alone;
    for (int k = 0; ok && k < 6; k++) /* sequences k and k + 3 alike: prefixes of 5, 9 and 14 tokens */
        ok &= es_nn_begin(st, k, c.valence, c.arousal, c.deltas[0], NULL) == 0 &&
              es_nn_feed(st, k, c.tokens, c.deltas, 5 + 4 * (k % 3) + (k % 3 == 2), NULL, NULL) == 0;
    for (int i = 0; ok && i < 12; i++) {
        int seqs[3] = {0, 1, 2}, toks[3];
        float dels[3];
        for (int k = 0; k < 3; k++) {
            toks[k] = c.tokens[(i + 3 * k) % c.n];
            dels[k] = c.deltas[(i + 3 * k) % c.n];
        }
        ok &= es_nn_step(st, seqs, toks, dels, 3, together) == 0;
        for (int k = 0; ok && k < 3; k++) {
            int seq = 3 + k;
            ok &= es_nn_step(st, &seq, &toks[k], &dels[k], 1, alone) == 0;
            differ += memcmp(alone, together + (size_t)k * V, (size_t)V * sizeof(float)) != 0;
        }
    }
    CHECK(ok && differ == 0);
    free(together);
    free(alone);
    close_tiny(m, st, &c);
}

/* es_nn_copy copies only the rows its source holds: copied over a longer sequence (other
 * conditions, other tokens), the copy then goes on with the source's bits, fed and stepped. */
static void check_copy_over_longer(const char *file, es_nn_format fmt)
{
    es_nn_model *m;
    es_nn_state *st;
    es_nn_case c;
    CHECK(open_tiny(file, fmt, 2, &m, &st, &c) == 0);
    if (!st) return;
    int V = es_nn_model_hparams(m)->vocab, n = c.n < 30 ? c.n - 1 : 29, ok = 1, differ = 0;
    float *orig = malloc((size_t)V * sizeof(float)), *copy = malloc((size_t)V * sizeof(float));
    ok &= orig && copy && n > 12;
    for (int shared = 3; ok && shared < n - 1; shared += 5) {
        ok &= es_nn_begin(st, 0, c.valence, c.arousal, c.deltas[0], NULL) == 0 &&
              es_nn_feed(st, 0, c.tokens, c.deltas, shared, NULL, NULL) == 0;
        ok &= es_nn_begin(st, 1, -c.valence, c.arousal, c.deltas[3], NULL) == 0 &&
              es_nn_feed(st, 1, c.tokens + 3, c.deltas + 3, n, NULL, NULL) == 0;
        ok &= es_nn_copy(st, 0, 1) == 0 && es_nn_state_len(st, 1) == 2 + shared;
        for (int seq = 0; ok && seq < 2; seq++)
            ok &= es_nn_feed(st, seq, c.tokens + shared, c.deltas + shared, n - shared, seq ? copy : orig, NULL) == 0;
        differ += memcmp(orig, copy, (size_t)V * sizeof(float)) != 0;
        for (int seq = 0; ok && seq < 2; seq++)
            ok &= es_nn_step(st, &seq, &c.tokens[n], &c.deltas[n], 1, seq ? copy : orig) == 0;
        differ += memcmp(orig, copy, (size_t)V * sizeof(float)) != 0;
    }
    CHECK(ok && differ == 0);
    free(orig);
    free(copy);
    close_tiny(m, st, &c);
}

int main(void)
{
    check_copy_over_longer("tiny-a.pt", ES_NN_F32);
    check_copy_over_longer("tiny-a.pt", ES_NN_F16);
    check_rows_alike("tiny-a.pt", ES_NN_F32);
    check_rows_alike("tiny-a.pt", ES_NN_F16);
    check_batched("tiny-a.pt", "a");
    check_model("tiny-a.pt", "a", ES_NN_F32, 1e-4, 1);
    check_model("tiny-t2.pt", "t2", ES_NN_F32, 1e-4, 1);
    check_model("tiny-a-fp16.pt", "a", ES_NN_F32, 2e-2, 1);
    /* 16-bit kernels on float32 weights: the rounding of the weights bounds the error */
    check_model("tiny-a.pt", "a", ES_NN_F16, 2e-3, 1);
    check_model("tiny-t2.pt", "t2", ES_NN_F16, 2e-3, 0);

    /* hyperparameters read off the shapes (MANIFEST.tsv) */
    es_nn_model *m = es_nn_model_load(DIR "tiny-t2.pt", ES_NN_F32, 1);
    CHECK(m != NULL);
    if (m) {
        const es_nn_hparams *hp = es_nn_model_hparams(m);
        CHECK(hp->n_layers == 2 && hp->d_model == 64 && hp->n_heads == 8 && hp->d_head == 8 && hp->d_ff == 96 &&
              hp->context == 32 && hp->vocab == 1011);
        /* a sequence cannot outgrow the context */
        es_nn_state *st = es_nn_state_new(m, 1);
        int toks[40];
        float del[40];
        for (int i = 0; i < 40; i++) { toks[i] = 2; del[i] = 1; }
        CHECK(st && es_nn_begin(st, 0, 0, 0, 1, NULL) == 0);
        CHECK(st && es_nn_feed(st, 0, toks, del, 31, NULL, NULL) == -1);
        CHECK(st && es_nn_feed(st, 0, toks, del, 30, NULL, NULL) == 0);
        float lg[1011];
        int seq = 0;
        CHECK(st && es_nn_step(st, &seq, toks, del, 1, lg) == -1);
        toks[0] = 1011;
        CHECK(st && es_nn_begin(st, 0, 0, 0, 1, NULL) == 0 && es_nn_feed(st, 0, toks, del, 1, lg, NULL) == -1);
        es_nn_state_free(st);
    }
    es_nn_model_free(m);
    return check_report("test_nn_golden");
}
