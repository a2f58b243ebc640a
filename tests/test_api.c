/* The public API (include/emsync.h) as a library user calls it: a composition read back from its
 * MIDI file, a scored video with every side output, and failures that leave nothing behind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "emsync.h"
#include "eval/metrics.h"
#include "music/midi.h"

static int exists(const char *dir, const char *name)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0 && st.st_size > 0;
}

static int count_entries(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    FILE *f = popen(cmd, "r");
    int n = -1;
    if (f) {
        if (fscanf(f, "%d", &n) != 1) n = -1;
        pclose(f);
    }
    return n;
}

int main(void)
{
    char dir[] = "/tmp/es-api-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char midi[512], json[512], wav[512], out[512], svg[512], input[512];
    snprintf(midi, sizeof midi, "%s/joy.mid", dir);
    snprintf(json, sizeof json, "%s/joy.json", dir);
    emsync_set_quiet(1);

    /* compose: the cuts come back from the MIDI as chord onsets, the mood as a major key */
    emsync_options o;
    emsync_options_default(&o);
    CHECK(o.cut_threshold == 0.27 && o.min_cut_gap == 4.0 && o.seed == 1 && o.faces == 1);
    double cuts[] = {4.0, 9.5};
    o.cuts = cuts;
    o.n_cuts = 2;
    o.cuts_given = 1;
    o.fixed_mood = 1;
    o.valence = 0.8;
    o.arousal = 0.4;
    o.composer = EMSYNC_COMPOSER_RULES;
    CHECK(emsync_compose(15.0, midi, NULL, json, &o) == 0);
    es_score s = {0};
    CHECK(es_midi_read(midi, &s) == 0);
    es_metrics m;
    CHECK(es_metrics_compute(&s, cuts, 2, &m) == 0);
    CHECK(m.hit_rate_100ms == 1.0);
    CHECK(m.key_major == 1);
    CHECK(s.duration > 14.9 && s.duration < 15.1);
    es_score_free(&s);
    /* a second run refuses to overwrite, and says why */
    CHECK(emsync_compose(15.0, midi, NULL, NULL, &o) != 0 && strstr(emsync_error(), "already exists"));

    /* score: every side output, and the output path handed back */
    snprintf(input, sizeof input, "%s/cuts.mp4", test_data_dir());
    snprintf(out, sizeof out, "%s/scored.mp4", dir);
    snprintf(wav, sizeof wav, "%s/scored.wav", dir);
    snprintf(svg, sizeof svg, "%s/scored.svg", dir);
    emsync_options_default(&o);
    o.faces = 0;
    char *written = NULL;
    CHECK(emsync_score(input, out, NULL, wav, NULL, svg, &o, &written) == 0);
    CHECK(written && strcmp(written, out) == 0);
    free(written);
    CHECK(exists(dir, "scored.mp4") && exists(dir, "scored.mid") && exists(dir, "scored.wav") && exists(dir, "scored.svg"));

    /* a JSON path that is a directory is refused before any work, and nothing is written */
    int before = count_entries(dir);
    snprintf(out, sizeof out, "%s/again.mp4", dir);
    CHECK(emsync_score(input, out, NULL, NULL, dir, NULL, &o, NULL) != 0);
    CHECK(strstr(emsync_error(), "directory") != NULL);
    CHECK(count_entries(dir) == before);
    /* a bad input names the file */
    CHECK(emsync_score("/nonexistent/clip.mp4", out, NULL, NULL, NULL, NULL, &o, NULL) != 0);
    CHECK(strstr(emsync_error(), "/nonexistent/clip.mp4") != NULL);
    CHECK(count_entries(dir) == before);

    /* two outputs that are one file in another spelling; an empty path; a container the muxer
     * cannot write: all refused up front */
    char same[600];
    snprintf(same, sizeof same, "%s/./again.mp4", dir);
    CHECK(emsync_score(input, out, same, NULL, NULL, NULL, &o, NULL) != 0 && strstr(emsync_error(), "named for two outputs"));
    snprintf(same, sizeof same, "%s/../%s/x.wav", dir, strrchr(dir, '/') + 1);
    snprintf(wav, sizeof wav, "%s/x.wav", dir);
    CHECK(emsync_score(input, out, NULL, wav, same, NULL, &o, NULL) != 0 && strstr(emsync_error(), "named for two outputs"));
    CHECK(emsync_score(input, "", NULL, NULL, NULL, NULL, &o, NULL) != 0 && strstr(emsync_error(), "empty output path"));
    snprintf(same, sizeof same, "%s/clip.avi", dir);
    CHECK(emsync_score(input, same, NULL, NULL, NULL, NULL, &o, NULL) != 0 && strstr(emsync_error(), "unsupported output type"));
    CHECK(count_entries(dir) == before);

    /* a failure after the analysis (no such soundfont) with overwrite on: the existing outputs
     * are untouched, no temporary file is left */
    snprintf(out, sizeof out, "%s/scored.mp4", dir);
    struct stat st_before, st_after;
    CHECK(stat(out, &st_before) == 0);
    o.overwrite = 1;
    o.soundfont = "/nonexistent/gm.sf2";
    CHECK(emsync_score(input, out, NULL, NULL, NULL, NULL, &o, NULL) != 0);
    CHECK(stat(out, &st_after) == 0 && st_after.st_ino == st_before.st_ino && st_after.st_size == st_before.st_size);
    CHECK(count_entries(dir) == before);
    o.soundfont = NULL;
    o.overwrite = 0;

    /* compose: the MIDI path is required, the duration bounded */
    CHECK(emsync_compose(5.0, NULL, NULL, NULL, &o) != 0 && strstr(emsync_error(), "MIDI"));
    snprintf(midi, sizeof midi, "%s/c.mid", dir);
    CHECK(emsync_compose(0.0 / 0.0, midi, NULL, NULL, &o) != 0 && strstr(emsync_error(), "duration"));
    CHECK(emsync_compose(1e300, midi, NULL, NULL, &o) != 0 && strstr(emsync_error(), "duration"));
    CHECK(emsync_compose(-1, midi, NULL, NULL, &o) != 0);
    CHECK(count_entries(dir) == before);

    /* cuts out of order or not a time: refused before any work, in every entry point */
    double unordered[] = {12, 5, 17}, not_time[] = {5, 0.0 / 0.0};
    o.cuts = unordered;
    o.n_cuts = 3;
    snprintf(json, sizeof json, "%s/bad.json", dir);
    CHECK(emsync_compose(20.0, midi, NULL, NULL, &o) != 0 && strstr(emsync_error(), "must ascend"));
    CHECK(emsync_analyze(input, json, NULL, &o) != 0 && strstr(emsync_error(), "must ascend"));
    CHECK(emsync_score(input, NULL, midi, NULL, NULL, NULL, &o, NULL) != 0 && strstr(emsync_error(), "must ascend"));
    o.cuts = not_time;
    o.n_cuts = 2;
    CHECK(emsync_analyze(input, json, NULL, &o) != 0 && strstr(emsync_error(), "cut 1"));
    CHECK(count_entries(dir) == before);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    return check_report("test_api");
}
