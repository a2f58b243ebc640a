/* libFuzzer harness for the tokenizer and its annotation readers: an accepted MIDI file is
 * tokenized with a track map and the bass split, and the tokens must decode again with every
 * offset in [0, 8]; the same bytes are read as a chord file and a beat file (whatever they say,
 * one error or a result, never a crash). Built and run by tests/fuzz/run.sh (make fuzz).
 * seeds: docs/examples/?*.mid
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "music/emsync_vocab.h"
#include "music/midi.h"
#include "music/tokenize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const es_midi_track_map map[] = {{"MELODY", ES_STRINGS}, {"piano", ES_PIANO}};
    es_score s = {0};
    if (es_midi_read_mapped_mem(data, size, "fuzz", map, 2, &s) == 0) {
        double chords[3] = {0.0, 1.0, s.duration / 2};
        es_tokenize_options o = {chords, 3, chords, 2, 0.06, 52};
        es_token_seq q;
        if (es_score_to_tokens(&s, &o, &q) == 0) {
            for (size_t i = 0; i < q.n; i++)
                if (!(q.deltas[i] >= 0 && q.deltas[i] <= 8)) abort();
            es_score d = {0};
            if (es_tokens_to_score(q.tokens, q.n, &d) != 0) abort();
            es_score_free(&d);
            es_token_seq_free(&q);
        }
        es_score_free(&s);
    }
    char path[] = "/tmp/fuzz-annotation-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 0;
    if (write(fd, data, size) == (ssize_t)size) {
        double *beats = NULL, *down = NULL, *on = NULL;
        size_t nb = 0, nd = 0, no = 0;
        es_read_beat_file(path, &beats, &nb, &down, &nd);
        es_read_chord_file(path, beats, nb, 2, &on, &no);
        free(on);
        free(beats);
        free(down);
    }
    close(fd);
    unlink(path);
    return 0;
}
