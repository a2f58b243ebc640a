/* Score plans: every field read, an analyze report taken as it is, each bad input refused with
 * its field and line; given moods mapped onto the boundaries' scenes and checked by the API;
 * report numbers that read back as the same doubles. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/error.h"
#include "core/json.h"
#include "pipeline/pipeline.h"
#include "pipeline/plan.h"

static int parse(const char *text, es_plan *plan) { return es_plan_parse("p.json", text, strlen(text), plan); }

/* Parses text, wanting a failure whose message contains want. */
static int refused(const char *text, const char *want)
{
    es_plan plan;
    if (parse(text, &plan) == 0) {
        fprintf(stderr, "accepted: %s\n", text);
        es_plan_free(&plan);
        return 0;
    }
    int ok = strstr(es_error(), want) != NULL && !strchr(es_error(), '\n') && plan.bounds == NULL &&
             plan.moods == NULL;
    if (!ok) fprintf(stderr, "for %s: got '%s', wanted '%s'\n", text, es_error(), want);
    return ok;
}

static void test_fields(void)
{
    es_plan p;
    CHECK(parse("{\"boundaries\": [2.5, 8], \"scenes\": [{\"start\": 0, \"valence\": 0.5, \"arousal\": -1},"
                " {\"start\": 4, \"valence\": -0.25, \"arousal\": 1, \"end\": 9}], \"composer\": \"rules\","
                " \"seed\": 42, \"original_audio\": \"track\", \"soundfont\": \"gm.sf2\", \"other\": [1, {}]}",
                &p) == 0);
    CHECK(p.has_bounds && p.n_bounds == 2 && p.bounds[0] == 2.5 && p.bounds[1] == 8);
    CHECK(p.n_moods == 2 && p.moods[1].start == 4 && p.moods[1].valence == -0.25 && p.moods[0].arousal == -1);
    CHECK(p.has_composer && p.composer == EMSYNC_COMPOSER_RULES);
    CHECK(p.has_seed && p.seed == 42);
    CHECK(p.has_original_audio && p.original_audio == EMSYNC_ORIGINAL_AUDIO_TRACK);
    CHECK(p.soundfont && !strcmp(p.soundfont, "gm.sf2"));
    es_plan_free(&p);

    /* every field is optional; empty boundaries mean "no cuts", as --cuts '' */
    CHECK(parse("{}", &p) == 0 && !p.has_bounds && !p.moods && !p.has_seed && !p.soundfont);
    es_plan_free(&p);
    CHECK(parse("{\"boundaries\": []}", &p) == 0 && p.has_bounds && p.n_bounds == 0);
    es_plan_free(&p);
}

static void test_report_shape(void)
{
    es_plan p;
    /* an analyze report: boundaries under "cuts", scenes under "emotion" */
    CHECK(parse("{\"cuts\": {\"threshold\": 0.27, \"boundaries\": [5]}, \"emotion\": {\"mode\": \"scene\","
                " \"scenes\": [{\"start\": 0, \"end\": 5, \"valence\": 0.1, \"arousal\": 0.2, \"confidence\": 0.7},"
                " {\"start\": 5, \"end\": 9, \"valence\": -0.3, \"arousal\": 0.4}]}}",
                &p) == 0);
    CHECK(p.has_bounds && p.n_bounds == 1 && p.bounds[0] == 5);
    CHECK(p.n_moods == 2 && p.moods[1].start == 5 && p.moods[1].valence == -0.3);
    es_plan_free(&p);
    /* the top-level fields win over the report's */
    CHECK(parse("{\"boundaries\": [3], \"cuts\": {\"boundaries\": [5]}}", &p) == 0 && p.n_bounds == 1 &&
          p.bounds[0] == 3);
    es_plan_free(&p);
}

static void test_refused(void)
{
    CHECK(refused("", "p.json: line 1"));
    CHECK(refused("{\"boundaries\": [1, 2", "p.json: line 1"));
    CHECK(refused("not json", "p.json: line 1"));
    CHECK(refused("[1, 2]", "a plan is a JSON object, not an array"));
    CHECK(refused("{\"boundaries\": \"x\"}", "line 1: boundaries: must be an array of times in seconds, not a string"));
    CHECK(refused("{\n\"boundaries\": [1,\n 3,\n 2]}", "line 4: boundaries[2]: 2 is not after 3"));
    CHECK(refused("{\"boundaries\": [1, 1]}", "boundaries[1]: 1 is not after 1"));
    CHECK(refused("{\"boundaries\": [-1]}", "boundaries[0]: -1 is outside [0, 1e+06]"));
    CHECK(refused("{\"boundaries\": [2e6]}", "boundaries[0]: 2e+06 is outside"));
    CHECK(refused("{\"boundaries\": [null]}", "boundaries[0]: must be a number"));
    CHECK(refused("{\"cuts\": [5]}", "cuts: must be an object"));
    CHECK(refused("{\"cuts\": {\"boundaries\": [5, 4]}}", "cuts.boundaries[1]: 4 is not after 5"));
    CHECK(refused("{\"scenes\": []}", "scenes: no scenes"));
    CHECK(refused("{\"scenes\": [1]}", "scenes[0]: must be an object"));
    CHECK(refused("{\"scenes\": [{\"start\": 0, \"valence\": 0}]}", "scenes[0]: has no \"arousal\""));
    CHECK(refused("{\"scenes\": [{\"start\": 0, \"valence\": 1.5, \"arousal\": 0}]}",
                  "scenes[0].valence: 1.5 is outside [-1, 1]"));
    CHECK(refused("{\"scenes\": [{\"start\": 0, \"valence\": 0, \"arousal\": -2}]}", "scenes[0].arousal: -2 is outside"));
    CHECK(refused("{\"scenes\": [{\"start\": 0, \"valence\": \"0\", \"arousal\": 0}]}",
                  "scenes[0].valence: must be a number in [-1, 1], not a string"));
    CHECK(refused("{\"scenes\": [{\"start\": 4, \"valence\": 0, \"arousal\": 0},\n"
                  "{\"start\": 2, \"valence\": 0, \"arousal\": 0}]}",
                  "line 2: scenes[1]: starts at 2, not after the scene before (4)"));
    CHECK(refused("{\"emotion\": {\"scenes\": [{\"start\": -1, \"valence\": 0, \"arousal\": 0}]}}",
                  "emotion.scenes[0].start: -1 is outside"));
    CHECK(refused("{\"composer\": \"magic\"}", "composer: must be auto, rules or emsync, not \"magic\""));
    CHECK(refused("{\"composer\": 1}", "composer: must be auto, rules or emsync, not a number"));
    CHECK(refused("{\"original_audio\": \"loud\"}", "original_audio: must be off, mix or track"));
    CHECK(refused("{\"seed\": 1.5}", "seed: must be an integer in [0, 2147483647]"));
    CHECK(refused("{\"seed\": -1}", "seed: must be an integer"));
    CHECK(refused("{\"seed\": 3e9}", "seed: must be an integer"));
    CHECK(refused("{\"soundfont\": \"\"}", "soundfont: must be a file name"));
    /* a hostile string is shown short, on one line */
    CHECK(refused("{\"composer\": \"a\\nb\\u0001cccccccccccccccccccccccccccccccccccccccccccccccccccc\"}",
                  "not \"a?b?cccccccccccccccccccccccccccccccccccc...\""));
}

/* More than ES_PLAN_MAX_ITEMS boundaries is refused; that many is taken. */
static void test_limits(void)
{
    size_t n = ES_PLAN_MAX_ITEMS + 1, cap = n * 12 + 64, len = 0;
    char *text = malloc(cap);
    len += (size_t)snprintf(text + len, cap - len, "{\"boundaries\": [");
    for (size_t i = 0; i < n; i++) len += (size_t)snprintf(text + len, cap - len, "%s%zu", i ? "," : "", i + 1);
    len += (size_t)snprintf(text + len, cap - len, "]}");
    es_plan p;
    CHECK(es_plan_parse("p.json", text, len, &p) == -1 && strstr(es_error(), "100001 items; at most 100000"));
    char *last = strrchr(text, ',');
    snprintf(last, cap - (size_t)(last - text), "]}");
    CHECK(es_plan_parse("p.json", text, strlen(text), &p) == 0 && p.n_bounds == ES_PLAN_MAX_ITEMS);
    es_plan_free(&p);
    free(text);
}

/* Files: missing, empty, too large, and a good one. */
static void test_files(void)
{
    char dir[] = "/tmp/es-plan-XXXXXX", path[300];
    CHECK(mkdtemp(dir) != NULL);
    es_plan p;
    snprintf(path, sizeof path, "%s/missing.json", dir);
    CHECK(es_plan_read(path, &p) == -1 && strstr(es_error(), "missing.json: No such file"));
    snprintf(path, sizeof path, "%s/plan.json", dir);
    FILE *f = fopen(path, "w");
    fclose(f);
    CHECK(es_plan_read(path, &p) == -1 && strstr(es_error(), "plan.json: empty file"));
    f = fopen(path, "w");
    fprintf(f, "{\"seed\": 3,\n \"scenes\": [{\"start\": 0, \"valence\": 2, \"arousal\": 0}]}\n");
    fclose(f);
    CHECK(es_plan_read(path, &p) == -1 && strstr(es_error(), "plan.json: line 2: scenes[0].valence: 2 is outside"));
    f = fopen(path, "w");
    fprintf(f, "{\"seed\": 3}");
    CHECK(fseek(f, ES_PLAN_MAX_BYTES, SEEK_SET) == 0 && fputc(' ', f) == ' ');
    fclose(f);
    CHECK(es_plan_read(path, &p) == -1 && strstr(es_error(), "plan.json: larger than"));
    CHECK(truncate(path, 11) == 0);
    CHECK(es_plan_read(path, &p) == 0 && p.has_seed && p.seed == 3);
    es_plan_free(&p);
    unlink(path);
    rmdir(dir);
}

/* Given moods without a video: each holds from its own start, boundary or not; the first one
 * also covers the time before it. */
static void test_mapping(void)
{
    emsync_scene_mood given[] = {{1.0, 0.5, 0.5}, {3.0, -0.5, 0.1}, {3.5, 0.9, 0.9}, {8.0, -1, -1}};
    double bounds[] = {2.0, 3.5, 6.0};
    es_pipeline p;
    es_pipeline_init(&p);
    p.given_moods = given;
    p.n_given_moods = 4;
    CHECK(es_pipeline_plan(&p, 10.0, bounds, 3, 0, 0) == 0);
    CHECK(p.n_moods == 4 && !p.fixed_mood);
    double want[4][3] = {{0, 0.5, 0.5}, {3.0, -0.5, 0.1}, {3.5, 0.9, 0.9}, {8.0, -1, -1}};
    for (size_t i = 0; i < 4 && i < p.n_moods; i++)
        CHECK(p.moods[i].start == want[i][0] && p.moods[i].valence == want[i][1] && p.moods[i].arousal == want[i][2]);
    es_pipeline_free(&p);

    /* one mood per video: the duration-weighted mean of the given moods, each over its own
     * stretch (0-3 s, 3-3.5 s, 3.5-8 s, 8-10 s) */
    es_pipeline_init(&p);
    p.given_moods = given;
    p.n_given_moods = 4;
    p.emotion_per_video = 1;
    CHECK(es_pipeline_plan(&p, 10.0, bounds, 3, 0, 0) == 0);
    CHECK(p.n_moods == 1);
    CHECK_NEAR(p.moods[0].valence, (3 * 0.5 + 0.5 * -0.5 + 4.5 * 0.9 + 2 * -1) / 10, 1e-9);
    es_pipeline_free(&p);

    /* a fixed mood wins over given ones */
    es_pipeline_init(&p);
    p.given_moods = given;
    p.n_given_moods = 4;
    p.fixed_mood = 1;
    CHECK(es_pipeline_plan(&p, 10.0, bounds, 3, -0.2, 0.3) == 0);
    CHECK(p.n_moods == 1 && p.moods[0].valence == -0.2 && p.moods[0].arousal == 0.3);
    es_pipeline_free(&p);
}

/* es_json_number_exact: the shortest text that reads back as the very same double. */
static void test_exact_numbers(void)
{
    double values[] = {0.1, 5, 12.04, 1.0 / 3, -0.16682599809492231, 1e-300, 123456789.123, 2.5e-7};
    char buf[64];
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        FILE *f = fmemopen(buf, sizeof buf, "w");
        es_json j;
        es_json_init(&j, f, 0);
        es_json_number_exact(&j, values[i]);
        fclose(f);
        CHECK(strtod(buf, NULL) == values[i]);
    }
    FILE *f = fmemopen(buf, sizeof buf, "w");
    es_json j;
    es_json_init(&j, f, 0);
    es_json_number_exact(&j, 0.1);
    fclose(f);
    CHECK(!strcmp(buf, "0.1"));
}

/* The public API refuses given moods the composers cannot take, before writing anything. */
static void test_api_checks(void)
{
    char dir[] = "/tmp/es-plan-api-XXXXXX", midi[300];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(midi, sizeof midi, "%s/m.mid", dir);
    emsync_options o;
    emsync_options_default(&o);
    o.composer = EMSYNC_COMPOSER_RULES;
    emsync_scene_mood bad[][2] = {
        {{0, 0, 0}, {0, 0.5, 0.5}},   /* starts not ascending */
        {{0, 0, 0}, {2, 1.5, 0}},     /* valence outside [-1, 1] */
        {{-1, 0, 0}, {2, 0, 0}},      /* negative start */
        {{0, 0, 0}, {2, 0, NAN}},     /* not a number */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o.scene_moods = bad[i];
        o.n_scene_moods = 2;
        CHECK(emsync_compose(6, midi, NULL, NULL, &o) == -1 && strstr(emsync_error(), "scene mood"));
        CHECK(access(midi, F_OK) != 0);
    }
    emsync_scene_mood good[] = {{0, -0.5, -0.5}, {3, 0.9, 0.9}};
    o.scene_moods = good;
    o.n_scene_moods = 2;
    double cuts[] = {3};
    o.cuts = cuts;
    o.n_cuts = 1;
    o.cuts_given = 1;
    CHECK(emsync_compose(6, midi, NULL, NULL, &o) == 0 && access(midi, F_OK) == 0);
    unlink(midi);
    rmdir(dir);
}

int main(void)
{
    emsync_set_quiet(1);
    test_fields();
    test_report_shape();
    test_refused();
    test_limits();
    test_files();
    test_mapping();
    test_exact_numbers();
    test_api_checks();
    return check_report("test_plan");
}
