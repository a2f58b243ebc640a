/* A small strict JSON reader (RFC 8259) for the files users hand to emsync: batch manifests in
 * JSON Lines and score plans. It builds a tree; every value remembers the line it starts on, so
 * errors can point at the place to fix. Input is hostile: depth is capped, strings must be valid
 * UTF-8, and nothing after the one top-level value is accepted but white space. */
#ifndef ES_JSONREAD_H
#define ES_JSONREAD_H

#include <stddef.h>

#define ES_JV_MAX_DEPTH 64

typedef enum { ES_JV_NULL, ES_JV_BOOL, ES_JV_NUMBER, ES_JV_STRING, ES_JV_ARRAY, ES_JV_OBJECT } es_jv_type;

typedef struct es_jv {
    es_jv_type type;
    int line;              /* 1-based line of the text where the value starts */
    int boolean;           /* ES_JV_BOOL */
    double number;         /* ES_JV_NUMBER (finite; 1e999 is refused) */
    char *string;          /* ES_JV_STRING: NUL-terminated valid UTF-8 (\u0000 refused) */
    size_t n;              /* ES_JV_ARRAY / ES_JV_OBJECT: number of items */
    struct es_jv *items;   /* the items (values) */
    char **keys;           /* ES_JV_OBJECT: keys[i] names items[i] */
} es_jv;

/* Parses one JSON text of len bytes (it need not end in NUL). Returns the tree, or NULL with an
 * error "line N: what" (es_error()). */
es_jv *es_jv_parse(const char *text, size_t len);

/* Frees a tree from es_jv_parse or es_jv_parse_file; NULL is fine. */
void es_jv_free(es_jv *v);

/* The member `key` of an object (the last one when repeated), or NULL when absent or v is not
 * an object. */
const es_jv *es_jv_get(const es_jv *v, const char *key);

/* Reads the whole file (at most max_bytes) and parses it. NULL with "PATH: what" otherwise. */
es_jv *es_jv_parse_file(const char *path, size_t max_bytes);

/* The type's name for messages: "null", "a boolean", "a number", "a string", "an array",
 * "an object". */
const char *es_jv_type_name(es_jv_type t);

#endif
