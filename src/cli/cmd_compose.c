/* emsync compose: music for a duration, a mood and boundaries, without a video: a MIDI file
 * (and optionally WAV and a JSON report). The built-in composer unless a model is given or found. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "core/parse.h"
#include "emotion/ekman.h"
#include "emsync.h"

static void usage(FILE *out)
{
    fprintf(out,
        "usage: emsync compose --duration S -o OUT.mid [options]\n"
        "\n"
        "Composes S seconds of music for a mood, with a chord change on each boundary.\n"
        "\n"
        "      --duration S         seconds of music, (0, 14400] (required)\n"
        "  -o, --output F           MIDI file to write (required)\n"
        "  -y, --overwrite          replace existing output files (default: refuse)\n"
        "      --valence V          valence in [-1, 1] (with --arousal; default 0)\n"
        "      --arousal A          arousal in [-1, 1] (with --valence; default 0)\n"
        "      --emotion NAME       %s,\n"
        "                           through EMSYNC's table (default: none)\n"
        "      --cuts t1,t2,...     boundaries in seconds (default: none)\n"
        "      --seed N             random seed, 0..2147483647 (default 1); same seed, same MIDI\n"
        "      --composer C         auto (default: the first model found, else rules) | rules | emsync\n"
        "      --model F            EMSYNC checkpoint (default: $EMSYNC_MODEL, then emsync.pt in the\n"
        "                           data dir (the authors' model), then the bundled emsync-pop909.pt)\n"
        "      --exact              EMSYNC: recompute the sliding window each step like the reference\n"
        "      --reference-boundaries  EMSYNC: count a chord within 1 s of a cut as the reference does,\n"
        "                           instead of landing a chord on each cut (default: land)\n"
        "      --candidates K       EMSYNC: K candidates in one batch; keep the one hitting most cuts,\n"
        "                           then the one whose major-ness suits the valence (default: 1 for\n"
        "                           the authors' model, 3 for others)\n"
        "      --temperature T      EMSYNC: sampling temperature, [0.05, 5] (default: 1.35 for the\n"
        "                           authors' model as the reference, 1.0 for others)\n"
        "      --top-p P            EMSYNC: nucleus, [0.01, 1] (default: 0.6 for the authors' model, 1.0)\n"
        "      --guidance W         EMSYNC: classifier-free guidance on valence, [1, 10] (default 1: none)\n"
        "      --wav F              also render the music to WAV (default: none)\n"
        "      --soundfont F        GM soundfont for --wav (default: the distribution's)\n"
        "      --json F             report: tempo, chords, tokens, tokens/s, boundary hits (default: none)\n"
        "  -q, --quiet              no progress on stderr\n"
        "  -h, --help               this text\n"
        "\n"
        "example:\n"
        "  emsync compose --duration 30 --emotion joy --cuts 8,16 --seed 2 -o joy.mid\n",
        es_emotion_names());
}

static const struct option long_options[] = {
    {"duration", required_argument, NULL, OPT_DURATION},
    {"output", required_argument, NULL, 'o'},
    {"overwrite", no_argument, NULL, 'y'},
    {"wav", required_argument, NULL, OPT_WAV},
    {"soundfont", required_argument, NULL, OPT_SOUNDFONT},
    {"json", required_argument, NULL, OPT_JSON},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    CLI_MUSIC_LONG_OPTIONS,
    {NULL, 0, NULL, 0},
};

int cmd_compose(int argc, char **argv)
{
    cli_music_opts m;
    cli_music_opts_init(&m);
    const char *out = NULL, *wav = NULL, *json = NULL, *soundfont = NULL;
    double duration = NAN;
    int overwrite = 0, status = ES_EXIT_USAGE, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:yqh", long_options, NULL)) != -1) {
        int r = cli_music_option(&m, c, optarg, "compose");
        if (r < 0) goto end;
        if (r > 0) continue;
        switch (c) {
        case OPT_DURATION:
            if (es_parse_double(optarg, &duration) || !(duration > 0) || duration > EMSYNC_MAX_COMPOSE_SECONDS) {
                cli_usage_error("compose", "--duration must be seconds in (0, %.0f], not '%s'", EMSYNC_MAX_COMPOSE_SECONDS,
                                optarg);
                goto end;
            }
            break;
        case 'o': if (cli_path_option("compose", "-o", optarg, &out)) goto end; break;
        case 'y': overwrite = 1; break;
        case OPT_WAV: if (cli_path_option("compose", "--wav", optarg, &wav)) goto end; break;
        case OPT_SOUNDFONT: if (cli_path_option("compose", "--soundfont", optarg, &soundfont)) goto end; break;
        case OPT_JSON: if (cli_path_option("compose", "--json", optarg, &json)) goto end; break;
        case 'q': emsync_set_quiet(1); break;
        case 'h': usage(stdout); status = ES_EXIT_OK; goto end;
        default: cli_getopt_error("compose", c, argv); goto end;
        }
    }
    if (optind < argc) {
        cli_usage_error("compose", "unexpected argument '%s'", argv[optind]);
        goto end;
    }
    if (isnan(duration)) {
        cli_usage_error("compose", "--duration is required");
        goto end;
    }
    if (!out) {
        cli_usage_error("compose", "-o OUT.mid is required");
        goto end;
    }
    double valence = 0, arousal = 0;
    if (cli_music_mood(&m, "compose", &valence, &arousal) < 0) goto end;
    emsync_options opt;
    cli_fill_options(&opt, NULL, &m, "compose");
    opt.soundfont = soundfont;
    opt.overwrite = overwrite;
    status = ES_EXIT_OK;
    if (emsync_compose(duration, out, wav, json, &opt)) status = cli_fail();
end:
    cli_music_opts_free(&m);
    return status;
}
