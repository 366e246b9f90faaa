/* vis_block.c - one vision block and the mergers (vis.h has the formulas).
 *
 * Norms (transformers' nn.LayerNorm and Qwen2_5_VLRMSNorm, fp32):
 *   LayerNorm: mu = sum(x) / n, d = x - mu, var = sum(d^2) / n,
 *     y = (d * (1 / sqrt(var + eps))) * w + b;
 *   RMSNorm: y = w * (x * (1 / sqrt(sum(x^2) / n + eps))) (rf_rmsnorm).
 * sum(x) runs in the canonical 8-lane order of dot.h (element i into lane
 * i mod 8, lanes folded by rf_dot_fold); sum(d^2) and sum(x^2) are canonical
 * dot products.
 * Attention (eager, no mask): per head, for query i of segment [s, e):
 *   p_j = softmax_j(q_i . k_j * d^-0.5), j in [s, e), o_i = sum_j p_j v_j,
 * max, exponentials, their sum and the weighted sum in key order.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mathfn.h"
#include "vis_priv.h"

int vis_linear(struct vis_ctx *c, const struct rf_vis_mat *m, const float *x, size_t T,
	       size_t n_in, size_t n_out, float *y, const char *what, int layer, qk_err *err)
{
	if (m->rows != n_out || m->w.cols != n_in || m->row0 > m->w.rows ||
	    m->rows > m->w.rows - m->row0) {
		if (layer >= 0)
			return qk_err_set(err, QK_E_INVALID, "vision block %d: %s: matrix [%llu x %llu], "
					  "expected [%zu x %zu]", layer, what,
					  (unsigned long long)m->rows,
					  (unsigned long long)m->w.cols, n_out, n_in);
		return qk_err_set(err, QK_E_INVALID, "vision %s: matrix [%llu x %llu], expected "
				  "[%zu x %zu]", what, (unsigned long long)m->rows,
				  (unsigned long long)m->w.cols, n_out, n_in);
	}
	return rf_matmul(&c->rc, &m->w, m->row0, n_out, m->b, x, T, y, err);
}

/* the canonical 8-lane sum of x[0..n) */
static float lane_sum(const float *x, size_t n)
{
	float s[8] = { 0 };

	for (size_t i = 0; i < n; i++)
		s[i % 8] = s[i % 8] + x[i];
	return rf_dot_fold(s);
}

/* rows x [T, n] -> y [T, n]: LayerNorm when b is set, else RMSNorm; d is
 * work space [n] */
static void norm_rows(const struct vis_ctx *c, const float *x, const float *w, const float *b,
		      size_t T, size_t n, float *y, float *d)
{
	const float eps = c->vm->hp.eps;

	for (size_t t = 0; t < T; t++) {
		const float *xt = x + t * n;
		float *yt = y + t * n;

		if (!b) {
			rf_rmsnorm(&c->rc, xt, w, n, eps, yt);
			continue;
		}
		const float mu = lane_sum(xt, n) / (float)n;

		for (size_t i = 0; i < n; i++)
			d[i] = xt[i] - mu;
		const float r = rf_rsqrtf(c->rc.dot.dot(d, d, n) / (float)n + eps);

		for (size_t i = 0; i < n; i++)
			yt[i] = d[i] * r * w[i] + b[i];
	}
}

/* ---- attention: threads split (head, query) items ---- */

struct va_task {
	struct vis_ctx *c;
	const float *q, *k, *v;  /* [N, E] each, working order */
	float *o;                /* [N, E] */
	const size_t *seg;       /* [n_seg + 1] boundaries */
	const size_t *seg_of;    /* [N] segment of each row */
	size_t N, E, hd;
	float scale;
};

static void va_items(void *arg, size_t b, size_t e, unsigned tid)
{
	const struct va_task *k = arg;
	struct rf_ctx *rc = &k->c->rc;
	float *s = rc->scratch + (size_t)tid * rc->scratch_per; /* [max_seg] */
	const size_t hd = k->hd, E = k->E;

	for (size_t it = b; it < e; it++) {
		const size_t h = it / k->N, i = it % k->N;
		const size_t s0 = k->seg[k->seg_of[i]], s1 = k->seg[k->seg_of[i] + 1];
		const float *qi = k->q + i * E + h * hd;
		float *oi = k->o + i * E + h * hd;
		float mx = -INFINITY, sum = 0.0f;

		for (size_t j = s0; j < s1; j++) {
			s[j - s0] = rc->dot.dot(qi, k->k + j * E + h * hd, hd) * k->scale;
			mx = s[j - s0] > mx ? s[j - s0] : mx;
		}
		for (size_t j = s0; j < s1; j++) {
			s[j - s0] = rf_expf(s[j - s0] - mx);
			sum = sum + s[j - s0];
		}
		for (size_t d = 0; d < hd; d++)
			oi[d] = 0.0f;
		for (size_t j = s0; j < s1; j++) {
			const float p = s[j - s0] / sum;
			const float *vj = k->v + j * E + h * hd;

			for (size_t d = 0; d < hd; d++)
				oi[d] = oi[d] + p * vj[d];
		}
	}
}

static int attention(struct vis_ctx *c, int l, const float *a, float *y, float *att,
		     qk_err *err)
{
	const struct rf_vis_hparams *hp = &c->vm->hp;
	const struct rf_vis_block *bk = &c->vm->blk[l];
	const struct vis_grid *g = c->g;
	const size_t N = g->n_patch, E = hp->n_embd, hd = E / hp->n_head;
	float *q = att, *k = att + N * E, *v = att + 2 * N * E; /* [N, E] each */
	const bool windowed = hp->kind == RF_VIS_QWEN25VL && !hp->full[l];
	const size_t *seg = windowed ? g->seg_win : g->seg_full;
	const size_t n_seg = windowed ? g->n_win : g->n_full;
	size_t *seg_of;
	struct va_task tk;
	int rc;

	if ((rc = vis_linear(c, &bk->q, a, N, E, E, q, "attn q", l, err)) ||
	    (rc = vis_linear(c, &bk->k, a, N, E, E, k, "attn k", l, err)) ||
	    (rc = vis_linear(c, &bk->v, a, N, E, E, v, "attn v", l, err)))
		return rc;
	for (size_t t = 0; t < N; t++) {
		const float *cs = c->rope_cos + t * (hd / 2), *sn = c->rope_sin + t * (hd / 2);

		rf_rope_apply(q + t * E, hp->n_head, hd, hd / 2, cs, sn);
		rf_rope_apply(k + t * E, hp->n_head, hd, hd / 2, cs, sn);
	}
	if (!(seg_of = malloc(N * sizeof(*seg_of))))
		return qk_err_set(err, QK_E_NOMEM, "out of memory for %zu patches", N);
	for (size_t s = 0; s < n_seg; s++)
		for (size_t i = seg[s]; i < seg[s + 1]; i++)
			seg_of[i] = s;
	if ((rc = rf_scratch(&c->rc, g->max_seg, err))) {
		free(seg_of);
		return rc;
	}
	/* the output goes to y, then the projection reads it back from a copy:
	 * y is the caller's [N, E] work buffer, q is free again after the scores */
	tk = (struct va_task){ c, q, k, v, y, seg, seg_of, N, E, hd,
			       (float)rf_pow((double)hd, -0.5) };
	rf_pool_run(c->rc.pool, va_items, &tk, hp->n_head * N);
	free(seg_of);
	memcpy(q, y, N * E * sizeof(float));
	return vis_linear(c, &bk->o, q, N, E, E, y, "attn out", l, err);
}

static float act(int kind, float x)
{
	switch (kind) {
	case RF_VIS_ACT_QUICK_GELU:
		return x * rf_sigmoidf(1.702f * x);
	case RF_VIS_ACT_SILU:
		return rf_siluf(x);
	case RF_VIS_ACT_GELU_TANH:
		return rf_gelu_tanhf(x);
	default:
		return rf_geluf(x);
	}
}

int vis_block(struct vis_ctx *c, int l, float *x, float *a, float *b, float *t, float *att,
	      qk_err *err)
{
	const struct rf_vis_hparams *hp = &c->vm->hp;
	const struct rf_vis_block *bk = &c->vm->blk[l];
	const size_t N = c->g->n_patch, E = hp->n_embd, F = hp->n_ff;
	int rc;

	norm_rows(c, x, bk->n1_w, bk->n1_b, N, E, a, b);
	if ((rc = attention(c, l, a, b, att, err)))
		return rc;
	for (size_t i = 0; i < N * E; i++)
		x[i] = x[i] + b[i];
	norm_rows(c, x, bk->n2_w, bk->n2_b, N, E, a, b);
	if ((rc = vis_linear(c, &bk->up, a, N, E, F, b, "mlp up", l, err)))
		return rc;
	if (hp->kind == RF_VIS_QWEN25VL) {
		if ((rc = vis_linear(c, &bk->gate, a, N, E, F, t, "mlp gate", l, err)))
			return rc;
		for (size_t i = 0; i < N * F; i++)
			b[i] = act(hp->act, t[i]) * b[i];
	} else {
		for (size_t i = 0; i < N * F; i++)
			b[i] = act(hp->act, b[i]);
	}
	if ((rc = vis_linear(c, &bk->down, b, N, F, E, a, "mlp down", l, err)))
		return rc;
	for (size_t i = 0; i < N * E; i++)
		x[i] = x[i] + a[i];
	return QK_OK;
}

int vis_merger(struct vis_ctx *c, const struct rf_vis_merger *mg, bool postshuffle,
	       const float *x, float *y, float *w1, float *w2, qk_err *err)
{
	const struct rf_vis_hparams *hp = &c->vm->hp;
	const size_t U = c->g->n_unit, E = hp->n_embd, M = c->g->unit * E;
	const char *what = postshuffle ? "deepstack merger" : "merger";
	int rc;

	/* w2 is [U, M]: its first M floats are the norm's work space */
	if (postshuffle)
		norm_rows(c, x, mg->n_w, mg->n_b, U, M, w1, w2);
	else
		norm_rows(c, x, mg->n_w, mg->n_b, U * c->g->unit, E, w1, w2);
	if ((rc = vis_linear(c, &mg->fc1, w1, U, M, M, w2, what, -1, err)))
		return rc;
	for (size_t i = 0; i < U * M; i++)
		w2[i] = rf_geluf(w2[i]);
	return vis_linear(c, &mg->fc2, w2, U, M, hp->out_dim, y, what, -1, err);
}
