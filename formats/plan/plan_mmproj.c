/* plan_mmproj.c - the write plan and key/values of an mmproj GGUF (the
 * vision tower of a VL checkpoint, formats/model/vision.h), as
 * llama.cpp's convert_hf_to_gguf.py --mmproj writes them; see plan.h.
 *
 * Keys (MmprojModel.set_gguf_parameters, then Qwen2VLVisionModel's or
 * Qwen3VLVisionModel's): general.* as for the text model (architecture
 * "clip", type "mmproj", the size label counted over the mmproj's own
 * tensors), general.file_type, clip.has_vision_encoder,
 * clip.vision.{projection_dim, image_size, patch_size, embedding_length,
 * feed_forward_length, block_count, attention.head_count, image_mean,
 * image_std}, clip.projector_type, then per family: Qwen2.5-VL
 * clip.use_silu and clip.vision.n_wa_pattern; Qwen3-VL clip.use_gelu and
 * clip.vision.spatial_merge_size; all clip.vision.attention.
 * layer_norm_epsilon; Qwen3-VL clip.vision.is_deepstack_layers (one flag
 * per block); general.quantization_version. */
#include <string.h>

#include "plan_priv.h"

int wp_build_mmproj(struct wp_plan *p, const struct vs_model *vm, const struct wp_opts *o,
		    qk_err *err)
{
	int rc = wp_build(p, &vm->m, o, err);

	if (!rc)
		p->vision = &vm->vh;
	return rc;
}

int wp_meta_build_mmproj(struct wp_meta *md, const struct wp_plan *p,
			 const struct wp_meta_opts *o, qk_err *err)
{
	static const struct wp_meta_opts none = { NULL, NULL };
	const struct vs_hparams *vh = p->vision;
	bool ds[VS_MAX_BLOCKS];
	int rc;

	memset(md, 0, sizeof(*md));
	if (!vh)
		return qk_err_set(err, QK_E_USAGE, "not an mmproj plan");
	if (!vh->has_norm)
		return qk_err_set(err, QK_E_INVALID,
				  "%s: no preprocessor_config.json with image_mean and image_std: "
				  "the mmproj stores them (clip.vision.image_mean, image_std)",
				  p->m->cat && p->m->cat->dir ? p->m->cat->dir : "the model");
	memset(ds, 0, sizeof(ds));
	for (uint32_t k = 0; k < vh->n_deepstack; k++)
		ds[vh->deepstack[k]] = true;
	if (!o)
		o = &none;
	if ((rc = wp_add_general(md, p, o, "clip", "mmproj", err)) ||
	    (rc = wp_kv_u32(md, "general.file_type", p->ftype, err)) ||
	    (rc = wp_kv_bool(md, "clip.has_vision_encoder", true, err)) ||
	    (rc = wp_kv_u32(md, "clip.vision.projection_dim", vh->n_embd_text, err)) ||
	    (rc = wp_kv_u32(md, "clip.vision.image_size", vh->image_size, err)) ||
	    (rc = wp_kv_u32(md, "clip.vision.patch_size", vh->patch, err)) ||
	    (rc = wp_kv_u32(md, "clip.vision.embedding_length", vh->n_embd, err)) ||
	    (rc = wp_kv_u32(md, "clip.vision.feed_forward_length", vh->n_ff_key, err)) ||
	    (rc = wp_kv_u32(md, "clip.vision.block_count", vh->depth, err)) ||
	    (rc = wp_kv_u32(md, "clip.vision.attention.head_count", vh->n_head, err)) ||
	    (rc = wp_kv_arr_f32(md, "clip.vision.image_mean", vh->image_mean, vh->n_mean, err)) ||
	    (rc = wp_kv_arr_f32(md, "clip.vision.image_std", vh->image_std, vh->n_mean, err)) ||
	    (rc = wp_kv_str(md, "clip.projector_type", vs_projector_name(vh->family), err)))
		goto out;
	if (vh->family == VS_FAM_QWEN25VL &&
	    ((rc = wp_kv_bool(md, "clip.use_silu", true, err)) ||
	     (rc = wp_kv_u32(md, "clip.vision.n_wa_pattern", vh->n_wa_pattern, err))))
		goto out;
	if (vh->family == VS_FAM_QWEN3VL &&
	    ((rc = wp_kv_bool(md, "clip.use_gelu", true, err)) ||
	     (rc = wp_kv_u32(md, "clip.vision.spatial_merge_size", vh->merge, err))))
		goto out;
	if ((rc = wp_kv_f32(md, "clip.vision.attention.layer_norm_epsilon", vh->eps, err)))
		goto out;
	if (vh->family == VS_FAM_QWEN3VL &&
	    (rc = wp_kv_arr_bool(md, "clip.vision.is_deepstack_layers", ds, vh->depth, err)))
		goto out;
	rc = wp_kv_u32(md, "general.quantization_version", WP_QUANT_VERSION, err);
out:
	if (rc)
		wp_meta_free(md);
	return rc;
}
