/* face-api's TinyFaceDetector run in C: a depthwise-separable YOLO-style detector on a 416x416
 * input (image padded to a square at the bottom/right, bilinear resize, mean subtracted, /255),
 * 13x13 cells x 5 anchors, sigmoid scores, NMS at IoU 0.4. Also the small NHWC kernels it
 * shares with the expression net. */
#ifndef ES_TINYFACE_H
#define ES_TINYFACE_H

#include <stdint.h>

#include "emotion/weights.h"

#define ES_TINYFACE_INPUT 416
#define ES_TINYFACE_SCORE 0.5f
#define ES_TINYFACE_IOU 0.4f

typedef struct {
    double x, y, w, h;  /* source pixels; may reach outside the image */
    double score;
} es_face_box;

typedef struct es_tinyface es_tinyface;

/* Builds the detector from the tiny_face_detector_model weights (which must outlive it) and
 * allocates all activations once. NULL with an error naming the missing/misshaped tensor. */
es_tinyface *es_tinyface_new(const es_weights *w);

void es_tinyface_free(es_tinyface *t);

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

#endif
