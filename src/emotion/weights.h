/* tfjs weight manifests (the "-weights_manifest.json" + binary shards that face-api ships):
 * every tensor dequantised to float32 once at load. The files are treated as hostile: names,
 * shapes, sizes and shard lengths are checked before anything is read.
 * Also a small JSON reader (DOM) used for the manifest and for reference data in tests. */
#ifndef ES_WEIGHTS_H
#define ES_WEIGHTS_H

#include <stddef.h>

/* ---- JSON values ---- */
typedef enum { ES_JNULL, ES_JBOOL, ES_JNUM, ES_JSTR, ES_JARR, ES_JOBJ } es_jtype;

typedef struct es_jval {
    es_jtype type;
    double num;              /* ES_JNUM, ES_JBOOL (0/1) */
    char *str;               /* ES_JSTR (NUL-terminated, escapes decoded) */
    char **keys;             /* ES_JOBJ: keys[i] names items[i] */
    struct es_jval *items;   /* ES_JARR / ES_JOBJ children */
    size_t count;
} es_jval;

/* Parses text[0..n) as one JSON document (depth <= 64). Returns a tree freed with es_jval_free,
 * or NULL with an error naming `what` and the byte offset. */
es_jval *es_jval_parse(const char *text, size_t n, const char *what);

/* Largest JSON file es_jval_parse_file reads. */
#define ES_JSON_MAX_FILE ((size_t)1 << 20)

/* Reads and parses a whole file (at most ES_JSON_MAX_FILE bytes). NULL with an error on failure. */
es_jval *es_jval_parse_file(const char *path);

void es_jval_free(es_jval *v);

/* Member `key` of an object, or NULL (also when v is not an object). */
const es_jval *es_jval_get(const es_jval *v, const char *key);

/* Item i of an array, or NULL. */
const es_jval *es_jval_at(const es_jval *v, size_t i);

/* ---- weights ---- */
typedef struct {
    char *name;
    int rank;
    int shape[4];
    size_t count;   /* product of shape */
    float *data;    /* dequantised values, owned by the es_weights */
} es_tensor;

typedef struct {
    char *path;      /* the manifest, for error messages */
    es_tensor *tensors;
    size_t count;
} es_weights;

/* Loads DIR/NAME-weights_manifest.json and the shards it lists (plain file names in DIR).
 * Supported encodings: float32, and uint8/uint16 quantisation (value = q * scale + min).
 * Returns a set freed with es_weights_free, or NULL with one error line (missing file,
 * malformed manifest, unsupported dtype, shard shorter or longer than the tensors need). */
es_weights *es_weights_load(const char *dir, const char *name);

void es_weights_free(es_weights *w);

/* The tensor called `name` with exactly the given rank and shape, or NULL with an error
 * ("MANIFEST: NAME: missing" / "...: shape AxB, expected CxD"). The data stays owned by w. */
const float *es_weights_get(const es_weights *w, const char *name, int rank, const int *shape);

#endif
