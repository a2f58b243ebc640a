/* The frame sampler and its face worker thread: every queued frame is analysed once and in order
 * (so results do not depend on thread timing), stopping without finishing joins the worker, freeing
 * never replaces the caller's error, and the thumbnail reservoir stays bounded. The face counts
 * come from the face-api reference (tests/data/faces: sample1.jpg has 3 faces). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/error.h"
#include "media/grab.h"
#include "pipeline/sampler.h"

#define FRAMES 9

/* Feeds the same picture FRAMES times, half a second apart, and finishes. With spans, a new
 * frame span starts at frame `split` (as the decoder would add one at a cut). */
static int run(es_face_model *model, const es_frame *f, es_sampler *s, es_frame_spans *spans, int split)
{
    if (es_sampler_init(s, model)) return -1;
    s->spans = spans;
    for (int i = 0; i < FRAMES; i++) {
        if (spans) spans->n = i < split ? 1 : 2;
        es_sampler_on_frame(s, 0.5 * i, f->rgb, f->width, f->height, f->stride);
    }
    return es_sampler_finish(s);
}

int main(void)
{
    /* a zeroed sampler and one without a model free cleanly */
    es_sampler z;
    memset(&z, 0, sizeof z);
    es_sampler_free(&z);
    CHECK(es_sampler_init(&z, NULL) == 0);
    CHECK(es_sampler_finish(&z) == 0 && es_sampler_finish(&z) == 0);
    es_sampler_free(&z);

    /* thumbnails only: 1000 frames a second apart keep at most ES_MAX_THUMBS, spaced wider */
    uint8_t small[8 * 6 * 3];
    for (size_t i = 0; i < sizeof small; i++) small[i] = (uint8_t)(i * 7);
    CHECK(es_sampler_init(&z, NULL) == 0);
    for (int i = 0; i < 1000; i++) es_sampler_on_frame(&z, i, small, 8, 6, 8 * 3);
    CHECK(es_sampler_finish(&z) == 0);
    CHECK(z.n_thumbs > 0 && z.n_thumbs <= ES_MAX_THUMBS);
    CHECK(z.thumb_interval >= 1000.0 / ES_MAX_THUMBS);
    const es_thumb *t = es_sampler_thumb_at(&z, 500);
    CHECK(t && t->width == 8 && t->height == 6 && t->time >= 500 - z.thumb_interval && t->time <= 500 + z.thumb_interval);
    es_sampler_free(&z);

    es_face_model *model = es_face_model_load(NULL);
    if (!model) {
        fprintf(stderr, "test_pipeline_sampler: face models not installed, worker checks skipped (%s)\n", es_error());
        return check_report("test_pipeline_sampler");
    }
    char path[1024];
    const char *root = getenv("ES_ROOT");
    snprintf(path, sizeof path, "%s/tests/data/faces/sample1.jpg", root ? root : ".");
    es_frame f = {0};
    CHECK(es_grab_frame(path, 0, &f) == 0);
    if (f.rgb) {
        /* every frame analysed, in the order queued, each with the reference's 3 faces */
        es_sampler a, b;
        CHECK(run(model, &f, &a, NULL, 0) == 0);
        CHECK(a.n_samples == FRAMES && a.n_groups == FRAMES); /* without spans, a group per sample */
        for (size_t i = 0; i < a.n_groups; i++) {
            CHECK(a.groups[i].start == 0.5 * (double)i);
            CHECK(a.groups[i].samples == 1 && a.groups[i].faces == 3);
        }
        /* a second run gives the same numbers bit for bit */
        CHECK(run(model, &f, &b, NULL, 0) == 0);
        CHECK(b.n_groups == a.n_groups && memcmp(a.groups, b.groups, a.n_groups * sizeof *a.groups) == 0);
        es_sampler_free(&b);

        /* with spans, the samples of each span are summed as they come, and a scene starting at
         * the second span gets what the samples inside it give one by one */
        es_frame_spans spans = {0};
        CHECK(run(model, &f, &b, &spans, 4) == 0);
        CHECK(b.n_samples == FRAMES && b.n_groups == 2);
        if (b.n_groups == 2) {
            CHECK(b.groups[0].samples == 4 && b.groups[0].faces == 12 && b.groups[1].start == 2.0);
            CHECK(b.groups[1].samples == 5 && b.groups[1].looks + b.groups[0].looks == FRAMES);
            es_scene_affect grouped[2] = {{.start = 0, .end = 2}, {.start = 2, .end = 4.5}};
            es_scene_affect single[2] = {{.start = 0, .end = 2}, {.start = 2, .end = 4.5}};
            es_sampler_apply(&b, grouped, 2);
            es_sampler_apply(&a, single, 2);
            for (int k = 0; k < 2; k++) {
                CHECK(grouped[k].face_frames == single[k].face_frames && grouped[k].face_frames == (k ? 5u : 4u));
                CHECK_NEAR(grouped[k].faces_per_frame, single[k].faces_per_frame, 1e-12);
                CHECK_NEAR(grouped[k].face_weight, single[k].face_weight, 1e-12);
                for (int e = 0; e < ES_EMO_COUNT; e++) CHECK_NEAR(grouped[k].expressions[e], single[k].expressions[e], 1e-12);
            }
            CHECK(grouped[0].faces_per_frame == 3 && grouped[0].face_weight > 0);
        }
        es_sampler_free(&a);
        es_sampler_free(&b);

        /* a decode that fails midway: frames still queued, no finish; free joins the worker
         * (ASan would see the leak or the use after free) and keeps the decoder's error */
        CHECK(es_sampler_init(&a, model) == 0);
        for (int i = 0; i < ES_SAMPLE_QUEUE + 2; i++) es_sampler_on_frame(&a, i, f.rgb, f.width, f.height, f.stride);
        es_fail("clip.mp4: read error");
        es_sampler_free(&a);
        CHECK(strcmp(es_error(), "clip.mp4: read error") == 0);
        CHECK(a.worker_running == 0 && a.n_samples == 0);
    }
    es_frame_free(&f);
    es_face_model_free(model);
    return check_report("test_pipeline_sampler");
}
