/* index_cases.c - corrupt index inputs; see corrupt.h. */
#include "corrupt.h"

static const struct cc_case cases[] = {
	{ 0 }
};

const struct cc_table cc_index_cases = { cases, 0 };
