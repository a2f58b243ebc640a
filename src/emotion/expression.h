/* face-api's FaceExpressionNet run in C: the face box cut from the image, padded to a centred
 * square, resized to 112x112, four dense blocks of depthwise-separable convs, 7x7 average pool,
 * a fully connected layer and softmax over seven expressions. */
#ifndef ES_EXPRESSION_H
#define ES_EXPRESSION_H

#include <stdint.h>

#include "emotion/weights.h"

#define ES_EXPRESSION_INPUT 112
#define ES_EXPRESSIONS 7

/* Class order of the network's output: neutral, happy, sad, angry, fearful, disgusted, surprised. */
extern const char *const es_expression_names[ES_EXPRESSIONS];

typedef struct es_expression es_expression;

/* Builds the net from the face_expression_model weights (which must outlive it) and allocates
 * all activations once. NULL with an error naming the missing/misshaped tensor. */
es_expression *es_expression_new(const es_weights *w);

void es_expression_free(es_expression *e);

/* Classifies the face in box (x, y, bw, bh) (source pixels, clipped to the image and floored as
 * the package does) of an RGB24 image. Writes probabilities summing to 1 into probs.
 * Returns 0, or -1 when the clipped box is empty (probs then all 0). Not thread safe per net. */
int es_expression_run(es_expression *e, const uint8_t *rgb, int w, int h, int stride,
                      double x, double y, double bw, double bh, float probs[ES_EXPRESSIONS]);

#endif
