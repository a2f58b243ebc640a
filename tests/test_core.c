/* Core helpers: checked parsing, JSON escaping, temp-and-rename outputs, same-file detection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/error.h"
#include "core/json.h"
#include "core/outfile.h"
#include "core/parse.h"

static void test_parse(void)
{
    double d;
    long l;
    CHECK(es_parse_double("1.5", &d) == 0 && d == 1.5);
    CHECK(es_parse_double("-0.25", &d) == 0 && d == -0.25);
    CHECK(es_parse_double("", &d) != 0);
    CHECK(es_parse_double("1.5x", &d) != 0);
    CHECK(es_parse_double("nan", &d) != 0);
    CHECK(es_parse_double("inf", &d) != 0);
    CHECK(es_parse_double("1e999", &d) != 0);
    CHECK(es_parse_long("42", 0, 100, &l) == 0 && l == 42);
    CHECK(es_parse_long("101", 0, 100, &l) != 0);
    CHECK(es_parse_long("4 2", 0, 100, &l) != 0);

    double *t = NULL;
    size_t n = 0;
    CHECK(es_parse_time_list("12,5,5,17.5", &t, &n) == 0);
    CHECK(n == 3 && t && t[0] == 5 && t[1] == 12 && t[2] == 17.5);
    free(t);
    CHECK(es_parse_time_list("a,b", &t, &n) != 0 && strstr(es_error(), "'a'"));
    CHECK(es_parse_time_list("3,-1", &t, &n) != 0);
    CHECK(es_parse_time_list("", &t, &n) == 0 && n == 0);
    free(t);
}

static void test_json(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    es_json j;
    es_json_init(&j, f, 0);
    es_json_begin_object(&j);
    es_json_kv_string(&j, "name", "a\"b\\c\n");
    es_json_key(&j, "list");
    es_json_begin_array(&j);
    es_json_number(&j, 1.5);
    es_json_number(&j, 0.0 / 0.0);
    es_json_int(&j, -3);
    es_json_end_array(&j);
    es_json_key(&j, "empty");
    es_json_begin_object(&j);
    es_json_end_object(&j);
    es_json_end_object(&j);
    fclose(f);
    CHECK(strcmp(buf, "{\"name\":\"a\\\"b\\\\c\\n\",\"list\":[1.5,null,-3],\"empty\":{}}") == 0);
    if (check_failed) fprintf(stderr, "json: %s\n", buf);
    free(buf);
}

static void test_outfile(void)
{
    char dir[] = "/tmp/es-test-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char final[256], link_path[256], other[256];
    snprintf(final, sizeof final, "%s/out.mp4", dir);
    es_outfile o;
    CHECK(es_outfile_open(&o, final) == 0);
    CHECK(strstr(o.temp_path, ".mp4") != NULL);
    CHECK(write(o.fd, "abc", 3) == 3);
    CHECK(!es_path_exists(final));
    CHECK(es_outfile_commit(&o) == 0);
    CHECK(es_path_exists(final));

    /* abort removes the temp file and leaves the existing output alone */
    CHECK(es_outfile_open(&o, final) == 0);
    char temp_copy[512];
    snprintf(temp_copy, sizeof temp_copy, "%s", o.temp_path);
    es_outfile_abort(&o);
    CHECK(!es_path_exists(temp_copy));
    CHECK(es_path_exists(final));

    snprintf(link_path, sizeof link_path, "%s/link.mp4", dir);
    CHECK(symlink(final, link_path) == 0);
    CHECK(es_same_file(final, link_path));
    snprintf(other, sizeof other, "%s/./out.mp4", dir);
    CHECK(es_same_file(final, other));
    CHECK(!es_same_file(final, "/nonexistent/x"));

    snprintf(other, sizeof other, "%s/missing/out.mp4", dir);
    CHECK(es_outfile_open(&o, other) != 0 && strstr(es_error(), "missing/out.mp4"));

    char *p = es_derive_path(NULL, "some/dir/clip.final.mov", ".emsync.mov");
    CHECK(p && strcmp(p, "clip.final.emsync.mov") == 0);
    free(p);
    char ext[16];
    es_path_ext("a/b.MKV", ext, sizeof ext);
    CHECK(strcmp(ext, "mkv") == 0);

    unlink(link_path);
    unlink(final);
    rmdir(dir);
}

int main(void)
{
    test_parse();
    test_json();
    test_outfile();
    return check_report("test_core");
}
