/* emsync command line: a thin layer over the library. Picks the subcommand, prints usage,
 * and maps failures to exit codes (0 ok, 1 runtime failure, 2 bad usage). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const es_command commands[] = {
    {"score", "a video in, the same video with a synchronized soundtrack out", cmd_score},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: emsync COMMAND [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'emsync COMMAND --help' lists a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return ES_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "emsync: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return ES_EXIT_USAGE;
}
