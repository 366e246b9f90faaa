/* vis_load.c - an rf_vis_model from a bound vision tower (formats/model/
 * vision.h: an HF checkpoint's visual.* / model.visual.* tensors or an mmproj
 * GGUF, bound to the QK_R_V_* roles by the one name table), and the check
 * that its weights are finite.
 *
 * Matrices are the bindings' views (read row by row, any dtype or quant
 * type); a fused qkv [3E, E] (Qwen3-VL's, in both forms) is used as three
 * row ranges. Norms and biases are the bindings' fp32 arrays. The patch
 * embedding, two temporal slices [E, C, P, P] in the GGUF form (each viewed
 * as rows of P: row (e, c, y)), is gathered once into an fp32 matrix
 * [E, C * T * P * P] in the Conv3d kernel's column order (c, t, y, x), the
 * order of a pixel row.
 *
 * Hyperparameters (vs_hparams -> rf_vis_hparams): the family decides the
 * block MLP's activation (Qwen2-VL quick_gelu, Qwen2.5-VL SiLU, Qwen3-VL
 * gelu tanh: the transformers 5.23 vision configs' hidden_act, the only one
 * each family's checkpoints use); Qwen2.5-VL's full-attention blocks are
 * fullatt_block_indexes, or from an mmproj the blocks l with (l + 1) %
 * n_wa_pattern == 0 (llama.cpp's clip.cpp); its window is config.json's
 * window_size, else (an mmproj stores none) 112 pixels, what llama.cpp
 * assumes (rf_vis_from_vs says so through *window_assumed); the axial rope
 * theta is 10000 in every family.
 */
#include <stdlib.h>
#include <string.h>

#include "../formats/base/dtype.h"
#include "vis.h"

#define RF_VIS_WINDOW_LLAMACPP 112 /* llama.cpp's Qwen2.5-VL window, in pixels */

void rf_vis_model_free(struct rf_vis_model *vm)
{
	if (!vm)
		return;
	for (size_t i = 0; i < vm->n_owned; i++)
		free(vm->owned[i]);
	free(vm->owned);
	free(vm->smalls);
	memset(vm, 0, sizeof(*vm));
}

static void *own(struct rf_vis_model *vm, size_t bytes, qk_err *err)
{
	void *p;

	if (vm->n_owned == vm->cap_owned) {
		size_t cap = vm->cap_owned ? 2 * vm->cap_owned : 64;
		void **o = realloc(vm->owned, cap * sizeof(*o));

		if (!o) {
			qk_err_set(err, QK_E_NOMEM, "out of memory binding the vision tower");
			return NULL;
		}
		vm->owned = o;
		vm->cap_owned = cap;
	}
	if (!(p = calloc(1, bytes ? bytes : 1))) {
		qk_err_set(err, QK_E_NOMEM, "out of memory binding the vision tower");
		return NULL;
	}
	vm->owned[vm->n_owned++] = p;
	return p;
}

/* ---- the finite check ---- */

/* the rows of one matrix */
static int check_mat(const struct rf_vis_mat *m, float *buf, qk_err *err)
{
	for (uint64_t r = m->row0; r < m->row0 + m->rows; r++) {
		uint64_t c;
		int rc = qk_view_read_row(&m->w, r, buf, err);

		if (rc)
			return rc;
		if (qk_first_nonfinite(buf, m->w.cols, &c))
			return qk_err_nonfinite(err, m->w.pieces[0].t->name, m->w.rows, m->w.cols, r,
						c, buf[c]);
	}
	return QK_OK;
}

int rf_vis_check_finite(const struct rf_vis_model *vm, qk_err *err)
{
	const struct rf_vis_hparams *hp = &vm->hp;
	const size_t nm = 3 + 7 * (size_t)hp->n_layer + 2 * (size_t)hp->n_deep;
	const struct rf_vis_mat **ms;
	size_t n = 0, cols = 0;
	float *buf = NULL;
	int rc = QK_OK;

	for (size_t i = 0; i < vm->n_smalls; i++) {
		uint64_t c;

		if (qk_first_nonfinite(vm->smalls[i].v, vm->smalls[i].n, &c))
			return qk_err_nonfinite(err, vm->smalls[i].name, 1, vm->smalls[i].n, 0, c,
						vm->smalls[i].v[c]);
	}
	if (!(ms = malloc(nm * sizeof(*ms))))
		return qk_err_set(err, QK_E_NOMEM, "out of memory");
	ms[n++] = &vm->patch;
	for (uint32_t l = 0; l < hp->n_layer; l++) {
		const struct rf_vis_block *b = &vm->blk[l];
		const struct rf_vis_mat *bl[7] = { &b->q, &b->k, &b->v, &b->o, &b->up, &b->gate,
						   &b->down };

		for (int i = 0; i < 7; i++)
			ms[n++] = bl[i];
	}
	ms[n++] = &vm->merger.fc1;
	ms[n++] = &vm->merger.fc2;
	for (uint32_t k = 0; k < hp->n_deep; k++) {
		ms[n++] = &vm->deep[k].fc1;
		ms[n++] = &vm->deep[k].fc2;
	}
	for (size_t i = 0; i < n; i++)
		cols = ms[i]->w.cols > cols ? (size_t)ms[i]->w.cols : cols;
	if (!(buf = malloc(cols * sizeof(float) + 1)))
		rc = qk_err_set(err, QK_E_NOMEM, "out of memory");
	for (size_t i = 0; !rc && i < n; i++)
		if (ms[i]->w.n_pieces)
			rc = check_mat(ms[i], buf, err);
	free(buf);
	free(ms);
	return rc;
}

/* ---- from the bound tower ---- */

struct vbind {
	struct rf_vis_model *vm;
	const struct vs_model *vs;
	int rc;
	qk_err *err;
};

/* a small role's fp32 values (n of them, from value off), or NULL when the
 * role is absent and optional */
static const float *small(struct vbind *c, int role, int layer, uint64_t off, uint64_t n,
			  bool required)
{
	const struct qk_binding *b = vs_get(c->vs, role, layer);
	struct rf_vis_model *vm = c->vm;
	const float *v = b ? b->f32 : NULL;
	uint64_t have = b ? b->n_f32 : 0;

	if (c->rc)
		return NULL;
	if (b && !v && b->view.n_pieces && b->view.rows && b->view.cols &&
	    b->view.rows <= UINT64_MAX / b->view.cols) { /* a matrix role: the position table */
		float *f = own(vm, b->view.rows * b->view.cols * sizeof(float), c->err);

		if (!f) {
			c->rc = QK_E_NOMEM;
			return NULL;
		}
		for (uint64_t r = 0; r < b->view.rows && !c->rc; r++)
			c->rc = qk_view_read_row(&b->view, r, f + r * b->view.cols, c->err);
		if (c->rc)
			return NULL;
		v = f;
		have = b->view.rows * b->view.cols;
	}
	if (!b || !v || have < off + n) {
		if (b || required)
			c->rc = qk_err_set(c->err, QK_E_INVALID, "vision %s of block %d: %llu values, "
					   "expected %llu", qk_role_name(role), layer,
					   (unsigned long long)have, (unsigned long long)(off + n));
		return NULL;
	}
	if (vm->n_smalls == vm->cap_smalls) {
		const size_t cap = vm->cap_smalls ? 2 * vm->cap_smalls : 64;
		struct rf_vis_small *sm = realloc(vm->smalls, cap * sizeof(*sm));

		if (!sm) {
			c->rc = qk_err_set(c->err, QK_E_NOMEM, "out of memory");
			return NULL;
		}
		vm->smalls = sm;
		vm->cap_smalls = cap;
	}
	vm->smalls[vm->n_smalls++] = (struct rf_vis_small){ b->src->name, v + off, n };
	return v + off;
}

/* rows [row0, row0 + rows) of a matrix role and its bias role */
static void mat(struct vbind *c, int role, int bias, int layer, uint64_t row0, uint64_t rows,
		struct rf_vis_mat *m)
{
	const struct qk_binding *b = vs_get(c->vs, role, layer);

	if (c->rc)
		return;
	if (!b || !b->view.n_pieces || b->view.rows < row0 + rows) {
		c->rc = qk_err_set(c->err, QK_E_INVALID, "vision %s of block %d: %llu rows, expected "
				   "%llu", qk_role_name(role), layer,
				   (unsigned long long)(b ? b->view.rows : 0),
				   (unsigned long long)(row0 + rows));
		return;
	}
	m->w = b->view;
	m->row0 = row0;
	m->rows = rows;
	m->b = small(c, bias, layer, row0, rows, true);
}

/* q, k, v: three roles, or thirds of the fused one */
static void qkv(struct vbind *c, int l, struct rf_vis_block *bk)
{
	const uint64_t E = c->vm->hp.n_embd;

	if (vs_get(c->vs, QK_R_V_ATTN_QKV, l)) {
		mat(c, QK_R_V_ATTN_QKV, QK_R_V_ATTN_QKV_B, l, 0, E, &bk->q);
		mat(c, QK_R_V_ATTN_QKV, QK_R_V_ATTN_QKV_B, l, E, E, &bk->k);
		mat(c, QK_R_V_ATTN_QKV, QK_R_V_ATTN_QKV_B, l, 2 * E, E, &bk->v);
	} else {
		mat(c, QK_R_V_ATTN_Q, QK_R_V_ATTN_Q_B, l, 0, E, &bk->q);
		mat(c, QK_R_V_ATTN_K, QK_R_V_ATTN_K_B, l, 0, E, &bk->k);
		mat(c, QK_R_V_ATTN_V, QK_R_V_ATTN_V_B, l, 0, E, &bk->v);
	}
}

/* the Conv3d weight [E, C*T*P*P] from the two temporal slices */
static void patch(struct vbind *c)
{
	struct rf_vis_model *vm = c->vm;
	const struct rf_vis_hparams *hp = &vm->hp;
	const uint64_t E = hp->n_embd, C = hp->in_ch, T = hp->tpatch, P = hp->patch;
	const uint64_t K = C * T * P * P;
	const struct qk_binding *sl[2] = { vs_get(c->vs, QK_R_V_PATCH, -1),
					   vs_get(c->vs, QK_R_V_PATCH_1, -1) };
	struct qk_tensor *t;
	struct qk_piece *p;
	float *w;

	if (T != 2 || !sl[0] || !sl[1] || sl[0]->view.rows != E * C * P ||
	    sl[1]->view.rows != E * C * P || sl[0]->view.cols != P || sl[1]->view.cols != P) {
		c->rc = qk_err_set(c->err, QK_E_INVALID, "vision patch embedding: expected two "
				   "temporal slices of [%llu, %llu, %llu, %llu]",
				   (unsigned long long)E, (unsigned long long)C,
				   (unsigned long long)P, (unsigned long long)P);
		return;
	}
	if (!(w = own(vm, E * K * sizeof(float), c->err)) ||
	    !(t = own(vm, sizeof(*t), c->err)) || !(p = own(vm, sizeof(*p), c->err))) {
		c->rc = QK_E_NOMEM;
		return;
	}
	for (uint64_t e = 0; e < E && !c->rc; e++)
		for (uint64_t ch = 0; ch < C && !c->rc; ch++)
			for (uint64_t ti = 0; ti < T && !c->rc; ti++)
				for (uint64_t y = 0; y < P && !c->rc; y++)
					c->rc = qk_view_read_row(&sl[ti]->view, (e * C + ch) * P + y,
								 w + e * K + ((ch * T + ti) * P + y) * P,
								 c->err);
	if (c->rc)
		return;
	/* a catalog-like tensor over the owned matrix, so rf_matmul reads it */
	t->name = sl[0]->src->name;
	t->dtype = QK_DT_F32;
	t->n_dims = 2;
	t->shape[0] = E;
	t->shape[1] = K;
	t->n_elem = E * K;
	t->nbytes = E * K * sizeof(float);
	t->data = (const uint8_t *)w;
	*p = (struct qk_piece){ .t = t, .row0 = 0, .n_rows = E, .start = 0,
				.row_bytes = K * sizeof(float), .dtype = QK_DT_F32 };
	vm->patch.w = (struct qk_view){ .rows = E, .cols = K, .n_pieces = 1, .pieces = p };
	vm->patch.row0 = 0;
	vm->patch.rows = E;
	vm->patch.b = small(c, QK_R_V_PATCH_B, -1, 0, E, false);
}

static void merger(struct vbind *c, int nw, int nb, int w1, int b1, int w2, int b2, int layer,
		   uint64_t n_norm, bool bias, struct rf_vis_merger *mg)
{
	const struct rf_vis_hparams *hp = &c->vm->hp;
	const uint64_t M = (uint64_t)hp->merge * hp->merge * hp->n_embd;

	mg->n_w = small(c, nw, layer, 0, n_norm, true);
	mg->n_b = small(c, nb, layer, 0, n_norm, bias);
	mat(c, w1, b1, layer, 0, M, &mg->fc1);
	mat(c, w2, b2, layer, 0, hp->out_dim, &mg->fc2);
}

static const struct {
	int kind, act;
} families[VS_FAM_COUNT] = {
	[VS_FAM_QWEN2VL] = { RF_VIS_QWEN2VL, RF_VIS_ACT_QUICK_GELU },
	[VS_FAM_QWEN25VL] = { RF_VIS_QWEN25VL, RF_VIS_ACT_SILU },
	[VS_FAM_QWEN3VL] = { RF_VIS_QWEN3VL, RF_VIS_ACT_GELU_TANH },
};

static int hparams(struct rf_vis_hparams *hp, const struct vs_hparams *vh, bool *assumed,
		   qk_err *err)
{
	if (vh->family < 0 || vh->family >= VS_FAM_COUNT)
		return qk_err_set(err, QK_E_UNSUPPORTED, "vision family %d", vh->family);
	memset(hp, 0, sizeof(*hp));
	hp->kind = families[vh->family].kind;
	hp->act = families[vh->family].act;
	hp->n_embd = vh->n_embd;
	hp->n_ff = vh->n_ff;
	hp->n_head = vh->n_head;
	hp->n_layer = vh->depth;
	hp->patch = vh->patch;
	hp->tpatch = vh->temporal_patch;
	hp->in_ch = vh->in_chans;
	hp->merge = vh->merge;
	hp->out_dim = vh->n_out;
	hp->n_pos = vh->n_pos;
	hp->eps = vh->eps > 0.0f ? vh->eps : 1e-6f;
	hp->rope_theta = 10000.0f;
	*assumed = hp->kind == RF_VIS_QWEN25VL && !vh->window_size;
	hp->window = *assumed ? RF_VIS_WINDOW_LLAMACPP : vh->window_size;
	for (uint32_t l = 0; l < RF_VIS_MAX_LAYERS; l++)
		hp->deep[l] = -1;
	for (uint32_t l = 0; hp->kind == RF_VIS_QWEN25VL && l < vh->depth && l < RF_VIS_MAX_LAYERS;
	     l++)
		hp->full[l] = !vh->n_fullatt && vh->n_wa_pattern && (l + 1) % vh->n_wa_pattern == 0;
	for (uint32_t i = 0; hp->kind == RF_VIS_QWEN25VL && i < vh->n_fullatt; i++)
		if (vh->fullatt[i] < RF_VIS_MAX_LAYERS)
			hp->full[vh->fullatt[i]] = true;
	for (uint32_t k = 0; k < vh->n_deepstack; k++)
		if (vh->deepstack[k] < RF_VIS_MAX_LAYERS && hp->deep[vh->deepstack[k]] < 0)
			hp->deep[vh->deepstack[k]] = (int16_t)hp->n_deep++;
	return rf_vis_check_hparams(hp, err);
}

int rf_vis_from_vs(struct rf_vis_model *vm, const struct vs_model *vs, bool *window_assumed,
		   qk_err *err)
{
	struct vbind c = { vm, vs, QK_OK, err };
	const struct rf_vis_hparams *hp = &vm->hp;
	bool assumed = false;
	uint64_t E, F;

	memset(vm, 0, sizeof(*vm));
	if ((c.rc = hparams(&vm->hp, &vs->vh, &assumed, err)))
		return c.rc;
	E = hp->n_embd;
	F = hp->n_ff;
	patch(&c);
	vm->pos = small(&c, QK_R_V_POS, -1, 0, (uint64_t)hp->n_pos * E, hp->kind == RF_VIS_QWEN3VL);
	if (!c.rc && !(vm->blk = own(vm, hp->n_layer * sizeof(*vm->blk), err)))
		c.rc = QK_E_NOMEM;
	for (int l = 0; !c.rc && l < (int)hp->n_layer; l++) {
		struct rf_vis_block *bk = &vm->blk[l];
		const bool ln = hp->kind != RF_VIS_QWEN25VL;

		bk->n1_w = small(&c, QK_R_V_LN1, l, 0, E, true);
		bk->n1_b = small(&c, QK_R_V_LN1_B, l, 0, E, ln);
		bk->n2_w = small(&c, QK_R_V_LN2, l, 0, E, true);
		bk->n2_b = small(&c, QK_R_V_LN2_B, l, 0, E, ln);
		qkv(&c, l, bk);
		mat(&c, QK_R_V_ATTN_OUT, QK_R_V_ATTN_OUT_B, l, 0, E, &bk->o);
		mat(&c, QK_R_V_FFN_UP, QK_R_V_FFN_UP_B, l, 0, F, &bk->up);
		if (hp->kind == RF_VIS_QWEN25VL)
			mat(&c, QK_R_V_FFN_GATE, QK_R_V_FFN_GATE_B, l, 0, F, &bk->gate);
		mat(&c, QK_R_V_FFN_DOWN, QK_R_V_FFN_DOWN_B, l, 0, E, &bk->down);
	}
	merger(&c, QK_R_V_POST_LN, QK_R_V_POST_LN_B, QK_R_V_MM0, QK_R_V_MM0_B, QK_R_V_MM2,
	       QK_R_V_MM2_B, -1, E, hp->kind != RF_VIS_QWEN25VL, &vm->merger);
	if (!c.rc && hp->n_deep && !(vm->deep = own(vm, hp->n_deep * sizeof(*vm->deep), err)))
		c.rc = QK_E_NOMEM;
	for (uint32_t l = 0; !c.rc && l < hp->n_layer; l++)
		if (hp->deep[l] >= 0)
			merger(&c, QK_R_V_DS_NORM, QK_R_V_DS_NORM_B, QK_R_V_DS_FC1, QK_R_V_DS_FC1_B,
			       QK_R_V_DS_FC2, QK_R_V_DS_FC2_B, (int)l,
			       (uint64_t)hp->merge * hp->merge * E, true, &vm->deep[hp->deep[l]]);
	if (c.rc)
		rf_vis_model_free(vm);
	else if (window_assumed)
		*window_assumed = assumed;
	return c.rc;
}
