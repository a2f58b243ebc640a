/* Speed of the audio stage: FluidSynth rendering of a dense five-instrument score (on one thread,
 * the reference, and on two), its loudness measurement, normalisation with fade, the streamed
 * music (kept, or rendered twice), and muxing into the given video (video copied, music
 * encoded) with the original audio replaced and mixed, from the music in memory and streamed.
 * Prints a markdown table: step, wall seconds (best of 3), x real time.
 * Usage: bench_audio VIDEO (its duration sets the score's length) */
#include <libavformat/avformat.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "audio/loudness.h"
#include "audio/music.h"
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

    /* each step best of 3 (the machine is shared); the one-thread render is the reference twin */
    float *pcm = NULL;
    size_t n = 0;
    double render[2] = {1e9, 1e9}, measure = 1e9, music_open[2] = {1e9, 1e9}, music_read[2] = {1e9, 1e9};
    for (int rep = 0; rep < 3; rep++) {
        for (int threads = 1; threads <= 2; threads++) {
            free(pcm);
            double t0 = es_now();
            if (es_render_score_threads(&s, es_default_soundfont(), ES_MUX_RATE, threads, &pcm, &n)) {
                fprintf(stderr, "%s\n", es_error());
                return 1;
            }
            if (es_now() - t0 < render[threads - 1]) render[threads - 1] = es_now() - t0;
        }
        double t0 = es_now(), lufs, peak;
        if (es_loudness_measure(pcm, n, ES_MUX_RATE, &lufs, &peak)) {
            fprintf(stderr, "%s\n", es_error());
            return 1;
        }
        if (es_now() - t0 < measure) measure = es_now() - t0;
        /* the pipeline's way: render and measure, then read back the kept render (music that
         * fits in ES_MUSIC_KEEP_BYTES) or render again as it is read (longer music) */
        for (int twice = 0; twice <= 1; twice++) {
            es_music_config mc = {.score = &s, .soundfont = es_default_soundfont(), .rate = ES_MUX_RATE,
                                  .target_lufs = -16.0, .fade_seconds = 3.0, .render_twice = twice};
            es_music *m;
            t0 = es_now();
            if (es_music_open(&m, &mc)) {
                fprintf(stderr, "%s\n", es_error());
                return 1;
            }
            double t1 = es_now();
            static float block[2 * 1024];
            while (es_music_read(m, block, 1024) > 0) continue;
            double t2 = es_now();
            es_music_free(&m);
            if (t1 - t0 < music_open[twice]) music_open[twice] = t1 - t0;
            if (t2 - t1 < music_read[twice]) music_read[twice] = t2 - t1;
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
    row("loudness measure (integrated + true peak)", measure, duration);
    row("loudness normalise + fade (whole buffer, once)", t2 - t1, duration);
    row("music kept (fits in 64 MiB): render, measured", music_open[0], duration);
    row("music kept: read back, normalised and faded", music_read[0], duration);
    row("music rendered twice (longer music): first render, measured", music_open[1], duration);
    row("music rendered twice: second render, normalised and faded, read", music_read[1], duration);

    char dir[] = "/tmp/es-bench-audio-XXXXXX", out[64];
    if (!mkdtemp(dir)) return 1;
    snprintf(out, sizeof out, "%s/out.mp4", dir);
    static const char *const names[4] = {"mux, original replaced (mp4/AAC, music in memory)",
                                         "mux, original mixed (mp4/AAC, music in memory)",
                                         "mux, original replaced, music kept (read back + AAC)",
                                         "mux, original replaced, music rendered twice (second render + AAC)"};
    for (int mode = 0; mode < 4; mode++) {
        double best = 1e9;
        for (int rep = 0; rep < 3; rep++) {
            es_music *m = NULL;
            es_music_config mc = {.score = &s, .soundfont = es_default_soundfont(), .rate = ES_MUX_RATE,
                                  .target_lufs = -16.0, .fade_seconds = 3.0, .render_twice = mode == 3};
            if (mode >= 2 && es_music_open(&m, &mc)) {
                fprintf(stderr, "%s\n", es_error());
                return 1;
            }
            es_mux_request r = {.input_path = argv[1], .output_path = out, .pcm = pcm, .n_frames = n,
                                .duration = duration, .original_audio = mode == 1 ? ES_ORIGINAL_AUDIO_MIX : ES_ORIGINAL_AUDIO_OFF};
            if (m) r.read = es_music_pull, r.read_user = m;
            double a = es_now();
            if (es_mux(&r)) {
                fprintf(stderr, "%s\n", es_error());
                return 1;
            }
            if (es_now() - a < best) best = es_now() - a;
            es_music_free(&m);
            unlink(out);
        }
        row(names[mode], best, duration);
    }
    rmdir(dir);
    free(pcm);
    es_score_free(&s);
    return 0;
}
