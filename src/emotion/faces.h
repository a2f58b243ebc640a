/* Faces and their expressions in one picture: face-api's TinyFaceDetector and FaceExpressionNet
 * (npm @vladmandic/face-api 1.7.15, MIT) run in C with the package's defaults (input 416 unless
 * es_face_model_set_input_size picks another, score threshold 0.5, NMS IoU 0.4), plus the table
 * that places each expression in valence/arousal. */
#ifndef ES_FACES_H
#define ES_FACES_H

#include <stdint.h>

#include "emotion/ekman.h"
#include "emotion/expression.h"

/* Expression classes, in the network's output order. */
typedef enum {
    ES_EXPR_NEUTRAL, ES_EXPR_HAPPY, ES_EXPR_SAD, ES_EXPR_ANGRY,
    ES_EXPR_FEARFUL, ES_EXPR_DISGUSTED, ES_EXPR_SURPRISED
} es_expr;

typedef struct {
    double x, y, w, h;                     /* box in source pixels (may reach past the edges) */
    double score;                          /* detector confidence, > 0.5 */
    float expressions[ES_EXPRESSIONS];     /* probabilities in es_expr order, sum 1 */
} es_face;

typedef struct es_face_model es_face_model;

/* Subdirectory of the data directory (see emotion/datadir.h) that holds the model files. */
#define ES_FACE_MODEL_SUBDIR "models"

/* Loads both nets from dir (tiny_face_detector_model-weights_manifest.json + shard and
 * face_expression_model-weights_manifest.json + shard); with dir NULL, from the data directory's
 * "models" folder. Allocates all working memory once. Returns a context freed with
 * es_face_model_free, or NULL with one error line (a missing model says to run
 * scripts/install-deps.sh). */
es_face_model *es_face_model_load(const char *dir);

void es_face_model_free(es_face_model *m);

/* Sets the detector's input size, face-api's inputSize option: a multiple of 32 in 128..608
 * (ES_TINYFACE_INPUT_MIN..MAX); the model loads at the package's default, 416. Reallocates the
 * detector's working memory here, never per frame. Smaller runs faster (cost ~ size^2) but
 * misses smaller faces. Returns 0, or -1 with an error leaving the model as it was. */
int es_face_model_set_input_size(es_face_model *m, int size);

/* Detects faces in an RGB24 image (w x h pixels, rows `stride` bytes apart, stride >= 3w) and
 * classifies each one's expression. Writes up to max_faces faces, best detector score first,
 * and returns the number written (0 when there are none), or -1 with an error on bad
 * arguments. Not thread safe per model: use one model per thread. */
int es_faces_detect(es_face_model *m, const uint8_t *rgb, int w, int h, int stride,
                    es_face *faces, int max_faces);

/* The Ekman emotion an expression class stands for in EMSYNC's table (emotion/ekman.h):
 * happy = joy, sad = sadness, angry = anger, fearful = fear, disgusted = disgust,
 * surprised = surprise, neutral = neutral (the origin). */
es_emotion es_expression_emotion(es_expr e);

typedef struct { double valence, arousal; } es_va;

/* Probability-weighted valence/arousal of one face's expressions (EMSYNC's weighted mean of the
 * Russell & Mehrabian points, SPEC section 4). */
es_va es_face_va(const es_face *f);

#endif
