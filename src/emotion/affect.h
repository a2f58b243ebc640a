/* Per-scene affect features and their fusion into valence and arousal.
 *
 * Features come from the one decode pass (media/decode.h): colour (brightness, saturation,
 * colourfulness, warmth), motion, cut rate, audio loudness and onset rate, and, when the face
 * nets ran, facial expressions. The fusion model (documented in docs/emotion.md):
 *   valence: colour pleasure per Valdez & Mehrabian (1994), P = 0.69 B + 0.22 S on standardised
 *            brightness and saturation, nudged by warmth (Wilms & Oberfeld 2018), and, where faces
 *            were seen, the expression probabilities through EMSYNC's Russell-Mehrabian table,
 *            weighted by face size and detector confidence;
 *   arousal: a Hanjalic & Xu (2005) style mix of normalised motion activity, cut rate and sound
 *            energy, plus colour arousal A = -0.31 B + 0.60 S, and faces likewise.
 * Short scenes carry less evidence, so their estimates are shrunk toward the whole video's
 * (confidence-weighted), which steadies noise without blurring a change between long scenes.
 * A scene shorter than ES_MIN_MOOD_SCENE takes the mood of its longer neighbour. */
#ifndef ES_AFFECT_H
#define ES_AFFECT_H

#include <stddef.h>

#include "emotion/ekman.h"
#include "media/decode.h"

/* The terms a scene's valence and arousal are the sum of, so a user can see why a scene reads
 * as it does. base: arousal's floor when nothing excites; video: the pull toward the video's
 * mood (shrinkage by confidence and --mood-contrast); limit: what clipping to [-1, 1] took. */
typedef enum {
    ES_CUE_COLOUR, ES_CUE_WARMTH, ES_CUE_MOTION, ES_CUE_CUTS, ES_CUE_LOUDNESS, ES_CUE_ONSETS,
    ES_CUE_FACES, ES_CUE_BASE, ES_CUE_VIDEO, ES_CUE_LIMIT, ES_CUE_COUNT
} es_cue;

const char *es_cue_name(es_cue c);

typedef struct {
    double start, end;          /* seconds */
    size_t n_frames;
    double brightness, saturation, colourfulness, warmth, motion; /* frame means (decode.h units) */
    double cut_rate;            /* scene-score peaks above the threshold per minute */
    double loudness_lufs;       /* energy mean of the momentary loudness; -100 when silent or no audio */
    double onset_rate;          /* audio onsets per second */
    /* faces, filled by the caller when the face nets ran (face_weight 0 = none seen) */
    size_t face_frames;         /* sampled frames in the scene */
    size_t face_looks;          /* of them, frames the face nets ran on (the rest hold a look) */
    double faces_per_frame;     /* mean faces per sampled frame */
    double face_area;           /* mean share of the frame covered by the largest face */
    double face_weight;         /* sum of size x confidence over faces seen */
    double expressions[ES_EMO_COUNT]; /* weighted mean expression probabilities */
    /* fused estimate */
    double valence, arousal;    /* [-1, 1] */
    double confidence;          /* 0..1 */
    double valence_parts[ES_CUE_COUNT], arousal_parts[ES_CUE_COUNT]; /* sum to valence, arousal */
} es_scene_affect;

/* Splits the analysis at `starts` (ascending seconds in (0, duration), holding every boundary)
 * into n_starts + 1 mood scenes over [0, duration] and measures each scene's features from its
 * frame spans (a->spans: an analysis made with reduce_frames, split at cut_threshold or below
 * and at the boundaries that are not cuts, so each scene is a whole number of spans). The cut
 * rate is a property of the section between two boundaries (`bounds`) that holds the scene:
 * cuts inside a section, over cut_threshold, per minute of it, so that a shot of its own still
 * reads how fast its section is cut. Faces are left empty. *out is new (free with free()).
 * Returns 0, or -1 (spans split above cut_threshold would hide cuts: refused). */
int es_affect_scenes(const es_media_analysis *a, const double *starts, size_t n_starts, const double *bounds,
                     size_t n_bounds, double cut_threshold, es_scene_affect **out, size_t *n_out);

/* Default mood contrast. Shrinking toward the video's mood keeps 63-77% of a 3-5 s scene's own
 * estimate (its confidence); stretching by 1.5 gives such scenes back their full distance from
 * the video's mood, so shrinkage ranks scenes by evidence without narrowing the range the
 * music gets, while a half-second scene (keep 0.45) still moves less than its own estimate. */
#define ES_MOOD_CONTRAST 1.5

/* Seconds a scene needs to get a mood of its own. */
#define ES_MIN_MOOD_SCENE 1.0

/* Fuses each scene's features into valence, arousal and confidence (see above), then stretches
 * each scene's distance from the video's mood by contrast (1: as estimated; ES_MOOD_CONTRAST
 * by default in the pipeline). */
void es_affect_fuse(es_scene_affect *scenes, size_t n, double contrast);

/* One pair for the whole video: the duration- and confidence-weighted mean of the scenes. */
void es_affect_video(const es_scene_affect *scenes, size_t n, double *valence, double *arousal);

#endif
