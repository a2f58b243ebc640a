/* Batch manifests and folders: CSV quoting and line numbers, JSON Lines value types, path
 * resolution against the manifest's folder, and the row errors that keep other rows running. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch/manifest.h"
#include "check.h"
#include "core/error.h"

static char dir[64];

static const char *write_file(const char *name, const char *text, size_t len)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    fwrite(text, 1, len, f);
    fclose(f);
    return path;
}

static int is_path(const char *name) { return !strcmp(name, "midi"); }

static const char *opt(const es_batch_row *r, const char *name)
{
    for (size_t i = 0; i < r->n_options; i++)
        if (!strcmp(r->options[i].name, name)) return r->options[i].value ? r->options[i].value : "(flag)";
    return NULL;
}

static void test_csv(void)
{
    const char text[] =
        "\xEF\xBB\xBFinput, output ,--seed,midi,emotion\r\n"
        "a.mp4,out/a.mp4,3,a.mid,\r\n"
        "\r\n"
        "# comment\n"
        "\"b, \"\"quoted\"\".mp4\",,,/abs/b.mid,joy\n"
        "\"multi\nline.mp4\",x.mp4,,,\n"
        "c.mp4,too,many,fields,here,now\n"
        "d.mp4,d.mp4,,,\n"
        "\"\xff.mp4\",,,,\n"
        "\"open.mp4,,,,\n";
    es_batch_list l;
    const char *path = write_file("list.csv", text, sizeof text - 1);
    CHECK(es_batch_read_manifest(path, is_path, &l) == 0);
    CHECK(l.n == 7);
    if (l.n != 7) return;
    char want[160];
    snprintf(want, sizeof want, "%s/a.mp4", dir);
    CHECK(l.rows[0].line == 2 && !strcmp(l.rows[0].input, want) && !l.rows[0].error);
    snprintf(want, sizeof want, "%s/out/a.mp4", dir);
    CHECK(!strcmp(l.rows[0].output, want));
    CHECK(opt(&l.rows[0], "seed") && !strcmp(opt(&l.rows[0], "seed"), "3"));
    snprintf(want, sizeof want, "%s/a.mid", dir);
    CHECK(opt(&l.rows[0], "midi") && !strcmp(opt(&l.rows[0], "midi"), want)); /* a path option */
    CHECK(opt(&l.rows[0], "emotion") == NULL);                              /* an empty cell */
    snprintf(want, sizeof want, "%s/b, \"quoted\".mp4", dir);
    CHECK(l.rows[1].line == 5 && !strcmp(l.rows[1].input, want) && l.rows[1].output == NULL);
    CHECK(!strcmp(opt(&l.rows[1], "midi"), "/abs/b.mid") && !strcmp(opt(&l.rows[1], "emotion"), "joy"));
    CHECK(l.rows[2].line == 6 && strstr(l.rows[2].input, "multi\nline.mp4"));
    CHECK(l.rows[3].line == 8 && l.rows[3].error && strstr(l.rows[3].error, "6 fields, but the header has 5"));
    CHECK(l.rows[4].line == 9 && !l.rows[4].error);
    CHECK(l.rows[5].line == 10 && l.rows[5].error && strstr(l.rows[5].error, "not valid UTF-8"));
    CHECK(l.rows[6].line == 11 && l.rows[6].error && strstr(l.rows[6].error, "not closed"));
    es_batch_list_free(&l);

    path = write_file("nohead.csv", "file,seed\nx.mp4,1\n", 18);
    CHECK(es_batch_read_manifest(path, is_path, &l) == -1 && strstr(es_error(), "no 'input' column"));
    path = write_file("blank.csv", "\n# only a comment\n", 18);
    CHECK(es_batch_read_manifest(path, is_path, &l) == -1 && strstr(es_error(), "no header row"));
    path = write_file("headonly.csv", "input,output\n", 13);
    CHECK(es_batch_read_manifest(path, is_path, &l) == -1 && strstr(es_error(), "no rows"));
    path = write_file("empty.csv", "", 0);
    CHECK(es_batch_read_manifest(path, is_path, &l) == -1 && strstr(es_error(), "empty manifest"));
    CHECK(es_batch_read_manifest(dir, is_path, &l) == -1 && strstr(es_error(), "not a folder or a manifest"));
}

static void test_jsonl(void)
{
    const char text[] =
        "{\"input\": \"a.mp4\", \"seed\": 7, \"valence\": -0.25, \"exact\": true, \"reference-boundaries\": false,"
        " \"emotion\": null, \"midi\": \"m.mid\"}\n"
        "\n"
        "{\"input\": \"b.mp4\", \"cuts\": [1, 2]}\n"
        "{\"input\": 3}\n"
        "[\"a.mp4\"]\n"
        "{\"input\": \"c.mp4\"\n"
        "{\"output\": \"d.mp4\"}\n";
    es_batch_list l;
    const char *path = write_file("list.jsonl", text, sizeof text - 1);
    CHECK(es_batch_read_manifest(path, is_path, &l) == 0);
    CHECK(l.n == 6);
    if (l.n != 6) return;
    const es_batch_row *r = &l.rows[0];
    CHECK(r->line == 1 && !r->error && r->n_options == 4);
    CHECK(!strcmp(opt(r, "seed"), "7") && !strcmp(opt(r, "valence"), "-0.25") && !strcmp(opt(r, "exact"), "1"));
    CHECK(opt(r, "reference-boundaries") == NULL && opt(r, "emotion") == NULL);
    CHECK(strstr(opt(r, "midi"), "/m.mid") && !strncmp(opt(r, "midi"), dir, strlen(dir)));
    CHECK(l.rows[1].line == 3 && l.rows[1].error && strstr(l.rows[1].error, "'cuts' must be a string, a number or a boolean"));
    CHECK(l.rows[2].line == 4 && l.rows[2].error && strstr(l.rows[2].error, "'input' must be a path"));
    CHECK(l.rows[3].line == 5 && l.rows[3].error && strstr(l.rows[3].error, "must be a JSON object"));
    CHECK(l.rows[4].line == 6 && l.rows[4].error && strstr(l.rows[4].error, "expected"));
    CHECK(l.rows[5].line == 7 && !l.rows[5].error && l.rows[5].input == NULL && l.rows[5].output);
    es_batch_list_free(&l);
}

static void test_folder(void)
{
    char sub[128];
    snprintf(sub, sizeof sub, "%s/videos", dir);
    mkdir(sub, 0777);
    const char *names[] = {"videos/b.MP4", "videos/a.mkv", "videos/a.emsync.mp4", "videos/.h.mp4", "videos/n.txt",
                           "videos/c.webm"};
    for (int i = 0; i < 6; i++) write_file(names[i], "x", 1);
    es_batch_list l;
    CHECK(es_batch_read_folder(sub, &l) == 0);
    CHECK(l.n == 3);
    if (l.n == 3) {
        CHECK(strstr(l.rows[0].input, "/a.mkv") && strstr(l.rows[1].input, "/b.MP4") && strstr(l.rows[2].input, "/c.webm"));
        CHECK(l.rows[0].line == 0 && !l.rows[0].error);
    }
    es_batch_list_free(&l);
    snprintf(sub, sizeof sub, "%s/none", dir);
    mkdir(sub, 0777);
    CHECK(es_batch_read_folder(sub, &l) == -1 && strstr(es_error(), "no video files"));
    CHECK(es_batch_is_video_name("x.MOV") && !es_batch_is_video_name("mp4") && !es_batch_is_video_name("x.mp3"));
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/es-batch-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    test_csv();
    test_jsonl();
    test_folder();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) return 1;
    return check_report("test_batch_manifest");
}
