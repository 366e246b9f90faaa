/* test_quant.c - fp16/bf16 conversions against IEEE 754 facts and the
 * compiler's own _Float16, and the quantizers against facts that follow from
 * the block formats and rounding rules (quant/blocks.h, quant/README.md):
 * hand-made blocks with known bytes, all-zero blocks, rounding ties, clamps,
 * error budgets on random data, and behaviour on non-finite input.
 * Bit-exactness with llama.cpp itself is test_quant_golden.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../quant/blocks.h"
#include "../../quant/fp16.h"
#include "../../quant/qtype.h"
#include "../../quant/quants.h"

static float f_bits(uint32_t u) { return qt_f32_from_bits(u); }

/* ---- fp16 ---- */

static void test_fp16_ieee_facts(void **state)
{
	static const struct { float x; uint16_t h; } cases[] = {
		{ 1.0f, 0x3c00 }, { -2.0f, 0xc000 }, { 0.0f, 0x0000 }, { -0.0f, 0x8000 },
		{ 0.5f, 0x3800 }, { 0.1f, 0x2e66 },
		{ 65504.0f, 0x7bff },              /* largest finite half */
		{ 65519.0f, 0x7bff },              /* below the halfway point to 65536 */
		{ 65520.0f, 0x7c00 },              /* halfway, 65504 is odd: to inf */
		{ -65520.0f, 0xfc00 }, { 1e30f, 0x7c00 }, { -1e30f, 0xfc00 },
		{ INFINITY, 0x7c00 }, { -INFINITY, 0xfc00 },
		{ 0x1p-14f, 0x0400 },              /* smallest normal */
		{ 0x1.ff8p-15f, 0x03ff },          /* largest subnormal, 1023 * 2^-24 */
		{ 0x1p-24f, 0x0001 },              /* smallest subnormal */
		{ 0x1p-25f, 0x0000 },              /* half of it: tie to even 0 */
		{ 0x1.000002p-25f, 0x0001 },       /* just above the tie */
		{ 0x1.8p-25f, 0x0001 },            /* 0.75 units */
		{ 0x1.8p-24f, 0x0002 },            /* 1.5 units: tie to even 2 */
		{ 0x1.4p-23f, 0x0002 },            /* 2.5 units: tie to even 2 */
		{ 0x1p-26f, 0x0000 }, { -0x1p-24f, 0x8001 }, { 1e-30f, 0x0000 },
		{ 0x1.002p0f, 0x3c00 },            /* 1 + 2^-11: tie to even (down) */
		{ 0x1.006p0f, 0x3c02 },            /* 1 + 3 * 2^-11: tie to even (up) */
		{ 0x1.002002p0f, 0x3c01 },         /* just above the tie */
		{ 0x1.ffep0f, 0x4000 },            /* rounding carries into the exponent */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const uint16_t got = qt_fp32_to_fp16(cases[i].x);

		if (got != cases[i].h)
			fail_msg("fp16(%a) = 0x%04x, expected 0x%04x", (double)cases[i].x, got,
				 cases[i].h);
	}
	/* every NaN becomes the quiet NaN 0x7e00 with its sign (ggml's rule) */
	assert_int_equal(qt_fp32_to_fp16(NAN), 0x7e00);
	assert_int_equal(qt_fp32_to_fp16(f_bits(0x7f800001u)), 0x7e00);
	assert_int_equal(qt_fp32_to_fp16(f_bits(0xffc12345u)), 0xfe00);
}

static void test_fp16_widen(void **state)
{
	(void)state;
	/* every half against the IEEE binary16 value formula, in double */
	for (uint32_t h = 0; h < 65536; h++) {
		const int s = h >> 15, e = h >> 10 & 31, m = h & 1023;
		const float f = qt_fp16_to_fp32((uint16_t)h);
		double v;

		if (e == 31) {
			assert_true(m ? isnan(f) : isinf(f));
			assert_int_equal(signbit(f) != 0, s);
			continue;
		}
		v = e == 0 ? ldexp(m, -24) : ldexp(1024 + m, e - 25);
		if (s)
			v = -v;
		if ((double)f != v || (signbit(f) != 0) != s)
			fail_msg("half 0x%04x widened to %a, expected %a", h, (double)f, v);
	}
	/* NaN: payload kept, quiet bit set (as ggml's widening on x86-64) */
	assert_int_equal(qt_f32_bits(qt_fp16_to_fp32(0x7e00)), 0x7fc00000u);
	assert_int_equal(qt_f32_bits(qt_fp16_to_fp32(0x7c01)), 0x7fc02000u);
	assert_int_equal(qt_f32_bits(qt_fp16_to_fp32(0xfe00)), 0xffc00000u);
}

static void test_fp16_round_trip(void **state)
{
	(void)state;
	for (uint32_t h = 0; h < 65536; h++) {
		const uint16_t back = qt_fp32_to_fp16(qt_fp16_to_fp32((uint16_t)h));
		const int is_nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff);

		assert_int_equal(back, is_nan ? (h & 0x8000) | 0x7e00 : h);
	}
}

#if defined(__FLT16_MAX__)
__extension__ typedef _Float16 cc_half;

static uint16_t cc_fp32_to_fp16(float f)
{
	const cc_half h = (cc_half)f;
	uint16_t u;

	memcpy(&u, &h, sizeof(u));
	return u;
}
#endif

/* The compiler's float -> _Float16 conversion (IEEE, round to nearest even)
 * as an independent oracle over a sample of all 2^32 patterns. */
static void test_fp16_vs_compiler(void **state)
{
	(void)state;
#if defined(__FLT16_MAX__)
	uint64_t checked = 0;

	for (uint64_t u = 0; u <= 0xffffffffu; u += 509) {
		const float f = f_bits((uint32_t)u);
		const uint16_t want = cc_fp32_to_fp16(f), got = qt_fp32_to_fp16(f);

		if (isnan(f))
			continue;
		if (got != want)
			fail_msg("fp16(0x%08x) = 0x%04x, compiler says 0x%04x", (uint32_t)u, got, want);
		checked++;
	}
	/* and every pattern whose magnitude is near the subnormal and overflow edges */
	for (uint32_t u = 0x32f00000u; u < 0x38900000u; u += 7)
		assert_int_equal(qt_fp32_to_fp16(f_bits(u)), cc_fp32_to_fp16(f_bits(u)));
	for (uint32_t u = 0x477f0000u; u < 0x47810000u; u++)
		assert_int_equal(qt_fp32_to_fp16(f_bits(u)), cc_fp32_to_fp16(f_bits(u)));
	assert_true(checked > 8000000);
#else
	skip();
#endif
}

/* ---- bf16 ---- */

static void test_bf16_facts(void **state)
{
	static const struct { uint32_t x; uint16_t b; } cases[] = {
		{ 0x3f800000u, 0x3f80 },   /* 1.0 */
		{ 0x3f808000u, 0x3f80 },   /* 1 + 2^-8: tie to even (down) */
		{ 0x3f818000u, 0x3f82 },   /* tie, odd: up */
		{ 0x3f808001u, 0x3f81 },   /* just above the tie */
		{ 0x7f7fffffu, 0x7f80 },   /* FLT_MAX rounds to inf */
		{ 0x7f7f7fffu, 0x7f7f },
		{ 0x7f800000u, 0x7f80 }, { 0xff800000u, 0xff80 },
		{ 0x00000001u, 0x0000 },   /* subnormals round, no flush */
		{ 0x00008000u, 0x0000 },   /* tie, even */
		{ 0x00018000u, 0x0002 },   /* tie, odd: up */
		{ 0x007fffffu, 0x0080 },   /* largest subnormal up to the smallest normal */
		{ 0x80000000u, 0x8000 },
		/* NaN: top 16 bits with the quiet bit forced; never inf */
		{ 0x7f800001u, 0x7fc0 }, { 0x7fc00000u, 0x7fc0 }, { 0x7f80ffffu, 0x7fc0 },
		{ 0xffa00000u, 0xffe0 }, { 0x7fffffffu, 0x7fff },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const uint16_t got = qt_fp32_to_bf16(f_bits(cases[i].x));

		if (got != cases[i].b)
			fail_msg("bf16(0x%08x) = 0x%04x, expected 0x%04x", cases[i].x, got, cases[i].b);
	}
	/* widening is exact: the pattern shifted up, every one of them */
	for (uint32_t b = 0; b < 65536; b++) {
		const float f = qt_bf16_to_fp32((uint16_t)b);

		assert_int_equal(qt_f32_bits(f), b << 16);
		if (!isnan(f))
			assert_int_equal(qt_fp32_to_bf16(f), b);
	}
}

/* ---- the type table ---- */

static void test_table_hookup(void **state)
{
	static const struct { int id; qt_quantize_fn q; qt_dequantize_fn d; size_t size; } rows[] = {
		{ QT_F32, qt_quantize_f32, qt_dequantize_f32, 4 },
		{ QT_F16, qt_quantize_f16, qt_dequantize_f16, 2 },
		{ QT_BF16, qt_quantize_bf16, qt_dequantize_bf16, 2 },
		{ QT_Q4_0, qt_quantize_q4_0, qt_dequantize_q4_0, sizeof(struct qt_block_q4_0) },
		{ QT_Q4_1, qt_quantize_q4_1, qt_dequantize_q4_1, sizeof(struct qt_block_q4_1) },
		{ QT_Q5_0, qt_quantize_q5_0, qt_dequantize_q5_0, sizeof(struct qt_block_q5_0) },
		{ QT_Q5_1, qt_quantize_q5_1, qt_dequantize_q5_1, sizeof(struct qt_block_q5_1) },
		{ QT_Q8_0, qt_quantize_q8_0, qt_dequantize_q8_0, sizeof(struct qt_block_q8_0) },
		{ QT_Q2_K, qt_quantize_q2_K, qt_dequantize_q2_K, sizeof(struct qt_block_q2_K) },
		{ QT_Q3_K, qt_quantize_q3_K, qt_dequantize_q3_K, sizeof(struct qt_block_q3_K) },
		{ QT_Q4_K, qt_quantize_q4_K, qt_dequantize_q4_K, sizeof(struct qt_block_q4_K) },
		{ QT_Q5_K, qt_quantize_q5_K, qt_dequantize_q5_K, sizeof(struct qt_block_q5_K) },
		{ QT_Q6_K, qt_quantize_q6_K, qt_dequantize_q6_K, sizeof(struct qt_block_q6_K) },
		{ QT_Q8_K, NULL, qt_dequantize_q8_K, sizeof(struct qt_block_q8_K) },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct qt_type *t = qt_type_get(rows[i].id);

		assert_non_null(t);
		assert_ptr_equal(t->quantize, rows[i].q);
		assert_ptr_equal(t->dequantize, rows[i].d);
		assert_int_equal(t->bytes, rows[i].size);
	}
	/* types without kernels say so */
	assert_null(qt_type_get(QT_NVFP4)->quantize);
	assert_null(qt_type_get(QT_Q8_1)->dequantize);
	assert_int_equal(qt_type_get(QT_Q8_1)->bytes, 36);
	assert_non_null(qt_type_get(QT_Q2_0));
	assert_null(qt_type_get(4));
}

/* ---- legacy blocks built by hand ---- */

static void test_q4_0_exact_grid(void **state)
{
	float x[32], y[32];
	int q[32];
	struct qt_block_q4_0 b;

	(void)state;
	/* x = 0.5 * (q - 8); q[0] = 0 makes x[0] = -4 the unique largest |x|,
	 * so d = -4 / -8 = 0.5 and every value is on the grid */
	for (int j = 0; j < 32; j++) {
		q[j] = j == 0 ? 0 : 1 + (j * 7) % 15;
		x[j] = 0.5f * (float)(q[j] - 8);
	}
	qt_quantize_q4_0(x, &b, 32);
	assert_int_equal(b.d, 0x3800);
	for (int j = 0; j < 16; j++)
		assert_int_equal(b.qs[j], q[j] | q[j + 16] << 4);
	qt_dequantize_q4_0(&b, y, 32);
	assert_memory_equal(x, y, sizeof(x));
}

static void test_q4_0_clamp_and_first_max(void **state)
{
	float x[32] = { 0 };
	struct qt_block_q4_0 b;

	(void)state;
	/* max -1: d = 0.125, id = 8; +1 gives (int)(8 + 8.5) = 16, clamped 15;
	 * +0.9375 gives exactly 16.0, clamped 15; 0 gives 8 */
	x[0] = -1.0f;
	x[1] = 1.0f;
	x[17] = 0.9375f;
	qt_quantize_q4_0(x, &b, 32);
	assert_int_equal(b.d, 0x3000);
	assert_int_equal(b.qs[0], 0x80);
	assert_int_equal(b.qs[1], 0xff);
	assert_int_equal(b.qs[2], 0x88);
	/* equal magnitudes: the first one sets the sign of d */
	memset(x, 0, sizeof(x));
	x[0] = 2.0f;
	x[1] = -2.0f;
	qt_quantize_q4_0(x, &b, 32);
	assert_int_equal(b.d, 0xb400);    /* -0.25 */
	assert_int_equal(b.qs[0], 0x80);  /* 2 * -4 + 8.5 -> 0 */
	assert_int_equal(b.qs[1], 0x8f);  /* -2 * -4 + 8.5 -> 16 -> 15 */
}

static void test_q8_0_round_half_away(void **state)
{
	float x[32] = { 0 };
	struct qt_block_q8_0 b;

	(void)state;
	x[0] = 127 * 0.0625f;      /* amax: d = 0.0625 exactly, id = 16 */
	x[1] = 2.5f * 0.0625f;     /* 2.5 -> 3 (nearest-even would give 2) */
	x[2] = -2.5f * 0.0625f;    /* -2.5 -> -3 */
	x[3] = 0.5f * 0.0625f;     /* 0.5 -> 1 */
	x[4] = 1.5f * 0.0625f;     /* 1.5 -> 2 */
	x[5] = -126.5f * 0.0625f;  /* -126.5 -> -127 */
	qt_quantize_q8_0(x, &b, 32);
	assert_int_equal(b.d, 0x2c00);
	assert_int_equal(b.qs[0], 127);
	assert_int_equal(b.qs[1], 3);
	assert_int_equal(b.qs[2], -3);
	assert_int_equal(b.qs[3], 1);
	assert_int_equal(b.qs[4], 2);
	assert_int_equal(b.qs[5], -127);
	assert_int_equal(b.qs[6], 0);
}

static void test_q4_1_q5_1_grid(void **state)
{
	float x[32], y[32];
	int q4[32], q5[32];
	struct qt_block_q4_1 b4;
	struct qt_block_q5_1 b5;
	uint32_t qh;

	(void)state;
	/* min -1, max -1 + 15 * 0.25: d = 0.25 exactly; a value half-way
	 * between levels rounds up ((k + 0.5) + 0.5 truncates to k + 1) */
	for (int j = 0; j < 32; j++)
		q4[j] = j == 0 ? 0 : j == 1 ? 15 : (j * 5) % 16;
	for (int j = 0; j < 32; j++)
		x[j] = -1.0f + 0.25f * (float)q4[j];
	x[31] = -1.0f + 0.25f * 6.5f;
	q4[31] = 7;
	qt_quantize_q4_1(x, &b4, 32);
	assert_int_equal(b4.d, 0x3400);
	assert_int_equal(b4.m, 0xbc00);
	for (int j = 0; j < 16; j++)
		assert_int_equal(b4.qs[j], q4[j] | q4[j + 16] << 4);
	qt_dequantize_q4_1(&b4, y, 32);
	for (int j = 0; j < 31; j++)
		assert_true(y[j] == x[j]);
	/* Q5_1 on a 31-step grid: d = 0.125, 5th bits in qh */
	for (int j = 0; j < 32; j++) {
		q5[j] = j == 0 ? 0 : j == 1 ? 31 : (j * 11) % 32;
		x[j] = 2.0f + 0.125f * (float)q5[j];
	}
	qt_quantize_q5_1(x, &b5, 32);
	assert_int_equal(b5.d, 0x3000);
	assert_int_equal(b5.m, 0x4000);
	qh = 0;
	for (int j = 0; j < 32; j++)
		qh |= (uint32_t)(q5[j] >> 4) << j;
	assert_int_equal(b5.qh[0] | b5.qh[1] << 8 | b5.qh[2] << 16 | (uint32_t)b5.qh[3] << 24, qh);
	for (int j = 0; j < 16; j++)
		assert_int_equal(b5.qs[j], (q5[j] & 15) | (q5[j + 16] & 15) << 4);
	qt_dequantize_q5_1(&b5, y, 32);
	assert_memory_equal(x, y, sizeof(x));
}

static void test_q5_0_grid(void **state)
{
	float x[32], y[32];
	int q[32];
	struct qt_block_q5_0 b;
	uint32_t qh = 0;

	(void)state;
	for (int j = 0; j < 32; j++) {
		q[j] = j == 0 ? 0 : 1 + (j * 13) % 31;
		x[j] = 0.25f * (float)(q[j] - 16);   /* x[0] = -4: d = 0.25 */
		qh |= (uint32_t)(q[j] >> 4) << j;
	}
	qt_quantize_q5_0(x, &b, 32);
	assert_int_equal(b.d, 0x3400);
	assert_int_equal(b.qh[0] | b.qh[1] << 8 | b.qh[2] << 16 | (uint32_t)b.qh[3] << 24, qh);
	for (int j = 0; j < 16; j++)
		assert_int_equal(b.qs[j], (q[j] & 15) | (q[j + 16] & 15) << 4);
	qt_dequantize_q5_0(&b, y, 32);
	assert_memory_equal(x, y, sizeof(x));
}

/* ---- every block type ---- */

struct qcase {
	int id;
	double rmse_budget; /* relative RMSE on N(0,1) rows, from the step size */
};

/* Budgets: uniform rounding error step/sqrt(12), the step from the expected
 * block extremes of Gaussian data (max |x| about 2.4 sigma over 32 values,
 * 2.1 over 16; max - min about 4.1 over 32, 3.5 over 16), e.g. Q8_0
 * 2.4/127/3.46 = 0.0055; then 25% headroom. The k-quant searches only
 * lower the error. */
static const struct qcase qcases[] = {
	{ QT_Q8_0, 0.0068 }, { QT_Q4_0, 0.108 }, { QT_Q4_1, 0.099 },
	{ QT_Q5_0, 0.054 }, { QT_Q5_1, 0.048 }, { QT_Q2_K, 0.42 },
	{ QT_Q3_K, 0.19 }, { QT_Q4_K, 0.099 }, { QT_Q5_K, 0.048 }, { QT_Q6_K, 0.024 },
};

#define N_ROW 1024

static void gauss(float *x, int n, unsigned seed)
{
	uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;

	for (int i = 0; i < n; i += 2) {
		double u[2];

		for (int k = 0; k < 2; k++) {
			s ^= s << 13; s ^= s >> 7; s ^= s << 17;
			u[k] = ((double)(s >> 11) + 0.5) / 9007199254740992.0;
		}
		x[i] = (float)(sqrt(-2 * log(u[0])) * cos(2 * 3.14159265358979323846 * u[1]));
		if (i + 1 < n)
			x[i + 1] = (float)(sqrt(-2 * log(u[0])) * sin(2 * 3.14159265358979323846 * u[1]));
	}
}

static void test_all_zero_blocks(void **state)
{
	float x[N_ROW] = { 0 }, y[N_ROW];
	uint8_t q[N_ROW * 2];
	const struct qt_type *t8k = qt_type_get(QT_Q8_K);

	(void)state;
	/* Q8_K (not in the table's quantizers): all zero too */
	memset(q, 0x5a, sizeof(q));
	qt_quantize_q8_K(x, q, N_ROW);
	for (uint32_t k = 0; k < N_ROW / 256 * t8k->bytes; k++)
		assert_int_equal(q[k], 0);
	for (size_t i = 0; i < sizeof(qcases) / sizeof(qcases[0]); i++) {
		const struct qt_type *t = qt_type_get(qcases[i].id);
		uint64_t nb;

		assert_true(qt_row_bytes(t, N_ROW, &nb));
		memset(q, 0x5a, sizeof(q));
		t->quantize(x, q, N_ROW);
		for (uint64_t k = 0; k < nb; k++) {
			uint8_t want = 0;
			const uint64_t off = k % t->bytes;

			/* Q4_0/Q5_0: d = 0 / -8 = -0.0 (fp16 0x8000) and every
			 * quant (int)(0 + 8.5) = 8, resp. 16 = 0x10: 5th bits all
			 * set, low nibbles 0 */
			if ((t->id == QT_Q4_0 || t->id == QT_Q5_0) && off == 1)
				want = 0x80;
			if (t->id == QT_Q4_0 && off >= 2)
				want = 0x88;
			if (t->id == QT_Q5_0 && off >= 2 && off < 6)
				want = 0xff;
			if (q[k] != want)
				fail_msg("%s: all-zero row: byte %llu is 0x%02x, expected 0x%02x",
					 t->name, (unsigned long long)k, q[k], want);
		}
		t->dequantize(q, y, N_ROW);
		for (int k = 0; k < N_ROW; k++)
			assert_true(y[k] == 0.0f);
	}
}

static void test_error_budgets(void **state)
{
	float *x = malloc(N_ROW * 8 * sizeof(float)), *y = malloc(N_ROW * 8 * sizeof(float));
	uint8_t *q = malloc(N_ROW * 8 * 2);

	(void)state;
	assert_true(x && y && q);
	gauss(x, N_ROW * 8, 7);
	for (size_t i = 0; i < sizeof(qcases) / sizeof(qcases[0]); i++) {
		const struct qt_type *t = qt_type_get(qcases[i].id);
		double se = 0, sx = 0, worst = 0;
		int worst_i = 0;

		t->quantize(x, q, N_ROW * 8);
		t->dequantize(q, y, N_ROW * 8);
		for (int k = 0; k < N_ROW * 8; k++) {
			const double e = (double)y[k] - x[k];

			se += e * e;
			sx += (double)x[k] * x[k];
			if (fabs(e) > worst) {
				worst = fabs(e);
				worst_i = k;
			}
		}
		const double rel = sqrt(se / sx);

		print_message("  %-5s relative rmse %.4f (budget %.3f), worst |err| %.3f at %d\n",
			      t->name, rel, qcases[i].rmse_budget, worst, worst_i);
		assert_true(rel < qcases[i].rmse_budget);
	}
	free(x);
	free(y);
	free(q);
}

/* Blocks are independent: one call over a row, or one call per block,
 * gives the same bytes. */
static void test_block_independence(void **state)
{
	float x[N_ROW];
	uint8_t a[N_ROW * 2], b[N_ROW * 2];

	(void)state;
	gauss(x, N_ROW, 11);
	for (size_t i = 0; i < sizeof(qcases) / sizeof(qcases[0]); i++) {
		const struct qt_type *t = qt_type_get(qcases[i].id);
		uint64_t nb;

		assert_true(qt_row_bytes(t, N_ROW, &nb));
		t->quantize(x, a, N_ROW);
		for (uint32_t k = 0; k < N_ROW / t->blck; k++)
			t->quantize(x + k * t->blck, b + k * t->bytes, t->blck);
		assert_memory_equal(a, b, nb);
	}
}

/* Block data at any address: an odd offset gives the same bytes and floats. */
static void test_unaligned(void **state)
{
	float x[512], ya[512], yu[512];
	uint8_t a[1200], u[1201];
	static const int ids[] = { QT_F16, QT_BF16, QT_Q4_0, QT_Q4_1, QT_Q5_0, QT_Q5_1,
				   QT_Q8_0, QT_Q2_K, QT_Q3_K, QT_Q4_K, QT_Q5_K, QT_Q6_K };

	(void)state;
	gauss(x, 512, 5);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		const struct qt_type *t = qt_type_get(ids[i]);
		uint64_t nb;

		assert_true(qt_row_bytes(t, 512, &nb) && nb <= sizeof(a));
		t->quantize(x, a, 512);
		t->quantize(x, u + 1, 512);
		assert_memory_equal(a, u + 1, nb);
		t->dequantize(a, ya, 512);
		t->dequantize(u + 1, yu, 512);
		assert_memory_equal(ya, yu, sizeof(ya));
	}
	qt_quantize_q8_K(x, u + 1, 512);
	qt_dequantize_q8_K(u + 1, yu, 512);
}

/* Infinities, NaN, huge and subnormal values: defined output, no traps
 * (run under UBSan by make check SANITIZE=...). Whatever the bytes, the
 * same input gives the same bytes. */
static void test_nonfinite_inputs(void **state)
{
	float x[512];
	uint8_t a[1024], b[1024];
	float y[512];

	(void)state;
	gauss(x, 512, 3);
	for (int k = 0; k < 512; k += 5)
		x[k] = (k % 3 == 0) ? INFINITY : (k % 3 == 1) ? NAN : 3e38f;
	for (int k = 256; k < 512; k++)
		x[k] *= 1e-42f;
	for (size_t i = 0; i < sizeof(qcases) / sizeof(qcases[0]); i++) {
		const struct qt_type *t = qt_type_get(qcases[i].id);
		uint64_t nb;

		assert_true(qt_row_bytes(t, 512, &nb));
		t->quantize(x, a, 512);
		t->quantize(x, b, 512);
		assert_memory_equal(a, b, nb);
		t->dequantize(a, y, 512);
	}
}

/* Q4_K layout fact: with d = 1, every scale 1 and every min 0, the
 * dequantized element 64c + l (+32) is the low (high) nibble of qs[32c + l]. */
static void test_q4_K_layout(void **state)
{
	struct qt_block_q4_K b;
	float y[256];

	(void)state;
	memset(&b, 0, sizeof(b));
	b.d = 0x3c00;
	for (int j = 0; j < 4; j++)
		b.scales[j] = 1;                /* sc 0..3 = 1, m 0..3 = 0 */
	for (int j = 8; j < 12; j++)
		b.scales[j] = 1;                /* sc 4..7 = 1, m 4..7 = 0 */
	for (int k = 0; k < 128; k++)
		b.qs[k] = (uint8_t)(k * 37 + 11);
	qt_dequantize_q4_K(&b, y, 256);
	for (int c = 0; c < 4; c++)
		for (int l = 0; l < 32; l++) {
			assert_true(y[64 * c + l] == (float)(b.qs[32 * c + l] & 15));
			assert_true(y[64 * c + l + 32] == (float)(b.qs[32 * c + l] >> 4));
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fp16_ieee_facts),
		cmocka_unit_test(test_fp16_widen),
		cmocka_unit_test(test_fp16_round_trip),
		cmocka_unit_test(test_fp16_vs_compiler),
		cmocka_unit_test(test_bf16_facts),
		cmocka_unit_test(test_table_hookup),
		cmocka_unit_test(test_q4_0_exact_grid),
		cmocka_unit_test(test_q4_0_clamp_and_first_max),
		cmocka_unit_test(test_q8_0_round_half_away),
		cmocka_unit_test(test_q4_1_q5_1_grid),
		cmocka_unit_test(test_q5_0_grid),
		cmocka_unit_test(test_all_zero_blocks),
		cmocka_unit_test(test_error_budgets),
		cmocka_unit_test(test_block_independence),
		cmocka_unit_test(test_unaligned),
		cmocka_unit_test(test_nonfinite_inputs),
		cmocka_unit_test(test_q4_K_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
