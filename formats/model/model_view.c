/* model_view.c - row selections, matrix view reads, small-tensor loading and
 * the unclaimed-tensor message of model assembly; see model.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../quant/fp16.h"
#include "../../quant/qtype.h"
#include "../../quant/quants.h"
#include "../base/dtype.h"
#include "../base/io.h"
#include "../container/pq.h"
#include "model_priv.h"

void qk_model_where(const struct qk_catalog *cat, const struct qk_tensor *t, char *buf,
		    size_t n)
{
	qk_catalog_where(cat, t, buf, n);
}

/* ---- selections ---- */

static void put(struct qk_range *out, size_t i, uint64_t row0, uint64_t n)
{
	if (out) {
		out[i].row0 = row0;
		out[i].n = n;
	}
}

/* in_proj_qkvz rows come in nk groups of [q dk][k dk][v r*dv][z r*dv]
 * (qwen-forward-math §6.2); attn_qkv takes all q blocks, then all k blocks,
 * then all v blocks, attn_gate all z blocks (llamacpp-gguf-mapping §1.8) */
static size_t sel_qkvz(const struct qk_hparams *hp, bool z, struct qk_range *out)
{
	const uint64_t nk = hp->ssm_n_k_heads, dk = hp->ssm_head_k_dim;
	const uint64_t rv = (uint64_t)(hp->ssm_n_v_heads / hp->ssm_n_k_heads) * hp->ssm_head_v_dim;
	const uint64_t grp = 2 * dk + 2 * rv;
	size_t k = 0;

	if (z) {
		for (uint64_t g = 0; g < nk; g++)
			put(out, k++, g * grp + 2 * dk + rv, rv);
		return k;
	}
	for (uint64_t g = 0; g < nk; g++)
		put(out, k++, g * grp, dk);
	for (uint64_t g = 0; g < nk; g++)
		put(out, k++, g * grp + dk, dk);
	for (uint64_t g = 0; g < nk; g++)
		put(out, k++, g * grp + 2 * dk, rv);
	return k;
}

/* fused [E, 2*Im, H]: expert e's gate is rows [e*2Im, e*2Im + Im), up the
 * next Im rows */
static size_t sel_gate_up(const struct qk_tensor *t, bool up, struct qk_range *out)
{
	const uint64_t n_exp = t->shape[0], two = t->shape[1], im = two / 2;

	for (uint64_t e = 0; e < n_exp; e++)
		put(out, (size_t)e, e * two + (up ? im : 0), im);
	return (size_t)n_exp;
}

/* Qwen3.5 value heads grouped -> tiled: rows [0, skip) as they are, then
 * nv blocks of `unit` rows, value head g*r + j (key head g, j < r) placed
 * at j*nk + g (llama.cpp's _reorder_v_heads) */
static size_t sel_vtiled(const struct qk_hparams *hp, uint64_t skip, uint64_t unit,
			 struct qk_range *out)
{
	const uint64_t nk = hp->ssm_n_k_heads, r = hp->ssm_n_v_heads / hp->ssm_n_k_heads;
	size_t k = 0;

	if (r == 1) {
		put(out, 0, 0, skip + nk * unit);
		return 1;
	}
	if (skip)
		put(out, k++, 0, skip);
	for (uint64_t j = 0; j < r; j++)
		for (uint64_t g = 0; g < nk; g++)
			put(out, k++, skip + (g * r + j) * unit, unit);
	return k;
}

size_t qk_sel_ranges(int sel, const struct qk_tensor *t, uint64_t rows,
		     const struct qk_hparams *hp, struct qk_range *out)
{
	const uint64_t kdim2 = 2ull * hp->ssm_n_k_heads * hp->ssm_head_k_dim;

	switch (sel) {
	case QK_S_THIRD0:
	case QK_S_THIRD1:
	case QK_S_THIRD2:
		put(out, 0, (uint64_t)(sel - QK_S_THIRD0) * (rows / 3), rows / 3);
		return 1;
	case QK_S_QKVZ_QKV: return sel_qkvz(hp, false, out);
	case QK_S_QKVZ_Z: return sel_qkvz(hp, true, out);
	case QK_S_GATEUP_GATE: return sel_gate_up(t, false, out);
	case QK_S_GATEUP_UP: return sel_gate_up(t, true, out);
	case QK_S_VT_QKV:
		return sel_vtiled(hp, kdim2, (rows - kdim2) / hp->ssm_n_v_heads, out);
	case QK_S_VT_HEADS: return sel_vtiled(hp, 0, rows / hp->ssm_n_v_heads, out);
	default:
		put(out, 0, 0, rows);
		return 1;
	}
}

/* ---- element conversion (unaligned, little-endian sources) ---- */

/* n elements of a F32/F16/BF16 source to fp32; false for any other dtype */
static bool widen(int dtype, const uint8_t *p, float *out, uint64_t n)
{
	switch (dtype) {
	case QK_DT_F32:
		for (uint64_t i = 0; i < n; i++)
			out[i] = qt_f32_from_bits(qk_ld32(p + 4 * i));
		return true;
	case QK_DT_F16: /* quant/'s row widening: SIMD where the CPU has it */
		qt_dequantize_f16(p, out, (int64_t)n);
		return true;
	case QK_DT_BF16:
		qt_dequantize_bf16(p, out, (int64_t)n);
		return true;
	default:
		return false;
	}
}

int qk_load_small(struct qk_binding *b, const struct qk_tensor *t,
		  const struct qk_range *rg, size_t n, uint64_t cols, bool hf_form,
		  qk_err *err)
{
	uint64_t total = 0, k = 0, esz;
	float *v;

	if (!qk_dtype_nbytes(t->dtype, 1, &esz) || !qk_dtype_is_float(t->dtype))
		return qk_err_set(err, QK_E_INVALID, "tensor '%s': dtype %s is not F32, F16 or BF16",
				  t->name, qk_dtype_name(t->dtype));
	for (size_t i = 0; i < n; i++)
		total += rg[i].n * cols;
	v = malloc((size_t)(total ? total : 1) * sizeof(float));
	if (!v)
		return qk_err_set(err, QK_E_NOMEM, "out of memory loading tensor '%s'", t->name);
	for (size_t i = 0; i < n; i++) {
		widen(t->dtype, t->data + rg[i].row0 * cols * esz, v + k, rg[i].n * cols);
		k += rg[i].n * cols;
	}
	/* the GGUF form in fp32 (model.h); a GGUF source already holds it */
	for (uint64_t i = 0; hf_form && i < total; i++) {
		if (b->row->xform == QK_X_NEG_EXP)
			v[i] = -expf(v[i]);
		else if (b->row->xform == QK_X_PLUS_ONE)
			v[i] = 1.0f + v[i];
	}
	b->f32 = v;
	b->n_f32 = total;
	return QK_OK;
}

/* ---- view reads ---- */

/* a row of a pre-quantized storage (pq.h), its column blocks reordered as
 * the view says: dequantized whole into a scratch row first */
static int pq_read_row_cperm(const struct qk_view *v, const struct qk_piece *p, uint64_t row,
			     float *out, qk_err *err)
{
	const uint64_t a = v->cperm_a, b = v->cperm_b, bw = a ? v->cols / (a * b) : 0;
	float *tmp; /* [cols] the row in storage order */
	int rc;

	if (!a)
		return pq_read_row(p->t->pq, p->row0 + (row - p->start), out, err);
	tmp = malloc((size_t)v->cols * sizeof(float));
	if (!tmp)
		return qk_err_set(err, QK_E_NOMEM, "out of memory reading tensor '%s'", p->t->name);
	rc = pq_read_row(p->t->pq, p->row0 + (row - p->start), tmp, err);
	for (uint64_t x = 0; !rc && x < b; x++)
		for (uint64_t y = 0; y < a; y++)
			memcpy(out + (x * a + y) * bw, tmp + (y * b + x) * bw, bw * sizeof(float));
	free(tmp);
	return rc;
}

static const struct qk_piece *piece_of(const struct qk_view *v, uint64_t row)
{
	size_t lo = 0, hi = v->n_pieces;

	if (row >= v->rows || !v->n_pieces)
		return NULL;
	while (hi - lo > 1) { /* last piece with start <= row */
		size_t mid = lo + (hi - lo) / 2;

		if (v->pieces[mid].start <= row)
			lo = mid;
		else
			hi = mid;
	}
	return &v->pieces[lo];
}

const uint8_t *qk_view_row_data(const struct qk_view *v, uint64_t row, int *dtype)
{
	const struct qk_piece *p = piece_of(v, row);

	if (!p || v->cperm_a || v->transposed || p->t->pq)
		return NULL;
	if (dtype)
		*dtype = p->dtype;
	return p->t->data + (p->row0 + (row - p->start)) * p->row_bytes;
}

int qk_view_read_row(const struct qk_view *v, uint64_t row, float *out, qk_err *err)
{
	const struct qk_piece *p = piece_of(v, row);
	const struct qt_type *q;
	const uint8_t *data;

	if (!p)
		return qk_err_set(err, QK_E_USAGE, "row %llu of a %llu-row view",
				  (unsigned long long)row, (unsigned long long)v->rows);
	if (p->t->pq)
		return pq_read_row_cperm(v, p, row, out, err);
	if (v->transposed) {
		/* one source column: element k of the row is at source row
		 * row0 + k; model assembly sets this only for F32/F16/BF16 */
		uint64_t esz = 0;

		if (!qk_dtype_nbytes(p->dtype, 1, &esz))
			esz = 0;

		data = p->t->data + p->row0 * p->row_bytes + (p->tcol0 + (row - p->start)) * esz;
		for (uint64_t k = 0; k < v->cols; k++)
			if (!widen(p->dtype, data + k * p->row_bytes, out + k, 1))
				return qk_err_set(err, QK_E_UNSUPPORTED,
						  "tensor '%s': cannot transpose %s data", p->t->name,
						  qk_dtype_name(p->dtype));
		return QK_OK;
	}
	data = p->t->data + (p->row0 + (row - p->start)) * p->row_bytes;
	if (v->cperm_a) {
		/* block-transposed columns; model assembly sets this only for
		 * F32/F16/BF16 sources */
		const uint64_t a = v->cperm_a, b = v->cperm_b, bw = v->cols / (a * b);
		const uint64_t esz = p->row_bytes / v->cols;

		for (uint64_t x = 0; x < b; x++)
			for (uint64_t y = 0; y < a; y++)
				if (!widen(p->dtype, data + (y * b + x) * bw * esz, out + (x * a + y) * bw,
					   bw))
					return qk_err_set(err, QK_E_UNSUPPORTED,
							  "tensor '%s': cannot reorder %s columns",
							  p->t->name, qk_dtype_name(p->dtype));
		return QK_OK;
	}
	if (widen(p->dtype, data, out, v->cols))
		return QK_OK;
	q = p->dtype < QK_DT_EXTRA ? qt_type_get(p->dtype) : NULL;
	if (!q || !q->dequantize)
		return qk_err_set(err, QK_E_UNSUPPORTED,
				  "tensor '%s': cannot convert %s data to f32", p->t->name,
				  qk_dtype_name(p->dtype));
	q->dequantize(data, out, (int64_t)v->cols);
	return QK_OK;
}

/* ---- unclaimed tensors ---- */

static const char *const when_names[] = {
	[QK_W_FULL] = "full-attention", [QK_W_LINEAR] = "linear-attention",
	[QK_W_MOE] = "MoE", [QK_W_DENSE] = "dense",
};

/* Why a name that matches a row's pattern was not bound, or "" */
static void reason(const struct qk_model *m, const struct qk_name_match *mt, char *buf,
		   size_t n)
{
	const struct qk_hparams *hp = &m->hp;
	const struct qk_role_row *r = mt->row;
	const char *role = qk_role_name(r->role);
	unsigned fl;

	buf[0] = '\0';
	if (mt->mtp && (uint32_t)mt->layer >= m->n_mtp) {
		snprintf(buf, n, ": MTP layer %ld, but mtp_num_hidden_layers is %u", mt->layer,
			 (unsigned)hp->n_mtp_layers);
	} else if (r->when == QK_W_MTP && !m->n_mtp) {
		snprintf(buf, n, ": an MTP tensor, but mtp_num_hidden_layers is %u",
			 (unsigned)hp->n_mtp_layers);
	} else if (!mt->mtp && mt->layer >= 0 && (uint32_t)mt->layer >= hp->n_layer) {
		snprintf(buf, n, ": layer %ld, but num_hidden_layers is %u", mt->layer,
			 (unsigned)hp->n_layer);
	} else if (mt->expert >= 0 && (uint64_t)mt->expert >= hp->n_expert) {
		snprintf(buf, n, ": expert %ld, but num_experts is %u", mt->expert,
			 (unsigned)hp->n_expert);
	} else if (mt->layer >= 0 && r->when >= QK_W_FULL && r->when <= QK_W_DENSE &&
		   !qk_when_applies(r->when, fl = qk_model_layer_flags(
				   m, (uint32_t)mt->layer + (mt->mtp ? hp->n_layer : 0)))) {
		bool attn = r->when == QK_W_FULL || r->when == QK_W_LINEAR;
		const char *kind = attn ? (fl & QK_LAYER_LINEAR ? "linear-attention"
							   : "full-attention")
					: (fl & QK_LAYER_MOE ? "MoE" : "dense");
		snprintf(buf, n, ": %s belongs on %s layers and layer %ld is %s", role,
			 when_names[r->when], mt->layer, kind);
	} else if (r->presence == QK_P_BIAS && !hp->attn_bias) {
		snprintf(buf, n, ": %s, but config.json turns attention biases off", role);
	}
}

int qk_unclaimed_error(const struct qk_model *m, const struct qk_tensor *t, size_t more,
		       qk_err *err)
{
	struct qk_name_match mt;
	char w[512], why[256] = "", tail[96] = "";

	qk_model_where(m->cat, t, w, sizeof(w));
	if (more)
		snprintf(tail, sizeof(tail), " (and %zu more unclaimed tensor%s)", more,
			 more == 1 ? "" : "s");
	if (qk_name_match(m->table, m->form == QK_FORM_GGUF, t->name, &mt))
		reason(m, &mt, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "%s",
			 m->form == QK_FORM_GGUF ? " (expected GGUF tensor names)"
						 : " (expected Hugging Face tensor names)");
	return qk_err_set(err, QK_E_INVALID, "%stensor '%s' is not part of a %s model%s%s", w,
			  t->name, qk_arch_gguf_name(m->hp.arch), why, tail);
}
