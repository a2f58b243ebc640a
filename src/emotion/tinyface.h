/* face-api's TinyFaceDetector run in C: a depthwise-separable YOLO-style detector on a square
 * input of 416 px by default (the package's inputSize option: any multiple of 32 in 128..608;
 * image padded to a square at the bottom/right, bilinear resize, mean subtracted, /255),
 * (size/32)^2 cells x 5 anchors, sigmoid scores, NMS at IoU 0.4. Also the small NHWC kernels
 * it shares with the expression net. */
#ifndef ES_TINYFACE_H
#define ES_TINYFACE_H

#include <stdint.h>

#include "emotion/weights.h"

#define ES_TINYFACE_INPUT 416      /* the package's default input size */
#define ES_TINYFACE_INPUT_MIN 128
#define ES_TINYFACE_INPUT_MAX 608
#define ES_TINYFACE_SCORE 0.5f
#define ES_TINYFACE_IOU 0.4f

typedef struct {
    double x, y, w, h;  /* source pixels; may reach outside the image */
    double score;
} es_face_box;

typedef struct es_tinyface es_tinyface;

/* Builds the detector from the tiny_face_detector_model weights (which must outlive it) at
 * input size ES_TINYFACE_INPUT and allocates all activations once. NULL with an error naming
 * the missing/misshaped tensor. */
es_tinyface *es_tinyface_new(const es_weights *w);

void es_tinyface_free(es_tinyface *t);

/* Sets the input side (a multiple of 32 in ES_TINYFACE_INPUT_MIN..MAX, as the package's
 * inputSize) and reallocates the activations for it. Returns 0, or -1 with an error (bad size,
 * out of memory) leaving the detector as it was. Smaller is faster but misses small faces. */
int es_tinyface_set_input_size(es_tinyface *t, int size);

/* Finds faces in an RGB24 image (w x h, row stride in bytes >= 3w). Writes up to max_boxes boxes,
 * best score first, and returns how many faces were found (may exceed max_boxes), or -1 on bad
 * arguments. Not thread safe per detector (it reuses its buffers). */
int es_tinyface_run(es_tinyface *t, const uint8_t *rgb, int w, int h, int stride,
                    es_face_box *boxes, int max_boxes);

/* ---- kernels (NHWC float, zero padding) ---- */

/* Samples the region (x0, y0, cw, ch) of an RGB24 image, zero padded to an s x s square with
 * pad_left/pad_top zeros before it, resized bilinearly to out x out as tf.image.resizeBilinear
 * (no corner alignment, no half-pixel centres), then (v - mean[c]) / 255 into dst. */
void es_fk_square_resize(const uint8_t *rgb, int stride, int x0, int y0, int cw, int ch,
                         int pad_left, int pad_top, int s, int out, const float mean[3], float *dst);

/* Full 3x3 convolution, weights [3][3][ci][co], + bias. Output oh x ow; input pixel for output
 * (oy, ox) tap (ky, kx) is (oy*stride + ky - pad_top, ox*stride + kx - pad_left). */
void es_fk_conv3x3(const float *in, int ih, int iw, int ci, const float *wt, const float *bias,
                   int co, int stride, int pad_top, int pad_left, float *out, int oh, int ow);

/* Depthwise 3x3 convolution, weights [3][3][c], no bias. Same geometry as es_fk_conv3x3. */
void es_fk_dwconv3x3(const float *in, int ih, int iw, int c, const float *wt, int stride,
                     int pad_top, int pad_left, float *out, int oh, int ow);

/* Pointwise convolution over n pixels, weights [ci][co], + bias. */
void es_fk_pwconv(const float *in, int n, int ci, const float *wt, const float *bias, int co,
                  float *out);

/* Leaky ReLU (slope 0.1) of a 2x2 max pool with the given stride and tfjs 'same' padding (the
 * window's cells past the bottom/right edge are ignored): out is ceil(ih/stride) x
 * ceil(iw/stride) x c. Equal to the activation followed by the pool, in one pass. */
void es_fk_pool2_leaky(const float *in, int ih, int iw, int c, int stride, float *out);

/* es_fk_conv3x3 with stride 1 and no padding (output (ih-2) x (iw-2)), then es_fk_pool2_leaky
 * with stride 2, without storing the conv output: out is oh x ow x co with oh = ceil((ih-2)/2),
 * ow = ceil((iw-2)/2). Only the outputs in the first `rows` rows and `cols` columns are
 * computed (pass oh, ow or more for all); the rest of out is left as it is. Needs ih, iw >= 3. */
void es_fk_conv3x3_leaky_pool(const float *in, int ih, int iw, int ci, const float *wt,
                              const float *bias, int co, int rows, int cols, float *out);

#endif
