/* The finished soundtrack as a stream: the score rendered, normalised to a loudness target (true
 * peak at most ES_PEAK_CEILING_DB), faded out at the end, and handed on block by block, so the
 * memory it takes does not depend on its length (the whole music of a 2-hour film would be
 * 1.4 GB of float).
 *
 * FluidSynth's output depends only on the score, the soundfont and the settings, so the score is
 * rendered twice: es_music_open renders it once to measure its integrated loudness and true
 * peak and keeps nothing of the samples; the reads then render it again and apply the gain and
 * the fade as the blocks go by. The samples are those of the whole-buffer route (render, then
 * es_loudness_normalize, then es_fade_out), bit for bit (tested). The rendering runs a few
 * blocks ahead in a background thread when there is more than one CPU, so each pass overlaps
 * with whatever consumes it (the meter, then the encoder). The second render costs about as
 * much as the first (0.4 s a minute of music on one core): the price of not holding 23 MB a
 * minute, or of not writing them to disk. Music short enough to fit in ES_MUSIC_KEEP_BYTES
 * (about 2.9 minutes at 48 kHz) is kept from the first render instead, so memory stays bounded
 * whatever the length and short pieces render once. */
#ifndef ES_AUDIO_MUSIC_H
#define ES_AUDIO_MUSIC_H

#include <stddef.h>
#include <stdint.h>

#include "music/score.h"

typedef struct es_music es_music;

typedef struct {
    const es_score *score;      /* rendered for score->duration seconds; not needed after open */
    const char *soundfont;
    int rate;                   /* sample rate, 8000..96000 */
    double target_lufs;         /* loudness target, <= 0 */
    double fade_seconds;        /* closing fade; 0: none */
    void (*progress)(void *user, double fraction); /* during the measuring pass; optional */
    void *progress_user;
    /* 0 takes the default; tests change them */
    int threads;                /* FluidSynth's threads (0: 2 for a first render that is kept, else 1) */
    int block_frames;           /* frames per block (8192) */
    int in_caller;              /* 1: render in the reading thread, never in the background */
    int render_twice;           /* 1: never keep the first render, however short */
} es_music_config;

#define ES_MUSIC_KEEP_BYTES (64u << 20) /* the most of a first render kept for the reads */

/* Renders the score once, measuring it, and prepares the second render. Returns 0, or -1 with
 * one error line (a missing soundfont, a bad target, ...). */
int es_music_open(es_music **out, const es_music_config *cfg);

/* Frames of music in all: llround(duration * rate). */
int64_t es_music_frames(const es_music *m);

/* The loudness measured before normalisation in LUFS (-HUGE_VAL for silence), its true peak
 * (linear), and the gain the reads apply. */
double es_music_loudness(const es_music *m);
double es_music_peak(const es_music *m);
double es_music_gain(const es_music *m);

/* How many times the music is rendered: 1 when the first render was kept, else 2. */
int es_music_renders(const es_music *m);

/* Writes every frame of the music to a 16-bit WAV at path as well, as it is rendered (whoever
 * reads it); call before the first read, then es_music_finish. Returns 0 or -1. */
int es_music_tee_wav(es_music *m, const char *path);

/* The next frames of the finished music into pcm (interleaved stereo): n of them, fewer only at
 * the end. Returns the count (0 at the end), or -1 with an error line. */
long es_music_read(es_music *m, float *pcm, size_t n);

/* es_music_read for a callback that takes the stream as void * (es_mux_request.read). */
long es_music_pull(void *music, float *pcm, size_t n);

/* With a WAV: renders what was not read yet into it and commits it. Returns 0 or -1. */
int es_music_finish(es_music *m);

/* Stops the rendering, removes an unfinished WAV and frees everything. Safe on NULL. */
void es_music_free(es_music **m);

#endif
