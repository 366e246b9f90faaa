/* q_simd_avx2.h - internal to q_simd_*.c: AVX2 forms of qkern.h's
 * primitives, one lane at a time exactly the scalar operation.
 *
 * Every function is compiled for AVX2 by its target attribute alone (no
 * -mavx2 for the file), so nothing here runs unless qsimd.h's dispatch saw
 * AVX2. No FMA: separate _mm256_mul_ps/_mm256_add_ps round like C's float
 * `*` and `+` under -ffp-contract=off, and _mm256_div_ps/_mm256_sqrt_ps
 * round like `/` and sqrtf. Comparisons use the ordered predicates C's
 * `<`, `>`, `==` have (false with a NaN) and the unordered one for `!=`.
 */
#ifndef QT_Q_SIMD_AVX2_H
#define QT_Q_SIMD_AVX2_H

#include <immintrin.h>
#include <stdint.h>

#define QT_AVX2 __attribute__((target("avx2")))
#define QT_AVX2_INLINE static inline __attribute__((target("avx2"), always_inline))

/* qt_nearest_int: the 1.5 * 2^23 trick on each lane */
QT_AVX2_INLINE __m256i qv_nearest_int(__m256 v)
{
	const __m256 t = _mm256_add_ps(v, _mm256_set1_ps(12582912.0f));

	return _mm256_sub_epi32(_mm256_and_si256(_mm256_castps_si256(t), _mm256_set1_epi32(0x007fffff)),
				_mm256_set1_epi32(0x00400000));
}

/* qt_imax(lo, qt_imin(hi, v)) */
QT_AVX2_INLINE __m256i qv_clamp(__m256i v, int lo, int hi)
{
	return _mm256_max_epi32(_mm256_set1_epi32(lo), _mm256_min_epi32(_mm256_set1_epi32(hi), v));
}

QT_AVX2_INLINE __m256 qv_abs(__m256 v)
{
	return _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)));
}

QT_AVX2_INLINE __m256 qv_neg(__m256 v)
{
	return _mm256_xor_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u)));
}

/* qt_wrap_i8: int -> int8 modulo 256 */
QT_AVX2_INLINE __m256i qv_wrap_i8(__m256i v)
{
	const __m256i b = _mm256_set1_epi32(0x80);

	return _mm256_sub_epi32(_mm256_xor_si256(_mm256_and_si256(v, _mm256_set1_epi32(0xff)), b), b);
}

/* qt_cast_i8: cvttps2dq gives INT32_MIN out of range or NaN, as qt_cvtt_i32 */
QT_AVX2_INLINE __m256i qv_cast_i8(__m256 v)
{
	return qv_wrap_i8(_mm256_cvttps_epi32(v));
}

QT_AVX2_INLINE __m256 qv_blend(__m256 a, __m256 b, __m256 take_b)
{
	return _mm256_blendv_ps(a, b, take_b);
}

QT_AVX2_INLINE __m256i qv_blendi(__m256i a, __m256i b, __m256 take_b)
{
	return _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b),
						    take_b));
}

/* signed value of largest |x| over n lane-vectors, the first one winning
 * (qsearch.c's group_absmax, q_legacy.c's signed_absmax) */
QT_AVX2_INLINE __m256 qv_absmax(const __m256 *xt, int n, __m256 *amax_out)
{
	__m256 amax = _mm256_setzero_ps(), max = _mm256_setzero_ps();

	for (int i = 0; i < n; i++) {
		const __m256 ax = qv_abs(xt[i]);
		const __m256 gt = _mm256_cmp_ps(ax, amax, _CMP_GT_OQ);

		amax = qv_blend(amax, ax, gt);
		max = qv_blend(max, xt[i], gt);
	}
	*amax_out = amax;
	return max;
}

#endif
