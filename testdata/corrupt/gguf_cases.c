/* gguf_cases.c - corrupt gguf inputs; see corrupt.h. */
#include "corrupt.h"

static const struct cc_case cases[] = {
	{ 0 }
};

const struct cc_table cc_gguf_cases = { cases, 0 };
