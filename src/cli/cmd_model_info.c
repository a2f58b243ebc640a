/* emsync model-info: loads a generator checkpoint the way the composer does and prints its size,
 * so scripts can check a download before installing it. */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "core/json.h"
#include "music/emsync_generate.h"
#include "nn/transformer.h"

static void info_usage(FILE *out)
{
    fprintf(out,
            "usage: emsync model-info [--model M.pt] [--json]\n"
            "\n"
            "Loads a generator checkpoint (every tensor and shape checked) and prints its size.\n"
            "\n"
            "      --model PATH    checkpoint (default: the one the composer would use: $EMSYNC_MODEL,\n"
            "                      then emsync.pt in the data dir, then the bundled emsync-pop909.pt)\n"
            "      --json          one JSON object on stdout instead of text\n"
            "  -q, --quiet         accepted as by every command (only errors go to stderr)\n"
            "  -h, --help          this text\n"
            "\n"
            "example:\n"
            "  emsync model-info --model emsync.pt --json\n");
}

int cmd_model_info(int argc, char **argv)
{
    enum { O_MODEL = 3000, O_JSON };
    static const struct option long_options[] = {
        {"model", required_argument, NULL, O_MODEL},
        {"json", no_argument, NULL, O_JSON},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    const char *model = NULL;
    int json = 0, opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":qh", long_options, NULL)) != -1) {
        switch (opt) {
        case 'q': break; /* nothing goes to stderr but errors */
        case O_MODEL: if (cli_path_option("model-info", "--model", optarg, &model)) return ES_EXIT_USAGE; break;
        case O_JSON: json = 1; break;
        case 'h': info_usage(stdout); return ES_EXIT_OK;
        default: return cli_getopt_error("model-info", opt, argv);
        }
    }
    if (optind < argc) return cli_usage_error("model-info", "unexpected argument '%s'", argv[optind]);
    const char *source;
    const char *path = es_find_model_from(model, &source);
    if (!path) return cli_usage_error("model-info", "no model: pass --model or set EMSYNC_MODEL");
    es_nn_model *m = es_nn_model_load(path, ES_NN_F32, 1);
    if (!m) return cli_fail();
    const es_nn_hparams *h = es_nn_model_hparams(m);
    size_t params = es_nn_model_params(m);
    if (json) {
        es_json j;
        es_json_init(&j, stdout, 0);
        es_json_begin_object(&j);
        es_json_kv_string(&j, "path", path);
        es_json_kv_string(&j, "source", source);
        es_json_kv_int(&j, "layers", h->n_layers);
        es_json_kv_int(&j, "d_model", h->d_model);
        es_json_kv_int(&j, "heads", h->n_heads);
        es_json_kv_int(&j, "d_ff", h->d_ff);
        es_json_kv_int(&j, "context", h->context);
        es_json_kv_int(&j, "vocab", h->vocab);
        es_json_kv_int(&j, "parameters", (long long)params);
        es_json_end_object(&j);
        putchar('\n');
    }
    else
        printf("%s (%s): %d layers, d_model %d, %d heads, feed-forward %d, context %d, vocab %d, %zu parameters\n", path,
               source, h->n_layers, h->d_model, h->n_heads, h->d_ff, h->context, h->vocab, params);
    es_nn_model_free(m);
    return ES_EXIT_OK;
}
