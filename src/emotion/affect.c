/* Per-scene affect features and fusion (see affect.h for the model and its sources). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "emotion/affect.h"

/* Reference statistics used to standardise colour, from typical film and web video frames:
 * Valdez & Mehrabian's coefficients apply to standardised (z-scored) variables. */
#define BRIGHTNESS_MEAN 0.42
#define BRIGHTNESS_SD   0.15
#define SATURATION_MEAN 0.35
#define SATURATION_SD   0.15

/* Scales at which motion, cut rate, loudness and onsets reach about 63% of their arousal range. */
#define MOTION_SCALE     0.04  /* mean |luma diff| per frame */
#define CUT_RATE_SCALE   12.0  /* cuts per minute */
#define ONSET_RATE_SCALE 3.0   /* onsets per second */
#define LOUDNESS_QUIET  (-45.0) /* LUFS that counts as silence for arousal */
#define LOUDNESS_LOUD   (-12.0) /* LUFS that counts as full energy */
#define ONSET_RISE_DB    6.0   /* an onset: a block's energy rise this far above the scene's median */
#define ONSET_FLOOR_LUFS (-50.0) /* blocks quieter than this hold no onsets */
#define BOUNDARY_SLACK   0.02  /* seconds after a scene's start still counted as its opening cut */
/* Trust in faces over the scene cues at full face evidence (a face of 2% of the frame or more,
 * detected surely, in every sampled frame). Faces are the most direct cue to a scene's emotion
 * that a viewer reads, so a scene they dominate reads almost as EMSYNC's table reads the
 * expression probabilities (half joy, half neutral: +0.36 of the table's +0.40). */
#define FACE_TRUST_MAX   0.9

static int cmp_float(const void *x, const void *y)
{
    float a = *(const float *)x, b = *(const float *)y;
    return (a > b) - (a < b);
}

static double clip(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }
static double saturate(double x, double scale) { return 1.0 - exp(-fmax(0.0, x) / scale); }

int es_affect_scenes(const es_media_analysis *a, const double *bounds, size_t n_bounds,
                     double cut_threshold, es_scene_affect **out, size_t *n_out)
{
    size_t n = n_bounds + 1;
    int rc = -1;
    es_scene_affect *scenes = es_calloc(n, sizeof *scenes);
    size_t *peaks = es_calloc(n, sizeof *peaks), *blocks = es_calloc(n, sizeof *blocks);
    size_t *onsets = es_calloc(n, sizeof *onsets);
    double *power = es_calloc(n, sizeof *power);
    float *rises = es_calloc(a->n_audio, sizeof *rises);
    if (!scenes || !peaks || !blocks || !onsets || !power || !rises) goto end;
    double duration = a->info.duration;
    for (size_t s = 0; s < n; s++) {
        scenes[s].start = s == 0 ? 0.0 : bounds[s - 1];
        scenes[s].end = s == n_bounds ? duration : bounds[s];
        scenes[s].loudness_lufs = ES_AUDIO_FLOOR_DB;
    }

    /* frames: accumulate into the scene whose [start, end) holds the frame time */
    size_t s = 0;
    for (size_t i = 0; i < a->n_frames; i++) {
        const es_frame_stats *f = &a->frames[i];
        while (s + 1 < n && f->time >= scenes[s + 1].start) s++;
        es_scene_affect *sc = &scenes[s];
        sc->n_frames++;
        sc->brightness += f->brightness;
        sc->saturation += f->saturation;
        sc->colourfulness += f->colourfulness;
        sc->warmth += f->warmth;
        sc->motion += f->motion;
        /* the cut that opens the scene is its boundary, not part of its rhythm */
        if (f->scene > cut_threshold && f->time > sc->start + BOUNDARY_SLACK) peaks[s]++;
    }

    /* audio: energy-average the loudness; count onsets as blocks whose energy rise stands out
     * from the scene's typical rise, so steady noise (whose small rises never stop) counts as no
     * onsets and a pulse as one */
    s = 0;
    size_t first = 0;
    for (size_t i = 0; i <= a->n_audio; i++) {
        int scene_ends = i == a->n_audio || (s + 1 < n && a->audio[i].time >= scenes[s + 1].start);
        if (scene_ends && i > first) {
            size_t m = i - first;
            for (size_t k = 0; k < m; k++) rises[k] = a->audio[first + k].onset;
            qsort(rises, m, sizeof *rises, cmp_float);
            float median = rises[m / 2];
            for (size_t k = first; k < i; k++) {
                const es_audio_block *b = &a->audio[k];
                blocks[s]++;
                if (b->loudness > ES_AUDIO_FLOOR_DB) power[s] += pow(10.0, b->loudness / 10.0);
                if (b->onset > median + ONSET_RISE_DB && b->loudness > ONSET_FLOOR_LUFS) onsets[s]++;
            }
            first = i;
        }
        if (i == a->n_audio) break;
        while (s + 1 < n && a->audio[i].time >= scenes[s + 1].start) s++;
    }

    for (s = 0; s < n; s++) {
        es_scene_affect *sc = &scenes[s];
        double len = fmax(sc->end - sc->start, 1e-3);
        if (sc->n_frames) {
            double k = 1.0 / (double)sc->n_frames;
            sc->brightness *= k;
            sc->saturation *= k;
            sc->colourfulness *= k;
            sc->warmth *= k;
            sc->motion *= k;
        }
        sc->cut_rate = (double)peaks[s] * 60.0 / len;
        if (blocks[s]) {
            double mean_power = power[s] / (double)blocks[s];
            sc->loudness_lufs = mean_power > 0 ? fmax(10.0 * log10(mean_power), ES_AUDIO_FLOOR_DB) : ES_AUDIO_FLOOR_DB;
            sc->onset_rate = (double)onsets[s] / len;
        }
    }
    *out = scenes;
    *n_out = n;
    scenes = NULL;
    rc = 0;
end:
    free(rises);
    free(power);
    free(onsets);
    free(blocks);
    free(peaks);
    free(scenes);
    return rc;
}

/* Colour terms of Valdez & Mehrabian (1994) on standardised brightness and saturation, scaled
 * so that one standard deviation moves the estimate by about a quarter of the range. */
static void colour_affect(const es_scene_affect *sc, double *pleasure, double *arousal)
{
    double zb = (sc->brightness - BRIGHTNESS_MEAN) / BRIGHTNESS_SD;
    double zs = (sc->saturation - SATURATION_MEAN) / SATURATION_SD;
    *pleasure = tanh(0.35 * (0.69 * zb + 0.22 * zs));
    *arousal = tanh(0.35 * (-0.31 * zb + 0.60 * zs));
}

void es_affect_fuse(es_scene_affect *scenes, size_t n)
{
    double total_w = 0, mean_v = 0, mean_a = 0;
    for (size_t s = 0; s < n; s++) {
        es_scene_affect *sc = &scenes[s];
        double colour_v, colour_a;
        colour_affect(sc, &colour_v, &colour_a);
        /* warm hues read as more pleasant and arousing than cool ones (Wilms & Oberfeld 2018) */
        double warmth = clip(sc->warmth * 2.0, -1, 1);
        double valence = 0.8 * colour_v + 0.2 * warmth;

        /* Hanjalic & Xu: normalised motion, rhythm (cuts) and sound energy */
        double motion = saturate(sc->motion, MOTION_SCALE);
        double rhythm = saturate(sc->cut_rate, CUT_RATE_SCALE);
        int has_sound = sc->loudness_lufs > ES_AUDIO_FLOOR_DB;
        double sound = has_sound ? clip((sc->loudness_lufs - LOUDNESS_QUIET) / (LOUDNESS_LOUD - LOUDNESS_QUIET), 0, 1) : 0;
        double onsets = saturate(sc->onset_rate, ONSET_RATE_SCALE);
        double excitement;
        if (has_sound) excitement = 0.40 * motion + 0.15 * rhythm + 0.25 * sound + 0.20 * onsets;
        else excitement = 0.70 * motion + 0.30 * rhythm;
        double arousal = 0.8 * (2.0 * excitement - 1.0) + 0.2 * colour_a;

        /* faces: the expression mixture through EMSYNC's table, trusted by how much face was seen:
         * face_weight is the mean over sampled frames of detector score x size (full at 2% of the
         * frame); the square root lets faces in half the frames still carry 70% of full trust */
        if (sc->face_weight > 0) {
            double face_v, face_a;
            es_emotion_mix(sc->expressions, &face_v, &face_a);
            double trust = FACE_TRUST_MAX * sqrt(clip(sc->face_weight, 0, 1));
            valence = (1 - trust) * valence + trust * face_v;
            arousal = (1 - 0.5 * trust) * arousal + 0.5 * trust * face_a;
        }
        /* a feature that could not be measured (NaN) must not reach the composer */
        sc->valence = isfinite(valence) ? clip(valence, -1, 1) : 0;
        sc->arousal = isfinite(arousal) ? clip(arousal, -1, 1) : 0;

        /* evidence grows with the scene's length and with seen faces */
        double len = fmax(sc->end - sc->start, 0);
        sc->confidence = clip(0.25 + 0.6 * saturate(len, 3.0) + 0.15 * clip(sc->face_weight, 0, 1), 0, 1);
        if (sc->n_frames == 0) sc->confidence = 0.05;
        double w = sc->confidence * fmax(len, 1e-3);
        total_w += w;
        mean_v += w * sc->valence;
        mean_a += w * sc->arousal;
    }
    if (total_w <= 0) return;
    mean_v /= total_w;
    mean_a /= total_w;
    /* shrink low-evidence scenes toward the video's mood; long scenes keep their own */
    for (size_t s = 0; s < n; s++) {
        es_scene_affect *sc = &scenes[s];
        double keep = sc->confidence;
        sc->valence = keep * sc->valence + (1 - keep) * mean_v;
        sc->arousal = keep * sc->arousal + (1 - keep) * mean_a;
    }
    /* a scene too short to have a mood of its own (a fade-in detected as a cut) takes its longer
     * neighbour's, so the music changes mood only where a real scene begins */
    for (size_t s = 0; s < n; s++) {
        es_scene_affect *sc = &scenes[s];
        if (sc->end - sc->start >= ES_MIN_MOOD_SCENE) continue;
        const es_scene_affect *from = NULL;
        for (size_t k = s + 1; k < n && !from; k++)
            if (scenes[k].end - scenes[k].start >= ES_MIN_MOOD_SCENE) from = &scenes[k];
        const es_scene_affect *before = NULL;
        for (size_t k = s; k-- > 0 && !before;)
            if (scenes[k].end - scenes[k].start >= ES_MIN_MOOD_SCENE) before = &scenes[k];
        if (before && (!from || before->end - before->start > from->end - from->start)) from = before;
        if (!from) continue;
        sc->valence = from->valence;
        sc->arousal = from->arousal;
    }
}

void es_affect_video(const es_scene_affect *scenes, size_t n, double *valence, double *arousal)
{
    double w_sum = 0, v = 0, a = 0;
    for (size_t s = 0; s < n; s++) {
        double w = fmax(scenes[s].end - scenes[s].start, 1e-3) * fmax(scenes[s].confidence, 1e-3);
        w_sum += w;
        v += w * scenes[s].valence;
        a += w * scenes[s].arousal;
    }
    *valence = w_sum > 0 ? clip(v / w_sum, -1, 1) : 0;
    *arousal = w_sum > 0 ? clip(a / w_sum, -1, 1) : 0;
}
