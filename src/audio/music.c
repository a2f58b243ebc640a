/* The soundtrack streamed in two renders, or in one kept when short (see music.h). A pump hands
 * the blocks of one render (or of the kept one) on to the reader: it renders a block, applies the gain and the fade, copies it to the WAV, and
 * puts it in one of a few slots, in a background thread that runs at most SLOTS blocks ahead
 * of the reader (or, with one CPU, in the reader's own thread when it asks). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/loudness.h"
#include "audio/music.h"
#include "audio/render.h"
#include "core/cpus.h"
#include "core/error.h"

#define DEFAULT_BLOCK 8192 /* frames: 170 ms at 48 kHz, 64 KiB */
#define SLOTS 4

typedef struct {
    es_render *render;       /* the source, or else kept: */
    float *kept;             /* the first render's samples (interleaved stereo, before the gain) */
    int rate, block;
    int64_t total, made;     /* frames in all, frames rendered so far */
    double gain, fade_seconds;
    es_wav *wav;             /* every block is copied here too, or NULL */
    float *buf[SLOTS];
    long len[SLOTS];
    int head, count;         /* first full slot, full slots (the reader's included) */
    int holding;             /* the reader holds slot head */
    int end, failed, stop;
    char error[256];
    int background, started;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
} pump;

struct es_music {
    pump p;
    int64_t frames;
    double lufs, peak, gain;
    const float *cur;        /* the block being read, cur_len frames, from cur_off on */
    long cur_len, cur_off;
};

/* ---- the pump ---- */

/* Takes over render, or kept (total frames), either of which is freed by pump_free, also on
 * failure. */
static int pump_init(pump *p, es_render *render, float *kept, int64_t total, const es_music_config *cfg, double gain,
                     double fade_seconds)
{
    memset(p, 0, sizeof *p);
    p->render = render;
    p->kept = kept;
    p->rate = cfg->rate;
    p->block = cfg->block_frames > 0 ? cfg->block_frames : DEFAULT_BLOCK;
    p->total = render ? es_render_frames(render) : total;
    p->gain = gain;
    p->fade_seconds = fade_seconds;
    p->background = !cfg->in_caller && es_cpu_count() > 1;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->changed, NULL);
    for (int i = 0; i < (p->background ? SLOTS : 1); i++)
        if (!(p->buf[i] = es_malloc(2 * (size_t)p->block * sizeof *p->buf[i]))) return -1;
    return 0;
}

/* Renders the next block into b and finishes it: gain, fade, the WAV's copy. Returns its frame
 * count, 0 at the end, or -1 with an error. */
static long produce(pump *p, float *b)
{
    long n;
    if (p->render) {
        n = es_render_read(p->render, b, (size_t)p->block);
    } else {
        n = p->total - p->made < p->block ? (long)(p->total - p->made) : p->block;
        memcpy(b, p->kept + 2 * p->made, 2 * (size_t)n * sizeof *b);
    }
    if (n <= 0) return n;
    if (p->gain != 1)
        for (long i = 0; i < 2 * n; i++) b[i] = (float)(b[i] * p->gain);
    es_fade_block(b, (size_t)n, p->made, p->total, p->rate, p->fade_seconds);
    if (p->wav && es_wav_put(p->wav, b, (size_t)n)) return -1;
    p->made += n;
    return n;
}

static void *producer(void *arg)
{
    pump *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stop && !p->end) {
        if (p->count == SLOTS) {
            pthread_cond_wait(&p->changed, &p->lock);
            continue;
        }
        int slot = (p->head + p->count) % SLOTS;
        pthread_mutex_unlock(&p->lock);
        long n = produce(p, p->buf[slot]);
        if (n < 0) snprintf(p->error, sizeof p->error, "%s", es_error()); /* this thread's error */
        pthread_mutex_lock(&p->lock);
        if (n > 0) {
            p->len[slot] = n;
            p->count++;
        } else {
            p->end = 1;
            p->failed = n < 0;
        }
        pthread_cond_broadcast(&p->changed);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* The next block, valid until the next call: its frame count, 0 at the end, or -1. */
static long pump_next(pump *p, const float **block)
{
    if (!p->background) {
        long n = p->end ? 0 : produce(p, p->buf[0]);
        if (n <= 0) p->end = 1;
        *block = p->buf[0];
        return n;
    }
    if (!p->started) {
        if (pthread_create(&p->thread, NULL, producer, p) != 0) return es_fail("render: cannot start a thread");
        p->started = 1;
    }
    pthread_mutex_lock(&p->lock);
    if (p->holding) { /* the reader is done with the block it had */
        p->head = (p->head + 1) % SLOTS;
        p->count--;
        p->holding = 0;
        pthread_cond_broadcast(&p->changed);
    }
    while (p->count == 0 && !p->end) pthread_cond_wait(&p->changed, &p->lock);
    long n = 0;
    if (p->count) {
        *block = p->buf[p->head];
        n = p->len[p->head];
        p->holding = 1;
    } else if (p->failed) {
        n = es_fail("%s", p->error);
    }
    pthread_mutex_unlock(&p->lock);
    return n;
}

/* Stops the background render and waits for it. */
static void pump_stop(pump *p)
{
    if (!p->started) return;
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    p->started = 0;
}

static void pump_free(pump *p)
{
    pump_stop(p);
    es_render_close(&p->render);
    free(p->kept);
    es_wav_abort(&p->wav);
    for (int i = 0; i < SLOTS; i++) free(p->buf[i]);
    pthread_cond_destroy(&p->changed);
    pthread_mutex_destroy(&p->lock);
    memset(p, 0, sizeof *p);
}

/* ---- the two renders ---- */

/* One FluidSynth thread by default: the background render is the parallelism. Measured on two
 * cores (60 s of music): a second mixer thread cost 13% in the second render, where the encoder
 * wants the other core. A first render that is kept is the only one, with nothing but the
 * meter beside it: there two threads render 60 s in 0.48 s against 0.74 s (bench_audio). */
static int threads_of(const es_music_config *cfg, int kept)
{
    return cfg->threads > 0 ? cfg->threads : kept && es_cpu_count() > 1 ? 2 : 1;
}

static int keeps(const es_music_config *cfg, int64_t frames)
{
    return !cfg->render_twice && (uint64_t)frames * 2 * sizeof(float) <= ES_MUSIC_KEEP_BYTES;
}

/* The first render: loudness and true peak; the samples are dropped as they are measured, or
 * kept in *kept when they fit in ES_MUSIC_KEEP_BYTES. */
static int measure(es_music *m, const es_music_config *cfg, float **kept)
{
    es_render *r;
    *kept = NULL;
    int keep = keeps(cfg, llround(cfg->score->duration * cfg->rate)); /* es_render_frames' count */
    if (es_render_open(&r, cfg->score, cfg->soundfont, cfg->rate, threads_of(cfg, keep)))
        return -1;
    m->frames = es_render_frames(r);
    pump p;
    es_loudness_meter *meter = NULL;
    int ret = -1;
    if (pump_init(&p, r, NULL, 0, cfg, 1, 0) || es_loudness_meter_open(&meter, cfg->rate, 1)) goto end;
    if (keep && !(*kept = es_malloc(2 * (size_t)m->frames * sizeof **kept + 1)))
        goto end;
    const float *b;
    long n;
    int64_t done = 0;
    while ((n = pump_next(&p, &b)) > 0) {
        if (es_loudness_meter_add(meter, b, (size_t)n)) goto end;
        if (*kept && done + n <= m->frames) memcpy(*kept + 2 * done, b, 2 * (size_t)n * sizeof *b);
        done += n;
        if (cfg->progress) cfg->progress(cfg->progress_user, (double)done / (double)m->frames);
    }
    if (n == 0 && es_loudness_meter_result(meter, &m->lufs, &m->peak) == 0) ret = 0;
    if (*kept && done != m->frames) { /* not all there: the reads render again */
        free(*kept);
        *kept = NULL;
    }
end:
    es_loudness_meter_free(&meter);
    pump_free(&p);
    if (ret) {
        free(*kept);
        *kept = NULL;
    }
    return ret;
}

int es_music_open(es_music **out, const es_music_config *cfg)
{
    *out = NULL;
    double gain;
    if (es_loudness_gain(-HUGE_VAL, 0, cfg->target_lufs, &gain)) return -1; /* the target, before the work */
    es_music *m = es_calloc(1, sizeof *m);
    if (!m) return -1;
    es_render *r = NULL;
    float *kept = NULL;
    if (measure(m, cfg, &kept)) goto fail;
    es_loudness_gain(m->lufs, m->peak, cfg->target_lufs, &m->gain);
    if (!kept && es_render_open(&r, cfg->score, cfg->soundfont, cfg->rate, threads_of(cfg, 0)))
        goto fail;
    /* from here the pump owns r or kept, also when its init fails */
    if (pump_init(&m->p, r, kept, m->frames, cfg, m->gain, cfg->fade_seconds)) goto fail_owned;
    *out = m;
    return 0;
fail:
    es_render_close(&r);
    free(kept);
fail_owned:
    es_music_free(&m);
    return -1;
}

int64_t es_music_frames(const es_music *m) { return m->frames; }
double es_music_loudness(const es_music *m) { return m->lufs; }
double es_music_peak(const es_music *m) { return m->peak; }
double es_music_gain(const es_music *m) { return m->gain; }
int es_music_renders(const es_music *m) { return m->p.kept ? 1 : 2; }

int es_music_tee_wav(es_music *m, const char *path)
{
    if (m->p.started || m->p.made || m->p.wav) return es_fail("%s: the music is already being read", path);
    return es_wav_open(&m->p.wav, path, (size_t)m->frames, m->p.rate);
}

long es_music_read(es_music *m, float *pcm, size_t n)
{
    size_t done = 0;
    while (done < n) {
        if (m->cur_off == m->cur_len) {
            long got = pump_next(&m->p, &m->cur);
            if (got < 0) return -1;
            m->cur_len = got;
            m->cur_off = 0;
            if (got == 0) break;
        }
        size_t k = (size_t)(m->cur_len - m->cur_off);
        if (k > n - done) k = n - done;
        memcpy(pcm + 2 * done, m->cur + 2 * m->cur_off, 2 * k * sizeof *pcm);
        m->cur_off += (long)k;
        done += k;
    }
    return (long)done;
}

long es_music_pull(void *music, float *pcm, size_t n) { return es_music_read(music, pcm, n); }

int es_music_finish(es_music *m)
{
    if (!m->p.wav) return 0;
    const float *b;
    long n;
    while ((n = pump_next(&m->p, &b)) > 0) continue;
    pump_stop(&m->p);
    if (n < 0) return -1;
    m->cur_len = m->cur_off = 0;
    return es_wav_commit(&m->p.wav);
}

void es_music_free(es_music **pm)
{
    es_music *m = *pm;
    if (!m) return;
    pump_free(&m->p);
    free(m);
    *pm = NULL;
}
