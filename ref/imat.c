/* imat.c - llama-imatrix's statistics from the reference pass; see imat.h. */
#include "imat.h"

#include <string.h>

void ri_init(struct ri_collect *c, const struct qk_model *m, bool process_output)
{
	memset(c, 0, sizeof(*c));
	c->m = m;
	c->process_output = process_output;
}

void ri_free(struct ri_collect *c)
{
	if (!c)
		return;
	im_free(&c->f);
	memset(c, 0, sizeof(*c));
}

/* the binding whose view is w */
static const struct qk_binding *binding_of(const struct qk_model *m, const struct qk_view *w)
{
	for (size_t i = 0; i < m->n_bind; i++)
		if (&m->bind[i].view == w)
			return &m->bind[i];
	return NULL;
}

/* llama-imatrix's filter: "blk.*", and output.weight on request */
static bool wanted(const struct ri_collect *c, const char *name)
{
	return strncmp(name, "blk.", 4) == 0 ||
	       (c->process_output && strcmp(name, "output.weight") == 0);
}

/* the entry for name with n_mat matrices of cols columns (made on first use) */
static struct im_entry *entry(struct ri_collect *c, const char *name, size_t cols,
			      uint64_t n_mat)
{
	const struct im_entry *found = im_find(&c->f, name);
	struct im_entry *e = found ? &c->f.e[found - c->f.e] : NULL;

	if (!e) {
		c->rc = im_add(&c->f, name, cols, n_mat, &e, &c->err);
		return c->rc ? NULL : e;
	}
	if (e->n_cols != cols || e->n_mat != n_mat) {
		c->rc = qk_err_set(&c->err, QK_E_INVALID,
				   "imatrix: '%s' multiplied as %llu x %zu and as %llu x %zu", name,
				   (unsigned long long)e->n_mat, (size_t)e->n_cols,
				   (unsigned long long)n_mat, cols);
		return NULL;
	}
	return e;
}

void ri_on_matmul(void *user, const struct rf_mm *mm)
{
	struct ri_collect *c = user;
	const struct qk_binding *b = mm->b ? mm->b : binding_of(c->m, mm->w);
	uint64_t n_mat = 1, ex = 0;
	struct im_entry *e;

	if (c->rc || !b || !b->gguf_name[0] || !wanted(c, b->gguf_name))
		return;
	/* a row range of a stacked expert tensor: expert row0 / n_rows */
	if (mm->w && mm->n_rows < mm->w->rows && mm->w->rows % mm->n_rows == 0 &&
	    mm->row0 % mm->n_rows == 0) {
		n_mat = mm->w->rows / mm->n_rows;
		ex = mm->row0 / mm->n_rows;
	}
	if (c->prev_name && strcmp(c->prev_name, b->gguf_name) == 0 && c->prev_x == mm->x &&
	    c->prev_T == mm->T && c->prev_e == ex)
		return; /* one fused weight, several views: one multiply in llama.cpp */
	if (!(e = entry(c, b->gguf_name, mm->cols, n_mat)))
		return;
	float *acc = e->sums + ex * mm->cols;  /* [cols] */

	for (size_t t = 0; t < mm->T; t++) {
		const float *x = mm->x + t * mm->cols;

		for (size_t j = 0; j < mm->cols; j++)
			acc[j] += x[j] * x[j];
	}
	e->counts[ex] += (int64_t)mm->T;
	c->prev_name = e->name;
	c->prev_x = mm->x;
	c->prev_T = mm->T;
	c->prev_e = ex;
}
