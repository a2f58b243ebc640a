/* emsync model-logits: runs the generator network on one input case and writes every row's
 * logits as float32 little endian, in the layout of the reference's golden files (rows =
 * tokens + 2, 1011 columns). For checking a checkpoint and the kernels against PyTorch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/error.h"
#include "core/outfile.h"
#include "core/parse.h"
#include "music/emsync_generate.h"
#include "nn/case.h"
#include "nn/transformer.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: emsync model-logits [--model M.pt] --input CASE.in.txt --out LOGITS.f32 [options]\n"
            "  --model PATH    generator checkpoint (default: $EMSYNC_MODEL, then\n"
            "                  $XDG_DATA_HOME/emsync/emsync.pt or ~/.local/share/emsync/emsync.pt)\n"
            "  --input PATH    case file: comment, token ids, 'valence arousal' (nan = missing), offsets\n"
            "  --out PATH      float32 LE logits, (tokens + 2) x 1011\n"
            "  --f16           use 16-bit weights (faster, ~1e-3 logit error) instead of float32\n"
            "  --threads N     threads (default: all CPUs)\n");
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w <= 0) return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int cmd_model_logits(int argc, char **argv)
{
    const char *model = NULL, *input = NULL, *outp = NULL;
    int f16 = 0, rc = ES_EXIT_FAILURE;
    long threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return ES_EXIT_OK; }
        if (!strcmp(a, "--f16")) { f16 = 1; continue; }
        if (i + 1 >= argc || strncmp(a, "--", 2)) {
            fprintf(stderr, "emsync model-logits: unexpected '%s'\n", a);
            usage(stderr);
            return ES_EXIT_USAGE;
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "--input")) input = v;
        else if (!strcmp(a, "--out")) outp = v;
        else if (!strcmp(a, "--threads")) {
            if (es_parse_long(v, 1, 64, &threads)) { fprintf(stderr, "emsync model-logits: --threads wants 1..64\n"); return ES_EXIT_USAGE; }
        } else {
            fprintf(stderr, "emsync model-logits: unknown option '%s'\n", a);
            usage(stderr);
            return ES_EXIT_USAGE;
        }
    }
    if (!input || !outp) { usage(stderr); return ES_EXIT_USAGE; }
    const char *path = es_find_model(model);
    if (!path) {
        fprintf(stderr, "emsync model-logits: no model: pass --model or set EMSYNC_MODEL\n");
        return ES_EXIT_USAGE;
    }
    es_nn_case c = {0};
    es_nn_model *m = NULL;
    es_nn_state *st = NULL;
    float *logits = NULL;
    es_outfile of = {.fd = -1};
    if (es_nn_case_load(input, &c)) goto end;
    if (!(m = es_nn_model_load(path, f16 ? ES_NN_F16 : ES_NN_F32, (int)threads))) goto end;
    const es_nn_hparams *hp = es_nn_model_hparams(m);
    if (c.n + 2 > hp->context) {
        es_fail("%s: %d tokens do not fit the model's context of %d rows", input, c.n, hp->context);
        goto end;
    }
    if (!(logits = es_malloc((size_t)(c.n + 2) * hp->vocab * sizeof *logits))) goto end;
    if (!(st = es_nn_state_new(m, 1))) goto end;
    if (es_nn_begin(st, 0, c.valence, c.arousal, c.deltas[0], logits) ||
        es_nn_feed(st, 0, c.tokens, c.deltas, c.n, NULL, logits + 2 * (size_t)hp->vocab))
        goto end;
    if (es_same_file(outp, input) || es_same_file(outp, path)) { es_fail("%s: refusing to overwrite an input", outp); goto end; }
    if (es_outfile_open(&of, outp)) goto end;
    /* the format is little endian; convert on big-endian hosts */
    size_t count = (size_t)(c.n + 2) * hp->vocab;
    if (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
        for (size_t i = 0; i < count; i++) {
            unsigned char *b = (unsigned char *)&logits[i], t0 = b[0], t1 = b[1];
            b[0] = b[3]; b[1] = b[2]; b[2] = t1; b[3] = t0;
        }
    if (write_all(of.fd, logits, count * sizeof *logits)) { es_fail("%s: write failed", outp); goto end; }
    if (es_outfile_commit(&of)) goto end;
    rc = ES_EXIT_OK;
end:
    if (rc != ES_EXIT_OK) fprintf(stderr, "emsync model-logits: %s\n", es_error());
    es_outfile_abort(&of);
    es_nn_state_free(st);
    free(logits);
    es_nn_model_free(m);
    es_nn_case_free(&c);
    return rc;
}
