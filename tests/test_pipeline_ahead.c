/* es_pipeline_score with the music made and delivered while the video decodes: the same notes,
 * chords and delivered samples as the plain order (analyse, compose, render, deliver), both when
 * the stated duration holds (the music made ahead is kept, delivered once) and when the decoded
 * picture is shorter than the header says (half-faststart.mp4 states 20 s and decodes 3.92 s:
 * the music is made and delivered again, and the last delivery is the plain one), with the
 * built-in composer and with the bundled model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/error.h"
#include "core/progress.h"
#include "pipeline/pipeline.h"

static const double cuts[] = {5.0, 9.5};
static const emsync_scene_mood moods[] = {{0, 0.5, 0.2}, {9.5, -0.6, 0.7}};

/* What a delivery saw: every sample of the music, and the duration it was given. */
typedef struct {
    int calls;
    float *pcm;
    size_t frames;
    double duration;
} delivered;

static int take_samples(es_pipeline *src, void *user)
{
    delivered *d = user;
    d->calls++;
    free(d->pcm);
    d->pcm = NULL;
    d->frames = 0;
    d->duration = src->analysis.info.duration;
    int64_t n = es_music_frames(src->music);
    if (!(d->pcm = malloc(2 * (size_t)n * sizeof *d->pcm + 1))) return -1;
    long got;
    while ((got = es_music_read(src->music, d->pcm + 2 * d->frames, (size_t)(n - (int64_t)d->frames))) > 0)
        d->frames += (size_t)got;
    return got < 0 ? -1 : 0;
}

static int score_delivered(const char *clip, emsync_composer composer, int ahead, es_pipeline *p, delivered *d)
{
    es_pipeline_init(p);
    p->input = clip;
    p->cut_threshold = 0.27;
    p->min_cut_gap = 4;
    p->user_cuts = cuts;
    p->n_user_cuts = 2;
    p->user_cuts_given = 1;
    p->given_moods = moods;
    p->n_given_moods = 2;
    p->mood_contrast = 1.5;
    p->seed = 7;
    p->composer = composer;
    p->candidates = 1;
    int rc = es_pipeline_score(p, -16, 3, ahead, d ? take_samples : NULL, d);
    if (rc) fprintf(stderr, "%s: %s\n", clip, es_error());
    return rc;
}

static int score(const char *clip, emsync_composer composer, int ahead, es_pipeline *p)
{
    return score_delivered(clip, composer, ahead, p, NULL);
}

/* 1 when both hold the same score and the same finished samples. */
static int same_music(es_pipeline *a, es_pipeline *b)
{
    const es_score *x = &a->score, *y = &b->score;
    if (x->n_notes != y->n_notes || x->n_chords != y->n_chords || x->n_tempos != y->n_tempos) return 0;
    for (size_t i = 0; i < x->n_notes; i++) {
        const es_note *m = &x->notes[i], *n = &y->notes[i];
        if (m->start != n->start || m->end != n->end || m->pitch != n->pitch || m->velocity != n->velocity ||
            m->instrument != n->instrument)
            return 0;
    }
    for (size_t i = 0; i < x->n_chords; i++)
        if (x->chords[i].time != y->chords[i].time || strcmp(x->chords[i].name, y->chords[i].name)) return 0;
    if (es_music_frames(a->music) != es_music_frames(b->music)) return 0;
    static float u[2 * 4096], v[2 * 4096];
    long n, m;
    while ((n = es_music_read(a->music, u, 4096)) > 0) {
        m = es_music_read(b->music, v, 4096);
        if (m != n || memcmp(u, v, 2 * (size_t)n * sizeof *u)) return 0;
    }
    return n == 0 && es_music_read(b->music, v, 4096) == 0;
}

static void check_clip(const char *name, emsync_composer composer, int ahead_result)
{
    char clip[1024];
    snprintf(clip, sizeof clip, "%s/%s", test_data_dir(), name);
    es_pipeline plain, ahead;
    CHECK(score(clip, composer, 0, &plain) == 0);
    CHECK(score(clip, composer, 1, &ahead) == 0);
    CHECK(plain.composed_ahead == 0);
    CHECK(ahead.composed_ahead == ahead_result);
    CHECK(plain.analysis.info.duration == ahead.analysis.info.duration);
    CHECK(plain.score.n_notes > 0 && same_music(&plain, &ahead));
    CHECK(!strcmp(plain.composer_used, ahead.composer_used));
    es_pipeline_free(&plain);
    es_pipeline_free(&ahead);

    /* delivered: once in the plain order; ahead, once when kept and twice when made again, the
     * last time with the decoded duration and the plain order's samples */
    delivered dp = {0}, da = {0};
    CHECK(score_delivered(clip, composer, 0, &plain, &dp) == 0 && dp.calls == 1);
    CHECK(score_delivered(clip, composer, 1, &ahead, &da) == 0 && da.calls == (ahead_result == 1 ? 1 : 2));
    CHECK(dp.frames > 0 && dp.frames == (size_t)es_music_frames(plain.music) && da.frames == dp.frames);
    CHECK(da.duration == plain.analysis.info.duration && dp.duration == da.duration);
    CHECK(dp.pcm && da.pcm && !memcmp(dp.pcm, da.pcm, 2 * dp.frames * sizeof *dp.pcm));
    free(dp.pcm);
    free(da.pcm);
    es_pipeline_free(&plain);
    es_pipeline_free(&ahead);
}

int main(void)
{
    es_progress_quiet(1);
    char clip[1024];
    const char *root = getenv("ES_ROOT");
    snprintf(clip, sizeof clip, "%s/models/emsync-pop909.pt", root ? root : ".");
    setenv("EMSYNC_MODEL", clip, 1);
    check_clip("cuts.mp4", EMSYNC_COMPOSER_RULES, 1);
    check_clip("half-faststart.mp4", EMSYNC_COMPOSER_RULES, -1);
    check_clip("cuts.mp4", EMSYNC_COMPOSER_EMSYNC, 1); /* the bundled model */

    /* a header far longer than the limit (gap2h.ts states 2 hours, its picture lasts seconds),
     * or estimated moods: nothing is made ahead */
    es_pipeline p;
    snprintf(clip, sizeof clip, "%s/gap2h.ts", test_data_dir());
    CHECK(score(clip, EMSYNC_COMPOSER_RULES, 1, &p) == 0 && p.composed_ahead == 0);
    CHECK(p.analysis.info.duration < ES_COMPOSE_AHEAD_MAX);
    es_pipeline_free(&p);
    snprintf(clip, sizeof clip, "%s/cuts.mp4", test_data_dir());
    es_pipeline_init(&p);
    p.input = clip;
    p.cut_threshold = 0.27;
    p.min_cut_gap = 4;
    p.composer = EMSYNC_COMPOSER_RULES;
    CHECK(es_pipeline_score(&p, -16, 3, 1, NULL, NULL) == 0 && p.composed_ahead == 0 && p.n_bounds > 0);
    es_pipeline_free(&p);

    /* not a video: the analysis's own error, and no music */
    snprintf(clip, sizeof clip, "%s/text.txt", test_data_dir());
    CHECK(score(clip, EMSYNC_COMPOSER_RULES, 1, &p) != 0 && strstr(es_error(), "text.txt") && !p.music);
    es_pipeline_free(&p);
    return check_report("test_pipeline_ahead");
}
