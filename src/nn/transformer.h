/* The EMSYNC generator network (SPEC §2: MusicTransformerContinuousToken) on the CPU.
 * es_nn_model holds the weights read from a torch checkpoint (hyperparameters come from the
 * tensor shapes); es_nn_state holds KV caches for one or more sequences and runs the fast
 * kernels (packed weights, AVX2/FMA when compiled for it, rows split over a thread pool).
 * es_nn_forward_naive is the plain reference twin the tests hold the fast path equal to. */
#ifndef ES_TRANSFORMER_H
#define ES_TRANSFORMER_H

#include <stddef.h>

typedef struct {
    int n_layers, d_model, n_heads, d_head, d_ff, context, vocab;
} es_nn_hparams;

typedef enum {
    ES_NN_F32 = 0,   /* matrix weights kept as float32 */
    ES_NN_F16 = 1    /* matrix weights kept as float16 (half the memory traffic), fp32 maths */
} es_nn_format;

typedef struct es_nn_model es_nn_model;
typedef struct es_nn_state es_nn_state;

/* Loads a state dict written by torch.save (float32, float16 or bfloat16 storages) and checks
 * that it has exactly the tensors of SPEC §2 with consistent shapes. n_threads <= 0 uses every
 * online CPU. Returns NULL with one error line on failure. Free with es_nn_model_free. */
es_nn_model *es_nn_model_load(const char *path, es_nn_format format, int n_threads);

void es_nn_model_free(es_nn_model *m);

const es_nn_hparams *es_nn_model_hparams(const es_nn_model *m);
/* Runs fn(arg, part, parts) for every part on the model's thread pool (as its kernels do) and
 * returns when all are done; parts is 1 without a pool. */
void es_nn_model_run(const es_nn_model *m, void (*fn)(void *arg, int part, int parts), void *arg);
/* How many parts es_nn_model_run splits into. */
int es_nn_model_parts(const es_nn_model *m);

/* Number of parameters in the checkpoint (37,178,355 for the released model). */
size_t es_nn_model_params(const es_nn_model *m);

/* Bytes of matrix weights streamed per decoded token (the memory-bound part). */
size_t es_nn_model_stream_bytes(const es_nn_model *m);

/* Reference forward pass, plain loops, no cache: logits (n + 2 rows x vocab) for tokens[0..n-1]
 * with their boundary offsets deltas[0..n-1] and conditions (valence, arousal; NaN = null).
 * n + 2 must not exceed the context. Returns 0, or -1 (es_fail set). */
int es_nn_forward_naive(const es_nn_model *m, const int *tokens, const float *deltas, int n,
                        double valence, double arousal, float *logits);

/* A KV cache for n_seq sequences of up to `context` rows each. Returns NULL on failure. */
es_nn_state *es_nn_state_new(const es_nn_model *m, int n_seq);

void es_nn_state_free(es_nn_state *s);

/* Rows already in sequence seq's cache (condition rows included). */
int es_nn_state_len(const es_nn_state *s, int seq);

/* Makes sequence `to` a copy of sequence `from` (its cached rows), as if it had been fed the
 * same rows: cheaper than feeding them again. Returns 0 or -1 (es_fail set). */
int es_nn_copy(es_nn_state *s, int from, int to);

/* Empties sequence seq and feeds its two condition rows. delta0 is the Δ of the first token
 * that will follow (the reference pads the offsets with it). logits (2 x vocab, may be NULL)
 * receives the condition rows' outputs. Returns 0 or -1. */
int es_nn_begin(es_nn_state *s, int seq, double valence, double arousal, float delta0, float *logits);

/* Appends n tokens to sequence seq. When logits_all is given it receives one row (vocab floats)
 * per token; when logits_last is given it receives the last token's row. Returns 0, or -1 when
 * the context would overflow. */
int es_nn_feed(es_nn_state *s, int seq, const int *tokens, const float *deltas, int n,
               float *logits_last, float *logits_all);

/* Appends one token to each of `count` distinct sequences in one pass over the weights
 * (the candidates of a batch decode). logits: count x vocab. Returns 0 or -1. */
int es_nn_step(es_nn_state *s, const int *seqs, const int *tokens, const float *deltas, int count,
               float *logits);

#endif
