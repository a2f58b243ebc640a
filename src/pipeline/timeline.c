/* SVG timeline writer (see timeline.h). */
#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/json.h"
#include "core/outfile.h"
#include "core/xml.h"
#include "pipeline/timeline.h"

#define WIDTH 1200
#define MARGIN 50
#define THUMB_H 90
#define CURVE_TOP (THUMB_H + 40)
#define CURVE_H 200
#define CHORD_TOP (CURVE_TOP + CURVE_H + 20)
#define CUES_TOP (CHORD_TOP + 60)
#define CUE_ROW 110        /* one row of cue terms: valence, then arousal */
#define CUE_UNIT 45.0      /* pixels for a term of 1.0, less when a stack would leave its row */
#define CUE_MIN 0.005      /* smaller terms are not drawn */
#define LEGEND_TOP (CUES_TOP + 2 * CUE_ROW)
#define HEIGHT (LEGEND_TOP + 40)

/* Encodes an RGB24 image as PNG with libavcodec. Returns 0 and a packet the caller frees. */
static int encode_png(const es_thumb *t, AVPacket **out)
{
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_PNG);
    AVCodecContext *ctx = NULL;
    AVFrame *frame = NULL;
    AVPacket *pkt = NULL;
    int ret = -1;
    if (!codec) return es_fail("no PNG encoder in this FFmpeg build");
    ctx = avcodec_alloc_context3(codec);
    frame = av_frame_alloc();
    pkt = av_packet_alloc();
    if (!ctx || !frame || !pkt) goto end;
    ctx->width = t->width;
    ctx->height = t->height;
    ctx->pix_fmt = AV_PIX_FMT_RGB24;
    ctx->time_base = (AVRational){1, 25};
    if (avcodec_open2(ctx, codec, NULL) < 0) goto end;
    frame->format = AV_PIX_FMT_RGB24;
    frame->width = t->width;
    frame->height = t->height;
    if (av_frame_get_buffer(frame, 0) < 0) goto end;
    for (int y = 0; y < t->height; y++)
        memcpy(frame->data[0] + (size_t)y * frame->linesize[0], t->rgb + (size_t)y * t->width * 3, (size_t)t->width * 3);
    if (avcodec_send_frame(ctx, frame) < 0 || avcodec_send_frame(ctx, NULL) < 0) goto end;
    if (avcodec_receive_packet(ctx, pkt) < 0) goto end;
    *out = pkt;
    pkt = NULL;
    ret = 0;
end:
    if (ret) es_fail("thumbnail: PNG encoding failed");
    av_packet_free(&pkt);
    av_frame_free(&frame);
    avcodec_free_context(&ctx);
    return ret;
}

static void base64(FILE *f, const uint8_t *data, size_t n)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (i + 1 < n) v |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < n) v |= data[i + 2];
        fputc(digits[(v >> 18) & 63], f);
        fputc(digits[(v >> 12) & 63], f);
        fputc(i + 1 < n ? digits[(v >> 6) & 63] : '=', f);
        fputc(i + 2 < n ? digits[v & 63] : '=', f);
    }
}

static double x_of(double t, double duration) { return MARGIN + (WIDTH - 2 * MARGIN) * (duration > 0 ? t / duration : 0); }
static double y_of(double v) { return CURVE_TOP + CURVE_H * (1 - v) / 2; }

/* One mood curve as a step line over the scenes (constant within a scene, a jump at a cut). */
static void curve(FILE *f, const es_pipeline *p, int arousal, const char *cls, const char *colour)
{
    double duration = p->analysis.info.duration;
    fprintf(f, "<polyline class=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2.5\" points=\"", cls, colour);
    for (size_t m = 0; m < p->n_moods; m++) {
        double start = p->moods[m].start, end = m + 1 < p->n_moods ? p->moods[m + 1].start : duration;
        double v = arousal ? p->moods[m].arousal : p->moods[m].valence;
        fprintf(f, "%.1f,%.1f %.1f,%.1f ", x_of(start, duration), y_of(v), x_of(end, duration), y_of(v));
    }
    fprintf(f, "\"/>\n");
}

static const char *const cue_colour[ES_CUE_COUNT] = {
    [ES_CUE_COLOUR] = "#9467bd", [ES_CUE_WARMTH] = "#ff7f0e", [ES_CUE_MOTION] = "#8c564b",
    [ES_CUE_CUTS] = "#e377c2",   [ES_CUE_LOUDNESS] = "#7f7f7f", [ES_CUE_ONSETS] = "#bcbd22",
    [ES_CUE_FACES] = "#17becf",  [ES_CUE_BASE] = "#c7c7c7",   [ES_CUE_VIDEO] = "#aec7e8",
    [ES_CUE_LIMIT] = "#222222",
};

/* Why each scene reads as it does: per scene, its cue terms stacked up (positive) and down
 * (negative) from a zero line, one row for valence and one for arousal; they add up to the mood
 * drawn above. */
/* The larger of a scene's positive and negative sums of drawn terms. */
static double cue_stack(const double *parts)
{
    double up = 0, down = 0;
    for (int c = 0; c < ES_CUE_COUNT; c++)
        if (fabs(parts[c]) >= CUE_MIN) *(parts[c] > 0 ? &up : &down) += fabs(parts[c]);
    return fmax(up, down);
}

static void cue_rows(FILE *f, const es_pipeline *p)
{
    double duration = p->analysis.info.duration, tallest = 0;
    for (size_t s = 0; s < p->n_scenes; s++)
        tallest = fmax(tallest, fmax(cue_stack(p->scenes[s].valence_parts), cue_stack(p->scenes[s].arousal_parts)));
    double unit = tallest > 0 ? fmin(CUE_UNIT, (CUE_ROW / 2.0 - 14) / tallest) : CUE_UNIT;
    for (int row = 0; row < 2; row++) {
        double top = CUES_TOP + row * CUE_ROW, zero = top + CUE_ROW / 2.0 + 6;
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" fill=\"#444\">%s: what each cue adds</text>\n", MARGIN, top + 10,
                row ? "arousal" : "valence");
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#bbb\"/>\n", MARGIN, zero,
                WIDTH - MARGIN, zero);
        for (size_t s = 0; s < p->n_scenes; s++) {
            const es_scene_affect *sc = &p->scenes[s];
            const double *parts = row ? sc->arousal_parts : sc->valence_parts;
            double x0 = x_of(sc->start, duration), x1 = x_of(sc->end, duration);
            double w = fmax(2, 0.6 * (x1 - x0)), x = 0.5 * (x0 + x1) - 0.5 * w, up = 0, down = 0;
            for (int c = 0; c < ES_CUE_COUNT; c++) {
                double term = parts[c], h = unit * fabs(term);
                if (!(fabs(term) >= CUE_MIN)) continue;
                double y = term > 0 ? zero - up - h : zero + down;
                if (term > 0) up += h;
                else down += h;
                fprintf(f, "<rect class=\"cue\" data-cue=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                           "fill=\"%s\"><title>%.1f s: %s %+.2f</title></rect>\n",
                        es_cue_name((es_cue)c), x, y, w, h, cue_colour[c], sc->start, es_cue_name((es_cue)c), term);
            }
        }
    }
    for (int c = 0; c < ES_CUE_COUNT; c++) {
        double x = MARGIN + c * (WIDTH - 2.0 * MARGIN) / ES_CUE_COUNT;
        fprintf(f, "<g class=\"legend\"><rect x=\"%.1f\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                   "<text x=\"%.1f\" y=\"%d\">%s</text></g>\n",
                x, LEGEND_TOP, cue_colour[c], x + 14, LEGEND_TOP + 9, es_cue_name((es_cue)c));
    }
}

static void write_svg(FILE *f, const es_pipeline *p)
{
    double duration = p->analysis.info.duration;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n", WIDTH, HEIGHT, WIDTH, HEIGHT);
    fprintf(f, "<title>emsync timeline: ");
    es_xml_text(f, p->input);
    fprintf(f, "</title>\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");

    /* a thumbnail from the middle of each scene, clipped to the scene's width */
    for (size_t s = 0; s < p->n_scenes; s++) {
        const es_scene_affect *sc = &p->scenes[s];
        double x0 = x_of(sc->start, duration), x1 = x_of(sc->end, duration);
        const es_thumb *t = es_sampler_thumb_at(&p->sampler, 0.5 * (sc->start + sc->end));
        fprintf(f, "<g class=\"scene\"><rect x=\"%.1f\" y=\"20\" width=\"%.1f\" height=\"%d\" fill=\"#eee\" stroke=\"#999\"/>\n",
                x0, x1 - x0, THUMB_H);
        AVPacket *png = NULL;
        if (t && encode_png(t, &png) == 0) {
            double w = (double)t->width * THUMB_H / t->height;
            fprintf(f, "<svg x=\"%.1f\" y=\"20\" width=\"%.1f\" height=\"%d\"><image class=\"thumb\" width=\"%.1f\" "
                       "height=\"%d\" href=\"data:image/png;base64,", x0, x1 - x0, THUMB_H, w, THUMB_H);
            base64(f, png->data, (size_t)png->size);
            fprintf(f, "\"/></svg>\n");
            av_packet_free(&png);
        }
        fprintf(f, "<text x=\"%.1f\" y=\"14\">%.1f s</text></g>\n", x0 + 2, sc->start);
    }

    /* axes for the mood curves */
    fprintf(f, "<g class=\"axes\" stroke=\"#bbb\"><line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
               "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/></g>\n",
            MARGIN, y_of(0), WIDTH - MARGIN, y_of(0), MARGIN, CURVE_TOP, MARGIN, CURVE_TOP + CURVE_H);
    fprintf(f, "<text x=\"4\" y=\"%.1f\">+1</text><text x=\"4\" y=\"%.1f\">0</text><text x=\"4\" y=\"%.1f\">-1</text>\n",
            y_of(1) + 4, y_of(0) + 4, y_of(-1));
    curve(f, p, 0, "valence", "#1f77b4");
    curve(f, p, 1, "arousal", "#d62728");
    fprintf(f, "<text x=\"%d\" y=\"%d\" fill=\"#1f77b4\">valence</text><text x=\"%d\" y=\"%d\" fill=\"#d62728\">arousal</text>\n",
            WIDTH - 160, CURVE_TOP - 6, WIDTH - 100, CURVE_TOP - 6);

    /* cuts across the whole height */
    for (size_t i = 0; i < p->n_bounds; i++) {
        double x = x_of(p->bounds[i], duration);
        fprintf(f, "<line class=\"cut\" x1=\"%.1f\" y1=\"16\" x2=\"%.1f\" y2=\"%d\" stroke=\"black\" "
                   "stroke-dasharray=\"4 3\"><title>cut at %.3f s</title></line>\n", x, x, CHORD_TOP + 40, p->bounds[i]);
    }

    /* chord onsets with their names */
    for (size_t i = 0; i < p->score.n_chords; i++) {
        const es_chord *c = &p->score.chords[i];
        double x = x_of(c->time, duration);
        fprintf(f, "<g class=\"chord\"><line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#2ca02c\"/>"
                   "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" transform=\"rotate(-60 %.1f %d)\">",
                x, CHORD_TOP, x, CHORD_TOP + 12, x, CHORD_TOP + 24, x, CHORD_TOP + 24);
        es_xml_text(f, c->name);
        fprintf(f, "</text></g>\n");
    }

    cue_rows(f, p);

    /* time axis */
    double step = duration > 600 ? 60 : duration > 120 ? 10 : duration > 30 ? 5 : 1;
    while (duration / step > 200) step *= 2; /* a day-long video still gets a readable axis */
    for (double t = 0; t <= duration; t += step)
        fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#666\">%.0f</text>\n",
                x_of(t, duration), CUES_TOP - 8, t);
    fprintf(f, "</svg>\n");
}

static void write_svg_stream(FILE *f, const void *p) { write_svg(f, p); }

int es_timeline_write_svg(const es_pipeline *p, const char *path)
{
    return es_write_stream(path, write_svg_stream, p);
}
