/* Thread pool for the transformer kernels; see pool.h. Jobs come in quick succession during
 * decoding (about 50 per token), so a worker spins briefly for the next job before it sleeps,
 * and the caller spins briefly for the workers before it sleeps: the wake-up latency of a
 * condition variable would otherwise dominate small kernels. */
#include "nn/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "core/error.h"
#include "core/cpus.h"

#define POOL_MAX 16
#define SPIN_LIMIT 2000     /* polls (a few microseconds) before sleeping */

typedef struct es_pool es_pool_t;
typedef struct { es_pool_t *p; int part; } worker_arg;

struct es_pool {
    worker_arg args[POOL_MAX];
    int n;                       /* parts per job, workers = n - 1 */
    pthread_t threads[POOL_MAX];
    int started;
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    es_pool_fn fn;
    void *arg;
    atomic_ulong generation;     /* bumped for each job */
    atomic_int pending;          /* workers still running the current job */
    atomic_int quit;
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *worker(void *v)
{
    es_pool *p = ((worker_arg *)v)->p;
    int part = ((worker_arg *)v)->part;
    unsigned long seen = 0;
    for (;;) {
        unsigned long g = 0;
        for (int i = 0; i < SPIN_LIMIT; i++) {
            g = atomic_load_explicit(&p->generation, memory_order_acquire);
            if (g != seen || atomic_load(&p->quit)) break;
            cpu_relax();
        }
        if (g == seen && !atomic_load(&p->quit)) {
            pthread_mutex_lock(&p->mu);
            while (atomic_load(&p->generation) == seen && !atomic_load(&p->quit)) pthread_cond_wait(&p->work, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->quit)) break;
        seen = atomic_load_explicit(&p->generation, memory_order_acquire);
        p->fn(p->arg, part, p->n);
        if (atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
    return NULL;
}

es_pool *es_pool_new(int n_threads)
{
    if (n_threads <= 0) n_threads = es_cpu_count();
    if (n_threads > POOL_MAX) n_threads = POOL_MAX;
    es_pool *p = es_calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n = n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_init(&p->generation, 0);
    atomic_init(&p->pending, 0);
    atomic_init(&p->quit, 0);
    return p;
}

/* Workers start on the first job so that a pool made but never used costs nothing; if fewer
 * threads start than asked, jobs are split fewer ways instead of failing. */
static void pool_start(es_pool *p)
{
    for (int i = 1; i < p->n; i++) {
        p->args[i] = (worker_arg){p, i};
        if (pthread_create(&p->threads[i], NULL, worker, &p->args[i])) break;
        p->started = i;
    }
    p->n = p->started + 1;
}

int es_pool_size(const es_pool *p) { return p ? p->n : 1; }

void es_pool_run(es_pool *p, es_pool_fn fn, void *arg)
{
    if (p && p->n > 1 && !p->started) pool_start(p);
    if (!p || p->n == 1) {
        fn(arg, 0, 1);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    atomic_store_explicit(&p->pending, p->n - 1, memory_order_relaxed);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    fn(arg, 0, p->n);
    for (int i = 0; i < SPIN_LIMIT && atomic_load_explicit(&p->pending, memory_order_acquire); i++) cpu_relax();
    if (atomic_load_explicit(&p->pending, memory_order_acquire)) {
        pthread_mutex_lock(&p->mu);
        while (atomic_load(&p->pending)) pthread_cond_wait(&p->done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}

void es_pool_free(es_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->quit, 1);
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i <= p->started; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    free(p);
}
