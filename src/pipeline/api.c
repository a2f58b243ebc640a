/* The public API (include/emsync.h): whole jobs built from the pipeline steps, with the output
 * rules every front end shares: destinations checked before any work, everything written
 * through temporary files, and what a failed run already wrote removed again. */
#include <errno.h>
#include <libgen.h>
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
    o->candidates = 1;
    o->seed = 1;
}

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
    p->fixed_mood = o->fixed_mood;
    p->fixed_valence = o->valence;
    p->fixed_arousal = o->arousal;
    p->seed = o->seed;
    p->composer = o->composer;
    p->model = o->model;
    p->exact = o->exact;
    p->candidates = o->candidates;
    p->soundfont = o->soundfont;
}

/* Checks a list of destinations (NULL entries skipped): none twice, none the input. */
static int check_destinations(const char *const *dests, size_t n, const char *input, int overwrite)
{
    for (size_t i = 0; i < n; i++) {
        if (!dests[i]) continue;
        for (size_t k = 0; k < i; k++)
            if (dests[k] && !strcmp(dests[k], dests[i])) return es_fail("%s: named for two outputs", dests[i]);
        if (es_check_destination(dests[i], input, overwrite)) return -1;
    }
    return 0;
}

/* The output container follows the input's where the muxer supports it, else Matroska. */
static const char *output_extension(const char *input, char *ext, int size)
{
    es_path_ext(input, ext, size);
    const char *keep[] = {"mp4", "m4v", "mov", "mkv", "webm"};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        if (!strcmp(ext, keep[i])) return ext;
    return "mkv";
}

static int mux_progress(void *user, double fraction)
{
    (void)user;
    es_progress_update(fraction);
    return 0;
}

int emsync_score(const char *input, const char *output, const char *midi, const char *wav,
                 const char *json, const char *svg, const emsync_options *o, char **written_output)
{
    es_pipeline p;
    setup(&p, input, o);
    char *out = NULL, *mid = NULL;
    const char *written[5];
    size_t n_written = 0;
    int rc = -1;

    /* paths first, so a bad destination fails before minutes of work */
    if (output) out = strdup(output);
    else {
        char ext[16], suffix[32];
        snprintf(suffix, sizeof suffix, ".emsync.%s", output_extension(input, ext, sizeof ext));
        out = es_derive_path(NULL, input, suffix);
    }
    if (!out) goto end;
    if (midi) mid = strdup(midi);
    else {
        /* beside OUT with OUT's stem: x.emsync.mp4 -> x.emsync.mid */
        char *copy = strdup(out);
        if (copy) {
            const char *dir = dirname(copy);
            mid = es_derive_path(strcmp(dir, ".") ? dir : NULL, out, ".mid");
        }
        free(copy);
    }
    if (!mid) goto end;
    struct stat st;
    if (stat(input, &st) != 0) {
        es_fail("%s: %s", input, strerror(errno));
        goto end;
    }
    const char *dests[] = {out, mid, wav, json, svg};
    if (check_destinations(dests, 5, input, o->overwrite)) goto end;

    if (es_pipeline_analyze(&p) || es_pipeline_compose(&p) || es_pipeline_render(&p, TARGET_LUFS, FADE_SECONDS))
        goto end;

    /* the video, then the side files; a failure removes what this run wrote */
    es_mux_request mux = {
        .input_path = input,
        .output_path = out,
        .pcm = p.pcm,
        .n_frames = p.n_pcm_frames,
        .duration = p.analysis.info.duration,
        .original_audio = (es_original_audio)o->original_audio,
        .progress = mux_progress,
    };
    double t0 = es_now();
    es_progress_stage("mux");
    if (es_mux(&mux)) goto end;
    es_progress_done();
    es_pipeline_time(&p, "mux", es_now() - t0);
    written[n_written++] = out;

    t0 = es_now();
    if (es_midi_write(&p.score, mid)) goto end;
    written[n_written++] = mid;
    if (wav) {
        if (es_wav_write(wav, p.pcm, p.n_pcm_frames, ES_MUX_RATE)) goto end;
        written[n_written++] = wav;
    }
    if (svg) {
        if (es_timeline_write_svg(&p, svg)) goto end;
        written[n_written++] = svg;
    }
    es_pipeline_time(&p, "write", es_now() - t0);
    if (json) {
        if (es_pipeline_write_json(&p, json, out, mid, wav)) goto end;
        written[n_written++] = json;
    }
    es_progress_note("emsync: wrote %s (music: %s%s%s)", out, mid, wav ? ", " : "", wav ? wav : "");
    rc = 0;
    if (written_output) {
        *written_output = out;
        out = NULL;
    }
end:
    if (rc)
        for (size_t i = 0; i < n_written; i++) unlink(written[i]);
    es_pipeline_free(&p);
    free(out);
    free(mid);
    return rc;
}

int emsync_analyze(const char *input, const char *json, const char *svg, const emsync_options *o)
{
    es_pipeline p;
    setup(&p, input, o);
    int rc = -1;
    const char *dests[] = {json, svg};
    if (check_destinations(dests, 2, input, o->overwrite)) goto end;
    if (es_pipeline_analyze(&p)) goto end;
    if (svg && es_timeline_write_svg(&p, svg)) goto end;
    if (json) {
        if (es_pipeline_write_json(&p, json, NULL, NULL, NULL)) {
            if (svg) unlink(svg);
            goto end;
        }
    } else {
        es_pipeline_print_json(&p, stdout, NULL, NULL, NULL);
        if (fflush(stdout) != 0) {
            es_fail("stdout: write failed");
            goto end;
        }
    }
    rc = 0;
end:
    es_pipeline_free(&p);
    return rc;
}

int emsync_compose(double duration, const char *midi, const char *wav, const char *json, const emsync_options *o)
{
    es_pipeline p;
    setup(&p, NULL, o);
    int rc = -1;
    const char *written[3];
    size_t n_written = 0;
    const char *dests[] = {midi, wav, json};
    if (check_destinations(dests, 3, "", o->overwrite)) goto end;
    if (es_pipeline_plan(&p, duration, o->cuts, o->n_cuts, o->fixed_mood ? o->valence : 0,
                         o->fixed_mood ? o->arousal : 0))
        goto end;
    if (es_pipeline_compose(&p)) goto end;
    if (wav && es_pipeline_render(&p, TARGET_LUFS, FADE_SECONDS)) goto end;
    if (es_midi_write(&p.score, midi)) goto end;
    written[n_written++] = midi;
    if (wav) {
        if (es_wav_write(wav, p.pcm, p.n_pcm_frames, ES_MUX_RATE)) goto end;
        written[n_written++] = wav;
    }
    if (json) {
        if (es_pipeline_write_json(&p, json, NULL, midi, wav)) goto end;
        written[n_written++] = json;
    }
    es_progress_note("emsync: wrote %s (%s composer, %zu notes)", midi, p.composer_used, p.score.n_notes);
    rc = 0;
end:
    if (rc)
        for (size_t i = 0; i < n_written; i++) unlink(written[i]);
    es_pipeline_free(&p);
    return rc;
}
