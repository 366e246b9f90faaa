/* hparams_vl.c - what config.json says about the Qwen-VL text towers beyond
 * their Qwen2 / Qwen3 / Qwen3-MoE base (see hparams.h): M-RoPE sections and
 * their interleaving, and the deepstack count of Qwen3-VL.
 *
 * Facts (transformers 5.23): Qwen2VLTextRotaryEmbedding and
 * Qwen2_5_VLTextRotaryEmbedding split the rotary pairs into consecutive
 * chunks of mrope_section (default [16, 24, 24]); Qwen3VL(Moe)TextRotary-
 * Embedding interleaves them t h w t h w ... (default [24, 20, 20])
 * whatever mrope_interleaved says. llama.cpp's converter writes
 * {arch}.rope.dimension_sections only when the config states the sections,
 * and {arch}.n_deepstack_layers = len(vision_config.deepstack_visual_indexes)
 * for qwen3vl and qwen3vlmoe (conversion/qwen3vl.py).
 */
#include "hparams_hf_priv.h"

#include <string.h>

static const uint32_t chunked_def[3] = { 16, 24, 24 };
static const uint32_t interleaved_def[3] = { 24, 20, 20 };

void hf_vl_mrope_defaults(const struct arch_rule *r, struct qk_hparams *hp)
{
	const uint32_t *def = r->vl == QK_VL_INTERLEAVED ? interleaved_def : chunked_def;

	hp->mrope_interleaved = r->vl == QK_VL_INTERLEAVED;
	if (hp->has_rope_sections)
		return;
	memcpy(hp->rope_sections, def, sizeof(chunked_def));
	hp->rope_sections[3] = 0;
}

int hf_parse_deepstack(const struct cfg *c, struct qk_hparams *hp)
{
	struct item vc, it;
	int rc, n;

	hp->n_deepstack = 0;
	if ((rc = hf_look(c, c->root, "", "vision_config", &vc)))
		return rc;
	if (!vc.v)
		return QK_OK;
	if (!cJSON_IsObject(vc.v))
		return hf_bad(c, &vc, "an object");
	if ((rc = hf_look(c, vc.v, "vision_config.", "deepstack_visual_indexes", &it)))
		return rc;
	if (!it.v)
		return QK_OK;
	n = cJSON_GetArraySize(it.v);
	if (!cJSON_IsArray(it.v) || n < 0 || (uint32_t)n > QK_MAX_LAYERS)
		return hf_bad(c, &it, "a list of at most 512 vision block indices");
	hp->n_deepstack = (uint32_t)n;
	return QK_OK;
}
