/* One error line per failure: library code records what went wrong with its context and
 * returns a status; only the CLI prints it and picks the exit code. */
#ifndef ES_ERROR_H
#define ES_ERROR_H

#include <stdarg.h>

/* Records a printf-style message as the calling thread's last error (replacing any earlier one)
 * and returns -1, so callers can write `return es_fail("%s: truncated", path);`. */
int es_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The calling thread's last error message ("" when none). Valid until the next es_fail. */
const char *es_error(void);

/* Clears the calling thread's last error. */
void es_error_clear(void);

/* Allocation wrappers: on failure they record "out of memory" and return NULL. */
void *es_malloc(size_t n);
void *es_calloc(size_t count, size_t size);
void *es_realloc(void *p, size_t n);

/* Grows *items (each item_size bytes) so that it holds at least need items; *cap tracks the
 * allocated count. Returns 0, or -1 (out of memory or size overflow) leaving *items intact. */
int es_grow(void **items, size_t *cap, size_t need, size_t item_size);

#endif
