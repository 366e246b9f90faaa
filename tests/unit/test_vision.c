/* test_vision.c - the vision tensor-name table (formats/model/vision.h)
 * against llama.cpp's converter, and the vision loader's refusals.
 *
 * Expected values: testdata/llamacpp/mmproj.tsv, what the
 * convert_hf_to_gguf.py --mmproj of llama-cpp-python 0.3.36 wrote for every
 * VL fixture (testdata/gen/mmproj_truths.py): every mmproj tensor name and
 * ggml ne must be a binding of the fixture's HF checkpoint bound through the
 * table, and nothing more; the clip.vision.* integers must be the vision
 * hyperparameters read from config.json. A fixture llama.cpp's converter
 * refuses is listed with its reason: qwen2_5_vl (two vision blocks: gguf-py's
 * merger table needs three) must still bind here, qwen3_5_moe (no vision
 * tower) must be refused.
 *
 * Seen failing: with v.blk.@.attn_out.weight spelled attn_output in
 * vision_tables.c, test_table_matches_llamacpp fails "qwen3_5: tensor
 * v.blk.0.attn_out.weight has no binding".
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/base/io.h"
#include "../../formats/model/vision.h"
#include "testdir.h"

#define TRUTHS "testdata/llamacpp/mmproj.tsv"
#define MODELS "testdata/models"

static char *read_all(const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	qk_err e;

	if (qk_read_file(path, 8u << 20, &buf, &len, &e) != QK_OK)
		fail_msg("%s: %s", path, e.msg);
	return buf;
}

/* field k (0-based) of a tab-separated line into out */

static const char *const int_keys[][2] = {
	{ "clip.vision.block_count", "depth" },
	{ "clip.vision.embedding_length", "n_embd" },
	{ "clip.vision.feed_forward_length", "n_ff_key" },
	{ "clip.vision.attention.head_count", "n_head" },
	{ "clip.vision.patch_size", "patch" },
	{ "clip.vision.image_size", "image_size" },
	{ "clip.vision.projection_dim", "n_embd_text" },
	{ "clip.vision.spatial_merge_size", "merge" },
	{ "clip.vision.n_wa_pattern", "n_wa_pattern" },
};

static uint32_t hp_value(const struct vs_hparams *vh, const char *what)
{
	if (!strcmp(what, "depth")) return vh->depth;
	if (!strcmp(what, "n_embd")) return vh->n_embd;
	if (!strcmp(what, "n_ff_key")) return vh->n_ff_key;
	if (!strcmp(what, "n_head")) return vh->n_head;
	if (!strcmp(what, "patch")) return vh->patch;
	if (!strcmp(what, "image_size")) return vh->image_size;
	if (!strcmp(what, "n_embd_text")) return vh->n_embd_text;
	if (!strcmp(what, "merge")) return vh->merge;
	return vh->n_wa_pattern;
}

/* one fixture's "kv" and "tensor" lines against its bound vision tower */
static size_t check_model(const char *fx, const char *text)
{
	struct vs_input in;
	char path[128], kind[16], m[64], name[128], val[256];
	size_t n_tensors = 0, checked = 0;
	const char *line;
	qk_err e;

	snprintf(path, sizeof(path), MODELS "/%s", fx);
	if (vs_open(&in, path, &e))
		fail_msg("%s: %s", fx, e.msg);
	for (line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		td_field(line, 0, kind, sizeof(kind));
		td_field(line, 1, m, sizeof(m));
		if (strcmp(m, fx) != 0)
			continue;
		td_field(line, 2, name, sizeof(name));
		if (!strcmp(kind, "kv")) {
			td_field(line, 4, val, sizeof(val));
			for (size_t k = 0; k < sizeof(int_keys) / sizeof(int_keys[0]); k++)
				if (!strcmp(name, int_keys[k][0]) &&
				    hp_value(&in.vm.vh, int_keys[k][1]) != strtoul(val, NULL, 10))
					fail_msg("%s: %s is %s in llama.cpp's file, ours %u", fx, name,
						 val, hp_value(&in.vm.vh, int_keys[k][1]));
			if (!strcmp(name, "clip.projector_type") &&
			    strstr(val, vs_projector_name(in.vm.vh.family)) != val + 1)
				fail_msg("%s: projector %s, ours %s", fx, val,
					 vs_projector_name(in.vm.vh.family));
			continue;
		}
		if (strcmp(kind, "tensor") != 0)
			continue;
		n_tensors++;
		td_field(line, 3, val, sizeof(val));
		for (size_t i = 0; i < in.vm.m.n_bind; i++) {
			const struct qk_binding *b = &in.vm.m.bind[i];
			char ne[96] = "";

			if (strcmp(b->gguf_name, name) != 0)
				continue;
			for (int d = b->n_dims - 1; d >= 0; d--)
				snprintf(ne + strlen(ne), sizeof(ne) - strlen(ne), "%s%llu",
					 d == b->n_dims - 1 ? "" : " ", (unsigned long long)b->shape[d]);
			if (strcmp(ne, val) != 0)
				fail_msg("%s: tensor %s has ne {%s}, llama.cpp {%s}", fx, name, ne, val);
			checked++;
			break;
		}
		if (checked != n_tensors)
			fail_msg("%s: tensor %s has no binding", fx, name);
	}
	if (in.vm.m.n_bind != n_tensors)
		fail_msg("%s: %zu bindings, llama.cpp writes %zu tensors", fx, in.vm.m.n_bind,
			 n_tensors);
	vs_close(&in);
	return checked;
}

static void test_table_matches_llamacpp(void **state)
{
	char *text = read_all(TRUTHS), fx[64], how[256];
	size_t models = 0, tensors = 0, refused = 0;

	(void)state;
	for (const char *line = text; line && *line;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		struct vs_input in;
		char path[128];
		qk_err e;

		if (strncmp(line, "model\t", 6) != 0)
			continue;
		td_field(line, 1, fx, sizeof(fx));
		td_field(line, 4, how, sizeof(how));
		if (!strcmp(how, "llama.cpp")) {
			tensors += check_model(fx, text);
			models++;
			continue;
		}
		refused++;
		snprintf(path, sizeof(path), MODELS "/%s", fx);
		if (!strcmp(fx, "qwen3_5_moe")) {
			/* no vision tower: refused here too, saying so */
			assert_int_equal(vs_open(&in, path, &e), QK_E_UNSUPPORTED);
			assert_non_null(strstr(e.msg, "no vision_config"));
		} else if (vs_open(&in, path, &e)) {
			/* llama.cpp's depth limit (qwen2_5_vl) is not ours */
			fail_msg("%s (refused by llama.cpp: %s): %s", fx, how, e.msg);
		} else {
			vs_close(&in);
		}
	}
	free(text);
	print_message("mmproj tables: %zu models, %zu tensors match llama.cpp; %zu refused by "
		      "llama.cpp\n", models, tensors, refused);
	assert_true(models >= 3 && tensors >= 60);
}

/* both checkpoint prefixes, and the HF and GGUF-form rows agree in role */
static void test_rows_well_formed(void **state)
{
	size_t n;
	const struct vs_row *r = vs_rows(&n);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		assert_true(r[i].role >= QK_R_V_PATCH && r[i].role < QK_ROLE_COUNT);
		assert_true((strchr(r[i].hf, '@') == NULL) == (r[i].when == VS_W_GLOBAL));
		assert_true((strchr(r[i].gguf, '@') == NULL) == (r[i].when == VS_W_GLOBAL));
		assert_non_null(qk_role_name(r[i].role));
		/* one row per role and family */
		for (size_t j = 0; j < i; j++)
			assert_false(r[j].role == r[i].role && (r[j].families & r[i].families));
	}
	assert_int_equal(vs_family_from_projector("qwen2.5vl_merger"), VS_FAM_QWEN25VL);
	assert_int_equal(vs_family_from_model_type("qwen3_5_moe"), VS_FAM_QWEN3VL);
	assert_int_equal(vs_family_from_model_type("qwen2"), -1);
}

/* ---- refusals ---- */

static void bad_config(const char *json, int code, const char *want)
{
	struct vs_hparams vh;
	qk_err e;
	int rc;

	qk_err_clear(&e);
	rc = vs_hparams_from_config(&vh, json, strlen(json), "config.json", NULL, 0, NULL, &e);
	if (rc != code || !strstr(e.msg, want))
		fail_msg("config %s: got %d '%s', expected %d '%s'", json, rc, e.msg, code, want);
}

#define TXT "\"text_config\": {\"hidden_size\": 32}"

static void test_bad_configs(void **state)
{
	(void)state;
	bad_config("{\"model_type\": \"qwen2\", " TXT "}", QK_E_UNSUPPORTED,
		   "config.json: model_type 'qwen2' has no vision tower");
	bad_config("{\"model_type\": \"qwen3_5_moe\", " TXT "}", QK_E_UNSUPPORTED,
		   "config.json: no vision_config (nothing)");
	bad_config("{\"model_type\": \"qwen3_vl\", " TXT ", \"vision_config\": {\"depth\": 0}}",
		   QK_E_INVALID, "key 'vision_config.depth' is out of range, expected an integer in "
		   "[1, 256]");
	bad_config("{\"model_type\": \"qwen3_vl\", " TXT ", \"vision_config\": {\"depth\": 2, "
		   "\"deepstack_visual_indexes\": [2]}}", QK_E_INVALID,
		   "'vision_config.deepstack_visual_indexes': element 0 is not a block index below "
		   "depth 2");
	bad_config("{\"model_type\": \"qwen2_5_vl\", " TXT ", \"vision_config\": {\"depth\": 8, "
		   "\"fullatt_block_indexes\": [1, 3, 6]}}", QK_E_INVALID,
		   "'vision_config.fullatt_block_indexes': 6 after 3, expected every 2-th block");
	bad_config("{\"model_type\": \"qwen2_5_vl\", " TXT ", \"vision_config\": {\"depth\": 8, "
		   "\"fullatt_block_indexes\": []}}", QK_E_INVALID,
		   "fullatt_block_indexes' is empty");
	bad_config("{\"model_type\": \"qwen3_vl\", " TXT ", \"vision_config\": {\"depth\": 2, "
		   "\"temporal_patch_size\": 3}}", QK_E_INVALID,
		   "'vision_config.temporal_patch_size' is out of range, expected an integer in "
		   "[2, 2]");
	bad_config("{\"model_type\": \"qwen3_vl\", " TXT ", \"vision_config\": {\"hidden_size\": "
		   "30, \"num_heads\": 4}}", QK_E_INVALID,
		   "hidden width 30 is not a multiple of num_heads 4");
	bad_config("{\"model_type\": \"qwen3_vl\", \"vision_config\": {}}", QK_E_INVALID,
		   "key 'hidden_size' is missing");
}

/* the fixture's tensors bound under other hyperparameters */
static void bad_bind(const char *fx, void (*edit)(struct vs_hparams *), const char *want)
{
	struct vs_input in;
	struct vs_model vm;
	struct vs_hparams vh;
	char path[128];
	qk_err e;

	snprintf(path, sizeof(path), MODELS "/%s", fx);
	if (vs_open(&in, path, &e))
		fail_msg("%s: %s", fx, e.msg);
	vh = in.vm.vh;
	edit(&vh);
	assert_int_equal(vs_bind(&vm, &in.cat, &vh, &e), QK_E_INVALID);
	if (!strstr(e.msg, want))
		fail_msg("%s: '%s', expected '%s'", fx, e.msg, want);
	assert_int_equal(vm.m.n_bind, 0);
	vs_close(&in);
}

static void deeper(struct vs_hparams *vh) { vh->depth = 3; }
static void shallower(struct vs_hparams *vh) { vh->depth = 1; }
static void wider(struct vs_hparams *vh) { vh->n_ff = 48; }

static void test_bad_bindings(void **state)
{
	(void)state;
	bad_bind("qwen3_vl", deeper, "testdata/models/qwen3_vl: tensor 'model.visual.blocks.2.norm1.weight' "
		 "(v.ln1 of block 2, qwen3vl_merger) is missing");
	bad_bind("qwen3_vl", shallower, "model.safetensors: tensor 'model.visual.blocks.1.");
	bad_bind("qwen3_vl", shallower, "is not part of a qwen3vl_merger vision tower of 1 blocks");
	bad_bind("qwen2_5_vl", wider, "model.safetensors: tensor 'visual.blocks.0.mlp.gate_proj."
		 "weight' (v.ffn_gate of block 0, qwen2.5vl_merger): shape [32, 16], expected "
		 "[48, 16] from the vision config");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_well_formed),
		cmocka_unit_test(test_table_matches_llamacpp),
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_bad_bindings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
