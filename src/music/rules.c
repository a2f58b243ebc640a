/* The rules composer (see rules.h). Plan: sections from boundaries -> bars with exact tempos ->
 * one chord per bar from a valence-chosen progression -> per-bar textures chosen by arousal. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "music/rules.h"

#define MAX_DURATION 86400.0 /* 24 hours: EMSYNC_MAX_COMPOSE_SECONDS */
#define MIN_GAP 0.05         /* boundaries closer than this are one boundary */
#define SHORT_SECTION 1.2    /* below this a section is one held, accented chord */
#define SWELL_VELOCITY 12.0 /* velocity added over a section that builds toward a cut */

/* ---- harmony -------------------------------------------------------------------------------- */

enum { Q_MAJ, Q_MIN, Q_DIM, Q_SUS4, Q_SUS2, Q_DOM7, Q_MAJ7, Q_MIN7, Q_DIM7, Q_ADD9 };

static const struct {
    const char *suffix;
    int n;
    int iv[4];
} quality[] = {
    [Q_MAJ] = {"", 3, {0, 4, 7}},        [Q_MIN] = {"m", 3, {0, 3, 7}},
    [Q_DIM] = {"dim", 3, {0, 3, 6}},     [Q_SUS4] = {"sus4", 3, {0, 5, 7}},
    [Q_SUS2] = {"sus2", 3, {0, 2, 7}},   [Q_DOM7] = {"7", 4, {0, 4, 7, 10}},
    [Q_MAJ7] = {"maj7", 4, {0, 4, 7, 11}}, [Q_MIN7] = {"m7", 4, {0, 3, 7, 10}},
    [Q_DIM7] = {"dim7", 4, {0, 3, 6, 9}}, [Q_ADD9] = {"add9", 4, {0, 4, 7, 14}},
};

static const char *const pc_name[12] = {"C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"};

typedef struct {
    int8_t root; /* semitones above the tonic */
    uint8_t q;
} chord_t;

/* Valence classes: 0 bright major (tonic-heavy triads), 1 major with sevenths and minor chords,
 * 2 modal mixture halfway between the modes (borrowed bIII, iv, bVI and bVII, a dorian minor
 * tonic), 3 natural minor,
 * 4 dark minor (tonic-heavy, diminished chords; the leading tone only in the final cadence). */
static const chord_t progression[5][4][4] = {
    {{{0, Q_MAJ}, {5, Q_MAJ}, {7, Q_MAJ}, {0, Q_MAJ}},
     {{0, Q_MAJ}, {7, Q_MAJ}, {5, Q_MAJ}, {0, Q_MAJ}},
     {{0, Q_MAJ}, {5, Q_MAJ}, {0, Q_MAJ}, {7, Q_MAJ}},
     {{0, Q_MAJ}, {9, Q_MIN}, {2, Q_DOM7}, {7, Q_MAJ}}},
    {{{0, Q_MAJ}, {9, Q_MIN}, {2, Q_DOM7}, {7, Q_DOM7}},
     {{0, Q_MAJ7}, {5, Q_MAJ7}, {2, Q_MIN7}, {7, Q_DOM7}},
     {{0, Q_ADD9}, {7, Q_MAJ}, {9, Q_MIN}, {5, Q_MAJ}},
     {{0, Q_MAJ}, {4, Q_MIN}, {9, Q_MIN7}, {5, Q_MAJ7}}},
    {{{0, Q_MAJ}, {8, Q_MAJ}, {10, Q_MAJ}, {0, Q_MAJ}},
     {{0, Q_MIN}, {5, Q_MAJ}, {0, Q_MIN}, {10, Q_MAJ}},
     {{0, Q_MAJ}, {3, Q_MAJ}, {5, Q_MAJ}, {5, Q_MIN}},
     {{9, Q_MIN}, {5, Q_MAJ}, {0, Q_SUS2}, {10, Q_MAJ}}},
    {{{0, Q_MIN}, {8, Q_MAJ}, {3, Q_MAJ}, {10, Q_MAJ}},
     {{0, Q_MIN}, {5, Q_MIN}, {8, Q_MAJ}, {7, Q_MAJ}},
     {{0, Q_MIN7}, {5, Q_MIN7}, {10, Q_MAJ}, {3, Q_MAJ7}},
     {{0, Q_MIN}, {10, Q_MAJ}, {8, Q_MAJ}, {10, Q_MAJ}}},
    {{{0, Q_MIN}, {5, Q_MIN}, {0, Q_MIN}, {8, Q_MAJ}},
     {{0, Q_MIN}, {5, Q_MIN}, {2, Q_DIM}, {0, Q_MIN}},
     {{0, Q_MIN}, {8, Q_MAJ}, {2, Q_DIM}, {0, Q_MIN}},
     {{0, Q_MIN}, {5, Q_MIN7}, {0, Q_MIN}, {2, Q_DIM}}},
};
/* the chord that leads into a cut, the one before the final tonic, and the final tonic */
static const chord_t to_cut[5] = {{7, Q_MAJ}, {7, Q_DOM7}, {10, Q_MAJ}, {7, Q_MAJ}, {2, Q_DIM}};
static const chord_t pre_final[5] = {{7, Q_MAJ}, {7, Q_DOM7}, {5, Q_MIN}, {7, Q_MAJ}, {7, Q_DOM7}};
static const chord_t tonic[5] = {{0, Q_MAJ}, {0, Q_MAJ}, {0, Q_MAJ}, {0, Q_MIN}, {0, Q_MIN}};
/* melody scales: major, major, mixolydian, aeolian, aeolian (a chord's own tones win, see bar_scale) */
static const int mode_scale[5][7] = {
    {0, 2, 4, 5, 7, 9, 11}, {0, 2, 4, 5, 7, 9, 11}, {0, 2, 4, 5, 7, 9, 10},
    {0, 2, 3, 5, 7, 8, 10}, {0, 2, 3, 5, 7, 8, 10},
};

static int same_chord(chord_t a, chord_t b) { return a.root == b.root && a.q == b.q; }

/* ---- the plan: sections and bars ------------------------------------------------------------ */

typedef struct {
    double t0, t1;  /* seconds */
    double v, a;    /* mood, finite, in [-1, 1] */
    /* Valence and arousal as continuous positions on the five harmony classes (0 brightest ..
     * 4 darkest) and five texture levels (0 calmest .. 4 most active); each bar takes one of
     * the two nearest, in the share that the fraction says, so the music moves with every
     * change of mood instead of jumping at class edges. */
    double dark, energy;
    double dark_phase, energy_phase; /* where the dithering starts, drawn per section */
    int cls;        /* the nearest class: the tonic chord and the cadences */
    int cut;        /* starts at a boundary (accent) */
    int n_beats, n_bars, first_bar, prog; /* whole beats; bars of 4, the last one maybe shorter */
    double beat;    /* seconds per quarter note */
} section;

typedef struct {
    double t0, t1;
    int sec, index; /* section and bar index inside it */
    int beats;      /* 4, or fewer for a section's last bar */
    int cls, lv;    /* this bar's harmony class and texture level */
    chord_t chord;
} bar;

/* A two-voice motif for the whole piece: onsets and lengths in eighths within one bar, and
 * scale steps relative to the first note. */
typedef struct {
    int n;
    int on[6], len[6], step[6];
} motif;

static const int motif_rhythm[4][2][6] = {
    {{0, 2, 3, 4, 7, -1}, {2, 1, 1, 3, 1, 0}},
    {{0, 1, 2, 4, 6, -1}, {1, 1, 2, 2, 2, 0}},
    {{0, 3, 4, 6, -1, -1}, {3, 1, 2, 2, 0, 0}},
    {{1, 2, 3, 4, 6, -1}, {1, 1, 1, 2, 2, 0}},
};

typedef struct {
    const es_compose_request *req;
    es_score *out;
    es_rng rng;
    int key; /* tonic pitch class */
    section *secs;
    size_t n_secs;
    bar *bars;
    size_t n_bars;
    motif mot;
    /* voice-leading state */
    int piano[4], n_piano, strings[4], n_strings, guitar[4], n_guitar, bass, melody;
    double bar_t1;      /* end of the bar being rendered */
    size_t bar_first;   /* index in out->notes of the bar's first note */
    int mel_prev;       /* the last melody note (-1: none) */
    int bass_last;      /* the last bass note of the previous bar (-1: none) */
} composer;

static double clampd(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

static double finite_or_zero(double x) { return isfinite(x) ? clampd(x, -1, 1) : 0.0; }

typedef struct {
    double t;
    int cut; /* 1 at a boundary, 0 at a mood change away from boundaries */
} edge_t;

static int push_edge(edge_t **e, size_t *n, size_t *cap, double t, int cut)
{
    if (es_grow((void **)e, cap, *n + 1, sizeof **e)) return -1;
    (*e)[(*n)++] = (edge_t){t, cut};
    return 0;
}

/* Sections between cuts (and mood changes further than 1 s from any cut), with whole beats.
 * Linear in the number of boundaries and moods (both ascending). */
static int plan_sections(composer *c)
{
    const es_compose_request *req = c->req;
    double D = req->duration;
    edge_t *cuts = NULL, *soft = NULL, *edge = NULL;
    size_t nc = 0, capc = 0, ns = 0, caps = 0, n = 0, cap = 0;
    int rc = -1;
    if (push_edge(&cuts, &nc, &capc, 0.0, 0)) goto end;
    for (size_t i = 0; i < req->n_boundaries; i++) {
        double b = req->boundaries[i];
        if (b < MIN_GAP || b > D - MIN_GAP || b - cuts[nc - 1].t < MIN_GAP) continue;
        if (push_edge(&cuts, &nc, &capc, b, 1)) goto end;
    }
    /* mood changes away from cuts become soft section edges (chord change, no crash) */
    size_t k = 0;
    for (size_t i = 1; i < req->n_moods; i++) {
        double t = req->moods[i].start;
        if (!(t > 1.0 && t < D - 1.0) || (ns && t - soft[ns - 1].t < 1.0)) continue;
        while (k < nc && cuts[k].t < t) k++;
        if ((k < nc && cuts[k].t - t < 1.0) || (k > 0 && t - cuts[k - 1].t < 1.0)) continue;
        if (push_edge(&soft, &ns, &caps, t, 0)) goto end;
    }
    for (size_t i = 0, j = 0; i < nc || j < ns;) {
        edge_t e = j >= ns || (i < nc && cuts[i].t <= soft[j].t) ? cuts[i++] : soft[j++];
        if (push_edge(&edge, &n, &cap, e.t, e.cut)) goto end;
    }
    if (!(c->secs = es_calloc(n, sizeof *c->secs))) goto end;
    c->n_secs = n;
    size_t total_bars = 0, mood = 0;
    for (k = 0; k < n; k++) {
        section *s = &c->secs[k];
        s->t0 = edge[k].t;
        s->t1 = k + 1 < n ? edge[k + 1].t : D;
        s->cut = edge[k].cut;
        double mid = 0.5 * (s->t0 + s->t1); /* the mood in force there (es_mood_at, walked) */
        while (mood + 1 < req->n_moods && req->moods[mood + 1].start <= mid) mood++;
        const es_mood_segment *m = &req->moods[mood];
        s->v = finite_or_zero(m->valence);
        s->a = finite_or_zero(m->arousal);
        /* class and level centres at -0.8, -0.4, 0, 0.4, 0.8 */
        s->dark = clampd(2 - 2.5 * s->v, 0, 4);
        s->energy = clampd(2 + 2.5 * s->a, 0, 4);
        s->cls = (int)lround(s->dark);
        s->dark_phase = es_rng_uniform(&c->rng);
        s->energy_phase = es_rng_uniform(&c->rng);
        /* tempo on a ratio scale (a tempo difference is heard relative to the tempo): arousal
         * drives it (x1.13 per 0.3), valence adds to it (x1.055 per 0.3), 56..170 bpm; then whole beats fill the section
         * exactly (the count whose tempo is nearest in ratio to the wanted one). Bars are 4/4 but
         * the last one of a section may be shorter, so the next section starts on a downbeat
         * (the MIDI writer notates that bar as 1/4, 2/4 or 3/4). */
        double want = 96 * exp(0.4 * s->a + 0.18 * s->v), L = s->t1 - s->t0;
        double beats = L * want / 60;
        int lo = (int)floor(beats), hi = lo + 1;
        if (lo < 1) s->n_beats = 1;
        else s->n_beats = log(beats / lo) <= log(hi / beats) ? lo : hi;
        s->n_bars = (s->n_beats + 3) / 4;
        s->beat = L / s->n_beats;
        s->prog = (int)es_rng_below(&c->rng, 4);
        s->first_bar = (int)total_bars;
        total_bars += (size_t)s->n_bars;
    }
    if (!(c->bars = es_calloc(total_bars, sizeof *c->bars))) goto end;
    c->n_bars = total_bars;
    rc = 0;
end:
    free(edge);
    free(soft);
    free(cuts);
    return rc;
}

/* Bar b's pick between the two positions nearest x: floor(x), or the next one in a share of
 * bars equal to x's fraction, spread evenly from `phase` (error diffusion). */
static int dither(double x, double phase, int b, int top)
{
    int base = (int)floor(x);
    double f = x - base;
    int up = (int)(floor(phase + (b + 1) * f) - floor(phase + b * f));
    int k = base + up;
    return k > top ? top : k;
}

/* One chord per bar: the section's progression, a cadential chord into each cut, a cadence at
 * the end, and never the same chord on both sides of a section edge. */
static void plan_chords(composer *c)
{
    for (size_t k = 0; k < c->n_secs; k++) {
        const section *s = &c->secs[k];
        int final = k + 1 == c->n_secs;
        for (int b = 0; b < s->n_bars; b++) {
            bar *br = &c->bars[s->first_bar + b];
            br->sec = (int)k;
            br->index = b;
            br->t0 = s->t0 + 4.0 * b * s->beat;
            br->t1 = b + 1 == s->n_bars ? s->t1 : s->t0 + 4.0 * (b + 1) * s->beat;
            br->beats = b + 1 == s->n_bars ? s->n_beats - 4 * b : 4;
            /* the final tonic lasts at least a full bar: a short last bar extends it */
            int short_end = s->n_beats % 4 != 0 && s->n_bars >= 3;
            int tonic_from = s->n_bars - 1 - short_end;
            br->cls = dither(s->dark, s->dark_phase, b, 4);
            br->lv = dither(s->energy, s->energy_phase, b, 4);
            chord_t ch = progression[br->cls][s->prog][b % 4];
            if (final && b >= tonic_from) ch = tonic[s->cls];
            /* (not on the first bar: the cadence into the cut before it comes just before) */
            else if (final && b == tonic_from - 1 && b > 0) ch = pre_final[s->cls];
            /* a half cadence into every cut of a section of two bars or more: V, bVII in the modal
             * middle, ii° when dark, on the last bar */
            else if (!final && s->n_bars >= 2 && b == s->n_bars - 1) ch = to_cut[s->cls];
            br->chord = ch;
        }
    }
    /* the chord before each section edge must differ from the one after it: sections keep their
     * opening chord (usually the tonic) and the chord leading into the edge changes. Last edge
     * first, so that a one-bar section changed here is checked against the edge before it. */
    for (size_t k = c->n_secs - 1; k >= 1; k--) {
        bar *before = &c->bars[c->secs[k].first_bar - 1], *after = &c->bars[c->secs[k].first_bar];
        if (!same_chord(before->chord, after->chord)) continue;
        const section *s = &c->secs[k - 1];
        chord_t alt[3] = {to_cut[s->cls], progression[s->cls][0][1], progression[s->cls][0][2]};
        /* and, if it can, from the bar before it: a one-bar section must not take the dominant
         * that the section before it leads into the cut with */
        const bar *earlier = c->secs[k].first_bar >= 2 ? before - 1 : NULL;
        int pick = -1; /* the first alternative that differs from both, else from `after` */
        for (int i = 0; i < 3 && pick < 0; i++)
            if (!same_chord(alt[i], after->chord) && (!earlier || !same_chord(alt[i], earlier->chord))) pick = i;
        for (int i = 0; i < 3 && pick < 0; i++)
            if (!same_chord(alt[i], after->chord)) pick = i;
        if (pick >= 0) before->chord = alt[pick];
    }
}

static void make_motif(composer *c)
{
    const int (*r)[6] = motif_rhythm[es_rng_below(&c->rng, 4)];
    motif *m = &c->mot;
    m->n = 0;
    int step = 0;
    for (int i = 0; i < 6 && r[0][i] >= 0; i++) {
        m->on[m->n] = r[0][i];
        m->len[m->n] = r[1][i];
        m->step[m->n] = step;
        m->n++;
        int d = (int)es_rng_below(&c->rng, 5) - 2; /* a step or a small leap, up or down */
        if (d == 0) d = 1;
        step = step + d > 4 ? step - 1 : step + d < -3 ? step + 1 : step + d;
    }
}

/* ---- note output ---------------------------------------------------------------------------- */

static const int range_lo[ES_INSTRUMENT_COUNT] = {28, 35, 40, 21, 36};
static const int range_hi[ES_INSTRUMENT_COUNT] = {55, 81, 84, 96, 96};

/* Adds a note clipped to the bar being rendered (patterns are written for 4/4 and a section's
 * last bar may be shorter) and so to the piece. */
static int note(composer *c, es_instrument inst, int pitch, double vel, double t0, double t1)
{
    if (t0 >= c->bar_t1 - 1e-9) return 0;
    if (t1 > c->bar_t1) t1 = c->bar_t1;
    if (t0 < 0) t0 = 0;
    if (t1 - t0 < 0.01) return 0;
    if (inst != ES_DRUMS) {
        while (pitch < range_lo[inst]) pitch += 12;
        while (pitch > range_hi[inst]) pitch -= 12;
    }
    int v = (int)lround(vel + (es_rng_uniform(&c->rng) - 0.5) * 8); /* a little human variation */
    v = v < 1 ? 1 : v > 127 ? 127 : v;
    /* One key cannot sound twice (MIDI would drop or cut one): parts that meet on a pitch (the
     * melody on a chord tone, an arpeggio coming back) share it. Notes never outlast their bar,
     * so only this bar's notes can collide. */
    es_note *same = NULL;
    for (size_t i = c->bar_first; i < c->out->n_notes; i++) {
        es_note *e = &c->out->notes[i];
        if (e->instrument != inst || e->pitch != pitch) continue;
        if (fabs(e->start - t0) < 0.01) same = e;          /* one onset: merged below */
        else if (e->start < t0 && e->end > t0) e->end = t0; /* the earlier one stops here */
        else if (e->start > t0 && e->start < t1) t1 = e->start; /* this one stops at the later one */
    }
    if (same) { /* one note, the longer and louder */
        same->end = fmax(same->end, t1);
        same->velocity = (uint8_t)(v > same->velocity ? v : same->velocity);
        return 0;
    }
    if (t1 - t0 < 0.01) return 0;
    return es_score_add_note(c->out, inst, pitch, v, t0, t1);
}

static void chord_pcs(const composer *c, chord_t ch, int *pcs, int *n)
{
    *n = quality[ch.q].n;
    for (int i = 0; i < *n; i++) pcs[i] = (c->key + ch.root + quality[ch.q].iv[i]) % 12;
}

/* Close voicing of the chord nearest (by total movement) to the previous voicing, kept near
 * `center`; lowest note in [lo, hi]. Writes n notes ascending into out. */
static void voice(const int *pcs, int n, int center, int lo, int hi, const int *prev, int n_prev, int *out)
{
    double best = 1e9;
    for (int inv = 0; inv < n; inv++)
        for (int base = lo; base <= hi; base++) {
            if (base % 12 != pcs[inv]) continue;
            /* the other chord tones in ascending order within the octave above the base (a 9th
             * listed last in the chord still lands between its neighbours) */
            int cand[4], sum = 0, m = 1;
            cand[0] = base;
            for (int j = 1; j < n; j++) {
                int iv = (pcs[(inv + j) % n] - base % 12 + 12) % 12, k = m++;
                for (; k > 1 && cand[k - 1] - base > iv; k--) cand[k] = cand[k - 1];
                cand[k] = base + iv;
            }
            for (int j = 0; j < n; j++) sum += cand[j];
            double cost = 0.5 * fabs((double)sum / n - center);
            for (int j = 0; j < n && n_prev; j++) {
                int d = 99;
                for (int i = 0; i < n_prev; i++) d = abs(cand[j] - prev[i]) < d ? abs(cand[j] - prev[i]) : d;
                cost += d;
            }
            if (cost < best) {
                best = cost;
                memcpy(out, cand, (size_t)n * sizeof *cand);
            }
        }
}

/* The top `want` notes (1 or 2) of a chord as a line: the chord tones in [lo, hi] nearest to the
 * previous top notes, kept near `center`, so a thin pad moves by steps instead of jumping with
 * the top of a hidden full voicing. Without a previous note, the top of `full`. */
static void line(const int *pcs, int n, int center, int lo, int hi, const int *prev, int n_prev, const int *full,
                 int want, int *out)
{
    if (!n_prev) {
        memcpy(out, full + n - want, (size_t)want * sizeof *out);
        return;
    }
    int cand[32], m = 0;
    for (int p = lo; p <= hi && m < 32; p++)
        for (int i = 0; i < n; i++)
            if (p % 12 == pcs[i]) cand[m++] = p;
    int top = prev[n_prev - 1], low = n_prev >= 2 ? prev[n_prev - 2] : top - 4;
    double best = 1e9;
    for (int j = 0; j < m; j++)
        for (int i = want == 2 ? 0 : j; i <= j; i++) {
            if (want == 2 && (i == j || cand[j] - cand[i] > 9)) continue;
            double cost = abs(cand[j] - top) + 0.25 * abs(cand[j] - center);
            if (want == 2) cost += abs(cand[i] - low);
            if (cost < best) {
                best = cost;
                out[0] = cand[want == 2 ? i : j];
                if (want == 2) out[1] = cand[j];
            }
        }
}

/* Scale for the melody in this bar: the mode, with chord tones replacing clashing neighbours. */
static void bar_scale(const composer *c, int cls, chord_t ch, int *scale)
{
    int in[12] = {0}, pcs[4], n;
    for (int i = 0; i < 7; i++) in[(c->key + mode_scale[cls][i]) % 12] = 1;
    chord_pcs(c, ch, pcs, &n);
    for (int i = 0; i < n; i++)
        if (!in[pcs[i]]) {
            in[(pcs[i] + 1) % 12] = in[(pcs[i] + 11) % 12] = 0;
            in[pcs[i]] = 1;
        }
    memcpy(scale, in, sizeof in);
}

/* The pitch `steps` scale steps from p (p itself on the scale). */
static int scale_step(const int *scale, int p, int steps)
{
    while (steps > 0) {
        do p++; while (!scale[p % 12]);
        steps--;
    }
    while (steps < 0) {
        do p--; while (!scale[p % 12]);
        steps++;
    }
    return p;
}

static int nearest_pc(int pc, int target)
{
    int p = target - ((target - pc) % 12 + 12) % 12;
    return target - p > 6 ? p + 12 : p;
}

/* The bass note sounding at t (rendered earlier in this bar; the previous bar's last one at the
 * bar start when `before`), or the last one started before t; -1 when none. */
static int bass_at(const composer *c, double t, int before)
{
    int p = before ? c->bass_last : -1;
    double best = -1e30;
    for (size_t i = c->bar_first; i < c->out->n_notes; i++) {
        const es_note *n = &c->out->notes[i];
        if (n->instrument != ES_BASS) continue;
        double s = n->start;
        if ((before ? s < t - 1e-9 : s <= t + 1e-9) && s > best) best = s, p = n->pitch;
    }
    return p;
}

/* ---- one bar of each instrument ------------------------------------------------------------- */

static int render_bar(composer *c, size_t bi)
{
    const bar *br = &c->bars[bi];
    const section *s = &c->secs[br->sec];
    const bar *next = bi + 1 < c->n_bars ? &c->bars[bi + 1] : NULL;
    double a = s->a, v = s->v, bt = s->beat, t0 = br->t0, t1 = br->t1, nb = br->beats;
    int lv = br->lv;
    int first = br->index == 0, last = br->index == s->n_bars - 1;
    int final = bi + 1 == c->n_bars;
    int held = final || (s->t1 - s->t0) < SHORT_SECTION;
    int accent = first && s->cut;
    int fill = last && !final && s->n_bars >= 2 && !held;
    double gate = 0.8 - 0.2 * a;  /* legato when calm, detached when excited, all the way */
    c->bar_t1 = t1;
    c->bar_first = c->out->n_notes;
    double boost = accent ? 22 : first ? 10 : 0;
#define T(beats) (t0 + (beats) * bt)
#define CHK(x) do { if (x) return -1; } while (0)

    int pcs[4], n;
    chord_pcs(c, br->chord, pcs, &n);
    int root = pcs[0];

    /* voicings: piano and strings rise with arousal and valence (register cue) */
    int pv[4], sv[4], gv[4];
    int pc_center = 60 + (int)lround(3 * a + 6 * v);
    voice(pcs, n, pc_center, pc_center - 8, pc_center + 4, c->piano, c->n_piano, pv);
    /* strings: a pad, pulsing at high arousal; two voices over the piano's arpeggio, one once the
     * guitar strums (the piano and guitar have the chord, the bass its root: real ensembles
     * rarely double the chord three times) */
    int voices = n < 3 ? n : lv <= 1 ? 2 : 1, s_center = 57 + (int)lround(4 * a + 4 * v);
    voice(pcs, n, s_center, 50, 64, c->strings, c->n_strings, sv);
    if (voices < n) {
        int full[4];
        memcpy(full, sv, sizeof full);
        line(pcs, n, s_center + 7, 55, 76, c->strings, c->n_strings, full, voices, sv);
    }
    voice(pcs, n, 60 + (int)lround(5 * v), 52, 66, c->guitar, c->n_guitar, gv);
    memcpy(c->piano, pv, sizeof pv), c->n_piano = n;
    memcpy(c->strings, sv, sizeof sv), c->n_strings = voices;
    memcpy(c->guitar, gv, sizeof gv), c->n_guitar = n;
    int bass = nearest_pc(root, c->bass ? c->bass : 36);
    if (bass < 28) bass += 12;
    if (bass > 47) bass -= 12;
    c->bass = bass;
    int next_root = next ? nearest_pc((c->key + next->chord.root) % 12, bass) : bass;

    /* loudness with arousal and valence (about 1 dB per 0.3 of valence at mid velocities) */
    double vp = 58 + 24 * a + 18 * v, vs = 50 + 22 * a + 18 * v, vg = 56 + 24 * a + 18 * v, vb = 66 + 20 * a + 12 * v,
           vd = 66 + 30 * a + 12 * v;
    /* a section that leads into a cut swells toward it, so the accent on the cut is its climax */
    const section *following = (size_t)br->sec + 1 < c->n_secs ? &c->secs[br->sec + 1] : NULL;
    if (following && following->cut && s->n_bars >= 3) {
        double phrase = (double)br->index / (s->n_bars - 1);
        double swell = SWELL_VELOCITY * phrase * phrase;
        vp += swell, vs += swell, vg += swell, vb += 0.5 * swell, vd += 0.5 * swell;
    }

    int pulses = held || lv <= 2 ? 1 : 2;
    for (int p = 0; p < pulses; p++) {
        double a0 = T(nb * p / pulses), a1 = p + 1 == pulses ? t1 : T(nb * (p + 1) / pulses);
        double e = pulses == 1 ? a1 : a0 + (a1 - a0) * gate;
        double vel = vs + (p == 0 ? boost : 0);
        for (int i = 0; i < voices; i++) CHK(note(c, ES_STRINGS, sv[i], vel, a0, e));
    }

    /* bass */
    if (held || lv == 0) {
        CHK(note(c, ES_BASS, bass, vb + boost, t0, t1));
    } else {
        static const double on[4][8] = {{0, 2}, {0, 1, 2, 3}, {0, 1.5, 2, 3, 3.5}, {0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5}};
        static const int cnt[4] = {2, 4, 5, 8};
        static const int8_t what[4][8] = {{0, 1}, {0, 0, 1, 3}, {0, 0, 1, 2, 3}, {0, 0, 2, 0, 1, 0, 2, 3}};
        int k = lv - 1;
        for (int i = 0; i < cnt[k]; i++) {
            double b0 = on[k][i], b1 = i + 1 < cnt[k] ? fmin(on[k][i + 1], nb) : nb;
            int w = what[k][i], p = w == 0 ? bass : w == 1 ? bass + 7 : w == 2 ? bass + 12 : next_root - 1;
            if (w == 1 && n >= 3) p = bass + ((pcs[2] - root + 12) % 12); /* the chord's own fifth */
            if (w == 3 && !next) p = bass;
            double len = (b1 - b0) * (lv >= 3 ? gate : 0.95);
            CHK(note(c, ES_BASS, p, vb + (i == 0 ? boost : 0) + (fmod(b0, 1) != 0 ? 6 : 0), T(b0), T(b0) + len * bt));
        }
    }

    /* piano: the full chord on every section start; arpeggios when calm, comping when excited */
    if (held || first) {
        double e = held ? t1 : lv <= 1 ? T(1.5) : T(gate);
        for (int i = 0; i < n; i++) CHK(note(c, ES_PIANO, pv[i], vp + boost, t0, e));
    }
    if (!held) {
        if (lv <= 2) { /* the calmest softer */
            static const int up_down[8] = {0, 1, 2, 3, 4, 3, 2, 1};
            for (int i = first ? 1 : 0; i < 8; i++) {
                int k = up_down[i], p = k < n ? pv[k] : pv[k - n] + 12;
                /* each note rings a little into the next, pedal-like */
                CHK(note(c, ES_PIANO, p, vp - (i % 2 ? 8 : 2) - (lv == 0 ? 6 : 0), T(0.5 * i), fmin(T(0.5 * i + 0.75), t1)));
            }
        } else {
            static const double comp3[3] = {0, 1.5, 3}, comp4[4] = {0, 1.5, 2.5, 3.5};
            const double *on = lv == 3 ? comp3 : comp4;
            int cnt = lv == 3 ? 3 : 4;
            /* the upper notes (the bass has the root); over a four-note chord at level 3, whose
             * strums ring longest, the top two, so the texture stays as thick as real songs' */
            int from = n > 2 ? (lv == 3 && n > 3 ? 2 : 1) : 0;
            for (int i = first ? 1 : 0; i < cnt; i++)
                for (int j = from; j < n; j++)
                    CHK(note(c, ES_PIANO, pv[j], vp + (fmod(on[i], 1) ? 6 : 0), T(on[i]), T(on[i]) + 0.5 * gate * bt * (lv == 3 ? 2 : 1)));
        }
    }

    /* guitar: strums from medium arousal up (down strums low to high, up strums the top three) */
    if (lv >= 2) {
        static const double st2[2] = {0, 2}, st3[4] = {0, 1, 2.5, 3}, st4[5] = {0, 1, 1.5, 2.5, 3.5};
        const double *on = held ? st2 : lv == 2 ? st2 : lv == 3 ? st3 : st4;
        int cnt = held ? 1 : lv == 2 ? 2 : lv == 3 ? 4 : 5;
        /* the chord's own notes (the bass has the root); up strums catch the upper ones */
        for (int i = 0; i < cnt; i++) {
            int up = fmod(on[i], 1) != 0;
            double b1 = held ? nb : i + 1 < cnt ? fmin(on[i + 1], nb) : nb;
            double e = held ? t1 : T(on[i] + (b1 - on[i]) * gate * (lv == 2 ? 0.5 : 1)); /* lv 2: light */
            double vel = vg + (i == 0 ? boost : 0) + (up ? -10 : 0) + (on[i] == 1 || on[i] == 3 ? 6 : 0);
            /* over a four-note chord at level 3 the down strums leave out the lowest string */
            int skip = lv == 3 && n > 3 && !up && !held ? 1 : 0;
            for (int j = skip; j < n; j++) {
                int k = up ? n - 1 - j : j;
                if (up && j >= n - 1) break;
                CHK(note(c, ES_GUITAR, gv[k], vel, T(on[i]) + 0.012 * (j - skip), e));
            }
        }
    }

    /* drums: crash + kick on every cut; grooves from medium arousal up; fills into cuts */
    if (accent || (final && lv >= 2)) {
        CHK(note(c, ES_DRUMS, 49, lv <= 1 ? 62 + 10 * lv : vd + 20, t0, t0 + 1.5));
        if (lv >= 1) CHK(note(c, ES_DRUMS, 36, vd + 15, t0, t0 + 0.2));
    }
    if (!held && lv >= 2) {
        double fill_from = fill ? fmax(0, nb - (lv == 4 ? 2 : 1)) : nb;
        /* kick, snare (cross-stick when medium) and hats by level */
        static const double kick[3][5] = {{0, 2}, {0, 2, 2.5}, {0, 1.5, 2, 3.5}};
        static const int kcnt[3] = {2, 3, 4};
        int k = lv - 2;
        for (int i = 0; i < kcnt[k]; i++)
            if (kick[k][i] < fill_from && !(accent && kick[k][i] == 0))
                CHK(note(c, ES_DRUMS, 36, vd + (kick[k][i] == 0 ? 8 : 0), T(kick[k][i]), T(kick[k][i]) + 0.15));
        for (int b = 1; b < 4; b += 2)
            if (b < fill_from) CHK(note(c, ES_DRUMS, lv == 2 ? 37 : 38, vd + 4, T(b), T(b) + 0.15));
        for (double h = 0, step = 0.5; h < fill_from - 1e-9; h += step) {
            int open = lv == 4 && h == 3.5;
            if (accent && h == 0) continue; /* the crash speaks there */
            CHK(note(c, ES_DRUMS, open ? 46 : 42, vd - 18 + (fmod(h, 1) == 0 ? 10 : 0), T(h), T(h) + step * bt * 0.9));
        }
        if (fill) { /* snare and toms, crescendo into the cut */
            static const int toms[4] = {38, 50, 47, 45};
            double fstep = lv == 2 ? 0.5 : 0.25;
            int i = 0;
            for (double h = fill_from; h < nb - 1e-9; h += fstep, i++)
                CHK(note(c, ES_DRUMS, lv == 2 ? 38 : toms[(i / 2) % 4], vd - 10 + 4 * i, T(h), T(h) + fstep * bt * 0.9));
        }
    }

    /* melody (piano, upper register): the piece's motif on this bar's chord; a rising pickup into
     * cuts when calm; the tonic held at the end */
    if (lv >= 1 || final || fill) {
        int scale[12];
        bar_scale(c, br->cls, br->chord, scale);
        int center = 74 + (int)lround(3 * a + 8 * v);
        int start = nearest_pc(pcs[br->index % 2 ? (n > 2 ? 2 : 1) : 0], c->melody ? c->melody : center);
        if (abs(start - center) > 7) start = nearest_pc(start % 12, center);
        double vm = 64 + 20 * a + 18 * v;
        if (final) {
            CHK(note(c, ES_PIANO, nearest_pc(c->key % 12, c->melody ? c->melody : center), vm, t0, t1));
        } else if (held) {
            /* a short section keeps only its chord */
        } else if (fill && lv <= 2) {
            /* pickup: scale steps rising to the next chord's root, landing on the cut */
            int target = nearest_pc((c->key + next->chord.root) % 12, start + 2);
            int cnt = lv == 0 ? 2 : lv == 1 ? 4 : 6;
            double step = lv == 0 ? 1.0 : 0.5;
            for (int i = 0; i < cnt; i++) {
                double b0 = nb - (cnt - i) * step;
                if (b0 < 0) continue;
                int q = scale_step(scale, target, i - cnt);
                CHK(note(c, ES_PIANO, q, vm - 6 + 3 * i, T(b0), T(b0 + 0.9 * step)));
                c->mel_prev = q;
            }
            c->melody = target;
        } else if (lv >= 2 || br->index % 2 == 0) {
            int p = start;
            for (int i = 0; i < c->mot.n; i++) {
                int steps = c->mot.step[i];
                if (br->index % 2) steps = -steps; /* the answer phrase mirrors the call */
                p = scale_step(scale, start, steps);
                double b0 = 0.5 * c->mot.on[i], b1 = b0 + 0.5 * c->mot.len[i] * (lv >= 3 ? gate : 1.0);
                if (b0 >= nb - 1e-9) break; /* past a short bar */
                /* no parallel octaves with the bass: a note that would move with the bass into
                 * another octave steps back towards the previous note instead */
                int b = bass_at(c, T(b0), 0), pm = c->mel_prev, pb = bass_at(c, T(b0), 1);
                if (b >= 0 && pm >= 0 && pb >= 0 && (p - b) % 12 == 0 && (pm - pb) % 12 == 0 && p != pm && b != pb &&
                    (p > pm) == (b > pb))
                    p = scale_step(scale, p, p > pm ? -1 : 1);
                c->mel_prev = p;
                CHK(note(c, ES_PIANO, p, vm + (i == 0 ? 6 : 0), T(b0), T(b1)));
            }
            c->melody = p;
        }
    }
    c->bass_last = bass_at(c, t1, 1);
#undef T
#undef CHK
    return 0;
}

static int add_chord_mark(composer *c, const bar *br)
{
    char name[16];
    int root = (c->key + br->chord.root) % 12;
    snprintf(name, sizeof name, "%s%s", pc_name[root], quality[br->chord.q].suffix);
    if (c->out->n_chords) {
        const es_chord *last = &c->out->chords[c->out->n_chords - 1];
        if (!strcmp(last->name, name)) return 0;
    }
    return es_score_add_chord(c->out, br->t0, root, name);
}

int es_compose_rules(const es_compose_request *req, es_score *out)
{
    int rc = -1;
    composer c = {.req = req, .out = out, .mel_prev = -1, .bass_last = -1};
    memset(out, 0, sizeof *out);
    if (!(req->duration > 0 && req->duration <= MAX_DURATION))
        return es_fail("compose: duration %g s not in (0, %g]", req->duration, MAX_DURATION);
    if (!req->moods || req->n_moods == 0) return es_fail("compose: no mood given");
    if (req->n_boundaries && !req->boundaries) return es_fail("compose: boundaries missing");
    for (size_t i = 1; i < req->n_moods; i++)
        if (!(req->moods[i].start >= req->moods[i - 1].start)) return es_fail("compose: mood segments must be in time order");
    for (size_t i = 0; i < req->n_boundaries; i++)
        if (!isfinite(req->boundaries[i]) || (i && req->boundaries[i] < req->boundaries[i - 1]))
            return es_fail("compose: boundaries must be finite and ascending");

    es_rng_seed(&c.rng, req->seed);
    c.key = (int)es_rng_below(&c.rng, 12);
    make_motif(&c);
    if (plan_sections(&c)) goto end;
    plan_chords(&c);
    out->duration = req->duration;
    for (size_t k = 0; k < c.n_secs; k++) /* one per section, equal or not: bars restart there */
        if (es_score_add_tempo(out, c.secs[k].t0, 60.0 / c.secs[k].beat)) goto end;
    for (size_t i = 0; i < c.n_bars; i++)
        if (add_chord_mark(&c, &c.bars[i]) || render_bar(&c, i)) goto end;
    es_score_sort(out);
    rc = 0;
end:
    if (rc) es_score_free(out);
    free(c.bars);
    free(c.secs);
    return rc;
}
