/* Emotion control and boundary sync of the rules composer, measured: 25 (valence, arousal) pairs
 * x 3 seeds, 60 s pieces with random cuts 4-12 s apart (the EMSYNC cut thinning keeps cuts >= 4 s
 * apart). Prints a markdown table per pair and the Spearman correlations of the requested mood
 * with what the metrics read back from the notes. Exit status 1 if a target is missed
 * (correlations >= 0.8, hit rate at +-0.1 s = 100%). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/error.h"
#include "core/progress.h"
#include "core/rng.h"
#include "eval/metrics.h"
#include "music/rules.h"

#define N_LEVELS 5
#define N_SEEDS 3
#define N_RUNS (N_LEVELS * N_LEVELS * N_SEEDS)
#define DURATION 60.0

int main(void)
{
    static const double level[N_LEVELS] = {-0.8, -0.4, 0.0, 0.4, 0.8};
    double req_v[N_RUNS], req_a[N_RUNS], major[N_RUNS], density[N_RUNS], tempo[N_RUNS], hit01[N_RUNS], hit1[N_RUNS];
    double compose_s = 0;
    size_t total_bounds = 0, total_hits = 0;
    int run = 0;
    printf("| valence | arousal | major-ness | notes/s | tempo (bpm) | hit rate +-0.1 s | pitch-class entropy | scale consistency | groove |\n");
    printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int vi = 0; vi < N_LEVELS; vi++)
        for (int ai = 0; ai < N_LEVELS; ai++) {
            double sum[7] = {0};
            for (int seed = 1; seed <= N_SEEDS; seed++, run++) {
                es_rng r;
                es_rng_seed(&r, 1000u * (unsigned)run + 7);
                double cuts[16];
                size_t nb = 0;
                for (double t = 4 + 8 * es_rng_uniform(&r); t < DURATION - 4 && nb < 16; t += 4 + 8 * es_rng_uniform(&r))
                    cuts[nb++] = t;
                es_mood_segment m = {0, level[vi], level[ai]};
                es_compose_request q = {DURATION, cuts, nb, &m, 1, (uint64_t)seed};
                es_score s = {0};
                es_metrics mt;
                double t0 = es_now();
                if (es_compose_rules(&q, &s) || es_metrics_compute(&s, cuts, nb, &mt)) {
                    fprintf(stderr, "bench_compose: %s\n", es_error());
                    return 1;
                }
                compose_s += es_now() - t0;
                req_v[run] = level[vi], req_a[run] = level[ai];
                major[run] = mt.majorness, density[run] = mt.note_density, tempo[run] = mt.tempo_bpm;
                hit01[run] = mt.hit_rate_100ms, hit1[run] = mt.hit_rate_1s;
                total_bounds += nb;
                total_hits += (size_t)lround(mt.hit_rate_100ms * nb);
                double add[7] = {mt.majorness, mt.note_density, mt.tempo_bpm, mt.hit_rate_100ms, mt.pc_entropy,
                                 mt.scale_consistency, mt.groove_consistency};
                for (int k = 0; k < 7; k++) sum[k] += add[k] / N_SEEDS;
                es_score_free(&s);
            }
            printf("| %+.1f | %+.1f | %+.3f | %.1f | %.1f | %.0f%% | %.2f | %.3f | %.3f |\n", level[vi], level[ai], sum[0], sum[1],
                   sum[2], 100 * sum[3], sum[4], sum[5], sum[6]);
        }
    double r_vm = es_spearman(req_v, major, N_RUNS), r_ad = es_spearman(req_a, density, N_RUNS);
    double r_at = es_spearman(req_a, tempo, N_RUNS), hit = (double)total_hits / (double)total_bounds;
    double hit_1s = 0;
    for (int i = 0; i < N_RUNS; i++) hit_1s += hit1[i] / N_RUNS;
    (void)hit01;
    printf("\n| measure (%d pieces of %.0f s, %zu boundaries) | value | target |\n|---|---:|---:|\n", N_RUNS, DURATION, total_bounds);
    printf("| Spearman(valence, major-ness) | %.3f | >= 0.8 |\n", r_vm);
    printf("| Spearman(arousal, notes/s) | %.3f | >= 0.8 |\n", r_ad);
    printf("| Spearman(arousal, tempo) | %.3f | >= 0.8 |\n", r_at);
    printf("| boundary hit rate +-0.1 s | %.1f%% | 100%% |\n", 100 * hit);
    printf("| boundary hit rate +-1 s | %.1f%% | 100%% |\n", 100 * hit_1s);
    printf("| compose time per 60 s piece | %.2f ms | |\n", 1000 * compose_s / N_RUNS);
    return r_vm >= 0.8 && r_ad >= 0.8 && r_at >= 0.8 && hit == 1.0 ? 0 : 1;
}
