/* Group-of-pictures parallel decoding: see gopdec.h. The caller's thread reads packets and runs
 * the analysis; each worker thread owns one decoder and two queues: packets in (an END mark
 * closes a group: the worker drains its decoder, resets it and passes END on) and frames out.
 * The caller takes frames from the worker holding the oldest open group only, so frames leave
 * in stream order; the frame queues are bounded, which bounds the memory. */
#include <pthread.h>
#include <string.h>

#include <libavutil/imgutils.h>

#include "core/error.h"
#include "core/cpus.h"
#include "media/decode.h"
#include "media/gopdec.h"

#define MAX_WORKERS 4
#define FRAME_BUDGET (48u << 20) /* bytes of decoded frames queued per worker: at 720p 34 frames,
                                    most of a group ahead while the one before is analysed */
#define FRAME_QUEUE_MAX 48       /* and at most this many frames: small pictures need no more to
                                    keep the workers busy, and 48 MB of them (555 at 320x180) made
                                    the peak memory of long videos creep up to that bound */
#define MAX_QUEUED_PACKETS 512    /* read-ahead, over all workers */

static char end_mark;
#define END ((void *)&end_mark)

typedef struct {
    void **item;
    size_t head, len, cap;
} queue;

static int q_push(queue *q, void *x)
{
    if (q->len == q->cap) {
        size_t cap = q->cap ? 2 * q->cap : 64;
        void **n = malloc(cap * sizeof *n);
        if (!n) return -1;
        for (size_t i = 0; i < q->len; i++) n[i] = q->item[(q->head + i) % q->cap];
        free(q->item);
        q->item = n;
        q->head = 0;
        q->cap = cap;
    }
    q->item[(q->head + q->len++) % q->cap] = x;
    return 0;
}

static void *q_pop(queue *q)
{
    void *x = q->item[q->head];
    q->head = (q->head + 1) % q->cap;
    q->len--;
    return x;
}

typedef struct {
    es_gopdec *g;
    AVCodecContext *dec;
    pthread_t thread;
    int started;
    queue in, out;
    size_t frames_out; /* frames (not marks) in out */
    AVFrame *spare;
} worker;

struct es_gopdec {
    enum AVCodecID codec;
    int nal_length;             /* bytes of each NAL unit's length prefix; 0: Annex B */
    int n;
    worker w[MAX_WORKERS];
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int stop, failed;
    int dependent;              /* a group after the first decoded with errors (gopdec.h) */
    size_t frame_cap;           /* per worker */
    size_t queued_packets;
    int dispatch;               /* worker getting packets */
    int output;                 /* worker whose frames are taken */
    int group_packets;          /* packets in the open group */
    int groups_closed, groups_taken;
    es_gopdec_frame_fn fn;
    void *user;
};

/* ---- IDR detection ---- */

static int nal_is_idr(enum AVCodecID codec, uint8_t header)
{
    if (codec == AV_CODEC_ID_H264) return (header & 0x1f) == 5;
    int type = (header >> 1) & 0x3f;
    return type == 19 || type == 20; /* IDR_W_RADL, IDR_N_LP */
}

int es_is_idr(enum AVCodecID codec, const uint8_t *data, int size, int nal_length)
{
    if (!data || size <= 0 || (codec != AV_CODEC_ID_H264 && codec != AV_CODEC_ID_HEVC)) return 0;
    if (nal_length > 0) {
        for (int at = 0; at + nal_length < size;) {
            uint32_t len = 0;
            for (int i = 0; i < nal_length; i++) len = len << 8 | data[at + i];
            at += nal_length;
            if (len == 0 || len > (uint32_t)(size - at)) return 0;
            if (nal_is_idr(codec, data[at])) return 1;
            at += (int)len;
        }
        return 0;
    }
    for (int i = 0; i + 3 < size; i++)
        if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1) {
            if (nal_is_idr(codec, data[i + 3])) return 1;
            i += 2;
        }
    return 0;
}

/* ---- workers ---- */

/* Queues a decoded frame (or END) for the caller, waiting while the queue is full. */
static int put_out(worker *w, void *x)
{
    es_gopdec *g = w->g;
    pthread_mutex_lock(&g->lock);
    while (x != END && w->frames_out >= g->frame_cap && !g->stop) pthread_cond_wait(&g->changed, &g->lock);
    int ret = g->stop ? -1 : q_push(&w->out, x);
    if (ret == 0 && x != END) w->frames_out++;
    pthread_cond_broadcast(&g->changed);
    pthread_mutex_unlock(&g->lock);
    return ret;
}

/* Receives what the decoder has; decoding errors skip the packet, as a single decoder does.
 * w->spare is the frame the next one is received into (kept when nothing comes). */
static int receive(worker *w)
{
    for (;;) {
        if (!w->spare && !(w->spare = av_frame_alloc())) return -1;
        if (avcodec_receive_frame(w->dec, w->spare) < 0) return 0;
        if (put_out(w, w->spare) < 0) return -1; /* freed with the worker */
        w->spare = NULL;
    }
}

static void *run_worker(void *arg)
{
    worker *w = arg;
    es_gopdec *g = w->g;
    for (;;) {
        pthread_mutex_lock(&g->lock);
        while (!w->in.len && !g->stop) pthread_cond_wait(&g->changed, &g->lock);
        if (g->stop) {
            pthread_mutex_unlock(&g->lock);
            break;
        }
        void *x = q_pop(&w->in);
        if (x != END) g->queued_packets--;
        pthread_cond_broadcast(&g->changed);
        pthread_mutex_unlock(&g->lock);
        int ret;
        if (x == END) {
            avcodec_send_packet(w->dec, NULL);
            ret = receive(w);
            avcodec_flush_buffers(w->dec);
            if (ret == 0) ret = put_out(w, END);
        } else {
            AVPacket *p = x;
            avcodec_send_packet(w->dec, p);
            av_packet_free(&p);
            ret = receive(w);
        }
        if (ret < 0) break;
    }
    /* out of memory, unless told to stop: the caller must not wait for this worker */
    pthread_mutex_lock(&g->lock);
    if (!g->stop) g->failed = 1;
    pthread_cond_broadcast(&g->changed);
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

/* ---- the caller's side ---- */

/* Delivers the frames ready, oldest group first. wait 1: also waits for frames while more than
 * MAX_QUEUED_PACKETS packets are queued; 2: until every closed group is delivered. It waits only
 * where that cannot deadlock: the group is closed, or its worker still has packets. */
static int take(es_gopdec *g, int wait)
{
    for (;;) {
        pthread_mutex_lock(&g->lock);
        worker *w = &g->w[g->output];
        if (g->failed) {
            pthread_mutex_unlock(&g->lock);
            return es_fail("video decoding failed: out of memory");
        }
        if (!w->out.len) {
            int can_wait = (wait == 2 || (wait == 1 && g->queued_packets > MAX_QUEUED_PACKETS)) &&
                           (g->groups_taken < g->groups_closed || w->in.len);
            if (!can_wait) {
                pthread_mutex_unlock(&g->lock);
                return 0;
            }
            pthread_cond_wait(&g->changed, &g->lock);
            pthread_mutex_unlock(&g->lock);
            continue;
        }
        void *x = q_pop(&w->out);
        if (x != END) w->frames_out--;
        pthread_cond_broadcast(&g->changed);
        pthread_mutex_unlock(&g->lock);
        if (x == END) {
            g->groups_taken++;
            g->output = (g->output + 1) % g->n;
            if (wait == 2 && g->groups_taken == g->groups_closed) return 0;
            continue;
        }
        AVFrame *f = x;
        if (g->groups_taken > 0 && f->decode_error_flags) {
            /* alone, this group misses pictures that one decoder would have had */
            av_frame_free(&f);
            g->dependent = 1;
            return es_fail("video decoding: a group of pictures depends on the one before");
        }
        int ret = g->fn(g->user, f);
        av_frame_free(&f);
        if (ret < 0) return -1;
    }
}

static int give(es_gopdec *g, int k, void *x)
{
    pthread_mutex_lock(&g->lock);
    int ret = q_push(&g->w[k].in, x);
    if (ret == 0 && x != END) g->queued_packets++;
    if (ret == 0 && x == END) g->groups_closed++;
    pthread_cond_broadcast(&g->changed);
    pthread_mutex_unlock(&g->lock);
    return ret < 0 ? es_fail("out of memory") : 0;
}

int es_gopdec_send(es_gopdec *g, const AVPacket *pkt)
{
    if (g->group_packets && (pkt->flags & AV_PKT_FLAG_KEY) && es_is_idr(g->codec, pkt->data, pkt->size, g->nal_length)) {
        if (give(g, g->dispatch, END)) return -1;
        g->dispatch = (g->dispatch + 1) % g->n;
        g->group_packets = 0;
    }
    AVPacket *copy = av_packet_clone(pkt);
    if (!copy || give(g, g->dispatch, copy)) {
        av_packet_free(&copy);
        return es_fail("out of memory");
    }
    g->group_packets++;
    return take(g, 1);
}

int es_gopdec_finish(es_gopdec *g)
{
    if (g->group_packets) {
        if (give(g, g->dispatch, END)) return -1;
        g->group_packets = 0;
    }
    return g->groups_taken < g->groups_closed ? take(g, 2) : 0;
}

int es_gopdec_dependent(const es_gopdec *g) { return g && g->dependent; }

int es_gopdec_groups(const es_gopdec *g) { return g->groups_closed + (g->group_packets > 0); }

void es_gopdec_free(es_gopdec **pg)
{
    es_gopdec *g = *pg;
    if (!g) return;
    pthread_mutex_lock(&g->lock);
    g->stop = 1;
    pthread_cond_broadcast(&g->changed);
    pthread_mutex_unlock(&g->lock);
    for (int i = 0; i < g->n; i++) {
        worker *w = &g->w[i];
        if (w->started) pthread_join(w->thread, NULL);
        while (w->in.len) {
            void *x = q_pop(&w->in);
            if (x != END) av_packet_free((AVPacket **)&x);
        }
        while (w->out.len) {
            void *x = q_pop(&w->out);
            if (x != END) av_frame_free((AVFrame **)&x);
        }
        free(w->in.item);
        free(w->out.item);
        av_frame_free(&w->spare);
        avcodec_free_context(&w->dec);
    }
    pthread_cond_destroy(&g->changed);
    pthread_mutex_destroy(&g->lock);
    free(g);
    *pg = NULL;
}

static int container_has_timestamps(const AVFormatContext *fmt)
{
    const char *name = fmt->iformat->name;
    return !strcmp(name, "mov,mp4,m4a,3gp,3g2,mj2") || !strcmp(name, "matroska,webm");
}

int es_gopdec_new(es_gopdec **out, const AVFormatContext *fmt, const AVStream *st, int workers,
                  es_gopdec_frame_fn fn, void *user)
{
    *out = NULL;
    const AVCodecParameters *par = st->codecpar;
    if ((par->codec_id != AV_CODEC_ID_H264 && par->codec_id != AV_CODEC_ID_HEVC) || !container_has_timestamps(fmt))
        return 0;
    if (workers <= 0) workers = es_cpu_count();
    if (workers < 2) return 0;
    if (workers > MAX_WORKERS) workers = MAX_WORKERS;
    /* length-prefixed NAL units (avcC / hvcC extradata) or Annex B start codes */
    int nal_length = 0;
    const uint8_t *x = par->extradata;
    if (par->codec_id == AV_CODEC_ID_H264 && par->extradata_size >= 7 && x[0] == 1) nal_length = (x[4] & 3) + 1;
    if (par->codec_id == AV_CODEC_ID_HEVC && par->extradata_size >= 23 && x[0] == 1) nal_length = (x[21] & 3) + 1;

    es_gopdec *g = es_calloc(1, sizeof *g);
    if (!g) return -1;
    g->codec = par->codec_id;
    g->nal_length = nal_length;
    g->n = workers;
    g->fn = fn;
    g->user = user;
    int frame_bytes = av_image_get_buffer_size(par->format, par->width, par->height, 1);
    if (frame_bytes <= 0) frame_bytes = 1920 * 1080 * 3;
    g->frame_cap = FRAME_BUDGET / (size_t)frame_bytes;
    if (g->frame_cap > FRAME_QUEUE_MAX) g->frame_cap = FRAME_QUEUE_MAX;
    if (g->frame_cap < 8) g->frame_cap = 8;
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->changed, NULL);
    for (int i = 0; i < workers; i++) {
        worker *w = &g->w[i];
        w->g = g;
        const AVCodec *codec = avcodec_find_decoder(par->codec_id);
        int ret = codec ? 0 : AVERROR_DECODER_NOT_FOUND;
        if (ret == 0 && !(w->dec = avcodec_alloc_context3(codec))) ret = AVERROR(ENOMEM);
        if (ret == 0) ret = avcodec_parameters_to_context(w->dec, par);
        if (ret == 0) {
            w->dec->pkt_timebase = st->time_base;
            w->dec->max_pixels = ES_DECODE_MAX_PIXELS;
            /* the groups are the parallelism; one thread each, since a frame-threaded decoder
             * does not always flag the errors of a group that refers back (es_gopdec_dependent
             * missed 2 of 12 runs on cockatoo.mp4; 16 of 16 caught with one thread), and a
             * second thread each gave no measurable speed on two cores */
            w->dec->thread_count = 1;
            ret = avcodec_open2(w->dec, codec, NULL);
        }
        if (ret < 0) {
            es_gopdec_free(&g);
            return es_fail("cannot open the %s decoder (%s)", avcodec_get_name(par->codec_id), av_err2str(ret));
        }
        if (pthread_create(&w->thread, NULL, run_worker, w) != 0) {
            es_gopdec_free(&g);
            return es_fail("cannot start a decoding thread");
        }
        w->started = 1;
    }
    *out = g;
    return 0;
}
