/* A piano-roll picture of a score as SVG: time on x, pitch on y, one colour per instrument with a
 * legend, the drums in a lane of their own (one row per drum sound used), the boundaries (cuts)
 * as vertical marks across the whole roll and the chord names along the top. Made to be looked
 * at (docs, debugging a composer) and checked by a test: every note is one
 * <rect class="note ...">, every boundary one <line class="boundary">. */
#ifndef ES_PIANOROLL_H
#define ES_PIANOROLL_H

#include <stddef.h>

#include "music/score.h"

/* Writes the piano roll of s with the n boundaries (seconds; may be NULL when n is 0; those
 * outside [0, duration] are not drawn) to path through a temporary file that is renamed into
 * place. The time span is the score's duration, else its last note end. Returns 0, or -1 with
 * an error naming the path (empty score with no duration, cannot write). */
int es_pianoroll_write_svg(const es_score *s, const double *boundaries, size_t n, const char *path);

#endif
