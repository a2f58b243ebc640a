/* Speed of the face nets (TinyFaceDetector + FaceExpressionNet 112, single thread): wall ms per
 * frame for detection alone on a frame without faces (the given video's first frame, or a test
 * pattern) and for detection + expressions on a photo with five faces
 * (tests/data/faces/sample5.jpg), at the package's input size 416. Then, per detector input
 * size, on a frame as `emsync analyze` gives it to the face nets for a 1280x720 video: a group
 * photo (the top-left 1920x1080 of tests/data/faces/sample1.jpg, three faces) made 1280x720 and
 * scaled to ES_SAMPLE_MAX_WIDTH wide with the decoder's swscale flags; the detector alone
 * (max_faces 0: no expressions), then with the expressions of the faces it finds.
 * Prints markdown tables. Usage: bench_faces [VIDEO] */
#include <libavutil/log.h>
#include <libswscale/swscale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/progress.h"
#include "emotion/faces.h"
#include "media/grab.h"
#include "pipeline/sampler.h"

#define RUNS 20

/* max_faces 0 runs the detector alone */
static double ms_per_frame(es_face_model *m, const es_frame *f, int max_faces, int *n_faces)
{
    es_face faces[32];
    for (int i = 0; i < 2; i++) *n_faces = es_faces_detect(m, f->rgb, f->width, f->height, f->stride, faces, max_faces);
    double t0 = es_now();
    for (int i = 0; i < RUNS; i++) *n_faces = es_faces_detect(m, f->rgb, f->width, f->height, f->stride, faces, max_faces);
    return (es_now() - t0) * 1000 / RUNS;
}

/* dst = the (sw x sh) top-left of src scaled to dw x dh with SWS_AREA, as the decoder scales
 * its samples. dst->rgb is malloc'd; 0 or -1. */
static int scale(const es_frame *src, int sw, int sh, int dw, int dh, es_frame *dst)
{
    struct SwsContext *sws = sws_getContext(sw, sh, AV_PIX_FMT_RGB24, dw, dh, AV_PIX_FMT_RGB24,
                                            SWS_AREA, NULL, NULL, NULL);
    dst->rgb = malloc((size_t)dw * 3 * (dh + 1));
    if (!sws || !dst->rgb) {
        sws_freeContext(sws);
        free(dst->rgb);
        dst->rgb = NULL;
        return -1;
    }
    const uint8_t *sp[1] = {src->rgb};
    uint8_t *dp[1] = {dst->rgb};
    int ss[1] = {src->stride}, ds[1] = {dw * 3};
    sws_scale(sws, sp, ss, 0, sh, dp, ds);
    sws_freeContext(sws);
    dst->width = dw;
    dst->height = dh;
    dst->stride = dw * 3;
    return 0;
}

int main(int argc, char **argv)
{
    av_log_set_level(AV_LOG_QUIET);
    int rc = 1;
    es_frame plain = {0}, photo = {0}, group = {0}, hd = {0}, sample = {0};
    es_face_model *m = es_face_model_load(NULL);
    if (!m) {
        fprintf(stderr, "bench_faces: %s\n", es_error());
        return 1;
    }
    const char *plain_path = argc > 1 ? argv[1] : "tests/data/faces/noface.png";
    if (es_grab_frame(plain_path, 0, &plain) || es_grab_frame("tests/data/faces/sample5.jpg", 0, &photo) ||
        es_grab_frame("tests/data/faces/sample1.jpg", 0, &group)) {
        fprintf(stderr, "bench_faces: %s\n", es_error());
        goto end;
    }
    int sw = ES_SAMPLE_MAX_WIDTH, sh = sw * 720 / 1280;
    if (group.width < 1920 || group.height < 1080 || scale(&group, 1920, 1080, 1280, 720, &hd) ||
        scale(&hd, 1280, 720, sw, sh, &sample)) {
        fprintf(stderr, "bench_faces: cannot make the 1280x720 test frame\n");
        goto end;
    }
    int n0 = 0, n5 = 0;
    double t_plain = ms_per_frame(m, &plain, 32, &n0);
    double t_photo = ms_per_frame(m, &photo, 32, &n5);
    printf("| face nets (1 thread, input 416) | ms per frame |\n|---|---:|\n");
    printf("| detector, %dx%d frame, %d faces | %.1f |\n", plain.width, plain.height, n0, t_plain);
    printf("| detector + expressions, %dx%d photo, %d faces | %.1f |\n", photo.width, photo.height, n5, t_photo);
    if (n5 > n0) printf("| expression net, per face | %.1f |\n", (t_photo - t_plain) / (n5 - n0));

    printf("\n| 1280x720 frame scaled to %dx%d: detector input size | detector alone, ms | "
           "faces found | detector + expressions, ms |\n|---|---:|---:|---:|\n",
           sample.width, sample.height);
    static const int sizes[] = {416, 320, 224};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        if (es_face_model_set_input_size(m, sizes[i])) {
            fprintf(stderr, "bench_faces: %s\n", es_error());
            goto end;
        }
        int n = 0, unused = 0;
        double t_det = ms_per_frame(m, &sample, 0, &unused);
        double t = ms_per_frame(m, &sample, 32, &n);
        printf("| %d%s | %.1f | %d | %.1f |\n", sizes[i], sizes[i] == 416 ? " (package default)" : "",
               t_det, n, t);
    }
    rc = 0;
end:
    free(sample.rgb);
    free(hd.rgb);
    es_frame_free(&group);
    es_frame_free(&photo);
    es_frame_free(&plain);
    es_face_model_free(m);
    return rc;
}
