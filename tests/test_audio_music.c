/* The streamed soundtrack (audio/music.h) against the whole-buffer route it replaces: render
 * everything, es_loudness_normalize, es_fade_out. The samples, the measured loudness and the WAV
 * file must be the same, bit for bit, whatever the block size, the read sizes and whether the
 * second render runs in the background. Also: a WAV finished after a partial read, silence,
 * and failures. Needs a General MIDI soundfont (es_default_soundfont). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio/loudness.h"
#include "audio/music.h"
#include "audio/render.h"
#include "check.h"
#include "core/error.h"

#define RATE 48000

static const char *sf;
static char dir[] = "/tmp/es-music-XXXXXX";

/* Five instruments, overlapping, notes running past the end. */
static void busy_score(es_score *s, double duration)
{
    s->duration = duration;
    for (int beat = 0; beat * 0.25 < duration + 1; beat++) {
        double t = beat * 0.25;
        es_score_add_note(s, ES_DRUMS, beat % 2 ? 38 : 36, 100, t, t + 0.1);
        es_score_add_note(s, ES_BASS, 36 + beat % 5, 90, t, t + 0.3);
        es_score_add_note(s, ES_PIANO, 60 + (beat * 7) % 12, 80, t, t + 0.6);
        es_score_add_note(s, ES_GUITAR, 55 + (beat * 5) % 12, 70, t + 0.1, t + 0.5);
        if (beat % 8 == 0) es_score_add_note(s, ES_STRINGS, 64, 60, t, t + 2.5);
    }
}

/* The whole-buffer route, on one FluidSynth thread like the streams below. */
static float *reference(const es_score *s, double fade, size_t *n, double *lufs)
{
    float *pcm = NULL;
    if (es_render_score_threads(s, sf, RATE, 1, &pcm, n)) return NULL;
    if (es_loudness_normalize(pcm, *n, RATE, -16.0, lufs)) {
        free(pcm);
        return NULL;
    }
    es_fade_out(pcm, *n, RATE, fade);
    return pcm;
}

static int render_twice; /* the route under test: the first render kept (0) or rendered again (1) */

static es_music *open_music(const es_score *s, double fade, int block, int in_caller)
{
    es_music_config c = {.score = s, .soundfont = sf, .rate = RATE, .target_lufs = -16.0, .fade_seconds = fade,
                         .threads = 1, .block_frames = block, .in_caller = in_caller, .render_twice = render_twice};
    es_music *m = NULL;
    if (es_music_open(&m, &c)) fprintf(stderr, "music: %s\n", es_error());
    return m;
}

/* Reads all of m in reads of the given sizes, in turn. */
static float *read_all(es_music *m, const size_t *sizes, int n_sizes, size_t *n)
{
    size_t cap = (size_t)es_music_frames(m) + 1, done = 0;
    float *out = malloc(2 * cap * sizeof *out);
    long got = 1;
    for (int k = 0; got > 0; k++) {
        size_t want = sizes[k % n_sizes] < cap - done ? sizes[k % n_sizes] : cap - done;
        got = es_music_read(m, out + 2 * done, want);
        if (got > 0) done += (size_t)got;
    }
    *n = done;
    if (got < 0) {
        free(out);
        return NULL;
    }
    return out;
}

static void test_same_as_whole_buffer(void)
{
    es_score s = {0};
    busy_score(&s, 5.0);
    size_t n_ref = 0;
    double lufs_ref = 0;
    float *ref = reference(&s, 3.0, &n_ref, &lufs_ref);
    CHECK(ref != NULL);
    char ref_wav[128];
    snprintf(ref_wav, sizeof ref_wav, "%s/ref.wav", dir);
    CHECK(ref && es_wav_write(ref_wav, ref, n_ref, RATE) == 0);

    const int blocks[3] = {0, 4097, 64};
    const size_t reads[4] = {1024, 1, 5000, 333};
    for (int b = 0; b < 3; b++) {
        for (int in_caller = 0; in_caller <= 1; in_caller++) {
            es_music *m = open_music(&s, 3.0, blocks[b], in_caller);
            CHECK(m != NULL);
            if (!m) continue;
            CHECK(es_music_frames(m) == (int64_t)n_ref);
            CHECK(es_music_loudness(m) == lufs_ref);
            CHECK(es_music_renders(m) == (render_twice ? 2 : 1)); /* 5 s fit in ES_MUSIC_KEEP_BYTES */
            char wav[128];
            snprintf(wav, sizeof wav, "%s/tee.wav", dir);
            CHECK(es_music_tee_wav(m, wav) == 0);
            size_t n = 0;
            float *x = read_all(m, reads, 4, &n);
            CHECK(x && n == n_ref);
            int same = x && ref && n == n_ref && memcmp(x, ref, 2 * n * sizeof *x) == 0;
            CHECK(same);
            if (!same) fprintf(stderr, "block %d, in caller %d: samples differ\n", blocks[b], in_caller);
            CHECK(es_music_read(m, x, 10) == 0); /* the end stays the end */
            CHECK(es_music_finish(m) == 0);
            CHECK(check_same_bytes(wav, ref_wav));
            CHECK(es_music_tee_wav(m, wav) == -1); /* too late */
            unlink(wav);
            free(x);
            es_music_free(&m);
            es_music_free(&m); /* safe twice */
        }
    }
    unlink(ref_wav);
    free(ref);
    es_score_free(&s);
}

/* A WAV finished after only part of the music was read (the video was shorter, say) still
 * holds all of it; freeing without finishing leaves no file. */
static void test_partial_read(void)
{
    es_score s = {0};
    busy_score(&s, 2.0);
    size_t n_ref = 0;
    double lufs = 0;
    float *ref = reference(&s, 0, &n_ref, &lufs);
    char wav[128], ref_wav[128];
    snprintf(wav, sizeof wav, "%s/part.wav", dir);
    snprintf(ref_wav, sizeof ref_wav, "%s/ref.wav", dir);
    CHECK(ref && es_wav_write(ref_wav, ref, n_ref, RATE) == 0);
    es_music *m = open_music(&s, 0, 0, 0);
    CHECK(m && es_music_tee_wav(m, wav) == 0);
    float buf[2 * 1000];
    CHECK(m && es_music_read(m, buf, 1000) == 1000);
    CHECK(ref && memcmp(buf, ref, sizeof buf) == 0);
    CHECK(m && es_music_finish(m) == 0);
    CHECK(check_same_bytes(wav, ref_wav));
    es_music_free(&m);
    unlink(wav);

    m = open_music(&s, 0, 0, 0);
    CHECK(m && es_music_tee_wav(m, wav) == 0);
    CHECK(m && es_music_read(m, buf, 1000) == 1000);
    es_music_free(&m);
    CHECK(access(wav, F_OK) != 0);
    unlink(ref_wav);
    free(ref);
    es_score_free(&s);
}

static void test_silence_and_failures(void)
{
    es_score s = {0};
    s.duration = 1.5; /* no notes */
    es_music *m = open_music(&s, 3.0, 0, 0);
    CHECK(m != NULL);
    if (m) {
        CHECK(isinf(es_music_loudness(m)) && es_music_gain(m) == 1);
        float buf[2 * 512];
        long got;
        double peak = 0;
        while ((got = es_music_read(m, buf, 512)) > 0)
            for (long i = 0; i < 2 * got; i++) peak = fmax(peak, fabs(buf[i]));
        CHECK(got == 0 && peak < 1e-6);
        es_music_free(&m);
    }

    es_music_config c = {.score = &s, .soundfont = "/nonexistent/x.sf2", .rate = RATE, .target_lufs = -16.0};
    m = (es_music *)&s; /* must be reset to NULL on failure */
    CHECK(es_music_open(&m, &c) == -1 && m == NULL);
    CHECK(strstr(es_error(), "/nonexistent/x.sf2") != NULL);
    c.soundfont = sf;
    c.target_lufs = 3.0;
    CHECK(es_music_open(&m, &c) == -1 && strstr(es_error(), "target"));
    c.target_lufs = -16.0;
    s.duration = 0;
    CHECK(es_music_open(&m, &c) == -1 && strstr(es_error(), "duration"));
}

int main(void)
{
    sf = es_default_soundfont();
    if (!sf || access(sf, R_OK) != 0) {
        fprintf(stderr, "no General MIDI soundfont installed (install fluid-soundfont-gm or set EMSYNC_SOUNDFONT)\n");
        return 1;
    }
    if (!mkdtemp(dir)) return 1;
    for (render_twice = 0; render_twice <= 1; render_twice++) {
        test_same_as_whole_buffer();
        test_partial_read();
        test_silence_and_failures();
    }
    rmdir(dir);
    return check_report("test_audio_music");
}
