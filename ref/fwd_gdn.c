/* fwd_gdn.c - the Gated DeltaNet block of Qwen3-Next's linear-attention
 * layers (qwen-forward-math §6), in its recurrent form.
 *
 * Names: nk key heads and nv value heads (r = nv / nk value heads per key
 * head), dk, dv head dims, key_dim = nk*dk, value_dim = nv*dv,
 * conv_dim = 2*key_dim + value_dim, K = d_conv. For T tokens:
 *   mixed = a Wqkv^T   [T, conv_dim]  channels: q of every key head, then k, then v
 *   z     = a Wz^T     [T, value_dim] value head h at [h*dv, (h+1)*dv)
 *   ba    = a Wba^T    [T, 2*nv]      key head g: r beta rows, then r alpha rows
 *           (Qwen3.5: b = a Wbeta^T [T, nv] and alpha = a Walpha^T [T, nv])
 *   c[t, ch] = silu( sum_{j<K} conv[ch, j] * mixed[t-(K-1)+j, ch] )   (mixed[<0] = 0)
 *   q, k = the q and k channels of c, each head scaled by 1/sqrt(sum x^2 + 1e-6)
 *          (rf_l2norm);
 *          q also by dk^-0.5;  v = the v channels
 *   beta[t, h] = sigmoid(b),  g[t, h] = ssm_a[h] * softplus(alpha + dt_bias[h])
 *   per value head h (key head h / r; Qwen3.5, whose GGUF form has the value
 *   heads tiled: key head h % nk), state S [dk, dv] from zero:
 *     S = exp(g) S;  delta = beta (v - S^T k);  S = S + k delta^T;  o = S^T q
 *   o_h = (ssm_norm * RMSNorm(o_h)) * silu(z_h)          eps = rms_norm_eps
 *   y = o Wout^T
 * The state is kept transposed ([dv, dk], one row per value dimension) so
 * that both S^T k and S^T q are canonical dot products.
 */
#include <stdlib.h>
#include <string.h>

#include "fwd_priv.h"
#include "mathfn.h"

struct gdn_dims {
	size_t nk, nv, dk, dv, r, kdim, vdim, cdim, K;
	bool tiled;    /* value head h reads key head h % nk (Qwen3.5), else h / r */
	bool split;    /* separate ssm_beta / ssm_alpha projections (Qwen3.5) */
};

struct gdn_bufs {
	float *mix;    /* [T, cdim] projection, then conv + silu output */
	float *conv;   /* [T, cdim] */
	float *z;      /* [T, vdim] */
	float *ba;     /* [T, 2 nv] */
	float *beta;   /* [T, nv] */
	float *g;      /* [T, nv] log decay */
	float *o;      /* [T, vdim] */
};

struct gdn_task {
	struct rf_ctx *c;
	const struct gdn_dims *d;
	const struct gdn_bufs *b;
};

/* the delta rule for value heads [b, e) */
static void gdn_heads(void *arg, size_t hb, size_t he, unsigned tid)
{
	const struct gdn_task *k = arg;
	const struct gdn_dims *d = k->d;
	const struct gdn_bufs *b = k->b;
	struct rf_ctx *c = k->c;
	float *st = c->scratch + (size_t)tid * c->scratch_per; /* [dv, dk] S transposed */

	for (size_t h = hb; h < he; h++) {
		const size_t g = d->tiled ? h % d->nk : h / d->r;

		memset(st, 0, d->dv * d->dk * sizeof(float));
		for (size_t t = 0; t < c->T; t++) {
			const float *row_t = b->conv + t * d->cdim;
			const float *q = row_t + g * d->dk;
			const float *kk = row_t + d->kdim + g * d->dk;
			const float *v = row_t + 2 * d->kdim + h * d->dv;
			const float decay = rf_expf(b->g[t * d->nv + h]);
			const float beta = b->beta[t * d->nv + h];
			float *o = b->o + t * d->vdim + h * d->dv;

			for (size_t j = 0; j < d->dv; j++) {
				float *s = st + j * d->dk;
				float m, delta;

				for (size_t i = 0; i < d->dk; i++)
					s[i] = s[i] * decay;
				m = c->dot.dot(s, kk, d->dk);
				delta = beta * (v[j] - m);
				for (size_t i = 0; i < d->dk; i++)
					s[i] = s[i] + kk[i] * delta;
				o[j] = c->dot.dot(s, q, d->dk);
			}
		}
	}
}

static int gdn_dims(const struct qk_hparams *hp, int l, struct gdn_dims *d, qk_err *err)
{
	d->nk = hp->ssm_n_k_heads;
	d->nv = hp->ssm_n_v_heads;
	d->dk = hp->ssm_head_k_dim;
	d->dv = hp->ssm_head_v_dim;
	d->K = hp->ssm_d_conv;
	if (!d->nk || !d->nv || d->nv % d->nk || !d->dk || !d->dv || !d->K)
		return qk_err_set(err, QK_E_INVALID,
				  "layer %d: linear attention with %zu key heads, %zu value heads, "
				  "head dims %zu/%zu, conv kernel %zu: expected value heads a "
				  "multiple of key heads and nonzero sizes", l, d->nk, d->nv, d->dk,
				  d->dv, d->K);
	d->r = d->nv / d->nk;
	d->tiled = hp->ssm_v_tiled;
	d->kdim = d->nk * d->dk;
	d->vdim = d->nv * d->dv;
	d->cdim = 2 * d->kdim + d->vdim;
	return QK_OK;
}

/* causal depthwise conv + SiLU, then the L2 norms and the query scale */
static void gdn_conv(const struct rf_ctx *c, const struct gdn_dims *d, const float *w,
		     const struct gdn_bufs *b)
{
	const float qscale = (float)rf_pow((double)d->dk, -0.5);

	for (size_t t = 0; t < c->T; t++) {
		float *out = b->conv + t * d->cdim;

		for (size_t ch = 0; ch < d->cdim; ch++) {
			float acc = 0.0f;

			for (size_t j = 0; j < d->K; j++) {
				if (t + j + 1 < d->K) /* position t - (K-1) + j < 0 */
					continue;
				acc = acc + w[ch * d->K + j] * b->mix[(t + j + 1 - d->K) * d->cdim + ch];
			}
			out[ch] = rf_siluf(acc);
		}
		for (size_t hk = 0; hk < 2 * d->nk; hk++) { /* q heads, then k heads */
			float *x = out + hk * d->dk;

			rf_l2norm(c, x, d->dk);
			if (hk < d->nk)
				for (size_t i = 0; i < d->dk; i++)
					x[i] = x[i] * qscale;
		}
	}
}

static void gdn_free(struct gdn_bufs *b)
{
	free(b->mix);
	free(b->conv);
	free(b->z);
	free(b->ba);
	free(b->beta);
	free(b->g);
	free(b->o);
}

static int gdn_alloc(struct gdn_bufs *b, size_t T, const struct gdn_dims *d, qk_err *err)
{
	b->mix = rf_floats(T, d->cdim);
	b->conv = rf_floats(T, d->cdim);
	b->z = rf_floats(T, d->vdim);
	b->ba = rf_floats(T, 2 * d->nv);
	b->beta = rf_floats(T, d->nv);
	b->g = rf_floats(T, d->nv);
	b->o = rf_floats(T, d->vdim);
	if (!b->mix || !b->conv || !b->z || !b->ba || !b->beta || !b->g || !b->o)
		return qk_err_set(err, QK_E_NOMEM, "out of memory for linear attention of %zu tokens",
				  T);
	return QK_OK;
}

struct gdn_small {
	const float *conv;  /* [cdim, K] */
	const float *a;     /* [nv] ssm_a = -exp(A_log) */
	const float *dt;    /* [nv] */
	const float *norm;  /* [dv] */
};

static int gdn_small(const struct rf_ctx *c, int l, const struct gdn_dims *d,
		     struct gdn_small *s, qk_err *err)
{
	const struct qk_binding *b;
	int rc;

	if ((rc = rf_need(c, QK_R_SSM_CONV1D, l, &b, err)) ||
	    (rc = rf_need(c, QK_R_SSM_A, l, &b, err)) ||
	    (rc = rf_need(c, QK_R_SSM_DT_B, l, &b, err)) ||
	    (rc = rf_need(c, QK_R_SSM_NORM, l, &b, err)))
		return rc;
	if ((rc = rf_small(c, QK_R_SSM_CONV1D, l, d->cdim * d->K, &s->conv, err)) ||
	    (rc = rf_small(c, QK_R_SSM_A, l, d->nv, &s->a, err)) ||
	    (rc = rf_small(c, QK_R_SSM_DT_B, l, d->nv, &s->dt, err)))
		return rc;
	return rf_small(c, QK_R_SSM_NORM, l, d->dv, &s->norm, err);
}

/* beta and alpha projections into b->ba: Qwen3-Next's fused in_proj_ba
 * [T, 2 nv], or Qwen3.5's ssm_beta [T, nv] followed by ssm_alpha [T, nv] */
static int gdn_ba(struct rf_ctx *c, int l, struct gdn_dims *d, const float *a,
		  const struct gdn_bufs *b, qk_err *err)
{
	const size_t E = c->hp->n_embd;
	int rc;

	d->split = qk_model_get(c->m, QK_R_SSM_BETA, l) != NULL;
	if (!d->split)
		return rf_linear(c, QK_R_SSM_BA, QK_ROLE_COUNT, l, a, E, b->ba, 2 * d->nv, err);
	if ((rc = rf_linear(c, QK_R_SSM_BETA, QK_ROLE_COUNT, l, a, E, b->ba, d->nv, err)))
		return rc;
	return rf_linear(c, QK_R_SSM_ALPHA, QK_ROLE_COUNT, l, a, E, b->ba + c->T * d->nv, d->nv,
			 err);
}

int rf_gdn_block(struct rf_ctx *c, int l, const float *a, float *y, qk_err *err)
{
	const size_t T = c->T, E = c->hp->n_embd;
	const float eps = (float)c->hp->norm_eps;
	struct gdn_bufs b;
	struct gdn_dims d;
	struct gdn_small s;
	struct gdn_task k;
	int rc;

	memset(&b, 0, sizeof(b));
	if ((rc = gdn_dims(c->hp, l, &d, err)) || (rc = gdn_small(c, l, &d, &s, err)))
		return rc;
	if ((rc = gdn_alloc(&b, T, &d, err)) ||
	    (rc = rf_linear(c, QK_R_ATTN_QKV, QK_ROLE_COUNT, l, a, E, b.mix, d.cdim, err)) ||
	    (rc = rf_linear(c, QK_R_ATTN_GATE, QK_ROLE_COUNT, l, a, E, b.z, d.vdim, err)) ||
	    (rc = gdn_ba(c, l, &d, a, &b, err)))
		goto out;
	gdn_conv(c, &d, s.conv, &b);
	for (size_t t = 0; t < T; t++) {
		for (size_t h = 0; h < d.nv; h++) {
			const size_t g = h / d.r, j = h % d.r;
			/* fused: key head g's r beta rows, then its r alpha rows;
			 * split: beta [T, nv], then alpha [T, nv] */
			const float *ba = b.ba + t * 2 * d.nv + g * 2 * d.r;
			const float bv = d.split ? b.ba[t * d.nv + h] : ba[j];
			const float av = d.split ? b.ba[(T + t) * d.nv + h] : ba[d.r + j];

			b.beta[t * d.nv + h] = rf_sigmoidf(bv);
			b.g[t * d.nv + h] = s.a[h] * rf_softplusf(av + s.dt[h]);
		}
	}
	if ((rc = rf_scratch(c, d.dv * d.dk, err)))
		goto out;
	k = (struct gdn_task){ c, &d, &b };
	rf_pool_run(c->pool, gdn_heads, &k, d.nv);
	for (size_t t = 0; t < T; t++) {
		for (size_t h = 0; h < d.nv; h++) {
			float *o = b.o + t * d.vdim + h * d.dv;
			const float *z = b.z + t * d.vdim + h * d.dv;

			rf_rmsnorm(c, o, s.norm, d.dv, eps, o);
			for (size_t i = 0; i < d.dv; i++)
				o[i] = o[i] * rf_siluf(z[i]);
		}
	}
	rc = rf_linear(c, QK_R_SSM_OUT, QK_ROLE_COUNT, l, b.o, d.vdim, y, E, err);
out:
	gdn_free(&b);
	return rc;
}
