/* Score -> PCM through FluidSynth, offline. Events (note on/off) are turned into sample positions,
 * sorted, and the synth is asked for exactly the frames between consecutive events, in blocks of
 * whatever size the caller reads: FluidSynth renders its 64-frame blocks only when they are
 * asked for, so an event lands on the same frame however the calls are split. More threads
 * go to FluidSynth itself (synth.cpu-cores): it renders the voices of each block on them and sums
 * them into the one mix, so the output is that of one thread (the test holds them equal). Two
 * synths each playing part of the instruments were tried too: as fast, but FluidSynth's output
 * depends slightly on which voice slot a note gets, so their sum differed from the one-synth
 * render by short blips (-72 dB). */
#include <errno.h>
#include <limits.h>
#include <fluidsynth.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio/render.h"
#include "core/error.h"

typedef struct {
    int64_t frame;     /* sample position */
    uint32_t order;    /* note index, for a stable sort */
    uint8_t on;        /* 1 note on, 0 note off */
    uint8_t channel, key, velocity;
} event;

/* FluidSynth logs through these hooks; keep its last error for our message instead of stderr.
 * Its mixer threads may log too, hence the lock. */
static char fluid_last_error[256];
static pthread_mutex_t fluid_log_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_fluid_log(int level, const char *message, void *data)
{
    (void)data;
    if (level > FLUID_ERR) return;
    pthread_mutex_lock(&fluid_log_lock);
    snprintf(fluid_last_error, sizeof fluid_last_error, "%s", message ? message : "");
    pthread_mutex_unlock(&fluid_log_lock);
}

/* Records "<what>[: FluidSynth's last error]" and returns -1. */
static int fluid_fail(const char *what)
{
    pthread_mutex_lock(&fluid_log_lock);
    es_fail("%s%s%s", what, fluid_last_error[0] ? ": " : "", fluid_last_error);
    pthread_mutex_unlock(&fluid_log_lock);
    return -1;
}

static void silence_fluid_log(void)
{
    fluid_set_log_function(FLUID_PANIC, on_fluid_log, NULL);
    fluid_set_log_function(FLUID_ERR, on_fluid_log, NULL);
    fluid_set_log_function(FLUID_WARN, on_fluid_log, NULL);
    fluid_set_log_function(FLUID_INFO, on_fluid_log, NULL);
    fluid_set_log_function(FLUID_DBG, on_fluid_log, NULL);
    pthread_mutex_lock(&fluid_log_lock);
    fluid_last_error[0] = '\0';
    pthread_mutex_unlock(&fluid_log_lock);
}

static int event_order(const void *a, const void *b)
{
    const event *x = a, *y = b;
    if (x->frame != y->frame) return x->frame < y->frame ? -1 : 1;
    /* offs first, so a note ending where the same key starts again does not cut the new one */
    if (x->on != y->on) return x->on - y->on;
    return x->order < y->order ? -1 : x->order > y->order;
}

const char *es_default_soundfont(void)
{
    const char *env = getenv("EMSYNC_SOUNDFONT");
    if (env && *env) return env;
    static const char *const places[] = {
        "/usr/share/sounds/sf2/FluidR3_GM.sf2",   "/usr/share/sounds/sf2/default-GM.sf2",
        "/usr/share/soundfonts/default.sf2",      "/usr/share/soundfonts/FluidR3_GM.sf2",
        "/usr/share/sounds/sf3/default-GM.sf3",   "/usr/share/sounds/sf3/MuseScore_General.sf3",
        "/usr/share/sounds/sf2/TimGM6mb.sf2",     "/usr/local/share/soundfonts/default.sf2",
    };
    for (size_t i = 0; i < sizeof places / sizeof places[0]; i++)
        if (access(places[i], R_OK) == 0) return places[i];
    return NULL;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Checks the RIFF structure before FluidSynth sees the file (for a SoundFont: the INFO, sdta and
 * pdta lists, each inside the file): a clear error for the wrong type or a truncated download,
 * and no noise from the fallback (DLS) loader, which writes to stderr itself, on such files. */
static int check_soundfont(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return es_fail("%s: cannot open soundfont: %s", path, strerror(errno));
    int ret = -1;
    unsigned char h[12];
    off_t size = -1;
    if (fseeko(f, 0, SEEK_END) == 0) size = ftello(f);
    if (size < 12 || fseeko(f, 0, SEEK_SET) != 0 || fread(h, 1, 12, f) != 12 || memcmp(h, "RIFF", 4) ||
        (memcmp(h + 8, "sfbk", 4) && memcmp(h + 8, "DLS ", 4))) {
        es_fail("%s: not a SoundFont (.sf2/.sf3) file", path);
        goto end;
    }
    uint64_t end = (uint64_t)le32(h + 4) + 8;
    if ((uint64_t)size < end) {
        es_fail("%s: truncated soundfont (%lld of %llu bytes)", path, (long long)size, (unsigned long long)end);
        goto end;
    }
    if (!memcmp(h + 8, "sfbk", 4)) {
        int lists = 0; /* bit per INFO, sdta, pdta */
        for (uint64_t at = 12; at + 12 <= end;) {
            if (fseeko(f, (off_t)at, SEEK_SET) != 0 || fread(h, 1, 12, f) != 12) break;
            uint64_t len = le32(h + 4);
            if (at + 8 + len > end) break;
            if (!memcmp(h, "LIST", 4)) {
                if (!memcmp(h + 8, "INFO", 4)) lists |= 1;
                if (!memcmp(h + 8, "sdta", 4)) lists |= 2;
                if (!memcmp(h + 8, "pdta", 4)) lists |= 4;
            }
            at += 8 + len + (len & 1);
        }
        if (lists != 7) {
            es_fail("%s: damaged soundfont (INFO, sdta or pdta list missing)", path);
            goto end;
        }
    }
    ret = 0;
end:
    fclose(f);
    return ret;
}

/* Selects a preset, falling back to the bank's first preset when the soundfont lacks it. */
static int select_program(fluid_synth_t *synth, int channel, int sfont, int bank, int program, const char *path)
{
    if (fluid_synth_program_select(synth, channel, sfont, bank, program) == FLUID_OK) return 0;
    if (fluid_synth_program_select(synth, channel, sfont, bank, 0) == FLUID_OK) return 0;
    return es_fail("%s: soundfont has no preset in bank %d (program %d)", path, bank, program);
}

struct es_render {
    fluid_settings_t *settings;
    fluid_synth_t *synth;
    event *events;
    size_t n_events, next; /* events[next] is the first not yet played */
    int64_t pos, total;    /* frames rendered, frames in all */
    /* how many notes hold each key: overlapping notes of one key release only when the last ends */
    uint16_t held[16][128];
};

/* A synth with the soundfont loaded and the five instruments' presets selected. */
static int open_synth(es_render *r, const char *soundfont_path, int sample_rate, int threads)
{
    fluid_settings_t *settings = r->settings = new_fluid_settings();
    if (!settings) return fluid_fail("render: FluidSynth failed");
    fluid_settings_setnum(settings, "synth.sample-rate", sample_rate);
    fluid_settings_setint(settings, "synth.reverb.active", 1);
    fluid_settings_setint(settings, "synth.chorus.active", 1);
    fluid_settings_setint(settings, "synth.threadsafe-api", 0); /* one thread drives it at a time */
    fluid_settings_setint(settings, "synth.cpu-cores", threads);
    fluid_settings_setint(settings, "audio.realtime-prio", 0); /* offline: no real-time mixer threads */
    /* read only the samples of the five presets used, not the whole (often 140 MB) soundfont */
    fluid_settings_setint(settings, "synth.dynamic-sample-loading", 1);
    r->synth = new_fluid_synth(settings);
    if (!r->synth) return fluid_fail("render: FluidSynth failed");

    int sfont = fluid_synth_sfload(r->synth, soundfont_path, 0);
    if (sfont == FLUID_FAILED) {
        char what[600];
        snprintf(what, sizeof what, "%s: cannot load soundfont", soundfont_path);
        return fluid_fail(what);
    }
    for (int i = 0; i < ES_INSTRUMENT_COUNT; i++) {
        int ch = es_instrument_channel((es_instrument)i);
        int drums = i == ES_DRUMS;
        if (select_program(r->synth, ch, sfont, drums ? 128 : 0, es_instrument_program((es_instrument)i), soundfont_path))
            return -1;
    }
    return 0;
}

/* The notes as sorted sample-positioned events: two per note that starts before the end; offs
 * at or past the end are dropped. */
static int make_events(es_render *r, const es_score *score, int sample_rate)
{
    if (score->n_notes > (SIZE_MAX / sizeof *r->events) / 2 || score->n_notes > UINT32_MAX)
        return es_fail("render: too many notes");
    r->events = es_malloc((score->n_notes ? 2 * score->n_notes : 1) * sizeof *r->events);
    if (!r->events) return -1;
    size_t n = 0;
    for (size_t i = 0; i < score->n_notes; i++) {
        const es_note *note = &score->notes[i];
        if (note->instrument >= ES_INSTRUMENT_COUNT || note->pitch > 127 || !isfinite(note->start) || !isfinite(note->end))
            continue;
        int64_t on = llround(fmax(note->start, 0.0) * sample_rate);
        int64_t off = llround(fmin(note->end, score->duration) * sample_rate);
        if (on >= r->total) continue;
        if (off <= on) off = on + 1;
        uint8_t ch = (uint8_t)es_instrument_channel((es_instrument)note->instrument);
        uint8_t vel = note->velocity ? (note->velocity > 127 ? 127 : note->velocity) : 1;
        r->events[n++] = (event){on, (uint32_t)i, 1, ch, note->pitch, vel};
        if (off < r->total) r->events[n++] = (event){off, (uint32_t)i, 0, ch, note->pitch, 0};
    }
    if (n > 1) qsort(r->events, n, sizeof *r->events, event_order);
    r->n_events = n;
    return 0;
}

int es_render_open(es_render **out, const es_score *score, const char *soundfont_path, int sample_rate, int threads)
{
    *out = NULL;
    if (!soundfont_path) return es_fail("no General MIDI soundfont found (set EMSYNC_SOUNDFONT)");
    if (sample_rate < 8000 || sample_rate > 96000) return es_fail("render: sample rate %d out of range", sample_rate);
    if (threads < 1 || threads > ES_RENDER_MAX_THREADS) return es_fail("render: %d threads (1 to %d)", threads, ES_RENDER_MAX_THREADS);
    if (!(score->duration > 0) || score->duration > ES_RENDER_MAX_SECONDS)
        return es_fail("render: bad score duration %g s", score->duration);
    if (check_soundfont(soundfont_path)) return -1;

    es_render *r = es_calloc(1, sizeof *r);
    if (!r) return -1;
    r->total = llround(score->duration * sample_rate);
    silence_fluid_log();
    if (open_synth(r, soundfont_path, sample_rate, threads) || make_events(r, score, sample_rate)) {
        es_render_close(&r);
        return -1;
    }
    *out = r;
    return 0;
}

int64_t es_render_frames(const es_render *r) { return r->total; }

/* Plays the events due at the current frame. */
static void play_due(es_render *r)
{
    for (; r->next < r->n_events && r->events[r->next].frame <= r->pos; r->next++) {
        const event *ev = &r->events[r->next];
        uint16_t *held = &r->held[ev->channel][ev->key];
        if (ev->on) {
            if (*held < UINT16_MAX) ++*held;
            fluid_synth_noteon(r->synth, ev->channel, ev->key, ev->velocity);
        } else if (*held && --*held == 0) {
            fluid_synth_noteoff(r->synth, ev->channel, ev->key);
        }
    }
}

long es_render_read(es_render *r, float *pcm, size_t n)
{
    size_t done = 0;
    while (done < n && r->pos < r->total) {
        play_due(r);
        /* up to the next event, the end, or what was asked for, whichever comes first */
        int64_t upto = r->next < r->n_events ? r->events[r->next].frame : r->total;
        if (upto > r->total) upto = r->total;
        if ((uint64_t)(upto - r->pos) > n - done) upto = r->pos + (int64_t)(n - done);
        if (upto - r->pos > 1 << 20) upto = r->pos + (1 << 20);
        int len = (int)(upto - r->pos);
        float *at = pcm + 2 * done;
        if (fluid_synth_write_float(r->synth, len, at, 0, 2, at, 1, 2) != FLUID_OK)
            return fluid_fail("render: FluidSynth failed");
        r->pos += len;
        done += (size_t)len;
    }
    return (long)done;
}

void es_render_close(es_render **pr)
{
    es_render *r = *pr;
    if (!r) return;
    if (r->synth) delete_fluid_synth(r->synth);
    if (r->settings) delete_fluid_settings(r->settings);
    free(r->events);
    free(r);
    *pr = NULL;
}

int es_render_score_threads(const es_score *score, const char *soundfont_path, int sample_rate, int threads,
                            float **pcm, size_t *n_frames)
{
    *pcm = NULL;
    *n_frames = 0;
    es_render *r;
    if (es_render_open(&r, score, soundfont_path, sample_rate, threads)) return -1;
    int64_t total = es_render_frames(r);
    float *out = NULL;
    if ((uint64_t)total > SIZE_MAX / (2 * sizeof(float)) || (uint64_t)total > LONG_MAX) {
        es_fail("render: score too long");
    } else if ((out = es_malloc((size_t)total * 2 * sizeof *out)) && es_render_read(r, out, (size_t)total) != total) {
        free(out);
        out = NULL;
    }
    es_render_close(&r);
    if (!out) return -1;
    *pcm = out;
    *n_frames = (size_t)total;
    return 0;
}

int es_render_score(const es_score *score, const char *soundfont_path, int sample_rate, float **pcm,
                    size_t *n_frames)
{
    return es_render_score_threads(score, soundfont_path, sample_rate, ES_RENDER_THREADS, pcm, n_frames);
}
