/* The built-in `rules` composer: music for a video without any model download.
 *
 * The piece is cut into sections at the boundaries (and at mood changes away from boundaries).
 * Each section gets a whole number of beats and the tempo that makes them fill it exactly, one
 * tempo-map entry per section; bars are 4/4 with a shorter last bar when needed (the MIDI writer
 * notates it), so every boundary is a downbeat. Valence picks the mode and progression (bright
 * major ... modal mixture ... minor with diminished colour) and raises tempo, loudness and
 * register; arousal drives the tempo, density, texture, loudness and articulation (Eerola,
 * Friberg & Bresin 2013: mode first, then tempo, register, dynamics, articulation; the effects
 * are additive). Every cue moves continuously: each bar takes one of the two nearest harmony
 * classes and texture levels in the share the mood's position between them says. Every boundary gets a chord change and an accent (crash,
 * bass, full chord); sections of two bars or more lead into cuts with a cadential chord (V; bVII
 * in the modal middle; ii° when dark) and a fill; the piece ends on a held tonic that stops at
 * the duration. A motif drawn once per piece recurs in every scene. Voicings move by the
 * smallest steps, the melody avoids parallel octaves with the bass, one key never sounds twice
 * at once, and the texture stays about as thick as in real ensemble songs (docs/metrics.md). */
#ifndef ES_RULES_H
#define ES_RULES_H

#include "music/compose.h"

/* Composes req into *out (overwritten; free with es_score_free). Same request and seed give the
 * same score. NaN valence/arousal count as 0; boundaries outside (0, duration) are ignored.
 * Returns 0, or -1 (bad request: duration not in (0, 4 h], no moods, boundaries not ascending;
 * out of memory) with *out empty. */
int es_compose_rules(const es_compose_request *req, es_score *out);

#endif
