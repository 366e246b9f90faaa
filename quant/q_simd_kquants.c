/* q_simd_kquants.c - AVX2 k-quants: the sub-block scale searches of a
 * super-block run side by side, one sub-block per vector lane.
 *
 * A super-block's searches (qsearch.c) are independent of each other, so
 * lane k of every vector holds sub-block k: element i of all 8 sub-blocks
 * is one vector (gathered with the sub-block stride), and every scalar
 * statement of qt_make_qkx2_quants, qt_make_qx_quants and
 * qt_make_q3_quants becomes the same operation on 8 lanes, in the same
 * order, with the same float intermediates. Where the scalar code branches
 * per group (a better trial, a skipped step, an early stop), the lanes keep
 * or replace their values under a mask instead, so each lane ends with
 * what the scalar code computes for its sub-block. The rest of a
 * super-block (scale quantization, fp16 round trip, requantization,
 * packing) is the scalar qt_qN_K_block of q_kquants_*.c, given these
 * searches. Q3_K's search, the longest chain, also runs several
 * super-blocks side by side (Q3_BATCH). Q4_K/Q5_K have 8 sub-blocks of 32 (one vector group); Q2_K,
 * Q3_K and Q6_K 16 of 16 (two groups).
 */
#include "qsimd.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

#include <stdbool.h>
#include <string.h>

#include "blocks.h"
#include "qkern.h"
#include "qtype.h"
#include "q_simd_avx2.h"
#include "q_simd_lanes.h"

/* qt_make_q3_quants(16, 4, x, L) on 8 lanes: the state of one vector of
 * groups. L[i] = l + nmax at the end (0 for an all-zero group). */
struct q3_lanes {
	__m256 xt[16], w[16], wx[16]; /* x, x^2, x^2 * x */
	__m256i L[16];
	__m256 sumlx, suml2;
	__m256 active;                /* still sweeping (scalar: not broken out) */
	__m256 empty;                 /* all-zero group (scalar: early return) */
	__m256 changed;               /* a level moved in this sweep */
};

#define Q3_N 16
#define Q3_NMAX 4

QT_AVX2_INLINE void q3_start(struct q3_lanes *q)
{
	const __m256 zero = _mm256_setzero_ps();
	__m256 amax;
	const __m256 max = qv_absmax(q->xt, Q3_N, &amax);
	const __m256 iscale = _mm256_div_ps(_mm256_set1_ps((float)-Q3_NMAX), max);

	q->empty = _mm256_cmp_ps(amax, _mm256_set1_ps(QT_GROUP_MAX_EPS), _CMP_LT_OQ);
	q->active = _mm256_xor_ps(q->empty, _mm256_castsi256_ps(_mm256_set1_epi32(-1)));
	q->sumlx = zero;
	q->suml2 = zero;
	for (int i = 0; i < Q3_N; i++) {
		const __m256i l = qv_clamp(qv_nearest_int(_mm256_mul_ps(iscale, q->xt[i])), -Q3_NMAX,
					   Q3_NMAX - 1);
		const __m256 lf = _mm256_cvtepi32_ps(l);

		q->w[i] = _mm256_mul_ps(q->xt[i], q->xt[i]);
		q->wx[i] = _mm256_mul_ps(q->w[i], q->xt[i]);
		q->L[i] = l;
		q->sumlx = _mm256_add_ps(q->sumlx, _mm256_mul_ps(q->wx[i], lf));
		q->suml2 = _mm256_add_ps(q->suml2, _mm256_mul_ps(_mm256_mul_ps(q->w[i], lf), lf));
	}
}

/* one element of a sweep: move level i where the scalar code would */
QT_AVX2_INLINE void q3_step(struct q3_lanes *q, int i)
{
	const __m256 zero = _mm256_setzero_ps();
	const __m256 lf = _mm256_cvtepi32_ps(q->L[i]);
	__m256 slx = _mm256_sub_ps(q->sumlx, _mm256_mul_ps(q->wx[i], lf));
	const __m256 c1 = _mm256_cmp_ps(slx, zero, _CMP_GT_OQ);
	__m256 sl2 = _mm256_sub_ps(q->suml2, _mm256_mul_ps(_mm256_mul_ps(q->w[i], lf), lf));
	const __m256i new_l = qv_clamp(qv_nearest_int(_mm256_div_ps(_mm256_mul_ps(q->xt[i], sl2), slx)),
				       -Q3_NMAX, Q3_NMAX - 1);
	const __m256 c2 = _mm256_castsi256_ps(
		_mm256_xor_si256(_mm256_cmpeq_epi32(new_l, q->L[i]), _mm256_set1_epi32(-1)));
	const __m256 nf = _mm256_cvtepi32_ps(new_l);

	slx = _mm256_add_ps(slx, _mm256_mul_ps(q->wx[i], nf));
	sl2 = _mm256_add_ps(sl2, _mm256_mul_ps(_mm256_mul_ps(q->w[i], nf), nf));
	const __m256 c3 = _mm256_and_ps(
		_mm256_cmp_ps(sl2, zero, _CMP_GT_OQ),
		_mm256_cmp_ps(_mm256_mul_ps(_mm256_mul_ps(slx, slx), q->suml2),
			      _mm256_mul_ps(_mm256_mul_ps(q->sumlx, q->sumlx), sl2), _CMP_GT_OQ));
	const __m256 upd = _mm256_and_ps(_mm256_and_ps(q->active, c1), _mm256_and_ps(c2, c3));

	q->L[i] = qv_blendi(q->L[i], new_l, upd);
	q->sumlx = qv_blend(q->sumlx, slx, upd);
	q->suml2 = qv_blend(q->suml2, sl2, upd);
	q->changed = _mm256_or_ps(q->changed, upd);
}

/* Q3_BATCH super-blocks are searched together: their 2 * Q3_BATCH vectors of
 * groups are independent, so their sweeps' dependency chains (a division
 * and a compare per step, each waiting for the last accepted move) overlap
 * where one super-block's two vectors alone leave the divider idle. A lane
 * that stopped sweeping is masked, so each still ends as the scalar code
 * leaves its group. */
#define Q3_BATCH 4

/* nv vectors of groups (xt filled): the sweeps, then the levels (+ nmax)
 * and the scales */
QT_AVX2_INLINE void q3_lanes_n(struct q3_lanes *q, int nv, __m256 *scale)
{
	const __m256 zero = _mm256_setzero_ps();
	__m256 any = zero;

	for (int v = 0; v < nv; v++) {
		q3_start(&q[v]);
		any = _mm256_or_ps(any, q[v].active);
	}
	/* a sweep visits only the vectors with a lane still sweeping (all-masked
	 * steps change nothing) */
	for (int itry = 0; itry < 5 && _mm256_movemask_ps(any); itry++) {
		int act[2 * Q3_BATCH], na = 0;

		for (int v = 0; v < nv; v++)
			if (_mm256_movemask_ps(q[v].active)) {
				q[v].changed = zero;
				act[na++] = v;
			}
		for (int i = 0; i < Q3_N; i++)
			for (int a = 0; a < na; a++)
				q3_step(&q[act[a]], i);
		any = zero;
		for (int a = 0; a < na; a++) {
			q[act[a]].active = _mm256_and_ps(q[act[a]].active, q[act[a]].changed);
			any = _mm256_or_ps(any, q[act[a]].active);
		}
	}
	for (int v = 0; v < nv; v++) {
		for (int i = 0; i < Q3_N; i++)
			q[v].L[i] = _mm256_add_epi32(q[v].L[i], _mm256_set1_epi32(Q3_NMAX));
		scale[v] = zero_groups(q[v].L, Q3_N, q[v].empty,
				       qv_blend(zero, _mm256_div_ps(q[v].sumlx, q[v].suml2),
						_mm256_cmp_ps(q[v].suml2, zero, _CMP_GT_OQ)));
	}
}

/* ---- the searches, in the shapes of qkern.h ---- */

static QT_AVX2 void k4_search(const float *x, int nmax, float rmin, int nstep, float scales[8],
			      float mins[8], uint8_t L[256])
{
	__m256 xt[32], wt[32], the_min;
	__m256i Lt[32];
	__m256 sum_x2 = _mm256_setzero_ps();

	gather_groups(x, 32, 32, xt);
	for (int i = 0; i < 32; i++)
		sum_x2 = _mm256_add_ps(sum_x2, _mm256_mul_ps(xt[i], xt[i]));
	const __m256 av_x = _mm256_sqrt_ps(_mm256_div_ps(sum_x2, _mm256_set1_ps(32.0f)));

	for (int i = 0; i < 32; i++)
		wt[i] = _mm256_add_ps(av_x, qv_abs(xt[i]));
	_mm256_storeu_ps(scales, qkx2_lanes(32, nmax, xt, wt, Lt, &the_min, rmin, 0.1f, nstep, false));
	_mm256_storeu_ps(mins, the_min);
	scatter_u8(Lt, 32, 32, L);
}

static QT_AVX2 void q2_search(const float *x, float scales[16], float mins[16], uint8_t L[256])
{
	for (int g = 0; g < 2; g++) {
		__m256 xt[16], wt[16], the_min;
		__m256i Lt[16];

		gather_groups(x + 128 * g, 16, 16, xt);
		for (int i = 0; i < 16; i++)
			wt[i] = qv_abs(xt[i]);
		_mm256_storeu_ps(scales + 8 * g,
				 qkx2_lanes(16, 3, xt, wt, Lt, &the_min, -0.5f, 0.1f, 15, true));
		_mm256_storeu_ps(mins + 8 * g, the_min);
		scatter_u8(Lt, 16, 16, L + 128 * g);
	}
}

/* the searches of nb <= Q3_BATCH consecutive super-blocks at x:
 * scales[16 * b + j], L[256 * b + e] of super-block b */
static QT_AVX2 void q3_search_n(const float *x, int nb, float *scales, int8_t *L)
{
	struct q3_lanes q[2 * Q3_BATCH];
	__m256 sc[2 * Q3_BATCH];

	for (int v = 0; v < 2 * nb; v++)
		gather_groups(x + 128 * v, Q3_N, 16, q[v].xt);
	q3_lanes_n(q, 2 * nb, sc);
	for (int v = 0; v < 2 * nb; v++) {
		_mm256_storeu_ps(scales + 8 * v, sc[v]);
		scatter_u8(q[v].L, Q3_N, 16, (uint8_t *)L + 128 * v);
	}
}

static QT_AVX2 void q6_search(const float *x, float scales[16], int8_t L[256])
{
	for (int g = 0; g < 2; g++) {
		__m256 xt[16];
		__m256i Lt[16];

		gather_groups(x + 128 * g, 16, 16, xt);
		_mm256_storeu_ps(scales + 8 * g, qx_lanes(16, 32, xt, NULL, Lt));
		scatter_u8(Lt, 16, 16, (uint8_t *)L + 128 * g);
	}
}

/* 8 ints in 0..255 as 8 bytes at L */
QT_AVX2_INLINE void store_u8x8(uint8_t *L, __m256i v)
{
	const __m128i w = _mm_packus_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));

	_mm_storel_epi64((__m128i *)L, _mm_packus_epi16(w, w));
}

QT_AVX2 void qt_avx2_requant_sym(const float *x, int n, float d, int lo, int hi, int off, uint8_t *L)
{
	const __m256 vd = _mm256_set1_ps(d);

	for (int i = 0; i < n; i += 8)
		store_u8x8(L + i, _mm256_add_epi32(qv_clamp(qv_nearest_int(_mm256_div_ps(_mm256_loadu_ps(x + i), vd)),
							    lo, hi),
						   _mm256_set1_epi32(off)));
}

QT_AVX2 void qt_avx2_requant_asym(const float *x, int n, float dm, float d, int nmax, uint8_t *L)
{
	const __m256 vd = _mm256_set1_ps(d), vm = _mm256_set1_ps(dm);

	for (int i = 0; i < n; i += 8)
		store_u8x8(L + i, qv_clamp(qv_nearest_int(_mm256_div_ps(_mm256_add_ps(_mm256_loadu_ps(x + i), vm), vd)),
					   0, nmax));
}

/* byte lanes a | b << 2 | c << 4 | d << 6, each shift kept to its byte as
 * C's uint8_t result keeps it (16-bit shifts, then the spill masked off) */
QT_AVX2_INLINE __m256i or_2bit(__m256i a, __m256i b, __m256i c, __m256i d)
{
	const __m256i b2 = _mm256_and_si256(_mm256_slli_epi16(b, 2), _mm256_set1_epi8((char)0xfc));
	const __m256i c4 = _mm256_and_si256(_mm256_slli_epi16(c, 4), _mm256_set1_epi8((char)0xf0));
	const __m256i d6 = _mm256_and_si256(_mm256_slli_epi16(d, 6), _mm256_set1_epi8((char)0xc0));

	return _mm256_or_si256(_mm256_or_si256(a, b2), _mm256_or_si256(c4, d6));
}

QT_AVX2 void qt_avx2_pack_2bit(uint8_t qs[64], const uint8_t *L)
{
	for (int h = 0; h < 2; h++) {
		const __m256i *c = (const __m256i *)(L + 128 * h);

		_mm256_storeu_si256((__m256i *)(qs + 32 * h),
				    or_2bit(_mm256_loadu_si256(c), _mm256_loadu_si256(c + 1),
					    _mm256_loadu_si256(c + 2), _mm256_loadu_si256(c + 3)));
	}
}

/* chunk c = e / 32: hmask[e % 32] bit c set where L[e] > 3 (signed), and
 * then L[e] - 4; the low levels packed as Q2_K's */
QT_AVX2 void qt_avx2_q3_K_bits(const int8_t L[256], uint8_t hmask[32], uint8_t qs[64])
{
	__m256i low[8], hm = _mm256_setzero_si256();

	for (int c = 0; c < 8; c++) {
		const __m256i l = _mm256_loadu_si256((const __m256i *)(L + 32 * c));
		const __m256i gt = _mm256_cmpgt_epi8(l, _mm256_set1_epi8(3));

		hm = _mm256_or_si256(hm, _mm256_and_si256(gt, _mm256_set1_epi8((char)(1u << c))));
		low[c] = _mm256_sub_epi8(l, _mm256_and_si256(gt, _mm256_set1_epi8(4)));
	}
	_mm256_storeu_si256((__m256i *)hmask, hm);
	for (int h = 0; h < 2; h++)
		_mm256_storeu_si256((__m256i *)(qs + 32 * h),
				    or_2bit(low[4 * h], low[4 * h + 1], low[4 * h + 2], low[4 * h + 3]));
}

/* ---- the row entry points (qsimd.h) ---- */

#define KQ_ROW(name, blk, call)                                                  \
	QT_AVX2 void qt_avx2_quantize_##name(const float *x, void *vy, int64_t n) \
	{                                                                        \
		uint8_t *dst = vy; /* any alignment: each block goes through yb */ \
		for (int64_t b = 0; b < n / QT_QK_K; b++) {                      \
			struct qt_block_##name yb;                               \
			call(x + b * QT_QK_K, &yb, blk);                         \
			memcpy(dst + b * sizeof(yb), &yb, sizeof(yb));           \
		}                                                                \
	}
KQ_ROW(q2_K, q2_search, qt_q2_K_block)

/* Q3_K: the searches Q3_BATCH super-blocks at a time (q3_search_n), then
 * each block's scalar remainder (qt_q3_K_from_search) */
QT_AVX2 void qt_avx2_quantize_q3_K(const float *x, void *vy, int64_t n)
{
	uint8_t *dst = vy; /* any alignment: each block goes through yb */
	const int64_t nb = n / QT_QK_K;

	for (int64_t b0 = 0; b0 < nb; b0 += Q3_BATCH) {
		const int k = nb - b0 < Q3_BATCH ? (int)(nb - b0) : Q3_BATCH;
		float scales[Q3_BATCH][16];
		int8_t L[Q3_BATCH][QT_QK_K];

		q3_search_n(x + b0 * QT_QK_K, k, scales[0], L[0]);
		for (int b = 0; b < k; b++) {
			struct qt_block_q3_K yb;

			qt_q3_K_from_search(x + (b0 + b) * QT_QK_K, &yb, scales[b], L[b]);
			memcpy(dst + (b0 + b) * sizeof(yb), &yb, sizeof(yb));
		}
	}
}
KQ_ROW(q4_K, k4_search, qt_q4_K_block)
KQ_ROW(q5_K, k4_search, qt_q5_K_block)
KQ_ROW(q6_K, q6_search, qt_q6_K_block)

#endif
