/* What every composer is asked for: a duration, the boundaries (scene cuts) that harmony changes
 * must land on, the mood over time, and a seed. Composers fill an es_score. */
#ifndef ES_COMPOSE_H
#define ES_COMPOSE_H

#include <stddef.h>
#include <stdint.h>

#include "music/score.h"

/* The mood from `start` (seconds) until the next segment's start. Valence and arousal are in
 * [-1, 1]; NaN means "unknown" (the EMSYNC generator then uses its null condition). */
typedef struct {
    double start;
    double valence, arousal;
} es_mood_segment;

typedef struct {
    double duration;              /* seconds of music wanted, > 0 */
    const double *boundaries;     /* ascending seconds in (0, duration); may be NULL if none */
    size_t n_boundaries;
    const es_mood_segment *moods; /* ascending by start, moods[0].start == 0, n_moods >= 1 */
    size_t n_moods;
    uint64_t seed;                /* same request + seed => identical score */
} es_compose_request;

/* The mood in force at time t (the last segment starting at or before t). */
static inline const es_mood_segment *es_mood_at(const es_compose_request *req, double t)
{
    const es_mood_segment *m = &req->moods[0];
    for (size_t i = 1; i < req->n_moods; i++)
        if (req->moods[i].start <= t) m = &req->moods[i];
    return m;
}

#endif
