/* Ekman emotion -> valence/arousal table (SPEC §4). */
#include <string.h>

#include "emotion/ekman.h"

static const es_emotion_point table[ES_EMO_COUNT] = {
    {"anger", -0.651, 0.664},   {"disgust", -0.754, 0.255}, {"fear", -0.800, 0.681},
    {"joy", 0.800, 0.477},      {"sadness", -0.789, -0.800}, {"surprise", 0.389, 0.800},
    {"neutral", 0.0, 0.0},
};

const es_emotion_point *es_emotion_point_of(es_emotion e) { return &table[e]; }

int es_emotion_lookup(const char *name, double *valence, double *arousal)
{
    for (int i = 0; i < ES_EMO_COUNT; i++)
        if (!strcmp(name, table[i].name)) {
            *valence = table[i].valence;
            *arousal = table[i].arousal;
            return 0;
        }
    return -1;
}

static double clip1(double x) { return x < -1 ? -1 : x > 1 ? 1 : x; }

void es_emotion_mix(const double *probs, double *valence, double *arousal)
{
    double v = 0, a = 0;
    for (int i = 0; i < ES_EMO_COUNT; i++) {
        v += probs[i] * table[i].valence;
        a += probs[i] * table[i].arousal;
    }
    *valence = clip1(v);
    *arousal = clip1(a);
}

const char *es_emotion_names(void) { return "anger|disgust|fear|joy|sadness|surprise|neutral"; }
