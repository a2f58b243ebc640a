/* emsync score: placeholder until the pipeline is wired. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_score(int argc, char **argv)
{
    fprintf(stderr, "emsync score: not yet implemented\n");
    return ES_EXIT_FAILURE;
}
