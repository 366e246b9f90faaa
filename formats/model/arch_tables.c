/* arch_tables.c - one table of tensor roles per Qwen architecture; see arch.h.
 *
 * Names and transforms: llama.cpp's convert_hf_to_gguf.py (modify_tensors of
 * each Qwen class) and gguf-py's tensor_mapping.py. HF shapes: the
 * transformers modeling files of each generation (Qwen1: the remote
 * modeling_qwen.py). formats/README.md lists the versions. GGUF shapes are ggml's ne reversed (row-major), so a
 * stacked expert tensor ne {H, Im, E} is [E, Im, H] here.
 *
 * Within a layer, a row that shares its source tensor with a later row (the
 * in_proj_qkvz split, Qwen1's q/k/v thirds of c_attn) comes first: the first
 * row to bind a tensor is the role it is listed under.
 */
#include "arch.h"

#define SH1(a) { 1, { QK_D_##a } }
#define SH2(a, b) { 2, { QK_D_##a, QK_D_##b } }
#define SH3(a, b, c) { 3, { QK_D_##a, QK_D_##b, QK_D_##c } }
#define ROW(r, w, ...) { .role = QK_R_##r, .when = QK_W_##w, __VA_ARGS__ }

/* ---- rows shared by the model.* (Qwen2 and later) architectures ---- */

#define GLOBALS(norm_xform)                                                        \
	ROW(TOKEN_EMBD, GLOBAL, .shape = SH2(VOCAB, EMBD),                         \
	    .hf = "model.embed_tokens.weight", .gguf = "token_embd.weight"),       \
	ROW(OUTPUT_NORM, GLOBAL, .xform = norm_xform, .shape = SH1(EMBD),          \
	    .hf = "model.norm.weight", .gguf = "output_norm.weight"),              \
	ROW(OUTPUT, GLOBAL, .presence = QK_P_UNTIED, .shape = SH2(VOCAB, EMBD),    \
	    .hf = "lm_head.weight", .gguf = "output.weight")

/* q/k/v/o with optional biases; q is Q rows (QG for Qwen3-Next) */
#define ATTN(qdim)                                                                  \
	ROW(ATTN_Q, FULL, .shape = SH2(qdim, EMBD),                                 \
	    .hf = "@.self_attn.q_proj.weight", .gguf = "@.attn_q.weight"),          \
	ROW(ATTN_Q_B, FULL, .presence = QK_P_BIAS, .shape = SH1(qdim),              \
	    .hf = "@.self_attn.q_proj.bias", .gguf = "@.attn_q.bias"),              \
	ROW(ATTN_K, FULL, .shape = SH2(KV, EMBD),                                   \
	    .hf = "@.self_attn.k_proj.weight", .gguf = "@.attn_k.weight"),          \
	ROW(ATTN_K_B, FULL, .presence = QK_P_BIAS, .shape = SH1(KV),                \
	    .hf = "@.self_attn.k_proj.bias", .gguf = "@.attn_k.bias"),              \
	ROW(ATTN_V, FULL, .shape = SH2(KV, EMBD),                                   \
	    .hf = "@.self_attn.v_proj.weight", .gguf = "@.attn_v.weight"),          \
	ROW(ATTN_V_B, FULL, .presence = QK_P_BIAS, .shape = SH1(KV),                \
	    .hf = "@.self_attn.v_proj.bias", .gguf = "@.attn_v.bias"),              \
	ROW(ATTN_OUT, FULL, .shape = SH2(EMBD, Q),                                  \
	    .hf = "@.self_attn.o_proj.weight", .gguf = "@.attn_output.weight")

/* Qwen3 family: attention_bias also puts a bias on o_proj */
#define ATTN_OUT_BIAS                                                               \
	ROW(ATTN_OUT_B, FULL, .presence = QK_P_BIAS, .shape = SH1(EMBD),            \
	    .hf = "@.self_attn.o_proj.bias", .gguf = "@.attn_output.bias")

#define QK_NORMS(xf)                                                                \
	ROW(ATTN_Q_NORM, FULL, .xform = xf, .shape = SH1(HEAD),                     \
	    .hf = "@.self_attn.q_norm.weight", .gguf = "@.attn_q_norm.weight"),     \
	ROW(ATTN_K_NORM, FULL, .xform = xf, .shape = SH1(HEAD),                     \
	    .hf = "@.self_attn.k_norm.weight", .gguf = "@.attn_k_norm.weight")

#define ATTN_NORM(xf)                                                               \
	ROW(ATTN_NORM, ALL, .xform = xf, .shape = SH1(EMBD),                        \
	    .hf = "@.input_layernorm.weight", .gguf = "@.attn_norm.weight")

#define FFN_NORM                                                                    \
	ROW(FFN_NORM, ALL, .shape = SH1(EMBD),                                      \
	    .hf = "@.post_attention_layernorm.weight", .gguf = "@.ffn_norm.weight")

#define DENSE_FFN                                                                   \
	ROW(FFN_GATE, DENSE, .shape = SH2(FF, EMBD),                                \
	    .hf = "@.mlp.gate_proj.weight", .gguf = "@.ffn_gate.weight"),           \
	ROW(FFN_UP, DENSE, .shape = SH2(FF, EMBD),                                  \
	    .hf = "@.mlp.up_proj.weight", .gguf = "@.ffn_up.weight"),               \
	ROW(FFN_DOWN, DENSE, .shape = SH2(EMBD, FF),                                \
	    .hf = "@.mlp.down_proj.weight", .gguf = "@.ffn_down.weight")

/* Routed experts: per-expert hub layout, or transformers 5.x fused
 * gate_up_proj [E, 2*Im, H] (first half gate) and down_proj [E, H, Im]. */
#define MOE_FFN MOE_FFN_F(0)
/* fl: QK_F_FUSED_T where the fused tensors may also come transposed */
#define MOE_FFN_F(fl)                                                               \
	ROW(FFN_GATE_INP, MOE, .shape = SH2(EXPERT, EMBD),                          \
	    .hf = "@.mlp.gate.weight", .gguf = "@.ffn_gate_inp.weight"),            \
	ROW(FFN_GATE_EXPS, MOE, .xform = QK_X_STACK, .hf_sel = QK_S_EXPERTS, .flags = fl, \
	    .fused_sel = QK_S_GATEUP_GATE, .shape = SH3(EXPERT, FF_EXP, EMBD),      \
	    .hf = "@.mlp.experts.#.gate_proj.weight", .hf_shape = SH2(FF_EXP, EMBD), \
	    .hf_fused = "@.mlp.experts.gate_up_proj",                               \
	    .fused_shape = SH3(EXPERT, 2FF_EXP, EMBD),                              \
	    .gguf = "@.ffn_gate_exps.weight"),                                      \
	ROW(FFN_UP_EXPS, MOE, .xform = QK_X_STACK, .hf_sel = QK_S_EXPERTS, .flags = fl, \
	    .fused_sel = QK_S_GATEUP_UP, .shape = SH3(EXPERT, FF_EXP, EMBD),        \
	    .hf = "@.mlp.experts.#.up_proj.weight", .hf_shape = SH2(FF_EXP, EMBD),  \
	    .hf_fused = "@.mlp.experts.gate_up_proj",                               \
	    .fused_shape = SH3(EXPERT, 2FF_EXP, EMBD),                              \
	    .gguf = "@.ffn_up_exps.weight"),                                        \
	ROW(FFN_DOWN_EXPS, MOE, .xform = QK_X_STACK, .hf_sel = QK_S_EXPERTS, .flags = fl, \
	    .fused_sel = QK_S_WHOLE, .shape = SH3(EXPERT, EMBD, FF_EXP),            \
	    .hf = "@.mlp.experts.#.down_proj.weight", .hf_shape = SH2(EMBD, FF_EXP), \
	    .hf_fused = "@.mlp.experts.down_proj",                                  \
	    .fused_shape = SH3(EXPERT, EMBD, FF_EXP),                               \
	    .gguf = "@.ffn_down_exps.weight")

#define SHARED_EXPERT                                                               \
	ROW(FFN_GATE_SHEXP, MOE, .shape = SH2(FF_SHEXP, EMBD),                      \
	    .hf = "@.mlp.shared_expert.gate_proj.weight",                           \
	    .gguf = "@.ffn_gate_shexp.weight"),                                     \
	ROW(FFN_UP_SHEXP, MOE, .shape = SH2(FF_SHEXP, EMBD),                        \
	    .hf = "@.mlp.shared_expert.up_proj.weight",                             \
	    .gguf = "@.ffn_up_shexp.weight"),                                       \
	ROW(FFN_DOWN_SHEXP, MOE, .shape = SH2(EMBD, FF_SHEXP),                      \
	    .hf = "@.mlp.shared_expert.down_proj.weight",                           \
	    .gguf = "@.ffn_down_shexp.weight"),                                     \
	ROW(FFN_GATE_INP_SHEXP, MOE, .flags = QK_F_ALLOW_1D, .shape = SH2(1, EMBD), \
	    .hf = "@.mlp.shared_expert_gate.weight",                                \
	    .gguf = "@.ffn_gate_inp_shexp.weight")

/* ---- Qwen 1.0 (transformer.* naming, fused c_attn with bias) ---- */

/* One third of c_attn (rows [k*H, (k+1)*H), split order q, k, v) as a role
 * of its own; a GGUF file keeps attn_qkv fused and so does the converter. */
#define QWEN1_THIRD(r, b, sel)                                                      \
	ROW(r, FULL, .flags = QK_F_DERIVED, .hf_sel = sel, .gguf_sel = sel,         \
	    .shape = SH2(Q, EMBD), .hf = "@.attn.c_attn.weight",                    \
	    .hf_shape = SH2(3Q, EMBD), .gguf = "@.attn_qkv.weight",                 \
	    .gguf_shape = SH2(3Q, EMBD)),                                           \
	ROW(b, FULL, .flags = QK_F_DERIVED, .hf_sel = sel, .gguf_sel = sel,         \
	    .shape = SH1(Q), .hf = "@.attn.c_attn.bias", .hf_shape = SH1(3Q),       \
	    .gguf = "@.attn_qkv.bias", .gguf_shape = SH1(3Q))

static const struct qk_role_row qwen_rows[] = {
	ROW(TOKEN_EMBD, GLOBAL, .shape = SH2(VOCAB, EMBD),
	    .hf = "transformer.wte.weight", .gguf = "token_embd.weight"),
	ROW(OUTPUT_NORM, GLOBAL, .shape = SH1(EMBD),
	    .hf = "transformer.ln_f.weight", .gguf = "output_norm.weight"),
	ROW(OUTPUT, GLOBAL, .presence = QK_P_UNTIED, .shape = SH2(VOCAB, EMBD),
	    .hf = "lm_head.weight", .gguf = "output.weight"),
	ROW(ATTN_NORM, ALL, .shape = SH1(EMBD), .hf = "@.ln_1.weight",
	    .gguf = "@.attn_norm.weight"),
	ROW(ATTN_QKV, FULL, .shape = SH2(3Q, EMBD), .hf = "@.attn.c_attn.weight",
	    .gguf = "@.attn_qkv.weight"),
	ROW(ATTN_QKV_B, FULL, .shape = SH1(3Q), .hf = "@.attn.c_attn.bias",
	    .gguf = "@.attn_qkv.bias"),
	QWEN1_THIRD(ATTN_Q, ATTN_Q_B, QK_S_THIRD0),
	QWEN1_THIRD(ATTN_K, ATTN_K_B, QK_S_THIRD1),
	QWEN1_THIRD(ATTN_V, ATTN_V_B, QK_S_THIRD2),
	ROW(ATTN_OUT, FULL, .shape = SH2(EMBD, Q), .hf = "@.attn.c_proj.weight",
	    .gguf = "@.attn_output.weight"),
	ROW(FFN_NORM, ALL, .shape = SH1(EMBD), .hf = "@.ln_2.weight",
	    .gguf = "@.ffn_norm.weight"),
	/* w2 is the SiLU (gate) branch, w1 the linear (up) branch */
	ROW(FFN_GATE, DENSE, .shape = SH2(FF_HALF, EMBD), .hf = "@.mlp.w2.weight",
	    .gguf = "@.ffn_gate.weight"),
	ROW(FFN_UP, DENSE, .shape = SH2(FF_HALF, EMBD), .hf = "@.mlp.w1.weight",
	    .gguf = "@.ffn_up.weight"),
	ROW(FFN_DOWN, DENSE, .shape = SH2(EMBD, FF_HALF), .hf = "@.mlp.c_proj.weight",
	    .gguf = "@.ffn_down.weight"),
};

/* ---- Qwen1.5 / 2 / 2.5 ---- */

static const struct qk_role_row qwen2_rows[] = {
	GLOBALS(QK_X_NONE),
	ATTN_NORM(QK_X_NONE),
	ATTN(Q),
	FFN_NORM,
	DENSE_FFN,
};

/* ---- Qwen1.5-MoE, Qwen2-57B-A14B ---- */

static const struct qk_role_row qwen2moe_rows[] = {
	GLOBALS(QK_X_NONE),
	ATTN_NORM(QK_X_NONE),
	ATTN(Q),
	FFN_NORM,
	DENSE_FFN,
	MOE_FFN,
	SHARED_EXPERT,
};

/* ---- Qwen3 ---- */

static const struct qk_role_row qwen3_rows[] = {
	GLOBALS(QK_X_NONE),
	ATTN_NORM(QK_X_NONE),
	ATTN(Q),
	ATTN_OUT_BIAS,
	QK_NORMS(QK_X_NONE),
	FFN_NORM,
	DENSE_FFN,
};

/* ---- Qwen3-MoE (no shared expert) ---- */

static const struct qk_role_row qwen3moe_rows[] = {
	GLOBALS(QK_X_NONE),
	ATTN_NORM(QK_X_NONE),
	ATTN(Q),
	ATTN_OUT_BIAS,
	QK_NORMS(QK_X_NONE),
	FFN_NORM,
	DENSE_FFN,
	MOE_FFN,
};

/* multi-token prediction head (Qwen3-Next, Qwen3.5): fc, the two pre-fc
 * norms and the final norm, all zero-centred */
#define MTP_ROWS                                                                    \
	ROW(MTP_FC, MTP, .shape = SH2(EMBD, 2EMBD), .hf = "mtp.fc.weight",          \
	    .gguf = "nextn.eh_proj.weight"),                                        \
	ROW(MTP_NORM_EMB, MTP, .xform = QK_X_PLUS_ONE, .shape = SH1(EMBD),          \
	    .hf = "mtp.pre_fc_norm_embedding.weight", .gguf = "nextn.enorm.weight"), \
	ROW(MTP_NORM_HID, MTP, .xform = QK_X_PLUS_ONE, .shape = SH1(EMBD),          \
	    .hf = "mtp.pre_fc_norm_hidden.weight", .gguf = "nextn.hnorm.weight"),   \
	ROW(MTP_NORM, MTP, .xform = QK_X_PLUS_ONE, .shape = SH1(EMBD),              \
	    .hf = "mtp.norm.weight", .gguf = "nextn.shared_head_norm.weight")

/* ---- Qwen3-Next: zero-centred norms (+1 in GGUF), gated attention on full
 * layers, Gated DeltaNet on linear layers, MoE + shared expert, MTP ---- */

static const struct qk_role_row qwen3next_rows[] = {
	GLOBALS(QK_X_PLUS_ONE),
	ATTN_NORM(QK_X_PLUS_ONE),
	ATTN(QG),
	ATTN_OUT_BIAS,
	QK_NORMS(QK_X_PLUS_ONE),
	ROW(ATTN_QKV, LINEAR, .xform = QK_X_SPLIT_QKVZ, .hf_sel = QK_S_QKVZ_QKV,
	    .shape = SH2(CONV, EMBD), .hf = "@.linear_attn.in_proj_qkvz.weight",
	    .hf_shape = SH2(QKVZ, EMBD), .gguf = "@.attn_qkv.weight"),
	ROW(ATTN_GATE, LINEAR, .xform = QK_X_SPLIT_QKVZ, .hf_sel = QK_S_QKVZ_Z,
	    .shape = SH2(VALUE, EMBD), .hf = "@.linear_attn.in_proj_qkvz.weight",
	    .hf_shape = SH2(QKVZ, EMBD), .gguf = "@.attn_gate.weight"),
	ROW(SSM_BA, LINEAR, .shape = SH2(2NV, EMBD), .hf = "@.linear_attn.in_proj_ba.weight",
	    .gguf = "@.ssm_ba.weight"),
	ROW(SSM_CONV1D, LINEAR, .xform = QK_X_SQUEEZE, .shape = SH2(CONV, DCONV),
	    .hf = "@.linear_attn.conv1d.weight", .hf_shape = SH3(CONV, 1, DCONV),
	    .gguf = "@.ssm_conv1d.weight"),
	ROW(SSM_DT_B, LINEAR, .shape = SH1(NV), .hf = "@.linear_attn.dt_bias",
	    .gguf = "@.ssm_dt.bias"),
	ROW(SSM_A, LINEAR, .xform = QK_X_NEG_EXP, .shape = SH1(NV), .hf = "@.linear_attn.A_log",
	    .gguf = "@.ssm_a"),
	/* the gated norm is not zero-centred: no +1 */
	ROW(SSM_NORM, LINEAR, .shape = SH1(DV), .hf = "@.linear_attn.norm.weight",
	    .gguf = "@.ssm_norm.weight"),
	ROW(SSM_OUT, LINEAR, .shape = SH2(EMBD, VALUE), .hf = "@.linear_attn.out_proj.weight",
	    .gguf = "@.ssm_out.weight"),
	ROW(ATTN_POST_NORM, ALL, .xform = QK_X_PLUS_ONE, .shape = SH1(EMBD),
	    .hf = "@.post_attention_layernorm.weight", .gguf = "@.post_attention_norm.weight"),
	DENSE_FFN,
	MOE_FFN,
	SHARED_EXPERT,
	/* multi-token prediction head; in GGUF (llama.cpp's nextn layout) the
	 * tensors of block n_layer named "blk.<n_layer>." + the gguf name */
	MTP_ROWS,
};

/* ---- Qwen3.5 / Qwen3.6: Qwen3-Next's hybrid with the linear-attention
 * projections split (in_proj_qkv flat Q|K|V, in_proj_z, in_proj_b,
 * in_proj_a), value heads reordered grouped -> tiled on the way to GGUF
 * (llama.cpp's _LinearAttentionVReorderBase), a dense and a MoE variant ---- */

#define Q35_LINEAR                                                                  \
	ROW(ATTN_QKV, LINEAR, .xform = QK_X_V_REORDER, .hf_sel = QK_S_VT_QKV,       \
	    .shape = SH2(CONV, EMBD), .hf = "@.linear_attn.in_proj_qkv.weight",     \
	    .gguf = "@.attn_qkv.weight"),                                           \
	ROW(ATTN_GATE, LINEAR, .xform = QK_X_V_REORDER, .hf_sel = QK_S_VT_HEADS,    \
	    .shape = SH2(VALUE, EMBD), .hf = "@.linear_attn.in_proj_z.weight",      \
	    .gguf = "@.attn_gate.weight"),                                          \
	ROW(SSM_BETA, LINEAR, .xform = QK_X_V_REORDER, .hf_sel = QK_S_VT_HEADS,     \
	    .shape = SH2(NV, EMBD), .hf = "@.linear_attn.in_proj_b.weight",         \
	    .gguf = "@.ssm_beta.weight"),                                           \
	ROW(SSM_ALPHA, LINEAR, .xform = QK_X_V_REORDER, .hf_sel = QK_S_VT_HEADS,    \
	    .shape = SH2(NV, EMBD), .hf = "@.linear_attn.in_proj_a.weight",         \
	    .gguf = "@.ssm_alpha.weight"),                                          \
	ROW(SSM_CONV1D, LINEAR, .xform = QK_X_SQUEEZE, .hf_sel = QK_S_VT_QKV,       \
	    .shape = SH2(CONV, DCONV), .hf = "@.linear_attn.conv1d.weight",         \
	    .hf_shape = SH3(CONV, 1, DCONV), .gguf = "@.ssm_conv1d.weight"),        \
	ROW(SSM_DT_B, LINEAR, .xform = QK_X_V_REORDER, .hf_sel = QK_S_VT_HEADS,     \
	    .shape = SH1(NV), .hf = "@.linear_attn.dt_bias", .gguf = "@.ssm_dt.bias"), \
	ROW(SSM_A, LINEAR, .xform = QK_X_NEG_EXP, .hf_sel = QK_S_VT_HEADS,          \
	    .shape = SH1(NV), .hf = "@.linear_attn.A_log", .gguf = "@.ssm_a"),      \
	ROW(SSM_NORM, LINEAR, .shape = SH1(DV), .hf = "@.linear_attn.norm.weight",  \
	    .gguf = "@.ssm_norm.weight"),                                           \
	ROW(SSM_OUT, LINEAR, .xform = QK_X_V_REORDER, .flags = QK_F_V_COLS,         \
	    .shape = SH2(EMBD, VALUE), .hf = "@.linear_attn.out_proj.weight",       \
	    .gguf = "@.ssm_out.weight")

#define Q35_COMMON                                                                  \
	GLOBALS(QK_X_PLUS_ONE),                                                     \
	ATTN_NORM(QK_X_PLUS_ONE),                                                   \
	ATTN(QG),                                                                   \
	ATTN_OUT_BIAS,                                                              \
	QK_NORMS(QK_X_PLUS_ONE),                                                    \
	Q35_LINEAR,                                                                 \
	ROW(ATTN_POST_NORM, ALL, .xform = QK_X_PLUS_ONE, .shape = SH1(EMBD),        \
	    .hf = "@.post_attention_layernorm.weight",                              \
	    .gguf = "@.post_attention_norm.weight")

static const struct qk_role_row qwen35_rows[] = {
	Q35_COMMON,
	DENSE_FFN,
	MTP_ROWS,
};

static const struct qk_role_row qwen35moe_rows[] = {
	Q35_COMMON,
	MOE_FFN,
	SHARED_EXPERT,
	MTP_ROWS,
};

/* ---- Qwen-VL text towers (llama.cpp's Qwen2VLModel, Qwen3VLTextModel,
 * Qwen3VLMoeTextModel): Qwen2, Qwen3 and Qwen3-MoE tensors; the vision
 * tower goes to the mmproj file. Qwen3-VL-MoE's fused experts come as
 * transformers 5.x saves them or transposed, as the released checkpoints
 * hold them ---- */

static const struct qk_role_row qwen3vlmoe_rows[] = {
	GLOBALS(QK_X_NONE),
	ATTN_NORM(QK_X_NONE),
	ATTN(Q),
	ATTN_OUT_BIAS,
	QK_NORMS(QK_X_NONE),
	FFN_NORM,
	DENSE_FFN,
	MOE_FFN_F(QK_F_FUSED_T),
};

#define TABLE(a, rows, hfb, mtpb)                                                   \
	[a] = { a, hfb, mtpb, "blk.", NULL, NULL, NULL, rows, sizeof(rows) / sizeof(rows[0]) }
#define TABLE_MM(a, rows)                                                           \
	[a] = { a, "model.layers.", "mtp.layers.", "blk.", "model.language_model.",   \
		"model.visual.", NULL, rows, sizeof(rows) / sizeof(rows[0]) }
/* both layouts: model.language_model.* + model.visual.*, or (saved before
 * transformers 4.52) model.* + visual.* */
#define TABLE_VL(a, rows)                                                           \
	[a] = { a, "model.layers.", NULL, "blk.", "model.language_model.",            \
		"model.visual.", "visual.", rows, sizeof(rows) / sizeof(rows[0]) }

static const struct qk_arch_table tables[QK_ARCH_COUNT] = {
	TABLE(QK_ARCH_QWEN, qwen_rows, "transformer.h.", NULL),
	TABLE(QK_ARCH_QWEN2, qwen2_rows, "model.layers.", NULL),
	TABLE(QK_ARCH_QWEN2MOE, qwen2moe_rows, "model.layers.", NULL),
	TABLE(QK_ARCH_QWEN3, qwen3_rows, "model.layers.", NULL),
	TABLE(QK_ARCH_QWEN3MOE, qwen3moe_rows, "model.layers.", NULL),
	TABLE(QK_ARCH_QWEN3NEXT, qwen3next_rows, "model.layers.", "mtp.layers."),
	TABLE_MM(QK_ARCH_QWEN35, qwen35_rows),
	TABLE_MM(QK_ARCH_QWEN35MOE, qwen35moe_rows),
	TABLE_VL(QK_ARCH_QWEN2VL, qwen2_rows),
	TABLE_VL(QK_ARCH_QWEN3VL, qwen3_rows),
	TABLE_VL(QK_ARCH_QWEN3VLMOE, qwen3vlmoe_rows),
};

const struct qk_arch_table *qk_arch_table(int arch)
{
	return arch >= 0 && arch < QK_ARCH_COUNT ? &tables[arch] : NULL;
}
