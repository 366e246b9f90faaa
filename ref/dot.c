/* dot.c - the canonical dot product, scalar specification; see dot.h. */
#include "dot.h"

float rf_dot_scalar(const float *a, const float *b, size_t n)
{
	float s[8] = { 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f };

	for (size_t i = 0; i < n; i++) {
		const float p = a[i] * b[i];

		s[i % 8] = s[i % 8] + p;
	}
	return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

void rf_dot4_scalar(const float *w, const float *const x[4], size_t n, float out[4])
{
	for (int k = 0; k < 4; k++)
		out[k] = rf_dot_scalar(w, x[k], n);
}

void rf_dot4x4_scalar(const float *const w[4], const float *const x[4], size_t n,
		      float out[16])
{
	for (int r = 0; r < 4; r++)
		rf_dot4_scalar(w[r], x, n, out + 4 * r);
}

void rf_dot_pick(struct rf_dot_impl *d, bool simd)
{
	d->simd = simd && rf_cpu_has_avx2();
	d->dot = d->simd ? rf_dot_avx2 : rf_dot_scalar;
	d->dot4 = d->simd ? rf_dot4_avx2 : rf_dot4_scalar;
	d->dot4x4 = !d->simd ? rf_dot4x4_scalar
		    : rf_cpu_has_avx512() ? rf_dot4x4_avx512 : rf_dot4x4_avx2;
}
