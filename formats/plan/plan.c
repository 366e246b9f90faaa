/* plan.c - which tensors a GGUF output holds, in which order, with which
 * types and sizes; see plan.h. The data path is plan_write.c, metadata
 * plan_kv.c and plan_names.c. */
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../quant/qtype.h"
#include "../base/dtype.h"
#include "../base/io.h"
#include "../container/pq.h"

static const char *const outtype_names[WP_OUT_COUNT] = {
	[WP_OUT_AUTO] = "auto", [WP_OUT_F32] = "f32", [WP_OUT_F16] = "f16",
	[WP_OUT_BF16] = "bf16", [WP_OUT_Q8_0] = "q8_0",
};

/* the ggml type each explicit outtype gives the tensors it governs */
static const int outtype_type[WP_OUT_COUNT] = {
	[WP_OUT_AUTO] = -1, [WP_OUT_F32] = QT_F32, [WP_OUT_F16] = QT_F16,
	[WP_OUT_BF16] = QT_BF16, [WP_OUT_Q8_0] = QT_Q8_0,
};

const char *wp_outtype_name(int outtype)
{
	return outtype >= 0 && outtype < WP_OUT_COUNT ? outtype_names[outtype] : NULL;
}

int wp_outtype_from_name(const char *s)
{
	for (int i = 0; s && i < WP_OUT_COUNT; i++)
		if (strcasecmp(s, outtype_names[i]) == 0)
			return i;
	return -1;
}

/* LLAMA_FTYPE_* by the ggml type of a file's matrices, as llama.cpp's loader
 * guesses it (llama-model-loader.cpp); 0 = no entry */
static const struct {
	int type;
	uint32_t ftype;
} ftypes[] = {
	{ QT_F32, 0 },   { QT_F16, 1 },   { QT_Q4_0, 2 },  { QT_Q4_1, 3 },
	{ QT_Q8_0, 7 },  { QT_Q5_0, 8 },  { QT_Q5_1, 9 },  { QT_Q2_K, 10 },
	{ QT_Q3_K, 12 }, { QT_Q4_K, 15 }, { QT_Q5_K, 17 }, { QT_Q6_K, 18 },
	{ QT_BF16, 32 },
};

#define FTYPE_GUESSED 1024u

uint32_t wp_ftype_of_type(int type)
{
	for (size_t i = 0; i < sizeof(ftypes) / sizeof(ftypes[0]); i++)
		if (ftypes[i].type == type)
			return ftypes[i].ftype;
	return FTYPE_GUESSED;
}

/* ---- names ---- */

/* MTP globals in llama.cpp's nextn layout, under block n_layer */
static const struct {
	int role;
	const char *suffix;
} mtp_globals[] = {
	{ QK_R_MTP_FC, "nextn.eh_proj.weight" },
	{ QK_R_MTP_NORM_EMB, "nextn.enorm.weight" },
	{ QK_R_MTP_NORM_HID, "nextn.hnorm.weight" },
	{ QK_R_MTP_NORM, "nextn.shared_head_norm.weight" },
};

static int tensor_name(const struct qk_model *m, const struct qk_binding *b, char *buf,
		       size_t n, qk_err *err)
{
	const char *blk = m->table ? m->table->gguf_block : "blk.";

	if (!b->mtp) {
		snprintf(buf, n, "%s", b->gguf_name);
		return QK_OK;
	}
	if (b->layer >= 0) {
		/* an MTP layer is block n_layer + i: the binding's own layer number */
		if (b->row->gguf && qk_name_expand(b->row->gguf, blk, b->layer, -1, buf, n))
			return QK_OK;
	} else {
		for (size_t i = 0; i < sizeof(mtp_globals) / sizeof(mtp_globals[0]); i++) {
			if (mtp_globals[i].role != b->role)
				continue;
			if ((size_t)snprintf(buf, n, "%s%u.%s", blk, (unsigned)m->hp.n_layer,
					     mtp_globals[i].suffix) < n)
				return QK_OK;
		}
	}
	return qk_err_set(err, QK_E_UNSUPPORTED, "MTP tensor '%s' (%s) has no GGUF name",
			  b->src ? b->src->name : "?", qk_role_name(b->role));
}

/* ---- the F32 rule (llamacpp-gguf-mapping §4.6) ---- */

static const int f32_roles[] = {
	QK_R_FFN_GATE_INP, QK_R_FFN_GATE_INP_SHEXP, QK_R_SSM_CONV1D,
	QK_R_V_POS, /* llama.cpp: V_ENC_EMBD_POS */
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static bool f32_rule(const struct wp_tensor *t)
{
	if (t->n_dims <= 1 || ends_with(t->name, "_norm.weight") || !ends_with(t->name, ".weight"))
		return true;
	for (size_t i = 0; i < sizeof(f32_roles) / sizeof(f32_roles[0]); i++)
		if (t->b->role == f32_roles[i])
			return true;
	return false;
}

/* ---- one tensor ---- */

/* a piece's dtype; for a pre-quantized storage the float type it stands
 * for (pq.h), which --outtype auto keeps */
static int piece_type(const struct qk_piece *pc)
{
	return pc->t->pq ? pq_auto_dtype(pc->t->pq) : pc->dtype;
}

/* from a storage dequantized from 8-bit floats (--fp8-as-q8)? */
static bool from_fp8(const struct qk_binding *b)
{
	for (size_t i = 0; !b->f32 && i < b->view.n_pieces; i++)
		if (!b->view.pieces[i].t->pq || !b->view.pieces[i].t->pq->from_fp8)
			return false;
	return !b->f32 && b->view.n_pieces > 0;
}

/* dtype shared by all source rows, -1 if they differ */
static int source_type(const struct qk_binding *b)
{
	int dt;

	if (b->f32)
		return QK_DT_F32;
	if (!b->view.n_pieces)
		return -1;
	dt = piece_type(&b->view.pieces[0]);
	for (size_t i = 1; i < b->view.n_pieces; i++)
		if (piece_type(&b->view.pieces[i]) != dt)
			return -1;
	return dt;
}

/* can every source row be read as fp32? */
static int check_readable(const struct qk_binding *b, const char *name, qk_err *err)
{
	for (size_t i = 0; !b->f32 && i < b->view.n_pieces; i++) {
		const struct qk_piece *pc = &b->view.pieces[i];
		const struct qt_type *q = pc->dtype < QK_DT_EXTRA ? qt_type_get(pc->dtype) : NULL;

		if (qk_dtype_is_float(pc->dtype) || (q && q->dequantize) || pc->t->pq)
			continue;
		return qk_err_set(err, QK_E_UNSUPPORTED,
				  "tensor '%s' (for %s): cannot convert %s data, only F32, F16 "
				  "and BF16 sources", pc->t->name, name, qk_dtype_name(pc->dtype));
	}
	return QK_OK;
}

static int size_of(struct wp_tensor *t, int type, qk_err *err)
{
	const struct qt_type *q = qt_type_get(type);
	uint64_t row;

	if (!qt_has_quantizer(q))
		return qk_err_set(err, QK_E_USAGE, "tensor '%s': no converter to %s", t->name,
				  q ? q->name : "an unknown type");
	if (!qt_row_bytes(q, t->cols, &row))
		return qk_err_set(err, QK_E_USAGE,
				  "tensor '%s': rows of %llu elements are not a whole number of "
				  "%s blocks (%u elements)", t->name, (unsigned long long)t->cols,
				  q->name, (unsigned)q->blck);
	if (!qk_mul_u64(row, t->rows, &t->nbytes))
		return qk_err_set(err, QK_E_USAGE, "tensor '%s': size beyond 64 bits", t->name);
	t->type = type;
	return QK_OK;
}

/* the type the outtype gives t */
static int choose_type(struct wp_tensor *t, const struct wp_opts *o, qk_err *err)
{
	const struct qt_type *q8 = qt_type_get(QT_Q8_0);
	const int outtype = o->outtype;
	int type = outtype_type[outtype];

	t->force_f32 = f32_rule(t);
	t->why = WP_WHY_OUTTYPE;
	/* mmproj patch-embedding kernels (MmprojModel.tensor_force_quant): F16
	 * for an F16 file, else F32 */
	if (t->b->role == QK_R_V_PATCH || t->b->role == QK_R_V_PATCH_1) {
		bool f16 = outtype == WP_OUT_F16 || (outtype == WP_OUT_AUTO &&
						     t->src_type == QK_DT_F16);

		t->force_f32 = !f16;
		t->why = f16 ? WP_WHY_OUTTYPE : WP_WHY_F32_RULE;
		return size_of(t, f16 ? QT_F16 : QT_F32, err);
	}
	/* llama.cpp --fp8-as-q8: Q8_0 for what was FP8, except 1-D and norms */
	if (o->fp8_as_q8 && from_fp8(t->b) && t->n_dims >= 2 &&
	    !ends_with(t->name, "_norm.weight")) {
		t->force_f32 = false;
		t->why = WP_WHY_FP8;
		type = t->cols % q8->blck ? QT_F16 : QT_Q8_0;
	} else if (t->force_f32) {
		type = QT_F32;
		t->why = WP_WHY_F32_RULE;
	} else if (outtype == WP_OUT_AUTO) {
		type = t->src_type == QK_DT_F16 || t->src_type == QK_DT_BF16 ? t->src_type : QT_F32;
		t->why = WP_WHY_SOURCE;
	} else if (type == QT_Q8_0 && t->cols % q8->blck) {
		type = QT_F16;
		t->why = WP_WHY_FALLBACK;
	}
	return size_of(t, type, err);
}

static int add_tensor(struct wp_plan *p, const struct qk_binding *b, const struct wp_opts *o,
		      qk_err *err)
{
	const struct qk_model *m = p->m;
	struct wp_tensor *t = &p->t[p->n];
	int rc;

	memset(t, 0, sizeof(*t));
	t->b = b;
	t->mtp = b->mtp;
	if ((rc = tensor_name(m, b, t->name, sizeof(t->name), err)))
		return rc;
	if (b->n_dims < 1 || b->n_dims > GF_MAX_DIMS)
		return qk_err_set(err, QK_E_UNSUPPORTED, "tensor '%s': %d dims, GGUF holds 1 to %d",
				  t->name, b->n_dims, GF_MAX_DIMS);
	t->n_dims = b->n_dims;
	t->n_elem = 1;
	for (int i = 0; i < GF_MAX_DIMS; i++)
		t->ne[i] = 1;
	for (int i = 0; i < t->n_dims; i++) {
		t->shape[i] = b->shape[i];
		if (b->shape[i] == 0 || b->shape[i] > INT64_MAX ||
		    !qk_mul_u64(t->n_elem, b->shape[i], &t->n_elem))
			return qk_err_set(err, QK_E_UNSUPPORTED, "tensor '%s': dimension %d is %llu",
					  t->name, i, (unsigned long long)b->shape[i]);
		t->ne[t->n_dims - 1 - i] = (int64_t)b->shape[i];
	}
	t->cols = t->shape[t->n_dims - 1];
	t->rows = t->n_elem / t->cols;
	/* the producer must supply exactly the logical tensor */
	if (b->f32 ? b->n_f32 != t->n_elem : (b->view.cols != t->cols || b->view.rows != t->rows))
		return qk_err_set(err, QK_E_USAGE,
				  "tensor '%s': its source holds %llu x %llu values, the plan "
				  "needs %llu x %llu", t->name,
				  (unsigned long long)(b->f32 ? 1 : b->view.rows),
				  (unsigned long long)(b->f32 ? b->n_f32 : b->view.cols),
				  (unsigned long long)t->rows, (unsigned long long)t->cols);
	if ((rc = check_readable(b, t->name, err)))
		return rc;
	t->src_type = source_type(b);
	if ((rc = choose_type(t, o, err)))
		return rc;
	p->n++;
	return QK_OK;
}

/* ---- order ----
 *
 * llama.cpp's converter reads the shards in name order (the index's shard
 * names sorted, or the sorted model*.safetensors files) and each shard's
 * tensors in name order (gguf-py's SafetensorsLocal sorts them, as the
 * safetensors package does), whatever their byte offsets, and writes each
 * output tensor when its source has been read. A tensor made of one source
 * tensor (or row ranges of it: split QKVZ, gate_up) sits at that source; a
 * stack of per-expert tensors is written once the layer's last expert
 * tensor (of any projection) has been read, the layer's three stacks then
 * in the converter's order down, gate, up (stack_rank). Position = (pass,
 * shard, name): pass 1 holds the matrices of a pre-quantized storage that
 * the converter builds under a new name (GPTQ "X.qweight", pack-quantized
 * "X.weight_packed" -> "X.weight"): it adds them after every tensor it
 * read, in their packed tensor's (shard, name) order; everything else
 * (FP8 and other scaled storages replace "X.weight" in place) is pass 0. */

struct order_key {
	int gpass, pass;            /* 1: added after every tensor read (pq_renamed) */
	int gfile, file;            /* group position (stacks: the layer's last) */
	const char *gname, *name;   /* and the tensor's own (its last piece) */
	int rank;                   /* stack_rank within the group */
	size_t bind;
	size_t plan;
};

/* the order in which llama.cpp's converter writes a layer's expert stacks */
static int stack_rank(int role)
{
	static const struct {
		int role, rank;
	} ranks[] = { { QK_R_FFN_DOWN_EXPS, 0 }, { QK_R_FFN_GATE_EXPS, 1 }, { QK_R_FFN_UP_EXPS, 2 } };

	for (size_t i = 0; i < sizeof(ranks) / sizeof(ranks[0]); i++)
		if (ranks[i].role == role)
			return ranks[i].rank;
	return 0;
}

static int cmp_pos(int pa, int fa, const char *na, int pb, int fb, const char *nb)
{
	if (pa != pb)
		return pa < pb ? -1 : 1;
	if (fa != fb)
		return fa < fb ? -1 : 1;
	return strcmp(na, nb);
}

static int read_pass(const struct qk_tensor *t)
{
	return t && t->pq && pq_renamed(t->pq);
}

/* the binding's last source tensor in read order; *stack when its pieces
 * come from more than one tensor (stacked experts) */
static void last_source(const struct qk_binding *b, struct order_key *k, bool *stack)
{
	const struct qk_tensor *t = b->view.n_pieces ? b->view.pieces[0].t : b->src;

	*stack = false;
	for (size_t i = 1; i < b->view.n_pieces; i++) {
		const struct qk_tensor *u = b->view.pieces[i].t;

		*stack |= u != t;
		if (cmp_pos(read_pass(u), u->file, u->name, read_pass(t), t->file, t->name) > 0)
			t = u;
	}
	k->pass = read_pass(t);
	k->file = t ? t->file : 0;
	k->name = t ? t->name : "";
}

static int cmp_key(const void *x, const void *y)
{
	const struct order_key *a = x, *b = y;
	int c = cmp_pos(a->gpass, a->gfile, a->gname, b->gpass, b->gfile, b->gname);

	if (!c && a->rank != b->rank)
		c = a->rank < b->rank ? -1 : 1;
	if (!c)
		c = cmp_pos(a->pass, a->file, a->name, b->pass, b->file, b->name);
	if (c)
		return c;
	return a->bind < b->bind ? -1 : a->bind > b->bind;
}

/* a stack's group position: the last piece over every stack of its layer */
static void group_stacks(const struct wp_plan *p, struct order_key *k, const bool *stack)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct qk_binding *bi = p->t[i].b;

		if (!stack[i])
			continue;
		for (size_t j = 0; j < p->n; j++) {
			const struct qk_binding *bj = p->t[j].b;

			if (stack[j] && bj->layer == bi->layer && bj->mtp == bi->mtp &&
			    cmp_pos(k[j].pass, k[j].file, k[j].name, k[i].gpass, k[i].gfile,
				    k[i].gname) > 0) {
				k[i].gpass = k[j].pass;
				k[i].gfile = k[j].file;
				k[i].gname = k[j].name;
			}
		}
	}
}

static int sort_plan(struct wp_plan *p, qk_err *err)
{
	struct order_key *k = malloc((p->n ? p->n : 1) * sizeof(*k));
	struct wp_tensor *t = malloc((p->n ? p->n : 1) * sizeof(*t));
	bool *stack = malloc(p->n ? p->n : 1);

	if (!k || !t || !stack) {
		free(k);
		free(t);
		free(stack);
		return qk_err_set(err, QK_E_NOMEM, "out of memory ordering tensors");
	}
	for (size_t i = 0; i < p->n; i++) {
		last_source(p->t[i].b, &k[i], &stack[i]);
		k[i].gpass = k[i].pass;
		k[i].gfile = k[i].file;
		k[i].gname = k[i].name;
		k[i].rank = stack[i] ? stack_rank(p->t[i].b->role) : 0;
		k[i].bind = (size_t)(p->t[i].b - p->m->bind);
		k[i].plan = i;
	}
	group_stacks(p, k, stack);
	qsort(k, p->n, sizeof(*k), cmp_key);
	for (size_t i = 0; i < p->n; i++)
		t[i] = p->t[k[i].plan];
	free(p->t);
	free(k);
	free(stack);
	p->t = t;
	return QK_OK;
}

/* ---- the plan ---- */

static bool planned(const struct wp_plan *p, const struct qk_binding *b)
{
	if (b->derived)
		return false; /* Qwen1 q/k/v: views of attn_qkv, written fused */
	if (b->mtp)
		return p->keep_mtp;
	return b->gguf_name[0] != '\0';
}

/* general.file_type: the outtype's; for auto, that of the first matrix
 * the outtype governs (llama.cpp: the first tensor with >= 2 dims) */
static uint32_t file_type(const struct wp_plan *p)
{
	if (p->outtype != WP_OUT_AUTO)
		return wp_ftype_of_type(outtype_type[p->outtype]);
	for (size_t i = 0; i < p->n; i++)
		if (p->t[i].n_dims >= 2 && !p->t[i].force_f32)
			return wp_ftype_of_type(p->t[i].type);
	return wp_ftype_of_type(QT_F32);
}

int wp_build(struct wp_plan *p, const struct qk_model *m, const struct wp_opts *o,
	     qk_err *err)
{
	int rc;

	memset(p, 0, sizeof(*p));
	if (m->form != QK_FORM_HF)
		return qk_err_set(err, QK_E_UNSUPPORTED,
				  "%s: converting a GGUF input is not supported (the input must be "
				  "a Hugging Face safetensors checkpoint)",
				  m->cat && m->cat->path ? m->cat->path : "input");
	if (!o || o->outtype < 0 || o->outtype >= WP_OUT_COUNT)
		return qk_err_set(err, QK_E_USAGE, "unknown outtype %d", o ? o->outtype : -1);
	p->m = m;
	p->outtype = o->outtype;
	p->keep_mtp = o->keep_mtp && m->n_mtp > 0;
	p->n_mtp = p->keep_mtp ? m->n_mtp : 0;
	p->t = malloc((m->n_bind ? m->n_bind : 1) * sizeof(*p->t));
	if (!p->t)
		return qk_err_set(err, QK_E_NOMEM, "out of memory planning %zu tensors", m->n_bind);
	for (size_t i = 0; i < m->n_bind; i++)
		if (planned(p, &m->bind[i]) && (rc = add_tensor(p, &m->bind[i], o, err)))
			goto fail;
	if ((rc = sort_plan(p, err)))
		goto fail;
	p->ftype = file_type(p);
	return QK_OK;
fail:
	wp_free(p);
	return rc;
}

void wp_free(struct wp_plan *p)
{
	if (!p)
		return;
	free(p->t);
	memset(p, 0, sizeof(*p));
}

int wp_set_type(struct wp_plan *p, size_t i, int type, qk_err *err)
{
	struct wp_tensor *t;
	uint64_t keep;
	int rc;

	if (i >= p->n)
		return qk_err_set(err, QK_E_USAGE, "tensor index %zu of a %zu-tensor plan", i, p->n);
	t = &p->t[i];
	keep = t->nbytes;
	if ((rc = size_of(t, type, err))) {
		t->nbytes = keep;
		return rc;
	}
	t->why = WP_WHY_CALLER;
	return QK_OK;
}

void wp_param_counts(const struct wp_plan *p, uint64_t *total, uint64_t *shared,
		     uint64_t *expert_params, uint64_t *expert_count)
{
	uint64_t all = 0, sh = 0, ex = 0, ex_sum = 0, n_ex = 0;

	for (size_t i = 0; i < p->n; i++) {
		const struct wp_tensor *t = &p->t[i];

		all += t->n_elem;
		if (strstr(t->name, "_exps.") && t->n_dims >= 3) {
			/* [n_expert, rows, cols]: shape[-3] as llama.cpp reads it */
			uint64_t e = t->shape[t->n_dims - 3];

			ex += t->n_elem / e;
			ex_sum += e;
			n_ex++;
		} else {
			sh += t->n_elem;
		}
	}
	*total = all;
	*shared = sh;
	*expert_params = ex;
	*expert_count = n_ex ? ex_sum / n_ex : 0;
}

uint64_t wp_data_bytes(const struct wp_plan *p)
{
	uint64_t s = 0;

	for (size_t i = 0; i < p->n; i++)
		s += p->t[i].nbytes;
	return s;
}
