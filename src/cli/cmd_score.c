/* emsync score: a video in, the same video with a synchronized soundtrack out.
 * decode (one pass) -> cuts -> emotion per scene -> compose -> MIDI -> render -> mux, then the
 * side outputs. Nothing is written until the music exists; every file goes through a temporary
 * file, and a failure removes what this run already wrote. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "core/parse.h"
#include "emotion/ekman.h"
#include "emsync.h"
#include "pipeline/plan.h"

static void usage(FILE *out)
{
    fprintf(out,
        "usage: emsync score IN [-o OUT] [options]\n"
        "\n"
        "Gives the video IN a soundtrack whose harmony changes land on its scene cuts and whose\n"
        "mood follows its emotion, and writes the result to OUT. IN is never modified.\n"
        "\n"
        "output:\n"
        "  -o, --output OUT         result video (default: <stem>.emsync.<ext> in the current\n"
        "                           directory; mp4/m4v/mov keep their container, mkv/webm too,\n"
        "                           anything else becomes .mkv)\n"
        "  -y, --overwrite          replace existing output files (default: refuse)\n"
        "      --original-audio M   off (replace, default) | mix (original under the music) |\n"
        "                           track (original kept as a second audio stream)\n"
        "      --midi F             MIDI file (default: OUT with the extension .mid)\n"
        "      --wav F              also write the music as 16-bit 48 kHz WAV (default: none)\n"
        "      --json F             analysis report: cuts, moods, tempo, chords, timings (default: none)\n"
        "      --svg F              timeline picture: thumbnails, mood curves, cuts, chords (default: none)\n"
        "      --soundfont F        GM soundfont (default: $EMSYNC_SOUNDFONT, else the\n"
        "                           distribution's, e.g. /usr/share/sounds/sf2/FluidR3_GM.sf2)\n"
        "\n"
        "analysis:\n"
        CLI_ANALYSIS_USAGE
        "\n"
        "plan (boundaries and moods decided beforehand):\n"
        "      --plan F             take boundaries, scene moods and settings from the JSON file F\n"
        "                           (default: none). Every field is optional, and an option given\n"
        "                           on the command line wins over the plan's field:\n"
        "                           \"boundaries\": [s, ...] as --cuts (else \"cuts\".\"boundaries\");\n"
        "                           \"scenes\": [{\"start\": s, \"valence\": v, \"arousal\": a}, ...]\n"
        "                           (else \"emotion\".\"scenes\"): used instead of the estimate,\n"
        "                           each from its start to the next scene's; a scene between two\n"
        "                           boundaries takes the mood in force at its start;\n"
        "                           \"composer\", \"seed\", \"original_audio\", \"soundfont\" as the\n"
        "                           options. An 'emsync analyze --json' report is a plan as it is;\n"
        "                           other keys are ignored. A bad plan is refused before any work.\n"
        "\n"
        "mood (default: estimated from the video, scene by scene):\n"
        "      --valence V          valence in [-1, 1] for the whole video (with --arousal;\n"
        "                           default: estimated)\n"
        "      --arousal A          arousal in [-1, 1] for the whole video (with --valence;\n"
        "                           default: estimated)\n"
        "      --emotion NAME       %s,\n"
        "                           through EMSYNC's table (default: none)\n"
        "\n"
        "music:\n"
        "      --composer C         auto (EMSYNC model if one is found, else rules; default) |\n"
        "                           rules (built-in) | emsync (needs a model)\n"
        "      --model F            EMSYNC checkpoint (.pt) (default: $EMSYNC_MODEL, then emsync.pt in\n"
        "                           the data dir (the authors' model), then the bundled emsync-pop909.pt)\n"
        "      --seed N             random seed, 0..2147483647 (default 1); same seed, same MIDI\n"
        "      --exact              EMSYNC: recompute the sliding window each step like the reference\n"
        "      --reference-boundaries  EMSYNC: count a chord within 1 s of a cut as the reference does,\n"
        "                           instead of landing a chord on each cut (default: land)\n"
        "      --candidates K       EMSYNC: generate K candidates, keep the best at the cuts and for the\n"
        "                           valence (default: 1 for the authors' model, 3 for others)\n"
        "      --temperature T      EMSYNC: sampling temperature, [0.05, 5] (default: 1.35 for the\n"
        "                           authors' model as the reference, 1.0 for others)\n"
        "      --top-p P            EMSYNC: nucleus, [0.01, 1] (default: 0.6 for the authors' model, 1.0)\n"
        "      --guidance W         EMSYNC: classifier-free guidance on valence, [1, 10] (default 1: none)\n"
        "\n"
        "  -q, --quiet              no progress on stderr\n"
        "  -h, --help               this text\n"
        "\n"
        "example:\n"
        "  emsync score holiday.mp4 --json holiday.json     # writes holiday.emsync.mp4 + .mid\n"
        "  emsync score talk.mkv -o talk-music.mkv --emotion joy --original-audio mix\n",
        es_emotion_names());
}

static const struct option long_options[] = {
    {"output", required_argument, NULL, 'o'},
    {"overwrite", no_argument, NULL, 'y'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"original-audio", required_argument, NULL, OPT_ORIGINAL_AUDIO},
    {"midi", required_argument, NULL, OPT_MIDI},
    {"wav", required_argument, NULL, OPT_WAV},
    {"json", required_argument, NULL, OPT_JSON},
    {"svg", required_argument, NULL, OPT_SVG},
    {"soundfont", required_argument, NULL, OPT_SOUNDFONT},
    {"plan", required_argument, NULL, OPT_PLAN},
    CLI_MUSIC_LONG_OPTIONS,
    CLI_ANALYSIS_LONG_OPTIONS,
    {NULL, 0, NULL, 0},
};

typedef struct {
    const char *input;
    const char *output, *midi, *wav, *json, *svg, *soundfont, *plan_path;
    int overwrite;
    emsync_original_audio original_audio;
    int original_audio_given;
    cli_analysis_opts analysis;
    cli_music_opts music;
    es_plan plan;             /* read from plan_path, checked */
} score_options;

static void score_options_free(score_options *o)
{
    cli_music_opts_free(&o->music);
    es_plan_free(&o->plan);
}

static int parse_options(int argc, char **argv, score_options *o)
{
    memset(o, 0, sizeof *o);
    cli_analysis_opts_init(&o->analysis);
    cli_music_opts_init(&o->music);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":o:yqh", long_options, NULL)) != -1) {
        int r = cli_music_option(&o->music, c, optarg, "score");
        if (r == 0) r = cli_analysis_option(&o->analysis, c, optarg, "score");
        if (r < 0) return ES_EXIT_USAGE;
        if (r > 0) continue;
        switch (c) {
        case 'o': if (cli_path_option("score", "-o", optarg, &o->output)) return ES_EXIT_USAGE; break;
        case 'y': o->overwrite = 1; break;
        case 'q': emsync_set_quiet(1); break;
        case 'h': usage(stdout); return -1;
        case OPT_ORIGINAL_AUDIO:
            if (!strcmp(optarg, "off")) o->original_audio = EMSYNC_ORIGINAL_AUDIO_OFF;
            else if (!strcmp(optarg, "mix")) o->original_audio = EMSYNC_ORIGINAL_AUDIO_MIX;
            else if (!strcmp(optarg, "track")) o->original_audio = EMSYNC_ORIGINAL_AUDIO_TRACK;
            else return cli_usage_error("score", "--original-audio must be off, mix or track, not '%s'", optarg);
            o->original_audio_given = 1;
            break;
        case OPT_MIDI: if (cli_path_option("score", "--midi", optarg, &o->midi)) return ES_EXIT_USAGE; break;
        case OPT_WAV: if (cli_path_option("score", "--wav", optarg, &o->wav)) return ES_EXIT_USAGE; break;
        case OPT_JSON: if (cli_path_option("score", "--json", optarg, &o->json)) return ES_EXIT_USAGE; break;
        case OPT_SVG: if (cli_path_option("score", "--svg", optarg, &o->svg)) return ES_EXIT_USAGE; break;
        case OPT_SOUNDFONT:
            if (cli_path_option("score", "--soundfont", optarg, &o->soundfont)) return ES_EXIT_USAGE;
            break;
        case OPT_PLAN: if (cli_path_option("score", "--plan", optarg, &o->plan_path)) return ES_EXIT_USAGE; break;
        default: return cli_getopt_error("score", c, argv);
        }
    }
    if (optind >= argc) return cli_usage_error("score", "no input video given");
    if (optind + 1 < argc) return cli_usage_error("score", "one input video at a time (got '%s' too)", argv[optind + 1]);
    o->input = argv[optind];
    double v, a;
    if (cli_music_mood(&o->music, "score", &v, &a) < 0) return ES_EXIT_USAGE;
    /* a bad plan is a usage error: refused before any work, and batch checks rows with it */
    if (o->plan_path && es_plan_read(o->plan_path, &o->plan)) return cli_usage_error("score", "%s", emsync_error());
    return 0;
}

/* The plan's fields where the command line said nothing. A fixed mood (--valence, --emotion)
 * wins over the plan's scenes in the library itself. */
static void apply_plan(emsync_options *opt, const score_options *o)
{
    const es_plan *p = &o->plan;
    if (p->has_bounds && !o->music.cuts_given) {
        opt->cuts = p->bounds;
        opt->n_cuts = p->n_bounds;
        opt->cuts_given = 1;
    }
    opt->scene_moods = p->moods;
    opt->n_scene_moods = p->n_moods;
    if (p->has_composer && !o->music.composer_given) opt->composer = p->composer;
    if (p->has_seed && !o->music.seed_given) opt->seed = p->seed;
    if (p->has_original_audio && !o->original_audio_given) opt->original_audio = p->original_audio;
    if (p->soundfont && !o->soundfont) opt->soundfont = p->soundfont;
}

int cmd_score(int argc, char **argv)
{
    score_options o;
    int status = parse_options(argc, argv, &o);
    if (status) {
        score_options_free(&o);
        return status < 0 ? ES_EXIT_OK : status;
    }
    emsync_options opt;
    cli_fill_options(&opt, &o.analysis, &o.music, "score");
    opt.soundfont = o.soundfont;
    opt.overwrite = o.overwrite;
    opt.original_audio = o.original_audio;
    apply_plan(&opt, &o);
    status = ES_EXIT_OK;
    if (emsync_score(o.input, o.output, o.midi, o.wav, o.json, o.svg, &opt, NULL)) status = cli_fail();
    score_options_free(&o);
    return status;
}

int cmd_score_check(int argc, char **argv)
{
    score_options o;
    int status = parse_options(argc, argv, &o);
    score_options_free(&o);
    return status ? ES_EXIT_USAGE : 0;
}

int cmd_score_option_kind(const char *name)
{
    for (const struct option *opt = long_options; opt->name; opt++)
        if (!strcmp(opt->name, name)) return opt->has_arg == no_argument ? 0 : 1;
    return -1;
}
