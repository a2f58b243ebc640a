/* media/grab: one picture as RGB24. Known pixels in, the same pixels out (PPM/PGM written here,
 * odd sizes, grayscale, 8K UHD 7680x4320); the frame shown at a time in the generated clips
 * (a solid 0x2040a0 scene, the cut at 5 s); bad input (missing, directory, text, audio only,
 * empty, truncated, time past the end or negative) fails with one line. */
#include <libavutil/log.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/error.h"
#include "media/grab.h"

static char tmp[256];

static int error_has(const char *needle)
{
    int ok = strstr(es_error(), needle) != NULL && !strchr(es_error(), '\n');
    if (!ok) fprintf(stderr, "  error was: '%s', expected to contain '%s'\n", es_error(), needle);
    return ok;
}

static uint8_t pattern(int x, int y, int c) { return (uint8_t)((x * 7 + y * 13 + c * 85) & 0xFF); }

/* Writes a binary PPM (channels 3) or PGM (channels 1) of the pattern; with cut > 0 that many
 * bytes are left off the end. */
static void write_pnm(const char *path, int w, int h, int channels, long cut)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "P%d\n%d %d\n255\n", channels == 3 ? 6 : 5, w, h);
    long total = (long)w * h * channels, written = 0;
    uint8_t *row = malloc((size_t)w * channels);
    for (int y = 0; y < h && written < total - cut; y++) {
        for (int x = 0; x < w; x++)
            for (int c = 0; c < channels; c++) row[x * channels + c] = pattern(x, y, channels == 3 ? c : 0);
        long n = (long)w * channels;
        if (written + n > total - cut) n = total - cut - written;
        fwrite(row, 1, (size_t)n, f);
        written += n;
    }
    free(row);
    fclose(f);
}

static void check_pattern(const es_frame *fr, int w, int h, int gray)
{
    CHECK(fr->width == w && fr->height == h && fr->stride == 3 * w);
    long bad = 0;
    for (int y = 0; y < fr->height; y += (h > 1000 ? 7 : 1))
        for (int x = 0; x < fr->width; x++)
            for (int c = 0; c < 3; c++)
                if (fr->rgb[(size_t)y * fr->stride + 3 * x + c] != pattern(x, y, gray ? 0 : c)) bad++;
    if (bad) fprintf(stderr, "  %dx%d: %ld bytes differ from what was written\n", w, h, bad);
    CHECK(bad == 0);
}

static void test_known_pixels(void)
{
    char path[512];
    es_frame fr;
    /* odd sizes in RGB and gray, and the smallest pictures */
    static const int sizes[][2] = {{333, 201}, {16, 16}, {1, 1}, {7, 3}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (int gray = 0; gray < 2; gray++) {
            snprintf(path, sizeof path, "%s/p%zu.%s", tmp, i, gray ? "pgm" : "ppm");
            write_pnm(path, sizes[i][0], sizes[i][1], gray ? 1 : 3, 0);
            int rc = es_grab_frame(path, 0, &fr);
            CHECK(rc == 0);
            if (rc) {
                fprintf(stderr, "  %s\n", es_error());
                continue;
            }
            check_pattern(&fr, sizes[i][0], sizes[i][1], gray);
            CHECK(fr.time == 0);
            es_frame_free(&fr);
            CHECK(es_grab_frame(path, 3, &fr) == -1 && error_has("a still image has no frame at 3.000 s"));
            CHECK(es_grab_frame(path, 0.01, &fr) == -1 && error_has("a still image has no frame"));
        }
    /* 8K UHD, grayscale (a third of the bytes of RGB to write) */
    snprintf(path, sizeof path, "%s/8k.pgm", tmp);
    write_pnm(path, 7680, 4320, 1, 0);
    CHECK(es_grab_frame(path, 0, &fr) == 0);
    if (fr.rgb) check_pattern(&fr, 7680, 4320, 1);
    es_frame_free(&fr);
    unlink(path);
    /* headers that promise huge pictures with no pixels behind them */
    static const char *huge[] = {"P5\n20000 20000\n255\nabcdef", "P6\n100000 100000\n255\nabc",
                                 "P5\n7680 4320\n255\n"};
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        snprintf(path, sizeof path, "%s/huge%zu.pgm", tmp, i);
        FILE *f = fopen(path, "wb");
        if (f) {
            fputs(huge[i], f);
            fclose(f);
        }
        CHECK(es_grab_frame(path, 0, &fr) == -1 && fr.rgb == NULL && es_error()[0] && !strchr(es_error(), '\n'));
    }
    /* a PPM whose pixels stop early */
    snprintf(path, sizeof path, "%s/cut.ppm", tmp);
    write_pnm(path, 64, 64, 3, 1000);
    CHECK(es_grab_frame(path, 0, &fr) == -1 && fr.rgb == NULL);
    CHECK(es_error()[0] && !strchr(es_error(), '\n'));
}

static void test_clips(void)
{
    char path[512];
    es_frame fr;
    const char *dir = test_data_dir();
    snprintf(path, sizeof path, "%s/cuts.mp4", dir);
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "SKIP clip checks: %s missing (run tests/gen-data.sh)\n", path);
        return;
    }
    /* 17..20 s is color=0x2040a0 */
    CHECK(es_grab_frame(path, 18.0, &fr) == 0);
    if (fr.rgb) {
        CHECK(fr.width == 320 && fr.height == 240);
        CHECK_NEAR(fr.time, 18.0, 1e-6);
        CHECK_NEAR(fr.duration, 20.0, 0.05);
        double m[3] = {0, 0, 0};
        for (int i = 0; i < fr.width * fr.height; i++)
            for (int c = 0; c < 3; c++) m[c] += fr.rgb[3 * i + c];
        for (int c = 0; c < 3; c++) m[c] /= fr.width * fr.height;
        CHECK_NEAR(m[0], 0x20, 3);
        CHECK_NEAR(m[1], 0x40, 3);
        CHECK_NEAR(m[2], 0xa0, 3);
    }
    es_frame_free(&fr);
    /* the frame on screen at t is the last one starting at or before t (25 fps) */
    CHECK(es_grab_frame(path, 5.03, &fr) == 0);
    CHECK_NEAR(fr.time, 5.0, 1e-6);
    es_frame before = {0};
    CHECK(es_grab_frame(path, 4.99, &before) == 0);
    CHECK_NEAR(before.time, 4.96, 1e-6);
    if (fr.rgb && before.rgb) {
        long diff = 0;
        for (int i = 0; i < 3 * fr.width * fr.height; i++) diff += abs(fr.rgb[i] - before.rgb[i]);
        CHECK(diff > 20L * fr.width * fr.height);  /* a hard cut: a different picture */
    }
    es_frame_free(&before);
    es_frame_free(&fr);
    CHECK(es_grab_frame(path, 0, &fr) == 0 && fr.time == 0);
    es_frame_free(&fr);
    CHECK(es_grab_frame(path, 19.99, &fr) == 0);
    CHECK_NEAR(fr.time, 19.96, 1e-6);
    es_frame_free(&fr);
    CHECK(es_grab_frame(path, 20.5, &fr) == -1 && error_has("past the end") && fr.rgb == NULL);
    CHECK(es_grab_frame(path, 1e9, &fr) == -1 && error_has("past the end"));
    CHECK(es_grab_frame(path, -1, &fr) == -1 && error_has("not a time"));
    CHECK(es_grab_frame(path, NAN, &fr) == -1 && error_has("not a time"));

    snprintf(path, sizeof path, "%s/cuts.mkv", dir);
    CHECK(es_grab_frame(path, 18.0, &fr) == 0 && fabs(fr.time - 18.0) < 1e-3);
    es_frame_free(&fr);
    snprintf(path, sizeof path, "%s/image.png", dir);
    CHECK(es_grab_frame(path, 0, &fr) == 0 && fr.width == 64 && fr.height == 48);
    es_frame_free(&fr);

    static const struct { const char *name, *error; } bad[] = {
        {"no-such-file.mp4", "No such file"},
        {"text.txt", "not an image or video"},
        {"audio-only.m4a", "no image or video"},
        {"empty.mp4", "not an image or video"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, bad[i].name);
        CHECK(es_grab_frame(path, 0, &fr) == -1 && error_has(bad[i].error) && fr.rgb == NULL);
    }
    CHECK(es_grab_frame(dir, 0, &fr) == -1 && es_error()[0]);
    /* a cut file: a clear error or a picture, never a crash */
    snprintf(path, sizeof path, "%s/truncated.mp4", dir);
    int rc = es_grab_frame(path, 15, &fr);
    CHECK(rc == 0 ? fr.rgb != NULL : fr.rgb == NULL && es_error()[0] != '\0');
    es_frame_free(&fr);
}

/* A raw H.264 stream (tests/data/media/tiny.h264: 10 frames at 10 fps, frame k a flat grey of
 * level 16 + 20k, no timestamps and no duration). Seeking in it failed and left the reader at the
 * end ("no picture could be decoded"); frames without timestamps all counted as time 0; and a
 * huge time overflowed the seek target. Now frames are counted from the start. */
static void test_raw_stream(void)
{
    const char *path = "tests/data/media/tiny.h264";
    es_frame fr;
    int all_ok = 1;
    for (int k = 0; k < 10; k++) {
        int rc = es_grab_frame(path, k / 10.0 + 0.05, &fr);
        double mean = 0;
        if (rc == 0) {
            for (int i = 0; i < 3 * fr.width * fr.height; i++) mean += fr.rgb[i];
            mean /= 3.0 * fr.width * fr.height;
        }
        int ok = rc == 0 && fabs(fr.time - k / 10.0) < 1e-6 && fabs(mean - (16 + 20 * k)) < 3;
        if (!ok) fprintf(stderr, "  frame %d: rc %d (%s), time %g, mean %g\n", k, rc, es_error(), fr.time, mean);
        all_ok &= ok;
        es_frame_free(&fr);
    }
    CHECK(all_ok);
    CHECK(es_grab_frame(path, 1.1, &fr) == -1 && error_has("past the end") && fr.rgb == NULL);
    CHECK(es_grab_frame(path, 1e12, &fr) == -1 && error_has("past the end"));
    CHECK(es_grab_frame(path, 1e300, &fr) == -1 && error_has("past the end") && strlen(es_error()) < 200);
}

int main(void)
{
    av_log_set_level(AV_LOG_QUIET);
    snprintf(tmp, sizeof tmp, "/tmp/es-faces-grab-XXXXXX");
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 1;
    }
    test_known_pixels();
    test_clips();
    test_raw_stream();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    return check_report("test_faces_grab");
}
