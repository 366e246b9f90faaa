/* test_vision_golden.c - the vision reference pass (ref/vis.h) against the
 * outputs transformers 5.23 computed for the vision towers of the VL
 * fixtures (testdata/models/<name>/expected_vision.safetensors, made by
 * testdata/gen/vision_oracle.py from the same pixels and image_grid_thw:
 * fp32, eager attention).
 *
 * Compared, each as max |ours - expected| / max |expected| over the whole
 * tensor (the image embeddings are what the text model consumes: one scale
 * for every row): the merger output (vision.embd), every deepstack merger
 * output, the patch embedding and every block's output. Budget RTOL for the
 * merger and deepstack outputs (the 1e-4), the same for the others.
 * Each fixture prints its measured errors.
 *
 * Determinism (ref/README.md): the outputs are the same bits with 1 thread
 * and the scalar kernels as with 3 threads and the SIMD kernels.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/base/dtype.h"
#include "../../formats/base/json.h"
#include "../../formats/container/catalog.h"
#include "../../formats/container/safetensors.h"
#include "../../ref/vis.h"
#include "fixture_list.h"

#define RTOL 2e-6

/* the fixtures with a vision tower and an expected_vision.safetensors, and
 * the vision-only towers of testdata/vision (README.md there) */
static char vl_fixtures[][40] = { "testdata/models/qwen2_vl", "testdata/models/qwen2_5_vl",
				  "testdata/models/qwen3_vl", "testdata/models/qwen3_vl_moe",
				  "testdata/models/qwen3_vl_256", "testdata/models/qwen3_5",
				  "testdata/vision/qwen2_5_vl_3blocks" };

/* a copy (aligned) of expected tensor `name`, which must be F32 of n values */
static float *expect_f32(const struct qk_catalog *exp, const char *fx, const char *name,
			 uint64_t n)
{
	const struct qk_tensor *t = qk_catalog_find(exp, name);
	float *v;

	if (!t || t->dtype != QK_DT_F32 || t->n_elem != n)
		fail_msg("%s: expected_vision.safetensors: '%s' missing or not F32 [%llu]", fx, name,
			 (unsigned long long)n);
	v = malloc(n * sizeof(float) + 1);
	assert_non_null(v);
	memcpy(v, t->data, n * sizeof(float));
	return v;
}

/* max |a - e| / max |e| */
static double rel_err(const float *a, const float *e, size_t n)
{
	double d = 0.0, m = 0.0;

	for (size_t i = 0; i < n; i++) {
		const double x = fabs((double)a[i] - (double)e[i]);

		d = x > d || isnan(x) ? x : d;
		m = fabs((double)e[i]) > m ? fabs((double)e[i]) : m;
	}
	return m > 0.0 ? d / m : d;
}

struct loaded {
	struct vs_input in;
	struct qk_catalog exp;
	struct rf_vis_model vm;
	float *pixels;
	uint32_t (*grid)[3];
	size_t n_img, n_patch;
};

static void load(const char *fx, struct loaded *L)
{
	char dir[256], path[300];
	const struct qk_tensor *g;
	qk_err err;

	memset(L, 0, sizeof(*L));
	snprintf(dir, sizeof(dir), "%s", fx);
	snprintf(path, sizeof(path), "%s/expected_vision.safetensors", dir);
	qk_catalog_init(&L->exp);
	if (vs_open(&L->in, dir, &err) || rf_vis_from_vs(&L->vm, &L->in.vm, NULL, &err) ||
	    st_open(&L->exp, path, &err))
		fail_msg("%s: %s", fx, err.msg);
	g = qk_catalog_find(&L->exp, "vision.grid");
	if (!g || g->dtype != QK_DT_I32 || g->n_dims != 2 || g->shape[1] != 3 || !g->shape[0])
		fail_msg("%s: vision.grid missing or not I32 [n, 3]", fx);
	L->n_img = (size_t)g->shape[0];
	L->grid = malloc(L->n_img * sizeof(*L->grid));
	assert_non_null(L->grid);
	for (size_t i = 0; i < L->n_img * 3; i++) {
		int32_t v;

		memcpy(&v, g->data + 4 * i, 4);
		assert_true(v > 0);
		L->grid[i / 3][i % 3] = (uint32_t)v;
	}
	if (rf_vis_check_grid(&L->vm.hp, (const uint32_t(*)[3])L->grid, L->n_img, &L->n_patch, &err))
		fail_msg("%s: %s", fx, err.msg);
	L->pixels = expect_f32(&L->exp, fx, "vision.pixels",
			       (uint64_t)L->n_patch * L->vm.hp.in_ch * L->vm.hp.tpatch *
				       L->vm.hp.patch * L->vm.hp.patch);
}

static void unload(struct loaded *L)
{
	free(L->pixels);
	free(L->grid);
	rf_vis_model_free(&L->vm);
	qk_catalog_free(&L->exp);
	vs_close(&L->in);
}

static void run(struct loaded *L, const char *fx, unsigned threads, bool simd, bool keep,
		struct rf_vis_out *out)
{
	struct rf_vis_opts o;
	qk_err err;

	rf_vis_opts_init(&o);
	o.n_threads = threads;
	o.simd = simd;
	o.keep_blocks = keep;
	if (rf_vis_run(&L->vm, L->pixels, L->n_patch, (const uint32_t(*)[3])L->grid, L->n_img, &o,
		       out, &err))
		fail_msg("%s: %s", fx, err.msg);
}

static double check(const struct loaded *L, const char *fx, const char *name, const float *got,
		    uint64_t n)
{
	float *e = expect_f32(&L->exp, fx, name, n);
	const double r = rel_err(got, e, (size_t)n);

	free(e);
	if (!(r <= RTOL))
		fail_msg("%s: %s: max |difference| is %.3g of max |expected|, budget %g", fx, name, r,
			 RTOL);
	return r;
}

/* check stem.0 .. stem.(k-1), n values each, from got [k, n]; the worst */
static double check_each(const struct loaded *L, const char *fx, const char *stem,
			 const float *got, uint32_t k, uint64_t n)
{
	double worst = 0.0;
	char name[64];

	for (uint32_t i = 0; i < k; i++) {
		double r;

		snprintf(name, sizeof(name), "%s.%u", stem, i);
		r = check(L, fx, name, got + (size_t)i * n, n);
		worst = r > worst ? r : worst;
	}
	return worst;
}

static void test_golden(void **state)
{
	const char *fx = *state;
	struct loaded L;
	struct rf_vis_out out;
	double embd, deep = 0.0, blocks = 0.0, patch;
	char name[64];

	load(fx, &L);
	run(&L, fx, 2, true, true, &out);
	embd = check(&L, fx, "vision.embd", out.embd, (uint64_t)out.n_tok * out.out_dim);
	deep = check_each(&L, fx, "vision.deepstack", out.deep, out.n_deep,
			  (uint64_t)out.n_tok * out.out_dim);
	if (qk_catalog_find(&L.exp, "vision.deepstack.0") && !out.n_deep)
		fail_msg("%s: the expected file has deepstack outputs, the model none", fx);
	snprintf(name, sizeof(name), "vision.deepstack.%u", out.n_deep);
	if (qk_catalog_find(&L.exp, name))
		fail_msg("%s: the expected file has %s, the model %u deepstack mergers", fx, name,
			 out.n_deep);
	patch = check(&L, fx, "vision.patch", out.patch, (uint64_t)out.n_patch * out.n_embd);
	blocks = check_each(&L, fx, "vision.block", out.blocks, out.n_layer,
			    (uint64_t)out.n_patch * out.n_embd);
	print_message("%s: %zu patches in %zu grids -> %zu tokens; max relative error: embd %.3g, "
		      "deepstack %.3g (%u), patch %.3g, blocks %.3g\n", fx, out.n_patch, L.n_img,
		      out.n_tok, embd, deep, out.n_deep, patch, blocks);
	rf_vis_out_free(&out);
	unload(&L);
}

/* the same bits for 1 thread scalar, 3 threads SIMD, 2 threads AVX2 only */
static void test_deterministic(void **state)
{
	const char *fx = *state;
	struct loaded L;
	struct rf_vis_out a, b, c;
	struct rf_vis_opts o;
	qk_err err;
	size_t n;

	load(fx, &L);
	run(&L, fx, 1, false, true, &a);
	run(&L, fx, 3, true, true, &b);
	rf_vis_opts_init(&o);
	o.n_threads = 2;
	o.no_avx512 = true;
	o.keep_blocks = true;
	if (rf_vis_run(&L.vm, L.pixels, L.n_patch, (const uint32_t(*)[3])L.grid, L.n_img, &o, &c,
		       &err))
		fail_msg("%s: %s", fx, err.msg);
	n = a.n_tok * a.out_dim;
	assert_memory_equal(a.embd, b.embd, n * sizeof(float));
	assert_memory_equal(a.embd, c.embd, n * sizeof(float));
	if (a.n_deep) {
		assert_memory_equal(a.deep, b.deep, a.n_deep * n * sizeof(float));
		assert_memory_equal(a.deep, c.deep, a.n_deep * n * sizeof(float));
	}
	assert_memory_equal(a.blocks, b.blocks, (size_t)a.n_layer * a.n_patch * a.n_embd * 4);
	print_message("%s: identical bits: 1 thread scalar, 3 threads %s, 2 threads AVX2\n", fx,
		      b.simd ? "SIMD" : "scalar (no SIMD on this CPU)");
	rf_vis_out_free(&a);
	rf_vis_out_free(&b);
	rf_vis_out_free(&c);
	unload(&L);
}

/* what a caller's grid must satisfy */
static void test_grid_refusals(void **state)
{
	struct loaded L;
	struct rf_vis_out out;
	const uint32_t odd[1][3] = { { 1, 3, 8 } }, zero[1][3] = { { 0, 4, 8 } };
	const uint32_t big[1][3] = { { 1, 4, 5000 } };
	qk_err err;
	size_t n;

	(void)state;
	load("testdata/models/qwen3_vl", &L);
	assert_int_equal(rf_vis_check_grid(&L.vm.hp, odd, 1, &n, &err), QK_E_USAGE);
	assert_non_null(strstr(err.msg, "multiples of spatial_merge_size 2"));
	assert_int_equal(rf_vis_check_grid(&L.vm.hp, zero, 1, &n, &err), QK_E_USAGE);
	assert_non_null(strstr(err.msg, "grid 0,4,8"));
	assert_int_equal(rf_vis_check_grid(&L.vm.hp, big, 1, &n, &err), QK_E_USAGE);
	/* pixel rows that do not match the grid */
	assert_int_equal(rf_vis_run(&L.vm, L.pixels, L.n_patch - 4, (const uint32_t(*)[3])L.grid,
				    L.n_img, NULL, &out, &err), QK_E_USAGE);
	assert_non_null(strstr(err.msg, "76 pixel rows for grids of 80 patches"));
	assert_null(out.embd);
	unload(&L);
}

/* every golden fixture with a vision tower has its expected vision outputs
 * and is in vl_fixtures (a new VL fixture is not left out silently) */
static void test_every_vl_fixture(void **state)
{
	static const char *const names[] = { QK_FIXTURE_NAMES };
	char path[256];

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		cJSON *root = NULL;
		bool listed = false;
		qk_err err;

		snprintf(path, sizeof(path), "testdata/models/%s/config.json", names[i]);
		if (qk_json_load(path, &root, &err))
			fail_msg("%s", err.msg);
		if (cJSON_GetObjectItemCaseSensitive(root, "vision_config")) {
			snprintf(path, sizeof(path), "testdata/models/%s", names[i]);
			for (size_t k = 0; k < sizeof(vl_fixtures) / sizeof(vl_fixtures[0]); k++)
				listed |= strcmp(vl_fixtures[k], path) == 0;
			if (!listed)
				fail_msg("%s has a vision tower but no vision golden test: run "
					 "testdata/gen/vision_oracle.py %s (expected_vision.safetensors) "
					 "and add it to vl_fixtures", names[i], path);
		}
		cJSON_Delete(root);
	}
}

#define FX(i) cmocka_unit_test_prestate(test_golden, vl_fixtures[i])
#define DET(i) cmocka_unit_test_prestate(test_deterministic, vl_fixtures[i])

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX(0), FX(1), FX(2), FX(3), FX(4), FX(5), FX(6),
		DET(0), DET(1), DET(2), DET(3), DET(4), DET(5), DET(6),
		cmocka_unit_test(test_grid_refusals),
		cmocka_unit_test(test_every_vl_fixture),
	};

	_Static_assert(sizeof(vl_fixtures) / sizeof(vl_fixtures[0]) == 7, "one test per fixture");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
