/* test_model_check.c - qk_model_check_values: computable matrices and the
 * non-finite weight policy (model.h), on the in-memory qwen2 fixture. */
#include "model_fixture.h"

static void poke(struct qk_tensor *t, uint64_t i, float v)
{
	memcpy((void *)(uintptr_t)(t->data + 4 * i), &v, 4);
}

static void test_clean_model_passes(void **state)
{
	struct fx f;
	qk_err e;

	(void)state;
	qwen2_model(&f, true);
	fx_ok(&f);
	assert_int_equal(qk_model_check_values(&f.m, true, &e), QK_OK);
	fx_free(&f);
}

static void test_nan_in_matrix_named(void **state)
{
	struct fx f;
	qk_err e;

	(void)state;
	qwen2_model(&f, true);
	/* [12, 8]: element 2 * 8 + 5 is row 2, column 5; a later one too */
	poke(find(&f, "model.layers.1.mlp.up_proj.weight"), 2 * 8 + 5, NAN);
	poke(find(&f, "model.layers.1.mlp.up_proj.weight"), 7 * 8 + 1, INFINITY);
	fx_ok(&f);
	assert_int_equal(qk_model_check_values(&f.m, true, &e), QK_E_INVALID);
	assert_non_null(strstr(e.msg, "tensor 'model.layers.1.mlp.up_proj.weight': element 21 "
				      "(row 2, column 5) is NaN: " QK_NONFINITE_REFUSED));
	assert_int_equal(qk_model_check_values(&f.m, false, &e), QK_OK); /* allowed */
	fx_free(&f);
}

static void test_inf_in_norm_named(void **state)
{
	struct fx f;
	qk_err e;

	(void)state;
	qwen2_model(&f, true);
	poke(find(&f, "model.layers.0.post_attention_layernorm.weight"), 6, -INFINITY);
	fx_ok(&f);
	assert_int_equal(qk_model_check_values(&f.m, true, &e), QK_E_INVALID);
	assert_non_null(strstr(e.msg, "tensor 'model.layers.0.post_attention_layernorm.weight': "
				      "element 6 is -Inf"));
	fx_free(&f);
}

static void test_f8_matrix_refused_even_when_allowed(void **state)
{
	struct fx f;
	struct qk_tensor *t;
	qk_err e;

	(void)state;
	qwen2_model(&f, true);
	t = find(&f, "model.layers.1.mlp.down_proj.weight");
	t->dtype = QK_DT_F8_E4M3;
	t->nbytes = t->n_elem;
	fx_ok(&f);
	for (int allow = 0; allow < 2; allow++) {
		assert_int_equal(qk_model_check_values(&f.m, !allow, &e), QK_E_UNSUPPORTED);
		assert_non_null(strstr(e.msg, "model.layers.1.mlp.down_proj.weight"));
		assert_non_null(strstr(e.msg, "F8_E4M3"));
	}
	fx_free(&f);
}

static void test_first_nonfinite(void **state)
{
	const float x[5] = { 1, -2, 0, NAN, INFINITY };
	uint64_t at = 99;

	(void)state;
	assert_false(qk_first_nonfinite(x, 3, &at));
	assert_int_equal(at, 99);
	assert_true(qk_first_nonfinite(x, 5, &at));
	assert_int_equal(at, 3);
	assert_true(qk_first_nonfinite(x + 4, 1, &at));
	assert_int_equal(at, 0);
}

/* the blocked search (64 at a time) and the raw F32/F16/BF16 bit tests:
 * the first bad element wherever it falls, the largest finite values and
 * the smallest non-finite patterns at every position of 200 */
static void test_first_nonfinite_blocks_and_raw(void **state)
{
	static const struct { int dtype; int width; uint32_t max_finite, inf, nan; } ty[] = {
		{ QK_DT_F32, 4, 0x7f7fffffu, 0x7f800000u, 0xff800001u },
		{ QK_DT_F16, 2, 0x7bffu, 0x7c00u, 0xfc01u },
		{ QK_DT_BF16, 2, 0x7f7fu, 0x7f80u, 0xff81u },
	};
	float x[200];
	uint8_t raw[800];
	uint64_t at;

	(void)state;
	for (size_t t = 0; t < sizeof(ty) / sizeof(ty[0]); t++)
		for (int bad = -1; bad < 200; bad++)
			for (int kind = 0; kind < 2; kind++) {
				const int w = ty[t].width;

				for (int i = 0; i < 200; i++) {
					uint32_t u = i == bad ? (kind ? ty[t].nan : ty[t].inf)
							      : (i % 7 ? ty[t].max_finite : 0);
					uint32_t later = kind ? ty[t].inf : ty[t].nan;

					if (bad >= 0 && i > bad && i % 5 == 0)
						u = later; /* the first one counts */
					for (int b = 0; b < w; b++)
						raw[w * i + b] = (uint8_t)(u >> (8 * b));
					if (w == 4)
						memcpy(&x[i], &u, 4);
				}
				at = 999;
				assert_int_equal(qk_first_nonfinite_raw(ty[t].dtype, raw, 200, &at),
						 bad >= 0);
				if (bad >= 0)
					assert_int_equal(at, bad);
				if (w == 4) {
					at = 999;
					assert_int_equal(qk_first_nonfinite(x, 200, &at), bad >= 0);
					if (bad >= 0)
						assert_int_equal(at, bad);
				}
			}
	assert_int_equal(qk_first_nonfinite_raw(QK_DT_F64, raw, 1, &at), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_model_passes),
		cmocka_unit_test(test_nan_in_matrix_named),
		cmocka_unit_test(test_inf_in_norm_named),
		cmocka_unit_test(test_f8_matrix_refused_even_when_allowed),
		cmocka_unit_test(test_first_nonfinite),
		cmocka_unit_test(test_first_nonfinite_blocks_and_raw),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
