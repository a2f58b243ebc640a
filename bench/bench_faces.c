/* Speed of the face nets (TinyFaceDetector 416 + FaceExpressionNet 112, single thread): wall ms
 * per frame for detection alone on a frame without faces (the bench clip's first frame, or a
 * test pattern) and for detection + expressions on a photo with five faces
 * (tests/data/faces/sample5.jpg). Prints a markdown table. Usage: bench_faces [VIDEO] */
#include <libavutil/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/progress.h"
#include "emotion/faces.h"
#include "media/grab.h"

#define RUNS 20

static double ms_per_frame(es_face_model *m, const es_frame *f, int *n_faces)
{
    es_face faces[32];
    for (int i = 0; i < 2; i++) *n_faces = es_faces_detect(m, f->rgb, f->width, f->height, f->stride, faces, 32);
    double t0 = es_now();
    for (int i = 0; i < RUNS; i++) *n_faces = es_faces_detect(m, f->rgb, f->width, f->height, f->stride, faces, 32);
    return (es_now() - t0) * 1000 / RUNS;
}

int main(int argc, char **argv)
{
    av_log_set_level(AV_LOG_QUIET);
    es_face_model *m = es_face_model_load(NULL);
    if (!m) {
        fprintf(stderr, "bench_faces: %s\n", es_error());
        return 1;
    }
    es_frame plain = {0}, photo = {0};
    const char *plain_path = argc > 1 ? argv[1] : "tests/data/faces/noface.png";
    if (es_grab_frame(plain_path, 0, &plain) || es_grab_frame("tests/data/faces/sample5.jpg", 0, &photo)) {
        fprintf(stderr, "bench_faces: %s\n", es_error());
        es_frame_free(&plain);
        es_face_model_free(m);
        return 1;
    }
    int n0 = 0, n5 = 0;
    double t_plain = ms_per_frame(m, &plain, &n0);
    double t_photo = ms_per_frame(m, &photo, &n5);
    printf("| face nets (1 thread) | ms per frame |\n|---|---:|\n");
    printf("| detector, %dx%d frame, %d faces | %.1f |\n", plain.width, plain.height, n0, t_plain);
    printf("| detector + expressions, %dx%d photo, %d faces | %.1f |\n", photo.width, photo.height, n5, t_photo);
    if (n5 > n0) printf("| expression net, per face | %.1f |\n", (t_photo - t_plain) / (n5 - n0));
    es_frame_free(&photo);
    es_frame_free(&plain);
    es_face_model_free(m);
    return 0;
}
