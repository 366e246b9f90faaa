/* dot.c - the canonical dot product, scalar specification; see dot.h. */
#include "dot.h"

#include <string.h>

float rf_dot_scalar(const float *a, const float *b, size_t n)
{
	float s[8] = { 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f };

	for (size_t i = 0; i < n; i++) {
		const float p = a[i] * b[i];

		s[i % 8] = s[i % 8] + p;
	}
	return rf_dot_fold(s);
}

void rf_acc4x4_scalar(const float *const w[4], const float *const x[4], size_t n,
		      float acc[128])
{
	for (int r = 0; r < 4; r++)
		for (int k = 0; k < 4; k++) {
			float *s = acc + (4 * r + k) * 8;

			for (size_t i = 0; i < n; i++) {
				const float p = w[r][i] * x[k][i];

				s[i % 8] = s[i % 8] + p;
			}
		}
}

void rf_widen_bf16_scalar(const uint8_t *src, float *dst, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const uint32_t u = (uint32_t)(src[2 * i] | src[2 * i + 1] << 8) << 16;

		memcpy(dst + i, &u, sizeof(u));
	}
}

void rf_dot_pick(struct rf_dot_impl *d, bool simd, bool avx512)
{
	d->simd = simd && rf_cpu_has_avx2();
	d->avx512 = d->simd && avx512 && rf_cpu_has_avx512();
	d->dot = d->simd ? rf_dot_avx2 : rf_dot_scalar;
	d->acc4x4 = d->avx512 ? rf_acc4x4_avx512 : d->simd ? rf_acc4x4_avx2 : rf_acc4x4_scalar;
	d->widen_bf16 = d->simd ? rf_widen_bf16_avx2 : rf_widen_bf16_scalar;
}
