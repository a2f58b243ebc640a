/* Subcommands of the emsync CLI. Each takes (argc, argv) with argv[0] = the command name and
 * returns the process exit code. */
#ifndef ES_CLI_H
#define ES_CLI_H

#include <sys/types.h>

enum { ES_EXIT_OK = 0, ES_EXIT_FAILURE = 1, ES_EXIT_USAGE = 2 };

typedef struct {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} es_command;

int cmd_score(int argc, char **argv);
int cmd_compose(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_faces(int argc, char **argv);
int cmd_model_logits(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_model_info(int argc, char **argv);
int cmd_batch(int argc, char **argv);
int cmd_serve(int argc, char **argv);

/* What batch needs of score: whether `emsync score ARGV` would parse (0, or ES_EXIT_USAGE with
 * the usage error), and whether the long option NAME (without "--") exists and takes a value
 * (1), is a flag (0), or does not exist (-1). */
int cmd_score_check(int argc, char **argv);
int cmd_score_option_kind(const char *name);

/* Starts this emsync binary with argv (argv[0] = "emsync") as a child: stdin and stdout on
 * /dev/null, stderr on a pipe whose read end goes to *stderr_fd (close-on-exec), and
 * EMSYNC_THREADS=threads when threads > 0. Returns the child's pid, or -1 with an error line. */
pid_t cli_spawn_self(char *const argv[], int threads, int *stderr_fd);

#endif
