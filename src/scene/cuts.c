/* Cut picking and thinning over the per-frame scene scores. */
#include <math.h>
#include <stdlib.h>

#include "core/error.h"
#include "scene/cuts.h"

size_t es_scene_thin(const double *times, size_t n, double min_gap, double *out)
{
    size_t kept = 0;
    double last = 0;
    for (size_t i = 0; i < n; i++) {
        double t = times[i];
        if (kept == 0 || t - last >= min_gap) {
            out[kept++] = t;
            last = t;
        }
    }
    return kept;
}

int es_scene_cuts(const es_frame_stats *frames, size_t n, double threshold, double min_gap,
                  double **peaks, size_t *n_peaks, double **bounds, size_t *n_bounds)
{
    double *p = NULL, *b = NULL;
    size_t np = 0;
    int rc = -1;
    if (peaks) { *peaks = NULL; *n_peaks = 0; }
    if (bounds) { *bounds = NULL; *n_bounds = 0; }
    if (!isfinite(threshold) || !isfinite(min_gap) || min_gap < 0)
        return es_fail("scene cuts: invalid threshold %g or minimum gap %g", threshold, min_gap);

    /* Scores are stored as float: compare at float precision so that a score equal to the
     * threshold is not a cut. */
    float thr = (float)threshold;
    for (size_t i = 0; i < n; i++) np += frames[i].scene > thr;
    if (np == 0) return 0;
    if (!(p = es_malloc(np * sizeof *p))) goto end;
    np = 0;
    for (size_t i = 0; i < n; i++)
        if (frames[i].scene > thr) p[np++] = frames[i].time;

    if (bounds) {
        if (!(b = es_malloc(np * sizeof *b))) goto end;
        *n_bounds = es_scene_thin(p, np, min_gap, b);
        *bounds = b;
        b = NULL;
    }
    if (peaks) {
        *peaks = p;
        *n_peaks = np;
        p = NULL;
    }
    rc = 0;
end:
    free(b);
    free(p);
    return rc;
}
