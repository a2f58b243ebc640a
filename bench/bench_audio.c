/* Speed of the audio stage: FluidSynth rendering of a dense five-instrument score and its loudness
 * measurement (each on one thread, the reference, and on two), normalisation with fade, and muxing
 * into the given video (video copied, music encoded) with the original audio replaced and mixed.
 * Prints a markdown table: step, wall seconds (best of 3), x real time.
 * Usage: bench_audio VIDEO (its duration sets the score's length) */
#include <libavformat/avformat.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "audio/loudness.h"
#include "audio/render.h"
#include "core/error.h"
#include "core/progress.h"
#include "media/mux.h"

static void row(const char *step, double wall, double seconds)
{
    printf("| %s | %.3f | %.0fx |\n", step, wall, seconds / wall);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_audio VIDEO\n");
        return 2;
    }
    av_log_set_level(AV_LOG_QUIET);
    AVFormatContext *ic = NULL;
    if (avformat_open_input(&ic, argv[1], NULL, NULL) < 0 || avformat_find_stream_info(ic, NULL) < 0) {
        fprintf(stderr, "%s: cannot open\n", argv[1]);
        return 1;
    }
    double duration = (double)ic->duration / AV_TIME_BASE;
    avformat_close_input(&ic);

    /* 120 bpm: drums on every eighth, bass and piano on every beat, a string chord per bar */
    es_score s = {0};
    s.duration = duration;
    static const int chord[4] = {0, 5, 7, 9};
    for (int beat = 0; beat * 0.5 < duration; beat++) {
        double t = beat * 0.5;
        int root = 48 + chord[(beat / 4) % 4];
        es_score_add_note(&s, ES_DRUMS, beat % 2 ? 38 : 36, 100, t, t + 0.1);
        es_score_add_note(&s, ES_DRUMS, 42, 70, t + 0.25, t + 0.35);
        es_score_add_note(&s, ES_BASS, root - 12, 90, t, t + 0.45);
        es_score_add_note(&s, ES_PIANO, root + 12 + (beat % 3) * 4, 80, t, t + 0.4);
        es_score_add_note(&s, ES_GUITAR, root + 7, 70, t + 0.25, t + 0.5);
        if (beat % 4 == 0)
            for (int k = 0; k < 3; k++) es_score_add_note(&s, ES_STRINGS, root + 12 + 4 * k, 60, t, t + 2.0);
    }

    /* each step best of 3 (the machine is shared); the one-thread rows are the reference twins */
    float *pcm = NULL;
    size_t n = 0;
    double render[2] = {1e9, 1e9}, measure[2] = {1e9, 1e9};
    for (int rep = 0; rep < 3; rep++) {
        for (int threads = 1; threads <= 2; threads++) {
            free(pcm);
            double t0 = es_now();
            if (es_render_score_threads(&s, es_default_soundfont(), ES_MUX_RATE, threads, &pcm, &n)) {
                fprintf(stderr, "%s\n", es_error());
                return 1;
            }
            double t1 = es_now();
            double lufs, peak;
            if (es_loudness_measure_threads(pcm, n, ES_MUX_RATE, threads, &lufs, &peak)) {
                fprintf(stderr, "%s\n", es_error());
                return 1;
            }
            double t2 = es_now();
            if (t1 - t0 < render[threads - 1]) render[threads - 1] = t1 - t0;
            if (t2 - t1 < measure[threads - 1]) measure[threads - 1] = t2 - t1;
        }
    }
    double t1 = es_now(), lufs;
    if (es_loudness_normalize(pcm, n, ES_MUX_RATE, -16.0, &lufs)) {
        fprintf(stderr, "%s\n", es_error());
        return 1;
    }
    es_fade_out(pcm, n, ES_MUX_RATE, 3.0);
    double t2 = es_now();
    printf("score: %zu notes, %.1f s; best of 3 runs each\n\n| step | wall s | x real time |\n|---|---:|---:|\n", s.n_notes, duration);
    row("render, 1 thread (reference)", render[0], duration);
    row("render, 2 threads (FluidSynth, 48 kHz stereo)", render[1], duration);
    row("loudness measure, 1 thread (reference)", measure[0], duration);
    row("loudness measure, 2 threads", measure[1], duration);
    row("loudness normalise + fade (2 threads, once)", t2 - t1, duration);

    char dir[] = "/tmp/es-bench-audio-XXXXXX", out[64];
    if (!mkdtemp(dir)) return 1;
    snprintf(out, sizeof out, "%s/out.mp4", dir);
    static const char *const names[] = {"mux, original replaced (mp4/AAC)", "mux, original mixed (mp4/AAC)"};
    for (int mode = 0; mode < 2; mode++) {
        es_mux_request r = {.input_path = argv[1], .output_path = out, .pcm = pcm, .n_frames = n,
                            .duration = duration, .original_audio = mode ? ES_ORIGINAL_AUDIO_MIX : ES_ORIGINAL_AUDIO_OFF};
        double best = 1e9;
        for (int rep = 0; rep < 3; rep++) {
            double a = es_now();
            if (es_mux(&r)) {
                fprintf(stderr, "%s\n", es_error());
                return 1;
            }
            if (es_now() - a < best) best = es_now() - a;
            unlink(out);
        }
        row(names[mode], best, duration);
    }
    rmdir(dir);
    free(pcm);
    es_score_free(&s);
    return 0;
}
