/* The piano-roll SVG (see pianoroll.h). The layout is worked out first (time span, pitch range,
 * drum rows), then one pass writes the elements: grid, bar lines, notes, boundaries, chords. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/outfile.h"
#include "core/xml.h"
#include "music/pianoroll.h"

#define LEFT 64      /* pitch labels */
#define RIGHT 16
#define ROLL_TOP 76  /* below the title, the legend and the chord names */
#define DRUM_ROW 9   /* pixels per drum sound */
#define GAP 22       /* between the pitched roll and the drum lane */
#define AXIS 34      /* time axis under everything */

static const char *const colour[ES_INSTRUMENT_COUNT] = {"#1f77b4", "#555555", "#2ca02c", "#d62728", "#9467bd"};

typedef struct {
    const es_score *s;
    const double *bounds;
    size_t n_bounds;
    double dur, px_per_s, row_h;
    int width, height, lo, hi; /* pitched range drawn, inclusive */
    int has_pitched, n_drum_rows, drum_top, present[ES_INSTRUMENT_COUNT];
    int drum_row[128];         /* row of each drum key, -1 when unused */
} layout;

static int inst_of(const es_note *n) { return n->instrument < ES_INSTRUMENT_COUNT ? n->instrument : ES_PIANO; }

/* GM percussion names for the keys composers use most; others are shown by number. */
static const char *drum_name(int key)
{
    switch (key) {
    case 35: case 36: return "kick";
    case 37: return "side stick";
    case 38: case 40: return "snare";
    case 39: return "clap";
    case 42: return "closed hat";
    case 44: return "pedal hat";
    case 46: return "open hat";
    case 41: case 43: return "low tom";
    case 45: case 47: return "mid tom";
    case 48: case 50: return "high tom";
    case 49: case 57: return "crash";
    case 51: case 59: return "ride";
    case 53: return "ride bell";
    case 54: return "tambourine";
    case 56: return "cowbell";
    default: return NULL;
    }
}

static double x_of(const layout *L, double t) { return LEFT + t * L->px_per_s; }

static double y_of_pitch(const layout *L, int p) { return ROLL_TOP + (L->hi - p) * L->row_h; }

static void plan(layout *L)
{
    const es_score *s = L->s;
    int lo = 127, hi = 0;
    memset(L->drum_row, -1, sizeof L->drum_row);
    int used[128] = {0};
    for (size_t i = 0; i < s->n_notes; i++) {
        const es_note *n = &s->notes[i];
        int p = n->pitch > 127 ? 127 : n->pitch;
        L->present[inst_of(n)] = 1;
        if (inst_of(n) == ES_DRUMS) {
            used[p] = 1;
        } else {
            lo = p < lo ? p : lo;
            hi = p > hi ? p : hi;
            L->has_pitched = 1;
        }
    }
    if (!L->has_pitched) lo = 57, hi = 69; /* an empty octave rather than no roll */
    L->lo = lo - 2 < 0 ? 0 : lo - 2;
    L->hi = hi + 2 > 127 ? 127 : hi + 2;
    int rows = L->hi - L->lo + 1;
    L->row_h = fmin(10, fmax(3, 420.0 / rows));
    for (int k = 127; k >= 0; k--) /* cymbals (high keys) on top, kick at the bottom */
        if (used[k]) L->drum_row[k] = L->n_drum_rows++;
    double plot_w = fmin(2400, fmax(800, 60 * L->dur));
    L->px_per_s = plot_w / L->dur;
    L->width = LEFT + (int)ceil(plot_w) + RIGHT;
    L->drum_top = ROLL_TOP + (int)ceil(rows * L->row_h) + GAP;
    L->height = L->drum_top + L->n_drum_rows * DRUM_ROW + AXIS;
}

/* Seconds between time-axis ticks: 1, 2, 5, 10 ... so that ticks are >= 50 px apart (beyond
 * two hours doubling, so that a huge duration still gets a few dozen ticks, not millions). */
static double tick_step(const layout *L)
{
    static const double steps[] = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (steps[i] * L->px_per_s >= 50) return steps[i];
    double step = 7200;
    while (step * L->px_per_s < 50) step *= 2;
    return step;
}

static void write_grid(FILE *f, const layout *L)
{
    double x0 = LEFT, x1 = LEFT + L->dur * L->px_per_s, bottom = L->drum_top + L->n_drum_rows * DRUM_ROW;
    /* the black keys shaded, a line and a label at every C */
    for (int p = L->lo; p <= L->hi; p++) {
        int pc = p % 12, black = pc == 1 || pc == 3 || pc == 6 || pc == 8 || pc == 10;
        double y = y_of_pitch(L, p);
        if (black)
            fprintf(f, "<rect class=\"key\" x=\"%.1f\" y=\"%.2f\" width=\"%.1f\" height=\"%.2f\" fill=\"#f3f3f3\"/>\n", x0, y,
                    x1 - x0, L->row_h);
        if (pc == 0) {
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.2f\" x2=\"%.1f\" y2=\"%.2f\" stroke=\"#ccc\"/>\n", x0, y + L->row_h, x1,
                    y + L->row_h);
            fprintf(f, "<text x=\"%d\" y=\"%.2f\" text-anchor=\"end\" fill=\"#666\">C%d</text>\n", LEFT - 6,
                    y + L->row_h, p / 12 - 1);
        }
    }
    fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%.2f\" fill=\"none\" stroke=\"#999\"/>\n", x0, ROLL_TOP,
            x1 - x0, (L->hi - L->lo + 1) * L->row_h);
    /* drum lane: one row per sound */
    if (L->n_drum_rows) {
        fprintf(f, "<text x=\"%d\" y=\"%d\" fill=\"#333\">drums</text>\n", LEFT, L->drum_top - 6);
        for (int k = 127; k >= 0; k--) {
            if (L->drum_row[k] < 0) continue;
            double y = L->drum_top + L->drum_row[k] * DRUM_ROW;
            const char *name = drum_name(k);
            if (L->drum_row[k] % 2)
                fprintf(f, "<rect class=\"key\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"#f3f3f3\"/>\n", x0,
                        y, x1 - x0, DRUM_ROW);
            fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" font-size=\"8\" fill=\"#666\">", LEFT - 6, y + DRUM_ROW - 1);
            if (name) fputs(name, f); else fprintf(f, "key %d", k);
            fputs("</text>\n", f);
        }
        fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>\n", x0, L->drum_top,
                x1 - x0, L->n_drum_rows * DRUM_ROW);
    }
    /* bar lines from the tempo map: 4/4 bars restarting at every tempo change (as the MIDI
     * writer notates them), drawn only when they are at least 6 px apart */
    const es_score *s = L->s;
    for (size_t k = 0; k < s->n_tempos; k++) {
        double a = k ? s->tempos[k].time : 0, b = k + 1 < s->n_tempos ? s->tempos[k + 1].time : L->dur;
        double bar = 4 * 60.0 / s->tempos[k].bpm;
        if (!(bar * L->px_per_s >= 6) || !(b > a)) continue;
        for (double t = a; t < fmin(b, L->dur) - 1e-6; t += bar)
            fprintf(f, "<line class=\"bar\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e2e2e2\"/>\n", x_of(L, t),
                    ROLL_TOP, x_of(L, t), bottom);
    }
    /* time axis */
    double step = tick_step(L);
    for (double t = 0; t <= L->dur + 1e-3; t += step) { /* a file's end may fall a tick short */
        double x = x_of(L, t);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#666\"/>\n", x, bottom, x, bottom + 5);
        if (step >= 60)
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#666\">%d:%02d</text>\n", x, bottom + 18,
                    (int)(t / 60), (int)fmod(t, 60));
        else
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#666\">%g s</text>\n", x, bottom + 18, t);
    }
}

static void write_svg(FILE *f, const void *user)
{
    const layout *L = user;
    const es_score *s = L->s;
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            "font-family=\"sans-serif\" font-size=\"11\">\n",
            L->width, L->height, L->width, L->height);
    fprintf(f, "<title>piano roll: %zu notes, %.1f s, %zu boundaries</title>\n", s->n_notes, L->dur, L->n_bounds);
    fprintf(f, "<rect class=\"background\" width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");

    /* legend: the instruments that play */
    double lx = LEFT;
    for (int i = 0; i < ES_INSTRUMENT_COUNT; i++) {
        if (!L->present[i]) continue;
        fprintf(f, "<rect class=\"legend\" x=\"%.0f\" y=\"12\" width=\"12\" height=\"12\" fill=\"%s\"/>", lx, colour[i]);
        fprintf(f, "<text x=\"%.0f\" y=\"22\">%s</text>\n", lx + 16, es_instrument_name((es_instrument)i));
        lx += 30 + 7 * strlen(es_instrument_name((es_instrument)i));
    }
    fprintf(f, "<line x1=\"%.0f\" y1=\"18\" x2=\"%.0f\" y2=\"18\" stroke=\"#ff7f0e\" stroke-width=\"2\" "
               "stroke-dasharray=\"5 3\"/><text x=\"%.0f\" y=\"22\">boundary</text>\n", lx, lx + 20, lx + 24);

    write_grid(f, L);

    /* notes, louder = more opaque; the sustained parts first so that short notes stay visible */
    static const int layer[ES_INSTRUMENT_COUNT] = {ES_STRINGS, ES_GUITAR, ES_PIANO, ES_BASS, ES_DRUMS};
    for (int li = 0; li < ES_INSTRUMENT_COUNT; li++) {
        for (size_t i = 0; i < s->n_notes; i++) {
            const es_note *n = &s->notes[i];
            int inst = inst_of(n), p = n->pitch > 127 ? 127 : n->pitch;
            if (inst != layer[li]) continue;
            double x = x_of(L, n->start), w = fmax(1.0, (n->end - n->start) * L->px_per_s);
            double y = inst == ES_DRUMS ? L->drum_top + L->drum_row[p] * DRUM_ROW + 1 : y_of_pitch(L, p);
            double h = inst == ES_DRUMS ? DRUM_ROW - 2 : L->row_h;
            if (inst == ES_DRUMS) w = fmin(w, 4); /* a hit, not a held sound */
            fprintf(f, "<rect class=\"note %s\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\" "
                       "fill-opacity=\"%.2f\"/>\n",
                    es_instrument_name((es_instrument)inst), x, y, w, h, colour[inst], 0.35 + 0.65 * n->velocity / 127.0);
        }
    }

    /* boundaries across everything, chord names along the top (a name is left out where it would
     * run into the previous one; its tick stays) */
    double bottom = L->drum_top + L->n_drum_rows * DRUM_ROW;
    for (size_t i = 0; i < L->n_bounds; i++) {
        double t = L->bounds[i];
        if (!(t >= 0 && t <= L->dur)) continue;
        fprintf(f, "<line class=\"boundary\" x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%.1f\" stroke=\"#ff7f0e\" "
                   "stroke-width=\"2\" stroke-dasharray=\"5 3\"/>\n", x_of(L, t), ROLL_TOP - 30, x_of(L, t), bottom);
    }
    double free_x = -1e9;
    for (size_t i = 0; i < s->n_chords; i++) {
        const es_chord *c = &s->chords[i];
        if (!(c->time >= 0 && c->time <= L->dur)) continue;
        double x = x_of(L, c->time);
        fprintf(f, "<line class=\"chord\" x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\" stroke=\"#333\"/>\n", x, ROLL_TOP - 10, x,
                ROLL_TOP);
        if (x < free_x) continue;
        fprintf(f, "<text class=\"chord\" x=\"%.2f\" y=\"%d\" fill=\"#333\">", x + 2, ROLL_TOP - 12);
        es_xml_text(f, c->name);
        fputs("</text>\n", f);
        free_x = x + 4 + 7 * strnlen(c->name, sizeof c->name);
    }
    fputs("</svg>\n", f);
}

int es_pianoroll_write_svg(const es_score *s, const double *boundaries, size_t n, const char *path)
{
    layout L = {.s = s, .bounds = boundaries, .n_bounds = boundaries ? n : 0};
    L.dur = s->duration > 0 ? s->duration : 0;
    for (size_t i = 0; !(s->duration > 0) && i < s->n_notes; i++) L.dur = fmax(L.dur, s->notes[i].end);
    if (!(L.dur > 0) || !isfinite(L.dur)) return es_fail("%s: nothing to draw (empty score)", path);
    plan(&L);
    return es_write_stream(path, write_svg, &L);
}
