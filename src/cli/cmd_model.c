/* emsync model-logits: runs the generator network on one input case and writes every row's
 * logits as float32 little endian, in the layout of the reference's golden files (rows =
 * tokens + 2, 1011 columns). For checking a checkpoint and the kernels against PyTorch. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/options.h"
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
            "\n"
            "      --model PATH    generator checkpoint (default: $EMSYNC_MODEL, then emsync.pt in the\n"
            "                      data dir, then the bundled emsync-pop909.pt)\n"
            "      --input PATH    case file: comment, token ids, 'valence arousal' (nan = missing),\n"
            "                      offsets (required)\n"
            "      --out PATH      float32 LE logits, (tokens + 2) x 1011 (required)\n"
            "      --f16           use 16-bit weights (faster, ~1e-3 logit error) instead of float32\n"
            "                      (default: float32)\n"
            "      --threads N     threads, 1..64 (default: all CPUs)\n"
            "  -y, --overwrite     replace an existing --out file (default: refuse)\n"
            "  -q, --quiet         accepted as by every command (only errors go to stderr)\n"
            "  -h, --help          this text\n"
            "\n"
            "example:\n"
            "  emsync model-logits --model emsync.pt --input case.in.txt --out case.f32 --threads 4\n");
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
    enum { O_MODEL = 3000, O_INPUT, O_OUT, O_F16, O_THREADS };
    static const struct option long_options[] = {
        {"model", required_argument, NULL, O_MODEL},
        {"input", required_argument, NULL, O_INPUT},
        {"out", required_argument, NULL, O_OUT},
        {"f16", no_argument, NULL, O_F16},
        {"threads", required_argument, NULL, O_THREADS},
        {"overwrite", no_argument, NULL, 'y'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    const char *model = NULL, *input = NULL, *outp = NULL;
    int f16 = 0, overwrite = 0, rc = ES_EXIT_FAILURE, opt;
    long threads = 0;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":yqh", long_options, NULL)) != -1) {
        switch (opt) {
        case O_MODEL: if (cli_path_option("model-logits", "--model", optarg, &model)) return ES_EXIT_USAGE; break;
        case O_INPUT: if (cli_path_option("model-logits", "--input", optarg, &input)) return ES_EXIT_USAGE; break;
        case O_OUT: if (cli_path_option("model-logits", "--out", optarg, &outp)) return ES_EXIT_USAGE; break;
        case O_F16: f16 = 1; break;
        case O_THREADS:
            if (es_parse_long(optarg, 1, 64, &threads))
                return cli_usage_error("model-logits", "--threads must be an integer in [1, 64], not '%s'", optarg);
            break;
        case 'y': overwrite = 1; break;
        case 'q': break; /* nothing goes to stderr but errors */
        case 'h': usage(stdout); return ES_EXIT_OK;
        default: return cli_getopt_error("model-logits", opt, argv);
        }
    }
    if (optind < argc) return cli_usage_error("model-logits", "unexpected argument '%s'", argv[optind]);
    if (!input || !outp) return cli_usage_error("model-logits", "--input and --out are required");
    const char *path = es_find_model(model);
    if (!path) return cli_usage_error("model-logits", "no model: pass --model or set EMSYNC_MODEL");
    es_nn_case c = {0};
    es_nn_model *m = NULL;
    es_nn_state *st = NULL;
    float *logits = NULL;
    es_outfile of = {.fd = -1};
    /* the output is checked before the work: not an input, not an existing file without -y */
    if (es_check_destination(outp, input, overwrite)) goto end;
    if (es_same_file(outp, path)) {
        es_fail("%s: output would overwrite the model", outp);
        goto end;
    }
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
    if (rc != ES_EXIT_OK) cli_fail();
    es_outfile_abort(&of);
    es_nn_state_free(st);
    free(logits);
    es_nn_model_free(m);
    es_nn_case_free(&c);
    return rc;
}
