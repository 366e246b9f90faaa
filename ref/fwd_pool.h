/* fwd_pool.h - a fixed team of threads for the forward pass (private to ref/).
 *
 * rf_pool_run(p, fn, arg, n) splits the items [0, n) into rf_pool_size(p)
 * contiguous ranges, range i going to thread i (the caller is thread 0), and
 * returns when every range is done. The split depends only on n and the team
 * size, and callers only ever give one item (one output element, row, head)
 * to one thread, so results never depend on timing (ref/README.md, rule 5).
 *
 * A task cannot fail through the pool: tasks that can fail record their error
 * in their own argument, per thread.
 */
#ifndef RF_FWD_POOL_H
#define RF_FWD_POOL_H

#include <stddef.h>

#include "../formats/base/err.h"

#define RF_MAX_THREADS 256

struct rf_pool;

/* fn handles items [begin, end) as thread tid (0 .. size-1) */
typedef void (*rf_task_fn)(void *arg, size_t begin, size_t end, unsigned tid);

/* n_threads 1 .. RF_MAX_THREADS (1: no threads are started). QK_E_USAGE for
 * a count out of range, QK_E_NOMEM or QK_E_IO when threads cannot start. */
int rf_pool_open(struct rf_pool **p, unsigned n_threads, qk_err *err);
unsigned rf_pool_size(const struct rf_pool *p);
void rf_pool_run(struct rf_pool *p, rf_task_fn fn, void *arg, size_t n);
/* Stops and joins the threads; accepts NULL. */
void rf_pool_close(struct rf_pool *p);

#endif
