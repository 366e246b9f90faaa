/* test_tstats.c - tensor statistics and difference metrics against values
 * worked out by hand. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include "../../ref/tstats.h"

static void test_stats_basic(void **state)
{
	/* 2, 4, 4, 4, 5, 5, 7, 9: mean 5, population std 2 (textbook example) */
	const float x[] = { 2, 4, 4, 4, 5, 5, 7, 9 };
	struct ts_stats s;

	(void)state;
	ts_stats_init(&s);
	ts_stats_add(&s, x, 3);   /* chunked feeding gives the same result */
	ts_stats_add(&s, x + 3, 5);
	assert_int_equal(s.n, 8);
	assert_true(s.min == 2.0 && s.max == 9.0);
	assert_true(fabs(s.mean - 5.0) < 1e-12);
	assert_true(fabs(ts_stats_std(&s) - 2.0) < 1e-12);
}

static void test_stats_nonfinite_counted_not_summed(void **state)
{
	const float x[] = { 1.0f, NAN, INFINITY, -INFINITY, 3.0f };
	struct ts_stats s;

	(void)state;
	ts_stats_init(&s);
	ts_stats_add(&s, x, 5);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.n_nan, 1);
	assert_int_equal(s.n_inf, 2);
	assert_true(s.min == 1.0 && s.max == 3.0 && s.mean == 2.0);
}

static void test_diff_metrics(void **state)
{
	const float a[] = { 1, 2, 3, 4 };
	const float b[] = { 1, 2, 3, 6 };
	const float z[] = { 0, 0, 0, 0 };
	struct ts_diff d;

	(void)state;
	ts_diff_init(&d);
	ts_diff_add(&d, a, b, 4);
	assert_true(d.max_abs == 2.0);
	assert_true(fabs(ts_diff_rmse(&d) - 1.0) < 1e-12);        /* sqrt(4/4) */
	assert_true(fabs(ts_diff_nmse(&d) - 4.0 / 30.0) < 1e-12);  /* 4 / (1+4+9+16) */
	assert_true(fabs(ts_diff_cosine(&d) - 38.0 / sqrt(30.0 * 50.0)) < 1e-12);
	ts_diff_init(&d);
	ts_diff_add(&d, a, a, 4);
	assert_true(ts_diff_nmse(&d) == 0.0 && ts_diff_rmse(&d) == 0.0);
	assert_true(fabs(ts_diff_cosine(&d) - 1.0) < 1e-15);
	ts_diff_init(&d);
	ts_diff_add(&d, z, z, 4);
	assert_true(ts_diff_cosine(&d) == 1.0 && ts_diff_nmse(&d) == 0.0);
	ts_diff_init(&d);
	ts_diff_add(&d, z, a, 4);
	assert_true(ts_diff_cosine(&d) == 0.0 && isinf(ts_diff_nmse(&d)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats_basic),
		cmocka_unit_test(test_stats_nonfinite_counted_not_summed),
		cmocka_unit_test(test_diff_metrics),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
