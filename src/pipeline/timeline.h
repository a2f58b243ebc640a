/* The SVG timeline: a thumbnail per scene, the valence and arousal curves, the cuts, (after
 * composing) the chord onsets, and each scene's cue terms (why it reads as it does), on one time
 * axis. Self-contained: thumbnails are embedded PNGs. */
#ifndef ES_TIMELINE_H
#define ES_TIMELINE_H

#include "pipeline/pipeline.h"

/* Writes the timeline of an analysed (and possibly composed) pipeline to path through a
 * temporary file. Returns 0 or -1 with an error naming the path. */
int es_timeline_write_svg(const es_pipeline *p, const char *path);

#endif
