/* TinyFaceDetector forward pass and box decoding, following face-api 1.7.15
 * (tinyYolov2/TinyYolov2Base.ts with the tinyFaceDetector config): a full 3x3 conv, then five
 * depthwise-separable 3x3 convs with leaky ReLU (slope 0.1) and 2x2 max pools, a 1x1 conv to
 * 5 anchors x (x, y, w, h, score). The weights already hold the batch-norm folded in.
 * Arithmetic mirrors tfjs's CPU backend (float32 tensors, double for box decoding). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "emotion/tinyface.h"

#define GRID 13
#define ANCHORS 5
#define MAX_CAND (GRID * GRID * ANCHORS)

/* the package's BOX_ANCHORS and MEAN_RGB for the tiny face detector */
static const double anchors[ANCHORS][2] = {
    {1.603231, 2.094468}, {6.041143, 7.080126}, {2.882459, 3.518061},
    {4.266906, 5.178857}, {9.041765, 10.66308}};
static const float mean_rgb[3] = {117.001f, 114.697f, 97.404f};

typedef struct {
    const float *dw, *pw, *bias;
} sep_layer;

struct es_tinyface {
    const float *conv0_w, *conv0_b;  /* [3][3][3][16], [16] */
    sep_layer sep[5];                /* conv1..conv5: 16->32->64->128->256->512 */
    const float *conv8_w, *conv8_b;  /* [512][25], [25] */
    float *input;                    /* 416 x 416 x 3 */
    float *a, *b, *dw;               /* activation ping-pong and depthwise scratch */
    es_face_box cand[MAX_CAND];
    int order[MAX_CAND];
};

static const int sep_ch[6] = {16, 32, 64, 128, 256, 512};

void es_tinyface_free(es_tinyface *t)
{
    if (!t) return;
    free(t->dw);
    free(t->b);
    free(t->a);
    free(t->input);
    free(t);
}

es_tinyface *es_tinyface_new(const es_weights *w)
{
    es_tinyface *t = es_calloc(1, sizeof *t);
    if (!t) return NULL;
    char name[64];
    t->conv0_w = es_weights_get(w, "conv0/filters", 4, (int[]){3, 3, 3, 16});
    t->conv0_b = t->conv0_w ? es_weights_get(w, "conv0/bias", 1, (int[]){16}) : NULL;
    if (!t->conv0_b) goto fail;
    for (int l = 0; l < 5; l++) {
        int ci = sep_ch[l], co = sep_ch[l + 1];
        snprintf(name, sizeof name, "conv%d/depthwise_filter", l + 1);
        t->sep[l].dw = es_weights_get(w, name, 4, (int[]){3, 3, ci, 1});
        snprintf(name, sizeof name, "conv%d/pointwise_filter", l + 1);
        t->sep[l].pw = t->sep[l].dw ? es_weights_get(w, name, 4, (int[]){1, 1, ci, co}) : NULL;
        snprintf(name, sizeof name, "conv%d/bias", l + 1);
        t->sep[l].bias = t->sep[l].pw ? es_weights_get(w, name, 1, (int[]){co}) : NULL;
        if (!t->sep[l].bias) goto fail;
    }
    t->conv8_w = es_weights_get(w, "conv8/filters", 4, (int[]){1, 1, 512, ANCHORS * 5});
    t->conv8_b = t->conv8_w ? es_weights_get(w, "conv8/bias", 1, (int[]){ANCHORS * 5}) : NULL;
    if (!t->conv8_b) goto fail;

    const size_t n = ES_TINYFACE_INPUT;
    t->input = es_malloc(n * n * 3 * sizeof(float));
    t->a = es_malloc((n - 2) * (n - 2) * 16 * sizeof(float));  /* conv0 output is the largest */
    t->b = es_malloc(207 * 207 * 16 * sizeof(float));           /* first pool output */
    t->dw = es_malloc(207 * 207 * 16 * sizeof(float));
    if (!t->input || !t->a || !t->b || !t->dw) goto fail;
    return t;
fail:
    es_tinyface_free(t);
    return NULL;
}

/* ---- kernels ---- */

void es_fk_square_resize(const uint8_t *rgb, int stride, int x0, int y0, int cw, int ch,
                         int pad_left, int pad_top, int s, int out, const float mean[3], float *dst)
{
    const double ratio = (double)s / out;
    for (int r = 0; r < out; r++) {
        double fy = ratio * r;
        int ylo = (int)floor(fy), yhi = (int)ceil(fy);
        if (yhi > s - 1) yhi = s - 1;
        double yf = fy - ylo;
        int iy0 = ylo - pad_top, iy1 = yhi - pad_top;
        const uint8_t *row0 = iy0 >= 0 && iy0 < ch ? rgb + (size_t)(y0 + iy0) * stride : NULL;
        const uint8_t *row1 = iy1 >= 0 && iy1 < ch ? rgb + (size_t)(y0 + iy1) * stride : NULL;
        for (int c = 0; c < out; c++) {
            double fx = ratio * c;
            int xlo = (int)floor(fx), xhi = (int)ceil(fx);
            if (xhi > s - 1) xhi = s - 1;
            double xf = fx - xlo;
            int ix0 = xlo - pad_left, ix1 = xhi - pad_left;
            int in0 = ix0 >= 0 && ix0 < cw, in1 = ix1 >= 0 && ix1 < cw;
            const uint8_t *tl = row0 && in0 ? row0 + (size_t)(x0 + ix0) * 3 : NULL;
            const uint8_t *tr = row0 && in1 ? row0 + (size_t)(x0 + ix1) * 3 : NULL;
            const uint8_t *bl = row1 && in0 ? row1 + (size_t)(x0 + ix0) * 3 : NULL;
            const uint8_t *br = row1 && in1 ? row1 + (size_t)(x0 + ix1) * 3 : NULL;
            float *o = dst + ((size_t)r * out + c) * 3;
            for (int k = 0; k < 3; k++) {
                double vtl = tl ? tl[k] : 0, vtr = tr ? tr[k] : 0;
                double vbl = bl ? bl[k] : 0, vbr = br ? br[k] : 0;
                double top = vtl + (vtr - vtl) * xf;
                double bot = vbl + (vbr - vbl) * xf;
                float v = (float)(top + (bot - top) * yf);
                o[k] = (v - mean[k]) / 255.0f;
            }
        }
    }
}

/* The kernels below work on eight output channels at a time in a GCC/Clang vector (channel
 * counts here are multiples of 8 except the last layers, which take the plain loop): one load
 * per eight weights, the sums stay in a register, and sanitizer builds stay fast because there
 * are few memory accesses to check. The type only promises 4-byte alignment. */
typedef float v8f __attribute__((vector_size(32), aligned(4)));

#define ld8(p) (*(const v8f *)(p))
#define st8(p, v) (*(v8f *)(p) = (v))

void es_fk_conv3x3(const float *in, int ih, int iw, int ci, const float *wt, const float *bias,
                   int co, int stride, int pad_top, int pad_left, float *out, int oh, int ow)
{
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
            float *o = out + ((size_t)oy * ow + ox) * co;
            int k0 = 0;
            for (; k0 + 16 <= co; k0 += 16) {  /* two independent sums */
                v8f s = ld8(bias + k0), t = ld8(bias + k0 + 8);
                for (int ky = 0; ky < 3; ky++) {
                    int y = oy * stride + ky - pad_top;
                    if (y < 0 || y >= ih) continue;
                    for (int kx = 0; kx < 3; kx++) {
                        int x = ox * stride + kx - pad_left;
                        if (x < 0 || x >= iw) continue;
                        const float *p = in + ((size_t)y * iw + x) * ci;
                        const float *wk = wt + (size_t)(ky * 3 + kx) * ci * co + k0;
                        for (int i = 0; i < ci; i++) {
                            s += p[i] * ld8(wk + (size_t)i * co);
                            t += p[i] * ld8(wk + (size_t)i * co + 8);
                        }
                    }
                }
                st8(o + k0, s);
                st8(o + k0 + 8, t);
            }
            for (; k0 + 8 <= co; k0 += 8) {
                v8f s = ld8(bias + k0);
                for (int ky = 0; ky < 3; ky++) {
                    int y = oy * stride + ky - pad_top;
                    if (y < 0 || y >= ih) continue;
                    for (int kx = 0; kx < 3; kx++) {
                        int x = ox * stride + kx - pad_left;
                        if (x < 0 || x >= iw) continue;
                        const float *p = in + ((size_t)y * iw + x) * ci;
                        const float *wk = wt + (size_t)(ky * 3 + kx) * ci * co + k0;
                        for (int i = 0; i < ci; i++) s += p[i] * ld8(wk + (size_t)i * co);
                    }
                }
                st8(o + k0, s);
            }
            for (int k = k0; k < co; k++) {
                float s = bias[k];
                for (int ky = 0; ky < 3; ky++) {
                    int y = oy * stride + ky - pad_top;
                    if (y < 0 || y >= ih) continue;
                    for (int kx = 0; kx < 3; kx++) {
                        int x = ox * stride + kx - pad_left;
                        if (x < 0 || x >= iw) continue;
                        const float *p = in + ((size_t)y * iw + x) * ci;
                        const float *wk = wt + (size_t)(ky * 3 + kx) * ci * co + k;
                        for (int i = 0; i < ci; i++) s += p[i] * wk[(size_t)i * co];
                    }
                }
                o[k] = s;
            }
        }
}

void es_fk_dwconv3x3(const float *in, int ih, int iw, int c, const float *wt, int stride,
                     int pad_top, int pad_left, float *out, int oh, int ow)
{
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
            float *o = out + ((size_t)oy * ow + ox) * c;
            int k0 = 0;
            for (; k0 + 8 <= c; k0 += 8) {
                v8f s = {0, 0, 0, 0, 0, 0, 0, 0};
                for (int ky = 0; ky < 3; ky++) {
                    int y = oy * stride + ky - pad_top;
                    if (y < 0 || y >= ih) continue;
                    for (int kx = 0; kx < 3; kx++) {
                        int x = ox * stride + kx - pad_left;
                        if (x < 0 || x >= iw) continue;
                        const float *p = in + ((size_t)y * iw + x) * c + k0;
                        const float *w = wt + (size_t)(ky * 3 + kx) * c + k0;
                        s += ld8(p) * ld8(w);
                    }
                }
                st8(o + k0, s);
            }
            for (int k = k0; k < c; k++) {
                float s = 0;
                for (int ky = 0; ky < 3; ky++) {
                    int y = oy * stride + ky - pad_top;
                    if (y < 0 || y >= ih) continue;
                    for (int kx = 0; kx < 3; kx++) {
                        int x = ox * stride + kx - pad_left;
                        if (x < 0 || x >= iw) continue;
                        s += in[((size_t)y * iw + x) * c + k] * wt[(size_t)(ky * 3 + kx) * c + k];
                    }
                }
                o[k] = s;
            }
        }
}

void es_fk_pwconv(const float *in, int n, int ci, const float *wt, const float *bias, int co,
                  float *out)
{
    int p = 0;
    /* four pixels at a time: four independent sums per weight load */
    for (; p + 4 <= n && co % 8 == 0; p += 4) {
        const float *x0 = in + (size_t)p * ci, *x1 = x0 + ci, *x2 = x1 + ci, *x3 = x2 + ci;
        float *o = out + (size_t)p * co;
        for (int k0 = 0; k0 < co; k0 += 8) {
            v8f s0 = ld8(bias + k0), s1 = s0, s2 = s0, s3 = s0;
            const float *w = wt + k0;
            for (int i = 0; i < ci; i++) {
                v8f wv = ld8(w + (size_t)i * co);
                s0 += x0[i] * wv;
                s1 += x1[i] * wv;
                s2 += x2[i] * wv;
                s3 += x3[i] * wv;
            }
            st8(o + k0, s0);
            st8(o + co + k0, s1);
            st8(o + 2 * co + k0, s2);
            st8(o + 3 * co + k0, s3);
        }
    }
    for (; p < n; p++) {
        const float *x = in + (size_t)p * ci;
        float *o = out + (size_t)p * co;
        int k0 = 0;
        for (; k0 + 8 <= co; k0 += 8) {
            v8f s = ld8(bias + k0);
            const float *w = wt + k0;
            for (int i = 0; i < ci; i++) s += x[i] * ld8(w + (size_t)i * co);
            st8(o + k0, s);
        }
        for (int k = k0; k < co; k++) {
            float s = bias[k];
            for (int i = 0; i < ci; i++) s += x[i] * wt[(size_t)i * co + k];
            o[k] = s;
        }
    }
}

/* ---- detector ---- */

static void leaky(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (x[i] < 0) x[i] *= 0.1f;
}

/* 2x2 max pool, 'same' padding as tfjs: extra rows/cols fall at the bottom/right and are
 * ignored. Output ceil(in / stride). */
static void maxpool2(const float *in, int ih, int iw, int c, int stride, float *out, int *oh, int *ow)
{
    int h = (ih + stride - 1) / stride, w = (iw + stride - 1) / stride;
    for (int oy = 0; oy < h; oy++)
        for (int ox = 0; ox < w; ox++) {
            float *o = out + ((size_t)oy * w + ox) * c;
            const float *p = in + ((size_t)(oy * stride) * iw + ox * stride) * c;
            for (int k = 0; k < c; k++) o[k] = p[k];
            for (int dy = 0; dy < 2; dy++)
                for (int dx = 0; dx < 2; dx++) {
                    int y = oy * stride + dy, x = ox * stride + dx;
                    if (y >= ih || x >= iw) continue;
                    const float *q = in + ((size_t)y * iw + x) * c;
                    for (int k = 0; k < c; k++)
                        if (q[k] > o[k]) o[k] = q[k];
                }
        }
    *oh = h;
    *ow = w;
}

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

static double iou(const es_face_box *a, const es_face_box *b)
{
    double w = fmin(a->x + a->w, b->x + b->w) - fmax(a->x, b->x);
    double h = fmin(a->y + a->h, b->y + b->h) - fmax(a->y, b->y);
    double inter = fmax(0.0, w) * fmax(0.0, h);
    return inter / (a->w * a->h + b->w * b->h - inter);
}

/* Orders candidate indices best score first; on equal scores the later candidate first, as the
 * package's stable ascending sort followed by pop() gives. Insertion sort: at most 845 items,
 * usually a handful, and no shared state. */
static void sort_by_score(const es_face_box *cand, int *order, int n)
{
    for (int i = 1; i < n; i++) {
        int v = order[i], j = i;
        while (j > 0) {
            int u = order[j - 1];
            int before = cand[v].score > cand[u].score || (cand[v].score == cand[u].score && v > u);
            if (!before) break;
            order[j] = u;
            j--;
        }
        order[j] = v;
    }
}

int es_tinyface_run(es_tinyface *t, const uint8_t *rgb, int w, int h, int stride,
                    es_face_box *boxes, int max_boxes)
{
    if (!t || !rgb || w < 1 || h < 1 || stride < 3 * w || max_boxes < 0 || (max_boxes && !boxes))
        return es_fail("face detector: bad image arguments (%dx%d, stride %d)", w, h, stride);
    const int n = ES_TINYFACE_INPUT;
    int s = w > h ? w : h;
    es_fk_square_resize(rgb, stride, 0, 0, w, h, 0, 0, s, n, mean_rgb, t->input);

    /* conv0: 3x3 valid, 3 -> 16 */
    int ih = n - 2, iw = n - 2;
    es_fk_conv3x3(t->input, n, n, 3, t->conv0_w, t->conv0_b, 16, 1, 0, 0, t->a, ih, iw);
    leaky(t->a, (size_t)ih * iw * 16);
    maxpool2(t->a, ih, iw, 16, 2, t->b, &ih, &iw);
    for (int l = 0; l < 5; l++) {
        int ci = sep_ch[l], co = sep_ch[l + 1];
        es_fk_dwconv3x3(t->b, ih, iw, ci, t->sep[l].dw, 1, 1, 1, t->dw, ih, iw);
        es_fk_pwconv(t->dw, ih * iw, ci, t->sep[l].pw, t->sep[l].bias, co, t->a);
        leaky(t->a, (size_t)ih * iw * co);
        maxpool2(t->a, ih, iw, co, l < 4 ? 2 : 1, t->b, &ih, &iw);
    }
    /* conv8: 1x1, 512 -> 5 anchors x 5 */
    float *outp = t->a;
    es_fk_pwconv(t->b, ih * iw, 512, t->conv8_w, t->conv8_b, ANCHORS * 5, outp);

    /* the image fills the top-left (rw x rh) of the square input */
    double scale = (double)n / s;
    double rw = floor(w * scale + 0.5), rh = floor(h * scale + 0.5);
    if (rw < 1) rw = 1;
    if (rh < 1) rh = 1;
    double in_size = rw > rh ? rw : rh;
    double cfx = in_size / rw, cfy = in_size / rh;
    int nc = 0;
    for (int row = 0; row < GRID; row++)
        for (int col = 0; col < GRID; col++)
            for (int a = 0; a < ANCHORS; a++) {
                const float *e = outp + ((size_t)(row * GRID + col) * ANCHORS + a) * 5;
                double score = sigmoid(e[4]);
                if (!(score > ES_TINYFACE_SCORE)) continue;
                double cx = (col + sigmoid(e[0])) / GRID * cfx;
                double cy = (row + sigmoid(e[1])) / GRID * cfy;
                double bw = exp(e[2]) * anchors[a][0] / GRID * cfx;
                double bh = exp(e[3]) * anchors[a][1] / GRID * cfy;
                es_face_box *c = &t->cand[nc];
                c->x = cx - bw / 2;
                c->y = cy - bh / 2;
                c->w = bw;
                c->h = bh;
                c->score = score;
                t->order[nc] = nc;
                nc++;
            }
    sort_by_score(t->cand, t->order, nc);
    int found = 0;
    for (int i = 0; i < nc; i++) {
        int ci = t->order[i];
        if (ci < 0) continue;
        const es_face_box *c = &t->cand[ci];
        for (int j = i + 1; j < nc; j++)
            /* kept only when IoU <= threshold (a NaN from an empty box drops it, as there) */
            if (t->order[j] >= 0 && !(iou(c, &t->cand[t->order[j]]) <= ES_TINYFACE_IOU)) t->order[j] = -1;
        if (found < max_boxes) {
            boxes[found].x = c->x * w;
            boxes[found].y = c->y * h;
            boxes[found].w = c->w * w;
            boxes[found].h = c->h * h;
            boxes[found].score = c->score;
        }
        found++;
    }
    return found;
}
