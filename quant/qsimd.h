/* qsimd.h - the SIMD paths of quant/ and how one is chosen.
 *
 * Every quantizer and fp16/bf16 row conversion of quants.h has a scalar
 * path (the specification, always compiled) and, on x86-64, an AVX2 path
 * that writes the same bytes: each vector lane does the scalar arithmetic
 * of one independent group (a sub-block's scale search, a legacy block, an
 * element), in the scalar order, with the same float/int conversions and
 * the same tie-breaking (quant/README.md, "SIMD paths"). The AVX2 functions
 * are compiled for AVX2 with target attributes only, so the library still
 * runs on any x86-64; they are used only when the CPU has AVX2.
 *
 * The level is chosen once, on first use: the best the CPU has, unless the
 * environment variable QWENKIT_SIMD says "off" (scalar everywhere) or
 * "avx2" (the same as the default where AVX2 exists). qt_simd_select()
 * overrides it (tests run both paths this way). Thread-safe: the level is
 * an atomic int; switching while other threads quantize gives each call
 * one path or the other, never a mix within a call.
 */
#ifndef QT_QSIMD_H
#define QT_QSIMD_H

#include <stdbool.h>
#include <stdint.h>

enum qt_simd_level {
	QT_SIMD_SCALAR = 0, /* the portable C of q_legacy.c, q_kquants_*.c, fp16.c */
	QT_SIMD_AVX2 = 1,   /* q_simd_*.c */
};

/* The level quantizers use now (reads QWENKIT_SIMD on first call). */
int qt_simd_level(void);
/* The best level this CPU supports (QT_SIMD_SCALAR off x86-64). */
int qt_simd_best(void);
/* Use `level`, clamped to qt_simd_best(); returns the level now in use. */
int qt_simd_select(int level);
/* "scalar" or "avx2" */
const char *qt_simd_name(int level);

/* ---- internal to quant/: the AVX2 kernels (q_simd_*.c), each with the
 * qt_quantize_fn / row shape of its scalar twin; call only when
 * qt_simd_level() >= QT_SIMD_AVX2. ---- */
void qt_avx2_quantize_q4_0(const float *x, void *y, int64_t n);
void qt_avx2_quantize_q4_1(const float *x, void *y, int64_t n);
void qt_avx2_quantize_q5_0(const float *x, void *y, int64_t n);
void qt_avx2_quantize_q5_1(const float *x, void *y, int64_t n);
void qt_avx2_quantize_q8_0(const float *x, void *y, int64_t n);
void qt_avx2_quantize_q2_K(const float *x, void *y, int64_t n);
void qt_avx2_quantize_q3_K(const float *x, void *y, int64_t n);
void qt_avx2_quantize_q4_K(const float *x, void *y, int64_t n);
void qt_avx2_quantize_q5_K(const float *x, void *y, int64_t n);
void qt_avx2_quantize_q6_K(const float *x, void *y, int64_t n);
/* qkern.h's qt_requant_sym / qt_requant_asym (n a multiple of 8) */
void qt_avx2_requant_sym(const float *x, int n, float d, int lo, int hi, int off, uint8_t *L);
void qt_avx2_requant_asym(const float *x, int n, float dm, float d, int nmax, uint8_t *L);
/* q_kquants_low.c's pack_2bit, and Q3_K's hmask and 2-bit packing of
 * the levels L[256] (bit recipes in blocks.h) */
void qt_avx2_pack_2bit(uint8_t qs[64], const uint8_t *L);
void qt_avx2_q3_K_bits(const int8_t L[256], uint8_t hmask[32], uint8_t qs[64]);
/* q_weighted.c's searches over 256 values x[256] with their importance
 * weights qw[256], in 256 / gs groups of gs (16 or 32) values: sw[g] the
 * sum of group g's weights (qw * sqrt(sigma2 + x^2), or qw when !imp),
 * scales[g] (and mins[g], make_qkx2_quants' the_min) its search result,
 * L[256] the levels (affine: 0..nmax; sym: make_qx_quants' l + nmax). */
void qt_avx2_wsearch_affine(const float *x, const float *qw, float sigma2, int gs, int nmax,
			    float *sw, float *scales, float *mins, uint8_t *L);
void qt_avx2_wsearch_sym(const float *x, const float *qw, float sigma2, bool imp, int gs,
			 int nmax, float *sw, float *scales, int8_t *L);
/* qi_nonlin.c's search on 8 blocks of 32 values x[256] with weights
 * w[256]: scale[b] is nl_block_scale of block b over the 16 ascending
 * levels (ntry trial scales each side); and its level indices lv[32] of
 * one block xb[32] at inverse scale inv */
void qt_avx2_nl_scales(const int8_t levels[16], int ntry, const float *x, const float *w,
		       float scale[8]);
void qt_avx2_nl_levels(const int8_t levels[16], const float *xb, float inv, uint8_t lv[32]);
/* qi_gridq.c's nearest grid point: of the n candidate grid points cand[]
 * (coordinates coord[g * width ..], width 4 or 8), the position in cand of
 * the first with the smallest sum over i of (w[i] * diff) * diff, diff =
 * scale * q - xv[i], q the coordinate, or xx[coordinate / 2] when xx is
 * given (IQ1_S/IQ1_M, width 8 only); -1 when no distance is below FLT_MAX */
int qt_avx2_grid_nearest(const uint8_t *coord, int width, const uint16_t *cand, int n,
			 const float *xv, const float *w, float scale, const float *xx);
/* qi_iq1.c's split searches: the best (scale, best, i1, i2, kind) over
 * every split i1 <= i2 <= blk of the sorted sub-block and every sign
 * choice (kind: IQ1_S 0 = x_p, 1 = x_m; IQ1_M the 4 combinations), from
 * the prefix sums (read up to index blk + 7: pad them with 7 zeros);
 * b comes in with the scalar loop's starting values */
struct qt_iq1_best {
	float scale, best;
	int i1, i2, kind;
};
void qt_avx2_iq1s_search(const float *sumx, const float *sumw, int blk, const float x_p[3],
			 const float x_m[3], struct qt_iq1_best *b);
/* IQ1_M: px[h], pw[h] the prefix sums of half h; c: p2, m2, cp1, cp2, cm1,
 * cm2 as qi_iq1.c computes them */
void qt_avx2_iq1m_search(const float *const px[2], const float *const pw[2], int blk,
			 const float c[6], struct qt_iq1_best *b);
/* x: n floats, y: n 16-bit patterns (any alignment), and back */
void qt_avx2_fp32_to_fp16(const float *x, void *y, int64_t n);
void qt_avx2_fp32_to_bf16(const float *x, void *y, int64_t n);
void qt_avx2_fp16_to_fp32(const void *x, float *y, int64_t n);
void qt_avx2_bf16_to_fp32(const void *x, float *y, int64_t n);

/* true when the AVX2 path is in use: each scalar entry point starts with
 *   if (qt_simd_avx2()) { qt_avx2_<same name>(x, y, n); return; } */
static inline int qt_simd_avx2(void)
{
	return qt_simd_level() >= QT_SIMD_AVX2;
}

#endif
