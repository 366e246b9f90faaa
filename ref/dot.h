/* dot.h - the canonical fp32 dot product of the reference forward pass.
 *
 * ref/README.md, "Numerics contract", rule 3. For vectors a, b of n floats:
 *   s[0..7] = +0
 *   for i = 0 .. n-1:  s[i mod 8] = s[i mod 8] + (a[i] * b[i])
 *                      (one rounded multiply, then one rounded add; no FMA)
 *   result = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
 * Every implementation here returns exactly these bits for every input,
 * infinities and signed zeros included: each path performs the same IEEE
 * operations on the same operands in the same order. A NaN result is a NaN on
 * every path; when NaNs with different payloads meet, which payload survives
 * is not specified (C lets a compiler commute the operands of +).
 *
 * rf_dot_scalar is the specification. rf_dot_avx2 holds the 8 partial sums in
 * the 8 lanes of one AVX register (separate mul and add instructions) and
 * finishes the tail in the same lanes; it may only be called when
 * rf_cpu_has_avx2() is true. The AVX2 code is compiled with a function
 * target attribute, so the rest of the build needs no -mavx2.
 *
 * Blocked form (the matmul, fwd_mm.c): rf_acc4x4 carries the eight partial
 * sums of sixteen dot products across calls, so that a long product can be
 * computed a chunk of columns at a time with the same bits. acc holds
 * acc[(4 r + k) * 8 + j] = s[j] of w_r . x_k (rows w0..w3, vectors x0..x3);
 * one call adds elements [0, n) of the pointers given (already advanced to
 * the chunk), element i into s[i mod 8], and every call but the last of a
 * product must have n % 8 == 0, so that element i of the chunk is element
 * i mod 8 of the whole. rf_dot_fold combines the eight sums of one product in
 * the canonical order. Starting from acc = +0 and folding after the last
 * chunk gives exactly rf_dot_scalar's bits, whatever the chunking.
 * rf_acc4x4_avx2 keeps the sums of two rows in eight 256-bit registers;
 * rf_acc4x4_avx512 keeps those of one row and two vectors in each 512-bit
 * register (lane j of half h is s[j] of x_{2p+h}), so every lane performs
 * exactly the scalar operations; it may only be called when
 * rf_cpu_has_avx512() is true.
 */
#ifndef RF_DOT_H
#define RF_DOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef float (*rf_dot_fn)(const float *a, const float *b, size_t n);
typedef void (*rf_acc4x4_fn)(const float *const w[4], const float *const x[4], size_t n,
			     float acc[128]);
/* n bf16 values (little-endian, any alignment) to fp32: exact, every path
 * the same bits (the bf16 bits shifted into the high half) */
typedef void (*rf_widen_fn)(const uint8_t *src, float *dst, size_t n);
void rf_widen_bf16_scalar(const uint8_t *src, float *dst, size_t n);
void rf_widen_bf16_avx2(const uint8_t *src, float *dst, size_t n);

float rf_dot_scalar(const float *a, const float *b, size_t n);
void rf_acc4x4_scalar(const float *const w[4], const float *const x[4], size_t n,
		      float acc[128]);
/* ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)) */
static inline float rf_dot_fold(const float s[8])
{
	return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/* true when the CPU (and this build) can run the AVX2 path */
bool rf_cpu_has_avx2(void);
/* only when rf_cpu_has_avx2() */
float rf_dot_avx2(const float *a, const float *b, size_t n);
void rf_acc4x4_avx2(const float *const w[4], const float *const x[4], size_t n,
		    float acc[128]);
/* true when the CPU (and this build) can run the AVX-512 kernel */
bool rf_cpu_has_avx512(void);
/* only when rf_cpu_has_avx512() */
void rf_acc4x4_avx512(const float *const w[4], const float *const x[4], size_t n,
		      float acc[128]);

/* The kernels a forward pass uses: the AVX2 path when simd is true and the
 * CPU has it (and rf_acc4x4_avx512 when avx512 is also true and the CPU has
 * AVX-512), else the scalar path. */
struct rf_dot_impl {
	rf_dot_fn dot;
	rf_acc4x4_fn acc4x4;
	rf_widen_fn widen_bf16;
	bool simd;    /* which one was picked */
	bool avx512;
};
void rf_dot_pick(struct rf_dot_impl *d, bool simd, bool avx512);

#endif
