/* test_model_fail.c - model assembly refuses catalogs that do not make the
 * model the hyperparameters describe, naming the tensor and what was
 * expected (fixture: model_fixture.h). */
#include "model_fixture.h"

static void test_missing(void **state)
{
	struct fx f;

	(void)state;
	skip_name = "model.layers.1.mlp.up_proj.weight";
	qwen2_model(&f, true);
	fx_fails(&f, QK_E_INVALID, "missing tensor 'model.layers.1.mlp.up_proj.weight'",
		 "(ffn_up of layer 1, qwen2 model)");
	fx_free(&f);
	/* Qwen2 always has q/k/v biases */
	skip_name = "model.layers.0.self_attn.k_proj.bias";
	qwen2_model(&f, true);
	f.hp.attn_bias = true;
	fx_fails(&f, QK_E_INVALID, "missing tensor 'model.layers.0.self_attn.k_proj.bias'", NULL);
	fx_free(&f);
	/* the message starts with the input when the catalog has one */
	skip_name = "model.norm.weight";
	qwen2_model(&f, true);
	f.cat.path = strdup("/models/q2");
	fx_fails(&f, QK_E_INVALID, "/models/q2: missing tensor 'model.norm.weight' (output_norm,",
		 NULL);
	fx_free(&f);
}

static void test_unclaimed(void **state)
{
	struct fx f;

	(void)state;
	qwen2_model(&f, true);
	ADD(&f, "model.layers.0.mlp.extra.weight", 8);
	fx_fails(&f, QK_E_INVALID,
		 "tensor 'model.layers.0.mlp.extra.weight' is not part of a qwen2 model",
		 "expected Hugging Face tensor names");
	fx_free(&f);
	/* a layer the config does not have; the count of the others */
	qwen2_model(&f, true);
	ADD(&f, "model.layers.2.input_layernorm.weight", 8);
	ADD(&f, "model.layers.2.self_attn.o_proj.weight", 8, 8);
	fx_fails(&f, QK_E_INVALID, "layer 2, but num_hidden_layers is 2",
		 "(and 1 more unclaimed tensor)");
	fx_free(&f);
	/* GGUF names in a safetensors checkpoint */
	qwen2_model(&f, true);
	ADD(&f, "blk.0.attn_norm.weight", 8);
	fx_fails(&f, QK_E_INVALID, "tensor 'blk.0.attn_norm.weight' is not part of a qwen2 model",
		 NULL);
	fx_free(&f);
	/* an expert beyond num_experts */
	qwen2moe_model(&f);
	ADD(&f, "model.layers.0.mlp.experts.4.gate_proj.weight", 3, 8);
	fx_fails(&f, QK_E_INVALID, "expert 4, but num_experts is 4", NULL);
	fx_free(&f);
	/* a linear-attention tensor on a full-attention layer */
	next_model(&f, false);
	ADD(&f, "model.layers.3.linear_attn.A_log", 4);
	fx_fails(&f, QK_E_INVALID, "tensor 'model.layers.3.linear_attn.A_log'",
		 "ssm_a belongs on linear-attention layers and layer 3 is full-attention");
	fx_free(&f);
}

/* two tensors for one role: both expert layouts, or the fused one twice */
static void test_doubly_claimed(void **state)
{
	struct fx f;

	(void)state;
	qwen3moe_model(&f, false, "");
	ADD(&f, "model.layers.0.mlp.experts.gate_up_proj", 4, 6, 8);
	fx_fails(&f, QK_E_INVALID,
		 "tensor 'model.layers.0.mlp.experts.0.gate_proj.weight' and tensor "
		 "'model.layers.0.mlp.experts.gate_up_proj' both hold ffn_gate_exps of layer 0",
		 "per-expert and fused");
	fx_free(&f);
	qwen3moe_model(&f, true, "");
	ADD(&f, "model.layers.1.mlp.experts.down_proj.weight", 4, 8, 3);
	fx_fails(&f, QK_E_INVALID, "both hold ffn_down_exps of layer 1", "two fused");
	fx_free(&f);
}

static void test_misshaped(void **state)
{
	struct fx f;

	(void)state;
	skip_name = "model.layers.1.mlp.down_proj.weight";
	qwen2_model(&f, true);
	skip_name = NULL;
	ADD(&f, "model.layers.1.mlp.down_proj.weight", 12, 8);
	fx_fails(&f, QK_E_INVALID,
		 "tensor 'model.layers.1.mlp.down_proj.weight': shape [12, 8], expected [8, 12] "
		 "(hidden_size 8, intermediate_size 12)", NULL);
	fx_free(&f);
	/* wrong rank */
	skip_name = "model.norm.weight";
	qwen2_model(&f, true);
	skip_name = NULL;
	ADD(&f, "model.norm.weight", 8, 1);
	fx_fails(&f, QK_E_INVALID, "tensor 'model.norm.weight': shape [8, 1], expected [8] "
		 "(hidden_size 8)", NULL);
	fx_free(&f);
	/* one expert of the wrong width */
	skip_name = "model.layers.0.mlp.experts.3.down_proj.weight";
	qwen2moe_model(&f);
	skip_name = NULL;
	ADD(&f, "model.layers.0.mlp.experts.3.down_proj.weight", 8, 4);
	fx_fails(&f, QK_E_INVALID, "shape [8, 4], expected [8, 3] "
		 "(hidden_size 8, moe_intermediate_size 3)", NULL);
	fx_free(&f);
	/* Qwen3-Next q_proj carries the gate: 2 x heads x head_dim rows */
	skip_name = "model.layers.3.self_attn.q_proj.weight";
	next_model(&f, false);
	skip_name = NULL;
	ADD(&f, "model.layers.3.self_attn.q_proj.weight", 8, 8);
	fx_fails(&f, QK_E_INVALID, "expected [16, 8] (num_attention_heads 2, head_dim 4, "
		 "hidden_size 8)", NULL);
	fx_free(&f);
	/* the conv kernel is [conv_dim, 1, K] in HF files */
	skip_name = "model.layers.2.linear_attn.conv1d.weight";
	next_model(&f, false);
	skip_name = NULL;
	ADD(&f, "model.layers.2.linear_attn.conv1d.weight", 24, 3);
	fx_fails(&f, QK_E_INVALID, "shape [24, 3], expected [24, 1, 3]", NULL);
	fx_free(&f);
}

static void test_bad_dtype(void **state)
{
	static const uint64_t s8[] = { 8 }, s12x8[] = { 12, 8 };
	struct fx f;

	(void)state;
	skip_name = "model.norm.weight";
	qwen2_model(&f, true);
	skip_name = NULL;
	add_dt(&f, "model.norm.weight", QK_DT_I32, s8, 1);
	fx_fails(&f, QK_E_INVALID, "tensor 'model.norm.weight': dtype I32, expected F32, F16 or "
		 "BF16 for output_norm", NULL);
	fx_free(&f);
	skip_name = "model.layers.0.mlp.up_proj.weight";
	qwen2_model(&f, true);
	skip_name = NULL;
	add_dt(&f, "model.layers.0.mlp.up_proj.weight", QK_DT_I8, s12x8, 2);
	fx_fails(&f, QK_E_INVALID, "dtype I8, expected a float or ggml quantized type for ffn_up "
		 "of layer 0", NULL);
	fx_free(&f);
	/* a quantized row must be whole blocks: 8 columns of Q8_0 (32) are not */
	skip_name = "model.layers.0.mlp.up_proj.weight";
	qwen2_model(&f, true);
	skip_name = NULL;
	{
		struct qk_tensor *t = add_dt(&f, "model.layers.0.mlp.up_proj.weight", QK_DT_F32,
					     s12x8, 2);
		t->dtype = QT_Q8_0;
		t->nbytes = 3 * 34; /* 96 elements are 3 blocks, but a row is 8 */
	}
	fx_fails(&f, QK_E_INVALID, "tensor 'model.layers.0.mlp.up_proj.weight': a row of 8 "
		 "elements is not a whole number of Q8_0 blocks", NULL);
	fx_free(&f);
}

static void test_missing_expert(void **state)
{
	struct fx f;

	(void)state;
	skip_name = "model.layers.1.mlp.experts.2.up_proj.weight";
	qwen2moe_model(&f);
	fx_fails(&f, QK_E_INVALID, "missing tensor 'model.layers.1.mlp.experts.2.up_proj.weight'",
		 "expert 2 of num_experts 4");
	fx_free(&f);
	/* shared expert missing */
	skip_name = "model.layers.0.mlp.shared_expert_gate.weight";
	qwen2moe_model(&f);
	fx_fails(&f, QK_E_INVALID, "missing tensor 'model.layers.0.mlp.shared_expert_gate.weight'",
		 "(ffn_gate_inp_shexp of layer 0");
	fx_free(&f);
}

static void test_next_missing_linear(void **state)
{
	struct fx f;

	(void)state;
	skip_name = "model.layers.1.linear_attn.A_log";
	next_model(&f, true);
	fx_fails(&f, QK_E_INVALID, "missing tensor 'model.layers.1.linear_attn.A_log'",
		 "(ssm_a of layer 1, qwen3next model)");
	fx_free(&f);
	/* MTP layers are checked like the others */
	skip_name = "mtp.layers.0.self_attn.k_norm.weight";
	next_model(&f, true);
	fx_fails(&f, QK_E_INVALID, "missing tensor 'mtp.layers.0.self_attn.k_norm.weight'",
		 "(attn_k_norm of MTP layer 0");
	fx_free(&f);
}

static void test_bad_hparams(void **state)
{
	struct fx f;

	(void)state;
	qwen2moe_model(&f);
	f.hp.n_expert = 0;
	fx_fails(&f, QK_E_INVALID, "num_experts 0", NULL);
	fx_free(&f);
	next_model(&f, false);
	f.hp.ssm_n_v_heads = 3;
	fx_fails(&f, QK_E_INVALID, "linear_num_value_heads 3", NULL);
	fx_free(&f);
	qwen2_model(&f, true);
	f.hp.arch = QK_ARCH_COUNT;
	fx_fails(&f, QK_E_INVALID, "unknown architecture", NULL);
	fx_free(&f);
}

/* a GGUF catalog is read by GGUF names */
static void test_gguf_names_required(void **state)
{
	struct fx f;

	(void)state;
	qwen2_model(&f, true);
	f.cat.format = QK_FMT_GGUF;
	fx_fails(&f, QK_E_INVALID, "missing tensor 'token_embd.weight'", NULL);
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_unclaimed),
		cmocka_unit_test(test_doubly_claimed),
		cmocka_unit_test(test_misshaped),
		cmocka_unit_test(test_bad_dtype),
		cmocka_unit_test(test_missing_expert),
		cmocka_unit_test(test_next_missing_linear),
		cmocka_unit_test(test_bad_hparams),
		cmocka_unit_test(test_gguf_names_required),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
