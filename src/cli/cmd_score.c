/* emsync score: a video in, the same video with a synchronized soundtrack out.
 * decode (one pass) -> cuts -> emotion per scene -> compose -> MIDI -> render -> mux, then the
 * side outputs. Nothing is written until the music exists; every file goes through a temporary
 * file, and a failure removes what this run already wrote. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audio/loudness.h"
#include "audio/render.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "pipeline/pipeline.h"
#include "pipeline/timeline.h"
#include "core/error.h"
#include "core/outfile.h"
#include "core/parse.h"
#include "core/progress.h"
#include "emotion/affect.h"
#include "media/decode.h"
#include "media/mux.h"
#include "music/midi.h"
#include "scene/cuts.h"

#define TARGET_LUFS (-16.0)
#define FADE_SECONDS 3.0

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
        "mood (default: estimated from the video, scene by scene):\n"
        "      --valence V          valence in [-1, 1] for the whole video (with --arousal)\n"
        "      --arousal A          arousal in [-1, 1] for the whole video (with --valence)\n"
        "      --emotion NAME       %s, through EMSYNC's table\n"
        "\n"
        "music:\n"
        "      --composer C         auto (EMSYNC model if one is found, else rules; default) |\n"
        "                           rules (built-in) | emsync (needs a model)\n"
        "      --model F            EMSYNC checkpoint (.pt) (default: $EMSYNC_MODEL, then\n"
        "                           ~/.local/share/emsync/emsync.pt)\n"
        "      --seed N             random seed, 0..2147483647 (default 1); same seed, same MIDI\n"
        "      --exact              EMSYNC: recompute the sliding window each step like the reference\n"
        "      --candidates K       EMSYNC: generate K candidates, keep the best at the cuts (default 1)\n"
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
    CLI_MUSIC_LONG_OPTIONS,
    CLI_ANALYSIS_LONG_OPTIONS,
    {NULL, 0, NULL, 0},
};

typedef struct {
    const char *input;
    const char *output, *midi, *wav, *json, *svg, *soundfont;
    int overwrite;
    es_original_audio original_audio;
    cli_analysis_opts analysis;
    cli_music_opts music;
} score_options;

static int parse_options(int argc, char **argv, score_options *o)
{
    memset(o, 0, sizeof *o);
    cli_analysis_opts_init(&o->analysis);
    cli_music_opts_init(&o->music);
    o->music.seed = 1;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":o:yqh", long_options, NULL)) != -1) {
        int r = cli_music_option(&o->music, c, optarg, "score");
        if (r == 0) r = cli_analysis_option(&o->analysis, c, optarg, "score");
        if (r < 0) return ES_EXIT_USAGE;
        if (r > 0) continue;
        switch (c) {
        case 'o': o->output = optarg; break;
        case 'y': o->overwrite = 1; break;
        case 'q': es_progress_quiet(1); break;
        case 'h': usage(stdout); return -1;
        case OPT_ORIGINAL_AUDIO:
            if (!strcmp(optarg, "off")) o->original_audio = ES_ORIGINAL_AUDIO_OFF;
            else if (!strcmp(optarg, "mix")) o->original_audio = ES_ORIGINAL_AUDIO_MIX;
            else if (!strcmp(optarg, "track")) o->original_audio = ES_ORIGINAL_AUDIO_TRACK;
            else return cli_usage_error("score", "--original-audio must be off, mix or track, not '%s'", optarg);
            break;
        case OPT_MIDI: o->midi = optarg; break;
        case OPT_WAV: o->wav = optarg; break;
        case OPT_JSON: o->json = optarg; break;
        case OPT_SVG: o->svg = optarg; break;
        case OPT_SOUNDFONT: o->soundfont = optarg; break;
        case ':': return cli_usage_error("score", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("score", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc) return cli_usage_error("score", "no input video given");
    if (optind + 1 < argc) return cli_usage_error("score", "one input video at a time (got '%s' too)", argv[optind + 1]);
    o->input = argv[optind];
    double v, a;
    if (cli_music_mood(&o->music, "score", &v, &a) < 0) return ES_EXIT_USAGE;
    return 0;
}

/* The output container follows the input's where the muxer supports it, else Matroska. */
static const char *output_extension(const char *input)
{
    static char ext[16];
    es_path_ext(input, ext, sizeof ext);
    const char *keep[] = {"mp4", "m4v", "mov", "mkv", "webm"};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        if (!strcmp(ext, keep[i])) return ext;
    return "mkv";
}

static int mux_progress(void *user, double fraction)
{
    (void)user;
    es_progress_update(fraction);
    return 0;
}

int cmd_score(int argc, char **argv)
{
    score_options o;
    int status = parse_options(argc, argv, &o);
    if (status) {
        cli_music_opts_free(&o.music);
        return status < 0 ? ES_EXIT_OK : status;
    }

    es_pipeline p;
    es_pipeline_init(&p);
    char *output = NULL, *midi = NULL;
    status = ES_EXIT_FAILURE;

    /* paths first, so a bad destination fails before minutes of work */
    if (o.output) output = strdup(o.output);
    else {
        char suffix[32];
        snprintf(suffix, sizeof suffix, ".emsync.%s", output_extension(o.input));
        output = es_derive_path(NULL, o.input, suffix);
    }
    if (!output) goto end;
    if (o.midi) midi = strdup(o.midi);
    else {
        /* beside OUT with OUT's stem: x.emsync.mp4 -> x.emsync.mid */
        char *copy = strdup(output);
        if (copy) {
            const char *dir = dirname(copy);
            midi = es_derive_path(strcmp(dir, ".") ? dir : NULL, output, ".mid");
        }
        free(copy);
    }
    if (!midi) goto end;
    struct stat st;
    if (stat(o.input, &st) != 0) {
        es_fail("%s: %s", o.input, strerror(errno));
        goto end;
    }
    const char *dests[] = {output, midi, o.wav, o.json, o.svg};
    for (size_t i = 0; i < sizeof dests / sizeof dests[0]; i++) {
        if (!dests[i]) continue;
        for (size_t k = 0; k < i; k++)
            if (dests[k] && !strcmp(dests[k], dests[i])) {
                es_fail("%s: named for two outputs", dests[i]);
                goto end;
            }
        if (cli_check_destination(dests[i], o.input, o.overwrite)) goto end;
    }

    /* analysis */
    p.input = o.input;
    p.cut_threshold = o.analysis.cut_threshold;
    p.min_cut_gap = o.analysis.min_cut_gap;
    p.user_cuts = o.music.cuts_given ? o.music.cuts : NULL;
    p.n_user_cuts = o.music.n_cuts;
    p.user_cuts_given = o.music.cuts_given;
    p.emotion_per_video = o.analysis.emotion_per_video;
    p.faces = o.analysis.faces;
    p.fixed_mood = cli_music_mood(&o.music, "score", &p.fixed_valence, &p.fixed_arousal) == 1;
    if (es_pipeline_analyze(&p)) goto end;

    /* music */
    p.seed = o.music.seed;
    p.composer = o.music.composer;
    p.model = o.music.model;
    p.exact = o.music.exact;
    p.candidates = o.music.candidates;
    if (es_pipeline_compose(&p)) goto end;
    p.soundfont = o.soundfont;
    if (es_pipeline_render(&p, TARGET_LUFS, FADE_SECONDS)) goto end;

    /* outputs: the video, then the side files; a failure removes what this run wrote */
    es_mux_request mux = {
        .input_path = o.input,
        .output_path = output,
        .pcm = p.pcm,
        .n_frames = p.n_pcm_frames,
        .duration = p.analysis.info.duration,
        .original_audio = o.original_audio,
        .progress = mux_progress,
    };
    double t0 = es_now();
    es_progress_stage("mux");
    if (es_mux(&mux)) goto end;
    es_progress_done();
    es_pipeline_time(&p, "mux", es_now() - t0);
    const char *written[5] = {output};
    size_t n_written = 1;

    t0 = es_now();
    if (es_midi_write(&p.score, midi)) goto undo;
    written[n_written++] = midi;
    if (o.wav) {
        if (es_wav_write(o.wav, p.pcm, p.n_pcm_frames, ES_MUX_RATE)) goto undo;
        written[n_written++] = o.wav;
    }
    es_pipeline_time(&p, "write", es_now() - t0);
    if (o.json) {
        if (es_pipeline_write_json(&p, o.json, output, midi, o.wav)) goto undo;
        written[n_written++] = o.json;
    }
    if (o.svg) {
        if (es_timeline_write_svg(&p, o.svg)) goto undo;
        written[n_written++] = o.svg;
    }
    es_progress_note("emsync: wrote %s (music: %s%s%s)", output, midi, o.wav ? ", " : "", o.wav ? o.wav : "");
    status = ES_EXIT_OK;
    goto end;
undo:
    for (size_t i = 0; i < n_written; i++) unlink(written[i]);
end:
    if (status != ES_EXIT_OK) fprintf(stderr, "emsync: %s\n", es_error());
    es_pipeline_free(&p);
    free(output);
    free(midi);
    cli_music_opts_free(&o.music);
    return status;
}
