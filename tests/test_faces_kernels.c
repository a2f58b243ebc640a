/* The face nets' fast kernels (eight channels per vector, several pixels per weight load,
 * fused activation + pooling) against plain twins written here straight from the definitions,
 * on random data and on shapes the nets never use (channel counts that are not multiples of 8
 * or 16, pixel counts not multiples of 4 or 6, strides, one-sided padding, odd pooling edges),
 * so every blocked and remainder path is held equal. Also the square-pad + bilinear resize
 * against a twin that builds the padded picture first. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/rng.h"
#include "emotion/tinyface.h"

static es_rng rng;

static float *randv(size_t n)
{
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = (float)(es_rng_uniform(&rng) * 2 - 1);
    return v;
}

static double max_rel_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]) / (1 + fabs((double)b[i]));
        if (d > m) m = d;
    }
    return m;
}

/* out[oy][ox][k] = bias[k] + sum over taps and i of in[y][x][i] * w[ky][kx][i][k]; outside = 0 */
static void conv_twin(const float *in, int ih, int iw, int ci, const float *w, const float *bias,
                      int co, int stride, int pt, int pl, float *out, int oh, int ow, int depthwise)
{
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
            for (int k = 0; k < co; k++) {
                double s = bias ? bias[k] : 0;
                for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++) {
                        int y = oy * stride + ky - pt, x = ox * stride + kx - pl;
                        if (y < 0 || y >= ih || x < 0 || x >= iw) continue;
                        if (depthwise)
                            s += (double)in[((size_t)y * iw + x) * ci + k] * w[(ky * 3 + kx) * ci + k];
                        else
                            for (int i = 0; i < ci; i++)
                                s += (double)in[((size_t)y * iw + x) * ci + i] * w[((ky * 3 + kx) * ci + i) * co + k];
                    }
                out[((size_t)oy * ow + ox) * co + k] = (float)s;
            }
}

static void test_conv(void)
{
    static const struct { int ih, iw, ci, co, stride, pt, pl; } cases[] = {
        {9, 7, 3, 16, 1, 0, 0},  {8, 8, 3, 32, 2, 0, 0},  {6, 5, 5, 24, 1, 1, 1},
        {7, 9, 4, 25, 2, 1, 0},  {5, 5, 2, 7, 1, 1, 1},   {4, 6, 8, 40, 2, 0, 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int ih = cases[c].ih, iw = cases[c].iw, ci = cases[c].ci, co = cases[c].co, st = cases[c].stride;
        int pt = cases[c].pt, pl = cases[c].pl;
        int oh = (ih + 2 * pt - 3) / st + 1, ow = (iw + 2 * pl - 3) / st + 1;
        size_t on = (size_t)oh * ow * co;
        float *in = randv((size_t)ih * iw * ci), *w = randv(9 * (size_t)ci * co), *b = randv((size_t)co);
        float *fast = malloc(on * sizeof *fast), *plain = malloc(on * sizeof *plain);
        es_fk_conv3x3(in, ih, iw, ci, w, b, co, st, pt, pl, fast, oh, ow);
        conv_twin(in, ih, iw, ci, w, b, co, st, pt, pl, plain, oh, ow, 0);
        double d = max_rel_diff(fast, plain, on);
        if (d > 1e-5) fprintf(stderr, "conv3x3 case %zu: max rel diff %g\n", c, d);
        CHECK(d <= 1e-5);

        /* depthwise with the same geometry, c = co channels */
        float *din = randv((size_t)ih * iw * co), *dw = randv(9 * (size_t)co);
        es_fk_dwconv3x3(din, ih, iw, co, dw, st, pt, pl, fast, oh, ow);
        conv_twin(din, ih, iw, co, dw, NULL, co, st, pt, pl, plain, oh, ow, 1);
        d = max_rel_diff(fast, plain, on);
        if (d > 1e-5) fprintf(stderr, "dwconv case %zu: max rel diff %g\n", c, d);
        CHECK(d <= 1e-5);
        free(din);
        free(dw);
        free(in);
        free(w);
        free(b);
        free(fast);
        free(plain);
    }
}

static void test_pointwise(void)
{
    static const int shapes[][3] = {{1, 3, 8},    {4, 16, 32},  {5, 7, 25},  {7, 9, 16},
                                    {13, 32, 7},  {49, 12, 24}, {45, 64, 48}, {23, 40, 57}};
    for (size_t c = 0; c < sizeof shapes / sizeof shapes[0]; c++) {
        int n = shapes[c][0], ci = shapes[c][1], co = shapes[c][2];
        float *in = randv((size_t)n * ci), *w = randv((size_t)ci * co), *b = randv((size_t)co);
        float *fast = malloc((size_t)n * co * sizeof *fast), *plain = malloc((size_t)n * co * sizeof *plain);
        es_fk_pwconv(in, n, ci, w, b, co, fast);
        for (int p = 0; p < n; p++)
            for (int k = 0; k < co; k++) {
                double s = b[k];
                for (int i = 0; i < ci; i++) s += (double)in[p * ci + i] * w[i * co + k];
                plain[p * co + k] = (float)s;
            }
        double d = max_rel_diff(fast, plain, (size_t)n * co);
        if (d > 1e-5) fprintf(stderr, "pwconv %dx%d->%d: max rel diff %g\n", n, ci, co, d);
        CHECK(d <= 1e-5);
        free(in);
        free(w);
        free(b);
        free(fast);
        free(plain);
    }
}

static float leaky_twin(float x) { return x < 0 ? x * 0.1f : x; }

/* leaky ReLU of every value, then a 2x2 max pool with tfjs 'same' padding: out ceil(i / stride),
 * window cells past the bottom/right edge left out */
static void pool_twin(const float *in, int ih, int iw, int c, int stride, float *out)
{
    int oh = (ih + stride - 1) / stride, ow = (iw + stride - 1) / stride;
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
            for (int k = 0; k < c; k++) {
                float m = -INFINITY;
                for (int dy = 0; dy < 2; dy++)
                    for (int dx = 0; dx < 2; dx++) {
                        int y = oy * stride + dy, x = ox * stride + dx;
                        if (y >= ih || x >= iw) continue;
                        float v = leaky_twin(in[((size_t)y * iw + x) * c + k]);
                        if (v > m) m = v;
                    }
                out[((size_t)oy * ow + ox) * c + k] = m;
            }
}

static void test_pool(void)
{
    static const struct { int ih, iw, c, stride; } cases[] = {
        {6, 6, 16, 2}, {7, 5, 12, 2}, {5, 5, 9, 1}, {1, 1, 8, 2}, {13, 13, 40, 1}, {3, 4, 3, 2},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int ih = cases[c].ih, iw = cases[c].iw, ch = cases[c].c, st = cases[c].stride;
        size_t on = (size_t)((ih + st - 1) / st) * ((iw + st - 1) / st) * ch;
        float *in = randv((size_t)ih * iw * ch);
        float *fast = malloc(on * sizeof *fast), *plain = malloc(on * sizeof *plain);
        es_fk_pool2_leaky(in, ih, iw, ch, st, fast);
        pool_twin(in, ih, iw, ch, st, plain);
        CHECK(memcmp(fast, plain, on * sizeof *fast) == 0);
        free(in);
        free(fast);
        free(plain);
    }
}

/* the fused conv0: the conv twin (stride 1, no padding), then the pool twin */
static void test_conv_pool(void)
{
    static const struct { int ih, iw, ci, co; } cases[] = {
        {9, 7, 3, 16}, {10, 11, 5, 24}, {5, 6, 2, 7}, {4, 4, 3, 16}, {3, 3, 3, 8}, {8, 9, 4, 33},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int ih = cases[c].ih, iw = cases[c].iw, ci = cases[c].ci, co = cases[c].co;
        int ch = ih - 2, cw = iw - 2;
        size_t cn = (size_t)ch * cw * co, on = (size_t)((ch + 1) / 2) * ((cw + 1) / 2) * co;
        float *in = randv((size_t)ih * iw * ci), *w = randv(9 * (size_t)ci * co), *b = randv((size_t)co);
        float *conv = malloc(cn * sizeof *conv);
        float *fast = malloc(on * sizeof *fast), *plain = malloc(on * sizeof *plain);
        int oh = (ch + 1) / 2, ow = (cw + 1) / 2;
        es_fk_conv3x3_leaky_pool(in, ih, iw, ci, w, b, co, oh, ow, fast);
        conv_twin(in, ih, iw, ci, w, b, co, 1, 0, 0, conv, ch, cw, 0);
        pool_twin(conv, ch, cw, co, 2, plain);
        double d = max_rel_diff(fast, plain, on);
        if (d > 1e-5) fprintf(stderr, "conv+pool case %zu: max rel diff %g\n", c, d);
        CHECK(d <= 1e-5);
        /* only the top-left rows x cols block: the same values there, the rest untouched */
        int rows = (oh + 1) / 2, cols = ow / 2;
        for (size_t i = 0; i < on; i++) fast[i] = 1234.5f;
        es_fk_conv3x3_leaky_pool(in, ih, iw, ci, w, b, co, rows, cols, fast);
        int inside_ok = 1, outside_ok = 1;
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++)
                for (int k = 0; k < co; k++) {
                    size_t i = ((size_t)y * ow + x) * co + k;
                    if (y < rows && x < cols) inside_ok &= fabs(fast[i] - plain[i]) <= 1e-5 * (1 + fabs(plain[i]));
                    else outside_ok &= fast[i] == 1234.5f;
                }
        CHECK(inside_ok && outside_ok);
        free(in);
        free(w);
        free(b);
        free(conv);
        free(fast);
        free(plain);
    }
}

/* Twin: materialise the zero-padded square, then tf.image.resizeBilinear's formula. */
static void resize_twin(const uint8_t *rgb, int stride, int x0, int y0, int cw, int ch, int pl,
                        int pt, int s, int out, const float mean[3], float *dst)
{
    float *sq = calloc((size_t)s * s * 3, sizeof *sq);
    for (int y = 0; y < ch; y++)
        for (int x = 0; x < cw; x++)
            for (int k = 0; k < 3; k++)
                sq[((size_t)(y + pt) * s + x + pl) * 3 + k] = rgb[(size_t)(y0 + y) * stride + (x0 + x) * 3 + k];
    double ratio = (double)s / out;
    for (int r = 0; r < out; r++)
        for (int c = 0; c < out; c++) {
            double fy = ratio * r, fx = ratio * c;
            int y0f = (int)floor(fy), x0f = (int)floor(fx);
            int y1 = (int)fmin(s - 1, ceil(fy)), x1 = (int)fmin(s - 1, ceil(fx));
            for (int k = 0; k < 3; k++) {
                double tl = sq[((size_t)y0f * s + x0f) * 3 + k], tr = sq[((size_t)y0f * s + x1) * 3 + k];
                double bl = sq[((size_t)y1 * s + x0f) * 3 + k], br = sq[((size_t)y1 * s + x1) * 3 + k];
                double top = tl + (tr - tl) * (fx - x0f), bot = bl + (br - bl) * (fx - x0f);
                float v = (float)(top + (bot - top) * (fy - y0f));
                dst[((size_t)r * out + c) * 3 + k] = (v - mean[k]) / 255.0f;
            }
        }
    free(sq);
}

static void test_resize(void)
{
    const float mean[3] = {117.001f, 114.697f, 97.404f};
    int w = 37, h = 23, stride = 3 * w + 5;
    uint8_t *img = malloc((size_t)stride * h);
    for (int i = 0; i < stride * h; i++) img[i] = (uint8_t)es_rng_below(&rng, 256);
    static const struct { int x0, y0, cw, ch, pl, pt, out; } cases[] = {
        {0, 0, 37, 23, 0, 0, 416},  /* detector: pad bottom, upscale */
        {0, 0, 37, 23, 0, 0, 16},   /* downscale */
        {5, 2, 20, 17, 0, 1, 112},  /* expression crop: pad split top 1, bottom 2 */
        {3, 4, 10, 19, 5, 0, 112},  /* taller than wide: pad left 5, right 4 */
        {0, 0, 23, 23, 0, 0, 23},   /* same size: an exact copy */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int cw = cases[c].cw, ch = cases[c].ch, s = cw > ch ? cw : ch, out = cases[c].out;
        size_t n = (size_t)out * out * 3;
        float *fast = malloc(n * sizeof *fast), *plain = malloc(n * sizeof *plain);
        es_fk_square_resize(img, stride, cases[c].x0, cases[c].y0, cw, ch, cases[c].pl, cases[c].pt, s, out, mean, fast);
        resize_twin(img, stride, cases[c].x0, cases[c].y0, cw, ch, cases[c].pl, cases[c].pt, s, out, mean, plain);
        CHECK(memcmp(fast, plain, n * sizeof *fast) == 0);
        if (out == s && cases[c].pl == 0 && cases[c].pt == 0 && cw == ch)
            CHECK(fast[3 * (5 * out + 7) + 1] == (img[5 * stride + 7 * 3 + 1] - mean[1]) / 255.0f);
        free(fast);
        free(plain);
    }
    free(img);
}

int main(void)
{
    es_rng_seed(&rng, 11);
    test_conv();
    test_pointwise();
    test_pool();
    test_conv_pool();
    test_resize();
    return check_report("test_faces_kernels");
}
