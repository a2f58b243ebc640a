/* The EMSYNC composer: runs the generator network with the published sampling procedure
 * (SPEC §3) until the music covers the video, then decodes the tokens into an es_score.
 *
 * Window policy once the sequence outgrows the context (context - 3 = 1213 generated tokens for
 * the released model): `exact` recomputes the sliding window every step like the reference;
 * the default keeps the KV cache and, when it is full, re-anchors: it keeps the newest
 * `keep_tokens` tokens (default half the window) and re-prefills them, so the cost is one
 * prefill per keep_tokens steps instead of one per step.
 * Held notes: in the fast mode a note that has sounded for ES_EMSYNC_MAX_NOTE_SECONDS is ended
 * (an OFF token is added to the sequence after the time shift that reaches that age, so no note
 * lasts more than a second longer), since a
 * window that has moved on no longer shows the network the note to end; exact mode adds nothing.
 * Moods: the network takes one (valence, arousal) pair; the pair in force at the current time
 * cursor is used, and when it changes (at a scene start) the current window is re-prefilled
 * with the new pair (the cache holds activations computed under the old one). */
#ifndef ES_EMSYNC_GENERATE_H
#define ES_EMSYNC_GENERATE_H

#include <stddef.h>

#include "music/compose.h"
#include "music/score.h"
#include "nn/transformer.h"

typedef struct {
    const es_nn_model *model;   /* required, borrowed */
    int exact;                  /* 1: reference sliding window (slow); 0: cached re-anchoring */
    double temperature;         /* 0: the model's default (es_emsync_default_sampling) */
    double top_p;               /* 0: the model's default */
    double guidance;            /* valence guidance weight w >= 1 (see es_emsync_guide);
                                   0 or 1: none */
    int candidates;             /* K >= 1 sequences sampled together; the one hitting most
                                   boundaries with a <CHORD> wins; among equals, the one whose
                                   major-ness best matches the requested valence (then the
                                   lowest index); with several moods the choice is made at
                                   each mood change, and all go on from the one kept;
                                   0: es_emsync_default_candidates */
    int keep_tokens;            /* fast mode: tokens kept at a re-anchor; 0 = half the window */
    size_t max_tokens;          /* safety cap on generated tokens; 0 = 400 per second + 1000 */
    int reference_boundaries;   /* 1: the reference's rule (a <CHORD> within 1 s of a boundary
                                   hits it, nothing steered); 0: land on each boundary (see
                                   es_emsync_clock_steer) */
} es_emsync_options;

typedef struct {
    int *tokens;                /* the chosen candidate's tokens, primer <BAR> first (owned) */
    size_t n_tokens;
    int chosen;                 /* candidate index */
    int candidates;             /* how many were sampled */
    int scenes_chosen;          /* mood changes at which the best candidate so far was kept and
                                   the others restarted from it */
    size_t boundaries_hit;      /* boundaries marked hit by a <CHORD> within 1 s */
    int refills;                /* window prefills after the first (re-anchors, mood changes,
                                   exact-mode slides), all candidates */
    size_t mood_window;         /* the most window tokens rebuilt at a mood change (fast mode:
                                   at most the tokens kept at a re-anchor) */
    int mood_changes;           /* re-prefills caused by a new mood segment (one per segment
                                   and candidate, or one per segment when chosen by scene) */
    int capped;                 /* 1 when max_tokens stopped the generation */
    double seconds;             /* wall time */
    double tokens_per_second;   /* generated tokens (all candidates) / seconds */
    double temperature, top_p;  /* the sampling used */
    double guidance;            /* the valence guidance used (1: none) */
} es_emsync_report;

/* Fills the defaults listed above (model NULL). */
void es_emsync_options_default(es_emsync_options *o);

/* The sampling a model gets unless told otherwise. The released model's shapes get the
 * reference's temperature 1.35 and top-p 0.6 (SPEC §3), tuned by its authors for it. Any other
 * model gets plain sampling (1.0, 1.0): the bundled model then matches its training music
 * (note density inside POP909's range); the reference's sharper nucleus doubles its density. */
void es_emsync_default_sampling(const es_nn_hparams *hp, double *temperature, double *top_p);

/* Candidates sampled unless told otherwise: 1 for the released model, trained on rated
 * valence; 3 for others, such as the bundled model, whose proxy label it barely follows:
 * keeping the candidate whose major-ness suits the valence gives valence<->major-ness
 * Spearman 0.7 instead of 0 at a third of the speed (docs/model-card.md). */
int es_emsync_default_candidates(const es_nn_hparams *hp);

/* Classifier-free guidance on valence. A model trained with condition dropout also knows the
 * music under a null valence; decoding a twin of each candidate with the valence nulled and
 * taking uncond + w (cond - uncond) pushes the music further toward the requested valence
 * (w > 1). Costs one more sequence per candidate in the same batch. Entries that are not finite
 * in either row are left as they are in cond. */
void es_emsync_guide(float *cond, const float *uncond, int n, double w);

/* The default weight is 1 (none): on the bundled model, weights 2 and 3 lowered the
 * valence-to-major-ness rank correlation (bench/model-eval.py, 27 pieces: 0.38 at 1, -0.15 at 2,
 * -0.11 at 3), so guidance is for models whose valence condition carries more. */

/* Composes req->duration seconds of music into *out (zeroed first; notes clipped to the
 * duration, sorted; one chord mark per <CHORD>; tempo 240 bpm like the reference). The seed
 * makes the result reproducible. report may be NULL; free it with es_emsync_report_free.
 * Returns 0 or -1 (es_fail set). */
int es_compose_emsync(const es_compose_request *req, const es_emsync_options *opt, es_score *out,
                      es_emsync_report *report);

void es_emsync_report_free(es_emsync_report *r);

/* ---- the pieces, exposed for tests ---- */

/* Scratch for es_emsync_sample (no allocation per token). */
typedef struct {
    double logp[1011];
    int order[1011];
} es_sample_buf;

/* One sampling step of SPEC §3 on a row of 1011 logits: excluded tokens, NaN -> 0,
 * log_softmax, temperature raised by the repetition counter *rep, the reference's top-p rule,
 * a draw with u in [0, 1). Updates *rep and stores the nucleus size in *kept (may be NULL).
 * Returns the token id. */
int es_emsync_sample(const float *logits, double temperature, double top_p, int *rep, double u,
                     es_sample_buf *buf, int *kept);
/* The same draw by sorting the whole row, as the reference does: slower, kept to test the
 * lazy walk above. With top_p < 1 both return the same token, nucleus and counter; with
 * top_p >= 1 es_emsync_sample keeps every token while rounding can drop the last ones here. */
int es_emsync_sample_sorted(const float *logits, double temperature, double top_p, int *rep, double u,
                            es_sample_buf *buf, int *kept);

/* Time cursor and boundary bookkeeping of SPEC §3. */
typedef struct {
    const double *b;            /* ascending boundary times (borrowed) */
    size_t n;
    unsigned char *hit;         /* n flags (owned) */
    long ticks;                 /* cursor in 8 ms ticks */
    size_t hits;
    int land;                   /* steer onto boundaries (es_emsync_clock_steer) */
    long chord_tick;            /* tick of the last boundary chord, -1 before any */
    int chord_notes;            /* pitched notes begun at chord_tick since its <CHORD> */
} es_emsync_clock;

/* Pitched notes a landed boundary chord gets before time may move on. */
#define ES_EMSYNC_CHORD_NOTES 3

/* land 0: the reference's bookkeeping; land 1: boundaries are landed on and only a <CHORD> at
 * a boundary's own tick hits it. */
int es_emsync_clock_init(es_emsync_clock *c, const double *b, size_t n, int land);
void es_emsync_clock_free(es_emsync_clock *c);

/* Δ at the current cursor: distance to the nearest unhit boundary ahead, clamped to [0, 8]. */
float es_emsync_clock_delta(const es_emsync_clock *c);

/* Applies a sampled token (a <CHORD> marks boundaries within 1 s of the cursor as hit, then
 * the cursor advances by its shift) and returns the new token's Δ. */
float es_emsync_clock_advance(es_emsync_clock *c, int token);

/* With landing on, the token to use instead of the sampled one: a TIMESHIFT that would step
 * over the next unhit boundary is cut to end on it, and on an unhit boundary the next token is
 * <CHORD>. So each cut gets a chord at its own 8 ms tick. Without landing, token unchanged. */
int es_emsync_clock_steer(const es_emsync_clock *c, int token);

/* With landing on, before sampling: while a boundary's <CHORD> has fewer than
 * ES_EMSYNC_CHORD_NOTES pitched notes, TIMESHIFTs are ruled out (logits set to -inf), so the
 * network voices a real chord there, notes of its own choosing. Otherwise nothing changes. */
void es_emsync_clock_mask(const es_emsync_clock *c, float *logits);

/* With landing on, on a boundary chord's tick: the chord's notes must sound, so no OFF of a note
 * begun on this tick (a note of no length, which a MIDI file drops) and, until the chord has its
 * ES_EMSYNC_CHORD_NOTES notes, no ON of a pitch already sounding on that instrument.
 * on_tick[instrument][pitch - 21] is the tick each sounding note began, -1 when silent. */
void es_emsync_voicing_mask(const es_emsync_clock *c, const long on_tick[ES_INSTRUMENT_COUNT][88], float *logits);

/* Cursor in seconds. */
double es_emsync_clock_time(const es_emsync_clock *c);

/* Longest note the fast mode lets sound (POP909: 99.9% of notes are shorter than 5.1 s). */
#define ES_EMSYNC_MAX_NOTE_SECONDS 6.0

/* Most candidates one generation runs together. */
#define ES_EMSYNC_MAX_CANDIDATES 16

/* Picks among K candidate token streams (hits[k] = boundaries each hit): the most hits; among
 * equals, the one whose note density and major-ness, ranked across the tied candidates onto
 * [-1, 1], lie closest to the request's duration-weighted mean arousal and valence; then the
 * lowest index. Returns the index, or -1 (out of memory). */
int es_emsync_pick(const int *const *tokens, const size_t *n_tokens, const size_t *hits, int K,
                   const es_compose_request *req);

/* The authors' checkpoint in a data directory, and the model that ships with emsync. */
#define ES_AUTHORS_MODEL "emsync.pt"
#define ES_BUNDLED_MODEL "emsync-pop909.pt"

/* Model lookup, first found wins: explicit_path when given ("option"), else $EMSYNC_MODEL
 * ("EMSYNC_MODEL"), else emsync.pt in a data directory (emotion/datadir.h: $EMSYNC_DATA,
 * $XDG_DATA_HOME/emsync, ~/.local/share/emsync, <bin>/../share/emsync, /usr/local/share/emsync,
 * /usr/share/emsync; "data dir"), else the bundled model emsync-pop909.pt in a data directory's
 * models/ or in models/ beside or above the executable ("bundled"). *source (may be NULL) gets the
 * quoted name, or "none". Returns the argument, the environment, or a static buffer; NULL when
 * none. */
const char *es_find_model_from(const char *explicit_path, const char **source);
const char *es_find_model(const char *explicit_path);

#endif
