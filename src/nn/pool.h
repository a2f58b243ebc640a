/* A tiny fixed thread pool for splitting one kernel over the cores: the caller's thread takes
 * part 0 and the workers the rest, and es_pool_run returns when all parts are done. Workers
 * sleep on a condition variable between jobs, so an idle pool costs no CPU. */
#ifndef ES_POOL_H
#define ES_POOL_H

typedef struct es_pool es_pool;

/* fn(arg, part, parts) is called once for each part in [0, parts). */
typedef void (*es_pool_fn)(void *arg, int part, int parts);

/* Creates a pool running jobs on n_threads threads in total (the caller's included); n_threads
 * <= 0 means one per online CPU (at most 16). Returns NULL on failure (es_fail set). Free with
 * es_pool_free. Not for use by several threads at once. */
es_pool *es_pool_new(int n_threads);

/* Number of parts each job is split into. */
int es_pool_size(const es_pool *p);

/* Runs fn over all parts and waits for them. A NULL pool runs the single part inline. */
void es_pool_run(es_pool *p, es_pool_fn fn, void *arg);

/* Stops and joins the workers. Safe on NULL. */
void es_pool_free(es_pool *p);

#endif
