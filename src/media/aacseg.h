/* AAC encoding of the music on several cores at once, with output the same on every machine.
 *
 * FFmpeg's AAC encoder runs on one core and was the slowest part of writing the output (about
 * 0.7 s per minute of music). Here the music is cut into segments that independent encoders
 * encode at the same time, and their packet streams are joined. An AAC-LC frame depends on its
 * neighbours only through the overlap of its MDCT window, so a packet from one encoder may follow
 * a packet from another wherever both encoders windowed the same samples the same way:
 *  - each segment's encoder starts `preroll` frames before its segment, so its psychoacoustic
 *    state has settled on the same signal by then, and the previous segment's encoder runs on
 *    `search` frames past its end;
 *  - the join is the first frame J of that overlap at which both encoders chose the same window
 *    sequence and shape for frames J-1 and J (read from the packets' headers): the decoder then
 *    overlaps two halves windowed exactly as one encoder would have windowed them;
 *  - where no such frame exists, the previous encoder goes on through the next segment, so the
 *    output there is that of one encoder, as without segments.
 * The cut points depend only on the length, never on the number of threads. */
#ifndef ES_MEDIA_AACSEG_H
#define ES_MEDIA_AACSEG_H

#include <stddef.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>

typedef struct es_aacseg es_aacseg;

typedef struct {
    const AVCodecContext *like; /* an open AAC encoder: the segment encoders copy its settings */
    const float *pcm;           /* interleaved stereo at like->sample_rate; NULL: silence */
    size_t n_pcm;               /* frames in pcm */
    int64_t total;              /* samples to encode; silence past n_pcm */
    int64_t pts0;               /* pts (in 1/sample_rate) of sample 0 */
    int threads;                /* <= 0: one per online CPU, at most 16 */
    /* 0 takes the default; tests change them */
    int segment_frames;         /* wanted segment length in AAC frames */
    int preroll;                /* frames each encoder starts early */
    int search;                 /* frames the previous encoder runs on; -1: none (always joined
                                   by running one encoder on, i.e. the output of one encoder) */
} es_aacseg_config;

/* Starts encoding in the background. Returns 0, or -1 with an error. */
int es_aacseg_start(es_aacseg **out, const es_aacseg_config *cfg);

/* Number of segments the music was cut into. */
int es_aacseg_segments(const es_aacseg *s);

/* Number of joins made between different encoders so far. */
int es_aacseg_joins(const es_aacseg *s);

/* The next packet in stream order (waits until its segment is encoded), with the pts of its
 * first sample in *pts beforehand when pts is not NULL: 0 and the packet in pkt (time base
 * 1/sample_rate), 1 at the end of the stream, or -1 with an error. */
int es_aacseg_peek(es_aacseg *s, int64_t *pts);
int es_aacseg_next(es_aacseg *s, AVPacket *pkt);

/* Stops the encoders (unfinished work is dropped) and frees everything. Safe on NULL. */
void es_aacseg_free(es_aacseg **s);

/* Fills an encoder's stereo float frame (planar or interleaved) with count frames: the first n
 * from interleaved x, silence after; sets nb_samples. Shared with the muxer's encoders. */
void es_audio_frame_put(AVFrame *f, const float *x, int n, int count);

/* Window of an AAC-LC raw data block starting with a channel pair sharing one window (or a
 * single channel): window_sequence * 2 + window_shape, in [0, 7]; -1 for anything else. */
int es_aac_window_key(const uint8_t *data, int size);

#endif
