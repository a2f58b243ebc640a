/* EMSYNC vocabulary, decoding, sampling and generation: the vocabulary against vocab.tsv, the
 * sampler on hand-computed distributions, the boundary clock on a scripted stream, and whole
 * generations against a second route (naive forward recomputed every step + the sampler). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/rng.h"
#include "music/emsync_generate.h"
#include "music/emsync_vocab.h"

#define DIR "tests/data/emsync/"

static void test_vocab(void)
{
    FILE *f = fopen(DIR "vocab.tsv", "r");
    CHECK(f != NULL);
    if (!f) return;
    char line[128], name[64];
    int id, value, rows = 0, bad = 0;
    CHECK(fgets(line, sizeof line, f) != NULL); /* header */
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%d\t%63s\t%d", &id, name, &value) != 3) { bad++; continue; }
        es_event ev;
        if (es_token_event(id, &ev) || strcmp(es_token_name(id), name)) bad++;
        if ((ev.kind == ES_EV_ON || ev.kind == ES_EV_OFF) && ev.value != value) bad++;
        if (ev.kind == ES_EV_TIMESHIFT && (ev.value != value || fabs(es_token_shift(id) - value * 0.008) > 1e-12)) bad++;
        if (ev.kind == ES_EV_ON && es_token_on((es_instrument)ev.instrument, value) != id) bad++;
        if (ev.kind == ES_EV_OFF && es_token_off((es_instrument)ev.instrument, value) != id) bad++;
        rows++;
    }
    fclose(f);
    CHECK(rows == 1011);
    CHECK(bad == 0);
    es_event ev;
    CHECK(es_token_event(1011, &ev) == -1 && es_token_event(-1, &ev) == -1);
    CHECK(es_token_timeshift(125) == 128 && es_token_timeshift(0) == -1 && es_token_on(ES_PIANO, 20) == -1);
}

static void test_decode(void)
{
    int T = es_token_timeshift(125), t4 = es_token_timeshift(4);
    int toks[] = {ES_TOK_BAR, es_token_off(ES_BASS, 40) /* OFF without ON: ignored */,
                  es_token_on(ES_BASS, 40), ES_TOK_CHORD, es_token_on(ES_PIANO, 60), es_token_on(ES_BASS, 28), T,
                  es_token_on(ES_GUITAR, 64), es_token_off(ES_PIANO, 60), es_token_off(ES_BASS, 40), t4,
                  es_token_on(ES_DRUMS, 36), es_token_off(ES_GUITAR, 64), T, es_token_off(ES_DRUMS, 36)};
    es_score s = {0};
    CHECK(es_tokens_to_score(toks, sizeof toks / sizeof toks[0], &s) == 0);
    es_score_sort(&s);
    /* bass 40 0-1 v80; bass 28 0-2.032 (closed at the end) v80; piano 60 0-1 v120 (after chord);
     * guitar 64 1-1.032 v80 (chord flag cleared by the timeshift); drums 36 1.032-2.032 v80 */
    CHECK(s.n_notes == 5);
    if (s.n_notes == 5) {
        CHECK(s.notes[0].instrument == ES_BASS && s.notes[0].pitch == 28 && fabs(s.notes[0].end - 2.032) < 1e-9 && s.notes[0].velocity == 80);
        CHECK(s.notes[1].instrument == ES_BASS && s.notes[1].pitch == 40 && fabs(s.notes[1].end - 1.0) < 1e-9);
        CHECK(s.notes[2].instrument == ES_PIANO && s.notes[2].velocity == 120 && s.notes[2].start == 0);
        CHECK(s.notes[3].instrument == ES_GUITAR && s.notes[3].velocity == 80 && fabs(s.notes[3].start - 1.0) < 1e-9 &&
              fabs(s.notes[3].end - 1.032) < 1e-9);
        CHECK(s.notes[4].instrument == ES_DRUMS && s.notes[4].pitch == 36 && fabs(s.notes[4].start - 1.032) < 1e-9);
    }
    /* the chord's notes are piano 60 (C) and bass 28 (E): the root is the lowest, E */
    CHECK(s.n_chords == 1 && s.chords[0].time == 0 && s.chords[0].root == 4);
    es_score_free(&s);
    /* chord names: A C E G after <CHORD> -> Am7 at 1 s; an empty chord -> "?" */
    int am7[] = {T, ES_TOK_CHORD, es_token_on(ES_PIANO, 57), es_token_on(ES_PIANO, 60), es_token_on(ES_GUITAR, 64),
                 es_token_on(ES_STRINGS, 67), es_token_on(ES_DRUMS, 36), T, ES_TOK_CHORD, T, ES_TOK_CHORD,
                 es_token_on(ES_BASS, 43), es_token_on(ES_PIANO, 59), es_token_on(ES_PIANO, 62)};
    CHECK(es_tokens_to_score(am7, sizeof am7 / sizeof am7[0], &s) == 0);
    CHECK(s.n_chords == 3);
    if (s.n_chords == 3) {
        CHECK(s.chords[0].root == 9 && !strcmp(s.chords[0].name, "Am7") && fabs(s.chords[0].time - 1) < 1e-9);
        CHECK(s.chords[1].root == -1 && !strcmp(s.chords[1].name, "?"));
        CHECK(s.chords[2].root == 7 && !strcmp(s.chords[2].name, "G") && fabs(s.chords[2].time - 3) < 1e-9);
    }
    es_score_free(&s);
    int badtok = 2000;
    CHECK(es_tokens_to_score(&badtok, 1, &s) == -1);
    es_score_free(&s);
    /* SPEC section 1: only guitar and piano get 120 after a <CHORD>; strings, bass and drums 80;
     * a zero-length note (ON and OFF at one time) and a second OFF carry nothing */
    int loud[] = {ES_TOK_CHORD, es_token_on(ES_STRINGS, 55), es_token_on(ES_DRUMS, 38), es_token_on(ES_GUITAR, 50),
                  es_token_on(ES_BASS, 33), es_token_off(ES_BASS, 33), ES_TOK_BAR, es_token_on(ES_PIANO, 70),
                  T, es_token_off(ES_STRINGS, 55), es_token_off(ES_STRINGS, 55), es_token_off(ES_DRUMS, 38),
                  es_token_off(ES_GUITAR, 50), es_token_off(ES_PIANO, 70)};
    CHECK(es_tokens_to_score(loud, sizeof loud / sizeof loud[0], &s) == 0);
    es_score_sort(&s);
    int vel[ES_INSTRUMENT_COUNT] = {0};
    for (size_t i = 0; i < s.n_notes; i++) vel[s.notes[i].instrument] = s.notes[i].velocity;
    CHECK(s.n_notes == 4 && vel[ES_STRINGS] == 80 && vel[ES_DRUMS] == 80 && vel[ES_GUITAR] == 120 &&
          vel[ES_PIANO] == 120 && vel[ES_BASS] == 0);
    es_score_free(&s);
    /* programs (0-based GM) and the percussion channel */
    CHECK(es_instrument_program(ES_PIANO) == 0 && es_instrument_program(ES_GUITAR) == 25 &&
          es_instrument_program(ES_BASS) == 32 && es_instrument_program(ES_STRINGS) == 48);
    CHECK(es_instrument_channel(ES_DRUMS) == 9);
}

static void fill(float *l, float v)
{
    for (int i = 0; i < 1011; i++) l[i] = v;
}

static void test_sample(void)
{
    static es_sample_buf buf;
    float l[1011];
    int rep = 0, kept = 0;
    /* p = .5 .3 .2: the nucleus stops before the crossing token, so only the top one is kept */
    fill(l, -INFINITY);
    l[10] = logf(0.5f); l[11] = logf(0.3f); l[12] = logf(0.2f);
    for (int i = 0; i < 5; i++) CHECK(es_emsync_sample(l, 1.0, 0.6, &rep, 0.99, &buf, &kept) == 10);
    CHECK(kept == 1 && rep == 5);
    /* the top token is kept even when it alone is above top_p */
    l[10] = logf(0.9f); l[11] = logf(0.1f); l[12] = -INFINITY;
    rep = 0;
    CHECK(es_emsync_sample(l, 1.0, 0.6, &rep, 0.999, &buf, &kept) == 10 && kept == 1);
    /* .3 .25 .25 .2: keeps two (cum .55), renormalised to .545/.455 */
    l[10] = logf(0.3f); l[11] = logf(0.25f); l[12] = logf(0.25f); l[13] = logf(0.2f);
    rep = 6;
    CHECK(es_emsync_sample(l, 1.0, 0.6, &rep, 0.50, &buf, &kept) == 10 && kept == 2 && rep == 7);
    rep = 0;
    /* a tiny temperature change must not matter here: p(10) = .3/.55 */
    CHECK(es_emsync_sample(l, 1.0, 0.6, &rep, 0.56, &buf, &kept) == 11);
    /* three kept halves the counter */
    rep = 9;
    CHECK(es_emsync_sample(l, 1.0, 0.81, &rep, 0.1, &buf, &kept) == 10 && kept == 3 && rep == 4);
    /* temperature with the repetition counter: r = 7 -> T' = 1.35 (1 + 0.4 ln 2); a third token
     * sets top_p so that exactly two are kept, which are then drawn with p0 = 1/(1+e^(-1/T')) */
    fill(l, -INFINITY);
    l[40] = 0; l[41] = -1; l[42] = -1.5f;
    for (int r = 0; r < 2; r++) {
        double tp = r == 0 ? 1.35 * (1 + 0.4 * log(2.0)) : 1.35; /* r = 2: ln(3/4) < 0, no warming */
        double q1 = exp(-1 / tp), q2 = exp(-1.5 / tp), top = (1 + q1 + q2 / 2) / (1 + q1 + q2), p0 = 1 / (1 + q1);
        int r0 = r == 0 ? 7 : 2;
        rep = r0;
        CHECK(es_emsync_sample(l, 1.35, top, &rep, p0 - 1e-6, &buf, &kept) == 40 && kept == 2 && rep == r0 + 1);
        rep = r0;
        CHECK(es_emsync_sample(l, 1.35, top, &rep, p0 + 1e-6, &buf, &kept) == 41);
    }
    /* NaN counts as 0, excluded ids never come out even with huge logits */
    fill(l, -100);
    l[20] = NAN;
    l[0] = l[1] = l[1009] = l[1010] = 1e9f;
    rep = 0;
    CHECK(es_emsync_sample(l, 1.35, 0.6, &rep, 0.5, &buf, &kept) == 20);
    /* a +inf logit (float16 overflow) wins alone instead of turning everything into NaN */
    fill(l, 0);
    l[500] = INFINITY;
    l[0] = INFINITY;
    rep = 0;
    CHECK(es_emsync_sample(l, 1.35, 0.6, &rep, 0.99, &buf, &kept) == 500 && kept == 1 && rep == 1);
    /* every allowed logit -inf: still an allowed token, never an excluded one */
    fill(l, -INFINITY);
    l[0] = l[1] = l[1009] = l[1010] = 0;
    int bad = 0;
    for (int i = 0; i < 20; i++) {
        int s = es_emsync_sample(l, 1.35, 0.6, &rep, i / 20.0, &buf, &kept);
        bad += s < 2 || s > 1008 || kept < 1;
    }
    CHECK(bad == 0);
}

/* Second route for the sampler: the same rule written with qsort, on random logits. */
static const double *cmp_key;
static int cmp_desc(const void *a, const void *b)
{
    int i = *(const int *)a, j = *(const int *)b;
    return cmp_key[i] != cmp_key[j] ? (cmp_key[i] > cmp_key[j] ? -1 : 1) : i - j;
}

static void test_sample_random(void)
{
    static es_sample_buf buf;
    static double lp[1011];
    static int order[1011];
    float l[1011];
    es_rng r;
    es_rng_seed(&r, 5);
    int bad = 0;
    for (int trial = 0; trial < 200; trial++) {
        double spread = 1 + trial % 7;
        for (int i = 0; i < 1011; i++) l[i] = (float)((es_rng_uniform(&r) - 0.5) * spread * 4);
        int rep0 = trial % 9, rep = rep0, kept = 0;
        double u = es_rng_uniform(&r);
        int got = es_emsync_sample(l, 1.35, 0.6, &rep, u, &buf, &kept);
        /* expected */
        double t = 1.35 * (1 + fmax(0, log((rep0 + 1) / 4.0)) * 0.4), mx = -INFINITY, z = 0;
        for (int i = 0; i < 1011; i++) {
            int ex = i == 0 || i == 1 || i == 1009 || i == 1010;
            lp[i] = ex ? -INFINITY : l[i] / t; /* log_softmax only shifts; the shift cancels */
            order[i] = i;
            if (lp[i] > mx) mx = lp[i];
        }
        for (int i = 0; i < 1011; i++) z += exp(lp[i] - mx);
        cmp_key = lp;
        qsort(order, 1011, sizeof *order, cmp_desc);
        int n = 0;
        double cum = 0, mass = 0;
        while (n < 1011) {
            double p = exp(lp[order[n]] - mx) / z;
            if (n > 0 && cum + p > 0.6) break;
            cum += p; mass += p; n++;
        }
        double acc = 0;
        int want = order[n - 1];
        for (int i = 0; i < n; i++) {
            acc += exp(lp[order[i]] - mx) / z / mass;
            if (u < acc) { want = order[i]; break; }
        }
        int want_rep = n <= 2 ? rep0 + 1 : rep0 / 2;
        if (got != want || kept != n || rep != want_rep) bad++;
    }
    CHECK(bad == 0);
}

/* The lazy walk against the whole sort, on peaked and flat rows, masked tokens and ties, at
 * the temperatures and nuclei the composers use. */
static void test_sample_lazy_equals_sorted(void)
{
    static es_sample_buf b1, b2;
    float l[1011];
    es_rng r;
    es_rng_seed(&r, 11);
    const double tops[] = {0.3, 0.6, 0.95, 0.999, 1.0};
    int bad = 0, checked = 0;
    for (int trial = 0; trial < 2000; trial++) {
        double spread = 0.5 + trial % 23;
        for (int i = 0; i < 1011; i++) l[i] = (float)((es_rng_uniform(&r) - 0.5) * spread);
        if (trial % 3 == 0) /* a masked row: most notes excluded as the clock and voicing do */
            for (int i = 0; i < 1011; i++) if (es_rng_uniform(&r) < 0.8) l[i] = -INFINITY;
        if (trial % 5 == 0) l[300 + trial % 400] = l[200]; /* a tie, broken by id */
        double top = tops[trial % 5], temp = trial % 2 ? 1.0 : 1.35, u = es_rng_uniform(&r);
        int rep1 = trial % 9, rep2 = rep1, k1 = 0, k2 = 0;
        int got = es_emsync_sample(l, temp, top, &rep1, u, &b1, &k1);
        /* top_p 1 keeps every token; the sorted walk does with a nucleus it cannot reach (the
         * running sum can pass 1 by rounding and drop the last tokens of a flat row) */
        int want = es_emsync_sample_sorted(l, temp, top < 1 ? top : 2.0, &rep2, u, &b2, &k2);
        bad += got != want || rep1 != rep2 || (top < 1 && k1 != k2);
        checked++;
    }
    CHECK(checked == 2000 && bad == 0);
}

static void test_clock(void)
{
    double b[3] = {2.0, 5.0, 20.0};
    es_emsync_clock c;
    CHECK(es_emsync_clock_init(&c, b, 3, 0) == 0);
    CHECK_NEAR(es_emsync_clock_delta(&c), 2.0, 1e-6);           /* primer: min(8, first boundary) */
    CHECK_NEAR(es_emsync_clock_advance(&c, es_token_timeshift(125)), 1.0, 1e-6);
    CHECK_NEAR(es_emsync_clock_advance(&c, ES_TOK_CHORD), 1.0, 1e-6); /* |1 - 2| = 1 is not < 1 */
    CHECK(c.hits == 0);
    CHECK_NEAR(es_emsync_clock_advance(&c, es_token_timeshift(1)), 0.992, 1e-6);
    CHECK_NEAR(es_emsync_clock_advance(&c, ES_TOK_CHORD), 5.0 - 1.008, 1e-5); /* boundary 2 hit */
    CHECK(c.hits == 1 && c.hit[0] == 1);
    CHECK_NEAR(es_emsync_clock_advance(&c, es_token_on(ES_PIANO, 60)), 3.992, 1e-5);
    for (int i = 0; i < 5; i++) es_emsync_clock_advance(&c, es_token_timeshift(125));
    CHECK_NEAR(es_emsync_clock_time(&c), 6.008, 1e-9);
    CHECK_NEAR(es_emsync_clock_delta(&c), 8.0, 1e-6);           /* 20 is 13.99 s ahead: clamped */
    CHECK_NEAR(es_emsync_clock_advance(&c, ES_TOK_CHORD), 8.0, 1e-6); /* 5 is 1.008 s behind: not hit */
    CHECK(c.hits == 1);
    es_emsync_clock_free(&c);
    CHECK(es_emsync_clock_init(&c, NULL, 0, 0) == 0);
    CHECK_NEAR(es_emsync_clock_delta(&c), 8.0, 1e-6);
    es_emsync_clock_free(&c);
}

/* Landing: shifts stop on boundaries, a <CHORD> is steered there, and only that tick hits. */
static void test_clock_land(void)
{
    double b[2] = {2.0, 2.5};
    es_emsync_clock c;
    CHECK(es_emsync_clock_init(&c, b, 2, 1) == 0);
    CHECK(es_emsync_clock_steer(&c, es_token_timeshift(100)) == es_token_timeshift(100)); /* 0.8 s: short of 2 */
    es_emsync_clock_advance(&c, es_token_timeshift(100));
    CHECK(es_emsync_clock_steer(&c, ES_TOK_CHORD) == ES_TOK_CHORD);
    es_emsync_clock_advance(&c, ES_TOK_CHORD);                     /* 1.2 s early: not a hit when landing */
    CHECK(c.hits == 0);
    CHECK(es_emsync_clock_steer(&c, es_token_on(ES_PIANO, 60)) == es_token_on(ES_PIANO, 60));
    int t = es_emsync_clock_steer(&c, es_token_timeshift(125));   /* would reach 1.8 s: allowed */
    CHECK(t == es_token_timeshift(125));
    es_emsync_clock_advance(&c, t);
    t = es_emsync_clock_steer(&c, es_token_timeshift(125));       /* would cross 2.0: cut to 25 ticks */
    CHECK(t == es_token_timeshift(25));
    CHECK_NEAR(es_emsync_clock_advance(&c, t), 0.0, 1e-6);
    CHECK_NEAR(es_emsync_clock_time(&c), 2.0, 1e-9);
    CHECK(es_emsync_clock_steer(&c, es_token_on(ES_BASS, 40)) == ES_TOK_CHORD); /* on it: chord first */
    CHECK_NEAR(es_emsync_clock_advance(&c, ES_TOK_CHORD), 0.5, 1e-6);
    CHECK(c.hits == 1 && c.hit[0] && !c.hit[1]);
    CHECK(es_emsync_clock_steer(&c, es_token_on(ES_BASS, 40)) == es_token_on(ES_BASS, 40)); /* hit: free again */
    /* until three pitched notes sound with the chord, time cannot move on */
    float lg[1011];
    for (int i = 0; i < 1011; i++) lg[i] = 1.0f;
    es_emsync_clock_mask(&c, lg);
    CHECK(lg[es_token_timeshift(1)] == -INFINITY && lg[es_token_timeshift(125)] == -INFINITY && lg[es_token_on(ES_PIANO, 60)] == 1.0f);
    es_emsync_clock_advance(&c, es_token_on(ES_BASS, 40));
    es_emsync_clock_advance(&c, es_token_on(ES_DRUMS, 40));      /* drums do not count */
    es_emsync_clock_advance(&c, es_token_on(ES_PIANO, 60));
    for (int i = 0; i < 1011; i++) lg[i] = 1.0f;
    es_emsync_clock_mask(&c, lg);
    CHECK(lg[es_token_timeshift(1)] == -INFINITY);
    es_emsync_clock_advance(&c, es_token_on(ES_PIANO, 64));
    for (int i = 0; i < 1011; i++) lg[i] = 1.0f;
    es_emsync_clock_mask(&c, lg);
    CHECK(lg[es_token_timeshift(1)] == 1.0f);
    es_emsync_clock_free(&c);
}

/* Second route: the reference loop, recomputing the window with the naive forward each step;
 * with guidance w != 1, a second naive pass under a null valence, combined by the formula. */
static size_t reference_tokens_guided(const es_nn_model *m, const es_compose_request *req, int *out, size_t cap, int land,
                                      double w)
{
    const es_nn_hparams *hp = es_nn_model_hparams(m);
    size_t window = (size_t)hp->context - 3, n = 1;
    int *tok = malloc((cap + 2) * sizeof *tok);
    float *del = malloc((cap + 2) * sizeof *del), *lg = malloc((size_t)hp->context * 1011 * sizeof *lg);
    float *ul = malloc((size_t)hp->context * 1011 * sizeof *ul);
    static es_sample_buf buf;
    es_emsync_clock c;
    es_emsync_clock_init(&c, req->boundaries, req->n_boundaries, land);
    es_rng r;
    es_rng_seed(&r, req->seed);
    int rep = 0;
    long on[ES_INSTRUMENT_COUNT][88]; /* tick each note began, -1 when silent */
    for (int i = 0; i < ES_INSTRUMENT_COUNT; i++)
        for (int p = 0; p < 88; p++) on[i][p] = -1;
    out[0] = ES_TOK_BAR;
    del[0] = es_emsync_clock_delta(&c);
    while (n < cap) {
        size_t w0 = n > window ? n - window : 0, L = n - w0 + 1;
        tok[0] = ES_TOK_MORE_INSTRUMENTS;
        memcpy(tok + 1, out + w0, (n - w0) * sizeof *tok);
        float dl[2048];
        dl[0] = del[w0];
        memcpy(dl + 1, del + w0, (n - w0) * sizeof *dl);
        const es_mood_segment *md = es_mood_at(req, es_emsync_clock_time(&c));
        if (es_nn_forward_naive(m, tok, dl, (int)L, md->valence, md->arousal, lg)) break;
        if (w != 1) {
            if (es_nn_forward_naive(m, tok, dl, (int)L, NAN, md->arousal, ul)) break;
            float *cr = lg + (L + 1) * 1011, *ur = ul + (L + 1) * 1011;
            for (int i = 0; i < 1011; i++)
                if (isfinite(cr[i]) && isfinite(ur[i])) cr[i] = (float)(ur[i] + w * ((double)cr[i] - ur[i]));
        }
        es_emsync_clock_mask(&c, lg + (L + 1) * 1011);
        es_emsync_voicing_mask(&c, (const long(*)[88])on, lg + (L + 1) * 1011);
        int s = es_emsync_clock_steer(&c, es_emsync_sample(lg + (L + 1) * 1011, 1.35, 0.6, &rep, es_rng_uniform(&r), &buf, NULL));
        es_event ev;
        if (!es_token_event(s, &ev) && (ev.kind == ES_EV_ON || ev.kind == ES_EV_OFF))
            on[ev.instrument][ev.value - 21] = ev.kind == ES_EV_ON ? c.ticks : -1;
        del[n] = es_emsync_clock_advance(&c, s);
        out[n++] = s;
        if (es_emsync_clock_time(&c) >= req->duration) break;
    }
    es_emsync_clock_free(&c);
    free(ul); free(lg); free(del); free(tok);
    return n;
}

static size_t reference_tokens(const es_nn_model *m, const es_compose_request *req, int *out, size_t cap, int land)
{
    return reference_tokens_guided(m, req, out, cap, land, 1.0);
}

/* The guidance formula on one row: identity at w = 1, u + w (c - u) otherwise, non-finite kept. */
static void test_guide(void)
{
    float c[4] = {1, 2, -INFINITY, 5}, u[4] = {0, 3, 1, -INFINITY};
    es_emsync_guide(c, u, 4, 1.0);
    CHECK(c[0] == 1 && c[1] == 2 && isinf(c[2]) && c[3] == 5);
    es_emsync_guide(c, u, 4, 2.0);
    CHECK(c[0] == 2 && c[1] == 1 && isinf(c[2]) && c[2] < 0 && c[3] == 5);
}

static void test_generate(void)
{
    es_nn_model *m = es_nn_model_load(DIR "tiny-a.pt", ES_NN_F32, 2);
    CHECK(m != NULL);
    if (!m) { fprintf(stderr, "%s\n", es_error()); return; }
    double bounds[3] = {1.5, 3, 4.5};
    es_mood_segment moods[2] = {{0, 0.5, -0.3}, {1.0, -0.8, NAN}}; /* changes before the first slide */
    es_compose_request req = {.duration = 9.0, .boundaries = bounds, .n_boundaries = 3, .moods = moods, .n_moods = 2, .seed = 11};
    es_emsync_options o;
    es_emsync_options_default(&o);
    o.model = m;
    o.candidates = 1;
    o.exact = 1;
    o.temperature = 1.35; /* the reference loop below samples as the reference does */
    o.top_p = 0.6;
    o.guidance = 1;
    o.max_tokens = 100; /* keeps the naive second route quick under ASan */
    es_score s = {0};
    es_emsync_report rep;
    CHECK(es_compose_emsync(&req, &o, &s, &rep) == 0);
    o.max_tokens = 0;
    int ref[4000];
    size_t nref = reference_tokens(m, &req, ref, 101, 1);
    /* the window of tiny-a is 45 tokens: 100 tokens slide it many times */
    fprintf(stderr, "exact: %zu tokens (reference %zu), %d refills, %zu boundaries hit, %zu notes\n", rep.n_tokens, nref,
            rep.refills, rep.boundaries_hit, s.n_notes);
    CHECK(rep.n_tokens == 101 && rep.capped);
    CHECK(rep.temperature == 1.35 && rep.top_p == 0.6 && rep.guidance == 1);
    CHECK(rep.n_tokens == nref && !memcmp(rep.tokens, ref, nref * sizeof *ref));
    CHECK(rep.refills > 40);
    CHECK(rep.mood_changes == 1);
    {   /* the reference's boundary rule, against the reference loop without landing */
        es_score s2 = {0};
        es_emsync_report rep2;
        int ref2[200];
        o.reference_boundaries = 1;
        o.max_tokens = 100;
        CHECK(es_compose_emsync(&req, &o, &s2, &rep2) == 0);
        size_t nref2 = reference_tokens(m, &req, ref2, 101, 0);
        CHECK(rep2.n_tokens == nref2 && !memcmp(rep2.tokens, ref2, nref2 * sizeof *ref2));
        es_emsync_report_free(&rep2);
        es_score_free(&s2);
        o.reference_boundaries = 0;
        o.max_tokens = 0;
    }
    {   /* valence guidance, against the second route with its own null-valence pass */
        es_score s2 = {0};
        es_emsync_report rep2;
        int ref2[200];
        o.guidance = 2.5;
        o.max_tokens = 100;
        CHECK(es_compose_emsync(&req, &o, &s2, &rep2) == 0 && rep2.guidance == 2.5);
        size_t nref2 = reference_tokens_guided(m, &req, ref2, 101, 1, 2.5);
        CHECK(rep2.n_tokens == nref2 && !memcmp(rep2.tokens, ref2, nref2 * sizeof *ref2));
        CHECK(memcmp(rep2.tokens, ref, nref2 * sizeof *ref2) != 0); /* guidance changed the music */
        es_emsync_report rep3;
        es_score s3 = {0};
        o.exact = 0; /* the cached path with twins: equal to the second route until the first slide */
        CHECK(es_compose_emsync(&req, &o, &s3, &rep3) == 0);
        size_t same = 0;
        while (same < rep3.n_tokens && same < nref2 && rep3.tokens[same] == ref2[same]) same++;
        CHECK(same >= 46);
        es_emsync_report_free(&rep3);
        es_score_free(&s3);
        o.exact = 1;
        es_emsync_report_free(&rep2);
        es_score_free(&s2);
        o.guidance = 1;
        o.max_tokens = 0;
    }
    /* decoded notes lie in the piece, with the two velocities */
    int ok = 1;
    for (size_t i = 0; i < s.n_notes; i++)
        ok &= s.notes[i].start >= 0 && s.notes[i].end <= 9.0 && s.notes[i].end > s.notes[i].start &&
              (s.notes[i].velocity == 80 || s.notes[i].velocity == 120);
    CHECK(ok);
    CHECK(s.duration == 9.0 && s.n_tempos == 1);
    int *exact_tokens = rep.tokens;
    size_t n_exact = rep.n_tokens;
    rep.tokens = NULL;
    es_score_free(&s);

    /* fast mode: identical until the first slide, reproducible, re-anchors */
    o.exact = 0;
    CHECK(es_compose_emsync(&req, &o, &s, &rep) == 0);
    size_t same = 0;
    while (same < rep.n_tokens && same < n_exact && rep.tokens[same] == exact_tokens[same]) same++;
    fprintf(stderr, "fast: %zu tokens, %d refills, first %zu tokens equal to exact mode\n", rep.n_tokens, rep.refills, same);
    CHECK(same >= 46);
    CHECK(rep.mood_changes == 1);
    CHECK(rep.refills >= 2 && rep.refills < (int)rep.n_tokens / 10);
    es_emsync_report rep2;
    es_score s2 = {0};
    CHECK(es_compose_emsync(&req, &o, &s2, &rep2) == 0);
    CHECK(rep2.n_tokens == rep.n_tokens && !memcmp(rep2.tokens, rep.tokens, rep.n_tokens * sizeof *rep.tokens));
    CHECK(s2.n_notes == s.n_notes);
    es_score_free(&s2);
    es_emsync_report_free(&rep);
    es_score_free(&s);

    es_emsync_report_free(&rep2);

    /* a mood change late in a full window: the fast mode rebuilds only the tokens it keeps at a
     * re-anchor (half the window of tiny-a: 22), one candidate or three; the exact mode keeps
     * sliding the whole window */
    {
        es_mood_segment late[2] = {{0, 0.5, -0.3}, {6.0, -0.8, 0.6}};
        es_compose_request lr = req;
        lr.moods = late;
        es_emsync_report r1, r3, rx;
        es_score t = {0};
        CHECK(es_compose_emsync(&lr, &o, &t, &r1) == 0 && r1.mood_changes == 1);
        es_score_free(&t);
        o.candidates = 3;
        CHECK(es_compose_emsync(&lr, &o, &t, &r3) == 0 && r3.scenes_chosen == 1);
        es_score_free(&t);
        o.candidates = 1;
        o.exact = 1;
        o.max_tokens = 150;
        CHECK(es_compose_emsync(&lr, &o, &t, &rx) == 0 && rx.mood_changes == 1);
        es_score_free(&t);
        o.exact = 0;
        o.max_tokens = 0;
        fprintf(stderr, "window rebuilt at a late mood change: fast %zu, K=3 %zu, exact %zu tokens\n", r1.mood_window,
                r3.mood_window, rx.mood_window);
        CHECK(r1.mood_window == 22 && r3.mood_window == 22 && rx.mood_window == 45);
        es_emsync_report_free(&r1);
        es_emsync_report_free(&r3);
        es_emsync_report_free(&rx);
    }

    /* K candidates decoded in one batch: candidate 0 is the single-candidate run (same seed,
     * same arithmetic); with no boundary hit anywhere the tie goes to candidate 0. One mood
     * here: with several, the choice is made at each change (below). */
    es_compose_request one = req;
    one.n_moods = 1;
    o.candidates = 1;
    CHECK(es_compose_emsync(&one, &o, &s, &rep2) == 0);
    es_score_free(&s);
    o.candidates = 3;
    CHECK(es_compose_emsync(&one, &o, &s, &rep) == 0);
    CHECK(rep.chosen >= 0 && rep.chosen < 3 && rep.scenes_chosen == 0);
    fprintf(stderr, "K=3: chose %d with %zu hits\n", rep.chosen, rep.boundaries_hit);
    if (rep.boundaries_hit == 0)
        CHECK(rep.chosen == 0 && rep.n_tokens == rep2.n_tokens && !memcmp(rep.tokens, rep2.tokens, rep.n_tokens * sizeof *rep.tokens));
    es_emsync_report_free(&rep2);
    es_emsync_report_free(&rep);
    es_score_free(&s);

    /* scene by scene: the candidates play the first mood to its end, the best is kept and all
     * go on from it, one prefill for the change. What comes before the change is then what a
     * piece ending there would have chosen. */
    CHECK(es_compose_emsync(&req, &o, &s, &rep) == 0);
    CHECK(rep.scenes_chosen == 1 && rep.mood_changes == 1);
    es_score_free(&s);
    es_compose_request head = one;
    head.duration = moods[1].start;
    CHECK(es_compose_emsync(&head, &o, &s, &rep2) == 0);
    CHECK(rep2.n_tokens > 10 && rep2.n_tokens < rep.n_tokens && !memcmp(rep.tokens, rep2.tokens, rep2.n_tokens * sizeof *rep.tokens));
    fprintf(stderr, "K=3 by scene: %zu tokens, the first %zu as the piece ending at the change\n", rep.n_tokens, rep2.n_tokens);
    es_emsync_report_free(&rep2);
    es_emsync_report_free(&rep);
    es_score_free(&s);

    /* a model's own sampling: the reference's for the released shapes, plain for any other */
    double t, p;
    es_emsync_default_sampling(es_nn_model_hparams(m), &t, &p);
    CHECK(t == 1.0 && p == 1.0);
    es_nn_hparams released = {.n_layers = 11, .d_model = 512, .n_heads = 8, .d_head = 64, .d_ff = 2048, .context = 1216, .vocab = 1011};
    es_emsync_default_sampling(&released, &t, &p);
    CHECK(t == 1.35 && p == 0.6);
    /* and its own candidate count: one for the released model, three for any other */
    CHECK(es_emsync_default_candidates(&released) == 1 && es_emsync_default_candidates(es_nn_model_hparams(m)) == 3);
    o.temperature = o.top_p = o.guidance = 0;
    o.candidates = 0;
    o.max_tokens = 30;
    CHECK(es_compose_emsync(&req, &o, &s, &rep) == 0 && rep.temperature == 1.0 && rep.top_p == 1.0 &&
          rep.guidance == 1.0 && rep.candidates == 3);
    o.candidates = 1;
    es_emsync_report_free(&rep);
    es_score_free(&s);
    o.max_tokens = 0;

    /* bad requests */
    o.top_p = 1.5;
    CHECK(es_compose_emsync(&req, &o, &s, &rep) == -1 && strstr(es_error(), "top-p"));
    o.top_p = 0.6;
    o.temperature = -1;
    CHECK(es_compose_emsync(&req, &o, &s, &rep) == -1 && strstr(es_error(), "temperature"));
    o.temperature = 1.35;
    o.guidance = 11;
    CHECK(es_compose_emsync(&req, &o, &s, &rep) == -1 && strstr(es_error(), "guidance"));
    o.guidance = 1;
    o.candidates = -1;
    CHECK(es_compose_emsync(&req, &o, &s, &rep) == -1 && strstr(es_error(), "candidates"));
    o.candidates = ES_EMSYNC_MAX_CANDIDATES + 1;
    CHECK(es_compose_emsync(&req, &o, &s, &rep) == -1 && strstr(es_error(), "candidates"));
    o.candidates = 1;
    req.duration = -1;
    CHECK(es_compose_emsync(&req, &o, &s, &rep) == -1);
    req.duration = 9.0;
    req.boundaries = NULL; /* count without the array: refused, not dereferenced */
    CHECK(es_compose_emsync(&req, &o, &s, &rep) == -1 && strstr(es_error(), "boundaries"));
    req.boundaries = bounds;
    moods[1].valence = INFINITY;
    CHECK(es_compose_emsync(&req, &o, &s, &rep) == -1 && strstr(es_error(), "mood 1 is infinite"));
    moods[1].valence = -0.8;
    req.duration = 1000;
    o.max_tokens = 20;
    CHECK(es_compose_emsync(&req, &o, &s, &rep) == 0 && rep.capped && rep.n_tokens == 21);
    es_emsync_report_free(&rep);
    es_score_free(&s);
    free(exact_tokens);
    es_nn_model_free(m);
}

/* Fast mode ends notes held for ES_EMSYNC_MAX_NOTE_SECONDS (after the shift that gets there); exact mode leaves them as the
 * network writes them (random weights hold notes for long, so both cases occur). */
static void test_held_notes(void)
{
    es_nn_model *m = es_nn_model_load(DIR "tiny-a.pt", ES_NN_F32, 2);
    CHECK(m != NULL);
    if (!m) return;
    es_mood_segment mood = {0, 0.2, 0.4};
    es_compose_request req = {.duration = 40.0, .moods = &mood, .n_moods = 1, .seed = 5};
    es_emsync_options o;
    es_emsync_options_default(&o);
    o.model = m;
    o.candidates = 1;
    double longest[2] = {0, 0};
    for (int exact = 0; exact < 2; exact++) {
        es_score s = {0};
        o.exact = exact;
        o.max_tokens = exact ? 300 : 0;
        CHECK(es_compose_emsync(&req, &o, &s, NULL) == 0);
        for (size_t i = 0; i < s.n_notes; i++)
            if (s.notes[i].end < s.duration && s.notes[i].end - s.notes[i].start > longest[exact])
                longest[exact] = s.notes[i].end - s.notes[i].start;
        es_score_free(&s);
    }
    fprintf(stderr, "held notes: longest %.3f s (fast), %.3f s (exact)\n", longest[0], longest[1]);
    /* ended after the time shift (at most 1 s) that reaches the limit */
    CHECK(longest[0] > 1.0 && longest[0] <= ES_EMSYNC_MAX_NOTE_SECONDS + 1.0 + 1e-9);
    CHECK(longest[1] > ES_EMSYNC_MAX_NOTE_SECONDS);
    es_nn_model_free(m);
}

/* Each landed cut gets a chord of at least ES_EMSYNC_CHORD_NOTES pitched notes that sound (a tiny
 * random model ends notes at random, also on the tick they began, which leaves no note). */
static void test_voicing_mask(void)
{
    double b[1] = {2.0};
    es_emsync_clock c;
    es_emsync_clock_init(&c, b, 1, 1);
    long on[ES_INSTRUMENT_COUNT][88];
    memset(on, 0xFF, sizeof on);
    static float lg[ES_VOCAB_SIZE];
    es_emsync_clock_advance(&c, es_token_timeshift(125));
    es_emsync_clock_advance(&c, es_token_timeshift(125));         /* at 2.0 s, the boundary */
    es_emsync_clock_advance(&c, ES_TOK_CHORD);
    on[ES_BASS][40 - 21] = c.ticks - 100;                         /* sounding from before */
    es_emsync_clock_advance(&c, es_token_on(ES_PIANO, 60));
    on[ES_PIANO][60 - 21] = c.ticks;                              /* begun on the chord's tick */
    es_emsync_voicing_mask(&c, (const long(*)[88])on, lg);
    CHECK(isinf(lg[es_token_off(ES_PIANO, 60)]) && isinf(lg[es_token_on(ES_BASS, 40)]));
    CHECK(isfinite(lg[es_token_off(ES_BASS, 40)]) && isfinite(lg[es_token_on(ES_PIANO, 62)]));
    CHECK(isinf(lg[es_token_on(ES_PIANO, 60)]));                 /* nor struck again at once */
    memset(lg, 0, sizeof lg);
    es_emsync_clock_advance(&c, es_token_on(ES_PIANO, 64));
    es_emsync_clock_advance(&c, es_token_on(ES_PIANO, 67));       /* three notes: re-strikes allowed */
    on[ES_PIANO][64 - 21] = on[ES_PIANO][67 - 21] = c.ticks;
    es_emsync_voicing_mask(&c, (const long(*)[88])on, lg);
    CHECK(isfinite(lg[es_token_on(ES_BASS, 40)]) && isinf(lg[es_token_off(ES_PIANO, 67)]));
    memset(lg, 0, sizeof lg);
    es_emsync_clock_advance(&c, es_token_timeshift(1));          /* time moves: no rule */
    es_emsync_voicing_mask(&c, (const long(*)[88])on, lg);
    CHECK(isfinite(lg[es_token_off(ES_PIANO, 67)]));
    es_emsync_clock_free(&c);
}

static void test_landed_chords(void)
{
    es_nn_model *m = es_nn_model_load(DIR "tiny-a.pt", ES_NN_F32, 2);
    CHECK(m != NULL);
    if (!m) return;
    double bounds[5] = {1.3, 2.9, 4.05, 6.5, 8.2};
    es_mood_segment mood = {0, -0.4, 0.6};
    es_emsync_options o;
    es_emsync_options_default(&o);
    o.model = m;
    o.candidates = 1;
    int fewest = 99;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        es_compose_request req = {.duration = 10.0, .boundaries = bounds, .n_boundaries = 5, .moods = &mood, .n_moods = 1,
                                  .seed = seed};
        es_score s = {0};
        CHECK(es_compose_emsync(&req, &o, &s, NULL) == 0);
        for (int b = 0; b < 5; b++) {
            int notes = 0;
            for (size_t i = 0; i < s.n_notes; i++)
                notes += s.notes[i].instrument != ES_DRUMS && fabs(s.notes[i].start - bounds[b]) <= 0.004 + 1e-9 &&
                         s.notes[i].end > s.notes[i].start;
            if (notes < fewest) fewest = notes;
        }
        es_score_free(&s);
    }
    fprintf(stderr, "landed chords: at least %d notes on each of 40 cuts\n", fewest);
    CHECK(fewest >= ES_EMSYNC_CHORD_NOTES);
    es_nn_model_free(m);
}

static void test_find_model(void)
{
    CHECK(!strcmp(es_find_model("x.pt"), "x.pt"));
    setenv("EMSYNC_MODEL", "env.pt", 1);
    CHECK(!strcmp(es_find_model(NULL), "env.pt"));
    unsetenv("EMSYNC_MODEL");
    setenv("XDG_DATA_HOME", "/nonexistent-dir", 1);
    CHECK(es_find_model(NULL) == NULL);
    setenv("XDG_DATA_HOME", "tests/data", 1);
    /* tests/data/emsync/emsync.pt does not exist either */
    CHECK(es_find_model("") == NULL);
}

/* A token stream of repeated triads: `chords` chords over 8 s, on the piano. */
static size_t triads(int *tok, int root, int minor, int chords)
{
    size_t n = 0;
    int third = root + (minor ? 3 : 4), fifth = root + 7;
    int ticks = 1000 / chords; /* 8 s = 1000 ticks of 8 ms */
    for (int c = 0; c < chords; c++) {
        tok[n++] = es_token_on(ES_PIANO, root);
        tok[n++] = es_token_on(ES_PIANO, third);
        tok[n++] = es_token_on(ES_PIANO, fifth);
        for (int left = ticks; left > 0; left -= 125) tok[n++] = es_token_timeshift(left > 125 ? 125 : left);
        tok[n++] = es_token_off(ES_PIANO, root);
        tok[n++] = es_token_off(ES_PIANO, third);
        tok[n++] = es_token_off(ES_PIANO, fifth);
    }
    return n;
}

/* Candidate choice: most boundary hits first; among equals, the major-ness closest to the
 * valence (arousal is left to the model). */
static void test_pick(void)
{
    static int sparse_major[512], dense_minor[512], sparse_minor[512];
    size_t n[3] = {triads(sparse_major, 60, 0, 4), triads(dense_minor, 60, 1, 40), triads(sparse_minor, 57, 1, 4)};
    const int *tok[3] = {sparse_major, dense_minor, sparse_minor};
    es_mood_segment mood = {0, 0.8, -0.8};
    es_compose_request req = {.duration = 8, .moods = &mood, .n_moods = 1};

    size_t hits[3] = {2, 2, 1};
    CHECK(es_emsync_pick(tok, n, hits, 3, &req) == 0);       /* bright: major */
    mood = (es_mood_segment){0, -0.8, -0.8};
    CHECK(es_emsync_pick(tok, n, hits, 3, &req) == 1);       /* dark: minor, dense or not */
    mood = (es_mood_segment){0, 0.8, 0.8};
    CHECK(es_emsync_pick(tok, n, hits, 3, &req) == 0);       /* bright and excited: still major */
    size_t more[3] = {2, 2, 3};
    CHECK(es_emsync_pick(tok, n, more, 3, &req) == 2);       /* hits come first */
    const int *same[3] = {sparse_major, sparse_major, sparse_major};
    CHECK(es_emsync_pick(same, (size_t[]){n[0], n[0], n[0]}, hits, 2, &req) == 0); /* then the lowest index */
    /* a mood that changes counts by duration: 2 s bright then 6 s dark ask for minor (the plain
     * mean, 0, would tie and keep the first) */
    es_mood_segment moods[2] = {{0, 0.8, 0}, {2, -0.8, 0}};
    req.moods = moods;
    req.n_moods = 2;
    CHECK(es_emsync_pick(tok, n, hits, 3, &req) == 1);
}

int main(void)
{
    es_progress_quiet(1);
    test_vocab();
    test_decode();
    test_sample();
    test_sample_random();
    test_sample_lazy_equals_sorted();
    test_clock();
    test_clock_land();
    test_voicing_mask();
    test_landed_chords();
    test_guide();
    test_generate();
    test_pick();
    test_held_notes();
    test_find_model();
    return check_report("test_emsync_generate");
}
