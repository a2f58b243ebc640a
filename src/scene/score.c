/* FFmpeg select-filter scene score on raw planes (see score.h for the definition). The SAD kernel
 * is the only hot part: one pass over every sample of every frame, so it has an SSE2 version next
 * to the plain one. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/error.h"
#include "scene/score.h"

/* The formats select asks for when scene detection is on, in its order (FFmpeg 5.1). The order
 * matters: negotiation keeps the first of equally good candidates. */
static const enum AVPixelFormat select_fmts[] = {
    AV_PIX_FMT_RGB24,   AV_PIX_FMT_BGR24,    AV_PIX_FMT_RGBA,    AV_PIX_FMT_ABGR,
    AV_PIX_FMT_BGRA,    AV_PIX_FMT_GRAY8,    AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUVJ420P,
    AV_PIX_FMT_YUV422P, AV_PIX_FMT_YUVJ422P, AV_PIX_FMT_YUV420P10,
};
#define N_SELECT_FMTS (int)(sizeof select_fmts / sizeof select_fmts[0])

int es_scene_accepts(enum AVPixelFormat fmt)
{
    for (int i = 0; i < N_SELECT_FMTS; i++)
        if (select_fmts[i] == fmt) return 1;
    return 0;
}

enum AVPixelFormat es_scene_pix_fmt(enum AVPixelFormat src)
{
    const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(src);
    if (!desc) return AV_PIX_FMT_NONE;
    if (es_scene_accepts(src)) return src;
    /* What libavfilter's pick_format does for a link between a fixed source format and a list. */
    int has_alpha = desc->nb_components % 2 == 0;
    enum AVPixelFormat best = AV_PIX_FMT_NONE;
    for (int i = 0; i < N_SELECT_FMTS; i++)
        best = av_find_best_pix_fmt_of_2(best, select_fmts[i], src, has_alpha, NULL);
    return best;
}

int es_scene_scorer_init(es_scene_scorer *s, enum AVPixelFormat fmt, int w, int h)
{
    memset(s, 0, sizeof *s);
    const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(fmt);
    if (!desc || !es_scene_accepts(fmt)) return es_fail("scene score: unsupported pixel format");
    if (w <= 0 || h <= 0) return es_fail("scene score: invalid frame size %dx%d", w, h);
    int is_yuv = !(desc->flags & AV_PIX_FMT_FLAG_RGB) && (desc->flags & AV_PIX_FMT_FLAG_PLANAR) &&
                 desc->nb_components >= 3;
    s->bitdepth = desc->comp[0].depth;
    /* select compares only the luma plane of YUV input, every plane of the others (all of
     * which are packed, so one plane). */
    s->nb_planes = is_yuv ? 1 : av_pix_fmt_count_planes(fmt);
    for (int p = 0; p < s->nb_planes; p++) {
        int line = av_image_get_linesize(fmt, w, p);
        if (line <= 0) return es_fail("scene score: invalid frame size %dx%d", w, h);
        s->width[p] = line >> (s->bitdepth > 8);
        s->height[p] = (p == 1 || p == 2) ? -((-h) >> desc->log2_chroma_h) : h;
    }
    s->frame_w = w;
    s->frame_h = h;
    return 0;
}

uint64_t es_scene_sad8_ref(const uint8_t *a, ptrdiff_t sa, const uint8_t *b, ptrdiff_t sb, int w, int h)
{
    uint64_t sad = 0;
    for (int y = 0; y < h; y++, a += sa, b += sb)
        for (int x = 0; x < w; x++) sad += (uint64_t)abs(a[x] - b[x]);
    return sad;
}

uint64_t es_scene_sad8(const uint8_t *a, ptrdiff_t sa, const uint8_t *b, ptrdiff_t sb, int w, int h)
{
#ifdef __SSE2__
    uint64_t sad = 0;
    int w16 = w & ~15;
    for (int y = 0; y < h; y++, a += sa, b += sb) {
        /* psadbw gives two 16-bit partial sums per 16 bytes; a row of any sane width cannot
         * overflow the 64-bit lanes. */
        __m128i acc = _mm_setzero_si128();
        for (int x = 0; x < w16; x += 16) {
            __m128i va = _mm_loadu_si128((const __m128i *)(a + x));
            __m128i vb = _mm_loadu_si128((const __m128i *)(b + x));
            acc = _mm_add_epi64(acc, _mm_sad_epu8(va, vb));
        }
        sad += (uint64_t)_mm_cvtsi128_si64(acc) + (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(acc, acc));
        for (int x = w16; x < w; x++) sad += (uint64_t)abs(a[x] - b[x]);
    }
    return sad;
#else
    return es_scene_sad8_ref(a, sa, b, sb, w, h);
#endif
}

uint64_t es_scene_sad16(const uint8_t *a, ptrdiff_t sa, const uint8_t *b, ptrdiff_t sb, int w, int h)
{
    uint64_t sad = 0;
    for (int y = 0; y < h; y++, a += sa, b += sb) {
        const uint16_t *pa = (const uint16_t *)a, *pb = (const uint16_t *)b;
        for (int x = 0; x < w; x++) sad += (uint64_t)abs(pa[x] - pb[x]);
    }
    return sad;
}

double es_scene_score_frame(es_scene_scorer *s, const uint8_t *const prev[4], const int prev_ls[4],
                            const uint8_t *const cur[4], const int cur_ls[4])
{
    double score = 0;
    if (prev && s->have_prev) {
        uint64_t sad = 0, count = 0;
        for (int p = 0; p < s->nb_planes; p++) {
            if (s->bitdepth > 8)
                sad += es_scene_sad16(prev[p], prev_ls[p], cur[p], cur_ls[p], s->width[p], s->height[p]);
            else
                sad += es_scene_sad8(prev[p], prev_ls[p], cur[p], cur_ls[p], s->width[p], s->height[p]);
            count += (uint64_t)s->width[p] * (uint64_t)s->height[p];
        }
        double mafd = (double)sad / (double)count / (double)(1ULL << (s->bitdepth - 8));
        double diff = fabs(mafd - s->prev_mafd);
        score = fmin(mafd, diff) / 100.0;
        score = score < 0 ? 0 : score > 1 ? 1 : score;
        s->prev_mafd = mafd;
    }
    s->have_prev = 1;
    return score;
}
