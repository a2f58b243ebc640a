/* Checked number parsing for options and text inputs (never atoi). */
#ifndef ES_PARSE_H
#define ES_PARSE_H

#include <stddef.h>

/* Parses the whole string as a finite double in plain decimal notation (an optional sign, digits,
 * a point, an exponent: "+1.5", "-.5", "1e3"). Returns 0, or -1 if it is empty, has leading blanks
 * or trailing text, is a hex float, or is not finite (overflow, "inf", "nan"). */
int es_parse_double(const char *s, double *out);

/* Parses the whole string as a base-10 long in [min, max] (optional sign, no blanks). Returns 0
 * or -1. */
int es_parse_long(const char *s, long min, long max, long *out);

/* Parses "t1,t2,..." (finite, >= 0) into a newly allocated ascending, deduplicated array.
 * An empty string gives zero items; an empty item ("5,,6", "5,") is an error. Returns 0 or -1
 * (with es_fail set); caller frees *out. */
int es_parse_time_list(const char *s, double **out, size_t *n);

#endif
