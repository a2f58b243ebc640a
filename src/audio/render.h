/* Offline rendering of a score to PCM with FluidSynth and a General MIDI soundfont. No audio
 * driver, player or timer: the synth is driven directly, rendering exactly the frames between
 * two events, so timing depends only on the score (FluidSynth itself starts voices on its
 * internal 64-frame block grid, i.e. a note sounds at most 63 frames, 1.3 ms at 48 kHz, late). */
#ifndef ES_AUDIO_RENDER_H
#define ES_AUDIO_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "music/score.h"

/* A score being rendered, block by block: the synth is set up once, then each
 * es_render_read hands on the next frames. Reading it all in one call or in blocks of any size
 * gives the same samples (the events fall on the same frames either way; tested), so the
 * music of a long film can be rendered twice (measured, then encoded) without ever being
 * held in memory. */
typedef struct es_render es_render;

/* FluidSynth threads es_render_score uses, and the most a render takes. */
#define ES_RENDER_THREADS 2
#define ES_RENDER_MAX_THREADS 16

/* Longest score rendered, in seconds: as long as the muxer takes (a bound on the arithmetic;
 * memory does not depend on the length). */
#define ES_RENDER_MAX_SECONDS (48.0 * 3600.0)

/* Prepares score->duration seconds of score (llround(duration * sample_rate) frames) as
 * interleaved stereo float at sample_rate (8000..96000), reverb and chorus on. Notes past the
 * duration are cut; notes still sounding at the end are not released. The score is not needed
 * after this call. `threads` (1 to ES_RENDER_MAX_THREADS; 1 is the reference) are FluidSynth's
 * own mixer threads (synth.cpu-cores): they render the voices of a block in parallel when eight
 * or more sound and sum them into the one mix, so the output equals the one-thread render
 * (only the order of the per-thread sums may differ, below float resolution). Returns 0, or -1
 * with one error line (e.g. naming a soundfont that cannot be loaded); FluidSynth's own log
 * output is silenced and its error text folded into that line. Not safe to use two renders
 * from two threads at once (FluidSynth's log hooks are process wide); one render may move to
 * another thread between calls. */
int es_render_open(es_render **out, const es_score *score, const char *soundfont_path, int sample_rate,
                   int threads);

/* Frames the whole render lasts. */
int64_t es_render_frames(const es_render *r);

/* Renders the next frames into pcm: n of them, fewer only at the end. Returns the count (0 at
 * the end), or -1 with an error line. */
long es_render_read(es_render *r, float *pcm, size_t n);

/* Frees everything. Safe on NULL. */
void es_render_close(es_render **r);

/* The whole render in one buffer: *pcm is a new buffer the caller frees with free(), *n_frames
 * its frame count, and 0 is returned; on failure -1, *pcm NULL and *n_frames 0. For tests and
 * short pieces: the pipeline streams (audio/music.h). es_render_score uses ES_RENDER_THREADS. */
int es_render_score(const es_score *score, const char *soundfont_path, int sample_rate, float **pcm,
                    size_t *n_frames);
int es_render_score_threads(const es_score *score, const char *soundfont_path, int sample_rate, int threads,
                            float **pcm, size_t *n_frames);

/* The General MIDI soundfont to use: $EMSYNC_SOUNDFONT when set and non-empty (returned even if
 * the file is missing, so the error names it), else the first existing file among the places
 * Debian and other distributions install one; NULL when none. The string is static. */
const char *es_default_soundfont(void);

#endif
