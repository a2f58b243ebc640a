/* Muxing: one demux pass over the input, nothing held whole.
 *  - Video packets are copied as they come, their timestamps only made ascending (retime).
 *  - Before each one, every audio stream is encoded up to that packet's time (emit_audio), so
 *    the output is interleaved by time and the encoders are fed as the video goes. The music is
 *    taken one encoder frame at a time from the request: from a reader (the pipeline's stream,
 *    whose render runs ahead in its own thread) or from a buffer.
 *  - The original audio (MIX, or TRACK when it must be re-encoded) is decoded in the same pass,
 *    resampled to 48 kHz stereo and queued by position in a small FIFO until its encoder takes
 *    it; in MIX it is summed under the music and the sum limited.
 * AAC music was once encoded ahead in 30 s segments on all cores and joined where two encoders
 * windowed alike (460 lines). That needs the whole music at hand; streamed, the render already
 * runs beside the one encoder (60 s of music on two cores: 0.97 s for render and encoder
 * together, against 0.71 s for the segments with the music in memory and 0.99 s for the
 * encoder alone), and segments of a stream would hold 11 MB of samples per encoder to win the
 * rest back, so there is one path for every codec and mode. The encoder now uses FFmpeg's fast
 * AAC coder, which halved its time (open_encoder). */
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
#include <math.h>
#include <string.h>

#include "core/error.h"
#include "core/outfile.h"
#include "media/decode.h"
#include "media/mux.h"

#define RATE ES_MUX_RATE

/* Stereo frames at known output positions: frame `pos` is at buf[head], `len` frames follow.
 * Consumed frames are dropped by moving `head`; the buffer is compacted when it must grow. */
typedef struct {
    float *buf;
    size_t head, len, cap; /* cap in floats */
    int64_t pos;
} fifo;

/* One encoded audio stream of the output. */
typedef struct {
    AVCodecContext *enc;
    AVStream *st;
    AVFrame *frame;
    float *tmp;          /* (frame_size, 2) staging buffer */
    int frame_size;
    int pad_last;        /* encoder needs full frames: pad the last with silence */
    int64_t next;        /* next output frame to encode */
    int64_t pts0;        /* pts (1/RATE) of output frame 0 */
    int with_music;      /* sums the music in */
    int with_original;   /* sums (MIX) or takes (TRACK) the decoded original */
    double env;          /* limiter envelope */
} audio_out;

/* Timestamps of one copied stream made ascending: a decode timestamp that goes back (a joined
 * capture whose clock restarts) moves that packet and all after it to follow the last one by
 * its duration, as the analysis places such frames, so the cuts still match the pictures. */
typedef struct {
    int64_t offset;   /* added to the stream's timestamps (its own time base) */
    int64_t last_dts; /* last written decode timestamp, offset included */
    int64_t max_pts;  /* latest presentation timestamp written, offset included */
    int have;
} copy_clock;

typedef struct {
    const es_mux_request *req;
    AVFormatContext *ic, *oc;
    AVPacket *pkt, *opkt;         /* demuxed, encoded */
    int vin, ain;               /* input stream indexes (ain -1: none used) */
    AVStream *vout, *acopy;     /* output video, copied original audio */
    int64_t voffset;            /* subtracted from copied timestamps (input video time base) */
    copy_clock vclock, aclock;  /* copied video and original audio */
    double vstart;              /* the video's first timestamp, seconds: music frame 0 goes there */
    double duration;            /* seconds of audio to write */
    int64_t total;              /* audio frames to write */
    audio_out music, orig_out;
    int64_t music_at;           /* music frames taken so far */
    int music_end;              /* the reader had no more */
    int encode_original;        /* orig_out in use */
    /* original audio decoding */
    AVCodecContext *dec;
    AVFrame *dframe;
    SwrContext *swr;
    int swr_rate, swr_fmt;
    AVChannelLayout swr_layout;
    float *conv;
    int conv_cap;               /* frames */
    int64_t orig_next;          /* output position of the next decoded frame; INT64_MIN before any */
    int64_t orig_end;           /* where the container says the original ends (INT64_MAX: unknown) */
    int orig_done;
    fifo q;
    double orig_gain;
} mux;

static int av_fail(const char *path, const char *what, int err)
{
    char buf[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(err, buf, sizeof buf);
    return es_fail("%s: %s: %s", path, what, buf);
}

/* ---- FIFO of decoded original audio ---- */

static int fifo_put(fifo *q, int64_t at, const float *x, size_t n)
{
    if (q->len == 0 && at > q->pos) q->pos = at;
    int64_t end = q->pos + (int64_t)q->len;
    if (at < end) { /* already consumed (or overlapping): skip those frames */
        int64_t skip = end - at;
        if ((uint64_t)skip >= n) return 0;
        x += 2 * skip;
        n -= (size_t)skip;
    }
    if (2 * (q->head + q->len + n) > q->cap && q->head) {
        memmove(q->buf, q->buf + 2 * q->head, 2 * q->len * sizeof *q->buf);
        q->head = 0;
    }
    if (es_grow((void **)&q->buf, &q->cap, 2 * (q->len + n), sizeof *q->buf)) return -1;
    memcpy(q->buf + 2 * (q->head + q->len), x, 2 * n * sizeof *x);
    q->len += n;
    return 0;
}

/* Adds gain * frames [at, at+n) to out (missing frames count as silence), then drops them. */
static void fifo_take(fifo *q, int64_t at, int n, double gain, float *out)
{
    const float *b = q->buf ? q->buf + 2 * q->head : NULL; /* NULL: nothing queued yet (len 0) */
    for (int j = 0; j < n; j++) {
        int64_t k = at + j - q->pos;
        if (k >= 0 && (uint64_t)k < q->len) {
            out[2 * j] += (float)(gain * b[2 * k]);
            out[2 * j + 1] += (float)(gain * b[2 * k + 1]);
        }
    }
    int64_t upto = at + n;
    if (upto <= q->pos) return;
    size_t drop = (uint64_t)(upto - q->pos) < q->len ? (size_t)(upto - q->pos) : q->len;
    q->len -= drop;
    q->head = q->len ? q->head + drop : 0;
    q->pos = q->len ? q->pos + (int64_t)drop : upto;
}

/* ---- encoding ---- */

static int write_packets(mux *m, audio_out *a, const AVFrame *f)
{
    int ret = avcodec_send_frame(a->enc, f);
    if (ret < 0) return av_fail(m->req->output_path, "audio encoding failed", ret);
    for (;;) {
        ret = avcodec_receive_packet(a->enc, m->opkt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return 0;
        if (ret < 0) return av_fail(m->req->output_path, "audio encoding failed", ret);
        av_packet_rescale_ts(m->opkt, a->enc->time_base, a->st->time_base);
        m->opkt->stream_index = a->st->index;
        ret = av_interleaved_write_frame(m->oc, m->opkt);
        if (ret < 0) return av_fail(m->req->output_path, "write failed", ret);
    }
}

/* Peak limiter with instant attack and 100 ms release: |out| never exceeds -1 dBFS. */
static void limit(float *x, int n, double *env)
{
    const double ceiling = 0.8912509381337456, release = exp(-1.0 / (0.1 * RATE));
    for (int j = 0; j < n; j++) {
        double peak = fmax(fabs(x[2 * j]), fabs(x[2 * j + 1]));
        *env = fmax(peak, *env * release);
        if (*env > ceiling) {
            double g = ceiling / *env;
            x[2 * j] = (float)(x[2 * j] * g);
            x[2 * j + 1] = (float)(x[2 * j + 1] * g);
        }
    }
}

/* The next n music frames into x (zeroed beforehand): silence past the music's end. */
static int take_music(mux *m, float *x, int n)
{
    const es_mux_request *req = m->req;
    if (req->read) {
        if (m->music_end) return 0;
        long got = req->read(req->read_user, x, (size_t)n);
        if (got < 0) return -1;
        if (got < n) m->music_end = 1;
    } else if (req->pcm && (uint64_t)m->music_at < req->n_frames) {
        size_t k = req->n_frames - (size_t)m->music_at < (size_t)n ? req->n_frames - (size_t)m->music_at : (size_t)n;
        memcpy(x, req->pcm + 2 * m->music_at, 2 * k * sizeof *x);
    }
    m->music_at += n;
    return 0;
}

/* Fills an encoder's stereo float frame (planar or interleaved) with `count` frames: the first
 * n from interleaved x, silence after. */
static void frame_put(AVFrame *f, const float *x, int n, int count)
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

/* Encodes whole frames of a up to output frame `upto` (the last, partial one when upto is the end). */
static int encode_until(mux *m, audio_out *a, int64_t upto)
{
    if (upto > m->total) upto = m->total;
    while (a->next < m->total) {
        int n = m->total - a->next < a->frame_size ? (int)(m->total - a->next) : a->frame_size;
        if (a->next + n > upto) return 0;
        memset(a->tmp, 0, 2 * (size_t)a->frame_size * sizeof *a->tmp);
        if (a->with_music && take_music(m, a->tmp, n)) return -1;
        if (a->with_original) {
            fifo_take(&m->q, a->next, n, a->with_music ? m->orig_gain : 1.0, a->tmp);
            if (a->with_music) limit(a->tmp, n, &a->env);
        }
        AVFrame *f = a->frame;
        f->nb_samples = a->frame_size;
        int ret = av_frame_make_writable(f);
        if (ret < 0) return av_fail(m->req->output_path, "audio frame", ret);
        /* tmp holds a whole frame, zeroed past n */
        frame_put(f, a->tmp, n, a->pad_last ? a->frame_size : n);
        f->pts = a->next + a->pts0;
        if (write_packets(m, a, f)) return -1;
        a->next += n;
    }
    return 0;
}

static int open_encoder(mux *m, audio_out *a, int opus)
{
    const char *path = m->req->output_path;
    const AVCodec *c = opus ? avcodec_find_encoder_by_name("libopus") : avcodec_find_encoder_by_name("aac");
    if (!c && opus) c = avcodec_find_encoder_by_name("opus");
    if (!c) return es_fail("%s: this FFmpeg has no %s encoder", path, opus ? "Opus" : "AAC");
    enum AVSampleFormat fmt = AV_SAMPLE_FMT_NONE;
    for (const enum AVSampleFormat *s = c->sample_fmts; s && *s != AV_SAMPLE_FMT_NONE; s++)
        if (*s == AV_SAMPLE_FMT_FLTP || (*s == AV_SAMPLE_FMT_FLT && fmt == AV_SAMPLE_FMT_NONE)) fmt = *s;
    if (fmt == AV_SAMPLE_FMT_NONE) return es_fail("%s: the %s encoder takes no float samples", path, c->name);

    a->enc = avcodec_alloc_context3(c);
    if (!a->enc) return es_fail("out of memory");
    a->enc->sample_fmt = fmt;
    a->enc->sample_rate = RATE;
    av_channel_layout_default(&a->enc->ch_layout, 2);
    a->enc->bit_rate = opus ? 128000 : 160000;
    a->enc->time_base = (AVRational){1, RATE};
    if (!strcmp(c->name, "opus")) a->enc->strict_std_compliance = FF_COMPLIANCE_EXPERIMENTAL;
    if (m->oc->oformat->flags & AVFMT_GLOBALHEADER) a->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    /* FFmpeg's AAC "fast" coder: its authors found it sounds better than the default twoloop at
     * higher bitrates such as ours, and it takes half the time (60 s: 0.60 s against 1.08 s) */
    if (!opus && a->enc->priv_data) av_opt_set(a->enc->priv_data, "aac_coder", "fast", 0); /* else the default */
    int ret = avcodec_open2(a->enc, c, NULL);
    if (ret < 0) return av_fail(path, "cannot open the audio encoder", ret);

    a->frame_size = a->enc->frame_size > 0 ? a->enc->frame_size : 1024;
    a->pad_last = !(c->capabilities & (AV_CODEC_CAP_SMALL_LAST_FRAME | AV_CODEC_CAP_VARIABLE_FRAME_SIZE));
    a->st = avformat_new_stream(m->oc, NULL);
    if (!a->st) return es_fail("out of memory");
    ret = avcodec_parameters_from_context(a->st->codecpar, a->enc);
    if (ret < 0) return av_fail(path, "audio stream", ret);
    a->st->time_base = a->enc->time_base;

    a->frame = av_frame_alloc();
    a->tmp = es_malloc(2 * (size_t)a->frame_size * sizeof *a->tmp);
    if (!a->frame || !a->tmp) return es_fail("out of memory");
    a->frame->format = fmt;
    a->frame->sample_rate = RATE;
    a->frame->nb_samples = a->frame_size;
    if (av_channel_layout_copy(&a->frame->ch_layout, &a->enc->ch_layout) < 0) return es_fail("out of memory");
    ret = av_frame_get_buffer(a->frame, 0);
    if (ret < 0) return av_fail(path, "audio frame", ret);
    return 0;
}

static void close_encoder(audio_out *a)
{
    av_frame_free(&a->frame);
    avcodec_free_context(&a->enc);
    free(a->tmp);
}

/* ---- decoding the original audio ---- */

static int open_decoder(mux *m)
{
    const char *path = m->req->input_path;
    AVStream *st = m->ic->streams[m->ain];
    const AVCodec *c = avcodec_find_decoder(st->codecpar->codec_id);
    if (!c) return es_fail("%s: cannot decode the original audio (%s)", path, avcodec_get_name(st->codecpar->codec_id));
    m->dec = avcodec_alloc_context3(c);
    m->dframe = av_frame_alloc();
    if (!m->dec || !m->dframe) return es_fail("out of memory");
    int ret = avcodec_parameters_to_context(m->dec, st->codecpar);
    if (ret < 0) return av_fail(path, "original audio", ret);
    m->dec->pkt_timebase = st->time_base;
    ret = avcodec_open2(m->dec, c, NULL);
    if (ret < 0) return av_fail(path, "cannot open the original audio decoder", ret);
    return 0;
}

/* Opens the original audio's decoder; one that cannot be opened (unknown or damaged codec
 * parameters) leaves no decoder and returns -1 with no error recorded: the original audio is
 * then left out, as for a file without audio, rather than failing the whole mux. */
static int try_decoder(mux *m)
{
    if (open_decoder(m) == 0) return 0;
    avcodec_free_context(&m->dec);
    av_frame_free(&m->dframe);
    es_error_clear();
    return -1;
}

/* (Re)creates the resampler when the decoded format changes (it rarely does mid-stream). */
static int setup_swr(mux *m, const AVFrame *f)
{
    if (m->swr && f->sample_rate == m->swr_rate && f->format == m->swr_fmt &&
        !av_channel_layout_compare(&f->ch_layout, &m->swr_layout))
        return 0;
    swr_free(&m->swr);
    av_channel_layout_uninit(&m->swr_layout);
    AVChannelLayout in = {0}, stereo = {0};
    av_channel_layout_default(&stereo, 2);
    if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) av_channel_layout_default(&in, f->ch_layout.nb_channels);
    else if (av_channel_layout_copy(&in, &f->ch_layout) < 0) return es_fail("out of memory");
    int ret = swr_alloc_set_opts2(&m->swr, &stereo, AV_SAMPLE_FMT_FLT, RATE, &in, f->format, f->sample_rate, 0, NULL);
    /* mono goes to both sides at full level, as a player plays it (not the -3 dB centre mix) */
    if (ret >= 0 && in.nb_channels == 1) {
        const double both[2] = {1.0, 1.0};
        ret = swr_set_matrix(m->swr, both, 1);
    }
    av_channel_layout_uninit(&in);
    if (ret >= 0) ret = swr_init(m->swr);
    if (ret < 0) return av_fail(m->req->input_path, "cannot convert the original audio", ret);
    m->swr_rate = f->sample_rate;
    m->swr_fmt = f->format;
    if (av_channel_layout_copy(&m->swr_layout, &f->ch_layout) < 0) return es_fail("out of memory");
    return 0;
}

/* Converts (f NULL: drains the resampler) and queues the result at its output position. */
static int queue_converted(mux *m, const AVFrame *f)
{
    if (!m->swr) return 0;
    int want = swr_get_out_samples(m->swr, f ? f->nb_samples : 0);
    if (want <= 0) return 0;
    if (want > m->conv_cap) {
        float *p = es_realloc(m->conv, 2 * (size_t)want * sizeof *p);
        if (!p) return -1;
        m->conv = p;
        m->conv_cap = want;
    }
    uint8_t *out[1] = {(uint8_t *)m->conv};
    int got = swr_convert(m->swr, out, want, f ? (const uint8_t **)f->extended_data : NULL, f ? f->nb_samples : 0);
    if (got < 0) return av_fail(m->req->input_path, "cannot convert the original audio", got);
    if (got > 0 && fifo_put(&m->q, m->orig_next, m->conv, (size_t)got)) return -1;
    m->orig_next += got;
    return 0;
}

/* Feeds one packet of the original audio (NULL: end of stream). Undecodable packets are skipped,
 * as a player would. */
static int decode_original(mux *m, const AVPacket *p)
{
    if (m->orig_done) return 0;
    int ret = avcodec_send_packet(m->dec, p);
    if (ret == AVERROR(ENOMEM)) return es_fail("out of memory");
    for (;;) {
        ret = avcodec_receive_frame(m->dec, m->dframe);
        if (ret == AVERROR(ENOMEM)) return es_fail("out of memory");
        if (ret < 0) break; /* EAGAIN, end of stream, or a damaged packet: skipped */
        if (m->orig_next == INT64_MIN) {
            int64_t ts = m->dframe->best_effort_timestamp;
            double t = ts == AV_NOPTS_VALUE ? 0.0 : ts * av_q2d(m->ic->streams[m->ain]->time_base);
            /* clamped: a damaged timestamp must not overflow the frame positions */
            m->orig_next = llround(fmax(-1e6, fmin(t - m->vstart, 1e6)) * RATE);
        }
        ret = setup_swr(m, m->dframe);
        if (ret) {
            /* audio in a form that cannot be converted (a damaged header): the rest of the
             * original is silence, as for a file without audio */
            av_frame_unref(m->dframe);
            es_error_clear();
            m->orig_done = 1;
            return 0;
        }
        ret = queue_converted(m, m->dframe);
        av_frame_unref(m->dframe);
        if (ret) return -1;
    }
    if (!p) {
        if (queue_converted(m, NULL)) return -1;
        m->orig_done = 1;
    }
    return 0;
}

/* Encodes every output audio stream up to output frame `upto` (m->total: to the end). */
static int emit_audio(mux *m, int64_t upto)
{
    int64_t orig_upto = upto;
    if (m->dec && !m->orig_done && upto < m->total) {
        /* Wait for original audio still to come (the muxer's interleaving copes with files whose
         * audio lies far from its video); past the original's end there is only silence. */
        int64_t have = m->orig_next == INT64_MIN ? 0 : m->q.pos + (int64_t)m->q.len;
        if (have < m->orig_end && have < upto) orig_upto = have;
    }
    if (encode_until(m, &m->music, m->music.with_original ? orig_upto : upto)) return -1;
    if (m->encode_original && encode_until(m, &m->orig_out, orig_upto)) return -1;
    return 0;
}

/* ---- setup ---- */

int es_mux_format(const char *path, const char **format, int *opus)
{
    char ext[16];
    es_path_ext(path, ext, sizeof ext);
    if (!strcmp(ext, "mp4") || !strcmp(ext, "m4v")) *format = "mp4", *opus = 0;
    else if (!strcmp(ext, "mov")) *format = "mov", *opus = 0;
    else if (!strcmp(ext, "mkv")) *format = "matroska", *opus = 1;
    else if (!strcmp(ext, "webm")) *format = "webm", *opus = 1;
    else return es_fail("%s: unsupported output type '.%s' (use .mp4, .m4v, .mov, .mkv or .webm)", path, ext);
    return 0;
}

static int add_video_stream(mux *m)
{
    AVStream *in = m->ic->streams[m->vin];
    const AVOutputFormat *of = m->oc->oformat;
    enum AVCodecID id = in->codecpar->codec_id;
    if (avformat_query_codec(of, id, FF_COMPLIANCE_NORMAL) == 0) {
        char ext[16];
        es_path_ext(m->req->output_path, ext, sizeof ext);
        return es_fail("%s: a .%s file cannot hold %s video (try .mkv)", m->req->output_path, ext, avcodec_get_name(id));
    }
    m->vout = avformat_new_stream(m->oc, NULL);
    if (!m->vout) return es_fail("out of memory");
    int ret = avcodec_parameters_copy(m->vout->codecpar, in->codecpar);
    if (ret < 0) return av_fail(m->req->output_path, "video stream", ret);
    /* keep the input's codec tag only where the output container knows it for this codec */
    uint32_t tag = in->codecpar->codec_tag;
    if (tag && of->codec_tag && av_codec_get_id(of->codec_tag, tag) != id) tag = 0;
    m->vout->codecpar->codec_tag = tag;
    m->vout->time_base = in->time_base;
    m->vout->avg_frame_rate = in->avg_frame_rate;
    m->vout->r_frame_rate = in->r_frame_rate;
    m->vout->sample_aspect_ratio = in->sample_aspect_ratio;
    m->vout->disposition = in->disposition;
    av_dict_copy(&m->vout->metadata, in->metadata, 0);
#ifndef FF_API_AVSTREAM_SIDE_DATA
    /* rotation (display matrix) and the like; newer FFmpeg carries them in codecpar */
    for (int i = 0; i < in->nb_side_data; i++) {
        uint8_t *d = av_stream_new_side_data(m->vout, in->side_data[i].type, in->side_data[i].size);
        if (!d) return es_fail("out of memory");
        memcpy(d, in->side_data[i].data, in->side_data[i].size);
    }
#endif
    return 0;
}

/* 1 when a `format` file accepts a stream with these parameters as they are: a trial header
 * written to memory, since avformat_query_codec accepts some pairs the muxer then refuses. */
static int container_takes(const char *format, const AVCodecParameters *par)
{
    AVFormatContext *t = NULL;
    int ok = 0;
    if (avformat_alloc_output_context2(&t, NULL, format, NULL) < 0 || !t) return 0;
    AVStream *st = avformat_new_stream(t, NULL);
    if (st && avcodec_parameters_copy(st->codecpar, par) >= 0 && avio_open_dyn_buf(&t->pb) >= 0) {
        st->codecpar->codec_tag = 0;
        st->time_base = (AVRational){1, par->sample_rate > 0 ? par->sample_rate : RATE};
        ok = avformat_write_header(t, NULL) >= 0;
        uint8_t *buf = NULL;
        avio_close_dyn_buf(t->pb, &buf);
        av_free(buf);
        t->pb = NULL;
    }
    avformat_free_context(t);
    return ok;
}

static int add_copied_audio(mux *m)
{
    AVStream *in = m->ic->streams[m->ain];
    m->acopy = avformat_new_stream(m->oc, NULL);
    if (!m->acopy) return es_fail("out of memory");
    int ret = avcodec_parameters_copy(m->acopy->codecpar, in->codecpar);
    if (ret < 0) return av_fail(m->req->output_path, "original audio stream", ret);
    uint32_t tag = in->codecpar->codec_tag;
    if (tag && m->oc->oformat->codec_tag && av_codec_get_id(m->oc->oformat->codec_tag, tag) != in->codecpar->codec_id) tag = 0;
    m->acopy->codecpar->codec_tag = tag;
    m->acopy->time_base = in->time_base;
    return 0;
}

/* Adds by to *ts (unless unset); -1 when the sum leaves int64 (a damaged timestamp). */
static int shift_ts(int64_t *ts, int64_t by)
{
    if (*ts == AV_NOPTS_VALUE) return 0;
    if (__builtin_add_overflow(*ts, by, ts) || *ts == AV_NOPTS_VALUE) return -1;
    return 0;
}

/* Moves the packet in m->pkt by the video offset and onto c's ascending clock (see copy_clock).
 * Returns 0, or -1 with an error for timestamps out of range. */
static int retime(mux *m, AVStream *in, copy_clock *c)
{
    AVPacket *p = m->pkt;
    int64_t step = p->duration > 0 ? p->duration : 0;
    if (!step && in->avg_frame_rate.num > 0 && in->avg_frame_rate.den > 0)
        step = av_rescale_q(1, av_inv_q(in->avg_frame_rate), in->time_base);
    if (step < 1) step = 1;
    if (p->pts == AV_NOPTS_VALUE && p->dts == AV_NOPTS_VALUE) {
        /* no timestamp at all (the muxers refuse that): one step after the previous packet, as
         * the analysis times such a frame; the first at the stream's start */
        if (c->have) {
            if (__builtin_add_overflow(c->last_dts, step, &p->dts) ||
                __builtin_add_overflow(c->max_pts, step, &p->pts))
                return es_fail("%s: timestamps out of range", m->req->input_path);
            c->last_dts = p->dts;
            c->max_pts = p->pts;
            return 0;
        }
        p->pts = p->dts = in->start_time != AV_NOPTS_VALUE ? in->start_time : 0;
    }
    int64_t shift = av_rescale_q(m->voffset, m->ic->streams[m->vin]->time_base, in->time_base);
    if (shift == INT64_MIN || shift_ts(&p->pts, -shift) || shift_ts(&p->dts, -shift) || shift_ts(&p->pts, c->offset) ||
        shift_ts(&p->dts, c->offset))
        return es_fail("%s: timestamps out of range", m->req->input_path);
    if (p->dts == AV_NOPTS_VALUE) return 0;
    /* a leap ahead the analysis closes up (media/decode.h ES_TS_JUMP_S) is closed here too */
    double jump = fmax(ES_TS_JUMP_S / av_q2d(in->time_base), 50.0 * (double)step);
    if (c->have && (p->dts <= c->last_dts || (double)p->dts - (double)c->last_dts > jump)) {
        int64_t by;
        if (__builtin_sub_overflow(c->last_dts, p->dts, &by) || __builtin_add_overflow(by, step, &by) ||
            __builtin_add_overflow(c->offset, by, &c->offset) || shift_ts(&p->pts, by) || shift_ts(&p->dts, by))
            return es_fail("%s: timestamps out of range", m->req->input_path);
    }
    if (p->pts != AV_NOPTS_VALUE && (p->pts < p->dts || (double)p->pts - (double)p->dts > jump))
        p->pts = AV_NOPTS_VALUE; /* damaged: made up from the decode time below */
    if (p->pts == AV_NOPTS_VALUE) {
        /* shown after everything before it (its decode time may lie before earlier pictures) */
        p->pts = p->dts;
        if (c->have && p->pts <= c->max_pts && __builtin_add_overflow(c->max_pts, step, &p->pts))
            return es_fail("%s: timestamps out of range", m->req->input_path);
    }
    if (!c->have || p->pts > c->max_pts) c->max_pts = p->pts;
    c->last_dts = p->dts;
    c->have = 1;
    return 0;
}

/* Moves a retimed packet to the output stream and writes it. */
static int write_copied(mux *m, AVStream *in, AVStream *out)
{
    AVPacket *p = m->pkt;
    av_packet_rescale_ts(p, in->time_base, out->time_base);
    p->stream_index = out->index;
    p->pos = -1;
    int ret = av_interleaved_write_frame(m->oc, p);
    if (ret < 0) return av_fail(m->req->output_path, "write failed", ret);
    return 0;
}

/* Opens the input and finds its first video stream and where the video starts. */
static int open_input(mux *m)
{
    const char *in_path = m->req->input_path;
    int ret = avformat_open_input(&m->ic, in_path, NULL, NULL);
    if (ret < 0) return av_fail(in_path, "cannot open", ret);
    ret = avformat_find_stream_info(m->ic, NULL);
    if (ret < 0) return av_fail(in_path, "cannot read stream info", ret);
    /* image demuxers (png_pipe, image2, ...) make a one-frame "video" of a picture */
    const char *iname = m->ic->iformat->name;
    size_t ilen = strlen(iname);
    if (!strcmp(iname, "image2") || (ilen > 5 && !strcmp(iname + ilen - 5, "_pipe")))
        return es_fail("%s: a still image, not a video", in_path);
    m->vin = -1;
    for (unsigned i = 0; i < m->ic->nb_streams; i++) {
        AVStream *s = m->ic->streams[i];
        if (s->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && !(s->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
            m->vin = (int)i;
            break;
        }
    }
    if (m->vin < 0) return es_fail("%s: no video stream", in_path);
    AVStream *vin = m->ic->streams[m->vin];
    /* Timestamps are kept as they are, unless the video starts far from 0 (a cut from a broadcast
     * capture, say): then everything moves so it starts at 0. The music starts with the video. */
    m->vstart = vin->start_time != AV_NOPTS_VALUE ? vin->start_time * av_q2d(vin->time_base) : 0.0;
    m->voffset = fabs(m->vstart) >= 0.5 ? vin->start_time : 0;

    double duration = m->req->duration;
    if (!(duration > 0)) {
        if (vin->duration > 0) duration = vin->duration * av_q2d(vin->time_base);
        else if (m->ic->duration > 0) duration = (double)m->ic->duration / AV_TIME_BASE;
    }
    if (!(duration > 0) || !isfinite(duration) || duration > 48 * 3600.0) return es_fail("%s: unknown or bad duration", in_path);
    m->duration = duration;
    m->total = llround(duration * RATE);
    return 0;
}

/* The music's stream and, in TRACK, the original audio's: copied where the container takes its
 * codec, else decoded and encoded again like the music. In MIX the original is decoded. */
static int add_audio_streams(mux *m, const char *format, int opus)
{
    const es_mux_request *req = m->req;
    m->ain = -1;
    if (req->original_audio != ES_ORIGINAL_AUDIO_OFF) {
        int ret = av_find_best_stream(m->ic, AVMEDIA_TYPE_AUDIO, -1, m->vin, NULL, 0);
        if (ret >= 0) m->ain = ret;
    }
    if (m->ain >= 0 && req->original_audio == ES_ORIGINAL_AUDIO_MIX && try_decoder(m)) m->ain = -1;

    m->music.with_music = 1;
    m->music.with_original = req->original_audio == ES_ORIGINAL_AUDIO_MIX && m->ain >= 0;
    if (open_encoder(m, &m->music, opus)) return -1;
    m->music.st->disposition = AV_DISPOSITION_DEFAULT;
    if (req->original_audio != ES_ORIGINAL_AUDIO_TRACK || m->ain < 0) return 0;
    enum AVCodecID id = m->ic->streams[m->ain]->codecpar->codec_id;
    if (avformat_query_codec(m->oc->oformat, id, FF_COMPLIANCE_NORMAL) == 1 &&
        container_takes(format, m->ic->streams[m->ain]->codecpar)) {
        if (add_copied_audio(m)) return -1;
    } else if (try_decoder(m) == 0) {
        m->encode_original = 1;
        m->orig_out.with_original = 1;
        if (open_encoder(m, &m->orig_out, opus)) return -1;
    } else {
        m->ain = -1;
        return 0;
    }
    AVStream *os = m->acopy ? m->acopy : m->orig_out.st;
    os->disposition = 0;
    av_dict_copy(&os->metadata, m->ic->streams[m->ain]->metadata, 0);
    return 0;
}

/* Where the encoded audio goes on the output clock, and where the original audio ends. */
static void place_audio(mux *m, int opus)
{
    AVStream *vin = m->ic->streams[m->vin];
    /* Matroska stores the encoder delay itself (CodecDelay) and wants packets from 0; MP4 takes
     * negative timestamps for the priming samples and writes an edit list. */
    int64_t pts0 = llround((m->vstart - m->voffset * av_q2d(vin->time_base)) * RATE);
    m->music.pts0 = pts0 + (opus ? m->music.enc->initial_padding : 0);
    if (m->encode_original) m->orig_out.pts0 = pts0 + (opus ? m->orig_out.enc->initial_padding : 0);
    m->orig_next = INT64_MIN;
    m->orig_end = INT64_MAX;
    m->orig_gain = pow(10.0, ES_MUX_ORIGINAL_DB / 20.0);
    if (m->ain < 0) return;
    AVStream *as = m->ic->streams[m->ain];
    double end = NAN;
    /* in double: header values may be anything, and their int64 sum may overflow */
    if (as->duration > 0)
        end = ((double)as->duration + (as->start_time != AV_NOPTS_VALUE ? (double)as->start_time : 0)) *
              av_q2d(as->time_base);
    else if (m->ic->duration > 0)
        end = ((double)m->ic->duration + (m->ic->start_time != AV_NOPTS_VALUE ? (double)m->ic->start_time : 0)) /
              AV_TIME_BASE;
    if (isfinite(end) && fabs(end - m->vstart) < 1e6) m->orig_end = llround((end - m->vstart) * RATE);
}

static int write_header(mux *m, const char *temp_path, const char *format)
{
    const char *out_path = m->req->output_path;
    AVDictionary *opts = NULL;
    int ret = avio_open(&m->oc->pb, temp_path, AVIO_FLAG_WRITE);
    if (ret < 0) return av_fail(out_path, "cannot write", ret);
    if (!strcmp(format, "mp4") || !strcmp(format, "mov")) av_dict_set(&opts, "movflags", "+faststart", 0);
    ret = avformat_write_header(m->oc, &opts);
    av_dict_free(&opts);
    if (ret < 0) return av_fail(out_path, "cannot write the header", ret);
    m->pkt = av_packet_alloc();
    m->opkt = av_packet_alloc();
    if (!m->pkt || !m->opkt) return es_fail("out of memory");
    return 0;
}

/* A video packet: the audio up to its time first, then the packet, and the progress. */
static int on_video_packet(mux *m, double *last_report)
{
    const es_mux_request *req = m->req;
    AVStream *vin = m->ic->streams[m->vin];
    if (retime(m, vin, &m->vclock)) return -1;
    int64_t ts = m->pkt->dts != AV_NOPTS_VALUE ? m->pkt->dts : m->pkt->pts;
    if (ts != AV_NOPTS_VALUE) {
        /* seconds since the first picture, on the output clock; a damaged timestamp far past
         * the end just means "all the audio now" */
        double t = fmin((double)ts * av_q2d(vin->time_base) + m->voffset * av_q2d(vin->time_base) - m->vstart,
                        m->duration + 1);
        if (t > 0 && emit_audio(m, llround(t * RATE))) return -1;
        if (req->progress && t / m->duration - *last_report >= 0.01) {
            *last_report = t / m->duration;
            if (req->progress(req->progress_user, *last_report > 1 ? 1 : *last_report))
                return es_fail("%s: cancelled", req->output_path);
        }
    }
    return write_copied(m, vin, m->vout);
}

/* The demux pass: every packet of the input, until its end or the first unreadable one. */
static int copy_packets(mux *m)
{
    double last_report = -1;
    for (;;) {
        int ret = av_read_frame(m->ic, m->pkt);
        /* damaged or cut input: what was read is what the analysis saw, so the file ends there */
        if (ret == AVERROR(ENOMEM)) return es_fail("out of memory");
        if (ret < 0) break;
        if (m->pkt->stream_index == m->vin) {
            if (on_video_packet(m, &last_report)) return -1;
        } else if (m->pkt->stream_index == m->ain) {
            AVStream *in = m->ic->streams[m->ain];
            if (m->acopy && (retime(m, in, &m->aclock) || write_copied(m, in, m->acopy))) return -1;
            if (m->dec && decode_original(m, m->pkt)) return -1;
        }
        av_packet_unref(m->pkt);
    }
    av_packet_unref(m->pkt);
    return 0;
}

/* The rest of the audio, the encoders flushed, the trailer. */
static int finish(mux *m)
{
    const char *out_path = m->req->output_path;
    if (m->dec && decode_original(m, NULL)) return -1;
    if (emit_audio(m, m->total)) return -1;
    if (write_packets(m, &m->music, NULL)) return -1;
    if (m->encode_original && write_packets(m, &m->orig_out, NULL)) return -1;
    int ret = av_write_trailer(m->oc);
    if (ret < 0) return av_fail(out_path, "cannot finish the file", ret);
    ret = avio_closep(&m->oc->pb);
    if (ret < 0) return av_fail(out_path, "write failed", ret);
    if (m->req->progress && m->req->progress(m->req->progress_user, 1.0)) return es_fail("%s: cancelled", out_path);
    return 0;
}

static int run(mux *m, es_outfile *o)
{
    const es_mux_request *req = m->req;
    const char *format = NULL;
    int opus = 0;
    if (!req->read && req->n_frames && !req->pcm) return es_fail("mux: no music samples");
    if (es_mux_format(req->output_path, &format, &opus)) return -1;
    if (es_same_file(req->input_path, req->output_path))
        return es_fail("%s: output would overwrite the input", req->output_path);
    if (open_input(m)) return -1;
    int ret = avformat_alloc_output_context2(&m->oc, NULL, format, o->temp_path);
    if (ret < 0 || !m->oc)
        return av_fail(req->output_path, "cannot set up the output", ret < 0 ? ret : AVERROR(ENOMEM));
    if (add_video_stream(m)) return -1;
    av_dict_copy(&m->oc->metadata, m->ic->metadata, 0);
    if (add_audio_streams(m, format, opus)) return -1;
    place_audio(m, opus);
    if (write_header(m, o->temp_path, format) || copy_packets(m)) return -1;
    return finish(m);
}

int es_mux(const es_mux_request *req)
{
    mux m = {.req = req};
    es_outfile o;
    if (!req->input_path || !req->output_path) return es_fail("mux: missing path");
    if (es_outfile_open(&o, req->output_path)) return -1;
    int ret = run(&m, &o);

    av_packet_free(&m.opkt);
    av_packet_free(&m.pkt);
    free(m.conv);
    free(m.q.buf);
    swr_free(&m.swr);
    av_channel_layout_uninit(&m.swr_layout);
    av_frame_free(&m.dframe);
    avcodec_free_context(&m.dec);
    close_encoder(&m.orig_out);
    close_encoder(&m.music);
    if (m.oc) {
        avio_closep(&m.oc->pb);
        avformat_free_context(m.oc);
    }
    avformat_close_input(&m.ic);
    if (ret == 0) return es_outfile_commit(&o);
    es_outfile_abort(&o);
    return -1;
}
