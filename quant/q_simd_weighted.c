/* q_simd_weighted.c - AVX2 searches of the weighted quantizers
 * (q_weighted.c): 256 values at a time, cut into groups of 16 or 32 (the
 * sub-blocks of a super-block, or 8 consecutive 32-blocks of a legacy
 * row), eight groups side by side, one per vector lane, as the unweighted
 * k-quants of q_simd_kquants.c do (its header comment has the scheme).
 *
 * Each lane computes exactly what the scalar loop of q_weighted.c
 * computes for its group: the importance weights qw * sqrt(sigma2 + x^2)
 * (or qw itself), their sum from 0 in element order, and the scale search
 * (qsearch.c's make_qkx2_quants with ggml's weighted parameters -0.9,
 * 0.05, 36, or make_qx_quants with rmse_type 1 and those weights), in the
 * scalar order with the same float intermediates (q_simd_lanes.h). The
 * scale quantization and packing after the searches stay scalar.
 */
#include "qsimd.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

#include <stdbool.h>

#include "qkern.h"
#include "q_simd_avx2.h"
#include "q_simd_lanes.h"

/* element i of the 8 groups starting at x and their weights, for groups
 * of gs values: xt[i] the values, wt[i] the weights (qw * sqrt(sigma2 +
 * x^2) when imp, else qw); returns each group's sum of weights */
QT_AVX2_INLINE __m256 load_weighted(const float *x, const float *qw, float sigma2, bool imp,
				    int gs, __m256 *xt, __m256 *wt)
{
	const __m256 s2 = _mm256_set1_ps(sigma2);
	__m256 sum = _mm256_setzero_ps();

	gather_groups(x, gs, gs, xt);
	gather_groups(qw, gs, gs, wt);
	for (int i = 0; i < gs; i++) {
		if (imp)
			wt[i] = _mm256_mul_ps(wt[i], _mm256_sqrt_ps(_mm256_add_ps(
							     s2, _mm256_mul_ps(xt[i], xt[i]))));
		sum = _mm256_add_ps(sum, wt[i]);
	}
	return sum;
}

/* the bodies, inlined with gs a constant (16 or 32) */
QT_AVX2_INLINE void affine_groups(const float *x, const float *qw, float sigma2, int gs, int nmax,
				  float *sw, float *scales, float *mins, uint8_t *L)
{
	const int per = 8 * gs; /* values per vector of groups */

	for (int g = 0; g < 256 / per; g++) {
		__m256 xt[32], wt[32], the_min; /* [gs] lane vectors */
		__m256i Lt[32];

		_mm256_storeu_ps(sw + 8 * g,
				 load_weighted(x + per * g, qw + per * g, sigma2, true, gs, xt, wt));
		_mm256_storeu_ps(scales + 8 * g, qkx2_lanes(gs, nmax, xt, wt, Lt, &the_min, -0.9f,
							    0.05f, 36, false));
		_mm256_storeu_ps(mins + 8 * g, the_min);
		scatter_u8(Lt, gs, gs, L + per * g);
	}
}

QT_AVX2_INLINE void sym_groups(const float *x, const float *qw, float sigma2, bool imp, int gs,
			       int nmax, float *sw, float *scales, int8_t *L)
{
	const int per = 8 * gs;

	for (int g = 0; g < 256 / per; g++) {
		__m256 xt[32], wt[32]; /* [gs] lane vectors */
		__m256i Lt[32];

		_mm256_storeu_ps(sw + 8 * g,
				 load_weighted(x + per * g, qw + per * g, sigma2, imp, gs, xt, wt));
		_mm256_storeu_ps(scales + 8 * g, qx_lanes(gs, nmax, xt, wt, Lt));
		scatter_u8(Lt, gs, gs, (uint8_t *)L + per * g);
	}
}

QT_AVX2 void qt_avx2_wsearch_affine(const float *x, const float *qw, float sigma2, int gs,
				    int nmax, float *sw, float *scales, float *mins, uint8_t *L)
{
	if (gs == 16)
		affine_groups(x, qw, sigma2, 16, nmax, sw, scales, mins, L);
	else
		affine_groups(x, qw, sigma2, 32, nmax, sw, scales, mins, L);
}

QT_AVX2 void qt_avx2_wsearch_sym(const float *x, const float *qw, float sigma2, bool imp, int gs,
				 int nmax, float *sw, float *scales, int8_t *L)
{
	if (gs == 16)
		sym_groups(x, qw, sigma2, imp, 16, nmax, sw, scales, L);
	else
		sym_groups(x, qw, sigma2, imp, 32, nmax, sw, scales, L);
}

#else

#include <stdbool.h>
#include <stdint.h>

/* never called: qt_simd_level() is always QT_SIMD_SCALAR here */
void qt_avx2_wsearch_affine(const float *x, const float *qw, float sigma2, int gs, int nmax,
			    float *sw, float *scales, float *mins, uint8_t *L)
{
	(void)x; (void)qw; (void)sigma2; (void)gs; (void)nmax; (void)sw; (void)scales;
	(void)mins; (void)L;
}

void qt_avx2_wsearch_sym(const float *x, const float *qw, float sigma2, bool imp, int gs,
			 int nmax, float *sw, float *scales, int8_t *L)
{
	(void)x; (void)qw; (void)sigma2; (void)imp; (void)gs; (void)nmax; (void)sw; (void)scales;
	(void)L;
}

#endif
