/* Score plans (see plan.h): the JSON tree checked field by field into an es_plan. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/jsonread.h"
#include "pipeline/plan.h"

#define MAX_SEED 2147483647.0

/* Records "NAME: line N: FIELD: what" for the value v. Returns -1. */
static int fail_at(const char *name, const es_jv *v, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail_at(const char *name, const es_jv *v, const char *field, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return es_fail("%s: line %d: %s: %s", name, v->line, field, what);
}

/* A user's string for a message: at most 40 characters, control characters as '?', so the
 * error stays one short line. */
static const char *shown(const char *s, char *buf, size_t size)
{
    size_t n = 0;
    for (; s[n] && n + 4 < size && n < 40; n++) buf[n] = (unsigned char)s[n] < 0x20 || s[n] == 0x7f ? '?' : s[n];
    snprintf(buf + n, size - n, "%s", s[n] ? "..." : "");
    return buf;
}

static int number_in(const char *name, const es_jv *v, const char *field, double lo, double hi, double *out)
{
    if (v->type != ES_JV_NUMBER)
        return fail_at(name, v, field, "must be a number in [%g, %g], not %s", lo, hi, es_jv_type_name(v->type));
    if (!(v->number >= lo && v->number <= hi))
        return fail_at(name, v, field, "%g is outside [%g, %g]", v->number, lo, hi);
    *out = v->number;
    return 0;
}

/* An array of at most ES_PLAN_MAX_ITEMS items. */
static int array_of(const char *name, const es_jv *v, const char *field, const char *what)
{
    if (v->type != ES_JV_ARRAY) return fail_at(name, v, field, "must be an array of %s, not %s", what, es_jv_type_name(v->type));
    if (v->n > ES_PLAN_MAX_ITEMS) return fail_at(name, v, field, "%zu items; at most %d are taken", v->n, ES_PLAN_MAX_ITEMS);
    return 0;
}

/* `key`, else `outer`.`key` (an analyze report's place for it); NULL with *field unset when
 * neither is there. -1 when outer is there but no object. */
static int locate(const char *name, const es_jv *root, const char *key, const char *outer, const es_jv **v,
                  char *field, size_t size)
{
    snprintf(field, size, "%s", key);
    *v = es_jv_get(root, key);
    if (*v) return 0;
    const es_jv *o = es_jv_get(root, outer);
    if (!o) return 0;
    if (o->type != ES_JV_OBJECT)
        return fail_at(name, o, outer, "must be an object (with \"%s\"), not %s", key, es_jv_type_name(o->type));
    snprintf(field, size, "%s.%s", outer, key);
    *v = es_jv_get(o, key);
    return 0;
}

static int read_bounds(const char *name, const es_jv *v, const char *field, es_plan *plan)
{
    if (array_of(name, v, field, "times in seconds")) return -1;
    plan->bounds = es_malloc((v->n ? v->n : 1) * sizeof *plan->bounds);
    if (!plan->bounds) return -1;
    for (size_t i = 0; i < v->n; i++) {
        char item[64];
        double t;
        snprintf(item, sizeof item, "%s[%zu]", field, i);
        if (number_in(name, &v->items[i], item, 0, ES_PLAN_MAX_TIME, &t)) return -1;
        if (i && !(t > plan->bounds[i - 1]))
            return fail_at(name, &v->items[i], item, "%g is not after %g (boundaries ascend)", t, plan->bounds[i - 1]);
        plan->bounds[plan->n_bounds++] = t;
    }
    plan->has_bounds = 1;
    return 0;
}

static int read_scene(const char *name, const es_jv *v, const char *field, emsync_scene_mood *m)
{
    static const char *const keys[3] = {"start", "valence", "arousal"};
    if (v->type != ES_JV_OBJECT)
        return fail_at(name, v, field, "must be an object with start, valence and arousal, not %s",
                       es_jv_type_name(v->type));
    double *dest[3] = {&m->start, &m->valence, &m->arousal};
    for (int k = 0; k < 3; k++) {
        const es_jv *x = es_jv_get(v, keys[k]);
        char item[80];
        snprintf(item, sizeof item, "%s.%s", field, keys[k]);
        if (!x) return fail_at(name, v, field, "has no \"%s\"", keys[k]);
        if (number_in(name, x, item, k ? -1 : 0, k ? 1 : ES_PLAN_MAX_TIME, dest[k])) return -1;
    }
    return 0;
}

static int read_scenes(const char *name, const es_jv *v, const char *field, es_plan *plan)
{
    if (array_of(name, v, field, "scenes")) return -1;
    if (v->n == 0) return fail_at(name, v, field, "no scenes; give at least one or leave the field out");
    plan->moods = es_malloc(v->n * sizeof *plan->moods);
    if (!plan->moods) return -1;
    for (size_t i = 0; i < v->n; i++) {
        char item[64];
        snprintf(item, sizeof item, "%s[%zu]", field, i);
        emsync_scene_mood *m = &plan->moods[i];
        if (read_scene(name, &v->items[i], item, m)) return -1;
        if (i && !(m->start > m[-1].start))
            return fail_at(name, &v->items[i], item, "starts at %g, not after the scene before (%g)", m->start,
                           m[-1].start);
        plan->n_moods++;
    }
    return 0;
}

/* A string field that must be one of names[0..n); *index receives which. */
static int read_choice(const char *name, const es_jv *v, const char *field, const char *const *names, int n,
                       const char *list, int *index)
{
    char buf[64];
    if (v->type != ES_JV_STRING) return fail_at(name, v, field, "must be %s, not %s", list, es_jv_type_name(v->type));
    for (int i = 0; i < n; i++)
        if (!strcmp(v->string, names[i])) {
            *index = i;
            return 0;
        }
    return fail_at(name, v, field, "must be %s, not \"%s\"", list, shown(v->string, buf, sizeof buf));
}

/* composer, seed, original_audio, soundfont */
static int read_settings(const char *name, const es_jv *root, es_plan *plan)
{
    static const char *const composers[] = {"auto", "rules", "emsync"};
    static const emsync_composer composer_of[] = {EMSYNC_COMPOSER_AUTO, EMSYNC_COMPOSER_RULES, EMSYNC_COMPOSER_EMSYNC};
    static const char *const audio[] = {"off", "mix", "track"};
    static const emsync_original_audio audio_of[] = {EMSYNC_ORIGINAL_AUDIO_OFF, EMSYNC_ORIGINAL_AUDIO_MIX,
                                                     EMSYNC_ORIGINAL_AUDIO_TRACK};
    const es_jv *v;
    int i;
    if ((v = es_jv_get(root, "composer"))) {
        if (read_choice(name, v, "composer", composers, 3, "auto, rules or emsync", &i)) return -1;
        plan->composer = composer_of[i];
        plan->has_composer = 1;
    }
    if ((v = es_jv_get(root, "seed"))) {
        if (v->type != ES_JV_NUMBER || !(v->number >= 0 && v->number <= MAX_SEED) || v->number != (double)(long)v->number)
            return fail_at(name, v, "seed", "must be an integer in [0, %.0f]", MAX_SEED);
        plan->seed = (uint64_t)v->number;
        plan->has_seed = 1;
    }
    if ((v = es_jv_get(root, "original_audio"))) {
        if (read_choice(name, v, "original_audio", audio, 3, "off, mix or track", &i)) return -1;
        plan->original_audio = audio_of[i];
        plan->has_original_audio = 1;
    }
    if ((v = es_jv_get(root, "soundfont"))) {
        if (v->type != ES_JV_STRING || !v->string[0])
            return fail_at(name, v, "soundfont", "must be a file name");
        plan->soundfont = strdup(v->string);
        if (!plan->soundfont) return es_fail("out of memory");
    }
    return 0;
}

static int read_plan(const char *name, const es_jv *root, es_plan *plan)
{
    if (root->type != ES_JV_OBJECT)
        return es_fail("%s: line %d: a plan is a JSON object, not %s", name, root->line, es_jv_type_name(root->type));
    const es_jv *v;
    char field[32];
    if (locate(name, root, "boundaries", "cuts", &v, field, sizeof field)) return -1;
    if (v && read_bounds(name, v, field, plan)) return -1;
    if (locate(name, root, "scenes", "emotion", &v, field, sizeof field)) return -1;
    if (v && read_scenes(name, v, field, plan)) return -1;
    return read_settings(name, root, plan);
}

/* Checks the tree (freed here) into *plan; emptied on failure. */
static int take(const char *name, es_jv *root, es_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    if (!root) return -1;
    int r = read_plan(name, root, plan);
    es_jv_free(root);
    if (r) es_plan_free(plan);
    return r;
}

int es_plan_read(const char *path, es_plan *plan)
{
    return take(path, es_jv_parse_file(path, ES_PLAN_MAX_BYTES), plan);
}

int es_plan_parse(const char *name, const char *text, size_t len, es_plan *plan)
{
    es_jv *root = es_jv_parse(text, len);
    if (!root) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", es_error());
        memset(plan, 0, sizeof *plan);
        return es_fail("%s: %s", name, msg);
    }
    return take(name, root, plan);
}

void es_plan_free(es_plan *plan)
{
    free(plan->bounds);
    free(plan->moods);
    free(plan->soundfont);
    memset(plan, 0, sizeof *plan);
}
