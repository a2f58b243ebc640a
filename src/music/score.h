/* The note list every composer produces and every later stage (MIDI, audio, metrics, plots)
 * consumes. Times are absolute seconds; the tempo map only matters for how a DAW shows bars. */
#ifndef ES_SCORE_H
#define ES_SCORE_H

#include <stddef.h>
#include <stdint.h>

/* The five EMSYNC instruments, in the order of the EMSYNC vocabulary (SPEC §1). */
typedef enum {
    ES_BASS = 0,
    ES_DRUMS,
    ES_GUITAR,
    ES_PIANO,
    ES_STRINGS,
    ES_INSTRUMENT_COUNT
} es_instrument;

typedef struct {
    double start, end;     /* seconds, end > start */
    uint8_t instrument;    /* es_instrument */
    uint8_t pitch;         /* MIDI pitch 0..127 (GM drum key for ES_DRUMS) */
    uint8_t velocity;      /* 1..127 */
} es_note;

typedef struct {
    double time;           /* seconds */
    int root;              /* pitch class 0..11 */
    char name[16];         /* e.g. "Am7", "Fsus4" */
} es_chord;

typedef struct {
    double time;           /* seconds where this tempo starts */
    double bpm;            /* quarter notes per minute */
} es_tempo;

typedef struct {
    es_note *notes;   size_t n_notes,  cap_notes;
    es_chord *chords; size_t n_chords, cap_chords;
    es_tempo *tempos; size_t n_tempos, cap_tempos; /* first entry at time 0 */
    double duration;  /* seconds the music should last */
} es_score;

/* GM program (0-based) and MIDI channel (0-based) of each instrument; drums play on channel 9. */
int es_instrument_program(es_instrument inst);
int es_instrument_channel(es_instrument inst);
const char *es_instrument_name(es_instrument inst); /* "bass", "drums", ... */

/* Appends to the lists; each returns 0 or -1 (out of memory). */
int es_score_add_note(es_score *s, es_instrument inst, int pitch, int velocity, double start, double end);
int es_score_add_chord(es_score *s, double time, int root, const char *name);
int es_score_add_tempo(es_score *s, double time, double bpm);

/* Sorts notes by (start, instrument, pitch) so output is canonical. */
void es_score_sort(es_score *s);

/* Frees the lists and zeroes the struct. Safe on a zeroed struct. */
void es_score_free(es_score *s);

#endif
