/* q_simd.c - which SIMD level quant/ uses (qsimd.h): the CPU's best unless
 * QWENKIT_SIMD says otherwise, or a caller selects one. Off x86-64 (or
 * without GCC/Clang's target attributes) only the scalar level exists and
 * the AVX2 kernels are stubs that are never called. */
#include "qsimd.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_AVX2_BUILD 1
#else
#define HAVE_AVX2_BUILD 0
#endif

static atomic_int level = -1; /* -1: not chosen yet */

int qt_simd_best(void)
{
#if HAVE_AVX2_BUILD
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2"))
		return QT_SIMD_AVX2;
#endif
	return QT_SIMD_SCALAR;
}

static int from_env(void)
{
	const char *e = getenv("QWENKIT_SIMD");

	/* only "off"/"scalar" lowers the level; anything else keeps the best */
	if (e && (strcmp(e, "off") == 0 || strcmp(e, "scalar") == 0 || strcmp(e, "0") == 0))
		return QT_SIMD_SCALAR;
	return qt_simd_best();
}

int qt_simd_level(void)
{
	int l = atomic_load_explicit(&level, memory_order_relaxed);

	if (l < 0) {
		l = from_env();
		atomic_store_explicit(&level, l, memory_order_relaxed);
	}
	return l;
}

int qt_simd_select(int want)
{
	const int best = qt_simd_best();
	const int l = want < QT_SIMD_SCALAR ? QT_SIMD_SCALAR : want > best ? best : want;

	atomic_store_explicit(&level, l, memory_order_relaxed);
	return l;
}

const char *qt_simd_name(int l)
{
	return l >= QT_SIMD_AVX2 ? "avx2" : "scalar";
}

#if !HAVE_AVX2_BUILD
/* never called: qt_simd_level() is always QT_SIMD_SCALAR here */
#define STUB_Q(name) \
	void qt_avx2_##name(const float *x, void *y, int64_t n) { (void)x; (void)y; (void)n; }
#define STUB_D(name) \
	void qt_avx2_##name(const void *x, float *y, int64_t n) { (void)x; (void)y; (void)n; }
STUB_Q(quantize_q4_0) STUB_Q(quantize_q4_1) STUB_Q(quantize_q5_0) STUB_Q(quantize_q5_1)
STUB_Q(quantize_q8_0) STUB_Q(quantize_q2_K) STUB_Q(quantize_q3_K) STUB_Q(quantize_q4_K)
STUB_Q(quantize_q5_K) STUB_Q(quantize_q6_K) STUB_Q(fp32_to_fp16) STUB_Q(fp32_to_bf16)
STUB_D(fp16_to_fp32) STUB_D(bf16_to_fp32)
void qt_avx2_pack_2bit(uint8_t qs[64], const uint8_t *L) { (void)qs; (void)L; }
void qt_avx2_q3_K_bits(const int8_t L[256], uint8_t hmask[32], uint8_t qs[64])
{
	(void)L; (void)hmask; (void)qs;
}
void qt_avx2_requant_sym(const float *x, int n, float d, int lo, int hi, int off, uint8_t *L)
{
	(void)x; (void)n; (void)d; (void)lo; (void)hi; (void)off; (void)L;
}
void qt_avx2_requant_asym(const float *x, int n, float dm, float d, int nmax, uint8_t *L)
{
	(void)x; (void)n; (void)dm; (void)d; (void)nmax; (void)L;
}
#endif
