/* The scoring pipeline as steps the CLI (and library users) call in order: analyse a video
 * (decode, cuts, per-scene emotion), compose, render. Each step records its wall time. The
 * struct owns everything it produces; es_pipeline_free releases it all. */
#ifndef ES_PIPELINE_H
#define ES_PIPELINE_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "audio/music.h"
#include "emsync.h"
#include "emotion/affect.h"
#include "media/decode.h"
#include "music/compose.h"
#include "music/emsync_generate.h"
#include "music/score.h"
#include "pipeline/sampler.h"

typedef struct {
    char name[16];
    double seconds;
} es_stage_time;

typedef struct {
    /* settings, filled by the caller */
    const char *input;
    double cut_threshold, min_cut_gap;
    const double *user_cuts;      /* boundaries given by the user (ascending), if user_cuts_given */
    size_t n_user_cuts;
    int user_cuts_given;
    int emotion_per_video;        /* one mood for the whole video, as EMSYNC */
    int fixed_mood;               /* use fixed_valence/fixed_arousal instead of estimating */
    double fixed_valence, fixed_arousal;
    const emsync_scene_mood *given_moods; /* used instead of the estimate (emsync_options) */
    size_t n_given_moods;
    uint64_t seed;
    emsync_composer composer;
    const char *model;            /* EMSYNC checkpoint path, or NULL to look one up */
    int exact, candidates;        /* EMSYNC generator window mode and candidate count */
    double temperature, top_p, guidance; /* EMSYNC sampling, 0 = the model's own */
    int reference_boundaries;     /* EMSYNC: the reference's 1 s chord rule instead of landing */
    const char *model_source;     /* where the model was found (es_find_model_from) */
    const char *soundfont;        /* NULL: es_default_soundfont() */
    int faces;                    /* run the face nets when their models are installed (default 1) */
    double mood_contrast;         /* es_affect_fuse's contrast */
    int analysis_quiet;           /* 1: the analysis shows no progress (it runs beside another step) */

    /* results */
    es_media_analysis analysis;
    double *peaks; float *peak_scores; size_t n_peaks;  /* frames with scene score > threshold */
    double *bounds; size_t n_bounds;                    /* boundaries used, in (0, duration) */
    double *splits; size_t n_splits;                    /* frame spans split here, besides cuts */
    double *starts; size_t n_starts;                    /* mood scene starts: the boundaries, the
                                                           detected shots between them and the
                                                           given moods' starts */
    es_scene_affect *scenes; size_t n_scenes;           /* n_starts + 1 mood scenes */
    es_face_model *face_model;                          /* NULL when faces are off or unavailable */
    char faces_status[160];                             /* "on", "off" or why they are unavailable */
    es_sampler sampler;                                 /* face summaries and thumbnails */
    es_mood_segment *moods; size_t n_moods;             /* what the composer was given */
    es_score score;
    const char *composer_used;    /* "rules" or "emsync" */
    char model_used[512];         /* checkpoint path when the EMSYNC composer ran */
    es_nn_hparams model_shape;    /* its hyperparameters */
    es_emsync_report emsync;      /* what the EMSYNC composer reports (tokens, speed, hits) */
    es_music *music;                                    /* 48 kHz stereo, finished, streamed */
    double measured_lufs;         /* loudness before normalisation */
    const char *soundfont_used;
    es_stage_time times[12]; int n_times;
    int composed_ahead;           /* es_pipeline_score: 1 the music was made while the video decoded,
                                     -1 it was, but made again for the decoded duration, 0 not tried */
} es_pipeline;

/* Zeroes p; the caller then fills the settings (see emsync_options_default for defaults). */
void es_pipeline_init(es_pipeline *p);

/* Decodes p->input once, finds the boundaries and estimates the mood per scene (or takes the
 * fixed one). Returns 0 or -1 with one error line. Shows progress. */
int es_pipeline_analyze(es_pipeline *p);

/* Sets up a composition without a video: duration seconds, boundaries (ascending; those outside
 * (0, duration) are dropped) and one mood, or the given moods when there are some and the mood
 * is not fixed. Use instead of es_pipeline_analyze. Returns 0 or -1. */
int es_pipeline_plan(es_pipeline *p, double duration, const double *bounds, size_t n_bounds, double valence,
                     double arousal);

/* Composes music for the analysed video into p->score. Returns 0 or -1. */
int es_pipeline_compose(es_pipeline *p);

/* Renders p->score at 48 kHz once to measure it, and sets up p->music, which renders it again
 * as it is read, normalised to target_lufs and faded out over the last fade_seconds (no fade
 * when the video lasts fade_seconds or less). Returns 0 or -1. */
int es_pipeline_render(es_pipeline *p, double target_lufs, double fade_seconds);

/* What es_pipeline_score does with the finished music: src is the pipeline that holds it
 * (src->music, src->score, src->analysis.info.duration), which may be a copy of p planned on
 * the stated duration. Returns 0 or -1 with one error line. */
typedef int (*es_pipeline_deliver)(es_pipeline *src, void *user);

/* es_pipeline_analyze, es_pipeline_compose and es_pipeline_render, as one step, then
 * deliver(src, user) when deliver is set. With ahead set, when the boundaries and every mood
 * are given (the music then needs nothing from the picture but its duration) and the video
 * stream states a duration of at most ES_COMPOSE_AHEAD_MAX seconds, the music is composed and
 * rendered for that duration first, with both cores, and delivered while the video decodes on
 * another thread; it is kept only when the analysis ends with the same duration, boundaries
 * and moods, and made and delivered again after it otherwise, so the music is the same either
 * way (deliver must then replace what it wrote). Returns 0 or -1 with one error line. */
int es_pipeline_score(es_pipeline *p, double target_lufs, double fade_seconds, int ahead, es_pipeline_deliver deliver,
                      void *user);

#define ES_COMPOSE_AHEAD_MAX 600.0 /* a header that overstates the length wastes at most this */

/* Writes the analysis report (see README "Outputs") to path through a temporary file.
 * The output paths are recorded in it (any may be NULL). Returns 0 or -1. */
int es_pipeline_write_json(const es_pipeline *p, const char *path, const char *video, const char *midi,
                           const char *wav);

/* Prints the same report to a stream (e.g. stdout). */
void es_pipeline_print_json(const es_pipeline *p, FILE *f, const char *video, const char *midi, const char *wav);

/* Records a stage's wall time in the report. */
void es_pipeline_time(es_pipeline *p, const char *stage, double seconds);

/* A progress callback for libraries' on_progress hooks: forwards to core/progress. */
void es_pipeline_progress(void *user, double fraction);

/* Frees everything the pipeline produced. Safe on an initialised struct. */
void es_pipeline_free(es_pipeline *p);

/* score's default output for input: "<dir or .>/<stem>.emsync.<ext>", the container kept where
 * it can take the music (mp4, mov, mkv, webm, ...), else .mkv. Newly allocated, NULL on error. */
char *es_score_output_path(const char *input, const char *dir);

/* A side output beside output with its stem: (x.emsync.mp4, ".mid") -> x.emsync.mid. */
char *es_score_side_path(const char *output, const char *suffix);

#endif
