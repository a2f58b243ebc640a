/* One-pass analysis decode: demux with libavformat, decode with libavcodec (frame threads, auto
 * thread count), following FFmpeg's doc/examples/demux_decode.c call sequence: send a packet,
 * receive frames until EAGAIN/EOF, drain each decoder with a NULL packet at the end.
 * Per video frame: the select scene score on the full-size planes (scene/score.h), colour and
 * motion statistics on a 64-pixel-wide RGB copy (libswscale, area averaging over every few rows),
 * and an optional RGB sample at a fixed rate. Per 100 ms of audio: energy, R128 momentary loudness and an
 * energy-rise onset strength of a mono 24 kHz float downmix (libswresample, libebur128).
 * Damaged files: reading stops at the first demuxer error other than end of file, decoder errors
 * on single packets are skipped (as the ffmpeg tool does), and whatever decoded is analysed. */
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include <ebur128.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>

#include "core/cpus.h"
#include "core/error.h"
#include "media/decode.h"
#include "media/gopdec.h"
#include "scene/score.h"

#define SUB_SAMPLES (ES_AUDIO_RATE / 100)              /* 10 ms onset sub-frame */
#define BLOCK_SAMPLES (ES_AUDIO_RATE / 10)             /* one ES_AUDIO_BLOCK */
#define ONSET_FLOOR_DB (-80.0)
/* Rises below this are the ripple of a steady sound measured over 10 ms (a low tone does not
 * fill whole periods), not onsets. */
#define ONSET_MIN_RISE_DB 1.0
#define ES_STATS_ROWS_PER_BLOCK 4 /* rows read per row of the stats image, at least */
#define ES_STATS_MAX_ROW_STEP 8

/* A frame-to-RGB24 scaler with its output buffer; remembers what it was set up for so the
 * colourspace tables are only rebuilt when the input changes. */
typedef struct {
    struct SwsContext *sws;
    uint8_t *buf;
    int w, h, stride;               /* output */
    int src_w, src_h, src_fmt, key; /* input it was set up for; key = colourspace and range */
} rgb_scaler;

typedef struct {
    const char *path;
    const es_decode_options *opt;
    es_media_analysis *out;

    AVFormatContext *fmt;
    AVCodecContext *vdec, *adec;
    es_gopdec *gop;           /* parallel video decoders, or NULL: vdec decodes */
    AVStream *vst, *ast;
    AVFrame *frame;
    double origin;            /* seconds subtracted from timestamps so the video starts at ~0 */
    double last_time;         /* time of the previous video frame */
    double first_time;        /* time of the first video frame */
    size_t n_video;           /* video frames decoded so far */
    size_t frames_in, frames_skip; /* frames handed to video_frame; the first frames_skip of
                                      them are passed over (decoded again after a restart) */
    double last_dur;          /* its duration in seconds, 0 when unknown */

    /* scene score: the previous frame in select's format, referenced or converted */
    es_scene_scorer scorer;
    int scorer_fmt, scorer_w, scorer_h; /* source format/size the scorer was set up for */
    enum AVPixelFormat scene_fmt;
    AVFrame *prev;            /* reference to the previous decoded frame (native case) */
    AVFrame *conv[2];         /* converted current / previous frame (conversion case) */
    struct SwsContext *sws_conv;

    /* colour and motion stats */
    rgb_scaler small;
    float *luma, *luma_prev; int have_luma_prev;

    /* RGB samples for the callback */
    rgb_scaler sample;
    double next_sample;

    /* audio */
    SwrContext *swr;
    ebur128_state *ebu;
    float *resampled; size_t cap_resampled;
    float block[BLOCK_SAMPLES]; int block_n;
    double prev_sub_db; int have_sub;
    float prev_sample; /* last sample of the previous block, for the first difference */
    double audio_t0; int audio_started; size_t audio_samples;
    int a_fmt, a_rate, a_channels; /* input the resampler was set up for */
    int audio_off;                 /* 1 when the audio could not be decoded or resampled */

    int64_t file_size;
    double progress_next;
} dec;

static double clampd(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

/* ---- video ------------------------------------------------------------------------------- */

/* Applies the frame's YUV matrix and range to a swscale context, so colour stats see the
 * picture's real colours (BT.709 HD and full-range video included). */
static void set_colorspace(struct SwsContext *sws, const AVFrame *f)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f->format);
    if (!d || (d->flags & AV_PIX_FMT_FLAG_RGB)) return;
    int cs = f->colorspace == AVCOL_SPC_UNSPECIFIED ? SWS_CS_DEFAULT : (int)f->colorspace;
    int full = f->color_range == AVCOL_RANGE_JPEG;
    const int *inv, *tab;
    int src_range, dst_range, bri, con, sat;
    if (sws_getColorspaceDetails(sws, (int **)&inv, &src_range, (int **)&tab, &dst_range, &bri, &con, &sat) < 0)
        return;
    sws_setColorspaceDetails(sws, sws_getCoefficients(cs), full || src_range, tab, dst_range, bri, con, sat);
}

/* Sets up the scorer (and the conversion select would get) for this frame's format and size. */
static int scene_setup(dec *d, const AVFrame *f)
{
    d->scene_fmt = es_scene_pix_fmt(f->format);
    if (d->scene_fmt == AV_PIX_FMT_NONE)
        return es_fail("%s: unsupported pixel format %s", d->path,
                       av_get_pix_fmt_name(f->format) ? av_get_pix_fmt_name(f->format) : "(none)");
    if (es_scene_scorer_init(&d->scorer, d->scene_fmt, f->width, f->height) < 0)
        return es_fail("%s: invalid frame size %dx%d", d->path, f->width, f->height);
    av_frame_unref(d->prev);
    for (int i = 0; i < 2; i++) av_frame_unref(d->conv[i]);
    if (d->scene_fmt != f->format) {
        /* FFmpeg's auto-inserted scaler: same size, default (bicubic) flags. */
        d->sws_conv = sws_getCachedContext(d->sws_conv, f->width, f->height, f->format, f->width,
                                           f->height, d->scene_fmt, SWS_BICUBIC, NULL, NULL, NULL);
        if (!d->sws_conv) return es_fail("%s: cannot convert %s frames", d->path, av_get_pix_fmt_name(f->format));
        for (int i = 0; i < 2; i++) {
            d->conv[i]->format = d->scene_fmt;
            d->conv[i]->width = f->width;
            d->conv[i]->height = f->height;
            int ret = av_frame_get_buffer(d->conv[i], 0);
            if (ret < 0) return es_fail("%s: %s", d->path, av_err2str(ret));
        }
    }
    d->scorer_fmt = f->format;
    d->scorer_w = f->width;
    d->scorer_h = f->height;
    return 0;
}

static int scene_score(dec *d, AVFrame *f, double *score)
{
    if (f->format != d->scorer_fmt || f->width != d->scorer_w || f->height != d->scorer_h)
        if (scene_setup(d, f) < 0) return -1;
    if (d->scene_fmt == f->format) {
        const uint8_t *const *prev = d->scorer.have_prev ? (const uint8_t *const *)d->prev->data : NULL;
        *score = es_scene_score_frame(&d->scorer, prev, d->prev->linesize,
                                      (const uint8_t *const *)f->data, f->linesize);
        av_frame_unref(d->prev);
        int ret = av_frame_ref(d->prev, f);
        if (ret < 0) return es_fail("%s: %s", d->path, av_err2str(ret));
        return 0;
    }
    AVFrame *cur = d->conv[0], *prev = d->conv[1];
    sws_scale(d->sws_conv, (const uint8_t *const *)f->data, f->linesize, 0, f->height, cur->data, cur->linesize);
    *score = es_scene_score_frame(&d->scorer, d->scorer.have_prev ? (const uint8_t *const *)prev->data : NULL,
                                  prev->linesize, (const uint8_t *const *)cur->data, cur->linesize);
    d->conv[0] = prev;
    d->conv[1] = cur;
    return 0;
}

/* Makes an RGB24 copy of f of size w x h in sc->buf (set up on first use or on any change),
 * reading every row_step-th row of f only: every plane's rows are then row_step rows apart,
 * whatever its subsampling, so the rows read form a valid picture of height / row_step rows. */
static int scale_rgb(dec *d, rgb_scaler *sc, const AVFrame *f, int w, int h, int row_step)
{
    int key = (int)f->colorspace * 4 + (int)f->color_range;
    int src_h = f->height / row_step;
    if (!sc->sws || sc->w != w || sc->h != h || sc->src_w != f->width || sc->src_h != src_h ||
        sc->src_fmt != f->format || sc->key != key) {
        sws_freeContext(sc->sws);
        sc->sws = sws_getContext(f->width, src_h, f->format, w, h, AV_PIX_FMT_RGB24, SWS_AREA, NULL, NULL, NULL);
        if (!sc->sws) return es_fail("%s: cannot scale %s frames", d->path, av_get_pix_fmt_name(f->format));
        set_colorspace(sc->sws, f);
        if (sc->w != w || sc->h != h || !sc->buf) {
            av_freep(&sc->buf);
            sc->stride = FFALIGN(w * 3, 64);
            /* one spare row: swscale may write a little past the last row's pixels */
            if (!(sc->buf = av_malloc((size_t)sc->stride * (size_t)(h + 1)))) return es_fail("out of memory");
        }
        sc->w = w;
        sc->h = h;
        sc->src_w = f->width;
        sc->src_h = src_h;
        sc->src_fmt = f->format;
        sc->key = key;
    }
    uint8_t *dst[4] = {sc->buf, NULL, NULL, NULL};
    int dst_ls[4] = {sc->stride, 0, 0, 0};
    int src_ls[AV_NUM_DATA_POINTERS];
    for (int i = 0; i < AV_NUM_DATA_POINTERS; i++) src_ls[i] = f->linesize[i] * row_step;
    sws_scale(sc->sws, (const uint8_t *const *)f->data, src_ls, 0, src_h, dst, dst_ls);
    return 0;
}

static void scaler_free(rgb_scaler *sc)
{
    av_freep(&sc->buf);
    sws_freeContext(sc->sws);
    sc->sws = NULL;
}

/* Colour and motion stats of the small RGB image. */
static void small_stats(dec *d, es_frame_stats *st)
{
    int w = d->small.w, h = d->small.h, n = w * h;
    double sr = 0, sb = 0, sy = 0, ss = 0, srg = 0, syb = 0, srg2 = 0, syb2 = 0, mot = 0;
    for (int y = 0; y < h; y++) {
        const uint8_t *p = d->small.buf + (size_t)y * d->small.stride;
        float *lum = d->luma + (size_t)y * w;
        for (int x = 0; x < w; x++, p += 3) {
            double r = p[0] / 255.0, g = p[1] / 255.0, b = p[2] / 255.0;
            double mx = fmax(r, fmax(g, b)), mn = fmin(r, fmin(g, b));
            double luma = 0.299 * r + 0.587 * g + 0.114 * b;
            double rg = r - g, yb = 0.5 * (r + g) - b;
            sr += r; sb += b; sy += luma;
            ss += mx > 0 ? (mx - mn) / mx : 0;
            srg += rg; syb += yb; srg2 += rg * rg; syb2 += yb * yb;
            /* kept as float: identical frames must give exactly 0 */
            lum[x] = (float)luma;
            if (d->have_luma_prev) mot += fabsf(lum[x] - d->luma_prev[(size_t)y * w + x]);
        }
    }
    double mrg = srg / n, myb = syb / n;
    double vrg = fmax(0, srg2 / n - mrg * mrg), vyb = fmax(0, syb2 / n - myb * myb);
    st->brightness = (float)(sy / n);
    st->saturation = (float)(ss / n);
    st->colourfulness = (float)(sqrt(vrg + vyb) + 0.3 * sqrt(mrg * mrg + myb * myb));
    st->warmth = (float)((sr - sb) / n);
    st->motion = d->have_luma_prev ? (float)(mot / n) : 0.0f;
    float *t = d->luma; d->luma = d->luma_prev; d->luma_prev = t;
    d->have_luma_prev = 1;
}

static int video_frame(dec *d, AVFrame *f)
{
    if (d->frames_in++ < d->frames_skip) return 0;
    es_media_analysis *a = d->out;
    double tb = av_q2d(d->vst->time_base);
    int64_t ts = f->best_effort_timestamp;
    double step = 1.0 / (a->info.fps > 0 ? a->info.fps : 25.0);
    double t = ts != AV_NOPTS_VALUE ? ts * tb - d->origin : NAN;
    if (!isfinite(t)) t = d->n_video ? d->last_time + step : 0; /* no timestamp (or time base) */
    /* Times never go back (a timestamp reset in a joined transport stream, say): later stages
     * assume ascending times, so such a frame follows the previous one by one period. */
    if (d->n_video && t < d->last_time) t = d->last_time + step;
    /* Nor do they leap ahead by more than ES_TS_JUMP_S (and 50 frames): such a timestamp is
     * damaged (or a joined capture's clock jumped), and trusting it would make the film hours
     * long. The muxer (media/mux.c) closes such gaps the same way. */
    if (d->n_video && t > d->last_time + fmax(ES_TS_JUMP_S, 50 * step)) t = d->last_time + step;
    /* A first frame before the stream's stated start (a damaged header) becomes time 0, and
     * the audio analysed so far moves with it, so times stay on one clock starting at 0. */
    if (!d->n_video && t < 0) {
        d->origin += t;
        d->audio_t0 -= t;
        for (size_t i = 0; i < a->n_audio; i++) a->audio[i].time -= t;
        t = 0;
    }
    d->last_time = t;
    if (!d->n_video) d->first_time = t;
#if LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(57, 30, 100)
    int64_t dur = f->duration;
#else
    int64_t dur = f->pkt_duration;
#endif
    d->last_dur = dur > 0 ? dur * tb : 0;

    const es_decode_options *o = d->opt;
    int reduce = o && o->reduce_frames;
    es_frame_stats one;
    if (!reduce && es_grow((void **)&a->frames, &a->cap_frames, a->n_frames + 1, sizeof *a->frames) < 0) return -1;
    es_frame_stats *st = reduce ? &one : &a->frames[a->n_frames];
    memset(st, 0, sizeof *st);
    st->time = t;

    double score;
    if (scene_score(d, f, &score) < 0) return -1;
    st->scene = (float)score;

    int sw = f->width < ES_STATS_WIDTH ? f->width : ES_STATS_WIDTH;
    int sh = (int)lrint((double)f->height * sw / f->width);
    if (sh < 1) sh = 1;
    if (sw != d->small.w || sh != d->small.h) {
        av_freep(&d->luma);
        av_freep(&d->luma_prev);
        d->luma = av_malloc_array((size_t)sw * sh, sizeof *d->luma);
        d->luma_prev = av_malloc_array((size_t)sw * sh, sizeof *d->luma_prev);
        if (!d->luma || !d->luma_prev) return es_fail("out of memory");
        d->have_luma_prev = 0;
    }
    /* Block means need only a few rows per block: reading every row_step-th row (at least
     * ES_STATS_ROWS_PER_BLOCK per output row kept) makes the stats' scaling 4-8x cheaper on HD. */
    int row_step = f->height / (sh * ES_STATS_ROWS_PER_BLOCK);
    if (row_step < 1) row_step = 1;
    if (row_step > ES_STATS_MAX_ROW_STEP) row_step = ES_STATS_MAX_ROW_STEP;
    if (scale_rgb(d, &d->small, f, sw, sh, row_step) < 0) return -1;
    small_stats(d, st);
    if (reduce && es_frame_spans_add(&a->spans, st)) return -1;

    if (o && o->on_sample && o->sample_fps > 0 && t >= d->next_sample) {
        int w = f->width;
        if (o->sample_max_width > 0 && w > o->sample_max_width) w = o->sample_max_width;
        int h = (int)lrint((double)f->height * w / f->width);
        if (h < 1) h = 1;
        if (scale_rgb(d, &d->sample, f, w, h, 1) < 0) return -1;
        o->on_sample(o->user, t, d->sample.buf, w, h, d->sample.stride);
        /* next slot on the fixed grid, never a burst to catch up after a gap */
        d->next_sample = (floor(t * o->sample_fps + 1e-6) + 1) / o->sample_fps;
    }
    if (!reduce) a->n_frames++;
    d->n_video++;
    return 0;
}

static int video_frame_cb(void *user, AVFrame *f) { return video_frame(user, f); }

/* ---- audio ------------------------------------------------------------------------------- */

static float to_db(double mean_square, double floor_db)
{
    double db = mean_square > 0 ? 10 * log10(mean_square) : floor_db;
    return (float)(db < floor_db ? floor_db : db);
}

static int audio_block(dec *d)
{
    es_media_analysis *a = d->out;
    int n = d->block_n;
    if (es_grow((void **)&a->audio, &a->cap_audio, a->n_audio + 1, sizeof *a->audio) < 0) return -1;
    es_audio_block *b = &a->audio[a->n_audio];
    double ss = 0, onset = 0;
    for (int s0 = 0; s0 + SUB_SAMPLES <= n; s0 += SUB_SAMPLES) {
        double sub = 0;
        for (int i = s0; i < s0 + SUB_SAMPLES; i++) {
            double diff = (double)d->block[i] - (i ? d->block[i - 1] : d->prev_sample);
            sub += diff * diff;
        }
        double db = to_db(sub / SUB_SAMPLES, ONSET_FLOOR_DB);
        if (d->have_sub && db > d->prev_sub_db + ONSET_MIN_RISE_DB) onset += db - d->prev_sub_db;
        d->prev_sub_db = db;
        d->have_sub = 1;
    }
    for (int i = 0; i < n; i++) ss += (double)d->block[i] * d->block[i];
    if (n) d->prev_sample = d->block[n - 1];
    b->time = d->audio_t0 + (double)d->audio_samples / ES_AUDIO_RATE;
    b->energy_db = to_db(ss / n, ES_AUDIO_FLOOR_DB);
    b->onset = (float)onset;
    double lufs = ES_AUDIO_FLOOR_DB;
    if (ebur128_add_frames_float(d->ebu, d->block, (size_t)n) == EBUR128_SUCCESS &&
        ebur128_loudness_momentary(d->ebu, &lufs) == EBUR128_SUCCESS && isfinite(lufs))
        lufs = clampd(lufs, ES_AUDIO_FLOOR_DB, 20);
    else
        lufs = ES_AUDIO_FLOOR_DB;
    b->loudness = (float)lufs;
    d->audio_samples += (size_t)n;
    d->block_n = 0;
    a->n_audio++;
    return 0;
}

static int audio_push(dec *d, const float *x, int n)
{
    while (n > 0) {
        int take = BLOCK_SAMPLES - d->block_n;
        if (take > n) take = n;
        memcpy(d->block + d->block_n, x, (size_t)take * sizeof *x);
        d->block_n += take;
        x += take;
        n -= take;
        if (d->block_n == BLOCK_SAMPLES && audio_block(d) < 0) return -1;
    }
    return 0;
}

/* Sets up the resampler for f's format, rate and channels. Returns 0 or -1. */
static int audio_setup(dec *d, const AVFrame *f)
{
    AVChannelLayout in = {0}, mono = AV_CHANNEL_LAYOUT_MONO;
    int ret;
    swr_free(&d->swr);
    if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) av_channel_layout_default(&in, f->ch_layout.nb_channels);
    else if (av_channel_layout_copy(&in, &f->ch_layout) < 0) return -1;
    ret = swr_alloc_set_opts2(&d->swr, &mono, AV_SAMPLE_FMT_FLT, ES_AUDIO_RATE, &in, f->format, f->sample_rate, 0, NULL);
    av_channel_layout_uninit(&in);
    if (ret >= 0) ret = swr_init(d->swr);
    if (ret < 0) {
        swr_free(&d->swr);
        return -1;
    }
    d->a_fmt = f->format;
    d->a_rate = f->sample_rate;
    d->a_channels = f->ch_layout.nb_channels;
    return 0;
}

/* Resamples a decoded frame (NULL: flush) to mono float and feeds the blocks. Audio that cannot
 * be resampled is dropped (info.has_audio 0) rather than failing the video analysis. */
static int audio_frame(dec *d, const AVFrame *f)
{
    if (d->audio_off) return 0;
    if (f && (!d->swr || f->format != d->a_fmt || f->sample_rate != d->a_rate ||
              f->ch_layout.nb_channels != d->a_channels)) {
        /* first frame, or the parameters changed mid-stream (the few samples the old
         * resampler still held are dropped) */
        if (audio_setup(d, f) < 0) {
            d->audio_off = 1;
            return 0;
        }
        if (!d->audio_started) {
            int64_t ts = f->best_effort_timestamp;
            d->audio_t0 = ts != AV_NOPTS_VALUE ? ts * av_q2d(d->ast->time_base) - d->origin : 0;
            if (!isfinite(d->audio_t0)) d->audio_t0 = 0;
            d->audio_started = 1;
        }
    }
    if (!d->swr) return 0;
    int in_n = f ? f->nb_samples : 0;
    int cap = swr_get_out_samples(d->swr, in_n);
    if (cap < 0) return 0;
    if (es_grow((void **)&d->resampled, &d->cap_resampled, (size_t)cap + 1, sizeof(float)) < 0) return -1;
    uint8_t *outp[1] = {(uint8_t *)d->resampled};
    int got = swr_convert(d->swr, outp, cap, f ? (const uint8_t **)f->extended_data : NULL, in_n);
    return got > 0 ? audio_push(d, d->resampled, got) : 0;
}

/* ---- decode loop ------------------------------------------------------------------------- */

static int decode(dec *d, AVCodecContext *c, const AVPacket *pkt)
{
    int ret = avcodec_send_packet(c, pkt);
    /* A bad packet is skipped, as the ffmpeg tool does; the next keyframe recovers. */
    if (ret < 0 && ret != AVERROR_EOF) return 0;
    for (;;) {
        ret = avcodec_receive_frame(c, d->frame);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return 0;
        if (ret < 0) return 0; /* damaged data: keep what decoded so far */
        int rc = c == d->vdec ? video_frame(d, d->frame) : audio_frame(d, d->frame);
        av_frame_unref(d->frame);
        if (rc < 0) return -1;
    }
}

static void progress(dec *d)
{
    if (!d->opt || !d->opt->on_progress || d->file_size <= 0 || !d->fmt->pb) return;
    double f = clampd((double)avio_tell(d->fmt->pb) / (double)d->file_size, 0, 1);
    if (f >= d->progress_next) {
        d->opt->on_progress(d->opt->user, f);
        d->progress_next = f + 0.01;
    }
}

/* threads: 0 lets FFmpeg pick by the cores */
static int open_decoder(dec *d, AVStream *st, AVCodecContext **out, int threads)
{
    const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
    if (!codec)
        return es_fail("%s: no decoder for %s", d->path, avcodec_get_name(st->codecpar->codec_id));
    AVCodecContext *c = avcodec_alloc_context3(codec);
    if (!c) return es_fail("out of memory");
    *out = c;
    int ret = avcodec_parameters_to_context(c, st->codecpar);
    if (ret < 0) return es_fail("%s: %s", d->path, av_err2str(ret));
    c->pkt_timebase = st->time_base;
    c->max_pixels = ES_DECODE_MAX_PIXELS; /* frames that grow past it mid-stream fail to decode */
    c->thread_count = threads;
    c->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    if ((ret = avcodec_open2(c, codec, NULL)) < 0)
        return es_fail("%s: cannot open the %s decoder (%s)", d->path, codec->name, av_err2str(ret));
    return 0;
}

/* Demuxers that read single pictures: their "video" is an image. */
static int is_image_format(const AVInputFormat *f)
{
    const char *n = f->name;
    size_t len = strlen(n);
    return !strcmp(n, "image2") || (len > 5 && !strcmp(n + len - 5, "_pipe"));
}

static int check_path(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0) return es_fail("%s: no such file", path);
    if (S_ISDIR(sb.st_mode)) return es_fail("%s: is a directory, not a video", path);
    if (S_ISREG(sb.st_mode) && sb.st_size == 0) return es_fail("%s: is empty (0 bytes)", path);
    return 0;
}

/* Opens path and picks its video stream (*vidx) and the audio stream beside it (*aidx, -1 if
 * none): the one choice es_media_analyze and es_media_stated_duration share. Returns 0, or -1
 * with one error line and *fmt closed. */
static int open_video(const char *path, AVFormatContext **fmt, int *vidx, int *aidx)
{
    int ret;
    *fmt = NULL;
    if (check_path(path) < 0) return -1;
    if ((ret = avformat_open_input(fmt, path, NULL, NULL)) < 0)
        return es_fail("%s: cannot read as a video (%s): damaged, truncated or not a media file", path, av_err2str(ret));
    if ((ret = avformat_find_stream_info(*fmt, NULL)) < 0)
        es_fail("%s: cannot read the stream info (%s)", path, av_err2str(ret));
    else if (is_image_format((*fmt)->iformat))
        es_fail("%s: is an image, not a video", path);
    else {
        *vidx = av_find_best_stream(*fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
        *aidx = av_find_best_stream(*fmt, AVMEDIA_TYPE_AUDIO, -1, *vidx >= 0 ? *vidx : -1, NULL, 0);
        if (*vidx >= 0 && ((*fmt)->streams[*vidx]->disposition & AV_DISPOSITION_ATTACHED_PIC)) *vidx = -1;
        if (*vidx >= 0) return 0;
        es_fail("%s: no video stream%s", path, *aidx >= 0 ? " (audio only)" : "");
    }
    avformat_close_input(fmt);
    return -1;
}

/* Reads and decodes every packet to the end, video then the decoders' last frames; the audio
 * of the first audio_from packets read is passed over. *count counts the packets read. */
static int read_packets(dec *d, AVPacket *pkt, size_t audio_from, size_t *count, int *read_error)
{
    for (;;) {
        int ret = av_read_frame(d->fmt, pkt);
        if (ret < 0) {
            *read_error = ret != AVERROR_EOF;
            break;
        }
        int r = 0;
        ++*count;
        if (pkt->stream_index == d->vst->index) r = d->gop ? es_gopdec_send(d->gop, pkt) : decode(d, d->vdec, pkt);
        else if (d->ast && !d->audio_off && pkt->stream_index == d->ast->index && *count > audio_from)
            r = decode(d, d->adec, pkt);
        av_packet_unref(pkt);
        if (r < 0) return -1;
        progress(d);
    }
    return d->gop ? es_gopdec_finish(d->gop) : decode(d, d->vdec, NULL);
}

int es_media_analyze(const char *path, const es_decode_options *opt, es_media_analysis *out)
{
    dec d = {0};
    AVPacket *pkt = NULL;
    int rc = -1;
    memset(out, 0, sizeof *out);
    if (opt && opt->reduce_frames) {
        out->spans.threshold = opt->split_threshold;
        out->spans.split_times = opt->split_times;
        out->spans.n_split_times = opt->split_times ? opt->n_split_times : 0;
    }
    d.path = path;
    d.opt = opt;
    d.out = out;
    d.scorer_fmt = AV_PIX_FMT_NONE;
    int vidx, aidx;
    if (open_video(path, &d.fmt, &vidx, &aidx)) goto end;
    d.vst = d.fmt->streams[vidx];
    if ((long long)d.vst->codecpar->width * d.vst->codecpar->height > ES_DECODE_MAX_PIXELS) {
        es_fail("%s: picture size %dx%d is over emsync's limit of %lld pixels", path, d.vst->codecpar->width,
                d.vst->codecpar->height, ES_DECODE_MAX_PIXELS);
        goto end;
    }
    /* a small picture leaves a CPU to the frame consumer (see es_decode_options) */
    int cpus = es_cpu_count(), decoders = opt && opt->decoders ? opt->decoders : 0;
    int spare = opt && !decoders && cpus > 1 &&
                (long long)d.vst->codecpar->width * d.vst->codecpar->height < opt->spare_cpu_below_pixels;
    if (spare) decoders = cpus - 1;
    if (open_decoder(&d, d.vst, &d.vdec, spare ? cpus - 1 : es_thread_limit()) < 0) goto end;
    if (es_gopdec_new(&d.gop, d.fmt, d.vst, decoders, video_frame_cb, &d) < 0) goto end;
    if (opt && opt->want_audio && aidx >= 0) {
        d.ast = d.fmt->streams[aidx];
        /* an audio stream without a usable decoder is ignored, not fatal */
        if (open_decoder(&d, d.ast, &d.adec, es_thread_limit()) < 0) {
            avcodec_free_context(&d.adec);
            d.ast = NULL;
            es_error_clear();
        }
    }
    if (d.adec) {
        if (!(d.ebu = ebur128_init(1, ES_AUDIO_RATE, EBUR128_MODE_M))) {
            es_fail("out of memory");
            goto end;
        }
    }
    for (unsigned i = 0; i < d.fmt->nb_streams; i++)
        if ((int)i != vidx && (!d.ast || (int)i != aidx)) d.fmt->streams[i]->discard = AVDISCARD_ALL;

    es_media_info *info = &out->info;
    AVRational fr = d.vst->avg_frame_rate.num > 0 && d.vst->avg_frame_rate.den > 0 ? d.vst->avg_frame_rate
                                                                                   : d.vst->r_frame_rate;
    info->fps = fr.num > 0 && fr.den > 0 ? av_q2d(fr) : 0;
    info->width = d.vst->codecpar->width;
    info->height = d.vst->codecpar->height;
    snprintf(info->video_codec, sizeof info->video_codec, "%s", d.vdec->codec->name);
    if (d.vst->start_time != AV_NOPTS_VALUE) d.origin = d.vst->start_time * av_q2d(d.vst->time_base);
    else if (d.fmt->start_time != AV_NOPTS_VALUE) d.origin = (double)d.fmt->start_time / AV_TIME_BASE;
    if (!isfinite(d.origin)) d.origin = 0;
    d.file_size = d.fmt->pb ? avio_size(d.fmt->pb) : -1;

    if (!(d.frame = av_frame_alloc()) || !(d.prev = av_frame_alloc()) || !(d.conv[0] = av_frame_alloc()) ||
        !(d.conv[1] = av_frame_alloc()) || !(pkt = av_packet_alloc())) {
        es_fail("out of memory");
        goto end;
    }

    int read_error = 0;
    size_t packets = 0;
    if (read_packets(&d, pkt, 0, &packets, &read_error) < 0) {
        if (!es_gopdec_dependent(d.gop)) goto end;
        /* groups of pictures that are not independent: one decoder goes over the video again
         * from the start, passing over the frames and audio already analysed */
        es_error_clear();
        es_gopdec_free(&d.gop);
        d.frames_skip = d.frames_in;
        d.frames_in = 0;
        avformat_close_input(&d.fmt);
        if (open_video(path, &d.fmt, &vidx, &aidx)) goto end;
        d.vst = d.fmt->streams[vidx];
        if (d.ast) d.ast = d.fmt->streams[aidx];
        for (unsigned i = 0; i < d.fmt->nb_streams; i++)
            if ((int)i != vidx && (!d.ast || (int)i != aidx)) d.fmt->streams[i]->discard = AVDISCARD_ALL;
        size_t audio_from = packets;
        packets = 0;
        if (read_packets(&d, pkt, audio_from, &packets, &read_error) < 0) goto end;
    }
    if (d.adec) {
        if (decode(&d, d.adec, NULL) < 0 || audio_frame(&d, NULL) < 0) goto end;
        if (d.block_n >= SUB_SAMPLES && audio_block(&d) < 0) goto end;
    }

    if (d.n_video == 0) {
        es_fail("%s: no decodable video frames%s", path, read_error ? " (damaged or truncated file)" : "");
        goto end;
    }
    info->n_frames = d.n_video;
    info->groups = d.gop ? es_gopdec_groups(d.gop) : 0;
    info->has_audio = d.adec && !d.audio_off && d.audio_started;
    if (info->fps <= 0) {
        double span = d.last_time - d.first_time;
        info->fps = d.n_video > 1 && span > 0 ? (d.n_video - 1) / span : 25.0;
    }
    /* Duration: the video stream's own when it has one and it agrees with what decoded (last
     * frame time plus its duration); else the decoded extent, which is what a copy of the video
     * stream will hold (Matroska stores no stream duration, and the container's includes the
     * audio). A file that claims clearly more than decoded is flagged truncated. */
    double extent = d.last_time + (d.last_dur > 0 ? d.last_dur : 1.0 / info->fps);
    double stream_dur = -1, claimed = -1;
    if (d.vst->duration != AV_NOPTS_VALUE && d.vst->duration > 0) stream_dur = d.vst->duration * av_q2d(d.vst->time_base);
    if (d.fmt->duration != AV_NOPTS_VALUE && d.fmt->duration > 0) claimed = (double)d.fmt->duration / AV_TIME_BASE;
    if (stream_dur > 0) claimed = stream_dur;
    double tol = fmax(0.5, 2.0 / info->fps);
    info->duration = stream_dur > 0 && fabs(stream_dur - extent) <= tol ? stream_dur : extent;
    info->truncated = read_error || (claimed > 0 && extent < claimed - tol);
    if (opt && opt->on_progress) opt->on_progress(opt->user, 1.0);
    rc = 0;
end:
    av_packet_free(&pkt);
    free(d.resampled);
    swr_free(&d.swr);
    if (d.ebu) ebur128_destroy(&d.ebu);
    scaler_free(&d.sample);
    av_freep(&d.luma_prev);
    av_freep(&d.luma);
    scaler_free(&d.small);
    sws_freeContext(d.sws_conv);
    av_frame_free(&d.conv[1]);
    av_frame_free(&d.conv[0]);
    av_frame_free(&d.prev);
    av_frame_free(&d.frame);
    es_gopdec_free(&d.gop);
    avcodec_free_context(&d.adec);
    avcodec_free_context(&d.vdec);
    avformat_close_input(&d.fmt);
    if (rc < 0) es_media_analysis_free(out);
    return rc;
}

int es_frame_spans_add(es_frame_spans *s, const es_frame_stats *f)
{
    int split = s->n == 0 || (double)f->scene > s->threshold;
    while (s->next_split < s->n_split_times && f->time >= s->split_times[s->next_split]) {
        s->next_split++;
        split = 1;
    }
    if (split) {
        if (es_grow((void **)&s->items, &s->cap, s->n + 1, sizeof *s->items) < 0) return -1;
        s->items[s->n++] = (es_frame_span){.start = f->time, .first_scene = f->scene};
    }
    es_frame_span *sp = &s->items[s->n - 1];
    sp->n_frames++;
    sp->brightness += f->brightness;
    sp->saturation += f->saturation;
    sp->colourfulness += f->colourfulness;
    sp->warmth += f->warmth;
    sp->motion += f->motion;
    return 0;
}

void es_frame_spans_free(es_frame_spans *s)
{
    free(s->items);
    memset(s, 0, sizeof *s);
}

void es_media_analysis_free(es_media_analysis *a)
{
    es_frame_spans_free(&a->spans);
    free(a->frames);
    free(a->audio);
    memset(a, 0, sizeof *a);
}

int es_media_stated_duration(const char *path, double *seconds)
{
    AVFormatContext *fmt;
    int rc = -1, vidx, aidx;
    *seconds = 0;
    if (open_video(path, &fmt, &vidx, &aidx)) return -1;
    /* its duration computed as es_media_analyze does */
    const AVStream *vst = fmt->streams[vidx];
    if (vst->duration == AV_NOPTS_VALUE || vst->duration <= 0) {
        es_fail("%s: the video stream states no duration", path);
        goto end;
    }
    *seconds = vst->duration * av_q2d(vst->time_base);
    rc = 0;
end:
    avformat_close_input(&fmt);
    return rc;
}
