/* MIDI writer and reader: exact bytes of a tiny file worked out by hand, a round trip through a
 * tempo map (every time within one tick), a hand-made type 0 file with running status, SysEx and
 * an unknown chunk, and damaged files (every truncation, every bit flip, bad lengths). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/error.h"
#include "core/rng.h"
#include "music/midi.h"

static int one_line_error(void)
{
    const char *e = es_error();
    return e[0] && !strchr(e, '\n');
}

/* A single middle C, 0.5 s at the default 120 bpm, in a 1 s score: every byte by hand. */
static void test_exact_bytes(void)
{
    es_score s = {0};
    s.duration = 1.0;
    CHECK(es_score_add_note(&s, ES_PIANO, 60, 100, 0.0, 0.5) == 0);
    static const uint8_t want[] = {
        'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 1, 0, 2, 0x03, 0xC0,
        'M', 'T', 'r', 'k', 0, 0, 0, 30,
        0, 0xFF, 0x03, 6, 'e', 'm', 's', 'y', 'n', 'c',
        0, 0xFF, 0x58, 4, 4, 2, 24, 8,
        0, 0xFF, 0x51, 3, 0x07, 0xA1, 0x20,
        0x8F, 0x00, 0xFF, 0x2F, 0, /* 1920 ticks = 1 s */
        'M', 'T', 'r', 'k', 0, 0, 0, 26,
        0, 0xFF, 0x03, 5, 'p', 'i', 'a', 'n', 'o',
        0, 0xC2, 0,             /* piano: channel 3, program 0 */
        0, 0x92, 60, 100,
        0x87, 0x40, 0x82, 60, 64, /* 960 ticks = 0.5 s */
        0x87, 0x40, 0xFF, 0x2F, 0,
    };
    uint8_t *buf = NULL;
    size_t len = 0;
    CHECK(es_midi_write_mem(&s, &buf, &len) == 0);
    CHECK(len == sizeof want && buf && memcmp(buf, want, len) == 0);
    if (buf && len == sizeof want)
        for (size_t i = 0; i < len; i++)
            if (buf[i] != want[i]) fprintf(stderr, "byte %zu: %02X, want %02X\n", i, buf[i], want[i]);
    free(buf);
    es_score_free(&s);
}

/* Seconds one tick lasts at the slowest tempo of the map below. */
#define TICK_AT_60 (60.0 / (60 * ES_MIDI_PPQ))

static void make_score(es_score *s, uint64_t seed, int n_notes)
{
    es_rng r;
    es_rng_seed(&r, seed);
    memset(s, 0, sizeof *s);
    s->duration = 40.0;
    static const double tt[] = {0, 3.3, 7.77, 12.0, 19.123456, 25.5};
    static const double bpm[] = {120, 90, 150.5, 60, 133.333, 71};
    for (int i = 0; i < 6; i++) es_score_add_tempo(s, tt[i], bpm[i]);
    for (int i = 0; i < 6; i++) { /* notes exactly on tempo changes */
        es_score_add_note(s, ES_PIANO, 60 + i, 90, tt[i], tt[i] + 0.25);
        es_score_add_note(s, ES_DRUMS, 36, 110, tt[i], tt[i] + 0.1);
    }
    for (int i = 0; i < n_notes; i++) {
        int inst = (int)es_rng_below(&r, ES_INSTRUMENT_COUNT);
        double a = es_rng_uniform(&r) * 39.0, d = 0.01 + es_rng_uniform(&r) * 0.9;
        /* distinct pitch per note index so that no two notes of one pitch overlap */
        es_score_add_note(s, (es_instrument)inst, 21 + i % 88, 1 + (int)es_rng_below(&r, 127), a, a + d);
    }
    es_score_add_chord(s, 0.0, 0, "C");
    es_score_add_chord(s, 3.3, 9, "Am7");
    es_score_add_chord(s, 7.77, 6, "F#dim");
    es_score_add_chord(s, 12.0, 10, "Bbmaj7");
    es_score_sort(s);
}

static void test_round_trip(void)
{
    es_score s, back = {0};
    make_score(&s, 7, 80); /* 80 < 88: pitches distinct across the random notes */
    uint8_t *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    CHECK(es_midi_write_mem(&s, &a, &la) == 0);
    CHECK(es_midi_write_mem(&s, &b, &lb) == 0);
    CHECK(la == lb && la > 0 && memcmp(a, b, la) == 0); /* deterministic */
    free(b);
    b = NULL;
    CHECK(es_midi_read_mem(a, la, "mem", &back) == 0);
    CHECK(back.n_notes == s.n_notes);
    double worst = 0;
    int inst_ok = 1, pv_ok = 1;
    for (size_t i = 0; i < s.n_notes && i < back.n_notes; i++) {
        const es_note *x = &s.notes[i], *y = &back.notes[i];
        double e = fmax(fabs(x->start - y->start), fabs(x->end - y->end));
        if (e > worst) worst = e;
        inst_ok &= x->instrument == y->instrument;
        pv_ok &= x->pitch == y->pitch && x->velocity == y->velocity;
    }
    CHECK(inst_ok && pv_ok);
    CHECK(worst <= 0.5 * TICK_AT_60 + 1e-9);
    fprintf(stderr, "round trip: worst time error %.3g s (half a tick at 60 bpm: %.3g s)\n", worst, 0.5 * TICK_AT_60);
    /* notes placed exactly on tempo changes come back within a tick of them */
    CHECK(back.n_tempos == 6);
    for (size_t i = 0; i < 6 && i < back.n_tempos; i++) {
        CHECK_NEAR(back.tempos[i].time, s.tempos[i].time, TICK_AT_60);
        CHECK_NEAR(back.tempos[i].bpm, s.tempos[i].bpm, s.tempos[i].bpm * 2e-6);
    }
    CHECK(back.n_chords == 4);
    if (back.n_chords == 4) {
        CHECK(strcmp(back.chords[2].name, "F#dim") == 0 && back.chords[2].root == 6);
        CHECK(strcmp(back.chords[3].name, "Bbmaj7") == 0 && back.chords[3].root == 10);
        CHECK_NEAR(back.chords[1].time, 3.3, TICK_AT_60);
    }
    CHECK_NEAR(back.duration, 40.0, TICK_AT_60);

    /* the file route gives the same bytes, and the temp-and-rename leaves only the file */
    char path[] = "build-midi-test-XXXXXX";
    CHECK(mkdtemp(path) != NULL);
    char file[64];
    snprintf(file, sizeof file, "%s/out.mid", path);
    CHECK(es_midi_write(&s, file) == 0);
    es_score f = {0};
    CHECK(es_midi_read(file, &f) == 0 && f.n_notes == s.n_notes);
    uint8_t *fb = malloc(la + 1);
    FILE *fp = fopen(file, "rb");
    CHECK(fp && fb && fread(fb, 1, la + 1, fp) == la && memcmp(fb, a, la) == 0);
    if (fp) fclose(fp);
    free(fb);
    es_score_free(&f);

    /* a bad note fails before any file exists */
    char bad[64];
    snprintf(bad, sizeof bad, "%s/bad.mid", path);
    s.notes[0].velocity = 0;
    CHECK(es_midi_write(&s, bad) != 0 && one_line_error() && strstr(es_error(), "bad.mid"));
    CHECK(access(bad, F_OK) != 0);
    s.notes[0].velocity = 10;
    CHECK(es_midi_write(&s, "no-such-dir-xyz/out.mid") != 0 && one_line_error());
    unlink(file);
    rmdir(path);

    /* a different score gives different bytes */
    es_score t;
    make_score(&t, 8, 80);
    CHECK(es_midi_write_mem(&t, &b, &lb) == 0 && (lb != la || memcmp(a, b, la) != 0));
    es_score_free(&t);
    free(a);
    free(b);
    es_score_free(&back);
    es_score_free(&s);
}

/* Two overlapping notes of one pitch: MIDI cannot hold both, so the first ends where the second starts. */
static void test_overlap(void)
{
    es_score s = {0}, back = {0};
    s.duration = 3;
    es_score_add_note(&s, ES_GUITAR, 64, 80, 0.0, 2.0);
    es_score_add_note(&s, ES_GUITAR, 64, 90, 1.0, 1.5);
    es_score_add_note(&s, ES_GUITAR, 64, 70, 1.0, 1.5); /* exact duplicate start: one survives */
    uint8_t *buf = NULL;
    size_t len = 0;
    CHECK(es_midi_write_mem(&s, &buf, &len) == 0);
    CHECK(es_midi_read_mem(buf, len, "mem", &back) == 0);
    CHECK(back.n_notes == 2);
    if (back.n_notes == 2) {
        CHECK_NEAR(back.notes[0].end, 1.0, 1e-9);
        CHECK_NEAR(back.notes[1].start, 1.0, 1e-9);
        CHECK_NEAR(back.notes[1].end, 1.5, 1e-9);
    }
    free(buf);
    es_score_free(&back);
    es_score_free(&s);
}

/* A type 0 file made by hand: 480 PPQ, running status, note-on velocity 0 as note-off, a tempo
 * change, SysEx, an unknown chunk, a drum note and a bass program. */
static const uint8_t type0[] = {
    'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 0, 0, 1, 0x01, 0xE0,
    'X', 'y', 'z', 'w', 0, 0, 0, 3, 1, 2, 3,
    'M', 'T', 'r', 'k', 0, 0, 0, 46,
    0x00, 0xC4, 33,               /* channel 5 -> program 33 (bass) */
    0x00, 0xF0, 0x03, 0x7E, 0x01, 0xF7,
    0x83, 0x60, 0x94, 40, 90,     /* tick 480 = 0.5 s: bass E2 on */
    0x83, 0x60, 40, 0,            /* tick 960 = 1.0 s: running status, velocity 0 = off */
    0x00, 0xFF, 0x51, 3, 0x0F, 0x42, 0x40, /* tick 960: 60 bpm */
    0x00, 0x99, 36, 100,          /* tick 960: kick on channel 10 */
    0x83, 0x60, 0x89, 36, 0,      /* tick 1440 = 2.0 s (a quarter now lasts 1 s): kick off */
    0x00, 0xC0, 24,               /* channel 1 -> guitar */
    0x00, 0x90, 67, 80,
    0x83, 0x60, 0xFF, 0x2F, 0,    /* tick 1920 = 3.0 s: end; open guitar note closes here */
};

static void test_type0(void)
{
    es_score s = {0};
    CHECK(es_midi_read_mem(type0, sizeof type0, "type0", &s) == 0);
    CHECK(s.n_notes == 3);
    if (s.n_notes == 3) {
        const es_note *bass = &s.notes[0], *kick = &s.notes[1], *gtr = &s.notes[2];
        CHECK(bass->instrument == ES_BASS && bass->pitch == 40 && bass->velocity == 90);
        CHECK_NEAR(bass->start, 0.5, 1e-9);
        CHECK_NEAR(bass->end, 1.0, 1e-9);
        CHECK(kick->instrument == ES_DRUMS && kick->pitch == 36);
        CHECK_NEAR(kick->start, 1.0, 1e-9);
        CHECK_NEAR(kick->end, 2.0, 1e-9);
        CHECK(gtr->instrument == ES_GUITAR);
        CHECK_NEAR(gtr->start, 2.0, 1e-9);
        CHECK_NEAR(gtr->end, 3.0, 1e-9);
    }
    CHECK(s.n_tempos == 2 && fabs(s.tempos[1].bpm - 60) < 1e-9 && fabs(s.tempos[1].time - 1.0) < 1e-9);
    CHECK_NEAR(s.duration, 3.0, 1e-9);
    es_score_free(&s);
}

/* Running status that carries on across a meta event (not strictly allowed, found in the wild). */
static void test_running_after_meta(void)
{
    static const uint8_t d[] = {'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 0, 0, 1, 0, 96,
                                'M', 'T', 'r', 'k', 0, 0, 0, 16,
                                0, 0x90, 60, 100, 0, 0xFF, 0x01, 1, 'x', 96, 60, 0, 0, 0xFF, 0x2F, 0};
    es_score s = {0};
    CHECK(es_midi_read_mem(d, sizeof d, "mem", &s) == 0 && s.n_notes == 1);
    if (s.n_notes == 1) CHECK_NEAR(s.notes[0].end, 0.5, 1e-9);
    es_score_free(&s);
}

static int fails_with(const uint8_t *d, size_t n, const char *words)
{
    es_score s = {0};
    int rc = es_midi_read_mem(d, n, "bad.mid", &s);
    int ok = rc != 0 && one_line_error() && strstr(es_error(), "bad.mid") && (!words || strstr(es_error(), words));
    if (!ok) fprintf(stderr, "expected failure with '%s', got rc %d: %s\n", words ? words : "", rc, es_error());
    CHECK(s.n_notes == 0 && s.notes == NULL);
    es_score_free(&s);
    return ok;
}

static void test_damaged(void)
{
    es_score s;
    make_score(&s, 3, 40);
    uint8_t *buf = NULL;
    size_t len = 0;
    CHECK(es_midi_write_mem(&s, &buf, &len) == 0);
    es_score_free(&s);

    /* every truncation fails cleanly (the last track's end-of-track is the last byte) */
    int all = 1;
    for (size_t n = 0; n < len; n++) {
        es_score t = {0};
        uint8_t *copy = malloc(n ? n : 1); /* exact-size copy so ASan sees any over-read */
        memcpy(copy, buf, n);
        int rc = es_midi_read_mem(copy, n, "cut.mid", &t);
        all &= rc != 0 && one_line_error();
        es_score_free(&t);
        free(copy);
    }
    CHECK(all);

    /* every single-bit flip: no crash, and any accepted result re-encodes */
    int accepted = 0;
    uint8_t *copy = malloc(len);
    for (size_t i = 0; i < len; i++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(copy, buf, len);
            copy[i] ^= (uint8_t)(1u << bit);
            es_score t = {0};
            if (es_midi_read_mem(copy, len, "flip.mid", &t) == 0) {
                uint8_t *re = NULL;
                size_t rl = 0;
                accepted++;
                CHECK(es_midi_write_mem(&t, &re, &rl) == 0);
                free(re);
            } else {
                CHECK(one_line_error());
            }
            es_score_free(&t);
        }
    fprintf(stderr, "bit flips: %d of %zu decoded\n", accepted, len * 8);
    free(copy);

    /* specific damage */
    uint8_t d[sizeof type0];
    memcpy(d, type0, sizeof d);
    d[29] = 0xFF; /* MTrk length high byte: absurd length */
    fails_with(d, sizeof d, "length");
    memcpy(d, type0, sizeof d);
    d[9] = 2; /* format 2 */
    fails_with(d, sizeof d, "format");
    memcpy(d, type0, sizeof d);
    d[10] = 0xFF, d[11] = 0xFF; /* 65535 tracks declared */
    fails_with(d, sizeof d, "truncated");
    memcpy(d, type0, sizeof d);
    d[12] = 0, d[13] = 0;
    fails_with(d, sizeof d, "division");
    memcpy(d, type0, sizeof d);
    d[7] = 200; /* header length past the end */
    fails_with(d, sizeof d, "header length");
    fails_with((const uint8_t *)"RIFF....WAVEfmt ", 16, "not a MIDI file");
    fails_with((const uint8_t *)"", 0, "not a MIDI file");

    /* a track whose end-of-track is missing (the chunk ends before it) */
    static const uint8_t no_eot[] = {'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 0, 0, 1, 0, 96,
                                     'M', 'T', 'r', 'k', 0, 0, 0, 4, 0, 0x90, 60, 100};
    fails_with(no_eot, sizeof no_eot, "end-of-track");
    /* a five-byte variable-length number */
    static const uint8_t long_vlq[] = {'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 0, 0, 1, 0, 96,
                                       'M', 'T', 'r', 'k', 0, 0, 0, 9, 0x81, 0x81, 0x81, 0x81, 0x01, 0xFF, 0x2F, 0, 0};
    fails_with(long_vlq, sizeof long_vlq, "delta");
    /* a data byte with no status to run on */
    static const uint8_t no_status[] = {'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 0, 0, 1, 0, 96,
                                        'M', 'T', 'r', 'k', 0, 0, 0, 7, 0, 60, 100, 0, 0xFF, 0x2F, 0};
    fails_with(no_status, sizeof no_status, "status");
    /* a meta event claiming more bytes than the track holds */
    static const uint8_t long_meta[] = {'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 0, 0, 1, 0, 96,
                                        'M', 'T', 'r', 'k', 0, 0, 0, 8, 0, 0xFF, 0x01, 0x7F, 'a', 0, 0xFF, 0x2F};
    fails_with(long_meta, sizeof long_meta, "meta");
    free(buf);
}

/* Tempo changes and markers are capped (1 << 20 each), so a 64 MiB file of tiny meta events
 * cannot make the reader hold hundreds of megabytes: at the cap it reads, one more is refused. */
static void test_meta_limits(void)
{
    const size_t cap = (size_t)1 << 20;
    for (int kind = 0; kind < 2; kind++)
        for (size_t extra = 0; extra < 2; extra++) {
            size_t n = cap + extra, ev = kind ? 5 : 7, len = 14 + 8 + n * ev + 4;
            uint8_t *d = malloc(len);
            CHECK(d != NULL);
            if (!d) return;
            memcpy(d, "MThd\0\0\0\6\0\0\0\1\0\x60MTrk", 18);
            uint32_t tl = (uint32_t)(len - 22);
            for (int i = 0; i < 4; i++) d[18 + i] = (uint8_t)(tl >> (24 - 8 * i));
            uint8_t *p = d + 22;
            for (size_t i = 0; i < n; i++) {
                if (kind) { /* marker "C" at delta 1 */
                    memcpy(p, "\x01\xFF\x06\x01" "C", 5);
                } else { /* 120 bpm at delta 1 */
                    memcpy(p, "\x01\xFF\x51\x03\x07\xA1\x20", 7);
                }
                p += ev;
            }
            memcpy(p, "\0\xFF\x2F\0", 4);
            es_score s = {0};
            int rc = es_midi_read_mem(d, len, "many.mid", &s);
            if (!extra) {
                CHECK(rc == 0);
                CHECK(kind ? s.n_chords == cap : s.n_tempos == cap + 1); /* plus the default from tick 0 */
            } else {
                CHECK(rc == -1 && one_line_error() && strstr(es_error(), kind ? "markers" : "tempo changes"));
            }
            es_score_free(&s);
            free(d);
        }
}

static void test_files(void)
{
    es_score s = {0};
    char path[512];
    CHECK(es_midi_read("no-such-file.mid", &s) != 0 && one_line_error() && strstr(es_error(), "no-such-file.mid"));
    CHECK(es_midi_read(".", &s) != 0 && one_line_error());
    snprintf(path, sizeof path, "%s/text.txt", test_data_dir());
    CHECK(es_midi_read(path, &s) != 0 && strstr(es_error(), "not a MIDI file"));
    snprintf(path, sizeof path, "%s/cuts.mp4", test_data_dir());
    CHECK(es_midi_read(path, &s) != 0 && one_line_error());
    char empty[] = "build-midi-empty-XXXXXX";
    int fd = mkstemp(empty);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);
    CHECK(es_midi_read(empty, &s) != 0 && strstr(es_error(), "empty"));
    unlink(empty);
    CHECK(s.notes == NULL);
}

/* A gap longer than a variable-length number can hold (2^28 - 1 ticks, 39 h at 120 bpm) must be bridged, not wrapped. Found by fuzzing. */
static void test_long_gap(void)
{
    es_score s = {0}, back = {0};
    s.duration = 150000.0;
    es_score_add_note(&s, ES_BASS, 40, 80, 0.0, 1.0);
    es_score_add_note(&s, ES_BASS, 41, 80, 149000.0, 149001.0);
    uint8_t *buf = NULL;
    size_t len = 0;
    CHECK(es_midi_write_mem(&s, &buf, &len) == 0);
    CHECK(es_midi_read_mem(buf, len, "mem", &back) == 0 && back.n_notes == 2);
    if (back.n_notes == 2) CHECK_NEAR(back.notes[1].start, 149000.0, 1e-3);
    CHECK_NEAR(back.duration, 150000.0, 1e-3);
    free(buf);
    es_score_free(&back);
    es_score_free(&s);
}

static size_t count_bytes(const uint8_t *buf, size_t len, const uint8_t *pat, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i + n <= len; i++) c += memcmp(buf + i, pat, n) == 0;
    return c;
}

/* 6 beats at 120 bpm, then 90 bpm: bar 2 is a 2/4 bar so that the tempo change is a downbeat. */
static void test_meter(void)
{
    es_score s = {0};
    s.duration = 8;
    es_score_add_tempo(&s, 0, 120);
    es_score_add_tempo(&s, 3.0, 90);
    es_score_add_note(&s, ES_PIANO, 60, 80, 3.0, 4.0);
    uint8_t *buf = NULL;
    size_t len = 0;
    CHECK(es_midi_write_mem(&s, &buf, &len) == 0);
    static const uint8_t two_four[] = {0x9E, 0x00, 0xFF, 0x58, 4, 2, 2, 24, 8};  /* at tick 3840 */
    static const uint8_t four_four[] = {0x8F, 0x00, 0xFF, 0x58, 4, 4, 2, 24, 8}; /* 1920 later */
    static const uint8_t any_sig[] = {0xFF, 0x58, 4};
    CHECK(count_bytes(buf, len, two_four, sizeof two_four) == 1);
    CHECK(count_bytes(buf, len, four_four, sizeof four_four) == 1);
    CHECK(count_bytes(buf, len, any_sig, sizeof any_sig) == 3);
    free(buf);
    /* whole bars between tempo changes: no extra time signature */
    s.tempos[1].time = 4.0;
    CHECK(es_midi_write_mem(&s, &buf, &len) == 0);
    CHECK(count_bytes(buf, len, any_sig, sizeof any_sig) == 1);
    free(buf);
    es_score_free(&s);
}

static void test_chord_root(void)
{
    CHECK(es_chord_name_root("C") == 0);
    CHECK(es_chord_name_root("Db") == 1);
    CHECK(es_chord_name_root("C#m7") == 1);
    CHECK(es_chord_name_root("Cb") == 11);
    CHECK(es_chord_name_root("Bsus4") == 11);
    CHECK(es_chord_name_root("x") == -1);
    CHECK(es_chord_name_root("") == -1);
}

int main(void)
{
    test_exact_bytes();
    test_round_trip();
    test_overlap();
    test_type0();
    test_running_after_meta();
    test_damaged();
    test_meta_limits();
    test_files();
    test_long_gap();
    test_meter();
    test_chord_root();
    return check_report("test_midi_io");
}
