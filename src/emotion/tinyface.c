/* TinyFaceDetector forward pass and box decoding, following face-api 1.7.15
 * (tinyYolov2/TinyYolov2Base.ts with the tinyFaceDetector config): a full 3x3 conv, then five
 * depthwise-separable 3x3 convs with leaky ReLU (slope 0.1) and 2x2 max pools, a 1x1 conv to
 * 5 anchors x (x, y, w, h, score) per cell of a (size/32)^2 grid. The weights already hold the
 * batch-norm folded in. Arithmetic follows tfjs's CPU backend (float32 tensors, double for box
 * decoding), except that the convolutions fuse multiply-adds (results within ~1e-6).
 * Speed: the activation and pooling are fused into one pass (conv0's 414x414x16 output is
 * never stored), and the kernels keep their sums in vector registers. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "emotion/tinyface.h"

#define ANCHORS 5
#define MAX_GRID (ES_TINYFACE_INPUT_MAX / 32)
#define MAX_CAND (MAX_GRID * MAX_GRID * ANCHORS)

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
    int size;                        /* input side: a multiple of 32 */
    float pad0[16];                  /* conv0 + pool output where the input is all padding */
    float *input;                    /* size x size x 3 */
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

    /* a 4x4 input of the padding pixel (value 0 after the resize) gives one pooled output */
    float patch[4 * 4 * 3];
    for (int i = 0; i < 4 * 4 * 3; i++) patch[i] = (0.0f - mean_rgb[i % 3]) / 255.0f;
    es_fk_conv3x3_leaky_pool(patch, 4, 4, 3, t->conv0_w, t->conv0_b, 16, 1, 1, t->pad0);
    if (es_tinyface_set_input_size(t, ES_TINYFACE_INPUT)) goto fail;
    return t;
fail:
    es_tinyface_free(t);
    return NULL;
}

int es_tinyface_set_input_size(es_tinyface *t, int size)
{
    if (size < ES_TINYFACE_INPUT_MIN || size > ES_TINYFACE_INPUT_MAX || size % 32)
        return es_fail("face detector: input size %d is not a multiple of 32 in %d..%d", size,
                       ES_TINYFACE_INPUT_MIN, ES_TINYFACE_INPUT_MAX);
    if (size == t->size) return 0;
    /* conv0 + pool gives p x p x 16; conv1's pointwise output p x p x 32 is the largest after it
     * (conv0's own output is pooled as it is made and never stored) */
    const size_t n = (size_t)size, p = (n - 2 + 1) / 2;
    float *input = es_malloc(n * n * 3 * sizeof(float));
    float *a = input ? es_malloc(p * p * 32 * sizeof(float)) : NULL;
    float *b = a ? es_malloc(p * p * 16 * sizeof(float)) : NULL;
    float *dw = b ? es_malloc(p * p * 16 * sizeof(float)) : NULL;
    if (!dw) {
        free(b);
        free(a);
        free(input);
        return -1;
    }
    free(t->dw);
    free(t->b);
    free(t->a);
    free(t->input);
    t->input = input;
    t->a = a;
    t->b = b;
    t->dw = dw;
    t->size = size;
    return 0;
}

/* ---- kernels ---- */

/* The kernels below work on eight output channels at a time in a GCC/Clang vector (channel
 * counts here are multiples of 8 except the last layers, which take the plain loop): one load
 * per eight weights, the sums stay in a register, and sanitizer builds stay fast because there
 * are few memory accesses to check. The type only promises 4-byte alignment. */
typedef float v8f __attribute__((vector_size(32), aligned(4)));

#define ld8(p) (*(const v8f *)(p))
#define st8(p, v) (*(v8f *)(p) = (v))

void es_fk_square_resize(const uint8_t *rgb, int stride, int x0, int y0, int cw, int ch,
                         int pad_left, int pad_top, int s, int out, const float mean[3], float *dst)
{
    /* Columns go in chunks whose source offsets and weights are found once rather than per row;
     * the interpolation stays in double as the formula is written, and the final float division
     * (not a multiply: that would round differently) runs eight values at a time. */
    enum { CHUNK = 128 };
    int off0[CHUNK], off1[CHUNK];  /* byte offset in a row of the left/right source pixel, -1: pad */
    double xw[CHUNK];
    float tmp[CHUNK * 3];
    const v8f m0 = {mean[0], mean[1], mean[2], mean[0], mean[1], mean[2], mean[0], mean[1]};
    const v8f m1 = {mean[2], mean[0], mean[1], mean[2], mean[0], mean[1], mean[2], mean[0]};
    const v8f m2 = {mean[1], mean[2], mean[0], mean[1], mean[2], mean[0], mean[1], mean[2]};
    const double ratio = (double)s / out;
    for (int c0 = 0; c0 < out; c0 += CHUNK) {
        const int nc = out - c0 < CHUNK ? out - c0 : CHUNK;
        for (int j = 0; j < nc; j++) {
            double fx = ratio * (c0 + j);
            int xlo = (int)floor(fx), xhi = (int)ceil(fx);
            if (xhi > s - 1) xhi = s - 1;
            xw[j] = fx - xlo;
            int ix0 = xlo - pad_left, ix1 = xhi - pad_left;
            off0[j] = ix0 >= 0 && ix0 < cw ? (x0 + ix0) * 3 : -1;
            off1[j] = ix1 >= 0 && ix1 < cw ? (x0 + ix1) * 3 : -1;
        }
        for (int r = 0; r < out; r++) {
            double fy = ratio * r;
            int ylo = (int)floor(fy), yhi = (int)ceil(fy);
            if (yhi > s - 1) yhi = s - 1;
            double yf = fy - ylo;
            int iy0 = ylo - pad_top, iy1 = yhi - pad_top;
            const uint8_t *row0 = iy0 >= 0 && iy0 < ch ? rgb + (size_t)(y0 + iy0) * stride : NULL;
            const uint8_t *row1 = iy1 >= 0 && iy1 < ch ? rgb + (size_t)(y0 + iy1) * stride : NULL;
            if (!row0 && !row1)  /* a row of padding: what the formula gives for four zeros */
                memset(tmp, 0, sizeof tmp);
            for (int j = 0; j < nc && (row0 || row1); j++) {
                double xf = xw[j];
                float *o = tmp + j * 3;
                if (row0 && row1 && off0[j] >= 0 && off1[j] >= 0) {
                    const uint8_t *tl = row0 + off0[j], *tr = row0 + off1[j];
                    const uint8_t *bl = row1 + off0[j], *br = row1 + off1[j];
                    for (int k = 0; k < 3; k++) {
                        double vtl = tl[k], vtr = tr[k], vbl = bl[k], vbr = br[k];
                        double top = vtl + (vtr - vtl) * xf;
                        double bot = vbl + (vbr - vbl) * xf;
                        o[k] = (float)(top + (bot - top) * yf);
                    }
                    continue;
                }
                const uint8_t *tl = row0 && off0[j] >= 0 ? row0 + off0[j] : NULL;
                const uint8_t *tr = row0 && off1[j] >= 0 ? row0 + off1[j] : NULL;
                const uint8_t *bl = row1 && off0[j] >= 0 ? row1 + off0[j] : NULL;
                const uint8_t *br = row1 && off1[j] >= 0 ? row1 + off1[j] : NULL;
                for (int k = 0; k < 3; k++) {
                    double vtl = tl ? tl[k] : 0, vtr = tr ? tr[k] : 0;
                    double vbl = bl ? bl[k] : 0, vbr = br ? br[k] : 0;
                    double top = vtl + (vtr - vtl) * xf;
                    double bot = vbl + (vbr - vbl) * xf;
                    o[k] = (float)(top + (bot - top) * yf);
                }
            }
            float *d = dst + ((size_t)r * out + c0) * 3;
            int i = 0;
            for (; i + 24 <= nc * 3; i += 24) {  /* eight pixels: the mean pattern repeats */
                st8(d + i, (ld8(tmp + i) - m0) / 255.0f);
                st8(d + i + 8, (ld8(tmp + i + 8) - m1) / 255.0f);
                st8(d + i + 16, (ld8(tmp + i + 16) - m2) / 255.0f);
            }
            for (; i < nc * 3; i++) d[i] = (tmp[i] - mean[i % 3]) / 255.0f;
        }
    }
}

/* -std=c11 turns off fusing a * b + c into one FMA instruction; the convolutions below want it
 * (half the instructions, one rounding instead of two). The resize above and the box decoding
 * below keep the separate roundings the package's arithmetic has. */
#if defined(__clang__)
#pragma clang fp contract(fast)
#elif defined(__GNUC__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=fast")
#endif

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
    for (int oy = 0; oy < oh; oy++) {
        /* taps that fall inside the input, found once per pixel rather than per channel group */
        int ybase = oy * stride - pad_top;
        int ky0 = ybase < 0 ? -ybase : 0, ky1 = ih - ybase < 3 ? ih - ybase : 3;
        for (int ox = 0; ox < ow; ox++) {
            int xbase = ox * stride - pad_left;
            int kx0 = xbase < 0 ? -xbase : 0, kx1 = iw - xbase < 3 ? iw - xbase : 3;
            float *o = out + ((size_t)oy * ow + ox) * c;
            const float *base = in + ((ptrdiff_t)ybase * iw + xbase) * c;
            int k0 = 0;
            if (ky0 == 0 && ky1 == 3 && kx0 == 0 && kx1 == 3) {
                /* interior: all nine taps, two groups of eight channels at once */
                const size_t row = (size_t)iw * c;
                for (; k0 + 16 <= c; k0 += 16) {
                    v8f s = {0, 0, 0, 0, 0, 0, 0, 0}, u = s;
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++) {
                            const float *p = base + ky * row + (size_t)kx * c + k0;
                            const float *w = wt + (size_t)(ky * 3 + kx) * c + k0;
                            s += ld8(p) * ld8(w);
                            u += ld8(p + 8) * ld8(w + 8);
                        }
                    st8(o + k0, s);
                    st8(o + k0 + 8, u);
                }
            }
            for (; k0 + 8 <= c; k0 += 8) {
                v8f s = {0, 0, 0, 0, 0, 0, 0, 0};
                for (int ky = ky0; ky < ky1; ky++)
                    for (int kx = kx0; kx < kx1; kx++)
                        s += ld8(base + ((size_t)ky * iw + kx) * c + k0) *
                             ld8(wt + (size_t)(ky * 3 + kx) * c + k0);
                st8(o + k0, s);
            }
            for (int k = k0; k < c; k++) {
                float s = 0;
                for (int ky = ky0; ky < ky1; ky++)
                    for (int kx = kx0; kx < kx1; kx++)
                        s += base[((size_t)ky * iw + kx) * c + k] * wt[(size_t)(ky * 3 + kx) * c + k];
                o[k] = s;
            }
        }
    }
}

void es_fk_pwconv(const float *in, int n, int ci, const float *wt, const float *bias, int co,
                  float *out)
{
    /* A matrix product out[n][co] = in[n][ci] x wt[ci][co] + bias, in strips of sixteen output
     * channels: the strip's weights (ci x 64 bytes) stay in L1 while six pixels at a time run
     * through it, twelve independent sums, two weight loads per twelve FMAs. (On the nets'
     * shapes this beats OpenBLAS's sgemm, whose thread pool would also fight the decoder.) */
    int k0 = 0;
    for (; k0 + 16 <= co; k0 += 16) {
        const v8f ba = ld8(bias + k0), bb = ld8(bias + k0 + 8);
        int p = 0;
        for (; p + 6 <= n; p += 6) {
            const float *x = in + (size_t)p * ci, *w = wt + k0;
            v8f a0 = ba, a1 = ba, a2 = ba, a3 = ba, a4 = ba, a5 = ba;
            v8f b0 = bb, b1 = bb, b2 = bb, b3 = bb, b4 = bb, b5 = bb;
            for (int i = 0; i < ci; i++, w += co) {
                v8f wa = ld8(w), wb = ld8(w + 8);
                float x0 = x[i], x1 = x[ci + i], x2 = x[2 * ci + i];
                float x3 = x[3 * ci + i], x4 = x[4 * ci + i], x5 = x[5 * ci + i];
                a0 += x0 * wa;
                b0 += x0 * wb;
                a1 += x1 * wa;
                b1 += x1 * wb;
                a2 += x2 * wa;
                b2 += x2 * wb;
                a3 += x3 * wa;
                b3 += x3 * wb;
                a4 += x4 * wa;
                b4 += x4 * wb;
                a5 += x5 * wa;
                b5 += x5 * wb;
            }
            float *o = out + (size_t)p * co + k0;
            st8(o, a0);
            st8(o + 8, b0);
            st8(o + co, a1);
            st8(o + co + 8, b1);
            st8(o + 2 * co, a2);
            st8(o + 2 * co + 8, b2);
            st8(o + 3 * co, a3);
            st8(o + 3 * co + 8, b3);
            st8(o + 4 * co, a4);
            st8(o + 4 * co + 8, b4);
            st8(o + 5 * co, a5);
            st8(o + 5 * co + 8, b5);
        }
        for (; p < n; p++) {
            const float *x = in + (size_t)p * ci, *w = wt + k0;
            v8f a = ba, b = bb;
            for (int i = 0; i < ci; i++, w += co) {
                a += x[i] * ld8(w);
                b += x[i] * ld8(w + 8);
            }
            st8(out + (size_t)p * co + k0, a);
            st8(out + (size_t)p * co + k0 + 8, b);
        }
    }
    if (k0 + 8 <= co) {  /* one strip of eight */
        const v8f ba = ld8(bias + k0);
        int p = 0;
        for (; p + 4 <= n; p += 4) {
            const float *x = in + (size_t)p * ci, *w = wt + k0;
            v8f a0 = ba, a1 = ba, a2 = ba, a3 = ba;
            for (int i = 0; i < ci; i++, w += co) {
                v8f wa = ld8(w);
                a0 += x[i] * wa;
                a1 += x[ci + i] * wa;
                a2 += x[2 * ci + i] * wa;
                a3 += x[3 * ci + i] * wa;
            }
            float *o = out + (size_t)p * co + k0;
            st8(o, a0);
            st8(o + co, a1);
            st8(o + 2 * co, a2);
            st8(o + 3 * co, a3);
        }
        for (; p < n; p++) {
            const float *x = in + (size_t)p * ci, *w = wt + k0;
            v8f a = ba;
            for (int i = 0; i < ci; i++, w += co) a += x[i] * ld8(w);
            st8(out + (size_t)p * co + k0, a);
        }
        k0 += 8;
    }
    for (int p = 0; p < n && k0 < co; p++) {  /* the last co % 8 channels */
        const float *x = in + (size_t)p * ci;
        for (int k = k0; k < co; k++) {
            float s = bias[k];
            for (int i = 0; i < ci; i++) s += x[i] * wt[(size_t)i * co + k];
            out[(size_t)p * co + k] = s;
        }
    }
}

/* Lane-wise max and leaky ReLU (slope 0.1) as masks and blends, since C has no vector ?:.
 * Macros on variables rather than functions: a function passing an AVX vector by value
 * changes the ABI in builds without -march (and GCC warns). */
typedef int v8i __attribute__((vector_size(32)));

#define MAX_INTO(m, v)                                            \
    do {                                                          \
        v8f v_ = (v);                                             \
        v8i k_ = v_ > (m);                                        \
        (m) = (v8f)((k_ & (v8i)v_) | (~k_ & (v8i)(m)));           \
    } while (0)
#define LEAKY_INTO(m)                                             \
    do {                                                          \
        v8i k_ = (m) < 0;                                         \
        (m) = (v8f)((k_ & (v8i)((m) * 0.1f)) | (~k_ & (v8i)(m))); \
    } while (0)

static inline float leaky1(float x) { return x < 0 ? x * 0.1f : x; }

/* Leaky ReLU is non-decreasing, so the max of leaky values is leaky of the max: the kernels
 * below pool first and apply it once per output, which gives the same numbers. */

void es_fk_pool2_leaky(const float *in, int ih, int iw, int c, int stride, float *out)
{
    int oh = (ih + stride - 1) / stride, ow = (iw + stride - 1) / stride;
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
            int y = oy * stride, x = ox * stride;
            const float *p00 = in + ((size_t)y * iw + x) * c;
            /* window cells past the bottom/right edge repeat an inside one: max unchanged */
            const float *p01 = x + 1 < iw ? p00 + c : p00;
            const float *p10 = y + 1 < ih ? p00 + (size_t)iw * c : p00;
            const float *p11 = y + 1 < ih ? p01 + (size_t)iw * c : p01;
            float *o = out + ((size_t)oy * ow + ox) * c;
            int k = 0;
            for (; k + 8 <= c; k += 8) {
                v8f m = ld8(p00 + k);
                MAX_INTO(m, ld8(p01 + k));
                MAX_INTO(m, ld8(p10 + k));
                MAX_INTO(m, ld8(p11 + k));
                LEAKY_INTO(m);
                st8(o + k, m);
            }
            for (; k < c; k++) {
                float m = p00[k];
                if (p01[k] > m) m = p01[k];
                if (p10[k] > m) m = p10[k];
                if (p11[k] > m) m = p11[k];
                o[k] = leaky1(m);
            }
        }
}

void es_fk_conv3x3_leaky_pool(const float *in, int ih, int iw, int ci, const float *wt,
                              const float *bias, int co, int rows, int cols, float *out)
{
    const int ch = ih - 2, cw = iw - 2, ow = (cw + 1) / 2;
    const size_t row = (size_t)iw * ci;
    /* per kernel row, the three taps' inputs are 3 * ci consecutive floats, and so are their
     * weight rows: one loop of 3 * ci steps instead of three of ci */
    const int span = 3 * ci;
    if (rows > (ch + 1) / 2) rows = (ch + 1) / 2;
    if (cols > ow) cols = ow;
    for (int oy = 0; oy < rows; oy++)
        for (int ox = 0; ox < cols; ox++) {
            /* the 2x2 window of conv outputs; at an odd edge the missing ones repeat the first */
            int y = 2 * oy, x = 2 * ox;
            const float *p00 = in + (size_t)y * row + (size_t)x * ci;
            const float *p01 = x + 1 < cw ? p00 + ci : p00;
            const float *p10 = y + 1 < ch ? p00 + row : p00;
            const float *p11 = y + 1 < ch ? p01 + row : p01;
            float *o = out + ((size_t)oy * ow + ox) * co;
            int k0 = 0;
            for (; k0 + 16 <= co; k0 += 16) {  /* four outputs x sixteen channels */
                v8f a00 = ld8(bias + k0), a01 = a00, a10 = a00, a11 = a00;
                v8f b00 = ld8(bias + k0 + 8), b01 = b00, b10 = b00, b11 = b00;
                for (int ky = 0; ky < 3; ky++) {
                    const size_t off = ky * row;
                    const float *wk = wt + (size_t)ky * span * co + k0;
                    for (int j = 0; j < span; j++, wk += co) {
                        v8f wa = ld8(wk), wb = ld8(wk + 8);
                        float v00 = p00[off + j], v01 = p01[off + j];
                        float v10 = p10[off + j], v11 = p11[off + j];
                        a00 += v00 * wa;
                        b00 += v00 * wb;
                        a01 += v01 * wa;
                        b01 += v01 * wb;
                        a10 += v10 * wa;
                        b10 += v10 * wb;
                        a11 += v11 * wa;
                        b11 += v11 * wb;
                    }
                }
                MAX_INTO(a00, a01);
                MAX_INTO(a00, a10);
                MAX_INTO(a00, a11);
                LEAKY_INTO(a00);
                st8(o + k0, a00);
                MAX_INTO(b00, b01);
                MAX_INTO(b00, b10);
                MAX_INTO(b00, b11);
                LEAKY_INTO(b00);
                st8(o + k0 + 8, b00);
            }
            for (; k0 + 8 <= co; k0 += 8) {
                v8f s00 = ld8(bias + k0), s01 = s00, s10 = s00, s11 = s00;
                for (int ky = 0; ky < 3; ky++) {
                    const size_t off = ky * row;
                    const float *wk = wt + (size_t)ky * span * co + k0;
                    for (int j = 0; j < span; j++, wk += co) {
                        v8f wv = ld8(wk);
                        s00 += p00[off + j] * wv;
                        s01 += p01[off + j] * wv;
                        s10 += p10[off + j] * wv;
                        s11 += p11[off + j] * wv;
                    }
                }
                MAX_INTO(s00, s01);
                MAX_INTO(s00, s10);
                MAX_INTO(s00, s11);
                LEAKY_INTO(s00);
                st8(o + k0, s00);
            }
            for (int k = k0; k < co; k++) {
                float m = 0;
                const float *ps[4] = {p00, p01, p10, p11};
                for (int q = 0; q < 4; q++) {
                    float s = bias[k];
                    for (int ky = 0; ky < 3; ky++)
                        for (int j = 0; j < span; j++)
                            s += ps[q][ky * row + j] * wt[((size_t)ky * span + j) * co + k];
                    if (q == 0 || s > m) m = s;
                }
                o[k] = leaky1(m);
            }
        }
}

#if defined(__clang__)
#pragma clang fp contract(on)
#elif defined(__GNUC__)
#pragma GCC pop_options
#endif

/* ---- detector ---- */

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

/* Rows [r0, r1) of the stride-1 'same' depthwise conv of in (ih x iw x c) into the same rows of
 * out: the whole call's numbers, since each row reads the same input rows and taps. */
static void dwconv_rows(const float *in, int ih, int iw, int c, const float *wt, float *out, int r0, int r1)
{
    if (r0 >= r1) return;
    const size_t row = (size_t)iw * c;
    int first = r0 > 0 ? r0 - 1 : 0, last = r1 < ih ? r1 : ih - 1; /* input rows read */
    es_fk_dwconv3x3(in + first * row, last - first + 1, iw, c, wt, 1, r0 > 0 ? 0 : 1, 1, out + r0 * row, r1 - r0, iw);
}

/* Separable layer l (depthwise, then pointwise with bias) from t->b (ih x iw) into t->a. Input
 * rows *lo .. *hi are copies of one row (what lies under a wide picture): output rows
 * lo + 1 .. hi - 1 then are copies of one row too, computed once and copied. On return *lo and
 * *hi hold the rows of the pooled output (stride st) that are copies of one row. A square
 * picture has no such rows and takes the plain route; test_faces_reference holds a wide picture
 * bit-identical to the same picture made square with black rows. */
static void separable(es_tinyface *t, int l, int ih, int iw, int st, int *lo, int *hi)
{
    const int ci = sep_ch[l], co = sep_ch[l + 1];
    const sep_layer *L = &t->sep[l];
    int u0 = *lo + 1, u1 = *hi - 1; /* output rows equal to row u0 */
    if (u1 - u0 < 2) u0 = ih, u1 = ih - 1;
    int head = u0 + 1 < ih ? u0 + 1 : ih; /* rows [0, head) and [u1 + 1, ih) are computed */
    dwconv_rows(t->b, ih, iw, ci, L->dw, t->dw, 0, head);
    es_fk_pwconv(t->dw, head * iw, ci, L->pw, L->bias, co, t->a);
    if (u1 >= u0 && u1 + 1 < ih) {
        dwconv_rows(t->b, ih, iw, ci, L->dw, t->dw, u1 + 1, ih);
        es_fk_pwconv(t->dw + (size_t)(u1 + 1) * iw * ci, (ih - u1 - 1) * iw, ci, L->pw, L->bias, co,
                     t->a + (size_t)(u1 + 1) * iw * co);
    }
    for (int y = u0 + 1; y <= u1; y++)
        memcpy(t->a + (size_t)y * iw * co, t->a + (size_t)u0 * iw * co, (size_t)iw * co * sizeof *t->a);
    /* a pooled row reads rows st * oy and st * oy + 1 */
    if (u1 - u0 >= 2) {
        *lo = (u0 + st - 1) / st;
        *hi = (u1 - 1) / st;
    } else {
        *lo = 1, *hi = 0;
    }
}

int es_tinyface_run(es_tinyface *t, const uint8_t *rgb, int w, int h, int stride,
                    es_face_box *boxes, int max_boxes)
{
    if (!t || !rgb || w < 1 || h < 1 || stride < 3LL * w || max_boxes < 0 || (max_boxes && !boxes))
        return es_fail("face detector: bad image arguments (%dx%d, stride %d)", w, h, stride);
    const int n = t->size, grid = n / 32;
    int s = w > h ? w : h;
    es_fk_square_resize(rgb, stride, 0, 0, w, h, 0, 0, s, n, mean_rgb, t->input);

    /* conv0: 3x3 valid, 3 -> 16, with its leaky ReLU and 2x2 max pool. A wide picture leaves
     * the input's bottom rows all padding (the bottom 44% for 16:9), a tall one its right
     * columns: a pooled output whose window lies wholly there is pad0, computed the same way
     * once. From row/column `pure_*` on the input is padding only (all four resize samples
     * outside the picture); pooled row py reads input rows 2py .. 2py + 3. */
    int ih = (n - 2 + 1) / 2, iw = ih;
    const double ratio = (double)s / n;
    int pure_r = n, pure_c = n;
    for (int r = n - 1; r >= 0 && (int)floor(ratio * r) >= h; r--) pure_r = r;
    for (int c = n - 1; c >= 0 && (int)floor(ratio * c) >= w; c--) pure_c = c;
    const int rows = (pure_r + 1) / 2 < ih ? (pure_r + 1) / 2 : ih;
    const int cols = (pure_c + 1) / 2 < iw ? (pure_c + 1) / 2 : iw;
    es_fk_conv3x3_leaky_pool(t->input, n, n, 3, t->conv0_w, t->conv0_b, 16, rows, cols, t->b);
    for (int y = 0; y < ih; y++)
        for (int x = y < rows ? cols : 0; x < iw; x++)
            memcpy(t->b + ((size_t)y * iw + x) * 16, t->pad0, sizeof t->pad0);
    /* under a wide picture every row from `rows` on is pad0 throughout */
    int lo = rows < ih && cols >= iw ? rows : 1, hi = rows < ih && cols >= iw ? ih - 1 : 0;
    for (int l = 0; l < 5; l++) {
        int co = sep_ch[l + 1], st = l < 4 ? 2 : 1;
        separable(t, l, ih, iw, st, &lo, &hi);
        es_fk_pool2_leaky(t->a, ih, iw, co, st, t->b);
        ih = (ih + st - 1) / st;
        iw = (iw + st - 1) / st;
    }
    /* conv8: 1x1, 512 -> 5 anchors x 5, on the grid x grid cells */
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
    for (int row = 0; row < grid; row++)
        for (int col = 0; col < grid; col++)
            for (int a = 0; a < ANCHORS; a++) {
                const float *e = outp + ((size_t)(row * grid + col) * ANCHORS + a) * 5;
                double score = sigmoid(e[4]);
                if (!(score > ES_TINYFACE_SCORE)) continue;
                double cx = (col + sigmoid(e[0])) / grid * cfx;
                double cy = (row + sigmoid(e[1])) / grid * cfy;
                double bw = exp(e[2]) * anchors[a][0] / grid * cfx;
                double bh = exp(e[3]) * anchors[a][1] / grid * cfy;
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
