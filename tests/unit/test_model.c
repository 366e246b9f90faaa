/* test_model.c - model assembly of valid models over hand-built in-memory
 * catalogs (fixture: model_fixture.h).
 *
 * View checks fill each source row with its own index and compare against
 * row lists worked out by hand from the layout rules of
 * transformers' Qwen3-Next, Qwen2-MoE and Qwen1 modeling code and llama.cpp's
 * Qwen3NextModel / QwenModel converters (QKVZ groups, fused gate_up halves,
 * c_attn thirds); GGUF inputs use the names and shapes those converters write.
 */
#include "model_fixture.h"

/* ---- valid models ---- */

static void test_qwen2_binds(void **state)
{
	struct fx f;
	const struct qk_binding *b;
	uint64_t total, active;

	(void)state;
	qwen2_model(&f, true);
	fx_ok(&f);
	assert_false(f.m.tied);
	assert_int_equal(f.m.form, QK_FORM_HF);
	/* 2*16*8 + 8 globals; per layer 8 + (64+8) + 2*(32+4) + 64 + 8 + 3*96 = 512 */
	qk_model_n_params(&f.m, &total, &active);
	assert_int_equal(total, 264 + 2 * 512);
	assert_int_equal(total, cat_elems(&f.cat));
	assert_int_equal(active, total);
	assert_string_equal(qk_model_tensor(&f.m, QK_R_FFN_DOWN, 1, -1)->name,
			    "model.layers.1.mlp.down_proj.weight");
	b = qk_model_get(&f.m, QK_R_ATTN_Q_B, 1);
	assert_non_null(b);
	assert_string_equal(b->gguf_name, "blk.1.attn_q.bias");
	assert_int_equal(b->n_f32, 8);
	assert_true(memcmp(b->f32, b->src->data, 32) == 0); /* F32 copied as is */
	b = qk_model_get(&f.m, QK_R_ATTN_Q, 0);
	assert_int_equal(b->view.rows, 8);
	assert_int_equal(b->view.cols, 8);
	assert_int_equal(b->n_dims, 2);
	assert_string_equal(b->gguf_name, "blk.0.attn_q.weight");
	assert_non_null(qk_model_get(&f.m, QK_R_FFN_NORM, 0));
	assert_null(qk_model_get(&f.m, QK_R_ATTN_POST_NORM, 0));
	assert_null(qk_model_get(&f.m, QK_R_FFN_GATE_EXPS, 0));
	assert_null(qk_model_get(&f.m, QK_R_ATTN_Q, 2));
	assert_string_equal(qk_model_get(&f.m, QK_R_OUTPUT, -1)->gguf_name, "output.weight");
	for (size_t i = 0; i < f.cat.n_tensors; i++)
		assert_true(f.m.claims[i].role >= 0);
	fx_free(&f);
}

static void test_tied_output(void **state)
{
	struct fx f;
	uint64_t total, active;

	(void)state;
	qwen2_model(&f, false);
	fx_ok(&f);
	assert_true(f.m.tied);
	assert_null(qk_model_get(&f.m, QK_R_OUTPUT, -1));
	qk_model_n_params(&f.m, &total, &active);
	assert_int_equal(total, 136 + 2 * 512);
	fx_free(&f);
	/* untied config without lm_head */
	qwen2_model(&f, false);
	f.hp.tie_word_embeddings = false;
	fx_fails(&f, QK_E_INVALID, "missing tensor 'lm_head.weight'", "(output, qwen2 model)");
	fx_free(&f);
}

/* Qwen1: c_attn [3H, H] splits into q, k, v rows [0,H), [H,2H), [2H,3H)
 * (qwen-forward-math §8.3); w1 is up, w2 is gate */
static void test_qwen1_binds(void **state)
{
	static const char *const roles_q[] = { "attn_q", "attn_k", "attn_v" };
	const int qkv[3] = { QK_R_ATTN_Q, QK_R_ATTN_K, QK_R_ATTN_V };
	const int qkv_b[3] = { QK_R_ATTN_Q_B, QK_R_ATTN_K_B, QK_R_ATTN_V_B };
	struct fx f;
	const struct qk_binding *b;
	const struct qk_tensor *c_attn, *bias;
	int rows[24];
	uint64_t total, active;

	(void)state;
	fx_init(&f, QK_ARCH_QWEN, QK_FMT_SAFETENSORS);
	f.hp.n_head_kv = 2;
	f.hp.n_ff_config = 12;
	f.hp.n_ff = 6;
	f.hp.attn_bias = true;
	ADD(&f, "transformer.wte.weight", 16, 8);
	ADD(&f, "transformer.ln_f.weight", 8);
	ADD(&f, "lm_head.weight", 16, 8);
	ADD(&f, "transformer.rotary_emb.inv_freq", 2);
	for (int l = 0; l < 2; l++) {
		addf(&f, SHAPE(8), "transformer.h.%d.ln_1.weight", l);
		addf(&f, SHAPE(24, 8), "transformer.h.%d.attn.c_attn.weight", l);
		addf(&f, SHAPE(24), "transformer.h.%d.attn.c_attn.bias", l);
		addf(&f, SHAPE(8, 8), "transformer.h.%d.attn.c_proj.weight", l);
		addf(&f, SHAPE(8), "transformer.h.%d.ln_2.weight", l);
		addf(&f, SHAPE(6, 8), "transformer.h.%d.mlp.w1.weight", l);
		addf(&f, SHAPE(6, 8), "transformer.h.%d.mlp.w2.weight", l);
		addf(&f, SHAPE(8, 6), "transformer.h.%d.mlp.c_proj.weight", l);
	}
	fx_ok(&f);
	c_attn = find(&f, "transformer.h.1.attn.c_attn.weight");
	bias = find(&f, "transformer.h.1.attn.c_attn.bias");
	for (int k = 0; k < 3; k++) {
		b = qk_model_get(&f.m, qkv[k], 1);
		assert_non_null(b);
		assert_string_equal(qk_role_name(b->role), roles_q[k]);
		assert_true(b->derived);
		assert_string_equal(b->gguf_name, "");
		assert_ptr_equal(b->src, c_attn);
		view_rows(b, rows, 8);
		for (int i = 0; i < 8; i++)
			assert_int_equal(rows[i], 8 * k + i);
		assert_ptr_equal(qk_view_row_data(&b->view, 3, NULL),
				 c_attn->data + (size_t)(8 * k + 3) * 32);
		b = qk_model_get(&f.m, qkv_b[k], 1);
		assert_int_equal(b->n_f32, 8);
		assert_true(memcmp(b->f32, bias->data + 32 * k, 32) == 0);
	}
	b = qk_model_get(&f.m, QK_R_ATTN_QKV, 1); /* kept fused for the converter */
	assert_false(b->derived);
	assert_string_equal(b->gguf_name, "blk.1.attn_qkv.weight");
	view_rows(b, rows, 24);
	for (int i = 0; i < 24; i++)
		assert_int_equal(rows[i], i);
	assert_string_equal(qk_model_tensor(&f.m, QK_R_FFN_UP, 0, -1)->name,
			    "transformer.h.0.mlp.w1.weight");
	assert_string_equal(qk_model_tensor(&f.m, QK_R_FFN_GATE, 0, -1)->name,
			    "transformer.h.0.mlp.w2.weight");
	/* c_attn is listed once, under attn_qkv; inv_freq is ignored */
	assert_int_equal(f.m.claims[qk_catalog_index(&f.cat, "transformer.h.1.attn.c_attn.weight")].role,
			 QK_R_ATTN_QKV);
	assert_int_equal(f.m.claims[qk_catalog_index(&f.cat, "transformer.rotary_emb.inv_freq")].role, -1);
	qk_model_n_params(&f.m, &total, &active);
	assert_int_equal(total, cat_elems(&f.cat) - 2);
	fx_free(&f);
}

/* per-expert hub layout, stacked into one view per role */
static void test_qwen2moe_per_expert(void **state)
{
	struct fx f;
	const struct qk_binding *b;
	uint64_t total, active;
	char name[64];

	(void)state;
	qwen2moe_model(&f);
	fx_ok(&f);
	b = qk_model_get(&f.m, QK_R_FFN_GATE_EXPS, 1);
	assert_non_null(b);
	assert_int_equal(b->xform, QK_X_STACK);
	assert_string_equal(b->gguf_name, "blk.1.ffn_gate_exps.weight");
	assert_true(b->n_dims == 3 && b->shape[0] == 4 && b->shape[1] == 3 && b->shape[2] == 8);
	assert_int_equal(b->view.rows, 12);
	assert_int_equal(b->view.n_pieces, 4);
	for (int e = 0; e < 4; e++) {
		const struct qk_tensor *t = qk_model_tensor(&f.m, QK_R_FFN_GATE_EXPS, 1, e);

		snprintf(name, sizeof(name), "model.layers.1.mlp.experts.%d.gate_proj.weight", e);
		assert_string_equal(t->name, name);
		for (int r = 0; r < 3; r++)
			assert_ptr_equal(qk_view_row_data(&b->view, (uint64_t)(e * 3 + r), NULL),
					 t->data + r * 32);
	}
	assert_null(qk_view_row_data(&b->view, 12, NULL));
	b = qk_model_get(&f.m, QK_R_FFN_DOWN_EXPS, 0);
	assert_true(b->view.rows == 32 && b->view.cols == 3);
	b = qk_model_get(&f.m, QK_R_FFN_GATE_INP_SHEXP, 0);
	assert_int_equal(b->n_f32, 8);
	assert_string_equal(b->gguf_name, "blk.0.ffn_gate_inp_shexp.weight");
	{
		long i = qk_catalog_index(&f.cat, "model.layers.1.mlp.experts.2.up_proj.weight");
		assert_int_equal(f.m.claims[i].role, QK_R_FFN_UP_EXPS);
		assert_int_equal(f.m.claims[i].layer, 1);
		assert_int_equal(f.m.claims[i].expert, 2);
	}
	/* active: 2 of the 4 experts, each 3 * (3*8) elements, in 2 layers */
	qk_model_n_params(&f.m, &total, &active);
	assert_int_equal(total, cat_elems(&f.cat));
	assert_int_equal(active, total - 2 * 2 * 3 * 24);
	fx_free(&f);
}

/* transformers 5.x fused gate_up [E, 2Im, H]: first Im rows of each expert
 * are gate, the next Im up (qwen-forward-math §2.2) */
static void test_qwen3moe_fused(void **state)
{
	static const int gate[12] = { 0, 1, 2, 6, 7, 8, 12, 13, 14, 18, 19, 20 };
	static const int up[12] = { 3, 4, 5, 9, 10, 11, 15, 16, 17, 21, 22, 23 };
	static const char *const suffix[2] = { "", ".weight" };
	struct fx f;
	const struct qk_binding *b;
	int rows[32];

	(void)state;
	for (int s = 0; s < 2; s++) {
		qwen3moe_model(&f, true, suffix[s]);
		fx_ok(&f);
		b = qk_model_get(&f.m, QK_R_FFN_GATE_EXPS, 1);
		assert_int_equal(b->xform, QK_X_SPLIT_GATE_UP);
		view_rows(b, rows, 12);
		for (int i = 0; i < 12; i++)
			assert_int_equal(rows[i], gate[i]);
		b = qk_model_get(&f.m, QK_R_FFN_UP_EXPS, 1);
		view_rows(b, rows, 12);
		for (int i = 0; i < 12; i++)
			assert_int_equal(rows[i], up[i]);
		assert_ptr_equal(qk_model_tensor(&f.m, QK_R_FFN_UP_EXPS, 1, 2), b->src);
		b = qk_model_get(&f.m, QK_R_FFN_DOWN_EXPS, 1);
		assert_int_equal(b->xform, QK_X_NONE);
		view_rows(b, rows, 32);
		for (int i = 0; i < 32; i++)
			assert_int_equal(rows[i], i);
		/* explicit head_dim 6: q [2*6, 8], o [8, 12], norms [6] */
		assert_int_equal(qk_model_get(&f.m, QK_R_ATTN_OUT, 0)->view.cols, 12);
		assert_int_equal(qk_model_get(&f.m, QK_R_ATTN_Q_NORM, 0)->n_f32, 6);
		fx_free(&f);
	}
}

static void test_qwen3_dense(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, QK_ARCH_QWEN3, QK_FMT_SAFETENSORS);
	f.hp.tie_word_embeddings = true;
	f.hp.qk_norm = true;
	globals_hf(&f, false);
	for (int l = 0; l < 2; l++) {
		attn_hf(&f, l, 8, false, true);
		dense_hf(&f, l);
	}
	fx_ok(&f);
	assert_non_null(qk_model_get(&f.m, QK_R_ATTN_K_NORM, 1));
	assert_null(qk_model_get(&f.m, QK_R_ATTN_Q_B, 1));
	fx_free(&f);
	/* a bias the config does not ask for is not part of the model */
	fx_init(&f, QK_ARCH_QWEN3, QK_FMT_SAFETENSORS);
	f.hp.tie_word_embeddings = true;
	globals_hf(&f, false);
	for (int l = 0; l < 2; l++) {
		attn_hf(&f, l, 8, l == 1, true);
		dense_hf(&f, l);
	}
	fx_fails(&f, QK_E_INVALID, "tensor 'model.layers.1.self_attn.q_proj.bias' is not part",
		 "config.json turns attention biases off");
	fx_free(&f);
}

/* Qwen3-Next: QKVZ regrouping, canonical small tensors, MTP */
static void test_qwen3next_binds(void **state)
{
	/* nk 2 groups of [q 4][k 4][v 4][z 4] rows (§6.2): attn_qkv = q0 q1 k0 k1
	 * v0 v1, attn_gate = z0 z1 (llamacpp-gguf-mapping §1.8) */
	static const int qkv[24] = { 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23,
				     8, 9, 10, 11, 24, 25, 26, 27 };
	static const int z[8] = { 12, 13, 14, 15, 28, 29, 30, 31 };
	static const float a_log[4] = { 0.0f, 0.5f, -1.0f, 2.0f };
	static const float norm_w[8] = { 0.25f, -0.5f, 0, 0, 0, 0, 0, 1.0f };
	static const float ssm_w[2] = { 0.25f, 0.75f };
	struct fx f;
	const struct qk_binding *b;
	int rows[24];
	uint64_t total, active, mtp = 0;

	(void)state;
	next_model(&f, true);
	set_f32(find(&f, "model.layers.1.linear_attn.A_log"), a_log, 4);
	set_f32(find(&f, "model.layers.1.input_layernorm.weight"), norm_w, 8);
	set_f32(find(&f, "model.layers.1.linear_attn.norm.weight"), ssm_w, 2);
	fx_ok(&f);
	assert_int_equal(f.m.n_mtp, 1);
	assert_int_equal(f.m.n_layer_all, 5);
	assert_int_equal(qk_model_layer_flags(&f.m, 0), QK_LAYER_LINEAR | QK_LAYER_MOE);
	assert_int_equal(qk_model_layer_flags(&f.m, 3), QK_LAYER_MOE);
	assert_int_equal(qk_model_layer_flags(&f.m, 4), QK_LAYER_MOE); /* MTP: full + MoE */
	assert_int_equal(qk_model_layer_flags(&f.m, 5), 0);

	b = qk_model_get(&f.m, QK_R_ATTN_QKV, 1);
	assert_int_equal(b->xform, QK_X_SPLIT_QKVZ);
	assert_string_equal(b->gguf_name, "blk.1.attn_qkv.weight");
	view_rows(b, rows, 24);
	for (int i = 0; i < 24; i++)
		assert_int_equal(rows[i], qkv[i]);
	b = qk_model_get(&f.m, QK_R_ATTN_GATE, 1);
	assert_string_equal(b->gguf_name, "blk.1.attn_gate.weight");
	view_rows(b, rows, 8);
	for (int i = 0; i < 8; i++)
		assert_int_equal(rows[i], z[i]);

	/* ssm_a = -exp(A_log); -exp(0) is exactly -1 */
	b = qk_model_get(&f.m, QK_R_SSM_A, 1);
	assert_string_equal(b->gguf_name, "blk.1.ssm_a");
	assert_int_equal(b->n_f32, 4);
	assert_true(b->f32[0] == -1.0f);
	for (int i = 1; i < 4; i++)
		assert_true(b->f32[i] == (float)-exp((double)a_log[i]));
	/* zero-centred norms hold 1 + w; the gated norm keeps w */
	b = qk_model_get(&f.m, QK_R_ATTN_NORM, 1);
	assert_true(b->f32[0] == 1.25f && b->f32[1] == 0.5f && b->f32[2] == 1.0f &&
		    b->f32[7] == 2.0f);
	b = qk_model_get(&f.m, QK_R_SSM_NORM, 1);
	assert_true(b->f32[0] == 0.25f && b->f32[1] == 0.75f);
	/* conv [24, 1, 3] -> [24, 3], same values */
	b = qk_model_get(&f.m, QK_R_SSM_CONV1D, 2);
	assert_true(b->n_dims == 2 && b->shape[0] == 24 && b->shape[1] == 3);
	assert_int_equal(b->n_f32, 72);
	assert_true(memcmp(b->f32, b->src->data, 72 * 4) == 0);
	assert_string_equal(qk_model_get(&f.m, QK_R_SSM_DT_B, 0)->gguf_name, "blk.0.ssm_dt.bias");
	assert_string_equal(qk_model_get(&f.m, QK_R_ATTN_POST_NORM, 3)->gguf_name,
			    "blk.3.post_attention_norm.weight");
	/* layer kinds */
	assert_null(qk_model_get(&f.m, QK_R_ATTN_Q, 0));
	assert_null(qk_model_get(&f.m, QK_R_SSM_A, 3));
	assert_int_equal(qk_model_get(&f.m, QK_R_ATTN_Q, 3)->view.rows, 16);
	/* MTP: bound, never named in GGUF, not counted */
	b = qk_model_get(&f.m, QK_R_MTP_FC, -1);
	assert_non_null(b);
	assert_true(b->mtp);
	assert_string_equal(b->gguf_name, "");
	b = qk_model_get(&f.m, QK_R_ATTN_Q, 4);
	assert_string_equal(b->src->name, "mtp.layers.0.self_attn.q_proj.weight");
	assert_true(b->mtp);
	assert_string_equal(b->gguf_name, "");
	{
		float w;

		memcpy(&w, find(&f, "mtp.norm.weight")->data + 4, 4);
		assert_true(qk_model_get(&f.m, QK_R_MTP_NORM, -1)->f32[1] == 1.0f + w);
	}
	for (size_t i = 0; i < f.cat.n_tensors; i++)
		if (strncmp(f.cat.tensors[i].name, "mtp.", 4) == 0)
			mtp += f.cat.tensors[i].n_elem;
	qk_model_n_params(&f.m, &total, &active);
	assert_int_equal(total, cat_elems(&f.cat) - mtp);
	/* 4 linear+full MoE layers, 2 of 4 experts unused: 3 roles x 24 each */
	assert_int_equal(active, total - 4 * 2 * 3 * 24);
	fx_free(&f);

	/* without MTP tensors */
	next_model(&f, false);
	fx_ok(&f);
	assert_int_equal(f.m.n_mtp, 0);
	assert_null(qk_model_get(&f.m, QK_R_MTP_FC, -1));
	fx_free(&f);
	/* MTP tensors, but a config without MTP layers */
	next_model(&f, true);
	f.hp.n_mtp_layers = 0;
	fx_fails(&f, QK_E_INVALID, "tensor 'mtp.fc.weight' is not part of a qwen3next model",
		 "mtp_num_hidden_layers is 0");
	fx_free(&f);
}

/* GGUF inputs hold the transformed forms; binding keeps them as they are */
static void gguf_moe_layer(struct fx *f, int l)
{
	addf(f, SHAPE(4, 8), "blk.%d.ffn_gate_inp.weight", l);
	addf(f, SHAPE(4, 3, 8), "blk.%d.ffn_gate_exps.weight", l);
	addf(f, SHAPE(4, 3, 8), "blk.%d.ffn_up_exps.weight", l);
	addf(f, SHAPE(4, 8, 3), "blk.%d.ffn_down_exps.weight", l);
	addf(f, SHAPE(5, 8), "blk.%d.ffn_gate_shexp.weight", l);
	addf(f, SHAPE(5, 8), "blk.%d.ffn_up_shexp.weight", l);
	addf(f, SHAPE(8, 5), "blk.%d.ffn_down_shexp.weight", l);
	addf(f, SHAPE(8), "blk.%d.ffn_gate_inp_shexp.weight", l); /* old 1-D form */
	addf(f, SHAPE(8), "blk.%d.attn_norm.weight", l);
	addf(f, SHAPE(8), "blk.%d.post_attention_norm.weight", l);
}

static void test_qwen3next_gguf(void **state)
{
	static const float a_log[4] = { 0.0f, 0.5f, -1.0f, 2.0f };
	struct fx f;
	const struct qk_binding *b;
	float ssm_a[4], norm_w[8];
	int rows[24];

	(void)state;
	fx_init(&f, QK_ARCH_QWEN3NEXT, QK_FMT_GGUF);
	next_hparams(&f);
	ADD(&f, "token_embd.weight", 16, 8);
	ADD(&f, "output_norm.weight", 8);
	for (int l = 0; l < 3; l++) {
		addf(&f, SHAPE(24, 8), "blk.%d.attn_qkv.weight", l);
		addf(&f, SHAPE(8, 8), "blk.%d.attn_gate.weight", l);
		addf(&f, SHAPE(8, 8), "blk.%d.ssm_ba.weight", l);
		addf(&f, SHAPE(24, 3), "blk.%d.ssm_conv1d.weight", l);
		addf(&f, SHAPE(4), "blk.%d.ssm_dt.bias", l);
		addf(&f, SHAPE(4), "blk.%d.ssm_a", l);
		addf(&f, SHAPE(2), "blk.%d.ssm_norm.weight", l);
		addf(&f, SHAPE(8, 8), "blk.%d.ssm_out.weight", l);
		gguf_moe_layer(&f, l);
	}
	ADD(&f, "blk.3.attn_q.weight", 16, 8);
	ADD(&f, "blk.3.attn_k.weight", 4, 8);
	ADD(&f, "blk.3.attn_v.weight", 4, 8);
	ADD(&f, "blk.3.attn_output.weight", 8, 8);
	ADD(&f, "blk.3.attn_q_norm.weight", 4);
	ADD(&f, "blk.3.attn_k_norm.weight", 4);
	gguf_moe_layer(&f, 3);
	/* what llama.cpp's converter writes for A_log and w = 0.25 */
	for (int i = 0; i < 4; i++)
		ssm_a[i] = (float)-exp((double)a_log[i]);
	for (int i = 0; i < 8; i++)
		norm_w[i] = 1.25f;
	set_f32(find(&f, "blk.1.ssm_a"), ssm_a, 4);
	set_f32(find(&f, "blk.1.attn_norm.weight"), norm_w, 8);
	fx_ok(&f);
	assert_int_equal(f.m.form, QK_FORM_GGUF);
	assert_true(f.m.tied);
	b = qk_model_get(&f.m, QK_R_SSM_A, 1);
	assert_int_equal(b->form, QK_FORM_GGUF);
	assert_int_equal(b->xform, QK_X_NONE);
	assert_true(memcmp(b->f32, ssm_a, sizeof(ssm_a)) == 0); /* not transformed again */
	assert_true(qk_model_get(&f.m, QK_R_ATTN_NORM, 1)->f32[3] == 1.25f);
	b = qk_model_get(&f.m, QK_R_ATTN_QKV, 2);
	assert_string_equal(b->gguf_name, "blk.2.attn_qkv.weight");
	view_rows(b, rows, 24);
	for (int i = 0; i < 24; i++)
		assert_int_equal(rows[i], i);
	b = qk_model_get(&f.m, QK_R_FFN_GATE_EXPS, 3);
	assert_int_equal(b->view.n_pieces, 1);
	assert_int_equal(b->view.rows, 12);
	assert_ptr_equal(qk_model_tensor(&f.m, QK_R_FFN_GATE_EXPS, 3, 2), b->src);
	assert_int_equal(qk_model_get(&f.m, QK_R_FFN_GATE_INP_SHEXP, 0)->n_f32, 8);
	assert_int_equal(qk_model_get(&f.m, QK_R_SSM_CONV1D, 0)->n_f32, 72);
	assert_int_equal(f.m.n_mtp, 0);
	fx_free(&f);
}

/* a Qwen1 GGUF keeps attn_qkv fused; q/k/v are still row ranges of it */
static void test_qwen1_gguf(void **state)
{
	struct fx f;
	int rows[8];

	(void)state;
	fx_init(&f, QK_ARCH_QWEN, QK_FMT_GGUF);
	f.hp.n_head_kv = 2;
	f.hp.n_ff = 6;
	f.hp.n_layer = 1;
	ADD(&f, "token_embd.weight", 16, 8);
	ADD(&f, "output_norm.weight", 8);
	ADD(&f, "output.weight", 16, 8);
	ADD(&f, "blk.0.attn_norm.weight", 8);
	ADD(&f, "blk.0.attn_qkv.weight", 24, 8);
	ADD(&f, "blk.0.attn_qkv.bias", 24);
	ADD(&f, "blk.0.attn_output.weight", 8, 8);
	ADD(&f, "blk.0.ffn_norm.weight", 8);
	ADD(&f, "blk.0.ffn_up.weight", 6, 8);
	ADD(&f, "blk.0.ffn_gate.weight", 6, 8);
	ADD(&f, "blk.0.ffn_down.weight", 8, 6);
	fx_ok(&f);
	view_rows(qk_model_get(&f.m, QK_R_ATTN_V, 0), rows, 8);
	for (int i = 0; i < 8; i++)
		assert_int_equal(rows[i], 16 + i);
	assert_int_equal(qk_model_get(&f.m, QK_R_ATTN_V_B, 0)->n_f32, 8);
	fx_free(&f);
}

/* F16/BF16 widen exactly; types with no converter are refused by name */
static void test_dtypes(void **state)
{
	/* fp16 1, -2, 1/3 rounded (0x3555 = 0.333251953125), 65504, 2^-24,
	 * -0, 0.5, 1024; bf16 1, -3, 0.25, 2^-133 (subnormal) */
	static const uint16_t h[8] = { 0x3c00, 0xc000, 0x3555, 0x7bff, 0x0001, 0x8000,
				       0x3800, 0x6400 };
	static const float hv[8] = { 1.0f, -2.0f, 0.333251953125f, 65504.0f, 0x1p-24f, -0.0f,
				     0.5f, 1024.0f };
	static const uint16_t bf[4] = { 0x3f80, 0xc040, 0x3e80, 0x0001 };
	static const float bv[4] = { 1.0f, -3.0f, 0.25f, 0x1p-133f };
	struct fx f;
	struct qk_tensor *t;
	float out[8];
	qk_err e;

	(void)state;
	qwen2_model(&f, true);
	t = find(&f, "model.layers.0.mlp.up_proj.weight");      /* [12, 8] */
	t->dtype = QK_DT_F16;
	t->nbytes = t->n_elem * 2;
	memcpy((void *)(uintptr_t)(t->data + 16), h, sizeof(h)); /* row 1 */
	t = find(&f, "model.layers.0.self_attn.q_proj.bias");   /* [8] */
	t->dtype = QK_DT_BF16;
	t->nbytes = t->n_elem * 2;
	memcpy((void *)(uintptr_t)t->data, bf, sizeof(bf));
	t = find(&f, "model.layers.1.mlp.down_proj.weight");
	t->dtype = QK_DT_F8_E4M3;
	t->nbytes = t->n_elem;
	fx_ok(&f);
	assert_int_equal(qk_view_read_row(&qk_model_get(&f.m, QK_R_FFN_UP, 0)->view, 1, out, &e),
			 QK_OK);
	for (int i = 0; i < 8; i++)
		assert_true(memcmp(&out[i], &hv[i], 4) == 0);
	for (int i = 0; i < 4; i++)
		assert_true(qk_model_get(&f.m, QK_R_ATTN_Q_B, 0)->f32[i] == bv[i]);
	assert_int_equal(qk_view_read_row(&qk_model_get(&f.m, QK_R_FFN_DOWN, 1)->view, 0, out, &e),
			 QK_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "F8_E4M3"));
	assert_non_null(strstr(e.msg, "model.layers.1.mlp.down_proj.weight"));
	assert_int_equal(qk_view_read_row(&qk_model_get(&f.m, QK_R_FFN_UP, 0)->view, 12, out, &e),
			 QK_E_USAGE);
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qwen2_binds),
		cmocka_unit_test(test_tied_output),
		cmocka_unit_test(test_qwen1_binds),
		cmocka_unit_test(test_qwen2moe_per_expert),
		cmocka_unit_test(test_qwen3moe_fused),
		cmocka_unit_test(test_qwen3_dense),
		cmocka_unit_test(test_qwen3next_binds),
		cmocka_unit_test(test_qwen3next_gguf),
		cmocka_unit_test(test_qwen1_gguf),
		cmocka_unit_test(test_dtypes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
