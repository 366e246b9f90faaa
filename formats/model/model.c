/* model.c - binding catalog tensors to architecture roles; see model.h.
 *
 * Binding goes from the table to the catalog: for each row that applies to a
 * layer, the expected name is built from the row's pattern and looked up.
 * A tensor found is checked (shape, dtype, byte size) and marked claimed;
 * afterwards any catalog tensor left unclaimed is an error. Rows that share a
 * source (in_proj_qkvz, Qwen1's c_attn) build the same name, so they find the
 * same tensor and claim it once.
 */
#include "model.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/dtype.h"
#include "../base/io.h"
#include "model_priv.h"

#define CLAIM_NONE (-2) /* claims[i].role while nobody has claimed it */

struct ctx {
	struct qk_model *m;
	const struct qk_catalog *cat;
	const struct qk_hparams *hp;
	bool gguf;
	qk_err *err;
};

/* ---- messages ---- */

/* "ffn_up of layer 3", "ffn_up of MTP layer 0", "output_norm" */
static void what(const struct ctx *c, int role, int layer, char *buf, size_t n)
{
	const char *name = qk_role_name(role);

	if (layer < 0)
		snprintf(buf, n, "%s", name);
	else if ((uint32_t)layer < c->hp->n_layer)
		snprintf(buf, n, "%s of layer %d", name, layer);
	else
		snprintf(buf, n, "%s of MTP layer %u", name, (unsigned)layer - c->hp->n_layer);
}

static int missing(const struct ctx *c, const char *name, int role, int layer,
		   const char *extra)
{
	char w[512], r[128];

	qk_model_where(c->cat, NULL, w, sizeof(w));
	what(c, role, layer, r, sizeof(r));
	return qk_err_set(c->err, QK_E_INVALID, "%smissing tensor '%s' (%s%s, %s model)", w, name,
			  r, extra, qk_arch_gguf_name(c->hp->arch));
}

/* ---- layers ---- */

unsigned qk_model_layer_flags(const struct qk_model *m, uint32_t layer)
{
	if (layer < m->hp.n_layer)
		return m->hp.layer_flags[layer];
	if (layer < m->n_layer_all)
		return m->hp.n_expert ? QK_LAYER_MOE : 0;
	return 0;
}

/* block prefix and number for a layer's names */
static const char *block_of(const struct ctx *c, int layer, long *num)
{
	const struct qk_arch_table *t = c->m->table;

	*num = layer;
	if (layer < 0)
		return NULL;
	if (c->gguf)
		return t->gguf_block;
	if ((uint32_t)layer < c->hp->n_layer)
		return t->hf_block;
	*num = layer - (long)c->hp->n_layer;
	return t->mtp_block;
}

static int name_of(const struct ctx *c, const char *pat, int layer, long expert, char *buf,
		   size_t n)
{
	long num;
	const char *blk = block_of(c, layer, &num);
	const char *nest = c->m->hf_nested ? c->m->table->hf_nest : NULL;
	char tmp[QK_NAME_BUF];

	if (!qk_name_expand(pat, blk, num, expert, tmp, sizeof(tmp)) ||
	    !qk_name_nest(tmp, nest, buf, n))
		return qk_err_set(c->err, QK_E_USAGE, "tensor name pattern '%s' does not expand",
				  pat);
	return QK_OK;
}

/* ---- checks ---- */

/* float-like safetensors types a matrix may hold (read support may lag) */
static bool matrix_dtype_ok(int dt)
{
	static const int extra_ok[] = { QK_DT_F64, QK_DT_F4, QK_DT_F6_E2M3, QK_DT_F6_E3M2,
					QK_DT_F8_E5M2, QK_DT_F8_E4M3, QK_DT_F8_E4M3FNUZ,
					QK_DT_F8_E5M2FNUZ };
	const struct qt_type *q = dt < QK_DT_EXTRA ? qt_type_get(dt) : NULL;

	if (qk_dtype_is_float(dt) || (q && q->is_quant))
		return true;
	for (size_t i = 0; i < sizeof(extra_ok) / sizeof(extra_ok[0]); i++)
		if (dt == extra_ok[i])
			return true;
	return false;
}

/* Shape against the rule, dtype against the role kind, byte size against
 * shape and dtype. */
static int check_tensor(const struct ctx *c, const struct qk_tensor *t,
			const struct qk_shape_rule *rule, const struct qk_role_row *r, int layer)
{
	uint64_t exp[QK_SHAPE_MAX], nbytes;
	char w[512], got[160], want[160], why[256], rn[128];
	bool ok;
	int kind = qk_role_kind(r->role);

	qk_model_where(c->cat, t, w, sizeof(w));
	what(c, r->role, layer, rn, sizeof(rn));
	if (!qk_shape_eval(rule, c->hp, exp))
		return qk_err_set(c->err, QK_E_INVALID,
				  "%stensor '%s': the hyperparameters give %s a size beyond 64 bits",
				  w, t->name, rn);
	qk_shape_str(exp, rule->n, want, sizeof(want));
	qk_shape_explain(rule, c->hp, why, sizeof(why));
	for (int i = 0; i < rule->n; i++)
		if (exp[i] == 0)
			return qk_err_set(c->err, QK_E_INVALID,
					  "%stensor '%s': the hyperparameters give %s the shape %s "
					  "(%s), which is empty", w, t->name, rn, want, why);
	ok = t->n_dims == rule->n;
	for (int i = 0; ok && i < rule->n; i++)
		ok = t->shape[i] == exp[i];
	if (!ok && (r->flags & QK_F_ALLOW_1D) && rule->n == 2 && exp[0] == 1)
		ok = t->n_dims == 1 && t->shape[0] == exp[1];
	if (!ok) {
		qk_shape_str(t->shape, t->n_dims, got, sizeof(got));
		return qk_err_set(c->err, QK_E_INVALID, "%stensor '%s': shape %s, expected %s (%s)",
				  w, t->name, got, want, why);
	}
	if (t->pq && kind != QK_KIND_SMALL)
		return QK_OK; /* a pre-quantized storage, checked when attached (pq.h) */
	if (kind == QK_KIND_SMALL ? !qk_dtype_is_float(t->dtype) || t->pq
				  : !matrix_dtype_ok(t->dtype))
		return qk_err_set(c->err, QK_E_INVALID, "%stensor '%s': dtype %s, expected %s for %s",
				  w, t->name, qk_dtype_name(t->dtype),
				  kind == QK_KIND_SMALL ? "F32, F16 or BF16"
							: "a float or ggml quantized type", rn);
	if (!qk_dtype_nbytes(t->dtype, t->n_elem, &nbytes) || nbytes != t->nbytes ||
	    (nbytes && !t->data))
		return qk_err_set(c->err, QK_E_INVALID,
				  "%stensor '%s': holds %llu bytes, which is not %s %s", w, t->name,
				  (unsigned long long)t->nbytes, qk_dtype_name(t->dtype), want);
	return QK_OK;
}

static void claim(struct ctx *c, const struct qk_tensor *t, int role, int layer, int expert)
{
	struct qk_claim *cl = &c->m->claims[t - c->cat->tensors];

	if (cl->role != CLAIM_NONE)
		return; /* a row sharing the source of an earlier one */
	cl->role = role;
	cl->layer = layer;
	cl->expert = expert;
	cl->mtp = layer >= 0 && (uint32_t)layer >= c->hp->n_layer;
}

/* ---- bindings ---- */

static int new_binding(struct ctx *c, const struct qk_role_row *r, int layer,
		       const struct qk_tensor *src, struct qk_binding **out)
{
	struct qk_model *m = c->m;
	struct qk_binding *b;
	int32_t *slot = &m->index[(size_t)(layer + 1) * QK_ROLE_COUNT + r->role];

	assert(*slot < 0 && "two rows bind one role at one layer");
	if (m->n_bind == m->cap_bind) {
		size_t nc = m->cap_bind ? m->cap_bind * 2 : 64;
		b = realloc(m->bind, nc * sizeof(*b));
		if (!b)
			return qk_err_set(c->err, QK_E_NOMEM, "out of memory binding tensors");
		m->bind = b;
		m->cap_bind = nc;
	}
	b = &m->bind[m->n_bind];
	memset(b, 0, sizeof(*b));
	b->role = r->role;
	b->layer = layer;
	b->form = m->form;
	b->xform = c->gguf ? QK_X_NONE : r->xform;
	b->derived = (r->flags & QK_F_DERIVED) != 0;
	b->mtp = r->when == QK_W_MTP || (layer >= 0 && (uint32_t)layer >= c->hp->n_layer);
	b->row = r;
	b->src = src;
	b->n_dims = r->shape.n;
	if (!qk_shape_eval(&r->shape, c->hp, b->shape))
		return qk_err_set(c->err, QK_E_INVALID, "tensor '%s': shape beyond 64 bits",
				  src->name);
	if (r->gguf && !b->derived && !b->mtp &&
	    !qk_name_expand(r->gguf, m->table->gguf_block, layer, -1, b->gguf_name,
			    sizeof(b->gguf_name)))
		return qk_err_set(c->err, QK_E_USAGE, "gguf name pattern '%s' does not expand",
				  r->gguf);
	*slot = (int32_t)m->n_bind++;
	*out = b;
	return QK_OK;
}

/* A matrix binding's view from ranges of `t` (appended after existing
 * pieces) */
static int add_pieces(struct ctx *c, struct qk_binding *b, const struct qk_tensor *t,
		      const struct qk_range *rg, size_t n)
{
	struct qk_view *v = &b->view;
	uint64_t cols = t->shape[t->n_dims - 1], row_bytes;
	struct qk_piece *p;
	char w[512];

	qk_model_where(c->cat, t, w, sizeof(w));
	if (t->pq)
		row_bytes = 0; /* rows are read through the storage (pq.h) */
	else if (!qk_dtype_nbytes(t->dtype, cols, &row_bytes))
		return qk_err_set(c->err, QK_E_INVALID,
				  "%stensor '%s': a row of %llu elements is not a whole number of "
				  "%s blocks", w, t->name, (unsigned long long)cols,
				  qk_dtype_name(t->dtype));
	p = realloc(v->pieces, (v->n_pieces + n) * sizeof(*p));
	if (!p)
		return qk_err_set(c->err, QK_E_NOMEM, "out of memory building a view");
	v->pieces = p;
	v->cols = cols;
	for (size_t i = 0; i < n; i++) {
		p = &v->pieces[v->n_pieces++];
		p->t = t;
		p->row0 = rg[i].row0;
		p->n_rows = rg[i].n;
		p->start = v->rows;
		p->row_bytes = row_bytes;
		p->dtype = t->dtype;
		v->rows += rg[i].n;
	}
	return QK_OK;
}

/* rows and cols of a source tensor as the selection rules see it */
static void rows_cols(const struct qk_tensor *t, bool small, uint64_t *rows, uint64_t *cols)
{
	*cols = (small && t->n_dims <= 1) || t->n_dims == 0 ? 1 : t->shape[t->n_dims - 1];
	*rows = *cols ? t->n_elem / *cols : 0;
}

/* Qwen3.5 out_proj from HF: its columns are value heads grouped by key
 * head; the GGUF (canonical) form has them tiled */
static int v_cols(const struct ctx *c, struct qk_binding *b, const struct qk_tensor *t)
{
	const uint32_t nk = c->hp->ssm_n_k_heads, nv = c->hp->ssm_n_v_heads;
	char w[512];

	if (nk == nv)
		return QK_OK;
	if (!qk_dtype_is_float(t->dtype) && !t->pq) {
		qk_model_where(c->cat, t, w, sizeof(w));
		return qk_err_set(c->err, QK_E_UNSUPPORTED,
				  "%stensor '%s': dtype %s, expected F32, F16 or BF16 or a "
				  "pre-quantized storage (its value heads are reordered column by "
				  "column)", w, t->name,
				  qk_dtype_name(t->dtype));
	}
	b->view.cperm_a = nk;
	b->view.cperm_b = nv / nk;
	return QK_OK;
}

/* Bind `t` under row r with selection `sel`: a view for a matrix, canonical
 * fp32 for a small tensor. */
static int bind_one(struct ctx *c, const struct qk_role_row *r, int layer,
		    const struct qk_tensor *t, int sel, struct qk_binding **out)
{
	bool small = qk_role_kind(r->role) == QK_KIND_SMALL;
	uint64_t rows, cols;
	size_t n;
	struct qk_range *rg;
	struct qk_binding *b;
	int rc;

	rows_cols(t, small, &rows, &cols);
	n = qk_sel_ranges(sel, t, rows, c->hp, NULL);
	rg = malloc((n ? n : 1) * sizeof(*rg));
	if (!rg)
		return qk_err_set(c->err, QK_E_NOMEM, "out of memory");
	qk_sel_ranges(sel, t, rows, c->hp, rg);
	rc = new_binding(c, r, layer, t, &b);
	if (!rc)
		rc = small ? qk_load_small(b, t, rg, n, cols, !c->gguf, c->err)
			   : add_pieces(c, b, t, rg, n);
	if (!rc && !c->gguf && (r->flags & QK_F_V_COLS))
		rc = v_cols(c, b, t);
	/* the small tensor is in fp32 now: drop the file pages reading it
	 * mapped (with the kernel's fault-around), so binding a model does not
	 * grow the resident set with its size */
	if (!rc && small && t->file >= 0 && (size_t)t->file < c->cat->n_files)
		qk_map_drop(&c->cat->files[t->file], (size_t)t->offset, (size_t)t->nbytes);
	free(rg);
	if (!rc && out)
		*out = b;
	return rc;
}

/* A fused expert tensor stored transposed (released Qwen3-VL-MoE: gate_up
 * [E, H, 2*Im], down [E, Im, H]): one transposed piece per expert, taking
 * the gate or up half of the columns, or all of them */
static int bind_fused_t(struct ctx *c, const struct qk_role_row *r, int layer,
			const struct qk_tensor *t)
{
	struct qk_shape_rule rule = r->fused_shape;
	struct qk_binding *b;
	struct qk_piece *p;
	char w[512];
	uint64_t per, src_rows;
	int rc;

	rule.d[1] = r->fused_shape.d[2];
	rule.d[2] = r->fused_shape.d[1];
	if ((rc = check_tensor(c, t, &rule, r, layer)))
		return rc;
	if (!qk_dtype_is_float(t->dtype)) {
		qk_model_where(c->cat, t, w, sizeof(w));
		return qk_err_set(c->err, QK_E_UNSUPPORTED,
				  "%stensor '%s': dtype %s, expected F32, F16 or BF16 (a transposed "
				  "expert tensor is read column by column)", w, t->name,
				  qk_dtype_name(t->dtype));
	}
	claim(c, t, r->role, layer, -1);
	if ((rc = new_binding(c, r, layer, t, &b)))
		return rc;
	b->xform = QK_X_TRANSPOSE;
	per = b->shape[1];        /* view rows per expert: Im (gate, up) or H (down) */
	src_rows = t->shape[1];   /* source rows per expert = view cols */
	p = calloc(b->shape[0] ? b->shape[0] : 1, sizeof(*p));
	if (!p)
		return qk_err_set(c->err, QK_E_NOMEM, "out of memory building a view");
	b->view.pieces = p;
	b->view.n_pieces = b->shape[0];
	b->view.cols = src_rows;
	b->view.rows = b->shape[0] * per;
	b->view.transposed = true;
	for (uint64_t e = 0; e < b->shape[0]; e++) {
		p[e].t = t;
		p[e].row0 = e * src_rows;
		p[e].n_rows = per;
		p[e].start = e * per;
		p[e].dtype = t->dtype;
		p[e].tcol0 = r->fused_sel == QK_S_GATEUP_UP ? per : 0;
		qk_dtype_nbytes(t->dtype, t->shape[2], &p[e].row_bytes);
	}
	return QK_OK;
}

/* Routed experts from an HF checkpoint: one tensor per expert, or the fused
 * transformers 5.x tensor (with or without ".weight"), never both. */
static int bind_experts(struct ctx *c, const struct qk_role_row *r, int layer)
{
	const uint32_t n_exp = c->hp->n_expert;
	char name[QK_NAME_BUF], fused[QK_NAME_BUF], fusedw[QK_NAME_BUF + 8], first[QK_NAME_BUF];
	char w[512], rn[128];
	const struct qk_tensor *tf, *tfw, *t;
	struct qk_binding *b = NULL;
	long miss = -1;
	uint32_t n_pe = 0;
	int rc;

	first[0] = '\0';
	for (uint32_t e = 0; e < n_exp; e++) {
		if ((rc = name_of(c, r->hf, layer, e, name, sizeof(name))))
			return rc;
		if (qk_catalog_find(c->cat, name)) {
			if (!n_pe++)
				snprintf(first, sizeof(first), "%s", name);
		} else if (miss < 0) {
			miss = e;
		}
	}
	if ((rc = name_of(c, r->hf_fused, layer, -1, fused, sizeof(fused))))
		return rc;
	snprintf(fusedw, sizeof(fusedw), "%s.weight", fused);
	tf = qk_catalog_find(c->cat, fused);
	tfw = qk_catalog_find(c->cat, fusedw);
	qk_model_where(c->cat, NULL, w, sizeof(w));
	what(c, r->role, layer, rn, sizeof(rn));
	if ((n_pe > 0) + (tf != NULL) + (tfw != NULL) > 1)
		return qk_err_set(c->err, QK_E_INVALID,
				  "%stensor '%s' and tensor '%s' both hold %s (%s expert layouts); "
				  "a checkpoint must use one", w, n_pe ? first : fused,
				  tfw ? fusedw : fused, rn, n_pe ? "per-expert and fused" : "two fused");
	if (tf || tfw) {
		t = tf ? tf : tfw;
		if ((r->flags & QK_F_FUSED_T) && qk_fused_transposed(c->m->table, c->cat, c->hp,
								   c->m->hf_nested, layer, t))
			return bind_fused_t(c, r, layer, t);
		if ((rc = check_tensor(c, t, &r->fused_shape, r, layer)))
			return rc;
		claim(c, t, r->role, layer, -1);
		if ((rc = bind_one(c, r, layer, t, r->fused_sel, &b)))
			return rc;
		b->xform = r->fused_sel == QK_S_WHOLE ? QK_X_NONE : QK_X_SPLIT_GATE_UP;
		return QK_OK;
	}
	if (miss >= 0) {
		char extra[QK_NAME_BUF + 96];

		if ((rc = name_of(c, r->hf, layer, miss, name, sizeof(name))))
			return rc;
		if (n_pe)
			snprintf(extra, sizeof(extra), ", expert %ld of num_experts %u", miss,
				 (unsigned)n_exp);
		else
			snprintf(extra, sizeof(extra), ", or the fused '%s'", fused);
		return missing(c, name, r->role, layer, extra);
	}
	for (uint32_t e = 0; e < n_exp; e++) {
		struct qk_range whole;
		uint64_t rows, cols;

		if ((rc = name_of(c, r->hf, layer, e, name, sizeof(name))))
			return rc;
		t = qk_catalog_find(c->cat, name);
		if ((rc = check_tensor(c, t, &r->hf_shape, r, layer)))
			return rc;
		claim(c, t, r->role, layer, (int)e);
		rows_cols(t, false, &rows, &cols);
		whole.row0 = 0;
		whole.n = rows;
		if (!b && (rc = new_binding(c, r, layer, t, &b)))
			return rc;
		if ((rc = add_pieces(c, b, t, &whole, 1)))
			return rc;
	}
	return QK_OK;
}

/* Is row r bound at all for this input, and must its tensor be there? */
static bool row_active(const struct ctx *c, const struct qk_role_row *r, bool *required)
{
	if (!(c->gguf ? r->gguf : r->hf))
		return false;
	switch (r->presence) {
	case QK_P_OPT: *required = false; return true;
	case QK_P_UNTIED: *required = !c->gguf && !c->hp->tie_word_embeddings; return true;
	case QK_P_BIAS: *required = !c->gguf; return c->gguf || c->hp->attn_bias;
	default: *required = true; return true;
	}
}

/* GGUF name of an MTP global: a nextn tensor of block n_layer, the first MTP
 * layer (llama.cpp's layout: "blk.<n_layer>.nextn.eh_proj.weight") */
static int mtp_gguf_name(const struct ctx *c, const struct qk_role_row *r, char *buf, size_t n)
{
	if ((size_t)snprintf(buf, n, "%s%u.%s", c->m->table->gguf_block, (unsigned)c->hp->n_layer,
			     r->gguf) >= n)
		return qk_err_set(c->err, QK_E_USAGE, "tensor name '%s' does not fit", r->gguf);
	return QK_OK;
}

static int bind_row(struct ctx *c, const struct qk_role_row *r, int layer)
{
	const struct qk_shape_rule *rule;
	const struct qk_tensor *t;
	char name[QK_NAME_BUF];
	bool required;
	int rc;

	if (!row_active(c, r, &required))
		return QK_OK;
	if (!c->gguf && r->hf_sel == QK_S_EXPERTS)
		return bind_experts(c, r, layer);
	if (c->gguf && r->when == QK_W_MTP)
		rc = mtp_gguf_name(c, r, name, sizeof(name));
	else
		rc = name_of(c, c->gguf ? r->gguf : r->hf, layer, -1, name, sizeof(name));
	if (rc)
		return rc;
	t = qk_catalog_find(c->cat, name);
	if (!t)
		return required ? missing(c, name, r->role, layer, "") : QK_OK;
	rule = c->gguf ? &r->gguf_shape : &r->hf_shape;
	if (rule->n == 0)
		rule = &r->shape;
	if ((rc = check_tensor(c, t, rule, r, layer)))
		return rc;
	claim(c, t, r->role, layer, -1);
	return bind_one(c, r, layer, t, c->gguf ? r->gguf_sel : r->hf_sel, NULL);
}

/* ---- the whole model ---- */

/* hparams the tables divide or multiply by; the config and GGUF readers
 * should have refused these, but they come from files, so check again */
static int check_hparams(const struct qk_hparams *hp, qk_err *err)
{
	bool moe = false, linear = false;

	if (hp->arch < 0 || hp->arch >= QK_ARCH_COUNT)
		return qk_err_set(err, QK_E_INVALID, "hyperparameters: unknown architecture id %d",
				  hp->arch);
	if (hp->n_layer == 0 || hp->n_layer > QK_MAX_LAYERS)
		return qk_err_set(err, QK_E_INVALID,
				  "hyperparameters: num_hidden_layers %u is not in 1..%u",
				  (unsigned)hp->n_layer, QK_MAX_LAYERS);
	for (uint32_t i = 0; i < hp->n_layer; i++) {
		moe |= (hp->layer_flags[i] & QK_LAYER_MOE) != 0;
		linear |= (hp->layer_flags[i] & QK_LAYER_LINEAR) != 0;
	}
	if (moe && (hp->n_expert == 0 || hp->n_expert > QK_MAX_EXPERTS ||
		    hp->n_expert_used == 0 || hp->n_expert_used > hp->n_expert))
		return qk_err_set(err, QK_E_INVALID,
				  "hyperparameters: num_experts %u and num_experts_per_tok %u do not "
				  "make a MoE layer",
				  (unsigned)hp->n_expert, (unsigned)hp->n_expert_used);
	if (linear && (hp->ssm_n_k_heads == 0 || hp->ssm_n_v_heads % hp->ssm_n_k_heads))
		return qk_err_set(err, QK_E_INVALID,
				  "hyperparameters: linear_num_value_heads %u is not a multiple of "
				  "linear_num_key_heads %u", (unsigned)hp->ssm_n_v_heads,
				  (unsigned)hp->ssm_n_k_heads);
	return QK_OK;
}

/* Names under a vision prefix that are the projector (the merger to the
 * text width; Qwen3-VL's deepstack mergers), not the encoder */
static const char *const projector_parts[] = { "merger.", "deepstack_merger_list." };

static bool vision_prefix(const char *name, const char *prefix, size_t *n)
{
	*n = prefix ? strlen(prefix) : 0;
	return *n && strncmp(name, prefix, *n) == 0;
}

/* A multimodal checkpoint: the text model nested under hf_nest (detected
 * by any name with that prefix) and the vision tower's tensors, claimed
 * as QK_R_VISION or QK_R_PROJECTOR without being bound (their conversion
 * is another file's: llama.cpp's mmproj) */
static void claim_vision(struct ctx *c)
{
	const struct qk_arch_table *t = c->m->table;
	size_t nn = t->hf_nest ? strlen(t->hf_nest) : 0, nv;

	if (c->gguf)
		return;
	for (size_t i = 0; i < c->cat->n_tensors; i++) {
		const char *name = c->cat->tensors[i].name;
		struct qk_claim *cl = &c->m->claims[i];

		if (nn && strncmp(name, t->hf_nest, nn) == 0)
			c->m->hf_nested = true;
		if (cl->role != CLAIM_NONE || (!vision_prefix(name, t->hf_vision, &nv) &&
					       !vision_prefix(name, t->hf_vision_old, &nv)))
			continue;
		cl->role = QK_R_VISION;
		for (size_t k = 0; k < sizeof(projector_parts) / sizeof(projector_parts[0]); k++)
			if (strncmp(name + nv, projector_parts[k], strlen(projector_parts[k])) == 0)
				cl->role = QK_R_PROJECTOR;
		c->m->n_vision++;
	}
}

/* MTP layers to bind, for an arch that has them and hparams that count
 * them, only when the input holds MTP tensors (configs state
 * mtp_num_hidden_layers whether or not the weights were saved): "mtp." in
 * an HF checkpoint, blocks from n_layer on in a GGUF file (nextn layout) */
static uint32_t mtp_layers(const struct ctx *c)
{
	char prefix[32];
	size_t n;

	if (!c->m->table->mtp_block || c->hp->n_mtp_layers == 0 ||
	    c->hp->n_layer + c->hp->n_mtp_layers > QK_MAX_LAYERS)
		return 0;
	if (c->gguf)
		snprintf(prefix, sizeof(prefix), "%s%u.", c->m->table->gguf_block,
			 (unsigned)c->hp->n_layer);
	else
		snprintf(prefix, sizeof(prefix), "mtp.");
	n = strlen(prefix);
	for (size_t i = 0; i < c->cat->n_tensors; i++)
		if (strncmp(c->cat->tensors[i].name, prefix, n) == 0)
			return c->hp->n_mtp_layers;
	return 0;
}

static int bind_all(struct ctx *c)
{
	const struct qk_arch_table *t = c->m->table;
	int rc;

	for (size_t i = 0; i < t->n_rows; i++)
		if (t->rows[i].when == QK_W_GLOBAL && (rc = bind_row(c, &t->rows[i], -1)))
			return rc;
	for (uint32_t l = 0; l < c->m->n_layer_all; l++) {
		unsigned fl = qk_model_layer_flags(c->m, l);

		for (size_t i = 0; i < t->n_rows; i++)
			if (qk_when_applies(t->rows[i].when, fl) &&
			    (rc = bind_row(c, &t->rows[i], (int)l)))
				return rc;
	}
	for (size_t i = 0; c->m->n_mtp && i < t->n_rows; i++)
		if (t->rows[i].when == QK_W_MTP && (rc = bind_row(c, &t->rows[i], -1)))
			return rc;
	return QK_OK;
}

int qk_model_bind(struct qk_model *m, const struct qk_catalog *cat,
		  const struct qk_hparams *hp, qk_err *err)
{
	struct ctx c = { m, cat, hp, cat->format == QK_FMT_GGUF, err };
	size_t n_index, n_unclaimed = 0, first = 0;
	int rc;

	memset(m, 0, sizeof(*m));
	if ((rc = check_hparams(hp, err)))
		return rc;
	m->hp = *hp;
	m->cat = cat;
	m->table = qk_arch_table(hp->arch);
	m->form = c.gguf ? QK_FORM_GGUF : QK_FORM_HF;
	m->claims = malloc((cat->n_tensors ? cat->n_tensors : 1) * sizeof(*m->claims));
	if (!m->claims)
		return qk_err_set(err, QK_E_NOMEM, "out of memory");
	for (size_t i = 0; i < cat->n_tensors; i++) {
		m->claims[i].role = qk_name_ignored(cat->tensors[i].name) ||
				    cat->tensors[i].pq_part ? -1 : CLAIM_NONE;
		m->claims[i].layer = -1;
		m->claims[i].expert = -1;
		m->claims[i].mtp = false;
	}
	claim_vision(&c);
	m->n_mtp = mtp_layers(&c);
	m->n_layer_all = hp->n_layer + m->n_mtp;
	n_index = (size_t)(m->n_layer_all + 1) * QK_ROLE_COUNT;
	m->index = malloc(n_index * sizeof(*m->index));
	if (!m->index) {
		rc = qk_err_set(err, QK_E_NOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < n_index; i++)
		m->index[i] = -1;
	if ((rc = bind_all(&c)))
		goto fail;
	for (size_t i = 0; i < cat->n_tensors; i++)
		if (m->claims[i].role == CLAIM_NONE && !n_unclaimed++)
			first = i;
	if (n_unclaimed) {
		rc = qk_unclaimed_error(m, &cat->tensors[first], n_unclaimed - 1, err);
		goto fail;
	}
	m->tied = qk_model_get(m, QK_R_OUTPUT, -1) == NULL;
	return QK_OK;
fail:
	qk_model_free(m);
	return rc;
}

void qk_model_free(struct qk_model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_bind; i++) {
		free(m->bind[i].view.pieces);
		free(m->bind[i].f32);
	}
	free(m->bind);
	free(m->claims);
	free(m->index);
	memset(m, 0, sizeof(*m));
}

/* ---- queries ---- */

const struct qk_binding *qk_model_get(const struct qk_model *m, int role, int layer)
{
	int32_t i;

	if (!m->index || role < 0 || role >= QK_ROLE_COUNT || layer < -1 ||
	    (layer >= 0 && (uint32_t)layer >= m->n_layer_all))
		return NULL;
	i = m->index[(size_t)(layer + 1) * QK_ROLE_COUNT + role];
	return i < 0 ? NULL : &m->bind[i];
}

const struct qk_tensor *qk_model_tensor(const struct qk_model *m, int role, int layer,
					int expert)
{
	const struct qk_binding *b = qk_model_get(m, role, layer);

	if (!b)
		return NULL;
	if (b->form == QK_FORM_HF && b->xform == QK_X_STACK && expert >= 0 &&
	    (size_t)expert < b->view.n_pieces)
		return b->view.pieces[expert].t;
	return b->src;
}

void qk_model_param_counts(const struct qk_model *m, struct qk_param_counts *pc)
{
	uint64_t exp[2] = { 0, 0 };

	memset(pc, 0, sizeof(*pc));
	for (size_t i = 0; m->claims && i < m->cat->n_tensors; i++) {
		const struct qk_claim *cl = &m->claims[i];
		uint64_t n = m->cat->tensors[i].n_elem;
		bool mtp = cl->mtp || (cl->role >= QK_R_MTP_FC && cl->role <= QK_R_MTP_NORM);

		if (cl->role < 0)
			continue;
		if (cl->role == QK_R_PROJECTOR)
			pc->projector += n;
		if (cl->role == QK_R_VISION || cl->role == QK_R_PROJECTOR)
			pc->vision += n;
		else if (mtp)
			pc->mtp += n;
		else
			pc->text += n;
		if (qk_role_is_expert(cl->role))
			exp[mtp] += n;
	}
	pc->active = pc->text;
	pc->active_mtp = pc->mtp;
	if (m->hp.n_expert) {
		pc->active = pc->text - exp[0] + exp[0] / m->hp.n_expert * m->hp.n_expert_used;
		pc->active_mtp = pc->mtp - exp[1] + exp[1] / m->hp.n_expert * m->hp.n_expert_used;
	}
}

void qk_model_n_params(const struct qk_model *m, uint64_t *total, uint64_t *active)
{
	struct qk_param_counts pc;

	qk_model_param_counts(m, &pc);
	*total = pc.text;
	*active = pc.active;
}
