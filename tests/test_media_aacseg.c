/* Segmented AAC encoding (media/aacseg.c) against a plain one-encoder encode made here with
 * libavcodec: with joins turned off the packets are the plain encode's byte for byte; with
 * joins, the output is the same on 1, 2 and 3 threads, the packets before the first join are the
 * plain encode's, timestamps run on without a gap, and decoded, the music around every join is
 * as close to the input as the plain encode is there (a mismatched join, made on purpose, is
 * not). The music: chords with note envelopes and clicks, so the encoder switches to short
 * windows now and then; es_aac_window_key must see both window kinds. */
#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/log.h>
#include <math.h>
#include <string.h>

#include "check.h"
#include "core/error.h"
#include "media/aacseg.h"

#define RATE 48000
#define SECONDS 20
#define N ((size_t)RATE * SECONDS)
#define F 1024

typedef struct {
    uint8_t **data;
    int *size;
    int64_t *pts;
    int n, cap;
} stream;

static void stream_add(stream *s, const AVPacket *p)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        s->data = realloc(s->data, (size_t)s->cap * sizeof *s->data);
        s->size = realloc(s->size, (size_t)s->cap * sizeof *s->size);
        s->pts = realloc(s->pts, (size_t)s->cap * sizeof *s->pts);
    }
    s->data[s->n] = malloc((size_t)p->size + 1);
    memcpy(s->data[s->n], p->data, (size_t)p->size);
    s->size[s->n] = p->size;
    s->pts[s->n] = p->pts;
    s->n++;
}

static void stream_free(stream *s)
{
    for (int i = 0; i < s->n; i++) free(s->data[i]);
    free(s->data);
    free(s->size);
    free(s->pts);
    memset(s, 0, sizeof *s);
}

static int same_packet(const stream *a, int i, const stream *b, int j)
{
    return i < a->n && j < b->n && a->size[i] == b->size[j] && !memcmp(a->data[i], b->data[j], (size_t)a->size[i]);
}

static float *make_music(void)
{
    float *x = calloc(2 * N, sizeof *x);
    static const double chord[4][3] = {{261.63, 329.63, 392.0}, {220.0, 261.63, 329.63},
                                       {174.61, 220.0, 261.63}, {196.0, 246.94, 293.66}};
    for (size_t i = 0; i < N; i++) {
        double t = (double)i / RATE;
        int bar = (int)(t / 2.0) % 4;
        double in_beat = fmod(t, 0.5);
        double env = exp(-3.0 * in_beat);
        double l = 0, r = 0;
        for (int k = 0; k < 3; k++) {
            double v = sin(2 * M_PI * chord[bar][k] * t) + 0.3 * sin(4 * M_PI * chord[bar][k] * t);
            l += (k == 2 ? 0.6 : 1.0) * v;
            r += (k == 0 ? 0.6 : 1.0) * v;
        }
        double click = in_beat < 0.002 && (int)(t / 0.5) % 3 == 0 ? 0.8 * (1 - in_beat / 0.002) : 0;
        x[2 * i] = (float)(0.12 * env * l + click);
        x[2 * i + 1] = (float)(0.12 * env * r - click);
    }
    return x;
}

static AVCodecContext *open_aac(void)
{
    const AVCodec *c = avcodec_find_encoder_by_name("aac");
    AVCodecContext *e = avcodec_alloc_context3(c);
    e->sample_fmt = AV_SAMPLE_FMT_FLTP;
    e->sample_rate = RATE;
    av_channel_layout_default(&e->ch_layout, 2);
    e->bit_rate = 160000;
    e->time_base = (AVRational){1, RATE};
    e->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if (avcodec_open2(e, c, NULL) < 0) avcodec_free_context(&e);
    return e;
}

/* The second route: one encoder over everything, fed as the muxer used to feed it. */
static void plain_encode(const float *x, int64_t pts0, stream *out)
{
    AVCodecContext *e = open_aac();
    AVFrame *f = av_frame_alloc();
    AVPacket *p = av_packet_alloc();
    f->format = AV_SAMPLE_FMT_FLTP;
    f->sample_rate = RATE;
    f->nb_samples = F;
    av_channel_layout_default(&f->ch_layout, 2);
    av_frame_get_buffer(f, 0);
    for (size_t pos = 0;; pos += F) {
        int n = pos < N ? (N - pos < F ? (int)(N - pos) : F) : 0;
        int ret = n ? (av_frame_make_writable(f), 0) : 0;
        if (n) {
            float *l = (float *)f->data[0], *r = (float *)f->data[1];
            for (int j = 0; j < n; j++) {
                l[j] = x[2 * (pos + j)];
                r[j] = x[2 * (pos + j) + 1];
            }
            f->nb_samples = n;
            f->pts = (int64_t)pos + pts0;
        }
        ret = avcodec_send_frame(e, n ? f : NULL);
        CHECK(ret >= 0);
        while (avcodec_receive_packet(e, p) == 0) {
            stream_add(out, p);
            av_packet_unref(p);
        }
        if (!n) break;
    }
    av_packet_free(&p);
    av_frame_free(&f);
    avcodec_free_context(&e);
}

static int seg_encode(const AVCodecContext *like, const float *x, int64_t pts0, int threads, int search, stream *out,
                      int *segments, int *joins)
{
    es_aacseg *s = NULL;
    es_aacseg_config cfg = {.like = like, .pcm = x, .n_pcm = N, .total = N, .pts0 = pts0, .threads = threads,
                            .segment_frames = 234, .search = search};
    if (es_aacseg_start(&s, &cfg)) return -1;
    AVPacket *p = av_packet_alloc();
    int r;
    while ((r = es_aacseg_next(s, p)) == 0) stream_add(out, p);
    *segments = es_aacseg_segments(s);
    *joins = es_aacseg_joins(s);
    av_packet_free(&p);
    es_aacseg_free(&s);
    return r < 0 ? -1 : 0;
}

/* Decodes packets [0, n) of the stream (in that order) to interleaved stereo; returns frames. */
static size_t decode(const AVCodecContext *like, const stream *s, const int *order, int n, float *out, size_t cap)
{
    const AVCodec *c = avcodec_find_decoder(AV_CODEC_ID_AAC);
    AVCodecContext *d = avcodec_alloc_context3(c);
    d->extradata = av_mallocz((size_t)like->extradata_size + AV_INPUT_BUFFER_PADDING_SIZE);
    memcpy(d->extradata, like->extradata, (size_t)like->extradata_size);
    d->extradata_size = like->extradata_size;
    d->sample_rate = RATE;
    av_channel_layout_default(&d->ch_layout, 2);
    size_t got = 0;
    if (avcodec_open2(d, c, NULL) == 0) {
        AVPacket *p = av_packet_alloc();
        AVFrame *fr = av_frame_alloc();
        for (int i = 0; i <= n; i++) {
            if (i < n) {
                int k = order ? order[i] : i;
                av_new_packet(p, s->size[k]);
                memcpy(p->data, s->data[k], (size_t)s->size[k]);
            }
            avcodec_send_packet(d, i < n ? p : NULL);
            av_packet_unref(p);
            while (avcodec_receive_frame(d, fr) == 0) {
                for (int j = 0; j < fr->nb_samples && got < cap; j++, got++) {
                    out[2 * got] = ((float *)fr->data[0])[j];
                    out[2 * got + 1] = ((float *)fr->data[1])[j];
                }
                av_frame_unref(fr);
            }
        }
        av_frame_free(&fr);
        av_packet_free(&p);
    }
    avcodec_free_context(&d);
    return got;
}

/* Signal-to-error ratio (dB) of decoded block k (input samples [k*F, (k+1)*F)) against x; the
 * decoder's output starts with the encoder's F samples of delay. */
static double block_snr(const float *x, const float *dec, size_t n_dec, int k)
{
    double s = 0, e = 0;
    for (size_t i = (size_t)k * F; i < (size_t)(k + 1) * F && i < N && i + F < n_dec; i++)
        for (int c = 0; c < 2; c++) {
            double d = dec[2 * (i + F) + c] - x[2 * i + c];
            s += (double)x[2 * i + c] * x[2 * i + c];
            e += d * d;
        }
    return 10 * log10((s + 1e-12) / (e + 1e-12));
}

int main(void)
{
    av_log_set_level(AV_LOG_ERROR);
    float *x = make_music();
    AVCodecContext *like = open_aac();
    CHECK(like != NULL);
    if (!like) return check_report("test_media_aacseg");
    const int64_t pts0 = 4800; /* music starting 0.1 s into the file's clock */

    stream plain = {0};
    plain_encode(x, pts0, &plain);
    CHECK(plain.n > (int)(N / F));

    /* window keys: long and short windows both seen (the clicks); the first packet starts with
     * the encoder's name in a fill element */
    int kinds[4] = {0}, unreadable = 0;
    for (int i = 1; i < plain.n; i++) {
        int key = es_aac_window_key(plain.data[i], plain.size[i]);
        if (key < 0) unreadable++;
        else kinds[key >> 1]++;
    }
    CHECK(unreadable < plain.n / 2); /* channel pairs with a window each: no join there */
    CHECK(kinds[0] > 100);           /* ONLY_LONG */
    CHECK(kinds[2] > 5);             /* EIGHT_SHORT */
    CHECK(kinds[1] > 5 && kinds[3] > 5); /* LONG_START before, LONG_STOP after */
    const uint8_t own_windows[3] = {0x20, 0x9b, 0x4c}; /* channel pair, common_window 0 */
    CHECK(es_aac_window_key(own_windows, 3) == -1);
    const uint8_t shared_short[3] = {0x21, 0x4c, 0x6c}; /* common_window 1, EIGHT_SHORT, sine */
    CHECK(es_aac_window_key(shared_short, 3) == 4);
    const uint8_t single_stop[3] = {0x01, 0x02, 0xE0}; /* single channel, gain 0x81, LONG_STOP, KBD */
    CHECK(es_aac_window_key(single_stop, 3) == 7);
    CHECK(es_aac_window_key(NULL, 0) == -1);
    const uint8_t not_audio[3] = {0xE0, 0, 0}; /* an END element */
    CHECK(es_aac_window_key(not_audio, 3) == -1);

    /* joins off: the output of one encoder, byte for byte */
    stream one = {0};
    int segments = 0, joins = 0;
    CHECK(seg_encode(like, x, pts0, 2, -1, &one, &segments, &joins) == 0);
    CHECK(segments == 4);
    CHECK(joins == 0);
    CHECK(one.n == plain.n);
    int equal = one.n == plain.n;
    for (int i = 0; equal && i < one.n; i++) equal = same_packet(&one, i, &plain, i) && one.pts[i] == plain.pts[i];
    CHECK(equal);

    /* joins on: the same output on any number of threads */
    stream seg[3] = {{0}};
    for (int t = 1; t <= 3; t++) {
        CHECK(seg_encode(like, x, pts0, t, 0, &seg[t - 1], &segments, &joins) == 0);
        CHECK(segments == 4);
        CHECK(joins == 3);
    }
    for (int t = 1; t < 3; t++) {
        int same = seg[t].n == seg[0].n;
        for (int i = 0; same && i < seg[0].n; i++) same = same_packet(&seg[t], i, &seg[0], i);
        CHECK(same);
    }
    const stream *s = &seg[1];
    CHECK(s->n == plain.n);
    int contiguous = 1;
    for (int i = 0; i < s->n; i++) contiguous &= s->pts[i] == (int64_t)i * F - like->initial_padding + pts0;
    CHECK(contiguous);
    int first_join = 0;
    while (first_join < s->n && same_packet(s, first_join, &plain, first_join)) first_join++;
    CHECK(first_join >= 234 && first_join < 234 + 40); /* segment 0 is the plain encoder's start */

    /* decoded: around each join as good as the plain encode there */
    size_t cap = N + 4 * F;
    float *dec_plain = malloc(2 * cap * sizeof *dec_plain), *dec_seg = malloc(2 * cap * sizeof *dec_seg);
    size_t n_plain = decode(like, &plain, NULL, plain.n, dec_plain, cap);
    size_t n_seg = decode(like, s, NULL, s->n, dec_seg, cap);
    CHECK(n_plain >= N + F && n_seg == n_plain);
    double worst_margin = 1e9;
    for (int b = 1; b < 4; b++) {
        int at = (int)((int64_t)b * ((N + F - 1) / F) / 4);
        /* the plain encode's quality over the second around the join */
        double floor_plain = 1e9;
        for (int k = at - 24; k < at + 24; k++) floor_plain = fmin(floor_plain, block_snr(x, dec_plain, n_plain, k));
        for (int k = at - 2; k < at + 24; k++)
            worst_margin = fmin(worst_margin, block_snr(x, dec_seg, n_seg, k) - floor_plain);
    }
    fprintf(stderr, "aacseg: worst block SNR around the joins minus the plain encode's lowest there: %.1f dB\n",
            worst_margin);
    CHECK(worst_margin > -3.0);

    /* the measure catches a bad join: a packet dropped at the first join */
    int *order = malloc((size_t)s->n * sizeof *order);
    for (int i = 0; i < s->n - 1; i++) order[i] = i < first_join ? i : i + 1;
    size_t n_bad = decode(like, s, order, s->n - 1, dec_seg, cap);
    double bad = 1e9;
    for (int k = first_join - 2; k < first_join + 4; k++) bad = fmin(bad, block_snr(x, dec_seg, n_bad, k));
    CHECK(bad < 3.0);

    free(order);
    free(dec_seg);
    free(dec_plain);
    for (int t = 0; t < 3; t++) stream_free(&seg[t]);
    stream_free(&one);
    stream_free(&plain);
    avcodec_free_context(&like);
    free(x);
    return check_report("test_media_aacseg");
}
