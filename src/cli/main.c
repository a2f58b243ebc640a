/* emsync command line: a thin layer over the library. Picks the subcommand, prints usage,
 * and maps failures to exit codes (0 ok, 1 runtime failure, 2 bad usage). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/log.h>

#include "cli/cli.h"
#include "emsync.h"

static const es_command commands[] = {
    {"score", "a video in, the same video with a synchronized soundtrack out", cmd_score},
    {"batch", "many videos scored at once: a folder or a manifest, resumable, with a summary", cmd_batch},
    {"serve", "a local web app: upload a video, edit its cuts and moods, render again", cmd_serve},
    {"compose", "music for a duration, a mood and boundaries, as MIDI (no video)", cmd_compose},
    {"eval", "objective measures of a MIDI file: cut hits, key, tempo, density, ...", cmd_eval},
    {"analyze", "what emsync sees: cuts, per-scene features, faces, valence/arousal", cmd_analyze},
    {"faces", "faces and their expressions in an image or a video frame", cmd_faces},
    {"model-logits", "run the EMSYNC network on a token case, write its logits", cmd_model_logits},
    {"model-info", "load a generator checkpoint, check every tensor, print its size", cmd_model_info},
    {"tokenize", "a MIDI file to EMSYNC tokens, <CHORD> marks and boundary offsets (training data)", cmd_tokenize},
};

/* Also the source of the man page (scripts/make-man.sh): its first sentence is the NAME line and
 * each "heading:" block becomes a section. */
static void usage(FILE *out)
{
    fprintf(out,
        "usage: emsync COMMAND [options]\n"
        "\n"
        "Gives a video a soundtrack whose mood follows the video's emotion and whose harmony\n"
        "changes land on its scene cuts.\n"
        "\n"
        "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
        "\n"
        "options:\n"
        "  -h, --help         this text; 'emsync COMMAND --help' lists a command's options\n"
        "      --version      the version\n"
        "\n"
        "environment:\n"
        "  EMSYNC_DATA        data directory searched first for the face models (models/), the\n"
        "                     bundled model (models/emsync-pop909.pt) and the authors' emsync.pt;\n"
        "                     then $XDG_DATA_HOME/emsync, ~/.local/share/emsync, the\n"
        "                     installation's own share/emsync (<bin>/../share/emsync),\n"
        "                     /usr/local/share/emsync, /usr/share/emsync\n"
        "  EMSYNC_MODEL       EMSYNC checkpoint used when --model is not given\n"
        "  EMSYNC_SOUNDFONT   GM soundfont used when --soundfont is not given\n"
        "  EMSYNC_THREADS     threads each parallel stage may use (default: the cores); batch\n"
        "                     sets it for its jobs\n"
        "  EMSYNC_DEBUG       set and not 0: show FFmpeg's own log messages\n"
        "\n"
        "example:\n"
        "  emsync score holiday.mp4     # writes holiday.emsync.mp4 and holiday.emsync.mid\n");
}

int main(int argc, char **argv)
{
    /* libav's own messages would interleave with ours; failures reach the user through our
     * one-line errors. EMSYNC_DEBUG=1 shows them again. */
    const char *debug = getenv("EMSYNC_DEBUG");
    av_log_set_level(debug && *debug && strcmp(debug, "0") ? AV_LOG_INFO : AV_LOG_QUIET);
    if (argc < 2) {
        usage(stderr);
        return ES_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("emsync %s\n", emsync_version());
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "emsync: unknown command '%s' (see 'emsync --help')\n", argv[1]);
    return ES_EXIT_USAGE;
}
