/* The scoring pipeline's steps (see pipeline.h). */
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/loudness.h"
#include "audio/render.h"
#include "core/error.h"
#include "core/json.h"
#include "core/outfile.h"
#include "core/progress.h"
#include "media/mux.h"
#include "music/rules.h"
#include "pipeline/pipeline.h"
#include "scene/cuts.h"

#define RENDER_RATE ES_MUX_RATE

void es_pipeline_init(es_pipeline *p) { memset(p, 0, sizeof *p); }

void es_pipeline_time(es_pipeline *p, const char *stage, double seconds)
{
    if (p->n_times >= (int)(sizeof p->times / sizeof p->times[0])) return;
    es_stage_time *t = &p->times[p->n_times++];
    snprintf(t->name, sizeof t->name, "%s", stage);
    t->seconds = seconds;
}

void es_pipeline_progress(void *user, double fraction)
{
    (void)user;
    es_progress_update(fraction);
}

/* Where mood scenes start: every boundary; with detected boundaries every shot between them (a
 * cut the minimum gap thinned out) that leaves at least ES_MIN_MOOD_SCENE on both sides, so a
 * shot of its own (a smile after a frown) gets its own mood and mood changes still land on
 * cuts; the user's cuts are taken as the scenes they mean. Given moods start scenes too, so one
 * mood per video weighs each given mood by its own stretch. */
static int mood_starts(es_pipeline *p)
{
    double duration = p->analysis.info.duration;
    size_t n_src = p->user_cuts_given ? 0 : p->n_peaks, n_given = p->fixed_mood ? 0 : p->n_given_moods;
    double *shots = es_malloc((p->n_bounds + n_src + 1) * sizeof *shots);
    p->starts = es_malloc((p->n_bounds + n_src + n_given + 1) * sizeof *p->starts);
    if (!shots || !p->starts) {
        free(shots);
        return -1;
    }
    size_t n = 0, b = 0;
    double last = 0;
    for (size_t i = 0; i <= n_src; i++) {
        double t = i < n_src ? p->peaks[i] : INFINITY;
        while (b < p->n_bounds && p->bounds[b] <= t) last = shots[n++] = p->bounds[b++];
        if (i == n_src || !(t > 0 && t < duration) || (n && shots[n - 1] == t)) continue;
        double next = b < p->n_bounds ? p->bounds[b] : duration;
        if (t - last >= ES_MIN_MOOD_SCENE && next - t >= ES_MIN_MOOD_SCENE) last = shots[n++] = t;
    }
    size_t k = 0, g = 0;
    for (size_t i = 0; i < n || g < n_given;) {
        double t = g >= n_given || (i < n && shots[i] <= p->given_moods[g].start) ? shots[i++] : p->given_moods[g++].start;
        if (t > 0 && t < duration && (k == 0 || t > p->starts[k - 1])) p->starts[k++] = t;
    }
    p->n_starts = k;
    free(shots);
    return 0;
}

/* Peaks with their scores, and the boundaries: the user's (inside the video) or the thinned
 * peaks. */
static int find_boundaries(es_pipeline *p)
{
    const es_media_analysis *a = &p->analysis;
    const es_frame_spans *sp = &a->spans; /* a frame over the threshold starts a span */
    size_t cap = 0;
    for (size_t i = 0; i < sp->n; i++) {
        if (!(sp->items[i].first_scene > p->cut_threshold)) continue;
        if (es_grow((void **)&p->peaks, &cap, p->n_peaks + 1, sizeof *p->peaks)) return -1;
        p->peaks[p->n_peaks++] = sp->items[i].start;
    }
    if (p->n_peaks) {
        p->peak_scores = es_malloc(p->n_peaks * sizeof *p->peak_scores);
        if (!p->peak_scores) return -1;
        size_t k = 0;
        for (size_t i = 0; i < sp->n; i++)
            if (sp->items[i].first_scene > p->cut_threshold) p->peak_scores[k++] = sp->items[i].first_scene;
    }

    const double *src = p->user_cuts_given ? p->user_cuts : p->peaks;
    size_t n_src = p->user_cuts_given ? p->n_user_cuts : p->n_peaks;
    p->bounds = es_malloc((n_src ? n_src : 1) * sizeof *p->bounds);
    if (!p->bounds) return -1;
    size_t n = 0;
    for (size_t i = 0; i < n_src; i++)
        if (src[i] > 0 && src[i] < a->info.duration) p->bounds[n++] = src[i];
    if (!p->user_cuts_given) n = es_scene_thin(p->bounds, n, p->min_cut_gap, p->bounds);
    p->n_bounds = n;
    return mood_starts(p);
}

/* The moods the composer gets from the scenes' valence and arousal: one per scene, or the
 * video's weighted mean. */
static int moods_of_scenes(es_pipeline *p, const es_scene_affect *scenes, size_t n_scenes)
{
    p->n_moods = p->emotion_per_video ? 1 : n_scenes;
    p->moods = es_calloc(p->n_moods, sizeof *p->moods);
    if (!p->moods) return -1;
    if (p->emotion_per_video) {
        es_affect_video(scenes, n_scenes, &p->moods[0].valence, &p->moods[0].arousal);
        return 0;
    }
    for (size_t s = 0; s < n_scenes; s++)
        p->moods[s] = (es_mood_segment){scenes[s].start, scenes[s].valence, scenes[s].arousal};
    return 0;
}

/* A copy of the scenes whose valence and arousal are the given moods in force at each scene's
 * start (the first given mood before its own start), so that the rest (weights for one mood
 * per video) stays as for estimated moods. Both lists ascend: one walk maps them. */
static es_scene_affect *with_given_moods(const es_pipeline *p, const es_scene_affect *scenes, size_t n)
{
    es_scene_affect *out = es_malloc((n ? n : 1) * sizeof *out);
    if (!out) return NULL;
    size_t g = 0;
    for (size_t s = 0; s < n; s++) {
        while (g + 1 < p->n_given_moods && p->given_moods[g + 1].start <= scenes[s].start) g++;
        out[s] = scenes[s];
        out[s].valence = p->given_moods[g].valence;
        out[s].arousal = p->given_moods[g].arousal;
    }
    return out;
}

/* The given moods as they are, each from its own start (the first from 0), those that start
 * before the end. */
static int given_moods_as_segments(es_pipeline *p)
{
    p->moods = es_calloc(p->n_given_moods, sizeof *p->moods);
    if (!p->moods) return -1;
    size_t n = 0;
    for (size_t i = 0; i < p->n_given_moods; i++) {
        const emsync_scene_mood *g = &p->given_moods[i];
        if (i && !(g->start < p->analysis.info.duration)) break;
        p->moods[n++] = (es_mood_segment){i ? g->start : 0, g->valence, g->arousal};
    }
    p->n_moods = n;
    return 0;
}

/* Sets p->moods from the scenes: the fixed mood, else the given moods, else the estimate. */
static int set_moods(es_pipeline *p, const es_scene_affect *scenes, size_t n_scenes)
{
    if (p->fixed_mood) {
        p->moods = es_calloc(1, sizeof *p->moods);
        if (!p->moods) return -1;
        p->moods[0] = (es_mood_segment){0, p->fixed_valence, p->fixed_arousal};
        p->n_moods = 1;
        return 0;
    }
    if (!p->n_given_moods) return moods_of_scenes(p, scenes, n_scenes);
    if (!p->emotion_per_video) return given_moods_as_segments(p);
    es_scene_affect *given = with_given_moods(p, scenes, n_scenes);
    if (!given) return -1;
    int r = moods_of_scenes(p, given, n_scenes);
    free(given);
    return r;
}

static int choose_moods(es_pipeline *p)
{
    if (es_affect_scenes(&p->analysis, p->starts, p->n_starts, p->bounds, p->n_bounds, p->cut_threshold, &p->scenes,
                         &p->n_scenes))
        return -1;
    es_sampler_apply(&p->sampler, p->scenes, p->n_scenes);
    es_affect_fuse(p->scenes, p->n_scenes, p->mood_contrast);
    return set_moods(p, p->scenes, p->n_scenes);
}

/* Where frame spans must split besides cuts: the user's cuts and the given moods' starts, which
 * start scenes (mood_starts), so every scene is a whole number of spans. */
static int split_times(es_pipeline *p)
{
    size_t nc = p->user_cuts_given ? p->n_user_cuts : 0, ng = p->fixed_mood ? 0 : p->n_given_moods;
    if (!(p->splits = es_malloc((nc + ng + 1) * sizeof *p->splits))) return -1;
    size_t n = 0;
    for (size_t i = 0, g = 0; i < nc || g < ng;) {
        double t = g >= ng || (i < nc && p->user_cuts[i] <= p->given_moods[g].start) ? p->user_cuts[i++]
                                                                                      : p->given_moods[g++].start;
        if (n == 0 || t > p->splits[n - 1]) p->splits[n++] = t;
    }
    p->n_splits = n;
    return 0;
}

int es_pipeline_analyze(es_pipeline *p)
{
    double t0 = es_now();
    if (p->faces) {
        p->face_model = es_face_model_load(NULL);
        if (p->face_model && es_face_model_set_input_size(p->face_model, ES_SAMPLE_FACE_INPUT)) return -1;
        snprintf(p->faces_status, sizeof p->faces_status, "%s", p->face_model ? "on" : es_error());
        es_error_clear();
    } else {
        snprintf(p->faces_status, sizeof p->faces_status, "off");
    }
    if (es_sampler_init(&p->sampler, p->face_model)) return -1;
    p->sampler.spans = &p->analysis.spans; /* faces summed per frame span */
    if (split_times(p)) return -1;
    if (!p->analysis_quiet) es_progress_stage("decode");
    es_decode_options opt = {
        .want_audio = 1,
        .sample_fps = ES_SAMPLE_FPS,
        .sample_max_width = ES_SAMPLE_MAX_WIDTH,
        .on_sample = es_sampler_on_frame,
        .user = &p->sampler,
        .on_progress = p->analysis_quiet ? NULL : es_pipeline_progress,
        .spare_cpu_below_pixels = p->face_model ? ES_FACE_SPARE_CPU_PIXELS : 0,
        /* beside another step (the encoder) one decoder leaves that step its core */
        .decoders = p->analysis_quiet ? 1 : 0,
        /* frames summed between cut candidates and given cuts: memory independent of length */
        .reduce_frames = 1,
        .split_threshold = p->cut_threshold,
        .split_times = p->splits,
        .n_split_times = p->n_splits,
    };
    if (es_media_analyze(p->input, &opt, &p->analysis)) return -1;
    double decoded = es_now();
    if (es_sampler_finish(&p->sampler)) return es_fail("%s: frame analysis failed: %s", p->input, es_error());
    if (!p->analysis_quiet) es_progress_done();
    /* the face nets overlap with decoding: report the decode's wall time, the wait for the
     * face worker after it, and the worker's own busy time */
    es_pipeline_time(p, "decode", decoded - t0);
    if (p->face_model) {
        es_pipeline_time(p, "faces_wait", es_now() - decoded);
        es_pipeline_time(p, "faces_busy", p->sampler.face_seconds);
    }
    if (!(p->analysis.info.duration > 0)) return es_fail("%s: the video has no duration", p->input);


    t0 = es_now();
    if (find_boundaries(p)) return -1;
    es_pipeline_time(p, "cuts", es_now() - t0);

    t0 = es_now();
    if (choose_moods(p)) return -1;
    es_pipeline_time(p, "emotion", es_now() - t0);
    return 0;
}

/* Without a video, the given moods are mapped onto bare scenes between the boundaries and the
 * moods' starts, of equal confidence (so one mood per video weighs them by duration alone). */
static int plan_given_moods(es_pipeline *p)
{
    if (mood_starts(p)) return -1;
    size_t n = p->n_starts + 1;
    es_scene_affect *scenes = es_calloc(n, sizeof *scenes);
    if (!scenes) return -1;
    for (size_t s = 0; s < n; s++) {
        scenes[s].start = s ? p->starts[s - 1] : 0;
        scenes[s].end = s < p->n_starts ? p->starts[s] : p->analysis.info.duration;
        scenes[s].confidence = 1;
    }
    int r = set_moods(p, scenes, n);
    free(scenes);
    return r;
}

int es_pipeline_plan(es_pipeline *p, double duration, const double *bounds, size_t n_bounds, double valence,
                     double arousal)
{
    if (!(duration > 0)) return es_fail("the duration must be positive");
    p->analysis.info.duration = duration;
    p->user_cuts_given = 1;
    p->bounds = es_malloc((n_bounds ? n_bounds : 1) * sizeof *p->bounds);
    if (!p->bounds) return -1;
    for (size_t i = 0; i < n_bounds; i++)
        if (bounds[i] > 0 && bounds[i] < duration) p->bounds[p->n_bounds++] = bounds[i];
    if (p->n_given_moods && !p->fixed_mood) return plan_given_moods(p);
    p->fixed_mood = 1;
    p->fixed_valence = valence;
    p->fixed_arousal = arousal;
    return set_moods(p, NULL, 0);
}

static int compose_emsync(es_pipeline *p, const char *model_path, const es_compose_request *req)
{
    es_nn_model *model = es_nn_model_load(model_path, ES_NN_F16, 0);
    if (!model) return -1;
    es_emsync_options opt;
    es_emsync_options_default(&opt);
    opt.model = model;
    opt.exact = p->exact;
    opt.reference_boundaries = p->reference_boundaries;
    opt.candidates = p->candidates;
    opt.temperature = p->temperature;
    opt.top_p = p->top_p;
    opt.guidance = p->guidance;
    int r = es_compose_emsync(req, &opt, &p->score, &p->emsync);
    if (r == 0) {
        p->composer_used = "emsync";
        snprintf(p->model_used, sizeof p->model_used, "%s", model_path);
        p->model_shape = *es_nn_model_hparams(model);
    }
    es_nn_model_free(model);
    return r;
}

int es_pipeline_compose(es_pipeline *p)
{
    /* 24 hours, the built-in composer's limit (music/rules.c); the music itself is streamed, not held */
    if (p->analysis.info.duration > EMSYNC_MAX_COMPOSE_SECONDS)
        return es_fail("%s: lasts %.0f min; emsync writes music for up to %.0f min", p->input ? p->input : "music",
                       ceil(p->analysis.info.duration / 60), EMSYNC_MAX_COMPOSE_SECONDS / 60);
    double t0 = es_now();
    es_compose_request req = {
        .duration = p->analysis.info.duration,
        .boundaries = p->bounds,
        .n_boundaries = p->n_bounds,
        .moods = p->moods,
        .n_moods = p->n_moods,
        .seed = p->seed,
    };
    const char *model = p->composer == EMSYNC_COMPOSER_RULES ? NULL : es_find_model_from(p->model, &p->model_source);
    if (p->composer == EMSYNC_COMPOSER_EMSYNC && !model)
        return es_fail("no EMSYNC checkpoint: pass --model FILE.pt or set EMSYNC_MODEL (see README)");
    es_progress_stage("compose");
    if (model) {
        if (compose_emsync(p, model, &req)) return -1;
    } else {
        if (es_compose_rules(&req, &p->score)) return -1;
        p->composer_used = "rules";
    }
    es_progress_done();
    es_pipeline_time(p, "compose", es_now() - t0);
    return 0;
}

int es_pipeline_render(es_pipeline *p, double target_lufs, double fade_seconds)
{
    double t0 = es_now();
    p->soundfont_used = p->soundfont ? p->soundfont : es_default_soundfont();
    if (!p->soundfont_used)
        return es_fail("no General MIDI soundfont found: install fluid-soundfont-gm or pass --soundfont F");
    es_progress_stage("render");
    p->score.duration = p->analysis.info.duration;
    es_music_config mc = {.score = &p->score, .soundfont = p->soundfont_used, .rate = RENDER_RATE,
                          .target_lufs = target_lufs, .fade_seconds = p->score.duration > fade_seconds ? fade_seconds : 0,
                          .progress = es_pipeline_progress};
    if (es_music_open(&p->music, &mc)) return -1;
    p->measured_lufs = es_music_loudness(p->music);
    es_progress_done();
    es_pipeline_time(p, "render", es_now() - t0);
    return 0;
}

/* ---- the music made while the video decodes ---- */

/* The music needs nothing from the picture but its duration: boundaries given, and the moods
 * fixed or given per scene (one mood per video weighs the scenes by what the analysis finds). */
static int music_is_planned(const es_pipeline *p)
{
    return p->user_cuts_given && (p->fixed_mood || (p->n_given_moods && !p->emotion_per_video));
}

typedef struct {
    es_pipeline *p;
    int rc;
    char error[512];
} analysis_job;

static void *analyze_thread(void *arg)
{
    analysis_job *job = arg;
    job->rc = es_pipeline_analyze(job->p);
    if (job->rc) snprintf(job->error, sizeof job->error, "%s", es_error());
    return NULL;
}

/* 1 when the composer got the same duration, boundaries and moods in p and q. */
static int same_request(const es_pipeline *p, const es_pipeline *q)
{
    if (p->analysis.info.duration != q->analysis.info.duration || p->n_bounds != q->n_bounds ||
        p->n_moods != q->n_moods)
        return 0;
    for (size_t i = 0; i < p->n_bounds; i++)
        if (p->bounds[i] != q->bounds[i]) return 0;
    for (size_t i = 0; i < p->n_moods; i++)
        if (p->moods[i].start != q->moods[i].start || p->moods[i].valence != q->moods[i].valence ||
            p->moods[i].arousal != q->moods[i].arousal)
            return 0;
    return 1;
}

/* Moves the music and what reports it from q to p. */
static void take_music(es_pipeline *p, es_pipeline *q)
{
    p->score = q->score;
    memset(&q->score, 0, sizeof q->score);
    p->emsync = q->emsync;
    memset(&q->emsync, 0, sizeof q->emsync);
    p->music = q->music;
    q->music = NULL;
    p->composer_used = q->composer_used;
    memcpy(p->model_used, q->model_used, sizeof p->model_used);
    p->model_shape = q->model_shape;
    p->model_source = q->model_source;
    p->soundfont_used = q->soundfont_used;
    p->measured_lufs = q->measured_lufs;
    for (int i = 0; i < q->n_times; i++) es_pipeline_time(p, q->times[i].name, q->times[i].seconds);
    p->composed_ahead = 1;
}

int es_pipeline_score(es_pipeline *p, double target_lufs, double fade_seconds, int ahead, es_pipeline_deliver deliver,
                      void *user)
{
    double stated;
    if (!ahead || !music_is_planned(p) || es_media_stated_duration(p->input, &stated) ||
        !(stated > 0 && stated <= ES_COMPOSE_AHEAD_MAX)) {
        es_error_clear(); /* the analysis gives the error a bad file deserves */
        return es_pipeline_analyze(p) || es_pipeline_compose(p) || es_pipeline_render(p, target_lufs, fade_seconds) ||
                       (deliver && deliver(p, user))
                   ? -1 : 0;
    }
    /* q: the same settings (the struct's head), planned on the stated duration */
    es_pipeline q;
    es_pipeline_init(&q);
    memcpy(&q, p, offsetof(es_pipeline, analysis));
    int rc = -1;
    /* the composer and the first render want both cores; delivering (the encoder) leaves one
     * mostly free, so the video decodes then */
    if (es_pipeline_plan(&q, stated, p->user_cuts, p->n_user_cuts, p->fixed_valence, p->fixed_arousal) ||
        es_pipeline_compose(&q) || es_pipeline_render(&q, target_lufs, fade_seconds))
        goto end;
    analysis_job job = {.p = p};
    p->analysis_quiet = 1;
    pthread_t thread;
    if (pthread_create(&thread, NULL, analyze_thread, &job)) {
        es_fail("cannot start a thread");
        goto end;
    }
    double t0 = es_now();
    int stages = q.n_times;
    int delivered = deliver ? deliver(&q, user) : 0;
    char deliver_error[512];
    snprintf(deliver_error, sizeof deliver_error, "%s", delivered ? es_error() : "");
    pthread_join(thread, NULL);
    /* the delivery's time is the wall time of both, so that the stages still add up */
    if (q.n_times > stages) q.times[q.n_times - 1].seconds = es_now() - t0;
    if (job.rc) {
        es_fail("%s", job.error);
        goto end;
    }
    if (delivered) {
        es_fail("%s", deliver_error);
        goto end;
    }
    if (same_request(p, &q)) {
        take_music(p, &q);
    } else {
        p->composed_ahead = -1;
        if (es_pipeline_compose(p) || es_pipeline_render(p, target_lufs, fade_seconds) || (deliver && deliver(p, user)))
            goto end;
    }
    rc = 0;
end:
    p->analysis_quiet = 0;
    es_pipeline_free(&q);
    return rc;
}

/* Boundaries and moods are written exactly, so that `score --plan REPORT` composes the same. */
static void json_times(es_json *j, const double *t, size_t n)
{
    es_json_begin_array(j);
    for (size_t i = 0; i < n; i++) es_json_number_exact(j, t[i]);
    es_json_end_array(j);
}

static void json_report(const es_pipeline *p, es_json *j, const char *video, const char *midi, const char *wav)
{
    const es_media_info *info = &p->analysis.info;
    es_json_begin_object(j);
    es_json_kv_string(j, "input", p->input);
    es_json_key(j, "outputs");
    es_json_begin_object(j);
    if (video) es_json_kv_string(j, "video", video);
    if (midi) es_json_kv_string(j, "midi", midi);
    if (wav) es_json_kv_string(j, "wav", wav);
    es_json_end_object(j);
    es_json_kv_number(j, "duration", info->duration);
    es_json_kv_number(j, "fps", info->fps);
    es_json_kv_int(j, "width", info->width);
    es_json_kv_int(j, "height", info->height);
    es_json_kv_int(j, "frames", (long long)info->n_frames);
    es_json_key(j, "has_audio");
    es_json_bool(j, info->has_audio);

    es_json_key(j, "cuts");
    es_json_begin_object(j);
    es_json_kv_number(j, "threshold", p->cut_threshold);
    es_json_kv_number(j, "min_gap", p->min_cut_gap);
    es_json_kv_string(j, "source", p->user_cuts_given ? "user" : "detected");
    es_json_key(j, "peaks");
    es_json_begin_array(j);
    for (size_t i = 0; i < p->n_peaks; i++) {
        es_json_begin_object(j);
        es_json_kv_number(j, "time", p->peaks[i]);
        es_json_kv_number(j, "score", p->peak_scores[i]);
        es_json_end_object(j);
    }
    es_json_end_array(j);
    es_json_key(j, "boundaries");
    json_times(j, p->bounds, p->n_bounds);
    es_json_end_object(j);

    es_json_key(j, "emotion");
    es_json_begin_object(j);
    es_json_kv_string(j, "mode", p->fixed_mood ? "fixed" : p->emotion_per_video ? "video" : "scene");
    es_json_kv_string(j, "source", p->fixed_mood || p->n_given_moods ? "user" : "estimated");
    es_json_kv_string(j, "faces", p->faces_status);
    es_json_kv_number(j, "mood_contrast", p->mood_contrast);
    es_json_key(j, "scenes");
    es_json_begin_array(j);
    for (size_t s = 0; s < p->n_scenes; s++) {
        const es_scene_affect *sc = &p->scenes[s];
        es_json_begin_object(j);
        es_json_kv_number_exact(j, "start", sc->start);
        es_json_kv_number_exact(j, "end", sc->end);
        es_json_kv_number_exact(j, "valence", sc->valence);
        es_json_kv_number_exact(j, "arousal", sc->arousal);
        es_json_kv_number(j, "confidence", sc->confidence);
        es_json_key(j, "cues"); /* the terms valence and arousal are the sums of */
        es_json_begin_object(j);
        for (int axis = 0; axis < 2; axis++) {
            es_json_key(j, axis ? "arousal" : "valence");
            es_json_begin_object(j);
            for (int c = 0; c < ES_CUE_COUNT; c++)
                es_json_kv_number(j, es_cue_name((es_cue)c), axis ? sc->arousal_parts[c] : sc->valence_parts[c]);
            es_json_end_object(j);
        }
        es_json_end_object(j);
        es_json_key(j, "features");
        es_json_begin_object(j);
        es_json_kv_number(j, "brightness", sc->brightness);
        es_json_kv_number(j, "saturation", sc->saturation);
        es_json_kv_number(j, "colourfulness", sc->colourfulness);
        es_json_kv_number(j, "warmth", sc->warmth);
        es_json_kv_number(j, "motion", sc->motion);
        es_json_kv_number(j, "cut_rate", sc->cut_rate);
        es_json_kv_number(j, "loudness_lufs", sc->loudness_lufs);
        es_json_kv_number(j, "onset_rate", sc->onset_rate);
        es_json_end_object(j);
        es_json_key(j, "faces");
        es_json_begin_object(j);
        es_json_kv_int(j, "sampled_frames", (long long)sc->face_frames);
        es_json_kv_int(j, "looked_frames", (long long)sc->face_looks);
        es_json_kv_number(j, "per_frame", sc->faces_per_frame);
        es_json_kv_number(j, "largest_area", sc->face_area);
        es_json_kv_number(j, "weight", sc->face_weight);
        es_json_key(j, "expressions");
        es_json_begin_object(j);
        for (int e = 0; e < ES_EMO_COUNT; e++)
            es_json_kv_number(j, es_emotion_point_of((es_emotion)e)->name, sc->expressions[e]);
        es_json_end_object(j);
        es_json_end_object(j);
        es_json_end_object(j);
    }
    es_json_end_array(j);
    es_json_key(j, "used");
    es_json_begin_array(j);
    for (size_t m = 0; m < p->n_moods; m++) {
        es_json_begin_object(j);
        es_json_kv_number_exact(j, "start", p->moods[m].start);
        es_json_kv_number_exact(j, "valence", p->moods[m].valence);
        es_json_kv_number_exact(j, "arousal", p->moods[m].arousal);
        es_json_end_object(j);
    }
    es_json_end_array(j);
    es_json_end_object(j);

    if (p->composer_used) {
    es_json_key(j, "music");
    es_json_begin_object(j);
    es_json_kv_string(j, "composer", p->composer_used);
    es_json_kv_int(j, "seed", (long long)p->seed);
    es_json_kv_int(j, "notes", (long long)p->score.n_notes);
    es_json_key(j, "made_while_decoding");
    es_json_bool(j, p->composed_ahead == 1);
    if (p->model_used[0]) {
        const es_nn_hparams *h = &p->model_shape;
        es_json_key(j, "model");
        es_json_begin_object(j);
        es_json_kv_string(j, "path", p->model_used);
        es_json_kv_string(j, "source", p->model_source ? p->model_source : "option");
        es_json_kv_int(j, "layers", h->n_layers);
        es_json_kv_int(j, "d_model", h->d_model);
        es_json_kv_int(j, "heads", h->n_heads);
        es_json_kv_int(j, "d_ff", h->d_ff);
        es_json_kv_int(j, "context", h->context);
        es_json_kv_int(j, "vocab", h->vocab);
        es_json_end_object(j);
        es_json_key(j, "generation");
        es_json_begin_object(j);
        es_json_kv_string(j, "window", p->exact ? "exact" : "fast");
        es_json_kv_string(j, "boundaries", p->reference_boundaries ? "reference" : "landed");
        es_json_kv_int(j, "tokens", (long long)p->emsync.n_tokens);
        es_json_kv_number(j, "tokens_per_second", p->emsync.tokens_per_second);
        es_json_kv_number(j, "seconds", p->emsync.seconds);
        es_json_kv_int(j, "candidates", p->emsync.candidates);
        es_json_kv_number(j, "temperature", p->emsync.temperature);
        es_json_kv_number(j, "top_p", p->emsync.top_p);
        es_json_kv_number(j, "valence_guidance", p->emsync.guidance);
        es_json_kv_int(j, "chosen", p->emsync.chosen);
        es_json_kv_int(j, "scenes_chosen", p->emsync.scenes_chosen);
        es_json_kv_int(j, "boundaries_hit", (long long)p->emsync.boundaries_hit);
        es_json_kv_int(j, "boundaries_missed", (long long)(p->n_bounds - p->emsync.boundaries_hit));
        es_json_kv_int(j, "refills", p->emsync.refills);
        es_json_kv_int(j, "mood_changes", p->emsync.mood_changes);
        es_json_key(j, "capped");
        es_json_bool(j, p->emsync.capped);
        es_json_end_object(j);
    }
    es_json_key(j, "tempo");
    es_json_begin_array(j);
    for (size_t i = 0; i < p->score.n_tempos; i++) {
        es_json_begin_object(j);
        es_json_kv_number(j, "time", p->score.tempos[i].time);
        es_json_kv_number(j, "bpm", p->score.tempos[i].bpm);
        es_json_end_object(j);
    }
    es_json_end_array(j);
    es_json_key(j, "chords");
    es_json_begin_array(j);
    for (size_t i = 0; i < p->score.n_chords; i++) {
        es_json_begin_object(j);
        es_json_kv_number(j, "time", p->score.chords[i].time);
        es_json_kv_string(j, "name", p->score.chords[i].name);
        es_json_end_object(j);
    }
    es_json_end_array(j);
    es_json_kv_string(j, "soundfont", p->soundfont_used ? p->soundfont_used : "");
    es_json_kv_number(j, "loudness_before_lufs", p->measured_lufs);
    es_json_end_object(j);
    }

    es_json_key(j, "timings");
    es_json_begin_object(j);
    double total = 0;
    for (int i = 0; i < p->n_times; i++) {
        es_json_kv_number(j, p->times[i].name, p->times[i].seconds);
        /* the face worker's busy time overlaps the decode's wall time, and the analysis the
         * render's when the music was made ahead */
        const char *name = p->times[i].name;
        int beside = !strcmp(name, "faces_busy") ||
                     (p->composed_ahead == 1 && (!strcmp(name, "decode") || !strcmp(name, "faces_wait") ||
                                            !strcmp(name, "cuts") || !strcmp(name, "emotion")));
        if (!beside) total += p->times[i].seconds;
    }
    es_json_kv_number(j, "total", total);
    es_json_end_object(j);
    es_json_end_object(j);
}

typedef struct {
    const es_pipeline *p;
    const char *video, *midi, *wav;
} json_job;

void es_pipeline_print_json(const es_pipeline *p, FILE *f, const char *video, const char *midi, const char *wav)
{
    es_json j;
    es_json_init(&j, f, 1);
    json_report(p, &j, video, midi, wav);
}

static void json_stream(FILE *f, const void *user)
{
    const json_job *job = user;
    es_pipeline_print_json(job->p, f, job->video, job->midi, job->wav);
}

int es_pipeline_write_json(const es_pipeline *p, const char *path, const char *video, const char *midi,
                           const char *wav)
{
    json_job job = {p, video, midi, wav};
    return es_write_stream(path, json_stream, &job);
}

void es_pipeline_free(es_pipeline *p)
{
    es_media_analysis_free(&p->analysis);
    es_sampler_free(&p->sampler);
    es_face_model_free(p->face_model);
    free(p->peaks);
    free(p->peak_scores);
    free(p->bounds);
    free(p->starts);
    free(p->splits);
    free(p->scenes);
    free(p->moods);
    es_score_free(&p->score);
    es_emsync_report_free(&p->emsync);
    es_music_free(&p->music);
    memset(p, 0, sizeof *p);
}
