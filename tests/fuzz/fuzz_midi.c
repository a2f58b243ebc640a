/* libFuzzer harness for the MIDI reader: any accepted input must re-encode, and the re-encoded
 * file must decode to the same number of notes. */
#include <stdint.h>
#include <stdlib.h>

#include "music/midi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    es_score s = {0}, back = {0};
    uint8_t *buf = NULL;
    size_t len = 0;
    if (es_midi_read_mem(data, size, "fuzz", &s) == 0) {
        if (es_midi_write_mem(&s, &buf, &len) != 0) abort();
        if (es_midi_read_mem(buf, len, "fuzz-rewrite", &back) != 0) abort();
        if (back.n_notes > s.n_notes) abort(); /* only same-pitch overlaps may merge */
    }
    free(buf);
    es_score_free(&back);
    es_score_free(&s);
    return 0;
}
