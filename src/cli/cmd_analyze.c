/* emsync analyze: what emsync sees in a video (cuts, per-scene features, faces, valence and
 * arousal with confidence) as JSON, and optionally as an SVG timeline. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "emsync.h"

static void usage(FILE *out)
{
    fprintf(out,
        "usage: emsync analyze IN [--json F] [--svg F] [options]\n"
        "\n"
        "Reports the scene cuts, per-scene features (colour, motion, cut rate, loudness, onsets,\n"
        "faces) and the valence/arousal estimate with its confidence. Without --json the report\n"
        "goes to stdout.\n"
        "\n"
        "      --json F             write the report to F, '-' for stdout (default: stdout)\n"
        "      --svg F              timeline: a thumbnail per scene, mood curves, cuts (default: none)\n"
        "  -y, --overwrite          replace existing output files (default: refuse)\n"
        CLI_ANALYSIS_USAGE
        "  -q, --quiet              no progress on stderr\n"
        "  -h, --help               this text\n"
        "\n"
        "example:\n"
        "  emsync analyze film.mp4 --svg film.svg > film.json\n");
}

static const struct option long_options[] = {
    {"json", required_argument, NULL, OPT_JSON},
    {"svg", required_argument, NULL, OPT_SVG},
    {"cuts", required_argument, NULL, OPT_CUTS},
    {"overwrite", no_argument, NULL, 'y'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    CLI_ANALYSIS_LONG_OPTIONS,
    {NULL, 0, NULL, 0},
};

int cmd_analyze(int argc, char **argv)
{
    cli_analysis_opts a;
    cli_music_opts m; /* only --cuts */
    cli_analysis_opts_init(&a);
    cli_music_opts_init(&m);
    const char *json = NULL, *svg = NULL;
    int overwrite = 0, status = ES_EXIT_USAGE, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":yqh", long_options, NULL)) != -1) {
        int r = cli_analysis_option(&a, c, optarg, "analyze");
        if (r == 0 && c == OPT_CUTS) r = cli_music_option(&m, c, optarg, "analyze");
        if (r < 0) goto end;
        if (r > 0) continue;
        switch (c) {
        case OPT_JSON: /* '-' is stdout, as for eval --json */
            if (strcmp(optarg, "-") && cli_path_option("analyze", "--json", optarg, &json)) goto end;
            if (!strcmp(optarg, "-")) json = NULL;
            break;
        case OPT_SVG: if (cli_path_option("analyze", "--svg", optarg, &svg)) goto end; break;
        case 'y': overwrite = 1; break;
        case 'q': emsync_set_quiet(1); break;
        case 'h': usage(stdout); status = ES_EXIT_OK; goto end;
        default: cli_getopt_error("analyze", c, argv); goto end;
        }
    }
    if (optind >= argc) {
        cli_usage_error("analyze", "no input video given");
        goto end;
    }
    if (optind + 1 < argc) {
        cli_usage_error("analyze", "one input video at a time (got '%s' too)", argv[optind + 1]);
        goto end;
    }
    emsync_options opt;
    cli_fill_options(&opt, &a, &m, "analyze");
    opt.overwrite = overwrite;
    status = ES_EXIT_OK;
    if (emsync_analyze(argv[optind], json, svg, &opt)) status = cli_fail();
end:
    cli_music_opts_free(&m);
    return status;
}
