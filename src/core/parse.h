/* Checked number parsing for options and text inputs (never atoi). */
#ifndef ES_PARSE_H
#define ES_PARSE_H

#include <stddef.h>

/* Parses the whole string as a finite double. Returns 0, or -1 if it is empty, has trailing
 * text, or is not finite. */
int es_parse_double(const char *s, double *out);

/* Parses the whole string as a base-10 long in [min, max]. Returns 0 or -1. */
int es_parse_long(const char *s, long min, long max, long *out);

/* Parses "t1,t2,..." (finite, >= 0) into a newly allocated ascending, deduplicated array.
 * An empty string gives zero items. Returns 0 or -1 (with es_fail set); caller frees *out. */
int es_parse_time_list(const char *s, double **out, size_t *n);

#endif
