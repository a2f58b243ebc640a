/* Notes -> EMSYNC tokens: the inverse of es_tokens_to_score (emsync_vocab.h), for training data.
 *
 * Times are rounded to the 8 ms tick grid, each event on its own (the cursor jumps to the exact
 * tick, so error never accumulates). Gaps are written as TIMESHIFT 125 per whole second, then
 * one shift for the rest. At one instant the order is: <CHORD>, <BAR>, OFFs, ONs; notes within
 * OFFs and ONs by instrument (drums, bass, guitar, piano, strings), then pitch. A note that would
 * round to no length lasts one tick; a note struck again before it ends is cut at the new
 * strike (two notes of one instrument and pitch never overlap, as the decoder cannot express it).
 * Pitches outside 21..108 are dropped.
 *
 * Boundary offsets (the reference's training-side reading, see docs/model-card.md): after token
 * j the cursor is tau_j; delta_j = min(8, time of the next <CHORD> after j - tau_j), 8 when none. So
 * delta is 0 on the shift that lands on a chord and jumps ahead right after the <CHORD>, which is
 * what the generator is fed at inference. */
#ifndef ES_TOKENIZE_H
#define ES_TOKENIZE_H

#include <stddef.h>

#include "music/score.h"

typedef struct {
    int *tokens;     /* n ids */
    float *deltas;   /* n boundary offsets, seconds, 0..8 */
    size_t n, cap;
    size_t notes, dropped_range; /* notes written, notes dropped for pitch */
    size_t chords, bars;         /* <CHORD> and <BAR> tokens written */
    double seconds;              /* time cursor at the end */
} es_token_seq;

typedef struct {
    const double *chords; size_t n_chords; /* chord onsets (s), any order: one <CHORD> each */
    const double *bars; size_t n_bars;     /* downbeats (s), any order: one <BAR> each */
    double chord_snap;   /* a chord moves to the nearest pitched onset within this many s */
    double bass_below;   /* > 0: a piano note below this pitch that is the lowest of the piano
                            notes struck with it (within 30 ms) becomes a bass note */
} es_tokenize_options;

/* Tokenizes s (notes only; the score's chord marks are not used: pass them in opt). Chords and
 * bars after the last note ends are ignored; several at one tick give one token. out is
 * overwritten. Returns 0, or -1 with es_fail set (no note in range, out of memory). */
int es_score_to_tokens(const es_score *s, const es_tokenize_options *opt, es_token_seq *out);

void es_token_seq_free(es_token_seq *q);

/* Reads a chord annotation file, lines "start end label" (seconds; a label of N or X means no
 * chord and is skipped; '#' starts a comment). With beats (ascending, may be NULL), chords that
 * span fewer than min_beats beat times are dropped. *onsets gets the kept chord starts (caller
 * frees). Returns 0 or -1 with one error line naming the file and line. */
int es_read_chord_file(const char *path, const double *beats, size_t n_beats, int min_beats, double **onsets,
                       size_t *n);

/* Reads a beat file, lines "time [beat-flag [downbeat-flag]]" (POP909's beat_midi.txt): all times
 * go to *beats; times whose third column is 1 go to *downbeats (both ascending; caller frees).
 * Returns 0 or -1 with one error line. */
int es_read_beat_file(const char *path, double **beats, size_t *n_beats, double **downbeats, size_t *n_downbeats);

#endif
