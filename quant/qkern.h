/* qkern.h - internal to quant/: rounding primitives and the block searches
 * shared by the quantizers (q_legacy.c, q_kquants_*.c, qsearch.c). Not part
 * of the public API; other layers use quants.h and qtype.h.
 *
 * Bit-exactness with ggml's reference quantizers (quant/README.md) rests on
 * three things done here exactly as ggml's C does them on x86-64:
 *  - nearest_int: add 1.5 * 2^23 in float and read the low mantissa bits
 *    (round half to even for |v| < 2^22; for larger values, infinities and
 *    NaN it still returns what the bit trick gives, as ggml's release build,
 *    which compiles its range assert out, does);
 *  - float -> small integer casts, which truncate through a 32-bit
 *    cvttss2si: out of range or NaN gives 0x80000000, whose low byte is 0;
 *  - int -> int8 conversion wraps modulo 256 (GCC's documented behaviour).
 * Every expression keeps ggml's evaluation order and float intermediates;
 * the file is compiled with -ffp-contract=off.
 */
#ifndef QT_QKERN_H
#define QT_QKERN_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "blocks.h"

/* ggml's GROUP_MAX_EPS: a group with max |x| below this is "all zero" */
#define QT_GROUP_MAX_EPS 1e-15f

static inline int qt_imin(int a, int b) { return a < b ? a : b; }
static inline int qt_imax(int a, int b) { return a > b ? a : b; }

/* round half to even via the 1.5 * 2^23 trick (see above) */
static inline int qt_nearest_int(float v)
{
	const float t = v + 12582912.0f;
	int32_t bits;

	memcpy(&bits, &t, sizeof(bits));
	return (bits & 0x007fffff) - 0x00400000;
}

/* The value an x86-64 truncating cast float -> 32-bit int produces:
 * the truncation if it fits, else INT32_MIN (NaN included). */
static inline int32_t qt_cvtt_i32(float v)
{
	if (v >= -2147483648.0f && v < 2147483648.0f)
		return (int32_t)v;
	return INT32_MIN;
}

/* (int8_t)v and (uint8_t)v for a float v, as ggml's code gets them on
 * x86-64: the low byte of the 32-bit truncation. */
/* int -> int8 conversion, modulo 256 */
static inline int qt_wrap_i8(int v)
{
	return (int)(((uint32_t)v & 0xffu) ^ 0x80u) - 0x80;
}

static inline int qt_cast_i8(float v)
{
	return qt_wrap_i8(qt_cvtt_i32(v));
}

static inline int qt_cast_u8(float v)
{
	return (int)((uint32_t)qt_cvtt_i32(v) & 0xffu);
}

/* 6-bit scale and min of sub-block j (0..7) from the 12 packed bytes of a
 * Q4_K / Q5_K block: j < 4 in the low 6 bits of q[j] and q[j+4]; j >= 4 as
 * nibbles of q[j+4] with the top 2 bits in bits 6-7 of q[j-4] and q[j]. */
static inline void qt_get_scale_min_k4(int j, const uint8_t *q, int *sc, int *m)
{
	if (j < 4) {
		*sc = q[j] & 63;
		*m = q[j + 4] & 63;
	} else {
		*sc = (q[j + 4] & 0x0f) | (q[j - 4] >> 6) << 4;
		*m = (q[j + 4] >> 4) | (q[j] >> 6) << 4;
	}
}

/* ggml's make_qx_quants: symmetric signed quantization of n values to
 * [-nmax, nmax-1] with a 19-step scale search. L[i] gets l + nmax. The
 * weights are qw if not NULL, else chosen by rmse_type (1: x^2, 2: 1,
 * 3: |x|, other: sqrt|x|). Returns the scale (0 for an all-zero group). */
float qt_make_qx_quants(int n, int nmax, const float *x, int8_t *L,
			int rmse_type, const float *qw);
/* ggml's make_q3_quants with do_rmse: iterative refinement, L in [0, 2nmax). */
float qt_make_q3_quants(int n, int nmax, const float *x, int8_t *L);
/* ggml's make_qkx2_quants: asymmetric [0, nmax] with a min; *the_min gets
 * the (non-negative) amount to subtract. Laux: n bytes of scratch. */
float qt_make_qkx2_quants(int n, int nmax, const float *x, const float *weights,
			  uint8_t *L, float *the_min, uint8_t *Laux,
			  float rmin, float rdelta, int nstep, bool use_mad);

/* ---- one super-block of each k-quant, split at its sub-block searches ----
 * A search fills the per-sub-block scales (and mins) and levels L of one
 * super-block x[256]; the scalar searches are the loops over qsearch.c
 * above, the AVX2 ones (q_simd_kquants.c) do the same sub-blocks in vector
 * lanes. qt_qN_K_block then does the rest (scale quantization, fp16 round
 * trip, requantization, packing) the same way for both. */

/* Q4_K / Q5_K: per sub-block of 32 a qkx2 search (rdelta 0.1) with weights
 * sqrt(mean x^2) + |x|: scales[8], mins[8], L[256] in [0, nmax] */
typedef void (*qt_k4_search_fn)(const float *x, int nmax, float rmin, int nstep,
				float scales[8], float mins[8], uint8_t L[256]);
/* Q2_K: 16 qkx2 searches of 16 (weights |x|, MAD) */
typedef void (*qt_q2_search_fn)(const float *x, float scales[16], float mins[16],
				uint8_t L[256]);
/* Q3_K (make_q3_quants) and Q6_K (make_qx_quants, rmse_type 1): 16 of 16 */
typedef void (*qt_s16_search_fn)(const float *x, float scales[16], int8_t L[256]);

void qt_k4_search(const float *x, int nmax, float rmin, int nstep, float scales[8],
		  float mins[8], uint8_t L[256]);

/* The common first half of Q4_K and Q5_K (q_kquants_low.c): the searches,
 * then the 6-bit scales and mins packed into scales_out, d and dmin as
 * fp16, and the levels L[256] in [0, nmax] requantized with the stored
 * scales. */
void qt_kquant_scales_k4(const float *x, int nmax, float rmin, int nstep, qt_k4_search_fn search,
			 uint8_t scales_out[12], uint16_t *d_out, uint16_t *dmin_out,
			 uint8_t L[256]);

/* The requantization loops of the tails, n (a multiple of 8) elements with
 * a sub-block's decoded scale d (and min dm); results 0..255:
 *   qt_requant_sym:  L[i] = clamp(nearest_int(x[i] / d), lo, hi) + off
 *   qt_requant_asym: L[i] = clamp(nearest_int((x[i] + dm) / d), 0, nmax)
 * (q_kquants_low.c; the AVX2 twins in q_simd_kquants.c) */
void qt_requant_sym(const float *x, int n, float d, int lo, int hi, int off, uint8_t *L);
void qt_requant_asym(const float *x, int n, float dm, float d, int nmax, uint8_t *L);

void qt_q2_K_block(const float *x, struct qt_block_q2_K *y, qt_q2_search_fn search);
void qt_q3_K_block(const float *x, struct qt_block_q3_K *y, qt_s16_search_fn search);
/* Q3_K after its search: the scales quantized, d, then qt_q3_K_finish (L:
 * the search's levels, 0..7, requantized in place) */
void qt_q3_K_from_search(const float *x, struct qt_block_q3_K *y, const float scales[16],
			 int8_t L[256]);
void qt_q4_K_block(const float *x, struct qt_block_q4_K *y, qt_k4_search_fn search);
void qt_q5_K_block(const float *x, struct qt_block_q5_K *y, qt_k4_search_fn search);
void qt_q6_K_block(const float *x, struct qt_block_q6_K *y, qt_s16_search_fn search);

/* ggml's make_qp_quants: non-negative x to [0, nmax] with weights qw (the
 * sub-block scales of the weighted k-quants); L gets the levels. */
float qt_make_qp_quants(int n, int nmax, const float *x, uint8_t *L, const float *qw);

/* The tails the reference and the weighted quantizers share: the levels
 * requantized with the stored (fp16-rounded) scales and packed. L comes in
 * with the search's levels (kept where a decoded scale is 0). */
void qt_q2_K_finish(const float *x, struct qt_block_q2_K *y, uint8_t L[256]);
void qt_q3_K_finish(const float *x, struct qt_block_q3_K *y, int8_t L[256]);
/* Q4_K/Q5_K: levels in [0, nmax] from the packed scales, d and dmin */
void qt_kquant_requant_k4(const float *x, int nmax, const uint8_t scales[12], uint16_t d16,
			  uint16_t dmin16, uint8_t L[256]);
void qt_pack_scale_min_k4(uint8_t q[12], const int ls[8], const int lm[8]);
void qt_pack_q4_K_qs(uint8_t qs[128], const uint8_t L[256]);
void qt_pack_q5_K_qs(struct qt_block_q5_K *y, const uint8_t L[256]);
/* Q6_K from the 16 sub-block scales (max_scale: the one of largest |.|) */
void qt_q6_K_finish(const float *x, struct qt_block_q6_K *y, const float scales[16],
		    float max_scale, float max_abs_scale, int8_t L[256]);
/* Q5_0/Q5_1: the 5th bits of the 32 quants q[] as the little-endian qh */
void qt_put_qh(uint8_t qh[4], const int q[32]);

#endif
