/* emsync — give a video a soundtrack whose mood follows the video's emotion and whose harmony
 * changes land on its scene cuts.
 *
 * The library behind the `emsync` command. Each call runs a whole job and writes its outputs
 * through temporary files renamed into place: on failure nothing is left behind and the input
 * is never written. Calls return 0 on success or -1 on failure, with one line saying what went
 * wrong in emsync_error(). Jobs on separate threads do not share state, except that progress
 * output (emsync_set_quiet) is process wide. */
#ifndef EMSYNC_H
#define EMSYNC_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    EMSYNC_ORIGINAL_AUDIO_OFF = 0, /* replace the original audio with the music (as EMSYNC) */
    EMSYNC_ORIGINAL_AUDIO_MIX,     /* mix the original under the music */
    EMSYNC_ORIGINAL_AUDIO_TRACK,   /* keep the original as a second audio stream */
} emsync_original_audio;

typedef enum {
    EMSYNC_COMPOSER_AUTO = 0,      /* the EMSYNC transformer when a checkpoint is found, else rules */
    EMSYNC_COMPOSER_RULES,         /* the built-in composer */
    EMSYNC_COMPOSER_EMSYNC,        /* the EMSYNC transformer (needs a checkpoint) */
} emsync_composer;

/* A mood given instead of estimated: it holds from `start` until the next one's start. */
typedef struct {
    double start;                  /* seconds, >= 0; ascending from one to the next */
    double valence, arousal;       /* in [-1, 1] */
} emsync_scene_mood;

/* How to analyse a video and compose for it. emsync_options_default fills the defaults noted. */
typedef struct {
    /* analysis */
    double cut_threshold;          /* scene score above which a frame is a cut (0.27) */
    double min_cut_gap;            /* seconds between kept boundaries (4.0) */
    const double *cuts;            /* boundaries to use instead of detected cuts (seconds,
                                      ascending; refused otherwise) */
    size_t n_cuts;
    int cuts_given;                /* 1: use cuts (even none) */
    int emotion_per_video;         /* 1: one mood for the whole video, as EMSYNC (0) */
    int faces;                     /* read facial expressions when the models are installed (1) */
    double mood_contrast;          /* stretch of each scene's distance from the video's mood (1.5) */
    int fixed_mood;                /* 1: use valence/arousal instead of estimating (0) */
    double valence, arousal;       /* in [-1, 1], with fixed_mood */
    const emsync_scene_mood *scene_moods; /* moods to use instead of estimating them (NULL):
                                      each holds from its start to the next one's (the first
                                      one also covers the time before its own start); with
                                      emotion_per_video the one in force at each mood scene's
                                      start is averaged as estimates would be; fixed_mood wins
                                      over them */
    size_t n_scene_moods;
    /* music */
    emsync_composer composer;      /* (auto) */
    const char *model;             /* EMSYNC checkpoint, or NULL to look one up */
    int exact;                     /* EMSYNC: recompute the sliding window like the reference (0) */
    int reference_boundaries;      /* EMSYNC: a chord within 1 s of a cut counts, as the reference;
                                      0: land a chord on each cut's own 8 ms tick (0) */
    int candidates;                /* EMSYNC: candidates generated together (0: the model's
                                      default, 1 for the authors' model, 3 for others) */
    double temperature, top_p;     /* EMSYNC sampling; 0: the model's own (the reference's 1.35
                                      and 0.6 for the released model, 1.0 and 1.0 otherwise) */
    double guidance;               /* EMSYNC valence guidance weight; 0 or 1: none (0) */
    uint64_t seed;                 /* same inputs and seed => identical MIDI (1) */
    const char *soundfont;         /* NULL: $EMSYNC_SOUNDFONT or the distribution's GM soundfont */
    /* outputs */
    int overwrite;                 /* replace existing outputs (0: refuse) */
    emsync_original_audio original_audio;
} emsync_options;

/* Fills every field with its default. */
void emsync_options_default(emsync_options *o);

/* Scores the video `input`: writes `output` (the video stream copied, the music as AAC in
 * mp4/m4v/mov or Opus in mkv/webm), the MIDI file `midi`, and, where not NULL, the music as WAV,
 * the analysis report as JSON and the timeline as SVG. output NULL means "<stem>.emsync.<ext>"
 * in the current directory; midi NULL means output with the extension ".mid". The outputs are
 * renamed into place together at the end: a failure, SIGINT or SIGTERM leaves none of them. Two
 * outputs naming the same file in any spelling are refused. On success, when
 * `written_output` is not NULL, it receives the output path (free() it). */
int emsync_score(const char *input, const char *output, const char *midi, const char *wav,
                 const char *json, const char *svg, const emsync_options *o, char **written_output);

/* Analyses the video `input` (cuts, per-scene features, faces, valence/arousal) and writes the
 * report as JSON to `json` (stdout when NULL) and, where not NULL, the SVG timeline. */
int emsync_analyze(const char *input, const char *json, const char *svg, const emsync_options *o);

/* The longest music emsync_compose and emsync_score write, in seconds (24 hours). Memory does not
 * depend on it (the music is rendered and encoded as a stream); it bounds the work a wrong
 * duration can ask for. */
#define EMSYNC_MAX_COMPOSE_SECONDS 86400.0

/* Composes `duration` seconds of music for o's mood (valence/arousal, 0/0 when not fixed) and
 * cuts, without a video: the MIDI file `midi` (required) and, where not NULL, WAV and the JSON
 * report. duration must be in (0, EMSYNC_MAX_COMPOSE_SECONDS]. */
int emsync_compose(double duration, const char *midi, const char *wav, const char *json,
                   const emsync_options *o);

/* The library's version, "MAJOR.MINOR.PATCH" (what `pkg-config --modversion emsync` reports). */
const char *emsync_version(void);

/* The calling thread's last error line ("" when none). */
const char *emsync_error(void);

/* Silences (1) or restores (0) progress output on stderr. */
void emsync_set_quiet(int quiet);

#endif
