/* A score plan: a JSON file that gives `emsync score` its boundaries, per-scene moods and a few
 * settings instead of detecting and estimating them. Every field is optional:
 *   {"boundaries": [s, ...], "scenes": [{"start": s, "valence": v, "arousal": a}, ...],
 *    "composer": "auto"|"rules"|"emsync", "seed": N, "original_audio": "off"|"mix"|"track",
 *    "soundfont": "path"}
 * An `emsync analyze --json` report is a plan as it is: without "boundaries" they are read from
 * "cuts"."boundaries", without "scenes" from "emotion"."scenes". Other keys are ignored, and so
 * are a scene's other keys ("end", "confidence", ...). The file is hostile input: everything is
 * checked and one error line names the field and its line. */
#ifndef ES_PLAN_H
#define ES_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "emsync.h"

#define ES_PLAN_MAX_BYTES (16u << 20)  /* a plan file larger than this is refused */
#define ES_PLAN_MAX_ITEMS 100000       /* boundaries, and scenes, at most */
#define ES_PLAN_MAX_TIME 1e6           /* seconds: no boundary or scene starts later */

typedef struct {
    int has_bounds;                    /* 1: use bounds (even none), like --cuts */
    double *bounds;                    /* strictly ascending, in [0, ES_PLAN_MAX_TIME] */
    size_t n_bounds;
    emsync_scene_mood *moods;          /* strictly ascending starts; NULL when not given */
    size_t n_moods;
    int has_composer, has_seed, has_original_audio;
    emsync_composer composer;
    uint64_t seed;                     /* in [0, 2147483647], as --seed */
    emsync_original_audio original_audio;
    char *soundfont;                   /* NULL when not given */
} es_plan;

/* Reads the plan file at path (at most ES_PLAN_MAX_BYTES) into *plan. Returns 0, or -1 with one
 * error line "PATH: line N: FIELD: what" (the line where the reader knows it); *plan is then
 * empty. */
int es_plan_read(const char *path, es_plan *plan);

/* Like es_plan_read on len bytes of JSON text; name stands for the file in errors. */
int es_plan_parse(const char *name, const char *text, size_t len, es_plan *plan);

/* Frees what a plan holds and empties it. */
void es_plan_free(es_plan *plan);

#endif
