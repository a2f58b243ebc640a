/* The C face nets against @vladmandic/face-api 1.7.15 itself: tests/data/faces/NAME.json hold what
 * the package (tfjs CPU backend, its defaults) found in each test picture, and
 * tests/data/faces/sizeN/NAME.json what it found with the detector's inputSize N (320, 224),
 * recorded by scripts/face-reference/record.sh. Same face count, box IoU >= 0.9, score and
 * every expression probability within 0.02. The pictures cover real faces with several
 * expressions, no face, a grayscale PNG, an odd size (701x999), 16x16, a face cut by the top
 * edge (its box starts above the picture), video frames and an 8K UHD (7680x4320) frame.
 * The decoded pixels are checked too (rgb_sum from the ffmpeg tool, the reference's route).
 * Also: odd row strides give bit-identical results; input sizes outside 128..608 or not a
 * multiple of 32 are refused, switching sizes leaves nothing stale, and a wide or tall picture
 * gives the raw outputs of the same picture padded square by hand. Skips only when the models are
 * not installed (scripts/install-face-models.sh). */
#include <libavutil/log.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "core/error.h"
#include "emotion/faces.h"
#include "emotion/weights.h"
#include "media/grab.h"

#define MAX_FACES 32

/* detector input sizes with recorded references, and where they are */
static const struct { int size; const char *dir; } sizes[] = {
    {416, ""}, {320, "size320/"}, {224, "size224/"},
};

static const char *cases[] = {
    "sample1", "sample4", "sample5", "noface", "gray", "odd", "tiny16", "edge",
    "clip-at-0.48", "clip-at-2.48", "sample1-8k",
};

static double max_box_err, max_prob_err, min_iou = 1;

static const char *data_root(void)
{
    const char *r = getenv("ES_ROOT");
    return r && r[0] ? r : ".";
}

static double box_iou(const double a[4], const double b[4])
{
    double w = fmin(a[0] + a[2], b[0] + b[2]) - fmax(a[0], b[0]);
    double h = fmin(a[1] + a[3], b[1] + b[3]) - fmax(a[1], b[1]);
    double inter = fmax(0, w) * fmax(0, h);
    return inter / (a[2] * a[3] + b[2] * b[3] - inter);
}

/* The 8K test picture: the top-left 1920x1080 of src, each pixel repeated 4x4 (as record.mjs). */
static int make_8k(const es_frame *src, es_frame *out)
{
    const int W = 7680, H = 4320;
    if (src->width < 1920 || src->height < 1080) return -1;
    out->rgb = malloc((size_t)W * H * 3);
    if (!out->rgb) return -1;
    out->width = W;
    out->height = H;
    out->stride = 3 * W;
    for (int y = 0; y < H; y += 4) {
        const uint8_t *s = src->rgb + (size_t)(y / 4) * src->stride;
        uint8_t *d = out->rgb + (size_t)y * out->stride;
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) d[3 * x + c] = s[3 * (x / 4) + c];
        for (int r = 1; r < 4; r++) memcpy(d + (size_t)r * out->stride, d, (size_t)out->stride);
    }
    return 0;
}

/* Compares what the detector at `size` finds in pic (whose bytes sum to px_sum) with the
 * reference ref (parsed JSON). */
static void compare(es_face_model *m, int size, const char *name, const es_frame *pic, double px_sum,
                    const es_jval *ref)
{
    const es_jval *faces = es_jval_get(ref, "faces"), *input_size = es_jval_get(ref, "input_size");
    const es_jval *width = es_jval_get(ref, "width"), *height = es_jval_get(ref, "height");
    const es_jval *sum = es_jval_get(ref, "rgb_sum");
    CHECK(faces && input_size && width && height && sum);
    if (!faces || !input_size || !width || !height || !sum) return;
    CHECK(input_size->num == size);
    /* every size's record was made from the same pixels */
    CHECK(pic->width == (int)width->num && pic->height == (int)height->num);
    if (px_sum != sum->num)
        fprintf(stderr, "%s: decoded pixels differ from the ffmpeg tool's (sum %.0f vs %.0f)\n", name,
                px_sum, sum->num);
    CHECK(px_sum == sum->num);
    CHECK(es_face_model_set_input_size(m, size) == 0);

    es_face got[MAX_FACES];
    double t0 = clock() / (double)CLOCKS_PER_SEC;
    int n = es_faces_detect(m, pic->rgb, pic->width, pic->height, pic->stride, got, MAX_FACES);
    double t1 = clock() / (double)CLOCKS_PER_SEC;
    fprintf(stderr, "%3d %-13s %5dx%-5d %d face(s) (reference %zu), %.0f ms\n", size, name,
            pic->width, pic->height, n, faces->count, (t1 - t0) * 1000);
    CHECK(n == (int)faces->count);
    for (size_t i = 0; i < faces->count; i++) {
        const es_jval *f = &faces->items[i];
        const es_jval *box = es_jval_get(f, "box"), *score = es_jval_get(f, "score");
        const es_jval *ex = es_jval_get(f, "expressions");
        CHECK(box && box->count == 4 && score && ex);
        if (!box || box->count != 4 || !score || !ex) continue;
        double rb[4];
        for (int k = 0; k < 4; k++) rb[k] = box->items[k].num;
        /* the C face that overlaps this reference face most */
        int best = -1;
        double best_iou = 0;
        for (int j = 0; j < n; j++) {
            double gb[4] = {got[j].x, got[j].y, got[j].w, got[j].h};
            double v = box_iou(rb, gb);
            if (v > best_iou) best_iou = v, best = j;
        }
        CHECK(best >= 0 && best_iou >= 0.9);
        if (best < 0) continue;
        if (best_iou < min_iou) min_iou = best_iou;
        const es_face *g = &got[best];
        double gb[4] = {g->x, g->y, g->w, g->h};
        for (int k = 0; k < 4; k++)
            if (fabs(gb[k] - rb[k]) > max_box_err) max_box_err = fabs(gb[k] - rb[k]);
        CHECK_NEAR(g->score, score->num, 0.02);
        for (int k = 0; k < ES_EXPRESSIONS; k++) {
            const es_jval *p = es_jval_get(ex, es_expression_names[k]);
            CHECK(p != NULL);
            if (!p) continue;
            CHECK_NEAR(g->expressions[k], p->num, 0.02);
            if (fabs(g->expressions[k] - p->num) > max_prob_err) max_prob_err = fabs(g->expressions[k] - p->num);
        }
    }
}

/* One test picture at every recorded input size: decoded once, as the 416 record says. */
static void check_case(es_face_model *m, const char *name)
{
    char path[1024];
    es_jval *ref = NULL;
    es_frame src = {0}, big = {0};
    snprintf(path, sizeof path, "%s/tests/data/faces/%s.json", data_root(), name);
    ref = es_jval_parse_file(path);
    CHECK(ref != NULL);
    if (!ref) {
        fprintf(stderr, "  %s\n", es_error());
        return;
    }
    const es_jval *source = es_jval_get(ref, "source"), *at = es_jval_get(ref, "at");
    const es_jval *variant = es_jval_get(ref, "variant");
    CHECK(source && at && variant);
    if (!source || !at || !variant) goto end;
    snprintf(path, sizeof path, "%s/tests/data/faces/%s", data_root(), source->str);
    int rc = es_grab_frame(path, at->num, &src);
    CHECK(rc == 0);
    if (rc) {
        fprintf(stderr, "  %s\n", es_error());
        goto end;
    }
    es_frame *pic = &src;
    if (!strcmp(variant->str, "8k")) {
        CHECK(make_8k(&src, &big) == 0);
        if (!big.rgb) goto end;
        pic = &big;
    }
    double px_sum = 0;
    for (int y = 0; y < pic->height; y++)
        for (int x = 0; x < 3 * pic->width; x++) px_sum += pic->rgb[(size_t)y * pic->stride + x];
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        es_jval *r = ref;
        if (k > 0) {
            snprintf(path, sizeof path, "%s/tests/data/faces/%s%s.json", data_root(), sizes[k].dir, name);
            r = es_jval_parse_file(path);
            CHECK(r != NULL);
            if (!r) {
                fprintf(stderr, "  %s\n", es_error());
                continue;
            }
        }
        compare(m, sizes[k].size, name, pic, px_sum, r);
        if (r != ref) es_jval_free(r);
    }
end:
    es_frame_free(&big);
    es_frame_free(&src);
    es_jval_free(ref);
}

/* The same picture with rows 3w + 13 bytes apart (odd stride, junk in the gap) must give
 * exactly the same faces as the tightly packed one. */
static void check_stride(es_face_model *m)
{
    char path[1024];
    es_frame f = {0};
    uint8_t *wide = NULL;
    snprintf(path, sizeof path, "%s/tests/data/faces/odd.jpg", data_root());
    CHECK(es_grab_frame(path, 0, &f) == 0);
    if (!f.rgb) return;
    int stride = 3 * f.width + 13;
    wide = malloc((size_t)stride * f.height);
    CHECK(wide != NULL);
    if (!wide) goto end;
    for (int y = 0; y < f.height; y++) {
        memcpy(wide + (size_t)y * stride, f.rgb + (size_t)y * f.stride, (size_t)f.stride);
        memset(wide + (size_t)y * stride + f.stride, 0xA5, 13);
    }
    es_face a[MAX_FACES], b[MAX_FACES];
    int na = es_faces_detect(m, f.rgb, f.width, f.height, f.stride, a, MAX_FACES);
    int nb = es_faces_detect(m, wide, f.width, f.height, stride, b, MAX_FACES);
    CHECK(na == 2 && na == nb);
    for (int i = 0; i < na && i < nb; i++) {
        CHECK(a[i].x == b[i].x && a[i].y == b[i].y && a[i].w == b[i].w && a[i].h == b[i].h);
        CHECK(!memcmp(a[i].expressions, b[i].expressions, sizeof a[i].expressions));
    }
    /* max_faces caps what is written, and bad arguments fail cleanly */
    CHECK(es_faces_detect(m, f.rgb, f.width, f.height, f.stride, a, 2) == 2);
    CHECK(es_faces_detect(m, f.rgb, f.width, f.height, 3 * f.width - 1, a, MAX_FACES) == -1);
    CHECK(es_faces_detect(m, f.rgb, 0, f.height, f.stride, a, MAX_FACES) == -1);
    CHECK(es_faces_detect(m, NULL, f.width, f.height, f.stride, a, MAX_FACES) == -1);
end:
    free(wide);
    es_frame_free(&f);
}

/* Input sizes: only multiples of 32 in 128..608 are taken, a refused one leaves the detector as
 * it was, and going to another size and back gives bit-identical faces (nothing stale in the
 * reallocated buffers). Leaves the model at 416. */
static int same_face(const es_face *a, const es_face *b)
{
    return a->x == b->x && a->y == b->y && a->w == b->w && a->h == b->h && a->score == b->score &&
           !memcmp(a->expressions, b->expressions, sizeof a->expressions);
}

static void check_input_size(es_face_model *m)
{
    char path[1024];
    es_frame f = {0};
    snprintf(path, sizeof path, "%s/tests/data/faces/sample5.jpg", data_root());
    CHECK(es_grab_frame(path, 0, &f) == 0);
    if (!f.rgb) return;
    es_face a[MAX_FACES], b[MAX_FACES];
    CHECK(es_face_model_set_input_size(m, 416) == 0);
    int na = es_faces_detect(m, f.rgb, f.width, f.height, f.stride, a, MAX_FACES);
    static const int bad[] = {0, -32, 96, 100, 130, 415, 640, 1 << 30};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        es_error_clear();
        CHECK(es_face_model_set_input_size(m, bad[i]) == -1);
        CHECK(strstr(es_error(), "input size") != NULL);
    }
    CHECK(es_face_model_set_input_size(NULL, 416) == -1);
    int nb = es_faces_detect(m, f.rgb, f.width, f.height, f.stride, b, MAX_FACES);
    CHECK(na == 5 && nb == na);
    for (int i = 0; i < na && i < nb; i++) CHECK(same_face(&a[i], &b[i]));
    /* the extremes work; then back to 416 */
    CHECK(es_face_model_set_input_size(m, 608) == 0);
    CHECK(es_faces_detect(m, f.rgb, f.width, f.height, f.stride, b, MAX_FACES) >= 0);
    CHECK(es_face_model_set_input_size(m, 128) == 0);
    CHECK(es_faces_detect(m, f.rgb, f.width, f.height, f.stride, b, MAX_FACES) >= 0);
    CHECK(es_face_model_set_input_size(m, 416) == 0);
    nb = es_faces_detect(m, f.rgb, f.width, f.height, f.stride, b, MAX_FACES);
    CHECK(nb == na);
    for (int i = 0; i < na && i < nb; i++) CHECK(same_face(&a[i], &b[i]));
    es_frame_free(&f);
}

/* A wide (or tall) picture and the same picture made square with black rows below it (columns
 * right of it) give the detector the same input; the detector takes a shortcut for the
 * all-padding part of the first, so the raw outputs must be bit-identical: the same scores, x
 * and width (y and height for a tall one), and the other two apart from the box decoding's
 * aspect correction of the non-square picture. */
static void check_padding(es_face_model *m, const char *file)
{
    char path[1024];
    es_frame f = {0};
    uint8_t *sq = NULL;
    snprintf(path, sizeof path, "%s/tests/data/faces/%s", data_root(), file);
    CHECK(es_grab_frame(path, 0, &f) == 0);
    if (!f.rgb) return;
    const int side = f.width > f.height ? f.width : f.height, wide = f.width > f.height;
    CHECK(f.width != f.height);
    sq = calloc((size_t)side * side, 3);
    CHECK(sq != NULL);
    if (!sq) goto end;
    for (int y = 0; y < f.height; y++)
        memcpy(sq + (size_t)y * side * 3, f.rgb + (size_t)y * f.stride, (size_t)f.width * 3);
    for (size_t k = 0; k < 2; k++) {  /* 416 and 320: different rows are all padding */
        int size = sizes[k].size;
        CHECK(es_face_model_set_input_size(m, size) == 0);
        es_face a[MAX_FACES], b[MAX_FACES];
        int na = es_faces_detect(m, f.rgb, f.width, f.height, f.stride, a, MAX_FACES);
        int nb = es_faces_detect(m, sq, side, side, side * 3, b, MAX_FACES);
        CHECK(na >= 2 && nb == na);
        /* the package's aspect correction: the picture fills round(short * size / long) rows
         * (columns) of the input */
        int small = wide ? f.height : f.width;
        double filled = floor(small * (double)size / side + 0.5);
        double q = size * (double)small / (filled * side);
        for (int i = 0; i < na && i < nb; i++) {
            CHECK(a[i].score == b[i].score);
            if (wide) {
                CHECK(a[i].x == b[i].x && a[i].w == b[i].w);
                CHECK_NEAR(a[i].y, b[i].y * q, 1e-9 * side);
                CHECK_NEAR(a[i].h, b[i].h * q, 1e-9 * side);
            } else {
                CHECK(a[i].y == b[i].y && a[i].h == b[i].h);
                CHECK_NEAR(a[i].x, b[i].x * q, 1e-9 * side);
                CHECK_NEAR(a[i].w, b[i].w * q, 1e-9 * side);
            }
        }
    }
end:
    free(sq);
    es_frame_free(&f);
}

int main(void)
{
    av_log_set_level(AV_LOG_FATAL);
    es_face_model *m = es_face_model_load(NULL);
    if (!m) {
        fprintf(stderr, "SKIP test_faces_reference: %s\n", es_error());
        return 0;
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_case(m, cases[i]);
    check_padding(m, "edge.jpg");  /* 1150x600 */
    check_padding(m, "odd.jpg");   /* 701x999 */
    check_input_size(m);
    check_stride(m);
    fprintf(stderr, "vs face-api: min box IoU %.5f, max box coordinate error %.4f px, max probability error %.6f\n",
            min_iou, max_box_err, max_prob_err);
    es_face_model_free(m);
    return check_report("test_faces_reference");
}
