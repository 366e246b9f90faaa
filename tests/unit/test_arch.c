/* test_arch.c - the architecture tables against llama.cpp's HF -> GGUF name
 * pairs (gguf-py tensor_mapping.py, written out below) and the shapes of the
 * transformers modeling files. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../formats/model/arch.h"

/* ---- table invariants ---- */

static void test_tables_well_formed(void **state)
{
	(void)state;
	for (int a = 0; a < QK_ARCH_COUNT; a++) {
		const struct qk_arch_table *t = qk_arch_table(a);
		int seen[QK_ROLE_COUNT] = { 0 };

		assert_non_null(t);
		assert_int_equal(t->arch, a);
		assert_true(t->n_rows > 5);
		for (size_t i = 0; i < t->n_rows; i++) {
			const struct qk_role_row *r = &t->rows[i];
			bool global = r->when == QK_W_GLOBAL || r->when == QK_W_MTP;

			assert_non_null(qk_role_name(r->role));
			assert_true(r->shape.n >= 1);
			/* one row per role: the model indexes bindings by role */
			assert_int_equal(seen[r->role]++, 0);
			/* layer rows name their layer, global rows do not */
			assert_true(r->hf != NULL);
			assert_true((strchr(r->hf, '@') == NULL) == global);
			if (r->gguf)
				assert_true((strchr(r->gguf, '@') == NULL) == global);
			/* expert rows carry both HF layouts */
			assert_true((r->hf_sel == QK_S_EXPERTS) == (r->hf_fused != NULL));
			assert_true((strchr(r->hf, '#') != NULL) == (r->hf_sel == QK_S_EXPERTS));
			/* a GGUF name fits ggml's 64-byte limit at layer 511 */
			if (r->gguf) {
				char buf[64];
				assert_true(qk_name_expand(r->gguf, "blk.", 511, -1, buf, sizeof(buf)));
			}
		}
		/* every arch has the three globals */
		assert_int_equal(seen[QK_R_TOKEN_EMBD], 1);
		assert_int_equal(seen[QK_R_OUTPUT_NORM], 1);
		assert_int_equal(seen[QK_R_OUTPUT], 1);
	}
	assert_null(qk_arch_table(QK_ARCH_COUNT));
	assert_null(qk_arch_table(-1));
}

/* ---- HF -> GGUF names (llamacpp-gguf-mapping §2.1, §2.2, §1.8) ---- */

struct pair {
	int arch;
	const char *hf, *gguf;
	int role;
	long expert;
};

static const struct pair pairs[] = {
	{ QK_ARCH_QWEN, "transformer.wte.weight", "token_embd.weight", QK_R_TOKEN_EMBD, -1 },
	{ QK_ARCH_QWEN, "transformer.h.3.ln_1.weight", "blk.3.attn_norm.weight", QK_R_ATTN_NORM, -1 },
	{ QK_ARCH_QWEN, "transformer.h.3.attn.c_attn.weight", "blk.3.attn_qkv.weight", QK_R_ATTN_QKV, -1 },
	{ QK_ARCH_QWEN, "transformer.h.3.attn.c_attn.bias", "blk.3.attn_qkv.bias", QK_R_ATTN_QKV_B, -1 },
	{ QK_ARCH_QWEN, "transformer.h.3.attn.c_proj.weight", "blk.3.attn_output.weight", QK_R_ATTN_OUT, -1 },
	{ QK_ARCH_QWEN, "transformer.h.3.ln_2.weight", "blk.3.ffn_norm.weight", QK_R_FFN_NORM, -1 },
	{ QK_ARCH_QWEN, "transformer.h.3.mlp.w1.weight", "blk.3.ffn_up.weight", QK_R_FFN_UP, -1 },
	{ QK_ARCH_QWEN, "transformer.h.3.mlp.w2.weight", "blk.3.ffn_gate.weight", QK_R_FFN_GATE, -1 },
	{ QK_ARCH_QWEN, "transformer.h.3.mlp.c_proj.weight", "blk.3.ffn_down.weight", QK_R_FFN_DOWN, -1 },
	{ QK_ARCH_QWEN, "transformer.ln_f.weight", "output_norm.weight", QK_R_OUTPUT_NORM, -1 },
	{ QK_ARCH_QWEN, "lm_head.weight", "output.weight", QK_R_OUTPUT, -1 },
	{ QK_ARCH_QWEN2, "model.embed_tokens.weight", "token_embd.weight", QK_R_TOKEN_EMBD, -1 },
	{ QK_ARCH_QWEN2, "model.norm.weight", "output_norm.weight", QK_R_OUTPUT_NORM, -1 },
	{ QK_ARCH_QWEN2, "model.layers.10.self_attn.q_proj.bias", "blk.10.attn_q.bias", QK_R_ATTN_Q_B, -1 },
	{ QK_ARCH_QWEN2, "model.layers.0.self_attn.v_proj.weight", "blk.0.attn_v.weight", QK_R_ATTN_V, -1 },
	{ QK_ARCH_QWEN2, "model.layers.0.self_attn.o_proj.weight", "blk.0.attn_output.weight", QK_R_ATTN_OUT, -1 },
	{ QK_ARCH_QWEN2, "model.layers.5.post_attention_layernorm.weight", "blk.5.ffn_norm.weight", QK_R_FFN_NORM, -1 },
	{ QK_ARCH_QWEN2, "model.layers.5.mlp.down_proj.weight", "blk.5.ffn_down.weight", QK_R_FFN_DOWN, -1 },
	{ QK_ARCH_QWEN3, "model.layers.2.self_attn.k_norm.weight", "blk.2.attn_k_norm.weight", QK_R_ATTN_K_NORM, -1 },
	{ QK_ARCH_QWEN2MOE, "model.layers.1.mlp.gate.weight", "blk.1.ffn_gate_inp.weight", QK_R_FFN_GATE_INP, -1 },
	{ QK_ARCH_QWEN2MOE, "model.layers.1.mlp.experts.7.down_proj.weight", "blk.1.ffn_down_exps.weight", QK_R_FFN_DOWN_EXPS, 7 },
	{ QK_ARCH_QWEN2MOE, "model.layers.1.mlp.shared_expert.up_proj.weight", "blk.1.ffn_up_shexp.weight", QK_R_FFN_UP_SHEXP, -1 },
	{ QK_ARCH_QWEN2MOE, "model.layers.1.mlp.shared_expert_gate.weight", "blk.1.ffn_gate_inp_shexp.weight", QK_R_FFN_GATE_INP_SHEXP, -1 },
	{ QK_ARCH_QWEN3MOE, "model.layers.4.mlp.experts.0.gate_proj.weight", "blk.4.ffn_gate_exps.weight", QK_R_FFN_GATE_EXPS, 0 },
	{ QK_ARCH_QWEN3MOE, "model.layers.4.mlp.experts.gate_up_proj", "blk.4.ffn_gate_exps.weight", QK_R_FFN_GATE_EXPS, -1 },
	{ QK_ARCH_QWEN3MOE, "model.layers.4.mlp.experts.down_proj.weight", "blk.4.ffn_down_exps.weight", QK_R_FFN_DOWN_EXPS, -1 },
	{ QK_ARCH_QWEN3NEXT, "model.layers.5.post_attention_layernorm.weight", "blk.5.post_attention_norm.weight", QK_R_ATTN_POST_NORM, -1 },
	{ QK_ARCH_QWEN3NEXT, "model.layers.0.linear_attn.A_log", "blk.0.ssm_a", QK_R_SSM_A, -1 },
	{ QK_ARCH_QWEN3NEXT, "model.layers.0.linear_attn.dt_bias", "blk.0.ssm_dt.bias", QK_R_SSM_DT_B, -1 },
	{ QK_ARCH_QWEN3NEXT, "model.layers.0.linear_attn.conv1d.weight", "blk.0.ssm_conv1d.weight", QK_R_SSM_CONV1D, -1 },
	{ QK_ARCH_QWEN3NEXT, "model.layers.0.linear_attn.in_proj_ba.weight", "blk.0.ssm_ba.weight", QK_R_SSM_BA, -1 },
	{ QK_ARCH_QWEN3NEXT, "model.layers.0.linear_attn.in_proj_qkvz.weight", "blk.0.attn_qkv.weight", QK_R_ATTN_QKV, -1 },
	{ QK_ARCH_QWEN3NEXT, "model.layers.0.linear_attn.norm.weight", "blk.0.ssm_norm.weight", QK_R_SSM_NORM, -1 },
	{ QK_ARCH_QWEN3NEXT, "model.layers.0.linear_attn.out_proj.weight", "blk.0.ssm_out.weight", QK_R_SSM_OUT, -1 },
	{ QK_ARCH_QWEN3NEXT, "model.layers.3.mlp.shared_expert_gate.weight", "blk.3.ffn_gate_inp_shexp.weight", QK_R_FFN_GATE_INP_SHEXP, -1 },
};

static void test_hf_to_gguf_names(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		const struct pair *p = &pairs[i];
		const struct qk_arch_table *t = qk_arch_table(p->arch);
		struct qk_name_match m;
		char buf[128];

		if (!qk_name_match(t, false, p->hf, &m))
			fail_msg("%s: no row matches", p->hf);
		assert_int_equal(m.row->role, p->role);
		assert_int_equal(m.expert, p->expert);
		assert_false(m.mtp);
		assert_true(qk_name_expand(m.row->gguf, t->gguf_block, m.layer, -1, buf, sizeof(buf)));
		assert_string_equal(buf, p->gguf);
		/* and back: the GGUF name matches the same row */
		assert_true(qk_name_match(t, true, p->gguf, &m));
		assert_int_equal(m.row->role, p->role);
	}
}

/* Qwen1 q/k/v are views of c_attn that a GGUF output keeps fused; the MTP
 * head has HF names and, in llama.cpp's nextn layout, names under block
 * n_layer (llama-arch.cpp: "blk.%d.nextn.eh_proj", ...) */
static void test_derived_and_mtp(void **state)
{
	const struct qk_arch_table *q1 = qk_arch_table(QK_ARCH_QWEN);
	const struct qk_arch_table *nx = qk_arch_table(QK_ARCH_QWEN3NEXT);
	struct qk_name_match m;

	(void)state;
	for (size_t i = 0; i < q1->n_rows; i++) {
		int role = q1->rows[i].role;
		bool derived = role == QK_R_ATTN_Q || role == QK_R_ATTN_K || role == QK_R_ATTN_V ||
			       role == QK_R_ATTN_Q_B || role == QK_R_ATTN_K_B || role == QK_R_ATTN_V_B;

		assert_int_equal((q1->rows[i].flags & QK_F_DERIVED) != 0, derived);
	}
	assert_true(qk_name_match(nx, false, "mtp.fc.weight", &m));
	assert_int_equal(m.row->role, QK_R_MTP_FC);
	assert_string_equal(m.row->gguf, "nextn.eh_proj.weight");
	assert_true(qk_name_match(nx, false, "mtp.norm.weight", &m));
	assert_string_equal(m.row->gguf, "nextn.shared_head_norm.weight");
	assert_true(qk_name_match(nx, false, "mtp.pre_fc_norm_embedding.weight", &m));
	assert_string_equal(m.row->gguf, "nextn.enorm.weight");
	assert_true(qk_name_match(nx, false, "mtp.pre_fc_norm_hidden.weight", &m));
	assert_string_equal(m.row->gguf, "nextn.hnorm.weight");
	assert_true(qk_name_match(nx, false, "mtp.layers.0.mlp.experts.3.up_proj.weight", &m));
	assert_true(m.mtp);
	assert_int_equal(m.layer, 0);
	assert_int_equal(m.expert, 3);
	assert_int_equal(m.row->role, QK_R_FFN_UP_EXPS);
	/* no MTP block in other arches */
	assert_false(qk_name_match(qk_arch_table(QK_ARCH_QWEN3MOE), false,
				   "mtp.layers.0.input_layernorm.weight", &m));
}

/* ---- transforms (llamacpp-gguf-mapping §1.5, §1.8) ---- */

static int xform_of(int arch, int role)
{
	const struct qk_arch_table *t = qk_arch_table(arch);

	for (size_t i = 0; i < t->n_rows; i++)
		if (t->rows[i].role == role)
			return t->rows[i].xform;
	return -1;
}

static void test_transforms(void **state)
{
	static const int plus_one[] = { QK_R_OUTPUT_NORM, QK_R_ATTN_NORM, QK_R_ATTN_POST_NORM,
					QK_R_ATTN_Q_NORM, QK_R_ATTN_K_NORM, QK_R_MTP_NORM };

	(void)state;
	for (size_t i = 0; i < sizeof(plus_one) / sizeof(plus_one[0]); i++)
		assert_int_equal(xform_of(QK_ARCH_QWEN3NEXT, plus_one[i]), QK_X_PLUS_ONE);
	/* the gated norm inside linear attention is not zero-centred */
	assert_int_equal(xform_of(QK_ARCH_QWEN3NEXT, QK_R_SSM_NORM), QK_X_NONE);
	assert_int_equal(xform_of(QK_ARCH_QWEN3NEXT, QK_R_SSM_A), QK_X_NEG_EXP);
	assert_int_equal(xform_of(QK_ARCH_QWEN3NEXT, QK_R_SSM_CONV1D), QK_X_SQUEEZE);
	assert_int_equal(xform_of(QK_ARCH_QWEN3NEXT, QK_R_ATTN_QKV), QK_X_SPLIT_QKVZ);
	assert_int_equal(xform_of(QK_ARCH_QWEN3NEXT, QK_R_ATTN_GATE), QK_X_SPLIT_QKVZ);
	assert_int_equal(xform_of(QK_ARCH_QWEN3NEXT, QK_R_SSM_DT_B), QK_X_NONE);
	assert_int_equal(xform_of(QK_ARCH_QWEN2MOE, QK_R_FFN_UP_EXPS), QK_X_STACK);
	/* other arches' norms are plain */
	assert_int_equal(xform_of(QK_ARCH_QWEN3, QK_R_ATTN_Q_NORM), QK_X_NONE);
	assert_int_equal(xform_of(QK_ARCH_QWEN2, QK_R_OUTPUT_NORM), QK_X_NONE);
	/* post_attention_layernorm is ffn_norm except in Qwen3-Next */
	assert_int_equal(xform_of(QK_ARCH_QWEN3NEXT, QK_R_FFN_NORM), -1);
	assert_int_equal(xform_of(QK_ARCH_QWEN3MOE, QK_R_ATTN_POST_NORM), -1);
	/* Qwen3-MoE has no shared expert */
	assert_int_equal(xform_of(QK_ARCH_QWEN3MOE, QK_R_FFN_GATE_SHEXP), -1);
	assert_string_equal(qk_xform_name(QK_X_NEG_EXP), "-exp");
}

/* ---- shapes ---- */

static void test_shape_rules(void **state)
{
	struct qk_hparams hp;
	const struct qk_shape_rule down = { 2, { QK_D_EMBD, QK_D_FF } };
	const struct qk_shape_rule qkvz = { 2, { QK_D_QKVZ, QK_D_EMBD } };
	const struct qk_shape_rule conv = { 3, { QK_D_CONV, QK_D_1, QK_D_DCONV } };
	const struct qk_shape_rule qg = { 1, { QK_D_QG } };
	uint64_t s[QK_SHAPE_MAX];
	char buf[256];

	(void)state;
	memset(&hp, 0, sizeof(hp));
	hp.n_embd = 32;
	hp.n_ff = 64;
	hp.n_head = 16;
	hp.head_dim = 256;
	/* Qwen3-Next-80B linear attention: nk 16, dk 128, nv 32, dv 128, K 4
	 * (qwen-forward-math §6.1: in_proj_qkvz [12288, 2048], conv [8192, 1, 4]) */
	hp.ssm_n_k_heads = 16;
	hp.ssm_head_k_dim = 128;
	hp.ssm_n_v_heads = 32;
	hp.ssm_head_v_dim = 128;
	hp.ssm_d_conv = 4;
	assert_true(qk_shape_eval(&down, &hp, s));
	assert_true(s[0] == 32 && s[1] == 64);
	qk_shape_explain(&down, &hp, buf, sizeof(buf));
	assert_string_equal(buf, "hidden_size 32, intermediate_size 64");
	assert_true(qk_shape_eval(&qkvz, &hp, s));
	assert_true(s[0] == 12288);
	assert_true(qk_shape_eval(&conv, &hp, s));
	assert_true(s[0] == 8192 && s[1] == 1 && s[2] == 4);
	qk_shape_explain(&conv, &hp, buf, sizeof(buf));
	assert_string_equal(buf, "linear_num_key_heads 16, linear_key_head_dim 128, "
				 "linear_num_value_heads 32, linear_value_head_dim 128, "
				 "linear_conv_kernel_dim 4");
	/* q_proj of a gated-attention layer: 16 heads x 256 x 2 = 8192 (§5.2) */
	assert_true(qk_shape_eval(&qg, &hp, s));
	assert_true(s[0] == 8192);
	/* 3 * 2^32-1 * 2^32-1 does not fit in 64 bits */
	hp.n_head = UINT32_MAX;
	hp.head_dim = UINT32_MAX;
	assert_false(qk_shape_eval(&qg, &hp, s));
}

/* ---- names ---- */

static void test_name_expand_and_match(void **state)
{
	const struct qk_arch_table *t = qk_arch_table(QK_ARCH_QWEN2);
	struct qk_name_match m;
	char buf[32];

	(void)state;
	assert_true(qk_name_expand("@.x.#.w", "model.layers.", 12, 7, buf, sizeof(buf)));
	assert_string_equal(buf, "model.layers.12.x.7.w");
	assert_false(qk_name_expand("@.x", "model.layers.", -1, -1, buf, sizeof(buf)));
	assert_false(qk_name_expand("#.x", NULL, -1, -1, buf, sizeof(buf)));
	assert_false(qk_name_expand("@.a_very_long_suffix_here", "model.layers.", 1, -1, buf,
				    sizeof(buf)));
	assert_true(qk_name_match(t, false, "model.layers.0.mlp.up_proj.weight", &m));
	assert_int_equal(m.layer, 0);
	/* leading zeros, signs, trailing text and other arches' names do not match */
	assert_false(qk_name_match(t, false, "model.layers.01.mlp.up_proj.weight", &m));
	assert_false(qk_name_match(t, false, "model.layers.-1.mlp.up_proj.weight", &m));
	assert_false(qk_name_match(t, false, "model.layers.0.mlp.up_proj.weightx", &m));
	assert_false(qk_name_match(t, false, "model.layers.0.mlp.up_proj", &m));
	assert_false(qk_name_match(t, false, "transformer.h.0.mlp.w1.weight", &m));
	assert_false(qk_name_match(t, false, "model.layers.1234567890.mlp.up_proj.weight", &m));
	/* GGUF names only match GGUF patterns */
	assert_false(qk_name_match(t, false, "blk.0.ffn_up.weight", &m));
	assert_true(qk_name_match(t, true, "blk.0.ffn_up.weight", &m));
}

static void test_ignored_names(void **state)
{
	(void)state;
	assert_true(qk_name_ignored("model.layers.0.self_attn.rotary_emb.inv_freq"));
	assert_true(qk_name_ignored("transformer.h.0.attn.masked_bias"));
	assert_true(qk_name_ignored("transformer.h.0.attn.bias"));
	/* c_attn's bias is a real tensor */
	assert_false(qk_name_ignored("transformer.h.0.attn.c_attn.bias"));
	assert_false(qk_name_ignored("model.layers.0.self_attn.q_proj.bias"));
}

static void test_when(void **state)
{
	(void)state;
	assert_true(qk_when_applies(QK_W_ALL, 0));
	assert_true(qk_when_applies(QK_W_FULL, QK_LAYER_MOE));
	assert_false(qk_when_applies(QK_W_FULL, QK_LAYER_LINEAR));
	assert_true(qk_when_applies(QK_W_LINEAR, QK_LAYER_LINEAR | QK_LAYER_MOE));
	assert_true(qk_when_applies(QK_W_MOE, QK_LAYER_MOE));
	assert_false(qk_when_applies(QK_W_DENSE, QK_LAYER_MOE));
	assert_false(qk_when_applies(QK_W_GLOBAL, 0));
	assert_false(qk_when_applies(QK_W_MTP, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables_well_formed),
		cmocka_unit_test(test_hf_to_gguf_names),
		cmocka_unit_test(test_derived_and_mtp),
		cmocka_unit_test(test_transforms),
		cmocka_unit_test(test_shape_rules),
		cmocka_unit_test(test_name_expand_and_match),
		cmocka_unit_test(test_ignored_names),
		cmocka_unit_test(test_when),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
