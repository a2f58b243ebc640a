/* Loudness with libebur128, fade-out and WAV output, each usable on a whole buffer or on a
 * stream of blocks. The meter is one libebur128 state fed as the blocks come: integrated
 * loudness works on 400 ms windows and the true-peak interpolator keeps its history between
 * calls, so the block sizes do not change the result. */
#include <ebur128.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio/loudness.h"
#include "core/error.h"
#include "core/outfile.h"

struct es_loudness_meter {
    ebur128_state *st;
    int with_peak;
};

int es_loudness_meter_open(es_loudness_meter **out, int rate, int with_peak)
{
    *out = NULL;
    if (rate < 8000 || rate > 384000) return es_fail("loudness: sample rate %d out of range", rate);
    es_loudness_meter *m = es_calloc(1, sizeof *m);
    if (!m) return -1;
    m->with_peak = with_peak;
    m->st = ebur128_init(2, (unsigned long)rate, with_peak ? EBUR128_MODE_I | EBUR128_MODE_TRUE_PEAK : EBUR128_MODE_I);
    if (!m->st) {
        free(m);
        return es_fail("loudness: out of memory");
    }
    *out = m;
    return 0;
}

int es_loudness_meter_add(es_loudness_meter *m, const float *pcm, size_t n_frames)
{
    /* libebur128 takes a frame count as size_t but works in blocks; chunks keep it simple */
    for (size_t done = 0; done < n_frames;) {
        size_t n = n_frames - done > 65536 ? 65536 : n_frames - done;
        if (ebur128_add_frames_float(m->st, pcm + 2 * done, n) != EBUR128_SUCCESS)
            return es_fail("loudness: measurement failed");
        done += n;
    }
    return 0;
}

int es_loudness_meter_result(es_loudness_meter *m, double *lufs, double *peak)
{
    *lufs = -HUGE_VAL;
    if (peak) *peak = 0;
    double l, p0 = 0, p1 = 0;
    if (ebur128_loudness_global(m->st, &l) != EBUR128_SUCCESS) return es_fail("loudness: measurement failed");
    if (m->with_peak && (ebur128_true_peak(m->st, 0, &p0) != EBUR128_SUCCESS ||
                         ebur128_true_peak(m->st, 1, &p1) != EBUR128_SUCCESS))
        return es_fail("loudness: peak measurement failed");
    *lufs = l;
    if (peak) *peak = fmax(p0, p1);
    return 0;
}

void es_loudness_meter_free(es_loudness_meter **pm)
{
    es_loudness_meter *m = *pm;
    if (!m) return;
    ebur128_destroy(&m->st);
    free(m);
    *pm = NULL;
}

int es_loudness_measure(const float *pcm, size_t n_frames, int rate, double *lufs, double *peak)
{
    *lufs = -HUGE_VAL;
    if (peak) *peak = 0;
    es_loudness_meter *m;
    if (es_loudness_meter_open(&m, rate, peak != NULL)) return -1;
    int ret = es_loudness_meter_add(m, pcm, n_frames) || es_loudness_meter_result(m, lufs, peak) ? -1 : 0;
    es_loudness_meter_free(&m);
    return ret;
}

int es_loudness_gain(double lufs, double peak, double target_lufs, double *gain)
{
    *gain = 1;
    if (!isfinite(target_lufs) || target_lufs > 0) return es_fail("loudness: bad target %g LUFS", target_lufs);
    if (!isfinite(lufs) || !(peak > 0)) return 0; /* silence: nothing to scale */
    double g = pow(10.0, (target_lufs - lufs) / 20.0);
    double ceiling = pow(10.0, ES_PEAK_CEILING_DB / 20.0);
    if (peak * g > ceiling) g = ceiling / peak;
    *gain = g;
    return 0;
}

int es_loudness_normalize(float *pcm, size_t n_frames, int rate, double target_lufs, double *measured_lufs)
{
    double lufs, peak, gain;
    if (measured_lufs) *measured_lufs = -HUGE_VAL;
    if (es_loudness_gain(-HUGE_VAL, 0, target_lufs, &gain)) return -1; /* the target, before the work */
    if (es_loudness_measure(pcm, n_frames, rate, &lufs, &peak)) return -1;
    if (measured_lufs) *measured_lufs = lufs;
    es_loudness_gain(lufs, peak, target_lufs, &gain);
    if (gain == 1) return 0;
    for (size_t i = 0; i < 2 * n_frames; i++) pcm[i] = (float)(pcm[i] * gain);
    return 0;
}

void es_fade_block(float *pcm, size_t n_frames, int64_t at, int64_t total, int rate, double seconds)
{
    if (!(seconds > 0) || rate <= 0 || total <= 0) return;
    double want = seconds * rate;
    int64_t len = want >= (double)total ? total : llround(want);
    if (len < 1) return;
    int64_t start = total - len;
    /* gain (len-1-k)/(len-1) for k = 0..len-1: 1 at the first faded frame, 0 at the last */
    for (int64_t f = at > start ? at : start; f < at + (int64_t)n_frames && f < total; f++) {
        int64_t k = f - start;
        double g = len > 1 ? (double)(len - 1 - k) / (double)(len - 1) : 0.0;
        float *x = pcm + 2 * (f - at);
        x[0] = (float)(x[0] * g);
        x[1] = (float)(x[1] * g);
    }
}

void es_fade_out(float *pcm, size_t n_frames, int rate, double seconds)
{
    es_fade_block(pcm, n_frames, 0, (int64_t)n_frames, rate, seconds);
}

/* ---- WAV ---- */

struct es_wav {
    es_outfile o;
    size_t want, done; /* frames announced in the header, frames written */
    size_t used;       /* bytes waiting in buf */
    uint8_t buf[8192];
};

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

static int flush_wav(es_wav *w)
{
    if (w->used && write_all(w->o.fd, w->buf, w->used))
        return es_fail("%s: write failed: %s", w->o.final_path, strerror(errno));
    w->used = 0;
    return 0;
}

int es_wav_open(es_wav **out, const char *path, size_t n_frames, int rate)
{
    *out = NULL;
    /* the header holds 4 * rate (bytes per second) in 32 bits */
    if (rate <= 0 || rate > 768000) return es_fail("%s: bad sample rate %d", path, rate);
    /* RIFF sizes are 32-bit: the data chunk plus the 36 header bytes must fit */
    if (n_frames > (UINT32_MAX - 36) / 4) return es_fail("%s: too long for a WAV file", path);
    uint32_t data_bytes = (uint32_t)(n_frames * 4);
    es_wav *w = es_calloc(1, sizeof *w);
    if (!w) return -1;
    if (es_outfile_open(&w->o, path)) {
        free(w);
        return -1;
    }
    w->want = n_frames;
    uint8_t *h = w->buf;
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
    w->used = 44;
    *out = w;
    return 0;
}

int es_wav_put(es_wav *w, const float *pcm, size_t n_frames)
{
    if (n_frames > w->want - w->done) return es_fail("%s: more frames than announced", w->o.final_path);
    for (size_t i = 0; i < 2 * n_frames; i++) {
        float x = pcm[i];
        long v = isnan(x) ? 0 : lrintf((x > 1.0f ? 1.0f : x < -1.0f ? -1.0f : x) * 32767.0f);
        put_le16(w->buf + w->used, (uint32_t)(uint16_t)(int16_t)v);
        w->used += 2;
        if (w->used == sizeof w->buf && flush_wav(w)) return -1;
    }
    w->done += n_frames;
    return 0;
}

int es_wav_commit(es_wav **pw)
{
    es_wav *w = *pw;
    int ret = -1;
    if (w->done != w->want) es_fail("%s: %zu of %zu frames written", w->o.final_path, w->done, w->want);
    else if (flush_wav(w) == 0) ret = es_outfile_commit(&w->o);
    es_wav_abort(pw);
    return ret;
}

void es_wav_abort(es_wav **pw)
{
    es_wav *w = *pw;
    if (!w) return;
    es_outfile_abort(&w->o);
    free(w);
    *pw = NULL;
}

int es_wav_write(const char *path, const float *pcm, size_t n_frames, int rate)
{
    es_wav *w;
    if (es_wav_open(&w, path, n_frames, rate)) return -1;
    if (es_wav_put(w, pcm, n_frames)) {
        es_wav_abort(&w);
        return -1;
    }
    return es_wav_commit(&w);
}
