/* Offline rendering of a score to PCM with FluidSynth and a General MIDI soundfont. No audio
 * driver, player or timer: the synth is driven directly, rendering exactly the frames between
 * two events, so timing depends only on the score (FluidSynth itself starts voices on its
 * internal 64-frame block grid, i.e. a note sounds at most 63 frames, 1.3 ms at 48 kHz, late). */
#ifndef ES_AUDIO_RENDER_H
#define ES_AUDIO_RENDER_H

#include <stddef.h>

#include "music/score.h"

/* Renders score->duration seconds of score (llround(duration * sample_rate) frames) as
 * interleaved stereo float at sample_rate (8000..96000), reverb and chorus on. Notes past the
 * duration are cut; notes still sounding at the end are not released. On success *pcm is a new
 * buffer the caller frees with free(), *n_frames its frame count, and 0 is returned. On failure
 * returns -1 with one error line (e.g. naming a soundfont that cannot be loaded); FluidSynth's own
 * log output is silenced and its error text folded into that line. Uses ES_RENDER_THREADS
 * threads (see es_render_score_threads). Not safe to call from two threads at once (FluidSynth's
 * log hooks are process wide). */
int es_render_score(const es_score *score, const char *soundfont_path, int sample_rate, float **pcm,
                    size_t *n_frames);

/* Threads es_render_score uses, and the most es_render_score_threads takes. */
#define ES_RENDER_THREADS 2
#define ES_RENDER_MAX_THREADS 16

/* es_render_score on `threads` threads (1 to ES_RENDER_MAX_THREADS; 1 is the reference): the
 * extra ones are FluidSynth's own mixer threads (synth.cpu-cores), which render the voices of a
 * block in parallel when eight or more sound and sum them into the one mix, so the output equals
 * the one-thread render (voices, reverb and chorus are computed as on one thread; only the order
 * of the per-thread sums may differ, below float resolution). */
int es_render_score_threads(const es_score *score, const char *soundfont_path, int sample_rate, int threads,
                            float **pcm, size_t *n_frames);

/* The General MIDI soundfont to use: $EMSYNC_SOUNDFONT when set and non-empty (returned even if
 * the file is missing, so the error names it), else the first existing file among the places
 * Debian and other distributions install one; NULL when none. The string is static. */
const char *es_default_soundfont(void);

#endif
