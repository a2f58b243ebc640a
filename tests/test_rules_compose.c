/* The rules composer against its promises, over several seeds and moods: a chord onset (three or
 * more pitched notes within 50 ms) and a chord change on every boundary, every boundary a
 * downbeat of the tempo map, nothing after the duration and a tonic held up to it, instrument
 * ranges, no key sounding twice at once (so a MIDI file keeps every note), byte-identical MIDI
 * for one seed, arousal -> denser and faster, valence -> mode (checked by the Krumhansl-Kessler
 * key finder of src/eval, a second route). A boundary is a downbeat
 * when it is a whole number of 4/4 bars after the last tempo change (how the writer notates bars). */
#include <string.h>

#include "check.h"
#include "core/error.h"
#include "eval/metrics.h"
#include "music/midi.h"
#include "music/rules.h"

static const double cuts[] = {5, 7, 12, 17};

static int compose(double v, double a, uint64_t seed, const double *b, size_t nb, double dur, es_score *s)
{
    es_mood_segment m = {0, v, a};
    es_compose_request r = {dur, b, nb, &m, 1, seed};
    int rc = es_compose_rules(&r, s);
    if (rc) fprintf(stderr, "compose failed: %s\n", es_error());
    return rc;
}

static int pitched_onsets_near(const es_score *s, double t, double win)
{
    int n = 0;
    for (size_t i = 0; i < s->n_notes; i++)
        if (s->notes[i].instrument != ES_DRUMS && fabs(s->notes[i].start - t) <= win) n++;
    return n;
}

/* 1 when t is a downbeat as the MIDI writer notates bars (4/4, restarting at every tempo
 * change): a whole number of bars after the last tempo change at or before t. */
static int is_downbeat(const es_score *s, double t)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n_tempos; i++)
        if (s->tempos[i].time <= t + 1e-9) k = i;
    double bars = (t - s->tempos[k].time) * s->tempos[k].bpm / 240;
    return fabs(bars - round(bars)) < 1e-6;
}

/* Quarter notes elapsed at time t according to the tempo map. */
static double beats_at(const es_score *s, double t)
{
    double beats = 0;
    for (size_t i = 0; i < s->n_tempos; i++) {
        double a = s->tempos[i].time, b = i + 1 < s->n_tempos ? s->tempos[i + 1].time : 1e30;
        if (t <= a) break;
        beats += (fmin(t, b) - a) * s->tempos[i].bpm / 60;
    }
    return beats;
}

static const int lo[ES_INSTRUMENT_COUNT] = {28, 35, 40, 21, 28}, hi[ES_INSTRUMENT_COUNT] = {55, 81, 88, 108, 100};

static void test_promises(void)
{
    static const double va[][2] = {{-0.9, -0.9}, {0.9, 0.9}, {0, 0}, {0.8, -0.7}, {-0.7, 0.8}, {0.3, -0.3}, {-0.4, 0.4},
                                   {0.4, 0.4}};
    for (uint64_t seed = 1; seed <= 3; seed++)
        for (size_t k = 0; k < sizeof va / sizeof va[0]; k++) {
            es_score s = {0};
            if (compose(va[k][0], va[k][1], seed, cuts, 4, 20.0, &s)) {
                CHECK(0);
                continue;
            }
            int onsets_ok = 1, change_ok = 1, downbeat_ok = 1, after_ok = 1, range_ok = 1, accent_ok = 1;
            for (int i = 0; i < 4; i++) {
                /* the accent: a crash on the cut, and the chord there louder than the piece's mean */
                int crash = 0;
                double at = 0, all = 0;
                int n_at = 0, n_all = 0;
                for (size_t j = 0; j < s.n_notes; j++) {
                    const es_note *n = &s.notes[j];
                    if (n->instrument == ES_DRUMS) {
                        crash |= n->pitch == 49 && fabs(n->start - cuts[i]) < 1e-6;
                        continue;
                    }
                    all += n->velocity, n_all++;
                    if (fabs(n->start - cuts[i]) <= 0.05) at += n->velocity, n_at++;
                }
                accent_ok &= crash && n_at && at / n_at > all / n_all + 5;
                onsets_ok &= pitched_onsets_near(&s, cuts[i], 0.05) >= 3;
                downbeat_ok &= is_downbeat(&s, cuts[i]);
                /* a chord mark at the cut, different from the chord before it */
                int found = 0;
                for (size_t j = 1; j < s.n_chords; j++)
                    if (fabs(s.chords[j].time - cuts[i]) < 0.05 && strcmp(s.chords[j].name, s.chords[j - 1].name)) found = 1;
                change_ok &= found;
            }
            double last_end = 0;
            for (size_t i = 0; i < s.n_notes; i++) {
                const es_note *n = &s.notes[i];
                after_ok &= n->end <= 20.0 + 1e-9 && n->start < n->end;
                range_ok &= n->pitch >= lo[n->instrument] && n->pitch <= hi[n->instrument];
                if (n->end > last_end) last_end = n->end;
            }
            if (!onsets_ok || !change_ok || !downbeat_ok) fprintf(stderr, "seed %d v %.1f a %.1f\n", (int)seed, va[k][0], va[k][1]);
            CHECK(onsets_ok);
            CHECK(accent_ok);
            CHECK(change_ok);
            CHECK(downbeat_ok);
            CHECK(after_ok);
            CHECK(range_ok);
            CHECK_NEAR(last_end, 20.0, 1e-6); /* the held ending reaches the end */
            CHECK(s.n_tempos >= 1 && s.tempos[0].time == 0);
            /* whole beats between tempo changes, so the shorter bars are notated exactly */
            int whole = 1;
            for (size_t i = 0; i < s.n_tempos; i++) {
                double end = i + 1 < s.n_tempos ? s.tempos[i + 1].time : 20.0;
                double beats = (end - s.tempos[i].time) * s.tempos[i].bpm / 60;
                whole &= fabs(beats - round(beats)) < 1e-6;
            }
            CHECK(whole);
            /* a guitar strum's first string sounds on its eighth of the beat, the others 12 ms apart */
            int strum_ok = 1, strums = 0;
            for (size_t i = 0; i < s.n_notes; i++) {
                if (s.notes[i].instrument != ES_GUITAR) continue;
                double first = s.notes[i].start;
                for (size_t j = 0; j < s.n_notes; j++)
                    if (s.notes[j].instrument == ES_GUITAR && s.notes[j].start < first && s.notes[j].start > s.notes[i].start - 0.07)
                        first = s.notes[j].start;
                double halves = beats_at(&s, first) * 2;
                strum_ok &= fabs(halves - round(halves)) < 1e-6;
                strums += first == s.notes[i].start;
            }
            CHECK(strum_ok);
            if (va[k][1] >= 0.4) CHECK(strums > 0);
            /* one key never sounds twice at once (MIDI cannot hold it): the file keeps every note */
            int twice = 0;
            for (size_t i = 0; i < s.n_notes; i++)
                for (size_t j = i + 1; j < s.n_notes && s.notes[j].start < s.notes[i].end; j++)
                    twice += s.notes[j].instrument == s.notes[i].instrument && s.notes[j].pitch == s.notes[i].pitch;
            CHECK(twice == 0);
            uint8_t *buf = NULL;
            size_t len = 0;
            es_score back = {0};
            CHECK(es_midi_write_mem(&s, &buf, &len) == 0 && es_midi_read_mem(buf, len, "rt", &back) == 0);
            CHECK(back.n_notes == s.n_notes);
            free(buf);
            es_score_free(&back);
            /* the metric route agrees: every boundary hit within 0.1 s */
            es_metrics m;
            CHECK(es_metrics_compute(&s, cuts, 4, &m) == 0);
            CHECK(m.hit_rate_100ms == 1.0 && m.hit_rate_1s == 1.0);
            es_score_free(&s);
        }
}

/* The sonority at t: the highest pitched note above the bass and the bass (-1 when none). */
static void outer_voices(const es_score *s, double t, int *top, int *bass)
{
    *top = *bass = -1;
    for (size_t i = 0; i < s->n_notes; i++) {
        const es_note *n = &s->notes[i];
        if (n->instrument == ES_DRUMS || n->start > t + 1e-6 || n->end <= t + 1e-6) continue;
        if (n->instrument == ES_BASS) *bass = n->pitch;
        else if (n->pitch > *top) *top = n->pitch;
    }
}

/* Craft, read from the notes alone: the string pad moves by small steps from chord to chord
 * (each new note within a fourth of the nearest old one, a semitone or two on average); the
 * outer voices (bass and the highest other note) rarely move in parallel octaves between
 * consecutive sonorities; a cadential chord (V, bVII in the modal middle, ii° when dark) leads
 * into every cut after a section of two bars or more, the tonic being the final chord's root;
 * the texture is no thicker than in most real multi-instrument songs (polyphony at most 6.13,
 * the 90th percentile of the 41 pieces measured by scripts/measure-midi-corpus.sh). */
static void test_craft(void)
{
    static const double va[][2] = {{-0.9, -0.9}, {0.9, 0.9}, {0, 0}, {0.8, -0.7}, {-0.7, 0.8}, {0.3, -0.3}, {-0.4, 0.4},
                                   {0.4, 0.4}};
    int parallel = 0, moves = 0;
    for (uint64_t seed = 1; seed <= 3; seed++)
        for (size_t k = 0; k < sizeof va / sizeof va[0]; k++) {
            es_score s = {0};
            if (compose(va[k][0], va[k][1], seed, cuts, 4, 20.0, &s) || !s.n_chords) {
                CHECK(0);
                continue;
            }
            /* string pad: groups of notes starting together */
            int prev[16], np = 0, worst = 0, steps = 0;
            double moved = 0;
            for (size_t i = 0; i < s.n_notes;) {
                int cur[16], nc = 0;
                size_t j = i;
                for (; j < s.n_notes && s.notes[j].start < s.notes[i].start + 1e-6; j++)
                    if (s.notes[j].instrument == ES_STRINGS && nc < 16) cur[nc++] = s.notes[j].pitch;
                if (nc && np) {
                    double sum = 0;
                    for (int a = 0; a < nc; a++) {
                        int d = 128;
                        for (int b = 0; b < np; b++) d = abs(cur[a] - prev[b]) < d ? abs(cur[a] - prev[b]) : d;
                        sum += d;
                        worst = d > worst ? d : worst;
                    }
                    moved += sum / nc, steps++;
                }
                if (nc) memcpy(prev, cur, sizeof cur), np = nc;
                i = j;
            }
            CHECK(steps > 0 && moved / steps <= 2.0);
            CHECK(worst <= 5);
            /* outer voices at every onset */
            int pt = -1, pb = -1;
            double last = -1;
            for (size_t i = 0; i < s.n_notes; i++) {
                double t = s.notes[i].start;
                if (s.notes[i].instrument == ES_DRUMS || t <= last + 1e-6) continue;
                last = t;
                int top, bass;
                outer_voices(&s, t, &top, &bass);
                if (top >= 0 && bass >= 0 && pt >= 0 && pb >= 0 && top != pt && bass != pb) {
                    moves++;
                    parallel += (top - bass) % 12 == 0 && (pt - pb) % 12 == 0 && (top > pt) == (bass > pb);
                }
                pt = top, pb = bass;
            }
            /* cadences */
            int tonic = s.chords[s.n_chords - 1].root, cadence_ok = 1;
            for (int c = 0; c < 4; c++) {
                double from = c ? cuts[c - 1] : 0, bpm = 0;
                const es_chord *before = NULL;
                for (size_t i = 0; i < s.n_tempos; i++)
                    if (s.tempos[i].time < cuts[c] - 1e-6) bpm = s.tempos[i].bpm;
                for (size_t i = 0; i < s.n_chords; i++)
                    if (s.chords[i].time < cuts[c] - 1e-6) before = &s.chords[i];
                if (lround((cuts[c] - from) * bpm / 60) <= 4) continue; /* a one-bar section */
                int deg = before ? (before->root - tonic + 12) % 12 : -1;
                int ok = deg == 7 || deg == 10 || (deg == 2 && strstr(before->name, "dim"));
                if (!ok) fprintf(stderr, "seed %d v %.1f a %.1f: %s before the cut at %g s\n", (int)seed, va[k][0], va[k][1],
                                 before ? before->name : "nothing", cuts[c]);
                cadence_ok &= ok;
            }
            CHECK(cadence_ok);
            es_metrics m;
            CHECK(es_metrics_compute(&s, cuts, 4, &m) == 0 && m.polyphony <= 6.13);
            if (m.polyphony > 6.13) fprintf(stderr, "seed %d v %.1f a %.1f: polyphony %.2f\n", (int)seed, va[k][0], va[k][1], m.polyphony);
            es_score_free(&s);
        }
    fprintf(stderr, "parallel octaves between the outer voices: %d of %d moves\n", parallel, moves);
    CHECK(moves > 200 && parallel * 100 <= moves); /* at most 1% */
}

static void test_determinism(void)
{
    es_score a = {0}, b = {0}, c = {0};
    uint8_t *ba = NULL, *bb = NULL, *bc = NULL;
    size_t la = 0, lb = 0, lc = 0;
    CHECK(compose(0.4, 0.5, 42, cuts, 4, 20, &a) == 0 && compose(0.4, 0.5, 42, cuts, 4, 20, &b) == 0);
    CHECK(compose(0.4, 0.5, 43, cuts, 4, 20, &c) == 0);
    CHECK(es_midi_write_mem(&a, &ba, &la) == 0 && es_midi_write_mem(&b, &bb, &lb) == 0 && es_midi_write_mem(&c, &bc, &lc) == 0);
    CHECK(la == lb && memcmp(ba, bb, la) == 0);
    CHECK(la != lc || memcmp(ba, bc, la) != 0);
    free(ba), free(bb), free(bc);
    es_score_free(&a), es_score_free(&b), es_score_free(&c);

    /* NaN valence/arousal compose exactly as 0 */
    CHECK(compose(NAN, NAN, 5, cuts, 4, 20, &a) == 0 && compose(0, 0, 5, cuts, 4, 20, &b) == 0);
    CHECK(es_midi_write_mem(&a, &ba, &la) == 0 && es_midi_write_mem(&b, &bb, &lb) == 0);
    CHECK(la == lb && memcmp(ba, bb, la) == 0);
    free(ba), free(bb);
    es_score_free(&a), es_score_free(&b);
}

static double mean_bpm(const es_score *s)
{
    return beats_at(s, s->duration) * 60 / s->duration;
}

static void test_affect(void)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        es_score calm = {0}, wild = {0}, happy = {0}, sad = {0};
        es_metrics mc, mw, mh, ms;
        CHECK(compose(0, -0.8, seed, cuts, 4, 20, &calm) == 0 && compose(0, 0.8, seed, cuts, 4, 20, &wild) == 0);
        CHECK(compose(0.8, 0, seed, cuts, 4, 20, &happy) == 0 && compose(-0.8, 0, seed, cuts, 4, 20, &sad) == 0);
        CHECK(es_metrics_compute(&calm, cuts, 4, &mc) == 0 && es_metrics_compute(&wild, cuts, 4, &mw) == 0);
        CHECK(es_metrics_compute(&happy, cuts, 4, &mh) == 0 && es_metrics_compute(&sad, cuts, 4, &ms) == 0);
        CHECK(mw.note_density > 2 * mc.note_density);
        CHECK(mean_bpm(&wild) > mean_bpm(&calm) + 20);
        CHECK(mw.mean_velocity > mc.mean_velocity);
        /* percussiveness: a full kit when excited, only the crashes on the cuts when calm */
        int calm_drums = 0, wild_drums = 0;
        for (size_t i = 0; i < calm.n_notes; i++) calm_drums += calm.notes[i].instrument == ES_DRUMS && calm.notes[i].pitch != 49;
        for (size_t i = 0; i < wild.n_notes; i++) wild_drums += wild.notes[i].instrument == ES_DRUMS;
        CHECK(calm_drums == 0 && wild_drums > 100);
        CHECK(mh.key_major == 1 && mh.majorness > 0);
        CHECK(ms.key_major == 0 && ms.majorness < 0);
        fprintf(stderr, "seed %d: density %.2f vs %.2f notes/s, tempo %.0f vs %.0f bpm, major-ness %+.2f vs %+.2f\n", (int)seed,
                mw.note_density, mc.note_density, mean_bpm(&wild), mean_bpm(&calm), mh.majorness, ms.majorness);
        es_score_free(&calm), es_score_free(&wild), es_score_free(&happy), es_score_free(&sad);
    }

    /* a mood change at a cut moves everything: calm and sad, then excited and happy */
    es_mood_segment m[2] = {{0, -0.8, -0.8}, {10, 0.8, 0.8}};
    double b[1] = {10};
    es_compose_request r = {20, b, 1, m, 2, 9};
    es_score s = {0};
    CHECK(es_compose_rules(&r, &s) == 0);
    int first = 0, second = 0;
    for (size_t i = 0; i < s.n_notes; i++) {
        if (s.notes[i].start < 10) first++;
        else second++;
    }
    CHECK(second > 2 * first);
    CHECK(s.n_tempos == 2 && s.tempos[1].time == 10 && s.tempos[1].bpm > s.tempos[0].bpm);
    es_score_free(&s);
}

/* Beats (from the bar start, in eighths) of the lone piano onsets in the bar starting at t0: the
 * melody where it does not coincide with a chord. Returns a bit set over 8 eighths. */
static unsigned melody_rhythm(const es_score *s, double t0)
{
    double bpm = 0;
    for (size_t i = 0; i < s->n_tempos; i++)
        if (s->tempos[i].time <= t0 + 1e-9) bpm = s->tempos[i].bpm;
    double bar = 4 * 60 / bpm;
    unsigned set = 0;
    for (size_t i = 0; i < s->n_notes; i++) {
        const es_note *n = &s->notes[i];
        if (n->instrument != ES_PIANO || n->start < t0 - 1e-9 || n->start >= t0 + bar - 1e-9) continue;
        int same = 0;
        for (size_t j = 0; j < s->n_notes; j++)
            same += s->notes[j].instrument == ES_PIANO && fabs(s->notes[j].start - n->start) < 1e-9;
        if (same == 1) set |= 1u << (int)lround((n->start - t0) / bar * 8);
    }
    return set;
}

/* The motif drawn once per piece returns at the start of every scene. */
static void test_motif(void)
{
    for (uint64_t seed = 1; seed <= 4; seed++) {
        es_score s = {0};
        CHECK(compose(0.5, 0.4, seed, cuts, 4, 20, &s) == 0);
        unsigned first = melody_rhythm(&s, 0);
        CHECK(first != 0);
        for (int i = 0; i < 3; i++) CHECK(melody_rhythm(&s, cuts[i]) == first);
        es_score_free(&s);
    }
}

static void test_edges(void)
{
    es_score s = {0};
    /* very short piece, boundaries outside the piece, two boundaries 10 ms apart */
    CHECK(compose(0.5, 0.5, 1, NULL, 0, 0.3, &s) == 0 && s.n_notes > 0);
    for (size_t i = 0; i < s.n_notes; i++) CHECK(s.notes[i].end <= 0.3 + 1e-9);
    es_score_free(&s);
    double odd[] = {0, 3.0, 3.01, 9.5, 10, 12};
    CHECK(compose(-0.5, 0.9, 2, odd, 6, 10, &s) == 0);
    CHECK(pitched_onsets_near(&s, 3.0, 0.05) >= 3 && pitched_onsets_near(&s, 9.5, 0.05) >= 3);
    for (size_t i = 0; i < s.n_notes; i++) CHECK(s.notes[i].end <= 10 + 1e-9);
    es_score_free(&s);
    /* a mood change away from any cut still changes the chord there */
    es_mood_segment m[2] = {{0, 0.8, 0.2}, {6, -0.8, 0.2}};
    es_compose_request r = {12, NULL, 0, m, 2, 3};
    CHECK(es_compose_rules(&r, &s) == 0 && pitched_onsets_near(&s, 6, 0.05) >= 3);
    es_score_free(&s);

    /* bad requests: one error line, empty score */
    double desc[] = {5, 3};
    CHECK(compose(0, 0, 1, NULL, 0, 0, &s) != 0 && strstr(es_error(), "duration") && s.notes == NULL);
    CHECK(compose(0, 0, 1, NULL, 0, NAN, &s) != 0);
    CHECK(compose(0, 0, 1, NULL, 0, 1e6, &s) != 0);
    CHECK(compose(0, 0, 1, desc, 2, 10, &s) != 0 && strstr(es_error(), "ascending"));
    es_compose_request none = {10, NULL, 0, NULL, 0, 1};
    CHECK(es_compose_rules(&none, &s) != 0 && strstr(es_error(), "mood"));
    es_mood_segment back[2] = {{0, 0, 0}, {-3, 0, 0}};
    es_compose_request unordered = {10, NULL, 0, back, 2, 1};
    CHECK(es_compose_rules(&unordered, &s) != 0 && strstr(es_error(), "order") && s.notes == NULL);

    /* an hour with a cut every 0.5 s and a mood change every 0.7 s: every cut still gets its chord */
    size_t nb = 7199, nm = 5143;
    double *many = malloc(nb * sizeof *many);
    es_mood_segment *moods = malloc(nm * sizeof *moods);
    for (size_t i = 0; i < nb; i++) many[i] = 0.5 * (double)(i + 1);
    for (size_t i = 0; i < nm; i++) moods[i] = (es_mood_segment){0.7 * (double)i, i % 2 ? 0.5 : -0.5, i % 3 ? 0.6 : -0.6};
    es_compose_request big = {3600, many, nb, moods, nm, 1};
    CHECK(es_compose_rules(&big, &s) == 0);
    int all = 1;
    es_metrics mt;
    CHECK(es_metrics_compute(&s, many, nb, &mt) == 0 && mt.hit_rate_100ms == 1.0);
    for (size_t i = 0; i < s.n_notes; i++) all &= s.notes[i].end <= 3600 + 1e-9;
    CHECK(all);
    es_score_free(&s);
    free(moods);
    free(many);
}

/* Mean velocity of the pitched notes starting in [t0, t1). */
static double mean_velocity(const es_score *s, double t0, double t1)
{
    double sum = 0;
    int n = 0;
    for (size_t i = 0; i < s->n_notes; i++)
        if (s->notes[i].instrument != ES_DRUMS && s->notes[i].start >= t0 && s->notes[i].start < t1) {
            sum += s->notes[i].velocity;
            n++;
        }
    return n ? sum / n : 0;
}

/* Dynamics: a long section swells toward the cut that ends it, and the cut is louder still. */
static void test_swell(void)
{
    const double cut = 20.0;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        es_score s = {0};
        CHECK(compose(0.2, 0.0, seed, &cut, 1, 30.0, &s) == 0);
        double beat = 60.0 / s.tempos[0].bpm, bar = 4 * beat;
        double early = mean_velocity(&s, bar, 2 * bar);       /* the section's second bar */
        double late = mean_velocity(&s, cut - bar, cut);       /* its last bar, into the cut */
        double on_cut = mean_velocity(&s, cut, cut + 0.05);    /* the accent */
        if (!(late > early + 5 && on_cut > late))
            fprintf(stderr, "seed %llu: second bar %.1f, last bar %.1f, on the cut %.1f\n",
                    (unsigned long long)seed, early, late, on_cut);
        CHECK(late > early + 5);
        CHECK(on_cut > late);
        es_score_free(&s);
    }
}

/* Continuous control: two moods 0.3 apart on either axis must sound different. Each step is
 * compared as emsync eval reads it (tempo, loudness from velocity, register, notes per second,
 * major-ness), averaged over seeds (one seed: the same key, motif and cuts for both moods), and
 * must move at least two cues by a just-noticeable amount in the direction the literature gives
 * (AFFECT.md: tempo, loudness, register and mode rise with valence; tempo, density and loudness
 * with arousal), with no cue moving the other way by as much. Just-noticeable: tempo 4%
 * (Drake & Botte 1993), loudness 1 dB (velocity squared, as a General MIDI synthesiser maps it),
 * register 1 semitone, density 10%, major-ness 0.1. Five classes, as before, fail this: inside a
 * class only small tempo and velocity slopes moved. */
enum { CUE_TEMPO, CUE_LOUD, CUE_REGISTER, CUE_DENSITY, CUE_MAJOR, N_CUES };

static void mean_cues(double v, double a, double *cue)
{
    enum { SEEDS = 12 };
    memset(cue, 0, N_CUES * sizeof *cue);
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        double b[3] = {6 + seed % 4, 14 + seed % 3, 22 + seed % 5};
        es_score s = {0};
        es_metrics m;
        CHECK(compose(v, a, seed, b, 3, 30, &s) == 0 && es_metrics_compute(&s, b, 3, &m) == 0);
        cue[CUE_TEMPO] += log(m.tempo_bpm) / SEEDS; /* ratios: means of logarithms */
        cue[CUE_LOUD] += 40 * log10(m.mean_velocity) / SEEDS;
        cue[CUE_REGISTER] += m.mean_pitch / SEEDS;
        cue[CUE_DENSITY] += log(m.note_density) / SEEDS;
        cue[CUE_MAJOR] += m.majorness / SEEDS;
        es_score_free(&s);
    }
}

static void test_continuous(void)
{
    static const char *const name[N_CUES] = {"tempo", "loudness", "register", "density", "major-ness"};
    static const double jnd[N_CUES] = {0.03922 /* log 1.04 */, 1.0, 1.0, 0.09531 /* log 1.1 */, 0.1};
    /* +1: rises with the axis, 0: free */
    static const int up[2][N_CUES] = {{1, 1, 1, 0, 1}, {1, 1, 0, 1, 0}};
    for (int axis = 0; axis < 2; axis++) {
        double prev[N_CUES], cur[N_CUES];
        for (int k = 0; k <= 6; k++) {
            double x = -0.9 + 0.3 * k;
            mean_cues(axis ? 0 : x, axis ? x : 0, cur);
            if (k) {
                int heard = 0, wrong = 0;
                for (int c = 0; c < N_CUES; c++) {
                    double d = (cur[c] - prev[c]) / jnd[c];
                    if (up[axis][c] && d >= 1) heard++;
                    if (up[axis][c] && d <= -1) wrong++;
                }
                if (heard < 2 || wrong) {
                    fprintf(stderr, "%s %+.1f -> %+.1f:", axis ? "arousal" : "valence", x - 0.3, x);
                    for (int c = 0; c < N_CUES; c++) fprintf(stderr, " %s %+.2f jnd", name[c], (cur[c] - prev[c]) / jnd[c]);
                    fprintf(stderr, "\n");
                }
                CHECK(heard >= 2 && !wrong);
            }
            memcpy(prev, cur, sizeof cur);
        }
    }
}

int main(void)
{
    test_promises();
    test_craft();
    test_determinism();
    test_affect();
    test_motif();
    test_edges();
    test_swell();
    test_continuous();
    return check_report("test_rules_compose");
}
