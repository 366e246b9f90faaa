/* hf_vision.c - the vision tower of an mmproj GGUF (formats/model/vision.h)
 * back into a Hugging Face checkpoint, beside the text model of the export
 * (hf_export.h), from an mmproj GGUF or from the HF checkpoint itself (a
 * safetensors -> safetensors export): tensor names in the transformers 5.x layout
 * ("model.visual.*"), every GGUF transform undone through views (no copy):
 *   - attn_q/attn_k/attn_v (Qwen2-VL, Qwen2.5-VL) -> attn.qkv, their rows
 *     (and biases) one after the other;
 *   - v.patch_embd.weight and .weight.1 -> patch_embed.proj.weight
 *     [E, C, 2, P, P], the two temporal slices interleaved row by row;
 *   - deepstack mergers v.deepstack.L -> deepstack_merger_list.K, K the
 *     rank of L among the deepstack blocks;
 * and the vision_config / preprocessor_config.json the class reads. */
#include "hf_export.h"

#include <cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/dtype.h"
#include "../base/io.h"
#include "../model/vision.h"

/* a role's partners in a fused HF tensor: q -> k, v */
static const struct {
	int first, second, third;
} fused[] = {
	{ QK_R_V_ATTN_Q, QK_R_V_ATTN_K, QK_R_V_ATTN_V },
	{ QK_R_V_ATTN_Q_B, QK_R_V_ATTN_K_B, QK_R_V_ATTN_V_B },
	{ QK_R_V_PATCH, QK_R_V_PATCH_1, -1 },
};

/* the synthetic binding of a fused HF tensor, owned by the plan */
static struct qk_binding *new_bind(struct hx_plan *p, qk_err *err)
{
	struct qk_binding *b;

	if (p->n_vbind == p->cap_vbind) {
		/* bindings are referenced by pointer: never moved once handed out */
		return qk_err_set(err, QK_E_USAGE, "export: vision bindings overflow"), NULL;
	}
	b = &p->vbind[p->n_vbind++];
	memset(b, 0, sizeof(*b));
	return b;
}

/* matrix: the views of parts[0..n) one after the other; time: interleave
 * the two kernels' rows in blocks of `block` rows instead */
static int cat_view(struct qk_binding *b, const struct qk_binding *const *parts, int n,
		    uint64_t block, qk_err *err)
{
	size_t np = 0;
	uint64_t rows = 0;

	for (int k = 0; k < n; k++)
		np += block ? (size_t)(parts[k]->view.rows / block) : parts[k]->view.n_pieces;
	if (!(b->view.pieces = calloc(np ? np : 1, sizeof(*b->view.pieces))))
		return qk_err_set(err, QK_E_NOMEM, "out of memory planning the export");
	b->view.cols = parts[0]->view.cols;
	if (!block) {
		for (int k = 0; k < n; k++) {
			for (size_t i = 0; i < parts[k]->view.n_pieces; i++) {
				struct qk_piece pc = parts[k]->view.pieces[i];

				pc.start += rows;
				b->view.pieces[b->view.n_pieces++] = pc;
			}
			rows += parts[k]->view.rows;
		}
	} else {
		/* group g of each part lies in one of its pieces: the one piece over
		 * a GGUF tensor, or (an HF source) the piece of that group */
		for (uint64_t g = 0; g < parts[0]->view.rows / block; g++)
			for (int k = 0; k < n; k++) {
				const struct qk_view *v = &parts[k]->view;
				struct qk_piece pc;
				size_t i = 0;

				while (i + 1 < v->n_pieces && v->pieces[i + 1].start <= g * block)
					i++;
				pc = v->pieces[i];
				if (g * block < pc.start || g * block + block > pc.start + pc.n_rows)
					return qk_err_set(err, QK_E_USAGE, "export: a patch kernel's rows "
							  "straddle its pieces");
				pc.row0 += g * block - pc.start;
				pc.n_rows = block;
				pc.start = rows;
				rows += block;
				b->view.pieces[b->view.n_pieces++] = pc;
			}
	}
	b->view.rows = rows;
	b->src = parts[0]->src;
	b->form = parts[0]->form;
	b->role = parts[0]->role;
	b->layer = parts[0]->layer;
	return QK_OK;
}

static int cat_small(struct qk_binding *b, const struct qk_binding *const *parts, int n,
		     qk_err *err)
{
	uint64_t total = 0, at = 0;

	for (int k = 0; k < n; k++)
		total += parts[k]->n_f32;
	if (!(b->f32 = malloc((size_t)(total ? total : 1) * sizeof(float))))
		return qk_err_set(err, QK_E_NOMEM, "out of memory planning the export");
	for (int k = 0; k < n; k++) {
		memcpy(b->f32 + at, parts[k]->f32, (size_t)parts[k]->n_f32 * sizeof(float));
		at += parts[k]->n_f32;
	}
	b->n_f32 = total;
	b->src = parts[0]->src;
	b->form = parts[0]->form;
	b->role = parts[0]->role;
	b->layer = parts[0]->layer;
	return QK_OK;
}

/* the binding behind one HF tensor of row r at `layer`: the GGUF binding,
 * or a fused one made of its partners; NULL and *skip for the partners'
 * own rows */
static int source(struct hx_plan *p, const struct vs_model *vm, const struct vs_row *r,
		  int layer, const struct qk_binding **out, bool *skip, qk_err *err)
{
	const struct qk_binding *parts[3];
	struct qk_binding *b;

	*out = NULL;
	*skip = false;
	for (size_t i = 0; i < sizeof(fused) / sizeof(fused[0]); i++) {
		int n = fused[i].third >= 0 ? 3 : 2;

		if (r->role == fused[i].second || r->role == fused[i].third) {
			*skip = true;
			return QK_OK;
		}
		if (r->role != fused[i].first)
			continue;
		parts[0] = vs_get(vm, fused[i].first, layer);
		parts[1] = vs_get(vm, fused[i].second, layer);
		parts[2] = n == 3 ? vs_get(vm, fused[i].third, layer) : NULL;
		if (!parts[0] || !parts[1] || (n == 3 && !parts[2]))
			return qk_err_set(err, QK_E_INVALID, "mmproj: the parts of '%s' are missing",
					  r->hf);
		if (!(b = new_bind(p, err)))
			return QK_E_USAGE;
		*out = b;
		if (parts[0]->f32)
			return cat_small(b, parts, n, err);
		return cat_view(b, parts, n, r->role == QK_R_V_PATCH ? vm->vh.patch : 0, err);
	}
	if (!(*out = vs_get(vm, r->role, layer)))
		return qk_err_set(err, QK_E_INVALID, "mmproj: no tensor for '%s' at block %d", r->hf,
				  layer);
	return QK_OK;
}

/* append one HF tensor */
static int add(struct hx_plan *p, const struct vs_model *vm, const struct vs_row *r, int layer,
	       long hf_num, int dtype, qk_err *err)
{
	const struct qk_binding *b;
	struct hx_tensor *t;
	const char *at = strchr(r->hf, '@');
	bool skip;
	int rc;

	if ((rc = source(p, vm, r, layer, &b, &skip, err)) || skip)
		return rc;
	t = &p->t[p->n++];
	memset(t, 0, sizeof(*t));
	if (at)
		snprintf(t->name, sizeof(t->name), "model.visual.%.*s%ld%s", (int)(at - r->hf), r->hf,
			 hf_num, at + 1);
	else
		snprintf(t->name, sizeof(t->name), "model.visual.%s", r->hf);
	t->n_dims = vs_shape_eval(r->hf_shape[0] ? r->hf_shape : r->shape,
				  r->hf_shape[0] ? 5 : QK_SHAPE_MAX, &vm->vh, t->shape);
	if (t->n_dims < 1 || t->n_dims > HX_SHAPE_MAX)
		return qk_err_set(err, QK_E_USAGE, "export: '%s' has %d dims", t->name, t->n_dims);
	t->n_elem = 1;
	for (int d = 0; d < t->n_dims; d++)
		t->n_elem *= t->shape[d];
	t->b = b;
	t->src = b->f32 ? HX_SRC_SMALL : HX_SRC_VIEW;
	t->rows = b->f32 ? 0 : b->view.rows;
	t->cols = b->f32 ? 1 : b->view.cols;
	if (!b->f32 && b->view.rows * b->view.cols != t->n_elem)
		return qk_err_set(err, QK_E_INVALID, "mmproj: '%s' has %llu values, the vision "
				  "config gives %llu", t->name,
				  (unsigned long long)(b->view.rows * b->view.cols),
				  (unsigned long long)t->n_elem);
	if (b->f32 && b->n_f32 != t->n_elem)
		return qk_err_set(err, QK_E_INVALID, "mmproj: '%s' has %llu values, the vision "
				  "config gives %llu", t->name, (unsigned long long)b->n_f32,
				  (unsigned long long)t->n_elem);
	t->dtype = dtype >= 0 ? dtype : b->f32 ? QK_DT_F32 :
		   qk_dtype_is_float(b->view.pieces[0].dtype) ? b->view.pieces[0].dtype : QK_DT_BF16;
	return QK_OK;
}

int hx_add_vision(struct hx_plan *p, const struct vs_model *vm, int outtype_dtype, qk_err *err)
{
	const struct vs_hparams *vh = &vm->vh;
	size_t n_rows, n = 0;
	const struct vs_row *rows = vs_rows(&n_rows);
	struct hx_tensor *nt;
	int rc;

	for (size_t i = 0; i < n_rows; i++)
		if (rows[i].families & (1u << vh->family))
			n += rows[i].when == VS_W_GLOBAL ? 1 :
			     rows[i].when == VS_W_BLOCK ? vh->depth : vh->n_deepstack;
	if (!(nt = realloc(p->t, (p->n + n + 1) * sizeof(*p->t))) ||
	    !(p->vbind = calloc(2 * (size_t)vh->depth + 2, sizeof(*p->vbind))))
		return qk_err_set(err, QK_E_NOMEM, "out of memory planning the export");
	p->t = nt;
	p->cap_vbind = 2 * (size_t)vh->depth + 2;
	p->vision = vm;
	for (int pass = VS_W_GLOBAL; pass <= VS_W_DEEPSTACK; pass++)
		for (size_t i = 0; i < n_rows; i++) {
			const struct vs_row *r = &rows[i];

			if (!(r->families & (1u << vh->family)) || r->when != pass)
				continue;
			rc = r->when == VS_W_GLOBAL ? add(p, vm, r, -1, -1, outtype_dtype, err) : QK_OK;
			for (uint32_t b = 0; !rc && r->when == VS_W_BLOCK && b < vh->depth; b++)
				rc = add(p, vm, r, (int)b, (long)b, outtype_dtype, err);
			for (uint32_t k = 0; !rc && r->when == VS_W_DEEPSTACK && k < vh->n_deepstack;
			     k++)
				rc = add(p, vm, r, (int)vh->deepstack[k], (long)k, outtype_dtype, err);
			if (rc)
				return rc;
		}
	return QK_OK;
}

void hx_vision_free(struct hx_plan *p)
{
	for (size_t i = 0; i < p->n_vbind; i++) {
		free(p->vbind[i].view.pieces);
		free(p->vbind[i].f32);
	}
	free(p->vbind);
	p->vbind = NULL;
	p->n_vbind = p->cap_vbind = 0;
}

/* ---- vision_config and preprocessor_config.json ---- */

static const char *const acts[VS_FAM_COUNT] = {
	[VS_FAM_QWEN2VL] = "quick_gelu", [VS_FAM_QWEN25VL] = "silu",
	[VS_FAM_QWEN3VL] = "gelu_pytorch_tanh",
};

static void num(cJSON *o, const char *k, double v, bool *oom)
{
	*oom |= !cJSON_AddNumberToObject(o, k, v);
}

static cJSON *index_list(const uint32_t *v, uint32_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (uint32_t i = 0; a && i < n; i++)
		if (!cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]))) {
			cJSON_Delete(a);
			return NULL;
		}
	return a;
}

cJSON *hx_vision_config(const struct vs_hparams *vh, const char *model_type)
{
	cJSON *o = cJSON_CreateObject(), *l = NULL;
	bool oom = !o;
	uint32_t full[VS_MAX_LIST], n_full = 0;

	if (oom)
		return NULL;
	num(o, "depth", vh->depth, &oom);
	oom |= !cJSON_AddStringToObject(o, "hidden_act", acts[vh->family]);
	num(o, "in_channels", vh->in_chans, &oom);
	oom |= !cJSON_AddStringToObject(o, "model_type", model_type);
	num(o, "num_heads", vh->n_head, &oom);
	num(o, "patch_size", vh->patch, &oom);
	num(o, "spatial_merge_size", vh->merge, &oom);
	num(o, "temporal_patch_size", vh->temporal_patch, &oom);
	if (vh->family == VS_FAM_QWEN2VL) {
		num(o, "embed_dim", vh->n_embd, &oom);
		num(o, "hidden_size", vh->n_out, &oom);
		num(o, "mlp_ratio", vh->n_ff / vh->n_embd, &oom);
	} else {
		num(o, "hidden_size", vh->n_embd, &oom);
		num(o, "intermediate_size", vh->n_ff, &oom);
		num(o, "out_hidden_size", vh->n_out, &oom);
	}
	if (vh->family == VS_FAM_QWEN25VL) {
		/* an mmproj keeps the window pattern, not the window (llama.cpp
		 * assumes 112) nor the full-attention list */
		if (vh->n_fullatt) {
			memcpy(full, vh->fullatt, vh->n_fullatt * sizeof(full[0]));
			n_full = vh->n_fullatt;
		}
		for (uint32_t b = vh->n_wa_pattern - 1; !n_full && vh->n_wa_pattern && b < vh->depth &&
						       n_full < VS_MAX_LIST; b += vh->n_wa_pattern)
			full[n_full++] = b;
		oom |= !(l = index_list(full, n_full)) || !cJSON_AddItemToObject(o,
							"fullatt_block_indexes", l);
		num(o, "window_size", vh->window_size ? vh->window_size : 112, &oom);
	}
	if (vh->family == VS_FAM_QWEN3VL) {
		num(o, "num_position_embeddings", vh->n_pos, &oom);
		oom |= !(l = index_list(vh->deepstack, vh->n_deepstack)) ||
		       !cJSON_AddItemToObject(o, "deepstack_visual_indexes", l);
	}
	if (oom) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

char *hx_preprocessor_json(const struct vs_hparams *vh)
{
	cJSON *o = cJSON_CreateObject(), *m = cJSON_CreateFloatArray(vh->image_mean, (int)vh->n_mean),
	      *s = cJSON_CreateFloatArray(vh->image_std, (int)vh->n_mean);
	char *text = NULL;

	if (o && m && s && cJSON_AddStringToObject(o, "image_processor_type",
						   "Qwen2VLImageProcessor") &&
	    cJSON_AddItemToObject(o, "image_mean", m) && cJSON_AddItemToObject(o, "image_std", s)) {
		m = s = NULL;
		if (cJSON_AddNumberToObject(o, "merge_size", vh->merge) &&
		    cJSON_AddNumberToObject(o, "patch_size", vh->patch) &&
		    cJSON_AddNumberToObject(o, "temporal_patch_size", vh->temporal_patch))
			text = cJSON_Print(o);
	}
	cJSON_Delete(m);
	cJSON_Delete(s);
	cJSON_Delete(o);
	return text;
}
