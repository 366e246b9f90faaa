/* config_cases.c - corrupt config inputs; see corrupt.h. */
#include "corrupt.h"

static const struct cc_case cases[] = {
	{ 0 }
};

const struct cc_table cc_config_cases = { cases, 0 };
