/* The one-pass analysis decode against independent truth: per-frame scene scores against the
 * ffmpeg tool's select filter output (tests/gen/scene.sh) for yuv420p, yuv444p (converted),
 * gbrp (converted to rgb24), rgb24 and 10-bit input; cut times of cuts.mp4 (built with hard
 * cuts at 5, 7, 12, 17 s); stream info; colour statistics of known solid colours; audio energy of
 * a known tone and onsets at known burst starts; the RGB sample callback; damaged and wrong
 * inputs (one error line naming the file, nothing allocated); parallel decoding by groups of
 * pictures against one decoder, frame for frame (H.264, HEVC, open groups, damaged files). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/cpus.h"
#include "core/error.h"
#include "core/parse.h"
#include "media/decode.h"
#include "media/gopdec.h"
#include "scene/cuts.h"

static char *data_path(const char *name)
{
    static char buf[8][1024];
    static int k;
    char *b = buf[k++ % 8];
    snprintf(b, sizeof buf[0], "%s/%s", test_data_dir(), name);
    return b;
}

/* Scores from an ffmpeg metadata=print file: one "lavfi.scene_score=X" line per frame. */
static size_t read_ref(const char *path, double *out, size_t max)
{
    FILE *f = fopen(path, "r");
    char line[256];
    size_t n = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f)) {
        const char *key = "lavfi.scene_score=";
        if (strncmp(line, key, strlen(key)) != 0) continue;
        line[strcspn(line, "\r\n")] = 0;
        double v;
        if (n < max && es_parse_double(line + strlen(key), &v) == 0) out[n++] = v;
    }
    fclose(f);
    return n;
}

/* Every frame's score within 1e-3 of ffmpeg's; returns the number of frames compared. */
static size_t compare_scores(const char *name, const es_media_analysis *a)
{
    static double ref[4096];
    char p[1100];
    snprintf(p, sizeof p, "%s.scene.txt", data_path(name));
    size_t n = read_ref(p, ref, 4096);
    CHECK(n > 0);
    CHECK(n == a->n_frames);
    double worst = 0;
    size_t worst_i = 0;
    for (size_t i = 0; i < n && i < a->n_frames; i++) {
        double d = fabs(ref[i] - a->frames[i].scene);
        if (d > worst) { worst = d; worst_i = i; }
    }
    fprintf(stderr, "%s: %zu frames, max |score - ffmpeg| = %.2g (frame %zu)\n", name, n, worst, worst_i);
    CHECK(worst <= 1e-3);
    return n;
}

static void test_cuts_mp4(void)
{
    es_media_analysis a;
    es_decode_options o = {.want_audio = 1};
    CHECK(es_media_analyze(data_path("cuts.mp4"), &o, &a) == 0);
    CHECK(a.n_frames == 500 && a.info.n_frames == 500);
    CHECK_NEAR(a.info.duration, 20.0, 0.05);
    CHECK_NEAR(a.info.fps, 25.0, 1e-9);
    CHECK(a.info.width == 320 && a.info.height == 240);
    CHECK(strcmp(a.info.video_codec, "h264") == 0);
    CHECK(a.info.has_audio == 1 && a.info.truncated == 0);
    CHECK(a.n_frames && a.frames[0].time == 0.0 && a.frames[0].scene == 0.0f);
    CHECK_NEAR(a.frames[499].time, 499 / 25.0, 1e-6);
    compare_scores("cuts.mp4", &a);

    double *p = NULL, *b = NULL;
    size_t np = 0, nb = 0;
    CHECK(es_scene_cuts(a.frames, a.n_frames, ES_SCENE_THRESHOLD, ES_SCENE_MIN_GAP, &p, &np, &b, &nb) == 0);
    static const double want_p[] = {5, 7, 12, 17}, want_b[] = {5, 12, 17};
    CHECK(np == 4);
    for (size_t i = 0; i < np && i < 4; i++) CHECK_NEAR(p[i], want_p[i], 1e-6);
    CHECK(nb == 3);
    for (size_t i = 0; i < nb && i < 3; i++) CHECK_NEAR(b[i], want_b[i], 1e-6);
    free(p);
    free(b);

    /* the 440 Hz tone at amplitude 1/8 (lavfi sine): mean square 1/128 = -21.07 dB; momentary
     * loudness -21.8 LUFS as `ffmpeg -af pan=mono|c0=c0,ebur128` reports it */
    CHECK(a.n_audio >= 199 && a.n_audio <= 202);
    int bad_energy = 0, bad_loud = 0, bad_onset = 0;
    for (size_t i = 10; i + 10 < a.n_audio; i++) {
        bad_energy += fabs(a.audio[i].energy_db - (-21.07)) > 0.3;
        bad_loud += fabs(a.audio[i].loudness - (-21.8)) > 0.2;
        bad_onset += a.audio[i].onset > 1.0;
        CHECK_NEAR(a.audio[i].time, i * 0.1, 0.03);
    }
    CHECK(bad_energy == 0);
    CHECK(bad_loud == 0);
    CHECK(bad_onset == 0);
    es_media_analysis_free(&a);
    CHECK(a.frames == NULL && a.n_frames == 0);
}

static void test_other_formats(void)
{
    const char *names[] = {"cuts444.mkv", "cutsrgb.mkv", "cutspng.mkv", "cuts10.mkv"};
    for (int i = 0; i < 4; i++) {
        es_media_analysis a;
        CHECK(es_media_analyze(data_path(names[i]), NULL, &a) == 0);
        CHECK(a.n_frames == 150);
        compare_scores(names[i], &a);
        /* the hard cuts at 2 and 4 s are the first two frames over the threshold (the fast
         * zoom after 4 s scores over it in places too, in ffmpeg as well); with a 1 s gap
         * they are the only boundaries */
        double *p = NULL, *b = NULL;
        size_t np = 0, nb = 0;
        CHECK(es_scene_cuts(a.frames, a.n_frames, 0.27, 1.0, &p, &np, &b, &nb) == 0);
        CHECK(np >= 2 && p && fabs(p[0] - 2.0) < 1e-6 && fabs(p[1] - 4.0) < 1e-6);
        CHECK(nb == 2 && b && fabs(b[0] - 2.0) < 1e-6 && fabs(b[1] - 4.0) < 1e-6);
        free(p);
        free(b);
        es_media_analysis_free(&a);
    }
}

typedef struct { int calls; double last_t; int w, h, ok; } sample_log;

static void on_sample(void *user, double t, const uint8_t *rgb, int w, int h, int stride)
{
    sample_log *l = user;
    l->calls++;
    l->last_t = t;
    l->w = w;
    l->h = h;
    /* the first sample is pure red */
    if (l->calls == 1) l->ok = stride >= 3 * w && rgb[0] > 240 && rgb[1] < 15 && rgb[2] < 15;
}

static void on_progress(void *user, double f)
{
    double *last = user;
    if (f < *last) *last = 99; /* must not go backwards */
    else *last = f;
}

static void test_colours_and_audio(void)
{
    es_media_analysis a;
    sample_log log = {0};
    es_decode_options o = {.want_audio = 1, .sample_fps = 2, .sample_max_width = 32, .on_sample = on_sample,
                           .user = &log};
    CHECK(es_media_analyze(data_path("colours.mkv"), &o, &a) == 0);
    CHECK(a.n_frames == 60);
    if (a.n_frames == 60) {
        /* red (1,0,0), grey 0x80, blue (0,0,1): frames 10, 30, 50 */
        es_frame_stats r = a.frames[10], g = a.frames[30], b = a.frames[50];
        CHECK_NEAR(r.brightness, 0.299, 0.01);
        CHECK_NEAR(r.saturation, 1.0, 0.01);
        CHECK_NEAR(r.warmth, 1.0, 0.01);
        /* rg = 1, yb = 0.5: sigma 0, mu term 0.3 * sqrt(1.25) */
        CHECK_NEAR(r.colourfulness, 0.3 * sqrt(1.25), 0.01);
        CHECK_NEAR(g.brightness, 128 / 255.0, 0.01);
        CHECK_NEAR(g.saturation, 0.0, 0.01);
        CHECK_NEAR(g.warmth, 0.0, 0.01);
        CHECK_NEAR(g.colourfulness, 0.0, 0.01);
        CHECK_NEAR(b.brightness, 0.114, 0.01);
        CHECK_NEAR(b.warmth, -1.0, 0.01);
        CHECK_NEAR(b.colourfulness, 0.3, 0.01); /* yb = -1 */
        CHECK(r.motion == 0.0f && g.motion == 0.0f);
        /* red -> grey at frame 20: luma 0.299 -> 0.502 */
        CHECK_NEAR(a.frames[20].motion, 128 / 255.0 - 0.299, 0.01);
        CHECK(a.frames[20].scene > 0.27f);
    }
    /* 6 s at 2 per second, each at most 32 px wide (64x48 source: 32x24) */
    CHECK(log.calls == 12);
    CHECK(log.w == 32 && log.h == 24 && log.ok);
    CHECK_NEAR(log.last_t, 5.5, 1e-6);

    /* 0.5 s bursts starting on whole seconds: a big onset in the block that starts each burst,
     * none inside the bursts; silent halves at the floor */
    CHECK(a.n_audio == 60);
    for (size_t i = 0; i < a.n_audio; i++) {
        int start = i % 10 == 0, on = i % 10 < 5;
        if (start && i > 0) CHECK(a.audio[i].onset > 40);
        /* the block before a start sees the resampler's pre-ringing (a few dB at -80 dBFS) */
        if (!start && i % 10 != 9) CHECK(a.audio[i].onset == 0.0f);
        if (i % 10 == 9) CHECK(a.audio[i].onset < 10);
        /* amplitude 0.5 sine: mean square 1/8 = -9.03 dB; off: silence but for ringing */
        if (on) CHECK_NEAR(a.audio[i].energy_db, -9.03, 0.1);
        else CHECK(a.audio[i].energy_db < -60);
        /* R128 is calibrated so that a 1 kHz tone reads its mean square in dBFS as LUFS */
        if (i % 10 == 4) CHECK_NEAR(a.audio[i].loudness, -9.03, 0.2);
    }
    es_media_analysis_free(&a);
}

static void test_progress_and_no_audio(void)
{
    es_media_analysis a;
    double last = -1;
    es_decode_options o = {.want_audio = 1, .on_progress = on_progress, .user = &last};
    CHECK(es_media_analyze(data_path("noaudio.mp4"), &o, &a) == 0);
    CHECK(a.info.has_audio == 0 && a.n_audio == 0 && a.audio == NULL);
    CHECK(last == 1.0);
    CHECK(a.n_frames == 500);
    es_media_analysis_free(&a);
    /* cuts.mkv (Opus) without audio wanted: same frames as the MP4 */
    CHECK(es_media_analyze(data_path("cuts.mkv"), NULL, &a) == 0);
    CHECK(a.n_frames == 500 && a.info.has_audio == 0 && a.info.truncated == 0);
    /* no stream duration in Matroska: the frames' extent, not the container's 20.018 s (Opus) */
    CHECK_NEAR(a.info.duration, 20.0, 1e-6);
    es_media_analysis_free(&a);
}

static void test_truncated(void)
{
    /* half of a file whose index is in front: decoded as far as it goes, flagged */
    const char *names[] = {"half-cuts.mkv", "half-faststart.mp4"};
    for (int i = 0; i < 2; i++) {
        es_media_analysis a;
        es_decode_options o = {.want_audio = 1};
        CHECK(es_media_analyze(data_path(names[i]), &o, &a) == 0);
        CHECK(a.n_frames > 50 && a.n_frames < 400);
        CHECK(a.info.truncated == 1);
        CHECK(a.n_frames > 0 && fabs(a.info.duration - (a.frames[a.n_frames - 1].time + 0.04)) < 1e-6);
        CHECK(a.info.duration < 16);
        es_media_analysis_free(&a);
    }
}

static void test_joined_streams(void)
{
    /* size change and timestamp restart half way: every frame kept, times still ascending,
     * the scorer restarts at the new size (score 0, as ffmpeg's rebuilt filter graph gives) */
    es_media_analysis a;
    CHECK(es_media_analyze(data_path("sizes.ts"), NULL, &a) == 0);
    CHECK(a.n_frames == 100);
    int ascending = 1;
    for (size_t i = 1; i < a.n_frames; i++) ascending &= a.frames[i].time > a.frames[i - 1].time;
    CHECK(ascending);
    if (a.n_frames == 100) {
        CHECK_NEAR(a.frames[50].time, 2.0, 1e-6);
        CHECK(a.frames[50].scene == 0.0f);
        CHECK(a.frames[51].scene < 0.05f);
    }
    CHECK_NEAR(a.info.duration, 4.0, 1e-6);
    es_media_analysis_free(&a);

    /* the clock leaping 100 s ahead half way (tests/gen/media.sh): the gap is closed, not kept */
    CHECK(es_media_analyze(data_path("jump.ts"), NULL, &a) == 0);
    CHECK(a.n_frames == 100);
    ascending = 1;
    for (size_t i = 1; i < a.n_frames; i++) ascending &= a.frames[i].time > a.frames[i - 1].time;
    CHECK(ascending);
    if (a.n_frames == 100) CHECK_NEAR(a.frames[50].time, 2.0, 1e-6);
    CHECK_NEAR(a.info.duration, 4.0, 1e-6);
    es_media_analysis_free(&a);
}

/* Fails with one line that names the file and contains `what`. */
static void expect_error(const char *name, const char *what)
{
    es_media_analysis a;
    const char *path = strchr(name, '/') ? name : data_path(name);
    es_decode_options o = {.want_audio = 1};
    int rc = es_media_analyze(path, &o, &a);
    CHECK(rc != 0);
    CHECK(a.frames == NULL && a.audio == NULL && a.n_frames == 0);
    const char *e = es_error();
    int ok = strstr(e, path) && strstr(e, what) && !strchr(e, '\n');
    if (!ok) fprintf(stderr, "  %s: got \"%s\", wanted \"%s\"\n", name, e, what);
    CHECK(ok);
    es_media_analysis_free(&a);
}

static void test_errors(void)
{
    expect_error("missing.mp4", "no such file");
    expect_error(test_data_dir(), "is a directory");
    expect_error("empty.mp4", "is empty");
    expect_error("text.txt", "Invalid data");
    expect_error("truncated.mp4", "Invalid data"); /* MP4 cut before its index: unreadable */
    expect_error("audio-only.m4a", "no video stream");
    expect_error("image.png", "is an image");
    expect_error("/dev/zero", "cannot read as a video"); /* endless input: probing gives up */
}

static void test_garbage(void)
{
    /* a valid header followed by noise: either a clear error or a flagged short analysis */
    es_media_analysis a;
    es_decode_options o = {.want_audio = 1};
    if (es_media_analyze(data_path("garbage.mkv"), &o, &a) == 0) {
        CHECK(a.n_frames < 20);
        CHECK(a.info.truncated == 1);
    } else {
        CHECK(strstr(es_error(), "garbage.mkv") != NULL);
    }
    es_media_analysis_free(&a);
}

/* What every successful analysis must hold, whatever the input: the first frame at 0, times
 * ascending and finite, a positive finite duration covering the frames. */
static int sane(const es_media_analysis *a)
{
    int ok = a->n_frames > 0 && a->info.n_frames == a->n_frames && a->frames[0].time == 0.0 &&
             isfinite(a->info.duration) && a->info.duration > 0 && isfinite(a->info.fps) && a->info.fps > 0;
    for (size_t i = 1; ok && i < a->n_frames; i++)
        ok = isfinite(a->frames[i].time) && a->frames[i].time >= a->frames[i - 1].time;
    if (ok) ok = a->info.duration >= a->frames[a->n_frames - 1].time;
    for (size_t i = 0; ok && i < a->n_audio; i++) ok = isfinite(a->audio[i].time);
    return ok;
}

/* Committed small clips (tests/data/media, also the fuzzer's seeds): their known frame counts;
 * and inputs the fuzzer found (crash-*), each analysed sanely or refused with one line. */
static void test_small_clips_and_fuzz_finds(void)
{
    const struct { const char *name; size_t frames; double duration; int audio; } clips[] = {
        {"tiny.mp4", 10, 1.0, 1}, {"tiny.avi", 5, 0.5, 1}, {"tiny.mkv", 5, 0.5, 1}, {"tiny.ts", 10, 1.0, 0},
    };
    for (size_t i = 0; i < sizeof clips / sizeof clips[0]; i++) {
        char p[256];
        snprintf(p, sizeof p, "tests/data/media/%s", clips[i].name);
        es_media_analysis a;
        es_decode_options o = {.want_audio = 1};
        CHECK(es_media_analyze(p, &o, &a) == 0);
        CHECK(sane(&a));
        CHECK(a.n_frames == clips[i].frames);
        CHECK_NEAR(a.info.duration, clips[i].duration, 1e-6);
        CHECK(a.info.has_audio == clips[i].audio && a.info.truncated == 0);
        es_media_analysis_free(&a);
    }
    /* tiny.mkv with a damaged cluster timestamp: its first frame lies 29.4 s before the stream's
     * stated start, which gave negative times and a negative duration */
    /* crash-pts-jump.ts: one picture's timestamp damaged to 3.3 hours, and every later frame
     * followed it (a 1 s clip analysed as 11931 s long) */
    const char *finds[] = {"crash-neg-start.mkv", "crash-pts-jump.ts"};
    for (size_t i = 0; i < sizeof finds / sizeof finds[0]; i++) {
        char p[256];
        snprintf(p, sizeof p, "tests/data/media/%s", finds[i]);
        es_media_analysis a;
        es_decode_options o = {.want_audio = 1};
        if (es_media_analyze(p, &o, &a) == 0) {
            if (!sane(&a)) fprintf(stderr, "  %s: first time %g, duration %g\n", finds[i], a.frames[0].time, a.info.duration);
            CHECK(sane(&a));
            CHECK(a.info.duration < 2);
        } else {
            CHECK(strstr(es_error(), p) && !strchr(es_error(), '\n'));
        }
        es_media_analysis_free(&a);
    }
}

/* Parallel decoding by groups of pictures gives the very analysis a single decoder gives (the
 * ffmpeg comparisons above run on the default, parallel where it applies). RGB samples counted
 * too, since the face nets see them. */
static void count_sample(void *user, double t, const uint8_t *rgb, int w, int h, int stride)
{
    (void)t, (void)rgb, (void)w, (void)h, (void)stride;
    ++*(int *)user;
}

/* Field by field: the struct has padding. */
static int same_audio(const es_audio_block *a, const es_audio_block *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].time != b[i].time || a[i].energy_db != b[i].energy_db || a[i].loudness != b[i].loudness ||
            a[i].onset != b[i].onset)
            return 0;
    return 1;
}

static void test_parallel_equals_single(void)
{
    static const struct {
        const char *name;
        int min_groups, max_groups; /* with parallel decoders */
    } clips[] = {
        {"gop-h264.mp4", 12, 12}, {"gop-hevc.mp4", 12, 12}, {"gop-open.mkv", 1, 1}, {"cuts.mp4", 10, 99},
        {"long.mp4", 10, 99},     {"cuts444.mkv", 1, 99},   {"half-faststart.mp4", 1, 99}, {"half-cuts.mkv", 1, 99},
        {"jump.ts", 0, 0},
    };
    for (size_t i = 0; i < sizeof clips / sizeof clips[0]; i++) {
        es_media_analysis one, many[2];
        int samples_one = 0, samples_many[2] = {0, 0};
        es_decode_options o = {.want_audio = 1, .decoders = 1, .sample_fps = 2, .sample_max_width = 64,
                               .on_sample = count_sample, .user = &samples_one};
        int ok = es_media_analyze(data_path(clips[i].name), &o, &one) == 0;
        CHECK(ok);
        if (!ok) {
            fprintf(stderr, "%s\n", es_error());
            continue;
        }
        CHECK(one.info.groups == 0);
        for (int k = 0; k < 2; k++) {
            o.decoders = k + 2;
            o.user = &samples_many[k];
            CHECK(es_media_analyze(data_path(clips[i].name), &o, &many[k]) == 0);
            const es_media_analysis *m = &many[k];
            int same = m->n_frames == one.n_frames && m->n_audio == one.n_audio &&
                       !memcmp(m->frames, one.frames, one.n_frames * sizeof *one.frames) &&
                       same_audio(m->audio, one.audio, one.n_audio) &&
                       m->info.duration == one.info.duration && m->info.truncated == one.info.truncated &&
                       samples_many[k] == samples_one;
            if (!same) fprintf(stderr, "%s: %d decoders differ from one\n", clips[i].name, k + 2);
            CHECK(same);
            CHECK(m->info.groups >= clips[i].min_groups && m->info.groups <= clips[i].max_groups);
            if (m->info.groups < clips[i].min_groups || m->info.groups > clips[i].max_groups)
                fprintf(stderr, "%s: %d groups\n", clips[i].name, m->info.groups);
            es_media_analysis_free(&many[k]);
        }
        /* a picture under spare_cpu_below_pixels leaves a CPU to the consumer: with two CPUs, one
         * decoder and no groups; at or over it, the default; the analysis the same either way */
        if (es_cpu_count() == 2) {
            es_media_analysis spared;
            long long pixels = (long long)one.info.width * one.info.height;
            for (int k = 0; k < 2; k++) {
                es_decode_options so = o;
                so.decoders = 0;
                so.spare_cpu_below_pixels = k ? pixels : pixels + 1;
                so.user = &samples_many[0];
                samples_many[0] = 0;
                CHECK(es_media_analyze(data_path(clips[i].name), &so, &spared) == 0);
                CHECK(spared.n_frames == one.n_frames && samples_many[0] == samples_one &&
                      !memcmp(spared.frames, one.frames, one.n_frames * sizeof *one.frames));
                CHECK(k ? spared.info.groups >= clips[i].min_groups : spared.info.groups == 0);
                es_media_analysis_free(&spared);
            }
        }
        es_media_analysis_free(&one);
    }
}

/* IDR detection on hand-made packets, hostile ones included: lengths past the end, zero
 * lengths, truncated start codes. */
static void test_idr_detection(void)
{
    const uint8_t avc_idr[] = {0, 0, 0, 2, 0x09, 0xf0, 0, 0, 0, 3, 0x65, 0x88, 0x84};  /* AUD, IDR slice */
    const uint8_t avc_p[] = {0, 0, 0, 2, 0x09, 0xf0, 0, 0, 0, 3, 0x41, 0x9a, 0x00};    /* AUD, non-IDR slice */
    const uint8_t avc_long[] = {0, 0, 0, 200, 0x65, 0x88};                             /* length past the end */
    const uint8_t avc_zero[] = {0, 0, 0, 0, 0, 0, 0, 1, 0x65};                         /* zero length first */
    const uint8_t annexb_idr[] = {0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x65, 0x88};
    const uint8_t annexb_cut[] = {0, 0, 1};                                            /* start code, no NAL */
    const uint8_t hevc_idr[] = {0, 0, 0, 3, 0x26, 0x01, 0xaf};                         /* IDR_W_RADL (19) */
    const uint8_t hevc_cra[] = {0, 0, 0, 3, 0x2a, 0x01, 0xaf};                         /* CRA (21) */
    CHECK(es_is_idr(AV_CODEC_ID_H264, avc_idr, sizeof avc_idr, 4) == 1);
    CHECK(es_is_idr(AV_CODEC_ID_H264, avc_p, sizeof avc_p, 4) == 0);
    CHECK(es_is_idr(AV_CODEC_ID_H264, avc_long, sizeof avc_long, 4) == 0);
    CHECK(es_is_idr(AV_CODEC_ID_H264, avc_zero, sizeof avc_zero, 4) == 0);
    CHECK(es_is_idr(AV_CODEC_ID_H264, avc_idr, 11, 4) == 0);  /* cut inside it: lengths not trusted, no split */
    CHECK(es_is_idr(AV_CODEC_ID_H264, avc_idr, 10, 4) == 0);  /* cut before the IDR header */
    CHECK(es_is_idr(AV_CODEC_ID_H264, annexb_idr, sizeof annexb_idr, 0) == 1);
    CHECK(es_is_idr(AV_CODEC_ID_H264, annexb_cut, sizeof annexb_cut, 0) == 0);
    CHECK(es_is_idr(AV_CODEC_ID_HEVC, hevc_idr, sizeof hevc_idr, 4) == 1);
    CHECK(es_is_idr(AV_CODEC_ID_HEVC, hevc_cra, sizeof hevc_cra, 4) == 0);
    CHECK(es_is_idr(AV_CODEC_ID_VP9, avc_idr, sizeof avc_idr, 4) == 0);
    CHECK(es_is_idr(AV_CODEC_ID_H264, NULL, 0, 4) == 0);
}

int main(void)
{
    test_idr_detection();
    test_parallel_equals_single();
    test_small_clips_and_fuzz_finds();
    test_cuts_mp4();
    test_other_formats();
    test_colours_and_audio();
    test_progress_and_no_audio();
    test_truncated();
    test_joined_streams();
    test_errors();
    test_garbage();
    return check_report("test_media_decode");
}
