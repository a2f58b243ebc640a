/* Note-list bookkeeping shared by the composers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "music/score.h"

static const int programs[ES_INSTRUMENT_COUNT] = {32, 0, 25, 0, 48};
static const char *const names[ES_INSTRUMENT_COUNT] = {"bass", "drums", "guitar", "piano", "strings"};

int es_instrument_program(es_instrument inst) { return programs[inst]; }

int es_instrument_channel(es_instrument inst)
{
    /* one channel per instrument, skipping 9 which GM reserves for percussion */
    static const int channels[ES_INSTRUMENT_COUNT] = {0, 9, 1, 2, 3};
    return channels[inst];
}

const char *es_instrument_name(es_instrument inst) { return names[inst]; }

int es_score_add_note(es_score *s, es_instrument inst, int pitch, int velocity, double start, double end)
{
    if (pitch < 0 || pitch > 127 || velocity < 1 || velocity > 127 || !(end > start) || !isfinite(start) || !isfinite(end))
        return es_fail("internal: bad note (pitch %d, velocity %d, %.3f-%.3f s)", pitch, velocity, start, end);
    if (es_grow((void **)&s->notes, &s->cap_notes, s->n_notes + 1, sizeof *s->notes)) return -1;
    s->notes[s->n_notes++] = (es_note){start, end, (uint8_t)inst, (uint8_t)pitch, (uint8_t)velocity};
    return 0;
}

int es_score_add_chord(es_score *s, double time, int root, const char *name)
{
    if (es_grow((void **)&s->chords, &s->cap_chords, s->n_chords + 1, sizeof *s->chords)) return -1;
    es_chord *c = &s->chords[s->n_chords++];
    c->time = time;
    c->root = root;
    snprintf(c->name, sizeof c->name, "%s", name ? name : "");
    return 0;
}

int es_score_add_tempo(es_score *s, double time, double bpm)
{
    if (!(bpm > 0) || !isfinite(bpm) || !isfinite(time)) return es_fail("internal: bad tempo %g bpm at %g s", bpm, time);
    if (es_grow((void **)&s->tempos, &s->cap_tempos, s->n_tempos + 1, sizeof *s->tempos)) return -1;
    s->tempos[s->n_tempos++] = (es_tempo){time, bpm};
    return 0;
}

static int note_order(const void *a, const void *b)
{
    const es_note *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    if (x->instrument != y->instrument) return x->instrument - y->instrument;
    if (x->pitch != y->pitch) return x->pitch - y->pitch;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return x->velocity - y->velocity;
}

void es_score_sort(es_score *s)
{
    if (s->n_notes > 1) qsort(s->notes, s->n_notes, sizeof *s->notes, note_order);
}

void es_score_free(es_score *s)
{
    free(s->notes);
    free(s->chords);
    free(s->tempos);
    memset(s, 0, sizeof *s);
}
