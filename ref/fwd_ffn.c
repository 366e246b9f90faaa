/* fwd_ffn.c - the feed-forward blocks: dense SwiGLU (qwen-forward-math §0.5,
 * §8.3) and the routed mixture of experts with its optional gated shared
 * expert (§2.3, §4.3, §5.4).
 *
 *   SwiGLU(x) = down( silu(gate x) * up x )          gate, up [n_ff, n_embd]; down [n_embd, n_ff]
 *   MoE, per token (a: [n_embd]):
 *     p = softmax(a Wr^T) over all n_expert           fp32, Wr [n_expert, n_embd]
 *     top-k of p (ties: the lower expert id); w_j = p_j, or p_j / sum_j p_j when norm_topk_prob
 *     y = sum over the chosen experts in expert-id order of  SwiGLU_e(a) * w_e
 *     shared expert: y = y + sigmoid(a . w_sg) * SwiGLU_shexp(a)
 * Experts run as matrices over the tokens routed to them, so each expert's
 * rows are read once per layer, and only if some token chose it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fwd_priv.h"
#include "mathfn.h"

/* x [n, n_embd] -> y [n, n_embd] through rows [gr0, gr0 + nff) of gate and up
 * and rows [dr0, dr0 + n_embd) of down */
static int swiglu(struct rf_ctx *c, const struct qk_view *g, const struct qk_view *u,
		  const struct qk_view *d, uint64_t gr0, uint64_t dr0, size_t nff,
		  const float *x, size_t n, float *y, qk_err *err)
{
	const size_t E = c->hp->n_embd;
	float *G, *U;
	int rc;

	if (g->cols != E || u->cols != E || d->cols != nff)
		return qk_err_set(err, QK_E_INVALID,
				  "ffn matrices with %llu, %llu and %llu columns, expected %zu, %zu "
				  "and %zu", (unsigned long long)g->cols, (unsigned long long)u->cols,
				  (unsigned long long)d->cols, E, E, nff);
	G = rf_floats(n, nff);
	U = rf_floats(n, nff);
	if (!G || !U) {
		rc = qk_err_set(err, QK_E_NOMEM, "out of memory for a %zu x %zu ffn", n, nff);
		goto out;
	}
	if ((rc = rf_matmul(c, g, gr0, nff, NULL, x, n, G, err)) ||
	    (rc = rf_matmul(c, u, gr0, nff, NULL, x, n, U, err)))
		goto out;
	for (size_t i = 0; i < n * nff; i++)
		G[i] = rf_siluf(G[i]) * U[i];
	rc = rf_matmul(c, d, dr0, E, NULL, G, n, y, err);
out:
	free(G);
	free(U);
	return rc;
}

/* gate, up, down roles of one SwiGLU at layer l, each required */
static int ffn_views(const struct rf_ctx *c, int gate, int l, const struct qk_view *v[3],
		     qk_err *err)
{
	const struct qk_binding *b;
	int rc;

	for (int i = 0; i < 3; i++) {
		if ((rc = rf_need(c, gate + i, l, &b, err)))
			return rc;
		v[i] = &b->view;
	}
	return QK_OK;
}

int rf_ffn_block(struct rf_ctx *c, int l, const float *a, float *y, qk_err *err)
{
	const struct qk_view *v[3];
	const size_t nff = c->hp->n_ff, E = c->hp->n_embd;
	int rc;

	/* role order: gate, up, down */
	_Static_assert(QK_R_FFN_UP == QK_R_FFN_GATE + 1 && QK_R_FFN_DOWN == QK_R_FFN_GATE + 2,
		       "ffn role order");
	if ((rc = ffn_views(c, QK_R_FFN_GATE, l, v, err)))
		return rc;
	if (v[0]->rows != nff || v[1]->rows != nff || v[2]->rows != E)
		return qk_err_set(err, QK_E_INVALID, "layer %d: ffn with %llu gate rows and %llu "
				  "down rows, expected n_ff %zu and n_embd %zu", l,
				  (unsigned long long)v[0]->rows, (unsigned long long)v[2]->rows,
				  nff, E);
	return swiglu(c, v[0], v[1], v[2], 0, 0, nff, a, c->T, y, err);
}

/* ---- routing ---- */

/* softmax over n router logits (in place, fp32, sums in index order), then
 * the k largest probabilities, ties to the lower index, optionally
 * renormalised in selection order */
static void route(float *p, size_t n, size_t k, bool norm, bool *taken, uint32_t *sel,
		  float *w)
{
	float mx = -INFINITY, sum = 0.0f;

	for (size_t i = 0; i < n; i++)
		mx = p[i] > mx ? p[i] : mx;
	for (size_t i = 0; i < n; i++) {
		p[i] = rf_expf(p[i] - mx);
		sum = sum + p[i];
	}
	for (size_t i = 0; i < n; i++) {
		p[i] = p[i] / sum;
		taken[i] = false;
	}
	for (size_t j = 0; j < k; j++) {
		size_t best = n;

		for (size_t i = 0; i < n; i++)
			if (!taken[i] && (best == n || p[i] > p[best]))
				best = i;
		taken[best] = true;
		sel[j] = (uint32_t)best;
		w[j] = p[best];
	}
	if (norm) {
		float s = 0.0f;

		for (size_t j = 0; j < k; j++)
			s = s + w[j];
		for (size_t j = 0; j < k; j++)
			w[j] = w[j] / s;
	}
}

struct moe_bufs {
	float *probs;     /* [T, n_expert] router logits, then probabilities */
	bool *taken;      /* [n_expert] */
	uint32_t *sel;    /* [T, k] chosen experts */
	float *w;         /* [T, k] their weights */
	size_t *tok;      /* [T] tokens of the current expert */
	float *tw;        /* [T] their weights */
	float *x, *d;     /* [T, n_embd] gathered inputs, expert outputs */
};

static void moe_free(struct moe_bufs *b)
{
	free(b->probs);
	free(b->taken);
	free(b->sel);
	free(b->w);
	free(b->tok);
	free(b->tw);
	free(b->x);
	free(b->d);
}

static int moe_alloc(struct moe_bufs *b, size_t T, size_t ne, size_t k, size_t E, qk_err *err)
{
	memset(b, 0, sizeof(*b));
	b->probs = rf_floats(T, ne);
	b->taken = calloc(ne, sizeof(bool));
	b->sel = calloc(T * k + 1, sizeof(uint32_t));
	b->w = rf_floats(T, k);
	b->tok = calloc(T, sizeof(size_t));
	b->tw = rf_floats(T, 1);
	b->x = rf_floats(T, E);
	b->d = rf_floats(T, E);
	if (!b->probs || !b->taken || !b->sel || !b->w || !b->tok || !b->tw || !b->x || !b->d)
		return qk_err_set(err, QK_E_NOMEM, "out of memory routing %zu tokens to %zu experts",
				  T, ne);
	return QK_OK;
}

/* y += sigmoid(a . w_sg) * SwiGLU_shexp(a) per token, when the layer has a
 * shared expert */
static int shared_expert(struct rf_ctx *c, int l, const float *a, float *y, float *s,
			 qk_err *err)
{
	const size_t E = c->hp->n_embd, nff = c->hp->n_ff_shexp;
	const struct qk_view *v[3];
	const float *gw;
	int rc;

	_Static_assert(QK_R_FFN_UP_SHEXP == QK_R_FFN_GATE_SHEXP + 1 &&
		       QK_R_FFN_DOWN_SHEXP == QK_R_FFN_GATE_SHEXP + 2, "shexp role order");
	if (!qk_model_get(c->m, QK_R_FFN_GATE_SHEXP, l))
		return QK_OK;
	if ((rc = ffn_views(c, QK_R_FFN_GATE_SHEXP, l, v, err)) ||
	    (rc = rf_small(c, QK_R_FFN_GATE_INP_SHEXP, l, E, &gw, err)))
		return rc;
	if (v[0]->rows != nff || v[2]->rows != E)
		return qk_err_set(err, QK_E_INVALID, "layer %d: shared expert with %llu rows, "
				  "expected n_ff_shexp %zu", l, (unsigned long long)v[0]->rows, nff);
	if ((rc = swiglu(c, v[0], v[1], v[2], 0, 0, nff, a, c->T, s, err)))
		return rc;
	if (gw && c->on_matmul) { /* the gate is a one-row matrix llama.cpp multiplies */
		const struct rf_mm mm = { NULL, qk_model_get(c->m, QK_R_FFN_GATE_INP_SHEXP, l), 0, 1,
					  a, c->T, E };

		c->on_matmul(c->on_matmul_user, &mm);
	}
	for (size_t t = 0; t < c->T; t++) {
		const float g = gw ? rf_sigmoidf(c->dot.dot(a + t * E, gw, E)) : 1.0f;

		for (size_t i = 0; i < E; i++)
			y[t * E + i] = y[t * E + i] + g * s[t * E + i];
	}
	return QK_OK;
}

int rf_moe_block(struct rf_ctx *c, int l, const float *a, float *y, qk_err *err)
{
	const struct qk_hparams *hp = c->hp;
	const size_t T = c->T, E = hp->n_embd, ne = hp->n_expert, k = hp->n_expert_used;
	const size_t im = hp->n_ff_exp;
	const struct qk_view *v[3];
	struct moe_bufs b;
	int rc;

	_Static_assert(QK_R_FFN_UP_EXPS == QK_R_FFN_GATE_EXPS + 1 &&
		       QK_R_FFN_DOWN_EXPS == QK_R_FFN_GATE_EXPS + 2, "expert role order");
	if (!ne || !k || k > ne)
		return qk_err_set(err, QK_E_INVALID, "layer %d: MoE with %zu experts, %zu used", l,
				  ne, k);
	if ((rc = ffn_views(c, QK_R_FFN_GATE_EXPS, l, v, err)))
		return rc;
	if (v[0]->rows != ne * im || v[1]->rows != ne * im || v[2]->rows != ne * E)
		return qk_err_set(err, QK_E_INVALID, "layer %d: expert stacks of %llu and %llu "
				  "rows, expected %zu x %zu and %zu x %zu", l,
				  (unsigned long long)v[0]->rows, (unsigned long long)v[2]->rows,
				  ne, im, ne, E);
	if ((rc = moe_alloc(&b, T, ne, k, E, err)) ||
	    (rc = rf_linear(c, QK_R_FFN_GATE_INP, QK_ROLE_COUNT, l, a, E, b.probs, ne, err)))
		goto out;
	for (size_t t = 0; t < T; t++)
		route(b.probs + t * ne, ne, k, hp->norm_topk_prob, b.taken, b.sel + t * k,
		      b.w + t * k);
	memset(y, 0, T * E * sizeof(float));
	for (size_t e = 0; e < ne; e++) {
		size_t n = 0;

		for (size_t t = 0; t < T; t++)
			for (size_t j = 0; j < k; j++)
				if (b.sel[t * k + j] == e) {
					b.tok[n] = t;
					b.tw[n] = b.w[t * k + j];
					memcpy(b.x + n * E, a + t * E, E * sizeof(float));
					n++;
				}
		if (!n)
			continue;
		if ((rc = swiglu(c, v[0], v[1], v[2], e * im, e * E, im, b.x, n, b.d, err)))
			goto out;
		for (size_t i = 0; i < n; i++) {
			float *yt = y + b.tok[i] * E;

			for (size_t d = 0; d < E; d++)
				yt[d] = yt[d] + b.d[i * E + d] * b.tw[i];
		}
	}
	rc = shared_expert(c, l, a, y, b.d, err);
out:
	moe_free(&b);
	return rc;
}
