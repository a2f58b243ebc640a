/* Cut picking and thinning (SPEC §4): strict threshold, first cut kept, later cuts kept only at
 * least min_gap after the last kept one (not after the last cut seen), empty input, bad args. */
#include <stdlib.h>

#include "check.h"
#include "scene/cuts.h"

static es_frame_stats fr(double t, float scene)
{
    es_frame_stats f = {0};
    f.time = t;
    f.scene = scene;
    return f;
}

static void test_cuts_clip_like(void)
{
    /* cuts.mp4's layout: 25 fps, cuts at 5, 7, 12, 17 s; small noise elsewhere */
    es_frame_stats f[500];
    for (int i = 0; i < 500; i++) f[i] = fr(i / 25.0, 0.01f);
    f[125].scene = 0.9f; f[175].scene = 0.5f; f[300].scene = 0.3f; f[425].scene = 1.0f;
    double *p = NULL, *b = NULL;
    size_t np = 0, nb = 0;
    CHECK(es_scene_cuts(f, 500, ES_SCENE_THRESHOLD, ES_SCENE_MIN_GAP, &p, &np, &b, &nb) == 0);
    CHECK(np == 4 && p && p[0] == 5.0 && p[1] == 7.0 && p[2] == 12.0 && p[3] == 17.0);
    CHECK(nb == 3 && b && b[0] == 5.0 && b[1] == 12.0 && b[2] == 17.0);
    free(p);
    free(b);
}

static void test_threshold_edges(void)
{
    es_frame_stats f[4] = {fr(0, 0.27f), fr(1, 0.2700001f), fr(2, 0.26999f), fr(3, 1.0f)};
    double *p = NULL;
    size_t np = 0;
    /* a score equal to the threshold is not a cut */
    CHECK(es_scene_cuts(f, 4, 0.27, 4.0, &p, &np, NULL, NULL) == 0);
    CHECK(np == 2 && p[0] == 1.0 && p[1] == 3.0);
    free(p);
    /* threshold 1: nothing can exceed it */
    CHECK(es_scene_cuts(f, 4, 1.0, 4.0, &p, &np, NULL, NULL) == 0 && np == 0 && p == NULL);
    /* threshold 0: every frame with any score */
    CHECK(es_scene_cuts(f, 4, 0.0, 4.0, &p, &np, NULL, NULL) == 0 && np == 4);
    free(p);
}

static void test_thinning(void)
{
    double t[] = {1.0, 2.0, 4.9, 5.0, 8.9, 9.0, 9.5, 20.0};
    double out[8];
    /* kept: 1; 2 and 4.9 are too close; 5.0 is exactly 4 s later (kept); 8.9 too close to 5;
     * 9.0 exactly 4 s after 5.0 (kept); 9.5 too close; 20 kept */
    size_t n = es_scene_thin(t, 8, 4.0, out);
    CHECK(n == 4 && out[0] == 1.0 && out[1] == 5.0 && out[2] == 9.0 && out[3] == 20.0);
    /* the gap counts from the last KEPT cut: a chain of cuts 3 s apart keeps every other one */
    double chain[] = {0, 3, 6, 9, 12};
    n = es_scene_thin(chain, 5, 4.0, out);
    CHECK(n == 3 && out[0] == 0 && out[1] == 6 && out[2] == 12);
    /* gap 0 keeps everything; in place works */
    n = es_scene_thin(chain, 5, 0.0, chain);
    CHECK(n == 5 && chain[4] == 12);
    CHECK(es_scene_thin(t, 0, 4.0, out) == 0);
    CHECK(es_scene_thin(t, 1, 100.0, out) == 1 && out[0] == 1.0);
    /* a cut at time 0 is kept like any first cut */
    double z[] = {0.0, 3.9, 4.0};
    n = es_scene_thin(z, 3, 4.0, out);
    CHECK(n == 2 && out[0] == 0.0 && out[1] == 4.0);
}

static void test_empty_and_bad(void)
{
    double *p = (double *)1, *b = (double *)1;
    size_t np = 9, nb = 9;
    CHECK(es_scene_cuts(NULL, 0, 0.27, 4.0, &p, &np, &b, &nb) == 0);
    CHECK(p == NULL && np == 0 && b == NULL && nb == 0);
    es_frame_stats f[1] = {fr(0, 0.5f)};
    CHECK(es_scene_cuts(f, 1, 0.27, -1.0, &p, &np, &b, &nb) != 0 && p == NULL && b == NULL);
    CHECK(es_scene_cuts(f, 1, NAN, 4.0, &p, &np, &b, &nb) != 0);
    CHECK(es_scene_cuts(f, 1, 0.27, INFINITY, &p, &np, &b, &nb) != 0);
    /* only the boundaries asked for */
    CHECK(es_scene_cuts(f, 1, 0.27, 4.0, NULL, NULL, &b, &nb) == 0 && nb == 1 && b[0] == 0.0);
    free(b);
}

int main(void)
{
    test_cuts_clip_like();
    test_threshold_edges();
    test_thinning();
    test_empty_and_bad();
    return check_report("test_scene_cuts");
}
