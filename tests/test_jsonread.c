/* The JSON reader against hand-written cases: values, lines, escapes, and every way a hostile
 * text can be wrong. */
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/error.h"
#include "core/jsonread.h"

static es_jv *parse(const char *s) { return es_jv_parse(s, strlen(s)); }

/* 1 when s is refused with an error that contains `want`. */
static int refused(const char *s, const char *want)
{
    es_jv *v = parse(s);
    int ok = !v && strstr(es_error(), want);
    if (!ok) fprintf(stderr, "  for %s: got %s '%s'\n", s, v ? "a tree" : "error", es_error());
    es_jv_free(v);
    return ok;
}

static void test_values(void)
{
    es_jv *v = parse(" {\"a\": [1, -2.5e2, 0.125, true, false, null],\n \"b\": {\"c\": \"x\"},\n"
                     " \"a\": \"last\", \"esc\": \"q\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83c\\udfb5\"}\n");
    CHECK(v && v->type == ES_JV_OBJECT && v->n == 4);
    if (!v) return;
    CHECK(v->line == 1);
    const es_jv *a = &v->items[0];
    CHECK(a->type == ES_JV_ARRAY && a->n == 6);
    CHECK(a->items[0].number == 1 && a->items[1].number == -250 && a->items[2].number == 0.125);
    CHECK(a->items[3].type == ES_JV_BOOL && a->items[3].boolean == 1 && a->items[4].boolean == 0);
    CHECK(a->items[5].type == ES_JV_NULL);
    const es_jv *b = es_jv_get(v, "b");
    CHECK(b && b->line == 2 && es_jv_get(b, "c") && !strcmp(es_jv_get(b, "c")->string, "x"));
    /* a repeated key: the last one counts */
    CHECK(es_jv_get(v, "a")->type == ES_JV_STRING && !strcmp(es_jv_get(v, "a")->string, "last"));
    CHECK(!strcmp(es_jv_get(v, "esc")->string, "q\"\\/\b\f\n\r\t\xC3\xA9\xF0\x9F\x8E\xB5"));
    CHECK(es_jv_get(v, "missing") == NULL && es_jv_get(a, "a") == NULL);
    es_jv_free(v);

    v = parse("\xEF\xBB\xBF[]");
    CHECK(v && v->type == ES_JV_ARRAY && v->n == 0);
    es_jv_free(v);
    v = parse("\"caf\xC3\xA9\"");
    CHECK(v && !strcmp(v->string, "caf\xC3\xA9"));
    es_jv_free(v);
    v = parse("-0");
    CHECK(v && v->type == ES_JV_NUMBER && v->number == 0);
    es_jv_free(v);
}

static void test_refused(void)
{
    CHECK(refused("", "line 1: a value is missing"));
    CHECK(refused("  \n ", "line 2"));
    CHECK(refused("{\"a\": 1,\n\"b\" 2}", "line 2: ':' expected"));
    CHECK(refused("[1, 2", "',' or ']' expected"));
    CHECK(refused("[1,]", "not valid JSON"));
    CHECK(refused("{\"a\": 1,}", "an object key must be a string"));
    CHECK(refused("{'a': 1}", "an object key must be a string"));
    CHECK(refused("01", "text follows"));
    CHECK(refused("1.", "a number is malformed"));
    CHECK(refused("-", "a number is malformed"));
    CHECK(refused("1e999", "out of range"));
    CHECK(refused("NaN", "not valid JSON"));
    CHECK(refused("tru", "not valid JSON"));
    CHECK(refused("\"abc", "not closed"));
    CHECK(refused("\"a\\x\"", "unknown escape"));
    CHECK(refused("\"a\\u12\"", "\\u escape"));
    CHECK(refused("\"a\\u12x4\"", "not hexadecimal"));
    CHECK(refused("\"\\u0000\"", "\\u0000"));
    CHECK(refused("\"\\ud83c\"", "surrogate"));
    CHECK(refused("\"\\udfb5\"", "surrogate"));
    CHECK(refused("\"tab\there\"", "control character"));
    CHECK(refused("\"\xC3\"", "not valid UTF-8"));
    CHECK(refused("\"\xC0\xAF\"", "not valid UTF-8"));      /* overlong '/' */
    CHECK(refused("\"\xED\xA0\x80\"", "not valid UTF-8"));  /* a surrogate in UTF-8 */
    CHECK(refused("{} {}", "text follows"));
    char deep[200];
    memset(deep, '[', sizeof deep - 1);
    deep[sizeof deep - 1] = '\0';
    CHECK(refused(deep, "nested too deep"));
    /* 64 levels are fine */
    char ok[129];
    memset(ok, '[', 64);
    memset(ok + 64, ']', 64);
    ok[128] = '\0';
    es_jv *v = parse(ok);
    CHECK(v != NULL);
    es_jv_free(v);
    /* not NUL-terminated: the length is the end */
    v = es_jv_parse("[1]xyz", 3);
    CHECK(v && v->n == 1);
    es_jv_free(v);
}

static void test_file(void)
{
    char dir[] = "/tmp/es-jsonread-XXXXXX";
    if (!mkdtemp(dir)) { CHECK(0); return; }
    char path[256];
    snprintf(path, sizeof path, "%s/a.json", dir);
    FILE *f = fopen(path, "w");
    fputs("{\"k\": [1, 2, 3]}\n", f);
    fclose(f);
    es_jv *v = es_jv_parse_file(path, 1000);
    CHECK(v && es_jv_get(v, "k") && es_jv_get(v, "k")->n == 3);
    es_jv_free(v);
    CHECK(es_jv_parse_file(path, 10) == NULL && strstr(es_error(), "larger than 10 bytes"));
    CHECK(es_jv_parse_file(dir, 1000) == NULL && strstr(es_error(), "not a regular file"));
    f = fopen(path, "w");
    fclose(f);
    CHECK(es_jv_parse_file(path, 1000) == NULL && strstr(es_error(), "empty file"));
    f = fopen(path, "w");
    fputs("{\n\"k\": [1, 2\n", f);
    fclose(f);
    CHECK(es_jv_parse_file(path, 1000) == NULL && strstr(es_error(), "a.json: line 3"));
    remove(path);
    CHECK(es_jv_parse_file(path, 1000) == NULL && strstr(es_error(), "No such file"));
    rmdir(dir);
}

int main(void)
{
    test_values();
    test_refused();
    test_file();
    return check_report("test_jsonread");
}
