/* emsync faces: the faces in a picture, or in the video frame shown at a given time, with
 * their expression probabilities, as JSON (stdout, or a file written through a temp file). */
#include <getopt.h>
#include <libavutil/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "core/error.h"
#include "core/json.h"
#include "core/outfile.h"
#include "core/parse.h"
#include "emotion/faces.h"
#include "media/grab.h"

#define MAX_FACES 64

static void usage(FILE *out)
{
    fprintf(out,
        "usage: emsync faces IN [--at SECONDS] [--json F] [--models DIR] [-y] [-q]\n"
        "\n"
        "Finds the faces in the image IN, or in the frame of the video IN shown at SECONDS, and\n"
        "the probability of each facial expression (neutral, happy, sad, angry, fearful,\n"
        "disgusted, surprised). Boxes are [x, y, width, height] in source pixels.\n"
        "\n"
        "  --at SECONDS   time of the video frame, 0..172800 (default 0: the first frame; an\n"
        "                 image has only time 0)\n"
        "  --json F       write the JSON to F (default: stdout)\n"
        "  --models DIR   folder with the face-api model files (default: the data directory's\n"
        "                 models/, installed by scripts/install-deps.sh)\n"
        "  -y, --overwrite  replace an existing --json file (default: refuse)\n"
        "  -q, --quiet    accepted as by every command (only errors go to stderr)\n"
        "  -h, --help     this text\n"
        "\n"
        "example:\n"
        "  emsync faces interview.mp4 --at 12.5 --json faces.json\n");
}

static void write_faces(FILE *f, const es_face *faces, int n)
{
    es_json j;
    es_json_init(&j, f, 1);
    es_json_begin_object(&j);
    es_json_key(&j, "faces");
    es_json_begin_array(&j);
    for (int i = 0; i < n; i++) {
        es_json_begin_object(&j);
        es_json_key(&j, "box");
        es_json_begin_array(&j);
        es_json_number(&j, faces[i].x);
        es_json_number(&j, faces[i].y);
        es_json_number(&j, faces[i].w);
        es_json_number(&j, faces[i].h);
        es_json_end_array(&j);
        es_json_kv_number(&j, "score", faces[i].score);
        es_json_key(&j, "expressions");
        es_json_begin_object(&j);
        for (int k = 0; k < ES_EXPRESSIONS; k++)
            es_json_kv_number(&j, es_expression_names[k], faces[i].expressions[k]);
        es_json_end_object(&j);
        es_json_end_object(&j);
    }
    es_json_end_array(&j);
    es_json_end_object(&j);
    fputc('\n', f);
}

typedef struct {
    const es_face *faces;
    int n;
} face_list;

static void write_face_list(FILE *f, const void *user)
{
    const face_list *l = user;
    write_faces(f, l->faces, l->n);
}

static int write_json_file(const char *path, const es_face *faces, int n)
{
    face_list l = {faces, n};
    return es_write_stream(path, write_face_list, &l);
}

int cmd_faces(int argc, char **argv)
{
    enum { OPT_AT = 2000, OPT_MODELS };
    static const struct option long_options[] = {
        {"at", required_argument, NULL, OPT_AT},
        {"json", required_argument, NULL, OPT_JSON},
        {"models", required_argument, NULL, OPT_MODELS},
        {"overwrite", no_argument, NULL, 'y'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    double at = 0;
    const char *json = NULL, *models = NULL;
    int c, overwrite = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":yqh", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_AT:
            if (es_parse_double(optarg, &at) || at < 0 || at > CLI_MAX_SECONDS)
                return cli_usage_error("faces", "--at must be seconds in [0, %.0f], not '%s'", CLI_MAX_SECONDS, optarg);
            break;
        case OPT_JSON: if (cli_path_option("faces", "--json", optarg, &json)) return ES_EXIT_USAGE; break;
        case OPT_MODELS: if (cli_path_option("faces", "--models", optarg, &models)) return ES_EXIT_USAGE; break;
        case 'y': overwrite = 1; break;
        case 'q': break; /* nothing goes to stderr but errors */
        case 'h': usage(stdout); return ES_EXIT_OK;
        default: return cli_getopt_error("faces", c, argv);
        }
    }
    if (optind != argc - 1) {
        cli_usage_error("faces", "%s", optind >= argc ? "missing input IN" : "only one input IN");
        return ES_EXIT_USAGE;
    }
    const char *input = argv[optind];

    int status = ES_EXIT_FAILURE;
    es_frame frame = {0};
    es_face_model *model = NULL;
    es_face faces[MAX_FACES];
    av_log_set_level(AV_LOG_FATAL);  /* our own one-line error says what went wrong */
    if (json && es_check_destination(json, input, overwrite)) goto end;
    if (es_grab_frame(input, at, &frame)) goto end;
    model = es_face_model_load(models);
    if (!model) goto end;
    int n = es_faces_detect(model, frame.rgb, frame.width, frame.height, frame.stride, faces, MAX_FACES);
    if (n < 0) goto end;
    if (json) {
        if (write_json_file(json, faces, n)) goto end;
    } else {
        write_faces(stdout, faces, n);
        if (fflush(stdout) != 0) {
            es_fail("stdout: write failed");
            goto end;
        }
    }
    status = ES_EXIT_OK;
end:
    if (status != ES_EXIT_OK) cli_fail();
    es_face_model_free(model);
    es_frame_free(&frame);
    return status;
}
