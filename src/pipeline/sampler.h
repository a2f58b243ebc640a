/* What the decode pass hands over at a low frame rate: faces with their expressions (when the
 * face models are installed) and small thumbnails for the timeline. Faces are summarised per
 * sampled frame and later averaged per scene; thumbnails are kept at a spacing that widens as
 * the video gets longer, so memory stays bounded. */
#ifndef ES_SAMPLER_H
#define ES_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "emotion/affect.h"
#include "emotion/faces.h"

#define ES_SAMPLE_FPS 2.0        /* frames a second given to the face nets */
#define ES_SAMPLE_MAX_WIDTH 640  /* plenty for the detector's 416 px input */
#define ES_THUMB_WIDTH 160
#define ES_MAX_THUMBS 256

typedef struct {
    double time;
    int faces;                          /* faces found */
    double largest_area;                /* share of the frame covered by the largest face */
    double weight;                      /* sum over faces of confidence x size factor, <= 1 */
    double expressions[ES_EMO_COUNT];   /* weight-averaged probabilities (EMSYNC's order) */
} es_face_sample;

typedef struct {
    double time;
    int width, height;
    uint8_t *rgb;                       /* width * height * 3 bytes */
} es_thumb;

typedef struct {
    es_face_model *model;               /* NULL: no face analysis */
    es_face_sample *samples; size_t n_samples, cap_samples;
    es_thumb thumbs[ES_MAX_THUMBS]; size_t n_thumbs;
    double thumb_interval, next_thumb;  /* seconds between kept thumbnails */
    double face_seconds;                /* time spent in the face nets */
    int failed;                         /* out of memory or a face-net error: see es_error() */
} es_sampler;

/* Sets up a sampler; model may be NULL (thumbnails only). The sampler does not own the model. */
void es_sampler_init(es_sampler *s, es_face_model *model);

/* An es_decode_options.on_sample callback; user is the es_sampler. */
void es_sampler_on_frame(void *user, double time, const uint8_t *rgb, int width, int height, int stride);

/* Fills the face fields of each scene from the samples inside it. */
void es_sampler_apply(const es_sampler *s, es_scene_affect *scenes, size_t n_scenes);

/* The kept thumbnail nearest to time t, or NULL when there is none. */
const es_thumb *es_sampler_thumb_at(const es_sampler *s, double t);

/* Frees samples and thumbnails (not the model). */
void es_sampler_free(es_sampler *s);

#endif
