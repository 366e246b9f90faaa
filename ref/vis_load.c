/* vis_load.c - binds a Hugging Face checkpoint's vision tower (visual.* or
 * model.visual.*, config.json's vision_config) to an rf_vis_model.
 *
 * Facts (transformers 5.23 configuration_qwen2_vl.py, _qwen2_5_vl.py,
 * _qwen3_vl.py, _qwen3_vl_moe.py, _qwen3_5.py and the modeling files):
 *  - Qwen2-VL: embed_dim is the vision width, hidden_size the output width,
 *    the MLP is int(embed_dim * mlp_ratio) wide, hidden_act quick_gelu;
 *    LayerNorms with bias; merger ln_q (LayerNorm), mlp.0, mlp.2;
 *  - Qwen2.5-VL: hidden_size is the vision width, out_hidden_size the output;
 *    RMSNorms; gate/up/down with bias; window_size (default 112) and
 *    fullatt_block_indexes (default 7, 15, 23, 31); merger ln_q (RMSNorm);
 *  - Qwen3-VL, Qwen3-VL-MoE, Qwen3.5: hidden_size / out_hidden_size, learned
 *    position table pos_embed [num_position_embeddings, E], patch bias,
 *    linear_fc1 / linear_fc2, merger norm / linear_fc1 / linear_fc2,
 *    deepstack_merger_list.K after block deepstack_visual_indexes[K]
 *    (Qwen3.5's config has no such list: none);
 *  - every family: qkv fused [3E, E] (q, k, v rows in that order), the
 *    Conv3d weight [E, C, T, P, P], eps 1e-6, axial rope theta
 *    vision_config.rope_parameters.rope_theta (default 10000).
 * Matrices stay in the file (views); norms, biases, the position table and
 * the patch weight are widened to fp32 copies the model owns.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/base/dtype.h"
#include "../formats/base/json.h"
#include "../formats/base/path.h"
#include "vis.h"

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

/* ---- config ---- */

struct vcfg {
	const char *file;
	const cJSON *vc;
};

/* a non-negative integer key of vision_config, or def when absent */
static int cfg_u32(const struct vcfg *c, const char *key, uint32_t def, uint32_t *out, qk_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->vc, key);

	if (!v || cJSON_IsNull(v)) {
		*out = def;
		return QK_OK;
	}
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0.0) || v->valuedouble > 4294967295.0 ||
	    v->valuedouble != floor(v->valuedouble))
		return qk_err_set_in(err, QK_E_INVALID, c->file, "vision_config.%s is %s, expected "
				     "an integer 0 .. 2^32-1", key, qk_json_kind(v));
	*out = (uint32_t)v->valuedouble;
	return QK_OK;
}

/* a list of block indexes: flags[i] set, or the default list */
static int cfg_blocks(const struct vcfg *c, const char *key, const uint32_t *def, size_t n_def,
		      uint32_t n_layer, int16_t *order, uint32_t *count, qk_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->vc, key), *it;
	uint32_t k = 0;

	for (uint32_t l = 0; l < RF_VIS_MAX_LAYERS; l++)
		order[l] = -1;
	if (!v || cJSON_IsNull(v)) {
		for (size_t i = 0; i < n_def; i++)
			if (def[i] < n_layer)
				order[def[i]] = (int16_t)k++;
		*count = k;
		return QK_OK;
	}
	if (!cJSON_IsArray(v))
		return qk_err_set_in(err, QK_E_INVALID, c->file, "vision_config.%s is %s, expected "
				     "a list of block indexes", key, qk_json_kind(v));
	cJSON_ArrayForEach(it, v) {
		if (!cJSON_IsNumber(it) || !(it->valuedouble >= 0.0) ||
		    it->valuedouble >= (double)n_layer || it->valuedouble != floor(it->valuedouble) ||
		    order[(uint32_t)it->valuedouble] >= 0)
			return qk_err_set_in(err, QK_E_INVALID, c->file, "vision_config.%s[%u]: "
					     "expected a block index 0 .. %u, each once", key, k,
					     n_layer ? n_layer - 1 : 0);
		order[(uint32_t)it->valuedouble] = (int16_t)k++;
	}
	*count = k;
	return QK_OK;
}

static const struct {
	const char *model_type;
	int kind;
} kinds[] = {
	{ "qwen2_vl", RF_VIS_QWEN2VL },    { "qwen2_5_vl", RF_VIS_QWEN25VL },
	{ "qwen3_vl", RF_VIS_QWEN3VL },    { "qwen3_vl_moe", RF_VIS_QWEN3VL },
	{ "qwen3_5", RF_VIS_QWEN3VL },     { "qwen3_5_moe", RF_VIS_QWEN3VL },
};

static const struct {
	const char *name;
	int act;
} acts[] = {
	{ "quick_gelu", RF_VIS_ACT_QUICK_GELU }, { "silu", RF_VIS_ACT_SILU },
	{ "gelu_pytorch_tanh", RF_VIS_ACT_GELU_TANH }, { "gelu", RF_VIS_ACT_GELU },
};

static int parse_config(const cJSON *root, const char *file, struct rf_vis_hparams *hp,
			qk_err *err)
{
	static const uint32_t full_def[] = { 7, 15, 23, 31 }, deep_def[] = { 8, 16, 24 };
	const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "model_type"), *a, *rp;
	struct vcfg c = { file, cJSON_GetObjectItemCaseSensitive(root, "vision_config") };
	uint32_t ratio = 4, n_full = 0, theta_i;
	int16_t full[RF_VIS_MAX_LAYERS];
	int rc;

	memset(hp, 0, sizeof(*hp));
	for (size_t i = 0; cJSON_IsString(mt) && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(mt->valuestring, kinds[i].model_type))
			hp->kind = kinds[i].kind;
	if (!hp->kind)
		return qk_err_set_in(err, QK_E_UNSUPPORTED, file, "model_type %s%s%s has no Qwen "
				     "vision tower (expected qwen2_vl, qwen2_5_vl, qwen3_vl, "
				     "qwen3_vl_moe, qwen3_5 or qwen3_5_moe)",
				     cJSON_IsString(mt) ? "'" : "",
				     cJSON_IsString(mt) ? mt->valuestring : qk_json_kind(mt),
				     cJSON_IsString(mt) ? "'" : "");
	if (!cJSON_IsObject(c.vc))
		return qk_err_set_in(err, QK_E_INVALID, file, "vision_config is %s, expected an "
				     "object", qk_json_kind(c.vc));
	if (hp->kind == RF_VIS_QWEN2VL) {
		if ((rc = cfg_u32(&c, "embed_dim", 1280, &hp->n_embd, err)) ||
		    (rc = cfg_u32(&c, "hidden_size", 3584, &hp->out_dim, err)) ||
		    (rc = cfg_u32(&c, "mlp_ratio", 4, &ratio, err)) ||
		    (rc = cfg_u32(&c, "depth", 32, &hp->n_layer, err)) ||
		    (rc = cfg_u32(&c, "num_heads", 16, &hp->n_head, err)) ||
		    (rc = cfg_u32(&c, "patch_size", 14, &hp->patch, err)))
			return rc;
		hp->n_ff = (uint64_t)hp->n_embd * ratio > RF_VIS_MAX_DIM ? 0 : hp->n_embd * ratio;
	} else {
		const bool v3 = hp->kind == RF_VIS_QWEN3VL;

		if ((rc = cfg_u32(&c, "hidden_size", v3 ? 1152 : 3584, &hp->n_embd, err)) ||
		    (rc = cfg_u32(&c, "out_hidden_size", 3584, &hp->out_dim, err)) ||
		    (rc = cfg_u32(&c, "intermediate_size", v3 ? 4304 : 3420, &hp->n_ff, err)) ||
		    (rc = cfg_u32(&c, "depth", v3 ? 27 : 32, &hp->n_layer, err)) ||
		    (rc = cfg_u32(&c, "num_heads", 16, &hp->n_head, err)) ||
		    (rc = cfg_u32(&c, "patch_size", v3 ? 16 : 14, &hp->patch, err)) ||
		    (rc = cfg_u32(&c, "window_size", 112, &hp->window, err)) ||
		    (rc = cfg_u32(&c, "num_position_embeddings", 2304, &hp->n_pos, err)))
			return rc;
	}
	if ((rc = cfg_u32(&c, "temporal_patch_size", 2, &hp->tpatch, err)) ||
	    (rc = cfg_u32(&c, "in_channels", 3, &hp->in_ch, err)) ||
	    (rc = cfg_u32(&c, "spatial_merge_size", 2, &hp->merge, err)))
		return rc;
	if (!hp->n_layer || hp->n_layer > RF_VIS_MAX_LAYERS)
		return qk_err_set_in(err, QK_E_INVALID, file, "vision_config.depth %u: expected 1 .. "
				     "%d", hp->n_layer, RF_VIS_MAX_LAYERS);
	for (uint32_t l = 0; l < RF_VIS_MAX_LAYERS; l++)
		hp->deep[l] = -1;
	if (hp->kind == RF_VIS_QWEN25VL &&
	    (rc = cfg_blocks(&c, "fullatt_block_indexes", full_def, 4, hp->n_layer, full, &n_full,
			     err)))
		return rc;
	for (uint32_t l = 0; hp->kind == RF_VIS_QWEN25VL && l < hp->n_layer; l++)
		hp->full[l] = full[l] >= 0;
	if (hp->kind == RF_VIS_QWEN3VL) {
		const bool q35 = cJSON_IsString(mt) && !strncmp(mt->valuestring, "qwen3_5", 7);

		if ((rc = cfg_blocks(&c, "deepstack_visual_indexes", deep_def, q35 ? 0 : 3,
				     hp->n_layer, hp->deep, &hp->n_deep, err)))
			return rc;
	}
	a = cJSON_GetObjectItemCaseSensitive(c.vc, "hidden_act");
	hp->act = hp->kind == RF_VIS_QWEN2VL ? RF_VIS_ACT_QUICK_GELU
		  : hp->kind == RF_VIS_QWEN25VL ? RF_VIS_ACT_SILU : RF_VIS_ACT_GELU_TANH;
	if (a && !cJSON_IsNull(a)) {
		hp->act = 0;
		for (size_t i = 0; cJSON_IsString(a) && i < sizeof(acts) / sizeof(acts[0]); i++)
			if (!strcmp(a->valuestring, acts[i].name))
				hp->act = acts[i].act;
		if (!hp->act)
			return qk_err_set_in(err, QK_E_UNSUPPORTED, file, "vision_config.hidden_act: "
					     "expected quick_gelu, silu, gelu_pytorch_tanh or gelu");
	}
	hp->eps = 1e-6f;
	hp->rope_theta = 10000.0f;
	rp = cJSON_GetObjectItemCaseSensitive(c.vc, "rope_parameters");
	if (cJSON_IsObject(rp)) {
		const struct vcfg r = { file, rp };
		const cJSON *th = cJSON_GetObjectItemCaseSensitive(rp, "rope_theta");

		if (th && cJSON_IsNumber(th) && th->valuedouble > 0.0 && th->valuedouble < 1e30)
			hp->rope_theta = (float)th->valuedouble;
		else if (th && (rc = cfg_u32(&r, "rope_theta", 10000, &theta_i, err)))
			return rc;
	}
	return rf_vis_check_hparams(hp, err) ? qk_err_prefix(err, "%s", file) : QK_OK;
}

/* ---- tensors ---- */

/* the tensor NAME (printf pattern with the block index) under the vision
 * prefix; NULL and QK_E_INVALID when required and absent */
static const struct qk_tensor *find(const struct qk_catalog *cat, const char *prefix,
				    const char *pat, int idx, bool required, int *rc, qk_err *err)
{
	char full[300];
	const char *d = strstr(pat, "%d");
	const struct qk_tensor *t;

	/* the patterns are this file's own, short: no truncation */
	if (d)
		snprintf(full, sizeof(full), "%s%.*s%d%s", prefix, (int)(d - pat), pat, idx, d + 2);
	else
		snprintf(full, sizeof(full), "%s%s", prefix, pat);
	t = qk_catalog_find(cat, full);
	if (!t && required && !*rc)
		*rc = qk_err_set(err, QK_E_INVALID, "vision tensor '%s' is missing", full);
	return t;
}

/* a one-piece view of rows [row0, row0 + rows) of t seen as [*, cols] */
static int view_of(struct rf_vis_model *vm, const struct qk_tensor *t, uint64_t row0,
		   uint64_t rows, uint64_t cols, struct qk_view *v, qk_err *err)
{
	struct qk_piece *p;
	uint64_t rb = 0, all;

	if (!cols || t->n_elem % cols || (all = t->n_elem / cols) < row0 + rows ||
	    !qk_dtype_nbytes(t->dtype, cols, &rb) || rb * all != t->nbytes)
		return qk_err_set(err, QK_E_INVALID, "vision tensor '%s' (%s, %llu values) cannot "
				  "be read as rows of %llu", t->name, qk_dtype_name(t->dtype),
				  (unsigned long long)t->n_elem, (unsigned long long)cols);
	if (!(p = own(vm, sizeof(*p), err)))
		return QK_E_NOMEM;
	*p = (struct qk_piece){ .t = t, .row0 = row0, .n_rows = rows, .start = 0, .row_bytes = rb,
				.dtype = t->dtype };
	memset(v, 0, sizeof(*v));
	v->rows = rows;
	v->cols = cols;
	v->n_pieces = 1;
	v->pieces = p;
	return QK_OK;
}

/* the fp32 values of t, which must hold exactly n of them */
static int small(struct rf_vis_model *vm, const struct qk_tensor *t, uint64_t n, const float **out,
		 qk_err *err)
{
	struct qk_view v;
	uint64_t cols;
	float *f;
	int rc;

	*out = NULL;
	if (!t)
		return QK_OK;
	if (t->n_elem != n)
		return qk_err_set(err, QK_E_INVALID, "vision tensor '%s': %llu values, expected %llu",
				  t->name, (unsigned long long)t->n_elem, (unsigned long long)n);
	cols = t->n_dims ? t->shape[t->n_dims - 1] : 1;
	if ((rc = view_of(vm, t, 0, n / (cols ? cols : 1), cols, &v, err)))
		return rc;
	if (!(f = own(vm, n * sizeof(float), err)))
		return QK_E_NOMEM;
	for (uint64_t r = 0; r < v.rows; r++)
		if ((rc = qk_view_read_row(&v, r, f + r * cols, err)))
			return qk_err_prefix(err, "vision tensor '%s'", t->name);
	if (vm->n_smalls == vm->cap_smalls) {
		const size_t cap = vm->cap_smalls ? 2 * vm->cap_smalls : 64;
		struct rf_vis_small *sm = realloc(vm->smalls, cap * sizeof(*sm));

		if (!sm)
			return qk_err_set(err, QK_E_NOMEM, "out of memory binding the vision tower");
		vm->smalls = sm;
		vm->cap_smalls = cap;
	}
	vm->smalls[vm->n_smalls++] = (struct rf_vis_small){ t->name, f, n };
	*out = f;
	return QK_OK;
}

/* the rows of one matrix */
static int check_mat(const struct rf_vis_mat *m, float *buf, qk_err *err)
{
	for (uint64_t r = 0; r < m->w.rows; r++) {
		uint64_t c;
		int rc = qk_view_read_row(&m->w, r, buf, err);

		if (rc)
			return rc;
		if (qk_first_nonfinite(buf, m->w.cols, &c))
			return qk_err_nonfinite(err, m->w.pieces[0].t->name,
						m->w.pieces[0].t->n_elem / m->w.cols, m->w.cols,
						m->w.pieces[0].row0 + r, c, buf[c]);
	}
	return QK_OK;
}

int rf_vis_check_finite(const struct rf_vis_model *vm, qk_err *err)
{
	const struct rf_vis_hparams *hp = &vm->hp;
	const size_t nm = 3 + 7 * (size_t)hp->n_layer + 2 * (size_t)hp->n_deep;
	const struct rf_vis_mat **ms = malloc(nm * sizeof(*ms));
	size_t n = 0, cols = 0;
	float *buf = NULL;
	int rc = QK_OK;

	for (size_t i = 0; i < vm->n_smalls; i++) {
		uint64_t c;

		if (qk_first_nonfinite(vm->smalls[i].v, vm->smalls[i].n, &c))
			return free(ms), qk_err_nonfinite(err, vm->smalls[i].name, 1, vm->smalls[i].n,
							  0, c, vm->smalls[i].v[c]);
	}
	if (!ms)
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

/* a matrix [rows x cols] (the whole tensor, or rows from row0 of a fused one)
 * with its bias */
static int mat(struct rf_vis_model *vm, const struct qk_tensor *w, const struct qk_tensor *b,
	       uint64_t row0, uint64_t rows, uint64_t cols, struct rf_vis_mat *m, qk_err *err)
{
	const float *bias;
	int rc;

	if (!w)
		return QK_OK;
	if (w->n_dims < 2 || w->shape[0] * (w->n_elem / w->shape[0]) != w->n_elem ||
	    w->n_elem / cols < row0 + rows || w->n_elem % cols)
		return qk_err_set(err, QK_E_INVALID, "vision tensor '%s': %llu values, expected rows "
				  "of %llu", w->name, (unsigned long long)w->n_elem,
				  (unsigned long long)cols);
	if ((rc = view_of(vm, w, row0, rows, cols, &m->w, err)) ||
	    (rc = small(vm, b, b ? b->n_elem : 0, &bias, err)))
		return rc;
	if (b && b->n_elem != w->n_elem / cols)
		return qk_err_set(err, QK_E_INVALID, "vision tensor '%s': %llu values, expected %llu",
				  b->name, (unsigned long long)b->n_elem,
				  (unsigned long long)(w->n_elem / cols));
	m->b = bias ? bias + row0 : NULL;
	return QK_OK;
}

/* HF names per family (vision prefix and block index added) */
struct vis_names {
	const char *patch_b, *pos;
	const char *n1_w, *n1_b, *n2_w, *n2_b, *qkv_w, *qkv_b, *o_w, *o_b;
	const char *up_w, *up_b, *gate_w, *gate_b, *down_w, *down_b;
	const char *mn_w, *mn_b, *m1_w, *m1_b, *m2_w, *m2_b; /* merger */
	const char *dn_w, *dn_b, *d1_w, *d1_b, *d2_w, *d2_b; /* deepstack merger K */
};

#define BLK "blocks.%d."
#define LN BLK "norm1.weight", BLK "norm1.bias", BLK "norm2.weight", BLK "norm2.bias"
#define RMS BLK "norm1.weight", NULL, BLK "norm2.weight", NULL
#define ATT BLK "attn.qkv.weight", BLK "attn.qkv.bias", BLK "attn.proj.weight", BLK "attn.proj.bias"
#define DS "deepstack_merger_list.%d."

static const struct vis_names names[] = {
	[RF_VIS_QWEN2VL] = { NULL, NULL, LN, ATT,
		BLK "mlp.fc1.weight", BLK "mlp.fc1.bias", NULL, NULL,
		BLK "mlp.fc2.weight", BLK "mlp.fc2.bias",
		"merger.ln_q.weight", "merger.ln_q.bias", "merger.mlp.0.weight", "merger.mlp.0.bias",
		"merger.mlp.2.weight", "merger.mlp.2.bias", NULL, NULL, NULL, NULL, NULL, NULL },
	[RF_VIS_QWEN25VL] = { NULL, NULL, RMS, ATT,
		BLK "mlp.up_proj.weight", BLK "mlp.up_proj.bias",
		BLK "mlp.gate_proj.weight", BLK "mlp.gate_proj.bias",
		BLK "mlp.down_proj.weight", BLK "mlp.down_proj.bias",
		"merger.ln_q.weight", NULL, "merger.mlp.0.weight", "merger.mlp.0.bias",
		"merger.mlp.2.weight", "merger.mlp.2.bias", NULL, NULL, NULL, NULL, NULL, NULL },
	[RF_VIS_QWEN3VL] = { "patch_embed.proj.bias", "pos_embed.weight", LN, ATT,
		BLK "mlp.linear_fc1.weight", BLK "mlp.linear_fc1.bias", NULL, NULL,
		BLK "mlp.linear_fc2.weight", BLK "mlp.linear_fc2.bias",
		"merger.norm.weight", "merger.norm.bias", "merger.linear_fc1.weight",
		"merger.linear_fc1.bias", "merger.linear_fc2.weight", "merger.linear_fc2.bias",
		DS "norm.weight", DS "norm.bias", DS "linear_fc1.weight", DS "linear_fc1.bias",
		DS "linear_fc2.weight", DS "linear_fc2.bias" },
};

struct binder {
	struct rf_vis_model *vm;
	const struct qk_catalog *cat;
	const char *prefix;
	int rc;
	qk_err *err;
};

static const struct qk_tensor *need(struct binder *b, const char *pat, int idx)
{
	return pat ? find(b->cat, b->prefix, pat, idx, true, &b->rc, b->err) : NULL;
}

static void bind_small(struct binder *b, const char *pat, int idx, uint64_t n, const float **out)
{
	const struct qk_tensor *t = need(b, pat, idx);

	if (!b->rc)
		b->rc = small(b->vm, t, n, out, b->err);
}

static void bind_mat(struct binder *b, const char *w, const char *bias, int idx, uint64_t rows,
		     uint64_t cols, struct rf_vis_mat *m)
{
	const struct qk_tensor *tw = need(b, w, idx), *tb = need(b, bias, idx);

	if (!b->rc && tw && tw->n_elem != rows * cols)
		b->rc = qk_err_set(b->err, QK_E_INVALID, "vision tensor '%s': %llu values, expected "
				   "[%llu x %llu]", tw->name, (unsigned long long)tw->n_elem,
				   (unsigned long long)rows, (unsigned long long)cols);
	if (!b->rc)
		b->rc = mat(b->vm, tw, tb, 0, rows, cols, m, b->err);
}

static void bind_merger(struct binder *b, const char *nw, const char *nb, const char *w1,
			const char *b1, const char *w2, const char *b2, int idx, uint64_t n_norm,
			struct rf_vis_merger *mg)
{
	const struct rf_vis_hparams *hp = &b->vm->hp;
	const uint64_t M = (uint64_t)hp->merge * hp->merge * hp->n_embd;

	bind_small(b, nw, idx, n_norm, &mg->n_w);
	bind_small(b, nb, idx, n_norm, &mg->n_b);
	bind_mat(b, w1, b1, idx, M, M, &mg->fc1);
	bind_mat(b, w2, b2, idx, hp->out_dim, M, &mg->fc2);
}

/* the fused qkv rows [3E, E] as three views */
static void bind_qkv(struct binder *b, const struct vis_names *nm, int l, struct rf_vis_block *bk)
{
	const uint64_t E = b->vm->hp.n_embd;
	const struct qk_tensor *w = need(b, nm->qkv_w, l), *bias = need(b, nm->qkv_b, l);
	struct rf_vis_mat *m[3] = { &bk->q, &bk->k, &bk->v };

	if (!b->rc && w->n_elem != 3 * E * E)
		b->rc = qk_err_set(b->err, QK_E_INVALID, "vision tensor '%s': %llu values, expected "
				   "[%llu x %llu]", w->name, (unsigned long long)w->n_elem,
				   (unsigned long long)(3 * E), (unsigned long long)E);
	for (int i = 0; i < 3 && !b->rc; i++)
		b->rc = mat(b->vm, w, bias, (uint64_t)i * E, E, E, m[i], b->err);
}

static int vis_bind_names(struct rf_vis_model *vm, const struct qk_catalog *cat, qk_err *err)
{
	const struct rf_vis_hparams *hp = &vm->hp;
	const struct vis_names *nm = &names[hp->kind];
	const uint64_t E = hp->n_embd, F = hp->n_ff;
	const uint64_t K = (uint64_t)hp->in_ch * hp->tpatch * hp->patch * hp->patch;
	struct binder b = { vm, cat, "model.visual.", 0, err };
	const struct qk_tensor *pw;

	if (!qk_catalog_find(cat, "model.visual.patch_embed.proj.weight"))
		b.prefix = "visual.";
	pw = need(&b, "patch_embed.proj.weight", 0);
	if (b.rc)
		return b.rc;
	if (pw->n_elem != E * K)
		return qk_err_set(err, QK_E_INVALID, "vision tensor '%s': %llu values, expected "
				  "[%llu, %u, %u, %u, %u]", pw->name, (unsigned long long)pw->n_elem,
				  (unsigned long long)E, hp->in_ch, hp->tpatch, hp->patch, hp->patch);
	if ((b.rc = mat(vm, pw, need(&b, nm->patch_b, 0), 0, E, K, &vm->patch, err)))
		return b.rc;
	bind_small(&b, nm->pos, 0, (uint64_t)hp->n_pos * E, &vm->pos);
	if (!b.rc && !(vm->blk = own(vm, hp->n_layer * sizeof(*vm->blk), err)))
		return QK_E_NOMEM;
	for (int l = 0; !b.rc && l < (int)hp->n_layer; l++) {
		struct rf_vis_block *bk = &vm->blk[l];

		bind_small(&b, nm->n1_w, l, E, &bk->n1_w);
		bind_small(&b, nm->n1_b, l, E, &bk->n1_b);
		bind_small(&b, nm->n2_w, l, E, &bk->n2_w);
		bind_small(&b, nm->n2_b, l, E, &bk->n2_b);
		bind_qkv(&b, nm, l, bk);
		bind_mat(&b, nm->o_w, nm->o_b, l, E, E, &bk->o);
		bind_mat(&b, nm->up_w, nm->up_b, l, F, E, &bk->up);
		bind_mat(&b, nm->gate_w, nm->gate_b, l, F, E, &bk->gate);
		bind_mat(&b, nm->down_w, nm->down_b, l, E, F, &bk->down);
	}
	bind_merger(&b, nm->mn_w, nm->mn_b, nm->m1_w, nm->m1_b, nm->m2_w, nm->m2_b, 0, E,
		    &vm->merger);
	if (!b.rc && hp->n_deep && !(vm->deep = own(vm, hp->n_deep * sizeof(*vm->deep), err)))
		return QK_E_NOMEM;
	for (int k = 0; !b.rc && k < (int)hp->n_deep; k++)
		bind_merger(&b, nm->dn_w, nm->dn_b, nm->d1_w, nm->d1_b, nm->d2_w, nm->d2_b, k,
			    (uint64_t)hp->merge * hp->merge * E, &vm->deep[k]);
	return b.rc;
}

int rf_vis_load_hf(struct rf_vis_model *vm, const struct qk_catalog *cat, const char *dir,
		   qk_err *err)
{
	cJSON *root = NULL;
	char *path;
	int rc;

	memset(vm, 0, sizeof(*vm));
	if (!dir)
		return qk_err_set(err, QK_E_USAGE, "%s: no directory with a config.json", cat->path);
	if (!(path = qk_path_join(dir, "config.json")))
		return qk_err_set(err, QK_E_NOMEM, "out of memory");
	rc = qk_json_load(path, &root, err);
	if (!rc)
		rc = parse_config(root, path, &vm->hp, err);
	cJSON_Delete(root);
	free(path);
	if (!rc)
		rc = vis_bind_names(vm, cat, err);
	if (rc)
		rf_vis_model_free(vm);
	return rc;
}
