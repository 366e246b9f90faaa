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
 * rf_dot4 computes four dot products of one vector w with x0..x3 (the same
 * bits as four rf_dot calls); it lets a matrix row be loaded once for several
 * tokens. rf_dot4x4 computes the sixteen products of four rows w0..w3 with
 * four vectors x0..x3, out[4 r + k] = w_r . x_k (the same bits as sixteen
 * rf_dot calls). rf_dot4x4_avx512 holds the partial sums of two rows in the
 * two 256-bit halves of one 512-bit register (lane j of half h is s[j] of row
 * 2p + h), so every lane performs exactly the scalar operations; it may only
 * be called when rf_cpu_has_avx512() is true.
 */
#ifndef RF_DOT_H
#define RF_DOT_H

#include <stdbool.h>
#include <stddef.h>

typedef float (*rf_dot_fn)(const float *a, const float *b, size_t n);
typedef void (*rf_dot4_fn)(const float *w, const float *const x[4], size_t n, float out[4]);
typedef void (*rf_dot4x4_fn)(const float *const w[4], const float *const x[4], size_t n,
			     float out[16]);

float rf_dot_scalar(const float *a, const float *b, size_t n);
void rf_dot4_scalar(const float *w, const float *const x[4], size_t n, float out[4]);
void rf_dot4x4_scalar(const float *const w[4], const float *const x[4], size_t n,
		      float out[16]);

/* true when the CPU (and this build) can run the AVX2 path */
bool rf_cpu_has_avx2(void);
/* only when rf_cpu_has_avx2() */
float rf_dot_avx2(const float *a, const float *b, size_t n);
void rf_dot4_avx2(const float *w, const float *const x[4], size_t n, float out[4]);
void rf_dot4x4_avx2(const float *const w[4], const float *const x[4], size_t n,
		    float out[16]);
/* true when the CPU (and this build) can run the AVX-512 kernel */
bool rf_cpu_has_avx512(void);
/* only when rf_cpu_has_avx512() */
void rf_dot4x4_avx512(const float *const w[4], const float *const x[4], size_t n,
		      float out[16]);

/* The kernels a forward pass uses: the AVX2 path when simd is true and the
 * CPU has it (and rf_dot4x4_avx512 when it also has AVX-512), else the
 * scalar path. */
struct rf_dot_impl {
	rf_dot_fn dot;
	rf_dot4_fn dot4;
	rf_dot4x4_fn dot4x4;
	bool simd;  /* which one was picked */
};
void rf_dot_pick(struct rf_dot_impl *d, bool simd);

#endif
