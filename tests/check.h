/* Minimal test helpers: each test program counts its checks and exits non-zero on any failure.
 * A failed check prints file, line, and the values involved. */
#ifndef ES_CHECK_H
#define ES_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int check_count, check_failed;

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        check_count++;                                                                     \
        if (!(cond)) {                                                                     \
            check_failed++;                                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);        \
        }                                                                                  \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                              \
    do {                                                                                   \
        double check_a_ = (a), check_b_ = (b);                                             \
        check_count++;                                                                     \
        if (!(fabs(check_a_ - check_b_) <= (tol))) {                                       \
            check_failed++;                                                                \
            fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %.9g, %s = %.9g (tol %g)\n",    \
                    __FILE__, __LINE__, #a, check_a_, #b, check_b_, (double)(tol));        \
        }                                                                                  \
    } while (0)

/* Directory of generated test data (clips made by tests/gen-data.sh), from $ES_TEST_DATA. */
static inline const char *test_data_dir(void)
{
    const char *d = getenv("ES_TEST_DATA");
    return d ? d : "build/testdata";
}

/* 1 when the files at a and b both open and hold the same bytes. */
static inline int check_same_bytes(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        same = ca == cb;
        if (ca == EOF) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

/* Prints the summary line and returns the exit status for main. */
static inline int check_report(const char *name)
{
    fprintf(stderr, "%s: %d checks, %d failed\n", name, check_count, check_failed);
    return check_failed ? 1 : 0;
}

#endif
