/* Number of threads each parallel stage may use: $EMSYNC_THREADS when set (1..4096; a batch
 * gives each of its jobs a share of the cores this way), else the online CPUs, at least 1. */
#ifndef ES_CORE_CPUS_H
#define ES_CORE_CPUS_H

#include <stdlib.h>
#include <unistd.h>

/* $EMSYNC_THREADS as a number in 1..4096, or 0 when unset or not such a number. */
static inline int es_thread_limit(void)
{
    const char *s = getenv("EMSYNC_THREADS");
    if (!s || !*s) return 0;
    char *end;
    long n = strtol(s, &end, 10);
    return *end || n < 1 || n > 4096 ? 0 : (int)n;
}

static inline int es_cpu_count(void)
{
    int limit = es_thread_limit();
    if (limit) return limit;
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c > 0 ? (c > 4096 ? 4096 : (int)c) : 1;
}

#endif
