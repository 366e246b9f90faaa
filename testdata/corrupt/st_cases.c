/* st_cases.c - corrupt st inputs; see corrupt.h. */
#include "corrupt.h"

static const struct cc_case cases[] = {
	{ 0 }
};

const struct cc_table cc_st_cases = { cases, 0 };
