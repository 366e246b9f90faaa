/* dot_avx2.c - the canonical dot product with AVX2, and the blocked
 * four-row kernels (rf_acc4x4) with AVX2 and AVX-512; see dot.h.
 *
 * Lane j of an accumulator is partial sum s[j]: element i = 8q + j lands in
 * lane j, as in the scalar specification. _mm256_mul_ps then _mm256_add_ps
 * round like the scalar mul and add (no FMA: the target is "avx2" only and the
 * build uses -ffp-contract=off).
 *
 * The tail (n mod 8 elements) is a masked load: lanes past the end read 0, so
 * they add 0 * 0 = +0 to their partial sum. That changes nothing: a partial
 * sum starts at +0 and a round-to-nearest sum is -0 only when both operands
 * are -0, so no partial sum is ever -0, and s + (+0) is s exactly (a NaN s
 * stays the first operand and keeps its payload). The blocked kernels carry
 * their sums across calls in memory (exact) and start from +0 too.
 *
 * The combine ((s0+s1)+(s2+s3))+((s4+s5)+(s6+s7)) is done for four
 * accumulators at once with shuffles that put each left operand (the even
 * lanes, then the low half) first, as the scalar code writes it.
 */
#include "dot.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>

bool rf_cpu_has_avx2(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") != 0;
}

/* lanes [0, r) on for a tail of r = 1..7 elements */
static const int tail_mask[16] = { -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0 };

/* the canonical combine of accumulators a, b, c, d: [a, b, c, d] */
__attribute__((target("avx2")))
static __m128 combine4(__m256 a, __m256 b, __m256 c, __m256 d)
{
	/* [a0+a1, a2+a3, b0+b1, b2+b3 | a4+a5, a6+a7, b4+b5, b6+b7] */
	const __m256 p = _mm256_add_ps(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)),
				       _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
	const __m256 q = _mm256_add_ps(_mm256_shuffle_ps(c, d, _MM_SHUFFLE(2, 0, 2, 0)),
				       _mm256_shuffle_ps(c, d, _MM_SHUFFLE(3, 1, 3, 1)));
	/* [a0123, b0123, c0123, d0123 | a4567, b4567, c4567, d4567] */
	const __m256 r = _mm256_add_ps(_mm256_shuffle_ps(p, q, _MM_SHUFFLE(2, 0, 2, 0)),
				       _mm256_shuffle_ps(p, q, _MM_SHUFFLE(3, 1, 3, 1)));

	return _mm_add_ps(_mm256_castps256_ps128(r), _mm256_extractf128_ps(r, 1));
}

__attribute__((target("avx2")))
float rf_dot_avx2(const float *a, const float *b, size_t n)
{
	__m256 acc = _mm256_setzero_ps();
	size_t i = 0;

	for (; i + 8 <= n; i += 8)
		acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_loadu_ps(a + i),
						       _mm256_loadu_ps(b + i)));
	if (i < n) {
		const __m256i m = _mm256_loadu_si256((const __m256i *)(const void *)
						     (tail_mask + 8 - (n - i)));

		acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_maskload_ps(a + i, m),
						       _mm256_maskload_ps(b + i, m)));
	}
	return _mm_cvtss_f32(combine4(acc, acc, acc, acc));
}

/* one step of two rows into their accumulators: a<r><k> += w_r * x_k */
#define STEP2(w0v, w1v, x0, x1, x2, x3) \
	do { \
		a00 = _mm256_add_ps(a00, _mm256_mul_ps(w0v, x0)); \
		a01 = _mm256_add_ps(a01, _mm256_mul_ps(w0v, x1)); \
		a02 = _mm256_add_ps(a02, _mm256_mul_ps(w0v, x2)); \
		a03 = _mm256_add_ps(a03, _mm256_mul_ps(w0v, x3)); \
		a10 = _mm256_add_ps(a10, _mm256_mul_ps(w1v, x0)); \
		a11 = _mm256_add_ps(a11, _mm256_mul_ps(w1v, x1)); \
		a12 = _mm256_add_ps(a12, _mm256_mul_ps(w1v, x2)); \
		a13 = _mm256_add_ps(a13, _mm256_mul_ps(w1v, x3)); \
	} while (0)

/* rows 2p and 2p + 1 against the four vectors: acc + 64 p holds their
 * 8 x 8 partial sums. Named accumulators: they must stay in registers. */
__attribute__((target("avx2")))
static void acc2x4_avx2(const float *w0, const float *w1, const float *const x[4], size_t n,
			float *acc)
{
	__m256 a00 = _mm256_loadu_ps(acc), a01 = _mm256_loadu_ps(acc + 8);
	__m256 a02 = _mm256_loadu_ps(acc + 16), a03 = _mm256_loadu_ps(acc + 24);
	__m256 a10 = _mm256_loadu_ps(acc + 32), a11 = _mm256_loadu_ps(acc + 40);
	__m256 a12 = _mm256_loadu_ps(acc + 48), a13 = _mm256_loadu_ps(acc + 56);
	size_t i = 0;

	for (; i + 8 <= n; i += 8)
		STEP2(_mm256_loadu_ps(w0 + i), _mm256_loadu_ps(w1 + i), _mm256_loadu_ps(x[0] + i),
		      _mm256_loadu_ps(x[1] + i), _mm256_loadu_ps(x[2] + i),
		      _mm256_loadu_ps(x[3] + i));
	if (i < n) {
		const __m256i m = _mm256_loadu_si256((const __m256i *)(const void *)
						     (tail_mask + 8 - (n - i)));

		STEP2(_mm256_maskload_ps(w0 + i, m), _mm256_maskload_ps(w1 + i, m),
		      _mm256_maskload_ps(x[0] + i, m), _mm256_maskload_ps(x[1] + i, m),
		      _mm256_maskload_ps(x[2] + i, m), _mm256_maskload_ps(x[3] + i, m));
	}
	_mm256_storeu_ps(acc, a00);
	_mm256_storeu_ps(acc + 8, a01);
	_mm256_storeu_ps(acc + 16, a02);
	_mm256_storeu_ps(acc + 24, a03);
	_mm256_storeu_ps(acc + 32, a10);
	_mm256_storeu_ps(acc + 40, a11);
	_mm256_storeu_ps(acc + 48, a12);
	_mm256_storeu_ps(acc + 56, a13);
}

#undef STEP2

void rf_acc4x4_avx2(const float *const w[4], const float *const x[4], size_t n,
		    float acc[128])
{
	acc2x4_avx2(w[0], w[1], x, n, acc);
	acc2x4_avx2(w[2], w[3], x, n, acc + 64);
}

__attribute__((target("avx2")))
void rf_widen_bf16_avx2(const uint8_t *src, float *dst, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		const __m128i h = _mm_loadu_si128((const __m128i *)(const void *)(src + 2 * i));

		_mm256_storeu_ps(dst + i, _mm256_castsi256_ps(
			_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)));
	}
	rf_widen_bf16_scalar(src + 2 * i, dst + i, n - i);
}

bool rf_cpu_has_avx512(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f") != 0;
}

/* [lo | hi] from two 256-bit values */
__attribute__((target("avx512f")))
static inline __m512 pair(__m256 lo, __m256 hi)
{
	return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(lo)),
						   _mm256_castps_pd(hi), 1));
}

/* [v | v] */
__attribute__((target("avx512f")))
static inline __m512 twice(__m256 v)
{
	return _mm512_castpd_ps(_mm512_broadcast_f64x4(_mm256_castps_pd(v)));
}

/* one step of row r into its two accumulators: vectors 0|1 and 2|3 */
#define STEP(wv, lo, hi) \
	do { \
		lo = _mm512_add_ps(lo, _mm512_mul_ps(wv, x01)); \
		hi = _mm512_add_ps(hi, _mm512_mul_ps(wv, x23)); \
	} while (0)

/* r<q><h>: row q with vectors 2h (low half) and 2h + 1 (high half): the 16
 * floats at acc + (4 q + 2 h) * 8, so lane j of each half is s[j] of one
 * (row, vector) pair. Lanes past the end of a tail load 0 in w and x,
 * adding +0 (see the top). Named accumulators: they must stay in registers. */
__attribute__((target("avx512f")))
void rf_acc4x4_avx512(const float *const w[4], const float *const x[4], size_t n,
		      float acc[128])
{
	__m512 r00 = _mm512_loadu_ps(acc), r01 = _mm512_loadu_ps(acc + 16);
	__m512 r10 = _mm512_loadu_ps(acc + 32), r11 = _mm512_loadu_ps(acc + 48);
	__m512 r20 = _mm512_loadu_ps(acc + 64), r21 = _mm512_loadu_ps(acc + 80);
	__m512 r30 = _mm512_loadu_ps(acc + 96), r31 = _mm512_loadu_ps(acc + 112);
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		const __m512 x01 = pair(_mm256_loadu_ps(x[0] + i), _mm256_loadu_ps(x[1] + i));
		const __m512 x23 = pair(_mm256_loadu_ps(x[2] + i), _mm256_loadu_ps(x[3] + i));

		STEP(twice(_mm256_loadu_ps(w[0] + i)), r00, r01);
		STEP(twice(_mm256_loadu_ps(w[1] + i)), r10, r11);
		STEP(twice(_mm256_loadu_ps(w[2] + i)), r20, r21);
		STEP(twice(_mm256_loadu_ps(w[3] + i)), r30, r31);
	}
	if (i < n) {
		const __m256i m = _mm256_loadu_si256((const __m256i *)(const void *)
						     (tail_mask + 8 - (n - i)));
		const __m512 x01 = pair(_mm256_maskload_ps(x[0] + i, m),
					_mm256_maskload_ps(x[1] + i, m));
		const __m512 x23 = pair(_mm256_maskload_ps(x[2] + i, m),
					_mm256_maskload_ps(x[3] + i, m));

		STEP(twice(_mm256_maskload_ps(w[0] + i, m)), r00, r01);
		STEP(twice(_mm256_maskload_ps(w[1] + i, m)), r10, r11);
		STEP(twice(_mm256_maskload_ps(w[2] + i, m)), r20, r21);
		STEP(twice(_mm256_maskload_ps(w[3] + i, m)), r30, r31);
	}
	_mm512_storeu_ps(acc, r00);
	_mm512_storeu_ps(acc + 16, r01);
	_mm512_storeu_ps(acc + 32, r10);
	_mm512_storeu_ps(acc + 48, r11);
	_mm512_storeu_ps(acc + 64, r20);
	_mm512_storeu_ps(acc + 80, r21);
	_mm512_storeu_ps(acc + 96, r30);
	_mm512_storeu_ps(acc + 112, r31);
}

#undef STEP

#else /* no x86: the scalar path stands in */

bool rf_cpu_has_avx2(void)
{
	return false;
}

float rf_dot_avx2(const float *a, const float *b, size_t n)
{
	return rf_dot_scalar(a, b, n);
}

void rf_acc4x4_avx2(const float *const w[4], const float *const x[4], size_t n,
		    float acc[128])
{
	rf_acc4x4_scalar(w, x, n, acc);
}

void rf_widen_bf16_avx2(const uint8_t *src, float *dst, size_t n)
{
	rf_widen_bf16_scalar(src, dst, n);
}

bool rf_cpu_has_avx512(void)
{
	return false;
}

void rf_acc4x4_avx512(const float *const w[4], const float *const x[4], size_t n,
		      float acc[128])
{
	rf_acc4x4_scalar(w, x, n, acc);
}

#endif
