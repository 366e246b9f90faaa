/* q_simd_grid.c - AVX2 form of qi_gridq.c's nearest grid point: the
 * weighted squared distances of eight candidate grid points at once, each
 * lane one candidate's sum over its coordinates in the scalar order
 * (d2 = 0, then += (w * diff) * diff coordinate by coordinate, diff =
 * scale * q - x, q the coordinate or, for IQ1_S/IQ1_M, xx[coordinate / 2]);
 * the first candidate with the smallest distance then wins as in the scalar
 * loop. Same result as the scalar path (qsimd.h).
 */
#include "qsimd.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

#include <float.h>
#include <string.h>

#include "q_simd_avx2.h"
#include "q_simd_lanes.h"

/* width 8: one candidate per vector, 8 candidates, transposed so that lane
 * k of vector i is coordinate i's term of candidate k */
QT_AVX2_INLINE __m256 dist8(const uint8_t *coord, const uint16_t *cand, int m, __m256 vs,
			    __m256 vx, __m256 vw, const float *xx, __m256 tab)
{
	__m256 t[8], u[8];
	__m256 d = _mm256_setzero_ps();

	for (int k = 0; k < 8; k++) {
		const int g = cand[k < m ? k : 0];
		uint64_t b;

		memcpy(&b, coord + 8 * (size_t)g, 8);
		const __m256i c = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)b));
		const __m256 q = xx ? _mm256_permutevar8x32_ps(tab, _mm256_srli_epi32(c, 1))
				    : _mm256_cvtepi32_ps(c);
		const __m256 diff = _mm256_sub_ps(_mm256_mul_ps(vs, q), vx);

		t[k] = _mm256_mul_ps(_mm256_mul_ps(vw, diff), diff);
	}
	transpose8(t, u);
	for (int i = 0; i < 8; i++)
		d = _mm256_add_ps(d, u[i]);
	return d;
}

/* width 4: candidates k (low half) and k + 4 (high half) per vector, a 4x4
 * transpose in each half */
QT_AVX2_INLINE __m256 dist4(const uint8_t *coord, const uint16_t *cand, int m, __m256 vs,
			    __m256 vx, __m256 vw)
{
	__m256 t[4];
	__m256 d = _mm256_setzero_ps();

	for (int k = 0; k < 4; k++) {
		const int g0 = cand[k < m ? k : 0], g1 = cand[k + 4 < m ? k + 4 : 0];
		uint32_t b0, b1;

		memcpy(&b0, coord + 4 * (size_t)g0, 4);
		memcpy(&b1, coord + 4 * (size_t)g1, 4);
		const __m256 q = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(
			_mm_cvtsi64_si128((long long)((uint64_t)b1 << 32 | b0))));
		const __m256 diff = _mm256_sub_ps(_mm256_mul_ps(vs, q), vx);

		t[k] = _mm256_mul_ps(_mm256_mul_ps(vw, diff), diff);
	}
	const __m256 a0 = _mm256_unpacklo_ps(t[0], t[1]), a1 = _mm256_unpackhi_ps(t[0], t[1]);
	const __m256 a2 = _mm256_unpacklo_ps(t[2], t[3]), a3 = _mm256_unpackhi_ps(t[2], t[3]);

	d = _mm256_add_ps(d, _mm256_shuffle_ps(a0, a2, 0x44));
	d = _mm256_add_ps(d, _mm256_shuffle_ps(a0, a2, 0xee));
	d = _mm256_add_ps(d, _mm256_shuffle_ps(a1, a3, 0x44));
	return _mm256_add_ps(d, _mm256_shuffle_ps(a1, a3, 0xee));
}

QT_AVX2 int qt_avx2_grid_nearest(const uint8_t *coord, int width, const uint16_t *cand, int n,
				 const float *xv, const float *w, float scale, const float *xx)
{
	const __m256 vs = _mm256_set1_ps(scale);
	const __m256 tab = xx ? _mm256_setr_ps(xx[0], xx[1], xx[2], 0, 0, 0, 0, 0)
			      : _mm256_setzero_ps();
	__m256 vx, vw;
	float best_d2 = FLT_MAX, d2[8];
	int best = -1;

	if (width == 8) {
		vx = _mm256_loadu_ps(xv);
		vw = _mm256_loadu_ps(w);
	} else {
		vx = _mm256_broadcast_ps((const __m128 *)xv);
		vw = _mm256_broadcast_ps((const __m128 *)w);
	}
	for (int j0 = 0; j0 < n; j0 += 8) {
		const int m = n - j0 < 8 ? n - j0 : 8;

		_mm256_storeu_ps(d2, width == 8 ? dist8(coord, cand + j0, m, vs, vx, vw, xx, tab)
						: dist4(coord, cand + j0, m, vs, vx, vw));
		for (int k = 0; k < m; k++) {
			if (d2[k] < best_d2) {
				best_d2 = d2[k];
				best = j0 + k;
			}
		}
	}
	return best;
}

#else

/* never called: qt_simd_level() is always QT_SIMD_SCALAR here */
int qt_avx2_grid_nearest(const uint8_t *coord, int width, const uint16_t *cand, int n,
			 const float *xv, const float *w, float scale, const float *xx)
{
	(void)coord; (void)width; (void)cand; (void)n; (void)xv; (void)w; (void)scale; (void)xx;
	return -1;
}

#endif
