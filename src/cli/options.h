/* Options shared by the subcommands that compose (score, compose): mood, cuts, seed, composer. */
#ifndef ES_CLI_OPTIONS_H
#define ES_CLI_OPTIONS_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

#include "emsync.h"

enum {
    OPT_VALENCE = 1000, OPT_AROUSAL, OPT_EMOTION, OPT_SEED, OPT_CUTS, OPT_MODEL, OPT_COMPOSER,
    OPT_JSON, OPT_MIDI, OPT_WAV, OPT_SVG, OPT_SOUNDFONT, OPT_ORIGINAL_AUDIO, OPT_CUT_THRESHOLD,
    OPT_MIN_CUT_GAP, OPT_EMOTION_MODE, OPT_DURATION, OPT_EXACT, OPT_REFERENCE_BOUNDARIES, OPT_CANDIDATES, OPT_QUIET, OPT_FACES,
    OPT_TEMPERATURE, OPT_TOP_P, OPT_GUIDANCE, OPT_MOOD_CONTRAST, OPT_PLAN,
};



typedef struct {
    double valence, arousal;  /* NaN when not given */
    const char *emotion;      /* --emotion name, or NULL */
    uint64_t seed;
    int seed_given;
    double *cuts;             /* --cuts, owned; NULL when not given */
    size_t n_cuts;
    int cuts_given;
    const char *model;        /* --model path or NULL */
    emsync_composer composer;
    int composer_given;
    int exact;                /* --exact window mode for the EMSYNC generator */
    int reference_boundaries; /* --reference-boundaries: the reference's 1 s chord rule */
    int candidates;           /* --candidates K */
    double temperature, top_p, guidance; /* --temperature, --top-p, --guidance; 0 = the model's own */
} cli_music_opts;

/* The long options every composing subcommand accepts, for the callers' own option tables
 * (no terminating zero entry). */
#define CLI_MUSIC_LONG_OPTIONS                                        \
    {"valence", required_argument, NULL, OPT_VALENCE},                \
    {"arousal", required_argument, NULL, OPT_AROUSAL},                \
    {"emotion", required_argument, NULL, OPT_EMOTION},                \
    {"seed", required_argument, NULL, OPT_SEED},                      \
    {"cuts", required_argument, NULL, OPT_CUTS},                      \
    {"model", required_argument, NULL, OPT_MODEL},                    \
    {"composer", required_argument, NULL, OPT_COMPOSER},              \
    {"exact", no_argument, NULL, OPT_EXACT},                          \
    {"reference-boundaries", no_argument, NULL, OPT_REFERENCE_BOUNDARIES}, \
    {"candidates", required_argument, NULL, OPT_CANDIDATES},          \
    {"temperature", required_argument, NULL, OPT_TEMPERATURE},        \
    {"top-p", required_argument, NULL, OPT_TOP_P},                    \
    {"guidance", required_argument, NULL, OPT_GUIDANCE}

/* Options that shape the analysis of a video (score, analyze). */
typedef struct {
    double cut_threshold, min_cut_gap, mood_contrast;
    int emotion_per_video;
    int faces;
} cli_analysis_opts;

#define CLI_ANALYSIS_LONG_OPTIONS                                     \
    {"cut-threshold", required_argument, NULL, OPT_CUT_THRESHOLD},    \
    {"min-cut-gap", required_argument, NULL, OPT_MIN_CUT_GAP},        \
    {"emotion-mode", required_argument, NULL, OPT_EMOTION_MODE},      \
    {"faces", required_argument, NULL, OPT_FACES},                    \
    {"mood-contrast", required_argument, NULL, OPT_MOOD_CONTRAST}

/* Usage lines for the analysis options, as printed by --help. */
#define CLI_ANALYSIS_USAGE                                                                         \
    "      --cut-threshold X    scene score above which a frame is a cut, 0..1 (default 0.27)\n"    \
    "      --min-cut-gap S      seconds between kept boundaries, >= 0 (default 4.0)\n"              \
    "      --cuts t1,t2,...     use these boundaries (seconds) instead of detecting cuts; '' for\n"  \
    "                           none (default: detected)\n"                                       \
    "      --emotion-mode M     scene (a mood per scene, default) | video (one mood, as EMSYNC)\n"  \
    "      --faces on|off       read facial expressions when the face models are installed\n"      \
    "                           (default on)\n"                                                  \
    "      --mood-contrast X    stretch each scene's distance from the video's mood, [0, 3]\n"   \
    "                           (default 1.5; 1 = as estimated, 0 = the video's mood everywhere)\n"

void cli_analysis_opts_init(cli_analysis_opts *o);

/* Like cli_music_option, for the analysis options. */
int cli_analysis_option(cli_analysis_opts *o, int opt, const char *arg, const char *cmd);

void cli_music_opts_init(cli_music_opts *o);
void cli_music_opts_free(cli_music_opts *o);

/* Handles one getopt result. Returns 1 if it was a music option (applied), 0 if not one of
 * them, -1 if its value is invalid (a message is printed to stderr). */
int cli_music_option(cli_music_opts *o, int opt, const char *arg, const char *cmd);

/* Checks the combination after parsing: both or neither of valence and arousal, and not
 * together with --emotion. When the user fixed the mood, stores it in *valence and *arousal and
 * returns 1; returns 0 when the mood is to be estimated; -1 on a bad combination (message
 * printed). */
int cli_music_mood(const cli_music_opts *o, const char *cmd, double *valence, double *arousal);

/* Parses "on"/"off" into *out (1/0). Returns 0 or -1. */
int cli_on_off(const char *arg, int *out);

/* Fills the library's options from parsed CLI option groups (mood checked by cli_music_mood,
 * which must have succeeded). */
void cli_fill_options(emsync_options *o, const cli_analysis_opts *a, const cli_music_opts *m, const char *cmd);

/* Prints a usage error line "emsync CMD: MSG" and returns ES_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* While buf is not NULL, usage errors are kept there (the message alone, the last one) instead
 * of printed: a batch checks each manifest row's options and reports them with the row's line. */
void cli_capture_usage_errors(char *buf, size_t size);

/* The usage error for getopt_long's ':' (missing value) or '?' (unknown option) result c, naming
 * the option as the user typed it (also inside a group of short options such as -yz). Returns
 * ES_EXIT_USAGE. */
int cli_getopt_error(const char *cmd, int c, char **argv);

/* Stores a file-name option's value in *dest, refusing an empty one (usage error printed).
 * Returns 0 or -1. */
int cli_path_option(const char *cmd, const char *option, const char *arg, const char **dest);

/* Prints the library's last error as the one line "emsync: ..." (after ending a half-drawn
 * progress bar) and returns ES_EXIT_FAILURE. */
int cli_fail(void);

/* Upper bound on times given in seconds (--at): 48 hours, longer than any video we take. */
#define CLI_MAX_SECONDS (48 * 3600.0)

#endif
