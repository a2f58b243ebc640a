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

int es_affect_scenes(const es_media_analysis *a, const double *starts, size_t n_starts, const double *bounds,
                     size_t n_bounds, double cut_threshold, es_scene_affect **out, size_t *n_out)
{
    size_t n = n_starts + 1;
    int rc = -1;
    es_scene_affect *scenes = es_calloc(n, sizeof *scenes);
    size_t *peaks = es_calloc(n_bounds + 1, sizeof *peaks), *blocks = es_calloc(n, sizeof *blocks);
    size_t *onsets = es_calloc(n, sizeof *onsets);
    double *power = es_calloc(n, sizeof *power);
    float *rises = es_calloc(a->n_audio, sizeof *rises);
    if (!scenes || !peaks || !blocks || !onsets || !power || !rises) goto end;
    double duration = a->info.duration;
    for (size_t s = 0; s < n; s++) {
        scenes[s].start = s == 0 ? 0.0 : starts[s - 1];
        scenes[s].end = s == n_starts ? duration : starts[s];
        scenes[s].loudness_lufs = ES_AUDIO_FLOOR_DB;
    }

    /* spans: accumulate into the scene whose [start, end) holds the span's first frame; only a
     * span's first frame can score above the threshold */
    if (a->spans.n && !(a->spans.threshold <= cut_threshold)) {
        es_fail("scene features: frames were summed at a cut threshold of %g, above %g", a->spans.threshold,
                cut_threshold);
        goto end;
    }
    size_t s = 0, sec = 0;
    for (size_t i = 0; i < a->spans.n; i++) {
        const es_frame_span *f = &a->spans.items[i];
        while (s + 1 < n && f->start >= scenes[s + 1].start) s++;
        while (sec < n_bounds && f->start >= bounds[sec]) sec++;
        es_scene_affect *sc = &scenes[s];
        sc->n_frames += f->n_frames;
        sc->brightness += f->brightness;
        sc->saturation += f->saturation;
        sc->colourfulness += f->colourfulness;
        sc->warmth += f->warmth;
        sc->motion += f->motion;
        /* the cut that opens the section is its boundary, not part of its rhythm */
        double opens = sec ? bounds[sec - 1] : 0.0;
        if (f->first_scene > cut_threshold && f->start > opens + BOUNDARY_SLACK) peaks[sec]++;
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

    sec = 0;
    for (s = 0; s < n; s++) {
        es_scene_affect *sc = &scenes[s];
        double len = fmax(sc->end - sc->start, 1e-3);
        while (sec < n_bounds && sc->start >= bounds[sec]) sec++;
        double sec_start = sec ? bounds[sec - 1] : 0.0, sec_end = sec < n_bounds ? bounds[sec] : duration;
        if (sc->n_frames) {
            double k = 1.0 / (double)sc->n_frames;
            sc->brightness *= k;
            sc->saturation *= k;
            sc->colourfulness *= k;
            sc->warmth *= k;
            sc->motion *= k;
        }
        sc->cut_rate = (double)peaks[sec] * 60.0 / fmax(sec_end - sec_start, 1e-3);
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

static const char *const cue_names[ES_CUE_COUNT] = {"colour", "warmth", "motion", "cuts", "loudness",
                                                    "onsets", "faces", "base", "video", "limit"};

const char *es_cue_name(es_cue c) { return c >= 0 && c < ES_CUE_COUNT ? cue_names[c] : "?"; }

static double sum_parts(const double *parts)
{
    double x = 0;
    for (int c = 0; c < ES_CUE_COUNT; c++) x += parts[c];
    return x;
}

/* Sets *value to the parts' sum clipped to [-1, 1] and books what clipping took under limit. */
static void settle(double *parts, double *value)
{
    for (int c = 0; c < ES_CUE_COUNT; c++)
        if (!isfinite(parts[c])) parts[c] = 0; /* an unmeasurable feature must not reach the composer */
    double x = sum_parts(parts);
    *value = clip(x, -1, 1);
    parts[ES_CUE_LIMIT] += *value - x;
}

/* value <- keep * value + (1 - keep) * toward, term by term. */
static void pull(double *parts, double *value, double keep, double toward)
{
    for (int c = 0; c < ES_CUE_COUNT; c++) parts[c] *= keep;
    parts[ES_CUE_VIDEO] += (1 - keep) * toward;
    settle(parts, value);
}

/* The confidence-weighted mean mood of the scenes. Returns 0 when no scene has weight. */
static int video_mood(const es_scene_affect *scenes, size_t n, double *v, double *a)
{
    double total = 0, mv = 0, ma = 0;
    for (size_t s = 0; s < n; s++) {
        double w = scenes[s].confidence * fmax(scenes[s].end - scenes[s].start, 1e-3);
        total += w;
        mv += w * scenes[s].valence;
        ma += w * scenes[s].arousal;
    }
    if (!(total > 0)) return 0;
    *v = mv / total;
    *a = ma / total;
    return 1;
}

void es_affect_fuse(es_scene_affect *scenes, size_t n, double contrast)
{
    for (size_t s = 0; s < n; s++) {
        es_scene_affect *sc = &scenes[s];
        double *pv = sc->valence_parts, *pa = sc->arousal_parts;
        memset(sc->valence_parts, 0, sizeof sc->valence_parts);
        memset(sc->arousal_parts, 0, sizeof sc->arousal_parts);
        double colour_v, colour_a;
        colour_affect(sc, &colour_v, &colour_a);
        /* warm hues read as more pleasant and arousing than cool ones (Wilms & Oberfeld 2018) */
        double warmth = clip(sc->warmth * 2.0, -1, 1);

        /* faces: the expression mixture through EMSYNC's table, trusted by how much face was seen:
         * face_weight is the mean over sampled frames of detector score x size (full at 2% of the
         * frame); the square root lets faces in half the frames still carry 70% of full trust */
        double face_v = 0, face_a = 0, trust = 0;
        if (sc->face_weight > 0) {
            es_emotion_mix(sc->expressions, &face_v, &face_a);
            trust = FACE_TRUST_MAX * sqrt(clip(sc->face_weight, 0, 1));
        }
        pv[ES_CUE_COLOUR] = (1 - trust) * 0.8 * colour_v;
        pv[ES_CUE_WARMTH] = (1 - trust) * 0.2 * warmth;
        pv[ES_CUE_FACES] = trust * face_v;

        /* Hanjalic & Xu: normalised motion, rhythm (cuts) and sound energy, an excitement in
         * [0, 1] mapped onto [-0.8, 0.8]; faces take half the share they take of valence */
        double keep_a = 0.8 * (1 - 0.5 * trust);
        double motion = saturate(sc->motion, MOTION_SCALE);
        double rhythm = saturate(sc->cut_rate, CUT_RATE_SCALE);
        if (sc->loudness_lufs > ES_AUDIO_FLOOR_DB) {
            double sound = clip((sc->loudness_lufs - LOUDNESS_QUIET) / (LOUDNESS_LOUD - LOUDNESS_QUIET), 0, 1);
            pa[ES_CUE_MOTION] = keep_a * 2 * 0.40 * motion;
            pa[ES_CUE_CUTS] = keep_a * 2 * 0.15 * rhythm;
            pa[ES_CUE_LOUDNESS] = keep_a * 2 * 0.25 * sound;
            pa[ES_CUE_ONSETS] = keep_a * 2 * 0.20 * saturate(sc->onset_rate, ONSET_RATE_SCALE);
        } else {
            pa[ES_CUE_MOTION] = keep_a * 2 * 0.70 * motion;
            pa[ES_CUE_CUTS] = keep_a * 2 * 0.30 * rhythm;
        }
        pa[ES_CUE_BASE] = -keep_a;
        pa[ES_CUE_COLOUR] = (1 - 0.5 * trust) * 0.2 * colour_a;
        pa[ES_CUE_FACES] = 0.5 * trust * face_a;
        settle(pv, &sc->valence);
        settle(pa, &sc->arousal);

        /* evidence grows with the scene's length and with seen faces */
        double len = fmax(sc->end - sc->start, 0);
        sc->confidence = clip(0.25 + 0.6 * saturate(len, 3.0) + 0.15 * clip(sc->face_weight, 0, 1), 0, 1);
        if (sc->n_frames == 0) sc->confidence = 0.05;
    }
    double mean_v, mean_a;
    if (!video_mood(scenes, n, &mean_v, &mean_a)) return;
    /* shrink low-evidence scenes toward the video's mood; long scenes keep their own */
    for (size_t s = 0; s < n; s++) {
        es_scene_affect *sc = &scenes[s];
        pull(sc->valence_parts, &sc->valence, sc->confidence, mean_v);
        pull(sc->arousal_parts, &sc->arousal, sc->confidence, mean_a);
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
        memcpy(sc->valence_parts, from->valence_parts, sizeof sc->valence_parts);
        memcpy(sc->arousal_parts, from->arousal_parts, sizeof sc->arousal_parts);
    }
    /* contrast: each scene's distance from the video's mood, stretched */
    if (!(contrast >= 0) || contrast == 1 || !video_mood(scenes, n, &mean_v, &mean_a)) return;
    for (size_t s = 0; s < n; s++) {
        es_scene_affect *sc = &scenes[s];
        pull(sc->valence_parts, &sc->valence, contrast, mean_v);
        pull(sc->arousal_parts, &sc->arousal, contrast, mean_a);
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
