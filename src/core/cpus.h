/* Number of threads each parallel stage may use: $EMSYNC_THREADS when set (1..4096; a batch
 * gives each of its jobs a share of the cores this way), else the CPUs this process may run on
 * (its affinity mask, which taskset, cgroup cpusets and cluster schedulers narrow), at least 1.
 * Counting every online CPU instead oversubscribes a bound process: the transformer's pool spins
 * for its workers, and 60 s of music took 5.0 s instead of 0.7 s pinned to one of two cores. */
#ifndef ES_CORE_CPUS_H
#define ES_CORE_CPUS_H

#include <sched.h>
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
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n > 4096 ? 4096 : n;
    }
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c > 0 ? (c > 4096 ? 4096 : (int)c) : 1;
}

#endif
