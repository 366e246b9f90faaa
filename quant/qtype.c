/* qtype.c - the ggml type table; sizes from ggml's GGML_QUANT_SIZES,
 * checked against libggml's own ggml_blck_size/ggml_type_size by
 * tests/unit/test_quant_golden.c (testdata/quant/ggml_types.txt). */
#include "qtype.h"

#include <strings.h>

#include "iquants.h"
#include "quants.h"

#define ROW(n, b, by, q) [QT_##n] = { #n, QT_##n, (b), (by), (q), NULL, NULL, NULL }
/* a row whose data quant/ can convert both ways (kernels in quants.h) */
#define KROW(n, fn, b, by, q) \
	[QT_##n] = { #n, QT_##n, (b), (by), (q), qt_quantize_##fn, qt_dequantize_##fn, NULL }
/* ... and that also takes importance weights (qt_quantize_w_<fn>) */
#define WROW(n, fn, b, by, q)                                                         \
	[QT_##n] = { #n, QT_##n, (b), (by), (q), qt_quantize_##fn, qt_dequantize_##fn, \
		     qt_quantize_w_##fn }
/* the i-quant family (kernels in iquants.h): IROW ignores weights as ggml
 * does (MXFP4, TQ*), IWROW also takes them */
#define IROW(n, fn, b, by) \
	[QT_##n] = { #n, QT_##n, (b), (by), true, qi_quantize_##fn, qi_dequantize_##fn, NULL }
#define IWROW(n, fn, b, by)                                                    \
	[QT_##n] = { #n, QT_##n, (b), (by), true, qi_quantize_##fn, qi_dequantize_##fn, \
		     qi_quantize_##fn##_w }

/* an i-quant that ggml makes only with importance weights: no quantize */
#define INROW(n, fn, b, by) \
	[QT_##n] = { #n, QT_##n, (b), (by), true, NULL, qi_dequantize_##fn, qi_quantize_##fn##_w }

static const struct qt_type table[QT_COUNT] = {
	KROW(F32, f32, 1, 4, false),
	KROW(F16, f16, 1, 2, false),
	WROW(Q4_0, q4_0, 32, 18, true),
	WROW(Q4_1, q4_1, 32, 20, true),
	WROW(Q5_0, q5_0, 32, 22, true),
	WROW(Q5_1, q5_1, 32, 24, true),
	KROW(Q8_0, q8_0, 32, 34, true),
	ROW(Q8_1, 32, 36, true),
	WROW(Q2_K, q2_K, 256, 84, true),
	WROW(Q3_K, q3_K, 256, 110, true),
	WROW(Q4_K, q4_K, 256, 144, true),
	WROW(Q5_K, q5_K, 256, 176, true),
	WROW(Q6_K, q6_K, 256, 210, true),
	/* Q8_K is only ggml's dot-product intermediate, never a file type: the
	 * table reads it but offers no quantizer (qt_quantize_q8_K exists) */
	[QT_Q8_K] = { "Q8_K", QT_Q8_K, 256, 292, true, NULL, qt_dequantize_q8_K, NULL },
	INROW(IQ2_XXS, iq2_xxs, 256, 66),
	INROW(IQ2_XS, iq2_xs, 256, 74),
	IWROW(IQ3_XXS, iq3_xxs, 256, 98),
	INROW(IQ1_S, iq1_s, 256, 50),
	IWROW(IQ4_NL, iq4_nl, 32, 18),
	IWROW(IQ3_S, iq3_s, 256, 110),
	IWROW(IQ2_S, iq2_s, 256, 82),
	IWROW(IQ4_XS, iq4_xs, 256, 136),
	ROW(I8, 1, 1, false),
	ROW(I16, 1, 2, false),
	ROW(I32, 1, 4, false),
	ROW(I64, 1, 8, false),
	ROW(F64, 1, 8, false),
	IWROW(IQ1_M, iq1_m, 256, 56),
	KROW(BF16, bf16, 1, 2, false),
	IROW(TQ1_0, tq1_0, 256, 54),
	IROW(TQ2_0, tq2_0, 256, 66),
	IROW(MXFP4, mxfp4, 32, 17),
	ROW(NVFP4, 64, 36, true),
	ROW(Q1_0, 128, 18, true),
	ROW(Q2_0, 64, 18, true),
};

const struct qt_type *qt_type_get(int id)
{
	if (id < 0 || id >= QT_COUNT || table[id].name == NULL)
		return NULL;
	return &table[id];
}

const struct qt_type *qt_type_by_name(const char *name)
{
	for (int i = 0; i < QT_COUNT; i++)
		if (table[i].name && strcasecmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}

bool qt_has_quantizer(const struct qt_type *t)
{
	return t && (t->quantize || t->quantize_w);
}

void qt_quantize_row(const struct qt_type *t, const float *x, void *y, int64_t n,
		     const float *qw)
{
	if (t->quantize_w && (qw || !t->quantize))
		t->quantize_w(x, y, n, qw);
	else
		t->quantize(x, y, n);
}

bool qt_row_bytes(const struct qt_type *t, uint64_t n, uint64_t *bytes)
{
	uint64_t blocks = n / t->blck;

	if (n % t->blck != 0)
		return false;
	if (blocks != 0 && t->bytes > UINT64_MAX / blocks)
		return false;
	*bytes = blocks * t->bytes;
	return true;
}
