/* libFuzzer harness for the checkpoint reader (zip + restricted pickle). Built with
 * FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION so CRC mismatches do not hide the parser from the
 * mutator. Every accepted tensor must lie inside the input and convert without faults. */
// seeds: tests/data/emsync/*.pt
#include <stdint.h>
#include <stdlib.h>

#include "nn/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    es_checkpoint *c = es_checkpoint_open_mem(data, size, "fuzz");
    if (!c) return 0;
    for (size_t i = 0; i < es_checkpoint_count(c); i++) {
        const es_tensor *t = es_checkpoint_tensor(c, i);
        size_t bytes = t->numel * (t->dtype == ES_DT_F32 ? 4 : 2);
        if (t->data < data || t->data > data + size || bytes > (size_t)(data + size - t->data)) abort();
        if (t->numel <= 4096) {
            float tmp[4096];
            es_tensor_to_f32(t, tmp);
        }
    }
    es_checkpoint_free(c);
    return 0;
}
