/* Segmented AAC encoding: see aacseg.h for why the joins are sound. Worker threads take the
 * segments in order; the reader (es_aacseg_next) walks the packets of one segment at a time and
 * decides each join when it gets there, running the previous encoder on where no join is found. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <libavutil/channel_layout.h>

#include "core/error.h"
#include "core/cpus.h"
#include "media/aacseg.h"

/* A fresh encoder's rate control takes some 700 frames to settle, and until then it encodes many
 * frames two or three times over (0.2 s more work): segments are long and few. */
#define DEFAULT_SEGMENT_FRAMES 1408 /* 30 s at 48 kHz */
#define MAX_SEGMENTS 8
#define DEFAULT_PREROLL 16
#define DEFAULT_SEARCH 16
/* Frames fed past the search window, so the packets it needs have left the encoder's lookahead. */
#define MARGIN 4
#define MAX_THREADS 16

typedef struct {
    int64_t pts, duration;
    size_t offset;
    int size, flags, window;
} packet_ref;

typedef struct {
    int64_t start, end;       /* nominal frame range [start, end) */
    int64_t first;            /* global index of the first packet stored */
    int64_t fed;              /* samples fed so far, from fed_from */
    AVCodecContext *enc;
    AVFrame *frame;
    uint8_t *data;
    size_t len, cap;
    packet_ref *pk;
    size_t n, cap_pk;
    int done, failed, flushed;
    char error[256];
} segment;

struct es_aacseg {
    es_aacseg_config cfg;
    int frame_size, padding, small_last;
    int n_seg, n_threads, search, preroll;
    segment *seg;
    pthread_t threads[MAX_THREADS];
    int started;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int next_job;             /* next segment a worker takes */
    int reading;              /* latest segment the reader has asked for */
    atomic_int stop;
    /* reader state */
    int src;                  /* segment whose packets are being read */
    int64_t g;                /* next global packet index */
    int64_t limit;            /* first index not read from src; -1 undecided */
    int join_to;              /* segment read from limit on */
    int joins;
};

/* ---- a segment's encoder ---- */

static int seg_error(segment *sg, const char *what, int err)
{
    char buf[AV_ERROR_MAX_STRING_SIZE] = "";
    if (err) av_strerror(err, buf, sizeof buf);
    snprintf(sg->error, sizeof sg->error, "audio encoding failed: %s%s%s", what, err ? ": " : "", buf);
    sg->failed = 1;
    return -1;
}

static int open_like(es_aacseg *s, segment *sg)
{
    const AVCodecContext *like = s->cfg.like;
    AVCodecContext *c = avcodec_alloc_context3(like->codec);
    sg->frame = av_frame_alloc();
    if (!c || !sg->frame) {
        avcodec_free_context(&c);
        return seg_error(sg, "out of memory", 0);
    }
    sg->enc = c;
    c->sample_fmt = like->sample_fmt;
    c->sample_rate = like->sample_rate;
    c->bit_rate = like->bit_rate;
    c->time_base = like->time_base;
    c->flags = like->flags;
    c->strict_std_compliance = like->strict_std_compliance;
    int ret = av_channel_layout_copy(&c->ch_layout, &like->ch_layout);
    if (ret < 0 || (ret = avcodec_open2(c, like->codec, NULL)) < 0) return seg_error(sg, "cannot open an encoder", ret);
    AVFrame *f = sg->frame;
    f->format = c->sample_fmt;
    f->sample_rate = c->sample_rate;
    f->nb_samples = s->frame_size;
    if ((ret = av_channel_layout_copy(&f->ch_layout, &c->ch_layout)) < 0 || (ret = av_frame_get_buffer(f, 0)) < 0)
        return seg_error(sg, "out of memory", ret);
    return 0;
}

/* Appends a packet; under the lock, as the reader may be copying this segment's packets. */
static int store(es_aacseg *s, segment *sg, const AVPacket *p)
{
    int64_t g = sg->first + (int64_t)sg->n;
    if (p->pts != g * s->frame_size - s->padding + s->cfg.pts0) return seg_error(sg, "packets out of order", 0);
    int window = es_aac_window_key(p->data, p->size), ret = 0;
    pthread_mutex_lock(&s->lock);
    if (es_grow((void **)&sg->pk, &sg->cap_pk, sg->n + 1, sizeof *sg->pk) ||
        es_grow((void **)&sg->data, &sg->cap, sg->len + (size_t)p->size, 1)) {
        ret = seg_error(sg, "out of memory", 0);
    } else {
        if (p->size) memcpy(sg->data + sg->len, p->data, (size_t)p->size);
        sg->pk[sg->n++] = (packet_ref){p->pts, p->duration, sg->len, p->size, p->flags, window};
        sg->len += (size_t)p->size;
        pthread_cond_broadcast(&s->changed);
    }
    pthread_mutex_unlock(&s->lock);
    return ret;
}

static int drain(es_aacseg *s, segment *sg, AVPacket *p)
{
    for (;;) {
        int ret = avcodec_receive_packet(sg->enc, p);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return 0;
        if (ret < 0) return seg_error(sg, "encoder", ret);
        ret = store(s, sg, p);
        av_packet_unref(p);
        if (ret) return -1;
    }
}

/* Feeds sg's encoder up to sample `to` (whole frames; the last may be partial at the total)
 * and flushes it when `to` is the end. */
static int feed(es_aacseg *s, segment *sg, int64_t to)
{
    const es_aacseg_config *c = &s->cfg;
    int F = s->frame_size, ret = 0;
    if (to > c->total) to = c->total;
    AVPacket *p = av_packet_alloc();
    if (!p) return seg_error(sg, "out of memory", 0);
    int64_t pos = sg->first * F + sg->fed;
    while (pos < to) {
        if (atomic_load(&s->stop)) goto end;
        int n = to - pos < F ? (int)(to - pos) : F;
        AVFrame *f = sg->frame;
        if ((ret = av_frame_make_writable(f)) < 0) {
            seg_error(sg, "out of memory", ret);
            goto end;
        }
        int count = s->small_last ? n : F;
        int have = 0; /* frames of music; silence after */
        if (c->pcm && (uint64_t)pos < c->n_pcm) have = c->n_pcm - (uint64_t)pos < (uint64_t)n ? (int)(c->n_pcm - (uint64_t)pos) : n;
        es_audio_frame_put(f, have ? c->pcm + 2 * pos : NULL, have, count);
        f->pts = pos + c->pts0;
        if ((ret = avcodec_send_frame(sg->enc, f)) < 0) {
            seg_error(sg, "encoder", ret);
            goto end;
        }
        if ((ret = drain(s, sg, p)) < 0) goto end;
        pos += n;
        sg->fed += n;
    }
    if (to == c->total && !sg->flushed) {
        sg->flushed = 1;
        if ((ret = avcodec_send_frame(sg->enc, NULL)) < 0) seg_error(sg, "encoder", ret);
        else ret = drain(s, sg, p);
    }
end:
    av_packet_free(&p);
    return sg->failed ? -1 : 0;
}

/* Where a segment's encoder stops: `search` + MARGIN frames into the next segment, or the end. */
static int64_t feed_end(const es_aacseg *s, int k)
{
    if (k + 1 >= s->n_seg || s->search < 0) return k + 1 >= s->n_seg ? s->cfg.total : s->seg[k].end * s->frame_size;
    return (s->seg[k].end + s->search + MARGIN) * s->frame_size;
}

static void encode_segment(es_aacseg *s, int k)
{
    segment *sg = &s->seg[k];
    if (open_like(s, sg) == 0) feed(s, sg, feed_end(s, k));
}

static void seg_free(segment *sg)
{
    avcodec_free_context(&sg->enc);
    av_frame_free(&sg->frame);
    free(sg->data);
    free(sg->pk);
    sg->data = NULL;
    sg->pk = NULL;
    sg->n = sg->len = sg->cap = sg->cap_pk = 0;
}

static void *worker(void *arg)
{
    es_aacseg *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        /* at most one segment per thread ahead of the reader, which bounds the memory held */
        while (!atomic_load(&s->stop) && s->next_job < s->n_seg && s->next_job > s->reading + s->n_threads)
            pthread_cond_wait(&s->changed, &s->lock);
        if (atomic_load(&s->stop) || s->next_job >= s->n_seg) break;
        int k = s->next_job++;
        pthread_mutex_unlock(&s->lock);
        encode_segment(s, k);
        pthread_mutex_lock(&s->lock);
        s->seg[k].done = 1;
        pthread_cond_broadcast(&s->changed);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* ---- the reader ---- */

/* Call with the lock held: lets the workers start segment k. */
static void reading(es_aacseg *s, int k)
{
    if (k > s->reading) {
        s->reading = k;
        pthread_cond_broadcast(&s->changed);
    }
}

static int wait_done(es_aacseg *s, int k)
{
    pthread_mutex_lock(&s->lock);
    reading(s, k);
    while (!s->seg[k].done) pthread_cond_wait(&s->changed, &s->lock);
    pthread_mutex_unlock(&s->lock);
    if (s->seg[k].failed) return es_fail("%s", s->seg[k].error);
    return 0;
}

/* Before the join window the packets are final as soon as they are stored: waits for packet g
 * of the segment being read. 1 when it is there (its pts in *pts when pts is not NULL), 0 when
 * the segment ended without it, -1 when its encoder failed. */
static int wait_packet(es_aacseg *s, int64_t g, int64_t *pts)
{
    segment *a = &s->seg[s->src];
    pthread_mutex_lock(&s->lock);
    reading(s, s->src);
    while (!a->done && g - a->first >= (int64_t)a->n) pthread_cond_wait(&s->changed, &s->lock);
    int r = g - a->first < (int64_t)a->n ? 1 : a->failed ? -1 : 0;
    if (r == 1 && pts) *pts = a->pk[g - a->first].pts;
    pthread_mutex_unlock(&s->lock);
    return r < 0 ? es_fail("%s", a->error) : r;
}

static int window_at(const segment *sg, int64_t g)
{
    if (g < sg->first || g - sg->first >= (int64_t)sg->n) return -1;
    return sg->pk[g - sg->first].window;
}

/* First frame J in [start, start + search) where a and b windowed frames J-1 and J alike. */
static int64_t find_join(const es_aacseg *s, const segment *a, const segment *b)
{
    for (int64_t j = b->start; j < b->start + s->search; j++) {
        int a0 = window_at(a, j - 1), a1 = window_at(a, j);
        if (a0 >= 0 && a1 >= 0 && a0 == window_at(b, j - 1) && a1 == window_at(b, j) && j - 1 > b->first)
            return j;
    }
    return -1;
}

/* Decides how reading goes on past s->src's segment: sets s->limit and s->join_to. */
static int decide(es_aacseg *s)
{
    if (wait_done(s, s->src)) return -1;
    for (;;) {
        segment *a = &s->seg[s->src];
        int next = (int)(a - s->seg) + 1;
        while (next < s->n_seg && s->seg[next].start < a->end) next++; /* already run through */
        if (next >= s->n_seg) {
            s->limit = INT64_MAX;
            return 0;
        }
        if (wait_done(s, next)) return -1;
        segment *b = &s->seg[next];
        int64_t j = s->search >= 0 ? find_join(s, a, b) : -1;
        if (j >= 0) {
            s->limit = j;
            s->join_to = next;
            return 0;
        }
        /* no join: this encoder runs on through segment `next` */
        seg_free(b);
        a->end = b->end;
        if (feed(s, a, feed_end(s, next)) < 0) return es_fail("%s", a->error);
    }
}

int es_aacseg_peek(es_aacseg *s, int64_t *pts)
{
    for (;;) {
        segment *a = &s->seg[s->src];
        int r = s->limit < 0 && s->g < a->end ? wait_packet(s, s->g, pts) : 0;
        if (r) return r < 0 ? -1 : 0;
        if (s->limit < 0 && decide(s)) return -1;
        if (s->g < s->limit) {
            /* the segment is finished: decide() waited for it */
            int64_t i = s->g - a->first;
            if (i >= 0 && i < (int64_t)a->n) {
                if (pts) *pts = a->pk[i].pts;
                return 0;
            }
            if (s->limit == INT64_MAX) return 1;
            return es_fail("audio encoding failed: packet %lld missing", (long long)s->g);
        }
        seg_free(a);
        s->src = s->join_to;
        s->joins++;
        s->limit = -1;
    }
}

int es_aacseg_next(es_aacseg *s, AVPacket *pkt)
{
    int r = es_aacseg_peek(s, NULL);
    if (r) return r;
    segment *a = &s->seg[s->src];
    av_packet_unref(pkt);
    pthread_mutex_lock(&s->lock);
    const packet_ref p = a->pk[s->g - a->first];
    int ret = av_new_packet(pkt, p.size);
    if (ret >= 0 && p.size) memcpy(pkt->data, a->data + p.offset, (size_t)p.size);
    pthread_mutex_unlock(&s->lock);
    if (ret < 0) return es_fail("out of memory");
    pkt->pts = pkt->dts = p.pts;
    pkt->duration = p.duration;
    pkt->flags = p.flags;
    s->g++;
    return 0;
}

/* ---- set-up ---- */

int es_aacseg_start(es_aacseg **out, const es_aacseg_config *cfg)
{
    *out = NULL;
    const AVCodecContext *like = cfg->like;
    if (!like || !like->codec || like->frame_size <= 0 || cfg->total < 0) return es_fail("audio encoding: bad set-up");
    es_aacseg *s = es_calloc(1, sizeof *s);
    if (!s) return -1;
    s->cfg = *cfg;
    s->frame_size = like->frame_size;
    s->padding = like->initial_padding;
    s->small_last = !!(like->codec->capabilities & AV_CODEC_CAP_SMALL_LAST_FRAME);
    s->preroll = cfg->preroll > 0 ? cfg->preroll : DEFAULT_PREROLL;
    if (s->preroll < 2) s->preroll = 2;
    s->search = cfg->search > 0 || cfg->search < 0 ? cfg->search : DEFAULT_SEARCH;
    int seg_frames = cfg->segment_frames > 0 ? cfg->segment_frames : DEFAULT_SEGMENT_FRAMES;
    int64_t frames = (cfg->total + s->frame_size - 1) / s->frame_size;
    int64_t n = (frames + seg_frames / 2) / seg_frames;
    if (n > MAX_SEGMENTS) n = MAX_SEGMENTS;
    if (n > 1 && n % 2) n++; /* even: balanced on two, four and eight cores */
    /* every segment long enough to hold a join */
    while (n > 1 && frames / n < 2 * (s->preroll + (s->search > 0 ? s->search : 0) + MARGIN)) n--;
    if (n < 1) n = 1;
    s->n_seg = (int)n;
    s->seg = es_calloc((size_t)n, sizeof *s->seg);
    if (!s->seg) {
        free(s);
        return -1;
    }
    for (int k = 0; k < s->n_seg; k++) {
        s->seg[k].start = frames * k / n;
        s->seg[k].end = frames * (k + 1) / n;
        s->seg[k].first = k ? s->seg[k].start - s->preroll : 0;
    }
    s->limit = -1;
    int threads = cfg->threads;
    if (threads <= 0) threads = es_cpu_count();
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    if (threads > s->n_seg) threads = s->n_seg;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->changed, NULL);
    atomic_init(&s->stop, 0);
    s->n_threads = threads;
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&s->threads[i], NULL, worker, s) != 0) {
            es_aacseg_free(&s);
            return es_fail("audio encoding: cannot start a thread");
        }
        s->started++;
    }
    *out = s;
    return 0;
}

int es_aacseg_segments(const es_aacseg *s) { return s->n_seg; }

int es_aacseg_joins(const es_aacseg *s) { return s->joins; }

void es_aacseg_free(es_aacseg **ps)
{
    es_aacseg *s = *ps;
    if (!s) return;
    pthread_mutex_lock(&s->lock);
    atomic_store(&s->stop, 1);
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
    for (int i = 0; i < s->started; i++) pthread_join(s->threads[i], NULL);
    pthread_cond_destroy(&s->changed);
    pthread_mutex_destroy(&s->lock);
    for (int k = 0; k < s->n_seg; k++) seg_free(&s->seg[k]);
    free(s->seg);
    free(s);
    *ps = NULL;
}

/* ---- frames ---- */

void es_audio_frame_put(AVFrame *f, const float *x, int n, int count)
{
    if (f->format == AV_SAMPLE_FMT_FLTP) {
        float *l = (float *)f->data[0], *r = (float *)f->data[1];
        for (int j = 0; j < n; j++) {
            l[j] = x[2 * j];
            r[j] = x[2 * j + 1];
        }
        for (int j = n; j < count; j++) l[j] = r[j] = 0;
    } else {
        float *o = (float *)f->data[0];
        if (n) memcpy(o, x, 2 * (size_t)n * sizeof *x);
        memset(o + 2 * n, 0, 2 * (size_t)(count - n) * sizeof *o);
    }
    f->nb_samples = count;
}

/* ---- bitstream ---- */

int es_aac_window_key(const uint8_t *data, int size)
{
    /* raw_data_block (ISO/IEC 14496-3 4.4.2.1): id_syn_ele(3) element_instance_tag(4), then for
     * a channel pair common_window(1) and, when set, ics_info; for a single channel
     * global_gain(8) before ics_info. ics_info: ics_reserved_bit(1) window_sequence(2)
     * window_shape(1). */
    if (!data || size < 3) return -1;
    uint32_t bits = (uint32_t)data[0] << 16 | (uint32_t)data[1] << 8 | data[2];
    int id = (int)(bits >> 21);
    int at; /* bit offset of ics_info from the top of the 24 */
    if (id == 1) {
        if (!((bits >> 16) & 1)) return -1; /* each channel has its own window */
        at = 8;
    } else if (id == 0) {
        at = 15;
    } else {
        return -1;
    }
    int info = (int)(bits >> (24 - at - 4)) & 15; /* reserved, sequence, shape */
    if (info & 8) return -1;
    return info & 7;
}
