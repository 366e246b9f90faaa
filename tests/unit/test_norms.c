/* test_norms.c - the normalisations of the forward pass on inputs whose
 * norm is comparable to or far below their epsilon, where a wrong epsilon
 * changes the result by a large factor (on the golden fixtures the
 * activations are O(1), so an epsilon of 1e-5 for 1e-6 moves the logits by
 * less than the measurement noise and no fixture can see it).
 *
 * Expected values are computed here in float64 from the definitions in
 * transformers 5.23.0 (not from our code):
 *   - Qwen2RMSNorm / Qwen3NextRMSNorm: x * rsqrt(mean(x^2) + eps) * w
 *     (eps = config rms_norm_eps, 1e-6 in every Qwen config);
 *   - Qwen3-Next's Gated DeltaNet q and k: l2norm(x, dim=-1, eps=1e-6) =
 *     x * rsqrt(sum(x^2) + 1e-6) (modeling_qwen3_next.py), an epsilon fixed
 *     in the code, not taken from the config.
 * fp32 against float64: each output within REL_BUDGET of its expected
 * value relative to the largest |expected| of the vector (a few fp32 ulps).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../ref/fwd_priv.h"

#define N 16             /* head_dim of the qwen3_next fixture's GDN heads */
#define REL_BUDGET 4e-7  /* ~3 fp32 ulps of the largest output */

/* transformers' l2norm eps and the configs' rms_norm_eps */
#define HF_L2NORM_EPS 1e-6
#define HF_RMS_EPS 1e-6

static struct rf_ctx ctx(bool simd)
{
	struct rf_ctx c;

	memset(&c, 0, sizeof(c));
	rf_dot_pick(&c.dot, simd, true);
	return c;
}

/* a deterministic vector of n values of magnitude about `scale` */
static void vec(float *x, size_t n, double scale, unsigned seed)
{
	uint32_t s = 2463534242u ^ seed;

	for (size_t i = 0; i < n; i++) {
		s ^= s << 13;
		s ^= s >> 17;
		s ^= s << 5;
		x[i] = (float)(scale * (((double)(s % 2001) - 1000.0) / 1000.0));
	}
}

static void expect_close(const char *what, double scale, const float *got, const double *want,
			 size_t n)
{
	double m = 0.0;

	for (size_t i = 0; i < n; i++)
		m = fabs(want[i]) > m ? fabs(want[i]) : m;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(got[i]) || fabs(got[i] - want[i]) > REL_BUDGET * m)
			fail_msg("%s, inputs of magnitude %g: value %zu is %.9g, transformers' "
				 "definition gives %.9g (budget %.2g of %.3g)", what, scale, i,
				 (double)got[i], want[i], REL_BUDGET, m);
	}
}

/* l2norm on vectors with sum x^2 from 1e-14 (eps dominates) to 1e4 */
static void test_l2norm(void **state)
{
	static const double scales[] = { 1e-7, 1e-6, 1e-5, 1e-4, 3e-4, 1e-3, 0.1, 1.0, 30.0 };

	(void)state;
	for (int simd = 0; simd < 2; simd++) {
		const struct rf_ctx c = ctx(simd != 0);

		for (size_t k = 0; k < sizeof(scales) / sizeof(scales[0]); k++) {
			float x[N];
			double want[N], ss = 0.0;

			vec(x, N, scales[k], (unsigned)k);
			for (size_t i = 0; i < N; i++)
				ss += (double)x[i] * x[i];
			for (size_t i = 0; i < N; i++)
				want[i] = x[i] / sqrt(ss + HF_L2NORM_EPS);
			rf_l2norm(&c, x, N);
			expect_close(simd ? "rf_l2norm (AVX2 dot)" : "rf_l2norm", scales[k], x, want,
				     N);
		}
	}
}

/* the norm of a tiny head is far below 1: the epsilon, not the input, sets
 * the scale (this is what an epsilon of 1e-5, 1e-4 or 0 gets wrong) */
static void test_l2norm_eps_dominates(void **state)
{
	const struct rf_ctx c = ctx(false);
	float x[N], zero[N] = { 0 };
	double ss = 0.0, norm = 0.0;

	(void)state;
	vec(x, N, 1e-5, 7);
	for (size_t i = 0; i < N; i++)
		ss += (double)x[i] * x[i];
	rf_l2norm(&c, x, N);
	for (size_t i = 0; i < N; i++)
		norm += (double)x[i] * x[i];
	norm = sqrt(norm);
	/* |l2norm(x)| = sqrt(ss / (ss + 1e-6)) */
	if (fabs(norm - sqrt(ss / (ss + HF_L2NORM_EPS))) > 1e-6 * norm)
		fail_msg("|l2norm(x)| for |x|^2 = %.3g is %.6g, expected %.6g (eps 1e-6)", ss, norm,
			 sqrt(ss / (ss + HF_L2NORM_EPS)));
	rf_l2norm(&c, zero, N);
	for (size_t i = 0; i < N; i++)
		if (zero[i] != 0.0f)
			fail_msg("l2norm of a zero head: value %zu is %g, expected 0", i,
				 (double)zero[i]);
}

/* RMSNorm with the epsilon it is given: tiny and ordinary inputs, the
 * configs' 1e-6 and another value (Qwen1's layer_norm_epsilon may differ) */
static void test_rmsnorm(void **state)
{
	static const double scales[] = { 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1.0, 100.0 };
	static const double epss[] = { HF_RMS_EPS, 1e-5 };

	(void)state;
	for (int simd = 0; simd < 2; simd++) {
		const struct rf_ctx c = ctx(simd != 0);

		for (size_t e = 0; e < 2; e++) {
			for (size_t k = 0; k < sizeof(scales) / sizeof(scales[0]); k++) {
				float x[N], w[N], y[N];
				double want[N], ms = 0.0;
				char what[64];

				vec(x, N, scales[k], (unsigned)(k + 100));
				vec(w, N, 1.0, (unsigned)(k + 200));
				for (size_t i = 0; i < N; i++)
					ms += (double)x[i] * x[i];
				ms /= N;
				for (size_t i = 0; i < N; i++)
					want[i] = w[i] * (x[i] / sqrt(ms + epss[e]));
				rf_rmsnorm(&c, x, w, N, (float)epss[e], y);
				snprintf(what, sizeof(what), "rf_rmsnorm eps %g%s", epss[e],
					 simd ? " (AVX2 dot)" : "");
				expect_close(what, scales[k], y, want, N);
				/* in place, as the GDN output norm calls it */
				rf_rmsnorm(&c, x, w, N, (float)epss[e], x);
				expect_close(what, scales[k], x, want, N);
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_l2norm),
		cmocka_unit_test(test_l2norm_eps_dominates),
		cmocka_unit_test(test_rmsnorm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
