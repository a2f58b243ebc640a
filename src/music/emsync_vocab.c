/* EMSYNC vocabulary and decoding of generated tokens into notes; see emsync_vocab.h. */
#include "music/emsync_vocab.h"

#include <stdio.h>

#include "core/error.h"

#define PITCHES 88
#define LOW_PITCH 21

int es_token_event(int id, es_event *ev)
{
    *ev = (es_event){ES_EV_PAD, -1, 0};
    if (id < 0 || id >= ES_VOCAB_SIZE) return -1;
    if (id == ES_TOK_PAD) ev->kind = ES_EV_PAD;
    else if (id == ES_TOK_START) ev->kind = ES_EV_START;
    else if (id == ES_TOK_BAR) ev->kind = ES_EV_BAR;
    else if (id == ES_TOK_CHORD) ev->kind = ES_EV_CHORD;
    else if (id < ES_TOK_NOTES) { ev->kind = ES_EV_TIMESHIFT; ev->value = id - ES_TOK_TIMESHIFT + 1; }
    else if (id < ES_TOK_LESS_INSTRUMENTS) {
        int k = id - ES_TOK_NOTES, group = k / PITCHES; /* OFF_BASS, ON_BASS, OFF_DRUMS, ... */
        ev->kind = group % 2 ? ES_EV_ON : ES_EV_OFF;
        ev->instrument = group / 2;
        ev->value = LOW_PITCH + k % PITCHES;
    } else ev->kind = id == ES_TOK_LESS_INSTRUMENTS ? ES_EV_LESS : ES_EV_MORE;
    return 0;
}

const char *es_token_name(int id)
{
    static const char *const notes[2 * ES_INSTRUMENT_COUNT] = {"OFF_BASS", "ON_BASS", "OFF_DRUMS", "ON_DRUMS", "OFF_GUITAR",
                                                              "ON_GUITAR", "OFF_PIANO", "ON_PIANO", "OFF_STRINGS", "ON_STRINGS"};
    es_event ev;
    if (es_token_event(id, &ev)) return "?";
    switch (ev.kind) {
    case ES_EV_PAD: return "<PAD>";
    case ES_EV_START: return "<START>";
    case ES_EV_BAR: return "<BAR>";
    case ES_EV_CHORD: return "<CHORD>";
    case ES_EV_TIMESHIFT: return "TIMESHIFT";
    case ES_EV_LESS: return "<LESS_INSTRUMENTS>";
    case ES_EV_MORE: return "<MORE_INSTRUMENTS>";
    default: return notes[(id - ES_TOK_NOTES) / PITCHES];
    }
}

double es_token_shift(int id)
{
    return id >= ES_TOK_TIMESHIFT && id < ES_TOK_NOTES ? (id - ES_TOK_TIMESHIFT + 1) * 0.008 : 0.0;
}

static int note_token(es_instrument inst, int pitch, int on)
{
    if ((int)inst < 0 || inst >= ES_INSTRUMENT_COUNT || pitch < LOW_PITCH || pitch >= LOW_PITCH + PITCHES) return -1;
    return ES_TOK_NOTES + (2 * (int)inst + on) * PITCHES + pitch - LOW_PITCH;
}

int es_token_on(es_instrument inst, int pitch) { return note_token(inst, pitch, 1); }
int es_token_off(es_instrument inst, int pitch) { return note_token(inst, pitch, 0); }
int es_token_timeshift(int ticks) { return ticks >= 1 && ticks <= 125 ? ES_TOK_TIMESHIFT + ticks - 1 : -1; }

/* Names the notes begun right after a <CHORD> (before the next TIMESHIFT): the root is the
 * lowest such pitch, the quality comes from the pitch classes above it. */
static void chord_name(unsigned mask, int lowest, int *root, char *name, size_t size)
{
    static const char *const pcs[12] = {"C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"};
    if (lowest > 127) { *root = -1; snprintf(name, size, "?"); return; }
    int r = lowest % 12;
    unsigned rel = 0; /* pitch classes relative to the root */
    for (int i = 0; i < 12; i++)
        if (mask & 1u << i) rel |= 1u << ((i - r + 12) % 12);
#define HAS(k) (rel & 1u << (k))
    const char *q = "";
    if (HAS(4) && HAS(8) && !HAS(7)) q = "aug";
    else if (HAS(3) && HAS(6) && !HAS(7)) q = HAS(9) ? "dim7" : HAS(10) ? "m7b5" : "dim";
    else if (HAS(3)) q = HAS(10) ? "m7" : "m";
    else if (HAS(4)) q = HAS(10) ? "7" : HAS(11) ? "maj7" : "";
    else if (HAS(5) && HAS(7)) q = "sus4";
    else if (HAS(2) && HAS(7)) q = "sus2";
    else if (HAS(7)) q = "5";
#undef HAS
    *root = r;
    snprintf(name, size, "%s%s", pcs[r], q);
}

static int close_chord(es_score *score, double t, unsigned mask, int lowest)
{
    int root;
    char name[16];
    chord_name(mask, lowest, &root, name, sizeof name);
    return es_score_add_chord(score, t, root, name);
}

int es_tokens_to_score(const int *tokens, size_t n, es_score *score)
{
    /* start time and velocity of each sounding (instrument, pitch); start < 0 = silent */
    double start[ES_INSTRUMENT_COUNT][PITCHES];
    int vel[ES_INSTRUMENT_COUNT][PITCHES];
    for (int i = 0; i < ES_INSTRUMENT_COUNT; i++)
        for (int p = 0; p < PITCHES; p++) start[i][p] = -1;
    long ticks = 0; /* integer ticks keep the cursor exact over long pieces */
    double t = 0, chord_t = 0;
    int after_chord = 0, chord_low = 128;
    unsigned chord_mask = 0;
    for (size_t k = 0; k < n; k++) {
        es_event ev;
        if (es_token_event(tokens[k], &ev)) return es_fail("decode: token %d is outside the vocabulary", tokens[k]);
        if ((ev.kind == ES_EV_TIMESHIFT || ev.kind == ES_EV_CHORD) && after_chord && close_chord(score, chord_t, chord_mask, chord_low))
            return -1;
        if (ev.kind == ES_EV_TIMESHIFT) {
            ticks += ev.value;
            t = ticks * 0.008;
            after_chord = 0;
        } else if (ev.kind == ES_EV_CHORD) {
            after_chord = 1;
            chord_t = t;
            chord_mask = 0;
            chord_low = 128;
        } else if (ev.kind == ES_EV_ON || ev.kind == ES_EV_OFF) {
            int i = ev.instrument, p = ev.value - LOW_PITCH;
            if (start[i][p] >= 0 && t > start[i][p] &&
                es_score_add_note(score, (es_instrument)i, ev.value, vel[i][p], start[i][p], t))
                return -1;
            start[i][p] = -1;
            if (ev.kind == ES_EV_ON && after_chord && i != ES_DRUMS) {
                chord_mask |= 1u << (ev.value % 12);
                if (ev.value < chord_low) chord_low = ev.value;
            }
            if (ev.kind == ES_EV_ON) {
                /* a repeated ON ends the sounding note and starts a new one */
                start[i][p] = t;
                vel[i][p] = after_chord && (i == ES_GUITAR || i == ES_PIANO) ? 120 : 80;
            }
        }
    }
    if (after_chord && close_chord(score, chord_t, chord_mask, chord_low)) return -1;
    for (int i = 0; i < ES_INSTRUMENT_COUNT; i++)
        for (int p = 0; p < PITCHES; p++)
            if (start[i][p] >= 0 && t > start[i][p] &&
                es_score_add_note(score, (es_instrument)i, LOW_PITCH + p, vel[i][p], start[i][p], t))
                return -1;
    return 0;
}
