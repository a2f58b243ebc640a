/* Parser for generator input cases; see case.h. */
#include "nn/case.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "core/parse.h"

#define CASE_MAX_BYTES (1 << 20)
#define CASE_MAX_TOKENS 65536

static int parse_value(const char *s, double *v)
{
    if (!strcasecmp(s, "nan")) { *v = NAN; return 0; }
    return es_parse_double(s, v);
}

/* Splits line in place into at most max whitespace-separated words. */
static int split(char *line, char **words, int max)
{
    int n = 0;
    for (char *save = NULL, *w = strtok_r(line, " \t\r", &save); w; w = strtok_r(NULL, " \t\r", &save)) {
        if (n == max) return max + 1;
        words[n++] = w;
    }
    return n;
}

int es_nn_case_load(const char *path, es_nn_case *c)
{
    int rc = -1;
    char *text = NULL, **words = NULL;
    memset(c, 0, sizeof *c);
    FILE *f = fopen(path, "rb");
    if (!f) return es_fail("%s: cannot open case file", path);
    text = es_malloc(CASE_MAX_BYTES + 1);
    words = es_malloc((CASE_MAX_TOKENS + 1) * sizeof *words);
    if (!text || !words) goto end;
    size_t len = fread(text, 1, CASE_MAX_BYTES + 1, f);
    if (len > CASE_MAX_BYTES) { es_fail("%s: case file too large", path); goto end; }
    text[len] = 0;
    if (memchr(text, 0, len)) { es_fail("%s: not a text file", path); goto end; }
    char *lines[4] = {0}, *p = text;
    for (int i = 0; i < 4; i++) {
        if (!*p) { es_fail("%s: expected 4 lines (comment, tokens, valence arousal, offsets)", path); goto end; }
        lines[i] = p;
        char *nl = strchr(p, '\n');
        if (nl) { *nl = 0; p = nl + 1; } else p += strlen(p);
    }
    int n = split(lines[1], words, CASE_MAX_TOKENS);
    if (n < 1 || n > CASE_MAX_TOKENS) { es_fail("%s:2: expected 1..%d token ids", path, CASE_MAX_TOKENS); goto end; }
    c->n = n;
    c->tokens = es_malloc((size_t)n * sizeof *c->tokens);
    c->deltas = es_malloc((size_t)n * sizeof *c->deltas);
    if (!c->tokens || !c->deltas) goto end;
    for (int i = 0; i < n; i++) {
        long v;
        if (es_parse_long(words[i], 0, 1010, &v)) { es_fail("%s:2: bad token id '%.20s'", path, words[i]); goto end; }
        c->tokens[i] = (int)v;
    }
    if (split(lines[2], words, 2) != 2 || parse_value(words[0], &c->valence) || parse_value(words[1], &c->arousal)) {
        es_fail("%s:3: expected 'valence arousal' (numbers or nan)", path);
        goto end;
    }
    if (split(lines[3], words, n) != n) { es_fail("%s:4: expected %d offsets, one per token", path, n); goto end; }
    for (int i = 0; i < n; i++) {
        double v;
        if (es_parse_double(words[i], &v)) { es_fail("%s:4: bad offset '%.20s'", path, words[i]); goto end; }
        c->deltas[i] = (float)v;
    }
    rc = 0;
end:
    if (rc) es_nn_case_free(c);
    free(words);
    free(text);
    fclose(f);
    return rc;
}

void es_nn_case_free(es_nn_case *c)
{
    free(c->tokens);
    free(c->deltas);
    memset(c, 0, sizeof *c);
}
