/* The face model context: both nets' weights and working memory, loaded once; detection then
 * expression classification of every found face. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/error.h"
#include "emotion/datadir.h"
#include "emotion/faces.h"
#include "emotion/tinyface.h"

#define DETECTOR_NAME "tiny_face_detector_model"
#define EXPRESSION_NAME "face_expression_model"
#define MAX_BOXES 256

struct es_face_model {
    es_weights *det_w, *expr_w;
    es_tinyface *det;
    es_expression *expr;
    es_face_box boxes[MAX_BOXES];
};

es_emotion es_expression_emotion(es_expr e)
{
    static const es_emotion map[ES_EXPRESSIONS] = {
        [ES_EXPR_NEUTRAL] = ES_EMO_NEUTRAL, [ES_EXPR_HAPPY] = ES_EMO_JOY,
        [ES_EXPR_SAD] = ES_EMO_SADNESS,     [ES_EXPR_ANGRY] = ES_EMO_ANGER,
        [ES_EXPR_FEARFUL] = ES_EMO_FEAR,    [ES_EXPR_DISGUSTED] = ES_EMO_DISGUST,
        [ES_EXPR_SURPRISED] = ES_EMO_SURPRISE,
    };
    return map[e];
}

es_va es_face_va(const es_face *f)
{
    double probs[ES_EMO_COUNT] = {0};
    for (int k = 0; k < ES_EXPRESSIONS; k++) probs[es_expression_emotion((es_expr)k)] += f->expressions[k];
    es_va va;
    es_emotion_mix(probs, &va.valence, &va.arousal);
    return va;
}

void es_face_model_free(es_face_model *m)
{
    if (!m) return;
    es_expression_free(m->expr);
    es_tinyface_free(m->det);
    es_weights_free(m->expr_w);
    es_weights_free(m->det_w);
    free(m);
}

es_face_model *es_face_model_load(const char *dir)
{
    char *found = NULL;
    es_face_model *m = NULL;
    if (!dir) {
        found = es_datadir_find(ES_FACE_MODEL_SUBDIR, DETECTOR_NAME "-weights_manifest.json");
        if (!found) {
            char why[400];
            snprintf(why, sizeof why, "%s", es_error());
            es_fail("face models not installed (%s); run scripts/install-deps.sh", why);
            return NULL;
        }
        dir = found;
    } else {
        char probe[4096];
        snprintf(probe, sizeof probe, "%s/%s-weights_manifest.json", dir, DETECTOR_NAME);
        if (access(probe, F_OK) != 0) {
            es_fail("face models not found in %s; run scripts/install-deps.sh", dir);
            return NULL;
        }
    }
    m = es_calloc(1, sizeof *m);
    if (!m) goto fail;
    m->det_w = es_weights_load(dir, DETECTOR_NAME);
    if (!m->det_w) goto fail;
    m->expr_w = es_weights_load(dir, EXPRESSION_NAME);
    if (!m->expr_w) goto fail;
    m->det = es_tinyface_new(m->det_w);
    if (!m->det) goto fail;
    m->expr = es_expression_new(m->expr_w);
    if (!m->expr) goto fail;
    free(found);
    return m;
fail:
    es_face_model_free(m);
    free(found);
    return NULL;
}

int es_face_model_set_input_size(es_face_model *m, int size)
{
    if (!m) return es_fail("face model: none loaded");
    return es_tinyface_set_input_size(m->det, size);
}

int es_faces_detect(es_face_model *m, const uint8_t *rgb, int w, int h, int stride,
                    es_face *faces, int max_faces)
{
    if (!m || max_faces < 0 || (max_faces && !faces))
        return es_fail("face detection: bad arguments");
    int n = es_tinyface_run(m->det, rgb, w, h, stride, m->boxes, MAX_BOXES);
    if (n < 0) return -1;
    if (n > MAX_BOXES) n = MAX_BOXES;
    if (n > max_faces) n = max_faces;
    for (int i = 0; i < n; i++) {
        es_face *f = &faces[i];
        f->x = m->boxes[i].x;
        f->y = m->boxes[i].y;
        f->w = m->boxes[i].w;
        f->h = m->boxes[i].h;
        f->score = m->boxes[i].score;
        /* a box that clips to nothing keeps all-zero probabilities */
        if (es_expression_run(m->expr, rgb, w, h, stride, f->x, f->y, f->w, f->h, f->expressions))
            es_error_clear();
    }
    return n;
}
