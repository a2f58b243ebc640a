/* Subcommands of the emsync CLI. Each takes (argc, argv) with argv[0] = the command name and
 * returns the process exit code. */
#ifndef ES_CLI_H
#define ES_CLI_H

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

#endif
