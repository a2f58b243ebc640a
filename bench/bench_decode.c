/* Speed and memory of the one-pass analysis decode: for each video argument, times
 * es_media_analyze (video stats, scene scores and audio blocks, as the score command runs it)
 * and prints a markdown table row: file, wall seconds, frames, frames per second, real-time
 * factor (video seconds per wall second), and the process's peak resident memory so far.
 * Usage: bench_decode [--header] VIDEO...   (--header prints the table header first) */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "core/error.h"
#include "core/progress.h"
#include "media/decode.h"

int main(int argc, char **argv)
{
    int first = 1, status = 0;
    if (argc > 1 && strcmp(argv[1], "--header") == 0) {
        printf("| video | wall s | frames | frames/s | x real time | peak RSS MiB |\n");
        printf("|---|---:|---:|---:|---:|---:|\n");
        first = 2;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: bench_decode [--header] VIDEO...\n");
        return 2;
    }
    for (int i = first; i < argc; i++) {
        es_media_analysis a;
        es_decode_options opt = {.want_audio = 1};
        double t0 = es_now();
        if (es_media_analyze(argv[i], &opt, &a) < 0) {
            fprintf(stderr, "%s\n", es_error());
            status = 1;
            continue;
        }
        double wall = es_now() - t0;
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        const char *name = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];
        printf("| %s | %.3f | %zu | %.1f | %.1f | %.1f |\n", name, wall, a.n_frames, a.n_frames / wall,
               a.info.duration / wall, ru.ru_maxrss / 1024.0);
        es_media_analysis_free(&a);
    }
    return status;
}
