/* The text form of one generator input, as in the golden data (SPEC §6): a comment line, the
 * token ids, "valence arousal" (nan = missing) and one boundary offset Δ per token. Used by
 * `emsync model-logits` and the tests. */
#ifndef ES_NN_CASE_H
#define ES_NN_CASE_H

typedef struct {
    int *tokens;       /* n ids */
    float *deltas;     /* n offsets, seconds */
    int n;
    double valence, arousal; /* NaN = missing */
} es_nn_case;

/* Reads a case file. Returns 0, or -1 with one error line naming the path and line. Free with
 * es_nn_case_free. */
int es_nn_case_load(const char *path, es_nn_case *c);

void es_nn_case_free(es_nn_case *c);

#endif
