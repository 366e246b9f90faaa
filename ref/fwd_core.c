/* fwd_core.c - the forward pass driver: checks, buffers, embeddings, the
 * layer loop, final norm and LM head, and the matmul every block uses; see
 * forward.h. */
#include "forward.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/base/io.h"
#include "fwd_priv.h"
#include "mathfn.h"

/* M-RoPE positions: only for a model with sections, not with the MTP head
 * (it runs at text positions), each in 0 .. 2^24 (exact in fp32) */
static int check_positions(const struct qk_hparams *hp, const struct rf_opts *o, size_t T,
			   qk_err *err)
{
	const uint32_t *s = hp->rope_sections;

	if (!o->positions)
		return QK_OK;
	if (!s[0] && !s[1] && !s[2])
		return qk_err_set(err, QK_E_USAGE, "positions in three streams given, but a %s model "
				  "has no M-RoPE sections", qk_arch_gguf_name(hp->arch));
	if (o->mtp)
		return qk_err_set(err, QK_E_USAGE, "the MTP head runs at text positions; M-RoPE "
				  "positions cannot be combined with it");
	for (size_t i = 0; i < 3 * T; i++)
		if (o->positions[i] < 0 || o->positions[i] > (1 << 24))
			return qk_err_set(err, QK_E_USAGE, "position stream %zu at token %zu is %d, "
					  "expected 0 .. %d", i / T, i % T, (int)o->positions[i],
					  1 << 24);
	return QK_OK;
}

void rf_opts_init(struct rf_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->n_threads = 1;
	o->simd = true;
}

void rf_out_free(struct rf_out *out)
{
	if (!out)
		return;
	free(out->logits);
	free(out->hidden);
	free(out->mtp_logits);
	memset(out, 0, sizeof(*out));
}

/* "layer 3 attn_q" or "output_norm" */
static void where(char *buf, size_t n, int role, int layer)
{
	if (layer >= 0)
		snprintf(buf, n, "layer %d %s", layer, qk_role_name(role));
	else
		snprintf(buf, n, "%s", qk_role_name(role));
}

int rf_need(const struct rf_ctx *c, int role, int layer, const struct qk_binding **b,
	    qk_err *err)
{
	char w[96];

	*b = qk_model_get(c->m, role, layer);
	if (*b)
		return QK_OK;
	where(w, sizeof(w), role, layer);
	return qk_err_set(err, QK_E_INVALID, "%s: tensor missing from the bound model", w);
}

int rf_small(const struct rf_ctx *c, int role, int layer, uint64_t n, const float **v,
	     qk_err *err)
{
	const struct qk_binding *b = qk_model_get(c->m, role, layer);
	char w[96];

	*v = NULL;
	if (!b)
		return QK_OK;
	if (!b->f32 || b->n_f32 != n) {
		where(w, sizeof(w), role, layer);
		return qk_err_set(err, QK_E_INVALID, "%s: %llu fp32 values, expected %llu", w,
				  (unsigned long long)(b->f32 ? b->n_f32 : 0),
				  (unsigned long long)n);
	}
	*v = b->f32;
	return QK_OK;
}

int rf_scratch(struct rf_ctx *c, size_t per, qk_err *err)
{
	size_t total;
	float *s;

	if (per <= c->scratch_per)
		return QK_OK;
	if (!qk_mul_size(per, c->nt, &total) || !qk_mul_size(total, sizeof(float), &total) ||
	    !(s = malloc(total)))
		return qk_err_set(err, QK_E_NOMEM, "out of memory: %zu floats of scratch per thread",
				  per);
	free(c->scratch);
	c->scratch = s;
	c->scratch_per = per;
	return QK_OK;
}

void rf_rmsnorm(const struct rf_ctx *c, const float *x, const float *w, size_t n, float eps,
		float *y)
{
	const float ss = c->dot.dot(x, x, n);
	const float r = rf_rsqrtf(ss / (float)n + eps);

	for (size_t i = 0; i < n; i++)
		y[i] = w[i] * (x[i] * r);
}

void rf_l2norm(const struct rf_ctx *c, float *x, size_t n)
{
	const float inv = rf_rsqrtf(c->dot.dot(x, x, n) + RF_L2NORM_EPS);

	for (size_t i = 0; i < n; i++)
		x[i] = x[i] * inv;
}

/* ---- matmul: threads take contiguous ranges of matrix rows (fwd_mm.c) ---- */

int rf_matmul(struct rf_ctx *c, const struct qk_view *w, uint64_t row0, size_t n_rows,
	      const float *bias, const float *x, size_t T, float *y, qk_err *err)
{
	struct rf_mm_task k = { c, w, row0, n_rows, (size_t)w->cols, T, bias, x, y };

	if (row0 > w->rows || n_rows > w->rows - row0 || w->cols > c->max_cols)
		return qk_err_set(err, QK_E_USAGE, "rows [%llu, %llu) of a [%llu x %llu] view",
				  (unsigned long long)row0,
				  (unsigned long long)(row0 + n_rows),
				  (unsigned long long)w->rows, (unsigned long long)w->cols);
	if (!n_rows || !T)
		return QK_OK;
	if (c->on_matmul) { /* the one observation point of every weight multiply */
		const struct rf_mm mm = { w, NULL, row0, n_rows, x, T, (size_t)w->cols };

		c->on_matmul(c->on_matmul_user, &mm);
	}
	memset(c->trc, 0, c->nt * sizeof(*c->trc));
	rf_pool_run(c->pool, rf_mm_rows, &k, n_rows);
	for (unsigned i = 0; i < c->nt; i++) {
		if (c->trc[i]) {
			if (err)
				*err = c->terr[i];
			return c->trc[i];
		}
	}
	return QK_OK;
}

int rf_linear(struct rf_ctx *c, int role, int bias_role, int layer, const float *x,
	      size_t n_in, float *y, size_t n_out, qk_err *err)
{
	const struct qk_binding *b;
	const float *bias = NULL;
	char w[96];
	int rc;

	if ((rc = rf_need(c, role, layer, &b, err)))
		return rc;
	if (b->view.cols != n_in || b->view.rows != n_out) {
		where(w, sizeof(w), role, layer);
		return qk_err_set(err, QK_E_INVALID, "%s: matrix [%llu x %llu], expected [%zu x %zu]",
				  w, (unsigned long long)b->view.rows,
				  (unsigned long long)b->view.cols, n_out, n_in);
	}
	if (bias_role != QK_ROLE_COUNT && (rc = rf_small(c, bias_role, layer, n_out, &bias, err)))
		return rc;
	return rf_matmul(c, &b->view, 0, n_out, bias, x, c->T, y, err);
}

/* ---- set-up checks ---- */

static int check_tokens(const struct qk_hparams *hp, const int32_t *tokens, size_t T,
			qk_err *err)
{
	if (T == 0)
		return qk_err_set(err, QK_E_USAGE, "no tokens to run");
	if (!tokens)
		return qk_err_set(err, QK_E_USAGE, "token array is NULL for %zu tokens", T);
	for (size_t t = 0; t < T; t++) {
		if (tokens[t] < 0 || (uint32_t)tokens[t] >= hp->n_vocab)
			return qk_err_set(err, QK_E_USAGE,
					  "token id %ld at position %zu is out of range: n_vocab is %u",
					  (long)tokens[t], t, (unsigned)hp->n_vocab);
	}
	/* Qwen1 remote code: dynamic NTK changes the RoPE base and logn scales
	 * the queries once the length passes seq_length (qwen-forward-math
	 * §8.5); up to it both are the identity */
	if (hp->arch == QK_ARCH_QWEN && (hp->use_dynamic_ntk || hp->use_logn_attn) &&
	    T > hp->seq_length)
		return qk_err_set(err, QK_E_UNSUPPORTED,
				  "%zu tokens exceed seq_length %u: Qwen1 dynamic NTK and logn "
				  "attention (use_dynamic_ntk %s, use_logn_attn %s) past "
				  "seq_length are not implemented",
				  T, (unsigned)hp->seq_length, hp->use_dynamic_ntk ? "true" : "false",
				  hp->use_logn_attn ? "true" : "false");
	return QK_OK;
}

static bool used(const struct rf_ctx *c, const struct qk_binding *b)
{
	return c->with_mtp ||
	       (!b->mtp && (b->layer < 0 || (uint32_t)b->layer < c->m->hp.n_layer));
}

/* Widest matrix, then one row of every source piece read through the view,
 * so an unconvertible dtype fails here, by name, and not inside a thread. */
static int check_views(struct rf_ctx *c, qk_err *err)
{
	const struct qk_model *m = c->m;
	float *row;

	c->max_cols = c->hp->n_embd;
	for (size_t i = 0; i < m->n_bind; i++) {
		if (used(c, &m->bind[i]) && m->bind[i].view.cols > c->max_cols)
			c->max_cols = (size_t)m->bind[i].view.cols;
	}
	row = malloc(c->max_cols * sizeof(float));
	if (!row)
		return qk_err_set(err, QK_E_NOMEM, "out of memory for a %zu-column row", c->max_cols);
	for (size_t i = 0; i < m->n_bind; i++) {
		const struct qk_binding *b = &m->bind[i];

		if (!used(c, b))
			continue;
		for (size_t p = 0; p < b->view.n_pieces; p++) {
			int rc;

			if (!b->view.pieces[p].n_rows)
				continue;
			rc = qk_view_read_row(&b->view, b->view.pieces[p].start, row, err);
			if (rc) {
				free(row);
				return rc;
			}
		}
	}
	free(row);
	return QK_OK;
}

float *rf_floats(size_t a, size_t b)
{
	size_t n;

	if (!qk_mul_size(a, b, &n) || !qk_mul_size(n, sizeof(float), &n))
		return NULL;
	return malloc(n ? n : 1);
}

static float *alloc_floats(size_t a, size_t b, size_t cnt, qk_err *err)
{
	size_t n;
	float *p;

	if (!qk_mul_size(a, b, &n) || !qk_mul_size(n, cnt, &n) ||
	    !qk_mul_size(n, sizeof(float), &n) || !(p = malloc(n ? n : 1))) {
		qk_err_set(err, QK_E_NOMEM, "out of memory for %zu x %zu x %zu floats", a, b, cnt);
		return NULL;
	}
	return p;
}

/* ---- the pass ---- */

int rf_norm_rows(struct rf_ctx *c, int role, int layer, const float *x, float *a,
		 qk_err *err)
{
	const size_t E = c->hp->n_embd;
	const float *w;
	int rc;

	if ((rc = rf_small(c, role, layer, E, &w, err)))
		return rc;
	if (!w) {
		const struct qk_binding *b;

		return rf_need(c, role, layer, &b, err);
	}
	for (size_t t = 0; t < c->T; t++)
		rf_rmsnorm(c, x + t * E, w, E, (float)c->hp->norm_eps, a + t * E);
	return QK_OK;
}

static void add_into(float *x, const float *y, size_t n)
{
	for (size_t i = 0; i < n; i++)
		x[i] = x[i] + y[i];
}

int rf_embed(struct rf_ctx *c, const int32_t *tokens, float *x, qk_err *err)
{
	const size_t E = c->hp->n_embd;
	const struct qk_binding *b;
	int rc;

	if ((rc = rf_need(c, QK_R_TOKEN_EMBD, -1, &b, err)))
		return rc;
	if (b->view.cols != E || b->view.rows != c->hp->n_vocab)
		return qk_err_set(err, QK_E_INVALID, "token_embd: matrix [%llu x %llu], expected "
				  "[%u x %zu]", (unsigned long long)b->view.rows,
				  (unsigned long long)b->view.cols, (unsigned)c->hp->n_vocab, E);
	for (size_t t = 0; t < c->T; t++) {
		if ((rc = qk_view_read_row(&b->view, (uint64_t)tokens[t], x + t * E, err)))
			return rc;
	}
	return QK_OK;
}

int rf_layer_pass(struct rf_ctx *c, struct rf_bufs *bf, int l, qk_err *err)
{
	const unsigned fl = qk_model_layer_flags(c->m, (uint32_t)l);
	const size_t n = c->T * c->hp->n_embd;
	/* Qwen3-Next names the pre-FFN norm post_attention_norm */
	const int ffn_norm = qk_model_get(c->m, QK_R_FFN_NORM, l) ? QK_R_FFN_NORM
								   : QK_R_ATTN_POST_NORM;
	int rc;

	if ((rc = rf_norm_rows(c, QK_R_ATTN_NORM, l, bf->x, bf->a, err)))
		return rc;
	rc = fl & QK_LAYER_LINEAR ? rf_gdn_block(c, l, bf->a, bf->y, err)
				  : rf_attn_block(c, l, bf->a, bf->y, err);
	if (rc)
		return rc;
	add_into(bf->x, bf->y, n);
	if ((rc = rf_norm_rows(c, ffn_norm, l, bf->x, bf->a, err)))
		return rc;
	rc = fl & QK_LAYER_MOE ? rf_moe_block(c, l, bf->a, bf->y, err)
			       : rf_ffn_block(c, l, bf->a, bf->y, err);
	if (rc)
		return rc;
	add_into(bf->x, bf->y, n);
	return QK_OK;
}

/* logits [n, n_vocab] of the normed rows a [n, n_embd] */
static int head_logits(struct rf_ctx *c, int head, const float *a, size_t n, float *logits,
		       qk_err *err)
{
	const size_t E = c->hp->n_embd, V = c->hp->n_vocab;
	const struct qk_binding *b;
	char w[96];
	int rc;

	if ((rc = rf_need(c, head, -1, &b, err)))
		return rc;
	if (b->view.cols != E || b->view.rows != V) {
		where(w, sizeof(w), head, -1);
		return qk_err_set(err, QK_E_INVALID, "%s: matrix [%llu x %llu], expected [%zu x %zu]",
				  w, (unsigned long long)b->view.rows,
				  (unsigned long long)b->view.cols, V, E);
	}
	return rf_matmul(c, &b->view, 0, V, NULL, a, n, logits, err);
}


static int run(struct rf_ctx *c, const int32_t *tokens, struct rf_bufs *bf, struct rf_out *out,
	       qk_err *err)
{
	const size_t E = c->hp->n_embd, T = c->T;
	const int head = c->m->tied ? QK_R_TOKEN_EMBD : QK_R_OUTPUT;
	int rc;

	if ((rc = rf_embed(c, tokens, bf->x, err)))
		return rc;
	if (out->hidden)
		memcpy(out->hidden, bf->x, T * E * sizeof(float));
	for (uint32_t l = 0; l < c->hp->n_layer; l++) {
		if ((rc = rf_layer_pass(c, bf, (int)l, err))) {
			if (!strstr(err ? err->msg : "", "layer "))
				qk_err_prefix(err, "layer %u", (unsigned)l);
			return rc;
		}
		if (out->hidden)
			memcpy(out->hidden + (size_t)(l + 1) * T * E, bf->x, T * E * sizeof(float));
	}
	if ((rc = rf_norm_rows(c, QK_R_OUTPUT_NORM, -1, bf->x, bf->a, err)) ||
	    (rc = head_logits(c, head, bf->a + out->logits_from * E, T - out->logits_from,
			      out->logits, err)))
		return rc;
	return out->mtp_logits ? rf_mtp_stage(c, tokens, bf->a, bf, out->mtp_logits, err) : QK_OK;
}

static void ctx_free(struct rf_ctx *c)
{
	rf_pool_close(c->pool);
	free(c->rowbuf);
	free(c->scratch);
	free(c->trc);
	free(c->terr);
	free(c->rope_cos);
	free(c->rope_sin);
}

int rf_run(const struct qk_model *m, const int32_t *tokens, size_t T,
	   const struct rf_opts *o, struct rf_out *out, qk_err *err)
{
	struct rf_opts def;
	struct rf_ctx c;
	struct rf_bufs bf = { NULL, NULL, NULL };
	size_t E;
	int rc;

	assert(m && out); /* programmer errors */
	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	if (!o) {
		rf_opts_init(&def);
		o = &def;
	}
	c.m = m;
	c.hp = &m->hp;
	c.T = T;
	E = m->hp.n_embd;
	if ((rc = check_tokens(c.hp, tokens, T, err)))
		return rc;
	if (o->logits_from >= T)
		return qk_err_set(err, QK_E_USAGE, "logits from position %zu of %zu tokens",
				  o->logits_from, T);
	if ((rc = rf_pool_open(&c.pool, o->n_threads ? o->n_threads : 1, err)))
		return rc;
	c.nt = rf_pool_size(c.pool);
	rf_dot_pick(&c.dot, o->simd, !o->no_avx512);
	c.with_mtp = o->mtp;
	c.on_matmul = o->on_matmul;
	c.on_matmul_user = o->on_matmul_user;
	if (o->mtp && m->n_mtp == 0) {
		rc = qk_err_set(err, QK_E_USAGE, "the model has no MTP layers (no mtp.* tensors, "
				"or a GGUF without nextn blocks)");
		goto out;
	}
	if ((rc = check_positions(&m->hp, o, T, err)))
		goto out;
	c.positions = o->positions;
	if (o->mtp && T < 2) {
		rc = qk_err_set(err, QK_E_USAGE, "the MTP head needs at least 2 tokens, got %zu", T);
		goto out;
	}
	if ((rc = check_views(&c, err)))
		goto out;
	rc = QK_E_NOMEM;
	c.trc = calloc(c.nt, sizeof(*c.trc));
	c.terr = calloc(c.nt, sizeof(*c.terr));
	if (!c.trc || !c.terr) {
		qk_err_set(err, QK_E_NOMEM, "out of memory for %u threads", c.nt);
		goto out;
	}
	if (!(c.rowbuf = alloc_floats(c.nt, RF_ROW_BLOCK, c.max_cols, err)) ||
	    !(bf.x = alloc_floats(T, E, 1, err)) || !(bf.a = alloc_floats(T, E, 1, err)) ||
	    !(bf.y = alloc_floats(T, E, 1, err)) ||
	    !(out->logits = alloc_floats(T - o->logits_from, m->hp.n_vocab, 1, err)) ||
	    (o->keep_hidden && !(out->hidden = alloc_floats(m->hp.n_layer + (size_t)1, T, E, err))) ||
	    (o->mtp && !(out->mtp_logits = alloc_floats(T - 1, m->hp.n_vocab, 1, err))))
		goto out;
	out->n_tokens = T;
	out->logits_from = o->logits_from;
	out->n_vocab = m->hp.n_vocab;
	out->n_embd = m->hp.n_embd;
	out->n_layer = m->hp.n_layer;
	out->simd = c.dot.simd;
	rc = run(&c, tokens, &bf, out, err);
out:
	if (rc)
		rf_out_free(out);
	free(bf.x);
	free(bf.a);
	free(bf.y);
	ctx_free(&c);
	return rc;
}
