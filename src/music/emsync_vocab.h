/* The EMSYNC event vocabulary (SPEC §1, 1011 tokens) and the token -> note decoder. */
#ifndef ES_EMSYNC_VOCAB_H
#define ES_EMSYNC_VOCAB_H

#include "music/score.h"

enum {
    ES_TOK_PAD = 0,
    ES_TOK_START = 1,
    ES_TOK_BAR = 2,
    ES_TOK_CHORD = 3,
    ES_TOK_TIMESHIFT = 4,        /* 4..128: 1..125 ticks of 8 ms */
    ES_TOK_NOTES = 129,          /* 129..1008: OFF/ON x 5 instruments x 88 pitches */
    ES_TOK_LESS_INSTRUMENTS = 1009,
    ES_TOK_MORE_INSTRUMENTS = 1010,
    ES_VOCAB_SIZE = 1011
};

typedef enum { ES_EV_PAD, ES_EV_START, ES_EV_BAR, ES_EV_CHORD, ES_EV_TIMESHIFT, ES_EV_OFF, ES_EV_ON, ES_EV_LESS, ES_EV_MORE } es_event_kind;

typedef struct {
    es_event_kind kind;
    int instrument;   /* es_instrument for ON/OFF, else -1 */
    int value;        /* MIDI pitch for ON/OFF, ticks for TIMESHIFT, else 0 */
} es_event;

/* Decodes a token id; returns 0, or -1 when id is outside the vocabulary. */
int es_token_event(int id, es_event *ev);

/* The event's name as in vocab.tsv (e.g. "ON_PIANO", "TIMESHIFT", "<BAR>"); "?" for bad ids. */
const char *es_token_name(int id);

/* Seconds a token moves the time cursor (0 unless TIMESHIFT). */
double es_token_shift(int id);

/* Token ids for events (-1 when out of range). */
int es_token_on(es_instrument inst, int pitch);
int es_token_off(es_instrument inst, int pitch);
int es_token_timeshift(int ticks);

/* Appends the notes of a token sequence to score (SPEC §1): a cursor advances by TIMESHIFTs,
 * ON starts a note and the matching OFF ends it; an OFF without an ON is ignored; notes still
 * sounding at the end close at the final cursor (dropped when of zero length). Velocity 80;
 * 120 for GUITAR/PIANO notes begun after <CHORD> and before the next TIMESHIFT. Each <CHORD>
 * also records a chord mark at its time, named from the pitched notes begun with it (root = the
 * lowest one's pitch class, e.g. "Am7"; root -1 and name "?" when none follow).
 * Returns 0 or -1 (out of memory or bad token id). */
int es_tokens_to_score(const int *tokens, size_t n, es_score *score);

#endif
