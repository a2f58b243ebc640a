/* Finishing the rendered music: loudness normalisation (EBU R128 / ITU-R BS.1770 integrated
 * loudness, true peak), the closing fade-out, and a 16-bit WAV writer. All work on interleaved
 * stereo float, either on a whole buffer or block by block as the music streams past
 * (audio/music.h); both give the same numbers and samples. */
#ifndef ES_AUDIO_LOUDNESS_H
#define ES_AUDIO_LOUDNESS_H

#include <stddef.h>
#include <stdint.h>

/* Highest true peak normalisation may produce, in dBTP. */
#define ES_PEAK_CEILING_DB (-1.0)

/* Integrated loudness and true peak of a signal fed block by block (libebur128). Blocks may have
 * any size: the result is that of the whole signal measured in one go. */
typedef struct es_loudness_meter es_loudness_meter;

/* with_peak 0 skips the true peak (3/4 of the work). Returns 0, or -1 with an error. */
int es_loudness_meter_open(es_loudness_meter **out, int rate, int with_peak);
int es_loudness_meter_add(es_loudness_meter *m, const float *pcm, size_t n_frames);
/* Loudness in LUFS (-HUGE_VAL for silence) and, when peak is not NULL, the true peak as a
 * linear factor (0 without with_peak). Returns 0 or -1. */
int es_loudness_meter_result(es_loudness_meter *m, double *lufs, double *peak);
void es_loudness_meter_free(es_loudness_meter **m);

/* The meter over a whole buffer. Returns 0 or -1. */
int es_loudness_measure(const float *pcm, size_t n_frames, int rate, double *lufs, double *peak);

/* The one gain normalisation applies to a signal of this loudness and true peak: it brings the
 * integrated loudness to target_lufs, lowered where needed so the true peak stays at or below
 * ES_PEAK_CEILING_DB (a peaky signal then ends up quieter than the target, never clipped). 1
 * for silent or near-silent input (below the -70 LUFS gate), which is left as it is. Returns 0,
 * or -1 for a bad target. */
int es_loudness_gain(double lufs, double peak, double target_lufs, double *gain);

/* Measures pcm (n_frames stereo frames at rate Hz) and scales it by es_loudness_gain.
 * *measured_lufs (may be NULL) gets the input's loudness, -HUGE_VAL for silence. Returns 0, or
 * -1 with an error line. The whole-buffer route; the pipeline streams (audio/music.h). */
int es_loudness_normalize(float *pcm, size_t n_frames, int rate, double target_lufs, double *measured_lufs);

/* Fades the last `seconds` (all of it if shorter) linearly to zero: the gain falls from 1 by
 * equal steps and the last frame is 0. The caller skips it for videos of 3 s or less. */
void es_fade_out(float *pcm, size_t n_frames, int rate, double seconds);

/* The same fade on a block: pcm holds frames [at, at + n_frames) of a signal of `total` frames. */
void es_fade_block(float *pcm, size_t n_frames, int64_t at, int64_t total, int rate, double seconds);

/* A 16-bit PCM stereo WAV written block by block (samples clamped to [-1, 1], rounded to
 * nearest) through a temporary file renamed into place on commit. The length is given up
 * front, for the header; commit refuses a file that did not get exactly that many frames. */
typedef struct es_wav es_wav;

int es_wav_open(es_wav **out, const char *path, size_t n_frames, int rate);
int es_wav_put(es_wav *w, const float *pcm, size_t n_frames);
/* Returns 0, or -1 with an error naming the path (nothing left behind). Frees *w either way. */
int es_wav_commit(es_wav **w);
/* Removes the temporary file and frees *w. Safe on NULL. */
void es_wav_abort(es_wav **w);

/* The whole of pcm as a WAV file. Returns 0, or -1 with an error naming path. */
int es_wav_write(const char *path, const float *pcm, size_t n_frames, int rate);

#endif
