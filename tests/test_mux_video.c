/* Muxing the music into the generated clips, checked by reading the results back with
 * libavformat/libavcodec: video packets byte-identical to the input's (count, data hash, size,
 * pts), the music's codec, start and length, faststart box order, the original audio copied,
 * mixed (its 440 Hz tone measured by a Goertzel filter at the expected -8 dB) or dropped, the
 * music read as the video goes against the music given whole, and failures that leave no file
 * behind. The music is a 660 Hz sine, so no soundfont is needed. */
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/error.h"
#include "media/decode.h"
#include "media/mux.h"

#define RATE ES_MUX_RATE
#define MUSIC_HZ 660.0
#define MUSIC_AMP 0.25
#define TONE_AMP 0.125 /* ffmpeg's sine source: amplitude 1/8 */

typedef struct {
    uint64_t hash;
    int size;
    double pts;
} packet_info;

typedef struct {
    int n_audio;                 /* audio streams */
    const char *audio_codec[3];
    int n_video;
    packet_info *video;          /* first video stream's packets */
    double audio_start, audio_end; /* first audio stream: presented start (after priming) and end */
    packet_info *audio2;         /* second audio stream's packets (or first of input) */
    int n_audio2;
} file_info;

static uint64_t fnv1a(const uint8_t *p, int n)
{
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* Reads every packet: the video packets, the audio start/end of the first audio stream and the
 * packets of audio stream number `second` (0-based among audio streams, -1 none). */
static int read_info(const char *path, int second, file_info *fi)
{
    memset(fi, 0, sizeof *fi);
    AVFormatContext *ic = NULL;
    if (avformat_open_input(&ic, path, NULL, NULL) < 0) return -1;
    if (avformat_find_stream_info(ic, NULL) < 0) {
        avformat_close_input(&ic);
        return -1;
    }
    int vi = -1, a0 = -1, a2 = -1;
    for (unsigned i = 0; i < ic->nb_streams; i++) {
        AVCodecParameters *par = ic->streams[i]->codecpar;
        if (par->codec_type == AVMEDIA_TYPE_VIDEO && vi < 0) vi = (int)i;
        if (par->codec_type == AVMEDIA_TYPE_AUDIO) {
            if (fi->n_audio == 0) a0 = (int)i;
            if (fi->n_audio == second) a2 = (int)i;
            if (fi->n_audio < 3) fi->audio_codec[fi->n_audio] = avcodec_get_name(par->codec_id);
            fi->n_audio++;
        }
    }
    size_t cap_v = 0, cap_a = 0;
    int first_audio = 1;
    AVPacket *p = av_packet_alloc();
    while (av_read_frame(ic, p) >= 0) {
        AVStream *st = ic->streams[p->stream_index];
        double t = p->pts == AV_NOPTS_VALUE ? NAN : p->pts * av_q2d(st->time_base);
        packet_info pi = {fnv1a(p->data, p->size), p->size, t};
        if (p->stream_index == vi) {
            es_grow((void **)&fi->video, &cap_v, (size_t)fi->n_video + 1, sizeof pi);
            fi->video[fi->n_video++] = pi;
        }
        if (p->stream_index == a2) {
            es_grow((void **)&fi->audio2, &cap_a, (size_t)fi->n_audio2 + 1, sizeof pi);
            fi->audio2[fi->n_audio2++] = pi;
        }
        if (p->stream_index == a0) {
            if (first_audio) {
                /* priming samples the decoder drops: skip side data (mp4) or the codec delay (mkv) */
                size_t sd_size = 0;
                uint8_t *sd = av_packet_get_side_data(p, AV_PKT_DATA_SKIP_SAMPLES, &sd_size);
                int skip = sd && sd_size >= 4 ? (int)(sd[0] | sd[1] << 8 | sd[2] << 16 | (uint32_t)sd[3] << 24)
                                              : st->codecpar->initial_padding;
                fi->audio_start = t + skip / (double)st->codecpar->sample_rate;
                first_audio = 0;
            }
            double end = t + p->duration * av_q2d(st->time_base);
            if (end > fi->audio_end) fi->audio_end = end;
        }
        av_packet_unref(p);
    }
    av_packet_free(&p);
    avformat_close_input(&ic);
    return 0;
}

static void free_info(file_info *fi)
{
    free(fi->video);
    free(fi->audio2);
}

/* Decodes audio stream number `which` (among audio streams) from t0 to t1 seconds (decoded
 * samples counted from the first) and returns the amplitudes of sines at f1 and f2 in the left
 * channel (Goertzel) and the peak sample of all channels in that window. */
static int tone_window(const char *path, int which, double t0, double t1, double f1, double f2, double *a1,
                       double *a2, double *peak)
{
    AVFormatContext *ic = NULL;
    AVCodecContext *dec = NULL;
    AVPacket *p = av_packet_alloc();
    AVFrame *fr = av_frame_alloc();
    int ret = -1, si = -1, n = 0;
    double s1[2] = {0}, s2[2] = {0}; /* Goertzel states */
    *peak = 0;
    if (avformat_open_input(&ic, path, NULL, NULL) < 0 || avformat_find_stream_info(ic, NULL) < 0) goto end;
    for (unsigned i = 0, k = 0; i < ic->nb_streams; i++)
        if (ic->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO && k++ == (unsigned)which) si = (int)i;
    if (si < 0) goto end;
    const AVCodec *c = avcodec_find_decoder(ic->streams[si]->codecpar->codec_id);
    dec = avcodec_alloc_context3(c);
    avcodec_parameters_to_context(dec, ic->streams[si]->codecpar);
    if (avcodec_open2(dec, c, NULL) < 0) goto end;
    int rate = dec->sample_rate;
    double c1 = 2 * cos(2 * M_PI * f1 / rate), c2 = 2 * cos(2 * M_PI * f2 / rate);
    long pos = 0, from = lround(t0 * rate), to = lround(t1 * rate);
    int eof = 0;
    while (!eof && pos < to) {
        if (av_read_frame(ic, p) < 0) {
            eof = 1;
            avcodec_send_packet(dec, NULL);
        } else {
            if (p->stream_index == si) avcodec_send_packet(dec, p);
            av_packet_unref(p);
        }
        while (avcodec_receive_frame(dec, fr) >= 0) {
            for (int i = 0; i < fr->nb_samples; i++, pos++) {
                float x = fr->format == AV_SAMPLE_FMT_FLTP ? ((float *)fr->data[0])[i]
                        : fr->format == AV_SAMPLE_FMT_FLT  ? ((float *)fr->data[0])[i * fr->ch_layout.nb_channels]
                                                           : 0.0f;
                if (pos < from || pos >= to) continue;
                for (int ch = 0; ch < fr->ch_layout.nb_channels && fr->format == AV_SAMPLE_FMT_FLTP; ch++)
                    *peak = fmax(*peak, fabs(((float *)fr->data[ch])[i]));
                if (fr->format == AV_SAMPLE_FMT_FLT) *peak = fmax(*peak, fabs(x));
                double y1 = x + c1 * s1[0] - s1[1], y2 = x + c2 * s2[0] - s2[1];
                s1[1] = s1[0], s1[0] = y1;
                s2[1] = s2[0], s2[0] = y2;
                n++;
            }
        }
    }
    if (n == 0) goto end;
    *a1 = 2 * sqrt(s1[0] * s1[0] + s1[1] * s1[1] - c1 * s1[0] * s1[1]) / n;
    *a2 = 2 * sqrt(s2[0] * s2[0] + s2[1] * s2[1] - c2 * s2[0] * s2[1]) / n;
    ret = 0;
end:
    av_frame_free(&fr);
    av_packet_free(&p);
    avcodec_free_context(&dec);
    avformat_close_input(&ic);
    return ret;
}

static int tone_levels(const char *path, int which, double f1, double f2, double *a1, double *a2, double *peak)
{
    return tone_window(path, which, 2.0, 8.0, f1, f2, a1, a2, peak);
}

/* Order of the top-level boxes "moov" and "mdat": 1 when moov comes first. */
static int moov_first(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    unsigned char h[16];
    long at = 0;
    int result = 0;
    while (fseek(f, at, SEEK_SET) == 0 && fread(h, 1, 8, f) == 8) {
        uint64_t size = (uint64_t)h[0] << 24 | h[1] << 16 | h[2] << 8 | h[3];
        if (size == 1) {
            if (fread(h + 8, 1, 8, f) != 8) break;
            size = 0;
            for (int i = 8; i < 16; i++) size = size << 8 | h[i];
        }
        if (!memcmp(h + 4, "moov", 4)) { result = 1; break; }
        if (!memcmp(h + 4, "mdat", 4) || size < 8) break;
        at += (long)size;
    }
    fclose(f);
    return result;
}

static float *music;
static size_t music_frames;
static char dir[64];
static double last_progress;
static int progress_calls, progress_monotonic = 1;

/* Records the calls; with user pointing at a fraction, cancels once that is reached. */
static int on_progress(void *user, double f)
{
    if (f < last_progress || f < 0 || f > 1) progress_monotonic = 0;
    last_progress = f;
    progress_calls++;
    return user && f >= *(const double *)user;
}

static int do_mux(const char *in_name, const char *out_name, es_original_audio mode, char *out_path)
{
    char in_path[512];
    snprintf(in_path, sizeof in_path, "%s/%s", test_data_dir(), in_name);
    sprintf(out_path, "%s/%s", dir, out_name);
    es_mux_request r = {.input_path = in_path, .output_path = out_path, .pcm = music, .n_frames = music_frames,
                        .duration = 20.0, .original_audio = mode};
    int ret = es_mux(&r);
    if (ret) fprintf(stderr, "mux %s -> %s: %s\n", in_name, out_name, es_error());
    return ret;
}

/* The output's video equals the input's packet for packet. With `relative`, pts are compared
 * from the first packet on (Matroska moves every stream when a copied one starts below 0). */
static void check_video_copied(const file_info *in, const file_info *out, int relative)
{
    CHECK(in->n_video == 500); /* 20 s at 25 fps */
    CHECK(out->n_video == in->n_video);
    int same_data = 1, same_pts = 1;
    for (int i = 0; i < in->n_video && i < out->n_video; i++) {
        same_data &= in->video[i].hash == out->video[i].hash && in->video[i].size == out->video[i].size;
        double shift = relative ? out->video[0].pts - in->video[0].pts : 0.0;
        same_pts &= fabs(in->video[i].pts + shift - out->video[i].pts) < 1e-6;
    }
    CHECK(same_data);
    CHECK(same_pts);
}

static void test_container(const char *in_name, const char *out_name, const char *codec, int frame_size)
{
    char out[512], in_path[512];
    snprintf(in_path, sizeof in_path, "%s/%s", test_data_dir(), in_name);
    file_info in, o;
    CHECK(read_info(in_path, 0, &in) == 0);

    last_progress = 0, progress_calls = 0, progress_monotonic = 1;
    char in2[512];
    snprintf(in2, sizeof in2, "%s/%s", test_data_dir(), in_name);
    sprintf(out, "%s/%s", dir, out_name);
    es_mux_request r = {.input_path = in2, .output_path = out, .pcm = music, .n_frames = music_frames,
                        .duration = 20.0, .progress = on_progress};
    CHECK(es_mux(&r) == 0);
    CHECK(progress_calls > 10 && progress_monotonic && last_progress == 1.0);
    CHECK(read_info(out, 0, &o) == 0);
    check_video_copied(&in, &o, 0);
    CHECK(o.n_audio == 1);
    CHECK(o.audio_codec[0] && !strcmp(o.audio_codec[0], codec));
    double frame = frame_size / (double)RATE;
    fprintf(stderr, "%s: audio %.4f..%.4f s, video %.4f s\n", out_name, o.audio_start, o.audio_end, o.video[0].pts);
    /* the music starts with the first picture (at 7 ms in the Matroska clip, as ffmpeg wrote it);
     * Matroska timestamps are in ms */
    CHECK_NEAR(o.audio_start, in.video[0].pts, 0.001);
    CHECK_NEAR(o.audio_end - o.audio_start, 20.0, frame);
    if (!strcmp(codec, "aac")) CHECK(moov_first(out));

    /* the music comes through: 660 Hz at its level, no trace of the original 440 Hz tone */
    double a440, a660, peak;
    CHECK(tone_levels(out, 0, 440, MUSIC_HZ, &a440, &a660, &peak) == 0);
    fprintf(stderr, "%s: 440 Hz %.5f, 660 Hz %.4f, peak %.3f\n", out_name, a440, a660, peak);
    CHECK_NEAR(a660, MUSIC_AMP, 0.02);
    CHECK(a440 < 0.002);
    /* the music is 19 s long: the last second is padded with silence */
    CHECK(tone_window(out, 0, 19.05, 19.95, 440, MUSIC_HZ, &a440, &a660, &peak) == 0);
    CHECK(a660 < 0.002 && peak < 0.01);
    CHECK(tone_window(out, 0, 18.0, 18.9, 440, MUSIC_HZ, &a440, &a660, &peak) == 0);
    CHECK_NEAR(a660, MUSIC_AMP, 0.02);
    free_info(&o);

    /* TRACK: the original audio as a second stream, its packets copied unchanged */
    sprintf(out, "track-%s", out_name);
    char track[512];
    CHECK(do_mux(in_name, out, ES_ORIGINAL_AUDIO_TRACK, track) == 0);
    CHECK(read_info(track, 1, &o) == 0);
    file_info in_audio;
    CHECK(read_info(in_path, 0, &in_audio) == 0); /* n_audio2 = input's first audio stream */
    check_video_copied(&in, &o, 1);
    CHECK_NEAR(o.audio_start, o.video[0].pts, 0.001);
    CHECK(o.n_audio == 2);
    CHECK(o.audio_codec[0] && !strcmp(o.audio_codec[0], codec));
    CHECK(o.audio_codec[1] && in.audio_codec[0] && !strcmp(o.audio_codec[1], in.audio_codec[0]));
    CHECK(o.n_audio2 == in_audio.n_audio2 && o.n_audio2 > 0);
    int same = 1;
    for (int i = 0; i < o.n_audio2 && i < in_audio.n_audio2; i++) same &= o.audio2[i].hash == in_audio.audio2[i].hash;
    CHECK(same);
    free_info(&in_audio);
    free_info(&o);

    /* MIX: the 440 Hz tone under the music, 8 dB down */
    sprintf(out, "mix-%s", out_name);
    char mix[512];
    CHECK(do_mux(in_name, out, ES_ORIGINAL_AUDIO_MIX, mix) == 0);
    CHECK(read_info(mix, 0, &o) == 0);
    check_video_copied(&in, &o, 0);
    CHECK(o.n_audio == 1);
    CHECK(tone_levels(mix, 0, 440, MUSIC_HZ, &a440, &a660, &peak) == 0);
    fprintf(stderr, "%s: 440 Hz %.5f, 660 Hz %.4f, peak %.3f\n", out, a440, a660, peak);
    CHECK_NEAR(a440, TONE_AMP * pow(10, ES_MUX_ORIGINAL_DB / 20), 0.005);
    CHECK_NEAR(a660, MUSIC_AMP, 0.02);
    CHECK(peak < 1.0);
    free_info(&o);
    free_info(&in);
}

/* A reader over the test music, as the pipeline's stream reads: n frames, fewer at the end;
 * fail_at >= 0 makes it fail once that frame is reached. */
typedef struct {
    size_t at;
    long fail_at;
} music_reader;

static long read_music(void *user, float *pcm, size_t n)
{
    music_reader *r = user;
    if (r->fail_at >= 0 && r->at + n > (size_t)r->fail_at) return es_fail("music: render failed");
    size_t k = music_frames - r->at < n ? music_frames - r->at : n;
    memcpy(pcm, music + 2 * r->at, 2 * k * sizeof *pcm);
    r->at += k;
    return (long)k;
}

/* The music read as the video goes makes the same file as the music given whole, in every
 * mode; a reader that fails fails the mux with its error, leaving nothing. */
static void test_reader(void)
{
    static const char *const names[2] = {"out.mp4", "out.mkv"};
    for (int c = 0; c < 2; c++) {
        for (int mode = ES_ORIGINAL_AUDIO_OFF; mode <= ES_ORIGINAL_AUDIO_TRACK; mode++) {
            char in_path[512], whole[512], read[512];
            snprintf(in_path, sizeof in_path, "%s/%s", test_data_dir(), c ? "cuts.mkv" : "cuts.mp4");
            snprintf(whole, sizeof whole, "%s/whole-%d-%s", dir, mode, names[c]);
            snprintf(read, sizeof read, "%s/read-%d-%s", dir, mode, names[c]);
            es_mux_request r = {.input_path = in_path, .output_path = whole, .pcm = music, .n_frames = music_frames,
                                .duration = 20.0, .original_audio = (es_original_audio)mode};
            CHECK(es_mux(&r) == 0);
            music_reader mr = {0, -1};
            r = (es_mux_request){.input_path = in_path, .output_path = read, .read = read_music, .read_user = &mr,
                                 .duration = 20.0, .original_audio = (es_original_audio)mode};
            CHECK(es_mux(&r) == 0);
            CHECK(mr.at == music_frames);
            /* Matroska files carry a random segment UID: there, the packets are compared */
            if (!c) CHECK(check_same_bytes(whole, read));
            file_info a, b;
            CHECK(read_info(whole, 0, &a) == 0 && read_info(read, 0, &b) == 0);
            int same = a.n_audio2 > 0 && a.n_audio2 == b.n_audio2 && a.n_video == b.n_video;
            for (int i = 0; same && i < a.n_audio2; i++)
                same = a.audio2[i].hash == b.audio2[i].hash && a.audio2[i].pts == b.audio2[i].pts;
            CHECK(same);
            free_info(&a);
            free_info(&b);
            unlink(whole);
            unlink(read);
        }
    }
    char in_path[512], out[512];
    snprintf(in_path, sizeof in_path, "%s/cuts.mp4", test_data_dir());
    snprintf(out, sizeof out, "%s/failed.mp4", dir);
    music_reader mr = {0, 5 * RATE};
    es_mux_request r = {.input_path = in_path, .output_path = out, .read = read_music, .read_user = &mr, .duration = 20.0};
    CHECK(es_mux(&r) == -1 && strstr(es_error(), "render failed"));
    CHECK(access(out, F_OK) != 0);
}

static void test_loud_mix_does_not_clip(void)
{
    /* full-scale music plus the tone: the limiter keeps the sum below full scale */
    for (size_t i = 0; i < music_frames; i++)
        music[2 * i] = music[2 * i + 1] = (float)(0.99 * sin(2 * M_PI * MUSIC_HZ * (double)i / RATE));
    char out[512];
    CHECK(do_mux("cuts.mp4", "loud.mp4", ES_ORIGINAL_AUDIO_MIX, out) == 0);
    double a440, a660, peak;
    CHECK(tone_levels(out, 0, 440, MUSIC_HZ, &a440, &a660, &peak) == 0);
    fprintf(stderr, "loud mix: peak %.3f, 660 Hz %.3f\n", peak, a660);
    CHECK(peak < 1.0);
    CHECK(a660 > 0.6);
    for (size_t i = 0; i < music_frames; i++)
        music[2 * i] = music[2 * i + 1] = (float)(MUSIC_AMP * sin(2 * M_PI * MUSIC_HZ * (double)i / RATE));
}

static void test_other_cases(void)
{
    char out[512];
    file_info o;
    double a440, a660, peak;
    /* original audio at 44.1 kHz, 440 Hz left and 550 Hz right, starting at 3 s: resampled, kept
     * on its side (no 550 Hz on the left) and placed by its timestamp (nothing before 3 s) */
    CHECK(do_mux("late44k.mp4", "late-mix.mp4", ES_ORIGINAL_AUDIO_MIX, out) == 0);
    double a550, before440;
    CHECK(tone_window(out, 0, 4.0, 8.0, 440, 550, &a440, &a550, &peak) == 0);
    CHECK(tone_window(out, 0, 0.5, 2.9, 440, MUSIC_HZ, &before440, &a660, &peak) == 0);
    fprintf(stderr, "late44k mix: 440 Hz %.4f, 550 Hz %.4f (left), 440 Hz before 3 s %.5f\n", a440, a550, before440);
    CHECK_NEAR(a440, TONE_AMP * pow(10, ES_MUX_ORIGINAL_DB / 20), 0.005);
    CHECK(a550 < 0.003);
    CHECK(before440 < 0.002);
    CHECK_NEAR(a660, MUSIC_AMP, 0.02);
    /* the tone starts at 3 s, within a few ms: 2.90-2.99 s silent, 3.01-3.10 s sounding */
    CHECK(tone_window(out, 0, 2.90, 2.99, 440, MUSIC_HZ, &a440, &a660, &peak) == 0);
    CHECK(a440 < 0.01);
    CHECK(tone_window(out, 0, 3.01, 3.10, 440, MUSIC_HZ, &a440, &a660, &peak) == 0);
    CHECK(a440 > 0.035);

    /* no original audio: MIX and TRACK give the music alone */
    CHECK(do_mux("noaudio.mp4", "noaudio-mix.mp4", ES_ORIGINAL_AUDIO_MIX, out) == 0);
    CHECK(read_info(out, 0, &o) == 0 && o.n_audio == 1 && o.n_video == 500);
    free_info(&o);
    CHECK(do_mux("noaudio.mp4", "noaudio-track.mkv", ES_ORIGINAL_AUDIO_TRACK, out) == 0);
    CHECK(read_info(out, 0, &o) == 0 && o.n_audio == 1 && o.n_video == 500);
    free_info(&o);

    /* mp4 -> mkv and mkv -> mp4 */
    CHECK(do_mux("cuts.mp4", "cross.mkv", ES_ORIGINAL_AUDIO_OFF, out) == 0);
    CHECK(read_info(out, 0, &o) == 0 && o.n_video == 500 && o.audio_codec[0] && !strcmp(o.audio_codec[0], "opus"));
    free_info(&o);
    CHECK(do_mux("cuts.mkv", "cross.mp4", ES_ORIGINAL_AUDIO_OFF, out) == 0);
    CHECK(read_info(out, 0, &o) == 0 && o.n_video == 500 && o.audio_codec[0] && !strcmp(o.audio_codec[0], "aac"));
    free_info(&o);

    /* TRACK where the container cannot take the original codec (Opus in .mov): re-encoded as AAC */
    CHECK(do_mux("cuts.mkv", "reencode.mov", ES_ORIGINAL_AUDIO_TRACK, out) == 0);
    CHECK(read_info(out, 0, &o) == 0 && o.n_audio == 2);
    CHECK(o.audio_codec[0] && o.audio_codec[1] && !strcmp(o.audio_codec[0], "aac") && !strcmp(o.audio_codec[1], "aac"));
    free_info(&o);
    CHECK(tone_levels(out, 1, 440, MUSIC_HZ, &a440, &a660, &peak) == 0);
    CHECK_NEAR(a440, TONE_AMP, 0.01); /* the original, at its own level */
    CHECK(a660 < 0.002);

    /* a video starting at 2 s: everything moves to start at 0, the music with the first picture */
    char offset_in[512];
    file_info in;
    snprintf(offset_in, sizeof offset_in, "%s/offset.mkv", test_data_dir());
    CHECK(read_info(offset_in, 0, &in) == 0);
    CHECK(do_mux("offset.mkv", "offset-out.mkv", ES_ORIGINAL_AUDIO_TRACK, out) == 0);
    CHECK(read_info(out, 0, &o) == 0);
    CHECK(in.n_video == 500 && o.n_video == 500);
    CHECK_NEAR(in.video[0].pts, 2.0, 1e-9);
    /* the copied original starts 21 ms before the picture (AAC priming); Matroska then moves
     * every stream so that nothing is negative */
    CHECK(o.video[0].pts >= 0 && o.video[0].pts < 0.025);
    check_video_copied(&in, &o, 1);
    CHECK_NEAR(o.audio_start, o.video[0].pts, 0.001);
    free_info(&o);
    free_info(&in);

    /* the duration comes from the video when not given */
    char in_path[512];
    snprintf(in_path, sizeof in_path, "%s/short.mp4", test_data_dir());
    sprintf(out, "%s/short-out.mp4", dir);
    es_mux_request r = {.input_path = in_path, .output_path = out, .pcm = music, .n_frames = music_frames};
    CHECK(es_mux(&r) == 0);
    CHECK(read_info(out, 0, &o) == 0);
    CHECK_NEAR(o.audio_end - o.audio_start, 2.5, 1024.0 / RATE);
    free_info(&o);
    /* no music at all: silence of the right length */
    r.pcm = NULL, r.n_frames = 0;
    CHECK(es_mux(&r) == 0);
}

/* Two captures joined (2 s + 2 s at 25 fps): sizes.ts, the clock restarting half way, which the
 * muxers refused ("write failed": timestamps going back); jump.ts (tests/gen/media.sh), the clock
 * leaping 100 s ahead, which gave a 100 s frozen gap the analysis did not have. Now the second
 * half follows the first, every packet copied, and the output's frame times are the analysis's
 * of the input (0..4 s), in every mode. */
static void test_joined_streams(void)
{
    const char *ins[] = {"sizes.ts", "jump.ts"};
    const char *outs[] = {"joined.mkv", "joined.mp4"};
    for (int n = 0; n < 2; n++) {
        es_media_analysis in_a;
        char in_path[512];
        snprintf(in_path, sizeof in_path, "%s/%s", test_data_dir(), ins[n]);
        CHECK(es_media_analyze(in_path, NULL, &in_a) == 0);
        CHECK(in_a.n_frames == 100 && fabs(in_a.frames[50].time - 2.0) < 1e-6);
        for (int k = 0; k < 4; k++) {
            char out[512];
            file_info in, o;
            es_media_analysis out_a;
            es_original_audio mode = k < 2 ? ES_ORIGINAL_AUDIO_OFF : ES_ORIGINAL_AUDIO_TRACK - (k == 3);
            CHECK(do_mux(ins[n], outs[k % 2], mode, out) == 0);
            CHECK(read_info(in_path, -1, &in) == 0 && read_info(out, -1, &o) == 0);
            /* (the packets are not byte-equal here: both muxers rewrite H.264's start codes) */
            CHECK(in.n_video == 100 && o.n_video == 100);
            CHECK(es_media_analyze(out, NULL, &out_a) == 0);
            CHECK(out_a.n_frames == in_a.n_frames);
            int same_times = 1;
            for (size_t i = 0; i < out_a.n_frames && i < in_a.n_frames; i++)
                same_times &= fabs(out_a.frames[i].time - in_a.frames[i].time) < 0.01;
            if (!same_times) fprintf(stderr, "  %s -> %s (mode %d): frame 50 at %g\n", ins[n], outs[k % 2], (int)mode,
                                     out_a.n_frames > 50 ? out_a.frames[50].time : -1);
            CHECK(same_times);
            CHECK(out_a.info.duration < 4.1);
            es_media_analysis_free(&out_a);
            free_info(&in);
            free_info(&o);
        }
        es_media_analysis_free(&in_a);
    }
}

/* Damaged inputs the analysis accepts (found by fuzzing it: tests/data/media/crash-mux-*) must
 * mux too, else a whole run fails at its last step. They failed with: packets without any
 * timestamp ("write failed"), an audio stream without a codec or whose decoder cannot be opened
 * or fails on a packet ("original audio: ..."), and a read error mid-file. Now: timestamps are
 * made up as the analysis makes them, an unusable original audio is left out (the music alone)
 * and a read error ends the input. crash-pts-jump.ts has one picture timestamp damaged to 3.3 h,
 * which the analysis now ignores, so the mux must too. crash-mux-empty-queue.mkv mixes an original
 * audio that gives no samples (pointer arithmetic on the empty queue's NULL buffer, caught by
 * clang's UBSan in the fuzzer). The output holds the frames the analysis
 * saw, at its times. */
static void test_damaged_inputs(void)
{
    const char *names[] = {"crash-mux-no-pts.ts", "crash-mux-audio-none.mkv", "crash-mux-audio-badopen.avi",
                           "crash-mux-audio-eperm.mp4", "crash-mux-read-eagain.ts", "crash-pts-jump.ts",
                           "crash-mux-empty-queue.mkv"};
    const char *outs[] = {"damaged.mkv", "damaged.mp4"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char in_path[512];
        snprintf(in_path, sizeof in_path, "tests/data/media/%s", names[i]);
        es_media_analysis in_a;
        CHECK(es_media_analyze(in_path, NULL, &in_a) == 0);
        for (int mode = ES_ORIGINAL_AUDIO_MIX; mode <= ES_ORIGINAL_AUDIO_TRACK; mode++)
            for (int k = 0; k < 2; k++) {
                char out[600];
                snprintf(out, sizeof out, "%s/%s", dir, outs[k]);
                es_mux_request r = {.input_path = in_path, .output_path = out, .pcm = music, .n_frames = music_frames,
                                    .duration = in_a.info.duration, .original_audio = (es_original_audio)mode};
                int rc = es_mux(&r);
                if (rc) fprintf(stderr, "  %s -> %s: %s\n", names[i], outs[k], es_error());
                CHECK(rc == 0);
                es_media_analysis out_a;
                CHECK(es_media_analyze(out, NULL, &out_a) == 0);
                /* (Matroska may move every stream by the Opus priming, 6.5 ms) */
                int same = out_a.n_frames == in_a.n_frames;
                for (size_t j = 0; same && j < out_a.n_frames; j++)
                    same = fabs(out_a.frames[j].time - in_a.frames[j].time) < 0.01;
                if (!same) fprintf(stderr, "  %s -> %s: %zu frames, %zu in\n", names[i], outs[k], out_a.n_frames, in_a.n_frames);
                CHECK(same);
                es_media_analysis_free(&out_a);
                unlink(out);
            }
        es_media_analysis_free(&in_a);
    }
}

/* Count of entries in dir other than . and .. */
static int dir_entries(const char *path)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", path);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p && fscanf(p, "%d", &n) != 1) n = -1;
    if (p) pclose(p);
    return n;
}

static void test_failures(void)
{
    char fail_dir[600], out[700], in_path[512];
    snprintf(fail_dir, sizeof fail_dir, "%s/fail", dir);
    CHECK(mkdir(fail_dir, 0755) == 0);
    es_mux_request r = {.pcm = music, .n_frames = music_frames, .duration = 20.0};
    struct {
        const char *in, *out, *why;
    } cases[] = {
        {"cuts.mp4", "out.webm", "cannot hold h264"},      /* WebM takes VP8/VP9/AV1 only */
        {"cuts.mp4", "out.avi", "unsupported output"},
        {"truncated.mp4", "out.mp4", "truncated.mp4"},
        {"empty.mp4", "out.mp4", "empty.mp4"},
        {"text.txt", "out.mkv", "text.txt"},
        {"audio-only.m4a", "out.mp4", "no video stream"},
        {"image.png", "out.mp4", "not a video"},
        {"missing.mp4", "out.mp4", "missing.mp4"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(in_path, sizeof in_path, "%s/%s", test_data_dir(), cases[i].in);
        snprintf(out, sizeof out, "%s/%s", fail_dir, cases[i].out);
        r.input_path = in_path, r.output_path = out;
        CHECK(es_mux(&r) == -1);
        fprintf(stderr, "  %s -> %s: %s\n", cases[i].in, cases[i].out, es_error());
        CHECK(strstr(es_error(), cases[i].why) != NULL);
        CHECK(dir_entries(fail_dir) == 0);
    }

    /* a failing mux does not touch an existing output */
    snprintf(out, sizeof out, "%s/keep.mp4", fail_dir);
    FILE *f = fopen(out, "w");
    fputs("old", f);
    fclose(f);
    snprintf(in_path, sizeof in_path, "%s/truncated.mp4", test_data_dir());
    r.input_path = in_path, r.output_path = out;
    CHECK(es_mux(&r) == -1);
    char buf[8] = {0};
    f = fopen(out, "r");
    CHECK(f && fread(buf, 1, 7, f) == 3 && !strcmp(buf, "old"));
    if (f) fclose(f);
    unlink(out);
    CHECK(dir_entries(fail_dir) == 0);

    /* cancelled half way, after the header and half the packets are written: no file, and an
     * existing one untouched */
    snprintf(out, sizeof out, "%s/keep.mkv", fail_dir);
    f = fopen(out, "w");
    fputs("old", f);
    fclose(f);
    double half = 0.5;
    snprintf(in_path, sizeof in_path, "%s/cuts.mkv", test_data_dir());
    r.input_path = in_path, r.output_path = out, r.progress = on_progress, r.progress_user = &half;
    r.original_audio = ES_ORIGINAL_AUDIO_MIX;
    last_progress = 0, progress_calls = 0;
    CHECK(es_mux(&r) == -1);
    CHECK(strstr(es_error(), "cancelled") != NULL);
    CHECK(last_progress >= 0.5 && last_progress < 0.6);
    memset(buf, 0, sizeof buf);
    f = fopen(out, "r");
    CHECK(f && fread(buf, 1, 7, f) == 3 && !strcmp(buf, "old"));
    if (f) fclose(f);
    unlink(out);
    CHECK(dir_entries(fail_dir) == 0);
    r.progress = NULL, r.original_audio = ES_ORIGINAL_AUDIO_OFF;

    /* a directory that does not exist, and the input as the output */
    snprintf(in_path, sizeof in_path, "%s/cuts.mp4", test_data_dir());
    snprintf(out, sizeof out, "%s/no/such/dir/out.mp4", dir);
    r.output_path = out;
    CHECK(es_mux(&r) == -1);
    CHECK(strstr(es_error(), out) != NULL);
    r.output_path = in_path;
    CHECK(es_mux(&r) == -1);
    CHECK(strstr(es_error(), "overwrite the input") != NULL);
    rmdir(fail_dir);
}

int main(void)
{
    av_log_set_level(AV_LOG_QUIET);
    snprintf(dir, sizeof dir, "/tmp/es-mux-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    /* 19 s of music for a 20 s video: the last second must be padded with silence */
    music_frames = 19 * RATE;
    music = malloc(2 * music_frames * sizeof *music);
    for (size_t i = 0; i < music_frames; i++)
        music[2 * i] = music[2 * i + 1] = (float)(MUSIC_AMP * sin(2 * M_PI * MUSIC_HZ * (double)i / RATE));

    test_container("cuts.mp4", "out.mp4", "aac", 1024);
    test_container("cuts.mkv", "out.mkv", "opus", 960);
    test_reader();
    test_loud_mix_does_not_clip();
    test_other_cases();
    test_joined_streams();
    test_damaged_inputs();
    test_failures();

    free(music);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return check_report("test_mux_video");
}
