/* libFuzzer harness for the MIDI reader: any accepted input must re-encode, the re-encoded file
 * must decode again (same pitch overlaps may merge, nothing appears), and the metrics must run on
 * it. Built and run by tests/fuzz/run.sh (make fuzz).
 * seeds: docs/examples/?*.mid
 */
#include <stdint.h>
#include <stdlib.h>

#include "eval/metrics.h"
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
        es_metrics m;
        double cut = s.duration / 2;
        es_metrics_compute(&s, &cut, 1, &m);
    }
    free(buf);
    es_score_free(&back);
    es_score_free(&s);
    return 0;
}
