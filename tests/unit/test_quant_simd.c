/* test_quant_simd.c - the SIMD paths of quant/ (qsimd.h) write the same
 * bytes as the scalar paths, on inputs made to hit every branch of the
 * scalar code: random rows at many scales, coarse grids and half-integers
 * (rounding ties in nearest_int, roundf and the fp16 narrowing), + and -
 * of the same magnitude (the first-wins absmax), flat and all-zero blocks
 * (with -0.0), values below the all-zero threshold, subnormals, huge
 * values, infinities and NaN, and row lengths that leave a partial group
 * of legacy blocks and a tail of fp16 elements.
 *
 * The scalar path is the specification and is checked against llama.cpp
 * by test_quant_golden.c (which tests/run.sh runs on both paths too); this
 * is the differential check on far more, and nastier, inputs. Without
 * AVX2 on the CPU the comparisons are skipped (reported as SKIPPED).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../quant/fp16.h"
#include "../../quant/qsimd.h"
#include "../../quant/qtype.h"
#include "../../quant/quants.h"

#define ROWS_PER_KIND 48
#define N_KINDS 10

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next_u32(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* uniform in [-1, 1) */
static float unif(void)
{
	return (float)((int32_t)next_u32() >> 8) * 0x1p-23f;
}

static const char *const kind_names[N_KINDS] = {
	"random", "grid", "pm-ties", "flat", "tiny", "specials", "outlier", "half-int", "mixed",
	"signed-zeros",
};

/* one row of n floats of the given kind; blocks of 16 see different cases */
static void make_row(int kind, float *x, int64_t n)
{
	const float scales[] = { 1.0f, 1e-3f, 37.5f, 1e-8f, 6e4f, 0.0625f };

	for (int64_t i = 0; i < n; i++) {
		const float s = scales[(i / 16) % 6];
		const uint32_t r = next_u32();

		switch (kind) {
		case 0: x[i] = s * (unif() + unif() + unif()); break;
		case 1: x[i] = s * (float)((int)(r % 33) - 16) / 4.0f; break;
		case 2: x[i] = (r & 1 ? s : -s) * (float)(1 + (r >> 1) % 3); break;
		case 3: x[i] = (i / 32) % 3 == 0 ? s : (i / 32) % 3 == 1 ? 0.0f : (r & 1 ? 0.0f : -0.0f); break;
		case 4: x[i] = (r & 1 ? 1e-16f : 0x1p-140f) * (float)((int)(r % 7) - 3); break;
		case 5: {
			static const float sp[] = { INFINITY, -INFINITY, NAN, -NAN, FLT_MAX, -FLT_MAX,
						    1e30f, 0x1p-149f };

			x[i] = r % 5 == 0 ? sp[(r >> 3) % 8] : s * unif();
			break;
		}
		case 6: x[i] = i % 32 == (int64_t)(r % 32) ? s * 100.0f : s * unif() * 0.01f; break;
		case 7: x[i] = ldexpf((float)((int)(r % 15) - 7) + 0.5f, (int)((r >> 8) % 5) - 2); break;
		case 8: x[i] = r % 3 == 0 ? s * unif() : r % 3 == 1 ? (float)((int)(r % 9) - 4) : -0.0f; break;
		default: /* blocks whose min (even) or max (odd) is a zero of either sign */
			x[i] = r % 3 == 0 ? 0.0f : r % 3 == 1 ? -0.0f : s * fabsf(unif());
			if ((i / 32) % 2)
				x[i] = -x[i];
			break;
		}
	}
}

struct qcase {
	int id;
	int64_t n;   /* row length: a partial group of legacy blocks, an fp16 tail,
		      * a partial batch of super-blocks */
};

static const struct qcase qcases[] = {
	{ QT_Q8_0, 32 * 13 }, { QT_Q4_0, 32 * 13 }, { QT_Q4_1, 32 * 13 }, { QT_Q5_0, 32 * 13 },
	{ QT_Q5_1, 32 * 13 }, { QT_Q8_0, 32 * 16 }, { QT_Q5_1, 32 * 8 },
	{ QT_Q2_K, 256 * 3 }, { QT_Q3_K, 256 * 3 }, { QT_Q4_K, 256 * 3 }, { QT_Q5_K, 256 * 3 },
	{ QT_Q6_K, 256 * 3 }, { QT_F16, 1003 }, { QT_BF16, 1003 },
	/* Q3_K's searches run 4 super-blocks together: a full batch and a tail */
	{ QT_Q3_K, 256 * 7 },
};

static void need_simd(void)
{
	if (qt_simd_best() < QT_SIMD_AVX2)
		skip();
}

/* quantize x with both paths; the first differing byte fails the test */
static void compare_paths(const struct qt_type *t, const float *x, int64_t n, const char *what)
{
	uint64_t bytes;
	uint8_t *a, *b;

	assert_true(qt_row_bytes(t, (uint64_t)n, &bytes));
	a = malloc(bytes + 1);
	b = malloc(bytes + 1);
	assert_non_null(a);
	assert_non_null(b);
	/* odd addresses: the block side may have any alignment */
	qt_simd_select(QT_SIMD_SCALAR);
	t->quantize(x, a + 1, n);
	assert_int_equal(qt_simd_select(QT_SIMD_AVX2), QT_SIMD_AVX2);
	memset(b, 0xa5, bytes + 1);
	t->quantize(x, b + 1, n);
	for (uint64_t k = 0; k < bytes; k++)
		if (a[k + 1] != b[k + 1])
			fail_msg("%s %s: byte %llu (block %llu) scalar 0x%02x, avx2 0x%02x", t->name,
				 what, (unsigned long long)k, (unsigned long long)(k / t->bytes),
				 a[k + 1], b[k + 1]);
	free(a);
	free(b);
}

static void test_quantizers(void **state)
{
	(void)state;
	need_simd();
	for (size_t c = 0; c < sizeof(qcases) / sizeof(qcases[0]); c++) {
		const struct qt_type *t = qt_type_get(qcases[c].id);
		const int64_t n = qcases[c].n;
		float *x = malloc((size_t)n * sizeof(float));

		assert_non_null(x);
		for (int k = 0; k < N_KINDS; k++) {
			for (int r = 0; r < ROWS_PER_KIND; r++) {
				char what[64];

				make_row(k, x, n);
				snprintf(what, sizeof(what), "%s row %d (n %lld)", kind_names[k], r,
					 (long long)n);
				compare_paths(t, x, n, what);
			}
		}
		free(x);
	}
	qt_simd_select(QT_SIMD_AVX2);
}

/* fp32 -> fp16/bf16 on a sweep of every region of the bit patterns, with
 * the boundaries of each branch of fp16.h and their neighbours */
static void test_narrowing(void **state)
{
	static const uint32_t edges[] = { 0x477ff000u, 0x38800000u, 0x33000000u, 0x7f800000u,
					   0x38000000u, 0x00000000u, 0x7f7fffffu, 0x33800000u };
	const int64_t n = 1 << 20;
	float *x = malloc((size_t)n * sizeof(float));
	int64_t k = 0;

	(void)state;
	need_simd();
	assert_non_null(x);
	for (size_t e = 0; e < sizeof(edges) / sizeof(edges[0]); e++)
		for (int d = -300; d <= 300; d++)
			for (uint32_t sgn = 0; sgn < 2; sgn++)
				x[k++] = qt_f32_from_bits((edges[e] + (uint32_t)d) ^ (sgn << 31));
	for (uint32_t u = 0; k < n; u += 4093u)
		x[k++] = qt_f32_from_bits(u * 1048573u);
	compare_paths(qt_type_get(QT_F16), x, n, "bit-pattern sweep");
	compare_paths(qt_type_get(QT_BF16), x, n, "bit-pattern sweep");
	free(x);
}

/* fp16/bf16 -> fp32 of all 65536 patterns (+ a 3-element tail) */
static void test_widening(void **state)
{
	static const int ids[] = { QT_F16, QT_BF16 };
	const int64_t n = 65536 + 3;
	uint16_t *h = malloc((size_t)n * 2);
	float *a = malloc((size_t)n * 4), *b = malloc((size_t)n * 4);

	(void)state;
	need_simd();
	assert_true(h && a && b);
	for (int64_t i = 0; i < n; i++)
		h[i] = (uint16_t)(i * 40503u);
	for (size_t t = 0; t < 2; t++) {
		const struct qt_type *ty = qt_type_get(ids[t]);

		qt_simd_select(QT_SIMD_SCALAR);
		ty->dequantize(h, a, n);
		qt_simd_select(QT_SIMD_AVX2);
		ty->dequantize(h, b, n);
		for (int64_t i = 0; i < n; i++)
			if (memcmp(&a[i], &b[i], 4) != 0)
				fail_msg("%s pattern 0x%04x: scalar 0x%08x, avx2 0x%08x", ty->name, h[i],
					 qt_f32_bits(a[i]), qt_f32_bits(b[i]));
		/* the row forms of fp16.h take the same paths */
		qt_simd_select(QT_SIMD_SCALAR);
		(t ? qt_bf16_to_fp32_row : qt_fp16_to_fp32_row)(h, a, n);
		qt_simd_select(QT_SIMD_AVX2);
		(t ? qt_bf16_to_fp32_row : qt_fp16_to_fp32_row)(h, b, n);
		assert_memory_equal(a, b, (size_t)n * 4);
	}
	free(h);
	free(a);
	free(b);
}

/* the level can be chosen and is clamped to what the CPU has */
static void test_select(void **state)
{
	(void)state;
	assert_int_equal(qt_simd_select(QT_SIMD_SCALAR), QT_SIMD_SCALAR);
	assert_int_equal(qt_simd_level(), QT_SIMD_SCALAR);
	assert_string_equal(qt_simd_name(QT_SIMD_SCALAR), "scalar");
	assert_int_equal(qt_simd_select(99), qt_simd_best());
	assert_int_equal(qt_simd_level(), qt_simd_best());
	assert_int_equal(qt_simd_select(-5), QT_SIMD_SCALAR);
	qt_simd_select(qt_simd_best());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_quantizers),
		cmocka_unit_test(test_narrowing),
		cmocka_unit_test(test_widening),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
