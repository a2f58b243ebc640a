/* libFuzzer harness for score plans: any input either fails with one error line or gives a
 * plan whose boundaries and scene starts ascend inside their ranges and whose moods are in
 * [-1, 1]. Built and run by tests/fuzz/run.sh (make fuzz).
 * seeds: tests/data/plan/?*.json tests/data/batch/?*.jsonl
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "pipeline/plan.h"

static void check_plan(const es_plan *p)
{
    for (size_t i = 0; i < p->n_bounds; i++)
        if (!(p->bounds[i] >= 0 && p->bounds[i] <= ES_PLAN_MAX_TIME) || (i && !(p->bounds[i] > p->bounds[i - 1])))
            abort();
    for (size_t i = 0; i < p->n_moods; i++) {
        const emsync_scene_mood *m = &p->moods[i];
        if (!(m->start >= 0 && m->start <= ES_PLAN_MAX_TIME) || (i && !(m->start > m[-1].start))) abort();
        if (!(m->valence >= -1 && m->valence <= 1 && m->arousal >= -1 && m->arousal <= 1)) abort();
    }
    if (p->n_bounds > ES_PLAN_MAX_ITEMS || p->n_moods > ES_PLAN_MAX_ITEMS) abort();
    if (p->has_seed && p->seed > 2147483647u) abort();
    if (p->soundfont && !p->soundfont[0]) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    es_plan p;
    if (es_plan_parse("plan.json", (const char *)data, size, &p) == 0) check_plan(&p);
    else if (!es_error()[0] || strchr(es_error(), '\n') || p.bounds || p.moods) abort();
    es_plan_free(&p);
    return 0;
}
