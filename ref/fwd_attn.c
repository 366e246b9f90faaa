/* fwd_attn.c - RoPE and the full-attention block (qwen-forward-math §0.3,
 * §0.4, §1.3, §3.3, §5.3, §8.3-8.5).
 *
 * Block, for T tokens (a: [T, n_embd] normed input):
 *   q = a Wq^T (+bq)      [T, n_head * head_dim]   Qwen3-Next: [T, n_head * 2 * head_dim],
 *                                                  per head [q_h (head_dim), gate_h (head_dim)]
 *   k = a Wk^T (+bk), v = a Wv^T (+bv)   [T, n_head_kv * head_dim]
 *   per head: q, k = RMSNorm_head_dim(q; q_norm), (k; k_norm)  when bound
 *   q, k = RoPE over the first n_rot dims of each head (rotate-half)
 *   o_h[i] = sum_{j<=i} softmax_j(q_h[i] . k_g[j] * head_dim^-0.5) v_g[j],  g = h / (n_head / n_head_kv)
 *   Qwen3-Next: o *= sigmoid(gate)
 *   y = o Wo^T (+bo)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "forward.h"
#include "fwd_priv.h"
#include "mathfn.h"

/* ---- RoPE frequencies (transformers modeling_rope_utils, 5.x) ---- */

/* get_mscale of the YaRN code */
static double yarn_mscale(double scale, double mscale)
{
	return scale <= 1.0 ? 1.0 : 0.1 * mscale * rf_log(scale) + 1.0;
}

/* dimension index where a frequency completes n_rot rotations over orig
 * positions (find_correction_dim) */
static double yarn_corr_dim(double n_rot, double dim, double base, double orig)
{
	const double pi = 3.141592653589793;

	return dim * rf_log(orig / (n_rot * 2.0 * pi)) / (2.0 * rf_log(base));
}

int rf_mrope_stream(const struct qk_hparams *hp, size_t i)
{
	const uint32_t *s = hp->rope_sections;

	if (!s[0] && !s[1] && !s[2])
		return 0;
	if (hp->mrope_interleaved) /* pairs t h w t h w ..., each stream within 3x its count */
		return i % 3 == 1 && i < 3 * (size_t)s[1] ? 1 : i % 3 == 2 && i < 3 * (size_t)s[2] ? 2 : 0;
	return i < s[0] ? 0 : i < (size_t)s[0] + s[1] ? 1 : i < (size_t)s[0] + s[1] + s[2] ? 2 : 0;
}

/* inv_freq [half] and the factor applied to cos and sin */
static int rope_freqs(const struct rf_ctx *c, float *inv, float *scale, qk_err *err)
{
	const struct qk_hparams *hp = c->hp;
	const struct qk_rope_scaling *rs = &hp->rope;
	const uint32_t dim = hp->n_rot, half = dim / 2;
	/* Qwen1's remote code reads no rope_scaling */
	const int type = hp->arch == QK_ARCH_QWEN ? QK_ROPE_DEFAULT : rs->type;
	float base = (float)hp->rope_theta;

	*scale = 1.0f;
	if (type == QK_ROPE_DYNAMIC && c->T > hp->n_ctx_train) {
		/* base * ((factor * L / max_pos) - (factor - 1)) ^ (dim / (dim - 2)),
		 * in fp32 as the tensor expression computes it */
		const float f = (float)rs->factor;
		const float r = f * (float)c->T / (float)hp->n_ctx_train - (float)(rs->factor - 1.0);

		base = base * rf_powf(r, (float)((double)dim / (double)(dim - 2)));
	}
	for (uint32_t i = 0; i < half; i++)
		inv[i] = 1.0f / rf_powf(base, (float)(2 * i) / (float)dim);
	switch (type) {
	case QK_ROPE_DEFAULT:
	case QK_ROPE_DYNAMIC:
		return QK_OK;
	case QK_ROPE_LINEAR:
		for (uint32_t i = 0; i < half; i++)
			inv[i] = inv[i] / (float)rs->factor;
		return QK_OK;
	case QK_ROPE_YARN: {
		const double f = rs->factor, th = hp->rope_theta, orig = rs->original_ctx;
		const double bf = rs->beta_fast != 0.0 ? rs->beta_fast : 32.0;
		const double bs = rs->beta_slow != 0.0 ? rs->beta_slow : 1.0;
		double lo = yarn_corr_dim(bf, dim, th, orig), hi = yarn_corr_dim(bs, dim, th, orig);
		double att;

		if (rs->truncate) {
			lo = rf_floor(lo);
			hi = rf_ceil(hi);
		}
		lo = lo > 0.0 ? lo : 0.0;
		hi = hi < (double)(dim - 1) ? hi : (double)(dim - 1);
		if (lo == hi)
			hi += 0.001;
		for (uint32_t i = 0; i < half; i++) {
			const float p = rf_powf(base, (float)(2 * i) / (float)dim); /* pos_freqs */
			const float extrap = 1.0f / p, interp = 1.0f / ((float)f * p);
			float ramp = ((float)i - (float)lo) / (float)(hi - lo), ef;

			ramp = ramp < 0.0f ? 0.0f : ramp > 1.0f ? 1.0f : ramp;
			ef = 1.0f - ramp;
			inv[i] = interp * (1.0f - ef) + extrap * ef;
		}
		if (rs->attention_factor > 0.0)
			att = rs->attention_factor;
		else if (rs->mscale != 0.0 && rs->mscale_all_dim != 0.0)
			att = yarn_mscale(f, rs->mscale) / yarn_mscale(f, rs->mscale_all_dim);
		else
			att = yarn_mscale(f, 1.0);
		*scale = (float)att;
		return QK_OK;
	}
	default:
		return qk_err_set(err, QK_E_UNSUPPORTED, "rope type %d is not supported", type);
	}
}

/* cos and sin [T, n_rot / 2] of positions 0..T-1, once per pass (every
 * attention layer has the same RoPE) */
static int rope_tables(struct rf_ctx *c, qk_err *err)
{
	const size_t half = c->hp->n_rot / 2;
	float *inv, sc;
	int rc;

	if (c->rope_cos)
		return QK_OK;
	inv = rf_floats(half, 1);
	c->rope_cos = rf_floats(c->T, half);
	c->rope_sin = rf_floats(c->T, half);
	if (!inv || !c->rope_cos || !c->rope_sin) {
		free(inv);
		return qk_err_set(err, QK_E_NOMEM, "out of memory for rope tables of %zu tokens",
				  c->T);
	}
	rc = rope_freqs(c, inv, &sc, err);
	for (size_t p = 0; !rc && p < c->T; p++) {
		/* text tokens: the same position in every M-RoPE stream, so
		 * M-RoPE is (partial) NeoX RoPE; image tokens: the caller's
		 * streams */
		const int32_t *ps = c->positions;
		const size_t pos[3] = { ps ? (size_t)ps[p] : p, ps ? (size_t)ps[c->T + p] : p,
					ps ? (size_t)ps[2 * c->T + p] : p };

		for (size_t i = 0; i < half; i++) {
			const float ang = (float)pos[rf_mrope_stream(c->hp, i)] * inv[i];

			c->rope_cos[p * half + i] = rf_cosf(ang) * sc;
			c->rope_sin[p * half + i] = rf_sinf(ang) * sc;
		}
	}
	free(inv);
	return rc;
}

void rf_rope_apply(float *x, size_t n_heads, size_t hd, size_t half, const float *cs,
		   const float *sn)
{
	for (size_t h = 0; h < n_heads; h++) {
		float *xh = x + h * hd;

		for (size_t j = 0; j < half; j++) {
			const float x0 = xh[j], x1 = xh[j + half];

			xh[j] = x0 * cs[j] - x1 * sn[j];
			xh[j + half] = x1 * cs[j] + x0 * sn[j];
		}
	}
}

/* ---- causal attention, threads split query heads ---- */

struct at_task {
	struct rf_ctx *c;
	const float *q;     /* [T, n_head * hd] */
	const float *k, *v; /* [T, n_head_kv * hd] */
	float *o;           /* [T, n_head * hd] */
	size_t hd, qd, kd, group;
	float scale;
};

static void at_heads(void *arg, size_t b, size_t e, unsigned tid)
{
	const struct at_task *k = arg;
	struct rf_ctx *c = k->c;
	float *s = c->scratch + (size_t)tid * c->scratch_per; /* [T] */
	const size_t hd = k->hd;

	for (size_t h = b; h < e; h++) {
		const size_t g = h / k->group;

		for (size_t i = 0; i < c->T; i++) {
			const float *qi = k->q + i * k->qd + h * hd;
			float *oi = k->o + i * k->qd + h * hd;
			float mx = -INFINITY, sum = 0.0f;

			for (size_t j = 0; j <= i; j++) {
				s[j] = c->dot.dot(qi, k->k + j * k->kd + g * hd, hd) * k->scale;
				mx = s[j] > mx ? s[j] : mx;
			}
			for (size_t j = 0; j <= i; j++) {
				s[j] = rf_expf(s[j] - mx);
				sum = sum + s[j];
			}
			for (size_t d = 0; d < hd; d++)
				oi[d] = 0.0f;
			for (size_t j = 0; j <= i; j++) {
				const float p = s[j] / sum;
				const float *vj = k->v + j * k->kd + g * hd;

				for (size_t d = 0; d < hd; d++)
					oi[d] = oi[d] + p * vj[d];
			}
		}
	}
}

/* per-head RMSNorm of n_heads heads of every token (QK-norm) */
static void head_norm(const struct rf_ctx *c, float *x, size_t ld, size_t n_heads, size_t hd,
		      const float *w)
{
	for (size_t t = 0; t < c->T; t++)
		for (size_t h = 0; h < n_heads; h++)
			rf_rmsnorm(c, x + t * ld + h * hd, w, hd, (float)c->hp->norm_eps,
				   x + t * ld + h * hd);
}

static int check_dims(const struct qk_hparams *hp, int layer, qk_err *err)
{
	if (!hp->n_head || !hp->n_head_kv || hp->n_head % hp->n_head_kv || !hp->head_dim ||
	    hp->n_rot > hp->head_dim || hp->n_rot % 2)
		return qk_err_set(err, QK_E_INVALID,
				  "layer %d: attention with n_head %u, n_head_kv %u, head_dim %u, "
				  "n_rot %u: expected n_head a multiple of n_head_kv and an even "
				  "n_rot <= head_dim", layer, (unsigned)hp->n_head,
				  (unsigned)hp->n_head_kv, (unsigned)hp->head_dim, (unsigned)hp->n_rot);
	return QK_OK;
}

struct at_bufs {
	float *qg;   /* [T, q_rows] projection (query, or query+gate) */
	float *q;    /* [T, qd] query (= qg unless gated) */
	float *gate; /* [T, qd] or NULL */
	float *k, *v;/* [T, kd] */
	float *o;    /* [T, qd] */
};

static void at_free(struct at_bufs *b)
{
	if (b->q != b->qg)
		free(b->q);
	free(b->qg);
	free(b->gate);
	free(b->k);
	free(b->v);
	free(b->o);
}

static int at_alloc(struct at_bufs *b, size_t T, size_t qrows, size_t qd, size_t kd,
		    bool gated, qk_err *err)
{
	memset(b, 0, sizeof(*b));
	b->qg = rf_floats(T, qrows);
	b->q = gated ? rf_floats(T, qd) : b->qg;
	b->gate = gated ? rf_floats(T, qd) : NULL;
	b->k = rf_floats(T, kd);
	b->v = rf_floats(T, kd);
	b->o = rf_floats(T, qd);
	if (!b->qg || !b->q || (gated && !b->gate) || !b->k || !b->v || !b->o)
		return qk_err_set(err, QK_E_NOMEM, "out of memory for attention of %zu tokens", T);
	return QK_OK;
}

int rf_attn_block(struct rf_ctx *c, int l, const float *a, float *y, qk_err *err)
{
	const struct qk_hparams *hp = c->hp;
	const size_t T = c->T, E = hp->n_embd, hd = hp->head_dim, nh = hp->n_head;
	const size_t nkv = hp->n_head_kv, qd = nh * hd, kd = nkv * hd, half = hp->n_rot / 2;
	const bool gated = hp->attn_output_gate;
	const size_t qrows = gated ? 2 * qd : qd;
	const float *qn, *kn;
	struct at_bufs b;
	struct at_task k;
	int rc;

	if ((rc = check_dims(hp, l, err)) ||
	    (rc = rf_small(c, QK_R_ATTN_Q_NORM, l, hd, &qn, err)) ||
	    (rc = rf_small(c, QK_R_ATTN_K_NORM, l, hd, &kn, err)))
		return rc;
	if ((rc = at_alloc(&b, T, qrows, qd, kd, gated, err)) ||
	    (rc = rf_linear(c, QK_R_ATTN_Q, QK_R_ATTN_Q_B, l, a, E, b.qg, qrows, err)) ||
	    (rc = rf_linear(c, QK_R_ATTN_K, QK_R_ATTN_K_B, l, a, E, b.k, kd, err)) ||
	    (rc = rf_linear(c, QK_R_ATTN_V, QK_R_ATTN_V_B, l, a, E, b.v, kd, err)))
		goto out;
	if (gated) { /* per head: [query hd][gate hd] */
		for (size_t t = 0; t < T; t++)
			for (size_t h = 0; h < nh; h++) {
				memcpy(b.q + t * qd + h * hd, b.qg + t * qrows + h * 2 * hd,
				       hd * sizeof(float));
				memcpy(b.gate + t * qd + h * hd, b.qg + t * qrows + h * 2 * hd + hd,
				       hd * sizeof(float));
			}
	}
	if (qn)
		head_norm(c, b.q, qd, nh, hd, qn);
	if (kn)
		head_norm(c, b.k, kd, nkv, hd, kn);
	if ((rc = rope_tables(c, err)))
		goto out;
	for (size_t t = 0; t < T; t++) {
		const float *cs = c->rope_cos + t * half, *sn = c->rope_sin + t * half;

		rf_rope_apply(b.q + t * qd, nh, hd, half, cs, sn);
		rf_rope_apply(b.k + t * kd, nkv, hd, half, cs, sn);
	}
	if ((rc = rf_scratch(c, T, err)))
		goto out;
	k = (struct at_task){ c, b.q, b.k, b.v, b.o, hd, qd, kd, nh / nkv,
			      (float)rf_pow((double)hd, -0.5) };
	rf_pool_run(c->pool, at_heads, &k, nh);
	if (gated) {
		for (size_t i = 0; i < T * qd; i++)
			b.o[i] = b.o[i] * rf_sigmoidf(b.gate[i]);
	}
	rc = rf_linear(c, QK_R_ATTN_OUT, QK_R_ATTN_OUT_B, l, b.o, qd, y, E, err);
out:
	at_free(&b);
	return rc;
}
