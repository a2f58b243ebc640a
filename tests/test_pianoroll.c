/* The piano-roll SVG: well-formed (every tag closed in order, special characters escaped), one
 * note rectangle per note with drums in their own lane, one mark per boundary inside the piece,
 * geometry that follows the notes (higher pitch higher up; a note and a boundary at the same time
 * at the same x), the same counts after a MIDI round trip, odd values drawn safely (unknown
 * instrument, pitch 255, control bytes in a chord name, NaN boundary), and clean failures
 * (empty score, unwritable place: an error naming the path, no file left). */
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/error.h"
#include "music/midi.h"
#include "music/pianoroll.h"
#include "music/rules.h"

static char dir[] = "build-pianoroll-test-XXXXXX";

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) n = 0;
    if (buf) buf[n] = 0;
    fclose(f);
    return buf;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

/* 1 when every element is closed in order, nothing but entities follows '&', and no '<' or '>'
 * stands in text; a small checker of its own so the test does not trust the writer. */
static int well_formed(const char *x)
{
    char stack[64][32];
    int depth = 0, seen_root = 0;
    if (strncmp(x, "<?xml ", 6) != 0) return 0;
    for (const char *p = x; *p;) {
        if (*p == '&') {
            static const char *const ent[] = {"&lt;", "&gt;", "&amp;", "&quot;", "&apos;"};
            int ok = 0;
            for (int i = 0; i < 5; i++) ok |= strncmp(p, ent[i], strlen(ent[i])) == 0;
            if (!ok) return 0;
            p++;
            continue;
        }
        if (*p == '>') return 0; /* a '>' outside a tag */
        if (*p != '<') {
            p++;
            continue;
        }
        const char *end = strchr(p, '>');
        if (!end) return 0;
        for (const char *q = p + 1; q < end; q++)
            if (*q == '<') return 0;
        if (p[1] == '?') { /* the declaration */
            if (end[-1] != '?') return 0;
        } else if (p[1] == '/') {
            size_t len = (size_t)(end - p - 2);
            if (!depth || strlen(stack[depth - 1]) != len || strncmp(stack[depth - 1], p + 2, len)) return 0;
            depth--;
        } else if (end[-1] != '/') {
            size_t len = strcspn(p + 1, " >");
            if (depth == 64 || len >= 32) return 0;
            if (depth == 0 && seen_root++) return 0; /* one root element */
            memcpy(stack[depth], p + 1, len);
            stack[depth++][len] = 0;
        } else if (depth == 0) {
            return 0; /* an element outside the root */
        }
        p = end + 1;
    }
    return depth == 0 && seen_root == 1;
}

/* The value of attribute `name` in the first element at or after p that has class `cls`. */
static double attr_after(const char *p, const char *cls, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "class=\"%s\"", cls);
    const char *e = strstr(p, key);
    if (!e) return NAN;
    snprintf(key, sizeof key, " %s=\"", name);
    const char *a = strstr(e, key);
    return a ? atof(a + strlen(key)) : NAN;
}

static void test_hand_made(void)
{
    es_score s = {0};
    s.duration = 8;
    CHECK(es_score_add_tempo(&s, 0, 120) == 0);
    CHECK(es_score_add_note(&s, ES_PIANO, 72, 90, 2.0, 3.0) == 0); /* C5, starts on the boundary */
    CHECK(es_score_add_note(&s, ES_PIANO, 60, 90, 0.0, 1.0) == 0); /* C4 */
    CHECK(es_score_add_note(&s, ES_PIANO, 64, 90, 0.0, 1.0) == 0);
    CHECK(es_score_add_note(&s, ES_BASS, 36, 100, 0.0, 2.0) == 0);
    CHECK(es_score_add_note(&s, ES_DRUMS, 36, 100, 0.0, 0.1) == 0);
    CHECK(es_score_add_note(&s, ES_DRUMS, 42, 70, 0.5, 0.6) == 0);
    CHECK(es_score_add_note(&s, ES_DRUMS, 42, 70, 1.0, 1.1) == 0);
    CHECK(es_score_add_chord(&s, 0, 0, "C<&>\"'") == 0);
    CHECK(es_score_add_chord(&s, 2, 7, "G") == 0);
    const double bounds[] = {-1, 2.0, 5.5, 9.0, NAN}; /* two inside, two outside, one not a number */
    es_score_sort(&s); /* the writer draws in score order; the checks below rely on it */
    char path[96];
    snprintf(path, sizeof path, "%s/hand.svg", dir);
    CHECK(es_pianoroll_write_svg(&s, bounds, 5, path) == 0);
    char *x = slurp(path);
    CHECK(x != NULL);
    if (x) {
        CHECK(well_formed(x));
        CHECK(count(x, "<rect class=\"note ") == 7);
        CHECK(count(x, "class=\"note drums\"") == 3);
        CHECK(count(x, "class=\"note piano\"") == 3);
        CHECK(count(x, "class=\"note bass\"") == 1);
        CHECK(count(x, "<line class=\"boundary\"") == 2);
        CHECK(count(x, "<text class=\"chord\"") == 2);
        CHECK(strstr(x, "C&lt;&amp;&gt;&quot;&apos;</text>") != NULL);
        CHECK(strstr(x, ">kick<") && strstr(x, ">closed hat<"));
        /* legend names only the instruments that play */
        CHECK(strstr(x, ">bass</text>") && strstr(x, ">piano</text>") && !strstr(x, ">strings</text>"));
        /* piano notes in score order (sorted: C4 and E4 at 0, C5 at 2): C5 highest, C4 lowest */
        const char *first = strstr(x, "class=\"note piano\"");
        CHECK(first != NULL);
        if (first) {
            const char *second = strstr(first + 1, "class=\"note piano\""), *third = second ? strstr(second + 1, "class=\"note piano\"") : NULL;
            CHECK(second && third);
            if (second && third) {
                double y_c4 = attr_after(first, "note piano", "y"), y_e4 = attr_after(second, "note piano", "y");
                double y_c5 = attr_after(third, "note piano", "y"), x_c5 = attr_after(third, "note piano", "x");
                double x_c4 = attr_after(first, "note piano", "x");
                CHECK(y_c5 < y_e4 && y_e4 < y_c4);
                /* 4 then 8 semitones: one row height for every pitch */
                CHECK_NEAR((y_c4 - y_e4) * 2, y_e4 - y_c5, 1e-6);
                CHECK_NEAR(attr_after(x, "boundary", "x1"), x_c5, 0.01); /* the boundary at 2 s */
                /* 8 s across at least 800 px: 2 s is 200 px or more */
                CHECK(x_c5 - x_c4 >= 199.9);
            }
        }
    }
    free(x);

    /* no boundaries at all, NULL list */
    CHECK(es_pianoroll_write_svg(&s, NULL, 0, path) == 0);
    x = slurp(path);
    CHECK(x && well_formed(x) && count(x, "class=\"boundary\"") == 0 && count(x, "<rect class=\"note ") == 7);
    free(x);
    es_score_free(&s);
}

static void test_composed(void)
{
    static const double cuts[] = {5, 7, 12, 17};
    es_mood_segment m = {0, 0.5, 0.6};
    es_compose_request r = {20, cuts, 4, &m, 1, 3};
    es_score s = {0}, back = {0};
    CHECK(es_compose_rules(&r, &s) == 0);
    char path[96], mid[96];
    snprintf(path, sizeof path, "%s/composed.svg", dir);
    snprintf(mid, sizeof mid, "%s/composed.mid", dir);
    CHECK(es_pianoroll_write_svg(&s, cuts, 4, path) == 0);
    char *x = slurp(path);
    CHECK(x != NULL);
    if (x) {
        CHECK(well_formed(x));
        CHECK(count(x, "<rect class=\"note ") == s.n_notes);
        CHECK(count(x, "<line class=\"boundary\"") == 4);
        CHECK(count(x, "<line class=\"chord\"") == s.n_chords);
        size_t drums = 0;
        for (size_t i = 0; i < s.n_notes; i++) drums += s.notes[i].instrument == ES_DRUMS;
        CHECK(drums > 0 && count(x, "class=\"note drums\"") == drums);
    }
    free(x);
    /* through a MIDI file and back: the same picture counts */
    CHECK(es_midi_write(&s, mid) == 0 && es_midi_read(mid, &back) == 0);
    CHECK(es_pianoroll_write_svg(&back, cuts, 4, path) == 0);
    x = slurp(path);
    CHECK(back.n_notes == s.n_notes && back.n_chords == s.n_chords);
    CHECK(x && count(x, "<rect class=\"note ") == s.n_notes);
    CHECK(x && count(x, "<line class=\"chord\"") == back.n_chords);
    free(x);
    es_score_free(&back);
    es_score_free(&s);
}

static void test_failures(void)
{
    es_score empty = {0};
    char path[96];
    snprintf(path, sizeof path, "%s/empty.svg", dir);
    es_error_clear();
    CHECK(es_pianoroll_write_svg(&empty, NULL, 0, path) == -1);
    CHECK(strstr(es_error(), "empty.svg") != NULL && !strchr(es_error(), '\n'));
    CHECK(access(path, F_OK) != 0);

    es_score s = {0};
    CHECK(es_score_add_note(&s, ES_PIANO, 60, 90, 0, 1) == 0); /* no duration: the last note end counts */
    snprintf(path, sizeof path, "%s/missing-dir/x.svg", dir);
    CHECK(es_pianoroll_write_svg(&s, NULL, 0, path) == -1);
    CHECK(strstr(es_error(), "missing-dir") != NULL);
    CHECK(access(path, F_OK) != 0);

    /* values no composer writes (a hand-built score): drawn, still well-formed */
    CHECK(es_score_add_note(&s, ES_PIANO, 61, 90, 0.5, 2) == 0);
    s.notes[1].instrument = 200, s.notes[1].pitch = 255;
    CHECK(es_score_add_chord(&s, 0.5, 0, "\x01\x7f<") == 0);
    snprintf(path, sizeof path, "%s/odd.svg", dir);
    CHECK(es_pianoroll_write_svg(&s, NULL, 0, path) == 0);
    char *x = slurp(path);
    CHECK(x && well_formed(x) && count(x, "<rect class=\"note ") == 2 && !strchr(x, '\x01'));
    free(x);

    /* a chord name that is not UTF-8 (any byte may come from a MIDI marker): the SVG stays ASCII */
    CHECK(es_score_add_chord(&s, 0.7, 0, "C\xC3\x28\xFF") == 0);
    snprintf(path, sizeof path, "%s/bytes.svg", dir);
    CHECK(es_pianoroll_write_svg(&s, NULL, 0, path) == 0);
    x = slurp(path);
    int ascii = x != NULL;
    for (const char *p = x; p && *p; p++) ascii &= (unsigned char)*p < 0x80;
    CHECK(ascii && strstr(x, ">C?(?</text>"));
    free(x);

    /* a huge duration (hand-built score): a few dozen axis ticks, not one per two hours */
    s.duration = 1e12;
    snprintf(path, sizeof path, "%s/long.svg", dir);
    CHECK(es_pianoroll_write_svg(&s, NULL, 0, path) == 0);
    x = slurp(path);
    CHECK(x && well_formed(x) && count(x, "stroke=\"#666\"/>") < 100 && strlen(x) < 100000);
    free(x);
    es_score_free(&s);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_hand_made();
    test_composed();
    test_failures();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return check_report("test_pianoroll");
}
