/* Single-frame grab: open, seek to the keyframe at or before the wanted time, decode forward
 * to the frame on screen at that time, convert it to RGB24 at full size. The conversion uses
 * bicubic + accurate rounding + full chroma interpolation (the same swscale flags the face
 * reference recorder passes to the ffmpeg tool) and honours the frame's range and matrix. */
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "media/grab.h"

#define GRAB_SWS_FLAGS (SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT)

void es_frame_free(es_frame *f)
{
    if (!f) return;
    free(f->rgb);
    memset(f, 0, sizeof *f);
}

/* Seconds from the stream's start, NAN when the frame has no timestamp (a raw H.264 stream). */
static double frame_time(const AVFrame *f, const AVStream *st)
{
    int64_t pts = f->best_effort_timestamp;
    if (pts == AV_NOPTS_VALUE) pts = f->pts;
    if (pts == AV_NOPTS_VALUE) return NAN;
    int64_t start = st->start_time == AV_NOPTS_VALUE ? 0 : st->start_time;
    return (double)(pts - start) * av_q2d(st->time_base);
}

/* The frame's duration in stream time base units, 0 when unknown (the field was renamed). */
static int64_t frame_duration(const AVFrame *f)
{
#if LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(57, 30, 100)
    return f->duration > 0 ? f->duration : 0;
#else
    return f->pkt_duration > 0 ? f->pkt_duration : 0;
#endif
}

/* Goes back to the start of the input: by byte where the format allows, else by time. */
static int rewind_input(AVFormatContext *fmt, int si)
{
    if (av_seek_frame(fmt, si, 0, AVSEEK_FLAG_BYTE | AVSEEK_FLAG_BACKWARD) >= 0) return 0;
    return avformat_seek_file(fmt, -1, INT64_MIN, INT64_MIN, INT64_MAX, 0) >= 0 ? 0 : -1;
}

/* Converts f to tightly packed RGB24 into out. */
static int to_rgb(const char *path, const AVFrame *f, es_frame *out)
{
    struct SwsContext *sws = NULL;
    uint8_t *rgb = NULL;
    int rc = -1;
    if (f->width < 1 || f->height < 1 || (long long)f->width * f->height > ES_GRAB_MAX_PIXELS) {
        es_fail("%s: picture size %dx%d not supported", path, f->width, f->height);
        goto end;
    }
    int stride = 3 * f->width;
    rgb = es_malloc((size_t)stride * f->height);
    if (!rgb) goto end;
    sws = sws_getContext(f->width, f->height, f->format, f->width, f->height, AV_PIX_FMT_RGB24,
                         GRAB_SWS_FLAGS, NULL, NULL, NULL);
    if (!sws) {
        es_fail("%s: cannot convert pixel format %s to RGB", path,
                av_get_pix_fmt_name(f->format) ? av_get_pix_fmt_name(f->format) : "?");
        goto end;
    }
    /* honour the frame's own range and matrix (full range JPEG, BT.709 HD video) */
    int *inv, src_range, *tab, dst_range, bri, con, sat;
    if (sws_getColorspaceDetails(sws, &inv, &src_range, &tab, &dst_range, &bri, &con, &sat) >= 0) {
        int cs = f->colorspace == AVCOL_SPC_UNSPECIFIED ? SWS_CS_DEFAULT : (int)f->colorspace;
        if (f->color_range == AVCOL_RANGE_JPEG) src_range = 1;
        sws_setColorspaceDetails(sws, sws_getCoefficients(cs), src_range, tab, dst_range, bri, con, sat);
    }
    uint8_t *dst[4] = {rgb, NULL, NULL, NULL};
    int dst_stride[4] = {stride, 0, 0, 0};
    if (sws_scale(sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, dst_stride) !=
        f->height) {
        es_fail("%s: pixel conversion failed", path);
        goto end;
    }
    out->rgb = rgb;
    rgb = NULL;
    out->width = f->width;
    out->height = f->height;
    out->stride = stride;
    rc = 0;
end:
    sws_freeContext(sws);
    free(rgb);
    return rc;
}

int es_grab_frame(const char *path, double at, es_frame *out)
{
    AVFormatContext *fmt = NULL;
    AVCodecContext *dec = NULL;
    AVPacket *pkt = NULL;
    AVFrame *frame = NULL, *keep = NULL;
    int rc = -1, ret;
    char msg[AV_ERROR_MAX_STRING_SIZE];
    memset(out, 0, sizeof *out);
    if (!(at >= 0) || !isfinite(at)) return es_fail("%s: time %g is not a time in the file", path, at);
    if (at > 1e9) return es_fail("%s: time %g s is past the end", path, at); /* 31 years */

    if ((ret = avformat_open_input(&fmt, path, NULL, NULL)) < 0) {
        av_strerror(ret, msg, sizeof msg);
        if (ret == AVERROR(ENOENT) || ret == AVERROR(EACCES) || ret == AVERROR(EISDIR))
            es_fail("%s: %s", path, msg);
        else
            es_fail("%s: not an image or video (%s)", path, msg);
        goto end;
    }
    if ((ret = avformat_find_stream_info(fmt, NULL)) < 0) {
        av_strerror(ret, msg, sizeof msg);
        es_fail("%s: not an image or video (%s)", path, msg);
        goto end;
    }
    const AVCodec *codec = NULL;
    int si = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (si < 0 || !codec) {
        es_fail("%s: %s", path, si == AVERROR_DECODER_NOT_FOUND ? "no decoder for its picture stream"
                                                                 : "no image or video in it");
        goto end;
    }
    AVStream *st = fmt->streams[si];
    if ((long long)st->codecpar->width * st->codecpar->height > ES_GRAB_MAX_PIXELS) {
        es_fail("%s: picture size %dx%d not supported", path, st->codecpar->width, st->codecpar->height);
        goto end;
    }
    double duration = 0;
    if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
        duration = st->duration * av_q2d(st->time_base);
    else if (fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0)
        duration = fmt->duration / (double)AV_TIME_BASE;
    /* image demuxers are "image2" or "<codec>_pipe" */
    const char *demuxer = fmt->iformat->name;
    size_t dl = strlen(demuxer);
    int still = !strcmp(demuxer, "image2") || (dl > 5 && !strcmp(demuxer + dl - 5, "_pipe"));
    if (still && at > 0) {
        es_fail("%s: a still image has no frame at %.3f s", path, at);
        goto end;
    }
    if (duration > 0 && at > duration) {
        es_fail("%s: time %.3f s is past the end (%.3f s)", path, at, duration);
        goto end;
    }
    dec = avcodec_alloc_context3(codec);
    pkt = av_packet_alloc();
    frame = av_frame_alloc();
    keep = av_frame_alloc();
    if (!dec || !pkt || !frame || !keep) {
        es_fail("out of memory");
        goto end;
    }
    if ((ret = avcodec_parameters_to_context(dec, st->codecpar)) < 0 ||
        (ret = avcodec_open2(dec, codec, NULL)) < 0) {
        av_strerror(ret, msg, sizeof msg);
        es_fail("%s: cannot open the %s decoder (%s)", path, codec->name, msg);
        goto end;
    }
    int seeked = 0;
    if (at > 0 && !still) {
        /* in double: with no known duration `at` may be anything, and its timestamp must not
         * overflow; one out of range is not sought (reading on finds it past the end) */
        double ts = (st->start_time == AV_NOPTS_VALUE ? 0.0 : (double)st->start_time) + at / av_q2d(st->time_base);
        if (isfinite(ts) && fabs(ts) < 0x1p62 && av_seek_frame(fmt, si, (int64_t)ts, AVSEEK_FLAG_BACKWARD) >= 0)
            seeked = 1;
        else
            rewind_input(fmt, si); /* a failed seek may leave the input anywhere: read from the start */
        avcodec_flush_buffers(dec);
    }

    int have = 0, done = 0, eof = 0;
    double keep_time = 0, keep_dur = 0;
    double step = st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0 ? 1 / av_q2d(st->avg_frame_rate) : 0.04;
    while (!done) {
        if (!eof) {
            ret = av_read_frame(fmt, pkt);
            if (ret < 0) {
                eof = 1;
                avcodec_send_packet(dec, NULL);  /* drain */
            } else {
                if (pkt->stream_index == si) ret = avcodec_send_packet(dec, pkt);
                av_packet_unref(pkt);
                if (ret < 0 && ret != AVERROR(EAGAIN)) {
                    /* damaged data: use what decoded so far, if anything */
                    eof = 1;
                    avcodec_send_packet(dec, NULL);
                }
            }
        }
        for (;;) {
            ret = avcodec_receive_frame(dec, frame);
            if (ret == AVERROR(EAGAIN)) break;
            if (ret < 0) {
                done = 1;
                break;
            }
            double t = frame_time(frame, st);
            if (isnan(t) || (seeked && !have && t > at + 1e-6)) {
                /* no timestamps: frames are counted from the start, so a seek cannot be used;
                 * and a seek that landed after `at` (a demuxer seeking by bytes) is no good */
                if (seeked) {
                    av_frame_unref(frame);
                    done = 2;
                    break;
                }
                if (isnan(t)) t = have ? keep_time + (keep_dur > 0 ? keep_dur : step) : 0;
            }
            if (have && t > at + 1e-6) {
                av_frame_unref(frame);
                done = 1;
                break;
            }
            av_frame_unref(keep);
            av_frame_move_ref(keep, frame);
            keep_time = t;
            keep_dur = frame_duration(keep) * av_q2d(st->time_base);
            if (keep_dur <= 0 && st->avg_frame_rate.num > 0) keep_dur = 1 / av_q2d(st->avg_frame_rate);
            have = 1;
            if (t > at + 1e-6) {  /* the first frame starts after `at`: it is what shows */
                done = 1;
                break;
            }
        }
        if (eof && ret == AVERROR(EAGAIN)) done = 1;  /* nothing more will come */
        if ((done == 2 || (done && !have)) && seeked) {
            /* read again from the start, without seeking */
            seeked = 0;
            done = eof = have = 0;
            av_frame_unref(keep);
            if (rewind_input(fmt, si) < 0) {
                es_fail("%s: cannot find the frame at %.3f s", path, at);
                goto end;
            }
            avcodec_flush_buffers(dec);
        }
    }
    if (!have) {
        es_fail("%s: no picture could be decoded", path);
        goto end;
    }
    if (at > 0 && at > keep_time + (keep_dur > 0 ? keep_dur : 0) + 1e-6) {
        es_fail("%s: time %.3f s is past the end (last frame at %.3f s)", path, at, keep_time);
        goto end;
    }
    if (to_rgb(path, keep, out)) goto end;
    out->time = keep_time;
    out->duration = duration;
    rc = 0;
end:
    av_frame_free(&keep);
    av_frame_free(&frame);
    av_packet_free(&pkt);
    avcodec_free_context(&dec);
    avformat_close_input(&fmt);
    return rc;
}
