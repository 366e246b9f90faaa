/* plan_write.c - stream a plan's tensor data into a GGUF writer; see plan.h.
 *
 * A tensor goes out in chunks of whole rows. Each row is produced on its
 * own: copied as raw bytes when the source row already has the target type,
 * else read as fp32 (one row buffer per thread) and converted with the
 * target type's quantize function straight into the chunk's output buffer.
 * Threads split a chunk's rows into contiguous ranges; a row's bytes depend
 * only on the row, so the file is the same for any thread count. After a
 * chunk is written, the source pages of its rows are released, so the
 * resident set stays at the chunk buffers whatever the model's size.
 */
#include "plan.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../../quant/qtype.h"
#include "../base/io.h"
#include "../container/pq.h"

#define DEFAULT_CHUNK_BYTES (4u << 20)
#define MAX_THREADS 256u

/* one chunk of one tensor */
struct job {
	const struct wp_tensor *t;
	const struct qt_type *q;
	uint64_t row0, n_rows;     /* tensor rows of the chunk */
	uint64_t out_row;          /* output bytes per row */
	uint8_t *out;              /* [n_rows * out_row] */
	bool raw;                  /* copy source row bytes */
	bool check;                /* refuse non-finite values (model.h) */
};

/* per-thread state */
struct part {
	float *row;                /* [cols capacity] fp32 row */
	uint64_t cap;
	uint64_t overflow;         /* finite -> inf in F16, this chunk */
	int rc;
	qk_err err;
};

struct pool {
	unsigned n;                /* parts, including the calling thread's part 0 */
	struct part *parts;        /* [n] */
	pthread_t *th;             /* [n - 1] workers for parts 1 .. n-1 */
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	unsigned long gen;         /* job generation */
	unsigned pending;          /* workers still busy with gen */
	bool quit;
	bool sync_ok;              /* mutex and conds initialised */
	size_t started;            /* workers running */
	const struct job *job;
};

/* rows [a, b) of the job, by part k */
static void run_part(const struct job *j, struct part *pt, uint64_t a, uint64_t b)
{
	const struct wp_tensor *t = j->t;
	const struct qk_binding *bd = t->b;

	pt->overflow = 0;
	pt->rc = QK_OK;
	for (uint64_t r = a; r < b; r++) {
		uint8_t *dst = j->out + (r - j->row0) * j->out_row;
		const float *x;
		uint64_t at;

		if (j->raw && j->check) {
			/* F32/F16/BF16 copied as they are: checked by their bits; a
			 * row with a non-finite value is read below for the message */
			const uint8_t *src = qk_view_row_data(&bd->view, r, NULL);

			if (src && qk_first_nonfinite_raw(t->type, src, t->cols, &at) == 0) {
				memcpy(dst, src, (size_t)j->out_row);
				continue;
			}
		}
		if (bd->f32) {
			x = bd->f32 + r * t->cols;
		} else if (!j->raw || j->check) {
			pt->rc = qk_view_read_row(&bd->view, r, pt->row, &pt->err);
			if (pt->rc)
				return;
			x = pt->row;
		} else {
			x = NULL;
		}
		if (j->check && qk_first_nonfinite(x, t->cols, &at)) {
			pt->rc = qk_err_nonfinite(&pt->err, t->name, t->rows, t->cols, r, at, x[at]);
			return;
		}
		if (j->raw) {
			memcpy(dst, qk_view_row_data(&bd->view, r, NULL), (size_t)j->out_row);
			continue;
		}
		qt_quantize_row(j->q, x, dst, (int64_t)t->cols,
				t->qw ? t->qw + r / t->qw_rows * t->cols : NULL);
		if (t->type == QT_F16)
			for (uint64_t c = 0; c < t->cols; c++)
				if (isfinite(x[c]) && (qk_ld16(dst + 2 * c) & 0x7fffu) == 0x7c00u)
					pt->overflow++;
	}
}

static void split(const struct job *j, unsigned n, unsigned k, uint64_t *a, uint64_t *b)
{
	uint64_t per = j->n_rows / n, extra = j->n_rows % n;

	*a = j->row0 + k * per + (k < extra ? k : extra);
	*b = *a + per + (k < extra);
}

/* the worker needs its pool and its index */
struct wctx {
	struct pool *pl;
	unsigned k;
};

static void *worker_main(void *arg)
{
	struct wctx *w = arg;
	struct pool *pl = w->pl;
	unsigned long seen = 0;

	for (;;) {
		uint64_t a, b;

		pthread_mutex_lock(&pl->mu);
		while (!pl->quit && pl->gen == seen)
			pthread_cond_wait(&pl->go, &pl->mu);
		if (pl->quit) {
			pthread_mutex_unlock(&pl->mu);
			return NULL;
		}
		seen = pl->gen;
		pthread_mutex_unlock(&pl->mu);
		split(pl->job, pl->n, w->k, &a, &b);
		run_part(pl->job, &pl->parts[w->k], a, b);
		pthread_mutex_lock(&pl->mu);
		if (--pl->pending == 0)
			pthread_cond_signal(&pl->done);
		pthread_mutex_unlock(&pl->mu);
	}
}

static void pool_stop(struct pool *pl, struct wctx *w)
{
	if (pl->sync_ok) {
		pthread_mutex_lock(&pl->mu);
		pl->quit = true;
		pthread_cond_broadcast(&pl->go);
		pthread_mutex_unlock(&pl->mu);
		for (size_t i = 0; i < pl->started; i++)
			pthread_join(pl->th[i], NULL);
		pthread_cond_destroy(&pl->go);
		pthread_cond_destroy(&pl->done);
		pthread_mutex_destroy(&pl->mu);
	}
	for (unsigned i = 0; pl->parts && i < pl->n; i++)
		free(pl->parts[i].row);
	free(pl->parts);
	free(pl->th);
	free(w);
	memset(pl, 0, sizeof(*pl));
}

static int pool_start(struct pool *pl, struct wctx **wout, unsigned n, qk_err *err)
{
	struct wctx *w = NULL;

	memset(pl, 0, sizeof(*pl));
	*wout = NULL;
	pl->n = n ? (n > MAX_THREADS ? MAX_THREADS : n) : 1;
	pl->parts = calloc(pl->n, sizeof(*pl->parts));
	if (!pl->parts)
		goto nomem;
	if (pl->n == 1)
		return QK_OK;
	pl->th = calloc(pl->n - 1, sizeof(*pl->th));
	w = calloc(pl->n, sizeof(*w));
	if (!pl->th || !w)
		goto nomem;
	if (pthread_mutex_init(&pl->mu, NULL)) {
		pl->n = 1; /* no sync objects: run single-threaded */
		free(w);
		return QK_OK;
	}
	pthread_cond_init(&pl->go, NULL);
	pthread_cond_init(&pl->done, NULL);
	pl->sync_ok = true;
	for (unsigned k = 1; k < pl->n; k++) {
		w[k].pl = pl;
		w[k].k = k;
		if (pthread_create(&pl->th[k - 1], NULL, worker_main, &w[k]))
			break; /* fewer threads: the split uses started + 1 parts */
		pl->started++;
	}
	pl->n = (unsigned)pl->started + 1;
	*wout = w;
	return QK_OK;
nomem:
	free(w);
	pool_stop(pl, NULL);
	return qk_err_set(err, QK_E_NOMEM, "out of memory starting %u converter threads", n);
}

/* run one job on every part; the first failing part's error wins */
static int pool_run(struct pool *pl, const struct job *j, uint64_t *overflow, qk_err *err)
{
	uint64_t a, b;

	if (pl->n > 1) {
		pthread_mutex_lock(&pl->mu);
		pl->job = j;
		pl->pending = pl->n - 1;
		pl->gen++;
		pthread_cond_broadcast(&pl->go);
		pthread_mutex_unlock(&pl->mu);
	}
	split(j, pl->n, 0, &a, &b);
	run_part(j, &pl->parts[0], a, b);
	if (pl->n > 1) {
		pthread_mutex_lock(&pl->mu);
		while (pl->pending)
			pthread_cond_wait(&pl->done, &pl->mu);
		pthread_mutex_unlock(&pl->mu);
	}
	for (unsigned k = 0; k < pl->n; k++) {
		*overflow += pl->parts[k].overflow;
		if (pl->parts[k].rc) {
			if (err)
				*err = pl->parts[k].err;
			return pl->parts[k].rc;
		}
	}
	return QK_OK;
}

/* give every part an fp32 row buffer of at least cols floats */
static int ensure_rows(struct pool *pl, uint64_t cols, qk_err *err)
{
	for (unsigned k = 0; k < pl->n; k++) {
		struct part *pt = &pl->parts[k];
		float *r;

		if (pt->cap >= cols)
			continue;
		if (cols > SIZE_MAX / sizeof(float) || !(r = realloc(pt->row, (size_t)cols * sizeof(float))))
			return qk_err_set(err, QK_E_NOMEM, "out of memory for a row of %llu values",
					  (unsigned long long)cols);
		pt->row = r;
		pt->cap = cols;
	}
	return QK_OK;
}

/* drop the pages of every part of a pre-quantized storage (pq.h): its rows
 * are read across the parts (GPTQ reads a column of words a row), so they
 * go once the matrix is done */
static void release_storage(const struct qk_model *m, const struct pq_store *s)
{
	const struct pq_part *parts[] = { &s->w, &s->scale, &s->zero, &s->gidx };

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		const struct qk_tensor *t = parts[i]->name && parts[i]->data
						    ? qk_catalog_find(m->cat, parts[i]->name) : NULL;

		if (t && t->data && t->file >= 0 && (size_t)t->file < m->cat->n_files)
			qk_map_evict(&m->cat->files[t->file], (size_t)t->offset, (size_t)t->nbytes);
	}
}

/* drop the source pages behind view rows [a, b) */
static void release_rows(const struct qk_model *m, const struct qk_view *v, uint64_t a, uint64_t b)
{
	for (size_t i = 0; i < v->n_pieces; i++) {
		const struct qk_piece *pc = &v->pieces[i];
		const qk_map *map;
		uint64_t lo = a > pc->start ? a : pc->start;
		uint64_t hi = b < pc->start + pc->n_rows ? b : pc->start + pc->n_rows;

		if (lo >= hi || pc->t->file < 0 || (size_t)pc->t->file >= m->cat->n_files)
			continue;
		if (pc->t->pq) {
			if (hi == pc->start + pc->n_rows)
				release_storage(m, pc->t->pq);
			continue;
		}
		map = &m->cat->files[pc->t->file];
		if (!map->data || pc->t->data < map->data)
			continue;
		qk_map_evict(map, (size_t)(pc->t->data - map->data) +
				      (size_t)((pc->row0 + lo - pc->start) * pc->row_bytes),
			       (size_t)((hi - lo) * pc->row_bytes));
	}
}

int wp_declare_tensors(const struct wp_plan *p, struct gf_writer *w, qk_err *err)
{
	int rc;

	for (size_t i = 0; i < p->n; i++)
		if ((rc = gf_writer_add_tensor(w, p->t[i].name, p->t[i].type, p->t[i].n_dims,
					       p->t[i].ne, err)))
			return rc;
	return QK_OK;
}

/* raw copy: every source row already holds the target type's bytes in
 * order (a view that reorders columns is read through qk_view_read_row) */
static bool raw_rows(const struct wp_tensor *t)
{
	for (size_t i = 0; !t->b->f32 && i < t->b->view.n_pieces; i++)
		if (t->b->view.pieces[i].t->pq)
			return false; /* read through its storage (pq.h) */
	return !t->b->f32 && t->src_type == t->type && !t->b->view.cperm_a &&
	       !t->b->view.transposed;
}

int wp_write_data(const struct wp_plan *p, struct gf_writer *w, const struct wp_write_opts *o,
		  struct wp_stats *st, qk_err *err)
{
	const size_t chunk = o && o->chunk_bytes ? o->chunk_bytes : DEFAULT_CHUNK_BYTES;
	const uint64_t total = wp_data_bytes(p);
	struct wp_stats s = { 0, -1, 0 };
	struct pool pl;
	struct wctx *wc;
	uint8_t *out = NULL;
	size_t out_cap = 0;
	int rc;

	if ((rc = pool_start(&pl, &wc, o ? o->n_threads : 1, err)))
		return rc;
	for (size_t i = 0; i < p->n; i++) {
		const struct wp_tensor *t = &p->t[i];
		struct job j = { t, qt_type_get(t->type), 0, 0, 0, NULL, raw_rows(t),
				 !(o && o->allow_nonfinite) };
		uint64_t per;

		if (!qt_has_quantizer(j.q) || !qt_row_bytes(j.q, t->cols, &j.out_row) || !j.out_row) {
			rc = qk_err_set(err, QK_E_USAGE, "tensor '%s': cannot write type %d", t->name,
					t->type);
			goto out;
		}
		if ((!j.raw || j.check) && (rc = ensure_rows(&pl, t->cols, err)))
			goto out;
		per = chunk / j.out_row ? chunk / j.out_row : 1;
		if (per > t->rows)
			per = t->rows;
		if (per * j.out_row > out_cap) {
			uint8_t *nb = realloc(out, (size_t)(per * j.out_row));

			if (!nb) {
				rc = qk_err_set(err, QK_E_NOMEM, "out of memory for a %llu-byte chunk",
						(unsigned long long)(per * j.out_row));
				goto out;
			}
			out = nb;
			out_cap = (size_t)(per * j.out_row);
		}
		j.out = out;
		for (uint64_t r0 = 0; r0 < t->rows; r0 += per) {
			uint64_t over = 0;

			j.row0 = r0;
			j.n_rows = t->rows - r0 < per ? t->rows - r0 : per;
			if ((rc = pool_run(&pl, &j, &over, err)))
				goto out;
			if (over && s.f16_first < 0)
				s.f16_first = (long)i;
			s.f16_overflow += over;
			if ((rc = gf_writer_write(w, out, (size_t)(j.n_rows * j.out_row), err)))
				goto out;
			if (!t->b->f32)
				release_rows(p->m, &t->b->view, r0, r0 + j.n_rows);
			s.bytes_done += j.n_rows * j.out_row;
			if (o && o->progress)
				o->progress(o->progress_ctx, s.bytes_done, total);
		}
	}
	rc = QK_OK;
out:
	pool_stop(&pl, wc);
	free(out);
	if (st)
		*st = s;
	return rc;
}
