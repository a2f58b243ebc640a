/* Objective metrics (see metrics.h and docs/metrics.md for the definitions). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "eval/metrics.h"

#define GRID 12 /* onset-grid slots per quarter note: sixteenths and eighth triplets */

/* Krumhansl & Kessler (1982) probe-tone profiles, tonic first. */
static const double kk_major[12] = {6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88};
static const double kk_minor[12] = {6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17};
static const int major_scale[7] = {0, 2, 4, 5, 7, 9, 11};

static double pearson(const double *x, const double *y, size_t n)
{
    double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; i++) mx += x[i], my += y[i];
    mx /= n, my /= n;
    for (size_t i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
}

int es_key_find(const double weights[12], int *tonic, int *major, double *corr, double *majorness)
{
    double best[2] = {-2, -2};
    int best_k[2] = {-1, -1};
    for (int mode = 0; mode < 2; mode++)
        for (int k = 0; k < 12; k++) {
            double prof[12];
            for (int p = 0; p < 12; p++) prof[p] = (mode ? kk_major : kk_minor)[(p - k + 12) % 12];
            double r = pearson(weights, prof, 12);
            if (isnan(r)) {
                *tonic = -1, *major = 0, *corr = NAN, *majorness = NAN;
                return -1;
            }
            if (r > best[mode]) best[mode] = r, best_k[mode] = k;
        }
    *major = best[1] >= best[0];
    *tonic = best_k[*major];
    *corr = best[*major];
    *majorness = best[1] - best[0];
    return 0;
}

double es_entropy_bits(const double *hist, size_t n)
{
    double total = 0, h = 0;
    for (size_t i = 0; i < n; i++) total += hist[i];
    if (!(total > 0)) return 0;
    for (size_t i = 0; i < n; i++)
        if (hist[i] > 0) h -= hist[i] / total * log2(hist[i] / total);
    return h;
}

int es_chord_onset_near(const double *onsets, size_t n, double t, double tol)
{
    size_t lo = 0, hi = n; /* first onset >= t - tol */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (onsets[mid] < t - tol) lo = mid + 1; else hi = mid;
    }
    for (size_t i = lo; i < n && onsets[i] <= t + tol; i++) {
        size_t j = i;
        while (j < n && onsets[j] - onsets[i] <= ES_CHORD_WINDOW + 1e-9) j++;
        if (j - i >= 3) return 1;
    }
    return 0;
}

static void ranks(const double *x, size_t n, double *r, size_t *idx)
{
    for (size_t i = 0; i < n; i++) idx[i] = i;
    for (size_t i = 1; i < n; i++) /* insertion sort: n is small (a benchmark's grid) */
        for (size_t j = i; j > 0 && x[idx[j - 1]] > x[idx[j]]; j--) {
            size_t t = idx[j];
            idx[j] = idx[j - 1], idx[j - 1] = t;
        }
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && x[idx[j + 1]] == x[idx[i]]) j++;
        for (size_t k = i; k <= j; k++) r[idx[k]] = 0.5 * (double)(i + j) + 1;
        i = j + 1;
    }
}

double es_spearman(const double *x, const double *y, size_t n)
{
    if (n < 2) return NAN;
    double *rx = malloc(n * sizeof *rx), *ry = malloc(n * sizeof *ry);
    size_t *idx = malloc(n * sizeof *idx);
    double r = NAN;
    if (rx && ry && idx) {
        ranks(x, n, rx, idx);
        ranks(y, n, ry, idx);
        r = pearson(rx, ry, n);
    }
    free(idx);
    free(ry);
    free(rx);
    return r;
}

double es_beats_at(const es_score *s, double t)
{
    if (!s->n_tempos) return t * 2.0;
    double beats = 0;
    for (size_t i = 0; i < s->n_tempos; i++) {
        double a = i ? s->tempos[i].time : 0.0, b = i + 1 < s->n_tempos ? s->tempos[i + 1].time : INFINITY;
        if (t <= a) break;
        beats += (fmin(t, b) - a) * s->tempos[i].bpm / 60.0;
    }
    return beats;
}

/* es_beats_at in O(log n): cum[i] holds the beats elapsed at tempos[i] (the first from 0). */
static double beats_fast(const es_score *s, const double *cum, double t)
{
    if (!s->n_tempos) return t * 2.0;
    if (t <= 0) return 0;
    size_t lo = 0, hi = s->n_tempos; /* last i with start_i < t */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (s->tempos[mid].time < t) lo = mid; else hi = mid;
    }
    double a = lo ? s->tempos[lo].time : 0.0;
    return cum[lo] + (t - a) * s->tempos[lo].bpm / 60.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Tempo from the notes alone: the most common gap between distinct onsets (10 ms bins, 0.1-2 s),
 * folded into 80-160 bpm. Rough on purpose: scores made here carry a real tempo map. */
static double ioi_tempo(const double *on, size_t n)
{
    int hist[200] = {0};
    double prev = -1;
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        if (prev >= 0 && on[i] - prev < 0.03) continue;
        if (prev >= 0) {
            int bin = (int)((on[i] - prev) * 100);
            if (bin >= 10 && bin < 200) hist[bin]++, used++;
        }
        prev = on[i];
    }
    if (!used) return NAN;
    int best = 10, best_w = -1;
    for (int b = 10; b < 200; b++) {
        int w = hist[b] + (b > 10 ? hist[b - 1] : 0) + (b < 199 ? hist[b + 1] : 0);
        if (w > best_w) best_w = w, best = b;
    }
    double sum = 0; /* the mean of the gaps in the winning bins, not the bin centre */
    size_t cnt = 0;
    prev = -1;
    for (size_t i = 0; i < n; i++) {
        if (prev >= 0 && on[i] - prev < 0.03) continue;
        if (prev >= 0 && abs((int)((on[i] - prev) * 100) - best) <= 1) sum += on[i] - prev, cnt++;
        prev = on[i];
    }
    double bpm = 60.0 / (sum / cnt);
    while (bpm < 80) bpm *= 2;
    while (bpm >= 160) bpm /= 2;
    return bpm;
}

typedef struct {
    double t;
    int d;
} edge;

static int cmp_edge(const void *a, const void *b)
{
    const edge *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return x->d - y->d; /* ends (-1) before starts (+1) at the same time */
}

int es_metrics_compute(const es_score *s, const double *boundaries, size_t n_boundaries, es_metrics *m)
{
    int rc = -1;
    double *pitched = NULL, *all = NULL, *cum = NULL;
    edge *ev = NULL;
    uint64_t *slots = NULL, *beats = NULL;
    memset(m, 0, sizeof *m);

    double D = s->duration > 0 ? s->duration : 0;
    for (size_t i = 0; !(s->duration > 0) && i < s->n_notes; i++) D = fmax(D, s->notes[i].end);
    if (!(D > 0)) return es_fail("metrics: empty score (no duration, no notes)");
    if (!(D <= 1e7)) return es_fail("metrics: absurd duration (%g s)", D); /* keeps beat counts integral */
    m->duration = D;
    m->n_notes = s->n_notes;
    m->n_boundaries = n_boundaries;

    size_t np = 0, n = s->n_notes;
    if (!(pitched = es_malloc((n + 1) * sizeof *pitched)) || !(all = es_malloc((n + 1) * sizeof *all)) ||
        !(ev = es_malloc((2 * n + 1) * sizeof *ev)) || !(slots = es_malloc((n + 1) * sizeof *slots)) ||
        !(beats = es_malloc((n + 1) * sizeof *beats)) || !(cum = es_malloc((s->n_tempos + 1) * sizeof *cum)))
        goto end;

    double pc_dur[12] = {0}, pc_cnt[12] = {0}, vel = 0, pitch_sum = 0;
    size_t ne = 0;
    for (size_t i = 0; i < n; i++) {
        const es_note *nt = &s->notes[i];
        all[i] = nt->start;
        vel += nt->velocity;
        if (nt->instrument == ES_DRUMS) continue;
        pitched[np++] = nt->start;
        pitch_sum += nt->pitch;
        pc_dur[nt->pitch % 12] += nt->end - nt->start;
        pc_cnt[nt->pitch % 12] += 1;
        ev[ne++] = (edge){nt->start, +1};
        ev[ne++] = (edge){nt->end, -1};
    }
    qsort(pitched, np, sizeof *pitched, cmp_double);
    qsort(all, n, sizeof *all, cmp_double);

    /* boundaries */
    size_t hit1 = 0, hit01 = 0;
    for (size_t i = 0; i < n_boundaries; i++) {
        hit1 += (size_t)es_chord_onset_near(pitched, np, boundaries[i], 1.0);
        hit01 += (size_t)es_chord_onset_near(pitched, np, boundaries[i], 0.1);
    }
    m->hit_rate_1s = n_boundaries ? (double)hit1 / n_boundaries : NAN;
    m->hit_rate_100ms = n_boundaries ? (double)hit01 / n_boundaries : NAN;

    /* key, entropy, scale */
    es_key_find(pc_dur, &m->key_tonic, &m->key_major, &m->key_corr, &m->majorness);
    m->pc_entropy = es_entropy_bits(pc_cnt, 12);
    double best_in = 0;
    for (int k = 0; k < 12; k++) {
        double in = 0;
        for (int j = 0; j < 7; j++) in += pc_cnt[(k + major_scale[j]) % 12];
        best_in = fmax(best_in, in);
    }
    m->scale_consistency = np ? best_in / np : NAN;

    /* tempo, density, dynamics */
    m->tempo_bpm = NAN; /* set below, with the tempo map's cumulative beats */
    m->tempo_ioi_bpm = ioi_tempo(all, n);
    m->note_density = n / D;
    m->mean_velocity = n ? vel / n : NAN;
    m->mean_pitch = np ? pitch_sum / (double)np : NAN;

    /* polyphony: time-average of the sounding count, over the time anything sounds */
    qsort(ev, ne, sizeof *ev, cmp_edge);
    double area = 0, busy = 0;
    int sounding = 0;
    for (size_t i = 0; i < ne; i++) {
        if (i && sounding > 0) {
            area += sounding * (ev[i].t - ev[i - 1].t);
            busy += ev[i].t - ev[i - 1].t;
        }
        sounding += ev[i].d;
    }
    m->polyphony = busy > 0 ? area / busy : 0;

    /* onset grid per 4/4 bar -> groove consistency; per beat -> empty beats. Bars restart at
     * every tempo change, as the MIDI writer notates them (a stretch that is not whole bars ends
     * with a shorter bar). Onsets (`all`, sorted) and tempo stretches are walked together. */
    cum[0] = 0;
    for (size_t k = 1; k < s->n_tempos; k++)
        cum[k] = cum[k - 1] + (s->tempos[k].time - (k > 1 ? s->tempos[k - 1].time : 0.0)) * s->tempos[k - 1].bpm / 60.0;
    double total_beats = beats_fast(s, cum, D);
    if (!(total_beats >= 0 && total_beats < 1e15)) {
        es_fail("metrics: the tempo map gives %g beats", total_beats);
        goto end;
    }
    m->tempo_bpm = total_beats * 60.0 / D;
    uint64_t n_bars = 0, n_beats = (uint64_t)ceil(total_beats - 1e-9);
    size_t ns = 0, nb = 0, p = 0;
    for (size_t k = 0; k < (s->n_tempos ? s->n_tempos : 1); k++) {
        double a = k ? s->tempos[k].time : 0.0, b = k + 1 < s->n_tempos ? fmin(s->tempos[k + 1].time, D) : D;
        if (a >= D) break;
        if (b < a) continue; /* out-of-order tempo entry */
        double b0 = beats_fast(s, cum, a), seg_beats = beats_fast(s, cum, b) - b0;
        uint64_t seg_bars = (uint64_t)ceil(seg_beats / 4 - 1e-9);
        for (; p < n && (b >= D ? all[p] < D : all[p] < b - 1e-9); p++) {
            if (all[p] < a - 1e-9) continue;
            uint64_t slot = (uint64_t)llround(fmax(0, beats_fast(s, cum, all[p]) - b0) * GRID);
            if (slot < seg_bars * 4 * GRID) slots[ns++] = n_bars * 4 * GRID + slot;
        }
        n_bars += seg_bars;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t beat = (uint64_t)floor(beats_fast(s, cum, all[i]) + 1e-6);
        if (beat < n_beats) beats[nb++] = beat;
    }
    qsort(slots, ns, sizeof *slots, cmp_u64);
    qsort(beats, nb, sizeof *beats, cmp_u64);
    size_t distinct = 0;
    for (size_t i = 0; i < nb; i++) distinct += !i || beats[i] != beats[i - 1];
    m->empty_beat_rate = n_beats ? 1.0 - (double)distinct / n_beats : NAN;

    /* sum over consecutive bar pairs of |A xor B| = sum |A| + |B| - 2 |A and B| */
    const uint64_t per_bar = 4 * GRID;
    double diff = 0;
    size_t u = 0; /* unique slots, compacted in place */
    for (size_t i = 0; i < ns; i++)
        if (!u || slots[i] != slots[u - 1]) slots[u++] = slots[i];
    for (size_t i = 0, j = 0; i < u; i++) {
        uint64_t bar = slots[i] / per_bar, pos = slots[i] % per_bar;
        diff += (bar > 0) + (bar + 1 < n_bars); /* counted in the pair before and after */
        /* the same position one bar earlier? (slots ascending: j trails i) */
        if (!bar) continue;
        while (j < u && slots[j] < slots[i] - per_bar) j++;
        if (j < u && slots[j] == (bar - 1) * per_bar + pos) diff -= 2;
    }
    m->groove_consistency = n_bars >= 2 ? 1.0 - diff / ((double)(n_bars - 1) * per_bar) : NAN;
    rc = 0;
end:
    free(cum);
    free(beats);
    free(slots);
    free(ev);
    free(all);
    free(pitched);
    return rc;
}
