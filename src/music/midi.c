/* Standard MIDI File writer and hostile-input-safe reader (see midi.h for the layout). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/outfile.h"
#include "music/midi.h"

#define DEFAULT_USPQ 500000u               /* 120 bpm, the SMF default */
#define MAX_SECONDS 1e6                    /* refuse times beyond ~11 days: keeps ticks in range */
#define MAX_FILE_BYTES (64u << 20)
#define MAX_NOTES (4u << 20)
#define MAX_METAS (1u << 20)                /* tempo changes, and markers, each: a real file has few */
#define MAX_TICK (1ull << 40)

/* ---- tempo map shared by writer and reader -------------------------------------------------- */

/* One constant-tempo stretch. `sec` is computed from the integer ticks exactly as the reader
 * computes it, so the writer's seconds->ticks is the inverse of the reader's ticks->seconds. */
typedef struct {
    uint64_t tick;
    double sec;
    uint32_t uspq; /* microseconds per quarter note */
} tempo_seg;

static double seg_sec(const tempo_seg *prev, uint64_t tick)
{
    return prev->sec + (double)(tick - prev->tick) * prev->uspq / (ES_MIDI_PPQ * 1e6);
}

/* ---- byte buffer ---------------------------------------------------------------------------- */

typedef struct {
    uint8_t *data;
    size_t len, cap;
} bytes;

static int put(bytes *b, const void *p, size_t n)
{
    if (es_grow((void **)&b->data, &b->cap, b->len + n, 1)) return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

static int put_be(bytes *b, uint32_t v, int n)
{
    uint8_t tmp[4];
    for (int i = 0; i < n; i++) tmp[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    return put(b, tmp, (size_t)n);
}

static int put_vlq(bytes *b, uint32_t v)
{
    uint8_t tmp[5];
    int n = 0;
    tmp[4 - n++] = v & 0x7F;
    while ((v >>= 7)) tmp[4 - n++] = (uint8_t)(0x80 | (v & 0x7F));
    return put(b, tmp + 5 - n, (size_t)n);
}

/* ---- writer --------------------------------------------------------------------------------- */

typedef struct {
    uint64_t tick;
    uint32_t prio; /* order among events at one tick: metas, program, offs, ons */
    uint32_t seq;  /* insertion order, for a total (deterministic) order */
    uint8_t len;
    uint8_t data[24]; /* complete event: status byte first (0xFF for meta) */
} event;

typedef struct {
    event *ev;
    size_t n, cap;
} event_list;

static int add_event(event_list *l, uint64_t tick, uint32_t prio, const uint8_t *data, size_t len)
{
    if (es_grow((void **)&l->ev, &l->cap, l->n + 1, sizeof *l->ev)) return -1;
    event *e = &l->ev[l->n];
    e->tick = tick;
    e->prio = prio;
    e->seq = (uint32_t)l->n;
    e->len = (uint8_t)len;
    memcpy(e->data, data, len);
    l->n++;
    return 0;
}

static int add_meta(event_list *l, uint64_t tick, uint32_t prio, uint8_t type, const void *p, size_t n)
{
    uint8_t d[24] = {0xFF, type, (uint8_t)n};
    if (n > sizeof d - 3) n = sizeof d - 3, d[2] = (uint8_t)n;
    memcpy(d + 3, p, n);
    return add_event(l, tick, prio, d, n + 3);
}

static int event_order(const void *a, const void *b)
{
    const event *x = a, *y = b;
    if (x->tick != y->tick) return x->tick < y->tick ? -1 : 1;
    if (x->prio != y->prio) return x->prio < y->prio ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A delta time longer than a variable-length number holds (2^28 - 1 ticks) is bridged with empty
 * text events, which readers ignore. */
static int put_delta(bytes *b, uint64_t delta, uint8_t *running)
{
    for (; delta > 0x0FFFFFFF; delta -= 0x0FFFFFFF) {
        if (put_vlq(b, 0x0FFFFFFF) || put(b, "\xFF\x01\x00", 3)) return -1;
        *running = 0;
    }
    return put_vlq(b, (uint32_t)delta);
}

/* Appends one MTrk chunk holding the events (sorted here) and an end-of-track at end_tick. */
static int put_track(bytes *b, event_list *l, uint64_t end_tick)
{
    if (l->n) qsort(l->ev, l->n, sizeof *l->ev, event_order);
    size_t start = b->len;
    if (put(b, "MTrk\0\0\0\0", 8)) return -1;
    uint64_t now = 0;
    uint8_t running = 0;
    for (size_t i = 0; i < l->n; i++) {
        const event *e = &l->ev[i];
        if (put_delta(b, e->tick - now, &running)) return -1;
        now = e->tick;
        int skip = e->data[0] < 0xF0 && e->data[0] == running; /* running status */
        if (put(b, e->data + skip, e->len - (size_t)skip)) return -1;
        running = e->data[0] < 0xF0 ? e->data[0] : 0; /* meta and SysEx cancel running status */
    }
    if (end_tick < now) end_tick = now;
    if (put_delta(b, end_tick - now, &running) || put(b, "\xFF\x2F\x00", 3)) return -1;
    uint32_t n = (uint32_t)(b->len - start - 8);
    for (int i = 0; i < 4; i++) b->data[start + 4 + i] = (uint8_t)(n >> (24 - 8 * i));
    return 0;
}

/* Builds the tempo map from the score's list (first entry applies from time 0). */
static int build_tempo_map(const es_score *s, tempo_seg **out, size_t *n_out)
{
    size_t n = 0, cap = 0;
    tempo_seg *segs = NULL;
    if (es_grow((void **)&segs, &cap, s->n_tempos + 1, sizeof *segs)) return -1;
    segs[n++] = (tempo_seg){0, 0.0, DEFAULT_USPQ};
    for (size_t i = 0; i < s->n_tempos; i++) {
        double bpm = s->tempos[i].bpm, t = s->tempos[i].time;
        if (!isfinite(bpm) || bpm <= 0 || !isfinite(t) || t > MAX_SECONDS) {
            free(segs);
            return es_fail("bad tempo %g bpm at %g s", bpm, t);
        }
        double u = round(60e6 / bpm);
        uint32_t uspq = u < 1 ? 1 : u > 0xFFFFFF ? 0xFFFFFF : (uint32_t)u;
        if (i == 0) {
            segs[0].uspq = uspq;
            continue;
        }
        tempo_seg *prev = &segs[n - 1];
        if (t < s->tempos[i - 1].time) {
            free(segs);
            return es_fail("tempo map not in time order (%g s after %g s)", t, s->tempos[i - 1].time);
        }
        double dt = (t - prev->sec) * (ES_MIDI_PPQ * 1e6) / prev->uspq;
        uint64_t tick = prev->tick + (dt > 0 ? (uint64_t)llround(dt) : 0);
        if (tick == prev->tick) {
            prev->uspq = uspq; /* same tick: the later tempo wins */
            continue;
        }
        segs[n] = (tempo_seg){tick, seg_sec(prev, tick), uspq};
        n++;
    }
    *out = segs;
    *n_out = n;
    return 0;
}

static int sec_to_tick(const tempo_seg *segs, size_t n, double t, uint64_t *tick)
{
    if (!isfinite(t) || t > MAX_SECONDS) return es_fail("time %g s out of range", t);
    if (t < 0) t = 0;
    size_t lo = 0, hi = n; /* last segment with sec <= t */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (segs[mid].sec <= t) lo = mid; else hi = mid;
    }
    double d = round((t - segs[lo].sec) * (ES_MIDI_PPQ * 1e6) / segs[lo].uspq);
    *tick = segs[lo].tick + (d > 0 ? (uint64_t)d : 0);
    return 0;
}

typedef struct {
    uint64_t on, off;
    uint8_t pitch, vel;
} tick_note;

static int tick_note_order(const void *a, const void *b)
{
    const tick_note *x = a, *y = b;
    if (x->pitch != y->pitch) return x->pitch - y->pitch;
    if (x->on != y->on) return x->on < y->on ? -1 : 1;
    if (x->off != y->off) return x->off < y->off ? -1 : 1;
    return x->vel - y->vel;
}

int es_midi_write_mem(const es_score *s, uint8_t **buf, size_t *len)
{
    int rc = -1;
    bytes b = {0};
    tempo_seg *segs = NULL;
    size_t n_segs = 0;
    event_list l = {0};
    tick_note *tn = NULL;
    *buf = NULL;
    *len = 0;

    if (build_tempo_map(s, &segs, &n_segs)) goto end;
    uint64_t end_tick = 0;
    if (s->duration > 0 && sec_to_tick(segs, n_segs, s->duration, &end_tick)) goto end;

    int used[ES_INSTRUMENT_COUNT] = {0}, n_tracks = 1;
    for (size_t i = 0; i < s->n_notes; i++) {
        const es_note *nt = &s->notes[i];
        if (nt->instrument >= ES_INSTRUMENT_COUNT || nt->pitch > 127 || nt->velocity < 1 || nt->velocity > 127) {
            es_fail("bad note %zu (instrument %d, pitch %d, velocity %d)", i, nt->instrument, nt->pitch, nt->velocity);
            goto end;
        }
        if (!used[nt->instrument]++) n_tracks++;
    }

    /* header */
    if (put(&b, "MThd\0\0\0\6\0\1", 10) || put_be(&b, (uint32_t)n_tracks, 2) || put_be(&b, ES_MIDI_PPQ, 2)) goto end;

    /* conductor: time signature 4/4 (24 clocks per click, 8 32nds per quarter), tempos, chords */
    static const uint8_t timesig[4] = {4, 2, 24, 8};
    if (add_meta(&l, 0, 0, 0x03, "emsync", 6) || add_meta(&l, 0, 1, 0x58, timesig, 4)) goto end;
    for (size_t i = 0; i < n_segs; i++) {
        uint8_t u[3] = {(uint8_t)(segs[i].uspq >> 16), (uint8_t)(segs[i].uspq >> 8), (uint8_t)segs[i].uspq};
        if (add_meta(&l, segs[i].tick, 2, 0x51, u, 3)) goto end;
        /* es_score has no meter: bars are 4/4 and restart at every tempo change (composers change
         * tempo at section starts). A stretch that does not end on a bar line gets a shorter last
         * bar (n/4, n/8 or n/16), so a DAW's bar lines stay on the section starts. */
        if (i + 1 == n_segs) break;
        uint64_t bar = 4 * ES_MIDI_PPQ, rem = (segs[i + 1].tick - segs[i].tick) % bar;
        int denom = rem % ES_MIDI_PPQ == 0 ? 4 : rem % (ES_MIDI_PPQ / 2) == 0 ? 8 : rem % (ES_MIDI_PPQ / 4) == 0 ? 16 : 0;
        if (!rem || !denom) continue;
        uint8_t part[4] = {(uint8_t)(rem * (uint64_t)denom / bar), (uint8_t)(denom == 4 ? 2 : denom == 8 ? 3 : 4), 24, 8};
        if (add_meta(&l, segs[i + 1].tick - rem, 1, 0x58, part, 4) || add_meta(&l, segs[i + 1].tick, 1, 0x58, timesig, 4))
            goto end;
    }
    for (size_t i = 0; i < s->n_chords; i++) {
        uint64_t t;
        size_t nlen = strnlen(s->chords[i].name, sizeof s->chords[i].name);
        if (!nlen) continue;
        if (sec_to_tick(segs, n_segs, s->chords[i].time, &t) || add_meta(&l, t, 3, 0x06, s->chords[i].name, nlen))
            goto end;
    }
    if (put_track(&b, &l, end_tick)) goto end;

    if (s->n_notes && !(tn = es_malloc(s->n_notes * sizeof *tn))) goto end;
    for (int inst = 0; inst < ES_INSTRUMENT_COUNT; inst++) {
        if (!used[inst]) continue;
        l.n = 0;
        const char *name = es_instrument_name((es_instrument)inst);
        uint8_t ch = (uint8_t)es_instrument_channel((es_instrument)inst);
        if (add_meta(&l, 0, 0, 0x03, name, strlen(name))) goto end;
        if (inst != ES_DRUMS) {
            uint8_t pc[2] = {(uint8_t)(0xC0 | ch), (uint8_t)es_instrument_program((es_instrument)inst)};
            if (add_event(&l, 0, 1, pc, 2)) goto end;
        }
        size_t m = 0;
        for (size_t i = 0; i < s->n_notes; i++) {
            const es_note *nt = &s->notes[i];
            if (nt->instrument != inst) continue;
            tick_note *t = &tn[m++];
            if (sec_to_tick(segs, n_segs, nt->start, &t->on) || sec_to_tick(segs, n_segs, nt->end, &t->off)) {
                es_fail("note %zu: %s", i, es_error());
                goto end;
            }
            if (t->off <= t->on) t->off = t->on + 1;
            t->pitch = nt->pitch;
            t->vel = nt->velocity;
        }
        /* MIDI cannot overlap two notes of one pitch on one channel: cut the earlier one short
         * where the next starts (and drop exact duplicates). */
        qsort(tn, m, sizeof *tn, tick_note_order);
        for (size_t i = 0; i < m; i++) {
            if (i + 1 < m && tn[i + 1].pitch == tn[i].pitch && tn[i + 1].on < tn[i].off) {
                if (tn[i + 1].on == tn[i].on) continue;
                tn[i].off = tn[i + 1].on;
            }
            uint8_t off[3] = {(uint8_t)(0x80 | ch), tn[i].pitch, 64};
            uint8_t on[3] = {(uint8_t)(0x90 | ch), tn[i].pitch, tn[i].vel};
            if (add_event(&l, tn[i].on, 3, on, 3) || add_event(&l, tn[i].off, 2, off, 3)) goto end;
        }
        if (put_track(&b, &l, end_tick)) goto end;
    }
    *buf = b.data;
    *len = b.len;
    b.data = NULL;
    rc = 0;
end:
    free(tn);
    free(l.ev);
    free(segs);
    free(b.data);
    return rc;
}

int es_midi_write(const es_score *s, const char *path)
{
    int rc = -1;
    uint8_t *buf = NULL;
    size_t len = 0;
    es_outfile o = {.fd = -1};
    if (es_midi_write_mem(s, &buf, &len)) {
        es_fail("%s: %s", path, es_error());
        goto end;
    }
    if (es_outfile_open(&o, path)) goto end;
    for (size_t done = 0; done < len;) {
        ssize_t w = write(o.fd, buf + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            es_fail("%s: write failed: %s", path, strerror(errno));
            goto end;
        }
        done += (size_t)w;
    }
    if (es_outfile_commit(&o)) goto end;
    rc = 0;
end:
    es_outfile_abort(&o);
    free(buf);
    return rc;
}

/* ---- reader --------------------------------------------------------------------------------- */

typedef struct {
    uint64_t on, off;
    int16_t program; /* program in force in its track, or -1: resolve from the channel */
    int16_t forced;  /* instrument the track map gives this note's track, or -1 */
    uint8_t channel, pitch, vel;
} raw_note;

typedef struct {
    uint64_t tick;
    uint32_t uspq;
    uint32_t seq;
} raw_tempo;

typedef struct {
    uint64_t tick;
    char name[16];
} raw_marker;

typedef struct {
    const char *name;
    const es_midi_track_map *map; size_t n_map;
    int track_instrument; /* what the map says of the current track, or -1 */
    raw_note *notes; size_t n_notes, cap_notes;
    raw_tempo *tempos; size_t n_tempos, cap_tempos;
    raw_marker *markers; size_t n_markers, cap_markers;
    int first_program[16];
    uint64_t end_tick;
    int32_t open[16][128]; /* index of the sounding note per channel and pitch, or -1 */
} reader;

/* Reads a variable-length quantity (at most 4 bytes, as the SMF allows). */
static int get_vlq(const uint8_t **p, const uint8_t *end, uint32_t *v)
{
    uint32_t x = 0;
    for (int i = 0; i < 4; i++) {
        if (*p >= end) return -1;
        uint8_t c = *(*p)++;
        x = (x << 7) | (c & 0x7F);
        if (!(c & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

static void close_note(reader *r, int ch, int pitch, uint64_t tick)
{
    int32_t k = r->open[ch][pitch];
    if (k < 0) return; /* an off without an on is ignored */
    r->notes[k].off = tick;
    r->open[ch][pitch] = -1;
}

static int read_track(reader *r, const uint8_t *p, const uint8_t *end, int track)
{
    uint64_t tick = 0;
    uint8_t running = 0;
    int program[16];
    for (int c = 0; c < 16; c++) program[c] = -1;
    memset(r->open, 0xFF, sizeof r->open);
    r->track_instrument = -1;
    while (p < end) {
        uint32_t delta, len;
        if (get_vlq(&p, end, &delta)) return es_fail("%s: track %d: bad delta time", r->name, track);
        tick += delta;
        if (tick > MAX_TICK) return es_fail("%s: track %d: absurd time", r->name, track);
        if (p >= end) break;
        uint8_t st = *p;
        if (st & 0x80) p++;
        else if (running) st = running;
        else return es_fail("%s: track %d: data byte 0x%02X without a status", r->name, track, st);

        /* Meta and SysEx events should cancel running status, but files that keep using it
         * after them exist; keeping it accepts those and changes nothing for the others. */
        if (st == 0xFF) {
            if (p >= end) break;
            uint8_t type = *p++;
            if (get_vlq(&p, end, &len) || len > (size_t)(end - p))
                return es_fail("%s: track %d: meta event longer than its track", r->name, track);
            if (type == 0x2F) {
                for (int c = 0; c < 16; c++)
                    for (int k = 0; k < 128; k++) close_note(r, c, k, tick);
                if (tick > r->end_tick) r->end_tick = tick;
                return 0;
            }
            if (type == 0x51) {
                if (len < 3) return es_fail("%s: track %d: short tempo event", r->name, track);
                uint32_t uspq = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
                if (!uspq) return es_fail("%s: track %d: tempo of 0 microseconds per beat", r->name, track);
                if (r->n_tempos >= MAX_METAS) return es_fail("%s: more than %u tempo changes", r->name, MAX_METAS);
                if (es_grow((void **)&r->tempos, &r->cap_tempos, r->n_tempos + 1, sizeof *r->tempos)) return -1;
                r->tempos[r->n_tempos] = (raw_tempo){tick, uspq, (uint32_t)r->n_tempos};
                r->n_tempos++;
            } else if (type == 0x03 && r->n_map) {
                for (size_t i = 0; i < r->n_map; i++)
                    if (strlen(r->map[i].name) == len && !strncasecmp(r->map[i].name, (const char *)p, len))
                        r->track_instrument = (int)r->map[i].instrument;
            } else if (type == 0x06 && len > 0) {
                if (r->n_markers >= MAX_METAS) return es_fail("%s: more than %u markers", r->name, MAX_METAS);
                if (es_grow((void **)&r->markers, &r->cap_markers, r->n_markers + 1, sizeof *r->markers)) return -1;
                raw_marker *m = &r->markers[r->n_markers++];
                size_t n = len < sizeof m->name - 1 ? len : sizeof m->name - 1;
                m->tick = tick;
                memcpy(m->name, p, n);
                m->name[n] = '\0';
            }
            p += len;
            continue;
        }
        if (st == 0xF0 || st == 0xF7) {
            if (get_vlq(&p, end, &len) || len > (size_t)(end - p))
                return es_fail("%s: track %d: SysEx event longer than its track", r->name, track);
            p += len;
            continue;
        }
        if (st >= 0xF0) return es_fail("%s: track %d: unexpected status byte 0x%02X", r->name, track, st);

        running = st;
        int kind = st & 0xF0, ch = st & 0x0F, n_data = (kind == 0xC0 || kind == 0xD0) ? 1 : 2;
        if (end - p < n_data) break;
        uint8_t d0 = p[0], d1 = n_data > 1 ? p[1] : 0;
        if ((d0 | d1) & 0x80) return es_fail("%s: track %d: bad data byte after status 0x%02X", r->name, track, st);
        p += n_data;
        if (kind == 0xC0) {
            program[ch] = d0;
            if (r->first_program[ch] < 0) r->first_program[ch] = d0;
        } else if (kind == 0x80 || (kind == 0x90 && d1 == 0)) {
            close_note(r, ch, d0, tick);
        } else if (kind == 0x90) {
            close_note(r, ch, d0, tick); /* a retrigger ends the sounding note */
            if (r->n_notes >= MAX_NOTES) return es_fail("%s: more than %u notes", r->name, MAX_NOTES);
            if (es_grow((void **)&r->notes, &r->cap_notes, r->n_notes + 1, sizeof *r->notes)) return -1;
            r->notes[r->n_notes] = (raw_note){tick, tick, (int16_t)program[ch], (int16_t)r->track_instrument, (uint8_t)ch, d0, d1};
            r->open[ch][d0] = (int32_t)r->n_notes++;
        }
    }
    return es_fail("%s: track %d: truncated (no end-of-track event)", r->name, track);
}

static es_instrument instrument_of(int channel, int program)
{
    if (channel == 9) return ES_DRUMS;
    if (program >= 24 && program < 32) return ES_GUITAR;
    if (program >= 32 && program < 40) return ES_BASS;
    if (program >= 40 && program < 56) return ES_STRINGS; /* strings and ensembles */
    return ES_PIANO; /* keyboards and everything without a closer EMSYNC family */
}

static int tempo_order(const void *a, const void *b)
{
    const raw_tempo *x = a, *y = b;
    if (x->tick != y->tick) return x->tick < y->tick ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int es_chord_name_root(const char *name)
{
    static const int base[7] = {9, 11, 0, 2, 4, 5, 7}; /* A..G */
    if (!name || name[0] < 'A' || name[0] > 'G') return -1;
    int pc = base[name[0] - 'A'];
    if (name[1] == '#') pc++;
    else if (name[1] == 'b') pc--;
    return (pc + 12) % 12;
}

int es_midi_read_mem(const uint8_t *data, size_t len, const char *name, es_score *out)
{
    return es_midi_read_mapped_mem(data, len, name, NULL, 0, out);
}

int es_midi_read_mapped_mem(const uint8_t *data, size_t len, const char *name, const es_midi_track_map *map,
                            size_t n_map, es_score *out)
{
    int rc = -1;
    reader r = {.name = name ? name : "midi", .map = map, .n_map = map ? n_map : 0};
    tempo_seg *segs = NULL;
    memset(out, 0, sizeof *out);
    for (int c = 0; c < 16; c++) r.first_program[c] = -1;

    if (len < 14 || memcmp(data, "MThd", 4)) {
        es_fail("%s: not a MIDI file (no MThd header)", r.name);
        goto end;
    }
    uint32_t hlen = (uint32_t)data[4] << 24 | (uint32_t)data[5] << 16 | (uint32_t)data[6] << 8 | data[7];
    int format = data[8] << 8 | data[9], ntrks = data[10] << 8 | data[11], division = data[12] << 8 | data[13];
    if (hlen < 6 || hlen > len - 8) {
        es_fail("%s: bad header length %u", r.name, hlen);
        goto end;
    }
    if (format > 1) {
        es_fail("%s: MIDI format %d not supported (only 0 and 1)", r.name, format);
        goto end;
    }
    if (ntrks == 0) {
        es_fail("%s: header declares no tracks", r.name);
        goto end;
    }
    double ticks_per_sec = 0; /* SMPTE division: fixed ticks per second, tempo ignored */
    if (division & 0x8000) {
        int fps = -(int)(int8_t)(division >> 8), tpf = division & 0xFF;
        if (fps <= 0 || tpf == 0) {
            es_fail("%s: bad SMPTE time division 0x%04X", r.name, division);
            goto end;
        }
        ticks_per_sec = (fps == 29 ? 29.97 : fps) * tpf;
    } else if (division == 0) {
        es_fail("%s: time division of 0 ticks per quarter note", r.name);
        goto end;
    }

    size_t pos = 8 + hlen;
    int tracks = 0;
    while (tracks < ntrks) {
        if (len - pos < 8) {
            es_fail("%s: truncated: header declares %d tracks, found %d", r.name, ntrks, tracks);
            goto end;
        }
        const uint8_t *c = data + pos;
        uint32_t clen = (uint32_t)c[4] << 24 | (uint32_t)c[5] << 16 | (uint32_t)c[6] << 8 | c[7];
        if (clen > len - pos - 8) {
            es_fail("%s: chunk %d: length %u exceeds the %zu bytes left", r.name, tracks + 1, clen, len - pos - 8);
            goto end;
        }
        if (!memcmp(c, "MTrk", 4)) {
            if (read_track(&r, c + 8, c + 8 + clen, tracks)) goto end;
            tracks++;
        } /* other chunk types are skipped, as the SMF specification asks */
        pos += 8 + (size_t)clen;
    }

    /* tempo map (from all tracks, in time order) -> seconds of every tick */
    size_t n_segs = 1;
    if (!(segs = es_malloc((r.n_tempos + 1) * sizeof *segs))) goto end;
    segs[0] = (tempo_seg){0, 0.0, DEFAULT_USPQ};
    if (r.n_tempos) qsort(r.tempos, r.n_tempos, sizeof *r.tempos, tempo_order);
    double ppq = ticks_per_sec > 0 ? 1 : division;
    for (size_t i = 0; i < r.n_tempos && ticks_per_sec == 0; i++) {
        tempo_seg *prev = &segs[n_segs - 1];
        if (r.tempos[i].tick == prev->tick) {
            prev->uspq = r.tempos[i].uspq;
            continue;
        }
        double sec = prev->sec + (double)(r.tempos[i].tick - prev->tick) * prev->uspq / (ppq * 1e6);
        segs[n_segs++] = (tempo_seg){r.tempos[i].tick, sec, r.tempos[i].uspq};
    }
#define TICK_SEC(tk, dst)                                                                             \
    do {                                                                                              \
        uint64_t t_ = (tk);                                                                           \
        if (ticks_per_sec > 0) {                                                                      \
            (dst) = (double)t_ / ticks_per_sec;                                                       \
        } else {                                                                                      \
            size_t lo_ = 0, hi_ = n_segs;                                                             \
            while (hi_ - lo_ > 1) {                                                                   \
                size_t mid_ = (lo_ + hi_) / 2;                                                        \
                if (segs[mid_].tick <= t_) lo_ = mid_; else hi_ = mid_;                               \
            }                                                                                         \
            (dst) = segs[lo_].sec + (double)(t_ - segs[lo_].tick) * segs[lo_].uspq / (ppq * 1e6);     \
        }                                                                                             \
    } while (0)

    TICK_SEC(r.end_tick, out->duration);
    if (!(out->duration <= MAX_SECONDS)) {
        es_fail("%s: absurd duration (%g s)", r.name, out->duration);
        goto end;
    }
    for (size_t i = 0; i < n_segs && ticks_per_sec == 0; i++)
        if (es_score_add_tempo(out, segs[i].sec, 60e6 / segs[i].uspq)) goto end;
    for (size_t i = 0; i < r.n_notes; i++) {
        const raw_note *n = &r.notes[i];
        if (n->off <= n->on) continue; /* zero-length notes carry nothing */
        int prog = n->program >= 0 ? n->program : r.first_program[n->channel];
        double a, b;
        TICK_SEC(n->on, a);
        TICK_SEC(n->off, b);
        if (!(b > a)) continue;
        es_instrument inst = n->forced >= 0 ? (es_instrument)n->forced : instrument_of(n->channel, prog < 0 ? 0 : prog);
        if (es_score_add_note(out, inst, n->pitch, n->vel ? n->vel : 1, a, b))
            goto end;
    }
    for (size_t i = 0; i < r.n_markers; i++) {
        int root = es_chord_name_root(r.markers[i].name);
        double t;
        TICK_SEC(r.markers[i].tick, t);
        if (root >= 0 && es_score_add_chord(out, t, root, r.markers[i].name)) goto end;
    }
#undef TICK_SEC
    es_score_sort(out);
    rc = 0;
end:
    if (rc) es_score_free(out);
    free(segs);
    free(r.markers);
    free(r.tempos);
    free(r.notes);
    return rc;
}

int es_midi_read(const char *path, es_score *out)
{
    return es_midi_read_mapped(path, NULL, 0, out);
}

int es_midi_read_mapped(const char *path, const es_midi_track_map *map, size_t n_map, es_score *out)
{
    int rc = -1;
    FILE *f = NULL;
    uint8_t *buf = NULL;
    memset(out, 0, sizeof *out);
    struct stat st;
    if (!(f = fopen(path, "rb")) || fstat(fileno(f), &st)) {
        es_fail("%s: %s", path, strerror(errno));
        goto end;
    }
    if (!S_ISREG(st.st_mode)) {
        es_fail("%s: not a regular file", path);
        goto end;
    }
    if (st.st_size == 0) {
        es_fail("%s: empty file", path);
        goto end;
    }
    if ((uint64_t)st.st_size > MAX_FILE_BYTES) {
        es_fail("%s: too large for a MIDI file (%lld bytes)", path, (long long)st.st_size);
        goto end;
    }
    size_t n = (size_t)st.st_size;
    if (!(buf = es_malloc(n))) goto end;
    if (fread(buf, 1, n, f) != n) {
        es_fail("%s: read failed", path);
        goto end;
    }
    rc = es_midi_read_mapped_mem(buf, n, path, map, n_map, out);
end:
    free(buf);
    if (f) fclose(f);
    return rc;
}
