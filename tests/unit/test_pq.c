/* test_pq.c - pre-quantized storages (formats/container/pq.h): rows read
 * through a storage against values torch computed by the format's
 * definition (testdata/pq/fp8_cases.safetensors, testdata/gen/pq_fixtures.py),
 * and the refusals of bad groups and configs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/base/dtype.h"
#include "../../formats/base/io.h"
#include "../../formats/base/json.h"
#include "../../formats/container/catalog.h"
#include "../../formats/container/pq.h"
#include "../../formats/container/safetensors.h"

#define FP8_CASES "testdata/pq/fp8_cases.safetensors"
#define INT_CASES "testdata/pq/int_cases.safetensors"

static struct qk_catalog src; /* both cases files, open for every test */

static int setup(void **state)
{
	qk_err err;

	(void)state;
	qk_catalog_init(&src);
	if (st_open(&src, FP8_CASES, &err) || st_open(&src, INT_CASES, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	qk_catalog_free(&src);
	return 0;
}

/* copy src tensor `spec` ("name", or "name=source") into c (its data
 * stays in src's mapping) */
static void copy_in(struct qk_catalog *c, const char *spec)
{
	const char *eq = strchr(spec, '=');
	const char *from = eq ? eq + 1 : spec;
	size_t len = eq ? (size_t)(eq - spec) : strlen(spec);
	const struct qk_tensor *t = qk_catalog_find(&src, from);
	struct qk_tensor *n;
	qk_err err;

	if (!t)
		fail_msg("%s lacks '%s'", FP8_CASES, from);
	assert_int_equal(qk_catalog_add(c, spec, len, &n, &err), QK_OK);
	n->dtype = t->dtype;
	n->n_dims = t->n_dims;
	memcpy(n->shape, t->shape, sizeof(n->shape));
	n->n_elem = t->n_elem;
	n->nbytes = t->nbytes;
	n->data = t->data;
	n->file = -1;
}

/* a catalog of the tensors `names` (NULL-terminated) with config `cfg`
 * attached; returns pq_attach's code */
static int attach(struct qk_catalog *c, const char *cfg, const char *const *names, qk_err *err)
{
	cJSON *q = NULL;
	int rc;

	qk_catalog_init(c);
	for (; *names; names++)
		copy_in(c, *names);
	assert_int_equal(qk_json_parse(cfg, strlen(cfg), "config.json", 0, &q, err), QK_OK);
	rc = pq_attach(c, q, "config.json", err);
	cJSON_Delete(q);
	return rc;
}

/* case `name` made of the tensors `parts` (NULL-terminated) with config
 * cfg: every row of <name>.weight equals <name>.expected bit for bit */
static void check_parts(const char *name, const char *const *parts, const char *cfg)
{
	char w[64], e[64];
	const struct qk_tensor *t, *exp;
	struct qk_catalog c;
	qk_err err;
	float *row;

	snprintf(w, sizeof(w), "%s.weight", name);
	snprintf(e, sizeof(e), "%s.expected", name);
	if (attach(&c, cfg, parts, &err))
		fail_msg("case %s: %s", name, err.msg);
	t = qk_catalog_find(&c, w);
	exp = qk_catalog_find(&src, e);
	assert_non_null(t);
	assert_non_null(t->pq);
	for (size_t i = 0; i < c.n_tensors; i++)
		assert_true(&c.tensors[i] == t || c.tensors[i].pq_part);
	assert_int_equal(exp->dtype, QK_DT_F32);
	row = malloc(t->shape[1] * sizeof(float));
	assert_non_null(row);
	for (uint64_t r = 0; r < t->shape[0]; r++) {
		assert_int_equal(pq_read_row(t->pq, r, row, &err), QK_OK);
		for (uint64_t k = 0; k < t->shape[1]; k++) {
			uint32_t want = qk_ld32(exp->data + 4 * (r * t->shape[1] + k));
			float got = row[k];
			uint32_t gb;

			memcpy(&gb, &got, 4);
			if (gb != want && !(isnan(got) && ((want >> 23) & 0xff) == 0xff))
				fail_msg("case %s: row %llu col %llu: got %a (0x%08x), expected 0x%08x",
					 name, (unsigned long long)r, (unsigned long long)k,
					 (double)got, gb, want);
		}
	}
	free(row);
	qk_catalog_free(&c);
}

/* an FP8 case: <name>.weight with <name>.weight_scale_inv */
static void check_case(const char *name, const char *cfg)
{
	char w[64], s[64];
	const char *names[] = { w, s, NULL };

	snprintf(w, sizeof(w), "%s.weight", name);
	snprintf(s, sizeof(s), "%s.weight_scale_inv", name);
	check_parts(name, names, cfg);
}

static void test_fp8_blocks(void **state)
{
	(void)state;
	/* 20 x 24 in 16 x 16 blocks: the last block of each side trimmed (a
	 * rows // scale_rows reading gives 10 x 12 blocks and other values) */
	check_case("trim", "{\"quant_method\":\"fp8\",\"weight_block_size\":[16,16]}");
	check_case("f16", "{\"quant_method\":\"fp8\",\"weight_block_size\":[4,32]}");
	check_case("f32", "{\"quant_method\":\"fp8\",\"weight_block_size\":[128,128]}");
	check_case("e5m2", "{\"quant_method\":\"fp8\",\"weight_block_size\":[4,4]}");
	/* 160 x 16 in 128 x 128 blocks: rows 128..159 a 32-row block
	 * (transformers 5.23 reads 80-row blocks and differs in 768 values) */
	check_case("b160", "{\"quant_method\":\"fp8\",\"weight_block_size\":[128,128]}");
}

static void test_fp8_tensor_and_row(void **state)
{
	(void)state;
	/* all 256 E4M3 codes (NaN at 0x7f and 0xff), one scale per tensor */
	check_case("codes", "{\"quant_method\":\"fp8\"}");
	check_case("row", "{\"quant_method\":\"fp8\",\"weight_block_size\":null}");
}

static void refused(const char *cfg, const char *const *names, int code, const char *frag)
{
	struct qk_catalog c;
	qk_err err;
	int rc = attach(&c, cfg, names, &err);

	qk_catalog_free(&c);
	if (rc != code || !strstr(err.msg, frag))
		fail_msg("config %s: code %d '%s', expected %d with '%s'", cfg, rc,
			 rc ? err.msg : "", code, frag);
}

static void test_fp8_refusals(void **state)
{
	static const char *const both[] = { "trim.weight", "trim.weight_scale_inv", NULL };
	static const char *const scale[] = { "trim.weight_scale_inv", NULL };
	static const char *const weight[] = { "trim.weight", NULL };
	static const char *const row[] = { "trim.weight",
					   "trim.weight_scale_inv=row.weight_scale_inv", NULL };

	(void)state;
	refused("{\"quant_method\":\"fp8\",\"weight_block_size\":[16,8]}", both, QK_E_INVALID,
		"tensor 'trim.weight_scale_inv': shape [2, 2], expected [2, 3]: one scale per "
		"16x8 block of the [20, 24] weight 'trim.weight'");
	refused("{\"quant_method\":\"fp8\"}", scale, QK_E_INVALID,
		"tensor 'trim.weight_scale_inv': a scale without its weight 'trim.weight'");
	refused("{\"quant_method\":\"fp8\"}", weight, QK_E_INVALID,
		"tensor 'trim.weight': F8_E4M3 weight without its scale tensor");
	refused("{\"quant_method\":\"fp8\",\"weight_block_size\":[0,128]}", both, QK_E_INVALID,
		"weight_block_size is not a list of two positive integers");
	refused("{\"quant_method\":\"fp8\",\"weight_block_size\":[128]}", both, QK_E_INVALID,
		"weight_block_size is not a list of two positive integers");
	refused("{\"quant_method\":\"bitnet\"}", both, QK_E_UNSUPPORTED,
		"quant_method 'bitnet' is not read (known: fp8, gptq, awq, compressed-tensors)");
	refused("{\"bits\":4}", both, QK_E_INVALID, "quantization_config has no quant_method");
	refused("[1]", both, QK_E_INVALID, "quantization_config is not an object");
	/* 3 scales for a 20-row weight: neither one per tensor nor one per row */
	refused("{\"quant_method\":\"fp8\"}", row, QK_E_INVALID,
		"tensor 'trim.weight_scale_inv': shape [3], expected one scale, or one per row "
		"([20] or [20, 1]) of the weight 'trim.weight'");
}

static void test_int_formats(void **state)
{
	static const char *const gptq8[] = { "gptq8.qweight", "gptq8.qzeros", "gptq8.scales",
					     "gptq8.g_idx", NULL };
	static const char *const ctasym[] = { "ctasym.weight_packed", "ctasym.weight_scale",
					      "ctasym.weight_zero_point", "ctasym.weight_shape",
					      NULL };
	static const char *const ctint[] = { "ctint.weight", "ctint.weight_scale", NULL };
	static const char *const ctfp8[] = { "ctfp8.weight", "ctfp8.weight_scale", NULL };

	(void)state;
	/* 8-bit, 10 outputs (a zero-point word holds 4), groups over permuted
	 * inputs, v1 zero points (stored minus one) */
	check_parts("gptq8", gptq8, "{\"quant_method\":\"gptq\",\"bits\":8,\"group_size\":8,"
		    "\"desc_act\":true,\"checkpoint_format\":\"gptq\"}");
	/* zero points packed along the rows: 10 rows, a word holds 8 */
	check_parts("ctasym", ctasym, "{\"quant_method\":\"compressed-tensors\",\"format\":"
		    "\"pack-quantized\",\"config_groups\":{\"group_0\":{\"weights\":{\"num_bits\":4,"
		    "\"type\":\"int\",\"symmetric\":false,\"strategy\":\"group\",\"group_size\":8}}}}");
	check_parts("ctint", ctint, "{\"quant_method\":\"compressed-tensors\",\"format\":"
		    "\"int-quantized\",\"config_groups\":{\"g\":{\"weights\":{\"num_bits\":8,"
		    "\"type\":\"int\",\"strategy\":\"channel\"}}}}");
	check_parts("ctfp8", ctfp8, "{\"quant_method\":\"compressed-tensors\",\"format\":"
		    "\"float-quantized\",\"config_groups\":{\"g\":{\"weights\":{\"num_bits\":8,"
		    "\"type\":\"float\",\"strategy\":\"block\",\"block_structure\":[16,16]}}}}");
	/* naive-quantized: the same storage as int-/float-quantized (weight
	 * times scale; llama.cpp's converter reads the three alike) */
	check_parts("ctint", ctint, "{\"quant_method\":\"compressed-tensors\",\"format\":"
		    "\"naive-quantized\",\"config_groups\":{\"g\":{\"weights\":{\"num_bits\":8,"
		    "\"type\":\"int\",\"strategy\":\"channel\"}}}}");
	check_parts("ctfp8", ctfp8, "{\"quant_method\":\"compressed-tensors\",\"format\":"
		    "\"naive-quantized\",\"config_groups\":{\"g\":{\"weights\":{\"num_bits\":8,"
		    "\"type\":\"float\",\"strategy\":\"block\",\"block_structure\":[16,16]}}}}");
}

static void test_int_refusals(void **state)
{
	static const char *const gptq8[] = { "gptq8.qweight", "gptq8.qzeros", "gptq8.scales",
					     "gptq8.g_idx", NULL };
	static const char *const nozeros[] = { "gptq8.qweight", "gptq8.scales", NULL };
	static const char *const ct[] = { "ctint.weight", "ctint.weight_scale", NULL };

	(void)state;
	refused("{\"quant_method\":\"gptq\",\"bits\":3}", gptq8, QK_E_UNSUPPORTED,
		"3-bit gptq is not read (llama.cpp's converter does not implement it either)");
	refused("{\"quant_method\":\"gptq\",\"bits\":5}", gptq8, QK_E_UNSUPPORTED,
		"bits 5, gptq is read with bits 2, 4 or 8");
	refused("{\"quant_method\":\"gptq\",\"bits\":8,\"checkpoint_format\":\"marlin\"}", gptq8,
		QK_E_UNSUPPORTED, "checkpoint_format 'marlin' is not read (gptq, gptq_v2)");
	refused("{\"quant_method\":\"gptq\",\"bits\":8}", nozeros, QK_E_INVALID,
		"missing tensor 'gptq8.qzeros' of a gptq group");
	/* 4-bit reading of 8-bit words: a zero-point word would hold 8 of the
	 * 10 outputs, so two words are 1 too many */
	refused("{\"quant_method\":\"gptq\",\"bits\":4}", gptq8, QK_E_INVALID,
		"tensor 'gptq8.qzeros': shape [4, 3], expected [4, 2]");
	refused("{\"quant_method\":\"awq\",\"version\":\"gemv\"}", gptq8, QK_E_UNSUPPORTED,
		"AWQ version 'gemv' is not read (gemm)");
	refused("{\"quant_method\":\"compressed-tensors\",\"format\":\"int-quantized\","
		"\"config_groups\":{\"a\":{\"weights\":{}},\"b\":{\"weights\":{}}}}", ct,
		QK_E_UNSUPPORTED, "config_groups has more than one group");
	refused("{\"quant_method\":\"compressed-tensors\",\"format\":\"nvfp4-pack-quantized\","
		"\"config_groups\":{\"a\":{\"weights\":{}}}}", ct, QK_E_UNSUPPORTED,
		"compressed-tensors format 'nvfp4-pack-quantized' is not read");
	refused("{\"quant_method\":\"compressed-tensors\",\"format\":\"int-quantized\","
		"\"config_groups\":{\"a\":{\"weights\":{\"symmetric\":false}}}}", ct,
		QK_E_UNSUPPORTED, "asymmetric int-quantized weights (symmetric false) are not read");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fp8_blocks),
		cmocka_unit_test(test_fp8_tensor_and_row),
		cmocka_unit_test(test_fp8_refusals),
		cmocka_unit_test(test_int_formats),
		cmocka_unit_test(test_int_refusals),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
