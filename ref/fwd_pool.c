/* fwd_pool.c - see fwd_pool.h. One job at a time: the caller publishes it
 * under the mutex with a new generation number, every worker runs its range
 * and counts itself done; the caller runs range 0 and waits for the count. */
#include "fwd_pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct rf_worker {
	struct rf_pool *pool;
	unsigned tid;
};

struct rf_pool {
	unsigned n;                 /* team size, caller included */
	pthread_t *threads;         /* [n - 1] */
	struct rf_worker *workers;  /* [n - 1] */
	unsigned started;           /* threads running */
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	unsigned long gen;          /* job number */
	unsigned pending;           /* workers still on the current job */
	bool quit;
	rf_task_fn fn;
	void *arg;
	size_t n_items;
};

static void range_of(size_t n, unsigned parts, unsigned i, size_t *b, size_t *e)
{
	const size_t q = n / parts, r = n % parts;

	*b = (size_t)i * q + (i < r ? i : r);
	*e = *b + q + (i < r ? 1 : 0);
}

static void *worker_main(void *a)
{
	struct rf_worker *w = a;
	struct rf_pool *p = w->pool;
	unsigned long seen = 0;

	for (;;) {
		rf_task_fn fn;
		void *arg;
		size_t n, b, e;

		pthread_mutex_lock(&p->mu);
		while (!p->quit && p->gen == seen)
			pthread_cond_wait(&p->go, &p->mu);
		if (p->quit) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		seen = p->gen;
		fn = p->fn;
		arg = p->arg;
		n = p->n_items;
		pthread_mutex_unlock(&p->mu);

		range_of(n, p->n, w->tid, &b, &e);
		if (b < e)
			fn(arg, b, e, w->tid);

		pthread_mutex_lock(&p->mu);
		if (--p->pending == 0)
			pthread_cond_signal(&p->done);
		pthread_mutex_unlock(&p->mu);
	}
}

int rf_pool_open(struct rf_pool **out, unsigned n_threads, qk_err *err)
{
	struct rf_pool *p;

	*out = NULL;
	if (n_threads < 1 || n_threads > RF_MAX_THREADS)
		return qk_err_set(err, QK_E_USAGE, "thread count %u is out of range 1..%u",
				  n_threads, RF_MAX_THREADS);
	p = calloc(1, sizeof(*p));
	if (!p)
		return qk_err_set(err, QK_E_NOMEM, "out of memory starting %u threads", n_threads);
	p->n = n_threads;
	if (n_threads > 1) {
		p->threads = calloc(n_threads - 1, sizeof(*p->threads));
		p->workers = calloc(n_threads - 1, sizeof(*p->workers));
		if (!p->threads || !p->workers) {
			free(p->threads);
			free(p->workers);
			free(p);
			return qk_err_set(err, QK_E_NOMEM, "out of memory starting %u threads",
					  n_threads);
		}
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->go, NULL);
	pthread_cond_init(&p->done, NULL);
	for (unsigned i = 1; i < n_threads; i++) {
		p->workers[i - 1].pool = p;
		p->workers[i - 1].tid = i;
		if (pthread_create(&p->threads[i - 1], NULL, worker_main, &p->workers[i - 1])) {
			rf_pool_close(p);
			return qk_err_set(err, QK_E_IO, "cannot start thread %u of %u", i + 1,
					  n_threads);
		}
		p->started++;
	}
	*out = p;
	return QK_OK;
}

unsigned rf_pool_size(const struct rf_pool *p)
{
	return p->n;
}

void rf_pool_run(struct rf_pool *p, rf_task_fn fn, void *arg, size_t n)
{
	size_t b, e;

	if (p->n == 1) {
		if (n)
			fn(arg, 0, n, 0);
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->fn = fn;
	p->arg = arg;
	p->n_items = n;
	p->pending = p->n - 1;
	p->gen++;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);

	range_of(n, p->n, 0, &b, &e);
	if (b < e)
		fn(arg, b, e, 0);

	pthread_mutex_lock(&p->mu);
	while (p->pending)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

void rf_pool_close(struct rf_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = true;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->started; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->go);
	pthread_cond_destroy(&p->done);
	free(p->threads);
	free(p->workers);
	free(p);
}
