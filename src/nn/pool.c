/* Thread pool for the transformer kernels; see pool.h. */
#include "nn/pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/error.h"

#define POOL_MAX 16

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
    unsigned long generation;    /* bumped for each job */
    int pending;                 /* workers still running the current job */
    int quit;
};


static void *worker(void *v)
{
    es_pool *p = ((worker_arg *)v)->p;
    int part = ((worker_arg *)v)->part;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->generation == seen) pthread_cond_wait(&p->work, &p->mu);
        if (p->quit) break;
        seen = p->generation;
        es_pool_fn fn = p->fn;
        void *arg = p->arg;
        pthread_mutex_unlock(&p->mu);
        fn(arg, part, p->n);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

es_pool *es_pool_new(int n_threads)
{
    if (n_threads <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n_threads = c > 0 ? (int)c : 1;
    }
    if (n_threads > POOL_MAX) n_threads = POOL_MAX;
    es_pool *p = es_calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n = n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    return p;
}

/* Workers start lazily so that a pool made but never used costs nothing. */
static int pool_start(es_pool *p)
{
    for (int i = 1; i < p->n; i++) {
        p->args[i] = (worker_arg){p, i};
        if (pthread_create(&p->threads[i], NULL, worker, &p->args[i])) break;
        p->started = i;
    }
    /* fewer threads than asked: shrink the split instead of failing */
    p->n = p->started + 1;
    return 0;
}

int es_pool_size(const es_pool *p) { return p ? p->n : 1; }

void es_pool_run(es_pool *p, es_pool_fn fn, void *arg)
{
    if (!p || p->n == 1) {
        fn(arg, 0, 1);
        return;
    }
    if (!p->started) pool_start(p);
    if (p->n == 1) {
        fn(arg, 0, 1);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->arg = arg;
    p->pending = p->n - 1;
    p->generation++;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    fn(arg, 0, p->n);
    pthread_mutex_lock(&p->mu);
    while (p->pending) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void es_pool_free(es_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i <= p->started; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    free(p);
}
