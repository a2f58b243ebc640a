/* FaceExpressionNet forward pass, following face-api 1.7.15 (faceFeatureExtractor/denseBlock.ts,
 * FaceFeatureExtractor.ts, faceProcessor, dom/extractFaceTensors.ts). Each dense block:
 *   out1 = relu(conv0(x)) (stride 2), out2 = sep1(out1), out3 = sep2(relu(out1 + out2)),
 *   out4 = sep3(relu(out1 + out2 + out3)), result = relu(out1 + out2 + out3 + out4).
 * Block 0 starts with a full 3x3 conv, the others with a depthwise-separable one. Stride-2
 * 'same' convs pad only at the bottom/right (TensorFlow's rule for an even input). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "emotion/expression.h"
#include "emotion/tinyface.h"

const char *const es_expression_names[ES_EXPRESSIONS] = {
    "neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised"};

static const float mean_rgb[3] = {122.782f, 117.001f, 104.298f};
static const int block_ch[5] = {3, 32, 64, 128, 256};

typedef struct {
    const float *dw, *pw, *bias;  /* dw NULL for the full conv of block 0 (then pw = filters) */
} sep_conv;

struct es_expression {
    sep_conv conv[4][4];
    const float *fc_w, *fc_b;      /* [256][7], [7] */
    float *input;                  /* 112 x 112 x 3 */
    float *x, *o1, *o2, *o3, *o4;  /* block input/output and its four conv outputs */
    float *dw, *sum;               /* scratch */
};

void es_expression_free(es_expression *e)
{
    if (!e) return;
    free(e->sum);
    free(e->dw);
    free(e->o4);
    free(e->o3);
    free(e->o2);
    free(e->o1);
    free(e->x);
    free(e->input);
    free(e);
}

es_expression *es_expression_new(const es_weights *w)
{
    es_expression *e = es_calloc(1, sizeof *e);
    if (!e) return NULL;
    char name[64];
    for (int b = 0; b < 4; b++) {
        int cin = block_ch[b], c = block_ch[b + 1];
        for (int k = 0; k < 4; k++) {
            sep_conv *s = &e->conv[b][k];
            int ci = k == 0 ? cin : c;
            if (b == 0 && k == 0) {
                s->pw = es_weights_get(w, "dense0/conv0/filters", 4, (int[]){3, 3, 3, c});
            } else {
                snprintf(name, sizeof name, "dense%d/conv%d/depthwise_filter", b, k);
                s->dw = es_weights_get(w, name, 4, (int[]){3, 3, ci, 1});
                snprintf(name, sizeof name, "dense%d/conv%d/pointwise_filter", b, k);
                s->pw = s->dw ? es_weights_get(w, name, 4, (int[]){1, 1, ci, c}) : NULL;
            }
            snprintf(name, sizeof name, "dense%d/conv%d/bias", b, k);
            s->bias = s->pw ? es_weights_get(w, name, 1, (int[]){c}) : NULL;
            if (!s->bias) goto fail;
        }
    }
    e->fc_w = es_weights_get(w, "fc/weights", 2, (int[]){256, ES_EXPRESSIONS});
    e->fc_b = e->fc_w ? es_weights_get(w, "fc/bias", 1, (int[]){ES_EXPRESSIONS}) : NULL;
    if (!e->fc_b) goto fail;

    const size_t n = ES_EXPRESSION_INPUT, big = (n / 2) * (n / 2) * 32;  /* block 0 output */
    e->input = es_malloc(n * n * 3 * sizeof(float));
    e->x = es_malloc(big * sizeof(float));
    e->o1 = es_malloc(big * sizeof(float));
    e->o2 = es_malloc(big * sizeof(float));
    e->o3 = es_malloc(big * sizeof(float));
    e->o4 = es_malloc(big * sizeof(float));
    e->dw = es_malloc(big * sizeof(float));
    e->sum = es_malloc(big * sizeof(float));
    if (!e->input || !e->x || !e->o1 || !e->o2 || !e->o3 || !e->o4 || !e->dw || !e->sum) goto fail;
    return e;
fail:
    es_expression_free(e);
    return NULL;
}

/* Depthwise-separable 3x3 conv + bias (no activation), 'same' padding. */
static void sep(const sep_conv *s, const float *in, int ih, int iw, int ci, int co, int stride,
                float *scratch, float *out, int oh, int ow)
{
    /* TensorFlow 'same': total pad = max(0, (o - 1) * stride + 3 - i), the smaller half on top */
    int pad_t = ((oh - 1) * stride + 3 - ih) / 2, pad_l = ((ow - 1) * stride + 3 - iw) / 2;
    if (pad_t < 0) pad_t = 0;
    if (pad_l < 0) pad_l = 0;
    es_fk_dwconv3x3(in, ih, iw, ci, s->dw, stride, pad_t, pad_l, scratch, oh, ow);
    es_fk_pwconv(scratch, oh * ow, ci, s->pw, s->bias, co, out);
}

/* Eight lanes at a time (a GCC/Clang vector; 4-byte alignment only): the block's sums and
 * ReLUs are memory passes that GCC -O2 leaves scalar otherwise. */
typedef float v8f __attribute__((vector_size(32), aligned(4)));
typedef int v8i __attribute__((vector_size(32)));

/* dst = relu(a + (b + (c + d))), the later terms optional (NULL); dst may be a. */
static void sum_relu(float *dst, size_t n, const float *a, const float *b, const float *c,
                     const float *d)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v8f v = *(const v8f *)(a + i);
        if (b) {
            v8f w = *(const v8f *)(b + i);
            if (c) {
                v8f u = *(const v8f *)(c + i);
                if (d) u += *(const v8f *)(d + i);
                w += u;
            }
            v += w;
        }
        v8i keep = v > 0;
        *(v8f *)(dst + i) = (v8f)(keep & (v8i)v);
    }
    for (; i < n; i++) {
        float v = a[i];
        if (b) v += b[i] + (c ? c[i] + (d ? d[i] : 0) : 0);
        dst[i] = v > 0 ? v : 0;
    }
}

/* One dense block from e->x (or e->input for block 0) into e->x. */
static void dense_block(es_expression *e, int b, int ih, int iw)
{
    int ci = block_ch[b], c = block_ch[b + 1];
    int oh = (ih + 1) / 2, ow = (iw + 1) / 2;
    size_t n = (size_t)oh * ow * c;
    const float *in = b == 0 ? e->input : e->x;
    if (b == 0) {
        int pad_t = ((oh - 1) * 2 + 3 - ih) / 2, pad_l = ((ow - 1) * 2 + 3 - iw) / 2;
        es_fk_conv3x3(in, ih, iw, ci, e->conv[0][0].pw, e->conv[0][0].bias, c, 2, pad_t, pad_l,
                      e->o1, oh, ow);
    } else {
        sep(&e->conv[b][0], in, ih, iw, ci, c, 2, e->dw, e->o1, oh, ow);
    }
    sum_relu(e->o1, n, e->o1, NULL, NULL, NULL);
    sep(&e->conv[b][1], e->o1, oh, ow, c, c, 1, e->dw, e->o2, oh, ow);
    sum_relu(e->sum, n, e->o1, e->o2, NULL, NULL);
    sep(&e->conv[b][2], e->sum, oh, ow, c, c, 1, e->dw, e->o3, oh, ow);
    sum_relu(e->sum, n, e->o1, e->o2, e->o3, NULL);
    sep(&e->conv[b][3], e->sum, oh, ow, c, c, 1, e->dw, e->o4, oh, ow);
    sum_relu(e->x, n, e->o1, e->o2, e->o3, e->o4);
}

int es_expression_run(es_expression *e, const uint8_t *rgb, int w, int h, int stride,
                      double x, double y, double bw, double bh, float probs[ES_EXPRESSIONS])
{
    for (int k = 0; k < ES_EXPRESSIONS; k++) probs[k] = 0;
    /* Box.clipAtImageBorders then floor(), as extractFaceTensors does */
    double cx = fmax(x, 0), cy = fmax(y, 0);
    double cw = fmin(x + bw - cx, w - cx), ch = fmin(y + bh - cy, h - cy);
    if (!(cw >= 1 && ch >= 1 && cx < w && cy < h))
        return es_fail("face box (%.1f, %.1f, %.1f, %.1f) is outside the %dx%d image", x, y, bw, bh, w, h);
    int ix = (int)floor(cx), iy = (int)floor(cy), iw = (int)floor(cw), ih = (int)floor(ch);
    if (ix + iw > w) iw = w - ix;
    if (iy + ih > h) ih = h - iy;

    /* padToSquare(centred): round(diff / 2) after, the rest before */
    int s = iw > ih ? iw : ih, diff = s - (iw < ih ? iw : ih);
    int after = (int)floor(diff * 0.5 + 0.5), before = diff - after;
    int pad_l = iw < ih ? before : 0, pad_t = ih < iw ? before : 0;
    const int n = ES_EXPRESSION_INPUT;
    es_fk_square_resize(rgb, stride, ix, iy, iw, ih, pad_l, pad_t, s, n, mean_rgb, e->input);

    int size = n;
    for (int b = 0; b < 4; b++) {
        dense_block(e, b, size, size);
        size = (size + 1) / 2;
    }
    /* 7x7 average pool (valid) over the 7x7x256 map, then fc + softmax */
    float feat[256];
    for (int c = 0; c < 256; c++) {
        float acc = 0;
        for (int p = 0; p < size * size; p++) acc += e->x[(size_t)p * 256 + c];
        feat[c] = acc / (float)(size * size);
    }
    double logits[ES_EXPRESSIONS], mx = -INFINITY, sum = 0;
    for (int k = 0; k < ES_EXPRESSIONS; k++) {
        float acc = e->fc_b[k];
        for (int c = 0; c < 256; c++) acc += feat[c] * e->fc_w[c * ES_EXPRESSIONS + k];
        /* finite weights can still overflow; NaN probabilities would pass for "no mood" later */
        if (!isfinite(acc)) return es_fail("face expression: the net's output overflowed (bad weights?)");
        logits[k] = acc;
        if (acc > mx) mx = acc;
    }
    for (int k = 0; k < ES_EXPRESSIONS; k++) sum += logits[k] = exp(logits[k] - mx);
    for (int k = 0; k < ES_EXPRESSIONS; k++) probs[k] = (float)(logits[k] / sum);
    return 0;
}
