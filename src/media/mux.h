/* The last stage: the input's video stream copied packet for packet (never re-encoded) into a new
 * file together with the rendered music, encoded as AAC (.mp4 .m4v .mov) or Opus (.mkv .webm).
 * Other output extensions are refused. Only the first video stream and the new audio (plus the
 * original audio in ES_ORIGINAL_AUDIO_TRACK) are written: subtitle, data and attachment streams
 * are dropped. Video timestamps are kept as they are (all streams move together only when the
 * video starts 0.5 s or more away from 0, e.g. a cut from a broadcast capture, so it starts at 0).
 * The music starts with the video's first picture and lasts `duration`; the original audio in
 * MIX is placed by its own timestamps on the same clock. A truncated input gives what can be
 * read of it. */
#ifndef ES_MEDIA_MUX_H
#define ES_MEDIA_MUX_H

#include <stddef.h>

/* What happens to the input's own audio. */
typedef enum {
    ES_ORIGINAL_AUDIO_OFF = 0, /* replaced by the music */
    ES_ORIGINAL_AUDIO_MIX,     /* decoded and mixed under the music, ES_MUX_ORIGINAL_DB lower */
    ES_ORIGINAL_AUDIO_TRACK,   /* kept as a second, non-default audio stream (copied when the
                                  container takes its codec, else re-encoded like the music) */
} es_original_audio;

/* Gain applied to the original audio in ES_ORIGINAL_AUDIO_MIX, in dB. */
#define ES_MUX_ORIGINAL_DB (-8.0)

/* Music sample rate the muxer expects (interleaved stereo float). */
#define ES_MUX_RATE 48000

/* Reads the next music frames into pcm (ES_MUX_RATE Hz stereo interleaved): n of them, fewer
 * only at the end. Returns the count (0 at the end), or -1 with an error line. */
typedef long (*es_mux_read_fn)(void *user, float *pcm, size_t n);

/* Called now and then with the fraction of the video written, in [0, 1]. Returning non-zero
 * cancels the mux (es_mux then fails with "cancelled" and leaves no file). */
typedef int (*es_mux_progress_fn)(void *user, double fraction);

typedef struct {
    const char *input_path;      /* video source (read only) */
    const char *output_path;     /* final file; written to a temp file beside it, renamed on success */
    /* the music: read as the video goes (a long film's music is never held whole) ... */
    es_mux_read_fn read;
    void *read_user;
    /* ... or, without read, all of it here: ES_MUX_RATE Hz stereo interleaved; may be NULL if
     * n_frames is 0 */
    const float *pcm;
    size_t n_frames;
    double duration;             /* seconds of audio to write (the video's duration); <= 0: the
                                    input video stream's own duration */
    es_original_audio original_audio;
    es_mux_progress_fn progress; /* optional */
    void *progress_user;
} es_mux_request;

/* The container (libavformat name) and music codec (*opus 1: Opus, 0: AAC) for an output path,
 * chosen by its extension: .mp4 .m4v .mov take AAC, .mkv .webm Opus. Returns 0, or -1 with an
 * error naming the path and the extensions it takes. */
int es_mux_format(const char *path, const char **format, int *opus);

/* Writes req->output_path. The music is padded with silence or trimmed to the duration (the last
 * audio frame may be partial). In MIX mode the sum passes a peak limiter with a -1 dBFS ceiling so
 * it never clips; an input without audio gives the music alone, in MIX and TRACK modes alike.
 * Refuses an output naming the input, an unknown extension, and a container that cannot hold the
 * video codec. Returns 0, or -1 with one error line; on failure no output file is left behind and
 * an existing file at output_path is untouched. */
int es_mux(const es_mux_request *req);

#endif
