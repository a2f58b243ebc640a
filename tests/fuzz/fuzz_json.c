/* libFuzzer harness for the JSON reader (batch manifests, score plans): any input either fails
 * with an error line or gives a tree whose strings are valid UTF-8 and whose depth is capped.
 * Built and run by tests/fuzz/run.sh (make fuzz).
 * seeds: tests/data/faces/?*.json tests/data/batch/?*.jsonl
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/json.h"
#include "core/jsonread.h"

static void walk(const es_jv *v, int depth)
{
    if (depth > ES_JV_MAX_DEPTH + 1) abort();
    if (v->type == ES_JV_STRING)
        for (const char *s = v->string; *s;) {
            int n = es_utf8_sequence(s);
            if (n <= 0) abort();
            s += n;
        }
    for (size_t i = 0; i < v->n; i++) {
        if (v->type == ES_JV_OBJECT && !v->keys[i]) abort();
        walk(&v->items[i], depth + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    es_jv *v = es_jv_parse((const char *)data, size);
    if (v) walk(v, 0);
    else if (!es_error()[0]) abort();
    es_jv_free(v);
    return 0;
}
