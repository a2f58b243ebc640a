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

    /* a failure after the video was written (the JSON path is a directory) undoes everything */
    int before = count_entries(dir);
    snprintf(out, sizeof out, "%s/again.mp4", dir);
    CHECK(emsync_score(input, out, NULL, NULL, dir, NULL, &o, NULL) != 0);
    CHECK(strstr(emsync_error(), "directory") != NULL);
    CHECK(count_entries(dir) == before);
    /* a bad input names the file */
    CHECK(emsync_score("/nonexistent/clip.mp4", out, NULL, NULL, NULL, NULL, &o, NULL) != 0);
    CHECK(strstr(emsync_error(), "/nonexistent/clip.mp4") != NULL);
    CHECK(count_entries(dir) == before);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    return check_report("test_api");
}
