/* q_legacy.c - Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0: 32-element blocks.
 *
 * Each quantizer follows ggml's quantize_row_<t>_ref step for step (see
 * quant/README.md, "Bit-exactness rules"): the scale is computed in fp32 and
 * used unrounded, only its fp16 image is stored; the float -> integer casts
 * truncate (qt_cast_*), Q8_0 rounds half away from zero with roundf.
 */
#include "quants.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "blocks.h"
#include "fp16.h"
#include "qkern.h"
#include "qsimd.h"

/* The signed value of largest magnitude; the first one wins ties. */
static float signed_absmax(const float *x, int n)
{
	float amax = 0.0f, max = 0.0f;

	for (int j = 0; j < n; j++) {
		if (amax < fabsf(x[j])) {
			amax = fabsf(x[j]);
			max = x[j];
		}
	}
	return max;
}

static void min_max(const float *x, int n, float *min, float *max)
{
	float lo = FLT_MAX, hi = -FLT_MAX;

	for (int j = 0; j < n; j++) {
		if (x[j] < lo)
			lo = x[j];
		if (x[j] > hi)
			hi = x[j];
	}
	*min = lo;
	*max = hi;
}

/* qkern.h: 5th bits of the 32 quants q[] as the little-endian word qh */
void qt_put_qh(uint8_t qh[4], const int q[32])
{
	uint32_t bits = 0;

	for (int j = 0; j < 32; j++)
		bits |= (uint32_t)((q[j] & 0x10) >> 4) << j;
	for (int k = 0; k < 4; k++)
		qh[k] = (uint8_t)(bits >> (8 * k));
}

static uint32_t get_qh(const uint8_t qh[4])
{
	return (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 |
	       (uint32_t)qh[3] << 24;
}

void qt_quantize_q4_0(const float *x, void *vy, int64_t n)
{
	uint8_t *dst = vy; /* any alignment: each block goes through yb */

	assert(n % QT_QK4_0 == 0);
	if (qt_simd_avx2()) {
		qt_avx2_quantize_q4_0(x, vy, n);
		return;
	}
	for (int64_t b = 0; b < n / QT_QK4_0; b++, x += QT_QK4_0) {
		struct qt_block_q4_0 yb;
		const float max = signed_absmax(x, QT_QK4_0);
		const float d = max / -8;            /* the max element maps to q = 0 */
		const float id = d != 0.0f ? 1.0f / d : 0.0f;

		yb.d = qt_fp32_to_fp16(d);
		for (int j = 0; j < QT_QK4_0 / 2; j++) {
			/* the opposite sign can reach 16: clamp to 15; ggml keeps
			 * the low byte of the (possibly negative) result */
			const int q0 = qt_imin(15, qt_cast_i8(x[j] * id + 8.5f));
			const int q1 = qt_imin(15, qt_cast_i8(x[j + 16] * id + 8.5f));

			yb.qs[j] = (uint8_t)((q0 & 0xff) | (q1 & 0xff) << 4);
		}
		memcpy(dst + b * sizeof(yb), &yb, sizeof(yb));
	}
}

void qt_dequantize_q4_0(const void *vx, float *y, int64_t n)
{
	const uint8_t *src = vx; /* any alignment: each block goes through xb */

	assert(n % QT_QK4_0 == 0);
	for (int64_t b = 0; b < n / QT_QK4_0; b++, y += QT_QK4_0) {
		struct qt_block_q4_0 xb;

		memcpy(&xb, src + b * sizeof(xb), sizeof(xb));
		const float d = qt_fp16_to_fp32(xb.d);

		for (int j = 0; j < QT_QK4_0 / 2; j++) {
			y[j] = (float)((xb.qs[j] & 0x0f) - 8) * d;
			y[j + 16] = (float)((xb.qs[j] >> 4) - 8) * d;
		}
	}
}

void qt_quantize_q4_1(const float *x, void *vy, int64_t n)
{
	uint8_t *dst = vy; /* any alignment: each block goes through yb */

	assert(n % QT_QK4_1 == 0);
	if (qt_simd_avx2()) {
		qt_avx2_quantize_q4_1(x, vy, n);
		return;
	}
	for (int64_t b = 0; b < n / QT_QK4_1; b++, x += QT_QK4_1) {
		struct qt_block_q4_1 yb;
		float min, max;

		min_max(x, QT_QK4_1, &min, &max);
		/* min is not clamped to <= 0 here (unlike the k-quants) */
		const float d = (max - min) / 15;
		const float id = d != 0.0f ? 1.0f / d : 0.0f;

		yb.d = qt_fp32_to_fp16(d);
		yb.m = qt_fp32_to_fp16(min);
		for (int j = 0; j < QT_QK4_1 / 2; j++) {
			const int q0 = qt_imin(15, qt_cast_i8((x[j] - min) * id + 0.5f));
			const int q1 = qt_imin(15, qt_cast_i8((x[j + 16] - min) * id + 0.5f));

			yb.qs[j] = (uint8_t)((q0 & 0xff) | (q1 & 0xff) << 4);
		}
		memcpy(dst + b * sizeof(yb), &yb, sizeof(yb));
	}
}

void qt_dequantize_q4_1(const void *vx, float *y, int64_t n)
{
	const uint8_t *src = vx; /* any alignment: each block goes through xb */

	assert(n % QT_QK4_1 == 0);
	for (int64_t b = 0; b < n / QT_QK4_1; b++, y += QT_QK4_1) {
		struct qt_block_q4_1 xb;

		memcpy(&xb, src + b * sizeof(xb), sizeof(xb));
		const float d = qt_fp16_to_fp32(xb.d);
		const float m = qt_fp16_to_fp32(xb.m);

		for (int j = 0; j < QT_QK4_1 / 2; j++) {
			y[j] = (float)(xb.qs[j] & 0x0f) * d + m;
			y[j + 16] = (float)(xb.qs[j] >> 4) * d + m;
		}
	}
}

void qt_quantize_q5_0(const float *x, void *vy, int64_t n)
{
	uint8_t *dst = vy; /* any alignment: each block goes through yb */

	assert(n % QT_QK5_0 == 0);
	if (qt_simd_avx2()) {
		qt_avx2_quantize_q5_0(x, vy, n);
		return;
	}
	for (int64_t b = 0; b < n / QT_QK5_0; b++, x += QT_QK5_0) {
		struct qt_block_q5_0 yb;
		const float max = signed_absmax(x, QT_QK5_0);
		const float d = max / -16;
		const float id = d != 0.0f ? 1.0f / d : 0.0f;
		int q[32];

		yb.d = qt_fp32_to_fp16(d);
		/* the cast result is stored as uint8 in ggml: keep its low byte */
		for (int j = 0; j < 32; j++)
			q[j] = qt_imin(31, qt_cast_i8(x[j] * id + 16.5f)) & 0xff;
		for (int j = 0; j < 16; j++)
			yb.qs[j] = (uint8_t)((q[j] & 0x0f) | (q[j + 16] & 0x0f) << 4);
		qt_put_qh(yb.qh, q);
		memcpy(dst + b * sizeof(yb), &yb, sizeof(yb));
	}
}

void qt_dequantize_q5_0(const void *vx, float *y, int64_t n)
{
	const uint8_t *src = vx; /* any alignment: each block goes through xb */

	assert(n % QT_QK5_0 == 0);
	for (int64_t b = 0; b < n / QT_QK5_0; b++, y += QT_QK5_0) {
		struct qt_block_q5_0 xb;

		memcpy(&xb, src + b * sizeof(xb), sizeof(xb));
		const float d = qt_fp16_to_fp32(xb.d);
		const uint32_t qh = get_qh(xb.qh);

		for (int j = 0; j < 16; j++) {
			const int h0 = (int)(qh >> j & 1u) << 4;
			const int h1 = (int)(qh >> (j + 16) & 1u) << 4;

			y[j] = (float)(((xb.qs[j] & 0x0f) | h0) - 16) * d;
			y[j + 16] = (float)(((xb.qs[j] >> 4) | h1) - 16) * d;
		}
	}
}

void qt_quantize_q5_1(const float *x, void *vy, int64_t n)
{
	uint8_t *dst = vy; /* any alignment: each block goes through yb */

	assert(n % QT_QK5_1 == 0);
	if (qt_simd_avx2()) {
		qt_avx2_quantize_q5_1(x, vy, n);
		return;
	}
	for (int64_t b = 0; b < n / QT_QK5_1; b++, x += QT_QK5_1) {
		struct qt_block_q5_1 yb;
		float min, max;
		int q[32];

		min_max(x, QT_QK5_1, &min, &max);
		const float d = (max - min) / 31;
		const float id = d != 0.0f ? 1.0f / d : 0.0f;

		yb.d = qt_fp32_to_fp16(d);
		yb.m = qt_fp32_to_fp16(min);
		/* no clamp at 31 in ggml's Q5_1 */
		for (int j = 0; j < 32; j++)
			q[j] = qt_cast_u8((x[j] - min) * id + 0.5f);
		for (int j = 0; j < 16; j++)
			yb.qs[j] = (uint8_t)((q[j] & 0x0f) | (q[j + 16] & 0x0f) << 4);
		qt_put_qh(yb.qh, q);
		memcpy(dst + b * sizeof(yb), &yb, sizeof(yb));
	}
}

void qt_dequantize_q5_1(const void *vx, float *y, int64_t n)
{
	const uint8_t *src = vx; /* any alignment: each block goes through xb */

	assert(n % QT_QK5_1 == 0);
	for (int64_t b = 0; b < n / QT_QK5_1; b++, y += QT_QK5_1) {
		struct qt_block_q5_1 xb;

		memcpy(&xb, src + b * sizeof(xb), sizeof(xb));
		const float d = qt_fp16_to_fp32(xb.d);
		const float m = qt_fp16_to_fp32(xb.m);
		const uint32_t qh = get_qh(xb.qh);

		for (int j = 0; j < 16; j++) {
			const int h0 = (int)(qh >> j & 1u) << 4;
			const int h1 = (int)(qh >> (j + 16) & 1u) << 4;

			y[j] = (float)((xb.qs[j] & 0x0f) | h0) * d + m;
			y[j + 16] = (float)((xb.qs[j] >> 4) | h1) * d + m;
		}
	}
}

void qt_quantize_q8_0(const float *x, void *vy, int64_t n)
{
	uint8_t *dst = vy; /* any alignment: each block goes through yb */

	assert(n % QT_QK8_0 == 0);
	if (qt_simd_avx2()) {
		qt_avx2_quantize_q8_0(x, vy, n);
		return;
	}
	for (int64_t b = 0; b < n / QT_QK8_0; b++, x += QT_QK8_0) {
		struct qt_block_q8_0 yb;
		float amax = 0.0f;

		for (int j = 0; j < QT_QK8_0; j++)
			amax = amax > fabsf(x[j]) ? amax : fabsf(x[j]);
		const float d = amax / 127;
		const float id = d != 0.0f ? 1.0f / d : 0.0f;

		yb.d = qt_fp32_to_fp16(d);
		for (int j = 0; j < QT_QK8_0; j++)
			yb.qs[j] = (int8_t)qt_cast_i8(roundf(x[j] * id));
		memcpy(dst + b * sizeof(yb), &yb, sizeof(yb));
	}
}

void qt_dequantize_q8_0(const void *vx, float *y, int64_t n)
{
	const uint8_t *src = vx; /* any alignment: each block goes through xb */

	assert(n % QT_QK8_0 == 0);
	for (int64_t b = 0; b < n / QT_QK8_0; b++, y += QT_QK8_0) {
		struct qt_block_q8_0 xb;

		memcpy(&xb, src + b * sizeof(xb), sizeof(xb));
		const float d = qt_fp16_to_fp32(xb.d);

		for (int j = 0; j < QT_QK8_0; j++)
			y[j] = (float)xb.qs[j] * d;
	}
}
