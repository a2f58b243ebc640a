/* Loudness normalisation with libebur128, fade-out and WAV output. The true peak, the costly part
 * of the measurement, is split over two threads in a way that gives the one-pass result exactly. */
#include <ebur128.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "audio/loudness.h"
#include "core/error.h"
#include "core/outfile.h"

/* Feeds frames [from, to) of pcm to st; with peak, *peak grows to the largest true peak of
 * what was fed in these calls (libebur128 reports it per call). */
static int feed(ebur128_state *st, const float *pcm, size_t from, size_t to, double *peak)
{
    /* libebur128 takes a frame count as size_t but feeds in blocks; chunks keep it simple */
    for (size_t done = from; done < to;) {
        size_t n = to - done > 65536 ? 65536 : to - done;
        if (ebur128_add_frames_float(st, pcm + 2 * done, n) != EBUR128_SUCCESS) return -1;
        done += n;
        for (unsigned c = 0; peak && c < 2; c++) {
            double p;
            if (ebur128_prev_true_peak(st, c, &p) != EBUR128_SUCCESS) return -1;
            if (p > *peak) *peak = p;
        }
    }
    return 0;
}

/* Frames fed before a true-peak range without counting their peaks: they fill the oversampling
 * interpolator's history (13 frames below 96 kHz, 25 below 192 kHz), so the range's peaks come
 * out as in one pass. */
#define TP_PRIME 256

/* True peak of frames [from, to) of pcm, computed on its own. */
typedef struct {
    const float *pcm;
    size_t from, to;
    unsigned long rate;
    double peak;
    int ret;
} tp_job;

static void *tp_run(void *arg)
{
    tp_job *j = arg;
    j->ret = -1;
    j->peak = 0;
    ebur128_state *st = ebur128_init(2, j->rate, EBUR128_MODE_M | EBUR128_MODE_TRUE_PEAK);
    if (!st) return NULL;
    size_t prime = j->from > TP_PRIME ? j->from - TP_PRIME : 0;
    if (feed(st, j->pcm, prime, j->from, NULL) == 0 && feed(st, j->pcm, j->from, j->to, &j->peak) == 0) j->ret = 0;
    ebur128_destroy(&st);
    return NULL;
}

int es_loudness_measure_threads(const float *pcm, size_t n_frames, int rate, int threads, double *lufs, double *peak)
{
    *lufs = -HUGE_VAL;
    if (peak) *peak = 0;
    if (rate < 8000 || rate > 384000) return es_fail("loudness: sample rate %d out of range", rate);
    if (threads < 1 || threads > 2) return es_fail("loudness: %d threads (1 or 2)", threads);
    if (n_frames == 0) return 0;
    /* Two threads only pay off for the true peak (the 4x interpolation is 3/4 of the work): the
     * helper takes the end of the signal, this thread the loudness over all of it and the peak of
     * the start; 0.36 balances the two. */
    int split = peak && threads == 2 && n_frames >= 4 * TP_PRIME;
    tp_job job = {pcm, split ? (size_t)(0.36 * (double)n_frames) : n_frames, n_frames, (unsigned long)rate, 0, 0};
    ebur128_state *st = NULL, *tp = NULL;
    pthread_t helper;
    int started = 0, ret = -1;
    if (split) {
        if (pthread_create(&helper, NULL, tp_run, &job) != 0) return es_fail("loudness: cannot start a thread");
        started = 1;
    }
    st = ebur128_init(2, (unsigned long)rate, peak && !split ? EBUR128_MODE_I | EBUR128_MODE_TRUE_PEAK : EBUR128_MODE_I);
    if (split) tp = ebur128_init(2, (unsigned long)rate, EBUR128_MODE_M | EBUR128_MODE_TRUE_PEAK);
    if (!st || (split && !tp)) {
        es_fail("loudness: out of memory");
        goto end;
    }
    double head_peak = 0;
    if (feed(st, pcm, 0, n_frames, NULL) || (split && feed(tp, pcm, 0, job.from, &head_peak))) {
        es_fail("loudness: measurement failed");
        goto end;
    }
    if (peak && !split) { /* the reference: the library's own peak over the one pass */
        double p0 = 0, p1 = 0;
        if (ebur128_true_peak(st, 0, &p0) != EBUR128_SUCCESS || ebur128_true_peak(st, 1, &p1) != EBUR128_SUCCESS) {
            es_fail("loudness: peak measurement failed");
            goto end;
        }
        head_peak = fmax(p0, p1);
    }
    double l;
    if (ebur128_loudness_global(st, &l) != EBUR128_SUCCESS) {
        es_fail("loudness: measurement failed");
        goto end;
    }
    if (started) {
        pthread_join(helper, NULL);
        started = 0;
        if (job.ret) {
            es_fail("loudness: peak measurement failed");
            goto end;
        }
    }
    *lufs = l;
    if (peak) *peak = fmax(head_peak, job.peak);
    ret = 0;
end:
    if (started) pthread_join(helper, NULL);
    if (tp) ebur128_destroy(&tp);
    if (st) ebur128_destroy(&st);
    return ret;
}

int es_loudness_measure(const float *pcm, size_t n_frames, int rate, double *lufs, double *peak)
{
    return es_loudness_measure_threads(pcm, n_frames, rate, 2, lufs, peak);
}

int es_loudness_normalize(float *pcm, size_t n_frames, int rate, double target_lufs, double *measured_lufs)
{
    double lufs, peak;
    if (measured_lufs) *measured_lufs = -HUGE_VAL;
    if (!isfinite(target_lufs) || target_lufs > 0) return es_fail("loudness: bad target %g LUFS", target_lufs);
    if (es_loudness_measure(pcm, n_frames, rate, &lufs, &peak)) return -1;
    if (measured_lufs) *measured_lufs = lufs;
    if (!isfinite(lufs) || !(peak > 0)) return 0; /* silence: nothing to scale */

    double gain = pow(10.0, (target_lufs - lufs) / 20.0);
    double ceiling = pow(10.0, ES_PEAK_CEILING_DB / 20.0);
    if (peak * gain > ceiling) gain = ceiling / peak;
    for (size_t i = 0; i < 2 * n_frames; i++) pcm[i] = (float)(pcm[i] * gain);
    return 0;
}

void es_fade_out(float *pcm, size_t n_frames, int rate, double seconds)
{
    if (!(seconds > 0) || rate <= 0 || n_frames == 0) return;
    double want = seconds * rate;
    size_t len = want >= (double)n_frames ? n_frames : (size_t)llround(want);
    if (len < 1) return;
    size_t start = n_frames - len;
    /* gain (len-1-k)/(len-1) for k = 0..len-1: 1 at the first faded frame, 0 at the last */
    for (size_t k = 0; k < len; k++) {
        double g = len > 1 ? (double)(len - 1 - k) / (double)(len - 1) : 0.0;
        pcm[2 * (start + k)] = (float)(pcm[2 * (start + k)] * g);
        pcm[2 * (start + k) + 1] = (float)(pcm[2 * (start + k) + 1] * g);
    }
}

static void put_le16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    put_le16(p, v & 0xffff);
    put_le16(p + 2, v >> 16);
}

static int write_all(int fd, const uint8_t *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

int es_wav_write(const char *path, const float *pcm, size_t n_frames, int rate)
{
    /* the header holds 4 * rate (bytes per second) in 32 bits */
    if (rate <= 0 || rate > 768000) return es_fail("%s: bad sample rate %d", path, rate);
    /* RIFF sizes are 32-bit: the data chunk plus the 36 header bytes must fit */
    if (n_frames > (UINT32_MAX - 36) / 4) return es_fail("%s: too long for a WAV file", path);
    uint32_t data_bytes = (uint32_t)(n_frames * 4);

    es_outfile o;
    if (es_outfile_open(&o, path)) return -1;
    uint8_t buf[4096];
    uint8_t *h = buf;
    memcpy(h, "RIFF", 4);
    put_le32(h + 4, 36 + data_bytes);
    memcpy(h + 8, "WAVEfmt ", 8);
    put_le32(h + 16, 16);                     /* fmt chunk size */
    put_le16(h + 20, 1);                      /* PCM */
    put_le16(h + 22, 2);                      /* channels */
    put_le32(h + 24, (uint32_t)rate);
    put_le32(h + 28, (uint32_t)rate * 4);     /* byte rate */
    put_le16(h + 32, 4);                      /* block align */
    put_le16(h + 34, 16);                     /* bits per sample */
    memcpy(h + 36, "data", 4);
    put_le32(h + 40, data_bytes);
    size_t used = 44;
    for (size_t i = 0; i < 2 * n_frames; i++) {
        float x = pcm[i];
        long v = isnan(x) ? 0 : lrintf((x > 1.0f ? 1.0f : x < -1.0f ? -1.0f : x) * 32767.0f);
        put_le16(buf + used, (uint32_t)(uint16_t)(int16_t)v);
        used += 2;
        if (used == sizeof buf) {
            if (write_all(o.fd, buf, used)) goto fail;
            used = 0;
        }
    }
    if (used && write_all(o.fd, buf, used)) goto fail;
    return es_outfile_commit(&o);
fail:
    es_fail("%s: write failed: %s", path, strerror(errno));
    es_outfile_abort(&o);
    return -1;
}
