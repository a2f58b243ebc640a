/* Per-scene affect features and fusion: hand-built statistics with known means, and generated
 * clips whose affect is known by construction (dark, still and quiet vs bright, saturated, fast
 * and loud) must order as expected on both axes, scene by scene. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/error.h"
#include "emotion/affect.h"
#include "emotion/ekman.h"
#include "media/decode.h"

static void test_table(void)
{
    double v, a;
    CHECK(es_emotion_lookup("sadness", &v, &a) == 0 && v == -0.789 && a == -0.8);
    CHECK(es_emotion_lookup("joy", &v, &a) == 0 && v == 0.8 && a == 0.477);
    CHECK(es_emotion_lookup("neutral", &v, &a) == 0 && v == 0 && a == 0);
    CHECK(es_emotion_lookup("happy", &v, &a) != 0);
    /* EMSYNC's weighted mean: half anger, half joy */
    double p[ES_EMO_COUNT] = {0};
    p[ES_EMO_ANGER] = 0.5;
    p[ES_EMO_JOY] = 0.5;
    es_emotion_mix(p, &v, &a);
    CHECK_NEAR(v, 0.5 * (-0.651 + 0.8), 1e-12);
    CHECK_NEAR(a, 0.5 * (0.664 + 0.477), 1e-12);
}

/* A synthetic analysis: 10 s at 10 fps, a cut at 4 s and a second peak at 7 s inside scene 2. */
static void test_scene_features(void)
{
    es_media_analysis a = {0};
    a.info.duration = 10;
    a.spans.threshold = 0.27;
    for (size_t i = 0; i < 100; i++) {
        es_frame_stats f = {0};
        f.time = (double)i / 10;
        f.brightness = f.time < 4 ? 0.2f : 0.8f;
        f.motion = f.time < 4 ? 0.0f : 0.05f;
        f.scene = (i == 40 || i == 70) ? 0.9f : 0.01f;
        CHECK(es_frame_spans_add(&a.spans, &f) == 0);
    }
    /* spans start at the first frame and at each frame over the threshold */
    CHECK(a.spans.n == 3 && a.spans.items[1].start == 4.0 && a.spans.items[2].n_frames == 30);
    double bounds[] = {4.0};
    es_scene_affect *sc = NULL;
    size_t n = 0;
    CHECK(es_affect_scenes(&a, bounds, 1, bounds, 1, 0.27, &sc, &n) == 0 && n == 2);
    if (n == 2) {
        CHECK(sc[0].n_frames == 40 && sc[1].n_frames == 60);
        CHECK_NEAR(sc[0].brightness, 0.2, 1e-6);
        CHECK_NEAR(sc[1].brightness, 0.8, 1e-6);
        CHECK_NEAR(sc[1].motion, 0.05, 1e-6);
        CHECK_NEAR(sc[0].cut_rate, 0, 1e-9);
        /* the opening cut at 4 s is the boundary; the one at 7 s is rhythm: 1 per 6 s */
        CHECK_NEAR(sc[1].cut_rate, 10.0, 1e-9);
        CHECK(sc[0].loudness_lufs == ES_AUDIO_FLOOR_DB);
        es_affect_fuse(sc, n, 1.0);
        CHECK(sc[1].valence > sc[0].valence);
        CHECK(sc[1].arousal > sc[0].arousal);
        for (size_t s = 0; s < n; s++) {
            CHECK(sc[s].valence >= -1 && sc[s].valence <= 1 && sc[s].arousal >= -1 && sc[s].arousal <= 1);
            CHECK(sc[s].confidence > 0 && sc[s].confidence <= 1);
        }
        double v, ar;
        es_affect_video(sc, n, &v, &ar);
        CHECK(v > sc[0].valence && v < sc[1].valence);
        CHECK(ar > sc[0].arousal && ar < sc[1].arousal);
    }
    free(sc);
    /* the cut at 7 s starting a mood scene of its own inside the section from 4 s: each of the
     * two shots has its own frames, and both read the section's rhythm */
    double starts[] = {4.0, 7.0};
    sc = NULL;
    CHECK(es_affect_scenes(&a, starts, 2, bounds, 1, 0.27, &sc, &n) == 0 && n == 3);
    if (n == 3) {
        CHECK(sc[0].n_frames == 40 && sc[1].n_frames == 30 && sc[2].n_frames == 30);
        CHECK(sc[1].start == 4.0 && sc[1].end == 7.0 && sc[2].start == 7.0 && sc[2].end == 10.0);
        CHECK_NEAR(sc[0].cut_rate, 0, 1e-9);
        CHECK_NEAR(sc[1].cut_rate, 10.0, 1e-9);
        CHECK_NEAR(sc[2].cut_rate, 10.0, 1e-9);
    }
    free(sc);
    /* spans summed above the cut threshold would hide the cut at 7 s: refused */
    sc = NULL;
    CHECK(es_affect_scenes(&a, bounds, 1, bounds, 1, 0.1, &sc, &n) != 0 && sc == NULL);
    es_frame_spans_free(&a.spans);
}

static int analyse(const char *name, const double *bounds, size_t n_bounds, es_scene_affect **sc, size_t *n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", test_data_dir(), name);
    es_media_analysis a;
    es_decode_options opt = {.want_audio = 1, .reduce_frames = 1, .split_threshold = 0.27, .split_times = bounds,
                             .n_split_times = n_bounds};
    if (es_media_analyze(path, &opt, &a)) {
        fprintf(stderr, "%s\n", es_error());
        return -1;
    }
    int r = es_affect_scenes(&a, bounds, n_bounds, bounds, n_bounds, 0.27, sc, n);
    if (r == 0) es_affect_fuse(*sc, *n, 1.0);
    es_media_analysis_free(&a);
    return r;
}

static void test_clips(void)
{
    es_scene_affect *calm = NULL, *lively = NULL, *mixed = NULL;
    size_t n_calm = 0, n_lively = 0, n_mixed = 0;
    CHECK(analyse("calm.mp4", NULL, 0, &calm, &n_calm) == 0 && n_calm == 1);
    CHECK(analyse("lively.mp4", NULL, 0, &lively, &n_lively) == 0 && n_lively == 1);
    double cut = 6.0;
    CHECK(analyse("mixed.mp4", &cut, 1, &mixed, &n_mixed) == 0 && n_mixed == 2);
    if (calm && lively) {
        fprintf(stderr, "calm (%.3f, %.3f), lively (%.3f, %.3f)\n", calm[0].valence, calm[0].arousal,
                lively[0].valence, lively[0].arousal);
        CHECK(lively[0].brightness > calm[0].brightness + 0.2);
        CHECK(lively[0].motion > 10 * calm[0].motion);
        CHECK(lively[0].loudness_lufs > calm[0].loudness_lufs + 15);
        CHECK(lively[0].onset_rate >= 3.0 && lively[0].onset_rate <= 5.0); /* 4 pulses a second */
        CHECK(calm[0].onset_rate < 1.0);
        CHECK(lively[0].valence > calm[0].valence + 0.3);
        CHECK(lively[0].arousal > calm[0].arousal + 0.5);
        CHECK(calm[0].arousal < 0 && lively[0].arousal > 0);
    }
    if (mixed && n_mixed == 2) {
        fprintf(stderr, "mixed: (%.3f, %.3f) then (%.3f, %.3f)\n", mixed[0].valence, mixed[0].arousal,
                mixed[1].valence, mixed[1].arousal);
        /* scene mode follows the change at the cut instead of averaging it away */
        CHECK(mixed[1].valence > mixed[0].valence + 0.3);
        CHECK(mixed[1].arousal > mixed[0].arousal + 0.5);
    }
    free(calm);
    free(lively);
    free(mixed);
}

static int cmp_time(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Scene features from the spans equal those summed frame by frame (a second route over the same
 * decode, kept per frame), with boundaries at detected cuts and at a given time between cuts. */
static void test_spans_equal_frames(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/cuts.mp4", test_data_dir());
    const double thr = 0.27, given = 2.5;
    es_media_analysis frames, spans;
    es_decode_options keep = {.want_audio = 1};
    if (es_media_analyze(path, &keep, &frames)) {
        CHECK(!"cuts.mp4 decodes");
        return;
    }
    double bounds[64];
    size_t nb = 0;
    bounds[nb++] = given;
    for (size_t i = 0; i < frames.n_frames && nb < 64; i++)
        if (frames.frames[i].scene > thr) bounds[nb++] = frames.frames[i].time;
    qsort(bounds, nb, sizeof *bounds, cmp_time);
    CHECK(nb >= 3);
    es_decode_options reduce = {.want_audio = 1, .reduce_frames = 1, .split_threshold = thr, .split_times = &given,
                                .n_split_times = 1};
    if (es_media_analyze(path, &reduce, &spans)) {
        CHECK(!"cuts.mp4 decodes reduced");
        es_media_analysis_free(&frames);
        return;
    }
    CHECK(spans.n_frames == 0 && spans.info.n_frames == frames.n_frames && spans.spans.n == nb + 1);
    CHECK(spans.info.duration == frames.info.duration && spans.info.fps == frames.info.fps);
    es_scene_affect *sc = NULL;
    size_t n = 0;
    CHECK(es_affect_scenes(&spans, bounds, nb, bounds, nb, thr, &sc, &n) == 0 && n == nb + 1);
    for (size_t s = 0; sc && s < n; s++) {
        double start = s ? bounds[s - 1] : 0, end = s < nb ? bounds[s] : frames.info.duration;
        double sum_b = 0, sum_m = 0, sum_w = 0;
        size_t count = 0;
        for (size_t i = 0; i < frames.n_frames; i++) {
            const es_frame_stats *f = &frames.frames[i];
            if (f->time < start || f->time >= end) continue;
            count++;
            sum_b += f->brightness;
            sum_m += f->motion;
            sum_w += f->warmth;
        }
        CHECK(count > 0 && sc[s].n_frames == count);
        if (!count) continue;
        CHECK_NEAR(sc[s].brightness, sum_b / (double)count, 1e-9);
        CHECK_NEAR(sc[s].motion, sum_m / (double)count, 1e-9);
        CHECK_NEAR(sc[s].warmth, sum_w / (double)count, 1e-9);
        CHECK(sc[s].cut_rate == 0); /* every cut opens a scene here */
    }
    free(sc);
    es_media_analysis_free(&spans);
    es_media_analysis_free(&frames);
}

/* Hand-built scenes: a 0.08 s fade-in "scene", a scene dominated by half-joyful faces, the same
 * picture without faces, and a scene whose features could not be measured. */
static void test_faces_and_short_scenes(void)
{
    es_scene_affect sc[4];
    memset(sc, 0, sizeof sc);
    double edges[5] = {0, 0.08, 6, 12, 18};
    for (int i = 0; i < 4; i++) {
        sc[i].start = edges[i];
        sc[i].end = edges[i + 1];
        sc[i].n_frames = 10;
        sc[i].brightness = 0.42; /* the reference mean: colour says neutral */
        sc[i].saturation = 0.35;
        sc[i].motion = 0.01;
        sc[i].loudness_lufs = ES_AUDIO_FLOOR_DB;
    }
    sc[0].brightness = 0.05; /* the fade-in is dark: on its own it would read sad */
    sc[1].face_weight = 1;
    sc[1].face_frames = 12;
    sc[1].expressions[ES_EMO_JOY] = 0.5;
    sc[1].expressions[ES_EMO_NEUTRAL] = 0.5;
    sc[3].brightness = NAN;
    sc[3].motion = NAN;
    es_affect_fuse(sc, 4, 1.0);
    fprintf(stderr, "faces (%.3f, %.3f), no faces (%.3f, %.3f), fade-in (%.3f, %.3f), unmeasured (%.3f, %.3f)\n",
            sc[1].valence, sc[1].arousal, sc[2].valence, sc[2].arousal, sc[0].valence, sc[0].arousal,
            sc[3].valence, sc[3].arousal);
    /* EMSYNC's table reads half joy, half neutral as +0.40: a face-dominated scene comes close */
    CHECK(sc[1].valence >= 0.3 && sc[1].valence <= 0.45);
    CHECK(sc[1].valence > sc[2].valence + 0.25);
    CHECK(sc[0].valence == sc[1].valence && sc[0].arousal == sc[1].arousal);
    for (int i = 0; i < 4; i++)
        CHECK(isfinite(sc[i].valence) && isfinite(sc[i].arousal) && fabs(sc[i].valence) <= 1 && fabs(sc[i].arousal) <= 1);
    double v, a;
    es_affect_video(sc, 4, &v, &a);
    CHECK(isfinite(v) && isfinite(a));
}

static double parts_sum(const double *p)
{
    double x = 0;
    for (int c = 0; c < ES_CUE_COUNT; c++) x += p[c];
    return x;
}

/* The cue terms add up to each mood, and --mood-contrast stretches distances from the video's
 * mood: recomputed here from the contrast-1 estimate by the formula, on scenes far from the
 * limits. */
static void test_contrast_and_parts(void)
{
    es_scene_affect base[3], sc[3];
    memset(base, 0, sizeof base);
    double b[3] = {0.30, 0.45, 0.55}, m[3] = {0.0, 0.01, 0.03};
    for (int i = 0; i < 3; i++) {
        base[i].start = 5.0 * i;
        base[i].end = 5.0 * (i + 1);
        base[i].n_frames = 50;
        base[i].brightness = b[i];
        base[i].saturation = 0.35;
        base[i].motion = m[i];
        base[i].loudness_lufs = ES_AUDIO_FLOOR_DB;
    }
    memcpy(sc, base, sizeof sc);
    es_affect_fuse(sc, 3, 1.0);
    double v1[3], a1[3];
    for (int i = 0; i < 3; i++) {
        v1[i] = sc[i].valence;
        a1[i] = sc[i].arousal;
        CHECK_NEAR(parts_sum(sc[i].valence_parts), sc[i].valence, 1e-12);
        CHECK_NEAR(parts_sum(sc[i].arousal_parts), sc[i].arousal, 1e-12);
        CHECK(sc[i].valence_parts[ES_CUE_COLOUR] != 0 && sc[i].arousal_parts[ES_CUE_MOTION] >= 0);
        CHECK(sc[i].valence_parts[ES_CUE_FACES] == 0);
    }
    CHECK(v1[0] < v1[1] && v1[1] < v1[2] && a1[0] < a1[2]);
    double mv, ma;
    es_affect_video(sc, 3, &mv, &ma); /* equal lengths and confidences: the plain mean */
    memcpy(sc, base, sizeof sc);
    es_affect_fuse(sc, 3, 2.0);
    for (int i = 0; i < 3; i++) {
        CHECK_NEAR(sc[i].valence, mv + 2 * (v1[i] - mv), 1e-9);
        CHECK_NEAR(sc[i].arousal, ma + 2 * (a1[i] - ma), 1e-9);
        CHECK_NEAR(parts_sum(sc[i].valence_parts), sc[i].valence, 1e-12);
    }
    fprintf(stderr, "contrast 2: valence %.3f %.3f %.3f (at 1: %.3f %.3f %.3f)\n", sc[0].valence, sc[1].valence,
            sc[2].valence, v1[0], v1[1], v1[2]);
    memcpy(sc, base, sizeof sc);
    es_affect_fuse(sc, 3, 0.0);
    for (int i = 0; i < 3; i++) CHECK_NEAR(sc[i].valence, mv, 1e-9);
    /* a stretch past the range is clipped, and the clipping is booked */
    for (int i = 0; i < 3; i++) base[i].motion = i == 2 ? 0.2 : 0.0;
    memcpy(sc, base, sizeof sc);
    es_affect_fuse(sc, 3, 3.0);
    CHECK(sc[2].arousal <= 1 && sc[0].arousal >= -1);
    CHECK(sc[0].arousal_parts[ES_CUE_LIMIT] != 0 || sc[2].arousal_parts[ES_CUE_LIMIT] != 0);
    for (int i = 0; i < 3; i++) CHECK_NEAR(parts_sum(sc[i].arousal_parts), sc[i].arousal, 1e-12);
}

int main(void)
{
    test_contrast_and_parts();
    test_table();
    test_faces_and_short_scenes();
    test_scene_features();
    test_spans_equal_frames();
    test_clips();
    return check_report("test_emotion_affect");
}
