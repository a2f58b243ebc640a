/* emsync tokenize: a MIDI file to the EMSYNC token sequence with its <CHORD> tokens and boundary
 * offsets, in the case-file layout that `emsync model-logits` reads and the trainer loads. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "core/error.h"
#include "core/outfile.h"
#include "core/parse.h"
#include "music/midi.h"
#include "music/tokenize.h"

#define MAX_TRACK_MAPS 16
#define MIN_BPM 5.0
#define MAX_BPM 1000.0

static void usage(FILE *out)
{
    fprintf(out,
            "usage: emsync tokenize IN.mid -o OUT [options]\n"
            "\n"
            "Writes the EMSYNC event sequence of a MIDI file: line 1 a comment, line 2 the token ids,\n"
            "line 3 'valence arousal', line 4 one boundary offset (seconds to the next <CHORD>, at\n"
            "most 8) per token. Notes map to bass, drums, guitar, piano, strings by GM program\n"
            "(channel 10 = drums) unless --track says otherwise.\n"
            "\n"
            "  -o, --output F        file to write (required)\n"
            "  -y, --overwrite       replace an existing output (default: refuse)\n"
            "      --chords F        chord annotations, lines 'start end label' (N = no chord): a\n"
            "                        <CHORD> at each chord's start (default: none)\n"
            "      --beats F         beat annotations, lines 'time beat downbeat': chords shorter\n"
            "                        than --chord-beats beats are dropped, and a <BAR> marks each\n"
            "                        downbeat (default: none)\n"
            "      --chord-beats N   shortest chord given a <CHORD>, in beats, 1..64 (default 2;\n"
            "                        needs --beats)\n"
            "      --chord-snap S    move a chord to the nearest note onset within S seconds,\n"
            "                        0..0.5 (default 0.06)\n"
            "      --track NAME=I    notes of the track named NAME become instrument I (bass, drums,\n"
            "                        guitar, piano, strings); repeatable, up to %d (default: none)\n"
            "      --bass-below P    a piano note below MIDI pitch P that is the lowest of its strike\n"
            "                        becomes bass, 0..128 (default 0: off)\n"
            "      --valence V       label written on line 3, in [-1, 1] (default: nan)\n"
            "      --arousal A       label written on line 3, in [-1, 1] (default: nan)\n"
            "  -q, --quiet           no summary on stderr\n"
            "  -h, --help            this text\n"
            "\n"
            "example (a POP909 song, as the trainer prepares it):\n"
            "  emsync tokenize 001/001.mid --chords 001/chord_midi.txt --beats 001/beat_midi.txt \\\n"
            "      --track MELODY=strings --track BRIDGE=guitar --track PIANO=piano --bass-below 52 \\\n"
            "      -o 001.tok\n",
            MAX_TRACK_MAPS);
}

typedef struct {
    const char *input;
    const es_token_seq *seq;
    double valence, arousal;
} case_text;

static void write_label(FILE *f, double v) { isnan(v) ? fputs("nan", f) : fprintf(f, "%.6g", v); }

static void write_case(FILE *f, const void *user)
{
    const case_text *c = user;
    const es_token_seq *q = c->seq;
    fprintf(f, "# emsync tokenize: %zu tokens, %zu notes (%zu out of range dropped), %zu chords, %zu bars, %.3f s\n",
            q->n, q->notes, q->dropped_range, q->chords, q->bars, q->seconds);
    for (size_t i = 0; i < q->n; i++) fprintf(f, "%s%d", i ? " " : "", q->tokens[i]);
    fputc('\n', f);
    write_label(f, c->valence);
    fputc(' ', f);
    write_label(f, c->arousal);
    fputc('\n', f);
    for (size_t i = 0; i < q->n; i++) fprintf(f, "%s%.3f", i ? " " : "", q->deltas[i]);
    fputc('\n', f);
}

static int parse_track_map(const char *arg, es_midi_track_map *m)
{
    const char *eq = strrchr(arg, '=');
    if (!eq || eq == arg) return -1;
    for (int i = 0; i < ES_INSTRUMENT_COUNT; i++)
        if (!strcasecmp(eq + 1, es_instrument_name((es_instrument)i))) {
            m->instrument = (es_instrument)i;
            m->name = strndup(arg, (size_t)(eq - arg));
            return m->name ? 0 : -1;
        }
    return -1;
}

int cmd_tokenize(int argc, char **argv)
{
    enum { O_CHORDS = 3000, O_BEATS, O_CHORD_BEATS, O_SNAP, O_TRACK, O_BASS, O_VALENCE, O_AROUSAL };
    static const struct option long_options[] = {
        {"output", required_argument, NULL, 'o'},
        {"overwrite", no_argument, NULL, 'y'},
        {"chords", required_argument, NULL, O_CHORDS},
        {"beats", required_argument, NULL, O_BEATS},
        {"chord-beats", required_argument, NULL, O_CHORD_BEATS},
        {"chord-snap", required_argument, NULL, O_SNAP},
        {"track", required_argument, NULL, O_TRACK},
        {"bass-below", required_argument, NULL, O_BASS},
        {"valence", required_argument, NULL, O_VALENCE},
        {"arousal", required_argument, NULL, O_AROUSAL},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    const char *outp = NULL, *chords_path = NULL, *beats_path = NULL;
    es_midi_track_map maps[MAX_TRACK_MAPS];
    size_t n_maps = 0;
    long chord_beats = 2, bass_below = 0;
    double snap = 0.06, valence = NAN, arousal = NAN;
    int overwrite = 0, quiet = 0, opt, rc = ES_EXIT_USAGE;
    es_score score = {0};
    es_token_seq seq = {0};
    double *beats = NULL, *downbeats = NULL, *chords = NULL;
    size_t n_beats = 0, n_downbeats = 0, n_chords = 0;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":o:yqh", long_options, NULL)) != -1) {
        switch (opt) {
        case 'o': if (cli_path_option("tokenize", "--output", optarg, &outp)) goto end; break;
        case 'y': overwrite = 1; break;
        case 'q': quiet = 1; break;
        case O_CHORDS: if (cli_path_option("tokenize", "--chords", optarg, &chords_path)) goto end; break;
        case O_BEATS: if (cli_path_option("tokenize", "--beats", optarg, &beats_path)) goto end; break;
        case O_CHORD_BEATS:
            if (es_parse_long(optarg, 1, 64, &chord_beats)) {
                cli_usage_error("tokenize", "--chord-beats must be an integer in [1, 64], not '%s'", optarg);
                goto end;
            }
            break;
        case O_SNAP:
            if (es_parse_double(optarg, &snap) || snap < 0 || snap > 0.5) {
                cli_usage_error("tokenize", "--chord-snap must be seconds in [0, 0.5], not '%s'", optarg);
                goto end;
            }
            break;
        case O_TRACK:
            if (n_maps == MAX_TRACK_MAPS) { cli_usage_error("tokenize", "more than %d --track options", MAX_TRACK_MAPS); goto end; }
            if (parse_track_map(optarg, &maps[n_maps])) {
                cli_usage_error("tokenize", "--track wants NAME=bass|drums|guitar|piano|strings, not '%s'", optarg);
                goto end;
            }
            n_maps++;
            break;
        case O_BASS:
            if (es_parse_long(optarg, 0, 128, &bass_below)) {
                cli_usage_error("tokenize", "--bass-below must be a MIDI pitch in [0, 128], not '%s'", optarg);
                goto end;
            }
            break;
        case O_VALENCE:
        case O_AROUSAL: {
            double v;
            if (es_parse_double(optarg, &v) || v < -1 || v > 1) {
                cli_usage_error("tokenize", "--%s must be in [-1, 1], not '%s'", opt == O_VALENCE ? "valence" : "arousal", optarg);
                goto end;
            }
            *(opt == O_VALENCE ? &valence : &arousal) = v;
            break;
        }
        case 'h': usage(stdout); rc = ES_EXIT_OK; goto end;
        default: rc = cli_getopt_error("tokenize", opt, argv); goto end;
        }
    }
    if (optind >= argc) { cli_usage_error("tokenize", "no input MIDI file"); goto end; }
    if (optind + 1 < argc) { cli_usage_error("tokenize", "unexpected argument '%s'", argv[optind + 1]); goto end; }
    if (!outp) { cli_usage_error("tokenize", "-o OUT is required"); goto end; }
    const char *input = argv[optind];

    rc = ES_EXIT_FAILURE;
    if (es_check_destination(outp, input, overwrite)) goto end;
    if ((chords_path && es_same_destination(outp, chords_path)) || (beats_path && es_same_destination(outp, beats_path))) {
        es_fail("%s: output would overwrite an annotation file", outp);
        goto end;
    }
    if (es_midi_read_mapped(input, maps, n_maps, &score)) goto end;
    for (size_t i = 0; i < score.n_tempos; i++)
        if (!(score.tempos[i].bpm >= MIN_BPM && score.tempos[i].bpm <= MAX_BPM)) {
            es_fail("%s: absurd tempo of %.6g bpm at %.3f s (expected %g..%g)", input, score.tempos[i].bpm,
                    score.tempos[i].time, MIN_BPM, MAX_BPM);
            goto end;
        }
    if (beats_path && es_read_beat_file(beats_path, &beats, &n_beats, &downbeats, &n_downbeats)) goto end;
    if (chords_path && es_read_chord_file(chords_path, beats, n_beats, (int)chord_beats, &chords, &n_chords)) goto end;
    es_tokenize_options to = {chords, n_chords, downbeats, n_downbeats, snap, (double)bass_below};
    if (es_score_to_tokens(&score, &to, &seq)) {
        char why[512]; /* es_fail overwrites the message it would quote */
        snprintf(why, sizeof why, "%s", es_error() + (strncmp(es_error(), "tokenize: ", 10) ? 0 : 10));
        es_fail("%s: %s", input, why);
        goto end;
    }
    case_text ct = {input, &seq, valence, arousal};
    if (es_write_stream(outp, write_case, &ct)) goto end;
    if (!quiet)
        fprintf(stderr, "emsync tokenize: %s: %zu tokens, %zu notes (%zu out of range), %zu chords, %zu bars, %.1f s\n",
                input, seq.n, seq.notes, seq.dropped_range, seq.chords, seq.bars, seq.seconds);
    rc = ES_EXIT_OK;
end:
    if (rc == ES_EXIT_FAILURE) cli_fail();
    es_token_seq_free(&seq);
    es_score_free(&score);
    free(chords);
    free(beats);
    free(downbeats);
    for (size_t i = 0; i < n_maps; i++) free((void *)maps[i].name);
    return rc;
}
