/* FluidSynth offline rendering: timing against the sample grid, length, drum kit on MIDI channel
 * 10, determinism, the threaded render against the one-thread reference, block-by-block reads
 * against one read, and bad soundfonts. Needs a General MIDI soundfont (es_default_soundfont). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio/render.h"
#include "check.h"
#include "core/error.h"

#define RATE 48000
/* FluidSynth starts voices on its 64-frame block grid: the first block boundary after the event. */
#define BLOCK 64

static const char *sf;

/* Renders one note and returns the buffer (NULL on failure). */
static float *render_note(es_instrument inst, int pitch, double start, double len, double duration, size_t *n)
{
    es_score s = {0};
    s.duration = duration;
    float *pcm = NULL;
    if (es_score_add_note(&s, inst, pitch, 100, start, start + len) == 0 &&
        es_render_score(&s, sf, RATE, &pcm, n) != 0) {
        fprintf(stderr, "render: %s\n", es_error());
        pcm = NULL;
    }
    es_score_free(&s);
    return pcm;
}

/* First frame with a sample above thr, or -1. */
static long first_above(const float *pcm, size_t n, float thr)
{
    for (size_t i = 0; i < 2 * n; i++)
        if (fabsf(pcm[i]) > thr) return (long)(i / 2);
    return -1;
}

/* Zero crossings per second of the left channel over [from, from + len). */
static double zero_crossing_rate(const float *pcm, size_t from, size_t len)
{
    size_t z = 0;
    for (size_t i = from + 1; i < from + len; i++) z += (pcm[2 * i] > 0) != (pcm[2 * i - 2] > 0);
    return (double)z * RATE / (double)len;
}

static void test_timing(void)
{
    /* Three start frames: block aligned, aligned plus 7 blocks, and one off the grid. */
    const long starts[3] = {BLOCK * 200, BLOCK * 207, BLOCK * 207 + 37};
    long onset[3];
    for (int k = 0; k < 3; k++) {
        size_t n = 0;
        float *p = render_note(ES_PIANO, 60, starts[k] / (double)RATE, 0.3, 1.0, &n);
        CHECK(p != NULL);
        if (!p) return;
        CHECK(n == RATE);
        onset[k] = first_above(p, n, 1e-6f);
        /* silence before the note (below -120 dBFS) */
        float before = 0;
        for (long i = 0; i < 2 * starts[k]; i++) before = fmaxf(before, fabsf(p[i]));
        CHECK(before < 1e-6f); /* FluidSynth's reverb keeps a tiny DC offset against denormals */
        if (before >= 1e-6f) fprintf(stderr, "before the note: %g\n", before);
        free(p);
    }
    long latency = onset[0] - starts[0]; /* the piano sample's own attack, a few frames */
    fprintf(stderr, "onsets %ld %ld %ld (attack %ld frames)\n", onset[0], onset[1], onset[2], latency);
    CHECK(latency >= 0 && latency < 48); /* within 1 ms when on the grid */
    /* moving the note by 7 blocks moves the sound by exactly 7 blocks */
    CHECK(onset[1] - onset[0] == 7 * BLOCK);
    /* off the grid it starts at the next block boundary: at most 63 frames (1.3 ms) late */
    long grid = (starts[2] + BLOCK - 1) / BLOCK * BLOCK;
    CHECK(onset[2] == grid + latency);
    CHECK(onset[2] - starts[2] < BLOCK + latency);
}

static void test_length_and_determinism(void)
{
    es_score s = {0};
    s.duration = 1.2345;
    CHECK(es_score_add_note(&s, ES_STRINGS, 64, 90, 0.1, 5.0) == 0); /* ends after the score */
    CHECK(es_score_add_note(&s, ES_BASS, 40, 90, 0.0, 0.5) == 0);
    CHECK(es_score_add_note(&s, ES_GUITAR, 67, 90, 2.0, 3.0) == 0);  /* starts after the end */
    float *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    CHECK(es_render_score(&s, sf, RATE, &a, &na) == 0);
    CHECK(es_render_score(&s, sf, RATE, &b, &nb) == 0);
    CHECK(na == (size_t)llround(1.2345 * RATE));
    CHECK(na == nb);
    CHECK(a && b && memcmp(a, b, na * 2 * sizeof *a) == 0);
    /* still sounding at the end: the string note is not released */
    double tail = 0;
    for (size_t i = 2 * (na - 4800); a && i < 2 * na; i++) tail = fmax(tail, fabs(a[i]));
    CHECK(tail > 1e-3);
    free(a);
    free(b);

    /* another rate: frame count follows it */
    CHECK(es_render_score(&s, sf, 44100, &a, &na) == 0);
    CHECK(na == (size_t)llround(1.2345 * 44100));
    free(a);
    es_score_free(&s);
}

static void test_drums(void)
{
    /* Key 42 is a closed hi-hat on the GM drum kit (bank 128 on MIDI channel 10): noise, many zero
     * crossings. On the piano the same key is F#2, 92.5 Hz: few. */
    CHECK(es_instrument_channel(ES_DRUMS) == 9);
    size_t n = 0;
    float *d = render_note(ES_DRUMS, 42, 0.1, 0.3, 0.5, &n);
    float *p = render_note(ES_PIANO, 42, 0.1, 0.3, 0.5, &n);
    CHECK(d && p);
    if (d && p) {
        long on = first_above(d, n, 1e-4f);
        CHECK(on >= 4800 && on < 4800 + 480);
        double zd = zero_crossing_rate(d, 4800, 4800), zp = zero_crossing_rate(p, 4800, 4800);
        fprintf(stderr, "zero crossings/s: drums %.0f, piano %.0f\n", zd, zp);
        CHECK(zd > 8000);
        CHECK(zp < 3000);
    }
    free(d);
    free(p);
    /* a kick drum: sound, with its energy low */
    d = render_note(ES_DRUMS, 36, 0.0, 0.2, 0.5, &n);
    CHECK(d != NULL);
    if (d) {
        double e = 0;
        for (size_t i = 0; i < 2 * n; i++) e += d[i] * (double)d[i];
        CHECK(e > 1.0);
        CHECK(zero_crossing_rate(d, 0, 4800) < 2000);
    }
    free(d);
}

/* Energy of frames [from, to) of a two-note score on one key (a: 0 to 1 s, b: given or none). */
static double overlap_energy(double b_start, double b_end, double from, double to)
{
    es_score s = {0};
    s.duration = 2.5;
    es_score_add_note(&s, ES_STRINGS, 60, 100, 0.0, 1.0);
    if (b_end > b_start) es_score_add_note(&s, ES_STRINGS, 60, 100, b_start, b_end);
    float *p = NULL;
    size_t n = 0;
    double e = -1;
    if (es_render_score(&s, sf, RATE, &p, &n) == 0) {
        e = 0;
        for (size_t i = (size_t)(from * RATE); i < (size_t)(to * RATE); i++) e += p[2 * i] * (double)p[2 * i];
    }
    free(p);
    es_score_free(&s);
    return e;
}

static void test_overlapping_notes(void)
{
    /* A note that starts while the same key still sounds keeps sounding until its own end: the
     * first note's end must not release it (MIDI would, with one note-off per key). */
    double both = overlap_energy(0.5, 2.0, 1.6, 1.95);
    double first_only = overlap_energy(0, 0, 1.6, 1.95);
    fprintf(stderr, "energy 1.6-1.95 s: overlapping %.4f, first note alone %.6f\n", both, first_only);
    CHECK(both > 0.01);
    CHECK(both > 20 * first_only);
}

/* A few seconds of all five instruments, overlapping, with notes running past the end. */
static void busy_score(es_score *s, double duration)
{
    s->duration = duration;
    for (int beat = 0; beat * 0.25 < duration + 1; beat++) {
        double t = beat * 0.25;
        es_score_add_note(s, ES_DRUMS, beat % 2 ? 38 : 36, 100, t, t + 0.1);
        es_score_add_note(s, ES_DRUMS, 42, 70, t + 0.125, t + 0.2);
        es_score_add_note(s, ES_BASS, 36 + beat % 5, 90, t, t + 0.3);
        es_score_add_note(s, ES_PIANO, 60 + (beat * 7) % 12, 80, t, t + 0.6);
        es_score_add_note(s, ES_GUITAR, 55 + (beat * 5) % 12, 70, t + 0.1, t + 0.5);
        if (beat % 8 == 0)
            for (int k = 0; k < 3; k++) es_score_add_note(s, ES_STRINGS, 60 + 4 * k, 60, t, t + 2.5);
    }
}

static void test_threads_equal(void)
{
    /* FluidSynth's mixer threads (they start once eight voices sound: the strings chords alone
     * are three notes of two or more voices each) against one thread, the reference: the same
     * voices, reverb and chorus, summed in another order. */
    es_score s = {0};
    busy_score(&s, 4.0);
    float *ref = NULL, *two = NULL, *four = NULL;
    size_t n1 = 0, n2 = 0, n4 = 0;
    CHECK(es_render_score_threads(&s, sf, RATE, 1, &ref, &n1) == 0);
    CHECK(es_render_score_threads(&s, sf, RATE, 2, &two, &n2) == 0);
    CHECK(es_render_score_threads(&s, sf, RATE, 4, &four, &n4) == 0);
    CHECK(n1 == (size_t)(4 * RATE) && n2 == n1 && n4 == n1);
    if (ref && two && four && n2 == n1 && n4 == n1) {
        double diff2 = 0, diff4 = 0, peak = 0, energy = 0;
        size_t differ = 0;
        for (size_t i = 0; i < 2 * n1; i++) {
            diff2 = fmax(diff2, fabs(ref[i] - (double)two[i]));
            diff4 = fmax(diff4, fabs(ref[i] - (double)four[i]));
            differ += ref[i] != two[i];
            peak = fmax(peak, fabs(ref[i]));
            energy += ref[i] * (double)ref[i];
        }
        fprintf(stderr, "threads vs 1: max difference %.3g (2), %.3g (4); %zu samples differ (2); peak %.3f\n",
                diff2, diff4, differ, peak);
        CHECK(peak > 0.1 && energy > 100);
        CHECK(diff2 <= 1e-6);
        CHECK(diff4 <= 1e-6);
    }
    free(ref);
    free(two);
    free(four);
    float *p = NULL;
    CHECK(es_render_score_threads(&s, sf, RATE, 0, &p, &n1) == -1);
    CHECK(es_render_score_threads(&s, sf, RATE, ES_RENDER_MAX_THREADS + 1, &p, &n1) == -1);
    CHECK(strstr(es_error(), "threads") != NULL);
    CHECK(p == NULL);
    es_score_free(&s);
}

/* Rendering block by block, in sizes on and off FluidSynth's 64-frame grid, gives the samples of
 * one read over everything (the events still land on the same frames). */
static void test_blocks_equal(void)
{
    es_score s = {0};
    busy_score(&s, 3.0);
    float *whole = NULL;
    size_t n = 0;
    CHECK(es_render_score_threads(&s, sf, RATE, 1, &whole, &n) == 0);
    const size_t sizes[5] = {1, 63, 64, 1000, 8192};
    float *blocks = malloc(2 * (n + 1) * sizeof *blocks);
    es_render *r = NULL;
    CHECK(es_render_open(&r, &s, sf, RATE, 1) == 0);
    CHECK(r && es_render_frames(r) == (int64_t)n);
    size_t done = 0;
    long got = 1;
    for (int k = 0; r && got > 0; k++) {
        got = es_render_read(r, blocks + 2 * done, sizes[k % 5] < n + 1 - done ? sizes[k % 5] : n + 1 - done);
        if (got > 0) done += (size_t)got;
    }
    CHECK(got == 0 && done == n);
    CHECK(whole && memcmp(whole, blocks, 2 * n * sizeof *whole) == 0);
    es_render_close(&r);
    es_render_close(&r); /* safe twice */
    free(whole);
    free(blocks);
    es_score_free(&s);
}

static void test_bad_soundfonts(void)
{
    es_score s = {0};
    s.duration = 1.0;
    float *pcm = (float *)&s; /* must be reset to NULL on failure */
    size_t n = 7;
    char dir[] = "/tmp/es-render-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];

    snprintf(path, sizeof path, "%s/missing.sf2", dir);
    CHECK(es_render_score(&s, path, RATE, &pcm, &n) == -1);
    CHECK(strstr(es_error(), path) != NULL);
    CHECK(pcm == NULL && n == 0);

    snprintf(path, sizeof path, "%s/text.sf2", dir);
    FILE *f = fopen(path, "w");
    fputs("this is not a soundfont\n", f);
    fclose(f);
    CHECK(es_render_score(&s, path, RATE, &pcm, &n) == -1);
    CHECK(strstr(es_error(), path) && strstr(es_error(), "not a SoundFont"));
    unlink(path);

    /* the first 64 KiB of the real soundfont: a truncated copy */
    snprintf(path, sizeof path, "%s/cut.sf2", dir);
    FILE *in = fopen(sf, "rb"), *out = fopen(path, "wb");
    CHECK(in && out);
    if (in && out) {
        static char buf[65536];
        size_t got = fread(buf, 1, sizeof buf, in);
        fwrite(buf, 1, got, out);
    }
    if (in) fclose(in);
    if (out) fclose(out);
    CHECK(es_render_score(&s, path, RATE, &pcm, &n) == -1);
    CHECK(strstr(es_error(), path) && strstr(es_error(), "truncated"));
    unlink(path);

    /* a RIFF header that claims a soundfont, then garbage */
    snprintf(path, sizeof path, "%s/junk.sf2", dir);
    f = fopen(path, "wb");
    fwrite("RIFF\x10\0\0\0sfbkLIST\x04\0\0\0xxxx", 1, 24, f);
    fclose(f);
    CHECK(es_render_score(&s, path, RATE, &pcm, &n) == -1);
    CHECK(strstr(es_error(), path) && strstr(es_error(), "damaged"));
    unlink(path);

    /* all three lists present but empty: FluidSynth's own loader refuses it */
    snprintf(path, sizeof path, "%s/empty.sf2", dir);
    f = fopen(path, "wb");
    fwrite("RIFF\x28\0\0\0sfbk" "LIST\x04\0\0\0INFO" "LIST\x04\0\0\0sdta" "LIST\x04\0\0\0pdta", 1, 48, f);
    fclose(f);
    CHECK(es_render_score(&s, path, RATE, &pcm, &n) == -1);
    CHECK(strstr(es_error(), path) && strstr(es_error(), "cannot load"));
    fprintf(stderr, "empty soundfont: %s\n", es_error());
    /* the same with five instruments on two threads: one clear line, nothing left */
    es_score busy = {0};
    busy_score(&busy, 1.0);
    CHECK(es_render_score_threads(&busy, path, RATE, 2, &pcm, &n) == -1);
    CHECK(strstr(es_error(), path) && strstr(es_error(), "cannot load"));
    CHECK(pcm == NULL && n == 0);
    es_score_free(&busy);
    unlink(path);
    rmdir(dir);

    CHECK(es_render_score(&s, NULL, RATE, &pcm, &n) == -1);
    s.duration = 0;
    CHECK(es_render_score(&s, sf, RATE, &pcm, &n) == -1);
    s.duration = NAN;
    CHECK(es_render_score(&s, sf, RATE, &pcm, &n) == -1);
    s.duration = 1;
    CHECK(es_render_score(&s, sf, 1000, &pcm, &n) == -1);
}

static void test_default_soundfont(void)
{
    const char *old = getenv("EMSYNC_SOUNDFONT");
    char *saved = old ? strdup(old) : NULL;
    setenv("EMSYNC_SOUNDFONT", "/some/where/custom.sf2", 1);
    CHECK(strcmp(es_default_soundfont(), "/some/where/custom.sf2") == 0);
    if (saved) setenv("EMSYNC_SOUNDFONT", saved, 1);
    else unsetenv("EMSYNC_SOUNDFONT");
    free(saved);
}

int main(void)
{
    sf = es_default_soundfont();
    if (!sf || access(sf, R_OK) != 0) {
        fprintf(stderr, "no General MIDI soundfont installed (install fluid-soundfont-gm or set EMSYNC_SOUNDFONT)\n");
        return 1;
    }
    test_timing();
    test_length_and_determinism();
    test_drums();
    test_overlapping_notes();
    test_threads_equal();
    test_blocks_equal();
    test_bad_soundfonts();
    test_default_soundfont();
    return check_report("test_audio_render");
}
