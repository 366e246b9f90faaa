/* dtype.c - the element type table; see dtype.h. */
#include "dtype.h"

#include <string.h>

/* Plain (non-block) dtypes with their safetensors names and bit widths, in the
 * reference library's order. */
static const struct {
	int dt;
	const char *st;
	unsigned bits;
} st_table[] = {
	{ QK_DT_BOOL, "BOOL", 8 },
	{ QK_DT_F4, "F4", 4 },
	{ QK_DT_F6_E2M3, "F6_E2M3", 6 },
	{ QK_DT_F6_E3M2, "F6_E3M2", 6 },
	{ QK_DT_U8, "U8", 8 },
	{ QK_DT_I8, "I8", 8 },
	{ QK_DT_F8_E5M2, "F8_E5M2", 8 },
	{ QK_DT_F8_E4M3, "F8_E4M3", 8 },
	{ QK_DT_F8_E8M0, "F8_E8M0", 8 },
	{ QK_DT_F8_E4M3FNUZ, "F8_E4M3FNUZ", 8 },
	{ QK_DT_F8_E5M2FNUZ, "F8_E5M2FNUZ", 8 },
	{ QK_DT_I16, "I16", 16 },
	{ QK_DT_U16, "U16", 16 },
	{ QK_DT_F16, "F16", 16 },
	{ QK_DT_BF16, "BF16", 16 },
	{ QK_DT_I32, "I32", 32 },
	{ QK_DT_U32, "U32", 32 },
	{ QK_DT_F32, "F32", 32 },
	{ QK_DT_C64, "C64", 64 },
	{ QK_DT_F64, "F64", 64 },
	{ QK_DT_I64, "I64", 64 },
	{ QK_DT_U64, "U64", 64 },
};
#define ST_N (sizeof(st_table) / sizeof(st_table[0]))

static int st_row(int dt)
{
	for (unsigned i = 0; i < ST_N; i++)
		if (st_table[i].dt == dt)
			return (int)i;
	return -1;
}

bool qk_dtype_valid(int dt)
{
	return st_row(dt) >= 0 || qt_type_get(dt) != NULL;
}

const char *qk_dtype_name(int dt)
{
	int r = st_row(dt);
	const struct qt_type *t;

	if (r >= 0)
		return st_table[r].st;
	t = qt_type_get(dt);
	return t ? t->name : "?";
}

int qk_dtype_from_st(const char *s, uint32_t len)
{
	for (unsigned i = 0; i < ST_N; i++)
		if (strlen(st_table[i].st) == len && memcmp(st_table[i].st, s, len) == 0)
			return st_table[i].dt;
	return -1;
}

const char *qk_dtype_st_name(int dt)
{
	int r = st_row(dt);
	return r >= 0 ? st_table[r].st : NULL;
}

unsigned qk_dtype_bits(int dt)
{
	int r = st_row(dt);
	const struct qt_type *t;

	if (r >= 0)
		return st_table[r].bits;
	t = qt_type_get(dt);
	if (t && t->blck == 1)
		return t->bytes * 8;
	return 0;
}

bool qk_dtype_nbytes(int dt, uint64_t n, uint64_t *bytes)
{
	unsigned bits = qk_dtype_bits(dt);
	const struct qt_type *t;
	uint64_t b;

	if (bits) {
		if (n != 0 && bits > UINT64_MAX / n)
			return false;
		b = n * bits;
		if (b % 8 != 0)
			return false;
		*bytes = b / 8;
		return true;
	}
	t = qt_type_get(dt);
	if (!t)
		return false;
	return qt_row_bytes(t, n, bytes);
}

bool qk_dtype_is_float(int dt)
{
	return dt == QK_DT_F32 || dt == QK_DT_F16 || dt == QK_DT_BF16;
}
