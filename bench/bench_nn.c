/* Speed and memory of the EMSYNC generator network on a released-size checkpoint (random
 * weights from scripts/make-random-checkpoint.py): prefill, steady-state decoding at a nearly
 * full window in the fast (cached) and exact (recompute) modes, K = 4 candidates, peak RSS,
 * measured memory bandwidth and the bandwidth-bound ceiling. Prints a markdown table.
 *
 * usage: bench_nn MODEL.pt [--f32] [--threads N] [--steps N]   (MODEL also from $EMSYNC_BENCH_MODEL) */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/error.h"
#include "core/parse.h"
#include "core/progress.h"
#include "nn/transformer.h"

typedef struct { float *buf; size_t n; double sum; } bw_arg;

static void *bw_read(void *v)
{
    bw_arg *a = v;
    double s = 0;
    for (size_t i = 0; i < a->n; i += 16) s += a->buf[i];
    a->sum = s;
    return NULL;
}

/* Read bandwidth with `threads` threads over a buffer far larger than the caches (GB/s). */
static double measure_bandwidth(int threads)
{
    size_t n = (size_t)256 << 20 >> 2; /* 256 MiB of floats */
    float *buf = malloc(n * sizeof *buf);
    if (!buf) return 0;
    for (size_t i = 0; i < n; i++) buf[i] = (float)(i & 7);
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        pthread_t th[16];
        bw_arg a[16];
        double t0 = es_now();
        for (int t = 0; t < threads; t++) {
            a[t] = (bw_arg){buf + n / threads * t, n / threads, 0};
            pthread_create(&th[t], NULL, bw_read, &a[t]);
        }
        for (int t = 0; t < threads; t++) pthread_join(th[t], NULL);
        double gbs = n * sizeof *buf / (es_now() - t0) / 1e9;
        if (gbs > best) best = gbs;
    }
    free(buf);
    return best;
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

int main(int argc, char **argv)
{
    const char *path = getenv("EMSYNC_BENCH_MODEL");
    int f32 = 0;
    long threads = 2, steps = 64;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--f32")) f32 = 1;
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc && !es_parse_long(argv[i + 1], 1, 16, &threads)) i++;
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc && !es_parse_long(argv[i + 1], 4, 100000, &steps)) i++;
        else if (argv[i][0] != '-') path = argv[i];
        else { fprintf(stderr, "usage: bench_nn MODEL.pt [--f32] [--threads N] [--steps N]\n"); return 2; }
    }
    if (!path) { fprintf(stderr, "bench_nn: give a checkpoint (scripts/make-random-checkpoint.py makes one)\n"); return 2; }
    double t0 = es_now();
    es_nn_model *m = es_nn_model_load(path, f32 ? ES_NN_F32 : ES_NN_F16, (int)threads);
    if (!m) { fprintf(stderr, "bench_nn: %s\n", es_error()); return 1; }
    double t_load = es_now() - t0;
    const es_nn_hparams *hp = es_nn_model_hparams(m);
    int window = hp->context - 3, K = 4, V = hp->vocab;
    es_nn_state *st = es_nn_state_new(m, K);
    int *tok = malloc((size_t)hp->context * sizeof *tok);
    float *del = malloc((size_t)hp->context * sizeof *del), *lg = malloc((size_t)K * V * sizeof *lg);
    if (!st || !tok || !del || !lg) { fprintf(stderr, "bench_nn: out of memory\n"); return 1; }
    for (int i = 0; i < hp->context; i++) { tok[i] = i == 0 ? 1010 : 4 + (i * 37) % 1000; del[i] = (float)(i % 9); }

    /* prefill of a full window (also the cost of one exact-mode step) */
    int prefill_n = window + 1; /* instrument token + 1213 */
    t0 = es_now();
    es_nn_begin(st, 0, 0.3, -0.2, del[0], NULL);
    es_nn_feed(st, 0, tok, del, prefill_n, lg, NULL);
    double t_prefill = es_now() - t0;

    /* fast mode, one sequence, the last `steps` positions of the window */
    int start = hp->context - (int)steps;
    es_nn_begin(st, 0, 0.3, -0.2, del[0], NULL);
    es_nn_feed(st, 0, tok, del, start - 2, NULL, NULL);
    t0 = es_now();
    int seq0 = 0;
    for (int i = start - 2; i < hp->context - 2; i++) es_nn_step(st, &seq0, &tok[i], &del[i], 1, lg);
    double t_step = (es_now() - t0) / (double)steps;

    /* the same at the start of a window (short attention) */
    es_nn_begin(st, 0, 0.3, -0.2, del[0], NULL);
    t0 = es_now();
    for (int i = 0; i < 32; i++) es_nn_step(st, &seq0, &tok[i], &del[i], 1, lg);
    double t_step_short = (es_now() - t0) / 32;

    /* K = 4 candidates in lockstep near the end of the window */
    int seqs[4] = {0, 1, 2, 3}, tk[4];
    float dl[4];
    for (int k = 0; k < K; k++) {
        es_nn_begin(st, k, 0.3, -0.2, del[0], NULL);
        es_nn_feed(st, k, tok, del, start - 2, NULL, NULL);
    }
    t0 = es_now();
    for (int i = start - 2; i < hp->context - 2; i++) {
        for (int k = 0; k < K; k++) { tk[k] = tok[i]; dl[k] = del[i]; }
        es_nn_step(st, seqs, tk, dl, K, lg);
    }
    double t_step4 = (es_now() - t0) / (double)steps;

    /* fast mode amortised over a re-anchor cycle: keep half the window, re-prefill it, then
     * decode until the window is full again */
    int keep = window / 2;
    double cycle = t_prefill * (keep + 1.0) / prefill_n + (window - keep) * (t_step + t_step_short) / 2;
    double fast_amortised = (window - keep) / cycle;

    double rss = peak_rss_mb(); /* before the bandwidth test's own buffer */
    double bw = measure_bandwidth((int)threads);
    size_t wbytes = es_nn_model_stream_bytes(m);
    /* per token near a full window: weights + K and V of every cached row (float16 with 16-bit
     * weights) + the relative embeddings E (float32) */
    size_t kv = (size_t)hp->n_layers * hp->context * hp->d_model * 2 * (f32 ? 4 : 2);
    size_t ebytes = (size_t)hp->n_layers * hp->context * hp->d_head * sizeof(float);
    double ceil_full = bw * 1e9 / (double)(wbytes + kv + ebytes), ceil_w = bw * 1e9 / (double)wbytes;

    printf("| EMSYNC generator, %s weights, %ld threads | value |\n|---|---|\n", f32 ? "float32" : "float16", threads);
    printf("| parameters | %zu |\n", es_nn_model_params(m));
    printf("| load (read + pack) | %.2f s |\n", t_load);
    printf("| prefill %d tokens | %.2f s (%.0f tokens/s) |\n", prefill_n, t_prefill, prefill_n / t_prefill);
    printf("| fast decode, window nearly full (%ld steps) | %.1f tokens/s (%.2f ms/token) |\n", steps, 1 / t_step, t_step * 1e3);
    printf("| fast decode, window start | %.1f tokens/s |\n", 1 / t_step_short);
    printf("| fast decode incl. re-anchoring (keep %d) | %.1f tokens/s |\n", keep, fast_amortised);
    printf("| exact mode (full window recomputed per token) | %.2f tokens/s |\n", 1 / t_prefill);
    printf("| K=4 candidates, window nearly full | %.1f tokens/s total (%.1f steps/s) |\n", K / t_step4, 1 / t_step4);
    printf("| peak RSS (load, model, 4 caches) | %.0f MB |\n", rss);
    printf("| measured read bandwidth (%ld threads) | %.1f GB/s |\n", threads, bw);
    printf("| bytes per token: weights / + KV cache at full window | %.1f MB / %.1f MB |\n", wbytes / 1e6, (wbytes + kv + ebytes) / 1e6);
    printf("| bandwidth-bound ceiling: weights only / full window | %.0f / %.0f tokens/s |\n", ceil_w, ceil_full);

    /* error of 16-bit weights and caches against float32 on this model: logits of 256 tokens */
    if (!f32) {
        int n = 256;
        es_nn_model *ref = es_nn_model_load(path, ES_NN_F32, (int)threads);
        es_nn_state *rs = ref ? es_nn_state_new(ref, 1) : NULL;
        float *a = malloc((size_t)n * V * sizeof *a), *b = malloc((size_t)n * V * sizeof *b);
        if (rs && a && b && !es_nn_begin(rs, 0, 0.3, -0.2, del[0], NULL) && !es_nn_feed(rs, 0, tok, del, n, NULL, a) &&
            !es_nn_begin(st, 0, 0.3, -0.2, del[0], NULL) && !es_nn_feed(st, 0, tok, del, n, NULL, b)) {
            double worst = 0, scale = 0;
            for (size_t i = 0; i < (size_t)n * V; i++) {
                worst = fmax(worst, fabs((double)a[i] - b[i]));
                scale = fmax(scale, fabs((double)a[i]));
            }
            printf("| float16 vs float32 logits, %d tokens | max abs diff %.2g (largest logit magnitude %.2g) |\n", n, worst, scale);
        }
        free(b); free(a);
        es_nn_state_free(rs);
        es_nn_model_free(ref);
    }
    free(lg); free(del); free(tok);
    es_nn_state_free(st);
    es_nn_model_free(m);
    return 0;
}
