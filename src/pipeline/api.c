/* The public API (include/emsync.h): whole jobs built from the pipeline steps, with the output
 * rules every front end shares: destinations checked before any work, everything written
 * through temporary files, and what a failed run already wrote removed again. */
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audio/loudness.h"
#include "core/error.h"
#include "core/outfile.h"
#include "core/progress.h"
#include "emsync.h"
#include "media/mux.h"
#include "music/midi.h"
#include "pipeline/pipeline.h"
#include "pipeline/timeline.h"
#include "scene/cuts.h"

#define TARGET_LUFS (-16.0)
#define FADE_SECONDS 3.0

void emsync_options_default(emsync_options *o)
{
    memset(o, 0, sizeof *o);
    o->cut_threshold = ES_SCENE_THRESHOLD;
    o->min_cut_gap = ES_SCENE_MIN_GAP;
    o->faces = 1;
    o->mood_contrast = ES_MOOD_CONTRAST;
    o->candidates = 0; /* the model's default */
    o->seed = 1;
}

const char *emsync_version(void) { return ES_VERSION; }

const char *emsync_error(void) { return es_error(); }

void emsync_set_quiet(int quiet) { es_progress_quiet(quiet); }

/* Copies the options into a fresh pipeline. */
static void setup(es_pipeline *p, const char *input, const emsync_options *o)
{
    es_pipeline_init(p);
    p->input = input;
    p->cut_threshold = o->cut_threshold;
    p->min_cut_gap = o->min_cut_gap;
    p->user_cuts = o->cuts;
    p->n_user_cuts = o->n_cuts;
    p->user_cuts_given = o->cuts_given;
    p->emotion_per_video = o->emotion_per_video;
    p->faces = o->faces;
    p->mood_contrast = o->mood_contrast;
    p->fixed_mood = o->fixed_mood;
    p->fixed_valence = o->valence;
    p->fixed_arousal = o->arousal;
    p->given_moods = o->scene_moods;
    p->n_given_moods = o->n_scene_moods;
    p->seed = o->seed;
    p->composer = o->composer;
    p->model = o->model;
    p->exact = o->exact;
    p->reference_boundaries = o->reference_boundaries;
    p->candidates = o->candidates;
    p->temperature = o->temperature;
    p->top_p = o->top_p;
    p->guidance = o->guidance;
    p->soundfont = o->soundfont;
}

/* Refuses given cuts and moods the pipeline cannot take, before any work: both must ascend,
 * as every step after assumes. */
static int check_given(const emsync_options *o)
{
    if (o->n_cuts && !o->cuts) return es_fail("cuts: %zu announced, none given", o->n_cuts);
    for (size_t i = 0; i < o->n_cuts; i++) {
        if (!(o->cuts[i] >= 0 && isfinite(o->cuts[i])))
            return es_fail("cut %zu: must be a time in seconds >= 0, not %g", i, o->cuts[i]);
        if (i && o->cuts[i] < o->cuts[i - 1])
            return es_fail("cut %zu: at %g s, before the one before (%g s); the cuts must ascend", i, o->cuts[i],
                           o->cuts[i - 1]);
    }
    if (o->n_scene_moods && !o->scene_moods) return es_fail("scene moods: %zu announced, none given", o->n_scene_moods);
    for (size_t i = 0; i < o->n_scene_moods; i++) {
        const emsync_scene_mood *m = &o->scene_moods[i];
        if (!(m->start >= 0 && isfinite(m->start)))
            return es_fail("scene mood %zu: the start must be a time in seconds >= 0, not %g", i, m->start);
        if (i && !(m->start > o->scene_moods[i - 1].start))
            return es_fail("scene mood %zu: starts at %g, not after the one before (%g)", i, m->start,
                           o->scene_moods[i - 1].start);
        if (!(fabs(m->valence) <= 1 && fabs(m->arousal) <= 1))
            return es_fail("scene mood %zu: valence %g and arousal %g must be in [-1, 1]", i, m->valence, m->arousal);
    }
    return 0;
}

/* Containers the muxer writes; anything else becomes Matroska when the name is derived. */
/* The output container follows the input's where the muxer supports it, else Matroska. */
static const char *output_extension(const char *input, char *ext, int size)
{
    const char *format;
    int opus;
    es_path_ext(input, ext, size);
    if (es_mux_format(input, &format, &opus) == 0) return ext;
    es_error_clear();
    return "mkv";
}

static int mux_progress(void *user, double fraction)
{
    (void)user;
    es_progress_update(fraction);
    return 0;
}

typedef struct {
    const char *input, *t_out, *t_wav;
    es_original_audio original_audio;
} delivery;

/* The video with the music (and the WAV beside it), into the staged temporary paths; called
 * again when the music is made again, it replaces them. */
static int deliver(es_pipeline *src, void *user)
{
    const delivery *d = user;
    es_mux_request mux = {
        .input_path = d->input,
        .output_path = d->t_out,
        .read = es_music_pull,
        .read_user = src->music,
        .duration = src->analysis.info.duration,
        .original_audio = d->original_audio,
        .progress = mux_progress,
    };
    double t0 = es_now();
    es_progress_stage("mux");
    if ((d->t_wav && es_music_tee_wav(src->music, d->t_wav)) || es_mux(&mux) ||
        (d->t_wav && es_music_finish(src->music)))
        return -1;
    es_progress_done();
    es_pipeline_time(src, "mux", es_now() - t0);
    return 0;
}

static char *dup_path(const char *path)
{
    char *p = strdup(path);
    if (!p) es_fail("out of memory");
    return p;
}

char *es_score_output_path(const char *input, const char *dir)
{
    char ext[16], suffix[32];
    snprintf(suffix, sizeof suffix, ".emsync.%s", output_extension(input, ext, sizeof ext));
    return es_derive_path(dir, input, suffix);
}

char *es_score_side_path(const char *output, const char *suffix)
{
    /* beside OUT with OUT's stem: x.emsync.mp4 -> x.emsync.mid */
    char *copy = dup_path(output), *path = NULL;
    if (copy) {
        const char *dir = dirname(copy);
        path = es_derive_path(strcmp(dir, ".") ? dir : NULL, output, suffix);
    }
    free(copy);
    return path;
}

/* Adds path (when not NULL) to the set and stores its temp path in *temp. */
static int stage(es_outset *set, const char *path, const char **temp)
{
    *temp = NULL;
    if (!path) return 0;
    *temp = es_outset_add(set, path);
    return *temp ? 0 : -1;
}

int emsync_score(const char *input, const char *output, const char *midi, const char *wav,
                 const char *json, const char *svg, const emsync_options *o, char **written_output)
{
    es_pipeline p;
    setup(&p, input, o);
    es_outset set = {0};
    char *out = NULL, *mid = NULL;
    int rc = -1;
    if (check_given(o)) goto end;

    /* paths first, so a bad destination fails before minutes of work */
    out = output ? dup_path(output) : es_score_output_path(input, NULL);
    if (!out) goto end;
    mid = midi ? dup_path(midi) : es_score_side_path(out, ".mid");
    if (!mid) goto end;
    struct stat st;
    if (stat(input, &st) != 0) {
        es_fail("%s: %s", input, strerror(errno));
        goto end;
    }
    const char *dests[] = {out, mid, wav, json, svg};
    if (es_check_destinations(dests, 5, input, o->overwrite)) goto end;
    const char *format;
    int opus;
    if (es_mux_format(out, &format, &opus)) goto end;

    /* every output goes to a temporary file first; all are renamed into place together at the
     * end, so a failure or an interrupt leaves none of them */
    const char *t_out, *t_mid, *t_wav, *t_json, *t_svg;
    if (stage(&set, out, &t_out) || stage(&set, mid, &t_mid) || stage(&set, wav, &t_wav) ||
        stage(&set, json, &t_json) || stage(&set, svg, &t_svg))
        goto end;
    delivery d = {input, t_out, t_wav, (es_original_audio)o->original_audio};
    if (es_pipeline_score(&p, TARGET_LUFS, FADE_SECONDS, 1, deliver, &d)) goto end;

    double t0 = es_now();
    if (es_midi_write(&p.score, t_mid)) goto end;
    if (svg && es_timeline_write_svg(&p, t_svg)) goto end;
    es_pipeline_time(&p, "write", es_now() - t0);
    if (json && es_pipeline_write_json(&p, t_json, out, mid, wav)) goto end;
    if (es_outset_commit(&set)) goto end;
    es_progress_note("emsync: wrote %s (music: %s%s%s)", out, mid, wav ? ", " : "", wav ? wav : "");
    rc = 0;
    if (written_output) {
        *written_output = out;
        out = NULL;
    }
end:
    es_outset_abort(&set);
    es_pipeline_free(&p);
    free(out);
    free(mid);
    return rc;
}

int emsync_analyze(const char *input, const char *json, const char *svg, const emsync_options *o)
{
    es_pipeline p;
    setup(&p, input, o);
    es_outset set = {0};
    int rc = -1;
    const char *dests[] = {json, svg}, *t_json, *t_svg;
    if (check_given(o) || es_check_destinations(dests, 2, input, o->overwrite)) goto end;
    if (es_pipeline_analyze(&p)) goto end;
    if (stage(&set, json, &t_json) || stage(&set, svg, &t_svg)) goto end;
    if (svg && es_timeline_write_svg(&p, t_svg)) goto end;
    if (json) {
        if (es_pipeline_write_json(&p, t_json, NULL, NULL, NULL)) goto end;
    } else {
        es_pipeline_print_json(&p, stdout, NULL, NULL, NULL);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            es_fail("stdout: write failed");
            goto end;
        }
    }
    if (es_outset_commit(&set)) goto end;
    rc = 0;
end:
    es_outset_abort(&set);
    es_pipeline_free(&p);
    return rc;
}

int emsync_compose(double duration, const char *midi, const char *wav, const char *json, const emsync_options *o)
{
    es_pipeline p;
    setup(&p, NULL, o);
    es_outset set = {0};
    int rc = -1;
    const char *dests[] = {midi, wav, json}, *t_mid, *t_wav, *t_json;
    if (!midi) {
        es_fail("compose: no MIDI path given");
        goto end;
    }
    if (!(duration > 0 && duration <= EMSYNC_MAX_COMPOSE_SECONDS)) {
        es_fail("compose: the duration must be in (0, %.0f] seconds, not %g", EMSYNC_MAX_COMPOSE_SECONDS, duration);
        goto end;
    }
    if (check_given(o) || es_check_destinations(dests, 3, NULL, o->overwrite)) goto end;
    if (es_pipeline_plan(&p, duration, o->cuts, o->n_cuts, o->fixed_mood ? o->valence : 0,
                         o->fixed_mood ? o->arousal : 0))
        goto end;
    if (es_pipeline_compose(&p)) goto end;
    if (wav && es_pipeline_render(&p, TARGET_LUFS, FADE_SECONDS)) goto end;
    if (stage(&set, midi, &t_mid) || stage(&set, wav, &t_wav) || stage(&set, json, &t_json)) goto end;
    if (es_midi_write(&p.score, t_mid)) goto end;
    if (wav && (es_music_tee_wav(p.music, t_wav) || es_music_finish(p.music))) goto end;
    if (json && es_pipeline_write_json(&p, t_json, NULL, midi, wav)) goto end;
    if (es_outset_commit(&set)) goto end;
    es_progress_note("emsync: wrote %s (%s composer, %zu notes)", midi, p.composer_used, p.score.n_notes);
    rc = 0;
end:
    es_outset_abort(&set);
    es_pipeline_free(&p);
    return rc;
}
