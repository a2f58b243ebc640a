/* Scene cuts from per-frame scene scores (SPEC §4): a cut wherever the score exceeds the
 * threshold, at that frame's time; then thinning into boundaries: keep the first cut and every
 * later cut at least min_gap seconds after the last kept one. Pure functions, no I/O. */
#ifndef ES_SCENE_CUTS_H
#define ES_SCENE_CUTS_H

#include <stddef.h>

#include "media/decode.h"

#define ES_SCENE_THRESHOLD 0.27 /* EMSYNC's cut threshold on the select scene score */
#define ES_SCENE_MIN_GAP   4.0  /* seconds between kept boundaries */

/* Times of the frames whose scene score is strictly greater than threshold (in frame order),
 * and those times thinned with min_gap (a cut exactly min_gap after the last kept one is kept).
 * Either output pair may be NULL when not wanted. On success the arrays are newly allocated
 * (NULL when empty) and the caller frees them with free(). Returns 0, or -1 (out of memory, or a
 * negative / non-finite min_gap or threshold) with nothing allocated. */
int es_scene_cuts(const es_frame_stats *frames, size_t n, double threshold, double min_gap,
                  double **peaks, size_t *n_peaks, double **bounds, size_t *n_bounds);

/* The thinning step alone on ascending times: writes the kept times to out (which may be times
 * itself) and returns how many were kept. */
size_t es_scene_thin(const double *times, size_t n, double min_gap, double *out);

#endif
