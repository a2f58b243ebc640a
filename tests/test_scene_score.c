/* Scene score internals: the fast SAD kernel against its plain twin, the pixel format select
 * negotiates (against what the ffmpeg tool picks: it logs the auto-inserted scaler's formats),
 * the plane layout, and the score formula on frames with hand-computed values. The per-frame
 * match with the ffmpeg tool on real clips is in test_media_decode. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "scene/score.h"

static void test_sad_kernels(void)
{
    enum { W = 203, H = 7, S = 224 };
    static uint8_t a[H * S], b[H * S];
    uint32_t x = 12345;
    for (int i = 0; i < H * S; i++) {
        x = x * 1664525u + 1013904223u;
        a[i] = (uint8_t)(x >> 24);
        x = x * 1664525u + 1013904223u;
        b[i] = (uint8_t)(x >> 24);
    }
    /* every width 0..W, including tails shorter than the vector width, and odd strides */
    int bad = 0;
    for (int w = 0; w <= W; w++)
        if (es_scene_sad8(a, S, b, S - 1, w, H) != es_scene_sad8_ref(a, S, b, S - 1, w, H)) bad++;
    CHECK(bad == 0);
    /* extremes: 0 vs 255 everywhere */
    memset(a, 0, sizeof a);
    memset(b, 255, sizeof b);
    CHECK(es_scene_sad8(a, S, b, S, W, H) == (uint64_t)255 * W * H);
    CHECK(es_scene_sad8(a, S, a, S, W, H) == 0);
    /* 16-bit samples */
    uint16_t c[4] = {0, 1023, 500, 7}, d[4] = {1023, 0, 400, 7};
    CHECK(es_scene_sad16((const uint8_t *)c, 8, (const uint8_t *)d, 8, 4, 1) == 1023 + 1023 + 100);
}

static void test_formats(void)
{
    /* accepted as they are */
    CHECK(es_scene_pix_fmt(AV_PIX_FMT_YUV420P) == AV_PIX_FMT_YUV420P);
    CHECK(es_scene_pix_fmt(AV_PIX_FMT_YUVJ420P) == AV_PIX_FMT_YUVJ420P);
    CHECK(es_scene_pix_fmt(AV_PIX_FMT_YUV422P) == AV_PIX_FMT_YUV422P);
    CHECK(es_scene_pix_fmt(AV_PIX_FMT_RGB24) == AV_PIX_FMT_RGB24);
    CHECK(es_scene_pix_fmt(AV_PIX_FMT_BGRA) == AV_PIX_FMT_BGRA);
    CHECK(es_scene_pix_fmt(AV_PIX_FMT_GRAY8) == AV_PIX_FMT_GRAY8);
    CHECK(es_scene_pix_fmt(AV_PIX_FMT_YUV420P10) == AV_PIX_FMT_YUV420P10);
    /* converted: what `ffmpeg -v debug ... -vf format=X,select=...` shows auto_scale picking */
    CHECK(es_scene_pix_fmt(AV_PIX_FMT_YUV444P) == AV_PIX_FMT_YUV420P);
    CHECK(es_scene_pix_fmt(AV_PIX_FMT_NV12) == AV_PIX_FMT_YUV420P);
    CHECK(es_scene_pix_fmt(AV_PIX_FMT_BGR0) == AV_PIX_FMT_RGB24);
    CHECK(es_scene_pix_fmt(AV_PIX_FMT_GBRP) == AV_PIX_FMT_RGB24);
    CHECK(es_scene_pix_fmt(AV_PIX_FMT_YUVA420P) == AV_PIX_FMT_RGBA);
    CHECK(es_scene_pix_fmt(AV_PIX_FMT_YUV420P12) == AV_PIX_FMT_YUV420P10);
    CHECK(es_scene_pix_fmt(AV_PIX_FMT_YUV444P10) == AV_PIX_FMT_YUV420P10);
    CHECK(es_scene_pix_fmt(AV_PIX_FMT_NONE) == AV_PIX_FMT_NONE);
}

static void test_layout(void)
{
    es_scene_scorer s;
    CHECK(es_scene_scorer_init(&s, AV_PIX_FMT_YUV420P, 171, 97) == 0);
    CHECK(s.nb_planes == 1 && s.bitdepth == 8); /* luma only */
    CHECK(s.width[0] == 171 && s.height[0] == 97);
    CHECK(es_scene_scorer_init(&s, AV_PIX_FMT_RGB24, 10, 4) == 0);
    CHECK(s.nb_planes == 1 && s.width[0] == 30 && s.height[0] == 4);
    CHECK(es_scene_scorer_init(&s, AV_PIX_FMT_YUV420P10, 8, 6) == 0);
    CHECK(s.nb_planes == 1 && s.bitdepth == 10 && s.width[0] == 8 && s.height[0] == 6);
    CHECK(es_scene_scorer_init(&s, AV_PIX_FMT_GRAY8, 5, 5) == 0 && s.nb_planes == 1);
    CHECK(es_scene_scorer_init(&s, AV_PIX_FMT_YUV444P, 8, 8) != 0); /* select never sees it */
    CHECK(es_scene_scorer_init(&s, AV_PIX_FMT_YUV420P, 0, 8) != 0);
}

/* 16x16 yuv420p frames with constant planes. */
static void fill(uint8_t *y, uint8_t *u, uint8_t *v, int yv, int uv, int vv)
{
    memset(y, yv, 256);
    memset(u, uv, 64);
    memset(v, vv, 64);
}

static void test_formula(void)
{
    static uint8_t y0[256], u0[64], v0[64], y1[256], u1[64], v1[64];
    const uint8_t *f0[4] = {y0, u0, v0, NULL}, *f1[4] = {y1, u1, v1, NULL};
    int ls[4] = {16, 8, 8, 0};
    es_scene_scorer s;
    CHECK(es_scene_scorer_init(&s, AV_PIX_FMT_YUV420P, 16, 16) == 0);
    fill(y0, u0, v0, 0, 128, 128);
    fill(y1, u1, v1, 10, 128, 128);
    CHECK(es_scene_score_frame(&s, NULL, ls, f0, ls) == 0.0); /* first frame */
    /* luma sad = 256*10 over 256 samples: mafd 10, previous mafd 0, score mafd/100 */
    CHECK_NEAR(es_scene_score_frame(&s, f0, ls, f1, ls), 0.1, 1e-12);
    CHECK_NEAR(s.prev_mafd, 10.0, 1e-12);
    /* chroma changes alone do not count */
    fill(y0, u0, v0, 10, 0, 255);
    CHECK(es_scene_score_frame(&s, f1, ls, f0, ls) == 0.0);
    CHECK(s.prev_mafd == 0.0);
    /* identical frame: mafd 0, score 0 */
    CHECK(es_scene_score_frame(&s, f1, ls, f1, ls) == 0.0);
    /* a big change: Y 10 -> 250: mafd 240 -> 1 */
    fill(y0, u0, v0, 250, 0, 128);
    CHECK(es_scene_score_frame(&s, f1, ls, f0, ls) == 1.0);
    /* the same change again right after: diff = |mafd - prev| = 0 although mafd is large */
    CHECK(es_scene_score_frame(&s, f0, ls, f1, ls) == 0.0);
}

int main(void)
{
    test_sad_kernels();
    test_formats();
    test_layout();
    test_formula();
    return check_report("test_scene_score");
}
