/* Reader for PyTorch `torch.save(state_dict)` files (SPEC §5): a stored ZIP holding a protocol-2
 * pickle and one raw storage file per tensor. The pickle is interpreted by a small machine that
 * knows only the opcodes and globals a state dict needs, so nothing in the file is ever executed.
 * Every offset and size read from the file is checked; a bad file gives one error line. */
#ifndef ES_CHECKPOINT_H
#define ES_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

typedef enum { ES_DT_F32 = 0, ES_DT_F16, ES_DT_BF16 } es_dtype;

#define ES_TENSOR_MAX_DIMS 4

typedef struct {
    char *name;                         /* state-dict key, e.g. "fc.weight" */
    es_dtype dtype;                     /* storage type in the file */
    int ndim;                           /* 0..ES_TENSOR_MAX_DIMS */
    int64_t shape[ES_TENSOR_MAX_DIMS];
    size_t numel;                       /* product of shape */
    const uint8_t *data;                /* first element, little endian, contiguous; points into
                                           the checkpoint's buffer (not necessarily aligned) */
} es_tensor;

typedef struct es_checkpoint es_checkpoint;

/* Most tensors and zip entries a checkpoint may hold: the released model has about 190
 * tensors; the caps keep the name lookups (linear scans) cheap on hostile files. */
#define ES_CHECKPOINT_MAX_TENSORS 4096
#define ES_CHECKPOINT_MAX_ENTRIES (2 * ES_CHECKPOINT_MAX_TENSORS + 64)

/* Maps and parses a checkpoint file. Returns NULL with one es_fail line naming the path on any
 * problem. Free with es_checkpoint_free. */
es_checkpoint *es_checkpoint_open(const char *path);

/* Parses a checkpoint held in memory (borrowed: buf must outlive the result). `label` names the
 * input in error messages. Used by tests and the fuzzer. */
es_checkpoint *es_checkpoint_open_mem(const void *buf, size_t len, const char *label);

/* Number of tensors and the i-th one (in file order). */
size_t es_checkpoint_count(const es_checkpoint *c);
const es_tensor *es_checkpoint_tensor(const es_checkpoint *c, size_t i);

/* The tensor named `name`, or NULL. */
const es_tensor *es_checkpoint_find(const es_checkpoint *c, const char *name);

/* Converts the tensor's elements to float32 into dst (t->numel floats). */
void es_tensor_to_f32(const es_tensor *t, float *dst);

/* Unmaps/frees everything; tensor pointers become invalid. Safe on NULL. */
void es_checkpoint_free(es_checkpoint *c);

/* Scalar conversions used by the loader and the fp16 kernels. */
float es_half_to_float(uint16_t h);
uint16_t es_float_to_half(float f);
/* h[i] = es_float_to_half(x[i]) for n values, eight at a time where the CPU converts them
 * (F16C rounds to nearest even as es_float_to_half does; a NaN stays a NaN of the same sign,
 * its payload not kept alike). */
void es_floats_to_half(const float *x, uint16_t *h, size_t n);
float es_bf16_to_float(uint16_t h);

#endif
