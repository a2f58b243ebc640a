/* Parsing of the options shared by composing subcommands. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "core/error.h"
#include "core/parse.h"
#include "core/progress.h"
#include "emotion/ekman.h"

void cli_music_opts_init(cli_music_opts *o)
{
    emsync_options d;
    emsync_options_default(&d);
    memset(o, 0, sizeof *o);
    o->valence = NAN;
    o->arousal = NAN;
    o->seed = d.seed;
    o->candidates = d.candidates;
}

void cli_music_opts_free(cli_music_opts *o)
{
    free(o->cuts);
    o->cuts = NULL;
}

static char *captured_error;
static size_t captured_size;

void cli_capture_usage_errors(char *buf, size_t size)
{
    captured_error = buf;
    captured_size = size;
    if (buf && size) buf[0] = '\0';
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (captured_error) {
        vsnprintf(captured_error, captured_size, fmt, ap);
    } else {
        fprintf(stderr, "emsync %s: ", cmd);
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, " (see 'emsync %s --help')\n", cmd);
    }
    va_end(ap);
    return ES_EXIT_USAGE;
}

int cli_getopt_error(const char *cmd, int c, char **argv)
{
    /* optopt is the option character for short options (and 0 or the long option's code for
     * long ones, which argv[optind - 1] names whole) */
    char shortname[3] = {'-', (char)optopt, '\0'};
    const char *name = optopt > 0 && optopt < 128 ? shortname : argv[optind - 1];
    if (c == ':') return cli_usage_error(cmd, "option '%s' needs a value", name);
    return cli_usage_error(cmd, "unknown option '%s'", name);
}

int cli_path_option(const char *cmd, const char *option, const char *arg, const char **dest)
{
    if (!arg[0]) {
        cli_usage_error(cmd, "%s needs a file name, not ''", option);
        return -1;
    }
    *dest = arg;
    return 0;
}

int cli_fail(void)
{
    es_progress_end_line();
    fprintf(stderr, "emsync: %s\n", emsync_error());
    return ES_EXIT_FAILURE;
}

/* A number option in [lo, hi]: 1 when taken into *out, -1 (with the usage error) when not. */
static int number_in(const char *cmd, const char *name, const char *arg, double lo, double hi, double *out)
{
    if (es_parse_double(arg, out) || *out < lo || *out > hi) {
        cli_usage_error(cmd, "--%s must be a number in [%g, %g], not '%s'", name, lo, hi, arg);
        return -1;
    }
    return 1;
}

int cli_music_option(cli_music_opts *o, int opt, const char *arg, const char *cmd)
{
    long l;
    switch (opt) {
    case OPT_VALENCE: return number_in(cmd, "valence", arg, -1, 1, &o->valence);
    case OPT_AROUSAL: return number_in(cmd, "arousal", arg, -1, 1, &o->arousal);
    case OPT_EMOTION: {
        double v, a;
        if (es_emotion_lookup(arg, &v, &a)) {
            cli_usage_error(cmd, "--emotion must be one of %s, not '%s'", es_emotion_names(), arg);
            return -1;
        }
        o->emotion = arg;
        return 1;
    }
    case OPT_SEED:
        if (es_parse_long(arg, 0, 0x7fffffffL, &l)) {
            cli_usage_error(cmd, "--seed must be an integer in [0, 2147483647], not '%s'", arg);
            return -1;
        }
        o->seed = (uint64_t)l;
        o->seed_given = 1;
        return 1;
    case OPT_CUTS:
        free(o->cuts);
        o->cuts = NULL;
        if (es_parse_time_list(arg, &o->cuts, &o->n_cuts)) {
            cli_usage_error(cmd, "--cuts: %s", es_error());
            return -1;
        }
        o->cuts_given = 1;
        return 1;
    case OPT_MODEL: return cli_path_option(cmd, "--model", arg, &o->model) ? -1 : 1;
    case OPT_COMPOSER:
        if (!strcmp(arg, "rules")) o->composer = EMSYNC_COMPOSER_RULES;
        else if (!strcmp(arg, "emsync")) o->composer = EMSYNC_COMPOSER_EMSYNC;
        else if (!strcmp(arg, "auto")) o->composer = EMSYNC_COMPOSER_AUTO;
        else {
            cli_usage_error(cmd, "--composer must be auto, rules or emsync, not '%s'", arg);
            return -1;
        }
        o->composer_given = 1;
        return 1;
    case OPT_EXACT: o->exact = 1; return 1;
    case OPT_REFERENCE_BOUNDARIES: o->reference_boundaries = 1; return 1;
    case OPT_CANDIDATES:
        if (es_parse_long(arg, 1, 16, &l)) {
            cli_usage_error(cmd, "--candidates must be an integer in [1, 16], not '%s'", arg);
            return -1;
        }
        o->candidates = (int)l;
        return 1;
    case OPT_TEMPERATURE: return number_in(cmd, "temperature", arg, 0.05, 5, &o->temperature);
    case OPT_GUIDANCE: return number_in(cmd, "guidance", arg, 1, 10, &o->guidance);
    case OPT_TOP_P: return number_in(cmd, "top-p", arg, 0.01, 1, &o->top_p);
    default: return 0;
    }
}

int cli_music_mood(const cli_music_opts *o, const char *cmd, double *valence, double *arousal)
{
    int has_v = !isnan(o->valence), has_a = !isnan(o->arousal);
    if (o->emotion && (has_v || has_a)) {
        cli_usage_error(cmd, "give --emotion or --valence/--arousal, not both");
        return -1;
    }
    if (has_v != has_a) {
        cli_usage_error(cmd, "--valence and --arousal go together");
        return -1;
    }
    if (o->emotion) {
        es_emotion_lookup(o->emotion, valence, arousal);
        return 1;
    }
    if (has_v) {
        *valence = o->valence;
        *arousal = o->arousal;
        return 1;
    }
    return 0;
}

int cli_on_off(const char *arg, int *out)
{
    if (!strcmp(arg, "on")) *out = 1;
    else if (!strcmp(arg, "off")) *out = 0;
    else return -1;
    return 0;
}

void cli_analysis_opts_init(cli_analysis_opts *o)
{
    emsync_options d;
    emsync_options_default(&d);
    o->cut_threshold = d.cut_threshold;
    o->min_cut_gap = d.min_cut_gap;
    o->emotion_per_video = d.emotion_per_video;
    o->faces = d.faces;
    o->mood_contrast = d.mood_contrast;
}

int cli_analysis_option(cli_analysis_opts *o, int opt, const char *arg, const char *cmd)
{
    switch (opt) {
    case OPT_CUT_THRESHOLD: return number_in(cmd, "cut-threshold", arg, 0, 1, &o->cut_threshold);
    case OPT_MIN_CUT_GAP:
        if (es_parse_double(arg, &o->min_cut_gap) || o->min_cut_gap < 0) {
            cli_usage_error(cmd, "--min-cut-gap must be a number of seconds >= 0, not '%s'", arg);
            return -1;
        }
        return 1;
    case OPT_EMOTION_MODE:
        if (!strcmp(arg, "scene")) o->emotion_per_video = 0;
        else if (!strcmp(arg, "video")) o->emotion_per_video = 1;
        else {
            cli_usage_error(cmd, "--emotion-mode must be scene or video, not '%s'", arg);
            return -1;
        }
        return 1;
    case OPT_MOOD_CONTRAST: return number_in(cmd, "mood-contrast", arg, 0, 3, &o->mood_contrast);
    case OPT_FACES:
        if (cli_on_off(arg, &o->faces)) {
            cli_usage_error(cmd, "--faces must be on or off, not '%s'", arg);
            return -1;
        }
        return 1;
    default: return 0;
    }
}


void cli_fill_options(emsync_options *o, const cli_analysis_opts *a, const cli_music_opts *m, const char *cmd)
{
    emsync_options_default(o);
    if (a) {
        o->cut_threshold = a->cut_threshold;
        o->min_cut_gap = a->min_cut_gap;
        o->emotion_per_video = a->emotion_per_video;
        o->faces = a->faces;
        o->mood_contrast = a->mood_contrast;
    }
    o->cuts = m->cuts;
    o->n_cuts = m->n_cuts;
    o->cuts_given = m->cuts_given;
    o->fixed_mood = cli_music_mood(m, cmd, &o->valence, &o->arousal) == 1;
    o->composer = m->composer;
    o->model = m->model;
    o->exact = m->exact;
    o->reference_boundaries = m->reference_boundaries;
    o->candidates = m->candidates;
    o->temperature = m->temperature;
    o->top_p = m->top_p;
    o->guidance = m->guidance;
    o->seed = m->seed;
}
