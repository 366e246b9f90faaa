/* test_metrics.c - the comparison metrics of ref/metrics.h.
 *
 * Expected values are worked out by hand in the comments (two-token rows whose
 * softmax has a closed form) or come from NumPy along a different path
 * (testdata/gen/metrics_oracle.py: direct softmax without a max shift, KLD as
 * sum p log(p / q), NumPy's own "linear" percentile, which is llama.cpp's
 * rule).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../ref/metrics.h"

/* NumPy 2.4.6, testdata/gen/metrics_oracle.py */
#define X_KLD0 0.00048410077800378352
#define X_KLD_MEAN 0.00051423661122800013
#define X_KLD_MEDIAN 0.00050991618740244579
#define X_KLD_P90 0.0005536560930071697
#define X_KLD_P99 0.00057812108318834674
#define X_KLD_P999 0.0005805675822064645
#define X_KLD_MIN 0.00047417432854498576
#define X_KLD_MAX 0.0005808394154306997
#define X_TOP1 1
#define X_PPL_REF 511.21168558883181
#define X_PPL_CAND 498.36500683926101
#define X_PPL_RATIO 0.97487013870824657
#define X_DP_MEAN 0.00027402785093019489
#define X_RMS_DP 0.00051910952603272662
#define X_MAX_ABS_LOGIT_DIFF 0.046875
#define X_LOGITS_NMSE 0.00029526839999025918
#define X_S_KLD_MEAN 0.00048944482551253486
#define X_S_KLD_MEAN_ERR 7.2204809152749554e-06
#define X_S_KLD_P10 0.00045088362107548343
#define X_S_KLD_P01 0.00042949668192164038
#define X_S_PPL_REF_ERR 155.5415396952915
#define X_S_PPL_CAND_ERR 154.48961094119582
#define X_S_LN_RATIO -0.00012577831700077979
#define X_S_LN_RATIO_ERR 0.006446411457338719
#define X_S_LN_COR 0.99990205912641883
#define X_S_PPL_DIFF_ERR 2.4111210512379655
#define X_S_DP_MEAN_ERR 0.00014031242832853905
#define X_S_DP_MAX 0.0023165934180644707
#define X_S_DP_P75 1.3081215951776893e-05
#define X_S_DP_MEDIAN -2.620521470332246e-07
#define X_S_DP_P05 -0.0012360038025472455
#define X_S_DP_MIN -0.0016550484802319125
#define X_S_RMS_DP 0.00068483689844916627
#define X_S_RMS_DP_ERR 0.00018288216534145411
#define X_S_TOP1 1

/* |got - want| <= rel * |want| (or <= rel when want is 0) */
static void near(double got, double want, double rel, const char *what)
{
	const double tol = want == 0.0 ? rel : rel * fabs(want);

	if (!(fabs(got - want) <= tol))
		fail_msg("%s: got %.17g, expected %.17g (tolerance %.3g)", what, got, want, tol);
}

/* log(e^1 + e^2 + e^3) = log(2.718281828 + 7.389056099 + 20.08553692)
 * = log(30.19287485) = 3.4076059644; two zeros: log 2 */
static void test_log_sum_exp(void **state)
{
	const float a[3] = { 1, 2, 3 }, b[2] = { 0, 0 }, c[2] = { 1, NAN };

	(void)state;
	near(rm_log_sum_exp(a, 3), 3.4076059644443806, 1e-15, "lse(1,2,3)");
	near(rm_log_sum_exp(b, 2), log(2.0), 1e-15, "lse(0,0)");
	/* a shift of 1000 would overflow exp() without the max shift */
	{
		const float d[2] = { 1000, 1000 };
		near(rm_log_sum_exp(d, 2), 1000 + log(2.0), 1e-15, "lse(1000,1000)");
	}
	assert_true(isnan(rm_log_sum_exp(c, 2)));
	assert_true(isnan(rm_log_sum_exp(a, 0)));
}

static void test_argmax_topk(void **state)
{
	const float x[5] = { 1, 5, 3, 5, 2 }, y[3] = { NAN, 2, 1 };
	uint32_t ids[8];

	(void)state;
	assert_int_equal(rm_argmax(x, 5), 1);     /* tie 5/5: the lower id */
	assert_int_equal(rm_argmax(y, 3), 1);     /* NaN skipped */
	assert_int_equal(rm_top_k(x, 5, 3, ids), 3);
	assert_int_equal(ids[0], 1);
	assert_int_equal(ids[1], 3);
	assert_int_equal(ids[2], 2);
	assert_int_equal(rm_top_k(x, 5, 8, ids), 5); /* k > n: all, sorted */
	assert_int_equal(ids[3], 4);
	assert_int_equal(ids[4], 0);
	assert_int_equal(rm_top_k(y, 3, 3, ids), 2);
	assert_int_equal(ids[0], 1);
	assert_int_equal(ids[1], 2);
	assert_int_equal(rm_top_k(x, 5, 0, ids), 0);
}

/* p = softmax(0, 0) = (1/2, 1/2), q = softmax(1, 0) = (e, 1)/(1 + e):
 * KL(p || q) = sum p log p - sum p log q
 *            = -log 2 - (1/2)(1 - log(1+e) + 0 - log(1+e))
 *            = log(1 + e) - 1/2 - log 2 = 0.12011450695827745 */
static void test_row_closed_form(void **state)
{
	const float p[2] = { 0, 0 }, q[2] = { 1, 0 };
	struct rm_row r;

	(void)state;
	rm_row_compare(p, q, 2, &r);
	near(r.kld, 0.12011450695827745, 1e-14, "kld");
	assert_true(r.finite);
	assert_int_equal(r.top_ref, 0);
	assert_int_equal(r.top_cand, 0);
	near(r.max_abs_diff, 1.0, 0, "max |d|");
	near(r.lse_ref, log(2.0), 1e-15, "lse ref");
	/* KL is not symmetric: KL(q || p) = log 2 - H(q)
	 * = log 2 + (e/(1+e)) (1 - log(1+e)) - log(1+e)/(1+e) = 0.1328... */
	rm_row_compare(q, p, 2, &r);
	{
		const double e = exp(1.0), l = log1p(e);
		near(r.kld, log(2.0) + e / (1 + e) * (1 - l) - l / (1 + e), 1e-14, "kld reversed");
	}
}

/* equal rows: every term p_i (lp_i - lq_i) is exactly 0 */
static void test_row_identity(void **state)
{
	float a[1000];
	struct rm_row r;

	(void)state;
	for (int i = 0; i < 1000; i++)
		a[i] = (float)sin(0.37 * i) * 7.0f;
	rm_row_compare(a, a, 1000, &r);
	assert_true(r.kld == 0.0);
	assert_true(r.max_abs_diff == 0.0);
	assert_int_equal(r.top_ref, r.top_cand);
	/* a constant shift leaves the softmax alone up to rounding */
	{
		float b[1000];
		for (int i = 0; i < 1000; i++)
			b[i] = a[i] + 4.0f;
		rm_row_compare(a, b, 1000, &r);
		assert_true(fabs(r.kld) < 1e-12);
		assert_int_equal(r.top_ref, r.top_cand);
	}
}

static void test_row_nonfinite(void **state)
{
	const float a[3] = { 1, 2, 3 }, b[3] = { 1, NAN, 3 }, c[3] = { 1, INFINITY, 3 };
	struct rm_row r;

	(void)state;
	rm_row_compare(a, b, 3, &r);
	assert_false(r.finite);
	assert_true(isnan(r.kld));
	assert_true(isinf(r.max_abs_diff));
	rm_row_compare(c, a, 3, &r);
	assert_false(r.finite);
	assert_true(isnan(r.kld));
}

/* v = 1..10: x = f (n-1) = 9f; p90: x = 8.1 -> 0.9*9 + 0.1*10 = 9.1;
 * p99: x = 8.91 -> 9.91; p99.9: 9.991; median (5 + 6)/2 = 5.5;
 * [0.1 0.2 0.3 0.4] p90: x = 2.7 -> 0.3*0.3 + 0.7*0.4 = 0.37 (NumPy: 0.37) */
static void test_percentiles(void **state)
{
	double v[10] = { 7, 3, 10, 1, 9, 2, 8, 4, 6, 5 };
	double w[4] = { 0.4, 0.1, 0.3, 0.2 };
	double z[4] = { NAN, 2, -1, 1 };

	(void)state;
	rm_sort(v, 10);
	for (int i = 0; i < 10; i++)
		assert_true(v[i] == i + 1);
	near(rm_percentile(v, 10, 0.90), 9.1, 1e-14, "p90");
	near(rm_percentile(v, 10, 0.99), 9.91, 1e-14, "p99");
	near(rm_percentile(v, 10, 0.999), 9.991, 1e-14, "p99.9");
	near(rm_percentile(v, 10, 0.5), 5.5, 1e-15, "p50");
	assert_true(rm_percentile(v, 10, 0) == 1);
	assert_true(rm_percentile(v, 10, 1) == 10);
	assert_true(rm_percentile(v, 10, -3) == 1);
	near(rm_median(v, 10), 5.5, 0, "median even");
	near(rm_median(v, 9), 5, 0, "median odd");
	rm_sort(w, 4);
	near(rm_percentile(w, 4, 0.9), 0.37, 1e-14, "p90 of 4");
	assert_true(rm_percentile(v, 1, 0.9) == 1);
	assert_true(isnan(rm_percentile(v, 0, 0.5)));
	rm_sort(z, 4);                /* NaN sorts last */
	assert_true(z[0] == -1 && z[1] == 1 && z[2] == 2 && isnan(z[3]));
}

/* Three positions of two logits, tokens 0 1 0:
 *   ref  (1,1) (1,1) (1,1)      p = (1/2, 1/2) everywhere
 *   cand (2,1) (1,1) (1,2)
 * KLD: K = log(1+e) - 1/2 - log 2 at positions 0 and 2 (test_row_closed_form,
 * mirrored), 0 at 1: mean 2K/3, median K, max K, min 0.
 * top-1: ref argmax 0 (tie), cand 0, 0, 1: 2 of 3.
 * predictions: position 0 -> token 1: p = 1/2, q = 1/(1+e); position 1 ->
 * token 0: p = q = 1/2. PPL(ref) = exp(log 2) = 2; PPL(cand) =
 * exp((log(1+e) + log 2)/2) = sqrt(2 (1+e)); ratio sqrt((1+e)/2).
 * dp = 1/(1+e) - 1/2 and 0: RMS |dp|/sqrt 2, mean dp/2.
 * logits: sse 2, sum ref^2 6: NMSE 1/3; max |d| 1. */
static void test_acc_by_hand(void **state)
{
	const float ref[6] = { 1, 1, 1, 1, 1, 1 }, cand[6] = { 2, 1, 1, 1, 1, 2 };
	const int32_t tok[3] = { 0, 1, 0 };
	const double e = exp(1.0), K = log1p(e) - 0.5 - log(2.0), dp = 1 / (1 + e) - 0.5;
	struct rm_acc a;
	struct rm_summary s;

	(void)state;
	rm_acc_init(&a);
	assert_int_equal(rm_acc_add(&a, ref, cand, 3, 2, tok, NULL), QK_OK);
	assert_int_equal(rm_acc_summary(&a, &s, NULL), QK_OK);
	assert_int_equal(s.n_pos, 3);
	assert_int_equal(s.n_pred, 2);
	assert_int_equal(s.n_nonfinite, 0);
	near(s.kld_mean, 2 * K / 3, 1e-14, "kld mean");
	near(s.kld_median, K, 1e-14, "kld median");
	near(s.kld_max, K, 1e-14, "kld max");
	near(s.kld_min, 0, 1e-300, "kld min");
	near(s.kld_p90, K, 1e-14, "kld p90");   /* x = 1.8 between K and K */
	near(s.top1, 2.0 / 3, 1e-15, "top1");
	near(s.ppl_ref, 2, 1e-15, "ppl ref");
	near(s.ppl_cand, sqrt(2 * (1 + e)), 1e-14, "ppl cand");
	near(s.ppl_ratio, sqrt((1 + e) / 2), 1e-14, "ppl ratio");
	near(s.rms_dp, fabs(dp) / sqrt(2.0), 1e-14, "rms dp");
	near(s.dp_mean, dp / 2, 1e-14, "mean dp");
	near(s.max_abs_dp, fabs(dp), 1e-14, "max |dp|");
	near(s.max_abs_logit_diff, 1, 0, "max |dlogit|");
	near(s.logits_nmse, 1.0 / 3, 1e-15, "logits nmse");
	/* a second sequence appends: the same again leaves every mean alone */
	assert_int_equal(rm_acc_add(&a, ref, cand, 3, 2, tok, NULL), QK_OK);
	assert_int_equal(rm_acc_summary(&a, &s, NULL), QK_OK);
	assert_int_equal(s.n_pos, 6);
	assert_int_equal(s.n_pred, 4);
	near(s.kld_mean, 2 * K / 3, 1e-14, "kld mean, two sequences");
	near(s.ppl_cand, sqrt(2 * (1 + e)), 1e-14, "ppl cand, two sequences");
	/* K K K K 0 0 sorted 0 0 K K K K: median (K + K)/2 */
	near(s.kld_median, K, 1e-14, "kld median, two sequences");
	rm_acc_free(&a);
}

/* the NumPy oracle on T = 6, V = 97 (see the top of the file) */
static void test_acc_numpy(void **state)
{
	enum { T = 6, V = 97 };
	static float ref[T * V], cand[T * V];
	const int32_t tok[T] = { 3, 50, 96, 0, 17, 42 };
	struct rm_acc a;
	struct rm_summary s;
	qk_err err;

	(void)state;
	for (int t = 0; t < T; t++)
		for (int i = 0; i < V; i++) {
			ref[t * V + i] = (float)((37 * i + 11 * t) % 101 - 50) / 16.0f;
			cand[t * V + i] = ref[t * V + i] + (float)((53 * i + 5 * t) % 7 - 3) / 64.0f;
		}
	{
		struct rm_row r;
		rm_row_compare(ref, cand, V, &r);
		near(r.kld, X_KLD0, 1e-11, "kld position 0");
	}
	rm_acc_init(&a);
	assert_int_equal(rm_acc_add(&a, ref, cand, T, V, tok, &err), QK_OK);
	assert_int_equal(rm_acc_summary(&a, &s, &err), QK_OK);
	near(s.kld_mean, X_KLD_MEAN, 1e-11, "kld mean");
	near(s.kld_median, X_KLD_MEDIAN, 1e-11, "kld median");
	near(s.kld_p90, X_KLD_P90, 1e-11, "kld p90");
	near(s.kld_p99, X_KLD_P99, 1e-11, "kld p99");
	near(s.kld_p999, X_KLD_P999, 1e-11, "kld p99.9");
	near(s.kld_min, X_KLD_MIN, 1e-11, "kld min");
	near(s.kld_max, X_KLD_MAX, 1e-11, "kld max");
	near(s.top1, X_TOP1, 0, "top1");
	near(s.ppl_ref, X_PPL_REF, 1e-13, "ppl ref");
	near(s.ppl_cand, X_PPL_CAND, 1e-13, "ppl cand");
	near(s.ppl_ratio, X_PPL_RATIO, 1e-13, "ppl ratio");
	near(s.dp_mean, X_DP_MEAN, 1e-11, "mean dp");
	near(s.rms_dp, X_RMS_DP, 1e-11, "rms dp");
	near(s.max_abs_logit_diff, X_MAX_ABS_LOGIT_DIFF, 0, "max |dlogit|");
	near(s.logits_nmse, X_LOGITS_NMSE, 1e-13, "logits nmse");
	rm_acc_free(&a);
}

/* llama-perplexity's standard errors and quantiles on 24 scored positions
 * (n > 10, so they are not zeroed), against the NumPy oracle */
static void test_acc_scored_numpy(void **state)
{
	enum { T = 25, V = 97 };
	static float ref[T * V], cand[T * V];
	int32_t tok[T];
	struct rm_acc a;
	struct rm_summary s;
	qk_err err;

	(void)state;
	for (int t = 0; t < T; t++) {
		tok[t] = (13 * t + 7) % V;
		for (int i = 0; i < V; i++) {
			ref[t * V + i] = (float)((37 * i + 11 * t) % 101 - 50) / 16.0f;
			cand[t * V + i] = ref[t * V + i] + (float)((53 * i + 5 * t) % 7 - 3) / 64.0f;
		}
	}
	rm_acc_init(&a);
	assert_int_equal(rm_acc_add_scored(&a, ref, cand, T - 1, V, tok + 1, &err), QK_OK);
	assert_int_equal(rm_acc_summary(&a, &s, &err), QK_OK);
	assert_int_equal(s.n_pos, T - 1);
	assert_int_equal(s.n_pred, T - 1);
	near(s.kld_mean, X_S_KLD_MEAN, 1e-11, "kld mean");
	near(s.kld_mean_err, X_S_KLD_MEAN_ERR, 1e-6, "kld mean err");
	near(s.kld_p10, X_S_KLD_P10, 1e-11, "kld p10");
	near(s.kld_p01, X_S_KLD_P01, 1e-11, "kld p01");
	near(s.ppl_ref_err, X_S_PPL_REF_ERR, 1e-9, "ppl ref err");
	near(s.ppl_cand_err, X_S_PPL_CAND_ERR, 1e-9, "ppl cand err");
	near(s.ln_ppl_ratio, X_S_LN_RATIO, 1e-9, "ln ratio");
	near(s.ln_ppl_ratio_err, X_S_LN_RATIO_ERR, 1e-6, "ln ratio err");
	near(s.ln_ppl_cor, X_S_LN_COR, 1e-9, "ln ppl correlation");
	near(s.ppl_diff_err, X_S_PPL_DIFF_ERR, 1e-5, "ppl diff err");
	near(s.dp_mean_err, X_S_DP_MEAN_ERR, 1e-9, "dp mean err");
	near(s.dp_q[0], X_S_DP_MAX, 1e-9, "dp max");
	near(s.dp_q[5], X_S_DP_P75, 1e-7, "dp p75");
	near(s.dp_q[6], X_S_DP_MEDIAN, 1e-5, "dp median");
	near(s.dp_q[9], X_S_DP_P05, 1e-9, "dp p05");
	near(s.dp_q[12], X_S_DP_MIN, 1e-9, "dp min");
	near(s.rms_dp, X_S_RMS_DP, 1e-9, "rms dp");
	near(s.rms_dp_err, X_S_RMS_DP_ERR, 1e-7, "rms dp err");
	near(s.top1, X_S_TOP1, 0, "top1");
	near(s.top1_err, 0, 0, "top1 err at 100 %");
	rm_acc_free(&a);
}

static void test_acc_nonfinite_and_errors(void **state)
{
	const float ref[4] = { 1, 2, 3, 4 }, cand[4] = { 1, 2, NAN, 4 };
	const int32_t tok[2] = { 0, 1 }, bad[2] = { 0, 2 };
	struct rm_acc a;
	struct rm_summary s;
	qk_err err;

	(void)state;
	rm_acc_init(&a);
	assert_int_equal(rm_acc_add(&a, ref, cand, 2, 2, tok, &err), QK_OK);
	assert_int_equal(rm_acc_summary(&a, &s, &err), QK_OK);
	assert_int_equal(s.n_nonfinite, 1);
	near(s.top1, 0.5, 0, "top1 with a NaN row");
	assert_true(isnan(s.kld_mean));
	assert_true(isnan(s.kld_max));  /* NaN sorts above every number */
	assert_true(s.kld_min == 0.0);
	assert_true(isinf(s.max_abs_logit_diff));
	assert_true(isnan(s.logits_nmse));
	assert_int_equal(rm_acc_add(&a, ref, ref, 2, 2, bad, &err), QK_E_USAGE);
	assert_non_null(strstr(err.msg, "token id 2 at position 1"));
	assert_int_equal(rm_acc_add(&a, ref, ref, 2, 0, tok, &err), QK_E_USAGE);
	rm_acc_free(&a);
	/* no predictions: PPL is NaN, KLD still counted */
	rm_acc_init(&a);
	assert_int_equal(rm_acc_add(&a, ref, ref, 1, 4, tok, &err), QK_OK);
	assert_int_equal(rm_acc_summary(&a, &s, &err), QK_OK);
	assert_int_equal(s.n_pred, 0);
	assert_true(isnan(s.ppl_ref) && isnan(s.rms_dp));
	assert_true(s.kld_mean == 0.0);
	rm_acc_free(&a);
	rm_acc_init(&a);
	assert_int_equal(rm_acc_summary(&a, &s, &err), QK_OK);
	assert_true(isnan(s.kld_mean) && isnan(s.top1));
	rm_acc_free(&a);
	rm_acc_free(NULL);
}

/* streams: 0 equal; 1 NMSE 1e-8 (d = 1e-4 on values 1); 2 NMSE 0.25 */
static void test_first_divergent(void **state)
{
	float one[4] = { 1, 1, 1, 1 }, near1[4], half[4] = { 0.5f, 0.5f, 0.5f, 0.5f };
	float bad[4] = { 1, 1, NAN, 1 };
	struct ts_diff d[3];

	(void)state;
	for (int i = 0; i < 4; i++)
		near1[i] = 1.0f + 1e-4f;
	for (int i = 0; i < 3; i++)
		ts_diff_init(&d[i]);
	ts_diff_add(&d[0], one, one, 4);
	ts_diff_add(&d[1], one, near1, 4);
	ts_diff_add(&d[2], one, half, 4);
	assert_int_equal(rm_first_divergent(d, 3, 1e-6), 2);
	assert_int_equal(rm_first_divergent(d, 3, 1e-9), 1);
	assert_int_equal(rm_first_divergent(d, 3, 1.0), -1);
	assert_int_equal(rm_first_divergent(d, 3, 0.0), 1);
	assert_false(rm_stream_diverges(&d[0], 0.0));
	ts_diff_add(&d[0], one, bad, 4);        /* a NaN diverges at any level */
	assert_int_equal(rm_first_divergent(d, 3, 1.0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_sum_exp),
		cmocka_unit_test(test_argmax_topk),
		cmocka_unit_test(test_row_closed_form),
		cmocka_unit_test(test_row_identity),
		cmocka_unit_test(test_row_nonfinite),
		cmocka_unit_test(test_percentiles),
		cmocka_unit_test(test_acc_by_hand),
		cmocka_unit_test(test_acc_numpy),
		cmocka_unit_test(test_acc_scored_numpy),
		cmocka_unit_test(test_acc_nonfinite_and_errors),
		cmocka_unit_test(test_first_divergent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
