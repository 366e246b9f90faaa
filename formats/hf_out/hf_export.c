/* hf_export.c - the export plan: which HF tensors a model becomes, their
 * dtypes and shards, and the inverse of the small-tensor transforms; see
 * hf_export.h. The streaming writer and the files around it are in
 * hf_write.c, config.json in hf_config.c.
 */
#include "hf_export.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../quant/fp16.h"
#include "../base/dtype.h"
#include "hf_priv.h"
#include "../base/io.h"

/* Target values tried on each side of the one nearest to the exact inverse.
 * With glibc the nearest one already reproduces c for every BF16 and F16
 * value and every f32 in [-88, 88] (checked exhaustively); the neighbours
 * guard against double rounding and a libm whose expf rounds otherwise. */
#define HX_SEARCH 2

static const char *const outtype_names[HX_OUT_COUNT] = {
	[HX_OUT_AUTO] = "auto", [HX_OUT_F32] = "f32", [HX_OUT_F16] = "f16",
	[HX_OUT_BF16] = "bf16",
};

static const int outtype_dtype[HX_OUT_COUNT] = {
	[HX_OUT_AUTO] = -1, [HX_OUT_F32] = QK_DT_F32, [HX_OUT_F16] = QK_DT_F16,
	[HX_OUT_BF16] = QK_DT_BF16,
};

const char *hx_outtype_name(int outtype)
{
	return outtype >= 0 && outtype < HX_OUT_COUNT ? outtype_names[outtype] : NULL;
}

int hx_outtype_from_name(const char *s)
{
	for (int i = 0; s && i < HX_OUT_COUNT; i++)
		if (strcasecmp(s, outtype_names[i]) == 0)
			return i;
	return -1;
}

void hx_opts_init(struct hx_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->outtype = HX_OUT_AUTO;
	o->shard_size = HX_DEFAULT_SHARD_SIZE;
}

/* ---- small-tensor values: the inverse of F, by search ---- */

/* the forward transform in fp32, exactly as model_view.c applies it */
static float forward(int xform, float x)
{
	switch (xform) {
	case QK_X_PLUS_ONE: return 1.0f + x;
	case QK_X_NEG_EXP: return -expf(x);
	default: return x;
	}
}

/* the exact inverse, in double (only a starting point for the search) */
static double inverse(int xform, float c)
{
	switch (xform) {
	case QK_X_PLUS_ONE: return (double)c - 1.0;
	case QK_X_NEG_EXP: return log(-(double)c); /* c > 0: NaN, c = -0: -inf */
	default: return c;
	}
}

/* a value of dtype as fp32 */
static float widen_bits(int dtype, uint32_t b)
{
	switch (dtype) {
	case QK_DT_F16: return qt_fp16_to_fp32((uint16_t)b);
	case QK_DT_BF16: return qt_bf16_to_fp32((uint16_t)b);
	default: return qt_f32_from_bits(b);
	}
}

static uint32_t narrow_bits(int dtype, float x)
{
	switch (dtype) {
	case QK_DT_F16: return qt_fp32_to_fp16(x);
	case QK_DT_BF16: return qt_fp32_to_bf16(x);
	default: return qt_f32_bits(x);
	}
}

/* Values of a dtype in numeric order: +0 .. +inf are 0, 1, ...; -0 is -1,
 * the next negative -2, ... (sign-magnitude to an ordered integer). */
static int64_t ord_of(uint32_t b, unsigned bits)
{
	uint32_t sign = 1u << (bits - 1), mag = b & (sign - 1);

	return (b & sign) ? -(int64_t)mag - 1 : (int64_t)mag;
}

/* false when o names no finite-or-infinite value of the dtype */
static bool bits_of(int64_t o, unsigned bits, uint32_t inf, uint32_t *b)
{
	uint32_t sign = 1u << (bits - 1);
	int64_t mag = o >= 0 ? o : -o - 1;

	if (mag > (int64_t)inf)
		return false;
	*b = (uint32_t)mag | (o < 0 ? sign : 0);
	return true;
}

static bool same(float a, float b)
{
	return qt_f32_bits(a) == qt_f32_bits(b) || (isnan(a) && isnan(b));
}

bool hx_invert(int xform, float c, int dtype, uint32_t *bits)
{
	const unsigned nb = dtype == QK_DT_F32 ? 32 : 16;
	const uint32_t inf = dtype == QK_DT_F32 ? 0x7f800000u
			     : dtype == QK_DT_F16 ? 0x7c00u : 0x7f80u;
	double g = inverse(xform, c);
	uint32_t start = narrow_bits(dtype, (float)g);
	int64_t o;

	*bits = start;
	if (isnan(g))
		return isnan(c) && isnan(forward(xform, widen_bits(dtype, start)));
	o = ord_of(start, nb);
	for (int64_t k = 0; k <= HX_SEARCH; k++) {
		for (int s = 0; s < (k ? 2 : 1); s++) {
			uint32_t b;

			if (bits_of(s ? o - k : o + k, nb, inf, &b) &&
			    same(forward(xform, widen_bits(dtype, b)), c)) {
				*bits = b;
				return true;
			}
		}
	}
	return false;
}

/* ---- plan building ---- */

struct builder {
	struct hx_plan *p;
	size_t cap;
	int outtype;
	qk_err *err;
};

static int push(struct builder *bd, struct hx_tensor **out)
{
	struct hx_plan *p = bd->p;

	if (p->n == bd->cap) {
		size_t nc = bd->cap ? bd->cap * 2 : 64;
		struct hx_tensor *t = realloc(p->t, nc * sizeof(*t));

		if (!t)
			return qk_err_set(bd->err, QK_E_NOMEM, "out of memory planning the export");
		p->t = t;
		bd->cap = nc;
	}
	*out = &p->t[p->n++];
	memset(*out, 0, sizeof(**out));
	(*out)->dtype = -1;
	return QK_OK;
}

/* name and shape of row r at a layer (-1: global) for expert e (-1: none) */
static int name_shape(struct builder *bd, const struct qk_role_row *r, int layer, long e,
		      struct hx_tensor *t)
{
	const struct qk_model *m = bd->p->m;
	const struct qk_shape_rule *rule = r->hf_shape.n ? &r->hf_shape : &r->shape;
	const char *block = NULL;
	long num = layer;

	if (layer >= 0 && (uint32_t)layer < m->hp.n_layer) {
		block = m->table->hf_block;
	} else if (layer >= 0) {
		block = m->table->mtp_block;
		num = layer - (long)m->hp.n_layer;
	}
	char flat[HX_NAME_MAX];

	/* Qwen-VL text towers (tables with both vision layouts) in the
	 * transformers 5.x layout: model.language_model.* */
	if (!qk_name_expand(r->hf, block, num, e, flat, sizeof(flat)) ||
	    !qk_name_nest(flat, m->table->hf_vision_old ? m->table->hf_nest : NULL, t->name,
			  sizeof(t->name)))
		return qk_err_set(bd->err, QK_E_USAGE, "hf name pattern '%s' does not expand",
				  r->hf);
	if (!qk_shape_eval(rule, &m->hp, t->shape))
		return qk_err_set(bd->err, QK_E_INVALID, "tensor '%s': shape beyond 64 bits",
				  t->name);
	t->n_dims = rule->n;
	t->n_elem = 1;
	for (int i = 0; i < t->n_dims; i++)
		if (!qk_mul_u64(t->n_elem, t->shape[i], &t->n_elem))
			return qk_err_set(bd->err, QK_E_INVALID, "tensor '%s': size beyond 64 bits",
					  t->name);
	t->mtp = layer >= 0 ? (uint32_t)layer >= m->hp.n_layer : r->when == QK_W_MTP;
	return QK_OK;
}

/* dtype of view rows [row0, row0 + n) under AUTO: one float dtype -> it,
 * several float dtypes -> F32, anything else -> BF16 */
static int auto_matrix_dtype(const struct qk_view *v, uint64_t row0, uint64_t n)
{
	int first = -1;
	bool mixed = false, all_float = true;

	for (size_t i = 0; i < v->n_pieces; i++) {
		const struct qk_piece *pc = &v->pieces[i];

		if (pc->start >= row0 + n || pc->start + pc->n_rows <= row0)
			continue;
		if (first < 0)
			first = pc->dtype;
		mixed |= pc->dtype != first;
		all_float &= qk_dtype_is_float(pc->dtype);
	}
	if (!all_float || first < 0)
		return QK_DT_BF16;
	return mixed ? QK_DT_F32 : first;
}

static int add_matrix(struct builder *bd, const struct qk_role_row *r, int layer, long e,
		      int src, const struct qk_binding *b, const struct qk_binding *b2,
		      uint64_t row0, uint64_t rows)
{
	struct hx_tensor *t;
	uint64_t n;
	int rc;

	if ((rc = push(bd, &t)) || (rc = name_shape(bd, r, layer, e, t)))
		return rc;
	t->src = src;
	t->b = b;
	t->b2 = b2;
	t->row0 = row0;
	t->rows = rows;
	t->cols = b->view.cols;
	if (!qk_mul_u64(rows, t->cols, &n) || n != t->n_elem || (b2 && b2->view.cols != t->cols))
		return qk_err_set(bd->err, QK_E_USAGE,
				  "tensor '%s': %llu rows x %llu columns do not fill its shape", t->name,
				  (unsigned long long)rows, (unsigned long long)t->cols);
	t->dtype = outtype_dtype[bd->outtype];
	if (t->dtype < 0) {
		int d1 = auto_matrix_dtype(&b->view, row0, rows);
		int d2 = b2 ? auto_matrix_dtype(&b2->view, 0, b2->view.rows) : d1;

		t->dtype = d1 == d2 ? d1 : (qk_dtype_is_float(d1) && qk_dtype_is_float(d2)
					    ? QK_DT_F32 : QK_DT_BF16);
	}
	return QK_OK;
}

uint64_t hx_vt_index(const struct hx_tensor *t, uint64_t i)
{
	uint64_t k, blk, g, j;

	if (!t->vt_r || t->vt_cols || i < t->vt_skip)
		return i;
	k = i - t->vt_skip;
	blk = k / t->vt_unit;
	g = blk / t->vt_r;
	j = blk % t->vt_r;
	return t->vt_skip + (j * t->vt_nk + g) * t->vt_unit + k % t->vt_unit;
}

/* Qwen3.5: undo the grouped -> tiled value-head reorder of row r on the
 * way back to HF (rows or elements for QK_S_VT_*, columns for QK_F_V_COLS) */
static void set_vt(struct hx_tensor *t, const struct qk_role_row *r, const struct qk_hparams *hp,
		   bool small)
{
	const uint64_t nk = hp->ssm_n_k_heads, nv = hp->ssm_n_v_heads;
	const uint64_t per = small ? (t->n_elem / (t->shape[0] ? t->shape[0] : 1)) : 1;

	if (!hp->ssm_v_tiled || !nk || nv == nk || nv % nk)
		return;
	t->vt_nk = (uint32_t)nk;
	t->vt_r = (uint32_t)(nv / nk);
	if (r->flags & QK_F_V_COLS) {
		t->vt_cols = true;
	} else if (r->hf_sel == QK_S_VT_QKV) {
		t->vt_skip = 2 * nk * hp->ssm_head_k_dim * per;
		t->vt_unit = hp->ssm_head_v_dim * per;
	} else if (r->hf_sel == QK_S_VT_HEADS) {
		t->vt_unit = (small ? t->n_elem : t->rows) / nv;
	} else {
		t->vt_r = 0;
	}
}

/* the role whose rows a table's in_proj_qkvz also holds (its z block) */
static int qkvz_partner(const struct qk_arch_table *tb)
{
	for (size_t i = 0; i < tb->n_rows; i++)
		if (tb->rows[i].hf_sel == QK_S_QKVZ_Z)
			return tb->rows[i].role;
	return -1;
}

/* the HF tensor(s) of table row r at a layer */
static int add_row(struct builder *bd, const struct qk_role_row *r, int layer)
{
	const struct qk_model *m = bd->p->m;
	const struct qk_binding *b, *b2;
	struct hx_tensor *t;
	int rc;

	if (!r->hf || (r->flags & QK_F_DERIVED) || r->hf_sel == QK_S_QKVZ_Z)
		return QK_OK; /* never in HF files, or written with another row */
	b = qk_model_get(m, r->role, layer);
	if (!b) {
		if (r->presence != QK_P_BIAS || !bd->p->attn_bias)
			return QK_OK;
		if ((rc = push(bd, &t)) || (rc = name_shape(bd, r, layer, -1, t)))
			return rc;
		t->src = HX_SRC_ZEROS;
		return QK_OK;
	}
	if (qk_role_kind(r->role) == QK_KIND_SMALL) {
		if ((rc = push(bd, &t)) || (rc = name_shape(bd, r, layer, -1, t)))
			return rc;
		t->src = HX_SRC_SMALL;
		t->b = b;
		t->xform = r->xform;
		if (t->n_elem != b->n_f32)
			return qk_err_set(bd->err, QK_E_USAGE, "tensor '%s': %llu values for %llu elements",
					  t->name, (unsigned long long)b->n_f32,
					  (unsigned long long)t->n_elem);
		set_vt(t, r, &m->hp, true);
		return QK_OK;
	}
	if (r->hf_sel == QK_S_EXPERTS) {
		uint64_t per = m->hp.n_expert ? b->view.rows / m->hp.n_expert : 0;

		for (uint32_t e = 0; e < m->hp.n_expert; e++)
			if ((rc = add_matrix(bd, r, layer, e, HX_SRC_VIEW, b, NULL, e * per, per)))
				return rc;
		return QK_OK;
	}
	if (r->hf_sel == QK_S_QKVZ_QKV) {
		b2 = qk_model_get(m, qkvz_partner(m->table), layer);
		if (!b2)
			return qk_err_set(bd->err, QK_E_INVALID,
					  "layer %d has attn_qkv but no attn_gate to rebuild in_proj_qkvz",
					  layer);
		return add_matrix(bd, r, layer, -1, HX_SRC_QKVZ, b, b2, 0,
				  b->view.rows + b2->view.rows);
	}
	if ((rc = add_matrix(bd, r, layer, -1, HX_SRC_VIEW, b, NULL, 0, b->view.rows)))
		return rc;
	set_vt(&bd->p->t[bd->p->n - 1], r, &m->hp, false);
	return QK_OK;
}

/* rows in model order: the token embedding, the layers (MTP layers after
 * the model's), the other globals, the MTP globals */
static int add_all(struct builder *bd)
{
	const struct qk_model *m = bd->p->m;
	const struct qk_arch_table *tb = m->table;
	int rc;

	for (size_t i = 0; i < tb->n_rows; i++)
		if (tb->rows[i].when == QK_W_GLOBAL && tb->rows[i].role == QK_R_TOKEN_EMBD &&
		    (rc = add_row(bd, &tb->rows[i], -1)))
			return rc;
	for (uint32_t l = 0; l < m->n_layer_all; l++) {
		unsigned fl = qk_model_layer_flags(m, l);

		for (size_t i = 0; i < tb->n_rows; i++)
			if (qk_when_applies(tb->rows[i].when, fl) &&
			    (rc = add_row(bd, &tb->rows[i], (int)l)))
				return rc;
	}
	for (size_t i = 0; i < tb->n_rows; i++)
		if (tb->rows[i].when == QK_W_GLOBAL && tb->rows[i].role != QK_R_TOKEN_EMBD &&
		    (rc = add_row(bd, &tb->rows[i], -1)))
			return rc;
	for (size_t i = 0; m->n_mtp && i < tb->n_rows; i++)
		if (tb->rows[i].when == QK_W_MTP && (rc = add_row(bd, &tb->rows[i], -1)))
			return rc;
	return QK_OK;
}

/* the float dtype holding most exported matrix elements (BF16 if none) */
static int dominant_dtype(const struct hx_plan *p)
{
	const int kinds[3] = { QK_DT_BF16, QK_DT_F16, QK_DT_F32 };
	uint64_t count[3] = { 0, 0, 0 };
	int best = 0;

	for (size_t i = 0; i < p->n; i++)
		for (int k = 0; k < 3; k++)
			if ((p->t[i].src == HX_SRC_VIEW || p->t[i].src == HX_SRC_QKVZ) &&
			    p->t[i].dtype == kinds[k])
				count[k] += p->t[i].n_elem;
	for (int k = 1; k < 3; k++)
		if (count[k] > count[best])
			best = k;
	return kinds[best];
}

/* elements of a small tensor with no exact preimage in dtype */
static uint64_t n_inexact(const struct hx_tensor *t, int dtype)
{
	uint64_t n = 0;
	uint32_t bits;

	for (uint64_t i = 0; i < t->b->n_f32; i++)
		n += !hx_invert(t->xform, t->b->f32[i], dtype, &bits);
	return n;
}

/* Do all rows of an F32 matrix hold values of dtype exactly? (GGUF
 * converters write routers as F32 whatever the checkpoint held.) */
static int fits(const struct hx_tensor *t, int dtype, bool *ok, qk_err *err)
{
	const struct qk_view *v = &t->b->view;
	float *row = malloc((size_t)(v->cols ? v->cols : 1) * sizeof(float));
	int rc = QK_OK;

	if (!row)
		return qk_err_set(err, QK_E_NOMEM, "out of memory planning the export");
	*ok = true;
	for (uint64_t r = t->row0; !rc && *ok && r < t->row0 + t->rows; r++) {
		rc = qk_view_read_row(v, r, row, err);
		for (uint64_t k = 0; !rc && *ok && k < v->cols; k++)
			*ok = qt_f32_bits(widen_bits(dtype, narrow_bits(dtype, row[k]))) ==
			      qt_f32_bits(row[k]);
	}
	free(row);
	return rc;
}

/* AUTO from a GGUF input: F32 matrices next to narrower ones are narrowed
 * when no value changes */
static int narrow_f32_matrices(struct hx_plan *p, int dom, qk_err *err)
{
	for (size_t i = 0; dom != QK_DT_F32 && i < p->n; i++) {
		struct hx_tensor *t = &p->t[i];
		bool ok;
		int rc;

		if (t->src != HX_SRC_VIEW || t->dtype != QK_DT_F32)
			continue;
		if ((rc = fits(t, dom, &ok, err)))
			return rc;
		if (ok)
			t->dtype = dom;
	}
	return QK_OK;
}

static void small_dtypes(struct hx_plan *p, int outtype)
{
	const int dom = p->dtype;

	for (size_t i = 0; i < p->n; i++) {
		struct hx_tensor *t = &p->t[i];
		int src_dt = t->b ? t->b->src->dtype : -1;
		uint64_t bad;

		if (t->src == HX_SRC_ZEROS)
			t->dtype = outtype == HX_OUT_AUTO ? dom : outtype_dtype[outtype];
		if (t->src != HX_SRC_SMALL)
			continue;
		if (outtype != HX_OUT_AUTO) {
			t->dtype = outtype_dtype[outtype];
		} else {
			/* an HF input says what a small tensor was; a GGUF one does not */
			t->dtype = p->m->form == QK_FORM_HF && qk_dtype_is_float(src_dt) ? src_dt
										     : dom;
			if (t->dtype != QK_DT_F32 && n_inexact(t, t->dtype))
				t->dtype = QK_DT_F32;
		}
		bad = n_inexact(t, t->dtype);
		p->n_inexact += bad;
	}
}

/* huggingface_hub's split: a tensor over the limit gets its own shard when
 * met; otherwise the current shard is closed when the next would pass it */
static void assign_shards(struct hx_plan *p, uint64_t limit)
{
	size_t n_shards = 0, cur = SIZE_MAX;
	uint64_t cur_size = 0;

	for (size_t i = 0; i < p->n; i++) {
		struct hx_tensor *t = &p->t[i];

		if (t->nbytes > limit) {
			t->shard = n_shards++;
			continue;
		}
		if (cur == SIZE_MAX || cur_size + t->nbytes > limit) {
			cur = n_shards++;
			cur_size = 0;
		}
		t->shard = cur;
		cur_size += t->nbytes;
	}
	p->n_shards = n_shards ? n_shards : 1;
}

int hx_plan_build(struct hx_plan *p, const struct qk_model *m, const struct hx_opts *o,
		  qk_err *err)
{
	struct hx_opts def;
	struct builder bd = { .p = p, .err = err };
	const char *bias_key;
	int rc;

	memset(p, 0, sizeof(*p));
	if (!o) {
		hx_opts_init(&def);
		o = &def;
	}
	if (!m || !m->table || o->outtype < 0 || o->outtype >= HX_OUT_COUNT)
		return qk_err_set(err, QK_E_USAGE, "export: no model, or outtype %d out of range",
				  o->outtype);
	p->m = m;
	p->n_mtp = m->n_mtp;
	bd.outtype = o->outtype;
	/* biases: a config key that can switch them off, else always on */
	bias_key = hx_bias_key(m->hp.arch);
	p->attn_bias = !bias_key;
	for (size_t i = 0; i < m->n_bind; i++)
		p->attn_bias |= m->bind[i].row->presence == QK_P_BIAS;
	if ((rc = add_all(&bd)) ||
	    (o->vision && (rc = hx_add_vision(p, o->vision, outtype_dtype[o->outtype], err))))
		goto fail;
	p->dtype = dominant_dtype(p);
	if (o->outtype == HX_OUT_AUTO && m->form == QK_FORM_GGUF &&
	    (rc = narrow_f32_matrices(p, p->dtype, err)))
		goto fail;
	small_dtypes(p, o->outtype);
	for (size_t i = 0; i < p->n; i++) {
		struct hx_tensor *t = &p->t[i];

		if (!qk_dtype_nbytes(t->dtype, t->n_elem, &t->nbytes) ||
		    !qk_add_u64(p->total_size, t->nbytes, &p->total_size)) {
			rc = qk_err_set(err, QK_E_INVALID, "tensor '%s': size beyond 64 bits", t->name);
			goto fail;
		}
		if (!t->mtp)
			p->n_params += t->n_elem;
	}
	assign_shards(p, o->shard_size ? o->shard_size : HX_DEFAULT_SHARD_SIZE);
	return QK_OK;
fail:
	hx_plan_free(p);
	return rc;
}

void hx_plan_free(struct hx_plan *p)
{
	if (!p)
		return;
	hx_vision_free(p);
	free(p->t);
	memset(p, 0, sizeof(*p));
}

void hx_shard_name(const struct hx_plan *p, size_t shard, char *buf, size_t size)
{
	if (p->n_shards <= 1)
		snprintf(buf, size, "model.safetensors");
	else
		snprintf(buf, size, "model-%05zu-of-%05zu.safetensors", shard + 1, p->n_shards);
}
