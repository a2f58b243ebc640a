/* Face summaries and thumbnails from the sampled frames (see sampler.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/progress.h"
#include "pipeline/sampler.h"

#define MAX_FACES 16
#define FULL_WEIGHT_AREA 0.02  /* a face covering 2% of the frame counts fully */

/* Area-averaged luma of the frame on a ES_SIG_W x ES_SIG_H grid, 0..1. */
static void signature_of(const uint8_t *rgb, int w, int h, int stride, float *sig)
{
    for (int gy = 0; gy < ES_SIG_H; gy++) {
        int y0 = (int)((long long)gy * h / ES_SIG_H), y1 = (int)((long long)(gy + 1) * h / ES_SIG_H);
        if (y1 <= y0) y1 = y0 + 1;
        for (int gx = 0; gx < ES_SIG_W; gx++) {
            int x0 = (int)((long long)gx * w / ES_SIG_W), x1 = (int)((long long)(gx + 1) * w / ES_SIG_W);
            if (x1 <= x0) x1 = x0 + 1;
            double sum = 0;
            for (int y = y0; y < y1 && y < h; y++)
                for (int x = x0; x < x1 && x < w; x++) {
                    const uint8_t *p = rgb + (size_t)y * stride + (size_t)x * 3;
                    sum += 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
                }
            sig[gy * ES_SIG_W + gx] = (float)(sum / ((double)(y1 - y0) * (x1 - x0) * 255.0));
        }
    }
}

/* Whether the face nets should look at this sample (see ES_FACE_HOLD in sampler.h). Worker only. */
static int worth_a_look(es_sampler *s, double time, const uint8_t *rgb, int w, int h, int stride)
{
    float sig[ES_SIG_W * ES_SIG_H];
    signature_of(rgb, w, h, stride, sig);
    double change = 0;
    for (int i = 0; i < ES_SIG_W * ES_SIG_H; i++) change += fabsf(sig[i] - s->signature[i]);
    change /= ES_SIG_W * ES_SIG_H;
    int first = !s->have_signature || s->n_samples == 0;
    memcpy(s->signature, sig, sizeof sig);
    s->have_signature = 1;
    double rate = fmin(ES_SAMPLE_FPS, fmax(1.0 / ES_FACE_SPARSE, (double)w * h * 30 / ES_FACE_PIXELS_PER_LOOK));
    s->look_budget = first ? ES_FACE_BURST : fmin(ES_FACE_BURST, s->look_budget + (time - s->budget_time) * rate);
    s->budget_time = time;
    int look;
    if (first || change > ES_SHOT_CHANGE)
        look = 1;  /* every shot is looked at, whatever the budget */
    else
        look = s->look_budget >= 1 - 1e-9 &&
               (time - s->last_face <= ES_FACE_HOLD + 1e-9 || time - s->last_look >= ES_FACE_SPARSE - 1e-9);
    if (look) s->look_budget = fmax(s->look_budget - 1, -ES_FACE_BURST);
    return look;
}

/* Adds the sample to its group: a new group when its frame span changes. */
static int add_to_group(es_sampler *s, const es_face_sample *fs, size_t group)
{
    if (!s->n_groups || group != s->last_group) {
        if (es_grow((void **)&s->groups, &s->cap_groups, s->n_groups + 1, sizeof *s->groups)) return -1;
        s->groups[s->n_groups++] = (es_face_group){.start = fs->time};
        s->last_group = group;
    }
    es_face_group *g = &s->groups[s->n_groups - 1];
    g->samples++;
    g->looks += (size_t)fs->looked;
    g->faces += fs->faces;
    g->area += fs->largest_area;
    g->weight += fs->weight;
    for (int e = 0; e < ES_EMO_COUNT; e++) g->expressions[e] += fs->weight * fs->expressions[e];
    return 0;
}

/* Runs on the worker thread, which alone touches the groups, the last sample and face_seconds
 * until it is joined. Returns 0, or -1 with the reason in this thread's es_error(). */
static int add_faces(es_sampler *s, double time, size_t group, const uint8_t *rgb, int w, int h, int stride)
{
    int look = worth_a_look(s, time, rgb, w, h, stride);
    es_face_sample *fs = &s->last;
    if (!look) { /* hold the last look's result: same shot, no face lately */
        fs->time = time;
        fs->looked = 0;
        s->n_samples++;
        return add_to_group(s, fs, group);
    }
    es_face faces[MAX_FACES];
    double t0 = es_now();
    int n = es_faces_detect(s->model, rgb, w, h, stride, faces, MAX_FACES);
    s->face_seconds += es_now() - t0;
    if (n < 0) return -1;
    s->n_samples++;
    memset(fs, 0, sizeof *fs);
    fs->time = time;
    fs->faces = n;
    fs->looked = 1;
    s->last_look = time;
    if (n > 0) s->last_face = time;
    double frame_area = (double)w * h;
    for (int i = 0; i < n; i++) {
        double area = fmax(0, faces[i].w) * fmax(0, faces[i].h) / frame_area;
        fs->largest_area = fmax(fs->largest_area, area);
        double weight = faces[i].score * fmin(1.0, area / FULL_WEIGHT_AREA);
        fs->weight += weight;
        for (int k = 0; k < ES_EXPRESSIONS; k++) fs->expressions[es_expression_emotion((es_expr)k)] += weight * faces[i].expressions[k];
    }
    if (fs->weight > 0)
        for (int k = 0; k < ES_EMO_COUNT; k++) fs->expressions[k] /= fs->weight;
    fs->weight = fmin(fs->weight, 1.0);
    return add_to_group(s, fs, group);
}

/* Keeps the first failure's message (either thread); call with the lock held when the worker runs. */
static void note_failure(es_sampler *s, const char *why)
{
    if (!s->error[0]) snprintf(s->error, sizeof s->error, "%s", why[0] ? why : "frame analysis failed");
}

static void *face_worker(void *arg)
{
    es_sampler *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (s->count == 0 && !s->closing) pthread_cond_wait(&s->changed, &s->lock);
        if (s->count == 0) break;
        es_sample_slot *slot = &s->slots[s->head];
        int skip = s->worker_failed;
        pthread_mutex_unlock(&s->lock);
        /* the slot stays owned by this thread until it is released below; after a failure the
         * queue is only drained, so the decoder never waits on a dead worker */
        int r = skip ? 0 : add_faces(s, slot->time, slot->group, slot->rgb, slot->width, slot->height, slot->width * 3);
        pthread_mutex_lock(&s->lock);
        if (r) {
            s->worker_failed = 1;
            note_failure(s, es_error());
        }
        s->head = (s->head + 1) % ES_SAMPLE_QUEUE;
        s->count--;
        pthread_cond_broadcast(&s->changed);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* Copies a frame into the next free slot, waiting while the worker is behind. Returns 0, or -1
 * when the worker has failed (nothing more to queue) or memory runs out. */
static int enqueue(es_sampler *s, double time, const uint8_t *rgb, int w, int h, int stride)
{
    pthread_mutex_lock(&s->lock);
    while (s->count == ES_SAMPLE_QUEUE && !s->worker_failed) pthread_cond_wait(&s->changed, &s->lock);
    int worker_failed = s->worker_failed;
    es_sample_slot *slot = &s->slots[(s->head + s->count) % ES_SAMPLE_QUEUE];
    pthread_mutex_unlock(&s->lock);
    if (worker_failed) return -1;
    size_t need = (size_t)w * h * 3;
    if (need > slot->cap) {
        uint8_t *p = es_realloc(slot->rgb, need);
        if (!p) {
            pthread_mutex_lock(&s->lock);
            note_failure(s, es_error());
            pthread_mutex_unlock(&s->lock);
            return -1;
        }
        slot->rgb = p;
        slot->cap = need;
    }
    for (int y = 0; y < h; y++) memcpy(slot->rgb + (size_t)y * w * 3, rgb + (size_t)y * stride, (size_t)w * 3);
    slot->width = w;
    slot->height = h;
    slot->time = time;
    /* the frame was added to the analysis' spans before it was sampled */
    slot->group = s->spans && s->spans->n ? s->spans->n - 1 : s->n_queued;
    s->n_queued++;
    pthread_mutex_lock(&s->lock);
    s->count++;
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

int es_sampler_init(es_sampler *s, es_face_model *model)
{
    memset(s, 0, sizeof *s);
    s->model = model;
    s->thumb_interval = 1.0;
    s->last_look = s->last_face = -INFINITY; /* nothing seen yet */
    if (!model) return 0;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->changed, NULL);
    if (pthread_create(&s->worker, NULL, face_worker, s) != 0) {
        pthread_cond_destroy(&s->changed);
        pthread_mutex_destroy(&s->lock);
        s->model = NULL;
        return es_fail("cannot start the face analysis thread");
    }
    s->worker_running = 1;
    return 0;
}

/* Stops and joins the worker (if running) and frees the queue. Leaves es_error() alone. */
static void stop_worker(es_sampler *s)
{
    if (!s->worker_running) return;
    pthread_mutex_lock(&s->lock);
    s->closing = 1;
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->worker, NULL);
    pthread_cond_destroy(&s->changed);
    pthread_mutex_destroy(&s->lock);
    s->worker_running = 0;
    for (int i = 0; i < ES_SAMPLE_QUEUE; i++) {
        free(s->slots[i].rgb);
        s->slots[i] = (es_sample_slot){0};
    }
}

int es_sampler_finish(es_sampler *s)
{
    stop_worker(s);
    if (s->failed || s->worker_failed) return es_fail("%s", s->error[0] ? s->error : "frame analysis failed");
    return 0;
}

/* Area-averaged downscale to ES_THUMB_WIDTH wide. */
static int make_thumb(es_thumb *t, double time, const uint8_t *rgb, int w, int h, int stride)
{
    int tw = w < ES_THUMB_WIDTH ? w : ES_THUMB_WIDTH;
    int th = (int)lround((double)h * tw / w);
    if (th < 1) th = 1;
    t->rgb = es_malloc((size_t)tw * th * 3);
    if (!t->rgb) return -1;
    t->time = time;
    t->width = tw;
    t->height = th;
    for (int y = 0; y < th; y++) {
        int y0 = (int)((long long)y * h / th), y1 = (int)((long long)(y + 1) * h / th);
        if (y1 <= y0) y1 = y0 + 1;
        for (int x = 0; x < tw; x++) {
            int x0 = (int)((long long)x * w / tw), x1 = (int)((long long)(x + 1) * w / tw);
            if (x1 <= x0) x1 = x0 + 1;
            unsigned sum[3] = {0, 0, 0}, count = 0;
            for (int yy = y0; yy < y1; yy++)
                for (int xx = x0; xx < x1; xx++) {
                    const uint8_t *p = rgb + (size_t)yy * stride + (size_t)xx * 3;
                    sum[0] += p[0];
                    sum[1] += p[1];
                    sum[2] += p[2];
                    count++;
                }
            uint8_t *q = t->rgb + ((size_t)y * tw + x) * 3;
            for (int c = 0; c < 3; c++) q[c] = (uint8_t)((sum[c] + count / 2) / count);
        }
    }
    return 0;
}

/* When the reservoir is full, keep every other thumbnail and double the spacing. */
static void thin_thumbs(es_sampler *s)
{
    size_t kept = 0;
    for (size_t i = 0; i < s->n_thumbs; i++) {
        if (i % 2 == 0) s->thumbs[kept++] = s->thumbs[i];
        else free(s->thumbs[i].rgb);
    }
    s->n_thumbs = kept;
    s->thumb_interval *= 2;
}

void es_sampler_on_frame(void *user, double time, const uint8_t *rgb, int width, int height, int stride)
{
    es_sampler *s = user;
    if (s->failed || width < 1 || height < 1) return;
    if (s->worker_running && enqueue(s, time, rgb, width, height, stride)) {
        s->failed = 1;
        return;
    }
    if (time + 1e-9 >= s->next_thumb) {
        if (s->n_thumbs == ES_MAX_THUMBS) thin_thumbs(s);
        if (make_thumb(&s->thumbs[s->n_thumbs], time, rgb, width, height, stride)) {
            if (s->worker_running) pthread_mutex_lock(&s->lock);
            note_failure(s, es_error());
            if (s->worker_running) pthread_mutex_unlock(&s->lock);
            s->failed = 1;
            return;
        }
        s->n_thumbs++;
        s->next_thumb = time + s->thumb_interval;
    }
}

void es_sampler_apply(const es_sampler *s, es_scene_affect *scenes, size_t n_scenes)
{
    size_t i = 0;
    for (size_t k = 0; k < n_scenes; k++) {
        es_scene_affect *sc = &scenes[k];
        double faces = 0, area = 0, weight = 0, expr[ES_EMO_COUNT] = {0};
        size_t count = 0;
        while (i < s->n_groups && s->groups[i].start < sc->start) i++;
        for (; i < s->n_groups && (s->groups[i].start < sc->end || k + 1 == n_scenes); i++) {
            const es_face_group *g = &s->groups[i];
            count += g->samples;
            sc->face_looks += g->looks;
            faces += g->faces;
            area += g->area;
            weight += g->weight;
            for (int e = 0; e < ES_EMO_COUNT; e++) expr[e] += g->expressions[e];
        }
        sc->face_frames = count;
        if (!count) continue;
        sc->faces_per_frame = faces / (double)count;
        sc->face_area = area / (double)count;
        sc->face_weight = weight / (double)count;
        for (int e = 0; e < ES_EMO_COUNT; e++) sc->expressions[e] = weight > 0 ? expr[e] / weight : 0;
    }
}

const es_thumb *es_sampler_thumb_at(const es_sampler *s, double t)
{
    const es_thumb *best = NULL;
    for (size_t i = 0; i < s->n_thumbs; i++)
        if (!best || fabs(s->thumbs[i].time - t) < fabs(best->time - t)) best = &s->thumbs[i];
    return best;
}

void es_sampler_free(es_sampler *s)
{
    stop_worker(s);
    for (size_t i = 0; i < s->n_thumbs; i++) free(s->thumbs[i].rgb);
    free(s->groups);
    memset(s, 0, sizeof *s);
}
