/* Notes -> EMSYNC tokens and the annotation readers; see tokenize.h. */
#include "music/tokenize.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "core/parse.h"
#include "music/emsync_vocab.h"

#define TICK 0.008
#define LOW_PITCH 21
#define HIGH_PITCH 108
#define MAX_TICKS 1800000L          /* 4 hours of music */
#define MAX_ANNOTATION_BYTES (16 << 20)
#define STRUCK_TOGETHER 0.030       /* s: piano notes this close count as one strike (bass split) */

enum { EV_CHORD, EV_BAR, EV_OFF, EV_ON };

typedef struct {
    long tick;
    int kind, order, pitch, token;
} event;

typedef struct {
    long on, off;
    int inst, pitch;
} qnote;

/* Instrument order at one instant (TRAINING: drums, bass, guitar, piano, strings). */
static int instrument_order(int inst)
{
    static const int order[ES_INSTRUMENT_COUNT] = {[ES_DRUMS] = 0, [ES_BASS] = 1, [ES_GUITAR] = 2, [ES_PIANO] = 3, [ES_STRINGS] = 4};
    return order[inst];
}

static int cmp_event(const void *a, const void *b)
{
    const event *x = a, *y = b;
    if (x->tick != y->tick) return x->tick < y->tick ? -1 : 1;
    if (x->kind != y->kind) return x->kind - y->kind;
    if (x->order != y->order) return x->order - y->order;
    return x->pitch - y->pitch;
}

/* By instrument, pitch, onset, then longest first. */
static int cmp_qnote(const void *a, const void *b)
{
    const qnote *x = a, *y = b;
    if (x->inst != y->inst) return x->inst - y->inst;
    if (x->pitch != y->pitch) return x->pitch - y->pitch;
    if (x->on != y->on) return x->on < y->on ? -1 : 1;
    return x->off > y->off ? -1 : x->off < y->off;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

static int cmp_index_by_start(const void *a, const void *b, void *ctx)
{
    const es_note *n = ctx;
    double x = n[*(const size_t *)a].start, y = n[*(const size_t *)b].start;
    return x < y ? -1 : x > y;
}

static long to_tick(double t) { return t <= 0 ? 0 : lround(t / TICK); }

/* Marks the piano notes that become bass (see tokenize.h): lowest of their strike, below the
 * threshold. is_bass has one flag per note. */
static int split_bass(const es_score *s, double below, unsigned char *is_bass)
{
    size_t n = 0, *idx = es_malloc((s->n_notes + 1) * sizeof *idx);
    if (!idx) return -1;
    for (size_t i = 0; i < s->n_notes; i++)
        if (s->notes[i].instrument == ES_PIANO) idx[n++] = i;
    qsort_r(idx, n, sizeof *idx, cmp_index_by_start, s->notes);
    for (size_t k = 0; k < n; k++) {
        const es_note *a = &s->notes[idx[k]];
        if (a->pitch >= below) continue;
        int lowest = 1;
        for (size_t j = k; lowest && j-- > 0 && a->start - s->notes[idx[j]].start <= STRUCK_TOGETHER;)
            if (s->notes[idx[j]].pitch <= a->pitch) lowest = 0;
        for (size_t j = k + 1; lowest && j < n && s->notes[idx[j]].start - a->start <= STRUCK_TOGETHER; j++)
            if (s->notes[idx[j]].pitch < a->pitch) lowest = 0;
        is_bass[idx[k]] = (unsigned char)lowest;
    }
    free(idx);
    return 0;
}

static int push_token(es_token_seq *q, int token, long *ticks_at, long cursor)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? 2 * q->cap : 1024;
        int *t = es_realloc(q->tokens, cap * sizeof *t);
        if (!t) return -1;
        q->tokens = t;
        float *d = es_realloc(q->deltas, cap * sizeof *d);
        if (!d) return -1;
        q->deltas = d;
        q->cap = cap;
    }
    ticks_at[q->n] = cursor;
    q->tokens[q->n++] = token;
    return 0;
}

int es_score_to_tokens(const es_score *s, const es_tokenize_options *opt, es_token_seq *out)
{
    int rc = -1;
    qnote *notes = NULL;
    event *ev = NULL;
    long *onsets = NULL, *ticks_at = NULL;
    unsigned char *is_bass = NULL;
    memset(out, 0, sizeof *out);

    if (!(is_bass = es_calloc(s->n_notes + 1, 1)) || !(notes = es_malloc((s->n_notes + 1) * sizeof *notes))) goto end;
    if (opt->bass_below > 0 && split_bass(s, opt->bass_below, is_bass)) goto end;
    size_t n = 0;
    long last = 0;
    for (size_t i = 0; i < s->n_notes; i++) {
        const es_note *a = &s->notes[i];
        if (a->pitch < LOW_PITCH || a->pitch > HIGH_PITCH) { out->dropped_range++; continue; }
        long on = to_tick(a->start), off = to_tick(a->end);
        if (off > MAX_TICKS) { es_fail("tokenize: music lasts over 4 hours (a note ends at %.0f s)", a->end); goto end; }
        if (off <= on) off = on + 1;
        notes[n++] = (qnote){on, off, is_bass[i] ? ES_BASS : a->instrument, a->pitch};
    }
    if (!n) { es_fail("tokenize: no notes in the playable range (MIDI pitches 21..108)"); goto end; }

    /* no overlaps within one instrument and pitch: a new strike ends the sounding note */
    qsort(notes, n, sizeof *notes, cmp_qnote);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (kept && notes[kept - 1].inst == notes[i].inst && notes[kept - 1].pitch == notes[i].pitch) {
            qnote *prev = &notes[kept - 1];
            if (notes[i].on == prev->on) continue; /* same strike twice: the longer one stays */
            if (notes[i].on < prev->off) prev->off = notes[i].on;
        }
        notes[kept++] = notes[i];
    }
    n = kept;

    size_t n_ev = 0, n_on = 0, cap_ev = 2 * n + opt->n_chords + opt->n_bars;
    if (!(ev = es_malloc(cap_ev * sizeof *ev)) || !(onsets = es_malloc(n * sizeof *onsets))) goto end;
    for (size_t i = 0; i < n; i++) {
        const qnote *a = &notes[i];
        int order = instrument_order(a->inst);
        ev[n_ev++] = (event){a->on, EV_ON, order, a->pitch, es_token_on((es_instrument)a->inst, a->pitch)};
        ev[n_ev++] = (event){a->off, EV_OFF, order, a->pitch, es_token_off((es_instrument)a->inst, a->pitch)};
        if (a->off > last) last = a->off;
        if (a->inst != ES_DRUMS) onsets[n_on++] = a->on;
    }
    out->notes = n;
    qsort(onsets, n_on, sizeof *onsets, cmp_long);
    long snap = opt->chord_snap > 0 ? lround(opt->chord_snap / TICK) : 0;
    for (size_t i = 0; i < opt->n_chords; i++) {
        if (!isfinite(opt->chords[i]) || opt->chords[i] < 0) continue;
        long t = to_tick(opt->chords[i]);
        if (snap && n_on) { /* nearest pitched onset */
            size_t lo = 0, hi = n_on;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (onsets[mid] < t) lo = mid + 1; else hi = mid;
            }
            long best = -1;
            if (lo < n_on) best = onsets[lo];
            if (lo > 0 && (best < 0 || t - onsets[lo - 1] <= best - t)) best = onsets[lo - 1];
            if (best >= 0 && labs(best - t) <= snap) t = best;
        }
        if (t <= last) ev[n_ev++] = (event){t, EV_CHORD, 0, 0, ES_TOK_CHORD};
    }
    for (size_t i = 0; i < opt->n_bars; i++) {
        if (!isfinite(opt->bars[i]) || opt->bars[i] < 0) continue;
        long t = to_tick(opt->bars[i]);
        if (t <= last) ev[n_ev++] = (event){t, EV_BAR, 0, 0, ES_TOK_BAR};
    }
    qsort(ev, n_ev, sizeof *ev, cmp_event);

    /* at most n_ev events plus one shift per started second and one per gap */
    size_t max_tokens = n_ev + (size_t)(last / 125) + n_ev + 1;
    if (!(ticks_at = es_malloc(max_tokens * sizeof *ticks_at))) goto end;
    long cursor = 0;
    for (size_t i = 0; i < n_ev; i++) {
        const event *e = &ev[i];
        if ((e->kind == EV_CHORD || e->kind == EV_BAR) && i && ev[i - 1].kind == e->kind && ev[i - 1].tick == e->tick) continue;
        if (e->tick > cursor) {
            long gap = e->tick - cursor;
            for (; gap > 125; gap -= 125)
                if (push_token(out, es_token_timeshift(125), ticks_at, cursor += 125)) goto end;
            if (push_token(out, es_token_timeshift((int)gap), ticks_at, cursor += gap)) goto end;
        }
        if (push_token(out, e->token, ticks_at, cursor)) goto end;
        if (e->kind == EV_CHORD) out->chords++;
        if (e->kind == EV_BAR) out->bars++;
    }
    /* offsets, from the end: the next <CHORD> strictly after each token */
    long next_chord = -1;
    for (size_t j = out->n; j-- > 0;) {
        out->deltas[j] = next_chord < 0 ? 8.0f : (float)fmin(8.0, (double)(next_chord - ticks_at[j]) * TICK);
        if (out->tokens[j] == ES_TOK_CHORD) next_chord = ticks_at[j];
    }
    out->seconds = (double)cursor * TICK;
    rc = 0;
end:
    if (rc) es_token_seq_free(out);
    free(ticks_at);
    free(onsets);
    free(ev);
    free(notes);
    free(is_bass);
    return rc;
}

void es_token_seq_free(es_token_seq *q)
{
    free(q->tokens);
    free(q->deltas);
    memset(q, 0, sizeof *q);
}

/* ---- annotation files -------------------------------------------------------------------- */

/* Reads a whole text file (size-capped, no NUL bytes). Caller frees. */
static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) { es_fail("%s: %s", path, strerror(errno)); return NULL; }
    struct stat st;
    char *text = NULL;
    if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) es_fail("%s: not a regular file", path);
    else if (st.st_size > MAX_ANNOTATION_BYTES) es_fail("%s: too large for an annotation file", path);
    else if ((text = es_malloc((size_t)st.st_size + 1))) {
        size_t len = fread(text, 1, (size_t)st.st_size, f);
        text[len] = 0;
        if (memchr(text, 0, len)) {
            es_fail("%s: not a text file", path);
            free(text);
            text = NULL;
        }
    }
    fclose(f);
    return text;
}

/* Splits a line into up to max words (in place); comments after '#' are dropped. */
static int words_of(char *line, char **w, int max)
{
    char *hash = strchr(line, '#');
    if (hash) *hash = 0;
    int n = 0;
    for (char *save = NULL, *t = strtok_r(line, " \t\r", &save); t && n < max; t = strtok_r(NULL, " \t\r", &save)) w[n++] = t;
    return n;
}

static int push_time(double **a, size_t *n, size_t *cap, double t)
{
    if (es_grow((void **)a, cap, *n + 1, sizeof **a)) return -1;
    (*a)[(*n)++] = t;
    return 0;
}

static int parse_time(const char *s, double *t) { return es_parse_double(s, t) || *t < 0 || *t > 1e6 ? -1 : 0; }

int es_read_beat_file(const char *path, double **beats, size_t *n_beats, double **downbeats, size_t *n_downbeats)
{
    int rc = -1;
    size_t cap_b = 0, cap_d = 0;
    *beats = *downbeats = NULL;
    *n_beats = *n_downbeats = 0;
    char *text = read_text(path);
    if (!text) return -1;
    int line_no = 0;
    double prev = -1;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        line_no++;
        char *w[4];
        int nw = words_of(line, w, 4);
        if (!nw) continue;
        double t, down = 0;
        if (parse_time(w[0], &t) || (nw >= 3 && es_parse_double(w[2], &down))) {
            es_fail("%s:%d: expected 'time [beat downbeat]'", path, line_no);
            goto end;
        }
        if (t < prev) { es_fail("%s:%d: beat times go backwards", path, line_no); goto end; }
        prev = t;
        if (push_time(beats, n_beats, &cap_b, t) || (down == 1 && push_time(downbeats, n_downbeats, &cap_d, t))) goto end;
    }
    if (!*n_beats) { es_fail("%s: no beats", path); goto end; }
    rc = 0;
end:
    free(text);
    if (rc) {
        free(*beats);
        free(*downbeats);
        *beats = *downbeats = NULL;
        *n_beats = *n_downbeats = 0;
    }
    return rc;
}

int es_read_chord_file(const char *path, const double *beats, size_t n_beats, int min_beats, double **onsets,
                       size_t *n)
{
    int rc = -1;
    size_t cap = 0;
    *onsets = NULL;
    *n = 0;
    char *text = read_text(path);
    if (!text) return -1;
    int line_no = 0;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        line_no++;
        char *w[3];
        int nw = words_of(line, w, 3);
        if (!nw) continue;
        double a, b;
        if (nw < 3 || parse_time(w[0], &a) || parse_time(w[1], &b) || b < a) {
            es_fail("%s:%d: expected 'start end chord' with start <= end", path, line_no);
            goto end;
        }
        if (!strcmp(w[2], "N") || !strcmp(w[2], "X")) continue;
        if (beats) { /* beats within [start, end), with a little slack for rounding in the files */
            int count = 0;
            for (size_t i = 0; i < n_beats; i++)
                if (beats[i] >= a - 0.05 && beats[i] < b - 0.05) count++;
            if (count < min_beats) continue;
        }
        if (push_time(onsets, n, &cap, a)) goto end;
    }
    rc = 0;
end:
    free(text);
    if (rc) {
        free(*onsets);
        *onsets = NULL;
        *n = 0;
    }
    return rc;
}
