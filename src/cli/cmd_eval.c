/* emsync eval: objective metrics of any MIDI file (ours or another composer's): boundary hit
 * rates against given cuts, key and mode, tempo, density, dynamics, texture and rhythm figures,
 * and, when the requested mood is given, whether the mode agrees with the valence. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "core/error.h"
#include "core/json.h"
#include "core/outfile.h"
#include "core/parse.h"
#include "eval/metrics.h"
#include "music/midi.h"
#include "music/pianoroll.h"

static const char *const key_names[12] = {"C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"};

static void usage(FILE *out)
{
    fprintf(out,
        "usage: emsync eval FILE.mid [--cuts T1,T2,...] [--valence V --arousal A] [--json F]\n"
        "                   [--svg F] [-y] [-q]\n"
        "\n"
        "Measures a MIDI file (definitions in docs/metrics.md): the share of cuts with a chord\n"
        "onset (>= 3 pitched notes within 50 ms) within 1 s and within 0.1 s, key and mode\n"
        "(Krumhansl-Kessler), tempo, notes per second, velocity, register, polyphony,\n"
        "pitch-class entropy, scale and groove consistency, empty beats.\n"
        "\n"
        "  --cuts LIST    boundaries in seconds, comma separated (default: none)\n"
        "  --valence V    the valence the music was asked for, in [-1, 1]: the report says\n"
        "                 whether the mode agrees (major for V >= 0.2, minor for V <= -0.2)\n"
        "                 (default: none)\n"
        "  --arousal A    the arousal it was asked for, in [-1, 1] (echoed with the tempo and\n"
        "                 density) (default: none)\n"
        "  --json F       write the figures as JSON to F ('-' for stdout; the text report then\n"
        "                 goes to stderr) (default: none)\n"
        "  --svg F        draw a piano roll to F: time across, pitch up, one colour per\n"
        "                 instrument, drums in their own lane, the cuts and chord names\n"
        "                 (default: none)\n"
        "  -y, --overwrite  replace existing output files (default: refuse)\n"
        "  -q, --quiet    with --json -, no text report on stderr (only errors)\n"
        "  -h, --help     this text\n"
        "\n"
        "example:\n"
        "  emsync eval clip.emsync.mid --cuts 5,12,17 --valence 0.6 --json clip-eval.json\n");
}

/* 1 agrees, 0 disagrees, -1 no opinion (valence near 0 or not given, or no key). */
static int mode_agrees(double valence, const es_metrics *m)
{
    if (isnan(valence) || fabs(valence) < 0.2 || m->key_tonic < 0) return -1;
    return (valence > 0) == (m->key_major == 1);
}

static void write_json(FILE *f, const char *input, const double *cuts, size_t n_cuts, double valence,
                       double arousal, const es_metrics *m)
{
    es_json j;
    es_json_init(&j, f, 1);
    es_json_begin_object(&j);
    es_json_kv_string(&j, "file", input);
    es_json_kv_number(&j, "duration", m->duration);
    es_json_kv_int(&j, "notes", (long long)m->n_notes);
    es_json_key(&j, "cuts");
    es_json_begin_array(&j);
    for (size_t i = 0; i < n_cuts; i++) es_json_number(&j, cuts[i]);
    es_json_end_array(&j);
    es_json_kv_number(&j, "hit_rate_1s", m->hit_rate_1s);
    es_json_kv_number(&j, "hit_rate_100ms", m->hit_rate_100ms);
    es_json_key(&j, "key");
    if (m->key_tonic >= 0) {
        es_json_begin_object(&j);
        es_json_kv_string(&j, "tonic", key_names[m->key_tonic]);
        es_json_kv_string(&j, "mode", m->key_major ? "major" : "minor");
        es_json_kv_number(&j, "correlation", m->key_corr);
        es_json_end_object(&j);
    } else {
        es_json_null(&j);
    }
    es_json_kv_number(&j, "majorness", m->majorness);
    es_json_kv_number(&j, "tempo_bpm", m->tempo_bpm);
    es_json_kv_number(&j, "tempo_ioi_bpm", m->tempo_ioi_bpm);
    es_json_kv_number(&j, "note_density", m->note_density);
    es_json_kv_number(&j, "mean_velocity", m->mean_velocity);
    es_json_kv_number(&j, "mean_pitch", m->mean_pitch);
    es_json_kv_number(&j, "polyphony", m->polyphony);
    es_json_kv_number(&j, "pc_entropy", m->pc_entropy);
    es_json_kv_number(&j, "scale_consistency", m->scale_consistency);
    es_json_kv_number(&j, "groove_consistency", m->groove_consistency);
    es_json_kv_number(&j, "empty_beat_rate", m->empty_beat_rate);
    if (!isnan(valence) || !isnan(arousal)) {
        es_json_key(&j, "requested");
        es_json_begin_object(&j);
        es_json_kv_number(&j, "valence", valence);
        es_json_kv_number(&j, "arousal", arousal);
        int agree = mode_agrees(valence, m);
        es_json_key(&j, "mode_agrees");
        if (agree < 0) es_json_null(&j);
        else es_json_bool(&j, agree);
        es_json_end_object(&j);
    }
    es_json_end_object(&j);
    fputc('\n', f);
}

static void write_text(FILE *f, const char *input, size_t n_cuts, double valence, double arousal, const es_metrics *m)
{
    fprintf(f, "%s: %.2f s, %zu notes\n", input, m->duration, m->n_notes);
    if (n_cuts)
        fprintf(f, "  boundary hit rate   %.0f%% within 1 s, %.0f%% within 0.1 s (%zu cuts)\n", 100 * m->hit_rate_1s,
                100 * m->hit_rate_100ms, n_cuts);
    if (m->key_tonic >= 0)
        fprintf(f, "  key                 %s %s (r = %.2f), major-ness %+.2f\n", key_names[m->key_tonic],
                m->key_major ? "major" : "minor", m->key_corr, m->majorness);
    else
        fprintf(f, "  key                 none (no pitched notes)\n");
    fprintf(f, "  tempo               %.1f bpm (tempo map), %.1f bpm (from onsets)\n", m->tempo_bpm, m->tempo_ioi_bpm);
    fprintf(f, "  note density        %.2f notes/s\n", m->note_density);
    fprintf(f, "  mean velocity       %.1f\n", m->mean_velocity);
    fprintf(f, "  mean pitch          %.1f\n", m->mean_pitch);
    fprintf(f, "  polyphony           %.2f\n", m->polyphony);
    fprintf(f, "  pitch-class entropy %.3f bits\n", m->pc_entropy);
    fprintf(f, "  scale consistency   %.3f\n", m->scale_consistency);
    fprintf(f, "  groove consistency  %.3f\n", m->groove_consistency);
    fprintf(f, "  empty-beat rate     %.3f\n", m->empty_beat_rate);
    if (!isnan(valence)) {
        int agree = mode_agrees(valence, m);
        fprintf(f, "  requested valence   %+.2f: %s\n", valence,
                agree < 0 ? "no mode expected" : agree ? "the mode agrees" : "the mode DISAGREES");
    }
    if (!isnan(arousal)) fprintf(f, "  requested arousal   %+.2f (compare tempo and note density)\n", arousal);
}

typedef struct {
    const char *input;
    const double *cuts;
    size_t n_cuts;
    double valence, arousal;
    const es_metrics *m;
} eval_report;

static void write_report(FILE *f, const void *user)
{
    const eval_report *r = user;
    write_json(f, r->input, r->cuts, r->n_cuts, r->valence, r->arousal, r->m);
}

int cmd_eval(int argc, char **argv)
{
    static const struct option long_options[] = {
        {"cuts", required_argument, NULL, OPT_CUTS},
        {"valence", required_argument, NULL, OPT_VALENCE},
        {"arousal", required_argument, NULL, OPT_AROUSAL},
        {"json", required_argument, NULL, OPT_JSON},
        {"svg", required_argument, NULL, OPT_SVG},
        {"overwrite", no_argument, NULL, 'y'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    cli_music_opts mo; /* --cuts, --valence, --arousal, parsed as everywhere else */
    cli_music_opts_init(&mo);
    const char *json = NULL, *svg = NULL;
    int c, overwrite = 0, quiet = 0, status = ES_EXIT_USAGE;
    es_score s = {0};
    es_outset set = {0};
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":yqh", long_options, NULL)) != -1) {
        if (c == OPT_CUTS || c == OPT_VALENCE || c == OPT_AROUSAL) {
            if (cli_music_option(&mo, c, optarg, "eval") < 0) goto end;
            continue;
        }
        switch (c) {
        case OPT_JSON: if (cli_path_option("eval", "--json", optarg, &json)) goto end; break;
        case OPT_SVG: if (cli_path_option("eval", "--svg", optarg, &svg)) goto end; break;
        case 'y': overwrite = 1; break;
        case 'q': quiet = 1; break;
        case 'h':
            usage(stdout);
            status = ES_EXIT_OK;
            goto end;
        default: cli_getopt_error("eval", c, argv); goto end;
        }
    }
    if (optind != argc - 1) {
        cli_usage_error("eval", "%s", optind >= argc ? "missing input FILE.mid" : "only one input FILE.mid");
        goto end;
    }
    const char *input = argv[optind];
    const double *cuts = mo.cuts;
    size_t n_cuts = mo.n_cuts;
    double valence = mo.valence, arousal = mo.arousal;
    int json_stdout = json && !strcmp(json, "-");
    const char *dests[] = {json_stdout ? NULL : json, svg};

    status = ES_EXIT_FAILURE;
    es_metrics m;
    if (es_check_destinations(dests, 2, input, overwrite) || es_midi_read(input, &s) ||
        es_metrics_compute(&s, cuts, n_cuts, &m)) {
        status = cli_fail();
        goto end;
    }
    /* both files or neither */
    const char *t_json = json && !json_stdout ? es_outset_add(&set, json) : NULL;
    const char *t_svg = svg ? es_outset_add(&set, svg) : NULL;
    eval_report r = {input, cuts, n_cuts, valence, arousal, &m};
    if ((json && !json_stdout && (!t_json || es_write_stream(t_json, write_report, &r))) ||
        (svg && (!t_svg || es_pianoroll_write_svg(&s, cuts, n_cuts, t_svg))) || es_outset_commit(&set)) {
        status = cli_fail();
        goto end;
    }
    if (json_stdout) write_json(stdout, input, cuts, n_cuts, valence, arousal, &m);
    if (!(json_stdout && quiet)) write_text(json_stdout ? stderr : stdout, input, n_cuts, valence, arousal, &m);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "emsync: stdout: write failed\n");
        goto end;
    }
    status = ES_EXIT_OK;
end:
    es_outset_abort(&set);
    es_score_free(&s);
    cli_music_opts_free(&mo);
    return status;
}
