/* vis_core.c - rf_vis_run: the vision pass from pixels to image embeddings
 * (vis.h has the math; vis_grid.c the index tables, vis_block.c the blocks).
 *
 * Order of work, for N patches of width E:
 *   1. x_in = pixels W_patch^T (+ b)                        [N, E] input order
 *      Qwen3-VL: x_in[p] += sum_{a=0..3} pos[tap[p, a]] * tapw[p, a] (taps
 *      in the order of vis_grid.c, added left to right)
 *   2. x = x_in in working order (Qwen2.5-VL's windows, vis_priv.h), the
 *      rotary tables likewise: row r is input patch perm[r / m^2] m^2 + r % m^2
 *   3. the blocks; after block l a deepstack merger when deep[l] >= 0
 *   4. the merger; its rows (and the deepstack rows, the kept block outputs)
 *      are put back in input order: working unit j is input unit perm[j]
 * Rotary tables: inv[j] = 1 / theta^((2j) / (d / 2)) for j < d / 4 (fp32, as
 * torch computes base ** (arange(0, d/2, 2) / (d/2))); pair j of a head
 * rotates by hpos * inv[j] for j < d / 4, by wpos * inv[j - d/4] below d / 2.
 */
#include <stdlib.h>
#include <string.h>

#include "../formats/base/io.h"
#include "mathfn.h"
#include "vis_priv.h"

void rf_vis_opts_init(struct rf_vis_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->n_threads = 1;
	o->simd = true;
}

void rf_vis_out_free(struct rf_vis_out *out)
{
	if (!out)
		return;
	free(out->embd);
	free(out->deep);
	free(out->patch);
	free(out->blocks);
	memset(out, 0, sizeof(*out));
}

static size_t mat_cols(const struct rf_vis_mat *m, size_t best)
{
	return m->w.cols > best ? (size_t)m->w.cols : best;
}

static size_t merger_cols(const struct rf_vis_merger *mg, size_t best)
{
	return mat_cols(&mg->fc2, mat_cols(&mg->fc1, best));
}

/* the widest matrix of the model (the matmul row buffer) */
static size_t max_cols(const struct rf_vis_model *vm)
{
	size_t best = mat_cols(&vm->patch, 0);

	for (uint32_t l = 0; l < vm->hp.n_layer; l++) {
		const struct rf_vis_block *b = &vm->blk[l];

		best = mat_cols(&b->q, mat_cols(&b->k, mat_cols(&b->v, mat_cols(&b->o, best))));
		best = mat_cols(&b->up, mat_cols(&b->gate, mat_cols(&b->down, best)));
	}
	best = merger_cols(&vm->merger, best);
	for (uint32_t k = 0; k < vm->hp.n_deep; k++)
		best = merger_cols(&vm->deep[k], best);
	return best;
}

static int rope_tables(struct vis_ctx *c, qk_err *err)
{
	const struct rf_vis_hparams *hp = &c->vm->hp;
	const struct vis_grid *g = c->g;
	const size_t hd = hp->n_embd / hp->n_head, q = hd / 4, half = hd / 2;
	float inv[RF_VIS_MAX_DIM / 4];

	c->rope_cos = rf_floats(g->n_patch, half);
	c->rope_sin = rf_floats(g->n_patch, half);
	if (!c->rope_cos || !c->rope_sin)
		return qk_err_set(err, QK_E_NOMEM, "out of memory for the rotary tables of %zu "
				  "patches", g->n_patch);
	for (size_t j = 0; j < q; j++)
		inv[j] = 1.0f / rf_powf(hp->rope_theta, (float)(2 * j) / (float)half);
	for (size_t r = 0; r < g->n_patch; r++) {
		const size_t p = g->perm[r / g->unit] * g->unit + r % g->unit;

		for (size_t j = 0; j < half; j++) {
			const float ang = j < q ? (float)g->hpos[p] * inv[j]
						: (float)g->wpos[p] * inv[j - q];

			c->rope_cos[r * half + j] = rf_cosf(ang);
			c->rope_sin[r * half + j] = rf_sinf(ang);
		}
	}
	return QK_OK;
}

/* rows of `width` floats in units of `unit` rows: dst[perm[j]] = src[j] */
static void unpermute(const struct vis_grid *g, const float *src, float *dst, size_t unit,
		      size_t width)
{
	const size_t blk = unit * width;

	for (size_t j = 0; j < g->n_unit; j++)
		memcpy(dst + g->perm[j] * blk, src + j * blk, blk * sizeof(float));
}

static void permute(const struct vis_grid *g, const float *src, float *dst, size_t width)
{
	const size_t blk = g->unit * width;

	for (size_t j = 0; j < g->n_unit; j++)
		memcpy(dst + j * blk, src + g->perm[j] * blk, blk * sizeof(float));
}

/* x_in [N, E] = the patch embedding (+ Qwen3-VL's position table) */
static int embed(struct vis_ctx *c, const float *pixels, float *x_in, qk_err *err)
{
	const struct rf_vis_model *vm = c->vm;
	const struct rf_vis_hparams *hp = &vm->hp;
	const size_t N = c->g->n_patch, E = hp->n_embd;
	const size_t K = (size_t)hp->in_ch * hp->tpatch * hp->patch * hp->patch;
	int rc;

	if ((rc = vis_linear(c, &vm->patch, pixels, N, K, E, x_in, "patch embedding", -1, err)))
		return rc;
	if (!c->g->tap)
		return QK_OK;
	if (!vm->pos)
		return qk_err_set(err, QK_E_INVALID, "vision: no position embedding table");
	for (size_t p = 0; p < N; p++) {
		const uint32_t *tp = c->g->tap + p * 4;
		const float *tw = c->g->tapw + p * 4;
		float *xp = x_in + p * E;

		for (size_t e = 0; e < E; e++) {
			float s = vm->pos[(size_t)tp[0] * E + e] * tw[0];

			for (int a = 1; a < 4; a++)
				s = s + vm->pos[(size_t)tp[a] * E + e] * tw[a];
			xp[e] = xp[e] + s;
		}
	}
	return QK_OK;
}

struct vis_bufs {
	float *x_in;  /* [N, E] input order */
	float *x;     /* [N, E] working order */
	float *a, *b, *t; /* [N, max(E, n_ff)] work */
	float *att;   /* [3, N, E] */
	float *y;     /* [n_unit, out_dim] merger output, working order */
};

static int stages(struct vis_ctx *c, const float *pixels, struct vis_bufs *bf,
		  struct rf_vis_out *out, qk_err *err)
{
	const struct rf_vis_model *vm = c->vm;
	const struct vis_grid *g = c->g;
	const size_t N = g->n_patch, E = vm->hp.n_embd, U = g->n_unit, O = vm->hp.out_dim;
	int rc;

	if ((rc = embed(c, pixels, bf->x_in, err)) || (rc = rope_tables(c, err)))
		return rc;
	if (out->patch)
		memcpy(out->patch, bf->x_in, N * E * sizeof(float));
	permute(g, bf->x_in, bf->x, E);
	for (uint32_t l = 0; l < vm->hp.n_layer; l++) {
		const int k = vm->hp.deep[l];

		if ((rc = vis_block(c, (int)l, bf->x, bf->a, bf->b, bf->t, bf->att, err)))
			return rc;
		if (out->blocks)
			unpermute(g, bf->x, out->blocks + (size_t)l * N * E, g->unit, E);
		if (k < 0)
			continue;
		if ((rc = vis_merger(c, &vm->deep[k], true, bf->x, bf->y, bf->a, bf->b, err)))
			return qk_err_prefix(err, "block %u", (unsigned)l);
		unpermute(g, bf->y, out->deep + (size_t)k * U * O, 1, O);
	}
	if ((rc = vis_merger(c, &vm->merger, false, bf->x, bf->y, bf->a, bf->b, err)))
		return rc;
	unpermute(g, bf->y, out->embd, 1, O);
	return QK_OK;
}

static float *alloc_f(size_t a, size_t b, qk_err *err)
{
	float *p = rf_floats(a, b);

	if (!p)
		qk_err_set(err, QK_E_NOMEM, "out of memory for %zu x %zu floats", a, b);
	return p;
}

static int open_ctx(struct vis_ctx *c, const struct rf_vis_opts *o, qk_err *err)
{
	int rc;

	if ((rc = rf_pool_open(&c->rc.pool, o->n_threads ? o->n_threads : 1, err)))
		return rc;
	c->rc.nt = rf_pool_size(c->rc.pool);
	rf_dot_pick(&c->rc.dot, o->simd, !o->no_avx512);
	c->rc.max_cols = max_cols(c->vm);
	c->rc.trc = calloc(c->rc.nt, sizeof(*c->rc.trc));
	c->rc.terr = calloc(c->rc.nt, sizeof(*c->rc.terr));
	if (!c->rc.trc || !c->rc.terr)
		return qk_err_set(err, QK_E_NOMEM, "out of memory for %u threads", c->rc.nt);
	if (!(c->rc.rowbuf = rf_floats((size_t)c->rc.nt * RF_ROW_BLOCK, c->rc.max_cols)))
		return qk_err_set(err, QK_E_NOMEM, "out of memory for the matmul rows");
	return QK_OK;
}

static void close_ctx(struct vis_ctx *c)
{
	rf_pool_close(c->rc.pool);
	free(c->rc.rowbuf);
	free(c->rc.scratch);
	free(c->rc.trc);
	free(c->rc.terr);
	free(c->rope_cos);
	free(c->rope_sin);
}

int rf_vis_run(const struct rf_vis_model *vm, const float *pixels, size_t n_patch,
	       const uint32_t (*grid)[3], size_t n_img, const struct rf_vis_opts *o,
	       struct rf_vis_out *out, qk_err *err)
{
	const struct rf_vis_hparams *hp = &vm->hp;
	struct rf_vis_opts def;
	struct vis_grid g;
	struct vis_ctx c;
	struct vis_bufs bf;
	size_t N, E, W, U, O;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	memset(&bf, 0, sizeof(bf));
	if (!o) {
		rf_vis_opts_init(&def);
		o = &def;
	}
	if ((rc = rf_vis_check_hparams(hp, err)) || (rc = vis_grid_build(hp, grid, n_img, &g, err)))
		return rc;
	if (g.n_patch != n_patch || !pixels) {
		rc = qk_err_set(err, QK_E_USAGE, "%zu pixel rows for grids of %zu patches", n_patch,
				g.n_patch);
		vis_grid_free(&g);
		return rc;
	}
	N = n_patch;
	E = hp->n_embd;
	W = hp->n_ff > E ? hp->n_ff : E;
	U = g.n_unit;
	O = hp->out_dim;
	c.vm = vm;
	c.g = &g;
	if ((rc = open_ctx(&c, o, err)))
		goto done;
	rc = QK_E_NOMEM;
	if (!(bf.x_in = alloc_f(N, E, err)) || !(bf.x = alloc_f(N, E, err)) ||
	    !(bf.a = alloc_f(N, W, err)) || !(bf.b = alloc_f(N, W, err)) ||
	    !(bf.t = alloc_f(N, W, err)) || !(bf.att = alloc_f(3 * N, E, err)) ||
	    !(bf.y = alloc_f(U, O, err)) || !(out->embd = alloc_f(U, O, err)) ||
	    (hp->n_deep && !(out->deep = alloc_f((size_t)hp->n_deep * U, O, err))) ||
	    (o->keep_blocks && (!(out->patch = alloc_f(N, E, err)) ||
				!(out->blocks = alloc_f((size_t)hp->n_layer * N, E, err)))))
		goto done;
	out->n_patch = N;
	out->n_tok = U;
	out->n_embd = hp->n_embd;
	out->out_dim = hp->out_dim;
	out->n_layer = hp->n_layer;
	out->n_deep = hp->n_deep;
	out->simd = c.rc.dot.simd;
	rc = stages(&c, pixels, &bf, out, err);
done:
	if (rc)
		rf_vis_out_free(out);
	free(bf.x_in);
	free(bf.x);
	free(bf.a);
	free(bf.b);
	free(bf.t);
	free(bf.att);
	free(bf.y);
	close_ctx(&c);
	vis_grid_free(&g);
	return rc;
}
