/* A tiny streaming JSON writer: it tracks nesting and commas so callers cannot emit invalid
 * JSON by forgetting a separator. Non-finite numbers are written as null. */
#ifndef ES_JSON_H
#define ES_JSON_H

#include <stdio.h>

typedef struct {
    FILE *out;
    int depth;
    int need_comma[32];
    int after_key;
    int pretty;
} es_json;

void es_json_init(es_json *j, FILE *out, int pretty);
void es_json_begin_object(es_json *j);
void es_json_end_object(es_json *j);
void es_json_begin_array(es_json *j);
void es_json_end_array(es_json *j);
void es_json_key(es_json *j, const char *key);
void es_json_string(es_json *j, const char *s);
void es_json_number(es_json *j, double v);
void es_json_int(es_json *j, long long v);
void es_json_bool(es_json *j, int v);
void es_json_null(es_json *j);

/* Shorthands for a key followed by a value. */
void es_json_kv_string(es_json *j, const char *key, const char *s);
void es_json_kv_number(es_json *j, const char *key, double v);
void es_json_kv_int(es_json *j, const char *key, long long v);

#endif
