/* libFuzzer harness for the tfjs weights manifest + shard loader and its JSON reader.
 * The input is parsed as JSON on its own, then split at the first "\n#SHARD\n": the part
 * before becomes DIR/f-weights_manifest.json, the part after DIR/s.bin (absent when there is
 * no separator), and es_weights_load reads them. A loaded set must be consistent: shapes
 * multiply to the counts, values are finite, and es_weights_get finds every tensor. */
// seeds: tests/data/faces/fuzz/*.seed
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emotion/weights.h"

static char dir[256];
static char manifest[300], shard[300];

static int write_file(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* Walks a parsed tree: every node is well formed, objects have keys. */
static size_t walk(const es_jval *v, int depth)
{
    if (depth > 70) abort();
    size_t n = 1;
    switch (v->type) {
    case ES_JSTR: if (!v->str) abort(); break;
    case ES_JNUM: if (!isfinite(v->num)) abort(); break;
    case ES_JOBJ:
        for (size_t i = 0; i < v->count; i++) {
            if (!v->keys[i]) abort();
            if (!es_jval_get(v, v->keys[i])) abort();
        }
        /* fall through */
    case ES_JARR:
        for (size_t i = 0; i < v->count; i++) n += walk(&v->items[i], depth + 1);
        break;
    default: break;
    }
    return n;
}

static void remove_dir(void)
{
    unlink(manifest);
    unlink(shard);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/fuzz-weights-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) abort();
        snprintf(manifest, sizeof manifest, "%s/f-weights_manifest.json", dir);
        snprintf(shard, sizeof shard, "%s/s.bin", dir);
        atexit(remove_dir);
    }
    es_jval *v = es_jval_parse((const char *)data, size, "fuzz");
    if (v) walk(v, 0);
    es_jval_free(v);

    static const char sep[] = "\n#SHARD\n";
    const uint8_t *cut = size >= 8 ? memmem(data, size, sep, 8) : NULL;
    size_t mlen = cut ? (size_t)(cut - data) : size;
    if (write_file(manifest, data, mlen)) abort();
    unlink(shard);
    if (cut && write_file(shard, cut + 8, size - mlen - 8)) abort();

    es_weights *w = es_weights_load(dir, "f");
    if (w) {
        for (size_t i = 0; i < w->count; i++) {
            const es_tensor *t = &w->tensors[i];
            size_t count = 1;
            for (int d = 0; d < t->rank; d++) count *= (size_t)t->shape[d];
            if (count != t->count || !t->name || t->rank < 0 || t->rank > 4) abort();
            for (size_t k = 0; k < t->count; k++)
                if (!isfinite(t->data[k])) abort();
            /* the first tensor of each name is the one es_weights_get returns */
            size_t first = 0;
            while (strcmp(w->tensors[first].name, t->name)) first++;
            if (first == i && es_weights_get(w, t->name, t->rank, t->shape) != t->data) abort();
        }
        es_weights_free(w);
    }
    return 0;
}
