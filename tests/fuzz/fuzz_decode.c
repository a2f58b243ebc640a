/* libFuzzer harness for the one-pass media analysis: any input either fails with one error line
 * or yields frames with ascending finite times and stats in range, and a finite duration; an
 * analysed input (up to a minute long) is then muxed with silence as the pipeline's last step
 * does (media/mux.h), which must either succeed or fail with one line and leave no file. The API
 * reads a path, so each input goes to a temporary file (removed after). Inputs over 256 KiB are
 * skipped to keep each run cheap.
 * seeds: tests/data/media/tiny.* tests/data/media/crash-*
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/log.h>

#include "core/error.h"
#include "media/decode.h"
#include "media/mux.h"

static void on_sample(void *user, double time, const uint8_t *rgb, int width, int height, int stride)
{
    /* touch the first and the last pixel so ASan sees an undersized buffer */
    volatile uint8_t x = rgb[0];
    x = rgb[(size_t)(height - 1) * (size_t)stride + (size_t)width * 3 - 1];
    (void)x;
    if (!isfinite(time) || width < 1 || height < 1 || stride < width * 3) abort();
    ++*(int *)user;
}

static void on_progress(void *user, double fraction)
{
    if (!(fraction >= 0 && fraction <= 1)) abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    av_log_set_level(AV_LOG_QUIET);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256 * 1024) return 0;
    char path[] = "/tmp/fuzz-decode-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) abort();
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0) abort();
        done += (size_t)n;
    }
    close(fd);

    int samples = 0;
    es_decode_options opt = {.want_audio = 1, .sample_fps = 2, .sample_max_width = 48,
                             .on_sample = on_sample, .user = &samples, .on_progress = on_progress};
    /* a third of the inputs sum the frames into spans instead of keeping each */
    static const double given_cut = 1.0;
    opt.reduce_frames = size % 3 == 0;
    opt.split_threshold = 0.27;
    opt.split_times = &given_cut;
    opt.n_split_times = 1;
    es_media_analysis a;
    if (es_media_analyze(path, &opt, &a) == 0) {
        size_t spanned = 0;
        for (size_t i = 0; i < a.spans.n; i++) {
            const es_frame_span *sp = &a.spans.items[i];
            if (!sp->n_frames || !isfinite(sp->start) || (i && sp->start < a.spans.items[i - 1].start)) abort();
            if (!(sp->brightness >= 0 && sp->brightness <= (double)sp->n_frames)) abort();
            spanned += sp->n_frames;
        }
        if (opt.reduce_frames ? spanned != a.info.n_frames || a.n_frames : a.spans.n) abort();
        if (a.info.n_frames == 0 || (!opt.reduce_frames && a.info.n_frames != a.n_frames)) abort();
        if (!isfinite(a.info.duration) || a.info.duration <= 0) abort();
        if (!isfinite(a.info.fps) || a.info.fps <= 0) abort();
        for (size_t i = 0; i < a.n_frames; i++) {
            const es_frame_stats *f = &a.frames[i];
            if (!isfinite(f->time) || (i && f->time < a.frames[i - 1].time)) abort();
            if (!(f->scene >= 0 && f->scene <= 1) || !(f->brightness >= 0 && f->brightness <= 1) ||
                !(f->motion >= 0 && f->motion <= 1))
                abort();
        }
        for (size_t i = 0; i < a.n_audio; i++)
            if (!isfinite(a.audio[i].time) || !isfinite(a.audio[i].energy_db) || !isfinite(a.audio[i].loudness))
                abort();
        if (a.info.duration < 60) {
            char out[64];
            snprintf(out, sizeof out, "%s.mkv", path);
            es_mux_request r = {.input_path = path, .output_path = out, .duration = a.info.duration,
                                .original_audio = size % 2 ? ES_ORIGINAL_AUDIO_MIX : ES_ORIGINAL_AUDIO_TRACK};
            if (es_mux(&r) == 0) {
                if (access(out, F_OK) != 0) abort();
                unlink(out);
            } else if (!es_error()[0] || strchr(es_error(), '\n') || access(out, F_OK) == 0) {
                abort();
            }
        }
    } else if (!es_error()[0]) {
        abort(); /* a failure must say why */
    }
    es_media_analysis_free(&a);
    unlink(path);
    return 0;
}
