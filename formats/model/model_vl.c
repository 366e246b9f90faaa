/* model_vl.c - which layout a Qwen3-VL-MoE checkpoint stores its fused
 * experts in; see model_priv.h.
 *
 * transformers 5.x keeps (and save_pretrained writes) gate_up_proj as
 * [E, 2*Im, H] and down_proj as [E, H, Im]; the released Qwen3-VL-MoE
 * checkpoints, which llama.cpp's converter expects, hold them with the last
 * two dims swapped ([E, H, 2*Im], [E, Im, H]; transformers' loader
 * transposes them). The two differ in shape unless H == 2*Im (gate_up) or
 * H == Im (down), never both, so the layer's other fused tensor decides
 * when one is ambiguous.
 */
#include <string.h>

#include "model_priv.h"

/* 1: the tensor has the transposed shape only; 0: the 5.x shape only;
 * -1: both (or neither) */
static int layout_of(const struct qk_tensor *t, const struct qk_shape_rule *rule,
		     const struct qk_hparams *hp)
{
	uint64_t s[QK_SHAPE_MAX];
	bool plain, swapped;

	if (!t || t->n_dims != 3 || !qk_shape_eval(rule, hp, s))
		return -1;
	plain = t->shape[0] == s[0] && t->shape[1] == s[1] && t->shape[2] == s[2];
	swapped = t->shape[0] == s[0] && t->shape[1] == s[2] && t->shape[2] == s[1];
	return plain == swapped ? -1 : swapped;
}

bool qk_fused_transposed(const struct qk_arch_table *tb, const struct qk_catalog *cat,
			 const struct qk_hparams *hp, bool nested, int layer,
			 const struct qk_tensor *t)
{
	int v;

	(void)t;
	for (size_t i = 0; i < tb->n_rows; i++) {
		const struct qk_role_row *r = &tb->rows[i];
		char tmp[QK_NAME_BUF], name[QK_NAME_BUF], namew[QK_NAME_BUF + 8];
		const struct qk_tensor *f;

		if (!(r->flags & QK_F_FUSED_T) || !r->hf_fused ||
		    !qk_name_expand(r->hf_fused, tb->hf_block, layer, -1, tmp, sizeof(tmp)) ||
		    !qk_name_nest(tmp, nested ? tb->hf_nest : NULL, name, sizeof(name)))
			continue;
		strcpy(namew, name);
		strcat(namew, ".weight");
		f = qk_catalog_find(cat, name);
		if (!f)
			f = qk_catalog_find(cat, namew);
		if ((v = layout_of(f, &r->fused_shape, hp)) >= 0)
			return v == 1;
	}
	return false;
}
