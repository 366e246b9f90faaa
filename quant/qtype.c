/* qtype.c - the ggml type table; sizes from ggml's GGML_QUANT_SIZES. */
#include "qtype.h"

#include <strings.h>

#define ROW(n, b, by, q) [QT_##n] = { #n, QT_##n, (b), (by), (q), NULL, NULL }

/* Quantize/dequantize pointers are attached in quant/ kernels by
 * qt_type_get()'s table below once implemented. */
static const struct qt_type table[QT_COUNT] = {
	ROW(F32, 1, 4, false),
	ROW(F16, 1, 2, false),
	ROW(Q4_0, 32, 18, true),
	ROW(Q4_1, 32, 20, true),
	ROW(Q5_0, 32, 22, true),
	ROW(Q5_1, 32, 24, true),
	ROW(Q8_0, 32, 34, true),
	ROW(Q8_1, 32, 40, true),
	ROW(Q2_K, 256, 84, true),
	ROW(Q3_K, 256, 110, true),
	ROW(Q4_K, 256, 144, true),
	ROW(Q5_K, 256, 176, true),
	ROW(Q6_K, 256, 210, true),
	ROW(Q8_K, 256, 292, true),
	ROW(IQ2_XXS, 256, 66, true),
	ROW(IQ2_XS, 256, 74, true),
	ROW(IQ3_XXS, 256, 98, true),
	ROW(IQ1_S, 256, 50, true),
	ROW(IQ4_NL, 32, 18, true),
	ROW(IQ3_S, 256, 110, true),
	ROW(IQ2_S, 256, 82, true),
	ROW(IQ4_XS, 256, 136, true),
	ROW(I8, 1, 1, false),
	ROW(I16, 1, 2, false),
	ROW(I32, 1, 4, false),
	ROW(I64, 1, 8, false),
	ROW(F64, 1, 8, false),
	ROW(IQ1_M, 256, 56, true),
	ROW(BF16, 1, 2, false),
	ROW(TQ1_0, 256, 54, true),
	ROW(TQ2_0, 256, 66, true),
	ROW(MXFP4, 32, 17, true),
	ROW(NVFP4, 64, 36, true),
	ROW(Q1_0, 128, 18, true),
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
