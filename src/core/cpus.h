/* Number of online CPUs, at least 1: the default thread count of every parallel stage. */
#ifndef ES_CORE_CPUS_H
#define ES_CORE_CPUS_H

#include <unistd.h>

static inline int es_cpu_count(void)
{
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c > 0 ? (c > 4096 ? 4096 : (int)c) : 1;
}

#endif
