/* test_gguf_hparams.c - GGUF key/values -> hyperparameters.
 *
 * Each test writes a GGUF holding the keys llama.cpp's converter writes for a
 * Qwen generation (convert_hf_to_gguf.py's set_gguf_parameters of each Qwen
 * class, values as in a Qwen3-235B-A22B GGUF key dump) and checks the
 * fields against those numbers and llama.cpp's runtime defaults (§5).
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

#include "../../formats/container/gguf.h"
#include "../../formats/model/hparams.h"

static char g_path[64];

static struct gf_writer *begin(const char *arch)
{
	struct gf_writer *w = NULL;
	qk_err e;
	int fd;

	strcpy(g_path, "/tmp/qk_gh_XXXXXX");
	fd = mkstemp(g_path);
	assert_true(fd >= 0);
	close(fd);
	if (gf_writer_open(&w, g_path, &e))
		print_error("%s\n", e.msg);
	assert_non_null(w);
	if (arch)
		assert_int_equal(gf_writer_add_str(w, "general.architecture", arch, &e), QK_OK);
	return w;
}

static void u32(struct gf_writer *w, const char *key, uint32_t v)
{
	assert_int_equal(gf_writer_add_u32(w, key, v, NULL), QK_OK);
}

static void f32(struct gf_writer *w, const char *key, float v)
{
	assert_int_equal(gf_writer_add_f32(w, key, v, NULL), QK_OK);
}

static void str(struct gf_writer *w, const char *key, const char *v)
{
	assert_int_equal(gf_writer_add_str(w, key, v, NULL), QK_OK);
}

/* commit, reopen, read the hyperparameters */
static int finish(struct gf_writer *w, struct qk_hparams *hp, qk_err *e)
{
	struct gf_file *f = NULL;
	int rc;

	assert_int_equal(gf_writer_commit(w, e), QK_OK);
	assert_int_equal(gf_open(&f, g_path, e), QK_OK);
	qk_err_clear(e);
	rc = qk_hparams_from_gguf(hp, f, e);
	gf_close(f);
	unlink(g_path);
	return rc;
}

static void ok(struct gf_writer *w, struct qk_hparams *hp)
{
	qk_err e;
	int rc = finish(w, hp, &e);

	if (rc)
		print_error("unexpected error: %s\n", e.msg);
	assert_int_equal(rc, QK_OK);
}

static void fails(struct gf_writer *w, int code, const char *frag)
{
	struct qk_hparams hp;
	qk_err e;
	int rc = finish(w, &hp, &e);

	if (rc != code || !strstr(e.msg, frag))
		print_error("got code %d '%s'\nexpected code %d with '%s'\n", rc, e.msg, code, frag);
	assert_int_equal(rc, code);
	assert_non_null(strstr(e.msg, frag));
	assert_int_equal(hp.n_layer, 0);
}

#define NEAR(a, b) assert_true(fabs((double)(a) - (double)(b)) <= 1e-6 * fabs((double)(b)))

static unsigned count_flags(const struct qk_hparams *hp, unsigned flag)
{
	unsigned n = 0;
	for (uint32_t i = 0; i < hp->n_layer; i++)
		n += (hp->layer_flags[i] & flag) != 0;
	return n;
}

/* the generic keys every Qwen GGUF has (§1.0) */
static void dense(struct gf_writer *w, const char *a, uint32_t layers, uint32_t ctx,
		  uint32_t embd, uint32_t ff, uint32_t heads, uint32_t kv)
{
	char k[96];

#define K(s) (snprintf(k, sizeof(k), "%s." s, a), k)
	u32(w, K("block_count"), layers);
	u32(w, K("context_length"), ctx);
	u32(w, K("embedding_length"), embd);
	if (ff)
		u32(w, K("feed_forward_length"), ff);
	u32(w, K("attention.head_count"), heads);
	if (kv)
		u32(w, K("attention.head_count_kv"), kv);
#undef K
}

static void test_qwen3moe_235b(void **state)
{
	struct gf_writer *w = begin("qwen3moe");
	struct qk_hparams hp;

	(void)state;
	dense(w, "qwen3moe", 94, 40960, 4096, 12288, 64, 4);
	f32(w, "qwen3moe.rope.freq_base", 1e6f);
	f32(w, "qwen3moe.attention.layer_norm_rms_epsilon", 1e-6f);
	u32(w, "qwen3moe.expert_used_count", 8);
	u32(w, "qwen3moe.expert_count", 128);
	u32(w, "qwen3moe.expert_feed_forward_length", 1536);
	u32(w, "qwen3moe.attention.key_length", 128);
	u32(w, "qwen3moe.attention.value_length", 128);
	ok(w, &hp);
	assert_int_equal(hp.arch, QK_ARCH_QWEN3MOE);
	assert_int_equal(hp.n_layer, 94);
	assert_int_equal(hp.n_embd, 4096);
	assert_int_equal(hp.n_head, 64);
	assert_int_equal(hp.n_head_kv, 4);
	assert_int_equal(hp.head_dim, 128);        /* key_length, not 4096 / 64 */
	assert_int_equal(hp.n_rot, 128);           /* rope.dimension_count defaults to it */
	NEAR(hp.partial_rotary_factor, 1.0);
	assert_int_equal(hp.n_ff, 12288);
	assert_int_equal(hp.n_expert, 128);
	assert_int_equal(hp.n_expert_used, 8);
	assert_int_equal(hp.n_ff_exp, 1536);
	assert_int_equal(hp.n_ff_shexp, 0);
	assert_true(hp.norm_topk_prob);            /* llama.cpp renormalises for qwen3moe */
	assert_true(hp.qk_norm);
	assert_false(hp.attn_bias);
	NEAR(hp.rope_theta, 1e6);
	NEAR(hp.norm_eps, 1e-6);
	assert_int_equal(hp.rope.type, QK_ROPE_DEFAULT);
	assert_int_equal(count_flags(&hp, QK_LAYER_MOE), 94);
	assert_int_equal(hp.n_vocab, 0);           /* no tokenizer keys */
	assert_true(hp.bos_token_id == -1 && hp.eos_token_id == -1);
}

static void test_qwen3next_80b(void **state)
{
	struct gf_writer *w = begin("qwen3next");
	struct qk_hparams hp;

	(void)state;
	dense(w, "qwen3next", 48, 262144, 2048, 5120, 16, 2);
	f32(w, "qwen3next.rope.freq_base", 1e7f);
	f32(w, "qwen3next.attention.layer_norm_rms_epsilon", 1e-6f);
	u32(w, "qwen3next.expert_count", 512);
	u32(w, "qwen3next.expert_used_count", 10);
	u32(w, "qwen3next.attention.key_length", 256);
	u32(w, "qwen3next.attention.value_length", 256);
	u32(w, "qwen3next.expert_feed_forward_length", 512);
	u32(w, "qwen3next.expert_shared_feed_forward_length", 512);
	u32(w, "qwen3next.ssm.conv_kernel", 4);
	u32(w, "qwen3next.ssm.state_size", 128);
	u32(w, "qwen3next.ssm.group_count", 16);
	u32(w, "qwen3next.ssm.time_step_rank", 32);
	u32(w, "qwen3next.ssm.inner_size", 4096);
	u32(w, "qwen3next.full_attention_interval", 4);
	u32(w, "qwen3next.rope.dimension_count", 64);
	ok(w, &hp);
	assert_int_equal(hp.arch, QK_ARCH_QWEN3NEXT);
	assert_int_equal(hp.head_dim, 256);
	assert_int_equal(hp.n_rot, 64);
	NEAR(hp.partial_rotary_factor, 0.25);
	assert_int_equal(hp.ssm_d_conv, 4);
	assert_int_equal(hp.ssm_head_k_dim, 128);
	assert_int_equal(hp.ssm_head_v_dim, 128);  /* 4096 / 32 */
	assert_int_equal(hp.ssm_n_k_heads, 16);
	assert_int_equal(hp.ssm_n_v_heads, 32);
	assert_int_equal(hp.full_attention_interval, 4);
	assert_int_equal(hp.n_expert, 512);
	assert_int_equal(hp.n_expert_used, 10);
	assert_int_equal(hp.n_ff_exp, 512);
	assert_int_equal(hp.n_ff_shexp, 512);
	assert_true(hp.norm_topk_prob);
	assert_true(hp.qk_norm && hp.zero_centred_norm && hp.attn_output_gate);
	assert_int_equal(hp.n_ctx_train, 262144);
	NEAR(hp.rope_theta, 1e7);
	/* layers 3, 7, ..., 47 full attention */
	assert_int_equal(count_flags(&hp, QK_LAYER_LINEAR), 36);
	for (unsigned i = 0; i < 48; i++)
		assert_int_equal(!(hp.layer_flags[i] & QK_LAYER_LINEAR), i % 4 == 3);
	assert_int_equal(count_flags(&hp, QK_LAYER_MOE), 48);
}

static void test_qwen1_7b(void **state)
{
	struct gf_writer *w = begin("qwen");
	struct qk_hparams hp;

	(void)state;
	/* what current upstream writes: no head_count_kv, the non-RMS eps key */
	dense(w, "qwen", 32, 8192, 4096, 22016, 32, 0);
	f32(w, "qwen.rope.freq_base", 10000.0f);
	f32(w, "qwen.attention.layer_norm_epsilon", 1e-6f);
	u32(w, "general.file_type", 1);
	ok(w, &hp);
	assert_int_equal(hp.arch, QK_ARCH_QWEN);
	assert_int_equal(hp.n_ff_config, 22016);
	assert_int_equal(hp.n_ff, 11008);          /* the runtime halves it */
	assert_int_equal(hp.n_head_kv, 32);
	assert_int_equal(hp.head_dim, 128);
	assert_int_equal(hp.n_rot, 128);
	NEAR(hp.norm_eps, 1e-6);
	assert_true(hp.attn_bias);
	assert_false(hp.use_dynamic_ntk || hp.use_logn_attn);
	assert_int_equal(hp.seq_length, 8192);
	assert_int_equal(hp.n_expert, 0);

	/* our converter's form: the RMS key, which wins */
	w = begin("qwen");
	dense(w, "qwen", 2, 8192, 256, 96, 2, 0);
	f32(w, "qwen.attention.layer_norm_rms_epsilon", 1e-5f);
	f32(w, "qwen.attention.layer_norm_epsilon", 1e-6f);
	ok(w, &hp);
	NEAR(hp.norm_eps, 1e-5);
}

static void test_qwen2_yarn_and_tokens(void **state)
{
	static const char *const toks[] = { "a", "b", "c", "<|endoftext|>", "<|im_end|>" };
	struct gf_writer *w = begin("qwen2");
	struct qk_hparams hp;

	(void)state;
	dense(w, "qwen2", 28, 32768, 3584, 18944, 28, 4);
	f32(w, "qwen2.rope.freq_base", 1e6f);
	f32(w, "qwen2.attention.layer_norm_rms_epsilon", 1e-6f);
	str(w, "qwen2.rope.scaling.type", "yarn");
	f32(w, "qwen2.rope.scaling.factor", 4.0f);
	u32(w, "qwen2.rope.scaling.original_context_length", 32768);
	assert_int_equal(gf_writer_add_arr_str(w, "tokenizer.ggml.tokens", toks, NULL, 5, NULL),
			 QK_OK);
	u32(w, "tokenizer.ggml.bos_token_id", 3);
	u32(w, "tokenizer.ggml.eos_token_id", 4);
	u32(w, "tokenizer.ggml.padding_token_id", 3);
	ok(w, &hp);
	assert_int_equal(hp.arch, QK_ARCH_QWEN2);
	assert_int_equal(hp.head_dim, 128);        /* 3584 / 28 */
	assert_true(hp.attn_bias);
	assert_false(hp.qk_norm);
	assert_int_equal(hp.rope.type, QK_ROPE_YARN);
	NEAR(hp.rope.factor, 4.0);
	assert_int_equal(hp.rope.original_ctx, 32768);
	NEAR(hp.rope.beta_fast, 32.0);
	NEAR(hp.rope.beta_slow, 1.0);
	assert_true(hp.rope.attention_factor == 0.0);
	assert_int_equal(hp.n_vocab, 5);
	assert_int_equal(hp.bos_token_id, 3);
	assert_int_equal(hp.eos_token_id, 4);
	assert_int_equal(hp.pad_token_id, 3);
	assert_false(hp.tie_word_embeddings);      /* decided by output.weight, not keys */

	/* no scaling type but a factor: llama.cpp reads it as linear */
	w = begin("qwen2");
	dense(w, "qwen2", 2, 4096, 64, 96, 4, 0);
	f32(w, "qwen2.attention.layer_norm_rms_epsilon", 1e-6f);
	f32(w, "qwen2.rope.scale_linear", 2.0f);
	u32(w, "qwen2.vocab_size", 1000);
	ok(w, &hp);
	assert_int_equal(hp.rope.type, QK_ROPE_LINEAR);
	NEAR(hp.rope.factor, 2.0);
	NEAR(hp.rope_theta, 10000.0);              /* runtime default */
	assert_int_equal(hp.n_head_kv, 4);         /* = head_count */
	assert_int_equal(hp.n_vocab, 1000);

	/* factor 0 is llama.cpp's "unset": plain RoPE */
	w = begin("qwen2");
	dense(w, "qwen2", 2, 4096, 64, 96, 4, 0);
	f32(w, "qwen2.attention.layer_norm_rms_epsilon", 1e-6f);
	f32(w, "qwen2.rope.scaling.factor", 0.0f);
	ok(w, &hp);
	assert_int_equal(hp.rope.type, QK_ROPE_DEFAULT);
	NEAR(hp.rope.factor, 1.0);
}

static void test_qwen2moe_57b(void **state)
{
	struct gf_writer *w = begin("qwen2moe");
	struct qk_hparams hp;

	(void)state;
	dense(w, "qwen2moe", 28, 131072, 3584, 18944, 28, 4);
	f32(w, "qwen2moe.attention.layer_norm_rms_epsilon", 1e-6f);
	u32(w, "qwen2moe.expert_count", 64);
	u32(w, "qwen2moe.expert_used_count", 8);
	u32(w, "qwen2moe.expert_feed_forward_length", 2560);
	u32(w, "qwen2moe.expert_shared_feed_forward_length", 20480);
	ok(w, &hp);
	assert_int_equal(hp.n_ff_exp, 2560);
	assert_int_equal(hp.n_ff_shexp, 20480);
	assert_false(hp.norm_topk_prob);           /* qwen2moe does not renormalise */
	assert_true(hp.attn_bias);
	assert_int_equal(count_flags(&hp, QK_LAYER_MOE), 28);

	/* without the expert widths: n_ff / n_expert_used and n_ff */
	w = begin("qwen2moe");
	dense(w, "qwen2moe", 2, 4096, 64, 96, 4, 0);
	f32(w, "qwen2moe.attention.layer_norm_rms_epsilon", 1e-6f);
	u32(w, "qwen2moe.expert_count", 8);
	u32(w, "qwen2moe.expert_used_count", 4);
	ok(w, &hp);
	assert_int_equal(hp.n_ff_exp, 24);
	assert_int_equal(hp.n_ff_shexp, 96);
}

static void test_qwen3_and_arrays(void **state)
{
	const uint32_t kv[4] = { 8, 8, 8, 8 }, kv_mixed[4] = { 8, 8, 4, 8 };
	struct gf_writer *w = begin("qwen3");
	struct qk_hparams hp;

	(void)state;
	dense(w, "qwen3", 4, 40960, 1024, 3072, 16, 0);
	f32(w, "qwen3.attention.layer_norm_rms_epsilon", 1e-6f);
	u32(w, "qwen3.attention.key_length", 128);
	assert_int_equal(gf_writer_add_arr(w, "qwen3.attention.head_count_kv", GF_U32, kv, 4, NULL),
			 QK_OK);
	ok(w, &hp);
	assert_int_equal(hp.head_dim, 128);        /* Qwen3-0.6B: not 1024 / 16 */
	assert_int_equal(hp.n_head_kv, 8);
	assert_true(hp.qk_norm);
	assert_false(hp.attn_bias);

	w = begin("qwen3");
	dense(w, "qwen3", 4, 40960, 1024, 3072, 16, 0);
	f32(w, "qwen3.attention.layer_norm_rms_epsilon", 1e-6f);
	assert_int_equal(gf_writer_add_arr(w, "qwen3.attention.head_count_kv", GF_U32, kv_mixed, 4,
					   NULL), QK_OK);
	fails(w, QK_E_UNSUPPORTED, "key 'qwen3.attention.head_count_kv' differs between layers "
	      "(8 at layer 0, 4 at layer 2)");

	w = begin("qwen3");
	dense(w, "qwen3", 3, 40960, 1024, 3072, 16, 0);
	f32(w, "qwen3.attention.layer_norm_rms_epsilon", 1e-6f);
	assert_int_equal(gf_writer_add_arr(w, "qwen3.attention.head_count_kv", GF_U32, kv, 4, NULL),
			 QK_OK);
	fails(w, QK_E_INVALID, "key 'qwen3.attention.head_count_kv' has 4 per-layer values, "
	      "expected 3 (block_count)");
}

/* a minimal valid qwen2 minus what a test leaves out */
static struct gf_writer *qwen2_base(void)
{
	struct gf_writer *w = begin("qwen2");

	dense(w, "qwen2", 2, 4096, 64, 96, 4, 0);
	f32(w, "qwen2.attention.layer_norm_rms_epsilon", 1e-6f);
	return w;
}

static void test_errors(void **state)
{
	struct gf_writer *w;

	(void)state;
	fails(begin(NULL), QK_E_INVALID, "missing required key 'general.architecture'");
	fails(begin("llama"), QK_E_UNSUPPORTED, "general.architecture 'llama' is not supported; "
	      "supported: qwen, qwen2, qwen2moe, qwen3, qwen3moe, qwen3next");
	w = begin(NULL);
	u32(w, "general.architecture", 2);
	fails(w, QK_E_INVALID, "key 'general.architecture' has type u32, expected string");

	w = begin("qwen2");
	u32(w, "qwen2.context_length", 4096);
	fails(w, QK_E_INVALID, "missing required key 'qwen2.block_count'");
	w = begin("qwen2");
	str(w, "qwen2.block_count", "24");
	fails(w, QK_E_INVALID, "key 'qwen2.block_count' has type string, expected u32");
	w = begin("qwen2");
	u32(w, "qwen2.block_count", 600);
	fails(w, QK_E_INVALID, "key 'qwen2.block_count' is 600, expected an integer in 1..512");
	w = begin("qwen2");
	assert_int_equal(gf_writer_add_i32(w, "qwen2.block_count", -2, NULL), QK_OK);
	fails(w, QK_E_INVALID, "key 'qwen2.block_count' is -2, expected an integer in 1..512");

	w = begin("qwen2");
	dense(w, "qwen2", 2, 4096, 64, 96, 4, 0);
	fails(w, QK_E_INVALID, "missing required key 'qwen2.attention.layer_norm_rms_epsilon'");
	w = begin("qwen2");
	dense(w, "qwen2", 2, 4096, 64, 96, 4, 0);
	u32(w, "qwen2.attention.layer_norm_rms_epsilon", 1);
	fails(w, QK_E_INVALID, "key 'qwen2.attention.layer_norm_rms_epsilon' has type u32, "
	      "expected f32");
	w = begin("qwen2");
	dense(w, "qwen2", 2, 4096, 64, 0, 4, 0);
	f32(w, "qwen2.attention.layer_norm_rms_epsilon", 1e-6f);
	fails(w, QK_E_INVALID, "missing required key 'qwen2.feed_forward_length'");

	w = begin("qwen2");
	dense(w, "qwen2", 2, 4096, 64, 96, 6, 0);
	f32(w, "qwen2.attention.layer_norm_rms_epsilon", 1e-6f);
	fails(w, QK_E_INVALID, "'qwen2.attention.head_count' 6 does not divide "
	      "'qwen2.embedding_length' 64 and there is no 'qwen2.attention.key_length'");
	w = qwen2_base();
	u32(w, "qwen2.attention.head_count_kv", 3);
	fails(w, QK_E_INVALID, "'qwen2.attention.head_count_kv' 3 does not divide");
	w = qwen2_base();
	u32(w, "qwen2.attention.value_length", 32);
	fails(w, QK_E_UNSUPPORTED, "'qwen2.attention.value_length' 32 differs from key_length 16");
	w = qwen2_base();
	u32(w, "qwen2.rope.dimension_count", 7);
	fails(w, QK_E_INVALID, "'qwen2.rope.dimension_count' 7 is odd");
	w = qwen2_base();
	u32(w, "qwen2.rope.dimension_count", 32);
	fails(w, QK_E_INVALID, "key 'qwen2.rope.dimension_count' is 32, expected an integer in 2..16");
	w = qwen2_base();
	str(w, "qwen2.rope.scaling.type", "longrope");
	fails(w, QK_E_UNSUPPORTED, "key 'qwen2.rope.scaling.type' is 'longrope', not supported");
	w = qwen2_base();
	f32(w, "qwen2.rope.scaling.factor", 0.5f);
	fails(w, QK_E_INVALID, "key 'qwen2.rope.scaling.factor' is 0.5, expected a number >= 1");
	w = qwen2_base();
	assert_int_equal(gf_writer_add_arr(w, "tokenizer.ggml.tokens", GF_U32,
					   (const uint32_t[]){ 1, 2 }, 2, NULL), QK_OK);
	fails(w, QK_E_INVALID, "key 'tokenizer.ggml.tokens' has type array of u32, expected "
	      "array of string");
	w = qwen2_base();
	assert_int_equal(gf_writer_add_i32(w, "tokenizer.ggml.eos_token_id", -1, NULL), QK_OK);
	fails(w, QK_E_INVALID, "key 'tokenizer.ggml.eos_token_id' is -1, expected an integer in "
	      "0..2147483647");

	w = begin("qwen");
	dense(w, "qwen", 2, 8192, 256, 97, 2, 0);
	f32(w, "qwen.attention.layer_norm_epsilon", 1e-6f);
	fails(w, QK_E_INVALID, "'qwen.feed_forward_length' 97 is odd");
	w = begin("qwen");
	dense(w, "qwen", 2, 8192, 256, 96, 2, 0);
	fails(w, QK_E_INVALID, "missing required key 'qwen.attention.layer_norm_rms_epsilon' (or "
	      "'qwen.attention.layer_norm_epsilon')");

	w = begin("qwen3moe");
	dense(w, "qwen3moe", 2, 4096, 64, 96, 4, 0);
	f32(w, "qwen3moe.attention.layer_norm_rms_epsilon", 1e-6f);
	u32(w, "qwen3moe.expert_count", 8);
	u32(w, "qwen3moe.expert_used_count", 9);
	fails(w, QK_E_INVALID, "'qwen3moe.expert_used_count' 9 is more than 'qwen3moe.expert_count' 8");
	w = begin("qwen3moe");
	dense(w, "qwen3moe", 2, 4096, 64, 96, 4, 0);
	f32(w, "qwen3moe.attention.layer_norm_rms_epsilon", 1e-6f);
	fails(w, QK_E_INVALID, "missing required key 'qwen3moe.expert_count'");

	w = begin("qwen3next");
	dense(w, "qwen3next", 4, 4096, 64, 96, 4, 0);
	f32(w, "qwen3next.attention.layer_norm_rms_epsilon", 1e-6f);
	u32(w, "qwen3next.expert_count", 8);
	u32(w, "qwen3next.expert_used_count", 2);
	fails(w, QK_E_INVALID, "missing required key 'qwen3next.ssm.conv_kernel'");
	w = begin("qwen3next");
	dense(w, "qwen3next", 4, 4096, 64, 96, 4, 0);
	f32(w, "qwen3next.attention.layer_norm_rms_epsilon", 1e-6f);
	u32(w, "qwen3next.expert_count", 8);
	u32(w, "qwen3next.expert_used_count", 2);
	u32(w, "qwen3next.ssm.conv_kernel", 4);
	u32(w, "qwen3next.ssm.state_size", 16);
	u32(w, "qwen3next.ssm.group_count", 3);
	u32(w, "qwen3next.ssm.time_step_rank", 4);
	u32(w, "qwen3next.ssm.inner_size", 64);
	fails(w, QK_E_INVALID, "'qwen3next.ssm.time_step_rank' 4 is not a multiple of "
	      "'qwen3next.ssm.group_count' 3");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qwen3moe_235b),
		cmocka_unit_test(test_qwen3next_80b),
		cmocka_unit_test(test_qwen1_7b),
		cmocka_unit_test(test_qwen2_yarn_and_tokens),
		cmocka_unit_test(test_qwen2moe_57b),
		cmocka_unit_test(test_qwen3_and_arrays),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
