/* The scene-change score of FFmpeg's `select` filter (the `scene` variable, logged as
 * lavfi.scene_score), computed natively on decoded picture planes so that the decoder can score
 * frames without a filter graph. Definition (libavfilter/f_select.c, FFmpeg 5.1): the sum of
 * absolute differences against the previous frame over the luma plane of YUV input, or over all
 * bytes of packed RGB / gray input; mafd = SAD / samples, scaled to 8 bits;
 * diff = |mafd - previous mafd|; score = clip(min(mafd, diff) / 100, 0, 1). select only
 * works on a few pixel formats (es_scene_pix_fmt); other formats are converted first, as
 * FFmpeg's format negotiation would. */
#ifndef ES_SCENE_SCORE_H
#define ES_SCENE_SCORE_H

#include <stddef.h>
#include <stdint.h>

#include <libavutil/pixfmt.h>

typedef struct {
    int nb_planes;        /* planes compared: 1 (luma of YUV, or the packed RGB / gray plane) */
    int bitdepth;         /* 8 or 10 */
    int width[4];         /* samples per row of each plane (bytes for packed 8-bit RGB) */
    int height[4];        /* rows of each plane */
    int frame_w, frame_h; /* picture size the layout was made for */
    double prev_mafd;     /* mafd of the previous pair, 0 at the start */
    int have_prev;        /* 0 until the first frame has been scored */
} es_scene_scorer;

/* The pixel format select's scene detection runs on for a source in `src`: src itself when select
 * accepts it, else the format FFmpeg's negotiation picks from select's list (the one with the
 * least loss, as av_find_best_pix_fmt_of_2). AV_PIX_FMT_NONE when there is none. */
enum AVPixelFormat es_scene_pix_fmt(enum AVPixelFormat src);

/* 1 when select accepts fmt without conversion. */
int es_scene_accepts(enum AVPixelFormat fmt);

/* Sets up s for frames of size w x h in fmt (which must be accepted). Returns 0, or -1 with an
 * error when fmt is not accepted or the size is invalid. */
int es_scene_scorer_init(es_scene_scorer *s, enum AVPixelFormat fmt, int w, int h);

/* Scores the frame `cur` against `prev` (the previously scored frame, NULL for the first): both
 * in the layout of s. Returns the score in [0, 1] (0 for the first frame) and updates s. */
double es_scene_score_frame(es_scene_scorer *s, const uint8_t *const prev[4], const int prev_ls[4],
                            const uint8_t *const cur[4], const int cur_ls[4]);

/* Sum of absolute differences over a w x h block of 8-bit (sad8) or 16-bit (sad16, strides in
 * bytes) samples. The plain twins (_ref) are the reference the fast versions are tested against. */
uint64_t es_scene_sad8(const uint8_t *a, ptrdiff_t sa, const uint8_t *b, ptrdiff_t sb, int w, int h);
uint64_t es_scene_sad8_ref(const uint8_t *a, ptrdiff_t sa, const uint8_t *b, ptrdiff_t sb, int w, int h);
uint64_t es_scene_sad16(const uint8_t *a, ptrdiff_t sa, const uint8_t *b, ptrdiff_t sb, int w, int h);

#endif
