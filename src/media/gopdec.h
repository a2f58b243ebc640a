/* Video decoding on several cores by groups of pictures. FFmpeg's frame threads keep only about
 * 1.5 of 2 cores busy on H.264 (each frame waits for rows of the one before), so the analysis
 * decode took as long as the decode alone. Here the stream is cut before every IDR picture (an
 * H.264 or HEVC picture after which nothing refers back past it) and each group of pictures
 * goes to the next of several decoders, which run at once; frames come back to the caller in
 * stream order. Every frame is the one a single decoder gives, since no group needs another's
 * pictures (the tests compare both ways frame for frame). Streams without IDR pictures after the
 * first, and other codecs, simply stay with one decoder. Some encoders mark pictures IDR that
 * still refer back (cockatoo.mp4 of python3-imageio): a group after the first whose decoder
 * reports errors stops the decoding before its first such frame is delivered, and the caller
 * decodes again with one decoder (es_gopdec_dependent). */
#ifndef ES_MEDIA_GOPDEC_H
#define ES_MEDIA_GOPDEC_H

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

typedef struct es_gopdec es_gopdec;

/* Receives each decoded frame in order; returns 0, or -1 to stop (es_gopdec_send/_finish then
 * return -1). The frame is unreferenced after the call. */
typedef int (*es_gopdec_frame_fn)(void *user, AVFrame *frame);

/* Decoders for stream st of fmt when parallel decoding applies: an H.264 or HEVC stream in
 * MP4/MOV or Matroska (whose packets all carry timestamps), and workers >= 2 (<= 0: one per
 * online CPU, at most 4). *out is NULL when it does not apply (the caller decodes as usual).
 * Returns 0, or -1 with an error (out of memory, a decoder that cannot be opened). */
int es_gopdec_new(es_gopdec **out, const AVFormatContext *fmt, const AVStream *st, int workers,
                  es_gopdec_frame_fn fn, void *user);

/* Hands over one packet of the stream; delivers the frames ready so far. 0 or -1. */
int es_gopdec_send(es_gopdec *g, const AVPacket *pkt);

/* End of stream: delivers every remaining frame. 0 or -1. */
int es_gopdec_finish(es_gopdec *g);

/* 1 when es_gopdec_send or es_gopdec_finish failed because a group after the first decoded
 * with errors: every frame delivered before is right; the rest must come from one decoder. */
int es_gopdec_dependent(const es_gopdec *g);

/* Number of groups of pictures handed out so far. */
int es_gopdec_groups(const es_gopdec *g);

void es_gopdec_free(es_gopdec **g);

/* 1 when an H.264 or HEVC packet (length-prefixed as in MP4/Matroska with nal_length bytes, or
 * Annex B when nal_length is 0) holds an IDR picture. */
int es_is_idr(enum AVCodecID codec, const uint8_t *data, int size, int nal_length);

#endif
