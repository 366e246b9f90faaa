/* vision_tables.c - the vision tower's tensor-name table: Hugging Face
 * names of every Qwen VL family to llama.cpp's mmproj GGUF names, with the
 * transform and the shapes. See vision.h for the overview and the sources.
 *
 * Row order within a block is the binding order; the order of an mmproj
 * file comes from the plan (llama.cpp's converter writes in HF name order,
 * the outputs of one HF tensor in row order: q, k, v; slice 0, slice 1). */
#include "vision.h"

#include <math.h>
#include <string.h>

#include "../base/io.h"

#define F2 (1u << VS_FAM_QWEN2VL)
#define F25 (1u << VS_FAM_QWEN25VL)
#define F3 (1u << VS_FAM_QWEN3VL)
#define FALL (F2 | F25 | F3)

#define E VS_D_EMBD
#define E3 VS_D_3EMBD
#define FF VS_D_FF
#define MG VS_D_MERGED
#define OUT VS_D_OUT

/* row: role, when, families, sel, hf, gguf, shape, hf shape */
#define G(role, fam, sel, hf, gguf, ...) { role, VS_W_GLOBAL, fam, sel, hf, gguf, __VA_ARGS__ }
#define B(role, fam, sel, hf, gguf, ...) { role, VS_W_BLOCK, fam, sel, hf, gguf, __VA_ARGS__ }
#define D(role, hf, gguf, ...) { role, VS_W_DEEPSTACK, F3, VS_S_WHOLE, hf, gguf, __VA_ARGS__ }

static const struct vs_row rows[] = {
	/* patch embedding: Conv3d [E, C, 2, P, P] -> two Conv2d kernels */
	G(QK_R_V_PATCH, FALL, VS_S_TIME0, "patch_embed.proj.weight", "v.patch_embd.weight",
	  { E, VS_D_CIN, VS_D_PATCH, VS_D_PATCH },
	  { E, VS_D_CIN, VS_D_TPATCH, VS_D_PATCH, VS_D_PATCH }),
	G(QK_R_V_PATCH_1, FALL, VS_S_TIME1, "patch_embed.proj.weight", "v.patch_embd.weight.1",
	  { E, VS_D_CIN, VS_D_PATCH, VS_D_PATCH },
	  { E, VS_D_CIN, VS_D_TPATCH, VS_D_PATCH, VS_D_PATCH }),
	G(QK_R_V_PATCH_B, F3, VS_S_WHOLE, "patch_embed.proj.bias", "v.patch_embd.bias", { E }, { 0 }),
	G(QK_R_V_POS, F3, VS_S_WHOLE, "pos_embed.weight", "v.position_embd.weight",
	  { VS_D_POS, E }, { 0 }),

	/* blocks */
	B(QK_R_V_LN1, FALL, VS_S_WHOLE, "blocks.@.norm1.weight", "v.blk.@.ln1.weight", { E }, { 0 }),
	B(QK_R_V_LN1_B, F2 | F3, VS_S_WHOLE, "blocks.@.norm1.bias", "v.blk.@.ln1.bias", { E }, { 0 }),
	B(QK_R_V_ATTN_Q, F2 | F25, VS_S_THIRD0, "blocks.@.attn.qkv.weight", "v.blk.@.attn_q.weight",
	  { E, E }, { E3, E }),
	B(QK_R_V_ATTN_K, F2 | F25, VS_S_THIRD1, "blocks.@.attn.qkv.weight", "v.blk.@.attn_k.weight",
	  { E, E }, { E3, E }),
	B(QK_R_V_ATTN_V, F2 | F25, VS_S_THIRD2, "blocks.@.attn.qkv.weight", "v.blk.@.attn_v.weight",
	  { E, E }, { E3, E }),
	B(QK_R_V_ATTN_Q_B, F2 | F25, VS_S_THIRD0, "blocks.@.attn.qkv.bias", "v.blk.@.attn_q.bias",
	  { E }, { E3 }),
	B(QK_R_V_ATTN_K_B, F2 | F25, VS_S_THIRD1, "blocks.@.attn.qkv.bias", "v.blk.@.attn_k.bias",
	  { E }, { E3 }),
	B(QK_R_V_ATTN_V_B, F2 | F25, VS_S_THIRD2, "blocks.@.attn.qkv.bias", "v.blk.@.attn_v.bias",
	  { E }, { E3 }),
	B(QK_R_V_ATTN_QKV, F3, VS_S_WHOLE, "blocks.@.attn.qkv.weight", "v.blk.@.attn_qkv.weight",
	  { E3, E }, { 0 }),
	B(QK_R_V_ATTN_QKV_B, F3, VS_S_WHOLE, "blocks.@.attn.qkv.bias", "v.blk.@.attn_qkv.bias",
	  { E3 }, { 0 }),
	B(QK_R_V_ATTN_OUT, FALL, VS_S_WHOLE, "blocks.@.attn.proj.weight", "v.blk.@.attn_out.weight",
	  { E, E }, { 0 }),
	B(QK_R_V_ATTN_OUT_B, FALL, VS_S_WHOLE, "blocks.@.attn.proj.bias", "v.blk.@.attn_out.bias",
	  { E }, { 0 }),
	B(QK_R_V_LN2, FALL, VS_S_WHOLE, "blocks.@.norm2.weight", "v.blk.@.ln2.weight", { E }, { 0 }),
	B(QK_R_V_LN2_B, F2 | F3, VS_S_WHOLE, "blocks.@.norm2.bias", "v.blk.@.ln2.bias", { E }, { 0 }),
	/* MLP: Qwen2-VL fc1/fc2 (QuickGELU), Qwen2.5-VL gate/up/down (SiLU),
	 * Qwen3-VL linear_fc1/linear_fc2 (GELU tanh) */
	B(QK_R_V_FFN_UP, F2, VS_S_WHOLE, "blocks.@.mlp.fc1.weight", "v.blk.@.ffn_up.weight",
	  { FF, E }, { 0 }),
	B(QK_R_V_FFN_UP_B, F2, VS_S_WHOLE, "blocks.@.mlp.fc1.bias", "v.blk.@.ffn_up.bias",
	  { FF }, { 0 }),
	B(QK_R_V_FFN_DOWN, F2, VS_S_WHOLE, "blocks.@.mlp.fc2.weight", "v.blk.@.ffn_down.weight",
	  { E, FF }, { 0 }),
	B(QK_R_V_FFN_DOWN_B, F2, VS_S_WHOLE, "blocks.@.mlp.fc2.bias", "v.blk.@.ffn_down.bias",
	  { E }, { 0 }),
	B(QK_R_V_FFN_GATE, F25, VS_S_WHOLE, "blocks.@.mlp.gate_proj.weight",
	  "v.blk.@.ffn_gate.weight", { FF, E }, { 0 }),
	B(QK_R_V_FFN_GATE_B, F25, VS_S_WHOLE, "blocks.@.mlp.gate_proj.bias",
	  "v.blk.@.ffn_gate.bias", { FF }, { 0 }),
	B(QK_R_V_FFN_UP, F25, VS_S_WHOLE, "blocks.@.mlp.up_proj.weight", "v.blk.@.ffn_up.weight",
	  { FF, E }, { 0 }),
	B(QK_R_V_FFN_UP_B, F25, VS_S_WHOLE, "blocks.@.mlp.up_proj.bias", "v.blk.@.ffn_up.bias",
	  { FF }, { 0 }),
	B(QK_R_V_FFN_DOWN, F25, VS_S_WHOLE, "blocks.@.mlp.down_proj.weight",
	  "v.blk.@.ffn_down.weight", { E, FF }, { 0 }),
	B(QK_R_V_FFN_DOWN_B, F25, VS_S_WHOLE, "blocks.@.mlp.down_proj.bias",
	  "v.blk.@.ffn_down.bias", { E }, { 0 }),
	B(QK_R_V_FFN_UP, F3, VS_S_WHOLE, "blocks.@.mlp.linear_fc1.weight", "v.blk.@.ffn_up.weight",
	  { FF, E }, { 0 }),
	B(QK_R_V_FFN_UP_B, F3, VS_S_WHOLE, "blocks.@.mlp.linear_fc1.bias", "v.blk.@.ffn_up.bias",
	  { FF }, { 0 }),
	B(QK_R_V_FFN_DOWN, F3, VS_S_WHOLE, "blocks.@.mlp.linear_fc2.weight",
	  "v.blk.@.ffn_down.weight", { E, FF }, { 0 }),
	B(QK_R_V_FFN_DOWN_B, F3, VS_S_WHOLE, "blocks.@.mlp.linear_fc2.bias",
	  "v.blk.@.ffn_down.bias", { E }, { 0 }),

	/* projector: the post norm and the 2-layer merger to the text width */
	G(QK_R_V_POST_LN, F2 | F25, VS_S_WHOLE, "merger.ln_q.weight", "v.post_ln.weight",
	  { E }, { 0 }),
	G(QK_R_V_POST_LN_B, F2, VS_S_WHOLE, "merger.ln_q.bias", "v.post_ln.bias", { E }, { 0 }),
	G(QK_R_V_MM0, F2 | F25, VS_S_WHOLE, "merger.mlp.0.weight", "mm.0.weight", { MG, MG }, { 0 }),
	G(QK_R_V_MM0_B, F2 | F25, VS_S_WHOLE, "merger.mlp.0.bias", "mm.0.bias", { MG }, { 0 }),
	G(QK_R_V_MM2, F2 | F25, VS_S_WHOLE, "merger.mlp.2.weight", "mm.2.weight", { OUT, MG }, { 0 }),
	G(QK_R_V_MM2_B, F2 | F25, VS_S_WHOLE, "merger.mlp.2.bias", "mm.2.bias", { OUT }, { 0 }),
	G(QK_R_V_POST_LN, F3, VS_S_WHOLE, "merger.norm.weight", "v.post_ln.weight", { E }, { 0 }),
	G(QK_R_V_POST_LN_B, F3, VS_S_WHOLE, "merger.norm.bias", "v.post_ln.bias", { E }, { 0 }),
	G(QK_R_V_MM0, F3, VS_S_WHOLE, "merger.linear_fc1.weight", "mm.0.weight", { MG, MG }, { 0 }),
	G(QK_R_V_MM0_B, F3, VS_S_WHOLE, "merger.linear_fc1.bias", "mm.0.bias", { MG }, { 0 }),
	G(QK_R_V_MM2, F3, VS_S_WHOLE, "merger.linear_fc2.weight", "mm.2.weight", { OUT, MG }, { 0 }),
	G(QK_R_V_MM2_B, F3, VS_S_WHOLE, "merger.linear_fc2.bias", "mm.2.bias", { OUT }, { 0 }),

	/* Qwen3-VL deepstack mergers (norm over the merged width) */
	D(QK_R_V_DS_NORM, "deepstack_merger_list.@.norm.weight", "v.deepstack.@.norm.weight",
	  { MG }, { 0 }),
	D(QK_R_V_DS_NORM_B, "deepstack_merger_list.@.norm.bias", "v.deepstack.@.norm.bias",
	  { MG }, { 0 }),
	D(QK_R_V_DS_FC1, "deepstack_merger_list.@.linear_fc1.weight", "v.deepstack.@.fc1.weight",
	  { MG, MG }, { 0 }),
	D(QK_R_V_DS_FC1_B, "deepstack_merger_list.@.linear_fc1.bias", "v.deepstack.@.fc1.bias",
	  { MG }, { 0 }),
	D(QK_R_V_DS_FC2, "deepstack_merger_list.@.linear_fc2.weight", "v.deepstack.@.fc2.weight",
	  { OUT, MG }, { 0 }),
	D(QK_R_V_DS_FC2_B, "deepstack_merger_list.@.linear_fc2.bias", "v.deepstack.@.fc2.bias",
	  { OUT }, { 0 }),
};

const struct vs_row *vs_rows(size_t *n)
{
	*n = sizeof(rows) / sizeof(rows[0]);
	return rows;
}

static const char *const projectors[VS_FAM_COUNT] = {
	[VS_FAM_QWEN2VL] = "qwen2vl_merger",
	[VS_FAM_QWEN25VL] = "qwen2.5vl_merger",
	[VS_FAM_QWEN3VL] = "qwen3vl_merger",
};

const char *vs_projector_name(int family)
{
	return family >= 0 && family < VS_FAM_COUNT ? projectors[family] : NULL;
}

int vs_family_from_projector(const char *s)
{
	for (int f = 0; s && f < VS_FAM_COUNT; f++)
		if (strcmp(projectors[f], s) == 0)
			return f;
	return -1;
}

static const struct {
	const char *model_type;
	int family;
} model_types[] = {
	{ "qwen2_vl", VS_FAM_QWEN2VL },   { "qwen2_5_vl", VS_FAM_QWEN25VL },
	{ "qwen3_vl", VS_FAM_QWEN3VL },   { "qwen3_vl_moe", VS_FAM_QWEN3VL },
	{ "qwen3_5", VS_FAM_QWEN3VL },    { "qwen3_5_moe", VS_FAM_QWEN3VL },
};

int vs_family_from_model_type(const char *s)
{
	for (size_t i = 0; s && i < sizeof(model_types) / sizeof(model_types[0]); i++)
		if (strcmp(model_types[i].model_type, s) == 0)
			return model_types[i].family;
	return -1;
}

static bool dim(int d, const struct vs_hparams *vh, uint64_t *out)
{
	switch (d) {
	case VS_D_EMBD: *out = vh->n_embd; return true;
	case VS_D_3EMBD: *out = 3ull * vh->n_embd; return true;
	case VS_D_FF: *out = vh->n_ff; return true;
	case VS_D_MERGED: *out = (uint64_t)vh->n_embd * vh->merge * vh->merge; return true;
	case VS_D_OUT: *out = vh->n_out; return true;
	case VS_D_CIN: *out = vh->in_chans; return true;
	case VS_D_PATCH: *out = vh->patch; return true;
	case VS_D_TPATCH: *out = vh->temporal_patch; return true;
	case VS_D_POS: *out = vh->n_pos; return true;
	default: return false;
	}
}

int vs_shape_eval(const uint8_t *d, int max, const struct vs_hparams *vh, uint64_t *out)
{
	int n = 0;

	while (n < max && d[n]) {
		if (!dim(d[n], vh, &out[n]))
			return 0;
		n++;
	}
	return n;
}
