/* Checked parsing of numbers and number lists. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/parse.h"

/* Plain decimal notation only: strtod would also take leading blanks, hex floats ("0x1p3") and
 * "infinity", none of which a person means in an option. */
static int plain_decimal(const char *s)
{
    if (*s == '+' || *s == '-') s++;
    if (!((*s >= '0' && *s <= '9') || *s == '.')) return 0;
    for (; *s; s++)
        if (*s == 'x' || *s == 'X') return 0;
    return 1;
}

int es_parse_double(const char *s, double *out)
{
    if (!s || !*s || !plain_decimal(s)) return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

int es_parse_long(const char *s, long min, long max, long *out)
{
    if (!s || !*s || !plain_decimal(s)) return -1;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE || v < min || v > max) return -1;
    *out = v;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int es_parse_time_list(const char *s, double **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t len = strlen(s), cap = 0;
    char *copy = es_malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, s, len + 1);
    double *times = NULL;
    size_t count = 0;
    /* items split on every comma: "5,,6" and "5," have an empty item, which is refused */
    for (char *tok = copy; len && tok;) {
        char *comma = strchr(tok, ',');
        if (comma) *comma = '\0';
        double t;
        if (!*tok) {
            es_fail("empty item in the list '%s'", s);
            goto fail;
        }
        if (es_parse_double(tok, &t) || t < 0) {
            es_fail("'%s' is not a time in seconds (>= 0)", tok);
            goto fail;
        }
        if (es_grow((void **)&times, &cap, count + 1, sizeof *times)) goto fail;
        times[count++] = t;
        tok = comma ? comma + 1 : NULL;
    }
    free(copy);
    if (count > 1) qsort(times, count, sizeof *times, cmp_double);
    size_t kept = 0;
    for (size_t i = 0; i < count; i++)
        if (kept == 0 || times[i] != times[kept - 1]) times[kept++] = times[i];
    *out = times;
    *n = kept;
    return 0;
fail:
    free(copy);
    free(times);
    return -1;
}
