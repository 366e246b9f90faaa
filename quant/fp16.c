/* fp16.c - row forms of the fp16/bf16 conversions in fp16.h, and the
 * F32/F16/BF16 rows of the quantize/dequantize table. */
#include "fp16.h"

#include "qsimd.h"
#include "quants.h"

void qt_fp32_to_fp16_row(const float *x, uint16_t *y, int64_t n)
{
	if (qt_simd_avx2()) {
		qt_avx2_fp32_to_fp16(x, y, n);
		return;
	}
	for (int64_t i = 0; i < n; i++)
		y[i] = qt_fp32_to_fp16(x[i]);
}

void qt_fp16_to_fp32_row(const uint16_t *x, float *y, int64_t n)
{
	if (qt_simd_avx2()) {
		qt_avx2_fp16_to_fp32(x, y, n);
		return;
	}
	for (int64_t i = 0; i < n; i++)
		y[i] = qt_fp16_to_fp32(x[i]);
}

void qt_fp32_to_bf16_row(const float *x, uint16_t *y, int64_t n)
{
	if (qt_simd_avx2()) {
		qt_avx2_fp32_to_bf16(x, y, n);
		return;
	}
	for (int64_t i = 0; i < n; i++)
		y[i] = qt_fp32_to_bf16(x[i]);
}

void qt_bf16_to_fp32_row(const uint16_t *x, float *y, int64_t n)
{
	if (qt_simd_avx2()) {
		qt_avx2_bf16_to_fp32(x, y, n);
		return;
	}
	for (int64_t i = 0; i < n; i++)
		y[i] = qt_bf16_to_fp32(x[i]);
}

/* the plain types as qt_quantize_fn / qt_dequantize_fn (quants.h) */

void qt_quantize_f32(const float *x, void *y, int64_t n)
{
	memcpy(y, x, (size_t)n * sizeof(float));
}

void qt_dequantize_f32(const void *x, float *y, int64_t n)
{
	memcpy(y, x, (size_t)n * sizeof(float));
}

void qt_quantize_f16(const float *x, void *y, int64_t n)
{
	if (qt_simd_avx2()) {
		qt_avx2_fp32_to_fp16(x, y, n);
		return;
	}
	uint8_t *dst = y; /* any alignment */

	for (int64_t i = 0; i < n; i++) {
		const uint16_t h = qt_fp32_to_fp16(x[i]);

		memcpy(dst + 2 * i, &h, 2);
	}
}

void qt_dequantize_f16(const void *x, float *y, int64_t n)
{
	if (qt_simd_avx2()) {
		qt_avx2_fp16_to_fp32(x, y, n);
		return;
	}
	const uint8_t *src = x;

	for (int64_t i = 0; i < n; i++) {
		uint16_t h;

		memcpy(&h, src + 2 * i, 2);
		y[i] = qt_fp16_to_fp32(h);
	}
}

void qt_quantize_bf16(const float *x, void *y, int64_t n)
{
	if (qt_simd_avx2()) {
		qt_avx2_fp32_to_bf16(x, y, n);
		return;
	}
	uint8_t *dst = y;

	for (int64_t i = 0; i < n; i++) {
		const uint16_t h = qt_fp32_to_bf16(x[i]);

		memcpy(dst + 2 * i, &h, 2);
	}
}

void qt_dequantize_bf16(const void *x, float *y, int64_t n)
{
	if (qt_simd_avx2()) {
		qt_avx2_bf16_to_fp32(x, y, n);
		return;
	}
	const uint8_t *src = x;

	for (int64_t i = 0; i < n; i++) {
		uint16_t h;

		memcpy(&h, src + 2 * i, 2);
		y[i] = qt_bf16_to_fp32(h);
	}
}
