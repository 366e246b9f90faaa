/* qi_ternary.c - TQ1_0 and TQ2_0: ternary weights {-1, 0, 1} times one fp16
 * scale per super-block of 256 (BitNet b1.58, TriLM), ggml's
 * quantize_row_tq{1,2}_0_ref (what quantize_tq{1,2}_0 run; importance
 * weights are ignored) and dequantize_row_tq{1,2}_0.
 *
 * The scale is max |x|; each element is lroundf(x / scale) + 1 in {0, 1, 2}.
 * TQ2_0 stores that in 2 bits. TQ1_0 packs 5 trits into a byte: the base-3
 * number v (first trit most significant) is stored as ceil(v * 256 / 243),
 * so that multiplying the byte by 3^k (mod 256) and taking the top bits of
 * times 3 reads trit k back. Layout at struct qi_block_tq1_0 (iquants.h).
 */
#include "iquants.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#include "fp16.h"
#include "qkern.h"
#include "qtype.h"

/* max |x| over a super-block with ggml's MAX macro: a NaN is kept only
 * when it comes last (NaN > v and v > NaN are both false) */
static float tq_absmax(const float *x)
{
	float amax = 0.0f;

	for (int j = 0; j < QT_QK_K; j++)
		amax = amax > fabsf(x[j]) ? amax : fabsf(x[j]);
	return amax;
}

/* the trit of v (0, 1, 2 for -1, 0, 1): lroundf's long converted to int as
 * ggml's code does (an out-of-range or NaN product gives 0 + 1) */
static int tq_trit(float v)
{
	return (int)lroundf(v) + 1;
}

/* k trits of x[0], x[stride], ... x[(k-1) stride], first most significant,
 * then `pad` more zero trits, stored as ceil(v * 256 / 243) */
static uint8_t tq_pack5(const float *x, int stride, int k, int pad, float id)
{
	uint8_t v = 0;

	for (int i = 0; i < k; i++)
		v = (uint8_t)(v * 3 + tq_trit(x[i * stride] * id));
	for (int i = 0; i < pad; i++)
		v = (uint8_t)(v * 3);
	return (uint8_t)(((uint16_t)v * 256 + (243 - 1)) / 243);
}

void qi_quantize_tq1_0_w(const float *x, void *vy, int64_t n, const float *qw)
{
	uint8_t *dst = vy;

	(void)qw;
	assert(n % QT_QK_K == 0);
	for (int64_t b = 0; b < n / QT_QK_K; b++, x += QT_QK_K) {
		struct qi_block_tq1_0 yb;
		const float d = tq_absmax(x);
		const float id = d != 0.0f ? 1.0f / d : 0.0f;

		yb.d = qt_fp32_to_fp16(d);
		for (int m = 0; m < 32; m++)        /* elements 0..159 */
			yb.qs[m] = tq_pack5(x + m, 32, 5, 0, id);
		for (int m = 0; m < 16; m++)        /* elements 160..239 */
			yb.qs[32 + m] = tq_pack5(x + 160 + m, 16, 5, 0, id);
		for (int j = 0; j < 4; j++)         /* elements 240..255 */
			yb.qh[j] = tq_pack5(x + 240 + j, 4, 4, 1, id);
		memcpy(dst + b * sizeof(yb), &yb, sizeof(yb));
	}
}

void qi_quantize_tq2_0_w(const float *x, void *vy, int64_t n, const float *qw)
{
	uint8_t *dst = vy;

	(void)qw;
	assert(n % QT_QK_K == 0);
	for (int64_t b = 0; b < n / QT_QK_K; b++, x += QT_QK_K) {
		struct qi_block_tq2_0 yb;
		const float d = tq_absmax(x);
		const float id = d != 0.0f ? 1.0f / d : 0.0f;

		yb.d = qt_fp32_to_fp16(d);
		for (int h = 0; h < 2; h++) {
			for (int m = 0; m < 32; m++) {
				unsigned v = 0;

				for (int k = 0; k < 4; k++)
					v += (unsigned)(tq_trit(x[128 * h + m + 32 * k] * id) & 3) << 2 * k;
				yb.qs[32 * h + m] = (uint8_t)v;
			}
		}
		memcpy(dst + b * sizeof(yb), &yb, sizeof(yb));
	}
}

void qi_quantize_tq1_0(const float *x, void *y, int64_t n)
{
	qi_quantize_tq1_0_w(x, y, n, NULL);
}

void qi_quantize_tq2_0(const float *x, void *y, int64_t n)
{
	qi_quantize_tq2_0_w(x, y, n, NULL);
}

/* trit k of a TQ1_0 byte: (byte * 3^k mod 256) * 3 >> 8, minus one */
static float tq_unpack(uint8_t byte, int k, float d)
{
	static const uint8_t pow3[5] = { 1, 3, 9, 27, 81 };
	const uint8_t q = (uint8_t)(byte * pow3[k]);

	return (float)((((uint16_t)q * 3) >> 8) - 1) * d;
}

void qi_dequantize_tq1_0(const void *vx, float *y, int64_t n)
{
	const uint8_t *src = vx;

	assert(n % QT_QK_K == 0);
	for (int64_t b = 0; b < n / QT_QK_K; b++) {
		struct qi_block_tq1_0 xb;

		memcpy(&xb, src + b * sizeof(xb), sizeof(xb));
		const float d = qt_fp16_to_fp32(xb.d);

		for (int k = 0; k < 5; k++)
			for (int m = 0; m < 32; m++)
				*y++ = tq_unpack(xb.qs[m], k, d);
		for (int k = 0; k < 5; k++)
			for (int m = 0; m < 16; m++)
				*y++ = tq_unpack(xb.qs[32 + m], k, d);
		for (int k = 0; k < 4; k++)
			for (int j = 0; j < 4; j++)
				*y++ = tq_unpack(xb.qh[j], k, d);
	}
}

void qi_dequantize_tq2_0(const void *vx, float *y, int64_t n)
{
	const uint8_t *src = vx;

	assert(n % QT_QK_K == 0);
	for (int64_t b = 0; b < n / QT_QK_K; b++) {
		struct qi_block_tq2_0 xb;

		memcpy(&xb, src + b * sizeof(xb), sizeof(xb));
		const float d = qt_fp16_to_fp32(xb.d);

		for (int h = 0; h < 2; h++)
			for (int k = 0; k < 4; k++)
				for (int m = 0; m < 32; m++)
					*y++ = (float)(((xb.qs[32 * h + m] >> 2 * k) & 3) - 1) * d;
	}
}
