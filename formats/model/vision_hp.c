/* vision_hp.c - vision hyperparameters from config.json (+
 * preprocessor_config.json) or from an mmproj GGUF's clip.* keys; see
 * vision.h.
 *
 * Defaults are the transformers 5.23 vision config classes'
 * (Qwen2VLVisionConfig, Qwen2_5_VLVisionConfig, Qwen3VLVisionConfig,
 * Qwen3_5VisionConfig), because llama.cpp's converter reads config.json
 * through transformers (AutoConfig(...).to_dict()), which fills them in. */
#include "vision.h"

#include <cJSON.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/io.h"
#include "../base/json.h"
#include "../base/path.h"
#include "../container/gguf.h"

/* class defaults, by family */
static const struct {
	uint32_t depth, n_embd, n_ff, n_head, patch, n_out, n_pos, window;
} defaults[VS_FAM_COUNT] = {
	/* Qwen2-VL: n_embd = embed_dim, n_ff = mlp_ratio 4 * embed_dim, n_out = hidden_size */
	[VS_FAM_QWEN2VL] = { 32, 1280, 4 * 1280, 16, 14, 3584, 0, 0 },
	[VS_FAM_QWEN25VL] = { 32, 3584, 3420, 16, 14, 3584, 0, 112 },
	[VS_FAM_QWEN3VL] = { 27, 1152, 4304, 16, 16, 3584, 2304, 0 },
};
static const uint32_t qwen25_fullatt[] = { 7, 15, 23, 31 };
static const uint32_t qwen3vl_deepstack[] = { 8, 16, 24 };

struct jctx {
	const char *file;
	qk_err *err;
};

/* an integer key of obj in [lo, hi], or def when absent (JSON null is absent) */
static int get_u32(const struct jctx *c, const cJSON *obj, const char *path, const char *key,
		   uint32_t def, uint32_t lo, uint32_t hi, uint32_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!v || cJSON_IsNull(v)) {
		*out = def;
		return QK_OK;
	}
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
	    v->valuedouble < lo || v->valuedouble > hi)
		return qk_err_set_in(c->err, QK_E_INVALID, c->file,
				     "key '%s%s' is %s%s, expected an integer in [%u, %u]", path, key,
				     cJSON_IsNumber(v) ? "" : qk_json_kind(v),
				     cJSON_IsNumber(v) ? "out of range" : "", lo, hi);
	*out = (uint32_t)v->valuedouble;
	return QK_OK;
}

/* a list of block indexes (< depth), strictly ascending */
static int get_list(const struct jctx *c, const cJSON *obj, const char *key, uint32_t depth,
		    const uint32_t *def, uint32_t n_def, uint32_t *out, uint32_t *n_out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key), *e;
	uint32_t n = 0;

	if (!v || cJSON_IsNull(v)) {
		memcpy(out, def, n_def * sizeof(*def));
		*n_out = n_def;
		v = NULL;
	} else if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > VS_MAX_LIST) {
		return qk_err_set_in(c->err, QK_E_INVALID, c->file,
				     "key 'vision_config.%s' is %s, expected a list of at most %d "
				     "block indexes", key, qk_json_kind(v), VS_MAX_LIST);
	}
	cJSON_ArrayForEach(e, v) {
		if (!cJSON_IsNumber(e) || e->valuedouble != floor(e->valuedouble) ||
		    e->valuedouble < 0 || e->valuedouble >= depth)
			return qk_err_set_in(c->err, QK_E_INVALID, c->file,
					     "key 'vision_config.%s': element %u is not a block "
					     "index below depth %u", key, n, depth);
		out[n++] = (uint32_t)e->valuedouble;
	}
	if (v)
		*n_out = n;
	for (uint32_t i = 1; i < *n_out; i++)
		if (out[i] <= out[i - 1])
			return qk_err_set_in(c->err, QK_E_INVALID, c->file,
					     "key 'vision_config.%s': %u after %u, expected ascending "
					     "block indexes", key, out[i], out[i - 1]);
	for (uint32_t i = 0; i < *n_out; i++)
		if (out[i] >= depth)
			return qk_err_set_in(c->err, QK_E_INVALID, c->file,
					     "key 'vision_config.%s': block %u, the tower has %u",
					     key, out[i], depth);
	return QK_OK;
}

/* Qwen2.5-VL: the window-attention pattern (llama.cpp's n_wa_pattern) */
static int wa_pattern(const struct jctx *c, struct vs_hparams *vh)
{
	if (!vh->n_fullatt)
		return qk_err_set_in(c->err, QK_E_INVALID, c->file,
				     "key 'vision_config.fullatt_block_indexes' is empty: Qwen2.5-VL "
				     "needs at least one full-attention block");
	vh->n_wa_pattern = vh->fullatt[0] + 1;
	for (uint32_t i = 1; i < vh->n_fullatt; i++)
		if (vh->fullatt[i] - vh->fullatt[i - 1] != vh->n_wa_pattern)
			return qk_err_set_in(c->err, QK_E_INVALID, c->file,
					     "key 'vision_config.fullatt_block_indexes': %u after %u, "
					     "expected every %u-th block (the mmproj stores one "
					     "window pattern, clip.vision.n_wa_pattern)",
					     vh->fullatt[i], vh->fullatt[i - 1], vh->n_wa_pattern);
	return QK_OK;
}

static int image_norm(struct vs_hparams *vh, const char *pp, size_t pp_len,
		      const char *pp_name, qk_err *err)
{
	static const char *const keys[2] = { "image_mean", "image_std" };
	cJSON *root = NULL;
	int rc;

	if ((rc = qk_json_parse(pp, pp_len, pp_name, 0, &root, err)))
		return rc;
	for (int k = 0; k < 2; k++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, keys[k]), *e;
		float *dst = k ? vh->image_std : vh->image_mean;
		uint32_t n = 0;

		if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1 || cJSON_GetArraySize(v) > 4 ||
		    (k && (uint32_t)cJSON_GetArraySize(v) != vh->n_mean)) {
			rc = qk_err_set_in(err, QK_E_INVALID, pp_name,
					   "key '%s' is %s, expected a list of 1 to 4 numbers%s",
					   keys[k], qk_json_kind(v), k ? " as long as image_mean" : "");
			goto out;
		}
		cJSON_ArrayForEach(e, v) {
			if (!cJSON_IsNumber(e)) {
				rc = qk_err_set_in(err, QK_E_INVALID, pp_name,
						   "key '%s': element %u is %s, expected a number",
						   keys[k], n, qk_json_kind(e));
				goto out;
			}
			dst[n++] = (float)e->valuedouble;
		}
		vh->n_mean = n;
	}
	vh->has_norm = true;
out:
	cJSON_Delete(root);
	return rc;
}

static int from_json(struct vs_hparams *vh, const cJSON *root, const struct jctx *c)
{
	const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "model_type");
	const cJSON *vc = cJSON_GetObjectItemCaseSensitive(root, "vision_config");
	const cJSON *tc = cJSON_GetObjectItemCaseSensitive(root, "text_config");
	const cJSON *eps;
	uint32_t ratio, d_out, d_ff;
	int f, rc;

	if (!cJSON_IsString(mt))
		return qk_err_set_in(c->err, QK_E_INVALID, c->file,
				     "key 'model_type' is %s, expected a string", qk_json_kind(mt));
	if ((f = vs_family_from_model_type(mt->valuestring)) < 0)
		return qk_err_set_in(c->err, QK_E_UNSUPPORTED, c->file,
				     "model_type '%.60s' has no vision tower this build knows "
				     "(qwen2_vl, qwen2_5_vl, qwen3_vl, qwen3_vl_moe, qwen3_5, "
				     "qwen3_5_moe)", mt->valuestring);
	if (!cJSON_IsObject(vc))
		return qk_err_set_in(c->err, QK_E_UNSUPPORTED, c->file,
				     "no vision_config (%s): the checkpoint has no vision tower",
				     qk_json_kind(vc));
	if (!cJSON_IsObject(tc))
		tc = root;
	vh->family = f;
	snprintf(vh->model_type, sizeof(vh->model_type), "%s", mt->valuestring);
	if ((rc = get_u32(c, tc, tc == root ? "" : "text_config.", "hidden_size", 0, 1,
			  1u << 24, &vh->n_embd_text)) ||
	    (!vh->n_embd_text &&
	     (rc = qk_err_set_in(c->err, QK_E_INVALID, c->file,
				 "key '%shidden_size' is missing", tc == root ? "" : "text_config."))))
		return rc;
	d_out = defaults[f].n_out;
	d_ff = defaults[f].n_ff;
	if (f == VS_FAM_QWEN2VL) {
		/* embed_dim is the tower's width; hidden_size the merger's output */
		if ((rc = get_u32(c, vc, "vision_config.", "embed_dim", defaults[f].n_embd, 1,
				  1u << 20, &vh->n_embd)) ||
		    (rc = get_u32(c, vc, "vision_config.", "hidden_size", d_out, 1, 1u << 24,
				  &vh->n_out)) ||
		    (rc = get_u32(c, vc, "vision_config.", "mlp_ratio", 4, 1, 64, &ratio)))
			return rc;
		vh->n_ff = vh->n_embd * ratio;
		vh->n_ff_key = vh->n_out;
	} else {
		if ((rc = get_u32(c, vc, "vision_config.", "hidden_size", defaults[f].n_embd, 1,
				  1u << 20, &vh->n_embd)) ||
		    (rc = get_u32(c, vc, "vision_config.", "intermediate_size", d_ff, 1, 1u << 24,
				  &vh->n_ff)) ||
		    (rc = get_u32(c, vc, "vision_config.", "out_hidden_size", d_out, 1, 1u << 24,
				  &vh->n_out)))
			return rc;
		vh->n_ff_key = vh->n_ff;
	}
	if ((rc = get_u32(c, vc, "vision_config.", "depth", defaults[f].depth, 1, VS_MAX_BLOCKS,
			  &vh->depth)) ||
	    (rc = get_u32(c, vc, "vision_config.", "num_heads", defaults[f].n_head, 1, 1u << 16,
			  &vh->n_head)) ||
	    (rc = get_u32(c, vc, "vision_config.", "patch_size", defaults[f].patch, 1, 1024,
			  &vh->patch)) ||
	    (rc = get_u32(c, vc, "vision_config.", "temporal_patch_size", 2, 2, 2,
			  &vh->temporal_patch)) ||
	    (rc = get_u32(c, vc, "vision_config.", "spatial_merge_size", 2, 1, 64, &vh->merge)))
		return rc;
	if (cJSON_GetObjectItemCaseSensitive(vc, "in_channels"))
		rc = get_u32(c, vc, "vision_config.", "in_channels", 3, 1, 64, &vh->in_chans);
	else /* released Qwen2-VL configs say in_chans */
		rc = get_u32(c, vc, "vision_config.", "in_chans", 3, 1, 64, &vh->in_chans);
	if (rc)
		return rc;
	if (vh->n_embd % vh->n_head)
		return qk_err_set_in(c->err, QK_E_INVALID, c->file,
				     "vision_config: hidden width %u is not a multiple of num_heads "
				     "%u", vh->n_embd, vh->n_head);
	if (f == VS_FAM_QWEN3VL) {
		double side;

		if ((rc = get_u32(c, vc, "vision_config.", "num_position_embeddings",
				  defaults[f].n_pos, 1, 1u << 24, &vh->n_pos)) ||
		    (rc = get_list(c, vc, "deepstack_visual_indexes", vh->depth, qwen3vl_deepstack,
				   strncmp(vh->model_type, "qwen3_vl", 8) == 0 ? 3 : 0,
				   vh->deepstack, &vh->n_deepstack)))
			return rc;
		/* llama.cpp: int(num_position_embeddings ** 0.5 * patch_size) */
		side = sqrt((double)vh->n_pos) * vh->patch;
		if ((rc = get_u32(c, vc, "vision_config.", "image_size", (uint32_t)side, 1,
				  1u << 24, &vh->image_size)))
			return rc;
		eps = cJSON_GetObjectItemCaseSensitive(tc, "rms_norm_eps");
		vh->eps = cJSON_IsNumber(eps) ? (float)eps->valuedouble : 1e-6f;
	} else {
		if ((rc = get_u32(c, vc, "vision_config.", "image_size", 560, 1, 1u << 24,
				  &vh->image_size)))
			return rc;
		/* llama.cpp reads a top-level rms_norm_eps that transformers 5.x
		 * configs no longer have: always its default 1e-6 */
		vh->eps = 1e-6f;
	}
	if (f == VS_FAM_QWEN25VL) {
		if ((rc = get_u32(c, vc, "vision_config.", "window_size", defaults[f].window, 1,
				  1u << 24, &vh->window_size)) ||
		    (rc = get_list(c, vc, "fullatt_block_indexes", vh->depth, qwen25_fullatt,
				   4, vh->fullatt, &vh->n_fullatt)) ||
		    (rc = wa_pattern(c, vh)))
			return rc;
	}
	return QK_OK;
}

int vs_hparams_from_config(struct vs_hparams *vh, const char *cfg, size_t cfg_len,
			   const char *cfg_name, const char *pp, size_t pp_len,
			   const char *pp_name, qk_err *err)
{
	struct jctx c = { cfg_name, err };
	cJSON *root = NULL;
	int rc;

	memset(vh, 0, sizeof(*vh));
	if ((rc = qk_json_parse(cfg, cfg_len, cfg_name, 0, &root, err)))
		return rc;
	rc = from_json(vh, root, &c);
	cJSON_Delete(root);
	if (!rc && pp)
		rc = image_norm(vh, pp, pp_len, pp_name, err);
	if (rc)
		memset(vh, 0, sizeof(*vh));
	return rc;
}

int vs_hparams_load(struct vs_hparams *vh, const char *dir, qk_err *err)
{
	char *cpath = qk_path_join(dir, "config.json");
	char *ppath = qk_path_join(dir, "preprocessor_config.json");
	char *cfg = NULL, *pp = NULL;
	size_t clen = 0, plen = 0;
	qk_err ignore;
	int rc;

	memset(vh, 0, sizeof(*vh));
	if (!cpath || !ppath) {
		rc = qk_err_set(err, QK_E_NOMEM, "%s: out of memory", dir);
		goto out;
	}
	if ((rc = qk_read_file(cpath, QK_JSON_MAX_BYTES, &cfg, &clen, err)))
		goto out;
	/* preprocessor_config.json is optional here: the mmproj writer needs it */
	if (qk_read_file(ppath, QK_JSON_MAX_BYTES, &pp, &plen, &ignore))
		pp = NULL;
	rc = vs_hparams_from_config(vh, cfg, clen, cpath, pp, plen, ppath, err);
out:
	free(cpath);
	free(ppath);
	free(cfg);
	free(pp);
	return rc;
}

/* ---- from an mmproj GGUF ---- */

/* row-major shape of a GGUF tensor; 0 dims if absent */
static int tensor_shape(const struct gf_file *f, const char *name, uint64_t *shape)
{
	int64_t i = gf_find_tensor(f, name), ne[GF_MAX_DIMS];
	int n;

	if (i < 0)
		return 0;
	n = gf_tensor_n_dims(f, i);
	gf_tensor_ne(f, i, ne);
	for (int k = 0; k < n; k++)
		shape[k] = (uint64_t)ne[n - 1 - k];
	return n;
}

static int get_floats(const struct gf_file *f, const char *key, float *out, uint32_t *n,
		      qk_err *err)
{
	int64_t i;
	uint64_t k;
	int rc;

	if ((rc = gf_get_arr(f, key, GF_F32, &i, err)))
		return rc;
	k = gf_arr_n(f, i);
	if (k < 1 || k > 4 || (*n && k != *n))
		return qk_err_set_in(err, QK_E_INVALID, gf_name(f),
				     "key '%s' holds %llu values, expected %s", key,
				     (unsigned long long)k, *n ? "as many as image_mean" : "1 to 4");
	for (uint64_t j = 0; j < k; j++)
		out[j] = (float)gf_arr_float(f, i, j);
	*n = (uint32_t)k;
	return QK_OK;
}

int vs_hparams_from_gguf(struct vs_hparams *vh, const struct gf_file *f, qk_err *err)
{
	const char *proj = NULL, *arch = NULL;
	uint64_t s[GF_MAX_DIMS];
	int64_t i;
	int rc;

	memset(vh, 0, sizeof(*vh));
	if ((rc = gf_get_str(f, "general.architecture", &arch, NULL, err)))
		return rc;
	if (strcmp(arch, "clip") != 0)
		return qk_err_set_in(err, QK_E_UNSUPPORTED, gf_name(f),
				     "general.architecture is '%.40s', expected 'clip' (an mmproj "
				     "file)", arch);
	if ((rc = gf_get_str(f, "clip.projector_type", &proj, NULL, err)))
		return rc;
	if ((vh->family = vs_family_from_projector(proj)) < 0)
		return qk_err_set_in(err, QK_E_UNSUPPORTED, gf_name(f),
				     "clip.projector_type '%.40s' is not a Qwen projector "
				     "(qwen2vl_merger, qwen2.5vl_merger, qwen3vl_merger)", proj);
	if ((rc = gf_get_u32(f, "clip.vision.block_count", &vh->depth, err)) ||
	    (rc = gf_get_u32(f, "clip.vision.embedding_length", &vh->n_embd, err)) ||
	    (rc = gf_get_u32(f, "clip.vision.feed_forward_length", &vh->n_ff_key, err)) ||
	    (rc = gf_get_u32(f, "clip.vision.attention.head_count", &vh->n_head, err)) ||
	    (rc = gf_get_u32(f, "clip.vision.patch_size", &vh->patch, err)) ||
	    (rc = gf_get_u32(f, "clip.vision.image_size", &vh->image_size, err)) ||
	    (rc = gf_get_u32(f, "clip.vision.projection_dim", &vh->n_embd_text, err)) ||
	    (rc = gf_get_f32(f, "clip.vision.attention.layer_norm_epsilon", &vh->eps, err)) ||
	    (rc = get_floats(f, "clip.vision.image_mean", vh->image_mean, &vh->n_mean, err)) ||
	    (rc = get_floats(f, "clip.vision.image_std", vh->image_std, &vh->n_mean, err)))
		return rc;
	vh->has_norm = true;
	if (vh->depth < 1 || vh->depth > VS_MAX_BLOCKS || !vh->n_embd || !vh->n_head ||
	    vh->n_embd % vh->n_head || !vh->patch)
		return qk_err_set_in(err, QK_E_INVALID, gf_name(f),
				     "clip.vision: block_count %u, embedding_length %u, head_count "
				     "%u, patch_size %u: expected 1..%d blocks and a width that is "
				     "a multiple of the heads", vh->depth, vh->n_embd, vh->n_head,
				     vh->patch, VS_MAX_BLOCKS);
	vh->merge = 2; /* clip.cpp's default when the key is absent */
	if (gf_find_key(f, "clip.vision.spatial_merge_size") >= 0 &&
	    (rc = gf_get_u32(f, "clip.vision.spatial_merge_size", &vh->merge, err)))
		return rc;
	if (vh->merge < 1 || vh->merge > 64)
		return qk_err_set_in(err, QK_E_INVALID, gf_name(f),
				     "clip.vision.spatial_merge_size is %u, expected 1..64", vh->merge);
	vh->temporal_patch = 2;
	/* widths the keys do not state, from the tensors */
	vh->in_chans = tensor_shape(f, "v.patch_embd.weight", s) == 4 ? (uint32_t)s[1] : 0;
	vh->n_ff = tensor_shape(f, "v.blk.0.ffn_up.weight", s) == 2 ? (uint32_t)s[0] : 0;
	vh->n_out = tensor_shape(f, "mm.2.weight", s) == 2 ? (uint32_t)s[0] : 0;
	if (vh->family == VS_FAM_QWEN3VL)
		vh->n_pos = tensor_shape(f, "v.position_embd.weight", s) == 2 ? (uint32_t)s[0] : 0;
	if (vh->family == VS_FAM_QWEN25VL &&
	    (rc = gf_get_u32(f, "clip.vision.n_wa_pattern", &vh->n_wa_pattern, err)))
		return rc;
	if ((i = gf_find_key(f, "clip.vision.is_deepstack_layers")) >= 0) {
		if ((rc = gf_get_arr(f, "clip.vision.is_deepstack_layers", GF_BOOL, &i, err)))
			return rc;
		if (gf_arr_n(f, i) != vh->depth)
			return qk_err_set_in(err, QK_E_INVALID, gf_name(f),
					     "clip.vision.is_deepstack_layers holds %llu flags, "
					     "expected one per block (%u)",
					     (unsigned long long)gf_arr_n(f, i), vh->depth);
		for (uint32_t b = 0; b < vh->depth; b++)
			if (gf_arr_data(f, i)[b] && vh->n_deepstack < VS_MAX_LIST)
				vh->deepstack[vh->n_deepstack++] = b;
	}
	if (!vh->in_chans || !vh->n_ff || !vh->n_out || (vh->family == VS_FAM_QWEN3VL && !vh->n_pos))
		return qk_err_set_in(err, QK_E_INVALID, gf_name(f),
				     "v.patch_embd.weight, v.blk.0.ffn_up.weight, mm.2.weight%s: "
				     "missing or not of rank 4, 2, 2%s", vh->family == VS_FAM_QWEN3VL ?
				     ", v.position_embd.weight" : "", vh->family == VS_FAM_QWEN3VL ?
				     ", 2" : "");
	return QK_OK;
}
