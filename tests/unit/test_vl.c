/* test_vl.c - the Qwen-VL text towers (Qwen2-VL / Qwen2.5-VL -> qwen2vl,
 * Qwen3-VL -> qwen3vl, Qwen3-VL-MoE -> qwen3vlmoe): config.json in its
 * released and transformers 5.x forms, and both checkpoint layouts.
 *
 * Expected values: the transformers 5.23 config classes (Qwen2_5_VLConfig,
 * Qwen3VLConfig, Qwen3VLMoeConfig: their defaults and key renames, read
 * from configuration_qwen2_5_vl.py, configuration_qwen3_vl*.py) and the
 * modeling files' rotary embeddings (mrope_section defaults [16, 24, 24]
 * chunked, [24, 20, 20] interleaved). The layout tests rewrite the
 * transformers-made fixtures of testdata/models/ into the other layout and
 * check that the bound model reads the same numbers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/base/io.h"
#include "../../formats/container/safetensors.h"
#include "../../formats/model/open.h"
#include "../../formats/model/vision.h"
#include "testdir.h"

#define MODELS "testdata/models"

static void parse_ok(const char *json, struct qk_hparams *hp)
{
	qk_err e;
	int rc;

	qk_err_clear(&e);
	rc = qk_hparams_from_config(hp, json, strlen(json), "config.json", &e);
	if (rc)
		print_error("unexpected error: %s\n", e.msg);
	assert_int_equal(rc, QK_OK);
}

/* ---- config.json ---- */

/* released Qwen2.5-VL: flat, rope_scaling {type: mrope} (the config class
 * renames it to default), q/k/v bias without a key */
static void test_qwen2_5_vl_released(void **state)
{
	struct qk_hparams hp;

	(void)state;
	parse_ok("{\"architectures\": [\"Qwen2_5_VLForConditionalGeneration\"],"
		 " \"model_type\": \"qwen2_5_vl\", \"hidden_size\": 2048,"
		 " \"intermediate_size\": 11008, \"num_attention_heads\": 16,"
		 " \"num_hidden_layers\": 36, \"num_key_value_heads\": 2,"
		 " \"rope_scaling\": {\"type\": \"mrope\", \"mrope_section\": [16, 24, 24]},"
		 " \"rope_theta\": 1000000.0, \"vocab_size\": 151936,"
		 " \"vision_config\": {\"depth\": 32, \"fullatt_block_indexes\": [7, 15, 23, 31]}}",
		 &hp);
	assert_int_equal(hp.arch, QK_ARCH_QWEN2VL);
	assert_string_equal(qk_arch_gguf_name(hp.arch), "qwen2vl");
	assert_int_equal(hp.rope.type, QK_ROPE_DEFAULT);
	assert_true(hp.has_rope_sections);
	assert_false(hp.mrope_interleaved);
	assert_int_equal(hp.rope_sections[0], 16);
	assert_int_equal(hp.rope_sections[1], 24);
	assert_int_equal(hp.rope_sections[2], 24);
	assert_int_equal(hp.rope_sections[3], 0);
	assert_true(hp.attn_bias);
	assert_false(hp.qk_norm);
	assert_int_equal(hp.head_dim, 128);
	assert_int_equal(hp.n_rot, 128);
	assert_int_equal(hp.n_deepstack, 0);
	/* Qwen2_5_VLTextConfig's rms_norm_eps default is 1e-5 (Qwen2's 1e-6) */
	assert_true(hp.norm_eps == 1e-5);
}

/* transformers 5.x save: nested text_config with rope_parameters; no
 * mrope_section: the class default, not stated (no GGUF key) */
static void test_qwen2_vl_v5_defaults(void **state)
{
	struct qk_hparams hp;

	(void)state;
	parse_ok("{\"architectures\": [\"Qwen2VLForConditionalGeneration\"],"
		 " \"model_type\": \"qwen2_vl\", \"text_config\": {\"model_type\": \"qwen2_vl_text\","
		 " \"hidden_size\": 64, \"intermediate_size\": 128, \"num_attention_heads\": 4,"
		 " \"num_hidden_layers\": 2, \"vocab_size\": 512, \"rms_norm_eps\": 1e-6,"
		 " \"rope_parameters\": {\"rope_theta\": 1000000.0, \"rope_type\": \"default\"}}}",
		 &hp);
	assert_int_equal(hp.arch, QK_ARCH_QWEN2VL);
	assert_false(hp.has_rope_sections);
	assert_int_equal(hp.rope_sections[0], 16);
	assert_int_equal(hp.rope_sections[1], 24);
	assert_int_equal(hp.rope_sections[2], 24);
	assert_true(hp.norm_eps == 1e-6);
}

/* released Qwen3-VL: interleaved whatever mrope_interleaved says (the
 * modeling code always interleaves), deepstack count from vision_config */
static void test_qwen3_vl(void **state)
{
	struct qk_hparams hp;

	(void)state;
	parse_ok("{\"architectures\": [\"Qwen3VLForConditionalGeneration\"],"
		 " \"model_type\": \"qwen3_vl\", \"text_config\": {\"hidden_size\": 2560,"
		 " \"head_dim\": 128, \"intermediate_size\": 9728, \"num_attention_heads\": 32,"
		 " \"num_hidden_layers\": 36, \"num_key_value_heads\": 8, \"vocab_size\": 151936,"
		 " \"rope_scaling\": {\"mrope_interleaved\": false, \"mrope_section\": [24, 20, 20],"
		 " \"rope_type\": \"default\"}, \"rope_theta\": 5000000},"
		 " \"vision_config\": {\"deepstack_visual_indexes\": [5, 11, 17], \"depth\": 24}}",
		 &hp);
	assert_int_equal(hp.arch, QK_ARCH_QWEN3VL);
	assert_true(hp.mrope_interleaved);
	assert_true(hp.has_rope_sections);
	assert_int_equal(hp.rope_sections[0], 24);
	assert_int_equal(hp.rope_sections[2], 20);
	assert_int_equal(hp.n_deepstack, 3);
	assert_true(hp.qk_norm);
	assert_false(hp.attn_bias);
	assert_int_equal(hp.n_ctx_train, 128000); /* class default */

	/* no sections, no vision_config: [24, 20, 20] and no deepstack */
	parse_ok("{\"model_type\": \"qwen3_vl_text\", \"hidden_size\": 64, \"head_dim\": 16,"
		 " \"intermediate_size\": 128, \"num_attention_heads\": 4,"
		 " \"num_hidden_layers\": 1, \"vocab_size\": 512}", &hp);
	assert_int_equal(hp.arch, QK_ARCH_QWEN3VL);
	assert_false(hp.has_rope_sections);
	assert_int_equal(hp.rope_sections[0], 24);
	assert_int_equal(hp.rope_sections[1], 20);
	assert_int_equal(hp.n_deepstack, 0);
}

/* Qwen3-VL-MoE: num_experts (released) or num_local_experts (5.x save),
 * top-k always renormalised (the router has no norm_topk_prob) */
static void test_qwen3_vl_moe_keys(void **state)
{
	static const char *const fmt =
		"{\"architectures\": [\"Qwen3VLMoeForConditionalGeneration\"],"
		" \"text_config\": {\"hidden_size\": 64, \"head_dim\": 16,"
		" \"intermediate_size\": 128, \"num_attention_heads\": 4,"
		" \"num_hidden_layers\": 2, \"vocab_size\": 512, \"%s\": 8,"
		" \"num_experts_per_tok\": 2, \"moe_intermediate_size\": 32,"
		" \"norm_topk_prob\": false}}";
	const char *keys[2] = { "num_experts", "num_local_experts" };
	struct qk_hparams hp;
	char json[512];

	(void)state;
	for (int k = 0; k < 2; k++) {
		snprintf(json, sizeof(json), fmt, keys[k]);
		parse_ok(json, &hp);
		assert_int_equal(hp.arch, QK_ARCH_QWEN3VLMOE);
		assert_int_equal(hp.n_expert, 8);
		assert_int_equal(hp.n_ff_exp, 32);
		assert_true(hp.norm_topk_prob);
		assert_int_equal(hp.layer_flags[0] & QK_LAYER_MOE, QK_LAYER_MOE);
		assert_true(hp.mrope_interleaved);
	}
}

static void test_bad_deepstack(void **state)
{
	static const char json[] =
		"{\"architectures\": [\"Qwen3VLForConditionalGeneration\"],"
		" \"text_config\": {\"hidden_size\": 64, \"head_dim\": 16,"
		" \"intermediate_size\": 128, \"num_attention_heads\": 4,"
		" \"num_hidden_layers\": 1, \"vocab_size\": 512},"
		" \"vision_config\": {\"deepstack_visual_indexes\": 3}}";
	struct qk_hparams hp;
	qk_err e;

	(void)state;
	qk_err_clear(&e);
	assert_int_equal(qk_hparams_from_config(&hp, json, strlen(json), "config.json", &e),
			 QK_E_INVALID);
	assert_non_null(strstr(e.msg, "vision_config.deepstack_visual_indexes"));
	assert_int_equal(hp.n_embd, 0);
}

/* ---- checkpoint layouts ---- */

/* Copy fixture `fx` into a scratch directory with every tensor renamed by
 * `rename` and fused experts transposed when `transpose`; config.json and
 * the tokenizer files copied as they are. */
static void rewrite(const char *fx, const char *dir, void (*rename)(const char *, char *, size_t),
		    bool transpose)
{
	static const char *const files[] = { "config.json", "tokenizer.json",
					     "tokenizer_config.json",
					     "preprocessor_config.json" };
	struct qk_catalog cat;
	struct st_writer *w;
	char path[512], name[512];
	qk_err e;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *text = NULL;
		size_t n = 0;

		snprintf(path, sizeof(path), "%s/%s/%s", MODELS, fx, files[i]);
		assert_int_equal(qk_read_file(path, 1u << 24, &text, &n, &e), QK_OK);
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		assert_int_equal(td_put(path, text), 0);
		free(text);
	}
	qk_catalog_init(&cat);
	snprintf(path, sizeof(path), "%s/%s/model.safetensors", MODELS, fx);
	assert_int_equal(st_open(&cat, path, &e), QK_OK);
	snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	assert_int_equal(st_writer_open(&w, path, &e), QK_OK);
	for (size_t i = 0; i < cat.n_tensors; i++) {
		const struct qk_tensor *t = &cat.tensors[i];
		uint64_t shape[QK_MAX_DIMS];
		bool tr = transpose && t->n_dims == 3 && strstr(t->name, ".mlp.experts.");

		memcpy(shape, t->shape, sizeof(shape));
		if (tr) {
			shape[1] = t->shape[2];
			shape[2] = t->shape[1];
		}
		rename(t->name, name, sizeof(name));
		assert_int_equal(st_writer_add(w, name, t->dtype, t->n_dims, shape, &e), QK_OK);
	}
	for (size_t i = 0; i < cat.n_tensors; i++) {
		const struct qk_tensor *t = &cat.tensors[i];
		bool tr = transpose && t->n_dims == 3 && strstr(t->name, ".mlp.experts.");
		uint8_t *buf = malloc(t->nbytes ? t->nbytes : 1);
		const uint64_t E = t->shape[0], A = t->shape[1], B = t->shape[2];
		const uint64_t esz = tr ? t->nbytes / (E * A * B) : 1;

		assert_non_null(buf);
		if (!tr)
			memcpy(buf, t->data, t->nbytes);
		for (uint64_t x = 0; tr && x < E * A * B; x++) {
			uint64_t e2 = x / (A * B), a = x / B % A, b = x % B;

			/* [e][a][b] -> [e][b][a] */
			memcpy(buf + ((e2 * B + b) * A + a) * esz, t->data + x * esz, esz);
		}
		assert_int_equal(st_writer_write(w, buf, t->nbytes, &e), QK_OK);
		free(buf);
	}
	assert_int_equal(st_writer_commit(w, &e), QK_OK);
	qk_catalog_free(&cat);
}

/* model.language_model.X -> model.X, model.visual.X -> visual.X */
static void to_old(const char *in, char *out, size_t n)
{
	if (strncmp(in, "model.language_model.", 21) == 0)
		snprintf(out, n, "model.%s", in + 21);
	else if (strncmp(in, "model.visual.", 13) == 0)
		snprintf(out, n, "%s", in + 6);
	else
		snprintf(out, n, "%s", in);
}

/* model.X -> model.language_model.X, visual.X -> model.visual.X */
static void to_new(const char *in, char *out, size_t n)
{
	if (strncmp(in, "model.", 6) == 0 && strncmp(in, "model.language_model.", 21) &&
	    strncmp(in, "model.visual.", 13))
		snprintf(out, n, "model.language_model.%s", in + 6);
	else if (strncmp(in, "visual.", 7) == 0)
		snprintf(out, n, "model.%s", in);
	else
		snprintf(out, n, "%s", in);
}

/* every bound matrix of a and b holds the same values, row by row; the
 * parameter counts of both agree */
static void same_model(const struct qk_model *a, const struct qk_model *b)
{
	struct qk_param_counts pa, pb;
	float *ra, *rb;
	qk_err e;

	assert_int_equal(a->n_bind, b->n_bind);
	for (size_t i = 0; i < a->n_bind; i++) {
		const struct qk_binding *x = &a->bind[i];
		const struct qk_binding *y = qk_model_get(b, x->role, x->layer);

		assert_non_null(y);
		assert_int_equal(x->view.rows, y->view.rows);
		assert_int_equal(x->view.cols, y->view.cols);
		if (x->f32) {
			assert_int_equal(x->n_f32, y->n_f32);
			assert_memory_equal(x->f32, y->f32, x->n_f32 * sizeof(float));
			continue;
		}
		ra = malloc(x->view.cols * sizeof(float));
		rb = malloc(x->view.cols * sizeof(float));
		assert_true(ra && rb);
		for (uint64_t r = 0; r < x->view.rows; r++) {
			assert_int_equal(qk_view_read_row(&x->view, r, ra, &e), QK_OK);
			assert_int_equal(qk_view_read_row(&y->view, r, rb, &e), QK_OK);
			if (memcmp(ra, rb, x->view.cols * sizeof(float)))
				fail_msg("%s of layer %d: row %llu differs", qk_role_name(x->role),
					 x->layer, (unsigned long long)r);
		}
		free(ra);
		free(rb);
	}
	qk_model_param_counts(a, &pa);
	qk_model_param_counts(b, &pb);
	assert_memory_equal(&pa, &pb, sizeof(pa));
}

static void keep(const char *in, char *out, size_t n)
{
	snprintf(out, n, "%s", in);
}

static void check_layouts(const char *fx, void (*rename)(const char *, char *, size_t),
			  bool transpose, bool expect_transposed)
{
	struct qk_input a, b;
	char dir[128], path[256];
	bool saw_t = false;
	qk_err e;

	assert_int_equal(td_make(dir, sizeof(dir), "vl"), 0);
	rewrite(fx, dir, rename, transpose);
	snprintf(path, sizeof(path), "%s/%s", MODELS, fx);
	if (qk_input_open(&a, path, &e))
		fail_msg("%s: %s", fx, e.msg);
	if (qk_input_open(&b, dir, &e))
		fail_msg("%s rewritten: %s", fx, e.msg);
	same_model(&a.model, &b.model);
	assert_true(a.model.n_vision > 0);
	assert_int_equal(a.model.n_vision, b.model.n_vision);
	for (size_t i = 0; i < a.model.n_bind; i++)
		saw_t |= a.model.bind[i].view.transposed;
	assert_int_equal(saw_t, expect_transposed);
	qk_input_close(&a);
	qk_input_close(&b);
	/* the vision tower (vision.h) binds the same numbers from both layouts */
	{
		struct vs_input va, vb;

		if (vs_open(&va, path, &e))
			fail_msg("%s vision: %s", fx, e.msg);
		if (vs_open(&vb, dir, &e))
			fail_msg("%s rewritten, vision: %s", fx, e.msg);
		assert_true(va.vm.m.n_bind > 20);
		assert_int_equal(va.vm.m.n_bind, vb.vm.m.n_bind);
		if (rename != keep)
			assert_string_not_equal(va.vm.prefix, vb.vm.prefix);
		same_model(&va.vm.m, &vb.vm.m);
		vs_close(&va);
		vs_close(&vb);
	}
	td_remove(dir);
}

/* Qwen2.5-VL saved before transformers 4.52 (the fixture) and after */
static void test_layout_qwen2_5_vl(void **state)
{
	(void)state;
	check_layouts("qwen2_5_vl", to_new, false, false);
}

/* Qwen3-VL nested (the fixture) and in the old prefixes */
static void test_layout_qwen3_vl(void **state)
{
	(void)state;
	check_layouts("qwen3_vl", to_old, false, false);
}


/* Qwen3-VL-MoE: released experts ([E, H, 2I], [E, I, H], the fixture)
 * and transformers 5.x save_pretrained's ([E, 2I, H], [E, H, I]) bind to
 * the same matrices */
static void test_layout_qwen3_vl_moe(void **state)
{
	(void)state;
	check_layouts("qwen3_vl_moe", keep, true, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qwen2_5_vl_released),
		cmocka_unit_test(test_qwen2_vl_v5_defaults),
		cmocka_unit_test(test_qwen3_vl),
		cmocka_unit_test(test_qwen3_vl_moe_keys),
		cmocka_unit_test(test_bad_deepstack),
		cmocka_unit_test(test_layout_qwen2_5_vl),
		cmocka_unit_test(test_layout_qwen3_vl),
		cmocka_unit_test(test_layout_qwen3_vl_moe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
