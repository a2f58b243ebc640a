/* Loudness normalisation and fade-out, against values known from ITU-R BS.1770 and arithmetic,
 * and the block-by-block meter and fade against their whole-buffer twins.
 * BS.1770 calibrates K-weighting so that a 0 dBFS 997 Hz sine in one front channel reads
 * -3.01 LKFS; in both channels of a stereo pair the powers add (+3.01 dB), so a stereo sine of
 * amplitude A reads 20*log10(A) LUFS (A = 0.1: -20.0). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/loudness.h"
#include "check.h"
#include "core/rng.h"

#define RATE 48000

static float *sine(size_t n, double freq, double amp)
{
    float *x = malloc(2 * n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[2 * i] = x[2 * i + 1] = (float)(amp * sin(2 * M_PI * freq * (double)i / RATE));
    return x;
}

static double peak_of(const float *x, size_t n)
{
    double p = 0;
    for (size_t i = 0; i < 2 * n; i++) p = fmax(p, fabs(x[i]));
    return p;
}

static void test_sine(void)
{
    size_t n = 10 * RATE;
    float *x = sine(n, 997, 0.1);
    double lufs, tp;
    CHECK(es_loudness_measure(x, n, RATE, &lufs, &tp) == 0);
    CHECK_NEAR(lufs, -20.0, 0.05);
    CHECK_NEAR(tp, 0.1, 0.001);

    /* -20 LUFS to -16: a gain of exactly +4 dB, so amplitude 0.1 * 10^(4/20) */
    double measured;
    CHECK(es_loudness_normalize(x, n, RATE, -16.0, &measured) == 0);
    CHECK_NEAR(measured, lufs, 1e-9);
    CHECK_NEAR(peak_of(x, n), 0.1 * pow(10, 4.0 / 20), 0.0005);
    CHECK(es_loudness_measure(x, n, RATE, &lufs, NULL) == 0);
    CHECK_NEAR(lufs, -16.0, 0.05);

    /* a louder sine comes down: amplitude 0.5 (-6 LUFS) to -23 LUFS */
    free(x);
    x = sine(n, 997, 0.5);
    CHECK(es_loudness_normalize(x, n, RATE, -23.0, &measured) == 0);
    CHECK_NEAR(measured, 20 * log10(0.5), 0.05);
    CHECK_NEAR(peak_of(x, n), pow(10, -23.0 / 20), 0.0005);
    free(x);
}

static void test_noise(void)
{
    /* seeded noise with a slow level swell, re-measured after normalisation */
    size_t n = 8 * RATE;
    float *x = malloc(2 * n * sizeof *x);
    es_rng r;
    es_rng_seed(&r, 42);
    for (size_t i = 0; i < 2 * n; i++)
        x[i] = (float)((es_rng_uniform(&r) - 0.5) * 0.02 * (1.0 + (double)(i / 2) / (double)n));
    double before, after, tp;
    CHECK(es_loudness_normalize(x, n, RATE, -16.0, &before) == 0);
    fprintf(stderr, "noise: %.2f LUFS before\n", before);
    CHECK(before < -30 && before > -50);
    CHECK(es_loudness_measure(x, n, RATE, &after, &tp) == 0);
    CHECK_NEAR(after, -16.0, 0.05);
    CHECK(tp <= pow(10, ES_PEAK_CEILING_DB / 20) + 1e-6);
    free(x);
}

static void test_ceiling(void)
{
    /* a quiet sine (-40 LUFS) with sharp clicks at 0.5: reaching -16 LUFS would need +24 dB and
     * push the clicks to 7.9; the ceiling keeps every peak at or below -1 dBFS instead */
    size_t n = 6 * RATE;
    float *x = sine(n, 440, 0.01);
    for (size_t i = RATE / 2; i < n; i += RATE) x[2 * i] = x[2 * i + 1] = 0.5f;
    double measured, after, tp;
    CHECK(es_loudness_normalize(x, n, RATE, -16.0, &measured) == 0);
    double ceiling = pow(10, ES_PEAK_CEILING_DB / 20);
    CHECK(peak_of(x, n) <= ceiling + 1e-6);
    CHECK(es_loudness_measure(x, n, RATE, &after, &tp) == 0);
    CHECK(tp <= ceiling + 1e-6);
    CHECK(after < -20.0); /* quieter than the target, by design */
    /* one gain for the whole signal: the sine part scaled like the click part */
    CHECK_NEAR(x[2 * (RATE / 2)] / 0.5, peak_of(x + 2 * (RATE / 2 + 100), 200) / 0.01, 0.02);
    free(x);
}

static void test_silence(void)
{
    size_t n = 3 * RATE;
    float *x = calloc(2 * n, sizeof *x);
    double measured = 0;
    CHECK(es_loudness_normalize(x, n, RATE, -16.0, &measured) == 0);
    CHECK(isinf(measured) && measured < 0);
    CHECK(peak_of(x, n) == 0.0);
    /* below the -70 LUFS absolute gate counts as silence: untouched */
    for (size_t i = 0; i < 2 * n; i++) x[i] = (i & 2) ? 1e-5f : -1e-5f;
    CHECK(es_loudness_normalize(x, n, RATE, -16.0, &measured) == 0);
    CHECK(isinf(measured));
    CHECK(x[0] == -1e-5f && x[2] == 1e-5f);
    CHECK(es_loudness_normalize(x, 0, RATE, -16.0, &measured) == 0);
    CHECK(es_loudness_normalize(x, n, RATE, 3.0, &measured) == -1);
    CHECK(es_loudness_normalize(x, n, RATE, NAN, &measured) == -1);
    CHECK(es_loudness_normalize(x, n, 0, -16.0, &measured) == -1);
    free(x);
}

static void test_fade(void)
{
    size_t n = 5 * RATE, len = 3 * RATE, start = n - len;
    float *x = malloc(2 * n * sizeof *x);
    for (size_t i = 0; i < 2 * n; i++) x[i] = (i & 1) ? -0.5f : 0.5f;
    es_fade_out(x, n, RATE, 3.0);
    int before_ok = 1, ramp_ok = 1;
    for (size_t i = 0; i < start; i++) before_ok &= x[2 * i] == 0.5f && x[2 * i + 1] == -0.5f;
    for (size_t k = 0; k < len; k++) {
        double want = 0.5 * (double)(len - 1 - k) / (double)(len - 1);
        ramp_ok &= fabs(x[2 * (start + k)] - want) < 1e-6 && fabs(x[2 * (start + k) + 1] + want) < 1e-6;
    }
    CHECK(before_ok);
    CHECK(ramp_ok);
    CHECK(x[2 * start] == 0.5f);              /* the ramp starts at full level */
    CHECK(x[2 * (n - 1)] == 0.0f && x[2 * (n - 1) + 1] == 0.0f);
    CHECK_NEAR(x[2 * (start + len / 2)], 0.25, 1e-4); /* half way: half level */

    /* shorter than the fade: the whole signal ramps */
    for (size_t i = 0; i < 2 * n; i++) x[i] = 1.0f;
    es_fade_out(x, RATE, RATE, 3.0);
    CHECK(x[0] == 1.0f && x[2 * (RATE - 1)] == 0.0f);
    CHECK_NEAR(x[2 * (RATE / 2)], 0.5, 1e-4);
    CHECK(x[2 * RATE] == 1.0f); /* frames past n_frames untouched */
    es_fade_out(x, 0, RATE, 3.0);
    free(x);
}

/* The meter fed block by block against one pass over the whole buffer: equal, bit for bit. The
 * signal is quiet noise with a loud burst at fs/4 placed across a block boundary, phase 45
 * degrees so its samples reach only 0.71 of its true peak: the peak is found there only if the
 * oversampling interpolator keeps its history from one block to the next. */
static void test_blocks_equal(void)
{
    const size_t n = 3 * RATE + 17, blocks[4] = {1, 64, 1001, 8192};
    for (int b = 0; b < 4; b++) {
        size_t at = blocks[b] * (RATE / blocks[b]); /* a block boundary near 1 s */
        for (int where = -6; where <= 6; where += 3) {
            float *x = malloc(2 * n * sizeof *x);
            es_rng r;
            es_rng_seed(&r, 7);
            for (size_t i = 0; i < 2 * n; i++) x[i] = (float)((es_rng_uniform(&r) - 0.5) * 0.01);
            for (long i = -8; i < 8; i++) {
                long j = (long)at + where + i;
                x[2 * j] = x[2 * j + 1] = (float)(0.9 * sin(M_PI / 2 * (double)i + M_PI / 4));
            }
            double l1, p1, l2 = 0, p2 = 0;
            CHECK(es_loudness_measure(x, n, RATE, &l1, &p1) == 0);
            es_loudness_meter *m = NULL;
            CHECK(es_loudness_meter_open(&m, RATE, 1) == 0);
            int fed = m != NULL;
            for (size_t done = 0; fed && done < n; done += blocks[b])
                fed = es_loudness_meter_add(m, x + 2 * done, n - done < blocks[b] ? n - done : blocks[b]) == 0;
            CHECK(fed && es_loudness_meter_result(m, &l2, &p2) == 0);
            es_loudness_meter_free(&m);
            CHECK(l1 == l2 && p1 == p2);
            if (p1 != p2 || l1 != l2)
                fprintf(stderr, "block %zu at %+d: lufs %.17g %.17g, peak %.17g %.17g\n", blocks[b], where, l1, l2, p1, p2);
            CHECK(p1 > 0.85 && peak_of(x, n) < 0.65); /* an inter-sample peak, found */
            free(x);
        }
    }
    double l, p;
    CHECK(es_loudness_measure(NULL, 0, RATE, &l, &p) == 0);
    CHECK(isinf(l) && p == 0);
    es_loudness_meter *m = NULL;
    CHECK(es_loudness_meter_open(&m, 1000, 1) == -1 && m == NULL);
}

/* The fade applied block by block equals the fade over the whole buffer. */
static void test_fade_blocks(void)
{
    size_t n = 5 * RATE + 3;
    float *a = malloc(2 * n * sizeof *a), *b = malloc(2 * n * sizeof *b);
    for (size_t i = 0; i < 2 * n; i++) a[i] = b[i] = (float)sin((double)i * 0.001);
    es_fade_out(a, n, RATE, 3.0);
    const size_t step = 4099;
    for (size_t at = 0; at < n; at += step)
        es_fade_block(b + 2 * at, n - at < step ? n - at : step, (int64_t)at, (int64_t)n, RATE, 3.0);
    CHECK(memcmp(a, b, 2 * n * sizeof *a) == 0);
    free(a);
    free(b);
}

/* The gain rule on its own: target, ceiling, silence, bad targets. */
static void test_gain(void)
{
    double g;
    CHECK(es_loudness_gain(-20.0, 0.1, -16.0, &g) == 0);
    CHECK_NEAR(g, pow(10, 4.0 / 20), 1e-12);
    CHECK(es_loudness_gain(-40.0, 0.5, -16.0, &g) == 0); /* the ceiling wins */
    CHECK_NEAR(g * 0.5, pow(10, ES_PEAK_CEILING_DB / 20), 1e-12);
    CHECK(es_loudness_gain(-HUGE_VAL, 0, -16.0, &g) == 0 && g == 1);
    CHECK(es_loudness_gain(-20.0, 0.1, 1.0, &g) == -1);
    CHECK(es_loudness_gain(-20.0, 0.1, NAN, &g) == -1);
}

int main(void)
{
    test_sine();
    test_noise();
    test_ceiling();
    test_silence();
    test_fade();
    test_blocks_equal();
    test_fade_blocks();
    test_gain();
    return check_report("test_audio_loudness");
}
