/* What the decode pass hands over at a low frame rate: faces with their expressions (when the
 * face models are installed) and small thumbnails for the timeline. Faces are summarised per
 * sampled frame and summed per frame span (see es_frame_spans) as they come, then per scene;
 * thumbnails are kept at a spacing that widens as the video gets longer, so memory stays
 * bounded. The face nets run on a worker thread fed
 * through a small queue of frame copies, so they overlap with decoding instead of stalling it. */
#ifndef ES_SAMPLER_H
#define ES_SAMPLER_H

#include <stddef.h>
#include <pthread.h>
#include <stdint.h>

#include "emotion/affect.h"
#include "emotion/faces.h"

#define ES_SAMPLE_FPS 2.0        /* frames a second given to the face nets */
#define ES_SAMPLE_MAX_WIDTH 640  /* plenty for the detector's 416 px input */
#define ES_SAMPLE_FACE_INPUT 416 /* detector input size (face-api's inputSize): 320 saves 40%
                                    * of the detector's time but misses faces under ~1/6 of the
                                    * frame's width */
#define ES_THUMB_WIDTH 160
#define ES_MAX_THUMBS 256
#define ES_SAMPLE_QUEUE 4        /* frames waiting for the face worker */
/* Where the face nets look (the worker decides in frame order, so results do not depend on
 * timing): the first sample of each new shot (a change of the tiny luma signature over
 * ES_SHOT_CHANGE since the sample before) always; every sample while a face was seen in the last
 * ES_FACE_HOLD seconds; otherwise one sample every ES_FACE_SPARSE seconds. All but the first of
 * a shot spend a budget tied to the cost of decoding: looks per second of video at most the
 * sample's pixels x 30 frames / ES_FACE_PIXELS_PER_LOOK (so a 320x180 video, cheap to decode,
 * gets about one look every 2 s, and 640x360 samples of 720p and larger videos all 2 a second),
 * never under one every ES_FACE_SPARSE seconds, with up to ES_FACE_BURST looks saved up. A
 * sample not looked at holds the result of the last look, always from the same shot, so
 * per-scene averages stay averages over 2 samples a second. */
#define ES_FACE_HOLD 2.0
#define ES_FACE_SPARSE 2.0
#define ES_FACE_PIXELS_PER_LOOK 3.2e6
#define ES_FACE_BURST 4.0
/* Videos up to VGA's pixels decode with one CPU left to the face worker: there the looks cost
 * nearly as much as decoding, and above it decoding grows while the looks stop at ES_SAMPLE_FPS.
 * Analysis with faces on 2 cores, one decoder against two: 320x180 30 min 9.2 against 10.5 s;
 * 640x360 2 min 1.6 against 1.8 s; 854x480 2.1 s either way; 1280x720 1 min 4.5 against 3.1 s. */
#define ES_FACE_SPARE_CPU_PIXELS (640 * 480 + 1)
#define ES_SHOT_CHANGE 0.06      /* mean |luma difference|, 0..1, of the signatures */
#define ES_SIG_W 32
#define ES_SIG_H 18

typedef struct {
    double time;
    int faces;                          /* faces found */
    double largest_area;                /* share of the frame covered by the largest face */
    double weight;                      /* sum over faces of confidence x size factor, <= 1 */
    double expressions[ES_EMO_COUNT];   /* weight-averaged probabilities (EMSYNC's order) */
    int looked;                         /* 1: the nets ran on this frame; 0: held from the last */
} es_face_sample;

/* Face figures summed over the consecutive samples of one frame span (scene boundaries fall
 * only at span starts, so a group lies inside one scene). */
typedef struct {
    double start;                       /* time of its first sample */
    size_t samples, looks;              /* samples, and those the nets ran on */
    double faces, area, weight;         /* sums over samples: faces, largest face's share, weight */
    double expressions[ES_EMO_COUNT];   /* sum over samples of weight x probabilities */
} es_face_group;

typedef struct {
    double time;
    int width, height;
    uint8_t *rgb;                       /* width * height * 3 bytes */
} es_thumb;

typedef struct {
    uint8_t *rgb;
    size_t cap;
    int width, height;
    double time;
    size_t group;                       /* the frame span it belongs to (see es_sampler.spans) */
} es_sample_slot;

typedef struct {
    es_face_model *model;               /* NULL: no face analysis */
    /* the queue between the decode thread and the face worker */
    pthread_t worker;
    int worker_running;                 /* decode thread only */
    pthread_mutex_t lock;               /* guards head, count, closing, worker_failed, error */
    pthread_cond_t changed;
    es_sample_slot slots[ES_SAMPLE_QUEUE];
    size_t head, count;                 /* FIFO of filled slots */
    int closing;
    int worker_failed;                  /* a frame could not be analysed: the rest are skipped */
    char error[256];                    /* the first failure's message */
    /* written by the worker alone until es_sampler_finish joins it */
    /* decode thread: the analysis' frame spans, set before decoding; NULL makes every sample a
     * group of its own */
    const es_frame_spans *spans;
    size_t n_queued;                    /* decode thread: samples handed over */
    es_face_sample last;                /* worker: the previous sample (held when not looked) */
    size_t n_samples;                   /* worker: samples analysed */
    es_face_group *groups; size_t n_groups, cap_groups; /* worker until joined */
    size_t last_group;
    es_thumb thumbs[ES_MAX_THUMBS]; size_t n_thumbs;
    double thumb_interval, next_thumb;  /* seconds between kept thumbnails */
    double face_seconds;                /* time spent in the face nets */
    double last_look, last_face;        /* worker: times of the last look and the last face seen */
    double look_budget, budget_time;    /* worker: looks saved up, and the time they were counted */
    float signature[ES_SIG_W * ES_SIG_H]; /* worker: luma signature of the previous sample */
    int have_signature;
    int failed;                         /* decode thread: stop taking frames (see error) */
} es_sampler;

/* Sets up a sampler and, with a model, starts its face worker; model may be NULL (thumbnails
 * only). The sampler does not own the model. Returns 0 or -1 (thread or memory failure). */
int es_sampler_init(es_sampler *s, es_face_model *model);

/* Waits until every queued frame has been analysed and stops the worker. Call after decoding,
 * before reading samples. Returns 0, or -1 when a frame could not be analysed. Idempotent. */
int es_sampler_finish(es_sampler *s);

/* An es_decode_options.on_sample callback; user is the es_sampler. */
void es_sampler_on_frame(void *user, double time, const uint8_t *rgb, int width, int height, int stride);

/* Fills the face fields of each scene from the sample groups inside it. */
void es_sampler_apply(const es_sampler *s, es_scene_affect *scenes, size_t n_scenes);

/* The kept thumbnail nearest to time t, or NULL when there is none. */
const es_thumb *es_sampler_thumb_at(const es_sampler *s, double t);

/* Stops and joins the worker if still running (after a failed decode too) and frees samples and
 * thumbnails (not the model). Leaves es_error() as it was. Safe after a failed init and on a
 * zeroed struct. */
void es_sampler_free(es_sampler *s);

#endif
