/* Progress reporting on stderr (see progress.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/progress.h"

static int quiet;
static int is_tty = -1;
static char stage[32];
static double stage_start, last_draw;
static int last_quarter;
static int line_open;  /* a bar is on screen without its newline */

double es_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void es_progress_quiet(int q) { quiet = q; }
int es_progress_is_quiet(void) { return quiet; }

static int tty(void)
{
    if (is_tty < 0) is_tty = isatty(STDERR_FILENO);
    return is_tty;
}

void es_progress_stage(const char *name)
{
    snprintf(stage, sizeof stage, "%s", name);
    stage_start = es_now();
    last_draw = 0;
    last_quarter = 0;
    if (quiet) return;
    if (!tty()) fprintf(stderr, "emsync: %s...\n", stage);
    else es_progress_update(0);
}

void es_progress_update(double f)
{
    if (quiet) return;
    if (!(f >= 0)) f = 0; /* NaN too */
    if (f > 1) f = 1;
    double now = es_now();
    if (tty()) {
        if (now - last_draw < 0.1 && f < 1) return;
        last_draw = now;
        int width = 30, filled = (int)(f * width);
        char bar[64];
        memset(bar, '#', (size_t)filled);
        memset(bar + filled, '-', (size_t)(width - filled));
        bar[width] = '\0';
        double elapsed = now - stage_start;
        if (f > 0.02 && f < 1) {
            double eta = elapsed * (1 - f) / f;
            fprintf(stderr, "\r%-10s [%s] %3d%%  ETA %4.0fs ", stage, bar, (int)(f * 100), eta);
        } else {
            fprintf(stderr, "\r%-10s [%s] %3d%%            ", stage, bar, (int)(f * 100));
        }
        line_open = 1;
    } else {
        int quarter = (int)(f * 4);
        if (quarter > last_quarter && quarter < 4) {
            last_quarter = quarter;
            fprintf(stderr, "emsync: %s %d%%\n", stage, quarter * 25);
        }
    }
}

void es_progress_done(void)
{
    if (quiet) return;
    double elapsed = es_now() - stage_start;
    if (tty()) {
        es_progress_update(1);
        fprintf(stderr, " %.1fs\n", elapsed);
        line_open = 0;
    } else {
        fprintf(stderr, "emsync: %s done (%.1f s)\n", stage, elapsed);
    }
}

void es_progress_end_line(void)
{
    if (!line_open) return;
    fputc('\n', stderr);
    line_open = 0;
}

void es_progress_note(const char *fmt, ...)
{
    if (quiet) return;
    es_progress_end_line();
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
