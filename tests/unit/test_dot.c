/* test_dot.c - the canonical dot product (ref/dot.h): the scalar path follows
 * the specification of ref/README.md, rule 3 (values worked out by hand below), and the
 * AVX2 path and the four-way forms give the same bits for every input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../ref/dot.h"

#define TWO24 16777216.0f /* 2^24: above it fp32 spacing is 2, so 2^24 + 1 rounds to 2^24 */

static uint32_t bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

/* a[i] at the given indices, zero elsewhere; b all ones */
static void sparse(float *a, float *b, size_t n, const size_t *idx, const float *val, size_t k)
{
	for (size_t i = 0; i < n; i++) {
		a[i] = 0.0f;
		b[i] = 1.0f;
	}
	for (size_t i = 0; i < k; i++)
		a[idx[i]] = val[i];
}

/* element i goes to partial sum i mod 8: 2^24 and two 1s in s0 round away
 * one at a time (2^24 + 1 -> 2^24), while 1s in s1 survive, so
 * s0 = 2^24, s1 = 2, result 2^24 + 2. A plain left-to-right sum gives 2^24. */
static void test_spec_lanes(void **state)
{
	float a[24], b[24];
	const size_t idx[] = { 0, 8, 16, 1, 9 };
	const float val[] = { TWO24, 1.0f, 1.0f, 1.0f, 1.0f };

	(void)state;
	sparse(a, b, 24, idx, val, 5);
	assert_int_equal(bits(rf_dot_scalar(a, b, 24)), bits(TWO24 + 2.0f));
}

/* the combine is ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)):
 * s0 = 2^24, s1 = 1, s2 = 1: (s0 + s1) = 2^24 (tie to even), (s2 + s3) = 1,
 * 2^24 + 1 = 2^24 again; s4..s7 = 1 each: (1 + 1) + (1 + 1) = 4; total
 * 2^24 + 4. Any order that adds s1 and s2 first would give 2^24 + 6. */
static void test_spec_combine(void **state)
{
	float a[8], b[8];
	const size_t idx[] = { 0, 1, 2, 4, 5, 6, 7 };
	const float val[] = { TWO24, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f };

	(void)state;
	sparse(a, b, 8, idx, val, 7);
	assert_int_equal(bits(rf_dot_scalar(a, b, 8)), bits(TWO24 + 4.0f));
}

/* one rounded multiply, then one rounded add (no fused multiply-add):
 * s0 = -(1 + 2^-11) from element 0, then element 8 adds (1 + 2^-12)^2 =
 * 1 + 2^-11 + 2^-24, which rounds to 1 + 2^-11 (a tie, to even) before the
 * add: s0 = 0. A fused multiply-add would keep 2^-24. */
static void test_spec_no_fma(void **state)
{
	const float e = 1.0f + 0x1p-12f;
	float a[16] = { -(1.0f + 0x1p-11f), 0, 0, 0, 0, 0, 0, 0, e };
	float b[16] = { 1.0f, 0, 0, 0, 0, 0, 0, 0, e };

	(void)state;
	assert_int_equal(bits(rf_dot_scalar(a, b, 16)), bits(0.0f));
	assert_int_equal(bits(rf_dot_scalar(a, b, 9)), bits(0.0f));
	assert_int_equal(bits(rf_dot_scalar(a, b, 0)), bits(0.0f));
	if (rf_cpu_has_avx2()) { /* element 8 in the vector loop, then in the tail */
		assert_int_equal(bits(rf_dot_avx2(a, b, 16)), bits(0.0f));
		assert_int_equal(bits(rf_dot_avx2(a, b, 9)), bits(0.0f));
	}
}

/* deterministic pseudo-random floats of varied magnitude and sign */
static uint64_t rng = 0x9e3779b97f4a7c15u;

static float rnd(void)
{
	uint32_t u;
	float m;
	int e;

	rng = rng * 6364136223846793005u + 1442695040888963407u;
	u = (uint32_t)(rng >> 32);
	m = (float)(u & 0xffffffu) / 16777216.0f;           /* [0, 1) */
	e = (int)((u >> 24) & 0x3f) - 32;                   /* 2^-32 .. 2^31 */
	return ((u >> 30) & 1 ? -m : m) * ldexpf(1.0f, e / 2);
}

static void fill(float *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		x[i] = rnd();
}

static void skip_without_avx2(void)
{
	if (!rf_cpu_has_avx2()) {
		print_message("no AVX2 on this CPU: nothing to compare\n");
		skip();
	}
}

static void test_avx2_same_bits(void **state)
{
	static float a[5000], b[5000];
	const size_t lens[] = { 1, 7, 8, 9, 15, 16, 17, 31, 64, 100, 255, 1000, 4097, 5000 };

	(void)state;
	skip_without_avx2();
	for (int round = 0; round < 20; round++) {
		fill(a, 5000);
		fill(b, 5000);
		for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
			const float s = rf_dot_scalar(a, b, lens[k]), v = rf_dot_avx2(a, b, lens[k]);

			if (bits(s) != bits(v))
				fail_msg("n %zu round %d: scalar %a (0x%08x), avx2 %a (0x%08x)",
					 lens[k], round, (double)s, bits(s), (double)v, bits(v));
		}
	}
	for (size_t n = 0; n <= 70; n++) { /* every tail length */
		fill(a, n);
		fill(b, n);
		assert_int_equal(bits(rf_dot_scalar(a, b, n)), bits(rf_dot_avx2(a, b, n)));
	}
}

static float nan_bits(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

/* infinities, a NaN, signed zeros and subnormals take the same path too */
static void test_avx2_special_values(void **state)
{
	float a[19], b[19];
	const float sp[] = { INFINITY, -INFINITY, NAN, -0.0f, 0x1p-140f, -0x1p-149f, 3.0e38f };

	(void)state;
	skip_without_avx2();
	for (size_t k = 0; k < sizeof(sp) / sizeof(sp[0]); k++) {
		for (size_t pos = 0; pos < 19; pos++) {
			fill(a, 19);
			fill(b, 19);
			a[pos] = sp[k];
			b[(pos * 7) % 19] = sp[(k + 3) % 7];
			assert_int_equal(bits(rf_dot_scalar(a, b, 19)), bits(rf_dot_avx2(a, b, 19)));
		}
	}
	/* NaNs with different payloads meeting in one partial sum or in the
	 * combine: NaN on both paths (which payload wins is not specified: C
	 * lets a compiler commute the operands of +) */
	for (size_t p1 = 0; p1 < 19; p1++) {
		for (size_t p2 = 0; p2 < 19; p2++) {
			const size_t n = p1 > p2 ? p1 + 1 : p2 + 1;

			fill(a, 19);
			fill(b, 19);
			a[p1] = nan_bits(0x7fc00001u);
			b[p2] = nan_bits(0xffc00abcu);
			assert_true(isnan(rf_dot_scalar(a, b, n)) && isnan(rf_dot_avx2(a, b, n)));
		}
	}
	for (size_t i = 0; i < 19; i++) {
		a[i] = -0.0f;
		b[i] = 1.0f;
	}
	/* (-0) * 1 added to +0 is +0 in every lane */
	assert_int_equal(bits(rf_dot_scalar(a, b, 19)), bits(0.0f));
	assert_int_equal(bits(rf_dot_avx2(a, b, 19)), bits(0.0f));
}

/* rf_dot_pick: the scalar path when asked, AVX2 where the CPU has it, the
 * AVX-512 blocked kernel only when also allowed */
static void test_pick(void **state)
{
	struct rf_dot_impl impl[3];

	(void)state;
	rf_dot_pick(&impl[0], false, true);
	rf_dot_pick(&impl[1], true, false);
	rf_dot_pick(&impl[2], true, true);
	assert_false(impl[0].simd);
	assert_true(impl[0].dot == rf_dot_scalar && impl[0].acc4x4 == rf_acc4x4_scalar);
	assert_true(impl[1].simd == rf_cpu_has_avx2());
	assert_false(impl[1].avx512);
	assert_true(impl[2].avx512 == (rf_cpu_has_avx2() && rf_cpu_has_avx512()));
}

/* the blocked kernels: for every chunking of the columns (chunks of 8, 16,
 * 24, 256 or all; the last one takes the tail), every (row, vector) pair
 * folds to the bits of the scalar specification; every tail length, special
 * values in one row */
static void test_acc4x4(void **state)
{
	static float w[4][600], x[4][600];
	const rf_acc4x4_fn fns[3] = { rf_acc4x4_scalar, rf_acc4x4_avx2, rf_acc4x4_avx512 };
	const bool ok[3] = { true, rf_cpu_has_avx2(), rf_cpu_has_avx512() };
	const size_t chunks[5] = { 8, 16, 24, 256, 0 };
	float acc[128];

	(void)state;
	if (!ok[2])
		print_message("no AVX-512 on this CPU: its kernel is not compared\n");
	for (size_t n = 0; n < 600; n += n < 40 ? 1 : 37) {
		for (int k = 0; k < 4; k++) {
			fill(w[k], n);
			fill(x[k], n);
		}
		if (n > 20) {
			w[1][n - 3] = INFINITY;
			x[2][5] = -0.0f;
			w[3][n / 2] = 0x1p-140f;
		}
		for (int f = 0; f < 3; f++) {
			for (int ch = 0; ch < 5 && ok[f]; ch++) {
				const size_t step = chunks[ch] ? chunks[ch] : n + 1;

				memset(acc, 0, sizeof(acc));
				for (size_t c0 = 0; c0 < n; c0 += step) {
					const size_t m = n - c0 < step ? n - c0 : step;
					const float *const ws[4] = { w[0] + c0, w[1] + c0, w[2] + c0,
								     w[3] + c0 };
					const float *const xs[4] = { x[0] + c0, x[1] + c0, x[2] + c0,
								     x[3] + c0 };

					fns[f](ws, xs, m, acc);
				}
				for (int r = 0; r < 4; r++)
					for (int k = 0; k < 4; k++) {
						const float want = rf_dot_scalar(w[r], x[k], n);
						const float got = rf_dot_fold(acc + (4 * r + k) * 8);

						if (bits(got) != bits(want) && !(isnan(want) && isnan(got)))
							fail_msg("kernel %d n %zu chunk %zu row %d x %d: "
								 "%a, scalar %a", f, n, chunks[ch], r, k,
								 (double)got, (double)want);
					}
			}
		}
	}
}

/* bf16 widening: every path gives the bits shifted into the high half */
static void test_widen_bf16(void **state)
{
	uint8_t src[2 * 37 + 1];
	float a[37], b[37];

	(void)state;
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 37 + 11);
	for (size_t n = 0; n <= 37; n++) {
		memset(a, 0, sizeof(a));
		memset(b, 0, sizeof(b));
		rf_widen_bf16_scalar(src + 1, a, n);
		if (rf_cpu_has_avx2())
			rf_widen_bf16_avx2(src + 1, b, n);
		else
			memcpy(b, a, sizeof(b));
		for (size_t i = 0; i < n; i++) {
			const uint32_t want = (uint32_t)(src[1 + 2 * i] | src[2 + 2 * i] << 8) << 16;

			assert_int_equal(bits(a[i]), want);
			assert_int_equal(bits(b[i]), want);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_lanes),
		cmocka_unit_test(test_spec_combine),
		cmocka_unit_test(test_spec_no_fma),
		cmocka_unit_test(test_avx2_same_bits),
		cmocka_unit_test(test_avx2_special_values),
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_acc4x4),
		cmocka_unit_test(test_widen_bf16),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
