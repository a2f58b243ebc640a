/* The tokenizer against the decoder it inverts: tokenize(decode(tokens)) == tokens on random
 * pieces, decode(tokenize(MIDI)) keeps every in-range note within 8 ms, hand-worked offsets,
 * the bass split, and bad annotation files. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/error.h"
#include "core/rng.h"
#include "music/compose.h"
#include "music/emsync_vocab.h"
#include "music/midi.h"
#include "music/rules.h"
#include "music/tokenize.h"

static double *chord_times(const es_score *s)
{
    double *t = malloc((s->n_chords + 1) * sizeof *t);
    for (size_t i = 0; i < s->n_chords; i++) t[i] = s->chords[i].time;
    return t;
}

/* Random notes (some overlapping, some out of range, drums too) and chords. */
static void random_score(es_rng *r, es_score *s, double **chords, size_t *n_chords)
{
    memset(s, 0, sizeof *s);
    int n = 20 + (int)es_rng_below(r, 200);
    for (int i = 0; i < n; i++) {
        double start = es_rng_uniform(r) * 30, len = 0.001 + es_rng_uniform(r) * (es_rng_below(r, 4) ? 1.0 : 5.0);
        es_score_add_note(s, (es_instrument)es_rng_below(r, ES_INSTRUMENT_COUNT), 15 + (int)es_rng_below(r, 100),
                          1 + (int)es_rng_below(r, 127), start, start + len);
    }
    *n_chords = 1 + es_rng_below(r, 8);
    *chords = malloc(*n_chords * sizeof **chords);
    for (size_t i = 0; i < *n_chords; i++)
        (*chords)[i] = es_rng_below(r, 2) ? s->notes[es_rng_below(r, (uint32_t)s->n_notes)].start : es_rng_uniform(r) * 30;
}

static void test_round_trip(void)
{
    es_rng r;
    es_rng_seed(&r, 7);
    int bad = 0, pieces = 200;
    for (int k = 0; k < pieces; k++) {
        es_score s, d = {0};
        double *chords;
        size_t n_chords;
        random_score(&r, &s, &chords, &n_chords);
        es_tokenize_options o = {chords, n_chords, NULL, 0, 0.06, 0};
        es_token_seq a, b;
        if (es_score_to_tokens(&s, &o, &a)) { bad++; goto next; }
        if (es_tokens_to_score(a.tokens, a.n, &d)) { bad++; es_token_seq_free(&a); goto next; }
        double *again = chord_times(&d);
        es_tokenize_options o2 = {again, d.n_chords, NULL, 0, 0.06, 0};
        if (es_score_to_tokens(&d, &o2, &b)) bad++;
        else {
            int same = a.n == b.n && !memcmp(a.tokens, b.tokens, a.n * sizeof *a.tokens) &&
                       !memcmp(a.deltas, b.deltas, a.n * sizeof *a.deltas);
            if (!same) {
                bad++;
                fprintf(stderr, "piece %d: %zu vs %zu tokens\n", k, a.n, b.n);
            }
            es_token_seq_free(&b);
        }
        free(again);
        es_token_seq_free(&a);
    next:
        free(chords);
        es_score_free(&d);
        es_score_free(&s);
    }
    CHECK(bad == 0);
}

/* A rules piece written as MIDI and read back: every note survives tokenize + decode within 8 ms
 * (an end may come earlier only where the same key is struck again). */
static void test_midi_notes_kept(void)
{
    double cuts[2] = {7.5, 15.0};
    es_mood_segment mood = {0, 0.4, 0.6};
    es_compose_request req = {.duration = 24, .boundaries = cuts, .n_boundaries = 2, .moods = &mood, .n_moods = 1, .seed = 3};
    es_score s = {0}, m = {0}, d = {0};
    uint8_t *buf = NULL;
    size_t len = 0;
    CHECK(es_compose_rules(&req, &s) == 0);
    CHECK(es_midi_write_mem(&s, &buf, &len) == 0);
    CHECK(es_midi_read_mem(buf, len, "rules.mid", &m) == 0);
    double *chords = chord_times(&m);
    es_tokenize_options o = {chords, m.n_chords, NULL, 0, 0.06, 0};
    es_token_seq q;
    CHECK(es_score_to_tokens(&m, &o, &q) == 0);
    CHECK(es_tokens_to_score(q.tokens, q.n, &d) == 0);
    size_t in_range = 0, found = 0;
    for (size_t i = 0; i < m.n_notes; i++) {
        const es_note *a = &m.notes[i];
        if (a->pitch < 21 || a->pitch > 108) continue;
        in_range++;
        int restruck = 0;
        for (size_t j = 0; j < m.n_notes; j++)
            if (j != i && m.notes[j].instrument == a->instrument && m.notes[j].pitch == a->pitch &&
                m.notes[j].start >= a->start && m.notes[j].start < a->end + 0.008)
                restruck = 1;
        for (size_t j = 0; j < d.n_notes; j++) {
            const es_note *b = &d.notes[j];
            if (b->instrument == a->instrument && b->pitch == a->pitch && fabs(b->start - a->start) <= 0.008 &&
                (fabs(b->end - a->end) <= 0.008 || (restruck && b->end < a->end))) {
                found++;
                break;
            }
        }
    }
    fprintf(stderr, "midi: %zu notes in range, %zu kept within 8 ms, %zu tokens, %zu chords\n", in_range, found, q.n, q.chords);
    CHECK(in_range > 100 && found == in_range);
    CHECK(q.chords >= 2 && d.n_chords == q.chords);
    es_token_seq_free(&q);
    free(chords);
    free(buf);
    es_score_free(&d);
    es_score_free(&m);
    es_score_free(&s);
}

/* Worked by hand: piano C4 0..0.504 s, a chord at 1.2 s with E4, drum out of range dropped. */
static void test_worked_example(void)
{
    es_score s = {0};
    es_score_add_note(&s, ES_PIANO, 60, 90, 0.0, 0.503);  /* tick 63 */
    es_score_add_note(&s, ES_PIANO, 64, 90, 1.2031, 1.705); /* ticks 150..213 */
    es_score_add_note(&s, ES_DRUMS, 10, 90, 0.2, 0.3);      /* below 21: dropped */
    double chord = 1.19, bar = 0.0;
    es_tokenize_options o = {&chord, 1, &bar, 1, 0.06, 0};
    es_token_seq q;
    CHECK(es_score_to_tokens(&s, &o, &q) == 0);
    int want[] = {ES_TOK_BAR, es_token_on(ES_PIANO, 60), es_token_timeshift(63), es_token_off(ES_PIANO, 60),
                  es_token_timeshift(87), ES_TOK_CHORD, es_token_on(ES_PIANO, 64), es_token_timeshift(63),
                  es_token_off(ES_PIANO, 64)};
    float dwant[] = {1.2f, 1.2f, 0.696f, 0.696f, 0.0f, 8, 8, 8, 8};
    CHECK(q.n == 9 && !memcmp(q.tokens, want, sizeof want));
    int ok = q.n == 9;
    for (size_t i = 0; ok && i < q.n; i++) ok = fabsf(q.deltas[i] - dwant[i]) < 1e-5f;
    CHECK(ok);
    CHECK(q.notes == 2 && q.dropped_range == 1 && q.chords == 1 && q.bars == 1);
    CHECK_NEAR(q.seconds, 1.704, 1e-9);
    es_token_seq_free(&q);

    /* a gap of 2.496 s: two whole seconds, then the rest */
    es_score g = {0};
    es_score_add_note(&g, ES_BASS, 40, 90, 0.0, 2.497); /* tick 312 */
    CHECK(es_score_to_tokens(&g, &(es_tokenize_options){0}, &q) == 0);
    int gw[] = {es_token_on(ES_BASS, 40), es_token_timeshift(125), es_token_timeshift(125), es_token_timeshift(62),
                es_token_off(ES_BASS, 40)};
    CHECK(q.n == 5 && !memcmp(q.tokens, gw, sizeof gw));
    es_token_seq_free(&q);
    es_score_free(&g);

    /* nothing in range */
    es_score e = {0};
    es_score_add_note(&e, ES_PIANO, 120, 90, 0.0, 1.0);
    CHECK(es_score_to_tokens(&e, &(es_tokenize_options){0}, &q) == -1 && strstr(es_error(), "no notes"));
    es_score_free(&e);
    es_score_free(&s);
}

static void test_bass_split(void)
{
    es_score s = {0};
    es_score_add_note(&s, ES_PIANO, 40, 90, 0.0, 1.0);   /* lowest of its strike, below 52: bass */
    es_score_add_note(&s, ES_PIANO, 47, 90, 0.01, 1.0);  /* struck with it but not lowest: piano */
    es_score_add_note(&s, ES_PIANO, 64, 90, 0.0, 1.0);
    es_score_add_note(&s, ES_PIANO, 55, 90, 2.0, 3.0);   /* lowest but not below 52: piano */
    es_score_add_note(&s, ES_STRINGS, 30, 90, 2.0, 3.0); /* other instruments untouched */
    es_tokenize_options o = {0};
    o.bass_below = 52;
    es_token_seq q;
    CHECK(es_score_to_tokens(&s, &o, &q) == 0);
    int bass40 = 0, piano47 = 0, piano55 = 0, strings30 = 0;
    for (size_t i = 0; i < q.n; i++) {
        bass40 |= q.tokens[i] == es_token_on(ES_BASS, 40);
        piano47 |= q.tokens[i] == es_token_on(ES_PIANO, 47);
        piano55 |= q.tokens[i] == es_token_on(ES_PIANO, 55);
        strings30 |= q.tokens[i] == es_token_on(ES_STRINGS, 30);
    }
    CHECK(bass40 && piano47 && piano55 && strings30);
    es_token_seq_free(&q);
    es_score_free(&s);
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(text, f);
    return fclose(f);
}

static void test_annotation_files(void)
{
    char dir[] = "/tmp/es-tokenize-XXXXXX", path[256];
    CHECK(mkdtemp(dir) != NULL);
    double *beats, *down, *on;
    size_t nb, nd, no;
    snprintf(path, sizeof path, "%s/beats.txt", dir);
    write_file(path, "0.0 1 1\n0.5 0 0\n1.0 1 0\n1.5 0 0\n2.0 1 1\n2.5 0 0\n");
    CHECK(es_read_beat_file(path, &beats, &nb, &down, &nd) == 0 && nb == 6 && nd == 2 && down[1] == 2.0);
    snprintf(path, sizeof path, "%s/chords.txt", dir);
    write_file(path, "0.0\t1.0\tC:maj\n1.0\t1.5\tG:maj\n1.5\t2.5\tN\n2.0\t3.0\tA:min # comment\n");
    CHECK(es_read_chord_file(path, beats, nb, 2, &on, &no) == 0 && no == 2 && on[0] == 0.0 && on[1] == 2.0);
    free(on);
    CHECK(es_read_chord_file(path, NULL, 0, 2, &on, &no) == 0 && no == 3); /* without beats: every chord */
    free(on);
    write_file(path, "0.0 1.0 C:maj\n2.0 1.0 G:maj\n");
    CHECK(es_read_chord_file(path, NULL, 0, 2, &on, &no) == -1 && strstr(es_error(), ":2:"));
    write_file(path, "0.0 abc C:maj\n");
    CHECK(es_read_chord_file(path, NULL, 0, 2, &on, &no) == -1 && strstr(es_error(), ":1:"));
    free(beats);
    free(down);
    snprintf(path, sizeof path, "%s/beats.txt", dir);
    write_file(path, "1.0\n0.5\n");
    CHECK(es_read_beat_file(path, &beats, &nb, &down, &nd) == -1 && strstr(es_error(), "backwards"));
    write_file(path, "");
    CHECK(es_read_beat_file(path, &beats, &nb, &down, &nd) == -1 && strstr(es_error(), "no beats"));
    CHECK(es_read_beat_file(dir, &beats, &nb, &down, &nd) == -1);
    snprintf(path, sizeof path, "%s/beats.txt", dir);
    remove(path);
    snprintf(path, sizeof path, "%s/chords.txt", dir);
    remove(path);
    rmdir(dir);
    free(beats);
    free(down);
}

int main(void)
{
    test_round_trip();
    test_midi_notes_kept();
    test_worked_example();
    test_bass_split();
    test_annotation_files();
    return check_report("test_tokenize");
}
