/* Finishing the rendered music: loudness normalisation (EBU R128 / ITU-R BS.1770 integrated
 * loudness), the closing fade-out, and a 16-bit WAV writer. All work on interleaved stereo float. */
#ifndef ES_AUDIO_LOUDNESS_H
#define ES_AUDIO_LOUDNESS_H

#include <stddef.h>

/* Highest true peak normalisation may produce, in dBTP. */
#define ES_PEAK_CEILING_DB (-1.0)

/* Scales pcm (n_frames stereo frames at rate Hz) by one gain so its integrated loudness becomes
 * target_lufs, lowered where needed so the true peak stays at or below ES_PEAK_CEILING_DB (a
 * peaky signal then ends up quieter than the target, never clipped). Silent or near-silent input
 * (below the -70 LUFS gate) is left untouched. *measured_lufs (may be NULL) gets the input's
 * loudness, -HUGE_VAL for silence. Returns 0, or -1 with an error line. */
int es_loudness_normalize(float *pcm, size_t n_frames, int rate, double target_lufs, double *measured_lufs);

/* Integrated loudness of pcm in LUFS (-HUGE_VAL for silence) into *lufs and, when peak is not
 * NULL, its true peak as a linear factor. Uses two threads. Returns 0 or -1. */
int es_loudness_measure(const float *pcm, size_t n_frames, int rate, double *lufs, double *peak);

/* es_loudness_measure on `threads` threads (1 or 2). With 2, a second thread measures the true
 * peak of the end of the signal, its interpolator primed with the frames before; the results equal
 * the one-thread measurement (the reference) exactly. */
int es_loudness_measure_threads(const float *pcm, size_t n_frames, int rate, int threads, double *lufs,
                                double *peak);

/* Fades the last `seconds` (all of it if shorter) linearly to zero: the gain falls from 1 by
 * equal steps and the last frame is 0. The caller skips it for videos of 3 s or less. */
void es_fade_out(float *pcm, size_t n_frames, int rate, double seconds);

/* Writes pcm as a 16-bit PCM stereo WAV (samples clamped to [-1, 1], rounded to nearest) through
 * a temporary file renamed into place. Returns 0, or -1 with an error naming path. */
int es_wav_write(const char *path, const float *pcm, size_t n_frames, int rate);

#endif
