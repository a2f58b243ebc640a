/* One decode pass over a video file that gathers everything later stages need, so the file is
 * read once: per-frame scene score (FFmpeg select's definition) and cheap colour / motion
 * statistics, per-100-ms audio loudness and onset strength, and optional small RGB frames at a
 * fixed rate handed to a callback (faces, thumbnails). Only the statistics are kept, never
 * whole frames; with reduce_frames, the frames' statistics are summed into spans as they come,
 * so memory does not grow with the number of frames. */
#ifndef ES_MEDIA_DECODE_H
#define ES_MEDIA_DECODE_H

#include <stddef.h>
#include <stdint.h>

/* Statistics of one decoded video frame. Colour values are measured on a small copy of the
 * frame (ES_STATS_WIDTH pixels wide, area-averaged, RGB in [0, 1]). */
typedef struct {
    double time;          /* seconds from the start of the video stream (first frame ~0);
                             ascending (a timestamp that jumps back, or ahead by over
                             ES_TS_JUMP_S, is replaced by the previous one plus a frame) */
    float scene;          /* FFmpeg select `scene` score vs the previous frame, 0..1 (0 first) */
    float brightness;     /* mean luma, Rec.601 weights, 0..1 */
    float saturation;     /* mean HSV saturation (max-min)/max, 0..1 */
    float colourfulness;  /* Hasler & Suesstrunk (2003) M on RGB in [0, 1] (their value / 255):
                             ~0 grey, 0.13 "moderately", 0.24 "quite", 0.43 "extremely" colourful */
    float warmth;         /* mean R - mean B, -1..1 (positive = warm) */
    float motion;         /* mean |luma difference| vs the previous frame on the small image, 0..1 */
} es_frame_stats;

/* Frame statistics summed over a span: consecutive frames that no possible scene boundary
 * divides. A span starts at the first frame, at every frame whose scene score exceeds the split
 * threshold (every cut that detection can choose) and at the first frame at or after each split
 * time (cuts the user gives), so any scene between such boundaries is a whole number of spans
 * and its sums are exact. */
typedef struct {
    double start;         /* time of its first frame */
    float first_scene;    /* scene score of its first frame */
    size_t n_frames;
    double brightness, saturation, colourfulness, warmth, motion; /* sums over its frames */
} es_frame_span;

typedef struct {
    es_frame_span *items; size_t n, cap;
    double threshold;     /* a frame whose scene score exceeds this starts a span (NaN: none) */
    const double *split_times; size_t n_split_times; /* ascending; borrowed */
    size_t next_split;    /* the first split time no frame has reached yet */
} es_frame_spans;

/* Adds a frame (frames in time order) to the spans. Returns 0, or -1 when out of memory. */
int es_frame_spans_add(es_frame_spans *s, const es_frame_stats *f);
void es_frame_spans_free(es_frame_spans *s);

#define ES_DECODE_MAX_PIXELS (8192LL * 8192) /* largest picture decoded: over twice 8K UHD; a
                                               * larger declared size is refused, not allocated */
#define ES_STATS_WIDTH 64         /* width of the image colour and motion stats use */
#define ES_AUDIO_RATE 24000       /* analysis sample rate (mono float) */
#define ES_AUDIO_BLOCK 0.1        /* seconds per audio block */
#define ES_AUDIO_FLOOR_DB (-100.0f) /* value given to silence in the dB fields */
#define ES_TS_JUMP_S 10.0         /* a frame this much (and 50 frame periods) after the one
                                     before it is a timestamp jump, closed up (see frames) */

/* Audio statistics of one 100 ms block of the mono downmix. */
typedef struct {
    double time;      /* block start, seconds on the video's clock */
    float energy_db;  /* mean square energy in dBFS (0 dB = full-scale square wave), floor -100 */
    float loudness;   /* EBU R128 momentary loudness (400 ms window ending at the block end), LUFS, floor -100 */
    float onset;      /* energy-rise onset strength: sum over the block's 10 ms sub-frames of the
                         rises of their high-frequency energy (of the first difference, so the
                         slow wander of low, noisy sound does not count) in dB, floored at
                         -80 dBFS, vs the sub-frame before, counting rises over 1 dB only; in dB,
                         about 0 for steady sound */
} es_audio_block;

typedef struct {
    double duration;      /* seconds: the video stream's duration; the decoded extent (last
                             frame's time + its duration) when the stream has none or it
                             disagrees with what decoded by over max(0.5 s, 2 frames) */
    double fps;           /* average frame rate */
    int width, height;    /* coded picture size */
    char video_codec[32]; /* decoder name, e.g. "h264" */
    int has_audio;        /* 1 when audio was wanted, found and decoded (an audio stream that
                             cannot be decoded is skipped, not an error) */
    int truncated;        /* 1 when reading stopped on damaged data or the frames end clearly
                             before the stream's (or container's) stated duration */
    size_t n_frames;      /* decoded video frames (== analysis n_frames) */
    int groups;           /* groups of pictures decoded in parallel; 0 with a single decoder */
} es_media_info;

typedef struct {
    es_media_info info;
    es_frame_stats *frames; size_t n_frames, cap_frames; /* presentation order; empty with reduce_frames */
    es_frame_spans spans;  /* with reduce_frames only */
    es_audio_block *audio;  size_t n_audio, cap_audio;   /* consecutive blocks; empty without audio */
} es_media_analysis;

typedef struct {
    int want_audio;       /* decode the audio stream into analysis blocks */
    double sample_fps;    /* rate of on_sample frames; 0 = none */
    int sample_max_width; /* on_sample frames are at most this wide (aspect kept); 0 = full size */
    /* Receives an RGB24 frame (borrowed, valid during the call) about sample_fps times a second. */
    void (*on_sample)(void *user, double time, const uint8_t *rgb, int width, int height, int stride);
    void *user;
    /* Receives the fraction of the file read so far, 0..1, about every 1%, ending with 1.
     * Both callbacks run on the thread that called es_media_analyze. */
    void (*on_progress)(void *user, double fraction);
    /* Video decoders run at once on groups of pictures (media/gopdec.h): 0 one per CPU (at
     * most 4), 1 a single decoder. The frames are the same either way. */
    int decoders;
    /* With decoders 0, a picture of fewer pixels than this leaves one CPU to on_sample's
     * consumer (0: never). On a small picture the face nets cost nearly as much as decoding:
     * 30 min of 320x180 analysed in 9.2 s with one decoder against 10.5 s with two. */
    long long spare_cpu_below_pixels;
    /* 1: sum the frames' statistics into spans (out->spans, split as below) instead of keeping
     * each frame's (out->frames), so memory grows with the cut candidates, not the frames. */
    int reduce_frames;
    double split_threshold;                          /* see es_frame_spans */
    const double *split_times; size_t n_split_times; /* ascending; must outlive the call */
} es_decode_options;

/* Decodes `path` once and fills *out (zeroed first; opt may be NULL for video stats only).
 * Returns 0, or -1 with one error line naming the file: missing, directory, empty, not a media
 * file, an image, no video stream, or no decodable video frames. A damaged or cut file is
 * analysed as far as it decodes (info.truncated set). On failure *out holds nothing to free,
 * but calling es_media_analysis_free on it is safe. Not reentrant per analysis; separate
 * analyses may run on separate threads. */
int es_media_analyze(const char *path, const es_decode_options *opt, es_media_analysis *out);

/* The duration the video stream itself states, in seconds, read from the headers without
 * decoding: what es_media_analyze reports as info.duration whenever the decoded frames agree
 * with it. Returns 0, or -1 with one error line (not a video, or no stated duration). */
int es_media_stated_duration(const char *path, double *seconds);

/* Frees the arrays of an analysis and zeroes it. Safe on a zeroed struct. */
void es_media_analysis_free(es_media_analysis *a);

#endif
