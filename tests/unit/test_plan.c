/* test_plan.c - the write plan (formats/plan/plan.h): tensor list, types, order,
 * sizes and metadata (the data path: test_plan_write.c).
 *
 * Expected values come from llama.cpp's own converter and gguf-py, not from
 * our output: the tensor lists and key/values below are what
 * convert_hf_to_gguf.py (llama-cpp-python 0.3.36's vendored llama.cpp) wrote
 * for the same fixtures (dumped with gguf-py's GGUFReader); size labels,
 * name heuristics and titles are gguf-py's Metadata / utility functions run
 * on the inputs listed; ftype and block sizes are
 * ggml's type table and gguf-py's constants.py (LlamaFileType).
 * testdata/gen/convert_oracle.py
 * re-derives all of it.
 */
#include "plan_fixture.h"

/* ---- names, types ---- */

static void test_names_and_ftypes(void **state)
{
	(void)state;
	assert_int_equal(wp_outtype_from_name("auto"), WP_OUT_AUTO);
	assert_int_equal(wp_outtype_from_name("BF16"), WP_OUT_BF16);
	assert_int_equal(wp_outtype_from_name("q8_0"), WP_OUT_Q8_0);
	assert_int_equal(wp_outtype_from_name("q4_0"), -1);
	assert_string_equal(wp_outtype_name(WP_OUT_F16), "f16");
	assert_null(wp_outtype_name(WP_OUT_COUNT));
	/* LLAMA_FTYPE_* (§4.4) */
	assert_int_equal(wp_ftype_of_type(QT_F32), 0);
	assert_int_equal(wp_ftype_of_type(QT_F16), 1);
	assert_int_equal(wp_ftype_of_type(QT_Q8_0), 7);
	assert_int_equal(wp_ftype_of_type(QT_BF16), 32);
	assert_int_equal(wp_ftype_of_type(QT_Q4_K), 15);
	assert_int_equal(wp_ftype_of_type(QT_IQ2_XS), 1024);
}

/* ---- tensor lists (llama.cpp's converter on the same fixtures) ---- */

#define QWEN2_LAYER(l)                                                                         \
	"blk." #l ".attn_norm.weight F32 256", "blk." #l ".ffn_down.weight BF16 256,256",      \
	"blk." #l ".ffn_gate.weight BF16 256,256", "blk." #l ".ffn_up.weight BF16 256,256",    \
	"blk." #l ".ffn_norm.weight F32 256", "blk." #l ".attn_k.bias F32 64",                 \
	"blk." #l ".attn_k.weight BF16 256,64", "blk." #l ".attn_output.weight BF16 256,256",  \
	"blk." #l ".attn_q.bias F32 256", "blk." #l ".attn_q.weight BF16 256,256",             \
	"blk." #l ".attn_v.bias F32 64", "blk." #l ".attn_v.weight BF16 256,64"

static const char *const qwen2_tensors[] = {
	"token_embd.weight BF16 256,512", QWEN2_LAYER(0), QWEN2_LAYER(1),
	"output_norm.weight F32 256",
};

static void test_qwen2_plan(void **state)
{
	struct fixture x;

	(void)state;
	open_fixture(&x, "qwen2");
	plan_fixture(&x, WP_OUT_AUTO, false);
	/* same names, types, shapes and order as llama.cpp; BF16 kept */
	expect_tensors(&x.p, qwen2_tensors, sizeof(qwen2_tensors) / sizeof(qwen2_tensors[0]), true);
	assert_int_equal(x.p.ftype, 32);
	assert_int_equal(x.p.t[0].nbytes, 256 * 512 * 2);
	assert_int_equal(x.p.t[0].why, WP_WHY_SOURCE);
	assert_int_equal(x.p.t[1].why, WP_WHY_F32_RULE);
	assert_int_equal(wp_data_bytes(&x.p), 1712128);
	close_fixture(&x);
}

#define NEXT_MOE(l)                                                                             \
	"blk." #l ".ffn_down_exps.weight BF16 16,32,4", "blk." #l ".ffn_gate_exps.weight BF16 32,16,4", \
	"blk." #l ".ffn_up_exps.weight BF16 32,16,4", "blk." #l ".ffn_gate_inp.weight F32 32,4",      \
	"blk." #l ".ffn_down_shexp.weight BF16 24,32", "blk." #l ".ffn_gate_shexp.weight BF16 32,24", \
	"blk." #l ".ffn_up_shexp.weight BF16 32,24", "blk." #l ".ffn_gate_inp_shexp.weight F32 32,1", \
	"blk." #l ".post_attention_norm.weight F32 32", "blk." #l ".attn_norm.weight F32 32"
#define NEXT_LINEAR(l)                                                                           \
	NEXT_MOE(l), "blk." #l ".ssm_a F32 4", "blk." #l ".ssm_conv1d.weight F32 4,128",           \
	"blk." #l ".ssm_dt.bias F32 4", "blk." #l ".ssm_ba.weight BF16 32,8",                     \
	"blk." #l ".attn_qkv.weight BF16 32,128", "blk." #l ".attn_gate.weight BF16 32,64",       \
	"blk." #l ".ssm_norm.weight F32 16", "blk." #l ".ssm_out.weight BF16 64,32"
#define NEXT_FULL(l)                                                                             \
	NEXT_MOE(l), "blk." #l ".attn_k_norm.weight F32 32", "blk." #l ".attn_k.weight BF16 32,32", \
	"blk." #l ".attn_output.weight BF16 64,32", "blk." #l ".attn_q_norm.weight F32 32",       \
	"blk." #l ".attn_q.weight BF16 32,128", "blk." #l ".attn_v.weight BF16 32,32"

static const char *const next_tensors[] = {
	"output.weight BF16 32,512", "token_embd.weight BF16 32,512", NEXT_LINEAR(0),
	NEXT_LINEAR(1), NEXT_LINEAR(2), NEXT_FULL(3), "output_norm.weight F32 32",
	/* MTP, llama.cpp's nextn layout (kept by its converter by default) */
	"blk.4.nextn.eh_proj.weight BF16 64,32", NEXT_FULL(4),
	"blk.4.nextn.shared_head_norm.weight F32 32", "blk.4.nextn.enorm.weight F32 32",
	"blk.4.nextn.hnorm.weight F32 32",
};
#define NEXT_MAIN 73 /* without the MTP block */

static void test_qwen3next_plan(void **state)
{
	struct fixture x;

	(void)state;
	open_fixture(&x, "qwen3_next");
	plan_fixture(&x, WP_OUT_AUTO, false);
	expect_tensors(&x.p, next_tensors, NEXT_MAIN, false);
	assert_int_equal(x.p.n_mtp, 0);
	wp_free(&x.p);
	wp_meta_free(&x.md);
	plan_fixture(&x, WP_OUT_AUTO, true);
	expect_tensors(&x.p, next_tensors, sizeof(next_tensors) / sizeof(next_tensors[0]), false);
	assert_int_equal(x.p.n_mtp, 1);
	/* llama.cpp writes attn_qkv, then attn_gate, from in_proj_qkvz */
	for (int l = 0; l < 3; l++) {
		char q[64], g[64];
		size_t iq = x.p.n, ig = x.p.n;

		snprintf(q, sizeof(q), "blk.%d.attn_qkv.weight", l);
		snprintf(g, sizeof(g), "blk.%d.attn_gate.weight", l);
		for (size_t i = 0; i < x.p.n; i++) {
			if (!strcmp(x.p.t[i].name, q))
				iq = i;
			if (!strcmp(x.p.t[i].name, g))
				ig = i;
		}
		assert_true(iq + 1 == ig);
	}
	/* MTP comes after the model's own tensors (mtp.* sorts after model.*) */
	for (size_t i = 0; i < x.p.n; i++)
		assert_int_equal(x.p.t[i].mtp, i >= NEXT_MAIN);
	close_fixture(&x);
}

/* llama.cpp --outtype q8_0 on qwen3_next: Q8_0 where rows are a multiple of
 * 32, F16 where not (expert down 16 and shared expert down 24 wide) */
static void test_q8_0_fallback(void **state)
{
	struct fixture x;
	size_t n_fb = 0;

	(void)state;
	open_fixture(&x, "qwen3_next");
	plan_fixture(&x, WP_OUT_Q8_0, false);
	for (size_t i = 0; i < x.p.n; i++) {
		const struct wp_tensor *t = &x.p.t[i];

		if (strstr(t->name, "ffn_down_exps") || strstr(t->name, "ffn_down_shexp")) {
			assert_int_equal(t->type, QT_F16);
			assert_int_equal(t->why, WP_WHY_FALLBACK);
			n_fb++;
		} else if (t->n_dims == 1 || strstr(t->name, "gate_inp") ||
			   strstr(t->name, "conv1d") || strstr(t->name, "_norm.weight")) {
			assert_int_equal(t->type, QT_F32);
		} else {
			assert_int_equal(t->type, QT_Q8_0);
			/* 32 elements -> 34 bytes (§4.3) */
			assert_int_equal(t->nbytes, t->n_elem / 32 * 34);
		}
	}
	assert_int_equal(n_fb, 8);
	assert_int_equal(x.p.ftype, 7);
	close_fixture(&x);
}

static void test_set_type(void **state)
{
	struct fixture x;
	qk_err err;
	size_t embd = 0, norm = 0;

	(void)state;
	open_fixture(&x, "qwen2");
	plan_fixture(&x, WP_OUT_BF16, false);
	for (size_t i = 0; i < x.p.n; i++) {
		if (strcmp(x.p.t[i].name, "token_embd.weight") == 0)
			embd = i;
		if (strcmp(x.p.t[i].name, "output_norm.weight") == 0)
			norm = i;
	}
	/* Q4_K: 256 elements in 144 bytes (§4.3); token_embd is 512 rows of 256 */
	assert_int_equal(wp_set_type(&x.p, embd, QT_Q4_K, &err), QK_OK);
	assert_int_equal(x.p.t[embd].nbytes, 512 * 144);
	assert_int_equal(x.p.t[embd].why, WP_WHY_CALLER);
	/* output_norm is one row of 256: Q4_K fits, Q6_K too, an unknown id not */
	assert_int_equal(wp_set_type(&x.p, norm, 99, &err), QK_E_USAGE);
	assert_int_equal(x.p.t[norm].type, QT_F32);
	assert_int_equal(wp_set_type(&x.p, x.p.n, QT_F16, &err), QK_E_USAGE);
	close_fixture(&x);
	/* a 32-wide row cannot take a 256-block type */
	open_fixture(&x, "qwen3");
	plan_fixture(&x, WP_OUT_F16, false);
	assert_int_equal(wp_set_type(&x.p, 0, QT_Q4_K, &err), QK_E_USAGE);
	assert_non_null(strstr(err.msg, "not a whole number of Q4_K blocks"));
	assert_int_equal(wp_set_type(&x.p, 0, QT_Q8_0, &err), QK_OK);
	close_fixture(&x);
}

/* ---- metadata ---- */

/* every key llama.cpp writes for qwen2 before the tokenizer, in its order */
static void test_meta_qwen2(void **state)
{
	static const char *const order[] = {
		"general.architecture", "general.type", "general.name", "general.size_label",
		"qwen2.block_count", "qwen2.context_length", "qwen2.embedding_length",
		"qwen2.feed_forward_length", "qwen2.attention.head_count",
		"qwen2.attention.head_count_kv", "qwen2.rope.freq_base",
		"qwen2.attention.layer_norm_rms_epsilon", "general.file_type",
		"general.quantization_version",
	};
	struct fixture x;

	(void)state;
	open_fixture(&x, "qwen2");
	plan_fixture(&x, WP_OUT_AUTO, false);
	assert_int_equal(x.md.n, sizeof(order) / sizeof(order[0]));
	for (size_t i = 0; i < x.md.n; i++)
		assert_string_equal(x.md.kv[i].key, order[i]);
	expect_str(&x.md, "general.architecture", "qwen2");
	expect_str(&x.md, "general.type", "model");
	expect_str(&x.md, "general.name", "Qwen2");
	expect_str(&x.md, "general.size_label", "854K");
	expect_u32(&x.md, "qwen2.block_count", 2);
	expect_u32(&x.md, "qwen2.context_length", 32768);
	expect_u32(&x.md, "qwen2.embedding_length", 256);
	expect_u32(&x.md, "qwen2.feed_forward_length", 256);
	expect_u32(&x.md, "qwen2.attention.head_count", 4);
	expect_u32(&x.md, "qwen2.attention.head_count_kv", 1);
	expect_f32(&x.md, "qwen2.rope.freq_base", 1000000.0f);
	expect_f32(&x.md, "qwen2.attention.layer_norm_rms_epsilon", 1e-6f);
	expect_u32(&x.md, "general.file_type", 32);
	expect_u32(&x.md, "general.quantization_version", 2);
	close_fixture(&x);
}

static void test_meta_qwen3next(void **state)
{
	struct fixture x;
	const struct wp_kv *rec;

	(void)state;
	open_fixture(&x, "qwen3_next");
	plan_fixture(&x, WP_OUT_AUTO, true);
	expect_str(&x.md, "general.name", "Qwen3_Next");
	expect_str(&x.md, "general.size_label", "4x99K");
	expect_u32(&x.md, "qwen3next.block_count", 5);
	expect_u32(&x.md, "qwen3next.context_length", 262144);
	expect_u32(&x.md, "qwen3next.feed_forward_length", 64);
	expect_u32(&x.md, "qwen3next.expert_count", 4);
	expect_u32(&x.md, "qwen3next.expert_used_count", 2);
	expect_u32(&x.md, "qwen3next.attention.key_length", 32);
	expect_u32(&x.md, "qwen3next.attention.value_length", 32);
	expect_u32(&x.md, "qwen3next.expert_feed_forward_length", 16);
	expect_u32(&x.md, "qwen3next.expert_shared_feed_forward_length", 24);
	expect_u32(&x.md, "qwen3next.nextn_predict_layers", 1);
	expect_u32(&x.md, "qwen3next.ssm.conv_kernel", 4);
	expect_u32(&x.md, "qwen3next.ssm.state_size", 16);
	expect_u32(&x.md, "qwen3next.ssm.group_count", 2);
	expect_u32(&x.md, "qwen3next.ssm.time_step_rank", 4);
	expect_u32(&x.md, "qwen3next.ssm.inner_size", 64);
	expect_u32(&x.md, "qwen3next.full_attention_interval", 4);
	expect_u32(&x.md, "qwen3next.rope.dimension_count", 8);
	expect_f32(&x.md, "qwen3next.rope.freq_base", 10000000.0f);
	rec = key(&x.md, "qwen3next.attention.recurrent_layers", WP_KV_ARR_BOOL);
	assert_int_equal(rec->n, 5);
	assert_true(rec->bools[0] && rec->bools[1] && rec->bools[2] && !rec->bools[3] &&
		    !rec->bools[4]);
	wp_meta_free(&x.md);
	wp_free(&x.p);
	/* without MTP: 4 blocks, no nextn key */
	plan_fixture(&x, WP_OUT_AUTO, false);
	expect_u32(&x.md, "qwen3next.block_count", 4);
	assert_null(wp_meta_find(&x.md, "qwen3next.nextn_predict_layers"));
	assert_int_equal(key(&x.md, "qwen3next.attention.recurrent_layers", WP_KV_ARR_BOOL)->n, 4);
	close_fixture(&x);
}

/* Qwen1 (§1.2): intermediate_size unhalved, no head_count_kv, the RMS eps
 * key the runtime requires, rotary_emb_base as freq_base */
static void test_meta_qwen1(void **state)
{
	struct fixture x;

	(void)state;
	open_fixture(&x, "qwen1");
	plan_fixture(&x, WP_OUT_AUTO, false);
	expect_u32(&x.md, "qwen.block_count", 2);
	expect_u32(&x.md, "qwen.context_length", 512);
	expect_u32(&x.md, "qwen.feed_forward_length", 512);
	expect_u32(&x.md, "qwen.attention.head_count", 4);
	assert_null(wp_meta_find(&x.md, "qwen.attention.head_count_kv"));
	assert_null(wp_meta_find(&x.md, "qwen.attention.key_length"));
	expect_f32(&x.md, "qwen.attention.layer_norm_rms_epsilon", 1e-6f);
	assert_null(wp_meta_find(&x.md, "qwen.attention.layer_norm_epsilon"));
	expect_f32(&x.md, "qwen.rope.freq_base", 10000.0f);
	/* attn_qkv stays fused: ne {256, 768}, bias {768}, F32 */
	for (size_t i = 0; i < x.p.n; i++)
		if (strcmp(x.p.t[i].name, "blk.0.attn_qkv.weight") == 0)
			assert_true(x.p.t[i].ne[0] == 256 && x.p.t[i].ne[1] == 768);
		else if (strcmp(x.p.t[i].name, "blk.0.attn_qkv.bias") == 0)
			assert_true(x.p.t[i].ne[0] == 768 && x.p.t[i].type == QT_F32);
		else if (strstr(x.p.t[i].name, "attn_q.") || strstr(x.p.t[i].name, "attn_k."))
			fail_msg("Qwen1 q/k/v written separately: %s", x.p.t[i].name);
	close_fixture(&x);
}

static void test_meta_yarn(void **state)
{
	struct fixture x;

	(void)state;
	open_fixture(&x, "qwen2_5_yarn");
	plan_fixture(&x, WP_OUT_AUTO, false);
	expect_str(&x.md, "qwen2.rope.scaling.type", "yarn");
	expect_f32(&x.md, "qwen2.rope.scaling.factor", 4.0f);
	expect_u32(&x.md, "qwen2.rope.scaling.original_context_length", 32768);
	assert_null(wp_meta_find(&x.md, "qwen2.rope.scaling.yarn_beta_fast"));
	/* an f16 checkpoint stays f16 under auto */
	assert_int_equal(x.p.ftype, 1);
	close_fixture(&x);
}

static void test_meta_dense_moe(void **state)
{
	struct fixture x;
	struct wp_meta md;
	const struct wp_meta_opts mo = { NULL, NULL };
	qk_err err;

	(void)state;
	open_fixture(&x, "qwen3_moe"); /* mlp_only_layers [0] */
	plan_fixture(&x, WP_OUT_AUTO, false);
	expect_u32(&x.md, "qwen3moe.leading_dense_block_count", 1);
	/* a dense layer after a MoE one cannot be expressed */
	x.m.hp.layer_flags[0] |= QK_LAYER_MOE;
	x.m.hp.layer_flags[1] &= (uint8_t)~QK_LAYER_MOE;
	assert_int_equal(wp_meta_build(&md, &x.p, &mo, &err), QK_E_UNSUPPORTED);
	assert_non_null(strstr(err.msg, "layer 1 is dense"));
	assert_int_equal(md.n, 0);
	close_fixture(&x);
}

/* ---- gguf-py's heuristics ---- */

static void test_size_label(void **state)
{
	static const struct {
		uint64_t n;
		const char *want;
	} cases[] = {
		{ 854016, "854K" }, { 7615616512ull, "7.6B" }, { 494032768, "494M" },
		{ 1543714304, "1.5B" }, { 999, "1.0K" }, { 1499, "1.5K" }, { 500, "0.50K" },
		{ 1000000, "1000K" }, { 1000001, "1.0M" }, { 99499, "99K" }, { 2500, "2.5K" },
		{ 3500, "3.5K" }, { 0, "0.00K" }, { 123456789012345ull, "123T" },
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wp_size_label(cases[i].n, cases[i].n, 0, 0, buf, sizeof(buf));
		if (strcmp(buf, cases[i].want))
			fail_msg("%llu: '%s', gguf-py '%s'", (unsigned long long)cases[i].n, buf,
				 cases[i].want);
	}
	wp_size_label(30532122624ull, 1554767872, 28977354752ull / 128, 128, buf, sizeof(buf));
	assert_string_equal(buf, "128x1.8B");
}

static void test_id_parts(void **state)
{
	/* id, total, full name, org, basename, finetune, version, size label */
	static const struct {
		const char *id;
		uint64_t total;
		const char *f[6];
	} cases[] = {
		{ "Qwen/Qwen2.5-7B-Instruct", 7615616512ull,
		  { "Qwen2.5-7B-Instruct", "Qwen", "Qwen2.5", "Instruct", NULL, "7B" } },
		{ "Qwen2.5-0.5B", 494032768, { "Qwen2.5-0.5B", NULL, "Qwen2.5", NULL, NULL, "0.5B" } },
		{ "mistralai/Mixtral-8x7B-Instruct-v0.1", 46702792704ull,
		  { "Mixtral-8x7B-Instruct-v0.1", "mistralai", "Mixtral", "Instruct", "v0.1", "8x7B" } },
		{ "bigscience/bloom-7b1", 7069016064ull,
		  { "bloom-7b1", "bigscience", "bloom", NULL, NULL, "7.1B" } },
		{ "Qwen/Qwen3-30B-A3B", 30532122624ull,
		  { "Qwen3-30B-A3B", "Qwen", "Qwen3", NULL, NULL, "30B-A3B" } },
		{ "gradientai/Llama-3-8B-Instruct-262k", 8030261248ull,
		  { "Llama-3-8B-Instruct-262k", "gradientai", "Llama-3", "Instruct-262k", NULL, "8B" } },
		{ "qwen2_moe", 52000, { "qwen2_moe", NULL, NULL, NULL, NULL, NULL } },
		{ "Qwen/Qwen1.5-MoE-A2.7B-Chat", 14315784192ull,
		  { "Qwen1.5-MoE-A2.7B-Chat", "Qwen", "Qwen1.5-MoE", "Chat", NULL, "A2.7B" } },
		{ "./models/x", 1000, { "models/x", NULL, NULL, NULL, NULL, NULL } },
		{ "Qwen/QwQ-32B-Preview", 32763876352ull,
		  { "QwQ-32B-Preview", "Qwen", "QwQ", "Preview", NULL, "32B" } },
		{ "Qwen-7B-Chat-Int4", 7721324544ull,
		  { "Qwen-7B-Chat-Int4", NULL, "Qwen", "Chat-Int4", NULL, "7B" } },
		{ "some model name", 5, { "some model name", NULL, NULL, NULL, NULL, NULL } },
		{ "Qwen2.5-Coder-1.5B-Instruct-q4_k_m", 1543714304,
		  { "Qwen2.5-Coder-1.5B-Instruct-q4_k_m", NULL, "Qwen2.5-Coder", "Instruct", NULL,
		    "1.5B" } },
		{ "v2-small-fp16", 1000, { "v2-small-fp16", NULL, "v2", NULL, NULL, "small" } },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wp_id_parts ip;
		const char *got[6];
		qk_err err;

		assert_int_equal(wp_id_parts(cases[i].id, cases[i].total, &ip, &err), QK_OK);
		got[0] = ip.full_name;
		got[1] = ip.org;
		got[2] = ip.basename;
		got[3] = ip.finetune;
		got[4] = ip.version;
		got[5] = ip.size_label;
		for (int f = 0; f < 6; f++)
			if ((got[f] == NULL) != (cases[i].f[f] == NULL) ||
			    (got[f] && strcmp(got[f], cases[i].f[f])))
				fail_msg("'%s' part %d: '%s', gguf-py '%s'", cases[i].id, f,
					 got[f] ? got[f] : "(none)", cases[i].f[f] ? cases[i].f[f] : "(none)");
		wp_id_parts_free(&ip);
	}
}

static void test_id_to_title(void **state)
{
	static const char *const cases[][2] = {
		{ "qwen3_next", "Qwen3_Next" }, { "qwen2.5-7b-instruct", "Qwen2.5 7b Instruct" },
		{ "Qwen2-MoE", "Qwen2 MoE" }, { "abc v1.2 3rd", "Abc v1.2 3rd" }, { "x--y", "X Y" },
		{ "mixed-Case", "Mixed Case" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *t = wp_id_to_title(cases[i][0]);

		assert_non_null(t);
		if (strcmp(t, cases[i][1]))
			fail_msg("'%s' -> '%s', gguf-py '%s'", cases[i][0], t, cases[i][1]);
		free(t);
	}
}


/* ---- model card, config.json, generation_config.json ---- */

/* gguf-py's Metadata.load + prepare_metadata on this directory wrote these
 * keys, in this order (general.architecture first, then these) */
static const char *const card_keys[][2] = {
	{ "general.sampling.top_k", "20" }, { "general.sampling.top_p", "0.8" },
	{ "general.sampling.temp", "0.7" }, { "general.sampling.penalty_repeat", "1.05" },
	{ "general.name", "Qwen2.5 7B Instruct" }, { "general.organization", "Qwen" },
	{ "general.finetune", "7b-Instruct" }, { "general.basename", "Qwen2.5" },
	{ "general.size_label", "854K" }, { "general.license", "apache-2.0" },
	{ "general.license.link", "https://huggingface.co/Qwen/Qwen2.5-7B-Instruct/blob/main/LICENSE" },
	{ "general.base_model.count", "2" }, { "general.base_model.0.name", "Qwen2.5 7B" },
	{ "general.base_model.0.organization", "Qwen" },
	{ "general.base_model.0.repo_url", "https://huggingface.co/Qwen/Qwen2.5-7B" },
	{ "general.base_model.1.name", "Other Model v2" }, { "general.base_model.1.version", "v2" },
	{ "general.base_model.1.organization", "Org2" },
	{ "general.base_model.1.repo_url", "https://huggingface.co/org2/Other-Model-v2" },
	{ "general.dataset.count", "1" }, { "general.dataset.0.name", "OpenHermes 2.5" },
	{ "general.dataset.0.version", "2.5" }, { "general.dataset.0.organization", "Teknium" },
	{ "general.dataset.0.repo_url", "https://huggingface.co/teknium/OpenHermes-2.5" },
	{ "general.tags", "chat,text-generation" }, { "general.languages", "en,zh" },
};

static void kv_text(const struct wp_kv *kv, char *buf, size_t n)
{
	int k = 0;

	switch (kv->kind) {
	case WP_KV_U32: snprintf(buf, n, "%u", (unsigned)kv->u32); break;
	case WP_KV_I32: snprintf(buf, n, "%d", (int)kv->i32); break;
	case WP_KV_F32: snprintf(buf, n, "%.6g", (double)kv->f32); break;
	case WP_KV_STR: snprintf(buf, n, "%s", kv->str); break;
	case WP_KV_ARR_STR:
		buf[0] = '\0';
		for (uint64_t i = 0; i < kv->n; i++)
			k += snprintf(buf + k, n - (size_t)k, "%s%s", i ? "," : "", kv->strs[i]);
		break;
	default: snprintf(buf, n, "?");
	}
}

static void test_model_card(void **state)
{
	struct fixture x;
	struct wp_meta md;
	struct wp_meta_opts mo = { NULL, NULL };
	char dir[400], got[512];
	size_t k = 0;
	qk_err err;

	(void)state;
	make_tmpdir();
	snprintf(dir, sizeof(dir), "%s/Qwen2.5-7B-Instruct", tmpdir);
	assert_int_equal(mkdir(dir, 0755), 0);
	write_text(dir, "README.md",
		   "---\nlicense: apache-2.0\n"
		   "license_link: https://huggingface.co/Qwen/Qwen2.5-7B-Instruct/blob/main/LICENSE\n"
		   "language:\n- en\n- zh\npipeline_tag: text-generation\nbase_model:\n"
		   "- Qwen/Qwen2.5-7B\n- https://huggingface.co/org2/Other-Model-v2\n"
		   "datasets: teknium/OpenHermes-2.5\ntags:\n\t- chat\nlibrary_name: transformers\n"
		   "---\n\n# Qwen2.5-7B-Instruct\n");
	write_text(dir, "config.json", "{\"_name_or_path\": \"Qwen/Qwen2.5-7B-Instruct\", "
				       "\"architectures\": [\"Qwen2ForCausalLM\"]}\n");
	write_text(dir, "generation_config.json",
		   "{\"bos_token_id\": 151643, \"do_sample\": true, \"eos_token_id\": [151645, "
		   "151643], \"pad_token_id\": 151643, \"repetition_penalty\": 1.05, "
		   "\"temperature\": 0.7, \"top_p\": 0.8, \"top_k\": 20}\n");
	open_fixture(&x, "qwen2");
	plan_fixture(&x, WP_OUT_AUTO, false);
	mo.dir = dir;
	assert_int_equal(wp_meta_build(&md, &x.p, &mo, &err), QK_OK);
	assert_string_equal(md.note, "");
	for (size_t i = 0; i < md.n; i++) {
		if (strncmp(md.kv[i].key, "general.", 8) || !strcmp(md.kv[i].key, "general.type") ||
		    !strcmp(md.kv[i].key, "general.architecture") ||
		    !strcmp(md.kv[i].key, "general.file_type") ||
		    !strcmp(md.kv[i].key, "general.quantization_version"))
			continue;
		if (k >= sizeof(card_keys) / sizeof(card_keys[0]))
			fail_msg("extra key '%s'", md.kv[i].key);
		assert_string_equal(md.kv[i].key, card_keys[k][0]);
		kv_text(&md.kv[i], got, sizeof(got));
		if (strcmp(got, card_keys[k][1]))
			fail_msg("%s: '%s', gguf-py '%s'", card_keys[k][0], got, card_keys[k][1]);
		k++;
	}
	assert_int_equal(k, sizeof(card_keys) / sizeof(card_keys[0]));
	assert_int_equal(key(&md, "general.sampling.top_k", WP_KV_I32)->i32, 20);
	wp_meta_free(&md);
	/* --name replaces the name only */
	mo.name = "My Model";
	assert_int_equal(wp_meta_build(&md, &x.p, &mo, &err), QK_OK);
	expect_str(&md, "general.name", "My Model");
	expect_str(&md, "general.basename", "Qwen2.5");
	wp_meta_free(&md);
	/* front matter that is not YAML is ignored, with a note */
	write_text(dir, "README.md", "---\nlicense: [unclosed\n---\n");
	mo.name = NULL;
	assert_int_equal(wp_meta_build(&md, &x.p, &mo, &err), QK_OK);
	assert_non_null(strstr(md.note, "README.md: model card front matter ignored"));
	assert_null(wp_meta_find(&md, "general.license"));
	wp_meta_free(&md);
	close_fixture(&x);
	remove_tree(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_and_ftypes),
		cmocka_unit_test(test_qwen2_plan),
		cmocka_unit_test(test_qwen3next_plan),
		cmocka_unit_test(test_q8_0_fallback),
		cmocka_unit_test(test_set_type),
		cmocka_unit_test(test_meta_qwen2),
		cmocka_unit_test(test_meta_qwen3next),
		cmocka_unit_test(test_meta_qwen1),
		cmocka_unit_test(test_meta_yarn),
		cmocka_unit_test(test_meta_dense_moe),
		cmocka_unit_test(test_size_label),
		cmocka_unit_test(test_id_parts),
		cmocka_unit_test(test_id_to_title),
		cmocka_unit_test(test_model_card),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
