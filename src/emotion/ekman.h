/* EMSYNC's map from Ekman's basic emotions to valence/arousal: the Russell & Mehrabian (1977)
 * means rescaled to +-0.8 (SPEC §4), plus neutral at the origin. */
#ifndef ES_EKMAN_H
#define ES_EKMAN_H

typedef enum {
    ES_EMO_ANGER = 0,
    ES_EMO_DISGUST,
    ES_EMO_FEAR,
    ES_EMO_JOY,
    ES_EMO_SADNESS,
    ES_EMO_SURPRISE,
    ES_EMO_NEUTRAL,
    ES_EMO_COUNT
} es_emotion;

typedef struct {
    const char *name;  /* "anger", ... as accepted by --emotion */
    double valence, arousal;
} es_emotion_point;

/* The table entry for an emotion. */
const es_emotion_point *es_emotion_point_of(es_emotion e);

/* Looks up a name ("joy", "sadness", ...). Returns 0 and fills v/a, or -1 if unknown. */
int es_emotion_lookup(const char *name, double *valence, double *arousal);

/* EMSYNC's fusion: (v, a) = sum p_i (V_i, A_i), clipped to [-1, 1]. probs has ES_EMO_COUNT
 * entries (neutral contributes the origin). */
void es_emotion_mix(const double *probs, double *valence, double *arousal);

/* "anger|disgust|..." for usage texts. */
const char *es_emotion_names(void);

#endif
