/* Thread-local last-error buffer and checked allocation. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/error.h"

static _Thread_local char last_error[512];

int es_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return -1;
}

const char *es_error(void) { return last_error; }

void es_error_clear(void) { last_error[0] = '\0'; }

void *es_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) es_fail("out of memory (%zu bytes)", n);
    return p;
}

void *es_calloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) es_fail("out of memory (%zu x %zu bytes)", count, size);
    return p;
}

void *es_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) es_fail("out of memory (%zu bytes)", n);
    return q;
}

int es_grow(void **items, size_t *cap, size_t need, size_t item_size)
{
    if (need <= *cap) return 0;
    size_t new_cap = *cap ? *cap : 16;
    while (new_cap < need) {
        if (new_cap > SIZE_MAX / 2) return es_fail("out of memory (list too long)");
        new_cap *= 2;
    }
    if (item_size && new_cap > SIZE_MAX / item_size) return es_fail("out of memory (list too long)");
    void *p = es_realloc(*items, new_cap * item_size);
    if (!p) return -1;
    *items = p;
    *cap = new_cap;
    return 0;
}
