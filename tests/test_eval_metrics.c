/* Metrics on hand-built scores whose answers are known: scales and profiles for the key finder,
 * uniform pitch classes for entropy (log2 12), grids for groove and empty beats, placed chords for
 * the boundary hit rate, hand-computed Spearman with ties. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "core/error.h"
#include "eval/metrics.h"

static void add(es_score *s, es_instrument inst, int pitch, double a, double b)
{
    CHECK(es_score_add_note(s, inst, pitch, 80, a, b) == 0);
}

static void test_key(void)
{
    es_score s = {0};
    es_metrics m;
    static const int cmaj[8] = {60, 62, 64, 65, 67, 69, 71, 72};
    for (int i = 0; i < 8; i++) add(&s, ES_PIANO, cmaj[i], i * 0.5, i * 0.5 + 0.5);
    s.duration = 4;
    CHECK(es_metrics_compute(&s, NULL, 0, &m) == 0);
    CHECK(m.key_tonic == 0 && m.key_major == 1 && m.majorness > 0);
    CHECK_NEAR(m.scale_consistency, 1.0, 1e-12);
    es_score_free(&s);

    /* A minor: the tonic triad held long over an A natural minor scale */
    static const int amin[8] = {57, 59, 60, 62, 64, 65, 67, 69};
    for (int i = 0; i < 8; i++) add(&s, ES_STRINGS, amin[i], i * 0.5, i * 0.5 + 0.5);
    add(&s, ES_PIANO, 45, 0, 4), add(&s, ES_PIANO, 48, 0, 4), add(&s, ES_PIANO, 52, 0, 4);
    add(&s, ES_DRUMS, 42, 0, 4); /* drums never count as pitch classes */
    CHECK(es_metrics_compute(&s, NULL, 0, &m) == 0);
    CHECK(m.key_tonic == 9 && m.key_major == 0 && m.majorness < 0);
    CHECK_NEAR(m.mean_pitch, (57 + 59 + 60 + 62 + 64 + 65 + 67 + 69 + 45 + 48 + 52) / 11.0, 1e-12); /* not the drum */
    es_score_free(&s);

    /* a profile correlates exactly with itself */
    static const double maj[12] = {6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88};
    static const double min[12] = {6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17};
    double w[12], corr, mj;
    int tonic, major;
    for (int p = 0; p < 12; p++) w[p] = maj[(p - 2 + 12) % 12]; /* D major */
    CHECK(es_key_find(w, &tonic, &major, &corr, &mj) == 0 && tonic == 2 && major == 1);
    CHECK_NEAR(corr, 1.0, 1e-12);
    for (int p = 0; p < 12; p++) w[p] = min[(p - 6 + 12) % 12]; /* F# minor */
    CHECK(es_key_find(w, &tonic, &major, &corr, &mj) == 0 && tonic == 6 && major == 0 && mj < 0);
    CHECK_NEAR(corr, 1.0, 1e-12);
    for (int p = 0; p < 12; p++) w[p] = 1;
    CHECK(es_key_find(w, &tonic, &major, &corr, &mj) != 0 && tonic == -1);
}

static void test_entropy_scale(void)
{
    es_score s = {0};
    es_metrics m;
    for (int p = 0; p < 12; p++) add(&s, ES_PIANO, 60 + p, p * 0.25, p * 0.25 + 0.25);
    CHECK(es_metrics_compute(&s, NULL, 0, &m) == 0);
    CHECK_NEAR(m.pc_entropy, log2(12.0), 1e-12);
    CHECK_NEAR(m.scale_consistency, 7.0 / 12, 1e-12);
    CHECK_NEAR(m.duration, 3.0, 1e-12); /* no duration set: the last note end */
    es_score_free(&s);
    double one[3] = {5, 0, 0}, two[3] = {2, 2, 0};
    CHECK_NEAR(es_entropy_bits(one, 3), 0.0, 1e-12);
    CHECK_NEAR(es_entropy_bits(two, 3), 1.0, 1e-12);
}

static void test_rhythm(void)
{
    es_score s = {0};
    es_metrics m;
    /* 8 bars at 120 bpm, a note on every beat: identical bars, no empty beat */
    es_score_add_tempo(&s, 0, 120);
    s.duration = 16;
    for (int b = 0; b < 32; b++) add(&s, ES_DRUMS, 42, b * 0.5, b * 0.5 + 0.1);
    CHECK(es_metrics_compute(&s, NULL, 0, &m) == 0);
    CHECK_NEAR(m.groove_consistency, 1.0, 1e-12);
    CHECK_NEAR(m.empty_beat_rate, 0.0, 1e-12);
    CHECK_NEAR(m.tempo_bpm, 120, 1e-9);
    CHECK_NEAR(m.tempo_ioi_bpm, 120, 1e-6);
    CHECK_NEAR(m.note_density, 2.0, 1e-12);
    CHECK_NEAR(m.mean_velocity, 80, 1e-12);
    CHECK(isnan(m.mean_pitch)); /* drums only: no register */
    es_score_free(&s);

    /* bars alternate between four quarter notes and silence: every pair differs in 4 of 48 slots;
     * half the beats are empty */
    es_score_add_tempo(&s, 0, 120);
    s.duration = 16;
    for (int b = 0; b < 32; b++)
        if ((b / 4) % 2 == 0) add(&s, ES_DRUMS, 42, b * 0.5, b * 0.5 + 0.1);
    CHECK(es_metrics_compute(&s, NULL, 0, &m) == 0);
    CHECK_NEAR(m.groove_consistency, 1.0 - 4.0 / 48, 1e-12);
    CHECK_NEAR(m.empty_beat_rate, 0.5, 1e-12);
    es_score_free(&s);

    /* bars restart at a tempo change: 6 beats (a 4/4 and a 2/4 bar), then two 4/4 bars, a note on
     * every beat: the pairs differ in 2, 2 and 0 of 48 slots */
    es_score_add_tempo(&s, 0, 120);
    es_score_add_tempo(&s, 3.0, 120);
    s.duration = 7;
    for (int b = 0; b < 14; b++) add(&s, ES_DRUMS, 42, b * 0.5, b * 0.5 + 0.1);
    CHECK(es_metrics_compute(&s, NULL, 0, &m) == 0);
    CHECK_NEAR(m.groove_consistency, 1.0 - 4.0 / (3 * 48), 1e-12);
    CHECK_NEAR(m.empty_beat_rate, 0.0, 1e-12);
    es_score_free(&s);

    /* tempo map 120 then 60 bpm: 30 beats in 20 s = 90 bpm on average */
    es_score_add_tempo(&s, 0, 120);
    es_score_add_tempo(&s, 10, 60);
    s.duration = 20;
    add(&s, ES_PIANO, 60, 0, 2);
    add(&s, ES_PIANO, 64, 1, 2); /* 1 s alone, 1 s in two voices */
    CHECK(es_metrics_compute(&s, NULL, 0, &m) == 0);
    CHECK_NEAR(m.tempo_bpm, 90, 1e-9);
    CHECK_NEAR(es_beats_at(&s, 15), 25, 1e-9);
    CHECK_NEAR(m.polyphony, 1.5, 1e-12);
    CHECK_NEAR(m.tempo_ioi_bpm, 120, 1e-6); /* 1 s apart = 60 bpm, folded into 80-160 */
    CHECK(isnan(m.hit_rate_1s));
    es_score_free(&s);
}

static void test_boundaries(void)
{
    es_score s = {0};
    es_metrics m;
    s.duration = 10;
    for (int i = 0; i < 3; i++) add(&s, ES_PIANO, 60 + 4 * i, 2.0 + 0.01 * i, 3); /* chord on the cut (strummed) */
    for (int i = 0; i < 3; i++) add(&s, ES_STRINGS, 60 + 4 * i, 5.5, 6);          /* 0.5 s late */
    add(&s, ES_BASS, 36, 8, 9), add(&s, ES_PIANO, 60, 8, 9);                       /* two notes only */
    add(&s, ES_DRUMS, 49, 8, 9), add(&s, ES_DRUMS, 36, 8, 9);                      /* drums are not a chord */
    for (int i = 0; i < 3; i++) add(&s, ES_GUITAR, 60 + i, 8.5 + 0.03 * i, 9);     /* spread over 60 ms: not one onset */
    double b[3] = {2, 5, 8};
    CHECK(es_metrics_compute(&s, b, 3, &m) == 0);
    CHECK_NEAR(m.hit_rate_1s, 2.0 / 3, 1e-12);
    CHECK_NEAR(m.hit_rate_100ms, 1.0 / 3, 1e-12);
    es_score_free(&s);
    es_score empty = {0};
    CHECK(es_metrics_compute(&empty, NULL, 0, &m) != 0 && strstr(es_error(), "empty"));
}

/* Values no reader produces: refused with one line instead of casting an infinity or a
 * 1e300-beat count to an integer (undefined behaviour). */
static void test_absurd(void)
{
    es_score s = {0};
    es_metrics m;
    CHECK(es_score_add_note(&s, ES_PIANO, 60, 90, 0, INFINITY) == -1);
    CHECK(es_score_add_note(&s, ES_PIANO, 60, 90, -INFINITY, 1) == -1);
    CHECK(es_score_add_tempo(&s, 0, INFINITY) == -1 && es_score_add_tempo(&s, NAN, 120) == -1);
    CHECK(s.n_notes == 0 && s.n_tempos == 0);
    add(&s, ES_PIANO, 60, 0, 1);
    s.duration = INFINITY;
    CHECK(es_metrics_compute(&s, NULL, 0, &m) == -1 && strstr(es_error(), "absurd duration") && !strchr(es_error(), '\n'));
    s.duration = 1e300;
    CHECK(es_metrics_compute(&s, NULL, 0, &m) == -1);
    s.duration = 10;
    CHECK(es_score_add_tempo(&s, 0, 1e300) == 0);
    CHECK(es_metrics_compute(&s, NULL, 0, &m) == -1 && strstr(es_error(), "beats"));
    s.tempos[0].bpm = 120;
    CHECK(es_metrics_compute(&s, NULL, 0, &m) == 0 && m.tempo_bpm == 120);
    es_score_free(&s);
}

static void test_spearman(void)
{
    double x[5] = {1, 2, 3, 4, 5}, y[5] = {10, 20, 35, 40, 100}, z[5] = {5, 4, 3, 2, 1};
    CHECK_NEAR(es_spearman(x, y, 5), 1.0, 1e-12);
    CHECK_NEAR(es_spearman(x, z, 5), -1.0, 1e-12);
    double tx[4] = {1, 2, 2, 3}, ty[4] = {1, 2, 3, 4};
    CHECK_NEAR(es_spearman(tx, ty, 4), 4.5 / sqrt(22.5), 1e-12); /* ranks 1, 2.5, 2.5, 4 */
    CHECK(isnan(es_spearman(x, x, 1)));
    double c[3] = {1, 1, 1};
    CHECK(isnan(es_spearman(c, x, 3)));
}

int main(void)
{
    test_key();
    test_entropy_scale();
    test_rhythm();
    test_boundaries();
    test_absurd();
    test_spearman();
    return check_report("test_eval_metrics");
}
