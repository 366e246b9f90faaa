/* test_config.c - config.json -> hyperparameters.
 *
 * The configs below are written in the shape of the published Qwen configs;
 * the numbers expected from them are the ones the transformers config
 * classes give (field by field, in the comments of each test), and the defaults are the transformers class
 * defaults read from configuration_qwen2/_qwen2_moe/_qwen3/_qwen3_moe/
 * _qwen3_next.py and Qwen's configuration_qwen.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../formats/model/hparams.h"

static int parse(const char *json, struct qk_hparams *hp, qk_err *e)
{
	qk_err_clear(e);
	return qk_hparams_from_config(hp, json, strlen(json), "config.json", e);
}

static void ok(const char *json, struct qk_hparams *hp)
{
	qk_err e;
	int rc = parse(json, hp, &e);

	if (rc)
		print_error("unexpected error: %s\n", e.msg);
	assert_int_equal(rc, QK_OK);
}

/* the parse fails with `code` and a message holding `frag` */
static void fails(const char *json, int code, const char *frag)
{
	struct qk_hparams hp;
	qk_err e;
	int rc = parse(json, &hp, &e);

	if (rc != code || !strstr(e.msg, frag))
		print_error("config %s\n  got code %d '%s'\n  expected code %d with '%s'\n", json,
			    rc, e.msg, code, frag);
	assert_int_equal(rc, code);
	assert_non_null(strstr(e.msg, frag));
	assert_int_equal(hp.n_embd, 0); /* nothing half-filled on failure */
}

static unsigned count_flags(const struct qk_hparams *hp, unsigned flag)
{
	unsigned n = 0;
	for (uint32_t i = 0; i < hp->n_layer; i++)
		n += (hp->layer_flags[i] & flag) != 0;
	return n;
}

#define NEAR(a, b) assert_true(fabs((double)(a) - (double)(b)) <= 1e-12 * fabs((double)(b)))

/* ---- one realistic config per generation ---- */

static const char qwen_7b[] =
	"{\n"
	"  \"architectures\": [\"QWenLMHeadModel\"],\n"
	"  \"auto_map\": {\"AutoConfig\": \"configuration_qwen.QWenConfig\",\n"
	"               \"AutoModelForCausalLM\": \"modeling_qwen.QWenLMHeadModel\"},\n"
	"  \"attn_dropout_prob\": 0.0, \"bf16\": false, \"emb_dropout_prob\": 0.0,\n"
	"  \"fp16\": false, \"fp32\": false, \"hidden_size\": 4096,\n"
	"  \"intermediate_size\": 22016, \"initializer_range\": 0.02, \"kv_channels\": 128,\n"
	"  \"layer_norm_epsilon\": 1e-06, \"max_position_embeddings\": 8192,\n"
	"  \"model_type\": \"qwen\", \"no_bias\": true, \"num_attention_heads\": 32,\n"
	"  \"num_hidden_layers\": 32, \"onnx_safe\": null, \"rotary_emb_base\": 10000,\n"
	"  \"rotary_pct\": 1.0, \"scale_attn_weights\": true, \"seq_length\": 8192,\n"
	"  \"tie_word_embeddings\": false, \"tokenizer_class\": \"QWenTokenizer\",\n"
	"  \"use_cache\": true, \"use_dynamic_ntk\": true, \"use_flash_attn\": \"auto\",\n"
	"  \"use_logn_attn\": true, \"vocab_size\": 151936\n"
	"}\n";

static void test_qwen1_7b(void **state)
{
	struct qk_hparams hp;

	(void)state;
	ok(qwen_7b, &hp);
	assert_int_equal(hp.arch, QK_ARCH_QWEN);
	assert_int_equal(hp.n_vocab, 151936);
	assert_int_equal(hp.n_embd, 4096);
	assert_int_equal(hp.n_layer, 32);
	assert_int_equal(hp.n_head, 32);
	assert_int_equal(hp.n_head_kv, 32);        /* MHA */
	assert_int_equal(hp.head_dim, 128);        /* kv_channels */
	assert_int_equal(hp.n_rot, 128);
	assert_int_equal(hp.n_ff_config, 22016);
	assert_int_equal(hp.n_ff, 11008);          /* w1/w2 are 11008 wide */
	assert_int_equal(hp.n_ctx_train, 8192);
	assert_int_equal(hp.seq_length, 8192);
	assert_true(hp.use_dynamic_ntk && hp.use_logn_attn);
	NEAR(hp.norm_eps, 1e-6);
	NEAR(hp.rope_theta, 10000.0);
	NEAR(hp.partial_rotary_factor, 1.0);
	assert_int_equal(hp.rope.type, QK_ROPE_DEFAULT);
	assert_true(hp.attn_bias);                 /* c_attn always has a bias */
	assert_false(hp.qk_norm || hp.zero_centred_norm || hp.attn_output_gate);
	assert_false(hp.tie_word_embeddings);
	assert_int_equal(hp.n_expert, 0);
	assert_int_equal(count_flags(&hp, QK_LAYER_MOE | QK_LAYER_LINEAR), 0);
	assert_true(hp.bos_token_id == -1 && hp.eos_token_id == -1 && hp.pad_token_id == -1);
}

static void test_qwen1_72b_shape(void **state)
{
	struct qk_hparams hp;

	(void)state;
	ok("{\"architectures\": [\"QWenLMHeadModel\"], \"hidden_size\": 8192,"
	   " \"num_hidden_layers\": 80, \"num_attention_heads\": 64, \"kv_channels\": 128,"
	   " \"intermediate_size\": 49152, \"vocab_size\": 152064, \"rotary_emb_base\": 1000000,"
	   " \"rope_theta\": 1000000, \"layer_norm_epsilon\": 1e-05, \"seq_length\": 8192,"
	   " \"max_position_embeddings\": 32768,"
	   " \"use_dynamic_ntk\": false, \"use_logn_attn\": false}", &hp);
	assert_int_equal(hp.n_ff, 24576);
	assert_int_equal(hp.head_dim, 128);
	NEAR(hp.rope_theta, 1e6);
	NEAR(hp.norm_eps, 1e-5);
	assert_false(hp.use_dynamic_ntk || hp.use_logn_attn);
	assert_int_equal(hp.n_vocab, 152064);
}

static const char qwen15_moe_a27b[] =
	"{\"architectures\": [\"Qwen2MoeForCausalLM\"], \"attention_dropout\": 0.0,"
	" \"bos_token_id\": 151643, \"eos_token_id\": 151643, \"hidden_act\": \"silu\","
	" \"hidden_size\": 2048, \"initializer_range\": 0.02, \"intermediate_size\": 5632,"
	" \"max_position_embeddings\": 8192, \"max_window_layers\": 21,"
	" \"model_type\": \"qwen2_moe\", \"num_attention_heads\": 16, \"num_hidden_layers\": 24,"
	" \"num_key_value_heads\": 16, \"rms_norm_eps\": 1e-06, \"rope_theta\": 1000000.0,"
	" \"sliding_window\": 32768, \"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\","
	" \"use_cache\": true, \"use_sliding_window\": false, \"vocab_size\": 151936,"
	" \"decoder_sparse_step\": 1, \"moe_intermediate_size\": 1408,"
	" \"shared_expert_intermediate_size\": 5632, \"num_experts_per_tok\": 4,"
	" \"num_experts\": 60, \"norm_topk_prob\": false, \"output_router_logits\": false,"
	" \"router_aux_loss_coef\": 0.001}";

static void test_qwen15_moe(void **state)
{
	struct qk_hparams hp;

	(void)state;
	ok(qwen15_moe_a27b, &hp);
	assert_int_equal(hp.arch, QK_ARCH_QWEN2MOE);
	assert_int_equal(hp.n_embd, 2048);
	assert_int_equal(hp.n_layer, 24);
	assert_int_equal(hp.n_head, 16);
	assert_int_equal(hp.n_head_kv, 16);
	assert_int_equal(hp.head_dim, 128);
	assert_int_equal(hp.n_ff, 5632);
	assert_int_equal(hp.n_expert, 60);
	assert_int_equal(hp.n_expert_used, 4);
	assert_int_equal(hp.n_ff_exp, 1408);
	assert_int_equal(hp.n_ff_shexp, 5632);
	assert_false(hp.norm_topk_prob);
	assert_true(hp.attn_bias);                 /* qkv_bias defaults to true */
	assert_false(hp.qk_norm);
	NEAR(hp.rope_theta, 1e6);
	assert_int_equal(count_flags(&hp, QK_LAYER_MOE), 24);
	assert_int_equal(hp.bos_token_id, 151643);
	assert_int_equal(hp.eos_token_id, 151643);
	assert_int_equal(hp.pad_token_id, -1);
}

static void test_qwen2_57b_a14b(void **state)
{
	struct qk_hparams hp;

	(void)state;
	ok("{\"architectures\": [\"Qwen2MoeForCausalLM\"], \"bos_token_id\": 151643,"
	   " \"eos_token_id\": 151643, \"hidden_size\": 3584, \"intermediate_size\": 18944,"
	   " \"max_position_embeddings\": 131072, \"model_type\": \"qwen2_moe\","
	   " \"num_attention_heads\": 28, \"num_hidden_layers\": 28, \"num_key_value_heads\": 4,"
	   " \"rms_norm_eps\": 1e-06, \"rope_theta\": 1000000.0, \"vocab_size\": 151936,"
	   " \"decoder_sparse_step\": 1, \"moe_intermediate_size\": 2560,"
	   " \"shared_expert_intermediate_size\": 20480, \"num_experts_per_tok\": 8,"
	   " \"num_experts\": 64, \"norm_topk_prob\": false, \"tie_word_embeddings\": false}", &hp);
	assert_int_equal(hp.n_head_kv, 4);
	assert_int_equal(hp.head_dim, 128);        /* 3584 / 28 */
	assert_int_equal(hp.n_expert, 64);
	assert_int_equal(hp.n_expert_used, 8);
	assert_int_equal(hp.n_ff_exp, 2560);
	assert_int_equal(hp.n_ff_shexp, 20480);    /* differs from intermediate_size */
	assert_int_equal(hp.n_ff, 18944);
	assert_int_equal(hp.n_ctx_train, 131072);
	assert_int_equal(count_flags(&hp, QK_LAYER_MOE), 28);
}

static const char qwen25_05b[] =
	"{\"architectures\": [\"Qwen2ForCausalLM\"], \"attention_dropout\": 0.0,"
	" \"bos_token_id\": 151643, \"eos_token_id\": 151643, \"hidden_act\": \"silu\","
	" \"hidden_size\": 896, \"initializer_range\": 0.02, \"intermediate_size\": 4864,"
	" \"max_position_embeddings\": 32768, \"max_window_layers\": 24, \"model_type\": \"qwen2\","
	" \"num_attention_heads\": 14, \"num_hidden_layers\": 24, \"num_key_value_heads\": 2,"
	" \"rms_norm_eps\": 1e-06, \"rope_theta\": 1000000.0, \"sliding_window\": 32768,"
	" \"tie_word_embeddings\": true, \"torch_dtype\": \"bfloat16\", \"use_cache\": true,"
	" \"use_sliding_window\": false, \"vocab_size\": 151936}";

static void test_qwen25_tied(void **state)
{
	struct qk_hparams hp;

	(void)state;
	ok(qwen25_05b, &hp);
	assert_int_equal(hp.arch, QK_ARCH_QWEN2);
	assert_int_equal(hp.n_embd, 896);
	assert_int_equal(hp.n_layer, 24);
	assert_int_equal(hp.n_head, 14);
	assert_int_equal(hp.n_head_kv, 2);
	assert_int_equal(hp.head_dim, 64);         /* 896 / 14 */
	assert_int_equal(hp.n_rot, 64);
	assert_int_equal(hp.n_ff, 4864);
	assert_true(hp.tie_word_embeddings);
	assert_true(hp.attn_bias);
	assert_false(hp.qk_norm);
	assert_int_equal(hp.n_expert, 0);
	assert_int_equal(hp.decoder_sparse_step, 0);
	assert_int_equal(hp.rope.type, QK_ROPE_DEFAULT);
	NEAR(hp.rope.factor, 1.0);
}

static void test_qwen25_yarn(void **state)
{
	struct qk_hparams hp;

	(void)state;
	/* Qwen's long-context recipe for Qwen2.5-7B-Instruct */
	ok("{\"architectures\": [\"Qwen2ForCausalLM\"], \"bos_token_id\": 151643,"
	   " \"eos_token_id\": 151645, \"hidden_size\": 3584, \"intermediate_size\": 18944,"
	   " \"max_position_embeddings\": 32768, \"model_type\": \"qwen2\","
	   " \"num_attention_heads\": 28, \"num_hidden_layers\": 28, \"num_key_value_heads\": 4,"
	   " \"rms_norm_eps\": 1e-06, \"rope_theta\": 1000000.0, \"vocab_size\": 152064,"
	   " \"rope_scaling\": {\"factor\": 4.0, \"original_max_position_embeddings\": 32768,"
	   " \"type\": \"yarn\"}, \"tie_word_embeddings\": false}", &hp);
	assert_int_equal(hp.rope.type, QK_ROPE_YARN);
	NEAR(hp.rope.factor, 4.0);             /* explicit factor wins (not 32768/32768) */
	assert_int_equal(hp.rope.original_ctx, 32768);
	NEAR(hp.rope.beta_fast, 32.0);
	NEAR(hp.rope.beta_slow, 1.0);
	assert_true(hp.rope.attention_factor == 0.0);
	assert_true(hp.rope.truncate);
	NEAR(hp.rope_theta, 1e6);
	assert_int_equal(hp.n_vocab, 152064);
	assert_int_equal(hp.eos_token_id, 151645);
}

static const char qwen3_06b[] =
	"{\"architectures\": [\"Qwen3ForCausalLM\"], \"attention_bias\": false,"
	" \"attention_dropout\": 0.0, \"bos_token_id\": 151643, \"eos_token_id\": 151645,"
	" \"head_dim\": 128, \"hidden_act\": \"silu\", \"hidden_size\": 1024,"
	" \"initializer_range\": 0.02, \"intermediate_size\": 3072,"
	" \"max_position_embeddings\": 40960, \"max_window_layers\": 28, \"model_type\": \"qwen3\","
	" \"num_attention_heads\": 16, \"num_hidden_layers\": 28, \"num_key_value_heads\": 8,"
	" \"rms_norm_eps\": 1e-06, \"rope_scaling\": null, \"rope_theta\": 1000000,"
	" \"sliding_window\": null, \"tie_word_embeddings\": true, \"torch_dtype\": \"bfloat16\","
	" \"use_cache\": true, \"use_sliding_window\": false, \"vocab_size\": 151936}";

static void test_qwen3_06b(void **state)
{
	struct qk_hparams hp;

	(void)state;
	ok(qwen3_06b, &hp);
	assert_int_equal(hp.arch, QK_ARCH_QWEN3);
	assert_int_equal(hp.n_embd, 1024);
	assert_int_equal(hp.n_head, 16);
	assert_int_equal(hp.n_head_kv, 8);
	assert_int_equal(hp.head_dim, 128);        /* not 1024 / 16 = 64 */
	assert_int_equal(hp.n_rot, 128);
	assert_int_equal(hp.n_ff, 3072);
	assert_int_equal(hp.n_layer, 28);
	assert_true(hp.qk_norm);
	assert_false(hp.attn_bias);
	assert_true(hp.tie_word_embeddings);
	assert_int_equal(hp.rope.type, QK_ROPE_DEFAULT);
	NEAR(hp.rope_theta, 1e6);
}

static const char qwen3_30b_a3b[] =
	"{\"architectures\": [\"Qwen3MoeForCausalLM\"], \"attention_bias\": false,"
	" \"attention_dropout\": 0.0, \"bos_token_id\": 151643, \"decoder_sparse_step\": 1,"
	" \"eos_token_id\": 151645, \"head_dim\": 128, \"hidden_act\": \"silu\","
	" \"hidden_size\": 2048, \"initializer_range\": 0.02, \"intermediate_size\": 6144,"
	" \"max_position_embeddings\": 40960, \"max_window_layers\": 48, \"mlp_only_layers\": [],"
	" \"model_type\": \"qwen3_moe\", \"moe_intermediate_size\": 768, \"norm_topk_prob\": true,"
	" \"num_attention_heads\": 32, \"num_experts\": 128, \"num_experts_per_tok\": 8,"
	" \"num_hidden_layers\": 48, \"num_key_value_heads\": 4, \"output_router_logits\": false,"
	" \"rms_norm_eps\": 1e-06, \"rope_scaling\": null, \"rope_theta\": 1000000.0,"
	" \"router_aux_loss_coef\": 0.001, \"sliding_window\": null,"
	" \"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\", \"use_cache\": true,"
	" \"use_sliding_window\": false, \"vocab_size\": 151936}";

static void test_qwen3_30b_a3b(void **state)
{
	struct qk_hparams hp;

	(void)state;
	ok(qwen3_30b_a3b, &hp);
	assert_int_equal(hp.arch, QK_ARCH_QWEN3MOE);
	assert_int_equal(hp.n_embd, 2048);
	assert_int_equal(hp.n_layer, 48);
	assert_int_equal(hp.n_head, 32);
	assert_int_equal(hp.n_head_kv, 4);
	assert_int_equal(hp.head_dim, 128);
	assert_int_equal(hp.n_expert, 128);
	assert_int_equal(hp.n_expert_used, 8);
	assert_int_equal(hp.n_ff_exp, 768);
	assert_int_equal(hp.n_ff_shexp, 0);        /* no shared expert */
	assert_true(hp.norm_topk_prob);
	assert_true(hp.qk_norm);
	assert_false(hp.attn_bias);
	assert_int_equal(count_flags(&hp, QK_LAYER_MOE), 48);
}

/* 36 Gated DeltaNet + 12 full-attention layers, every 4th full */
#define LT4 "\"linear_attention\", \"linear_attention\", \"linear_attention\", \"full_attention\""
#define LT48 LT4 "," LT4 "," LT4 "," LT4 "," LT4 "," LT4 "," LT4 "," LT4 "," LT4 "," LT4 "," \
	LT4 "," LT4

static const char qwen3_next_80b[] =
	"{\"architectures\": [\"Qwen3NextForCausalLM\"], \"attention_bias\": false,"
	" \"attention_dropout\": 0.0, \"bos_token_id\": 151643, \"decoder_sparse_step\": 1,"
	" \"eos_token_id\": 151645, \"full_attention_interval\": 4, \"head_dim\": 256,"
	" \"hidden_act\": \"silu\", \"hidden_size\": 2048, \"initializer_range\": 0.02,"
	" \"intermediate_size\": 5120, \"layer_types\": [" LT48 "],"
	" \"linear_conv_kernel_dim\": 4, \"linear_key_head_dim\": 128,"
	" \"linear_num_key_heads\": 16, \"linear_num_value_heads\": 32,"
	" \"linear_value_head_dim\": 128, \"max_position_embeddings\": 262144,"
	" \"mlp_only_layers\": [], \"model_type\": \"qwen3_next\", \"moe_intermediate_size\": 512,"
	" \"mtp_num_hidden_layers\": 1, \"mtp_use_dedicated_embeddings\": false,"
	" \"norm_topk_prob\": true, \"num_attention_heads\": 16, \"num_experts\": 512,"
	" \"num_experts_per_tok\": 10, \"num_hidden_layers\": 48, \"num_key_value_heads\": 2,"
	" \"output_router_logits\": false, \"partial_rotary_factor\": 0.25,"
	" \"rms_norm_eps\": 1e-06, \"rope_scaling\": null, \"rope_theta\": 10000000,"
	" \"router_aux_loss_coef\": 0.001, \"shared_expert_intermediate_size\": 512,"
	" \"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\", \"use_cache\": true,"
	" \"vocab_size\": 151936}";

static void test_qwen3_next_80b(void **state)
{
	struct qk_hparams hp;

	(void)state;
	ok(qwen3_next_80b, &hp);
	assert_int_equal(hp.arch, QK_ARCH_QWEN3NEXT);
	assert_int_equal(hp.n_embd, 2048);
	assert_int_equal(hp.n_layer, 48);
	assert_int_equal(hp.n_head, 16);
	assert_int_equal(hp.n_head_kv, 2);
	assert_int_equal(hp.head_dim, 256);
	NEAR(hp.partial_rotary_factor, 0.25);
	assert_int_equal(hp.n_rot, 64);            /* "partial rotary 64/256" */
	assert_int_equal(hp.n_ff, 5120);
	assert_int_equal(hp.n_expert, 512);
	assert_int_equal(hp.n_expert_used, 10);
	assert_int_equal(hp.n_ff_exp, 512);
	assert_int_equal(hp.n_ff_shexp, 512);
	assert_true(hp.norm_topk_prob);
	assert_int_equal(hp.ssm_d_conv, 4);
	assert_int_equal(hp.ssm_n_k_heads, 16);
	assert_int_equal(hp.ssm_n_v_heads, 32);
	assert_int_equal(hp.ssm_head_k_dim, 128);
	assert_int_equal(hp.ssm_head_v_dim, 128);
	assert_int_equal(hp.n_mtp_layers, 1);
	assert_int_equal(hp.full_attention_interval, 4);
	assert_int_equal(hp.n_ctx_train, 262144);
	NEAR(hp.rope_theta, 1e7);
	assert_true(hp.qk_norm && hp.zero_centred_norm && hp.attn_output_gate);
	assert_false(hp.attn_bias);
	/* layers 3, 7, ..., 47 are full attention: 12 of them */
	assert_int_equal(count_flags(&hp, QK_LAYER_LINEAR), 36);
	for (unsigned i = 0; i < 48; i++)
		assert_int_equal(!(hp.layer_flags[i] & QK_LAYER_LINEAR), i % 4 == 3);
	assert_int_equal(count_flags(&hp, QK_LAYER_MOE), 48);
}

/* ---- defaults when keys are missing ---- */

#define DIMS "\"vocab_size\": 1000, \"hidden_size\": 64, \"num_hidden_layers\": 4," \
	" \"num_attention_heads\": 4"

static void test_defaults_dense(void **state)
{
	struct qk_hparams hp;

	(void)state;
	ok("{\"architectures\": [\"Qwen2ForCausalLM\"], " DIMS ", \"intermediate_size\": 96}", &hp);
	assert_int_equal(hp.n_head_kv, 4);
	assert_int_equal(hp.head_dim, 16);
	assert_int_equal(hp.n_ctx_train, 32768);
	NEAR(hp.norm_eps, 1e-6);
	NEAR(hp.rope_theta, 10000.0);
	assert_false(hp.tie_word_embeddings);
	assert_true(hp.attn_bias);
	assert_true(hp.bos_token_id == -1 && hp.eos_token_id == -1);

	/* Qwen3Config's head_dim defaults to 128, whatever hidden / heads is */
	ok("{\"model_type\": \"qwen3\", " DIMS ", \"intermediate_size\": 96}", &hp);
	assert_int_equal(hp.arch, QK_ARCH_QWEN3);
	assert_int_equal(hp.head_dim, 128);
	assert_false(hp.attn_bias);
	assert_true(hp.qk_norm);
	ok("{\"model_type\": \"qwen3\", " DIMS ", \"intermediate_size\": 96,"
	   " \"attention_bias\": true}", &hp);
	assert_true(hp.attn_bias);

	/* Qwen1: QWenConfig defaults; seq_length is needed by NTK and logn */
	ok("{\"architectures\": [\"QWenLMHeadModel\"], \"vocab_size\": 1000, \"hidden_size\": 256,"
	   " \"num_hidden_layers\": 2, \"num_attention_heads\": 2, \"intermediate_size\": 96,"
	   " \"seq_length\": 2048}", &hp);
	assert_int_equal(hp.head_dim, 128);
	assert_int_equal(hp.n_ctx_train, 8192);
	assert_true(hp.use_dynamic_ntk && hp.use_logn_attn);
	assert_int_equal(hp.seq_length, 2048);
	assert_int_equal(hp.n_ff, 48);
	ok("{\"architectures\": [\"QWenLMHeadModel\"], \"vocab_size\": 1000, \"hidden_size\": 256,"
	   " \"num_hidden_layers\": 2, \"num_attention_heads\": 2, \"intermediate_size\": 96,"
	   " \"rotary_pct\": 0.5, \"use_dynamic_ntk\": false, \"use_logn_attn\": false}", &hp);
	assert_int_equal(hp.n_rot, 64);
	assert_int_equal(hp.seq_length, 8192);   /* unused: both features off */
}

static void test_defaults_moe(void **state)
{
	struct qk_hparams hp;

	(void)state;
	ok("{\"architectures\": [\"Qwen2MoeForCausalLM\"], " DIMS "}", &hp);
	assert_int_equal(hp.n_expert, 60);
	assert_int_equal(hp.n_expert_used, 4);
	assert_int_equal(hp.n_ff_exp, 1408);
	assert_int_equal(hp.n_ff_shexp, 5632);
	assert_int_equal(hp.n_ff, 5632);
	assert_false(hp.norm_topk_prob);
	assert_true(hp.attn_bias);
	assert_int_equal(hp.decoder_sparse_step, 1);

	ok("{\"architectures\": [\"Qwen3MoeForCausalLM\"], " DIMS "}", &hp);
	assert_int_equal(hp.n_expert, 128);
	assert_int_equal(hp.n_expert_used, 8);
	assert_int_equal(hp.n_ff_exp, 768);
	assert_int_equal(hp.n_ff_shexp, 0);
	assert_int_equal(hp.n_ff, 6144);
	assert_false(hp.norm_topk_prob);           /* the class default, unlike the releases */
	assert_int_equal(hp.head_dim, 16);         /* no class head_dim: hidden / heads */

	ok("{\"architectures\": [\"Qwen3NextForCausalLM\"], " DIMS "}", &hp);
	assert_int_equal(hp.n_expert, 512);
	assert_int_equal(hp.n_expert_used, 10);
	assert_int_equal(hp.n_ff_exp, 512);
	assert_int_equal(hp.n_ff_shexp, 512);
	assert_int_equal(hp.n_ff, 5632);
	assert_true(hp.norm_topk_prob);
	assert_int_equal(hp.head_dim, 256);
	assert_int_equal(hp.n_rot, 64);
	assert_int_equal(hp.full_attention_interval, 4);
	assert_int_equal(hp.ssm_d_conv, 4);
	assert_int_equal(hp.ssm_n_k_heads, 16);
	assert_int_equal(hp.ssm_n_v_heads, 32);
	assert_int_equal(hp.ssm_head_k_dim, 128);
	assert_int_equal(hp.ssm_head_v_dim, 128);
	assert_int_equal(hp.n_mtp_layers, 0);
	assert_int_equal(hp.layer_flags[3], QK_LAYER_MOE);
	assert_int_equal(hp.layer_flags[0], QK_LAYER_MOE | QK_LAYER_LINEAR);

	/* num_local_experts is the attribute Qwen3MoeConfig maps num_experts to */
	ok("{\"architectures\": [\"Qwen3MoeForCausalLM\"], " DIMS ", \"num_local_experts\": 16}",
	   &hp);
	assert_int_equal(hp.n_expert, 16);
}

static void test_sparse_layer_rule(void **state)
{
	struct qk_hparams hp;

	(void)state;
	/* sparse iff not in mlp_only_layers and (i+1) % step == 0 */
	ok("{\"architectures\": [\"Qwen3MoeForCausalLM\"], \"vocab_size\": 1000,"
	   " \"hidden_size\": 64, \"num_hidden_layers\": 8, \"num_attention_heads\": 4,"
	   " \"decoder_sparse_step\": 2, \"mlp_only_layers\": [3, 4]}", &hp);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(hp.layer_flags[i], (i == 1 || i == 5 || i == 7) ? QK_LAYER_MOE : 0);
	ok("{\"architectures\": [\"Qwen3NextForCausalLM\"], \"vocab_size\": 1000,"
	   " \"hidden_size\": 64, \"num_hidden_layers\": 6, \"num_attention_heads\": 4,"
	   " \"full_attention_interval\": 3, \"mlp_only_layers\": [0]}", &hp);
	assert_int_equal(hp.full_attention_interval, 3);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(hp.layer_flags[i], (i ? QK_LAYER_MOE : 0) |
					    (i == 2 || i == 5 ? 0 : QK_LAYER_LINEAR));
	/* explicit kinds with no periodic pattern: interval 0; legacy names */
	ok("{\"architectures\": [\"Qwen3NextForCausalLM\"], \"vocab_size\": 1000,"
	   " \"hidden_size\": 64, \"num_hidden_layers\": 3, \"num_attention_heads\": 4,"
	   " \"layer_types\": [\"attention\", \"mamba\", \"full_attention\"]}", &hp);
	assert_int_equal(hp.full_attention_interval, 0);
	assert_int_equal(count_flags(&hp, QK_LAYER_LINEAR), 1);
	assert_true(hp.layer_flags[1] & QK_LAYER_LINEAR);
}

static void test_rope_variants(void **state)
{
	struct qk_hparams hp;

	(void)state;
	/* transformers 5.x: everything in rope_parameters; missing original
	 * length = max_position_embeddings */
	ok("{\"architectures\": [\"Qwen3ForCausalLM\"], " DIMS ", \"intermediate_size\": 96,"
	   " \"max_position_embeddings\": 131072, \"rope_parameters\": {\"rope_type\": \"yarn\","
	   " \"factor\": 4.0, \"rope_theta\": 1000000.0, \"beta_fast\": 16, \"beta_slow\": 2,"
	   " \"attention_factor\": 1.25, \"truncate\": false}}", &hp);
	assert_int_equal(hp.rope.type, QK_ROPE_YARN);
	NEAR(hp.rope.factor, 4.0);
	assert_int_equal(hp.rope.original_ctx, 131072);
	NEAR(hp.rope_theta, 1e6);
	NEAR(hp.rope.beta_fast, 16.0);
	NEAR(hp.rope.beta_slow, 2.0);
	NEAR(hp.rope.attention_factor, 1.25);
	assert_false(hp.rope.truncate);
	/* yarn without factor: max_position_embeddings / original */
	ok("{\"architectures\": [\"Qwen2ForCausalLM\"], " DIMS ", \"intermediate_size\": 96,"
	   " \"max_position_embeddings\": 131072, \"rope_scaling\": {\"rope_type\": \"yarn\","
	   " \"original_max_position_embeddings\": 32768}}", &hp);
	NEAR(hp.rope.factor, 4.0);
	assert_int_equal(hp.rope.original_ctx, 32768);
	/* rope_type wins over type; linear and dynamic need a factor */
	ok("{\"architectures\": [\"Qwen2ForCausalLM\"], " DIMS ", \"intermediate_size\": 96,"
	   " \"rope_scaling\": {\"rope_type\": \"linear\", \"type\": \"yarn\", \"factor\": 2}}",
	   &hp);
	assert_int_equal(hp.rope.type, QK_ROPE_LINEAR);
	NEAR(hp.rope.factor, 2.0);
	ok("{\"architectures\": [\"Qwen2ForCausalLM\"], " DIMS ", \"intermediate_size\": 96,"
	   " \"rope_scaling\": {\"type\": \"dynamic\", \"factor\": 1.5}}", &hp);
	assert_int_equal(hp.rope.type, QK_ROPE_DYNAMIC);
	NEAR(hp.rope.factor, 1.5);
	/* partial_rotary_factor and rope_theta inside the dict */
	ok("{\"architectures\": [\"Qwen3NextForCausalLM\"], " DIMS ", \"head_dim\": 64,"
	   " \"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 5000000,"
	   " \"partial_rotary_factor\": 0.5}}", &hp);
	assert_int_equal(hp.n_rot, 32);
	NEAR(hp.rope_theta, 5e6);
}

static void test_merge_and_tokens(void **state)
{
	struct qk_hparams hp;

	(void)state;
	/* text_config wins over the top level, as in llama.cpp's merge */
	ok("{\"architectures\": [\"SomeVLModel\"], \"hidden_size\": 8,"
	   " \"text_config\": {\"architectures\": [\"Qwen2ForCausalLM\"], " DIMS ","
	   " \"intermediate_size\": 96}, \"intermediate_size\": 7}", &hp);
	assert_int_equal(hp.arch, QK_ARCH_QWEN2);
	assert_int_equal(hp.n_embd, 64);
	assert_int_equal(hp.n_ff, 96);
	/* eos as a list: the first id; null keys are absent */
	ok("{\"architectures\": [\"Qwen2Model\"], " DIMS ", \"intermediate_size\": 96,"
	   " \"eos_token_id\": [151645, 151643], \"bos_token_id\": null,"
	   " \"pad_token_id\": 151643, \"num_key_value_heads\": null}", &hp);
	assert_int_equal(hp.arch, QK_ARCH_QWEN2);
	assert_int_equal(hp.eos_token_id, 151645);
	assert_int_equal(hp.bos_token_id, -1);
	assert_int_equal(hp.pad_token_id, 151643);
	assert_int_equal(hp.n_head_kv, 4);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(qk_arch_gguf_name(QK_ARCH_QWEN2MOE), "qwen2moe");
	assert_string_equal(qk_arch_hf_name(QK_ARCH_QWEN3NEXT), "Qwen3NextForCausalLM");
	assert_string_equal(qk_arch_model_type(QK_ARCH_QWEN3MOE), "qwen3_moe");
	assert_string_equal(qk_arch_generation(QK_ARCH_QWEN2MOE), "Qwen2-MoE");
	assert_int_equal(qk_arch_from_gguf("qwen3next"), QK_ARCH_QWEN3NEXT);
	assert_int_equal(qk_arch_from_gguf("llama"), -1);
	assert_int_equal(qk_arch_from_hf("QWenLMHeadModel"), QK_ARCH_QWEN);
	assert_int_equal(qk_arch_from_hf("Qwen3Model"), QK_ARCH_QWEN3);
	assert_int_equal(qk_arch_from_model_type("qwen2_moe"), QK_ARCH_QWEN2MOE);
	assert_null(qk_arch_gguf_name(QK_ARCH_COUNT));
	assert_null(qk_arch_hf_name(-1));
	assert_string_equal(qk_rope_type_name(QK_ROPE_YARN), "yarn");
	assert_null(qk_rope_type_name(7));
}

/* ---- errors ---- */

#define Q2 "{\"architectures\": [\"Qwen2ForCausalLM\"], "

static void test_errors_syntax(void **state)
{
	struct qk_hparams hp;
	qk_err e;

	(void)state;
	fails("{\"a\": 1,\n  ,}", QK_E_INVALID, "config.json: invalid JSON at byte 11 (line 2, column 3): ',' where a key in quotes was expected");
	fails("{} x", QK_E_INVALID, "unexpected text after the JSON value at byte 3 (line 1, column 4)");
	fails("[1, 2]", QK_E_INVALID, "config.json: top level is an array, expected a JSON object");
	fails("", QK_E_INVALID, "file is empty");
	fails("\xff{}", QK_E_INVALID, "not valid UTF-8");
	assert_int_equal(qk_hparams_from_config(&hp, "{}\0{}", 5, "c.json", &e), QK_E_INVALID);
	assert_non_null(strstr(e.msg, "c.json: control byte 0x00 at byte 2 (line 1, column 3): outside any JSON string"));
	fails(Q2 DIMS ", \"intermediate_size\": 96, \"hidden_size\": 64}", QK_E_INVALID,
	      "config.json: key 'hidden_size' appears twice in the top-level object");
	fails(Q2 DIMS ", \"intermediate_size\": 96, \"text_config\": 3}", QK_E_INVALID,
	      "'text_config' is 3, expected an object");
}

static void test_errors_arch(void **state)
{
	(void)state;
	fails("{\"architectures\": [\"LlamaForCausalLM\"]}", QK_E_UNSUPPORTED,
	      "config.json: architecture \"LlamaForCausalLM\" is not supported; supported: "
	      "QWenLMHeadModel, Qwen2ForCausalLM, Qwen2MoeForCausalLM, Qwen3ForCausalLM, "
	      "Qwen3MoeForCausalLM, Qwen3NextForCausalLM");
	fails("{\"model_type\": \"llama\"}", QK_E_UNSUPPORTED, "model_type \"llama\" is not supported");
	fails("{\"hidden_size\": 4}", QK_E_INVALID, "neither 'architectures' nor 'model_type'");
	fails("{\"architectures\": \"Qwen2ForCausalLM\"}", QK_E_INVALID,
	      "'architectures' is \"Qwen2ForCausalLM\", expected a list of class names");
	fails("{\"architectures\": [7]}", QK_E_INVALID, "'architectures[0]' is 7");
}

static void test_errors_values(void **state)
{
	(void)state;
	fails(Q2 "\"vocab_size\": 10, \"num_hidden_layers\": 2, \"num_attention_heads\": 2,"
	      " \"intermediate_size\": 8}", QK_E_INVALID, "config.json: missing required key "
	      "'hidden_size' (an integer in 1..4294967295)");
	fails(Q2 DIMS ", \"intermediate_size\": -4}", QK_E_INVALID,
	      "'intermediate_size' is -4, expected an integer in 1..4294967295");
	fails(Q2 "\"vocab_size\": 10, \"hidden_size\": 64, \"num_hidden_layers\": 2,"
	      " \"num_attention_heads\": 0, \"intermediate_size\": 8}", QK_E_INVALID,
	      "'num_attention_heads' is 0, expected an integer in 1..4294967295");
	fails(Q2 DIMS ", \"intermediate_size\": 96.5}", QK_E_INVALID,
	      "'intermediate_size' is 96.5, expected an integer");
	fails(Q2 DIMS ", \"intermediate_size\": 4294967296}", QK_E_INVALID,
	      "'intermediate_size' is 4294967296, expected an integer in 1..4294967295");
	fails(Q2 DIMS ", \"intermediate_size\": 1e400}", QK_E_INVALID,
	      "'intermediate_size' is a number too large to represent");
	fails(Q2 DIMS ", \"intermediate_size\": \"96\"}", QK_E_INVALID,
	      "'intermediate_size' is \"96\", expected an integer");
	fails(Q2 DIMS ", \"intermediate_size\": true}", QK_E_INVALID,
	      "'intermediate_size' is true, expected an integer");
	fails(Q2 "\"vocab_size\": 10, \"hidden_size\": 64, \"num_hidden_layers\": 513,"
	      " \"num_attention_heads\": 2, \"intermediate_size\": 8}", QK_E_INVALID,
	      "'num_hidden_layers' is 513, expected an integer in 1..512");
	fails(Q2 DIMS ", \"intermediate_size\": 96, \"tie_word_embeddings\": \"yes\"}",
	      QK_E_INVALID, "'tie_word_embeddings' is \"yes\", expected true or false");
	fails(Q2 DIMS ", \"intermediate_size\": 96, \"rms_norm_eps\": 0}", QK_E_INVALID,
	      "'rms_norm_eps' is 0, expected a number in (0, 1]");
	fails(Q2 DIMS ", \"intermediate_size\": 96, \"rope_theta\": -1}", QK_E_INVALID,
	      "'rope_theta' is -1, expected a number > 0");
	fails(Q2 DIMS ", \"intermediate_size\": 96, \"eos_token_id\": [-1]}", QK_E_INVALID,
	      "'eos_token_id[0]' is -1, expected an integer in 0..2147483647");
	fails("{\"architectures\": [\"Qwen2ForCausalLM\"], \"text_config\": {" DIMS ","
	      " \"intermediate_size\": 0}}", QK_E_INVALID,
	      "'text_config.intermediate_size' is 0");
}

static void test_errors_shapes(void **state)
{
	(void)state;
	fails(Q2 "\"vocab_size\": 10, \"hidden_size\": 64, \"num_hidden_layers\": 2,"
	      " \"num_attention_heads\": 6, \"intermediate_size\": 8}", QK_E_INVALID,
	      "'num_attention_heads' 6 does not divide 'hidden_size' 64 and there is no 'head_dim'");
	fails(Q2 DIMS ", \"intermediate_size\": 96, \"num_key_value_heads\": 3}", QK_E_INVALID,
	      "'num_key_value_heads' 3 does not divide 'num_attention_heads' 4");
	fails("{\"architectures\": [\"QWenLMHeadModel\"], " DIMS ", \"intermediate_size\": 96,"
	      " \"seq_length\": 8}", QK_E_INVALID,
	      "'kv_channels' 128 x 'num_attention_heads' 4 = 512, expected 'hidden_size' 64");
	fails("{\"architectures\": [\"QWenLMHeadModel\"], " DIMS ", \"intermediate_size\": 97,"
	      " \"kv_channels\": 16, \"seq_length\": 8}", QK_E_INVALID,
	      "'intermediate_size' 97 is odd");
	fails("{\"architectures\": [\"QWenLMHeadModel\"], " DIMS ", \"intermediate_size\": 96,"
	      " \"kv_channels\": 16}", QK_E_INVALID, "missing required key 'seq_length'");
	fails("{\"architectures\": [\"Qwen3ForCausalLM\"], " DIMS ", \"intermediate_size\": 96,"
	      " \"head_dim\": 10, \"partial_rotary_factor\": 0.5}", QK_E_INVALID,
	      "rotary width head_dim 10 x partial_rotary_factor 0.5 = 5, expected an even number");
	fails("{\"architectures\": [\"Qwen3NextForCausalLM\"], " DIMS ","
	      " \"layer_types\": [\"full_attention\"]}", QK_E_INVALID,
	      "'layer_types' has 1 entries, expected one per layer ('num_hidden_layers' 4)");
	fails("{\"architectures\": [\"Qwen3NextForCausalLM\"], " DIMS ", \"layer_types\":"
	      " [\"full_attention\", \"sliding_attention\", \"full_attention\", \"full_attention\"]}",
	      QK_E_INVALID, "'layer_types[1]' is \"sliding_attention\", expected "
	      "\"linear_attention\" or \"full_attention\"");
	fails("{\"architectures\": [\"Qwen3NextForCausalLM\"], " DIMS ","
	      " \"linear_num_key_heads\": 3}", QK_E_INVALID,
	      "'linear_num_value_heads' 32 is not a multiple of 'linear_num_key_heads' 3");
	fails("{\"architectures\": [\"Qwen3MoeForCausalLM\"], " DIMS ", \"mlp_only_layers\": [1, 4]}",
	      QK_E_INVALID, "'mlp_only_layers[1]' is 4, expected an integer in 0..3");
	fails("{\"architectures\": [\"Qwen3MoeForCausalLM\"], " DIMS ", \"mlp_only_layers\": 1}",
	      QK_E_INVALID, "'mlp_only_layers' is 1, expected a list of layer indices");
	fails("{\"architectures\": [\"Qwen3MoeForCausalLM\"], " DIMS ", \"num_experts\": 8,"
	      " \"num_experts_per_tok\": 9}", QK_E_INVALID,
	      "'num_experts_per_tok' 9 is more than 'num_experts' 8");
	fails("{\"architectures\": [\"Qwen3MoeForCausalLM\"], " DIMS ", \"num_experts\": 4097}",
	      QK_E_INVALID, "'num_experts' is 4097, expected an integer in 1..4096");
	fails("{\"architectures\": [\"Qwen3MoeForCausalLM\"], " DIMS ", \"decoder_sparse_step\": 0}",
	      QK_E_INVALID, "'decoder_sparse_step' is 0, expected an integer in 1..");
}

static void test_errors_rope(void **state)
{
	(void)state;
	fails(Q2 DIMS ", \"intermediate_size\": 96, \"rope_scaling\": {\"type\": \"longrope\","
	      " \"factor\": 4}}", QK_E_UNSUPPORTED, "config.json: 'rope_scaling.type' \"longrope\" "
	      "is not supported, expected default, linear, dynamic or yarn");
	fails(Q2 DIMS ", \"intermediate_size\": 96, \"rope_parameters\": {\"rope_type\": \"llama3\"}}",
	      QK_E_UNSUPPORTED, "'rope_parameters.rope_type' \"llama3\" is not supported");
	fails(Q2 DIMS ", \"intermediate_size\": 96, \"rope_scaling\": {\"type\": \"yarn\","
	      " \"factor\": 0.5}}", QK_E_INVALID, "'rope_scaling.factor' is 0.5, expected a number >= 1");
	fails(Q2 DIMS ", \"intermediate_size\": 96, \"rope_scaling\": {\"type\": \"linear\"}}",
	      QK_E_INVALID, "missing required key 'rope_scaling.factor'");
	fails(Q2 DIMS ", \"intermediate_size\": 96, \"rope_scaling\": {\"type\": \"yarn\"}}",
	      QK_E_INVALID, "missing required key 'rope_scaling.factor' (a number >= 1, or "
	      "original_max_position_embeddings");
	fails(Q2 DIMS ", \"intermediate_size\": 96, \"rope_scaling\": {\"type\": \"yarn\","
	      " \"original_max_position_embeddings\": 65536}}", QK_E_INVALID,
	      "yarn factor derived from max_position_embeddings 32768 / "
	      "'rope_scaling.original_max_position_embeddings' 65536 is 0.5, expected >= 1");
	fails(Q2 DIMS ", \"intermediate_size\": 96, \"rope_scaling\": [1]}", QK_E_INVALID,
	      "'rope_scaling' is an array, expected an object or null");
	fails(Q2 DIMS ", \"intermediate_size\": 96, \"rope_parameters\": {\"full_attention\":"
	      " {\"rope_type\": \"default\"}}}", QK_E_UNSUPPORTED,
	      "'rope_parameters.full_attention' is an object");
	fails(Q2 DIMS ", \"intermediate_size\": 96, \"rope_scaling\": {\"type\": 2}}", QK_E_INVALID,
	      "'rope_scaling.type' is 2, expected default, linear, dynamic or yarn");
}

static void test_load_config_dir(void **state)
{
	char dir[] = "/tmp/qk_cfg_XXXXXX", path[64];
	struct qk_hparams hp;
	qk_err e;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(qk_hparams_load_config(&hp, dir, &e), QK_E_IO);
	assert_non_null(strstr(e.msg, "config.json"));
	snprintf(path, sizeof(path), "%s/config.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(qwen3_06b, f);
	fclose(f);
	assert_int_equal(qk_hparams_load_config(&hp, dir, &e), QK_OK);
	assert_int_equal(hp.head_dim, 128);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"architectures\": [\"Qwen3ForCausalLM\"]}", f);
	fclose(f);
	assert_int_equal(qk_hparams_load_config(&hp, dir, &e), QK_E_INVALID);
	assert_non_null(strstr(e.msg, "/config.json: missing required key 'vocab_size'"));
	unlink(path);
	rmdir(dir);
}

/* QK_WRITE_CORPUS=DIR ./test_config writes the realistic configs above as
 * the fuzz seed corpus (tests/fuzz/corpus/config/). */
static void write_corpus(const char *dir)
{
	static const struct {
		const char *name, *text;
	} seeds[] = {
		{ "qwen_7b.json", qwen_7b },
		{ "qwen15_moe_a27b.json", qwen15_moe_a27b },
		{ "qwen25_05b.json", qwen25_05b },
		{ "qwen3_06b.json", qwen3_06b },
		{ "qwen3_30b_a3b.json", qwen3_30b_a3b },
		{ "qwen3_next_80b.json", qwen3_next_80b },
		{ "qwen2_yarn_rope_parameters.json",
		  "{\"model_type\": \"qwen2\", \"vocab_size\": 1000, \"hidden_size\": 64,"
		  " \"num_hidden_layers\": 4, \"num_attention_heads\": 4, \"intermediate_size\": 96,"
		  " \"text_config\": {\"num_key_value_heads\": 2}, \"eos_token_id\": [2, 3],"
		  " \"rope_parameters\": {\"rope_type\": \"yarn\", \"factor\": 4.0,"
		  " \"rope_theta\": 1000000.0, \"beta_fast\": 32, \"truncate\": false}}" },
		{ "qwen3moe_sparse_step.json",
		  "{\"architectures\": [\"Qwen3MoeForCausalLM\"], \"vocab_size\": 1000,"
		  " \"hidden_size\": 64, \"num_hidden_layers\": 8, \"num_attention_heads\": 4,"
		  " \"decoder_sparse_step\": 2, \"mlp_only_layers\": [3, 4]}" },
	};
	char path[4096];

	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, seeds[i].name);
		f = fopen(path, "w");
		if (!f || fputs(seeds[i].text, f) < 0 || fclose(f)) {
			fprintf(stderr, "test_config: cannot write %s\n", path);
			exit(1);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qwen1_7b),
		cmocka_unit_test(test_qwen1_72b_shape),
		cmocka_unit_test(test_qwen15_moe),
		cmocka_unit_test(test_qwen2_57b_a14b),
		cmocka_unit_test(test_qwen25_tied),
		cmocka_unit_test(test_qwen25_yarn),
		cmocka_unit_test(test_qwen3_06b),
		cmocka_unit_test(test_qwen3_30b_a3b),
		cmocka_unit_test(test_qwen3_next_80b),
		cmocka_unit_test(test_defaults_dense),
		cmocka_unit_test(test_defaults_moe),
		cmocka_unit_test(test_sparse_layer_rule),
		cmocka_unit_test(test_rope_variants),
		cmocka_unit_test(test_merge_and_tokens),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_errors_syntax),
		cmocka_unit_test(test_errors_arch),
		cmocka_unit_test(test_errors_values),
		cmocka_unit_test(test_errors_shapes),
		cmocka_unit_test(test_errors_rope),
		cmocka_unit_test(test_load_config_dir),
	};
	const char *corpus = getenv("QK_WRITE_CORPUS");

	if (corpus)
		write_corpus(corpus);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
