/* A tiny streaming JSON writer: it tracks nesting and commas so callers cannot emit invalid
 * JSON by forgetting a separator. Non-finite numbers are written as null. Nesting deeper than
 * ES_JSON_MAX_DEPTH is not written: the too-deep container becomes null (the output stays valid)
 * and es_json_truncated() says so. */
#ifndef ES_JSON_H
#define ES_JSON_H

#include <stdio.h>

#define ES_JSON_MAX_DEPTH 32

typedef struct {
    FILE *out;
    int depth;                           /* containers open and written */
    int skip;                            /* containers open beyond ES_JSON_MAX_DEPTH, not written */
    int need_comma[ES_JSON_MAX_DEPTH + 1];
    int after_key;
    int pretty;
    int truncated;
} es_json;

void es_json_init(es_json *j, FILE *out, int pretty);
void es_json_begin_object(es_json *j);
void es_json_end_object(es_json *j);
void es_json_begin_array(es_json *j);
void es_json_end_array(es_json *j);
void es_json_key(es_json *j, const char *key);
void es_json_string(es_json *j, const char *s);
void es_json_number(es_json *j, double v);
/* Like es_json_number, with as many digits as it takes (at most 17) to read back the very same
 * double: for values a reader may feed back to emsync (boundaries, moods), where six digits
 * would change the result. */
void es_json_number_exact(es_json *j, double v);
void es_json_int(es_json *j, long long v);
void es_json_bool(es_json *j, int v);
void es_json_null(es_json *j);

/* Length (1-4) of the valid UTF-8 sequence starting at s, or 0 when it is not valid UTF-8 (or
 * s is empty). Strings are written with invalid bytes replaced by U+FFFD. */
int es_utf8_sequence(const char *s);

/* 1 when something nested too deep was replaced by null. */
int es_json_truncated(const es_json *j);

/* Shorthands for a key followed by a value. */
void es_json_kv_string(es_json *j, const char *key, const char *s);
void es_json_kv_number(es_json *j, const char *key, double v);
void es_json_kv_number_exact(es_json *j, const char *key, double v);
void es_json_kv_int(es_json *j, const char *key, long long v);

#endif
